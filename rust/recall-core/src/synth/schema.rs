//! The log types the generator writes and their exact Zeek column lists.
//!
//! The `#fields` / `#types` lines are copied from real Zeek output (they are schema, not data):
//! conn, dns, ssl, weird, notice and x509 as Zeek 6.2 writes them with its default scripts;
//! http and files as the newest real sensor archive in the project's data set writes them
//! (http is identical to Zeek 6; files still carries `tx_hosts`/`rx_hosts`/`conn_uids` and the
//! extraction fields, the schema most archived sensor data has). The Python tests compare these
//! lists with the headers of the real files at test time.

use std::fmt;
use std::str::FromStr;

use crate::error::RecallError;

/// A Zeek log type the generator can write (the `#path` of the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogType {
    /// `conn.log`: one record per connection.
    Conn,
    /// `dns.log`: one record per query/response pair.
    Dns,
    /// `http.log`: one record per request/response pair.
    Http,
    /// `ssl.log`: one record per TLS handshake.
    Ssl,
    /// `files.log`: one record per file seen on the wire.
    Files,
    /// `weird.log`: protocol anomalies.
    Weird,
    /// `notice.log`: alerts raised by Zeek scripts.
    Notice,
    /// `x509.log`: certificates seen in TLS handshakes.
    X509,
}

impl LogType {
    /// Every log type, in the order files are written and summaries are listed.
    pub const ALL: [LogType; 8] = [
        LogType::Conn,
        LogType::Dns,
        LogType::Http,
        LogType::Ssl,
        LogType::Files,
        LogType::Weird,
        LogType::Notice,
        LogType::X509,
    ];

    /// The default selection: the five logs every deployment ships.
    pub const DEFAULT: [LogType; 5] = [
        LogType::Conn,
        LogType::Dns,
        LogType::Http,
        LogType::Ssl,
        LogType::Files,
    ];

    /// The Zeek path (`#path`, JSON `_path`, file name stem).
    pub const fn name(self) -> &'static str {
        match self {
            LogType::Conn => "conn",
            LogType::Dns => "dns",
            LogType::Http => "http",
            LogType::Ssl => "ssl",
            LogType::Files => "files",
            LogType::Weird => "weird",
            LogType::Notice => "notice",
            LogType::X509 => "x509",
        }
    }

    /// Position in [`LogType::ALL`] (for per-type arrays).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Column names in `#fields` order (also the JSON keys, in the same order).
    pub const fn fields(self) -> &'static [&'static str] {
        match self {
            LogType::Conn => CONN_FIELDS,
            LogType::Dns => DNS_FIELDS,
            LogType::Http => HTTP_FIELDS,
            LogType::Ssl => SSL_FIELDS,
            LogType::Files => FILES_FIELDS,
            LogType::Weird => WEIRD_FIELDS,
            LogType::Notice => NOTICE_FIELDS,
            LogType::X509 => X509_FIELDS,
        }
    }

    /// Column types in `#types` order, spelled as Zeek writes them.
    pub const fn types(self) -> &'static [&'static str] {
        match self {
            LogType::Conn => CONN_TYPES,
            LogType::Dns => DNS_TYPES,
            LogType::Http => HTTP_TYPES,
            LogType::Ssl => SSL_TYPES,
            LogType::Files => FILES_TYPES,
            LogType::Weird => WEIRD_TYPES,
            LogType::Notice => NOTICE_TYPES,
            LogType::X509 => X509_TYPES,
        }
    }
}

impl fmt::Display for LogType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogType {
    type Err = RecallError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogType::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| RecallError::Config {
                field: "log_types".to_owned(),
                reason: format!(
                "unknown log type {s:?}; known: conn, dns, http, ssl, files, weird, notice, x509"
            ),
            })
    }
}

