//! The Elastic Common Schema (ECS) side of the schema: which Zeek fields also appear under an
//! ECS name, which ECS fields the normaliser computes, per-log-type constants, and the
//! Elasticsearch mapping of every ECS field and every Zeek type.
//!
//! Stage: schema. Must not import `decode`, `normalize` or `encode` (they read these tables).
//!
//! The target is what users of Elastic's Zeek integration know: `source.ip`,
//! `destination.port`, `network.transport`, `url.original`, `dns.question.name`,
//! `tls.version`, `file.hash.sha1`, ... Every Zeek field is *also* kept under
//! `zeek.<logtype>.<field>` with Zeek's own name (a copy of the same Arrow column, so the ECS
//! names cost nothing in memory). Where ECS has no field, nothing is invented.
//!
//! Elasticsearch mapping decisions (for the templates in `templates`), made once here:
//! - `count` -> `long` with `ignore_malformed`. Elasticsearch's server core has no
//!   `unsigned_long` (an x-pack plugin missing from the integration-test distribution and
//!   from OSS builds) and `double` silently rounds above 2^53. Real counts (bytes, packets)
//!   fit in a long; a value above 2^63-1 (it happens: sentinel values, broken counters) is
//!   still written exactly in `_source`, the document is indexed, and only that one field is
//!   left out of the index and listed in `_ignored` (searchable with `_ignored:<field>`). ECS
//!   also maps `source.bytes` etc. as `long`, so dashboards keep working.
//! - `time` -> `date_nanos` for `ts` and the ECS timestamps (sub-millisecond ordering of flows
//!   matters), `date` for other times (certificate validity can be year 9999, beyond
//!   `date_nanos`). `interval` -> `double` seconds (as Zeek prints them); `event.duration`
//!   is `long` nanoseconds as in ECS.
//! - `addr` -> `ip`; `subnet`, `enum`, `string`, `pattern` and unknown types -> `keyword`
//!   with `ignore_above` so that no term can exceed Lucene's 32766-byte limit (which would
//!   reject the document); `port` -> `long` (ECS); `bool` -> `boolean`; `double` -> `double`.
//! - Every type that can fail to parse a value gets `ignore_malformed: true`: one odd value
//!   must never cost the whole document.

use super::zeek::{ZeekScalar, ZeekType};

/// `ignore_above` for keyword fields: 8191 characters * 4 bytes per UTF-8 character stays
/// below Lucene's 32766-byte term limit, so long URLs and user agents stay searchable and
/// never reject a document.
pub const KEYWORD_IGNORE_ABOVE: u32 = 8191;

/// An Elasticsearch field type available in the server core (no plugins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EsType {
    /// `keyword` with [`KEYWORD_IGNORE_ABOVE`].
    Keyword,
    /// `long` with `ignore_malformed`.
    Long,
    /// `double` with `ignore_malformed`.
    Double,
    /// `boolean`.
    Boolean,
    /// `ip` with `ignore_malformed`.
    Ip,
    /// `date` (millisecond precision, wide range) with `ignore_malformed`.
    Date,
    /// `date_nanos` (nanosecond precision, 1970..2262) with `ignore_malformed`.
    DateNanos,
}

impl EsType {
    /// The Elasticsearch type name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Long => "long",
            Self::Double => "double",
            Self::Boolean => "boolean",
            Self::Ip => "ip",
            Self::Date => "date",
            Self::DateNanos => "date_nanos",
        }
    }

    /// The ES type of a Zeek field. `name` is the field name (a `time` named `ts` is the
    /// record time and gets nanosecond precision).
    pub fn for_zeek(zeek_type: &ZeekType, name: &str) -> Self {
        match zeek_type.scalar() {
            ZeekScalar::Time if name == "ts" => Self::DateNanos,
            ZeekScalar::Time => Self::Date,
            ZeekScalar::Interval | ZeekScalar::Double => Self::Double,
            ZeekScalar::Count | ZeekScalar::Int | ZeekScalar::Port => Self::Long,
            ZeekScalar::Bool => Self::Boolean,
            ZeekScalar::Addr => Self::Ip,
            ZeekScalar::Subnet
            | ZeekScalar::Enum
            | ZeekScalar::String
            | ZeekScalar::Pattern
            | ZeekScalar::Other(_) => Self::Keyword,
        }
    }
}

