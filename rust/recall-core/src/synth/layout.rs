//! Where generated files go: the S3-like key layout sensors upload with.
//!
//! ```text
//! <tenant>/<sensor>/<logtype>/<YYYY>/<MM>/<DD>/<logtype>.<HH:MM>-<HH:MM>.<ext>
//! acme/sensor-01/conn/2024/05/01/conn.12:00-12:01.log.gz
//! ```
//!
//! One file per sensor, log type and minute; the times are the UTC start and end of the
//! minute (`23:59-00:00` for the last minute of a day, under the start's date). The extension
//! says format and compression: `.log` (Zeek TSV) or `.json` (Zeek JSON lines), followed by
//! `.gz` (gzip), `.zst` (zstd) or nothing (plain). Tenants are the first path segment because
//! the ingestion side takes the tenant from the key.

use super::clock::{push_padded, Civil};
use super::schema::LogType;
use crate::error::RecallError;

/// Output format of generated logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SynthFormat {
    /// Zeek ASCII writer (TSV with `#` meta lines).
    #[default]
    Tsv,
    /// Zeek JSON writer (one object per line).
    Json,
}

impl SynthFormat {
    /// File extension before any compression suffix.
    pub const fn extension(self) -> &'static str {
        match self {
            SynthFormat::Tsv => "log",
            SynthFormat::Json => "json",
        }
    }
}

/// Compression of generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (flate2 with the zlib-rs backend), level 0-9.
    Gzip {
        /// Compression level, 0 (store) to 9 (best); 6 is gzip's default.
        level: u32,
    },
    /// zstd, level 1-22.
    Zstd {
        /// Compression level; 3 is zstd's default.
        level: i32,
    },
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Gzip { level: 6 }
    }
}

impl Compression {
    /// File name suffix (with the dot), empty for plain files.
    pub const fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip { .. } => ".gz",
            Compression::Zstd { .. } => ".zst",
        }
    }
}

/// The name of sensor `index` (0-based) of a tenant: `sensor-01`, `sensor-02`, ...
pub fn sensor_name(index: u32) -> String {
    let mut out = b"sensor-".to_vec();
    let number = u64::from(index) + 1;
    push_padded(&mut out, number, if number < 100 { 2 } else { 3 });
    String::from_utf8_lossy(&out).into_owned()
}

/// Check that a tenant or sensor name can be a key segment: 1-64 characters from
/// `[A-Za-z0-9._-]`, not starting with a dot.
pub fn validate_segment(field: &str, value: &str) -> Result<(), RecallError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && !value.starts_with('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(RecallError::Config {
            field: field.to_owned(),
            reason: format!(
                "{value:?} is not a valid key segment (1-64 of A-Z a-z 0-9 . _ -, no leading dot)"
            ),
        })
    }
}

/// The object key of one generated file.
pub fn object_key(
    tenant: &str,
    sensor: &str,
    log_type: LogType,
    minute_start_epoch_s: i64,
    format: SynthFormat,
    compression: Compression,
) -> String {
    let start = Civil::from_epoch_s(minute_start_epoch_s);
    let end = Civil::from_epoch_s(minute_start_epoch_s + 60);
    let name = log_type.name().as_bytes();
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(tenant.as_bytes());
    out.push(b'/');
    out.extend_from_slice(sensor.as_bytes());
    out.push(b'/');
    out.extend_from_slice(name);
    out.push(b'/');
    push_padded(&mut out, start.year.clamp(0, 9999) as u64, 4);
    out.push(b'/');
    push_padded(&mut out, u64::from(start.month), 2);
    out.push(b'/');
    push_padded(&mut out, u64::from(start.day), 2);
    out.push(b'/');
    out.extend_from_slice(name);
    out.push(b'.');
    for (i, c) in [start, end].iter().enumerate() {
        if i > 0 {
            out.push(b'-');
        }
        push_padded(&mut out, u64::from(c.hour), 2);
        out.push(b':');
        push_padded(&mut out, u64::from(c.minute), 2);
    }
    out.push(b'.');
    out.extend_from_slice(format.extension().as_bytes());
    out.extend_from_slice(compression.suffix().as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_layout() {
        let key = object_key(
            "acme",
            "sensor-01",
            LogType::Conn,
            1_714_564_800,
            SynthFormat::Tsv,
            Compression::Gzip { level: 6 },
        );
        assert_eq!(
            key,
            "acme/sensor-01/conn/2024/05/01/conn.12:00-12:01.log.gz"
        );
        let key = object_key(
            "globex",
            "sensor-02",
            LogType::Dns,
            1_714_607_940,
            SynthFormat::Json,
            Compression::Zstd { level: 3 },
        );
        assert_eq!(
            key,
            "globex/sensor-02/dns/2024/05/01/dns.23:59-00:00.json.zst"
        );
        let key = object_key(
            "a",
            "s",
            LogType::X509,
            0,
            SynthFormat::Json,
            Compression::None,
        );
        assert_eq!(key, "a/s/x509/1970/01/01/x509.00:00-00:01.json");
    }

    #[test]
    fn sensor_names_and_segments() {
        assert_eq!(sensor_name(0), "sensor-01");
        assert_eq!(sensor_name(11), "sensor-12");
        assert!(validate_segment("tenants", "acme-corp_1.eu").is_ok());
        for bad in ["", ".hidden", "a/b", "ä", "a b"] {
            assert!(validate_segment("tenants", bad).is_err(), "{bad:?}");
        }
    }
}
