//! WebAssembly bindings of promptsieve: the native half of the npm package
//! `promptsieve`. The package's JS layer (`js/api.js`) wraps these classes.
//!
//! Thin by design: options arrive as JSON text and results leave as JSON
//! text; every translation (options, entity names, strategies, UTF-16
//! offsets, result shapes) is the core's `promptsieve::bind`, shared with
//! the Python wheel. Errors become `RuleError`/`PromptsieveError` through
//! the JS snippet `js/errors.js`.

use promptsieve::bind::{self, Bound};
use promptsieve::{self as ps, Unit};
use wasm_bindgen::prelude::*;

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

/// A `RuleError` (a rule pack or rule was refused, with `pack`, `rule` and
/// `reason`) or a `PromptsieveError` (bad options).
fn js_error(err: &ps::BuildError) -> JsValue {
    let kind = if err.rule().is_some() || err.pack().is_some() { "rule" } else { "options" };
    make_error(
        kind,
        &err.to_string(),
        err.pack().map(str::to_owned),
        err.rule().map(str::to_owned),
        err.reason(),
    )
}

fn ok(r: Result<String, ps::BuildError>) -> Result<String, JsValue> {
    r.map_err(|e| js_error(&e))
}

/// The native scanner: JSON in, JSON out, UTF-16 spans.
#[wasm_bindgen]
pub struct NativeScanner {
    engine: Bound,
}

#[wasm_bindgen]
impl NativeScanner {
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str) -> Result<NativeScanner, JsValue> {
        Ok(NativeScanner { engine: Bound::new(config).map_err(|e| js_error(&e))? })
    }

    #[wasm_bindgen(js_name = configJson)]
    pub fn config_json(&self) -> String {
        self.engine.config_json()
    }

    pub fn threshold(&self) -> f64 {
        self.engine.scanner().threshold()
    }

    pub fn scan(&self, text: &str, source: &str) -> Result<String, JsValue> {
        ok(self.engine.scan(text, source, Unit::Utf16))
    }

    pub fn sanitize(&self, text: &str) -> String {
        self.engine.sanitize(text)
    }

    /// `redact`, `check`, `redact_messages`, `check_messages` or
    /// `scan_output` (see `promptsieve::bind::Bound::call`); the JS layer
    /// passes a fresh vault when the caller gives none.
    pub fn call(
        &self,
        op: &str,
        input: &str,
        options: &str,
        vault: &mut NativeVault,
    ) -> Result<String, JsValue> {
        ok(self.engine.call(op, input, options, Some(&mut vault.inner), Unit::Utf16))
    }

    pub fn rules(&self) -> String {
        self.engine.rules()
    }

    #[wasm_bindgen(js_name = verifyExamples)]
    pub fn verify_examples(&self) -> String {
        self.engine.verify_examples()
    }

    pub fn audit(&self, text: &str, source: &str, key: &str) -> Result<String, JsValue> {
        ok(self.engine.audit(text, source, key.as_bytes()))
    }

    #[wasm_bindgen(js_name = outputStream)]
    pub fn output_stream(&self, context: &str) -> Result<NativeOutputStream, JsValue> {
        let ctx = ps::OutputContext::from_json(context).map_err(|e| js_error(&e))?;
        Ok(NativeOutputStream {
            inner: ps::OutputStream::new(self.engine.scanner(), &ctx),
            cursor: ps::OffsetCursor::new(Unit::Utf16),
        })
    }
}

/// The native vault (see the JS `Vault`).
#[wasm_bindgen]
#[derive(Default)]
pub struct NativeVault {
    inner: ps::Vault,
}

#[wasm_bindgen]
impl NativeVault {
    #[wasm_bindgen(constructor)]
    pub fn new() -> NativeVault {
        NativeVault::default()
    }

    pub fn restore(&self, reply: &str) -> String {
        self.inner.restore(reply)
    }

    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    #[wasm_bindgen(js_name = toSealedJson)]
    pub fn to_sealed_json(&self, key: &str) -> String {
        self.inner.to_sealed_json(key.as_bytes())
    }

    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(json: &str) -> Result<NativeVault, JsValue> {
        ps::Vault::from_json(json).map(|inner| NativeVault { inner }).map_err(|e| js_error(&e))
    }

    #[wasm_bindgen(js_name = fromSealedJson)]
    pub fn from_sealed_json(json: &str, key: &str) -> Result<NativeVault, JsValue> {
        ps::Vault::from_sealed_json(json, key.as_bytes())
            .map(|inner| NativeVault { inner })
            .map_err(|e| js_error(&e))
    }

    pub fn size(&self) -> usize {
        self.inner.len()
    }

    pub fn restorer(&self) -> NativeRestorer {
        NativeRestorer { inner: self.inner.restorer() }
    }
}

/// Restores a streamed reply chunk by chunk.
#[wasm_bindgen]
pub struct NativeRestorer {
    inner: ps::StreamRestorer,
}

#[wasm_bindgen]
impl NativeRestorer {
    pub fn push(&mut self, chunk: &str) -> String {
        self.inner.push(chunk)
    }

    pub fn finish(&mut self) -> String {
        self.inner.finish()
    }

    /// UTF-8 bytes held back.
    pub fn held(&self) -> usize {
        self.inner.held()
    }
}

/// Scans a reply as it streams.
#[wasm_bindgen]
pub struct NativeOutputStream {
    inner: ps::OutputStream,
    /// Converts new findings' spans (see `bind::stream_report_data`).
    cursor: ps::OffsetCursor,
}

#[wasm_bindgen]
impl NativeOutputStream {
    /// New findings as report JSON (spans in UTF-16 units of the reply so far).
    pub fn push(&mut self, chunk: &str) -> String {
        let findings = self.inner.push(chunk);
        let report = ps::Report { risk: 0.0, flagged: self.inner.should_stop(), findings };
        json(&bind::stream_report_data(&report, self.inner.text(), &mut self.cursor))
    }

    #[wasm_bindgen(js_name = shouldStop)]
    pub fn should_stop(&self) -> bool {
        self.inner.should_stop()
    }

    pub fn finish(&mut self) -> String {
        let r = self.inner.finish();
        json(&bind::report_data(&r, self.inner.text(), Unit::Utf16))
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Restores `reply` from a redaction result's JSON.
#[wasm_bindgen(js_name = restoreJson)]
pub fn restore_json(redacted: &str, reply: &str) -> Result<String, JsValue> {
    ok(bind::restore(redacted, reply))
}

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
