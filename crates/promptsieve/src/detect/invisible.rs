//! Runs of hidden characters, with the script-aware exceptions that keep
//! ordinary text from raising alarms: joiners inside Arabic, Persian and
//! Indic words, ZWJ emoji sequences, a single variation selector after its
//! base character, subdivision-flag tag sequences, a leading byte-order mark
//! and a soft hyphen inside a word.

use crate::engine::Hit;
use crate::util::hidden::{HiddenKind, hidden_kind};

/// Rule slots in the order the engine passes them:
/// tag, bidi, variation, control, zero-width. Each is `(rule, score)`.
pub(crate) type Slots = [Option<(u32, f64)>; 5];

fn slot(kind: HiddenKind) -> usize {
    match kind {
        HiddenKind::Tag => 0,
        HiddenKind::Bidi => 1,
        HiddenKind::Variation => 2,
        HiddenKind::Control => 3,
        HiddenKind::ZeroWidth => 4,
    }
}

/// Scripts in which ZWJ/ZWNJ legitimately shape letters.
fn joining_script(c: char) -> bool {
    matches!(c as u32,
        0x0600..=0x08FF | 0x0900..=0x0DFF | 0x0F00..=0x0FFF | 0x1000..=0x109F
        | 0x1780..=0x18AF | 0xA8E0..=0xA8FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFC)
}

fn rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFC)
}

/// Emoji and pictographic symbols (an approximation of
/// `Extended_Pictographic` that needs no table).
pub(crate) fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA
        | 0x231A..=0x23FF | 0x24C2 | 0x25AA..=0x27BF | 0x2934 | 0x2935 | 0x2B05..=0x2B55
        | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
}

/// Whether a run of hidden characters is ordinary text in its context.
fn exempt(run: &[char], prev: Option<char>, next: Option<char>, at_start: bool) -> bool {
    let prev_emoji = prev.is_some_and(is_emoji);
    let next_emoji = next.is_some_and(is_emoji);
    match run {
        ['\u{200C}' | '\u{200D}'] if prev.is_some_and(joining_script) && next.is_some_and(joining_script) => {
            true
        }
        ['\u{200D}'] if prev_emoji && next_emoji => true,
        ['\u{FE0F}' | '\u{FE0E}', '\u{200D}'] if prev_emoji && next_emoji => true,
        // Emoji/text presentation selectors after any visible character;
        // the other standardized selectors never follow ASCII; ideographic
        // variation selectors (U+E0100..) follow CJK ideographs only.
        ['\u{FE0E}' | '\u{FE0F}'] => prev.is_some_and(|p| !p.is_whitespace()),
        [vs] if ('\u{FE00}'..='\u{FE0D}').contains(vs) => {
            prev.is_some_and(|p| !p.is_ascii() && !p.is_whitespace())
        }
        [vs] if ('\u{E0100}'..='\u{E01EF}').contains(vs) => {
            prev.is_some_and(crate::normalize::is_unspaced_script)
        }
        // Mongolian free variation selectors after Mongolian letters.
        ['\u{180B}'..='\u{180D}' | '\u{180F}'] => {
            prev.is_some_and(|p| ('\u{1800}'..='\u{18AF}').contains(&p))
        }
        ['\u{00AD}'] => prev.is_some_and(char::is_alphabetic) && next.is_some_and(char::is_alphabetic),
        ['\u{FEFF}'] => at_start,
        ['\u{200E}' | '\u{200F}' | '\u{061C}'] => prev.is_some_and(rtl) || next.is_some_and(rtl),
        // Subdivision flags: U+1F3F4, two to six tag letters or digits, CANCEL TAG.
        [body @ .., '\u{E007F}'] if prev == Some('\u{1F3F4}') => {
            (2..=6).contains(&body.len())
                && body.iter().all(|&c| matches!(c as u32, 0xE0030..=0xE0039 | 0xE0061..=0xE007A))
        }
        _ => false,
    }
}

/// Calls `f(run, start, end)` for every run of hidden characters in `text`
/// that is not ordinary text in its context.
pub(crate) fn suspicious_runs(text: &str, mut f: impl FnMut(&[char], usize, usize)) {
    let mut run: Vec<char> = Vec::new();
    let mut run_start = 0;
    let mut prev: Option<char> = None;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if hidden_kind(c).is_none() {
            prev = Some(c);
            continue;
        }
        if run.is_empty() {
            run_start = i;
        }
        run.push(c);
        if iter.peek().is_some_and(|&(_, n)| hidden_kind(n).is_some()) {
            continue;
        }
        let next = iter.peek().map(|&(_, n)| n);
        if !exempt(&run, prev, next, run_start == 0) {
            f(&run, run_start, i + c.len_utf8());
        }
        run.clear();
    }
}

