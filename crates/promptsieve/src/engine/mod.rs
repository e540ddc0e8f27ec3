//! Rule packs compiled into automata, and the matching pass over one text.
//!
//! All phrase rules of all packs share one Aho-Corasick automaton over the
//! normalised view (and a second one over the compact, letters-only view for
//! letter-splitting). All regex rules share one `RegexSet` per view as a
//! prefilter; only the rules the set reports (and whose keywords occur) run
//! their own regex to find spans. Built-in detectors (hidden characters,
//! encoded payloads, adversarial suffixes) are code whose scores and ids come
//! from the pack.

use std::collections::HashSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

mod literals;

use crate::detect;
use crate::detect::Detector;
use crate::error::BuildError;
use crate::finding::Category;
use crate::hit::{Hit, Spans};
use crate::normalize::{self, is_word_char};
use crate::pack::{RuleDef, RulePack, expand_phrase, phrase_to_regex, required_literals};
use crate::text::derive::{self, DerivedView};
use crate::util::hidden::{HiddenKind, hidden_kind};
use crate::util::{ceil_boundary, floor_boundary};

/// Shortest compact (letters-only) phrase worth matching through
/// letter-splitting: shorter ones occur by accident inside ordinary words.
const MIN_COMPACT_LEN: usize = 10;

/// Regex compilation limits, so one pathological rule cannot take the
/// process's memory. The regex crate matches in linear time regardless.
const REGEX_SIZE_LIMIT: usize = 8 << 20;
const REGEX_DFA_LIMIT: usize = 8 << 20;

/// A rule after validation.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) pack: String,
    pub(crate) description: String,
    pub(crate) kind: &'static str,
    pub(crate) category: Category,
    pub(crate) entity: Option<String>,
    pub(crate) score: f64,
    pub(crate) validate: Option<Validator>,
    pub(crate) context: Vec<String>,
    pub(crate) context_window: usize,
    pub(crate) context_boost: f64,
    pub(crate) allow: HashSet<String>,
    /// Words that, just before a match, say it is something else.
    pub(crate) exclude: Vec<String>,
    pub(crate) examples_match: Vec<String>,
    pub(crate) examples_no_match: Vec<String>,
    /// Grammar slots whose phrases, inside a match, veto it (`unless`).
    pub(crate) unless: Vec<u16>,
    /// Score weight per [`Source`](crate::Source) (attack rules).
    pub(crate) weights: [f64; 4],
    /// Score weight in third-person discussion or quotation.
    pub(crate) discussion: f64,
    /// Score weight in reported or negated speech.
    pub(crate) reported: f64,
    /// The signal its findings count as in the risk (`signal`, else the id).
    pub(crate) signal: String,
}

/// The closed set of built-in detectors a pack can enable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    InvisibleTag,
    InvisibleBidi,
    InvisibleVariation,
    InvisibleControl,
    InvisibleZeroWidth,
    EncodedBase64,
    EncodedBase32,
    EncodedHex,
    EncodedVariation,
    EncodedRot13,
    AdversarialSuffix,
    AdversarialSuffixLm,
    PersonNames,
}

impl Builtin {
    const ALL: [(&'static str, Builtin); 13] = [
        ("invisible-tag", Builtin::InvisibleTag),
        ("invisible-bidi", Builtin::InvisibleBidi),
        ("invisible-variation", Builtin::InvisibleVariation),
        ("invisible-control", Builtin::InvisibleControl),
        ("invisible-zero-width", Builtin::InvisibleZeroWidth),
        ("encoded-base64", Builtin::EncodedBase64),
        ("encoded-base32", Builtin::EncodedBase32),
        ("encoded-hex", Builtin::EncodedHex),
        ("encoded-variation", Builtin::EncodedVariation),
        ("encoded-rot13", Builtin::EncodedRot13),
        ("adversarial-suffix", Builtin::AdversarialSuffix),
        ("adversarial-suffix-lm", Builtin::AdversarialSuffixLm),
        ("person-names", Builtin::PersonNames),
    ];

    fn parse(s: &str) -> Option<Builtin> {
        Builtin::ALL.iter().find(|(n, _)| *n == s).map(|(_, b)| *b)
    }
}

/// The closed set of validators a pattern rule can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Validator {
    Luhn,
    Card,
    Iban,
    Ssn,
    Ipv4,
    Ipv6,
    Entropy,
    Jwt,
    Credentials,
    /// Numbering plans; needs the text around the match (see `accept`).
    Phone,
}

impl Validator {
    const ALL: [(&'static str, Validator); 10] = [
        ("luhn", Validator::Luhn),
        ("card", Validator::Card),
        ("iban", Validator::Iban),
        ("ssn", Validator::Ssn),
        ("ipv4", Validator::Ipv4),
        ("ipv6", Validator::Ipv6),
        ("entropy", Validator::Entropy),
        ("jwt", Validator::Jwt),
        ("credentials", Validator::Credentials),
        ("phone", Validator::Phone),
    ];

    fn parse(s: &str) -> Option<Validator> {
        Validator::ALL.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }

    fn names() -> String {
        Validator::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    }

    fn check(self, s: &str) -> bool {
        use detect::validate as v;
        match self {
            Validator::Luhn => v::luhn(s),
            Validator::Card => v::card(s),
            Validator::Iban => v::iban(s),
            Validator::Ssn => v::ssn(s),
            Validator::Ipv4 => v::ipv4(s),
            Validator::Ipv6 => v::ipv6(s),
            Validator::Entropy => v::entropy(s),
            Validator::Jwt => v::jwt(s),
            Validator::Credentials => v::credentials(s),
            // Decided in `accept`, where the neighbours are known.
            Validator::Phone => true,
        }
    }
}

/// Which text a regex runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ViewKind {
    Normalized,
    Raw,
}

#[derive(Debug)]
struct PhraseInfo {
    rule: u32,
    /// Whether the start/end must sit on a word boundary.
    bound_start: bool,
    bound_end: bool,
}

