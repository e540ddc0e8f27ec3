//! `promptsieve train-names`: rebuilds the learned person-name tagger's
//! weights (`rules/model/name-tagger.bin`) from span-labelled JSONL
//! corpora, deterministically, and prints cross-validated PERSON
//! precision, recall and F1 per source, beside the dictionary detector's
//! on the same gold.
//!
//! Model: an averaged structured perceptron (Collins 2002) over the
//! engine's own hashed features (`promptsieve::name_tagger::prepare`), BIO
//! labels and Viterbi decoding with learned transitions. Updates are
//! integers and the row order is a fixed-seed shuffle per epoch, so the same
//! corpora give the same weights, byte for byte, on every machine.
//!
//! Folds are grouped: a source lies wholly in one fold, so every figure
//! says how the tagger does on a kind of text it has never seen. The
//! default leaves one source group out at a time (a group is a source,
//! with a locale's region dropped: `…/en_US` and `…/en_GB` share their
//! templates). Each fold's model is quantised exactly as the shipped one
//! and decoded by the engine's own decoder.
//!
//! Label normalisation (the corpora's conventions differ from the
//! engine's): a title at the start of a gold span ("Mr. Bennet", "Senator
//! Edward M. Kennedy") is moved outside it, since the engine reports the
//! name without its title; a span that is only a title is dropped. A
//! header-style "Last, First" span (the e-mail corpus) becomes its two
//! names, as the engine reports them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use promptsieve::name_tagger::{
    B, DOC_BONUS, I, Model, NEG, O, Prepared, SPAN_TITLES, Trained, prepare, viterbi,
};

use crate::out;

#[derive(Args)]
pub(crate) struct TrainNamesArgs {
    /// Span-labelled JSONL corpora (`text`, `spans` of `{start, end,
    /// label}` in code points, `source`); only `PERSON` spans are names.
    #[arg(required = true)]
    corpus: Vec<PathBuf>,
    /// Where to write the weights.
    #[arg(long, default_value = "rules/model/name-tagger.bin")]
    out: PathBuf,
    /// Cross-validation folds over source groups; 0 leaves one group out
    /// at a time.
    #[arg(long, default_value_t = 0)]
    folds: usize,
    /// What a fold keeps together: `source` (a source, with a locale's
    /// region dropped) or `lang` (a language: how the tagger does on a
    /// language it has never seen).
    #[arg(long, default_value = "source", value_parser = ["source", "lang"])]
    group: String,
    /// Hash buckets: 2^bits.
    #[arg(long, default_value_t = 18)]
    bits: u8,
    /// Passes over the training rows.
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    /// Non-zero buckets kept (largest weights), int8-quantised. 20,000
    /// cross-validate within 0.002 F1 of 30,000 (and 0.005 of 60,000) at
    /// 41 KB gzipped, inside the `.wasm` and its 1 MB budget.
    #[arg(long, default_value_t = 20_000)]
    keep: usize,
    /// Seed of the per-epoch shuffles.
    #[arg(long, default_value_t = 17)]
    seed: u64,
    /// Only the first N rows of each corpus (for quick runs and tests).
    #[arg(long)]
    limit: Option<usize>,
    /// The B/I score offset, in units of the median margin; by default the
    /// cross-validation picks it.
    #[arg(long, allow_hyphen_values = true)]
    offset: Option<f32>,
    /// The document bonus of the decoder's second pass, in units of the
    /// median margin (0: one pass); it is not in the weights file, so this
    /// only changes the cross-validation.
    #[arg(long, default_value_t = DOC_BONUS)]
    doc_bonus: f32,
    /// Dictionary spans scoring at least this that no tagged name
    /// overlaps are kept (above 1: none).
    #[arg(long, default_value_t = 1.0)]
    keep_dict: f32,
    /// Only cross-validate; do not write weights.
    #[arg(long)]
    cv_only: bool,
    /// Skip cross-validation; only train and write the weights.
    #[arg(long)]
    no_cv: bool,
    /// Print up to this many missed and false names per source.
    #[arg(long, default_value_t = 0)]
    examples: usize,
}

/// One corpus row, prepared.
struct Row {
    /// Which corpus file (index into the arguments).
    file: usize,
    source: String,
    group: usize,
    text: String,
    /// Gold PERSON spans, byte offsets, titles moved out.
    gold: Vec<(usize, usize)>,
    p: Prepared,
    /// Gold label of every window token, in the order of `p.guarded`.
    labels: Vec<u8>,
}

