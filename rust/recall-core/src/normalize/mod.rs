//! Normalisation: a decoded Zeek batch in, an Elasticsearch-ready batch out.
//!
//! Stage: normalize. Imports `schema` (the ECS tables) and Arrow; must not import `decode`
//! internals or `encode` (the encoder takes any batch; the fused `process` module joins the
//! stages).
//!
//! The output is an Arrow [`RecordBatch`] whose column names are dotted document paths
//! (`@timestamp`, `source.ip`, `zeek.conn.id.orig_h`), plus two metadata columns the encoder
//! turns into the action line: [`ID_COLUMN`] and [`INDEX_COLUMN`]. Design choices:
//! - Zero-copy where possible: every Zeek column appears under `zeek.<logtype>.<field>` and,
//!   where ECS has a field, again under the ECS name — both are `Arc` clones of the decoded
//!   column. `event.duration` reinterprets the interval buffer as `Int64` nanoseconds.
//!   Constant fields (`event.module`, `organization.id`, labels, ...) are dictionary arrays
//!   with one value whose all-zero key buffer is shared by every constant of the batch.
//! - Computed columns: `@timestamp` (the record's `ts`; the fallback time when a record has
//!   none), `network.community_id` (Community ID v1 for every record with a full 5-tuple),
//!   `network.bytes`/`network.packets` (conn), `url.path`/`url.query` (http),
//!   `tls.version`/`tls.version_protocol` (ssl), `dns.header_flags`/`dns.resolved_ip` (dns),
//!   the document id and the index name.
//! - Names: Zeek names are kept as written; a dot is a level of nesting, consistently for
//!   every field. A name that would be both a value and an object (`a` next to `a.b`) puts
//!   its value under `a.value`; empty segments become `_empty`.
//! - Bookkeeping columns of JSON writers: `_write_ts` -> `event.created`, `_node_name` ->
//!   `observer.name`, `_system_name` -> `observer.hostname`, `_path` is dropped (it is the
//!   log type).
//! - Isolation: the tenant, validated once, is the only tenant this normaliser can write to;
//!   every index name comes from the validated pattern with that tenant.

pub mod community_id;
pub mod doc_id;
pub mod enrichment;

/// Index routing lives with the schema (templates match the same names); re-exported here
/// because routing is part of normalising.
pub use crate::schema::routing;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::builder::{BooleanBufferBuilder, ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Int32Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Int32Array, Int64Array, Int8Array, RecordBatch,
    StringArray, TimestampNanosecondArray, UInt64Array,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};

use crate::error::{RecallError, Result};
use crate::schema::ecs::{self, Conversion, LogTypeEcs};
use crate::schema::zeek::ZEEK_PATH_KEY;
use community_id::{proto_from_zeek, CommunityId, COMMUNITY_ID_LEN};
use doc_id::{ObjectIdentity, DOC_ID_LEN};
pub use enrichment::Enrichment;
use routing::{day_of_nanos, validate_log_type, IndexPattern, Tenant, DEFAULT_INDEX_PATTERN};

/// Name of the document id column of a normalised batch (not part of the document).
pub const ID_COLUMN: &str = "_id";
/// Name of the index name column of a normalised batch (not part of the document).
pub const INDEX_COLUMN: &str = "_index";

/// What the normaliser needs to know about the object it works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizeConfig {
    /// Tenant (validated: see [`routing::Tenant`]); becomes `organization.id` and part of
    /// every index name and document id.
    pub tenant: String,
    /// Bucket of the source object (empty for local files).
    pub bucket: String,
    /// Key (or path) of the source object.
    pub key: String,
    /// Object version id, or `ETag` when the bucket is not versioned.
    pub version: String,
    /// Sensor name, written as `labels.sensor` when set.
    pub sensor: Option<String>,
    /// Index name pattern (see [`routing::IndexPattern`]).
    pub index_pattern: String,
    /// Community ID seed (0 is the specification's default).
    pub community_id_seed: u16,
    /// `event.ingested` in nanoseconds since the epoch; `None` = the time the normaliser is
    /// created (one value per object, so every document of an object agrees).
    pub ingested_ns: Option<i64>,
    /// `@timestamp` for records without `ts`; `None` = `event.ingested`.
    pub fallback_timestamp_ns: Option<i64>,
    /// Log type for batches that do not say (no `zeek.path` metadata, no `#path`).
    pub log_type: Option<String>,
    /// Computed fields left out of every document (a tenant's feature flags; see
    /// [`Enrichment`]).
    pub disabled_enrichments: Vec<Enrichment>,
}

