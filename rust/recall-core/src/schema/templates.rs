//! Elasticsearch index templates generated from the schema (registry + ECS tables), so the
//! mapping can never disagree with what the normaliser writes.
//!
//! Stage: schema. Builds JSON with `serde_json` (a few kilobytes, once); must not import
//! `decode`, `normalize` or `encode`.
//!
//! Layout (composable templates, Elasticsearch 7.8+):
//! - component template `<prefix>-zeek-settings`: shards, replicas (configurable; tests use
//!   0), `best_compression`, a raised field limit. Nothing outside the server core: no ILM,
//!   no ingest pipeline, no custom analyzer, no plugin field types.
//! - component template `<prefix>-zeek-ecs`: every ECS field the normaliser can write, with
//!   its type, shared by all log types (the ECS fields mean the same in every log), plus the
//!   dynamic templates for fields the registry does not know.
//! - one index template per known log type, `<prefix>-zeek.<logtype>` (priority 200+),
//!   matching only that log type's indices and mapping every registry field under
//!   `zeek.<logtype>.*` with the type derived from its Zeek type.
//! - one catch-all index template `<prefix>-zeek` (priority 100) for log types the registry
//!   does not know: ECS fields mapped, the rest dynamic.
//!
//! One index template per log type (rather than one template with every log's fields) keeps
//! each index's mapping to the fields it can contain (`conn` indices do not carry 1,000
//! unused `x509` fields) and lets log types differ without conflicts.
//!
//! Unknown fields never cause a mapping conflict: dynamic templates map JSON strings to
//! `keyword` (which also accepts numbers and booleans later), integers to `long` and
//! floats to `double` with `ignore_malformed` (a later string is skipped, not rejected),
//! booleans to `keyword`, and `date_detection`/`numeric_detection` are off so a string never
//! becomes a date or number field that a later value could fail. Type decisions for known
//! fields are documented in [`super::ecs`].

use std::collections::BTreeMap;

use arrow_schema::{DataType, Schema};
use serde_json::{json, Map, Value};

use super::ecs::{self, EsType, KEYWORD_IGNORE_ABOVE};
use super::registry::LOG_SPECS;
use super::routing::{IndexPattern, DEFAULT_INDEX_PATTERN};
use super::zeek::{ZeekType, ZEEK_TYPE_KEY};
use crate::error::{RecallError, Result};

/// Lowest priority of the per-log-type index templates. Each log type gets its own
/// (`200 + rank`): Elasticsearch refuses two templates of equal priority whose patterns could
/// both match some name, and `*-zeek.conn-*` and `*-zeek.dns-*` could (the tenant wildcard
/// matches anything). Real index names never match two of them (tenants have no `.`), so the
/// order is irrelevant; it only has to be strict.
pub const LOG_TYPE_PRIORITY: u32 = 200;
/// Priority of the catch-all index template.
pub const GENERIC_PRIORITY: u32 = 100;
/// Version number written into every template (bump when the generated mappings change).
pub const TEMPLATE_VERSION: u32 = 1;

/// Options for [`IndexTemplates::generate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateOptions {
    /// Index name pattern (the same the normaliser routes with).
    pub index_pattern: String,
    /// `index.number_of_replicas`.
    pub replicas: u32,
    /// `index.number_of_shards`.
    pub shards: u32,
    /// Data-stream mode: index templates declare `data_stream` and match the pattern without
    /// its date (needs the data-streams module, absent from the server core; documents must
    /// then use the `create` action). Off by default.
    pub data_stream: bool,
    /// Prefix of template names.
    pub name_prefix: String,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        Self {
            index_pattern: DEFAULT_INDEX_PATTERN.to_owned(),
            replicas: 1,
            shards: 1,
            data_stream: false,
            name_prefix: "recall".to_owned(),
        }
    }
}

/// The generated templates, in installation order (component templates first).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexTemplates {
    /// `(name, body)` for `PUT _component_template/<name>`.
    pub component_templates: Vec<(String, Value)>,
    /// `(name, body)` for `PUT _index_template/<name>`.
    pub index_templates: Vec<(String, Value)>,
}

