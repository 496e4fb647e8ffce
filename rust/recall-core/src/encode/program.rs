//! The row program: the nesting plan specialised for one batch, so that writing a document
//! is mostly copying pre-rendered text.
//!
//! The [`NestingPlan`] is per schema and must handle any row: every leaf may be null, so every
//! object opens lazily and every key decides at run time whether it needs a comma. Within one
//! batch much of that is known in advance (measured on conn/dns/http: about a third of the
//! leaves are never null, a fifth are the same in every row):
//! - a column without nulls is written without a null check; an object holding such a column
//!   is always present, so its key, brace and every comma up to the next optional item are
//!   static text;
//! - a column with the same value in every row (`event.module`, `organization.id`,
//!   `event.ingested`, ...) is static text too, merged with the keys around it into one copy;
//! - a column that is null in every row is left out of the program;
//! - what stays dynamic (optional leaves, objects made only of optional leaves) uses one flag
//!   per nesting level ("something was written here") and, for optional objects, writes the
//!   key and brace eagerly and truncates them again when nothing followed.
//!
//! The output is byte for byte what the plan walker wrote before (same key order, same
//! commas, same omitted nulls and empty objects): `tests` below check it against that walker.
//!
//! Stage: encode. Imports only the plan and the column writers.

use crate::encode::columns::{ColumnWriter, Presence};
use crate::encode::json::TimestampWriter;
use crate::encode::plan::{NestingPlan, Step};

/// What comes before an item at its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comma {
    /// Nothing was written before it at this level.
    No,
    /// Something always was.
    Yes,
    /// Only optional items came before it: `flags[level]` says.
    Flag,
}

/// One instruction of the row program. Offsets are into [`RowProgram::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Copy static text (keys, braces, commas, constant values).
    Text { start: u32, end: u32 },
    /// Write a comma if `flags[level]`, then mark the level written (an item that is always
    /// present but follows only optional ones).
    FlagComma { level: u16 },
    /// Write the value of a column that has no nulls in this batch.
    Value { column: u32 },
    /// An optional leaf: when the row has a value, write comma (per `comma`), key and value.
    Leaf {
        column: u32,
        key_start: u32,
        key_end: u32,
        comma: Comma,
        level: u16,
    },
    /// Start of an object made only of optional items: remember where it starts, write
    /// comma, key and `{` eagerly.
    OpenObject {
        key_start: u32,
        key_end: u32,
        comma: Comma,
        level: u16,
    },
    /// End of such an object: close it if anything was written inside, else take back what
    /// its `OpenObject` wrote.
    CloseObject { comma: Comma, level: u16 },
}

/// Reusable per-row scratch state of a program (kept by the encoder across batches).
#[derive(Debug, Default)]
pub struct RowScratch {
    flags: Vec<bool>,
    marks: Vec<usize>,
}

