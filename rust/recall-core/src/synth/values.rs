//! Value tables the generator draws from. Everything here is written for this project: the
//! names are made up (fictitious companies, invented domains) and the distributions were
//! estimated from the real logs in `shared/data/zeek/` (service and state mix of conn.log,
//! query types and response codes of dns.log, methods and status codes of http.log, versions,
//! ciphers and histories of ssl.log). No value was copied from those files.
//!
//! Weights are relative integers; see `rng::weighted`.

/// Second-level domains of the made-up Internet the sensors talk to.
pub(crate) const DOMAINS: &[&str] = &[
    "northwindtraders.com",
    "contoso-cdn.net",
    "fabrikam.io",
    "adatum-analytics.com",
    "tailspin-games.net",
    "wingtiptoys.com",
    "litware-cloud.com",
    "proseware.net",
    "lucernepublishing.com",
    "margiestravel.com",
    "cohovineyard.com",
    "fourthcoffee.com",
    "woodgrovebank.com",
    "humongousinsurance.com",
    "blueyonderairlines.com",
    "treyresearch.net",
    "alpineskihouse.com",
    "relecloud.com",
    "wideworldimporters.com",
    "southridgevideo.com",
    "consolidatedmessenger.com",
    "lamnahealthcare.com",
    "datumcorp.io",
    "quicksync-api.net",
    "edgefast-cdn.net",
    "pixelstream.tv",
    "metricspulse.io",
    "safeupdate-svc.com",
    "mailrelay-hub.net",
    "docsharebox.com",
    "teamchatly.com",
    "vidmeet-cloud.com",
    "telemetry-hub.net",
    "adsyndicate.net",
    "trackpoint-ads.com",
    "fontserve.net",
    "jslibcdn.org",
    "pkgmirror.org",
    "osupdate-mirror.net",
    "timekeep-ntp.org",
    "certauth-ocsp.com",
    "trustroot-ca.net",
    "weatherwidget.io",
    "newsfeedly.com",
    "shopcartly.com",
    "payflowgate.com",
    "photovault.net",
    "bergwerk-shop.de",
    "tidewater-news.co.uk",
    "maison-lumiere.fr",
    "sakura-apps.jp",
    "vendas-online.com.br",
    "nordlys-media.no",
    "kanga-cloud.com.au",
    "stormpeak-vpn.net",
    "gridlock-games.gg",
];

/// Host labels in front of a domain.
pub(crate) const SUBDOMAINS: &[&str] = &[
    "www",
    "api",
    "cdn",
    "static",
    "img",
    "login",
    "auth",
    "mail",
    "update",
    "telemetry",
    "assets",
    "media",
    "edge",
    "ws",
    "push",
    "files",
    "download",
    "app",
    "m",
    "beacon",
    "metrics",
    "graph",
    "portal",
    "ocsp",
    "sync",
    "events",
    "config",
    "gateway",
];

/// Internal host name prefixes (workstations, laptops, servers, devices).
pub(crate) const HOST_PREFIXES: &[&str] = &[
    "ws",
    "ws",
    "ws",
    "lt",
    "lt",
    "srv-app",
    "srv-db",
    "srv-files",
    "printer",
    "cam",
    "voip",
    "nas",
    "kiosk",
    "build",
    "jump",
];

