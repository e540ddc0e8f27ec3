//! Python bindings of promptsieve: the native module `promptsieve._native`,
//! wrapped by the pure-Python package `promptsieve`.
//!
//! Thin by design: options arrive as JSON text and results leave as JSON
//! text (the package turns them into dataclasses), all translation lives in
//! the core's `promptsieve::bind`, spans are in code points. Every engine
//! call runs with the GIL released, and a panic in the engine (there should
//! be none) becomes a `PromptsieveError` instead of crossing into Python
//! (where pyo3's `PanicException` would escape `except Exception`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use promptsieve::bind::{self, Bound as Engine};
use promptsieve::{self as ps, Unit};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// An exception of `promptsieve._errors` (defined in Python so that
/// `RuleError` is also a `ValueError`).
fn error(py: Python<'_>, class: &str, message: String, err: Option<&ps::BuildError>) -> PyErr {
    let make = || -> PyResult<PyErr> {
        let module = ERRORS.get_or_try_init(py, || py.import("promptsieve._errors").map(Bound::unbind))?;
        let cls = module.bind(py).getattr(class)?;
        let args = (
            message.as_str(),
            err.and_then(|e| e.pack()),
            err.and_then(|e| e.rule()),
            err.map(|e| e.reason()),
        );
        Ok(PyErr::from_value(cls.call1(args)?))
    };
    make().unwrap_or_else(|e| e)
}

fn build_error(py: Python<'_>, err: &ps::BuildError) -> PyErr {
    let class = if err.rule().is_some() || err.pack().is_some() { "RuleError" } else { "OptionError" };
    error(py, class, err.to_string(), Some(err))
}

/// Runs `f` without the GIL; a panic becomes a `PromptsieveError`.
fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f))).map_err(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        error(py, "PromptsieveError", format!("internal error (please report it): {what}"), None)
    })
}

/// `detached` for calls that may refuse their options.
fn call<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, ps::BuildError> + Send) -> PyResult<T> {
    detached(py, f)?.map_err(|e| build_error(py, &e))
}

/// Runs `f` with the vault (if any) locked, without the GIL: calls that
/// share one vault (`asyncio.gather` over `aredact`) take turns instead of
/// failing with "Already borrowed".
fn with_vault<T: Send>(
    py: Python<'_>,
    vault: Option<&Vault>,
    f: impl FnOnce(Option<&mut ps::Vault>) -> Result<T, ps::BuildError> + Send,
) -> PyResult<T> {
    match vault {
        None => call(py, || f(None)),
        Some(v) => call(py, || f(Some(&mut v.lock()))),
    }
}

/// A compiled scanner. Built from `ScannerConfig` JSON; methods take
/// options as JSON and return results as JSON (spans in code points).
#[pyclass(frozen, module = "promptsieve._native")]
struct Scanner {
    engine: Engine,
}

#[pymethods]
impl Scanner {
    #[new]
    fn new(py: Python<'_>, config: String) -> PyResult<Scanner> {
        Ok(Scanner { engine: call(py, || Engine::new(&config))? })
    }

    fn config_json(&self) -> String {
        self.engine.config_json()
    }

    #[getter]
    fn threshold(&self) -> f64 {
        self.engine.scanner().threshold()
    }

    fn scan(&self, py: Python<'_>, text: String, source: String) -> PyResult<String> {
        call(py, || self.engine.scan(&text, &source, Unit::CodePoints))
    }

