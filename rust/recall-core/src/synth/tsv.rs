//! Zeek ASCII (TSV) spelling: the meta header, `#close`, and every value escaped exactly as the
//! ASCII writer does with its default options.
//!
//! Escaping rules (see `ZEEK-FORMAT.md`): the separator (tab) is written `\x09`; backslash is
//! written `\\`; control bytes, DEL and bytes that are not valid UTF-8 are written `\xNN`;
//! inside a container the set separator (`,`) is written `\x2c`. An empty string and an empty
//! container are written `(empty)`, an unset field `-`; a string that would read as one of
//! those markers has its first character escaped (`\x2d`, `\x28empty)`).

use super::addr::Addr;
use super::clock::{push_epoch_fixed6, push_zeek_stamp, Micros};
use super::schema::LogType;
use super::sink::{is_token, push_hex_escape, utf8_len_at, RecordSink};

/// The literal header lines before `#path`, exactly as Zeek writes them.
const PREAMBLE: &[u8] =
    b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n";

/// Append the full meta header of a TSV log file opened at `open_epoch_s`.
pub(crate) fn push_header(out: &mut Vec<u8>, log_type: LogType, open_epoch_s: i64) {
    out.extend_from_slice(PREAMBLE);
    out.extend_from_slice(b"#path\t");
    out.extend_from_slice(log_type.name().as_bytes());
    out.extend_from_slice(b"\n#open\t");
    push_zeek_stamp(out, open_epoch_s);
    out.extend_from_slice(b"\n#fields");
    for name in log_type.fields() {
        out.push(b'\t');
        out.extend_from_slice(name.as_bytes());
    }
    out.extend_from_slice(b"\n#types");
    for name in log_type.types() {
        out.push(b'\t');
        out.extend_from_slice(name.as_bytes());
    }
    out.push(b'\n');
}

/// Append the `#close` line of a file closed at `close_epoch_s`.
pub(crate) fn push_footer(out: &mut Vec<u8>, close_epoch_s: i64) {
    out.extend_from_slice(b"#close\t");
    push_zeek_stamp(out, close_epoch_s);
    out.push(b'\n');
}

/// Bytes that need attention in a TSV value: control bytes, tab, backslash, comma (only inside
/// containers, checked separately), DEL and everything >= 0x80 (UTF-8 validation).
const fn needs_escape_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i < 0x20 || i == b'\\' as usize || i >= 0x7F;
        i += 1;
    }
    table
}
static NEEDS_ESCAPE: [bool; 256] = needs_escape_table();

/// Append `value` escaped for a TSV field; `in_container` also escapes the set separator.
pub(crate) fn push_escaped(out: &mut Vec<u8>, value: &[u8], in_container: bool) {
    let mut i = 0;
    let mut clean_from = 0;
    while i < value.len() {
        let byte = value.get(i).copied().unwrap_or(0);
        let special = NEEDS_ESCAPE.get(usize::from(byte)).copied().unwrap_or(true)
            || (in_container && byte == b',');
        if !special {
            i += 1;
            continue;
        }
        out.extend_from_slice(value.get(clean_from..i).unwrap_or(&[]));
        if byte == b'\\' {
            out.extend_from_slice(b"\\\\");
            i += 1;
        } else if byte >= 0x80 {
            if let Some(width) = utf8_len_at(value, i) {
                out.extend_from_slice(value.get(i..i + width).unwrap_or(&[]));
                i += width;
            } else {
                push_hex_escape(out, byte);
                i += 1;
            }
        } else {
            push_hex_escape(out, byte);
            i += 1;
        }
        clean_from = i;
    }
    out.extend_from_slice(value.get(clean_from..).unwrap_or(&[]));
}

/// Append an interval or double the way Zeek's ASCII writer does for intervals: `%.6f`.
pub(crate) fn push_fixed6(out: &mut Vec<u8>, seconds: f64) {
    if seconds.is_finite() {
        push_epoch_fixed6(out, (seconds * 1e6).round() as i64);
    } else if seconds.is_nan() {
        out.extend_from_slice(b"nan");
    } else if seconds > 0.0 {
        out.extend_from_slice(b"inf");
    } else {
        out.extend_from_slice(b"-inf");
    }
}

/// Writes records as Zeek TSV lines into a growing buffer.
#[derive(Debug, Default)]
pub(crate) struct TsvSink {
    /// The output buffer (header, records, footer).
    pub(crate) out: Vec<u8>,
    first: bool,
    list_items: usize,
}

impl TsvSink {
    /// A sink with `capacity` bytes reserved.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            first: true,
            list_items: 0,
        }
    }

    #[inline]
    fn separator(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b'\t');
        }
    }
}

