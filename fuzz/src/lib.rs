//! Shared pieces of the fuzz targets: structure-aware input builders (Arrow batches from fuzzer
//! bytes) and the invariant checker for encoder output.
//!
//! Why a checker rather than "no panic" alone: the encoder's output goes to Elasticsearch as
//! is, so a body that is not valid NDJSON, a source line with a duplicate key (Elasticsearch
//! rejects those), a document outside the chunk limits, or a record that is neither sent nor
//! reported as rejected is a real bug even when nothing panics. Every violation panics here,
//! which libFuzzer reports as a crash with the input that caused it.
#![allow(clippy::missing_panics_doc)]

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;

use arbitrary::{Result, Unstructured};
use arrow_array::builder::{ListBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array, Int64Array,
    NullArray, RecordBatch, StringArray, TimestampMicrosecondArray, TimestampNanosecondArray,
    UInt16Array, UInt64Array,
};
use arrow_schema::{Field, Schema};
use recall_core::encode::{BulkChunk, EncodeConfig, RejectedDoc};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Strings that exercise escaping, parsing and the computed columns (addresses, URLs, TLS
/// versions, Zeek's unset/empty markers).
const INTERESTING: &[&str] = &[
    "",
    "-",
    "(empty)",
    "\0",
    "\"\\/",
    "\u{7f}\u{1f}\t\r\n",
    "\u{2028}\u{2029}",
    "\u{feff}x",
    "é日本🦀",
    "1.2.3.4",
    "255.255.255.255",
    "::1",
    "fe80::1%eth0",
    "2001:db8::ff00:42:8329",
    "::ffff:10.0.0.1",
    "not an ip",
    "/a/b?c=d&e",
    "?",
    "http://x/?",
    "TLSv12",
    "TLSv13",
    "SSLv3",
    "DTLSv12",
    "tcp",
    "udp",
    "icmp",
    "unknown_transport",
    "1e400",
    "NaN",
    "-0",
    "recall-t-zeek.conn-2024.01.01",
];

/// Zeek field names of the log types the normaliser knows, plus bookkeeping and nesting traps.
pub const ZEEK_NAMES: &[&str] = &[
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "orig_pkts",
    "resp_pkts",
    "orig_ip_bytes",
    "resp_ip_bytes",
    "conn_state",
    "history",
    "query",
    "qtype_name",
    "rcode_name",
    "AA",
    "TC",
    "RD",
    "RA",
    "answers",
    "TTLs",
    "trans_id",
    "method",
    "host",
    "uri",
    "status_code",
    "user_agent",
    "version",
    "cipher",
    "server_name",
    "established",
    "name",
    "addl",
    "_write_ts",
    "_node_name",
    "_system_name",
    "_path",
    "id",
    "id.orig_h.x",
    "a.b",
    "a",
    ".",
    "a..b",
    "x.",
    "@timestamp",
    "event.duration",
    "zeek.conn.uid",
];

/// Log types the normaliser has ECS mappings for, and some it does not.
pub const LOG_TYPES: &[&str] = &[
    "conn",
    "dns",
    "http",
    "ssl",
    "weird",
    "files",
    "x509",
    "notice",
    "ntp",
    "custom_log",
];

/// A string: usually fuzzer-chosen text, sometimes one of [`INTERESTING`].
pub fn string(u: &mut Unstructured) -> Result<String> {
    if u.ratio(1, 3)? {
        Ok((*u.choose(INTERESTING)?).to_owned())
    } else {
        let s: &str = u.arbitrary()?;
        Ok(s.chars().take(96).collect())
    }
}

/// A field name: from `pool` mostly, otherwise short dotted junk (empty segments, underscores).
pub fn field_name(u: &mut Unstructured, pool: &[&str]) -> Result<String> {
    if u.ratio(3, 4)? {
        return Ok((*u.choose(pool)?).to_owned());
    }
    let len = u.int_in_range(0..=10)?;
    let mut name = String::with_capacity(len);
    for _ in 0..len {
        name.push(*u.choose(&['a', 'b', '.', '_', 'Z', 'é'])?);
    }
    Ok(name)
}

/// One column of `rows` values of a fuzzer-chosen type.
#[allow(clippy::too_many_lines)]
pub fn column(u: &mut Unstructured, rows: usize) -> Result<ArrayRef> {
    let nulls = u.int_in_range(0u8..=3)?; // 0: none, 3: mostly null
    let null = |u: &mut Unstructured| -> Result<bool> {
        Ok(nulls > 0 && u.int_in_range(0u8..=3)? < nulls)
    };
    let array: ArrayRef = match u.int_in_range(0u8..=12)? {
        0 => Arc::new(StringArray::from(optional(u, rows, &null, string)?)),
        1 => Arc::new(Int64Array::from(optional(u, rows, &null, any)?)),
        2 => Arc::new(UInt16Array::from(optional(u, rows, &null, any)?)),
        3 => Arc::new(UInt64Array::from(optional(u, rows, &null, any)?)),
        4 => Arc::new(Int32Array::from(optional(u, rows, &null, any)?)),
        5 => Arc::new(Float64Array::from(optional(u, rows, &null, |u| {
            Ok(match u.int_in_range(0u8..=5)? {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => -0.0,
                _ => u.arbitrary()?,
            })
        })?)),
        6 => Arc::new(BooleanArray::from(optional(u, rows, &null, any)?)),
        7 => Arc::new(
            TimestampNanosecondArray::from(optional(u, rows, &null, time)?).with_timezone("UTC"),
        ),
        8 => Arc::new(TimestampMicrosecondArray::from(optional(
            u,
            rows,
            &null,
            |u| Ok(time(u)? / 1000),
        )?)),
        9 => Arc::new(DurationNanosecondArray::from(optional(u, rows, &null, any)?)),
        10 => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for _ in 0..rows {
                if null(u)? {
                    b.append_null();
                } else {
                    for _ in 0..u.int_in_range(0..=4)? {
                        if u.ratio(1, 8)? {
                            b.values().append_null();
                        } else {
                            b.values().append_value(string(u)?);
                        }
                    }
                    b.append(true);
                }
            }
            Arc::new(b.finish())
        }
        11 => {
            let mut b = StringDictionaryBuilder::<Int32Type>::new();
            for _ in 0..rows {
                if null(u)? {
                    b.append_null();
                } else {
                    b.append_value(string(u)?);
                }
            }
            Arc::new(b.finish())
        }
        _ => Arc::new(NullArray::new(rows)),
    };
    Ok(array)
}

