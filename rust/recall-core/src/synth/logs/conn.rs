//! conn.log: one record per connection, merged from the minute's dns, http, ssl and other
//! flows in start-time order (each flow stream is increasing, so a four-way merge keeps the
//! file increasing without buffering).
//!
//! Shapes follow the real logs: DNS over UDP as `SF`/`Dd` (or `S0`/`D` when unanswered, with
//! duration and byte counts unset), web and TLS sessions as `SF` with `ShADadFf`-like
//! histories, Internet scans as `REJ`/`Sr`, ICMP as `OTH` without history, and IP-level byte
//! counts that include headers.

use super::{
    conn_id,
    dns::DnsShape,
    duration_s,
    http::HttpShape,
    local_flag, maybe_flush, micros, pick, pick_weighted, stream,
    tls::{Handshake, SslShape},
    BufferedSink, Context, Flush, Scratch,
};
use crate::error::RecallError;
use crate::synth::addr::Addr;
use crate::synth::rng::{mix, Rng};
use crate::synth::sink::RecordSink;
use crate::synth::world::{Flow, FlowKind};

/// Transport protocol of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    pub(crate) fn name(self) -> &'static [u8] {
        match self {
            Proto::Tcp => b"tcp",
            Proto::Udp => b"udp",
            Proto::Icmp => b"icmp",
        }
    }

    /// IP plus transport header bytes per packet.
    fn header_bytes(self, v6: bool) -> u64 {
        let ip = if v6 { 40 } else { 20 };
        ip + match self {
            Proto::Tcp => 32,
            Proto::Udp | Proto::Icmp => 8,
        }
    }
}

/// Who talks to whom in an "other" connection.
#[derive(Debug, Clone, Copy)]
enum Direction {
    /// Internal client to a server of the Internet.
    Outbound,
    /// Internet scanner to the sensor's public address or an internal host.
    Inbound,
    /// Internal client to an internal server (domain controllers, file servers).
    Internal,
    /// Internal client to a multicast or broadcast address.
    Multicast,
}

/// One connection outcome: state, history and packet counts.
#[derive(Debug, Clone, Copy)]
struct StateSpec {
    state: &'static str,
    /// Empty: unset (ICMP has no history).
    history: &'static str,
    orig_pkts: (u64, u64),
    resp_pkts: (u64, u64),
    /// Whether application bytes flow (else byte counts are 0).
    payload: bool,
    /// Whether duration and byte counts are set (single-packet connections leave them unset).
    timed: bool,
}

const fn st(
    state: &'static str,
    history: &'static str,
    orig_pkts: (u64, u64),
    resp_pkts: (u64, u64),
    payload: bool,
    timed: bool,
) -> StateSpec {
    StateSpec {
        state,
        history,
        orig_pkts,
        resp_pkts,
        payload,
        timed,
    }
}

/// A kind of "other" traffic.
#[derive(Debug, Clone, Copy)]
struct Profile {
    proto: Proto,
    services: &'static [&'static str],
    direction: Direction,
    ports: &'static [u16],
    states: &'static [(u32, StateSpec)],
    orig_median: f64,
    resp_median: f64,
    duration_median_s: f64,
}

const SCAN_PORTS: &[u16] = &[
    22, 23, 80, 443, 445, 3389, 8080, 5900, 3306, 1433, 6379, 9200, 25, 21, 8443, 2222, 5555, 81,
    7547, 8888, 30003, 5060, 3128, 11211, 0,
];
const PAYLOAD_FLOW: &[(u32, StateSpec)] = &[
    (70, st("SF", "ShADadFf", (4, 4), (3, 3), true, true)),
    (15, st("SF", "ShADadfF", (4, 4), (3, 3), true, true)),
    (8, st("SF", "ShAdDaFf", (4, 4), (3, 3), true, true)),
    (5, st("RSTO", "ShADadR", (4, 4), (3, 3), true, true)),
    (2, st("RSTR", "ShADadr", (4, 4), (3, 3), true, true)),
];

