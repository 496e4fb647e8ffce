//! JSON primitives that write straight into a `Vec<u8>`: strings with exact escaping,
//! integers (itoa), floats (ryu, shortest round-trip form; non-finite values become `null`),
//! ISO-8601 timestamps and decimal seconds from integer nanoseconds.
//!
//! No `serde_json::Value`, no format strings on the hot path: each call appends bytes.
//! This module must not import Arrow; it knows nothing of columns or documents.

use crate::decimal::POW10;

/// What each byte needs inside a JSON string: 0 = copy, `b'u'` = `\u00XX`, else the
/// character after a backslash.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append `s` as a JSON string (with quotes). Valid UTF-8 passes through unchanged, including
/// characters outside the Basic Multilingual Plane (JSON allows raw UTF-8; no surrogate
/// pairs are needed); `"`, `\` and control characters U+0000..U+001F are escaped.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_str_body(out, s.as_bytes());
    out.push(b'"');
}

/// Append the escaped content of a JSON string without the quotes. `bytes` must be UTF-8
/// (it always comes from a `str` or a UTF-8 Arrow array).
///
/// Most values need no escaping, so the scan looks at 8 bytes at a time (a word-wide test for
/// "any byte below 0x20, `"` or `\\`", measured ~5x faster than a byte loop on HTTP logs)
/// and copies clean runs in one go.
#[inline]
pub fn write_str_body(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip clean 8-byte words.
        while let Some(word) = bytes.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            if word_needs_escape(u64::from_le_bytes(w)) {
                break;
            }
            i += 8;
        }
        // Byte by byte through the rest of this word (or the tail).
        let end = (i + 8).min(bytes.len());
        while i < end {
            let b = bytes.get(i).copied().unwrap_or(0);
            let esc = ESCAPE[b as usize];
            if esc != 0 {
                if let Some(run) = bytes.get(start..i) {
                    out.extend_from_slice(run);
                }
                if esc == b'u' {
                    out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(b >> 4) as usize],
                        HEX[(b & 0xf) as usize],
                    ]);
                } else {
                    out.extend_from_slice(&[b'\\', esc]);
                }
                start = i + 1;
            }
            i += 1;
        }
    }
    if let Some(run) = bytes.get(start..) {
        out.extend_from_slice(run);
    }
}

/// Whether any byte of the word is below 0x20, `"` or `\\` (may report a false positive in
/// a byte after a true one, never a false negative; the caller rechecks byte by byte).
#[inline]
fn word_needs_escape(w: u64) -> bool {
    escape_bits(w) != 0
}

/// The high bit of each byte of `w` (little-endian order) that is below 0x20, `"` or `\\`,
/// plus possibly false positives in bytes *after* (above) a true one: a borrow only
/// propagates upwards, so bytes before the first flagged one are exact.
#[inline]
fn escape_bits(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let s = w ^ (ONES * u64::from(b'\\'));
    let backslash = s.wrapping_sub(ONES) & !s & HIGH;
    below_space | quote | backslash
}

/// Strings up to this long take [`write_str_at`]'s one-block path.
const SHORT_STR: usize = 32;

/// [`write_str`] of `data[start..end]`, where `data` (an Arrow string buffer) may go on past
/// `end`. Most Zeek values are short and need no escaping: when the value is at most 32 bytes
/// and 32 bytes from `start` are readable, those 32 bytes are checked as four words (bytes past
/// the value masked off) and copied as one fixed-size block, the excess truncated — a couple
/// of vector moves instead of a call into libc's `memcpy` (measured: string copies were a
/// third of the encoder's `memcpy` time). Anything else takes the general path.
#[inline]
pub fn write_str_at(out: &mut Vec<u8>, data: &[u8], start: usize, end: usize) {
    let n = end.saturating_sub(start);
    if n <= SHORT_STR {
        if let Some(block) = data
            .get(start..start + SHORT_STR)
            .and_then(|b| <&[u8; SHORT_STR]>::try_from(b).ok())
        {
            let mut flagged = 0u64;
            for (k, word) in block.chunks_exact(8).enumerate() {
                let mut w = [0u8; 8];
                w.copy_from_slice(word);
                let valid = n.saturating_sub(k * 8).min(8);
                let mask = if valid == 8 {
                    u64::MAX
                } else {
                    (1u64 << (valid * 8)) - 1
                };
                flagged |= escape_bits(u64::from_le_bytes(w)) & mask;
            }
            if flagged == 0 {
                out.reserve(SHORT_STR + 2);
                out.push(b'"');
                let len = out.len();
                out.extend_from_slice(block);
                out.truncate(len + n);
                out.push(b'"');
                return;
            }
        }
    }
    out.push(b'"');
    if let Some(bytes) = data.get(start..end) {
        write_str_body(out, bytes);
    }
    out.push(b'"');
}

/// Append an integer.
#[inline]
pub fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, value: I) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(value).as_bytes());
}

