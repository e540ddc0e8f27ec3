//! Criterion benchmarks for the scanner, each next to reference lines
//! measured in the same run (see `reference.rs`), so that every figure can
//! also be read as a ratio that does not depend on how busy the machine is.
//!
//! Groups (benchmark ids are `group/function/input`):
//!
//! - `throughput`: `scan`, `memchr` and `regexset` over 64 KiB of English
//!   prose, multilingual prose, source code, prompts dense with personal
//!   data, benign prompts and attacks.
//! - `latency`: `scan`, `redact`, `check` (and the two references) on
//!   100 B, 256 B, 4 KiB and 64 KiB prompts.
//! - `build`: cold start of the default scanner (without and with its first
//!   scan, since some automata are compiled on first use), the reference
//!   `RegexSet`, and a generated pack with thousands of phrases.
//! - `phrases`: scanning prose with the default packs plus that pack.
//! - `hostile`: 1 MiB inputs aimed at the engine's weak spots.
//!
//! Run with `cargo bench -p promptsieve --bench scan`; `scripts/bench` runs
//! it and writes the table in `benches/README.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use promptsieve::{RulePack, Scanner, ScannerBuilder};

mod corpus;
mod reference;

/// The generated phrase pack: 50 rules × 80 phrase strings, about 5,000
/// phrases once the `{a|b}` groups are expanded.
const PHRASE_RULES: usize = 50;
const PHRASES_PER_RULE: usize = 80;

fn default_scanner() -> Scanner {
    ScannerBuilder::new().build([]).expect("the default packs build")
}

fn throughput(c: &mut Criterion) {
    let scanner = default_scanner();
    let set = reference::regex_set(&reference::default_patterns());
    let mut g = c.benchmark_group("throughput");
    for (name, text) in corpus::throughput() {
        let text = text.as_str();
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("scan", name), text, |b, t| b.iter(|| scanner.scan(t)));
        reference_lines(&mut g, name, text, &set);
    }
    g.finish();
}

/// The two reference lines of one input, in the caller's group.
fn reference_lines(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, text: &str, set: &regex::RegexSet) {
    g.bench_with_input(BenchmarkId::new("memchr", name), text, |b, t| b.iter(|| reference::memchr_pass(t)));
    g.bench_with_input(BenchmarkId::new("regexset", name), text, |b, t| b.iter(|| set.matches(t)));
}

fn latency(c: &mut Criterion) {
    let scanner = default_scanner();
    let set = reference::regex_set(&reference::default_patterns());
    let mut g = c.benchmark_group("latency");
    for (name, text) in corpus::latency() {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("scan", name), text, |b, t| b.iter(|| scanner.scan(t)));
        g.bench_with_input(BenchmarkId::new("redact", name), text, |b, t| b.iter(|| scanner.redact(t)));
        g.bench_with_input(BenchmarkId::new("check", name), text, |b, t| b.iter(|| scanner.check(t)));
        reference_lines(&mut g, name, text, &set);
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    let first = corpus::prefix(corpus::PROSE_EN, 100);
    let patterns = reference::default_patterns();
    let pack_src = corpus::phrase_pack(PHRASE_RULES, PHRASES_PER_RULE);
    let pack = || RulePack::from_toml("bench-phrases", &pack_src).expect("the generated pack parses");
    let mut g = c.benchmark_group("build");
    // Builds take milliseconds: fewer samples keep the group short.
    g.sample_size(20);
    g.bench_function("default", |b| b.iter(default_scanner));
    g.bench_function("default+first-scan", |b| b.iter(|| default_scanner().scan(black_box(first))));
    // The reference compiles its NFAs here; its DFA is built lazily by the
    // first search, which is included for the same reason as above.
    g.bench_function("regexset", |b| b.iter(|| reference::regex_set(&patterns).matches(black_box(first))));
    // Parsing the TOML is part of loading a user pack, so it is measured.
    g.bench_function("phrases", |b| {
        b.iter(|| ScannerBuilder::new().default_packs(false).build([pack()]).expect("builds"))
    });
    g.bench_function("default+phrases", |b| {
        b.iter(|| ScannerBuilder::new().build([pack()]).expect("builds"))
    });
    g.finish();
}

fn phrases(c: &mut Criterion) {
    let pack_src = corpus::phrase_pack(PHRASE_RULES, PHRASES_PER_RULE);
    let pack = RulePack::from_toml("bench-phrases", &pack_src).expect("the generated pack parses");
    let scanner = ScannerBuilder::new().build([pack]).expect("builds");
    let mut patterns = reference::default_patterns();
    patterns.extend(reference::patterns([pack_src.as_str()]));
    let set = reference::regex_set(&patterns);
    let text = corpus::sized(corpus::PROSE_EN, corpus::THROUGHPUT_BYTES);
    let mut g = c.benchmark_group("phrases");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_with_input(BenchmarkId::new("scan", "prose-en"), text.as_str(), |b, t| {
        b.iter(|| scanner.scan(t))
    });
    g.bench_with_input(BenchmarkId::new("regexset", "prose-en"), text.as_str(), |b, t| {
        b.iter(|| set.matches(t))
    });
    g.finish();
}

fn hostile(c: &mut Criterion) {
    let scanner = default_scanner();
    let set = reference::regex_set(&reference::default_patterns());
    let mut g = c.benchmark_group("hostile");
    // One iteration can take a second or more: flat sampling with the
    // minimum sample count keeps the group within a few minutes.
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    for (name, text) in corpus::hostile() {
        let text = text.as_str();
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("scan", name), text, |b, t| b.iter(|| scanner.scan(t)));
        reference_lines(&mut g, name, text, &set);
    }
    g.finish();
}

fn config() -> Criterion {
    // About 70 benchmarks: one second of warm-up and three of measurement
    // each give a full run of 5–10 minutes on a 2-core machine. Command-line
    // flags (`-- --measurement-time 10`) override these.
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = throughput, latency, build, phrases, hostile
}
criterion_main!(benches);
