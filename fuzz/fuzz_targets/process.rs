//! Fuzz the fused processor (decode -> normalise -> encode) with raw bytes fed in pieces. The
//! input layout is the `decode` target's (a control byte, then the data), so its corpus seeds
//! this one. Invariants: no panic; every body passes the `recall_fuzz` checks (NDJSON pairs,
//! limits, duplicate-free objects, indices of the tenant and of the body's log type only);
//! counters reconcile (documents + rejected = records on success); every record is sent or
//! rejected exactly once; document ids are unique.
#![no_main]

use std::collections::{BTreeSet, HashSet};

use libfuzzer_sys::fuzz_target;
use recall_core::decode::{Compression, Format};
use recall_core::encode::EncodeConfig;
use recall_core::process::{ProcessConfig, ZeekProcessor};
use recall_fuzz::{check_chunk, Expect};

const KEYS: &[&str] = &[
    "s/conn.log",
    "s/dns.log.gz",
    "http.json",
    "noext",
    "ssl.log.zst",
];

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    let mut config = ProcessConfig::new(
        "acme",
        "bucket",
        KEYS[usize::from(control >> 5) % KEYS.len()],
        "v1",
    );
    config.decoder.format = match control & 3 {
        0 => Format::Auto,
        1 => Format::Tsv,
        _ => Format::Json,
    };
    config.decoder.compression = match (control >> 2) & 3 {
        0 => Compression::Auto,
        1 => Compression::None,
        2 => Compression::Gzip,
        _ => Compression::Zstd,
    };
    config.decoder.batch_rows = usize::from(control >> 4) + 1;
    config.decoder.max_line_bytes = 1024;
    config.decoder.max_decompressed_bytes = Some(1 << 22);
    config.normalize.ingested_ns = Some(1_700_000_000_000_000_000);
    config.encode = EncodeConfig {
        max_chunk_bytes: 1024 + usize::from(control) * 16,
        max_chunk_docs: usize::from(control % 9) + 1,
        ..EncodeConfig::default()
    };
    config.first_record = u64::from(control % 3) * 1000;
    let first_record = config.first_record;
    let encode = config.encode.clone();
    let Ok(mut processor) = ZeekProcessor::new(config) else {
        return;
    };
    let mut chunks = Vec::new();
    let step = usize::from(control % 13) + 1;
    let mut failed = false;
    for piece in data.chunks(step) {
        match processor.feed(piece) {
            Ok(out) => chunks.extend(out),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    if failed {
        chunks.extend(processor.drain());
    } else {
        match processor.finish() {
            Ok(out) => chunks.extend(out),
            Err(_) => {
                failed = true;
                chunks.extend(processor.drain());
            }
        }
    }
    let rejected = processor.take_rejected();
    let stats = processor.stats();
    let mut records = BTreeSet::new();
    let mut ids = HashSet::new();
    let mut documents = 0u64;
    for c in &chunks {
        let prefix = format!("recall-acme-zeek.{}-", c.log_type);
        for id in check_chunk(
            &c.chunk,
            &Expect {
                config: &encode,
                index_prefix: Some(&prefix),
            },
        ) {
            assert!(!id.is_empty(), "document without id");
            assert!(ids.insert(id), "duplicate document id");
        }
        documents += c.chunk.n_docs() as u64;
        for r in c.chunk.row_start()..c.chunk.row_end() {
            assert!(records.insert(r), "record {r} sent twice");
        }
    }
    for r in &rejected {
        assert!(
            records.insert(r.record),
            "record {} sent and rejected",
            r.record
        );
    }
    assert_eq!(stats.documents, documents, "documents counter");
    assert_eq!(stats.rejected, rejected.len() as u64, "rejected counter");
    assert_eq!(stats.chunks, chunks.len() as u64, "chunks counter");
    if !failed {
        let all: BTreeSet<u64> = (first_record..first_record + stats.decode.records).collect();
        assert_eq!(records, all, "records lost or invented");
    }
});
