//! Zeek TSV (the ASCII writer): header state machine and row decoding.
//!
//! Stage: decode. Input is framed lines; output is rows in column builders and batches in
//! [`Output`]. Nothing about the header is fixed: `#separator` (escaped like `\x09` or
//! literal like `|`), `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#fields` and
//! `#types` are read from the data, the meta prefix is configurable or detected, and a file
//! may hold several header blocks (rotated or concatenated files) with different fields.
//! Each new block starts a new batch. Headerless TSV decodes when the caller gives the
//! columns (`tsv_schema`) or a registry log type.
//!
//! Decisions: containers are split on the set separator before un-escaping (an element's own
//! separator is written `\x2c`); the whole field `(empty)` is the empty container (and the
//! empty string for text), `-` is null, and the same markers inside a container are an empty
//! string element and a null element. Unknown `#types` names decode as text.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use memchr::memmem;

use super::builders::{push_prefix, Column, List, Text};
use super::quarantine::QuarantineKind;
use super::values::{
    fix_utf8_tail, is_canonical_ipv4, parse_f64, parse_i64, parse_port, parse_seconds_nanos,
    parse_tsv_bool, parse_u64, push_canonical_addr, push_canonical_subnet, scan_tsv_line,
    unescape_tsv, LineScan,
};
use super::{BatchState, DecoderOptions, Output};
use crate::error::Result;
use crate::schema::registry::log_spec;
use crate::schema::zeek::{ZeekType, ZEEK_PATH_KEY};

const DEFAULT_SEPARATOR: &[u8] = b"\t";
const DEFAULT_SET_SEPARATOR: &[u8] = b",";
const DEFAULT_EMPTY: &[u8] = b"(empty)";
const DEFAULT_UNSET: &[u8] = b"-";
const DEFAULT_PREFIX: &[u8] = b"#";

/// The separators and markers in force.
#[derive(Debug, Clone)]
struct Markers {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty: Marker,
    unset: Marker,
}

impl Default for Markers {
    fn default() -> Self {
        Self {
            separator: DEFAULT_SEPARATOR.to_vec(),
            set_separator: DEFAULT_SET_SEPARATOR.to_vec(),
            empty: Marker(DEFAULT_EMPTY.to_vec()),
            unset: Marker(DEFAULT_UNSET.to_vec()),
        }
    }
}

/// The schema of the current block and its builders.
#[derive(Debug)]
struct Active {
    names: Vec<String>,
    columns: Vec<Column>,
    schema: SchemaRef,
    log_type: Option<String>,
}

/// Splits a line on a separator of one or more bytes.
#[derive(Debug)]
enum Splitter {
    Byte(u8),
    Bytes(Box<memmem::Finder<'static>>),
}

impl Splitter {
    fn new(separator: &[u8]) -> Self {
        match separator {
            [b] => Self::Byte(*b),
            many => Self::Bytes(Box::new(memmem::Finder::new(many).into_owned())),
        }
    }

    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        match self {
            Self::Byte(b) => find_byte(haystack, *b),
            Self::Bytes(f) => f.find(haystack),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Byte(_) => 1,
            Self::Bytes(f) => f.needle().len(),
        }
    }
}

/// Position of `needle`: most Zeek fields are short, where a plain loop beats `memchr`'s
/// dispatch; long fields (URIs, user agents) go to `memchr`'s SIMD search after 16 bytes.
#[inline]
fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    let head = haystack.get(..16).unwrap_or(haystack);
    if let Some(pos) = head.iter().position(|&b| b == needle) {
        return Some(pos);
    }
    let rest = haystack.get(head.len()..)?;
    memchr::memchr(needle, rest).map(|pos| pos + head.len())
}

/// A marker (`-`, `(empty)`) compared without a `memcmp` call for the usual one-byte unset
/// marker: every field is compared against both markers.
#[derive(Debug, Clone)]
struct Marker(Vec<u8>);

impl Marker {
    #[inline]
    fn is(&self, field: &[u8]) -> bool {
        match (self.0.as_slice(), field) {
            ([m], [f]) => m == f,
            (m, f) => m.len() == f.len() && m == f,
        }
    }
}

