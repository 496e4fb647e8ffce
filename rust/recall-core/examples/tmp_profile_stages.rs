#![allow(missing_docs, clippy::unwrap_used)]
use std::time::Instant;
use recall_core::decode::{DecoderOptions, ZeekDecoder};
use recall_core::normalize::{NormalizeConfig, Normalizer};
use recall_core::encode::{BulkEncoder, EncodeConfig};
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let data = std::fs::read(&path).unwrap();
    let t = Instant::now();
    let mut d = ZeekDecoder::new(DecoderOptions { batch_rows: 8192, log_type: Some("dns".into()), ..DecoderOptions::default() }).unwrap();
    d.decode(&data).unwrap(); d.finish().unwrap();
    let batches = d.take_batches();
    let t_dec = t.elapsed();
    let t = Instant::now();
    let mut n = Normalizer::new(&NormalizeConfig::new("acme","b","k","v")).unwrap();
    let norm: Vec<_> = batches.iter().map(|b| n.normalize(&b.batch, b.log_type.as_deref(), b.first_record).unwrap()).collect();
    let t_norm = t.elapsed();
    let t = Instant::now();
    let mut e = BulkEncoder::new(EncodeConfig::default()).unwrap();
    let mut bytes = 0; let mut rows = 0;
    for b in &norm { rows += b.batch.num_rows(); for c in e.encode(&b.batch, b.first_record).unwrap().chunks { bytes += c.body.len(); } }
    if let Some(c) = e.finish() { bytes += c.body.len(); }
    let t_enc = t.elapsed();
    println!("rows {rows} bytes {bytes} decode {:?} normalize {:?} encode {:?}", t_dec, t_norm, t_enc);
}
