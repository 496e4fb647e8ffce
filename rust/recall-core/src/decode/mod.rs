//! Push decoder for Zeek logs: bytes of a log file in arbitrary chunks in, typed Arrow
//! record batches out.
//!
//! Stage: decode (decompress -> frame lines -> TSV header state machine or JSON rows ->
//! column builders -> `RecordBatch`). Must not import `normalize` or `encode`; knows nothing
//! of Python, async or AWS.
//!
//! Guarantees:
//! - **Chunk invariance**: the output (batches, quarantine entries, stats except `bytes_in`
//!   timing) is identical however the input is split; a chunk may end anywhere, including
//!   inside a line, an escape, a UTF-8 sequence or a gzip block. Batches are cut by content
//!   only (row count, buffered bytes, header blocks).
//! - **Bounded memory**: the decoder holds one batch being built, at most one incomplete line
//!   (capped by `max_line_bytes`), one decompression block and the ready batches the caller
//!   has not taken yet.
//! - **Bad input never stops a file**: a bad line is quarantined with its line number, byte
//!   offset, reason and first bytes, and the counts reconcile:
//!   `lines == records + quarantined + header_lines` (`header_lines` counts meta/comment and
//!   blank lines). Only a corrupt or truncated compressed stream, or a safety limit, ends the
//!   file with an error, after every complete record before it was put into a batch.
//!
//! Text policy: strings are UTF-8. TSV `\xNN` escapes (and `\\`) are undone; a byte that is not
//! part of valid UTF-8 after un-escaping stays as the text `\xNN` (lowercase hex), which is
//! what Zeek's JSON writer emits for such bytes, so the TSV and JSON copies of the same
//! traffic decode to the same strings. (Consequence: a string that contained the literal text
//! `\xff` and one that contained the byte 0xff read the same; Zeek's JSON has the same
//! ambiguity.) In JSON, `\uXXXX` escapes are undone as JSON requires.
//!
//! Performance notes (`benches/python/interleave.py`, `benches/python/test_decode_bench.py`,
//! `rust/recall-core/benches/decode.rs`; measured on the shared 2-core development VM under
//! load, so ratios from interleaved best-of-N runs are what counts; instruction counts from
//! `valgrind --tool=callgrind` on the Rust bench guided the TSV work): each TSV field's
//! separator is found while the field is decoded, 8 bytes at a time (SWAR), short values and
//! canonical IPv4 addresses are copied as fixed 16/32-byte blocks, Zeek times are parsed 8
//! digits at a time, and validity costs nothing until a column's first null: 1.3-2.2x
//! `pyarrow.csv.read_csv` (one thread, types from `#types`) while doing more work
//! (timestamps, sets, escapes, canonical addresses). The JSON path is a purpose-built scanner
//! for Zeek's flat objects that predicts each key from the one that followed the previous key
//! and converts numbers, times and addresses while scanning: about 3.5x
//! `pyarrow.json.read_json`, and about 3x faster than a `serde_json` DOM parse alone (no
//! Arrow), so a general SIMD JSON parser, which would still need the DOM-to-columns step,
//! was not adopted. gzip input inline runs at the speed of inflate plus parse in one thread;
//! with `inflate_thread` (`read_zeek`/`ZeekDecoder` in Python default to it) inflate runs on a
//! second thread and, given an idle core, throughput approaches the slower of the two instead
//! of their sum: 0.45-0.65x ISA-L's gunzip alone on the loaded VM (target 0.7x, not met).

mod builders;
mod decompress;
mod json;
mod lines;
mod quarantine;
mod tsv;
mod values;

use std::collections::VecDeque;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

pub use decompress::Compression;
pub use quarantine::{QuarantineEntry, QuarantineKind, QUARANTINE_RAW_BYTES};

use crate::error::{RecallError, Result};
use crate::schema::registry::log_spec;
use decompress::{Decompressor, Limits};
use lines::{LineFramer, LineSink};
use quarantine::Quarantine;

