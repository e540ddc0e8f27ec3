//! `promptsieve train-scorer`: rebuilds the learned injection scorer's
//! weights (`rules/model/injection-scorer.bin`) from labelled JSONL corpora,
//! deterministically, and prints cross-validation numbers grouped by source
//! (default), by near-duplicate group or by row (`--group`).
//!
//! Model: L2-regularised logistic regression (`½‖w‖² + C Σ log(1 + e^{−y m})`)
//! over the engine's own hashed n-gram features (`promptsieve::scorer`),
//! solved by L-BFGS. The calibration `p = σ(a·m + c)` is chosen on
//! out-of-fold margins so that the rules and the model, combined by the
//! engine's noisy-OR at the scanner's threshold, keep the false-positive
//! rate on benign rows under `--max-fpr`.
//!
//! Every row's source must be listed in `eval/sources.toml`; rows of a
//! source with `train = false` (licence) are never trained or calibrated
//! on, but are scored in every report. Folds are grouped by source: a
//! source lies wholly in one fold, so the numbers measure how the detector
//! does on a source it has never seen (rows of one source share templates,
//! and row-level folds let the model recognise the template instead of the
//! attack). Sources go largest first to the fold with the fewest rows; the
//! inner calibration split reuses the outer folds, so it is grouped too. No
//! random state: the same corpora give the same weights, byte for byte.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use promptsieve::ScannerBuilder;
use promptsieve::scorer::{FeatureSpec, Model, Trained, features};
use promptsieve::suffix_lm::SUFFIX_LM_RULE;

use crate::{out, train_lm};

#[derive(Args)]
pub(crate) struct TrainArgs {
    /// The labelled JSONL corpora (`text`, `label` injection|benign,
    /// `source`, `category`); their rows are pooled.
    #[arg(required = true)]
    corpus: Vec<PathBuf>,
    /// Every source a row may carry, with whether it may train the shipped
    /// weights (`train = true|false`).
    #[arg(long, default_value = "eval/sources.toml")]
    sources: PathBuf,
    /// Where to write the weights.
    #[arg(long, default_value = "rules/model/injection-scorer.bin")]
    out: PathBuf,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// What a fold keeps together: `source` (leave sources out, the
    /// figure to choose settings on), `dup` (near-duplicate groups: rows
    /// sharing an 8-word shingle) or `row` (rows spread by text hash, the
    /// optimistic figure).
    #[arg(long, default_value = "source")]
    group: String,
    /// Inverse L2 regularisation strength.
    #[arg(long, default_value_t = 64.0)]
    c: f64,
    /// Hash buckets: 2^bits.
    #[arg(long, default_value_t = 16)]
    bits: u8,
    /// Feature kinds: words, chars or both.
    #[arg(long, default_value = "both")]
    features: String,
    /// Texts with fewer words are not scored.
    #[arg(long, default_value_t = 20)]
    min_words: u16,
    /// Non-zero weights kept (largest magnitudes), int8-quantised.
    #[arg(long, default_value_t = 20_000)]
    keep: usize,
    /// Most benign rows the calibrated model may add to the rules' false
    /// alarms, on out-of-fold margins (fraction).
    #[arg(long, default_value_t = 0.006)]
    max_fpr: f64,
    /// Model scores below this are not reported and do not count.
    #[arg(long, default_value_t = 0.3)]
    floor: f32,
    /// Flag threshold of the combined risk (the scanner's default).
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Only cross-validate; do not write weights.
    #[arg(long)]
    cv_only: bool,
    #[command(flatten)]
    lm: crate::train_lm::LmArgs,
}

struct Row {
    injection: bool,
    /// The source's licence lets the row train the shipped weights.
    train: bool,
    source: String,
    category: String,
    /// The rules' risk without the scorer and the suffix LM.
    base: f64,
    /// `base` with the suffix LM's finding as the current context sees it.
    rules: f64,
    x: Vec<(u32, f32)>,
    /// Whether the text has enough words to be scored.
    scored: bool,
    fold: usize,
}

#[derive(serde::Deserialize)]
struct SourceList {
    source: Vec<SourceEntry>,
}

#[derive(serde::Deserialize)]
struct SourceEntry {
    name: String,
    train: bool,
}

/// `eval/sources.toml`: source name → may train.
pub(crate) fn load_sources(path: &std::path::Path) -> Result<BTreeMap<String, bool>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let list: SourceList = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut map = BTreeMap::new();
    for s in list.source {
        if map.insert(s.name.clone(), s.train).is_some() {
            return Err(format!("{}: source {:?} listed twice", path.display(), s.name));
        }
    }
    Ok(map)
}

