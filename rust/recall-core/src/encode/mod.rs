//! Bulk encoding: a normalised Arrow batch -> Elasticsearch `_bulk` NDJSON bodies of bounded
//! size, each with its record range, document ids and index names.
//!
//! Stage: encode. Imports Arrow, `schema::routing` (index name rules) and its own submodules;
//! must not import `decode` or `normalize` (it takes any batch whose column names are dotted
//! document paths; [`ID_COLUMN`] and [`INDEX_COLUMN`] feed the action line).
//!
//! How it works: a [`NestingPlan`] is computed once per schema and specialised per batch into a
//! [`program::RowProgram`] (static text for keys, braces, commas and constant values; null
//! checks only for columns that have nulls); each row is written straight into the body
//! buffer (action line from a per-index pre-rendered prefix, then the document by running the
//! program). No `serde_json::Value`, no per-row allocation.
//!
//! Chunking: a body holds at most `max_chunk_docs` documents and `max_chunk_bytes` bytes.
//! The open chunk carries over from one batch to the next (bodies stay full when the decoder
//! emits small batches) as long as the records are consecutive. A single document larger
//! than `max_chunk_bytes` cannot be sent: it is reported in [`EncodeOutput::rejected`] with
//! its record number and id (the caller dead-letters it) and never silently dropped.
//!
//! Action: [`Action::Create`] by default, the same default as the pipeline's
//! `elasticsearch.action`. Document ids are deterministic, so with `create` a redelivered,
//! retried or replayed object finds its documents already there: Elasticsearch answers 409
//! for each, which the sink counts as "already indexed" — nothing is written twice and a
//! document, once acknowledged, is never rewritten by a later (possibly older) copy. It is also
//! the only action data streams accept. `index` (create or overwrite) is available for a replay
//! that must replace documents, e.g. after a mapping or normaliser fix.

pub mod columns;
pub mod json;
pub mod plan;
pub mod program;

use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::error::{RecallError, Result};
use columns::ColumnWriter;
use json::TimestampWriter;
pub use plan::NestingPlan;
use program::{RowProgram, RowScratch};

/// Name of the document id column (also in `normalize`; repeated so `encode` stands alone).
pub const ID_COLUMN: &str = "_id";
/// Name of the index name column.
pub const INDEX_COLUMN: &str = "_index";

/// Default `max_chunk_bytes`: 8 MiB, inside Elasticsearch's recommended 5-15 MB bulk size
/// and far below its 100 MB `http.max_content_length`.
pub const DEFAULT_MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;
/// Default `max_chunk_docs`.
pub const DEFAULT_MAX_CHUNK_DOCS: usize = 10_000;

/// The bulk action for every document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// `index`: create or overwrite.
    Index,
    /// `create`: create only; an existing id answers 409 (the default; see the module docs).
    #[default]
    Create,
}

impl Action {
    /// The action name as in the bulk API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Index => "index",
            Self::Create => "create",
        }
    }

    /// Parse `index` or `create`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "index" => Ok(Self::Index),
            "create" => Ok(Self::Create),
            other => Err(RecallError::Config {
                field: "action".to_owned(),
                reason: format!("{other:?}: must be \"index\" or \"create\""),
            }),
        }
    }
}

/// Encoder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeConfig {
    /// Bulk action.
    pub action: Action,
    /// Maximum body size in bytes (at least 1 KiB, at most 2 GiB).
    pub max_chunk_bytes: usize,
    /// Maximum documents per body (at least 1).
    pub max_chunk_docs: usize,
    /// Index for rows whose index column is null or absent; `None` rejects such rows.
    pub default_index: Option<String>,
}

impl Default for EncodeConfig {
    fn default() -> Self {
        Self {
            action: Action::default(),
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
            max_chunk_docs: DEFAULT_MAX_CHUNK_DOCS,
            default_index: None,
        }
    }
}