/// How the normaliser fills an ECS field from a Zeek field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// The same Arrow column under a second name (zero-copy).
    Same,
    /// An `interval` column reinterpreted as integer nanoseconds (ECS `event.duration`).
    DurationNanos,
}

/// One "Zeek field -> ECS field" rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcsRule {
    /// The log type the rule applies to; `None` = every log type.
    pub log_type: Option<&'static str>,
    /// The Zeek field name as Zeek writes it.
    pub zeek_field: &'static str,
    /// The dotted ECS field name.
    pub target: &'static str,
    /// How the value is converted.
    pub conversion: Conversion,
}

const fn any(zeek_field: &'static str, target: &'static str) -> EcsRule {
    EcsRule {
        log_type: None,
        zeek_field,
        target,
        conversion: Conversion::Same,
    }
}

const fn on(log_type: &'static str, zeek_field: &'static str, target: &'static str) -> EcsRule {
    EcsRule {
        log_type: Some(log_type),
        zeek_field,
        target,
        conversion: Conversion::Same,
    }
}

/// The copy rules. Log-type rules win over generic ones for the same target.
pub static ECS_RULES: &[EcsRule] = &[
    any("id.orig_h", "source.ip"),
    any("id.orig_p", "source.port"),
    any("id.resp_h", "destination.ip"),
    any("id.resp_p", "destination.port"),
    any("proto", "network.transport"),
    // conn
    on("conn", "service", "network.protocol"),
    EcsRule {
        log_type: Some("conn"),
        zeek_field: "duration",
        target: "event.duration",
        conversion: Conversion::DurationNanos,
    },
    on("conn", "orig_bytes", "source.bytes"),
    on("conn", "resp_bytes", "destination.bytes"),
    on("conn", "orig_pkts", "source.packets"),
    on("conn", "resp_pkts", "destination.packets"),
    // dns
    on("dns", "trans_id", "dns.id"),
    on("dns", "query", "dns.question.name"),
    on("dns", "qclass_name", "dns.question.class"),
    on("dns", "qtype_name", "dns.question.type"),
    on("dns", "rcode_name", "dns.response_code"),
    on("dns", "answers", "dns.answers.data"),
    // http
    on("http", "method", "http.request.method"),
    on("http", "host", "url.domain"),
    on("http", "uri", "url.original"),
    on("http", "referrer", "http.request.referrer"),
    on("http", "version", "http.version"),
    on("http", "user_agent", "user_agent.original"),
    on("http", "request_body_len", "http.request.body.bytes"),
    on("http", "response_body_len", "http.response.body.bytes"),
    on("http", "status_code", "http.response.status_code"),
    on("http", "username", "url.username"),
    on("http", "orig_mime_types", "http.request.mime_type"),
    on("http", "resp_mime_types", "http.response.mime_type"),
    // ssl
    on("ssl", "cipher", "tls.cipher"),
    on("ssl", "curve", "tls.curve"),
    on("ssl", "server_name", "tls.client.server_name"),
    on("ssl", "resumed", "tls.resumed"),
    on("ssl", "established", "tls.established"),
    on("ssl", "next_protocol", "tls.next_protocol"),
    on("ssl", "subject", "tls.server.subject"),
    on("ssl", "issuer", "tls.server.issuer"),
    on("ssl", "client_subject", "tls.client.subject"),
    on("ssl", "client_issuer", "tls.client.issuer"),
    on("ssl", "ja3", "tls.client.ja3"),
    on("ssl", "ja3s", "tls.server.ja3s"),
    // files
    on("files", "mime_type", "file.mime_type"),
    on("files", "filename", "file.name"),
    on("files", "total_bytes", "file.size"),
    on("files", "md5", "file.hash.md5"),
    on("files", "sha1", "file.hash.sha1"),
    on("files", "sha256", "file.hash.sha256"),
    // other protocols with an obvious ECS home
    on("ftp", "user", "user.name"),
    on("ntlm", "username", "user.name"),
    on("ntlm", "domainname", "user.domain"),
    on("smtp", "helo", "smtp.helo"),
    on("ssh", "client", "ssh.client"),
    on("ssh", "server", "ssh.server"),
];

