//! A small driver for profilers (callgrind, perf): scans a file (or a
//! prefix of it) many times, or builds the default scanner.
//!
//! `profile scan FILE [BYTES] [ITERS]`, `profile build [ITERS]`

use promptsieve::{Scanner, ScannerBuilder};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("build") => {
            let iters: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
            let t = std::time::Instant::now();
            for _ in 0..iters {
                black_box(ScannerBuilder::new().build([]).unwrap());
            }
            eprintln!("build: {:?} each", t.elapsed() / iters as u32);
        }
        Some("scan") => {
            let data = std::fs::read_to_string(&args[2]).unwrap();
            let mut n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(data.len()).min(data.len());
            while !data.is_char_boundary(n) {
                n -= 1;
            }
            let text = &data[..n];
            let iters: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
            let s = Scanner::new();
            // The first scan compiles the regexes it needs: keep it out of
            // the measurement (callgrind: `--toggle-collect=*measured*`).
            black_box(s.scan(text));
            let t = std::time::Instant::now();
            let f = measured(&s, text, iters);
            let el = t.elapsed();
            eprintln!(
                "{} bytes: {:?} per scan, {:.1} MB/s, {f} findings",
                text.len(),
                el / iters as u32,
                (text.len() * iters) as f64 / el.as_secs_f64() / 1e6
            );
        }
        _ => eprintln!("usage: profile scan FILE [BYTES] [ITERS] | profile build [ITERS]"),
    }
}

#[inline(never)]
fn measured(s: &Scanner, text: &str, iters: usize) -> usize {
    let mut f = 0;
    for _ in 0..iters {
        f += black_box(s.scan(black_box(text))).findings.len();
    }
    f
}
