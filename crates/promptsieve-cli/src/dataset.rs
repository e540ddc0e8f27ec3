//! Datasets: `scan --jsonl` and `redact --jsonl` over JSON-lines corpora.
//!
//! Each non-blank line is a JSON object, a record. `--field` picks its text:
//! a key (`text`, the default), a dotted path (`meta.body`), or
//! `messages[].content`, every message of an OpenAI chat list at that path
//! (content as a string, or as a list of parts of which only the
//! `{"type": "text"}` ones are read; images and the like pass through).
//!
//! Records are read in batches of a few hundred per worker, processed on
//! `--threads` workers and written in input order as each batch completes,
//! so memory holds one batch, never the whole file.
//!
//! **Output.** `scan` writes one report per record: the `scan --json` report
//! with the record's 1-based line number first, `{"line", "risk", "flagged",
//! "findings"}`. For a message list the report covers the whole conversation:
//! `risk` is the highest of its texts, `flagged` says whether any text is,
//! and each finding also carries `message` (index), `part` (index of the
//! content part, or null) and `role`, with `start`/`end` counted in that
//! text. System and developer messages are scanned as system prompts, tool
//! and function messages as tool results, the others (user, assistant) as
//! `--source`. `redact` writes each record back with the selected strings
//! redacted and every other key as it was, in the same order; a record with
//! nothing to replace is copied byte for byte.
//!
//! **Malformed lines** (not JSON, not an object, no such field or not a
//! string) are named on standard error with their line number. By default
//! they stop the run before anything is written: a first pass checks every
//! line (standard input, unless it is a file, is kept in a temporary file
//! for the second pass), and only then does the second pass stream the
//! output. So a bad line at the end of a large file is reported in seconds,
//! not after the whole file was scanned, and a pipe never receives a partial
//! result. `--skip-bad` skips them in a single pass instead (no output line
//! for them) and counts them in the summary. `--output FILE` writes a
//! temporary file beside FILE and renames it on success, so FILE is either
//! complete or untouched, whatever stops the run.
//!
//! **Vaults** (redact). Placeholders are numbered per record, or, with
//! `--vault-by FIELD` (a conversation id, dotted path), per conversation:
//! records with the same value there share one vault and are redacted in
//! input order. `--vault FILE` saves the vaults as one JSON object keyed by
//! conversation id, or by line number without `--vault-by`:
//! `{"<id>": {"entries": [...]}, ...}`; records and conversations with
//! nothing replaced are left out. With `--vault-by`, an existing FILE is read
//! first, so its conversations keep their numbering when a dataset is
//! redacted in parts; without it the file is replaced, since line numbers
//! are no identity across runs. Either way it is written only when the run
//! succeeds.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use promptsieve::{RedactOptions, Scanner, Source, Vault};
use serde_json::{Map, Value};

/// Options of the JSON-lines mode shared by `scan` and `redact`.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct DatasetArgs {
    /// With --jsonl: the text of each record: a key (`text`), a dotted path
    /// (`meta.body`) or `messages[].content` (every message of an OpenAI
    /// chat list; text parts only).
    #[arg(long, value_name = "PATH", default_value = "text")]
    pub(crate) field: Field,
    /// With redact --jsonl: records with the same value in this field (a
    /// conversation id, dotted path) share one vault and one numbering.
    #[arg(long, value_name = "FIELD")]
    pub(crate) vault_by: Option<KeyPath>,
    /// With --jsonl: skip malformed lines (named on standard error and
    /// counted) instead of stopping before anything is written.
    #[arg(long)]
    pub(crate) skip_bad: bool,
    /// With --jsonl: write to FILE, replacing it only when the run succeeds,
    /// instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

/// `scan --jsonl`: one report per record, in input order. Exit status 1
/// when a record is flagged or holds personal data or a secret.
pub(crate) fn scan(
    scanner: &Scanner,
    input: Option<&Path>,
    source: Source,
    threads: usize,
    quiet: bool,
    args: &DatasetArgs,
) -> Result<u8, String> {
    if args.vault_by.is_some() {
        return Err("--vault-by applies to redact --jsonl".into());
    }
    let job = Job { task: Task::Scan { scanner, source }, args, threads, quiet };
    job.run(input, None)
}

/// `redact --jsonl`: each record with its text redacted, in input order.
pub(crate) fn redact(
    scanner: &Scanner,
    input: Option<&Path>,
    opts: &RedactOptions,
    vault: Option<&Path>,
    threads: usize,
    quiet: bool,
    args: &DatasetArgs,
) -> Result<u8, String> {
    // Invalid options are the command's error, not every record's.
    scanner.redact_full("", opts, &mut Vault::new()).map_err(|e| e.to_string())?;
    let job = Job { task: Task::Redact { scanner, opts }, args, threads, quiet };
    job.run(input, vault)
}

/// Lines per batch and worker: enough to keep the workers busy between
/// two writes, few enough that memory stays small.
const LINES_PER_WORKER: usize = 256;

/// A batch also ends once it holds this many bytes of input, so long
/// records do not make it large.
const BATCH_BYTES: usize = 32 << 20;

