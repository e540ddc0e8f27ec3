//! Helpers shared by the tests that read the README and YAML files
//! (`pre_commit.rs`, `action.rs`).
#![allow(dead_code)] // each test crate uses its own subset

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn pre_commit_exe() -> PathBuf {
    let exe = std::env::var_os("PROMPTSIEVE_PRE_COMMIT").map(PathBuf::from).expect(
        "set PROMPTSIEVE_PRE_COMMIT to a pre-commit executable (e.g. $HOME/.cache/promptsieve/venv/bin/pre-commit)",
    );
    assert!(exe.is_file(), "PROMPTSIEVE_PRE_COMMIT={} is not a file", exe.display());
    exe
}

/// The Python that runs pre-commit, or `python3`.
pub fn python(pre_commit: &Path) -> PathBuf {
    let sibling = pre_commit.with_file_name("python");
    if sibling.is_file() { sibling } else { PathBuf::from("python3") }
}

/// YAML text as JSON, read by PyYAML's `safe_load`.
pub fn yaml_to_json(python: &Path, yaml: &str) -> Value {
    let mut child = Command::new(python)
        .args(["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    child.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "YAML did not parse: {}\n{yaml}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The README text after `<!-- section: NAME -->`, up to the next heading
/// or section marker.
pub fn readme_section(name: &str) -> String {
    // PROMPTSIEVE_README reads another file instead (to try a draft).
    let path = std::env::var_os("PROMPTSIEVE_README")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("README.md"));
    let readme = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let marker = format!("<!-- section: {name} -->");
    let start = readme.find(&marker).unwrap_or_else(|| panic!("README.md has no `{marker}`")) + marker.len();
    let rest = &readme[start..];
    let mut section = String::new();
    let mut in_code = false;
    for line in rest.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && (line.starts_with('#') || line.starts_with("<!-- section: ")) {
            break;
        }
        section.push_str(line);
        section.push('\n');
    }
    section
}

/// The fenced blocks of a Markdown text in the given language.
pub fn code_blocks(markdown: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<(bool, String)> = None; // (in `lang`, text so far)
    for line in markdown.lines() {
        let fence = line.trim_start().starts_with("```");
        match open.take() {
            None if fence => open = Some((line.trim().trim_start_matches('`') == lang, String::new())),
            None => {}
            Some((true, text)) if fence => blocks.push(text),
            Some((false, _)) if fence => {}
            Some((wanted, mut text)) => {
                text.push_str(line);
                text.push('\n');
                open = Some((wanted, text));
            }
        }
    }
    blocks
}