/// `rows` values, each null when `null` says so and otherwise made by `value` (in that order,
/// so a given input always builds the same column).
fn optional<T>(
    u: &mut Unstructured,
    rows: usize,
    null: &impl Fn(&mut Unstructured) -> Result<bool>,
    mut value: impl FnMut(&mut Unstructured) -> Result<T>,
) -> Result<Vec<Option<T>>> {
    let mut values = Vec::with_capacity(rows);
    for _ in 0..rows {
        values.push(if null(u)? { None } else { Some(value(u)?) });
    }
    Ok(values)
}

/// Any value of an `Arbitrary` type.
fn any<T: for<'a> arbitrary::Arbitrary<'a>>(u: &mut Unstructured) -> Result<T> {
    u.arbitrary()
}

/// A timestamp in nanoseconds: mostly plausible (1970..2100), sometimes any `i64`.
pub fn time(u: &mut Unstructured) -> Result<i64> {
    if u.ratio(1, 4)? {
        u.arbitrary()
    } else {
        Ok(u.int_in_range(0i64..=4_102_444_800)? * 1_000_000_000
            + u.int_in_range(0..=999_999_999)?)
    }
}

/// A batch of fuzzer-chosen columns (names from `pool` or junk, any supported type) plus
/// `extra` columns appended as given.
pub fn batch(
    u: &mut Unstructured,
    pool: &[&str],
    max_rows: usize,
    extra: impl FnOnce(&mut Unstructured, usize) -> Result<Vec<(String, ArrayRef)>>,
) -> Result<RecordBatch> {
    let rows = u.int_in_range(0..=max_rows)?;
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for _ in 0..u.int_in_range(0..=12)? {
        let name = field_name(u, pool)?;
        let col = column(u, rows)?;
        fields.push(Field::new(name, col.data_type().clone(), true));
        columns.push(col);
    }
    for (name, col) in extra(u, rows)? {
        fields.push(Field::new(name, col.data_type().clone(), true));
        columns.push(col);
    }
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), columns, &options)
        .map_err(|_| arbitrary::Error::IncorrectFormat)
}

