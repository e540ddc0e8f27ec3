//! The adversarial-suffix language model's part of `promptsieve
//! train-scorer`: the character model is counted on the corpus's benign
//! rows only, and its threshold `τ` is the benign out-of-fold tail, so the
//! model never judges text it was counted on.
//!
//! Cross-validation mirrors the scorer's: for outer fold `k` the held-out
//! rows are scored by a model counted on the other folds' benign rows, and
//! `τ_k` comes from the training folds' own out-of-fold statistics (a model
//! counted without folds `k` and `g` scores fold `g`). Each fold is counted
//! once; a model for a set of folds sums their counts.

use std::collections::BTreeMap;
use std::io::Write;

use clap::Args;
use promptsieve::suffix_lm::{Counts, Lm, LmParams};

use crate::out;

#[derive(Args, Clone)]
pub(crate) struct LmArgs {
    /// Suffix LM: model order.
    #[arg(long, default_value_t = 5)]
    lm_order: u8,
    /// Suffix LM: least rule-based soup score of a run it judges.
    #[arg(long, default_value_t = 0.3)]
    lm_floor: f32,
    /// Suffix LM: fewest occurrences of a kept n-gram of order 3 or more.
    #[arg(long, default_value_t = 2)]
    lm_min_count: u32,
    /// Suffix LM: hash-table size cap, 2^bits slots per order. 14 flags
    /// the same out-of-fold GCG rows as 15 (and one benign row fewer) at
    /// 53 KB gzipped instead of 93 KB; 13 needs a higher τ.
    #[arg(long, default_value_t = 14)]
    lm_bits: u8,
    /// Suffix LM: most benign rows it may flag on out-of-fold statistics
    /// (fraction); sets `τ`.
    #[arg(long, default_value_t = 0.001)]
    lm_max_fpr: f64,
    /// Where to write the suffix LM.
    #[arg(long, default_value = "rules/model/suffix-lm.bin")]
    lm_out: std::path::PathBuf,
}

impl LmArgs {
    fn params(&self, tau: f32) -> LmParams {
        LmParams {
            order: self.lm_order,
            floor: self.lm_floor,
            tau,
            min_count: self.lm_min_count,
            max_bits: self.lm_bits,
        }
    }

    pub(crate) fn out(&self) -> &std::path::Path {
        &self.lm_out
    }
}

/// Out-of-fold statistics (mean bits per symbol of the rule-based
/// detector's run; 0 when there is no run or its soup score is under the
/// floor).
pub(crate) struct LmCv {
    /// Per row: from the model that did not count its fold.
    pub(crate) oof: Vec<f32>,
    /// `inner[k][i]`, for rows outside fold `k`: from the model that counted
    /// neither fold `k` nor the row's own.
    pub(crate) inner: Vec<Vec<f32>>,
}

fn stat(lm: &Lm, text: &str) -> f32 {
    lm.analyse(text).map_or(0.0, |r| r.bits)
}

pub(crate) fn cross_validate(
    texts: &[&str],
    benign: &[bool],
    fold: &[usize],
    folds: usize,
    a: &LmArgs,
) -> LmCv {
    // These models only measure; `τ` is chosen from what they measure.
    let params = a.params(f32::INFINITY);
    let mut counts: Vec<Counts> = (0..folds).map(|_| Counts::default()).collect();
    for i in (0..texts.len()).filter(|&i| benign[i]) {
        counts[fold[i]].add(texts[i], params.order);
    }
    let model = |skip: &[usize]| {
        let parts: Vec<&Counts> = (0..folds).filter(|f| !skip.contains(f)).map(|f| &counts[f]).collect();
        Lm::from_counts(&parts, params)
    };
    let mut oof = vec![0f32; texts.len()];
    let mut inner = vec![vec![0f32; texts.len()]; folds];
    for k in 0..folds {
        let lm = model(&[k]);
        for i in (0..texts.len()).filter(|&i| fold[i] == k) {
            oof[i] = stat(&lm, texts[i]);
        }
        for g in k + 1..folds {
            let lm = model(&[k, g]);
            for i in 0..texts.len() {
                if fold[i] == g {
                    inner[k][i] = stat(&lm, texts[i]);
                } else if fold[i] == k {
                    inner[g][i] = stat(&lm, texts[i]);
                }
            }
        }
    }
    LmCv { oof, inner }
}

/// `τ`: just above the benign statistic that leaves at most `max_fpr` of
/// the benign rows at or above it (two decimals, so the file's threshold
/// reads as printed), and never under 5 bits: ordinary English runs
/// at 2–3 bits per character, and a fold with few benign runs must not
/// drag `τ` down to them.
pub(crate) fn tau(benign_stats: impl Iterator<Item = f32>, a: &LmArgs) -> f32 {
    let mut s: Vec<f32> = benign_stats.collect();
    s.sort_by(|x, y| y.total_cmp(x));
    let allowed = (a.lm_max_fpr * s.len() as f64).floor() as usize;
    let t = s.get(allowed).map_or(0.0, |&v| v + 0.01);
    ((t * 100.0).ceil() / 100.0).max(5.0)
}

/// The shipped model: every benign row counted.
pub(crate) fn final_model(texts: &[&str], benign: &[bool], tau: f32, a: &LmArgs) -> Lm {
    let params = a.params(tau);
    Lm::train((0..texts.len()).filter(|&i| benign[i]).map(|i| texts[i]), params)
}

/// The suffix LM alone, out of fold: what it flags per category.
pub(crate) fn report(
    w: &mut impl Write,
    labels: &[(bool, &str)],
    flagged: &[bool],
    rules_flagged: &[bool],
    taus: &[f32],
) -> Result<(), String> {
    let mut by: BTreeMap<(bool, &str), (usize, usize, usize)> = BTreeMap::new();
    for ((&(inj, cat), &f), &r) in labels.iter().zip(flagged).zip(rules_flagged) {
        let e = by.entry((inj, cat)).or_default();
        e.0 += 1;
        e.1 += usize::from(f);
        e.2 += usize::from(f && !r);
    }
    let taus: Vec<String> = taus.iter().map(|t| format!("{t:.2}")).collect();
    out!(
        w,
        "\nSuffix LM alone, out of fold (tau per fold: {}); 'new' = rows the other rules did not flag:",
        taus.join(" ")
    );
    for ((inj, cat), (n, hit, new)) in by.iter().filter(|(_, v)| v.1 > 0) {
        let what = if *inj { "recall" } else { "FPR   " };
        out!(w, "    {what} {:>6.1}%  {hit:>4}/{n:<4} new {new:>3}  {cat}", 100.0 * *hit as f64 / *n as f64);
    }
    Ok(())
}
