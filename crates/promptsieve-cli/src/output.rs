//! Report rendering: JSON, SARIF 2.1.0 and a human-readable text form.

use std::collections::BTreeMap;
use std::io::{self, Write};

use promptsieve::{Report, Scanner, Severity};

use crate::tree::Hit;
use serde_json::{Value, json};

/// The JSON contract of `scan --json` / `--jsonl`: byte offsets into the
/// input and the matched original text.
pub(crate) fn report_json(report: &Report, text: &str) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule,
                "category": f.category.as_str(),
                "entity": f.entity,
                "start": f.span.start,
                "end": f.span.end,
                "score": round(f.score),
                "severity": f.severity().as_str(),
                "text": &text[f.span.range()],
                "detail": f.detail,
            })
        })
        .collect();
    json!({ "risk": round(report.risk), "flagged": report.flagged, "findings": findings })
}

fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// 1-based line and column (in Unicode code points) of byte `pos`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..pos].chars().count() + 1)
}

/// SARIF `level` of a score.
fn level(score: f64) -> &'static str {
    match Severity::from_score(score) {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

/// Percent-encodes a relative path for a SARIF `uri` (RFC 3986: unreserved
/// characters and `/` stay).
fn uri_path(p: &str) -> String {
    let mut out = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a finding says in SARIF and annotations: rule, entity, score and
/// the (masked) match.
fn hit_message(h: &Hit) -> String {
    let what = h.entity.as_deref().map_or_else(|| h.category.as_str().to_string(), str::to_string);
    let mut m = format!("{what} found by {} (score {:.2}): {}", h.rule, h.score, visible(&h.text, 80));
    if let Some(d) = &h.detail {
        m.push_str(" — ");
        m.push_str(d);
    }
    m
}

/// A rule's description up to its first colon or full stop (`OpenAI API
/// key`), for SARIF's one-line `shortDescription`.
fn short<'a>(description: &'a str, id: &'a str) -> &'a str {
    let end = [description.find(": "), description.find(". ")].into_iter().flatten().min();
    let s = end.map_or(description, |e| &description[..e]).trim_end_matches('.').trim();
    if s.is_empty() { id } else { s }
}

/// A SARIF 2.1.0 log with one run: every rule of the packs in
/// `tool.driver.rules`, one result per hit with a relative location and a
/// fingerprint that does not depend on the line.
pub(crate) fn sarif_hits(scanner: &Scanner, hits: &[Hit]) -> Value {
    let mut infos = scanner.rules();
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    let index: BTreeMap<&str, usize> = infos.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let rules: Vec<Value> = infos
        .iter()
        .map(|r| {
            let what = match &r.entity {
                Some(e) => format!("{} ({e})", r.category),
                None => r.category.as_str().to_string(),
            };
            let mut help = format!(
                "{}\n\nCategory: {what}. Matched by {} from the `{}` pack; base score {:.2}.",
                r.description, r.kind, r.pack, r.score
            );
            // No example matches: they hold sample keys, and a SARIF file
            // committed or scanned later must not trip secret scanners.
            help.push_str(&format!(
                "\n\nRemove the value (rotate it if it is a secret), or suppress this finding with a \
                 `promptsieve:allow {}` comment on its line or the line above, or record it in a \
                 baseline (`--write-baseline`).",
                r.id
            ));
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": short(&r.description, &r.id) },
                "fullDescription": { "text": format!("{} ({what}, {} rule from the {} pack)", r.description, r.kind, r.pack) },
                "help": { "text": help },
                "defaultConfiguration": { "level": level(r.score) },
                "properties": {
                    "category": r.category.as_str(),
                    "entity": r.entity,
                    "pack": r.pack,
                    "tags": [r.category.as_str(), "security"],
                    "security-severity": format!("{:.1}", r.score * 10.0),
                },
            })
        })
        .collect();
    let results: Vec<Value> = hits
        .iter()
        .map(|h| {
            let artifact = if h.path.starts_with('/') {
                json!({ "uri": format!("file://{}", uri_path(&h.path)) })
            } else {
                json!({ "uri": uri_path(&h.path), "uriBaseId": "%SRCROOT%" })
            };
            json!({
                "ruleId": h.rule,
                "ruleIndex": index.get(h.rule.as_str()),
                "level": level(h.score),
                "message": { "text": hit_message(h) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": artifact,
                    "region": {
                        "startLine": h.line,
                        "startColumn": h.col,
                        "endLine": h.end_line,
                        "endColumn": h.end_col,
                    },
                }}],
                "partialFingerprints": { "promptsieve/v1": h.fingerprint },
                "properties": { "score": round(h.score), "category": h.category.as_str(), "entity": h.entity },
            })
        })
        .collect();
    let root = std::env::current_dir()
        .ok()
        .map(|d| {
            let d = d.to_string_lossy().replace('\\', "/");
            let d = d.trim_end_matches('/');
            format!("file://{}/", uri_path(d))
        })
        .unwrap_or_else(|| "file:///".into());
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "promptsieve",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/promptsieve/promptsieve",
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// Makes hidden characters visible as `<U+XXXX>` and shortens long text.
fn visible(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        let cp = c as u32;
        let hidden = (c.is_control() && c != ' ')
            || matches!(cp, 0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x180E | 0x200B..=0x200F
                | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0
                | 0xE0000..=0xE01EF);
        if hidden {
            out.push_str(&format!("<U+{cp:04X}>"));
        } else {
            out.push(c);
        }
    }
    out
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

