//! Zeek JSON (one object per line) into typed columns.
//!
//! Stage: decode. Types come from the registry (`schema::registry`) for the log type (`_path`
//! in the data, else the caller's `log_type`), so JSON and TSV copies of the same traffic get
//! the same schema: the registry's default columns in registry order, then other fields in the
//! order first seen. Fields the registry does not know are inferred from their first non-null
//! value, always the same way (string -> `string`, number -> `double`, bool -> `bool`, array
//! -> `vector[...]` of the first element's kind, object -> `string` holding the JSON text),
//! and keep that type for the rest of the file.
//!
//! Why a purpose-built scanner instead of a JSON library: Zeek objects are flat, and their
//! keys come in the same order on every line. The scanner predicts each key from the key
//! before it in the previous row and checks the prediction with a few word compares of the
//! quoted key (no scan, no hash lookup; a miss falls back to the general key path), then
//! parses each value straight into its column builder, without a DOM or intermediate
//! strings. It still validates the JSON grammar of each line (strings, escapes, numbers,
//! nesting); a line that is not exactly one JSON object is quarantined. Deviation: raw
//! control characters inside strings are accepted (Zeek escapes them; being lenient loses
//! nothing).
//!
//! Fast paths, each for the common shape only and falling back to the general code (which
//! also writes the error messages) with the cursor unchanged, so output is the same either
//! way (the tests below compare them): strings without escapes are found 8 bytes at a time
//! and copied as fixed windows; integers, seconds (to exact nanoseconds) and doubles
//! (Clinger's exact case) are converted while they are scanned; addresses and ISO-8601
//! times are read from the line without a copy. Together about 1.4-1.5x the previous
//! scanner on the benchmark corpus (mostly `dns`).
//!
//! Memory: a column is filled with nulls lazily, only when it gets its next value or at the
//! batch cut, so a row costs the keys it has, not the columns the schema has accumulated (a
//! file with a new key on every line used to cost rows x keys). The columns of a log type are
//! capped at `max_columns`: a line whose new key would pass it is quarantined
//! (`too_many_columns`), and batches are also cut by cells (`MAX_BATCH_CELLS`).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};

use super::builders::{push_prefix, Column, Text};
use super::quarantine::QuarantineKind;
use super::values::{
    fix_utf8_tail, is_canonical_ipv4, is_plain_text_byte, parse_f64, parse_i64,
    parse_iso8601_nanos, parse_number_nanos, parse_port, parse_u64, push_canonical_addr,
    push_canonical_subnet, push_hex_escape,
};
use super::{BatchState, DecoderOptions, JsonTime, Output};
use crate::decimal::POW10;
use crate::error::Result;
use crate::schema::registry::{field_spec, log_spec};
use crate::schema::zeek::{ZeekScalar, ZeekType, ZEEK_INFERRED_KEY, ZEEK_PATH_KEY, ZEEK_TYPE_KEY};

/// Deepest nesting accepted inside a value (deeper input is quarantined, not recursed into).
const MAX_DEPTH: usize = 64;

#[derive(Debug)]
struct JsonColumn {
    name: String,
    ty: ZeekType,
    inferred: bool,
    column: Column,
    /// Rows of the current batch written to `column` (values and nulls); the rows after it,
    /// up to the batch's row count, are nulls not written yet.
    rows: usize,
    /// The key as it appears in a line, for the predicted-key compare.
    quoted: QuotedKey,
    /// `_path`, whose value may switch the log type.
    is_path: bool,
}

impl JsonColumn {
    /// Write the pending nulls up to `rows`.
    #[inline]
    fn pad(&mut self, rows: usize) {
        if self.rows < rows {
            self.column.push_nulls(rows - self.rows);
            self.rows = rows;
        }
    }
}

/// JSON decoder state.
#[derive(Debug)]
pub(crate) struct JsonDecoder {
    log_type: Option<String>,
    columns: Vec<JsonColumn>,
    index: HashMap<Vec<u8>, usize>,
    /// Key prediction: `next[0]` is the column whose key opened the previous row, `next[c + 1]`
    /// the column whose key followed column `c` last time (`usize::MAX`: none yet). Following
    /// the previous key rather than the key position keeps the prediction right after an
    /// optional field is left out (Zeek omits unset fields).
    next: Vec<usize>,
    /// Row stamp per column: equals `row_stamp` when the column got a value in this row.
    filled: Vec<u64>,
    row_stamp: u64,
    schema: Option<SchemaRef>,
    initialized: bool,
    time_scale: i128,
    iso_minute: IsoMinute,
    max_columns: usize,
    batch: BatchState,
}

enum RowError {
    Bad(QuarantineKind, String),
    /// `_path` names another log type: cut, switch schema, decode the line again.
    Switch(String),
}

fn invalid(reason: impl Into<String>) -> RowError {
    RowError::Bad(QuarantineKind::InvalidJson, reason.into())
}

impl JsonDecoder {
    pub(crate) fn new(options: &DecoderOptions) -> Self {
        Self {
            log_type: options.log_type.clone(),
            columns: Vec::new(),
            index: HashMap::new(),
            next: vec![usize::MAX],
            filled: Vec::new(),
            row_stamp: 0,
            schema: None,
            initialized: false,
            time_scale: match options.json_time {
                JsonTime::Auto => 1_000_000_000,
                JsonTime::Millis => 1_000_000,
            },
            iso_minute: IsoMinute::default(),
            max_columns: options.max_columns,
            batch: BatchState::default(),
        }
    }

    /// Columns for the current log type: the registry's default fields.
    fn reset_columns(&mut self) {
        self.columns.clear();
        self.index.clear();
        self.next.clear();
        self.next.push(usize::MAX);
        self.filled.clear();
        self.schema = None;
        self.initialized = true;
        if let Some(spec) = self.log_type.as_deref().and_then(log_spec) {
            for field in spec.default_fields() {
                self.add_column(field.name.to_owned(), field.parsed_type(), false);
            }
        }
    }

    fn add_column(&mut self, name: String, ty: ZeekType, inferred: bool) -> usize {
        let column = Column::new(&ty);
        let idx = self.columns.len();
        self.index.insert(name.as_bytes().to_vec(), idx);
        let quoted = QuotedKey::new(&name);
        let is_path = name == "_path";
        self.columns.push(JsonColumn {
            name,
            ty,
            inferred,
            column,
            rows: 0,
            quoted,
            is_path,
        });
        self.filled.push(0);
        self.next.push(usize::MAX);
        self.schema = None;
        idx
    }

    pub(crate) fn schema(&self) -> Option<SchemaRef> {
        if let Some(schema) = &self.schema {
            return Some(Arc::clone(schema));
        }
        self.initialized.then(|| self.build_schema())
    }

