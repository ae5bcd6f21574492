//! `values.schema.json` validation for a chart and each of its subcharts (Helm's
//! `ValidateAgainstSchema`), with the `jsonschema` crate (drafts 4 to 2020-12). Messages
//! follow santhosh-tekuri/jsonschema v6's wording, which Helm prints, for the common
//! keywords; other keywords keep the crate's own wording.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread::JoinHandle;

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

/// Compiling a schema costs more than checking values against it: the crate first builds a
/// validator for the schema's draft (for the common `http://json-schema.org/schema#`, 2020-12
/// with its vocabularies: a fifth of rendering bitnami's PostgreSQL chart), then checks the
/// schema with it and compiles it. None of that needs the values, so when the program asks
/// for it ([`compile_ahead`]) a chart's schema is compiled on a thread of its own as soon as
/// the chart is loaded, beside the rest of the loading, dependency processing and
/// coalescing; validation then takes the result (or waits for it). Schemas that are never
/// validated (those of disabled subcharts) cost only the other core's time.
static COMPILE_AHEAD: AtomicBool = AtomicBool::new(false);

/// Schemas being compiled ahead, at most [`MAX_AHEAD`] at a time.
static AHEAD: Mutex<Vec<(bytes::Bytes, JoinHandle<Compiled>)>> = Mutex::new(Vec::new());
const MAX_AHEAD: usize = 8;

type Compiled = Result<jsonschema::Validator, SchemaError>;

/// Turns on compiling schemas ahead (see [`prepare`]); commands that validate values call it.
pub fn compile_ahead() {
    COMPILE_AHEAD.store(true, Ordering::Relaxed);
}

/// Starts compiling `schema` on a thread of its own, when [`compile_ahead`] is on.
pub(crate) fn prepare(schema: &bytes::Bytes) {
    if !COMPILE_AHEAD.load(Ordering::Relaxed) {
        return;
    }
    let mut ahead = AHEAD.lock().unwrap_or_else(|e| e.into_inner());
    if ahead.len() >= MAX_AHEAD || ahead.iter().any(|(s, _)| s == schema) {
        return;
    }
    let text = schema.clone();
    let started = std::thread::Builder::new()
        .name("rudder-schema".into())
        .spawn(move || compile(&text));
    if let Ok(handle) = started {
        ahead.push((schema.clone(), handle));
    }
}

fn compile(schema: &[u8]) -> Compiled {
    let schema: serde_json::Value = serde_json::from_slice(schema).map_err(SchemaError::Parse)?;
    jsonschema::validator_for(&schema).map_err(|e| SchemaError::Compile(Box::new(e)))
}

/// `schema` compiled: taken from the compilation started ahead, if any, else compiled here.
fn compiled(schema: &[u8]) -> Compiled {
    let started = {
        let mut ahead = AHEAD.lock().unwrap_or_else(|e| e.into_inner());
        let at = ahead.iter().position(|(s, _)| s[..] == *schema);
        at.map(|at| ahead.swap_remove(at).1)
    };
    match started.map(JoinHandle::join) {
        Some(Ok(result)) => result,
        // Not started, or its thread panicked: compile here, where a panic shows as ever.
        _ => compile(schema),
    }
}

/// Validates `values` against one schema; the error lists every violation.
pub fn validate_single(values: &Value, schema: &[u8]) -> Result<(), SchemaError> {
    let validator = compiled(schema)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(values: &Value, schema: &[u8]) -> String {
        match validate_single(values, schema) {
            Ok(()) => "valid".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_schema_compiled_ahead_validates_and_fails_as_one_compiled_on_the_spot() {
        let values = rudder_value::yaml::from_yaml("replicas: two\nname: x\n").unwrap();
        let schemas: [&[u8]; 4] = [
            br#"{"type": "object", "properties": {"name": {"type": "string"}}}"#,
            br#"{"type": "object", "required": ["port"], "properties": {"replicas": {"type": "integer"}}}"#,
            br#"{"type": "object", "properties": "#,
            br#"{"$schema": "http://json-schema.org/draft-07/schema#", "type": 12}"#,
        ];
        for schema in schemas {
            let on_the_spot = outcome(&values, schema);
            compile_ahead();
            let bytes = bytes::Bytes::copy_from_slice(schema);
            prepare(&bytes);
            assert_eq!(outcome(&values, schema), on_the_spot);
            let ahead = AHEAD.lock().unwrap_or_else(|e| e.into_inner());
            assert!(
                !ahead.iter().any(|(s, _)| s == &bytes),
                "the compilation started ahead is taken by the validation"
            );
        }
        assert!(outcome(&values, schemas[1]).contains("missing property 'port'"));
        assert!(outcome(&values, schemas[2]).starts_with("unable to parse schema"));
        assert!(outcome(&values, schemas[3]).starts_with("unable to compile schema"));
    }
}
