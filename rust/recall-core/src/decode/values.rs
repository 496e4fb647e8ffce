//! Value parsers shared by the TSV and JSON decoders: exact decimal times, integers, doubles,
//! booleans, canonical addresses, Zeek's `\xNN` escapes and the UTF-8 policy.
//!
//! Stage: decode. Pure functions over byte slices; no allocation except into the caller's
//! output buffer. Must not import `tsv`/`json` (they import this).
//!
//! UTF-8 policy (documented for users in `decode` module docs): Arrow strings must be UTF-8.
//! After un-escaping, every byte that is not part of a valid UTF-8 sequence is written as the
//! four characters `\xNN` (lowercase hex), which is exactly what Zeek's JSON writer emits for
//! such bytes, so TSV and JSON copies of the same traffic decode to the same text. Valid
//! multi-byte sequences (whether raw or escaped as `\xc3\xa9` in TSV) become the characters.

use crate::decimal::POW10;
use std::fmt::Write as _;
use std::net::IpAddr;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// Parse a decimal number of seconds (`1521911720.865716`, `-0.5`, `12`) into integer
/// nanoseconds, exactly (no float): up to 9 fraction digits are kept, a 10th rounds half up,
/// further digits are ignored. `scale_nanos` is the unit (1e9 for seconds, 1e6 for
/// milliseconds). Returns `None` for anything else (including exponents, `inf`, overflow).
pub(crate) fn parse_decimal_nanos(s: &[u8], scale_nanos: i128) -> Option<i64> {
    if scale_nanos == NANOS_PER_SEC {
        if let Some(v) = parse_seconds_fast(s) {
            return Some(v);
        }
    }
    parse_decimal_nanos_wide(s, scale_nanos)
}

/// The common case of [`parse_decimal_nanos`] in 64-bit arithmetic: seconds with at most 12
/// integer digits and at most 9 fraction digits (every Zeek `time` and `interval`). `None`
/// means "not this shape": the caller falls back to the exact wide path.
#[inline]
fn parse_seconds_fast(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, s.get(1..)?),
        _ => (false, s),
    };
    let mut whole: u64 = 0;
    let mut i = 0;
    while let Some(&b) = digits.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        whole = whole * 10 + u64::from(d);
        i += 1;
        if i > 12 {
            return None;
        }
    }
    let int_digits = i;
    let mut frac: u64 = 0;
    let mut frac_digits = 0;
    if digits.get(i) == Some(&b'.') {
        i += 1;
        while let Some(&b) = digits.get(i) {
            let d = b.wrapping_sub(b'0');
            if d > 9 || frac_digits == 9 {
                return None;
            }
            frac = frac * 10 + u64::from(d);
            frac_digits += 1;
            i += 1;
        }
    }
    if i != digits.len() || (int_digits == 0 && frac_digits == 0) {
        return None;
    }
    // Checked: 12 integer digits of seconds overflow 64 bits of nanoseconds (found by fuzzing).
    let nanos = whole
        .checked_mul(1_000_000_000)?
        .checked_add(frac * POW10.get(9 - frac_digits)?)?;
    let nanos = i64::try_from(nanos).ok()?;
    Some(if negative { -nanos } else { nanos })
}

