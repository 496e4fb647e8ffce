//! The one error type of recall-core. Each variant carries the context needed to act on it
//! (log type, line, byte offset, field, object key) so that callers can quarantine, retry or
//! dead-letter without parsing messages.

/// Every failure recall-core can report. New variants may be added: match with a wildcard.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecallError {
    /// The input is not what the caller said it is, or is not a Zeek log at all.
    #[error("invalid input at byte offset {offset}: {reason}")]
    InvalidInput {
        /// Byte offset in the (decompressed) input where the problem was found.
        offset: u64,
        /// Human-readable reason.
        reason: String,
    },
    /// The compressed stream is truncated or corrupt; records before `offset` were delivered.
    #[error("corrupt {codec} stream at compressed offset {offset}: {reason}")]
    Decompress {
        /// Codec name (`gzip`, `zstd`).
        codec: &'static str,
        /// Offset in the compressed input.
        offset: u64,
        /// What the decompressor said.
        reason: String,
    },
    /// A configured limit was exceeded (decompressed size, ratio, columns, ...).
    #[error("limit exceeded: {what} ({value} > {limit})")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// Observed value.
        value: u64,
        /// Configured limit.
        limit: u64,
    },
    /// A configuration value is invalid (bad option, bad tenant name, bad pattern).
    #[error("invalid configuration for {field}: {reason}")]
    Config {
        /// The option or field name.
        field: String,
        /// Why it is invalid.
        reason: String,
    },
    /// An Arrow operation failed (schema mismatch while building a batch).
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// An I/O error while reading or writing files.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias used across recall-core.
pub type Result<T, E = RecallError> = std::result::Result<T, E>;