/// Appends one hit per suspicious run of hidden characters in `text`.
pub(crate) fn scan(text: &str, slots: &Slots, hits: &mut Vec<Hit>) {
    suspicious_runs(text, |run, start, end| report(run, start, end, slots, hits));
}

fn report(run: &[char], start: usize, end: usize, slots: &Slots, hits: &mut Vec<Hit>) {
    let mut kinds: Vec<HiddenKind> = run.iter().filter_map(|&c| hidden_kind(c)).collect();
    kinds.sort_unstable();
    kinds.dedup();
    // A lone variation selector is only "variation" smuggling in a run.
    let vs_count = run.iter().filter(|&&c| hidden_kind(c) == Some(HiddenKind::Variation)).count();
    let Some((kind, (rule, score))) = kinds
        .iter()
        .rev()
        .filter(|&&k| k != HiddenKind::Variation || vs_count >= 2 || kinds.len() == 1)
        .find_map(|&k| slots[slot(k)].map(|s| (k, s)))
    else {
        return;
    };
    let detail = if kind == HiddenKind::Tag {
        let payload: String = run
            .iter()
            .filter_map(|&c| {
                let cp = c as u32;
                (0xE0020..=0xE007E).contains(&cp).then(|| char::from((cp - 0xE0000) as u8))
            })
            .take(120)
            .collect();
        format!("{} tag characters hiding the text {payload:?}", run.len())
    } else {
        let mut cps: Vec<u32> = run.iter().map(|&c| c as u32).collect();
        cps.sort_unstable();
        cps.dedup();
        let names: Vec<String> = cps.iter().take(4).map(|cp| format!("U+{cp:04X}")).collect();
        let more = if cps.len() > 4 { ", …" } else { "" };
        format!("{} hidden characters: {}{more}", run.len(), names.join(", "))
    };
    hits.push(Hit { rule, start, end, score, detail: Some(detail) });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Vec<(usize, usize, u32)> {
        let slots: Slots = [Some((0, 0.9)), Some((1, 0.6)), Some((2, 0.8)), Some((3, 0.5)), Some((4, 0.3))];
        let mut hits = Vec::new();
        scan(text, &slots, &mut hits);
        hits.iter().map(|h| (h.start, h.end, h.rule)).collect()
    }

    #[test]
    fn ordinary_text_is_quiet() {
        assert!(run("plain text").is_empty());
        assert!(run("می\u{200C}خواهم").is_empty()); // Persian ZWNJ
        assert!(run("क्\u{200D}ष").is_empty()); // Devanagari ZWJ
        assert!(run("👩\u{200D}💻 coder").is_empty()); // ZWJ emoji
        assert!(run("❤\u{FE0F}\u{200D}🔥").is_empty());
        assert!(run("I ❤\u{FE0F} you").is_empty()); // emoji presentation
        assert!(run("\u{FEFF}hello").is_empty()); // leading BOM
        assert!(run("hyphen\u{00AD}ation").is_empty());
        assert!(run("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}").is_empty()); // England flag
    }

    #[test]
    fn hidden_runs_are_found() {
        assert_eq!(run("ig\u{200B}nore"), [(2, 5, 4)]);
        assert_eq!(run("a\u{202E}b"), [(1, 4, 1)]);
        assert_eq!(run("x\u{1b}[31m"), [(1, 2, 3)]);
        assert_eq!(run("😀\u{FE00}\u{FE01}\u{FE02}"), [(4, 13, 2)]);
        let tags = "hi\u{E0069}\u{E0067}";
        assert_eq!(run(tags), [(2, 10, 0)]);
        assert_eq!(run("hello\u{FEFF}"), [(5, 8, 4)]);
        // Not a flag: a bidi override or an escape dressed as one.
        assert_eq!(run("🏴\u{202E}\u{E007F}").len(), 1);
        assert_eq!(run("🏴\u{1b}\u{E007F}[2J").len(), 1);
        // One ideographic selector per ASCII letter is smuggling.
        assert_eq!(run("h\u{E0168}e\u{E0165}").len(), 2);
        assert_eq!(run("a\u{FE01}").len(), 1);
        assert!(run("葛\u{E0100}").is_empty());
    }
}
