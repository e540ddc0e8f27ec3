//! `promptsieve eval`: recall and false-positive rate on a labelled corpus.
//!
//! Input is JSON lines with `text`, `label` (`injection` or `benign`) and
//! optional `source` and `category`. A row is predicted "injection" when its
//! report is flagged at the scanner's threshold. Injection rows are also
//! counted per attack family (`eval/families.toml`, which maps categories
//! and sources to families). Several files give one compact summary: per
//! file, per family, per source, and per category of the benign-only files.

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
    /// The labelled JSONL corpora; several give a compact summary.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Attack families (TOML); default `eval/families.toml` when present.
    #[arg(long)]
    families: Option<PathBuf>,
    /// Sources and whether they may train (TOML), to mark evaluation-only
    /// sources; default `eval/sources.toml` when present.
    #[arg(long)]
    sources: Option<PathBuf>,
    /// Print the compact summary even for one file.
    #[arg(long)]
    summary: bool,
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

    fn merge(&mut self, o: &Tally) {
        self.injection += o.injection;
        self.detected += o.detected;
        self.benign += o.benign;
        self.false_pos += o.false_pos;
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

#[derive(serde::Deserialize)]
struct FamilyFile {
    family: Vec<Family>,
}

/// An attack family: the injection rows whose category matches one of
/// `categories` (globs, `*` = any run) or whose source is in `sources`.
#[derive(serde::Deserialize)]
struct Family {
    name: String,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
}

impl Family {
    fn matches(&self, source: &str, category: &str) -> bool {
        self.sources.iter().any(|s| s == source) || self.categories.iter().any(|g| glob(g, category))
    }
}

/// `*`-only glob match (greedy with one backtrack point: linear in
/// practice, quadratic at worst on these short names).
fn glob(pat: &str, s: &str) -> bool {
    let (p, s) = (pat.as_bytes(), s.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == s[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

/// An optional TOML file: the given path, else `default` when it exists.
fn optional(given: &Option<PathBuf>, default: &str) -> Option<PathBuf> {
    given.clone().or_else(|| {
        let p = PathBuf::from(default);
        p.exists().then_some(p)
    })
}

fn load_families(path: &std::path::Path) -> Result<Vec<Family>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let f: FamilyFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(f.family)
}

/// Where a path's name says it comes from, for the per-file table.
fn short(p: &std::path::Path) -> String {
    let parent = p.parent().and_then(|d| d.file_name()).map(|d| d.to_string_lossy().into_owned());
    let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
    match parent {
        Some(d) if d == "benign" => format!("{d}/{name}"),
        _ => name,
    }
}

pub(crate) fn run(a: EvalArgs) -> Result<u8, String> {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let scanner = a.rules.scanner().map_err(|e| e.to_string())?;
    let families = match optional(&a.families, "eval/families.toml") {
        Some(p) => load_families(&p)?,
        None => Vec::new(),
    };
    let trainable = match optional(&a.sources, "eval/sources.toml") {
        Some(p) => crate::train::load_sources(&p)?,
        None => BTreeMap::new(),
    };
    let mut rows = Vec::new();
    for (f, path) in a.files.iter().enumerate() {
        let data = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let parsed = json_rows(path, &data)?;
        if parsed.first().is_some_and(|(_, v)| v.get("spans").is_some()) {
            if a.files.len() > 1 {
                return Err(format!("{}: span-labelled corpora are evaluated one at a time", path.display()));
            }
            return run_spans(&a, path, &scanner, &parsed, &mut w);
        }
        // Benign-only files are categories of their own when rows carry none.
        let stem = path.file_stem().map_or_else(|| "-".into(), |s| s.to_string_lossy().into_owned());
        for (n, v) in &parsed {
            let n = *n;
            let text = v["text"].as_str().unwrap_or_default();
            let injection = match v["label"].as_str() {
                Some("injection") => true,
                Some("benign") => false,
                other => {
                    return Err(format!(
                        "{}:{}: label must be injection or benign, not {other:?}",
                        path.display(),
                        n + 1
                    ));
                }
            };
            let source = v["source"].as_str().unwrap_or("-").to_string();
            let category = v["category"].as_str().unwrap_or(&stem).to_string();
            rows.push((text.to_string(), injection, source, category, f));
        }
    }

    let mut total = Tally::default();
    let mut by_file = vec![Tally::default(); a.files.len()];
    let mut by_family: Vec<Tally> = vec![Tally::default(); families.len()];
    let mut unmapped = Tally::default();
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

    for ((text, injection, source, category, file), report) in rows.iter().zip(&reports) {
        total.add(*injection, report.flagged);
        by_file[*file].add(*injection, report.flagged);
        if *injection {
            let mut any = false;
            for (t, fam) in by_family.iter_mut().zip(&families) {
                if fam.matches(source, category) {
                    t.add(true, report.flagged);
                    any = true;
                }
            }
            if !any {
                unmapped.add(true, report.flagged);
            }
        }
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
            "by_file": a.files.iter().zip(&by_file).map(|(p, t)| (p.display().to_string(), t.json())).collect::<BTreeMap<_, _>>(),
            "by_family": families.iter().zip(&by_family).map(|(f, t)| (f.name.clone(), t.json())).collect::<BTreeMap<_, _>>(),
            "unmapped_injection": unmapped.json(),
            "by_source": by_source.iter().map(|(k, t)| (k.clone(), t.json())).collect::<BTreeMap<_, _>>(),
            "by_category": by_category.iter().map(|(k, t)| (k.clone(), t.json())).collect::<BTreeMap<_, _>>(),
            "rules": rule_hits.iter().map(|(k, (i, b))| (k.clone(), json!({"injection": i, "benign": b}))).collect::<BTreeMap<_, _>>(),
            "mb_per_s": bytes as f64 / secs / 1e6,
        });
        out!(w, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }

    let fam_rows: Vec<(&str, &Tally)> = families
        .iter()
        .map(|f| f.name.as_str())
        .zip(&by_family)
        .chain((unmapped.injection > 0).then_some(("(no family)", &unmapped)))
        .collect();
    if a.summary || a.files.len() > 1 {
        let benign_files: Vec<usize> =
            (0..a.files.len()).filter(|&f| by_file[f].injection == 0 && by_file[f].benign > 0).collect();
        // Benign-only files by category; the labelled corpora by source
        // (a benign file's `source` is per-row provenance, not a dataset).
        let mut benign_cat: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut corpus_source: BTreeMap<String, Tally> = BTreeMap::new();
        for ((_, inj, src, cat, f), r) in rows.iter().zip(&reports) {
            if benign_files.contains(f) {
                benign_cat.entry(cat.as_str()).or_default().add(*inj, r.flagged);
            } else {
                corpus_source.entry(src.clone()).or_default().add(*inj, r.flagged);
            }
        }
        let s = Summary {
            files: &a.files,
            by_file: &by_file,
            total,
            families: &fam_rows,
            by_source: &corpus_source,
            trainable: &trainable,
            benign_cat: &benign_cat,
        };
        s.print(&mut w, rows.len(), scanner.threshold(), bytes as f64 / secs / 1e6)?;
        return Ok(0);
    }
    let file = &a.files[0];
    out!(w, "corpus {} — {} rows, threshold {:.2}", file.display(), rows.len(), scanner.threshold());
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
    if !families.is_empty() {
        out!(w, "\nby attack family (a row counts in every family it matches):");
        out!(w, "  {:<44} {:>6} {:>8}", "family", "inj", "recall");
        for (name, t) in &fam_rows {
            out!(w, "  {:<44} {:>6} {:>8}", name, t.injection, pct(t.recall()));
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

/// What the compact summary of several corpora shows.
struct Summary<'a> {
    files: &'a [PathBuf],
    by_file: &'a [Tally],
    total: Tally,
    families: &'a [(&'a str, &'a Tally)],
    by_source: &'a BTreeMap<String, Tally>,
    trainable: &'a BTreeMap<String, bool>,
    benign_cat: &'a BTreeMap<&'a str, Tally>,
}

impl Summary<'_> {
    fn print(&self, w: &mut impl Write, rows: usize, threshold: f64, mb_s: f64) -> Result<(), String> {
        let line = |w: &mut dyn Write, name: &str, t: &Tally| -> Result<(), String> {
            out!(
                w,
                "  {:<64} {:>5} {:>7} {:>6} {:>7} {:>5}",
                name,
                t.injection,
                pct(t.recall()),
                t.benign,
                pct(t.fpr()),
                t.false_pos
            );
            Ok(())
        };
        out!(w, "promptsieve eval — {rows} rows, threshold {threshold:.2}, {mb_s:.1} MB/s (one thread)");
        out!(w, "  {:<64} {:>5} {:>7} {:>6} {:>7} {:>5}", "file", "inj", "recall", "benign", "FPR", "FP");
        for (p, t) in self.files.iter().zip(self.by_file) {
            line(w, &short(p), t)?;
        }
        line(w, "all", &self.total)?;
        if !self.families.is_empty() {
            out!(w, "\nattack families (eval/families.toml; a row counts in every family it matches):");
            out!(w, "  {:<64} {:>5} {:>7}", "family", "inj", "recall");
            for (name, t) in self.families {
                out!(w, "  {:<64} {:>5} {:>7}", name, t.injection, pct(t.recall()));
            }
        }
        out!(w, "\nlabelled corpora by source (* = evaluation-only: never trains the shipped weights):");
        out!(w, "  {:<64} {:>5} {:>7} {:>6} {:>7} {:>5}", "source", "inj", "recall", "benign", "FPR", "FP");
        let (mut held, mut trained) = (Tally::default(), Tally::default());
        for (s, t) in self.by_source {
            let eval_only = self.trainable.get(s) == Some(&false);
            let bucket = if eval_only { &mut held } else { &mut trained };
            bucket.merge(t);
            line(w, &format!("{}{s}", if eval_only { "* " } else { "" }), t)?;
        }
        if !self.trainable.is_empty() {
            line(w, "all evaluation-only sources (*)", &held)?;
            line(w, "all trainable sources", &trained)?;
        }
        if !self.benign_cat.is_empty() {
            out!(w, "\nbenign-only files by category (row field, else file name):");
            out!(w, "  {:<64} {:>6} {:>7} {:>5}", "category", "benign", "FPR", "FP");
            let mut all = Tally::default();
            for (c, t) in self.benign_cat {
                all.merge(t);
                out!(w, "  {:<64} {:>6} {:>7} {:>5}", c, t.benign, pct(t.fpr()), t.false_pos);
            }
            out!(w, "  {:<64} {:>6} {:>7} {:>5}", "all", all.benign, pct(all.fpr()), all.false_pos);
        }
        Ok(())
    }
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
    file: &std::path::Path,
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
    out!(w, "corpus {} — {} rows (span-labelled; offsets in code points)", file.display(), rows);
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