/// A nesting plan compiled for one batch.
#[derive(Debug, Default)]
pub struct RowProgram {
    ops: Vec<Op>,
    text: Vec<u8>,
    levels: usize,
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn level_index(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// A plan key (`,"name":`) with or without its leading comma.
fn key_text(key: &[u8], comma: bool) -> &[u8] {
    if comma {
        key
    } else {
        key.get(1..).unwrap_or_default()
    }
}

impl RowProgram {
    /// Compile `plan` for a batch of `rows` rows whose columns are `writers`.
    pub fn compile(plan: &NestingPlan, writers: &[ColumnWriter<'_>], rows: usize) -> Self {
        let presence: Vec<Presence> = writers.iter().map(|w| w.presence(rows)).collect();
        let steps = &plan.steps;
        // For each `Open` step: (whether some leaf below is always present, whether some leaf
        // below can be present at all, index of the matching `Close`).
        let mut objects: Vec<(bool, bool, usize)> = vec![(false, false, 0); steps.len()];
        let mut stack: Vec<(usize, bool, bool)> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Open { .. } => stack.push((i, false, false)),
                Step::Close => {
                    if let Some((open, always, any)) = stack.pop() {
                        if let Some(slot) = objects.get_mut(open) {
                            *slot = (always, any, i);
                        }
                        if let Some(parent) = stack.last_mut() {
                            parent.1 |= always;
                            parent.2 |= any;
                        }
                    }
                }
                Step::Leaf { column, .. } => {
                    if let Some(top) = stack.last_mut() {
                        match presence.get(*column) {
                            Some(Presence::Always(_)) => {
                                top.1 = true;
                                top.2 = true;
                            }
                            Some(Presence::Sometimes) => top.2 = true,
                            _ => {}
                        }
                    }
                }
            }
        }
        let mut program = Self {
            levels: plan.max_depth + 1,
            ..Self::default()
        };
        program.text_op(b"{");
        program.compile_range(plan, &presence, &objects, 0, steps.len(), 0, false);
        program.text_op(b"}");
        // Padding so that every span can be read as a whole `SHORT_SPAN` block (see `put`).
        program.text.extend_from_slice(&[0; SHORT_SPAN]);
        program
    }

    /// Append static text, merged with the previous text op when adjacent.
    fn text_op(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let start = offset(self.text.len());
        self.text.extend_from_slice(bytes);
        let end = offset(self.text.len());
        if let Some(Op::Text { end: last_end, .. }) = self.ops.last_mut() {
            if *last_end == start {
                *last_end = end;
                return;
            }
        }
        self.ops.push(Op::Text { start, end });
    }

    fn intern(&mut self, bytes: &[u8]) -> (u32, u32) {
        let start = offset(self.text.len());
        self.text.extend_from_slice(bytes);
        (start, offset(self.text.len()))
    }

    /// Emit the comma and key of an item that is always present; returns the mode after it.
    fn static_key(&mut self, key: &[u8], comma: Comma, level: usize) {
        match comma {
            Comma::No => self.text_op(key_text(key, false)),
            Comma::Yes => self.text_op(key_text(key, true)),
            Comma::Flag => {
                self.ops.push(Op::FlagComma {
                    level: level_index(level),
                });
                self.text_op(key_text(key, false));
            }
        }
    }

    /// Compile the steps `from..to` (the children of one object at `level`). `optional`: the
    /// object itself is optional (then every child is too).
    #[allow(clippy::too_many_arguments)]
    fn compile_range(
        &mut self,
        plan: &NestingPlan,
        presence: &[Presence],
        objects: &[(bool, bool, usize)],
        from: usize,
        to: usize,
        level: usize,
        optional: bool,
    ) {
        let mut comma = Comma::No;
        let mut i = from;
        while i < to {
            let Some(step) = plan.steps.get(i) else {
                break;
            };
            match step {
                Step::Close => {}
                Step::Leaf { column, key } => match presence.get(*column) {
                    Some(Presence::Always(constant)) if !optional => {
                        self.static_key(key, comma, level);
                        match constant {
                            Some(bytes) => self.text_op(bytes),
                            None => self.ops.push(Op::Value {
                                column: offset(*column),
                            }),
                        }
                        comma = Comma::Yes;
                    }
                    Some(Presence::Always(_) | Presence::Sometimes) => {
                        let (key_start, key_end) = self.intern(key_text(key, false));
                        self.ops.push(Op::Leaf {
                            column: offset(*column),
                            key_start,
                            key_end,
                            comma,
                            level: level_index(level),
                        });
                        if comma == Comma::No {
                            comma = Comma::Flag;
                        }
                    }
                    _ => {}
                },
                Step::Open { key } => {
                    let (always, any, close) = objects.get(i).copied().unwrap_or_default();
                    if always && !optional {
                        self.static_key(key, comma, level);
                        self.text_op(b"{");
                        self.compile_range(plan, presence, objects, i + 1, close, level + 1, false);
                        self.text_op(b"}");
                        comma = Comma::Yes;
                    } else if any {
                        let (key_start, key_end) = self.intern(key_text(key, false));
                        self.ops.push(Op::OpenObject {
                            key_start,
                            key_end,
                            comma,
                            level: level_index(level),
                        });
                        self.compile_range(plan, presence, objects, i + 1, close, level + 1, true);
                        self.ops.push(Op::CloseObject {
                            comma,
                            level: level_index(level),
                        });
                        if comma == Comma::No {
                            comma = Comma::Flag;
                        }
                    }
                    i = close.max(i);
                }
            }
            i += 1;
        }
    }

    /// Write row `row` as a JSON object.
    #[inline]
    pub fn write_row(
        &self,
        out: &mut Vec<u8>,
        writers: &[ColumnWriter<'_>],
        row: usize,
        ts: &mut TimestampWriter,
        scratch: &mut RowScratch,
    ) {
        if scratch.flags.len() < self.levels + 1 {
            scratch.flags.resize(self.levels + 1, false);
        }
        scratch.marks.clear();
        let text = self.text.as_slice();
        for op in &self.ops {
            match *op {
                Op::Text { start, end } => put(out, text, start, end),
                Op::Value { column } => {
                    if let Some(w) = writers.get(column as usize) {
                        w.write_value(row, out, ts);
                    }
                }
                Op::FlagComma { level } => {
                    if let Some(flag) = scratch.flags.get_mut(level as usize) {
                        if *flag {
                            out.push(b',');
                        }
                        *flag = true;
                    }
                }
                Op::Leaf {
                    column,
                    key_start,
                    key_end,
                    comma,
                    level,
                } => {
                    let Some(w) = writers.get(column as usize) else {
                        continue;
                    };
                    let present = !w.is_null(row);
                    if present {
                        put_comma(out, comma, scratch.flags.get(level as usize));
                        put(out, text, key_start, key_end);
                        w.write_value(row, out, ts);
                    }
                    mark_level(&mut scratch.flags, level, comma, present);
                }
                Op::OpenObject {
                    key_start,
                    key_end,
                    comma,
                    level,
                } => {
                    scratch.marks.push(out.len());
                    put_comma(out, comma, scratch.flags.get(level as usize));
                    put(out, text, key_start, key_end);
                    out.push(b'{');
                }
                Op::CloseObject { comma, level } => {
                    let mark = scratch.marks.pop().unwrap_or(out.len());
                    let inner = scratch
                        .flags
                        .get(level as usize + 1)
                        .copied()
                        .unwrap_or(false);
                    if inner {
                        out.push(b'}');
                    } else {
                        out.truncate(mark);
                    }
                    mark_level(&mut scratch.flags, level, comma, inner);
                }
            }
        }
    }
}

/// Spans up to this long are copied as one fixed-size block (the program text is padded so
/// the block is always readable) and the excess truncated: a constant-size copy is a couple of
/// vector moves, where a copy of run-time length is a call into libc's `memcpy` (measured: the
/// program's keys and literals were a third of the encoder's `memcpy` time).
const SHORT_SPAN: usize = 32;

/// Append `text[start..end]`.
#[inline]
fn put(out: &mut Vec<u8>, text: &[u8], start: u32, end: u32) {
    let (start, end) = (start as usize, end as usize);
    let n = end.saturating_sub(start);
    if n <= SHORT_SPAN {
        if let Some(block) = text
            .get(start..start + SHORT_SPAN)
            .and_then(|b| <&[u8; SHORT_SPAN]>::try_from(b).ok())
        {
            let len = out.len();
            out.extend_from_slice(block);
            out.truncate(len + n);
            return;
        }
    }
    out.extend_from_slice(text.get(start..end).unwrap_or_default());
}

#[inline]
fn put_comma(out: &mut Vec<u8>, comma: Comma, flag: Option<&bool>) {
    let needed = match comma {
        Comma::No => false,
        Comma::Yes => true,
        Comma::Flag => flag.copied().unwrap_or(false),
    };
    if needed {
        out.push(b',');
    }
}

/// After an optional item at `level`: the first one at its level decides the flag, later ones
/// can only set it.
#[inline]
fn mark_level(flags: &mut [bool], level: u16, comma: Comma, written: bool) {
    if let Some(flag) = flags.get_mut(level as usize) {
        match comma {
            Comma::No => *flag = written,
            Comma::Flag | Comma::Yes => *flag |= written,
        }
    }
}

/// The plan walker the program replaces, kept as the reference the program must match.
#[cfg(test)]
pub(crate) fn write_document_reference(
    out: &mut Vec<u8>,
    plan: &NestingPlan,
    writers: &[ColumnWriter<'_>],
    row: usize,
    ts: &mut TimestampWriter,
) {
    let mut pending_opens = vec![0usize; plan.max_depth + 1];
    let mut need_comma = vec![false; plan.max_depth + 1];
    out.push(b'{');
    let mut depth = 0usize;
    let mut written = 0usize;
    for (step_index, step) in plan.steps.iter().enumerate() {
        match step {
            Step::Open { .. } => {
                depth += 1;
                pending_opens[depth] = step_index;
            }
            Step::Close => {
                if written == depth {
                    out.push(b'}');
                    written -= 1;
                }
                depth -= 1;
            }
            Step::Leaf { column, key } => {
                let writer = &writers[*column];
                if writer.is_null(row) {
                    continue;
                }
                while written < depth {
                    let comma = need_comma[written];
                    need_comma[written] = true;
                    written += 1;
                    if let Step::Open { key } = &plan.steps[pending_opens[written]] {
                        out.extend_from_slice(key_text(key, comma));
                    }
                    out.push(b'{');
                    need_comma[written] = false;
                }
                let comma = need_comma[depth];
                need_comma[depth] = true;
                out.extend_from_slice(key_text(key, comma));
                writer.write(row, out, ts);
            }
        }
    }
    out.push(b'}');
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Int8Type;
    use arrow_array::{ArrayRef, DictionaryArray, Int64Array, Int8Array, StringArray};
    use proptest::prelude::*;

    use super::*;

    /// Names over a tiny alphabet so that objects share prefixes and nest.
    const NAMES: [&str; 14] = [
        "a", "b.c", "b.d", "b.e.f", "b.e.g", "h.i.j", "h.i.k", "h.l", "m", "n.o", "n.p.q", "r.s",
        "t", "u.v.w.x",
    ];

    /// Column kinds: 0 always null, 1 never null, 2 constant, 3 constant dictionary, 4 random
    /// nulls.
    fn build(kinds: &[(usize, u8)], rows: usize, seed: u64) -> Vec<ArrayRef> {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        kinds
            .iter()
            .map(|(_, kind)| -> ArrayRef {
                match kind {
                    0 => Arc::new(Int64Array::from(vec![None::<i64>; rows])),
                    1 => Arc::new(Int64Array::from(
                        (0..rows).map(|_| (next() % 100) as i64).collect::<Vec<_>>(),
                    )),
                    2 => Arc::new(Int64Array::from(vec![7i64; rows])),
                    3 => Arc::new(
                        DictionaryArray::<Int8Type>::try_new(
                            Int8Array::from(vec![0i8; rows]),
                            Arc::new(StringArray::from(vec!["zeek"])),
                        )
                        .unwrap(),
                    ),
                    _ => Arc::new(Int64Array::from(
                        (0..rows)
                            .map(|_| (next() % 3 != 0).then(|| (next() % 100) as i64))
                            .collect::<Vec<_>>(),
                    )),
                }
            })
            .collect()
    }

    fn check(kinds: &[(usize, u8)], rows: usize, seed: u64) {
        let columns = build(kinds, rows, seed);
        let plan =
            NestingPlan::new(kinds.iter().enumerate().map(|(i, (n, _))| (i, NAMES[*n]))).unwrap();
        let writers: Vec<ColumnWriter<'_>> = columns
            .iter()
            .map(|c| ColumnWriter::new(c, "c").unwrap())
            .collect();
        let program = RowProgram::compile(&plan, &writers, rows);
        let mut scratch = RowScratch::default();
        for row in 0..rows {
            let mut want = Vec::new();
            write_document_reference(
                &mut want,
                &plan,
                &writers,
                row,
                &mut TimestampWriter::default(),
            );
            let mut got = b"prefix".to_vec();
            program.write_row(
                &mut got,
                &writers,
                row,
                &mut TimestampWriter::default(),
                &mut scratch,
            );
            assert_eq!(
                String::from_utf8_lossy(&got[6..]),
                String::from_utf8_lossy(&want),
                "row {row} of {kinds:?}"
            );
        }
    }

    #[test]
    fn matches_the_plan_walker_on_mixed_objects() {
        check(
            &[
                (0, 4),
                (1, 2),
                (2, 4),
                (3, 0),
                (4, 1),
                (5, 4),
                (6, 4),
                (7, 3),
                (8, 4),
                (9, 0),
                (10, 4),
                (11, 1),
                (12, 0),
                (13, 4),
            ],
            64,
            42,
        );
        check(&[(0, 0), (8, 0)], 3, 1);
        check(&[(13, 4)], 50, 3);
    }

    proptest! {
        #[test]
        fn matches_the_plan_walker(
            picks in proptest::collection::btree_map(0usize..NAMES.len(), 0u8..5, 0..NAMES.len()),
            rows in 1usize..40,
            seed in any::<u64>(),
        ) {
            let kinds: Vec<(usize, u8)> = picks.into_iter().collect();
            check(&kinds, rows, seed);
        }
    }
}
