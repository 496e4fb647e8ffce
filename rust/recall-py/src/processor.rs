//! The fused hot path, `ZeekProcessor`: raw (possibly compressed) chunks of one object in,
//! ready `_bulk` bodies out. Each call converts its arguments, then runs decode -> normalise
//! -> encode without the GIL; Python only moves the byte buffers.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict};
use recall_core::decode::{Compression, DecoderOptions, Format, JsonTime};
use recall_core::process::{
    ProcessConfig, ProcessedChunk, ZeekProcessor as CoreProcessor, DEFAULT_PROCESS_BATCH_ROWS,
};
use recall_core::RecallError;

use crate::decoder::quarantine_dicts;
use crate::detach::detach;

// Python signature defaults are literals; keep them equal to the core constant.
const _: () = assert!(DEFAULT_PROCESS_BATCH_ROWS == 8192);
use crate::encoder::{encode_config, rejected_dicts, BulkChunk};
use crate::errors::{to_pyerr, IntoPyResult};
use crate::normalizer::normalize_config;

fn config_error(field: &str, reason: String) -> PyErr {
    to_pyerr(RecallError::Config {
        field: field.to_owned(),
        reason,
    })
}

/// Convert bodies to Python (no copy; their buffers return to the processor's pool when
/// Python drops them).
fn to_py(inner: &CoreProcessor, chunks: Vec<ProcessedChunk>) -> Vec<BulkChunk> {
    chunks
        .into_iter()
        .map(|c| BulkChunk::from_core(c.chunk, c.log_type, inner.pool()))
        .collect()
}

/// Decode -> normalise -> encode for one object (or one byte range of it, with
/// `first_record` and `header`).
///
/// `feed(data)` returns the bodies completed by a chunk, `finish()` the rest. If the input
/// turns out corrupt or truncated, `feed`/`finish` raise and the bodies of the records
/// decoded before the failure can still be taken with `drain()`.
#[pyclass(module = "recall_fast._native")]
pub struct ZeekProcessor {
    inner: CoreProcessor,
    /// Reused copy of a writable input buffer (see [`FeedInput`]).
    scratch: Vec<u8>,
}

/// The bytes of one `feed` argument, held for the duration of the native call.
enum FeedInput {
    /// `bytes`: read in place.
    Bytes(PyBackedBytes),
    /// A read-only C-contiguous buffer (`memoryview` of `bytes`, read-only `mmap`, NumPy
    /// `uint8` array marked read-only, ...): read in place.
    Buffer(PyBuffer<u8>),
    /// A writable buffer (`bytearray`, `memoryview` of one) was copied into the processor's
    /// scratch buffer while the interpreter was held: another Python thread could change it
    /// while the interpreter is released, and Rust may not read memory that changes under it.
    /// The scratch buffer is reused, so this is one `memcpy`, no allocation.
    Scratch,
}

impl FeedInput {
    fn extract(py: Python<'_>, data: &Bound<'_, PyAny>, scratch: &mut Vec<u8>) -> PyResult<Self> {
        if data.is_instance_of::<PyBytes>() {
            return Ok(Self::Bytes(data.extract::<PyBackedBytes>()?));
        }
        let buffer = PyBuffer::<u8>::get(data)?;
        if buffer.readonly() && buffer.is_c_contiguous() {
            return Ok(Self::Buffer(buffer));
        }
        scratch.clear();
        scratch.resize(buffer.item_count(), 0);
        buffer.copy_to_slice(py, scratch)?;
        Ok(Self::Scratch)
    }

