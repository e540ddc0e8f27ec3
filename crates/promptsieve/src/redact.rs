//! Reversible redaction: replace personal data and secrets before a prompt
//! leaves for an LLM, and put the real values back into the reply.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::{ENTITIES, Target, check_entity};
use crate::error::BuildError;
use crate::finding::{Category, Finding, Span};

/// How one kind of value is replaced. Written as a string in configuration:
/// `"placeholder"`, `"mask"` (keeps 4), `"mask:N"`, `"hash"` or `"remove"`.
///
/// # Example
///
/// ```
/// use promptsieve::{RedactOptions, Scanner, Strategy};
///
/// let s = Scanner::new();
/// let mut opts = RedactOptions::default();
/// opts.set("CREDIT_CARD", "mask:4".parse()?);
/// let r = s.redact_with("card 4111 1111 1111 1111 please", &opts)?;
/// assert_eq!(r.text, "card **** **** **** 1111 please");
/// assert_eq!(Strategy::Mask { keep: 2 }.to_string(), "mask:2");
/// assert!("masked".parse::<Strategy>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// `[EMAIL_1]`, `[PERSON_2]`: numbered per entity; the same value always
    /// gets the same placeholder (within one call, or across calls with a
    /// [`Vault`]). Reversible with `restore`.
    Placeholder,
    /// Letters and digits replaced by `*`, keeping the last `keep` of them
    /// (separators stay, so the shape is recognisable). Not reversible.
    Mask {
        /// How many trailing letters/digits stay visible.
        keep: usize,
    },
    /// `[EMAIL:3f9a1c0b2d4e]`: the first 12 hex digits of HMAC-SHA256 of the
    /// value under the caller's key (`hash_key`, required) — stable across
    /// calls and processes for the same key, so records can be joined
    /// without storing the value.
    Hash,
    /// The value is removed.
    Remove,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Placeholder => f.write_str("placeholder"),
            Strategy::Mask { keep } => write!(f, "mask:{keep}"),
            Strategy::Hash => f.write_str("hash"),
            Strategy::Remove => f.write_str("remove"),
        }
    }
}

impl FromStr for Strategy {
    type Err = BuildError;

    fn from_str(s: &str) -> Result<Strategy, BuildError> {
        match s {
            "placeholder" => Ok(Strategy::Placeholder),
            "mask" => Ok(Strategy::Mask { keep: 4 }),
            "hash" => Ok(Strategy::Hash),
            "remove" => Ok(Strategy::Remove),
            _ => match s.strip_prefix("mask:").map(str::parse::<usize>) {
                Some(Ok(keep)) => Ok(Strategy::Mask { keep }),
                _ => Err(BuildError::config(format!(
                    "unknown strategy {s:?} (expected placeholder, mask, mask:N, hash or remove)"
                ))),
            },
        }
    }
}

/// The strings `FromStr` accepts.
#[cfg(feature = "ts")]
impl schemars::JsonSchema for Strategy {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Strategy".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "`\"mask\"` keeps 4 characters visible, `\"mask:N\"` keeps N; `\"hash\"` needs `hashKey`.",
            "x-ts": "\"placeholder\" | \"mask\" | `mask:${number}` | \"hash\" | \"remove\""
        })
    }
}

impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Strategy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strategy, D::Error> {
        String::deserialize(d)?.parse().map_err(|e: BuildError| serde::de::Error::custom(e.reason()))
    }
}

