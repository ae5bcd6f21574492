//! The built-in functions every template set has (Go's `text/template/funcs.go`): `and`,
//! `or`, `not`, `len`, `index`, `slice`, `print`/`printf`/`println`, `html`, `js`,
//! `urlquery`, `call` and the comparisons. They are evaluated here rather than through a
//! [`FuncMap`](crate::FuncMap) because, as in Go, they see their arguments unconverted
//! (`and`/`or` short-circuit, the comparisons tell a missing value from a nil one).

use std::sync::Arc;

use rudder_value::{gofmt, Value};

use super::{Final, State, Val, R};
use crate::func::ParamType;
use crate::parse::{Arg, ArgKind};

/// Go's `basicKind` classes for comparisons.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Basic {
    Bool,
    Int,
    Float,
    String,
    Invalid,
}

fn basic(v: &Val) -> Basic {
    match v {
        Some(Value::Bool(_)) => Basic::Bool,
        Some(Value::Int(_)) | Some(Value::Int64(_)) => Basic::Int,
        Some(Value::Float(_)) => Basic::Float,
        Some(Value::String(_)) => Basic::String,
        _ => Basic::Invalid,
    }
}

fn as_int(v: &Val) -> i64 {
    match v {
        Some(Value::Int(i)) | Some(Value::Int64(i)) => *i,
        _ => 0,
    }
}

fn as_float(v: &Val) -> f64 {
    match v {
        Some(Value::Float(f)) => *f,
        _ => 0.0,
    }
}

fn as_str(v: &Val) -> &str {
    match v {
        Some(Value::String(s)) => s,
        _ => "",
    }
}

fn is_nil_like(v: &Val) -> bool {
    matches!(v, None | Some(Value::Nil))
}

/// Go's `isNil` in `eq`: no value, the nil interface, or a nil slice.
fn is_go_nil(v: &Val) -> bool {
    v.as_ref().is_none_or(Value::is_go_nil)
}

/// A value as Go's `%s` prints it (Go's `eq` errors format the first value with `%s`).
fn go_s(v: &Value) -> String {
    gofmt::sprintf("%s", std::slice::from_ref(v))
}

/// Why a comparison, `index` or `slice` failed, worded as Go's `funcs.go` words it; the
/// evaluator prefixes `error calling NAME: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum BuiltinError {
    #[error("missing argument for comparison")]
    MissingComparisonArgument,
    #[error("invalid type for comparison")]
    InvalidComparisonType,
    /// The Go type names of both sides (`<nil>` for no value).
    #[error("incompatible types for comparison: {0} and {1}")]
    IncompatibleTypes(String, String),
    /// Values of different kinds that are not basic: the first value (as `%s`) and its type,
    /// the second's type and value (as Go's `%v`).
    #[error("non-comparable types {first}: {first_type}, {second_type}: {second}")]
    NonComparableTypes {
        first: String,
        first_type: String,
        second_type: String,
        second: String,
    },
    /// A map or slice compared: the value (as `%s`) and its type.
    #[error("non-comparable type {value}: {type_name}")]
    NonComparableType { value: String, type_name: String },
    #[error("cannot index slice/array with nil")]
    IndexWithNil,
    #[error("cannot index slice/array with type {0}")]
    IndexWithType(String),
    #[error("index out of range: {0}")]
    IndexOutOfRange(i64),
    #[error("index of untyped nil")]
    IndexOfUntypedNil,
    #[error("index of nil pointer")]
    IndexOfNilPointer,
    #[error("reflect: string index out of range")]
    StringIndexOutOfRange,
    #[error("reflect: slice index out of range")]
    SliceIndexOutOfRange,
    /// A map indexed with a key of this type.
    #[error("value has type {0}; should be string")]
    MapKeyType(String),
    #[error("can't index item of type {0}")]
    CannotIndex(String),
    #[error("slice of untyped nil")]
    SliceOfUntypedNil,
    #[error("too many slice indexes: {0}")]
    TooManySliceIndexes(usize),
    #[error("cannot 3-index slice a string")]
    ThreeIndexString,
    #[error("can't slice item of type {0}")]
    CannotSlice(String),
    #[error("invalid slice index: {0} > {1}")]
    InvalidSliceIndex(usize, usize),
}

