//! Column writers: one per Arrow column, chosen once per batch by data type, each writing
//! the JSON value of a row straight into the body buffer.
//!
//! Value rules (the document contract, tested by the round-trip property test):
//! - strings: JSON strings; integers: exact decimal (u64 up to 2^64-1); floats: shortest
//!   round-trip (ryu), NaN/±inf as `null`; booleans: `true`/`false`;
//! - timestamps: ISO-8601 UTC strings keeping the input's precision (see `json`);
//! - durations: decimal seconds (`0.004266`), exact, as Zeek writes intervals;
//! - lists: JSON arrays, null items as `null`; dictionaries: their value (pre-encoded once
//!   per batch, so constant columns cost a copy per row); `Null` columns: always null.
//!
//! A null value is "absent": the row writer omits the key.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, TimeUnit};

use crate::encode::json::{self, TimestampWriter};
use crate::error::{RecallError, Result};

/// The typed view of one column.
enum Kind<'a> {
    Null,
    Bool(&'a arrow_array::BooleanArray),
    Str(&'a arrow_array::StringArray),
    LargeStr(&'a arrow_array::LargeStringArray),
    StrView(&'a arrow_array::StringViewArray),
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
    /// Values and digits of the unit (0, 3, 6, 9).
    Timestamp(&'a [i64], u32),
    Duration(&'a [i64], u32),
    List(&'a OffsetBuffer<i32>, Box<ColumnWriter<'a>>),
    LargeList(&'a OffsetBuffer<i64>, Box<ColumnWriter<'a>>),
    FixedList(usize, Box<ColumnWriter<'a>>),
    /// Normalised keys and the pre-encoded JSON of each dictionary value (`None` = null).
    Dict(Vec<usize>, Vec<Option<Box<[u8]>>>),
}

/// The pre-encoded JSON of one dictionary value (`None` = null).
pub type EncodedValue = Option<Box<[u8]>>;

/// How a column's rows appear in the documents of one batch (see [`ColumnWriter::presence`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// Null in every row: the key never appears.
    Never,
    /// Null in some rows.
    Sometimes,
    /// Never null; with the JSON text of the value when it is the same in every row.
    Always(Option<Vec<u8>>),
}

/// Writes the JSON values of one column.
pub struct ColumnWriter<'a> {
    nulls: Option<&'a NullBuffer>,
    kind: Kind<'a>,
}

fn unit_digits(unit: TimeUnit) -> u32 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

fn values<T: arrow_array::ArrowPrimitiveType>(array: &dyn Array) -> &ScalarBuffer<T::Native> {
    array.as_primitive::<T>().values()
}

impl<'a> ColumnWriter<'a> {
    /// Build the writer for `array`; `name` is only used in the error for unsupported types.
    pub fn new(array: &'a ArrayRef, name: &str) -> Result<Self> {
        Self::for_array(array.as_ref(), name)
    }

    fn for_array(array: &'a dyn Array, name: &str) -> Result<Self> {
        let kind = match array.data_type() {
            DataType::Null => Kind::Null,
            DataType::Boolean => Kind::Bool(array.as_boolean()),
            DataType::Utf8 => Kind::Str(array.as_string::<i32>()),
            DataType::LargeUtf8 => Kind::LargeStr(array.as_string::<i64>()),
            DataType::Utf8View => Kind::StrView(array.as_string_view()),
            DataType::Int8 => Kind::I8(values::<Int8Type>(array)),
            DataType::Int16 => Kind::I16(values::<Int16Type>(array)),
            DataType::Int32 => Kind::I32(values::<Int32Type>(array)),
            DataType::Int64 => Kind::I64(values::<Int64Type>(array)),
            DataType::UInt8 => Kind::U8(values::<UInt8Type>(array)),
            DataType::UInt16 => Kind::U16(values::<UInt16Type>(array)),
            DataType::UInt32 => Kind::U32(values::<UInt32Type>(array)),
            DataType::UInt64 => Kind::U64(values::<UInt64Type>(array)),
            DataType::Float32 => Kind::F32(values::<Float32Type>(array)),
            DataType::Float64 => Kind::F64(values::<Float64Type>(array)),
            DataType::Timestamp(unit, _) => {
                let v = match unit {
                    TimeUnit::Second => values::<TimestampSecondType>(array),
                    TimeUnit::Millisecond => values::<TimestampMillisecondType>(array),
                    TimeUnit::Microsecond => values::<TimestampMicrosecondType>(array),
                    TimeUnit::Nanosecond => values::<TimestampNanosecondType>(array),
                };
                Kind::Timestamp(v, unit_digits(*unit))
            }
            DataType::Duration(unit) => {
                let v = match unit {
                    TimeUnit::Second => values::<DurationSecondType>(array),
                    TimeUnit::Millisecond => values::<DurationMillisecondType>(array),
                    TimeUnit::Microsecond => values::<DurationMicrosecondType>(array),
                    TimeUnit::Nanosecond => values::<DurationNanosecondType>(array),
                };
                Kind::Duration(v, unit_digits(*unit))
            }
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                Kind::List(
                    list.offsets(),
                    Box::new(Self::for_array(list.values().as_ref(), name)?),
                )
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                Kind::LargeList(
                    list.offsets(),
                    Box::new(Self::for_array(list.values().as_ref(), name)?),
                )
            }
            DataType::FixedSizeList(_, size) => {
                let list = array.as_fixed_size_list();
                let size = usize::try_from(*size).unwrap_or(0);
                Kind::FixedList(
                    size,
                    Box::new(Self::for_array(list.values().as_ref(), name)?),
                )
            }
            // `normalized_keys` cannot map keys into an empty dictionary; such a column can
            // only hold nulls.
            DataType::Dictionary(_, _) if array.as_any_dictionary().values().is_empty() => {
                Kind::Null
            }
            DataType::Dictionary(_, _) => {
                let dict = array.as_any_dictionary();
                let values = dict.values();
                let writer = Self::for_array(values.as_ref(), name)?;
                let mut ts = TimestampWriter::default();
                let encoded = (0..values.len())
                    .map(|i| {
                        if writer.is_null(i) {
                            None
                        } else {
                            let mut buf = Vec::new();
                            writer.write(i, &mut buf, &mut ts);
                            Some(buf.into_boxed_slice())
                        }
                    })
                    .collect();
                Kind::Dict(dict.normalized_keys(), encoded)
            }
            other => {
                return Err(RecallError::Config {
                    field: name.to_owned(),
                    reason: format!("the bulk encoder cannot write Arrow type {other}"),
                })
            }
        };
        Ok(Self {
            nulls: array.nulls(),
            kind,
        })
    }

    /// How the rows `0..rows` of this column appear in documents, decided once per batch so
    /// the row writer can skip null checks for columns without nulls and write constant
    /// columns (`event.module`, `event.ingested`, ...) as part of the literal text around them.
    pub fn presence(&self, rows: usize) -> Presence {
        if rows == 0 || matches!(self.kind, Kind::Null) {
            return Presence::Never;
        }
        if let Some(nulls) = self.nulls {
            if nulls.null_count() >= rows {
                return Presence::Never;
            }
            if nulls.null_count() > 0 {
                return Presence::Sometimes;
            }
        }
        let constant = match &self.kind {
            Kind::Dict(keys, encoded) => {
                let Some(first) = keys.first() else {
                    return Presence::Never;
                };
                if keys.iter().all(|k| k == first) {
                    match encoded.get(*first) {
                        Some(Some(bytes)) => Some(bytes.to_vec()),
                        _ => return Presence::Never,
                    }
                } else if keys
                    .iter()
                    .all(|k| encoded.get(*k).is_some_and(Option::is_some))
                {
                    None
                } else {
                    return Presence::Sometimes;
                }
            }
            Kind::Timestamp(v, _) | Kind::Duration(v, _) | Kind::I64(v) => self.constant_bytes(v),
            _ => None,
        };
        Presence::Always(constant)
    }

    /// The JSON of row 0 when every value of `values` equals it (no nulls: checked by the
    /// caller). Stops at the first differing value, so a varying column costs a compare or two.
    fn constant_bytes<T: PartialEq>(&self, values: &[T]) -> Option<Vec<u8>> {
        let first = values.first()?;
        if values.iter().all(|v| v == first) {
            let mut out = Vec::new();
            self.write(0, &mut out, &mut TimestampWriter::default());
            Some(out)
        } else {
            None
        }
    }

    /// For a dictionary column: its normalised keys (one per row) and the pre-encoded JSON of
    /// each dictionary value (`None` = null).
    pub fn dict_parts(&self) -> Option<(&[usize], &[EncodedValue])> {
        match &self.kind {
            Kind::Dict(keys, encoded) => Some((keys, encoded)),
            _ => None,
        }
    }

    /// Whether row `row` is null (absent).
    #[inline]
    pub fn is_null(&self, row: usize) -> bool {
        if self.nulls.is_some_and(|n| n.is_null(row)) {
            return true;
        }
        match &self.kind {
            Kind::Null => true,
            Kind::Dict(keys, encoded) => keys
                .get(row)
                .and_then(|k| encoded.get(*k))
                .is_none_or(Option::is_none),
            _ => false,
        }
    }

    /// The raw UTF-8 bytes of row `row` when this is a string column (for index names).
    pub fn str_value(&self, row: usize) -> Option<&'a str> {
        if self.is_null(row) {
            return None;
        }
        match &self.kind {
            Kind::Str(a) => Some(a.value(row)),
            Kind::LargeStr(a) => Some(a.value(row)),
            Kind::StrView(a) => Some(a.value(row)),
            _ => None,
        }
    }

    /// Append the JSON value of row `row` (which must not be null; a null writes `null`).
    #[inline]
    pub fn write(&self, row: usize, out: &mut Vec<u8>, ts: &mut TimestampWriter) {
        if self.nulls.is_some_and(|n| n.is_null(row)) {
            out.extend_from_slice(b"null");
            return;
        }
        self.write_value(row, out, ts);
    }

    /// [`ColumnWriter::write`] for a row known not to be null (the row program checked, or the
    /// column has no nulls): the validity bitmap is not read again.
    #[inline]
    pub fn write_value(&self, row: usize, out: &mut Vec<u8>, ts: &mut TimestampWriter) {
        match &self.kind {
            Kind::Null => out.extend_from_slice(b"null"),
            Kind::Bool(a) => {
                out.extend_from_slice(if a.value(row) { b"true" } else { b"false" });
            }
            Kind::Str(a) => {
                let offsets = a.value_offsets();
                let (start, end) = bounds(offsets.get(row), offsets.get(row + 1));
                json::write_str_at(out, a.value_data(), start, end);
            }
            Kind::LargeStr(a) => {
                let offsets = a.value_offsets();
                let (start, end) = bounds(offsets.get(row), offsets.get(row + 1));
                json::write_str_at(out, a.value_data(), start, end);
            }
            Kind::StrView(a) => json::write_str(out, a.value(row)),
            Kind::I8(v) => write_num(out, v, row),
            Kind::I16(v) => write_num(out, v, row),
            Kind::I32(v) => write_num(out, v, row),
            Kind::I64(v) => write_num(out, v, row),
            Kind::U8(v) => write_num(out, v, row),
            Kind::U16(v) => write_num(out, v, row),
            Kind::U32(v) => write_num(out, v, row),
            Kind::U64(v) => write_num(out, v, row),
            Kind::F32(v) => json::write_f32(out, v.get(row).copied().unwrap_or(f32::NAN)),
            Kind::F64(v) => json::write_f64(out, v.get(row).copied().unwrap_or(f64::NAN)),
            Kind::Timestamp(v, digits) => match v.get(row) {
                Some(value) => ts.write(out, *value, *digits),
                None => out.extend_from_slice(b"null"),
            },
            Kind::Duration(v, digits) => match v.get(row) {
                Some(value) => json::write_seconds(out, *value, *digits),
                None => out.extend_from_slice(b"null"),
            },
            Kind::List(offsets, child) => {
                let (start, end) = bounds(offsets.get(row), offsets.get(row + 1));
                write_items(out, child, start, end, ts);
            }
            Kind::LargeList(offsets, child) => {
                let (start, end) = bounds(offsets.get(row), offsets.get(row + 1));
                write_items(out, child, start, end, ts);
            }
            Kind::FixedList(size, child) => {
                write_items(out, child, row * size, (row + 1) * size, ts);
            }
            Kind::Dict(keys, encoded) => {
                match keys
                    .get(row)
                    .and_then(|k| encoded.get(*k))
                    .and_then(Option::as_ref)
                {
                    Some(bytes) => out.extend_from_slice(bytes),
                    None => out.extend_from_slice(b"null"),
                }
            }
        }
    }
}

#[inline]
fn write_num<T: itoa::Integer + Copy>(out: &mut Vec<u8>, values: &[T], row: usize) {
    match values.get(row) {
        Some(v) => json::write_int(out, *v),
        None => out.extend_from_slice(b"null"),
    }
}

#[inline]
fn bounds<O: Copy + TryInto<usize>>(start: Option<&O>, end: Option<&O>) -> (usize, usize) {
    let conv = |o: Option<&O>| o.and_then(|v| (*v).try_into().ok()).unwrap_or(0);
    (conv(start), conv(end))
}

#[inline]
fn write_items(
    out: &mut Vec<u8>,
    child: &ColumnWriter<'_>,
    start: usize,
    end: usize,
    ts: &mut TimestampWriter,
) {
    out.push(b'[');
    for item in start..end {
        if item > start {
            out.push(b',');
        }
        if child.is_null(item) {
            out.extend_from_slice(b"null");
        } else {
            child.write(item, out, ts);
        }
    }
    out.push(b']');
}
