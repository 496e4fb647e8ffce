//! Stage-level decoder for library users: feed chunks, get typed Arrow batches; and
//! `read_zeek`, a lazy stream over a file or bytes.
//!
//! Binding only: arguments become `recall_core::decode::DecoderOptions`, decoding runs with the
//! interpreter released (`detach`), batches leave as `arrow::DecodedBatch` (`PyCapsule` export),
//! errors map to the `recall_fast.errors` tree.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict};
use recall_core::decode::{
    log_type_from_path, Compression, DecodeStats, DecodedBatch as CoreBatch, DecoderOptions,
    Format, JsonTime, QuarantineEntry, ZeekDecoder as CoreDecoder, DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_COLUMNS,
};
use recall_core::RecallError;

use crate::arrow::{DecodedBatch, ZeekStream};
use crate::detach::detach;
use crate::errors::{to_pyerr, IntoPyResult};

// The Python signatures spell the default out (stubs need a literal); keep them in step.
const _: () = assert!(DEFAULT_MAX_BATCH_BYTES == 67_108_864);
const _: () = assert!(DEFAULT_MAX_COLUMNS == 1024);

/// Bytes `read_zeek` reads from a file per step.
const READ_CHUNK_BYTES: usize = 1 << 20;

fn config_error(field: &str, reason: String) -> PyErr {
    to_pyerr(RecallError::Config {
        field: field.to_owned(),
        reason,
    })
}

/// The options shared by `ZeekDecoder` and `read_zeek`, as Python passes them.
#[allow(clippy::too_many_arguments)]
fn options(
    format: &str,
    compression: &str,
    batch_rows: usize,
    log_type: Option<String>,
    max_line_bytes: usize,
    json_time: &str,
    tsv_schema: Option<Vec<(String, String)>>,
    meta_prefix: Option<String>,
    max_decompressed_bytes: Option<u64>,
    max_ratio: Option<u64>,
    max_batch_bytes: usize,
    max_quarantine_entries: usize,
    max_columns: usize,
    inflate_thread: bool,
) -> PyResult<DecoderOptions> {
    Ok(DecoderOptions {
        format: Format::parse(format).ok_or_else(|| {
            config_error("format", format!("{format:?}: expected auto, tsv or json"))
        })?,
        compression: Compression::parse(compression).ok_or_else(|| {
            config_error(
                "compression",
                format!("{compression:?}: expected auto, gzip, zstd or none"),
            )
        })?,
        batch_rows,
        log_type,
        max_line_bytes,
        max_batch_bytes,
        json_time: match json_time {
            "auto" | "seconds" => JsonTime::Auto,
            "millis" | "milliseconds" => JsonTime::Millis,
            other => {
                return Err(config_error(
                    "json_time",
                    format!("{other:?}: expected auto or millis"),
                ))
            }
        },
        tsv_schema,
        meta_prefix,
        max_decompressed_bytes,
        max_ratio,
        max_quarantine_entries,
        max_columns,
        inflate_thread,
    })
}

/// Counters as a dict: `lines`, `records`, `quarantined`, `header_lines`, `bytes_in`,
/// `bytes_decompressed`, `batches`, `quarantine_dropped`.
pub fn stats_dict<'py>(py: Python<'py>, s: &DecodeStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("lines", s.lines)?;
    d.set_item("records", s.records)?;
    d.set_item("quarantined", s.quarantined)?;
    d.set_item("header_lines", s.header_lines)?;
    d.set_item("bytes_in", s.bytes_in)?;
    d.set_item("bytes_decompressed", s.bytes_decompressed)?;
    d.set_item("batches", s.batches)?;
    d.set_item("quarantine_dropped", s.quarantine_dropped)?;
    Ok(d)
}

/// Quarantine entries as dicts: line, offset, kind, reason, raw.
pub fn quarantine_dicts<'py>(
    py: Python<'py>,
    entries: &[QuarantineEntry],
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    entries
        .iter()
        .map(|e| {
            let d = PyDict::new(py);
            d.set_item("line", e.line)?;
            d.set_item("offset", e.offset)?;
            d.set_item("kind", e.kind.as_str())?;
            d.set_item("reason", &e.reason)?;
            d.set_item("raw", PyBytes::new(py, &e.raw))?;
            Ok(d)
        })
        .collect()
}

fn to_py(batches: Vec<CoreBatch>) -> Vec<DecodedBatch> {
    batches.into_iter().map(DecodedBatch::from_core).collect()
}

