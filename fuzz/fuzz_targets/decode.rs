//! Fuzz the push decoder: arbitrary bytes, split at fuzzer-chosen points, in every format and
//! compression mode. Invariants checked on every input (a violation aborts the fuzzer):
//! no panic, counts reconcile, records are numbered consecutively, and the output does not
//! depend on how the input was split.
#![no_main]

use arrow_array::RecordBatch;
use libfuzzer_sys::fuzz_target;
use recall_core::decode::{Compression, DecodeStats, DecoderOptions, Format, ZeekDecoder};

/// Batches (with their place in the input), stats, and whether the decode failed. Batches
/// compare by Arrow equality (schema metadata order-insensitive, values bit for bit).
type Outcome = (
    Vec<(Option<String>, u64, u64, RecordBatch)>,
    DecodeStats,
    bool,
);

fn run(data: &[u8], cuts: &[usize], options: &DecoderOptions) -> Outcome {
    let Ok(mut decoder) = ZeekDecoder::new(options.clone()) else {
        return (Vec::new(), DecodeStats::default(), true);
    };
    let mut failed = false;
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&data.len())) {
        if decoder.decode(&data[start..end]).is_err() {
            failed = true;
            break;
        }
        start = end;
    }
    if !failed {
        failed = decoder.finish().is_err();
    }
    let stats = DecodeStats {
        bytes_in: 0,
        ..*decoder.stats()
    };
    assert_eq!(
        stats.lines,
        stats.records + stats.quarantined + stats.header_lines
    );
    let batches = decoder.take_batches();
    let mut next = 0;
    for b in &batches {
        assert_eq!(b.first_record, next, "records numbered consecutively");
        next += b.batch.num_rows() as u64;
    }
    assert_eq!(next, stats.records);
    let summary = batches
        .iter()
        .map(|b| {
            (
                b.log_type.clone(),
                b.first_record,
                b.first_line,
                b.batch.clone(),
            )
        })
        .collect();
    (summary, stats, failed)
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    let format = match control & 3 {
        0 => Format::Auto,
        1 => Format::Tsv,
        _ => Format::Json,
    };
    let compression = match (control >> 2) & 3 {
        0 => Compression::Auto,
        1 => Compression::None,
        2 => Compression::Gzip,
        _ => Compression::Zstd,
    };
    let options = DecoderOptions {
        format,
        compression,
        batch_rows: usize::from(control >> 4) + 1,
        max_line_bytes: 512,
        max_decompressed_bytes: Some(1 << 22),
        ..DecoderOptions::default()
    };
    let whole = run(data, &[], &options);
    let step = usize::from(control % 7) + 1;
    let cuts: Vec<usize> = (step..data.len()).step_by(step).collect();
    let split = run(data, &cuts, &options);
    // Where a codec notices corruption can depend on the split; everything else must not.
    if !whole.2 && !split.2 {
        assert_eq!(whole, split, "output depends on chunking");
    }
});
