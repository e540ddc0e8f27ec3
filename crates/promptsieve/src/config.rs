//! One configuration for every language: the Rust builder, the npm package
//! and the Python wheel all read these serde types, so an option means the
//! same everywhere and a typo is an error everywhere.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::BuildError;
use crate::finding::{Category, Finding, Source};
use crate::pack::RulePack;
use crate::redact::RedactOptions;
use crate::scanner::{DEFAULT_THRESHOLD, Policy, Scanner, ScannerBuilder};

/// What a policy or redaction selects: a whole category (`"pii"`, lower
/// case) or one entity (`"PERSON"`, upper case; Presidio's names such as
/// `EMAIL_ADDRESS` are accepted too).
///
/// # Example
///
/// ```
/// use promptsieve::{Category, Target};
/// assert_eq!("pii".parse::<Target>(), Ok(Target::Category(Category::Pii)));
/// assert_eq!("PERSON".parse::<Target>(), Ok(Target::Entity("PERSON".into())));
/// assert!("person".parse::<Target>().unwrap_err().contains("PERSON"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// Every finding of this category.
    Category(Category),
    /// Findings of this entity.
    Entity(String),
}

impl Target {
    /// Whether `f` is selected.
    ///
    /// # Example
    ///
    /// ```
    /// use promptsieve::{Scanner, Target};
    /// let f = &Scanner::new().scan("mail ana@example.org").findings[0];
    /// assert!(Target::Entity("EMAIL".into()).matches(f));
    /// assert!(!Target::Entity("PERSON".into()).matches(f));
    /// ```
    pub fn matches(&self, f: &Finding) -> bool {
        match self {
            Target::Category(c) => f.category == *c,
            Target::Entity(e) => f.entity.as_deref() == Some(e.as_str()),
        }
    }
}

impl From<Category> for Target {
    fn from(c: Category) -> Target {
        Target::Category(c)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Category(c) => f.write_str(c.as_str()),
            Target::Entity(e) => f.write_str(e),
        }
    }
}

impl FromStr for Target {
    type Err = String;

    /// Categories are lower case and entities upper case, so a name in the
    /// wrong case is an error that gives the right one, never a silent miss.
    fn from_str(s: &str) -> Result<Target, String> {
        if let Some(c) = Category::parse(s) {
            return Ok(Target::Category(c));
        }
        let entity_shaped = s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if entity_shaped {
            if let Some(c) = Category::parse(&s.to_ascii_lowercase()) {
                return Err(format!("unknown entity {s:?}: the category is {:?}", c.as_str()));
            }
            return Ok(Target::Entity(ENTITIES.canonical(s).to_string()));
        }
        if let Some(c) = Category::parse(&s.to_ascii_lowercase()) {
            return Err(format!("unknown category {s:?}: did you mean {:?}?", c.as_str()));
        }
        let upper = s.to_ascii_uppercase();
        if ENTITIES.is_known(&upper) {
            return Err(format!("unknown entity {s:?}: did you mean {:?}?", ENTITIES.canonical(&upper)));
        }
        Err(format!(
            "unknown category or entity {s:?} (categories are lower case: {}; entities upper case: {})",
            Category::ALL.map(|c| c.as_str()).join(", "),
            ENTITIES.names.join(", ")
        ))
    }
}

/// A string in configuration; typed as the union of categories and entities.
#[cfg(feature = "ts")]
impl schemars::JsonSchema for Target {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Target".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A category (lower case) or an entity (upper case; Presidio's names are accepted).",
            "x-ts": "Category | Entity"
        })
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Target, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The default packs' entities and their aliases (`rules/entities.toml`).
pub(crate) struct Entities {
    pub(crate) names: Vec<String>,
    aliases: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntitiesFile {
    entities: std::collections::BTreeMap<String, Vec<String>>,
}

pub(crate) static ENTITIES: LazyLock<Entities> = LazyLock::new(|| {
    let file: EntitiesFile = crate::pack::from_toml_as(include_str!("../../../rules/entities.toml"))
        .unwrap_or_else(|e| panic!("rules/entities.toml: {e}"));
    let mut aliases = HashMap::new();
    for (name, alias) in &file.entities {
        for a in alias {
            aliases.insert(a.clone(), name.clone());
        }
    }
    Entities { names: file.entities.into_keys().collect(), aliases }
});

impl Entities {
    /// The entity an alias stands for, or the name itself.
    pub(crate) fn canonical<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map_or(name, String::as_str)
    }

    fn is_known(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name) || self.aliases.contains_key(name)
    }
}