/// A writable buffer is decoded this many bytes at a time (see [`Input::Writable`]).
const WRITABLE_PIECE_BYTES: usize = 1 << 20;

/// Input bytes held for the duration of a native call.
enum Input {
    /// `bytes`, or a read-only contiguous buffer (`memoryview` of `bytes`, read-only `mmap`):
    /// read in place, no copy.
    Shared(PyBackedBytes),
    Buffer(PyBuffer<u8>),
    /// A writable contiguous buffer (`bytearray`, `memoryview` of one, writable `mmap`): other
    /// Python threads may change it while the interpreter is released, so it is never read
    /// then. It is copied a piece of [`WRITABLE_PIECE_BYTES`] at a time (interpreter held)
    /// into a reused scratch buffer, each piece decoded with the interpreter released: the
    /// copy is bounded, whatever the buffer's size, and no Python object is made.
    Writable(PyBuffer<u8>),
    /// A non-contiguous buffer (a strided `memoryview`): gathered into one copy.
    Owned(Vec<u8>),
}

impl Input {
    fn extract(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        if data.is_instance_of::<PyBytes>() {
            return Ok(Self::Shared(data.extract::<PyBackedBytes>()?));
        }
        let buffer = PyBuffer::<u8>::get(data)?;
        if buffer.is_c_contiguous() {
            if buffer.readonly() {
                return Ok(Self::Buffer(buffer));
            }
            return Ok(Self::Writable(buffer));
        }
        Ok(Self::Owned(buffer.to_vec(py)?))
    }

    /// Decode all of the input (batches stay in the decoder for the caller to take).
    fn decode_into(&self, py: Python<'_>, decoder: &mut CoreDecoder) -> PyResult<()> {
        let Self::Writable(buffer) = self else {
            let bytes = self.bytes();
            return detach(py, || decoder.decode(bytes).map(|_| ()));
        };
        let Some(slice) = buffer.as_slice_ptr() else {
            return Err(config_error(
                "data",
                "the buffer is not C-contiguous".to_owned(),
            ));
        };
        let (base, total) = (slice.cast::<u8>(), slice.len());
        let mut scratch = Vec::with_capacity(total.min(WRITABLE_PIECE_BYTES));
        let mut start = 0;
        while start < total {
            let n = (total - start).min(WRITABLE_PIECE_BYTES);
            scratch.clear();
            // SAFETY: `start + n <= total` bytes of a C-contiguous buffer that `PyBuffer` keeps
            // alive and pinned; the interpreter is held during the copy, so no Python code
            // writes to the buffer meanwhile.
            scratch.extend_from_slice(unsafe {
                std::slice::from_raw_parts(base.as_ptr().add(start).cast_const(), n)
            });
            detach(py, || decoder.decode(&scratch).map(|_| ()))?;
            start += n;
        }
        Ok(())
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Self::Shared(b) => b,
            Self::Owned(v) => v,
            Self::Writable(_) => &[],
            Self::Buffer(buffer) => match buffer.as_slice_ptr() {
                // SAFETY: the buffer is read-only and C-contiguous (checked in `extract`), and
                // `PyBuffer` keeps the exporting object alive and its memory pinned until it is
                // dropped, which is after every use of this slice (it borrows `self`).
                Some(ptr) => unsafe { ptr.as_ref() },
                None => &[],
            },
        }
    }
}

/// Push decoder: `feed(bytes)` chunks of a Zeek log in any format and compression, get
/// typed Arrow batches. Output is identical however the input is split. `max_columns` caps
/// the columns of one schema (lines past it are quarantined as `too_many_columns`);
/// `inflate_thread` inflates gzip/zstd feeds of 64 KiB or more on a second thread while this
/// one parses (same output; turn it off where every core is already busy).
#[pyclass(module = "recall_fast._native", name = "ZeekDecoder")]
pub struct ZeekDecoder {
    inner: CoreDecoder,
}

