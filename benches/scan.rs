//! Criterion benchmarks for `scan`: throughput on fixed corpora and engine
//! build time. Run with `cargo bench -p promptsieve --bench scan`.
//!
//! The corpora in `benches/data/` are every tenth row of the development
//! corpus (`shared/corpus/injection/dev.jsonl`), benign and attack rows
//! apart, joined by blank lines; see `benches/README.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use promptsieve::{Scanner, ScannerBuilder};
use std::hint::black_box;

const BENIGN: &str = include_str!("data/benign.txt");
const ATTACKS: &str = include_str!("data/attacks.txt");

fn throughput(c: &mut Criterion) {
    let scanner = Scanner::new();
    let mut g = c.benchmark_group("scan");
    for (name, text) in [("benign", BENIGN), ("attacks", ATTACKS)] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| scanner.scan(black_box(text))));
    }
    let prompt =
        &BENIGN[..BENIGN.char_indices().map(|(i, _)| i).find(|&i| i >= 4096).unwrap_or(BENIGN.len())];
    g.throughput(Throughput::Bytes(prompt.len() as u64));
    g.bench_function("prompt-4k", |b| b.iter(|| scanner.scan(black_box(prompt))));
    g.finish();
}

fn build(c: &mut Criterion) {
    c.bench_function("build-default", |b| b.iter(|| ScannerBuilder::new().build([]).map(|s| s.threshold())));
}

criterion_group!(benches, throughput, build);
criterion_main!(benches);
