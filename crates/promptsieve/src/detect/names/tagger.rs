//! The learned person-name tagger: a linear sequence model over the
//! dictionary detector's own tokens, decoded with Viterbi.
//!
//! Why a tagger beside the dictionaries: on real text the dictionary rules
//! miss names that are in no list (foreign names, lone surnames after
//! "said"), names in ALL-CAPS headlines and single given names after a
//! trigger, and they tag places and companies that happen to be surnames.
//! A model trained on hand-labelled real text learns which contexts make a
//! capitalised word a person, and the dictionaries become its features
//! rather than the decision.
//!
//! How it runs (one scan):
//! 1. The dictionary detector tokenises the ORIGINAL text (case matters)
//!    and reports its own spans ([`Names::with_scan`]); nothing is
//!    tokenised twice.
//! 2. Candidate tokens are those that could start or continue a name: a
//!    capitalised or ALL-CAPS word, an initial with its dot, a token
//!    inside a dictionary span, or a lower-case dictionary name after a
//!    context that allows one ("my name is dan"). Each candidate
//!    and its neighbours (one token either side) form a window; windows
//!    that touch are merged. Tokens outside every window are not names, so
//!    lower-case prose costs one dictionary probe per token and nothing
//!    more.
//! 3. Every token of a window gets hashed features (see [`Kind`]): its
//!    word, shape, prefixes and suffixes, capitalisation class with its
//!    sentence position and whether its line is ALL-CAPS, its dictionary
//!    tiers, whether the dictionary detector put it in a span, the
//!    dictionary detector's left-context strength (titles, "my name is",
//!    greetings, form labels, closings), the lexicon classes of its
//!    neighbours (titles, speech verbs, street and organisation words),
//!    its neighbours' words and the punctuation between, its place in a
//!    run of capitalised words, and what the rest of the text says of its
//!    word (it ends a "First Last" run elsewhere, or appears in lower
//!    case).
//! 4. Each window is decoded with Viterbi over the labels O, B, I (an I
//!    never follows an O), with integer emission sums of int8 weights and
//!    learned transition weights, so every platform gets the same bits.
//! 5. Hard guard: a token inside an e-mail address, URL, handle, hashtag,
//!    MAC or IP address or code identifier (see [`guarded`]) is never part
//!    of a name, whatever the weights say.
//!
//! A span's score is its margin: the best labelling's score less the best
//! labelling that leaves the span's tokens outside any name, mapped to
//! 0.5..1 by `0.5 + 0.5 · m / (m + m0)` (`m0`, in the weights file, is the
//! median margin of the training spans). It orders findings by confidence;
//! it is not a calibrated probability.
//!
//! The weights are data (`rules/model/name-tagger.bin`), rebuilt by
//! `promptsieve train-names` (averaged perceptron; see
//! `rules/model/README.md`), and the training command computes its
//! features with this same code ([`prepare`]).

use std::sync::LazyLock;

use super::{
    CLOSINGS, FIELD_LABELS, GREETINGS, LOC_BEFORE, Map, Names, ORG_AFTER, ORG_BEFORE, PARTICLES,
    SPEECH_AFTER, STREET, STRONG_PHRASES, Scan, TITLES, WEAK_AFTER, WEAK_BEFORE, py_strip,
};
use crate::util::reader::{Reader, push_leb128};

/// Magic bytes of the weights file.
const MAGIC: &[u8; 8] = b"PSNAMES1";

/// The version of the feature set below. A weights file records the
/// version it was trained with, and another is refused rather than
/// misread: change it whenever a feature changes.
pub const FEATURES: u16 = 2;

/// Labels: outside, first token of a name, later token of a name.
pub const O: u8 = 0;
/// See [`O`].
pub const B: u8 = 1;
/// See [`O`].
pub const I: u8 = 2;

/// Words that are a title when they start a name ("Herr van der Berg",
/// "Senator Edward M. Kennedy"), lower case, without a final dot: the
/// engine reports the name without them, whatever the weights say, and
/// the training command moves them out of gold spans (some corpora keep
/// "Mr. Bennet" whole).
#[rustfmt::skip]
pub const SPAN_TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "dame", "lady", "lord",
    "mister", "doctor", "professor", "herr", "frau", "fräulein", "mme", "mlle", "monsieur",
    "madame", "mademoiselle", "sr", "sra", "srta", "señor", "señora", "señorita", "dott",
    "dottor", "dottore", "dottoressa", "senhor", "senhora", "dra", "dhr", "mevr", "meneer",
    "mevrouw", "drs", "capt", "captain", "col", "colonel", "gen", "general", "lt", "lieutenant",
    "sgt", "sergeant", "rev", "reverend", "fr", "father", "st", "saint", "king", "queen",
    "prince", "princess", "president", "senator", "sen", "judge", "justice", "gov", "governor",
    "mayor", "minister", "pope", "bishop", "archbishop", "cardinal", "uncle", "aunt",
];

/// [`SPAN_TITLES`] by their word hashes ([`Info::word`]), sorted.
static TITLE_WORDS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut v: Vec<u64> = SPAN_TITLES.iter().map(|w| word_hash(w)).collect();
    v.sort_unstable();
    v
});

/// A score no labelling reaches: forbidden labels and transitions.
pub const NEG: i32 = i32::MIN / 4;

/// The feature kinds, each hashed with its value into one bucket.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    Bias = 1,
    Word,
    Shape,
    Prefix2,
    Prefix3,
    Suffix2,
    Suffix3,
    Suffix4,
    CapDict,
    CapPosition,
    DictSpan,
    Context,
    Lexicon,
    GapBefore,
    GapAfter,
    Prev,
    Next,
    PrevLexicon,
    NextLexicon,
    PrevCap,
    NextCap,
    Document,
    Run,
    Gazetteer,
}

/// Capitalisation classes.
const LOWER: u8 = 0;
const TITLE_CASE: u8 = 1;
const ALL_CAPS: u8 = 2;
const INITIAL: u8 = 3;
/// No cased letter (CJK, Arabic, …).
const UNCASED: u8 = 4;
/// Lower-case first, an upper-case letter after a hyphen or apostrophe
/// ("al-Zawahiri", "d'Artagnan").
const LOWER_MIXED: u8 = 6;
/// Outside the text (neighbours of the first and last tokens).
const EDGE: u8 = 5;

/// Lexicon classes (bits) of a lower-cased word: the dictionary detector's
/// context lists, so the tagger reads the same evidence.
const LEX_TITLE: u16 = 1;
const LEX_GREETING: u16 = 1 << 1;
const LEX_CLOSING: u16 = 1 << 2;
const LEX_FIELD: u16 = 1 << 3;
const LEX_WEAK_BEFORE: u16 = 1 << 4;
const LEX_WEAK_AFTER: u16 = 1 << 5;
const LEX_SPEECH: u16 = 1 << 6;
const LEX_ORG_AFTER: u16 = 1 << 7;
const LEX_STREET: u16 = 1 << 8;
const LEX_ORG_BEFORE: u16 = 1 << 9;
const LEX_LOC_BEFORE: u16 = 1 << 10;
const LEX_PARTICLE: u16 = 1 << 11;
const LEX_TRIGGER_END: u16 = 1 << 12;

static LEXICON: LazyLock<Map<&'static str, u16>> = LazyLock::new(|| {
    let mut m: Map<&'static str, u16> = Map::default();
    let mut add = |words: &[&'static str], bit: u16| {
        for w in words {
            *m.entry(w).or_default() |= bit;
        }
    };
    add(TITLES, LEX_TITLE);
    add(GREETINGS, LEX_GREETING);
    add(CLOSINGS, LEX_CLOSING);
    add(FIELD_LABELS, LEX_FIELD);
    add(WEAK_BEFORE, LEX_WEAK_BEFORE);
    add(WEAK_AFTER, LEX_WEAK_AFTER);
    add(SPEECH_AFTER, LEX_SPEECH);
    add(ORG_AFTER, LEX_ORG_AFTER);
    add(STREET, LEX_STREET);
    add(ORG_BEFORE, LEX_ORG_BEFORE);
    add(LOC_BEFORE, LEX_LOC_BEFORE);
    add(PARTICLES, LEX_PARTICLE);
    let ends: Vec<&'static str> = STRONG_PHRASES.iter().filter_map(|p| p.split(' ').next_back()).collect();
    add(&ends, LEX_TRIGGER_END);
    m
});