/// The group of a source: the source with a trailing locale's region
/// dropped (`…/en_GB` → `…/en`).
fn group_key(source: &str) -> String {
    if let Some((head, last)) = source.rsplit_once('/') {
        let b = last.as_bytes();
        if b.len() == 5 && b[2] == b'_' && b[..2].iter().all(u8::is_ascii_lowercase) {
            return format!("{head}/{}", &last[..2]);
        }
    }
    source.to_string()
}

/// `s..e` without leading titles (a title word, an optional dot, then
/// whitespace); `None` when nothing else is left.
fn trim_title(text: &str, mut s: usize, e: usize) -> Option<(usize, usize)> {
    loop {
        let rest = &text[s..e];
        let word_end = rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len());
        let word = rest[..word_end].to_lowercase();
        let mut after = word_end;
        if rest[after..].starts_with('.') {
            after += 1;
        }
        let ws = rest[after..].len() - rest[after..].trim_start().len();
        if word_end == 0 || !SPAN_TITLES.contains(&word.as_str()) || ws == 0 || after + ws >= rest.len() {
            break;
        }
        s += after + ws;
    }
    let rest = &text[s..e];
    let word = rest.trim_end_matches('.').to_lowercase();
    (!SPAN_TITLES.contains(&word.as_str()) && !rest.trim().is_empty()).then_some((s, e))
}

/// A header-style name "Last, First" as its two parts, which the engine
/// reports separately (a comma between names usually separates people).
fn split_inverted(text: &str, s: usize, e: usize) -> Vec<(usize, usize)> {
    let span = &text[s..e];
    if let Some(i) = span.find(", ") {
        let (l, r) = (&span[..i], &span[i + 2..]);
        let capital = |x: &str| x.chars().next().is_some_and(char::is_uppercase);
        if capital(l) && capital(r) && !r.contains(',') {
            return vec![(s, s + i), (s + i + 2, e)];
        }
    }
    vec![(s, e)]
}

fn load(a: &TrainNamesArgs) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for (file, path) in a.corpus.iter().enumerate() {
        let data = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let lines = data.lines().filter(|l| !l.trim().is_empty());
        for (n, line) in lines.take(a.limit.unwrap_or(usize::MAX)).enumerate() {
            let at = || format!("{}:{}", path.display(), n + 1);
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
            let text = v["text"].as_str().ok_or_else(|| format!("{}: no text", at()))?.to_string();
            let source = v["source"].as_str().unwrap_or("-").to_string();
            // Code points to bytes.
            let mut byte_of: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
            byte_of.push(text.len());
            let mut gold = Vec::new();
            for s in v["spans"].as_array().into_iter().flatten() {
                if s["label"].as_str() != Some("PERSON") {
                    continue;
                }
                let (Some(st), Some(en)) = (s["start"].as_u64(), s["end"].as_u64()) else {
                    return Err(format!("{}: span without start/end", at()));
                };
                let (st, en) = (st as usize, en as usize);
                if st >= en || en >= byte_of.len() {
                    return Err(format!("{}: span {st}..{en} outside the text", at()));
                }
                if let Some((s, e)) = trim_title(&text, byte_of[st], byte_of[en]) {
                    gold.extend(split_inverted(&text, s, e));
                }
            }
            gold.sort_unstable();
            let next = groups.len();
            let key = match a.group.as_str() {
                "source" => group_key(&source),
                // The PII dev set has no `lang`: its locale's language.
                _ => v["lang"].as_str().map(String::from).unwrap_or_else(|| {
                    let g = group_key(&source);
                    g.rsplit_once('/').map_or("en", |(_, l)| if l.len() == 2 { l } else { "en" }).to_string()
                }),
            };
            let group = *groups.entry(key).or_insert(next);
            let p = prepare(&text, a.bits);
            let labels = window_labels(&p, &gold);
            rows.push(Row { file, source, group, text, gold, p, labels });
        }
    }
    Ok(rows)
}

/// The gold label of every window token: a token overlapping a gold span
/// is in it, B for the span's first token, I for the others (and B for a
/// window's first token, since a window never starts inside a name).
fn window_labels(p: &Prepared, gold: &[(usize, usize)]) -> Vec<u8> {
    let mut labels = Vec::with_capacity(p.guarded.len());
    let mut k = 0;
    for &(a, b) in &p.windows {
        for t in a..b {
            let (s, e) = p.spans[k];
            let span = gold.iter().position(|&(gs, ge)| s < ge && gs < e);
            let label = match span {
                _ if p.guarded[k] => O,
                None => O,
                Some(g) => {
                    let (gs, ge) = gold[g];
                    let prev_in = t > a && {
                        let (ps, pe) = p.spans[k - 1];
                        ps < ge && gs < pe
                    };
                    if prev_in { I } else { B }
                }
            };
            labels.push(label);
            k += 1;
        }
    }
    labels
}

