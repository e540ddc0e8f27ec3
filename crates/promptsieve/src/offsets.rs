//! Offset units: spans are UTF-8 bytes in Rust; bindings report them in
//! their language's own unit. This is the one converter they all use.

use serde::{Deserialize, Serialize};

/// The unit a caller counts string positions in.
///
/// # Example
///
/// ```
/// use promptsieve::{Offsets, Unit};
/// let text = "😀 ana@example.org";
/// assert_eq!(Offsets::new(text, Unit::Utf8).at(5), 5);
/// assert_eq!(Offsets::new(text, Unit::CodePoints).at(5), 2);
/// assert_eq!(Offsets::new(text, Unit::Utf16).at(5), 3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Unit {
    /// UTF-8 bytes (Rust, Go).
    #[default]
    Utf8,
    /// Unicode scalar values (Python `str` indices).
    CodePoints,
    /// UTF-16 code units (JavaScript, Java, C#).
    Utf16,
}

/// Converts UTF-8 byte offsets of one string into another [`Unit`]: a
/// checkpoint every 64 bytes (1/16 of the text in memory), then a short
/// count, so converting every span of a long text stays linear.
#[derive(Clone, Debug)]
pub struct Offsets<'a> {
    text: &'a str,
    unit: Unit,
    /// Units before each 64-byte block; empty when units equal bytes.
    blocks: Vec<usize>,
}

const BLOCK: usize = 64;

impl<'a> Offsets<'a> {
    /// A converter for `text`.
    ///
    /// # Example
    ///
    /// ```
    /// let o = promptsieve::Offsets::new("é", promptsieve::Unit::CodePoints);
    /// assert_eq!(o.at(2), 1);
    /// ```
    pub fn new(text: &'a str, unit: Unit) -> Offsets<'a> {
        let mut o = Offsets { text, unit, blocks: Vec::new() };
        if unit == Unit::Utf8 || text.is_ascii() {
            o.unit = Unit::Utf8;
            return o;
        }
        o.blocks.reserve(text.len() / BLOCK + 1);
        let mut n = 0;
        for chunk in text.as_bytes().chunks(BLOCK) {
            o.blocks.push(n);
            n += units(unit, chunk);
        }
        o
    }

    /// The offset, in this converter's unit, of byte offset `byte` (a char
    /// boundary; offsets past the end count as the end).
    ///
    /// # Example
    ///
    /// ```
    /// let o = promptsieve::Offsets::new("a😀b", promptsieve::Unit::Utf16);
    /// assert_eq!(o.at(5), 3);
    /// ```
    pub fn at(&self, byte: usize) -> usize {
        let byte = byte.min(self.text.len());
        if self.unit == Unit::Utf8 {
            return byte;
        }
        let block = (byte / BLOCK).min(self.blocks.len().saturating_sub(1));
        let base = self.blocks.get(block).copied().unwrap_or(0);
        base + units(self.unit, &self.text.as_bytes()[block * BLOCK..byte])
    }
}

/// Units of `unit` in `bytes`, a run of a text starting on a char boundary.
fn units(unit: Unit, bytes: &[u8]) -> usize {
    match unit {
        Unit::Utf8 => bytes.len(),
        // Every non-continuation byte starts a code point; four-byte
        // sequences (lead byte 0xF0..) are two UTF-16 units.
        Unit::CodePoints => bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count(),
        Unit::Utf16 => bytes.iter().map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0)).sum(),
    }
}

/// Converts byte offsets of a growing string (a streamed reply) into a
/// [`Unit`], counting only the text between the last offset converted and
/// the next: a stream's new findings lie near its end, so converting them
/// costs their distance from the last ones, not the whole reply each time.
///
/// # Example
///
/// ```
/// use promptsieve::{OffsetCursor, Unit};
/// let mut c = OffsetCursor::new(Unit::Utf16);
/// let mut reply = String::from("😀 a");
/// assert_eq!(c.at(&reply, 5), 3);
/// reply.push_str("😀 b");
/// assert_eq!(c.at(&reply, 10), 6);
/// assert_eq!(c.at(&reply, 4), 2);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct OffsetCursor {
    unit: Unit,
    /// The last byte offset converted and its offset in `unit`.
    byte: usize,
    units: usize,
}

impl OffsetCursor {
    /// A cursor at the start of the text.
    pub fn new(unit: Unit) -> OffsetCursor {
        OffsetCursor { unit, byte: 0, units: 0 }
    }

    /// The offset, in this cursor's unit, of byte offset `byte` of `text`
    /// (a char boundary; past the end counts as the end). `text` must only
    /// have grown since the last call: its start is not read again.
    pub fn at(&mut self, text: &str, byte: usize) -> usize {
        let byte = byte.min(text.len());
        if self.unit == Unit::Utf8 {
            return byte;
        }
        let b = text.as_bytes();
        if byte >= self.byte {
            self.units += units(self.unit, &b[self.byte..byte]);
        } else {
            self.units -= units(self.unit, &b[byte..self.byte]);
        }
        self.byte = byte;
        self.units
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_boundary_in_every_unit() {
        for t in ["é".repeat(64), format!("{}😀", "x".repeat(124)), "aé😀".repeat(40), String::new()] {
            let (cp, u16) = (Offsets::new(&t, Unit::CodePoints), Offsets::new(&t, Unit::Utf16));
            let mut units = 0;
            for (n, (b, c)) in t.char_indices().enumerate() {
                assert_eq!(cp.at(b), n, "{t:?} at {b}");
                assert_eq!(u16.at(b), units, "{t:?} at {b}");
                units += c.len_utf16();
            }
            assert_eq!(cp.at(t.len()), t.chars().count());
            assert_eq!(u16.at(t.len()), t.encode_utf16().count());
        }
    }

    #[test]
    fn a_cursor_agrees_with_the_table_in_any_order() {
        let t = "aé😀 x".repeat(30);
        for unit in [Unit::Utf8, Unit::CodePoints, Unit::Utf16] {
            let table = Offsets::new(&t, unit);
            let mut c = OffsetCursor::new(unit);
            let bounds: Vec<usize> = (0..=t.len()).filter(|&i| t.is_char_boundary(i)).collect();
            for k in 0..bounds.len() * 2 {
                let b = bounds[(k * 37) % bounds.len()];
                assert_eq!(c.at(&t, b), table.at(b), "{unit:?} at {b}");
            }
        }
    }
}
