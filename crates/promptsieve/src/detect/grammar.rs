//! Phrase grammars: rules written as sequences of slots, filled by
//! per-language vocabularies (`rules/grammar/*.toml`).
//!
//! A phrase list has to name every wording of an attack; a grammar names its
//! shape once ("a dismissal verb, then within a few words something that
//! refers to earlier instructions") and lets each language supply the words.
//! Matching is one Aho-Corasick pass over all slot phrases, then a greedy
//! left-to-right chain search per sequence over the (few) slot hits, so a
//! scan costs a literal pass plus work proportional to the hits.

use std::collections::{BTreeMap, HashMap};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;

use crate::engine::{Hit, next_is_word, prev_is_word};
use crate::normalize::{self, is_unspaced_script};
use crate::pack::expand_phrase_up_to;

/// The embedded vocabularies, one per language: `(file name, TOML)`.
pub(crate) const DEFAULT_VOCAB: &[(&str, &str)] = &[
    ("en.toml", include_str!("../../../../rules/grammar/en.toml")),
    ("es.toml", include_str!("../../../../rules/grammar/es.toml")),
    ("zh.toml", include_str!("../../../../rules/grammar/zh.toml")),
    ("ja.toml", include_str!("../../../../rules/grammar/ja.toml")),
    ("ru.toml", include_str!("../../../../rules/grammar/ru.toml")),
    ("ko.toml", include_str!("../../../../rules/grammar/ko.toml")),
    ("tr.toml", include_str!("../../../../rules/grammar/tr.toml")),
    ("ar.toml", include_str!("../../../../rules/grammar/ar.toml")),
    ("hi.toml", include_str!("../../../../rules/grammar/hi.toml")),
    ("hi-Latn.toml", include_str!("../../../../rules/grammar/hi-Latn.toml")),
];

/// The slot that holds cues of third-person discussion (see
/// [`Grammar::discussion_cues`]); not usable in sequences' veto role.
pub(crate) const DISCUSS_SLOT: &str = "discuss";

/// The slot of reported-speech cues that, right before an attack phrase,
/// say it is quoted rather than meant ("if the user asks you to …").
pub(crate) const REPORTED_SLOT: &str = "reported";

/// How far before a match a reported-speech cue may end, in bytes of the
/// original text.
const REPORTED_REACH: usize = 80;

/// Most variants one slot phrase may expand to.
const MAX_SLOT_VARIANTS: usize = 4096;

/// Most slot hits kept per text: a hostile input made of one slot word
/// repeated must not make the chain search quadratic.
const MAX_HITS: usize = 4096;

/// Word order of requests in a language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// The verb before its object ("ignore the previous instructions").
    Vo,
    /// Verb-final ("以前の指示を無視して").
    Ov,
}

/// One vocabulary file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabFile {
    language: LanguageMeta,
    #[serde(default)]
    slots: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    example: Vec<VocabExample>,
    #[serde(default)]
    counter: Vec<VocabCounter>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageMeta {
    code: String,
    #[allow(dead_code)] // For humans reading the file and the docs.
    name: String,
    order: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabExample {
    rule: String,
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabCounter {
    text: String,
}

/// A language's vocabulary, parsed.
#[derive(Debug)]
pub(crate) struct Language {
    pub(crate) code: String,
    order: Order,
    /// Slot name → phrases (unexpanded, as written).
    slots: BTreeMap<String, Vec<String>>,
    /// `(rule id, text)` pairs the named grammar rule must find.
    pub(crate) examples: Vec<(String, String)>,
    /// Texts no grammar rule may find.
    pub(crate) counters: Vec<String>,
}

/// Parses one vocabulary file; errors name the file.
pub(crate) fn parse_vocab(file: &str, src: &str) -> Result<Language, String> {
    let v: VocabFile = toml::from_str(src).map_err(|e| format!("{file}: {e}"))?;
    let order = match v.language.order.as_str() {
        "vo" => Order::Vo,
        "ov" => Order::Ov,
        o => return Err(format!("{file}: unknown order {o:?} (expected \"vo\" or \"ov\")")),
    };
    for (slot, phrases) in &v.slots {
        if slot.is_empty() || !slot.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(format!("{file}: slot name {slot:?} must be lower_snake_case"));
        }
        for p in phrases {
            let body = p.strip_suffix('*').unwrap_or(p);
            if body.trim().is_empty() {
                return Err(format!("{file}: slot {slot}: empty phrase"));
            }
            if expand_phrase_up_to(body, MAX_SLOT_VARIANTS)
                .map_err(|e| format!("{file}: slot {slot}: phrase {p:?}: {e}"))?
                .is_none()
            {
                return Err(format!(
                    "{file}: slot {slot}: phrase {p:?} expands to more than {MAX_SLOT_VARIANTS} variants"
                ));
            }
        }
    }
    Ok(Language {
        code: v.language.code,
        order,
        slots: v.slots,
        examples: v.example.into_iter().map(|e| (e.rule, e.text)).collect(),
        counters: v.counter.into_iter().map(|c| c.text).collect(),
    })
}

/// The embedded vocabularies, parsed once per process.
pub(crate) fn default_languages() -> &'static [Language] {
    static LANGS: std::sync::OnceLock<Vec<Language>> = std::sync::OnceLock::new();
    LANGS.get_or_init(|| {
        DEFAULT_VOCAB
            .iter()
            .map(|(f, s)| parse_vocab(f, s).unwrap_or_else(|e| panic!("embedded grammar vocabulary: {e}")))
            .collect()
    })
}

