//! The one surface the npm package and the Python wheel wrap: options in
//! as JSON, results out as JSON with spans in the caller's [`Unit`]. Every
//! translation (options, entity names, strategies, offsets, result shapes)
//! happens here, once, so the bindings hold no logic of their own and the
//! three languages cannot drift apart.
//!
//! # Example
//!
//! ```
//! use promptsieve::{Unit, Vault, bind::Bound};
//! let s = Bound::new(r#"{"threshold": 0.6}"#)?;
//! let report: serde_json::Value = serde_json::from_str(&s.scan("😀 ana@example.org", "user", Unit::Utf16)?).unwrap();
//! assert_eq!(report["findings"][0]["start"], 3);
//! let mut vault = Vault::new();
//! let r: serde_json::Value = serde_json::from_str(&s.redact("ana@example.org", "{}", Some(&mut vault), Unit::CodePoints)?).unwrap();
//! assert_eq!(r["text"], "[EMAIL_1]");
//! # Ok::<(), promptsieve::BuildError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{CheckOptions, ScannerConfig, from_json};
use crate::error::BuildError;
use crate::finding::{Category, Report, Source};
use crate::offsets::{Offsets, Unit};
use crate::output::{Audit, OutputContext};
use crate::redact::{RedactOptions, Redacted, Vault};
use crate::scanner::{Action, Decision, Reason, Scanner};

/// One finding, spans in the caller's unit, with the matched text.
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingData {
    /// Rule id.
    pub rule: String,
    /// Category.
    pub category: Category,
    /// Entity, for personal data and secrets (`null` otherwise).
    // Always present, `null` when absent (the schema would drop the null).
    #[cfg_attr(feature = "ts", schemars(required, extend("x-ts" = "Entity | null")))]
    pub entity: Option<String>,
    /// Start, in the caller's unit.
    pub start: usize,
    /// End, in the caller's unit.
    pub end: usize,
    /// Score in 0..=1.
    pub score: f64,
    /// The matched text.
    pub text: String,
    /// What the rule saw (`null` when nothing more to say).
    // Always present, `null` when absent (the schema would drop the null).
    #[cfg_attr(feature = "ts", schemars(required, extend("x-ts" = "string | null")))]
    pub detail: Option<String>,
}

/// A report in the caller's unit.
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportData {
    /// Attack risk.
    pub risk: f64,
    /// Whether the risk reaches the threshold.
    pub flagged: bool,
    /// The findings.
    pub findings: Vec<FindingData>,
}

/// One replacement in the caller's unit.
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplacementData {
    /// What stands in the redacted text.
    pub placeholder: String,
    /// The entity.
    pub entity: String,
    /// The category.
    pub category: Category,
    /// The rule that found it.
    pub rule: String,
    /// The original value.
    pub original: String,
    /// Start in the original text, in the caller's unit.
    pub start: usize,
    /// End in the original text, in the caller's unit.
    pub end: usize,
    /// In a message list: the message index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<usize>,
    /// In a message list: the content part index, if the content has parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<usize>,
}

/// A redaction in the caller's unit; enough to restore a reply later.
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactedData {
    /// The redacted text.
    pub text: String,
    /// The replacements, in text order.
    pub replacements: Vec<ReplacementData>,
}

/// A decision in the caller's unit.
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionData {
    /// `allow`, `redact` or `block`.
    pub action: Action,
    /// Why.
    pub reasons: Vec<Reason>,
    /// The scan behind it.
    pub report: ReportData,
    /// For `redact`: the text to send and how to restore the reply.
    #[cfg_attr(feature = "ts", schemars(required, extend("x-ts" = "RedactedData | null")))]
    pub redacted: Option<RedactedData>,
}

/// A message list's redaction.
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesData {
    /// The messages with values replaced.
    #[cfg_attr(feature = "ts", schemars(extend("x-ts" = "Message[]")))]
    pub messages: Value,
    /// Every replacement, with its `message` and `part`.
    pub replacements: Vec<ReplacementData>,
}

