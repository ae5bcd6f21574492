//! Sprig's list and dict functions. Lists are copied, never changed in place; dicts are
//! Go maps, so `set`, `unset`, `merge` and `mergeOverwrite` change the map they are given.

use std::sync::Arc;

use rudder_gotmpl::FuncMap;
#[allow(unused_imports)]
use rudder_gotmpl::ParamType::{Any, Bool, Float64, Int, Map as MapT, String as Str};
use rudder_value::{Map, Value};

use crate::add;
use crate::convert::{empty, strslice, strval, to_int64};
use crate::strings::until_step;

fn kind_of(v: &Value) -> String {
    crate::convert::kind_name(v).to_string()
}

/// The elements of a list argument, or Sprig's error for a non-list.
fn list_of(v: &Value, what: &str) -> Result<Vec<Value>, String> {
    match v {
        Value::Nil => {
            Err("runtime error: invalid memory address or nil pointer dereference".into())
        }
        Value::Bytes(b) => Ok(b.iter().map(|x| Value::Int(*x as i64)).collect()),
        other => other
            .to_list()
            .map(|l| l.into_owned())
            .ok_or_else(|| format!("Cannot {what} on type {}", kind_of(other))),
    }
}

/// The dynamic type Go names in a failed interface conversion (`nil` for a nil interface).
fn dynamic_type(v: &Value) -> std::borrow::Cow<'static, str> {
    match v {
        Value::Nil => "nil".into(),
        other => other.type_name(),
    }
}

fn dict_of(v: &Value) -> Option<&rudder_value::Dict> {
    v.as_dict()
}

/// mergo's `Merge` into `dst` (overwrite: `WithOverride`), for `map[string]interface{}`.
fn merge_into(dst: &rudder_value::Dict, src: &Map, overwrite: bool) {
    for (k, s) in src {
        let d = dst.get(k);
        if s.is_nil() {
            if overwrite {
                dst.insert(k.clone(), Value::Nil);
            }
            continue;
        }
        if let (Value::Map(sm), Some(Value::Map(dm))) = (s, &d) {
            if !sm.ptr_eq(dm) {
                let snapshot = sm.snapshot();
                merge_into(dm, &snapshot, overwrite);
            }
            continue;
        }
        match &d {
            Some(dv) if !empty(dv) && !overwrite => continue,
            _ => {
                dst.insert(k.clone(), s.clone());
            }
        }
    }
}

fn deep_equal_in(list: &[Value], v: &Value) -> bool {
    list.iter().any(|x| x == v)
}

