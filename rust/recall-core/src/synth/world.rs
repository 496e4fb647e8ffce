//! The simulated network behind the logs: a shared made-up Internet (servers with names and
//! addresses, the same for every tenant) and, per sensor, a site (internal address plan, hosts,
//! resolvers, IPv6 share).
//!
//! Everything is a pure function of seeds and indices, never of generation order, so that the
//! conn, dns, http, ssl and files logs of one minute agree on uids, endpoints and names while
//! each file is still generated on its own (and in any order, or in parallel).

use super::addr::Addr;
use super::clock::Micros;
use super::rng::{mix, mix_bytes, Rng};
use super::values::{DOMAINS, HOST_PREFIXES, PUBLIC_V4_FIRST, PUBLIC_V6_FIRST, SUBDOMAINS};

/// Key tags for `mix`, one per kind of derived seed.
mod tag {
    pub(super) const SERVER: u64 = 0x5345_5256;
    pub(super) const SITE: u64 = 0x5349_5445;
    pub(super) const MINUTE: u64 = 0x4D49_4E55;
    pub(super) const SCANNER: u64 = 0x5343_414E;
}

/// Number of servers in the made-up Internet; popularity is skewed towards low indices.
pub(crate) const SERVER_COUNT: u64 = 20_000;

const BASE62: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A Zeek-style identifier: a prefix letter and 96 random bits in base 62, two words without
/// padding (so, like real uids, mostly 18 characters and sometimes fewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ZeekId {
    bytes: [u8; 20],
    len: u8,
}

impl ZeekId {
    /// Build from a prefix (`C` for connections, `F` for files) and random bits.
    pub(crate) fn new(prefix: u8, bits: u64) -> Self {
        let mut bytes = [0u8; 20];
        bytes[0] = prefix;
        let second = bits.rotate_left(29).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        let len = push_base62(&mut bytes, 1, bits);
        let len = push_base62(&mut bytes, len, second);
        Self {
            bytes,
            len: len as u8,
        }
    }

    /// The text.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// Append `value` in base 62 without leading zeros at `bytes[start..]`; returns the new length.
fn push_base62(bytes: &mut [u8; 20], start: usize, value: u64) -> usize {
    let mut digits = [0u8; 11];
    let mut first = digits.len();
    let mut v = value;
    while first > 0 {
        first -= 1;
        if let Some(slot) = digits.get_mut(first) {
            *slot = BASE62[(v % 62) as usize];
        }
        v /= 62;
        if v == 0 {
            break;
        }
    }
    let digits = digits.get(first..).unwrap_or(&[]);
    let end = start + digits.len();
    if let Some(dst) = bytes.get_mut(start..end) {
        dst.copy_from_slice(digits);
        end
    } else {
        start
    }
}

/// A server of the made-up Internet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Server {
    /// Index in `0..SERVER_COUNT`.
    pub(crate) index: u64,
    /// Hash all of the server's properties come from.
    pub(crate) hash: u64,
    /// IPv4 address.
    pub(crate) v4: Addr,
    /// IPv6 address, for dual-stacked servers.
    pub(crate) v6: Option<Addr>,
}

impl Server {
    /// Append the server's DNS name (`sub.domain`, or a numbered edge node).
    pub(crate) fn push_name(&self, out: &mut Vec<u8>) {
        let h = self.hash;
        let domain = DOMAINS
            .get(((h >> 16) % DOMAINS.len() as u64) as usize)
            .copied()
            .unwrap_or("example.com");
        if (h >> 40) % 7 == 0 {
            out.extend_from_slice(b"edge-");
            super::clock::push_padded(out, (h >> 44) % 1000, 3);
        } else {
            let sub = SUBDOMAINS
                .get(((h >> 24) % SUBDOMAINS.len() as u64) as usize)
                .copied()
                .unwrap_or("www");
            out.extend_from_slice(sub.as_bytes());
        }
        out.push(b'.');
        out.extend_from_slice(domain.as_bytes());
    }
}

/// The shared made-up Internet of one generator run.
#[derive(Debug, Clone)]
pub(crate) struct World {
    seed: u64,
}

/// A public IPv4 address from 32 random bits.
pub(crate) fn public_v4(bits: u64) -> Addr {
    let first = PUBLIC_V4_FIRST
        .get((bits % PUBLIC_V4_FIRST.len() as u64) as usize)
        .copied()
        .unwrap_or(93);
    let [_, _, _, _, b, c, d, _] = bits.to_le_bytes();
    Addr::V4([first, b, c, d.max(1)])
}

