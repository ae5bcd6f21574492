//! `values.schema.json` validation for a chart and each of its subcharts (Helm's
//! `ValidateAgainstSchema`), with the `jsonschema` crate (drafts 4 to 2020-12). Messages
//! follow santhosh-tekuri/jsonschema v6's wording, which Helm prints, for the common
//! keywords; other keywords keep the crate's own wording.

use std::path::Path;

use rudder_value::{json, Value};

use crate::schema_cache::Entry;
use crate::Chart;

/// The values as JSON text, keys sorted; `null` for values JSON cannot hold.
fn values_json(v: &Value) -> String {
    json::to_raw_json(v).unwrap_or_else(|_| "null".into())
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "number",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn describe(e: &jsonschema::ValidationError) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    match e.kind() {
        K::Type { kind } => {
            let want = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(ts) => {
                    let v: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
                    v.join(" or ")
                }
            };
            format!("got {}, want {want}", json_type(e.instance()))
        }
        K::Required { property } => format!(
            "missing property {}",
            property.to_string().replace('"', "'")
        ),
        K::Enum { options } => {
            let opts: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(|o| o.to_string().replace('"', "'")).collect())
                .unwrap_or_default();
            format!("value must be one of {}", opts.join(", "))
        }
        K::Minimum { limit } => format!("must be >= {limit} but found {}", e.instance()),
        K::Maximum { limit } => format!("must be <= {limit} but found {}", e.instance()),
        K::AdditionalProperties { unexpected } => {
            let u: Vec<String> = unexpected.iter().map(|s| format!("'{s}'")).collect();
            format!("additional properties {} not allowed", u.join(", "))
        }
        _ => e.to_string(),
    }
}

/// Why values failed one schema; the `Display` is Helm's text.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("unable to parse schema: {0}")]
    Parse(#[source] serde_json::Error),
    #[error("unable to compile schema: {0}")]
    Compile(#[source] Box<jsonschema::ValidationError<'static>>),
    /// Every violation, one `- at '<path>': <what>` line each.
    #[error("{}\n", .0.join("\n"))]
    Violations(Vec<String>),
}

/// The charts whose values failed their schema, each with why, in Helm's order (the chart,
/// then its subcharts); the `Display` is Helm's text.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(|(chart, e)| format!("{chart}:\n{e}")).collect::<String>())]
pub struct ChartSchemaErrors(pub Vec<(String, SchemaError)>);

/// Validates `values` against one schema; the error lists every violation. Values that
/// passed this schema before pass at once where the cache is on ([`crate::schema_cache`]).
pub fn validate_single(values: &Value, schema: &[u8]) -> Result<(), SchemaError> {
    validate_single_in(Entry::dir(), values, schema)
}

/// [`validate_single`] with the cache in `cache`, or none.
fn validate_single_in(
    cache: Option<&Path>,
    values: &Value,
    schema: &[u8],
) -> Result<(), SchemaError> {
    let values_json = values_json(values);
    let cached = cache.map(|dir| Entry::in_dir(dir, schema, &values_json));
    if cached.as_ref().is_some_and(|entry| entry.passed()) {
        return Ok(());
    }
    let schema: serde_json::Value = serde_json::from_slice(schema).map_err(SchemaError::Parse)?;
    let validator =
        jsonschema::validator_for(&schema).map_err(|e| SchemaError::Compile(Box::new(e)))?;
    let instance = serde_json::from_str(&values_json).unwrap_or(serde_json::Value::Null);
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("- at '{}': {}", e.instance_path(), describe(&e)))
        .collect();
    if !errors.is_empty() {
        return Err(SchemaError::Violations(errors));
    }
    if let Some(entry) = cached {
        entry.record_pass();
    }
    Ok(())
}

/// Helm's `ValidateAgainstSchema`: the chart's schema against its values, then each
/// subchart's against its own part of the values.
pub fn validate_against_schema(chart: &Chart, values: &Value) -> Result<(), ChartSchemaErrors> {
    let mut failed = Vec::new();
    collect_schema_errors(chart, values, &mut failed);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(ChartSchemaErrors(failed))
    }
}

fn collect_schema_errors(chart: &Chart, values: &Value, failed: &mut Vec<(String, SchemaError)>) {
    if let Some(schema) = &chart.schema {
        if let Err(e) = validate_single(values, schema) {
            failed.push((chart.name().to_string(), e));
        }
    }
    for sub in &chart.dependencies {
        let sub_values = values
            .get_path(&[sub.name()])
            .unwrap_or_else(|| Value::map(Default::default()));
        collect_schema_errors(sub, &sub_values, failed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &[u8] = br#"{"type": "object", "properties": {"replicas": {"type": "integer"}}}"#;

    fn values(yaml: &str) -> Value {
        rudder_value::yaml::from_yaml(yaml).unwrap()
    }

    /// With the cache on, a pass is remembered and failures are found every time, also for
    /// values beside ones that passed.
    #[test]
    fn the_cache_remembers_passes_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Some(dir.path());
        let bad = values("replicas: three");
        for _ in 0..2 {
            let e = validate_single_in(cache, &bad, SCHEMA).unwrap_err();
            assert_eq!(
                e.to_string(),
                "- at '/replicas': got string, want integer\n"
            );
        }
        assert_eq!(
            std::fs::read_dir(dir.path())
                .map(|d| d.count())
                .unwrap_or(0),
            0
        );
        let good = values("replicas: 3");
        validate_single_in(cache, &good, SCHEMA).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        validate_single_in(cache, &good, SCHEMA).unwrap();
        assert!(validate_single_in(cache, &bad, SCHEMA).is_err());
        // Another schema that the same values fail is not answered by the pass recorded.
        let strict = br#"{"type": "object", "properties": {"replicas": {"type": "string"}}}"#;
        assert!(validate_single_in(cache, &good, strict).is_err());
    }
}
