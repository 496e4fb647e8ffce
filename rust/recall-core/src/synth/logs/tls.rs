//! ssl.log, x509.log and notice.log. A TLS flow's handshake (version, resumption, whether
//! certificates were visible) is a pure function of the flow; certificates are a pure function
//! of the server, so the fingerprints ssl.log lists are the ones x509.log describes, and
//! invalid-certificate notices point at real TLS uids with the certificate's subject.

use super::conn::OtherConn;
use super::{
    conn_id, list_of_one, maybe_flush, micros, pick, pick_weighted, push_hex, stream, BufferedSink,
    Context, Flush, Scratch,
};
use crate::error::RecallError;
use crate::synth::clock::SECOND_US;
use crate::synth::rng::{mix, Rng};
use crate::synth::schema::LogType;
use crate::synth::values::{
    CERT_ISSUERS, CERT_ORGS, CURVES, LEGACY_CIPHERS, NEXT_PROTOCOLS, NOTES, TLS12_CIPHERS,
    TLS13_CIPHERS, TLS_VERSIONS, VALIDATION,
};
use crate::synth::world::{Flow, FlowKind, Server, ZeekId};

const SHAPE_TAG: u64 = 0x0074_6C73;

/// How far a TLS handshake got, as ssl.log's history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handshake {
    /// Only a client hello (scanners, blocked destinations): history `C`.
    ClientHelloOnly,
    /// The server answered with an alert: history `Cl`.
    Failed,
    /// Certificates not visible (TLS 1.3, or a resumed TLS 1.2 session): history `CsiI`.
    Opaque,
    /// A full handshake with the certificate chain in clear (TLS 1.2 and older).
    Full,
}

/// What a TLS flow's handshake looked like: shared by ssl.log and conn.log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SslShape {
    pub(crate) handshake: Handshake,
    pub(crate) version: &'static str,
    pub(crate) resumed: bool,
    pub(crate) established: bool,
    seed: u64,
}

impl SslShape {
    pub(crate) fn of(flow: &Flow) -> Self {
        let mut rng = Rng::new(mix(flow.traits, SHAPE_TAG));
        let version = pick_weighted(&mut rng, TLS_VERSIONS, "TLSv13");
        let old = matches!(version, "TLSv10" | "TLSv11" | "SSLv3");
        let resumed = version == "TLSv12" && rng.chance(180);
        let handshake = match rng.below(1000) {
            0..=39 => Handshake::ClientHelloOnly,
            40..=59 => Handshake::Failed,
            _ if version == "TLSv13" || resumed => Handshake::Opaque,
            _ => Handshake::Full,
        };
        let completed = matches!(handshake, Handshake::Opaque | Handshake::Full);
        // Old protocol versions often stop after the certificate (clients refuse them).
        let established = completed && !(old && rng.chance(500));
        Self {
            handshake,
            version,
            resumed: resumed && completed,
            established,
            seed: rng.next_u64(),
        }
    }

    /// Whether the certificate chain was visible.
    pub(crate) fn certs_visible(&self) -> bool {
        self.handshake == Handshake::Full
    }
}

/// A server's certificate facts, a pure function of the server.
struct Certificate {
    fingerprint_seed: u64,
    issuer: usize,
    org: Option<usize>,
    ecdsa: bool,
    self_signed: bool,
}

impl Certificate {
    fn of(server: &Server) -> Self {
        let h = mix(server.hash, 0x6365_7274);
        Self {
            fingerprint_seed: h,
            issuer: (h % CERT_ISSUERS.len() as u64) as usize,
            org: ((h >> 8) % 100 < 45).then_some(((h >> 16) % CERT_ORGS.len() as u64) as usize),
            ecdsa: (h >> 24) % 3 == 0,
            self_signed: (h >> 32) % 50 == 0,
        }
    }

    fn push_fingerprint(&self, out: &mut Vec<u8>) {
        push_hex(out, self.fingerprint_seed, 64, false);
    }

    fn fuid(&self) -> ZeekId {
        ZeekId::new(b'F', mix(self.fingerprint_seed, 0x4655))
    }

    fn push_subject(&self, server: &Server, out: &mut Vec<u8>) {
        out.extend_from_slice(b"CN=");
        server.push_name(out);
        if let Some((o, l, st, c)) = self.org.and_then(|i| CERT_ORGS.get(i)) {
            for (key, value) in [(&b",O="[..], o), (b",L=", l), (b",ST=", st), (b",C=", c)] {
                out.extend_from_slice(key);
                out.extend_from_slice(value.as_bytes());
            }
        }
    }
}

/// Fingerprint of an issuing CA's certificate.
fn push_ca_fingerprint(out: &mut Vec<u8>, issuer: usize) {
    push_hex(out, mix(0x6361_6361, issuer as u64), 64, false);
}

