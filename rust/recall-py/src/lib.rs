//! Thin PyO3 wrapper around recall-core, compiled as `recall_fast._native`.
//!
//! This crate converts arguments, leaves the interpreter for real work (see `detach`),
//! exports Arrow through the PyCapsule interface and maps errors. Nothing more.

use pyo3::prelude::*;

mod detach;
mod errors;

/// The native module `recall_fast._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", recall_core::VERSION)?;
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    m.add("build_profile", profile)?;
    Ok(())
}
