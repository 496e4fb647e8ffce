//! Quarantine: bad lines are recorded with where and why, never raised, never silently
//! dropped.
//!
//! Stage: decode. The decoders push entries here; callers drain them
//! (`ZeekDecoder::take_quarantine`) and route them to a dead-letter store or metrics.
//!
//! Memory stays bounded: raw text is capped at [`QUARANTINE_RAW_BYTES`], and at most
//! `max_entries` entries are held between drains (the rest are only counted, see
//! [`Quarantine::dropped`]), so a file of pure garbage cannot grow memory with its size.

use std::fmt;

/// How much of a bad line is kept in its entry.
pub const QUARANTINE_RAW_BYTES: usize = 4096;

/// Why a line was quarantined (stable names for metrics and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuarantineKind {
    /// TSV line with more or fewer fields than `#fields` declares.
    FieldCount,
    /// A field's text is not a value of its type (`count` that is not a number, ...).
    BadValue,
    /// A JSON line that is not one valid JSON object.
    InvalidJson,
    /// The line is longer than `max_line_bytes`.
    LineTooLong,
    /// A TSV data line with no `#fields` header before it and no schema from the caller.
    NoSchema,
    /// The last, incomplete line before a truncated or corrupt compressed stream ended.
    Truncated,
    /// The line's schema would have more columns than `max_columns` (a TSV header block that
    /// declares too many, or a JSON key that would add one column too many).
    TooManyColumns,
}

impl QuarantineKind {
    /// Stable `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FieldCount => "field_count",
            Self::BadValue => "bad_value",
            Self::InvalidJson => "invalid_json",
            Self::LineTooLong => "line_too_long",
            Self::NoSchema => "no_schema",
            Self::Truncated => "truncated",
            Self::TooManyColumns => "too_many_columns",
        }
    }
}

impl fmt::Display for QuarantineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One quarantined line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineEntry {
    /// 1-based line number in the decompressed input.
    pub line: u64,
    /// Byte offset of the line's first byte in the decompressed input.
    pub offset: u64,
    /// Machine-readable reason.
    pub kind: QuarantineKind,
    /// Human-readable reason (which field, what was expected).
    pub reason: String,
    /// The line's bytes, at most [`QUARANTINE_RAW_BYTES`] of them.
    pub raw: Vec<u8>,
}

/// Holds entries until drained; counts all.
#[derive(Debug)]
pub(crate) struct Quarantine {
    entries: Vec<QuarantineEntry>,
    max_entries: usize,
    dropped: u64,
}

impl Quarantine {
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            entries: Vec::new(),
            max_entries,
            dropped: 0,
        }
    }

    pub(crate) fn push(
        &mut self,
        line: u64,
        offset: u64,
        kind: QuarantineKind,
        reason: String,
        raw: &[u8],
    ) {
        if self.entries.len() >= self.max_entries {
            self.dropped += 1;
            return;
        }
        let raw = raw.get(..QUARANTINE_RAW_BYTES).unwrap_or(raw).to_vec();
        self.entries.push(QuarantineEntry {
            line,
            offset,
            kind,
            reason,
            raw,
        });
    }

    pub(crate) fn take(&mut self) -> Vec<QuarantineEntry> {
        std::mem::take(&mut self.entries)
    }

    pub(crate) fn entries(&self) -> &[QuarantineEntry] {
        &self.entries
    }

    /// Entries not kept because `max_entries` were already held (still counted in stats).
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}
