//! A compact binary form of parse results, so that a program can keep the parses of a set of
//! files and read them back instead of parsing the same text again (rudder keeps one per
//! chart's template set; see `rudder-engine`'s `parse_cache`).
//!
//! Reading back costs a fraction of parsing: the lexer's and parser's decisions are already
//! made, every `Vec` is allocated at its final size, and each distinct name and field chain is
//! stored once and shared again (as the parser's interning shares them). Our own format
//! rather than a serialisation crate's: the trees hold spans of the source text (shared, not
//! copied) and interned names, which a generic format would write out and copy in again.
//!
//! [`decode`] trusts nothing it reads: any inconsistency (a truncated or damaged encoding,
//! a span outside its file or inside a character, a nesting deeper than the parser allows)
//! gives `None`, and the caller parses instead. It needs the same files, in the same order,
//! as were parsed; a caller keys what it keeps by their names and text.

use std::sync::Arc;

use super::node::{Arg, ArgKind, Branch, Command, Fields, List, Name, Node, Number, Pipe, Span};
use super::{HashMap, Parsed, Tree, MAX_DEPTH};

/// The version of the encoding, written first: bumped whenever the nodes (`node.rs`) or their
/// encoding here change, so that an encoding made by another build is never misread.
const FORMAT: u64 = 1;

/// The parses of some files, in their order, as bytes.
pub fn encode(parsed: &[Parsed]) -> Vec<u8> {
    let mut e = Encoder::default();
    e.uint(FORMAT);
    e.uint(parsed.len() as u64);
    for p in parsed {
        e.list(&p.main.root);
        e.uint(p.defines.len() as u64);
        for tree in &p.defines {
            e.name(&tree.name);
            e.list(&tree.root);
        }
    }
    e.out
}

/// The parses that [`encode`] wrote for `files` (name and text, in the order parsed), or
/// `None` when the bytes are not such an encoding for these files.
pub fn decode(bytes: &[u8], files: &[(&str, &str)]) -> Option<Vec<Parsed>> {
    let mut d = Decoder {
        bytes,
        at: 0,
        names: Vec::new(),
        chains: Vec::new(),
        text: Arc::from(""),
        depth: 0,
    };
    if d.uint()? != FORMAT || d.count()? != files.len() {
        return None;
    }
    let mut out = Vec::with_capacity(files.len());
    for &(name, text) in files {
        d.text = Arc::from(text);
        let parse_name: Arc<str> = Arc::from(name);
        let root = d.list()?;
        let defines = d.items(|d| {
            Some(Tree {
                name: d.name()?,
                parse_name: parse_name.clone(),
                text: d.text.clone(),
                root: d.list()?,
            })
        })?;
        out.push(Parsed {
            main: Tree {
                name: parse_name.clone(),
                parse_name,
                text: d.text.clone(),
                root,
            },
            defines,
        });
    }
    (d.at == bytes.len()).then_some(out)
}

/// Tags of [`Node`]s.
mod node_tag {
    pub const TEXT: u8 = 0;
    pub const ACTION: u8 = 1;
    pub const IF: u8 = 2;
    pub const RANGE: u8 = 3;
    pub const WITH: u8 = 4;
    pub const TEMPLATE: u8 = 5;
    pub const TEMPLATE_WITH_PIPE: u8 = 6;
    pub const BREAK: u8 = 7;
    pub const CONTINUE: u8 = 8;
}

/// Tags of [`ArgKind`]s.
mod arg_tag {
    pub const DOT: u8 = 0;
    pub const NIL: u8 = 1;
    pub const FALSE: u8 = 2;
    pub const TRUE: u8 = 3;
    pub const NUMBER: u8 = 4;
    pub const STRING: u8 = 5;
    pub const FIELD: u8 = 6;
    pub const VARIABLE: u8 = 7;
    pub const IDENTIFIER: u8 = 8;
    pub const PIPE: u8 = 9;
    pub const CHAIN: u8 = 10;
}

