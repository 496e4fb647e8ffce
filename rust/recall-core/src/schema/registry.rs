//! The built-in registry of common Zeek log types: field name -> Zeek type, in the order Zeek
//! writes the columns.
//!
//! Stage: schema. Must not import `decode`.
//!
//! Why a registry: JSON logs carry no types, and unset fields are left out of objects, so the
//! JSON decoder needs the field list and types from somewhere to produce the same Arrow schema
//! as the TSV copy of the same traffic. Headerless TSV uses it too when the caller names the
//! log type.
//!
//! Where the lists come from: the `&log` fields of Zeek 6.2's default scripts (the WRCCDC logs
//! in the developer data set were written by 6.2 and match these lists column for column; a
//! test checks every real TSV header against this table). Fields written only by older or
//! newer Zeek versions or by common packages are entries with [`Presence::Optional`]: they
//! type the field when it appears, without adding an always-null column to every batch.
//!
//! The table is data, not code: ECS mapping and index templates will add columns to
//! [`FieldSpec`] (construct entries through [`FieldSpec::new`] / [`FieldSpec::optional`] so a
//! new column only needs a default there).

use super::zeek::ZeekType;

/// Whether a registry field is part of the log type's default column set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Written by the default Zeek 6.2 scripts: always a column of decoded JSON batches.
    Default,
    /// Written by other versions or packages: typed when seen, a column only once seen.
    Optional,
}

/// One field of a log type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Column name exactly as Zeek writes it (`id.orig_h`).
    pub name: &'static str,
    /// Zeek type name as Zeek writes it in `#types` (parse with [`ZeekType::parse`]).
    pub zeek_type: &'static str,
    /// Default column or optional (other versions, packages).
    pub presence: Presence,
}

impl FieldSpec {
    /// A default field (always a column).
    pub const fn new(name: &'static str, zeek_type: &'static str) -> Self {
        Self {
            name,
            zeek_type,
            presence: Presence::Default,
        }
    }

    /// An optional field (typed when seen).
    pub const fn optional(name: &'static str, zeek_type: &'static str) -> Self {
        Self {
            name,
            zeek_type,
            presence: Presence::Optional,
        }
    }

    /// The parsed Zeek type.
    pub fn parsed_type(&self) -> ZeekType {
        ZeekType::parse(self.zeek_type)
    }
}

/// One log type (`#path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSpec {
    /// The log type as in `#path` / `_path` (`conn`, `dns`, ...).
    pub path: &'static str,
    /// Fields in the order Zeek writes them; optional fields after the default ones.
    pub fields: &'static [FieldSpec],
}

impl LogSpec {
    /// The field with this name, if the registry knows it for this log type.
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The default columns, in order.
    pub fn default_fields(&self) -> impl Iterator<Item = &'static FieldSpec> {
        self.fields
            .iter()
            .filter(|f| f.presence == Presence::Default)
    }
}

/// Bookkeeping keys some writers add to every log (json-streaming-logs, zeekctl clusters).
/// They are typed everywhere, never part of a default column set.
pub static BOOKKEEPING_FIELDS: &[FieldSpec] = &[
    FieldSpec::optional("_path", "string"),
    FieldSpec::optional("_write_ts", "time"),
    FieldSpec::optional("_node_name", "string"),
    FieldSpec::optional("_system_name", "string"),
];

/// The registry entry of a log type, if built in.
pub fn log_spec(path: &str) -> Option<&'static LogSpec> {
    LOG_SPECS
        .binary_search_by(|spec| spec.path.cmp(path))
        .ok()
        .and_then(|i| LOG_SPECS.get(i))
}

/// The type of a field of a log type: the log type's own entry first, then the bookkeeping
/// keys. `None` when the registry does not know the field (the JSON decoder infers it).
pub fn field_spec(path: Option<&str>, name: &str) -> Option<&'static FieldSpec> {
    path.and_then(log_spec)
        .and_then(|spec| spec.field(name))
        .or_else(|| BOOKKEEPING_FIELDS.iter().find(|f| f.name == name))
}