/// Document ids of a chunk, stored compactly (one buffer plus end offsets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdList {
    bytes: String,
    ends: Vec<u32>,
}

impl IdList {
    /// Number of ids (documents).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The id of document `i` (empty when the document has no id: Elasticsearch assigns one).
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 {
            0
        } else {
            *self.ends.get(i - 1)? as usize
        };
        self.bytes.get(start..end)
    }

    /// Iterate over the ids in document order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    fn push(&mut self, id: &str) {
        self.bytes.push_str(id);
        self.ends
            .push(u32::try_from(self.bytes.len()).unwrap_or(u32::MAX));
    }
}

/// One `_bulk` request body and what is in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkChunk {
    /// NDJSON: an action line and a source line per document, each ending in `\n`.
    pub body: Vec<u8>,
    /// Record number (within the object) of the first document; documents are the
    /// consecutive records `first_record .. first_record + n_docs`.
    pub first_record: u64,
    /// Byte offset of each document's action line in `body` (document `i` is
    /// `body[doc_offsets[i]..doc_offsets[i + 1]]`, the last one runs to the end).
    pub doc_offsets: Vec<u32>,
    /// Document ids, in order.
    pub ids: IdList,
    /// The distinct index names of the chunk, in order of first appearance.
    pub index_names: Vec<String>,
}

impl BulkChunk {
    /// Number of documents.
    pub fn n_docs(&self) -> usize {
        self.doc_offsets.len()
    }

    /// First record number (inclusive).
    pub fn row_start(&self) -> u64 {
        self.first_record
    }

    /// Last record number (exclusive).
    pub fn row_end(&self) -> u64 {
        self.first_record + self.n_docs() as u64
    }

    /// Action and source lines of document `i`: what to resend when only it failed.
    pub fn doc(&self, i: usize) -> Option<&[u8]> {
        let start = *self.doc_offsets.get(i)? as usize;
        let end = self
            .doc_offsets
            .get(i + 1)
            .map_or(self.body.len(), |e| *e as usize);
        self.body.get(start..end)
    }

    /// A new body holding only the documents `indices` (for per-document retries).
    pub fn select(&self, indices: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        for &i in indices {
            if let Some(doc) = self.doc(i) {
                out.extend_from_slice(doc);
            }
        }
        out
    }
}

/// A document that could not be encoded into any body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedDoc {
    /// Its record number within the object.
    pub record: u64,
    /// Its id, if it has one.
    pub id: Option<String>,
    /// Why.
    pub reason: String,
}

/// What one `encode` call produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodeOutput {
    /// Completed bodies (the open one stays in the encoder until full or `finish`).
    pub chunks: Vec<BulkChunk>,
    /// Documents that cannot be sent (larger than `max_chunk_bytes`, or without an index).
    pub rejected: Vec<RejectedDoc>,
}

/// Most emptied body buffers a [`BodyPool`] keeps: enough for the bodies one call completes
/// (a 1 MiB gzip feed yields about four 8 MiB bodies) without holding much idle memory.
pub const MAX_POOLED_BODIES: usize = 4;

/// Emptied body buffers waiting for reuse, shared by an encoder and the bodies it handed out
/// (a body given to Python returns its buffer here when Python drops it).
///
/// Why: a fresh 8 MiB body faults in 2048 zeroed pages as it is written; measured, page faults
/// were a tenth of encoding time. A reused buffer is already mapped. Thread-safe (a body may be
/// dropped on another thread than the one encoding); at most [`MAX_POOLED_BODIES`] are kept.
#[derive(Debug)]
pub struct BodyPool {
    buffers: Mutex<Vec<Vec<u8>>>,
    min_capacity: usize,
}

impl BodyPool {
    fn new(min_capacity: usize) -> Self {
        Self {
            buffers: Mutex::new(Vec::new()),
            min_capacity,
        }
    }

