//! The shared configuration: what used to be accepted silently is refused,
//! naming the value; per-request control; vaults that travel.

use promptsieve::{
    Action, CheckOptions, PackSource, RedactOptions, Scanner, ScannerConfig, Strategy, Target, Vault,
};

fn config_err(json: &str) -> String {
    match ScannerConfig::from_json(json).and_then(|c| c.build()) {
        Ok(_) => panic!("{json} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn silent_acceptance_is_now_refused() {
    assert!(config_err(r#"{"disable": ["inj-no-such-rule"]}"#).contains("inj-no-such-rule"));
    assert!(config_err(r#"{"treshold": 0.4}"#).contains("treshold"));
    assert!(config_err(r#"{"policy": {"redact": ["person"]}}"#).contains("did you mean \"PERSON\""));
    assert!(config_err(r#"{"policy": {"block": ["Pii"]}}"#).contains("did you mean \"pii\""));
    assert!(config_err(r#"{"policy": {"block": ["PASSPORT"]}}"#).contains("PASSPORT"));
    assert!(config_err(r#"{"policy": {"maxbytes": 3}}"#).contains("maxbytes"));
    assert!(config_err(r#"{"categories": ["pi"]}"#).contains("pi"));
    // The scorer's id can be disabled like a rule's.
    assert!(ScannerConfig::from_json(r#"{"disable": ["ml-injection-scorer"]}"#).unwrap().build().is_ok());

    let s = Scanner::new();
    let refused = |json: &str| {
        let o = RedactOptions::from_json(json).and_then(|o| s.redact_with("ana@example.org", &o).map(|_| ()));
        o.expect_err(json).to_string()
    };
    assert!(refused(r#"{"per_entity": {"EMAILS": "mask"}}"#).contains("EMAILS"));
    assert!(refused(r#"{"perEntity": {"email": "mask"}}"#).contains("did you mean \"EMAIL\""));
    assert!(refused(r#"{"strategy": "hash"}"#).contains("hash_key"));
    assert!(refused(r#"{"per_entity": {"EMAIL": "hash"}}"#).contains("hash_key"));
    assert!(refused(r#"{"strategy": "masked"}"#).contains("masked"));
    assert!(refused(r#"{"thresholds": {"PHONE": 1.5}}"#).contains("1.5"));
    assert!(refused(r#"{"strategee": "mask"}"#).contains("strategee"));
    assert!(CheckOptions::from_json(r#"{"source": "robot"}"#).is_err());
}

#[test]
fn named_packs_name_themselves_in_errors() {
    let mut c = ScannerConfig::default();
    c.rules.push(PackSource::Named { name: "house-rules".into(), source: "[[rule]]\nid = 3".into() });
    let e = c.build().unwrap_err();
    assert_eq!(e.pack(), Some("house-rules"));
    let c = ScannerConfig::from_json(r#"{"rules": ["not toml ["]}"#).unwrap();
    assert_eq!(c.build().unwrap_err().pack(), Some("rules[0]"));
}

#[test]
fn per_request_entities_allow_list_and_thresholds() {
    let s = Scanner::new();
    let text = "I am Alice Martin, card 4111 1111 1111 1111, mail help@example.com or ana@example.org";
    let only_names = CheckOptions::from_json(r#"{"policy": {"redact": ["PERSON"]}}"#).unwrap();
    let d = s.check_with(text, &only_names, &mut Vault::new()).unwrap();
    let red = d.redacted.unwrap().text;
    assert!(
        red.contains("[PERSON_1]") && red.contains("4111 1111 1111 1111") && red.contains("ana@example.org")
    );

    let allow = CheckOptions::from_json(r#"{"redact": {"allow": ["help@example.com"]}}"#).unwrap();
    let red = s.check_with(text, &allow, &mut Vault::new()).unwrap().redacted.unwrap().text;
    assert!(red.contains("help@example.com") && !red.contains("ana@example.org"));

    // Emails score 0.95 here: a bar of 0.99 leaves them.
    let strict = RedactOptions::from_json(r#"{"thresholds": {"EMAIL": 0.99}, "entities": ["pii"]}"#).unwrap();
    let red = s.redact_with(text, &strict).unwrap().text;
    assert!(red.contains("[PERSON_1]") && red.contains("ana@example.org"), "{red}");

    // Blocking one entity in this call, by its Presidio name.
    let block = CheckOptions::from_json(r#"{"policy": {"block": ["EMAIL_ADDRESS"], "redact": []}}"#).unwrap();
    let d = s.check_with("mail ana@example.org", &block, &mut Vault::new()).unwrap();
    assert_eq!(d.action, Action::Block);
    assert_eq!(d.reasons[0].code, "category");

    // Characters, not bytes.
    let short = CheckOptions::from_json(r#"{"policy": {"maxChars": 5}}"#).unwrap();
    assert_eq!(s.check_with("ééééé", &short, &mut Vault::new()).unwrap().action, Action::Allow);
    assert_eq!(s.check_with("éééééé", &short, &mut Vault::new()).unwrap().reasons[0].code, "max-length");
}

#[test]
fn strategies_and_targets_round_trip_as_strings() {
    for s in ["placeholder", "mask:4", "mask:0", "hash", "remove"] {
        assert_eq!(s.parse::<Strategy>().unwrap().to_string(), s);
    }
    assert_eq!("mask".parse::<Strategy>().unwrap(), Strategy::Mask { keep: 4 });
    let o = RedactOptions::from_json(r#"{"per_entity": {"PHONE_NUMBER": "mask:2"}}"#).unwrap();
    assert_eq!(o.strategy_for("PHONE"), &Strategy::Mask { keep: 2 });
    let t: Vec<Target> = serde_json::from_str(r#"["pii", "IBAN_CODE"]"#).unwrap();
    assert_eq!(serde_json::to_string(&t).unwrap(), r#"["pii","IBAN"]"#);
    // A configuration survives its own JSON.
    let c = ScannerConfig::from_json(
        r#"{"threshold": 0.7, "policy": {"maxBytes": null, "block": ["invisible"]}}"#,
    )
    .unwrap();
    assert_eq!(ScannerConfig::from_json(&serde_json::to_string(&c).unwrap()).unwrap(), c);
}

#[test]
fn vaults_travel_and_refuse_tampering() {
    let s = Scanner::new();
    let mut v = Vault::new();
    s.redact_in("Alice Martin, alice@example.org", &mut v);
    let again = Vault::from_json(&v.to_json()).unwrap();
    assert_eq!(again, v);
    // Numbering continues after a round trip.
    let mut again = again;
    assert_eq!(s.redact_in("bob@example.org", &mut again).text, "[EMAIL_2]");

    let sealed = v.to_sealed_json(b"k1");
    assert_eq!(sealed, v.to_sealed_json(b"k1"), "sealing is deterministic");
    assert!(!sealed.contains("alice"));
    assert!(Vault::from_json(&sealed).unwrap_err().to_string().contains("sealed"));
    assert!(Vault::from_sealed_json(&sealed, b"k2").is_err());
    let mut bytes: Vec<char> = sealed.chars().collect();
    let i = bytes.len() - 5;
    bytes[i] = if bytes[i] == '0' { '1' } else { '0' };
    let tampered: String = bytes.into_iter().collect();
    assert!(Vault::from_sealed_json(&tampered, b"k1").is_err());
    // A vault made by hand must still be one redaction could make.
    assert!(
        Vault::from_json(r#"{"entries": [{"entity": "EMAIL", "value": "x", "placeholder": "[PHONE_1]"}]}"#)
            .is_err()
    );
    assert!(Vault::from_json(r#"{"entries": [{"entity": "EMAIL", "value": "x", "placeholder": "[EMAIL_1]"}, {"entity": "EMAIL", "value": "y", "placeholder": "[EMAIL_1]"}]}"#).is_err());
}

#[test]
fn check_refuses_redact_targets_it_would_ignore() {
    let s = Scanner::new();
    let opts = CheckOptions::from_json(r#"{"redact": {"targets": ["PERSON"]}}"#).unwrap();
    let err = s.check_with("I am Alice Martin", &opts, &mut Vault::new()).unwrap_err();
    assert!(err.to_string().contains("policy.redact"), "{err}");
    let opts = CheckOptions::from_json(r#"{"policy": {"redact": ["PERSON"]}}"#).unwrap();
    assert!(s.check_with("I am Alice Martin", &opts, &mut Vault::new()).is_ok());
}
