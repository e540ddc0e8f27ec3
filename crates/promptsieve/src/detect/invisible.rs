//! Runs of hidden characters, with the script-aware exceptions that keep
//! ordinary text from raising alarms: joiners inside Arabic, Persian and
//! Indic words, ZWJ emoji sequences, a single variation selector after its
//! base character, subdivision-flag tag sequences, a leading byte-order mark
//! and a soft hyphen inside a word.

use crate::hit::Hit;
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

/// What [`runs`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunKind {
    /// Hidden characters that are not ordinary text in their context.
    Suspicious,
    /// A terminal formatting sequence (ANSI colours, erase to end of line):
    /// ordinary in logs and tool output, so not reported, but not text
    /// either, so [`Scanner::sanitize`](crate::Scanner::sanitize) removes it.
    Formatting,
}

/// Calls `f(run, start, end)` for every run of hidden characters in `text`
/// that is not ordinary text in its context.
pub(crate) fn suspicious_runs(text: &str, mut f: impl FnMut(&[char], usize, usize)) {
    runs(text, |run, start, end, kind| {
        if kind == RunKind::Suspicious {
            f(run, start, end)
        }
    });
}

/// Calls `f(run, start, end, kind)` for every suspicious run of hidden
/// characters and every terminal formatting sequence in `text`. An escape
/// sequence is reported whole (`ESC [ 3 1 m`), so its span covers what a
/// terminal would swallow.
pub(crate) fn runs(text: &str, mut f: impl FnMut(&[char], usize, usize, RunKind)) {
    let bidi = text.chars().any(|c| hidden_kind(c) == Some(HiddenKind::Bidi)).then(|| BidiContext::new(text));
    let mut run: Vec<char> = Vec::new();
    let mut run_start = 0;
    let mut prev: Option<char> = None;
    let bytes = text.as_bytes();
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if hidden_kind(c).is_none() {
            prev = Some(c);
            continue;
        }
        if c == '\u{1b}'
            && run.is_empty()
            && let Some((len, formatting)) = escape_sequence(&bytes[i..])
        {
            let kind = if formatting { RunKind::Formatting } else { RunKind::Suspicious };
            f(&['\u{1b}'], i, i + len, kind);
            while iter.peek().is_some_and(|&(j, _)| j < i + len) {
                iter.next();
            }
            prev = text[..i + len].chars().next_back();
            continue;
        }
        if run.is_empty() {
            run_start = i;
        }
        run.push(c);
        if iter.peek().is_some_and(|&(_, n)| hidden_kind(n).is_some() && n != '\u{1b}') {
            continue;
        }
        let next = iter.peek().map(|&(_, n)| n);
        let end = i + c.len_utf8();
        let ordinary = exempt(&run, prev, next, run_start == 0)
            || bidi.as_ref().is_some_and(|b| b.ordinary(&run, run_start, end, prev, next));
        if !ordinary {
            f(&run, run_start, end, RunKind::Suspicious);
        }
        run.clear();
    }
}

/// The length of the ANSI escape sequence at the start of `b` (which starts
/// with ESC), and whether it only formats text: SGR colours and styles
/// (`ESC[…m`) without the *conceal* attribute, or erase to end of line
/// (`ESC[K`, `ESC[0K`). Cursor moves, screen erases, OSC strings and the
/// conceal attribute can hide or overwrite text, so they stay suspicious.
fn escape_sequence(b: &[u8]) -> Option<(usize, bool)> {
    match b.get(1)? {
        b'[' => {
            let mut j = 2;
            while j < b.len() && (0x30..=0x3f).contains(&b[j]) {
                j += 1;
            }
            let params = &b[2..j];
            while j < b.len() && (0x20..=0x2f).contains(&b[j]) {
                j += 1;
            }
            let fin = *b.get(j).filter(|x| (0x40..=0x7e).contains(*x))?;
            let formatting = match fin {
                b'm' => !conceals(params),
                b'K' => params.is_empty() || params == b"0",
                _ => false,
            };
            Some((j + 1, formatting))
        }
        b']' => {
            // OSC, up to BEL or ST (ESC \), bounded.
            let end = b
                .iter()
                .take(4096)
                .position(|&x| x == 0x07)
                .map(|p| p + 1)
                .or_else(|| b.windows(2).take(4096).position(|w| w == b"\x1b\\").map(|p| p + 2))?;
            Some((end, false))
        }
        _ => None,
    }
}

/// Whether SGR parameters set *conceal* (8), skipping the colour operands of
/// 38/48/58 (`38;5;8` is colour 8, not conceal).
fn conceals(params: &[u8]) -> bool {
    let mut it = params.split(|&x| x == b';' || x == b':');
    while let Some(p) = it.next() {
        match p {
            b"38" | b"48" | b"58" => match it.next() {
                Some(b"5") => {
                    it.next();
                }
                Some(b"2") => {
                    it.next();
                    it.next();
                    it.next();
                }
                _ => {}
            },
            b"8" | b"08" => return true,
            _ => {}
        }
    }
    false
}

/// Per-line facts about bidi controls, for telling right-to-left prose from
/// Trojan-Source reordering.
struct BidiContext {
    /// Start offsets of lines that hold right-to-left letters.
    rtl_lines: Vec<(usize, usize)>,
    /// Offsets of embeddings and isolates not closed on their line, and of
    /// closers that close nothing.
    unbalanced: Vec<usize>,
}