/// The human-readable report: each finding with its rule, score and the
/// offending text highlighted in its line.
pub(crate) fn human(
    out: &mut impl Write,
    name: &str,
    text: &str,
    report: &Report,
    threshold: f64,
    color: bool,
) -> io::Result<()> {
    let (hl, reset, dim, bold) =
        if color { ("\x1b[1;31m", "\x1b[0m", "\x1b[2m", "\x1b[1m") } else { ("»", "«", "", "") };
    let (hl_end, dim_end, bold_end) = if color { (reset, reset, reset) } else { ("«", "", "") };
    let _ = reset;
    for f in &report.findings {
        let (line, col) = line_col(text, f.span.start);
        writeln!(
            out,
            "{bold}{name}:{line}:{col}{bold_end}  {:<8} {}  {}{} score {:.2}",
            f.severity().as_str(),
            f.rule,
            f.category,
            f.entity.as_deref().map(|e| format!(" {e}")).unwrap_or_default(),
            f.score
        )?;
        let line_start = text[..f.span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[f.span.end..].find('\n').map_or(text.len(), |i| f.span.end + i);
        let ctx_start = floor(text, f.span.start.saturating_sub(40).max(line_start));
        let ctx_end = ceil(text, (f.span.end + 40).min(line_end));
        let before = visible(&text[ctx_start..f.span.start], 60);
        let matched = visible(&text[f.span.range()], 200);
        let after = visible(&text[f.span.end..ctx_end], 60);
        let lead = if ctx_start > line_start { "…" } else { "" };
        let tail = if ctx_end < line_end { "…" } else { "" };
        writeln!(out, "    {dim}{lead}{before}{dim_end}{hl}{matched}{hl_end}{dim}{after}{tail}{dim_end}")?;
        if let Some(d) = &f.detail {
            writeln!(out, "    {dim}{d}{dim_end}")?;
        }
    }
    let verdict = if report.flagged { "FLAGGED" } else { "not flagged" };
    writeln!(
        out,
        "{name}: {} finding{}, risk {:.2} ({verdict}; threshold {:.2})",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        report.risk,
        threshold
    )
}

/// Escapes the message of a workflow command.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property (`file=…`, `title=…`) of a workflow command.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One GitHub Actions workflow command (`::error`, `::warning` or
/// `::notice`) for a hit, so the finding shows on the pull request's diff.
pub(crate) fn github_hit(out: &mut impl Write, h: &Hit) -> io::Result<()> {
    let cmd = match level(h.score) {
        "error" => "error",
        "warning" => "warning",
        _ => "notice",
    };
    let mut props = format!("file={},line={},col={}", gh_property(&h.path), h.line, h.col);
    if h.end_line == h.line {
        props.push_str(&format!(",endColumn={}", h.end_col));
    } else {
        props.push_str(&format!(",endLine={}", h.end_line));
    }
    let title = format!("promptsieve {}", h.rule);
    writeln!(out, "::{cmd} {props},title={}::{}", gh_property(&title), gh_data(&hit_message(h)))
}

/// A hit of the text report: `path:line:col`, severity, rule, entity and
/// score, then its line with the (masked) match highlighted.
pub(crate) fn human_hit(out: &mut impl Write, h: &Hit, color: bool) -> io::Result<()> {
    let (hl, hl_end, dim, dim_end, bold, bold_end) = if color {
        ("\x1b[1;31m", "\x1b[0m", "\x1b[2m", "\x1b[0m", "\x1b[1m", "\x1b[0m")
    } else {
        ("»", "«", "", "", "", "")
    };
    writeln!(
        out,
        "{bold}{}:{}:{}{bold_end}  {:<8} {}  {}{} score {:.2}",
        h.path,
        h.line,
        h.col,
        Severity::from_score(h.score).as_str(),
        h.rule,
        h.category,
        h.entity.as_deref().map(|e| format!(" {e}")).unwrap_or_default(),
        h.score
    )?;
    let (before, shown, after) = &h.context;
    let (before, shown, after) = (visible(before, 60), visible(shown, 200), visible(after, 60));
    writeln!(out, "    {dim}{before}{dim_end}{hl}{shown}{hl_end}{dim}{after}{dim_end}")?;
    if let Some(d) = &h.detail {
        writeln!(out, "    {dim}{d}{dim_end}")?;
    }
    Ok(())
}