impl NormalizeConfig {
    /// Defaults for an object: default index pattern, seed 0, ingested now.
    pub fn new(tenant: &str, bucket: &str, key: &str, version: &str) -> Self {
        Self {
            tenant: tenant.to_owned(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: version.to_owned(),
            sensor: None,
            index_pattern: DEFAULT_INDEX_PATTERN.to_owned(),
            community_id_seed: 0,
            ingested_ns: None,
            fallback_timestamp_ns: None,
            log_type: None,
            disabled_enrichments: Vec::new(),
        }
    }
}

/// A normalised batch and where its rows come from.
#[derive(Debug, Clone)]
pub struct NormalizedBatch {
    /// Columns named by document path, plus [`ID_COLUMN`] and [`INDEX_COLUMN`].
    pub batch: RecordBatch,
    /// Record number (within the object) of the first row; rows are consecutive records.
    pub first_record: u64,
    /// The log type of every row.
    pub log_type: String,
}

/// Where a 5-tuple's transport comes from.
#[derive(Debug, Clone, Copy)]
enum Transport {
    Column(usize),
    Fixed(&'static str),
}

#[derive(Debug, Clone, Copy)]
struct Tuple {
    orig_h: usize,
    orig_p: usize,
    resp_h: usize,
    resp_p: usize,
    transport: Transport,
}

/// How one output column is produced.
#[derive(Debug, Clone)]
enum Source {
    Id,
    Index,
    Column(usize),
    DurationNanos(usize),
    Timestamp,
    ConstStr(Arc<str>),
    ConstTime(i64),
    CommunityId(Tuple),
    Sum(usize, usize),
    TlsVersion(usize, bool),
    UrlPath(usize),
    UrlQuery(usize),
    DnsFlags([Option<(usize, &'static str)>; 4]),
    ResolvedIp(usize),
}

/// The per-schema plan: output fields and how to fill each.
#[derive(Debug)]
struct Plan {
    input: SchemaRef,
    log_type: String,
    schema: SchemaRef,
    sources: Vec<Source>,
    ts: Option<usize>,
}

/// Turns decoded batches of one object into normalised batches. Create one per object.
#[derive(Debug)]
pub struct Normalizer {
    tenant: Tenant,
    pattern: IndexPattern,
    identity: ObjectIdentity,
    community_id: CommunityId,
    ingested_ns: i64,
    fallback_ns: i64,
    sensor: Option<Arc<str>>,
    source_object: Arc<str>,
    log_type: Option<String>,
    plan: Option<Arc<Plan>>,
    index_names: HashMap<(String, i64), Arc<str>>,
    disabled: Vec<Enrichment>,
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn utc_timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some(Arc::from("UTC")))
}

fn list_of_utf8() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

fn invalid(reason: String) -> RecallError {
    RecallError::InvalidInput { offset: 0, reason }
}

impl Normalizer {
    /// Validate the configuration (tenant, pattern, log type) and hash the object identity.
    pub fn new(config: &NormalizeConfig) -> Result<Self> {
        let tenant = Tenant::new(&config.tenant)?;
        let pattern = IndexPattern::parse(&config.index_pattern)?;
        if let Some(lt) = &config.log_type {
            validate_log_type(lt)?;
        }
        let ingested_ns = config.ingested_ns.unwrap_or_else(now_ns);
        let source_object = if config.bucket.is_empty() {
            config.key.clone()
        } else {
            format!("s3://{}/{}", config.bucket, config.key)
        };
        Ok(Self {
            identity: ObjectIdentity::new(
                tenant.as_str(),
                &config.bucket,
                &config.key,
                &config.version,
            ),
            tenant,
            pattern,
            community_id: CommunityId::new(config.community_id_seed),
            ingested_ns,
            fallback_ns: config.fallback_timestamp_ns.unwrap_or(ingested_ns),
            sensor: config.sensor.as_deref().map(Arc::from),
            source_object: Arc::from(source_object),
            log_type: config.log_type.clone(),
            plan: None,
            index_names: HashMap::new(),
            disabled: config.disabled_enrichments.clone(),
        })
    }

    /// The object identity (document ids) of this normaliser.
    pub fn identity(&self) -> &ObjectIdentity {
        &self.identity
    }

    /// The tenant every document goes to.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// Whether `enrichment` is computed (not disabled by the configuration).
    pub fn enabled(&self, enrichment: Enrichment) -> bool {
        !self.disabled.contains(&enrichment)
    }

    /// Normalise one decoded batch. `log_type` wins over the batch's `zeek.path` schema
    /// metadata, which wins over the configured log type; one of them must be present and
    /// valid. `first_record` is the record number of the first row within the object.
    pub fn normalize(
        &mut self,
        batch: &RecordBatch,
        log_type: Option<&str>,
        first_record: u64,
    ) -> Result<NormalizedBatch> {
        let schema = batch.schema();
        let log_type = log_type
            .map(str::to_owned)
            .or_else(|| schema.metadata().get(ZEEK_PATH_KEY).cloned())
            .or_else(|| self.log_type.clone())
            .ok_or_else(|| RecallError::Config {
                field: "log_type".to_owned(),
                reason: "the batch has no log type (no #path/_path) and none was configured"
                    .to_owned(),
            })?;
        let plan = match &self.plan {
            Some(p)
                if p.log_type == log_type
                    && (Arc::ptr_eq(&p.input, &schema) || p.input == schema) =>
            {
                Arc::clone(p)
            }
            _ => {
                let p = Arc::new(self.build_plan(&schema, &log_type)?);
                self.plan = Some(Arc::clone(&p));
                p
            }
        };
        let rows = batch.num_rows();
        let timestamps = self.timestamps(batch, plan.ts)?;
        let zero_keys = Int8Array::new(ScalarBuffer::from(vec![0i8; rows]), None);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(plan.sources.len());
        for source in &plan.sources {
            let array: ArrayRef = match source {
                Source::Id => Arc::new(self.ids(rows, first_record)?),
                Source::Index => Arc::new(self.index_column(&plan.log_type, &timestamps)?),
                Source::Column(i) => Arc::clone(batch.column(*i)),
                Source::DurationNanos(i) => Arc::new(duration_nanos(batch.column(*i).as_ref())?),
                Source::Timestamp => Arc::new(timestamps.clone()),
                Source::ConstStr(value) => {
                    let values: ArrayRef = Arc::new(StringArray::from(vec![value.as_ref()]));
                    Arc::new(DictionaryArray::<Int8Type>::try_new(
                        zero_keys.clone(),
                        values,
                    )?)
                }
                Source::ConstTime(t) => Arc::new(
                    TimestampNanosecondArray::new(ScalarBuffer::from(vec![*t; rows]), None)
                        .with_timezone("UTC"),
                ),
                Source::CommunityId(tuple) => Arc::new(self.community_ids(batch, *tuple)?),
                Source::Sum(a, b) => Arc::new(sum_counts(
                    batch.column(*a).as_ref(),
                    batch.column(*b).as_ref(),
                )),
                Source::TlsVersion(i, protocol) => {
                    Arc::new(map_str(batch.column(*i).as_ref(), |v| {
                        ecs::tls_version(v).map(|(ver, proto)| if *protocol { proto } else { ver })
                    }))
                }
                Source::UrlPath(i) => Arc::new(map_str(batch.column(*i).as_ref(), |uri| {
                    Some(uri.split_once('?').map_or(uri, |(path, _)| path))
                        .filter(|p| !p.is_empty())
                })),
                Source::UrlQuery(i) => Arc::new(map_str(batch.column(*i).as_ref(), |uri| {
                    uri.split_once('?')
                        .map(|(_, q)| q)
                        .filter(|q| !q.is_empty())
                })),
                Source::DnsFlags(flags) => Arc::new(dns_flags(batch, flags)),
                Source::ResolvedIp(i) => Arc::new(resolved_ips(batch.column(*i).as_ref())),
            };
            columns.push(array);
        }
        let out = RecordBatch::try_new(Arc::clone(&plan.schema), columns)?;
        Ok(NormalizedBatch {
            batch: out,
            first_record,
            log_type: plan.log_type.clone(),
        })
    }

    // One table-like function on purpose: the order of its pushes is the column order of the
    // output, which is easiest to review in one place.
    #[allow(clippy::too_many_lines)]
    fn build_plan(&self, input: &SchemaRef, log_type: &str) -> Result<Plan> {
        validate_log_type(log_type)?;
        let lt_ecs = LogTypeEcs::find(log_type).copied();
        let index_of = |name: &str| input.index_of(name).ok();
        let mut fields: Vec<FieldRef> = Vec::new();
        let mut sources: Vec<Source> = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        let mut push = |fields: &mut Vec<FieldRef>,
                        sources: &mut Vec<Source>,
                        field: Field,
                        source: Source| {
            if taken.insert(field.name().clone()) {
                fields.push(Arc::new(field));
                sources.push(source);
            }
        };

        push(
            &mut fields,
            &mut sources,
            Field::new(ID_COLUMN, DataType::Utf8, false),
            Source::Id,
        );
        push(
            &mut fields,
            &mut sources,
            Field::new(
                INDEX_COLUMN,
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                false,
            ),
            Source::Index,
        );
        push(
            &mut fields,
            &mut sources,
            Field::new("@timestamp", utc_timestamp_type(), false),
            Source::Timestamp,
        );

        let dict = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
        let constant = |name: &str, value: &str| {
            (
                Field::new(name, dict.clone(), true),
                Source::ConstStr(Arc::from(value)),
            )
        };
        let mut constants = vec![
            constant("event.module", "zeek"),
            constant("event.dataset", &format!("zeek.{log_type}")),
            constant("event.kind", lt_ecs.map_or("event", |e| e.kind)),
            constant("organization.id", self.tenant.as_str()),
            constant("labels.source_object", &self.source_object),
        ];
        if let Some(category) = lt_ecs.and_then(|e| e.category) {
            constants.push(constant("event.category", category));
        }
        if let Some(protocol) = lt_ecs.and_then(|e| e.protocol) {
            constants.push(constant("network.protocol", protocol));
        }
        if let Some(sensor) = &self.sensor {
            constants.push(constant("labels.sensor", sensor));
        }
        push(
            &mut fields,
            &mut sources,
            Field::new("event.ingested", utc_timestamp_type(), false),
            Source::ConstTime(self.ingested_ns),
        );

        // ECS copies, log-type rules first so they win over generic ones.
        let mut rules: Vec<&ecs::EcsRule> = ecs::rules_for(log_type).collect();
        rules.sort_by_key(|r| r.log_type.is_none());
        for rule in rules {
            let Some(i) = index_of(rule.zeek_field) else {
                continue;
            };
            let source_field = input.field(i);
            match rule.conversion {
                Conversion::Same => push(
                    &mut fields,
                    &mut sources,
                    source_field.as_ref().clone().with_name(rule.target),
                    Source::Column(i),
                ),
                Conversion::DurationNanos => {
                    if matches!(source_field.data_type(), DataType::Duration(_)) {
                        push(
                            &mut fields,
                            &mut sources,
                            Field::new(rule.target, DataType::Int64, true)
                                .with_metadata(source_field.metadata().clone()),
                            Source::DurationNanos(i),
                        );
                    }
                }
            }
        }
        // Fixed-transport logs without a `proto` column, and protocol constants after the
        // copies (a `service` column wins over the constant).
        let transport = match index_of("proto") {
            Some(i) if is_utf8(input.field(i).data_type()) => Some(Transport::Column(i)),
            _ => lt_ecs.and_then(|e| e.transport).map(Transport::Fixed),
        };
        if let Some(Transport::Fixed(t)) = transport {
            constants.push(constant("network.transport", t));
        }
        for (field, source) in constants {
            push(&mut fields, &mut sources, field, source);
        }

        // Computed ECS fields.
        let tuple = match (
            index_of("id.orig_h"),
            index_of("id.orig_p"),
            index_of("id.resp_h"),
            index_of("id.resp_p"),
            transport,
        ) {
            (Some(orig_h), Some(orig_p), Some(resp_h), Some(resp_p), Some(transport))
                if is_utf8(input.field(orig_h).data_type())
                    && is_utf8(input.field(resp_h).data_type())
                    && is_integer(input.field(orig_p).data_type())
                    && is_integer(input.field(resp_p).data_type()) =>
            {
                Some(Tuple {
                    orig_h,
                    orig_p,
                    resp_h,
                    resp_p,
                    transport,
                })
            }
            _ => None,
        };
        let enabled = |e: Enrichment| self.enabled(e);
        if let Some(tuple) = tuple.filter(|_| enabled(Enrichment::CommunityId)) {
            push(
                &mut fields,
                &mut sources,
                Field::new("network.community_id", DataType::Utf8, true),
                Source::CommunityId(tuple),
            );
        }
        let count_col = |name: &str| {
            index_of(name).filter(|i| input.field(*i).data_type() == &DataType::UInt64)
        };
        match log_type {
            "conn" if enabled(Enrichment::NetworkTotals) => {
                if let (Some(a), Some(b)) = (count_col("orig_bytes"), count_col("resp_bytes")) {
                    push(
                        &mut fields,
                        &mut sources,
                        Field::new("network.bytes", DataType::UInt64, true),
                        Source::Sum(a, b),
                    );
                }
                if let (Some(a), Some(b)) = (count_col("orig_pkts"), count_col("resp_pkts")) {
                    push(
                        &mut fields,
                        &mut sources,
                        Field::new("network.packets", DataType::UInt64, true),
                        Source::Sum(a, b),
                    );
                }
            }
            "http" if enabled(Enrichment::UrlParts) => {
                if let Some(i) = index_of("uri").filter(|i| is_utf8(input.field(*i).data_type())) {
                    push(
                        &mut fields,
                        &mut sources,
                        Field::new("url.path", DataType::Utf8, true),
                        Source::UrlPath(i),
                    );
                    push(
                        &mut fields,
                        &mut sources,
                        Field::new("url.query", DataType::Utf8, true),
                        Source::UrlQuery(i),
                    );
                }
            }
            "ssl" if enabled(Enrichment::TlsVersion) => {
                if let Some(i) =
                    index_of("version").filter(|i| is_utf8(input.field(*i).data_type()))
                {
                    push(
                        &mut fields,
                        &mut sources,
                        Field::new("tls.version", DataType::Utf8, true),
                        Source::TlsVersion(i, false),
                    );
                    push(
                        &mut fields,
                        &mut sources,
                        Field::new("tls.version_protocol", DataType::Utf8, true),
                        Source::TlsVersion(i, true),
                    );
                }
            }
            "dns" => {
                let flag = |name: &'static str| {
                    index_of(name)
                        .filter(|i| input.field(*i).data_type() == &DataType::Boolean)
                        .map(|i| (i, name))
                };
                let flags = [flag("AA"), flag("TC"), flag("RD"), flag("RA")];
                if enabled(Enrichment::DnsHeaderFlags) && flags.iter().any(Option::is_some) {
                    push(
                        &mut fields,
                        &mut sources,
                        Field::new("dns.header_flags", list_of_utf8(), true),
                        Source::DnsFlags(flags),
                    );
                }
                if let Some(i) = index_of("answers")
                    .filter(|i| is_utf8_list(input.field(*i).data_type()))
                    .filter(|_| enabled(Enrichment::DnsResolvedIp))
                {
                    push(
                        &mut fields,
                        &mut sources,
                        Field::new("dns.resolved_ip", list_of_utf8(), true),
                        Source::ResolvedIp(i),
                    );
                }
            }
            _ => {}
        }

        // Bookkeeping columns.
        for (name, target) in ecs::BOOKKEEPING_TARGETS {
            if let (Some(i), Some(target)) = (index_of(name), target) {
                let f = input.field(i);
                let ok = match ecs::ecs_field_type(target) {
                    Some(ecs::EsType::DateNanos) => {
                        matches!(f.data_type(), DataType::Timestamp(_, _))
                    }
                    _ => is_utf8(f.data_type()),
                };
                if ok {
                    push(
                        &mut fields,
                        &mut sources,
                        f.as_ref().clone().with_name(*target),
                        Source::Column(i),
                    );
                }
            }
        }

        // Every Zeek field under zeek.<logtype>.<name>.
        let bookkeeping: HashSet<&str> = ecs::BOOKKEEPING_TARGETS.iter().map(|(n, _)| *n).collect();
        let zeek_columns: Vec<usize> = (0..input.fields().len())
            .filter(|i| !bookkeeping.contains(input.field(*i).name().as_str()))
            .collect();
        let names = crate::schema::templates::zeek_document_names(
            zeek_columns.iter().map(|i| input.field(*i).name().as_str()),
        );
        for (i, name) in zeek_columns.into_iter().zip(names) {
            let field = input
                .field(i)
                .as_ref()
                .clone()
                .with_name(format!("zeek.{log_type}.{name}"));
            push(&mut fields, &mut sources, field, Source::Column(i));
        }

        let mut metadata = HashMap::new();
        metadata.insert(ZEEK_PATH_KEY.to_owned(), log_type.to_owned());
        let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
        // The encoder's nesting plan must accept these names; check once here.
        crate::encode::plan::NestingPlan::new(
            schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name() != ID_COLUMN && f.name() != INDEX_COLUMN)
                .map(|(i, f)| (i, f.name().as_str())),
        )?;
        let ts = index_of("ts")
            .filter(|i| matches!(input.field(*i).data_type(), DataType::Timestamp(_, _)));
        Ok(Plan {
            input: Arc::clone(input),
            log_type: log_type.to_owned(),
            schema,
            sources,
            ts,
        })
    }

