//! Runs the README's command-line examples.
//!
//! A fenced `sh` block right after a `<!-- test: NAME -->` line is run here.
//! Blocks with the same name share one fresh temporary git repository, in
//! README order, with the `promptsieve` under test first on `PATH`. Each
//! command line (a trailing `\` continues it) runs in `bash -o pipefail` and
//! must exit 0, or N when its comment starts with `# exit N`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

struct Line {
    readme_line: usize,
    command: String,
    expect: i32,
}

fn blocks(readme: &str) -> BTreeMap<String, Vec<Line>> {
    let mut out: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    let lines: Vec<&str> = readme.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = lines[i].trim().strip_prefix("<!-- test: ").and_then(|r| r.strip_suffix(" -->"))
        else {
            i += 1;
            continue;
        };
        assert_eq!(
            lines.get(i + 1).map(|l| l.trim()),
            Some("```sh"),
            "README line {}: a ```sh block must follow",
            i + 1
        );
        i += 2;
        let mut pending = String::new();
        let mut start = i;
        while i < lines.len() && lines[i].trim() != "```" {
            let l = lines[i];
            if pending.is_empty() {
                start = i;
            }
            if l.ends_with('\\') {
                // bash joins the lines itself.
                pending.push_str(l);
                pending.push('\n');
            } else {
                pending.push_str(l);
                if !pending.trim().is_empty() && !pending.trim_start().starts_with('#') {
                    out.entry(name.to_string()).or_default().push(Line {
                        readme_line: start + 1,
                        expect: expected(&pending),
                        command: std::mem::take(&mut pending),
                    });
                }
                pending.clear();
            }
            i += 1;
        }
        assert!(i < lines.len(), "README: unterminated block {name}");
        i += 1;
    }
    out
}

/// The exit status a line's comment announces (`# exit 1: …`), else 0.
fn expected(line: &str) -> i32 {
    let mut rest = line;
    // A `#` starting a comment follows whitespace (not `#` in a word or URL).
    while let Some(i) = rest.find(" #") {
        let comment = rest[i + 2..].trim_start();
        if let Some(n) = comment.strip_prefix("exit ") {
            let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
            return digits.parse().expect("# exit N takes a number");
        }
        rest = &rest[i + 2..];
    }
    0
}

#[test]
fn readme_command_line_examples_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let groups = blocks(&readme);
    assert!(groups.contains_key("tree"), "the README's tree examples are marked for testing");
    let bin = Path::new(env!("CARGO_BIN_EXE_promptsieve")).parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let mut failures = Vec::new();
    for (name, lines) in &groups {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = Command::new("git").args(args).current_dir(dir.path()).status().unwrap().success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["config", "user.email", "readme@example.invalid"]);
        git(&["config", "user.name", "README"]);
        git(&["config", "commit.gpgsign", "false"]);
        for l in lines {
            let out = Command::new("bash")
                .args(["-o", "pipefail", "-c", &l.command])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            let code = out.status.code().unwrap_or(-1);
            if code != l.expect {
                failures.push(format!(
                    "README line {} ({name}): `{}` exited {code}, expected {}\n--- stdout\n{}\n--- stderr\n{}",
                    l.readme_line,
                    l.command.trim(),
                    l.expect,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn exit_comments_parse() {
    assert_eq!(expected("promptsieve scan .   # exit 1: found"), 1);
    assert_eq!(expected("promptsieve scan .   # scans the tree"), 0);
    assert_eq!(expected("echo a#b # exit 2"), 2);
    let b = blocks("<!-- test: x -->\n```sh\n# a comment\nfoo \\\n  --bar  # exit 3\nbaz\n```\n");
    let x = &b["x"];
    assert_eq!(x.len(), 2);
    assert_eq!((x[0].expect, x[0].readme_line), (3, 4));
    assert!(x[0].command.contains("--bar"));
    assert_eq!(x[1].command, "baz");
}
