//! Record generators, one module per log family. Each writes the records of one log type for
//! one (site, minute) into a [`RecordSink`], deriving every shared fact (uid, endpoints, names,
//! sizes, file ids) from [`Minute::flow`] so that the logs of a minute agree with each other:
//! every dns, http and ssl record has its connection in conn.log (when conn volume allows),
//! every HTTP file in files.log is announced in the http record's `resp_fuids`, certificates in
//! x509.log carry the fingerprints ssl.log lists, and notices and weirds point at real uids.

mod conn;
mod dns;
mod http;
mod tls;
mod weird;

use super::addr::Addr;
use super::clock::Micros;
use super::rng::{mix, Rng};
use super::schema::LogType;
use super::sink::RecordSink;
use super::world::{Flow, FlowKind, Minute, Site};
use crate::error::RecallError;

/// Records per log type for one (site, minute). Every type has a count, also the ones that are
/// not written: the counts of unwritten logs still decide which flows exist, so selecting fewer
/// log types never changes the records of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCounts(pub [u64; 8]);

/// Records of each log type per conn record in default traffic (a typical enterprise sensor:
/// a third of connections are DNS, a quarter TLS, an eighth plain HTTP).
pub const DEFAULT_RATIOS: [f64; 8] = [1.0, 0.35, 0.12, 0.25, 0.10, 0.02, 0.005, 0.04];

impl LogCounts {
    /// Counts following [`DEFAULT_RATIOS`] for `conn` conn records (at least one each).
    pub fn from_conn(conn: u64) -> Self {
        let mut counts = [0u64; 8];
        for (slot, ratio) in counts.iter_mut().zip(DEFAULT_RATIOS) {
            *slot = ((conn as f64 * ratio).round() as u64).max(1);
        }
        counts[0] = conn;
        Self(counts)
    }

    /// The count of one log type.
    pub fn get(&self, log_type: LogType) -> u64 {
        self.0.get(log_type.index()).copied().unwrap_or(0)
    }

    /// Set the count of one log type.
    pub fn set(&mut self, log_type: LogType, count: u64) {
        if let Some(slot) = self.0.get_mut(log_type.index()) {
            *slot = count;
        }
    }
}

/// How many conn records of each flow kind a minute has. If conn volume covers all dns, http
/// and ssl flows, each of them appears in conn.log and the rest are "other" connections;
/// otherwise every kind is thinned evenly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnPlan {
    /// (kind, flows of that kind in the minute, of which in conn.log).
    pub(crate) linked: [(FlowKind, u64, u64); 3],
    /// Conn records of kind Other.
    pub(crate) other: u64,
}

impl ConnPlan {
    pub(crate) fn of(counts: &LogCounts) -> Self {
        let conn = counts.get(LogType::Conn);
        let kinds = [
            (FlowKind::Dns, counts.get(LogType::Dns)),
            (FlowKind::Http, counts.get(LogType::Http)),
            (FlowKind::Ssl, counts.get(LogType::Ssl)),
        ];
        let linked_total: u64 = kinds.iter().map(|(_, n)| n).sum();
        // Keep at least a fifth of conn.log for other traffic (scans, ICMP, NTP, SMB, ...).
        let budget = conn - conn / 5;
        let linked = kinds.map(|(kind, n)| {
            let in_conn = if linked_total <= budget {
                n
            } else {
                (u128::from(n) * u128::from(budget) / u128::from(linked_total.max(1))) as u64
            };
            (kind, n, in_conn)
        });
        let used: u64 = linked.iter().map(|(_, _, m)| m).sum();
        Self {
            linked,
            other: conn.saturating_sub(used),
        }
    }

    /// Flows of a kind in the minute (the index space of `Minute::flow`).
    pub(crate) fn flows_of(&self, kind: FlowKind) -> u64 {
        if kind == FlowKind::Other {
            return self.other;
        }
        self.linked
            .iter()
            .find(|(k, _, _)| *k == kind)
            .map_or(0, |(_, n, _)| *n)
    }
}

/// Reusable scratch buffers for values assembled from parts (names, URIs, messages).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) a: Vec<u8>,
    pub(crate) b: Vec<u8>,
    pub(crate) c: Vec<u8>,
}

/// Everything a record generator needs for one (site, minute).
pub(crate) struct Context<'m, 'w> {
    pub(crate) minute: &'m Minute<'w>,
    pub(crate) counts: LogCounts,
    pub(crate) plan: ConnPlan,
}

impl<'m, 'w> Context<'m, 'w> {
    pub(crate) fn new(minute: &'m Minute<'w>, counts: LogCounts) -> Self {
        Self {
            minute,
            counts,
            plan: ConnPlan::of(&counts),
        }
    }

    pub(crate) fn site(&self) -> &Site {
        self.minute.site
    }

    /// Flow `index` of a kind, in this minute's index space.
    pub(crate) fn flow(&self, kind: FlowKind, index: u64) -> Flow {
        self.minute
            .flow(kind, index, self.plan.flows_of(kind).max(1))
    }

    /// A random existing flow of a kind (for weirds and notices).
    pub(crate) fn any_flow(&self, kind: FlowKind, rng: &mut Rng) -> Flow {
        let n = self.plan.flows_of(kind).max(1);
        self.minute.flow(kind, rng.below(n), n)
    }
}

/// Where full buffers go: `emit` is called with the sink's buffer once it holds `at_bytes`
/// (it may drain the buffer, e.g. into a compressor, or leave it to grow in memory).
pub(crate) struct Flush<'f> {
    /// Buffer size that triggers `emit`.
    pub(crate) at_bytes: usize,
    /// The consumer.
    pub(crate) emit: &'f mut dyn FnMut(&mut Vec<u8>) -> Result<(), RecallError>,
}

