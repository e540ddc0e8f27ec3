//! `promptsieve train-scorer`: rebuilds the learned injection scorer's
//! weights (`rules/model/injection-scorer.bin`) from a labelled JSONL corpus,
//! deterministically, and prints k-fold cross-validation numbers.
//!
//! Model: L2-regularised logistic regression (`½‖w‖² + C Σ log(1 + e^{−y m})`)
//! over the engine's own hashed n-gram features (`promptsieve::scorer`),
//! solved by L-BFGS. The calibration `p = σ(a·m + c)` is chosen on
//! out-of-fold margins so that the rules and the model, combined by the
//! engine's noisy-OR at the scanner's threshold, keep the false-positive
//! rate on benign rows under `--max-fpr`. Folds are stratified by category
//! and assigned by a hash of the text (no random state): the same corpus
//! gives the same weights, byte for byte.

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
    /// The labelled JSONL corpus (`text`, `label` injection|benign,
    /// `source`, `category`).
    corpus: PathBuf,
    /// Where to write the weights.
    #[arg(long, default_value = "rules/model/injection-scorer.bin")]
    out: PathBuf,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
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
    /// Most benign rows the calibrated combination may flag, on
    /// out-of-fold margins (fraction).
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

/// FNV-1a, for fold assignment.
fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

