#![allow(missing_docs, clippy::unwrap_used)]
use recall_core::decode::{DecoderOptions, ZeekDecoder};
#[test]
fn repro() {
    let raw = std::fs::read("/work/main/fuzz/artifacts/decode/crash-7069ed2020b56de6966f15ace06c5ce860057e16").unwrap();
    let data = &raw[1..];
    let run = |step: usize| {
        let mut d = ZeekDecoder::new(DecoderOptions { batch_rows: 3, max_line_bytes: 512, max_decompressed_bytes: Some(1 << 22), ..DecoderOptions::default() }).unwrap();
        for c in data.chunks(step) { d.decode(c).unwrap(); }
        d.finish().unwrap();
        d.take_batches().into_iter().map(|b| format!("{:?}", b.batch)).collect::<Vec<_>>()
    };
    let a = run(data.len()); let b = run(5);
    for (x, y) in a.iter().zip(&b) { if x != y { std::fs::write("/tmp/repro/a.txt", x).unwrap(); std::fs::write("/tmp/repro/b.txt", y).unwrap(); } }
}
