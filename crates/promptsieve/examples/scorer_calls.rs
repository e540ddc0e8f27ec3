//! The learned scorer's cost in instructions rather than time: scans one
//! bench corpus (paragraph by paragraph, as `scorer_cost` does) with the
//! scorer on or off, for `valgrind --tool=callgrind
//! --toggle-collect='*measured*'`, which counts only the scans.
//!
//! `scorer_calls CORPUS.txt on|off`

use std::hint::black_box;

use promptsieve::{Scanner, ScannerBuilder};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(mode)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: scorer_calls CORPUS.txt on|off");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(path).expect("corpus");
    let parts: Vec<&str> = text.split("\n\n").filter(|p| !p.trim().is_empty()).collect();
    let s = ScannerBuilder::new().scorer(mode == "on").build([]).expect("default packs");
    // Warm up: the first scans compile lazily built regexes.
    let warm: usize = parts.iter().map(|p| black_box(s.scan(black_box(p))).findings.len()).sum();
    let flagged = measured(&s, &parts);
    eprintln!("{warm} findings, {flagged} flagged");
}

/// The scans counted: a function of its own (and unlike the warm-up
/// loop, so the linker cannot fold the two together).
#[inline(never)]
fn measured(s: &Scanner, parts: &[&str]) -> usize {
    parts.iter().filter(|p| black_box(s.scan(black_box(p))).flagged).count()
}
