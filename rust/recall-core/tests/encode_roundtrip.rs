//! Property tests of the bulk encoder: any batch -> bodies -> parsed back with `serde_json`
//! gives the same documents (value for value, by the documented rules), every body respects
//! its limits, and the bodies' bookkeeping (records, offsets, ids, index names) is exact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder};
use arrow_array::types::Int8Type;
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, DurationNanosecondArray, Float64Array, Int64Array,
    RecordBatch, StringArray, TimestampNanosecondArray, UInt64Array,
};
use arrow_schema::{Field, Schema};
use proptest::prelude::*;
use recall_core::encode::{Action, BulkChunk, BulkEncoder, EncodeConfig, ID_COLUMN, INDEX_COLUMN};
use serde_json::{Map, Value};

/// One generated column: its values as the encoder must render them.
#[derive(Debug, Clone)]
enum Col {
    Str(Vec<Option<String>>),
    I64(Vec<Option<i64>>),
    U64(Vec<Option<u64>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Ts(Vec<Option<i64>>),
    Dur(Vec<Option<i64>>),
    StrList(Vec<Option<Vec<Option<String>>>>),
    IntList(Vec<Option<Vec<Option<i64>>>>),
    Dict(Vec<Option<i8>>, Vec<String>),
}

fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 ]{0,12}",
        any::<String>(),
        Just("quote\" back\\slash \n\t\r\u{0}\u{1f}\u{7f} é 😀 \u{2028}".to_owned()),
    ]
}

fn opt_vec<T: std::fmt::Debug + Clone + 'static>(
    s: BoxedStrategy<T>,
    rows: usize,
) -> BoxedStrategy<Vec<Option<T>>> {
    proptest::collection::vec(proptest::option::weighted(0.8, s), rows).boxed()
}

fn column(rows: usize) -> impl Strategy<Value = Col> {
    prop_oneof![
        opt_vec(any_string().boxed(), rows).prop_map(Col::Str),
        opt_vec(any::<i64>().boxed(), rows).prop_map(Col::I64),
        opt_vec(any::<u64>().boxed(), rows).prop_map(Col::U64),
        opt_vec(
            prop_oneof![
                any::<f64>(),
                Just(f64::NAN),
                Just(f64::INFINITY),
                Just(-0.0),
                Just(1e300)
            ]
            .boxed(),
            rows
        )
        .prop_map(Col::F64),
        opt_vec(any::<bool>().boxed(), rows).prop_map(Col::Bool),
        opt_vec(
            (-2_000_000_000_000_000_000i64..9_000_000_000_000_000_000).boxed(),
            rows
        )
        .prop_map(Col::Ts),
        opt_vec(any::<i64>().boxed(), rows).prop_map(Col::Dur),
        opt_vec(
            proptest::collection::vec(proptest::option::weighted(0.9, any_string()), 0..4).boxed(),
            rows
        )
        .prop_map(Col::StrList),
        opt_vec(
            proptest::collection::vec(proptest::option::weighted(0.9, any::<i64>()), 0..4).boxed(),
            rows
        )
        .prop_map(Col::IntList),
        (
            proptest::collection::vec(any_string(), 1..4),
            proptest::collection::vec(proptest::option::of(0i8..4), rows)
        )
            .prop_map(|(values, keys)| {
                let n = values.len() as i8;
                Col::Dict(keys.into_iter().map(|k| k.map(|k| k % n)).collect(), values)
            }),
    ]
}

