//! Go methods of the named types Helm hands templates as plain data: `common.Values` (a
//! `map[string]any` with `AsMap`, `YAML`, `Table`, `PathValue`) and `common.VersionSet` (a
//! `[]string` with `Has`). Their behaviour follows Helm v4.2.3's pkg/chart/common/values.go
//! and capabilities.go.
//!
//! `text/template` looks a method up before a map key (`.Values.YAML` calls the method even
//! when the values have a key `YAML`), checks the arguments against the method's parameter
//! types, then calls it; a returned error reads `error calling NAME: TEXT`. So a [`Method`]
//! declares its parameters and the evaluator does the checking, as for functions.
//!
//! Not modelled: `Values.Encode(io.Writer)`, which a template cannot call usefully (no
//! template value is an `io.Writer`).

use crate::{Dict, Map, StringsType, Value};

/// The Go type of one function or method parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `interface{}`: anything, including nil.
    Any,
    /// `string`
    String,
    /// `int`
    Int,
    /// `int64`
    Int64,
    /// `float64`
    Float64,
    /// `bool`
    Bool,
    /// `map[string]interface{}` (nil is allowed: a nil map).
    Map,
    /// `[]interface{}` (nil is allowed: a nil slice).
    List,
    /// `[]byte`
    Bytes,
}

impl ParamType {
    /// The Go spelling of the type, as Go's error messages print it.
    pub fn go_name(self) -> &'static str {
        match self {
            ParamType::Any => "interface {}",
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Int64 => "int64",
            ParamType::Float64 => "float64",
            ParamType::Bool => "bool",
            ParamType::Map => "map[string]interface {}",
            ParamType::List => "[]interface {}",
            ParamType::Bytes => "[]uint8",
        }
    }
}

/// A method of a value: its parameter types and its body (receiver, checked arguments). An
/// `Err` is the Go error's text.
#[derive(Clone, Copy)]
pub struct Method {
    pub params: &'static [ParamType],
    pub call: fn(&Value, &[Value]) -> Result<Value, String>,
}

impl Value {
    /// The method `name` of this value's Go type, if it has one (objects answer through
    /// [`crate::Object::has_method`] instead).
    pub fn method(&self, name: &str) -> Option<Method> {
        match self {
            Value::Map(d) if d.is_helm_values() => values_method(name),
            Value::Strings(s) if s.go_type() == StringsType::VersionSet => match name {
                "Has" => Some(Method {
                    params: &[ParamType::String],
                    call: version_set_has,
                }),
                _ => None,
            },
            _ => None,
        }
    }
}

fn values_method(name: &str) -> Option<Method> {
    let method = |params, call| Some(Method { params, call });
    match name {
        "AsMap" => method(&[], values_as_map),
        "YAML" => method(&[], values_yaml),
        "Table" => method(&[ParamType::String], values_table),
        "PathValue" => method(&[ParamType::String], values_path_value),
        _ => None,
    }
}

fn version_set_has(recv: &Value, args: &[Value]) -> Result<Value, String> {
    let wanted = args.first().and_then(Value::as_str).unwrap_or_default();
    Ok(Value::Bool(match recv {
        Value::Strings(s) => s.iter().any(|v| v == wanted),
        _ => false,
    }))
}

fn receiver_dict(recv: &Value) -> Dict {
    recv.as_dict().cloned().unwrap_or_default()
}

fn string_arg(args: &[Value]) -> &str {
    args.first().and_then(Value::as_str).unwrap_or_default()
}

/// `AsMap`: the same map as a plain `map[string]any`; an empty one is replaced by a new map
/// (so writing to it does not reach `.Values`).
fn values_as_map(recv: &Value, _args: &[Value]) -> Result<Value, String> {
    let d = receiver_dict(recv);
    Ok(Value::Map(if d.is_empty() {
        Dict::new(Map::new())
    } else {
        d.as_plain()
    }))
}

/// `YAML`: `sigs.k8s.io/yaml.Marshal` of the values, final newline kept.
fn values_yaml(recv: &Value, _args: &[Value]) -> Result<Value, String> {
    crate::yaml::to_yaml(recv)
        .map(Value::from)
        .map_err(|e| e.to_string())
}

