//! dns.log: one record per query of the minute's DNS flows. Names come from the shared world
//! (the server a client is about to contact, so the answer is that server's address) or from
//! the site (internal hosts, PTR lookups, AD service records); a few queries carry odd bytes.

use super::{
    conn_id, duration_s, maybe_flush, pick, pick_weighted, BufferedSink, Context, Flush, Scratch,
};
use crate::error::RecallError;
use crate::synth::addr::Addr;
use crate::synth::rng::{mix, Rng};
use crate::synth::sink::RecordSink;
use crate::synth::values::{DOMAINS, QTYPES, TXT_ANSWERS};
use crate::synth::world::{public_v4, Flow, FlowKind};

const SHAPE_TAG: u64 = 0x0064_6E73;

/// Queries with bytes a decoder must un-escape (control bytes, invalid UTF-8, UTF-8, commas).
const ODD_QUERIES: &[&[u8]] = &[
    b"bad\x00name.lan",
    b"caf\xc3\xa9.maison-lumiere.fr",
    b"\xc0\xaf.invalid-utf8.test",
    b"host,with,commas.lan",
    b"xn--caf-dma.fabrikam.io",
    b"_ldap._tcp.Default-First-Site-Name._sites.dc._msdcs.corp",
];

/// What a DNS flow's query and answer look like: shared by dns.log and conn.log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DnsShape {
    pub(crate) tcp: bool,
    pub(crate) answered: bool,
    pub(crate) qtype: (u16, &'static str),
    pub(crate) rcode: (u16, &'static str),
    pub(crate) answers: u64,
    pub(crate) rtt_us: i64,
    /// Approximate length of the query name (for conn byte counts).
    pub(crate) name_len: u64,
    target: Target,
    seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Server,
    InternalHost(u32),
    Wpad,
    Random,
    Odd(usize),
}

impl DnsShape {
    pub(crate) fn of(flow: &Flow) -> Self {
        let mut rng = Rng::new(mix(flow.traits, SHAPE_TAG));
        let qtype = pick_weighted(&mut rng, QTYPES, (1, "A"));
        let target = match rng.below(1000) {
            0..=2 => Target::Odd(rng.below(ODD_QUERIES.len() as u64) as usize),
            3..=14 => Target::Wpad,
            15..=39 => Target::Random,
            40..=189 => Target::InternalHost(rng.below(400) as u32),
            _ => Target::Server,
        };
        let answered = !rng.chance(35);
        let rcode = match target {
            Target::Wpad | Target::Random => (3, "NXDOMAIN"),
            _ => pick_weighted(
                &mut rng,
                &[
                    (900, (0, "NOERROR")),
                    (80, (3, "NXDOMAIN")),
                    (15, (2, "SERVFAIL")),
                    (5, (5, "REFUSED")),
                ],
                (0, "NOERROR"),
            ),
        };
        let answers = if !answered || rcode.0 != 0 {
            0
        } else {
            match (qtype.0, target) {
                // Internal names have one address; PTR, CNAME and SOA one record.
                (1, Target::InternalHost(_)) | (12 | 5 | 6, _) => 1,
                (1, _) => rng.range(1, 4) + u64::from(rng.chance(250)),
                // AAAA: only dual-stacked servers have one.
                (28, Target::Server) if flow.server.v6.is_some() => 1 + u64::from(rng.chance(250)),
                (16 | 15 | 33, _) => rng.range(1, 2),
                (2, _) => rng.range(2, 4),
                (255, _) => 2,
                _ => 0,
            }
        };
        let rtt_us = if flow.resp.is_v6() || matches!(flow.resp, Addr::V4([10 | 172 | 192, ..])) {
            (rng.log_normal(0.0015, 1.6, 0.000_05, 2.0) * 1e6) as i64
        } else {
            (rng.log_normal(0.02, 0.8, 0.002, 3.0) * 1e6) as i64
        };
        Self {
            tcp: rng.chance(8),
            answered,
            qtype,
            rcode,
            answers,
            rtt_us: rtt_us.max(1),
            name_len: rng.range(12, 40),
            target,
            seed: rng.next_u64(),
        }
    }
}

/// Append `d.c.b.a.in-addr.arpa` (or the nibble form for IPv6).
fn push_reverse_name(out: &mut Vec<u8>, addr: Addr) {
    let mut buf = itoa::Buffer::new();
    match addr {
        Addr::V4(o) => {
            for octet in o.iter().rev() {
                out.extend_from_slice(buf.format(*octet).as_bytes());
                out.push(b'.');
            }
            out.extend_from_slice(b"in-addr.arpa");
        }
        Addr::V6(groups) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for group in groups.iter().rev() {
                for shift in [0u16, 4, 8, 12] {
                    out.push(
                        HEX.get(usize::from((group >> shift) & 0xF))
                            .copied()
                            .unwrap_or(b'0'),
                    );
                    out.push(b'.');
                }
            }
            out.extend_from_slice(b"ip6.arpa");
        }
    }
}

