//! Line framing: arbitrary chunks in, complete lines out, with line numbers and offsets.
//!
//! Stage: decode. Complete lines inside a chunk are handed out as slices of that chunk (no
//! copy); only a line that straddles chunks is assembled in `pending`. A line longer than
//! `max_line_bytes` is never buffered whole: its first bytes are kept for the quarantine
//! entry and the rest is skipped up to the next newline, so memory stays bounded whatever the
//! input. The output is the same however the input is split.

use super::quarantine::QUARANTINE_RAW_BYTES;

/// Receiver of framed lines.
pub(crate) trait LineSink {
    /// A complete line without its `\n` (and without a trailing `\r`).
    fn line(&mut self, line: &[u8], number: u64, offset: u64);
    /// A line longer than the limit: its first bytes and its full length.
    fn overlong(&mut self, prefix: &[u8], number: u64, offset: u64, length: u64);
}

#[derive(Debug)]
pub(crate) struct LineFramer {
    pending: Vec<u8>,
    /// Offset of the first byte of the current (pending) line.
    line_offset: u64,
    /// Offset of the next byte to arrive.
    next_offset: u64,
    /// Number of the current line (1-based).
    line_number: u64,
    max_line_bytes: usize,
    /// Set while skipping the rest of an overlong line; holds its length so far.
    overlong_len: Option<u64>,
    /// Whether a UTF-8 byte order mark may still be stripped (start of input).
    at_start: bool,
    /// The first bytes of the input while deciding about a byte order mark.
    head: Vec<u8>,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl LineFramer {
    pub(crate) fn new(max_line_bytes: usize) -> Self {
        Self {
            pending: Vec::new(),
            line_offset: 0,
            next_offset: 0,
            line_number: 1,
            max_line_bytes,
            overlong_len: None,
            at_start: true,
            head: Vec::new(),
        }
    }

    /// Frame `data`, calling `sink` for each line completed by it.
    pub(crate) fn push(&mut self, mut data: &[u8], sink: &mut impl LineSink) {
        if self.at_start {
            let take = (BOM.len() - self.head.len()).min(data.len());
            self.head
                .extend_from_slice(data.get(..take).unwrap_or_default());
            data = data.get(take..).unwrap_or_default();
            if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
                return; // could still be a byte order mark: wait for more
            }
            self.at_start = false;
            let head = std::mem::take(&mut self.head);
            if let Some(body) = head.strip_prefix(BOM) {
                self.next_offset = BOM.len() as u64;
                self.line_offset = self.next_offset;
                self.feed(body, sink);
            } else {
                self.feed(&head, sink);
            }
        }
        self.feed(data, sink);
    }

    fn feed(&mut self, mut data: &[u8], sink: &mut impl LineSink) {
        while !data.is_empty() {
            let newline = memchr::memchr(b'\n', data);
            let (segment, rest, complete) = match newline {
                Some(pos) => (
                    data.get(..pos).unwrap_or_default(),
                    data.get(pos + 1..).unwrap_or_default(),
                    true,
                ),
                None => (data, &[][..], false),
            };
            let consumed = segment.len() as u64 + u64::from(complete);
            if let Some(len) = self.overlong_len.as_mut() {
                *len += segment.len() as u64;
                // Keep the same prefix however the line was split.
                let room = QUARANTINE_RAW_BYTES.saturating_sub(self.pending.len());
                self.pending
                    .extend_from_slice(segment.get(..room).unwrap_or(segment));
                if complete {
                    let length = *len;
                    self.overlong_len = None;
                    let prefix = std::mem::take(&mut self.pending);
                    sink.overlong(&prefix, self.line_number, self.line_offset, length);
                    self.next_line(consumed);
                } else {
                    self.next_offset += consumed;
                }
            } else if self.pending.is_empty() && complete {
                // Fast path: the whole line is inside this chunk.
                if segment.len() > self.max_line_bytes {
                    let prefix = segment.get(..QUARANTINE_RAW_BYTES).unwrap_or(segment);
                    sink.overlong(
                        prefix,
                        self.line_number,
                        self.line_offset,
                        segment.len() as u64,
                    );
                } else {
                    sink.line(strip_cr(segment), self.line_number, self.line_offset);
                }
                self.next_line(consumed);
            } else if self.pending.len() + segment.len() > self.max_line_bytes {
                let total = (self.pending.len() + segment.len()) as u64;
                let room = QUARANTINE_RAW_BYTES.saturating_sub(self.pending.len());
                self.pending.truncate(QUARANTINE_RAW_BYTES);
                self.pending
                    .extend_from_slice(segment.get(..room).unwrap_or(segment));
                if complete {
                    let prefix = std::mem::take(&mut self.pending);
                    sink.overlong(&prefix, self.line_number, self.line_offset, total);
                    self.next_line(consumed);
                } else {
                    self.overlong_len = Some(total);
                    self.next_offset += consumed;
                }
            } else {
                self.pending.extend_from_slice(segment);
                if complete {
                    let line = std::mem::take(&mut self.pending);
                    sink.line(strip_cr(&line), self.line_number, self.line_offset);
                    // Keep the allocation for the next straddling line.
                    self.pending = line;
                    self.pending.clear();
                    self.next_line(consumed);
                } else {
                    self.next_offset += consumed;
                }
            }
            data = rest;
        }
    }