/// Integers as LEB128 (seven bits a byte, low first); a name or chain as the index of its
/// first appearance, which carries it inline (index = the count of those seen so far).
#[derive(Default)]
struct Encoder {
    out: Vec<u8>,
    /// By address: interned names and chains share one allocation per distinct value.
    names: HashMap<*const u8, u64>,
    chains: HashMap<*const Name, u64>,
}

impl Encoder {
    fn uint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.out.push(n as u8 | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.uint(b.len() as u64);
        self.out.extend_from_slice(b);
    }

    fn name(&mut self, name: &Arc<str>) {
        let seen = self.names.len() as u64;
        let index = *self.names.entry(name.as_ptr()).or_insert(seen);
        self.uint(index);
        if index == seen {
            self.bytes(name.as_bytes());
        }
    }

    fn fields(&mut self, fields: &Fields) {
        let seen = self.chains.len() as u64;
        let index = *self.chains.entry(fields.as_ptr()).or_insert(seen);
        self.uint(index);
        if index == seen {
            self.uint(fields.len() as u64);
            for name in fields.iter() {
                self.name(name);
            }
        }
    }

    fn span(&mut self, span: &Span) {
        let (start, end) = span.range();
        self.uint(start as u64);
        self.uint((end - start) as u64);
    }

    fn list(&mut self, list: &List) {
        self.uint(list.len() as u64);
        for node in list {
            self.node(node);
        }
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::Text(span) => {
                self.byte(node_tag::TEXT);
                self.span(span);
            }
            Node::Action { pos, pipe } => {
                self.byte(node_tag::ACTION);
                self.uint(*pos as u64);
                self.pipe(pipe);
            }
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                self.byte(match node {
                    Node::If(_) => node_tag::IF,
                    Node::Range(_) => node_tag::RANGE,
                    _ => node_tag::WITH,
                });
                self.branch(b);
            }
            Node::Template { pos, name, pipe } => {
                self.byte(match pipe {
                    None => node_tag::TEMPLATE,
                    Some(_) => node_tag::TEMPLATE_WITH_PIPE,
                });
                self.uint(*pos as u64);
                self.name(name);
                if let Some(pipe) = pipe {
                    self.pipe(pipe);
                }
            }
            Node::Break { pos } => {
                self.byte(node_tag::BREAK);
                self.uint(*pos as u64);
            }
            Node::Continue { pos } => {
                self.byte(node_tag::CONTINUE);
                self.uint(*pos as u64);
            }
        }
    }

    fn branch(&mut self, b: &Branch) {
        self.uint(b.pos as u64);
        self.pipe(&b.pipe);
        self.list(&b.list);
        match &b.else_list {
            None => self.byte(0),
            Some(list) => {
                self.byte(1);
                self.list(list);
            }
        }
    }

    fn pipe(&mut self, p: &Pipe) {
        self.uint(p.pos as u64);
        self.byte(u8::from(p.is_assign));
        self.uint(p.decl.len() as u64);
        for name in &p.decl {
            self.name(name);
        }
        self.uint(p.cmds.len() as u64);
        for c in &p.cmds {
            self.uint(c.pos as u64);
            self.uint(c.args.len() as u64);
            for a in &c.args {
                self.arg(a);
            }
        }
    }

    fn arg(&mut self, a: &Arg) {
        match &a.kind {
            ArgKind::Dot => self.byte(arg_tag::DOT),
            ArgKind::Nil => self.byte(arg_tag::NIL),
            ArgKind::Bool(false) => self.byte(arg_tag::FALSE),
            ArgKind::Bool(true) => self.byte(arg_tag::TRUE),
            ArgKind::Number(n) => {
                self.byte(arg_tag::NUMBER);
                self.span(&n.text);
                self.byte(
                    u8::from(n.is_int) | u8::from(n.is_uint) << 1 | u8::from(n.is_float) << 2,
                );
                self.uint(n.int as u64);
                self.uint(n.uint);
                self.uint(n.float.to_bits());
            }
            ArgKind::String(quoted, value) => {
                self.byte(arg_tag::STRING);
                self.span(quoted);
                self.name(value);
            }
            ArgKind::Field(fields) => {
                self.byte(arg_tag::FIELD);
                self.fields(fields);
            }
            ArgKind::Variable(name, fields) => {
                self.byte(arg_tag::VARIABLE);
                self.name(name);
                self.fields(fields);
            }
            ArgKind::Identifier(name) => {
                self.byte(arg_tag::IDENTIFIER);
                self.name(name);
            }
            ArgKind::Pipe(p) => {
                self.byte(arg_tag::PIPE);
                self.pipe(p);
            }
            ArgKind::Chain(operand, fields) => {
                self.byte(arg_tag::CHAIN);
                self.arg(operand);
                self.fields(fields);
            }
        }
        self.uint(a.pos as u64);
    }
}

struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
    names: Vec<Name>,
    chains: Vec<Fields>,
    /// The source of the file being read, which its spans point into.
    text: Arc<str>,
    /// Lists, pipelines and operands open: bounded as the parser bounds them, so that no
    /// encoding can exhaust the stack.
    depth: usize,
}

impl Decoder<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn uint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }

    fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.uint()?).ok()
    }

    /// A count of items still to read: never more than the bytes left, each item taking at
    /// least one, so that a damaged count cannot ask for a huge allocation.
    fn count(&mut self) -> Option<usize> {
        let n = self.usize()?;
        (n <= self.bytes.len() - self.at).then_some(n)
    }

    /// A count, then that many items, into a vector of that size.
    fn items<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.count()?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(item(self)?);
        }
        Some(items)
    }

    fn name(&mut self) -> Option<Name> {
        let index = self.usize()?;
        if let Some(name) = self.names.get(index) {
            return Some(name.clone());
        }
        if index != self.names.len() {
            return None;
        }
        let len = self.count()?;
        let text = std::str::from_utf8(&self.bytes[self.at..self.at + len]).ok()?;
        self.at += len;
        let name = Name::from(text);
        self.names.push(name.clone());
        Some(name)
    }

    fn fields(&mut self) -> Option<Fields> {
        let index = self.usize()?;
        if let Some(fields) = self.chains.get(index) {
            return Some(fields.clone());
        }
        if index != self.chains.len() {
            return None;
        }
        let names = self.items(Self::name)?;
        let fields = Fields::from(names);
        self.chains.push(fields.clone());
        Some(fields)
    }

    fn span(&mut self) -> Option<Span> {
        let start = self.usize()?;
        let end = start.checked_add(self.usize()?)?;
        let text = &self.text;
        (end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end))
            .then(|| Span::new(text, start, end))
    }

    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= 2 * MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let out = read(self);
        self.depth -= 1;
        out
    }

    fn list(&mut self) -> Option<List> {
        self.nested(|d| d.items(Self::node))
    }

    fn node(&mut self) -> Option<Node> {
        Some(match self.byte()? {
            node_tag::TEXT => Node::Text(self.span()?),
            node_tag::ACTION => Node::Action {
                pos: self.usize()?,
                pipe: self.pipe()?,
            },
            node_tag::IF => Node::If(self.branch()?),
            node_tag::RANGE => Node::Range(self.branch()?),
            node_tag::WITH => Node::With(self.branch()?),
            tag @ (node_tag::TEMPLATE | node_tag::TEMPLATE_WITH_PIPE) => Node::Template {
                pos: self.usize()?,
                name: self.name()?,
                pipe: match tag {
                    node_tag::TEMPLATE => None,
                    _ => Some(self.pipe()?),
                },
            },
            node_tag::BREAK => Node::Break { pos: self.usize()? },
            node_tag::CONTINUE => Node::Continue { pos: self.usize()? },
            _ => return None,
        })
    }

    fn branch(&mut self) -> Option<Branch> {
        Some(Branch {
            pos: self.usize()?,
            pipe: self.pipe()?,
            list: self.list()?,
            else_list: match self.byte()? {
                0 => None,
                1 => Some(self.list()?),
                _ => return None,
            },
        })
    }

    fn pipe(&mut self) -> Option<Pipe> {
        self.nested(|d| {
            let pos = d.usize()?;
            let is_assign = match d.byte()? {
                0 => false,
                1 => true,
                _ => return None,
            };
            let decl = d.items(Self::name)?;
            let cmds = d.items(|d| {
                Some(Command {
                    pos: d.usize()?,
                    args: d.items(Self::arg)?,
                })
            })?;
            Some(Pipe {
                pos,
                is_assign,
                decl,
                cmds,
            })
        })
    }

    fn arg(&mut self) -> Option<Arg> {
        self.nested(|d| {
            let kind = match d.byte()? {
                arg_tag::DOT => ArgKind::Dot,
                arg_tag::NIL => ArgKind::Nil,
                arg_tag::FALSE => ArgKind::Bool(false),
                arg_tag::TRUE => ArgKind::Bool(true),
                arg_tag::NUMBER => {
                    let text = d.span()?;
                    let flags = d.byte()?;
                    ArgKind::Number(Box::new(Number {
                        text,
                        is_int: flags & 1 != 0,
                        is_uint: flags & 2 != 0,
                        is_float: flags & 4 != 0,
                        int: d.uint()? as i64,
                        uint: d.uint()?,
                        float: f64::from_bits(d.uint()?),
                    }))
                }
                arg_tag::STRING => ArgKind::String(d.span()?, d.name()?),
                arg_tag::FIELD => ArgKind::Field(d.fields()?),
                arg_tag::VARIABLE => ArgKind::Variable(d.name()?, d.fields()?),
                arg_tag::IDENTIFIER => ArgKind::Identifier(d.name()?),
                arg_tag::PIPE => ArgKind::Pipe(Box::new(d.pipe()?)),
                arg_tag::CHAIN => ArgKind::Chain(Box::new(d.arg()?), d.fields()?),
                _ => return None,
            };
            Some(Arg {
                pos: d.usize()?,
                kind,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every construct of the language, and names, chains and strings that repeat.
    const TEMPLATE: &str = r#"{{/* a comment */}}plain text é
{{- define "lib.name" -}}{{ .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end }}
{{ $x := 1 }}{{ $x = 2.5 }}{{ $y := 0x1F }}{{ $z := 'a' }}{{ -3 }}{{ 1e3 }}{{ 0b101 }}
{{ if .Values.a.b }}A{{ else if not .Values.c }}C{{ else }}D{{ end }}
{{ range $i, $v := .Values.list }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ continue }}{{ else }}none{{ end }}
{{ with $.Release.Name }}{{ . }}{{ end }}{{ with .x }}{{ else with .y }}y{{ end }}
{{ template "lib.name" . }}{{ template "lib.name" }}{{ block "b" . }}default{{ end }}
{{ (printf "%s-%d" "a\tb" 3).Length }}{{ $x.a.b }}{{ (.Values).a }}{{ nil }}{{ true }}{{ false }}
{{ include "lib.name" . | quote }} {{ `raw` }} {{ "é\u00e9" }} {{ .Values.a.b }} {{ .Values.a.b }}
"#;

    fn parse_all(files: &[(&str, &str)]) -> Vec<Parsed> {
        files
            .iter()
            .map(|(name, text)| super::super::parse(name, text, &|_| true).unwrap())
            .collect()
    }

    /// The trees as Debug prints them (every node, position, name and span's text).
    fn shown(parsed: &[Parsed]) -> String {
        format!("{parsed:?}")
    }

    #[test]
    fn decoding_gives_back_the_trees_parsed() {
        let files = [
            ("chart/templates/a.yaml", TEMPLATE),
            (
                "chart/templates/_b.tpl",
                "{{ define \"x\" }}{{ .Values.a.b }}{{ end }}",
            ),
            ("chart/templates/empty.yaml", ""),
        ];
        let parsed = parse_all(&files);
        let bytes = encode(&parsed);
        let decoded = decode(&bytes, &files).expect("decodes");
        assert_eq!(shown(&decoded), shown(&parsed));
        // Names and chains are shared again, as the parser shares them.
        let Node::Action { pipe, .. } = &decoded[1].defines[0].root[0] else {
            panic!("an action")
        };
        let ArgKind::Field(fields) = &pipe.cmds[0].args[0].kind else {
            panic!("a field chain")
        };
        let again = decoded[0]
            .main
            .root
            .iter()
            .filter_map(|n| match n {
                Node::Action { pipe, .. } => match &pipe.cmds[0].args[0].kind {
                    ArgKind::Field(f) if f[..] == fields[..] => Some(f.clone()),
                    _ => None,
                },
                _ => None,
            })
            .next()
            .expect("the same chain in the first file");
        assert!(Arc::ptr_eq(&again, fields));
    }

    /// The repository's own charts: every template parsed, encoded and decoded.
    #[test]
    fn the_repositorys_templates_decode_as_parsed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        let mut stack = vec![root.join("charts"), root.join("tests")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.components().any(|c| c.as_os_str() == "templates")
                    && path.extension().is_some_and(|e| e == "yaml" || e == "tpl")
                {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        files.push((path.to_string_lossy().into_owned(), text));
                    }
                }
            }
        }
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .filter(|(n, t)| super::super::parse(n, t, &|_| true).is_ok())
            .collect();
        assert!(files.len() > 50, "found {} templates", files.len());
        let parsed = parse_all(&files);
        let decoded = decode(&encode(&parsed), &files).expect("decodes");
        assert_eq!(shown(&decoded), shown(&parsed));
    }

    #[test]
    fn anything_but_the_encoding_of_these_files_is_refused() {
        let files = [("t.yaml", TEMPLATE)];
        let bytes = encode(&parse_all(&files));
        // Other files, or another number of them.
        assert!(decode(&bytes, &[("t.yaml", "short")]).is_none());
        assert!(decode(&bytes, &[]).is_none());
        assert!(decode(&bytes, &[("t.yaml", TEMPLATE), ("u.yaml", "")]).is_none());
        // Every truncation, and bytes past the end.
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len], &files).is_none(), "cut at {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, &files).is_none());
        // Another format version.
        let mut other = bytes.clone();
        other[0] = FORMAT as u8 + 1;
        assert!(decode(&other, &files).is_none());
        // Damaged bytes never panic (whatever they decode to, spans stay inside the text).
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut damaged = bytes.clone();
            let at = (seed as usize) % damaged.len();
            damaged[at] = (seed >> 32) as u8;
            if let Some(decoded) = decode(&damaged, &files) {
                let _ = shown(&decoded);
            }
        }
    }

    #[test]
    fn nesting_deeper_than_the_parser_allows_is_refused() {
        // A list holding one `if` whose body holds one `if` ... past the bound.
        let mut bytes = Vec::new();
        let mut e = Encoder::default();
        e.uint(FORMAT);
        e.uint(1);
        bytes.extend_from_slice(&e.out);
        for _ in 0..3 * MAX_DEPTH {
            // A list of one node: an `if` with pos 0 and an empty pipeline.
            bytes.extend_from_slice(&[1, node_tag::IF, 0, 0, 0, 0, 0]);
        }
        // On a stack as large as rudder gives its work: the refusal comes only at the bound.
        let refused = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || decode(&bytes, &[("t", "")]).is_none())
            .unwrap()
            .join()
            .unwrap();
        assert!(refused);
    }
}
