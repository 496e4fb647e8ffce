#![allow(missing_docs, clippy::unwrap_used)]
use recall_core::synth::*;
fn cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}
fn main() {
    let n: u64 = std::env::args().nth(1).map_or(300_000, |s| s.parse().unwrap());
    for format in [SynthFormat::Tsv, SynthFormat::Json] {
        for t in LogType::ALL {
            let mut bytes = 0usize;
            let c0 = cpu_s();
            for seed in 0..3 {
                bytes += generate_log(t, format, JsonTime::EpochSeconds, seed, n, 1_714_564_800).unwrap().len();
            }
            let dt = cpu_s() - c0;
            eprintln!("{format:?} {t} {} B/rec {:.0} MB/s (cpu)", bytes as u64 / n / 3, bytes as f64 / dt / 1e6);
        }
    }
}
