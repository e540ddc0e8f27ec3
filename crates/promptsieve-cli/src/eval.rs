//! `promptsieve eval`: recall and false-positive rate on a labelled corpus.
//!
//! Input is JSON lines with `text`, `label` (`injection` or `benign`) and
//! optional `source` and `category`. A row is predicted "injection" when its
//! report is flagged at the scanner's threshold.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use std::io::Write;

use clap::Args;

use crate::out;
use serde_json::{Value, json};

use crate::RuleArgs;

#[derive(Args)]
pub(crate) struct EvalArgs {
    /// The labelled JSONL corpus.
    file: PathBuf,
    #[command(flatten)]
    rules: RuleArgs,
    /// Print up to this many missed injection rows per category.
    #[arg(long, default_value_t = 0)]
    misses: usize,
    /// Print every false positive with the rules that fired.
    #[arg(long)]
    false_positives: bool,
    /// Print the results as one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    injection: usize,
    detected: usize,
    benign: usize,
    false_pos: usize,
}

impl Tally {
    fn add(&mut self, injection: bool, flagged: bool) {
        if injection {
            self.injection += 1;
            self.detected += usize::from(flagged);
        } else {
            self.benign += 1;
            self.false_pos += usize::from(flagged);
        }
    }

    fn recall(&self) -> Option<f64> {
        (self.injection > 0).then(|| self.detected as f64 / self.injection as f64)
    }

    fn fpr(&self) -> Option<f64> {
        (self.benign > 0).then(|| self.false_pos as f64 / self.benign as f64)
    }

