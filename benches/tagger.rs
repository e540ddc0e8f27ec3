//! What the learned name tagger adds to `scan`: the default scanner
//! against the same scanner with the tagger off (`tagger(false)`: the
//! dictionary detector alone), on the benchmark corpora.
//!
//! The machine this runs on is shared and noisy, so the two scanners are
//! timed in alternation, many rounds each, and the fastest round of each
//! counts (the least disturbed one); the ratio of the two is the cost.
//! Each corpus is scanned as one 64 KiB text (as in the `throughput`
//! group) and, for the prompt-sized corpora, one prompt at a time.
//!
//! Wall-clock ratios still move by several percent from run to run here.
//! The instruction counts do not: `scripts/tagger-cost` runs this binary
//! under `perf stat` with `PROMPTSIEVE_BENCH_ONLY=tagger|dictionaries`
//! (only that scanner, `ROUNDS` rounds) and `PROMPTSIEVE_BENCH_CORPUS`
//! (only that input), and reports the instructions the tagger adds.
//!
//! Run with `cargo bench -p promptsieve --bench tagger`.

use std::hint::black_box;
use std::time::Instant;

use promptsieve::{Scanner, ScannerBuilder};

#[allow(dead_code)] // The corpus module also serves the criterion benches.
mod corpus;

const ROUNDS: usize = 25;

/// The fastest of `ROUNDS` rounds of scanning `texts`, in seconds, for
/// each scanner, alternating.
fn fastest(scanners: [&Scanner; 2], texts: &[String]) -> [f64; 2] {
    let mut best = [f64::MAX; 2];
    for _ in 0..ROUNDS {
        for (k, s) in scanners.iter().enumerate() {
            let t = Instant::now();
            for text in texts {
                black_box(s.scan(black_box(text)));
            }
            best[k] = best[k].min(t.elapsed().as_secs_f64());
        }
    }
    best
}

fn main() {
    // `cargo bench` passes flags (`--bench`); there is nothing to filter.
    let scanner = |tagger| ScannerBuilder::new().tagger(tagger).build([]).expect("the default packs build");
    let rows = |t: &str, sep: &str| t.split(sep).filter(|l| !l.trim().is_empty()).map(String::from).collect();
    let mut inputs: Vec<(String, Vec<String>)> =
        corpus::throughput().into_iter().map(|(n, t)| (n.to_string(), vec![t])).collect();
    // pii-dense holds a prompt per line; benign separates its rows (some of
    // them e-mails of several lines) by blank lines.
    inputs.push(("pii-dense-prompts".into(), rows(corpus::PII_DENSE, "\n")));
    inputs.push(("benign-prompts".into(), rows(corpus::BENIGN, "\n\n")));
    let only = std::env::var("PROMPTSIEVE_BENCH_ONLY").ok();
    let corpus = std::env::var("PROMPTSIEVE_BENCH_CORPUS").ok();
    if let Some(only) = only {
        let s = scanner(only == "tagger");
        let rounds: usize =
            std::env::var("PROMPTSIEVE_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(ROUNDS);
        for (name, texts) in inputs.iter().filter(|(n, _)| corpus.as_ref().is_none_or(|c| c == n)) {
            for _ in 0..rounds {
                for text in texts {
                    black_box(s.scan(black_box(text)));
                }
            }
            eprintln!("{name}: {rounds} rounds with {only}");
        }
        return;
    }
    let (on, off) = (scanner(true), scanner(false));
    println!("{:<24} {:>10} {:>10} {:>8}", "corpus", "tagger", "no tagger", "added");
    for (name, texts) in &inputs {
        let [a, b] = fastest([&on, &off], texts);
        let mb = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
        println!(
            "{name:<24} {:>7.2} ms {:>7.2} ms {:>+7.1}%   ({:.1} / {:.1} MB/s)",
            a * 1e3,
            b * 1e3,
            (a / b - 1.0) * 100.0,
            mb / a,
            mb / b
        );
    }
}
