//! Bindings of the Zeek log generator (`recall_core::synth`): `generate` writes a corpus of
//! minute files under the S3-like key layout, `synth_log` returns one log's bytes. Arguments
//! are converted to owned Rust values here; the work, option checks included, runs without
//! the GIL so a Python thread pool can generate several shards at once.

use std::collections::HashMap;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use recall_core::synth::{
    generate_log, generate_to_dir, Compression, JsonTime, LogCounts, LogType, SynthFormat,
    SynthOptions, SynthSummary, SynthVolume,
};
use recall_core::RecallError;

use crate::detach::detach;

fn config(field: &str, reason: String) -> RecallError {
    RecallError::Config {
        field: field.to_owned(),
        reason,
    }
}

fn parse_format(format: &str) -> Result<SynthFormat, RecallError> {
    match format {
        "tsv" => Ok(SynthFormat::Tsv),
        "json" => Ok(SynthFormat::Json),
        other => Err(config(
            "format",
            format!("{other:?} is not one of 'tsv', 'json'"),
        )),
    }
}

fn parse_json_time(json_time: &str) -> Result<JsonTime, RecallError> {
    match json_time {
        "epoch" => Ok(JsonTime::EpochSeconds),
        "iso8601" => Ok(JsonTime::Iso8601),
        other => Err(config(
            "json_time",
            format!("{other:?} is not one of 'epoch', 'iso8601'"),
        )),
    }
}

fn parse_compression(name: &str, level: Option<i32>) -> Result<Compression, RecallError> {
    match name {
        "none" => Ok(Compression::None),
        "gzip" => {
            let level = level.unwrap_or(6);
            u32::try_from(level)
                .map(|level| Compression::Gzip { level })
                .map_err(|_| {
                    config(
                        "compression_level",
                        format!("{level} is not a gzip level (0-9)"),
                    )
                })
        }
        "zstd" => Ok(Compression::Zstd {
            level: level.unwrap_or(3),
        }),
        other => Err(config(
            "compression",
            format!("{other:?} is not one of 'gzip', 'zstd', 'none'"),
        )),
    }
}

/// Megabytes (10^6 bytes) to bytes; `mb` is checked finite and positive before, and an
/// absurdly large value saturates at `u64::MAX` (Rust float-to-int casts saturate).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn megabytes_to_bytes(mb: f64) -> u64 {
    (mb * 1_000_000.0).round() as u64
}

/// Records per minute: explicit counts for the named types, the others following the default
/// ratios relative to conn (conn defaults to 1000).
fn parse_records(records: &HashMap<String, u64>) -> Result<LogCounts, RecallError> {
    let mut parsed = Vec::with_capacity(records.len());
    for (name, &count) in records {
        parsed.push((name.parse::<LogType>()?, count));
    }
    let conn = parsed
        .iter()
        .find(|(t, _)| *t == LogType::Conn)
        .map_or(1_000, |(_, c)| *c);
    let mut counts = LogCounts::from_conn(conn.max(1));
    for (log_type, count) in parsed {
        counts.set(log_type, count);
    }
    Ok(counts)
}

/// Everything `generate` takes, as owned Rust values.
struct GenerateArgs {
    out_dir: PathBuf,
    seed: u64,
    tenants: Vec<String>,
    sensors: u32,
    minutes: u32,
    log_types: Option<Vec<String>>,
    format: String,
    json_time: String,
    compression: String,
    compression_level: Option<i32>,
    start_epoch_s: i64,
    records_per_minute: Option<HashMap<String, u64>>,
    mb_per_minute: Option<f64>,
    shard_index: u32,
    shard_count: u32,
}

impl GenerateArgs {
    fn options(&self) -> Result<SynthOptions, RecallError> {
        let log_types = match &self.log_types {
            Some(names) => names
                .iter()
                .map(|n| n.parse::<LogType>())
                .collect::<Result<Vec<_>, _>>()?,
            None => LogType::DEFAULT.to_vec(),
        };
        let volume = match (&self.records_per_minute, self.mb_per_minute) {
            (Some(_), Some(_)) => {
                return Err(config(
                    "records_per_minute",
                    "give records_per_minute or mb_per_minute, not both".to_owned(),
                ))
            }
            (_, Some(mb)) if !(mb.is_finite() && mb > 0.0) => {
                return Err(config(
                    "mb_per_minute",
                    format!("{mb} is not a positive number"),
                ))
            }
            (_, Some(mb)) => SynthVolume::BytesPerTenantMinute(megabytes_to_bytes(mb)),
            (Some(records), None) => SynthVolume::Records(parse_records(records)?),
            (None, None) => SynthVolume::Records(LogCounts::from_conn(1_000)),
        };
        let opts = SynthOptions {
            seed: self.seed,
            tenants: self.tenants.clone(),
            sensors_per_tenant: self.sensors,
            log_types,
            format: parse_format(&self.format)?,
            json_time: parse_json_time(&self.json_time)?,
            compression: parse_compression(&self.compression, self.compression_level)?,
            start_epoch_s: self.start_epoch_s,
            minutes: self.minutes,
            volume,
            shard_index: self.shard_index,
            shard_count: self.shard_count,
        };
        opts.validate()?;
        Ok(opts)
    }
}