#[rustfmt::skip]
const PROFILES: &[(u32, Profile)] = &[
    (30, Profile { proto: Proto::Tcp, services: &[""], direction: Direction::Inbound, ports: SCAN_PORTS,
        states: &[
            (55, st("REJ", "Sr", (1, 1), (1, 1), false, true)),
            (20, st("REJ", "SrR", (1, 2), (1, 1), false, true)),
            (15, st("S0", "S", (1, 2), (0, 0), false, true)),
            (6, st("OTH", "R", (1, 1), (0, 0), false, false)),
            (4, st("SH", "^f", (1, 1), (0, 0), false, false)),
        ],
        orig_median: 0.0, resp_median: 0.0, duration_median_s: 0.000_08 }),
    (8, Profile { proto: Proto::Icmp, services: &[""], direction: Direction::Outbound, ports: &[0],
        states: &[
            (70, st("OTH", "", (1, 4), (1, 4), true, true)),
            (30, st("OTH", "", (1, 1), (0, 0), true, false)),
        ],
        orig_median: 64.0, resp_median: 64.0, duration_median_s: 1.5 }),
    (6, Profile { proto: Proto::Udp, services: &["ntp"], direction: Direction::Outbound, ports: &[123],
        states: &[(95, st("SF", "Dd", (1, 1), (1, 1), true, true)), (5, st("S0", "D", (1, 1), (0, 0), false, false))],
        orig_median: 48.0, resp_median: 48.0, duration_median_s: 0.02 }),
    (4, Profile { proto: Proto::Tcp, services: &["ssh"], direction: Direction::Outbound, ports: &[22, 22, 2222],
        states: &[
            (80, st("SF", "ShAdDaFf", (4, 4), (3, 3), true, true)),
            (20, st("RSTO", "ShAdDaR", (4, 4), (3, 3), true, true)),
        ],
        orig_median: 3_500.0, resp_median: 4_500.0, duration_median_s: 4.0 }),
    (3, Profile { proto: Proto::Tcp, services: &["ssh"], direction: Direction::Inbound, ports: &[22],
        states: &[
            (70, st("SF", "ShAdDaFf", (4, 4), (3, 3), true, true)),
            (30, st("RSTR", "ShAdDar", (4, 4), (3, 3), true, true)),
        ],
        orig_median: 1_500.0, resp_median: 2_200.0, duration_median_s: 1.2 }),
    (8, Profile { proto: Proto::Tcp, services: &["smb", "gssapi,smb,krb", "krb_tcp", "ldap_tcp", "dce_rpc", "gssapi,ldap"],
        direction: Direction::Internal, ports: &[445, 88, 389, 135, 49667],
        states: PAYLOAD_FLOW, orig_median: 2_000.0, resp_median: 6_000.0, duration_median_s: 0.4 }),
    (8, Profile { proto: Proto::Udp, services: &["quic,ssl"], direction: Direction::Outbound, ports: &[443],
        states: &[(95, st("SF", "Dd", (4, 4), (3, 3), true, true)), (5, st("S0", "D", (1, 3), (0, 0), true, true))],
        orig_median: 9_000.0, resp_median: 120_000.0, duration_median_s: 12.0 }),
    (6, Profile { proto: Proto::Udp, services: &["", "dns"], direction: Direction::Multicast, ports: &[1900, 5353, 137, 138],
        states: &[(70, st("S0", "D", (1, 1), (0, 0), true, false)), (30, st("S0", "D", (2, 6), (0, 0), true, true))],
        orig_median: 180.0, resp_median: 0.0, duration_median_s: 3.0 }),
    (5, Profile { proto: Proto::Tcp, services: &[""], direction: Direction::Outbound, ports: &[443, 80, 8080, 5228],
        states: &[
            (40, st("S0", "S", (1, 3), (0, 0), false, true)),
            (25, st("RSTO", "ShR", (2, 2), (1, 1), false, true)),
            (20, st("SF", "ShAFf", (3, 3), (2, 2), false, true)),
            (10, st("OTH", "C", (0, 0), (0, 0), false, false)),
            (5, st("S1", "Sh", (1, 1), (1, 1), false, true)),
        ],
        orig_median: 0.0, resp_median: 0.0, duration_median_s: 2.0 }),
    (1, Profile { proto: Proto::Udp, services: &["dhcp"], direction: Direction::Internal, ports: &[67],
        states: &[(100, st("SF", "Dd", (1, 1), (1, 1), true, true))],
        orig_median: 300.0, resp_median: 300.0, duration_median_s: 0.004 }),
    (3, Profile { proto: Proto::Udp, services: &["snmp", "syslog"], direction: Direction::Internal, ports: &[161, 514],
        states: &[(60, st("SF", "Dd", (1, 1), (1, 1), true, true)), (40, st("S0", "D", (1, 1), (0, 0), true, false))],
        orig_median: 90.0, resp_median: 120.0, duration_median_s: 0.01 }),
    (2, Profile { proto: Proto::Tcp, services: &["rdp", "ssl"], direction: Direction::Internal, ports: &[3389],
        states: PAYLOAD_FLOW, orig_median: 40_000.0, resp_median: 900_000.0, duration_median_s: 300.0 }),
    (1, Profile { proto: Proto::Tcp, services: &["smtp", "smtp,ssl"], direction: Direction::Outbound, ports: &[25, 587],
        states: PAYLOAD_FLOW, orig_median: 25_000.0, resp_median: 1_200.0, duration_median_s: 1.5 }),
];