/// One element of a sequence.
#[derive(Clone, Copy, Debug)]
struct Step {
    slot: u16,
    optional: bool,
}

#[derive(Debug)]
struct Sequence {
    steps: Vec<Step>,
    /// The word order it applies to; `None` for every language.
    order: Option<Order>,
}

/// A grammar rule as given to [`GrammarBuilder::add`].
#[derive(Debug)]
struct GrammarRule {
    rule: u32,
    seqs: Vec<Sequence>,
    /// Most words between consecutive slots.
    window: usize,
    /// Most sentence ends between consecutive slots.
    sentences: usize,
}

/// A slot phrase in the automaton.
#[derive(Clone, Copy, Debug)]
struct SlotPat {
    slot: u16,
    /// Bit `i` set: language `i` has this phrase in this slot.
    langs: u64,
    bound_start: bool,
    bound_end: bool,
}

/// Collects grammar rules while an engine compiles.
#[derive(Debug, Default)]
pub(crate) struct GrammarBuilder {
    slot_ids: HashMap<String, u16>,
    rules: Vec<GrammarRule>,
}

impl GrammarBuilder {
    fn slot(&mut self, name: &str) -> u16 {
        let n = self.slot_ids.len() as u16;
        *self.slot_ids.entry(name.to_string()).or_insert(n)
    }

    /// Adds rule `rule` with `sequences` such as `"dismiss earlier"`,
    /// `"ov: earlier dismiss"` or `"reveal pretext? hidden"`.
    pub(crate) fn add(
        &mut self,
        rule: u32,
        sequences: &[String],
        window: usize,
        sentences: usize,
        langs: &[Language],
    ) -> Result<(), String> {
        let known = |s: &str| langs.iter().any(|l| l.slots.contains_key(s));
        let mut seqs = Vec::new();
        for src in sequences {
            let (order, body) = match src.split_once(':') {
                Some((o, rest)) => match o.trim() {
                    "vo" => (Some(Order::Vo), rest),
                    "ov" => (Some(Order::Ov), rest),
                    o => return Err(format!("sequence {src:?}: unknown order {o:?} (expected vo or ov)")),
                },
                None => (None, src.as_str()),
            };
            let mut steps = Vec::new();
            for tok in body.split_whitespace() {
                let (name, optional) = match tok.strip_suffix('?') {
                    Some(n) => (n, true),
                    None => (tok, false),
                };
                if !known(name) {
                    return Err(format!("sequence {src:?}: no language defines slot {name:?}"));
                }
                steps.push(Step { slot: self.slot(name), optional });
            }
            if steps.iter().filter(|s| !s.optional).count() < 2 {
                return Err(format!("sequence {src:?} needs at least two required slots"));
            }
            if steps.first().is_some_and(|s| s.optional) || steps.last().is_some_and(|s| s.optional) {
                return Err(format!("sequence {src:?}: the first and last slots cannot be optional"));
            }
            seqs.push(Sequence { steps, order });
        }
        if seqs.is_empty() {
            return Err("grammar has no sequence".into());
        }
        self.rules.push(GrammarRule { rule, seqs, window, sentences });
        Ok(())
    }

    /// The slot ids of a rule's `unless` list (of any rule kind).
    pub(crate) fn veto_slots(&mut self, unless: &[String], langs: &[Language]) -> Result<Vec<u16>, String> {
        unless
            .iter()
            .map(|u| {
                if langs.iter().any(|l| l.slots.contains_key(u)) {
                    Ok(self.slot(u))
                } else {
                    Err(format!("unless: no language defines slot {u:?}"))
                }
            })
            .collect()
    }

