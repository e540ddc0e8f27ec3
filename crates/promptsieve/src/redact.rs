//! Reversible redaction: replace personal data and secrets before a prompt
//! leaves for an LLM, and put the real values back into the reply.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::finding::{Category, Finding, Span};

/// How one kind of value is replaced.
///
/// # Example
///
/// ```
/// use promptsieve::{RedactOptions, Scanner, Strategy};
///
/// let s = Scanner::new();
/// let mut opts = RedactOptions::default();
/// opts.set("CREDIT_CARD", Strategy::Mask { keep: 4 });
/// let r = s.redact_with("card 4111 1111 1111 1111 please", &opts);
/// assert_eq!(r.text, "card **** **** **** 1111 please");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// value under the caller's key — stable across calls and processes for
    /// the same key, so records can be joined without storing the value.
    Hash,
    /// The value is removed.
    Remove,
}

/// Which findings `redact` replaces, and how.
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
/// let r = Scanner::new().redact_with("write to ana@example.org", &opts);
/// assert!(r.text.starts_with("write to [EMAIL:"));
/// assert!(!r.text.contains("ana@"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedactOptions {
    /// The strategy for entities without an entry in `per_entity`.
    pub strategy: Strategy,
    /// Strategies by entity name (`EMAIL`, `PHONE`, `CREDIT_CARD`, …).
    pub per_entity: HashMap<String, Strategy>,
    /// Categories whose findings are redacted (default: `pii`, `secret`).
    pub categories: Vec<Category>,
    /// The key for [`Strategy::Hash`]. An empty key still hashes, but then
    /// anyone can recompute the hash of a guessed value: set one.
    pub hash_key: Vec<u8>,
}

impl Default for RedactOptions {
    fn default() -> Self {
        RedactOptions {
            strategy: Strategy::Placeholder,
            per_entity: HashMap::new(),
            categories: vec![Category::Pii, Category::Secret],
            hash_key: Vec::new(),
        }
    }
}

impl RedactOptions {
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

    /// The strategy that applies to `entity`.
    ///
    /// # Example
    ///
    /// ```
    /// let o = promptsieve::RedactOptions::default();
    /// assert_eq!(o.strategy_for("EMAIL"), &promptsieve::Strategy::Placeholder);
    /// ```
    pub fn strategy_for(&self, entity: &str) -> &Strategy {
        self.per_entity.get(entity).unwrap_or(&self.strategy)
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

/// `[EMAIL_1]`, `[ email_1 ]`, or a bare `EMAIL_1` of a known entity.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\[\s*([A-Z][A-Z0-9_]*?)_(\d+)\s*\]|\b(EMAIL|PHONE|PERSON|CREDIT_CARD|IBAN|US_SSN|IP_ADDRESS|URL_CREDENTIALS|SECRET)_(\d+)\b",
    )
    .unwrap_or_else(|e| panic!("placeholder regex: {e}"))
});

fn key(placeholder: &str) -> String {
    PLACEHOLDER
        .captures(placeholder)
        .map(|c| {
            let (e, n) = match (c.get(1), c.get(2)) {
                (Some(e), Some(n)) => (e, n),
                _ => (c.get(3).unwrap_or_else(|| unreachable!()), c.get(4).unwrap_or_else(|| unreachable!())),
            };
            format!("{}_{}", e.as_str().to_ascii_uppercase(), n.as_str())
        })
        .unwrap_or_default()
}

fn restore_with<'a>(output: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    PLACEHOLDER
        .replace_all(output, |c: &regex::Captures<'_>| {
            let whole = c.get(0).map_or("", |m| m.as_str());
            lookup(&key(whole)).map_or_else(|| whole.to_string(), str::to_string)
        })
        .into_owned()
}

/// Keeps placeholders stable across calls: the same value always maps to
/// the same placeholder for the whole conversation, and one `restore`
/// serves every reply. Serializable, so it can be stored between requests.
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
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vault {
    /// `(entity, value, placeholder)` in order of first appearance.
    entries: Vec<(String, String, String)>,
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
        let map: HashMap<String, &str> = self.entries.iter().map(|(_, v, p)| (key(p), v.as_str())).collect();
        restore_with(output, |k| map.get(k).copied())
    }
}

/// Hands out placeholders for one redaction call: existing vault entries
/// are found by hash, and numbers whose placeholder already stands in the
/// input (say a column named `EMAIL_1`) are skipped, so `restore` cannot
/// rewrite the user's own words. Linear in the input and the vault.
struct Numberer<'v> {
    vault: &'v mut Vault,
    known: HashMap<(String, String), String>,
    used: std::collections::HashSet<String>,
    next: HashMap<String, usize>,
}

impl<'v> Numberer<'v> {
    fn new(vault: &'v mut Vault, text: &str) -> Numberer<'v> {
        let known = vault.entries.iter().map(|(e, v, p)| ((e.clone(), v.clone()), p.clone())).collect();
        let mut used: std::collections::HashSet<String> =
            vault.entries.iter().map(|(_, _, p)| key(p)).collect();
        used.extend(PLACEHOLDER.find_iter(text).map(|m| key(m.as_str())));
        Numberer { vault, known, used, next: HashMap::new() }
    }

    fn placeholder(&mut self, entity: &str, value: &str) -> String {
        if let Some(p) = self.known.get(&(entity.to_string(), value.to_string())) {
            return p.clone();
        }
        let n = self.next.entry(entity.to_string()).or_insert(1);
        while self.used.contains(&format!("{entity}_{n}")) {
            *n += 1;
        }
        let p = format!("[{entity}_{n}]");
        self.used.insert(format!("{entity}_{n}"));
        self.known.insert((entity.to_string(), value.to_string()), p.clone());
        self.vault.entries.push((entity.to_string(), value.to_string(), p.clone()));
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
        let Some(_) = f.entity.as_deref() else { continue };
        if !opts.categories.contains(&f.category) {
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
        chosen.sort_by_key(|(span, _)| (span.start, span.end));
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
