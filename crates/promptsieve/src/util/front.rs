//! Front-coded word lists: how `build.rs` embeds the name dictionaries.
//! Each entry is one byte with the length of the prefix it shares with the
//! entry before, the rest of its bytes, and a newline. Sorted lists of
//! names share long prefixes, so this is well under the text's size, and a
//! quarter less once gzipped (the `.wasm` budget).

/// The entries of a front-coded list, one per line.
///
/// # Errors
///
/// A shared prefix longer than the entry before, a missing final newline
/// or text that is not UTF-8.
pub(crate) fn decode(data: &[u8]) -> Result<String, String> {
    let mut out: Vec<u8> = Vec::with_capacity(data.len() * 2);
    // The entry before: where it starts in `out`, and its length.
    let (mut prev_at, mut prev_len) = (0usize, 0usize);
    let mut at = 0usize;
    for n in 0.. {
        let Some(&k) = data.get(at) else { break };
        let k = usize::from(k);
        if k > prev_len {
            return Err(format!("entry {n}: shared prefix {k} longer than the entry before ({prev_len})"));
        }
        let rest = &data[at + 1..];
        let Some(len) = rest.iter().position(|&b| b == b'\n') else {
            return Err(format!("entry {n}: no newline"));
        };
        let start = out.len();
        out.extend_from_within(prev_at..prev_at + k);
        out.extend_from_slice(&rest[..len]);
        (prev_at, prev_len) = (start, out.len() - start);
        out.push(b'\n');
        at += len + 2;
    }
    String::from_utf8(out).map_err(|e| format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()))
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn round_trips_the_embedded_dictionaries() {
        for (name, fc) in crate::detect::names::EMBEDDED_DICTS {
            let text = std::fs::read_to_string(format!(
                "{}/../../rules/dict/{name}.txt",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let want: Vec<&str> =
                text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect();
            let got = decode(fc).unwrap();
            assert_eq!(got.lines().collect::<Vec<_>>(), want, "{name}");
            assert!(fc.len() < text.len(), "{name}: front coding did not shrink it");
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode(b"").unwrap(), "");
        assert_eq!(decode(b"\x00anna\n\x03e\n\x01lf\n").unwrap(), "anna\nanne\nalf\n");
        assert!(decode(b"\x01x\n").unwrap_err().contains("longer"));
        assert!(decode(b"\x00abc").unwrap_err().contains("newline"));
        assert!(decode(b"\x00\xff\n").unwrap_err().contains("UTF-8"));
    }
}
