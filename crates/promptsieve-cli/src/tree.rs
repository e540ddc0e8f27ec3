//! Tree scanning: files, directories and globs (walked with the `ignore`
//! crate, so `.gitignore` and `.ignore` apply), git changes, suppressions
//! and one report over all files.
//!
//! Which findings count: personal data and secrets always; attack signals
//! (injection, hidden characters, exfiltration) only in a file whose report
//! is flagged (risk at or above the threshold), so a source file that merely
//! mentions "system prompt" stays quiet.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Args;
use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;
use promptsieve::{Category, Finding, Scanner, Target};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Format;
use crate::git::{self, Changes};
use crate::output;

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

/// The marker of an inline suppression comment.
const ALLOW: &str = "promptsieve:allow";

/// Bytes sniffed for a NUL to tell binary files (as git and ripgrep do).
const SNIFF: usize = 8192;

/// One finding, located and ready for every output format (the file's text
/// is dropped once its findings are built).
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) path: String,
    pub(crate) rule: String,
    pub(crate) category: Category,
    pub(crate) entity: Option<String>,
    pub(crate) score: f64,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) line: usize,
    pub(crate) col: usize,
    pub(crate) end_line: usize,
    pub(crate) end_col: usize,
    /// The matched text, masked for secrets unless `--show-secrets`.
    pub(crate) text: String,
    /// The finding's line with the match (masked) marked, for the text report.
    pub(crate) context: (String, String, String),
    pub(crate) detail: Option<String>,
    pub(crate) fingerprint: String,
}

/// What to scan: a file on disk, standard input, or a blob from git.
enum Origin {
    File(PathBuf),
    Stdin,
    Git(Changes<'static>, PathBuf),
}

struct Item {
    display: String,
    origin: Origin,
    /// Added line ranges (git modes): findings elsewhere are not reported.
    added: Option<Vec<(usize, usize)>>,
}

#[derive(Default)]
struct Counts {
    files: AtomicUsize,
    bytes: AtomicUsize,
    binary: AtomicUsize,
    too_large: AtomicUsize,
    unreadable: AtomicUsize,
    inline: AtomicUsize,
    baseline: AtomicUsize,
}

/// A `--only`/`--skip` value: a rule id, a category or an entity.
enum Select {
    Rule(String),
    Target(Target),
}

impl Select {
    fn parse(s: &str, rule_ids: &HashSet<String>) -> Result<Select, String> {
        if rule_ids.contains(s) {
            return Ok(Select::Rule(s.to_string()));
        }
        s.parse::<Target>().map(Select::Target).map_err(|e| format!("--only/--skip: {e}"))
    }

    fn matches(&self, f: &Finding) -> bool {
        match self {
            Select::Rule(r) => f.rule == *r,
            Select::Target(t) => t.matches(f),
        }
    }
}

struct Filter {
    only: Vec<Select>,
    skip: Vec<Select>,
    baseline: HashSet<String>,
    show_secrets: bool,
}

impl Filter {
    fn selected(&self, f: &Finding) -> bool {
        (self.only.is_empty() || self.only.iter().any(|s| s.matches(f)))
            && !self.skip.iter().any(|s| s.matches(f))
    }
}

/// Parses `5M`, `200K`, `1G` or a byte count.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("--max-size {s:?}: expected a size such as 500K, 5M or 1048576"))
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// The display form of a walked path: forward slashes, no leading `./`.
fn display(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    let mut s = s.as_str();
    while let Some(r) = s.strip_prefix("./") {
        s = r;
    }
    s.to_string()
}

fn walker(root: &Path, args: &TreeArgs, glob: Option<&str>) -> Result<ignore::Walk, String> {
    let mut b = WalkBuilder::new(root);
    let respect = !args.no_ignore;
    // Hidden files are scanned (secrets live in `.env` and `.github/`);
    // `.gitignore` applies even outside a git repository.
    b.hidden(false)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .parents(respect)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git");
    let mut o = OverrideBuilder::new(root);
    if let Some(g) = glob {
        o.add(g).map_err(|e| format!("{g}: {e}"))?;
    }
    for x in &args.exclude {
        o.add(&format!("!{x}")).map_err(|e| format!("--exclude {x}: {e}"))?;
    }
    b.overrides(o.build().map_err(|e| e.to_string())?);
    Ok(b.build())
}

/// Splits `src/**/*.rs` into the directory to walk (`src`) and the glob
/// relative to it (`**/*.rs`).
fn split_glob(pat: &str) -> (PathBuf, String) {
    let parts: Vec<&str> = pat.split('/').collect();
    let literal = parts.iter().take_while(|p| !has_glob(p)).count().min(parts.len().saturating_sub(1));
    let base = parts[..literal].join("/");
    let rest = parts[literal..].join("/");
    let base = if base.is_empty() && pat.starts_with('/') {
        PathBuf::from("/")
    } else if base.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(base)
    };
    (base, rest)
}

