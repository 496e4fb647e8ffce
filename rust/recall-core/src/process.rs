//! The fused processor: raw (possibly compressed) bytes of one object in, ready `_bulk`
//! bodies out — decode -> normalise -> encode in one call, so Python only moves buffers.
//!
//! Stage: process (joins the stages; the only module that imports `decode`, `normalize` and
//! `encode` together).
//!
//! Semantics:
//! - Streaming: `feed` takes chunks of any size and returns the bodies that became full;
//!   `finish` returns the rest. Memory is bounded by one decoder batch plus one open body.
//! - Record numbers: the decoder numbers records within its input; `first_record` (for a
//!   byte range of a split object) is added, so document ids stay unique per object.
//! - Every body holds documents of one log type ([`ProcessedChunk::log_type`]).
//! - Failure: when the input turns out corrupt or truncated, every record decoded before the
//!   failure is still encoded; those bodies are kept and can be taken with
//!   [`ZeekProcessor::drain`] after the error (the caller decides whether to send them).
//!   Documents that cannot be encoded (larger than a body) are listed in
//!   [`ZeekProcessor::take_rejected`], bad lines in [`ZeekProcessor::take_quarantine`].

use crate::decode::{
    log_type_from_path, DecodeStats, DecodedBatch, DecoderOptions, QuarantineEntry, ZeekDecoder,
};
use crate::encode::{BodyPool, BulkChunk, BulkEncoder, EncodeConfig, RejectedDoc};
use crate::error::Result;
use crate::normalize::{NormalizeConfig, Normalizer};

/// Everything the processor needs for one object.
#[derive(Debug, Clone)]
pub struct ProcessConfig {
    /// Decoder options (format, compression, batch size, limits).
    pub decoder: DecoderOptions,
    /// Tenant, object identity, index pattern, sensor.
    pub normalize: NormalizeConfig,
    /// Bulk action and body limits.
    pub encode: EncodeConfig,
    /// Record number of the first record of this input within the object (non-zero for a
    /// byte range of a split object).
    pub first_record: u64,
    /// Bytes fed to the decoder before the data (a byte range's TSV header block).
    pub header: Option<Vec<u8>>,
}

impl ProcessConfig {
    /// Defaults for one object; the log type falls back to the key's file name
    /// (`conn.log.gz` -> `conn`) when the data does not name it.
    pub fn new(tenant: &str, bucket: &str, key: &str, version: &str) -> Self {
        let mut normalize = NormalizeConfig::new(tenant, bucket, key, version);
        normalize.log_type = log_type_from_path(key);
        let decoder = DecoderOptions {
            batch_rows: DEFAULT_PROCESS_BATCH_ROWS,
            log_type: normalize.log_type.clone(),
            ..DecoderOptions::default()
        };
        Self {
            decoder,
            normalize,
            encode: EncodeConfig::default(),
            first_record: 0,
            header: None,
        }
    }
}

/// Rows per decoded batch in the fused path: small enough that a batch's columns stay in
/// cache while they are normalised and encoded, large enough to amortise per-batch work.
pub const DEFAULT_PROCESS_BATCH_ROWS: usize = 8192;

/// A bulk body with the log type of its documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedChunk {
    /// The body and its bookkeeping.
    pub chunk: BulkChunk,
    /// The log type of every document in it.
    pub log_type: String,
}

/// Counters of one processor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStats {
    /// The decoder's counters (lines, records, quarantined, bytes).
    pub decode: DecodeStats,
    /// Documents written into bodies.
    pub documents: u64,
    /// Bodies produced.
    pub chunks: u64,
    /// Body bytes produced.
    pub body_bytes: u64,
    /// Documents that could not be encoded (see `take_rejected`).
    pub rejected: u64,
}

/// Decode -> normalise -> encode for one object.
#[derive(Debug)]
pub struct ZeekProcessor {
    decoder: ZeekDecoder,
    normalizer: Normalizer,
    encoder: BulkEncoder,
    first_record: u64,
    open_log_type: Option<String>,
    pending: Vec<ProcessedChunk>,
    rejected: Vec<RejectedDoc>,
    stats: ProcessStats,
    /// Elasticsearch properties of every normalised schema seen, merged as they arrive (not a
    /// list of schemas searched per batch: a file that switches schema on every line would
    /// make that quadratic).
    mapped: serde_json::Map<String, serde_json::Value>,
    /// The schema merged last; consecutive batches usually share it, so it is merged once.
    last_mapped_schema: Option<arrow_schema::SchemaRef>,
}

