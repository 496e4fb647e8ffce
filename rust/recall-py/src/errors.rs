//! Exhaustive mapping from `RecallError` to the Python exception tree.
//!
//! The classes live in `recall_fast.errors` (pure Python, so that each can also inherit the
//! builtin a caller would catch: `DecodeError` is a `ValueError`). They are looked up only when
//! an error is raised, so the happy path pays nothing.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use recall_core::RecallError;

/// Name of the Python class in `recall_fast.errors` for a core error.
fn class_name(err: &RecallError) -> &'static str {
    match err {
        RecallError::InvalidInput { .. } => "DecodeError",
        RecallError::Decompress { .. } => "DecompressError",
        RecallError::LimitExceeded { .. } => "LimitExceededError",
        RecallError::Config { .. } => "ConfigError",
        RecallError::Io(_) => "RecallIOError",
        RecallError::Arrow(_) => "InternalError",
        // RecallError is non_exhaustive for downstream crates only; within the workspace every
        // variant above is matched. A new variant must be added here (the compiler says so
        // through the wildcard lint below in tests).
        #[allow(unreachable_patterns)]
        _ => "RecallError",
    }
}

/// Convert a core error into the matching Python exception.
pub fn to_pyerr(err: RecallError) -> PyErr {
    let name = class_name(&err);
    let message = err.to_string();
    Python::attach(|py| {
        let raised = (|| -> PyResult<PyErr> {
            let module = py.import("recall_fast.errors")?;
            let class = module.getattr(name)?;
            let args = PyTuple::new(py, [message.as_str()])?;
            let instance = class.call1(args)?;
            Ok(PyErr::from_value(instance))
        })();
        raised.unwrap_or_else(|import_err| {
            PyRuntimeError::new_err(format!(
                "{message} (and recall_fast.errors failed: {import_err})"
            ))
        })
    })
}

/// Extension trait: `result.map_py()?` in binding code.
pub trait IntoPyResult<T> {
    /// Map the error side to a Python exception.
    fn map_py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, RecallError> {
    fn map_py(self) -> PyResult<T> {
        self.map_err(to_pyerr)
    }
}
