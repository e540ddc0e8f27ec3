//! Encoded payloads: base64, hex and ROT13 runs that decode to text carrying
//! an attack. Decoding is bounded in size (per scan) and depth (nested
//! encodings), so hostile input cannot make a scan expensive.

use crate::engine::{Engine, Hit};
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
    let mut padded = false;
    for &b in s {
        if b == b' ' {
            continue;
        }
        if b == b'=' {
            padded = true;
            continue;
        }
        if padded {
            // Data after padding: not one payload.
            return None;
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

/// Candidate base64 runs in the view, as groups of pieces: each maximal
/// alphabet run is a piece, and consecutive pieces one space apart form a
/// group when they look like one payload wrapped at a fixed width (every
/// piece but the last of equal length, a multiple of 4, at least 40, and no
/// padding before the end). A group is tried whole first, then piece by
/// piece.
fn base64_runs(v: &[u8]) -> Vec<Vec<(usize, usize)>> {
    let plausible = |&(s, e): &(usize, usize)| {
        let run = &v[s..e];
        e - s >= MIN_BASE64
            && run.iter().any(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || matches!(b, b'+' | b'/'))
            && run.iter().any(u8::is_ascii_lowercase)
    };
    // Pieces are grouped as they are found, and a group is kept only when
    // it holds a plausible piece: ordinary words are pieces too, and most
    // texts have no group worth keeping.
    let mut groups: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut group: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        if b64_value(v[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        while i < v.len() && b64_value(v[i]).is_some() {
            i += 1;
        }
        while i < v.len() && v[i] == b'=' {
            i += 1;
        }
        let p = (start, i);
        if let Some(&(ls, le)) = group.last() {
            let width = group[0].1 - group[0].0;
            let wrapped = le + 1 == p.0
                && v[le] == b' '
                && v[le - 1] != b'='
                && le - ls == width
                && width >= 40
                && width.is_multiple_of(4)
                && p.1 - p.0 <= width;
            if wrapped {
                group.push(p);
                continue;
            }
            if group.iter().any(plausible) {
                groups.push(std::mem::take(&mut group));
            }
            group.clear();
        }
        group.push(p);
    }
    if group.iter().any(plausible) {
        groups.push(group);
    }
    groups
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
    // Decoding is lazy and charged to the budget first, so a huge run cannot
    // make the scan expensive, and an oversized one does not hide the runs
    // after it.
    let mut try_one = |s: usize, e: usize, budget: &mut usize| -> bool {
        let estimate = match enc {
            Encoding::Base64 => (e - s) * 3 / 4,
            Encoding::Hex => (e - s) / 2,
        };
        if estimate > *budget {
            return false;
        }
        *budget -= estimate;
        let decoded = match enc {
            Encoding::Base64 => decode_base64(&bytes[s..e]),
            Encoding::Hex => hex_runs(&bytes[s..e]).into_iter().next().map(|(_, _, d)| d),
        };
        let Some(decoded) = decoded else { return false };
        let Some(text) = texty(&decoded) else { return false };
        let mut inner = Vec::new();
        engine.scan(text, depth + 1, &mut inner);
        // Hidden characters inside a decoded payload say it is binary (a DER
        // certificate, an image), not that it hides an attack.
        let best = inner
            .iter()
            .filter(|h| {
                let c = engine.rules[h.rule as usize].category;
                c.is_attack() && c != crate::finding::Category::Invisible
            })
            .max_by(|a, b| a.score.total_cmp(&b.score));
        let Some(best) = best else { return false };
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
        true
    };
    match enc {
        Encoding::Base64 => {
            for group in base64_runs(bytes) {
                let (gs, ge) = (group[0].0, group[group.len() - 1].1);
                if group.len() > 1 && try_one(gs, ge, &mut budget) {
                    continue;
                }
                for (s, e) in group {
                    if e - s >= MIN_BASE64 {
                        try_one(s, e, &mut budget);
                    }
                }
            }
        }
        Encoding::Hex => {
            for (s, e, _) in hex_runs(bytes) {
                try_one(s, e, &mut budget);
            }
        }
    }
}

/// Scans the ROT13 of the view with the view matchers.
pub(crate) fn scan_rot13(engine: &Engine, v: &str, map: &OffsetMap, rule: u32, hits: &mut Vec<Hit>) {
    if !v.bytes().any(|b| b.is_ascii_alphabetic()) {
        return;
    }
    let r = rot13(v);
    for (matched, s, e) in engine.view_hits(&r) {
        let m = &engine.rules[matched as usize];
        // ROT13 leaves everything but ASCII letters alone: a match whose
        // letters it did not change (Japanese text) is the plain text's.
        if !m.category.is_attack() || r[s..e] == v[s..e] {
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
        assert_eq!(base64_runs(v), [vec![(6, 34)]]);
        assert!(decode_base64(b"aWdu=aWdu").is_none());
        // A padded payload is never glued to the word after it.
        let p = b"aWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM= please";
        assert_eq!(base64_runs(p), [vec![(0, 44)]]);
        assert!(base64_runs(b"internationalization").is_empty());
        let h = hex_runs(b"x 69 67 6e 6f 72 65 20 61 6c 6c y");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].2, b"ignore all");
        assert_eq!(hex_runs(b"\\x69\\x67\\x6e\\x6f\\x72\\x65\\x20\\x61")[0].2, b"ignore a");
        assert_eq!(hex_runs(b"69676e6f726520616c6c")[0].2, b"ignore all");
    }
}