/// [`parse_decimal_nanos`] for any length and unit, in 128-bit arithmetic.
fn parse_decimal_nanos_wide(s: &[u8], scale_nanos: i128) -> Option<i64> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let (int_part, frac_part) = match memchr::memchr(b'.', digits) {
        Some(dot) => (digits.get(..dot)?, digits.get(dot + 1..)?),
        None => (digits, &[][..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut whole: i128 = 0;
    for &b in int_part {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        whole = whole.checked_mul(10)?.checked_add(i128::from(d))?;
        if whole > i128::from(i64::MAX) {
            return None;
        }
    }
    // Fraction in units of 1e-18 (enough for milliseconds scale * 9 digits of ns).
    let mut frac: i128 = 0;
    let mut frac_digits = 0u32;
    let mut round_up = false;
    for &b in frac_part {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        if frac_digits < 18 {
            frac = frac * 10 + i128::from(d);
            frac_digits += 1;
        }
    }
    // Scale the fraction to nanoseconds of the unit: frac / 10^digits * scale.
    let total_frac_units = frac * scale_nanos;
    let denom = 10i128.pow(frac_digits);
    let frac_nanos = total_frac_units / denom;
    let remainder = total_frac_units % denom;
    if denom > 1 && remainder * 2 >= denom {
        round_up = true;
    }
    let nanos = whole.checked_mul(scale_nanos)? + frac_nanos + i128::from(round_up);
    let nanos = if negative { -nanos } else { nanos };
    i64::try_from(nanos).ok()
}

/// Seconds -> nanoseconds: exact decimal, or through `f64` with an exponent.
#[inline]
pub(crate) fn parse_seconds_nanos(s: &[u8]) -> Option<i64> {
    // Zeek's own `1521911720.865716` first: no exponent search for the common case.
    parse_zeek_time(s)
        .or_else(|| parse_seconds_fast(s))
        .or_else(|| parse_number_nanos(s, NANOS_PER_SEC))
}

/// The exact shape Zeek writes every `time` in, `DDDDDDDDDD.DDDDDD` (epoch seconds, 10 integer
/// and 6 fraction digits), parsed 8 digits at a time. `None` for anything else (the general
/// parsers decide) and for values past `i64` nanoseconds.
#[inline]
fn parse_zeek_time(s: &[u8]) -> Option<i64> {
    let s: &[u8; 17] = s.try_into().ok()?;
    let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, dot, f0, f1, f2, f3, f4, f5] = *s;
    if dot != b'.' {
        return None;
    }
    let high = eight_digits([a0, a1, a2, a3, a4, a5, a6, a7])?;
    let low = eight_digits([b'0', b'0', b'0', b'0', b'0', b'0', a8, a9])?;
    let frac = eight_digits([b'0', b'0', f0, f1, f2, f3, f4, f5])?;
    // At most 9,999,999,999 s: 1e19 ns still fits in u64, the i64 check is the range check.
    let nanos = (high * 100 + low) * 1_000_000_000 + frac * 1_000;
    i64::try_from(nanos).ok()
}

/// Eight ASCII digits (most significant first) as a number, or `None` if any byte is not a
/// digit. SWAR: the digit check and the conversion work on all eight bytes at once.
#[inline]
fn eight_digits(bytes: [u8; 8]) -> Option<u64> {
    let v = u64::from_le_bytes(bytes);
    // Every byte 0x30..=0x39: high nibble 3, and still 3 after adding 6.
    let high = v & 0xf0f0_f0f0_f0f0_f0f0;
    let carry = (v.wrapping_add(0x0606_0606_0606_0606) & 0xf0f0_f0f0_f0f0_f0f0) >> 4;
    if high | carry != 0x3333_3333_3333_3333 {
        return None;
    }
    let mut x = v & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x.wrapping_mul(10) + (x >> 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x.wrapping_mul(100) + (x >> 16)) & 0x0000_ffff_0000_ffff;
    x = x.wrapping_mul(10_000) + (x >> 32);
    Some(x & 0xffff_ffff)
}

/// A number of seconds or milliseconds, exactly, also with an exponent (Zeek prints large
/// times and intervals like `4.294967296e+09` or `-2.1504318496896954e+09`): the mantissa's
/// decimal point is moved, never through a float.
pub(crate) fn parse_number_nanos(s: &[u8], scale_nanos: i128) -> Option<i64> {
    let Some(e) = memchr::memchr2(b'e', b'E', s) else {
        return parse_decimal_nanos(s, scale_nanos);
    };
    let (mantissa, exponent) = (s.get(..e)?, s.get(e + 1..)?);
    let exponent = i32::try_from(parse_i64(exponent)?).ok()?;
    let (sign, mantissa) = match mantissa.split_first() {
        Some((b'-', rest)) => (Some(b'-'), rest),
        Some((b'+', rest)) => (None, rest),
        _ => (None, mantissa),
    };
    let (int_part, frac_part) = match memchr::memchr(b'.', mantissa) {
        Some(dot) => (mantissa.get(..dot)?, mantissa.get(dot + 1..)?),
        None => (mantissa, &[][..]),
    };
    let digits: Vec<u8> = int_part.iter().chain(frac_part).copied().collect();
    if digits.is_empty() || digits.len() > 64 || !(-64..=64).contains(&exponent) {
        return None;
    }
    let point = i32::try_from(int_part.len()).ok()? + exponent;
    let mut text = Vec::with_capacity(digits.len() + 70);
    text.extend(sign);
    if point <= 0 {
        text.extend_from_slice(b"0.");
        text.extend(std::iter::repeat_n(b'0', usize::try_from(-point).ok()?));
        text.extend_from_slice(&digits);
    } else {
        let point = usize::try_from(point).ok()?;
        if point >= digits.len() {
            text.extend_from_slice(&digits);
            text.extend(std::iter::repeat_n(b'0', point - digits.len()));
        } else {
            text.extend_from_slice(digits.get(..point)?);
            text.push(b'.');
            text.extend_from_slice(digits.get(point..)?);
        }
    }
    parse_decimal_nanos(&text, scale_nanos)
}

/// Unsigned decimal integer (`count`): digits only, up to 2^64-1.
#[inline]
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Signed decimal integer (`int`).
#[inline]
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    match s.split_first() {
        Some((b'-', rest)) => {
            let v = parse_u64(rest)?;
            if v == 1u64 << 63 {
                Some(i64::MIN)
            } else {
                i64::try_from(v).ok().map(|v| -v)
            }
        }
        Some((b'+', rest)) => i64::try_from(parse_u64(rest)?).ok(),
        _ => i64::try_from(parse_u64(s)?).ok(),
    }
}

