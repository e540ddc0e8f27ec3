//! Criterion benchmarks for `scan`: throughput on fixed corpora, latency per
//! prompt size, and engine build time. Run with
//! `cargo bench -p promptsieve --bench scan`.
//!
//! The corpora in `benches/data/` are described in `benches/README.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use promptsieve::{Scanner, ScannerBuilder};
use std::hint::black_box;

const BENIGN: &str = include_str!("data/benign.txt");
const ATTACKS: &str = include_str!("data/attacks.txt");
const PROSE_EN: &str = include_str!("data/prose-en.txt");
const PROSE_MULTI: &str = include_str!("data/prose-multi.txt");

/// The longest prefix of `text` of at most `n` bytes that ends on a char boundary.
fn prefix(text: &str, n: usize) -> &str {
    let mut end = n.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn throughput(c: &mut Criterion) {
    let scanner = Scanner::new();
    let mut g = c.benchmark_group("scan");
    let prompt_4k =
        &BENIGN[..BENIGN.char_indices().map(|(i, _)| i).find(|&i| i >= 4096).unwrap_or(BENIGN.len())];
    for (name, text) in [
        ("benign", BENIGN),
        ("attacks", ATTACKS),
        ("prompt-4k", prompt_4k),
        ("prompt-100b", prefix(PROSE_EN, 100)),
        ("prompt-64k", prefix(BENIGN, 64 * 1024)),
        ("prose-en", PROSE_EN),
        ("prose-multi", PROSE_MULTI),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| scanner.scan(black_box(text))));
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    c.bench_function("build-default", |b| b.iter(|| ScannerBuilder::new().build([]).map(|s| s.threshold())));
}

criterion_group!(benches, throughput, build);
criterion_main!(benches);
