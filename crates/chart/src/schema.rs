//! `values.schema.json` validation for a chart and each of its subcharts (Helm's
//! `ValidateAgainstSchema`), with the `jsonschema` crate (drafts 4 to 2020-12). Messages
//! follow santhosh-tekuri/jsonschema v6's wording, which Helm prints, for the common
//! keywords; other keywords keep the crate's own wording.

use rudder_value::{json, Value};

use crate::Chart;

fn to_serde(v: &Value) -> serde_json::Value {
    json::to_raw_json(v)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
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

/// Validates `values` against one schema; the error lists every violation.
pub fn validate_single(values: &Value, schema: &[u8]) -> Result<(), SchemaError> {
    let schema: serde_json::Value = serde_json::from_slice(schema).map_err(SchemaError::Parse)?;
    let validator =
        jsonschema::validator_for(&schema).map_err(|e| SchemaError::Compile(Box::new(e)))?;
    let instance = to_serde(values);
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("- at '{}': {}", e.instance_path(), describe(&e)))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::Violations(errors))
    }
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