/// `ErrNoTable`'s text.
fn no_table(key: &str) -> String {
    format!("{} is not a table", crate::gofmt::quote(key))
}

/// `ErrNoValue`'s text.
fn no_value(key: &str) -> String {
    format!("{} is not a value", crate::gofmt::quote(key))
}

/// Helm's `istable`: a plain `map[string]any` (not the named `Values` type).
fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(d) if !d.is_helm_values())
}

/// `Table(name)`: the sub-map at the dotted path, as `Values`.
fn table(values: &Dict, name: &str) -> Result<Dict, String> {
    let mut current = values.clone();
    for key in name.split('.') {
        current = match current.get(key) {
            // `tableLookup` takes a plain map or a `Values`.
            Some(Value::Map(d)) => d.as_helm_values(),
            _ => return Err(no_table(key)),
        };
    }
    Ok(current)
}

fn values_table(recv: &Value, args: &[Value]) -> Result<Value, String> {
    table(&receiver_dict(recv), string_arg(args)).map(Value::Map)
}

/// `PathValue(path)`: the value (not a table) at the dotted path.
fn values_path_value(recv: &Value, args: &[Value]) -> Result<Value, String> {
    let path = string_arg(args);
    if path.is_empty() {
        return Err("YAML path cannot be empty".into());
    }
    let values = receiver_dict(recv);
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (table(&values, parent).map_err(|_| no_value(key))?, key),
        None => (values, path),
    };
    match parent.get(key) {
        Some(v) if !is_table(&v) => Ok(v),
        _ => Err(no_value(key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Value {
        let text = "a: {b: {c: 1}, none: null}\nx: 2\n";
        match crate::yaml::from_yaml(text).unwrap() {
            Value::Map(d) => Value::Map(d.as_helm_values()),
            other => panic!("{other:?}"),
        }
    }

    fn call(recv: &Value, name: &str, args: &[Value]) -> Result<Value, String> {
        (recv.method(name).expect("method exists").call)(recv, args)
    }

    #[test]
    fn table_and_path_value_follow_helm() {
        let v = values();
        let t = call(&v, "Table", &[Value::str("a.b")]).unwrap();
        assert_eq!(t.type_name(), "common.Values");
        assert_eq!(t.as_dict().unwrap().get("c"), Some(Value::Float(1.0)));
        assert_eq!(
            call(&v, "Table", &[Value::str("a.x")]).unwrap_err(),
            "\"x\" is not a table"
        );
        assert_eq!(
            call(&v, "Table", &[Value::str("x")]).unwrap_err(),
            "\"x\" is not a table"
        );
        let p = |path: &str| call(&v, "PathValue", &[Value::str(path)]);
        assert_eq!(p("a.b.c").unwrap(), Value::Float(1.0));
        assert_eq!(p("x").unwrap(), Value::Float(2.0));
        assert_eq!(p("a.none").unwrap(), Value::Nil);
        assert_eq!(p("a.b").unwrap_err(), "\"b\" is not a value");
        assert_eq!(p("a").unwrap_err(), "\"a\" is not a value");
        assert_eq!(p("q.r").unwrap_err(), "\"r\" is not a value");
        assert_eq!(p("").unwrap_err(), "YAML path cannot be empty");
    }

    #[test]
    fn as_map_is_the_same_map_unless_empty() {
        let v = values();
        let m = call(&v, "AsMap", &[]).unwrap();
        assert_eq!(m.type_name(), "map[string]interface {}");
        assert!(m.as_dict().unwrap().ptr_eq(v.as_dict().unwrap()));
        let empty = Value::Map(Dict::default().as_helm_values());
        let m = call(&empty, "AsMap", &[]).unwrap();
        assert!(!m.as_dict().unwrap().ptr_eq(empty.as_dict().unwrap()));
        assert!(Value::map(Map::new()).method("AsMap").is_none());
    }

    #[test]
    fn version_set_has() {
        let vs = Value::version_set(vec!["v1".into(), "apps/v1".into()]);
        assert_eq!(
            call(&vs, "Has", &[Value::str("apps/v1")]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call(&vs, "Has", &[Value::str("x")]).unwrap(),
            Value::Bool(false)
        );
        assert!(Value::strings(vec![]).method("Has").is_none());
    }
}
