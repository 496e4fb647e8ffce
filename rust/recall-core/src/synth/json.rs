//! Zeek JSON spelling: one object per line, keys in `#fields` order, unset fields left out.
//!
//! Two flavours, both found in real deployments:
//! - [`JsonTime::EpochSeconds`]: the plain Zeek writer (`LogAscii::use_json = T`): `time`
//!   values are numbers of seconds, no bookkeeping keys.
//! - [`JsonTime::Iso8601`]: the corelight json-streaming-logs package: `_path` and
//!   `_write_ts` come first and every `time` is an ISO 8601 string with microseconds.
//!
//! Numbers follow Zeek's JSON formatter (rapidjson): doubles in shortest round-trip form with a
//! `.0` on whole values and the exponent form only below 1e-6. Strings escape `"` and `\`, use
//! the short JSON escapes for `\b \f \n \r \t`, and write other control bytes, DEL and invalid
//! UTF-8 as the literal text `\xNN` (JSON `\\xNN`), as Zeek does.

use super::addr::Addr;
use super::clock::{push_iso8601, Micros, SECOND_US};
use super::schema::LogType;
use super::sink::{is_token, push_hex_escape, utf8_len_at, RecordSink};

/// How `time` values are written in JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonTime {
    /// Seconds since the epoch as a JSON number (Zeek's default `JSON::TS_EPOCH`).
    #[default]
    EpochSeconds,
    /// ISO 8601 strings plus `_path` / `_write_ts` keys (json-streaming-logs).
    Iso8601,
}

/// Append a double the way rapidjson's `Writer::Double` prints it.
pub(crate) fn push_json_double(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        // Zeek writes inf/nan as null.
        out.extend_from_slice(b"null");
        return;
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(value).as_bytes();
    // ryu switches to the exponent form below 1e-5, rapidjson only below 1e-6: rewrite
    // `d.ddde-6` as `0.00000dddd`.
    if let Some(mantissa) = text.strip_suffix(b"e-6") {
        let (sign, digits) = match mantissa.strip_prefix(b"-") {
            Some(rest) => (&b"-"[..], rest),
            None => (&b""[..], mantissa),
        };
        out.extend_from_slice(sign);
        out.extend_from_slice(b"0.00000");
        out.extend(digits.iter().copied().filter(|&b| b != b'.'));
        return;
    }
    out.extend_from_slice(text);
}

const fn json_special_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i < 0x20 || i == b'"' as usize || i == b'\\' as usize || i >= 0x7F;
        i += 1;
    }
    table
}
static JSON_SPECIAL: [bool; 256] = json_special_table();

/// Append `value` escaped as the body of a JSON string (without the quotes).
pub(crate) fn push_json_escaped(out: &mut Vec<u8>, value: &[u8]) {
    let mut i = 0;
    let mut clean_from = 0;
    while i < value.len() {
        let byte = value.get(i).copied().unwrap_or(0);
        if !JSON_SPECIAL.get(usize::from(byte)).copied().unwrap_or(true) {
            i += 1;
            continue;
        }
        out.extend_from_slice(value.get(clean_from..i).unwrap_or(&[]));
        let mut width = 1;
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            0x80..=0xFF => {
                if let Some(w) = utf8_len_at(value, i) {
                    out.extend_from_slice(value.get(i..i + w).unwrap_or(&[]));
                    width = w;
                } else {
                    out.push(b'\\');
                    push_hex_escape(out, byte);
                }
            }
            _ => {
                out.push(b'\\');
                push_hex_escape(out, byte);
            }
        }
        i += width;
        clean_from = i;
    }
    out.extend_from_slice(value.get(clean_from..).unwrap_or(&[]));
}

/// Writes records as Zeek JSON lines into a growing buffer.
#[derive(Debug)]
pub(crate) struct JsonSink {
    /// The output buffer.
    pub(crate) out: Vec<u8>,
    /// `"name":` for each column, prebuilt once per file.
    keys: Vec<Vec<u8>>,
    /// `{"_path":"conn","_write_ts":"` for the ISO flavour.
    iso_prefix: Vec<u8>,
    time_format: JsonTime,
    column: usize,
    first: bool,
    list_items: usize,
}

impl JsonSink {
    /// A sink for one log type with `capacity` bytes reserved.
    pub(crate) fn new(log_type: LogType, time_format: JsonTime, capacity: usize) -> Self {
        let keys = log_type
            .fields()
            .iter()
            .map(|name| {
                let mut key = Vec::with_capacity(name.len() + 3);
                key.push(b'"');
                push_json_escaped(&mut key, name.as_bytes());
                key.extend_from_slice(b"\":");
                key
            })
            .collect();
        let mut iso_prefix = b"{\"_path\":\"".to_vec();
        iso_prefix.extend_from_slice(log_type.name().as_bytes());
        iso_prefix.extend_from_slice(b"\",\"_write_ts\":\"");
        Self {
            out: Vec::with_capacity(capacity),
            keys,
            iso_prefix,
            time_format,
            column: 0,
            first: true,
            list_items: 0,
        }
    }

    /// Write the separator and key of the next column.
    #[inline]
    fn key(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b',');
        }
        if let Some(key) = self.keys.get(self.column) {
            self.out.extend_from_slice(key);
        }
        self.column += 1;
    }

    #[inline]
    fn push_time_value(&mut self, t: Micros) {
        match self.time_format {
            JsonTime::EpochSeconds => push_json_double(&mut self.out, t as f64 / SECOND_US as f64),
            JsonTime::Iso8601 => {
                self.out.push(b'"');
                push_iso8601(&mut self.out, t);
                self.out.push(b'"');
            }
        }
    }

    #[inline]
    fn list_separator(&mut self) {
        if self.list_items > 0 {
            self.out.push(b',');
        }
        self.list_items += 1;
    }
}