/// Bookkeeping columns of JSON writers and where they go. `_path` is dropped: it is the log
/// type, already in `event.dataset`.
pub static BOOKKEEPING_TARGETS: &[(&str, Option<&str>)] = &[
    ("_path", None),
    ("_write_ts", Some("event.created")),
    ("_node_name", Some("observer.name")),
    ("_system_name", Some("observer.hostname")),
];

/// Per-log-type constants: fixed transport (for logs of TCP-only or UDP-only analyzers that
/// carry no `proto` column, so that `network.community_id` can be computed), the
/// `network.protocol` value, and `event.category` / `event.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTypeEcs {
    /// The log type.
    pub log_type: &'static str,
    /// `network.transport` when the analyzer only runs over one transport.
    pub transport: Option<&'static str>,
    /// `network.protocol` (application protocol), if fixed.
    pub protocol: Option<&'static str>,
    /// `event.category`.
    pub category: Option<&'static str>,
    /// `event.kind`.
    pub kind: &'static str,
}

const fn lt(
    log_type: &'static str,
    transport: Option<&'static str>,
    protocol: Option<&'static str>,
    category: Option<&'static str>,
) -> LogTypeEcs {
    LogTypeEcs {
        log_type,
        transport,
        protocol,
        category,
        kind: "event",
    }
}

const TCP: Option<&str> = Some("tcp");
const UDP: Option<&str> = Some("udp");
const NET: Option<&str> = Some("network");

/// Per-log-type constants, sorted by log type. Logs not listed get
/// [`LogTypeEcs::generic`]. `ssl` has no fixed transport: DTLS runs over UDP.
pub static LOG_TYPE_ECS: &[LogTypeEcs] = &[
    lt("conn", None, None, NET),
    lt("dce_rpc", None, Some("dce_rpc"), NET),
    lt("dhcp", None, Some("dhcp"), NET),
    lt("dnp3", None, Some("dnp3"), NET),
    lt("dns", None, Some("dns"), NET),
    lt("dpd", None, None, NET),
    lt("files", None, None, Some("file")),
    lt("ftp", TCP, Some("ftp"), NET),
    lt("http", TCP, Some("http"), NET),
    LogTypeEcs {
        log_type: "intel",
        transport: None,
        protocol: None,
        category: Some("threat"),
        kind: "enrichment",
    },
    lt("irc", TCP, Some("irc"), NET),
    lt("kerberos", None, Some("kerberos"), Some("authentication")),
    lt("known_certs", None, None, Some("host")),
    lt("known_hosts", None, None, Some("host")),
    lt("known_services", None, None, Some("host")),
    lt("ldap", None, Some("ldap"), NET),
    lt("ldap_search", None, Some("ldap"), NET),
    lt("modbus", TCP, Some("modbus"), NET),
    lt("mysql", TCP, Some("mysql"), Some("database")),
    LogTypeEcs {
        log_type: "notice",
        transport: None,
        protocol: None,
        category: Some("intrusion_detection"),
        kind: "alert",
    },
    lt("ntlm", None, Some("ntlm"), Some("authentication")),
    lt("ntp", UDP, Some("ntp"), NET),
    lt("pe", None, None, Some("file")),
    lt("quic", UDP, Some("quic"), NET),
    lt("radius", UDP, Some("radius"), Some("authentication")),
    lt("rdp", TCP, Some("rdp"), NET),
    lt("rfb", TCP, Some("rfb"), NET),
    LogTypeEcs {
        log_type: "signatures",
        transport: None,
        protocol: None,
        category: Some("intrusion_detection"),
        kind: "alert",
    },
    lt("sip", None, Some("sip"), NET),
    lt("smb_files", TCP, Some("smb"), Some("file")),
    lt("smb_mapping", TCP, Some("smb"), NET),
    lt("smtp", TCP, Some("smtp"), NET),
    lt("snmp", None, Some("snmp"), NET),
    lt("socks", TCP, Some("socks"), NET),
    lt("software", None, None, Some("host")),
    lt("ssh", TCP, Some("ssh"), NET),
    lt("ssl", None, Some("tls"), NET),
    lt("syslog", None, Some("syslog"), NET),
    lt("tunnel", None, None, NET),
    lt("weird", None, None, NET),
    lt("x509", None, None, Some("file")),
];

