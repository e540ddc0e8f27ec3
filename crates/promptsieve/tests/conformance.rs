//! Runs the language-neutral conformance suite in `tests/conformance/`.

use promptsieve::{Finding, Scanner};
use serde_json::Value;

const FILES: &[(&str, &str)] = &[
    ("injection.json", include_str!("../../../tests/conformance/injection.json")),
    ("hidden.json", include_str!("../../../tests/conformance/hidden.json")),
    ("derived.json", include_str!("../../../tests/conformance/derived.json")),
    ("pii.json", include_str!("../../../tests/conformance/pii.json")),
];

fn matches(want: &Value, got: &Finding, text: &str) -> bool {
    if want["category"].as_str() != Some(got.category.as_str()) {
        return false;
    }
    if let Some(rule) = want["rule"].as_str()
        && rule != got.rule
    {
        return false;
    }
    if let Some(span) = want["span"].as_array() {
        let s = span[0].as_u64().unwrap_or(u64::MAX) as usize;
        let e = span[1].as_u64().unwrap_or(u64::MAX) as usize;
        if (s, e) != (got.span.start, got.span.end) {
            return false;
        }
        // The native slice must be the matched text.
        assert_eq!(Some(&text[s..e]), want["match"].as_str(), "slice of {:?}", got.rule);
    }
    true
}

#[test]
fn conformance_suite() {
    let scanner = Scanner::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for (file, src) in FILES {
        let cases: Vec<Value> = serde_json::from_str(src).unwrap_or_else(|e| panic!("{file}: {e}"));
        for case in cases {
            n += 1;
            let name = case["name"].as_str().unwrap_or("?");
            let text = case["text"].as_str().unwrap_or_default();
            let report = scanner.scan(text);
            for f in &report.findings {
                assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
            }
            if let Some(flagged) = case["flagged"].as_bool()
                && flagged != report.flagged
            {
                failures.push(format!(
                    "{file}/{name}: flagged {} (risk {}), want {flagged}",
                    report.flagged, report.risk
                ));
            }
            let wants = case["findings"].as_array().cloned().unwrap_or_default();
            for want in &wants {
                if !report.findings.iter().any(|g| matches(want, g, text)) {
                    failures.push(format!("{file}/{name}: missing {want}; got {:?}", report.findings));
                }
            }
            if let Some(want) = case["redacted"].as_str() {
                let r = scanner.redact(text);
                if r.text != want {
                    failures.push(format!("{file}/{name}: redacted {:?}, want {want:?}", r.text));
                }
                if r.restore(&r.text) != text {
                    failures.push(format!("{file}/{name}: restore does not give the text back"));
                }
            }
            if case["exact"].as_bool() == Some(true) {
                for g in &report.findings {
                    if !wants.iter().any(|w| matches(w, g, text)) {
                        failures.push(format!("{file}/{name}: unexpected {} at {:?}", g.rule, g.span));
                    }
                }
            }
        }
    }
    assert!(n >= 20, "only {n} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
