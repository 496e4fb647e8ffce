//! Stage-level bulk encoder for library users (`BulkEncoder`), and the `BulkChunk` class that
//! both it and the fused processor return.
//!
//! A `BulkChunk` keeps its body in the buffer the encoder wrote it into and exports it through
//! the buffer protocol: `chunk.body` is a read-only `memoryview` of it, no copy (copying each
//! 8 MiB body into a `bytes`, with the page faults of a fresh allocation, was a sixth of
//! encoding time). When Python drops the chunk (and every view of it) the buffer returns to
//! the encoder's [`BodyPool`], so the next body reuses mapped memory. Ids and document offsets
//! stay in Rust and are materialised only when asked for.

use std::ffi::c_int;
use std::sync::{Arc, Weak};

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyMemoryView};
use pyo3_arrow::PyRecordBatch;
use recall_core::encode::{
    Action, BodyPool, BulkChunk as CoreChunk, BulkEncoder as CoreEncoder, EncodeConfig, IdList,
    RejectedDoc, DEFAULT_MAX_CHUNK_BYTES, DEFAULT_MAX_CHUNK_DOCS,
};

use crate::detach::detach;

// The Python signatures spell the defaults as literals (so `inspect` and stubtest see
// numbers); these keep them equal to the core constants.
const _: () = assert!(DEFAULT_MAX_CHUNK_BYTES == 8_388_608);
const _: () = assert!(DEFAULT_MAX_CHUNK_DOCS == 10_000);
use crate::errors::IntoPyResult;

/// One Elasticsearch `_bulk` body: an action line and a source line per document.
///
/// Exports the body through the buffer protocol (read-only bytes): `memoryview(chunk)`,
/// `bytes(chunk)`, `file.write(chunk.body)`, `socket.send(chunk.body)`.
#[pyclass(module = "recall_fast._native", frozen)]
pub struct BulkChunk {
    /// Never changed after construction: exported views point into it.
    body: Vec<u8>,
    pool: Weak<BodyPool>,
    first_record: u64,
    doc_offsets: Vec<u32>,
    ids: IdList,
    index_names: Vec<String>,
    log_type: String,
}

impl BulkChunk {
    /// Move a core chunk across the boundary without copying its body (a body using less than
    /// half of its buffer is first moved to an exact-size one: see [`BodyPool::fit`]).
    pub fn from_core(mut chunk: CoreChunk, log_type: String, pool: &Arc<BodyPool>) -> Self {
        pool.fit(&mut chunk.body);
        Self {
            body: chunk.body,
            pool: Arc::downgrade(pool),
            first_record: chunk.first_record,
            doc_offsets: chunk.doc_offsets,
            ids: chunk.ids,
            index_names: chunk.index_names,
            log_type,
        }
    }
}

impl Drop for BulkChunk {
    fn drop(&mut self) {
        // Python releases an exporter only after every view of it is gone, so nothing
        // points into the buffer any more.
        if let Some(pool) = self.pool.upgrade() {
            pool.give(std::mem::take(&mut self.body));
        }
    }
}

#[pymethods]
impl BulkChunk {
    /// The NDJSON body (ends with a newline): a read-only `memoryview` of the chunk, no copy.
    #[getter]
    fn body<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyMemoryView>> {
        PyMemoryView::from(slf.as_any())
    }

    /// Size of the body in bytes.
    #[getter]
    fn nbytes(&self) -> usize {
        self.body.len()
    }

