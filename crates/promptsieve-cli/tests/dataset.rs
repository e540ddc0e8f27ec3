//! `scan --jsonl` and `redact --jsonl`: order, fields, vaults, malformed
//! lines, and what reaches standard error.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_promptsieve");

fn run_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promptsieve");
    // A run that reads a file may exit before taking its standard input.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("wait")
}

fn stdout(out: &Output) -> &str {
    std::str::from_utf8(&out.stdout).expect("UTF-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn lines(out: &Output) -> Vec<Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn jsonl(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// Files in `dir` other than `keep`: the temporary files a run leaves.
fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn many_records_on_many_threads_keep_their_order() {
    let d = dir();
    let records: Vec<Value> = (0..5000)
        .map(|i| {
            let text =
                if i % 3 == 0 { format!("row {i}: mail user{i}@example.com") } else { format!("row {i}") };
            json!({ "id": i, "text": text })
        })
        .collect();
    std::fs::write(d.path().join("in.jsonl"), jsonl(&records)).unwrap();

    let out = run_in(d.path(), &["redact", "--jsonl", "in.jsonl", "--threads", "4", "-q"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 5000);
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r["id"], i, "record {i} out of order");
        let want = if i % 3 == 0 { format!("row {i}: mail [EMAIL_1]") } else { format!("row {i}") };
        assert_eq!(r["text"], want.as_str());
    }
    // A record with nothing to replace is copied as it came.
    assert_eq!(stdout(&out).lines().nth(1), Some(records[1].to_string().as_str()));

    let out = run_in(d.path(), &["scan", "--jsonl", "in.jsonl", "--threads", "4", "-q"], b"");
    assert_eq!(out.status.code(), Some(1), "e-mails make the exit status 1");
    let got = lines(&out);
    assert_eq!(got.len(), 5000);
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r["line"], i + 1);
        assert_eq!(r["findings"].as_array().unwrap().len(), usize::from(i % 3 == 0), "line {}", i + 1);
    }
}

fn chat(id: u32, email: &str) -> Value {
    json!({
        "id": id,
        "meta": { "split": "train", "tags": ["a", "b"] },
        "messages": [
            { "role": "system", "content": "You are a helpful assistant." },
            { "role": "user", "content": format!("I am {email}, write to me") },
            { "role": "assistant", "content": null,
              "tool_calls": [{ "id": "t1", "type": "function", "function": { "name": "lookup", "arguments": "{}" } }] },
            { "role": "assistant", "content": format!("Sure, {email}. Anything else?") },
            { "role": "user", "content": [
                { "type": "text", "text": "and cc bob@example.org please" },
                { "type": "image_url", "image_url": { "url": "https://x.test/a.png?to=eve@example.org" } },
            ] },
        ],
        "score": 0.5,
    })
}

#[test]
fn messages_field_redacts_every_turn_with_one_numbering_per_record() {
    let d = dir();
    let input = jsonl(&[chat(1, "ana@example.org"), chat(2, "carl@example.org")]);
    let out =
        run_in(d.path(), &["redact", "--jsonl", "--field", "messages[].content", "-q"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 2);
    for (r, id) in got.iter().zip([1, 2]) {
        let mut want = chat(id, "[EMAIL_1]");
        want["messages"][4]["content"][0]["text"] = "and cc [EMAIL_2] please".into();
        assert_eq!(r, &want, "every other key and the image part pass through");
    }
    // Key order is kept.
    let keys: Vec<&str> = got[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "meta", "messages", "score"]);
}

