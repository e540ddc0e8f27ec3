//! WebAssembly bindings of promptsieve: the npm package `promptsieve`.
//!
//! Thin by design: option parsing, offset conversion and error mapping, no
//! scanning logic of its own. Spans are converted from UTF-8 bytes to
//! UTF-16 code units, so `text.slice(f.start, f.end)` is the finding's text
//! in JavaScript, around emoji and other astral characters too.

use std::collections::HashMap;

use promptsieve as ps;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** What a scanned text is: user input (the default), a developer-written
 * system prompt, a retrieved document or a tool result. */
export type Source = "user" | "system" | "document" | "tool";

/** Options for `new Scanner(options)`. */
export interface ScannerOptions {
  /** Extra rule packs, as TOML source strings. */
  rules?: string[];
  /** Include the embedded default packs (default true). */
  defaultRules?: boolean;
  /** Risk at or above which a report is flagged (default 0.5). */
  threshold?: number;
  /** Keep only rules of these categories. */
  categories?: Category[];
  /** Leave out these rule ids. */
  disable?: string[];
  /** The policy `check()` applies. */
  policy?: PolicyOptions;
  /** Run the learned injection scorer (default true); off, results equal the rules alone. */
  scorer?: boolean;
}
export interface PolicyOptions {
  maxBytes?: number | null;
  threshold?: number;
  block?: Category[];
  redact?: Category[];
}
export type Category = "injection" | "invisible" | "exfiltration" | "pii" | "secret";
export type Entity = "EMAIL" | "PHONE" | "PERSON" | "CREDIT_CARD" | "IBAN" | "US_SSN" | "IP_ADDRESS" | "URL_CREDENTIALS" | "SECRET" | string;
/** One finding; `start`/`end` are UTF-16 code-unit offsets into the scanned string. */
export interface Finding {
  rule: string;
  category: Category;
  entity: Entity | null;
  start: number;
  end: number;
  score: number;
  text: string;
  detail: string | null;
}
export interface Report {
  risk: number;
  flagged: boolean;
  findings: Finding[];
}
export interface Reason { code: string; message: string; rule: string | null; }
export interface Decision {
  action: "allow" | "redact" | "block";
  reasons: Reason[];
  report: Report;
  /** For "redact": the text to send instead. */
  redacted: string | null;
}
export interface RedactOptions {
  /** Default strategy: "placeholder" (default), "mask", "hash" or "remove". */
  strategy?: "placeholder" | "mask" | "hash" | "remove";
  /** Strategy per entity, e.g. { CREDIT_CARD: "mask" }. */
  perEntity?: Record<string, "placeholder" | "mask" | "hash" | "remove">;
  /** Characters kept visible by "mask" (default 4). */
  keep?: number;
  /** Key for "hash". */
  hashKey?: string;
}
export interface Replacement {
  placeholder: string;
  entity: string;
  category: Category;
  rule: string;
  original: string;
  start: number;
  end: number;
}
export interface OutputContext {
  canaries?: string[];
  systemPrompt?: string;
  allowedHosts?: string[];
}
"#;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(
        kind: &str,
        message: &str,
        pack: Option<String>,
        rule: Option<String>,
        reason: &str,
    ) -> JsValue;
}

/// Maps a Rust error into a `RuleError` (a rule pack or rule was refused,
/// with `pack`, `rule` and `reason`) or a `PromptsieveError` (bad options);
/// both are JS `Error` subclasses exported by the package.
fn into_js_error(err: &ps::BuildError) -> JsValue {
    let kind = if err.rule().is_some() || err.pack().is_some() { "rule" } else { "options" };
    make_error(
        kind,
        &err.to_string(),
        err.pack().map(str::to_owned),
        err.rule().map(str::to_owned),
        err.reason(),
    )
}

/// The `source` argument; a missing one is user input.
fn parse_source(source: Option<String>) -> Result<ps::Source, JsValue> {
    source.as_deref().map_or(Ok(ps::Source::User), |s| s.parse().map_err(options_error))
}

