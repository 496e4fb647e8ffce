//! Arrow export through the `PyCapsule` interface: decoded batches (`__arrow_c_array__`,
//! `__arrow_c_schema__`) and the lazy stream of `read_zeek` (`__arrow_c_stream__`).
//!
//! Buffers leave without copies: the capsules point at the very buffers the decoder filled
//! (pyo3-arrow's FFI export), so `pyarrow.record_batch(batch)`, `pyarrow.table(stream)` and
//! `polars.from_arrow(...)` share memory with the decoder's output. pyarrow is never imported
//! here.

use std::sync::{Arc, Mutex, PoisonError};

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader, StructArray};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};
use pyo3_arrow::error::PyArrowResult;
use pyo3_arrow::ffi::{
    to_array_pycapsules, to_schema_pycapsule, to_stream_pycapsule, ArrayIterator,
};
use recall_core::decode::DecodedBatch as CoreBatch;
use recall_core::RecallError;

use crate::decoder::StreamState;
use crate::detach::detach;

/// One decoded batch: a typed Arrow record batch plus where it came from.
#[pyclass(module = "recall_fast._native", name = "DecodedBatch", frozen)]
pub struct DecodedBatch {
    batch: RecordBatch,
    log_type: Option<String>,
    first_record: u64,
    first_line: u64,
}

impl DecodedBatch {
    pub(crate) fn from_core(batch: CoreBatch) -> Self {
        Self {
            batch: batch.batch,
            log_type: batch.log_type,
            first_record: batch.first_record,
            first_line: batch.first_line,
        }
    }
}

/// The struct field describing a batch (how record batches travel as Arrow arrays).
fn struct_field(schema: &Schema) -> Arc<Field> {
    Arc::new(
        Field::new_struct("", schema.fields().clone(), false)
            .with_metadata(schema.metadata().clone()),
    )
}

#[pymethods]
impl DecodedBatch {
    /// Log type from `#path`, JSON `_path` or the options; `None` when unknown.
    #[getter]
    fn log_type(&self) -> Option<&str> {
        self.log_type.as_deref()
    }

    /// 0-based number, within the input, of the batch's first record.
    #[getter]
    fn first_record(&self) -> u64 {
        self.first_record
    }

    /// 1-based line number of the batch's first record.
    #[getter]
    fn first_line(&self) -> u64 {
        self.first_line
    }

    /// Rows in the batch.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Columns in the batch.
    #[getter]
    fn num_columns(&self) -> usize {
        self.batch.num_columns()
    }

    /// Column names, as Zeek writes them.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "DecodedBatch(log_type={:?}, first_record={}, rows={}, columns={})",
            self.log_type,
            self.first_record,
            self.batch.num_rows(),
            self.batch.num_columns()
        )
    }

    /// Addresses of every column's Arrow buffers (validity excluded), in column order, so
    /// tests can check that an exported batch shares memory with the decoder's output.
    fn buffer_addresses(&self) -> Vec<Vec<usize>> {
        self.batch
            .columns()
            .iter()
            .map(|c| {
                let data = c.to_data();
                let mut out: Vec<usize> =
                    data.buffers().iter().map(|b| b.as_ptr() as usize).collect();
                for child in data.child_data() {
                    out.extend(child.buffers().iter().map(|b| b.as_ptr() as usize));
                }
                out
            })
            .collect()
    }

    /// Arrow `PyCapsule` interface: the schema.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyArrowResult<Bound<'py, PyCapsule>> {
        to_schema_pycapsule(py, self.batch.schema_ref().as_ref())
    }

    /// Arrow `PyCapsule` interface: the batch as a struct array (zero-copy).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyArrowResult<Bound<'py, PyTuple>> {
        let field = struct_field(self.batch.schema_ref());
        let array: ArrayRef = Arc::new(StructArray::from(self.batch.clone()));
        to_array_pycapsules(py, field, array.as_ref(), requested_schema)
    }
}