/// Checks entity names against those a scanner can report: the name must
/// be one of them (after aliases), in its exact case.
pub(crate) fn check_entity(name: &str, known: &[String]) -> Result<(), BuildError> {
    let name = ENTITIES.canonical(name);
    if known.iter().any(|k| k == name) {
        return Ok(());
    }
    let upper = name.to_ascii_uppercase();
    let upper = ENTITIES.canonical(&upper);
    if let Some(k) = known.iter().find(|k| *k == upper) {
        return Err(BuildError::config(format!("unknown entity {name:?}: did you mean {k:?}?")));
    }
    Err(BuildError::config(format!("unknown entity {name:?} (this scanner reports {})", known.join(", "))))
}

/// A rule pack given as data: TOML text, optionally with a name that errors
/// report (unnamed packs are called `rules[i]`).
///
/// # Example
///
/// ```
/// let p: promptsieve::PackSource = serde_json::from_str(r#"{"name": "mine", "source": "rule = []"}"#).unwrap();
/// assert_eq!(p.name(), Some("mine"));
/// ```
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum PackSource {
    /// TOML text.
    Toml(String),
    /// TOML text with a name.
    Named {
        /// The pack's name in errors and rule metadata.
        name: String,
        /// TOML text.
        source: String,
    },
}

impl PackSource {
    /// The pack's given name.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(promptsieve::PackSource::Toml(String::new()).name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        match self {
            PackSource::Toml(_) => None,
            PackSource::Named { name, .. } => Some(name),
        }
    }
}

/// Everything a [`Scanner`] is built from, as one serde value: what
/// `new Scanner(options)` in JS and `Scanner(**options)` in Python read.
/// Keys are snake_case, and camelCase is accepted too; unknown keys are
/// errors.
///
/// # Example
///
/// ```
/// use promptsieve::ScannerConfig;
/// let s = ScannerConfig::from_json(r#"{"threshold": 0.7, "disable": ["invisible-zero-width"]}"#)?.build()?;
/// assert_eq!(s.threshold(), 0.7);
/// let err = ScannerConfig::from_json(r#"{"disable": ["no-such-rule"]}"#)?.build().unwrap_err();
/// assert!(err.to_string().contains("no-such-rule"));
/// assert!(ScannerConfig::from_json(r#"{"treshold": 0.7}"#).is_err());
/// # Ok::<(), promptsieve::BuildError>(())
/// ```
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ScannerConfig {
    /// Extra rule packs.
    pub rules: Vec<PackSource>,
    /// Include the embedded default packs (default true).
    #[serde(rename = "defaultRules", alias = "default_rules")]
    pub default_rules: bool,
    /// Risk at or above which a report is flagged (default 0.5).
    pub threshold: f64,
    /// Keep only rules of these categories (`None`: all).
    pub categories: Option<Vec<Category>>,
    /// Rule ids to leave out; an id no pack defines is an error.
    pub disable: Vec<String>,
    /// What [`Scanner::check`] enforces.
    pub policy: Policy,
    /// Run the learned injection scorer (default true).
    pub scorer: bool,
    /// Find person names with the learned name tagger (default true);
    /// false reports the name dictionaries' own spans.
    pub tagger: bool,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            rules: Vec::new(),
            default_rules: true,
            threshold: DEFAULT_THRESHOLD,
            categories: None,
            disable: Vec::new(),
            policy: Policy::default(),
            scorer: true,
            tagger: true,
        }
    }
}

impl ScannerConfig {
    /// Reads a configuration from JSON.
    ///
    /// # Errors
    ///
    /// A configuration error naming the unknown key or the wrong value.
    ///
    /// # Example
    ///
    /// ```
    /// let err = promptsieve::ScannerConfig::from_json(r#"{"policy": {"redact": ["person"]}}"#).unwrap_err();
    /// assert!(err.to_string().contains("did you mean \"PERSON\""));
    /// ```
    pub fn from_json(json: &str) -> Result<ScannerConfig, BuildError> {
        from_json(json, "scanner")
    }

    /// The equivalent builder (packs are added by [`build`](Self::build)).
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::ScannerConfig::default().builder();
    /// assert!(b.build([]).is_ok());
    /// ```
    pub fn builder(&self) -> ScannerBuilder {
        let mut b = ScannerBuilder::new();
        b.default_packs(self.default_rules)
            .threshold(self.threshold)
            .scorer(self.scorer)
            .tagger(self.tagger)
            .policy(self.policy.clone());
        if let Some(c) = &self.categories {
            b.categories(c);
        }
        for d in &self.disable {
            b.disable(d);
        }
        b
    }

    /// Parses the packs and builds the scanner.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] naming the pack and rule, the unknown rule id or
    /// entity, or the value out of range.
    ///
    /// # Example
    ///
    /// ```
    /// use promptsieve::{PackSource, ScannerConfig};
    /// let mut c = ScannerConfig::default();
    /// c.rules.push(PackSource::Named { name: "house".into(), source: "not toml [".into() });
    /// assert_eq!(c.build().unwrap_err().pack(), Some("house"));
    /// ```
    pub fn build(&self) -> Result<Scanner, BuildError> {
        let packs = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, p)| match p {
                PackSource::Toml(src) => RulePack::from_toml(&format!("rules[{i}]"), src),
                PackSource::Named { name, source } => RulePack::from_toml(name, source),
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.builder().build(packs)
    }
}