    /// Hand back a buffer whose bytes are no longer needed. Buffers too small for a full body
    /// are dropped, as are buffers beyond [`MAX_POOLED_BODIES`].
    pub fn give(&self, mut buffer: Vec<u8>) {
        if buffer.capacity() < self.min_capacity {
            return;
        }
        buffer.clear();
        // A poisoned lock only means another thread panicked while pushing or popping a
        // buffer; the list itself is still valid.
        let mut buffers = self
            .buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buffers.len() < MAX_POOLED_BODIES {
            buffers.push(buffer);
        }
    }

    /// A pooled buffer, or a new one with room for a full body (capacity only reserved; pages
    /// are committed as it is written), so bodies never reallocate.
    fn take(&self) -> Vec<u8> {
        let pooled = self
            .buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        pooled.unwrap_or_else(|| Vec::with_capacity(self.min_capacity))
    }

    /// Make `body` fit its content when it uses less than half of its buffer (the last body
    /// of an object, or bodies cut by `max_chunk_docs`): its bytes move to an exact-size
    /// buffer and the big one goes back to the pool. A body held elsewhere for a while (in
    /// flight to Elasticsearch) then pins about its own size, never a mostly empty 8 MiB.
    pub fn fit(&self, body: &mut Vec<u8>) {
        if body.len() < body.capacity() / 2 {
            let exact = body.as_slice().to_vec();
            self.give(std::mem::replace(body, exact));
        }
    }

