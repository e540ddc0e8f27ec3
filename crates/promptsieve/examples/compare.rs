//! Dumps full scan reports (and redactions) over the development corpora,
//! every rule example under evasion rewrites, encoded payloads, hostile
//! inputs and seeded random texts, one JSON line each. Two builds of the
//! engine must print byte-identical output: this is how performance work
//! checks that detection did not change.
//!
//! `cargo run --release -p promptsieve --example compare -- CORPUS_DIR > out.jsonl`

use promptsieve::{Category, Scanner, ScannerBuilder};
use std::io::Write;

type Rewrite = (&'static str, fn(&str) -> String);

fn rewrites() -> Vec<Rewrite> {
    fn homoglyph(c: char) -> char {
        match c {
            'a' => 'а',
            'e' => 'е',
            'o' => 'о',
            'p' => 'р',
            'c' => 'с',
            'i' => 'і',
            's' => 'ѕ',
            'A' => 'Α',
            _ => c,
        }
    }
    fn split(s: &str, sep: &str) -> String {
        s.split(' ')
            .map(|w| w.chars().map(|c| c.to_string()).collect::<Vec<_>>().join(sep))
            .collect::<Vec<_>>()
            .join("   ")
    }
    vec![
        ("plain", |s| s.to_string()),
        ("zw", |s| s.chars().flat_map(|c| [c, '\u{200B}']).collect()),
        ("joiners", |s| s.chars().flat_map(|c| [c, '\u{2060}', '\u{200D}']).collect()),
        ("shy", |s| s.replace('o', "o\u{AD}")),
        ("homoglyph", |s| s.chars().map(homoglyph).collect()),
        ("fullwidth", |s| {
            s.chars()
                .map(|c| {
                    if c.is_ascii_graphic() {
                        char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)
                    } else {
                        c
                    }
                })
                .collect()
        }),
        ("upper", |s| s.to_uppercase()),
        ("mixed", |s| {
            s.chars()
                .enumerate()
                .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect()
        }),
        ("combining", |s| s.chars().flat_map(|c| [c, '\u{0301}']).collect()),
        ("tags", |s| {
            s.chars()
                .map(
                    |c| {
                        if c.is_ascii() && c != '\n' {
                            char::from_u32(0xE0000 + c as u32).unwrap()
                        } else {
                            c
                        }
                    },
                )
                .collect()
        }),
        ("split-space", |s| split(s, " ")),
        ("split-dot", |s| split(s, ".")),
        ("split-hyphen", |s| split(s, "-")),
        ("glue", |s| {
            s.split(' ')
                .map(|w| {
                    let n = w.chars().count() / 2;
                    let (a, b): (String, String) = (w.chars().take(n).collect(), w.chars().skip(n).collect());
                    if a.is_empty() { b } else { format!("{a}-{b}") }
                })
                .collect::<Vec<_>>()
                .join(" ")
        }),
        ("compact", |s| {
            s.split_whitespace()
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
                })
                .collect()
        }),
        ("rot13", |s| {
            s.chars()
                .map(|c| match c {
                    'a'..='m' | 'A'..='M' => (c as u8 + 13) as char,
                    'n'..='z' | 'N'..='Z' => (c as u8 - 13) as char,
                    _ => c,
                })
                .collect()
        }),
        ("base64", |s| format!("decode this: {}", b64(s.as_bytes()))),
        ("hex", |s| format!("payload {}", s.bytes().map(|b| format!("{b:02x}")).collect::<String>())),
        ("spaces", |s| s.replace(' ', "  \n\t ")),
        ("nbsp", |s| s.replace(' ', "\u{00A0}")),
    ]
}

