//! Reading, second step: nodes into [`Value`]s as sigs.k8s.io/yaml makes them (the JSON
//! round trip: string keys, merge keys, float64 numbers), and the public readers.

use std::borrow::Cow;

use crate::{Map, Value};

use super::block_subset::{self, Build};
use super::parse::*;
use super::scalar::*;

/// Why a YAML text did not become a value, by the stage sigs.k8s.io/yaml (or go-yaml) reports
/// it at, so that each stage's prefix is written once and no caller tests the text for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Converting the YAML to JSON failed (go-yaml's text, or a key JSON cannot have).
    #[error("error converting YAML to JSON: {0}")]
    Converting(String),
    /// encoding/json refused the JSON made of it: the whole text as Go words it.
    #[error("{0}")]
    Unmarshaling(String),
    /// go-yaml itself refused the text, read without the JSON round trip
    /// ([`from_yaml_native`]): go-yaml's text.
    #[error("{0}")]
    Yaml(String),
}

/// A map key as sigs.k8s.io/yaml turns it into a JSON object key.
fn key_string(node: &Node) -> Result<String, DecodeError> {
    match node {
        Node::Scalar {
            text, plain, tag, ..
        } => scalar_key(scalar_of(text, *plain, tag.as_deref()).map_err(DecodeError::Converting)?),
        _ => Err(DecodeError::Converting("yaml: invalid map key".into())),
    }
}

/// A resolved scalar as a JSON object key.
fn scalar_key(scalar: Scalar) -> Result<String, DecodeError> {
    match scalar {
        Scalar::Str(s) | Scalar::Time(s) => Ok(s),
        Scalar::Bool(b) => Ok(b.to_string()),
        Scalar::Int(i) => Ok(i.to_string()),
        Scalar::Float(f) => Ok(
            match crate::gofmt::format_float(f as f32 as f64, 'g', -1).as_str() {
                "+Inf" => ".inf".into(),
                "-Inf" => "-.inf".into(),
                "NaN" => ".nan".into(),
                other => float32_key(f).unwrap_or_else(|| other.to_string()),
            },
        ),
        Scalar::Null => Err(DecodeError::Converting(
            "unsupported map key of type: <nil>".into(),
        )),
    }
}

/// Makes values straight from the fast reader, as [`to_value`] makes them from its nodes.
/// What would fail or need more than one entry's rules (a null key, a merge key `<<`) gives
/// up, and the text goes the long way (libyaml, nodes, [`to_value`]), which says what is
/// wrong where. Nesting cannot reach encoding/json's limit here: the reader gives deeper
/// documents to libyaml.
struct ValueBuild<'k> {
    /// The top-level keys asked for ([`from_yaml_top_keys`]), compared as converted.
    top_keys: Option<&'k [&'k str]>,
    /// [`from_yaml_raw`]'s reading: scalars as [`raw_value`] gives them, and `<<` a key like
    /// any other (this reading does not merge).
    raw: bool,
}

const _: () = assert!(2 * (block_subset::MAX_DEPTH + 2) < MAX_NESTING);

impl Build for ValueBuild<'_> {
    type Out = Value;
    type Key = String;
    type Seq = Vec<Value>;
    type Map = Map;
    fn scalar(&mut self, text: Cow<'_, str>, plain: bool) -> Option<Value> {
        Some(if !plain {
            Value::str(&*text)
        } else if self.raw {
            match resolve_plain_kind(&text) {
                Plain::Str | Plain::Time => Value::str(&*text),
                kind => raw_value(kind.into_scalar(&text)),
            }
        } else {
            plain_value(&text)
        })
    }
    fn key(&mut self, text: Cow<'_, str>, plain: bool) -> Option<String> {
        if !plain || (self.raw && text == "<<") {
            return Some(text.into_owned());
        }
        match resolve_plain_kind(&text) {
            Plain::Str | Plain::Time if text != "<<" => Some(text.into_owned()),
            Plain::Str | Plain::Time | Plain::Null => None,
            kind => scalar_key(kind.into_scalar(&text)).ok(),
        }
    }
    fn seq(&mut self) -> Vec<Value> {
        Vec::new()
    }
    fn push(&mut self, seq: &mut Vec<Value>, item: Value) {
        seq.push(item);
    }
    fn finish_seq(&mut self, seq: Vec<Value>) -> Value {
        Value::list(seq)
    }
    fn map(&mut self) -> Map {
        Map::new()
    }
    fn insert(&mut self, map: &mut Map, key: String, value: Value) -> Option<()> {
        map.insert(key, value);
        Some(())
    }
    fn finish_map(&mut self, map: Map) -> Value {
        Value::map(map)
    }
    fn wanted_top(&self, key: &String, keys: &[&str]) -> bool {
        keys.iter().any(|want| want.eq_ignore_ascii_case(key))
    }
    fn insert_top(&mut self, map: &mut Map, key: String, value: Value) -> Option<()> {
        if self.wanted_top(&key, self.top_keys.unwrap_or_default()) {
            map.insert(key, value);
        }
        Some(())
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest text that round-trips as a float32.
fn float32_key(f: f64) -> Option<String> {
    let v = f as f32;
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let neg = v < 0.0;
    let dp = exp + 1;
    let nd = digits.len() as i32;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= 21.max(nd) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if dp <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-dp) as usize));
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        out.push_str(&"0".repeat((dp - nd) as usize));
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    Some(out)
}

