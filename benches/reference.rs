//! The reference lines every figure is divided by, measured in the same run:
//!
//! - `memchr`: counting a byte that never occurs, which reads every byte at
//!   close to memory bandwidth. This is the practical ceiling for any pass
//!   over the text.
//! - `regexset`: one plain `regex::RegexSet` holding the default packs'
//!   patterns, without the engine's structure (no normalised view, keyword
//!   gates, validators, context, letter-splitting or builtins). Phrase rules
//!   become one escaped alternation each (`{a|b}` groups as `(?:a|b)`),
//!   regex rules are taken as written. Builtin rules (hidden characters,
//!   encoded payloads, person names) have no pattern and are left out.
//!
//! The public API does not expose rule sources, so the packs are read here
//! from the same TOML files the library embeds.

use promptsieve::internals::{ascii_boundaries, phrase_to_regex};
use regex::{RegexSet, RegexSetBuilder};

/// The default packs, as the library embeds them.
pub const DEFAULT_PACKS: &[&str] = &[
    include_str!("../rules/packs/injection.toml"),
    include_str!("../rules/packs/hidden.toml"),
    include_str!("../rules/packs/pii.toml"),
    include_str!("../rules/packs/secrets.toml"),
    include_str!("../rules/packs/pii-phone.toml"),
    include_str!("../rules/packs/pii-person.toml"),
];

/// One pattern per phrase or regex rule of each pack, with its flags inline.
///
/// # Panics
///
/// When a pack is not valid TOML; the packs are fixed, so this is a bug in
/// the benchmark.
pub fn patterns<'a>(packs: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    for src in packs {
        let pack: toml::Table = src.parse().expect("rule pack is valid TOML");
        let Some(rules) = pack.get("rule").and_then(|r| r.as_array()) else { continue };
        for rule in rules {
            let flag = |key: &str| rule.get(key).and_then(|v| v.as_bool());
            if let Some(phrases) = rule.get("phrases").and_then(|p| p.as_array()) {
                let boundary = flag("word_boundary").unwrap_or(true);
                let alts: Vec<String> =
                    phrases.iter().filter_map(|p| p.as_str()).map(|p| phrase_regex(p, boundary)).collect();
                out.push(format!("(?i)(?:{})", alts.join("|")));
            } else if let Some(re) = rule.get("regex").and_then(|r| r.as_str()) {
                let ci = !flag("case_sensitive").unwrap_or(false);
                out.push(format!("{}{}", if ci { "(?i)" } else { "" }, ascii_boundaries(re)));
            }
        }
    }
    out
}

/// The patterns of the default packs.
pub fn default_patterns() -> Vec<String> {
    patterns(DEFAULT_PACKS.iter().copied())
}

/// Compiles `patterns` into one set, with size limits large enough that no
/// pattern is refused and the lazy DFA has room to work.
///
/// # Panics
///
/// When a pattern does not compile (a bug in the translation above).
pub fn regex_set(patterns: &[String]) -> RegexSet {
    RegexSetBuilder::new(patterns)
        .size_limit(512 << 20)
        .dfa_size_limit(64 << 20)
        .build()
        .expect("reference patterns compile")
}

/// A phrase as a regex: literal text escaped, `{a|b}` groups as `(?:a|b)`,
/// each space as ` *` (so an empty alternative never demands two spaces,
/// as the engine's own regex form of a phrase does), and an ASCII word
/// boundary at either end that starts or ends with a word character.
fn phrase_regex(phrase: &str, boundary: bool) -> String {
    // The engine's own regex form of a phrase, without its normalisation.
    let out = phrase_to_regex(phrase, false, str::to_string).unwrap_or_else(|_| regex::escape(phrase));
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '{' || c == '}');
    let trimmed = phrase.trim();
    let (pre, post) = if boundary {
        (
            if word(trimmed.chars().next()) { r"(?-u:\b)" } else { "" },
            if word(trimmed.chars().last()) { r"(?-u:\b)" } else { "" },
        )
    } else {
        ("", "")
    };
    format!("{pre}(?:{out}){post}")
}

/// The memchr line: counts NUL bytes, which none of the inputs contain, so
/// every byte is read.
pub fn memchr_pass(text: &str) -> usize {
    memchr::memchr_iter(b'\0', text.as_bytes()).count()
}