fn summary_dict<'py>(py: Python<'py>, summary: &SynthSummary) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("files", summary.files)?;
    out.set_item("records", summary.records)?;
    out.set_item("bytes_uncompressed", summary.bytes_uncompressed)?;
    out.set_item("bytes_written", summary.bytes_written)?;
    let counts = PyDict::new(py);
    let per_type = PyDict::new(py);
    for s in &summary.per_log_type {
        counts.set_item(s.log_type.name(), summary.counts_per_minute.get(s.log_type))?;
        let entry = PyDict::new(py);
        entry.set_item("files", s.files)?;
        entry.set_item("records", s.records)?;
        entry.set_item("bytes_uncompressed", s.bytes_uncompressed)?;
        entry.set_item("bytes_written", s.bytes_written)?;
        per_type.set_item(s.log_type.name(), entry)?;
    }
    out.set_item("records_per_minute", counts)?;
    out.set_item("log_types", per_type)?;
    Ok(out)
}

/// Write a deterministic corpus of Zeek logs under `out_dir` and return a summary dict.
#[pyfunction]
#[pyo3(signature = (
    out_dir,
    *,
    seed = 1,
    tenants = vec!["acme".to_owned(), "globex".to_owned()],
    sensors = 2,
    minutes = 5,
    log_types = None,
    format = "tsv",
    json_time = "epoch",
    compression = "gzip",
    compression_level = None,
    start_epoch_s = 1_714_564_800,
    records_per_minute = None,
    mb_per_minute = None,
    shard_index = 0,
    shard_count = 1,
))]
#[allow(clippy::too_many_arguments)]
pub fn generate<'py>(
    py: Python<'py>,
    out_dir: PathBuf,
    seed: u64,
    tenants: Vec<String>,
    sensors: u32,
    minutes: u32,
    log_types: Option<Vec<String>>,
    format: &str,
    json_time: &str,
    compression: &str,
    compression_level: Option<i32>,
    start_epoch_s: i64,
    records_per_minute: Option<HashMap<String, u64>>,
    mb_per_minute: Option<f64>,
    shard_index: u32,
    shard_count: u32,
) -> PyResult<Bound<'py, PyDict>> {
    let args = GenerateArgs {
        out_dir,
        seed,
        tenants,
        sensors,
        minutes,
        log_types,
        format: format.to_owned(),
        json_time: json_time.to_owned(),
        compression: compression.to_owned(),
        compression_level,
        start_epoch_s,
        records_per_minute,
        mb_per_minute,
        shard_index,
        shard_count,
    };
    let summary = detach(py, || {
        let opts = args.options()?;
        generate_to_dir(&opts, &args.out_dir)
    })?;
    summary_dict(py, &summary)
}

/// One uncompressed log of `records` records (TSV with header and `#close`, or JSON lines).
#[pyfunction]
#[pyo3(signature = (
    log_type,
    *,
    format = "tsv",
    json_time = "epoch",
    seed = 1,
    records = 1_000,
    start_epoch_s = 1_714_564_800,
))]
pub fn synth_log<'py>(
    py: Python<'py>,
    log_type: &str,
    format: &str,
    json_time: &str,
    seed: u64,
    records: u64,
    start_epoch_s: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let (log_type, format, json_time) =
        (log_type.to_owned(), format.to_owned(), json_time.to_owned());
    let bytes = detach(py, || {
        let log_type = log_type.parse::<LogType>()?;
        let format = parse_format(&format)?;
        let json_time = parse_json_time(&json_time)?;
        if start_epoch_s.rem_euclid(60) != 0 || start_epoch_s < 0 {
            return Err(config(
                "start_epoch_s",
                format!("{start_epoch_s} is not a whole minute"),
            ));
        }
        generate_log(log_type, format, json_time, seed, records, start_epoch_s)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Register the generator functions on the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(synth_log, m)?)?;
    Ok(())
}
