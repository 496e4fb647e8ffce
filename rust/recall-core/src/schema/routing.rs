//! Index routing: which Elasticsearch index a record goes to, and the validation that keeps
//! one tenant's records out of every other tenant's indices.
//!
//! The index name comes from a pattern (default [`DEFAULT_INDEX_PATTERN`],
//! `recall-<tenant>-zeek.<logtype>-<yyyy.MM.dd>`), filled with the validated tenant, the
//! validated log type and the UTC day of the record's `@timestamp`. Isolation rests on three
//! checks made once, when the pattern and tenant are set up:
//! - the pattern must contain `<tenant>` exactly once;
//! - the character right after `<tenant>` cannot occur in a tenant name (tenants are
//!   `[a-z0-9-]`), so no tenant's index name can be read as another tenant's
//!   (`recall-acme-zeek...` vs `recall-acme-corp-zeek...`: `-zeek.` cannot be part of a tenant);
//! - tenants are lowercase `[a-z0-9-]`, 1..=64 characters, start with `[a-z0-9]`, and are
//!   none of Elasticsearch's special names: no `*`, `,`, `/`, `..`, `_all`, upper case or
//!   non-ASCII can reach an index name or a wildcard.
//!
//! Every rendered index name is also checked against Elasticsearch's index name rules.
//!
//! Stage: schema (index names are part of the schema contract: the normaliser routes with
//! them and the index templates match them). Must not import `decode`, `normalize` or
//! `encode`.

use crate::error::{RecallError, Result};

/// The default index pattern.
pub const DEFAULT_INDEX_PATTERN: &str = "recall-<tenant>-zeek.<logtype>-<yyyy.MM.dd>";

/// Maximum tenant name length. Index names are limited to 255 bytes; 64 leaves room for the
/// rest of any reasonable pattern.
pub const MAX_TENANT_LEN: usize = 64;

/// Maximum log type length (Zeek paths are short identifiers).
pub const MAX_LOG_TYPE_LEN: usize = 64;

/// A validated tenant name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant(String);