/// What the tagger sees of one text: the windows it decodes and the
/// hashed features of the windows' tokens. Training and scanning both
/// start here, so they see the same features.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    /// The windows: token ranges `a..b` of the dictionary detector's
    /// tokens, ascending and disjoint.
    pub windows: Vec<(usize, usize)>,
    /// Per token of the windows, in order: its byte span (an initial's
    /// includes its dot).
    pub spans: Vec<(usize, usize)>,
    /// Per token of the windows, in order: the hard guard forbids a name.
    pub guarded: Vec<bool>,
    /// Per token of the windows, in order: a [`SPAN_TITLES`] word.
    pub title: Vec<bool>,
    /// Per token of the windows, in order: its word's hash when it is
    /// capitalised or ALL-CAPS (not a title, not guarded), else 0; the
    /// document bonus (see [`Model::decode`]) matches words by it.
    pub words: Vec<u64>,
    /// Features (buckets) of the windows' tokens, in order: the `k`-th
    /// token's are `feats[offs[k]..offs[k + 1]]`.
    pub feats: Vec<u32>,
    /// See `feats`.
    pub offs: Vec<u32>,
    /// The dictionary detector's spans.
    pub dict: Vec<(usize, usize, f64)>,
}

impl Prepared {
    fn clear(&mut self) {
        self.windows.clear();
        self.spans.clear();
        self.guarded.clear();
        self.title.clear();
        self.words.clear();
        self.feats.clear();
        self.offs.clear();
        self.dict.clear();
    }
}

/// [`prepare_with`] with the default dictionaries (for training).
pub fn prepare(text: &str, bits: u8) -> Prepared {
    static NAMES: LazyLock<Names> = LazyLock::new(super::default_names);
    let mut p = Prepared::default();
    prepare_with(&NAMES, text, bits, &mut p, &mut Buffers::default());
    p
}

/// The windows and features of `text` into `p` (see [`Prepared`]),
/// features hashed into `2^bits` buckets; `b` lends its allocations.
fn prepare_with(names: &Names, text: &str, bits: u8, p: &mut Prepared, b: &mut Buffers) {
    p.clear();
    names.with_scan(text, |t, sc, dict| {
        p.dict.extend_from_slice(dict);
        Features::new(t, sc, dict, b).prepare(bits, p);
    });
}

/// Allocations one scan reuses for the next (per thread).
#[derive(Default)]
struct Buffers {
    info: Vec<Info>,
    caps_line: Vec<bool>,
    sets: [Vec<u64>; 5],
    hashes: Vec<u64>,
    em: Vec<[i32; 3]>,
    back: Vec<[u8; 3]>,
    labels: Vec<u8>,
    alt: Vec<u8>,
    fwd: Vec<[i32; 3]>,
    bwd: Vec<[i32; 3]>,
    /// The first pass's labels of every window token, in order.
    first: Vec<u8>,
    /// Per window: where its spans start in the first pass's output.
    starts: Vec<usize>,
    /// Words the first pass tagged as (part of) a name.
    tagged: Vec<u64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<(Prepared, Buffers)> = std::cell::RefCell::default();
}

/// Per-token facts the features combine.
#[derive(Clone, Copy, Default)]
struct Info {
    cap: u8,
    /// Never, first, last, word: the dictionary tiers as bits.
    dict: u8,
    lex: u16,
    word: u64,
    shape: u64,
    /// 0 outside a dictionary span, 1 its first token, 2 a later one; +4
    /// when the span scored 0.8 or more.
    tag: u8,
    /// [`guarded`]: 0 not yet known, 1 no, 2 yes.
    guard: u8,
    /// Its place in a run of capitalised words (see [`Features::runs`]):
    /// 0 none, 1 first, 2 inner, 3 last; +4 for runs of three or more.
    run: u8,
    /// What the rest of the text says of its word (see [`Features::document`]).
    doc: u8,
    /// Its place in a gazetteer entry (see [`Features::gazetteer`]).
    gaz: u8,
}

/// [`Info::doc`] bits: elsewhere in the text the word starts a run of
/// capitalised words, ends one, or is written in lower case.
const DOC_RUN_FIRST: u8 = 1;
const DOC_RUN_LAST: u8 = 2;
const DOC_LOWER: u8 = 4;
const DOC_MID: u8 = 8;

struct Features<'s, 'a> {
    t: &'s str,
    sc: &'s Scan<'a>,
    info: &'s mut Vec<Info>,
    /// Per token: its line is mostly ALL-CAPS words.
    caps_line: &'s mut Vec<bool>,
    sets: &'s mut [Vec<u64>; 5],
    hashes: &'s mut Vec<u64>,
}

impl<'s, 'a> Features<'s, 'a> {
    fn new(
        t: &'s str,
        sc: &'s Scan<'a>,
        dict: &[(usize, usize, f64)],
        b: &'s mut Buffers,
    ) -> Features<'s, 'a> {
        let toks = &sc.toks;
        let info = &mut b.info;
        info.clear();
        info.extend(toks.iter().map(|k| Info {
            cap: cap_class(&t[k.s..k.e], k.isup, k.nchars),
            dict: u8::from(k.never) | u8::from(k.first) << 1 | u8::from(k.last) << 2 | u8::from(k.word) << 3,
            guard: 0,
            lex: 0,
            word: 0,
            shape: 0,
            tag: 0,
            run: 0,
            doc: 0,
            gaz: 0,
        }));
        // Dictionary spans onto tokens: both are sorted.
        let mut at = 0usize;
        for &(s, e, score) in dict {
            while at < toks.len() && toks[at].s < s {
                at += 1;
            }
            let hi = if score >= 0.8 - 1e-9 { 4 } else { 0 };
            let mut j = at;
            while j < toks.len() && toks[j].e <= e {
                info[j].tag = if j == at { 1 } else { 2 } | hi;
                j += 1;
            }
        }
        // A line is ALL-CAPS when most of its cased words (initials aside)
        // are, and at least two are.
        let caps_line = &mut b.caps_line;
        caps_line.clear();
        caps_line.resize(toks.len(), false);
        let mut from = 0usize;
        for i in 0..=toks.len() {
            if i == toks.len() || (i > 0 && sc.gap(i).contains('\n')) {
                let cased =
                    (from..i).filter(|&j| matches!(info[j].cap, LOWER | TITLE_CASE | ALL_CAPS)).count();
                let caps = (from..i).filter(|&j| info[j].cap == ALL_CAPS).count();
                if caps >= 2 && caps * 2 > cased {
                    caps_line[from..i].fill(true);
                }
                from = i;
            }
        }
        Features { t, sc, info, caps_line, sets: &mut b.sets, hashes: &mut b.hashes }
    }

    /// The dictionary detector's left context of token `i`
    /// ([`Scan::context_before`]), skipped when the token before is in none
    /// of the lists that context reads (and no colon or question mark
    /// precedes it): most tokens. `prev` is the previous token's
    /// lexicon classes when known.
    fn context(&self, i: usize, prev: Option<u16>) -> super::Ctx {
        const READ: u16 =
            LEX_TITLE | LEX_FIELD | LEX_TRIGGER_END | LEX_GREETING | LEX_CLOSING | LEX_WEAK_BEFORE;
        if i == 0 {
            return super::NO_CTX;
        }
        let lex = prev.unwrap_or_else(|| LEXICON.get(self.sc.low(i - 1)).copied().unwrap_or(0));
        if lex & READ == 0 && !self.sc.gap(i).contains([':', '?']) {
            return super::NO_CTX;
        }
        self.sc.context_before(i)
    }

