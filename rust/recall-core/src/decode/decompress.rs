//! Push decompression: gzip (multi-member), zstd (multi-frame) or plain, chosen by the
//! caller or detected from the magic bytes, with limits against decompression bombs.
//!
//! Stage: decode. Must not import `tsv`/`json`; output blocks go to a callback.
//!
//! Why these crates (measured in `benches/decode.rs` on a 58 MB TSV corpus, MB/s of output):
//! gzip inflates with `flate2` on the `zlib-rs` backend with runtime CPU detection (630-840
//! MB/s, streaming). libdeflate is as fast (800-820 MB/s) but has no streaming API: it needs
//! a whole member in memory, which breaks the bounded-memory rule for one-member files of
//! any size. `miniz_oxide` streams but is about half as fast (400-415 MB/s). zstd uses the
//! reference C library through the `zstd` crate. zlib-rs checks the gzip header, CRC-32 and
//! ISIZE of every member.

use flate2::{Decompress, FlushDecompress, Status};

use crate::error::{RecallError, Result};

/// Compression of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Detect from the first bytes: gzip `1f 8b`, zstd `28 b5 2f fd`, else plain.
    #[default]
    Auto,
    /// gzip, one or more members.
    Gzip,
    /// zstd, one or more frames.
    Zstd,
    /// Not compressed.
    None,
}

impl Compression {
    /// Parse the option names used by the Python API.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(Self::Auto),
            "gzip" | "gz" => Some(Self::Gzip),
            "zstd" | "zst" => Some(Self::Zstd),
            "none" | "plain" => Some(Self::None),
            _ => None,
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Size of the blocks handed to the line framer. Large enough that the per-block overhead
/// and the copy of the one line straddling two blocks are negligible, small enough to stay in
/// L2 cache while the parser reads it.
const OUT_BLOCK: usize = 256 * 1024;
/// The expansion-ratio limit only applies past this many decompressed bytes, so small files
/// of repetitive lines are not refused.
const RATIO_FLOOR_BYTES: u64 = 1 << 20;

/// Safety limits.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Limits {
    pub(crate) max_decompressed_bytes: Option<u64>,
    pub(crate) max_ratio: Option<u64>,
}

enum Mode {
    Detect(Vec<u8>),
    Plain,
    Gzip(Box<GzipState>),
    Zstd(Box<ZstdState>),
}

struct GzipState {
    inflate: Decompress,
    /// Between members: no member has started yet, or the last one ended.
    between_members: bool,
    /// Bytes seen after a member that might start the next one (`1f` alone).
    lookahead: Vec<u8>,
    /// Any compressed byte consumed at all.
    started: bool,
}

struct ZstdState {
    decoder: zstd::stream::raw::Decoder<'static>,
    /// zstd's hint after the last call: 0 means a frame just ended.
    frame_open: bool,
}

/// Push decompressor with byte accounting.
pub(crate) struct Decompressor {
    mode: Mode,
    out: Vec<u8>,
    /// Compressed bytes consumed.
    total_in: u64,
    /// Decompressed bytes produced.
    total_out: u64,
    limits: Limits,
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor")
            .field("total_in", &self.total_in)
            .field("total_out", &self.total_out)
            .finish_non_exhaustive()
    }
}

impl Decompressor {
    pub(crate) fn new(compression: Compression, limits: Limits) -> Result<Self> {
        let mode = match compression {
            Compression::Auto => Mode::Detect(Vec::with_capacity(4)),
            Compression::None => Mode::Plain,
            Compression::Gzip => Mode::Gzip(Box::new(GzipState::new())),
            Compression::Zstd => Mode::Zstd(Box::new(ZstdState::new()?)),
        };
        Ok(Self {
            mode,
            out: Vec::new(),
            total_in: 0,
            total_out: 0,
            limits,
        })
    }

    /// Decompressed bytes produced so far.
    pub(crate) fn total_out(&self) -> u64 {
        self.total_out
    }

    /// The codec in use, once known.
    pub(crate) fn codec(&self) -> Option<Compression> {
        match self.mode {
            Mode::Detect(_) => None,
            Mode::Plain => Some(Compression::None),
            Mode::Gzip(_) => Some(Compression::Gzip),
            Mode::Zstd(_) => Some(Compression::Zstd),
        }
    }

