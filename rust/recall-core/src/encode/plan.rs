//! The nesting plan: how a flat batch with dotted column names (`source.ip`,
//! `zeek.conn.id.orig_h`) becomes nested JSON objects, computed once per schema.
//!
//! Column names are split on `.`; the segments form a tree whose children are sorted by
//! segment (byte order), so `{"source":{"ip":..,"port":..}}` groups fields however the columns
//! were ordered. The tree is flattened into a list of steps (open object, leaf, close object)
//! that the row writer walks. Objects are opened lazily, so an object whose leaves are all
//! null for a row is left out entirely (no `"dns":{}`), and null leaves are omitted (as
//! Zeek's JSON writer does).
//!
//! A name that is both a leaf and the prefix of another name (`a` and `a.b`), an empty
//! segment or a duplicate name cannot be represented as nested JSON: the plan refuses it.
//! The normaliser never produces such names.

use std::collections::BTreeMap;

use crate::encode::json;
use crate::error::{RecallError, Result};

/// One step of the row writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Enter an object; `key` is the pre-encoded `,"name":` text.
    Open {
        /// `,"name":` as JSON bytes.
        key: Box<[u8]>,
    },
    /// Leave the current object.
    Close,
    /// Write column `column` under the pre-encoded `,"name":` key.
    Leaf {
        /// Index of the column in the batch.
        column: usize,
        /// `,"name":` as JSON bytes.
        key: Box<[u8]>,
    },
}

/// The steps for one schema, plus the deepest nesting level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestingPlan {
    /// Steps in document order.
    pub steps: Vec<Step>,
    /// Deepest object nesting (0 when every field is top-level).
    pub max_depth: usize,
}

#[derive(Default)]
struct Node {
    leaf: Option<usize>,
    children: BTreeMap<Vec<u8>, Node>,
}

/// `,"segment":` — with the separating comma first, so the row writer emits a key with one
/// copy (`key` or `key[1..]` when no comma is due).
fn key_bytes(segment: &[u8]) -> Box<[u8]> {
    let mut out = Vec::with_capacity(segment.len() + 4);
    out.extend_from_slice(b",\"");
    json::write_str_body(&mut out, segment);
    out.extend_from_slice(b"\":");
    out.into_boxed_slice()
}

impl NestingPlan {
    /// Build the plan for the columns `(index, dotted name)`.
    pub fn new<'a>(columns: impl IntoIterator<Item = (usize, &'a str)>) -> Result<Self> {
        let mut root = Node::default();
        for (index, name) in columns {
            let bad = |reason: &str| RecallError::Config {
                field: name.to_owned(),
                reason: reason.to_owned(),
            };
            let mut node = &mut root;
            let segments: Vec<&str> = name.split('.').collect();
            for (i, segment) in segments.iter().enumerate() {
                if segment.is_empty() {
                    return Err(bad("field name has an empty path segment"));
                }
                if node.leaf.is_some() {
                    return Err(bad("a prefix of this field is itself a field"));
                }
                node = node
                    .children
                    .entry(segment.as_bytes().to_vec())
                    .or_default();
                if i + 1 == segments.len() {
                    if node.leaf.is_some() {
                        return Err(bad("duplicate field name"));
                    }
                    if !node.children.is_empty() {
                        return Err(bad("field name is also the prefix of another field"));
                    }
                    node.leaf = Some(index);
                }
            }
        }
        let mut plan = Self {
            steps: Vec::new(),
            max_depth: 0,
        };
        plan.flatten(&root, 0);
        Ok(plan)
    }

    fn flatten(&mut self, node: &Node, depth: usize) {
        for (segment, child) in &node.children {
            if let Some(column) = child.leaf {
                self.steps.push(Step::Leaf {
                    column,
                    key: key_bytes(segment),
                });
            } else {
                self.max_depth = self.max_depth.max(depth + 1);
                self.steps.push(Step::Open {
                    key: key_bytes(segment),
                });
                self.flatten(child, depth + 1);
                self.steps.push(Step::Close);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn render(plan: &NestingPlan) -> String {
        plan.steps
            .iter()
            .map(|s| match s {
                Step::Open { key } => format!("{}{{", String::from_utf8_lossy(&key[1..])),
                Step::Close => "}".to_owned(),
                Step::Leaf { column, key } => {
                    format!("{}{column}", String::from_utf8_lossy(&key[1..]))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn groups_and_sorts_by_segment() {
        let cols = [
            "source.port",
            "@timestamp",
            "source.ip",
            "zeek.conn.id.orig_h",
            "a-b",
            "a.x",
        ];
        let plan = NestingPlan::new(cols.iter().enumerate().map(|(i, n)| (i, *n))).unwrap();
        assert_eq!(
            render(&plan),
            "\"@timestamp\":1 \"a\":{ \"x\":5 } \"a-b\":4 \"source\":{ \"ip\":2 \"port\":0 } \
             \"zeek\":{ \"conn\":{ \"id\":{ \"orig_h\":3 } } }"
        );
        assert_eq!(plan.max_depth, 3);
    }

    #[test]
    fn refuses_unrepresentable_names() {
        for cols in [
            vec!["a", "a.b"],
            vec!["a.b", "a"],
            vec!["a", "a"],
            vec!["a..b"],
            vec![".a"],
            vec![""],
        ] {
            assert!(
                NestingPlan::new(cols.iter().enumerate().map(|(i, n)| (i, *n))).is_err(),
                "{cols:?}"
            );
        }
    }
}
