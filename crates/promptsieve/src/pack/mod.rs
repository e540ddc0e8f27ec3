//! Rule packs: the TOML schema, loading and the embedded default packs.
//!
//! The schema is documented for users in `rules/README.md`; this module is
//! its single source of truth (unknown keys are refused so a typo such as
//! `word_boundry` is an error rather than a silently ignored option).

use std::path::Path;

use serde::Deserialize;

use crate::error::BuildError;

mod expand;

pub use expand::phrase_to_regex;

pub(crate) use expand::{expand_phrase, expand_phrase_up_to, required_literals};

/// The default packs, embedded at compile time: `(name, JSON source)` (build.rs
/// writes them from `rules/packs/*.toml`).
const DEFAULT_PACKS: &[(&str, &str)] = &[
    ("injection", include_str!(concat!(env!("OUT_DIR"), "/rules/packs/injection.json"))),
    ("injection-grammar", include_str!(concat!(env!("OUT_DIR"), "/rules/packs/injection-grammar.json"))),
    ("hidden", include_str!(concat!(env!("OUT_DIR"), "/rules/packs/hidden.json"))),
    ("pii", include_str!(concat!(env!("OUT_DIR"), "/rules/packs/pii.json"))),
    ("secrets", include_str!(concat!(env!("OUT_DIR"), "/rules/packs/secrets.json"))),
    ("pii-phone", include_str!(concat!(env!("OUT_DIR"), "/rules/packs/pii-phone.json"))),
    ("pii-person", include_str!(concat!(env!("OUT_DIR"), "/rules/packs/pii-person.json"))),
];

/// A parsed rule pack, ready to be compiled into a [`Scanner`](crate::Scanner).
///
/// Parsing checks the TOML syntax and the schema; the rules themselves
/// (regex syntax, duplicate ids, scores, …) are checked when the scanner is
/// built, so every error names the pack and the rule.
///
/// # Example
///
/// ```
/// use promptsieve::{RulePack, ScannerBuilder};
///
/// let pack = RulePack::from_toml("acme", r#"
/// [pack]
/// name = "acme"
///
/// [[rule]]
/// id = "acme-codename"
/// category = "secret"
/// entity = "SECRET"
/// description = "Our internal project code name"
/// score = 0.8
/// phrases = ["project bluebird"]
/// [rule.examples]
/// match = ["the Project Bluebird launch"]
/// no_match = ["a blue bird"]
/// "#)?;
/// let scanner = ScannerBuilder::new().build([pack])?;
/// let report = scanner.scan("Status of PROJECT BLUEBIRD?");
/// assert_eq!(report.findings[0].rule, "acme-codename");
/// # Ok::<(), promptsieve::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct RulePack {
    pub(crate) name: String,
    pub(crate) rules: Vec<RuleDef>,
    /// Whether this is an embedded default pack, whose regexes the test
    /// suite has already checked: building skips parsing them again (the
    /// largest part of start-up) and compiles them on first use as usual.
    /// Only [`RulePack::defaults`] sets it, and a pack cannot be edited.
    pub(crate) trusted: bool,
}

impl RulePack {
    /// Parses a pack from TOML source. `name` identifies the pack in errors.
    ///
    /// # Errors
    ///
    /// Returns a [`BuildError`] when the TOML is malformed or does not follow
    /// the schema (unknown keys, wrong types, missing fields).
    ///
    /// # Example
    ///
    /// ```
    /// let err = promptsieve::RulePack::from_toml("bad", "[[rule]]\nid = 'x'").unwrap_err();
    /// assert!(err.to_string().starts_with("rule pack 'bad'"));
    /// ```
    pub fn from_toml(name: &str, source: &str) -> Result<RulePack, BuildError> {
        RulePack::from_file_value(name, from_toml_as(source).map_err(|e| BuildError::syntax(name, e))?)
    }

