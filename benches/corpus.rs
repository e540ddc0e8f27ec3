//! The benchmark inputs: the fixed corpora in `benches/data/` and the texts
//! generated here (hostile inputs, a pack with thousands of phrases).
//!
//! Everything generated is deterministic: a fixed-seed xorshift generator
//! drives every choice, so two runs (and two machines) scan the same bytes.

/// Every 10th benign row of the injection dev set (see `benches/README.md`).
pub const BENIGN: &str = include_str!("data/benign.txt");
/// Injection rows from the licensed sources of the injection dev set.
pub const ATTACKS: &str = include_str!("data/attacks.txt");
/// Plain English prose written for the benchmark; no findings.
pub const PROSE_EN: &str = include_str!("data/prose-en.txt");
/// Prose in ten languages, about 40 % non-ASCII bytes; no findings.
pub const PROSE_MULTI: &str = include_str!("data/prose-multi.txt");
/// Rust, Python, JavaScript, SQL and YAML written for the benchmark.
pub const CODE: &str = include_str!("data/code.txt");
/// Prompts dense with synthetic personal data (`data/make-pii-dense.py`).
pub const PII_DENSE: &str = include_str!("data/pii-dense.txt");

/// The person-name dictionaries of the default packs, for name-like input.
const FIRST_NAMES: &str = include_str!("../rules/dict/first-names.txt");
const LAST_NAMES: &str = include_str!("../rules/dict/last-names.txt");

/// The size of every throughput corpus and of every hostile input.
pub const THROUGHPUT_BYTES: usize = 64 * 1024;
pub const HOSTILE_BYTES: usize = 1024 * 1024;

