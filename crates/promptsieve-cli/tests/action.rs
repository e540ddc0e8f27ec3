//! The composite GitHub Action (`action.yml`), run here the way a runner
//! would: its `run:` steps execute in order with `bash --noprofile --norc -eo
//! pipefail` in temporary git repositories, with `${{ … }}` expressions,
//! `if:` conditions, `GITHUB_OUTPUT`/`GITHUB_ENV`/`GITHUB_PATH`/
//! `GITHUB_STEP_SUMMARY` files and step outputs handled as GitHub does for the
//! subset the action uses (anything else fails the test). `uses:` steps
//! (the cache and the SARIF upload) are not run; their `with:` values are
//! checked. The workflow in README.md's `<!-- section: action -->` is checked
//! against the action's inputs and run with its `with:` values.
//!
//! Needs PyYAML to read the YAML: like tests/pre_commit.rs, these tests are
//! ignored unless run with `--include-ignored` and
//! `PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit`; the `python` next to that
//! executable (pre-commit depends on PyYAML) does the reading.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{code_blocks, readme_section, workspace_root};

/// YAML text as JSON (PyYAML, beside the pre-commit under test).
fn yaml_to_json(yaml: &str) -> Value {
    common::yaml_to_json(&common::python(&common::pre_commit_exe()), yaml)
}

const KEY_OLD: &str = "sk-proj-Wd5Yh1Gp8Rn3Xk6Bt9Qm2Lv7Cs4Fz0Ej";
const KEY_NEW: &str = "sk-proj-Hq3Lw8Zr1Tx6Vb9Nm2Kc5Pd7Fg4Js0Ay";
const KEY_FIXTURE: &str = "sk-proj-Mb2Uc7Ke4Wq9Pz1Hn6Ty3Rx8Gv5Ld0Sa";
const EMAIL: &str = "ana.lopez@example.org";

fn action_text() -> String {
    fs::read_to_string(workspace_root().join("action.yml")).unwrap()
}

fn action() -> Value {
    yaml_to_json(&action_text())
}

/// Every `${{ … }}` expression in a text, trimmed.
fn expressions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        let after = &rest[i + 3..];
        let j = after.find("}}").unwrap_or_else(|| panic!("unclosed expression in {text}"));
        out.push(after[..j].trim().to_string());
        rest = &after[j + 2..];
    }
    out
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    let Some(m) = v.as_object() else { return BTreeMap::new() };
    m.iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => panic!("{k}: not a scalar: {other}"),
            };
            (k.clone(), s)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// A small runner for composite actions.

#[derive(Debug)]
struct StepRun {
    id: Option<String>,
    name: String,
    /// `None`: skipped by its `if:`.
    exit: Option<i32>,
    stdout: String,
    /// For `uses:` steps that would run: the action and its `with:` values.
    uses: Option<(String, BTreeMap<String, String>)>,
}

#[derive(Debug)]
struct ActionRun {
    /// RUNNER_TEMP and the GITHUB_* files (the SARIF log is in there).
    _runner: TempDir,
    steps: Vec<StepRun>,
    outputs: BTreeMap<String, String>,
    failed: bool,
    summary: String,
}

impl ActionRun {
    fn step(&self, name_part: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|s| s.id.as_deref() == Some(name_part) || s.name.contains(name_part))
            .unwrap_or_else(|| panic!("no step {name_part}: {:#?}", self.steps))
    }

    fn last(&self) -> &StepRun {
        self.steps.last().unwrap()
    }

    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output {name}: {:?}", self.outputs))
    }
}

struct Context<'a> {
    inputs: &'a BTreeMap<String, String>,
    steps: &'a BTreeMap<String, BTreeMap<String, String>>,
    vars: &'a BTreeMap<&'static str, String>,
}

