//! Edge cases from the Zeek ASCII/JSON writer documentation, over the hand-written fixtures in
//! `tests/fixtures/zeek/` (shared with the Python tests).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::many_single_char_names,
    clippy::items_after_statements,
    missing_docs
)]

use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    DurationNanosecondType, Float64Type, Int64Type, TimestampNanosecondType, UInt16Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use recall_core::decode::{
    DecodeStats, DecodedBatch, DecoderOptions, JsonTime, QuarantineEntry, QuarantineKind,
    ZeekDecoder,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/zeek")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Decoded {
    batches: Vec<DecodedBatch>,
    stats: DecodeStats,
    quarantine: Vec<QuarantineEntry>,
}

fn decode(bytes: &[u8], options: DecoderOptions, chunk: usize) -> Decoded {
    let mut decoder = ZeekDecoder::new(options).unwrap();
    for piece in bytes.chunks(chunk.max(1)) {
        decoder.decode(piece).unwrap();
    }
    decoder.finish().unwrap();
    let stats = *decoder.stats();
    assert_eq!(
        stats.lines,
        stats.records + stats.quarantined + stats.header_lines,
        "counts reconcile"
    );
    Decoded {
        batches: decoder.take_batches(),
        stats,
        quarantine: decoder.take_quarantine(),
    }
}

fn one(bytes: &[u8], options: DecoderOptions) -> (RecordBatch, Decoded) {
    let d = decode(bytes, options, 1 << 16);
    assert_eq!(d.batches.len(), 1, "one batch expected");
    (d.batches[0].batch.clone(), d)
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    batch
        .column_by_name(name)
        .unwrap()
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

fn list_strings(batch: &RecordBatch, name: &str) -> Vec<Option<Vec<Option<String>>>> {
    let list = batch.column_by_name(name).unwrap().as_list::<i32>();
    (0..list.len())
        .map(|i| {
            list.is_valid(i).then(|| {
                list.value(i)
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::to_owned))
                    .collect()
            })
        })
        .collect()
}

#[test]
fn tsv_edge_cases_from_the_writer_docs() {
    let (batch, d) = one(&fixture("edge_cases.log"), DecoderOptions::default());
    assert!(d.quarantine.is_empty(), "{:?}", d.quarantine);
    assert_eq!(d.batches[0].log_type.as_deref(), Some("edge"));
    assert_eq!(
        batch
            .schema()
            .metadata()
            .get("zeek.path")
            .map(String::as_str),
        Some("edge")
    );
    assert_eq!(d.stats.header_lines, 9);
    let ts = batch
        .column_by_name("ts")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>();
    assert_eq!(
        ts.value(0),
        1_700_000_000_123_456_789,
        "9-decimal time is exact"
    );
    assert_eq!(ts.value(2), 1_700_000_002_500_000_000);
    assert_eq!(ts.value(3), 1_700_000_003_000_000_000);
    let n = batch
        .column_by_name("n")
        .unwrap()
        .as_primitive::<UInt64Type>();
    assert_eq!(n.value(0), u64::MAX);
    assert!(n.is_null(3));
    let d_col = batch
        .column_by_name("d")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(d_col.value(0), f64::INFINITY);
    assert_eq!(d_col.value(1), f64::NEG_INFINITY);
    assert!(d_col.value(2).is_nan());
    assert!(d_col.value(3).is_sign_negative());
    assert_eq!(d_col.value(4), 123_456_789_012_345_678_901_234_567_890.5);
    let flag = batch.column_by_name("flag").unwrap().as_boolean();
    assert!(flag.value(0) && !flag.value(1) && flag.is_null(2));
    assert_eq!(
        strings(&batch, "id.orig_h"),
        vec![
            Some("10.0.0.1".into()),
            Some("2001:db8::1".into()),
            Some("::1".into()),
            None,
            Some("192.168.1.1".into())
        ]
    );
    // Split on the separator before un-escaping; (empty) is the empty set, - is null.
    let names = list_strings(&batch, "names");
    assert_eq!(names[0], Some(vec![Some("a,b".into()), Some("c".into())]));
    assert_eq!(names[1], Some(vec![]));
    assert_eq!(
        names[2],
        Some(vec![Some(String::new()), None, Some("x".into())])
    );
    assert_eq!(names[3], None);
    assert_eq!(
        names[4],
        Some(vec![Some("(empty)".into())]),
        "an escaped marker is a value"
    );
    let ttls = batch.column_by_name("ttls").unwrap().as_list::<i32>();
    let first = ttls.value(0);
    let first = first.as_primitive::<DurationNanosecondType>();
    assert_eq!(first.values().to_vec(), vec![1_000_000_000, 2_500_000_000]);
    let second = ttls.value(1);
    assert!(second.is_null(0), "- inside a vector is a null element");
    assert_eq!(ttls.value(2).len(), 0);
    assert!(ttls.is_null(3));
    // \x2d is the text "-", (empty) is "", invalid UTF-8 and controls stay as \xNN text.
    let note = strings(&batch, "note");
    assert_eq!(note[0].as_deref(), Some("-"));
    assert_eq!(note[1].as_deref(), Some(""));
    assert_eq!(note[2].as_deref(), Some("caf\u{e9} \\xff \\x01 a\\b"));
    assert_eq!(note[3].as_deref(), Some("#not a comment"));
    assert_eq!(note[4].as_deref(), Some("tab\tinside"));
    let p = batch
        .column_by_name("p")
        .unwrap()
        .as_primitive::<UInt16Type>();
    assert_eq!(p.value(3), 65535);
    assert_eq!(strings(&batch, "net")[1].as_deref(), Some("2001:db8::/32"));
    let i = batch
        .column_by_name("i")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(i.value(0), i64::MIN);
    // Unknown type names decode as text with their name kept.
    let z = batch.schema().field_with_name("z").unwrap().clone();
    assert_eq!(z.data_type(), &DataType::Utf8);
    assert_eq!(
        z.metadata().get("zeek.type").map(String::as_str),
        Some("mystery_type")
    );
    assert_eq!(strings(&batch, "z")[2].as_deref(), Some(""));
}

