//! Realistic Zeek log synthesis for benchmarks and tests (`recall-fast generate`).
//!
//! Stage: tooling beside the pipeline. Must not import `decode`, `normalize` or `encode`: the
//! generator is the independent reference the decoder is tested against.
//!
//! What it writes: conn, dns, http, ssl, files, weird, notice and x509 logs as Zeek 6 writes
//! them (exact `#fields`/`#types`, see [`LogType::fields`]), in Zeek TSV or Zeek JSON (plain
//! writer with epoch `ts`, or json-streaming-logs with ISO `ts`, `_path`, `_write_ts`), plain,
//! gzip or zstd, one file per sensor, log type and minute, under the key layout documented in
//! [`layout`]. Value distributions (services, connection states and histories, query types,
//! methods, status codes, TLS versions, IPv6 share, byte counts, durations) were modelled on
//! real sensor logs; value tables are made up (see `values.rs`). Odd values that decoders must
//! handle occur at low rates: unset and empty fields, `(empty)` containers, tabs, commas in set
//! elements, backslashes, control bytes, invalid and valid non-ASCII UTF-8, a literal `-`.
//!
//! Determinism: output bytes are a pure function of the options (own xoshiro256++ PRNG, no
//! clock, no thread-order dependence): the same seed gives the same files forever, and each
//! file can be generated alone (sharding, parallel workers) with identical bytes.
//!
//! Cross-log consistency: within a (sensor, minute), every dns, http and ssl record has its
//! connection in conn.log with the same uid, endpoints and start time (when conn volume allows;
//! otherwise each kind is thinned evenly), http `resp_fuids` name the files of files.log,
//! ssl `cert_chain_fps` are the fingerprints x509.log describes, notices and weirds point at
//! existing uids, and a DNS answer is the address the client then connects to.
//!
//! Speed: values are written straight into a byte buffer (itoa/ryu, no `format!` per field);
//! one core writes several hundred MB/s of uncompressed TSV (see
//! `benches/python/test_synth_bench.py`).

mod addr;
mod clock;
mod json;
pub mod layout;
mod logs;
mod rng;
mod schema;
mod sink;
mod tsv;
mod values;
mod world;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub use json::JsonTime;
pub use layout::{object_key, sensor_name, Compression, SynthFormat};
pub use logs::{LogCounts, DEFAULT_RATIOS};
pub use schema::LogType;

use crate::error::RecallError;
use clock::SECOND_US;
use json::JsonSink;
use logs::{write_log, BufferedSink, Context, Flush, FLUSH_BYTES};
use tsv::TsvSink;
use world::{Minute, Site, World};

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SynthVolume {
    /// Records per sensor per minute for each log type.
    Records(LogCounts),
    /// Uncompressed bytes per tenant per minute, summed over its sensors and the selected log
    /// types, split by [`DEFAULT_RATIOS`] (the sizing unit of the design: "2 GB/min per
    /// customer"). Record counts are derived from the measured average record size.
    BytesPerTenantMinute(u64),
}

/// Options of a generator run. [`Default`] gives two tenants with two sensors each, five
/// minutes from 2024-05-01T12:00:00Z, the five main logs, gzip TSV, 1000 conn records per
/// sensor-minute.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Seed: equal options with an equal seed give equal bytes.
    pub seed: u64,
    /// Tenant names (first key segment).
    pub tenants: Vec<String>,
    /// Sensors per tenant (`sensor-01`, ...).
    pub sensors_per_tenant: u32,
    /// Log types to write.
    pub log_types: Vec<LogType>,
    /// TSV or JSON.
    pub format: SynthFormat,
    /// JSON time flavour (ignored for TSV).
    pub json_time: JsonTime,
    /// Compression of each file.
    pub compression: Compression,
    /// Start of the first minute, seconds since the epoch (a multiple of 60).
    pub start_epoch_s: i64,
    /// Number of minutes.
    pub minutes: u32,
    /// Volume per minute.
    pub volume: SynthVolume,
    /// This run writes only files whose position in the file list modulo `shard_count` is
    /// `shard_index`: several workers (threads, processes) split a corpus without overlap.
    pub shard_index: u32,
    /// Number of shards (1: everything).
    pub shard_count: u32,
}