/// Which findings `redact` replaces, and how. A serde type: the bindings'
/// redaction options are this, read from JSON (snake_case or camelCase
/// keys; unknown keys are errors).
///
/// By default every personal-data and secret finding is replaced by a
/// placeholder.
///
/// # Example
///
/// ```
/// use promptsieve::{RedactOptions, Scanner, Strategy};
///
/// let mut opts = RedactOptions::default();
/// opts.strategy = Strategy::Hash;
/// opts.hash_key = b"per-tenant secret".to_vec();
/// let r = Scanner::new().redact_with("write to ana@example.org", &opts)?;
/// assert!(r.text.starts_with("write to [EMAIL:"));
/// assert!(!r.text.contains("ana@"));
///
/// // Hashing without a key would be the same guessable hash everywhere.
/// let bad = RedactOptions::from_json(r#"{"strategy": "hash"}"#)?;
/// assert!(Scanner::new().redact_with("ana@example.org", &bad).unwrap_err().to_string().contains("hash_key"));
/// # Ok::<(), promptsieve::BuildError>(())
/// ```
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactOptions {
    /// The strategy for entities without an entry in `per_entity`.
    pub strategy: Strategy,
    /// Strategies by entity name (`EMAIL`, `PHONE`, `CREDIT_CARD`, …).
    #[serde(rename = "perEntity", alias = "per_entity")]
    #[cfg_attr(feature = "ts", schemars(extend("x-ts" = "Partial<Record<Entity, Strategy>>")))]
    pub per_entity: HashMap<String, Strategy>,
    /// What is redacted: categories (`pii`, `secret`: the default) and
    /// entities (`PERSON`).
    #[serde(alias = "entities")]
    pub targets: Vec<Target>,
    /// The key for [`Strategy::Hash`] (as UTF-8 text in configuration).
    #[serde(rename = "hashKey", alias = "hash_key", with = "key_text")]
    #[cfg_attr(feature = "ts", schemars(with = "String"))]
    pub hash_key: Vec<u8>,
    /// Values never redacted (exact match), e.g. the support desk's own
    /// address.
    pub allow: Vec<String>,
    /// Per-entity score thresholds: a finding of that entity scoring below
    /// is left alone.
    #[cfg_attr(feature = "ts", schemars(extend("x-ts" = "Partial<Record<Entity, number>>")))]
    pub thresholds: HashMap<String, f64>,
}

mod key_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(key: &[u8], s: S) -> Result<S::Ok, S::Error> {
        // A key is never written out in clear: configuration round trips
        // carry only whether one is set.
        s.serialize_str(if key.is_empty() { "" } else { "<set>" })
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}

impl Default for RedactOptions {
    fn default() -> Self {
        RedactOptions {
            strategy: Strategy::Placeholder,
            per_entity: HashMap::new(),
            targets: vec![Category::Pii.into(), Category::Secret.into()],
            hash_key: Vec::new(),
            allow: Vec::new(),
            thresholds: HashMap::new(),
        }
    }
}

impl RedactOptions {
    /// Reads options from JSON.
    ///
    /// # Errors
    ///
    /// A configuration error naming the unknown key or the wrong value.
    ///
    /// # Example
    ///
    /// ```
    /// let o = promptsieve::RedactOptions::from_json(r#"{"perEntity": {"CREDIT_CARD": "mask:4"}, "entities": ["PERSON", "CREDIT_CARD"]}"#)?;
    /// assert_eq!(o.strategy_for("CREDIT_CARD"), &promptsieve::Strategy::Mask { keep: 4 });
    /// assert!(promptsieve::RedactOptions::from_json(r#"{"strategy": "blur"}"#).is_err());
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<RedactOptions, BuildError> {
        crate::config::from_json(json, "redact")
    }

    /// Sets the strategy for one entity.
    ///
    /// # Example
    ///
    /// ```
    /// let mut o = promptsieve::RedactOptions::default();
    /// o.set("SECRET", promptsieve::Strategy::Remove);
    /// assert_eq!(o.strategy_for("SECRET"), &promptsieve::Strategy::Remove);
    /// ```
    pub fn set(&mut self, entity: &str, strategy: Strategy) -> &mut RedactOptions {
        self.per_entity.insert(entity.to_string(), strategy);
        self
    }

    /// The strategy that applies to `entity` (entries may use aliases such
    /// as `EMAIL_ADDRESS`).
    ///
    /// # Example
    ///
    /// ```
    /// let o = promptsieve::RedactOptions::default();
    /// assert_eq!(o.strategy_for("EMAIL"), &promptsieve::Strategy::Placeholder);
    /// ```
    pub fn strategy_for(&self, entity: &str) -> &Strategy {
        self.per_entity
            .get(entity)
            .or_else(|| self.per_entity.iter().find(|(k, _)| ENTITIES.canonical(k) == entity).map(|(_, v)| v))
            .unwrap_or(&self.strategy)
    }

    /// Whether finding `f` is redacted: selected by `targets`, not
    /// allow-listed, and scoring at least its entity's threshold.
    pub(crate) fn selects(&self, f: &Finding, value: &str) -> bool {
        f.entity.is_some() && self.targets.iter().any(|t| t.matches(f)) && self.keeps(f, value)
    }

