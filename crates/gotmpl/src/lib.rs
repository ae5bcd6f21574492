//! Go's `text/template` for rudder: lexer, parser and evaluator over [`rudder_value::Value`].
//! Functions are injected through [`FuncMap`]; this crate knows nothing of Helm, Sprig or
//! YAML. (Skeleton: being filled in.)

pub mod func;

pub use func::{FuncBody, FuncMap, Function, ParamType, Runtime, Signature, TextError};
