//! Column builders: typed, growable columns that become Arrow arrays without copying.
//!
//! Stage: decode. The TSV and JSON parsers write values straight into these builders (no
//! intermediate row representation); at a batch cut each builder hands its `Vec`s to Arrow
//! buffers (`Buffer::from_vec` takes ownership, no copy).
//!
//! Why not arrow's own builders: a line is decoded column by column and may turn out bad in
//! its last field; every builder here can `truncate` back to a row count, so a quarantined
//! line leaves no trace. Arrow's `StringBuilder` cannot shrink.

use std::sync::Arc;

use arrow_array::types::{
    DurationNanosecondType, Float64Type, Int64Type, TimestampNanosecondType, UInt16Type, UInt64Type,
};
use arrow_array::{ArrayRef, BooleanArray, ListArray, PrimitiveArray, StringArray};
use arrow_buffer::{
    ArrowNativeType, BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer,
};
use arrow_schema::{ArrowError, Field};

use crate::schema::zeek::{ZeekScalar, ZeekType, LIST_ITEM_NAME};

/// An Arrow `i32` offset. Batches are cut at `max_batch_bytes` (at most 256 MiB of lines,
/// text grows at most 4x through escaping), so lengths stay far below `i32::MAX`.
#[inline]
#[allow(clippy::cast_possible_wrap)]
fn offset(len: usize) -> i32 {
    len as i32
}

/// Validity of a column being built: nothing at all until the first null (many Zeek columns
/// never have one), then one byte per row, packed into Arrow's bitmap once at the cut. A
/// value costs a length increment (or one byte push), where arrow's `NullBufferBuilder` sets
/// a bit behind a capacity check on every append once a null was seen (measured with
/// callgrind on the TSV decode bench: about a third of every builder push).
#[derive(Debug, Default)]
pub(crate) struct Validity {
    /// 1 = valid, 0 = null, one per row; empty while every row so far is valid.
    bytes: Vec<u8>,
    /// Rows so far.
    len: usize,
}

impl Validity {
    #[inline]
    fn append_non_null(&mut self) {
        if !self.bytes.is_empty() {
            self.bytes.push(1);
        }
        self.len += 1;
    }

    #[inline]
    fn append_null(&mut self) {
        self.materialize();
        self.bytes.push(0);
        self.len += 1;
    }

    fn append_n_nulls(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.materialize();
        self.bytes.resize(self.bytes.len() + n, 0);
        self.len += n;
    }

    /// Write out the (all valid) rows so far, before the first null.
    fn materialize(&mut self) {
        if self.bytes.is_empty() {
            self.bytes.resize(self.len, 1);
        }
    }

    fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
            self.bytes.truncate(len);
        }
    }

    /// The Arrow validity of the rows so far (`None`: no nulls), and start empty again.
    fn finish(&mut self) -> Option<NullBuffer> {
        let len = std::mem::take(&mut self.len);
        if self.bytes.is_empty() {
            return None;
        }
        let bits = BooleanBuffer::new(pack_bits(&self.bytes), 0, len);
        // Keep the allocation for the next batch.
        self.bytes.clear();
        Some(NullBuffer::new(bits)).filter(|nulls| nulls.null_count() > 0)
    }
}

