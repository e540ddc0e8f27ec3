//! Crate-private helpers.

pub(crate) mod hidden;
