//! recall-core: everything `recall_fast` does per record, in pure Rust.
//!
//! Design notes:
//! - No Python, no async runtime, no AWS here (see STYLE.md rule 1). The `recall-py` crate
//!   wraps this crate; Python only moves buffers and coordinates.
//! - Decoders are push-based (`decode(bytes) -> consumed`, `finish()`), keep memory bounded by
//!   the batch size and give identical output however the input is split.
//! - Errors are values with context ([`error::RecallError`]); data paths never panic.
#![forbid(unsafe_code)]

mod decimal;
pub mod decode;
pub mod encode;
pub mod error;
pub mod normalize;
pub mod process;
pub mod schema;
pub mod synth;

pub use error::RecallError;

/// The crate version, which is the version of the whole project (one place: the workspace).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