    /// [`guarded`] for token `i`, computed once.
    fn guarded(&mut self, i: usize) -> bool {
        let inf = &mut self.info[i];
        if inf.guard == 0 {
            let k = &self.sc.toks[i];
            inf.guard = 1 + u8::from(guarded(self.t, k.s, k.e));
        }
        inf.guard == 2
    }

    /// Whether token `i` may start or continue a name (see the module docs).
    /// A lower-case word needs more than a dictionary entry ("ping", "will"
    /// and "long" are surnames too): a dictionary span, or a left context
    /// that announces a name ("my name is dan").
    fn candidate(&self, i: usize) -> bool {
        let k = &self.sc.toks[i];
        let inf = &self.info[i];
        matches!(inf.cap, TITLE_CASE | ALL_CAPS | LOWER_MIXED)
            || (inf.cap == INITIAL && k.dot)
            || inf.tag != 0
            || (k.name && inf.cap != LOWER)
            || (k.name && self.context(i, None).allow_lower)
    }

    fn prepare(mut self, bits: u8, p: &mut Prepared) {
        let n = self.sc.toks.len();
        for i in 0..n {
            if !self.candidate(i) || self.guarded(i) {
                continue;
            }
            let (a, b) = (i.saturating_sub(1), (i + 2).min(n));
            match p.windows.last_mut() {
                Some(w) if w.1 >= a => w.1 = b,
                _ => p.windows.push((a, b)),
            }
        }
        if p.windows.is_empty() {
            return;
        }
        let toks = &self.sc.toks;
        // The words, shapes and lexicon classes of the windows' tokens and
        // their neighbours.
        for &(a, b) in &p.windows {
            for (j, tok) in toks.iter().enumerate().take((b + 1).min(n)).skip(a.saturating_sub(1)) {
                if self.info[j].word != 0 {
                    continue;
                }
                let low = self.sc.low(j);
                let inf = &mut self.info[j];
                inf.word = word_hash(low);
                inf.shape = shape(&self.t[tok.s..tok.e]);
                inf.lex = LEXICON.get(low).copied().unwrap_or(0);
            }
        }
        self.runs(&p.windows);
        self.document(&p.windows);
        self.gazetteer(&p.windows);
        p.offs.push(0);
        let mut out = std::mem::take(self.hashes);
        for w in 0..p.windows.len() {
            let (a, b) = p.windows[w];
            for (i, tok) in toks.iter().enumerate().take(b).skip(a) {
                let dot = tok.nchars == 1 && tok.isup && tok.dot;
                p.spans.push((tok.s, tok.e + usize::from(dot)));
                let g = self.guarded(i);
                p.guarded.push(g);
                let inf = &self.info[i];
                let title = inf.cap != LOWER && TITLE_WORDS.binary_search(&inf.word).is_ok();
                p.title.push(title);
                let capital = matches!(inf.cap, TITLE_CASE | ALL_CAPS) && !title && !g;
                p.words.push(if capital { inf.word } else { 0 });
                out.clear();
                if !g {
                    self.features(i, &mut out);
                }
                p.feats.extend(out.iter().map(|&h| bucket(h, bits)));
                p.offs.push(p.feats.len() as u32);
            }
        }
        *self.hashes = out;
    }

    /// Marks runs of two or more capitalised words (title case, or ALL-CAPS
    /// off an ALL-CAPS line) separated by single spaces inside the windows
    /// ("Kori Schulman", "United States"). They only lie inside windows,
    /// since each of their words is a candidate.
    fn runs(&mut self, windows: &[(usize, usize)]) {
        let sc = self.sc;
        let capital = |f: &Self, j: usize| {
            f.info[j].cap == TITLE_CASE || (f.info[j].cap == ALL_CAPS && !f.caps_line[j])
        };
        for &(a, b) in windows {
            let mut i = a;
            while i < b {
                if !capital(self, i) {
                    i += 1;
                    continue;
                }
                let mut j = i + 1;
                while j < b && capital(self, j) && sc.gap(j) == " " {
                    j += 1;
                }
                if j - i >= 2 {
                    let long = if j - i >= 3 { 4 } else { 0 };
                    for k in i..j {
                        self.info[k].run = long
                            | if k == i {
                                1
                            } else if k + 1 == j {
                                3
                            } else {
                                2
                            };
                    }
                }
                i = j;
            }
        }
    }

    /// What the rest of the text says of each window word: whether it
    /// starts or ends a run of capitalised words elsewhere (a surname seen
    /// after its given name is still a surname alone: "Kori Schulman …
    /// Schulman said"), and whether it appears in lower case (a common word
    /// capitalised at a sentence start).
    fn document(&mut self, windows: &[(usize, usize)]) {
        let [firsts, lasts, capitals, lower, mids] = &mut *self.sets;
        for v in [&mut *firsts, &mut *lasts, &mut *capitals, &mut *lower, &mut *mids] {
            v.clear();
        }
        // Which (length, first byte) pairs the capitalised words have: most
        // lower-case words of the text are ruled out without a hash.
        let key =
            |low: &str| 1u64 << (((low.len() as u64).wrapping_mul(31) + u64::from(low.as_bytes()[0])) % 64);
        let mut seen = 0u64;
        for &(a, b) in windows {
            for k in a..b {
                let inf = &self.info[k];
                let tok = &self.sc.toks[k];
                // A run that starts a sentence may start with a common word.
                if inf.run & 3 == 1 && (!tok.sent_start || tok.first) {
                    firsts.push(inf.word);
                }
                if inf.run & 3 == 3 {
                    lasts.push(inf.word);
                }
                if inf.cap == TITLE_CASE && !tok.sent_start {
                    mids.push(inf.word);
                }
                if inf.cap != LOWER {
                    capitals.push(inf.word);
                    seen |= key(self.sc.low(k));
                }
            }
        }
        for v in [&mut *firsts, &mut *lasts, &mut *capitals, &mut *mids] {
            v.sort_unstable();
            v.dedup();
        }
        // Lower-case words of the whole text whose capitalised form is in a
        // window.
        if !capitals.is_empty() {
            for j in 0..self.sc.toks.len() {
                if self.info[j].cap != LOWER || seen & key(self.sc.low(j)) == 0 {
                    continue;
                }
                let h = Self::word(self.info, self.sc, j);
                if capitals.binary_search(&h).is_ok() {
                    lower.push(h);
                }
            }
            lower.sort_unstable();
            lower.dedup();
        }
        for &(a, b) in windows {
            for k in a..b {
                let inf = &mut self.info[k];
                let w = inf.word;
                let mut doc = 0;
                if firsts.binary_search(&w).is_ok() {
                    doc |= DOC_RUN_FIRST;
                }
                if lasts.binary_search(&w).is_ok() {
                    doc |= DOC_RUN_LAST;
                }
                if inf.cap != LOWER && lower.binary_search(&w).is_ok() {
                    doc |= DOC_LOWER;
                }
                // A sentence's first word written capitalised mid-sentence
                // elsewhere: a name, not a capitalised common word (unless
                // it is a never-name: "May I … for May 5th").
                let tok = &self.sc.toks[k];
                if tok.sent_start && !tok.never && mids.binary_search(&w).is_ok() {
                    doc |= DOC_MID;
                }
                inf.doc = doc;
            }
        }
    }