/// Default rows per batch.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;
/// Default line length limit (longer lines are quarantined, never buffered whole).
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
/// A batch is also cut when the lines in it add up to this many bytes, so that Arrow's `i32`
/// string offsets can never overflow (text never grows more than 4x through escaping).
pub const DEFAULT_MAX_BATCH_BYTES: usize = 64 << 20;
/// Default cap on the columns of one schema (a TSV header block, or the columns a JSON log
/// type has accumulated). Real Zeek logs have tens of columns; the cap keeps a hostile file
/// (a new JSON key on every line, a `#fields` line with 100,000 names) from growing memory
/// with the number of distinct names.
pub const DEFAULT_MAX_COLUMNS: usize = 1024;
/// A batch is also cut when rows x columns reaches this many cells, so that a batch of short
/// lines over many (mostly null) columns stays bounded: every cell costs 4-8 bytes even when
/// null. 8 Mi cells is a full `DEFAULT_BATCH_ROWS` batch of 128 columns (real logs have fewer),
/// at most about 70 MB of builders.
pub const MAX_BATCH_CELLS: usize = 1 << 23;
/// Upper bound accepted for `max_columns`.
const MAX_COLUMNS_LIMIT: usize = 1 << 16;
/// Compressed chunks at least this large are inflated on a second thread while the calling
/// thread parses (`DecoderOptions::inflate_thread`); below it a thread costs more than it
/// saves.
const PIPELINE_MIN_CHUNK: usize = 64 << 10;
/// Decompressed blocks in flight between the inflating and the parsing thread (each at most
/// 256 KiB): enough to ride out jitter, small enough to stay bounded and in cache.
const PIPELINE_DEPTH: usize = 4;
/// Upper bound accepted for `max_line_bytes` and `max_batch_bytes`.
const MAX_BUFFER_LIMIT: usize = 256 << 20;

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect from the first non-blank line: `{` means JSON, anything else TSV.
    #[default]
    Auto,
    /// Zeek's ASCII writer (tab-separated with `#` headers).
    Tsv,
    /// One JSON object per line.
    Json,
}

impl Format {
    /// Parse the option names used by the Python API.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(Self::Auto),
            "tsv" | "ascii" => Some(Self::Tsv),
            "json" | "ndjson" => Some(Self::Json),
            _ => None,
        }
    }
}

/// How JSON numbers in `time` fields are read. ISO-8601 strings are always accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonTime {
    /// Numbers are epoch seconds (Zeek's default `JSON::TS_EPOCH`).
    #[default]
    Auto,
    /// Numbers are epoch milliseconds (`JSON::TS_MILLIS`). Never guessed: say so explicitly.
    Millis,
}

/// Decoder configuration.
#[derive(Debug, Clone)]
pub struct DecoderOptions {
    /// Input format.
    pub format: Format,
    /// Input compression.
    pub compression: Compression,
    /// Rows per batch (a batch is also cut at header blocks and at `max_batch_bytes`).
    pub batch_rows: usize,
    /// Log type when the data does not say (`#path`, JSON `_path` win when present): picks
    /// the registry entry for JSON types and for headerless TSV.
    pub log_type: Option<String>,
    /// Lines longer than this are quarantined.
    pub max_line_bytes: usize,
    /// Buffered line bytes that force a batch cut.
    pub max_batch_bytes: usize,
    /// JSON `time` numbers: seconds or milliseconds.
    pub json_time: JsonTime,
    /// Columns of headerless TSV as `(name, zeek type)`, when the data has no `#fields`.
    pub tsv_schema: Option<Vec<(String, String)>>,
    /// TSV meta-line prefix; `None` means `#`, or the prefix of a first line that reads
    /// `<prefix>separator <sep>`.
    pub meta_prefix: Option<String>,
    /// Fail with `LimitExceeded` past this many decompressed bytes.
    pub max_decompressed_bytes: Option<u64>,
    /// Fail with `LimitExceeded` when decompressed/compressed exceeds this (checked past
    /// 1 MiB of output).
    pub max_ratio: Option<u64>,
    /// Quarantine entries held between drains; more are counted, not kept.
    pub max_quarantine_entries: usize,
    /// Most columns one schema may have: a TSV header block declaring more has its data lines
    /// quarantined; a JSON line whose new key would add a column past it is quarantined.
    pub max_columns: usize,
    /// Inflate gzip/zstd input on a second thread while the calling thread parses (for each
    /// `decode` call of at least 64 KiB; the output is the same either way). Off by default:
    /// it pays when a core is idle (one file read through `read_zeek`, which turns it on)
    /// and costs about 15% more CPU (hand-off, spinning) where every core is already busy,
    /// as in the pipeline that decodes several objects at once.
    pub inflate_thread: bool,
}

