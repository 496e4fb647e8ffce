//! The computed ECS fields a deployment can switch off per tenant (feature flags such as
//! `features.tenants.<tenant>.disabled_enrichments = ["community_id"]`).
//!
//! An enrichment is a field the normaliser computes from the record rather than copies from
//! it: a tenant may not want (or may not be allowed to store) a flow hash, or may want leaner
//! documents. Copies of Zeek fields under their ECS names and the bookkeeping fields
//! (`@timestamp`, `event.*`, `organization.id`, labels) are the document contract and cannot be
//! disabled. Names are validated: an unknown name is a configuration error, never silently
//! ignored (a typo must not leave a field in documents a flag says must not have it).
//!
//! Pure data: must not import Arrow or anything of the pipeline.

use crate::error::{RecallError, Result};

/// One computed field family of the normalised document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Enrichment {
    /// `network.community_id` (Community ID v1 flow hash).
    CommunityId,
    /// `network.bytes` and `network.packets` (conn: originator + responder totals).
    NetworkTotals,
    /// `url.path` and `url.query` (http: the URI split at `?`).
    UrlParts,
    /// `tls.version` and `tls.version_protocol` (ssl: `TLSv12` -> `1.2`, `tls`).
    TlsVersion,
    /// `dns.header_flags` (dns: the names of the AA/TC/RD/RA flags that are set).
    DnsHeaderFlags,
    /// `dns.resolved_ip` (dns: the answers that are IP addresses).
    DnsResolvedIp,
}

impl Enrichment {
    /// Every enrichment, in documentation order.
    pub const ALL: [Self; 6] = [
        Self::CommunityId,
        Self::NetworkTotals,
        Self::UrlParts,
        Self::TlsVersion,
        Self::DnsHeaderFlags,
        Self::DnsResolvedIp,
    ];

    /// The configuration name (`community_id`, `network_totals`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::CommunityId => "community_id",
            Self::NetworkTotals => "network_totals",
            Self::UrlParts => "url_parts",
            Self::TlsVersion => "tls_version",
            Self::DnsHeaderFlags => "dns_header_flags",
            Self::DnsResolvedIp => "dns_resolved_ip",
        }
    }

    /// The document fields this enrichment writes.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Self::CommunityId => &["network.community_id"],
            Self::NetworkTotals => &["network.bytes", "network.packets"],
            Self::UrlParts => &["url.path", "url.query"],
            Self::TlsVersion => &["tls.version", "tls.version_protocol"],
            Self::DnsHeaderFlags => &["dns.header_flags"],
            Self::DnsResolvedIp => &["dns.resolved_ip"],
        }
    }

    /// Parse a configuration name.
    ///
    /// # Errors
    /// [`RecallError::Config`] (field `disabled_enrichments`) for an unknown name, listing
    /// the known ones.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| RecallError::Config {
                field: "disabled_enrichments".to_owned(),
                reason: format!(
                    "unknown enrichment {name:?}; known: {}",
                    Self::ALL.map(Self::name).join(", ")
                ),
            })
    }

    /// Parse a list of names (duplicates are fine).
    ///
    /// # Errors
    /// As [`Enrichment::parse`], for the first unknown name.
    pub fn parse_all<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>> {
        let mut out: Vec<Self> = names.into_iter().map(Self::parse).collect::<Result<_>>()?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_config_errors() {
        for e in Enrichment::ALL {
            assert_eq!(Enrichment::parse(e.name()).unwrap(), e);
            assert!(!e.fields().is_empty());
        }
        assert_eq!(
            Enrichment::parse_all(["url_parts", "community_id", "url_parts"]).unwrap(),
            vec![Enrichment::CommunityId, Enrichment::UrlParts]
        );
        let err = Enrichment::parse("communityid").unwrap_err();
        assert!(
            matches!(&err, RecallError::Config { field, reason }
                if field == "disabled_enrichments" && reason.contains("community_id")),
            "{err:?}"
        );
    }
}
