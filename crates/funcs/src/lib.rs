//! The functions Helm v4.2.3 gives templates: Sprig v3.3.0's `TxtFuncMap` (minus `env` and
//! `expandenv`) and Helm's own pure functions (`toYaml`, `fromJson`, ...). The functions bound
//! to a render (`include`, `tpl`, `required`, `fail`, `lookup`) live in the engine.
//!
//! Each function declares its Go parameter types so the template engine converts and checks
//! arguments as Go does; results carry the Go type Sprig returns (`int64` from arithmetic,
//! `[]string` from `splitList`, ...). Where Sprig panics, the error text is the panic's.

use rudder_gotmpl::{FuncMap, Function, ParamType, Runtime, Signature};
use rudder_value::Value;

mod collections;
mod convert;
mod crypto;
mod gourl;
mod helm;
mod other;
mod strings;
mod toml_fmt;

pub use convert::{strval, to_float64, to_int64};

/// Shorthand for a function body that ignores the runtime.
pub(crate) type Body = fn(&[Value]) -> Result<Value, String>;

pub(crate) fn add(
    map: &mut FuncMap,
    name: &str,
    params: &[ParamType],
    variadic: Option<ParamType>,
    body: Body,
) {
    let sig = match variadic {
        Some(v) => Signature::variadic(params, v),
        None => Signature::new(params),
    };
    map.insert(
        name,
        Function::new(sig, move |_rt: &mut dyn Runtime, args: &[Value]| body(args)),
    );
}

/// Sprig's functions as Helm registers them (no `env`, no `expandenv`).
pub fn sprig() -> FuncMap {
    let mut m = FuncMap::new();
    strings::register(&mut m);
    collections::register(&mut m);
    convert::register(&mut m);
    other::register(&mut m);
    crypto::register(&mut m);
    crypto::register_more(&mut m);
    m
}

/// Helm's own pure functions (`toYaml`, `fromYaml`, `toJson`, ...).
pub fn helm() -> FuncMap {
    let mut m = FuncMap::new();
    helm::register(&mut m);
    m
}

/// Everything, with Helm's functions overriding Sprig's of the same name.
pub fn all() -> FuncMap {
    let mut m = sprig();
    m.extend(&helm());
    m
}