    fn bytes<'a>(&'a self, scratch: &'a [u8]) -> &'a [u8] {
        match self {
            Self::Bytes(b) => b,
            Self::Scratch => scratch,
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

#[pymethods]
impl ZeekProcessor {
    #[new]
    #[pyo3(signature = (
        tenant, bucket, key, version, sensor = None, *,
        format = "auto", compression = "auto", log_type = None, json_time = "auto",
        batch_rows = 8192, max_line_bytes = None, max_columns = None,
        max_decompressed_bytes = None, max_ratio = None,
        max_chunk_bytes = 8388608, max_chunk_docs = 10000,
        action = "create", index_pattern = None, community_id_seed = 0, ingested_ns = None,
        fallback_timestamp_ns = None, first_record = 0, header = None,
        disabled_enrichments = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        tenant: &str,
        bucket: &str,
        key: &str,
        version: &str,
        sensor: Option<String>,
        format: &str,
        compression: &str,
        log_type: Option<String>,
        json_time: &str,
        batch_rows: usize,
        max_line_bytes: Option<usize>,
        max_columns: Option<usize>,
        max_decompressed_bytes: Option<u64>,
        max_ratio: Option<u64>,
        max_chunk_bytes: usize,
        max_chunk_docs: usize,
        action: &str,
        index_pattern: Option<String>,
        community_id_seed: u16,
        ingested_ns: Option<i64>,
        fallback_timestamp_ns: Option<i64>,
        first_record: u64,
        header: Option<Vec<u8>>,
        disabled_enrichments: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let mut config = ProcessConfig::new(tenant, bucket, key, version);
        let derived_log_type = config.normalize.log_type.clone();
        config.normalize = normalize_config(
            tenant,
            bucket,
            key,
            version,
            sensor,
            index_pattern,
            log_type.or(derived_log_type),
            community_id_seed,
            ingested_ns,
            fallback_timestamp_ns,
            disabled_enrichments,
        )?;
        let mut decoder = DecoderOptions {
            format: Format::parse(format).ok_or_else(|| {
                config_error("format", format!("{format:?}: expected auto, tsv or json"))
            })?,
            compression: Compression::parse(compression).ok_or_else(|| {
                config_error(
                    "compression",
                    format!("{compression:?}: expected auto, gzip, zstd or none"),
                )
            })?,
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
            batch_rows,
            log_type: config.normalize.log_type.clone(),
            max_decompressed_bytes,
            max_ratio,
            ..DecoderOptions::default()
        };
        if let Some(limit) = max_line_bytes {
            decoder.max_line_bytes = limit;
        }
        if let Some(limit) = max_columns {
            decoder.max_columns = limit;
        }
        config.decoder = decoder;
        config.encode = encode_config(action, max_chunk_bytes, max_chunk_docs, None)?;
        config.first_record = first_record;
        config.header = header;
        Ok(Self {
            inner: CoreProcessor::new(config).map_py()?,
            scratch: Vec::new(),
        })
    }

    /// Process a chunk of the object (any size, may end anywhere; `bytes` or any contiguous
    /// buffer such as `memoryview` or `bytearray`, read without an intermediate `bytes` copy);
    /// returns the bodies that became full.
    fn feed(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Vec<BulkChunk>> {
        let input = FeedInput::extract(py, data, &mut self.scratch)?;
        let inner = &mut self.inner;
        let bytes = input.bytes(&self.scratch);
        let chunks = detach(py, || inner.feed(bytes))?;
        drop(input);
        Ok(to_py(&self.inner, chunks))
    }

    /// End of the object: returns the remaining bodies.
    fn finish(&mut self, py: Python<'_>) -> PyResult<Vec<BulkChunk>> {
        let inner = &mut self.inner;
        let chunks = detach(py, || inner.finish())?;
        Ok(to_py(&self.inner, chunks))
    }

    /// Bodies of the records decoded before a failure (after `feed`/`finish` raised).
    fn drain(&mut self) -> Vec<BulkChunk> {
        let chunks = self.inner.drain();
        to_py(&self.inner, chunks)
    }

    /// Counters: lines, records, lines_quarantined, header_lines, bytes_in,
    /// bytes_decompressed, batches, documents, chunks, body_bytes, rejected.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("lines", s.decode.lines)?;
        d.set_item("records", s.decode.records)?;
        d.set_item("lines_quarantined", s.decode.quarantined)?;
        d.set_item("header_lines", s.decode.header_lines)?;
        d.set_item("bytes_in", s.decode.bytes_in)?;
        d.set_item("bytes_decompressed", s.decode.bytes_decompressed)?;
        d.set_item("batches", s.decode.batches)?;
        d.set_item("documents", s.documents)?;
        d.set_item("chunks", s.chunks)?;
        d.set_item("body_bytes", s.body_bytes)?;
        d.set_item("rejected", s.rejected)?;
        Ok(d)
    }

    /// The Elasticsearch `properties` (JSON) the documents produced so far need: ECS fields
    /// from the ECS table, `zeek.*` fields from their Zeek types. Compare it with a live
    /// mapping, or `PUT` it before indexing fields the registry does not know.
    fn document_mapping(&self) -> String {
        self.inner.document_mapping().to_string()
    }

    /// Quarantined lines held so far (not drained), as dicts.
    #[getter]
    fn quarantine<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        quarantine_dicts(py, self.inner.quarantine())
    }

    /// Drain the quarantined lines held so far.
    fn take_quarantine<'py>(&mut self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        quarantine_dicts(py, &self.inner.take_quarantine())
    }

    /// Drain the documents that could not be encoded (larger than `max_chunk_bytes`), as
    /// dicts: `record`, `id`, `reason`.
    fn take_rejected<'py>(&mut self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        rejected_dicts(py, &self.inner.take_rejected())
    }
}