impl RecordSink for JsonSink {
    #[inline]
    fn begin(&mut self, write_ts: Micros) {
        self.column = 0;
        match self.time_format {
            JsonTime::EpochSeconds => {
                self.out.push(b'{');
                self.first = true;
            }
            JsonTime::Iso8601 => {
                self.out.extend_from_slice(&self.iso_prefix);
                push_iso8601(&mut self.out, write_ts);
                self.out.push(b'"');
                self.first = false;
            }
        }
    }

    #[inline]
    fn time(&mut self, t: Micros) {
        self.key();
        self.push_time_value(t);
    }

    #[inline]
    fn string(&mut self, value: &[u8]) {
        self.key();
        self.out.push(b'"');
        push_json_escaped(&mut self.out, value);
        self.out.push(b'"');
    }

    #[inline]
    fn token(&mut self, value: &[u8]) {
        debug_assert!(is_token(value), "not a token: {value:?}");
        self.key();
        self.out.push(b'"');
        self.out.extend_from_slice(value);
        self.out.push(b'"');
    }

    #[inline]
    fn count(&mut self, value: u64) {
        self.key();
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    #[inline]
    fn port(&mut self, value: u16) {
        self.key();
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    #[inline]
    fn addr(&mut self, value: Addr) {
        self.key();
        self.out.push(b'"');
        value.push_text(&mut self.out);
        self.out.push(b'"');
    }

    #[inline]
    fn boolean(&mut self, value: bool) {
        self.key();
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    #[inline]
    fn interval(&mut self, seconds: f64) {
        self.key();
        push_json_double(&mut self.out, seconds);
    }

    #[inline]
    fn unset(&mut self) {
        self.column += 1;
    }

    #[inline]
    fn list_begin(&mut self) {
        self.key();
        self.out.push(b'[');
        self.list_items = 0;
    }

    #[inline]
    fn list_string(&mut self, value: &[u8]) {
        self.list_separator();
        self.out.push(b'"');
        push_json_escaped(&mut self.out, value);
        self.out.push(b'"');
    }

    #[inline]
    fn list_addr(&mut self, value: Addr) {
        self.list_separator();
        self.out.push(b'"');
        value.push_text(&mut self.out);
        self.out.push(b'"');
    }

    #[inline]
    fn list_interval(&mut self, seconds: f64) {
        self.list_separator();
        push_json_double(&mut self.out, seconds);
    }

    #[inline]
    fn list_end(&mut self) {
        self.out.push(b']');
    }

    #[inline]
    fn end(&mut self) {
        self.out.extend_from_slice(b"}\n");
    }

    fn len(&self) -> usize {
        self.out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(v: f64) -> String {
        let mut out = Vec::new();
        push_json_double(&mut out, v);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn escaped(v: &[u8]) -> String {
        let mut out = Vec::new();
        push_json_escaped(&mut out, v);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn doubles_like_rapidjson() {
        assert_eq!(double(3600.0), "3600.0");
        assert_eq!(double(0.0), "0.0");
        assert_eq!(
            double(0.000_097_036_361_694_335_94),
            "0.00009703636169433594"
        );
        assert_eq!(double(1.192_092_895_507_812_5e-7), "1.1920928955078125e-7");
        assert_eq!(double(1.5e-6), "0.0000015");
        assert_eq!(double(1_575_413_096.052_279), "1575413096.052279");
        assert_eq!(double(f64::NAN), "null");
    }

    #[test]
    fn strings_like_zeek() {
        assert_eq!(escaped(b"a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(escaped(b"line\nnext\ttab"), "line\\nnext\\ttab");
        assert_eq!(escaped(b"\x01\x7f"), "\\\\x01\\\\x7f");
        assert_eq!(escaped("café".as_bytes()), "café");
        assert_eq!(escaped(b"bad\xff"), "bad\\\\xff");
    }

    #[test]
    fn record_shapes() {
        let mut sink = JsonSink::new(LogType::Weird, JsonTime::EpochSeconds, 256);
        sink.begin(0);
        sink.time(1_521_911_950_395_602);
        sink.string(b"C1");
        sink.addr(Addr::V4([10, 0, 0, 1]));
        sink.port(80);
        sink.unset();
        sink.unset();
        sink.string(b"bad_HTTP_request");
        sink.unset();
        sink.boolean(false);
        sink.string(b"zeek");
        sink.list_begin();
        sink.list_end();
        sink.end();
        assert_eq!(
            String::from_utf8_lossy(&sink.out),
            "{\"ts\":1521911950.395602,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":80,\
             \"name\":\"bad_HTTP_request\",\"notice\":false,\"peer\":\"zeek\",\"source\":[]}\n"
        );

        let mut iso = JsonSink::new(LogType::Weird, JsonTime::Iso8601, 256);
        iso.begin(1_521_911_950_395_700);
        iso.time(1_521_911_950_395_602);
        iso.end();
        assert_eq!(
            String::from_utf8_lossy(&iso.out),
            "{\"_path\":\"weird\",\"_write_ts\":\"2018-03-24T17:19:10.395700Z\",\
             \"ts\":\"2018-03-24T17:19:10.395602Z\"}\n"
        );
    }
}