impl Default for DecoderOptions {
    fn default() -> Self {
        Self {
            format: Format::Auto,
            compression: Compression::Auto,
            batch_rows: DEFAULT_BATCH_ROWS,
            log_type: None,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            json_time: JsonTime::Auto,
            tsv_schema: None,
            meta_prefix: None,
            max_decompressed_bytes: None,
            max_ratio: None,
            max_quarantine_entries: 10_000,
            max_columns: DEFAULT_MAX_COLUMNS,
            inflate_thread: false,
        }
    }
}

/// One decoded batch with its place in the input.
#[derive(Debug, Clone)]
pub struct DecodedBatch {
    /// Log type from `#path`, JSON `_path`, or the options.
    pub log_type: Option<String>,
    /// 0-based index, within the whole input, of the batch's first record. Records are
    /// numbered consecutively across the file; quarantined lines do not consume numbers.
    pub first_record: u64,
    /// 1-based line number of the batch's first record.
    pub first_line: u64,
    /// The typed columns.
    pub batch: RecordBatch,
}

/// Counters; they reconcile: `lines == records + quarantined + header_lines`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Lines seen (decompressed input).
    pub lines: u64,
    /// Records decoded into batches.
    pub records: u64,
    /// Lines quarantined.
    pub quarantined: u64,
    /// Meta/header, comment and blank lines.
    pub header_lines: u64,
    /// Compressed bytes passed to `decode`.
    pub bytes_in: u64,
    /// Bytes after decompression.
    pub bytes_decompressed: u64,
    /// Batches produced.
    pub batches: u64,
    /// Quarantine entries counted but not kept (more than `max_quarantine_entries` held).
    pub quarantine_dropped: u64,
}

/// Where decoded rows, batches and quarantine entries go (shared by the TSV and JSON paths).
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) ready: VecDeque<DecodedBatch>,
    pub(crate) quarantine: Quarantine,
    pub(crate) stats: DecodeStats,
    pub(crate) batch_rows: usize,
    pub(crate) max_batch_bytes: usize,
    /// First error building a batch (a bug, surfaced by `decode`).
    pub(crate) error: Option<RecallError>,
}

impl Output {
    pub(crate) fn quarantine(
        &mut self,
        line: u64,
        offset: u64,
        kind: QuarantineKind,
        reason: String,
        raw: &[u8],
    ) {
        self.stats.quarantined += 1;
        self.quarantine.push(line, offset, kind, reason, raw);
        self.stats.quarantine_dropped = self.quarantine.dropped();
    }
}

/// Row bookkeeping of the batch being built.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BatchState {
    pub(crate) rows: usize,
    pub(crate) bytes: usize,
    pub(crate) first_record: u64,
    pub(crate) first_line: u64,
}

impl BatchState {
    /// Count one decoded record of a batch with `columns` columns; returns whether the batch
    /// is full (rows, line bytes or cells).
    pub(crate) fn record(
        &mut self,
        out: &mut Output,
        line_len: usize,
        line_no: u64,
        columns: usize,
    ) -> bool {
        if self.rows == 0 {
            self.first_record = out.stats.records;
            self.first_line = line_no;
        }
        self.rows += 1;
        self.bytes += line_len + 1;
        out.stats.records += 1;
        self.rows >= out.batch_rows
            || self.bytes >= out.max_batch_bytes
            || self.rows.saturating_mul(columns.max(1)) >= MAX_BATCH_CELLS
    }

    /// Publish a finished batch and start a new one.
    pub(crate) fn publish(
        &mut self,
        out: &mut Output,
        log_type: Option<String>,
        batch: RecordBatch,
    ) {
        out.stats.batches += 1;
        out.ready.push_back(DecodedBatch {
            log_type,
            first_record: self.first_record,
            first_line: self.first_line,
            batch,
        });
        *self = Self::default();
    }
}