/// xorshift64*: the shuffles' only randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// An averaged perceptron's state: current weights and the sums that give
/// the average (`avg = w − u / c`, Daumé's trick), all integers.
struct Perceptron {
    w: Vec<[i32; 3]>,
    u: Vec<[i64; 3]>,
    start: [i32; 3],
    start_u: [i64; 3],
    trans: [[i32; 3]; 3],
    trans_u: [[i64; 3]; 3],
    c: i64,
}

impl Perceptron {
    fn new(bits: u8) -> Perceptron {
        let n = 1usize << bits;
        Perceptron {
            w: vec![[0; 3]; n],
            u: vec![[0; 3]; n],
            start: [0; 3],
            start_u: [0; 3],
            trans: [[0; 3]; 3],
            trans_u: [[0; 3]; 3],
            c: 1,
        }
    }

    /// One window: decode with the current weights, update where the
    /// labelling differs from the gold one.
    fn learn(&mut self, feats: &[&[u32]], gold: &[u8]) {
        let n = gold.len();
        let mut em = vec![[0i32; 3]; n];
        for (k, fs) in feats.iter().enumerate() {
            if fs.is_empty() {
                // A guarded token: O only.
                em[k] = [0, NEG, NEG];
                continue;
            }
            for &f in *fs {
                let w = &self.w[f as usize];
                for y in 0..3 {
                    em[k][y] = em[k][y].saturating_add(w[y]);
                }
            }
        }
        let pred = self.viterbi(&em);
        if pred == gold {
            self.c += 1;
            return;
        }
        let c = self.c;
        for k in 0..n {
            let (g, p) = (usize::from(gold[k]), usize::from(pred[k]));
            if g != p {
                for &f in feats[k] {
                    let (w, u) = (&mut self.w[f as usize], &mut self.u[f as usize]);
                    w[g] += 1;
                    w[p] -= 1;
                    u[g] += c;
                    u[p] -= c;
                }
            }
            let (gp, pp) = if k == 0 {
                (None, None)
            } else {
                (Some(usize::from(gold[k - 1])), Some(usize::from(pred[k - 1])))
            };
            if (gp, g) != (pp, p) {
                match gp {
                    None => {
                        self.start[g] += 1;
                        self.start_u[g] += c;
                    }
                    Some(x) => {
                        self.trans[x][g] += 1;
                        self.trans_u[x][g] += c;
                    }
                }
                match pp {
                    None => {
                        self.start[p] -= 1;
                        self.start_u[p] -= c;
                    }
                    Some(x) => {
                        self.trans[x][p] -= 1;
                        self.trans_u[x][p] -= c;
                    }
                }
            }
        }
        self.c += 1;
    }

    /// The best labelling of a window under the current weights, by the
    /// engine's own decoder, with an I never first or after an O.
    fn viterbi(&self, em: &[[i32; 3]]) -> Vec<u8> {
        let mut start = self.start;
        start[usize::from(I)] = NEG;
        let mut trans = self.trans;
        trans[usize::from(O)][usize::from(I)] = NEG;
        let (mut back, mut labels) = (Vec::new(), Vec::new());
        viterbi(&start, &trans, em, None, &mut back, &mut labels);
        labels
    }

    /// The averaged weights, relative to O.
    fn averaged(&self, bits: u8, keep_dict: f32) -> Trained {
        let c = self.c as f64;
        let avg = |w: i32, u: i64| (f64::from(w) - u as f64 / c) as f32;
        let weights = self
            .w
            .iter()
            .zip(&self.u)
            .map(|(w, u)| {
                let o = avg(w[0], u[0]);
                [avg(w[1], u[1]) - o, avg(w[2], u[2]) - o]
            })
            .collect();
        let mut start = [0f32; 3];
        let mut trans = [[0f32; 3]; 3];
        for (y, s) in start.iter_mut().enumerate() {
            *s = avg(self.start[y], self.start_u[y]);
        }
        for (x, row) in trans.iter_mut().enumerate() {
            for (y, t) in row.iter_mut().enumerate() {
                *t = avg(self.trans[x][y], self.trans_u[x][y]);
            }
        }
        Trained { bits, weights, start, trans, m0: 1.0, offset: 0.0, keep_dict }
    }
}

