//! Lexing and parsing Go template text into trees (Go's `text/template/parse`).
//!
//! The lexer and parser are one pass: text is scanned for `{{`, and each action is tokenised
//! and parsed on the spot. Nodes keep their byte offset so errors can name `line:column` as Go
//! does (the column is Go's 0-based byte offset within the line), and each node can print
//! itself the way Go's `Node.String()` does, for the `at <...>` part of execution errors.
//! As in Go's package, the lexer is in `lex` and the nodes in `node`; this file is the
//! parser.
//!
//! It is hand-written, after Go's, because its errors must read and point where Go's do,
//! which a generated parser would not give, and because every render parses all of a
//! chart's templates (library charts included), so its cost counts. What keeps it cheap,
//! measured with callgrind on real charts: text, quoted strings and numbers are spans of
//! one shared copy of the source ([`Span`]) rather than copies; names, string constants and
//! whole field chains (read straight from the source, one lookup per chain) are interned
//! across the parses of a thread (`Interned`); tokens already read are handed down (to a
//! command, an operand, a term) rather than pushed back and read again; spaces are skipped
//! by the lexer where only the next token matters. Tried and measured not to pay:
//! collecting list nodes, commands or operands on shared stacks to allocate each `Vec` at
//! its exact size, small inline vectors for commands and operands, and boxing branch nodes
//! (each cost more in moves than the allocations it saved); all of a pipeline's operands
//! in one vector (a quarter fewer allocations, but the executor paid more per pipeline
//! than the parser saved); field chains as spans of the source, split by the executor
//! (parsing 15% cheaper, executing 4-5% dearer).

pub mod codec;
mod lex;
mod node;

pub use lex::unquote;
pub use node::*;

use std::fmt;
use std::sync::Arc;

use lex::{is_space, LexError, Lexer, Tok, KEYWORDS};
use node::parse_number;

type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A parsed template: its body and where it came from.
#[derive(Debug)]
pub struct Tree {
    /// The name of the template (a file path, or a `define`d name).
    pub name: Arc<str>,
    /// The name of the file it was parsed from (Go's `ParseName`), used in error locations.
    pub parse_name: Arc<str>,
    /// The whole source text of that file, for computing columns.
    pub text: Arc<str>,
    pub root: List,
}