    /// Number of buffers waiting (for tests and diagnostics).
    pub fn pooled(&self) -> usize {
        self.buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// Encodes batches into bulk bodies. One per stream of batches (object).
#[derive(Debug)]
pub struct BulkEncoder {
    config: EncodeConfig,
    plan: Option<(SchemaRef, NestingPlan, Option<usize>, Option<usize>)>,
    open: Option<BulkChunk>,
    ts: TimestampWriter,
    scratch: RowScratch,
    action_prefix: Vec<u8>,
    pool: Arc<BodyPool>,
}

impl BulkEncoder {
    /// Validate the configuration.
    pub fn new(config: EncodeConfig) -> Result<Self> {
        if config.max_chunk_bytes < 1024 || config.max_chunk_bytes > (1 << 31) {
            return Err(RecallError::Config {
                field: "max_chunk_bytes".to_owned(),
                reason: format!("{}: must be between 1024 and 2^31", config.max_chunk_bytes),
            });
        }
        if config.max_chunk_docs == 0 {
            return Err(RecallError::Config {
                field: "max_chunk_docs".to_owned(),
                reason: "must be at least 1".to_owned(),
            });
        }
        if let Some(index) = &config.default_index {
            crate::schema::routing::validate_index_name(index).map_err(|reason| {
                RecallError::Config {
                    field: "default_index".to_owned(),
                    reason,
                }
            })?;
        }
        let mut action_prefix = Vec::with_capacity(24);
        action_prefix.push(b'{');
        json::write_str(&mut action_prefix, config.action.name());
        action_prefix.extend_from_slice(b":{\"_index\":");
        Ok(Self {
            plan: None,
            open: None,
            ts: TimestampWriter::default(),
            scratch: RowScratch::default(),
            pool: Arc::new(BodyPool::new(config.max_chunk_bytes + BODY_SLACK)),
            action_prefix,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EncodeConfig {
        &self.config
    }

    /// Encode `batch`, whose first row is record `first_record`. Returns the bodies that
    /// became full and the rejected documents; the last, partly filled body stays open for
    /// the next batch (see [`BulkEncoder::finish`]).
    pub fn encode(&mut self, batch: &RecordBatch, first_record: u64) -> Result<EncodeOutput> {
        let schema = batch.schema();
        let same = matches!(&self.plan, Some((s, ..)) if std::sync::Arc::ptr_eq(s, &schema) || *s == schema);
        if !same {
            let id_col = schema.index_of(ID_COLUMN).ok();
            let index_col = schema.index_of(INDEX_COLUMN).ok();
            let plan = NestingPlan::new(
                schema
                    .fields()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| Some(*i) != id_col && Some(*i) != index_col)
                    .map(|(i, f)| (i, f.name().as_str())),
            )?;
            self.plan = Some((schema, plan, id_col, index_col));
        }
        let Some((_, plan, id_col, index_col)) = self.plan.take() else {
            return Ok(EncodeOutput::default());
        };
        let result = self.encode_rows(batch, first_record, &plan, id_col, index_col);
        self.plan = Some((batch.schema(), plan, id_col, index_col));
        result
    }

    /// Give a body buffer back once its bytes are no longer needed: the next body reuses its
    /// memory instead of faulting in fresh pages (measured: page clearing and regrowth were a
    /// fifth of encoding time for 8 MiB bodies). Same as `pool().give(buffer)`.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        self.pool.give(buffer);
    }

    /// The buffer pool of this encoder, for owners of handed-out bodies to return their
    /// buffers when done (see [`BodyPool`]).
    pub fn pool(&self) -> &Arc<BodyPool> {
        &self.pool
    }

    fn new_body(&mut self) -> Vec<u8> {
        self.pool.take()
    }

    /// Close and return the open body, if it holds any document.
    pub fn finish(&mut self) -> Option<BulkChunk> {
        self.open.take().filter(|c| c.n_docs() > 0)
    }

    // The row loop is the hot path; it stays in one function so the per-row state is plain
    // locals the compiler can keep in registers.
    #[allow(clippy::too_many_lines)]
    fn encode_rows(
        &mut self,
        batch: &RecordBatch,
        first_record: u64,
        plan: &NestingPlan,
        id_col: Option<usize>,
        index_col: Option<usize>,
    ) -> Result<EncodeOutput> {
        let columns = batch.columns();
        let names = batch.schema();
        let writers = columns
            .iter()
            .zip(names.fields().iter())
            .map(|(c, f)| ColumnWriter::new(c, f.name()))
            .collect::<Result<Vec<_>>>()?;
        let ids = id_col.and_then(|i| writers.get(i));
        let indices = index_col.and_then(|i| writers.get(i));
        let program = RowProgram::compile(plan, &writers, batch.num_rows());
        // The normaliser's index column is a dictionary with a few names per batch: render
        // `{"<action>":{"_index":"<name>"` once per name, so a row's action line is one copy
        // plus its id. Each is padded to `PREFIX_BLOCK` bytes so that a short one is copied
        // as a fixed-size block (inlined vector moves, not a `memcpy` call) and truncated.
        let index_dict = indices.and_then(ColumnWriter::dict_parts);
        let prefixes: Vec<Option<(Vec<u8>, usize)>> = index_dict
            .map(|(_, encoded)| {
                encoded
                    .iter()
                    .map(|name| {
                        name.as_deref().map(|name| {
                            let mut p = self.action_prefix.clone();
                            p.extend_from_slice(name);
                            let len = p.len();
                            p.resize(len.max(PREFIX_BLOCK), 0);
                            (p, len)
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut output = EncodeOutput::default();
        let mut index_buf = Vec::with_capacity(64);

        // Records must be consecutive inside a chunk.
        if let Some(open) = &self.open {
            if open.row_end() != first_record {
                if let Some(done) = self.finish() {
                    output.chunks.push(done);
                }
            }
        }

        for row in 0..batch.num_rows() {
            let record = first_record + row as u64;
            // Index name of the row as a JSON string, and its pre-rendered action prefix.
            let from_dict = index_dict.and_then(|(keys, encoded)| {
                if indices.is_some_and(|w| w.is_null(row)) {
                    return None;
                }
                let key = *keys.get(row)?;
                let (padded, len) = prefixes.get(key)?.as_ref()?;
                Some(((padded.as_slice(), *len), encoded.get(key)?.as_deref()?))
            });
            let (prefix, index_json): (Option<(&[u8], usize)>, &[u8]) =
                if let Some((p, name)) = from_dict {
                    (Some(p), name)
                } else {
                    index_buf.clear();
                    match indices.filter(|w| !w.is_null(row)) {
                        Some(w) => w.write(row, &mut index_buf, &mut self.ts),
                        None => {
                            if let Some(default) = &self.config.default_index {
                                json::write_str(&mut index_buf, default);
                            } else {
                                output.rejected.push(RejectedDoc {
                                    record,
                                    id: ids.and_then(|w| w.str_value(row)).map(str::to_owned),
                                    reason: "no index name for this document".to_owned(),
                                });
                                if let Some(done) = self.finish() {
                                    output.chunks.push(done);
                                }
                                continue;
                            }
                        }
                    }
                    (None, &index_buf)
                };
            let id_writer = ids.filter(|w| !w.is_null(row));
            let id_str = id_writer.and_then(|w| w.str_value(row));
            let id_text = id_writer.map(|_| id_str.unwrap_or_default());

            if self.open.is_none() {
                let body = self.new_body();
                self.open = Some(BulkChunk {
                    first_record: record,
                    body,
                    ..BulkChunk::default()
                });
            }
            let Some(chunk) = self.open.as_mut() else {
                continue;
            };
            let start = chunk.body.len();
            if let Some((padded, len)) = prefix {
                match <&[u8; PREFIX_BLOCK]>::try_from(padded) {
                    Ok(block) if len <= PREFIX_BLOCK => {
                        chunk.body.extend_from_slice(block);
                        chunk.body.truncate(start + len);
                    }
                    _ => chunk
                        .body
                        .extend_from_slice(padded.get(..len).unwrap_or(padded)),
                }
            } else {
                chunk.body.extend_from_slice(&self.action_prefix);
                chunk.body.extend_from_slice(index_json);
            }
            if let Some(w) = id_writer {
                chunk.body.extend_from_slice(b",\"_id\":");
                w.write_value(row, &mut chunk.body, &mut self.ts);
            }
            chunk.body.extend_from_slice(b"}}\n");
            program.write_row(
                &mut chunk.body,
                &writers,
                row,
                &mut self.ts,
                &mut self.scratch,
            );
            chunk.body.push(b'\n');
            let doc_len = chunk.body.len() - start;

            if chunk.body.len() > self.config.max_chunk_bytes {
                if doc_len > self.config.max_chunk_bytes {
                    // Cannot be sent in any body: reject it and close the chunk so records
                    // stay consecutive.
                    chunk.body.truncate(start);
                    output.rejected.push(RejectedDoc {
                        record,
                        id: id_text.map(str::to_owned),
                        reason: format!(
                            "document of {doc_len} bytes exceeds max_chunk_bytes ({})",
                            self.config.max_chunk_bytes
                        ),
                    });
                    if let Some(done) = self.finish() {
                        output.chunks.push(done);
                    }
                    continue;
                }
                // Move this document into a fresh chunk.
                let mut body = self.pool.take();
                body.extend_from_slice(chunk.body.get(start..).unwrap_or_default());
                chunk.body.truncate(start);
                let mut next = BulkChunk {
                    first_record: record,
                    body,
                    ..BulkChunk::default()
                };
                add_doc_meta(&mut next, 0, id_text.unwrap_or_default(), index_json);
                if let Some(done) = self.open.replace(next) {
                    output.chunks.push(done);
                }
            } else {
                let offset = u32::try_from(start).unwrap_or(u32::MAX);
                add_doc_meta(chunk, offset, id_text.unwrap_or_default(), index_json);
            }
            if self
                .open
                .as_ref()
                .is_some_and(|c| c.n_docs() >= self.config.max_chunk_docs)
            {
                if let Some(done) = self.finish() {
                    output.chunks.push(done);
                }
            }
        }
        Ok(output)
    }
}

/// Padded size of a pre-rendered action line prefix (see `encode_rows`): room for
/// `{"create":{"_index":` and a 100-character index name.
const PREFIX_BLOCK: usize = 128;

/// Room past `max_chunk_bytes` in a body buffer: the document that crosses the limit is
/// written before it is moved to the next body, usually without reallocating.
const BODY_SLACK: usize = 4096;

/// Record a document's offset, id and index name in its chunk. `index_json` is the quoted
/// JSON string of the index name (index names never need escaping: they are validated).
fn add_doc_meta(chunk: &mut BulkChunk, offset: u32, id: &str, index_json: &[u8]) {
    chunk.doc_offsets.push(offset);
    chunk.ids.push(id);
    let name = index_json
        .strip_prefix(b"\"")
        .and_then(|s| s.strip_suffix(b"\""))
        .unwrap_or(index_json);
    if chunk
        .index_names
        .last()
        .is_none_or(|last| last.as_bytes() != name)
        && !chunk.index_names.iter().any(|n| n.as_bytes() == name)
    {
        chunk
            .index_names
            .push(String::from_utf8_lossy(name).into_owned());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};

    use super::*;

    fn batch(rows: usize) -> RecordBatch {
        let ids: Vec<String> = (0..rows).map(|i| format!("id{i}")).collect();
        let text: Vec<String> = (0..rows).map(|i| format!("value {i} ").repeat(8)).collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            (ID_COLUMN, Arc::new(StringArray::from(ids))),
            (INDEX_COLUMN, Arc::new(StringArray::from(vec!["idx"; rows]))),
            ("msg.text", Arc::new(StringArray::from(text))),
            (
                "msg.n",
                Arc::new(UInt64Array::from_iter_values(0..rows as u64)),
            ),
        ];
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn pool_keeps_a_few_full_size_buffers_and_reuses_them() {
        let pool = BodyPool::new(4096);
        pool.give(Vec::with_capacity(100));
        assert_eq!(pool.pooled(), 0, "too small for a body");
        let mut big = Vec::with_capacity(8192);
        big.extend_from_slice(b"old bytes");
        let ptr = big.as_ptr();
        pool.give(big);
        let again = pool.take();
        assert!(again.is_empty(), "handed back cleared");
        assert_eq!(again.as_ptr(), ptr, "same allocation");
        for _ in 0..MAX_POOLED_BODIES + 3 {
            pool.give(Vec::with_capacity(4096));
        }
        assert_eq!(pool.pooled(), MAX_POOLED_BODIES);
    }

    #[test]
    fn fit_moves_small_bodies_to_exact_buffers() {
        let pool = BodyPool::new(4096);
        let mut body = Vec::with_capacity(8192);
        body.extend_from_slice(b"short body\n");
        pool.fit(&mut body);
        assert_eq!(body, b"short body\n");
        assert_eq!(body.capacity(), body.len());
        assert_eq!(pool.pooled(), 1, "the big buffer went back to the pool");
        let mut full = Vec::with_capacity(8192);
        full.resize(6000, b'x');
        let ptr = full.as_ptr();
        pool.fit(&mut full);
        assert_eq!(full.as_ptr(), ptr, "a mostly full body keeps its buffer");
    }

    #[test]
    fn recycled_buffers_give_the_same_bodies() {
        let config = EncodeConfig {
            max_chunk_bytes: 4096,
            ..EncodeConfig::default()
        };
        let run = |recycle: bool| {
            let mut encoder = BulkEncoder::new(config.clone()).unwrap();
            let mut bodies = Vec::new();
            for round in 0..5u64 {
                let out = encoder.encode(&batch(100), round * 100).unwrap();
                for chunk in out.chunks {
                    bodies.push(chunk.body.clone());
                    if recycle {
                        encoder.recycle(chunk.body);
                    }
                }
            }
            bodies.extend(encoder.finish().map(|c| c.body));
            bodies
        };
        let fresh = run(false);
        assert!(fresh.len() > 10);
        assert_eq!(run(true), fresh);
    }
}