#[pymethods]
impl ZeekDecoder {
    #[new]
    #[pyo3(signature = (
        format = "auto",
        compression = "auto",
        batch_rows = 65_536,
        log_type = None,
        max_line_bytes = 1_048_576,
        json_time = "auto",
        tsv_schema = None,
        meta_prefix = None,
        max_decompressed_bytes = None,
        max_ratio = None,
        max_batch_bytes = 67_108_864,
        max_quarantine_entries = 10_000,
        max_columns = 1024,
        inflate_thread = true,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        format: &str,
        compression: &str,
        batch_rows: usize,
        log_type: Option<String>,
        max_line_bytes: usize,
        json_time: &str,
        tsv_schema: Option<Vec<(String, String)>>,
        meta_prefix: Option<String>,
        max_decompressed_bytes: Option<u64>,
        max_ratio: Option<u64>,
        max_batch_bytes: usize,
        max_quarantine_entries: usize,
        max_columns: usize,
        inflate_thread: bool,
    ) -> PyResult<Self> {
        let options = options(
            format,
            compression,
            batch_rows,
            log_type,
            max_line_bytes,
            json_time,
            tsv_schema,
            meta_prefix,
            max_decompressed_bytes,
            max_ratio,
            max_batch_bytes,
            max_quarantine_entries,
            max_columns,
            inflate_thread,
        )?;
        Ok(Self {
            inner: CoreDecoder::new(options).map_py()?,
        })
    }

    /// Decode a chunk (`bytes`, `bytearray`, `memoryview`, `mmap`: any buffer of bytes; it
    /// may end anywhere) and return the batches it completed. Read-only buffers are read in
    /// place; writable ones in bounded pieces (see `Input`). On a corrupt or truncated
    /// compressed stream or an exceeded limit this raises; the records decoded before the
    /// failure are in `take_batches()`.
    fn feed(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Vec<DecodedBatch>> {
        let input = Input::extract(py, data)?;
        input.decode_into(py, &mut self.inner)?;
        Ok(to_py(self.inner.take_batches()))
    }

    /// End of input: returns the remaining batches.
    fn finish(&mut self, py: Python<'_>) -> PyResult<Vec<DecodedBatch>> {
        let inner = &mut self.inner;
        let batches = detach(py, || {
            inner.finish()?;
            Ok(inner.take_batches())
        })?;
        Ok(to_py(batches))
    }

    /// Batches completed but not yet returned (after `feed`/`finish` raised).
    fn take_batches(&mut self) -> Vec<DecodedBatch> {
        to_py(self.inner.take_batches())
    }

    /// Counters: `lines`, `records`, `quarantined`, `header_lines`, `bytes_in`,
    /// `bytes_decompressed`, `batches`, `quarantine_dropped`
    /// (`lines == records + quarantined + header_lines`).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        stats_dict(py, self.inner.stats())
    }

    /// Quarantined lines held so far (not drained): dicts with line, offset, kind, reason,
    /// raw.
    #[getter]
    fn quarantine<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        quarantine_dicts(py, self.inner.quarantine())
    }

    /// Drain the quarantined lines held so far.
    fn take_quarantine<'py>(&mut self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        quarantine_dicts(py, &self.inner.take_quarantine())
    }
}

/// Where `read_zeek` reads from.
enum Source {
    File(File),
    Bytes {
        data: PyBackedBytes,
        position: usize,
    },
}

/// The state behind a `ZeekStream`: the source, the decoder and what was read ahead.
pub struct StreamState {
    decoder: CoreDecoder,
    source: Source,
    buffer: Vec<u8>,
    /// A batch decoded to learn the schema, not yet handed out.
    primed: Option<CoreBatch>,
    pending_error: Option<RecallError>,
    done: bool,
    exported: bool,
}

impl StreamState {
    /// The next batch, reading and decoding more of the source as needed. After a failure,
    /// every batch decoded before it comes first, then the error.
    pub fn next_batch(&mut self) -> Result<Option<CoreBatch>, RecallError> {
        if let Some(batch) = self.primed.take() {
            return Ok(Some(batch));
        }
        loop {
            if let Some(batch) = self.decoder.next_batch() {
                return Ok(Some(batch));
            }
            if let Some(err) = self.pending_error.take() {
                return Err(err);
            }
            if self.done {
                return Ok(None);
            }
            self.step();
        }
    }

    /// Read one chunk and decode it (or finish at the end of the source).
    fn step(&mut self) {
        let result = match &mut self.source {
            Source::File(file) => {
                self.buffer.resize(READ_CHUNK_BYTES, 0);
                match file.read(&mut self.buffer) {
                    Ok(0) => None,
                    Ok(n) => Some(
                        self.decoder
                            .decode(self.buffer.get(..n).unwrap_or_default()),
                    ),
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => Some(Ok(0)),
                    Err(err) => Some(Err(RecallError::Io(err))),
                }
            }
            Source::Bytes { data, position } => {
                let rest = data.get(*position..).unwrap_or_default();
                if rest.is_empty() {
                    None
                } else {
                    let take = rest.len().min(READ_CHUNK_BYTES);
                    *position += take;
                    Some(self.decoder.decode(rest.get(..take).unwrap_or_default()))
                }
            }
        };
        let outcome = if let Some(decoded) = result {
            decoded.map(|_| ())
        } else {
            self.done = true;
            self.decoder.finish()
        };
        if let Err(err) = outcome {
            self.done = true;
            self.pending_error = Some(err);
        }
    }

