//! Adversarial suffixes: runs of optimised token soup appended to a request.

use crate::engine::Hit;

/// Appends a hit for each adversarial-suffix run in `text`.
///
/// TODO: replace with the measured heuristic once its spec lands (issue 2);
/// until then no pack enables the `adversarial-suffix` builtin.
pub(crate) fn scan(_text: &str, _rule: u32, _score: f64, _hits: &mut Vec<Hit>) {}
