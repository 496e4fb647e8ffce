//! Fuzz the normaliser (and the encoder behind it) with structure-aware Arrow batches: Zeek
//! field names of the mapped log types with any column type (ports as `Int64` out of range,
//! `ts` as text, addresses that are not addresses), junk names, adversarial tenants, log types
//! and index patterns. Invariants: no panic; a refused configuration never yields a
//! normaliser; every normalised batch keeps its rows and record numbers and carries `_id` and
//! `_index`; every document id is unique within the object; every encoded action line names a
//! valid index of this tenant only; bodies pass the `recall_fuzz` checks.
#![no_main]

use std::collections::{BTreeSet, HashSet};

use arbitrary::Unstructured;
use arrow_array::cast::AsArray;
use arrow_array::Array;
use libfuzzer_sys::fuzz_target;
use recall_core::encode::{BulkEncoder, EncodeConfig};
use recall_core::normalize::{NormalizeConfig, Normalizer, ID_COLUMN, INDEX_COLUMN};
use recall_fuzz::{batch, check_output, string, time, Expect, LOG_TYPES, ZEEK_NAMES};

const TENANTS: &[&str] = &[
    "acme", "t1", "a-b", "Acme", "", "..", "a/b", "a*", "a,b", "_all", "-x", "_x", "аcme", "a b",
];
const PATTERNS: &[&str] = &[
    "recall-<tenant>-zeek.<logtype>-<yyyy.MM.dd>",
    "logs-<tenant>-<logtype>",
    "<tenant>-zeek-<yyyy.MM>",
    "recall-<logtype>",
    "recall-<tenant>-<nope>",
    "Recall-<tenant>",
    "recall-<tenant>-<logtype>*",
];
const BAD_LOG_TYPES: &[&str] = &["Conn", "a/b", "", "*", "_all", "c,d", "conn "];

fn log_type<'a>(u: &mut Unstructured<'a>) -> arbitrary::Result<Option<&'static str>> {
    Ok(match u.int_in_range(0u8..=5)? {
        0 => None,
        1 => Some(*u.choose(BAD_LOG_TYPES)?),
        _ => Some(*u.choose(LOG_TYPES)?),
    })
}

fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let tenant = if u.ratio(1, 16)? {
        "x".repeat(u.int_in_range(60..=300)?)
    } else {
        (*u.choose(TENANTS)?).to_owned()
    };
    let pattern = *u.choose(PATTERNS)?;
    let mut config = NormalizeConfig::new(&tenant, "bucket", "sensor/conn.log.gz", "v1");
    config.index_pattern = pattern.to_owned();
    config.sensor = if u.arbitrary()? {
        Some(string(u)?)
    } else {
        None
    };
    config.community_id_seed = u.arbitrary()?;
    config.ingested_ns = Some(time(u)?);
    config.fallback_timestamp_ns = if u.arbitrary()? { Some(time(u)?) } else { None };
    config.log_type = log_type(u)?.map(str::to_owned);
    let Ok(mut normalizer) = Normalizer::new(&config) else {
        return Ok(());
    };
    // Accepted: the tenant is valid, so it must be the one every index is built from.
    assert!(!tenant.is_empty() && !tenant.contains(['/', '*', ',', ' ']) && tenant != "_all");
    let prefix = match pattern.split_once("<tenant>") {
        Some((head, _)) => format!("{head}{tenant}-"),
        None => panic!("a pattern without <tenant> was accepted: {pattern}"),
    };
    let encode = EncodeConfig {
        max_chunk_bytes: u.int_in_range(1024..=16384)?,
        max_chunk_docs: u.int_in_range(1..=16)?,
        ..EncodeConfig::default()
    };
    let Ok(mut encoder) = BulkEncoder::new(encode.clone()) else {
        panic!("valid encoder config refused");
    };
    let mut chunks = Vec::new();
    let mut rejected = Vec::new();
    let mut expected = BTreeSet::new();
    let mut ids = HashSet::new();
    let mut first: u64 = 0;
    for _ in 0..u.int_in_range(1..=3)? {
        let input = batch(u, ZEEK_NAMES, 24, |_, _| Ok(Vec::new()))?;
        let lt = log_type(u)?;
        let rows = input.num_rows();
        if let Ok(out) = normalizer.normalize(&input, lt, first) {
            assert_eq!(out.batch.num_rows(), rows);
            assert_eq!(out.first_record, first);
            let schema = out.batch.schema();
            let (Ok(id_i), Ok(index_i)) =
                (schema.index_of(ID_COLUMN), schema.index_of(INDEX_COLUMN))
            else {
                panic!("normalised batch without _id/_index");
            };
            let id_col = out.batch.column(id_i);
            let index_col = out.batch.column(index_i);
            assert_eq!(id_col.null_count(), 0, "every document has an id");
            assert_eq!(index_col.null_count(), 0, "every document has an index");
            if let Some(ids_str) = id_col.as_string_opt::<i32>() {
                for id in ids_str.iter().flatten() {
                    assert!(!id.is_empty() && id.len() <= 512, "bad id {id:?}");
                    assert!(ids.insert(id.to_owned()), "duplicate id {id:?}");
                }
            }
            match encoder.encode(&out.batch, first) {
                Ok(enc) => {
                    expected.extend(first..first + rows as u64);
                    chunks.extend(enc.chunks);
                    rejected.extend(enc.rejected);
                }
                Err(e) => panic!("the encoder refused a normalised batch: {e}"),
            }
        }
        first += rows as u64;
    }
    chunks.extend(encoder.finish());
    let sent = check_output(
        &chunks,
        &rejected,
        &expected,
        &Expect {
            config: &encode,
            index_prefix: Some(&prefix),
        },
    );
    for id in &sent {
        assert!(
            ids.contains(id),
            "encoded id {id:?} not from the normaliser"
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
