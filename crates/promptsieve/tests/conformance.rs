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

/// `conversations.json`: vault numbering across turns, message lists,
/// and stream restoring over every split (see tests/conformance/README.md).
#[test]
fn conversation_suite() {
    use promptsieve::{CheckOptions, RedactOptions, StreamRestorer, Vault};
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("../../../tests/conformance/conversations.json")).unwrap();
    let s = Scanner::new();
    let strs = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()
    };
    let mut kinds = std::collections::BTreeSet::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let kind = case["kind"].as_str().unwrap();
        kinds.insert(kind);
        let reply = case["reply"].as_str().unwrap();
        let restored = case["restored"].as_str().unwrap();
        let mut vault = Vault::new();
        match kind {
            "conversation" => {
                for (t, want) in strs(&case["turns"]).iter().zip(strs(&case["redacted"])) {
                    assert_eq!(s.redact_in(t, &mut vault).text, want, "{name}");
                }
                let again = Vault::from_json(&vault.to_json()).unwrap();
                assert_eq!(again.restore(reply), restored, "{name}");
            }
            "messages" => {
                let r = s.redact_messages(&case["messages"], &RedactOptions::default(), &mut vault).unwrap();
                assert_eq!(r.messages, case["redacted"], "{name}");
                let d =
                    s.check_messages(&case["messages"], &CheckOptions::default(), &mut Vault::new()).unwrap();
                assert_eq!(serde_json::to_value(d.action).unwrap(), case["action"], "{name}");
                assert_eq!(vault.restore(reply), restored, "{name}");
            }
            "stream" => {
                for t in strs(&case["turns"]) {
                    s.redact_in(&t, &mut vault);
                }
                let max = case["max_held"].as_u64().unwrap() as usize;
                let bounds: Vec<usize> = (0..=reply.len()).filter(|&i| reply.is_char_boundary(i)).collect();
                let run = |cuts: &[usize]| {
                    let mut r = StreamRestorer::new(&vault);
                    let (mut out, mut last) = (String::new(), 0);
                    for &c in cuts.iter().chain([reply.len()].iter()) {
                        out += &r.push(&reply[last..c]);
                        assert!(r.held() <= max, "{name}: held {} at {c}", r.held());
                        last = c;
                    }
                    out + &r.finish()
                };
                for &b in &bounds {
                    assert_eq!(run(&[b]), restored, "{name}: split at {b}");
                }
                // A small xorshift: any seed will do, the splits just vary.
                let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
                for _ in 0..200 {
                    let mut cuts: Vec<usize> = (0..8)
                        .map(|_| {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            bounds[(x % bounds.len() as u64) as usize]
                        })
                        .collect();
                    cuts.sort_unstable();
                    assert_eq!(run(&cuts), restored, "{name}: splits {cuts:?}");
                }
            }
            other => panic!("{name}: unknown kind {other}"),
        }
    }
    assert_eq!(kinds.len(), 3, "every kind has a case");
}