/// Lists the files to scan, sorted by path, with errors for missing paths.
fn collect(paths: &[String], args: &TreeArgs, counts: &Counts) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut excludes = OverrideBuilder::new(".");
    for x in &args.exclude {
        excludes.add(&format!("!{x}")).map_err(|e| format!("--exclude {x}: {e}"))?;
    }
    let excludes = excludes.build().map_err(|e| e.to_string())?;
    let walk = |w: ignore::Walk, items: &mut Vec<Item>| {
        for e in w {
            match e {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    items.push(Item {
                        display: display(e.path()),
                        origin: Origin::File(e.into_path()),
                        added: None,
                    });
                }
                Ok(_) => {}
                Err(err) => {
                    eprintln!("promptsieve: {err}");
                    counts.unreadable.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    };
    for p in paths {
        let path = Path::new(p);
        if p == "-" {
            items.push(Item { display: "<stdin>".into(), origin: Origin::Stdin, added: None });
        } else if path.is_dir() {
            walk(walker(path, args, None)?, &mut items);
        } else if path.exists() {
            // A file named on the command line is scanned even when ignored,
            // as in ripgrep; `--exclude` still applies.
            if !excludes.matched(path, false).is_ignore() {
                items.push(Item { display: display(path), origin: Origin::File(path.into()), added: None });
            }
        } else if has_glob(p) {
            let (base, glob) = split_glob(p);
            let before = items.len();
            if base.is_dir() {
                walk(walker(&base, args, Some(&glob))?, &mut items);
            }
            if items.len() == before {
                return Err(format!("{p}: no file matches"));
            }
        } else {
            return Err(format!("{p}: no such file or directory"));
        }
    }
    items.sort_by(|a, b| a.display.cmp(&b.display));
    items.dedup_by(|a, b| a.display == b.display);
    Ok(items)
}

/// The files and added lines of `--staged` / `--since`, limited to the given
/// paths when there are any.
fn collect_git(paths: &[String], args: &TreeArgs) -> Result<Vec<Item>, String> {
    let root = git::toplevel()?;
    let which: Changes<'static> = match &args.since {
        Some(rev) => Changes::Since(Box::leak(rev.clone().into_boxed_str())),
        None => Changes::Staged,
    };
    let mut o = OverrideBuilder::new(&root);
    for x in &args.exclude {
        o.add(&format!("!{x}")).map_err(|e| format!("--exclude {x}: {e}"))?;
    }
    let excludes = o.build().map_err(|e| e.to_string())?;
    let prefixes: Vec<String> =
        paths.iter().filter(|p| *p != "-" && *p != ".").map(|p| display(Path::new(p))).collect();
    let mut items = Vec::new();
    for c in git::changes(&root, which)? {
        if excludes.matched(root.join(&c.path), false).is_ignore() {
            continue;
        }
        if !prefixes.is_empty()
            && !prefixes.iter().any(|p| c.path == *p || c.path.starts_with(&format!("{p}/")))
        {
            continue;
        }
        items.push(Item { display: c.path, origin: Origin::Git(which, root.clone()), added: Some(c.added) });
    }
    items.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(items)
}

