#![allow(missing_docs, clippy::unwrap_used)]
use recall_core::synth::*;
fn main() {
    let mut opts = SynthOptions { compression: Compression::None, log_types: LogType::ALL.to_vec(), minutes: 1, tenants: vec!["acme".into()], sensors_per_tenant: 1, ..SynthOptions::default() };
    opts.volume = SynthVolume::Records(LogCounts::from_conn(5000));
    let s = generate_to_dir(&opts, std::path::Path::new("/tmp/synthdump")).unwrap();
    eprintln!("{s:?}");
}