fn to_array(col: &Col) -> ArrayRef {
    match col {
        Col::Str(v) => Arc::new(StringArray::from(v.clone())),
        Col::I64(v) => Arc::new(Int64Array::from(v.clone())),
        Col::U64(v) => Arc::new(UInt64Array::from(v.clone())),
        Col::F64(v) => Arc::new(Float64Array::from(v.clone())),
        Col::Bool(v) => Arc::new(BooleanArray::from(v.clone())),
        Col::Ts(v) => Arc::new(TimestampNanosecondArray::from(v.clone()).with_timezone("UTC")),
        Col::Dur(v) => Arc::new(DurationNanosecondArray::from(v.clone())),
        Col::StrList(v) => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for row in v {
                match row {
                    Some(items) => {
                        for item in items {
                            b.values().append_option(item.as_deref());
                        }
                        b.append(true);
                    }
                    None => b.append(false),
                }
            }
            Arc::new(b.finish())
        }
        Col::IntList(v) => {
            let mut b = ListBuilder::new(Int64Builder::new());
            for row in v {
                match row {
                    Some(items) => {
                        for item in items {
                            b.values().append_option(*item);
                        }
                        b.append(true);
                    }
                    None => b.append(false),
                }
            }
            Arc::new(b.finish())
        }
        Col::Dict(keys, values) => {
            let keys = arrow_array::Int8Array::from(keys.clone());
            let values: ArrayRef = Arc::new(StringArray::from(values.clone()));
            Arc::new(DictionaryArray::<Int8Type>::try_new(keys, values).unwrap())
        }
    }
}

/// Exact decimal of `value` nanoseconds-units as seconds, parsed back from the JSON text.
fn parse_seconds_ns(text: &str) -> i128 {
    let (neg, t) = text.strip_prefix('-').map_or((false, text), |t| (true, t));
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut frac = frac.to_owned();
    while frac.len() < 9 {
        frac.push('0');
    }
    let v = int.parse::<i128>().unwrap() * 1_000_000_000 + frac.parse::<i128>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

/// Days from civil (Hinnant), independent of the encoder's code path.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_timestamp_ns(text: &str) -> i128 {
    let text = text.strip_suffix('Z').unwrap();
    let (date, time) = text.split_once('T').unwrap();
    let mut parts = date.rsplitn(3, '-');
    let d: i64 = parts.next().unwrap().parse().unwrap();
    let m: i64 = parts.next().unwrap().parse().unwrap();
    let y: i64 = parts
        .next()
        .unwrap()
        .trim_start_matches('+')
        .parse()
        .unwrap();
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let hms: Vec<i64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    let secs = days_from_civil(y, m, d) * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    i128::from(secs) * 1_000_000_000 + parse_seconds_ns(&format!("0.{frac}"))
}

/// Check one parsed JSON value against the generated value of row `row`.
fn check_value(col: &Col, row: usize, got: Option<&Value>) {
    let expect_absent = |present: bool| {
        assert_eq!(got.is_some(), present, "presence of row {row} in {col:?}");
    };
    match col {
        Col::Str(v) => {
            expect_absent(v[row].is_some());
            if let Some(s) = &v[row] {
                assert_eq!(got.unwrap().as_str().unwrap(), s);
            }
        }
        Col::I64(v) => {
            expect_absent(v[row].is_some());
            if let Some(x) = v[row] {
                assert_eq!(got.unwrap().as_i64().unwrap(), x);
            }
        }
        Col::U64(v) => {
            expect_absent(v[row].is_some());
            if let Some(x) = v[row] {
                assert_eq!(got.unwrap().as_u64().unwrap(), x);
            }
        }
        Col::F64(v) => {
            expect_absent(v[row].is_some());
            if let Some(x) = v[row] {
                let g = got.unwrap();
                if x.is_finite() {
                    assert_eq!(g.as_f64().unwrap().to_bits(), x.to_bits(), "{x}");
                } else {
                    assert!(g.is_null());
                }
            }
        }
        Col::Bool(v) => {
            expect_absent(v[row].is_some());
            if let Some(x) = v[row] {
                assert_eq!(got.unwrap().as_bool().unwrap(), x);
            }
        }
        Col::Ts(v) => {
            expect_absent(v[row].is_some());
            if let Some(x) = v[row] {
                assert_eq!(
                    parse_timestamp_ns(got.unwrap().as_str().unwrap()),
                    i128::from(x)
                );
            }
        }
        Col::Dur(v) => {
            expect_absent(v[row].is_some());
            if let Some(x) = v[row] {
                // Decimal seconds. serde_json reads numbers as f64, so compare within f64
                // precision here; the exact digits are covered by `encode::json` unit tests.
                let seconds = got.unwrap().as_f64().unwrap();
                let want = x as f64 / 1e9;
                assert!(
                    (seconds - want).abs() <= want.abs() * 1e-15 + 1e-9,
                    "{seconds} vs {want}"
                );
            }
        }
        Col::StrList(v) => {
            expect_absent(v[row].is_some());
            if let Some(items) = &v[row] {
                let arr = got.unwrap().as_array().unwrap();
                assert_eq!(arr.len(), items.len());
                for (g, w) in arr.iter().zip(items) {
                    match w {
                        Some(w) => assert_eq!(g.as_str().unwrap(), w),
                        None => assert!(g.is_null()),
                    }
                }
            }
        }
        Col::IntList(v) => {
            expect_absent(v[row].is_some());
            if let Some(items) = &v[row] {
                let arr = got.unwrap().as_array().unwrap();
                let want: Vec<Value> = items
                    .iter()
                    .map(|i| i.map_or(Value::Null, Value::from))
                    .collect();
                assert_eq!(arr, &want);
            }
        }
        Col::Dict(keys, values) => {
            expect_absent(keys[row].is_some());
            if let Some(k) = keys[row] {
                assert_eq!(got.unwrap().as_str().unwrap(), values[k as usize]);
            }
        }
    }
}