    /// `@timestamp` values: `ts` in nanoseconds (UTC), the fallback time where it is null or
    /// absent. Never null.
    fn timestamps(
        &self,
        batch: &RecordBatch,
        ts: Option<usize>,
    ) -> Result<TimestampNanosecondArray> {
        let rows = batch.num_rows();
        let Some(i) = ts else {
            return Ok(TimestampNanosecondArray::new(
                ScalarBuffer::from(vec![self.fallback_ns; rows]),
                None,
            )
            .with_timezone("UTC"));
        };
        let column = batch.column(i);
        let nanos: TimestampNanosecondArray = match column.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                column.as_primitive::<TimestampNanosecondType>().clone()
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => column
                .as_primitive::<TimestampMicrosecondType>()
                .unary(|v| v.saturating_mul(1_000)),
            DataType::Timestamp(TimeUnit::Millisecond, _) => column
                .as_primitive::<TimestampMillisecondType>()
                .unary(|v| v.saturating_mul(1_000_000)),
            DataType::Timestamp(TimeUnit::Second, _) => column
                .as_primitive::<TimestampSecondType>()
                .unary(|v| v.saturating_mul(1_000_000_000)),
            other => {
                return Err(invalid(format!(
                    "ts column has type {other}, expected a timestamp"
                )))
            }
        };
        let nanos = if nanos.null_count() == 0 {
            nanos
        } else {
            let fallback = self.fallback_ns;
            let values: Vec<i64> = nanos.iter().map(|v| v.unwrap_or(fallback)).collect();
            TimestampNanosecondArray::new(ScalarBuffer::from(values), None)
        };
        Ok(nanos.with_timezone("UTC"))
    }

