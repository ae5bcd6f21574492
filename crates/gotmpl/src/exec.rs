//! Executing parsed templates (Go's `text/template/exec.go`); the built-in functions are in
//! `funcs` (Go's `funcs.go`).
//!
//! Go distinguishes an *invalid* `reflect.Value` (no value at all: what a pipeline yields for
//! a nil interface, an unset variable, the dot of `{{template "x"}}`) from a *nil interface*
//! (what a map lookup or a slice element of type `interface{}` gives). They print the same
//! (`<no value>`) but fail differently when passed to typed function parameters, and only the
//! nil interface fails a field access (`nil pointer evaluating interface {}.x`). Here a
//! [`Val`] is `Option<Value>`: `None` is the invalid value, `Some(Value::Nil)` the nil
//! interface.

/// Template names are looked up on every `template` and `include` call: a fast hasher.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::fmt;
use std::sync::Arc;

use rudder_value::{gofmt, Value};

mod funcs;

use funcs::{container_data, truth};

use crate::func::{FuncMap, ParamType, Runtime};
use crate::parse::{
    self, Arg, ArgKind, Branch, Command, List, Node, Number, ParseError, Pipe, Tree,
};

type Val = Option<Value>;

/// What happens when a map has no entry for a field name (Go's `missingkey` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// The invalid value ("no value").
    #[default]
    Default,
    /// The zero value of the map's element type.
    Zero,
    /// An error.
    Error,
}

/// Execution options.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    pub missing_key: MissingKey,
    /// Go's `maxExecDepth` for nested `template` calls.
    pub max_depth: usize,
    /// The name Go reports for the template set in `no template %q associated with template
    /// %q` (Helm's root template is called `gotpl`).
    pub set_name: String,
}

impl Default for ExecOptions {
    fn default() -> ExecOptions {
        ExecOptions {
            missing_key: MissingKey::Default,
            max_depth: 100_000,
            set_name: "gotpl".into(),
        }
    }
}

/// A text parsed by [`Runtime::parse_text`] (Helm's `tpl`): its own tree and its
/// definitions, to be executed, as often as wanted, by [`Runtime::execute_parsed`] in the
/// template set it was parsed for.
#[derive(Clone)]
pub struct ParsedText {
    main: Arc<Tree>,
    defines: Arc<[Arc<Tree>]>,
}

/// An execution failure, worded as Go words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecError {
    pub message: String,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExecError {}

