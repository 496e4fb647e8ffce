//! http.log and files.log. An HTTP flow's request and response (method, status, sizes, MIME
//! type, file ids) are a pure function of the flow, so conn.log byte counts, http.log and
//! files.log agree: file `j` of files.log is the response body of HTTP flow `j` when that
//! response has a body, and some other transfer (SMB, SMTP, FTP) otherwise.

use super::{
    conn_id, duration_s, list_of_one, local_flag, maybe_flush, micros, pick, pick_weighted,
    push_hex, stream, BufferedSink, Context, Flush, Scratch,
};
use crate::error::RecallError;
use crate::synth::addr::Addr;
use crate::synth::rng::{mix, Rng};
use crate::synth::schema::LogType;
use crate::synth::values::{
    uris_for, FILE_NAMES, METHODS, MIME_TYPES, STATUSES, URIS_ANY, USER_AGENTS, WORDS,
};
use crate::synth::world::{public_v4, Flow, FlowKind, ZeekId};

const SHAPE_TAG: u64 = 0x6874_7470;

/// URIs with bytes a decoder must un-escape: UTF-8, spaces, control bytes, tabs, backslashes,
/// invalid UTF-8.
const ODD_URIS: &[&[u8]] = &[
    b"/search?q=caf\xc3\xa9&lang=fr",
    b"/files/Q3 report final.pdf",
    b"/cgi-bin/test.cgi?x=\x01\x02",
    b"/%2e%2e/%2e%2e/etc/passwd",
    b"/index.php?s=/Index/\\think\\app/invokefunction",
    b"/path\twith\ttab",
    b"/\xff\xfe.asp",
];

/// What an HTTP flow's request and response look like.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpShape {
    pub(crate) method: &'static str,
    pub(crate) method_is_connect: bool,
    /// `None`: no response seen.
    pub(crate) status: Option<(u16, &'static str)>,
    pub(crate) request_header_bytes: u64,
    pub(crate) request_body_len: u64,
    pub(crate) response_body_len: u64,
    pub(crate) trans_depth: u64,
    pub(crate) mime: &'static str,
    pub(crate) mime_known: bool,
    pub(crate) resp_filename: Option<&'static str>,
    pub(crate) resp_fuid: ZeekId,
    pub(crate) orig_fuid: ZeekId,
    seed: u64,
}

fn body_size(rng: &mut Rng, mime: &str) -> u64 {
    let (median, sigma) = match mime {
        "text/html" => (8_000.0, 1.4),
        "application/json" | "application/ocsp-response" | "application/xml" => (1_500.0, 1.2),
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => (20_000.0, 1.5),
        "application/javascript" | "text/css" | "font/woff2" => (35_000.0, 1.2),
        "video/mp2t" => (400_000.0, 0.8),
        "text/plain" => (300.0, 1.5),
        _ => (500_000.0, 2.0),
    };
    rng.log_normal(median, sigma, 1.0, 500e6) as u64
}

impl HttpShape {
    pub(crate) fn of(flow: &Flow) -> Self {
        let mut rng = Rng::new(mix(flow.traits, SHAPE_TAG));
        let method = pick_weighted(&mut rng, METHODS, "GET");
        let method_is_connect = method == "CONNECT";
        let status = if rng.chance(15) {
            None
        } else if method_is_connect {
            Some((200, "Connection established"))
        } else {
            Some(pick_weighted(&mut rng, STATUSES, (200, "OK")))
        };
        let mut mime = pick_weighted(&mut rng, MIME_TYPES, "text/html");
        let response_body_len = match (status, method) {
            (None | Some((204 | 304, _)), _) | (_, "HEAD" | "CONNECT") => 0,
            (Some((301 | 302, _)), _) => {
                mime = "text/html";
                rng.range(0, 320)
            }
            (Some((code, _)), _) if code >= 400 => {
                mime = "text/html";
                rng.range(150, 1_200)
            }
            _ => body_size(&mut rng, mime),
        };
        let request_body_len = if matches!(method, "POST" | "PUT") {
            rng.log_normal(600.0, 1.6, 2.0, 20e6) as u64
        } else {
            0
        };
        let trans_depth = if rng.chance(800) { 1 } else { rng.range(2, 20) };
        Self {
            method,
            method_is_connect,
            status,
            request_header_bytes: rng.range(250, 900),
            request_body_len,
            response_body_len,
            trans_depth,
            mime,
            mime_known: !rng.chance(40),
            resp_filename: rng
                .chance(30)
                .then(|| pick(&mut rng, FILE_NAMES, "report.pdf")),
            resp_fuid: ZeekId::new(b'F', mix(flow.traits, 0x4652)),
            orig_fuid: ZeekId::new(b'F', mix(flow.traits, 0x464F)),
            seed: rng.next_u64(),
        }
    }
}