/// The endpoints and profile of an "other" flow, a pure function of the flow (weird.log uses
/// it to name the same endpoints).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OtherConn {
    profile: Profile,
    pub(crate) proto: Proto,
    pub(crate) orig: Addr,
    pub(crate) orig_p: u16,
    pub(crate) resp: Addr,
    pub(crate) resp_p: u16,
    rng_seed: u64,
}

const FALLBACK_PROFILE: Profile = Profile {
    proto: Proto::Tcp,
    services: &[""],
    direction: Direction::Outbound,
    ports: &[443],
    states: PAYLOAD_FLOW,
    orig_median: 1000.0,
    resp_median: 1000.0,
    duration_median_s: 1.0,
};

impl OtherConn {
    pub(crate) fn of(ctx: &Context<'_, '_>, flow: &Flow) -> Self {
        let mut rng = Rng::new(mix(flow.traits, 0x6F74));
        let profile = pick_weighted(&mut rng, PROFILES, FALLBACK_PROFILE);
        let site = ctx.site();
        let mut resp_p = pick(&mut rng, profile.ports, 443);
        if resp_p == 0 && profile.proto == Proto::Tcp {
            resp_p = rng.range(1, 65_535) as u16;
        }
        let (orig, mut orig_p, resp) = match profile.direction {
            Direction::Outbound => (flow.orig, flow.orig_p, flow.server.v4),
            Direction::Inbound => {
                let target = if rng.chance(600) {
                    site.public
                } else {
                    site.host(site.client(&mut rng), false)
                };
                (
                    ctx.minute.world.external_client(&mut rng),
                    rng.range(1_024, 65_535) as u16,
                    target,
                )
            }
            Direction::Internal => (
                flow.orig,
                flow.orig_p,
                site.host(3 + rng.below(12) as u32, false),
            ),
            Direction::Multicast => {
                let resp = match resp_p {
                    1900 => Addr::V4([239, 255, 255, 250]),
                    5353 => Addr::V4([224, 0, 0, 251]),
                    _ => match site.host(0, false) {
                        Addr::V4([a, b, c, _]) => Addr::V4([a, b, c, 255]),
                        other @ Addr::V6(_) => other,
                    },
                };
                (
                    flow.orig,
                    if resp_p == 1900 { flow.orig_p } else { resp_p },
                    resp,
                )
            }
        };
        if profile.proto == Proto::Icmp {
            // ICMP: Zeek puts type and code in the port columns.
            let (icmp_type, icmp_code) = pick(
                &mut rng,
                &[(8u16, 0u16), (8, 0), (3, 3), (11, 0), (3, 1)],
                (8, 0),
            );
            orig_p = icmp_type;
            resp_p = icmp_code;
        }
        if let Direction::Internal = profile.direction {
            if resp_p == 67 {
                orig_p = 68;
            }
        }
        Self {
            profile,
            proto: profile.proto,
            orig,
            orig_p,
            resp,
            resp_p,
            rng_seed: rng.next_u64(),
        }
    }
}

