//! Thin PyO3 wrapper around recall-core, compiled as `recall_fast._native`.
//!
//! This crate converts arguments, leaves the interpreter for real work (see `detach`),
//! exports Arrow through the PyCapsule interface and maps errors. Nothing more.

use pyo3::prelude::*;

mod arrow;
mod decoder;
mod detach;
mod encoder;
mod errors;
mod normalizer;
mod processor;
mod schema;
mod synth;

/// The native module `recall_fast._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", recall_core::VERSION)?;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    m.add("build_profile", profile)?;
    synth::register(m)?;
    decoder::register(m)?;
    m.add_class::<encoder::BulkChunk>()?;
    m.add_class::<encoder::BulkEncoder>()?;
    m.add_class::<normalizer::Normalizer>()?;
    m.add_function(wrap_pyfunction!(normalizer::known_enrichments, m)?)?;
    m.add_class::<processor::ZeekProcessor>()?;
    schema::register(m)?;
    Ok(())
}
