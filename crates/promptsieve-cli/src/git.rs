//! Git: the files and lines added in the staged changes (`--staged`, what a
//! pre-commit hook needs) or since a revision (`--since REV`).
//!
//! Whole file contents are scanned (context matters to the detectors, e.g.
//! a name after "my name is" on the line above), and findings are then kept
//! only when they start on an added line.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A changed file: its path relative to the repository root and the added
/// lines (1-based, inclusive ranges).
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) path: String,
    pub(crate) added: Vec<(usize, usize)>,
}

/// Which changes to read.
#[derive(Clone, Copy)]
pub(crate) enum Changes<'a> {
    /// The index against `HEAD` (`git diff --cached`).
    Staged,
    /// `REV` against `HEAD`.
    Since(&'a str),
}

fn git(root: Option<&Path>, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new("git");
    if let Some(r) = root {
        cmd.arg("-C").arg(r);
    }
    // Paths with non-ASCII letters come out as they are, not octal-quoted.
    cmd.args(["-c", "core.quotepath=off"]).args(args);
    let out = cmd.output().map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(format!("git {}: {}", args.join(" "), msg.trim()));
    }
    Ok(out.stdout)
}

/// The root of the repository holding the current directory.
pub(crate) fn toplevel() -> Result<PathBuf, String> {
    let out = git(None, &["rev-parse", "--show-toplevel"])
        .map_err(|e| format!("--staged/--since need a git repository ({e})"))?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out).trim_end_matches(['\n', '\r'])))
}

/// The files added, copied, modified or renamed, with their added lines.
pub(crate) fn changes(root: &Path, which: Changes<'_>) -> Result<Vec<Change>, String> {
    let mut args = vec!["diff", "--no-color", "--no-ext-diff", "--unified=0", "--diff-filter=ACMR"];
    match which {
        Changes::Staged => args.push("--cached"),
        Changes::Since(rev) => {
            // Refuse a typo'd revision with git's own message, before the diff.
            git(Some(root), &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
                .map_err(|_| format!("--since {rev}: not a revision of this repository"))?;
            args.push(rev);
            args.push("HEAD");
        }
    }
    let diff = git(Some(root), &args)?;
    Ok(parse_diff(&String::from_utf8_lossy(&diff)))
}

/// The content of a changed file: the staged blob, or the file at `HEAD`.
pub(crate) fn content(root: &Path, which: Changes<'_>, path: &str) -> Result<Vec<u8>, String> {
    let spec = match which {
        Changes::Staged => format!(":{path}"),
        Changes::Since(_) => format!("HEAD:{path}"),
    };
    git(Some(root), &["cat-file", "blob", &spec])
}

/// Parses a `--unified=0` diff into files and added line ranges.
fn parse_diff(diff: &str) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    for line in diff.lines() {
        if let Some(p) = line.strip_prefix("+++ ") {
            let p = unquote(p);
            if let Some(p) = p.strip_prefix("b/") {
                out.push(Change { path: p.to_string(), added: Vec::new() });
            }
        } else if let Some(h) = line.strip_prefix("@@ ") {
            // "@@ -a[,b] +c[,d] @@"
            let Some(plus) = h.split(' ').find(|t| t.starts_with('+')) else { continue };
            let mut it = plus[1..].splitn(2, ',');
            let start: usize = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let count: usize = it.next().map_or(Some(1), |s| s.parse().ok()).unwrap_or(0);
            if let (Some(c), true) = (out.last_mut(), count > 0) {
                c.added.push((start, start + count - 1));
            }
        }
    }
    out.retain(|c| !c.added.is_empty());
    out
}

/// Undoes git's C-style quoting of unusual paths (`"b/a\"b"`).
fn unquote(p: &str) -> String {
    let Some(inner) = p.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return p.to_string();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = chars.peek() {
                        v = v * 8 + u32::from(n - b'0');
                        chars.next();
                    }
                }
                bytes.push(v as u8);
            }
            Some(o) => bytes.push(o),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_added_line_ranges() {
        let diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,0 +2,3 @@\n+a\n+b\n+c\n@@ -9 +12 @@\n-o\n+n\n\
                    diff --git a/gone b/gone\n--- a/gone\n+++ b/gone\n@@ -3,2 +2,0 @@\n-x\n-y\n\
                    diff --git a/n b/n\nnew file mode 100644\n--- /dev/null\n+++ \"b/sp\\303\\244ce \\\"q\\\"\"\n@@ -0,0 +1 @@\n+z\n";
        let c = parse_diff(diff);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].path, "x");
        assert_eq!(c[0].added, vec![(2, 4), (12, 12)]);
        assert_eq!(c[1].path, "späce \"q\"");
        assert_eq!(c[1].added, vec![(1, 1)]);
    }
}