/// TSV decoder state.
#[derive(Debug)]
pub(crate) struct TsvDecoder {
    prefix: Vec<u8>,
    prefix_decided: bool,
    markers: Markers,
    field_split: Splitter,
    set_split: Splitter,
    path: Option<String>,
    header_fields: Option<Vec<String>>,
    header_types: Option<Vec<String>>,
    /// `#fields`/`#types` changed since the active schema was built.
    header_dirty: bool,
    active: Option<Active>,
    batch: BatchState,
    /// Caller's fallback log type and headerless schema.
    log_type: Option<String>,
    given_schema: Option<Vec<(String, String)>>,
    tried_given: bool,
    /// Separator positions of the current line (reused buffer).
    positions: Vec<u32>,
    max_columns: usize,
    /// Columns declared by the current header block when it has more than `max_columns`: its
    /// data lines are quarantined.
    refused_columns: Option<usize>,
}

/// Why a row was refused.
struct RowError {
    kind: QuarantineKind,
    reason: String,
}

impl TsvDecoder {
    pub(crate) fn new(options: &DecoderOptions) -> Self {
        let markers = Markers::default();
        Self {
            prefix: options
                .meta_prefix
                .as_ref()
                .map_or_else(|| DEFAULT_PREFIX.to_vec(), |p| p.as_bytes().to_vec()),
            prefix_decided: options.meta_prefix.is_some(),
            field_split: Splitter::new(&markers.separator),
            set_split: Splitter::new(&markers.set_separator),
            markers,
            path: None,
            header_fields: None,
            header_types: None,
            header_dirty: false,
            active: None,
            batch: BatchState::default(),
            log_type: options.log_type.clone(),
            given_schema: options.tsv_schema.clone(),
            tried_given: false,
            positions: Vec::new(),
            max_columns: options.max_columns,
            refused_columns: None,
        }
    }

    pub(crate) fn schema(&self) -> Option<SchemaRef> {
        self.active.as_ref().map(|a| Arc::clone(&a.schema))
    }

    pub(crate) fn line(
        &mut self,
        line: &[u8],
        number: u64,
        offset: u64,
        out: &mut Output,
    ) -> Result<()> {
        if !self.prefix_decided {
            self.prefix_decided = true;
            if let Some(prefix) = detect_prefix(line) {
                self.prefix = prefix;
            }
        }
        if let Some(meta) = line.strip_prefix(self.prefix.as_slice()) {
            out.stats.header_lines += 1;
            return self.meta(meta, out);
        }
        if line.is_empty() {
            out.stats.header_lines += 1;
            return Ok(());
        }
        if self.header_dirty {
            self.activate_header(out)?;
        }
        if let Some(declared) = self.refused_columns {
            let reason = format!(
                "the header block declares {declared} columns, more than max_columns ({})",
                self.max_columns
            );
            out.quarantine(number, offset, QuarantineKind::TooManyColumns, reason, line);
            return Ok(());
        }
        if self.active.is_none() && !self.tried_given {
            self.tried_given = true;
            self.activate_given();
        }
        let Some(active) = self.active.as_mut() else {
            out.quarantine(
                number,
                offset,
                QuarantineKind::NoSchema,
                "data line before any #fields header, and no tsv_schema or known log_type given"
                    .to_owned(),
                line,
            );
            return Ok(());
        };
        let rows = self.batch.rows;
        match parse_row(
            active,
            line,
            &self.markers,
            &self.field_split,
            &self.set_split,
            &mut self.positions,
        ) {
            Ok(()) => {
                if self
                    .batch
                    .record(out, line.len(), number, active.columns.len())
                {
                    self.cut(out)?;
                }
            }
            Err(RowError { kind, reason }) => {
                for column in &mut active.columns {
                    column.truncate(rows);
                }
                out.quarantine(number, offset, kind, reason, line);
            }
        }
        Ok(())
    }