#[rustfmt::skip]
const CONN_FIELDS: &[&str] = &[
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
    "duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp",
    "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes",
    "tunnel_parents",
];
#[rustfmt::skip]
const CONN_TYPES: &[&str] = &[
    "time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count",
    "count", "string", "bool", "bool", "count", "string", "count", "count", "count", "count",
    "set[string]",
];
#[rustfmt::skip]
const DNS_FIELDS: &[&str] = &[
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt",
    "query", "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC",
    "RD", "RA", "Z", "answers", "TTLs", "rejected",
];
#[rustfmt::skip]
const DNS_TYPES: &[&str] = &[
    "time", "string", "addr", "port", "addr", "port", "enum", "count", "interval", "string",
    "count", "string", "count", "string", "count", "string", "bool", "bool", "bool", "bool",
    "count", "vector[string]", "vector[interval]", "bool",
];
#[rustfmt::skip]
const HTTP_FIELDS: &[&str] = &[
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method",
    "host", "uri", "referrer", "version", "user_agent", "origin", "request_body_len",
    "response_body_len", "status_code", "status_msg", "info_code", "info_msg", "tags",
    "username", "password", "proxied", "orig_fuids", "orig_filenames", "orig_mime_types",
    "resp_fuids", "resp_filenames", "resp_mime_types",
];
#[rustfmt::skip]
const HTTP_TYPES: &[&str] = &[
    "time", "string", "addr", "port", "addr", "port", "count", "string", "string", "string",
    "string", "string", "string", "string", "count", "count", "count", "string", "count",
    "string", "set[enum]", "string", "string", "set[string]", "vector[string]",
    "vector[string]", "vector[string]", "vector[string]", "vector[string]", "vector[string]",
];
#[rustfmt::skip]
const SSL_FIELDS: &[&str] = &[
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "cipher",
    "curve", "server_name", "resumed", "last_alert", "next_protocol", "established",
    "ssl_history", "cert_chain_fps", "client_cert_chain_fps", "sni_matches_cert",
    "validation_status",
];
#[rustfmt::skip]
const SSL_TYPES: &[&str] = &[
    "time", "string", "addr", "port", "addr", "port", "string", "string", "string", "string",
    "bool", "string", "string", "bool", "string", "vector[string]", "vector[string]", "bool",
    "string",
];
#[rustfmt::skip]
const FILES_FIELDS: &[&str] = &[
    "ts", "fuid", "tx_hosts", "rx_hosts", "conn_uids", "source", "depth", "analyzers",
    "mime_type", "filename", "duration", "local_orig", "is_orig", "seen_bytes", "total_bytes",
    "missing_bytes", "overflow_bytes", "timedout", "parent_fuid", "md5", "sha1", "sha256",
    "extracted", "extracted_cutoff", "extracted_size",
];
#[rustfmt::skip]
const FILES_TYPES: &[&str] = &[
    "time", "string", "set[addr]", "set[addr]", "set[string]", "string", "count", "set[string]",
    "string", "string", "interval", "bool", "bool", "count", "count", "count", "count", "bool",
    "string", "string", "string", "string", "string", "bool", "count",
];
#[rustfmt::skip]
const WEIRD_FIELDS: &[&str] = &[
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "name", "addl", "notice",
    "peer", "source",
];
#[rustfmt::skip]
const WEIRD_TYPES: &[&str] = &[
    "time", "string", "addr", "port", "addr", "port", "string", "string", "bool", "string",
    "string",
];
#[rustfmt::skip]
const NOTICE_FIELDS: &[&str] = &[
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "fuid", "file_mime_type",
    "file_desc", "proto", "note", "msg", "sub", "src", "dst", "p", "n", "peer_descr", "actions",
    "email_dest", "suppress_for", "remote_location.country_code", "remote_location.region",
    "remote_location.city", "remote_location.latitude", "remote_location.longitude",
];
#[rustfmt::skip]
const NOTICE_TYPES: &[&str] = &[
    "time", "string", "addr", "port", "addr", "port", "string", "string", "string", "enum",
    "enum", "string", "string", "addr", "addr", "port", "count", "string", "set[enum]",
    "set[string]", "interval", "string", "string", "string", "double", "double",
];
#[rustfmt::skip]
const X509_FIELDS: &[&str] = &[
    "ts", "fingerprint", "certificate.version", "certificate.serial", "certificate.subject",
    "certificate.issuer", "certificate.not_valid_before", "certificate.not_valid_after",
    "certificate.key_alg", "certificate.sig_alg", "certificate.key_type",
    "certificate.key_length", "certificate.exponent", "certificate.curve", "san.dns", "san.uri",
    "san.email", "san.ip", "basic_constraints.ca", "basic_constraints.path_len", "host_cert",
    "client_cert",
];
#[rustfmt::skip]
const X509_TYPES: &[&str] = &[
    "time", "string", "count", "string", "string", "string", "time", "time", "string", "string",
    "string", "count", "string", "string", "vector[string]", "vector[string]", "vector[string]",
    "vector[addr]", "bool", "count", "bool", "bool",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_types_line_up() {
        for t in LogType::ALL {
            assert_eq!(t.fields().len(), t.types().len(), "{t}");
            assert_eq!(t.fields().first(), Some(&"ts"), "{t}");
            assert_eq!(t.types().first(), Some(&"time"), "{t}");
            assert_eq!(LogType::ALL[t.index()], t);
        }
    }

    #[test]
    fn names_round_trip() {
        for t in LogType::ALL {
            assert_eq!(t.name().parse::<LogType>().ok(), Some(t));
        }
        assert!(matches!(
            "smtp".parse::<LogType>(),
            Err(RecallError::Config { .. })
        ));
    }
}
