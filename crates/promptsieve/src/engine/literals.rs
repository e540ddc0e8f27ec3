//! Literals a regex cannot match without: a regex whose required literals
//! do not all occur in a text need not run on it.
//!
//! A rule's keywords are a hand-written gate ("no ", "have", "without"),
//! often words every text holds. Most rule regexes are also sequences of
//! word groups (`(?:ignore|bypass|…) … (?:ethical|moral|…) …
//! (?:guidelines|rules|…)`), and every match holds one word of each group:
//! the conjunction of the groups is far more selective than the keywords
//! and still exact. The groups are read from the parsed pattern.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_syntax::hir::{Hir, HirKind};

/// The shortest literal worth searching for: a shorter one occurs anywhere.
const MIN_LEN: usize = 3;
/// At most this many literals per group (larger ones gate little and
/// search slowly).
const MAX_SET: usize = 64;
/// At most this many groups per regex.
const MAX_GROUPS: usize = 3;

/// Sets of literals such that every match of `h` contains one member of
/// each set (as bytes, as the pattern spells them).
fn required(h: &Hir) -> Vec<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Literal(l) => vec![vec![l.0.to_vec()]],
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Concat(hs) => hs.iter().flat_map(required).collect(),
        HirKind::Alternation(hs) => {
            // Each branch must contribute a set; their union is required.
            let mut union = Vec::new();
            for b in hs {
                match best(required(b)) {
                    Some(s) => union.extend(s),
                    None => return Vec::new(),
                }
            }
            vec![union]
        }
        _ => Vec::new(),
    }
}

/// How selective a set looks: its shortest literal, then fewer members.
fn rank(s: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    (s.iter().map(Vec::len).min().unwrap_or(0), std::cmp::Reverse(s.len()))
}

fn best(sets: Vec<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    sets.into_iter().filter(|s| !s.is_empty()).max_by_key(|s| rank(s))
}

/// The required literal groups of one regex, each as an automaton over
/// ASCII-lower-cased text.
#[derive(Debug, Default)]
pub(crate) struct Required {
    groups: Vec<AhoCorasick>,
}

impl Required {
    /// The groups of `src` (a rule regex; `ci` for case-insensitive), for
    /// matching against the ASCII-lower-cased haystack. Groups that cannot
    /// be searched that way exactly are left out: with case folding, a
    /// non-ASCII literal may match other spellings than its lower case.
    pub(crate) fn of(src: &str, ci: bool) -> Required {
        let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(src) else {
            return Required::default();
        };
        let mut sets: Vec<Vec<Vec<u8>>> = required(&hir)
            .into_iter()
            .filter(|s| {
                !s.is_empty()
                    && s.len() <= MAX_SET
                    && s.iter().all(|l| l.len() >= MIN_LEN && (!ci || l.is_ascii()))
                    && std::str::from_utf8(&s.concat()).is_ok()
            })
            .collect();
        crate::util::sort::sort_by_key(&mut sets, |s| std::cmp::Reverse(rank(s)));
        let groups = sets
            .into_iter()
            .take(MAX_GROUPS)
            .filter_map(|s| {
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(s.iter().map(|l| l.to_ascii_lowercase()))
                    .ok()
            })
            .collect();
        Required { groups }
    }

    /// Whether every group has a member in `lower` (the view, ASCII lower
    /// case): otherwise the regex cannot match the view.
    pub(crate) fn present(&self, lower: &str) -> bool {
        self.groups.iter().all(|g| g.is_match(lower))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_of_a_sequence_are_required() {
        let r =
            Required::of(r"\b(?:ignore|bypass) (?:the |all )*(?:ethical|moral) (?:rules|guidelines)\b", true);
        assert_eq!(r.groups.len(), 3);
        assert!(r.present("please bypass the moral rules"));
        assert!(!r.present("please bypass the rules"));
        // Optional parts and short literals are not required.
        let r = Required::of(r"(?:a|b)?xyz\d+", false);
        assert_eq!(r.groups.len(), 1);
        assert!(r.present("xyz1") && !r.present("xy1"));
        // An alternation with a branch that requires nothing requires nothing.
        assert!(Required::of(r"(?:foo|\d+)bar", false).groups.len() == 1);
        assert!(Required::of(r"(?:foo|\d+)", false).groups.is_empty());
        // Case-insensitive non-ASCII literals are left out.
        assert!(Required::of(r"straße", true).groups.is_empty());
        assert_eq!(Required::of(r"straße", false).groups.len(), 1);
    }
}
