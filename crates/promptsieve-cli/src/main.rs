//! `promptsieve`: scan, sanitize and evaluate prompts from the command line.
//!
//! Exit status: 0 when nothing was found, 1 when a report is flagged or holds
//! personal data or a secret, 2 for usage errors, unreadable input and
//! invalid rule packs.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use promptsieve::{BuildError, Report, RulePack, Scanner, ScannerBuilder};

mod dataset;
mod eval;
mod git;
mod output;
mod train;
mod train_lm;
mod train_names;
mod tree;

/// `writeln!` to `$w`, turning an I/O error (such as a closed pipe) into
/// the command's error instead of a panic.
#[macro_export]
macro_rules! out {
    ($w:expr) => { writeln!($w).map_err(|e| e.to_string())? };
    ($w:expr, $($t:tt)*) => { writeln!($w, $($t)*).map_err(|e| e.to_string())? };
}

#[derive(Parser)]
#[command(
    name = "promptsieve",
    version,
    about = "Prompt-safety scanner: injection, hidden characters, personal data, secrets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files, directories, globs, git changes or standard input and
    /// report findings.
    Scan(ScanArgs),
    /// Remove hidden and control characters; print the result.
    Sanitize(InputArgs),
    /// Replace personal data and secrets; print the redacted text.
    Redact(RedactArgs),
    /// Put the values saved in a vault back into a text (an LLM reply).
    Restore(RestoreArgs),
    /// Apply the policy: print the decision (allow, redact, block) as JSON.
    /// Exit status 0 allow, 1 block, 3 redact.
    Check(CheckPolicyArgs),
    /// Validate rule packs and run their examples.
    CheckRules(CheckArgs),
    /// List the compiled rules.
    Rules(RuleArgs),
    /// Measure recall and false-positive rate on a labelled JSONL corpus.
    Eval(eval::EvalArgs),
    /// Rebuild the learned scorer's weights from a labelled JSONL corpus
    /// (deterministic) and print cross-validation numbers.
    TrainScorer(train::TrainArgs),
    /// Rebuild the person-name tagger's weights from span-labelled JSONL
    /// corpora (deterministic) and print cross-validation numbers per source.
    TrainNames(train_names::TrainNamesArgs),
}

#[derive(Args, Clone)]
pub(crate) struct RuleArgs {
    /// Add a rule pack (TOML); repeatable.
    #[arg(long = "rules", value_name = "FILE")]
    pub(crate) rules: Vec<PathBuf>,
    /// Leave out the embedded default packs.
    #[arg(long)]
    pub(crate) no_default_rules: bool,
    /// Risk at or above which a report is flagged (default 0.5).
    #[arg(long, value_name = "RISK")]
    pub(crate) threshold: Option<f64>,
    /// Turn the learned injection scorer off (rules only).
    #[arg(long)]
    pub(crate) no_scorer: bool,
    /// Turn the learned person-name tagger off (PERSON names from the
    /// dictionaries alone).
    #[arg(long)]
    pub(crate) no_tagger: bool,
    /// What the text is: user input, a developer-written system prompt, a
    /// retrieved document or a tool result (attack rules weigh their scores
    /// by it).
    #[arg(long, value_name = "SOURCE", default_value = "user",
          value_parser = ["user", "system", "document", "tool"])]
    pub(crate) source: String,
}

impl RuleArgs {
    /// The `--source` (the parser admits only the four names).
    pub(crate) fn source(&self) -> promptsieve::Source {
        self.source.parse().unwrap_or_default()
    }

    pub(crate) fn scanner(&self) -> Result<Scanner, BuildError> {
        let packs = self.rules.iter().map(RulePack::from_file).collect::<Result<Vec<_>, _>>()?;
        let mut b = ScannerBuilder::new();
        b.default_packs(!self.no_default_rules);
        b.scorer(!self.no_scorer);
        b.tagger(!self.no_tagger);
        if let Some(t) = self.threshold {
            b.threshold(t);
        }
        b.build(packs)
    }
}

#[derive(Args)]
struct InputArgs {
    /// The file to read; `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// Replace invalid UTF-8 with U+FFFD instead of refusing the input.
    #[arg(long)]
    lossy: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Jsonl,
    Sarif,
    Github,
}

