//! The one helper that leaves the interpreter.
//!
//! Binding code converts its inputs to Rust values first, then runs the real work here without
//! the GIL (so other Python threads, and the asyncio loop, keep running), then maps errors. A
//! Rust panic inside becomes a Python `InternalError` instead of killing the worker.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use recall_core::RecallError;

use crate::errors::to_pyerr;

/// Run `work` with the interpreter released and map its error or panic to a Python exception.
pub fn detach<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T, RecallError> + Send,
{
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(work)));
    match outcome {
        Ok(result) => result.map_err(to_pyerr),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(internal_error(py, &what))
        }
    }
}

/// Build a `recall_fast.errors.InternalError` for a caught panic.
fn internal_error(py: Python<'_>, what: &str) -> PyErr {
    let message = format!("internal error (Rust panic): {what}");
    py.import("recall_fast.errors")
        .and_then(|m| m.getattr("InternalError"))
        .and_then(|class| class.call1((message.as_str(),)))
        .map_or_else(|e| e, PyErr::from_value)
}
