//! The pre-commit hooks (`.pre-commit-hooks.yaml`) run by the real
//! `pre-commit` in temporary repositories, configured with the README's
//! `.pre-commit-config.yaml` snippet (the `<!-- section: pre-commit -->`
//! part of README.md) pointed at a local copy of the hooks.
//!
//! Needs the `pre-commit` package: the tests are ignored unless run with
//! `--include-ignored` and `PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit`
//! (`scripts/test` does both with the one in its virtualenv). The
//! `python` next to that executable reads the YAML (pre-commit depends on
//! PyYAML). Nothing is downloaded: `language: system` hooks need no
//! environment, and the hook repository is a local one.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{code_blocks, pre_commit_exe, python, readme_section, workspace_root, yaml_to_json};

const UPSTREAM: &str = "https://github.com/promptsieve/promptsieve";
const KEY: &str = "sk-proj-Hq3Lw8Zr1Tx6Vb9Nm2Kc5Pd7Fg4Js0Ay";

/// Runs commands with the `promptsieve` under test first on PATH, pre-commit's
/// cache in a temporary directory, and no user or system git configuration.
struct Env {
    path: OsString,
    pre_commit_home: TempDir,
    pre_commit: PathBuf,
}

impl Env {
    fn new() -> Env {
        let bin = Path::new(env!("CARGO_BIN_EXE_promptsieve")).parent().unwrap().to_path_buf();
        let mut dirs = vec![bin];
        dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        Env {
            path: std::env::join_paths(dirs).unwrap(),
            pre_commit_home: tempfile::tempdir().unwrap(),
            pre_commit: pre_commit_exe(),
        }
    }