/// The mapping of one field of type `es_type`.
pub fn es_mapping(es_type: EsType) -> Value {
    match es_type {
        EsType::Keyword => json!({"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE}),
        EsType::Boolean => json!({"type": "boolean"}),
        other => json!({"type": other.name(), "ignore_malformed": true}),
    }
}

/// Insert `mapping` at the dotted `path` of a `properties` tree.
fn insert_path(properties: &mut Map<String, Value>, path: &str, mapping: Value) {
    let mut segments = path.split('.').peekable();
    let mut current = properties;
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            current.insert(segment.to_owned(), mapping);
            return;
        }
        let entry = current
            .entry(segment.to_owned())
            .or_insert_with(|| json!({"properties": {}}));
        let Some(next) = entry.as_object_mut().and_then(|o| {
            o.entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()
        }) else {
            return;
        };
        current = next;
    }
}

/// A `properties` tree from `(dotted path, type)` pairs.
pub fn properties<'a>(fields: impl IntoIterator<Item = (&'a str, EsType)>) -> Value {
    let mut root = Map::new();
    for (path, es_type) in fields {
        insert_path(&mut root, path, es_mapping(es_type));
    }
    Value::Object(root)
}

/// The `zeek.<log_type>.*` document names of Zeek fields (dots nest, empty segments become
/// `_empty`, a name that is also a prefix moves to `<name>.value`). The normaliser uses the
/// same function, so templates and documents agree.
pub fn zeek_document_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let sanitized: Vec<String> = names
        .into_iter()
        .map(|name| {
            if name.split('.').any(str::is_empty) {
                name.split('.')
                    .map(|s| if s.is_empty() { "_empty" } else { s })
                    .collect::<Vec<_>>()
                    .join(".")
            } else {
                name.to_owned()
            }
        })
        .collect();
    let mut all: std::collections::HashSet<String> = sanitized.iter().cloned().collect();
    let prefixes: std::collections::HashSet<&str> = sanitized
        .iter()
        .flat_map(|n| n.match_indices('.').filter_map(move |(i, _)| n.get(..i)))
        .collect();
    let conflicted: Vec<bool> = sanitized
        .iter()
        .map(|n| prefixes.contains(n.as_str()))
        .collect();
    sanitized
        .into_iter()
        .zip(conflicted)
        .map(|(n, conflict)| {
            if conflict {
                let mut renamed = format!("{n}.value");
                while all.contains(&renamed) {
                    renamed.push('_');
                }
                all.insert(renamed.clone());
                renamed
            } else {
                n
            }
        })
        .collect()
}

/// The `properties` of the `zeek.<log_type>` object for a log type known to the registry.
pub fn zeek_log_properties(log_type: &str) -> Option<Value> {
    let spec = LOG_SPECS.iter().find(|s| s.path == log_type)?;
    let names = zeek_document_names(spec.fields.iter().map(|f| f.name));
    let types: Vec<EsType> = spec
        .fields
        .iter()
        .map(|f| EsType::for_zeek(&f.parsed_type(), f.name))
        .collect();
    let paths: Vec<String> = names
        .iter()
        .map(|n| format!("zeek.{log_type}.{n}"))
        .collect();
    Some(properties(paths.iter().map(String::as_str).zip(types)))
}

/// The mapping Elasticsearch should end up with for the document fields of a normalised
/// batch schema: ECS fields from the ECS table, `zeek.*` fields from their `zeek.type`
/// metadata (or their Arrow type when it is missing). Used to check an index's live mapping
/// and, for fields the registry does not know, to extend a mapping before first use.
pub fn mapping_for_schema(schema: &Schema) -> Value {
    let mut fields: Vec<(String, EsType)> = Vec::new();
    for field in schema.fields() {
        let name = field.name();
        if name.starts_with('_') {
            continue;
        }
        let es_type = if let Some(t) = ecs::ecs_field_type(name) {
            t
        } else if let Some(zeek) = field.metadata().get(ZEEK_TYPE_KEY) {
            let leaf = name.rsplit('.').next().unwrap_or(name);
            EsType::for_zeek(&ZeekType::parse(zeek), leaf)
        } else {
            es_type_for_arrow(field.data_type())
        };
        fields.push((name.clone(), es_type));
    }
    properties(fields.iter().map(|(n, t)| (n.as_str(), *t)))
}