    /// Builds the slot automaton over `langs` (the discussion cues are always
    /// included, for [`Grammar::discussion_cues`]).
    pub(crate) fn build(mut self, langs: &[Language]) -> Result<Option<Grammar>, String> {
        if langs.len() > 64 {
            return Err("at most 64 grammar languages".into());
        }
        let discuss = self.slot(DISCUSS_SLOT);
        let reported = self.slot(REPORTED_SLOT);
        let mut pats: Vec<String> = Vec::new();
        let mut info: Vec<SlotPat> = Vec::new();
        let mut index: HashMap<(u16, String, bool), usize> = HashMap::new();
        for (li, lang) in langs.iter().enumerate() {
            for (name, phrases) in &lang.slots {
                let Some(&slot) = self.slot_ids.get(name) else { continue };
                for p in phrases {
                    let (body, stem) = match p.strip_suffix('*') {
                        Some(b) => (b, true),
                        None => (p.as_str(), false),
                    };
                    let variants = expand_phrase_up_to(body, MAX_SLOT_VARIANTS)?
                        .ok_or_else(|| format!("slot phrase {p:?} expands to too many variants"))?;
                    for v in variants {
                        let norm = normalize::normalize_phrase(&v).to_ascii_lowercase();
                        if norm.is_empty() {
                            continue;
                        }
                        let key = (slot, norm.clone(), stem);
                        if let Some(&i) = index.get(&key) {
                            info[i].langs |= 1 << li;
                            continue;
                        }
                        let first = norm.chars().next().unwrap_or(' ');
                        let last = norm.chars().next_back().unwrap_or(' ');
                        index.insert(key, pats.len());
                        info.push(SlotPat {
                            slot,
                            langs: 1 << li,
                            bound_start: bounded(first),
                            bound_end: !stem && bounded(last),
                        });
                        pats.push(norm);
                    }
                }
            }
        }
        if pats.is_empty() {
            return Ok(None);
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&pats)
            .map_err(|e| format!("cannot build the grammar automaton: {e}"))?;
        let mut order_mask = [0u64; 2];
        for (li, lang) in langs.iter().enumerate() {
            order_mask[lang.order as usize] |= 1 << li;
        }
        Ok(Some(Grammar { ac, info, rules: std::mem::take(&mut self.rules), order_mask, discuss, reported }))
    }
}

/// Whether a phrase edge that is `c` must sit on a word boundary.
fn bounded(c: char) -> bool {
    c.is_alphanumeric() && !is_unspaced_script(c)
}

/// A slot occurrence in a view.
#[derive(Clone, Copy, Debug)]
struct SlotHit {
    slot: u16,
    langs: u64,
    start: usize,
    end: usize,
}

/// Compiled grammar rules and their slot automaton.
#[derive(Debug)]
pub(crate) struct Grammar {
    ac: AhoCorasick,
    info: Vec<SlotPat>,
    rules: Vec<GrammarRule>,
    /// Languages (bit masks) by [`Order`].
    order_mask: [u64; 2],
    discuss: u16,
    reported: u16,
}

impl Grammar {
    /// The slot hits in view `v` (`lower` is its ASCII-lower-cased copy).
    fn hits(&self, v: &str, lower: &str) -> Vec<SlotHit> {
        let mut out = Vec::new();
        for m in self.ac.find_overlapping_iter(lower) {
            let p = self.info[m.pattern().as_usize()];
            if (p.bound_start && prev_is_word(v, m.start())) || (p.bound_end && next_is_word(v, m.end())) {
                continue;
            }
            out.push(SlotHit { slot: p.slot, langs: p.langs, start: m.start(), end: m.end() });
            if out.len() >= MAX_HITS {
                break;
            }
        }
        out.sort_by_key(|h| (h.start, h.end));
        out
    }

    /// Finds the grammar rules' matches in view `v`; `wanted` says which
    /// rules to report. Spans are in `v`'s offsets.
    pub(crate) fn find(&self, v: &str, lower: &str, out: &mut Vec<Hit>, wanted: impl Fn(u32) -> bool) {
        if !self.rules.iter().any(|r| wanted(r.rule)) {
            return;
        }
        let hits = self.hits(v, lower);
        if hits.len() < 2 {
            return;
        }
        for r in self.rules.iter().filter(|r| wanted(r.rule)) {
            let mut last_end = 0;
            for seq in &r.seqs {
                let mask = seq.order.map_or(u64::MAX, |o| self.order_mask[o as usize]);
                for (i, h) in hits.iter().enumerate() {
                    if h.slot != seq.steps[0].slot || h.langs & mask == 0 {
                        continue;
                    }
                    let Some(end) = self.chain(v, &hits, i, seq, mask, r) else { continue };
                    if end <= last_end && h.start < last_end {
                        continue;
                    }
                    last_end = end;
                    out.push(Hit { rule: r.rule, start: h.start, end, score: 0.0, detail: None });
                }
            }
        }
    }

