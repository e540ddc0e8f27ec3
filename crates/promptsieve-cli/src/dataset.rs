//! Datasets: `scan --jsonl` and `redact --jsonl` over JSON-lines corpora.
//! (Being rewritten: parallel, in order, bounded memory, `--field`.)

use std::path::Path;

use clap::Args;
use promptsieve::{RedactOptions, Scanner, Source};

/// Options of the JSON-lines mode shared by `scan` and `redact`.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct DatasetArgs {}

/// `scan --jsonl`: one report per record, in input order.
pub(crate) fn scan(
    _scanner: &Scanner,
    _input: Option<&Path>,
    _source: Source,
    _threads: usize,
    _quiet: bool,
    _args: &DatasetArgs,
) -> Result<u8, String> {
    Err("scan --jsonl: not wired yet".into())
}

/// `redact --jsonl`: each record with its text redacted, in input order.
pub(crate) fn redact(
    _scanner: &Scanner,
    _input: Option<&Path>,
    _opts: &RedactOptions,
    _vault: Option<&Path>,
    _threads: usize,
    _quiet: bool,
    _args: &DatasetArgs,
) -> Result<u8, String> {
    Err("redact --jsonl: not wired yet".into())
}