#[test]
fn custom_and_multi_byte_separators() {
    let (batch, d) = one(&fixture("custom_separator.log"), DecoderOptions::default());
    assert!(d.quarantine.is_empty(), "{:?}", d.quarantine);
    assert_eq!(
        strings(&batch, "msg"),
        vec![
            Some("hello|world".into()),
            Some(String::new()),
            Some("-".into())
        ]
    );
    let tags = list_strings(&batch, "tags");
    assert_eq!(tags[0], Some(vec![Some("a".into()), Some("b;c".into())]));
    assert_eq!(tags[1], Some(vec![]));
    assert_eq!(tags[2], None);
    assert_eq!(strings(&batch, "host")[1], None);

    let d = decode(&fixture("double_bar.log"), DecoderOptions::default(), 3);
    assert!(d.quarantine.is_empty());
    assert_eq!(
        strings(&d.batches[0].batch, "msg"),
        vec![Some("one".into()), Some("two|half".into())]
    );
}

#[test]
fn several_header_blocks_make_several_schemas() {
    let d = decode(&fixture("multi_block.log"), DecoderOptions::default(), 7);
    assert!(d.quarantine.is_empty());
    assert_eq!(d.batches.len(), 3);
    let names = |b: &RecordBatch| {
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&d.batches[0].batch), ["ts", "a", "b"]);
    assert_eq!(names(&d.batches[1].batch), ["ts", "c", "b"]);
    assert_eq!(d.batches[1].batch.column(2).data_type(), &DataType::UInt64);
    assert_eq!(d.batches[2].log_type.as_deref(), Some("dns"));
    let firsts: Vec<u64> = d.batches.iter().map(|b| b.first_record).collect();
    assert_eq!(firsts, [0, 2, 3]);
    assert_eq!(d.batches[1].first_line, 20);
}

#[test]
fn headerless_tsv_with_a_given_schema_or_log_type() {
    let schema = vec![
        ("ts".to_owned(), "time".to_owned()),
        ("uid".to_owned(), "string".to_owned()),
        ("host".to_owned(), "addr".to_owned()),
        ("n".to_owned(), "count".to_owned()),
    ];
    let options = DecoderOptions {
        tsv_schema: Some(schema),
        ..DecoderOptions::default()
    };
    let (batch, _) = one(&fixture("headerless.tsv"), options);
    assert_eq!(batch.num_rows(), 2);
    assert!(batch.column_by_name("n").unwrap().is_null(1));

    // Without a schema every line is quarantined, nothing is lost silently.
    let d = decode(&fixture("headerless.tsv"), DecoderOptions::default(), 5);
    assert_eq!(d.stats.quarantined, 2);
    assert!(d
        .quarantine
        .iter()
        .all(|q| q.kind == QuarantineKind::NoSchema));

    // A registry log type gives the default Zeek columns.
    let line = b"1.0\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tudp\t1\t0.1\texample.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t1.2.3.4\t60.000000\tF\n";
    let options = DecoderOptions {
        log_type: Some("dns".into()),
        format: recall_core::decode::Format::Tsv,
        ..DecoderOptions::default()
    };
    let (batch, d) = one(line, options);
    assert!(d.quarantine.is_empty(), "{:?}", d.quarantine);
    assert_eq!(batch.num_columns(), 24);
}