/// Append a float in its shortest round-trip form; NaN and infinities become `null`
/// (JSON has no representation for them, and Zeek's JSON writer does the same).
#[inline]
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        let mut buf = ryu::Buffer::new();
        out.extend_from_slice(buf.format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Append an `f32` (shortest form of the `f32` itself, not of its widened `f64`).
#[inline]
pub fn write_f32(out: &mut Vec<u8>, value: f32) {
    if value.is_finite() {
        let mut buf = ryu::Buffer::new();
        out.extend_from_slice(buf.format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// `"00" "01" ... "99"`: two digits per division (timestamps print up to 9 fraction digits
/// per value, so halving the divisions shows in the encoder's profile).
static DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

#[inline]
fn pow10(exp: u32) -> u64 {
    POW10.get(exp as usize).copied().unwrap_or(1_000_000_000)
}

/// Fill `slot` with the last `slot.len()` decimal digits of `n`, zero-padded.
#[inline]
fn fill_digits(slot: &mut [u8], mut n: u64) {
    let mut pairs = slot.rchunks_exact_mut(2);
    for pair in &mut pairs {
        let d = (n % 100) as usize * 2;
        pair.copy_from_slice(DIGIT_PAIRS.get(d..d + 2).unwrap_or(b"00"));
        n /= 100;
    }
    if let Some(first) = pairs.into_remainder().first_mut() {
        *first = b'0' + (n % 10) as u8;
    }
}

/// Append `n` as exactly `width` decimal digits (zero-padded; `n` must fit; `width` <= 20).
#[inline]
fn push_digits(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [0u8; 20];
    let width = width.min(buf.len());
    if let Some(slot) = buf.get_mut(..width) {
        fill_digits(slot, n);
        out.extend_from_slice(slot);
    }
}

/// Number of fractional digits to print for a value with `frac` units below the second at
/// a resolution of `unit_digits` digits (9 for nanoseconds): the fewest groups of three
/// (0, 3, 6 or 9) that keep the value exact, but never fewer than `min_digits`.
#[inline]
fn frac_digits(frac: u64, unit_digits: u32, min_digits: u32) -> u32 {
    let mut digits = unit_digits;
    let mut f = frac;
    while digits > min_digits && digits >= 3 && f % 1000 == 0 {
        f /= 1000;
        digits -= 3;
    }
    digits
}

/// Caches the `YYYY-MM-DDTHH:MM:SS` text of the last second written: consecutive records of
/// a Zeek log are usually within the same second, so the calendar maths runs rarely.
#[derive(Debug, Clone)]
pub struct TimestampWriter {
    second: i64,
    text: [u8; 32],
    len: usize,
}

impl Default for TimestampWriter {
    fn default() -> Self {
        Self {
            second: i64::MIN,
            text: [0; 32],
            len: 0,
        }
    }
}

impl TimestampWriter {
    /// Append a quoted ISO-8601 UTC timestamp for `value` in units of 10^-`unit_digits`
    /// seconds (0 = s, 3 = ms, 6 = µs, 9 = ns). The fraction keeps the input's precision:
    /// nanosecond values print 9 digits when they have sub-microsecond digits and 6
    /// otherwise (Zeek's default resolution); other units print their own digits.
    #[inline]
    pub fn write(&mut self, out: &mut Vec<u8>, value: i64, unit_digits: u32) {
        let unit_digits = unit_digits.min(9);
        let per_second = i64::try_from(pow10(unit_digits)).unwrap_or(1_000_000_000);
        let second = value.div_euclid(per_second);
        let frac = value.rem_euclid(per_second) as u64;
        if second != self.second {
            self.fill(second);
        }
        let min = if unit_digits == 9 { 6 } else { unit_digits };
        let digits = frac_digits(frac, unit_digits, min) as usize;
        // `"` + date and time (at most 26 bytes) + `.` + up to 9 digits + `Z"`: assembled on
        // the stack and appended with one copy.
        let mut buf = [0u8; 48];
        let mut len = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(slot) = buf.get_mut(len..len + bytes.len()) {
                slot.copy_from_slice(bytes);
                len += bytes.len();
            }
        };
        put(b"\"");
        put(self.text.get(..self.len).unwrap_or(&[]));
        if digits > 0 {
            put(b".");
            if let Some(slot) = buf.get_mut(len..len + digits) {
                fill_digits(slot, frac / pow10(unit_digits - digits as u32));
                len += digits;
            }
        }
        if let Some(slot) = buf.get_mut(len..len + 2) {
            slot.copy_from_slice(b"Z\"");
            len += 2;
        }
        // The whole stack buffer is copied (a fixed-size copy is inlined, a variable one is a
        // `memcpy` call) and the excess truncated.
        let at = out.len();
        out.extend_from_slice(&buf);
        out.truncate(at + len);
    }

    fn fill(&mut self, second: i64) {
        let days = second.div_euclid(86_400);
        let sod = second.rem_euclid(86_400) as u64;
        let (y, m, d) = crate::schema::routing::civil_from_days(days);
        let mut buf = Vec::with_capacity(32);
        if (0..=9999).contains(&y) {
            push_digits(&mut buf, y as u64, 4);
        } else {
            // Expanded years (ISO 8601 with sign): outside Zeek's range but never wrong.
            buf.push(if y < 0 { b'-' } else { b'+' });
            push_digits(&mut buf, y.unsigned_abs(), 6);
        }
        buf.push(b'-');
        push_digits(&mut buf, u64::from(m), 2);
        buf.push(b'-');
        push_digits(&mut buf, u64::from(d), 2);
        buf.push(b'T');
        push_digits(&mut buf, sod / 3600, 2);
        buf.push(b':');
        push_digits(&mut buf, sod / 60 % 60, 2);
        buf.push(b':');
        push_digits(&mut buf, sod % 60, 2);
        self.len = buf.len().min(self.text.len());
        if let (Some(dst), Some(src)) = (self.text.get_mut(..self.len), buf.get(..self.len)) {
            dst.copy_from_slice(src);
        }
        self.second = second;
    }
}

/// Append a duration of `value` units of 10^-`unit_digits` seconds as a decimal number of
/// seconds (`0.004266`, `-1.5`, `12.000000001`), exact, with at least 6 fraction digits for
/// nanosecond input (Zeek prints intervals with 6). This is how Zeek users read intervals.
pub fn write_seconds(out: &mut Vec<u8>, value: i64, unit_digits: u32) {
    let unit_digits = unit_digits.min(9);
    let per_second = pow10(unit_digits);
    if value < 0 {
        out.push(b'-');
    }
    let magnitude = value.unsigned_abs();
    write_int(out, magnitude / per_second);
    if unit_digits == 0 {
        return;
    }
    let frac = magnitude % per_second;
    let min = if unit_digits == 9 { 6 } else { unit_digits };
    let digits = frac_digits(frac, unit_digits, min);
    if digits > 0 {
        out.push(b'.');
        push_digits(out, frac / pow10(unit_digits - digits), digits as usize);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_exactly_what_json_requires() {
        let input = "a\"b\\c\n\t\r\u{8}\u{c}\u{0}\u{1f}\u{7f}é😀/</";
        let got = s(|o| write_str(o, input));
        assert_eq!(
            got,
            "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0000\\u001f\u{7f}é😀/</\""
        );
        let back: String = serde_json::from_str(&got).unwrap();
        assert_eq!(back, input);
    }

    #[test]
    fn short_strings_from_a_larger_buffer_match_write_str() {
        let data = "ab\"c\\d\u{1}efghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ é😀";
        let bytes = data.as_bytes();
        for start in 0..bytes.len() {
            for end in start..=bytes.len() {
                let Some(value) = data.get(start..end) else {
                    continue;
                };
                let want = s(|o| write_str(o, value));
                let got = s(|o| write_str_at(o, bytes, start, end));
                assert_eq!(got, want, "{start}..{end}");
            }
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(s(|o| write_int(o, u64::MAX)), "18446744073709551615");
        assert_eq!(s(|o| write_int(o, i64::MIN)), "-9223372036854775808");
        assert_eq!(s(|o| write_f64(o, 0.1)), "0.1");
        assert_eq!(s(|o| write_f64(o, -0.0)), "-0.0");
        assert_eq!(s(|o| write_f64(o, f64::NAN)), "null");
        assert_eq!(s(|o| write_f64(o, f64::NEG_INFINITY)), "null");
        assert_eq!(s(|o| write_f32(o, 0.1)), "0.1");
        let big = s(|o| write_f64(o, 1e300));
        assert_eq!(big.parse::<f64>().unwrap().to_bits(), 1e300f64.to_bits());
    }

    #[test]
    fn timestamps_keep_input_precision() {
        let mut w = TimestampWriter::default();
        assert_eq!(
            s(|o| w.write(o, 1_521_911_720_865_716_000, 9)),
            "\"2018-03-24T17:15:20.865716Z\""
        );
        assert_eq!(
            s(|o| w.write(o, 1_521_911_720_865_716_123, 9)),
            "\"2018-03-24T17:15:20.865716123Z\""
        );
        assert_eq!(
            s(|o| w.write(o, 1_521_911_720_000_000_000, 9)),
            "\"2018-03-24T17:15:20.000000Z\""
        );
        assert_eq!(
            s(|o| w.write(o, -1, 9)),
            "\"1969-12-31T23:59:59.999999999Z\""
        );
        assert_eq!(s(|o| w.write(o, 1_500, 3)), "\"1970-01-01T00:00:01.500Z\"");
        assert_eq!(s(|o| w.write(o, 86_400, 0)), "\"1970-01-02T00:00:00Z\"");
        assert_eq!(
            s(|o| w.write(o, 951_782_400_000_001, 6)),
            "\"2000-02-29T00:00:00.000001Z\""
        );
    }

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(s(|o| write_seconds(o, 4_266_000, 9)), "0.004266");
        assert_eq!(s(|o| write_seconds(o, 12_000_000_001, 9)), "12.000000001");
        assert_eq!(s(|o| write_seconds(o, -1_500_000_000, 9)), "-1.500000");
        assert_eq!(
            s(|o| write_seconds(o, i64::MIN, 9)),
            "-9223372036.854775808"
        );
        assert_eq!(s(|o| write_seconds(o, 7, 0)), "7");
        assert_eq!(s(|o| write_seconds(o, 7, 3)), "0.007");
    }
}
