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
use crate::normalize::OffsetMap;

/// How deep decoded payloads (base64 inside hex inside …) are followed.
pub(crate) const MAX_DEPTH: u8 = 2;

/// One scan as a detector sees it.
pub(crate) struct Input<'a> {
    /// The caller's text (or a decoded payload): hits are in its bytes.
    pub(crate) text: &'a str,
    /// Its normalised view, and the view's map back to `text`.
    pub(crate) view: &'a str,
    pub(crate) map: &'a OffsetMap,
    /// Nesting of decoded payloads: 0 for the caller's text. In payloads
    /// only attack rules are wanted (see [`Detector::attack`]).
    pub(crate) depth: u8,
}

/// A built-in detector: code whose rule ids and scores come from a pack
/// (`builtin = "…"`). The engine holds the enabled ones in one table, in a
/// fixed order, and runs each once per scan.
pub(crate) trait Detector: std::fmt::Debug + Send + Sync {
    /// Whether it reports attacks, and so also runs on decoded payloads.
    fn attack(&self) -> bool;
    /// Appends its hits; decoders rescan payloads through `rescan`.
    fn detect(&self, input: &Input<'_>, rescan: &dyn Rescan, hits: &mut Vec<Hit>);
}

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