pub(crate) fn register(m: &mut FuncMap) {
    add(m, "list", &[], Some(Any), |a| Ok(Value::list(a.to_vec())));
    add(m, "tuple", &[], Some(Any), |a| Ok(Value::list(a.to_vec())));
    add(m, "dict", &[], Some(Any), |a| {
        let mut d = Map::new();
        let mut k = 0;
        while k < a.len() {
            let key = strval(&a[k]);
            let val = a.get(k + 1).cloned().unwrap_or_else(|| Value::str(""));
            d.insert(key, val);
            k += 2;
        }
        Ok(Value::map(d))
    });
    add(m, "get", &[MapT, Str], None, |a| {
        let key = a[1].as_str().unwrap_or_default();
        Ok(dict_of(&a[0])
            .and_then(|d| d.get(key))
            .unwrap_or_else(|| Value::str("")))
    });
    add(m, "set", &[MapT, Str, Any], None, |a| {
        match dict_of(&a[0]) {
            Some(d) => {
                d.insert(a[1].as_str().unwrap_or_default(), a[2].clone());
                // Returned as Sprig's parameter type: a plain map, even for `.Values`.
                Ok(Value::Map(d.as_plain()))
            }
            None => Err("assignment to entry in nil map".into()),
        }
    });
    add(m, "unset", &[MapT, Str], None, |a| {
        if let Some(d) = dict_of(&a[0]) {
            d.remove(a[1].as_str().unwrap_or_default());
            return Ok(Value::Map(d.as_plain()));
        }
        Ok(a[0].clone())
    });
    add(m, "hasKey", &[MapT, Str], None, |a| {
        Ok(Value::Bool(dict_of(&a[0]).is_some_and(|d| {
            d.contains_key(a[1].as_str().unwrap_or_default())
        })))
    });
    add(m, "pluck", &[Str], Some(MapT), |a| {
        let key = a[0].as_str().unwrap_or_default();
        Ok(Value::list(
            a[1..]
                .iter()
                .filter_map(|d| dict_of(d).and_then(|d| d.get(key)))
                .collect(),
        ))
    });
    add(m, "keys", &[], Some(MapT), |a| {
        let mut k = Vec::new();
        for d in a {
            if let Some(d) = dict_of(d) {
                k.extend(d.keys());
            }
        }
        Ok(Value::strings(k))
    });
    add(m, "values", &[MapT], None, |a| {
        Ok(Value::list(
            dict_of(&a[0])
                .map(|d| d.snapshot().into_values().collect())
                .unwrap_or_default(),
        ))
    });
    add(m, "pick", &[MapT], Some(Str), |a| {
        let src = dict_of(&a[0]).map(|d| d.snapshot()).unwrap_or_default();
        let mut out = Map::new();
        for k in &a[1..] {
            let k = k.as_str().unwrap_or_default();
            if let Some(v) = src.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
        Ok(Value::map(out))
    });
    add(m, "omit", &[MapT], Some(Str), |a| {
        let mut src = dict_of(&a[0]).map(|d| d.snapshot()).unwrap_or_default();
        for k in &a[1..] {
            src.remove(k.as_str().unwrap_or_default());
        }
        Ok(Value::map(src))
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        let body = if overwrite {
            merge_overwrite
        } else {
            merge_plain
        };
        add(m, name, &[MapT], Some(MapT), body);
    }
    add(m, "dig", &[], Some(Any), |a| {
        if a.len() < 3 {
            return Err("dig needs at least three arguments".into());
        }
        // Sprig asserts the plain map type, which Helm's `.Values` (common.Values) is not.
        let Some(dict) = a[a.len() - 1]
            .as_dict()
            .filter(|d| !d.is_helm_values())
            .cloned()
        else {
            return Err(format!(
                "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                dynamic_type(&a[a.len() - 1])
            ));
        };
        let default = a[a.len() - 2].clone();
        let mut cur = dict;
        let keys = &a[..a.len() - 2];
        for (n, k) in keys.iter().enumerate() {
            let Some(k) = k.as_str() else {
                return Err(format!(
                    "interface conversion: interface {{}} is {}, not string",
                    dynamic_type(k)
                ));
            };
            let Some(step) = cur.get(k) else {
                return Ok(default);
            };
            if n == keys.len() - 1 {
                return Ok(step);
            }
            match step {
                Value::Map(d) if !d.is_helm_values() => cur = d,
                other => {
                    return Err(format!(
                        "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                        dynamic_type(&other)
                    ));
                }
            }
        }
        Ok(default)
    });

    for name in ["append", "push", "mustAppend", "mustPush"] {
        add(m, name, &[Any, Any], None, |a| {
            let mut l = list_of(&a[0], "push")?;
            l.push(a[1].clone());
            Ok(Value::list(l))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        add(m, name, &[Any, Any], None, |a| {
            let mut l = list_of(&a[0], "prepend")?;
            l.insert(0, a[1].clone());
            Ok(Value::list(l))
        });
    }
    for name in ["first", "mustFirst"] {
        add(m, name, &[Any], None, |a| {
            Ok(list_of(&a[0], "find first")?
                .first()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["last", "mustLast"] {
        add(m, name, &[Any], None, |a| {
            Ok(list_of(&a[0], "find last")?
                .last()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["rest", "mustRest"] {
        add(m, name, &[Any], None, |a| {
            let l = list_of(&a[0], "find rest")?;
            Ok(if l.is_empty() {
                // Sprig returns a nil []interface{}: prints as [], serialises as null.
                Value::nil_list()
            } else {
                Value::list(l[1..].to_vec())
            })
        });
    }
    for name in ["initial", "mustInitial"] {
        add(m, name, &[Any], None, |a| {
            let l = list_of(&a[0], "find initial")?;
            Ok(if l.is_empty() {
                Value::nil_list()
            } else {
                Value::list(l[..l.len() - 1].to_vec())
            })
        });
    }
    for name in ["reverse", "mustReverse"] {
        add(m, name, &[Any], None, |a| {
            let mut l = list_of(&a[0], "find reverse")?;
            l.reverse();
            Ok(Value::list(l))
        });
    }
    for name in ["uniq", "mustUniq"] {
        add(m, name, &[Any], None, |a| {
            let mut out: Vec<Value> = Vec::new();
            for x in list_of(&a[0], "find uniq")? {
                if !deep_equal_in(&out, &x) {
                    out.push(x);
                }
            }
            Ok(Value::list(out))
        });
    }
    for name in ["compact", "mustCompact"] {
        add(m, name, &[Any], None, |a| {
            Ok(Value::list(
                list_of(&a[0], "compact")?
                    .into_iter()
                    .filter(|x| !empty(x))
                    .collect(),
            ))
        });
    }
    for name in ["without", "mustWithout"] {
        add(m, name, &[Any], Some(Any), |a| {
            let omit = &a[1..];
            Ok(Value::list(
                list_of(&a[0], "find without")?
                    .into_iter()
                    .filter(|x| !deep_equal_in(omit, x))
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        add(m, name, &[Any, Any], None, |a| {
            if a[1].is_nil() {
                return Ok(Value::Bool(false));
            }
            Ok(Value::Bool(deep_equal_in(
                &list_of(&a[1], "find has")?,
                &a[0],
            )))
        });
    }
    for name in ["slice", "mustSlice"] {
        add(m, name, &[Any], Some(Any), |a| {
            // Sprig's own wording (Helm's `slice` is Sprig's, not text/template's).
            let not_a_list =
                !matches!(a[0], Value::Nil | Value::Bytes(_)) && a[0].to_list().is_none();
            if not_a_list {
                return Err(format!(
                    "list should be type of slice or array but {}",
                    kind_of(&a[0])
                ));
            }
            let l = list_of(&a[0], "slice")?;
            if l.is_empty() {
                return Ok(Value::Nil);
            }
            let start = a.get(1).map(to_int64).unwrap_or(0);
            let end = if a.len() < 3 {
                l.len() as i64
            } else {
                to_int64(&a[2])
            };
            if start < 0 || end < start || end > l.len() as i64 {
                return Err("reflect.Value.Slice: slice index out of bounds".into());
            }
            let part = l[start as usize..end as usize].to_vec();
            Ok(match &a[0] {
                // reflect's Slice keeps the slice's Go type (a common.VersionSet stays one).
                Value::Strings(s) => Value::Strings(rudder_value::StringSlice::new(
                    part.iter().map(strval).collect(),
                    s.go_type(),
                )),
                Value::Ints(_) => Value::Ints(Arc::new(part.iter().map(to_int64).collect())),
                _ => Value::list(part),
            })
        });
    }
    add(m, "concat", &[], Some(Any), |a| {
        let mut out = Vec::new();
        for l in a {
            match l.to_list() {
                Some(items) => out.extend(items.iter().cloned()),
                // Sprig asks reflect for the kind of a nil interface, which panics.
                None if matches!(l, Value::Nil) => {
                    return Err(
                        "runtime error: invalid memory address or nil pointer dereference".into(),
                    )
                }
                None => return Err(format!("Cannot concat type {} as list", kind_of(l))),
            }
        }
        // Sprig appends to a nil slice: nothing appended leaves it nil.
        Ok(if out.is_empty() {
            Value::nil_list()
        } else {
            Value::list(out)
        })
    });
    for name in ["chunk", "mustChunk"] {
        add(m, name, &[Int, Any], None, |a| {
            let size = to_int64(&a[0]);
            let l = match &a[1] {
                Value::Nil => list_of(&a[1], "chunk")?,
                v if v.to_list().is_none() && !matches!(v, Value::Bytes(_)) => {
                    return Err(format!("Cannot chunk type {}", kind_of(v)));
                }
                v => list_of(v, "chunk")?,
            };
            // Sprig's float arithmetic, and Go's conversion of an infinite or NaN float to
            // int (the smallest int64) when the size is 0.
            let go_int = |f: f64| if f.is_finite() { f as i64 } else { i64::MIN };
            let len = l.len() as i64;
            let count = go_int(((len - 1) as f64 / size as f64).floor()).wrapping_add(1);
            let bad = || Err("runtime error: makeslice: len out of range".to_string());
            if count < 0 {
                return bad();
            }
            let mut out = Vec::new();
            for i in 0..count {
                let mut clen = size;
                if i == count - 1 {
                    clen = go_int((len as f64 % size as f64).floor());
                    if clen == 0 {
                        clen = size;
                    }
                }
                if clen < 0 {
                    return bad();
                }
                let from = (i * size) as usize;
                let part: Vec<Value> = (0..clen as usize)
                    .map(|j| l.get(from + j).cloned().unwrap_or_default())
                    .collect();
                out.push(Value::list(part));
            }
            Ok(Value::list(out))
        });
    }
    add(m, "sortAlpha", &[Any], None, |a| {
        if a[0].to_list().is_none() {
            return Ok(Value::strings(vec![strval(&a[0])]));
        }
        if a[0].is_nil_slice() && matches!(a[0], Value::Strings(_)) {
            // Sprig sorts a []string in place and returns it: a nil one stays nil.
            return Ok(a[0].clone());
        }
        let mut s = strslice(&a[0]);
        s.sort();
        Ok(Value::strings(s))
    });
    add(m, "until", &[Int], None, |a| {
        let n = to_int64(&a[0]);
        Ok(Value::Ints(Arc::new(until_step(
            0,
            n,
            if n < 0 { -1 } else { 1 },
        ))))
    });
    add(m, "untilStep", &[Int, Int, Int], None, |a| {
        Ok(Value::Ints(Arc::new(until_step(
            to_int64(&a[0]),
            to_int64(&a[1]),
            to_int64(&a[2]),
        ))))
    });
}

fn merge_impl(a: &[Value], overwrite: bool) -> Result<Value, String> {
    let Some(dst) = dict_of(&a[0]) else {
        return Ok(a[0].clone());
    };
    for src in &a[1..] {
        if let Some(s) = dict_of(src) {
            if s.ptr_eq(dst) {
                continue;
            }
            let snapshot = s.snapshot();
            merge_into(dst, &snapshot, overwrite);
        }
    }
    Ok(Value::Map(dst.as_plain()))
}

fn merge_plain(a: &[Value]) -> Result<Value, String> {
    merge_impl(a, false)
}

fn merge_overwrite(a: &[Value]) -> Result<Value, String> {
    merge_impl(a, true)
}