    fn ids(&self, rows: usize, first_record: u64) -> Result<StringArray> {
        let mut values = Vec::with_capacity(rows * DOC_ID_LEN);
        for row in 0..rows as u64 {
            self.identity.write_id(first_record + row, &mut values);
        }
        let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(DOC_ID_LEN, rows));
        Ok(StringArray::try_new(
            offsets,
            Buffer::from_vec(values),
            None,
        )?)
    }

    fn index_column(
        &mut self,
        log_type: &str,
        timestamps: &TimestampNanosecondArray,
    ) -> Result<DictionaryArray<Int32Type>> {
        let mut days: Vec<i64> = Vec::new();
        let mut keys: Vec<i32> = Vec::with_capacity(timestamps.len());
        let mut last: Option<(i64, i32)> = None;
        let dated = self.pattern.has_date();
        for &ts in timestamps.values() {
            let day = if dated { day_of_nanos(ts) } else { 0 };
            let key = match last {
                Some((d, k)) if d == day => k,
                _ => {
                    let k = days.iter().position(|d| *d == day).unwrap_or_else(|| {
                        days.push(day);
                        days.len() - 1
                    });
                    let k = i32::try_from(k)
                        .map_err(|_| invalid("too many distinct days in one batch".to_owned()))?;
                    last = Some((day, k));
                    k
                }
            };
            keys.push(key);
        }
        let mut names: Vec<Arc<str>> = Vec::with_capacity(days.len());
        for day in days {
            let cache_key = (log_type.to_owned(), day);
            let name = if let Some(n) = self.index_names.get(&cache_key) {
                Arc::clone(n)
            } else {
                let n: Arc<str> = Arc::from(self.pattern.render(&self.tenant, log_type, day)?);
                if self.index_names.len() > 4096 {
                    self.index_names.clear();
                }
                self.index_names.insert(cache_key, Arc::clone(&n));
                n
            };
            names.push(name);
        }
        let values: ArrayRef = Arc::new(StringArray::from_iter_values(
            names.iter().map(AsRef::as_ref),
        ));
        Ok(DictionaryArray::try_new(Int32Array::from(keys), values)?)
    }

