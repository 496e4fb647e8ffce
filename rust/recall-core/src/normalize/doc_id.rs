//! Deterministic Elasticsearch document ids.
//!
//! A document id is a function of (tenant, bucket, key, object version or `ETag`, record
//! number within the object) and nothing else, so a retried, redelivered or differently
//! chunked object produces the same ids and overwrites (or is refused as a duplicate) instead
//! of duplicating documents.
//!
//! Choice: XXH3-128. The object identity is hashed once per object (each part
//! length-prefixed, so `("ab","c")` and `("a","bc")` differ); each row then hashes the
//! 16-byte object digest followed by the record number (u64 little-endian), 24 bytes, with
//! XXH3-128 again. The 128-bit result (big-endian bytes) is rendered as 22 characters of
//! URL-safe base64 without padding. Rationale:
//! - 128 bits: with 2^40 documents per index the collision probability is ~2^-49; 64 bits
//!   would be ~2^-25 at that size, too close for comfort at 3 TB/day.
//! - XXH3 is specified bit for bit (stable across platforms and versions of the crate) and
//!   costs ~10 ns for 24 bytes; a cryptographic hash is not needed because ids are not a
//!   security boundary (tenants are separated by index, see `routing`).
//! - 22 URL-safe characters are short (Elasticsearch's own auto ids are 20), need no escaping
//!   in JSON or URLs, and sort/compare cheaply.
//!
//! The record number is the 0-based index of the record among the object's records (see the
//! decoder's `first_record`). Changing this scheme changes every id: it is versioned by the
//! `ID_SCHEME` constant and must only change with a migration note.

use base64::Engine as _;
use xxhash_rust::xxh3::xxh3_128;

/// Version tag of the id scheme, mixed into the object digest so a future scheme cannot
/// collide with this one.
pub const ID_SCHEME: &[u8] = b"recall-doc-id-v1";

/// Length in characters of a rendered document id.
pub const DOC_ID_LEN: usize = 22;

/// The identity of one source object; computes the ids of its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectIdentity {
    digest: [u8; 16],
}

impl ObjectIdentity {
    /// Hash the identity of an object. `version` is the S3 version id when the bucket is
    /// versioned, else the `ETag` (or any string that changes when the content changes).
    pub fn new(tenant: &str, bucket: &str, key: &str, version: &str) -> Self {
        let mut buf =
            Vec::with_capacity(ID_SCHEME.len() + 32 + tenant.len() + bucket.len() + key.len());
        for part in [
            ID_SCHEME,
            tenant.as_bytes(),
            bucket.as_bytes(),
            key.as_bytes(),
            version.as_bytes(),
        ] {
            buf.extend_from_slice(&(part.len() as u64).to_le_bytes());
            buf.extend_from_slice(part);
        }
        Self {
            digest: xxh3_128(&buf).to_be_bytes(),
        }
    }

    /// The 128-bit id of record `record` as raw bytes.
    pub fn id_bytes(&self, record: u64) -> [u8; 16] {
        let mut buf = [0u8; 24];
        buf[..16].copy_from_slice(&self.digest);
        buf[16..].copy_from_slice(&record.to_le_bytes());
        xxh3_128(&buf).to_be_bytes()
    }

    /// Append the 22-character id of record `record` to `out`.
    pub fn write_id(&self, record: u64, out: &mut Vec<u8>) {
        let raw = self.id_bytes(record);
        let start = out.len();
        out.resize(start + DOC_ID_LEN, 0);
        if let Some(slot) = out.get_mut(start..) {
            // 16 bytes always encode to exactly 22 unpadded characters.
            let _ = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_slice(raw, slot);
        }
    }

    /// The id of record `record` as a `String`.
    pub fn id(&self, record: u64) -> String {
        let mut out = Vec::with_capacity(DOC_ID_LEN);
        self.write_id(record, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_stable_short_and_url_safe() {
        let obj = ObjectIdentity::new("acme", "bucket", "acme/s1/conn/x.log.gz", "etag1");
        let id = obj.id(0);
        assert_eq!(id.len(), DOC_ID_LEN);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        // Same inputs, same id: a retry or redelivery overwrites.
        assert_eq!(
            ObjectIdentity::new("acme", "bucket", "acme/s1/conn/x.log.gz", "etag1").id(0),
            id
        );
        // Pinned value: the scheme must not drift silently between releases.
        assert_eq!(
            id, "EDGvo8xsZJh4GrgPGdIJoA",
            "id scheme changed: every stored id would change"
        );
    }

    #[test]
    fn every_part_of_the_identity_matters() {
        let base = ObjectIdentity::new("acme", "b", "k", "v").id(7);
        assert_ne!(ObjectIdentity::new("acme2", "b", "k", "v").id(7), base);
        assert_ne!(ObjectIdentity::new("acme", "b2", "k", "v").id(7), base);
        assert_ne!(ObjectIdentity::new("acme", "b", "k2", "v").id(7), base);
        assert_ne!(ObjectIdentity::new("acme", "b", "k", "v2").id(7), base);
        assert_ne!(ObjectIdentity::new("acme", "b", "k", "v").id(8), base);
        // Length prefixes: moving a character between parts changes the id.
        assert_ne!(
            ObjectIdentity::new("ab", "c", "k", "v").id(0),
            ObjectIdentity::new("a", "bc", "k", "v").id(0)
        );
    }

    #[test]
    fn distinct_for_every_record() {
        let obj = ObjectIdentity::new("t", "b", "k", "v");
        let ids: HashSet<String> = (0..100_000).map(|r| obj.id(r)).collect();
        assert_eq!(ids.len(), 100_000);
    }
}
