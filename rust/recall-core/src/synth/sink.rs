//! The seam between what a record says and how it is spelled: record generators call a
//! [`RecordSink`] once per column, in `#fields` order; the TSV and JSON sinks spell the values.
//! Generators are generic over the sink, so each format gets its own monomorphised, branch-free
//! code path and no value is formatted twice.

use super::addr::Addr;
use super::clock::Micros;

/// Receives one record, column by column, in the log type's `#fields` order.
///
/// Every column is announced exactly once: either with a value, with [`RecordSink::unset`], or
/// as a container between [`RecordSink::list_begin`] and [`RecordSink::list_end`].
pub(crate) trait RecordSink {
    /// Start a record. `write_ts` is when Zeek would have written it (JSON `_write_ts`).
    fn begin(&mut self, write_ts: Micros);
    /// A `time` column.
    fn time(&mut self, t: Micros);
    /// A `string` or `enum` column (raw bytes; the sink escapes them).
    fn string(&mut self, value: &[u8]);
    /// A `string` or `enum` column whose value needs no escaping and is not a marker: uids,
    /// protocol names, fixed vocabulary. Skips the escape scan (the hot path of every record).
    fn token(&mut self, value: &[u8]);
    /// A `count` column.
    fn count(&mut self, value: u64);
    /// A `port` column.
    fn port(&mut self, value: u16);
    /// An `addr` column.
    fn addr(&mut self, value: Addr);
    /// A `bool` column.
    fn boolean(&mut self, value: bool);
    /// An `interval` column, in seconds.
    fn interval(&mut self, seconds: f64);
    /// An unset (`&optional`, absent) column of any type.
    fn unset(&mut self);
    /// Start a `set[...]` or `vector[...]` column.
    fn list_begin(&mut self);
    /// A string element of the open container.
    fn list_string(&mut self, value: &[u8]);
    /// An address element of the open container.
    fn list_addr(&mut self, value: Addr);
    /// An interval element of the open container.
    fn list_interval(&mut self, seconds: f64);
    /// Close the container (an empty one is written as Zeek's empty marker / `[]`).
    fn list_end(&mut self);
    /// Finish the record (newline).
    fn end(&mut self);
    /// Bytes written so far (the sink's buffer length).
    fn len(&self) -> usize;
}

/// Length of the valid UTF-8 sequence starting at `bytes[i]` (a byte >= 0x80), or `None` when
/// the bytes there are not valid UTF-8. Zeek passes valid UTF-8 through (TSV with
/// `LogAscii::enable_utf_8 = T`, the default of current Zeek) and writes other bytes as `\xNN`.
#[inline]
pub(crate) fn utf8_len_at(bytes: &[u8], i: usize) -> Option<usize> {
    let lead = *bytes.get(i)?;
    let width = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let seq = bytes.get(i..i + width)?;
    std::str::from_utf8(seq).ok().map(|_| width)
}

/// Whether `value` can be written as a token: non-empty printable ASCII without tab, backslash
/// or quote, and not a marker (tokens are never container elements, so commas are fine). Checked in debug builds only.
pub(crate) fn is_token(value: &[u8]) -> bool {
    !value.is_empty()
        && value != b"-"
        && value != b"(empty)"
        && value
            .iter()
            .all(|&b| (0x20..0x7F).contains(&b) && !matches!(b, b'\\' | b'"'))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append `\xNN` (lower-case hex), Zeek's escape for one byte.
#[inline]
pub(crate) fn push_hex_escape(out: &mut Vec<u8>, byte: u8) {
    out.extend_from_slice(b"\\x");
    out.push(HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0'));
    out.push(HEX.get(usize::from(byte & 0xF)).copied().unwrap_or(b'0'));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_detection() {
        let s = "é中🦀".as_bytes();
        assert_eq!(utf8_len_at(s, 0), Some(2));
        assert_eq!(utf8_len_at(s, 2), Some(3));
        assert_eq!(utf8_len_at(s, 5), Some(4));
        assert_eq!(utf8_len_at(b"\xff", 0), None);
        assert_eq!(utf8_len_at(b"\xc3", 0), None);
        assert_eq!(utf8_len_at(b"\xc3(", 0), None);
        let mut out = Vec::new();
        push_hex_escape(&mut out, 0x0a);
        assert_eq!(out, b"\\x0a");
    }
}