/// A public IPv6 address from 64 random bits; a third are sparse (`2600:1901:0:e988::`).
pub(crate) fn public_v6(bits: u64) -> Addr {
    let first = PUBLIC_V6_FIRST
        .get((bits % PUBLIC_V6_FIRST.len() as u64) as usize)
        .copied()
        .unwrap_or(0x2a00);
    let more = mix(bits, 6);
    let g = |v: u64, shift: u32| ((v >> shift) & 0xFFFF) as u16;
    let mut groups = [first, g(bits, 8), g(bits, 24), g(bits, 40), 0, 0, 0, 0];
    if bits % 3 != 0 {
        groups[4] = g(more, 0);
        groups[5] = g(more, 16);
        groups[6] = g(more, 32);
        groups[7] = g(more, 48).max(1);
    } else {
        groups[7] = g(more, 0) & 0xFF;
    }
    Addr::V6(groups)
}

impl World {
    /// The world of a run seed.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed: mix(seed, tag::SERVER),
        }
    }

    /// Server number `index`.
    pub(crate) fn server(&self, index: u64) -> Server {
        let hash = mix(self.seed, index);
        let v6 = (hash % 5 < 2).then(|| public_v6(mix(hash, 1)));
        Server {
            index,
            hash,
            v4: public_v4(hash >> 8),
            v6,
        }
    }

    /// A server drawn by popularity.
    pub(crate) fn popular_server(&self, rng: &mut Rng) -> Server {
        self.server(rng.skewed(SERVER_COUNT))
    }

    /// An Internet scanner or other external client (not a server of the world).
    pub(crate) fn external_client(&self, rng: &mut Rng) -> Addr {
        public_v4(mix(self.seed ^ tag::SCANNER, rng.below(50_000)))
    }
}

/// One sensor's site: the internal network the sensor watches.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// Seed of this site (tenant, sensor).
    pub(crate) seed: u64,
    /// First two octets of the internal IPv4 /16.
    v4_net: [u8; 2],
    /// The site's IPv6 /64 prefix.
    v6_prefix: [u16; 4],
    /// Number of internal hosts.
    pub(crate) hosts: u32,
    /// Per mille of client flows that use IPv6.
    pub(crate) v6_per_mille: u32,
    /// Internal DNS domain (`acme.lan`).
    pub(crate) domain: Vec<u8>,
    /// Whether `Site::local_nets` is configured (`local_orig`/`local_resp` set) on this sensor.
    pub(crate) local_nets: bool,
    /// Whether files are hashed (MD5/SHA1 analyzers) on this sensor.
    pub(crate) hash_files: bool,
    /// The sensor's public address, target of Internet scans.
    pub(crate) public: Addr,
}

