//! What the learned scorer adds to `scan` time: the bench corpora scanned
//! with the scorer on and off, alternating, median of many rounds.
//!
//! `cargo run --release --example scorer_cost`

use std::hint::black_box;
use std::time::Instant;

use promptsieve::{Scanner, ScannerBuilder};

fn main() {
    let on = Scanner::new();
    let off = ScannerBuilder::new().scorer(false).build([]).expect("default packs");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../benches/data/");
    println!("{:<16} {:>12} {:>12} {:>8}", "corpus", "rules only", "with scorer", "added");
    for name in ["benign.txt", "attacks.txt", "prose-en.txt", "prose-multi.txt", "code.txt", "pii-dense.txt"]
    {
        let text = std::fs::read_to_string(format!("{root}{name}")).expect("bench data");
        // Per prompt, as the scanner is used: paragraphs separated by blank lines.
        let parts: Vec<&str> = text.split("\n\n").filter(|p| !p.trim().is_empty()).collect();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for s in [&on, &off] {
            parts.iter().for_each(|p| drop(black_box(s.scan(p)))); // warm up
        }
        for _ in 0..15 {
            for (s, out) in [(&off, &mut a), (&on, &mut b)] {
                let t = Instant::now();
                for p in &parts {
                    black_box(s.scan(black_box(p)));
                }
                out.push(t.elapsed().as_secs_f64());
            }
        }
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let (ma, mb) = (a[a.len() / 2], b[b.len() / 2]);
        println!("{name:<16} {:>10.2}ms {:>10.2}ms {:>7.1}%", ma * 1e3, mb * 1e3, (mb / ma - 1.0) * 100.0);
    }
}