fn es_type_for_arrow(data_type: &DataType) -> EsType {
    match data_type {
        DataType::Boolean => EsType::Boolean,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => EsType::Long,
        DataType::Float32 | DataType::Float64 | DataType::Duration(_) => EsType::Double,
        DataType::Timestamp(_, _) => EsType::DateNanos,
        DataType::List(item) | DataType::LargeList(item) => es_type_for_arrow(item.data_type()),
        DataType::Dictionary(_, value) => es_type_for_arrow(value),
        _ => EsType::Keyword,
    }
}

fn dynamic_templates() -> Value {
    json!([
        {"recall_unknown_strings": {
            "match_mapping_type": "string",
            "mapping": {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE}
        }},
        {"recall_unknown_integers": {
            "match_mapping_type": "long",
            "mapping": {"type": "long", "ignore_malformed": true}
        }},
        {"recall_unknown_floats": {
            "match_mapping_type": "double",
            "mapping": {"type": "double", "ignore_malformed": true}
        }},
        {"recall_unknown_booleans": {
            "match_mapping_type": "boolean",
            "mapping": {"type": "keyword"}
        }}
    ])
}

impl IndexTemplates {
    /// Generate every template for `options`.
    pub fn generate(options: &TemplateOptions) -> Result<Self> {
        let pattern = IndexPattern::parse(&options.index_pattern)?;
        if options.shards == 0 {
            return Err(RecallError::Config {
                field: "shards".to_owned(),
                reason: "must be at least 1".to_owned(),
            });
        }
        let prefix = &options.name_prefix;
        if prefix.is_empty()
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(RecallError::Config {
                field: "name_prefix".to_owned(),
                reason: format!("{prefix:?}: must be non-empty [a-z0-9_-]"),
            });
        }
        let pattern = if options.data_stream {
            pattern.without_date()
        } else {
            pattern
        };
        let settings_name = format!("{prefix}-zeek-settings");
        let ecs_name = format!("{prefix}-zeek-ecs");
        let meta = json!({"managed_by": "recall_fast", "recall_fast_version": crate::VERSION});

        let settings = json!({
            "template": {"settings": {"index": {
                "number_of_shards": options.shards,
                "number_of_replicas": options.replicas,
                "codec": "best_compression",
                "mapping": {"total_fields": {"limit": 10_000}}
            }}},
            "version": TEMPLATE_VERSION,
            "_meta": meta,
        });
        let ecs_mappings = json!({
            "template": {"mappings": {
                "dynamic": true,
                "date_detection": false,
                "numeric_detection": false,
                "dynamic_templates": dynamic_templates(),
                "properties": properties(ecs::ECS_FIELDS.iter().map(|(p, t)| (*p, *t))),
            }},
            "version": TEMPLATE_VERSION,
            "_meta": meta,
        });

        let index_template = |glob: String, priority: u32, props: Option<Value>| {
            let mut body = json!({
                "index_patterns": [glob],
                "priority": priority,
                "composed_of": [settings_name.clone(), ecs_name.clone()],
                "version": TEMPLATE_VERSION,
                "_meta": meta,
            });
            if let (Some(props), Some(obj)) = (props, body.as_object_mut()) {
                obj.insert(
                    "template".to_owned(),
                    json!({"mappings": {"properties": props}}),
                );
            }
            if options.data_stream {
                if let Some(obj) = body.as_object_mut() {
                    obj.insert("data_stream".to_owned(), json!({}));
                }
            }
            body
        };