fn options_error(msg: impl std::fmt::Display) -> JsValue {
    make_error("options", &format!("invalid options: {msg}"), None, None, "")
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScannerOptions {
    rules: Option<Vec<String>>,
    default_rules: Option<bool>,
    threshold: Option<f64>,
    categories: Option<Vec<String>>,
    disable: Option<Vec<String>>,
    policy: Option<PolicyOptions>,
    scorer: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyOptions {
    #[serde(default, deserialize_with = "nullable")]
    max_bytes: Option<Option<usize>>,
    threshold: Option<f64>,
    block: Option<Vec<String>>,
    redact: Option<Vec<String>>,
}

/// `maxBytes: null` means "no limit", absent means the default.
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<usize>>, D::Error> {
    Option::<usize>::deserialize(d).map(Some)
}

/// Refuses keys an options object does not know (serde-wasm-bindgen only
/// reads the fields it expects, so a typo would otherwise be ignored).
fn known_keys(options: &JsValue, what: &str, allowed: &[&str]) -> Result<(), JsValue> {
    if !options.is_object() {
        return Ok(());
    }
    let obj: &js_sys::Object = options.unchecked_ref();
    for k in js_sys::Object::keys(obj).iter() {
        let k = k.as_string().unwrap_or_default();
        if !allowed.contains(&k.as_str()) {
            return Err(options_error(format!(
                "unknown {what} option {k:?} (expected one of {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

fn categories(names: &[String]) -> Result<Vec<ps::Category>, JsValue> {
    names
        .iter()
        .map(|n| ps::Category::parse(n).ok_or_else(|| options_error(format!("unknown category {n:?}"))))
        .collect()
}

/// UTF-8 byte offsets to UTF-16 code-unit offsets for one string.
struct Utf16 {
    /// `(byte, utf16)` at every char boundary, or empty for ASCII text
    /// (where the two are equal).
    marks: Vec<(usize, usize)>,
}

impl Utf16 {
    fn new(text: &str) -> Utf16 {
        if text.is_ascii() {
            return Utf16 { marks: Vec::new() };
        }
        let mut marks = Vec::with_capacity(text.len() + 1);
        let mut u = 0;
        for (b, c) in text.char_indices() {
            marks.push((b, u));
            u += c.len_utf16();
        }
        marks.push((text.len(), u));
        Utf16 { marks }
    }

    fn at(&self, byte: usize) -> usize {
        if self.marks.is_empty() {
            return byte;
        }
        let i = self.marks.partition_point(|&(b, _)| b < byte);
        self.marks.get(i).map_or(0, |&(_, u)| u)
    }
}

#[derive(Serialize)]
struct JsFinding<'a> {
    rule: &'a str,
    category: &'static str,
    entity: Option<&'a str>,
    start: usize,
    end: usize,
    score: f64,
    text: &'a str,
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct JsReport<'a> {
    risk: f64,
    flagged: bool,
    findings: Vec<JsFinding<'a>>,
}

fn report<'a>(r: &'a ps::Report, text: &'a str) -> JsReport<'a> {
    let u = Utf16::new(text);
    JsReport {
        risk: r.risk,
        flagged: r.flagged,
        findings: r
            .findings
            .iter()
            .map(|f| JsFinding {
                rule: &f.rule,
                category: f.category.as_str(),
                entity: f.entity.as_deref(),
                start: u.at(f.span.start),
                end: u.at(f.span.end),
                score: f.score,
                text: &text[f.span.range()],
                detail: f.detail.as_deref(),
            })
            .collect(),
    }
}

fn to_js<T: Serialize>(v: &T) -> JsValue {
    // Plain objects, not Maps, for records.
    let ser = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    v.serialize(&ser).unwrap_or(JsValue::NULL)
}

/// A compiled scanner. Build it once and reuse it: construction compiles
/// every rule pack.
#[wasm_bindgen]
pub struct Scanner {
    inner: ps::Scanner,
}

#[wasm_bindgen]
impl Scanner {
    /// `new Scanner(options?)`. Throws a `RuleError` (with `rule` and
    /// `pack`) for an invalid rule pack, a `PromptsieveError` for invalid
    /// options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "ScannerOptions")] options: Option<JsValue>,
    ) -> Result<Scanner, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        known_keys(
            &options,
            "scanner",
            &["rules", "defaultRules", "threshold", "categories", "disable", "policy", "scorer"],
        )?;
        let opts: ScannerOptions = if options.is_undefined() || options.is_null() {
            ScannerOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options).map_err(options_error)?
        };
        let mut b = ps::ScannerBuilder::new();
        b.default_packs(opts.default_rules.unwrap_or(true));
        b.scorer(opts.scorer.unwrap_or(true));
        if let Some(t) = opts.threshold {
            b.threshold(t);
        }
        if let Some(c) = &opts.categories {
            b.categories(&categories(c)?);
        }
        for id in opts.disable.iter().flatten() {
            b.disable(id);
        }
        if let Some(p) = opts.policy {
            let mut policy = ps::Policy::default();
            if let Some(m) = p.max_bytes {
                policy.max_bytes = m;
            }
            policy.threshold = p.threshold;
            if let Some(block) = &p.block {
                policy.block = categories(block)?.into_iter().map(ps::Target::from).collect();
            }
            if let Some(redact) = &p.redact {
                policy.redact = categories(redact)?.into_iter().map(ps::Target::from).collect();
            }
            b.policy(policy);
        }
        let packs = opts
            .rules
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, src)| ps::RulePack::from_toml(&format!("rules[{i}]"), src))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| into_js_error(&e))?;
        let inner = b.build(packs).map_err(|e| into_js_error(&e))?;
        Ok(Scanner { inner })
    }

    /// Scans `text`: `{ risk, flagged, findings }` with UTF-16 spans.
    /// `source` says what the text is (`"user"`, the default; `"system"`,
    /// `"document"` or `"tool"`); attack rules weigh their scores by it.
    #[wasm_bindgen(unchecked_return_type = "Report")]
    pub fn scan(
        &self,
        text: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "Source")] source: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let r = self.inner.scan_as(text, parse_source(source)?);
        Ok(to_js(&report(&r, text)))
    }

    /// Removes hidden and control characters.
    pub fn sanitize(&self, text: &str) -> String {
        self.inner.sanitize(text)
    }

    /// Applies the policy: `{ action, reasons, report, redacted }`.
    #[wasm_bindgen(unchecked_return_type = "Decision")]
    pub fn check(
        &self,
        text: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "Source")] source: Option<String>,
    ) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct JsDecision<'a> {
            action: ps::Action,
            reasons: &'a [ps::Reason],
            report: JsReport<'a>,
            redacted: Option<&'a str>,
        }
        let d = self.inner.check_as(text, parse_source(source)?);
        Ok(to_js(&JsDecision {
            action: d.action,
            reasons: &d.reasons,
            report: report(&d.report, text),
            redacted: d.redacted.as_ref().map(|r| r.text.as_str()),
        }))
    }

    /// Replaces personal data and secrets. Returns a `Redacted` with `text`,
    /// `replacements` and `restore(reply)`.
    pub fn redact(
        &self,
        text: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "RedactOptions")] options: Option<JsValue>,
    ) -> Result<Redacted, JsValue> {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct RedactOptions {
            strategy: Option<String>,
            per_entity: Option<HashMap<String, String>>,
            keep: Option<usize>,
            hash_key: Option<String>,
        }
        let options = options.unwrap_or(JsValue::UNDEFINED);
        known_keys(&options, "redact", &["strategy", "perEntity", "keep", "hashKey"])?;
        let o: RedactOptions = if options.is_undefined() || options.is_null() {
            RedactOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options).map_err(options_error)?
        };
        let keep = o.keep.unwrap_or(4);
        let strategy = |s: &str| match s {
            "placeholder" => Ok(ps::Strategy::Placeholder),
            "mask" => Ok(ps::Strategy::Mask { keep }),
            "hash" => Ok(ps::Strategy::Hash),
            "remove" => Ok(ps::Strategy::Remove),
            other => Err(options_error(format!("unknown strategy {other:?}"))),
        };
        let mut opts = ps::RedactOptions::default();
        if let Some(s) = &o.strategy {
            opts.strategy = strategy(s)?;
        }
        for (entity, s) in o.per_entity.iter().flatten() {
            opts.set(entity, strategy(s)?);
        }
        opts.hash_key = o.hash_key.unwrap_or_default().into_bytes();
        let r = self.inner.redact_with(text, &opts).map_err(|e| into_js_error(&e))?;
        let u = Utf16::new(text);
        let replacements = r
            .replacements
            .iter()
            .map(|x| JsReplacement {
                placeholder: x.placeholder.clone(),
                entity: x.entity.clone(),
                category: x.category.as_str(),
                rule: x.rule.clone(),
                original: x.original.clone(),
                start: u.at(x.span.start),
                end: u.at(x.span.end),
            })
            .collect();
        Ok(Redacted { inner: r, replacements })
    }

    /// Scans a model reply with the conversation's context (canaries,
    /// system prompt, allowed hosts).
    #[wasm_bindgen(js_name = scanOutput, unchecked_return_type = "Report")]
    pub fn scan_output(
        &self,
        reply: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "OutputContext")] context: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Ctx {
            canaries: Option<Vec<String>>,
            system_prompt: Option<String>,
            allowed_hosts: Option<Vec<String>>,
        }
        let context = context.unwrap_or(JsValue::UNDEFINED);
        known_keys(&context, "output context", &["canaries", "systemPrompt", "allowedHosts"])?;
        let c: Ctx = if context.is_undefined() || context.is_null() {
            Ctx::default()
        } else {
            serde_wasm_bindgen::from_value(context).map_err(options_error)?
        };
        let ctx = ps::OutputContext {
            canaries: c.canaries.unwrap_or_default(),
            system_prompt: c.system_prompt,
            allowed_hosts: c.allowed_hosts.unwrap_or_default(),
        };
        let r = self.inner.scan_output(reply, &ctx);
        Ok(to_js(&report(&r, reply)))
    }
}

