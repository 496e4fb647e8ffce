//! Property tests: any chunking gives identical output; any corruption never panics and the
//! counts always reconcile.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::many_single_char_names,
    clippy::items_after_statements,
    missing_docs
)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use recall_core::decode::{DecodeStats, DecoderOptions, ZeekDecoder};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/zeek")
        .join(name);
    std::fs::read(path).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Inputs: every fixture plain, some gzipped (two members) and zstd-compressed.
fn inputs() -> &'static Vec<Vec<u8>> {
    static INPUTS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let names = [
            "edge_cases.log",
            "custom_separator.log",
            "double_bar.log",
            "multi_block.log",
            "meta_prefix.log",
            "bad_lines.log",
            "edge_cases.json",
            "mixed_paths.json",
        ];
        let mut all: Vec<Vec<u8>> = names.iter().map(|n| fixture(n)).collect();
        let mut two_members = gzip(&fixture("multi_block.log"));
        two_members.extend(gzip(&fixture("edge_cases.log")));
        all.push(two_members);
        all.push(zstd::encode_all(&fixture("edge_cases.json")[..], 1).unwrap());
        all.push(gzip(&fixture("bad_lines.log")));
        all
    })
}

/// Everything observable about one decode.
#[derive(Debug, PartialEq)]
struct Outcome {
    batches: Vec<(Option<String>, u64, u64, arrow_array::RecordBatch)>,
    quarantine: Vec<(u64, u64, String, Vec<u8>)>,
    stats: DecodeStats,
    error: Option<String>,
}

fn run(input: &[u8], cuts: &[usize], batch_rows: usize) -> Outcome {
    let options = DecoderOptions {
        batch_rows,
        max_line_bytes: 300,
        ..DecoderOptions::default()
    };
    let mut decoder = ZeekDecoder::new(options).unwrap();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut error = None;
    let mut start = 0;
    for end in points.into_iter().chain([input.len()]) {
        if let Err(err) = decoder.decode(&input[start..end]) {
            error = Some(error_kind(&err));
            break;
        }
        start = end;
    }
    if error.is_none() {
        if let Err(err) = decoder.finish() {
            error = Some(error_kind(&err));
        }
    }
    // bytes_in depends on how much input was offered before a failure; all else must not.
    let stats = DecodeStats {
        bytes_in: 0,
        ..*decoder.stats()
    };
    let batches = decoder
        .take_batches()
        .into_iter()
        .map(|b| (b.log_type, b.first_record, b.first_line, b.batch))
        .collect();
    let quarantine = decoder
        .take_quarantine()
        .into_iter()
        .map(|q| (q.line, q.offset, q.reason, q.raw))
        .collect();
    Outcome {
        batches,
        quarantine,
        stats,
        error,
    }
}

/// The error without its offset: where a codec notices corruption depends on how much input
/// it was given at once (documented: the offset is where the failure was detected).
fn error_kind(err: &recall_core::RecallError) -> String {
    let text = err.to_string();
    text.split(" at ").next().unwrap_or_default().to_owned()
}

fn reconciles(o: &Outcome) {
    let s = o.stats;
    assert_eq!(s.lines, s.records + s.quarantined + s.header_lines, "{s:?}");
    let rows: usize = o.batches.iter().map(|b| b.3.num_rows()).sum();
    assert_eq!(rows as u64, s.records);
    let mut next = 0;
    for b in &o.batches {
        assert_eq!(b.1, next, "records are numbered consecutively");
        next += b.3.num_rows() as u64;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_chunking_gives_identical_output(
        which in 0usize..11,
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
        batch_rows in 1usize..5,
    ) {
        let input = &inputs()[which % inputs().len()];
        let whole = run(input, &[], batch_rows);
        let split = run(input, &cuts, batch_rows);
        reconciles(&whole);
        prop_assert_eq!(&whole, &split);
        let bytes: Vec<usize> = (1..input.len()).collect();
        let byte_by_byte = run(input, &bytes, batch_rows);
        prop_assert_eq!(&whole, &byte_by_byte);
    }

    #[test]
    fn corruption_never_panics_and_counts_reconcile(
        which in 0usize..11,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..20),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let mut input = inputs()[which % inputs().len()].clone();
        for (pos, byte, op) in edits {
            let at = pos % (input.len() + 1);
            match op {
                0 if at < input.len() => input[at] = byte,
                1 => input.insert(at, byte),
                _ if at < input.len() => { input.remove(at); }
                _ => {}
            }
        }
        let whole = run(&input, &[], 3);
        reconciles(&whole);
        let split = run(&input, &cuts, 3);
        reconciles(&split);
        prop_assert_eq!(&whole, &split);
    }

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2000), cuts in proptest::collection::vec(any::<usize>(), 0..5)) {
        let o = run(&data, &cuts, 2);
        reconciles(&o);
    }
}