/// Bytes of 0/1 into an LSB-first bitmap (Arrow's layout), 8 bytes at a time: the multiply
/// gathers the low bit of each byte of the word into its top byte, in order.
fn pack_bits(bytes: &[u8]) -> Buffer {
    let mut packed = Vec::with_capacity(bytes.len().div_ceil(8));
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let x = u64::from_le_bytes(eight) & 0x0101_0101_0101_0101;
        packed.push((x.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let bits = rest
            .iter()
            .enumerate()
            .fold(0u8, |bits, (i, &b)| bits | ((b & 1) << i));
        packed.push(bits);
    }
    Buffer::from_vec(packed)
}

/// A column of fixed-width values with validity.
#[derive(Debug)]
pub(crate) struct Prim<T> {
    pub(crate) values: Vec<T>,
    nulls: Validity,
}

impl<T: ArrowNativeType> Prim<T> {
    fn new() -> Self {
        Self {
            values: Vec::new(),
            nulls: Validity::default(),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, v: T) {
        self.values.push(v);
        self.nulls.append_non_null();
    }

    #[inline]
    fn push_null(&mut self) {
        self.values.push(T::default());
        self.nulls.append_null();
    }

    fn push_nulls(&mut self, n: usize) {
        self.values.resize(self.values.len() + n, T::default());
        self.nulls.append_n_nulls(n);
    }

    fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.nulls.truncate(len);
    }

    fn take(&mut self) -> (ScalarBuffer<T>, Option<NullBuffer>) {
        // The next batch is likely as large: start at this one's size, so the vector does not
        // grow (and copy) its way up again.
        let next = Vec::with_capacity(self.values.len());
        let values = ScalarBuffer::from(std::mem::replace(&mut self.values, next));
        let nulls = self.nulls.finish();
        (values, nulls)
    }
}

/// Bytes a value copy may write past the value's end (then cut back): both decoders copy
/// short values as fixed blocks of up to 32 bytes ([`push_prefix`]).
const TEXT_COPY_SLACK: usize = 32;

/// Append `window[..len]` to `out` (the value's bytes and, after them, the rest of its line).
/// A value of up to 16 (32) bytes is copied as a fixed 16 (32) byte block and cut back: vector
/// moves instead of a `memcpy` call, which dominated for Zeek's short fields in both decoders.
/// Near the end of the line (no full block left) it is a plain copy.
// Once per text value on the hot path of both decoders.
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn push_prefix(out: &mut Vec<u8>, window: &[u8], len: usize) {
    let keep = out.len() + len;
    if len <= 16 {
        if let Some(block) = window.first_chunk::<16>() {
            out.extend_from_slice(block);
            out.truncate(keep);
            return;
        }
    } else if len <= TEXT_COPY_SLACK {
        // Zeek's uids and file ids (18 bytes), host names, MIME types.
        if let Some(block) = window.first_chunk::<TEXT_COPY_SLACK>() {
            out.extend_from_slice(block);
            out.truncate(keep);
            return;
        }
    }
    out.extend_from_slice(window.get(..len).unwrap_or_default());
}

/// A UTF-8 column: `values` holds the bytes, `offsets` one entry per row plus the leading 0.
/// Callers append a value's bytes to `values` and then call [`Text::commit`].
#[derive(Debug)]
pub(crate) struct Text {
    offsets: Vec<i32>,
    pub(crate) values: Vec<u8>,
    nulls: Validity,
}

impl Text {
    fn new() -> Self {
        Self {
            offsets: vec![0],
            values: Vec::new(),
            nulls: Validity::default(),
        }
    }

    /// Close the value whose bytes were appended to `values` since the last commit.
    // Once per text value on the hot path.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn commit(&mut self) {
        // Batches are cut long before 2 GiB of text (see `MAX_BATCH_BYTES`), so this fits.
        self.offsets.push(offset(self.values.len()));
        self.nulls.append_non_null();
    }

    /// Append a whole value that is known to be valid UTF-8.
    #[inline]
    pub(crate) fn push_str(&mut self, v: &[u8]) {
        self.values.extend_from_slice(v);
        self.commit();
    }

    #[inline]
    fn push_null(&mut self) {
        self.offsets.push(offset(self.values.len()));
        self.nulls.append_null();
    }

    fn push_nulls(&mut self, n: usize) {
        let end = offset(self.values.len());
        self.offsets.resize(self.offsets.len() + n, end);
        self.nulls.append_n_nulls(n);
    }

    /// Drop the bytes appended since the last commit (a value that failed to parse).
    #[inline]
    pub(crate) fn abandon(&mut self) {
        let end = self.offsets.last().copied().unwrap_or(0) as usize;
        self.values.truncate(end);
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn truncate(&mut self, len: usize) {
        self.offsets.truncate(len + 1);
        let end = self.offsets.last().copied().unwrap_or(0) as usize;
        self.values.truncate(end);
        self.nulls.truncate(len);
    }

    fn take(&mut self) -> Result<ArrayRef, ArrowError> {
        // Start the next batch at this one's sizes (no regrowth copies).
        let mut next_offsets = Vec::with_capacity(self.offsets.len());
        next_offsets.push(0);
        let offsets = std::mem::replace(&mut self.offsets, next_offsets);
        // Plus the block the TSV decoder's short-value copy writes past the end before cutting
        // back: without it a batch the same size as this one would double its buffer.
        let next_values = Vec::with_capacity(self.values.len() + TEXT_COPY_SLACK);
        let values = Buffer::from_vec(std::mem::replace(&mut self.values, next_values));
        let nulls = self.nulls.finish();
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        Ok(Arc::new(StringArray::try_new(offsets, values, nulls)?))
    }
}

/// A boolean column.
#[derive(Debug)]
pub(crate) struct Bools {
    /// One byte per row (0 or 1), packed into Arrow's bitmap at the cut.
    values: Vec<u8>,
    nulls: Validity,
}

impl Bools {
    fn new() -> Self {
        Self {
            values: Vec::new(),
            nulls: Validity::default(),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, v: bool) {
        self.values.push(u8::from(v));
        self.nulls.append_non_null();
    }

    #[inline]
    fn push_null(&mut self) {
        self.values.push(0);
        self.nulls.append_null();
    }
}

/// A list column (`set[T]`, `vector[T]`): offsets into a child column.
#[derive(Debug)]
pub(crate) struct List {
    offsets: Vec<i32>,
    nulls: Validity,
    pub(crate) child: Box<Column>,
    item: Arc<Field>,
}

impl List {
    /// Close the list whose elements were appended to `child` since the last commit.
    #[inline]
    pub(crate) fn commit(&mut self) {
        self.offsets.push(offset(self.child.len()));
        self.nulls.append_non_null();
    }

    /// Drop the elements appended since the last commit.
    #[inline]
    pub(crate) fn abandon(&mut self) {
        let end = self.offsets.last().copied().unwrap_or(0) as usize;
        self.child.truncate(end);
    }
}

/// One column being built, by Zeek scalar kind (the parsers match on this directly, so the
/// per-value dispatch is a single `match`).
#[derive(Debug)]
pub(crate) enum Column {
    /// `time` as nanoseconds since the epoch.
    Time(Prim<i64>),
    /// `interval` as nanoseconds.
    Interval(Prim<i64>),
    /// `count`.
    Count(Prim<u64>),
    /// `int`.
    Int(Prim<i64>),
    /// `double`.
    Double(Prim<f64>),
    /// `port`.
    Port(Prim<u16>),
    /// `bool`.
    Bool(Bools),
    /// `addr` (canonical text).
    Addr(Text),
    /// `subnet` (canonical text).
    Subnet(Text),
    /// `string`, `enum`, `pattern`, unknown types.
    Text(Text),
    /// `set[T]`, `vector[T]`.
    List(List),
}

impl Column {
    /// An empty column for a Zeek type.
    pub(crate) fn new(ty: &ZeekType) -> Self {
        match ty {
            ZeekType::Scalar(s) => Self::scalar(s),
            ZeekType::Set(s) | ZeekType::Vector(s) => Self::List(List {
                offsets: vec![0],
                nulls: Validity::default(),
                child: Box::new(Self::scalar(s)),
                item: Arc::new(Field::new(LIST_ITEM_NAME, s.arrow_type(), true)),
            }),
        }
    }

    fn scalar(s: &ZeekScalar) -> Self {
        match s {
            ZeekScalar::Time => Self::Time(Prim::new()),
            ZeekScalar::Interval => Self::Interval(Prim::new()),
            ZeekScalar::Count => Self::Count(Prim::new()),
            ZeekScalar::Int => Self::Int(Prim::new()),
            ZeekScalar::Double => Self::Double(Prim::new()),
            ZeekScalar::Port => Self::Port(Prim::new()),
            ZeekScalar::Bool => Self::Bool(Bools::new()),
            ZeekScalar::Addr => Self::Addr(Text::new()),
            ZeekScalar::Subnet => Self::Subnet(Text::new()),
            ZeekScalar::Enum | ZeekScalar::String | ZeekScalar::Pattern | ZeekScalar::Other(_) => {
                Self::Text(Text::new())
            }
        }
    }

    /// Number of rows (elements, for a list's child).
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Time(p) | Self::Interval(p) | Self::Int(p) => p.values.len(),
            Self::Count(p) => p.values.len(),
            Self::Double(p) => p.values.len(),
            Self::Port(p) => p.values.len(),
            Self::Bool(b) => b.values.len(),
            Self::Addr(t) | Self::Subnet(t) | Self::Text(t) => t.len(),
            Self::List(l) => l.offsets.len() - 1,
        }
    }

    /// Append a null.
    #[inline]
    pub(crate) fn push_null(&mut self) {
        match self {
            Self::Time(p) | Self::Interval(p) | Self::Int(p) => p.push_null(),
            Self::Count(p) => p.push_null(),
            Self::Double(p) => p.push_null(),
            Self::Port(p) => p.push_null(),
            Self::Bool(b) => b.push_null(),
            Self::Addr(t) | Self::Subnet(t) | Self::Text(t) => t.push_null(),
            Self::List(l) => {
                l.offsets.push(offset(l.child.len()));
                l.nulls.append_null();
            }
        }
    }

    /// Append `n` nulls at once (the rows a sparse JSON column had no value in).
    pub(crate) fn push_nulls(&mut self, n: usize) {
        match self {
            Self::Time(p) | Self::Interval(p) | Self::Int(p) => p.push_nulls(n),
            Self::Count(p) => p.push_nulls(n),
            Self::Double(p) => p.push_nulls(n),
            Self::Port(p) => p.push_nulls(n),
            Self::Bool(b) => {
                b.values.resize(b.values.len() + n, 0);
                b.nulls.append_n_nulls(n);
            }
            Self::Addr(t) | Self::Subnet(t) | Self::Text(t) => t.push_nulls(n),
            Self::List(l) => {
                let end = offset(l.child.len());
                l.offsets.resize(l.offsets.len() + n, end);
                l.nulls.append_n_nulls(n);
            }
        }
    }

    /// Shrink back to `len` rows (rollback of a quarantined line).
    pub(crate) fn truncate(&mut self, len: usize) {
        if self.len() <= len {
            return;
        }
        match self {
            Self::Time(p) | Self::Interval(p) | Self::Int(p) => p.truncate(len),
            Self::Count(p) => p.truncate(len),
            Self::Double(p) => p.truncate(len),
            Self::Port(p) => p.truncate(len),
            Self::Bool(b) => {
                b.values.truncate(len);
                b.nulls.truncate(len);
            }
            Self::Addr(t) | Self::Subnet(t) | Self::Text(t) => t.truncate(len),
            Self::List(l) => {
                l.offsets.truncate(len + 1);
                l.nulls.truncate(len);
                let end = l.offsets.last().copied().unwrap_or(0) as usize;
                l.child.truncate(end);
            }
        }
    }

    /// Hand the built values to an Arrow array and start empty again.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            Self::Time(p) => {
                let (v, n) = p.take();
                Arc::new(
                    PrimitiveArray::<TimestampNanosecondType>::try_new(v, n)?.with_timezone("UTC"),
                )
            }
            Self::Interval(p) => {
                let (v, n) = p.take();
                Arc::new(PrimitiveArray::<DurationNanosecondType>::try_new(v, n)?)
            }
            Self::Int(p) => {
                let (v, n) = p.take();
                Arc::new(PrimitiveArray::<Int64Type>::try_new(v, n)?)
            }
            Self::Count(p) => {
                let (v, n) = p.take();
                Arc::new(PrimitiveArray::<UInt64Type>::try_new(v, n)?)
            }
            Self::Double(p) => {
                let (v, n) = p.take();
                Arc::new(PrimitiveArray::<Float64Type>::try_new(v, n)?)
            }
            Self::Port(p) => {
                let (v, n) = p.take();
                Arc::new(PrimitiveArray::<UInt16Type>::try_new(v, n)?)
            }
            Self::Bool(b) => {
                let len = b.values.len();
                let values = BooleanBuffer::new(pack_bits(&b.values), 0, len);
                b.values.clear();
                let nulls = b.nulls.finish();
                Arc::new(BooleanArray::new(values, nulls))
            }
            Self::Addr(t) | Self::Subnet(t) | Self::Text(t) => t.take()?,
            Self::List(l) => {
                let mut next_offsets = Vec::with_capacity(l.offsets.len());
                next_offsets.push(0);
                let offsets = std::mem::replace(&mut l.offsets, next_offsets);
                let nulls = l.nulls.finish();
                let child = l.child.finish()?;
                let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
                Arc::new(ListArray::try_new(
                    Arc::clone(&l.item),
                    offsets,
                    child,
                    nulls,
                )?)
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::Array;

    use super::*;

    #[test]
    fn pack_bits_is_lsb_first_for_every_length() {
        for len in 0usize..40 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| u8::from(i % 3 == 0 || i % 7 == 1))
                .collect();
            let packed = pack_bits(&bytes);
            assert_eq!(packed.len(), len.div_ceil(8));
            for (i, &b) in bytes.iter().enumerate() {
                let bit = packed.as_slice()[i / 8] >> (i % 8) & 1;
                assert_eq!(bit, b, "len {len} bit {i}");
            }
        }
    }

    #[test]
    fn validity_and_bools_pack_into_arrow_bitmaps() {
        let mut column = Column::new(&ZeekType::parse("bool"));
        let Column::Bool(b) = &mut column else {
            panic!("bool column");
        };
        for row in 0..10 {
            if row == 3 || row == 9 {
                b.push_null();
            } else {
                b.push(row % 2 == 0);
            }
        }
        column.truncate(9);
        let array = column.finish().unwrap();
        let array = array.as_boolean();
        assert_eq!(array.len(), 9);
        assert_eq!(array.null_count(), 1);
        for row in 0..9 {
            assert_eq!(array.is_null(row), row == 3, "row {row}");
            if row != 3 {
                assert_eq!(array.value(row), row % 2 == 0, "row {row}");
            }
        }
        // Nulls rolled back entirely: no validity buffer at all; the builder starts over.
        let mut count = Column::new(&ZeekType::parse("count"));
        if let Column::Count(c) = &mut count {
            c.push(1);
        }
        count.push_null();
        count.truncate(1);
        let array = count.finish().unwrap();
        assert_eq!((array.len(), array.null_count()), (1, 0));
        assert!(array.nulls().is_none());
        assert_eq!(count.len(), 0);
    }

    #[test]
    fn truncate_rolls_back_every_kind() {
        let mut text = Column::new(&ZeekType::parse("string"));
        let mut list = Column::new(&ZeekType::parse("vector[count]"));
        if let (Column::Text(t), Column::List(l)) = (&mut text, &mut list) {
            t.push_str(b"keep");
            if let Column::Count(c) = l.child.as_mut() {
                c.push(1);
            }
            l.commit();
            t.push_str(b"drop me");
            if let Column::Count(c) = l.child.as_mut() {
                c.push(2);
                c.push(3);
            }
            l.commit();
        }
        text.truncate(1);
        list.truncate(1);
        text.push_null();
        list.push_null();
        let text = text.finish().unwrap();
        let list = list.finish().unwrap();
        assert_eq!(text.len(), 2);
        assert_eq!(text.as_string::<i32>().value(0), "keep");
        assert!(text.is_null(1));
        let list = list.as_list::<i32>();
        assert_eq!(list.values().len(), 1);
        assert!(list.is_null(1));
    }
}
