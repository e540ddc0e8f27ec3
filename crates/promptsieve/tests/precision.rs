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
//!
//! `cargo test -p promptsieve --test precision -- --nocapture` prints the
//! numbers, per entity and per group of negatives, and every miss.

use std::collections::BTreeMap;

use promptsieve::{Finding, RulePack, Scanner, ScannerBuilder};
use serde_json::Value;

const DATA: &str = include_str!("data/precision.jsonl");
const MIN_RECALL: f64 = 0.97;
const MAX_FP_RATE: f64 = 0.02;

fn is_value(f: &Finding) -> bool {
    matches!(f.category.as_str(), "pii" | "secret")
}

/// Found and expected values (positives), or flagged and all cases
/// (negatives).
#[derive(Default)]
struct Tally {
    hits: u32,
    total: u32,
}

impl Tally {
    fn add(&mut self, hit: bool) {
        self.hits += u32::from(hit);
        self.total += 1;
    }

    fn rate(&self) -> f64 {
        if self.total == 0 { 0.0 } else { f64::from(self.hits) / f64::from(self.total) }
    }
}

/// What one scanner does on the data set.
#[derive(Default)]
struct Measure {
    /// Expected values found, overall and per entity.
    recall: Tally,
    per_entity: BTreeMap<String, Tally>,
    /// Negative cases with a finding, overall and per group (the case name
    /// up to its first `-`: `placeholder`, `shape`, `pii`).
    fps: Tally,
    per_group: BTreeMap<String, Tally>,
    /// Positive cases with a finding that overlaps none of their values.
    spurious: Tally,
    /// One line per miss, false positive and spurious finding.
    report: Vec<String>,
}

impl Measure {
    fn of(scanner: &Scanner) -> Measure {
        let mut m = Measure::default();
        for line in DATA.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("a JSON line");
            m.case(scanner, &case);
        }
        m
    }

    fn case(&mut self, scanner: &Scanner, case: &Value) {
        let name = case["name"].as_str().unwrap_or("?");
        let text = case["text"].as_str().unwrap_or_default();
        let findings: Vec<Finding> = scanner.scan(text).findings.into_iter().filter(is_value).collect();
        let got = |f: &Finding| (f.entity.clone().unwrap_or_default(), text[f.span.range()].to_string());
        let all = || findings.iter().map(got).collect::<Vec<_>>();
        let want = case["expect"].as_array().cloned().unwrap_or_default();
        if want.is_empty() {
            let group = name.split('-').next().unwrap_or(name).to_string();
            self.fps.add(!findings.is_empty());
            self.per_group.entry(group).or_default().add(!findings.is_empty());
            if !findings.is_empty() {
                self.report.push(format!("FP    {name}: {:?}", all()));
            }
            return;
        }
        let mut spans = Vec::new();
        for w in &want {
            let (entity, m) = (w["entity"].as_str().unwrap_or(""), w["match"].as_str().unwrap_or(""));
            let at = text.find(m).expect("the match occurs in the text");
            spans.push(at..at + m.len());
            let hit = findings.iter().any(|f| got(f) == (entity.to_string(), m.to_string()));
            self.recall.add(hit);
            self.per_entity.entry(entity.to_string()).or_default().add(hit);
            if !hit {
                self.report.push(format!("MISS  {name}: want {entity} {m:?}, got {:?}", all()));
            }
        }
        let extra =
            findings.iter().any(|f| !spans.iter().any(|s| f.span.start < s.end && s.start < f.span.end));
        self.spurious.add(extra);
        if extra {
            self.report.push(format!("EXTRA {name}: {:?}", all()));
        }
    }

    fn summary(&self) -> String {
        let mut out = self.report.join("\n");
        let (r, f, s) = (&self.recall, &self.fps, &self.spurious);
        out += &format!(
            "\nrecall {:.3} ({}/{}), false positives {:.1}% ({}/{} negatives), spurious {:.1}% ({}/{} positives)",
            r.rate(),
            r.hits,
            r.total,
            f.rate() * 100.0,
            f.hits,
            f.total,
            s.rate() * 100.0,
            s.hits,
            s.total
        );
        for (entity, t) in &self.per_entity {
            out += &format!("\n  recall {entity:<12} {:.3} ({}/{})", t.rate(), t.hits, t.total);
        }
        for (group, t) in &self.per_group {
            out += &format!("\n  fp     {group:<12} {:.1}% ({}/{})", t.rate() * 100.0, t.hits, t.total);
        }
        out
    }

    /// Whether the numbers meet the thresholds, or why not.
    fn check(&self) -> Result<(), String> {
        let mut why = Vec::new();
        if self.recall.total < 150 || self.fps.total < 100 {
            why.push("the data set is too small".to_string());
        }
        if self.recall.rate() < MIN_RECALL {
            why.push(format!("recall {:.3} < {MIN_RECALL}", self.recall.rate()));
        }
        if self.fps.rate() > MAX_FP_RATE {
            why.push(format!("false-positive rate {:.3} > {MAX_FP_RATE}", self.fps.rate()));
        }
        if self.spurious.rate() > MAX_FP_RATE {
            why.push(format!(
                "spurious findings on {:.3} of positives > {MAX_FP_RATE}",
                self.spurious.rate()
            ));
        }
        if why.is_empty() { Ok(()) } else { Err(why.join("; ")) }
    }
}

#[test]
fn recall_and_false_positives() {
    let m = Measure::of(&Scanner::new());
    println!("{}", m.summary());
    if let Err(why) = m.check() {
        panic!("{why}\n{}", m.summary());
    }
}

/// The measure can fail both ways: a scanner without rules finds nothing,
/// and one that calls every word personal data flags every negative.
#[test]
fn the_thresholds_can_fail() {
    let none = ScannerBuilder::new().default_packs(false).build([]).unwrap();
    let m = Measure::of(&none);
    assert_eq!(m.recall.hits, 0);
    assert!(m.check().unwrap_err().contains("recall 0.000"));

    let every_word = RulePack::from_toml(
        "every-word",
        "[[rule]]\nid = \"t-word\"\ncategory = \"pii\"\nentity = \"WORD\"\ndescription = \"d\"\nscore = 0.9\n\
         regex = '''\\w+'''\n",
    )
    .unwrap();
    let all = ScannerBuilder::new().default_packs(false).build([every_word]).unwrap();
    let m = Measure::of(&all);
    assert_eq!(m.fps.hits, m.fps.total);
    assert!(m.check().unwrap_err().contains("false-positive rate 1.000"));
}