    /// Marks the windows' tokens that lie in an entry of the place and
    /// organisation gazetteers (`rules/dict/places.txt`,
    /// `organisations.txt`): one to three words separated by single spaces
    /// ("Leeds", "Cisco", "Rio de Janeiro", "Leeds United"). The longest
    /// entry through a token counts; its kind (place, organisation) and the
    /// token's place in it are the feature. They say "not a person" only
    /// as strongly as the training text does: "Washington" is both.
    fn gazetteer(&mut self, windows: &[(usize, usize)]) {
        let sc = self.sc;
        let n = sc.toks.len();
        for &(a, b) in windows {
            for i in a..b {
                // Entries are proper nouns: a lower-case word is only ever
                // inside one ("Rio de Janeiro"), and marked as such by no
                // feature.
                if matches!(self.info[i].cap, LOWER | INITIAL) {
                    continue;
                }
                let mut best = 0u8;
                'len: for len in (1..=3usize).rev() {
                    for first in i.saturating_sub(len - 1)..=i {
                        let last = first + len - 1;
                        if last >= n || (first + 1..=last).any(|k| sc.gap(k) != " ") {
                            continue;
                        }
                        let h = (first + 1..=last).fold(Self::word(self.info, sc, first), |h, k| {
                            pair(h, Self::word(self.info, sc, k))
                        });
                        if let Some(&kind) = GAZETTEER.get(&h) {
                            let at = match (len, i - first) {
                                (1, _) => 0,
                                (_, 0) => 1,
                                (l, d) if d + 1 == l => 3,
                                _ => 2,
                            };
                            best = kind | (len as u8) << 2 | at << 4;
                            break 'len;
                        }
                    }
                }
                self.info[i].gaz = best;
            }
        }
    }

    /// The features of token `i`, as 64-bit hashes.
    fn features(&self, i: usize, out: &mut Vec<u64>) {
        let sc = self.sc;
        let n = sc.toks.len();
        let tok = &sc.toks[i];
        let me = self.info[i];
        let edge = Info { cap: EDGE, ..Info::default() };
        let at = |j: Option<usize>| j.filter(|&j| j < n).map_or(edge, |j| self.info[j]);
        let (p1, n1) = (at(i.checked_sub(1)), at(Some(i + 1)));
        let cap = u64::from(me.cap);
        let gap_before = self.gap_code(i);
        let gap_after = self.gap_code(i + 1);
        let mut f = |k: Kind, v: u64| out.push(mix(k as u64, v));
        f(Kind::Bias, 0);
        f(Kind::Word, me.word);
        f(Kind::Shape, me.shape);
        let low = sc.low(i);
        let chars = tok.nchars;
        for (kind, len) in [(Kind::Prefix2, 2), (Kind::Prefix3, 3)] {
            if chars > len {
                f(kind, fnv(prefix(low, len).as_bytes()));
            }
        }
        for (kind, len) in [(Kind::Suffix2, 2), (Kind::Suffix3, 3), (Kind::Suffix4, 4)] {
            if chars > len {
                f(kind, fnv(suffix(low, len).as_bytes()));
            }
        }
        f(Kind::CapDict, cap | u64::from(me.dict) << 3);
        f(
            Kind::CapPosition,
            cap | u64::from(tok.sent_start) << 3
                | u64::from(self.caps_line[i]) << 4
                | u64::from(me.tag != 0) << 5,
        );
        f(Kind::DictSpan, u64::from(me.tag) | cap << 3);
        let ctx = self.context(i, Some(p1.lex));
        f(Kind::Context, (ctx.strength * 20.0).round() as u64 | u64::from(ctx.allow_lower) << 5 | cap << 6);
        f(Kind::Lexicon, u64::from(me.lex) | cap << 13);
        f(Kind::GapBefore, gap_before | cap << 40);
        f(Kind::GapAfter, gap_after | cap << 40);
        f(Kind::Prev, p1.word ^ gap_before.wrapping_mul(K1));
        f(Kind::Next, n1.word ^ gap_after.wrapping_mul(K1));
        f(Kind::PrevLexicon, u64::from(p1.lex) | u64::from(p1.cap) << 13 | cap << 16);
        f(Kind::NextLexicon, u64::from(n1.lex) | u64::from(n1.cap) << 13 | cap << 16);
        f(Kind::PrevCap, u64::from(p1.cap) | u64::from(p1.dict) << 3 | cap << 7 | u64::from(me.dict) << 10);
        f(Kind::NextCap, u64::from(n1.cap) | u64::from(n1.dict) << 3 | cap << 7 | u64::from(me.dict) << 10);
        f(Kind::Document, u64::from(me.doc) | u64::from(me.run) << 4 | cap << 7);
        f(Kind::Gazetteer, u64::from(me.gaz) | cap << 7 | u64::from(tok.sent_start) << 10);
        f(Kind::Run, u64::from(me.run) | u64::from(me.dict) << 3 | u64::from(tok.sent_start) << 7);
    }

    /// Token `k`'s word hash: [`Info::word`] where the windows computed
    /// it, else computed here. (Takes the fields, not `self`, so that it
    /// can run while [`Features::sets`] is borrowed.)
    fn word(info: &[Info], sc: &Scan<'_>, k: usize) -> u64 {
        match info[k].word {
            0 => word_hash(sc.low(k)),
            w => w,
        }
    }

    /// The punctuation before token `i` (the gap after the last token for
    /// `i == n`, the text's start for 0), as a small code: its first three
    /// non-space characters, and whether it holds a line break.
    fn gap_code(&self, i: usize) -> u64 {
        let sc = self.sc;
        let n = sc.toks.len();
        let g: &str = if i == 0 {
            return 1;
        } else if i == n {
            &self.t[sc.toks[n - 1].e..]
        } else {
            sc.gap(i)
        };
        let nl = g.contains('\n');
        let s = py_strip(g);
        let mut h = 2u64;
        for c in s.chars().filter(|c| !c.is_whitespace()).take(3) {
            let c = if c.is_ascii_digit() { '0' } else { c };
            h = h.wrapping_mul(K1) ^ u64::from(c);
        }
        h << 1 | u64::from(nl)
    }
}

fn cap_class(w: &str, isup: bool, nchars: usize) -> u8 {
    let Some(c) = w.chars().next() else { return UNCASED };
    if isup && nchars == 1 {
        INITIAL
    } else if isup {
        ALL_CAPS
    } else if c.is_uppercase() {
        TITLE_CASE
    } else if c.is_lowercase() {
        let mut prev = c;
        for c in w.chars() {
            if c.is_uppercase() && matches!(prev, '-' | '\'' | '’') {
                return LOWER_MIXED;
            }
            prev = c;
        }
        LOWER
    } else {
        UNCASED
    }
}

/// The word's shape: upper-case letters `X`, lower-case `x`, other letters
/// `L`, digits `d`, hyphens and apostrophes as themselves, anything else
/// `o`; runs of one class collapsed ("McDonald" → "XxXx", "O'Brien" →
/// "X'Xx"), hashed.
fn shape(w: &str) -> u64 {
    let mut h = 0x5348_4150u64;
    let mut prev = '\0';
    for c in w.chars() {
        let k = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_alphabetic() {
            'L'
        } else if c.is_numeric() {
            'd'
        } else if matches!(c, '-' | '\'' | '’') {
            if c == '’' { '\'' } else { c }
        } else {
            'o'
        };
        if k != prev {
            h = h.wrapping_mul(K1) ^ u64::from(k);
            prev = k;
        }
    }
    h
}

fn prefix(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn suffix(s: &str, chars: usize) -> &str {
    match s.char_indices().rev().nth(chars - 1) {
        Some((i, _)) => &s[i..],
        None => s,
    }
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;

/// A lower-cased word's hash as [`Info::word`] holds it (never 0, which
/// marks "not computed").
fn word_hash(low: &str) -> u64 {
    fnv(low.as_bytes()) | 1
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3))
}

/// The hash of a word sequence from the hash `h` of its first words and
/// the hash `w` of the next ([`Info::word`] hashes).
fn pair(h: u64, w: u64) -> u64 {
    (h.rotate_left(23) ^ w).wrapping_mul(K1)
}

/// [`Info::gaz`] kinds.
const GAZ_PLACE: u8 = 1;
const GAZ_ORGANISATION: u8 = 2;

/// The gazetteers by the hash of their lower-case entries: the words'
/// hashes ([`Info::word`]) combined by [`pair`].
static GAZETTEER: LazyLock<Map<u64, u8>> = LazyLock::new(|| {
    let mut m: Map<u64, u8> = Map::default();
    for (text, kind) in [
        (include_str!("../../../../../rules/dict/places.txt"), GAZ_PLACE),
        (include_str!("../../../../../rules/dict/organisations.txt"), GAZ_ORGANISATION),
    ] {
        for entry in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let mut words = entry.split(' ').map(word_hash);
            let first = words.next().unwrap_or(0);
            *m.entry(words.fold(first, pair)).or_default() |= kind;
        }
    }
    m
});