    fn community_ids(&self, batch: &RecordBatch, tuple: Tuple) -> Result<StringArray> {
        let rows = batch.num_rows();
        let orig_h = batch.column(tuple.orig_h).as_string_opt::<i32>();
        let resp_h = batch.column(tuple.resp_h).as_string_opt::<i32>();
        let orig_p = PortView::new(batch.column(tuple.orig_p).as_ref());
        let resp_p = PortView::new(batch.column(tuple.resp_p).as_ref());
        let transport_col = match tuple.transport {
            Transport::Column(i) => batch.column(i).as_string_opt::<i32>(),
            Transport::Fixed(_) => None,
        };
        let mut out = Utf8Out::with_capacity(rows, rows * COMMUNITY_ID_LEN);
        for row in 0..rows {
            let computed = (|| {
                let saddr = parse_ip(orig_h.filter(|a| a.is_valid(row))?.value(row))?;
                let daddr = parse_ip(resp_h.filter(|a| a.is_valid(row))?.value(row))?;
                let transport = match tuple.transport {
                    Transport::Fixed(t) => t,
                    Transport::Column(_) => transport_col.filter(|a| a.is_valid(row))?.value(row),
                };
                let proto = proto_from_zeek(transport, saddr.is_ipv6())?;
                let ports = (orig_p.get(row)?, resp_p.get(row)?);
                Some((saddr, daddr, proto, ports))
            })();
            match computed {
                Some((s, d, proto, ports)) => {
                    let start = out.values.len();
                    if self
                        .community_id
                        .write(s, d, proto, Some(ports), &mut out.values)
                    {
                        out.end_value();
                    } else {
                        out.values.truncate(start);
                        out.push_null();
                    }
                }
                None => out.push_null(),
            }
        }
        out.finish()
    }
}