/// A message list's decision.
#[cfg_attr(feature = "ts", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesDecisionData {
    /// The strongest action over the messages.
    pub action: Action,
    /// The reasons, prefixed with their message index.
    pub reasons: Vec<Reason>,
    /// The messages to send (redacted for `redact`).
    #[cfg_attr(feature = "ts", schemars(extend("x-ts" = "Message[]")))]
    pub messages: Value,
    /// Every replacement, with its `message` and `part`.
    pub replacements: Vec<ReplacementData>,
    /// One report per text, with its `message` and `part`.
    #[cfg_attr(feature = "ts", schemars(extend("x-ts" = "Array<ReportData & { message: number; part: number | null; role: string }>")))]
    pub reports: Vec<Value>,
}

/// Converts a report's byte spans into `unit`.
pub fn report_data(report: &Report, text: &str, unit: Unit) -> ReportData {
    let o = Offsets::new(text, unit);
    report_data_by(report, text, |b| o.at(b))
}

/// [`report_data`] for a stream's new findings: spans converted by the
/// stream's own cursor, which counts only the text since the last ones
/// (a table of the whole reply per chunk would make a stream quadratic).
pub fn stream_report_data(report: &Report, text: &str, cursor: &mut crate::OffsetCursor) -> ReportData {
    report_data_by(report, text, |b| cursor.at(text, b))
}

fn report_data_by(report: &Report, text: &str, mut at: impl FnMut(usize) -> usize) -> ReportData {
    ReportData {
        risk: report.risk,
        flagged: report.flagged,
        findings: report
            .findings
            .iter()
            .map(|f| FindingData {
                rule: f.rule.clone(),
                category: f.category,
                entity: f.entity.clone(),
                start: at(f.span.start),
                end: at(f.span.end),
                score: f.score,
                text: text[f.span.range()].to_string(),
                detail: f.detail.clone(),
            })
            .collect(),
    }
}

/// Converts a redaction's byte spans (into `original`) into `unit`.
pub fn redacted_data(r: &Redacted, original: &str, unit: Unit) -> RedactedData {
    let o = Offsets::new(original, unit);
    RedactedData {
        text: r.text.clone(),
        replacements: r
            .replacements
            .iter()
            .map(|x| ReplacementData {
                placeholder: x.placeholder.clone(),
                entity: x.entity.clone(),
                category: x.category,
                rule: x.rule.clone(),
                original: x.original.clone(),
                start: o.at(x.span.start),
                end: o.at(x.span.end),
                message: None,
                part: None,
            })
            .collect(),
    }
}

/// Converts a decision into `unit`.
pub fn decision_data(d: &Decision, text: &str, unit: Unit) -> DecisionData {
    DecisionData {
        action: d.action,
        reasons: d.reasons.clone(),
        report: report_data(&d.report, text, unit),
        redacted: d.redacted.as_ref().map(|r| redacted_data(r, text, unit)),
    }
}

impl RedactedData {
    /// Puts the original values back into `reply`.
    ///
    /// # Example
    ///
    /// ```
    /// use promptsieve::{Unit, bind::redacted_data};
    /// let text = "mail ana@example.org";
    /// let d = redacted_data(&promptsieve::Scanner::new().redact(text), text, Unit::Utf16);
    /// assert_eq!(d.restore("sent to [EMAIL_1]"), "sent to ana@example.org");
    /// ```
    pub fn restore(&self, reply: &str) -> String {
        self.to_vault().restore(reply)
    }

    /// The placeholders as a vault (to restore streams or go on numbering).
    ///
    /// # Example
    ///
    /// ```
    /// use promptsieve::{Unit, bind::redacted_data};
    /// let d = redacted_data(&promptsieve::Scanner::new().redact("ana@example.org"), "ana@example.org", Unit::Utf8);
    /// assert_eq!(d.to_vault().len(), 1);
    /// ```
    pub fn to_vault(&self) -> Vault {
        Redacted {
            text: self.text.clone(),
            replacements: self
                .replacements
                .iter()
                .map(|x| crate::redact::Replacement {
                    placeholder: x.placeholder.clone(),
                    entity: x.entity.clone(),
                    category: x.category,
                    rule: x.rule.clone(),
                    original: x.original.clone(),
                    span: crate::finding::Span::new(0, 0),
                })
                .collect(),
        }
        .to_vault()
    }
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| unreachable!("results serialise: {e}"))
}