/// A JSON value parsed with duplicate keys treated as an error (Elasticsearch's parser
/// rejects them; `serde_json::Value` would silently keep the last).
#[derive(Debug)]
pub enum Strict {
    /// Any scalar.
    Scalar,
    /// An array.
    Array(Vec<Strict>),
    /// An object, keys in order.
    Object(Vec<(String, Strict)>),
    /// A string (kept: action lines are compared).
    Str(String),
}

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strict;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Strict, E> {
                Ok(Strict::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Strict, E> {
                Ok(Strict::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Strict, E> {
                Ok(Strict::Scalar)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Strict, E> {
                if v.is_finite() {
                    Ok(Strict::Scalar)
                } else {
                    Err(E::custom("non-finite number"))
                }
            }
            fn visit_unit<E>(self) -> std::result::Result<Strict, E> {
                Ok(Strict::Scalar)
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Strict, E> {
                Ok(Strict::Str(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Strict, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element()? {
                    out.push(v);
                }
                Ok(Strict::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Strict, A::Error> {
                let mut out: Vec<(String, Strict)> = Vec::new();
                let mut seen = HashSet::new();
                while let Some((k, v)) = a.next_entry::<String, Strict>()? {
                    if !seen.insert(k.clone()) {
                        return Err(de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    out.push((k, v));
                }
                Ok(Strict::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Strict {
    fn get(&self, key: &str) -> Option<&Strict> {
        match self {
            Strict::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// What the checker expects of every action line.
pub struct Expect<'a> {
    /// The encoder configuration the output came from.
    pub config: &'a EncodeConfig,
    /// Every index name must start with this (the tenant's prefix), when set.
    pub index_prefix: Option<&'a str>,
}

/// Check one object's encoder output: `chunks` and `rejected` together must account for the
/// records in `expected` exactly once; every body is valid NDJSON with one action line
/// and one source object per document, within the limits, and its bookkeeping (offsets, ids,
/// index names) matches the body. Returns the ids of the sent documents.
pub fn check_output(
    chunks: &[BulkChunk],
    rejected: &[RejectedDoc],
    expected: &BTreeSet<u64>,
    expect: &Expect<'_>,
) -> Vec<String> {
    let mut records = BTreeSet::new();
    let mut ids = Vec::new();
    for chunk in chunks {
        ids.extend(check_chunk(chunk, expect));
        for r in chunk.row_start()..chunk.row_end() {
            assert!(records.insert(r), "record {r} sent twice");
        }
    }
    for r in rejected {
        assert!(
            records.insert(r.record),
            "record {} sent and rejected",
            r.record
        );
        assert!(!r.reason.is_empty());
    }
    assert_eq!(&records, expected, "records lost or invented");
    ids
}

/// Check one body (see [`check_output`]); returns its document ids.
pub fn check_chunk(chunk: &BulkChunk, expect: &Expect<'_>) -> Vec<String> {
    let config = expect.config;
    let n = chunk.n_docs();
    assert!(n > 0, "empty chunk emitted");
    assert!(n <= config.max_chunk_docs, "{n} docs > max_chunk_docs");
    assert!(
        chunk.body.len() <= config.max_chunk_bytes,
        "body of {} bytes > max_chunk_bytes {}",
        chunk.body.len(),
        config.max_chunk_bytes
    );
    assert_eq!(chunk.ids.len(), n);
    assert_eq!(
        chunk.body.last(),
        Some(&b'\n'),
        "body must end with a newline"
    );
    let lines: Vec<&[u8]> = chunk.body[..chunk.body.len() - 1]
        .split(|&b| b == b'\n')
        .collect();
    assert_eq!(
        lines.len(),
        2 * n,
        "one action and one source line per document"
    );
    let mut offset = 0usize;
    let mut indices: Vec<String> = Vec::new();
    let mut ids = Vec::new();
    for (i, pair) in lines.chunks(2).enumerate() {
        assert_eq!(chunk.doc_offsets[i] as usize, offset, "doc offset of {i}");
        assert_eq!(
            chunk.doc(i).map(<[u8]>::len),
            Some(pair[0].len() + pair[1].len() + 2),
            "doc({i}) spans its two lines"
        );
        offset += pair[0].len() + pair[1].len() + 2;
        let action: Strict = match serde_json::from_slice(pair[0]) {
            Ok(a) => a,
            Err(e) => panic!(
                "action line {i} is not JSON ({e}): {:?}",
                String::from_utf8_lossy(pair[0])
            ),
        };
        let Strict::Object(top) = &action else {
            panic!("action line is not an object")
        };
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].0, config.action.name());
        let meta = &top[0].1;
        let Some(Strict::Str(index)) = meta.get("_index") else {
            panic!("action without a string _index")
        };
        assert!(
            recall_core::schema::routing::validate_index_name(index).is_ok(),
            "invalid index name {index:?}"
        );
        if let Some(prefix) = expect.index_prefix {
            assert!(
                index.starts_with(prefix),
                "index {index:?} outside {prefix:?}"
            );
        }
        if !indices.contains(index) {
            indices.push(index.clone());
        }
        let id = match meta.get("_id") {
            Some(Strict::Str(id)) => id.clone(),
            None => String::new(),
            Some(_) => panic!("non-string _id"),
        };
        assert_eq!(
            chunk.ids.get(i),
            Some(id.as_str()),
            "id list matches the body"
        );
        ids.push(id);
        match serde_json::from_slice::<Strict>(pair[1]) {
            Ok(Strict::Object(_)) => {}
            Ok(_) => panic!("source line {i} is not an object"),
            Err(e) => panic!(
                "source line {i} is not JSON ({e}): {:?}",
                String::from_utf8_lossy(pair[1])
            ),
        }
    }
    assert_eq!(
        chunk.index_names, indices,
        "index_names lists the body's indices"
    );
    ids
}