#[test]
fn meta_prefix_is_detected_not_assumed() {
    let d = decode(&fixture("meta_prefix.log"), DecoderOptions::default(), 4);
    assert_eq!(d.batches.len(), 1);
    assert_eq!(d.batches[0].log_type.as_deref(), Some("weird"));
    assert_eq!(d.stats.records, 2);
    assert_eq!(
        d.quarantine.len(),
        1,
        "a line starting with # is data under prefix @"
    );
    assert_eq!(d.quarantine[0].kind, QuarantineKind::FieldCount);
}

#[test]
fn bad_lines_are_quarantined_with_line_offset_and_reason() {
    let bytes = fixture("bad_lines.log");
    let d = decode(&bytes, DecoderOptions::default(), 1);
    assert_eq!(d.stats.records, 2);
    assert_eq!(d.stats.quarantined, 6);
    let kinds: Vec<QuarantineKind> = d.quarantine.iter().map(|q| q.kind).collect();
    use QuarantineKind::{BadValue, FieldCount};
    assert_eq!(
        kinds,
        [FieldCount, FieldCount, BadValue, BadValue, FieldCount, BadValue]
    );
    for q in &d.quarantine {
        let start = usize::try_from(q.offset).unwrap();
        assert!(
            bytes[start..].starts_with(&q.raw),
            "offset points at the raw line"
        );
        assert!(q.line >= 10);
    }
    assert!(
        d.quarantine[2].reason.contains("field n"),
        "{}",
        d.quarantine[2].reason
    );
    // The rows around bad ones are intact (the rollback left nothing behind).
    let batch = &d.batches[0].batch;
    assert_eq!(
        strings(batch, "h"),
        vec![Some("10.0.0.1".into()), Some("10.0.0.7".into())]
    );
}

#[test]
fn overlong_lines_are_quarantined_without_buffering_them() {
    let mut input = b"#fields\tmsg\n#types\tstring\nshort\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 10_000));
    input.extend(b"\nafter\n");
    let options = DecoderOptions {
        max_line_bytes: 100,
        ..DecoderOptions::default()
    };
    let d = decode(&input, options, 33);
    assert_eq!(d.stats.records, 2);
    assert_eq!(d.quarantine.len(), 1);
    assert_eq!(d.quarantine[0].kind, QuarantineKind::LineTooLong);
    assert_eq!(
        d.quarantine[0].raw.len(),
        recall_core::decode::QUARANTINE_RAW_BYTES
    );
}

#[test]
fn json_edge_cases() {
    let d = decode(&fixture("edge_cases.json"), DecoderOptions::default(), 9);
    let reasons: Vec<_> = d.quarantine.iter().map(|q| (q.line, q.kind)).collect();
    use QuarantineKind::{BadValue, InvalidJson};
    assert_eq!(
        reasons,
        [
            (5, BadValue),
            (6, InvalidJson),
            (7, InvalidJson),
            (8, InvalidJson),
            (9, InvalidJson),
            (10, BadValue)
        ]
    );
    assert_eq!(d.stats.records, 3);
    assert_eq!(d.stats.header_lines, 1, "the blank line");
    let batch = &d.batches[0].batch;
    assert_eq!(d.batches[0].log_type.as_deref(), Some("conn"));
    // Registry columns first, in Zeek's order; unknown and bookkeeping keys after.
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        &names[..6],
        [
            "ts",
            "uid",
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p"
        ]
    );
    assert!(names.ends_with(&[
        "_path".into(),
        "extra_num".into(),
        "extra_list".into(),
        "extra_obj".into()
    ]));
    let ts = batch
        .column_by_name("ts")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>();
    assert_eq!(
        ts.values().to_vec(),
        vec![
            1_700_000_000_123_456_000,
            1_700_000_001_000_001_000,
            1_700_000_002_000_000_000
        ]
    );
    assert_eq!(
        strings(batch, "id.resp_h")[0].as_deref(),
        Some("2001:db8::1")
    );
    assert_eq!(strings(batch, "uid")[1].as_deref(), Some("C2\u{e9}\\x01"));
    let bytes = batch
        .column_by_name("orig_bytes")
        .unwrap()
        .as_primitive::<UInt64Type>();
    assert_eq!(bytes.value(0), u64::MAX);
    let extra = batch.schema().field_with_name("extra_num").unwrap().clone();
    assert_eq!(extra.data_type(), &DataType::Float64);
    assert_eq!(
        extra.metadata().get("zeek.inferred").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        strings(batch, "extra_obj")[2].as_deref(),
        Some("{\"k\":[1,2]}")
    );
    assert_eq!(
        list_strings(batch, "tunnel_parents")[1],
        Some(vec![Some("x\"y".into())])
    );
    assert!(batch.column_by_name("service").unwrap().is_null(1));
}