fn read(item: &Item, max: u64, counts: &Counts) -> Option<Vec<u8>> {
    let bytes = match &item.origin {
        Origin::File(p) => {
            if std::fs::metadata(p).is_ok_and(|m| m.len() > max) {
                counts.too_large.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            // Read at most one byte past the limit: a file that grew is
            // still refused, never read whole.
            let r = std::fs::File::open(p).and_then(|f| {
                let mut buf = Vec::new();
                f.take(max + 1).read_to_end(&mut buf).map(|_| buf)
            });
            match r {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("promptsieve: {}: {e}", item.display);
                    counts.unreadable.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
        }
        Origin::Stdin => {
            let mut buf = Vec::new();
            if let Err(e) = io::stdin().take(max + 1).read_to_end(&mut buf) {
                eprintln!("promptsieve: <stdin>: {e}");
                counts.unreadable.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            buf
        }
        Origin::Git(which, root) => match git::content(root, *which, &item.display) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("promptsieve: {}: {e}", item.display);
                counts.unreadable.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        },
    };
    if bytes.len() as u64 > max {
        counts.too_large.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    if bytes[..bytes.len().min(SNIFF)].contains(&0) {
        counts.binary.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    Some(bytes)
}

/// Masks a secret: a recognisable start and the last two characters
/// (`sk-proj-…Ue`), never more than a third of it.
pub(crate) fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let head = (n / 3).min(8);
    let tail = if n >= 12 { 2 } else { 0 };
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[n - tail..]);
    out
}

/// Lines and columns of one text. Findings come in order, so columns are
/// counted from the last position asked for rather than from the line's
/// start: a one-line file of a megabyte with thousands of findings
/// (minified code, a long JSON line) is counted once, not once per
/// finding.
struct Lines<'t> {
    text: &'t str,
    /// Byte offsets of the line starts.
    starts: Vec<usize>,
    /// Lines holding the inline marker ([`ALLOW`]), 1-based, sorted.
    marked: Vec<usize>,
    /// The last position located: byte offset, line, column.
    at: std::cell::Cell<(usize, usize, usize)>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Lines<'t> {
        let starts: Vec<usize> =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let mut marked: Vec<usize> =
            text.match_indices(ALLOW).map(|(i, _)| starts.partition_point(|&s| s <= i)).collect();
        marked.dedup();
        Lines { text, starts, marked, at: std::cell::Cell::new((0, 1, 1)) }
    }

    /// The 1-based line of byte `pos`.
    fn line_of(&self, pos: usize) -> usize {
        self.starts.partition_point(|&s| s <= pos)
    }

    /// 1-based line and column (in code points) of byte `pos`.
    fn locate(&self, pos: usize) -> (usize, usize) {
        let line = self.line_of(pos);
        let ls = self.starts[line - 1];
        let (at, at_line, at_col) = self.at.get();
        let col = if at_line == line && at <= pos {
            at_col + self.text[at..pos].chars().count()
        } else if at_line == line && pos - ls > at - pos {
            at_col - self.text[pos..at].chars().count()
        } else {
            self.text[ls..pos].chars().count() + 1
        };
        self.at.set((pos, line, col));
        (line, col)
    }

    /// Line `line`'s text (1-based; "" outside the text), without its
    /// line break.
    fn line(&self, line: usize) -> &'t str {
        if line == 0 || line > self.starts.len() {
            return "";
        }
        let s = self.starts[line - 1];
        let e = self.starts.get(line).map_or(self.text.len(), |&e| e - 1);
        self.text[s..e].trim_end_matches('\r')
    }

    /// Whether an inline marker on `line` or the line above suppresses `f`.
    fn allows(&self, line: usize, f: &Finding) -> bool {
        [line, line - 1].into_iter().any(|l| self.marked.binary_search(&l).is_ok() && allows(self.line(l), f))
    }
}

/// Whether `line` holds `promptsieve:allow` for this finding: bare (or
/// followed by free text), or followed by names that select it — rule ids,
/// categories or entities, comma-separated.
fn allows(line: &str, f: &Finding) -> bool {
    let mut rest = line;
    while let Some(i) = rest.find(ALLOW) {
        let after = &rest[i + ALLOW.len()..];
        rest = after;
        if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            continue; // `promptsieve:allowed` is another word
        }
        let list = after.trim_start_matches([' ', '\t', ':', '=']);
        let token = list
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ',')))
            .next()
            .unwrap_or("");
        // Only names shaped like a rule id, a category or an entity select;
        // other words are the comment's explanation.
        let names: Vec<&str> = token
            .split(',')
            .filter(|n| {
                n.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && (n.contains(['-', '_'])
                        || Category::parse(n).is_some()
                        || n.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
            })
            .collect();
        let selects = |n: &&str| {
            *n == f.rule
                || *n == f.category.as_str()
                || f.entity.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(n))
        };
        if names.is_empty() || names.iter().any(selects) {
            return true;
        }
    }
    false
}