    /// The allow list and thresholds (without the target selection).
    pub(crate) fn keeps(&self, f: &Finding, value: &str) -> bool {
        let Some(entity) = f.entity.as_deref() else { return true };
        if self.allow.iter().any(|a| a == value) {
            return false;
        }
        let threshold = self.thresholds.get(entity).or_else(|| {
            self.thresholds.iter().find(|(k, _)| ENTITIES.canonical(k) == entity).map(|(_, v)| v)
        });
        threshold.is_none_or(|t| f.score >= *t)
    }

    /// Refuses entity names the scanner cannot report, thresholds outside
    /// 0..=1, and hashing without a key.
    pub(crate) fn validate(&self, known: &[String]) -> Result<(), BuildError> {
        for e in self.per_entity.keys().chain(self.thresholds.keys()) {
            check_entity(e, known)?;
        }
        for t in &self.targets {
            if let Target::Entity(e) = t {
                check_entity(e, known)?;
            }
        }
        for (e, t) in &self.thresholds {
            if !(0.0..=1.0).contains(t) {
                return Err(BuildError::config(format!("threshold {t} for {e} is outside 0..=1")));
            }
        }
        let hashes =
            self.strategy == Strategy::Hash || self.per_entity.values().any(|s| *s == Strategy::Hash);
        if hashes && self.hash_key.is_empty() {
            return Err(BuildError::config(
                "strategy \"hash\" needs a hash_key: without one, anyone can recompute the hash of a guessed value",
            ));
        }
        Ok(())
    }
}

/// One value that was replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// What now stands in the redacted text (empty for [`Strategy::Remove`]).
    pub placeholder: String,
    /// The entity (`EMAIL`, `PHONE`, …).
    pub entity: String,
    /// The category of the finding.
    pub category: Category,
    /// The rule that found it.
    pub rule: String,
    /// The original value.
    pub original: String,
    /// Where the value was in the original text (UTF-8 bytes).
    pub span: Span,
}

/// The result of [`Scanner::redact`](crate::Scanner::redact).
///
/// # Example
///
/// ```
/// let s = promptsieve::Scanner::new();
/// let r = s.redact("Mail ana@example.org or bob@example.org, again ana@example.org");
/// assert_eq!(r.text, "Mail [EMAIL_1] or [EMAIL_2], again [EMAIL_1]");
/// let reply = "I wrote to [EMAIL_1] and [email_2 ].";
/// assert_eq!(r.restore(reply), "I wrote to ana@example.org and bob@example.org.");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    /// The text with values replaced.
    pub text: String,
    /// Each replacement, in text order.
    pub replacements: Vec<Replacement>,
}

impl Redacted {
    /// Puts the original values back into `output` (typically the LLM's
    /// reply to the redacted prompt). Placeholders are found even when the
    /// reply changes their case or the spacing inside the brackets, or drops
    /// the brackets; unknown placeholders are left as they are.
    ///
    /// # Example
    ///
    /// ```
    /// let r = promptsieve::Scanner::new().redact("write to ana@example.org");
    /// assert_eq!(r.restore("Sure, I'll write to EMAIL_1."), "Sure, I'll write to ana@example.org.");
    /// ```
    pub fn restore(&self, output: &str) -> String {
        let map: HashMap<String, &str> = self
            .replacements
            .iter()
            .filter(|r| is_placeholder(&r.placeholder))
            .map(|r| (key(&r.placeholder), r.original.as_str()))
            .collect();
        restore_with(output, |k| map.get(k).copied())
    }
}

fn is_placeholder(p: &str) -> bool {
    PLACEHOLDER.is_match(p)
}

impl Redacted {
    /// The result as JSON (spans in UTF-8 bytes).
    ///
    /// # Example
    ///
    /// ```
    /// let r = promptsieve::Scanner::new().redact("mail ana@example.org");
    /// let back = promptsieve::Redacted::from_json(&r.to_json())?;
    /// assert_eq!(back.restore("[EMAIL_1]"), "ana@example.org");
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// Reads [`to_json`](Self::to_json)'s output, e.g. in a later request.
    ///
    /// # Errors
    ///
    /// When the JSON is not a redaction result.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(promptsieve::Redacted::from_json("{}").is_err());
    /// ```
    pub fn from_json(json: &str) -> Result<Redacted, BuildError> {
        crate::config::from_json(json, "redacted")
    }

