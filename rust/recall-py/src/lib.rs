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

/// Every buffer the extension allocates (Arrow batches, bulk bodies) comes from mimalloc: it
/// keeps freed pages for the next batch, where glibc hands each batch's large buffers back to
/// the kernel and faults fresh zeroed pages in again (measured with the decode and encode
/// benches). Buffers exported to pyarrow are freed through their release callback, which runs
/// Rust's `drop`, so they always return to this allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