impl Default for SynthOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            tenants: vec!["acme".to_owned(), "globex".to_owned()],
            sensors_per_tenant: 2,
            log_types: LogType::DEFAULT.to_vec(),
            format: SynthFormat::Tsv,
            json_time: JsonTime::EpochSeconds,
            compression: Compression::default(),
            start_epoch_s: 1_714_564_800,
            minutes: 5,
            volume: SynthVolume::Records(LogCounts::from_conn(1_000)),
            shard_index: 0,
            shard_count: 1,
        }
    }
}

/// One file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFile {
    /// Object key (relative path) per the layout.
    pub key: String,
    /// Tenant.
    pub tenant: String,
    /// Sensor.
    pub sensor: String,
    /// Log type.
    pub log_type: LogType,
    /// Start of the file's minute, seconds since the epoch.
    pub minute_start_epoch_s: i64,
}

/// Totals for one log type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTypeSummary {
    /// The log type.
    pub log_type: LogType,
    /// Files written.
    pub files: u64,
    /// Records written.
    pub records: u64,
    /// Bytes before compression (headers included).
    pub bytes_uncompressed: u64,
    /// Bytes on disk.
    pub bytes_written: u64,
}

/// What a run wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSummary {
    /// Files written.
    pub files: u64,
    /// Records written.
    pub records: u64,
    /// Bytes before compression.
    pub bytes_uncompressed: u64,
    /// Bytes on disk.
    pub bytes_written: u64,
    /// Records per sensor-minute of each log type (resolved from the volume option).
    pub counts_per_minute: LogCounts,
    /// Per log type, in [`LogType::ALL`] order, only the selected types.
    pub per_log_type: Vec<LogTypeSummary>,
}

