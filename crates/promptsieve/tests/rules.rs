//! Every rule of the default packs carries examples, and they all hold.

use promptsieve::{RulePack, Scanner};

#[test]
fn default_pack_examples_hold() {
    let failures = Scanner::new().verify_examples();
    let msg: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
    assert!(failures.is_empty(), "{} failing examples:\n{}", failures.len(), msg.join("\n"));
}

#[test]
fn every_default_rule_has_both_kinds_of_example() {
    let rules = Scanner::new().rules();
    assert!(rules.len() > 20);
    let packs = RulePack::defaults();
    for r in &rules {
        assert!(!r.examples.is_empty(), "{} has no `match` example", r.id);
        assert!(!r.counterexamples.is_empty(), "{} has no `no_match` example", r.id);
        // The learned scorer is listed too; it comes from no pack.
        assert!(
            r.kind == "model"
                || packs.iter().any(|p| p.name() == r.pack && p.rule_ids().any(|id| id == r.id))
        );
    }
}