/// Source-grouped folds: sources by row count, largest first (ties by
/// name), each to the fold with the fewest rows so far (ties: lowest).
fn grouped_folds(sources: &[&str], folds: usize) -> Result<Vec<usize>, String> {
    let mut size: BTreeMap<&str, usize> = BTreeMap::new();
    for s in sources {
        *size.entry(s).or_default() += 1;
    }
    if size.len() < folds {
        return Err(format!("{} groups cannot fill {folds} folds", size.len()));
    }
    let mut order: Vec<(&str, usize)> = size.into_iter().collect();
    order.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
    let mut load = vec![0usize; folds];
    let mut of: BTreeMap<&str, usize> = BTreeMap::new();
    for (s, n) in order {
        let k = (0..folds).min_by_key(|&k| (load[k], k)).unwrap_or(0);
        load[k] += n;
        of.insert(s, k);
    }
    Ok(sources.iter().map(|s| of[s]).collect())
}

/// FNV-1a, to spread rows over folds without random state.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Near-duplicate groups: rows that share an 8-word shingle (lower-cased
/// alphanumeric words) are joined, transitively (union-find). Templated
/// rows (one attack in many carriers, one carrier with many attacks) then
/// land in one fold. Returns a group id per row.
fn near_duplicate_groups(texts: &[&str]) -> Vec<usize> {
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..texts.len()).collect();
    let mut first: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for (i, t) in texts.iter().enumerate() {
        let lower = t.to_lowercase();
        let words: Vec<&str> =
            lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        for w in words.windows(8) {
            let h = fnv(&w.join(" "));
            match first.get(&h) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    first.insert(h, i);
                }
            }
        }
    }
    (0..texts.len()).map(|i| find(&mut parent, i)).collect()
}