    /// Whether feeding `input` next would inflate (gzip or zstd, known or about to be
    /// detected from its first bytes), i.e. whether a second thread could take the work.
    pub(crate) fn will_inflate(&self, input: &[u8]) -> bool {
        match &self.mode {
            Mode::Gzip(_) | Mode::Zstd(_) => true,
            Mode::Plain => false,
            Mode::Detect(buf) => {
                buf.is_empty() && (input.starts_with(&GZIP_MAGIC) || input.starts_with(&ZSTD_MAGIC))
            }
        }
    }

    /// Decompress `input`, handing every output block to `sink`.
    pub(crate) fn feed(&mut self, input: &[u8], sink: &mut impl FnMut(&[u8])) -> Result<()> {
        if let Mode::Detect(buf) = &mut self.mode {
            let take = (ZSTD_MAGIC.len() - buf.len()).min(input.len());
            buf.extend_from_slice(input.get(..take).unwrap_or_default());
            let undecided = buf.len() < ZSTD_MAGIC.len()
                && (GZIP_MAGIC.starts_with(buf) || ZSTD_MAGIC.starts_with(buf))
                && !buf.starts_with(&GZIP_MAGIC);
            if undecided {
                return Ok(());
            }
            let head = std::mem::take(buf);
            self.mode = Self::detected(&head)?;
            self.run(&head, sink)?;
            return self.run(input.get(take..).unwrap_or_default(), sink);
        }
        self.run(input, sink)
    }

    /// End of input: flush, and fail if a compressed stream stopped in the middle.
    pub(crate) fn finish(&mut self, sink: &mut impl FnMut(&[u8])) -> Result<()> {
        if let Mode::Detect(buf) = &mut self.mode {
            // Fewer than 4 bytes in total: too short for zstd, maybe not even gzip.
            let head = std::mem::take(buf);
            self.mode = if head.starts_with(&GZIP_MAGIC) {
                Mode::Gzip(Box::new(GzipState::new()))
            } else {
                Mode::Plain
            };
            self.run(&head, sink)?;
        }
        match &mut self.mode {
            Mode::Gzip(state) => {
                if !state.between_members || !state.lookahead.is_empty() {
                    return Err(
                        self.corrupt("gzip", "unexpected end of input inside a gzip member")
                    );
                }
                Ok(())
            }
            Mode::Zstd(state) => {
                if state.frame_open {
                    return Err(self.corrupt("zstd", "unexpected end of input inside a zstd frame"));
                }
                Ok(())
            }
            Mode::Plain | Mode::Detect(_) => Ok(()),
        }
    }

    fn detected(head: &[u8]) -> Result<Mode> {
        Ok(if head.starts_with(&GZIP_MAGIC) {
            Mode::Gzip(Box::new(GzipState::new()))
        } else if head.starts_with(&ZSTD_MAGIC) {
            Mode::Zstd(Box::new(ZstdState::new()?))
        } else {
            Mode::Plain
        })
    }

    fn run(&mut self, input: &[u8], sink: &mut impl FnMut(&[u8])) -> Result<()> {
        if input.is_empty() {
            return Ok(());
        }
        match self.mode {
            Mode::Plain => {
                self.total_in += input.len() as u64;
                self.account(input.len())?;
                sink(input);
                Ok(())
            }
            Mode::Gzip(_) => self.run_gzip(input, sink),
            Mode::Zstd(_) => self.run_zstd(input, sink),
            Mode::Detect(_) => Ok(()),
        }
    }