/// Port number 0..=65535.
#[inline]
pub(crate) fn parse_port(s: &[u8]) -> Option<u16> {
    if s.len() > 5 {
        return None;
    }
    u16::try_from(parse_u64(s)?).ok()
}

/// `double`: decimal text of any length, `inf`, `-inf`, `nan` (Rust's parser accepts these
/// and the long forms; exponents are accepted too).
#[inline]
pub(crate) fn parse_f64(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

/// `bool` in TSV: `T` / `F`.
#[inline]
pub(crate) fn parse_tsv_bool(s: &[u8]) -> Option<bool> {
    match s {
        b"T" => Some(true),
        b"F" => Some(false),
        _ => None,
    }
}

/// Append the canonical text of an address (`addr`) to `out`. IPv4 text that is already
/// canonical (the usual case) is copied; anything else is parsed and re-formatted (RFC 5952
/// for IPv6). Returns `false` when the text is not an address.
pub(crate) fn push_canonical_addr(s: &[u8], out: &mut Vec<u8>) -> bool {
    if is_canonical_ipv4(s) {
        out.extend_from_slice(s);
        return true;
    }
    let Some(addr) = std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse::<IpAddr>().ok())
    else {
        return false;
    };
    push_display(out, &addr);
    true
}

/// Append the canonical text of a subnet (`10.0.0.0/8`, `2001:db8::/32`) to `out`.
pub(crate) fn push_canonical_subnet(s: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(slash) = memchr::memrchr(b'/', s) else {
        return false;
    };
    let (Some(addr), Some(prefix)) = (s.get(..slash), s.get(slash + 1..)) else {
        return false;
    };
    let Some(addr) = std::str::from_utf8(addr)
        .ok()
        .and_then(|t| t.parse::<IpAddr>().ok())
    else {
        return false;
    };
    let Some(prefix) = parse_u64(prefix) else {
        return false;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return false;
    }
    push_display(out, &addr);
    out.push(b'/');
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(prefix).as_bytes());
    true
}

fn push_display(out: &mut Vec<u8>, value: &impl std::fmt::Display) {
    let mut text = String::with_capacity(40);
    // Writing into a String cannot fail.
    let _ = write!(text, "{value}");
    out.extend_from_slice(text.as_bytes());
}