    fn command(&self, program: &Path, dir: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(dir)
            .env("PATH", &self.path)
            .env("PRE_COMMIT_HOME", self.pre_commit_home.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("SKIP")
            .env_remove("PRE_COMMIT")
            .stdin(Stdio::null());
        for var in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"] {
            c.env_remove(var);
        }
        c
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(Path::new("git"), dir).args(args).output().expect("run git")
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git(dir, args);
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn pre_commit(&self, dir: &Path, args: &[&str]) -> (i32, String) {
        let out = self.command(&self.pre_commit, dir).args(args).output().expect("run pre-commit");
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    fn repo(&self) -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        self.git_ok(dir.path(), &["init", "-q", "-b", "main"]);
        self.git_ok(dir.path(), &["config", "user.email", "test@example.invalid"]);
        self.git_ok(dir.path(), &["config", "user.name", "promptsieve tests"]);
        dir
    }
}

fn write(root: &Path, rel: &str, contents: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

/// A git repository holding this checkout's `.pre-commit-hooks.yaml` (as
/// it is in the work tree, committed or not) in one commit: what pre-commit
/// clones for `language: system` hooks. Returns it and the commit.
fn hook_repo(env: &Env) -> (TempDir, String) {
    let dir = env.repo();
    fs::copy(workspace_root().join(".pre-commit-hooks.yaml"), dir.path().join(".pre-commit-hooks.yaml"))
        .unwrap();
    env.git_ok(dir.path(), &["add", ".pre-commit-hooks.yaml"]);
    env.git_ok(dir.path(), &["commit", "-q", "-m", "hooks"]);
    let rev = env.git_ok(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();
    (dir, rev)
}

/// The README's `.pre-commit-config.yaml`, its promptsieve entries pointed
/// at `repo`/`rev`. Returns the config and the hook ids it uses.
fn readme_config(python: &Path, repo: &Path, rev: &str) -> (Value, Vec<String>) {
    let section = readme_section("pre-commit");
    let configs: Vec<Value> = code_blocks(&section, "yaml")
        .iter()
        .map(|y| yaml_to_json(python, y))
        .filter(|v| v.get("repos").is_some())
        .collect();
    assert_eq!(configs.len(), 1, "one .pre-commit-config.yaml block in the README section:\n{section}");
    let mut config = configs.into_iter().next().unwrap();
    let mut ids = Vec::new();
    for entry in config["repos"].as_array_mut().expect("repos is a list") {
        if entry["repo"] != UPSTREAM {
            continue;
        }
        assert!(entry["rev"].is_string(), "the README pins a rev: {entry}");
        entry["repo"] = repo.to_str().unwrap().into();
        entry["rev"] = rev.into();
        for hook in entry["hooks"].as_array().expect("hooks is a list") {
            ids.push(hook["id"].as_str().expect("hook id").to_string());
        }
    }
    assert!(!ids.is_empty(), "the README config uses a hook of {UPSTREAM}");
    (config, ids)
}

#[test]
#[ignore = "needs pre-commit: PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit cargo test -- --include-ignored"]
fn hooks_file_declares_the_documented_hooks() {
    let exe = pre_commit_exe();
    let python = python(&exe);
    let text = fs::read_to_string(workspace_root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks = yaml_to_json(&python, &text);
    let hooks = hooks.as_array().expect("a list of hooks");
    let by_id = |id: &str| hooks.iter().find(|h| h["id"] == id).unwrap_or_else(|| panic!("no hook {id}"));
    for h in hooks {
        for key in ["id", "name", "entry", "language"] {
            assert!(h[key].is_string(), "hook lacks {key}: {h}");
        }
        assert_eq!(h["language"], "system", "{h}");
        assert!(h["entry"].as_str().unwrap().starts_with("promptsieve scan"), "{h}");
    }
    let staged = by_id("promptsieve");
    assert_eq!(staged["entry"], "promptsieve scan --staged");
    assert_eq!(staged["pass_filenames"], false);
    assert_eq!(staged["always_run"], true);
    assert_eq!(staged["stages"], serde_json::json!(["pre-commit"]));
    let files = by_id("promptsieve-files");
    assert_eq!(files["entry"], "promptsieve scan");
    assert_ne!(files["pass_filenames"], false);

    let (_, ids) = readme_config(&python, Path::new("/nowhere"), "0");
    for id in ids {
        by_id(&id);
    }

    // pre-commit's own check of a hooks file.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&exe)
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .current_dir(workspace_root())
        .env("PRE_COMMIT_HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs pre-commit: PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit cargo test -- --include-ignored"]
fn staged_hook_blocks_secrets_in_the_lines_a_commit_adds() {
    let env = Env::new();
    let python = python(&env.pre_commit);
    let (hooks, rev) = hook_repo(&env);
    let (config, ids) = readme_config(&python, hooks.path(), &rev);
    assert_eq!(ids, ["promptsieve"], "the README shows the staged hook");

    let work = env.repo();
    let w = work.path();
    // JSON is YAML: pre-commit reads it as the config.
    write(w, ".pre-commit-config.yaml", &serde_json::to_string_pretty(&config).unwrap());
    write(w, "README.txt", "A repository.\n");
    env.git_ok(w, &["add", "-A"]);
    env.git_ok(w, &["commit", "-q", "-m", "init"]);

    let run = |what: &str| {
        let (code, out) = env.pre_commit(w, &["run", "--color", "never"]);
        eprintln!("--- pre-commit run, {what}: exit {code}\n{out}");
        (code, out)
    };

    // A staged secret fails, naming the file, the line and the rule; masked.
    write(w, "app/settings.py", &format!("DEBUG = True\nAPI_KEY = \"{KEY}\"\n"));
    env.git_ok(w, &["add", "app/settings.py"]);
    let (code, out) = run("a staged secret");
    assert_ne!(code, 0, "a staged secret fails the hook");
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("app/settings.py:2:12"), "the report names the file and line: {out}");
    assert!(out.contains("secret-openai"), "{out}");
    assert!(!out.contains(KEY), "the key is masked: {out}");

    // A clean change passes.
    env.git_ok(w, &["rm", "-q", "--cached", "app/settings.py"]);
    fs::remove_file(w.join("app/settings.py")).unwrap();
    write(w, "app/util.py", "def add(a, b):\n    return a + b\n");
    env.git_ok(w, &["add", "app/util.py"]);
    let (code, out) = run("a clean change");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Passed"), "{out}");

    // The same secret, allowed inline, passes.
    write(w, "app/settings.py", &format!("API_KEY = \"{KEY}\"  # promptsieve:allow (test fixture)\n"));
    env.git_ok(w, &["add", "app/settings.py"]);
    let (code, out) = run("an allowed secret");
    assert_eq!(code, 0, "{out}");

    // Installed as the git hook, it stops `git commit` ...
    let (code, out) = env.pre_commit(w, &["install"]);
    assert_eq!(code, 0, "{out}");
    env.git_ok(w, &["commit", "-q", "-m", "util and an allowed fixture"]);
    write(w, "app/keys.env", &format!("OPENAI_API_KEY={KEY}\n"));
    env.git_ok(w, &["add", "app/keys.env"]);
    let head = env.git_ok(w, &["rev-parse", "HEAD"]);
    let commit = env.git(w, &["commit", "-q", "-m", "keys"]);
    let out =
        format!("{}{}", String::from_utf8_lossy(&commit.stdout), String::from_utf8_lossy(&commit.stderr));
    assert!(!commit.status.success(), "git commit went through with a secret: {out}");
    assert!(out.contains("app/keys.env:1:16"), "{out}");
    assert_eq!(env.git_ok(w, &["rev-parse", "HEAD"]), head, "no commit was made");

    // ... but a secret committed anyway (--no-verify) doesn't block later,
    // unrelated commits: only the lines a commit adds are scanned.
    env.git_ok(w, &["commit", "-q", "--no-verify", "-m", "keys anyway"]);
    write(w, "app/util.py", "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n");
    env.git_ok(w, &["add", "app/util.py"]);
    let commit = env.git(w, &["commit", "-q", "-m", "sub"]);
    assert!(commit.status.success(), "{}", String::from_utf8_lossy(&commit.stderr));
}

#[test]
#[ignore = "needs pre-commit: PROMPTSIEVE_PRE_COMMIT=/path/to/pre-commit cargo test -- --include-ignored"]
fn files_hook_scans_whole_files_with_all_files() {
    let env = Env::new();
    let (hooks, _) = hook_repo(&env);
    let hooks_path = hooks.path().to_str().unwrap();
    let work = env.repo();
    let w = work.path();
    write(w, "docs/contact.md", "Questions? Write to ana.lopez@example.org.\n");
    write(w, "src/lib.py", "def add(a, b):\n    return a + b\n");
    env.git_ok(w, &["add", "-A"]);
    env.git_ok(w, &["commit", "-q", "-m", "init"]);

    let (code, out) =
        env.pre_commit(w, &["try-repo", hooks_path, "promptsieve-files", "--all-files", "--color", "never"]);
    eprintln!("--- try-repo promptsieve-files: exit {code}\n{out}");
    assert_ne!(code, 0, "committed personal data fails --all-files");
    assert!(out.contains("docs/contact.md:1:21"), "{out}");
    assert!(out.contains("pii-email"), "{out}");

    fs::write(w.join("docs/contact.md"), "Questions? Open an issue.\n").unwrap();
    env.git_ok(w, &["commit", "-q", "-am", "no address"]);
    let (code, out) =
        env.pre_commit(w, &["try-repo", hooks_path, "promptsieve-files", "--all-files", "--color", "never"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Passed"), "{out}");
}
