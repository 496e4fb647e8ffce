//! weird.log: protocol anomalies. Most point at a connection of the minute (HTTP parsing
//! weirds at HTTP flows, DNS weirds at DNS flows, TCP weirds at other flows, with the same
//! endpoints conn.log shows); a few are connection-less (no uid, no endpoints).

use super::conn::OtherConn;
use super::{
    conn_id, maybe_flush, pick, pick_weighted, stream, BufferedSink, Context, Flush, Scratch,
};
use crate::error::RecallError;
use crate::synth::schema::LogType;
use crate::synth::values::{WEIRDS, WEIRD_ADDL};
use crate::synth::world::FlowKind;

/// Write weird.log for the context's minute.
pub(crate) fn write<S: BufferedSink>(
    ctx: &Context<'_, '_>,
    sink: &mut S,
    _scratch: &mut Scratch,
    flush: &mut Flush<'_>,
) -> Result<u64, RecallError> {
    let n = ctx.counts.get(LogType::Weird);
    let peer: &[u8] = if ctx.site().seed % 2 == 0 {
        b"zeek"
    } else {
        b"worker-1-1"
    };
    for j in 0..n {
        let mut rng = ctx.minute.rng(stream::WEIRD, j);
        let ts = ctx.minute.stratified_ts(j, n, rng.unit());
        let (name, source, connless) =
            pick_weighted(&mut rng, WEIRDS, ("bad_HTTP_request", "HTTP", false));
        sink.begin(ts);
        sink.time(ts);
        if connless {
            for _ in 0..5 {
                sink.unset();
            }
        } else {
            let kind = match source {
                "HTTP" | "CONTENTLINE" => FlowKind::Http,
                "DNS" => FlowKind::Dns,
                _ if rng.chance(400) => FlowKind::Ssl,
                _ => FlowKind::Other,
            };
            let flow = ctx.any_flow(kind, &mut rng);
            sink.token(flow.uid.as_bytes());
            if kind == FlowKind::Other {
                let other = OtherConn::of(ctx, &flow);
                conn_id(sink, other.orig, other.orig_p, other.resp, other.resp_p);
            } else {
                conn_id(sink, flow.orig, flow.orig_p, flow.resp, flow.resp_p);
            }
        }
        sink.token(name.as_bytes());
        match name {
            "unknown_HTTP_method" => sink.string(pick(&mut rng, WEIRD_ADDL, b"BPROPPATCH")),
            "DNS_RR_unknown_type" => sink.string(b"46"),
            _ => sink.unset(),
        }
        sink.boolean(false);
        sink.token(peer);
        if source.is_empty() {
            sink.unset();
        } else {
            sink.token(source.as_bytes());
        }
        sink.end();
        maybe_flush(sink, flush)?;
    }
    Ok(n)
}