/// Everything a conn record says.
struct ConnRecord<'s> {
    proto: Proto,
    service: &'s [u8],
    orig: Addr,
    orig_p: u16,
    resp: Addr,
    resp_p: u16,
    /// Duration in microseconds and byte counts, unset together for single-packet flows.
    timing: Option<(i64, u64, u64)>,
    state: &'s [u8],
    history: &'s [u8],
    missed_bytes: u64,
    orig_pkts: u64,
    resp_pkts: u64,
}

fn write_record<S: RecordSink>(
    sink: &mut S,
    ctx: &Context<'_, '_>,
    flow: &Flow,
    rec: &ConnRecord<'_>,
) {
    let v6 = rec.orig.is_v6();
    let header = rec.proto.header_bytes(v6);
    let (duration_us, orig_bytes, resp_bytes) = rec.timing.unwrap_or((0, 0, 0));
    sink.begin(flow.ts + duration_us + 1_000);
    sink.time(flow.ts);
    sink.token(flow.uid.as_bytes());
    conn_id(sink, rec.orig, rec.orig_p, rec.resp, rec.resp_p);
    sink.token(rec.proto.name());
    if rec.service.is_empty() {
        sink.unset();
    } else {
        sink.token(rec.service);
    }
    if let Some((us, ob, rb)) = rec.timing {
        sink.interval(duration_s(flow.ts, us));
        sink.count(ob);
        sink.count(rb);
    } else {
        sink.unset();
        sink.unset();
        sink.unset();
    }
    sink.token(rec.state);
    local_flag(sink, ctx.site(), rec.orig);
    local_flag(sink, ctx.site(), rec.resp);
    sink.count(rec.missed_bytes);
    if rec.history.is_empty() {
        sink.unset();
    } else {
        sink.token(rec.history);
    }
    // Without payload a TCP connection is SYNs (44, 52 or 60 bytes on IPv4, by client stack)
    // and bare RSTs/ACKs (40 bytes): no timestamp options.
    let (orig_hdr, resp_hdr) = if rec.proto == Proto::Tcp && orig_bytes == 0 && resp_bytes == 0 {
        let v6_extra = if v6 { 20 } else { 0 };
        (44 + 8 * u64::from(rec.orig_p % 3) + v6_extra, 40 + v6_extra)
    } else {
        (header, header)
    };
    sink.count(rec.orig_pkts);
    sink.count(orig_bytes + rec.orig_pkts * orig_hdr);
    sink.count(rec.resp_pkts);
    sink.count(resp_bytes + rec.resp_pkts * resp_hdr);
    sink.unset(); // tunnel_parents
    sink.end();
}

/// Data packets for a byte count (full-size segments plus ACK traffic of the other side).
fn data_pkts(own_bytes: u64, other_bytes: u64, mss: u64) -> u64 {
    own_bytes.div_ceil(mss) + other_bytes / (4 * mss)
}

fn timing(rng: &mut Rng, median_s: f64, sigma: f64, max_s: f64) -> i64 {
    (rng.log_normal(median_s, sigma, 0.000_001, max_s) * 1e6) as i64
}

fn write_dns_conn<S: RecordSink>(sink: &mut S, ctx: &Context<'_, '_>, flow: &Flow) {
    let shape = DnsShape::of(flow);
    let query_bytes = 29 + shape.name_len;
    let (proto, timing, state, history, orig_pkts, resp_pkts): (Proto, _, &[u8], &[u8], u64, u64) =
        if shape.tcp {
            let resp_bytes = if shape.answered {
                query_bytes + 2 + shape.answers * 28
            } else {
                0
            };
            (
                Proto::Tcp,
                Some((shape.rtt_us + 800, query_bytes + 2, resp_bytes)),
                b"SF",
                b"ShADadFf",
                5,
                4,
            )
        } else if shape.answered {
            let resp_bytes = query_bytes + shape.answers * 26 + 11;
            (
                Proto::Udp,
                Some((shape.rtt_us, query_bytes, resp_bytes)),
                b"SF",
                b"Dd",
                1,
                1,
            )
        } else {
            (Proto::Udp, None, b"S0", b"D", 1, 0)
        };
    let rec = ConnRecord {
        proto,
        service: b"dns",
        orig: flow.orig,
        orig_p: flow.orig_p,
        resp: flow.resp,
        resp_p: flow.resp_p,
        timing,
        state,
        history,
        missed_bytes: 0,
        orig_pkts,
        resp_pkts,
    };
    write_record(sink, ctx, flow, &rec);
}