/// Trains on the rows `idx`; returns the quantised model and its file.
fn train(rows: &[Row], idx: &[usize], a: &TrainNamesArgs, offset: f32) -> Result<(Model, Vec<u8>), String> {
    // Instances: (row, first window token, window length, first token index).
    let mut inst: Vec<(usize, usize, usize)> = Vec::new();
    for &r in idx {
        let mut k0 = 0;
        for &(wa, wb) in &rows[r].p.windows {
            inst.push((r, k0, wb - wa));
            k0 += wb - wa;
        }
    }
    let mut pc = Perceptron::new(a.bits);
    let mut rng = Rng(a.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut feats: Vec<&[u32]> = Vec::new();
    for _ in 0..a.epochs {
        rng.shuffle(&mut inst);
        for &(r, k0, len) in &inst {
            let p = &rows[r].p;
            feats.clear();
            feats.extend((k0..k0 + len).map(|k| &p.feats[p.offs[k] as usize..p.offs[k + 1] as usize]));
            pc.learn(&feats, &rows[r].labels[k0..k0 + len]);
        }
    }
    let mut t = pc.averaged(a.bits, a.keep_dict);
    // m0: the median margin of the spans found on (a fixed sample of) the
    // training rows, by the quantised model itself, in one pass (the
    // document bonus is relative to m0).
    let probe = Model::from_bytes(&Model::to_bytes(&t, a.keep))?.with_doc_bonus(0.0);
    let mut margins: Vec<f32> =
        idx.iter().step_by(7).flat_map(|&r| probe.margins(&rows[r].p)).map(|(_, _, m)| m).collect();
    margins.sort_by(f32::total_cmp);
    if let Some(&median) = margins.get(margins.len() / 2) {
        t.m0 = median.max(1e-3);
    }
    // The offset is given in units of m0.
    t.offset = offset * t.m0;
    let bytes = Model::to_bytes(&t, a.keep);
    Ok((Model::from_bytes(&bytes)?, bytes))
}

#[derive(Default, Clone, Copy)]
struct Tally {
    gold: usize,
    pred: usize,
    exact: usize,
    /// Gold spans at least half covered by a prediction, and predictions
    /// that cover at least half of a gold span.
    overlap_gold: usize,
    overlap_pred: usize,
}

impl Tally {
    fn add(&mut self, gold: &[(usize, usize)], pred: &[(usize, usize)]) {
        let covers = |g: &(usize, usize), p: &(usize, usize)| {
            let o = g.1.min(p.1).saturating_sub(g.0.max(p.0));
            o > 0 && o * 2 >= g.1 - g.0
        };
        self.gold += gold.len();
        self.pred += pred.len();
        self.exact += gold.iter().filter(|g| pred.contains(g)).count();
        self.overlap_gold += gold.iter().filter(|g| pred.iter().any(|p| covers(g, p))).count();
        self.overlap_pred += pred.iter().filter(|p| gold.iter().any(|g| covers(g, p))).count();
    }

    fn merge(&mut self, o: &Tally) {
        self.gold += o.gold;
        self.pred += o.pred;
        self.exact += o.exact;
        self.overlap_gold += o.overlap_gold;
        self.overlap_pred += o.overlap_pred;
    }

    /// (P, R, F1) exact, then under overlap.
    fn prf(&self) -> [(f64, f64, f64); 2] {
        let f = |tp_p: usize, tp_g: usize| {
            let p = if self.pred == 0 { 1.0 } else { tp_p as f64 / self.pred as f64 };
            let r = if self.gold == 0 { 1.0 } else { tp_g as f64 / self.gold as f64 };
            (p, r, if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 })
        };
        [f(self.exact, self.exact), f(self.overlap_pred, self.overlap_gold)]
    }

    fn cells(&self) -> String {
        let [(p, r, f), (_, _, fo)] = self.prf();
        format!("{p:6.3} {r:6.3} {f:6.3} {fo:6.3}")
    }
}