    fn json(&self) -> Value {
        json!({
            "injection": self.injection, "detected": self.detected, "recall": self.recall(),
            "benign": self.benign, "false_positives": self.false_pos, "fpr": self.fpr(),
        })
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("    -".into(), |v| format!("{:5.1}%", v * 100.0))
}

pub(crate) fn run(a: EvalArgs) -> Result<u8, String> {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let scanner = a.rules.scanner().map_err(|e| e.to_string())?;
    let data = std::fs::read_to_string(&a.file).map_err(|e| format!("{}: {e}", a.file.display()))?;
    let parsed = json_rows(&a.file, &data)?;
    if parsed.first().is_some_and(|(_, v)| v.get("spans").is_some()) {
        return run_spans(&a, &scanner, &parsed, &mut w);
    }
    let mut rows = Vec::new();
    for (n, v) in &parsed {
        let n = *n;
        let text = v["text"].as_str().unwrap_or_default();
        let injection = match v["label"].as_str() {
            Some("injection") => true,
            Some("benign") => false,
            other => {
                return Err(format!(
                    "{}:{}: label must be injection or benign, not {other:?}",
                    a.file.display(),
                    n + 1
                ));
            }
        };
        let source = v["source"].as_str().unwrap_or("-").to_string();
        let category = v["category"].as_str().unwrap_or("-").to_string();
        rows.push((text.to_string(), injection, source, category));
    }

    let mut total = Tally::default();
    let mut by_source: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut rule_hits: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut missed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut fps = Vec::new();
    let bytes: usize = rows.iter().map(|r| r.0.len()).sum();
    let started = Instant::now();
    let as_source = a.rules.source();
    let reports: Vec<_> = rows.iter().map(|r| scanner.scan_as(&r.0, as_source)).collect();
    let secs = started.elapsed().as_secs_f64();

    for ((text, injection, source, category), report) in rows.iter().zip(&reports) {
        total.add(*injection, report.flagged);
        by_source.entry(source.clone()).or_default().add(*injection, report.flagged);
        by_category.entry(category.clone()).or_default().add(*injection, report.flagged);
        let mut seen: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        for r in seen {
            let e = rule_hits.entry(r.to_string()).or_default();
            if *injection { e.0 += 1 } else { e.1 += 1 }
        }
        if *injection && !report.flagged {
            let m = missed.entry(category.clone()).or_default();
            if m.len() < a.misses {
                m.push(text.chars().take(160).collect::<String>().replace('\n', " "));
            }
        }
        if !*injection && report.flagged {
            let rules: Vec<String> =
                report.findings.iter().map(|f| format!("{}:{}", f.rule, &text[f.span.range()])).collect();
            fps.push((
                category.clone(),
                rules,
                text.chars().take(160).collect::<String>().replace('\n', " "),
            ));
        }
    }

    if a.json {
        let v = json!({
            "threshold": scanner.threshold(),
            "rows": rows.len(),
            "overall": total.json(),
            "by_source": by_source.iter().map(|(k, t)| (k.clone(), t.json())).collect::<BTreeMap<_, _>>(),
            "by_category": by_category.iter().map(|(k, t)| (k.clone(), t.json())).collect::<BTreeMap<_, _>>(),
            "rules": rule_hits.iter().map(|(k, (i, b))| (k.clone(), json!({"injection": i, "benign": b}))).collect::<BTreeMap<_, _>>(),
            "mb_per_s": bytes as f64 / secs / 1e6,
        });
        out!(w, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }

    out!(w, "corpus {} — {} rows, threshold {:.2}", a.file.display(), rows.len(), scanner.threshold());
    out!(
        w,
        "overall: recall {} ({}/{})   false-positive rate {} ({}/{})",
        pct(total.recall()),
        total.detected,
        total.injection,
        pct(total.fpr()),
        total.false_pos,
        total.benign
    );
    out!(
        w,
        "speed: {:.1} MB in {:.3} s = {:.1} MB/s (one thread, including report building)",
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / secs / 1e6
    );
    for (title, map) in [("source", &by_source), ("category", &by_category)] {
        out!(w, "\nby {title}:");
        out!(w, "  {:<44} {:>6} {:>8} {:>6} {:>8}", title, "inj", "recall", "benign", "FPR");
        for (k, t) in map {
            out!(
                w,
                "  {:<44} {:>6} {:>8} {:>6} {:>8}",
                k,
                t.injection,
                pct(t.recall()),
                t.benign,
                pct(t.fpr())
            );
        }
    }
    out!(w, "\nrules (rows with a finding of the rule: injection / benign):");
    let mut rh: Vec<_> = rule_hits.iter().collect();
    rh.sort_by_key(|r| std::cmp::Reverse(r.1.0 + r.1.1));
    for (r, (i, b)) in rh {
        out!(w, "  {r:<44} {i:>6} {b:>6}");
    }
    if a.misses > 0 {
        out!(w, "\nmissed injection rows:");
        for (c, texts) in &missed {
            for t in texts {
                out!(w, "  [{c}] {t}");
            }
        }
    }
    if a.false_positives {
        out!(w, "\nfalse positives:");
        for (c, rules, t) in &fps {
            out!(w, "  [{c}] {} :: {t}", rules.join(", "));
        }
    }
    Ok(0)
}

/// The non-empty lines of a JSONL corpus, parsed, with their 0-based line
/// numbers; every row must carry a string `text`.
fn json_rows(path: &std::path::Path, data: &str) -> Result<Vec<(usize, Value)>, String> {
    let mut rows = Vec::new();
    for (n, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        if !v["text"].is_string() {
            return Err(format!("{}:{}: no string \"text\"", path.display(), n + 1));
        }
        rows.push((n, v));
    }
    Ok(rows)
}

/// The entities the scanner reports, and the corpus labels that mean them.
const ENTITIES: &[(&str, &[&str])] = &[
    ("EMAIL", &["EMAIL", "EMAIL_ADDRESS"]),
    ("PHONE", &["PHONE", "PHONE_NUMBER"]),
    ("PERSON", &["PERSON"]),
    ("CREDIT_CARD", &["CREDIT_CARD"]),
    ("IBAN", &["IBAN", "IBAN_CODE"]),
    ("US_SSN", &["US_SSN"]),
    ("IP_ADDRESS", &["IP_ADDRESS"]),
    ("URL_CREDENTIALS", &["URL_CREDENTIALS"]),
    ("SECRET", &["SECRET", "API_KEY"]),
];

#[derive(Default)]
struct SpanTally {
    gold: usize,
    pred: usize,
    exact_gold: usize,
    exact_pred: usize,
    overlap_gold: usize,
    overlap_pred: usize,
}

fn prf(tp_pred: usize, pred: usize, tp_gold: usize, gold: usize) -> (f64, f64, f64) {
    let p = if pred == 0 { 1.0 } else { tp_pred as f64 / pred as f64 };
    let r = if gold == 0 { 1.0 } else { tp_gold as f64 / gold as f64 };
    let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
    (p, r, f)
}

/// Span-labelled corpora (`{"text", "spans": [{"start","end","label"}]}`,
/// offsets in Unicode code points): precision, recall and F1 per entity,
/// under exact span match and under overlap >= 50 % of the gold span.
fn run_spans(
    a: &EvalArgs,
    scanner: &promptsieve::Scanner,
    data: &[(usize, Value)],
    w: &mut impl Write,
) -> Result<u8, String> {
    let mut tallies: BTreeMap<&str, SpanTally> = BTreeMap::new();
    let mut misses: Vec<String> = Vec::new();
    let mut fps: Vec<String> = Vec::new();
    let (mut rows, mut bytes) = (0usize, 0usize);
    let mut secs = 0.0;
    for (_, v) in data {
        let text = v["text"].as_str().unwrap_or_default();
        rows += 1;
        bytes += text.len();
        // Byte offset of every code point, to convert our byte spans.
        let mut cp_of_byte = vec![0usize; text.len() + 1];
        for (cp, (b, ch)) in text.char_indices().enumerate() {
            for k in 0..ch.len_utf8() {
                cp_of_byte[b + k] = cp;
            }
        }
        cp_of_byte[text.len()] = text.chars().count();
        let started = Instant::now();
        let report = scanner.scan(text);
        secs += started.elapsed().as_secs_f64();
        let pred: Vec<(&str, usize, usize)> = report
            .findings
            .iter()
            .filter_map(|f| {
                let e = f.entity.as_deref()?;
                let ent = ENTITIES.iter().find(|(n, _)| *n == e)?.0;
                Some((ent, cp_of_byte[f.span.start], cp_of_byte[f.span.end]))
            })
            .collect();
        let gold: Vec<(&str, usize, usize)> = v["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let label = s["label"].as_str()?;
                let ent = ENTITIES.iter().find(|(_, labels)| labels.contains(&label))?.0;
                Some((ent, s["start"].as_u64()? as usize, s["end"].as_u64()? as usize))
            })
            .collect();
        let overlap = |g: &(&str, usize, usize), p: &(&str, usize, usize)| {
            g.0 == p.0 && {
                let o = g.2.min(p.2).saturating_sub(g.1.max(p.1));
                o * 2 >= g.2 - g.1 && o > 0
            }
        };
        for g in &gold {
            let t = tallies.entry(g.0).or_default();
            t.gold += 1;
            t.exact_gold += usize::from(pred.iter().any(|p| p == g));
            let hit = pred.iter().any(|p| overlap(g, p));
            t.overlap_gold += usize::from(hit);
            if !hit && misses.len() < a.misses * 9 {
                let chars: Vec<char> = text.chars().collect();
                misses.push(format!(
                    "{} {:?} in {:?}",
                    g.0,
                    chars[g.1..g.2].iter().collect::<String>(),
                    text
                ));
            }
        }
        for p in &pred {
            let t = tallies.entry(p.0).or_default();
            t.pred += 1;
            t.exact_pred += usize::from(gold.iter().any(|g| g == p));
            let hit = gold.iter().any(|g| overlap(g, p));
            t.overlap_pred += usize::from(hit);
            if !hit && a.false_positives {
                let chars: Vec<char> = text.chars().collect();
                fps.push(format!("{} {:?} in {:?}", p.0, chars[p.1..p.2].iter().collect::<String>(), text));
            }
        }
    }
    if a.json {
        let mut m = serde_json::Map::new();
        for (e, t) in &tallies {
            let (ep, er, ef) = prf(t.exact_pred, t.pred, t.exact_gold, t.gold);
            let (op, or, of) = prf(t.overlap_pred, t.pred, t.overlap_gold, t.gold);
            m.insert(
                e.to_string(),
                json!({"gold": t.gold, "predicted": t.pred,
                "exact": {"precision": ep, "recall": er, "f1": ef},
                "overlap50": {"precision": op, "recall": or, "f1": of}}),
            );
        }
        out!(
            w,
            "{}",
            serde_json::to_string_pretty(
                &json!({"rows": rows, "entities": m, "mb_per_s": bytes as f64 / secs / 1e6})
            )
            .unwrap_or_default()
        );
        return Ok(0);
    }
    out!(w, "corpus {} — {} rows (span-labelled; offsets in code points)", a.file.display(), rows);
    out!(
        w,
        "matching: exact = same entity and span; overlap = same entity and >= 50% of the gold span covered"
    );
    out!(
        w,
        "speed: {:.2} MB in {:.3} s = {:.1} MB/s, {:.1} µs per row (scan only)",
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / secs / 1e6,
        secs * 1e6 / rows.max(1) as f64
    );
    out!(
        w,
        "\n  {:<16} {:>6} {:>6}   {:>7} {:>7} {:>7}   {:>7} {:>7} {:>7}",
        "entity",
        "gold",
        "pred",
        "P exact",
        "R exact",
        "F1 exact",
        "P ovl",
        "R ovl",
        "F1 ovl"
    );
    for (e, t) in &tallies {
        let (ep, er, ef) = prf(t.exact_pred, t.pred, t.exact_gold, t.gold);
        let (op, or, of) = prf(t.overlap_pred, t.pred, t.overlap_gold, t.gold);
        out!(
            w,
            "  {:<16} {:>6} {:>6}   {:>7.3} {:>7.3} {:>8.3}   {:>7.3} {:>7.3} {:>7.3}",
            e,
            t.gold,
            t.pred,
            ep,
            er,
            ef,
            op,
            or,
            of
        );
    }
    if !misses.is_empty() {
        out!(w, "\nmissed (first {}):", misses.len());
        for m in &misses {
            out!(w, "  {m}");
        }
    }
    if !fps.is_empty() {
        out!(w, "\nfalse positives:");
        for f in &fps {
            out!(w, "  {f}");
        }
    }
    Ok(0)
}