fn fingerprint(path: &str, rule: &str, matched: &str, nth: usize) -> String {
    let mut h = Sha256::new();
    for part in [path.as_bytes(), rule.as_bytes(), matched.as_bytes(), nth.to_string().as_bytes()] {
        h.update(part);
        h.update([0]);
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Scans one text and turns its reported findings into hits.
fn hits(
    scanner: &Scanner,
    source: promptsieve::Source,
    path: &str,
    text: &str,
    added: Option<&[(usize, usize)]>,
    filter: &Filter,
    counts: &Counts,
) -> Vec<Hit> {
    let report = scanner.scan_as(text, source);
    let lines = Lines::new(text);
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut out = Vec::new();
    for f in &report.findings {
        let counts_toward_policy = matches!(f.category, Category::Pii | Category::Secret) || report.flagged;
        if !counts_toward_policy || !filter.selected(f) {
            continue;
        }
        let matched = &text[f.span.range()];
        let nth = seen.entry((f.rule.clone(), matched.to_string())).or_insert(0);
        let fp = fingerprint(path, &f.rule, matched, *nth);
        *nth += 1;
        let line = lines.line_of(f.span.start);
        if added.is_some_and(|r| !r.iter().any(|&(a, b)| (a..=b).contains(&line))) {
            continue;
        }
        if lines.allows(line, f) {
            counts.inline.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if filter.baseline.contains(&fp) {
            counts.baseline.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        out.push(make_hit(path, &lines, f, fp, filter.show_secrets));
    }
    out
}

/// A finding located in its text.
fn make_hit(path: &str, lines: &Lines<'_>, f: &Finding, fingerprint: String, show_secrets: bool) -> Hit {
    let text = lines.text;
    let matched = &text[f.span.range()];
    let (line, col) = lines.locate(f.span.start);
    let (end_line, end_col) = lines.locate(f.span.end);
    let secret = f.category == Category::Secret && !show_secrets;
    let shown = if secret { mask(matched) } else { matched.to_string() };
    let ls = lines.starts[line - 1];
    let le = lines.starts.get(line).map_or(text.len(), |&e| e - 1);
    let ctx_start = floor(text, f.span.start.saturating_sub(60).max(ls));
    let ctx_end = if f.span.end <= le { ceil(text, (f.span.end + 60).min(le)) } else { f.span.end };
    Hit {
        path: path.to_string(),
        rule: f.rule.clone(),
        category: f.category,
        entity: f.entity.clone(),
        score: f.score,
        start: f.span.start,
        end: f.span.end,
        line,
        col,
        end_line,
        end_col,
        context: (
            text[ctx_start..f.span.start].trim_start().to_string(),
            shown.clone(),
            text[f.span.end..ctx_end].trim_end().to_string(),
        ),
        text: shown,
        detail: f.detail.clone(),
        fingerprint,
    }
}

/// Every finding of one report as hits (standard input's SARIF and
/// annotations), fingerprinted like a tree's.
pub(crate) fn report_hits(
    path: &str,
    text: &str,
    report: &promptsieve::Report,
    show_secrets: bool,
) -> Vec<Hit> {
    let lines = Lines::new(text);
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    report
        .findings
        .iter()
        .map(|f| {
            let matched = &text[f.span.range()];
            let nth = seen.entry((f.rule.clone(), matched.to_string())).or_insert(0);
            let fp = fingerprint(path, &f.rule, matched, *nth);
            *nth += 1;
            make_hit(path, &lines, f, fp, show_secrets)
        })
        .collect()
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn load_baseline(p: &Path) -> Result<HashSet<String>, String> {
    let s = std::fs::read_to_string(p).map_err(|e| format!("--baseline {}: {e}", p.display()))?;
    let v: Value =
        serde_json::from_str(&s).map_err(|e| format!("--baseline {}: not JSON: {e}", p.display()))?;
    let list = v.get("findings").and_then(Value::as_array).ok_or_else(|| {
        format!("--baseline {}: no \"findings\" list (write one with --write-baseline)", p.display())
    })?;
    list.iter()
        .map(|f| {
            f.get("fingerprint")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("--baseline {}: a finding without \"fingerprint\"", p.display()))
        })
        .collect()
}

fn write_baseline(p: &Path, hits: &[Hit]) -> Result<(), String> {
    let findings: Vec<Value> = hits
        .iter()
        .map(|h| json!({ "fingerprint": h.fingerprint, "rule": h.rule, "path": h.path, "line": h.line }))
        .collect();
    let v = json!({ "tool": "promptsieve", "version": 1, "findings": findings });
    let s = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
    std::fs::write(p, s + "\n").map_err(|e| format!("--write-baseline {}: {e}", p.display()))
}

/// Scans the paths (or git changes) and writes the report.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    scanner: &Scanner,
    source: promptsieve::Source,
    paths: &[String],
    args: &TreeArgs,
    format: Format,
    color: bool,
    threads: usize,
    quiet: bool,
) -> Result<u8, String> {
    let t0 = Instant::now();
    let max = parse_size(&args.max_size)?;
    let rule_ids: HashSet<String> = scanner.rules().into_iter().map(|r| r.id).collect();
    let parse = |v: &[String]| v.iter().map(|s| Select::parse(s, &rule_ids)).collect::<Result<Vec<_>, _>>();
    let filter = Filter {
        only: parse(&args.only)?,
        skip: parse(&args.skip)?,
        baseline: match &args.baseline {
            Some(p) => load_baseline(p)?,
            None => HashSet::new(),
        },
        show_secrets: args.show_secrets,
    };
    let counts = Counts::default();
    let items = if args.staged || args.since.is_some() {
        collect_git(paths, args)?
    } else {
        collect(paths, args, &counts)?
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Hit>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let Some(bytes) = read(item, max, &counts) else { continue };
                    counts.files.fetch_add(1, Ordering::Relaxed);
                    counts.bytes.fetch_add(bytes.len(), Ordering::Relaxed);
                    let text = String::from_utf8_lossy(&bytes);
                    let h =
                        hits(scanner, source, &item.display, &text, item.added.as_deref(), &filter, &counts);
                    if !h.is_empty() {
                        mine.push((i, h));
                    }
                }
                if let Ok(mut r) = results.lock() {
                    r.extend(mine);
                }
            });
        }
    });
    let mut results = results.into_inner().map_err(|_| "a scanning thread failed".to_string())?;
    results.sort_by_key(|(i, _)| *i);
    let all: Vec<Hit> = results.into_iter().flat_map(|(_, h)| h).collect();

    if let Some(p) = &args.write_baseline {
        write_baseline(p, &all)?;
        if !quiet {
            eprintln!("promptsieve: wrote {} finding(s) to {}", all.len(), p.display());
        }
        return Ok(0);
    }
    let summary =
        Summary { counts: &counts, items: items.len(), hits: &all, secs: t0.elapsed().as_secs_f64() };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let w = &mut out;
    let res = match format {
        Format::Json => writeln!(w, "{}", summary.json(&all)),
        Format::Jsonl => all.iter().try_for_each(|h| writeln!(w, "{}", hit_json(h))),
        Format::Sarif => {
            let v = output::sarif_hits(scanner, &all);
            writeln!(w, "{}", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        Format::Github => all.iter().try_for_each(|h| output::github_hit(w, h)),
        Format::Text => all.iter().try_for_each(|h| output::human_hit(w, h, color)),
    };
    res.and_then(|()| w.flush()).map_err(|e| e.to_string())?;
    if !quiet {
        eprintln!("promptsieve: {}", summary.line());
    }
    let errors = counts.unreadable.load(Ordering::Relaxed) > 0;
    Ok(if errors { 2 } else { u8::from(!all.is_empty()) })
}

struct Summary<'a> {
    counts: &'a Counts,
    items: usize,
    hits: &'a [Hit],
    secs: f64,
}

