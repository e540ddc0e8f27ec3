//! Encoded payloads: base64, hex and ROT13 runs that decode to text carrying
//! an attack. Decoding is bounded in size (per scan) and depth (nested
//! encodings), so hostile input cannot make a scan expensive.

use crate::engine::{Engine, Hit, MAX_DEPTH};
use crate::normalize::{OffsetMap, rot13};

/// Total decoded bytes one scan examines.
const MAX_DECODED: usize = 64 * 1024;
/// Shortest base64 run considered (12 decoded bytes).
const MIN_BASE64: usize = 16;
/// Fewest hex byte pairs considered.
const MIN_HEX_PAIRS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Base64,
    Hex,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
        }
    }
}

fn b64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decodes standard or URL-safe base64, ignoring padding and single spaces
/// (line wrapping collapses to spaces in the view).
pub(crate) fn decode_base64(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut n = 0;
    for &b in s {
        if b == b'=' || b == b' ' {
            continue;
        }
        acc = (acc << 6) | u32::from(b64_value(b)?);
        bits += 6;
        n += 1;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (n % 4 != 1).then_some(out)
}

/// Whether decoded bytes look like text worth scanning.
fn texty(bytes: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(bytes).ok()?;
    let total = s.chars().count();
    let printable = s.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r')).count();
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    (total > 0 && printable * 100 >= total * 90 && letters >= 4 && letters * 2 >= total).then_some(s)
}

/// Candidate base64 runs `[start, end)` in the view: alphabet runs, joined
/// across single spaces when the earlier part looks like a wrapped line.
fn base64_runs(v: &[u8]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        if b64_value(v[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        while i < v.len() && (b64_value(v[i]).is_some()) {
            i += 1;
        }
        while i < v.len() && v[i] == b'=' {
            i += 1;
        }
        if let Some(last) = runs.last_mut() {
            let len = last.1 - last.0;
            if last.1 + 1 == start && v[last.1] == b' ' && len >= 40 && len % 4 == 0 {
                last.1 = i;
                continue;
            }
        }
        runs.push((start, i));
    }
    runs.retain(|&(s, e)| {
        let run = &v[s..e];
        e - s >= MIN_BASE64
            && run.iter().any(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || matches!(b, b'+' | b'/'))
            && run.iter().any(u8::is_ascii_lowercase)
    });
    runs
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Candidate hex runs: byte pairs, optionally prefixed `\x`, `0x` or `%`
/// and separated by one of ` :,-`.
fn hex_runs(v: &[u8]) -> Vec<(usize, usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        if i > 0 && v[i - 1].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i;
        let mut bytes = Vec::new();
        let mut end = i;
        loop {
            let mut k = j;
            if v[k..].starts_with(b"\\x") || v[k..].starts_with(b"0x") || v[k..].starts_with(b"0X") {
                k += 2;
            } else if v.get(k) == Some(&b'%') {
                k += 1;
            }
            match (v.get(k).copied().and_then(hex_value), v.get(k + 1).copied().and_then(hex_value)) {
                (Some(h), Some(l)) => {
                    bytes.push(h << 4 | l);
                    end = k + 2;
                    j = end;
                    if matches!(v.get(j), Some(b' ' | b':' | b',' | b'-'))
                        && v.get(j + 1).is_some_and(|b| hex_value(*b).is_some() || *b == b'\\' || *b == b'%')
                    {
                        j += 1;
                    }
                }
                _ => break,
            }
        }
        if bytes.len() >= MIN_HEX_PAIRS && !v.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            out.push((start, end, bytes));
        }
        i = end.max(i + 1);
    }
    out
}

/// Scans base64 or hex runs of the view `v`; a run whose decoded text
/// carries attack findings becomes one hit of `rule`.
pub(crate) fn scan(
    engine: &Engine,
    v: &str,
    map: &OffsetMap,
    enc: Encoding,
    rule: u32,
    depth: u8,
    hits: &mut Vec<Hit>,
) {
    let bytes = v.as_bytes();
    let mut budget = MAX_DECODED;
    let candidates: Vec<(usize, usize, Vec<u8>)> = match enc {
        Encoding::Base64 => base64_runs(bytes)
            .into_iter()
            .filter_map(|(s, e)| decode_base64(&bytes[s..e]).map(|d| (s, e, d)))
            .collect(),
        Encoding::Hex => hex_runs(bytes),
    };
    for (s, e, decoded) in candidates {
        if decoded.len() > budget {
            break;
        }
        budget -= decoded.len();
        let Some(text) = texty(&decoded) else { continue };
        let mut inner = Vec::new();
        engine.scan(text, depth + 1, &mut inner);
        let best = inner
            .iter()
            .filter(|h| engine.rules[h.rule as usize].category.is_attack())
            .max_by(|a, b| a.score.total_cmp(&b.score));
        if let Some(best) = best {
            let (os, oe) = map.span(s, e);
            let preview: String = text.chars().take(80).collect();
            hits.push(Hit {
                rule,
                start: os,
                end: oe,
                score: engine.rules[rule as usize].score.max(best.score),
                detail: Some(format!(
                    "{} payload decodes to {preview:?}, which matches {}",
                    enc.name(),
                    engine.rules[best.rule as usize].id
                )),
            });
        }
    }
    debug_assert!(depth < MAX_DEPTH);
}

/// Scans the ROT13 of the view with the view matchers.
pub(crate) fn scan_rot13(engine: &Engine, v: &str, map: &OffsetMap, rule: u32, hits: &mut Vec<Hit>) {
    if !v.bytes().any(|b| b.is_ascii_alphabetic()) {
        return;
    }
    let r = rot13(v);
    for (matched, s, e) in engine.view_hits(&r) {
        let m = &engine.rules[matched as usize];
        if !m.category.is_attack() {
            continue;
        }
        let (os, oe) = map.span(s, e);
        hits.push(Hit {
            rule,
            start: os,
            end: oe,
            score: engine.rules[rule as usize].score.max(m.score),
            detail: Some(format!("ROT13 of {:?}, which matches {}", &r[s..e], m.id)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_roundtrip() {
        assert_eq!(decode_base64(b"aWdub3JlIGFsbA==").unwrap(), b"ignore all");
        assert_eq!(decode_base64(b"aWdub3JlIGFsbA").unwrap(), b"ignore all");
        assert!(decode_base64(b"a").is_none());
        assert!(decode_base64(b"ab$c").is_none());
    }

    #[test]
    fn runs() {
        let v = b"look: aWdub3JlIGFsbCBwcmV2aW91cw== now";
        assert_eq!(base64_runs(v), [(6, 34)]);
        assert!(base64_runs(b"internationalization").is_empty());
        let h = hex_runs(b"x 69 67 6e 6f 72 65 20 61 6c 6c y");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].2, b"ignore all");
        assert_eq!(hex_runs(b"\\x69\\x67\\x6e\\x6f\\x72\\x65\\x20\\x61")[0].2, b"ignore a");
        assert_eq!(hex_runs(b"69676e6f726520616c6c")[0].2, b"ignore all");
    }
}