    fn build_schema(&self) -> SchemaRef {
        let fields: Vec<_> = self
            .columns
            .iter()
            .map(|c| {
                let field = c.ty.arrow_field(&c.name);
                if c.inferred {
                    let mut metadata = field.metadata().clone();
                    metadata.insert(ZEEK_INFERRED_KEY.to_owned(), "true".to_owned());
                    metadata.insert(ZEEK_TYPE_KEY.to_owned(), c.ty.normalized_name());
                    field.with_metadata(metadata)
                } else {
                    field
                }
            })
            .collect();
        let mut metadata = HashMap::new();
        if let Some(path) = &self.log_type {
            metadata.insert(ZEEK_PATH_KEY.to_owned(), path.clone());
        }
        Arc::new(Schema::new_with_metadata(fields, metadata))
    }

    pub(crate) fn line(
        &mut self,
        line: &[u8],
        number: u64,
        offset: u64,
        out: &mut Output,
    ) -> Result<()> {
        if line.first() != Some(&b'{') && line.iter().all(u8::is_ascii_whitespace) {
            out.stats.header_lines += 1;
            return Ok(());
        }
        if !self.initialized {
            self.reset_columns();
        }
        let mut attempts = 0;
        loop {
            attempts += 1;
            let columns_before = self.columns.len();
            match self.parse_row(line) {
                Ok(()) => {
                    if self
                        .batch
                        .record(out, line.len(), number, self.columns.len())
                    {
                        self.cut(out)?;
                    }
                    return Ok(());
                }
                Err(err) => {
                    self.rollback(columns_before);
                    match err {
                        RowError::Switch(path) if attempts == 1 => {
                            self.cut(out)?;
                            self.log_type = Some(path);
                            self.reset_columns();
                        }
                        RowError::Switch(path) => {
                            let reason = format!("_path {path:?} changes while decoding");
                            out.quarantine(
                                number,
                                offset,
                                QuarantineKind::InvalidJson,
                                reason,
                                line,
                            );
                            return Ok(());
                        }
                        RowError::Bad(kind, reason) => {
                            out.quarantine(number, offset, kind, reason, line);
                            return Ok(());
                        }
                    }
                }
            }
        }
    }

    /// Undo the current row: only the columns it wrote to (stamped) hold anything past the
    /// batch's rows, so this costs the row's keys, not the schema's columns.
    fn rollback(&mut self, columns_before: usize) {
        let rows = self.batch.rows;
        let stamp = self.row_stamp;
        for (c, filled) in self.columns.iter_mut().zip(&mut self.filled) {
            if *filled == stamp {
                c.column.truncate(rows);
                c.rows = c.rows.min(rows);
            }
        }
        if self.columns.len() > columns_before {
            for c in self.columns.drain(columns_before..) {
                self.index.remove(c.name.as_bytes());
            }
            self.filled.truncate(columns_before);
            self.next.truncate(columns_before + 1);
            self.schema = None;
        }
    }

    pub(crate) fn cut(&mut self, out: &mut Output) -> Result<()> {
        if self.batch.rows == 0 {
            return Ok(());
        }
        let schema = if let Some(schema) = &self.schema {
            Arc::clone(schema)
        } else {
            let schema = self.build_schema();
            self.schema = Some(Arc::clone(&schema));
            schema
        };
        let rows = self.batch.rows;
        let mut arrays = Vec::with_capacity(self.columns.len());
        for c in &mut self.columns {
            c.pad(rows);
            c.rows = 0;
            arrays.push(c.column.finish()?);
        }
        // Explicit row count: objects like `{}` of an unknown log type make zero columns.
        let options = RecordBatchOptions::new().with_row_count(Some(self.batch.rows));
        let batch = RecordBatch::try_new_with_options(schema, arrays, &options)?;
        self.batch.publish(out, self.log_type.clone(), batch);
        Ok(())
    }

    /// Decode one object into the builders (the caller rolls back on error). The per-key loop
    /// is the hot path and stays in one function.
    #[allow(clippy::too_many_lines)]
    fn parse_row(&mut self, line: &[u8]) -> std::result::Result<(), RowError> {
        // Lines of printable ASCII (the usual case) need no text-policy pass per string. A
        // branch-free reduction, which the compiler vectorises.
        let ascii = line
            .iter()
            .fold(0u8, |acc, &b| acc | u8::from(b.wrapping_sub(0x20) >= 0x5f))
            == 0;
        self.row_stamp += 1;
        let stamp = self.row_stamp;
        let rows = self.batch.rows;
        let mut p = Parser { s: line, i: 0 };
        p.ws();
        if !p.eat(b'{') {
            return Err(invalid("line is not a JSON object"));
        }
        p.ws();
        // Slot in `next` of the previous key's column (0: row start).
        let mut prev = 0usize;
        if !p.eat(b'}') {
            loop {
                p.ws();
                let guess = self.next.get(prev).copied().unwrap_or(usize::MAX);
                let idx = if let Some(len) = self
                    .columns
                    .get(guess)
                    .and_then(|c| p.at_key(&c.quoted).then_some(c.quoted.bytes.len()))
                {
                    // The predicted key and its colon, compared raw (the usual case): no scan,
                    // no hash.
                    p.i += len;
                    p.ws();
                    guess
                } else {
                    let escaped_key: Vec<u8>;
                    let key: &[u8] = match p.key()? {
                        Key::Raw(a, b) => line.get(a..b).unwrap_or_default(),
                        Key::Escaped(owned) => {
                            escaped_key = owned;
                            &escaped_key
                        }
                    };
                    p.ws();
                    if !p.eat(b':') {
                        return Err(invalid(format!("expected ':' at byte {}", p.i)));
                    }
                    p.ws();
                    if let Some(&idx) = self.index.get(key) {
                        idx
                    } else {
                        let Some(idx) = self.new_column(key, &p)? else {
                            // Unknown field with a null first value: nothing to type yet.
                            p.skip_value(0)?;
                            p.ws();
                            if p.eat(b',') {
                                continue;
                            }
                            if p.eat(b'}') {
                                break;
                            }
                            return Err(invalid(format!("expected ',' or '}}' at byte {}", p.i)));
                        };
                        idx
                    }
                };
                if let Some(slot) = self.next.get_mut(prev) {
                    *slot = idx;
                }
                prev = idx + 1;
                let Some(filled) = self.filled.get_mut(idx) else {
                    return Err(invalid("internal: column index out of range"));
                };
                if *filled == stamp {
                    let name = self.columns.get(idx).map_or("?", |c| c.name.as_str());
                    return Err(invalid(format!("duplicate key {name:?}")));
                }
                *filled = stamp;
                let Some(col) = self.columns.get_mut(idx) else {
                    return Err(invalid("internal: column index out of range"));
                };
                col.pad(rows);
                col.rows = rows + 1;
                if col.is_path {
                    if let Some(path) = p.peek_plain_string() {
                        if self.log_type.as_deref().map(str::as_bytes) != Some(path) {
                            return Err(RowError::Switch(
                                String::from_utf8_lossy(path).into_owned(),
                            ));
                        }
                    }
                }
                let iso = &mut self.iso_minute;
                if let Err(why) = parse_value(&mut p, &mut col.column, self.time_scale, iso, ascii)
                {
                    return Err(match why {
                        ValueError::Syntax(reason) => invalid(reason),
                        ValueError::Type(reason) => RowError::Bad(
                            QuarantineKind::BadValue,
                            format!("field {}: {reason}", col.name),
                        ),
                    });
                }
                p.ws();
                if p.eat(b',') {
                    continue;
                }
                if p.eat(b'}') {
                    break;
                }
                return Err(invalid(format!("expected ',' or '}}' at byte {}", p.i)));
            }
        }
        p.ws();
        if p.i != line.len() {
            return Err(invalid(format!(
                "unexpected data after the object at byte {}",
                p.i
            )));
        }
        Ok(())
    }