impl LogTypeEcs {
    /// Constants for a log type the table does not list.
    pub const fn generic(log_type: &'static str) -> Self {
        Self {
            log_type,
            transport: None,
            protocol: None,
            category: None,
            kind: "event",
        }
    }

    /// The entry for `log_type`, if listed.
    pub fn find(log_type: &str) -> Option<&'static Self> {
        LOG_TYPE_ECS
            .binary_search_by(|e| e.log_type.cmp(log_type))
            .ok()
            .and_then(|i| LOG_TYPE_ECS.get(i))
    }
}

/// The rules that apply to `log_type`, most specific first for each target.
pub fn rules_for(log_type: &str) -> impl Iterator<Item = &'static EcsRule> + '_ {
    ECS_RULES
        .iter()
        .filter(move |r| r.log_type.is_none_or(|t| t == log_type))
}

/// Every ECS field the normaliser can write, with its Elasticsearch type: the copy targets
/// above and the fields it computes. The shared ECS component template maps exactly these.
pub static ECS_FIELDS: &[(&str, EsType)] = &[
    ("@timestamp", EsType::DateNanos),
    ("destination.bytes", EsType::Long),
    ("destination.ip", EsType::Ip),
    ("destination.packets", EsType::Long),
    ("destination.port", EsType::Long),
    ("dns.answers.data", EsType::Keyword),
    ("dns.header_flags", EsType::Keyword),
    ("dns.id", EsType::Keyword),
    ("dns.question.class", EsType::Keyword),
    ("dns.question.name", EsType::Keyword),
    ("dns.question.type", EsType::Keyword),
    ("dns.resolved_ip", EsType::Ip),
    ("dns.response_code", EsType::Keyword),
    ("event.category", EsType::Keyword),
    ("event.created", EsType::DateNanos),
    ("event.dataset", EsType::Keyword),
    ("event.duration", EsType::Long),
    ("event.ingested", EsType::DateNanos),
    ("event.kind", EsType::Keyword),
    ("event.module", EsType::Keyword),
    ("file.hash.md5", EsType::Keyword),
    ("file.hash.sha1", EsType::Keyword),
    ("file.hash.sha256", EsType::Keyword),
    ("file.mime_type", EsType::Keyword),
    ("file.name", EsType::Keyword),
    ("file.size", EsType::Long),
    ("http.request.body.bytes", EsType::Long),
    ("http.request.method", EsType::Keyword),
    ("http.request.mime_type", EsType::Keyword),
    ("http.request.referrer", EsType::Keyword),
    ("http.response.body.bytes", EsType::Long),
    ("http.response.mime_type", EsType::Keyword),
    ("http.response.status_code", EsType::Long),
    ("http.version", EsType::Keyword),
    ("labels.sensor", EsType::Keyword),
    ("labels.source_object", EsType::Keyword),
    ("network.bytes", EsType::Long),
    ("network.community_id", EsType::Keyword),
    ("network.packets", EsType::Long),
    ("network.protocol", EsType::Keyword),
    ("network.transport", EsType::Keyword),
    ("observer.hostname", EsType::Keyword),
    ("observer.name", EsType::Keyword),
    ("organization.id", EsType::Keyword),
    ("smtp.helo", EsType::Keyword),
    ("source.bytes", EsType::Long),
    ("source.ip", EsType::Ip),
    ("source.packets", EsType::Long),
    ("source.port", EsType::Long),
    ("ssh.client", EsType::Keyword),
    ("ssh.server", EsType::Keyword),
    ("tls.cipher", EsType::Keyword),
    ("tls.client.issuer", EsType::Keyword),
    ("tls.client.ja3", EsType::Keyword),
    ("tls.client.server_name", EsType::Keyword),
    ("tls.client.subject", EsType::Keyword),
    ("tls.curve", EsType::Keyword),
    ("tls.established", EsType::Boolean),
    ("tls.next_protocol", EsType::Keyword),
    ("tls.resumed", EsType::Boolean),
    ("tls.server.issuer", EsType::Keyword),
    ("tls.server.ja3s", EsType::Keyword),
    ("tls.server.subject", EsType::Keyword),
    ("tls.version", EsType::Keyword),
    ("tls.version_protocol", EsType::Keyword),
    ("url.domain", EsType::Keyword),
    ("url.original", EsType::Keyword),
    ("url.path", EsType::Keyword),
    ("url.query", EsType::Keyword),
    ("url.username", EsType::Keyword),
    ("user.domain", EsType::Keyword),
    ("user.name", EsType::Keyword),
    ("user_agent.original", EsType::Keyword),
];