pub(crate) fn run(a: TrainArgs) -> Result<u8, String> {
    if a.folds < 2 {
        return Err("--folds must be at least 2".into());
    }
    let allowed = load_sources(&a.sources)?;
    // The suffix LM is cross-validated here too, so the rules' risk leaves it out.
    let rules_only =
        ScannerBuilder::new().scorer(false).disable(SUFFIX_LM_RULE).build([]).map_err(|e| e.to_string())?;
    let lm_score = promptsieve::Scanner::new()
        .rules()
        .into_iter()
        .find(|r| r.id == SUFFIX_LM_RULE)
        .map(|r| r.score)
        .ok_or("the default packs have no suffix-LM rule")?;
    let (words, chars) = match a.features.as_str() {
        "words" => (true, false),
        "chars" => (false, true),
        "both" => (true, true),
        other => return Err(format!("--features must be words, chars or both, not {other:?}")),
    };
    let spec = FeatureSpec { bits: a.bits, words, chars, min_words: a.min_words };
    let mut raw = Vec::new();
    for path in &a.corpus {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let at = || format!("{}:{}", path.display(), n + 1);
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
            let t = v["text"].as_str().ok_or_else(|| format!("{}: no text", at()))?;
            let injection = match v["label"].as_str() {
                Some("injection") => true,
                Some("benign") => false,
                other => return Err(format!("{}: bad label {other:?}", at())),
            };
            let source = v["source"].as_str().unwrap_or("-");
            let train = *allowed.get(source).ok_or_else(|| {
                format!("{}: source {source:?} is not listed in {}", at(), a.sources.display())
            })?;
            raw.push((
                t.to_string(),
                injection,
                source.to_string(),
                v["category"].as_str().unwrap_or("-").to_string(),
                train,
            ));
        }
    }
    let keys: Vec<String> = match a.group.as_str() {
        "source" => raw.iter().map(|r| r.2.clone()).collect(),
        "dup" => near_duplicate_groups(&raw.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
            .into_iter()
            .map(|g| format!("{g:08}"))
            .collect(),
        "row" => raw.iter().map(|r| format!("{:016x}", fnv(&r.0))).collect(),
        other => return Err(format!("--group must be source, dup or row, not {other:?}")),
    };
    let fold = grouped_folds(&keys.iter().map(String::as_str).collect::<Vec<_>>(), a.folds)?;
    let mut rows: Vec<Row> = raw
        .iter()
        .enumerate()
        .map(|(i, (t, inj, src, cat, train))| {
            let (x, n_words) = features(t, &spec);
            let base = rules_only.scan(t).risk;
            Row {
                injection: *inj,
                train: *train,
                source: src.clone(),
                category: cat.clone(),
                base,
                rules: base,
                x,
                scored: n_words >= usize::from(a.min_words),
                fold: fold[i],
            }
        })
        .collect();
    let dim = 1usize << a.bits;
    let mut stdout = std::io::stdout().lock();
    let names: Vec<String> = a.corpus.iter().map(|p| p.display().to_string()).collect();
    out!(
        stdout,
        "corpus {} — {} rows ({} evaluation-only), {} folds grouped by {}, C={}, 2^{} buckets, features {}, min words {}, keep {}",
        names.join(" + "),
        rows.len(),
        rows.iter().filter(|r| !r.train).count(),
        a.folds,
        a.group,
        a.c,
        a.bits,
        a.features,
        a.min_words,
        a.keep
    );

    let texts: Vec<&str> = raw.iter().map(|r| r.0.as_str()).collect();
    // The suffix LM counts, and sets `τ` on, trainable benign rows only.
    let benign: Vec<bool> = rows.iter().map(|r| !r.injection && r.train).collect();
    let lm_cv = train_lm::cross_validate(&texts, &benign, &fold, a.folds, &a.lm);
    let with_lm =
        |base: f64, flagged: bool| if flagged { 1.0 - (1.0 - base) * (1.0 - lm_score) } else { base };

    // Outer cross-validation: each fold's margins come from a model trained
    // on the other folds, calibrated on inner out-of-fold margins.
    let mut oof = vec![0f64; rows.len()];
    let mut fold_cal = Vec::new();
    let mut held_out_rules = vec![0f64; rows.len()];
    let mut lm_flag = vec![false; rows.len()];
    let mut taus = Vec::new();
    for k in 0..a.folds {
        let train: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].fold != k && rows[i].train).collect();
        let tau_k = train_lm::tau(train.iter().filter(|&&i| benign[i]).map(|&i| lm_cv.inner[k][i]), &a.lm);
        for &i in &train {
            rows[i].rules = with_lm(rows[i].base, lm_cv.inner[k][i] >= tau_k);
        }
        for i in (0..rows.len()).filter(|&i| rows[i].fold == k) {
            lm_flag[i] = lm_cv.oof[i] >= tau_k;
            held_out_rules[i] = with_lm(rows[i].base, lm_flag[i]);
        }
        taus.push(tau_k);
        let inner = inner_oof(&rows, &train, a.c, dim, a.keep);
        let cal = calibrate(&rows, &train, &inner, &a);
        let (w, b) = quantised(&fit(&rows, &train, a.c, dim), a.keep);
        for i in (0..rows.len()).filter(|&i| rows[i].fold == k) {
            oof[i] = if rows[i].scored { margin(&rows[i].x, &w, b) } else { f64::NEG_INFINITY };
        }
        fold_cal.push(cal);
    }
    for (r, &h) in rows.iter_mut().zip(&held_out_rules) {
        r.rules = h;
    }
    report(&mut stdout, &rows, &oof, &fold_cal, &a)?;
    let labels: Vec<(bool, &str)> = rows.iter().map(|r| (r.injection, r.category.as_str())).collect();
    let rules_flagged: Vec<bool> = rows.iter().map(|r| r.base >= a.threshold).collect();
    train_lm::report(&mut stdout, &labels, &lm_flag, &rules_flagged, &taus)?;
    if a.cv_only {
        return Ok(0);
    }
    // The shipped suffix LM: every benign row, `τ` from the out-of-fold
    // statistics; the scorer is calibrated with its out-of-fold flags.
    let tau = train_lm::tau((0..rows.len()).filter(|&i| benign[i]).map(|i| lm_cv.oof[i]), &a.lm);
    for (i, r) in rows.iter_mut().enumerate() {
        r.rules = with_lm(r.base, lm_cv.oof[i] >= tau);
    }
    let lm = train_lm::final_model(&texts, &benign, tau, &a.lm);
    let lm_bytes = lm.to_bytes();
    promptsieve::suffix_lm::Lm::from_bytes(&lm_bytes)?;
    std::fs::write(a.lm.out(), &lm_bytes).map_err(|e| format!("{}: {e}", a.lm.out().display()))?;
    out!(stdout, "wrote {} ({} bytes; tau {tau:.2} bits/char)", a.lm.out().display(), lm_bytes.len());
    // The shipped model: all trainable rows, calibrated on their outer
    // out-of-fold margins.
    let all: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].train).collect();
    let cal = calibrate(&rows, &all, &oof, &a);
    let (w, b) = fit(&rows, &all, a.c, dim);
    let trained = Trained {
        spec,
        weights: w.iter().map(|&x| x as f32).collect(),
        bias: b as f32,
        a: cal.0 as f32,
        c: cal.1 as f32,
        floor: a.floor,
    };
    let bytes = Model::to_bytes(&trained, a.keep);
    Model::from_bytes(&bytes)?;
    std::fs::write(&a.out, &bytes).map_err(|e| format!("{}: {e}", a.out.display()))?;
    out!(
        stdout,
        "wrote {} ({} bytes; calibration a={:.3} c={:.3})",
        a.out.display(),
        bytes.len(),
        cal.0,
        cal.1
    );
    Ok(0)
}

