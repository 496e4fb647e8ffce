//! Measurements behind two decode choices (run: `cargo bench -p recall-core --bench decode`,
//! release profile; reads the real logs in `shared/data/zeek`):
//!
//! 1. Inflate backend: `flate2` on `zlib-rs` (streaming, what the decoder uses) against
//!    `miniz_oxide` (streaming, flate2's default backend) and libdeflate (fastest, but whole
//!    buffers only: no streaming API, so it cannot keep memory bounded on one-member files).
//! 2. JSON: the decoder's own scanner (flat Zeek objects straight into Arrow builders) against
//!    a generic DOM parse with `serde_json` (parse only, no Arrow), the question being whether
//!    a faster general parser would pay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::many_single_char_names,
    clippy::items_after_statements,
    missing_docs
)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use recall_core::decode::{DecoderOptions, ZeekDecoder};

fn data_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("RECALL_ZEEK_DATA") {
        return PathBuf::from(dir);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for candidate in [
        repo.join("../shared/data/zeek"),
        PathBuf::from("/work/shared/data/zeek"),
    ] {
        if candidate.join("README.md").exists() {
            return candidate;
        }
    }
    panic!("set RECALL_ZEEK_DATA to shared/data/zeek");
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn corpus(dir: &Path, kind: &str, names: &[&str]) -> Vec<u8> {
    let mut files: Vec<PathBuf> = walk(&dir.join(kind))
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            names.iter().any(|n| name.starts_with(n))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    while out.len() < 50 << 20 {
        for f in &files {
            out.extend(gunzip(f));
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Best of `n` runs, in MB/s of `bytes`.
fn best(n: usize, bytes: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..n {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed().as_secs_f64());
    }
    bytes as f64 / best / 1e6
}

fn decode_all(input: &[u8]) -> u64 {
    let mut decoder = ZeekDecoder::new(DecoderOptions::default()).unwrap();
    for chunk in input.chunks(4 << 20) {
        decoder.decode(chunk).unwrap();
        decoder.take_batches();
    }
    decoder.finish().unwrap();
    decoder.stats().records
}

/// Rounds of `tsv-plain`: `RECALL_BENCH_ROUNDS=1` for instruction counts under
/// `valgrind --tool=callgrind` (stable on a noisy machine, unlike times).
fn rounds() -> usize {
    std::env::var("RECALL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10)
}

/// `RECALL_BENCH_ONLY=inflate|tsv|json` runs one part (for profiling).
fn wanted(part: &str) -> bool {
    std::env::var("RECALL_BENCH_ONLY").map_or(true, |only| only == part)
}

fn main() {
    let dir = data_dir();
    let tsv = corpus(&dir, "tsv", &["conn", "dns", "http"]);
    if std::env::var("RECALL_BENCH_ONLY").as_deref() == Ok("corpus") {
        return; // for subtracting corpus preparation from a CPU-time profile
    }
    if std::env::var("RECALL_BENCH_ONLY").as_deref() == Ok("tsv-plain") {
        let plain = best(rounds(), tsv.len(), || {
            decode_all(&tsv);
        });
        eprintln!("ZeekDecoder TSV -> Arrow: plain {plain:.0} MB/s");
        return;
    }
    let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    raw.write_all(&tsv).unwrap();
    let raw = raw.finish().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(&tsv).unwrap();
    let gz = gz.finish().unwrap();
    let n = tsv.len();
    eprintln!(
        "TSV corpus: {:.1} MB uncompressed, {:.1} MB deflated",
        n as f64 / 1e6,
        raw.len() as f64 / 1e6
    );

    let mut out = vec![0u8; 256 * 1024];
    if wanted("inflate") {
        let zlib_rs = best(5, n, || {
            let mut inflate = flate2::Decompress::new(false);
            let mut produced;
            loop {
                let before = inflate.total_in() as usize;
                let status = inflate
                    .decompress(&raw[before..], &mut out, flate2::FlushDecompress::None)
                    .unwrap();
                produced = inflate.total_out();
                if status == flate2::Status::StreamEnd {
                    break;
                }
            }
            assert_eq!(produced as usize, n);
        });
        let miniz = best(5, n, || {
            let mut state =
                miniz_oxide::inflate::stream::InflateState::new_boxed(miniz_oxide::DataFormat::Raw);
            let mut input = &raw[..];
            let mut produced = 0usize;
            loop {
                let r = miniz_oxide::inflate::stream::inflate(
                    &mut state,
                    input,
                    &mut out,
                    miniz_oxide::MZFlush::None,
                );
                input = &input[r.bytes_consumed..];
                produced += r.bytes_written;
                if r.status == Ok(miniz_oxide::MZStatus::StreamEnd) {
                    break;
                }
                r.status.unwrap();
            }
            assert_eq!(produced, n);
        });
        let mut whole = vec![0u8; n];
        let libdeflate = best(5, n, || {
            let mut d = libdeflater::Decompressor::new();
            let written = d.deflate_decompress(&raw, &mut whole).unwrap();
            assert_eq!(written, n);
        });
        eprintln!("inflate, MB/s of output: zlib-rs (streaming) {zlib_rs:.0}, miniz_oxide (streaming) {miniz:.0}, libdeflate (whole buffer) {libdeflate:.0}");
    }
    if wanted("tsv") {
        let plain = best(3, n, || {
            decode_all(&tsv);
        });
        let gzipped = best(3, n, || {
            decode_all(&gz);
        });
        eprintln!("ZeekDecoder TSV -> Arrow: plain {plain:.0} MB/s, gzip {gzipped:.0} MB/s (of uncompressed bytes)");
    }
    if !wanted("json") {
        return;
    }

    let json = corpus(&dir, "json", &["dns", "conn", "http"]);
    let m = json.len();
    let ours = best(3, m, || {
        decode_all(&json);
    });
    let serde = best(3, m, || {
        let mut count = 0usize;
        for line in json.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let value: serde_json::Value = serde_json::from_slice(line).unwrap();
            count += usize::from(value.is_object());
        }
        assert!(count > 0);
    });
    eprintln!(
        "JSON ({:.1} MB): ZeekDecoder -> typed Arrow {ours:.0} MB/s; serde_json DOM parse only {serde:.0} MB/s",
        m as f64 / 1e6
    );
}
