//! Built-in detectors: code whose rule ids and scores come from a pack.

pub(crate) mod encoded;
pub(crate) mod grammar;
pub(crate) mod invisible;
pub(crate) mod names;
pub(crate) mod phone;
pub(crate) mod suffix;
pub(crate) mod validate;

use crate::finding::Category;
use crate::hit::Hit;

/// What the decoding detectors need of whatever runs them: rescanning a
/// decoded payload and reading the rules' facts. The engine implements it;
/// detectors depend on this trait, not on the engine, so the modules form
/// no cycle.
pub(crate) trait Rescan {
    /// Every matcher over `text` at nesting `depth` (see `Engine::scan`).
    fn rescan(&self, text: &str, depth: u8, hits: &mut Vec<Hit>);
    /// Attack-rule view-matcher hits `(rule, start, end)` in `text`.
    fn view_hits(&self, text: &str) -> Vec<(u32, usize, usize)>;
    /// Rule `rule`'s id, category and pack score.
    fn rule_facts(&self, rule: u32) -> (&str, Category, f64);
}