pub(crate) fn run(a: TrainArgs) -> Result<u8, String> {
    if a.folds < 2 {
        return Err("--folds must be at least 2".into());
    }
    let text = std::fs::read_to_string(&a.corpus).map_err(|e| format!("{}: {e}", a.corpus.display()))?;
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
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", a.corpus.display(), n + 1))?;
        let t = v["text"].as_str().ok_or_else(|| format!("{}:{}: no text", a.corpus.display(), n + 1))?;
        let injection = match v["label"].as_str() {
            Some("injection") => true,
            Some("benign") => false,
            other => return Err(format!("{}:{}: bad label {other:?}", a.corpus.display(), n + 1)),
        };
        raw.push((
            t.to_string(),
            injection,
            v["source"].as_str().unwrap_or("-").to_string(),
            v["category"].as_str().unwrap_or("-").to_string(),
        ));
    }
    // Stratified folds: within each category, rows ordered by text hash.
    let mut by_cat: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in raw.iter().enumerate() {
        by_cat.entry(r.3.as_str()).or_default().push(i);
    }
    let mut fold = vec![0; raw.len()];
    for idx in by_cat.values_mut() {
        idx.sort_by_key(|&i| (hash(&raw[i].0), i));
        for (k, &i) in idx.iter().enumerate() {
            fold[i] = k % a.folds;
        }
    }
    let mut rows: Vec<Row> = raw
        .iter()
        .enumerate()
        .map(|(i, (t, inj, src, cat))| {
            let (x, n_words) = features(t, &spec);
            let base = rules_only.scan(t).risk;
            Row {
                injection: *inj,
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
    out!(
        stdout,
        "corpus {} — {} rows, {} folds, C={}, 2^{} buckets, features {}, min words {}, keep {}",
        a.corpus.display(),
        rows.len(),
        a.folds,
        a.c,
        a.bits,
        a.features,
        a.min_words,
        a.keep
    );

    let texts: Vec<&str> = raw.iter().map(|r| r.0.as_str()).collect();
    let benign: Vec<bool> = rows.iter().map(|r| !r.injection).collect();
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
        let train: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].fold != k).collect();
        let tau_k = train_lm::tau(train.iter().filter(|&&i| benign[i]).map(|&i| lm_cv.inner[k][i]), &a.lm);
        for &i in &train {
            rows[i].rules = with_lm(rows[i].base, lm_cv.inner[k][i] >= tau_k);
        }
        for i in (0..rows.len()).filter(|&i| rows[i].fold == k) {
            lm_flag[i] = lm_cv.oof[i] >= tau_k;
            held_out_rules[i] = with_lm(rows[i].base, lm_flag[i]);
        }
        taus.push(tau_k);
        let inner = inner_oof(&rows, &train, a.c, dim, a.keep, 3);
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
    // The shipped model: all rows, calibrated on the outer out-of-fold margins.
    let all: Vec<usize> = (0..rows.len()).collect();
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

/// Out-of-fold margins over `idx` with `k` inner folds (by position).
fn inner_oof(rows: &[Row], idx: &[usize], c: f64, dim: usize, keep: usize, k: usize) -> Vec<f64> {
    let mut m = vec![0f64; rows.len()];
    for f in 0..k {
        let train: Vec<usize> = idx.iter().enumerate().filter(|(p, _)| p % k != f).map(|(_, &i)| i).collect();
        let (w, b) = quantised(&fit(rows, &train, c, dim), keep);
        for (_, &i) in idx.iter().enumerate().filter(|(p, _)| p % k == f) {
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
                    } else {
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
/// benign rows above it.
fn recall_at_1pct(scores: &[(f64, bool)]) -> f64 {
    let mut benign: Vec<f64> = scores.iter().filter(|s| !s.1).map(|s| s.0).collect();
    benign.sort_by(|x, y| y.total_cmp(x));
    let allowed = benign.len() / 100;
    let t = benign.get(allowed).copied().unwrap_or(f64::MIN);
    let inj: Vec<f64> = scores.iter().filter(|s| s.1).map(|s| s.0).collect();
    inj.iter().filter(|&&s| s > t).count() as f64 / inj.len().max(1) as f64
}

fn report(
    w: &mut impl Write,
    rows: &[Row],
    oof: &[f64],
    cal: &[(f64, f64)],
    a: &TrainArgs,
) -> Result<(), String> {
    let mut rec1 = [Vec::new(), Vec::new(), Vec::new()];
    let mut at_t: BTreeMap<(bool, String), (usize, usize)> = BTreeMap::new();
    let mut src: BTreeMap<(bool, String), (usize, usize)> = BTreeMap::new();
    let (mut tp, mut fp, mut pos, mut neg) = (0, 0, 0, 0);
    for (k, &fold_cal) in cal.iter().enumerate().take(a.folds) {
        let idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].fold == k).collect();
        let model: Vec<(f64, bool)> = idx.iter().map(|&i| (oof[i], rows[i].injection)).collect();
        let rules: Vec<(f64, bool)> = idx.iter().map(|&i| (rows[i].rules, rows[i].injection)).collect();
        let comb: Vec<(f64, bool)> = idx
            .iter()
            .map(|&i| (combined(rows[i].rules, oof[i], fold_cal, a.floor), rows[i].injection))
            .collect();
        rec1[0].push(recall_at_1pct(&rules));
        rec1[1].push(recall_at_1pct(&model));
        rec1[2].push(recall_at_1pct(&comb));
        for (&i, &(s, inj)) in idx.iter().zip(&comb) {
            let hit = s >= a.threshold;
            let e = at_t.entry((inj, rows[i].category.clone())).or_default();
            e.0 += 1;
            e.1 += usize::from(hit);
            let e = src.entry((inj, rows[i].source.clone())).or_default();
            e.0 += 1;
            e.1 += usize::from(hit);
            if inj {
                pos += 1;
                tp += usize::from(hit);
            } else {
                neg += 1;
                fp += usize::from(hit);
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    out!(w, "\n{}-fold cross-validation, recall at held-out benign FPR <= 1% (mean over folds):", a.folds);
    out!(w, "  rules alone      {:.3}", mean(&rec1[0]));
    out!(w, "  model alone      {:.3}", mean(&rec1[1]));
    out!(
        w,
        "  rules + model    {:.3}   per fold: {}",
        mean(&rec1[2]),
        rec1[2].iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>().join(" ")
    );
    out!(
        w,
        "\nAt the scanner's threshold {} (calibration from training folds only): recall {:.3} ({tp}/{pos}), FPR {:.2}% ({fp}/{neg})",
        a.threshold,
        tp as f64 / pos.max(1) as f64,
        100.0 * fp as f64 / neg.max(1) as f64
    );
    for (title, map) in [("category", &at_t), ("source", &src)] {
        out!(w, "\n  by {title}:");
        for ((inj, name), (n, hit)) in map {
            let what = if *inj { "recall" } else { "FPR   " };
            out!(w, "    {what} {:>6.1}%  {hit:>4}/{n:<4}  {name}", 100.0 * *hit as f64 / *n as f64);
        }
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
