//! Tree scanning: files, directories and globs (walked with the `ignore`
//! crate), git changes, suppressions and the reports over all files.

use clap::Args;
use promptsieve::Scanner;
use std::path::PathBuf;

use crate::Format;

/// Options of `scan PATH…`.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct TreeArgs {
    /// Do not apply `.gitignore`, `.ignore` and git exclude files.
    #[arg(long)]
    pub(crate) no_ignore: bool,
    /// Leave out paths matching this glob (gitignore syntax); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
    /// Skip files larger than this (bytes; K, M and G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "5M")]
    pub(crate) max_size: String,
    /// Show secrets in full instead of masking them (`sk-proj-…Ue`).
    #[arg(long)]
    pub(crate) show_secrets: bool,
    /// Ignore the findings recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Write the findings to this baseline file (and exit 0).
    #[arg(long, value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,
    /// Report only these categories, entities or rule ids (comma-separated;
    /// repeatable).
    #[arg(long, value_name = "WHAT", value_delimiter = ',')]
    pub(crate) only: Vec<String>,
    /// Leave out these categories, entities or rule ids.
    #[arg(long, value_name = "WHAT", value_delimiter = ',')]
    pub(crate) skip: Vec<String>,
    /// Scan the lines added in the staged changes (`git diff --cached`).
    #[arg(long, conflicts_with = "since")]
    pub(crate) staged: bool,
    /// Scan the lines added since this revision (`git diff REV HEAD`).
    #[arg(long, value_name = "REV")]
    pub(crate) since: Option<String>,
}

/// Scans the paths (or git changes) and writes the report.
pub(crate) fn run(
    _scanner: &Scanner,
    _paths: &[String],
    _args: &TreeArgs,
    _format: Format,
    _color: bool,
    _threads: usize,
    _quiet: bool,
) -> Result<u8, String> {
    Err("tree scanning: not wired yet".into())
}