impl Summary<'_> {
    fn get(a: &AtomicUsize) -> usize {
        a.load(Ordering::Relaxed)
    }

    fn json(&self, hits: &[Hit]) -> Value {
        let c = self.counts;
        json!({
            "files_scanned": Self::get(&c.files),
            "bytes_scanned": Self::get(&c.bytes),
            "skipped": {
                "binary": Self::get(&c.binary),
                "too_large": Self::get(&c.too_large),
                "unreadable": Self::get(&c.unreadable),
            },
            "suppressed": { "inline": Self::get(&c.inline), "baseline": Self::get(&c.baseline) },
            "findings": hits.iter().map(hit_json).collect::<Vec<_>>(),
        })
    }

    fn line(&self) -> String {
        let c = self.counts;
        let files: HashSet<&str> = self.hits.iter().map(|h| h.path.as_str()).collect();
        let mut s = format!(
            "{} finding{} in {} file{}; scanned {} of {} files ({:.1} MB) in {:.2} s",
            self.hits.len(),
            if self.hits.len() == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            Self::get(&c.files),
            self.items,
            Self::get(&c.bytes) as f64 / 1e6,
            self.secs
        );
        let skipped = [
            (Self::get(&c.binary), "binary"),
            (Self::get(&c.too_large), "too large"),
            (Self::get(&c.unreadable), "unreadable"),
        ];
        let skipped: Vec<String> =
            skipped.iter().filter(|(n, _)| *n > 0).map(|(n, w)| format!("{n} {w}")).collect();
        if !skipped.is_empty() {
            s.push_str(&format!("; skipped {}", skipped.join(", ")));
        }
        let (i, b) = (Self::get(&c.inline), Self::get(&c.baseline));
        if i + b > 0 {
            s.push_str(&format!("; suppressed {i} inline, {b} by the baseline"));
        }
        s
    }
}

