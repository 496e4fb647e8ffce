//! Stage-level normaliser for library users: a decoded Arrow batch in (anything exporting
//! `__arrow_c_array__`), an ECS-shaped Arrow batch out (columns named by dotted document path,
//! plus `_id` and `_index`). Columns pass through without copies in both directions.

use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;
use recall_core::normalize::{Enrichment, NormalizeConfig, Normalizer as CoreNormalizer};

use crate::detach::detach;
use crate::errors::IntoPyResult;

/// Build a normaliser configuration from the Python arguments (an unknown enrichment name is
/// a `ConfigError`).
#[allow(clippy::too_many_arguments)]
pub fn normalize_config(
    tenant: &str,
    bucket: &str,
    key: &str,
    version: &str,
    sensor: Option<String>,
    index_pattern: Option<String>,
    log_type: Option<String>,
    community_id_seed: u16,
    ingested_ns: Option<i64>,
    fallback_timestamp_ns: Option<i64>,
    disabled_enrichments: Option<Vec<String>>,
) -> PyResult<NormalizeConfig> {
    let mut config = NormalizeConfig::new(tenant, bucket, key, version);
    config.sensor = sensor;
    if let Some(pattern) = index_pattern {
        config.index_pattern = pattern;
    }
    config.log_type = log_type;
    config.community_id_seed = community_id_seed;
    config.ingested_ns = ingested_ns;
    config.fallback_timestamp_ns = fallback_timestamp_ns;
    config.disabled_enrichments =
        Enrichment::parse_all(disabled_enrichments.iter().flatten().map(String::as_str))
            .map_py()?;
    Ok(config)
}

/// The names `disabled_enrichments` accepts, with the document fields each one writes.
#[pyfunction]
pub fn known_enrichments() -> Vec<(&'static str, Vec<&'static str>)> {
    Enrichment::ALL
        .iter()
        .map(|e| (e.name(), e.fields().to_vec()))
        .collect()
}

/// Normalises decoded Zeek batches of one object into ECS documents (as Arrow).
#[pyclass(module = "recall_fast._native")]
pub struct Normalizer {
    inner: CoreNormalizer,
}

#[pymethods]
impl Normalizer {
    #[new]
    #[pyo3(signature = (tenant, bucket, key, version, sensor = None, *, index_pattern = None, log_type = None, community_id_seed = 0, ingested_ns = None, fallback_timestamp_ns = None, disabled_enrichments = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        tenant: &str,
        bucket: &str,
        key: &str,
        version: &str,
        sensor: Option<String>,
        index_pattern: Option<String>,
        log_type: Option<String>,
        community_id_seed: u16,
        ingested_ns: Option<i64>,
        fallback_timestamp_ns: Option<i64>,
        disabled_enrichments: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let config = normalize_config(
            tenant,
            bucket,
            key,
            version,
            sensor,
            index_pattern,
            log_type,
            community_id_seed,
            ingested_ns,
            fallback_timestamp_ns,
            disabled_enrichments,
        )?;
        Ok(Self {
            inner: CoreNormalizer::new(&config).map_py()?,
        })
    }

    /// Normalise a batch whose first row is record `first_record` of the object. The log
    /// type comes from `log_type`, else the batch's `zeek.path` metadata, else the
    /// constructor's `log_type`.
    #[pyo3(signature = (batch, first_record = 0, log_type = None))]
    fn normalize(
        &mut self,
        py: Python<'_>,
        batch: PyRecordBatch,
        first_record: u64,
        log_type: Option<String>,
    ) -> PyResult<PyRecordBatch> {
        let batch = batch.into_inner();
        let inner = &mut self.inner;
        let out = detach(py, || {
            inner.normalize(&batch, log_type.as_deref(), first_record)
        })?;
        Ok(PyRecordBatch::new(out.batch))
    }

    /// The document id of record `record` of this object.
    fn document_id(&self, record: u64) -> String {
        self.inner.identity().id(record)
    }
}