/// Dotted quad with no leading zeros, each part <= 255.
#[inline]
pub(crate) fn is_canonical_ipv4(s: &[u8]) -> bool {
    if s.len() < 7 || s.len() > 15 {
        return false;
    }
    let mut parts = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    let mut first_zero = false;
    for &b in s {
        if b == b'.' {
            if digits == 0 || value > 255 {
                return false;
            }
            parts += 1;
            value = 0;
            digits = 0;
            continue;
        }
        let d = b.wrapping_sub(b'0');
        if d > 9 || (digits > 0 && first_zero) || digits == 3 {
            return false;
        }
        if digits == 0 {
            first_zero = d == 0;
        }
        value = value * 10 + u32::from(d);
        digits += 1;
    }
    parts == 3 && digits > 0 && value <= 255
}

#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Undo Zeek's ASCII escapes into `out`: `\xNN` -> the byte, `\\` -> `\` (recent writers
/// escape the backslash; older ones did not, so a backslash before anything else is kept).
/// The result may hold invalid UTF-8: callers pass it through [`fix_utf8_tail`].
pub(crate) fn unescape_tsv(s: &[u8], out: &mut Vec<u8>) {
    let mut rest = s;
    while let Some(pos) = memchr::memchr(b'\\', rest) {
        let (head, tail) = rest.split_at(pos);
        out.extend_from_slice(head);
        match tail {
            [b'\\', b'x', h, l, after @ ..] => {
                if let (Some(h), Some(l)) = (hex_value(*h), hex_value(*l)) {
                    out.push(h << 4 | l);
                    rest = after;
                } else {
                    out.push(b'\\');
                    rest = tail.get(1..).unwrap_or_default();
                }
            }
            [b'\\', b'\\', after @ ..] => {
                out.push(b'\\');
                rest = after;
            }
            _ => {
                out.push(b'\\');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.extend_from_slice(rest);
}

/// Whether a byte may stay as it is in decoded text: printable ASCII and the controls Zeek's
/// JSON writer keeps (`\b`, `\f`, `\n`, `\r`, `\t`). Other controls and DEL become `\xNN`.
#[inline]
pub(crate) fn is_plain_text_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || matches!(b, 0x08 | 0x0c | b'\n' | b'\r' | b'\t')
}

/// Apply the text policy to `buf[start..]` in place: bytes that are not part of valid UTF-8,
/// and control characters other than `\b \f \n \r \t`, become the text `\xNN` (what Zeek's
/// JSON writer emits for them). Fast when there is nothing to change.
pub(crate) fn fix_utf8_tail(buf: &mut Vec<u8>, start: usize) {
    let Some(tail) = buf.get(start..) else {
        return;
    };
    if tail.iter().all(|&b| is_plain_text_byte(b)) {
        return;
    }
    if std::str::from_utf8(tail).is_ok() && tail.iter().all(|&b| b >= 0x80 || is_plain_text_byte(b))
    {
        return;
    }
    let fixed = escape_invalid_utf8(tail);
    buf.truncate(start);
    buf.extend_from_slice(&fixed);
}

/// Copy of `bytes` under the text policy of [`fix_utf8_tail`].
pub(crate) fn escape_invalid_utf8(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            if b >= 0x80 || is_plain_text_byte(b) {
                out.push(b);
            } else {
                push_hex_escape(&mut out, b);
            }
        }
        for &b in chunk.invalid() {
            push_hex_escape(&mut out, b);
        }
    }
    out
}

/// What a TSV line holds, found in one pass: whether every byte is printable ASCII or tab
/// (then its fields need no text-policy pass) and whether it has a backslash at all (then no
/// field needs un-escaping). Branch-free per byte so the compiler vectorises it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineScan {
    pub(crate) plain: bool,
    pub(crate) escapes: bool,
}