impl RecordSink for TsvSink {
    #[inline]
    fn begin(&mut self, _write_ts: Micros) {
        self.first = true;
    }

    #[inline]
    fn time(&mut self, t: Micros) {
        self.separator();
        push_epoch_fixed6(&mut self.out, t);
    }

    #[inline]
    fn string(&mut self, value: &[u8]) {
        self.separator();
        match value {
            b"" => self.out.extend_from_slice(b"(empty)"),
            b"-" => self.out.extend_from_slice(b"\\x2d"),
            b"(empty)" => self.out.extend_from_slice(b"\\x28empty)"),
            _ => push_escaped(&mut self.out, value, false),
        }
    }

    #[inline]
    fn token(&mut self, value: &[u8]) {
        debug_assert!(is_token(value), "not a token: {value:?}");
        self.separator();
        self.out.extend_from_slice(value);
    }

    #[inline]
    fn count(&mut self, value: u64) {
        self.separator();
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    #[inline]
    fn port(&mut self, value: u16) {
        self.separator();
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    #[inline]
    fn addr(&mut self, value: Addr) {
        self.separator();
        value.push_text(&mut self.out);
    }

    #[inline]
    fn boolean(&mut self, value: bool) {
        self.separator();
        self.out.push(if value { b'T' } else { b'F' });
    }

    #[inline]
    fn interval(&mut self, seconds: f64) {
        self.separator();
        push_fixed6(&mut self.out, seconds);
    }

    #[inline]
    fn unset(&mut self) {
        self.separator();
        self.out.push(b'-');
    }

    #[inline]
    fn list_begin(&mut self) {
        self.separator();
        self.list_items = 0;
    }

    #[inline]
    fn list_string(&mut self, value: &[u8]) {
        if self.list_items > 0 {
            self.out.push(b',');
        }
        self.list_items += 1;
        push_escaped(&mut self.out, value, true);
    }

    #[inline]
    fn list_addr(&mut self, value: Addr) {
        if self.list_items > 0 {
            self.out.push(b',');
        }
        self.list_items += 1;
        value.push_text(&mut self.out);
    }

    #[inline]
    fn list_interval(&mut self, seconds: f64) {
        if self.list_items > 0 {
            self.out.push(b',');
        }
        self.list_items += 1;
        push_fixed6(&mut self.out, seconds);
    }

    #[inline]
    fn list_end(&mut self) {
        if self.list_items == 0 {
            self.out.extend_from_slice(b"(empty)");
        }
    }

    #[inline]
    fn end(&mut self) {
        self.out.push(b'\n');
    }

    fn len(&self) -> usize {
        self.out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(value: &[u8], in_container: bool) -> String {
        let mut out = Vec::new();
        push_escaped(&mut out, value, in_container);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn escapes_like_the_ascii_writer() {
        assert_eq!(escaped(b"plain text", false), "plain text");
        assert_eq!(escaped(b"a\tb", false), "a\\x09b");
        assert_eq!(escaped(b"a,b", false), "a,b");
        assert_eq!(escaped(b"a,b", true), "a\\x2cb");
        assert_eq!(escaped(b"C:\\Users\\x", false), "C:\\\\Users\\\\x");
        assert_eq!(escaped(b"\x00\x01\x7f\n", false), "\\x00\\x01\\x7f\\x0a");
        assert_eq!(escaped("café".as_bytes(), false), "café");
        assert_eq!(escaped(b"bad\xff\xc3", false), "bad\\xff\\xc3");
    }

    #[test]
    fn markers_and_containers() {
        let mut sink = TsvSink::with_capacity(64);
        sink.begin(0);
        sink.string(b"");
        sink.string(b"-");
        sink.unset();
        sink.list_begin();
        sink.list_end();
        sink.list_begin();
        sink.list_string(b"a,b");
        sink.list_string(b"c");
        sink.list_end();
        sink.interval(0.001_230_955_123_901_367_2);
        sink.boolean(true);
        sink.end();
        assert_eq!(
            sink.out,
            b"(empty)\t\\x2d\t-\t(empty)\ta\\x2cb,c\t0.001231\tT\n"
        );
    }

    #[test]
    fn header_matches_zeek_layout() {
        let mut out = Vec::new();
        push_header(&mut out, LogType::Weird, 1_714_564_800);
        push_footer(&mut out, 1_714_564_860);
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.first(), Some(&"#separator \\x09"));
        assert_eq!(lines.get(4), Some(&"#path\tweird"));
        assert_eq!(lines.get(5), Some(&"#open\t2024-05-01-12-00-00"));
        assert_eq!(
            lines.get(6),
            Some(&"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tname\taddl\tnotice\tpeer\tsource")
        );
        assert_eq!(lines.last(), Some(&"#close\t2024-05-01-12-01-00"));
    }
}