/// Either failure of [`Templates`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    Parse(ParseError),
    Exec(ExecError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(e) => e.fmt(f),
            Error::Exec(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

/// A set of named templates sharing `define`s (Go's `*template.Template` and its common
/// map). Cloning is cheap: trees are shared.
#[derive(Clone, Default)]
pub struct Templates {
    trees: HashMap<Arc<str>, Arc<Tree>>,
}

/// How deep Rust recursion may go across `template` calls and function calls back into the
/// engine (`include`, `tpl`): a guard for the process stack, below Go's own limits.
const MAX_NESTING: usize = 20_000;

impl Templates {
    pub fn new() -> Templates {
        Templates::default()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.trees.keys().map(|name| &**name)
    }

    /// Parses `text` as the template `name` and adds it and its `define`s to the set, as Go's
    /// `t.New(name).Parse(text)` does: a definition replaces an earlier one of the same name
    /// unless its body is empty.
    pub fn parse(&mut self, name: &str, text: &str, funcs: &FuncMap) -> Result<(), ParseError> {
        self.parse_all(&[(name, text)], funcs).map_err(|(_, e)| e)
    }

    /// Parses several files as [`Templates::parse`] would one after the other, in that order:
    /// the same definitions win and the first failing file (in order) is the error, with its
    /// index.
    ///
    /// On one thread: parsing is mostly allocation, and the `rudder` binary's one malloc arena
    /// serves every thread under one lock, so two parsing threads took longer than one
    /// (Milvus's 560 KB of templates: 4.1-6.8 ms against 4.0; paired whole renders on two
    /// cores, one thread against two: -2% to -9% wall and -2% to -20% CPU on Milvus, kafka,
    /// grafana-loki and prometheus). An arena per thread was slower still (page faults of
    /// heaps grown page by page).
    pub fn parse_all(
        &mut self,
        files: &[(&str, &str)],
        funcs: &FuncMap,
    ) -> Result<(), (usize, ParseError)> {
        let parsed = Templates::parse_files(files, funcs)?;
        self.add_parsed(parsed);
        Ok(())
    }

    /// The parses [`Templates::parse_all`] makes of `files`, not yet added to a set: for
    /// [`Templates::add_parsed`], and for keeping ([`crate::parse::codec`]).
    pub fn parse_files(
        files: &[(&str, &str)],
        funcs: &FuncMap,
    ) -> Result<Vec<crate::parse::Parsed>, (usize, ParseError)> {
        files
            .iter()
            .enumerate()
            .map(|(i, &(name, text))| parse_knowing(name, text, funcs).map_err(|e| (i, e)))
            .collect()
    }

    /// Adds the parses of files, in their order, as [`Templates::parse_all`] adds them.
    pub fn add_parsed(&mut self, parsed: Vec<crate::parse::Parsed>) {
        for parsed in parsed {
            self.associate(Arc::new(parsed.main), None);
            for tree in parsed.defines {
                self.associate(Arc::new(tree), None);
            }
        }
    }

    /// Adds a tree, unless it is empty and its name is already defined (here or, for a
    /// layer, below it): Go keeps the earlier, non-empty definition then.
    fn associate(&mut self, tree: Arc<Tree>, outer: Option<&Scope<'_>>) {
        let defined = self.trees.contains_key(&tree.name)
            || outer.is_some_and(|outer| outer.get(&tree.name).is_some());
        if tree.is_empty() && defined {
            return;
        }
        self.trees.insert(tree.name.clone(), tree);
    }

    /// Executes the named template with `data` as dot (Go's `ExecuteTemplate`).
    pub fn execute(
        &self,
        name: &str,
        data: &Value,
        funcs: &FuncMap,
        opts: &ExecOptions,
    ) -> Result<String, ExecError> {
        let scope = Scope::root(self);
        let tree = scope.get(name).ok_or_else(|| no_template(name, opts))?;
        scope.execute_tree(tree, data, funcs, opts, 0)
    }
}

/// `text` parsed as the template `name`, where a function is defined when `funcs` or the
/// builtins have it (Go's parser refuses a call to any other).
fn parse_knowing(name: &str, text: &str, funcs: &FuncMap) -> Result<parse::Parsed, ParseError> {
    let builtins = parse::builtin_names();
    parse::parse(name, text, &|n: &str| {
        funcs.contains(n) || builtins.contains(n)
    })
}

/// Go's error for executing a template the set does not have.
fn no_template(name: &str, opts: &ExecOptions) -> ExecError {
    ExecError {
        message: format!(
            "template: no template {} associated with template {}",
            gofmt::quote(name),
            gofmt::quote(&opts.set_name)
        ),
    }
}

/// The templates visible to an execution: a set, and the sets it was layered on. `tpl` parses
/// its text into a fresh layer over the caller's templates, so its `define`s are seen only
/// while it runs, as in Go's clone of the set, without copying the whole set on every call.
#[derive(Clone, Copy)]
struct Scope<'a> {
    own: &'a Templates,
    outer: Option<&'a Scope<'a>>,
}

impl<'a> Scope<'a> {
    fn root(set: &'a Templates) -> Scope<'a> {
        Scope {
            own: set,
            outer: None,
        }
    }

    fn get(&self, name: &str) -> Option<&'a Arc<Tree>> {
        match self.own.trees.get(name) {
            Some(tree) => Some(tree),
            None => self.outer.and_then(|outer| outer.get(name)),
        }
    }

    /// Executes `tree` on its own (a new Go `state`): dot and `$` are `data`.
    fn execute_tree(
        &self,
        tree: &'a Tree,
        data: &Value,
        funcs: &'a FuncMap,
        opts: &'a ExecOptions,
        nesting: usize,
    ) -> Result<String, ExecError> {
        let dot = match data {
            Value::Nil => None,
            v => Some(v.clone()),
        };
        let mut state = State {
            set: *self,
            funcs,
            opts,
            tree,
            vars: vec![("$", dot.clone())],
            vars_base: 0,
            depth: 0,
            nesting,
            out: String::new(),
            arg_vecs: Vec::new(),
        };
        state.walk_list(&dot, &tree.root)?;
        Ok(state.out)
    }
}

/// Control flow out of a list.
enum Flow {
    Normal,
    Break,
    Continue,
}

/// A function argument not yet supplied (`missingVal` in Go): the value piped in, if any.
#[derive(Clone)]
enum Final {
    Missing,
    Val(Val),
}

/// One execution (Go's `state`). A `template` call or an `include` runs on the same state,
/// with its own frame of variables (from `vars_base` on) and its own tree: no allocation per
/// call. Variable names point into the trees, which outlive the execution.
struct State<'a> {
    set: Scope<'a>,
    funcs: &'a FuncMap,
    opts: &'a ExecOptions,
    tree: &'a Tree,
    vars: Vec<(&'a str, Val)>,
    /// Where the variables of the template being executed start.
    vars_base: usize,
    depth: usize,
    nesting: usize,
    out: String,
    /// Argument vectors of finished function calls, kept for the next calls.
    arg_vecs: Vec<Vec<Value>>,
}

type R<T> = Result<T, ExecError>;

/// The node Go's evaluator last pointed its error location at (`state.at`) after evaluating
/// `node`: errors in the fields of a chain `(pipeline).a.b` are reported there, not at the
/// chain (e.g. `(index .Values "x").y` fails `at <"x">`). Short-circuiting `and`/`or` are
/// taken as having evaluated all their operands.
fn last_visited(node: &Arg) -> &Arg {
    match &node.kind {
        ArgKind::Pipe(p) => match p.cmds.last() {
            Some(cmd) => match cmd.args.as_slice() {
                [only] => last_visited(only),
                [_, .., last] => last_visited(last),
                [] => node,
            },
            None => node,
        },
        ArgKind::Chain(inner, _) => last_visited(inner),
        _ => node,
    }
}

impl<'a> State<'a> {
    fn err(&self, pos: usize, context: &dyn fmt::Display, message: impl Into<String>) -> ExecError {
        // Go 1.26 no longer truncates the node text.
        let ctx = context.to_string();
        ExecError {
            message: format!(
                "template: {}: executing {} at <{}>: {}",
                self.tree.location(pos),
                gofmt::quote(&self.tree.name),
                ctx,
                message.into()
            ),
        }
    }

    fn var(&self, name: &str) -> Val {
        self.vars[self.vars_base..]
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
    }

    fn set_var(&mut self, name: &str, value: Val) {
        if let Some(slot) = self.vars[self.vars_base..]
            .iter_mut()
            .rev()
            .find(|(n, _)| *n == name)
        {
            slot.1 = value;
        }
    }

    fn walk_list(&mut self, dot: &Val, list: &'a List) -> R<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val, node: &'a Node) -> R<Flow> {
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Action { pos, pipe, .. } => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print_value(*pos, node, &v)?;
                }
            }
            Node::If(b) => return self.walk_if_or_with(dot, b, false),
            Node::With(b) => return self.walk_if_or_with(dot, b, true),
            Node::Range(b) => return self.walk_range(dot, b),
            Node::Template {
                pos, name, pipe, ..
            } => self.walk_template(dot, *pos, node, name, pipe.as_ref())?,
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn print_value(&mut self, pos: usize, node: &Node, v: &Val) -> R<()> {
        match v {
            None => self.out.push_str("<no value>"),
            Some(Value::Object(o)) if o.kind() == rudder_value::Kind::Func => {
                return Err(self.err(
                    pos,
                    node,
                    format!("can't print {node} of type {}", o.type_name()),
                ));
            }
            Some(Value::Object(o)) => o.fmt_printed(&mut self.out),
            Some(v) => gofmt::write_v(&mut self.out, v),
        }
        Ok(())
    }

    fn walk_if_or_with(&mut self, dot: &Val, b: &'a Branch, is_with: bool) -> R<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let result = if truth(&val) {
            if is_with {
                self.walk_list(&val, &b.list)
            } else {
                self.walk_list(dot, &b.list)
            }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)
        } else {
            Ok(Flow::Normal)
        };
        self.vars.truncate(mark);
        result
    }

    fn walk_range(&mut self, dot: &Val, b: &'a Branch) -> R<Flow> {
        let outer = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let mark = self.vars.len();
        let decl = &b.pipe.decl;
        let mut counted = None;
        let listed: Vec<(Value, Val)> = match &val {
            None => Vec::new(),
            Some(Value::List(l)) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), Some(v.clone())))
                .collect(),
            Some(Value::Strings(l)) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), Some(Value::str(v))))
                .collect(),
            Some(Value::Ints(l)) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), Some(Value::Int(*v))))
                .collect(),
            Some(Value::Bytes(l)) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), Some(Value::Int(*v as i64))))
                .collect(),
            Some(Value::Map(m)) => m
                .read()
                .iter()
                .map(|(k, v)| (Value::str(k), Some(v.clone())))
                .collect(),
            Some(Value::StrMap(m)) => m
                .iter()
                .map(|(k, v)| (Value::str(k), Some(Value::str(v))))
                .collect(),
            Some(Value::Int(n)) | Some(Value::Int64(n)) => {
                if decl.len() > 1 {
                    return Err(self.err(
                        b.pos,
                        &b.pipe,
                        format!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                // Counted as it goes: `range 9223372036854775807` runs (until a `break`)
                // as in Go instead of first building a list nobody can hold.
                let int = matches!(val, Some(Value::Int(_)));
                let make = move |i: i64| if int { Value::Int(i) } else { Value::Int64(i) };
                counted = Some((0..(*n).max(0)).map(move |i| (make(i), Some(make(i)))));
                Vec::new()
            }
            Some(Value::Object(o)) if container_data(o.as_ref()).is_some() => {
                let data = container_data(o.as_ref()).expect("checked");
                match data {
                    Value::Map(m) => m
                        .read()
                        .iter()
                        .map(|(k, v)| (Value::str(k), Some(v.clone())))
                        .collect(),
                    other => other
                        .to_list()
                        .map(|l| {
                            l.iter()
                                .enumerate()
                                .map(|(i, v)| (Value::Int(i as i64), Some(v.clone())))
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            }
            Some(Value::Nil) => Vec::new(),
            Some(other) => {
                // Go reports the last node the pipeline evaluated.
                let last = b.pipe.cmds.last().and_then(|c| c.args.last());
                let (pos, ctx): (usize, &dyn fmt::Display) = match last {
                    Some(a) => (a.pos, a),
                    None => (b.pos, &b.pipe),
                };
                return Err(self.err(
                    pos,
                    ctx,
                    format!("range can't iterate over {}", other.to_go_string()),
                ));
            }
        };
        let mut items: std::iter::Peekable<Box<dyn Iterator<Item = (Value, Val)>>> = match counted {
            Some(counted) => (Box::new(counted) as Box<dyn Iterator<Item = _>>).peekable(),
            None => (Box::new(listed.into_iter()) as Box<dyn Iterator<Item = _>>).peekable(),
        };
        if items.peek().is_none() {
            let r = match &b.else_list {
                Some(e) => self.walk_list(dot, e),
                None => Ok(Flow::Normal),
            };
            self.vars.truncate(outer);
            return r.map(|_| Flow::Normal);
        }
        for (index, elem) in items {
            if !decl.is_empty() {
                if b.pipe.is_assign {
                    if decl.len() > 1 {
                        self.set_var(&decl[0], Some(index.clone()));
                        self.set_var(&decl[1], elem.clone());
                    } else {
                        self.set_var(&decl[0], elem.clone());
                    }
                } else {
                    let n = self.vars.len();
                    self.vars[n - 1].1 = elem.clone();
                    if decl.len() > 1 {
                        self.vars[n - 2].1 = Some(index.clone());
                    }
                }
            }
            let flow = self.walk_list(&elem, &b.list);
            self.vars.truncate(mark);
            match flow? {
                Flow::Break => break,
                Flow::Continue | Flow::Normal => {}
            }
        }
        self.vars.truncate(outer);
        Ok(Flow::Normal)
    }

    fn walk_template(
        &mut self,
        dot: &Val,
        pos: usize,
        node: &Node,
        name: &str,
        pipe: Option<&'a Pipe>,
    ) -> R<()> {
        let Some(tree) = self.set.get(name) else {
            return Err(self.err(
                pos,
                node,
                format!("template {} not defined", gofmt::quote(name)),
            ));
        };
        if self.depth >= self.opts.max_depth {
            return Err(self.err(
                pos,
                node,
                format!("exceeded maximum template depth ({})", self.opts.max_depth),
            ));
        }
        if self.nesting >= MAX_NESTING {
            return Err(self.err(
                pos,
                node,
                format!("exceeded maximum template depth ({MAX_NESTING})"),
            ));
        }
        // Variables declared by the pipeline persist in the caller.
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => None,
        };
        self.depth += 1;
        let r = self.run_nested(tree, new_dot);
        self.depth -= 1;
        r
    }

    /// Runs `tree` in this state as a template call does: its own tree, and a frame of
    /// variables holding only `$`, which is `dot`.
    fn run_nested(&mut self, tree: &'a Tree, dot: Val) -> R<()> {
        let saved_tree = std::mem::replace(&mut self.tree, tree);
        let saved_base = std::mem::replace(&mut self.vars_base, self.vars.len());
        self.vars.push(("$", dot.clone()));
        self.nesting += 1;
        let r = self.walk_list(&dot, &tree.root);
        self.nesting -= 1;
        self.vars.truncate(self.vars_base);
        self.vars_base = saved_base;
        self.tree = saved_tree;
        r.map(|_| ())
    }

    fn eval_pipeline(&mut self, dot: &Val, pipe: &'a Pipe) -> R<Val> {
        let mut value = Final::Missing;
        for cmd in &pipe.cmds {
            let mut v = self.eval_command(dot, cmd, value)?;
            // A nil interface{} result becomes "no value" (Go digs into interfaces here).
            if matches!(v, Some(Value::Nil)) {
                v = None;
            }
            value = Final::Val(v);
        }
        let value = match value {
            Final::Val(v) => v,
            Final::Missing => None,
        };
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone());
            } else {
                self.vars.push((name, value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Command, final_: &Final) -> R<()> {
        if cmd.args.len() > 1 || !matches!(final_, Final::Missing) {
            return Err(self.err(
                cmd.args[0].pos,
                &cmd.args[0],
                format!("can't give argument to non-function {}", cmd.args[0]),
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val, cmd: &'a Command, final_: Final) -> R<Val> {
        let first = &cmd.args[0];
        match &first.kind {
            ArgKind::Field(idents) => {
                return self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, final_)
            }
            ArgKind::Chain(node, fields) => {
                if matches!(node.kind, ArgKind::Nil) {
                    return Err(self.err(
                        first.pos,
                        first,
                        format!("indirection through explicit nil in {first}"),
                    ));
                }
                let receiver = self.eval_arg_untyped(dot, node)?;
                let at = last_visited(node);
                return self.eval_field_chain(dot, receiver, at, fields, &cmd.args, final_);
            }
            ArgKind::Identifier(name) => {
                return self.eval_function(dot, first, name, (cmd.pos, cmd), &cmd.args[1..], final_)
            }
            ArgKind::Pipe(p) => {
                self.not_a_function(cmd, &final_)?;
                return self.eval_pipeline(dot, p);
            }
            ArgKind::Variable(name, fields) => {
                let value = self.var(name);
                if fields.is_empty() {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(value);
                }
                return self.eval_field_chain(dot, value, first, fields, &cmd.args, final_);
            }
            _ => {}
        }
        self.not_a_function(cmd, &final_)?;
        match &first.kind {
            ArgKind::Bool(b) => Ok(Some(Value::Bool(*b))),
            ArgKind::Dot => Ok(dot.clone()),
            ArgKind::Nil => Err(self.err(first.pos, first, "nil is not a command")),
            ArgKind::Number(n) => self.ideal_constant(first, n).map(Some),
            ArgKind::String(_, s) => Ok(Some(Value::String(s.clone()))),
            _ => Err(self.err(first.pos, first, format!("can't evaluate command {first}"))),
        }
    }

    fn ideal_constant(&self, node: &Arg, n: &Number) -> R<Value> {
        let text = &n.text;
        let is_hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let is_rune = text.starts_with('\'');
        if n.is_float && !is_hex_int && !is_rune && text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_uint {
            return Err(self.err(node.pos, node, format!("{text} overflows int")));
        }
        Ok(Value::Nil)
    }

    /// `evalArg` with no target type: the operand's value as is.
    fn eval_arg_untyped(&mut self, dot: &Val, node: &'a Arg) -> R<Val> {
        match &node.kind {
            ArgKind::Dot => Ok(dot.clone()),
            ArgKind::Nil => Err(self.err(node.pos, node, "cannot assign nil to <nil>")),
            ArgKind::Field(idents) => self.eval_field_chain(
                dot,
                dot.clone(),
                node,
                idents,
                std::slice::from_ref(node),
                Final::Missing,
            ),
            ArgKind::Variable(name, fields) => {
                let v = self.var(name);
                if fields.is_empty() {
                    Ok(v)
                } else {
                    self.eval_field_chain(
                        dot,
                        v,
                        node,
                        fields,
                        std::slice::from_ref(node),
                        Final::Missing,
                    )
                }
            }
            ArgKind::Pipe(p) => self.eval_pipeline(dot, p),
            // A command of its own name alone, which prints as the name does.
            ArgKind::Identifier(name) => {
                self.eval_function(dot, node, name, (node.pos, node), &[], Final::Missing)
            }
            ArgKind::Chain(inner, fields) => {
                let r = self.eval_arg_untyped(dot, inner)?;
                self.eval_field_chain(
                    dot,
                    r,
                    last_visited(inner),
                    fields,
                    std::slice::from_ref(node),
                    Final::Missing,
                )
            }
            ArgKind::Bool(b) => Ok(Some(Value::Bool(*b))),
            ArgKind::Number(n) => self.ideal_constant(node, n).map(Some),
            ArgKind::String(_, s) => Ok(Some(Value::String(s.clone()))),
        }
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val,
        receiver: Val,
        node: &Arg,
        idents: &[crate::parse::Name],
        args: &'a [Arg],
        final_: Final,
    ) -> R<Val> {
        let mut receiver = receiver;
        let n = idents.len();
        for ident in &idents[..n - 1] {
            receiver = self.eval_field(dot, ident, node, &[], Final::Missing, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, final_, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Val,
        name: &str,
        node: &Arg,
        args: &'a [Arg],
        final_: Final,
        receiver: Val,
    ) -> R<Val> {
        let Some(recv) = receiver else {
            if self.opts.missing_key == MissingKey::Error {
                return Err(self.err(
                    node.pos,
                    node,
                    format!("nil data; no entry for key {}", gofmt::quote(name)),
                ));
            }
            return Ok(None);
        };
        let has_args = args.len() > 1 || !matches!(final_, Final::Missing);
        // Go looks a method of the value's type up before a map key.
        if let Some(method) = recv.method(name) {
            let call_args = if args.is_empty() { &[][..] } else { &args[1..] };
            let argv =
                self.eval_call_args(dot, node, name, method.params, None, call_args, final_)?;
            return match (method.call)(&recv, &argv) {
                Ok(v) => Ok(Some(v)),
                Err(e) => Err(self.err(node.pos, node, format!("error calling {name}: {e}"))),
            };
        }
        match &recv {
            Value::Nil => Err(self.err(
                node.pos,
                node,
                format!("nil pointer evaluating interface {{}}.{name}"),
            )),
            Value::Object(o) => {
                if o.has_method(name) {
                    let o = o.clone();
                    let call_args = if args.is_empty() { &[][..] } else { &args[1..] };
                    let argv = match o.method_params(name) {
                        Some(params) => {
                            self.eval_call_args(dot, node, name, params, None, call_args, final_)?
                        }
                        None => {
                            let mut argv = Vec::new();
                            for a in call_args {
                                argv.push(self.eval_arg(dot, ParamType::Any, a)?);
                            }
                            if let Final::Val(v) = final_ {
                                argv.push(v.unwrap_or(Value::Nil));
                            }
                            argv
                        }
                    };
                    return match o.call_method(name, &argv) {
                        Ok(v) => Ok(Some(v)),
                        Err(e) => {
                            Err(self.err(node.pos, node, format!("error calling {name}: {e}")))
                        }
                    };
                }
                match o.field(name) {
                    Some(v) => {
                        if has_args {
                            return Err(self.err(
                                node.pos,
                                node,
                                format!("{name} has arguments but cannot be invoked as function"),
                            ));
                        }
                        Ok(Some(v))
                    }
                    None => Err(self.err(
                        node.pos,
                        node,
                        format!("can't evaluate field {name} in type {}", o.type_name()),
                    )),
                }
            }
            Value::Map(m) => self.map_entry(node, name, has_args, m.get(name), Value::Nil),
            Value::StrMap(m) => self.map_entry(
                node,
                name,
                has_args,
                m.get(name).map(Value::str),
                Value::str(""),
            ),
            other => Err(self.err(
                node.pos,
                node,
                format!("can't evaluate field {name} in type {}", other.type_name()),
            )),
        }
    }

    /// A field of a map: its entry, or what Go's `missingkey` option makes of a missing one
    /// (`zero` is the map's zero value).
    fn map_entry(
        &self,
        node: &Arg,
        name: &str,
        has_args: bool,
        entry: Option<Value>,
        zero: Value,
    ) -> R<Val> {
        if has_args {
            return Err(self.err(
                node.pos,
                node,
                format!("{name} is not a method but has arguments"),
            ));
        }
        match entry {
            Some(v) => Ok(Some(v)),
            None => match self.opts.missing_key {
                MissingKey::Default => Ok(None),
                MissingKey::Zero => Ok(Some(zero)),
                MissingKey::Error => Err(self.err(
                    node.pos,
                    node,
                    format!("map has no entry for key {}", gofmt::quote(name)),
                )),
            },
        }
    }

    /// Go's check of a call's argument count (`evalCall`); `num_in` counts a value piped in,
    /// `given` does not (Go's message for a variadic function names only the written ones).
    fn check_arg_count(
        &self,
        ident: &Arg,
        name: &str,
        given: usize,
        num_in: usize,
        fixed: usize,
        variadic: bool,
    ) -> R<()> {
        if variadic {
            if num_in < fixed {
                return Err(self.err(
                    ident.pos,
                    ident,
                    format!("wrong number of args for {name}: want at least {fixed} got {given}"),
                ));
            }
        } else if num_in != fixed {
            return Err(self.err(
                ident.pos,
                ident,
                format!("wrong number of args for {name}: want {fixed} got {num_in}"),
            ));
        }
        Ok(())
    }

    /// Calls the function `name` with the operands `args` (those after its name) and the
    /// value piped in; `at` is the command, where Go reports the call's own failure.
    fn eval_function(
        &mut self,
        dot: &Val,
        ident: &Arg,
        name: &str,
        at: (usize, &dyn fmt::Display),
        args: &'a [Arg],
        final_: Final,
    ) -> R<Val> {
        // The map outlives the state: no need to copy the signature or the body.
        let funcs: &'a FuncMap = self.funcs;
        if let Some(f) = funcs.get(name) {
            let argv = self.eval_call_args(
                dot,
                ident,
                name,
                &f.sig.params,
                f.sig.variadic,
                args,
                final_,
            )?;
            if self.nesting >= MAX_NESTING {
                return Err(self.err(
                    at.0,
                    at.1,
                    format!(
                        "error calling {name}: exceeded maximum template depth ({MAX_NESTING})"
                    ),
                ));
            }
            self.nesting += 1;
            let r = (f.body)(self, &argv);
            self.nesting -= 1;
            self.recycle(argv);
            return match r {
                Ok(v) => Ok(Some(v)),
                Err(e) => Err(self.err(at.0, at.1, format!("error calling {name}: {e}"))),
            };
        }
        if parse::builtin_names().contains(name) {
            return self.eval_builtin(dot, ident, name, at, args, final_);
        }
        Err(self.err(
            ident.pos,
            ident,
            format!("{} is not a defined function", gofmt::quote(name)),
        ))
    }

    /// Keeps an argument vector for the next call.
    fn recycle(&mut self, mut argv: Vec<Value>) {
        argv.clear();
        self.arg_vecs.push(argv);
    }

    /// Counts and converts arguments as Go's `evalCall` does.
    #[allow(clippy::too_many_arguments)]
    fn eval_call_args(
        &mut self,
        dot: &Val,
        ident: &Arg,
        name: &str,
        params: &[ParamType],
        variadic: Option<ParamType>,
        args: &'a [Arg],
        final_: Final,
    ) -> R<Vec<Value>> {
        let num_in = args.len() + usize::from(!matches!(final_, Final::Missing));
        let fixed = params.len();
        self.check_arg_count(ident, name, args.len(), num_in, fixed, variadic.is_some())?;
        let param_at = |i: usize| {
            if i < fixed {
                params[i]
            } else {
                variadic.unwrap_or(ParamType::Any)
            }
        };
        let mut argv = self.arg_vecs.pop().unwrap_or_default();
        argv.reserve(num_in);
        for (i, a) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, param_at(i), a)?);
        }
        if let Final::Val(v) = final_ {
            let t = param_at(args.len());
            let pos = args.last().map_or(ident.pos, |a| a.pos);
            let ctx: &dyn fmt::Display = match args.last() {
                Some(a) => a,
                None => ident,
            };
            argv.push(self.validate_type(pos, ctx, v, t)?);
        }
        Ok(argv)
    }

    /// Go's `validateType`: may `v` be passed as a parameter of type `t`?
    fn validate_type(&self, pos: usize, ctx: &dyn fmt::Display, v: Val, t: ParamType) -> R<Value> {
        let Some(v) = v else {
            return match t {
                ParamType::Any | ParamType::Map | ParamType::List | ParamType::Bytes => {
                    Ok(Value::Nil)
                }
                _ => Err(self.err(pos, ctx, format!("invalid value; expected {}", t.go_name()))),
            };
        };
        let ok = matches!(
            (t, &v),
            (ParamType::Any, _)
                | (ParamType::String, Value::String(_))
                | (ParamType::Int, Value::Int(_))
                | (ParamType::Int64, Value::Int64(_))
                | (ParamType::Float64, Value::Float(_))
                | (ParamType::Bool, Value::Bool(_))
                | (ParamType::Map, Value::Map(_))
                | (ParamType::List, Value::List(_))
                | (ParamType::Bytes, Value::Bytes(_))
        );
        if ok {
            return Ok(v);
        }
        let got = if matches!(v, Value::Nil) {
            "interface {}".to_string()
        } else {
            v.type_name().into_owned()
        };
        Err(self.err(
            pos,
            ctx,
            format!("wrong type for value; expected {}; got {got}", t.go_name()),
        ))
    }

    /// Go's `evalArg`.
    fn eval_arg(&mut self, dot: &Val, t: ParamType, node: &'a Arg) -> R<Value> {
        match &node.kind {
            ArgKind::Dot => return self.validate_type(node.pos, node, dot.clone(), t),
            ArgKind::Nil => {
                return match t {
                    ParamType::Any | ParamType::Map | ParamType::List | ParamType::Bytes => {
                        Ok(Value::Nil)
                    }
                    _ => Err(self.err(
                        node.pos,
                        node,
                        format!("cannot assign nil to {}", t.go_name()),
                    )),
                }
            }
            ArgKind::Pipe(_) => {
                // Go checks the type where evaluating the pipeline left its error location.
                let v = self.eval_arg_untyped(dot, node)?;
                let at = last_visited(node);
                return self.validate_type(at.pos, at, v, t);
            }
            ArgKind::Field(_)
            | ArgKind::Variable(..)
            | ArgKind::Identifier(_)
            | ArgKind::Chain(..) => {
                let v = self.eval_arg_untyped(dot, node)?;
                return self.validate_type(node.pos, node, v, t);
            }
            _ => {}
        }
        match (t, &node.kind) {
            (ParamType::Bool, ArgKind::Bool(b)) => Ok(Value::Bool(*b)),
            (ParamType::Bool, _) => {
                Err(self.err(node.pos, node, format!("expected bool; found {node}")))
            }
            (ParamType::Float64, ArgKind::Number(n)) if n.is_float => Ok(Value::Float(n.float)),
            (ParamType::Float64, _) => {
                Err(self.err(node.pos, node, format!("expected float; found {node}")))
            }
            (ParamType::Int, ArgKind::Number(n)) if n.is_int => Ok(Value::Int(n.int)),
            (ParamType::Int64, ArgKind::Number(n)) if n.is_int => Ok(Value::Int64(n.int)),
            (ParamType::Int | ParamType::Int64, _) => {
                Err(self.err(node.pos, node, format!("expected integer; found {node}")))
            }
            (ParamType::String, ArgKind::String(_, s)) => Ok(Value::String(s.clone())),
            (ParamType::String, _) => {
                Err(self.err(node.pos, node, format!("expected string; found {node}")))
            }
            (ParamType::Any, _) => Ok(self.eval_arg_untyped(dot, node)?.unwrap_or(Value::Nil)),
            (t, _) => Err(self.err(
                node.pos,
                node,
                format!("can't handle {node} for arg of type {}", t.go_name()),
            )),
        }
    }

    /// Arguments of builtins typed `...interface{}` (`print`, `printf`, `html`, ...): `nil`
    /// is allowed there.
    fn eval_any_args(&mut self, dot: &Val, args: &'a [Arg], final_: &Final) -> R<Vec<Val>> {
        let mut out = Vec::with_capacity(args.len() + 1);
        for a in args {
            out.push(match a.kind {
                ArgKind::Nil => Some(Value::Nil),
                _ => self.eval_arg_untyped(dot, a)?,
            });
        }
        if let Final::Val(v) = final_ {
            out.push(v.clone());
        }
        Ok(out)
    }

    /// Arguments of builtins typed `reflect.Value` (anything, invalid kept; Go lets `nil`
    /// through there as the invalid value).
    fn eval_raw_args(&mut self, dot: &Val, args: &'a [Arg], final_: &Final) -> R<Vec<Val>> {
        let mut out = Vec::with_capacity(args.len() + 1);
        for a in args {
            out.push(match a.kind {
                ArgKind::Nil => None,
                _ => self.eval_arg_untyped(dot, a)?,
            });
        }
        if let Final::Val(v) = final_ {
            out.push(v.clone());
        }
        Ok(out)
    }
}

impl Runtime for State<'_> {
    fn execute_named(&mut self, name: &str, data: &Value) -> Result<Value, String> {
        let tree = self
            .set
            .get(name)
            .ok_or_else(|| no_template(name, self.opts).message)?;
        let dot = match data {
            Value::Nil => None,
            v => Some(v.clone()),
        };
        // Go's ExecuteTemplate: a new state (depth 0) writing to its own buffer, here the
        // end of this one's, taken off again afterwards.
        let start = self.out.len();
        let saved_depth = std::mem::replace(&mut self.depth, 0);
        let r = self.run_nested(tree, dot);
        self.depth = saved_depth;
        let out = Value::str(&self.out[start..]);
        self.out.truncate(start);
        r.map(|_| out).map_err(|e| e.message)
    }

    fn parse_text(&self, name: &str, text: &str) -> Result<ParsedText, String> {
        let parsed = parse_knowing(name, text, self.funcs).map_err(|e| e.to_string())?;
        Ok(ParsedText {
            main: Arc::new(parsed.main),
            defines: parsed.defines.into_iter().map(Arc::new).collect(),
        })
    }

    fn execute_parsed(&mut self, text: &ParsedText, data: &Value) -> Result<String, String> {
        // A layer over the caller's templates: the text's definitions are seen only while it
        // runs, as in Go's clone of the set.
        let mut layer = Templates::new();
        layer.associate(text.main.clone(), Some(&self.set));
        for tree in text.defines.iter() {
            layer.associate(tree.clone(), Some(&self.set));
        }
        let scope = Scope {
            own: &layer,
            outer: Some(&self.set),
        };
        scope
            .execute_tree(&text.main, data, self.funcs, self.opts, self.nesting + 1)
            .map_err(|e| e.message)
    }

    fn template_name(&self) -> &str {
        &self.tree.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::func::{Function, Signature};
    use rudder_value::Map;

    fn run(src: &str, data: Value) -> Result<String, String> {
        let mut funcs = FuncMap::new();
        funcs.insert(
            "upper",
            Function::new(Signature::new(&[ParamType::String]), |_, a| {
                Ok(Value::from(
                    a[0].as_str().unwrap_or_default().to_uppercase(),
                ))
            }),
        );
        funcs.insert(
            "include",
            Function::new(
                Signature::new(&[ParamType::String, ParamType::Any]),
                |rt, a| rt.execute_named(a[0].as_str().unwrap_or_default(), &a[1]),
            ),
        );
        let mut t = Templates::new();
        t.parse("t", src, &funcs).map_err(|e| e.to_string())?;
        let opts = ExecOptions {
            missing_key: MissingKey::Zero,
            ..Default::default()
        };
        t.execute("t", &data, &funcs, &opts)
            .map_err(|e| e.to_string())
    }

    fn data() -> Value {
        let mut m = Map::new();
        m.insert("a".into(), Value::Int64(1));
        m.insert("s".into(), Value::str("hi"));
        m.insert(
            "l".into(),
            Value::list(vec![Value::str("x"), Value::str("y")]),
        );
        let mut inner = Map::new();
        inner.insert("b".into(), Value::Bool(true));
        m.insert("m".into(), Value::map(inner));
        Value::map(m)
    }

    #[test]
    fn basic_actions() {
        assert_eq!(run("{{ .s }}-{{ .m.b }}", data()).unwrap(), "hi-true");
        assert_eq!(
            run(
                "{{ range $i, $v := .l }}{{ $i }}={{ $v }};{{ end }}",
                data()
            )
            .unwrap(),
            "0=x;1=y;"
        );
        assert_eq!(
            run(
                "{{ if .nope }}a{{ else if .s }}b{{ else }}c{{ end }}",
                data()
            )
            .unwrap(),
            "b"
        );
        assert_eq!(
            run("{{ with .m }}{{ .b }}{{ end }}", data()).unwrap(),
            "true"
        );
        assert_eq!(run("{{ .nope }}", data()).unwrap(), "<no value>");
        assert_eq!(
            run("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", data()).unwrap(),
            "2"
        );
        assert_eq!(run("{{ range 3 }}{{ . }}{{ end }}", data()).unwrap(), "012");
        // Counted as it goes (Go does too): no list of 2^63 numbers first.
        assert_eq!(
            run(
                "{{ range 9223372036854775807 }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}",
                data()
            )
            .unwrap(),
            "012"
        );
        assert_eq!(
            run("{{ range -5 }}x{{ else }}none{{ end }}", data()).unwrap(),
            "none"
        );
        assert_eq!(
            run(
                "{{ range .l }}{{ if eq . \"y\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
                data()
            )
            .unwrap(),
            "x"
        );
        assert_eq!(
            run(
                "{{ define \"d\" }}[{{ . }}]{{ end }}{{ template \"d\" .s }}{{ include \"d\" 3 }}",
                data()
            )
            .unwrap(),
            "[hi][3]"
        );
        assert_eq!(run("{{ .s | upper }}", data()).unwrap(), "HI");
        assert_eq!(
            run(
                "{{ len .l }} {{ index .l 1 }} {{ not .a }} {{ and 1 0 }} {{ or 0 \"z\" }}",
                data()
            )
            .unwrap(),
            "2 y false 0 z"
        );
    }

    #[test]
    fn errors_read_like_go() {
        assert_eq!(
            run("{{ .nope | upper }}", data()).unwrap_err(),
            "template: t:1:11: executing \"t\" at <upper>: invalid value; expected string"
        );
        assert_eq!(
            run("{{ .nope.x }}", data()).unwrap_err(),
            "template: t:1:8: executing \"t\" at <.nope.x>: nil pointer evaluating interface {}.x"
        );
        assert_eq!(
            run("{{ eq .a 1.5 }}", data()).unwrap_err(),
            "template: t:1:3: executing \"t\" at <eq .a 1.5>: error calling eq: incompatible types for comparison: int64 and float64"
        );
        assert_eq!(
            run("{{ template \"zz\" . }}", data()).unwrap_err(),
            "template: t:1:12: executing \"t\" at <{{template \"zz\" .}}>: template \"zz\" not defined"
        );
    }
}
