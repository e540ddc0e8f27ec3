//! `promptsieve scan --format sarif` over a directory tree, validated against
//! the official OASIS SARIF 2.1.0 schema (tests/data/sarif-schema-2.1.0.json,
//! see tests/data/SOURCES.md), and checked for what code scanning relies on:
//! relative URIs, rule indices, regions that point at the match, fingerprints
//! that survive moving code, and masked secrets.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

const SCHEMA: &str = include_str!("data/sarif-schema-2.1.0.json");

// Made-up keys that the default `secret-openai` rule reports (high entropy,
// none of them a rule pack example, so the rules' help text can't contain them).
const KEY_ENV: &str = "sk-proj-R7fK2mQ9xW4tZ8bN3vL6pJ1sH5dG0cYe";
const KEY_CONFIG: &str = "sk-proj-Hq3Lw8Zr1Tx6Vb9Nm2Kc5Pd7Fg4Js0Ay";
const KEY_IGNORED: &str = "sk-proj-Wd5Yh1Gp8Rn3Xk6Bt9Qm2Lv7Cs4Fz0Ej";
const KEY_BINARY: &str = "sk-proj-Mb2Uc7Ke4Wq9Pz1Hn6Ty3Rx8Gv5Ld0Sa";
const EMAIL: &str = "ana.lopez@example.org";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn write(root: &Path, rel: &str, contents: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

/// A git work tree with nested files, an ignored directory, a binary file,
/// a dotfile and personal data. Every secret sits on a line of its own.
fn repo() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    git(root, &["config", "user.email", "test@example.invalid"]);
    git(root, &["config", "user.name", "promptsieve tests"]);
    write(root, ".gitignore", b"ignored/\n");
    write(root, "ignored/leak.txt", format!("OPENAI_API_KEY={KEY_IGNORED}\n").as_bytes());
    let mut binary = b"\x7fELF\x00\x01\x02 not text\n".to_vec();
    binary.extend_from_slice(format!("OPENAI_API_KEY={KEY_BINARY}\n").as_bytes());
    write(root, "assets/blob.bin", &binary);
    write(root, ".env", format!("OPENAI_API_KEY={KEY_ENV}\n").as_bytes());
    write(root, "docs/contact.md", format!("# Contact\n\nQuestions? Write to {EMAIL}.\n").as_bytes());
    write(
        root,
        "src/app/config.py",
        format!("import os\n\nDEBUG = False\nAPI_KEY = \"{KEY_CONFIG}\"\n").as_bytes(),
    );
    write(root, "src/app/clean.py", b"def add(a, b):\n    return a + b\n");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "fixture"]);
    dir
}

fn scan(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promptsieve"))
        .args(["scan", "--format", "sarif", "--quiet"])
        .args(extra)
        .arg(".")
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("run promptsieve")
}

fn sarif(dir: &Path, extra: &[&str]) -> (String, Value) {
    let out = scan(dir, extra);
    let stdout = String::from_utf8(out.stdout).expect("SARIF is UTF-8");
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings exit 1; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (stdout, log)
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA).expect("the schema file is JSON");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    jsonschema::options().should_validate_formats(true).build(&schema).expect("the SARIF schema compiles")
}

fn schema_errors(validator: &jsonschema::Validator, log: &Value) -> Vec<String> {
    validator.iter_errors(log).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad escape in {s}")));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The text of a one-line region, columns counted as `columnKind` says.
fn region_text(line: &str, start: usize, end: usize, column_kind: &str) -> String {
    match column_kind {
        "utf16CodeUnits" => {
            let units: Vec<u16> = line.encode_utf16().collect();
            String::from_utf16(&units[start - 1..end - 1]).unwrap()
        }
        _ => line.chars().skip(start - 1).take(end - start).collect(),
    }
}

struct Res<'a> {
    uri: &'a str,
    rule: &'a str,
    line: u64,
    fingerprint: &'a str,
    message: &'a str,
}