impl ZeekProcessor {
    /// Validate the configuration and create the stages. When a header is configured it is
    /// decoded first.
    pub fn new(config: ProcessConfig) -> Result<Self> {
        let mut decoder_options = config.decoder;
        if decoder_options.log_type.is_none() {
            decoder_options
                .log_type
                .clone_from(&config.normalize.log_type);
        }
        let mut processor = Self {
            decoder: ZeekDecoder::new(decoder_options)?,
            normalizer: Normalizer::new(&config.normalize)?,
            encoder: BulkEncoder::new(config.encode)?,
            first_record: config.first_record,
            open_log_type: None,
            pending: Vec::new(),
            rejected: Vec::new(),
            stats: ProcessStats::default(),
            mapped: serde_json::Map::new(),
            last_mapped_schema: None,
        };
        if let Some(header) = config.header {
            processor.decoder.decode(&header)?;
        }
        Ok(processor)
    }

    /// Process a chunk of the input; returns the bodies completed by it.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<ProcessedChunk>> {
        let decoded = self.decoder.decode(data);
        let processed = self.process_ready();
        match (decoded, processed) {
            (Ok(_), Ok(())) => Ok(std::mem::take(&mut self.pending)),
            (Err(e), _) | (Ok(_), Err(e)) => {
                self.flush_open();
                Err(e)
            }
        }
    }

    /// End of input: returns the remaining bodies.
    pub fn finish(&mut self) -> Result<Vec<ProcessedChunk>> {
        let finished = self.decoder.finish();
        let processed = self.process_ready();
        self.flush_open();
        finished?;
        processed?;
        Ok(std::mem::take(&mut self.pending))
    }

    /// Bodies completed before a failure (see the module docs); empty otherwise.
    pub fn drain(&mut self) -> Vec<ProcessedChunk> {
        std::mem::take(&mut self.pending)
    }

    /// Counters so far.
    pub fn stats(&self) -> ProcessStats {
        ProcessStats {
            decode: *self.decoder.stats(),
            ..self.stats
        }
    }

    /// Drain the quarantined lines held so far.
    pub fn take_quarantine(&mut self) -> Vec<QuarantineEntry> {
        self.decoder.take_quarantine()
    }

    /// Quarantined lines held (not drained).
    pub fn quarantine(&self) -> &[QuarantineEntry] {
        self.decoder.quarantine()
    }

    /// Give a body buffer back after its bytes were copied out (see
    /// [`BulkEncoder::recycle`]).
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        self.encoder.recycle(buffer);
    }

    /// The encoder's body buffer pool (see [`BodyPool`]): bodies handed out return their
    /// buffers there.
    pub fn pool(&self) -> &std::sync::Arc<BodyPool> {
        self.encoder.pool()
    }

    /// Drain the documents that could not be encoded.
    pub fn take_rejected(&mut self) -> Vec<RejectedDoc> {
        std::mem::take(&mut self.rejected)
    }

    /// The Elasticsearch `properties` the documents produced so far need (merged over every
    /// normalised schema seen; see [`crate::schema::templates::mapping_for_schema`]). Lets a
    /// caller check a live mapping, or extend it for fields the registry does not know.
    pub fn document_mapping(&self) -> serde_json::Value {
        serde_json::Value::Object(self.mapped.clone())
    }

    fn process_ready(&mut self) -> Result<()> {
        while let Some(batch) = self.decoder.next_batch() {
            self.process_batch(&batch)?;
        }
        Ok(())
    }

    fn process_batch(&mut self, decoded: &DecodedBatch) -> Result<()> {
        if decoded.batch.num_rows() == 0 {
            return Ok(());
        }
        let first_record = self.first_record + decoded.first_record;
        let normalized =
            self.normalizer
                .normalize(&decoded.batch, decoded.log_type.as_deref(), first_record)?;
        let schema = normalized.batch.schema();
        let seen = self
            .last_mapped_schema
            .as_ref()
            .is_some_and(|s| std::sync::Arc::ptr_eq(s, &schema) || **s == *schema);
        if !seen {
            if let serde_json::Value::Object(props) =
                crate::schema::templates::mapping_for_schema(&schema)
            {
                merge_properties(&mut self.mapped, props);
            }
            self.last_mapped_schema = Some(schema);
        }
        if self.open_log_type.as_deref() != Some(normalized.log_type.as_str()) {
            self.flush_open();
            self.open_log_type = Some(normalized.log_type.clone());
        }
        let output = self
            .encoder
            .encode(&normalized.batch, normalized.first_record)?;
        self.stats.rejected += output.rejected.len() as u64;
        self.rejected.extend(output.rejected);
        for chunk in output.chunks {
            self.push(chunk, normalized.log_type.clone());
        }
        Ok(())
    }

    fn flush_open(&mut self) {
        if let Some(chunk) = self.encoder.finish() {
            let log_type = self.open_log_type.clone().unwrap_or_default();
            self.push(chunk, log_type);
        }
    }

    fn push(&mut self, chunk: BulkChunk, log_type: String) {
        self.stats.documents += chunk.n_docs() as u64;
        self.stats.chunks += 1;
        self.stats.body_bytes += chunk.body.len() as u64;
        self.pending.push(ProcessedChunk { chunk, log_type });
    }
}