/// The JSON form of a hit (`--format json` / `jsonl`).
pub(crate) fn hit_json(h: &Hit) -> Value {
    json!({
        "path": h.path,
        "line": h.line,
        "column": h.col,
        "end_line": h.end_line,
        "end_column": h.end_col,
        "start": h.start,
        "end": h.end,
        "rule": h.rule,
        "category": h.category.as_str(),
        "entity": h.entity,
        "score": (h.score * 1e4).round() / 1e4,
        "text": h.text,
        "detail": h.detail,
        "fingerprint": h.fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, category: Category, entity: Option<&str>) -> Finding {
        let f = &Scanner::new().scan("mail ana@example.org").findings[0];
        let mut f = f.clone();
        f.rule = rule.into();
        f.category = category;
        f.entity = entity.map(Into::into);
        f
    }

    #[test]
    fn allow_comments() {
        let f = finding("sec-openai-key", Category::Secret, Some("SECRET"));
        assert!(allows("key = 'x' # promptsieve:allow", &f));
        assert!(allows("// promptsieve:allow sec-openai-key", &f));
        assert!(allows("<!-- promptsieve:allow secret -->", &f));
        assert!(allows("# promptsieve:allow pii,sec-openai-key", &f));
        assert!(!allows("# promptsieve:allow pii", &f));
        assert!(!allows("# promptsieve:allow sec-github-token", &f));
        assert!(!allows("# promptsieve:allowed", &f));
        assert!(!allows("key = 'x'", &f));
        assert!(allows("# promptsieve:allow because it is a test key", &f));
        assert!(allows("<!-- promptsieve:allow -->", &f));
        assert!(allows("x promptsieve:allow SECRET", &f));
    }

    #[test]
    fn masks_keep_a_third_at_most() {
        let k = format!("sk-proj-{}Ue", "a".repeat(46));
        assert_eq!(mask(&k), "sk-proj-…Ue");
        assert_eq!(mask("abc"), "a…");
        assert_eq!(mask(""), "…");
    }

    #[test]
    fn sizes_and_globs() {
        assert_eq!(parse_size("5M"), Ok(5 << 20));
        assert_eq!(parse_size("200k"), Ok(200 << 10));
        assert_eq!(parse_size("12"), Ok(12));
        assert!(parse_size("lots").is_err());
        assert_eq!(split_glob("src/**/*.rs"), (PathBuf::from("src"), "**/*.rs".into()));
        assert_eq!(split_glob("*.env"), (PathBuf::from("."), "*.env".into()));
        assert_eq!(split_glob("a/b/c*.txt"), (PathBuf::from("a/b"), "c*.txt".into()));
    }

    #[test]
    fn lines_and_columns_count_code_points() {
        let t = "ab\nhé x\n";
        let l = Lines::new(t);
        assert_eq!(l.locate(0), (1, 1));
        assert_eq!(l.locate(t.find('x').unwrap()), (2, 4));
        assert_eq!(l.line(2), "hé x");
        assert_eq!(l.line(0), "");
    }

    #[test]
    fn columns_counted_onwards_match_columns_counted_afresh() {
        // Positions in and out of order, across lines and multibyte
        // characters: the cursor must give what counting from the line's
        // start gives.
        let t = "é a ö b\nxyz é 𝄞 q r\n\nlast line é";
        let l = Lines::new(t);
        let fresh = |pos: usize| {
            let ls = t[..pos].rfind('\n').map_or(0, |i| i + 1);
            (t[..pos].matches('\n').count() + 1, t[ls..pos].chars().count() + 1)
        };
        let mut ps: Vec<usize> = (0..=t.len()).filter(|&i| t.is_char_boundary(i)).collect();
        let n = ps.len();
        let shuffled: Vec<usize> = (0..n).map(|k| ps[(k * 7) % n]).collect();
        ps.extend(shuffled);
        for p in ps {
            assert_eq!(l.locate(p), fresh(p), "at {p}");
        }
    }

    #[test]
    fn inline_markers_are_read_from_the_marked_lines_only() {
        let t = "a\nkey = 1 # promptsieve:allow\nb\nc";
        let l = Lines::new(t);
        assert_eq!(l.marked, [2]);
    }
}