impl Context<'_> {
    fn value(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some(name) = expr.strip_prefix("inputs.") {
            return self.inputs.get(name).unwrap_or_else(|| panic!("undeclared input {name}")).clone();
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, out) = rest.split_once(".outputs.").unwrap_or_else(|| panic!("unsupported: {expr}"));
            return self.steps.get(id).and_then(|o| o.get(out)).cloned().unwrap_or_default();
        }
        if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return lit.replace("''", "'");
        }
        self.vars
            .get(expr)
            .cloned()
            .unwrap_or_else(|| panic!("unsupported expression in this runner: {expr}"))
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 3..];
            let j = after.find("}}").unwrap();
            out.push_str(&self.value(&after[..j]));
            rest = &after[j + 2..];
        }
        out.push_str(rest);
        out
    }

    /// An `if:` condition: terms joined by `&&`, each a status function or
    /// `X == 'lit'` / `X != 'lit'`. Without a status function, `success()`.
    fn condition(&self, cond: Option<&str>, failed: bool) -> bool {
        let Some(cond) = cond else { return !failed };
        let cond = cond.trim();
        let cond = cond.strip_prefix("${{").and_then(|c| c.strip_suffix("}}")).unwrap_or(cond);
        assert!(!cond.contains("||"), "unsupported in this runner: {cond}");
        let mut status = None;
        let mut all = true;
        for term in cond.split("&&").map(str::trim) {
            match term {
                "always()" => status = Some(true),
                "success()" => status = Some(!failed),
                "failure()" => status = Some(failed),
                _ => {
                    let (lhs, rhs, eq) = if let Some((l, r)) = term.split_once("==") {
                        (l, r, true)
                    } else if let Some((l, r)) = term.split_once("!=") {
                        (l, r, false)
                    } else {
                        panic!("unsupported condition term: {term}")
                    };
                    all &= (self.value(lhs) == self.value(rhs)) == eq;
                }
            }
        }
        status.unwrap_or(!failed) && all
    }
}