fn source(s: &str) -> Result<Source, BuildError> {
    s.parse().map_err(BuildError::config)
}

/// A scanner with the configuration it was built from (so a binding can
/// pickle or copy it by rebuilding from the same JSON).
#[derive(Clone, Debug)]
pub struct Bound {
    scanner: Scanner,
    config: ScannerConfig,
}

impl Bound {
    /// Builds a scanner from [`ScannerConfig`] JSON.
    ///
    /// # Errors
    ///
    /// Unknown keys, wrong values, invalid packs, unknown rule ids or
    /// entities, each named.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(promptsieve::bind::Bound::new(r#"{"disable": ["nope"]}"#).is_err());
    /// ```
    pub fn new(config: &str) -> Result<Bound, BuildError> {
        let config = ScannerConfig::from_json(config)?;
        Ok(Bound { scanner: config.build()?, config })
    }

    /// The configuration as JSON, to rebuild the same scanner.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new(r#"{"threshold": 0.8}"#)?;
    /// assert_eq!(promptsieve::bind::Bound::new(&b.config_json())?.scanner().threshold(), 0.8);
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn config_json(&self) -> String {
        to_json(&self.config)
    }

    /// The scanner.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new("{}")?;
    /// assert!(b.scanner().scan("ignore previous instructions").flagged);
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// [`Scanner::scan_as`] → [`ReportData`] JSON.
    ///
    /// # Errors
    ///
    /// An unknown source.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new("{}")?;
    /// assert!(b.scan("x", "robot", promptsieve::Unit::Utf8).is_err());
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn scan(&self, text: &str, source_name: &str, unit: Unit) -> Result<String, BuildError> {
        let r = self.scanner.scan_as(text, source(source_name)?);
        Ok(to_json(&report_data(&r, text, unit)))
    }

    /// [`Scanner::scan_output`] with [`OutputContext`] JSON → [`ReportData`] JSON.
    ///
    /// # Errors
    ///
    /// Invalid context options.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new("{}")?;
    /// let r = b.scan_output("it is zx-91", r#"{"canaries": ["zx-91"]}"#, promptsieve::Unit::Utf8)?;
    /// assert!(r.contains("output-canary"));
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn scan_output(&self, text: &str, ctx: &str, unit: Unit) -> Result<String, BuildError> {
        let ctx = OutputContext::from_json(ctx)?;
        Ok(to_json(&report_data(&self.scanner.scan_output(text, &ctx), text, unit)))
    }

    /// [`Scanner::redact_full`] with [`RedactOptions`] JSON → [`RedactedData`] JSON.
    ///
    /// # Errors
    ///
    /// Invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new("{}")?;
    /// assert!(b.redact("x", r#"{"perEntity": {"email": "mask"}}"#, None, promptsieve::Unit::Utf8).is_err());
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn redact(
        &self,
        text: &str,
        opts: &str,
        vault: Option<&mut Vault>,
        unit: Unit,
    ) -> Result<String, BuildError> {
        let opts = RedactOptions::from_json(opts)?;
        let mut fresh = Vault::new();
        let r = self.scanner.redact_full(text, &opts, vault.unwrap_or(&mut fresh))?;
        Ok(to_json(&redacted_data(&r, text, unit)))
    }