/// The format-specific part, chosen at the first non-blank line.
#[derive(Debug)]
enum Body {
    Undetermined,
    Tsv(Box<tsv::TsvDecoder>),
    Json(Box<json::JsonDecoder>),
}

/// The line consumer: format detection, then the TSV or JSON decoder.
#[derive(Debug)]
struct Lines {
    body: Body,
    out: Output,
    options: Arc<DecoderOptions>,
}

impl Lines {
    fn cut(&mut self) {
        let result = match &mut self.body {
            Body::Undetermined => Ok(()),
            Body::Tsv(t) => t.cut(&mut self.out),
            Body::Json(j) => j.cut(&mut self.out),
        };
        if let Err(err) = result {
            self.out.error.get_or_insert(err);
        }
    }

    fn schema(&self) -> Option<SchemaRef> {
        match &self.body {
            Body::Undetermined => None,
            Body::Tsv(t) => t.schema(),
            Body::Json(j) => j.schema(),
        }
    }
}

impl LineSink for Lines {
    fn line(&mut self, line: &[u8], number: u64, offset: u64) {
        self.out.stats.lines += 1;
        if matches!(self.body, Body::Undetermined) {
            let Some(first) = line.iter().find(|b| !b.is_ascii_whitespace()) else {
                self.out.stats.header_lines += 1;
                return;
            };
            let json = match self.options.format {
                Format::Json => true,
                Format::Tsv => false,
                Format::Auto => *first == b'{',
            };
            self.body = if json {
                Body::Json(Box::new(json::JsonDecoder::new(&self.options)))
            } else {
                Body::Tsv(Box::new(tsv::TsvDecoder::new(&self.options)))
            };
        }
        let result = match &mut self.body {
            Body::Undetermined => Ok(()),
            Body::Tsv(t) => t.line(line, number, offset, &mut self.out),
            Body::Json(j) => j.line(line, number, offset, &mut self.out),
        };
        if let Err(err) = result {
            self.out.error.get_or_insert(err);
        }
    }

    fn overlong(&mut self, prefix: &[u8], number: u64, offset: u64, length: u64) {
        self.out.stats.lines += 1;
        let reason = format!(
            "line of {length} bytes is longer than max_line_bytes ({})",
            self.options.max_line_bytes
        );
        self.out
            .quarantine(number, offset, QuarantineKind::LineTooLong, reason, prefix);
    }
}

/// Push decoder for one Zeek log file (any format, any compression, any chunking).
///
/// ```
/// use recall_core::decode::{DecoderOptions, ZeekDecoder};
/// let mut decoder = ZeekDecoder::new(DecoderOptions::default())?;
/// decoder.decode(b"#separator \\x09\n#fields\tts\tn\n#types\ttime\tcount\n1.5\t")?;
/// decoder.decode(b"7\n")?;
/// decoder.finish()?;
/// let batches = decoder.take_batches();
/// assert_eq!(batches[0].batch.num_rows(), 1);
/// assert_eq!(decoder.stats().records, 1);
/// # Ok::<(), recall_core::RecallError>(())
/// ```
#[derive(Debug)]
pub struct ZeekDecoder {
    decompressor: Decompressor,
    framer: LineFramer,
    lines: Lines,
    finished: bool,
    failure: Option<RecallError>,
}

impl ZeekDecoder {
    /// A decoder for one input stream.
    pub fn new(options: DecoderOptions) -> Result<Self> {
        validate(&options)?;
        let limits = Limits {
            max_decompressed_bytes: options.max_decompressed_bytes,
            max_ratio: options.max_ratio,
        };
        let out = Output {
            ready: VecDeque::new(),
            quarantine: Quarantine::new(options.max_quarantine_entries),
            stats: DecodeStats::default(),
            batch_rows: options.batch_rows,
            max_batch_bytes: options.max_batch_bytes,
            error: None,
        };
        Ok(Self {
            decompressor: Decompressor::new(options.compression, limits)?,
            framer: LineFramer::new(options.max_line_bytes),
            lines: Lines {
                body: Body::Undetermined,
                out,
                options: Arc::new(options),
            },
            finished: false,
            failure: None,
        })
    }