    /// The end of the chain of `seq` that starts at `hits[first]`, taking at
    /// each step the earliest hit of the next slot within the window.
    fn chain(
        &self,
        v: &str,
        hits: &[SlotHit],
        first: usize,
        seq: &Sequence,
        mask: u64,
        r: &GrammarRule,
    ) -> Option<usize> {
        let mut end = hits[first].end;
        let mut from = first + 1;
        for step in &seq.steps[1..] {
            let found = hits[from..].iter().enumerate().find_map(|(k, h)| {
                (h.slot == step.slot && h.start >= end && h.langs & mask != 0).then_some(from + k)
            });
            match found {
                Some(k) if gap_ok(v, end, hits[k].start, r.window, r.sentences) => {
                    end = hits[k].end;
                    from = k + 1;
                }
                _ if step.optional => {}
                _ => return None,
            }
        }
        Some(end)
    }

    /// Whether a phrase of one of `slots` occurs in `matched` (a match of a
    /// rule with `unless`, in view text): "ignore my last message" is the
    /// user's own correction, not an override.
    pub(crate) fn vetoes(&self, matched: &str, slots: &[u16]) -> bool {
        let lower = matched.to_ascii_lowercase();
        self.hits(matched, &lower).iter().any(|h| slots.contains(&h.slot))
    }

    /// Whether a reported-speech cue ("if the user asks you to", "users may
    /// try to", "never") ends right before `text[start..]` (only spaces,
    /// punctuation or quotes between): the phrase that follows is reported
    /// or negated, not meant.
    pub(crate) fn reported(&self, text: &str, start: usize) -> bool {
        let lo = crate::util::floor_boundary(text, start.saturating_sub(REPORTED_REACH));
        let view = normalize::view(&text[lo..start]);
        let v = view.text.as_ref();
        let lower = v.to_ascii_lowercase();
        self.hits(v, &lower).iter().any(|h| h.slot == self.reported && gap_ok(v, h.end, v.len(), 0, 0))
    }

    /// Whether view `v` discusses attacks in the third person: two distinct
    /// discussion cues (`discuss` slot phrases) occur in it.
    pub(crate) fn discusses(&self, v: &str) -> bool {
        let lower = v.to_ascii_lowercase();
        let mut first: Option<&str> = None;
        for h in self.hits(v, &lower).iter().filter(|h| h.slot == self.discuss) {
            let cue = &lower[h.start..h.end];
            match first {
                None => first = Some(cue),
                Some(f) if f != cue => return true,
                Some(_) => {}
            }
        }
        false
    }
}

/// Whether `v[a..b]` holds at most `window` words and `sentences` sentence
/// ends. Characters of unspaced scripts count as half a word each.
fn gap_ok(v: &str, a: usize, b: usize, window: usize, sentences: usize) -> bool {
    let Some(gap) = v.get(a..b) else { return false };
    let mut ends = 0usize;
    let mut halves = 0usize;
    let mut in_word = false;
    let mut chars = gap.chars().peekable();
    while let Some(c) = chars.next() {
        let end = matches!(c, '。' | '！' | '？' | '؟' | '।')
            || matches!(c, '.' | '!' | '?' | ';') && chars.peek().is_none_or(|n| n.is_whitespace());
        if end {
            ends += 1;
            if ends > sentences {
                return false;
            }
        }
        if is_unspaced_script(c) {
            halves += 1;
            in_word = false;
        } else if c.is_alphanumeric() {
            if !in_word {
                halves += 2;
            }
            in_word = true;
        } else {
            in_word = false;
        }
        if halves > 2 * window {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_count_words_and_stop_at_sentences() {
        assert!(gap_ok("a b c d", 1, 6, 2, 0));
        assert!(!gap_ok("a b c d e", 1, 8, 2, 0));
        assert!(!gap_ok("ignore. the rules", 6, 8, 5, 0));
        assert!(gap_ok("ignore. the rules", 6, 8, 5, 1));
        assert!(gap_ok("v1.2 x", 0, 6, 5, 0));
        assert!(gap_ok("以前の全て", 0, "以前の全て".len(), 3, 0));
        assert!(!gap_ok("以前の全てをすべて", 0, "以前の全てをすべて".len(), 3, 0));
    }

    #[test]
    fn every_embedded_vocabulary_parses() {
        let langs = default_languages();
        assert_eq!(langs.len(), DEFAULT_VOCAB.len());
        for l in langs {
            assert!(!l.slots.is_empty(), "{} has no slots", l.code);
        }
    }
}