/// GITHUB_OUTPUT / GITHUB_ENV syntax: `name=value` or `name<<DELIM` … `DELIM`.
fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else {
            let (name, value) = line.split_once('=').unwrap_or_else(|| panic!("bad line: {line}"));
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

/// Runs the action's steps in `workspace` with these `with:` values.
/// `path` is the PATH the steps start with; `event` gives the
/// `github.event…` values a workflow may pass.
fn run_action(
    workspace: &Path,
    with: &BTreeMap<String, String>,
    path: &OsString,
    event: &[(&'static str, &str)],
) -> ActionRun {
    let action = action();
    let declared = action["inputs"].as_object().unwrap();
    let mut inputs = BTreeMap::new();
    for (name, spec) in declared {
        inputs.insert(name.clone(), spec["default"].as_str().unwrap_or("").to_string());
    }
    for (k, v) in with {
        assert!(declared.contains_key(k), "`with: {k}` is not an input of action.yml");
        inputs.insert(k.clone(), v.clone());
    }

    let runner = tempfile::tempdir().unwrap();
    let temp = runner.path().join("temp");
    let tool_cache = runner.path().join("tool-cache");
    let files = runner.path().join("files");
    for d in [&temp, &tool_cache, &files] {
        fs::create_dir_all(d).unwrap();
    }
    let mut vars: BTreeMap<&'static str, String> = BTreeMap::new();
    vars.insert("github.action_path", workspace_root().to_str().unwrap().to_string());
    vars.insert("github.workspace", workspace.to_str().unwrap().to_string());
    vars.insert("runner.temp", temp.to_str().unwrap().to_string());
    vars.insert("runner.os", "Linux".to_string());
    for (k, v) in event {
        vars.insert(k, v.to_string());
    }

    let env_file = files.join("env");
    let path_file = files.join("path");
    fs::write(&env_file, "").unwrap();
    fs::write(&path_file, "").unwrap();
    let mut extra_env = BTreeMap::new();
    let mut extra_path: Vec<PathBuf> = Vec::new();
    let mut step_outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut runs = Vec::new();
    let mut failed = false;
    let mut summary = String::new();

    for (n, step) in action["runs"]["steps"].as_array().unwrap().iter().enumerate() {
        let id = step["id"].as_str().map(str::to_string);
        let name = step["name"].as_str().unwrap_or("").to_string();
        let ctx = Context { inputs: &inputs, steps: &step_outputs, vars: &vars };
        if !ctx.condition(step["if"].as_str(), failed) {
            runs.push(StepRun { id, name, exit: None, stdout: String::new(), uses: None });
            continue;
        }
        if let Some(uses) = step["uses"].as_str() {
            let with: BTreeMap<String, String> =
                string_map(&step["with"]).into_iter().map(|(k, v)| (k, ctx.substitute(&v))).collect();
            runs.push(StepRun {
                id,
                name,
                exit: Some(0),
                stdout: String::new(),
                uses: Some((uses.into(), with)),
            });
            continue;
        }
        let script = step["run"].as_str().expect("a step has run: or uses:");
        assert_eq!(step["shell"], "bash", "step {name}: composite run steps need `shell: bash`");
        let script = ctx.substitute(script);
        let script_file = temp.join(format!("step-{n}.sh"));
        fs::write(&script_file, &script).unwrap();
        let output_file = files.join(format!("output-{n}"));
        let summary_file = files.join(format!("summary-{n}"));
        fs::write(&output_file, "").unwrap();
        fs::write(&summary_file, "").unwrap();

        let mut dirs = extra_path.clone();
        dirs.extend(std::env::split_paths(path));
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(workspace)
            .env_clear()
            .env("PATH", std::env::join_paths(dirs).unwrap())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("LANG", "C.UTF-8")
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_ACTION_PATH", workspace_root())
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_ENV", &env_file)
            .env("GITHUB_PATH", &path_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .env("RUNNER_TEMP", &temp)
            .env("RUNNER_TOOL_CACHE", &tool_cache)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .envs(&extra_env);
        for (k, v) in string_map(&step["env"]) {
            cmd.env(k, ctx.substitute(&v));
        }
        let out = cmd.stdin(Stdio::null()).output().expect("run bash");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!(
            "--- step {name:?}: exit {:?}\n{stdout}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        let code = out.status.code().unwrap_or(-1);
        if code != 0 {
            failed = true;
        }
        if let Some(id) = &id {
            step_outputs.insert(id.clone(), parse_env_file(&fs::read_to_string(&output_file).unwrap()));
        }
        summary.push_str(&fs::read_to_string(&summary_file).unwrap());
        extra_env = parse_env_file(&fs::read_to_string(&env_file).unwrap());
        extra_path = fs::read_to_string(&path_file)
            .unwrap()
            .lines()
            .rev()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect();
        runs.push(StepRun { id, name, exit: Some(code), stdout, uses: None });
    }

    let ctx = Context { inputs: &inputs, steps: &step_outputs, vars: &vars };
    let outputs: BTreeMap<String, String> = action["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), ctx.substitute(v["value"].as_str().unwrap())))
        .collect();
    if let Some(sarif) = outputs.get("sarif-file").filter(|p| !p.is_empty()) {
        assert!(Path::new(sarif).is_file(), "the sarif-file output names no file: {sarif}");
        assert!(!Path::new(sarif).starts_with(workspace), "the SARIF log is kept out of the scanned tree");
    }
    ActionRun { _runner: runner, steps: runs, outputs, failed, summary }
}

// ---------------------------------------------------------------------------
// Test fixtures.

struct Fixture {
    _dirs: TempDir,
    workspace: PathBuf,
    path: OsString,
    cargo_log: PathBuf,
}

/// An empty git repository as the workspace, and a PATH with the
/// `promptsieve` under test first, then a fake `cargo` that records its
/// arguments and "installs" by linking that binary into `--root`.
fn fixture() -> Fixture {
    let dirs = tempfile::tempdir().unwrap();
    let workspace = dirs.path().join("workspace");
    let fake_bin = dirs.path().join("fake-bin");
    fs::create_dir_all(&workspace).unwrap();
    fs::create_dir_all(&fake_bin).unwrap();
    let cargo_log = dirs.path().join("cargo.log");
    let binary = env!("CARGO_BIN_EXE_promptsieve");
    let cargo = fake_bin.join("cargo");
    fs::write(
        &cargo,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{log}'\nroot=\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\n\
             [ -n \"$root\" ] || exit 3\nmkdir -p \"$root/bin\" && ln -sf '{binary}' \"$root/bin/promptsieve\"\n",
            log = cargo_log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&cargo, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut path_dirs = vec![Path::new(binary).parent().unwrap().to_path_buf(), fake_bin];
    path_dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    let path = std::env::join_paths(path_dirs).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&workspace)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.email", "test@example.invalid"]);
    git(&["config", "user.name", "promptsieve tests"]);
    Fixture { _dirs: dirs, workspace, path, cargo_log }
}

impl Fixture {
    fn write(&self, rel: &str, contents: &str) {
        let p = self.workspace.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, contents).unwrap();
    }

    fn commit(&self, message: &str) -> String {
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(args)
                .current_dir(&self.workspace)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env_remove("GIT_DIR")
                .env_remove("GIT_INDEX_FILE")
                .env_remove("GIT_WORK_TREE")
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", message]);
        git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    fn run(&self, with: &[(&str, &str)]) -> ActionRun {
        let with = with.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        run_action(&self.workspace, &with, &self.path, &[])
    }

    fn cargo_calls(&self) -> String {
        fs::read_to_string(&self.cargo_log).unwrap_or_default()
    }
}

fn sarif_results(run: &ActionRun) -> Vec<Value> {
    let text = fs::read_to_string(run.output("sarif-file")).unwrap();
    let log: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("the SARIF file is JSON: {e}"));
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    log["runs"][0]["results"].as_array().unwrap().clone()
}

fn result_uris(run: &ActionRun) -> BTreeSet<String> {
    sarif_results(run)
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().to_string()
        })
        .collect()
}

fn upload(run: &ActionRun) -> Option<&BTreeMap<String, String>> {
    run.steps.iter().find_map(|s| match &s.uses {
        Some((uses, with)) if uses.starts_with("github/codeql-action/upload-sarif@") => Some(with),
        _ => None,
    })
}

// ---------------------------------------------------------------------------

#[test]
#[ignore = "needs PyYAML: PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit cargo test -- --include-ignored"]
fn action_yml_is_a_well_formed_composite_action() {
    let text = action_text();
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    assert!(action["name"].is_string() && action["description"].is_string());
    let inputs = action["inputs"].as_object().expect("inputs");
    for (name, spec) in inputs {
        assert!(spec["description"].is_string(), "input {name} has a description");
        assert!(spec["default"].is_string(), "input {name} has a string default");
    }
    for name in ["path", "args", "since", "sarif", "annotations"] {
        assert!(inputs.contains_key(name), "input {name}");
    }
    let outputs = action["outputs"].as_object().expect("outputs");
    for name in ["exit-code", "findings", "sarif-file"] {
        assert!(outputs.contains_key(name), "output {name}");
    }

    let steps = action["runs"]["steps"].as_array().unwrap();
    let ids: BTreeSet<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    for expr in expressions(&text) {
        let expr = expr.as_str();
        if let Some(name) = expr.strip_prefix("inputs.") {
            assert!(inputs.contains_key(name), "`${{{{ {expr} }}}}` uses an undeclared input");
        } else if let Some(rest) = expr.strip_prefix("steps.") {
            let id = rest.split('.').next().unwrap();
            assert!(ids.contains(id), "`${{{{ {expr} }}}}` names no step");
        } else {
            assert!(["github.action_path"].contains(&expr), "unexpected expression `{expr}`");
        }
    }
    for step in steps {
        if let Some(cond) = step["if"].as_str() {
            for word in cond.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                if let Some(name) = word.strip_prefix("inputs.") {
                    assert!(inputs.contains_key(name), "if: {cond}: undeclared input {name}");
                }
                if let Some(rest) = word.strip_prefix("steps.") {
                    assert!(ids.contains(rest.split('.').next().unwrap()), "if: {cond}: no such step");
                }
            }
        }
        if let Some(script) = step["run"].as_str() {
            assert_eq!(step["shell"], "bash");
            assert!(
                expressions(script).is_empty(),
                "step {}: values reach run: scripts through env:, never pasted in (script injection)",
                step["name"]
            );
        }
    }
    let upload = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@")))
        .expect("an upload-sarif step");
    assert_eq!(upload["with"]["sarif_file"], "${{ steps.scan.outputs.sarif-file }}");
    assert!(upload["if"].as_str().unwrap().contains("inputs.sarif == 'true'"));
}

#[test]
#[ignore = "needs PyYAML: PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit cargo test -- --include-ignored"]
fn findings_fail_the_job_with_annotations_and_a_sarif_upload() {
    let fx = fixture();
    fx.write("src/app/config.py", &format!("DEBUG = True\nAPI_KEY = \"{KEY_NEW}\"\n"));
    fx.write("docs/contact.md", &format!("Write to {EMAIL}.\n"));
    fx.write("src/app/util.py", "def add(a, b):\n    return a + b\n");
    fx.commit("fixture");
    let run = fx.run(&[]);

    assert_eq!(run.step("setup").exit, Some(0));
    assert!(
        fx.cargo_calls().is_empty(),
        "the promptsieve on PATH is used; cargo was run: {}",
        fx.cargo_calls()
    );
    assert_eq!(run.step("Build").exit, None, "no build when promptsieve is on PATH");
    assert!(run.step("Cache").uses.is_none(), "no cache step when promptsieve is on PATH");

    assert_eq!(run.output("exit-code"), "1");
    let results = sarif_results(&run);
    assert_eq!(run.output("findings"), results.len().to_string());
    assert_eq!(result_uris(&run), BTreeSet::from(["docs/contact.md".into(), "src/app/config.py".into()]));

    let annotate = run.step("Annotate");
    assert_eq!(annotate.exit, Some(0));
    let commands: Vec<&str> = annotate.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), results.len(), "one annotation per finding: {}", annotate.stdout);
    for c in &commands {
        assert!(
            c.starts_with("::error ") || c.starts_with("::warning ") || c.starts_with("::notice "),
            "{c}"
        );
    }
    assert!(commands.iter().any(|c| c.starts_with("::error file=src/app/config.py,line=2,")), "{commands:?}");
    assert!(!annotate.stdout.contains(KEY_NEW), "the key is masked in annotations");
    assert!(
        !fs::read_to_string(run.output("sarif-file")).unwrap().contains(KEY_NEW),
        "masked in the SARIF log"
    );

    let upload = upload(&run).expect("the SARIF upload runs");
    assert_eq!(upload["sarif_file"], run.output("sarif-file"));
    assert_eq!(upload["category"], "promptsieve");

    assert!(run.failed, "findings fail the job");
    assert_eq!(run.last().exit, Some(1), "the final step fails with exit 1");
    assert!(run.summary.contains("2 finding(s)"), "{}", run.summary);
    let status =
        Command::new("git").args(["status", "--porcelain"]).current_dir(&fx.workspace).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "", "the action leaves the workspace clean");
}

