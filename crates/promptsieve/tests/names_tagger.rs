//! The learned person-name tagger's switch: off, PERSON findings are the
//! dictionary detector's, exactly as before the tagger existed; on or off,
//! no other entity's findings change.
//!
//! The check runs on the PII dev set's prompts: always on the slice kept in
//! the repository (`benches/data/pii-dense.txt`, every 6th row), and on the
//! whole set (`../shared/corpus/pii/dev.jsonl`, or `PROMPTSIEVE_PII_DEV`)
//! when it is there. The digests were recorded with the dictionary detector
//! as it stood before the tagger (commit 614c48d), by this same code.

use promptsieve::{Finding, Scanner, ScannerBuilder};
use sha2::{Digest, Sha256};

/// sha256 of the dictionary detector's PERSON findings (see [`digest`]) on
/// `benches/data/pii-dense.txt`.
const DENSE_DIGEST: &str = "b02c560a8bf6bff52634a9d4c5c7c049ee7cb82b64793f1216196f1abf67b963";
/// The same on the whole PII dev set.
const DEV_DIGEST: &str = "6c01facb8f39b4c6da0913602fd33ae7ec7516c51108cdf18c8c8b473b726e16";

fn dense() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../benches/data/pii-dense.txt");
    std::fs::read_to_string(path).expect("benches/data/pii-dense.txt").lines().map(String::from).collect()
}

/// The PII dev set's texts, when the corpus is there.
fn dev() -> Option<Vec<String>> {
    let path = std::env::var("PROMPTSIEVE_PII_DEV").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/pii/dev.jsonl").into()
    });
    let data = std::fs::read_to_string(&path).ok()?;
    Some(
        data.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("a JSON row");
                v["text"].as_str().expect("a text").to_string()
            })
            .collect(),
    )
}

fn person(f: &Finding) -> bool {
    f.entity.as_deref() == Some("PERSON")
}

/// sha256 over one line per PERSON finding: row, start, end, score, rule.
fn digest(scanner: &Scanner, texts: &[String]) -> String {
    let mut h = Sha256::new();
    for (i, t) in texts.iter().enumerate() {
        for f in scanner.scan(t).findings.iter().filter(|f| person(f)) {
            h.update(format!("{i}\t{}\t{}\t{}\t{}\n", f.span.start, f.span.end, f.score, f.rule));
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn dictionaries() -> Scanner {
    ScannerBuilder::new().tagger(false).build([]).expect("the default packs build")
}

#[test]
fn tagger_off_reports_the_dictionary_detector_unchanged() {
    let off = dictionaries();
    assert_eq!(digest(&off, &dense()), DENSE_DIGEST);
    match dev() {
        Some(texts) => assert_eq!(digest(&off, &texts), DEV_DIGEST),
        None => eprintln!("PII dev set not found: checked benches/data/pii-dense.txt only"),
    }
}

#[test]
fn the_tagger_changes_no_other_entity() {
    let (on, off) = (Scanner::new(), dictionaries());
    let texts = dev().unwrap_or_else(dense);
    for t in &texts {
        let others = |s: &Scanner| s.scan(t).findings.into_iter().filter(|f| !person(f)).collect::<Vec<_>>();
        assert_eq!(others(&on), others(&off), "{t:?}");
    }
}