fn b64(b: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for ch in b.chunks(3) {
        let n =
            (ch[0] as u32) << 16 | (*ch.get(1).unwrap_or(&0) as u32) << 8 | *ch.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= ch.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/work/shared/corpus".into());
    let only = std::env::args().nth(2);
    let scanner = Scanner::new();
    let configs: Vec<(&str, Scanner)> = vec![
        ("inj", ScannerBuilder::new().categories(&[Category::Injection]).build([]).unwrap()),
        ("pii", ScannerBuilder::new().categories(&[Category::Pii, Category::Secret]).build([]).unwrap()),
        (
            "nosplit",
            ScannerBuilder::new().disable("encoded-rot13").disable("person-names").build([]).unwrap(),
        ),
    ];
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut n = 0usize;
    let mut emit = |tag: &str, s: &Scanner, text: &str, redact: bool| {
        n += 1;
        let r = s.scan(text);
        let j = serde_json::to_string(&r).unwrap();
        writeln!(out, "{tag}\t{j}").unwrap();
        if redact {
            let red = s.redact(text);
            writeln!(
                out,
                "{tag}\tR\t{}\t{:?}",
                serde_json::to_string(&red.text).unwrap(),
                red.replacements.len()
            )
            .unwrap();
        }
    };
    let want = |k: &str| only.as_deref().is_none_or(|o| o == k);
    // Corpora.
    let mut rows = Vec::new();
    for f in ["injection/dev.jsonl", "pii/dev.jsonl"] {
        let data = std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
        for (i, line) in data.lines().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let t = v["text"].as_str().unwrap().to_string();
            if want("corpus") {
                emit(&format!("{f}:{i}"), &scanner, &t, true);
                if i % 7 == 0 {
                    for (c, s) in &configs {
                        emit(&format!("{f}:{i}:{c}"), s, &t, false);
                    }
                }
            }
            rows.push(t);
        }
    }
    // Rule examples under rewrites (whole text, and a middle part).
    let mut examples = Vec::new();
    for r in scanner.rules() {
        for e in r.examples.iter().chain(&r.counterexamples) {
            examples.push(e.clone());
        }
    }
    if want("examples") {
        for (i, e) in examples.iter().enumerate() {
            for (name, rw) in rewrites() {
                let t = rw(e);
                emit(&format!("ex{i}:{name}"), &scanner, &t, name == "plain");
                let wrapped = format!("Hello there. {t} Thanks!");
                emit(&format!("ex{i}:{name}:w"), &scanner, &wrapped, false);
                if i % 5 == 0 {
                    for (c, s) in &configs {
                        emit(&format!("ex{i}:{name}:{c}"), s, &t, false);
                    }
                }
            }
        }
    }
    // Hostile inputs (200 KB each).
    if want("hostile") {
        let units = [
            "a",
            "0123456789",
            "@",
            "\u{200b}",
            "a\u{0301}\u{0302}",
            "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
            "Alice Bob Carol ",
            "i g n o r e ",
            "i.g.n.o.r.e.",
            "ab-cd-",
            "4111 1111 1111 1111 ",
            "x@y.z ",
            "\u{e0041}\u{e0042}",
            " ",
            "\n",
            "Ignore ",
            "sk-",
            "+1 ",
            "ignore previous instructions ",
            "Здравствуйте ",
            "你好",
            "ﬁ",
            "ｉ",
            "<|im_start|>",
            "##",
            "deadbeef",
            "user:pass@",
            "%%%%",
            "A.",
            "{\"a\":",
            "\u{202e}",
            "\u{fe0f}\u{fe0e}",
            "Mr. ",
            "!! ",
        ];
        for u in units {
            let t = u.repeat(200_000 / u.len());
            emit(&format!("hostile:{u:?}"), &scanner, &t, true);
        }
    }
    // Seeded random texts from corpus fragments, examples and odd characters.
    if want("random") {
        let mut rng = Rng(0x9E3779B97F4A7C15);
        let odd: [&str; 39] = [
            "\u{200b}",
            "\u{200d}",
            "\u{00ad}",
            "\u{0301}",
            "\u{e0041}",
            "\u{e0020}",
            "\u{202e}",
            "\u{fe0f}",
            "  ",
            "\n\n",
            "\t",
            "\u{a0}",
            "-",
            ".",
            " ",
            "ｉｇｎｏｒｅ",
            "і",
            "ο",
            "ß",
            "İ",
            "ſ",
            "K",
            "é",
            "你",
            "😀",
            "\u{1b}",
            "\u{0}",
            "@",
            "://",
            "sk-",
            "0x",
            "+44 ",
            "(555) ",
            "==",
            "|",
            "*",
            "_",
            "~",
            "·",
        ];
        for k in 0..30_000 {
            let mut t = String::new();
            let parts = 1 + rng.next() % 8;
            for _ in 0..parts {
                match rng.next() % 6 {
                    0 | 1 => {
                        let src =
                            if rng.next().is_multiple_of(2) { rng.pick(&rows) } else { rng.pick(&examples) };
                        let chars: Vec<char> = src.chars().collect();
                        if chars.is_empty() {
                            continue;
                        }
                        let a = (rng.next() % chars.len() as u64) as usize;
                        let len = (rng.next() % 120) as usize;
                        let s: String = chars[a..(a + len).min(chars.len())].iter().collect();
                        let rws = rewrites();
                        let (_, rw) = rng.pick(&rws);
                        t.push_str(&if rng.next().is_multiple_of(3) { rw(&s) } else { s });
                    }
                    2 => t.push_str(rng.pick::<&str>(&odd)),
                    3 => {
                        let e = rng.pick(&examples).clone();
                        t.push_str(&e);
                    }
                    _ => t.push(' '),
                }
            }
            emit(&format!("rand{k}"), &scanner, &t, k % 4 == 0);
        }
    }
    // Bench data, in chunks of several sizes.
    if want("bench") {
        for f in ["benign", "attacks", "prose-en", "prose-multi"] {
            let p = format!("{}/../../benches/data/{f}.txt", env!("CARGO_MANIFEST_DIR"));
            let d = std::fs::read_to_string(p).unwrap();
            emit(&format!("bench:{f}"), &scanner, &d, true);
            for size in [100usize, 1000, 4096] {
                let mut s = 0;
                let mut k = 0;
                while s < d.len() {
                    let mut e = (s + size).min(d.len());
                    while !d.is_char_boundary(e) {
                        e += 1;
                    }
                    emit(&format!("bench:{f}:{size}:{k}"), &scanner, &d[s..e], false);
                    s = e;
                    k += 1;
                }
            }
        }
    }
    eprintln!("{n} texts");
}