/// go-yaml's merge key: `<<` that libyaml reports as implicit, i.e. plain and untagged, or
/// with the non-specific tag `!` in any style (libyaml's `plain_implicit`; Helm's `fromYaml`
/// refuses `! <<: scalar` as a merge of a scalar).
pub(super) fn is_merge_key(node: &Node) -> bool {
    match node {
        Node::Scalar {
            text, plain, tag, ..
        } if text == "<<" => match tag.as_deref() {
            None => *plain,
            Some(t) => t == "!",
        },
        _ => false,
    }
}

/// sigs.k8s.io/yaml's error when the JSON it made from the YAML nests deeper than
/// encoding/json's limit of 10000 (YAML nesting counts flow and block levels apart, JSON both).
fn json_too_deep(node: &Node) -> DecodeError {
    let open = if matches!(node, Node::Map(_)) {
        '{'
    } else {
        '['
    };
    DecodeError::Unmarshaling(format!(
        "error unmarshaling JSON: while decoding JSON: invalid character '{open}' exceeded max depth"
    ))
}

fn to_value(node: &Node, depth: usize) -> Result<Value, DecodeError> {
    if depth >= MAX_NESTING && !matches!(node, Node::Scalar { .. }) {
        return Err(json_too_deep(node));
    }
    match node {
        Node::Scalar {
            text, plain, tag, ..
        } => Ok(scalar_value(
            scalar_of(text, *plain, tag.as_deref())
                .map_err(|e| DecodeError::Converting(format!("yaml: {e}")))?,
        )),
        Node::Seq(items) => Ok(Value::list(
            items
                .iter()
                .map(|n| to_value(n, depth + 1))
                .collect::<Result<_, _>>()?,
        )),
        Node::Map(entries) => {
            let mut map = Map::new();
            fill_map(&mut map, entries, depth)?;
            Ok(Value::map(map))
        }
    }
}

fn fill_map(map: &mut Map, entries: &[(Node, Node)], depth: usize) -> Result<(), DecodeError> {
    let merge_error = || {
        DecodeError::Converting(
            "yaml: map merge requires map or sequence of maps as the value".into(),
        )
    };
    for (k, v) in entries {
        if is_merge_key(k) {
            match v {
                Node::Map(inner) => fill_map(map, inner, depth)?,
                Node::Seq(items) => {
                    for item in items.iter() {
                        match item {
                            Node::Map(inner) => fill_map(map, &inner[..], depth)?,
                            _ => return Err(merge_error()),
                        }
                    }
                }
                _ => return Err(merge_error()),
            }
            continue;
        }
        let key = key_string(k)?;
        map.insert(key, to_value(v, depth + 1)?);
    }
    Ok(())
}

/// `sigs.k8s.io/yaml.Unmarshal` into `interface{}` (values files, `fromYaml`): the first
/// document, `Nil` for an empty one.
pub fn from_yaml(text: &str) -> Result<Value, DecodeError> {
    match block_subset::parse_with(
        text,
        None,
        &mut ValueBuild {
            top_keys: None,
            raw: false,
        },
    ) {
        Some(doc) => Ok(doc.unwrap_or(Value::Nil)),
        None => from_yaml_through_nodes(text),
    }
}

/// [`from_yaml`] the long way: libyaml's nodes, decoded (the fast reader's reference).
pub(super) fn from_yaml_through_nodes(text: &str) -> Result<Value, DecodeError> {
    let docs = parse_documents_with_libyaml(text).map_err(DecodeError::Converting)?;
    match docs.first() {
        None => Ok(Value::Nil),
        Some(node) => to_value(node, 0),
    }
}

/// Like [`from_yaml`], but converts only the top-level keys named in `keys` (compared
/// without case, as Go's JSON decoding matches struct fields): cheaper when a caller needs a
/// few fields of a large document. The whole document is still parsed, so syntax errors are
/// reported as `from_yaml` reports them. Documents that are not plain mappings (or use a
/// top-level merge key) are converted whole.
pub fn from_yaml_top_keys(text: &str, keys: &[&str]) -> Result<Value, DecodeError> {
    let mut build = ValueBuild {
        top_keys: Some(keys),
        raw: false,
    };
    if let Some(doc) = block_subset::parse_with(text, Some(keys), &mut build) {
        return Ok(doc.unwrap_or(Value::Nil));
    }
    from_yaml_top_keys_through_nodes(text, keys)
}