/// Out-of-fold margins over `idx`, the inner folds being the outer folds
/// present in `idx` (so they are source-grouped too).
fn inner_oof(rows: &[Row], idx: &[usize], c: f64, dim: usize, keep: usize) -> Vec<f64> {
    let mut m = vec![0f64; rows.len()];
    let mut groups: Vec<usize> = idx.iter().map(|&i| rows[i].fold).collect();
    groups.sort_unstable();
    groups.dedup();
    for f in groups {
        let train: Vec<usize> = idx.iter().copied().filter(|&i| rows[i].fold != f).collect();
        let (w, b) = quantised(&fit(rows, &train, c, dim), keep);
        for &i in idx.iter().filter(|&&i| rows[i].fold == f) {
            m[i] = if rows[i].scored { margin(&rows[i].x, &w, b) } else { f64::NEG_INFINITY };
        }
    }
    m
}

fn margin(x: &[(u32, f32)], w: &[f64], b: f64) -> f64 {
    b + x.iter().map(|&(j, v)| w[j as usize] * f64::from(v)).sum::<f64>()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The model's score as the engine applies it: below the floor it is
/// dropped, otherwise it joins the rules' risk by noisy-OR.
fn combined(rules: f64, m: f64, cal: (f64, f64), floor: f32) -> f64 {
    let p = sigmoid(cal.0 * m + cal.1) as f32;
    let p = if p < floor { 0.0 } else { f64::from(p) };
    1.0 - (1.0 - rules) * (1.0 - p)
}

/// The weights as the shipped file will hold them (top `keep`, int8).
fn quantised(wb: &(Vec<f64>, f64), keep: usize) -> (Vec<f64>, f64) {
    let (w, b) = wb;
    let max = w.iter().fold(0f64, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let mut order: Vec<usize> = (0..w.len()).filter(|&i| w[i] != 0.0).collect();
    order.sort_by(|&x, &y| w[y].abs().total_cmp(&w[x].abs()).then(x.cmp(&y)));
    let mut q = vec![0f64; w.len()];
    for &i in order.iter().take(keep) {
        // f32 as the file stores the scale.
        q[i] = (w[i] / scale).round().clamp(-127.0, 127.0) * f64::from(scale as f32);
    }
    (q, f64::from(*b as f32))
}

/// Calibration `(a, c)`: the highest recall of the combination at the
/// threshold with benign FPR ≤ max_fpr on `margins` over `idx`.
fn calibrate(rows: &[Row], idx: &[usize], margins: &[f64], args: &TrainArgs) -> (f64, f64) {
    let benign = idx.iter().filter(|&&i| !rows[i].injection).count().max(1) as f64;
    let mut best = (f64::MIN, (1.0, -20.0));
    for ai in 1..=16 {
        let a = f64::from(ai) * 0.25;
        for ci in -64..=16 {
            let c = f64::from(ci) * 0.25;
            let (mut tp, mut fp) = (0usize, 0usize);
            for &i in idx {
                if combined(rows[i].rules, margins[i], (a, c), args.floor) >= args.threshold {
                    if rows[i].injection {
                        tp += 1;
                    } else if rows[i].rules < args.threshold {
                        // Only the false alarms the model adds: the rules'
                        // own may already exceed the budget on hard benign
                        // sets, which would switch the model off.
                        fp += 1;
                    }
                }
            }
            if fp as f64 / benign <= args.max_fpr && tp as f64 > best.0 {
                best = (tp as f64, (a, c));
            }
        }
    }
    best.1
}

/// Recall at the largest threshold that keeps at most ⌊1 % of benign⌋
/// benign rows above it, and the benign FPR there.
fn recall_at_1pct(scores: &[(f64, bool)]) -> (f64, f64) {
    let mut benign: Vec<f64> = scores.iter().filter(|s| !s.1).map(|s| s.0).collect();
    benign.sort_by(|x, y| y.total_cmp(x));
    let allowed = benign.len() / 100;
    let t = benign.get(allowed).copied().unwrap_or(f64::MIN);
    let inj: Vec<f64> = scores.iter().filter(|s| s.1).map(|s| s.0).collect();
    let fp = benign.iter().filter(|&&s| s > t).count();
    (
        inj.iter().filter(|&&s| s > t).count() as f64 / inj.len().max(1) as f64,
        fp as f64 / benign.len().max(1) as f64,
    )
}

/// Rows and hits of rules, model and combination at the threshold.
#[derive(Default, Clone, Copy)]
struct Hits {
    n: usize,
    hit: [usize; 3],
}

impl Hits {
    fn add(&mut self, flags: [bool; 3]) {
        self.n += 1;
        for (h, f) in self.hit.iter_mut().zip(flags) {
            *h += usize::from(f);
        }
    }

    fn rate(&self, k: usize) -> String {
        if self.n == 0 {
            "     -".into()
        } else {
            format!("{:5.1}%", 100.0 * self.hit[k] as f64 / self.n as f64)
        }
    }
}

fn report(
    w: &mut impl Write,
    rows: &[Row],
    oof: &[f64],
    cal: &[(f64, f64)],
    a: &TrainArgs,
) -> Result<(), String> {
    // Out of fold, per row: the rules' risk, the model's margin (ranked
    // for recall at 1 % FPR; a fold's calibration may switch the model off,
    // which would tie every row) and the combination as the engine forms it.
    let scores: Vec<[f64; 3]> = rows
        .iter()
        .zip(oof)
        .map(|(r, &m)| [r.rules, m, combined(r.rules, m, cal[r.fold], a.floor)])
        .collect();
    // At the threshold the model alone is its calibrated probability.
    let flags = |r: &Row, s: &[f64; 3]| {
        let p = combined(0.0, s[1], cal[r.fold], a.floor);
        [s[0] >= a.threshold, p >= a.threshold, s[2] >= a.threshold]
    };
    let mut total = [Hits::default(); 2];
    let mut by_src: BTreeMap<&str, (bool, [Hits; 2])> = BTreeMap::new();
    let mut by_cat: BTreeMap<(bool, &str), Hits> = BTreeMap::new();
    for (r, s) in rows.iter().zip(&scores) {
        let f = flags(r, s);
        let side = usize::from(!r.injection);
        total[side].add(f);
        by_src.entry(r.source.as_str()).or_insert((r.train, Default::default())).1[side].add(f);
        by_cat.entry((r.injection, r.category.as_str())).or_default().add(f);
    }
    let mut fold_rows = vec![(0usize, 0usize, 0usize); a.folds];
    for r in rows {
        fold_rows[r.fold].0 += 1;
        fold_rows[r.fold].1 += usize::from(r.injection);
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in rows {
        if seen.insert(r.source.as_str()) {
            fold_rows[r.fold].2 += 1;
        }
    }
    out!(
        w,
        "\n{}-fold cross-validation grouped by {}: out-of-fold predictions for all {} rows \
         (evaluation-only rows are scored, never trained or calibrated on).",
        a.folds,
        a.group,
        rows.len()
    );
    out!(
        w,
        "  folds (rows/injection/sources): {}",
        fold_rows.iter().map(|f| format!("{}/{}/{}", f.0, f.1, f.2)).collect::<Vec<_>>().join("  ")
    );
    out!(
        w,
        "\n  pooled out of fold        recall@FPR<=1% (FPR)    at threshold {}: recall           FPR",
        a.threshold
    );
    let (inj, ben) = (total[0], total[1]);
    for (k, name) in ["rules alone", "model alone", "rules + model"].iter().enumerate() {
        let pairs: Vec<(f64, bool)> = rows.iter().zip(&scores).map(|(r, s)| (s[k], r.injection)).collect();
        let (rec, fpr) = recall_at_1pct(&pairs);
        out!(
            w,
            "  {name:<24}  {rec:.3} ({:.2}%)            {:.3} ({:>4}/{})   {:.2}% ({}/{})",
            100.0 * fpr,
            inj.hit[k] as f64 / inj.n.max(1) as f64,
            inj.hit[k],
            inj.n,
            100.0 * ben.hit[k] as f64 / ben.n.max(1) as f64,
            ben.hit[k],
            ben.n
        );
    }
    out!(w, "\n  by source at threshold {} (train: may train the shipped weights):", a.threshold);
    out!(
        w,
        "    {:<58} {:>5} {:>5} {:>6} {:>6} {:>6}  {:>5} {:>6} {:>6} {:>6}",
        "source",
        "train",
        "inj",
        "rules",
        "model",
        "comb",
        "benign",
        "rules",
        "model",
        "comb"
    );
    for (src, (train, [i, b])) in &by_src {
        out!(
            w,
            "    {:<58} {:>5} {:>5} {} {} {}  {:>5} {} {} {}",
            src,
            if *train { "yes" } else { "no" },
            i.n,
            i.rate(0),
            i.rate(1),
            i.rate(2),
            b.n,
            b.rate(0),
            b.rate(1),
            b.rate(2)
        );
    }
    out!(w, "\n  by category, rules + model at threshold {}:", a.threshold);
    for ((inj, name), h) in &by_cat {
        let what = if *inj { "recall" } else { "FPR   " };
        out!(w, "    {what} {}  {:>4}/{:<4}  {name}", h.rate(2), h.hit[2], h.n);
    }
    Ok(())
}

// ------------------------------------------------------------ L-BFGS

/// Minimises `½‖w‖² + C Σ log(1 + exp(−y (w·x + b)))` over `idx` (the
/// intercept is not regularised). Deterministic: fixed iteration order.
fn fit(rows: &[Row], idx: &[usize], c: f64, dim: usize) -> (Vec<f64>, f64) {
    let n = dim + 1; // last coordinate: the intercept
    let eval = |p: &[f64], g: &mut [f64]| -> f64 {
        let (w, b) = (&p[..dim], p[dim]);
        g[..dim].copy_from_slice(w);
        g[dim] = 0.0;
        let mut f = 0.5 * w.iter().map(|x| x * x).sum::<f64>();
        for &i in idx {
            let r = &rows[i];
            let y = if r.injection { 1.0 } else { -1.0 };
            let z = y * margin(&r.x, w, b);
            // log(1 + e^{-z}) and its derivative, stable for large |z|.
            f += c * if z > 0.0 { (-z).exp().ln_1p() } else { -z + z.exp().ln_1p() };
            let d = -c * y * sigmoid(-z);
            for &(j, v) in &r.x {
                g[j as usize] += d * f64::from(v);
            }
            g[dim] += d;
        }
        f
    };
    let mut p = vec![0f64; n];
    let mut g = vec![0f64; n];
    let mut f = eval(&p, &mut g);
    let m = 8;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for _ in 0..200 {
        // Two-loop recursion for the direction −H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dot(y, s);
            let al = rho * dot(s, &q);
            for (qi, yi) in q.iter_mut().zip(y) {
                *qi -= al * yi;
            }
            alphas.push((al, rho));
        }
        if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|x| *x *= gamma);
        }
        for ((s, y), (al, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let be = rho * dot(y, &q);
            for (qi, si) in q.iter_mut().zip(s) {
                *qi += (al - be) * si;
            }
        }
        let dir: Vec<f64> = q.iter().map(|x| -x).collect();
        let slope = dot(&dir, &g);
        if slope >= 0.0 {
            break;
        }
        // Backtracking (Armijo).
        let mut step = if s_hist.is_empty() { 1.0 / dot(&g, &g).sqrt().max(1.0) } else { 1.0 };
        let mut g_new = vec![0f64; n];
        let mut accepted = None;
        for _ in 0..30 {
            let trial: Vec<f64> = p.iter().zip(&dir).map(|(x, d)| x + step * d).collect();
            let f_new = eval(&trial, &mut g_new);
            if f_new <= f + 1e-4 * step * slope {
                accepted = Some((trial, f_new));
                break;
            }
            step *= 0.5;
        }
        let Some((p_new, f_new)) = accepted else { break };
        let s: Vec<f64> = p_new.iter().zip(&p).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let converged = (f - f_new).abs() <= 1e-7 * f.abs().max(1.0);
        if dot(&s, &y) > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > m {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        p = p_new;
        g = g_new;
        f = f_new;
        if converged {
            break;
        }
    }
    let b = p[dim];
    p.truncate(dim);
    (p, b)
}
