//! Conversions (Sprig's `strval`, spf13/cast's `ToInt64`/`ToInt`/`ToFloat64`) and the type,
//! default and emptiness functions.

use rudder_gotmpl::FuncMap;
#[allow(unused_imports)]
use rudder_gotmpl::ParamType::{Any, Bool, Float64, Int, Map as MapT, String as Str};
use rudder_value::{gofmt, Kind, Value};

use crate::add;

/// Sprig's `strval`: strings as they are, `[]byte` as text, anything else as `%v` prints it.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_go_string(),
    }
}

/// cast's `trimZeroDecimal`: `"1.0"` → `"1"`.
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
                return s;
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// spf13/cast `ToInt64` (errors give 0).
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Float(f) => *f as i64,
        Value::String(s) => gofmt::parse_int(trim_zero_decimal(s), 0).unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

/// spf13/cast `ToFloat64` (errors give 0).
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Float(f) => *f,
        Value::String(s) => gofmt::parse_float(s).unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

/// Sprig's `empty`: the zero value of its type (structs are never empty).
pub(crate) fn empty(v: &Value) -> bool {
    !v.is_true()
}

/// Sprig's `strslice`: a list as strings, nil elements dropped; a non-list as one string.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::Strings(s) => s.to_vec(),
        Value::Nil => Vec::new(),
        other => match other.to_list() {
            Some(l) => l.iter().filter(|x| !x.is_nil()).map(strval).collect(),
            None => vec![strval(other)],
        },
    }
}

pub(crate) fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Object(o) => o.kind().name(),
        other => match other.kind() {
            Kind::Slice => "slice",
            k => k.name(),
        },
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    add(m, "toString", &[Any], None, |a| {
        Ok(Value::from(strval(&a[0])))
    });
    add(m, "toStrings", &[Any], None, |a| {
        if matches!(&a[0], Value::Strings(s) if s.is_plain()) {
            // Sprig returns a []string as it is (a nil one stays nil); a named string-slice
            // type (common.VersionSet) fails its type switch and is copied into a []string.
            return Ok(a[0].clone());
        }
        Ok(Value::strings(strslice(&a[0])))
    });
    add(m, "atoi", &[Str], None, |a| {
        Ok(Value::Int(
            gofmt::parse_int(a[0].as_str().unwrap_or_default(), 10).unwrap_or(0),
        ))
    });
    add(m, "int", &[Any], None, |a| Ok(Value::Int(to_int64(&a[0]))));
    add(m, "int64", &[Any], None, |a| {
        Ok(Value::Int64(to_int64(&a[0])))
    });
    add(m, "float64", &[Any], None, |a| {
        Ok(Value::Float(to_float64(&a[0])))
    });
    add(m, "toDecimal", &[Any], None, |a| {
        Ok(Value::Int64(
            gofmt::parse_int(&a[0].to_go_string(), 8).unwrap_or(0),
        ))
    });
    add(m, "typeOf", &[Any], None, |a| {
        Ok(Value::from(a[0].type_name().into_owned()))
    });
    add(m, "typeIs", &[Str, Any], None, |a| {
        Ok(Value::Bool(
            a[0].as_str() == Some(a[1].type_name().as_ref()),
        ))
    });
    add(m, "typeIsLike", &[Str, Any], None, |a| {
        let t = a[1].type_name();
        let target = a[0].as_str().unwrap_or_default();
        Ok(Value::Bool(target == t || format!("*{target}") == t))
    });
    add(m, "kindOf", &[Any], None, |a| {
        Ok(Value::str(kind_name(&a[0])))
    });
    add(m, "kindIs", &[Str, Any], None, |a| {
        Ok(Value::Bool(a[0].as_str() == Some(kind_name(&a[1]))))
    });
    add(m, "deepEqual", &[Any, Any], None, |a| {
        Ok(Value::Bool(a[0] == a[1]))
    });
    add(m, "default", &[Any], Some(Any), |a| {
        let given = a.get(1);
        match given {
            Some(g) if !empty(g) => Ok(g.clone()),
            _ => Ok(a[0].clone()),
        }
    });
    add(m, "empty", &[Any], None, |a| Ok(Value::Bool(empty(&a[0]))));
    add(m, "coalesce", &[], Some(Any), |a| {
        Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
    });
    add(m, "all", &[], Some(Any), |a| {
        Ok(Value::Bool(a.iter().all(|v| !empty(v))))
    });
    add(m, "any", &[], Some(Any), |a| {
        Ok(Value::Bool(a.iter().any(|v| !empty(v))))
    });
    add(m, "ternary", &[Any, Any, Bool], None, |a| {
        Ok(if a[2].as_bool() == Some(true) {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    for name in ["deepCopy", "mustDeepCopy"] {
        add(m, name, &[Any], None, |a| {
            if a[0].is_nil() {
                // Go's reflection fails on the nil interface before copying starts.
                return Err("reflect: call of reflect.Value.Type on zero Value".into());
            }
            Ok(a[0].deep_clone())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_like_spf13_cast() {
        assert_eq!(to_int64(&Value::str("1.0")), 1);
        assert_eq!(to_int64(&Value::str("0x10")), 16);
        assert_eq!(to_int64(&Value::str("abc")), 0);
        assert_eq!(to_int64(&Value::Float(2.9)), 2);
        assert_eq!(to_float64(&Value::str("2.5")), 2.5);
    }
}