const ANALYZER_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("cause", "string"),
    FieldSpec::new("analyzer_kind", "string"),
    FieldSpec::new("analyzer_name", "string"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("fuid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("failure_reason", "string"),
    FieldSpec::new("failure_data", "string"),
];
const CAPTURE_LOSS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("ts_delta", "interval"),
    FieldSpec::new("peer", "string"),
    FieldSpec::new("gaps", "count"),
    FieldSpec::new("acks", "count"),
    FieldSpec::new("percent_lost", "double"),
];
const CONN_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("proto", "enum"),
    FieldSpec::new("service", "string"),
    FieldSpec::new("duration", "interval"),
    FieldSpec::new("orig_bytes", "count"),
    FieldSpec::new("resp_bytes", "count"),
    FieldSpec::new("conn_state", "string"),
    FieldSpec::new("local_orig", "bool"),
    FieldSpec::new("local_resp", "bool"),
    FieldSpec::new("missed_bytes", "count"),
    FieldSpec::new("history", "string"),
    FieldSpec::new("orig_pkts", "count"),
    FieldSpec::new("orig_ip_bytes", "count"),
    FieldSpec::new("resp_pkts", "count"),
    FieldSpec::new("resp_ip_bytes", "count"),
    FieldSpec::new("tunnel_parents", "set[string]"),
    FieldSpec::optional("ip_proto", "count"),
    FieldSpec::optional("community_id", "string"),
    FieldSpec::optional("orig_l2_addr", "string"),
    FieldSpec::optional("resp_l2_addr", "string"),
    FieldSpec::optional("vlan", "int"),
    FieldSpec::optional("inner_vlan", "int"),
    FieldSpec::optional("speculative_service", "string"),
];
const DCE_RPC_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("rtt", "interval"),
    FieldSpec::new("named_pipe", "string"),
    FieldSpec::new("endpoint", "string"),
    FieldSpec::new("operation", "string"),
];
const DHCP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uids", "set[string]"),
    FieldSpec::new("client_addr", "addr"),
    FieldSpec::new("server_addr", "addr"),
    FieldSpec::new("mac", "string"),
    FieldSpec::new("host_name", "string"),
    FieldSpec::new("client_fqdn", "string"),
    FieldSpec::new("domain", "string"),
    FieldSpec::new("requested_addr", "addr"),
    FieldSpec::new("assigned_addr", "addr"),
    FieldSpec::new("lease_time", "interval"),
    FieldSpec::new("client_message", "string"),
    FieldSpec::new("server_message", "string"),
    FieldSpec::new("msg_types", "vector[string]"),
    FieldSpec::new("duration", "interval"),
];
const DNP3_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("fc_request", "string"),
    FieldSpec::new("fc_reply", "string"),
    FieldSpec::new("iin", "count"),
];
const DNS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("proto", "enum"),
    FieldSpec::new("trans_id", "count"),
    FieldSpec::new("rtt", "interval"),
    FieldSpec::new("query", "string"),
    FieldSpec::new("qclass", "count"),
    FieldSpec::new("qclass_name", "string"),
    FieldSpec::new("qtype", "count"),
    FieldSpec::new("qtype_name", "string"),
    FieldSpec::new("rcode", "count"),
    FieldSpec::new("rcode_name", "string"),
    FieldSpec::new("AA", "bool"),
    FieldSpec::new("TC", "bool"),
    FieldSpec::new("RD", "bool"),
    FieldSpec::new("RA", "bool"),
    FieldSpec::new("Z", "count"),
    FieldSpec::new("answers", "vector[string]"),
    FieldSpec::new("TTLs", "vector[interval]"),
    FieldSpec::new("rejected", "bool"),
    FieldSpec::optional("community_id", "string"),
];
const DPD_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("proto", "enum"),
    FieldSpec::new("analyzer", "string"),
    FieldSpec::new("failure_reason", "string"),
];
const FILES_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("fuid", "string"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("source", "string"),
    FieldSpec::new("depth", "count"),
    FieldSpec::new("analyzers", "set[string]"),
    FieldSpec::new("mime_type", "string"),
    FieldSpec::new("filename", "string"),
    FieldSpec::new("duration", "interval"),
    FieldSpec::new("local_orig", "bool"),
    FieldSpec::new("is_orig", "bool"),
    FieldSpec::new("seen_bytes", "count"),
    FieldSpec::new("total_bytes", "count"),
    FieldSpec::new("missing_bytes", "count"),
    FieldSpec::new("overflow_bytes", "count"),
    FieldSpec::new("timedout", "bool"),
    FieldSpec::new("parent_fuid", "string"),
    FieldSpec::new("md5", "string"),
    FieldSpec::new("sha1", "string"),
    FieldSpec::new("sha256", "string"),
    FieldSpec::new("extracted", "string"),
    FieldSpec::new("extracted_cutoff", "bool"),
    FieldSpec::new("extracted_size", "count"),
    FieldSpec::optional("tx_hosts", "set[addr]"),
    FieldSpec::optional("rx_hosts", "set[addr]"),
    FieldSpec::optional("conn_uids", "set[string]"),
];
const FTP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("user", "string"),
    FieldSpec::new("password", "string"),
    FieldSpec::new("command", "string"),
    FieldSpec::new("arg", "string"),
    FieldSpec::new("mime_type", "string"),
    FieldSpec::new("file_size", "count"),
    FieldSpec::new("reply_code", "count"),
    FieldSpec::new("reply_msg", "string"),
    FieldSpec::new("data_channel.passive", "bool"),
    FieldSpec::new("data_channel.orig_h", "addr"),
    FieldSpec::new("data_channel.resp_h", "addr"),
    FieldSpec::new("data_channel.resp_p", "port"),
    FieldSpec::new("fuid", "string"),
];
const HTTP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("trans_depth", "count"),
    FieldSpec::new("method", "string"),
    FieldSpec::new("host", "string"),
    FieldSpec::new("uri", "string"),
    FieldSpec::new("referrer", "string"),
    FieldSpec::new("version", "string"),
    FieldSpec::new("user_agent", "string"),
    FieldSpec::new("origin", "string"),
    FieldSpec::new("request_body_len", "count"),
    FieldSpec::new("response_body_len", "count"),
    FieldSpec::new("status_code", "count"),
    FieldSpec::new("status_msg", "string"),
    FieldSpec::new("info_code", "count"),
    FieldSpec::new("info_msg", "string"),
    FieldSpec::new("tags", "set[enum]"),
    FieldSpec::new("username", "string"),
    FieldSpec::new("password", "string"),
    FieldSpec::new("proxied", "set[string]"),
    FieldSpec::new("orig_fuids", "vector[string]"),
    FieldSpec::new("orig_filenames", "vector[string]"),
    FieldSpec::new("orig_mime_types", "vector[string]"),
    FieldSpec::new("resp_fuids", "vector[string]"),
    FieldSpec::new("resp_filenames", "vector[string]"),
    FieldSpec::new("resp_mime_types", "vector[string]"),
    FieldSpec::optional("filename", "string"),
];
const INTEL_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("seen.indicator", "string"),
    FieldSpec::new("seen.indicator_type", "enum"),
    FieldSpec::new("seen.where", "enum"),
    FieldSpec::new("seen.node", "string"),
    FieldSpec::new("matched", "set[enum]"),
    FieldSpec::new("sources", "set[string]"),
    FieldSpec::new("fuid", "string"),
    FieldSpec::new("file_mime_type", "string"),
    FieldSpec::new("file_desc", "string"),
];
const IRC_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("nick", "string"),
    FieldSpec::new("user", "string"),
    FieldSpec::new("command", "string"),
    FieldSpec::new("value", "string"),
    FieldSpec::new("addl", "string"),
    FieldSpec::new("dcc_file_name", "string"),
    FieldSpec::new("dcc_file_size", "count"),
    FieldSpec::new("dcc_mime_type", "string"),
    FieldSpec::new("fuid", "string"),
];
const KERBEROS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("request_type", "string"),
    FieldSpec::new("client", "string"),
    FieldSpec::new("service", "string"),
    FieldSpec::new("success", "bool"),
    FieldSpec::new("error_msg", "string"),
    FieldSpec::new("from", "time"),
    FieldSpec::new("till", "time"),
    FieldSpec::new("cipher", "string"),
    FieldSpec::new("forwardable", "bool"),
    FieldSpec::new("renewable", "bool"),
    FieldSpec::new("client_cert_subject", "string"),
    FieldSpec::new("client_cert_fuid", "string"),
    FieldSpec::new("server_cert_subject", "string"),
    FieldSpec::new("server_cert_fuid", "string"),
];
const KNOWN_CERTS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("host", "addr"),
    FieldSpec::new("port_num", "port"),
    FieldSpec::new("subject", "string"),
    FieldSpec::new("issuer_subject", "string"),
    FieldSpec::new("serial", "string"),
];
const KNOWN_HOSTS_FIELDS: &[FieldSpec] =
    &[FieldSpec::new("ts", "time"), FieldSpec::new("host", "addr")];
