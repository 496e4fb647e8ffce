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
//! keys come in the same order on every line. The scanner predicts each key from the
//! previous row (one `memcmp` instead of a hash lookup) and parses each value straight into
//! its column builder, without a DOM or intermediate strings. It still validates the JSON
//! grammar of each line (strings, escapes, numbers, nesting); a line that is not exactly one
//! JSON object is quarantined. Deviation: raw control characters inside strings are
//! accepted (Zeek escapes them; being lenient loses nothing).
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

use super::builders::{Column, Text};
use super::quarantine::QuarantineKind;
use super::values::{
    fix_utf8_tail, is_plain_text_byte, parse_f64, parse_i64, parse_iso8601_nanos,
    parse_number_nanos, parse_port, parse_u64, push_canonical_addr, push_canonical_subnet,
    push_hex_escape,
};
use super::{BatchState, DecoderOptions, JsonTime, Output};
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
    /// Column index seen at each key position in the previous row.
    predicted: Vec<usize>,
    /// Row stamp per column: equals `row_stamp` when the column got a value in this row.
    filled: Vec<u64>,
    row_stamp: u64,
    schema: Option<SchemaRef>,
    initialized: bool,
    time_scale: i128,
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
            predicted: Vec::new(),
            filled: Vec::new(),
            row_stamp: 0,
            schema: None,
            initialized: false,
            time_scale: match options.json_time {
                JsonTime::Auto => 1_000_000_000,
                JsonTime::Millis => 1_000_000,
            },
            max_columns: options.max_columns,
            batch: BatchState::default(),
        }
    }

    /// Columns for the current log type: the registry's default fields.
    fn reset_columns(&mut self) {
        self.columns.clear();
        self.index.clear();
        self.predicted.clear();
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
        self.columns.push(JsonColumn {
            name,
            ty,
            inferred,
            column,
            rows: 0,
        });
        self.filled.push(0);
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
        let mut position = 0usize;
        if !p.eat(b'}') {
            loop {
                p.ws();
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
                let idx = if let Some(idx) = self.lookup(key, position) {
                    idx
                } else {
                    {
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
                if let Some(slot) = self.predicted.get_mut(position) {
                    *slot = idx;
                } else {
                    self.predicted.push(idx);
                }
                position += 1;
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
                if col.name == "_path" {
                    if let Some(path) = p.peek_plain_string() {
                        if self.log_type.as_deref().map(str::as_bytes) != Some(path) {
                            return Err(RowError::Switch(
                                String::from_utf8_lossy(path).into_owned(),
                            ));
                        }
                    }
                }
                if let Err(why) = parse_value(&mut p, &mut col.column, self.time_scale, ascii) {
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

    #[inline]
    fn lookup(&self, key: &[u8], position: usize) -> Option<usize> {
        if let Some(&idx) = self.predicted.get(position) {
            if self
                .columns
                .get(idx)
                .is_some_and(|c| c.name.as_bytes() == key)
            {
                return Some(idx);
            }
        }
        self.index.get(key).copied()
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
    ascii: bool,
) -> std::result::Result<(), ValueError> {
    if p.peek() == Some(b'n') {
        p.literal(b"null").map_err(ValueError::Syntax)?;
        column.push_null();
        return Ok(());
    }
    match column {
        Column::Text(t) => {
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
            let n = p.number().map_err(|()| type_error("a count", p))?;
            v.push(parse_u64(n).ok_or_else(|| type_error("an unsigned integer", p))?);
            Ok(())
        }
        Column::Int(v) => {
            let n = p.number().map_err(|()| type_error("an int", p))?;
            v.push(parse_i64(n).ok_or_else(|| type_error("a signed integer", p))?);
            Ok(())
        }
        Column::Port(v) => {
            let n = p.number().map_err(|()| type_error("a port", p))?;
            v.push(parse_port(n).ok_or_else(|| type_error("a port (0..65535)", p))?);
            Ok(())
        }
        Column::Double(v) => {
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
                    if let Err(e) = parse_value(p, &mut list.child, time_scale, ascii) {
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

/// An `addr` or `subnet` string, canonicalised.
fn parse_address(
    p: &mut Parser<'_>,
    t: &mut Text,
    is_addr: bool,
) -> std::result::Result<(), ValueError> {
    if p.peek() != Some(b'"') {
        return Err(type_error("an address string", p));
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

    fn literal(&mut self, word: &[u8]) -> std::result::Result<(), String> {
        if self.s.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(format!("invalid literal at byte {}", self.i))
        }
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
        match memchr::memchr2(b'"', b'\\', rest) {
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
        let pos = memchr::memchr2(b'"', b'\\', rest)?;
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
            let Some(pos) = memchr::memchr2(b'"', b'\\', rest) else {
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