    /// One report per text, scanned on `threads` worker threads.
    fn scan_many(&self, py: Python<'_>, texts: Bound<'_, PyAny>, threads: usize) -> PyResult<Vec<String>> {
        if texts.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err("scan_many takes an iterable of strings, not a string"));
        }
        let texts: Vec<String> =
            texts.try_iter()?.map(|t| t?.extract::<String>()).collect::<PyResult<_>>()?;
        let workers = threads.clamp(1, texts.len().max(1));
        let next = AtomicUsize::new(0);
        let results = detached(py, || {
            let mut out: Vec<Option<String>> = vec![None; texts.len()];
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..workers)
                    .map(|_| {
                        s.spawn(|| {
                            let mut mine = Vec::new();
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                let Some(t) = texts.get(i) else { break };
                                mine.push((i, self.engine.scan(t, "user", Unit::CodePoints)));
                            }
                            mine
                        })
                    })
                    .collect();
                for h in handles {
                    for (i, r) in h.join().unwrap_or_default() {
                        out[i] = r.ok();
                    }
                }
            });
            out
        })?;
        results
            .into_iter()
            .map(|r| {
                r.ok_or_else(|| error(py, "PromptsieveError", "internal error: a worker failed".into(), None))
            })
            .collect()
    }

    fn sanitize(&self, py: Python<'_>, text: String) -> PyResult<String> {
        detached(py, || self.engine.sanitize(&text))
    }

    /// `redact`, `check`, `redact_messages`, `check_messages` or
    /// `scan_output` (see `promptsieve::bind::Bound::call`).
    #[pyo3(signature = (op, input, options, vault=None))]
    fn call(
        &self,
        py: Python<'_>,
        op: String,
        input: String,
        options: String,
        vault: Option<PyRef<'_, Vault>>,
    ) -> PyResult<String> {
        with_vault(py, vault.as_deref(), |v| self.engine.call(&op, &input, &options, v, Unit::CodePoints))
    }

    fn rules(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || self.engine.rules())
    }

    fn verify_examples(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || self.engine.verify_examples())
    }

    fn audit(&self, py: Python<'_>, text: String, source: String, key: Vec<u8>) -> PyResult<String> {
        call(py, || self.engine.audit(&text, &source, &key))
    }

    fn output_stream(&self, py: Python<'_>, context: String) -> PyResult<OutputStream> {
        let ctx = ps::OutputContext::from_json(&context).map_err(|e| build_error(py, &e))?;
        Ok(OutputStream {
            inner: ps::OutputStream::new(self.engine.scanner(), &ctx),
            cursor: ps::OffsetCursor::new(Unit::CodePoints),
        })
    }

    /// Seconds per native `scan` of `text` over `iterations` calls, timed in
    /// Rust: the reference line for the binding's overhead (bench/speed.py).
    fn _time_scan(&self, py: Python<'_>, text: String, iterations: usize) -> PyResult<f64> {
        detached(py, || {
            let n = iterations.max(1);
            let start = std::time::Instant::now();
            for _ in 0..n {
                std::hint::black_box(self.engine.scanner().scan(std::hint::black_box(&text)));
            }
            start.elapsed().as_secs_f64() / n as f64
        })
    }
}

/// Placeholders for one conversation (see `promptsieve.Vault`). Frozen
/// with a lock inside, so threads sharing it wait for each other.
#[pyclass(frozen, subclass, module = "promptsieve._native")]
#[derive(Default)]
struct Vault {
    inner: Mutex<ps::Vault>,
}

impl Vault {
    /// The vault, locked. After a panic in the engine the lock is poisoned
    /// and the content may be half-updated: it is emptied rather than kept.
    fn lock(&self) -> MutexGuard<'_, ps::Vault> {
        self.inner.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            *guard = ps::Vault::default();
            self.inner.clear_poison();
            guard
        })
    }

    /// `f` on the locked vault, without the GIL (another thread may hold
    /// the lock while it runs the engine).
    fn locked<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut ps::Vault) -> T + Send) -> PyResult<T> {
        detached(py, || f(&mut self.lock()))
    }
}

#[pymethods]
impl Vault {
    #[new]
    fn new() -> Vault {
        Vault::default()
    }

    fn restore(&self, py: Python<'_>, reply: &str) -> PyResult<String> {
        self.locked(py, |v| v.restore(reply))
    }