    fn run_gzip(&mut self, mut input: &[u8], sink: &mut impl FnMut(&[u8])) -> Result<()> {
        if self.out.len() != OUT_BLOCK {
            self.out.resize(OUT_BLOCK, 0);
        }
        while !input.is_empty() {
            let Mode::Gzip(state) = &mut self.mode else {
                return Ok(());
            };
            if state.between_members {
                // A new member must start with the magic; zero padding after the last member
                // is tolerated (tape/block devices pad), anything else is garbage.
                state
                    .lookahead
                    .extend_from_slice(input.get(..1).unwrap_or_default());
                input = input.get(1..).unwrap_or_default();
                match state.lookahead.as_slice() {
                    [0x1f] => continue,
                    [0x1f, 0x8b] => {
                        let head = std::mem::take(&mut state.lookahead);
                        state.inflate = Decompress::new_gzip(15);
                        state.between_members = false;
                        state.started = true;
                        self.inflate_gzip(&head, sink)?;
                        continue;
                    }
                    [0] if state.started => {
                        state.lookahead.clear();
                        self.total_in += 1;
                        continue;
                    }
                    _ => {
                        let reason = if state.started {
                            "trailing bytes after the last gzip member are not a gzip member"
                        } else {
                            "not a gzip stream (bad magic bytes)"
                        };
                        return Err(self.corrupt("gzip", reason));
                    }
                }
            }
            let used = self.inflate_gzip(input, sink)?;
            input = input.get(used..).unwrap_or_default();
        }
        Ok(())
    }

    /// Inflate from `input` until the member ends or the input is used up; returns bytes
    /// consumed.
    fn inflate_gzip(&mut self, input: &[u8], sink: &mut impl FnMut(&[u8])) -> Result<usize> {
        let mut used = 0usize;
        loop {
            let Mode::Gzip(state) = &mut self.mode else {
                return Ok(used);
            };
            let before_in = state.inflate.total_in();
            let before_out = state.inflate.total_out();
            let rest = input.get(used..).unwrap_or_default();
            let status = state
                .inflate
                .decompress(rest, &mut self.out, FlushDecompress::None);
            let consumed = (state.inflate.total_in() - before_in) as usize;
            let produced = (state.inflate.total_out() - before_out) as usize;
            used += consumed;
            self.total_in += consumed as u64;
            // Output made before a failure is real data: deliver it first.
            if produced > 0 {
                self.account(produced)?;
                sink(self.out.get(..produced).unwrap_or_default());
            }
            let status = match status {
                Ok(status) => status,
                Err(err) => return Err(self.corrupt("gzip", &err.to_string())),
            };
            match status {
                Status::StreamEnd => {
                    if let Mode::Gzip(state) = &mut self.mode {
                        state.between_members = true;
                    }
                    return Ok(used);
                }
                Status::Ok | Status::BufError => {
                    if used >= input.len() && produced < self.out.len() {
                        return Ok(used);
                    }
                    if consumed == 0 && produced == 0 {
                        return Ok(used);
                    }
                }
            }
        }
    }

    fn run_zstd(&mut self, input: &[u8], sink: &mut impl FnMut(&[u8])) -> Result<()> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        if self.out.len() != OUT_BLOCK {
            self.out.resize(OUT_BLOCK, 0);
        }
        let mut src = InBuffer::around(input);
        loop {
            let Mode::Zstd(state) = &mut self.mode else {
                return Ok(());
            };
            let before = src.pos();
            let mut dst = OutBuffer::around(self.out.as_mut_slice());
            let hint = state.decoder.run(&mut src, &mut dst);
            let produced = dst.pos();
            let consumed = src.pos() - before;
            self.total_in += consumed as u64;
            if produced > 0 {
                self.account(produced)?;
                sink(self.out.get(..produced).unwrap_or_default());
            }
            let hint = match hint {
                Ok(hint) => hint,
                Err(err) => return Err(self.corrupt("zstd", &err.to_string())),
            };
            if let Mode::Zstd(state) = &mut self.mode {
                state.frame_open = hint != 0;
            }
            if src.pos() >= input.len() && produced < self.out.len() {
                return Ok(());
            }
            if consumed == 0 && produced == 0 {
                return Ok(());
            }
        }
    }

    /// Count produced bytes and enforce the limits.
    fn account(&mut self, produced: usize) -> Result<()> {
        self.total_out += produced as u64;
        if let Some(limit) = self.limits.max_decompressed_bytes {
            if self.total_out > limit {
                return Err(RecallError::LimitExceeded {
                    what: "decompressed bytes",
                    value: self.total_out,
                    limit,
                });
            }
        }
        if let Some(ratio) = self.limits.max_ratio {
            let compressed = self.total_in.max(1);
            if self.total_out > RATIO_FLOOR_BYTES
                && self.total_out > ratio.saturating_mul(compressed)
            {
                return Err(RecallError::LimitExceeded {
                    what: "decompression ratio",
                    value: self.total_out / compressed,
                    limit: ratio,
                });
            }
        }
        Ok(())
    }

    fn corrupt(&self, codec: &'static str, reason: &str) -> RecallError {
        RecallError::Decompress {
            codec,
            offset: self.total_in,
            reason: reason.to_owned(),
        }
    }
}