/// The ES type of an ECS field, if the normaliser can write it.
pub fn ecs_field_type(path: &str) -> Option<EsType> {
    ECS_FIELDS
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .and_then(|i| ECS_FIELDS.get(i))
        .map(|(_, t)| *t)
}

/// Zeek's `ssl.log` version text (`TLSv12`, `SSLv3`, `DTLSv12`) as ECS `tls.version`
/// (`1.2`, `3.0`) and `tls.version_protocol` (`tls`, `ssl`, `dtls`).
pub fn tls_version(zeek: &str) -> Option<(&'static str, &'static str)> {
    Some(match zeek {
        "SSLv2" => ("2.0", "ssl"),
        "SSLv3" => ("3.0", "ssl"),
        "TLSv10" => ("1.0", "tls"),
        "TLSv11" => ("1.1", "tls"),
        "TLSv12" => ("1.2", "tls"),
        "TLSv13" => ("1.3", "tls"),
        "DTLSv10" => ("1.0", "dtls"),
        "DTLSv12" => ("1.2", "dtls"),
        "DTLSv13" => ("1.3", "dtls"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::registry::{log_spec, LOG_SPECS};

    #[test]
    fn tables_are_sorted_and_consistent() {
        for pair in ECS_FIELDS.windows(2) {
            if let [a, b] = pair {
                assert!(a.0 < b.0, "ECS_FIELDS: {} must sort before {}", a.0, b.0);
            }
        }
        for pair in LOG_TYPE_ECS.windows(2) {
            if let [a, b] = pair {
                assert!(
                    a.log_type < b.log_type,
                    "LOG_TYPE_ECS order: {}",
                    b.log_type
                );
            }
        }
        for rule in ECS_RULES {
            assert!(
                ecs_field_type(rule.target).is_some(),
                "{} not in ECS_FIELDS",
                rule.target
            );
            if let Some(log_type) = rule.log_type {
                let spec = log_spec(log_type).unwrap_or_else(|| unreachable!("{log_type}"));
                let field = spec.field(rule.zeek_field);
                assert!(
                    field.is_some(),
                    "{log_type}.{} not in the registry",
                    rule.zeek_field
                );
            }
        }
        for (_, target) in BOOKKEEPING_TARGETS {
            if let Some(t) = target {
                assert!(ecs_field_type(t).is_some(), "{t}");
            }
        }
        assert!(!LOG_SPECS.is_empty());
    }

    #[test]
    fn ecs_types_agree_with_zeek_types_of_their_sources() {
        // A copy keeps the Zeek value, so the ECS mapping must accept it.
        for rule in ECS_RULES {
            let Some(log_type) = rule.log_type else {
                continue;
            };
            let Some(field) = log_spec(log_type).and_then(|s| s.field(rule.zeek_field)) else {
                continue;
            };
            let zeek = EsType::for_zeek(&field.parsed_type(), field.name);
            let ecs = ecs_field_type(rule.target).unwrap_or(EsType::Keyword);
            let compatible = zeek == ecs
                || ecs == EsType::Keyword
                || (rule.conversion == Conversion::DurationNanos && ecs == EsType::Long);
            assert!(
                compatible,
                "{log_type}.{} ({zeek:?}) -> {} ({ecs:?})",
                rule.zeek_field, rule.target
            );
        }
    }

    #[test]
    fn tls_versions() {
        assert_eq!(tls_version("TLSv12"), Some(("1.2", "tls")));
        assert_eq!(tls_version("SSLv3"), Some(("3.0", "ssl")));
        assert_eq!(tls_version("bogus"), None);
    }
}
