//! `promptsieve train-names` is deterministic: the same corpus gives the
//! same weights, byte for byte, and cross-validation prints a row per
//! source. Runs on a small generated corpus always, and on a slice of the
//! real names corpus (`../shared/corpus/names/train.jsonl`, or
//! `PROMPTSIEVE_NAMES_CORPUS`) when it is there.

use std::path::Path;
use std::process::Command;

/// A small span-labelled corpus in two sources: names after titles, verbs
/// and greetings, and capitalised words that are not names.
fn generated(dir: &Path) -> std::path::PathBuf {
    let first = ["Anna", "Jonas", "Maria", "Pedro", "Ingrid", "Tomasz", "Aiko", "Liam"];
    let last = ["Berg", "Kowalski", "Silva", "Novak", "Okafor", "Lindqvist", "Moreau", "Tanaka"];
    let frames: [(&str, &str); 6] = [
        ("Dear {}, thanks for the update.", "letters"),
        ("The report was written by {} last week.", "news"),
        ("Yesterday {} said the plan in Paris was fine.", "news"),
        ("Please forward this to Dr. {} before Monday.", "letters"),
        ("Ask {} about the Berlin office.", "letters"),
        ("{} met the team at Acme in Lisbon.", "news"),
    ];
    let mut rows = String::new();
    for (i, f) in first.iter().enumerate() {
        for (j, (frame, source)) in frames.iter().enumerate() {
            let name =
                if (i + j) % 2 == 0 { format!("{f} {}", last[(i + j) % last.len()]) } else { f.to_string() };
            let text = frame.replace("{}", &name);
            let start = text[..text.find(&name).unwrap()].chars().count();
            let end = start + name.chars().count();
            rows.push_str(&format!(
                "{}\n",
                serde_json::json!({"text": text, "spans": [{"start": start, "end": end, "label": "PERSON"}], "source": source})
            ));
        }
    }
    rows.push_str(&format!(
        "{}\n",
        serde_json::json!({"text": "The Lisbon office opens on Monday.", "spans": [], "source": "news"})
    ));
    let path = dir.join("names.jsonl");
    std::fs::write(&path, rows).unwrap();
    path
}

fn train(corpus: &[&Path], out: &Path, extra: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsieve"));
    cmd.arg("train-names").args(corpus).arg("--out").arg(out).args(extra);
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn training_twice_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = generated(dir.path());
    let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    let report = train(&[&corpus], &a, &["--folds", "2", "--bits", "14", "--epochs", "3"]);
    train(&[&corpus], &b, &["--folds", "2", "--bits", "14", "--epochs", "3"]);
    let bytes = std::fs::read(&a).unwrap();
    assert!(bytes.starts_with(b"PSNAMES1"));
    assert_eq!(bytes, std::fs::read(&b).unwrap());
    // A row per source, and the pooled line per corpus file.
    assert!(report.contains("letters") && report.contains("news"), "{report}");
    assert!(report.contains("pooled:"), "{report}");
    // Another seed shuffles otherwise, and so trains other weights.
    let c = dir.path().join("c.bin");
    train(&[&corpus], &c, &["--no-cv", "--offset", "0.1", "--bits", "14", "--epochs", "3", "--seed", "5"]);
    assert!(std::fs::read(&c).unwrap().starts_with(b"PSNAMES1"));
}

#[test]
fn training_on_a_slice_of_the_real_corpus_is_deterministic() {
    let path = std::env::var("PROMPTSIEVE_NAMES_CORPUS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/names/train.jsonl").into()
    });
    if !Path::new(&path).exists() {
        eprintln!("names corpus not found at {path}: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    let args = ["--no-cv", "--offset", "0.1", "--limit", "3000", "--bits", "16", "--epochs", "2"];
    train(&[Path::new(&path)], &a, &args);
    train(&[Path::new(&path)], &b, &args);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}