#[test]
#[ignore = "needs PyYAML: PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit cargo test -- --include-ignored"]
fn a_clean_repository_passes_and_still_uploads() {
    let fx = fixture();
    fx.write("src/lib.py", "def add(a, b):\n    return a + b\n");
    fx.write("README.md", "# A project\n\nNothing to see.\n");
    fx.commit("clean");
    let run = fx.run(&[]);
    assert!(!run.failed, "{run:#?}");
    assert_eq!(run.output("exit-code"), "0");
    assert_eq!(run.output("findings"), "0");
    assert!(sarif_results(&run).is_empty());
    assert_eq!(run.step("Annotate").exit, None, "nothing to annotate");
    // An empty log closes alerts that are gone.
    assert_eq!(upload(&run).expect("uploaded")["sarif_file"], run.output("sarif-file"));
    assert_eq!(run.last().exit, Some(0));
    assert!(run.summary.contains("nothing to report"), "{}", run.summary);

    let run = fx.run(&[("sarif", "false"), ("annotations", "false")]);
    assert!(!run.failed);
    assert!(upload(&run).is_none(), "sarif: false skips the upload");
}

#[test]
#[ignore = "needs PyYAML: PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit cargo test -- --include-ignored"]
fn report_only_errors_and_building_from_source() {
    let fx = fixture();
    fx.write(".env", &format!("OPENAI_API_KEY={KEY_NEW}\n"));
    fx.commit("a key");

    // fail-on-findings: false reports without failing.
    let run = fx.run(&[("fail-on-findings", "false"), ("annotations", "false")]);
    assert!(!run.failed, "{run:#?}");
    assert_eq!(run.output("exit-code"), "1");
    assert_eq!(run.output("findings"), "1");
    assert_eq!(run.step("Annotate").exit, None);

    // A scan error (a path that doesn't exist) fails with exit 2 and uploads nothing.
    let run = fx.run(&[("path", "missing-dir")]);
    assert_eq!(run.output("exit-code"), "2");
    assert_eq!(run.output("sarif-file"), "");
    assert!(upload(&run).is_none());
    assert!(run.failed);
    assert_eq!(run.last().exit, Some(2));

    // A bad install value fails in the first step; the result step still reports.
    let run = fx.run(&[("install", "sometimes")]);
    assert_eq!(run.step("setup").exit, Some(2));
    assert_eq!(run.step("scan").exit, None);
    assert_eq!(run.last().exit, Some(2));

    // install: source builds the action's own crate with cargo (a fake one
    // here, which links the binary under test into --root), cached by key.
    let run = fx.run(&[("install", "source")]);
    let calls = fx.cargo_calls();
    let crate_dir = workspace_root().join("crates/promptsieve-cli");
    assert!(
        calls.starts_with(&format!("install --locked --path {} --root ", crate_dir.display())),
        "cargo install of the CLI: {calls}"
    );
    let (uses, with) = run.step("Cache").uses.as_ref().expect("the cache step runs");
    assert!(uses.starts_with("actions/cache@"));
    assert!(with["key"].starts_with("promptsieve-cli-Linux-X64-"), "{with:?}");
    assert!(
        calls.trim_end().ends_with(&with["path"]),
        "cargo installs into the cached path: {calls} {with:?}"
    );
    assert_eq!(run.output("exit-code"), "1", "the built binary scanned");
    assert_eq!(run.last().exit, Some(1));
}