pub(crate) fn run(a: TrainNamesArgs) -> Result<u8, String> {
    if a.folds == 1 {
        return Err("--folds must be 0 (leave one group out) or at least 2".into());
    }
    if !(12..=22).contains(&a.bits) {
        return Err("--bits must be in 12..=22".into());
    }
    let mut stdout = std::io::stdout().lock();
    let rows = load(&a)?;
    let n_groups = rows.iter().map(|r| r.group).max().map_or(0, |g| g + 1);
    let window_tokens: usize = rows.iter().map(|r| r.labels.len()).sum();
    let reachable: usize = rows.iter().map(|r| r.gold.iter().filter(|g| r.labels_cover(g)).count()).sum();
    let gold: usize = rows.iter().map(|r| r.gold.len()).sum();
    let names: Vec<String> = a.corpus.iter().map(|p| p.display().to_string()).collect();
    out!(
        stdout,
        "corpus {} — {} rows, {} PERSON spans ({} start on a window token), {} source groups, {} window tokens; 2^{} buckets, {} epochs, keep {}, seed {}",
        names.join(" + "),
        rows.len(),
        gold,
        reachable,
        n_groups,
        window_tokens,
        a.bits,
        a.epochs,
        a.keep,
        a.seed
    );
    let offset =
        if a.no_cv { a.offset.unwrap_or(0.0) } else { cross_validate(&mut stdout, &rows, n_groups, &a)? };
    if a.cv_only {
        return Ok(0);
    }
    let all: Vec<usize> = (0..rows.len()).collect();
    let (_, bytes) = train(&rows, &all, &a, offset)?;
    std::fs::write(&a.out, &bytes).map_err(|e| format!("{}: {e}", a.out.display()))?;
    out!(stdout, "wrote {} ({} bytes)", a.out.display(), bytes.len());
    Ok(0)
}

impl Row {
    /// Whether gold span `g` starts on a window token (the tagger can find it).
    fn labels_cover(&self, g: &(usize, usize)) -> bool {
        self.p.spans.iter().zip(&self.p.guarded).any(|(s, &guarded)| s.0 == g.0 && !guarded)
    }
}

/// The offsets (in units of the median margin m0) the cross-validation
/// tries.
const OFFSETS: &[f32] = &[-0.2, -0.1, 0.0, 0.1, 0.2, 0.3];