/// A feature's hash from its kind and value.
fn mix(kind: u64, v: u64) -> u64 {
    let h = (v ^ kind.wrapping_mul(0xff51_afd7_ed55_8ccd)).wrapping_mul(K1);
    h ^ (h >> 29) ^ kind
}

/// A hash's bucket among `2^bits`: a multiply-shift (high bits).
fn bucket(h: u64, bits: u8) -> u32 {
    ((h ^ (h >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93) >> (64 - u32::from(bits))) as u32
}

// --- the hard guard ----------------------------------------------------------------------------

/// Longest stretch without whitespace looked at around a token: anything
/// longer is no prose, and is guarded whole.
const MAX_CHUNK: usize = 256;

/// Whether the token at `s..e` of `t` lies in something that is never a
/// person's name: an e-mail address or @handle (`@`), a URL (`://`,
/// `www.`), a #hashtag, a path or code (`_`, `\`, `=`, braces, angle
/// brackets, backticks, a `/` with a `.`, `name(`), a dotted identifier
/// (`example.com`, `os.path`: a letter, a dot and a lower-case letter or
/// digit), a colon-separated run of hex groups (IPv6, MAC), or a
/// lower-case-first camelCase word (`getName`, `iPhone`; not
/// `al-Zawahiri`). (Words glued to
/// digits and MAC groups never become tokens: see `in_identifier`.)
pub(crate) fn guarded(t: &str, s: usize, e: usize) -> bool {
    let b = t.as_bytes();
    let word = &t[s..e];
    if word.chars().next().is_some_and(char::is_lowercase) {
        let mut prev = ' ';
        for c in word.chars() {
            if c.is_uppercase() && prev.is_lowercase() {
                return true;
            }
            prev = c;
        }
    }
    let mut a = s;
    while a > 0 && !b[a - 1].is_ascii_whitespace() {
        if s - a >= MAX_CHUNK {
            return true;
        }
        a -= 1;
    }
    let mut z = e;
    while z < b.len() && !b[z].is_ascii_whitespace() {
        if z - e >= MAX_CHUNK {
            return true;
        }
        z += 1;
    }
    let chunk = &b[a..z];
    if chunk.len() == e - s {
        return false;
    }
    let has = |c: u8| chunk.contains(&c);
    if chunk.iter().any(|c| matches!(c, b'@' | b'#' | b'_' | b'\\' | b'=' | b'{' | b'}' | b'<' | b'>' | b'`'))
    {
        return true;
    }
    let lower_chunk = |p: &[u8]| chunk.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p));
    if lower_chunk(b"://") || lower_chunk(b"www.") {
        return true;
    }
    if has(b'/') && (has(b'.') || chunk.iter().filter(|&&c| c == b'/').count() > 1) {
        return true;
    }
    for w in chunk.windows(3) {
        // A letter, a dot and a lower-case letter or digit: a domain or a
        // dotted name (initials are "J.R.R.", upper case after the dot).
        if w[0].is_ascii_alphabetic() && w[1] == b'.' && (w[2].is_ascii_lowercase() || w[2].is_ascii_digit())
        {
            return true;
        }
        if w[0].is_ascii_alphabetic() && w[1] == b'(' {
            return true;
        }
    }
    let colons = chunk.iter().filter(|&&c| c == b':').count();
    if colons >= 2 {
        let body = chunk.strip_suffix(b".").or_else(|| chunk.strip_suffix(b",")).unwrap_or(chunk);
        if body.iter().all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.')) {
            return true;
        }
    }
    false
}

// --- the model ---------------------------------------------------------------------------------

/// A parsed tagger model: int8 weights for B and I (relative to O, whose
/// weights are zero: adding one number to all three labels of a token
/// changes no decision) per bucket, and integer transition weights.
#[derive(Clone)]
pub struct Model {
    bits: u8,
    /// Float units per integer unit.
    scale: f32,
    /// Median training margin, in float units (see the module docs).
    m0: f32,
    /// `start[y]`: label of a window's first token.
    start: [i32; 3],
    /// `trans[from][to]`.
    trans: [[i32; 3]; 3],
    /// Added to every token's B and I scores: the precision/recall trade,
    /// chosen by cross-validation.
    offset: i32,
    /// See [`Trained::keep_dict`].
    keep_dict: f32,
    /// Integer units added to the B and I scores of a capitalised word
    /// that the first pass tagged elsewhere in the text (see
    /// [`Model::decode`]); [`DOC_BONUS`] m0 by default.
    doc_bonus: i32,
    weights: Vec<[i8; 2]>,
}

/// The default document bonus, in units of the median margin m0: chosen
/// by the grouped cross-validation of `promptsieve train-names
/// --doc-bonus` (0.25 / 0.5 / 0.75 / 1.0; see `rules/model/README.md`).
/// It is not in the weights file: training and the m0 it measures see
/// none.
pub const DOC_BONUS: f32 = 0.5;

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("bits", &self.bits)
            .field("nonzero", &self.weights.iter().filter(|w| **w != [0, 0]).count())
            .finish_non_exhaustive()
    }
}

/// What training produces: float weights before quantisation.
#[derive(Clone, Debug)]
pub struct Trained {
    /// Hash buckets: `2^bits`.
    pub bits: u8,
    /// Per bucket, the weights of B and I less that of O.
    pub weights: Vec<[f32; 2]>,
    /// Start weights per label.
    pub start: [f32; 3],
    /// Transition weights `[from][to]`.
    pub trans: [[f32; 3]; 3],
    /// Median margin of the training spans (float units).
    pub m0: f32,
    /// Added to every token's B and I scores.
    pub offset: f32,
    /// Dictionary spans scoring at least this, which no tagged name
    /// overlaps, are kept (see [`Model::decode`]).
    pub keep_dict: f32,
}

impl Model {
    /// The same model with another [`Trained::offset`] (float units).
    pub fn with_offset(&self, offset: f32) -> Model {
        Model { offset: (offset / self.scale).round() as i32, ..self.clone() }
    }

    /// The same model with another document bonus, in units of m0 (0
    /// turns the second pass off; see [`Model::decode`]).
    pub fn with_doc_bonus(&self, bonus: f32) -> Model {
        Model { doc_bonus: (bonus * self.m0 / self.scale).round() as i32, ..self.clone() }
    }

    /// The hash buckets its features fall into: `2^bits`.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Parses a weights file: `PSNAMES1`, the feature-set version (u16
    /// LE), bits (u8), a zero byte, scale, m0 and keep_dict (f32 LE), the start and
    /// transition weights and the offset (3 + 9 + 1 i16 LE), the count of non-zero buckets
    /// (u32 LE), then per bucket the gap to the previous one (LEB128) and
    /// its two int8 weights.
    ///
    /// # Errors
    ///
    /// A message saying what is wrong: magic, version, truncation, a
    /// bucket out of range, trailing bytes.
    pub fn from_bytes(data: &[u8]) -> Result<Model, String> {
        let mut r = Reader::new(data);
        if r.take(8)? != MAGIC {
            return Err("not a promptsieve name-tagger file (bad magic)".into());
        }
        let head = r.take(4)?;
        let version = u16::from_le_bytes([head[0], head[1]]);
        if version != FEATURES {
            return Err(format!(
                "name-tagger features version {version}, this build reads {FEATURES} (retrain)"
            ));
        }
        let bits = head[2];
        if !(8..=24).contains(&bits) || head[3] != 0 {
            return Err(format!("bucket bits {bits} outside 8..=24"));
        }
        let (scale, m0, keep_dict) = (r.f32()?, r.f32()?, r.f32()?);
        if !(scale.is_finite() && scale > 0.0 && m0.is_finite() && m0 > 0.0 && keep_dict.is_finite()) {
            return Err("bad scale, m0 or keep_dict".into());
        }
        let mut i16s = [0i32; 13];
        for x in &mut i16s {
            let b = r.take(2)?;
            *x = i32::from(i16::from_le_bytes([b[0], b[1]]));
        }
        let start = [i16s[0], i16s[1], NEG];
        let mut trans = [[0i32; 3]; 3];
        for (k, t) in trans.iter_mut().flatten().enumerate() {
            *t = i16s[3 + k];
        }
        // I never follows O, nor starts a window.
        trans[usize::from(O)][usize::from(I)] = NEG;
        let offset = i16s[12];
        let n = r.u32()? as usize;
        let mut weights = vec![[0i8; 2]; 1 << bits];
        let mut at = 0usize;
        for i in 0..n {
            let gap = r.leb128()?;
            at = if i == 0 { gap } else { at.checked_add(gap).ok_or("bucket overflow")? };
            let w = r.take(2)?;
            *weights.get_mut(at).ok_or_else(|| format!("bucket {at} outside 2^{bits}"))? =
                [w[0] as i8, w[1] as i8];
        }
        if r.at != data.len() {
            return Err(format!("{} trailing bytes", data.len() - r.at));
        }
        let doc_bonus = (DOC_BONUS * m0 / scale).round() as i32;
        Ok(Model { bits, scale, m0, start, trans, offset, keep_dict, doc_bonus, weights })
    }