    /// A pack from its parsed file.
    fn from_file_value(name: &str, file: PackFile) -> Result<RulePack, BuildError> {
        // The pack's weights are each rule's defaults.
        let base = file.pack.as_ref().and_then(|p| p.weights).unwrap_or_default();
        let mut rules = Vec::with_capacity(file.rule.len());
        // Rule by rule, so that a schema error names the rule (the TOML
        // value has no line numbers left).
        for (i, r) in file.rule.into_iter().enumerate() {
            let id = r
                .get("id")
                .and_then(serde_json::Value::as_str)
                .map(|id| format!(" ({id:?})"))
                .unwrap_or_default();
            let mut r: RuleDef = serde_json::from_value(r)
                .map_err(|e| BuildError::syntax(name, format!("rule {}{id}: {e}", i + 1)))?;
            r.weights = Some(r.weights.unwrap_or_default().or(base));
            rules.push(r);
        }
        Ok(RulePack { name: name.to_string(), rules, trusted: false })
    }

    /// Reads and parses a pack file. The pack is named after the path.
    ///
    /// # Errors
    ///
    /// Returns a [`BuildError`] when the file cannot be read or parsed.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(promptsieve::RulePack::from_file("/nonexistent.toml").is_err());
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<RulePack, BuildError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| BuildError::io(&name, e.to_string()))?;
        RulePack::from_toml(&name, &source)
    }

    /// The embedded default packs.
    ///
    /// # Example
    ///
    /// ```
    /// let packs = promptsieve::RulePack::defaults();
    /// assert!(packs.iter().any(|p| p.name() == "injection"));
    /// ```
    pub fn defaults() -> Vec<RulePack> {
        DEFAULT_PACKS
            .iter()
            .map(|(name, src)| {
                // The default packs are tested on every build, so a parse
                // failure here is a bug in this crate, not user input.
                let pack = from_json_as(src)
                    .map_err(|e| BuildError::syntax(name, e))
                    .and_then(|file| RulePack::from_file_value(name, file))
                    .unwrap_or_else(|e| panic!("embedded pack is invalid: {e}"));
                RulePack { trusted: true, ..pack }
            })
            .collect()
    }

    /// The pack's name, as given to [`from_toml`](RulePack::from_toml) or the
    /// file path.
    ///
    /// # Example
    ///
    /// ```
    /// let pack = promptsieve::RulePack::from_toml("empty", "").unwrap();
    /// assert_eq!(pack.name(), "empty");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ids of the pack's rules, in file order.
    ///
    /// # Example
    ///
    /// ```
    /// let packs = promptsieve::RulePack::defaults();
    /// assert!(packs.iter().flat_map(|p| p.rule_ids()).any(|id| id.starts_with("inj-")));
    /// ```
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }
}

/// The file: an optional `[pack]` table and `[[rule]]` entries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: Option<PackMeta>,
    /// The rules, read one by one (see [`RulePack::from_toml`]).
    #[serde(default)]
    rule: Vec<serde_json::Value>,
}