    /// A column for a key not seen before: registry type, else inferred from the value.
    /// `None` when the value is null and the registry does not know the key; an error when the
    /// schema already has `max_columns` columns.
    fn new_column(
        &mut self,
        key: &[u8],
        p: &Parser<'_>,
    ) -> std::result::Result<Option<usize>, RowError> {
        if self.columns.len() >= self.max_columns {
            return Err(RowError::Bad(
                QuarantineKind::TooManyColumns,
                format!(
                    "key {:?} would add a column past max_columns ({}) for this log type",
                    String::from_utf8_lossy(key.get(..256).unwrap_or(key)),
                    self.max_columns
                ),
            ));
        }
        let name = match std::str::from_utf8(key) {
            Ok(name) => name.to_owned(),
            Err(_) => {
                String::from_utf8_lossy(&super::values::escape_invalid_utf8(key)).into_owned()
            }
        };
        if let Some(spec) = field_spec(self.log_type.as_deref(), &name) {
            return Ok(Some(self.add_column(name, spec.parsed_type(), false)));
        }
        let Some(ty) = p.infer_type() else {
            return Ok(None);
        };
        Ok(Some(self.add_column(name, ty, true)))
    }
}

enum ValueError {
    Syntax(String),
    Type(String),
}

fn type_error(expected: &str, p: &Parser<'_>) -> ValueError {
    ValueError::Type(format!("expected {expected}, found {}", p.describe()))
}

/// Parse one JSON value into a column of a known type (one dispatch over all kinds, kept
/// together so the hot path is a single `match`).
#[allow(clippy::too_many_lines)]
fn parse_value(
    p: &mut Parser<'_>,
    column: &mut Column,
    time_scale: i128,
    iso: &mut IsoMinute,
    ascii: bool,
) -> std::result::Result<(), ValueError> {
    if p.peek() == Some(b'n') {
        p.literal(b"null").map_err(ValueError::Syntax)?;
        column.push_null();
        return Ok(());
    }
    match column {
        Column::Text(t) => {
            if let Some((a, b)) = p.plain_string_range() {
                let start = t.values.len();
                push_from_line(&mut t.values, p.s, a, b);
                if !ascii {
                    fix_utf8_tail(&mut t.values, start);
                }
                t.commit();
                return Ok(());
            }
            match p.peek() {
                Some(b'"') => {
                    let start = t.values.len();
                    if let Err(e) = p.string_into(&mut t.values) {
                        t.abandon();
                        return Err(ValueError::Syntax(e));
                    }
                    if !ascii {
                        fix_utf8_tail(&mut t.values, start);
                    }
                }
                Some(_) => {
                    // A number, bool, array or object where text is expected: keep its JSON
                    // text (lenient; inferred and registry text fields alike).
                    let start = p.i;
                    p.skip_value(0).map_err(|e| match e {
                        RowError::Bad(_, r) | RowError::Switch(r) => ValueError::Syntax(r),
                    })?;
                    let raw = p.s.get(start..p.i).unwrap_or_default();
                    let begin = t.values.len();
                    t.values.extend_from_slice(raw);
                    if !ascii {
                        fix_utf8_tail(&mut t.values, begin);
                    }
                }
                None => return Err(ValueError::Syntax("unexpected end of line".to_owned())),
            }
            t.commit();
            Ok(())
        }
        Column::Addr(t) => parse_address(p, t, true),
        Column::Subnet(t) => parse_address(p, t, false),
        Column::Time(v) => {
            let at = p.i;
            let fast = if p.peek() == Some(b'"') {
                p.plain_string().and_then(|text| iso.nanos(text))
            } else if time_scale == 1_000_000_000 {
                p.plain_seconds_nanos()
            } else {
                None
            };
            if let Some(nanos) = fast {
                v.push(nanos);
                return Ok(());
            }
            p.i = at;
            let nanos = if p.peek() == Some(b'"') {
                let mut buf = Vec::with_capacity(32);
                p.string_into(&mut buf).map_err(ValueError::Syntax)?;
                parse_iso8601_nanos(&buf).ok_or_else(|| {
                    ValueError::Type(format!(
                        "not an ISO-8601 time: {:?}",
                        String::from_utf8_lossy(&buf)
                    ))
                })?
            } else {
                let n = p.number().map_err(|()| type_error("a time", p))?;
                parse_number_nanos(n, time_scale).ok_or_else(|| type_error("a time in range", p))?
            };
            v.push(nanos);
            Ok(())
        }
        Column::Interval(v) => {
            if let Some(nanos) = p.plain_seconds_nanos() {
                v.push(nanos);
                return Ok(());
            }
            let n = p
                .number()
                .map_err(|()| type_error("an interval (seconds)", p))?;
            v.push(
                parse_number_nanos(n, 1_000_000_000)
                    .ok_or_else(|| type_error("an interval in range", p))?,
            );
            Ok(())
        }
        Column::Count(v) => {
            if let Some(n) = p.plain_u64() {
                v.push(n);
                return Ok(());
            }
            let n = p.number().map_err(|()| type_error("a count", p))?;
            v.push(parse_u64(n).ok_or_else(|| type_error("an unsigned integer", p))?);
            Ok(())
        }
        Column::Int(v) => {
            if let Some(n) = p.plain_i64() {
                v.push(n);
                return Ok(());
            }
            let n = p.number().map_err(|()| type_error("an int", p))?;
            v.push(parse_i64(n).ok_or_else(|| type_error("a signed integer", p))?);
            Ok(())
        }
        Column::Port(v) => {
            let at = p.i;
            if let Some(port) = p.plain_u64().and_then(|n| u16::try_from(n).ok()) {
                v.push(port);
                return Ok(());
            }
            p.i = at;
            let n = p.number().map_err(|()| type_error("a port", p))?;
            v.push(parse_port(n).ok_or_else(|| type_error("a port (0..65535)", p))?);
            Ok(())
        }
        Column::Double(v) => {
            if let Some(x) = p.plain_f64() {
                v.push(x);
                return Ok(());
            }
            let n = p.number().map_err(|()| type_error("a number", p))?;
            v.push(parse_f64(n).ok_or_else(|| type_error("a number", p))?);
            Ok(())
        }
        Column::Bool(b) => {
            match p.peek() {
                Some(b't') => {
                    p.literal(b"true").map_err(ValueError::Syntax)?;
                    b.push(true);
                }
                Some(b'f') => {
                    p.literal(b"false").map_err(ValueError::Syntax)?;
                    b.push(false);
                }
                _ => return Err(type_error("true or false", p)),
            }
            Ok(())
        }
        Column::List(list) => {
            if !p.eat(b'[') {
                return Err(type_error("an array", p));
            }
            p.ws();
            if !p.eat(b']') {
                loop {
                    p.ws();
                    if let Err(e) = parse_value(p, &mut list.child, time_scale, iso, ascii) {
                        list.abandon();
                        return Err(e);
                    }
                    p.ws();
                    if p.eat(b',') {
                        continue;
                    }
                    if p.eat(b']') {
                        break;
                    }
                    list.abandon();
                    return Err(ValueError::Syntax(format!(
                        "expected ',' or ']' at byte {}",
                        p.i
                    )));
                }
            }
            list.commit();
            Ok(())
        }
    }
}