#[derive(Args)]
struct ScanArgs {
    /// Files, directories or globs to scan; `-` or nothing reads standard
    /// input (or, with `--jsonl`, the JSON-lines files to read).
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
    /// Replace invalid UTF-8 with U+FFFD instead of refusing standard input
    /// (files in a tree are always read this way).
    #[arg(long)]
    lossy: bool,
    #[command(flatten)]
    rules: RuleArgs,
    /// Output format (`github`: workflow annotations).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Shorthand for `--format json`.
    #[arg(long, conflicts_with_all = ["format", "jsonl"])]
    json: bool,
    /// Read JSON lines (a dataset) and write one JSON report per record, in
    /// order.
    #[arg(long, conflicts_with = "format")]
    jsonl: bool,
    /// Colour the text report: auto (when a terminal), always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No summary or progress on standard error.
    #[arg(long, short = 'q')]
    quiet: bool,
    #[command(flatten)]
    tree: tree::TreeArgs,
    #[command(flatten)]
    dataset: dataset::DatasetArgs,
}

/// `--threads`, or every core.
pub(crate) fn threads(n: Option<usize>) -> usize {
    n.filter(|&n| n > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StrategyArg {
    Placeholder,
    Mask,
    Hash,
    Remove,
}

#[derive(Args)]
struct RedactArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    rules: RuleArgs,
    /// Load and update this vault (JSON), so placeholders stay stable across
    /// calls and `restore --vault` can put the values back. With `--jsonl`:
    /// one vault per conversation (`--vault-by`) or line, keyed by it
    /// (`restore --vault FILE --key ID`).
    #[arg(long, value_name = "FILE")]
    vault: Option<PathBuf>,
    /// How values are replaced.
    #[arg(long, value_enum, default_value_t = StrategyArg::Placeholder)]
    strategy: StrategyArg,
    /// Letters/digits kept visible by `--strategy mask`.
    #[arg(long, default_value_t = 4)]
    keep: usize,
    /// Environment variable holding the key for `--strategy hash`.
    #[arg(long, value_name = "VAR", default_value = "PROMPTSIEVE_HASH_KEY")]
    hash_key_env: String,
    /// Print the replacements as JSON instead of the text.
    #[arg(long)]
    json: bool,
    /// Read JSON lines (a dataset) and write each record with its text
    /// redacted, in order.
    #[arg(long, conflicts_with = "json")]
    jsonl: bool,
    /// Worker threads for `--jsonl` (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No summary or progress on standard error.
    #[arg(long, short = 'q')]
    quiet: bool,
    #[command(flatten)]
    dataset: dataset::DatasetArgs,
}

#[derive(Args)]
struct RestoreArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The vault written by `redact --vault`.
    #[arg(long, value_name = "FILE")]
    vault: PathBuf,
    /// With a dataset's vault file (`redact --jsonl --vault`): the
    /// conversation id (or line number) whose vault restores the reply.
    #[arg(long, value_name = "ID")]
    key: Option<String>,
}

#[derive(Args)]
struct CheckPolicyArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    rules: RuleArgs,
    /// Refuse inputs longer than this many bytes.
    #[arg(long, value_name = "BYTES")]
    max_bytes: Option<usize>,
}

#[derive(Args)]
struct CheckArgs {
    /// Packs to check; with none, the embedded default packs.
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => scan(a),
        Command::Sanitize(a) => sanitize(a),
        Command::Redact(a) => redact(a),
        Command::Restore(a) => restore(a),
        Command::Check(a) => check(a),
        Command::CheckRules(a) => check_rules(a),
        Command::Rules(a) => list_rules(a),
        Command::Eval(a) => eval::run(a),
        Command::TrainScorer(a) => train::run(a),
        Command::TrainNames(a) => train_names::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            // A closed pipe (e.g. `| head`) is not an error worth a message.
            if !msg.contains("Broken pipe") {
                eprintln!("promptsieve: error: {msg}");
            }
            ExitCode::from(2)
        }
    }
}