/// Write ssl.log for the context's minute.
// One record's columns in `#fields` order read best as one sequence.
#[allow(clippy::too_many_lines)]
pub(crate) fn write_ssl<S: BufferedSink>(
    ctx: &Context<'_, '_>,
    sink: &mut S,
    scratch: &mut Scratch,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let n = ctx.counts.get(LogType::Ssl);
    for j in 0..n {
        let flow = ctx.flow(FlowKind::Ssl, j);
        let shape = SslShape::of(&flow);
        let mut rng = Rng::new(shape.seed);
        let cert = Certificate::of(&flow.server);
        sink.begin(flow.ts + micros(rng.range(20_000, 900_000)));
        sink.time(flow.ts);
        sink.token(flow.uid.as_bytes());
        conn_id(sink, flow.orig, flow.orig_p, flow.resp, flow.resp_p);
        if matches!(shape.handshake, Handshake::Opaque | Handshake::Full) {
            sink.token(shape.version.as_bytes());
            let table = match shape.version {
                "TLSv13" => TLS13_CIPHERS,
                "TLSv12" => TLS12_CIPHERS,
                _ => LEGACY_CIPHERS,
            };
            sink.token(pick_weighted(&mut rng, table, "TLS_AES_128_GCM_SHA256").as_bytes());
            if shape.version == "SSLv3" {
                sink.unset();
            } else {
                sink.token(pick_weighted(&mut rng, CURVES, "x25519").as_bytes());
            }
        } else {
            sink.unset();
            sink.unset();
            sink.unset();
        }
        let sni = !rng.chance(50);
        if sni {
            scratch.a.clear();
            flow.server.push_name(&mut scratch.a);
            sink.string(&scratch.a);
        } else {
            sink.unset();
        }
        sink.boolean(shape.resumed);
        if shape.handshake == Handshake::Failed {
            sink.string(pick(
                &mut rng,
                &[
                    &b"handshake_failure"[..],
                    b"protocol_version",
                    b"unknown_ca",
                ],
                b"handshake_failure",
            ));
        } else {
            sink.unset();
        }
        let alpn = if shape.established && flow.resp_p != 993 {
            pick_weighted(&mut rng, NEXT_PROTOCOLS, "")
        } else {
            ""
        };
        if alpn.is_empty() {
            sink.unset();
        } else {
            sink.token(alpn.as_bytes());
        }
        sink.boolean(shape.established);
        let history: &[u8] = match shape.handshake {
            Handshake::ClientHelloOnly => b"C",
            Handshake::Failed => b"Cl",
            Handshake::Opaque => b"CsiI",
            Handshake::Full if !shape.established => {
                pick(&mut rng, &[&b"Csxkn"[..], b"Csxn"], b"Csxn")
            }
            Handshake::Full => pick(
                &mut rng,
                &[&b"CsxknGIi"[..], b"CsxknGIti", b"CsxuknGIi", b"CsxuknGIti"],
                b"CsxknGIi",
            ),
        };
        sink.token(history);
        if shape.certs_visible() {
            sink.list_begin();
            scratch.b.clear();
            cert.push_fingerprint(&mut scratch.b);
            sink.list_string(&scratch.b);
            if !cert.self_signed {
                scratch.b.clear();
                push_ca_fingerprint(&mut scratch.b, cert.issuer);
                sink.list_string(&scratch.b);
            }
            sink.list_end();
            sink.list_begin(); // client_cert_chain_fps
            sink.list_end();
            if sni {
                sink.boolean(!rng.chance(20));
            } else {
                sink.unset();
            }
            let status = if cert.self_signed {
                "self signed certificate"
            } else {
                pick_weighted(&mut rng, VALIDATION, "ok")
            };
            sink.string(status.as_bytes());
        } else {
            sink.unset();
            sink.unset();
            sink.unset();
            sink.unset();
        }
        sink.end();
        maybe_flush(sink, flush)?;
    }
    Ok(n)
}

const DAY_S: u64 = 86_400;