/// Expand a URI template (`{n}`, `{h}`, `{w}`) into `out`.
fn push_uri(rng: &mut Rng, template: &str, out: &mut Vec<u8>) {
    let bytes = template.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'{' && bytes.get(i + 2) == Some(&b'}') {
            match bytes.get(i + 1) {
                Some(b'n') => {
                    let n = rng.log_normal(500.0, 2.0, 1.0, 9e9) as u64;
                    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                }
                Some(b'h') => push_hex(out, rng.next_u64(), 8, false),
                _ => out.extend_from_slice(pick(rng, WORDS, "report").as_bytes()),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
}

/// Write http.log for the context's minute.
// One record's columns in `#fields` order read best as one sequence.
#[allow(clippy::too_many_lines)]
pub(crate) fn write_http<S: BufferedSink>(
    ctx: &Context<'_, '_>,
    sink: &mut S,
    scratch: &mut Scratch,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let n = ctx.counts.get(LogType::Http);
    let world = ctx.minute.world;
    for j in 0..n {
        let flow = ctx.flow(FlowKind::Http, j);
        let shape = HttpShape::of(&flow);
        let mut rng = Rng::new(shape.seed);
        sink.begin(flow.ts + micros(rng.range(2_000, 400_000)));
        sink.time(flow.ts);
        sink.token(flow.uid.as_bytes());
        conn_id(sink, flow.orig, flow.orig_p, flow.resp, flow.resp_p);
        sink.count(shape.trans_depth);
        sink.token(shape.method.as_bytes());
        // host
        let host = &mut scratch.a;
        host.clear();
        match rng.below(1000) {
            0..=4 => {}
            5..=74 => flow.resp.push_text(host),
            _ => {
                flow.server.push_name(host);
                if shape.method_is_connect {
                    host.extend_from_slice(b":443");
                } else if flow.resp_p != 80 && rng.chance(500) {
                    host.push(b':');
                    host.extend_from_slice(itoa::Buffer::new().format(flow.resp_p).as_bytes());
                }
            }
        }
        sink.string(host);
        // uri
        let uri = &mut scratch.b;
        uri.clear();
        if shape.method_is_connect {
            uri.extend_from_slice(host);
        } else if rng.chance(5) {
            uri.extend_from_slice(pick(&mut rng, ODD_URIS, b"/"));
        } else {
            let table = if shape.response_body_len > 0 {
                uris_for(shape.mime)
            } else {
                URIS_ANY
            };
            let template = pick_weighted(&mut rng, table, "/");
            push_uri(&mut rng, template, uri);
        }
        sink.string(uri);
        // referrer
        if rng.chance(350) {
            let referrer = &mut scratch.c;
            referrer.clear();
            referrer.extend_from_slice(b"https://");
            world.server(flow.server.index / 4).push_name(referrer);
            if rng.chance(500) {
                push_uri(&mut rng, "/products/{n}?ref={w}", referrer);
            } else {
                referrer.push(b'/');
            }
            sink.string(referrer);
        } else {
            sink.unset();
        }
        sink.token(if rng.chance(40) { b"1.0" } else { b"1.1" });
        if rng.chance(15) {
            sink.unset();
        } else {
            sink.string(pick_weighted(&mut rng, USER_AGENTS, "curl/8.5.0").as_bytes());
        }
        if shape.method == "POST" && rng.chance(300) {
            let origin = &mut scratch.c;
            origin.clear();
            origin.extend_from_slice(b"https://app.");
            flow.server.push_name(origin);
            sink.string(origin);
        } else {
            sink.unset();
        }
        sink.count(shape.request_body_len);
        sink.count(shape.response_body_len);
        if let Some((code, msg)) = shape.status {
            sink.count(u64::from(code));
            sink.token(msg.as_bytes());
        } else {
            sink.unset();
            sink.unset();
        }
        if shape.request_body_len > 1_000 && rng.chance(200) {
            sink.count(100);
            sink.token(b"Continue");
        } else {
            sink.unset();
            sink.unset();
        }
        sink.list_begin();
        if rng.chance(2) {
            sink.list_string(b"HTTP::URI_SQLI");
        }
        sink.list_end();
        if rng.chance(4) {
            sink.string(pick(
                &mut rng,
                &[&b"admin"[..], b"svc-backup", b"j.doe"],
                b"admin",
            ));
        } else {
            sink.unset();
        }
        sink.unset(); // password: not captured by default
        if rng.chance(30) {
            sink.list_begin();
            let proxied = &mut scratch.c;
            proxied.clear();
            proxied.extend_from_slice(b"X-FORWARDED-FOR -> ");
            public_v4(rng.next_u64()).push_text(proxied);
            sink.list_string(proxied);
            if rng.chance(500) {
                sink.list_string(b"VIA -> 1.1 proxy01 (squid/6.6)");
            }
            sink.list_end();
        } else {
            sink.unset();
        }
        if shape.request_body_len > 0 {
            list_of_one(sink, shape.orig_fuid.as_bytes());
            if rng.chance(100) {
                list_of_one(sink, pick(&mut rng, FILE_NAMES, "upload.bin").as_bytes());
            } else {
                sink.unset();
            }
            list_of_one(
                sink,
                pick(
                    &mut rng,
                    &[
                        &b"application/json"[..],
                        b"text/plain",
                        b"application/octet-stream",
                    ],
                    b"text/plain",
                ),
            );
        } else {
            sink.unset();
            sink.unset();
            sink.unset();
        }
        if shape.response_body_len > 0 {
            list_of_one(sink, shape.resp_fuid.as_bytes());
            match shape.resp_filename {
                Some(name) => list_of_one(sink, name.as_bytes()),
                None => sink.unset(),
            }
            if shape.mime_known {
                list_of_one(sink, shape.mime.as_bytes());
            } else {
                sink.unset();
            }
        } else {
            sink.unset();
            sink.unset();
            sink.unset();
        }
        sink.end();
        maybe_flush(sink, flush)?;
    }
    Ok(n)
}

/// A file's transfer: who sent it to whom over which connection.
struct Transfer {
    fuid: ZeekId,
    uid: ZeekId,
    tx: Addr,
    rx: Addr,
    source: &'static [u8],
    mime: Option<&'static str>,
    filename: Option<&'static str>,
    size: u64,
    size_known: bool,
}

fn other_transfer(ctx: &Context<'_, '_>, rng: &mut Rng) -> Transfer {
    let site = ctx.site();
    let client = site.host(site.client(rng), false);
    let source = pick_weighted(
        rng,
        &[(50, &b"SMB"[..]), (25, b"SMTP"), (10, b"FTP_DATA")],
        b"SMB",
    );
    let (tx, rx) = match source {
        b"SMB" => (site.host(3 + rng.below(12) as u32, false), client),
        b"SMTP" => (ctx.minute.world.popular_server(rng).v4, site.host(5, false)),
        _ => (ctx.minute.world.popular_server(rng).v4, client),
    };
    let mime = pick_weighted(rng, MIME_TYPES, "application/octet-stream");
    let body_len = body_size(rng, mime);
    Transfer {
        fuid: ZeekId::new(b'F', rng.next_u64()),
        uid: ZeekId::new(b'C', rng.next_u64()),
        tx,
        rx,
        source,
        mime: (!rng.chance(50)).then_some(mime),
        filename: (source != b"FTP_DATA" && rng.chance(700))
            .then(|| pick(rng, FILE_NAMES, "report.pdf")),
        size: body_len,
        size_known: rng.chance(900),
    }
}

/// Write files.log for the context's minute.
// One record's columns in `#fields` order read best as one sequence.
#[allow(clippy::too_many_lines)]
pub(crate) fn write_files<S: BufferedSink>(
    ctx: &Context<'_, '_>,
    sink: &mut S,
    scratch: &mut Scratch,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let n = ctx.counts.get(LogType::Files);
    let n_http = ctx.counts.get(LogType::Http);
    let site = ctx.site();
    for j in 0..n {
        let mut rng = ctx.minute.rng(stream::FILES, j);
        let ts = ctx.minute.stratified_ts(j, n, rng.unit());
        let http = (j < n_http)
            .then(|| {
                let flow = ctx.flow(FlowKind::Http, j);
                let shape = HttpShape::of(&flow);
                (shape.response_body_len > 0).then_some(Transfer {
                    fuid: shape.resp_fuid,
                    uid: flow.uid,
                    tx: flow.resp,
                    rx: flow.orig,
                    source: b"HTTP",
                    mime: shape.mime_known.then_some(shape.mime),
                    filename: shape.resp_filename,
                    size: shape.response_body_len,
                    size_known: !rng.chance(200),
                })
            })
            .flatten();
        let t = match http {
            Some(t) => t,
            None => other_transfer(ctx, &mut rng),
        };
        let duration_us = if t.size < 65_536 {
            0
        } else {
            (t.size as f64 / rng.range(1, 60) as f64) as i64
        };
        sink.begin(ts + duration_us + 5_000);
        sink.time(ts);
        sink.token(t.fuid.as_bytes());
        sink.list_begin();
        sink.list_addr(t.tx);
        sink.list_end();
        sink.list_begin();
        sink.list_addr(t.rx);
        sink.list_end();
        list_of_one(sink, t.uid.as_bytes());
        sink.token(t.source);
        sink.count(0);
        sink.list_begin();
        let is_exe = t.mime == Some("application/x-dosexec");
        if site.hash_files {
            sink.list_string(b"MD5");
            sink.list_string(b"SHA1");
        }
        if is_exe {
            sink.list_string(b"PE");
        }
        sink.list_end();
        match t.mime {
            Some(mime) => sink.token(mime.as_bytes()),
            None => sink.unset(),
        }
        match t.filename {
            Some(name) => sink.string(name.as_bytes()),
            None => sink.unset(),
        }
        sink.interval(duration_s(ts, duration_us));
        local_flag(sink, site, t.tx);
        sink.boolean(false);
        let missing = if rng.chance(5) {
            rng.range(1, t.size.max(2) / 2)
        } else {
            0
        };
        sink.count(t.size - missing);
        if t.size_known {
            sink.count(t.size);
        } else {
            sink.unset();
        }
        sink.count(missing);
        sink.count(0);
        sink.boolean(rng.chance(2));
        sink.unset(); // parent_fuid
        if site.hash_files {
            let content = mix(
                t.fuid
                    .as_bytes()
                    .iter()
                    .fold(0u64, |h, &b| h.wrapping_mul(31) ^ u64::from(b)),
                0x4D44,
            );
            let hex = &mut scratch.a;
            hex.clear();
            push_hex(hex, content, 32, false);
            sink.string(hex);
            hex.clear();
            push_hex(hex, mix(content, 1), 40, false);
            sink.string(hex);
        } else {
            sink.unset();
            sink.unset();
        }
        sink.unset(); // sha256
        sink.unset(); // extracted
        sink.unset(); // extracted_cutoff
        sink.unset(); // extracted_size
        sink.end();
        maybe_flush(sink, flush)?;
    }
    Ok(n)
}