/// Reads the input named by `args` as UTF-8 text.
fn read_input(args: &InputArgs) -> Result<(String, String), String> {
    let (name, bytes) = match args.file.as_deref() {
        None => ("<stdin>".to_string(), read_stdin()?),
        Some(p) if p == Path::new("-") => ("<stdin>".to_string(), read_stdin()?),
        Some(p) => (p.display().to_string(), std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) if args.lossy => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        Err(e) => {
            return Err(format!(
                "{name}: invalid UTF-8 at byte {} (pass --lossy to replace invalid sequences)",
                e.utf8_error().valid_up_to()
            ));
        }
    };
    Ok((name, text))
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    io::stdin().read_to_end(&mut buf).map_err(|e| format!("<stdin>: {e}"))?;
    Ok(buf)
}

pub(crate) fn exit_code(report: &Report) -> u8 {
    u8::from(report.flagged || report.has_sensitive_data())
}

fn scan(a: ScanArgs) -> Result<u8, String> {
    let scanner = a.rules.scanner().map_err(|e| e.to_string())?;
    let format = if a.json { Format::Json } else { a.format };
    let stdin_only = a.paths.is_empty() || a.paths.iter().all(|p| p == "-");
    let tree_mode = !a.jsonl && (!stdin_only || a.tree.staged || a.tree.since.is_some());
    if a.jsonl || (format == Format::Jsonl && !tree_mode) {
        if a.paths.len() > 1 {
            return Err("--jsonl reads one file (or standard input)".into());
        }
        let input = a.paths.first().filter(|p| *p != "-").map(Path::new);
        return dataset::scan(&scanner, input, a.rules.source(), threads(a.threads), a.quiet, &a.dataset);
    }
    if tree_mode {
        let color = color(&a.color);
        return tree::run(
            &scanner,
            a.rules.source(),
            &a.paths,
            &a.tree,
            format,
            color,
            threads(a.threads),
            a.quiet,
        );
    }
    let input = InputArgs { file: None, lossy: a.lossy };
    let (name, text) = read_input(&input)?;
    let report = scanner.scan_as(&text, a.rules.source());
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let res = match format {
        Format::Json => {
            let v = output::report_json(&report, &text);
            writeln!(out, "{v}")
        }
        Format::Sarif => {
            let hits = tree::report_hits(&name, &text, &report, a.tree.show_secrets);
            let v = output::sarif_hits(&scanner, &hits);
            writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        Format::Github => tree::report_hits(&name, &text, &report, a.tree.show_secrets)
            .iter()
            .try_for_each(|h| output::github_hit(&mut out, h)),
        _ => output::human(&mut out, &name, &text, &report, scanner.threshold(), color(&a.color)),
    };
    res.map_err(|e| e.to_string())?;
    Ok(exit_code(&report))
}

fn color(arg: &str) -> bool {
    match arg {
        "always" => true,
        "never" => false,
        _ => io::stdout().is_terminal(),
    }
}

fn sanitize(a: InputArgs) -> Result<u8, String> {
    let (_, text) = read_input(&a)?;
    let clean = Scanner::new().sanitize(&text);
    io::stdout().write_all(clean.as_bytes()).map_err(|e| e.to_string())?;
    Ok(0)
}

pub(crate) fn load_vault(path: &Path) -> Result<promptsieve::Vault, String> {
    match std::fs::read_to_string(path) {
        Ok(s) => {
            promptsieve::Vault::from_json(&s).map_err(|e| format!("{}: not a vault: {e}", path.display()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(promptsieve::Vault::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn redact(a: RedactArgs) -> Result<u8, String> {
    use promptsieve::{RedactOptions, Strategy};
    let scanner = a.rules.scanner().map_err(|e| e.to_string())?;
    let mut opts = RedactOptions {
        strategy: match a.strategy {
            StrategyArg::Placeholder => Strategy::Placeholder,
            StrategyArg::Mask => Strategy::Mask { keep: a.keep },
            StrategyArg::Hash => Strategy::Hash,
            StrategyArg::Remove => Strategy::Remove,
        },
        ..RedactOptions::default()
    };
    if a.strategy == StrategyArg::Hash {
        opts.hash_key = std::env::var(&a.hash_key_env)
            .map_err(|_| {
                format!("--strategy hash needs a key in the environment variable {}", a.hash_key_env)
            })?
            .into_bytes();
    }
    if a.jsonl {
        let input = a.input.file.as_deref().filter(|p| *p != Path::new("-"));
        let t = threads(a.threads);
        return dataset::redact(&scanner, input, &opts, a.vault.as_deref(), t, a.quiet, &a.dataset);
    }
    let (_, text) = read_input(&a.input)?;
    let mut vault = match &a.vault {
        Some(p) => load_vault(p)?,
        None => promptsieve::Vault::new(),
    };
    let redacted = scanner.redact_full(&text, &opts, &mut vault).map_err(|e| e.to_string())?;
    if let Some(p) = &a.vault {
        let json = serde_json::to_string_pretty(&vault).map_err(|e| e.to_string())?;
        std::fs::write(p, json).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let mut w = io::stdout().lock();
    if a.json {
        out!(w, "{}", serde_json::to_string(&redacted).map_err(|e| e.to_string())?);
    } else {
        w.write_all(redacted.text.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(0)
}

fn restore(a: RestoreArgs) -> Result<u8, String> {
    let vault = match &a.key {
        None => load_vault(&a.vault)?,
        Some(k) => {
            let name = a.vault.display();
            let s = std::fs::read_to_string(&a.vault).map_err(|e| format!("{name}: {e}"))?;
            let all: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&s).map_err(|e| format!("{name}: not a dataset vault file: {e}"))?;
            let one = all.get(k).ok_or_else(|| format!("{name}: no vault for {k:?}"))?;
            promptsieve::Vault::from_json(&one.to_string())
                .map_err(|e| format!("{name}: {k:?} is not a vault: {e}"))?
        }
    };
    let (_, text) = read_input(&a.input)?;
    io::stdout().write_all(vault.restore(&text).as_bytes()).map_err(|e| e.to_string())?;
    Ok(0)
}

fn check(a: CheckPolicyArgs) -> Result<u8, String> {
    let mut b = ScannerBuilder::new();
    b.default_packs(!a.rules.no_default_rules);
    if let Some(t) = a.rules.threshold {
        b.threshold(t);
    }
    if a.max_bytes.is_some() {
        b.policy(promptsieve::Policy { max_bytes: a.max_bytes, ..promptsieve::Policy::default() });
    }
    let packs = a
        .rules
        .rules
        .iter()
        .map(RulePack::from_file)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let scanner = b.build(packs).map_err(|e| e.to_string())?;
    let (_, text) = read_input(&a.input)?;
    let d = scanner.check_as(&text, a.rules.source());
    let reasons: Vec<serde_json::Value> = d
        .reasons
        .iter()
        .map(|r| serde_json::json!({ "code": r.code, "message": r.message, "rule": r.rule }))
        .collect();
    let v = serde_json::json!({
        "action": d.action,
        "reasons": reasons,
        "risk": d.report.risk,
        "report": output::report_json(&d.report, &text),
        "redacted": d.redacted.as_ref().map(|r| r.text.clone()),
    });
    let mut w = io::stdout().lock();
    out!(w, "{v}");
    Ok(match d.action {
        promptsieve::Action::Allow => 0,
        promptsieve::Action::Block => 1,
        _ => 3,
    })
}

fn check_rules(a: CheckArgs) -> Result<u8, String> {
    let scanner = if a.files.is_empty() {
        Scanner::new()
    } else {
        let packs = a
            .files
            .iter()
            .map(RulePack::from_file)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        ScannerBuilder::new().default_packs(false).build(packs).map_err(|e| e.to_string())?
    };
    let failures = scanner.verify_examples();
    for f in &failures {
        eprintln!("{f}");
    }
    let n = scanner.rules().len();
    let mut w = io::stdout().lock();
    if failures.is_empty() {
        out!(w, "{n} rules compiled; all examples hold");
        Ok(0)
    } else {
        Err(format!("{} of the examples of {n} rules failed", failures.len()))
    }
}

fn list_rules(a: RuleArgs) -> Result<u8, String> {
    let scanner = a.scanner().map_err(|e| e.to_string())?;
    let mut w = io::stdout().lock();
    for r in scanner.rules() {
        out!(w, "{:<40} {:<13} {:.2}  {}", r.id, r.category.as_str(), r.score, r.description);
    }
    Ok(0)
}