    fn next_line(&mut self, consumed: u64) {
        self.next_offset += consumed;
        self.line_offset = self.next_offset;
        self.line_number += 1;
    }

    /// End of input: a last line without `\n` is still a line.
    pub(crate) fn finish(&mut self, sink: &mut impl LineSink) {
        if self.at_start {
            self.at_start = false;
            let head = std::mem::take(&mut self.head);
            self.feed(&head, sink);
        }
        if let Some(length) = self.overlong_len.take() {
            let prefix = std::mem::take(&mut self.pending);
            sink.overlong(&prefix, self.line_number, self.line_offset, length);
            self.next_line(0);
        } else if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            sink.line(strip_cr(&line), self.line_number, self.line_offset);
            self.next_line(0);
        }
    }

    /// Drop an incomplete last line (the stream before it was cut), reporting it.
    pub(crate) fn abandon_partial(&mut self) -> Option<(Vec<u8>, u64, u64)> {
        self.overlong_len = None;
        if self.pending.is_empty() {
            return None;
        }
        let line = std::mem::take(&mut self.pending);
        let entry = (line, self.line_number, self.line_offset);
        self.next_line(0);
        Some(entry)
    }
}

#[inline]
fn strip_cr(line: &[u8]) -> &[u8] {
    match line.split_last() {
        Some((b'\r', head)) => head,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<(String, u64, u64)>);

    impl LineSink for Collect {
        fn line(&mut self, line: &[u8], number: u64, offset: u64) {
            self.0
                .push((String::from_utf8_lossy(line).into_owned(), number, offset));
        }
        fn overlong(&mut self, prefix: &[u8], number: u64, offset: u64, length: u64) {
            let text = format!("LONG({length}):{}", String::from_utf8_lossy(prefix));
            self.0.push((text, number, offset));
        }
    }

    fn frame(chunks: &[&[u8]], max: usize) -> Vec<(String, u64, u64)> {
        let mut framer = LineFramer::new(max);
        let mut out = Collect::default();
        for chunk in chunks {
            framer.push(chunk, &mut out);
        }
        framer.finish(&mut out);
        out.0
    }

    #[test]
    fn same_lines_for_every_split() {
        let input: &[u8] = b"\xEF\xBB\xBFab\r\n\ncdef\nxxxxxxxxxxxx\nlast";
        let whole = frame(&[input], 8);
        assert_eq!(whole.first().map(|l| (l.0.as_str(), l.2)), Some(("ab", 3)));
        assert_eq!(whole.len(), 5);
        assert_eq!(
            whole.get(3).map(|l| l.0.as_str()),
            Some("LONG(12):xxxxxxxxxxxx")
        );
        assert_eq!(
            whole.get(4).map(|l| (l.0.as_str(), l.1, l.2)),
            Some(("last", 5, 26))
        );
        for split in 0..=input.len() {
            let (a, b) = input.split_at(split);
            assert_eq!(frame(&[a, b], 8), whole, "split at {split}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(frame(&bytes, 8), whole);
    }
}