    /// The replacements as a vault, to number later turns after these.
    ///
    /// # Example
    ///
    /// ```
    /// let s = promptsieve::Scanner::new();
    /// let mut v = s.redact("ana@example.org").to_vault();
    /// assert_eq!(s.redact_in("bob@example.org", &mut v).text, "[EMAIL_2]");
    /// ```
    pub fn to_vault(&self) -> Vault {
        let mut v = Vault::new();
        let mut seen = std::collections::HashSet::new();
        for r in self.replacements.iter().filter(|r| is_placeholder(&r.placeholder)) {
            if seen.insert(r.placeholder.as_str()) {
                v.entries.push(VaultEntry {
                    entity: r.entity.clone(),
                    value: r.original.clone(),
                    placeholder: r.placeholder.clone(),
                });
            }
        }
        v
    }
}

/// `[EMAIL_1]`, `[ email_1 ]`, or a bare `EMAIL_1` of a known entity.
/// Bounded (entity ≤ 41 characters, number ≤ 6 digits, ≤ 3 blanks), so
/// a stream restorer knows how much it may have to hold back.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\[[ \t]{0,3}([A-Z][A-Z0-9_]{0,40}?)_(\d{1,6})[ \t]{0,3}\]|\b(EMAIL|PHONE|PERSON|CREDIT_CARD|IBAN|US_SSN|IP_ADDRESS|URL_CREDENTIALS|SECRET)_(\d{1,6})\b",
    )
    .unwrap_or_else(|e| panic!("placeholder regex: {e}"))
});

/// The longest text the placeholder regex can match (`[`, 3 blanks, 41
/// entity characters, `_`, 6 digits, 3 blanks, `]`).
pub(crate) const LONGEST_PLACEHOLDER: usize = 1 + 3 + 41 + 1 + 6 + 3 + 1;

/// The entities whose placeholders are recognised without brackets.
pub(crate) const BARE_ENTITIES: [&str; 9] =
    ["EMAIL", "PHONE", "PERSON", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "URL_CREDENTIALS", "SECRET"];

fn key(placeholder: &str) -> String {
    PLACEHOLDER.captures(placeholder).map(|c| captured_key(&c)).unwrap_or_default()
}

fn captured_key(c: &regex::Captures<'_>) -> String {
    let (e, n) = match (c.get(1), c.get(2)) {
        (Some(e), Some(n)) => (e, n),
        _ => (c.get(3).unwrap_or_else(|| unreachable!()), c.get(4).unwrap_or_else(|| unreachable!())),
    };
    format!("{}_{}", e.as_str().to_ascii_uppercase(), n.as_str())
}

fn restore_with<'a>(output: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(output.len());
    restore_into(output, 0, &lookup, &mut out);
    out
}

/// Restores `hay[start..]` into `out`; the text before `start` is context
/// only (it decides whether a bare `EMAIL_1` starts at a word boundary).
pub(crate) fn restore_into<'a>(
    hay: &str,
    start: usize,
    lookup: &impl Fn(&str) -> Option<&'a str>,
    out: &mut String,
) {
    let mut at = start;
    while let Some(c) = PLACEHOLDER.captures_at(hay, at) {
        let m = c.get(0).unwrap_or_else(|| unreachable!());
        out.push_str(&hay[at..m.start()]);
        out.push_str(lookup(&captured_key(&c)).unwrap_or(m.as_str()));
        at = m.end();
    }
    out.push_str(&hay[at..]);
}