/// A regex compiled on first use. Building a scanner only parses rule
/// regexes (syntax errors are still build errors); the automata are built
/// the first time a rule's keywords, or the set, say it may match. Most
/// keyword-gated rules never run on a given text, so start-up no longer
/// pays for them.
#[derive(Debug)]
pub(crate) struct LazyRegex {
    src: String,
    ci: bool,
    cell: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// Parses `src` (so errors surface at build time) and defers compiling.
    /// A `trusted` source (from an embedded pack) is not parsed here: the
    /// test suite checks it.
    fn new(src: &str, ci: bool, trusted: bool) -> Result<LazyRegex, String> {
        if trusted {
            return Ok(LazyRegex { src: src.to_string(), ci, cell: OnceLock::new() });
        }
        let hir = regex_syntax::ParserBuilder::new()
            .case_insensitive(ci)
            .build()
            .parse(src)
            .map_err(|e| format!("invalid regex: {e}"))?;
        if hir.properties().minimum_len() == Some(0) {
            return Err("regex matches the empty string".into());
        }
        Ok(LazyRegex { src: src.to_string(), ci, cell: OnceLock::new() })
    }

    /// The compiled regex. `None` only if it exceeds the size limits, in
    /// which case the rule never matches (parsing already succeeded).
    fn get(&self) -> Option<&Regex> {
        self.cell
            .get_or_init(|| {
                RegexBuilder::new(&self.src)
                    .case_insensitive(self.ci)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_DFA_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

/// A phrase with too many variants for the literal automaton, as a regex.
#[derive(Debug)]
struct PhraseRegex {
    rule: u32,
    re: LazyRegex,
    word_boundary: bool,
    /// The letters-only form, for letter-splitting (when the rule splits).
    compact: Option<LazyRegex>,
    /// A lower bound on the number of words the phrase matches.
    words: usize,
    /// Whether the rule's category is an attack (see [`Category::is_attack`]).
    attack: bool,
}

#[derive(Debug)]
struct RegexRule {
    rule: u32,
    re: LazyRegex,
    /// Whether the regex has a `(?P<value>…)` group that is the finding.
    value_group: bool,
    /// Keyword pattern ids that enable this rule; empty = always run.
    gated: bool,
    /// Whether the rule's category is an attack: derived texts (letter-split
    /// joins, ROT13, decoded payloads) only look for attacks.
    attack: bool,
    /// Literal groups every match holds (normalised-view rules only): a
    /// keyword-enabled rule runs only when all of them occur. Read from the
    /// pattern on first use, like the regex itself, to keep start-up short.
    required: Option<OnceLock<literals::Required>>,
}

#[derive(Debug, Default)]
struct RegexGroup {
    /// Prefilter over the rules without keywords.
    set: Option<RegexSet>,
    /// For each pattern of `set`, its index in `rules`.
    set_rules: Vec<usize>,
    /// Whether any rule of `set` is an attack rule (otherwise derived texts
    /// skip the set).
    set_attack: bool,
    rules: Vec<RegexRule>,
}

/// Which matchers one pass over a view runs.
#[derive(Clone, Copy)]
struct ViewOpts {
    /// Only attack rules (derived texts).
    attack_only: bool,
    /// Also the compact phrases (letter-splitting).
    letter_split: bool,
    /// Also the grammar rules.
    grammar: bool,
}

/// What one pass over a view found besides hits, for the caller.
#[derive(Default)]
struct ViewPass {
    /// The compact (letters-only) view, when something needed it.
    compact: Option<normalize::Compact>,
    /// Which phrase regexes their gate enabled.
    enabled_phrase_regex: Vec<bool>,
    /// Compact-phrase matches `(rule, words, start, end)` in the compact
    /// view, when letter-splitting was asked for.
    compact_found: Vec<(u32, usize, usize, usize)>,
    /// Which raw-view regex rules a keyword enabled.
    enabled_raw: Vec<bool>,
    /// Distinct framing cues of the view (see `Grammar::find`), when the
    /// grammar ran.
    framing: Option<usize>,
}

/// A regex rule while the engine is compiled.
struct RegexSrc {
    rule: u32,
    re: LazyRegex,
    /// The source for the `RegexSet`, with its flags inline.
    set_src: String,
    gated: bool,
    attack: bool,
}

/// Every pack compiled together.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) rules: Vec<Rule>,
    /// The phrases (patterns `0..phrase_info.len()`) and then the regex
    /// keywords, in one automaton: one pass over a view finds both.
    view_ac: Option<AhoCorasick>,
    phrase_info: Vec<PhraseInfo>,
    /// The phrase-regex gate literals (patterns `0..gate_target.len()`) and
    /// then the compact phrases, in one automaton over the compact view.
    compact_ac: Option<AhoCorasick>,
    /// Rule and word count of each compact pattern.
    compact_rule: Vec<(u32, usize)>,
    phrase_regex: Vec<PhraseRegex>,
    /// For each gate literal (required literals of the phrase regexes,
    /// letters and digits only, searched in the compact view), the phrase
    /// regex it enables: a phrase regex runs only when one of its literals
    /// occurs.
    gate_target: Vec<usize>,
    ungated_phrase_regex: Vec<usize>,
    /// For each keyword pattern: the regex rule indices (into the group's
    /// `rules`) it enables, as `(raw_view, index)`.
    keyword_targets: Vec<Vec<(ViewKind, usize)>>,
    normalized: RegexGroup,
    raw: RegexGroup,
    /// The enabled built-in detectors, in the order they run.
    detectors: Vec<Box<dyn Detector>>,
    /// Words (ASCII letters, two or more) of the attack phrases: what the
    /// segmenter may cut a joined letter run into besides grammar words.
    phrase_words: HashSet<Box<str>>,
    /// The grammar rules and their slot automaton.
    pub(crate) grammar: Option<detect::grammar::Grammar>,
}

/// Options that shape compilation.
pub(crate) struct CompileOptions<'a> {
    pub(crate) categories: Option<&'a [Category]>,
    pub(crate) disabled: &'a HashSet<String>,
    /// Whether PERSON names come from the learned tagger (see
    /// `detect::names::tagger`) rather than the dictionaries alone.
    pub(crate) tagger: bool,
}

fn kebab(id: &str) -> bool {
    !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

impl Engine {
    pub(crate) fn compile(packs: &[RulePack], opts: &CompileOptions<'_>) -> Result<Engine, BuildError> {
        let mut rules = Vec::new();
        let mut ids: HashSet<&str> = HashSet::new();
        let mut phrase_pats: Vec<String> = Vec::new();
        let mut phrase_info = Vec::new();
        let mut compact_pats: Vec<String> = Vec::new();
        let mut compact_rule = Vec::new();
        let mut keyword_pats: Vec<String> = Vec::new();
        let mut keyword_targets: Vec<Vec<(ViewKind, usize)>> = Vec::new();
        let mut regex_src: [Vec<RegexSrc>; 2] = [Vec::new(), Vec::new()];
        let mut builtins = Vec::new();
        let mut phrase_regex: Vec<PhraseRegex> = Vec::new();
        let mut gate_pats: Vec<String> = Vec::new();
        let mut gate_target: Vec<usize> = Vec::new();
        let mut ungated_phrase_regex: Vec<usize> = Vec::new();
        let mut grammar = detect::grammar::GrammarBuilder::default();
        let mut phrase_words: HashSet<Box<str>> = HashSet::new();

        for pack in packs {
            for def in &pack.rules {
                let err = |reason: String| BuildError::for_rule(&pack.name, &def.id, reason);
                if !kebab(&def.id) {
                    return Err(err("id must be kebab-case: lower-case letters, digits and '-'".into()));
                }
                if !ids.insert(def.id.as_str()) {
                    return Err(err("duplicate rule id".into()));
                }
                let category = Category::parse(&def.category).ok_or_else(|| {
                    err(format!(
                        "unknown category {:?} (expected one of injection, invisible, exfiltration, pii, secret)",
                        def.category
                    ))
                })?;
                validate_def(def).map_err(err)?;
                if opts.disabled.contains(&def.id)
                    || opts.categories.is_some_and(|cs| !cs.contains(&category))
                {
                    continue;
                }
                let idx = rules.len() as u32;
                if let Some(phrases) = &def.phrases {
                    let word_boundary = def.word_boundary.unwrap_or(true);
                    let split = def.split.unwrap_or(category == Category::Injection);
                    let mut n = 0;
                    for raw in phrases {
                        let Some(variants) = expand_phrase(raw).map_err(&err)? else {
                            // Too many variants for the literal automaton: the
                            // same phrase as one regex (see `phrase_to_regex`).
                            let norm = |s: &str| normalize::view(s).text.to_ascii_lowercase();
                            // Phrase regexes search ASCII-lower-cased text, where an
                            // all-ASCII one (lower-case literals only) needs no case
                            // folding: case-sensitive, its literals become a
                            // prefilter. (The only other chars that fold to ASCII
                            // letters, U+017F and U+212A, never reach a view: NFKD.)
                            let build = |src: &str| {
                                LazyRegex::new(src, !src.is_ascii(), pack.trusted)
                                    .map_err(|e| err(format!("phrase {raw:?} does not compile: {e}")))
                            };
                            let re = build(&phrase_to_regex(raw, false, norm).map_err(&err)?)?;
                            let compact = if split && compactable(raw) {
                                Some(build(&phrase_to_regex(raw, true, norm).map_err(&err)?)?)
                            } else {
                                None
                            };
                            // A lower bound on the phrase's word count: its text
                            // outside the groups.
                            let mut outside = String::new();
                            let mut depth = 0usize;
                            for c in raw.chars() {
                                match c {
                                    '{' => depth += 1,
                                    '}' => depth = depth.saturating_sub(1),
                                    _ if depth == 0 => outside.push(c),
                                    _ => outside.push(' '),
                                }
                            }
                            let words = outside.split_whitespace().count();
                            let gate = phrase_regex.len();
                            match required_literals(raw, normalize::normalize_phrase) {
                                Some(lits) if lits.iter().all(|l| !l.is_empty()) => {
                                    for l in lits {
                                        gate_pats.push(l);
                                        gate_target.push(gate);
                                    }
                                }
                                _ => ungated_phrase_regex.push(gate),
                            }
                            phrase_regex.push(PhraseRegex {
                                rule: idx,
                                re,
                                word_boundary,
                                compact,
                                words,
                                attack: category.is_attack(),
                            });
                            n += 1;
                            continue;
                        };
                        for variant in variants {
                            let norm = normalize::normalize_phrase(&variant);
                            if norm.is_empty() {
                                continue;
                            }
                            let first = norm.chars().next().unwrap_or(' ');
                            let last = norm.chars().next_back().unwrap_or(' ');
                            if split && compactable(&norm) {
                                let c: String = norm.chars().filter(|c| c.is_alphanumeric()).collect();
                                if c.len() >= MIN_COMPACT_LEN {
                                    compact_pats.push(c);
                                    compact_rule.push((idx, norm.split_whitespace().count()));
                                }
                            }
                            if category.is_attack() {
                                for w in
                                    norm.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() >= 2)
                                {
                                    if !phrase_words.contains(w) {
                                        phrase_words.insert(w.into());
                                    }
                                }
                            }
                            phrase_pats.push(norm);
                            phrase_info.push(PhraseInfo {
                                rule: idx,
                                bound_start: word_boundary && is_word_char(first),
                                bound_end: word_boundary && is_word_char(last),
                            });
                            n += 1;
                        }
                    }
                    if n == 0 {
                        return Err(err("phrase list is empty".into()));
                    }
                } else if let Some(re) = &def.regex {
                    let view = match def.view.as_deref() {
                        None | Some("normalized") => ViewKind::Normalized,
                        Some("raw") => ViewKind::Raw,
                        Some(v) => {
                            return Err(err(format!(
                                "unknown view {v:?} (expected \"normalized\" or \"raw\")"
                            )));
                        }
                    };
                    let ci = !def.case_sensitive.unwrap_or(false);
                    let re = &ascii_boundaries(re);
                    let compiled = LazyRegex::new(re, ci, pack.trusted).map_err(&err)?;
                    let slot = view as usize;
                    let local = regex_src[slot].len();
                    let gated = def.keywords.as_ref().is_some_and(|k| !k.is_empty());
                    if let Some(kws) = &def.keywords {
                        for kw in kws {
                            let norm = normalize::normalize_phrase(kw);
                            if norm.is_empty() {
                                return Err(err("empty keyword".into()));
                            }
                            keyword_pats.push(norm);
                            keyword_targets.push(vec![(view, local)]);
                        }
                    }
                    let set_src = if ci { format!("(?i:{re})") } else { format!("(?:{re})") };
                    regex_src[slot].push(RegexSrc {
                        rule: idx,
                        re: compiled,
                        set_src,
                        gated,
                        attack: category.is_attack(),
                    });
                } else if let Some(seqs) = &def.grammar {
                    let (window, sentences) = (def.window.unwrap_or(4), def.sentences.unwrap_or(0));
                    grammar.add(idx, seqs, window, sentences).map_err(err)?;
                } else if let Some(name) = &def.builtin {
                    let b = Builtin::parse(name).ok_or_else(|| {
                        let known: Vec<&str> = Builtin::ALL.iter().map(|(n, _)| *n).collect();
                        err(format!("unknown builtin {name:?} (expected one of {})", known.join(", ")))
                    })?;
                    builtins.push((b, idx));
                }
                let validate = match &def.validate {
                    None => None,
                    Some(v) => Some(Validator::parse(v).ok_or_else(|| {
                        err(format!("unknown validator {v:?} (expected one of {})", Validator::names()))
                    })?),
                };
                rules.push(Rule {
                    id: def.id.clone(),
                    pack: pack.name.clone(),
                    description: def.description.clone(),
                    kind: if def.phrases.is_some() {
                        "phrases"
                    } else if def.regex.is_some() {
                        "regex"
                    } else if def.grammar.is_some() {
                        "grammar"
                    } else {
                        "builtin"
                    },
                    category,
                    entity: def.entity.clone(),
                    score: def.score,
                    validate,
                    context: def.context.iter().flatten().map(|c| normalize::normalize_phrase(c)).collect(),
                    context_window: def.context_window.unwrap_or(64),
                    context_boost: def.context_boost.unwrap_or(0.0),
                    allow: def.allow.iter().flatten().map(|a| normalize::normalize_phrase(a)).collect(),
                    exclude: def.exclude.iter().flatten().map(|a| normalize::normalize_phrase(a)).collect(),
                    examples_match: def.examples.matches.clone(),
                    examples_no_match: def.examples.no_match.clone(),
                    unless: grammar.veto_slots(def.unless.as_deref().unwrap_or_default()).map_err(err)?,
                    weights: def.weights.unwrap_or_default().resolve().0,
                    discussion: def.weights.unwrap_or_default().resolve().1,
                    reported: def.weights.unwrap_or_default().resolve().2,
                    signal: def.signal.clone().unwrap_or_else(|| def.id.clone()),
                });
            }
        }

        let ac = |pats: &[String], kind: MatchKind| -> Result<Option<AhoCorasick>, BuildError> {
            if pats.is_empty() {
                return Ok(None);
            }
            // Patterns and haystacks are ASCII-lower-cased instead of asking the
            // automaton for ASCII case-insensitivity, which doubles its
            // transitions and made it a third of the build time.
            AhoCorasickBuilder::new()
                .match_kind(kind)
                .build(pats.iter().map(|p| p.to_ascii_lowercase()))
                .map(Some)
                .map_err(|e| BuildError::config(format!("cannot build phrase automaton: {e}")))
        };
        let group = |src: Vec<RegexSrc>, view: ViewKind| -> Result<RegexGroup, BuildError> {
            // The set prefilters the rules that have no keywords: one pass
            // says which of them match at all. Keyword-gated rules skip the
            // set and run only when a keyword occurs. The set cannot carry
            // per-pattern flags, so each source already has its `(?i:…)`.
            let ungated: Vec<usize> = (0..src.len()).filter(|&i| !src[i].gated).collect();
            let set_attack = ungated.iter().any(|&i| src[i].attack);
            let set = if ungated.is_empty() {
                None
            } else {
                Some(
                    RegexSetBuilder::new(ungated.iter().map(|&i| &src[i].set_src))
                        .size_limit(REGEX_SIZE_LIMIT * 4)
                        .dfa_size_limit(REGEX_DFA_LIMIT * 4)
                        .build()
                        .map_err(|e| BuildError::config(format!("cannot build the regex set: {e}")))?,
                )
            };
            let rules = src
                .into_iter()
                .map(|RegexSrc { rule, re, gated, attack, .. }| {
                    let value_group = re.src.contains("(?P<value>") || re.src.contains("(?<value>");
                    // Raw-view rules search text that is not lower-cased.
                    let required = (gated && view == ViewKind::Normalized).then(OnceLock::new);
                    RegexRule { rule, re, gated, value_group, attack, required }
                })
                .collect();
            Ok(RegexGroup { set, set_rules: ungated, set_attack, rules })
        };
        let [norm_src, raw_src] = regex_src;
        let mut view_pats = phrase_pats;
        view_pats.extend(keyword_pats);
        let mut compact_all = gate_pats;
        compact_all.extend(compact_pats);
        let grammar = grammar.build();
        Ok(Engine {
            grammar,
            compact_ac: ac(&compact_all, MatchKind::Standard)?,
            gate_target,
            ungated_phrase_regex,
            phrase_regex,
            view_ac: ac(&view_pats, MatchKind::Standard)?,
            phrase_info,
            compact_rule,
            keyword_targets,
            normalized: group(norm_src, ViewKind::Normalized)?,
            raw: group(raw_src, ViewKind::Raw)?,
            detectors: detectors(&builtins, &rules, opts.tagger),
            phrase_words,
            rules,
        })
    }

    /// Whether hits of `rule` are wanted: derived texts (`attack_only`)
    /// look for attacks only, so personal-data and secret matchers skip them.
    fn wanted(&self, rule: u32, attack_only: bool) -> bool {
        !attack_only || self.rules[rule as usize].category.is_attack()
    }

    /// Phrases, phrase regexes and normalised-view regexes over one view
    /// text; spans in that text's offsets. With `attack_only`, only attack
    /// rules run (the hits of each rule do not depend on other rules). With
    /// `letter_split`, the compact phrases are matched too (see [`ViewPass`]).
    fn match_view(&self, v: &str, out: &mut Vec<Hit>, opts: ViewOpts) -> ViewPass {
        let ViewOpts { attack_only, letter_split, grammar } = opts;
        let n_phrases = self.phrase_info.len();
        let mut enabled = [vec![false; self.normalized.rules.len()], vec![false; self.raw.rules.len()]];
        // The automata hold lower-case patterns (see `compile`) and the
        // phrase regexes expect lower case; the copy has the same offsets.
        let lower = ascii_lower(v);
        if let Some(ac) = &self.view_ac {
            for m in ac.find_overlapping_iter(lower.as_ref()) {
                let pid = m.pattern().as_usize();
                let Some(info) = self.phrase_info.get(pid) else {
                    for &(k, i) in &self.keyword_targets[pid - n_phrases] {
                        enabled[k as usize][i] = true;
                    }
                    continue;
                };
                if (info.bound_start && prev_is_word(v, m.start()))
                    || (info.bound_end && next_is_word(v, m.end()))
                    || !self.wanted(info.rule, attack_only)
                {
                    continue;
                }
                out.push(Hit { rule: info.rule, start: m.start(), end: m.end(), score: 0.0, detail: None });
            }
        }
        let framing = self
            .grammar
            .as_ref()
            .filter(|_| grammar)
            .map(|g| g.find(v, &lower, out, |r| self.wanted(r, attack_only)));
        let [enabled_norm, enabled_raw] = enabled;
        let pass = self.phrase_regex_on(v, &lower, out, attack_only, letter_split);
        self.run_regexes(&self.normalized, v, Some(&lower), &enabled_norm, out, attack_only);
        ViewPass { enabled_raw, framing, ..pass }
    }

    /// Runs the phrase regexes whose required literals occur. The compact
    /// view is built when the gate or letter-splitting needs it.
    fn phrase_regex_on(
        &self,
        v: &str,
        lower: &str,
        out: &mut Vec<Hit>,
        attack_only: bool,
        letter_split: bool,
    ) -> ViewPass {
        let mut pass = ViewPass::default();
        let split_rules = letter_split
            && (!self.compact_rule.is_empty() || self.phrase_regex.iter().any(|p| p.compact.is_some()));
        if self.phrase_regex.is_empty() && !split_rules {
            return pass;
        }
        // Derived texts (`letter_split` off) only need the compact text for
        // the gate, not its map.
        let compact = if letter_split {
            normalize::compact(v)
        } else {
            normalize::Compact { text: normalize::compact_text(v), map: normalize::OffsetMap::default() }
        };
        let mut enabled = vec![false; self.phrase_regex.len()];
        for &i in &self.ungated_phrase_regex {
            enabled[i] = true;
        }
        if let Some(ac) = &self.compact_ac {
            let n_gate = self.gate_target.len();
            for m in ac.find_overlapping_iter(&compact.text) {
                let pid = m.pattern().as_usize();
                match self.gate_target.get(pid) {
                    Some(&target) => enabled[target] = true,
                    None if letter_split => {
                        let (rule, words) = self.compact_rule[pid - n_gate];
                        pass.compact_found.push((rule, words, m.start(), m.end()));
                    }
                    None => {}
                }
            }
        }
        for (p, _) in
            self.phrase_regex.iter().zip(&enabled).filter(|(p, e)| **e && (p.attack || !attack_only))
        {
            let Some(re) = p.re.get() else { continue };
            for m in re.find_iter(lower) {
                if p.word_boundary && !on_word_boundaries(v, m.start(), m.end()) {
                    continue;
                }
                out.push(Hit { rule: p.rule, start: m.start(), end: m.end(), score: 0.0, detail: None });
            }
        }
        pass.compact = letter_split.then_some(compact);
        pass.enabled_phrase_regex = enabled;
        pass
    }

    /// The derived texts of `text` (see [`derive`]), the grammar's words as
    /// their dictionary.
    pub(crate) fn derive(&self, text: &str) -> Vec<DerivedView> {
        let g = self.grammar.as_ref();
        let knows = |w: &str| g.is_some_and(|g| g.knows(w));
        let seg = |w: &str| knows(w) || self.phrase_words.contains(w);
        derive::views(text, &knows, &|w| g.is_some_and(|g| g.knows_word(w)), &seg)
    }

    /// Runs every matcher over `text`, appending hits with original spans.
    /// Decoded payloads (`depth > 0`) only look for attacks.
    pub(crate) fn scan(&self, text: &str, depth: u8, hits: &mut Vec<Hit>) {
        let derived = if depth == 0 { self.derive(text) } else { Vec::new() };
        self.scan_view(text, &normalize::view(text), &derived, depth, hits);
    }

    /// [`Engine::scan`] given `text`'s normalised view and derived texts
    /// (which the scanner shares with the learned scorer). Returns the
    /// view's distinct framing cues (at most `FRAMED_CUES`), which the
    /// grammar pass counts on the way, when it ran.
    pub(crate) fn scan_view(
        &self,
        text: &str,
        view: &normalize::View<'_>,
        derived: &[DerivedView],
        depth: u8,
        hits: &mut Vec<Hit>,
    ) -> Option<usize> {
        let attack_only = depth > 0;
        let v = view.text.as_ref();
        let mut vhits: Vec<Hit> = Vec::new();
        let ViewPass {
            compact,
            enabled_phrase_regex: enabled,
            compact_found: mut found,
            enabled_raw,
            framing,
        } = self.match_view(v, &mut vhits, ViewOpts { attack_only, letter_split: true, grammar: true });

        // Phrases run together or split by any separator, on the compact
        // (letters-only) view.
        if !self.compact_rule.is_empty() || self.phrase_regex.iter().any(|p| p.compact.is_some()) {
            let compact = compact.unwrap_or_else(|| normalize::compact(v));
            let normal = Spans::new(vhits.iter().map(|h| (h.rule, h.start, h.end)));
            for (p, _) in self.phrase_regex.iter().zip(&enabled).filter(|(_, e)| **e) {
                if let Some(re) = p.compact.as_ref().and_then(LazyRegex::get) {
                    found.extend(re.find_iter(&compact.text).map(|m| (p.rule, p.words, m.start(), m.end())));
                }
            }
            for (rule, words, cs, ce) in found {
                if ce - cs < MIN_COMPACT_LEN || !self.wanted(rule, attack_only) {
                    continue;
                }
                let (s, e) = compact.map.span(cs, ce);
                // Whole words only, and only what the plain matcher missed.
                if prev_is_word(v, s) || next_is_word(v, e) || !looks_split(&v[s..e], words) {
                    continue;
                }
                if normal.overlaps(rule, s, e) {
                    continue;
                }
                vhits.push(Hit { rule, start: s, end: e, score: 0.0, detail: Some("letter-split".into()) });
            }
        }

        // Map view hits back to the original text.
        let mut found = Vec::with_capacity(vhits.len());
        for mut h in vhits {
            let (s, e) = view.map.span(h.start, h.end);
            let e = extend_over_marks(text, e, self.trailing(h.rule));
            let matched = &v[h.start..h.end];
            if !self.accept(h.rule, matched, v, h.start, h.end, &mut h.score) {
                continue;
            }
            found.push(Hit { start: s, end: e, ..h });
        }

        // Derived texts (letters joined back, escapes decoded, leetspeak
        // folded, reversed text turned round): every attack rule runs once
        // more on each, and what it finds beyond the plain pass is added.
        if !derived.is_empty() {
            let plain = Spans::new(found.iter().map(|h| (h.rule, h.start, h.end)));
            for dv in derived {
                let jv = dv.view.text.as_ref();
                let mut jhits = Vec::new();
                self.match_view(
                    jv,
                    &mut jhits,
                    ViewOpts { attack_only: true, letter_split: false, grammar: true },
                );
                for mut h in jhits {
                    let (s, e) = dv.span(h.start, h.end);
                    let e = extend_over_marks(text, e, self.trailing(h.rule));
                    if plain.overlaps(h.rule, s, e) {
                        continue;
                    }
                    if !self.accept(h.rule, &jv[h.start..h.end], jv, h.start, h.end, &mut h.score) {
                        continue;
                    }
                    found.push(Hit { start: s, end: e, detail: Some(dv.kind.name().into()), ..h });
                }
            }
        }
        hits.extend(found);
        // Raw-view regexes: spans are already original.
        if !self.raw.rules.is_empty() {
            let mut raw_hits = Vec::new();
            self.run_regexes(&self.raw, text, None, &enabled_raw, &mut raw_hits, attack_only);
            for mut h in raw_hits {
                if self.accept(h.rule, &text[h.start..h.end], text, h.start, h.end, &mut h.score) {
                    hits.push(h);
                }
            }
        }

        // Built-in detectors.
        let input = detect::Input { text, view: v, map: &view.map, depth };
        for d in self.detectors.iter().filter(|d| !attack_only || d.attack()) {
            d.detect(&input, self, hits);
        }
        framing
    }

    fn run_regexes(
        &self,
        group: &RegexGroup,
        t: &str,
        lower: Option<&str>,
        enabled: &[bool],
        out: &mut Vec<Hit>,
        attack_only: bool,
    ) {
        let mut run = |r: &RegexRule| {
            if attack_only && !r.attack {
                return;
            }
            let Some(re) = r.re.get() else { return };
            if r.value_group {
                // The finding is the `value` group: `api_key = "<value>"`
                // reports and redacts the key, not its label.
                // The next search starts where the value ends, not where the
                // match ends: the delimiter a pattern consumed after one value
                // ("330-65-6303 ") may be the one the next value needs before it.
                let mut pos = 0;
                while pos <= t.len() {
                    let Some(c) = re.captures_at(t, pos) else { break };
                    let whole = c.get(0).map_or(pos..pos, |m| m.range());
                    match c.name("value").filter(|m| !m.is_empty()) {
                        Some(m) => {
                            out.push(Hit {
                                rule: r.rule,
                                start: m.start(),
                                end: m.end(),
                                score: 0.0,
                                detail: None,
                            });
                            pos = if m.end() > pos { m.end() } else { whole.end.max(pos + 1) };
                        }
                        None => pos = whole.end.max(pos + 1),
                    }
                    while pos < t.len() && !t.is_char_boundary(pos) {
                        pos += 1;
                    }
                }
                return;
            }
            for m in re.find_iter(t) {
                if !m.is_empty() {
                    out.push(Hit { rule: r.rule, start: m.start(), end: m.end(), score: 0.0, detail: None });
                }
            }
        };
        for (r, _) in group.rules.iter().zip(enabled).filter(|(r, en)| r.gated && **en) {
            let required = |l: &str| {
                r.required
                    .as_ref()
                    .is_none_or(|q| q.get_or_init(|| literals::Required::of(&r.re.src, r.re.ci)).present(l))
            };
            if lower.is_none_or(required) {
                run(r);
            }
        }
        if let Some(set) = group.set.as_ref().filter(|_| group.set_attack || !attack_only) {
            for i in set.matches(t).iter() {
                run(&group.rules[group.set_rules[i]]);
            }
        }
    }

    /// How far a span of `rule` extends over what the view dropped after it.
    fn trailing(&self, rule: u32) -> Trailing {
        if self.rules[rule as usize].category.is_attack() {
            Trailing::MarksAndHidden
        } else {
            Trailing::Marks
        }
    }

    /// Applies the validator, allow list and context words; sets the score.
    fn accept(&self, rule: u32, matched: &str, hay: &str, start: usize, end: usize, score: &mut f64) -> bool {
        let r = &self.rules[rule as usize];
        if let Some(v) = r.validate
            && !v.check(matched)
        {
            return false;
        }
        if !r.allow.is_empty() && r.allow.contains(&matched.trim().to_ascii_lowercase()) {
            return false;
        }
        if !r.unless.is_empty() && self.grammar.as_ref().is_some_and(|g| g.vetoes(matched, &r.unless)) {
            return false;
        }
        *score = r.score;
        if r.validate == Some(Validator::Phone) {
            use detect::phone::{Verdict, has_context, validate};
            let near = |strong| has_context(hay, start, end, &r.context, r.context_window, strong);
            *score = match validate(hay, start, end) {
                Verdict::Reject => return false,
                Verdict::Accept(s) => s,
                Verdict::NeedContext(s) if near(false) => s,
                Verdict::NeedStrongContext(s) if near(true) => s,
                _ => return false,
            };
        }
        if !r.exclude.is_empty() {
            let lo = floor_boundary(hay, start.saturating_sub(r.context_window));
            let before = hay[lo..start].to_ascii_lowercase();
            if r.exclude.iter().any(|w| word_in(&before, w)) {
                return false;
            }
        }
        if !r.context.is_empty() && r.context_boost != 0.0 {
            let lo = floor_boundary(hay, start.saturating_sub(r.context_window));
            let hi = ceil_boundary(hay, (end + r.context_window).min(hay.len()));
            let (before, after) = (hay[lo..start].to_lowercase(), hay[end..hi].to_lowercase());
            if r.context.iter().any(|c| word_starts(&before, c) || word_starts(&after, c)) {
                *score = (*score + r.context_boost).clamp(0.0, 1.0);
            }
        }
        true
    }
}

/// `s` with ASCII letters lower-cased, borrowed when it has no upper case.
fn ascii_lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) { s.to_ascii_lowercase().into() } else { s.into() }
}

