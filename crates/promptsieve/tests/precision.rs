//! Recall and false positives of the personal-data and secret rules on
//! `tests/data/precision.jsonl` (written by `scripts/dev/make-precision-data.py`):
//! provider tokens and credential fields where they leak, placeholders and
//! look-alikes that must not be reported, and personal data in the shapes
//! that used to slip through.
//!
//! A positive counts as found when a finding of its entity covers exactly
//! the expected text. A false positive is a negative case with any
//! personal-data or secret finding; findings on a positive case that overlap
//! none of its expected values are counted as spurious.

use promptsieve::{Finding, Scanner};
use serde_json::Value;

const DATA: &str = include_str!("data/precision.jsonl");
const MIN_RECALL: f64 = 0.97;
const MAX_FP_RATE: f64 = 0.02;

fn is_value(f: &Finding) -> bool {
    matches!(f.category.as_str(), "pii" | "secret")
}

#[test]
fn recall_and_false_positives() {
    let scanner = Scanner::new();
    let (mut expected, mut found, mut negatives, mut fps, mut positives, mut spurious) = (0, 0, 0, 0, 0, 0);
    let mut report = Vec::new();
    for line in DATA.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("a JSON line");
        let name = case["name"].as_str().unwrap_or("?");
        let text = case["text"].as_str().unwrap_or_default();
        let findings: Vec<Finding> = scanner.scan(text).findings.into_iter().filter(is_value).collect();
        let want = case["expect"].as_array().cloned().unwrap_or_default();
        let got =
            |f: &Finding| (f.entity.clone().unwrap_or_default(), text[f.span.start..f.span.end].to_string());
        if want.is_empty() {
            negatives += 1;
            if !findings.is_empty() {
                fps += 1;
                report.push(format!("FP    {name}: {:?}", findings.iter().map(got).collect::<Vec<_>>()));
            }
            continue;
        }
        positives += 1;
        let mut spans = Vec::new();
        for w in &want {
            let (entity, m) = (w["entity"].as_str().unwrap_or(""), w["match"].as_str().unwrap_or(""));
            expected += 1;
            let at = text.find(m).expect("the match occurs in the text");
            spans.push(at..at + m.len());
            if findings.iter().any(|f| got(f) == (entity.to_string(), m.to_string())) {
                found += 1;
            } else {
                report.push(format!(
                    "MISS  {name}: want {entity} {m:?}, got {:?}",
                    findings.iter().map(got).collect::<Vec<_>>()
                ));
            }
        }
        if findings.iter().any(|f| !spans.iter().any(|s| f.span.start < s.end && s.start < f.span.end)) {
            spurious += 1;
            report.push(format!("EXTRA {name}: {:?}", findings.iter().map(got).collect::<Vec<_>>()));
        }
    }
    let recall = f64::from(found) / f64::from(expected);
    let fp_rate = f64::from(fps) / f64::from(negatives);
    let spurious_rate = f64::from(spurious) / f64::from(positives);
    println!("{}", report.join("\n"));
    println!(
        "recall {recall:.3} ({found}/{expected}), false positives {:.1}% ({fps}/{negatives} negatives), \
         spurious {:.1}% ({spurious}/{positives} positives)",
        fp_rate * 100.0,
        spurious_rate * 100.0
    );
    assert!(expected >= 150 && negatives >= 100, "the data set is too small");
    assert!(recall >= MIN_RECALL, "recall {recall:.3} < {MIN_RECALL}");
    assert!(fp_rate <= MAX_FP_RATE, "false-positive rate {fp_rate:.3} > {MAX_FP_RATE}");
    assert!(
        spurious_rate <= MAX_FP_RATE,
        "spurious findings on {spurious_rate:.3} of positives > {MAX_FP_RATE}"
    );
}
