//! Go's `text/template` for rudder: lexer and parser ([`parse`]), evaluator ([`exec`]) over
//! [`rudder_value::Value`]. Functions are injected through [`FuncMap`]; this crate knows
//! nothing of Helm, Sprig or YAML.
//!
//! ```
//! use rudder_gotmpl::{ExecOptions, FuncMap, Templates};
//! use rudder_value::Value;
//! let mut set = Templates::new();
//! set.parse("t", "{{ range . }}{{ . }},{{ end }}", &FuncMap::new()).unwrap();
//! let out = set.execute("t", &Value::list(vec![Value::Int(1), Value::Int(2)]), &FuncMap::new(), &ExecOptions::default());
//! assert_eq!(out.unwrap(), "1,2,");
//! ```

#![forbid(unsafe_code)]

pub mod exec;
pub mod func;
pub mod parse;

pub use exec::{Error, ExecError, ExecOptions, MissingKey, ParsedText, Templates};
pub use func::{FuncBody, FuncMap, Function, ParamType, Runtime, Signature};
pub use parse::ParseError;