impl GzipState {
    fn new() -> Self {
        Self {
            inflate: Decompress::new_gzip(15),
            between_members: true,
            lookahead: Vec::with_capacity(2),
            started: false,
        }
    }
}

impl ZstdState {
    fn new() -> Result<Self> {
        let decoder = zstd::stream::raw::Decoder::new().map_err(|err| RecallError::Decompress {
            codec: "zstd",
            offset: 0,
            reason: err.to_string(),
        })?;
        Ok(Self {
            decoder,
            frame_open: false,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn run(
        input: &[u8],
        compression: Compression,
        split: usize,
        limits: Limits,
    ) -> Result<Vec<u8>> {
        let mut d = Decompressor::new(compression, limits)?;
        let mut out = Vec::new();
        for chunk in input.chunks(split.max(1)) {
            d.feed(chunk, &mut |b| out.extend_from_slice(b))?;
        }
        d.finish(&mut |b| out.extend_from_slice(b))?;
        Ok(out)
    }

    #[test]
    fn multi_member_gzip_any_split() {
        let mut input = gzip(b"first member\n");
        input.extend(gzip(b"second member\n"));
        input.extend([0, 0, 0]);
        for split in [1, 2, 3, 7, 1000] {
            let out = run(&input, Compression::Auto, split, Limits::default()).unwrap();
            assert_eq!(out, b"first member\nsecond member\n", "split {split}");
        }
    }

    #[test]
    fn zstd_multi_frame() {
        let mut input = zstd::encode_all(&b"frame one\n"[..], 3).unwrap();
        input.extend(zstd::encode_all(&b"frame two\n"[..], 3).unwrap());
        for split in [1, 5, 4096] {
            let out = run(&input, Compression::Auto, split, Limits::default()).unwrap();
            assert_eq!(out, b"frame one\nframe two\n");
        }
    }

    #[test]
    fn truncated_and_corrupt_streams_are_errors_with_offsets() {
        let input = gzip(&b"some text that compresses\n".repeat(100));
        let cut = input.get(..input.len() - 5).unwrap();
        match run(cut, Compression::Auto, 7, Limits::default()) {
            Err(RecallError::Decompress {
                codec: "gzip",
                offset,
                ..
            }) => assert!(offset > 0),
            other => panic!("expected a gzip error, got {other:?}"),
        }
        let mut garbage = input.clone();
        garbage.extend(b"trailing garbage");
        assert!(matches!(
            run(&garbage, Compression::Auto, 100, Limits::default()),
            Err(RecallError::Decompress { .. })
        ));
        let z = zstd::encode_all(&b"x".repeat(1000)[..], 3).unwrap();
        assert!(matches!(
            run(
                z.get(..z.len() - 2).unwrap(),
                Compression::Zstd,
                3,
                Limits::default()
            ),
            Err(RecallError::Decompress { codec: "zstd", .. })
        ));
        assert!(run(b"plain", Compression::Gzip, 3, Limits::default()).is_err());
    }

    #[test]
    fn bombs_hit_limits() {
        let bomb = gzip(&vec![b'a'; 8 << 20]);
        let limits = Limits {
            max_decompressed_bytes: Some(1 << 20),
            max_ratio: None,
        };
        assert!(matches!(
            run(&bomb, Compression::Auto, 4096, limits),
            Err(RecallError::LimitExceeded {
                what: "decompressed bytes",
                ..
            })
        ));
        let limits = Limits {
            max_decompressed_bytes: None,
            max_ratio: Some(100),
        };
        assert!(matches!(
            run(&bomb, Compression::Auto, 4096, limits),
            Err(RecallError::LimitExceeded {
                what: "decompression ratio",
                ..
            })
        ));
        let plain = run(b"ab", Compression::Auto, 1, Limits::default()).unwrap();
        assert_eq!(plain, b"ab");
    }
}