/// [`from_yaml_top_keys`] the long way: libyaml's nodes, decoded (the fast reader's
/// reference).
pub(super) fn from_yaml_top_keys_through_nodes(
    text: &str,
    keys: &[&str],
) -> Result<Value, DecodeError> {
    let docs = parse_documents_with_libyaml(text).map_err(DecodeError::Converting)?;
    match docs.first() {
        None => Ok(Value::Nil),
        Some(Node::Map(entries)) if !entries.iter().any(|(k, _)| is_merge_key(k)) => {
            let mut map = Map::new();
            for (k, v) in entries.iter() {
                let key = key_string(k)?;
                if keys.iter().any(|want| want.eq_ignore_ascii_case(&key)) {
                    map.insert(key, to_value(v, 1)?);
                }
            }
            Ok(Value::map(map))
        }
        Some(node) => to_value(node, 0),
    }
}

/// Every document of a stream (Helm v4 merges the documents of a values file).
pub fn from_yaml_documents(text: &str) -> Result<Vec<Value>, DecodeError> {
    let docs = parse_documents(text).map_err(DecodeError::Converting)?;
    docs.iter().map(|d| to_value(d, 0)).collect()
}

/// Every scalar as a string, the way sigs.k8s.io/yaml fills `string` fields of a Go struct
/// (Chart.yaml's `version`, `appVersion`, annotations): the scalar is resolved first, then
/// integers are printed in decimal (`0777` gives `511`), floats as float32 shortest text
/// (`1.10` gives `1.1`), booleans as `true`/`false` (`y` gives `true`). Nulls stay `Nil`.
pub fn from_yaml_raw(text: &str) -> Result<Value, DecodeError> {
    match block_subset::parse_with(
        text,
        None,
        &mut ValueBuild {
            top_keys: None,
            raw: true,
        },
    ) {
        Some(doc) => Ok(doc.unwrap_or(Value::Nil)),
        None => from_yaml_raw_through_nodes(text),
    }
}

/// A resolved scalar as [`from_yaml_raw`] gives it.
fn raw_value(scalar: Scalar) -> Value {
    match scalar {
        Scalar::Null => Value::Nil,
        Scalar::Bool(b) => Value::str(if b { "true" } else { "false" }),
        Scalar::Int(i) => Value::from(i.to_string()),
        Scalar::Float(f) if f.is_finite() => {
            Value::from(float32_key(f).unwrap_or_else(|| crate::gofmt::format_float(f, 'g', -1)))
        }
        Scalar::Float(f) => Value::from(crate::gofmt::format_float(f, 'g', -1)),
        Scalar::Str(s) | Scalar::Time(s) => Value::from(s),
    }
}

/// [`from_yaml_raw`] the long way: libyaml's nodes, decoded (the fast reader's reference).
pub(super) fn from_yaml_raw_through_nodes(text: &str) -> Result<Value, DecodeError> {
    let docs = parse_documents_with_libyaml(text).map_err(DecodeError::Converting)?;
    let scalar = |text: &str, plain: bool, tag: Option<&str>| {
        Ok(raw_value(
            scalar_of(text, plain, tag).map_err(DecodeError::Converting)?,
        ))
    };
    docs.first()
        .map(|d| tree_value(d, &scalar))
        .unwrap_or(Ok(Value::Nil))
}

/// go-yaml v2 itself (no JSON round trip) decoding into `interface{}`: integers stay
/// integers (Go `int`). Used where Helm reads YAML with go-yaml directly.
pub fn from_yaml_native(text: &str) -> Result<Value, DecodeError> {
    let docs = parse_documents(text).map_err(DecodeError::Yaml)?;
    let scalar = |text: &str, plain: bool, tag: Option<&str>| {
        Ok(
            match scalar_of(text, plain, tag).map_err(DecodeError::Yaml)? {
                Scalar::Int(i) => Value::Int(i as i64),
                other => scalar_value(other),
            },
        )
    };
    docs.first()
        .map(|d| tree_value(d, &scalar))
        .unwrap_or(Ok(Value::Nil))
}

/// A node tree as values, without the JSON round trip: keys as JSON object keys, each
/// scalar by `scalar` (the readers above differ only there).
fn tree_value<F>(node: &Node, scalar: &F) -> Result<Value, DecodeError>
where
    F: Fn(&str, bool, Option<&str>) -> Result<Value, DecodeError>,
{
    Ok(match node {
        Node::Scalar {
            text, plain, tag, ..
        } => scalar(text, *plain, tag.as_deref())?,
        Node::Seq(items) => Value::list(
            items
                .iter()
                .map(|n| tree_value(n, scalar))
                .collect::<Result<_, _>>()?,
        ),
        Node::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries.iter() {
                m.insert(key_string(k)?, tree_value(v, scalar)?);
            }
            Value::map(m)
        }
    })
}