#[test]
fn scan_of_messages_tags_each_finding_with_its_message() {
    let d = dir();
    let input = jsonl(&[chat(1, "ana@example.org")]);
    let out = run_in(d.path(), &["scan", "--jsonl", "--field", "messages[].content", "-q"], input.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let report = &lines(&out)[0];
    assert_eq!(report["line"], 1);
    assert_eq!(report["flagged"], false);
    let findings = report["findings"].as_array().unwrap();
    let at: Vec<(u64, Option<u64>, &str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["message"].as_u64().unwrap(),
                f["part"].as_u64(),
                f["role"].as_str().unwrap(),
                f["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            (1, None, "user", "ana@example.org"),
            (3, None, "assistant", "ana@example.org"),
            (4, Some(0), "user", "bob@example.org"),
        ]
    );
    // Offsets count in the message's own text.
    let f = &findings[2];
    let text = "and cc bob@example.org please";
    assert_eq!(&text[f["start"].as_u64().unwrap() as usize..f["end"].as_u64().unwrap() as usize], f["text"]);
}

#[test]
fn nested_field_is_a_dotted_path() {
    let d = dir();
    let input = jsonl(&[
        json!({ "a": { "b": "mail ana@example.org", "c": 1 }, "z": true }),
        json!({ "a": { "b": "nothing here" }, "text": "bob@example.org is not the field" }),
    ]);
    let out = run_in(d.path(), &["redact", "--jsonl", "--field", "a.b", "-q"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got[0], json!({ "a": { "b": "mail [EMAIL_1]", "c": 1 }, "z": true }));
    assert_eq!(got[1]["text"], "bob@example.org is not the field");

    let out = run_in(d.path(), &["scan", "--jsonl", "--field", "a.x"], input.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(r#"line 1: no field "a.x""#), "{}", stderr(&out));
}

#[test]
fn vault_by_conversation_shares_numbering_and_restores() {
    let d = dir();
    let input = jsonl(&[
        json!({ "conversation_id": "c1", "text": "I am ana@example.org" }),
        json!({ "conversation_id": 7, "text": "I am carl@example.org" }),
        json!({ "conversation_id": "c1", "text": "cc bob@example.org, and ana@example.org again" }),
        json!({ "conversation_id": "c3", "text": "nothing to hide" }),
    ]);
    let args = ["redact", "--jsonl", "--vault-by", "conversation_id", "--vault", "vaults.json", "-q"];
    let out = run_in(d.path(), &args, input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let texts: Vec<String> = lines(&out).iter().map(|r| r["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        texts,
        ["I am [EMAIL_1]", "I am [EMAIL_1]", "cc [EMAIL_2], and [EMAIL_1] again", "nothing to hide"]
    );

    let vaults: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("vaults.json")).unwrap()).unwrap();
    let ids: Vec<&str> = vaults.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(ids, ["c1", "7"], "conversations with nothing replaced are left out");
    std::fs::write(d.path().join("c1.json"), vaults["c1"].to_string()).unwrap();
    let out = run_in(d.path(), &["restore", "--vault", "c1.json"], b"Wrote to [EMAIL_2] and [EMAIL_1].");
    assert_eq!(stdout(&out), "Wrote to bob@example.org and ana@example.org.");

    // A later part of the dataset continues each conversation's numbering.
    let more = jsonl(&[json!({ "conversation_id": 7, "text": "new dan@example.org, old carl@example.org" })]);
    let out = run_in(d.path(), &args, more.as_bytes());
    assert_eq!(lines(&out)[0]["text"], "new [EMAIL_2], old [EMAIL_1]");
    let vaults: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("vaults.json")).unwrap()).unwrap();
    assert_eq!(vaults["7"]["entries"].as_array().unwrap().len(), 2);
    assert_eq!(vaults["c1"]["entries"].as_array().unwrap().len(), 2);
    assert_eq!(leftovers(d.path(), &["vaults.json", "c1.json"]), Vec::<String>::new());
}

#[test]
fn vault_without_vault_by_is_keyed_by_line_number() {
    let d = dir();
    let input = "{\"text\": \"ana@example.org\"}\n\n{\"text\": \"clean\"}\n{\"text\": \"bob@example.org\"}\n";
    let out = run_in(d.path(), &["redact", "--jsonl", "--vault", "v.json", "-q"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let texts: Vec<Value> = lines(&out).iter().map(|r| r["text"].clone()).collect();
    assert_eq!(texts, ["[EMAIL_1]", "clean", "[EMAIL_1]"]);
    let vaults: Value = serde_json::from_slice(&std::fs::read(d.path().join("v.json")).unwrap()).unwrap();
    let ids: Vec<&str> = vaults.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(ids, ["1", "4"]);
    assert_eq!(vaults["4"]["entries"][0]["value"], "bob@example.org");
}

#[test]
fn a_single_text_vault_is_not_overwritten() {
    let d = dir();
    let single = r#"{"entries":[{"entity":"EMAIL","value":"a@b.example.com","placeholder":"[EMAIL_1]"}]}"#;
    std::fs::write(d.path().join("v.json"), single).unwrap();
    let out =
        run_in(d.path(), &["redact", "--jsonl", "--vault", "v.json"], b"{\"text\": \"x@example.org\"}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("single text"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(d.path().join("v.json")).unwrap(), single);
}

#[test]
fn malformed_line_stops_the_run_before_any_output() {
    let d = dir();
    let input =
        "{\"text\": \"ana@example.org\"}\n{\"text\": \"fine\"}\n{\"text\": 3}\n{\"text\": \"fine\"}\n";
    std::fs::write(d.path().join("in.jsonl"), input).unwrap();
    for args in [
        &["redact", "--jsonl", "in.jsonl"][..],
        &["scan", "--jsonl"],
        &["redact", "--jsonl", "--threads", "1"],
    ] {
        let out = run_in(d.path(), args, input.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(r#"line 3: field "text" is a number, not a string"#), "{err}");
        assert!(err.contains("nothing was written"), "{err}");
    }
    // --output keeps the previous file, and no temporary file is left.
    std::fs::write(d.path().join("out.jsonl"), "before\n").unwrap();
    let out =
        run_in(d.path(), &["redact", "--jsonl", "in.jsonl", "-o", "out.jsonl", "--vault", "v.json"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(d.path().join("out.jsonl")).unwrap(), "before\n");
    assert_eq!(leftovers(d.path(), &["in.jsonl", "out.jsonl"]), Vec::<String>::new());
}

#[test]
fn skip_bad_skips_and_counts_malformed_lines() {
    let d = dir();
    let input = "{\"text\": \"ana@example.org\"}\nnot json\n[1, 2]\n{\"id\": 4}\n{\"text\": \"fine\"}\n";
    let out = run_in(d.path(), &["redact", "--jsonl", "--skip-bad"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let texts: Vec<Value> = lines(&out).iter().map(|r| r["text"].clone()).collect();
    assert_eq!(texts, ["[EMAIL_1]", "fine"]);
    let err = stderr(&out);
    assert!(err.contains("line 2: not JSON"), "{err}");
    assert!(err.contains("line 3: not a JSON object but a list"), "{err}");
    assert!(err.contains(r#"line 4: no field "text""#), "{err}");
    assert!(err.contains("skipped 3 malformed lines"), "{err}");

    let out = run_in(d.path(), &["scan", "--jsonl", "--skip-bad", "-q"], input.as_bytes());
    assert_eq!(out.status.code(), Some(1), "the e-mail still counts");
    assert_eq!(lines(&out).len(), 2);
}

#[test]
fn output_file_is_written_whole() {
    let d = dir();
    let input = "\u{FEFF}{\"text\": \"ana@example.org\"}\r\n\r\n{\"text\": \"fine\"}";
    std::fs::write(d.path().join("in.jsonl"), input).unwrap();
    let out = run_in(d.path(), &["redact", "--jsonl", "in.jsonl", "--output", "out.jsonl", "-q"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(d.path().join("out.jsonl")).unwrap();
    assert_eq!(written, "{\"text\":\"[EMAIL_1]\"}\n{\"text\": \"fine\"}\n");
    // In place: the input is read whole before it is replaced.
    let out = run_in(d.path(), &["redact", "--jsonl", "out.jsonl", "-o", "out.jsonl", "-q"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(d.path().join("out.jsonl")).unwrap(), written);
    assert_eq!(leftovers(d.path(), &["in.jsonl", "out.jsonl"]), Vec::<String>::new());
}

#[test]
fn usage_errors_exit_2() {
    let d = dir();
    let input = b"{\"text\": \"x\", \"c\": 1}\n";
    for args in [
        &["scan", "--jsonl", "--vault-by", "c"][..],
        &["scan", "--jsonl", "--field", "a[].text"],
        &["redact", "--jsonl", "--field", "a..b"],
        &["redact", "--jsonl", "missing.jsonl"],
    ] {
        let out = run_in(d.path(), args, input);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn stderr_that_is_not_a_terminal_gets_no_progress() {
    let d = dir();
    let input =
        jsonl(&(0..300).map(|i| json!({ "text": format!("row {i} ana@example.org") })).collect::<Vec<_>>());
    let out = run_in(d.path(), &["redact", "--jsonl", "--quiet"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "", "--quiet writes nothing on standard error");

    let out = run_in(d.path(), &["scan", "--jsonl"], input.as_bytes());
    let err = stderr(&out);
    assert!(!err.contains('\r') && !err.contains('\x1b'), "no bar drawn: {err:?}");
    let summary: Vec<&str> = err.lines().collect();
    assert!(summary[0].starts_with("promptsieve: 300 records in "), "{err}");
    assert!(summary[0].contains("records/s"), "{err}");
    assert_eq!(summary[1], "promptsieve: findings: EMAIL 300");
    assert_eq!(summary.len(), 2, "{err}");
}

#[test]
fn a_terminal_gets_a_progress_bar() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed, so there is no pseudo-terminal to draw on");
        return;
    }
    let d = dir();
    let input =
        jsonl(&(0..100).map(|i| json!({ "text": format!("row {i} ana@example.org") })).collect::<Vec<_>>());
    std::fs::write(d.path().join("in.jsonl"), input).unwrap();
    // Standard output goes to a file, standard error to the terminal.
    let cmd = format!("'{BIN}' redact --jsonl in.jsonl --threads 1 > out.jsonl");
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .current_dir(d.path())
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    let screen = String::from_utf8_lossy(&out.stdout);
    if !out.status.success()
        && format!("{screen}{}", String::from_utf8_lossy(&out.stderr)).contains("pseudo-terminal")
    {
        eprintln!("skipped: `script` could not open a pseudo-terminal here");
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{screen}{}", String::from_utf8_lossy(&out.stderr));
    assert!(screen.contains("redacting ["), "{screen:?}");
    assert!(screen.contains("records/s"), "{screen:?}");
    assert!(screen.contains("ETA"), "{screen:?}");
    assert!(screen.contains("100%"), "the bar is left at its end: {screen:?}");
    assert!(screen.contains("promptsieve: 100 records in "), "{screen:?}");
    assert_eq!(std::fs::read_to_string(d.path().join("out.jsonl")).unwrap().lines().count(), 100);

    // --quiet: nothing, even on a terminal.
    let cmd = format!("'{BIN}' redact --jsonl in.jsonl -q > out.jsonl");
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .current_dir(d.path())
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
}
