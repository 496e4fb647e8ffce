//! Community ID flow hash, version 1 (corelight/community-id-spec).
//!
//! `network.community_id` lets an analyst pivot from a Zeek record to the same flow seen by
//! Suricata, Arkime, Elastic Agent or a firewall. The hash is
//! `"1:" + base64(sha1(seed . saddr . daddr . proto . 0 . sport . dport))` with the endpoints
//! ordered so that both directions of a flow hash the same, and ICMP type/code mapped to
//! port equivalents exactly as Zeek (and the reference implementation pycommunityid) do.
//!
//! Zeek already logs ICMP flows with port equivalents (`id.orig_p` = type, `id.resp_p` = the
//! counterpart type of a request/reply pair, else the code). Feeding those through the same
//! mapping gives the right answer for both raw type/code input and Zeek's logged values: a
//! paired type maps to its counterpart whatever the second value is, and a one-way type keeps
//! its code.
//!
//! Verified against the specification's published baseline (tests below). This module is pure
//! computation: it must not import Arrow or anything of the pipeline.

use std::net::IpAddr;

use base64::Engine as _;

/// IANA protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IANA protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IANA protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IANA protocol number of `ICMPv6`.
pub const PROTO_ICMP6: u8 = 58;
/// IANA protocol number of SCTP.
pub const PROTO_SCTP: u8 = 132;

/// Length of a rendered v1 Community ID: `"1:"` plus 28 base64 characters.
pub const COMMUNITY_ID_LEN: usize = 30;

/// Map a Zeek `transport_proto` enum value (`tcp`, `udp`, `icmp`, ...) to an IP protocol
/// number. Zeek logs `ICMPv6` as `icmp` too; the address family decides, so the caller passes
/// whether the flow is IPv6. `unknown_transport` and anything else give `None`.
pub fn proto_from_zeek(transport: &str, ipv6: bool) -> Option<u8> {
    match transport {
        "tcp" => Some(PROTO_TCP),
        "udp" => Some(PROTO_UDP),
        "icmp" if ipv6 => Some(PROTO_ICMP6),
        "icmp" => Some(PROTO_ICMP),
        "icmp6" | "icmpv6" => Some(PROTO_ICMP6),
        "sctp" => Some(PROTO_SCTP),
        _ => None,
    }
}

/// ICMP (v4) type -> counterpart type for request/reply pairs (Zeek's `ICMP4_counterpart`).
fn icmp4_counterpart(icmp_type: u16) -> Option<u16> {
    Some(match icmp_type {
        8 => 0,   // echo -> echo reply
        0 => 8,   // echo reply -> echo
        13 => 14, // timestamp
        14 => 13,
        15 => 16, // information
        16 => 15,
        10 => 9, // router solicitation -> advertisement
        9 => 10,
        17 => 18, // address mask
        18 => 17,
        _ => return None,
    })
}

/// `ICMPv6` type -> counterpart type for request/reply pairs (Zeek's `ICMP6_counterpart`).
fn icmp6_counterpart(icmp_type: u16) -> Option<u16> {
    Some(match icmp_type {
        128 => 129, // echo request / reply
        129 => 128,
        130 => 131, // MLD listener query / report
        131 => 130,
        133 => 134, // router solicitation / advertisement
        134 => 133,
        135 => 136, // neighbor solicitation / advertisement
        136 => 135,
        139 => 140, // who-are-you request / reply
        140 => 139,
        144 => 145, // home agent address discovery request / reply
        145 => 144,
        _ => return None,
    })
}

/// Port equivalents of an ICMP type and code and whether the flow is one-way (then the
/// endpoints are hashed in the given order, never flipped).
fn icmp_port_equivalents(proto: u8, icmp_type: u16, code: u16) -> (u16, u16, bool) {
    let counterpart = if proto == PROTO_ICMP6 {
        icmp6_counterpart(icmp_type)
    } else {
        icmp4_counterpart(icmp_type)
    };
    match counterpart {
        Some(other) => (icmp_type, other, false),
        None => (icmp_type, code, true),
    }
}

/// Computes v1 Community IDs with a fixed seed. Cheap to copy; holds no buffers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommunityId {
    seed: u16,
}

impl CommunityId {
    /// A hasher for `seed` (the specification's default is 0).
    pub fn new(seed: u16) -> Self {
        Self { seed }
    }

    /// The seed this hasher mixes in.
    pub fn seed(self) -> u16 {
        self.seed
    }

