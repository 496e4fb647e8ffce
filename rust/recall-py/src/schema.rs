//! Index templates and field listings from the one schema, as JSON text (the CLI prints or
//! installs them; Python never re-derives a mapping).

use pyo3::prelude::*;
use pyo3_arrow::PySchema;
use recall_core::schema::ecs::ECS_FIELDS;
use recall_core::schema::registry::LOG_SPECS;
use recall_core::schema::routing::DEFAULT_INDEX_PATTERN;
use recall_core::schema::templates::{mapping_for_schema, IndexTemplates, TemplateOptions};

use crate::errors::IntoPyResult;

/// All index templates as one JSON document:
/// `{"component_templates": {name: body}, "index_templates": {name: body}}`. Install the
/// component templates first.
#[pyfunction]
#[pyo3(signature = (*, index_pattern = DEFAULT_INDEX_PATTERN, replicas = 1, shards = 1, data_stream = false, name_prefix = "recall"))]
fn index_templates(
    index_pattern: &str,
    replicas: u32,
    shards: u32,
    data_stream: bool,
    name_prefix: &str,
) -> PyResult<String> {
    let options = TemplateOptions {
        index_pattern: index_pattern.to_owned(),
        replicas,
        shards,
        data_stream,
        name_prefix: name_prefix.to_owned(),
    };
    Ok(IndexTemplates::generate(&options)
        .map_py()?
        .to_json()
        .to_string())
}

/// The Elasticsearch `properties` the document fields of a normalised batch schema should
/// have (ECS table for ECS fields, Zeek type for `zeek.*` fields), as JSON.
#[pyfunction]
fn expected_mapping(schema: PySchema) -> String {
    mapping_for_schema(schema.as_ref()).to_string()
}

/// The log types the registry knows (each has its own index template).
#[pyfunction]
fn known_log_types() -> Vec<&'static str> {
    LOG_SPECS.iter().map(|s| s.path).collect()
}

/// Every ECS field the normaliser can write, with its Elasticsearch type.
#[pyfunction]
fn ecs_fields() -> Vec<(&'static str, &'static str)> {
    ECS_FIELDS
        .iter()
        .map(|(path, t)| (*path, t.name()))
        .collect()
}

/// Register the functions and constants of this module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(index_templates, m)?)?;
    m.add_function(wrap_pyfunction!(expected_mapping, m)?)?;
    m.add_function(wrap_pyfunction!(known_log_types, m)?)?;
    m.add_function(wrap_pyfunction!(ecs_fields, m)?)?;
    m.add("DEFAULT_INDEX_PATTERN", DEFAULT_INDEX_PATTERN)?;
    Ok(())
}