fn results(log: &Value) -> Vec<Res<'_>> {
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            Res {
                uri: loc["artifactLocation"]["uri"].as_str().expect("uri"),
                rule: r["ruleId"].as_str().expect("ruleId"),
                line: loc["region"]["startLine"].as_u64().expect("startLine"),
                fingerprint: r["partialFingerprints"]["promptsieve/v1"].as_str().expect("fingerprint"),
                message: r["message"]["text"].as_str().expect("message"),
            }
        })
        .collect()
}

#[test]
fn tree_scan_sarif_is_valid_and_points_at_the_findings() {
    let dir = repo();
    let root = dir.path();
    let (text, log) = sarif(root, &[]);
    let validator = validator();
    let errors = schema_errors(&validator, &log);
    assert!(errors.is_empty(), "not valid SARIF 2.1.0:\n{}", errors.join("\n"));

    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "exactly one run");
    let run = &runs[0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "rule ids are unique");
    for r in rules {
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(!r[key]["text"].as_str().unwrap_or("").is_empty(), "{} lacks {key}", r["id"]);
        }
    }
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().expect("%SRCROOT% is declared");
    assert!(base.starts_with("file:///") && base.ends_with('/'), "absolute directory URI: {base}");
    let column_kind = run["columnKind"].as_str().unwrap_or("unicodeCodePoints");

    let results = run["results"].as_array().unwrap();
    let mut seen = BTreeMap::<String, Vec<String>>::new();
    for r in results {
        let rule = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], rule, "ruleIndex {index} names {rule}");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));

        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(
            !uri.starts_with('/') && !uri.starts_with("./") && !uri.contains('\\') && !uri.contains(':'),
            "a relative URI with forward slashes: {uri}"
        );
        assert!(!uri.starts_with("ignored/"), "the .gitignore'd directory was scanned: {uri}");
        assert!(!uri.starts_with(".git/"), ".git was scanned: {uri}");
        assert_ne!(uri, "assets/blob.bin", "the binary file was scanned");

        // The region points at the match in the file.
        let path = percent_decode(uri);
        let contents = fs::read_to_string(root.join(&path)).unwrap();
        let region = &loc["region"];
        let line_no = region["startLine"].as_u64().unwrap() as usize;
        let (start, end) = (
            region["startColumn"].as_u64().unwrap() as usize,
            region["endColumn"].as_u64().unwrap() as usize,
        );
        assert_eq!(region["endLine"].as_u64().unwrap_or(line_no as u64) as usize, line_no, "{uri}: one line");
        let line = contents.lines().nth(line_no - 1).unwrap_or_else(|| panic!("{uri} has no line {line_no}"));
        let matched = region_text(line, start, end, column_kind);
        assert!(!matched.is_empty(), "{uri}:{line_no}: empty region");
        seen.entry(path.clone()).or_default().push(matched.clone());

        let fingerprint =
            r["partialFingerprints"]["promptsieve/v1"].as_str().expect("a promptsieve/v1 fingerprint");
        assert!(
            fingerprint.len() >= 16 && fingerprint.chars().all(|c| c.is_ascii_hexdigit()),
            "hex fingerprint: {fingerprint}"
        );
        if rule == "secret-openai" {
            assert!(matched.starts_with("sk-proj-"), "{uri}: the region is the key: {matched}");
            let message = r["message"]["text"].as_str().unwrap();
            assert!(!message.contains(&matched), "the key is masked in the message: {message}");
        }
    }
    assert_eq!(seen.get(".env"), Some(&vec![KEY_ENV.to_string()]), "{seen:?}");
    assert_eq!(seen.get("src/app/config.py"), Some(&vec![KEY_CONFIG.to_string()]), "{seen:?}");
    assert!(seen.get("docs/contact.md").is_some_and(|m| m.contains(&EMAIL.to_string())), "{seen:?}");
    assert!(!seen.contains_key("src/app/clean.py"), "{seen:?}");
    for key in [KEY_ENV, KEY_CONFIG, KEY_IGNORED, KEY_BINARY] {
        assert!(!text.contains(key), "a key in full in the SARIF log: {key}");
    }

    // --show-secrets puts the keys in the messages (so the masking above is
    // the CLI's doing, not an accident of the message format).
    let (text, log) = sarif(root, &["--show-secrets"]);
    assert!(schema_errors(&validator, &log).is_empty());
    assert!(text.contains(KEY_ENV) && text.contains(KEY_CONFIG));
    assert!(!text.contains(KEY_IGNORED) && !text.contains(KEY_BINARY));
}