/// Keeps placeholders stable across calls: the same value always maps to
/// the same placeholder for the whole conversation, and one `restore`
/// serves every reply. It round-trips through JSON (plain, or sealed
/// with a key for storage the server does not control).
///
/// # Example
///
/// ```
/// use promptsieve::{Scanner, Vault};
///
/// let s = Scanner::new();
/// let mut vault = Vault::new();
/// let a = s.redact_in("I am reachable at ana@example.org", &mut vault);
/// let b = s.redact_in("Cc bob@example.org and ana@example.org", &mut vault);
/// assert_eq!(a.text, "I am reachable at [EMAIL_1]");
/// assert_eq!(b.text, "Cc [EMAIL_2] and [EMAIL_1]");
/// assert_eq!(vault.restore("Sent to [EMAIL_2]."), "Sent to bob@example.org.");
///
/// // Between requests: plain JSON, or sealed so the holder cannot read it.
/// let again = Vault::from_json(&vault.to_json())?;
/// assert_eq!(again, vault);
/// let sealed = vault.to_sealed_json(b"server key");
/// assert!(!sealed.contains("ana@"));
/// assert_eq!(Vault::from_sealed_json(&sealed, b"server key")?, vault);
/// assert!(Vault::from_sealed_json(&sealed, b"other key").is_err());
/// # Ok::<(), promptsieve::BuildError>(())
/// ```
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vault {
    /// One entry per distinct value, in order of first appearance.
    entries: Vec<VaultEntry>,
    /// Lookups over `entries`, kept up to date as they grow (not
    /// serialised; equal for equal entries).
    #[serde(skip)]
    #[cfg_attr(feature = "ts", schemars(skip))]
    index: VaultIndex,
}

/// What a redaction call looks up in a vault: the placeholder of a known
/// value and whether a placeholder number is taken. Built once and
/// extended with each new entry, so a conversation of thousands of
/// messages redacted through one vault costs each call its own values,
/// not the whole vault again.
#[derive(Clone, Default)]
struct VaultIndex {
    /// Entries indexed so far: a prefix of `entries`, which only grow.
    synced: usize,
    /// (entity, value) → entry.
    known: HashMap<(String, String), usize>,
    /// Placeholder keys (`EMAIL_1`) the entries hold.
    used: std::collections::HashSet<String>,
    /// Per entity: a number at or under which every placeholder is taken
    /// (the lowest free one is searched from here).
    frontier: HashMap<String, usize>,
}

impl PartialEq for VaultIndex {
    fn eq(&self, _: &VaultIndex) -> bool {
        true // derived from the entries, which are compared
    }
}

impl Eq for VaultIndex {}

impl std::fmt::Debug for VaultIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VaultIndex({} entries)", self.synced)
    }
}

impl Vault {
    /// Brings the index up to the entries.
    fn sync(&mut self) {
        let ix = &mut self.index;
        for (i, e) in self.entries.iter().enumerate().skip(ix.synced) {
            ix.known.insert((e.entity.clone(), e.value.clone()), i);
            ix.used.insert(key(&e.placeholder));
        }
        ix.synced = self.entries.len();
    }

    /// The lowest placeholder number of `entity` that no entry holds.
    fn lowest_free(&mut self, entity: &str) -> usize {
        let ix = &mut self.index;
        let n = ix.frontier.entry(entity.to_string()).or_insert(1);
        while ix.used.contains(&format!("{entity}_{n}")) {
            *n += 1;
        }
        *n
    }
}

/// One value a [`Vault`] holds.
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultEntry {
    /// The entity (`EMAIL`, …).
    pub entity: String,
    /// The original value.
    pub value: String,
    /// Its placeholder (`[EMAIL_1]`).
    pub placeholder: String,
}

/// A sealed vault: ChaCha20-Poly1305 over the plain JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    sealed: String,
}

impl Vault {
    /// An empty vault.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(promptsieve::Vault::new().is_empty());
    /// ```
    pub fn new() -> Vault {
        Vault::default()
    }

    /// Number of distinct values held.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(promptsieve::Vault::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the vault holds no value.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(promptsieve::Vault::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The values held, in order of first appearance.
    ///
    /// # Example
    ///
    /// ```
    /// let mut v = promptsieve::Vault::new();
    /// promptsieve::Scanner::new().redact_in("ana@example.org", &mut v);
    /// assert_eq!(v.entries()[0].placeholder, "[EMAIL_1]");
    /// ```
    pub fn entries(&self) -> &[VaultEntry] {
        &self.entries
    }

    /// Puts every value this vault knows back into `output`.
    ///
    /// # Example
    ///
    /// ```
    /// let mut v = promptsieve::Vault::new();
    /// promptsieve::Scanner::new().redact_in("ip 10.0.0.7", &mut v);
    /// assert_eq!(v.restore("ping [ip_address_1]"), "ping 10.0.0.7");
    /// ```
    pub fn restore(&self, output: &str) -> String {
        let map = self.lookup();
        restore_with(output, |k| map.get(k).copied())
    }