    fn _to_json(&self, py: Python<'_>) -> PyResult<String> {
        self.locked(py, |v| v.to_json())
    }

    fn _to_sealed_json(&self, py: Python<'_>, key: Vec<u8>) -> PyResult<String> {
        self.locked(py, |v| v.to_sealed_json(&key))
    }

    /// Replaces the content with a vault read from (sealed) JSON.
    #[pyo3(signature = (json, key=None))]
    fn _load(&self, py: Python<'_>, json: &str, key: Option<Vec<u8>>) -> PyResult<()> {
        let loaded = call(py, || match key {
            Some(k) => ps::Vault::from_sealed_json(json, &k),
            None => ps::Vault::from_json(json),
        })?;
        self.locked(py, |v| *v = loaded)
    }

    /// `(entity, value, placeholder)` for each value, in order of first appearance.
    fn entries(&self, py: Python<'_>) -> PyResult<Vec<(String, String, String)>> {
        self.locked(py, |v| {
            v.entries().iter().map(|e| (e.entity.clone(), e.value.clone(), e.placeholder.clone())).collect()
        })
    }

    fn restorer(&self, py: Python<'_>) -> PyResult<StreamRestorer> {
        Ok(StreamRestorer { inner: self.locked(py, |v| v.restorer())? })
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.locked(py, |v| v.len())
    }
}

/// Restores a reply chunk by chunk (see `Vault.restore_stream`).
#[pyclass(module = "promptsieve._native")]
struct StreamRestorer {
    inner: ps::StreamRestorer,
}

#[pymethods]
impl StreamRestorer {
    fn push(&mut self, py: Python<'_>, chunk: &str) -> PyResult<String> {
        let inner = &mut self.inner;
        detached(py, move || inner.push(chunk))
    }

    fn finish(&mut self, py: Python<'_>) -> PyResult<String> {
        let inner = &mut self.inner;
        detached(py, move || inner.finish())
    }

    /// UTF-8 bytes held back (never more than the longest placeholder).
    #[getter]
    fn held(&self) -> usize {
        self.inner.held()
    }
}

/// Scans a reply as it streams (see `Scanner.output_stream`).
#[pyclass(module = "promptsieve._native")]
struct OutputStream {
    inner: ps::OutputStream,
    /// Converts new findings' spans (see `bind::stream_report_data`).
    cursor: ps::OffsetCursor,
}

#[pymethods]
impl OutputStream {
    /// New findings as a JSON report (`risk` of the window), spans in code
    /// points of the reply so far.
    fn push(&mut self, py: Python<'_>, chunk: String) -> PyResult<String> {
        let (inner, cursor) = (&mut self.inner, &mut self.cursor);
        detached(py, move || {
            let findings = inner.push(&chunk);
            let report = ps::Report { risk: 0.0, flagged: inner.should_stop(), findings };
            serde_json::to_string(&bind::stream_report_data(&report, inner.text(), cursor))
                .unwrap_or_else(|e| unreachable!("{e}"))
        })
    }

    #[getter]
    fn should_stop(&self) -> bool {
        self.inner.should_stop()
    }

    fn finish(&mut self, py: Python<'_>) -> PyResult<String> {
        let inner = &mut self.inner;
        detached(py, move || {
            let r = inner.finish();
            serde_json::to_string(&bind::report_data(&r, inner.text(), Unit::CodePoints))
                .unwrap_or_else(|e| unreachable!("{e}"))
        })
    }
}

/// Restores `reply` from a redaction result's JSON.
#[pyfunction]
fn restore(py: Python<'_>, redacted: &str, reply: &str) -> PyResult<String> {
    call(py, || bind::restore(redacted, reply))
}

/// The engine's version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scanner>()?;
    m.add_class::<Vault>()?;
    m.add_class::<StreamRestorer>()?;
    m.add_class::<OutputStream>()?;
    m.add_function(wrap_pyfunction!(restore, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