/// Write x509.log for the context's minute.
// One record's columns in `#fields` order read best as one sequence.
#[allow(clippy::too_many_lines)]
pub(crate) fn write_x509<S: BufferedSink>(
    ctx: &Context<'_, '_>,
    sink: &mut S,
    scratch: &mut Scratch,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let n = ctx.counts.get(LogType::X509);
    for j in 0..n {
        let mut rng = ctx.minute.rng(stream::X509, j);
        let ts = ctx.minute.stratified_ts(j, n, rng.unit());
        let flow = ctx.flow(FlowKind::Ssl, j);
        let cert = Certificate::of(&flow.server);
        let is_ca = !cert.self_signed && rng.chance(200);
        let mut crng = Rng::new(if is_ca {
            mix(cert.issuer as u64, 0x6361)
        } else {
            cert.fingerprint_seed
        });
        sink.begin(ts);
        sink.time(ts);
        scratch.a.clear();
        if is_ca {
            push_ca_fingerprint(&mut scratch.a, cert.issuer);
        } else {
            cert.push_fingerprint(&mut scratch.a);
        }
        sink.string(&scratch.a);
        sink.count(3);
        scratch.a.clear();
        let serial_digits = 2 * crng.range(8, 18) as usize;
        push_hex(&mut scratch.a, crng.next_u64(), serial_digits, true);
        sink.string(&scratch.a);
        // subject, issuer
        let issuer = CERT_ISSUERS
            .get(cert.issuer)
            .copied()
            .unwrap_or("CN=Example CA");
        scratch.a.clear();
        if is_ca {
            scratch.a.extend_from_slice(issuer.as_bytes());
        } else {
            cert.push_subject(&flow.server, &mut scratch.a);
        }
        sink.string(&scratch.a);
        if cert.self_signed {
            sink.string(&scratch.a);
        } else if is_ca {
            sink.string(b"CN=Trustroot Global Root G2,O=Trustroot Inc,C=US");
        } else {
            sink.string(issuer.as_bytes());
        }
        // validity: leaf certificates 90 days (DV) or 397 days (OV), CAs ten years.
        let now_s = ts.div_euclid(SECOND_US);
        let lifetime_days: u64 = if is_ca {
            3_650
        } else if cert.org.is_some() {
            397
        } else {
            90
        };
        let age_s = DAY_S * crng.range(1, lifetime_days - 1) + crng.below(DAY_S);
        let before = now_s - micros(age_s);
        sink.time(before * SECOND_US);
        sink.time((before + micros(lifetime_days * DAY_S)) * SECOND_US);
        let ecdsa = cert.ecdsa && !is_ca;
        if ecdsa {
            sink.string(b"id-ecPublicKey");
            sink.string(b"ecdsa-with-SHA256");
            sink.string(b"ecdsa");
            sink.count(256);
            sink.unset();
            sink.string(b"prime256v1");
        } else {
            sink.string(b"rsaEncryption");
            sink.string(if is_ca {
                b"sha384WithRSAEncryption"
            } else {
                b"sha256WithRSAEncryption"
            });
            sink.string(b"rsa");
            sink.count(if is_ca || crng.chance(150) {
                4_096
            } else {
                2_048
            });
            sink.string(b"65537");
            sink.unset();
        }
        if is_ca {
            sink.unset();
        } else {
            sink.list_begin();
            scratch.a.clear();
            flow.server.push_name(&mut scratch.a);
            sink.list_string(&scratch.a);
            if let Some(dot) = scratch.a.iter().position(|&b| b == b'.') {
                scratch.b.clear();
                scratch.b.push(b'*');
                scratch
                    .b
                    .extend_from_slice(scratch.a.get(dot..).unwrap_or(&[]));
                sink.list_string(&scratch.b);
                sink.list_string(scratch.a.get(dot + 1..).unwrap_or(&[]));
            }
            sink.list_end();
        }
        sink.unset(); // san.uri
        sink.unset(); // san.email
        sink.unset(); // san.ip
        sink.boolean(is_ca);
        if is_ca {
            sink.count(0);
        } else {
            sink.unset();
        }
        sink.boolean(!is_ca);
        sink.boolean(false);
        sink.end();
        maybe_flush(sink, flush)?;
    }
    Ok(n)
}