impl BidiContext {
    fn new(text: &str) -> BidiContext {
        let mut rtl_lines = Vec::new();
        let mut unbalanced = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let rtl_line = line.chars().any(rtl);
            if rtl_line {
                rtl_lines.push((offset, offset + line.len()));
            }
            let mut stack: Vec<(usize, bool)> = Vec::new();
            for (i, c) in line.char_indices() {
                let at = offset + i;
                match c {
                    '\u{202A}' | '\u{202B}' | '\u{202D}' | '\u{202E}' => stack.push((at, false)),
                    '\u{2066}' | '\u{2067}' | '\u{2068}' => stack.push((at, true)),
                    '\u{202C}' => match stack.iter().rposition(|&(_, iso)| !iso) {
                        Some(k) => {
                            stack.remove(k);
                        }
                        None => unbalanced.push(at),
                    },
                    '\u{2069}' => match stack.iter().rposition(|&(_, iso)| iso) {
                        Some(k) => {
                            stack.truncate(k);
                        }
                        None => unbalanced.push(at),
                    },
                    _ => {}
                }
            }
            // A left-to-right or first-strong opener (LRE, LRI, FSI) left
            // open to the end of a right-to-left line holds an LTR island
            // that runs to the end: a truncated preview or file name, not
            // reordering. Right-to-left openers left open stay suspicious.
            let open_island = |at: usize| {
                rtl_line && matches!(text[at..].chars().next(), Some('\u{202A}' | '\u{2066}' | '\u{2068}'))
            };
            unbalanced.extend(stack.into_iter().map(|(at, _)| at).filter(|&at| !open_island(at)));
            offset += line.len();
        }
        unbalanced.sort_unstable();
        BidiContext { rtl_lines, unbalanced }
    }

    /// Whether a run of only bidi controls at `start..end` is ordinary:
    /// direction marks (LRM, RLM, ALM) that do not split a Latin word, or
    /// balanced embeddings and isolates on a line with right-to-left text.
    /// Overrides (LRO, RLO) reorder what a reader sees and never are.
    fn ordinary(
        &self,
        run: &[char],
        start: usize,
        end: usize,
        prev: Option<char>,
        next: Option<char>,
    ) -> bool {
        if !run.iter().all(|&c| hidden_kind(c) == Some(HiddenKind::Bidi)) {
            return false;
        }
        if run.iter().any(|&c| matches!(c, '\u{202D}' | '\u{202E}')) {
            return false;
        }
        let in_latin_word = prev.is_some_and(|p| p.is_ascii_alphanumeric())
            && next.is_some_and(|n| n.is_ascii_alphanumeric());
        if in_latin_word {
            return false;
        }
        if run.iter().all(|c| matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')) {
            return run.len() <= 3;
        }
        let i = self.unbalanced.partition_point(|&u| u < start);
        let balanced = self.unbalanced.get(i).is_none_or(|&u| u >= end);
        let rtl_line = self.rtl_lines.iter().any(|&(s, e)| s <= start && start < e);
        balanced && rtl_line
    }
}

/// Appends one hit per suspicious run of hidden characters in `text`.
pub(crate) fn scan(text: &str, slots: &Slots, hits: &mut Vec<Hit>) {
    suspicious_runs(text, |run, start, end| report(run, start, end, slots, hits));
}

/// The five `invisible-*` rules as one detector: one pass over the text
/// sorts each run of hidden characters into its kind's rule.
#[derive(Debug)]
pub(crate) struct Hidden {
    /// Rule and pack score per kind, when enabled.
    pub(crate) slots: Slots,
    /// The same, attack rules only: what decoded payloads are scanned for.
    pub(crate) attack_slots: Slots,
}

impl super::Detector for Hidden {
    fn attack(&self) -> bool {
        self.attack_slots.iter().any(Option::is_some)
    }

    fn detect(&self, input: &super::Input<'_>, _: &dyn super::Rescan, hits: &mut Vec<Hit>) {
        let t = input.text;
        // Printable ASCII with ordinary white space hides nothing.
        if !t.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t' || b == b'\r') {
            scan(t, if input.depth > 0 { &self.attack_slots } else { &self.slots }, hits);
        }
    }
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
        // Direction marks and balanced isolates in right-to-left text.
        assert!(run("המחיר \u{200E}100$\u{200E} כולל מע״מ").is_empty());
        assert!(run("ראה \u{2066}README.md\u{2069} לפרטים").is_empty());
        assert!(run("\u{202B}שלום עולם\u{202C}").is_empty());
        assert!(run("\u{200E}<attached: photo.jpg>").is_empty()); // chat export
        // An LTR island left open to the end of an RTL line (a truncated preview).
        assert!(run("\u{200F}הזמנה מספר \u{2066}ORD-2024-00").is_empty());
        assert!(run("أرسلت لك ملف \u{2068}Quarterly_Report_2024_fin…").is_empty());
    }

    #[test]
    fn reordering_bidi_is_found() {
        // Trojan Source: an override, an unterminated isolate, isolates in code.
        assert_eq!(run("if access_level != \"user\u{202E} \u{2066}// admin\u{2069}\u{2066}\"").len(), 3);
        assert_eq!(run("שלום \u{2067}abc").len(), 1);
        assert_eq!(run("let x = \u{2067}y\u{2069};").len(), 2);
        assert_eq!(run("ig\u{200E}nore").len(), 1);
    }

    #[test]
    fn hidden_runs_are_found() {
        assert_eq!(run("ig\u{200B}nore"), [(2, 5, 4)]);
        assert_eq!(run("a\u{202E}b"), [(1, 4, 1)]);
        // Terminal formatting is ordinary; cursor moves and concealed text are not.
        assert!(run("x\u{1b}[31mred\u{1b}[0m \u{1b}[38;5;8mgrey\u{1b}[K").is_empty());
        assert_eq!(run("x\u{1b}[8mhidden"), [(1, 5, 3)]);
        assert_eq!(run("x\u{1b}[2Ay"), [(1, 5, 3)]);
        assert_eq!(run("x\u{1b}y"), [(1, 2, 3)]);
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