    /// Quantises trained weights to int8 (the scale maps the largest
    /// magnitude to 127), keeping the `keep` buckets of largest weight, and
    /// serialises them (see [`Model::from_bytes`]).
    pub fn to_bytes(t: &Trained, keep: usize) -> Vec<u8> {
        let max = t.weights.iter().flatten().fold(0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        let q = |w: f32| (w / scale).round().clamp(-127.0, 127.0) as i8;
        let strength = |i: usize| t.weights[i][0].abs().max(t.weights[i][1].abs());
        let mut order: Vec<usize> = (0..t.weights.len()).filter(|&i| t.weights[i] != [0.0, 0.0]).collect();
        // Strongest first; ties by bucket so the file is deterministic.
        order.sort_by(|&x, &y| strength(y).total_cmp(&strength(x)).then(x.cmp(&y)));
        order.truncate(keep);
        order.sort_unstable();
        let kept: Vec<(usize, [i8; 2])> = order
            .into_iter()
            .map(|i| (i, [q(t.weights[i][0]), q(t.weights[i][1])]))
            .filter(|&(_, w)| w != [0, 0])
            .collect();
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FEATURES.to_le_bytes());
        out.push(t.bits);
        out.push(0);
        out.extend_from_slice(&scale.to_le_bytes());
        out.extend_from_slice(&t.m0.max(f32::MIN_POSITIVE).to_le_bytes());
        out.extend_from_slice(&t.keep_dict.to_le_bytes());
        let q16 = |w: f32| ((w / scale).round().clamp(-32767.0, 32767.0) as i16).to_le_bytes();
        for w in t.start.iter().chain(t.trans.iter().flatten()) {
            out.extend_from_slice(&q16(*w));
        }
        out.extend_from_slice(&q16(t.offset));
        out.extend_from_slice(&(kept.len() as u32).to_le_bytes());
        let mut prev = 0usize;
        for (k, &(i, w)) in kept.iter().enumerate() {
            push_leb128(&mut out, if k == 0 { i } else { i - prev });
            prev = i;
            out.extend_from_slice(&[w[0] as u8, w[1] as u8]);
        }
        out
    }

    /// Person names in `text`: `(start, end, score)`, byte offsets, sorted
    /// and disjoint (see the module docs).
    pub(crate) fn find(&self, names: &Names, text: &str) -> Vec<(usize, usize, f64)> {
        if text.is_empty() {
            return Vec::new();
        }
        SCRATCH.with(|s| {
            let (p, b) = &mut *s.borrow_mut();
            prepare_with(names, text, self.bits, p, b);
            self.decode_with(p, b)
        })
    }

    /// The names the model finds in a prepared text (which must have been
    /// prepared with this model's [`bits`](Model::bits)): `(start, end,
    /// score)`, sorted and disjoint.
    ///
    /// Decoding takes two passes: the windows are decoded once, then the
    /// windows where a capitalised word that the first pass tagged
    /// somewhere was left outside a name are decoded again with
    /// [`DOC_BONUS`] m0 added to that word's B and I scores (a name's
    /// second mention: "Boris Ivanov … said Ivanov").
    ///
    /// The tagger decides, with one exception: a dictionary span at the
    /// dictionary detector's full confidence (`keep_dict`, 1.0: dictionary
    /// names after a title, "my name is" or a form label) that no tagged
    /// name overlaps is kept with its own score. Those contexts are rare in
    /// the real-text training data, above all with lower-case names ("my
    /// name is maria garcia"), and the dictionary's evidence there is
    /// explicit.
    pub fn decode(&self, p: &Prepared) -> Vec<(usize, usize, f64)> {
        self.decode_with(p, &mut Buffers::default())
    }

    fn decode_with(&self, p: &Prepared, b: &mut Buffers) -> Vec<(usize, usize, f64)> {
        let mut out: Vec<(usize, usize, f64)> = self
            .margins_with(p, b)
            .into_iter()
            .map(|(s, e, m)| {
                let score = 0.5 + 0.5 * f64::from(m / (m + self.m0));
                (s, e, (score * 100.0).round() / 100.0)
            })
            .collect();
        let tagged = out.len();
        // Both lists are sorted and the tagged names disjoint: one merge
        // finds the tagged name a dictionary span could overlap.
        let mut at = 0usize;
        for &(s, e, score) in &p.dict {
            while at < tagged && out[at].1 <= s {
                at += 1;
            }
            if score >= f64::from(self.keep_dict) - 1e-9 && !(at < tagged && out[at].0 < e) {
                out.push((s, e, score));
            }
        }
        if out.len() > tagged {
            crate::util::sort::sort_by_key(&mut out, |&(s, e, _)| (s, e));
        }
        out
    }

    /// [`Model::decode`]'s spans with their margins (float units) instead
    /// of scores.
    pub fn margins(&self, p: &Prepared) -> Vec<(usize, usize, f32)> {
        self.margins_with(p, &mut Buffers::default())
    }

    fn margins_with(&self, p: &Prepared, b: &mut Buffers) -> Vec<(usize, usize, f32)> {
        let mut out = Vec::new();
        let (mut first, mut starts, mut tagged) =
            (std::mem::take(&mut b.first), std::mem::take(&mut b.starts), std::mem::take(&mut b.tagged));
        first.clear();
        starts.clear();
        tagged.clear();
        let mut k0 = 0usize;
        for &(wa, wb) in &p.windows {
            starts.push(out.len());
            self.window(p, k0, wb - wa, &[], b, &mut out);
            first.extend_from_slice(&b.labels);
            k0 += wb - wa;
        }
        starts.push(out.len());
        // Second pass: a capitalised word tagged somewhere is likelier a
        // name where it recurs ("Boris Ivanov … said Ivanov", a headline's
        // "IVANOV"). Windows where such a word was left out are decoded
        // again with a bonus on its B and I scores.
        if self.doc_bonus > 0 {
            tagged.extend((0..first.len()).filter(|&k| first[k] != O && p.words[k] != 0).map(|k| p.words[k]));
            tagged.sort_unstable();
            tagged.dedup();
        }
        if !tagged.is_empty() {
            let pass1 = std::mem::take(&mut out);
            let mut k0 = 0usize;
            for (w, &(wa, wb)) in p.windows.iter().enumerate() {
                let len = wb - wa;
                let again = (k0..k0 + len)
                    .any(|k| first[k] == O && p.words[k] != 0 && tagged.binary_search(&p.words[k]).is_ok());
                if again {
                    self.window(p, k0, len, &tagged, b, &mut out);
                } else {
                    out.extend_from_slice(&pass1[starts[w]..starts[w + 1]]);
                }
                k0 += len;
            }
        }
        (b.first, b.starts, b.tagged) = (first, starts, tagged);
        out
    }