/// Write notice.log for the context's minute.
// One record's columns in `#fields` order read best as one sequence.
#[allow(clippy::too_many_lines)]
pub(crate) fn write_notice<S: BufferedSink>(
    ctx: &Context<'_, '_>,
    sink: &mut S,
    scratch: &mut Scratch,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let n = ctx.counts.get(LogType::Notice);
    let world = ctx.minute.world;
    let site = ctx.site();
    for j in 0..n {
        let mut rng = ctx.minute.rng(stream::NOTICE, j);
        let ts = ctx.minute.stratified_ts(j, n, rng.unit());
        let (note, with_conn) = pick_weighted(&mut rng, NOTES, ("SSL::Invalid_Server_Cert", true));
        let kind = match note {
            "SSL::Invalid_Server_Cert" => FlowKind::Ssl,
            "Weird::Activity" | "Scan::Port_Scan" | "SSH::Password_Guessing" => FlowKind::Other,
            _ => FlowKind::Http,
        };
        let flow = ctx.any_flow(kind, &mut rng);
        let (orig, orig_p, resp, resp_p) = if kind == FlowKind::Other {
            let other = OtherConn::of(ctx, &flow);
            (other.orig, other.orig_p, other.resp, other.resp_p)
        } else {
            (flow.orig, flow.orig_p, flow.resp, flow.resp_p)
        };
        let cert = Certificate::of(&flow.server);
        let msg = &mut scratch.a;
        let sub = &mut scratch.b;
        msg.clear();
        sub.clear();
        let scanner = world.external_client(&mut rng);
        let mut itoa_buf = itoa::Buffer::new();
        match note {
            "SSL::Invalid_Server_Cert" => {
                msg.extend_from_slice(b"SSL certificate validation failed with (");
                msg.extend_from_slice(
                    pick_weighted(
                        &mut rng,
                        VALIDATION.get(1..).unwrap_or(VALIDATION),
                        "self signed certificate",
                    )
                    .as_bytes(),
                );
                msg.push(b')');
                cert.push_subject(&flow.server, sub);
            }
            "Scan::Port_Scan" => {
                scanner.push_text(msg);
                msg.extend_from_slice(b" scanned at least 15 unique ports of host ");
                site.public.push_text(msg);
                msg.extend_from_slice(b" in 0m");
                msg.extend_from_slice(itoa_buf.format(rng.range(1, 59)).as_bytes());
                msg.push(b's');
                sub.extend_from_slice(b"remote");
            }
            "SSH::Password_Guessing" => {
                scanner.push_text(msg);
                msg.extend_from_slice(
                    b" appears to be guessing SSH passwords (seen in 30 connections).",
                );
                sub.extend_from_slice(b"Sampled servers:  ");
                for i in 0..3 {
                    if i > 0 {
                        sub.extend_from_slice(b", ");
                    }
                    site.host(3 + rng.below(40) as u32, false).push_text(sub);
                }
            }
            "Weird::Activity" => {
                msg.extend_from_slice(b"Weird activity: ");
                msg.extend_from_slice(pick(
                    &mut rng,
                    &[
                        &b"possible_split_routing"[..],
                        b"SYN_seq_jump",
                        b"window_recision",
                    ],
                    b"SYN_seq_jump",
                ));
            }
            "CaptureLoss::Too_Much_Loss" => {
                msg.extend_from_slice(
                    b"The capture loss script detected an estimated loss rate above ",
                );
                msg.extend_from_slice(itoa_buf.format(rng.range(10, 40)).as_bytes());
                msg.push(b'.');
                crate::synth::clock::push_padded(msg, rng.below(1000), 3);
                msg.push(b'%');
            }
            _ => {
                orig.push_text(msg);
                msg.extend_from_slice(b" is running OpenSSH 7.4 which is vulnerable.");
                sub.extend_from_slice(b"OpenSSH_7.4");
            }
        }
        let on_conn = with_conn && matches!(note, "SSL::Invalid_Server_Cert" | "Weird::Activity");
        sink.begin(ts);
        sink.time(ts);
        if on_conn {
            sink.string(flow.uid.as_bytes());
            conn_id(sink, orig, orig_p, resp, resp_p);
        } else {
            for _ in 0..5 {
                sink.unset();
            }
        }
        if note == "SSL::Invalid_Server_Cert" {
            sink.string(cert.fuid().as_bytes());
        } else {
            sink.unset();
        }
        sink.unset(); // file_mime_type
        sink.unset(); // file_desc
        if on_conn {
            sink.string(b"tcp");
        } else {
            sink.unset();
        }
        sink.string(note.as_bytes());
        sink.string(msg);
        if sub.is_empty() {
            sink.unset();
        } else {
            sink.string(sub);
        }
        match note {
            "SSL::Invalid_Server_Cert" | "Weird::Activity" => {
                sink.addr(orig);
                sink.addr(resp);
                sink.port(resp_p);
            }
            "Scan::Port_Scan" => {
                sink.addr(scanner);
                sink.addr(site.public);
                sink.unset();
            }
            "SSH::Password_Guessing" => {
                sink.addr(scanner);
                sink.unset();
                sink.unset();
            }
            "Software::Vulnerable_Version" => {
                sink.addr(orig);
                sink.unset();
                sink.unset();
            }
            _ => {
                sink.unset();
                sink.unset();
                sink.unset();
            }
        }
        if note == "SSH::Password_Guessing" {
            sink.count(30);
        } else {
            sink.unset();
        }
        sink.unset(); // peer_descr
        list_of_one(sink, b"Notice::ACTION_LOG");
        sink.list_begin(); // email_dest
        sink.list_end();
        sink.interval(3_600.0);
        for _ in 0..5 {
            sink.unset(); // remote_location.*
        }
        sink.end();
        maybe_flush(sink, flush)?;
    }
    Ok(n)
}