impl Tenant {
    /// Validate a tenant name (see the module docs for the rules).
    pub fn new(name: &str) -> Result<Self> {
        let bad = |reason: &str| RecallError::Config {
            field: "tenant".to_owned(),
            reason: format!("{name:?}: {reason}"),
        };
        if name.is_empty() || name.len() > MAX_TENANT_LEN {
            return Err(bad(&format!("must be 1..={MAX_TENANT_LEN} characters")));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad(
                "only lowercase ASCII letters, digits and '-' are allowed",
            ));
        }
        if name.starts_with('-') {
            return Err(bad("must not start with '-'"));
        }
        if name == "all" || name == "_all" {
            return Err(bad("reserved name"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The tenant name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validate a Zeek log type (`conn`, `dns`, `smb_files`): lowercase `[a-z0-9_]`, starting
/// with a letter or digit, at most [`MAX_LOG_TYPE_LEN`] characters.
pub fn validate_log_type(log_type: &str) -> Result<()> {
    let ok = !log_type.is_empty()
        && log_type.len() <= MAX_LOG_TYPE_LEN
        && log_type
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !log_type.starts_with('_');
    if ok {
        Ok(())
    } else {
        Err(RecallError::Config {
            field: "log_type".to_owned(),
            reason: format!(
                "{log_type:?}: must be 1..={MAX_LOG_TYPE_LEN} of [a-z0-9_], not starting with '_'"
            ),
        })
    }
}

/// One piece of a parsed index pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Tenant,
    LogType,
    /// A date made of `yyyy`, `MM`, `dd` and separators, e.g. `yyyy.MM.dd`.
    Date(Vec<DatePart>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatePart {
    Year,
    Month,
    Day,
    Sep(u8),
}

/// A parsed, validated index name pattern.
///
/// Placeholders: `<tenant>` (required, once), `<logtype>`, and one date placeholder made of
/// `yyyy`, `MM`, `dd` and `.`/`-` separators (`<yyyy.MM.dd>`, `<yyyy.MM>`, `<yyyy-MM-dd>`).
/// Everything else is literal and must be valid in an index name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPattern {
    source: String,
    pieces: Vec<Piece>,
}

impl IndexPattern {
    /// Parse and validate a pattern.
    pub fn parse(pattern: &str) -> Result<Self> {
        let bad = |reason: String| RecallError::Config {
            field: "index_pattern".to_owned(),
            reason: format!("{pattern:?}: {reason}"),
        };
        let mut pieces = Vec::new();
        let mut rest = pattern;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('<') {
                let end = after
                    .find('>')
                    .ok_or_else(|| bad("unclosed '<'".to_owned()))?;
                let name = &after[..end];
                rest = &after[end + 1..];
                pieces.push(match name {
                    "tenant" => Piece::Tenant,
                    "logtype" => Piece::LogType,
                    date => Piece::Date(
                        parse_date(date)
                            .ok_or_else(|| bad(format!("unknown placeholder <{date}>")))?,
                    ),
                });
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let literal = &rest[..end];
                if literal.contains('>') {
                    return Err(bad("stray '>'".to_owned()));
                }
                pieces.push(Piece::Literal(literal.to_owned()));
                rest = &rest[end..];
            }
        }
        let tenants = pieces.iter().filter(|p| **p == Piece::Tenant).count();
        if tenants != 1 {
            return Err(bad(
                "must contain <tenant> exactly once (tenant isolation)".to_owned()
            ));
        }
        if pieces
            .iter()
            .filter(|p| matches!(p, Piece::Date(_)))
            .count()
            > 1
        {
            return Err(bad("at most one date placeholder".to_owned()));
        }
        // The character after <tenant> must not be a tenant character, so that the tenant
        // can be read back unambiguously from any index name.
        let tenant_at = pieces.iter().position(|p| *p == Piece::Tenant).unwrap_or(0);
        match pieces.get(tenant_at + 1) {
            None => {}
            Some(Piece::Literal(lit)) => {
                let b = lit.as_bytes().first().copied().unwrap_or(b'a');
                if b.is_ascii_lowercase() || b.is_ascii_digit() {
                    return Err(bad("<tenant> must be followed by a character that cannot occur in a tenant name".to_owned()));
                }
                if b == b'-' {
                    // '-' can occur in tenants; it is allowed only when the literal then
                    // continues with something tenants lack, and the next piece cannot
                    // start a tenant-like run: require a '.' or '_' inside the literal.
                    if !lit.bytes().any(|c| c == b'.' || c == b'_') {
                        return Err(bad("a '-' after <tenant> must be followed by a literal containing '.' or '_' (e.g. '-zeek.')".to_owned()));
                    }
                }
            }
            Some(_) => {
                return Err(bad(
                    "<tenant> must be followed by a literal separator".to_owned()
                ));
            }
        }
        // Before <tenant>: nothing, or a literal that either starts the pattern or contains a
        // character tenants lack, so the tenant's start is unambiguous too.
        if tenant_at > 0 {
            match pieces.get(tenant_at - 1) {
                Some(Piece::Literal(lit)) => {
                    let separated = lit
                        .bytes()
                        .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'));
                    if tenant_at > 1 && !separated {
                        return Err(bad("the literal before <tenant> must contain a character that cannot occur in a tenant name".to_owned()));
                    }
                }
                _ => {
                    return Err(bad(
                        "<tenant> must be preceded by a literal separator".to_owned()
                    ));
                }
            }
        }
        let parsed = Self {
            source: pattern.to_owned(),
            pieces,
        };
        // Check the literal parts with sample values.
        let sample = parsed.render_raw("t", "conn", 0);
        validate_index_name(&sample).map_err(bad)?;
        Ok(parsed)
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern contains a date placeholder (indices per time period).
    pub fn has_date(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Date(_)))
    }

    /// The index name for a tenant, log type and UTC day (days since 1970-01-01). The log
    /// type must be valid ([`validate_log_type`]); the result is checked against
    /// Elasticsearch's index name rules.
    pub fn render(&self, tenant: &Tenant, log_type: &str, day: i64) -> Result<String> {
        validate_log_type(log_type)?;
        let name = self.render_raw(tenant.as_str(), log_type, day);
        validate_index_name(&name).map_err(|reason| RecallError::Config {
            field: "index_pattern".to_owned(),
            reason: format!("{name:?}: {reason}"),
        })?;
        Ok(name)
    }

    /// An Elasticsearch index pattern (wildcards) matching every index of `log_type` (all
    /// log types when `None`) of every tenant and day: what index templates match.
    pub fn template_glob(&self, log_type: Option<&str>) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(l) => out.push_str(l),
                Piece::LogType => out.push_str(log_type.unwrap_or("*")),
                Piece::Tenant | Piece::Date(_) => {
                    if !out.ends_with('*') {
                        out.push('*');
                    }
                }
            }
        }
        out
    }

    /// The same pattern without its date placeholder and the separator before it: the name
    /// of a data stream (one per tenant and log type).
    #[must_use]
    pub fn without_date(&self) -> Self {
        let mut pieces: Vec<Piece> = Vec::with_capacity(self.pieces.len());
        for piece in &self.pieces {
            if matches!(piece, Piece::Date(_)) {
                if let Some(Piece::Literal(prev)) = pieces.last_mut() {
                    while prev.ends_with(['-', '.', '_']) {
                        prev.pop();
                    }
                }
                continue;
            }
            pieces.push(piece.clone());
        }
        pieces.retain(|p| !matches!(p, Piece::Literal(l) if l.is_empty()));
        let source = pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(l) => l.clone(),
                Piece::Tenant => "<tenant>".to_owned(),
                Piece::LogType => "<logtype>".to_owned(),
                Piece::Date(_) => String::new(),
            })
            .collect();
        Self { source, pieces }
    }

    fn render_raw(&self, tenant: &str, log_type: &str, day: i64) -> String {
        let mut out = String::with_capacity(self.source.len() + 16);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(l) => out.push_str(l),
                Piece::Tenant => out.push_str(tenant),
                Piece::LogType => out.push_str(log_type),
                Piece::Date(parts) => {
                    let (y, m, d) = civil_from_days(day);
                    for part in parts {
                        match part {
                            DatePart::Year => push_padded(&mut out, y, 4),
                            DatePart::Month => push_padded(&mut out, i64::from(m), 2),
                            DatePart::Day => push_padded(&mut out, i64::from(d), 2),
                            DatePart::Sep(c) => out.push(char::from(*c)),
                        }
                    }
                }
            }
        }
        out
    }
}