#[test]
fn json_millisecond_timestamps_only_when_asked() {
    let options = DecoderOptions {
        json_time: JsonTime::Millis,
        ..DecoderOptions::default()
    };
    let (batch, _) = one(&fixture("millis.json"), options);
    let ts = batch
        .column_by_name("ts")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>();
    assert_eq!(ts.value(0), 1_700_000_000_123_000_000);
    let ttls = batch.column_by_name("TTLs").unwrap().as_list::<i32>();
    assert_eq!(
        ttls.value(0)
            .as_primitive::<DurationNanosecondType>()
            .value(0),
        1_500_000_000
    );
    // Read as seconds (the default) the same numbers are far beyond year 2262: quarantined.
    let d = decode(&fixture("millis.json"), DecoderOptions::default(), 100);
    assert_eq!(d.stats.quarantined, 2);
}

#[test]
fn json_path_changes_cut_batches() {
    let d = decode(&fixture("mixed_paths.json"), DecoderOptions::default(), 5);
    let types: Vec<_> = d
        .batches
        .iter()
        .map(|b| {
            (
                b.log_type.clone().unwrap(),
                b.batch.num_rows(),
                b.first_record,
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("conn".into(), 2, 0),
            ("dns".into(), 1, 2),
            ("conn".into(), 1, 3)
        ]
    );
}

#[test]
fn batches_are_cut_by_rows_and_numbered() {
    let mut input = b"#fields\tn\n#types\tcount\n".to_vec();
    for i in 0..10 {
        input.extend(format!("{i}\n").as_bytes());
    }
    let options = DecoderOptions {
        batch_rows: 4,
        ..DecoderOptions::default()
    };
    let d = decode(&input, options, 3);
    let shape: Vec<_> = d
        .batches
        .iter()
        .map(|b| (b.batch.num_rows(), b.first_record, b.first_line))
        .collect();
    assert_eq!(shape, [(4, 0, 3), (4, 4, 7), (2, 8, 11)]);
}

#[test]
fn compressed_inputs_decode_the_same() {
    use std::io::Write;
    let plain = fixture("edge_cases.log");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&plain[..], 1).unwrap();
    let base = decode(&plain, DecoderOptions::default(), 1 << 20);
    for (bytes, chunk) in [(&gz, 1), (&gz, 17), (&zst, 1), (&zst, 5)] {
        let d = decode(bytes, DecoderOptions::default(), chunk);
        assert_eq!(d.batches[0].batch, base.batches[0].batch);
        assert_eq!(d.stats.bytes_decompressed, plain.len() as u64);
    }
}

#[test]
fn truncated_gzip_delivers_every_complete_record_then_fails() {
    use std::io::Write;
    let mut input = b"#fields\tn\n#types\tcount\n".to_vec();
    for i in 0..50_000 {
        input.extend(format!("{i}\n").as_bytes());
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&input).unwrap();
    let gz = gz.finish().unwrap();
    let cut = &gz[..gz.len() / 2];
    let mut decoder = ZeekDecoder::new(DecoderOptions {
        batch_rows: 1000,
        ..DecoderOptions::default()
    })
    .unwrap();
    decoder.decode(cut).unwrap();
    let err = decoder.finish().unwrap_err();
    assert!(
        matches!(
            err,
            recall_core::RecallError::Decompress { codec: "gzip", .. }
        ),
        "{err}"
    );
    let rows: usize = decoder
        .take_batches()
        .iter()
        .map(|b| b.batch.num_rows())
        .sum();
    let stats = *decoder.stats();
    assert_eq!(rows as u64, stats.records);
    assert!(stats.records > 10_000);
    assert_eq!(
        stats.lines,
        stats.records + stats.quarantined + stats.header_lines
    );
    assert!(decoder.decode(b"more").is_err(), "the failure sticks");
}

#[test]
fn empty_json_objects_are_records_without_columns() {
    // Found by fuzzing: `{}` of an unknown log type gives a batch with rows and no columns.
    let d = decode(b"{}\n{}\n", DecoderOptions::default(), 1);
    assert_eq!(d.stats.records, 2);
    assert_eq!(d.batches[0].batch.num_rows(), 2);
    assert_eq!(d.batches[0].batch.num_columns(), 0);
    let d = decode(
        b"{}\n{\"_path\":\"conn\",\"uid\":\"C1\"}\n",
        DecoderOptions::default(),
        3,
    );
    assert_eq!(d.stats.records, 2);
    assert_eq!(d.batches.len(), 2, "the log type changes at line 2");
}