/// Parse an address as `IpAddr::from_str` does, with a fast path for the common dotted-quad
/// IPv4 form (std's general parser was 2% of normalise + encode). Anything the fast path does
/// not take in one pass (IPv6, leading zeros, out of range, junk) goes to the std parser, so
/// the accepted set is exactly std's.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let bytes = text.as_bytes();
    if bytes.len() <= 15 {
        let mut octets = [0u8; 4];
        let mut index = 0usize;
        let mut value = 0u32;
        let mut digits = 0u32;
        let mut ok = true;
        for &b in bytes {
            match b {
                b'0'..=b'9' => {
                    // A leading zero (`01`) is refused by std: leave it to std.
                    if digits == 1 && value == 0 {
                        ok = false;
                        break;
                    }
                    value = value * 10 + u32::from(b - b'0');
                    digits += 1;
                    if value > 255 {
                        ok = false;
                        break;
                    }
                }
                b'.' if digits > 0 && index < 3 => {
                    if let Some(slot) = octets.get_mut(index) {
                        *slot = value as u8;
                    }
                    index += 1;
                    value = 0;
                    digits = 0;
                }
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && index == 3 && digits > 0 {
            if let Some(slot) = octets.get_mut(3) {
                *slot = value as u8;
            }
            return Some(IpAddr::from(octets));
        }
    }
    text.parse().ok()
}

fn is_utf8(t: &DataType) -> bool {
    matches!(t, DataType::Utf8)
}

fn is_utf8_list(t: &DataType) -> bool {
    matches!(t, DataType::List(item) if item.data_type() == &DataType::Utf8)
}

fn is_integer(t: &DataType) -> bool {
    matches!(
        t,
        DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
    )
}

/// A port-like integer column read as `u16` (Zeek ports are `UInt16`; JSON-inferred ones
/// may be wider). Values outside 0..=65535 read as absent.
enum PortView<'a> {
    U16(&'a arrow_array::UInt16Array),
    U64(&'a UInt64Array),
    I64(&'a Int64Array),
    Other(&'a dyn Array),
}

impl<'a> PortView<'a> {
    fn new(array: &'a dyn Array) -> Self {
        if let Some(a) = array.as_any().downcast_ref::<arrow_array::UInt16Array>() {
            Self::U16(a)
        } else if let Some(a) = array.as_any().downcast_ref::<UInt64Array>() {
            Self::U64(a)
        } else if let Some(a) = array.as_any().downcast_ref::<Int64Array>() {
            Self::I64(a)
        } else {
            Self::Other(array)
        }
    }

    fn get(&self, row: usize) -> Option<u16> {
        match self {
            Self::U16(a) => a.is_valid(row).then(|| a.value(row)),
            Self::U64(a) => a
                .is_valid(row)
                .then(|| a.value(row))
                .and_then(|v| u16::try_from(v).ok()),
            Self::I64(a) => a
                .is_valid(row)
                .then(|| a.value(row))
                .and_then(|v| u16::try_from(v).ok()),
            Self::Other(a) => {
                let casted = match a.data_type() {
                    DataType::UInt32 => a
                        .as_primitive::<arrow_array::types::UInt32Type>()
                        .is_valid(row)
                        .then(|| {
                            i64::from(
                                a.as_primitive::<arrow_array::types::UInt32Type>()
                                    .value(row),
                            )
                        }),
                    DataType::Int32 => a
                        .as_primitive::<arrow_array::types::Int32Type>()
                        .is_valid(row)
                        .then(|| {
                            i64::from(a.as_primitive::<arrow_array::types::Int32Type>().value(row))
                        }),
                    DataType::Int16 => a
                        .as_primitive::<arrow_array::types::Int16Type>()
                        .is_valid(row)
                        .then(|| {
                            i64::from(a.as_primitive::<arrow_array::types::Int16Type>().value(row))
                        }),
                    _ => None,
                };
                casted.and_then(|v| u16::try_from(v).ok())
            }
        }
    }
}

/// A UTF-8 column under construction (values, offsets, validity) without per-value
/// allocation.
struct Utf8Out {
    values: Vec<u8>,
    offsets: Vec<i32>,
    nulls: BooleanBufferBuilder,
    null_count: usize,
}

impl Utf8Out {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            values: Vec::with_capacity(bytes),
            offsets,
            nulls: BooleanBufferBuilder::new(rows),
            null_count: 0,
        }
    }

    fn end_value(&mut self) {
        self.offsets
            .push(i32::try_from(self.values.len()).unwrap_or(i32::MAX));
        self.nulls.append(true);
    }

    fn push_null(&mut self) {
        self.offsets
            .push(i32::try_from(self.values.len()).unwrap_or(i32::MAX));
        self.nulls.append(false);
        self.null_count += 1;
    }

    fn finish(mut self) -> Result<StringArray> {
        if self.values.len() > i32::MAX as usize {
            return Err(RecallError::LimitExceeded {
                what: "bytes in one computed string column",
                value: self.values.len() as u64,
                limit: i32::MAX as u64,
            });
        }
        let nulls = (self.null_count > 0).then(|| NullBuffer::new(self.nulls.finish()));
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        Ok(StringArray::try_new(
            offsets,
            Buffer::from_vec(self.values),
            nulls,
        )?)
    }
}

/// An interval column as `Int64` nanoseconds; a nanosecond column is reinterpreted without
/// copying.
fn duration_nanos(array: &dyn Array) -> Result<Int64Array> {
    Ok(match array.data_type() {
        DataType::Duration(TimeUnit::Nanosecond) => {
            let a = array.as_primitive::<DurationNanosecondType>();
            Int64Array::new(a.values().clone(), a.nulls().cloned())
        }
        DataType::Duration(TimeUnit::Microsecond) => {
            let a = array.as_primitive::<DurationMicrosecondType>();
            Int64Array::new(
                a.values().iter().map(|v| v.saturating_mul(1_000)).collect(),
                a.nulls().cloned(),
            )
        }
        DataType::Duration(TimeUnit::Millisecond) => {
            let a = array.as_primitive::<DurationMillisecondType>();
            Int64Array::new(
                a.values()
                    .iter()
                    .map(|v| v.saturating_mul(1_000_000))
                    .collect(),
                a.nulls().cloned(),
            )
        }
        DataType::Duration(TimeUnit::Second) => {
            let a = array.as_primitive::<DurationSecondType>();
            Int64Array::new(
                a.values()
                    .iter()
                    .map(|v| v.saturating_mul(1_000_000_000))
                    .collect(),
                a.nulls().cloned(),
            )
        }
        other => return Err(invalid(format!("expected an interval column, got {other}"))),
    })
}

/// `a + b` of two count columns: null when both are null, the present one when one is,
/// null on overflow (never a wrong total).
fn sum_counts(a: &dyn Array, b: &dyn Array) -> UInt64Array {
    let (Some(a), Some(b)) = (
        a.as_any().downcast_ref::<UInt64Array>(),
        b.as_any().downcast_ref::<UInt64Array>(),
    ) else {
        return UInt64Array::new_null(a.len());
    };
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => x.checked_add(y),
            (Some(v), None) | (None, Some(v)) => Some(v),
            (None, None) => None,
        })
        .collect()
}