/// A parsed object key.
enum Key {
    /// Byte range in the line (no escapes).
    Raw(usize, usize),
    /// Un-escaped copy.
    Escaped(Vec<u8>),
}

/// The minute of the last ISO-8601 time decoded (`2018-03-24T17:15`) and its seconds since
/// the epoch. Zeek's JSON times come nearly in order (`ts` and `_write_ts` of a row, rows of
/// the same minute), so most share the minute of the one before and only `:SS.ffffffZ` is
/// left to read. Filled only from a time that the full parser accepted in the UTC shape, so
/// a hit gives exactly what the full parser would.
#[derive(Debug, Default)]
struct IsoMinute {
    prefix: Option<[u8; 16]>,
    secs: i64,
}

impl IsoMinute {
    /// [`parse_iso8601_nanos`], through the cache.
    #[inline]
    fn nanos(&mut self, s: &[u8]) -> Option<i64> {
        let Some((head, tail)) = s.split_first_chunk::<16>() else {
            return parse_iso8601_nanos(s);
        };
        if self.prefix.as_ref() == Some(head) {
            if let Some((second, frac)) = utc_seconds_tail(tail) {
                return (self.secs + second)
                    .checked_mul(1_000_000_000)?
                    .checked_add(frac);
            }
        }
        let nanos = parse_iso8601_nanos(s)?;
        if let Some((second, frac)) = utc_seconds_tail(tail) {
            // Accepted, with no zone offset: `nanos - frac` is whole seconds.
            self.prefix = Some(*head);
            self.secs = (nanos - frac) / 1_000_000_000 - second;
        }
        Some(nanos)
    }
}

/// The end of a UTC ISO-8601 time after its minute: `:SS`, an optional fraction, then
/// nothing, `Z` or `z`. The second and the fraction in nanoseconds (nine digits kept, further
/// digits cut off, as the full parser does).
#[inline]
fn utc_seconds_tail(tail: &[u8]) -> Option<(i64, i64)> {
    let ([b':', s0, s1], rest) = tail.split_first_chunk::<3>()? else {
        return None;
    };
    let (d0, d1) = (s0.wrapping_sub(b'0'), s1.wrapping_sub(b'0'));
    if d0 > 9 || d1 > 9 {
        return None;
    }
    let second = i64::from(d0 * 10 + d1);
    if second > 60 {
        return None;
    }
    let mut frac: i64 = 0;
    let zone = match rest.split_first() {
        Some((b'.', digits)) => {
            let count = digits.iter().take_while(|b| b.is_ascii_digit()).count();
            if count == 0 {
                return None;
            }
            let (fraction, zone) = digits.split_at_checked(count)?;
            let mut scale = 100_000_000i64;
            for &b in fraction.iter().take(9) {
                frac += i64::from(b - b'0') * scale;
                scale /= 10;
            }
            zone
        }
        _ => rest,
    };
    matches!(zone, [] | [b'Z' | b'z']).then_some((second, frac))
}

/// An `addr` or `subnet` string, canonicalised.
fn parse_address(
    p: &mut Parser<'_>,
    t: &mut Text,
    is_addr: bool,
) -> std::result::Result<(), ValueError> {
    if p.peek() != Some(b'"') {
        return Err(type_error("an address string", p));
    }
    let at = p.i;
    if let Some((a, b)) = p.plain_string_range() {
        let raw = p.s.get(a..b).unwrap_or_default();
        let ok = if is_addr && is_canonical_ipv4(raw) {
            push_from_line(&mut t.values, p.s, a, b);
            true
        } else if is_addr {
            push_canonical_addr(raw, &mut t.values)
        } else {
            push_canonical_subnet(raw, &mut t.values)
        };
        if ok {
            t.commit();
            return Ok(());
        }
        // Not an address: the general path below reports it.
        t.abandon();
        p.i = at;
    }
    let mut buf = Vec::with_capacity(40);
    p.string_into(&mut buf).map_err(ValueError::Syntax)?;
    let ok = if is_addr {
        push_canonical_addr(&buf, &mut t.values)
    } else {
        push_canonical_subnet(&buf, &mut t.values)
    };
    if !ok {
        t.abandon();
        let what = if is_addr { "an address" } else { "a subnet" };
        return Err(ValueError::Type(format!(
            "not {what}: {:?}",
            String::from_utf8_lossy(&buf)
        )));
    }
    t.commit();
    Ok(())
}

/// Append `line[start..end]` to `out` (short values as fixed blocks: [`push_prefix`]).
#[inline]
fn push_from_line(out: &mut Vec<u8>, line: &[u8], start: usize, end: usize) {
    let window = line.get(start..).unwrap_or_default();
    push_prefix(out, window, end.saturating_sub(start));
}

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// High bit set in each byte of `x` that is zero, exactly (no false positives: the carry-free
/// form, unlike the classic `(x - ONES) & !x`).
#[inline]
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// Marks (high bits) of the bytes of `word` that are `"` or `\`.
#[inline]
fn quote_or_backslash(word: [u8; 8]) -> u64 {
    let x = u64::from_le_bytes(word);
    zero_bytes(x ^ (ONES * u64::from(b'"'))) | zero_bytes(x ^ (ONES * u64::from(b'\\')))
}