    /// Placeholder key (`EMAIL_1`) to value.
    pub(crate) fn lookup(&self) -> HashMap<String, &str> {
        self.entries.iter().map(|e| (key(&e.placeholder), e.value.as_str())).collect()
    }

    /// The vault as JSON: `{"entries": [{"entity", "value", "placeholder"}]}`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(promptsieve::Vault::new().to_json(), r#"{"entries":[]}"#);
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| unreachable!("a vault serialises: {e}"))
    }

    /// Reads [`to_json`](Self::to_json)'s output.
    ///
    /// # Errors
    ///
    /// When the JSON is not a vault (or is a sealed one: see
    /// [`from_sealed_json`](Self::from_sealed_json)).
    ///
    /// # Example
    ///
    /// ```
    /// assert!(promptsieve::Vault::from_json(r#"{"entries": 3}"#).is_err());
    /// ```
    pub fn from_json(json: &str) -> Result<Vault, BuildError> {
        // One parse: the sealed check reads the value without taking it.
        let value = crate::config::parse_json(json, "vault")?;
        if <Sealed as serde::Deserialize>::deserialize(&value).is_ok() {
            return Err(BuildError::config(
                "this vault is sealed: read it with from_sealed_json and its key",
            ));
        }
        let v: Vault = crate::config::from_json_value(value, "vault")?;
        v.check()?;
        Ok(v)
    }

    /// The vault encrypted and authenticated under `key` (ChaCha20-Poly1305
    /// with a key and nonce derived from `key` and the content by
    /// HMAC-SHA256): `{"sealed": "<hex>"}`. For vaults kept in a cookie or
    /// a client: the holder can neither read nor alter the values.
    ///
    /// # Example
    ///
    /// ```
    /// let v = promptsieve::Vault::new();
    /// assert!(v.to_sealed_json(b"k").starts_with(r#"{"sealed":""#));
    /// ```
    pub fn to_sealed_json(&self, key: &[u8]) -> String {
        use chacha20poly1305::aead::Aead;
        let plain = self.to_json();
        let (cipher, _) = sealing_cipher(key);
        // A synthetic nonce (keyed hash of the content): the same vault
        // seals to the same text, and distinct vaults never share a nonce.
        let tag = crate::util::hmac_bytes(&sealing_cipher(key).1, &[plain.as_bytes()]);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&tag[..12]);
        let sealed = cipher
            .encrypt(&chacha20poly1305::Nonce::from(nonce), plain.as_bytes())
            .unwrap_or_else(|e| unreachable!("sealing cannot fail: {e}"));
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        serde_json::to_string(&Sealed { sealed: crate::util::hex(&bytes) })
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// Reads [`to_sealed_json`](Self::to_sealed_json)'s output.
    ///
    /// # Errors
    ///
    /// When the key is wrong or the text was altered.
    ///
    /// # Example
    ///
    /// ```
    /// let s = promptsieve::Vault::new().to_sealed_json(b"k");
    /// assert!(promptsieve::Vault::from_sealed_json(&s, b"k").is_ok());
    /// assert!(promptsieve::Vault::from_sealed_json(&s, b"j").is_err());
    /// ```
    pub fn from_sealed_json(json: &str, key: &[u8]) -> Result<Vault, BuildError> {
        use chacha20poly1305::aead::Aead;
        let bad = || BuildError::config("sealed vault: wrong key, or the text was altered");
        let sealed: Sealed = crate::config::from_json(json, "sealed vault")?;
        let bytes = crate::util::unhex(&sealed.sealed).ok_or_else(bad)?;
        if bytes.len() < 12 {
            return Err(bad());
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&bytes[..12]);
        let (cipher, _) = sealing_cipher(key);
        let plain = cipher.decrypt(&chacha20poly1305::Nonce::from(nonce), &bytes[12..]).map_err(|_| bad())?;
        let plain = String::from_utf8(plain).map_err(|_| bad())?;
        Vault::from_json(&plain)
    }

    /// A vault read from outside must be one `redact` could have made.
    fn check(&self) -> Result<(), BuildError> {
        let mut seen = std::collections::HashSet::new();
        for e in &self.entries {
            let k = key(&e.placeholder);
            if PLACEHOLDER.find(&e.placeholder).is_none_or(|m| m.len() != e.placeholder.len())
                || !k.starts_with(&e.entity)
            {
                return Err(BuildError::config(format!(
                    "vault entry {:?} for {} is not a placeholder of that entity",
                    e.placeholder, e.entity
                )));
            }
            if !seen.insert(k) {
                return Err(BuildError::config(format!(
                    "vault placeholder {:?} is used twice",
                    e.placeholder
                )));
            }
        }
        Ok(())
    }

    /// A restorer for a reply that arrives in chunks; see
    /// [`StreamRestorer`](crate::StreamRestorer).
    ///
    /// # Example
    ///
    /// ```
    /// let mut v = promptsieve::Vault::new();
    /// promptsieve::Scanner::new().redact_in("ana@example.org", &mut v);
    /// let mut r = v.restorer();
    /// let mut out = r.push("Mail [EMA");
    /// out += &r.push("IL_1] today");
    /// out += &r.finish();
    /// assert_eq!(out, "Mail ana@example.org today");
    /// ```
    pub fn restorer(&self) -> crate::StreamRestorer {
        crate::StreamRestorer::new(self)
    }
}

