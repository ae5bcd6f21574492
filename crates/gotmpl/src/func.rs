//! The interface between the template engine and the functions injected into it.
//!
//! Go's `text/template` calls functions by reflection, converting each argument to the Go
//! type of the parameter and failing with Go's messages when it can't (`wrong type for
//! value; expected string; got int`, `invalid value; expected string`, `expected integer;
//! found 3.5`). A [`Function`] therefore declares its parameter types in a [`Signature`]:
//! the evaluator does the conversion and the checking, and the function body receives
//! arguments that already have the declared Go types.

/// Function names are looked up for every identifier parsed and every call executed: a fast
/// hasher (randomly seeded, as the standard one).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::Arc;

use rudder_value::Value;

use crate::exec::ParsedText;

pub use rudder_value::ParamType;

/// A function's parameter list: fixed parameters, then optionally a variadic tail.
#[derive(Clone, Debug)]
pub struct Signature {
    pub params: Vec<ParamType>,
    pub variadic: Option<ParamType>,
}

impl Signature {
    pub fn new(params: &[ParamType]) -> Signature {
        Signature {
            params: params.to_vec(),
            variadic: None,
        }
    }

    pub fn variadic(params: &[ParamType], rest: ParamType) -> Signature {
        Signature {
            params: params.to_vec(),
            variadic: Some(rest),
        }
    }
}

/// What a function may ask of the template run that called it: the primitives Helm builds
/// `include` and `tpl` on.
pub trait Runtime {
    /// Executes the named template of the current template set with `data` as dot
    /// (`ExecuteTemplate`), giving its output as a string value. The error is the full text
    /// of Go's error.
    fn execute_named(&mut self, name: &str, data: &Value) -> Result<Value, String>;
    /// Parses `text` as a template called `name`, as Go's `t.New(name).Parse(text)` on a copy
    /// of the current template set would (Go's error text if it does not parse).
    fn parse_text(&self, name: &str, text: &str) -> Result<ParsedText, String>;
    /// Executes a parsed text with `data` as dot in a copy of the current template set that
    /// has the text's definitions (they stay in the copy). The error is Go's text.
    fn execute_parsed(&mut self, text: &ParsedText, data: &Value) -> Result<String, String>;
    /// The name of the template being executed (Go's `Template.Name()` of the executing
    /// template).
    fn template_name(&self) -> &str;
}

/// The body of a function: receives the runtime and the converted arguments. An `Err` is
/// reported by the evaluator as Go reports a function's error: `error calling NAME: TEXT`.
pub type FuncBody = dyn Fn(&mut dyn Runtime, &[Value]) -> Result<Value, String> + Send + Sync;

/// A function that templates can call.
#[derive(Clone)]
pub struct Function {
    pub sig: Signature,
    pub body: Arc<FuncBody>,
}

impl Function {
    pub fn new(
        sig: Signature,
        body: impl Fn(&mut dyn Runtime, &[Value]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Function {
        Function {
            sig,
            body: Arc::new(body),
        }
    }
}

/// Functions by name (Go's `template.FuncMap`). Later insertions replace earlier ones.
#[derive(Clone, Default)]
pub struct FuncMap {
    funcs: HashMap<String, Function>,
}

impl FuncMap {
    pub fn new() -> FuncMap {
        FuncMap::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, f: Function) {
        self.funcs.insert(name.into(), f);
    }

    pub fn remove(&mut self, name: &str) -> Option<Function> {
        self.funcs.remove(name)
    }

    pub fn get(&self, name: &str) -> Option<&Function> {
        self.funcs.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    pub fn extend(&mut self, other: &FuncMap) {
        for (k, v) in &other.funcs {
            self.funcs.insert(k.clone(), v.clone());
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.funcs.keys().map(String::as_str)
    }
}
