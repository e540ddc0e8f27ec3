//! Built-in detectors: code whose rule ids and scores come from a pack.

pub(crate) mod encoded;
pub(crate) mod grammar;
pub(crate) mod invisible;
pub(crate) mod names;
pub(crate) mod phone;
pub(crate) mod suffix;
pub(crate) mod validate;