    /// Buffer protocol: the body, read-only, one byte per item.
    ///
    /// # Safety
    ///
    /// `view` is the `Py_buffer` Python passes to `bf_getbuffer`.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let body = &slf.get().body;
        let len = isize::try_from(body.len())
            .map_err(|_| PyBufferError::new_err("body larger than isize::MAX"))?;
        // SAFETY: `view` comes from Python's buffer machinery. `PyBuffer_FillInfo` stores a new
        // reference to `slf` in the view, so the chunk (frozen: its body is never mutated or
        // moved) outlives every pointer into its body; read-only (1) makes it refuse writable
        // requests. On failure it sets the Python error and returns -1.
        let rc = unsafe {
            ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                body.as_ptr().cast_mut().cast(),
                len,
                1,
                flags,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(PyErr::fetch(slf.py()))
        }
    }

    /// Number of documents.
    #[getter]
    fn n_docs(&self) -> usize {
        self.doc_offsets.len()
    }

    /// Record number (within the object) of the first document.
    #[getter]
    fn first_record(&self) -> u64 {
        self.first_record
    }

    /// First record number (inclusive); documents are consecutive records.
    #[getter]
    fn row_start(&self) -> u64 {
        self.first_record
    }

    /// Last record number (exclusive).
    #[getter]
    fn row_end(&self) -> u64 {
        self.first_record + self.doc_offsets.len() as u64
    }

    /// Document ids in body order.
    #[getter]
    fn ids(&self) -> Vec<String> {
        self.ids.iter().map(str::to_owned).collect()
    }

    /// The distinct index names of the body, in order of first appearance.
    #[getter]
    fn index_names(&self) -> Vec<String> {
        self.index_names.clone()
    }

    /// The log type of every document in the body (empty for the stage-level encoder).
    #[getter]
    fn log_type(&self) -> &str {
        &self.log_type
    }

    /// Action and source lines of document `i` (what to resend when only it failed).
    fn doc<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyBytes>> {
        let body = self.body.as_slice();
        let start = self.doc_offsets.get(i).copied().ok_or_else(|| {
            pyo3::exceptions::PyIndexError::new_err(format!("document {i} out of range"))
        })? as usize;
        let end = self
            .doc_offsets
            .get(i + 1)
            .map_or(body.len(), |e| *e as usize);
        Ok(PyBytes::new(py, body.get(start..end).unwrap_or_default()))
    }

    /// A body with only the documents at `indices`, in that order (per-document retries).
    fn select<'py>(&self, py: Python<'py>, indices: Vec<usize>) -> PyResult<Bound<'py, PyBytes>> {
        let body = self.body.as_slice();
        let mut out = Vec::new();
        for i in indices {
            let start = self.doc_offsets.get(i).copied().ok_or_else(|| {
                pyo3::exceptions::PyIndexError::new_err(format!("document {i} out of range"))
            })? as usize;
            let end = self
                .doc_offsets
                .get(i + 1)
                .map_or(body.len(), |e| *e as usize);
            out.extend_from_slice(body.get(start..end).unwrap_or_default());
        }
        Ok(PyBytes::new(py, &out))
    }

    fn __len__(&self) -> usize {
        self.doc_offsets.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "BulkChunk(log_type={:?}, records={}..{}, n_docs={}, bytes={})",
            self.log_type,
            self.first_record,
            self.row_end(),
            self.doc_offsets.len(),
            self.body.len()
        )
    }
}

/// Rejected documents as dicts: `record`, `id` (or None), `reason`.
pub fn rejected_dicts<'py>(
    py: Python<'py>,
    rejected: &[RejectedDoc],
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    rejected
        .iter()
        .map(|r| {
            let d = PyDict::new(py);
            d.set_item("record", r.record)?;
            d.set_item("id", r.id.as_deref())?;
            d.set_item("reason", &r.reason)?;
            Ok(d)
        })
        .collect()
}

/// Parse the encoder options shared by `BulkEncoder` and `ZeekProcessor`.
pub fn encode_config(
    action: &str,
    max_chunk_bytes: usize,
    max_chunk_docs: usize,
    default_index: Option<String>,
) -> PyResult<EncodeConfig> {
    Ok(EncodeConfig {
        action: Action::parse(action).map_py()?,
        max_chunk_bytes,
        max_chunk_docs,
        default_index,
    })
}

/// Encodes normalised Arrow batches (dotted column names, `_id`, `_index`) into bulk bodies.
///
/// Bodies carry over between `encode` calls while records are consecutive; `finish` returns
/// the last one. Documents larger than `max_chunk_bytes` are listed in `rejected`.
#[pyclass(module = "recall_fast._native")]
pub struct BulkEncoder {
    inner: CoreEncoder,
    rejected: Vec<RejectedDoc>,
}

impl BulkEncoder {
    fn convert(&self, chunk: CoreChunk) -> BulkChunk {
        BulkChunk::from_core(chunk, String::new(), self.inner.pool())
    }
}

#[pymethods]
impl BulkEncoder {
    #[new]
    #[pyo3(signature = (*, action = "create", max_chunk_bytes = 8388608, max_chunk_docs = 10000, default_index = None))]
    fn new(
        action: &str,
        max_chunk_bytes: usize,
        max_chunk_docs: usize,
        default_index: Option<String>,
    ) -> PyResult<Self> {
        let config = encode_config(action, max_chunk_bytes, max_chunk_docs, default_index)?;
        Ok(Self {
            inner: CoreEncoder::new(config).map_py()?,
            rejected: Vec::new(),
        })
    }

    /// Encode a batch whose first row is record `first_record`; returns the full bodies.
    #[pyo3(signature = (batch, first_record = 0))]
    fn encode(
        &mut self,
        py: Python<'_>,
        batch: PyRecordBatch,
        first_record: u64,
    ) -> PyResult<Vec<BulkChunk>> {
        let batch = batch.into_inner();
        let inner = &mut self.inner;
        let output = detach(py, || inner.encode(&batch, first_record))?;
        self.rejected.extend(output.rejected);
        Ok(output.chunks.into_iter().map(|c| self.convert(c)).collect())
    }

    /// Return the last, partly filled body (if any).
    fn finish(&mut self) -> Vec<BulkChunk> {
        let last = self.inner.finish();
        last.map(|c| self.convert(c)).into_iter().collect()
    }

    /// Documents that could not be encoded, as dicts (`record`, `id`, `reason`).
    #[getter]
    fn rejected<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        rejected_dicts(py, &self.rejected)
    }
}
