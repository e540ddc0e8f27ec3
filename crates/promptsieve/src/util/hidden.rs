//! Classification of characters that render as nothing (or change how other
//! characters render) and so can hide content from a human reviewer.

/// The kind of a hidden character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum HiddenKind {
    /// Zero-width spaces, joiners, word joiner, BOM, soft hyphen, invisible
    /// operators, Hangul fillers and similar format characters.
    ZeroWidth,
    /// C0 and C1 control characters other than tab, line feed and carriage
    /// return (which are whitespace).
    Control,
    /// Directional marks, embeddings, overrides and isolates.
    Bidi,
    /// Variation selectors VS1–VS256.
    Variation,
    /// Unicode tag characters U+E0000–U+E007F.
    Tag,
}

/// Classifies `c`, or returns `None` for ordinary characters (including all
/// whitespace).
#[inline]
pub(crate) fn hidden_kind(c: char) -> Option<HiddenKind> {
    let cp = c as u32;
    if cp < 0x80 {
        // Tab, LF, VT, FF and CR are whitespace and handled as such.
        return if (cp < 0x20 && !(0x09..=0x0D).contains(&cp)) || cp == 0x7F {
            Some(HiddenKind::Control)
        } else {
            None
        };
    }
    match cp {
        0x80..=0x84 | 0x86..=0x9F => Some(HiddenKind::Control),
        0x00AD
        | 0x034F
        | 0x115F
        | 0x1160
        | 0x17B4
        | 0x17B5
        | 0x180B..=0x180F
        | 0x200B..=0x200D
        | 0x2060..=0x2065
        | 0x206A..=0x206F
        | 0x3164
        | 0xFEFF
        | 0xFFA0
        | 0xFFF9..=0xFFFB
        | 0x1D173..=0x1D17A
        | 0x1BCA0..=0x1BCA3
        | 0xFFF0..=0xFFF8 => Some(HiddenKind::ZeroWidth),
        0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 => Some(HiddenKind::Bidi),
        0xFE00..=0xFE0F | 0xE0100..=0xE01EF => Some(HiddenKind::Variation),
        0xE0000..=0xE007F => Some(HiddenKind::Tag),
        // The rest of the default-ignorable plane-14 block (unassigned).
        0xE0080..=0xE00FF | 0xE01F0..=0xE0FFF => Some(HiddenKind::ZeroWidth),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(hidden_kind('a'), None);
        assert_eq!(hidden_kind('\n'), None);
        assert_eq!(hidden_kind('\u{85}'), None); // NEL is whitespace
        assert_eq!(hidden_kind('\u{1b}'), Some(HiddenKind::Control));
        assert_eq!(hidden_kind('\u{200b}'), Some(HiddenKind::ZeroWidth));
        assert_eq!(hidden_kind('\u{202e}'), Some(HiddenKind::Bidi));
        assert_eq!(hidden_kind('\u{fe0f}'), Some(HiddenKind::Variation));
        assert_eq!(hidden_kind('\u{e0041}'), Some(HiddenKind::Tag));
    }
}