/// Lazy stream of decoded batches over one input (returned by `read_zeek`). Reads and
/// decodes the source chunk by chunk as batches are pulled, so memory stays constant.
#[pyclass(module = "recall_fast._native", name = "ZeekStream", frozen)]
pub struct ZeekStream {
    state: Arc<Mutex<StreamState>>,
}

impl ZeekStream {
    pub(crate) fn new(state: StreamState) -> Self {
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }
}

fn poisoned<T>(_: PoisonError<T>) -> RecallError {
    RecallError::InvalidInput {
        offset: 0,
        reason: "stream state poisoned by an earlier panic".to_owned(),
    }
}

/// The record batch reader behind `__arrow_c_stream__`.
struct StreamReader {
    state: Arc<Mutex<StreamState>>,
    schema: SchemaRef,
}

impl Iterator for StreamReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self
            .state
            .lock()
            .map_err(poisoned)
            .and_then(|mut s| s.next_batch());
        match next {
            Ok(Some(batch)) => Some(conform(&self.schema, batch.batch)),
            Ok(None) => None,
            Err(err) => Some(Err(ArrowError::ExternalError(Box::new(err)))),
        }
    }
}

impl RecordBatchReader for StreamReader {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// A batch under the stream's schema: same columns and types required (an Arrow stream has
/// one schema; a later header block with other fields ends the stream with an error that says
/// to iterate batches instead).
fn conform(schema: &SchemaRef, batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    if batch.schema_ref() == schema {
        return Ok(batch);
    }
    let same_columns = batch.schema_ref().fields().len() == schema.fields().len()
        && batch
            .schema_ref()
            .fields()
            .iter()
            .zip(schema.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    if !same_columns {
        return Err(ArrowError::SchemaError(
            "the input changes schema mid-stream (another header block or log type); an Arrow \
             stream has one schema: iterate the stream's DecodedBatch objects instead"
                .to_owned(),
        ));
    }
    RecordBatch::try_new(Arc::clone(schema), batch.columns().to_vec())
}

#[pymethods]
impl ZeekStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next batch, decoded with the interpreter released.
    fn __next__(&self, py: Python<'_>) -> PyResult<DecodedBatch> {
        let state = Arc::clone(&self.state);
        let next = detach(py, move || state.lock().map_err(poisoned)?.next_batch())?;
        match next {
            Some(batch) => Ok(DecodedBatch::from_core(batch)),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    /// Arrow `PyCapsule` interface: the schema (decodes up to the first batch to learn it).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let state = Arc::clone(&self.state);
        let schema = detach(py, move || Ok(state.lock().map_err(poisoned)?.schema()))?;
        Ok(to_schema_pycapsule(py, schema.as_ref())?)
    }

    /// Arrow `PyCapsule` interface: the whole stream, pulled lazily by the consumer. Single
    /// use: a second call raises.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let state = Arc::clone(&self.state);
        let schema = detach(py, move || {
            let mut s = state.lock().map_err(poisoned)?;
            s.claim_for_export()?;
            Ok(s.schema())
        })?;
        let reader = StreamReader {
            state: Arc::clone(&self.state),
            schema,
        };
        let schema = reader.schema();
        let arrays = reader.map(|batch| -> Result<ArrayRef, ArrowError> {
            Ok(Arc::new(StructArray::from(batch?)))
        });
        let array_reader = Box::new(ArrayIterator::new(arrays, struct_field(&schema)));
        Ok(to_stream_pycapsule(py, array_reader, requested_schema)?)
    }

    /// Counters so far (see `ZeekDecoder.stats`).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let stats = *self
            .state
            .lock()
            .map_err(|e| crate::errors::to_pyerr(poisoned(e)))?
            .stats();
        crate::decoder::stats_dict(py, &stats)
    }

    /// Quarantined lines held so far (not drained), as dicts.
    #[getter]
    fn quarantine<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, pyo3::types::PyDict>>> {
        let state = self
            .state
            .lock()
            .map_err(|e| crate::errors::to_pyerr(poisoned(e)))?;
        crate::decoder::quarantine_dicts(py, state.quarantine())
    }
}