        let mut index_templates = Vec::with_capacity(LOG_SPECS.len() + 1);
        let mut seen = BTreeMap::new();
        for (rank, spec) in (0u32..).zip(LOG_SPECS) {
            let glob = pattern.template_glob(Some(spec.path));
            if let Some(previous) = seen.insert(glob.clone(), spec.path) {
                return Err(RecallError::Config {
                    field: "index_pattern".to_owned(),
                    reason: format!("log types {previous} and {} map to the same indices ({glob}): add <logtype> to the pattern", spec.path),
                });
            }
            index_templates.push((
                format!("{prefix}-zeek.{}", spec.path),
                index_template(
                    glob,
                    LOG_TYPE_PRIORITY + rank,
                    zeek_log_properties(spec.path),
                ),
            ));
        }
        index_templates.push((
            format!("{prefix}-zeek"),
            index_template(pattern.template_glob(None), GENERIC_PRIORITY, None),
        ));
        Ok(Self {
            component_templates: vec![(settings_name, settings), (ecs_name, ecs_mappings)],
            index_templates,
        })
    }

    /// All templates as one JSON document:
    /// `{"component_templates": {name: body}, "index_templates": {name: body}}`.
    pub fn to_json(&self) -> Value {
        let to_map = |items: &[(String, Value)]| {
            Value::Object(items.iter().map(|(n, b)| (n.clone(), b.clone())).collect())
        };
        json!({
            "component_templates": to_map(&self.component_templates),
            "index_templates": to_map(&self.index_templates),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn get<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
        path.iter().fold(v, |v, k| &v[*k])
    }

    #[test]
    fn default_templates_cover_every_log_type() {
        let t = IndexTemplates::generate(&TemplateOptions {
            replicas: 0,
            ..TemplateOptions::default()
        })
        .unwrap();
        assert_eq!(t.component_templates.len(), 2);
        assert_eq!(t.index_templates.len(), LOG_SPECS.len() + 1);
        let conn = &t
            .index_templates
            .iter()
            .find(|(n, _)| n == "recall-zeek.conn")
            .unwrap()
            .1;
        assert_eq!(conn["index_patterns"][0], "recall-*-zeek.conn-*");
        let props = get(
            conn,
            &[
                "template",
                "mappings",
                "properties",
                "zeek",
                "properties",
                "conn",
                "properties",
            ],
        );
        assert_eq!(get(props, &["id", "properties", "orig_h", "type"]), "ip");
        assert_eq!(get(props, &["orig_bytes", "type"]), "long");
        assert_eq!(get(props, &["ts", "type"]), "date_nanos");
        assert_eq!(get(props, &["duration", "type"]), "double");
        assert_eq!(get(props, &["tunnel_parents", "type"]), "keyword");
        let settings = &t.component_templates[0].1;
        assert_eq!(
            get(
                settings,
                &["template", "settings", "index", "number_of_replicas"]
            ),
            0
        );
        let ecs = &t.component_templates[1].1;
        let ecs_props = get(ecs, &["template", "mappings", "properties"]);
        assert_eq!(
            get(ecs_props, &["source", "properties", "ip", "type"]),
            "ip"
        );
        assert_eq!(get(ecs_props, &["@timestamp", "type"]), "date_nanos");
        let generic = &t.index_templates.last().unwrap().1;
        assert_eq!(generic["index_patterns"][0], "recall-*-zeek.*-*");
        assert_eq!(generic["priority"], GENERIC_PRIORITY);
        // Nothing outside the server core.
        let text = t.to_json().to_string();
        for forbidden in [
            "lifecycle",
            "unsigned_long",
            "wildcard",
            "match_only_text",
            "constant_keyword",
            "scaled_float",
            "pipeline",
        ] {
            assert!(!text.contains(forbidden), "{forbidden}");
        }
    }

    #[test]
    fn data_stream_mode_and_validation() {
        let t = IndexTemplates::generate(&TemplateOptions {
            data_stream: true,
            ..TemplateOptions::default()
        })
        .unwrap();
        let dns = &t
            .index_templates
            .iter()
            .find(|(n, _)| n == "recall-zeek.dns")
            .unwrap()
            .1;
        assert_eq!(dns["index_patterns"][0], "recall-*-zeek.dns");
        assert_eq!(dns["data_stream"], json!({}));
        assert!(IndexTemplates::generate(&TemplateOptions {
            index_pattern: "x-<tenant>.zeek".into(),
            ..TemplateOptions::default()
        })
        .is_err());
        assert!(IndexTemplates::generate(&TemplateOptions {
            name_prefix: "Bad".into(),
            ..TemplateOptions::default()
        })
        .is_err());
    }

    #[test]
    fn names_nest_without_conflicts() {
        assert_eq!(
            zeek_document_names(["a", "a.b", "c..d", "a.value"]),
            vec!["a.value_", "a.b", "c._empty.d", "a.value"]
        );
        // ECS fields never collide (no field is a prefix of another).
        for (a, _) in ecs::ECS_FIELDS {
            for (b, _) in ecs::ECS_FIELDS {
                assert!(!b.starts_with(&format!("{a}.")), "{a} is a prefix of {b}");
            }
        }
    }
}