    /// Decode a chunk (it may end anywhere). Consumes all of it and returns its length.
    ///
    /// On a corrupt compressed stream or an exceeded limit, every complete record before the
    /// failure is put into a batch (take them with [`Self::take_batches`]) and the error is
    /// returned, now and on every later call.
    pub fn decode(&mut self, chunk: &[u8]) -> Result<usize> {
        if let Some(err) = &self.failure {
            return Err(replay(err));
        }
        if self.finished {
            return Err(RecallError::Config {
                field: "decode".to_owned(),
                reason: "decode() called after finish()".to_owned(),
            });
        }
        self.lines.out.stats.bytes_in += chunk.len() as u64;
        let framer = &mut self.framer;
        let lines = &mut self.lines;
        let pipelined = lines.options.inflate_thread
            && chunk.len() >= PIPELINE_MIN_CHUNK
            && self.decompressor.will_inflate(chunk);
        let result = if pipelined {
            pipeline(&mut self.decompressor, chunk, framer, lines)
        } else {
            self.decompressor
                .feed(chunk, &mut |block| framer.push(block, lines))
        };
        self.lines.out.stats.bytes_decompressed = self.decompressor.total_out();
        if let Err(err) = result {
            return Err(self.fail(err));
        }
        if let Some(err) = self.lines.out.error.take() {
            return Err(self.fail(err));
        }
        Ok(chunk.len())
    }

    /// End of input: decode the last line and cut the last batch. Fails if a compressed
    /// stream stopped in the middle (after delivering every complete record). Idempotent.
    pub fn finish(&mut self) -> Result<()> {
        if let Some(err) = &self.failure {
            return Err(replay(err));
        }
        if self.finished {
            return Ok(());
        }
        let framer = &mut self.framer;
        let lines = &mut self.lines;
        let result = self
            .decompressor
            .finish(&mut |block| framer.push(block, lines));
        self.lines.out.stats.bytes_decompressed = self.decompressor.total_out();
        if let Err(err) = result {
            return Err(self.fail(err));
        }
        self.framer.finish(&mut self.lines);
        self.lines.cut();
        self.finished = true;
        if let Some(err) = self.lines.out.error.take() {
            return Err(self.fail(err));
        }
        Ok(())
    }

    /// Batches completed so far, in input order.
    pub fn take_batches(&mut self) -> Vec<DecodedBatch> {
        self.lines.out.ready.drain(..).collect()
    }

    /// The next completed batch, if any.
    pub fn next_batch(&mut self) -> Option<DecodedBatch> {
        self.lines.out.ready.pop_front()
    }

    /// Number of completed batches not yet taken.
    pub fn ready_batches(&self) -> usize {
        self.lines.out.ready.len()
    }

    /// Counters so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.lines.out.stats
    }

    /// Quarantine entries held (not drained).
    pub fn quarantine(&self) -> &[QuarantineEntry] {
        self.lines.out.quarantine.entries()
    }

    /// Drain the quarantine entries held so far.
    pub fn take_quarantine(&mut self) -> Vec<QuarantineEntry> {
        self.lines.out.quarantine.take()
    }

    /// The schema of the current header block / JSON log type, once known (also for input
    /// with a header and no records).
    pub fn schema(&self) -> Option<SchemaRef> {
        self.lines.schema()
    }

    /// The compression in use, once detected.
    pub fn compression(&self) -> Option<Compression> {
        self.decompressor.codec()
    }

    /// Whether the decoder stopped on an error.
    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }

    /// Deliver everything complete, quarantine the cut-off last line, remember the error.
    fn fail(&mut self, err: RecallError) -> RecallError {
        if let Some((raw, line, offset)) = self.framer.abandon_partial() {
            self.lines.out.stats.lines += 1;
            // The decoder's error says why; where a codec notices corruption can depend on
            // how the input was split, so the entry itself stays the same either way.
            let reason = "incomplete last line before the input failed".to_owned();
            self.lines
                .out
                .quarantine(line, offset, QuarantineKind::Truncated, reason, &raw);
        }
        self.lines.cut();
        let copy = replay(&err);
        self.failure = Some(err);
        copy
    }
}