/// Go's `eq` builtin.
fn builtin_eq(a: &Val, rest: &[Val]) -> Result<bool, BuiltinError> {
    if rest.is_empty() {
        return Err(BuiltinError::MissingComparisonArgument);
    }
    let ka = basic(a);
    for b in rest {
        let kb = basic(b);
        let truth = if ka != kb {
            if a.is_some()
                && b.is_some()
                && !matches!(a, Some(Value::Nil))
                && !matches!(b, Some(Value::Nil))
            {
                return Err(incompatible(a, b));
            }
            false
        } else {
            match ka {
                Basic::Bool => {
                    a.as_ref().and_then(Value::as_bool) == b.as_ref().and_then(Value::as_bool)
                }
                Basic::Int => as_int(a) == as_int(b),
                Basic::Float => as_float(a) == as_float(b),
                Basic::String => as_str(a) == as_str(b),
                Basic::Invalid => {
                    if is_nil_like(a) || is_nil_like(b) {
                        is_go_nil(a) == is_go_nil(b)
                    } else {
                        let (va, vb) = (a.as_ref().expect("valid"), b.as_ref().expect("valid"));
                        if va.kind() != vb.kind() {
                            return Err(BuiltinError::NonComparableTypes {
                                first: go_s(va),
                                first_type: va.type_name().into_owned(),
                                second_type: vb.type_name().into_owned(),
                                second: vb.to_go_string(),
                            });
                        }
                        if va.is_nil_slice() || vb.is_nil_slice() {
                            // Slices compare only by being nil.
                            if va.is_nil_slice() == vb.is_nil_slice() {
                                return Ok(true);
                            }
                            continue;
                        }
                        match (va, vb) {
                            (Value::Map(_), _)
                            | (Value::List(_), _)
                            | (Value::Strings(_), _)
                            | (Value::Ints(_), _)
                            | (Value::StrMap(_), _)
                            | (Value::Bytes(_), _) => {
                                // Go names the argument compared with the first one.
                                return Err(BuiltinError::NonComparableType {
                                    value: go_s(vb),
                                    type_name: vb.type_name().into_owned(),
                                });
                            }
                            (Value::Object(x), Value::Object(y)) => Arc::ptr_eq(x, y),
                            _ => false,
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn incompatible(a: &Val, b: &Val) -> BuiltinError {
    let t = |v: &Val| {
        v.as_ref()
            .map(|x| x.type_name().into_owned())
            .unwrap_or_else(|| "<nil>".into())
    };
    BuiltinError::IncompatibleTypes(t(a), t(b))
}

/// Go's `lt` builtin.
fn builtin_lt(a: &Val, b: &Val) -> Result<bool, BuiltinError> {
    let ka = basic(a);
    if ka == Basic::Invalid {
        return Err(BuiltinError::InvalidComparisonType);
    }
    let kb = basic(b);
    if kb == Basic::Invalid {
        return Err(BuiltinError::InvalidComparisonType);
    }
    if ka != kb {
        return Err(incompatible(a, b));
    }
    Ok(match ka {
        Basic::Bool => return Err(BuiltinError::InvalidComparisonType),
        Basic::Int => as_int(a) < as_int(b),
        Basic::Float => as_float(a) < as_float(b),
        Basic::String => as_str(a) < as_str(b),
        Basic::Invalid => unreachable!(),
    })
}

pub(super) fn truth(v: &Val) -> bool {
    v.as_ref().is_some_and(Value::is_true)
}

/// Go's `evalArgs` for `html`, `js`, `urlquery`.
fn eval_args_string(args: &[Val]) -> String {
    if let [Some(Value::String(s))] = args {
        return s.to_string();
    }
    let vals: Vec<Value> = args
        .iter()
        .map(|v| match v {
            None | Some(Value::Nil) => Value::str("<no value>"),
            Some(v) => v.clone(),
        })
        .collect();
    gofmt::sprint(&vals)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn url_query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl<'a> State<'a> {
    /// A built-in function called with the operands `args`; `at` is the command.
    pub(super) fn eval_builtin(
        &mut self,
        dot: &Val,
        ident: &Arg,
        name: &str,
        at: (usize, &dyn std::fmt::Display),
        args: &'a [Arg],
        final_: Final,
    ) -> R<Val> {
        let num_in = args.len() + usize::from(!matches!(final_, Final::Missing));
        let want = |min: usize, variadic: bool| {
            self.check_arg_count(ident, name, args.len(), num_in, min, variadic)
        };
        let call_err =
            |s: &Self, e: String| s.err(at.0, at.1, format!("error calling {name}: {e}"));
        match name {
            "and" | "or" => {
                want(1, true)?;
                let is_or = name == "or";
                let mut v: Val = None;
                for a in args {
                    // Their parameters are reflect.Values, which take `nil` as the invalid
                    // value (false).
                    v = match a.kind {
                        ArgKind::Nil => None,
                        _ => self.eval_arg_untyped(dot, a)?,
                    };
                    if truth(&v) == is_or {
                        return Ok(v);
                    }
                }
                if let Final::Val(f) = final_ {
                    v = f;
                }
                Ok(v)
            }
            "not" => {
                want(1, false)?;
                let v = self.eval_raw_args(dot, args, &final_)?;
                Ok(Some(Value::Bool(!truth(&v[0]))))
            }
            "len" => {
                want(1, false)?;
                let v = self.eval_raw_args(dot, args, &final_)?;
                let n = match &v[0] {
                    None => {
                        return Err(call_err(
                            self,
                            "reflect: call of reflect.Value.Type on zero Value".into(),
                        ))
                    }
                    Some(Value::Nil) => return Err(call_err(self, "len of nil pointer".into())),
                    Some(Value::String(s)) => s.len(),
                    Some(Value::Bytes(b)) => b.len(),
                    Some(Value::List(l)) => l.len(),
                    Some(Value::Strings(l)) => l.len(),
                    Some(Value::Ints(l)) => l.len(),
                    Some(Value::Map(m)) => m.len(),
                    Some(Value::StrMap(m)) => m.len(),
                    Some(Value::Object(o)) => match container_data(o.as_ref()) {
                        Some(Value::Map(m)) => m.len(),
                        Some(d) if d.to_list().is_some() => d.to_list().map_or(0, |l| l.len()),
                        _ => return Err(call_err(self, format!("len of type {}", o.type_name()))),
                    },
                    Some(other) => {
                        return Err(call_err(self, format!("len of type {}", other.type_name())))
                    }
                };
                Ok(Some(Value::Int(n as i64)))
            }
            "index" => {
                want(1, true)?;
                let v = self.eval_raw_args(dot, args, &final_)?;
                builtin_index(&v[0], &v[1..]).map_err(|e| call_err(self, e.to_string()))
            }
            "slice" => {
                want(1, true)?;
                let v = self.eval_raw_args(dot, args, &final_)?;
                builtin_slice(&v[0], &v[1..])
                    .map(Some)
                    .map_err(|e| call_err(self, e.to_string()))
            }
            "print" | "println" => {
                let v = self.eval_any_args(dot, args, &final_)?;
                let vals: Vec<Value> = v.into_iter().map(|x| x.unwrap_or(Value::Nil)).collect();
                Ok(Some(Value::from(if name == "print" {
                    gofmt::sprint(&vals)
                } else {
                    gofmt::sprintln(&vals)
                })))
            }
            "printf" => {
                want(1, true)?;
                let format = if let Some(a) = args.first() {
                    self.eval_arg(dot, ParamType::String, a)?
                } else if let Final::Val(f) = &final_ {
                    self.validate_type(ident.pos, ident, f.clone(), ParamType::String)?
                } else {
                    Value::str("")
                };
                let rest_args = if args.is_empty() { &[][..] } else { &args[1..] };
                let final_rest = if args.is_empty() {
                    Final::Missing
                } else {
                    final_
                };
                let v = self.eval_any_args(dot, rest_args, &final_rest)?;
                let vals: Vec<Value> = v.into_iter().map(|x| x.unwrap_or(Value::Nil)).collect();
                Ok(Some(Value::from(gofmt::sprintf(
                    format.as_str().unwrap_or_default(),
                    &vals,
                ))))
            }
            "html" | "js" | "urlquery" => {
                let v = self.eval_any_args(dot, args, &final_)?;
                let s = eval_args_string(&v);
                Ok(Some(Value::from(match name {
                    "html" => html_escape(&s),
                    "js" => js_escape(&s),
                    _ => url_query_escape(&s),
                })))
            }
            "eq" | "ne" => {
                want(1, true)?;
                let v = self.eval_raw_args(dot, args, &final_)?;
                let r = builtin_eq(&v[0], &v[1..]).map_err(|e| call_err(self, e.to_string()))?;
                Ok(Some(Value::Bool(if name == "eq" { r } else { !r })))
            }
            "lt" | "le" | "gt" | "ge" => {
                want(2, false)?;
                let v = self.eval_raw_args(dot, args, &final_)?;
                let (a, b) = (&v[0], &v[1]);
                let r = match name {
                    "lt" => builtin_lt(a, b),
                    "ge" => builtin_lt(a, b).map(|x| !x),
                    "le" => builtin_lt(a, b).and_then(|lt| {
                        if lt {
                            Ok(true)
                        } else {
                            builtin_eq(a, std::slice::from_ref(b))
                        }
                    }),
                    _ => builtin_lt(a, b)
                        .and_then(|lt| {
                            if lt {
                                Ok(true)
                            } else {
                                builtin_eq(a, std::slice::from_ref(b))
                            }
                        })
                        .map(|le| !le),
                };
                r.map(|x| Some(Value::Bool(x)))
                    .map_err(|e| call_err(self, e.to_string()))
            }
            "call" => {
                want(1, true)?;
                let v = self.eval_raw_args(dot, args, &final_)?;
                let what = v[0]
                    .as_ref()
                    .map(|x| x.type_name().into_owned())
                    .unwrap_or_else(|| "<nil>".into());
                Err(call_err(
                    self,
                    format!(
                        "non-function {} of type {what}",
                        args.first().map(|a| a.to_string()).unwrap_or_default()
                    ),
                ))
            }
            _ => Err(self.err(
                ident.pos,
                ident,
                format!("{} is not a defined function", gofmt::quote(name)),
            )),
        }
    }
}

fn index_arg(v: &Val, cap: usize) -> Result<usize, BuiltinError> {
    let x = match v {
        Some(Value::Int(i)) | Some(Value::Int64(i)) => *i,
        None | Some(Value::Nil) => return Err(BuiltinError::IndexWithNil),
        Some(other) => return Err(BuiltinError::IndexWithType(other.type_name().into_owned())),
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(BuiltinError::IndexOutOfRange(x));
    }
    Ok(x as usize)
}

/// Go's `index` builtin.
fn builtin_index(item: &Val, indexes: &[Val]) -> Result<Val, BuiltinError> {
    let mut item = match item {
        None | Some(Value::Nil) => return Err(BuiltinError::IndexOfUntypedNil),
        Some(v) => v.clone(),
    };
    for index in indexes {
        item = match &item {
            Value::Nil => return Err(BuiltinError::IndexOfNilPointer),
            Value::String(s) => {
                let x = index_arg(index, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Value::Int(*b as i64),
                    None => return Err(BuiltinError::StringIndexOutOfRange),
                }
            }
            Value::Map(m) => match index {
                Some(Value::String(k)) => m.get(k).unwrap_or(Value::Nil),
                None | Some(Value::Nil) => Value::Nil,
                Some(other) => {
                    return Err(BuiltinError::MapKeyType(other.type_name().into_owned()));
                }
            },
            Value::StrMap(m) => match index {
                Some(Value::String(k)) => Value::str(m.get(&**k).map(String::as_str).unwrap_or("")),
                Some(other) => {
                    return Err(BuiltinError::MapKeyType(other.type_name().into_owned()))
                }
                None => Value::str(""),
            },
            other => {
                let list = match other {
                    Value::Object(o) => {
                        container_data(o.as_ref()).and_then(|d| d.to_list().map(|l| l.into_owned()))
                    }
                    v => v.to_list().map(|l| l.into_owned()),
                };
                let Some(list) = list else {
                    if let Value::Object(o) = other {
                        if let Some(Value::Map(m)) = container_data(o.as_ref()) {
                            let key = index
                                .as_ref()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default();
                            item = m.get(&key).unwrap_or(Value::Nil);
                            continue;
                        }
                    }
                    return Err(BuiltinError::CannotIndex(other.type_name().into_owned()));
                };
                let x = index_arg(index, list.len())?;
                match list.get(x) {
                    Some(v) => v.clone(),
                    None => return Err(BuiltinError::SliceIndexOutOfRange),
                }
            }
        };
    }
    Ok(Some(item))
}

/// What `len`, `index` and `range` see of an object of a map or slice kind (`.Files`); a
/// struct's serialised form is not a container to them.
pub(super) fn container_data(o: &dyn rudder_value::Object) -> Option<Value> {
    match o.kind() {
        rudder_value::Kind::Map | rudder_value::Kind::Slice => o.to_data(),
        _ => None,
    }
}

/// Go's `slice` builtin.
fn builtin_slice(item: &Val, indexes: &[Val]) -> Result<Value, BuiltinError> {
    let item = match item {
        None | Some(Value::Nil) => return Err(BuiltinError::SliceOfUntypedNil),
        Some(v) => v,
    };
    if indexes.len() > 3 {
        return Err(BuiltinError::TooManySliceIndexes(indexes.len()));
    }
    let len = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err(BuiltinError::ThreeIndexString);
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Strings(l) => l.len(),
        Value::Ints(l) => l.len(),
        Value::Bytes(l) => l.len(),
        other => return Err(BuiltinError::CannotSlice(other.type_name().into_owned())),
    };
    let mut idx = [0usize, len, len];
    for (i, x) in indexes.iter().enumerate() {
        idx[i] = index_arg(x, len)?;
    }
    if idx[0] > idx[1] {
        return Err(BuiltinError::InvalidSliceIndex(idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(BuiltinError::InvalidSliceIndex(idx[1], idx[2]));
    }
    let (a, b) = (idx[0], idx[1]);
    Ok(match item {
        Value::String(s) => Value::from(String::from_utf8_lossy(&s.as_bytes()[a..b]).into_owned()),
        Value::List(l) => Value::list(l[a..b].to_vec()),
        // A slice keeps its Go type (a `common.VersionSet` stays one).
        Value::Strings(l) => Value::Strings(rudder_value::StringSlice::new(
            l[a..b].to_vec(),
            l.go_type(),
        )),
        Value::Ints(l) => Value::Ints(Arc::new(l[a..b].to_vec())),
        Value::Bytes(l) => Value::Bytes(Arc::from(&l[a..b])),
        _ => unreachable!(),
    })
}