    /// [`Scanner::check_with`] with [`CheckOptions`] JSON → [`DecisionData`] JSON.
    ///
    /// # Errors
    ///
    /// Invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new("{}")?;
    /// let d = b.check("mail ana@example.org", r#"{"policy": {"redact": ["EMAIL_ADDRESS"]}}"#, None, promptsieve::Unit::Utf8)?;
    /// assert!(d.contains(r#""action":"redact""#));
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn check(
        &self,
        text: &str,
        opts: &str,
        vault: Option<&mut Vault>,
        unit: Unit,
    ) -> Result<String, BuildError> {
        let opts = CheckOptions::from_json(opts)?;
        let mut fresh = Vault::new();
        let d = self.scanner.check_with(text, &opts, vault.unwrap_or(&mut fresh))?;
        Ok(to_json(&decision_data(&d, text, unit)))
    }

    /// [`Scanner::redact_messages`] on a JSON message list → [`MessagesData`] JSON.
    ///
    /// # Errors
    ///
    /// Not a message list, or invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new("{}")?;
    /// let r = b.redact_messages(r#"[{"role": "user", "content": "é ana@example.org"}]"#, "{}", None, promptsieve::Unit::CodePoints)?;
    /// assert!(r.contains(r#""start":2"#) && r.contains(r#""message":0"#));
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn redact_messages(
        &self,
        messages: &str,
        opts: &str,
        vault: Option<&mut Vault>,
        unit: Unit,
    ) -> Result<String, BuildError> {
        let messages: Value = from_json(messages, "messages")?;
        let opts = RedactOptions::from_json(opts)?;
        let mut fresh = Vault::new();
        let r = self.scanner.redact_messages(&messages, &opts, vault.unwrap_or(&mut fresh))?;
        let replacements = r
            .replacements
            .iter()
            .map(|m| {
                let text = text_at(&messages, m.message, m.part);
                let mut d = redacted_data(
                    &Redacted { text: String::new(), replacements: vec![m.replacement.clone()] },
                    text,
                    unit,
                )
                .replacements
                .remove(0);
                d.message = Some(m.message);
                d.part = m.part;
                d
            })
            .collect();
        Ok(to_json(&MessagesData { messages: r.messages, replacements }))
    }

    /// [`Scanner::check_messages`] on a JSON message list → [`MessagesDecisionData`] JSON.
    ///
    /// # Errors
    ///
    /// Not a message list, or invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new("{}")?;
    /// let d = b.check_messages(r#"[{"role": "user", "content": "hi"}]"#, "{}", None, promptsieve::Unit::Utf8)?;
    /// assert!(d.contains(r#""action":"allow""#));
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn check_messages(
        &self,
        messages: &str,
        opts: &str,
        vault: Option<&mut Vault>,
        unit: Unit,
    ) -> Result<String, BuildError> {
        let messages: Value = from_json(messages, "messages")?;
        let opts = CheckOptions::from_json(opts)?;
        let mut fresh = Vault::new();
        let d = self.scanner.check_messages(&messages, &opts, vault.unwrap_or(&mut fresh))?;
        let mut replacements = Vec::new();
        let mut reports = Vec::new();
        for m in &d.decisions {
            let text = text_at(&messages, m.message, m.part);
            let mut report = serde_json::to_value(report_data(&m.decision.report, text, unit))
                .unwrap_or_else(|e| unreachable!("{e}"));
            report["message"] = m.message.into();
            report["part"] = m.part.into();
            report["role"] = m.role.clone().into();
            reports.push(report);
            if let Some(r) = &m.decision.redacted {
                replacements.extend(redacted_data(r, text, unit).replacements.into_iter().map(|mut x| {
                    x.message = Some(m.message);
                    x.part = m.part;
                    x
                }));
            }
        }
        Ok(to_json(&MessagesDecisionData {
            action: d.action,
            reasons: d.reasons,
            messages: d.messages,
            replacements,
            reports,
        }))
    }