    /// Publish the rows built so far as a batch.
    pub(crate) fn cut(&mut self, out: &mut Output) -> Result<()> {
        if self.batch.rows == 0 {
            return Ok(());
        }
        let Some(active) = self.active.as_mut() else {
            return Ok(());
        };
        let mut arrays = Vec::with_capacity(active.columns.len());
        for column in &mut active.columns {
            arrays.push(column.finish()?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(self.batch.rows));
        let batch =
            RecordBatch::try_new_with_options(Arc::clone(&active.schema), arrays, &options)?;
        self.batch.publish(out, active.log_type.clone(), batch);
        Ok(())
    }

    fn meta(&mut self, meta: &[u8], out: &mut Output) -> Result<()> {
        if let Some(rest) = meta.strip_prefix(b"separator") {
            if let Some((b' ' | b'\t', value)) = rest.split_first() {
                // A new header block: finish the rows of the previous one.
                self.cut(out)?;
                let mut separator = Vec::new();
                unescape_tsv(value, &mut separator);
                if separator.is_empty() {
                    separator = DEFAULT_SEPARATOR.to_vec();
                }
                self.markers = Markers {
                    separator,
                    ..Markers::default()
                };
                self.field_split = Splitter::new(&self.markers.separator);
                self.set_split = Splitter::new(&self.markers.set_separator);
                self.path = None;
                self.header_fields = None;
                self.header_types = None;
                self.header_dirty = true;
                return Ok(());
            }
        }
        let (key, value) = match self.field_split.find(meta) {
            Some(pos) => (
                meta.get(..pos).unwrap_or_default(),
                meta.get(pos + self.field_split.len()..).unwrap_or_default(),
            ),
            None => match memchr::memchr(b' ', meta) {
                Some(pos) => (
                    meta.get(..pos).unwrap_or_default(),
                    meta.get(pos + 1..).unwrap_or_default(),
                ),
                None => (meta, &[][..]),
            },
        };
        let unescaped = |v: &[u8]| {
            let mut buf = Vec::new();
            unescape_tsv(v, &mut buf);
            buf
        };
        match key {
            b"set_separator" => {
                let sep = unescaped(value);
                if !sep.is_empty() {
                    self.set_split = Splitter::new(&sep);
                    self.markers.set_separator = sep;
                }
            }
            b"empty_field" => self.markers.empty = Marker(unescaped(value)),
            b"unset_field" => self.markers.unset = Marker(unescaped(value)),
            b"path" => {
                let path = String::from_utf8_lossy(&unescaped(value)).into_owned();
                if self.path.as_deref() != Some(path.as_str()) {
                    self.path = Some(path);
                    self.header_dirty = true;
                }
            }
            b"fields" => {
                // #fields after data rows starts a new block even without #separator.
                self.cut(out)?;
                self.header_fields = Some(self.split_names(value));
                self.header_dirty = true;
            }
            b"types" => {
                self.header_types = Some(self.split_names(value));
                self.header_dirty = true;
            }
            // #open, #close, #start, #end and comments carry nothing the decoder needs.
            _ => {}
        }
        Ok(())
    }

    fn split_names(&self, value: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = value;
        loop {
            let (name, next) = match self.field_split.find(rest) {
                Some(pos) => (
                    rest.get(..pos).unwrap_or_default(),
                    Some(rest.get(pos + self.field_split.len()..).unwrap_or_default()),
                ),
                None => (rest, None),
            };
            let mut buf = Vec::new();
            unescape_tsv(name, &mut buf);
            names.push(String::from_utf8_lossy(&buf).into_owned());
            match next {
                Some(next) => rest = next,
                None => return names,
            }
        }
    }

    /// Build the schema from `#fields`/`#types` (types default to `string` when missing).
    fn activate_header(&mut self, out: &mut Output) -> Result<()> {
        self.header_dirty = false;
        let Some(fields) = self.header_fields.clone() else {
            return Ok(());
        };
        let types = self.header_types.clone().unwrap_or_default();
        let columns: Vec<(String, ZeekType)> = fields
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let ty = types
                    .get(i)
                    .map_or_else(|| ZeekType::parse("string"), |t| ZeekType::parse(t));
                (name, ty)
            })
            .collect();
        let log_type = self.path.clone().or_else(|| self.log_type.clone());
        self.cut(out)?;
        if columns.len() > self.max_columns {
            self.refused_columns = Some(columns.len());
            self.active = None;
        } else {
            self.refused_columns = None;
            self.active = Some(build_active(columns, log_type));
        }
        Ok(())
    }

    /// Headerless input: the caller's schema, else the registry's default columns.
    fn activate_given(&mut self) {
        let log_type = self.log_type.clone();
        let columns: Option<Vec<(String, ZeekType)>> = if let Some(given) = &self.given_schema {
            Some(
                given
                    .iter()
                    .map(|(n, t)| (n.clone(), ZeekType::parse(t)))
                    .collect(),
            )
        } else {
            log_type.as_deref().and_then(log_spec).map(|spec| {
                spec.default_fields()
                    .map(|f| (f.name.to_owned(), f.parsed_type()))
                    .collect()
            })
        };
        if let Some(columns) = columns {
            self.active = Some(build_active(columns, log_type));
        }
    }
}