/// Grouped cross-validation: prints the out-of-fold figures per source at
/// the best offset of [`OFFSETS`] (the one with the highest mean of the
/// corpus files' pooled F1) and returns that offset.
fn cross_validate(
    w: &mut impl Write,
    rows: &[Row],
    n_groups: usize,
    a: &TrainNamesArgs,
) -> Result<f32, String> {
    let folds = if a.folds == 0 { n_groups } else { a.folds };
    if n_groups < folds {
        return Err(format!("{n_groups} source groups cannot fill {folds} folds"));
    }
    // Groups to folds: largest first to the lightest fold (ties: lowest).
    let mut size = vec![0usize; n_groups];
    for r in rows {
        size[r.group] += 1;
    }
    let mut order: Vec<usize> = (0..n_groups).collect();
    order.sort_by(|&x, &y| size[y].cmp(&size[x]).then(x.cmp(&y)));
    let mut load = vec![0usize; folds];
    let mut fold_of = vec![0usize; n_groups];
    for g in order {
        let k = (0..folds).min_by_key(|&k| (load[k], k)).unwrap_or(0);
        load[k] += size[g];
        fold_of[g] = k;
    }
    let offsets: Vec<f32> = match a.offset {
        Some(x) => vec![x],
        None => OFFSETS.to_vec(),
    };
    // pred[o][row]: out-of-fold spans at offset o.
    let mut pred: Vec<Vec<Vec<(usize, usize)>>> = vec![vec![Vec::new(); rows.len()]; offsets.len()];
    for k in 0..folds {
        let train_idx: Vec<usize> = (0..rows.len()).filter(|&i| fold_of[rows[i].group] != k).collect();
        let (model, _) = train(rows, &train_idx, a, 0.0)?;
        for (o, &x) in offsets.iter().enumerate() {
            let m = model.with_offset(x * model.m0()).with_doc_bonus(a.doc_bonus);
            for i in (0..rows.len()).filter(|&i| fold_of[rows[i].group] == k) {
                pred[o][i] = m.decode(&rows[i].p).into_iter().map(|(s, e, _)| (s, e)).collect();
            }
        }
    }
    let files = a.corpus.len();
    let pooled = |o: usize| {
        let mut t = vec![Tally::default(); files];
        for (i, r) in rows.iter().enumerate() {
            t[r.file].add(&r.gold, &pred[o][i]);
        }
        t
    };
    out!(w, "\noffset sweep (units of the median margin): pooled exact F1 per corpus file");
    let mut best = (f64::MIN, 0usize);
    for (o, &x) in offsets.iter().enumerate() {
        let t = pooled(o);
        let f1: Vec<f64> = t.iter().map(|t| t.prf()[0].2).collect();
        let mean = f1.iter().sum::<f64>() / f1.len().max(1) as f64;
        out!(
            w,
            "  offset {x:+.2}: {}  mean {mean:.3}",
            f1.iter().map(|f| format!("{f:.3}")).collect::<Vec<_>>().join(" ")
        );
        if mean > best.0 {
            best = (mean, o);
        }
    }
    let o = best.1;
    let pred = &pred[o];
    let mut by_src: BTreeMap<&str, (Tally, Tally)> = BTreeMap::new();
    let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let dict: Vec<(usize, usize)> = r.p.dict.iter().map(|&(s, e, _)| (s, e)).collect();
        let t = by_src.entry(r.source.as_str()).or_default();
        t.0.add(&r.gold, &pred[i]);
        t.1.add(&r.gold, &dict);
        let n = shown.entry(r.source.as_str()).or_default();
        if *n < a.examples && pred[i] != r.gold {
            *n += 1;
            let show = |v: &[(usize, usize)]| v.iter().map(|&(s, e)| &r.text[s..e]).collect::<Vec<_>>();
            let missed: Vec<(usize, usize)> =
                r.gold.iter().filter(|g| !pred[i].contains(g)).copied().collect();
            let false_: Vec<(usize, usize)> =
                pred[i].iter().filter(|p| !r.gold.contains(p)).copied().collect();
            out!(
                w,
                "  [{}] missed {:?} false {:?} in {:?}",
                r.source,
                show(&missed),
                show(&false_),
                r.text.chars().take(300).collect::<String>()
            );
        }
    }
    out!(
        w,
        "\n{} folds grouped by {} (a group lies wholly in one fold), offset {:+.2}; out-of-fold PERSON spans, exact match (P R F1) and F1 at >= 50 % overlap, the tagger beside the dictionary detector:",
        folds,
        a.group,
        offsets[o]
    );
    out!(
        w,
        "  {:<48} {:>6}   {:>6} {:>6} {:>6} {:>6}   {:>6} {:>6} {:>6} {:>6}",
        "source",
        "gold",
        "P",
        "R",
        "F1",
        "F1ovl",
        "dictP",
        "dictR",
        "dictF1",
        "F1ovl"
    );
    let mut per_file = vec![(Tally::default(), Tally::default()); files];
    let file_of: BTreeMap<&str, usize> = rows.iter().map(|r| (r.source.as_str(), r.file)).collect();
    for (src, (t, d)) in &by_src {
        out!(w, "  {:<48} {:>6}   {}   {}", src, t.gold, t.cells(), d.cells());
        let f = &mut per_file[file_of[src]];
        f.0.merge(t);
        f.1.merge(d);
    }
    for (path, (t, d)) in a.corpus.iter().zip(&per_file) {
        let name = format!("pooled: {}", path.display());
        out!(w, "  {:<48} {:>6}   {}   {}", name, t.gold, t.cells(), d.cells());
    }
    // Where the misses are: exact recall of one-word names and of longer
    // ones, and of names in ALL-CAPS, per corpus file.
    out!(w, "\n  exact recall by kind of name (tagger / dictionaries):");
    for (f, path) in a.corpus.iter().enumerate() {
        let mut kinds = [(0usize, 0usize, 0usize); 3];
        for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.file == f) {
            for g in &r.gold {
                let text = &r.text[g.0..g.1];
                let k = if text.chars().any(char::is_lowercase) {
                    usize::from(text.contains(char::is_whitespace))
                } else {
                    2
                };
                kinds[k].0 += 1;
                kinds[k].1 += usize::from(pred[i].contains(g));
                kinds[k].2 += usize::from(r.p.dict.iter().any(|&(s, e, _)| (s, e) == *g));
            }
        }
        let cell = |(n, t, d): (usize, usize, usize)| {
            format!("{n:>6} {:.3} / {:.3}", t as f64 / n.max(1) as f64, d as f64 / n.max(1) as f64)
        };
        out!(
            w,
            "    {}: one word {}   several words {}   ALL-CAPS {}",
            path.display(),
            cell(kinds[0]),
            cell(kinds[1]),
            cell(kinds[2])
        );
    }
    Ok(offsets[o])
}