/// The longest prefix of `text` of at most `n` bytes that ends on a char
/// boundary.
pub fn prefix(text: &str, n: usize) -> &str {
    let mut end = n.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` repeated (separated by a blank line) and cut to at most `n`
/// bytes. Small corpora are repeated so that throughput is measured on the
/// same amount of text for each, and is not dominated by per-call costs
/// (those are what the latency group measures).
pub fn sized(text: &str, n: usize) -> String {
    let mut out = String::with_capacity(n + text.len() + 2);
    while out.len() < n {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(text);
    }
    prefix(&out, n).to_string()
}

/// The throughput corpora: `(name, text)`, each [`THROUGHPUT_BYTES`] long.
pub fn throughput() -> Vec<(&'static str, String)> {
    [
        ("prose-en", PROSE_EN),
        ("prose-multi", PROSE_MULTI),
        ("code", CODE),
        ("pii-dense", PII_DENSE),
        ("benign", BENIGN),
        ("attacks", ATTACKS),
    ]
    .into_iter()
    .map(|(name, text)| (name, sized(text, THROUGHPUT_BYTES)))
    .collect()
}

/// The latency prompts: `(name, text)`. The short ones are prefixes of the
/// English prose (a typical chat turn); the long ones of the benign corpus
/// (e-mails, persona prompts and tasks, as a RAG context would hold).
pub fn latency() -> Vec<(&'static str, &'static str)> {
    vec![
        ("100b", prefix(PROSE_EN, 100)),
        ("256b", prefix(PROSE_EN, 256)),
        ("4k", prefix(BENIGN, 4 * 1024)),
        ("64k", prefix(BENIGN, 64 * 1024)),
    ]
}

/// xorshift64*: small, fast and good enough to pick words and digits.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() >> 33) as usize % n
    }

    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

/// Appends pieces produced by `next` until `out` would exceed `n` bytes.
fn fill(n: usize, mut next: impl FnMut(&mut String)) -> String {
    let mut out = String::with_capacity(n + 64);
    let mut piece = String::new();
    loop {
        piece.clear();
        next(&mut piece);
        if out.len() + piece.len() > n {
            return out;
        }
        out.push_str(&piece);
    }
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn dict(src: &'static str) -> Vec<&'static str> {
    src.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).collect()
}

/// The hostile inputs, each at most [`HOSTILE_BYTES`] long: `(name, text)`.
/// Each aims at one part of the engine that could go superlinear or fall
/// off a fast path.
pub fn hostile() -> Vec<(&'static str, String)> {
    let n = HOSTILE_BYTES;
    let mut rng = Rng::new(0x5EED_0001);
    let digits = fill(n, |s| s.push(char::from(b'0' + rng.below(10) as u8)));
    let spaced = fill(n, |s| {
        s.push(char::from(b'0' + rng.below(10) as u8));
        s.push(' ');
    });
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let base64 = fill(n, |s| s.push(char::from(B64[rng.below(64)])));
    // One base letter, then a single run of marks from four canonical
    // combining classes (230, 220, 202, 1), so normalisation must reorder
    // the whole run.
    let marks = ['\u{0301}', '\u{0316}', '\u{0327}', '\u{0334}'];
    let mut first = true;
    let combining = fill(n, |s| {
        if std::mem::take(&mut first) {
            s.push('a');
        }
        s.push(marks[rng.below(marks.len())]);
    });
    // Unicode tag characters (U+E0020..U+E007E), the "ASCII smuggling"
    // alphabet: four bytes each.
    let tags = fill(n, |s| s.extend(char::from_u32(0xE0020 + rng.below(0x5F) as u32)));
    let (first_names, last_names) = (dict(FIRST_NAMES), dict(LAST_NAMES));
    let names = fill(n, |s| {
        let list = if rng.below(2) == 0 { &first_names } else { &last_names };
        s.push_str(&capitalised(rng.pick(list)));
        s.push(' ');
    });
    // Many findings in one text: every step after matching (merging,
    // the name tagger's margins, the risk sum, line and column numbers)
    // must stay linear in their count.
    let name_list = fill(n, |s| {
        s.push_str(&capitalised(rng.pick(&first_names)));
        s.push(' ');
        s.push_str(&capitalised(rng.pick(&last_names)));
        s.push_str(", ");
    });
    vec![
        ("one-char", "a".repeat(n)),
        ("digits", digits),
        ("spaced-digits", spaced),
        ("at-signs", "@".repeat(n)),
        ("zero-width", "\u{200B}".repeat(n / 3)),
        ("combining", combining),
        ("tag-chars", tags),
        ("base64", base64),
        ("names", names),
        ("name-list", name_list),
        ("letter-zero-width", "a\u{200B}".repeat(n / 4)),
        ("bidi-pairs", "\u{202E}x\u{202C} ".repeat(n / 9)),
        ("emails", "mail a.b@example.com now ".repeat(n / 25)),
    ]
}

/// Common English words: generated phrases are made of them, so the
/// phrase automaton sees many partial matches in ordinary prose.
const WORDS: &[&str] = &[
    "the", "project", "account", "system", "report", "customer", "review", "data", "team", "plan", "budget",
    "meeting", "quarter", "launch", "model", "service", "policy", "market", "product", "design", "release",
    "support", "office", "network", "server", "client", "order", "invoice", "travel", "health", "school",
    "garden", "river", "mountain", "winter", "summer", "morning", "evening", "history", "language", "music",
    "science", "secret", "internal", "private", "blue", "green", "red", "silver", "golden", "quiet", "rapid",
    "northern", "southern", "eastern", "western", "central", "final", "first", "second", "third", "new",
    "old", "small", "large", "open", "closed", "early", "late", "falcon", "harbor", "lantern", "meadow",
    "orchid", "phoenix", "quartz", "raven", "sparrow", "thunder", "velvet", "willow", "zephyr", "anchor",
    "beacon", "cedar", "delta", "ember", "fjord", "glacier", "horizon", "island", "jasper", "kestrel",
    "lotus", "mosaic", "nebula", "onyx", "prairie", "quill", "summit", "tundra", "umbra", "vertex", "wander",
    "yonder", "of", "for", "and", "in", "on", "with", "about", "after",
];

/// A pack of `rules` injection rules with `per_rule` phrase strings each,
/// as TOML. Phrases have three or four words; every fourth one has a
/// two-way `{a|b}` group, so the pack holds about 1.25 × rules × per_rule
/// phrases once expanded.
pub fn phrase_pack(rules: usize, per_rule: usize) -> String {
    use std::fmt::Write;
    let mut rng = Rng::new(0x5EED_0002);
    let mut out = String::from("[pack]\nname = \"bench-phrases\"\n");
    for r in 0..rules {
        let _ = write!(
            out,
            "\n[[rule]]\nid = \"inj-bench-{r}\"\ncategory = \"injection\"\n\
             description = \"Generated phrases for the benchmark\"\nscore = 0.7\nphrases = [\n"
        );
        for p in 0..per_rule {
            let words = 3 + rng.below(2);
            let mut phrase = String::new();
            for w in 0..words {
                if w > 0 {
                    phrase.push(' ');
                }
                if p % 4 == 0 && w == 1 {
                    let _ = write!(phrase, "{{{}|{}}}", rng.pick(WORDS), rng.pick(WORDS));
                } else {
                    phrase.push_str(rng.pick(WORDS));
                }
            }
            let _ = writeln!(out, "  \"{phrase}\",");
        }
        out.push_str("]\n");
    }
    out
}