/// Inflate `chunk` on a scoped second thread while this thread frames and parses the blocks
/// (a bounded channel of `PIPELINE_DEPTH` blocks between them, buffers recycled). The bytes
/// reach the framer in the same order as inline, so the output is identical; a codec error
/// comes after every block produced before it, as inline. Falls back to inline decoding if
/// the OS refuses a thread.
fn pipeline(
    decompressor: &mut Decompressor,
    chunk: &[u8],
    framer: &mut LineFramer,
    lines: &mut Lines,
) -> Result<()> {
    use std::sync::mpsc;
    let inflate = &mut *decompressor;
    let spawned = std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(PIPELINE_DEPTH);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
        let inflater = std::thread::Builder::new()
            .name("recall-inflate".to_owned())
            .spawn_scoped(scope, move || {
                inflate.feed(chunk, &mut |block| {
                    let mut buffer = empty_rx.try_recv().unwrap_or_default();
                    buffer.clear();
                    buffer.extend_from_slice(block);
                    // Fails only if the parser stopped receiving, which it does only once
                    // this thread is done: nothing to do then.
                    let _ = full_tx.send(buffer);
                })
            });
        let Ok(inflater) = inflater else {
            return None;
        };
        // Ends when the inflater returns (and drops its sender).
        for block in full_rx {
            framer.push(&block, lines);
            let _ = empty_tx.send(block);
        }
        Some(inflater.join().unwrap_or_else(|_| {
            Err(RecallError::Decompress {
                codec: "inflate thread",
                offset: 0,
                reason: "the decompression thread panicked".to_owned(),
            })
        }))
    });
    match spawned {
        Some(result) => result,
        None => decompressor.feed(chunk, &mut |block| framer.push(block, lines)),
    }
}