/// Buffer size at which files hand bytes to their encoder.
pub(crate) const FLUSH_BYTES: usize = 1 << 20;

/// A sink that can also expose its buffer to the flush hook.
pub(crate) trait BufferedSink: RecordSink {
    fn buffer(&mut self) -> &mut Vec<u8>;
}

impl BufferedSink for super::tsv::TsvSink {
    fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }
}

impl BufferedSink for super::json::JsonSink {
    fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }
}

/// Call the flush hook if the buffer is full.
#[inline]
pub(crate) fn maybe_flush<S: BufferedSink>(
    sink: &mut S,
    flush: &mut Flush<'_>,
) -> Result<(), RecallError> {
    if sink.len() >= flush.at_bytes {
        (flush.emit)(sink.buffer())?;
    }
    Ok(())
}

/// Write every record of `log_type` for the context's minute. Returns the number of records.
pub(crate) fn write_log<S: BufferedSink>(
    log_type: LogType,
    ctx: &Context<'_, '_>,
    sink: &mut S,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let mut scratch = Scratch::default();
    match log_type {
        LogType::Conn => conn::write(ctx, sink, &mut scratch, flush),
        LogType::Dns => dns::write(ctx, sink, &mut scratch, flush),
        LogType::Http => http::write_http(ctx, sink, &mut scratch, flush),
        LogType::Files => http::write_files(ctx, sink, &mut scratch, flush),
        LogType::Ssl => tls::write_ssl(ctx, sink, &mut scratch, flush),
        LogType::X509 => tls::write_x509(ctx, sink, &mut scratch, flush),
        LogType::Notice => tls::write_notice(ctx, sink, &mut scratch, flush),
        LogType::Weird => weird::write(ctx, sink, &mut scratch, flush),
    }
}

/// Stream tags for per-log RNGs (independent of the flow RNGs).
pub(crate) mod stream {
    pub(crate) const CONN: u64 = 0x636F_6E6E;
    pub(crate) const FILES: u64 = 0x6669_6C65;
    pub(crate) const X509: u64 = 0x7835_3039;
    pub(crate) const NOTICE: u64 = 0x6E6F_7469;
    pub(crate) const WEIRD: u64 = 0x7765_6972;
}

/// A duration as Zeek computes it: the difference of two absolute times held as doubles, so
/// that JSON shows the same rounding noise real logs do (`0.0012309551239013672`).
pub(crate) fn duration_s(start: Micros, duration_us: i64) -> f64 {
    let a = start as f64 / 1e6;
    let b = (start + duration_us) as f64 / 1e6;
    b - a
}

/// Microseconds from an unsigned count (saturating; generated spans are far below `i64::MAX`).
pub(crate) fn micros(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Append `bytes` random-looking lower-case hex digits derived from `seed` (hashes, serials).
pub(crate) fn push_hex(out: &mut Vec<u8>, seed: u64, digits: usize, upper: bool) {
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let table = if upper { UPPER } else { LOWER };
    let mut word = 0u64;
    for i in 0..digits {
        if i % 16 == 0 {
            word = mix(seed, i as u64);
        }
        out.push(table.get((word & 0xF) as usize).copied().unwrap_or(b'0'));
        word >>= 4;
    }
}

/// Write a `local_orig` / `local_resp` column: set only when the sensor knows its local nets.
pub(crate) fn local_flag<S: RecordSink>(sink: &mut S, site: &Site, addr: Addr) {
    if site.local_nets {
        sink.boolean(site.is_local(addr));
    } else {
        sink.unset();
    }
}

/// Write the four `id.*` columns.
pub(crate) fn conn_id<S: RecordSink>(
    sink: &mut S,
    orig: Addr,
    orig_p: u16,
    resp: Addr,
    resp_p: u16,
) {
    sink.addr(orig);
    sink.port(orig_p);
    sink.addr(resp);
    sink.port(resp_p);
}

/// One-element string container.
pub(crate) fn list_of_one<S: RecordSink>(sink: &mut S, value: &[u8]) {
    sink.list_begin();
    sink.list_string(value);
    sink.list_end();
}

/// A pick from a weighted table that cannot fail for the non-empty tables of `values`.
pub(crate) fn pick_weighted<T: Copy>(rng: &mut Rng, table: &[(u32, T)], fallback: T) -> T {
    super::rng::weighted(rng, table)
        .copied()
        .unwrap_or(fallback)
}

/// A uniform pick with a fallback for empty tables.
pub(crate) fn pick<T: Copy>(rng: &mut Rng, table: &[T], fallback: T) -> T {
    rng.pick(table).copied().unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conn_plan_links_everything_when_conn_is_large() {
        let counts = LogCounts::from_conn(1000);
        let plan = ConnPlan::of(&counts);
        let linked: u64 = plan.linked.iter().map(|(_, _, m)| m).sum();
        assert_eq!(linked + plan.other, 1000);
        for (_, n, m) in plan.linked {
            assert_eq!(n, m);
        }
    }

    #[test]
    fn conn_plan_thins_evenly_when_conn_is_small() {
        let mut counts = LogCounts::from_conn(100);
        counts.set(LogType::Dns, 1000);
        let plan = ConnPlan::of(&counts);
        let linked: u64 = plan.linked.iter().map(|(_, _, m)| m).sum();
        assert!(linked <= 80);
        assert_eq!(linked + plan.other, 100);
    }

    #[test]
    fn duration_has_double_noise_but_rounds_to_micros() {
        let d = duration_s(1_521_911_720_000_000, 1231);
        assert!((d - 0.001_231).abs() < 1e-6);
    }
}