/// Per-call options of [`Scanner::check_with`]: where the text comes from,
/// a policy for this call only, and how to redact.
///
/// # Example
///
/// ```
/// use promptsieve::{Action, CheckOptions, Scanner, Vault};
/// let opts = CheckOptions::from_json(r#"{"policy": {"redact": ["PERSON"]}}"#)?;
/// let d = Scanner::new().check_with("I am Alice Martin, card 4111 1111 1111 1111", &opts, &mut Vault::new())?;
/// assert_eq!(d.action, Action::Redact);
/// let text = &d.redacted.as_ref().unwrap().text;
/// assert!(text.contains("[PERSON_1]") && text.contains("4111"));
/// # Ok::<(), promptsieve::BuildError>(())
/// ```
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Where the text comes from (default: user input).
    pub source: Source,
    /// This call's policy instead of the scanner's.
    pub policy: Option<Policy>,
    /// Strategies, allow-listed values and per-entity thresholds. Which
    /// findings are redacted is the policy's `redact` list.
    pub redact: RedactOptions,
}

impl CheckOptions {
    /// Reads options from JSON.
    ///
    /// # Errors
    ///
    /// A configuration error naming the unknown key or wrong value.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(promptsieve::CheckOptions::from_json(r#"{"source": "tool"}"#).is_ok());
    /// assert!(promptsieve::CheckOptions::from_json(r#"{"sourse": "tool"}"#).is_err());
    /// ```
    pub fn from_json(json: &str) -> Result<CheckOptions, BuildError> {
        from_json(json, "check")
    }
}

/// serde_json with errors as configuration errors. The text is read into a
/// `serde_json::Value` first, so that each options type is compiled for one
/// deserializer (the value's, which rule packs use too), not also for JSON
/// text: less `.wasm` code, and the same errors.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T, BuildError> {
    from_json_value(parse_json(json, what)?, what)
}

/// JSON text as a value, with [`from_json`]'s errors.
pub(crate) fn parse_json(json: &str, what: &str) -> Result<serde_json::Value, BuildError> {
    serde_json::from_str(json).map_err(|e| json_error(&e, what))
}

/// [`from_json`] of text already parsed.
pub(crate) fn from_json_value<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
    what: &str,
) -> Result<T, BuildError> {
    serde_json::from_value(v).map_err(|e| json_error(&e, what))
}

fn json_error(e: &serde_json::Error, what: &str) -> BuildError {
    // Bindings write the JSON themselves: a position in it means nothing
    // to their caller.
    let mut msg = e.to_string();
    if let Some(i) = msg.rfind(" at line ") {
        msg.truncate(i);
    }
    BuildError::config(format!("invalid {what} options: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_and_refuse_wrong_case() {
        for s in ["pii", "secret", "EMAIL", "PERSON", "MY_ENTITY2"] {
            assert_eq!(s.parse::<Target>().map(|t| t.to_string()).as_deref(), Ok(s));
        }
        assert_eq!("EMAIL_ADDRESS".parse::<Target>(), Ok(Target::Entity("EMAIL".into())));
        assert!("Pii".parse::<Target>().unwrap_err().contains("\"pii\""));
        assert!("PII".parse::<Target>().unwrap_err().contains("\"pii\""));
        assert!("email_address".parse::<Target>().unwrap_err().contains("\"EMAIL\""));
        assert!("nothing".parse::<Target>().is_err());
    }

    #[test]
    fn entity_check_suggests_the_right_case() {
        let known = vec!["EMAIL".to_string(), "PERSON".to_string(), "PHONE".to_string()];
        assert!(check_entity("EMAIL", &known).is_ok());
        assert!(check_entity("EMAIL_ADDRESS", &known).is_ok());
        assert!(check_entity("email", &known).unwrap_err().to_string().contains("did you mean \"EMAIL\""));
        assert!(
            check_entity("phone_number", &known).unwrap_err().to_string().contains("did you mean \"PHONE\"")
        );
        assert!(check_entity("SSN", &known).unwrap_err().to_string().contains("EMAIL, PERSON, PHONE"));
    }

    #[test]
    fn config_accepts_camel_case_and_refuses_unknown_keys() {
        let c: ScannerConfig = serde_json::from_str(r#"{"defaultRules": false}"#).unwrap();
        assert!(!c.default_rules);
        assert!(serde_json::from_str::<ScannerConfig>(r#"{"default_rule": false}"#).is_err());
        let c: ScannerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, ScannerConfig::default());
    }
}