/// Whether `w` occurs in `s` as a whole word.
fn word_in(s: &str, w: &str) -> bool {
    s.match_indices(w).any(|(i, _)| !prev_is_word(s, i) && !next_is_word(s, i + w.len()))
}

/// Whether a word of `s` starts with `w` ("tel" in "tel.", "telefono", not
/// in "hotel"); a literal `\n` counts as a word break. Unspaced scripts
/// match anywhere.
fn word_starts(s: &str, w: &str) -> bool {
    s.match_indices(w).any(|(i, _)| !prev_is_word(s, i) || s[..i].ends_with("\\n"))
}

/// Rewrites `\b` and `\B` outside character classes as ASCII word
/// boundaries. The view already folds non-ASCII letters, and a Unicode word
/// boundary makes the regex crate's lazy DFA give up on non-ASCII input and
/// fall back to a matcher that is one to two orders of magnitude slower.
pub fn ascii_boundaries(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 16);
    let mut chars = re.chars().peekable();
    let mut class = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(b @ ('b' | 'B')) if class == 0 => {
                    out.push_str("(?-u:\\");
                    out.push(b);
                    out.push(')');
                }
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '[' => {
                class += 1;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal, not the end.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
            }
            ']' if class > 0 => {
                class -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Checks one rule definition beyond what the schema enforces.
fn validate_def(def: &RuleDef) -> Result<(), String> {
    if !(0.0..=1.0).contains(&def.score) {
        return Err(format!("score {} is outside 0..=1", def.score));
    }
    if def.description.trim().is_empty() {
        return Err("description is empty".into());
    }
    let kinds = [def.phrases.is_some(), def.regex.is_some(), def.builtin.is_some(), def.grammar.is_some()];
    match kinds.iter().filter(|&&k| k).count() {
        0 => return Err("needs one of `phrases`, `regex`, `grammar` or `builtin`".into()),
        1 => {}
        _ => return Err("give only one of `phrases`, `regex`, `grammar` or `builtin`".into()),
    }
    if def.grammar.is_none() && (def.window.is_some() || def.sentences.is_some()) {
        return Err("`window` and `sentences` apply to grammar rules only".into());
    }
    if def.sentences.is_some_and(|n| n > 4) {
        return Err("`sentences` is at most 4".into());
    }
    if def.window.is_some_and(|w| w > 32) {
        return Err("`window` is at most 32 words".into());
    }
    if let Some(p) = &def.phrases
        && (p.is_empty() || p.iter().all(|s| s.trim().is_empty()))
    {
        return Err("phrase list is empty".into());
    }
    if def.regex.is_none() && (def.keywords.is_some() || def.view.is_some() || def.case_sensitive.is_some()) {
        return Err("`keywords`, `view` and `case_sensitive` apply to regex rules only".into());
    }
    if def.phrases.is_none() && (def.word_boundary.is_some() || def.split.is_some()) {
        return Err("`word_boundary` and `split` apply to phrase rules only".into());
    }
    if let Some(w) = &def.weights {
        w.check()?;
    }
    if let Some(sig) = &def.signal
        && !kebab(sig)
    {
        return Err(format!("signal {sig:?} must be kebab-case: lower-case letters, digits and '-'"));
    }
    if let Some(b) = def.context_boost
        && !(-1.0..=1.0).contains(&b)
    {
        return Err(format!("context_boost {b} is outside -1..=1"));
    }
    if let Some(e) = &def.entity
        && (e.is_empty() || !e.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
    {
        return Err(format!("entity {e:?} must be UPPER_SNAKE_CASE"));
    }
    Ok(())
}

/// Whether a match `[s, e)` does not cut a word at either end: an edge that
/// is a word character must not touch another word character.
fn on_word_boundaries(t: &str, s: usize, e: usize) -> bool {
    let first = t[s..e].chars().next().is_some_and(is_word_char);
    let last = t[s..e].chars().next_back().is_some_and(is_word_char);
    !((first && prev_is_word(t, s)) || (last && next_is_word(t, e)))
}

/// Whether a region matched in the letters-only view shows letter-splitting
/// (a one-letter token, a separator inside a word or standing alone, or
/// fewer tokens than the phrase has words) rather than the phrase's words
/// merely spaced as usual around punctuation the phrase requires. A
/// sentence's own punctuation after a word (`mode. On`) is not a split.
/// `words` is a lower bound on the phrase's word count.
fn looks_split(region: &str, words: usize) -> bool {
    let tokens: Vec<&str> = region.split(' ').collect();
    let split = |t: &str| {
        let inner = t.trim_end_matches([',', '.', ';', ':', '!', '?', ')', '"', '\'']);
        t.chars().count() == 1 || inner.is_empty() || inner.chars().any(|c| !c.is_alphanumeric())
    };
    tokens.iter().any(|t| split(t)) || tokens.len() < words
}

/// Whether a phrase is worth matching in the letters-only view: words, not
/// punctuation (`</instructions>` would reduce to one ordinary word), and
/// more than one word unless written without spaces (CJK).
fn compactable(phrase: &str) -> bool {
    let visible =
        phrase.chars().filter(|c| !c.is_whitespace() && *c != '{' && *c != '}' && *c != '|').count();
    let alnum = phrase.chars().filter(|c| c.is_alphanumeric()).count();
    let words = phrase.split_whitespace().count();
    let unspaced = phrase.chars().any(crate::normalize::is_unspaced_script);
    alnum * 10 >= visible * 8 && (words >= 2 || unspaced)
}

/// What a span end takes along of the characters the view dropped after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trailing {
    /// Combining marks and hidden characters: an attack phrase's span covers
    /// what disguised it, so redaction and sanitising remove that too.
    MarksAndHidden,
    /// Combining marks only: a value (personal data, a secret) is what its
    /// owner typed, and a hidden neighbour is no part of it. Absorbing one
    /// would put it into the redaction vault and out of the redacted text.
    Marks,
}

/// Extends a span end over the combining marks (and, for [`Trailing::MarksAndHidden`],
/// the invisible characters) that follow it: the view dropped them, but a
/// combining mark belongs to the last character (a span must not cut a
/// grapheme).
fn extend_over_marks(text: &str, mut e: usize, trailing: Trailing) -> usize {
    for c in text[e..].chars() {
        // Variation selectors are combining marks as well as hidden.
        let removed = match hidden_kind(c) {
            None => unicode_normalization::char::is_combining_mark(c),
            Some(HiddenKind::Tag) => false,
            Some(_) => trailing == Trailing::MarksAndHidden,
        };
        if !removed {
            break;
        }
        e += c.len_utf8();
    }
    e
}

/// Whether the character before byte `i` is a word character.
pub(crate) fn prev_is_word(s: &str, i: usize) -> bool {
    s[..i].chars().next_back().is_some_and(is_word_char)
}

/// Whether the character at byte `i` is a word character.
pub(crate) fn next_is_word(s: &str, i: usize) -> bool {
    s[i..].chars().next().is_some_and(is_word_char)
}

/// The built-in detectors the packs enable (`builtins`: which builtin each
/// rule names), in one table: hidden characters, decoders, names, then the
/// adversarial suffix. Scores are the rules' pack scores. With `tagger`,
/// the names detector's findings come from the learned name tagger.
fn detectors(builtins: &[(Builtin, u32)], rules: &[Rule], tagger: bool) -> Vec<Box<dyn Detector>> {
    use detect::encoded::{Decoder, Decoding, Encoding};
    let rule = |b: Builtin| builtins.iter().find(|(x, _)| *x == b).map(|&(_, i)| i);
    let scored = |b: Builtin| rule(b).map(|i| (i, rules[i as usize].score));
    let attack = |i: u32| rules[i as usize].category.is_attack();
    let mut out: Vec<Box<dyn Detector>> = Vec::new();
    let slots = [
        Builtin::InvisibleTag,
        Builtin::InvisibleBidi,
        Builtin::InvisibleVariation,
        Builtin::InvisibleControl,
        Builtin::InvisibleZeroWidth,
    ]
    .map(scored);
    if slots.iter().any(Option::is_some) {
        let attack_slots = slots.map(|s| s.filter(|&(i, _)| attack(i)));
        out.push(Box::new(detect::invisible::Hidden { slots, attack_slots }));
    }
    for (b, decoder) in [
        (Builtin::EncodedBase64, Decoder::Runs(Encoding::Base64)),
        (Builtin::EncodedBase32, Decoder::Runs(Encoding::Base32)),
        (Builtin::EncodedHex, Decoder::Runs(Encoding::Hex)),
        (Builtin::EncodedVariation, Decoder::Variation),
        (Builtin::EncodedRot13, Decoder::Rot13),
    ] {
        if let Some(rule) = rule(b) {
            out.push(Box::new(Decoding { decoder, rule, attack: attack(rule) }));
        }
    }
    if let Some(rule) = rule(Builtin::PersonNames) {
        out.push(Box::new(detect::names::PersonNames {
            names: detect::names::default_names(),
            rule,
            attack: attack(rule),
            tagger: tagger.then(detect::names::tagger::default_model),
        }));
    }
    let rules = [Builtin::AdversarialSuffix, Builtin::AdversarialSuffixLm].map(scored);
    if rules.iter().any(Option::is_some) {
        // Each half runs where its rule is wanted: in payloads, attack rules only.
        let attack_rules = rules.map(|r| r.filter(|&(i, _)| attack(i)));
        out.push(Box::new(crate::suffix_lm::Suffix { rules, attack_rules }));
    }
    out
}

impl detect::Rescan for Engine {
    fn rescan(&self, text: &str, depth: u8, hits: &mut Vec<Hit>) {
        self.scan(text, depth, hits);
    }

    /// Hits of the view matchers on an arbitrary derived text (used for
    /// ROT13), as `(rule, start, end)` in that text's offsets.
    fn view_hits(&self, t: &str) -> Vec<(u32, usize, usize)> {
        let mut out = Vec::new();
        // The grammar's word dictionary holds no ROT13 images, and its pass
        // would cost as much as the plain one; the phrases still run.
        self.match_view(t, &mut out, ViewOpts { attack_only: true, letter_split: false, grammar: false });
        out.into_iter().map(|h| (h.rule, h.start, h.end)).collect()
    }

    fn rule_facts(&self, rule: u32) -> (&str, Category, f64) {
        let r = &self.rules[rule as usize];
        (&r.id, r.category, r.score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_index() {
        let sp = Spans::new([(1, 0, 5), (1, 3, 9), (2, 10, 12), (1, 20, 22)].into_iter());
        assert!(sp.overlaps(1, 8, 10));
        assert!(!sp.overlaps(1, 9, 20));
        assert!(sp.overlaps(1, 21, 30));
        assert!(!sp.overlaps(2, 0, 10));
        assert!(sp.overlaps(2, 11, 11 + 1));
    }

    #[test]
    fn default_regexes_pass_the_checks_they_skip() {
        // Building trusts the embedded packs' regexes (see `RulePack::trusted`);
        // here they go through the same checks as a user's pack.
        let packs: Vec<RulePack> =
            RulePack::defaults().into_iter().map(|p| RulePack { trusted: false, ..p }).collect();
        let opts = CompileOptions { categories: None, disabled: &HashSet::new(), tagger: true };
        if let Err(e) = Engine::compile(&packs, &opts) {
            panic!("{e}");
        }
    }

    /// The required literal groups never rule out a match: every match of
    /// every gated default regex, on its own examples, holds all of them.
    #[test]
    fn required_literals_hold_in_every_match() {
        let opts = CompileOptions { categories: None, disabled: &HashSet::new(), tagger: true };
        let e = Engine::compile(&RulePack::defaults(), &opts).unwrap();
        let mut checked = 0;
        for r in e.normalized.rules.iter().filter(|r| r.required.is_some()) {
            let req = literals::Required::of(&r.re.src, r.re.ci);
            let Some(re) = r.re.get() else { continue };
            for ex in &e.rules[r.rule as usize].examples_match {
                let view = normalize::view(ex);
                for m in re.find_iter(&view.text) {
                    let lower = view.text[m.range()].to_ascii_lowercase();
                    assert!(req.present(&lower), "{}: {:?}", e.rules[r.rule as usize].id, m.as_str());
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn boundaries_become_ascii() {
        assert_eq!(ascii_boundaries(r"\bfoo\B"), r"(?-u:\bfoo)(?-u:\B)".replace("foo)", ")foo"));
        assert_eq!(ascii_boundaries(r"[\b]\\b"), r"[\b]\\b");
        assert_eq!(ascii_boundaries(r"[]\b]x\b"), r"[]\b]x(?-u:\b)");
    }
}