/// Malformed lines named one by one on standard error; the rest are only
/// counted.
const NAMED_BAD_LINES: u64 = 20;

// ---------------------------------------------------------------------------
// Field paths

/// A dotted key path into a record (`meta.body`). Keys cannot contain a dot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(Vec<String>);

impl FromStr for KeyPath {
    type Err = String;

    fn from_str(s: &str) -> Result<KeyPath, String> {
        if s.contains("[]") {
            return Err(format!("{s:?}: `[]` is only allowed as `PATH[].content`"));
        }
        let keys: Vec<String> = s.split('.').map(str::to_owned).collect();
        if keys.iter().any(String::is_empty) {
            return Err(format!("{s:?}: empty key in a dotted path"));
        }
        Ok(KeyPath(keys))
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

impl KeyPath {
    fn get<'v>(&self, mut v: &'v Value) -> Option<&'v Value> {
        for k in &self.0 {
            v = v.as_object()?.get(k)?;
        }
        Some(v)
    }

    fn get_mut<'v>(&self, mut v: &'v mut Value) -> Option<&'v mut Value> {
        for k in &self.0 {
            v = v.as_object_mut()?.get_mut(k)?;
        }
        Some(v)
    }

    /// The value at this path, or why there is none.
    fn find<'v>(&self, record: &'v Value) -> Result<&'v Value, String> {
        self.get(record).ok_or_else(|| format!("no field \"{self}\""))
    }
}

/// What `--field` selects in each record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    /// One string at a dotted path.
    Text(KeyPath),
    /// `PATH[].content`: an OpenAI chat message list at a dotted path.
    Messages(KeyPath),
}

impl Default for Field {
    fn default() -> Field {
        Field::Text(KeyPath(vec!["text".into()]))
    }
}

impl FromStr for Field {
    type Err = String;

    fn from_str(s: &str) -> Result<Field, String> {
        match s.strip_suffix("[].content") {
            Some(list) => Ok(Field::Messages(list.parse()?)),
            None => Ok(Field::Text(s.parse()?)),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Text(p) => write!(f, "{p}"),
            Field::Messages(p) => write!(f, "{p}[].content"),
        }
    }
}

/// One text of a record; `at` places it in a message list.
struct Piece<'v> {
    at: Option<At<'v>>,
    text: &'v str,
}

/// Where a text sits in a message list.
#[derive(Clone, Copy)]
struct At<'v> {
    message: usize,
    part: Option<usize>,
    role: &'v str,
}

impl Field {
    /// The texts `--field` selects in `record`, or why the record has none
    /// in the expected shape. For message lists this follows the rules of
    /// [`Scanner::redact_messages`], so a record that passes here redacts.
    fn pieces<'v>(&self, record: &'v Value) -> Result<Vec<Piece<'v>>, String> {
        match self {
            Field::Text(path) => match path.find(record)? {
                Value::String(text) => Ok(vec![Piece { at: None, text }]),
                other => Err(format!("field \"{path}\" is {}, not a string", kind(other))),
            },
            Field::Messages(path) => match path.find(record)? {
                Value::Array(list) => message_pieces(list).map_err(|e| format!("field \"{self}\": {e}")),
                other => Err(format!("field \"{path}\" is {}, not a list of messages", kind(other))),
            },
        }
    }
}

fn message_pieces(list: &[Value]) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    for (message, m) in list.iter().enumerate() {
        let Value::Object(obj) = m else {
            return Err(format!("message {message} is {}, not an object", kind(m)));
        };
        let Some(Value::String(role)) = obj.get("role") else {
            return Err(format!("message {message} has no string \"role\""));
        };
        match obj.get("content") {
            Some(Value::String(text)) => out.push(Piece { at: Some(At { message, part: None, role }), text }),
            Some(Value::Array(parts)) => {
                for (j, p) in parts.iter().enumerate() {
                    let Value::Object(part) = p else {
                        return Err(format!("message {message} part {j} is {}, not an object", kind(p)));
                    };
                    if part.get("type").and_then(Value::as_str) != Some("text") {
                        continue;
                    }
                    let Some(Value::String(text)) = part.get("text") else {
                        return Err(format!(
                            "message {message} part {j} is a text part without a string \"text\""
                        ));
                    };
                    out.push(Piece { at: Some(At { message, part: Some(j), role }), text });
                }
            }
            // Tool calls carry no content.
            None | Some(Value::Null) => {}
            Some(other) => {
                return Err(format!(
                    "message {message}: \"content\" is {}, not a string or a list of parts",
                    kind(other)
                ));
            }
        }
    }
    Ok(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// How a message's role is weighed when scanning, as `check_messages`
/// weighs it; user and assistant turns (and unknown roles) are `fallback`.
fn role_source(role: &str, fallback: Source) -> Source {
    match role {
        "system" | "developer" => Source::System,
        "tool" | "function" => Source::Tool,
        _ => fallback,
    }
}

// ---------------------------------------------------------------------------
// Records

/// A non-blank input line, trimmed.
struct Line {
    no: u64,
    bytes: Vec<u8>,
}

/// A parsed line whose field has the expected shape.
struct Record {
    no: u64,
    raw: Vec<u8>,
    value: Value,
    /// The `--vault-by` value.
    conversation: Option<String>,
}

/// A line that is not a record, and why.
struct BadLine {
    no: u64,
    why: String,
}

/// Parses and checks one line.
fn parse(line: Line, field: &Field, vault_by: Option<&KeyPath>) -> Result<Record, BadLine> {
    let no = line.no;
    let bad = |why: String| BadLine { no, why };
    let text = std::str::from_utf8(&line.bytes)
        .map_err(|e| bad(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let value: Value = serde_json::from_str(text).map_err(|e| bad(json_error(&e)))?;
    if !value.is_object() {
        return Err(bad(format!("not a JSON object but {}", kind(&value))));
    }
    field.pieces(&value).map_err(bad)?;
    let conversation = match vault_by {
        None => None,
        Some(path) => Some(conversation_id(path, &value).map_err(bad)?),
    };
    Ok(Record { no, raw: line.bytes, value, conversation })
}

/// serde_json's message without its "at line 1" (the line is ours to name).
fn json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m);
    format!("not JSON: {msg} at column {}", e.column())
}

fn conversation_id(path: &KeyPath, record: &Value) -> Result<String, String> {
    match path.find(record).map_err(|e| format!("{e} (--vault-by)"))? {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("field \"{path}\" (--vault-by) is {}, not a string or a number", kind(other))),
    }
}