/// Merge two `properties` trees (objects recursively; a leaf keeps its first mapping).
fn merge_properties(
    into: &mut serde_json::Map<String, serde_json::Value>,
    from: serde_json::Map<String, serde_json::Value>,
) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(existing), serde_json::Value::Object(mut incoming)) => {
                let (Some(existing_props), Some(serde_json::Value::Object(incoming_props))) = (
                    existing
                        .get_mut("properties")
                        .and_then(serde_json::Value::as_object_mut),
                    incoming.remove("properties"),
                ) else {
                    continue;
                };
                merge_properties(existing_props, incoming_props);
            }
            (Some(_), _) => {}
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TSV: &[u8] = b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\torig_bytes\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\n\
1521911721.255387\tC1\t10.164.94.120\t39681\t10.47.3.155\t3389\ttcp\t97\n\
1521911721.411148\tC2\t10.47.25.80\t50817\t10.128.0.218\t23189\ttcp\t-\n\
garbage line\n\
1521911722.000000\tC3\t10.47.25.80\t50817\t10.128.0.218\t23189\tudp\t18446744073709551615\n";

    fn config() -> ProcessConfig {
        let mut c = ProcessConfig::new("acme", "bucket", "acme/s1/conn.log", "v1");
        c.normalize.ingested_ns = Some(0);
        c
    }

    fn run(chunk_size: usize, config: ProcessConfig) -> (Vec<ProcessedChunk>, ProcessStats) {
        let mut p = ZeekProcessor::new(config).unwrap();
        let mut out = Vec::new();
        for piece in TSV.chunks(chunk_size) {
            out.extend(p.feed(piece).unwrap());
        }
        out.extend(p.finish().unwrap());
        (out, p.stats())
    }

    #[test]
    fn bodies_do_not_depend_on_how_the_input_is_split() {
        let (whole, stats) = run(TSV.len(), config());
        assert_eq!(stats.decode.records, 3);
        assert_eq!(stats.decode.quarantined, 1);
        assert_eq!(stats.documents, 3);
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0].log_type, "conn");
        for size in [1, 7, 64] {
            let (split, _) = run(size, config());
            assert_eq!(split, whole, "chunk size {size}");
        }
        let body = String::from_utf8(whole[0].chunk.body.clone()).unwrap();
        assert!(
            body.contains("\"_index\":\"recall-acme-zeek.conn-2018.03.24\""),
            "{body}"
        );
        assert!(
            body.contains("\"orig_bytes\":18446744073709551615"),
            "{body}"
        );
        assert_eq!(body.lines().count(), 6);
    }

    #[test]
    fn small_bodies_and_range_offsets() {
        let mut c = config();
        c.encode.max_chunk_docs = 2;
        c.first_record = 1 << 40;
        let (chunks, _) = run(TSV.len(), c);
        assert_eq!(
            chunks.iter().map(|c| c.chunk.n_docs()).collect::<Vec<_>>(),
            vec![2, 1]
        );
        assert_eq!(chunks[0].chunk.first_record, 1 << 40);
        assert_eq!(chunks[1].chunk.first_record, (1 << 40) + 2);
        let (plain, _) = run(TSV.len(), config());
        assert_ne!(chunks[0].chunk.ids.get(0), plain[0].chunk.ids.get(0));
    }

    #[test]
    fn truncated_gzip_keeps_what_was_decoded() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(TSV).unwrap();
        let data = gz.finish().unwrap();
        let mut p = ZeekProcessor::new(config()).unwrap();
        let cut = data.len() - 12;
        let first = p.feed(&data[..cut]).unwrap();
        assert!(p.finish().is_err());
        let rest = p.drain();
        let docs: usize = first
            .iter()
            .chain(rest.iter())
            .map(|c| c.chunk.n_docs())
            .sum();
        assert!(
            docs >= 2,
            "records before the truncation are still encoded: {docs}"
        );
    }
}