    /// The stream's schema: the first batch's (decoding up to it), else the header's, else
    /// empty.
    pub fn schema(&mut self) -> SchemaRef {
        if self.primed.is_none() {
            match self.next_batch() {
                Ok(batch) => self.primed = batch,
                // Keep the error for the consumer of the data.
                Err(err) => self.pending_error = Some(err),
            }
        }
        match &self.primed {
            Some(batch) => batch.batch.schema(),
            None => self
                .decoder
                .schema()
                .unwrap_or_else(|| Arc::new(Schema::empty())),
        }
    }

    /// Mark the stream as exported to Arrow (single use).
    pub fn claim_for_export(&mut self) -> Result<(), RecallError> {
        if self.exported {
            return Err(RecallError::Config {
                field: "__arrow_c_stream__".to_owned(),
                reason: "the stream was already exported; a ZeekStream is single-use".to_owned(),
            });
        }
        self.exported = true;
        Ok(())
    }

    pub fn stats(&self) -> &DecodeStats {
        self.decoder.stats()
    }

    pub fn quarantine(&self) -> &[QuarantineEntry] {
        self.decoder.quarantine()
    }
}

/// Stream a Zeek log (a path or the bytes of one) as Arrow batches; the file is read lazily
/// in 1 MiB chunks as the stream is consumed. Options as for `ZeekDecoder`; for a path,
/// `log_type` defaults to the registry log type named by the file name (`conn.*.json.gz`).
#[pyfunction]
#[pyo3(signature = (
    source,
    *,
    format = "auto",
    compression = "auto",
    batch_rows = 65_536,
    log_type = None,
    max_line_bytes = 1_048_576,
    json_time = "auto",
    tsv_schema = None,
    meta_prefix = None,
    max_decompressed_bytes = None,
    max_ratio = None,
    max_batch_bytes = 67_108_864,
    max_quarantine_entries = 10_000,
    max_columns = 1024,
    inflate_thread = true,
))]
#[allow(clippy::too_many_arguments)]
pub fn read_zeek(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    format: &str,
    compression: &str,
    batch_rows: usize,
    log_type: Option<String>,
    max_line_bytes: usize,
    json_time: &str,
    tsv_schema: Option<Vec<(String, String)>>,
    meta_prefix: Option<String>,
    max_decompressed_bytes: Option<u64>,
    max_ratio: Option<u64>,
    max_batch_bytes: usize,
    max_quarantine_entries: usize,
    max_columns: usize,
    inflate_thread: bool,
) -> PyResult<ZeekStream> {
    let (source, log_type) = if source.is_instance_of::<PyBytes>()
        || source.is_instance_of::<pyo3::types::PyByteArray>()
    {
        (
            Source::Bytes {
                data: source.extract::<PyBackedBytes>()?,
                position: 0,
            },
            log_type,
        )
    } else {
        let path: std::path::PathBuf = source.extract()?;
        let log_type = log_type.or_else(|| log_type_from_path(&path.to_string_lossy()));
        let file = detach(py, || File::open(&path).map_err(RecallError::Io))?;
        (Source::File(file), log_type)
    };
    let options = options(
        format,
        compression,
        batch_rows,
        log_type,
        max_line_bytes,
        json_time,
        tsv_schema,
        meta_prefix,
        max_decompressed_bytes,
        max_ratio,
        max_batch_bytes,
        max_quarantine_entries,
        max_columns,
        inflate_thread,
    )?;
    let decoder = CoreDecoder::new(options).map_py()?;
    Ok(ZeekStream::new(StreamState {
        decoder,
        source,
        buffer: Vec::new(),
        primed: None,
        pending_error: None,
        done: false,
        exported: false,
    }))
}

/// Register the classes and functions of this module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ZeekDecoder>()?;
    m.add_class::<DecodedBatch>()?;
    m.add_class::<ZeekStream>()?;
    m.add_function(wrap_pyfunction!(read_zeek, m)?)?;
    Ok(())
}