fn push_domain_of(ctx: &Context<'_, '_>, flow: &Flow, out: &mut Vec<u8>) {
    let domain = DOMAINS
        .get((flow.server.hash >> 16) as usize % DOMAINS.len())
        .copied()
        .unwrap_or("example.com");
    let _ = ctx;
    out.extend_from_slice(domain.as_bytes());
}

/// Write the query name into `out`.
fn push_query(
    ctx: &Context<'_, '_>,
    flow: &Flow,
    shape: &DnsShape,
    rng: &mut Rng,
    out: &mut Vec<u8>,
) {
    let site = ctx.site();
    match (shape.target, shape.qtype.0) {
        (Target::Odd(i), _) => {
            out.extend_from_slice(ODD_QUERIES.get(i).copied().unwrap_or(b"odd.lan"));
        }
        (Target::Wpad, _) => {
            out.extend_from_slice(b"wpad.");
            out.extend_from_slice(&site.domain);
        }
        (Target::Random, _) => {
            for _ in 0..rng.range(8, 14) {
                out.push(b'a' + rng.below(26) as u8);
            }
            out.extend_from_slice(pick(
                rng,
                &[&b".com"[..], b".net", b".info", b".lan"],
                b".com",
            ));
        }
        (_, 12) => {
            let addr = if rng.chance(500) {
                site.host(rng.below(u64::from(site.hosts)) as u32, false)
            } else {
                flow.server.v4
            };
            push_reverse_name(out, addr);
        }
        (_, 33) => {
            out.extend_from_slice(pick(
                rng,
                &[
                    &b"_ldap._tcp.dc._msdcs."[..],
                    b"_kerberos._udp.",
                    b"_kerberos._tcp.dc._msdcs.",
                    b"_gc._tcp.",
                ],
                b"_ldap._tcp.",
            ));
            out.extend_from_slice(&site.domain);
        }
        (_, 16) => {
            if rng.chance(400) {
                out.extend_from_slice(b"_dmarc.");
            }
            push_domain_of(ctx, flow, out);
        }
        (_, 15 | 2 | 6) => push_domain_of(ctx, flow, out),
        (Target::InternalHost(h), _) => site.push_host_name(h, out),
        _ => flow.server.push_name(out),
    }
}

/// TTL of an answer: a common authoritative TTL, partly counted down by caches.
fn ttl(rng: &mut Rng) -> f64 {
    let base = pick(
        rng,
        &[20u32, 30, 60, 60, 300, 300, 300, 600, 3_600, 3_600, 86_400],
        300,
    );
    f64::from(base - rng.below(u64::from(base)) as u32)
}

