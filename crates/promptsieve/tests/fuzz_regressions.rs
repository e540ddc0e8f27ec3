//! Replays every input saved under `fuzz/regressions/<target>/` (crashes the
//! fuzzers found, once fixed, plus hand-picked hostile inputs) through the
//! same invariant checks the fuzz targets run. `scripts/fuzz` runs the
//! fuzzers themselves.

#[path = "../../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("readable entry").path();
        if path.is_file() {
            let data = std::fs::read(&path).expect("readable file");
            check(&data);
            n += 1;
        }
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn scan_regressions() {
    replay("scan", checks::check_scan);
}

#[test]
fn redact_regressions() {
    replay("redact", checks::check_redact);
}

#[test]
fn rule_pack_regressions() {
    replay("rule_pack", checks::check_rule_pack);
}

#[test]
fn sanitize_regressions() {
    replay("sanitize", checks::check_sanitize);
}