    /// The calls that take options (and a vault), by name: `"redact"`,
    /// `"check"`, `"redact_messages"`, `"check_messages"` (input: the
    /// messages' JSON) and `"scan_output"` (options: the output context).
    /// The bindings expose this one entry point.
    ///
    /// # Errors
    ///
    /// An unknown operation, or what the operation refuses.
    ///
    /// # Example
    ///
    /// ```
    /// let b = promptsieve::bind::Bound::new("{}")?;
    /// let r = b.call("redact", "ana@example.org", "{}", None, promptsieve::Unit::Utf8)?;
    /// assert!(r.contains("[EMAIL_1]"));
    /// assert!(b.call("shred", "x", "{}", None, promptsieve::Unit::Utf8).is_err());
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn call(
        &self,
        op: &str,
        input: &str,
        options: &str,
        vault: Option<&mut Vault>,
        unit: Unit,
    ) -> Result<String, BuildError> {
        match op {
            "redact" => self.redact(input, options, vault, unit),
            "check" => self.check(input, options, vault, unit),
            "redact_messages" => self.redact_messages(input, options, vault, unit),
            "check_messages" => self.check_messages(input, options, vault, unit),
            "scan_output" => self.scan_output(input, options, unit),
            _ => Err(BuildError::config(format!("unknown operation {op:?}"))),
        }
    }

    /// [`Scanner::sanitize`].
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(promptsieve::bind::Bound::new("{}")?.sanitize("a\u{200B}b"), "ab");
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn sanitize(&self, text: &str) -> String {
        self.scanner.sanitize(text)
    }

    /// [`Scanner::rules`] as JSON.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(promptsieve::bind::Bound::new("{}")?.rules().contains("invisible-tag"));
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn rules(&self) -> String {
        to_json(&self.scanner.rules())
    }

    /// [`Scanner::verify_examples`] as JSON (`[{pack, rule, text, expected_match, message}]`).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(promptsieve::bind::Bound::new("{}")?.verify_examples(), "[]");
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn verify_examples(&self) -> String {
        let v: Vec<Value> = self
            .scanner
            .verify_examples()
            .iter()
            .map(|f| {
                serde_json::json!({
                    "pack": f.pack, "rule": f.rule, "text": f.text,
                    "expected_match": f.expected_match, "message": f.to_string(),
                })
            })
            .collect();
        to_json(&v)
    }

    /// An [`Audit`] record of `text` (scanned as `source`) as JSON: sizes,
    /// keyed hash, risk, rules and counts, never the text.
    ///
    /// # Errors
    ///
    /// An unknown source.
    ///
    /// # Example
    ///
    /// ```
    /// let a = promptsieve::bind::Bound::new("{}")?.audit("mail ana@example.org", "user", b"k")?;
    /// assert!(a.contains(r#""EMAIL":1"#) && !a.contains("ana@"));
    /// # Ok::<(), promptsieve::BuildError>(())
    /// ```
    pub fn audit(&self, text: &str, source_name: &str, key: &[u8]) -> Result<String, BuildError> {
        let r = self.scanner.scan_as(text, source(source_name)?);
        Ok(to_json(&Audit::new(text, &r, key)))
    }
}

/// The text of message `i` (part `part`) in a message list that
/// [`Scanner::redact_messages`] already accepted.
fn text_at(messages: &Value, i: usize, part: Option<usize>) -> &str {
    let content = &messages[i]["content"];
    match part {
        Some(j) => content[j]["text"].as_str(),
        None => content.as_str(),
    }
    .unwrap_or_default()
}

/// Restores `reply` from [`RedactedData`] JSON (a result kept across
/// requests).
///
/// # Errors
///
/// When the JSON is not a redaction result.
///
/// # Example
///
/// ```
/// let r = r#"{"text": "[EMAIL_1]", "replacements": [{"placeholder": "[EMAIL_1]", "entity": "EMAIL", "category": "pii", "rule": "pii-email", "original": "ana@example.org", "start": 0, "end": 15}]}"#;
/// assert_eq!(promptsieve::bind::restore(r, "to EMAIL_1")?, "to ana@example.org");
/// # Ok::<(), promptsieve::BuildError>(())
/// ```
pub fn restore(redacted: &str, reply: &str) -> Result<String, BuildError> {
    let d: RedactedData = from_json(redacted, "redacted")?;
    Ok(d.restore(reply))
}
