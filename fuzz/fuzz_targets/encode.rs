//! Fuzz the bulk encoder with structure-aware Arrow batches: fuzzer-chosen dotted column names
//! (nesting conflicts, empty segments, duplicates), every column type the encoder supports,
//! nulls, hostile strings, NaN/infinite floats, out-of-range times, optional `_id`/`_index`
//! columns, tiny body limits and gaps between batches. Invariants (see `recall_fuzz`): no
//! panic; every body is NDJSON with an action line and a duplicate-free source object per
//! document, within `max_chunk_bytes`/`max_chunk_docs`; each record is sent or rejected
//! exactly once.
#![no_main]

use std::collections::BTreeSet;
use std::sync::Arc;

use arbitrary::Unstructured;
use arrow_array::builder::StringBuilder;
use arrow_array::ArrayRef;
use libfuzzer_sys::fuzz_target;
use recall_core::encode::{Action, BulkEncoder, EncodeConfig};
use recall_fuzz::{batch, check_output, string, Expect};

const NAMES: &[&str] = &[
    "@timestamp",
    "source.ip",
    "source.port",
    "destination.ip",
    "a",
    "a.b",
    "a.b.c",
    "a.c",
    "b",
    "zeek.conn.id.orig_h",
    "zeek.conn.id",
    "x.y.z.w.v",
    "labels.sensor",
    "",
    ".a",
    "a.",
];

const INDICES: &[&str] = &[
    "recall-acme-zeek.conn-2024.01.01",
    "recall-acme-zeek.dns-2024.01.02",
    "logs",
    "a",
];

fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let config = EncodeConfig {
        action: if u.arbitrary()? {
            Action::Create
        } else {
            Action::Index
        },
        max_chunk_bytes: u.int_in_range(1024..=6144)?,
        max_chunk_docs: u.int_in_range(1..=12)?,
        default_index: match u.int_in_range(0u8..=2)? {
            0 => None,
            1 => Some("fallback".to_owned()),
            _ => Some("Bad,Index".to_owned()),
        },
    };
    let Ok(mut encoder) = BulkEncoder::new(config.clone()) else {
        assert!(
            config.default_index.as_deref() == Some("Bad,Index"),
            "valid config refused"
        );
        return Ok(());
    };
    let mut chunks = Vec::new();
    let mut rejected = Vec::new();
    let mut expected = BTreeSet::new();
    let mut next_record: u64 = u.int_in_range(0..=3)?;
    for _ in 0..u.int_in_range(1..=4)? {
        let b = batch(u, NAMES, 24, |u, rows| {
            let mut extra: Vec<(String, ArrayRef)> = Vec::new();
            if u.ratio(3, 4)? {
                let mut ids = StringBuilder::new();
                for _ in 0..rows {
                    if u.ratio(1, 8)? {
                        ids.append_null();
                    } else {
                        ids.append_value(string(u)?);
                    }
                }
                extra.push(("_id".to_owned(), Arc::new(ids.finish())));
            }
            if u.ratio(3, 4)? {
                let mut idx = StringBuilder::new();
                for _ in 0..rows {
                    if u.ratio(1, 8)? {
                        idx.append_null();
                    } else {
                        idx.append_value(*u.choose(INDICES)?);
                    }
                }
                extra.push(("_index".to_owned(), Arc::new(idx.finish())));
            }
            Ok(extra)
        })?;
        let first = next_record;
        next_record += b.num_rows() as u64 + u64::from(u.int_in_range(0u8..=2)?);
        if let Ok(out) = encoder.encode(&b, first) {
            expected.extend(first..first + b.num_rows() as u64);
            chunks.extend(out.chunks);
            rejected.extend(out.rejected);
        }
        if u.ratio(1, 4)? {
            if let Some(c) = chunks.last() {
                encoder.recycle(c.body.clone());
            }
        }
    }
    chunks.extend(encoder.finish());
    check_output(
        &chunks,
        &rejected,
        &expected,
        &Expect {
            config: &config,
            index_prefix: None,
        },
    );
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
