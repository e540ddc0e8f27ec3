//! Expansion of phrase alternation groups: `"{ignore|disregard} {all |}rules"`.

/// Most variants one phrase string expands to before the engine compiles it
/// as a regex instead (a product of alternations is small as an NFA and
/// large as a literal list).
pub(crate) const MAX_VARIANTS: usize = 64;

/// Expands every `{a|b|…}` group into the cartesian product of its
/// alternatives. An empty alternative is allowed and groups may nest
/// (`{x|y {z|w}}`). Runs of spaces collapse and the ends are trimmed.
///
/// # Errors
///
/// Unbalanced braces. Returns `Ok(None)` when the phrase has more than
/// [`MAX_VARIANTS`] variants (see [`phrase_to_regex`]).
pub(crate) fn expand_phrase(phrase: &str) -> Result<Option<Vec<String>>, String> {
    expand_phrase_up_to(phrase, MAX_VARIANTS)
}

/// [`expand_phrase`] with another limit on the number of variants (grammar
/// slots go into one literal automaton, where thousands are cheap).
pub(crate) fn expand_phrase_up_to(phrase: &str, limit: usize) -> Result<Option<Vec<String>>, String> {
    let bytes = phrase.as_bytes();
    let mut pos = 0;
    let out = match sequence(phrase, bytes, &mut pos, false, limit) {
        Ok(out) => out,
        Err(e) if e.is_empty() => {
            // Too many variants: still check the syntax, for a clear error.
            phrase_to_regex(phrase, false, |s| s.to_string())?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if pos != bytes.len() {
        return Err(format!("unbalanced '}}' in phrase {phrase:?}"));
    }
    Ok(Some(out.into_iter().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).collect()))
}

/// Translates a phrase into an equivalent regex: groups become `(?:…)`,
/// literal text is normalised by `norm` and escaped, and each space becomes
/// ` *` so an empty alternative never demands two spaces (this also accepts
/// the words run together, which is itself an evasion). With `compact`, only
/// letters and digits are kept, for matching the letters-only view.
///
/// # Errors
///
/// Unbalanced braces.
pub fn phrase_to_regex(phrase: &str, compact: bool, norm: impl Fn(&str) -> String) -> Result<String, String> {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut lit = String::new();
    let flush = |lit: &mut String, out: &mut String| {
        if lit.is_empty() {
            return;
        }
        let mut n = norm(lit);
        if compact {
            n.retain(|c| c.is_alphanumeric() || c == ' ');
        }
        for (i, word) in n.split(' ').enumerate() {
            if i > 0 {
                out.push_str(" *");
            }
            out.push_str(&regex::escape(word));
        }
        lit.clear();
    };
    for c in phrase.chars() {
        match c {
            '{' => {
                flush(&mut lit, &mut out);
                out.push_str("(?:");
                depth += 1;
            }
            '|' if depth > 0 => {
                flush(&mut lit, &mut out);
                out.push('|');
            }
            '}' => {
                flush(&mut lit, &mut out);
                if depth == 0 {
                    return Err(format!("unbalanced '}}' in phrase {phrase:?}"));
                }
                out.push(')');
                depth -= 1;
            }
            _ => lit.push(c),
        }
    }
    flush(&mut lit, &mut out);
    if depth != 0 {
        return Err(format!("unclosed '{{' in phrase {phrase:?}"));
    }
    Ok(out.trim_matches(|c| c == ' ' || c == '*').to_string())
}

/// Parses a sequence of literals and groups up to an unmatched `|` or `}`
/// (inside a group) or the end.
fn sequence(
    phrase: &str,
    b: &[u8],
    pos: &mut usize,
    in_group: bool,
    limit: usize,
) -> Result<Vec<String>, String> {
    let mut out = vec![String::new()];
    let mut lit = *pos;
    while *pos < b.len() {
        match b[*pos] {
            b'{' => {
                let text = &phrase[lit..*pos];
                out.iter_mut().for_each(|s| s.push_str(text));
                *pos += 1;
                let mut alts = Vec::new();
                loop {
                    alts.extend(sequence(phrase, b, pos, true, limit)?);
                    match b.get(*pos) {
                        Some(b'|') => *pos += 1,
                        Some(b'}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return Err(format!("unclosed '{{' in phrase {phrase:?}")),
                    }
                }
                if out.len().saturating_mul(alts.len()) > limit {
                    // An empty error means "too many"; the caller switches to a regex.
                    return Err(String::new());
                }
                out = out.iter().flat_map(|p| alts.iter().map(move |a| format!("{p}{a}"))).collect();
                lit = *pos;
            }
            b'|' | b'}' if in_group => break,
            b'}' => return Err(format!("unbalanced '}}' in phrase {phrase:?}")),
            _ => *pos += 1,
        }
    }
    let text = &phrase[lit..*pos];
    out.iter_mut().for_each(|s| s.push_str(text));
    Ok(out)
}

/// Literals of which at least one occurs (letters and digits only, lower
/// case) in every text a phrase matches, for gating its regex: the longest
/// word outside the groups, or else the alternatives of the group with the
/// fewest of them. `None` when no such set is found (the regex always runs).
pub(crate) fn required_literals(phrase: &str, norm: impl Fn(&str) -> String) -> Option<Vec<String>> {
    // Normalise first (NFKD turns `™` into `TM`), then keep letters and digits.
    let squash = |s: &str| -> String { norm(s).chars().filter(|c| c.is_alphanumeric()).collect() };
    // Split the top level into literal text and groups.
    let mut outside = String::new();
    let mut groups: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in phrase.chars() {
        match c {
            '{' => {
                if depth > 0 {
                    cur.push(c);
                }
                depth += 1;
                outside.push(' ');
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    groups.push(std::mem::take(&mut cur));
                } else {
                    cur.push(c);
                }
            }
            _ if depth == 0 => outside.push(c),
            _ => cur.push(c),
        }
    }
    if let Some(w) =
        outside.split_whitespace().map(squash).filter(|w| w.chars().count() >= 3).max_by_key(|w| w.len())
    {
        return Some(vec![w]);
    }
    groups
        .iter()
        .filter_map(|g| {
            let alts = expand_phrase(&format!("{{{g}}}")).ok()??;
            let lits: Vec<String> = alts.iter().map(|a| squash(a)).collect();
            (!lits.iter().any(String::is_empty)).then_some(lits)
        })
        .min_by_key(Vec::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_literal_sets() {
        let lower = |s: &str| s.to_lowercase();
        assert_eq!(
            required_literals("{ignore|forget} all previous {rules|x}", lower),
            Some(vec!["previous".to_string()])
        );
        assert_eq!(
            required_literals("{忽略|无视}{之前|以前|}的", lower),
            Some(vec!["忽略".to_string(), "无视".to_string()])
        );
        assert_eq!(required_literals("{a|}{b|}", lower), None);
    }

    #[test]
    fn expands_groups() {
        let v = expand_phrase("{ignore|forget} {all |}rules").unwrap().unwrap();
        assert_eq!(v, ["ignore all rules", "ignore rules", "forget all rules", "forget rules"]);
        assert_eq!(expand_phrase("plain").unwrap().unwrap(), ["plain"]);
    }

    #[test]
    fn rejects_bad_braces() {
        assert!(expand_phrase("a {b").is_err());
        assert!(expand_phrase("a }b").is_err());
        assert_eq!(expand_phrase("a {b {c|d}|e}").unwrap().unwrap(), ["a b c", "a b d", "a e"]);
        assert!(expand_phrase("a |b").unwrap().unwrap() == ["a |b"]);
        let big = "{a|b|c|d|e|f|g|h}".repeat(3);
        assert_eq!(expand_phrase(&big), Ok(None));
        assert!(expand_phrase(&format!("{big} {{x")).is_err());
    }

    #[test]
    fn regex_form() {
        let c = phrase_to_regex("{new|updated} instructions:", true, |s| s.to_lowercase()).unwrap();
        assert_eq!(c, "(?:new|updated) *instructions");
        let re = phrase_to_regex("{ignore|forget} {all |}prior.rules", false, |s| s.to_lowercase()).unwrap();
        assert_eq!(re, r"(?:ignore|forget) *(?:all *|)prior\.rules");
        let r = regex::Regex::new(&re).unwrap();
        assert!(r.is_match("forget prior.rules"));
        assert!(r.is_match("ignore all prior.rules"));
    }
}