impl Site {
    /// The site of `(tenant, sensor)` in a run.
    pub(crate) fn new(run_seed: u64, tenant: &str, sensor: &str) -> Self {
        let seed = mix_bytes(
            mix_bytes(mix(run_seed, tag::SITE), tenant.as_bytes()),
            sensor.as_bytes(),
        );
        let mut rng = Rng::new(seed);
        let v4_net = match rng.below(4) {
            0 => [192, 168],
            1 => [172, 16 + rng.below(16) as u8],
            _ => [10, rng.below(256) as u8],
        };
        let v6_prefix = [
            0x2001,
            0x0db8 + (rng.below(64) as u16),
            rng.below(0x1_0000) as u16,
            rng.below(0x1_0000) as u16,
        ];
        let mut domain: Vec<u8> = tenant
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase())
            .collect();
        if domain.is_empty() {
            domain.extend_from_slice(b"corp");
        }
        domain.extend_from_slice(b".lan");
        Self {
            seed,
            v4_net,
            v6_prefix,
            hosts: rng.range(150, 2500) as u32,
            v6_per_mille: rng.range(80, 220) as u32,
            domain,
            local_nets: rng.below(4) != 0,
            hash_files: rng.below(2) == 0,
            public: public_v4(rng.next_u64()),
        }
    }

    /// Internal host `h` (IPv4, or IPv6 with a stable random interface id).
    pub(crate) fn host(&self, h: u32, v6: bool) -> Addr {
        if v6 {
            let iid = mix(self.seed, u64::from(h));
            let group = |shift: u32| ((iid >> shift) & 0xFFFF) as u16;
            let [p0, p1, p2, p3] = self.v6_prefix;
            Addr::V6([p0, p1, p2, p3, group(0), group(16), group(32), group(48)])
        } else {
            let [net0, net1] = self.v4_net;
            Addr::V4([net0, net1, (h / 240) as u8, (h % 240 + 10) as u8])
        }
    }

    /// An internal client host index, mildly skewed (some hosts are busier).
    pub(crate) fn client(&self, rng: &mut Rng) -> u32 {
        let u = rng.unit();
        (f64::from(self.hosts) * u * u) as u32
    }

    /// The site's resolvers (the first two host addresses after the gateway).
    pub(crate) fn resolver(&self, rng: &mut Rng, v6: bool) -> Addr {
        self.host(1 + rng.below(2) as u32, v6)
    }

    /// Append the DNS name of internal host `h` (`ws-0142.acme.lan`).
    pub(crate) fn push_host_name(&self, h: u32, out: &mut Vec<u8>) {
        let prefix = HOST_PREFIXES
            .get((mix(self.seed, u64::from(h) ^ 0x484E) % HOST_PREFIXES.len() as u64) as usize)
            .copied()
            .unwrap_or("ws");
        out.extend_from_slice(prefix.as_bytes());
        out.push(b'-');
        super::clock::push_padded(out, u64::from(h), 4);
        out.push(b'.');
        out.extend_from_slice(&self.domain);
    }

    /// Whether an address is inside this site (for `local_orig` / `local_resp`).
    pub(crate) fn is_local(&self, addr: Addr) -> bool {
        match addr {
            Addr::V4([a, b, _, _]) => [a, b] == self.v4_net,
            Addr::V6(g) => g.get(..4) == Some(&self.v6_prefix[..]),
        }
    }
}

/// What a flow is for: selects which logs describe it besides conn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowKind {
    /// A DNS query (dns.log).
    Dns = 1,
    /// An HTTP request (http.log, files.log).
    Http = 2,
    /// A TLS session (ssl.log, x509.log, notice.log).
    Ssl = 3,
    /// Everything else (scans, ICMP, SSH, NTP, SMB, ...): conn.log and weird.log only.
    Other = 4,
}

/// The identity of one connection of one minute: what every log that mentions it agrees on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flow {
    /// Start time.
    pub(crate) ts: Micros,
    /// Connection uid.
    pub(crate) uid: ZeekId,
    /// Originator address and port.
    pub(crate) orig: Addr,
    /// Originator port.
    pub(crate) orig_p: u16,
    /// Responder address.
    pub(crate) resp: Addr,
    /// Responder port.
    pub(crate) resp_p: u16,
    /// Internal client host index (for names and PTR queries).
    pub(crate) client: u32,
    /// The server contacted (DNS: the name asked for), if any.
    pub(crate) server: Server,
    /// Random bits every log derives its shared decisions from (answered? status? version?).
    pub(crate) traits: u64,
}

/// The flows of one (site, minute): maps `(kind, index)` to a [`Flow`] without state.
#[derive(Debug, Clone)]
pub(crate) struct Minute<'w> {
    /// The shared Internet.
    pub(crate) world: &'w World,
    /// The sensor's site.
    pub(crate) site: &'w Site,
    /// Seed of this (site, minute).
    pub(crate) seed: u64,
    /// First microsecond of the minute.
    pub(crate) start: Micros,
    /// Length of the window in microseconds (one minute).
    pub(crate) span: Micros,
}

/// An ephemeral client port (Linux or Windows range, by host).
fn ephemeral_port(rng: &mut Rng, host: u32) -> u16 {
    if host % 3 == 0 {
        rng.range(32_768, 60_999) as u16
    } else {
        rng.range(49_152, 65_535) as u16
    }
}

impl<'w> Minute<'w> {
    /// The minute starting at `start` of a site.
    pub(crate) fn new(world: &'w World, site: &'w Site, start: Micros, span: Micros) -> Self {
        Self {
            world,
            site,
            seed: mix(mix(site.seed, tag::MINUTE), start as u64),
            start,
            span,
        }
    }

    /// A record stream's RNG: independent per (minute, stream tag, index).
    pub(crate) fn rng(&self, stream: u64, index: u64) -> Rng {
        Rng::new(mix(mix(self.seed, stream), index))
    }