/// What one record turned into.
struct Done {
    /// The output line, without its newline.
    line: Vec<u8>,
    /// The record's exit status (scan: 1 when flagged or sensitive).
    code: u8,
    /// Whether the record counts in the summary: flagged or sensitive
    /// (scan), or with a replacement (redact).
    hit: bool,
    /// One label per finding or replacement (entity, or category for
    /// attack signals), for the summary.
    labels: Vec<String>,
}

/// The work done on each record.
#[derive(Clone, Copy)]
enum Task<'a> {
    Scan { scanner: &'a Scanner, source: Source },
    Redact { scanner: &'a Scanner, opts: &'a RedactOptions },
}

impl Task<'_> {
    fn run(&self, field: &Field, record: Record, vault: &mut Vault) -> Result<Done, String> {
        match *self {
            Task::Scan { scanner, source } => scan_record(scanner, source, field, &record),
            Task::Redact { scanner, opts } => redact_record(scanner, opts, field, record, vault),
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Task::Scan { .. } => "scanning",
            Task::Redact { .. } => "redacting",
        }
    }
}

fn scan_record(scanner: &Scanner, source: Source, field: &Field, record: &Record) -> Result<Done, String> {
    let mut scanned = Vec::new();
    for piece in field.pieces(&record.value)? {
        let report = scanner.scan_as(piece.text, piece.at.map_or(source, |at| role_source(at.role, source)));
        scanned.push((piece, report));
    }
    let code = scanned.iter().map(|(_, r)| crate::exit_code(r)).max().unwrap_or(0);
    let labels = scanned
        .iter()
        .flat_map(|(_, r)| &r.findings)
        .map(|f| f.entity.clone().unwrap_or_else(|| f.category.to_string()))
        .collect();
    let mut out = Map::new();
    out.insert("line".into(), record.no.into());
    match (field, &scanned[..]) {
        (Field::Text(_), [(piece, report)]) => {
            if let Value::Object(json) = crate::output::report_json(report, piece.text) {
                out.extend(json);
            }
        }
        _ => out.extend(conversation_report(&scanned)),
    }
    let line = serde_json::to_vec(&out).map_err(|e| e.to_string())?;
    Ok(Done { line, code, hit: code > 0, labels })
}