fn lookup<'a>(doc: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut segments = path.split('.');
    let mut current = doc.get(segments.next()?)?;
    for s in segments {
        current = current.as_object()?.get(s)?;
    }
    Some(current)
}

/// Every object in the document is non-empty (objects open lazily).
fn no_empty_objects(v: &Value) {
    if let Value::Object(m) = v {
        assert!(!m.is_empty(), "empty object in document");
        m.values().for_each(no_empty_objects);
    }
}

/// Names: a few segments from a small alphabet, with leaf/prefix conflicts removed.
fn names(n: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("[abc@]{1,2}(\\.[ab_]{1,2}){0,2}", n).prop_map(|raw| {
        let mut out: Vec<String> = Vec::new();
        for (i, name) in raw.into_iter().enumerate() {
            let name = format!("{name}{i}");
            let conflict = out
                .iter()
                .any(|o| o.starts_with(&format!("{name}.")) || name.starts_with(&format!("{o}.")));
            out.push(if conflict { format!("x{i}") } else { name });
        }
        out
    })
}

fn batch_strategy() -> impl Strategy<Value = (Vec<String>, Vec<Col>, usize)> {
    (1usize..40).prop_flat_map(|rows| {
        (1usize..8).prop_flat_map(move |ncols| {
            (
                names(ncols),
                proptest::collection::vec(column(rows), ncols),
                Just(rows),
            )
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn bodies_parse_back_to_the_same_documents(
        (names, cols, rows) in batch_strategy(),
        max_chunk_bytes in 1024usize..6000,
        max_chunk_docs in 1usize..12,
        first_record in 0u64..1000,
        create in any::<bool>(),
    ) {
        let mut fields: Vec<Field> = vec![
            Field::new(ID_COLUMN, arrow_schema::DataType::Utf8, true),
            Field::new(INDEX_COLUMN, arrow_schema::DataType::Utf8, true),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values((0..rows).map(|r| format!("id-{r}")))),
            Arc::new(StringArray::from_iter_values((0..rows).map(|r| format!("idx-{}", r % 3)))),
        ];
        for (name, col) in names.iter().zip(&cols) {
            let a = to_array(col);
            fields.push(Field::new(name, a.data_type().clone(), true));
            arrays.push(a);
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
        let action = if create { Action::Create } else { Action::Index };
        let mut encoder = BulkEncoder::new(EncodeConfig {
            action, max_chunk_bytes, max_chunk_docs, default_index: None,
        }).unwrap();
        let out = encoder.encode(&batch, first_record).unwrap();
        let mut chunks: Vec<BulkChunk> = out.chunks;
        chunks.extend(encoder.finish());
        let rejected: Vec<u64> = out.rejected.iter().map(|r| r.record).collect();

        let mut seen: Vec<u64> = Vec::new();
        for chunk in &chunks {
            prop_assert!(chunk.body.len() <= max_chunk_bytes);
            prop_assert!(chunk.n_docs() >= 1 && chunk.n_docs() <= max_chunk_docs);
            prop_assert_eq!(chunk.ids.len(), chunk.n_docs());
            let text = std::str::from_utf8(&chunk.body).unwrap();
            prop_assert!(text.ends_with('\n'));
            let lines: Vec<&str> = text.split_terminator('\n').collect();
            prop_assert_eq!(lines.len(), 2 * chunk.n_docs());
            let mut indices = Vec::new();
            for (i, pair) in lines.chunks(2).enumerate() {
                let record = chunk.first_record + i as u64;
                let row = (record - first_record) as usize;
                seen.push(record);
                let doc_bytes = chunk.doc(i).unwrap();
                let expected_doc = format!("{}\n{}\n", pair[0], pair[1]);
                prop_assert_eq!(doc_bytes, expected_doc.as_bytes());
                let action_line: Value = serde_json::from_str(pair[0]).unwrap();
                let meta = action_line.get(action.name()).unwrap();
                let id = format!("id-{row}");
                let index = format!("idx-{}", row % 3);
                prop_assert_eq!(meta["_id"].as_str().unwrap(), id.as_str());
                prop_assert_eq!(meta["_index"].as_str().unwrap(), index.as_str());
                prop_assert_eq!(chunk.ids.get(i).unwrap(), id.as_str());
                if !indices.contains(&index) {
                    indices.push(index);
                }
                let doc: Value = serde_json::from_str(pair[1]).unwrap();
                doc.as_object().unwrap().values().for_each(no_empty_objects);
                let map = doc.as_object().unwrap();
                for (name, col) in names.iter().zip(&cols) {
                    check_value(col, row, lookup(map, name));
                }
            }
            prop_assert_eq!(&chunk.index_names, &indices);
        }
        seen.extend(rejected);
        seen.sort_unstable();
        let all: Vec<u64> = (first_record..first_record + rows as u64).collect();
        prop_assert_eq!(seen, all);
    }
}

/// Bodies split at the limits exactly, and a document larger than a body is rejected with
/// its record number instead of breaking the limit.
#[test]
fn oversized_documents_are_rejected_not_sent() {
    let big = "x".repeat(3000);
    let values = vec![
        Some("small".to_owned()),
        Some(big),
        Some("small".to_owned()),
    ];
    let schema = Schema::new(vec![
        Field::new(INDEX_COLUMN, arrow_schema::DataType::Utf8, false),
        Field::new("msg", arrow_schema::DataType::Utf8, true),
    ]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec!["i"; 3])),
            Arc::new(StringArray::from(values)),
        ],
    )
    .unwrap();
    let mut encoder = BulkEncoder::new(EncodeConfig {
        max_chunk_bytes: 1024,
        ..EncodeConfig::default()
    })
    .unwrap();
    let out = encoder.encode(&batch, 10).unwrap();
    let mut chunks = out.chunks;
    chunks.extend(encoder.finish());
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].record, 11);
    assert_eq!(
        chunks
            .iter()
            .map(|c| (c.first_record, c.n_docs()))
            .collect::<Vec<_>>(),
        vec![(10, 1), (12, 1)]
    );
    let body = String::from_utf8(chunks[0].body.clone()).unwrap();
    assert_eq!(
        body,
        "{\"create\":{\"_index\":\"i\"}}\n{\"msg\":\"small\"}\n"
    );
}