/// HTTP user agents with weights: browsers dominate, tools and updaters follow, and a few
/// scanners and odd values (a literal `-`, an empty string) appear as on real sensors.
pub(crate) const USER_AGENTS: &[(u32, &str)] = &[
    (14, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"),
    (8, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67"),
    (6, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"),
    (6, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"),
    (4, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"),
    (4, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36"),
    (5, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"),
    (4, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"),
    (2, "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)"),
    (5, "Microsoft-CryptoAPI/10.0"),
    (3, "Microsoft-Delivery-Optimization/10.0"),
    (2, "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50"),
    (2, "Debian APT-HTTP/1.3 (2.6.1)"),
    (3, "curl/8.5.0"),
    (2, "Wget/1.21.4"),
    (3, "python-requests/2.31.0"),
    (2, "Go-http-client/1.1"),
    (2, "okhttp/4.12.0"),
    (1, "Java/17.0.10"),
    (1, "Mozilla/5.0 (compatible; Examplebot/2.1; +http://crawler.examplebot.invalid/bot.html)"),
    (1, "Mozilla/5.0 zgrab/0.x"),
    (1, "masscan/1.3"),
    (1, "-"),
    (1, ""),
];

/// URI templates by the kind of content they return: `{n}` becomes a number, `{h}` eight hex
/// digits, `{w}` a word. Responses without a body use [`URIS_ANY`].
pub(crate) const URIS_HTML: &[(u32, &str)] = &[
    (10, "/"),
    (4, "/index.html"),
    (3, "/products/{n}"),
    (3, "/search?q={w}&page={n}"),
    (2, "/login"),
    (1, "/wp-login.php"),
    (1, "/.env"),
    (1, "/cgi-bin/luci/;stok=/locale?form=country"),
    (1, "/track?cid={h}&ev=view&ref=%2Fhome%3Fa%3D1"),
];
/// JSON APIs.
pub(crate) const URIS_JSON: &[(u32, &str)] = &[
    (6, "/api/v2/users/{n}/profile"),
    (5, "/api/v1/events?since={n}&limit=100"),
    (3, "/v1/metrics/ingest"),
    (2, "/update/check?version=1.{n}.0&os=win64&channel=stable"),
];
/// Images.
pub(crate) const URIS_IMAGE: &[(u32, &str)] = &[
    (6, "/images/products/{n}.jpg"),
    (3, "/favicon.ico"),
    (2, "/img/banner-{h}.png"),
];
/// Scripts, styles, fonts.
pub(crate) const URIS_STATIC: &[(u32, &str)] = &[
    (6, "/static/js/main.{h}.js"),
    (3, "/static/css/app.{h}.css"),
    (2, "/assets/fonts/inter-var.woff2"),
];
/// Video segments.
pub(crate) const URIS_MEDIA: &[(u32, &str)] = &[(1, "/videos/seg-{n}.ts")];
/// OCSP and certificate traffic.
pub(crate) const URIS_OCSP: &[(u32, &str)] = &[
    (3, "/ocsp"),
    (2, "/MFQwUjBQME4wTDAJBgUrDgMCGgUABBQ{h}{h}BBQ{h}AhM{n}"),
];
/// Downloads.
pub(crate) const URIS_DOWNLOAD: &[(u32, &str)] = &[
    (2, "/downloads/installer-{n}.exe"),
    (2, "/docs/report-{n}.pdf"),
    (
        1,
        "/msdownload/update/v3/static/trustedr/en/authrootstl.cab?{h}",
    ),
    (1, "/pub/dists/stable/InRelease"),
    (1, "/files/{w}-{n}.zip"),
];
/// Plain text probes.
pub(crate) const URIS_TEXT: &[(u32, &str)] = &[
    (2, "/connecttest.txt"),
    (2, "/generate_204"),
    (1, "/robots.txt"),
];
/// Anything (responses without a body).
pub(crate) const URIS_ANY: &[(u32, &str)] = &[
    (4, "/"),
    (2, "/generate_204"),
    (2, "/api/v1/events?since={n}&limit=100"),
    (2, "/images/products/{n}.jpg"),
    (1, "/static/js/main.{h}.js"),
];

/// The URI templates that fit a response MIME type.
pub(crate) fn uris_for(mime: &str) -> &'static [(u32, &'static str)] {
    match mime {
        "text/html" => URIS_HTML,
        "application/json" | "application/xml" => URIS_JSON,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => URIS_IMAGE,
        "application/javascript" | "text/css" | "font/woff2" => URIS_STATIC,
        "video/mp2t" => URIS_MEDIA,
        "application/ocsp-response" => URIS_OCSP,
        "text/plain" => URIS_TEXT,
        _ => URIS_DOWNLOAD,
    }
}

/// Words for `{w}` in URIs and for made-up file names.
pub(crate) const WORDS: &[&str] = &[
    "invoice",
    "quarterly",
    "roadmap",
    "holiday",
    "printer",
    "driver",
    "vpn",
    "payroll",
    "weather",
    "recipes",
    "firmware",
    "backup",
    "contract",
    "onboarding",
    "slides",
    "budget",
];

/// HTTP methods with weights (GET dominates; CONNECT through proxies; rare `WebDAV` probes).
pub(crate) const METHODS: &[(u32, &str)] = &[
    (860, "GET"),
    (95, "POST"),
    (20, "HEAD"),
    (8, "PUT"),
    (6, "OPTIONS"),
    (5, "CONNECT"),
    (3, "DELETE"),
    (2, "PROPFIND"),
    (1, "PRI"),
];

/// HTTP status codes with reason phrases and weights.
pub(crate) const STATUSES: &[(u32, (u16, &str))] = &[
    (640, (200, "OK")),
    (20, (204, "No Content")),
    (15, (206, "Partial Content")),
    (35, (301, "Moved Permanently")),
    (40, (302, "Found")),
    (60, (304, "Not Modified")),
    (20, (400, "Bad Request")),
    (10, (401, "Unauthorized")),
    (20, (403, "Forbidden")),
    (110, (404, "Not Found")),
    (5, (405, "Method Not Allowed")),
    (12, (500, "Internal Server Error")),
    (5, (502, "Bad Gateway")),
    (4, (503, "Service Unavailable")),
];

/// Response MIME types (as Zeek's file magic names them) with weights.
pub(crate) const MIME_TYPES: &[(u32, &str)] = &[
    (30, "text/html"),
    (14, "application/json"),
    (8, "image/png"),
    (8, "image/jpeg"),
    (7, "text/plain"),
    (6, "application/javascript"),
    (3, "text/css"),
    (3, "image/gif"),
    (2, "image/webp"),
    (3, "application/ocsp-response"),
    (3, "application/octet-stream"),
    (2, "application/xml"),
    (2, "video/mp2t"),
    (2, "font/woff2"),
    (2, "application/pdf"),
    (1, "application/zip"),
    (1, "application/x-dosexec"),
    (1, "application/vnd.ms-cab-compressed"),
];

/// Made-up file names for Content-Disposition and SMB transfers; some carry commas, spaces,
/// Windows paths and non-ASCII characters so that escaping is exercised.
pub(crate) const FILE_NAMES: &[&str] = &[
    "report.pdf",
    "Q3 budget, final.xlsx",
    "setup_x64.exe",
    "invoice-2024-0412.pdf",
    "photo_0001.jpg",
    "Präsentation.pptx",
    "backup.zip",
    "notes.txt",
    "\\\\fs01\\share\\HR\\policies.docx",
    "driver_update.cab",
];

/// TLS versions with weights.
pub(crate) const TLS_VERSIONS: &[(u32, &str)] = &[
    (560, "TLSv13"),
    (400, "TLSv12"),
    (25, "TLSv10"),
    (10, "TLSv11"),
    (5, "SSLv3"),
];

/// TLS 1.3 cipher suites.
pub(crate) const TLS13_CIPHERS: &[(u32, &str)] = &[
    (60, "TLS_AES_128_GCM_SHA256"),
    (30, "TLS_AES_256_GCM_SHA384"),
    (10, "TLS_CHACHA20_POLY1305_SHA256"),
];

/// TLS 1.2 and older cipher suites.
pub(crate) const TLS12_CIPHERS: &[(u32, &str)] = &[
    (45, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (20, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (12, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (6, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (6, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (5, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (4, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (2, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
];

/// Cipher suites of TLS 1.0/1.1 and `SSLv3` (no AEAD suites before TLS 1.2).
#[rustfmt::skip]
pub(crate) const LEGACY_CIPHERS: &[(u32, &str)] = &[
    (40, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (30, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (20, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (10, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
];

/// Key exchange curves.
pub(crate) const CURVES: &[(u32, &str)] = &[(70, "x25519"), (25, "secp256r1"), (5, "secp384r1")];

/// ALPN results (the empty string means none negotiated: unset field).
pub(crate) const NEXT_PROTOCOLS: &[(u32, &str)] = &[(50, "h2"), (20, "http/1.1"), (30, "")];

/// Certificate validation outcomes.
pub(crate) const VALIDATION: &[(u32, &str)] = &[
    (800, "ok"),
    (100, "unable to get local issuer certificate"),
    (50, "self signed certificate"),
    (30, "certificate has expired"),
    (20, "self signed certificate in certificate chain"),
];

/// Organisations for certificate subjects: (O, L, ST, C). Some need RFC 2253 escaping.
pub(crate) const CERT_ORGS: &[(&str, &str, &str, &str)] = &[
    ("Northwind Traders\\, Inc.", "Seattle", "Washington", "US"),
    ("Contoso Ltd", "Redmond", "Washington", "US"),
    ("Fabrikam GmbH", "Berlin", "Berlin", "DE"),
    ("Woodgrove Bank", "New York", "New York", "US"),
    ("Tailspin Games\\, LLC", "Austin", "Texas", "US"),
    ("Maison Lumière SA", "Lyon", "Auvergne-Rhône-Alpes", "FR"),
    ("Sakura Apps KK", "Tokyo", "Tokyo", "JP"),
];

/// Certificate issuers of the made-up Internet.
pub(crate) const CERT_ISSUERS: &[&str] = &[
    "CN=Trustroot TLS RSA CA 2022,O=Trustroot Inc,C=US",
    "CN=Trustroot TLS ECC CA 2023,O=Trustroot Inc,C=US",
    "CN=Certauth DV SSL CA G3,O=Certauth Ltd,C=GB",
    "CN=R11,O=Open Certificate Authority,C=US",
    "CN=Globecert RSA OV SSL CA 2018,O=Globecert nv-sa,C=BE",
];

/// DNS query types: (weight, (qtype, name)).
pub(crate) const QTYPES: &[(u32, (u16, &str))] = &[
    (560, (1, "A")),
    (220, (28, "AAAA")),
    (60, (65, "HTTPS")),
    (50, (12, "PTR")),
    (25, (33, "SRV")),
    (20, (16, "TXT")),
    (8, (15, "MX")),
    (5, (6, "SOA")),
    (4, (2, "NS")),
    (3, (5, "CNAME")),
    (2, (255, "*")),
];

/// DNS TXT answers, some with commas (escaped `\x2c` inside TSV vectors).
pub(crate) const TXT_ANSWERS: &[&str] = &[
    "v=spf1 include:_spf.mailrelay-hub.net ~all",
    "v=DMARC1; p=none; rua=mailto:dmarc@contoso-cdn.net,mailto:reports@fabrikam.io",
    "site-verification=4f1c2a9be07d4c3f",
    "MS=ms48213377",
];

/// Weird names with the analyzer that reports them; an empty source means unset. Weirds with
/// `true` are connection-less (no uid, no endpoints).
pub(crate) const WEIRDS: &[(u32, (&str, &str, bool))] = &[
    (200, ("bad_HTTP_request", "HTTP", false)),
    (
        180,
        ("line_terminated_with_single_CR", "CONTENTLINE", false),
    ),
    (60, ("above_hole_data_without_any_acks", "TCP", false)),
    (50, ("active_connection_reuse", "TCP", false)),
    (40, ("TCP_ack_underflow_or_misorder", "TCP", false)),
    (30, ("window_recision", "TCP", false)),
    (25, ("unknown_HTTP_method", "HTTP", false)),
    (20, ("unescaped_%_in_URI", "HTTP", false)),
    (20, ("possible_split_routing", "TCP", false)),
    (15, ("data_before_established", "TCP", false)),
    (15, ("dns_unmatched_reply", "DNS", false)),
    (10, ("SYN_seq_jump", "TCP", false)),
    (10, ("inappropriate_FIN", "TCP", false)),
    (10, ("truncated_tcp_payload", "TCP", false)),
    (8, ("DNS_RR_unknown_type", "DNS", false)),
    (6, ("non_ip_packet_in_ethernet", "", true)),
    (4, ("truncated_IPv6", "", true)),
];

/// Unknown HTTP methods and other `addl` values; one carries a tab and one a control byte.
pub(crate) const WEIRD_ADDL: &[&[u8]] =
    &[b"BPROPPATCH", b"46", b"GETT", b"MKCOL\tX", b"\x16\x03\x01"];

/// Notice types: (weight, (note, needs a connection)).
pub(crate) const NOTES: &[(u32, (&str, bool))] = &[
    (60, ("SSL::Invalid_Server_Cert", true)),
    (15, ("Scan::Port_Scan", true)),
    (10, ("SSH::Password_Guessing", true)),
    (8, ("Weird::Activity", true)),
    (5, ("CaptureLoss::Too_Much_Loss", false)),
    (2, ("Software::Vulnerable_Version", true)),
];

/// Public IPv4 first octets used for made-up Internet addresses (no private, loopback,
/// multicast or reserved ranges).
pub(crate) const PUBLIC_V4_FIRST: &[u8] = &[
    3, 13, 18, 20, 23, 31, 34, 35, 37, 40, 44, 45, 46, 50, 51, 52, 54, 62, 64, 66, 69, 74, 77, 78,
    80, 81, 82, 85, 87, 88, 89, 91, 93, 94, 95, 103, 104, 107, 108, 109, 116, 118, 121, 128, 130,
    134, 136, 138, 141, 142, 143, 144, 146, 149, 151, 152, 157, 159, 162, 164, 167, 173, 176, 178,
    182, 185, 188, 193, 194, 195, 199, 205, 207, 208, 209, 212, 213, 216, 217,
];

/// First groups of made-up public IPv6 addresses.
pub(crate) const PUBLIC_V6_FIRST: &[u16] = &[
    0x2600, 0x2606, 0x2607, 0x2620, 0x2a00, 0x2a02, 0x2a03, 0x2a04, 0x2001, 0x2400, 0x2404, 0x2c0f,
];