fn tcp_payload_record<'s>(
    rng: &mut Rng,
    flow: &Flow,
    service: &'s [u8],
    orig_bytes: u64,
    resp_bytes: u64,
    duration_us: i64,
) -> ConnRecord<'s> {
    let spec = pick_weighted(
        rng,
        PAYLOAD_FLOW,
        st("SF", "ShADadFf", (4, 4), (3, 3), true, true),
    );
    let missed = if rng.chance(5) {
        rng.range(1_000, 60_000)
    } else {
        0
    };
    ConnRecord {
        proto: Proto::Tcp,
        service,
        orig: flow.orig,
        orig_p: flow.orig_p,
        resp: flow.resp,
        resp_p: flow.resp_p,
        timing: Some((duration_us, orig_bytes, resp_bytes)),
        state: spec.state.as_bytes(),
        history: spec.history.as_bytes(),
        missed_bytes: missed,
        orig_pkts: spec.orig_pkts.0 + data_pkts(orig_bytes, resp_bytes, 1_448),
        resp_pkts: spec.resp_pkts.0 + data_pkts(resp_bytes, orig_bytes, 1_448),
    }
}

fn write_http_conn<S: RecordSink>(sink: &mut S, ctx: &Context<'_, '_>, flow: &Flow) {
    let shape = HttpShape::of(flow);
    let mut rng = Rng::new(mix(flow.traits, stream::CONN));
    let orig_bytes = shape.request_header_bytes + shape.request_body_len;
    let resp_bytes = if shape.method_is_connect {
        39
    } else {
        180 + shape.response_body_len
    };
    let duration = timing(&mut rng, 0.25, 1.4, 600.0) + micros(shape.response_body_len / 2_000);
    let rec = tcp_payload_record(&mut rng, flow, b"http", orig_bytes, resp_bytes, duration);
    write_record(sink, ctx, flow, &rec);
}

fn write_ssl_conn<S: RecordSink>(sink: &mut S, ctx: &Context<'_, '_>, flow: &Flow) {
    let shape = SslShape::of(flow);
    let mut rng = Rng::new(mix(flow.traits, stream::CONN));
    let rec = if shape.handshake == Handshake::ClientHelloOnly {
        ConnRecord {
            proto: Proto::Tcp,
            service: b"",
            orig: flow.orig,
            orig_p: flow.orig_p,
            resp: flow.resp,
            resp_p: flow.resp_p,
            timing: Some((timing(&mut rng, 0.05, 1.0, 30.0), rng.range(220, 1_800), 0)),
            state: b"RSTR",
            history: b"ShADr",
            missed_bytes: 0,
            orig_pkts: 3,
            resp_pkts: 2,
        }
    } else {
        let orig_bytes = rng.log_normal(1_800.0, 1.5, 300.0, 50e6) as u64;
        let resp_bytes = if shape.established {
            rng.log_normal(9_000.0, 2.0, 2_000.0, 500e6) as u64
        } else {
            rng.range(7, 200)
        };
        let duration = timing(&mut rng, 1.5, 2.0, 3_600.0);
        tcp_payload_record(&mut rng, flow, b"ssl", orig_bytes, resp_bytes, duration)
    };
    write_record(sink, ctx, flow, &rec);
}