fn build_active(columns: Vec<(String, ZeekType)>, log_type: Option<String>) -> Active {
    let fields: Vec<_> = columns
        .iter()
        .map(|(name, ty)| ty.arrow_field(name))
        .collect();
    let mut metadata = HashMap::new();
    if let Some(path) = &log_type {
        metadata.insert(ZEEK_PATH_KEY.to_owned(), path.clone());
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
    let builders = columns.iter().map(|(_, ty)| Column::new(ty)).collect();
    let names = columns.into_iter().map(|(name, _)| name).collect();
    Active {
        names,
        columns: builders,
        schema,
        log_type,
    }
}

/// A first line like `@separator \x09` reveals a non-default meta prefix.
fn detect_prefix(line: &[u8]) -> Option<Vec<u8>> {
    if line.starts_with(DEFAULT_PREFIX) {
        return None;
    }
    let pos = memmem::find(line.get(..24).unwrap_or(line), b"separator ")?;
    let prefix = line.get(..pos)?;
    let plausible =
        !prefix.is_empty() && prefix.len() <= 8 && prefix.iter().all(u8::is_ascii_punctuation);
    plausible.then_some(prefix.to_vec())
}

/// Decode one data line into the builders (the caller rolls back on error).
///
/// The usual one-byte separator is found field by field while decoding (no separate pass
/// and no position list): most Zeek fields end inside the first 8-byte word searched.
#[inline]
fn parse_row(
    active: &mut Active,
    line: &[u8],
    markers: &Markers,
    field_split: &Splitter,
    set_split: &Splitter,
    positions: &mut Vec<u32>,
) -> std::result::Result<(), RowError> {
    let sep = match field_split {
        Splitter::Byte(sep) => *sep,
        Splitter::Bytes(finder) => {
            return parse_row_multi(active, line, markers, finder, set_split, positions);
        }
    };
    let scan = scan_tsv_line(line);
    let count = active.columns.len();
    if count == 0 {
        return Err(field_count_error(0, count_fields(line, sep)));
    }
    let splat = ONES * u64::from(sep);
    let mut start = 0usize;
    for (i, column) in active.columns.iter_mut().enumerate() {
        let rest = line.get(start..).unwrap_or_default();
        let last = i + 1 == count;
        let (field, next) = match find_sep(rest, sep, splat) {
            Some(pos) if !last => (rest.get(..pos).unwrap_or_default(), start + pos + 1),
            None if last => (rest, line.len()),
            _ => return Err(field_count_error(count, count_fields(line, sep))),
        };
        if let Err(why) = parse_field(column, field, rest, markers, set_split, scan) {
            // A line with a field missing or extra usually fails on a shifted value first:
            // report the count, the real cause.
            let found = count_fields(line, sep);
            if found != count {
                return Err(field_count_error(count, found));
            }
            return Err(bad_value(&active.names, i, why));
        }
        start = next;
    }
    Ok(())
}

/// [`parse_row`] for a separator of several bytes (rare): positions first, then fields.
fn parse_row_multi(
    active: &mut Active,
    line: &[u8],
    markers: &Markers,
    finder: &memmem::Finder<'static>,
    set_split: &Splitter,
    positions: &mut Vec<u32>,
) -> std::result::Result<(), RowError> {
    positions.clear();
    let mut from = 0;
    while let Some(pos) = line.get(from..).and_then(|rest| finder.find(rest)) {
        positions.push((from + pos) as u32);
        from += pos + finder.needle().len();
    }
    let scan = scan_tsv_line(line);
    let count = active.columns.len();
    if positions.len() + 1 != count {
        return Err(field_count_error(count, positions.len() + 1));
    }
    let sep_len = finder.needle().len();
    let mut start = 0usize;
    for (i, column) in active.columns.iter_mut().enumerate() {
        let end = positions.get(i).map_or(line.len(), |&p| p as usize);
        let field = line.get(start..end).unwrap_or_default();
        start = end + sep_len;
        if let Err(why) = parse_field(column, field, field, markers, set_split, scan) {
            return Err(bad_value(&active.names, i, why));
        }
    }
    Ok(())
}

fn bad_value(names: &[String], i: usize, why: &str) -> RowError {
    let name = names.get(i).map_or("?", String::as_str);
    RowError {
        kind: QuarantineKind::BadValue,
        reason: format!("field {name} (column {}): {why}", i + 1),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Position of the first `sep` in `hay` (`splat` is `sep` in every byte), 8 bytes at a time:
/// in `x = word ^ splat` the separators are zero bytes, and the lowest byte marked by
/// `(x - 0x01..) & !x & 0x80..` is exactly the first of them (the borrow can only mark bytes
/// above a real zero). Safe code, no per-call dispatch: Zeek fields are mostly short.
// Once per field on the hot path: inlined, measured with the decode bench.
#[allow(clippy::inline_always)]
#[inline(always)]
fn find_sep(hay: &[u8], sep: u8, splat: u64) -> Option<usize> {
    let mut base = 0usize;
    while let Some(word) = hay.get(base..base + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes) ^ splat;
        let marks = x.wrapping_sub(ONES) & !x & HIGHS;
        if marks != 0 {
            return Some(base + (marks.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    let tail = hay.get(base..)?;
    tail.iter().position(|&b| b == sep).map(|pos| base + pos)
}

/// Number of fields of a line (for the error message of a line with the wrong count).
fn count_fields(line: &[u8], sep: u8) -> usize {
    memchr::memchr_iter(sep, line).count() + 1
}

fn field_count_error(expected: usize, found: usize) -> RowError {
    RowError {
        kind: QuarantineKind::FieldCount,
        reason: format!("expected {expected} fields, found {found}"),
    }
}

/// Decode one field into its column.
// Once per field on the hot path: inlined, measured with the decode bench.
#[allow(clippy::inline_always)]
#[inline(always)]
fn parse_field(
    column: &mut Column,
    raw: &[u8],
    window: &[u8],
    markers: &Markers,
    set_split: &Splitter,
    scan: LineScan,
) -> std::result::Result<(), &'static str> {
    if markers.unset.is(raw) {
        column.push_null();
        return Ok(());
    }
    if let Column::List(list) = column {
        return parse_list(list, raw, markers, set_split, scan);
    }
    if markers.empty.is(raw) {
        return match column {
            Column::Text(t) => {
                t.push_str(b"");
                Ok(())
            }
            _ => Err("empty marker in a non-text field"),
        };
    }
    parse_scalar(column, raw, window, scan)
}

/// A container field: split on the set separator first, then un-escape each element.
fn parse_list(
    list: &mut List,
    raw: &[u8],
    markers: &Markers,
    set_split: &Splitter,
    scan: LineScan,
) -> std::result::Result<(), &'static str> {
    if markers.empty.is(raw) {
        list.commit();
        return Ok(());
    }
    let mut rest = raw;
    loop {
        let (element, next) = match set_split.find(rest) {
            Some(pos) => (
                rest.get(..pos).unwrap_or_default(),
                Some(rest.get(pos + set_split.len()..).unwrap_or_default()),
            ),
            None => (rest, None),
        };
        let result = if markers.unset.is(element) {
            list.child.push_null();
            Ok(())
        } else if markers.empty.is(element) {
            match list.child.as_mut() {
                Column::Text(t) => {
                    t.push_str(b"");
                    Ok(())
                }
                _ => Err("empty marker in a non-text element"),
            }
        } else {
            parse_scalar(&mut list.child, element, rest, scan)
        };
        if let Err(why) = result {
            list.abandon();
            return Err(why);
        }
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    list.commit();
    Ok(())
}

/// A scalar value (not a marker).
// Once per field on the hot path: inlined, measured with the decode bench.
#[allow(clippy::inline_always)]
#[inline(always)]
fn parse_scalar(
    column: &mut Column,
    raw: &[u8],
    window: &[u8],
    scan: LineScan,
) -> std::result::Result<(), &'static str> {
    match column {
        Column::Text(t) => {
            push_text(t, raw, window, scan);
            Ok(())
        }
        Column::Time(p) => {
            p.push(parse_seconds_nanos(raw).ok_or("not a time (decimal seconds)")?);
            Ok(())
        }
        Column::Interval(p) => {
            p.push(parse_seconds_nanos(raw).ok_or("not an interval (decimal seconds)")?);
            Ok(())
        }
        Column::Count(p) => {
            p.push(parse_u64(raw).ok_or("not a count (unsigned 64-bit integer)")?);
            Ok(())
        }
        Column::Int(p) => {
            p.push(parse_i64(raw).ok_or("not an int (signed 64-bit integer)")?);
            Ok(())
        }
        Column::Double(p) => {
            p.push(parse_f64(raw).ok_or("not a double")?);
            Ok(())
        }
        Column::Port(p) => {
            p.push(parse_port(raw).ok_or("not a port (0..65535)")?);
            Ok(())
        }
        Column::Bool(b) => {
            b.push(parse_tsv_bool(raw).ok_or("not a bool (T or F)")?);
            Ok(())
        }
        Column::Addr(t) => {
            // Nearly every address is an IPv4 dotted quad already in canonical form.
            if is_canonical_ipv4(raw) {
                copy_value(&mut t.values, raw, window);
                t.commit();
                return Ok(());
            }
            push_with_unescape(t, raw, scan, push_canonical_addr, "not an IP address")
        }
        Column::Subnet(t) => {
            push_with_unescape(t, raw, scan, push_canonical_subnet, "not a subnet")
        }
        Column::List(_) => Err("nested container"),
    }
}

fn push_with_unescape(
    t: &mut Text,
    raw: &[u8],
    scan: LineScan,
    canonical: fn(&[u8], &mut Vec<u8>) -> bool,
    what: &'static str,
) -> std::result::Result<(), &'static str> {
    let ok = if scan.escapes && memchr::memchr(b'\\', raw).is_some() {
        let mut buf = Vec::with_capacity(raw.len());
        unescape_tsv(raw, &mut buf);
        canonical(&buf, &mut t.values)
    } else {
        canonical(raw, &mut t.values)
    };
    if ok {
        t.commit();
        Ok(())
    } else {
        t.abandon();
        Err(what)
    }
}

/// Text: un-escape, keep valid UTF-8, write invalid bytes as `\xNN`. `window` is the rest of
/// the line from the value's first byte (for the short-copy fast path).
#[inline]
fn push_text(t: &mut Text, raw: &[u8], window: &[u8], scan: LineScan) {
    let start = t.values.len();
    if !scan.escapes || memchr::memchr(b'\\', raw).is_none() {
        copy_value(&mut t.values, raw, window);
        if !scan.plain {
            fix_utf8_tail(&mut t.values, start);
        }
    } else {
        unescape_tsv(raw, &mut t.values);
        fix_utf8_tail(&mut t.values, start);
    }
    t.commit();
}

/// Append `raw`, which starts `window` (the rest of its line): see [`push_prefix`].
#[inline]
fn copy_value(values: &mut Vec<u8>, raw: &[u8], window: &[u8]) {
    debug_assert_eq!(raw.as_ptr(), window.as_ptr(), "raw must start the window");
    push_prefix(values, window, raw.len());
}
