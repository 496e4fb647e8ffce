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

/// Encodes batches into bulk bodies. One per stream of batches (object).
#[derive(Debug)]
pub struct BulkEncoder {
    config: EncodeConfig,
    plan: Option<(SchemaRef, NestingPlan, Option<usize>, Option<usize>)>,
    open: Option<BulkChunk>,
    ts: TimestampWriter,
    scratch: RowScratch,
    action_prefix: Vec<u8>,
    spare: Option<Vec<u8>>,
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
            config,
            plan: None,
            open: None,
            ts: TimestampWriter::default(),
            scratch: RowScratch::default(),
            action_prefix,
            spare: None,
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

    /// Give a body buffer back once its bytes were copied elsewhere: the next body reuses
    /// its memory instead of faulting in fresh pages (measured: page clearing and regrowth
    /// were a fifth of encoding time for 8 MiB bodies).
    pub fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.spare.is_none() && buffer.capacity() >= self.config.max_chunk_bytes {
            buffer.clear();
            self.spare = Some(buffer);
        }
    }

    fn new_body(&mut self) -> Vec<u8> {
        spare_or_new(&mut self.spare, self.config.max_chunk_bytes)
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
        // plus its id.
        let index_dict = indices.and_then(ColumnWriter::dict_parts);
        let prefixes: Vec<Option<Vec<u8>>> = index_dict
            .map(|(_, encoded)| {
                encoded
                    .iter()
                    .map(|name| {
                        name.as_deref().map(|name| {
                            let mut p = self.action_prefix.clone();
                            p.extend_from_slice(name);
                            p
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
                Some((
                    prefixes.get(key)?.as_deref()?,
                    encoded.get(key)?.as_deref()?,
                ))
            });
            let (prefix, index_json): (Option<&[u8]>, &[u8]) = if let Some((p, name)) = from_dict {
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
            if let Some(prefix) = prefix {
                chunk.body.extend_from_slice(prefix);
            } else {
                chunk.body.extend_from_slice(&self.action_prefix);
                chunk.body.extend_from_slice(index_json);
            }
            if let Some(w) = id_writer {
                chunk.body.extend_from_slice(b",\"_id\":");
                match id_str {
                    Some(id) => json::write_str(&mut chunk.body, id),
                    None => w.write(row, &mut chunk.body, &mut self.ts),
                }
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
                let mut body = spare_or_new(&mut self.spare, self.config.max_chunk_bytes);
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

/// A body buffer: the recycled one, or a new one with room for a full body (the capacity is
/// only reserved; pages are committed as the body grows), so bodies never reallocate.
fn spare_or_new(spare: &mut Option<Vec<u8>>, max_chunk_bytes: usize) -> Vec<u8> {
    spare
        .take()
        .unwrap_or_else(|| Vec::with_capacity(max_chunk_bytes + 4096))
}

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