#[derive(Serialize, Clone)]
struct JsReplacement {
    placeholder: String,
    entity: String,
    category: &'static str,
    rule: String,
    original: String,
    start: usize,
    end: usize,
}

/// The result of `scanner.redact(text)`.
#[wasm_bindgen]
pub struct Redacted {
    inner: ps::Redacted,
    replacements: Vec<JsReplacement>,
}

#[wasm_bindgen]
impl Redacted {
    /// The redacted text.
    #[wasm_bindgen(getter)]
    pub fn text(&self) -> String {
        self.inner.text.clone()
    }

    /// What was replaced, with UTF-16 spans into the original text.
    #[wasm_bindgen(getter, unchecked_return_type = "Replacement[]")]
    pub fn replacements(&self) -> JsValue {
        to_js(&self.replacements)
    }

    /// Puts the original values back into `reply`.
    pub fn restore(&self, reply: &str) -> String {
        self.inner.restore(reply)
    }
}

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets() {
        let t = "a😀b é";
        let u = Utf16::new(t);
        assert_eq!(u.at(0), 0);
        assert_eq!(u.at(1), 1);
        assert_eq!(u.at(5), 3); // after the emoji: 2 code units
        assert_eq!(u.at(t.len()), 6);
        assert_eq!(Utf16::new("abc").at(2), 2);
    }
}