    /// Decodes the window of `len` tokens from token `k0` of `p`, its
    /// labels left in `b.labels`, and appends its names with their
    /// margins to `out`. Tokens whose word is in `bonus` (sorted) get
    /// [`Model::doc_bonus`] on B and I.
    fn window(
        &self,
        p: &Prepared,
        k0: usize,
        len: usize,
        bonus: &[u64],
        b: &mut Buffers,
        out: &mut Vec<(usize, usize, f32)>,
    ) {
        let em = &mut b.em;
        em.clear();
        for k in k0..k0 + len {
            if p.guarded[k] {
                em.push([0, NEG, NEG]);
                continue;
            }
            let mut e = [0, self.offset, self.offset];
            for &f in &p.feats[p.offs[k] as usize..p.offs[k + 1] as usize] {
                let w = self.weights.get(f as usize).copied().unwrap_or_default();
                e[1] += i32::from(w[0]);
                e[2] += i32::from(w[1]);
            }
            if p.words[k] != 0 && bonus.binary_search(&p.words[k]).is_ok() {
                e[1] += self.doc_bonus;
                e[2] += self.doc_bonus;
            }
            em.push(e);
        }
        let best = self.viterbi(em, None, &mut b.back, &mut b.labels);
        // Most windows hold no name, and one name is cheaper to hold out by
        // one more Viterbi run; from two names on, the two sweeps serve all.
        let names = b.labels.iter().filter(|&&y| y == B).count();
        if names == 0 {
            return;
        }
        if names > 1 {
            backward(&self.trans, em, &mut b.bwd);
            forward(&self.start, &self.trans, em, &mut b.fwd);
        }
        let mut j = 0;
        while j < len {
            if b.labels[j] != B {
                j += 1;
                continue;
            }
            let mut z = j + 1;
            while z < len && b.labels[z] == I {
                z += 1;
            }
            // The best labelling without this name.
            let alt = if names == 1 {
                self.viterbi(&b.em, Some((j, z)), &mut b.back, &mut b.alt)
            } else {
                held_out(&self.start, &self.trans, &b.em, &b.fwd, &b.bwd, (j, z))
            };
            let m = (best - alt).max(0) as f32 * self.scale;
            // A title stays outside the span.
            let mut first = j;
            while first + 1 < z && p.title[k0 + first] {
                first += 1;
            }
            out.push((p.spans[k0 + first].0, p.spans[k0 + z - 1].1, m));
            j = z;
        }
    }

    /// The median margin the scores are relative to.
    pub fn m0(&self) -> f32 {
        self.m0
    }

    /// [`viterbi`] with this model's start and transition weights.
    fn viterbi(
        &self,
        em: &[[i32; 3]],
        outside: Option<(usize, usize)>,
        back: &mut Vec<[u8; 3]>,
        labels: &mut Vec<u8>,
    ) -> i32 {
        viterbi(&self.start, &self.trans, em, outside, back, labels)
    }
}

/// The score of the best labelling of a window with emissions `em` (per
/// token, the scores of O, B, I), start weights `start` and transition
/// weights `trans[from][to]` (forbidden ones at [`NEG`]), the labelling
/// written to `labels`; with `outside = Some(j..z)` those tokens are held
/// to O. Ties go to the lower label, so the engine and the training
/// command decode alike.
pub fn viterbi(
    start: &[i32; 3],
    trans: &[[i32; 3]; 3],
    em: &[[i32; 3]],
    outside: Option<(usize, usize)>,
    back: &mut Vec<[u8; 3]>,
    labels: &mut Vec<u8>,
) -> i32 {
    let n = em.len();
    back.clear();
    back.resize(n, [0; 3]);
    let held = |k: usize| outside.is_some_and(|(j, z)| (j..z).contains(&k));
    let emit = |k: usize, y: usize| if y != 0 && held(k) { NEG } else { em[k][y] };
    let mut dp = [0i32; 3];
    for (y, d) in dp.iter_mut().enumerate() {
        *d = start[y].saturating_add(emit(0, y));
    }
    for (k, back) in back.iter_mut().enumerate().skip(1) {
        let mut next = [NEG; 3];
        for (y, slot) in next.iter_mut().enumerate() {
            let (mut best, mut arg) = (i32::MIN, 0u8);
            for (x, &d) in dp.iter().enumerate() {
                let s = d.saturating_add(trans[x][y]);
                if s > best {
                    (best, arg) = (s, x as u8);
                }
            }
            *slot = best.saturating_add(emit(k, y)).max(NEG);
            back[y] = arg;
        }
        dp = next;
    }
    let (mut y, mut best) = (0usize, dp[0]);
    for (x, &d) in dp.iter().enumerate().skip(1) {
        if d > best {
            (y, best) = (x, d);
        }
    }
    labels.clear();
    labels.resize(n, O);
    for k in (0..n).rev() {
        labels[k] = y as u8;
        if k > 0 {
            y = usize::from(back[k][y]);
        }
    }
    best
}

/// `fwd[k][y]`: the best score of the labels of tokens `0..=k` with `y`
/// at `k` (the Viterbi recursion's values, floored at [`NEG`] as there).
fn forward(start: &[i32; 3], trans: &[[i32; 3]; 3], em: &[[i32; 3]], fwd: &mut Vec<[i32; 3]>) {
    fwd.clear();
    let Some(first) = em.first() else { return };
    fwd.push(std::array::from_fn(|y| start[y].saturating_add(first[y]).max(NEG)));
    for e in &em[1..] {
        let d = fwd[fwd.len() - 1];
        let next = std::array::from_fn(|y| {
            let best = (0..3).map(|x| d[x].saturating_add(trans[x][y])).max().unwrap_or(NEG);
            best.saturating_add(e[y]).max(NEG)
        });
        fwd.push(next);
    }
}

/// `bwd[k][y]`: the best score of the labels of tokens `k + 1..` given `y`
/// at `k`.
fn backward(trans: &[[i32; 3]; 3], em: &[[i32; 3]], bwd: &mut Vec<[i32; 3]>) {
    let n = em.len();
    bwd.clear();
    bwd.resize(n, [0; 3]);
    for k in (0..n.saturating_sub(1)).rev() {
        let (e, after) = (em[k + 1], bwd[k + 1]);
        bwd[k] = std::array::from_fn(|y| {
            (0..3)
                .map(|z| trans[y][z].saturating_add(e[z]).saturating_add(after[z]))
                .max()
                .unwrap_or(NEG)
                .max(NEG)
        });
    }
}

/// The score of the best labelling that holds tokens `j..z` to O, from
/// the [`forward`] and [`backward`] scores: the same value as [`viterbi`]
/// with `outside = Some((j, z))`, in time `z − j` rather than the
/// window's length (a window of a long list of names would otherwise cost
/// its length once per name).
fn held_out(
    start: &[i32; 3],
    trans: &[[i32; 3]; 3],
    em: &[[i32; 3]],
    fwd: &[[i32; 3]],
    bwd: &[[i32; 3]],
    (j, z): (usize, usize),
) -> i32 {
    let o = usize::from(O);
    let mut v = if j == 0 {
        start[o]
    } else {
        (0..3).map(|x| fwd[j - 1][x].saturating_add(trans[x][o])).max().unwrap_or(NEG)
    }
    .saturating_add(em[j][o])
    .max(NEG);
    for e in &em[j + 1..z] {
        v = v.saturating_add(trans[o][o]).saturating_add(e[o]).max(NEG);
    }
    if z == em.len() {
        return v;
    }
    (0..3)
        .map(|y| v.saturating_add(trans[o][y]).saturating_add(em[z][y]).max(NEG).saturating_add(bwd[z][y]))
        .max()
        .unwrap_or(NEG)
        .max(NEG)
}