fn config_error(field: &str, reason: impl Into<String>) -> RecallError {
    RecallError::Config {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

impl SynthOptions {
    /// Check every option; the error names the offending one.
    pub fn validate(&self) -> Result<(), RecallError> {
        if self.tenants.is_empty() {
            return Err(config_error("tenants", "at least one tenant is needed"));
        }
        for tenant in &self.tenants {
            layout::validate_segment("tenants", tenant)?;
        }
        let mut seen = self.tenants.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != self.tenants.len() {
            return Err(config_error("tenants", "tenant names must be distinct"));
        }
        if !(1..=999).contains(&self.sensors_per_tenant) {
            return Err(config_error("sensors", "must be between 1 and 999"));
        }
        if self.minutes == 0 {
            return Err(config_error("minutes", "must be at least 1"));
        }
        if self.log_types.is_empty() {
            return Err(config_error("log_types", "at least one log type is needed"));
        }
        if self.start_epoch_s.rem_euclid(60) != 0
            || !(0..=253_402_300_739).contains(&self.start_epoch_s)
        {
            return Err(config_error(
                "start",
                "must be a whole minute (seconds divisible by 60) between 1970 and 9999",
            ));
        }
        match self.compression {
            Compression::Gzip { level } if level > 9 => {
                return Err(config_error("compression_level", "gzip levels are 0-9"));
            }
            Compression::Zstd { level } if !(1..=22).contains(&level) => {
                return Err(config_error("compression_level", "zstd levels are 1-22"));
            }
            _ => {}
        }
        match self.volume {
            SynthVolume::Records(counts) if counts.0.contains(&0) => {
                return Err(config_error(
                    "records_per_minute",
                    "every count must be at least 1",
                ));
            }
            SynthVolume::BytesPerTenantMinute(0) => {
                return Err(config_error("mb_per_minute", "must be positive"));
            }
            _ => {}
        }
        if self.shard_count == 0 || self.shard_index >= self.shard_count {
            return Err(config_error("shard", "need shard_index < shard_count"));
        }
        Ok(())
    }

    /// The selected log types, deduplicated, in [`LogType::ALL`] order.
    fn selected_types(&self) -> Vec<LogType> {
        LogType::ALL
            .into_iter()
            .filter(|t| self.log_types.contains(t))
            .collect()
    }

    /// Every file of this run's shard, in generation order (tenant, sensor, minute, log type).
    pub fn plan(&self) -> Result<Vec<SynthFile>, RecallError> {
        self.validate()?;
        let types = self.selected_types();
        let mut files = Vec::new();
        let mut position: u64 = 0;
        for tenant in &self.tenants {
            for s in 0..self.sensors_per_tenant {
                let sensor = sensor_name(s);
                for m in 0..self.minutes {
                    let minute = self.start_epoch_s + 60 * i64::from(m);
                    for &log_type in &types {
                        if position % u64::from(self.shard_count) == u64::from(self.shard_index) {
                            files.push(SynthFile {
                                key: object_key(
                                    tenant,
                                    &sensor,
                                    log_type,
                                    minute,
                                    self.format,
                                    self.compression,
                                ),
                                tenant: tenant.clone(),
                                sensor: sensor.clone(),
                                log_type,
                                minute_start_epoch_s: minute,
                            });
                        }
                        position += 1;
                    }
                }
            }
        }
        Ok(files)
    }

    /// Records per sensor-minute for each log type.
    pub fn counts_per_minute(&self) -> Result<LogCounts, RecallError> {
        self.validate()?;
        Ok(match self.volume {
            SynthVolume::Records(counts) => counts,
            SynthVolume::BytesPerTenantMinute(bytes) => {
                let per_sensor = bytes as f64 / f64::from(self.sensors_per_tenant);
                let mut bytes_per_conn = 0.0;
                for log_type in self.selected_types() {
                    let ratio = DEFAULT_RATIOS.get(log_type.index()).copied().unwrap_or(0.0);
                    bytes_per_conn +=
                        ratio * average_record_bytes(log_type, self.format, self.json_time);
                }
                let conn = (per_sensor / bytes_per_conn.max(1.0)).round().max(1.0) as u64;
                LogCounts::from_conn(conn)
            }
        })
    }
}

/// The record-writing core of one file: header, records, footer, flushed in 1 MiB pieces.
fn fill<S: BufferedSink>(
    mut sink: S,
    format: SynthFormat,
    log_type: LogType,
    ctx: &Context<'_, '_>,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let minute_s = ctx.minute.start.div_euclid(SECOND_US);
    if format == SynthFormat::Tsv {
        tsv::push_header(sink.buffer(), log_type, minute_s);
    }
    let records = write_log(log_type, ctx, &mut sink, flush)?;
    if format == SynthFormat::Tsv {
        let close_s = minute_s + ctx.minute.span.div_euclid(SECOND_US);
        tsv::push_footer(sink.buffer(), close_s);
    }
    (flush.emit)(sink.buffer())?;
    Ok(records)
}

/// One file to generate: which log of which site and minute, in which format.
struct FileJob<'w> {
    world: &'w World,
    site: &'w Site,
    minute_start_epoch_s: i64,
    counts: LogCounts,
    log_type: LogType,
    format: SynthFormat,
    json_time: JsonTime,
}

/// Generate one file's bytes through `flush`, starting with a buffer of `capacity` bytes;
/// returns the record count.
fn generate_file(
    job: &FileJob<'_>,
    capacity: usize,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let start = job.minute_start_epoch_s * SECOND_US;
    let minute = Minute::new(job.world, job.site, start, 60 * SECOND_US);
    let ctx = Context::new(&minute, job.counts);
    let (format, log_type) = (job.format, job.log_type);
    match format {
        SynthFormat::Tsv => fill(
            TsvSink::with_capacity(capacity),
            format,
            log_type,
            &ctx,
            flush,
        ),
        SynthFormat::Json => {
            let sink = JsonSink::new(log_type, job.json_time, capacity);
            fill(sink, format, log_type, &ctx, flush)
        }
    }
}

/// Rough bytes per record, to size in-memory buffers once instead of growing them.
fn estimated_record_bytes(log_type: LogType, format: SynthFormat) -> u64 {
    let (tsv, json) = match log_type {
        LogType::Conn => (140, 400),
        LogType::Dns => (210, 460),
        LogType::Http => (320, 560),
        LogType::Ssl => (230, 430),
        LogType::Files => (170, 380),
        LogType::Weird => (120, 230),
        LogType::Notice => (300, 420),
        LogType::X509 => (380, 750),
    };
    if format == SynthFormat::Tsv {
        tsv
    } else {
        json
    }
}

/// Tenant and sensor of the in-memory generator.
const MEMORY_TENANT: &str = "acme";
const MEMORY_SENSOR: &str = "sensor-01";

/// Generate one log in memory (uncompressed): `records` records of `log_type` in the minute
/// starting at `start_epoch_s`, other log types' volumes following [`DEFAULT_RATIOS`]. TSV
/// output includes the header and `#close`. Used by benchmarks and tests.
pub fn generate_log(
    log_type: LogType,
    format: SynthFormat,
    json_time: JsonTime,
    seed: u64,
    records: u64,
    start_epoch_s: i64,
) -> Result<Vec<u8>, RecallError> {
    if records == 0 {
        return Err(config_error("records", "must be at least 1"));
    }
    let ratio = DEFAULT_RATIOS.get(log_type.index()).copied().unwrap_or(1.0);
    let mut counts = LogCounts::from_conn(((records as f64 / ratio).round() as u64).max(1));
    counts.set(log_type, records);
    let world = World::new(seed);
    let site = Site::new(seed, MEMORY_TENANT, MEMORY_SENSOR);
    let job = FileJob {
        world: &world,
        site: &site,
        minute_start_epoch_s: start_epoch_s,
        counts,
        log_type,
        format,
        json_time,
    };
    // Sized once from an estimate; the buffer grows in place (no flush before the end) and
    // then moves out without a copy.
    let estimate = records.saturating_mul(estimated_record_bytes(log_type, format));
    let capacity = usize::try_from(estimate.min(1 << 32)).unwrap_or(1 << 20) + 4_096;
    let mut out = Vec::new();
    let mut emit = |buf: &mut Vec<u8>| {
        std::mem::swap(&mut out, buf);
        Ok(())
    };
    let mut flush = Flush {
        at_bytes: usize::MAX,
        emit: &mut emit,
    };
    generate_file(&job, capacity, &mut flush)?;
    Ok(out)
}

/// Average uncompressed bytes per record (without the TSV header), measured on a fixed sample.
fn average_record_bytes(log_type: LogType, format: SynthFormat, json_time: JsonTime) -> f64 {
    const SAMPLE: u64 = 512;
    let header = if format == SynthFormat::Tsv {
        let mut h = Vec::new();
        tsv::push_header(&mut h, log_type, 0);
        tsv::push_footer(&mut h, 60);
        h.len()
    } else {
        0
    };
    generate_log(log_type, format, json_time, 0x5EED, SAMPLE, 1_714_564_800)
        .map_or(300.0, |bytes| {
            bytes.len().saturating_sub(header) as f64 / SAMPLE as f64
        })
}

/// The writer of one output file, by compression.
enum Encoder {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

impl Encoder {
    fn new(file: File, compression: Compression) -> Result<Self, RecallError> {
        let buffered = BufWriter::with_capacity(1 << 20, file);
        Ok(match compression {
            Compression::None => Encoder::Plain(buffered),
            Compression::Gzip { level } => Encoder::Gzip(flate2::write::GzEncoder::new(
                buffered,
                flate2::Compression::new(level),
            )),
            Compression::Zstd { level } => {
                Encoder::Zstd(zstd::stream::write::Encoder::new(buffered, level)?)
            }
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Encoder::Plain(w) => w.write_all(bytes),
            Encoder::Gzip(w) => w.write_all(bytes),
            Encoder::Zstd(w) => w.write_all(bytes),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        let mut inner = match self {
            Encoder::Plain(w) => w,
            Encoder::Gzip(w) => w.finish()?,
            Encoder::Zstd(w) => w.finish()?,
        };
        // No fsync: a corpus is regenerated at will, and a sync per file would make the
        // benchmark measure the disk instead of the generator.
        inner.flush()
    }
}

fn io_context(path: &Path, err: &std::io::Error) -> RecallError {
    RecallError::Io(std::io::Error::new(
        err.kind(),
        format!("{}: {err}", path.display()),
    ))
}

/// Generate the run's files under `dir` (created if missing). Files appear atomically: each is
/// written as `<key>.partial` and renamed when complete.
pub fn generate_to_dir(opts: &SynthOptions, dir: &Path) -> Result<SynthSummary, RecallError> {
    let plan = opts.plan()?;
    let counts = opts.counts_per_minute()?;
    let world = World::new(opts.seed);
    let mut per_type: Vec<LogTypeSummary> = opts
        .selected_types()
        .into_iter()
        .map(|log_type| LogTypeSummary {
            log_type,
            files: 0,
            records: 0,
            bytes_uncompressed: 0,
            bytes_written: 0,
        })
        .collect();
    let mut site: Option<(String, String, Site)> = None;
    for file in &plan {
        let reuse = site
            .as_ref()
            .is_some_and(|(t, s, _)| *t == file.tenant && *s == file.sensor);
        if !reuse {
            site = Some((
                file.tenant.clone(),
                file.sensor.clone(),
                Site::new(opts.seed, &file.tenant, &file.sensor),
            ));
        }
        let Some((_, _, file_site)) = site.as_ref() else {
            continue;
        };
        let path: PathBuf = dir.join(&file.key);
        let partial = PathBuf::from(format!("{}.partial", path.display()));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io_context(parent, &e))?;
        }
        let handle = File::create(&partial).map_err(|e| io_context(&partial, &e))?;
        let mut encoder = Encoder::new(handle, opts.compression)?;
        let mut uncompressed = 0u64;
        let job = FileJob {
            world: &world,
            site: file_site,
            minute_start_epoch_s: file.minute_start_epoch_s,
            counts,
            log_type: file.log_type,
            format: opts.format,
            json_time: opts.json_time,
        };
        let mut emit = |buf: &mut Vec<u8>| {
            encoder
                .write_all(buf)
                .map_err(|e| io_context(&partial, &e))?;
            uncompressed += buf.len() as u64;
            buf.clear();
            Ok(())
        };
        let mut flush = Flush {
            at_bytes: FLUSH_BYTES,
            emit: &mut emit,
        };
        let records = generate_file(&job, FLUSH_BYTES + (64 << 10), &mut flush)?;
        encoder.finish().map_err(|e| io_context(&partial, &e))?;
        fs::rename(&partial, &path).map_err(|e| io_context(&path, &e))?;
        let written = fs::metadata(&path)
            .map_err(|e| io_context(&path, &e))?
            .len();
        if let Some(summary) = per_type.iter_mut().find(|s| s.log_type == file.log_type) {
            summary.files += 1;
            summary.records += records;
            summary.bytes_uncompressed += uncompressed;
            summary.bytes_written += written;
        }
    }
    Ok(SynthSummary {
        files: per_type.iter().map(|s| s.files).sum(),
        records: per_type.iter().map(|s| s.records).sum(),
        bytes_uncompressed: per_type.iter().map(|s| s.bytes_uncompressed).sum(),
        bytes_written: per_type.iter().map(|s| s.bytes_written).sum(),
        counts_per_minute: counts,
        per_log_type: per_type,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::io::Read;

    const START: i64 = 1_714_564_800;

    fn log(t: LogType, format: SynthFormat, seed: u64, records: u64) -> Vec<u8> {
        generate_log(t, format, JsonTime::EpochSeconds, seed, records, START).unwrap()
    }

    fn lines(bytes: &[u8]) -> Vec<&[u8]> {
        bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect()
    }

    fn data_lines(bytes: &[u8]) -> Vec<&[u8]> {
        lines(bytes)
            .into_iter()
            .filter(|l| l.first() != Some(&b'#'))
            .collect()
    }

    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        })
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("recall-synth-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let key = path
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    out.push((key, fs::read(&path).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn same_seed_same_bytes_for_every_log_and_format() {
        for t in LogType::ALL {
            for format in [SynthFormat::Tsv, SynthFormat::Json] {
                assert_eq!(
                    log(t, format, 7, 300),
                    log(t, format, 7, 300),
                    "{t} {format:?}"
                );
                assert_ne!(
                    log(t, format, 7, 300),
                    log(t, format, 8, 300),
                    "{t} {format:?}"
                );
            }
        }
    }

    /// The generator's output is a contract: benchmarks compare corpora across versions.
    /// Change this value only with an intended change of the generated data.
    #[test]
    fn golden_hash_pins_the_output() {
        let bytes = log(LogType::Conn, SynthFormat::Tsv, 1, 1_000);
        assert_eq!(
            fnv1a(&bytes),
            GOLDEN_CONN_TSV_SEED1_1000,
            "{:#x}",
            fnv1a(&bytes)
        );
    }
    const GOLDEN_CONN_TSV_SEED1_1000: u64 = 0x4a85_3060_3ea0_5b6c;

    #[test]
    fn tsv_lines_have_every_column_and_increasing_times() {
        for t in LogType::ALL {
            let bytes = log(t, SynthFormat::Tsv, 3, 2_000);
            let all = lines(&bytes);
            assert_eq!(all.first().copied(), Some(&b"#separator \\x09"[..]));
            let fields = format!("#fields\t{}", t.fields().join("\t"));
            let types = format!("#types\t{}", t.types().join("\t"));
            assert_eq!(all.get(6).copied(), Some(fields.as_bytes()), "{t}");
            assert_eq!(all.get(7).copied(), Some(types.as_bytes()), "{t}");
            assert_eq!(
                all.last().copied(),
                Some(&b"#close\t2024-05-01-12-01-00"[..]),
                "{t}"
            );
            let rows = data_lines(&bytes);
            assert_eq!(rows.len(), 2_000, "{t}");
            let mut last_ts = 0.0;
            for row in rows {
                let cols: Vec<&[u8]> = row.split(|&b| b == b'\t').collect();
                assert_eq!(
                    cols.len(),
                    t.fields().len(),
                    "{t}: {}",
                    String::from_utf8_lossy(row)
                );
                for col in &cols {
                    assert!(
                        !col.is_empty(),
                        "{t}: empty column in {}",
                        String::from_utf8_lossy(row)
                    );
                    assert!(
                        col.iter().all(|&b| b >= 0x20 && b != 0x7F),
                        "{t}: raw control byte"
                    );
                }
                let ts: f64 = std::str::from_utf8(cols[0]).unwrap().parse().unwrap();
                assert!(
                    ts >= last_ts && (START as f64..START as f64 + 60.0).contains(&ts),
                    "{t} {ts}"
                );
                last_ts = ts;
            }
            // Invalid UTF-8 is escaped, valid UTF-8 passes: TSV output is always UTF-8.
            assert!(std::str::from_utf8(&bytes).is_ok(), "{t}");
        }
    }

    #[test]
    fn json_lines_use_zeek_keys_and_skip_unset_fields() {
        for t in LogType::ALL {
            let bytes = log(t, SynthFormat::Json, 3, 500);
            let first_key = format!("{{\"{}\":", t.fields().first().unwrap());
            for row in lines(&bytes) {
                assert!(
                    row.starts_with(first_key.as_bytes()),
                    "{t}: {}",
                    String::from_utf8_lossy(row)
                );
                assert!(row.ends_with(b"}"), "{t}");
                assert!(
                    !row.windows(4).any(|w| w == b"null"),
                    "{t}: unset fields are omitted"
                );
                assert!(
                    std::str::from_utf8(row).is_ok(),
                    "{t}: JSON output is UTF-8"
                );
            }
        }
        let iso = generate_log(
            LogType::Dns,
            SynthFormat::Json,
            JsonTime::Iso8601,
            3,
            10,
            START,
        )
        .unwrap();
        assert!(iso.starts_with(b"{\"_path\":\"dns\",\"_write_ts\":\"2024-05-01T12:00:"));
        assert!(iso.windows(17).any(|w| w == b"\"ts\":\"2024-05-01T"));
    }

    #[test]
    fn odd_values_are_escaped() {
        let http = log(LogType::Http, SynthFormat::Tsv, 5, 20_000);
        let text = String::from_utf8_lossy(&http);
        for needle in [
            "\\x09",
            "\\x2c",
            "\\x01",
            "\\xff",
            "\\\\",
            "(empty)",
            "\t\\x2d\t",
            "café",
        ] {
            assert!(text.contains(needle), "http.log lacks {needle:?}");
        }
        let dns = log(LogType::Dns, SynthFormat::Tsv, 5, 20_000);
        let text = String::from_utf8_lossy(&dns);
        for needle in ["bad\\x00name.lan", "\\xc0\\xaf", "TXT ", "\\x2c"] {
            assert!(text.contains(needle), "dns.log lacks {needle:?}");
        }
        let json = log(LogType::Http, SynthFormat::Json, 5, 20_000);
        let text = String::from_utf8_lossy(&json);
        for needle in ["\\t", "\\\\x01", "\\\\xff", "\\\\think"] {
            assert!(text.contains(needle), "http JSON lacks {needle:?}");
        }
    }

    fn small_options(format: SynthFormat, compression: Compression) -> SynthOptions {
        SynthOptions {
            tenants: vec!["acme".to_owned(), "globex".to_owned()],
            sensors_per_tenant: 2,
            minutes: 2,
            log_types: LogType::ALL.to_vec(),
            format,
            compression,
            volume: SynthVolume::Records(LogCounts::from_conn(400)),
            ..SynthOptions::default()
        }
    }

    fn column(row: &[u8], index: usize) -> &[u8] {
        row.split(|&b| b == b'\t').nth(index).unwrap()
    }

    #[test]
    fn logs_of_a_minute_agree_on_uids_fuids_and_fingerprints() {
        let dir = temp_dir("consistency");
        let opts = small_options(SynthFormat::Tsv, Compression::None);
        let summary = generate_to_dir(&opts, &dir).unwrap();
        assert_eq!(summary.files, 2 * 2 * 2 * 8);
        let prefix = "acme/sensor-01";
        let read = |t: &str| {
            fs::read(dir.join(format!("{prefix}/{t}/2024/05/01/{t}.12:00-12:01.log"))).unwrap()
        };
        let conn = read("conn");
        let conn_uids: HashSet<&[u8]> = data_lines(&conn).iter().map(|r| column(r, 1)).collect();
        for t in ["dns", "http", "ssl"] {
            let bytes = read(t);
            for row in data_lines(&bytes) {
                assert!(
                    conn_uids.contains(column(row, 1)),
                    "{t} uid not in conn.log"
                );
            }
        }
        let http = read("http");
        let resp_fuids: HashSet<&[u8]> = data_lines(&http).iter().map(|r| column(r, 27)).collect();
        let http_uids: HashSet<&[u8]> = data_lines(&http).iter().map(|r| column(r, 1)).collect();
        let files = read("files");
        let mut linked = 0;
        for row in data_lines(&files) {
            if column(row, 5) == b"HTTP" {
                assert!(
                    resp_fuids.contains(column(row, 1)),
                    "HTTP file not announced in http.log"
                );
                assert!(
                    http_uids.contains(column(row, 4)),
                    "HTTP file's conn not in http.log"
                );
                linked += 1;
            }
        }
        assert!(linked > 10, "{linked}");
        let ssl = read("ssl");
        let fps: HashSet<&[u8]> = data_lines(&ssl)
            .iter()
            .flat_map(|r| column(r, 15).split(|&b| b == b','))
            .collect();
        let x509 = read("x509");
        let shared = data_lines(&x509)
            .iter()
            .filter(|r| fps.contains(column(r, 1)))
            .count();
        assert!(shared > 0, "x509.log shares no fingerprint with ssl.log");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn compressed_files_hold_the_plain_bytes_and_shards_partition_the_run() {
        let plain_dir = temp_dir("plain");
        let plain = small_options(SynthFormat::Json, Compression::None);
        generate_to_dir(&plain, &plain_dir).unwrap();
        let plain_files = read_tree(&plain_dir);
        assert!(plain_files
            .iter()
            .all(|(k, _)| Path::new(k).extension() == Some("json".as_ref())));

        for (compression, suffix) in [
            (Compression::Gzip { level: 1 }, ".gz"),
            (Compression::Zstd { level: 3 }, ".zst"),
        ] {
            let dir = temp_dir(suffix.trim_start_matches('.'));
            let opts = SynthOptions {
                compression,
                ..plain.clone()
            };
            let summary = generate_to_dir(&opts, &dir).unwrap();
            let files = read_tree(&dir);
            assert_eq!(files.len(), plain_files.len());
            assert!(summary.bytes_written < summary.bytes_uncompressed);
            for ((key, packed), (plain_key, expected)) in files.iter().zip(&plain_files) {
                assert_eq!(key.strip_suffix(suffix), Some(plain_key.as_str()));
                let mut unpacked = Vec::new();
                if suffix == ".gz" {
                    flate2::read::MultiGzDecoder::new(&packed[..])
                        .read_to_end(&mut unpacked)
                        .unwrap();
                } else {
                    zstd::stream::read::Decoder::new(&packed[..])
                        .unwrap()
                        .read_to_end(&mut unpacked)
                        .unwrap();
                }
                assert_eq!(&unpacked, expected, "{key}");
            }
            fs::remove_dir_all(&dir).unwrap();
        }

        let shard_dir = temp_dir("shards");
        let mut planned = 0;
        for shard_index in 0..3 {
            let opts = SynthOptions {
                shard_index,
                shard_count: 3,
                ..plain.clone()
            };
            planned += opts.plan().unwrap().len();
            generate_to_dir(&opts, &shard_dir).unwrap();
        }
        assert_eq!(planned, plain_files.len());
        assert_eq!(read_tree(&shard_dir), plain_files);
        fs::remove_dir_all(&shard_dir).unwrap();
        fs::remove_dir_all(&plain_dir).unwrap();
    }

    #[test]
    fn byte_volume_lands_near_the_target() {
        let dir = temp_dir("volume");
        let opts = SynthOptions {
            tenants: vec!["acme".to_owned()],
            sensors_per_tenant: 2,
            minutes: 1,
            compression: Compression::None,
            volume: SynthVolume::BytesPerTenantMinute(4_000_000),
            ..SynthOptions::default()
        };
        let summary = generate_to_dir(&opts, &dir).unwrap();
        let ratio = summary.bytes_uncompressed as f64 / 4_000_000.0;
        assert!((0.8..1.2).contains(&ratio), "{ratio}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_options_name_the_field() {
        let cases: Vec<(SynthOptions, &str)> = vec![
            (
                SynthOptions {
                    tenants: vec![],
                    ..SynthOptions::default()
                },
                "tenants",
            ),
            (
                SynthOptions {
                    tenants: vec!["a/b".to_owned()],
                    ..SynthOptions::default()
                },
                "tenants",
            ),
            (
                SynthOptions {
                    tenants: vec!["a".to_owned(), "a".to_owned()],
                    ..SynthOptions::default()
                },
                "tenants",
            ),
            (
                SynthOptions {
                    sensors_per_tenant: 0,
                    ..SynthOptions::default()
                },
                "sensors",
            ),
            (
                SynthOptions {
                    minutes: 0,
                    ..SynthOptions::default()
                },
                "minutes",
            ),
            (
                SynthOptions {
                    log_types: vec![],
                    ..SynthOptions::default()
                },
                "log_types",
            ),
            (
                SynthOptions {
                    start_epoch_s: 1_714_564_801,
                    ..SynthOptions::default()
                },
                "start",
            ),
            (
                SynthOptions {
                    compression: Compression::Gzip { level: 10 },
                    ..SynthOptions::default()
                },
                "compression_level",
            ),
            (
                SynthOptions {
                    compression: Compression::Zstd { level: 0 },
                    ..SynthOptions::default()
                },
                "compression_level",
            ),
            (
                SynthOptions {
                    volume: SynthVolume::BytesPerTenantMinute(0),
                    ..SynthOptions::default()
                },
                "mb_per_minute",
            ),
            (
                SynthOptions {
                    shard_index: 2,
                    shard_count: 2,
                    ..SynthOptions::default()
                },
                "shard",
            ),
        ];
        for (opts, field) in cases {
            match opts.validate() {
                Err(RecallError::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(matches!(
            generate_log(
                LogType::Conn,
                SynthFormat::Tsv,
                JsonTime::EpochSeconds,
                1,
                0,
                START
            ),
            Err(RecallError::Config { .. })
        ));
    }
}
