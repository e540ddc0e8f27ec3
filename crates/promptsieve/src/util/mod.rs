//! Crate-private helpers.

pub(crate) mod front;
pub(crate) mod hidden;
pub(crate) mod reader;
pub(crate) mod sort;

/// `char::is_alphanumeric` for the Basic Multilingual Plane, a bit per code
/// point (written by build.rs with the same standard library).
static BMP_ALNUM: &[u8; 0x10000 / 8] = include_bytes!(concat!(env!("OUT_DIR"), "/bmp_alnum.bin"));

/// `c.is_alphanumeric()`, by one table lookup in the BMP: the standard
/// library searches its tables on every call, some hundred instructions
/// for a Hangul jamo or a Devanagari letter, and tokenising the grammar
/// vocabularies and non-Latin text calls it for every character.
#[inline]
pub(crate) fn is_alnum(c: char) -> bool {
    let u = c as u32;
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if u < 0x10000 {
        BMP_ALNUM[(u / 8) as usize] >> (u % 8) & 1 != 0
    } else {
        c.is_alphanumeric()
    }
}

/// The nearest char boundary of `s` at or before `i` (clamped to the end).
pub(crate) fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The nearest char boundary of `s` at or after `i` (clamped to the end).
pub(crate) fn ceil_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// HMAC-SHA256 of the concatenated `parts` under `key`, as lower-case hex.
/// Used for keyed-hash redaction and audit records, which must be stable
/// for one key and useless without it.
pub(crate) fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub(crate) fn hmac_bytes(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hex (either case); `None` when it is not hex.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_alnum_is_the_standard_librarys() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            assert_eq!(super::is_alnum(c), c.is_alphanumeric(), "{:04X}", c as u32);
        }
    }
}