/// The AEAD under a key derived from the caller's, and a second derived key
/// for the synthetic nonce.
fn sealing_cipher(key: &[u8]) -> (chacha20poly1305::ChaCha20Poly1305, [u8; 32]) {
    use chacha20poly1305::KeyInit;
    let k = crate::util::hmac_bytes(key, &[b"promptsieve vault v1 encryption"]);
    let n = crate::util::hmac_bytes(key, &[b"promptsieve vault v1 nonce"]);
    (chacha20poly1305::ChaCha20Poly1305::new(&chacha20poly1305::Key::from(k)), n)
}

/// Hands out placeholders for one redaction call: existing vault entries
/// are found through the vault's index, and numbers whose placeholder
/// already stands in the input (say a column named `EMAIL_1`) are skipped,
/// so `restore` cannot rewrite the user's own words. Linear in the input
/// and the entries the call adds (the index is built once per vault).
struct Numberer<'v> {
    vault: &'v mut Vault,
    /// Placeholder keys standing in this call's input.
    in_text: std::collections::HashSet<String>,
    /// Per entity, the last number this call handed out or tried.
    next: HashMap<String, usize>,
}

impl<'v> Numberer<'v> {
    fn new(vault: &'v mut Vault, text: &str) -> Numberer<'v> {
        vault.sync();
        let in_text = PLACEHOLDER.find_iter(text).map(|m| key(m.as_str())).collect();
        Numberer { vault, in_text, next: HashMap::new() }
    }

    fn placeholder(&mut self, entity: &str, value: &str) -> String {
        if let Some(&i) = self.vault.index.known.get(&(entity.to_string(), value.to_string())) {
            return self.vault.entries[i].placeholder.clone();
        }
        let mut n = match self.next.get(entity) {
            Some(&n) => n,
            None => self.vault.lowest_free(entity),
        };
        while self.vault.index.used.contains(&format!("{entity}_{n}"))
            || self.in_text.contains(&format!("{entity}_{n}"))
        {
            n += 1;
        }
        self.next.insert(entity.to_string(), n);
        let p = format!("[{entity}_{n}]");
        self.vault.entries.push(VaultEntry {
            entity: entity.to_string(),
            value: value.to_string(),
            placeholder: p.clone(),
        });
        self.vault.sync();
        p
    }
}

fn mask(value: &str, keep: usize) -> String {
    let total = value.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen + keep > total { c } else { '*' }
        })
        .collect()
}

fn keyed_hash(key: &[u8], entity: &str, value: &str) -> String {
    let hex = crate::util::hmac_hex(key, &[entity.as_bytes(), &[0], value.as_bytes()]);
    format!("[{entity}:{}]", &hex[..12])
}