fn write_other_conn<S: RecordSink>(sink: &mut S, ctx: &Context<'_, '_>, flow: &Flow) {
    let other = OtherConn::of(ctx, flow);
    let profile = other.profile;
    let mut rng = Rng::new(other.rng_seed);
    let spec = pick_weighted(
        &mut rng,
        profile.states,
        st("OTH", "", (1, 1), (0, 0), false, false),
    );
    let service = pick(&mut rng, profile.services, "").as_bytes();
    let orig_pkts = rng.range(spec.orig_pkts.0, spec.orig_pkts.1);
    let resp_pkts = rng.range(spec.resp_pkts.0, spec.resp_pkts.1);
    let timing = spec.timed.then(|| {
        let (mut ob, mut rb) = (0, 0);
        if spec.payload {
            ob = rng.log_normal(profile.orig_median.max(1.0), 1.2, 0.0, 1e9) as u64;
            rb = if resp_pkts > 0 {
                rng.log_normal(profile.resp_median.max(1.0), 1.5, 0.0, 1e10) as u64
            } else {
                0
            };
            if profile.proto == Proto::Udp && profile.services.first() == Some(&"ntp") {
                (ob, rb) = (48, 48);
            }
        }
        let duration = timing(&mut rng, profile.duration_median_s, 1.3, 7_200.0);
        (duration, ob, rb)
    });
    let (orig_pkts, resp_pkts) = match (timing, spec.payload, profile.proto) {
        (Some((_, ob, rb)), true, Proto::Tcp) => (
            orig_pkts + data_pkts(ob, rb, 1_448),
            resp_pkts + data_pkts(rb, ob, 1_448),
        ),
        (Some((_, ob, rb)), true, Proto::Udp) if orig_pkts > 1 || ob > 1_400 => (
            orig_pkts.max(ob.div_ceil(1_350)),
            resp_pkts.max(rb.div_ceil(1_350)),
        ),
        _ => (orig_pkts.max(1), resp_pkts),
    };
    let rec = ConnRecord {
        proto: other.proto,
        service,
        orig: other.orig,
        orig_p: other.orig_p,
        resp: other.resp,
        resp_p: other.resp_p,
        timing,
        state: spec.state.as_bytes(),
        history: spec.history.as_bytes(),
        missed_bytes: 0,
        orig_pkts,
        resp_pkts,
    };
    write_record(sink, ctx, flow, &rec);
}

/// One stream of the merge: the conn records of one flow kind.
struct Cursor {
    kind: FlowKind,
    /// Flows of this kind in the minute.
    flows: u64,
    /// Of which in conn.log.
    in_conn: u64,
    next: u64,
    pending: Option<Flow>,
}

impl Cursor {
    fn advance(&mut self, ctx: &Context<'_, '_>) {
        self.pending = (self.next < self.in_conn).then(|| {
            let index =
                (u128::from(self.next) * u128::from(self.flows) / u128::from(self.in_conn)) as u64;
            ctx.minute.flow(self.kind, index, self.flows.max(1))
        });
        self.next += 1;
    }
}

/// Write conn.log for the context's minute.
pub(crate) fn write<S: BufferedSink>(
    ctx: &Context<'_, '_>,
    sink: &mut S,
    _scratch: &mut Scratch,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let plan = ctx.plan;
    let [dns, http, ssl] = plan.linked;
    let mut cursors = [dns, http, ssl, (FlowKind::Other, plan.other, plan.other)].map(
        |(kind, flows, in_conn)| Cursor {
            kind,
            flows,
            in_conn,
            next: 0,
            pending: None,
        },
    );
    for cursor in &mut cursors {
        cursor.advance(ctx);
    }
    let mut written = 0u64;
    loop {
        let mut best: Option<usize> = None;
        let mut best_ts = i64::MAX;
        for (i, cursor) in cursors.iter().enumerate() {
            if let Some(flow) = &cursor.pending {
                if flow.ts < best_ts {
                    best_ts = flow.ts;
                    best = Some(i);
                }
            }
        }
        let Some(cursor) = best.and_then(|i| cursors.get_mut(i)) else {
            break;
        };
        let Some(flow) = cursor.pending else { break };
        match cursor.kind {
            FlowKind::Dns => write_dns_conn(sink, ctx, &flow),
            FlowKind::Http => write_http_conn(sink, ctx, &flow),
            FlowKind::Ssl => write_ssl_conn(sink, ctx, &flow),
            FlowKind::Other => write_other_conn(sink, ctx, &flow),
        }
        cursor.advance(ctx);
        written += 1;
        maybe_flush(sink, flush)?;
    }
    Ok(written)
}