#[test]
#[ignore = "needs PyYAML: PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit cargo test -- --include-ignored"]
fn readme_workflow_uses_declared_inputs_and_scans_what_a_pull_request_adds() {
    let section = readme_section("action");
    let workflows: Vec<Value> = code_blocks(&section, "yaml")
        .iter()
        .map(|y| yaml_to_json(y))
        .filter(|v| v.get("jobs").is_some())
        .collect();
    assert_eq!(workflows.len(), 1, "one workflow in the README section:\n{section}");
    let workflow = &workflows[0];
    assert_eq!(
        workflow["permissions"]["security-events"], "write",
        "the SARIF upload needs security-events: write"
    );
    let declared = action()["inputs"].as_object().unwrap().clone();
    let mut uses_steps = Vec::new();
    for job in workflow["jobs"].as_object().unwrap().values() {
        for step in job["steps"].as_array().unwrap() {
            if step["uses"].as_str().is_some_and(|u| u.starts_with("promptsieve/promptsieve@")) {
                uses_steps.push(step.clone());
            }
        }
    }
    assert_eq!(uses_steps.len(), 1, "the workflow uses the action once");
    let with = string_map(&uses_steps[0]["with"]);
    for key in with.keys() {
        assert!(declared.contains_key(key), "README `with: {key}` is not an input of action.yml");
    }
    assert!(with.contains_key("since"), "the README shows the pull-request `since`");

    // A repository whose base commit already holds a key, and a pull request
    // adding another key, a test fixture key (excluded by the README's args)
    // and clean code.
    let fx = fixture();
    fx.write("old.py", &format!("API_KEY = \"{KEY_OLD}\"\n"));
    let base = fx.commit("base");
    fx.write("new.py", &format!("TOKEN = \"{KEY_NEW}\"\n"));
    fx.write("tests/fixtures/keys.txt", &format!("OPENAI_API_KEY={KEY_FIXTURE}\n"));
    fx.write("lib.py", "def add(a, b):\n    return a + b\n");
    fx.commit("pull request");

    let run_with = |event: &[(&'static str, &str)]| {
        let vars: BTreeMap<&'static str, String> = event.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let no_inputs = BTreeMap::new();
        let no_steps = BTreeMap::new();
        let ctx = Context { inputs: &no_inputs, steps: &no_steps, vars: &vars };
        let with: BTreeMap<String, String> =
            with.iter().map(|(k, v)| (k.clone(), ctx.substitute(v))).collect();
        run_action(&fx.workspace, &with, &fx.path, event)
    };

    // pull_request: only the lines the PR adds, fixtures excluded.
    let pr = run_with(&[("github.event.pull_request.base.sha", &base)]);
    assert_eq!(result_uris(&pr), BTreeSet::from(["new.py".to_string()]), "{pr:#?}");
    assert_eq!(pr.output("findings"), "1");
    assert_eq!(pr.last().exit, Some(1));

    // push: no pull_request in the event, `since` is empty: the whole tree.
    let push = run_with(&[("github.event.pull_request.base.sha", "")]);
    assert_eq!(result_uris(&push), BTreeSet::from(["new.py".to_string(), "old.py".to_string()]), "{push:#?}");
    assert_eq!(push.last().exit, Some(1));
}