/// The embedded model.
pub(crate) fn default_model() -> &'static Model {
    static MODEL: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        // Checked by the test suite; a failure here is a bug in this crate.
        Model::from_bytes(include_bytes!("../../../../../rules/model/name-tagger.bin"))
            .unwrap_or_else(|e| panic!("embedded name-tagger model is invalid: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    static NAMES: LazyLock<Names> = LazyLock::new(super::super::default_names);

    fn names(text: &str) -> Vec<&str> {
        default_model().find(&NAMES, text).into_iter().map(|(s, e, _)| &text[s..e]).collect()
    }

    #[test]
    fn the_issue_cases() {
        assert_eq!(names("Thanks for the report, said Ivanov."), ["Ivanov"]);
        assert_eq!(names("My name is Dan."), ["Dan"]);
        assert_eq!(names("my name is maria garcia"), ["maria garcia"]);
        assert_eq!(names("SOCCER - LEEDS SIGN STRIKER JOHN SMITH"), ["JOHN SMITH"]);
        assert_eq!(names("IVANOV WINS IN MOSCOW"), ["IVANOV"]);
        assert!(names("The router at Cisco in Leeds is down again.").is_empty());
        assert!(names("Device MAC 00:1A:2B:3C:DD:5E, vendor Acme").is_empty());
    }

    #[test]
    fn titles_stay_outside_and_compound_names_whole() {
        assert_eq!(
            names("Mr. Vladimir Ivanov met Dr. Anna van der Berg in Springfield."),
            ["Vladimir Ivanov", "Anna van der Berg"]
        );
        assert_eq!(
            names("Seán O'Brien and Jean-Luc Picard met María de la Cruz."),
            ["Seán O'Brien", "Jean-Luc Picard", "María de la Cruz"]
        );
        assert_eq!(
            names("John F. Kennedy wrote to J. R. R. Tolkien."),
            ["John F. Kennedy", "J. R. R. Tolkien"]
        );
        assert_eq!(names("Best regards,\nKatarzyna Wiśniewska"), ["Katarzyna Wiśniewska"]);
    }

    #[test]
    fn guarded_tokens_are_never_names() {
        assert!(names("Contact john.smith@example.com or https://example.com/JohnSmith today").is_empty());
        assert!(names("Call getUserName() on AnnaSmith_v2 and @JohnSmith #MaryJones").is_empty());
        let t = "mail Anna.Smith@example.org, path C:\\Users\\Anna\\x, fe80::dead:beef:cafe";
        assert!(names(t).is_empty(), "{:?}", names(t));
        assert!(guarded("see os.path now", 4, 6));
        assert!(!guarded("J.R.R. Tolkien", 0, 1));
        assert!(!guarded("al-Zawahiri said", 0, 11));
        assert!(guarded("an iPhone", 3, 9));
    }

    #[test]
    fn spans_are_sorted_disjoint_and_on_char_boundaries() {
        let long_caps = "Anna Maria John Smith ".repeat(2000);
        let inputs = [
            "",
            "\\n\\nJohn\\",
            "Ça coûte 5 € — écrit par Frau Jürgen Müller’s Büro",
            "👩‍👩‍👧 Anna 🇫🇷 Smith 🙂's İSTANBUL İlker ΣΊΣΥΦΟΣ ǅemal",
            long_caps.as_str(),
            "Mr. Mr. Dr. . . J. J. J. Van Der De La",
        ];
        for t in inputs {
            let found = default_model().find(&NAMES, t);
            let mut end = 0;
            for &(s, e, score) in &found {
                assert!(s >= end && s < e && e <= t.len(), "{t:?}: {found:?}");
                assert!(t.is_char_boundary(s) && t.is_char_boundary(e));
                assert!((0.5..=1.0).contains(&score));
                end = e;
            }
        }
    }

    #[test]
    fn the_second_pass_finds_a_name_the_text_tagged_elsewhere() {
        // Sentences whose second mention the first pass misses (if a
        // retrained model finds them in one pass, pick others: the test
        // is of the second pass).
        let one = default_model().with_doc_bonus(0.0);
        let cases = [
            ("Jutting appeared in court. Rurik Jutting, now 31, is on trial.", "Rurik Jutting"),
            ("Negan (Jeffrey Dean Morgan) returns. Fans of Negan cheered.", "Negan"),
        ];
        for (text, second) in cases {
            let found = |m: &Model| -> Vec<&str> {
                m.find(&NAMES, text).into_iter().map(|(s, e, _)| &text[s..e]).collect()
            };
            let (a, b) = (found(&one), found(default_model()));
            assert_eq!(b.len(), a.len() + 1, "{text}: {a:?} then {b:?}");
            assert!(b.iter().filter(|n| **n == second).count() > a.iter().filter(|n| **n == second).count());
            // Every first-pass name is still found.
            assert!(a.iter().all(|n| b.contains(n)), "{text}: {a:?} then {b:?}");
        }
    }

    use proptest::prelude::*;

    proptest! {
        /// The linear-time margins ([`held_out`]) give exactly the values of
        /// a Viterbi run with the name's tokens held to O.
        #[test]
        fn held_out_equals_a_constrained_viterbi(
            em in proptest::collection::vec(
                (0u8..8, -300i32..300, -300i32..300).prop_map(|(g, b, i)| if g == 0 { [0, NEG, NEG] } else { [0, b, i] }),
                1..40,
            ),
            t in proptest::collection::vec(-200i32..200, 8),
            span in (0usize..40, 1usize..6),
        ) {
            let start = [t[0], t[1], NEG];
            let mut trans = [[t[2], t[3], NEG], [t[4], t[5], t[6]], [t[7], t[2] / 2, t[3] / 2]];
            trans[0][2] = NEG;
            let j = span.0 % em.len();
            let z = (j + span.1).min(em.len());
            let (mut back, mut labels, mut fwd, mut bwd) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let want = viterbi(&start, &trans, &em, Some((j, z)), &mut back, &mut labels);
            forward(&start, &trans, &em, &mut fwd);
            backward(&trans, &em, &mut bwd);
            prop_assert_eq!(held_out(&start, &trans, &em, &fwd, &bwd, (j, z)), want);
            // And the sweeps meet at the best score.
            let best = viterbi(&start, &trans, &em, None, &mut back, &mut labels);
            let meet = (0..3).map(|y| fwd[0][y].saturating_add(bwd[0][y])).max().unwrap();
            prop_assert_eq!(meet.max(NEG), best.max(NEG));
        }
    }

    #[test]
    fn weights_round_trip_through_the_file_format() {
        let mut weights = vec![[0f32; 2]; 1 << 8];
        weights[3] = [1.0, -0.5];
        weights[200] = [0.25, 0.0];
        weights[9] = [0.001, 0.0]; // dropped by `keep`
        let t = Trained {
            bits: 8,
            weights,
            start: [0.5, -1.0, 0.0],
            trans: [[0.0, 0.2, -9.0], [0.1, -0.3, 0.4], [0.0, 0.0, 0.0]],
            m0: 2.0,
            offset: 0.25,
            keep_dict: 1.0,
        };
        let bytes = Model::to_bytes(&t, 2);
        let m = Model::from_bytes(&bytes).unwrap();
        assert_eq!((m.weights[3], m.weights[200], m.weights[9]), ([127, -64], [32, 0], [0, 0]));
        assert_eq!((m.m0, m.keep_dict, m.offset), (2.0, 1.0, 32));
        // The document bonus is DOC_BONUS m0, in integer units.
        assert_eq!(m.doc_bonus, (DOC_BONUS * 2.0 / m.scale).round() as i32);
        assert_eq!(m.with_doc_bonus(0.0).doc_bonus, 0);
        assert_eq!(m.trans[0][2], NEG);
        assert_eq!(Model::to_bytes(&t, 2), bytes);
        for bad in [&bytes[..bytes.len() - 1], &bytes[1..], b"PSNAMES1"] {
            assert!(Model::from_bytes(bad).is_err());
        }
        let mut other = bytes.clone();
        other[8] = 99;
        assert!(Model::from_bytes(&other).unwrap_err().contains("version"));
    }
}