/// Replaces the findings of `text` chosen by `opts`, numbering placeholders
/// through `vault`.
pub(crate) fn redact(text: &str, findings: &[Finding], opts: &RedactOptions, vault: &mut Vault) -> Redacted {
    // Values to replace, in order; overlapping ones merge into the first
    // (findings are sorted by start), taking the union of their spans.
    let mut chosen: Vec<(Span, &Finding)> = Vec::new();
    for f in findings {
        if !opts.selects(f, &text[f.span.range()]) {
            continue;
        }
        match chosen.last_mut() {
            Some((span, _)) if span.overlaps(f.span) => span.end = span.end.max(f.span.end),
            _ => chosen.push((f.span, f)),
        }
    }
    // A value found once is redacted everywhere it occurs as a whole word:
    // "M. Cé … Cé" must not keep the second, undetected "Cé".
    let mut values: Vec<&str> =
        chosen.iter().map(|(span, _)| &text[span.range()]).filter(|v| v.chars().count() >= 2).collect();
    values.sort_unstable();
    values.dedup();
    if !values.is_empty()
        && let Ok(ac) = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&values)
    {
        let covered = chosen.clone();
        let by_value: HashMap<&str, &Finding> =
            covered.iter().map(|(span, f)| (&text[span.range()], *f)).collect();
        let mut i = 0;
        for m in ac.find_iter(text) {
            while i < covered.len() && covered[i].0.end <= m.start() {
                i += 1;
            }
            let span = Span::new(m.start(), m.end());
            if covered.get(i).is_some_and(|(c, _)| c.overlaps(span)) {
                continue;
            }
            let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
            if word(text[..m.start()].chars().next_back()) || word(text[m.end()..].chars().next()) {
                continue;
            }
            if let Some(f) = by_value.get(&text[span.range()]) {
                chosen.push((span, f));
            }
        }
        crate::util::sort::sort_by_key(&mut chosen, |(span, _)| (span.start, span.end));
    }
    let mut numbers = Numberer::new(vault, text);
    let mut out = String::with_capacity(text.len());
    let mut replacements = Vec::with_capacity(chosen.len());
    let mut last = 0;
    for (span, f) in chosen {
        let entity = f.entity.as_deref().unwrap_or("VALUE");
        let original = &text[span.range()];
        let placeholder = match opts.strategy_for(entity) {
            Strategy::Placeholder => numbers.placeholder(entity, original),
            Strategy::Mask { keep } => mask(original, *keep),
            Strategy::Hash => keyed_hash(&opts.hash_key, entity, original),
            Strategy::Remove => String::new(),
        };
        out.push_str(&text[last..span.start]);
        out.push_str(&placeholder);
        last = span.end;
        replacements.push(Replacement {
            placeholder,
            entity: entity.to_string(),
            category: f.category,
            rule: f.rule.clone(),
            original: original.to_string(),
            span,
        });
    }
    out.push_str(&text[last..]);
    Redacted { text: out, replacements }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_shape() {
        assert_eq!(mask("4111-1111-1111-1234", 4), "****-****-****-1234");
        assert_eq!(mask("ab", 4), "ab");
    }

    #[test]
    fn hash_is_keyed_and_stable() {
        let a = keyed_hash(b"k1", "EMAIL", "a@b.co");
        assert_eq!(a, keyed_hash(b"k1", "EMAIL", "a@b.co"));
        assert_ne!(a, keyed_hash(b"k2", "EMAIL", "a@b.co"));
        assert_eq!(a.len(), "[EMAIL:".len() + 12 + 1);
    }

    #[test]
    fn placeholder_keys() {
        assert_eq!(key("[EMAIL_1]"), "EMAIL_1");
        assert_eq!(key("[ email_12 ]"), "EMAIL_12");
        assert_eq!(key("PERSON_3"), "PERSON_3");
        assert_eq!(restore_with("x [FOO_9] y", |_| None), "x [FOO_9] y");
        assert_eq!(key("[EMP_ID2_1]"), "EMP_ID2_1");
        let mut v = Vault::new();
        let mut n = Numberer::new(&mut v, "rename column EMAIL_1 to x");
        assert_eq!(n.placeholder("EMAIL", "a@b.co"), "[EMAIL_2]");
        assert_eq!(n.placeholder("EMAIL", "c@d.co"), "[EMAIL_3]");
        assert_eq!(n.placeholder("EMAIL", "a@b.co"), "[EMAIL_2]");
    }
}