fn write_answers<S: RecordSink>(
    sink: &mut S,
    ctx: &Context<'_, '_>,
    flow: &Flow,
    shape: &DnsShape,
    rng: &mut Rng,
    name: &mut Vec<u8>,
    ttls: &mut Vec<f64>,
) {
    let world = ctx.minute.world;
    ttls.clear();
    sink.list_begin();
    let mut remaining = shape.answers;
    // A CNAME first for a quarter of address lookups of Internet names.
    if remaining > 1
        && shape.target == Target::Server
        && matches!(shape.qtype.0, 1 | 28)
        && rng.chance(300)
    {
        name.clear();
        world.server(flow.server.hash % 40).push_name(name);
        sink.list_string(name);
        ttls.push(ttl(rng));
        remaining -= 1;
    }
    for i in 0..remaining {
        ttls.push(ttl(rng));
        match shape.qtype.0 {
            1 | 255 => {
                let addr = if let Target::InternalHost(h) = shape.target {
                    ctx.site().host(h, false)
                } else if i == 0 {
                    flow.server.v4
                } else {
                    public_v4(mix(flow.server.hash, i))
                };
                sink.list_addr(addr);
            }
            28 => sink.list_addr(flow.server.v6.unwrap_or(flow.server.v4)),
            12 => {
                name.clear();
                ctx.site().push_host_name(flow.client, name);
                sink.list_string(name);
            }
            16 => {
                let text = pick(rng, TXT_ANSWERS, "v=spf1 -all").as_bytes();
                name.clear();
                name.extend_from_slice(b"TXT ");
                name.extend_from_slice(itoa::Buffer::new().format(text.len()).as_bytes());
                name.push(b' ');
                name.extend_from_slice(text);
                sink.list_string(name);
            }
            33 => {
                name.clear();
                name.extend_from_slice(b"srv-dc0");
                name.push(b'1' + i as u8);
                name.push(b'.');
                name.extend_from_slice(&ctx.site().domain);
                sink.list_string(name);
            }
            _ => {
                name.clear();
                name.extend_from_slice(pick(
                    rng,
                    &[&b"ns1."[..], b"ns2.", b"mx1.", b"mail."],
                    b"ns1.",
                ));
                push_domain_of(ctx, flow, name);
                sink.list_string(name);
            }
        }
    }
    sink.list_end();
}

/// Write dns.log for the context's minute.
pub(crate) fn write<S: BufferedSink>(
    ctx: &Context<'_, '_>,
    sink: &mut S,
    scratch: &mut Scratch,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let n = ctx.counts.get(crate::synth::schema::LogType::Dns);
    let mut ttls = Vec::with_capacity(8);
    for j in 0..n {
        let flow = ctx.flow(FlowKind::Dns, j);
        let shape = DnsShape::of(&flow);
        let mut rng = Rng::new(shape.seed);
        sink.begin(flow.ts + shape.rtt_us);
        sink.time(flow.ts);
        sink.token(flow.uid.as_bytes());
        conn_id(sink, flow.orig, flow.orig_p, flow.resp, flow.resp_p);
        sink.token(if shape.tcp { b"tcp" } else { b"udp" });
        sink.count(rng.below(65_536));
        if shape.answered {
            sink.interval(duration_s(flow.ts, shape.rtt_us));
        } else {
            sink.unset();
        }
        scratch.a.clear();
        push_query(ctx, &flow, &shape, &mut rng, &mut scratch.a);
        sink.string(&scratch.a);
        sink.count(1);
        sink.token(b"C_INTERNET");
        sink.count(u64::from(shape.qtype.0));
        sink.token(shape.qtype.1.as_bytes());
        if shape.answered {
            sink.count(u64::from(shape.rcode.0));
            sink.token(shape.rcode.1.as_bytes());
        } else {
            sink.unset();
            sink.unset();
        }
        let internal = matches!(shape.target, Target::InternalHost(_)) || shape.qtype.0 == 33;
        sink.boolean(shape.answered && internal && rng.chance(600)); // AA
        sink.boolean(false); // TC
        sink.boolean(!rng.chance(20)); // RD
        sink.boolean(shape.answered && !rng.chance(30)); // RA
        sink.count(0); // Z
        if shape.answers > 0 {
            write_answers(
                sink,
                ctx,
                &flow,
                &shape,
                &mut rng,
                &mut scratch.b,
                &mut ttls,
            );
            sink.list_begin();
            for t in &ttls {
                sink.list_interval(*t);
            }
            sink.list_end();
        } else {
            sink.unset();
            sink.unset();
        }
        sink.boolean(shape.answered && shape.rcode.0 == 5);
        sink.end();
        maybe_flush(sink, flush)?;
    }
    Ok(n)
}