impl Tree {
    /// Go's `ErrorContext` location: `file:line:col` for a byte offset.
    pub fn location(&self, pos: usize) -> String {
        let pos = pos.min(self.text.len());
        let before = &self.text.as_bytes()[..pos];
        let line = 1 + count_newlines(before);
        let col = match before.iter().rposition(|&b| b == b'\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }

    /// True if the body is only whitespace text (Go's `IsEmptyTree`).
    pub fn is_empty(&self) -> bool {
        self.root
            .iter()
            .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
    }
}

/// A parse failure, with Go's wording (`template: NAME:LINE: MESSAGE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub name: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template: {}:{}: {}", self.name, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

// ---------------------------------------------------------------------------------------------
// Parser

/// The result of parsing one file: its own tree and the templates it `define`s.
#[derive(Debug)]
pub struct Parsed {
    pub main: Tree,
    pub defines: Vec<Tree>,
}

struct Parser<'a, 'f> {
    name: &'a str,
    src: &'a str,
    text: Arc<str>,
    lex: Lexer<'a>,
    /// A token pushed back.
    peeked: Vec<(usize, Tok<'a>)>,
    defines: Vec<Tree>,
    /// Variables in scope (Go's `vars`), as written in the source: those from `vars_base`
    /// on (a definition's body starts a new scope above the enclosing one).
    vars: Vec<&'a str>,
    vars_base: usize,
    /// The file's name, shared by its trees.
    parse_name: Arc<str>,
    funcs: &'f dyn Fn(&str) -> bool,
    /// Names of the enclosing range loops (for break/continue checks).
    range_depth: usize,
    /// Trailing-trim request from the previous action.
    trim_next: bool,
    /// Where the action being parsed started (for "unclosed action" errors).
    action_start: usize,
    /// Nesting of parentheses and control structures, bounded like Go's parser so that no
    /// input can exhaust the stack.
    depth: usize,
    /// One shared copy of each name and field chain (see [`Name`], [`Fields`]), this
    /// thread's.
    interned: Interned,
    /// The function names met and found defined, so that each is looked up once.
    functions: HashMap<&'a str, Name>,
    /// The field chain being read, collected here so that each chain is allocated once at
    /// its final size.
    chain: Vec<Name>,
    /// The chain of no fields (a variable alone).
    no_fields: Fields,
}

/// Go's `maxStackDepth`.
const MAX_DEPTH: usize = 10_000;

/// Where a list ended: at `{{end}}` or at `{{else ...}}` (with what follows `else`).
enum ListEnd<'a> {
    End,
    Else(Option<Tok<'a>>),
    Eof,
}

/// The names and field chains met by this thread's parses so far: a chart's templates and
/// its library's use the same ones over and over (`Values`, `.Values.image.tag`,
/// `"common.names.fullname"`), so later files find them made. Each parse takes it and puts
/// it back; past [`INTERNED_LIMIT`] entries it starts afresh, so that a long-lived thread
/// does not keep every name it ever parsed.
#[derive(Default)]
struct Interned {
    names: HashSet<Name>,
    /// By the chain's text (`.a.b`).
    chains: HashMap<Box<str>, Fields>,
    /// The chain of no fields (a variable alone).
    no_fields: Option<Fields>,
}

const INTERNED_LIMIT: usize = 1 << 16;

thread_local! {
    static INTERNED: std::cell::Cell<Interned> = std::cell::Cell::default();
}

pub fn parse(name: &str, src: &str, funcs: &dyn Fn(&str) -> bool) -> Result<Parsed, ParseError> {
    let mut interned = INTERNED.take();
    if interned.names.len() + interned.chains.len() > INTERNED_LIMIT {
        interned = Interned::default();
    }
    let no_fields = interned
        .no_fields
        .get_or_insert_with(|| Fields::from([]))
        .clone();
    let text: Arc<str> = Arc::from(src);
    let parse_name: Arc<str> = Arc::from(name);
    let mut p = Parser {
        name,
        src,
        text: text.clone(),
        lex: Lexer { src, pos: 0 },
        peeked: Vec::new(),
        defines: Vec::new(),
        vars: vec!["$"],
        vars_base: 0,
        parse_name: parse_name.clone(),
        funcs,
        range_depth: 0,
        trim_next: false,
        action_start: 0,
        depth: 0,
        interned,
        chain: Vec::new(),
        no_fields,
        functions: HashMap::default(),
    };
    let root = p.file();
    INTERNED.set(std::mem::take(&mut p.interned));
    Ok(Parsed {
        main: Tree {
            name: parse_name.clone(),
            parse_name,
            text,
            root: root?,
        },
        defines: p.defines,
    })
}

type PResult<T> = Result<T, (usize, String)>;

/// Where `pair` (two given bytes) first occurs in `bytes`: a byte search for the first,
/// which beats building a substring searcher for every piece of text between actions.
fn find_two(bytes: &[u8], pair: &[u8; 2]) -> Option<usize> {
    memchr::memchr_iter(pair[0], bytes).find(|&i| bytes.get(i + 1) == Some(&pair[1]))
}

/// Line breaks in `bytes`.
fn count_newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

impl<'a, 'f> Parser<'a, 'f> {
    /// The whole file's body.
    fn file(&mut self) -> Result<List, ParseError> {
        let (root, end) = self.list(true).map_err(|(pos, m)| self.error(pos, m))?;
        match end {
            ListEnd::Eof => Ok(root),
            ListEnd::End => Err(self.error(self.lex.pos, "unexpected {{end}}".into())),
            ListEnd::Else(_) => Err(self.error(self.lex.pos, "unexpected {{else}}".into())),
        }
    }

    /// The shared copy of `name`.
    fn name(&mut self, name: &str) -> Name {
        if let Some(shared) = self.interned.names.get(name) {
            return shared.clone();
        }
        let shared = Name::from(name);
        self.interned.names.insert(shared.clone());
        shared
    }

    /// `piece`, a slice of the source, as a span of the shared source.
    fn span(&self, piece: &str) -> Span {
        let start = piece.as_ptr() as usize - self.src.as_ptr() as usize;
        Span::new(&self.text, start, start + piece.len())
    }

    fn text_node(&self, t: &str) -> Node {
        Node::Text(self.span(t))
    }

    /// The value of a string token; one shared copy per distinct string without escapes
    /// (template names such as `"common.names.fullname"` repeat a great deal).
    fn string_value(&mut self, t: Tok<'a>) -> Arc<str> {
        match t {
            Tok::Str(raw) => self.name(&raw[1..raw.len() - 1]),
            Tok::RawStr(raw) if !raw.contains('\r') => self.name(&raw[1..raw.len() - 1]),
            _ => t.string_value().unwrap_or_default(),
        }
    }

    fn error(&self, pos: usize, message: String) -> ParseError {
        let pos = pos.min(self.src.len());
        let line = 1 + count_newlines(&self.src.as_bytes()[..pos]);
        ParseError {
            name: self.name.to_string(),
            line,
            message,
        }
    }

    /// The line of a byte offset. Only errors name lines (nodes keep byte offsets), so it is
    /// counted from the start of the text.
    fn line_of(&self, pos: usize) -> usize {
        let pos = pos.min(self.src.len());
        1 + count_newlines(&self.src.as_bytes()[..pos])
    }

    #[inline]
    fn next(&mut self) -> PResult<(usize, Tok<'a>)> {
        if let Some(t) = self.peeked.pop() {
            return Ok(t);
        }
        let pos = self.lex.pos;
        match self.lex.next() {
            Ok(t) => Ok(t),
            Err(e) => Err(self.lex_error(pos, e)),
        }
    }

    #[cold]
    fn lex_error(&self, pos: usize, e: LexError) -> (usize, String) {
        match e {
            LexError::UnclosedAction => {
                let line = self.line_of(self.action_start);
                (
                    pos,
                    format!("unclosed action started at {}:{line}", self.name),
                )
            }
            other => (pos, other.to_string()),
        }
    }

    #[inline]
    fn next_non_space(&mut self) -> PResult<(usize, Tok<'a>)> {
        while let Some(t) = self.peeked.pop() {
            if !matches!(t.1, Tok::Space) {
                return Ok(t);
            }
        }
        // Spaces in the source are skipped rather than lexed into a token.
        self.lex.skip_spaces();
        let pos = self.lex.pos;
        match self.lex.next() {
            Ok(t) => Ok(t),
            Err(e) => Err(self.lex_error(pos, e)),
        }
    }

    #[inline]
    fn backup(&mut self, t: (usize, Tok<'a>)) {
        self.peeked.push(t);
    }

    /// Parses text and actions until `{{end}}`, `{{else}}` or the end of input.
    fn list(&mut self, top: bool) -> PResult<(List, ListEnd<'a>)> {
        // As for a command's operands (see `command`).
        let mut list = List::with_capacity(4);
        loop {
            let rest = &self.src[self.lex.pos..];
            let Some(open) = find_two(rest.as_bytes(), b"{{") else {
                let mut t = rest;
                if self.trim_next {
                    t = t.trim_start_matches(is_space);
                    self.trim_next = false;
                }
                if !t.is_empty() {
                    list.push(self.text_node(t));
                }
                self.lex.pos = self.src.len();
                return Ok((list, ListEnd::Eof));
            };
            let after = &rest[open + 2..];
            let trim_left = after.starts_with('-') && after[1..].starts_with(is_space);
            let mut t = &rest[..open];
            if self.trim_next {
                t = t.trim_start_matches(is_space);
                self.trim_next = false;
            }
            if trim_left {
                t = t.trim_end_matches(is_space);
            }
            if !t.is_empty() {
                list.push(self.text_node(t));
            }
            let action_start = self.lex.pos + open;
            self.action_start = action_start;
            self.lex.pos = action_start + 2 + if trim_left { 2 } else { 0 };
            // Comments.
            let inner = &self.src[self.lex.pos..];
            if inner.starts_with("/*") {
                let Some(end) = find_two(inner.as_bytes(), b"*/") else {
                    return Err((action_start, "unclosed comment".into()));
                };
                let after_comment = &inner[end + 2..];
                let (skip, trims) = if after_comment.starts_with("}}") {
                    (2, false)
                } else if after_comment.len() >= 4
                    && after_comment.starts_with(is_space)
                    && after_comment[1..].starts_with("-}}")
                {
                    (4, true)
                } else {
                    return Err((action_start, "comment ends before closing delimiter".into()));
                };
                self.lex.pos += end + 2 + skip;
                self.trim_next = trims;
                continue;
            }
            match self.action(top)? {
                Step::Node(n) => list.push(n),
                Step::None => {}
                Step::End => return Ok((list, ListEnd::End)),
                Step::Else(next) => return Ok((list, ListEnd::Else(next))),
            }
        }
    }

    /// Consumes the closing delimiter of an action.
    fn expect_end(&mut self, context: &str) -> PResult<()> {
        let (pos, t) = self.next_non_space()?;
        match t {
            Tok::End(trim) => {
                self.trim_next = trim;
                Ok(())
            }
            other => Err((pos, format!("unexpected {} in {context}", other.describe()))),
        }
    }

    fn action(&mut self, top: bool) -> PResult<Step<'a>> {
        let (pos, tok) = self.next_non_space()?;
        if let Tok::Ident(word) = tok {
            match word {
                "end" => {
                    self.expect_end("end")?;
                    return Ok(Step::End);
                }
                "else" => {
                    let (p2, t2) = self.next_non_space()?;
                    return match t2 {
                        Tok::End(trim) => {
                            self.trim_next = trim;
                            Ok(Step::Else(None))
                        }
                        Tok::Ident(k) if k == "if" || k == "with" => {
                            self.backup((p2, t2));
                            Ok(Step::Else(Some(t2)))
                        }
                        other => Err((p2, format!("unexpected {} in else", other.describe()))),
                    };
                }
                "if" => return self.branch(pos, "if").map(|b| Step::Node(Node::If(b))),
                "with" => return self.branch(pos, "with").map(|b| Step::Node(Node::With(b))),
                "range" => {
                    self.range_depth += 1;
                    let r = self.branch(pos, "range");
                    self.range_depth -= 1;
                    return r.map(|b| Step::Node(Node::Range(b)));
                }
                "break" | "continue" => {
                    if self.range_depth == 0 {
                        return Err((pos, format!("{{{{{word}}}}} outside {{{{range}}}}")));
                    }
                    self.expect_end(word)?;
                    return Ok(Step::Node(if word == "break" {
                        Node::Break { pos }
                    } else {
                        Node::Continue { pos }
                    }));
                }
                "template" => return self.template(pos, "template").map(Step::Node),
                "block" => {
                    let node = self.template(pos, "block")?;
                    let Node::Template { name, .. } = &node else {
                        unreachable!()
                    };
                    let name = name.clone();
                    let (body, end) = self.definition_body()?;
                    if !matches!(end, ListEnd::End) {
                        return Err((self.lex.pos, "unexpected EOF".into()));
                    }
                    self.add_define(name, body);
                    return Ok(Step::Node(node));
                }
                "define" => {
                    if !top {
                        return Err((pos, "unexpected <define> in command".into()));
                    }
                    let (p2, t2) = self.next_non_space()?;
                    if !matches!(t2, Tok::Str(_) | Tok::EscapedStr(_) | Tok::RawStr(_)) {
                        return Err((p2, format!("unexpected {} in define clause", t2.describe())));
                    }
                    let name = self.string_value(t2);
                    self.expect_end("define clause")?;
                    let (body, end) = self.definition_body()?;
                    match end {
                        ListEnd::End => {}
                        ListEnd::Eof => return Err((self.lex.pos, "unexpected EOF".into())),
                        ListEnd::Else(_) => {
                            return Err((self.lex.pos, "unexpected {{else}}".into()))
                        }
                    }
                    self.add_define(name, body);
                    return Ok(Step::None);
                }
                _ => {}
            }
        }
        let pipe = self.pipeline((pos, tok), "command", false)?;
        Ok(Step::Node(Node::Action {
            pos: pipe.pos,
            pipe,
        }))
    }

    /// The body of a `define` or `block`, which sees only its own variables and `$`.
    fn definition_body(&mut self) -> PResult<(List, ListEnd<'a>)> {
        let outer_base = std::mem::replace(&mut self.vars_base, self.vars.len());
        self.vars.push("$");
        let body = self.list(false)?;
        self.vars.truncate(self.vars_base);
        self.vars_base = outer_base;
        Ok(body)
    }

    /// Whether the variable `name` is in scope.
    fn is_declared(&self, name: &str) -> bool {
        self.vars[self.vars_base..].contains(&name)
    }

    fn add_define(&mut self, name: Arc<str>, body: List) {
        self.defines.push(Tree {
            name,
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root: body,
        });
    }

    fn template(&mut self, pos: usize, context: &str) -> PResult<Node> {
        let (p2, t2) = self.next_non_space()?;
        if !matches!(t2, Tok::Str(_) | Tok::EscapedStr(_) | Tok::RawStr(_)) {
            return Err((
                p2,
                format!("unexpected {} in {context} clause", t2.describe()),
            ));
        }
        let name = self.string_value(t2);
        let (p3, t3) = self.next_non_space()?;
        let pipe = if let Tok::End(trim) = t3 {
            self.trim_next = trim;
            None
        } else {
            Some(self.pipeline((p3, t3), context, false)?)
        };
        let _ = pos;
        Ok(Node::Template {
            pos: p2,
            name,
            pipe,
        })
    }

    fn branch(&mut self, pos: usize, kind: &str) -> PResult<Branch> {
        if self.depth >= MAX_DEPTH {
            return Err((pos, "max expression depth exceeded".into()));
        }
        self.depth += 1;
        let r = self.branch_inner(pos, kind);
        self.depth -= 1;
        r
    }

    fn branch_inner(&mut self, pos: usize, kind: &str) -> PResult<Branch> {
        let mark = self.vars.len();
        let first = self.next_non_space()?;
        let pipe = self.pipeline(first, kind, kind == "range")?;
        let (list, end) = self.list(false)?;
        let else_list = match end {
            ListEnd::End => None,
            ListEnd::Eof => return Err((self.lex.pos, "unexpected EOF".into())),
            ListEnd::Else(None) => {
                let (else_list, end2) = self.list(false)?;
                match end2 {
                    ListEnd::End => Some(else_list),
                    ListEnd::Eof => return Err((self.lex.pos, "unexpected EOF".into())),
                    ListEnd::Else(_) => {
                        return Err((self.lex.pos, "expected end; found {{else}}".into()))
                    }
                }
            }
            ListEnd::Else(Some(Tok::Ident(chain))) => {
                // `{{else if ...}}` / `{{else with ...}}`: a nested branch that shares our {{end}}.
                let (p2, _) = self.next_non_space()?;
                if chain != kind {
                    return Err((p2, format!("unexpected {{{{else {chain}}}}} in {kind}")));
                }
                let inner = self.branch(p2, chain)?;
                let node = if chain == "if" {
                    Node::If(inner)
                } else {
                    Node::With(inner)
                };
                Some(vec![node])
            }
            ListEnd::Else(Some(_)) => unreachable!("only if/with are pushed back"),
        };
        self.vars.truncate(mark);
        Ok(Branch {
            pos,
            pipe,
            list,
            else_list,
        })
    }

    /// A pipeline from its first token, already read, up to the closing delimiter.
    fn pipeline(
        &mut self,
        first: (usize, Tok<'a>),
        context: &str,
        allow_two_vars: bool,
    ) -> PResult<Pipe> {
        self.pipeline_until(first, context, allow_two_vars, false)
    }

    /// A pipeline from its first token up to the closing delimiter, or `)` when `in_paren`.
    fn pipeline_until(
        &mut self,
        (start, first): (usize, Tok<'a>),
        context: &str,
        allow_two_vars: bool,
        in_paren: bool,
    ) -> PResult<Pipe> {
        // The declared variables as written: at most two.
        let mut declared: [&'a str; 2] = ["", ""];
        let mut n_declared = 0;
        let mut is_assign = false;
        // Declarations: `$x :=`, `$x =`, `$i, $v :=`.
        if let Tok::Variable(v) = first {
            let after = self.next()?;
            let after = if matches!(after.1, Tok::Space) {
                self.next()?
            } else {
                after
            };
            match after.1 {
                Tok::Declare | Tok::Assign => {
                    is_assign = matches!(after.1, Tok::Assign);
                    declared[0] = v;
                    n_declared = 1;
                }
                Tok::Comma if allow_two_vars => {
                    let (p3, t3) = self.next_non_space()?;
                    let Tok::Variable(v2) = t3 else {
                        return Err((p3, "range can only initialize variables".to_string()));
                    };
                    let (p4, t4) = self.next_non_space()?;
                    match t4 {
                        Tok::Declare | Tok::Assign => {
                            is_assign = matches!(t4, Tok::Assign);
                            declared = [v, v2];
                            n_declared = 2;
                        }
                        other => {
                            return Err((
                                p4,
                                format!("unexpected {} in {context}", other.describe()),
                            ))
                        }
                    }
                }
                Tok::Comma => return Err((after.0, format!("too many declarations in {context}"))),
                _ => {
                    self.backup(after);
                    self.backup((start, first));
                }
            }
        } else {
            self.backup((start, first));
        }
        let declared = &declared[..n_declared];
        if is_assign {
            for d in declared {
                if !self.is_declared(d) {
                    return Err((start, format!("undefined variable {:?}", d)));
                }
            }
        }
        // Sized up front: cheaper than a first push's growth (see `command`).
        let mut cmds = Vec::with_capacity(1);
        loop {
            let (p, t) = self.next_non_space()?;
            match t {
                Tok::End(trim) if !in_paren => {
                    self.trim_next = trim;
                    break;
                }
                Tok::RParen if in_paren => break,
                Tok::End(_) | Tok::RParen => {
                    return Err((
                        p,
                        format!(
                            "unexpected {} in {}",
                            t.describe(),
                            if in_paren { "operand" } else { context }
                        ),
                    ));
                }
                _ => cmds.push(self.command((p, t))?),
            }
        }
        if !is_assign {
            self.vars.extend_from_slice(declared);
        }
        let decl = if declared.is_empty() {
            Vec::new()
        } else {
            declared.iter().map(|d| self.name(d)).collect()
        };
        if cmds.is_empty() {
            return Err((start, format!("missing value for {context}")));
        }
        for (i, c) in cmds.iter().enumerate().skip(1) {
            if let Some(first) = c.args.first() {
                if matches!(
                    first.kind,
                    ArgKind::Bool(_)
                        | ArgKind::Dot
                        | ArgKind::Nil
                        | ArgKind::Number(_)
                        | ArgKind::String(..)
                ) {
                    let _ = i;
                    return Err((
                        first.pos,
                        format!("non executable command in pipeline stage {}", i + 1),
                    ));
                }
            }
        }
        Ok(Pipe {
            pos: start,
            is_assign,
            decl,
            cmds,
        })
    }

    /// A command from its first token, already read, up to the `|` that ends it (consumed)
    /// or the end of the pipeline (left to be read).
    fn command(&mut self, first: (usize, Tok<'a>)) -> PResult<Command> {
        let pos = first.0;
        // Four operands cover nearly every command, and a first push would allocate as
        // many anyway, only through the slower growth path.
        let mut args = Vec::with_capacity(4);
        let mut t = first;
        loop {
            match t.1 {
                Tok::Pipe => {
                    if args.is_empty() {
                        return Err((t.0, "missing command".into()));
                    }
                    break;
                }
                Tok::End(_) | Tok::RParen => {
                    self.backup(t);
                    break;
                }
                _ => {
                    let operand = self.operand(t)?;
                    args.push(operand);
                    // Operands must be separated by space.
                    let after = self.next()?;
                    t = match after.1 {
                        Tok::Space => self.next_non_space()?,
                        Tok::Pipe | Tok::End(_) | Tok::RParen => after,
                        other => {
                            return Err((
                                after.0,
                                format!("unexpected {} in operand", other.describe()),
                            ))
                        }
                    };
                }
            }
        }
        if args.is_empty() {
            return Err((pos, "empty command".into()));
        }
        Ok(Command { pos, args })
    }

    /// Reads the fields that directly follow (`.a.b`) after `first_field` (a field token
    /// just read, starting at `chain_start`) or after nothing (`chain_start` is then where
    /// the lexer is). Gives where the first field read here was, if any, and the whole
    /// chain, `first_field` included.
    fn read_fields(
        &mut self,
        chain_start: usize,
        first_field: Option<&'a str>,
    ) -> PResult<(Option<usize>, Fields)> {
        let from = self.lex.pos;
        // With nothing pushed back, the lexer is just after the chain read so far.
        if self.peeked.is_empty() {
            if let Some(end) = self.lex.field_chain_end() {
                self.lex.pos = end;
                let first = (end > from).then_some(from);
                let text = &self.src[chain_start..end];
                if text.is_empty() {
                    return Ok((first, self.no_fields.clone()));
                }
                if let Some(fields) = self.interned.chains.get(text) {
                    return Ok((first, fields.clone()));
                }
                // A chain not met before: its names, split by a byte loop (names are short;
                // `str::split` cost several times more here).
                self.chain.clear();
                let bytes = text.as_bytes();
                let mut start = 1;
                for end in 2..=bytes.len() {
                    if end == bytes.len() || bytes[end] == b'.' {
                        let name = self.name(&text[start..end]);
                        self.chain.push(name);
                        start = end + 1;
                    }
                }
                let fields: Fields = self.chain.drain(..).collect();
                self.interned.chains.insert(text.into(), fields.clone());
                return Ok((first, fields));
            }
        }
        // Token by token (a token was pushed back, or a name is not ASCII).
        self.chain.clear();
        if let Some(f) = first_field {
            let name = self.name(f);
            self.chain.push(name);
        }
        let mut first = None;
        loop {
            let t = self.next()?;
            let Tok::Field(f) = t.1 else {
                self.backup(t);
                break;
            };
            first.get_or_insert(t.0);
            let name = self.name(f);
            self.chain.push(name);
        }
        let fields = if self.chain.is_empty() {
            self.no_fields.clone()
        } else {
            self.chain.drain(..).collect()
        };
        Ok((first, fields))
    }

    fn operand(&mut self, first: (usize, Tok<'a>)) -> PResult<Arg> {
        // Field and variable terms take the fields chained to them themselves.
        let term = self.term(first)?;
        if matches!(term.kind, ArgKind::Field(_) | ArgKind::Variable(..)) {
            return Ok(term);
        }
        let (Some(pos), fields) = self.read_fields(self.lex.pos, None)? else {
            return Ok(term);
        };
        // Go positions the combined node at the first chained field.
        match term.kind {
            ArgKind::Bool(_)
            | ArgKind::String(..)
            | ArgKind::Number(_)
            | ArgKind::Nil
            | ArgKind::Dot => {
                // Go has lexed the token after the chain by now: its error comes first.
                self.next()?;
                Err((
                    pos,
                    format!("unexpected . after term {:?}", term.to_string()),
                ))
            }
            _ => Ok(Arg {
                pos,
                kind: ArgKind::Chain(Box::new(term), fields),
            }),
        }
    }

    fn term(&mut self, (pos, t): (usize, Tok<'a>)) -> PResult<Arg> {
        let kind = match t {
            Tok::Ident(name) => match name {
                "true" => ArgKind::Bool(true),
                "false" => ArgKind::Bool(false),
                "nil" => ArgKind::Nil,
                _ => match self.functions.get(name) {
                    Some(known) => ArgKind::Identifier(known.clone()),
                    None => {
                        if KEYWORDS.contains(&name) {
                            return Err((pos, format!("unexpected <{name}> in operand")));
                        }
                        if !(self.funcs)(name) {
                            return Err((pos, format!("function {name:?} not defined")));
                        }
                        let shared = self.name(name);
                        self.functions.insert(name, shared.clone());
                        ArgKind::Identifier(shared)
                    }
                },
            },
            Tok::Dot => ArgKind::Dot,
            // A chain `.a.b` or `$x.a` is one node, positioned (as in Go) at its second part.
            Tok::Field(f) => {
                let (chained, fields) = self.read_fields(pos, Some(f))?;
                return Ok(Arg {
                    pos: chained.unwrap_or(pos),
                    kind: ArgKind::Field(fields),
                });
            }
            Tok::Variable(v) => {
                if !self.is_declared(v) {
                    return Err((pos, format!("undefined variable {v:?}")));
                }
                let name = self.name(v);
                let (chained, fields) = self.read_fields(self.lex.pos, None)?;
                return Ok(Arg {
                    pos: chained.unwrap_or(pos),
                    kind: ArgKind::Variable(name, fields),
                });
            }
            Tok::Str(raw) | Tok::EscapedStr(raw) | Tok::RawStr(raw) => {
                ArgKind::String(self.span(raw), self.string_value(t))
            }
            Tok::Number(text) => ArgKind::Number(Box::new(
                parse_number(self.span(text), false).map_err(|e| (pos, e.to_string()))?,
            )),
            Tok::Char(text) => ArgKind::Number(Box::new(
                parse_number(self.span(text), true).map_err(|e| (pos, e.to_string()))?,
            )),
            Tok::LParen => {
                if self.depth >= MAX_DEPTH {
                    return Err((pos, "max expression depth exceeded".into()));
                }
                self.depth += 1;
                let pipe = self.next_non_space().and_then(|first| {
                    self.pipeline_until(first, "parenthesized pipeline", false, true)
                });
                self.depth -= 1;
                ArgKind::Pipe(Box::new(pipe?))
            }
            other => return Err((pos, format!("unexpected {} in operand", other.describe()))),
        };
        Ok(Arg { pos, kind })
    }
}

enum Step<'a> {
    Node(Node),
    None,
    End,
    Else(Option<Tok<'a>>),
}

/// The names every template set knows without a FuncMap (Go's builtins), built once.
pub fn builtin_names() -> &'static HashSet<&'static str> {
    static NAMES: std::sync::LazyLock<HashSet<&'static str>> = std::sync::LazyLock::new(|| {
        [
            "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
            "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
        ]
        .into_iter()
        .collect()
    });
    &NAMES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Result<Parsed, ParseError> {
        parse("t", src, &|n| n == "upper" || builtin_names().contains(n))
    }

    #[test]
    fn parses_and_prints_nodes() {
        let t = p("a{{ .Values.x | upper }}b").unwrap();
        assert_eq!(t.main.root.len(), 3);
        assert_eq!(t.main.root[1].to_string(), "{{.Values.x | upper}}");
        let t = p("{{- if eq .a 1 }}x{{ else if .b }}y{{ else }}z{{ end -}}").unwrap();
        assert_eq!(t.main.root.len(), 1);
    }

    #[test]
    fn trims() {
        let t = p("a  {{- 1 -}}  \n b").unwrap();
        let texts: Vec<String> = t.main.root.iter().map(|n| n.to_string()).collect();
        assert_eq!(texts, vec!["\"a\"", "{{1}}", "\"b\""]);
    }

    #[test]
    fn errors_read_like_go() {
        assert_eq!(
            p("{{ nope }}").unwrap_err().to_string(),
            "template: t:1: function \"nope\" not defined"
        );
        assert_eq!(
            p("{{ if }}").unwrap_err().to_string(),
            "template: t:1: missing value for if"
        );
        assert_eq!(
            p("\n{{ $x }}").unwrap_err().to_string(),
            "template: t:2: undefined variable \"$x\""
        );
    }
    #[test]
    fn errors_name_the_line_of_their_offset() {
        assert_eq!(
            p("{{ if (eq 1 1) }}\n\n{{ end }}\n{{ nope }}")
                .unwrap_err()
                .to_string(),
            "template: t:4: function \"nope\" not defined"
        );
    }

    /// The operand `n` of the first command of the action that is node `i` of the root.
    fn operand(t: &Parsed, i: usize, n: usize) -> Arg {
        let Node::Action { pipe, .. } = &t.main.root[i] else {
            panic!("node {i} is not an action");
        };
        pipe.cmds[0].args[n].clone()
    }

    fn fields(a: &Arg) -> Fields {
        match &a.kind {
            ArgKind::Field(f) | ArgKind::Variable(_, f) | ArgKind::Chain(_, f) => f.clone(),
            _ => panic!("{a} has no fields"),
        }
    }

    #[test]
    fn field_chains_are_read_whole_and_shared() {
        // `$x .a.b` pushes `$x` and its first field back: the chain is then read token by
        // token. Positions are those of the chain's second part, as in Go.
        let t =
            p("{{ .a.b }}{{ $x := 1 }}{{ $x.a.b }}{{ .a.b.c }}{{ (.a).a.b }}{{ .ä.b }}").unwrap();
        let first = operand(&t, 0, 0);
        assert_eq!(first.pos, 5);
        let by_tokens = operand(&t, 2, 0);
        assert_eq!(by_tokens.to_string(), "$x.a.b");
        assert_eq!(by_tokens.pos, 28);
        let longer = operand(&t, 3, 0);
        assert_eq!(&*fields(&longer), ["a", "b", "c"].map(Name::from));
        let chained = operand(&t, 4, 0);
        assert_eq!(chained.to_string(), "(.a).a.b");
        assert!(Arc::ptr_eq(&fields(&first), &fields(&chained)));
        assert_eq!(&*fields(&operand(&t, 5, 0)), ["ä", "b"].map(Name::from));
    }

    #[test]
    fn later_parses_on_a_thread_share_names_and_chains() {
        let first = p("{{ .Values.image.tag }}").unwrap();
        let second = p("x{{ .Values.image.tag }}{{ $x := .Values }}").unwrap();
        let chain = |t: &Parsed, i| fields(&operand(t, i, 0));
        assert!(Arc::ptr_eq(&chain(&first, 0), &chain(&second, 1)));
        // An error leaves the shared copies usable.
        assert!(p("{{ .Values.nope nope }}").is_err());
        let third = p("{{ .Values.image.tag }}").unwrap();
        assert!(Arc::ptr_eq(&chain(&first, 0), &chain(&third, 0)));
        assert_eq!(chain(&third, 0).join("."), "Values.image.tag");
    }

    #[test]
    fn long_field_chains_name_every_field() {
        for lens in [[1, 60, 3, 2], [62, 1, 1, 70], [7; 4]] {
            let names: Vec<Name> = lens
                .iter()
                .enumerate()
                .map(|(i, &n)| Name::from(char::from(b'a' + i as u8).to_string().repeat(n)))
                .collect();
            let chain = format!(".{}", names.join("."));
            for src in [
                format!("{{{{ {chain} }}}}"),
                format!("{{{{ $x := 1 }}}}{{{{ $x{chain} }}}}"),
            ] {
                let t = p(&src).unwrap();
                let arg = operand(&t, t.main.root.len() - 1, 0);
                assert_eq!(&*fields(&arg), &names[..], "{src}");
            }
        }
    }

    #[test]
    fn a_chained_constant_fails_after_the_next_token_is_read() {
        // Go lexes the token after the chain before it reports the chain.
        assert_eq!(
            p("{{ 'c'.a*/ }}").unwrap_err().to_string(),
            "template: t:1: unrecognized character in action: '*'"
        );
        assert_eq!(
            p("{{ 'c'.a }}").unwrap_err().to_string(),
            "template: t:1: unexpected . after term \"'c'\""
        );
    }

    #[test]
    fn pipeline_errors_come_in_go_order() {
        // An error inside a later command comes before a constant stage's.
        assert_eq!(
            p("{{ .a | 1 | nope }}").unwrap_err().to_string(),
            "template: t:1: function \"nope\" not defined"
        );
        assert_eq!(
            p("{{ .a | not | 1 }}").unwrap_err().to_string(),
            "template: t:1: non executable command in pipeline stage 3"
        );
    }

    #[test]
    fn defines_are_collected() {
        let t = p("{{ define \"x\" }}X{{ end }}rest").unwrap();
        assert_eq!(t.defines.len(), 1);
        assert_eq!(&*t.defines[0].name, "x");
    }
}
