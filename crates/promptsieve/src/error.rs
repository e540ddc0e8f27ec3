//! Configuration errors. Scanning never fails; building a scanner can.

use std::fmt;

/// Why a rule pack or scanner configuration was refused.
///
/// The message names the pack and, where one is to blame, the rule.
///
/// # Example
///
/// ```
/// use promptsieve::{RulePack, ScannerBuilder};
///
/// let pack = RulePack::from_toml("mine", r#"
/// [[rule]]
/// id = "my-broken"
/// category = "injection"
/// description = "unbalanced group"
/// score = 0.5
/// regex = '''(ignore'''
/// "#).unwrap();
/// let err = ScannerBuilder::new().build([pack]).unwrap_err();
/// assert_eq!(err.pack(), Some("mine"));
/// assert_eq!(err.rule(), Some("my-broken"));
/// assert!(err.to_string().contains("invalid regex"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    kind: ErrorKind,
    pack: Option<String>,
    rule: Option<String>,
    reason: String,
}

/// Kept private so variants can be added without a breaking change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ErrorKind {
    Syntax,
    Io,
    Rule,
    Config,
}

impl BuildError {
    pub(crate) fn syntax(pack: &str, reason: impl Into<String>) -> BuildError {
        BuildError { kind: ErrorKind::Syntax, pack: Some(pack.into()), rule: None, reason: reason.into() }
    }

    pub(crate) fn io(pack: &str, reason: impl Into<String>) -> BuildError {
        BuildError { kind: ErrorKind::Io, pack: Some(pack.into()), rule: None, reason: reason.into() }
    }

    pub(crate) fn for_rule(pack: &str, rule: &str, reason: impl Into<String>) -> BuildError {
        BuildError {
            kind: ErrorKind::Rule,
            pack: Some(pack.into()),
            rule: Some(rule.into()),
            reason: reason.into(),
        }
    }

    pub(crate) fn config(reason: impl Into<String>) -> BuildError {
        BuildError { kind: ErrorKind::Config, pack: None, rule: None, reason: reason.into() }
    }

    /// The name of the pack that was refused, if the error concerns a pack.
    ///
    /// # Example
    ///
    /// ```
    /// let err = promptsieve::RulePack::from_toml("p", "not toml [").unwrap_err();
    /// assert_eq!(err.pack(), Some("p"));
    /// ```
    pub fn pack(&self) -> Option<&str> {
        self.pack.as_deref()
    }

    /// The id of the failing rule, if one rule is to blame.
    ///
    /// # Example
    ///
    /// ```
    /// let err = promptsieve::RulePack::from_toml("p", "not toml [").unwrap_err();
    /// assert_eq!(err.rule(), None);
    /// ```
    pub fn rule(&self) -> Option<&str> {
        self.rule.as_deref()
    }

    /// The reason alone, without the pack and rule.
    ///
    /// # Example
    ///
    /// ```
    /// let err = promptsieve::ScannerBuilder::new().threshold(2.0).build([]).unwrap_err();
    /// assert!(err.reason().contains("threshold"));
    /// ```
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Whether the error is a syntax error in the pack file (TOML or schema)
    /// rather than a problem with one rule.
    ///
    /// # Example
    ///
    /// ```
    /// let err = promptsieve::RulePack::from_toml("p", "[[rule]]\nid = 3").unwrap_err();
    /// assert!(err.is_syntax());
    /// ```
    pub fn is_syntax(&self) -> bool {
        self.kind == ErrorKind::Syntax
    }

    /// Whether the pack file could not be read.
    ///
    /// # Example
    ///
    /// ```
    /// let err = promptsieve::RulePack::from_file("/no/such/pack.toml").unwrap_err();
    /// assert!(err.is_io());
    /// ```
    pub fn is_io(&self) -> bool {
        self.kind == ErrorKind::Io
    }

    /// Whether the error is about scanner options rather than a pack.
    ///
    /// # Example
    ///
    /// ```
    /// let err = promptsieve::ScannerBuilder::new().threshold(-1.0).build([]).unwrap_err();
    /// assert!(err.is_config());
    /// ```
    pub fn is_config(&self) -> bool {
        self.kind == ErrorKind::Config
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pack) = &self.pack {
            write!(f, "rule pack '{pack}'")?;
            if let Some(rule) = &self.rule {
                write!(f, ", rule '{rule}'")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for BuildError {}