#[inline]
// Branch-free on purpose: `&` on bools keeps the loop free of branches so it vectorises.
#[allow(clippy::nonminimal_bool, clippy::needless_bitwise_bool)]
pub(crate) fn scan_tsv_line(line: &[u8]) -> LineScan {
    let mut bad = 0u8;
    let mut backslash = 0u8;
    for &b in line {
        bad |= u8::from((b.wrapping_sub(0x20) >= 0x5f) & (b != b'\t'));
        backslash |= u8::from(b == b'\\');
    }
    LineScan {
        plain: bad == 0,
        escapes: backslash != 0,
    }
}

/// `\xNN` with lowercase hex, as Zeek writes it.
pub(crate) fn push_hex_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[
        b'\\',
        b'x',
        HEX[usize::from(b >> 4)],
        HEX[usize::from(b & 0x0f)],
    ]);
}

/// Parse an ISO-8601 / RFC 3339 timestamp (`2018-03-24T17:15:20.865716Z`, also with a space
/// instead of `T`, a `+hh:mm` offset, or no zone meaning UTC) into nanoseconds since the
/// epoch.
pub(crate) fn parse_iso8601_nanos(s: &[u8]) -> Option<i64> {
    parse_iso8601_utc_fast(s).or_else(|| parse_iso8601_general(s))
}