const KNOWN_SERVICES_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("host", "addr"),
    FieldSpec::new("port_num", "port"),
    FieldSpec::new("port_proto", "enum"),
    FieldSpec::new("service", "set[string]"),
];
const LDAP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("message_id", "int"),
    FieldSpec::new("version", "int"),
    FieldSpec::new("opcode", "string"),
    FieldSpec::new("result", "string"),
    FieldSpec::new("diagnostic_message", "string"),
    FieldSpec::new("object", "string"),
    FieldSpec::new("argument", "string"),
];
const LDAP_SEARCH_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("message_id", "int"),
    FieldSpec::new("scope", "string"),
    FieldSpec::new("deref_aliases", "string"),
    FieldSpec::new("base_object", "string"),
    FieldSpec::new("result_count", "count"),
    FieldSpec::new("result", "string"),
    FieldSpec::new("diagnostic_message", "string"),
    FieldSpec::new("filter", "string"),
    FieldSpec::new("attributes", "vector[string]"),
];
const LOADED_SCRIPTS_FIELDS: &[FieldSpec] = &[FieldSpec::new("name", "string")];
const MODBUS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("tid", "count"),
    FieldSpec::new("unit", "count"),
    FieldSpec::new("func", "string"),
    FieldSpec::new("pdu_type", "string"),
    FieldSpec::new("exception", "string"),
];
const MYSQL_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("cmd", "string"),
    FieldSpec::new("arg", "string"),
    FieldSpec::new("success", "bool"),
    FieldSpec::new("rows", "count"),
    FieldSpec::new("response", "string"),
];
const NOTICE_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("fuid", "string"),
    FieldSpec::new("file_mime_type", "string"),
    FieldSpec::new("file_desc", "string"),
    FieldSpec::new("proto", "enum"),
    FieldSpec::new("note", "enum"),
    FieldSpec::new("msg", "string"),
    FieldSpec::new("sub", "string"),
    FieldSpec::new("src", "addr"),
    FieldSpec::new("dst", "addr"),
    FieldSpec::new("p", "port"),
    FieldSpec::new("n", "count"),
    FieldSpec::new("peer_descr", "string"),
    FieldSpec::new("actions", "set[enum]"),
    FieldSpec::new("email_dest", "set[string]"),
    FieldSpec::new("suppress_for", "interval"),
    FieldSpec::new("remote_location.country_code", "string"),
    FieldSpec::new("remote_location.region", "string"),
    FieldSpec::new("remote_location.city", "string"),
    FieldSpec::new("remote_location.latitude", "double"),
    FieldSpec::new("remote_location.longitude", "double"),
];
const NTLM_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("username", "string"),
    FieldSpec::new("hostname", "string"),
    FieldSpec::new("domainname", "string"),
    FieldSpec::new("server_nb_computer_name", "string"),
    FieldSpec::new("server_dns_computer_name", "string"),
    FieldSpec::new("server_tree_name", "string"),
    FieldSpec::new("success", "bool"),
];
const NTP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("version", "count"),
    FieldSpec::new("mode", "count"),
    FieldSpec::new("stratum", "count"),
    FieldSpec::new("poll", "interval"),
    FieldSpec::new("precision", "interval"),
    FieldSpec::new("root_delay", "interval"),
    FieldSpec::new("root_disp", "interval"),
    FieldSpec::new("ref_id", "string"),
    FieldSpec::new("ref_time", "time"),
    FieldSpec::new("org_time", "time"),
    FieldSpec::new("rec_time", "time"),
    FieldSpec::new("xmt_time", "time"),
    FieldSpec::new("num_exts", "count"),
];
const OCSP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("id", "string"),
    FieldSpec::new("hashAlgorithm", "string"),
    FieldSpec::new("issuerNameHash", "string"),
    FieldSpec::new("issuerKeyHash", "string"),
    FieldSpec::new("serialNumber", "string"),
    FieldSpec::new("certStatus", "string"),
    FieldSpec::new("revoketime", "time"),
    FieldSpec::new("revokereason", "string"),
    FieldSpec::new("thisUpdate", "time"),
    FieldSpec::new("nextUpdate", "time"),
];
const PACKET_FILTER_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("node", "string"),
    FieldSpec::new("filter", "string"),
    FieldSpec::new("init", "bool"),
    FieldSpec::new("success", "bool"),
    FieldSpec::new("failure_reason", "string"),
];
const PE_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("id", "string"),
    FieldSpec::new("machine", "string"),
    FieldSpec::new("compile_ts", "time"),
    FieldSpec::new("os", "string"),
    FieldSpec::new("subsystem", "string"),
    FieldSpec::new("is_exe", "bool"),
    FieldSpec::new("is_64bit", "bool"),
    FieldSpec::new("uses_aslr", "bool"),
    FieldSpec::new("uses_dep", "bool"),
    FieldSpec::new("uses_code_integrity", "bool"),
    FieldSpec::new("uses_seh", "bool"),
    FieldSpec::new("has_import_table", "bool"),
    FieldSpec::new("has_export_table", "bool"),
    FieldSpec::new("has_cert_table", "bool"),
    FieldSpec::new("has_debug_data", "bool"),
    FieldSpec::new("section_names", "vector[string]"),
];
const QUIC_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("version", "string"),
    FieldSpec::new("client_initial_dcid", "string"),
    FieldSpec::new("client_scid", "string"),
    FieldSpec::new("server_scid", "string"),
    FieldSpec::new("server_name", "string"),
    FieldSpec::new("client_protocol", "string"),
    FieldSpec::new("history", "string"),
];
const RADIUS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("username", "string"),
    FieldSpec::new("mac", "string"),
    FieldSpec::new("framed_addr", "addr"),
    FieldSpec::new("tunnel_client", "string"),
    FieldSpec::new("connect_info", "string"),
    FieldSpec::new("reply_msg", "string"),
    FieldSpec::new("result", "string"),
    FieldSpec::new("ttl", "interval"),
];
const RDP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("cookie", "string"),
    FieldSpec::new("result", "string"),
    FieldSpec::new("security_protocol", "string"),
    FieldSpec::new("client_channels", "vector[string]"),
    FieldSpec::new("keyboard_layout", "string"),
    FieldSpec::new("client_build", "string"),
    FieldSpec::new("client_name", "string"),
    FieldSpec::new("client_dig_product_id", "string"),
    FieldSpec::new("desktop_width", "count"),
    FieldSpec::new("desktop_height", "count"),
    FieldSpec::new("requested_color_depth", "string"),
    FieldSpec::new("cert_type", "string"),
    FieldSpec::new("cert_count", "count"),
    FieldSpec::new("cert_permanent", "bool"),
    FieldSpec::new("encryption_level", "string"),
    FieldSpec::new("encryption_method", "string"),
];
const REPORTER_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("level", "enum"),
    FieldSpec::new("message", "string"),
    FieldSpec::new("location", "string"),
];
const RFB_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("client_major_version", "string"),
    FieldSpec::new("client_minor_version", "string"),
    FieldSpec::new("server_major_version", "string"),
    FieldSpec::new("server_minor_version", "string"),
    FieldSpec::new("authentication_method", "string"),
    FieldSpec::new("auth", "bool"),
    FieldSpec::new("share_flag", "bool"),
    FieldSpec::new("desktop_name", "string"),
    FieldSpec::new("width", "count"),
    FieldSpec::new("height", "count"),
];
const SIGNATURES_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("src_addr", "addr"),
    FieldSpec::new("src_port", "port"),
    FieldSpec::new("dst_addr", "addr"),
    FieldSpec::new("dst_port", "port"),
    FieldSpec::new("note", "enum"),
    FieldSpec::new("sig_id", "string"),
    FieldSpec::new("event_msg", "string"),
    FieldSpec::new("sub_msg", "string"),
    FieldSpec::new("sig_count", "count"),
    FieldSpec::new("host_count", "count"),
];
const SIP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("trans_depth", "count"),
    FieldSpec::new("method", "string"),
    FieldSpec::new("uri", "string"),
    FieldSpec::new("date", "string"),
    FieldSpec::new("request_from", "string"),
    FieldSpec::new("request_to", "string"),
    FieldSpec::new("response_from", "string"),
    FieldSpec::new("response_to", "string"),
    FieldSpec::new("reply_to", "string"),
    FieldSpec::new("call_id", "string"),
    FieldSpec::new("seq", "string"),
    FieldSpec::new("subject", "string"),
    FieldSpec::new("request_path", "vector[string]"),
    FieldSpec::new("response_path", "vector[string]"),
    FieldSpec::new("user_agent", "string"),
    FieldSpec::new("status_code", "count"),
    FieldSpec::new("status_msg", "string"),
    FieldSpec::new("warning", "string"),
    FieldSpec::new("request_body_len", "count"),
    FieldSpec::new("response_body_len", "count"),
    FieldSpec::new("content_type", "string"),
];
const SMB_FILES_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("fuid", "string"),
    FieldSpec::new("action", "enum"),
    FieldSpec::new("path", "string"),
    FieldSpec::new("name", "string"),
    FieldSpec::new("size", "count"),
    FieldSpec::new("prev_name", "string"),
    FieldSpec::new("times.modified", "time"),
    FieldSpec::new("times.accessed", "time"),
    FieldSpec::new("times.created", "time"),
    FieldSpec::new("times.changed", "time"),
];
const SMB_MAPPING_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("path", "string"),
    FieldSpec::new("service", "string"),
    FieldSpec::new("native_file_system", "string"),
    FieldSpec::new("share_type", "string"),
];
const SMTP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("trans_depth", "count"),
    FieldSpec::new("helo", "string"),
    FieldSpec::new("mailfrom", "string"),
    FieldSpec::new("rcptto", "set[string]"),
    FieldSpec::new("date", "string"),
    FieldSpec::new("from", "string"),
    FieldSpec::new("to", "set[string]"),
    FieldSpec::new("cc", "set[string]"),
    FieldSpec::new("reply_to", "string"),
    FieldSpec::new("msg_id", "string"),
    FieldSpec::new("in_reply_to", "string"),
    FieldSpec::new("subject", "string"),
    FieldSpec::new("x_originating_ip", "addr"),
    FieldSpec::new("first_received", "string"),
    FieldSpec::new("second_received", "string"),
    FieldSpec::new("last_reply", "string"),
    FieldSpec::new("path", "vector[addr]"),
    FieldSpec::new("user_agent", "string"),
    FieldSpec::new("tls", "bool"),
    FieldSpec::new("fuids", "vector[string]"),
    FieldSpec::new("is_webmail", "bool"),
];
const SNMP_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("duration", "interval"),
    FieldSpec::new("version", "string"),
    FieldSpec::new("community", "string"),
    FieldSpec::new("get_requests", "count"),
    FieldSpec::new("get_bulk_requests", "count"),
    FieldSpec::new("get_responses", "count"),
    FieldSpec::new("set_requests", "count"),
    FieldSpec::new("display_string", "string"),
    FieldSpec::new("up_since", "time"),
];
const SOCKS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("version", "count"),
    FieldSpec::new("user", "string"),
    FieldSpec::new("password", "string"),
    FieldSpec::new("status", "string"),
    FieldSpec::new("request.host", "addr"),
    FieldSpec::new("request.name", "string"),
    FieldSpec::new("request_p", "port"),
    FieldSpec::new("bound.host", "addr"),
    FieldSpec::new("bound.name", "string"),
    FieldSpec::new("bound_p", "port"),
];
const SOFTWARE_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("host", "addr"),
    FieldSpec::new("host_p", "port"),
    FieldSpec::new("software_type", "enum"),
    FieldSpec::new("name", "string"),
    FieldSpec::new("version.major", "count"),
    FieldSpec::new("version.minor", "count"),
    FieldSpec::new("version.minor2", "count"),
    FieldSpec::new("version.minor3", "count"),
    FieldSpec::new("version.addl", "string"),
    FieldSpec::new("unparsed_version", "string"),
];
const SSH_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("version", "count"),
    FieldSpec::new("auth_success", "bool"),
    FieldSpec::new("auth_attempts", "count"),
    FieldSpec::new("direction", "enum"),
    FieldSpec::new("client", "string"),
    FieldSpec::new("server", "string"),
    FieldSpec::new("cipher_alg", "string"),
    FieldSpec::new("mac_alg", "string"),
    FieldSpec::new("compression_alg", "string"),
    FieldSpec::new("kex_alg", "string"),
    FieldSpec::new("host_key_alg", "string"),
    FieldSpec::new("host_key", "string"),
    FieldSpec::new("remote_location.country_code", "string"),
    FieldSpec::new("remote_location.region", "string"),
    FieldSpec::new("remote_location.city", "string"),
    FieldSpec::new("remote_location.latitude", "double"),
    FieldSpec::new("remote_location.longitude", "double"),
];
const SSL_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("version", "string"),
    FieldSpec::new("cipher", "string"),
    FieldSpec::new("curve", "string"),
    FieldSpec::new("server_name", "string"),
    FieldSpec::new("resumed", "bool"),
    FieldSpec::new("last_alert", "string"),
    FieldSpec::new("next_protocol", "string"),
    FieldSpec::new("established", "bool"),
    FieldSpec::new("ssl_history", "string"),
    FieldSpec::new("cert_chain_fps", "vector[string]"),
    FieldSpec::new("client_cert_chain_fps", "vector[string]"),
    FieldSpec::new("sni_matches_cert", "bool"),
    FieldSpec::new("validation_status", "string"),
    FieldSpec::optional("cert_chain_fuids", "vector[string]"),
    FieldSpec::optional("client_cert_chain_fuids", "vector[string]"),
    FieldSpec::optional("subject", "string"),
    FieldSpec::optional("issuer", "string"),
    FieldSpec::optional("client_subject", "string"),
    FieldSpec::optional("client_issuer", "string"),
    FieldSpec::optional("ja3", "string"),
    FieldSpec::optional("ja3s", "string"),
];
const STATS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("peer", "string"),
    FieldSpec::new("mem", "count"),
    FieldSpec::new("pkts_proc", "count"),
    FieldSpec::new("bytes_recv", "count"),
    FieldSpec::new("pkts_dropped", "count"),
    FieldSpec::new("pkts_link", "count"),
    FieldSpec::new("pkt_lag", "interval"),
    FieldSpec::new("pkts_filtered", "count"),
    FieldSpec::new("events_proc", "count"),
    FieldSpec::new("events_queued", "count"),
    FieldSpec::new("active_tcp_conns", "count"),
    FieldSpec::new("active_udp_conns", "count"),
    FieldSpec::new("active_icmp_conns", "count"),
    FieldSpec::new("tcp_conns", "count"),
    FieldSpec::new("udp_conns", "count"),
    FieldSpec::new("icmp_conns", "count"),
    FieldSpec::new("timers", "count"),
    FieldSpec::new("active_timers", "count"),
    FieldSpec::new("files", "count"),
    FieldSpec::new("active_files", "count"),
    FieldSpec::new("dns_requests", "count"),
    FieldSpec::new("active_dns_requests", "count"),
    FieldSpec::new("reassem_tcp_size", "count"),
    FieldSpec::new("reassem_file_size", "count"),
    FieldSpec::new("reassem_frag_size", "count"),
    FieldSpec::new("reassem_unknown_size", "count"),
];
const SYSLOG_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("proto", "enum"),
    FieldSpec::new("facility", "string"),
    FieldSpec::new("severity", "string"),
    FieldSpec::new("message", "string"),
];
const TUNNEL_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("tunnel_type", "enum"),
    FieldSpec::new("action", "enum"),
];
const WEIRD_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("uid", "string"),
    FieldSpec::new("id.orig_h", "addr"),
    FieldSpec::new("id.orig_p", "port"),
    FieldSpec::new("id.resp_h", "addr"),
    FieldSpec::new("id.resp_p", "port"),
    FieldSpec::new("name", "string"),
    FieldSpec::new("addl", "string"),
    FieldSpec::new("notice", "bool"),
    FieldSpec::new("peer", "string"),
    FieldSpec::new("source", "string"),
];
const X509_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("ts", "time"),
    FieldSpec::new("fingerprint", "string"),
    FieldSpec::new("certificate.version", "count"),
    FieldSpec::new("certificate.serial", "string"),
    FieldSpec::new("certificate.subject", "string"),
    FieldSpec::new("certificate.issuer", "string"),
    FieldSpec::new("certificate.not_valid_before", "time"),
    FieldSpec::new("certificate.not_valid_after", "time"),
    FieldSpec::new("certificate.key_alg", "string"),
    FieldSpec::new("certificate.sig_alg", "string"),
    FieldSpec::new("certificate.key_type", "string"),
    FieldSpec::new("certificate.key_length", "count"),
    FieldSpec::new("certificate.exponent", "string"),
    FieldSpec::new("certificate.curve", "string"),
    FieldSpec::new("san.dns", "vector[string]"),
    FieldSpec::new("san.uri", "vector[string]"),
    FieldSpec::new("san.email", "vector[string]"),
    FieldSpec::new("san.ip", "vector[addr]"),
    FieldSpec::new("basic_constraints.ca", "bool"),
    FieldSpec::new("basic_constraints.path_len", "count"),
    FieldSpec::new("host_cert", "bool"),
    FieldSpec::new("client_cert", "bool"),
];

