//! Golden ECS output: real records (tests/fixtures/ecs/, see tests/fixtures/README.md for
//! their origin) through the fused processor must give exactly the documents checked in under
//! tests/fixtures/golden/. Regenerate after an intended change with
//! `RECALL_UPDATE_GOLDEN=1 cargo test -p recall-core --test golden_ecs` and review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use recall_core::process::{ProcessConfig, ZeekProcessor};
use serde_json::{json, Value};

/// 2024-01-01T00:00:00Z: a fixed `event.ingested` so the output is reproducible.
const INGESTED_NS: i64 = 1_704_067_200_000_000_000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Process a fixture file and return `[{"action": .., "source": ..}, ...]`.
fn documents(name: &str) -> Value {
    let data = std::fs::read(fixtures().join("ecs").join(name)).unwrap();
    let mut config = ProcessConfig::new("acme", "fixtures", &format!("acme/sensor-1/{name}"), "v1");
    config.normalize.sensor = Some("sensor-1".to_owned());
    config.normalize.ingested_ns = Some(INGESTED_NS);
    let mut processor = ZeekProcessor::new(config).unwrap();
    let mut chunks = processor.feed(&data).unwrap();
    chunks.extend(processor.finish().unwrap());
    assert_eq!(
        processor.stats().decode.quarantined,
        0,
        "{name}: fixture lines must all decode"
    );
    let mut docs = Vec::new();
    for chunk in chunks {
        let text = String::from_utf8(chunk.chunk.body).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.chunks(2) {
            let action: Value = serde_json::from_str(pair[0]).unwrap();
            let source: Value = serde_json::from_str(pair[1]).unwrap();
            docs.push(json!({"action": action, "source": source}));
        }
    }
    Value::Array(docs)
}

fn check(name: &str) {
    let got = documents(name);
    let golden = fixtures().join("golden").join(format!("{name}.json"));
    if std::env::var_os("RECALL_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        return;
    }
    let want: Value = serde_json::from_str(&std::fs::read_to_string(&golden).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with RECALL_UPDATE_GOLDEN=1)",
            golden.display()
        )
    }))
    .unwrap();
    if got != want {
        let (g, w) = (got.as_array().unwrap(), want.as_array().unwrap());
        assert_eq!(g.len(), w.len(), "{name}: document count");
        for (i, (g, w)) in g.iter().zip(w).enumerate() {
            assert_eq!(g, w, "{name}: document {i} differs");
        }
    }
}

#[test]
fn conn_wrccdc() {
    check("conn.wrccdc.log");
}

#[test]
fn conn_zat_bro22() {
    check("conn.zat.log");
}

#[test]
fn dns_wrccdc_tsv() {
    check("dns.wrccdc.log");
}

#[test]
fn dns_wrccdc_json() {
    check("dns.wrccdc.json");
}

#[test]
fn http_zat() {
    check("http.zat.log");
}

#[test]
fn ssl_wrccdc() {
    check("ssl.wrccdc.log");
}

#[test]
fn files_zat() {
    check("files.zat.log");
}

/// The TSV and JSON copies of the same DNS records give the same ECS fields (the JSON's
/// doubles carry more digits than TSV's 6 decimals, so only fields outside rtt are compared).
#[test]
fn tsv_and_json_agree_on_ecs_fields() {
    let tsv = documents("dns.wrccdc.log");
    let json_docs = documents("dns.wrccdc.json");
    let first = |v: &Value| v[0]["source"].clone();
    let (t, j) = (first(&tsv), first(&json_docs));
    for key in ["source", "destination", "dns", "network", "@timestamp"] {
        assert_eq!(t[key], j[key], "{key}");
    }
    assert_eq!(j["event"]["created"], "2018-03-24T17:15:20.866586Z");
}