/// A UTF-8 column mapped value by value; `None` (or a null input) gives null.
fn map_str<'s, F>(array: &'s dyn Array, f: F) -> StringArray
where
    F: Fn(&'s str) -> Option<&'s str>,
{
    match array.as_string_opt::<i32>() {
        Some(strings) => strings.iter().map(|v| v.and_then(&f)).collect(),
        None => StringArray::new_null(array.len()),
    }
}

/// ECS `dns.header_flags`: the names of the flags that are set (null when none is).
fn dns_flags(
    batch: &RecordBatch,
    flags: &[Option<(usize, &'static str)>; 4],
) -> arrow_array::ListArray {
    let columns: Vec<(&BooleanArray, &str)> = flags
        .iter()
        .flatten()
        .filter_map(|(i, name)| batch.column(*i).as_boolean_opt().map(|a| (a, *name)))
        .collect();
    let mut builder = ListBuilder::new(StringBuilder::new());
    for row in 0..batch.num_rows() {
        let mut any = false;
        for (column, name) in &columns {
            if column.is_valid(row) && column.value(row) {
                builder.values().append_value(name);
                any = true;
            }
        }
        builder.append(any);
    }
    builder.finish()
}

/// ECS `dns.resolved_ip`: the answers that are IP addresses (null when none is).
fn resolved_ips(array: &dyn Array) -> arrow_array::ListArray {
    let mut builder = ListBuilder::new(StringBuilder::new());
    let Some(list) = array.as_list_opt::<i32>() else {
        for _ in 0..array.len() {
            builder.append(false);
        }
        return builder.finish();
    };
    let items = list.values().as_string_opt::<i32>();
    let offsets = list.value_offsets();
    for row in 0..list.len() {
        let mut any = false;
        if let (true, Some(items), Some(&start), Some(&end)) = (
            list.is_valid(row),
            items,
            offsets.get(row),
            offsets.get(row + 1),
        ) {
            for item in usize::try_from(start).unwrap_or(0)..usize::try_from(end).unwrap_or(0) {
                if items.is_valid(item) {
                    let value = items.value(item);
                    if value.parse::<IpAddr>().is_ok() {
                        builder.values().append_value(value);
                        any = true;
                    }
                }
            }
        }
        builder.append(any);
    }
    builder.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use arrow_array::{TimestampNanosecondArray, UInt16Array};

    use super::*;
    use crate::schema::zeek::ZeekType;

    const DAY: i64 = routing::NANOS_PER_DAY;

    fn conn_batch(ts: Vec<Option<i64>>) -> RecordBatch {
        let n = ts.len();
        let fields = vec![
            ZeekType::parse("time").arrow_field("ts"),
            ZeekType::parse("addr").arrow_field("id.orig_h"),
            ZeekType::parse("port").arrow_field("id.orig_p"),
            ZeekType::parse("addr").arrow_field("id.resp_h"),
            ZeekType::parse("port").arrow_field("id.resp_p"),
            ZeekType::parse("enum").arrow_field("proto"),
            ZeekType::parse("interval").arrow_field("duration"),
            ZeekType::parse("string").arrow_field("_node_name"),
            ZeekType::parse("string").arrow_field("x"),
            ZeekType::parse("string").arrow_field("x.y"),
        ];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampNanosecondArray::from(ts).with_timezone("UTC")),
            Arc::new(StringArray::from(vec!["10.0.0.1"; n])),
            Arc::new(UInt16Array::from(vec![1234; n])),
            Arc::new(StringArray::from(vec!["10.0.0.2"; n])),
            Arc::new(UInt16Array::from(vec![80; n])),
            Arc::new(StringArray::from(vec!["tcp"; n])),
            Arc::new(arrow_array::DurationNanosecondArray::from(vec![1_500; n])),
            Arc::new(StringArray::from(vec!["worker-1"; n])),
            Arc::new(StringArray::from(vec!["leaf"; n])),
            Arc::new(StringArray::from(vec!["nested"; n])),
        ];
        let mut meta = HashMap::new();
        meta.insert(ZEEK_PATH_KEY.to_owned(), "conn".to_owned());
        RecordBatch::try_new(Arc::new(Schema::new_with_metadata(fields, meta)), columns).unwrap()
    }

    fn normalizer(tenant: &str) -> Normalizer {
        let mut c = NormalizeConfig::new(tenant, "b", "k", "v");
        c.ingested_ns = Some(5 * DAY + 1);
        Normalizer::new(&c).unwrap()
    }

    fn column<'a>(b: &'a NormalizedBatch, name: &str) -> &'a ArrayRef {
        b.batch.column(b.batch.schema().index_of(name).unwrap())
    }

    #[test]
    fn zeek_and_ecs_columns_share_the_decoded_buffers() {
        let input = conn_batch(vec![Some(DAY)]);
        let out = normalizer("acme").normalize(&input, None, 0).unwrap();
        let orig = input.column(1).to_data();
        for name in ["source.ip", "zeek.conn.id.orig_h"] {
            let data = column(&out, name).to_data();
            assert_eq!(
                data.buffers()[1].as_ptr(),
                orig.buffers()[1].as_ptr(),
                "{name} copied"
            );
        }
        let dur = column(&out, "event.duration").as_primitive::<arrow_array::types::Int64Type>();
        assert_eq!(dur.value(0), 1_500);
        assert_eq!(
            column(&out, "observer.name").as_string::<i32>().value(0),
            "worker-1"
        );
        assert!(out.batch.schema().index_of("zeek.conn._node_name").is_err());
        // `x` is both a value and an object: its value moves to `x.value`.
        assert!(out.batch.schema().index_of("zeek.conn.x.value").is_ok());
        assert!(out.batch.schema().index_of("zeek.conn.x.y").is_ok());
        let cid = column(&out, "network.community_id").as_string::<i32>();
        assert_eq!(
            cid.value(0),
            CommunityId::new(0)
                .compute(
                    "10.0.0.1".parse().unwrap(),
                    "10.0.0.2".parse().unwrap(),
                    6,
                    Some((1234, 80))
                )
                .unwrap()
        );
    }

    #[test]
    fn index_per_utc_day_and_fallback_time() {
        let input = conn_batch(vec![Some(DAY), None, Some(2 * DAY - 1), Some(3 * DAY)]);
        let out = normalizer("acme").normalize(&input, None, 7).unwrap();
        let index = column(&out, INDEX_COLUMN).as_dictionary::<Int32Type>();
        let values = index.values().as_string::<i32>();
        let names: Vec<&str> = index
            .keys()
            .values()
            .iter()
            .map(|k| values.value(*k as usize))
            .collect();
        assert_eq!(
            names,
            vec![
                "recall-acme-zeek.conn-1970.01.02",
                "recall-acme-zeek.conn-1970.01.06",
                "recall-acme-zeek.conn-1970.01.02",
                "recall-acme-zeek.conn-1970.01.04",
            ]
        );
        let ts = column(&out, "@timestamp").as_primitive::<TimestampNanosecondType>();
        assert_eq!(
            ts.value(1),
            5 * DAY + 1,
            "null ts falls back to event.ingested"
        );
        let ids = column(&out, ID_COLUMN).as_string::<i32>();
        let again = normalizer("acme").normalize(&input, None, 7).unwrap();
        assert_eq!(
            ids,
            column(&again, ID_COLUMN).as_string::<i32>(),
            "ids are deterministic"
        );
        assert_eq!(
            ids.value(0),
            ObjectIdentity::new("acme", "b", "k", "v").id(7)
        );
    }

    #[test]
    fn a_tenant_only_reaches_its_own_indices() {
        let input = conn_batch(vec![Some(DAY)]);
        for tenant in ["acme", "acme-corp", "a"] {
            let out = normalizer(tenant).normalize(&input, None, 0).unwrap();
            let index = column(&out, INDEX_COLUMN).as_dictionary::<Int32Type>();
            for name in index.values().as_string::<i32>().iter().flatten() {
                assert!(
                    name.starts_with(&format!("recall-{tenant}-zeek.")),
                    "{name}"
                );
            }
            let org = column(&out, "organization.id").as_dictionary::<Int8Type>();
            assert_eq!(org.values().as_string::<i32>().value(0), tenant);
        }
        assert!(Normalizer::new(&NormalizeConfig::new("ACME", "b", "k", "v")).is_err());
        assert!(Normalizer::new(&NormalizeConfig::new("_all", "b", "k", "v")).is_err());
        let mut bad_pattern = NormalizeConfig::new("acme", "b", "k", "v");
        bad_pattern.index_pattern = "zeek-<logtype>".to_owned();
        assert!(Normalizer::new(&bad_pattern).is_err());
    }

    #[test]
    fn fast_ip_parse_accepts_exactly_what_std_accepts() {
        for text in [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.04",
            "1.2.3.0",
            "100.200.10.1",
            "fe80::1",
            "::ffff:1.2.3.4",
            "",
            "1.2.3.4 ",
            "a.b.c.d",
            "999.1.1.1",
            "1.2.3.4000",
        ] {
            assert_eq!(parse_ip(text), text.parse::<IpAddr>().ok(), "{text:?}");
        }
        for a in [0u32, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255] {
            let text = format!("{a}.{a}.{a}.{a}");
            assert_eq!(parse_ip(&text), text.parse::<IpAddr>().ok(), "{text}");
        }
    }

    #[test]
    fn disabled_enrichments_leave_their_fields_out() {
        let input = conn_batch(vec![Some(DAY)]);
        let mut c = NormalizeConfig::new("acme", "b", "k", "v");
        c.disabled_enrichments = vec![Enrichment::CommunityId];
        let out = Normalizer::new(&c)
            .unwrap()
            .normalize(&input, None, 0)
            .unwrap();
        let names: Vec<String> = out
            .batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert!(
            !names.iter().any(|n| n == "network.community_id"),
            "{names:?}"
        );
        // Everything else is unchanged.
        let full = normalizer("acme").normalize(&input, None, 0).unwrap();
        assert_eq!(full.batch.num_columns(), out.batch.num_columns() + 1);
        assert!(full.batch.schema().index_of("network.community_id").is_ok());
    }

    #[test]
    fn log_type_is_required_and_validated() {
        let input = conn_batch(vec![Some(1)]);
        let plain = RecordBatch::try_new(
            Arc::new(Schema::new(input.schema().fields().clone())),
            input.columns().to_vec(),
        )
        .unwrap();
        assert!(normalizer("acme").normalize(&plain, None, 0).is_err());
        assert!(normalizer("acme")
            .normalize(&plain, Some("Conn"), 0)
            .is_err());
        let out = normalizer("acme")
            .normalize(&plain, Some("my_log"), 0)
            .unwrap();
        assert_eq!(out.log_type, "my_log");
        assert!(out.batch.schema().index_of("zeek.my_log.id.orig_h").is_ok());
        // Unknown log type: no fixed transport, but `proto` still gives the community id.
        assert!(out.batch.schema().index_of("network.community_id").is_ok());
    }
}