    /// Timestamp of record `index` of `count` spread over the minute: stratified (one per
    /// `span / count` slice, jittered inside it), so a stream is increasing by construction.
    pub(crate) fn stratified_ts(&self, index: u64, count: u64, jitter: f64) -> Micros {
        let count = count.max(1) as f64;
        let offset =
            ((index as f64 + jitter.clamp(0.0, 0.999_999)) * self.span as f64 / count) as Micros;
        self.start + offset.min(self.span - 1)
    }

    /// Flow `index` of `count` flows of `kind` in this minute.
    pub(crate) fn flow(&self, kind: FlowKind, index: u64, count: u64) -> Flow {
        let mut rng = self.rng(kind as u64, index);
        let ts = self.stratified_ts(index, count, rng.unit());
        let uid = ZeekId::new(b'C', rng.next_u64());
        let client = self.site.client(&mut rng);
        let v6 = rng.below(1000) < u64::from(self.site.v6_per_mille);
        let server = self.world.popular_server(&mut rng);
        let orig_p = ephemeral_port(&mut rng, client);
        let (orig, resp, resp_p) = match kind {
            FlowKind::Dns => {
                // Mostly the site's resolvers; a few clients ask a public resolver directly.
                let resp = if rng.chance(60) {
                    self.world.server(rng.below(8)).v4
                } else {
                    self.site.resolver(&mut rng, v6)
                };
                let v6 = v6 && resp.is_v6();
                (self.site.host(client, v6), resp, 53)
            }
            FlowKind::Http => {
                let resp_p = match rng.below(100) {
                    0..=89 => 80,
                    90..=95 => 8080,
                    _ => 8000,
                };
                let (orig, resp) = match server.v6 {
                    Some(addr6) if v6 => (self.site.host(client, true), addr6),
                    _ => (self.site.host(client, false), server.v4),
                };
                (orig, resp, resp_p)
            }
            FlowKind::Ssl => {
                let resp_p = match rng.below(100) {
                    0..=92 => 443,
                    93..=95 => 8443,
                    _ => 993,
                };
                let (orig, resp) = match server.v6 {
                    Some(addr6) if v6 => (self.site.host(client, true), addr6),
                    _ => (self.site.host(client, false), server.v4),
                };
                (orig, resp, resp_p)
            }
            FlowKind::Other => (self.site.host(client, false), server.v4, 0),
        };
        Flow {
            ts,
            uid,
            orig,
            orig_p,
            resp,
            resp_p,
            client,
            server,
            traits: rng.next_u64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_look_like_zeek() {
        let mut rng = Rng::new(9);
        for _ in 0..1000 {
            let id = ZeekId::new(b'C', rng.next_u64());
            let text = id.as_bytes();
            assert!(
                (12..=18).contains(&text.len()),
                "{}",
                String::from_utf8_lossy(text)
            );
            assert_eq!(text.first(), Some(&b'C'));
            assert!(text.iter().skip(1).all(u8::is_ascii_alphanumeric));
        }
    }

    #[test]
    fn flows_are_pure_functions_of_their_index() {
        let world = World::new(1);
        let site = Site::new(1, "acme", "sensor-01");
        let minute = Minute::new(&world, &site, 1_714_564_800_000_000, 60_000_000);
        let a = minute.flow(FlowKind::Http, 17, 100);
        let b = minute.flow(FlowKind::Http, 17, 100);
        assert_eq!(a.uid, b.uid);
        assert_eq!(
            (a.orig, a.resp, a.orig_p, a.resp_p, a.ts),
            (b.orig, b.resp, b.orig_p, b.resp_p, b.ts)
        );
        let c = minute.flow(FlowKind::Ssl, 17, 100);
        assert_ne!(a.uid, c.uid);
        assert!(site.is_local(a.orig));
    }

    #[test]
    fn stratified_timestamps_increase_inside_the_minute() {
        let world = World::new(1);
        let site = Site::new(1, "acme", "sensor-01");
        let minute = Minute::new(&world, &site, 60_000_000, 60_000_000);
        let mut last = 0;
        for i in 0..10_000 {
            let ts = minute.flow(FlowKind::Dns, i, 10_000).ts;
            assert!(ts >= last && (60_000_000..120_000_000).contains(&ts));
            last = ts;
        }
    }
}