fn push_padded(out: &mut String, value: i64, width: usize) {
    let text = value.unsigned_abs().to_string();
    if value < 0 {
        out.push('-');
    }
    for _ in text.len()..width {
        out.push('0');
    }
    out.push_str(&text);
}

fn parse_date(spec: &str) -> Option<Vec<DatePart>> {
    let mut parts = Vec::new();
    let mut rest = spec;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("yyyy") {
            parts.push(DatePart::Year);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("MM") {
            parts.push(DatePart::Month);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("dd") {
            parts.push(DatePart::Day);
            rest = r;
        } else if let Some(r) = rest.strip_prefix('.') {
            parts.push(DatePart::Sep(b'.'));
            rest = r;
        } else if let Some(r) = rest.strip_prefix('-') {
            parts.push(DatePart::Sep(b'-'));
            rest = r;
        } else {
            return None;
        }
    }
    parts.contains(&DatePart::Year).then_some(parts)
}

/// Elasticsearch's index name rules: lowercase, at most 255 bytes, not `.`/`..`, not
/// starting with `-`, `_` or `+`, none of `\ / * ? " < > | , #`, space or `:`.
pub fn validate_index_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name.len() > 255 {
        return Err("index names must be 1..=255 bytes".to_owned());
    }
    if name == "." || name == ".." {
        return Err("index name cannot be '.' or '..'".to_owned());
    }
    if name.starts_with(['-', '_', '+']) {
        return Err("index name cannot start with '-', '_' or '+'".to_owned());
    }
    if let Some(c) = name.chars().find(|c| {
        !c.is_ascii()
            || c.is_ascii_uppercase()
            || c.is_ascii_control()
            || "\\/*?\"<>|,# :".contains(*c)
    }) {
        return Err(format!("character {c:?} is not allowed in index names"));
    }
    Ok(())
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Nanoseconds per day.
pub const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// UTC day (days since 1970-01-01) of a nanosecond timestamp.
pub fn day_of_nanos(ts_ns: i64) -> i64 {
    ts_ns.div_euclid(NANOS_PER_DAY)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tenant_rules() {
        for ok in ["acme", "acme-corp", "a", "0day", &"a".repeat(64)] {
            assert!(Tenant::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-acme",
            "_acme",
            "Acme",
            "acme_corp",
            "acme.corp",
            "ac..me",
            "a*",
            "a,b",
            "a/b",
            "_all",
            "all",
            "ümlaut",
            "a b",
            &"a".repeat(65),
            "acme\n",
        ] {
            assert!(Tenant::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn log_type_rules() {
        for ok in ["conn", "smb_files", "x509", "dce_rpc"] {
            assert!(validate_log_type(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "Conn", "conn-x", "conn.x", "_conn", "*", "dns,conn", "ç",
        ] {
            assert!(validate_log_type(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_pattern_renders_utc_day() {
        let p = IndexPattern::parse(DEFAULT_INDEX_PATTERN).unwrap();
        let t = Tenant::new("acme").unwrap();
        // 1521911720 = 2018-03-24T17:15:20Z
        let day = day_of_nanos(1_521_911_720_865_716_000);
        assert_eq!(
            p.render(&t, "conn", day).unwrap(),
            "recall-acme-zeek.conn-2018.03.24"
        );
        assert_eq!(
            p.render(&t, "dns", 0).unwrap(),
            "recall-acme-zeek.dns-1970.01.01"
        );
        assert_eq!(
            p.render(&t, "dns", -1).unwrap(),
            "recall-acme-zeek.dns-1969.12.31"
        );
        assert!(p.render(&t, "Bad", 0).is_err());
        assert_eq!(p.template_glob(Some("conn")), "recall-*-zeek.conn-*");
        assert_eq!(p.template_glob(None), "recall-*-zeek.*-*");
        assert_eq!(
            p.without_date().render(&t, "conn", 0).unwrap(),
            "recall-acme-zeek.conn"
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_834), (2024, 4, 21));
        assert_eq!(day_of_nanos(-1), -1);
    }

    #[test]
    fn patterns_that_break_isolation_are_refused() {
        for bad in [
            "recall-zeek.<logtype>",       // no tenant
            "<tenant><logtype>",           // ambiguous join
            "recall-<tenant>-<logtype>",   // '-' then a placeholder
            "recall-<tenant>a-<logtype>",  // tenant character after tenant
            "<tenant>-<tenant>",           // twice
            "recall-<tenant>-zeek.<nope>", // unknown placeholder
            "Recall-<tenant>.<logtype>",   // upper case literal
            "recall <tenant>.<logtype>",   // space
            "_recall-<tenant>.<logtype>",  // leading underscore
            "<logtype><tenant>.x",         // ambiguous start of the tenant
            "<logtype>-<tenant>.x",        // '-' before the tenant after a placeholder
        ] {
            assert!(IndexPattern::parse(bad).is_err(), "{bad}");
        }
        for ok in [
            "<tenant>.zeek.<logtype>",
            "zeek_<logtype>_<tenant>",
            "r-<tenant>_<logtype>-<yyyy.MM>",
        ] {
            assert!(IndexPattern::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn distinct_tenants_never_share_an_index() {
        let p = IndexPattern::parse(DEFAULT_INDEX_PATTERN).unwrap();
        let tenants = ["a", "a-b", "a-b-zeek", "ab", "b"];
        let mut names = std::collections::HashSet::new();
        for t in tenants {
            for lt in ["conn", "zeek", "b_zeek"] {
                let name = p.render(&Tenant::new(t).unwrap(), lt, 1).unwrap();
                assert!(names.insert(name.clone()), "{name} produced twice");
            }
        }
    }
}