/// [`parse_iso8601_nanos`] for every accepted shape, field by field.
fn parse_iso8601_general(s: &[u8]) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &b in s.get(r)? {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + i64::from(d);
        }
        Some(v)
    };
    if s.len() < 19 || s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(s.get(10), Some(b'T' | b't' | b' ')) || s.get(13) != Some(&b':') {
        return None;
    }
    if s.get(16) != Some(&b':') {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_nanos: i64 = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100_000_000i64;
        let start = i;
        while let Some(&b) = s.get(i) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            frac_nanos += i64::from(d) * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_secs = match s.get(i..)? {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let digits: Vec<u8> = rest.iter().copied().filter(|&b| b != b':').collect();
            if digits.len() != 4 || digits.iter().any(|b| !b.is_ascii_digit()) {
                return None;
            }
            let h = i64::from(digits.first()? - b'0') * 10 + i64::from(digits.get(1)? - b'0');
            let m = i64::from(digits.get(2)? - b'0') * 10 + i64::from(digits.get(3)? - b'0');
            let secs = h * 3600 + m * 60;
            if *sign == b'+' {
                secs
            } else {
                -secs
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    secs.checked_mul(1_000_000_000)?.checked_add(frac_nanos)
}

/// The shape Zeek's JSON writer uses (`2018-03-24T17:15:20.865716Z`: UTC, fixed positions),
/// destructured in one pattern instead of field by field (every JSON `time` goes through here).
/// Same checks and result as the general path of [`parse_iso8601_nanos`]; `None` for any
/// other shape (the general path then decides).
#[inline]
fn parse_iso8601_utc_fast(s: &[u8]) -> Option<i64> {
    let digit = |b: u8| -> Option<i64> {
        let d = b.wrapping_sub(b'0');
        (d <= 9).then_some(i64::from(d))
    };
    let two = |a: u8, b: u8| Some(digit(a)? * 10 + digit(b)?);
    let (head, tail) = s.split_first_chunk::<19>()?;
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T' | b't' | b' ', h0, h1, b':', n0, n1, b':', s0, s1] =
        *head
    else {
        return None;
    };
    let year = two(y0, y1)? * 100 + two(y2, y3)?;
    let (month, day) = (two(m0, m1)?, two(d0, d1)?);
    let (hour, minute, second) = (two(h0, h1)?, two(n0, n1)?, two(s0, s1)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut frac_nanos: i64 = 0;
    let zone = match tail.split_first() {
        Some((b'.', rest)) => {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            let (fraction, zone) = rest.split_at_checked(digits)?;
            // Nine digits are nanoseconds; further digits are cut off (not rounded).
            let mut scale = 100_000_000i64;
            for &b in fraction.iter().take(9) {
                frac_nanos += i64::from(b - b'0') * scale;
                scale /= 10;
            }
            zone
        }
        _ => tail,
    };
    if !matches!(zone, [] | [b'Z' | b'z']) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    secs.checked_mul(1_000_000_000)?.checked_add(frac_nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn zeek_time_shape_matches_the_general_parser() {
        for text in [
            &b"1521911720.865716"[..],
            b"0000000000.000000",
            b"9223372036.854775",
            b"9223372037.000000",
            b"9999999999.999999",
            b"1521911720.86571x",
            b"152191172/.865716",
            b"1521911720:865716",
            b"15219117:0.865716",
            b"-521911720.865716",
        ] {
            let general = parse_seconds_fast(text);
            assert_eq!(parse_zeek_time(text).or(general), general, "{text:?}");
        }
        assert_eq!(
            parse_zeek_time(b"1521911720.865716"),
            Some(1_521_911_720_865_716_000)
        );
        assert_eq!(parse_zeek_time(b"9999999999.999999"), None);
        assert_eq!(parse_zeek_time(b"15219117200865716"), None);
        for n in [0u64, 7, 10_000_000, 12_345_678, 99_999_999] {
            let text = format!("{n:08}");
            let bytes: [u8; 8] = text.as_bytes().try_into().unwrap();
            assert_eq!(eight_digits(bytes), Some(n));
        }
        for bad in [
            *b"1234567:",
            *b"/1234567",
            *b"12 45678",
            *b"\xff2345678",
            *b"1234567\x99",
        ] {
            assert_eq!(eight_digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn decimal_times_are_exact() {
        assert_eq!(
            parse_seconds_nanos(b"1521911720.865716"),
            Some(1_521_911_720_865_716_000)
        );
        assert_eq!(
            parse_seconds_nanos(b"1521911720.123456789"),
            Some(1_521_911_720_123_456_789)
        );
        assert_eq!(parse_seconds_nanos(b"0.0008699893951416016"), Some(869_989));
        assert_eq!(parse_seconds_nanos(b"0.0000000005"), Some(1));
        assert_eq!(parse_seconds_nanos(b"-0.5"), Some(-500_000_000));
        assert_eq!(parse_seconds_nanos(b"12"), Some(12_000_000_000));
        assert_eq!(parse_seconds_nanos(b"12."), Some(12_000_000_000));
        assert_eq!(parse_seconds_nanos(b".5"), Some(500_000_000));
        assert_eq!(parse_seconds_nanos(b""), None);
        assert_eq!(parse_seconds_nanos(b"."), None);
        assert_eq!(
            parse_seconds_nanos(b"4.294967296e+09"),
            Some(4_294_967_296_000_000_000)
        );
        assert_eq!(
            parse_seconds_nanos(b"-2.1504318496896954e+09"),
            Some(-2_150_431_849_689_695_400)
        );
        assert_eq!(parse_seconds_nanos(b"1.5E-3"), Some(1_500_000));
        assert_eq!(parse_seconds_nanos(b"1e400"), None);
        assert_eq!(parse_seconds_nanos(b"e5"), None);
        assert_eq!(parse_seconds_nanos(b"inf"), None);
        assert_eq!(parse_seconds_nanos(b"99999999999999999999"), None);
        assert_eq!(
            parse_seconds_nanos(b"999999999999.5"),
            None,
            "beyond i64 nanoseconds"
        );
        assert_eq!(parse_seconds_nanos(b"9223372036.854775807"), Some(i64::MAX));
        assert_eq!(
            parse_decimal_nanos(b"1575413096052", 1_000_000),
            Some(1_575_413_096_052_000_000)
        );
        assert_eq!(parse_decimal_nanos(b"1.5", 1_000_000), Some(1_500_000));
    }

    #[test]
    fn integers() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_port(b"65535"), Some(65535));
        assert_eq!(parse_port(b"65536"), None);
    }

    #[test]
    fn doubles() {
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_f64(b"nan").unwrap().is_nan());
        assert_eq!(parse_f64(b"-0.0").map(f64::is_sign_negative), Some(true));
        let long = format!("1{}.5", "0".repeat(300));
        assert_eq!(parse_f64(long.as_bytes()), Some(1e300));
    }

    #[test]
    fn addresses_are_canonical() {
        let canon = |s: &str| {
            let mut out = Vec::new();
            push_canonical_addr(s.as_bytes(), &mut out).then(|| String::from_utf8(out).unwrap())
        };
        assert_eq!(canon("10.0.0.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(
            canon("2001:DB8:0:0:0:0:0:1").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(canon("fe80::0001").as_deref(), Some("fe80::1"));
        assert_eq!(canon("::ffff:1.2.3.4").as_deref(), Some("::ffff:1.2.3.4"));
        assert_eq!(canon("256.1.1.1"), None);
        assert_eq!(canon("1.2.3"), None);
        assert_eq!(
            canon("010.0.0.1"),
            None,
            "leading zeros are ambiguous, std rejects them"
        );
        let mut out = Vec::new();
        assert!(push_canonical_subnet(b"2001:DB8::/32", &mut out));
        assert_eq!(out, b"2001:db8::/32");
        assert!(!push_canonical_subnet(b"10.0.0.0/33", &mut Vec::new()));
    }

    #[test]
    fn escapes_and_utf8_policy() {
        let mut out = Vec::new();
        unescape_tsv(br"a\x09b\x2c\\c\q\x4", &mut out);
        assert_eq!(out, b"a\tb,\\c\\q\\x4");
        let mut buf = b"ok".to_vec();
        unescape_tsv(br"\xc3\xa9\xff\x01\x0a\x7f", &mut buf);
        fix_utf8_tail(&mut buf, 2);
        assert_eq!(String::from_utf8(buf).unwrap(), "ok\u{e9}\\xff\\x01\n\\x7f");
    }

    #[test]
    fn iso_timestamps() {
        assert_eq!(
            parse_iso8601_nanos(b"2018-03-24T17:15:20.865716Z"),
            Some(1_521_911_720_865_716_000)
        );
        assert_eq!(parse_iso8601_nanos(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601_nanos(b"1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_iso8601_nanos(b"1969-12-31T23:59:59.5Z"),
            Some(-500_000_000)
        );
        assert_eq!(parse_iso8601_nanos(b"2018-13-24T17:15:20Z"), None);
        assert_eq!(parse_iso8601_nanos(b"not a time"), None);
    }

    /// The fixed-position fast path agrees with the general parser wherever it answers.
    #[test]
    fn iso8601_fast_path_agrees_with_the_general_parser() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for date in [
            "2018-03-24",
            "1969-12-31",
            "2018-13-24",
            "2018-00-10",
            "2018-02-31",
            "0000-01-01",
            "9999-12-31",
            "2018-3-24",
            "2018/03/24",
            "20a8-03-24",
        ] {
            for sep in ["T", "t", " ", "_"] {
                for time in [
                    "17:15:20", "23:59:60", "24:00:00", "00:60:00", "00:00:61", "1:15:20",
                    "17-15-20",
                ] {
                    for frac in [
                        "",
                        ".",
                        ".5",
                        ".865716",
                        ".123456789",
                        ".1234567891234",
                        ".12a",
                    ] {
                        for zone in ["", "Z", "z", "+01:00", "-0530", "ZZ", " ", "+1"] {
                            cases.push(format!("{date}{sep}{time}{frac}{zone}").into_bytes());
                        }
                    }
                }
            }
        }
        for case in &cases {
            if let Some(fast) = parse_iso8601_utc_fast(case) {
                assert_eq!(
                    Some(fast),
                    parse_iso8601_general(case),
                    "{}",
                    String::from_utf8_lossy(case)
                );
            }
            assert_eq!(
                parse_iso8601_nanos(case),
                parse_iso8601_general(case),
                "{}",
                String::from_utf8_lossy(case)
            );
        }
        assert!(parse_iso8601_utc_fast(b"2018-03-24T17:15:20.865716Z").is_some());
    }
}