    /// Compute the Community ID of a flow and append its 30 ASCII bytes to `out`.
    ///
    /// `ports` is `(sport, dport)`; for ICMP/ICMPv6 it is `(type, code)` (or Zeek's logged
    /// port equivalents). Protocols with ports (TCP, UDP, SCTP, ICMP, `ICMPv6`) need them;
    /// other protocols are hashed without ports even when given. Returns `false` (and appends
    /// nothing) when no ID can be computed: mixed address families, or a port protocol
    /// without ports.
    pub fn write(
        self,
        saddr: IpAddr,
        daddr: IpAddr,
        proto: u8,
        ports: Option<(u16, u16)>,
        out: &mut Vec<u8>,
    ) -> bool {
        let has_ports = matches!(
            proto,
            PROTO_TCP | PROTO_UDP | PROTO_SCTP | PROTO_ICMP | PROTO_ICMP6
        );
        let ports = if has_ports {
            match ports {
                Some(p) => Some(p),
                None => return false,
            }
        } else {
            None
        };
        let (ports, one_way) = match (proto, ports) {
            (PROTO_ICMP | PROTO_ICMP6, Some((t, c))) => {
                let (s, d, one_way) = icmp_port_equivalents(proto, t, c);
                (Some((s, d)), one_way)
            }
            (_, p) => (p, false),
        };

        let mut input = [0u8; 2 + 16 + 16 + 2 + 4];
        let mut len = 0usize;
        let mut put = |bytes: &[u8]| {
            if let Some(slot) = input.get_mut(len..len + bytes.len()) {
                slot.copy_from_slice(bytes);
            }
            len += bytes.len();
        };
        put(&self.seed.to_be_bytes());

        // Addresses as fixed arrays (no allocation per row); `n` is 4 or 16.
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        let n = match (saddr, daddr) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                a[..4].copy_from_slice(&s.octets());
                b[..4].copy_from_slice(&d.octets());
                4
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                a = s.octets();
                b = d.octets();
                16
            }
            _ => return false,
        };
        let (a, b) = (&a[..n], &b[..n]);
        let (sp, dp) = ports.unwrap_or((0, 0));
        // Order the endpoints so that the smaller (address, port) comes first, unless the
        // flow is one-way ICMP, which keeps its direction.
        let ordered = one_way || a < b || (a == b && ports.is_some() && sp < dp);
        let (first, second, p1, p2) = if ordered {
            (a, b, sp, dp)
        } else {
            (b, a, dp, sp)
        };
        put(first);
        put(second);
        put(&[proto, 0]);
        if ports.is_some() {
            put(&p1.to_be_bytes());
            put(&p2.to_be_bytes());
        }
        let digest = sha1_smol::Sha1::from(input.get(..len).unwrap_or(&[]))
            .digest()
            .bytes();

        out.extend_from_slice(b"1:");
        let start = out.len();
        out.resize(start + 28, 0);
        if let Some(slot) = out.get_mut(start..) {
            // 20 bytes encode to exactly 28 characters with padding: cannot fail.
            let _ = base64::engine::general_purpose::STANDARD.encode_slice(digest, slot);
        }
        true
    }

    /// Convenience form of [`CommunityId::write`] returning a `String`.
    pub fn compute(
        self,
        saddr: IpAddr,
        daddr: IpAddr,
        proto: u8,
        ports: Option<(u16, u16)>,
    ) -> Option<String> {
        let mut out = Vec::with_capacity(COMMUNITY_ID_LEN);
        if self.write(saddr, daddr, proto, ports, &mut out) {
            String::from_utf8(out).ok()
        } else {
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// (protocol, source, destination, ports, expected ID(s)).
    type Row<'a> = (u8, &'a str, &'a str, Option<(u16, u16)>, &'a str);
    type SeededRow<'a> = (u8, &'a str, &'a str, Option<(u16, u16)>, &'a str, &'a str);

    fn cid(seed: u16, proto: u8, s: &str, d: &str, ports: Option<(u16, u16)>) -> String {
        CommunityId::new(seed)
            .compute(s.parse().unwrap(), d.parse().unwrap(), proto, ports)
            .unwrap()
    }

    const SIP4: &str = "1.2.3.4";
    const DIP4: &str = "5.6.7.8";
    const SIP6: &str = "fe80:0001:0203:0405:0607:0809:0A0B:0C0D";
    const DIP6: &str = "fe80:1011:1213:1415:1617:1819:1A1B:1C1D";

    /// The specification's baseline tables (community-id-spec/baseline/README.md): default
    /// seed and seed 1, every protocol family, both directions.
    #[test]
    fn spec_baseline_tables() {
        #[rustfmt::skip]
        let rows: &[SeededRow] = &[
            (6, SIP4, DIP4, Some((1122, 3344)), "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="),
            (6, DIP4, SIP4, Some((3344, 1122)), "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="),
            (17, SIP4, DIP4, Some((1122, 3344)), "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="),
            (17, DIP4, SIP4, Some((3344, 1122)), "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="),
            (132, SIP4, DIP4, Some((1122, 3344)), "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="),
            (132, DIP4, SIP4, Some((3344, 1122)), "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="),
            (1, SIP4, DIP4, Some((8, 0)), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="),
            (1, DIP4, SIP4, Some((0, 0)), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="),
            (1, SIP4, DIP4, Some((11, 0)), "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", "1:1DD7cWGC/Yg91YGsQeni8du3pIA="),
            (58, SIP6, DIP6, Some((128, 0)), "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="),
            (58, DIP6, SIP6, Some((129, 0)), "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="),
            (58, SIP6, DIP6, Some((146, 0)), "1:fYC8+pz24E+EhANP1EZhpX0Dw10=", "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="),
            (46, SIP4, DIP4, None, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="),
            (46, DIP4, SIP4, None, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="),
            (46, SIP6, DIP6, None, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="),
            (46, DIP6, SIP6, None, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="),
        ];
        for (proto, s, d, ports, seed0, seed1) in rows {
            assert_eq!(
                &cid(0, *proto, s, d, *ports),
                seed0,
                "seed 0 {proto} {s} {d} {ports:?}"
            );
            assert_eq!(
                &cid(1, *proto, s, d, *ports),
                seed1,
                "seed 1 {proto} {s} {d} {ports:?}"
            );
        }
    }

    /// The specification's JSON baseline (`baseline_deflt.json`, from `combined.pcap`): ports
    /// there are Zeek-style port equivalents, as in Zeek's conn.log.
    #[test]
    fn spec_baseline_json_default_seed() {
        #[rustfmt::skip]
        let rows: &[Row] = &[
            (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", Some((135, 136)), "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
            (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", Some((136, 135)), "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
            (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", Some((135, 136)), "1:zavyT/cezQr1fmImYCwYnMXbgck="),
            (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", Some((136, 135)), "1:zavyT/cezQr1fmImYCwYnMXbgck="),
            (58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", Some((3, 0)), "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="),
            (58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", Some((1, 4)), "1:hLZd0XGWojozrvxqE0dWB1iM6R0="),
            (58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", Some((128, 129)), "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
            (58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", Some((129, 128)), "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
            (58, "fe80::200:86ff:fe05:80da", "ff02::2", Some((133, 134)), "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="),
            (58, "fe80::260:97ff:fe07:69ea", "ff02::1", Some((134, 133)), "1:pkvHqCL88/tg1k4cPigmZXUtL00="),
            (1, "192.168.0.89", "192.168.0.1", Some((8, 0)), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
            (1, "192.168.0.1", "192.168.0.89", Some((0, 8)), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
            (1, "10.0.0.1", "10.0.0.2", Some((11, 0)), "1:YHxtAirCG//0OzkcVAukqKQN9xM="),
            (6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", Some((63943, 25)), "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
            (6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", Some((25, 63943)), "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
            (132, "192.168.170.8", "192.168.170.56", Some((7, 7)), "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
            (132, "192.168.170.56", "192.168.170.8", Some((7, 7)), "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
            (6, "128.232.110.120", "66.35.250.204", Some((34855, 80)), "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
            (6, "66.35.250.204", "128.232.110.120", Some((80, 34855)), "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
            (17, "192.168.1.52", "8.8.8.8", Some((54585, 53)), "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
            (17, "8.8.8.8", "192.168.1.52", Some((53, 54585)), "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
            (46, "10.1.12.1", "10.1.12.2", None, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
            (46, "10.1.12.2", "10.1.12.1", None, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
        ];
        for (proto, s, d, ports, want) in rows {
            assert_eq!(
                &cid(0, *proto, s, d, *ports),
                want,
                "{proto} {s} {d} {ports:?}"
            );
        }
    }

    #[test]
    fn mixed_families_and_missing_ports_give_none() {
        let c = CommunityId::default();
        let v4: IpAddr = SIP4.parse().unwrap();
        let v6: IpAddr = SIP6.parse().unwrap();
        assert_eq!(c.compute(v4, v6, PROTO_TCP, Some((1, 2))), None);
        assert_eq!(c.compute(v4, v4, PROTO_TCP, None), None);
        assert_eq!(
            cid(0, 6, SIP4, DIP4, Some((1122, 3344))).len(),
            COMMUNITY_ID_LEN
        );
    }

    #[test]
    fn zeek_transport_names() {
        assert_eq!(proto_from_zeek("tcp", false), Some(PROTO_TCP));
        assert_eq!(proto_from_zeek("icmp", true), Some(PROTO_ICMP6));
        assert_eq!(proto_from_zeek("icmp", false), Some(PROTO_ICMP));
        assert_eq!(proto_from_zeek("unknown_transport", false), None);
    }
}