/// One report for the texts of a message list: the highest risk, flagged
/// if any text is, and every finding tagged with its message.
fn conversation_report(scanned: &[(Piece<'_>, promptsieve::Report)]) -> Map<String, Value> {
    let mut risk = 0.0f64;
    let mut findings = Vec::new();
    for (piece, report) in scanned {
        let mut json = crate::output::report_json(report, piece.text);
        risk = risk.max(json["risk"].as_f64().unwrap_or(0.0));
        if let Value::Array(list) = json["findings"].take() {
            findings.extend(list.into_iter().map(|f| tag(f, piece.at)));
        }
    }
    let mut out = Map::new();
    out.insert("risk".into(), risk.into());
    out.insert("flagged".into(), scanned.iter().any(|(_, r)| r.flagged).into());
    out.insert("findings".into(), findings.into());
    out
}

/// A finding of a message list, with where it is put first.
fn tag(finding: Value, at: Option<At<'_>>) -> Value {
    match (at, finding) {
        (Some(at), Value::Object(f)) => {
            let mut out = Map::new();
            out.insert("message".into(), at.message.into());
            out.insert("part".into(), at.part.into());
            out.insert("role".into(), at.role.into());
            out.extend(f);
            out.into()
        }
        (_, finding) => finding,
    }
}

fn redact_record(
    scanner: &Scanner,
    opts: &RedactOptions,
    field: &Field,
    mut record: Record,
    vault: &mut Vault,
) -> Result<Done, String> {
    let shape = || format!("field \"{field}\" changed shape");
    let (labels, redacted): (Vec<String>, Value) = match field {
        Field::Text(path) => {
            let text = path.get(&record.value).and_then(Value::as_str).ok_or_else(shape)?;
            let r = scanner.redact_full(text, opts, vault).map_err(|e| e.to_string())?;
            (r.replacements.into_iter().map(|r| r.entity).collect(), r.text.into())
        }
        Field::Messages(path) => {
            let list = path.get(&record.value).ok_or_else(shape)?;
            let r = scanner.redact_messages(list, opts, vault).map_err(|e| e.to_string())?;
            (r.replacements.into_iter().map(|r| r.replacement.entity).collect(), r.messages)
        }
    };
    if labels.is_empty() {
        // Nothing replaced: the record goes out exactly as it came in.
        return Ok(Done { line: record.raw, code: 0, hit: false, labels });
    }
    let path = match field {
        Field::Text(p) | Field::Messages(p) => p,
    };
    *path.get_mut(&mut record.value).ok_or_else(shape)? = redacted;
    let line = serde_json::to_vec(&record.value).map_err(|e| e.to_string())?;
    Ok(Done { line, code: 0, hit: true, labels })
}

// ---------------------------------------------------------------------------
// Input

/// Where the records come from.
enum Origin {
    /// A regular file, which the second pass reads again from `start`.
    File { file: File, start: u64, len: u64 },
    /// Standard input or a pipe, read once.
    Stream(Box<dyn Read + Send>),
}

impl Origin {
    fn open(input: Option<&Path>) -> Result<(String, Origin), String> {
        let Some(path) = input else {
            let origin = match stdin_file() {
                Some(file) => Origin::from_file(file).map_err(|e| format!("<stdin>: {e}"))?,
                None => Origin::Stream(Box::new(io::stdin())),
            };
            return Ok(("<stdin>".into(), origin));
        };
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
        let regular = file.metadata().map_err(|e| format!("{name}: {e}"))?.is_file();
        let origin = if regular {
            Origin::from_file(file).map_err(|e| format!("{name}: {e}"))?
        } else {
            // A named pipe or a process substitution.
            Origin::Stream(Box::new(file))
        };
        Ok((name, origin))
    }

    fn from_file(mut file: File) -> io::Result<Origin> {
        let start = file.stream_position()?;
        let len = file.metadata()?.len().saturating_sub(start);
        Ok(Origin::File { file, start, len })
    }

    /// The number of bytes to read, when known.
    fn len(&self) -> Option<u64> {
        match self {
            Origin::File { len, .. } => Some(*len),
            Origin::Stream(_) => None,
        }
    }
}

/// Standard input as a file when it is one (`< data.jsonl`), so it can be
/// read twice and its size shown.
#[cfg(unix)]
fn stdin_file() -> Option<File> {
    use std::os::fd::AsFd;
    let file = File::from(io::stdin().as_fd().try_clone_to_owned().ok()?);
    file.metadata().ok()?.is_file().then_some(file)
}

#[cfg(windows)]
fn stdin_file() -> Option<File> {
    use std::os::windows::io::AsHandle;
    let file = File::from(io::stdin().as_handle().try_clone_to_owned().ok()?);
    file.metadata().ok()?.is_file().then_some(file)
}

#[cfg(not(any(unix, windows)))]
fn stdin_file() -> Option<File> {
    None
}

/// Numbered, trimmed non-blank lines, in batches.
struct Lines<R> {
    inner: BufReader<R>,
    /// The last line number read.
    no: u64,
    /// Bytes read so far.
    consumed: u64,
    /// Where every byte read is copied, for a second pass over a stream.
    tee: Option<BufWriter<File>>,
}

impl<R: Read> Lines<R> {
    fn new(inner: R, tee: Option<BufWriter<File>>) -> Lines<R> {
        Lines { inner: BufReader::with_capacity(1 << 16, inner), no: 0, consumed: 0, tee }
    }

    /// Up to `max` lines (fewer once `BATCH_BYTES` are held); empty at the
    /// end of the input.
    fn batch(&mut self, max: usize) -> io::Result<Vec<Line>> {
        let mut out = Vec::new();
        let mut held = 0;
        let mut buf = Vec::new();
        while out.len() < max && held < BATCH_BYTES {
            buf.clear();
            if self.inner.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            if let Some(t) = &mut self.tee {
                t.write_all(&buf)?;
            }
            self.no += 1;
            self.consumed += buf.len() as u64;
            let mut bytes = buf.trim_ascii();
            if self.no == 1 {
                bytes = bytes.strip_prefix("\u{FEFF}".as_bytes()).unwrap_or(bytes).trim_ascii_start();
            }
            if !bytes.is_empty() {
                held += bytes.len();
                out.push(Line { no: self.no, bytes: bytes.to_vec() });
            }
        }
        Ok(out)
    }

    fn finish(self) -> io::Result<()> {
        match self.tee {
            Some(mut t) => t.flush(),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------
// Output files

/// A temporary file, removed when dropped unless committed.
struct Staged {
    path: PathBuf,
    committed: bool,
}

impl Staged {
    /// A new file beside `dest` (so renaming it over `dest` is atomic).
    fn beside(dest: &Path) -> Result<(Staged, File), String> {
        let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = dest.file_name().map_or_else(|| "promptsieve".into(), |n| n.to_string_lossy());
        Staged::create(dir, &format!(".{name}")).map_err(|e| format!("{}: {e}", dest.display()))
    }

    /// A new file in the system's temporary directory (`TMPDIR`).
    fn temp(label: &str) -> Result<(Staged, File), String> {
        let dir = std::env::temp_dir();
        Staged::create(&dir, label).map_err(|e| format!("{}: {e}", dir.display()))
    }

    fn create(dir: &Path, stem: &str) -> io::Result<(Staged, File)> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let mut last = io::Error::other("no temporary name left");
        for _ in 0..16 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{stem}.{}-{nanos:x}-{n}.tmp", std::process::id()));
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok((Staged { path, committed: false }, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Moves the file to `dest`.
    fn commit(mut self, dest: &Path) -> Result<(), String> {
        fs::rename(&self.path, dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Where the output lines go.
enum Out {
    Stdout(BufWriter<io::StdoutLock<'static>>),
    /// `--output FILE`, through a temporary file beside it.
    File {
        w: BufWriter<File>,
        staged: Staged,
        dest: PathBuf,
    },
}

impl Out {
    fn open(dest: Option<&Path>) -> Result<Out, String> {
        match dest.filter(|p| *p != Path::new("-")) {
            None => Ok(Out::Stdout(BufWriter::with_capacity(1 << 16, io::stdout().lock()))),
            Some(dest) => {
                let (staged, file) = Staged::beside(dest)?;
                Ok(Out::File { w: BufWriter::with_capacity(1 << 16, file), staged, dest: dest.to_owned() })
            }
        }
    }

    fn is_terminal(&self) -> bool {
        matches!(self, Out::Stdout(_)) && io::stdout().is_terminal()
    }

    fn write_batch(&mut self, lines: &[Vec<u8>]) -> Result<(), String> {
        let w: &mut dyn Write = match self {
            Out::Stdout(w) => w,
            Out::File { w, .. } => w,
        };
        let res: io::Result<()> = lines.iter().try_for_each(|l| {
            w.write_all(l)?;
            w.write_all(b"\n")
        });
        res.and_then(|()| w.flush()).map_err(|e| self.error(&e))
    }

    fn error(&self, e: &io::Error) -> String {
        match self {
            Out::Stdout(_) => e.to_string(),
            Out::File { dest, .. } => format!("{}: {e}", dest.display()),
        }
    }

    fn commit(self) -> Result<(), String> {
        match self {
            Out::Stdout(mut w) => w.flush().map_err(|e| e.to_string()),
            Out::File { w, staged, dest } => {
                let file = w.into_inner().map_err(|e| format!("{}: {}", dest.display(), e.error()))?;
                file.sync_all().map_err(|e| format!("{}: {e}", dest.display()))?;
                staged.commit(&dest)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Vaults

/// The vaults of a redaction run.
struct Vaults {
    /// `--vault-by`: every conversation's vault, in order of first
    /// appearance. Kept for the whole run, since a conversation may come
    /// back on any line; that is one vault per conversation, far smaller
    /// than the records.
    conversations: Option<Conversations>,
    /// `--vault FILE`.
    file: Option<VaultFile>,
}

#[derive(Default)]
struct Conversations {
    list: Vec<(String, Vault)>,
    index: HashMap<String, usize>,
}

impl Conversations {
    fn take(&mut self, id: &str) -> Vault {
        self.index.get(id).map(|&i| std::mem::take(&mut self.list[i].1)).unwrap_or_default()
    }

    fn put(&mut self, id: String, vault: Vault) {
        match self.index.get(&id) {
            Some(&i) => self.list[i].1 = vault,
            None => {
                self.index.insert(id.clone(), self.list.len());
                self.list.push((id, vault));
            }
        }
    }
}

/// The `--vault` file being written: `{"<id>": <vault>, ...}`, one entry a
/// line, into a temporary file that replaces FILE at the end.
struct VaultFile {
    w: BufWriter<File>,
    staged: Staged,
    dest: PathBuf,
    written: u64,
}

impl Vaults {
    fn open(dest: Option<&Path>, by_conversation: bool) -> Result<Vaults, String> {
        let loaded = match dest {
            Some(p) => load_vaults(p)?,
            None => Vec::new(),
        };
        let conversations = by_conversation.then(|| {
            let mut c = Conversations::default();
            for (id, v) in loaded {
                c.put(id, v);
            }
            c
        });
        let file = match dest {
            None => None,
            Some(dest) => {
                let (staged, file) = Staged::beside(dest)?;
                let mut w = BufWriter::new(file);
                w.write_all(b"{").map_err(|e| format!("{}: {e}", dest.display()))?;
                Some(VaultFile { w, staged, dest: dest.to_owned(), written: 0 })
            }
        };
        Ok(Vaults { conversations, file })
    }

    /// A record's or a conversation's vault, to redact with.
    fn take(&mut self, record: &Record) -> (String, Vault) {
        match (&mut self.conversations, &record.conversation) {
            (Some(c), Some(id)) => (id.clone(), c.take(id)),
            _ => (record.no.to_string(), Vault::new()),
        }
    }

    /// Gives a vault back after its records were redacted.
    fn put(&mut self, id: String, vault: Vault) -> Result<(), String> {
        match &mut self.conversations {
            Some(c) => {
                c.put(id, vault);
                Ok(())
            }
            None => match &mut self.file {
                Some(f) => f.entry(&id, &vault),
                None => Ok(()),
            },
        }
    }

    /// Writes the vault file, if any; returns how many vaults it holds.
    fn commit(self) -> Result<Option<(u64, PathBuf)>, String> {
        let Some(mut file) = self.file else { return Ok(None) };
        for (id, v) in self.conversations.map(|c| c.list).unwrap_or_default() {
            file.entry(&id, &v)?;
        }
        file.commit().map(Some)
    }
}

impl VaultFile {
    fn entry(&mut self, id: &str, vault: &Vault) -> Result<(), String> {
        if vault.is_empty() {
            return Ok(());
        }
        let sep = if self.written == 0 { "\n  " } else { ",\n  " };
        let key = serde_json::to_string(id).map_err(|e| e.to_string())?;
        write!(self.w, "{sep}{key}: {}", vault.to_json())
            .map_err(|e| format!("{}: {e}", self.dest.display()))?;
        self.written += 1;
        Ok(())
    }

    fn commit(mut self) -> Result<(u64, PathBuf), String> {
        let err = |e: io::Error| format!("{}: {e}", self.dest.display());
        self.w.write_all(b"\n}\n").map_err(err)?;
        let file = self.w.into_inner().map_err(|e| err(e.into_error()))?;
        file.sync_all().map_err(err)?;
        self.staged.commit(&self.dest)?;
        Ok((self.written, self.dest))
    }
}

/// The vaults of an earlier run, or none when `path` does not exist. A
/// single-text vault (`redact --vault`) is refused rather than replaced.
fn load_vaults(path: &Path) -> Result<Vec<(String, Vault)>, String> {
    let name = path.display();
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{name}: {e}")),
    };
    let not = |why: String| format!("{name}: not a dataset vault ({{\"<id>\": <vault>, ...}}): {why}");
    let map: Map<String, Value> = serde_json::from_str(&text).map_err(|e| not(e.to_string()))?;
    if map.get("entries").is_some_and(Value::is_array) {
        return Err(format!(
            "{name} is the vault of a single text (redact --vault); give the dataset a vault file of its own"
        ));
    }
    map.into_iter()
        .map(|(id, v)| match Vault::from_json(&v.to_string()) {
            Ok(vault) => Ok((id, vault)),
            Err(e) => Err(not(format!("entry {id:?}: {e}"))),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Workers

/// `f` over `items` on up to `threads` scoped workers, results in order.
fn parallel_map<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Result<Vec<R>, String> {
    let n = items.len();
    if threads <= 1 || n <= 1 {
        return Ok(items.into_iter().map(f).collect());
    }
    let queue = Mutex::new(items.into_iter().enumerate());
    let next = || queue.lock().ok().and_then(|mut q| q.next());
    let joined: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.min(n))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while let Some((i, item)) = next() {
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(n).collect();
    for done in joined {
        for (i, r) in done.map_err(|_| "internal error: a worker thread panicked".to_string())? {
            slots[i] = Some(r);
        }
    }
    slots.into_iter().map(|r| r.ok_or_else(|| "internal error: a record was lost".to_string())).collect()
}

/// Records that must be processed in order on one worker, with the vault
/// they share.
struct Group {
    id: String,
    vault: Vault,
    records: Vec<(usize, Record)>,
}

impl Group {
    /// Runs `task` on the records in order.
    fn run(mut self, task: Task<'_>, field: &Field) -> GroupDone {
        let mut results = Vec::with_capacity(self.records.len());
        for (i, record) in self.records {
            let no = record.no;
            results.push((i, task.run(field, record, &mut self.vault).map_err(|why| BadLine { no, why })));
        }
        GroupDone { id: self.id, vault: self.vault, results }
    }
}

/// A group after its run: the vault, and each record's result with its
/// index in the batch.
struct GroupDone {
    id: String,
    vault: Vault,
    results: Vec<(usize, Result<Done, BadLine>)>,
}

/// Splits a batch into groups: one per record, or one per conversation
/// with `--vault-by`, in order of first appearance.
fn groups(records: Vec<Record>, vaults: &mut Vaults) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, record) in records.into_iter().enumerate() {
        if let Some(&g) = record.conversation.as_ref().and_then(|id| by_id.get(id)) {
            out[g].records.push((i, record));
            continue;
        }
        let (id, vault) = vaults.take(&record);
        if record.conversation.is_some() {
            by_id.insert(id.clone(), out.len());
        }
        out.push(Group { id, vault, records: vec![(i, record)] });
    }
    out
}

// ---------------------------------------------------------------------------
// Progress and summary

/// A progress bar on standard error, when it is a terminal; nothing
/// otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    fn start(show: bool, verb: &str, len: Option<u64>) -> Progress {
        let started = Instant::now();
        if !show {
            return Progress { bar: None, started };
        }
        // Short enough for an 80-column terminal: a line that wraps is
        // redrawn one row lower each time.
        let template = match len {
            Some(_) => "{prefix} [{wide_bar}] {percent:>3}% · {msg} · ETA {eta}",
            None => "{prefix} {spinner} {elapsed} · {binary_bytes} · {msg}",
        };
        let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr_with_hz(10))
            .with_style(style.progress_chars("=> "))
            .with_prefix(verb.to_string())
            .with_message("0 records, 0 records/s");
        bar.enable_steady_tick(Duration::from_millis(200));
        bar.force_draw();
        Progress { bar: Some(bar), started }
    }

    fn set(&self, bytes: u64, records: u64) {
        if let Some(bar) = &self.bar {
            let rate = per_second(records, self.started.elapsed());
            bar.set_message(format!("{records} records, {rate:.0} records/s"));
            bar.set_position(bytes);
        }
    }

    /// A line on standard error, above the bar.
    fn note(&self, msg: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("promptsieve: {msg}")),
            None => eprintln!("promptsieve: {msg}"),
        }
    }

    /// Runs `f` with the bar out of the way when the output goes to the
    /// same terminal.
    fn around<T>(&self, out_is_terminal: bool, f: impl FnOnce() -> T) -> T {
        match &self.bar {
            Some(bar) if out_is_terminal => bar.suspend(f),
            _ => f(),
        }
    }

    /// Leaves the bar drawn at its final state.
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    /// Takes the bar off the screen.
    fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// A run that stops on an error leaves the bar where it stopped, above
    /// the error message.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.as_ref().filter(|b| !b.is_finished()) {
            bar.abandon();
        }
    }
}

/// `1 record`, `2 records`.
fn count(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn per_second(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64().max(1e-3)
}

/// Counts for the summary.
#[derive(Default)]
struct Stats {
    records: u64,
    /// Records with a finding (scan: flagged or sensitive) or a replacement.
    hits: u64,
    bad: u64,
    labels: BTreeMap<String, u64>,
    code: u8,
}

impl Stats {
    fn add(&mut self, done: &Done) {
        self.records += 1;
        self.code = self.code.max(done.code);
        self.hits += u64::from(done.hit);
        for l in &done.labels {
            *self.labels.entry(l.clone()).or_default() += 1;
        }
    }

    /// Names a malformed line (the first few of them) on standard error.
    fn bad_line(&mut self, bad: &BadLine, progress: &Progress) {
        self.bad += 1;
        if self.bad <= NAMED_BAD_LINES {
            progress.note(&format!("line {}: {}", bad.no, bad.why));
        } else if self.bad == NAMED_BAD_LINES + 1 {
            progress.note("more malformed lines follow; only their number is reported");
        }
    }

    fn summary(&self, task: &Task<'_>, elapsed: Duration, vaults: Option<&(u64, PathBuf)>) -> Vec<String> {
        let secs = elapsed.as_secs_f64();
        let rate = per_second(self.records, elapsed);
        let (hits, what) = match task {
            Task::Scan { .. } => ("flagged or holding personal data or secrets", "findings"),
            Task::Redact { .. } => ("redacted", "replaced"),
        };
        let mut lines = vec![format!(
            "{} in {secs:.2} s ({rate:.0} records/s); {} {hits}",
            count(self.records, "record"),
            self.hits
        )];
        if !self.labels.is_empty() {
            let list: Vec<String> = self.labels.iter().map(|(l, n)| format!("{l} {n}")).collect();
            lines.push(format!("{what}: {}", list.join(", ")));
        }
        if self.bad > 0 {
            lines.push(format!("skipped {}", count(self.bad, "malformed line")));
        }
        if let Some((n, path)) = vaults {
            lines.push(format!("wrote {} to {}", count(*n, "vault"), path.display()));
        }
        lines
    }
}

// ---------------------------------------------------------------------------
// The run

/// One `--jsonl` run.
struct Job<'a> {
    task: Task<'a>,
    args: &'a DatasetArgs,
    threads: usize,
    quiet: bool,
}

impl Job<'_> {
    fn run(&self, input: Option<&Path>, vault: Option<&Path>) -> Result<u8, String> {
        let started = Instant::now();
        let show = !self.quiet && io::stderr().is_terminal();
        let (name, origin) = Origin::open(input)?;
        // Opened first, so a bad vault file stops the run before any work.
        let mut vaults = Vaults::open(vault, self.args.vault_by.is_some())?;
        let (origin, _spool) =
            if self.args.skip_bad { (origin, None) } else { self.check(&name, origin, show)? };
        let mut out = Out::open(self.args.output.as_deref())?;
        let progress = Progress::start(show, self.task.verb(), origin.len());
        let stats = self.process(&name, origin, &mut out, &mut vaults, &progress)?;
        out.commit()?;
        let written = vaults.commit()?;
        progress.finish();
        if !self.quiet {
            for line in stats.summary(&self.task, started.elapsed(), written.as_ref()) {
                eprintln!("promptsieve: {line}");
            }
        } else if stats.bad > NAMED_BAD_LINES {
            eprintln!("promptsieve: skipped {}", count(stats.bad, "malformed line"));
        }
        Ok(stats.code)
    }

    fn batch_lines(&self) -> usize {
        LINES_PER_WORKER * self.threads.max(1)
    }

    /// The first pass: every line must be a record. Returns the input to
    /// read again (a stream is copied to a temporary file for it).
    fn check(&self, name: &str, origin: Origin, show: bool) -> Result<(Origin, Option<Staged>), String> {
        let read_err = |e: io::Error| format!("{name}: {e}");
        let progress = Progress::start(show, "checking", origin.len());
        let mut stats = Stats::default();
        let (origin, spool) = match origin {
            Origin::File { mut file, start, len } => {
                self.check_lines(Lines::new(&mut file, None), &progress, &mut stats).map_err(read_err)?;
                file.seek(SeekFrom::Start(start)).map_err(read_err)?;
                (Origin::File { file, start, len }, None)
            }
            Origin::Stream(mut stream) => {
                let (staged, copy) = Staged::temp("promptsieve-input")?;
                let tee = Some(BufWriter::with_capacity(1 << 16, copy));
                self.check_lines(Lines::new(&mut stream, tee), &progress, &mut stats).map_err(read_err)?;
                let file = File::open(&staged.path).map_err(|e| format!("{}: {e}", staged.path.display()))?;
                (Origin::from_file(file).map_err(read_err)?, Some(staged))
            }
        };
        progress.clear();
        if stats.bad > 0 {
            return Err(format!(
                "{name}: {}; nothing was written (--skip-bad skips them)",
                count(stats.bad, "malformed line")
            ));
        }
        Ok((origin, spool))
    }

    fn check_lines<R: Read>(
        &self,
        mut lines: Lines<R>,
        progress: &Progress,
        stats: &mut Stats,
    ) -> io::Result<()> {
        let field = &self.args.field;
        let vault_by = self.args.vault_by.as_ref();
        loop {
            let batch = lines.batch(self.batch_lines())?;
            if batch.is_empty() {
                break;
            }
            let n = batch.len() as u64;
            let checked = parallel_map(batch, self.threads, |l| parse(l, field, vault_by).err())
                .map_err(io::Error::other)?;
            for bad in checked.iter().flatten() {
                stats.bad_line(bad, progress);
            }
            stats.records += n;
            progress.set(lines.consumed, stats.records);
        }
        lines.finish()
    }

    /// The second pass (the only one with `--skip-bad`).
    fn process(
        &self,
        name: &str,
        mut origin: Origin,
        out: &mut Out,
        vaults: &mut Vaults,
        progress: &Progress,
    ) -> Result<Stats, String> {
        let reader: &mut dyn Read = match &mut origin {
            Origin::File { file, .. } => file,
            Origin::Stream(s) => s,
        };
        let mut lines = Lines::new(reader, None);
        let mut stats = Stats::default();
        let out_is_terminal = out.is_terminal();
        loop {
            let batch = lines.batch(self.batch_lines()).map_err(|e| format!("{name}: {e}"))?;
            if batch.is_empty() {
                return Ok(stats);
            }
            let written = self.batch(batch, vaults, progress, &mut stats)?;
            progress.around(out_is_terminal, || out.write_batch(&written))?;
            progress.set(lines.consumed, stats.records);
        }
    }

    /// Parses, groups and runs one batch; returns its output lines in order.
    fn batch(
        &self,
        batch: Vec<Line>,
        vaults: &mut Vaults,
        progress: &Progress,
        stats: &mut Stats,
    ) -> Result<Vec<Vec<u8>>, String> {
        let field = &self.args.field;
        let vault_by = self.args.vault_by.as_ref();
        let mut records = Vec::with_capacity(batch.len());
        for parsed in parallel_map(batch, self.threads, |l| parse(l, field, vault_by))? {
            match parsed {
                Ok(r) => records.push(r),
                Err(bad) => self.bad_line(&bad, progress, stats)?,
            }
        }
        let mut slots: Vec<Option<Done>> = std::iter::repeat_with(|| None).take(records.len()).collect();
        let task = self.task;
        for g in parallel_map(groups(records, vaults), self.threads, |g| g.run(task, field))? {
            vaults.put(g.id, g.vault)?;
            for (i, result) in g.results {
                match result {
                    Ok(d) => slots[i] = Some(d),
                    Err(bad) => self.bad_line(&bad, progress, stats)?,
                }
            }
        }
        Ok(slots
            .into_iter()
            .flatten()
            .map(|d| {
                stats.add(&d);
                d.line
            })
            .collect())
    }

    /// A malformed line found while writing: skipped with `--skip-bad`;
    /// otherwise the input changed since it was checked, and the run stops.
    fn bad_line(&self, bad: &BadLine, progress: &Progress, stats: &mut Stats) -> Result<(), String> {
        if self.args.skip_bad {
            stats.bad_line(bad, progress);
            Ok(())
        } else {
            Err(format!("line {}: {} (did the input change while it was read?)", bad.no, bad.why))
        }
    }
}