fn validate(o: &DecoderOptions) -> Result<()> {
    let bad = |field: &str, reason: &str| {
        Err(RecallError::Config {
            field: field.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if o.batch_rows == 0 {
        return bad("batch_rows", "must be at least 1");
    }
    if o.max_line_bytes == 0 || o.max_line_bytes > MAX_BUFFER_LIMIT {
        return bad("max_line_bytes", "must be between 1 and 268435456");
    }
    if o.max_batch_bytes == 0 || o.max_batch_bytes > MAX_BUFFER_LIMIT {
        return bad("max_batch_bytes", "must be between 1 and 268435456");
    }
    if o.meta_prefix.as_deref() == Some("") {
        return bad("meta_prefix", "must not be empty");
    }
    if o.max_ratio == Some(0) {
        return bad("max_ratio", "must be at least 1");
    }
    if o.max_columns == 0 || o.max_columns > MAX_COLUMNS_LIMIT {
        return bad("max_columns", "must be between 1 and 65536");
    }
    if let Some(schema) = &o.tsv_schema {
        if schema.is_empty() {
            return bad("tsv_schema", "must name at least one column");
        }
        if schema.len() > o.max_columns {
            return bad("tsv_schema", "has more columns than max_columns");
        }
    }
    Ok(())
}

/// A copy of a stored failure (errors are not `Clone`: `Io`/`Arrow` carry sources).
fn replay(err: &RecallError) -> RecallError {
    match err {
        RecallError::Decompress {
            codec,
            offset,
            reason,
        } => RecallError::Decompress {
            codec,
            offset: *offset,
            reason: reason.clone(),
        },
        RecallError::LimitExceeded { what, value, limit } => RecallError::LimitExceeded {
            what,
            value: *value,
            limit: *limit,
        },
        RecallError::InvalidInput { offset, reason } => RecallError::InvalidInput {
            offset: *offset,
            reason: reason.clone(),
        },
        RecallError::Config { field, reason } => RecallError::Config {
            field: field.clone(),
            reason: reason.clone(),
        },
        other => RecallError::InvalidInput {
            offset: 0,
            reason: other.to_string(),
        },
    }
}

/// The registry log type named by a file name (`conn.log.gz`, `dns.json`,
/// `conn.00:00:00-01:00:00.log.gz`, `conn.zat.json.gz` -> `conn`), if it is a built-in one.
/// Useful for JSON files without `_path`.
pub fn log_type_from_path(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next()?;
    let stem = name.split('.').next()?;
    log_spec(stem).map(|spec| spec.path.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    use arrow_array::Array;

    use super::*;

    fn run(
        input: &[u8],
        options: DecoderOptions,
        chunk: usize,
    ) -> (Vec<DecodedBatch>, DecodeStats, Vec<QuarantineEntry>) {
        let mut decoder = ZeekDecoder::new(options).unwrap();
        let mut batches = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            decoder.decode(piece).unwrap();
            batches.extend(decoder.take_batches());
        }
        decoder.finish().unwrap();
        batches.extend(decoder.take_batches());
        let stats = *decoder.stats();
        (batches, stats, decoder.take_quarantine())
    }

    fn reconciles(s: &DecodeStats) -> bool {
        s.lines == s.records + s.quarantined + s.header_lines
    }

    #[test]
    fn sparse_json_columns_are_filled_with_nulls_lazily() {
        let input = b"{\"a\":1}\n{\"b\":\"x\"}\n{\"a\":2,\"b\":\"y\"}\n{\"c\":true}\n\
            {\"a\":3,\"b\":\"z\",\"d\":}\n{\"d\":1.5}\n{\"b\":\"w\"}\n";
        let options = DecoderOptions {
            format: Format::Json,
            ..DecoderOptions::default()
        };
        let (whole, stats, quarantine) = run(input, options.clone(), input.len());
        assert_eq!((stats.records, stats.quarantined), (6, 1));
        assert_eq!(quarantine[0].line, 5);
        let batch = &whole[0].batch;
        assert_eq!(batch.num_rows(), 6);
        let a = batch
            .column_by_name("a")
            .unwrap()
            .as_primitive::<Float64Type>();
        let got: Vec<_> = a.iter().collect();
        assert_eq!(got, [Some(1.0), None, Some(2.0), None, None, None]);
        let b = batch.column_by_name("b").unwrap().as_string::<i32>();
        let got: Vec<_> = b.iter().collect();
        assert_eq!(got, [None, Some("x"), Some("y"), None, None, Some("w")]);
        let d = batch.column_by_name("d").unwrap();
        assert_eq!(d.null_count(), 5);
        for chunk in 1..12 {
            let (batches, split_stats, _) = run(input, options.clone(), chunk);
            assert_eq!(split_stats.records, stats.records);
            assert_eq!(batches[0].batch, *batch, "chunk {chunk}");
        }
    }

    #[test]
    fn distinct_json_keys_are_capped_and_memory_is_linear() {
        let keys = 20_000;
        let mut input = Vec::new();
        for i in 0..keys {
            input.extend_from_slice(format!("{{\"ts\":1714564800.0,\"k{i}\":{i}}}\n").as_bytes());
        }
        let options = DecoderOptions {
            format: Format::Json,
            ..DecoderOptions::default()
        };
        let (batches, stats, quarantine) = run(&input, options, 1 << 16);
        assert!(reconciles(&stats));
        // `ts` and k0..k1022 make 1,024 columns; every later key is one too many.
        assert_eq!(stats.records, 1023);
        assert_eq!(stats.quarantined, keys - 1023);
        assert_eq!(quarantine[0].kind, QuarantineKind::TooManyColumns);
        assert!(
            quarantine[0].reason.contains("max_columns (1024)"),
            "{}",
            quarantine[0].reason
        );
        let bytes: usize = batches
            .iter()
            .map(|b| b.batch.get_array_memory_size())
            .sum();
        // 1,023 rows x 1,024 mostly-null columns: about 9 MB of cells, never rows x keys.
        assert!(bytes < 32 << 20, "{bytes} bytes of arrays");

        // A higher cap: batches are cut by cells, so no batch holds rows x keys either.
        let options = DecoderOptions {
            format: Format::Json,
            max_columns: 1 << 16,
            ..DecoderOptions::default()
        };
        let lines: Vec<&[u8]> = input.split_inclusive(|&b| b == b'\n').take(6_000).collect();
        let (batches, stats, _) = run(&lines.concat(), options, 1 << 16);
        assert_eq!(stats.records, 6_000);
        assert!(batches.len() > 1);
        for b in &batches {
            let (rows, columns) = (b.batch.num_rows(), b.batch.num_columns());
            assert!(
                rows * columns <= MAX_BATCH_CELLS + rows + columns,
                "{rows} x {columns}"
            );
        }
    }

    #[test]
    fn tsv_header_with_too_many_columns_quarantines_its_block() {
        let fields: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let types = vec!["count"; 40].join("\t");
        let row: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let mut input = format!(
            "#fields\t{}\n#types\t{types}\n{}\n{}\n",
            fields.join("\t"),
            row.join("\t"),
            row.join("\t")
        );
        input.push_str("#fields\tn\n#types\tcount\n7\n");
        let options = DecoderOptions {
            max_columns: 32,
            ..DecoderOptions::default()
        };
        let (batches, stats, quarantine) = run(input.as_bytes(), options, 5);
        assert!(reconciles(&stats));
        assert_eq!((stats.records, stats.quarantined), (1, 2));
        assert_eq!(quarantine[0].kind, QuarantineKind::TooManyColumns);
        assert!(quarantine[0].reason.contains("declares 40 columns"));
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].batch.num_columns(), 1);
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// Results of one run: batches, stats, quarantine, and the error if any.
    fn try_run(
        input: &[u8],
        options: DecoderOptions,
        chunk: usize,
    ) -> (
        Vec<RecordBatch>,
        DecodeStats,
        Vec<QuarantineEntry>,
        Option<String>,
    ) {
        let mut decoder = ZeekDecoder::new(options).unwrap();
        let mut error = None;
        for piece in input.chunks(chunk) {
            if let Err(err) = decoder.decode(piece) {
                error = Some(err.to_string());
                break;
            }
        }
        if error.is_none() {
            error = decoder.finish().err().map(|e| e.to_string());
        }
        let batches = decoder
            .take_batches()
            .into_iter()
            .map(|b| b.batch)
            .collect();
        let mut stats = *decoder.stats();
        stats.bytes_in = 0;
        (batches, stats, decoder.take_quarantine(), error)
    }

    #[test]
    fn inflating_on_a_second_thread_gives_the_same_output() {
        let mut text = b"#fields\tts\tn\ts\n#types\ttime\tcount\tset[string]\n".to_vec();
        for i in 0..200_000u32 {
            text.extend_from_slice(format!("{i}.5\t{i}\ta,b{}\n", i % 7).as_bytes());
            if i % 50_000 == 7 {
                text.extend_from_slice(b"bad line\n");
            }
        }
        let mut packed = gzip(&text);
        packed.extend(gzip(b"1.0\t1\t-\n"));
        let inline = DecoderOptions {
            inflate_thread: false,
            batch_rows: 10_000,
            ..DecoderOptions::default()
        };
        let threaded = DecoderOptions {
            inflate_thread: true,
            ..inline.clone()
        };
        let expected = try_run(&packed, inline.clone(), 1 << 20);
        assert_eq!(expected.1.records, 200_001);
        assert_eq!(expected.1.quarantined, 4);
        assert!(expected.3.is_none());
        for chunk in [PIPELINE_MIN_CHUNK, 100_003, 1 << 20, packed.len()] {
            assert_eq!(
                try_run(&packed, threaded.clone(), chunk),
                expected,
                "chunk {chunk}"
            );
        }
        // A truncated stream: the same records, quarantine and error either way.
        let cut = packed.get(..packed.len() / 2).unwrap();
        let expected = try_run(cut, inline, 1 << 20);
        assert!(expected.3.is_some());
        assert_eq!(try_run(cut, threaded, 100_003), expected);
    }

    #[test]
    fn max_columns_is_validated() {
        for bad in [0, (1 << 16) + 1] {
            let options = DecoderOptions {
                max_columns: bad,
                ..DecoderOptions::default()
            };
            assert!(ZeekDecoder::new(options).is_err());
        }
    }
}