#[test]
fn fingerprints_are_stable_and_not_keyed_by_line() {
    let dir = repo();
    let root = dir.path();
    let (_, first) = sarif(root, &[]);
    let (_, second) = sarif(root, &[]);
    let key = |log: &Value| -> BTreeSet<(String, String, u64, String)> {
        results(log)
            .iter()
            .map(|r| (r.uri.to_string(), r.rule.to_string(), r.line, r.fingerprint.to_string()))
            .collect()
    };
    assert_eq!(key(&first), key(&second), "two runs over the same tree agree");
    let fingerprints: Vec<&str> = results(&first).iter().map(|r| r.fingerprint).collect();
    assert_eq!(
        fingerprints.iter().collect::<BTreeSet<_>>().len(),
        fingerprints.len(),
        "each finding has its own fingerprint"
    );

    // Two lines inserted above the key move it down; its fingerprint stays.
    let config = root.join("src/app/config.py");
    let old = fs::read_to_string(&config).unwrap();
    fs::write(&config, format!("# settings\n# more settings\n{old}")).unwrap();
    let (_, moved) = sarif(root, &[]);
    let before: Vec<_> = results(&first).into_iter().filter(|r| r.uri == "src/app/config.py").collect();
    let after: Vec<_> = results(&moved).into_iter().filter(|r| r.uri == "src/app/config.py").collect();
    assert_eq!(before.len(), 1);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].line, before[0].line + 2, "the finding moved down");
    assert_eq!(after[0].fingerprint, before[0].fingerprint, "the fingerprint is not keyed by line");
    assert_eq!(after[0].message, before[0].message);
    let others = |log: &Value| -> BTreeSet<String> {
        results(log)
            .iter()
            .filter(|r| r.uri != "src/app/config.py")
            .map(|r| r.fingerprint.to_string())
            .collect()
    };
    assert_eq!(others(&first), others(&moved), "the other files' fingerprints are untouched");
}

#[test]
fn the_schema_is_the_recorded_oasis_copy() {
    use sha2::{Digest, Sha256};
    let digest: String = Sha256::digest(SCHEMA.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        digest, "ddddcccbf95c7c50c037b5b07eff4140556278ca574ff374db46786b5fce7949",
        "tests/data/sarif-schema-2.1.0.json differs from the copy described in tests/data/SOURCES.md"
    );
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    assert_eq!(
        schema["id"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );
}

#[test]
fn the_schema_rejects_broken_logs() {
    let dir = repo();
    let (_, log) = sarif(dir.path(), &[]);
    let validator = validator();
    assert!(validator.is_valid(&log));

    let mut no_version = log.clone();
    no_version.as_object_mut().unwrap().remove("version");
    assert!(!validator.is_valid(&no_version), "a log without version is rejected");

    let mut wrong_version = log.clone();
    wrong_version["version"] = "2.0.0".into();
    assert!(!validator.is_valid(&wrong_version), "only version 2.1.0 is accepted");

    let mut line_zero = log.clone();
    line_zero["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    assert!(!validator.is_valid(&line_zero), "lines count from 1");

    let mut unknown = log.clone();
    unknown["runs"][0]["results"][0]["fingerprint"] = "abc".into();
    assert!(!validator.is_valid(&unknown), "results take no unknown properties");

    let mut no_driver_name = log;
    no_driver_name["runs"][0]["tool"]["driver"].as_object_mut().unwrap().remove("name");
    assert!(!validator.is_valid(&no_driver_name), "the driver needs a name");
}
