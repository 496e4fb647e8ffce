//! Regression tests for inputs the cargo-fuzz targets (`fuzz/`) found. Each test names its
//! target and the failure; the crashing input itself is kept under
//! `fuzz/regressions/<target>/` so `cargo fuzz run <target> <file>` replays it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use recall_core::encode::{BulkEncoder, EncodeConfig};

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, c)| c).collect(),
    )
    .unwrap()
}

/// `encode` target: a dictionary column whose every value is null has an empty values
/// array; the encoder asked Arrow for normalised keys, which asserts on an empty dictionary
/// (a panic on the data path). Such a column must encode as absent.
#[test]
fn encoder_all_null_dictionary_column_is_absent() {
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    dict.append_null();
    dict.append_null();
    let b = batch(vec![
        ("a", Arc::new(dict.finish()) as ArrayRef),
        ("b", Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef),
        (
            "_index",
            Arc::new(StringArray::from(vec!["i", "i"])) as ArrayRef,
        ),
    ]);
    let config = EncodeConfig::default();
    let action = config.action.name();
    let mut encoder = BulkEncoder::new(config).unwrap();
    let out = encoder.encode(&b, 0).unwrap();
    assert!(out.rejected.is_empty());
    let chunk = out
        .chunks
        .into_iter()
        .chain(encoder.finish())
        .next()
        .unwrap();
    let body = String::from_utf8(chunk.body).unwrap();
    let meta = format!("{{\"{action}\":{{\"_index\":\"i\"}}}}\n");
    assert_eq!(
        body,
        format!("{meta}{{\"b\":\"x\"}}\n{meta}{{\"b\":\"y\"}}\n")
    );
}

/// Same failure with zero rows (an empty dictionary, no keys at all).
#[test]
fn encoder_empty_dictionary_column() {
    let dict = StringDictionaryBuilder::<Int32Type>::new().finish();
    let b = batch(vec![("a", Arc::new(dict) as ArrayRef)]);
    let mut encoder = BulkEncoder::new(EncodeConfig::default()).unwrap();
    let out = encoder.encode(&b, 0).unwrap();
    assert!(out.chunks.is_empty() && out.rejected.is_empty());
    assert!(encoder.finish().is_none());
}