/// Position of the first `"` or `\` in `s`: the first 32 bytes 8 at a time (SWAR), the rest
/// with `memchr2`. Zeek's strings are mostly short (uids, addresses, names), where SWAR beats
/// `memchr2`'s per-call setup; long ones (URIs, user agents) still get its vector loop.
#[inline]
fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    const SWAR_BYTES: usize = 32;
    let mut base = 0usize;
    let mut words = s.chunks_exact(8);
    for word in words.by_ref().take(SWAR_BYTES / 8) {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let marks = quote_or_backslash(word);
        if marks != 0 {
            return Some(base + (marks.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    if s.len() > SWAR_BYTES {
        let rest = s.get(SWAR_BYTES..)?;
        return memchr::memchr2(b'"', b'\\', rest).map(|pos| SWAR_BYTES + pos);
    }
    let tail = words.remainder();
    if tail.is_empty() {
        return None;
    }
    let Some(last) = s.len().checked_sub(8) else {
        return tail.iter().position(|&b| b == b'"' || b == b'\\');
    };
    // The tail as the last 8 bytes (overlapping), without the bytes already searched.
    let word = <[u8; 8]>::try_from(s.get(last..)?).ok()?;
    let seen = base - last;
    let marks = quote_or_backslash(word) & (u64::MAX << (8 * seen));
    (marks != 0).then(|| last + (marks.trailing_zeros() / 8) as usize)
}

/// The 8 bytes of `s` at `at` as one word (`None` past the end).
#[inline]
fn word_at(s: &[u8], at: usize) -> Option<u64> {
    let bytes = s.get(at..at.checked_add(8)?)?;
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_le_bytes)
}

/// A key as Zeek writes it in a line, quotes and colon included (`"id.orig_h":`), for the
/// predicted-key compare: a word at a time with overlapping loads, the first word pre-masked
/// (keys are short: a `memcmp` call per key, or padding a tail through a stack copy, cost more
/// than the compare). Empty when the name has a `"` or `\` (such a key is always written
/// escaped); a key written differently (escaped, space before the colon) takes the general
/// path.
#[derive(Debug)]
struct QuotedKey {
    bytes: Vec<u8>,
    /// The first (up to) 8 bytes, little-endian, and the mask of those that count.
    head: u64,
    mask: u64,
}

impl QuotedKey {
    fn new(name: &str) -> Self {
        if name.bytes().any(|b| b == b'"' || b == b'\\') {
            return Self {
                bytes: Vec::new(),
                head: 0,
                mask: 0,
            };
        }
        let mut bytes = Vec::with_capacity(name.len() + 3);
        bytes.push(b'"');
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(b"\":");
        let mut head = [0u8; 8];
        let n = bytes.len().min(8);
        if let (Some(dst), Some(src)) = (head.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        let mask = if n == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * n)) - 1
        };
        Self {
            bytes,
            head: u64::from_le_bytes(head),
            mask,
        }
    }

    /// Whether `s` starts with this key.
    #[inline]
    fn matches(&self, s: &[u8]) -> bool {
        let n = self.bytes.len();
        if n == 0 {
            return false;
        }
        let Some(first) = word_at(s, 0) else {
            // Near the end of the line.
            return s.starts_with(&self.bytes);
        };
        if (first ^ self.head) & self.mask != 0 {
            return false;
        }
        if n <= 8 {
            return true;
        }
        let mut at = 8;
        while at + 8 < n {
            if word_at(s, at) != word_at(&self.bytes, at) {
                return false;
            }
            at += 8;
        }
        // The last word, overlapping the previous one.
        word_at(s, n - 8) == word_at(&self.bytes, n - 8)
    }
}