/// Every built-in log type, sorted by path (binary search in [`log_spec`]).
pub static LOG_SPECS: &[LogSpec] = &[
    LogSpec {
        path: "analyzer",
        fields: ANALYZER_FIELDS,
    },
    LogSpec {
        path: "capture_loss",
        fields: CAPTURE_LOSS_FIELDS,
    },
    LogSpec {
        path: "conn",
        fields: CONN_FIELDS,
    },
    LogSpec {
        path: "dce_rpc",
        fields: DCE_RPC_FIELDS,
    },
    LogSpec {
        path: "dhcp",
        fields: DHCP_FIELDS,
    },
    LogSpec {
        path: "dnp3",
        fields: DNP3_FIELDS,
    },
    LogSpec {
        path: "dns",
        fields: DNS_FIELDS,
    },
    LogSpec {
        path: "dpd",
        fields: DPD_FIELDS,
    },
    LogSpec {
        path: "files",
        fields: FILES_FIELDS,
    },
    LogSpec {
        path: "ftp",
        fields: FTP_FIELDS,
    },
    LogSpec {
        path: "http",
        fields: HTTP_FIELDS,
    },
    LogSpec {
        path: "intel",
        fields: INTEL_FIELDS,
    },
    LogSpec {
        path: "irc",
        fields: IRC_FIELDS,
    },
    LogSpec {
        path: "kerberos",
        fields: KERBEROS_FIELDS,
    },
    LogSpec {
        path: "known_certs",
        fields: KNOWN_CERTS_FIELDS,
    },
    LogSpec {
        path: "known_hosts",
        fields: KNOWN_HOSTS_FIELDS,
    },
    LogSpec {
        path: "known_services",
        fields: KNOWN_SERVICES_FIELDS,
    },
    LogSpec {
        path: "ldap",
        fields: LDAP_FIELDS,
    },
    LogSpec {
        path: "ldap_search",
        fields: LDAP_SEARCH_FIELDS,
    },
    LogSpec {
        path: "loaded_scripts",
        fields: LOADED_SCRIPTS_FIELDS,
    },
    LogSpec {
        path: "modbus",
        fields: MODBUS_FIELDS,
    },
    LogSpec {
        path: "mysql",
        fields: MYSQL_FIELDS,
    },
    LogSpec {
        path: "notice",
        fields: NOTICE_FIELDS,
    },
    LogSpec {
        path: "ntlm",
        fields: NTLM_FIELDS,
    },
    LogSpec {
        path: "ntp",
        fields: NTP_FIELDS,
    },
    LogSpec {
        path: "ocsp",
        fields: OCSP_FIELDS,
    },
    LogSpec {
        path: "packet_filter",
        fields: PACKET_FILTER_FIELDS,
    },
    LogSpec {
        path: "pe",
        fields: PE_FIELDS,
    },
    LogSpec {
        path: "quic",
        fields: QUIC_FIELDS,
    },
    LogSpec {
        path: "radius",
        fields: RADIUS_FIELDS,
    },
    LogSpec {
        path: "rdp",
        fields: RDP_FIELDS,
    },
    LogSpec {
        path: "reporter",
        fields: REPORTER_FIELDS,
    },
    LogSpec {
        path: "rfb",
        fields: RFB_FIELDS,
    },
    LogSpec {
        path: "signatures",
        fields: SIGNATURES_FIELDS,
    },
    LogSpec {
        path: "sip",
        fields: SIP_FIELDS,
    },
    LogSpec {
        path: "smb_files",
        fields: SMB_FILES_FIELDS,
    },
    LogSpec {
        path: "smb_mapping",
        fields: SMB_MAPPING_FIELDS,
    },
    LogSpec {
        path: "smtp",
        fields: SMTP_FIELDS,
    },
    LogSpec {
        path: "snmp",
        fields: SNMP_FIELDS,
    },
    LogSpec {
        path: "socks",
        fields: SOCKS_FIELDS,
    },
    LogSpec {
        path: "software",
        fields: SOFTWARE_FIELDS,
    },
    LogSpec {
        path: "ssh",
        fields: SSH_FIELDS,
    },
    LogSpec {
        path: "ssl",
        fields: SSL_FIELDS,
    },
    LogSpec {
        path: "stats",
        fields: STATS_FIELDS,
    },
    LogSpec {
        path: "syslog",
        fields: SYSLOG_FIELDS,
    },
    LogSpec {
        path: "tunnel",
        fields: TUNNEL_FIELDS,
    },
    LogSpec {
        path: "weird",
        fields: WEIRD_FIELDS,
    },
    LogSpec {
        path: "x509",
        fields: X509_FIELDS,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::zeek::ZeekScalar;

    #[test]
    fn specs_are_sorted_unique_and_parse() {
        for pair in LOG_SPECS.windows(2) {
            if let [a, b] = pair {
                assert!(a.path < b.path, "{} must sort before {}", a.path, b.path);
            }
        }
        for spec in LOG_SPECS {
            let mut names: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "duplicate field in {}", spec.path);
            for f in spec.fields {
                assert!(
                    !matches!(f.parsed_type().scalar(), ZeekScalar::Other(_)),
                    "{}.{} has unknown type {}",
                    spec.path,
                    f.name,
                    f.zeek_type
                );
            }
        }
    }

    #[test]
    fn covers_the_required_log_types() {
        for path in [
            "conn",
            "dns",
            "http",
            "ssl",
            "files",
            "x509",
            "notice",
            "weird",
            "smtp",
            "ssh",
            "dhcp",
            "software",
            "known_hosts",
            "known_services",
            "known_certs",
            "kerberos",
            "ntlm",
            "rdp",
            "smb_files",
            "smb_mapping",
            "dce_rpc",
            "ntp",
            "ocsp",
            "syslog",
            "pe",
            "dpd",
            "analyzer",
        ] {
            assert!(log_spec(path).is_some(), "missing {path}");
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            field_spec(Some("conn"), "id.orig_p").map(|f| f.zeek_type),
            Some("port")
        );
        assert_eq!(
            field_spec(Some("conn"), "_write_ts").map(|f| f.zeek_type),
            Some("time")
        );
        assert_eq!(
            field_spec(None, "_path").map(|f| f.zeek_type),
            Some("string")
        );
        assert!(field_spec(Some("conn"), "no_such_field").is_none());
        assert!(log_spec("no_such_log").is_none());
        let files = log_spec("files").map(|s| s.default_fields().count());
        assert_eq!(files, Some(27));
    }
}