/// Reads TOML text into a schema type. The text is parsed into a
/// `serde_json::Value` first, so that one TOML deserializer serves every
/// schema and each schema is compiled for one deserializer, the JSON value's
/// (together a tenth of the `.wasm`'s code otherwise). Syntax errors keep
/// their line and column; schema errors name the key.
pub(crate) fn from_toml_as<T: serde::de::DeserializeOwned>(src: &str) -> Result<T, String> {
    let v: serde_json::Value = basic_toml::from_str(src).map_err(|e| e.to_string())?;
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// Reads JSON text (the embedded packs and vocabularies, which build.rs
/// writes as JSON) into a schema type, through the same `serde_json::Value`
/// as [`from_toml_as`].
pub(crate) fn from_json_as<T: serde::de::DeserializeOwned>(src: &str) -> Result<T, String> {
    let v: serde_json::Value = serde_json::from_str(src).map_err(|e| e.to_string())?;
    serde_json::from_value(v).map_err(|e| e.to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackMeta {
    // Name, description and version document the pack for humans; the
    // loader names it.
    #[allow(dead_code)]
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    #[allow(dead_code)]
    version: Option<String>,
    /// The default `weights` of the pack's rules.
    weights: Option<Weights>,
}

/// How much an attack rule's score counts, by [`Source`](crate::Source) of
/// the text and in third-person discussion. Missing keys are 1.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Weights {
    pub(crate) user: Option<f64>,
    pub(crate) system: Option<f64>,
    pub(crate) document: Option<f64>,
    pub(crate) tool: Option<f64>,
    /// When the match is quoted inside text that discusses attacks in the
    /// third person.
    pub(crate) discussion: Option<f64>,
    /// When the match is reported or negated speech: right after "if the
    /// user asks you to", "never", "refuse any request to".
    pub(crate) reported: Option<f64>,
}

impl Weights {
    /// `self` with the missing keys taken from `base`.
    pub(crate) fn or(self, base: Weights) -> Weights {
        Weights {
            user: self.user.or(base.user),
            system: self.system.or(base.system),
            document: self.document.or(base.document),
            tool: self.tool.or(base.tool),
            discussion: self.discussion.or(base.discussion),
            reported: self.reported.or(base.reported),
        }
    }

    /// Per source (in [`Source::ALL`](crate::Source::ALL) order), then the
    /// discussion and reported-speech weights.
    pub(crate) fn resolve(self) -> ([f64; 4], f64, f64) {
        let w = |x: Option<f64>| x.unwrap_or(1.0);
        ([w(self.user), w(self.system), w(self.document), w(self.tool)], w(self.discussion), w(self.reported))
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        for (k, v) in [
            ("user", self.user),
            ("system", self.system),
            ("document", self.document),
            ("tool", self.tool),
            ("discussion", self.discussion),
            ("reported", self.reported),
        ] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return Err(format!("weights.{k} = {v} is outside 0..=1"));
            }
        }
        Ok(())
    }
}

/// One `[[rule]]` as written in a pack.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDef {
    pub(crate) id: String,
    pub(crate) category: String,
    pub(crate) description: String,
    pub(crate) score: f64,
    #[serde(default)]
    pub(crate) entity: Option<String>,
    #[serde(default)]
    pub(crate) phrases: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) regex: Option<String>,
    #[serde(default)]
    pub(crate) builtin: Option<String>,
    /// Slot sequences over the grammar vocabularies (`rules/grammar/`).
    #[serde(default)]
    pub(crate) grammar: Option<Vec<String>>,
    /// Grammar rules: most words between consecutive slots (default 4).
    #[serde(default)]
    pub(crate) window: Option<usize>,
    /// Grammar rules: most sentence ends between consecutive slots (default 0).
    #[serde(default)]
    pub(crate) sentences: Option<usize>,
    /// Slots whose phrases veto a match they occur in (any rule kind).
    #[serde(default)]
    pub(crate) unless: Option<Vec<String>>,
    /// Score weights by source and in discussion (default: the pack's).
    #[serde(default)]
    pub(crate) weights: Option<Weights>,
    /// Attack rules: the signal the rule's findings count as in the risk
    /// (default: the rule id). Rules that read one piece of evidence from
    /// two sides (a fake `<system>` header and its `</system>`) share one.
    #[serde(default)]
    pub(crate) signal: Option<String>,
    #[serde(default)]
    pub(crate) word_boundary: Option<bool>,
    #[serde(default)]
    pub(crate) split: Option<bool>,
    #[serde(default)]
    pub(crate) keywords: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) view: Option<String>,
    #[serde(default)]
    pub(crate) case_sensitive: Option<bool>,
    #[serde(default)]
    pub(crate) validate: Option<String>,
    #[serde(default)]
    pub(crate) context: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) context_window: Option<usize>,
    #[serde(default)]
    pub(crate) context_boost: Option<f64>,
    #[serde(default)]
    pub(crate) allow: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) exclude: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) examples: Examples,
}

/// Texts a rule must and must not match; run by the test suite and by
/// `promptsieve check-rules`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Examples {
    #[serde(default, rename = "match")]
    pub(crate) matches: Vec<String>,
    #[serde(default)]
    pub(crate) no_match: Vec<String>,
}