/// `10^k` for `k <= 22`: the powers of ten that are exact in `f64` (Clinger's fast path).
const POW10_F64: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Cursor over one line.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// `true`, `false` or `null` at the cursor (a fixed-size compare, inlined: no `memcmp`).
    #[inline]
    fn literal<const N: usize>(&mut self, word: &[u8; N]) -> std::result::Result<(), String> {
        if self.s.get(self.i..).and_then(<[u8]>::first_chunk::<N>) == Some(word) {
            self.i += N;
            Ok(())
        } else {
            Err(format!("invalid literal at byte {}", self.i))
        }
    }

    /// Whether the line continues with `key` at the cursor.
    #[inline]
    fn at_key(&self, key: &QuotedKey) -> bool {
        key.matches(self.s.get(self.i..).unwrap_or_default())
    }

    /// The string at the cursor when it has no escapes (the usual case): its raw content,
    /// consumed. `None` (cursor unchanged) for anything else; callers then take the general
    /// path, which also produces the error messages.
    #[inline]
    fn plain_string(&mut self) -> Option<&'a [u8]> {
        let (start, end) = self.plain_string_range()?;
        self.s.get(start..end)
    }

    /// [`Parser::plain_string`] as the byte range of its content in the line.
    #[inline]
    fn plain_string_range(&mut self) -> Option<(usize, usize)> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.i + 1;
        let pos = find_quote_or_backslash(self.s.get(start..)?)?;
        if self.s.get(start + pos) != Some(&b'"') {
            return None;
        }
        self.i = start + pos + 1;
        Some((start, start + pos))
    }

    /// Digits of an integer token at `i`, JSON grammar (no leading zero), at most 19 digits
    /// (always fits `u64`): the value and the index after it. `None` when not that shape.
    /// Inlined into each number path (a call per number cost more than the loop).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn digits_at(&self, mut i: usize) -> Option<(u64, usize)> {
        let first = self.s.get(i)?.wrapping_sub(b'0');
        if first > 9 {
            return None;
        }
        let start = i;
        let mut v = u64::from(first);
        i += 1;
        if first != 0 {
            while let Some(&b) = self.s.get(i) {
                let d = b.wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                if i - start == 19 {
                    return None;
                }
                v = v * 10 + u64::from(d);
                i += 1;
            }
        }
        Some((v, i))
    }

    /// Whether a number token ends at `i` (what follows cannot continue it).
    #[inline]
    fn number_ends_at(&self, i: usize) -> bool {
        !matches!(self.s.get(i), Some(b'.' | b'e' | b'E' | b'0'..=b'9'))
    }

    /// Fast path for an unsigned integer token (`count`, `port`): consumed when it is plain
    /// digits; `None` (cursor unchanged) otherwise.
    #[inline]
    fn plain_u64(&mut self) -> Option<u64> {
        let (v, end) = self.digits_at(self.i)?;
        if !self.number_ends_at(end) {
            return None;
        }
        self.i = end;
        Some(v)
    }

    /// Fast path for a signed integer token (`int`), as [`Parser::plain_u64`].
    #[inline]
    fn plain_i64(&mut self) -> Option<i64> {
        let negative = self.peek() == Some(b'-');
        let (v, end) = self.digits_at(self.i + usize::from(negative))?;
        if !self.number_ends_at(end) {
            return None;
        }
        let v = i64::try_from(v).ok()?;
        self.i = end;
        Some(if negative { -v } else { v })
    }

    /// Fast path for seconds as a plain decimal (`1521911720.865716`, `0.0008699893951416016`)
    /// into nanoseconds, scanned and converted in one pass: at most 12 integer digits, any
    /// number of fraction digits. Same result as `parse_number_nanos(text, 1e9)`: 9 fraction
    /// digits are kept and the 10th rounds half away from zero (the digits after it cannot
    /// change that). `None` (cursor unchanged) for any other shape.
    #[inline]
    fn plain_seconds_nanos(&mut self) -> Option<i64> {
        let negative = self.peek() == Some(b'-');
        let (whole, mut i) = self.digits_at(self.i + usize::from(negative))?;
        if whole >= 1_000_000_000_000 {
            return None;
        }
        let mut frac: u64 = 0;
        let mut frac_digits = 0usize;
        let mut round_up = false;
        if self.s.get(i) == Some(&b'.') {
            i += 1;
            let digits = i;
            while let Some(&b) = self.s.get(i) {
                let d = b.wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                if frac_digits < 9 {
                    frac = frac * 10 + u64::from(d);
                    frac_digits += 1;
                } else if i == digits + 9 {
                    round_up = d >= 5;
                }
                i += 1;
            }
            if i == digits {
                return None;
            }
        }
        if !self.number_ends_at(i) {
            return None;
        }
        let nanos = whole
            .checked_mul(1_000_000_000)?
            .checked_add(frac * POW10.get(9 - frac_digits)?)?
            .checked_add(u64::from(round_up))?;
        let nanos = i64::try_from(nanos).ok()?;
        self.i = i;
        Some(if negative { -nanos } else { nanos })
    }

    /// Fast path for a `double` token without exponent whose digits fit 2^53 and whose
    /// fraction has at most 22 digits: `digits / 10^k` in `f64` is then exact-rounded (Clinger),
    /// so the result equals the general parser's. `None` (cursor unchanged) otherwise.
    #[inline]
    fn plain_f64(&mut self) -> Option<f64> {
        const MAX_EXACT: u64 = 1 << 53;
        let negative = self.peek() == Some(b'-');
        let (mut mantissa, mut i) = self.digits_at(self.i + usize::from(negative))?;
        if mantissa > MAX_EXACT {
            return None;
        }
        let mut scale = 0usize;
        if self.s.get(i) == Some(&b'.') {
            i += 1;
            while let Some(&b) = self.s.get(i) {
                let d = b.wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                mantissa = mantissa * 10 + u64::from(d);
                scale += 1;
                if mantissa > MAX_EXACT {
                    return None;
                }
                i += 1;
            }
            if scale == 0 {
                return None;
            }
        }
        if !self.number_ends_at(i) {
            return None;
        }
        // mantissa <= 2^53: exact in f64.
        let value = mantissa as f64 / *POW10_F64.get(scale)?;
        self.i = i;
        Some(if negative { -value } else { value })
    }

    /// What the value at the cursor is, for error messages.
    fn describe(&self) -> &'static str {
        match self.peek() {
            Some(b'"') => "a string",
            Some(b'[') => "an array",
            Some(b'{') => "an object",
            Some(b't' | b'f') => "a bool",
            Some(b'-' | b'0'..=b'9') => "a number",
            Some(b'n') => "null",
            _ => "invalid JSON",
        }
    }

    /// A key: its raw byte range when it has no escapes (the usual case), else un-escaped.
    #[inline]
    fn key(&mut self) -> std::result::Result<Key, RowError> {
        if self.peek() != Some(b'"') {
            return Err(invalid(format!("expected a key string at byte {}", self.i)));
        }
        let start = self.i + 1;
        let rest = self.s.get(start..).unwrap_or_default();
        match find_quote_or_backslash(rest) {
            Some(pos) if rest.get(pos) == Some(&b'"') => {
                self.i = start + pos + 1;
                Ok(Key::Raw(start, start + pos))
            }
            Some(_) => {
                let mut owned = Vec::new();
                self.string_into(&mut owned).map_err(invalid)?;
                Ok(Key::Escaped(owned))
            }
            None => Err(invalid("unterminated key string")),
        }
    }

    /// The raw content of a string value without escapes, without consuming it.
    fn peek_plain_string(&self) -> Option<&'a [u8]> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let rest = self.s.get(self.i + 1..)?;
        let pos = find_quote_or_backslash(rest)?;
        (rest.get(pos) == Some(&b'"'))
            .then(|| rest.get(..pos))
            .flatten()
    }

    /// A string value, un-escaped, appended to `out` (may hold invalid UTF-8 only if the line
    /// did; callers fix that).
    fn string_into(&mut self, out: &mut Vec<u8>) -> std::result::Result<(), String> {
        if !self.eat(b'"') {
            return Err(format!("expected a string at byte {}", self.i));
        }
        loop {
            let rest = self.s.get(self.i..).unwrap_or_default();
            let Some(pos) = find_quote_or_backslash(rest) else {
                return Err("unterminated string".to_owned());
            };
            out.extend_from_slice(rest.get(..pos).unwrap_or_default());
            self.i += pos;
            if self.eat(b'"') {
                return Ok(());
            }
            self.i += 1; // the backslash
            let Some(escape) = self.peek() else {
                return Err("unterminated escape".to_owned());
            };
            self.i += 1;
            match escape {
                b'"' => out.push(b'"'),
                b'\\' => out.push(b'\\'),
                b'/' => out.push(b'/'),
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'u' => {
                    let first = self.hex4()?;
                    let code = if (0xD800..0xDC00).contains(&first) {
                        if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                            return Err("unpaired surrogate in \\u escape".to_owned());
                        }
                        self.i += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&second) {
                            return Err("invalid low surrogate in \\u escape".to_owned());
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    } else if (0xDC00..0xE000).contains(&first) {
                        return Err("unpaired low surrogate in \\u escape".to_owned());
                    } else {
                        first
                    };
                    if let Ok(byte) = u8::try_from(code) {
                        if byte < 0x80 && !is_plain_text_byte(byte) {
                            // Same text policy as TSV: control characters read as `\xNN`.
                            push_hex_escape(out, byte);
                            continue;
                        }
                    }
                    let c = char::from_u32(code).ok_or("invalid \\u escape")?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                other => return Err(format!("invalid escape \\{}", char::from(other))),
            }
        }
    }

    fn hex4(&mut self) -> std::result::Result<u32, String> {
        let digits = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
        let mut v = 0u32;
        for &d in digits {
            let x = char::from(d).to_digit(16).ok_or("invalid \\u escape")?;
            v = v * 16 + x;
        }
        self.i += 4;
        Ok(v)
    }

    /// A number token (validated JSON grammar), returned as its text.
    #[inline]
    fn number(&mut self) -> std::result::Result<&'a [u8], ()> {
        let start = self.i;
        let s = self.s;
        let mut i = start;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = s.get(i) {
                    i += 1;
                }
            }
            _ => return Err(()),
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            let digits = i;
            while let Some(b'0'..=b'9') = s.get(i) {
                i += 1;
            }
            if i == digits {
                return Err(());
            }
        }
        if let Some(b'e' | b'E') = s.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = s.get(i) {
                i += 1;
            }
            let digits = i;
            while let Some(b'0'..=b'9') = s.get(i) {
                i += 1;
            }
            if i == digits {
                return Err(());
            }
        }
        self.i = i;
        s.get(start..i).ok_or(())
    }

    /// Skip (and validate) any value.
    fn skip_value(&mut self, depth: usize) -> std::result::Result<(), RowError> {
        if depth > MAX_DEPTH {
            return Err(invalid("nesting deeper than 64 levels"));
        }
        match self.peek() {
            Some(b'"') => {
                let mut sink = Vec::new();
                self.string_into(&mut sink).map_err(invalid)
            }
            Some(b't') => self.literal(b"true").map_err(invalid),
            Some(b'f') => self.literal(b"false").map_err(invalid),
            Some(b'n') => self.literal(b"null").map_err(invalid),
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b']') {
                        return Ok(());
                    }
                    return Err(invalid(format!("expected ',' or ']' at byte {}", self.i)));
                }
            }
            Some(b'{') => {
                self.i += 1;
                self.ws();
                if self.eat(b'}') {
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.key()?;
                    self.ws();
                    if !self.eat(b':') {
                        return Err(invalid(format!("expected ':' at byte {}", self.i)));
                    }
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        return Ok(());
                    }
                    return Err(invalid(format!("expected ',' or '}}' at byte {}", self.i)));
                }
            }
            _ => self
                .number()
                .map(|_| ())
                .map_err(|()| invalid(format!("invalid value at byte {}", self.i))),
        }
    }

    /// Type of a field the registry does not know, from its first non-null value.
    fn infer_type(&self) -> Option<ZeekType> {
        let scalar = |b: Option<u8>| match b {
            Some(b't' | b'f') => Some(ZeekScalar::Bool),
            Some(b'-' | b'0'..=b'9') => Some(ZeekScalar::Double),
            Some(b'n') => None,
            _ => Some(ZeekScalar::String),
        };
        match self.peek() {
            Some(b'n') => None,
            Some(b'[') => {
                let mut look = Parser {
                    s: self.s,
                    i: self.i + 1,
                };
                look.ws();
                let element = match look.peek() {
                    Some(b'[' | b'{' | b'"' | b']') => ZeekScalar::String,
                    other => scalar(other).unwrap_or(ZeekScalar::String),
                };
                Some(ZeekType::Vector(element))
            }
            Some(b'{') => Some(ZeekType::Scalar(ZeekScalar::String)),
            other => scalar(other).map(ZeekType::Scalar),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn naive_find(s: &[u8]) -> Option<usize> {
        s.iter().position(|&b| b == b'"' || b == b'\\')
    }

    #[test]
    fn quote_search_matches_a_byte_loop_at_every_length_and_position() {
        for len in 0..80 {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert_eq!(find_quote_or_backslash(&base), None, "len {len}");
            for at in 0..len {
                for mark in [b'"', b'\\'] {
                    let mut s = base.clone();
                    s[at] = mark;
                    if at + 3 < len {
                        s[at + 3] = b'"';
                    }
                    assert_eq!(
                        find_quote_or_backslash(&s),
                        naive_find(&s),
                        "len {len} at {at}"
                    );
                }
            }
        }
        // High bytes and bytes next to the searched ones are not matches.
        let s = [
            0x22 ^ 0x80,
            0x5c ^ 0x80,
            0x21,
            0x23,
            0x5b,
            0x5d,
            0xff,
            0x00,
            0x22,
        ];
        assert_eq!(find_quote_or_backslash(&s), Some(8));
    }

    #[test]
    fn predicted_key_compare_matches_starts_with() {
        let names = [
            "ts",
            "uid",
            "id.orig_h",
            "proto",
            "AA",
            "resp_ip_bytes",
            "a_much_longer_key_name_x",
            "",
        ];
        for name in names {
            let key = QuotedKey::new(name);
            let quoted = format!("\"{name}\":").into_bytes();
            let mut lines: Vec<Vec<u8>> = Vec::new();
            for tail in ["", "1", "1,\"next\":2}", "x", "\":", " "] {
                lines.push([quoted.as_slice(), tail.as_bytes()].concat());
                for cut in 0..quoted.len() {
                    lines.push([&quoted[..cut], tail.as_bytes()].concat());
                    let mut wrong = quoted.clone();
                    wrong[cut] ^= 0x01;
                    lines.push([wrong.as_slice(), tail.as_bytes()].concat());
                }
            }
            for line in &lines {
                assert_eq!(
                    key.matches(line),
                    line.starts_with(&quoted),
                    "{name:?} in {line:?}"
                );
            }
        }
        assert!(!QuotedKey::new("a\"b").matches(b"\"a\\\"b\":1"));
        assert!(!QuotedKey::new("a\\b").matches(b"\"a\\b\":1"));
        assert!(!QuotedKey::new("ts").matches(b"\"ts\" :1"));
    }

    #[test]
    fn short_values_are_copied_exactly() {
        let line: Vec<u8> = (0u8..100).collect();
        for start in [0, 1, 50, 67, 68, 69, 90, 99, 100] {
            for len in [0, 1, 7, 31, 32, 33, 40] {
                let end = (start + len).min(line.len());
                let mut out = b"prefix".to_vec();
                push_from_line(&mut out, &line, start, end);
                assert_eq!(&out[6..], &line[start..end]);
                assert_eq!(&out[..6], b"prefix");
            }
        }
    }

    /// A number token as Zeek or a hostile writer may print it, followed by what ends it.
    fn number_text() -> impl Strategy<Value = String> {
        (
            "-?",
            prop_oneof!["0", "[1-9][0-9]{0,21}", "[0-9]{1,3}"],
            prop_oneof![
                "",
                "\\.[0-9]{1,25}",
                "\\.",
                "\\.0{9}[0-9]{1,4}",
                "\\.[0-9]{8}[459][0-9]{0,3}"
            ],
            prop_oneof!["", "[eE][-+]?[0-9]{1,3}"],
            prop_oneof!["", ",", "}", "]", " ", "x", "\\.5", "0"],
        )
            .prop_map(|(sign, int, frac, exp, end)| format!("{sign}{int}{frac}{exp}{end}"))
    }

    /// The general path: the validated token, then the value parser of `values`.
    fn general<T>(text: &[u8], parse: impl Fn(&[u8]) -> Option<T>) -> (Option<T>, usize) {
        let mut p = Parser { s: text, i: 0 };
        match p.number() {
            Ok(token) => (parse(token), p.i),
            Err(()) => (None, 0),
        }
    }

    /// Run a fast path: its value and where it left the cursor.
    fn fast<T>(text: &[u8], f: impl Fn(&mut Parser<'_>) -> Option<T>) -> (Option<T>, usize) {
        let mut p = Parser { s: text, i: 0 };
        let v = f(&mut p);
        (v, p.i)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// Every fast number path gives the general path's value and cursor when it answers,
        /// and leaves the cursor alone when it does not.
        #[test]
        fn fast_number_paths_agree_with_the_general_path(text in number_text()) {
            let s = text.as_bytes();
            let checks: [(Option<i128>, usize, Option<i128>, usize); 4] = {
                let (fu, iu) = fast(s, |p| p.plain_u64().map(i128::from));
                let (gu, ju) = general(s, |t| parse_u64(t).map(i128::from));
                let (fi, ii) = fast(s, |p| p.plain_i64().map(i128::from));
                let (gi, ji) = general(s, |t| parse_i64(t).map(i128::from));
                let (fs, is) = fast(s, |p| p.plain_seconds_nanos().map(i128::from));
                let (gs, js) = general(s, |t| parse_number_nanos(t, 1_000_000_000).map(i128::from));
                let (ff, jf) = fast(s, |p| p.plain_f64().map(|x| i128::from(x.to_bits())));
                let (gf, kf) = general(s, |t| parse_f64(t).map(|x| i128::from(x.to_bits())));
                [(fu, iu, gu, ju), (fi, ii, gi, ji), (fs, is, gs, js), (ff, jf, gf, kf)]
            };
            for (fast_value, fast_end, general_value, general_end) in checks {
                if fast_value.is_some() {
                    prop_assert_eq!(fast_value, general_value, "{}", text);
                    prop_assert_eq!(fast_end, general_end, "{}", text);
                } else {
                    prop_assert_eq!(fast_end, 0, "{}", text);
                }
            }
        }
    }

    /// Keys out of the predicted order, left out, escaped, spaced or repeated: every row still
    /// lands in the right columns (the prediction is only ever a shortcut).
    #[test]
    fn key_prediction_survives_reordered_missing_and_escaped_keys() {
        use arrow_array::cast::AsArray;
        use arrow_array::types::TimestampNanosecondType;

        use crate::decode::{Format, ZeekDecoder};

        let input = concat!(
            "{\"ts\":1.5,\"uid\":\"a\",\"id.orig_h\":\"10.0.0.1\",\"proto\":\"tcp\"}\n",
            "{\"uid\":\"b\",\"ts\":2.5,\"proto\":\"udp\"}\n",
            "{\"ts\":3.5,\"u\\u0069d\":\"c\",\"id.orig_h\" : \"10.0.0.3\"}\n",
            "{\"ts\":4.5,\"uid\":\"d\",\"uid\":\"e\"}\n",
            "{ \"ts\" :5.5 , \"proto\":\"icmp\"}\n",
            "{\"ts\":6.5,\"proto\":\"tcp\",\"uid\":\"f\"}\n",
        );
        let mut decoder = ZeekDecoder::new(DecoderOptions {
            format: Format::Json,
            log_type: Some("conn".to_owned()),
            ..DecoderOptions::default()
        })
        .unwrap();
        decoder.decode(input.as_bytes()).unwrap();
        decoder.finish().unwrap();
        assert_eq!(decoder.quarantine().len(), 1);
        assert!(decoder.quarantine()[0].reason.contains("duplicate key"));
        let batches = decoder.take_batches();
        let batch = &batches[0].batch;
        let text = |name: &str| -> Vec<Option<String>> {
            let column = batch.column_by_name(name).unwrap().as_string::<i32>();
            column.iter().map(|v| v.map(str::to_owned)).collect()
        };
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(text("uid"), [s("a"), s("b"), s("c"), None, s("f")]);
        assert_eq!(
            text("proto"),
            [s("tcp"), s("udp"), None, s("icmp"), s("tcp")]
        );
        assert_eq!(
            text("id.orig_h"),
            [s("10.0.0.1"), None, s("10.0.0.3"), None, None]
        );
        let ts = batch.column_by_name("ts").unwrap();
        let ts: Vec<_> = ts
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .collect();
        let want: Vec<_> = [1.5, 2.5, 3.5, 5.5, 6.5]
            .iter()
            .map(|&t: &f64| Some((t * 1e9) as i64))
            .collect();
        assert_eq!(ts, want);
    }

    /// The minute cache gives what the full parser gives, whatever came before.
    #[test]
    fn iso_minute_cache_agrees_with_the_full_parser() {
        let minutes = [
            "2018-03-24T17:15",
            "2018-03-24T17:16",
            "1969-12-31T23:59",
            "2018-03-24 17:15",
        ];
        let tails = [
            ":20.865716Z",
            ":20Z",
            ":20",
            ":59.999999999z",
            ":60Z",
            ":61Z",
            ":2",
            ":20.Z",
            ":20.1234567891Z",
            ":20+01:00",
            ":20.5-0530",
            ":20ZZ",
            ":ab.1Z",
            "",
            "Z",
        ];
        let mut cache = IsoMinute::default();
        for round in 0..3 {
            for (i, minute) in minutes.iter().enumerate() {
                for (j, tail) in tails.iter().enumerate() {
                    let (minute, tail) = if round == 2 {
                        (
                            minutes[(i + j) % minutes.len()],
                            tails[(i * 7 + j) % tails.len()],
                        )
                    } else {
                        (*minute, *tail)
                    };
                    let text = format!("{minute}{tail}");
                    assert_eq!(
                        cache.nanos(text.as_bytes()),
                        parse_iso8601_nanos(text.as_bytes()),
                        "{text}"
                    );
                }
            }
        }
        assert_eq!(cache.nanos(b"2018-03-24"), None);
    }

    #[test]
    fn fast_number_paths_take_the_common_shapes() {
        let take = |s: &str| {
            let p = || Parser {
                s: s.as_bytes(),
                i: 0,
            };
            (
                p().plain_u64(),
                p().plain_i64(),
                p().plain_seconds_nanos(),
                p().plain_f64(),
            )
        };
        assert_eq!(
            take("80,"),
            (Some(80), Some(80), Some(80_000_000_000), Some(80.0))
        );
        assert_eq!(take("-3}").1, Some(-3));
        assert_eq!(
            take("1521911720.865716,").2,
            Some(1_521_911_720_865_716_000)
        );
        assert_eq!(take("0.0008699893951416016,").2, Some(869_989));
        assert_eq!(take("-0.12345678951,").2, Some(-123_456_790));
        assert_eq!(take("2230.0]").3, Some(2230.0));
        assert_eq!(take("1e5,"), (None, None, None, None));
    }
}
