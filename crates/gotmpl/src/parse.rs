//! Lexing and parsing Go template text into trees (Go's `text/template/parse`).
//!
//! The lexer and parser are one pass: text is scanned for `{{`, and each action is tokenised
//! and parsed on the spot. Nodes keep their byte offset so errors can name `line:column` as Go
//! does (the column is Go's 0-based byte offset within the line), and each node can print
//! itself the way Go's `Node.String()` does, for the `at <...>` part of execution errors.

type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::fmt::{self, Write};
use std::sync::Arc;

/// A parsed template body.
pub type List = Vec<Node>;

/// A field, variable or function name in a tree. Names repeat a great deal (`Values`,
/// `common`, `include`...), so each parse keeps one shared copy of each name rather than
/// allocating it at every use.
pub type Name = Arc<str>;

#[derive(Debug, Clone)]
pub enum Node {
    Text(Arc<str>),
    /// `{{ pipeline }}`
    Action {
        pos: usize,
        line: usize,
        pipe: Pipe,
    },
    If(Branch),
    Range(Branch),
    With(Branch),
    /// `{{ template "name" pipeline }}`
    Template {
        pos: usize,
        line: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break {
        pos: usize,
        line: usize,
    },
    Continue {
        pos: usize,
        line: usize,
    },
}

/// `if`, `range` and `with`: a pipeline, a body and an optional `else` body.
#[derive(Debug, Clone)]
pub struct Branch {
    pub pos: usize,
    pub line: usize,
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    pub line: usize,
    /// `$x = ...` rather than `$x := ...`.
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// A number constant with Go's flags for what it can be.
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub int: i64,
    pub uint: u64,
    pub float: f64,
}

#[derive(Debug, Clone)]
pub enum ArgKind {
    Dot,
    Nil,
    Bool(bool),
    Number(Box<Number>),
    /// The quoted text as written, and its value.
    String(String, Arc<str>),
    /// `.a.b`
    Field(Vec<Name>),
    /// `$x.a.b`: the name (with `$`) and the fields.
    Variable(Name, Vec<Name>),
    /// A function name.
    Identifier(Name),
    /// `( pipeline )`
    Pipe(Box<Pipe>),
    /// `(pipeline).a.b` or `$x.a` after a parenthesis: the operand and the fields.
    Chain(Box<Arg>, Vec<Name>),
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub pos: usize,
    pub kind: ArgKind,
}

/// A parsed template: its body and where it came from.
#[derive(Debug)]
pub struct Tree {
    /// The name of the template (a file path, or a `define`d name).
    pub name: String,
    /// The name of the file it was parsed from (Go's `ParseName`), used in error locations.
    pub parse_name: String,
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
// Node printing (Go's String() methods)

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ArgKind::Dot => f.write_str("."),
            ArgKind::Nil => f.write_str("nil"),
            ArgKind::Bool(b) => write!(f, "{b}"),
            ArgKind::Number(n) => f.write_str(&n.text),
            ArgKind::String(quoted, _) => f.write_str(quoted),
            ArgKind::Field(idents) => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            ArgKind::Variable(name, idents) => {
                f.write_str(name)?;
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            ArgKind::Identifier(name) => f.write_str(name),
            ArgKind::Pipe(p) => write!(f, "({p})"),
            ArgKind::Chain(node, fields) => {
                write!(f, "{node}")?;
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &List) -> fmt::Result {
    for n in list {
        write!(f, "{n}")?;
    }
    Ok(())
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text(t) => write!(f, "{:?}", t),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                let kw = match self {
                    Node::If(_) => "if",
                    Node::Range(_) => "range",
                    _ => "with",
                };
                write!(f, "{{{{{kw} {}}}}}", b.pipe)?;
                write_list(f, &b.list)?;
                if let Some(e) = &b.else_list {
                    f.write_str("{{else}}")?;
                    write_list(f, e)?;
                }
                f.write_str("{{end}}")
            }
            Node::Template { name, pipe, .. } => match pipe {
                Some(p) => write!(f, "{{{{template {:?} {p}}}}}", name),
                None => write!(f, "{{{{template {:?}}}}}", name),
            },
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer

/// A token; its text borrows the template source, so tokens cost no allocation and
/// peeking (which copies one) is cheap.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Ident(&'a str),
    Field(&'a str),
    Variable(&'a str),
    /// A quoted string as written (checked by the lexer: [`Tok::string_value`] cannot fail).
    Str(&'a str),
    /// A raw (back-quoted) string as written.
    RawStr(&'a str),
    Char(&'a str),
    Number(&'a str),
    Dot,
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
    Space,
    /// The right delimiter, with whether it trims (`-}}`).
    End(bool),
}

impl Tok<'_> {
    /// The value of a string token (`None` for other tokens). The lexer has checked that a
    /// quoted string unquotes, so that its errors come where Go's do.
    fn string_value(&self) -> Option<Arc<str>> {
        match *self {
            Tok::Str(raw) => unquote(raw).ok(),
            Tok::RawStr(raw) => {
                let body = &raw[1..raw.len() - 1];
                Some(if body.contains('\r') {
                    Arc::from(body.replace('\r', ""))
                } else {
                    Arc::from(body)
                })
            }
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Field(s) | Tok::Variable(s) | Tok::Number(s) | Tok::Char(s) => {
                format!("{s:?}")
            }
            Tok::Str(raw) | Tok::RawStr(raw) => format!("{raw:?}"),
            Tok::Dot => "\".\"".into(),
            Tok::LParen => "\"(\"".into(),
            Tok::RParen => "\")\"".into(),
            Tok::Pipe => "\"|\"".into(),
            Tok::Declare => "\":=\"".into(),
            Tok::Assign => "\"=\"".into(),
            Tok::Comma => "\",\"".into(),
            Tok::Space => "space".into(),
            Tok::End(_) => "\"}}\"".into(),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "nil", "template", "with",
];

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        c.is_alphanumeric()
    }
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        // ASCII without decoding: nearly every byte of an action is.
        match self.src.as_bytes().get(self.pos) {
            Some(&b) if b.is_ascii() => Some(b as char),
            Some(_) => self.src[self.pos..].chars().next(),
            None => None,
        }
    }

    /// Moves past letters, digits and underscores (Go's `isAlphaNumeric`).
    fn skip_alnum(&mut self) {
        let bytes = self.src.as_bytes();
        loop {
            match bytes.get(self.pos) {
                Some(&b) if b.is_ascii_alphanumeric() || b == b'_' => self.pos += 1,
                Some(&b) if !b.is_ascii() => match self.peek() {
                    Some(c) if c.is_alphanumeric() => self.pos += c.len_utf8(),
                    _ => return,
                },
                _ => return,
            }
        }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    /// The next token inside an action. Errors carry Go's lexer messages.
    fn next(&mut self) -> Result<(usize, Tok<'a>), String> {
        let start = self.pos;
        let rest = self.rest();
        if rest.starts_with(" -}}")
            || rest.starts_with("\t-}}")
            || rest.starts_with("\r-}}")
            || rest.starts_with("\n-}}")
        {
            self.pos += 4;
            return Ok((start + 1, Tok::End(true)));
        }
        if rest.starts_with("}}") {
            self.pos += 2;
            return Ok((start, Tok::End(false)));
        }
        let Some(c) = self.peek() else {
            return Err("unclosed action".into());
        };
        if is_space(c) {
            while self.peek().is_some_and(is_space) {
                let r = self.rest();
                if r.starts_with(" -}}")
                    || r.starts_with("\t-}}")
                    || r.starts_with("\r-}}")
                    || r.starts_with("\n-}}")
                {
                    break;
                }
                self.pos += 1;
            }
            return Ok((start, Tok::Space));
        }
        self.pos += c.len_utf8();
        let tok = match c {
            '=' => Tok::Assign,
            ':' => {
                if self.peek() != Some('=') {
                    return Err("expected :=".into());
                }
                self.pos += 1;
                Tok::Declare
            }
            '|' => Tok::Pipe,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '"' => {
                loop {
                    match self.peek() {
                        None | Some('\n') => return Err("unterminated quoted string".into()),
                        Some('\\') => {
                            self.pos += 1;
                            match self.peek() {
                                None | Some('\n') => {
                                    return Err("unterminated quoted string".into())
                                }
                                Some(e) => self.pos += e.len_utf8(),
                            }
                        }
                        Some('"') => {
                            self.pos += 1;
                            break;
                        }
                        Some(o) => self.pos += o.len_utf8(),
                    }
                }
                let raw = &self.src[start..self.pos];
                // Only escapes can make a quoted string invalid; check them now (the value
                // is made where the string is used).
                if raw.contains('\\') {
                    unquote(raw).map_err(|_| format!("invalid syntax: {raw}"))?;
                }
                Tok::Str(raw)
            }
            '`' => {
                match self.rest().find('`') {
                    Some(i) => self.pos += i + 1,
                    None => return Err("unterminated raw quoted string".into()),
                }
                Tok::RawStr(&self.src[start..self.pos])
            }
            '\'' => {
                loop {
                    match self.peek() {
                        None | Some('\n') => return Err("unterminated character constant".into()),
                        Some('\\') => {
                            self.pos += 1;
                            if let Some(e) = self.peek() {
                                self.pos += e.len_utf8();
                            }
                        }
                        Some('\'') => {
                            self.pos += 1;
                            break;
                        }
                        Some(o) => self.pos += o.len_utf8(),
                    }
                }
                Tok::Char(&self.src[start..self.pos])
            }
            '$' => {
                self.skip_alnum();
                Tok::Variable(&self.src[start..self.pos])
            }
            '.' => {
                if self.peek().is_some_and(|n| n.is_ascii_digit()) {
                    self.pos = start;
                    return self.number(start);
                }
                if self.peek().is_some_and(is_alnum) {
                    self.skip_alnum();
                    Tok::Field(&self.src[start + 1..self.pos])
                } else {
                    Tok::Dot
                }
            }
            '+' | '-' | '0'..='9' => {
                self.pos = start;
                return self.number(start);
            }
            c if is_alnum(c) => {
                self.skip_alnum();
                Tok::Ident(&self.src[start..self.pos])
            }
            c => {
                return Err(format!(
                    "unrecognized character in action: {}",
                    go_quote_rune(c)
                ))
            }
        };
        Ok((start, tok))
    }

    fn number(&mut self, start: usize) -> Result<(usize, Tok<'a>), String> {
        let b = self.src.as_bytes();
        let mut i = self.pos;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let mut digits: &[u8] = b"0123456789_";
        if i + 1 < b.len() && b[i] == b'0' {
            match b[i + 1] {
                b'x' | b'X' => {
                    i += 2;
                    digits = b"0123456789abcdefABCDEF_";
                }
                b'o' | b'O' => {
                    i += 2;
                    digits = b"01234567_";
                }
                b'b' | b'B' => {
                    i += 2;
                    digits = b"01_";
                }
                _ => {}
            }
        }
        while i < b.len() && digits.contains(&b[i]) {
            i += 1;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && digits.contains(&b[i]) {
                i += 1;
            }
        }
        let hex = digits.len() > 11;
        if i < b.len()
            && ((!hex && (b[i] == b'e' || b[i] == b'E')) || (hex && (b[i] == b'p' || b[i] == b'P')))
        {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            while i < b.len() && b"0123456789_".contains(&b[i]) {
                i += 1;
            }
        }
        if i < b.len() && b[i] == b'i' {
            i += 1;
        }
        let bad = i < b.len() && is_alnum(self.src[i..].chars().next().unwrap_or(' '));
        if bad {
            let mut j = i;
            while j < b.len() && is_alnum(self.src[j..].chars().next().unwrap_or(' ')) {
                j += self.src[j..].chars().next().map_or(1, char::len_utf8);
            }
            return Err(format!("bad number syntax: {:?}", &self.src[start..j]));
        }
        self.pos = i;
        Ok((start, Tok::Number(&self.src[start..i])))
    }
}

fn go_quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        c if c.is_control() => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

/// Go's `strconv.Unquote` for double-quoted strings.
#[allow(clippy::result_unit_err)]
pub fn unquote(raw: &str) -> Result<Arc<str>, ()> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or(())?;
    if !inner.contains('\\') {
        return Ok(Arc::from(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    let mut bytes: Vec<u8> = Vec::new();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        }
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush(&mut bytes, &mut out);
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or(())?;
        let hex = |n: usize, chars: &mut std::iter::Peekable<std::str::Chars>| -> Result<u32, ()> {
            let mut v = 0u32;
            for _ in 0..n {
                v = v * 16 + chars.next().ok_or(())?.to_digit(16).ok_or(())?;
            }
            Ok(v)
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'x' => {
                bytes.push(hex(2, &mut chars)? as u8);
                continue;
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).ok_or(())?;
                for _ in 0..2 {
                    v = v * 8 + chars.next().ok_or(())?.to_digit(8).ok_or(())?;
                }
                if v > 255 {
                    return Err(());
                }
                bytes.push(v as u8);
                continue;
            }
            'u' => out.push(char::from_u32(hex(4, &mut chars)?).ok_or(())?),
            'U' => out.push(char::from_u32(hex(8, &mut chars)?).ok_or(())?),
            _ => return Err(()),
        }
        flush(&mut bytes, &mut out);
    }
    flush(&mut bytes, &mut out);
    Ok(Arc::from(out))
}

/// Go's `strconv.UnquoteChar` of a character constant `'x'`: its rune value.
fn unquote_char(raw: &str) -> Result<u32, String> {
    let inner = &raw[1..raw.len() - 1];
    let err = || format!("malformed character constant: {raw}");
    if let Some(esc) = inner.strip_prefix('\\') {
        let v = match esc {
            "a" => 7,
            "b" => 8,
            "f" => 12,
            "n" => 10,
            "r" => 13,
            "t" => 9,
            "v" => 11,
            "\\" => 92,
            "'" => 39,
            _ => {
                let (radix, digits) = match esc.chars().next() {
                    Some('x') => (16, &esc[1..]),
                    Some('u') => (16, &esc[1..]),
                    Some('U') => (16, &esc[1..]),
                    Some('0'..='7') => (8, esc),
                    _ => return Err(err()),
                };
                u32::from_str_radix(digits, radix).map_err(|_| err())?
            }
        };
        return Ok(v);
    }
    let mut chars = inner.chars();
    let c = chars.next().ok_or_else(err)?;
    if chars.next().is_some() {
        return Err(err());
    }
    Ok(c as u32)
}

/// Go's `strconv.ParseInt(text, 0, 64)` / `ParseUint`: base prefixes, underscores only
/// after a prefix (or between digits with base 0).
fn parse_go_int(text: &str) -> Option<i128> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = rudder_value::gofmt::go_int_radix(body);
    let prefixed = digits.len() != body.len();
    // Underscores must separate digits (a prefix counts as a digit).
    if digits.contains('_') {
        let check = if prefixed {
            format!("0{digits}")
        } else {
            digits.to_string()
        };
        if check.starts_with('_') || check.ends_with('_') || check.contains("__") {
            return None;
        }
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    let v = i128::from_str_radix(&clean, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn parse_number(text: &str, is_char: bool) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        is_int: false,
        is_uint: false,
        is_float: false,
        int: 0,
        uint: 0,
        float: 0.0,
    };
    if is_char {
        let r = unquote_char(text)?;
        n.int = r as i64;
        n.uint = r as u64;
        n.float = r as f64;
        n.is_int = true;
        n.is_uint = true;
        n.is_float = true;
        return Ok(n);
    }
    if text.ends_with('i') {
        return Err(format!("complex numbers are not supported: {text:?}"));
    }
    if let Some(v) = parse_go_int(text) {
        if v >= 0 && v <= u64::MAX as i128 {
            n.is_uint = true;
            n.uint = v as u64;
        }
        if v >= i64::MIN as i128 && v <= i64::MAX as i128 {
            n.is_int = true;
            n.int = v as i64;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float = n.uint as f64;
    } else {
        let clean: String = text.chars().filter(|&c| c != '_').collect();
        let parsed = if clean.contains("0x") || clean.contains("0X") {
            parse_hex_float(&clean)
        } else {
            clean.parse::<f64>().ok()
        };
        if let Some(f) = parsed.filter(|f| f.is_finite()) {
            if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(format!("integer overflow: {text:?}"));
            }
            n.is_float = true;
            n.float = f;
            if f == (f as i64) as f64 && f.abs() < 9.3e18 {
                n.is_int = true;
                n.int = f as i64;
            }
            if f >= 0.0 && f == (f as u64) as f64 && f < 1.85e19 {
                n.is_uint = true;
                n.uint = f as u64;
            }
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!("illegal number syntax: {text:?}"));
    }
    Ok(n)
}

/// Go's `strconv.ParseFloat` of a hexadecimal float (`0x1p60`, `-0x1.8p-2`): hex digits with
/// an optional point, then a binary exponent, which is required. Rust's `f64::from_str` has
/// no hex floats.
fn parse_hex_float(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))?;
    let (mantissa, exponent) = rest.split_once(['p', 'P'])?;
    let exponent: i32 = match exponent.strip_prefix('+') {
        Some(e) if !e.starts_with('-') => e.parse().ok()?,
        Some(_) => return None,
        None => exponent.parse().ok()?,
    };
    let (int_digits, frac_digits) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    // Keep 30 significant hex digits (120 bits, far more than a float's 53) and remember
    // whether anything non-zero was dropped, so that rounding to a float is still right.
    let mut value: u128 = 0;
    let mut kept = 0;
    let mut scale = exponent.saturating_sub(4 * frac_digits.len() as i32);
    let mut sticky = false;
    for (i, c) in int_digits.chars().chain(frac_digits.chars()).enumerate() {
        let d = c.to_digit(16)? as u128;
        if value == 0 && d == 0 {
            continue;
        }
        if kept < 30 {
            value = value * 16 + d;
            kept += 1;
        } else {
            sticky |= d != 0;
            if i < int_digits.len() {
                scale = scale.saturating_add(4);
            }
        }
    }
    if sticky {
        value |= 1;
    }
    let mut f = value as f64;
    // Scale in steps that stay exact until the result itself over- or underflows.
    while scale > 0 {
        let step = scale.min(1000);
        f *= 2f64.powi(step);
        scale -= step;
    }
    while scale < 0 {
        let step = scale.max(-1000);
        f *= 2f64.powi(step);
        scale -= step;
    }
    if f.is_infinite() {
        return None;
    }
    Some(if negative { -f } else { f })
}

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
    vars: Vec<String>,
    funcs: &'f dyn Fn(&str) -> bool,
    /// Names of the enclosing range loops (for break/continue checks).
    range_depth: usize,
    /// Trailing-trim request from the previous action.
    trim_next: bool,
    /// Where the action being parsed started (for "unclosed action" errors).
    action_start: usize,
    /// The last (offset, line) computed by `line_of`.
    line_cache: std::cell::Cell<(usize, usize)>,
    /// Nesting of parentheses and control structures, bounded like Go's parser so that no
    /// input can exhaust the stack.
    depth: usize,
    /// One shared copy of each name met (see [`Name`]).
    names: HashMap<&'a str, Name>,
}

/// Go's `maxStackDepth`.
const MAX_DEPTH: usize = 10_000;

/// Where a list ended: at `{{end}}` or at `{{else ...}}` (with what follows `else`).
enum ListEnd<'a> {
    End,
    Else(Option<Tok<'a>>),
    Eof,
}

pub fn parse(name: &str, src: &str, funcs: &dyn Fn(&str) -> bool) -> Result<Parsed, ParseError> {
    let text: Arc<str> = Arc::from(src);
    let mut p = Parser {
        name,
        src,
        text: text.clone(),
        lex: Lexer { src, pos: 0 },
        peeked: Vec::new(),
        defines: Vec::new(),
        vars: vec!["$".into()],
        funcs,
        range_depth: 0,
        trim_next: false,
        action_start: 0,
        line_cache: std::cell::Cell::new((0, 1)),
        depth: 0,
        names: HashMap::default(),
    };
    let (root, end) = p.list(true).map_err(|(pos, m)| p.error(pos, m))?;
    match end {
        ListEnd::Eof => {}
        ListEnd::End => return Err(p.error(p.lex.pos, "unexpected {{end}}".into())),
        ListEnd::Else(_) => return Err(p.error(p.lex.pos, "unexpected {{else}}".into())),
    }
    Ok(Parsed {
        main: Tree {
            name: name.to_string(),
            parse_name: name.to_string(),
            text,
            root,
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

/// Line breaks in `bytes` (vectorised: line numbers are computed for every node).
fn count_newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

impl<'a, 'f> Parser<'a, 'f> {
    /// The shared copy of `name`.
    fn name(&mut self, name: &'a str) -> Name {
        self.names
            .entry(name)
            .or_insert_with(|| Arc::from(name))
            .clone()
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

    /// The line of a byte offset, counted from the last answer (forwards or backwards), not
    /// from the start of the text: parsing asks near where it last asked, but not always
    /// forwards (a branch's line is asked after its body), and counting from the start each
    /// time made parsing quadratic in the file's length.
    fn line_of(&self, pos: usize) -> usize {
        let pos = pos.min(self.src.len());
        let (cached, line) = self.line_cache.get();
        let bytes = self.src.as_bytes();
        let line = if cached <= pos {
            line + count_newlines(&bytes[cached..pos])
        } else {
            line - count_newlines(&bytes[pos..cached])
        };
        self.line_cache.set((pos, line));
        line
    }

    fn next(&mut self) -> PResult<(usize, Tok<'a>)> {
        if let Some(t) = self.peeked.pop() {
            return Ok(t);
        }
        let pos = self.lex.pos;
        self.lex.next().map_err(|m| {
            if m == "unclosed action" {
                let line = self.line_of(self.action_start);
                (
                    pos,
                    format!("unclosed action started at {}:{line}", self.name),
                )
            } else {
                (pos, m)
            }
        })
    }

    fn next_non_space(&mut self) -> PResult<(usize, Tok<'a>)> {
        loop {
            let t = self.next()?;
            if !matches!(t.1, Tok::Space) {
                return Ok(t);
            }
        }
    }

    fn backup(&mut self, t: (usize, Tok<'a>)) {
        self.peeked.push(t);
    }

    fn peek_non_space(&mut self) -> PResult<(usize, Tok<'a>)> {
        let t = self.next_non_space()?;
        self.backup(t);
        Ok(t)
    }

    /// Parses text and actions until `{{end}}`, `{{else}}` or the end of input.
    fn list(&mut self, top: bool) -> PResult<(List, ListEnd<'a>)> {
        let mut list = List::new();
        loop {
            let rest = &self.src[self.lex.pos..];
            let Some(open) = find_two(rest.as_bytes(), b"{{") else {
                let mut t = rest;
                if self.trim_next {
                    t = t.trim_start_matches(is_space);
                    self.trim_next = false;
                }
                if !t.is_empty() {
                    list.push(Node::Text(Arc::from(t)));
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
                list.push(Node::Text(Arc::from(t)));
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
            match self.action(action_start, top)? {
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

    fn action(&mut self, start: usize, top: bool) -> PResult<Step<'a>> {
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
                    let line = self.line_of(pos);
                    return Ok(Step::Node(if word == "break" {
                        Node::Break { pos, line }
                    } else {
                        Node::Continue { pos, line }
                    }));
                }
                "template" => return self.template(pos, "template").map(Step::Node),
                "block" => {
                    let node = self.template(pos, "block")?;
                    let Node::Template { name, .. } = &node else {
                        unreachable!()
                    };
                    let name = name.clone();
                    let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
                    let (body, end) = self.list(false)?;
                    self.vars = saved_vars;
                    if !matches!(end, ListEnd::End) {
                        return Err((self.lex.pos, "unexpected EOF".into()));
                    }
                    self.add_define(&name, body);
                    return Ok(Step::Node(node));
                }
                "define" => {
                    if !top {
                        return Err((pos, "unexpected <define> in command".into()));
                    }
                    let (p2, t2) = self.next_non_space()?;
                    let Some(name) = t2.string_value() else {
                        return Err((p2, format!("unexpected {} in define clause", t2.describe())));
                    };
                    self.expect_end("define clause")?;
                    let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
                    let (body, end) = self.list(false)?;
                    self.vars = saved_vars;
                    match end {
                        ListEnd::End => {}
                        ListEnd::Eof => return Err((self.lex.pos, "unexpected EOF".into())),
                        ListEnd::Else(_) => {
                            return Err((self.lex.pos, "unexpected {{else}}".into()))
                        }
                    }
                    self.add_define(&name, body);
                    return Ok(Step::None);
                }
                _ => {}
            }
        }
        self.backup((pos, tok));
        let pipe = self.pipeline("command", false)?;
        let line = self.line_of(start);
        let _ = start;
        Ok(Step::Node(Node::Action {
            pos: pipe.pos,
            line,
            pipe,
        }))
    }

    fn add_define(&mut self, name: &str, body: List) {
        self.defines.push(Tree {
            name: name.to_string(),
            parse_name: self.name.to_string(),
            text: self.text.clone(),
            root: body,
        });
    }

    fn template(&mut self, pos: usize, context: &str) -> PResult<Node> {
        let (p2, t2) = self.next_non_space()?;
        let Some(name) = t2.string_value() else {
            return Err((
                p2,
                format!("unexpected {} in {context} clause", t2.describe()),
            ));
        };
        let name = name.to_string();
        let (p3, t3) = self.next_non_space()?;
        let pipe = if let Tok::End(trim) = t3 {
            self.trim_next = trim;
            None
        } else {
            self.backup((p3, t3));
            Some(self.pipeline(context, false)?)
        };
        let _ = pos;
        Ok(Node::Template {
            pos: p2,
            line: self.line_of(p2),
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
        let pipe = self.pipeline(kind, kind == "range")?;
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
            line: self.line_of(pos),
            pipe,
            list,
            else_list,
        })
    }

    /// A pipeline up to the closing delimiter (or `)` when `in_paren`).
    fn pipeline(&mut self, context: &str, allow_two_vars: bool) -> PResult<Pipe> {
        self.pipeline_until(context, allow_two_vars, false)
    }

    fn pipeline_until(
        &mut self,
        context: &str,
        allow_two_vars: bool,
        in_paren: bool,
    ) -> PResult<Pipe> {
        let (start, _) = self.peek_non_space()?;
        let mut decl = Vec::new();
        let mut is_assign = false;
        // Declarations: `$x :=`, `$x =`, `$i, $v :=`.
        if let (vpos, Tok::Variable(v)) = self.peek_non_space()? {
            self.next_non_space()?;
            let after = self.next()?;
            let after = if matches!(after.1, Tok::Space) {
                self.next()?
            } else {
                after
            };
            match after.1 {
                Tok::Declare | Tok::Assign => {
                    is_assign = matches!(after.1, Tok::Assign);
                    decl.push(v.to_string());
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
                            decl.push(v.to_string());
                            decl.push(v2.to_string());
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
                    self.backup((vpos, Tok::Variable(v)));
                }
            }
        }
        if is_assign {
            for d in &decl {
                if !self.vars.contains(d) {
                    return Err((start, format!("undefined variable {:?}", d)));
                }
            }
        }
        let mut cmds = Vec::new();
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
                _ => {
                    self.backup((p, t));
                    cmds.push(self.command(in_paren)?);
                }
            }
        }
        if !is_assign {
            for d in &decl {
                self.vars.push(d.clone());
            }
        }
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
            line: self.line_of(start),
            is_assign,
            decl,
            cmds,
        })
    }

    fn command(&mut self, in_paren: bool) -> PResult<Command> {
        let (pos, _) = self.peek_non_space()?;
        let mut args = Vec::new();
        loop {
            let t = self.next()?;
            match t.1 {
                Tok::Space => continue,
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
                    self.backup(t);
                    let operand = self.operand()?;
                    args.push(operand);
                    // Operands must be separated by space.
                    let after = self.next()?;
                    match after.1 {
                        Tok::Space | Tok::Pipe | Tok::End(_) | Tok::RParen => self.backup(after),
                        other => {
                            return Err((
                                after.0,
                                format!("unexpected {} in operand", other.describe()),
                            ))
                        }
                    }
                }
            }
        }
        let _ = in_paren;
        if args.is_empty() {
            return Err((pos, "empty command".into()));
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> PResult<Arg> {
        let term = self.term()?;
        // Field chains directly after the term; Go positions the combined node at the first
        // chained field.
        let mut fields = Vec::new();
        let mut chain_pos = term.pos;
        loop {
            let t = self.next()?;
            if let Tok::Field(f) = t.1 {
                if fields.is_empty() {
                    chain_pos = t.0;
                }
                fields.push(self.name(f));
            } else {
                self.backup(t);
                break;
            }
        }
        if fields.is_empty() {
            return Ok(term);
        }
        let pos = chain_pos;
        Ok(match term.kind {
            ArgKind::Field(mut f) => {
                f.extend(fields);
                Arg {
                    pos,
                    kind: ArgKind::Field(f),
                }
            }
            ArgKind::Variable(name, mut f) => {
                f.extend(fields);
                Arg {
                    pos,
                    kind: ArgKind::Variable(name, f),
                }
            }
            ArgKind::Bool(_)
            | ArgKind::String(..)
            | ArgKind::Number(_)
            | ArgKind::Nil
            | ArgKind::Dot => {
                return Err((
                    pos,
                    format!("unexpected . after term {:?}", term.to_string()),
                ));
            }
            _ => Arg {
                pos,
                kind: ArgKind::Chain(Box::new(term), fields),
            },
        })
    }

    fn term(&mut self) -> PResult<Arg> {
        let (pos, t) = self.next_non_space()?;
        let kind = match t {
            Tok::Ident(name) => match name {
                "true" => ArgKind::Bool(true),
                "false" => ArgKind::Bool(false),
                "nil" => ArgKind::Nil,
                _ if KEYWORDS.contains(&name) => {
                    return Err((pos, format!("unexpected <{name}> in operand")));
                }
                _ => {
                    if !(self.funcs)(name) {
                        return Err((pos, format!("function {name:?} not defined")));
                    }
                    ArgKind::Identifier(self.name(name))
                }
            },
            Tok::Dot => ArgKind::Dot,
            Tok::Field(f) => ArgKind::Field(vec![self.name(f)]),
            Tok::Variable(v) => {
                if !self.vars.iter().any(|known| known == v) {
                    return Err((pos, format!("undefined variable {v:?}")));
                }
                ArgKind::Variable(self.name(v), Vec::new())
            }
            Tok::Str(raw) | Tok::RawStr(raw) => {
                ArgKind::String(raw.to_string(), t.string_value().unwrap_or_default())
            }
            Tok::Number(text) => {
                ArgKind::Number(Box::new(parse_number(text, false).map_err(|m| (pos, m))?))
            }
            Tok::Char(text) => {
                ArgKind::Number(Box::new(parse_number(text, true).map_err(|m| (pos, m))?))
            }
            Tok::LParen => {
                if self.depth >= MAX_DEPTH {
                    return Err((pos, "max expression depth exceeded".into()));
                }
                self.depth += 1;
                let pipe = self.pipeline_until("parenthesized pipeline", false, true);
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
    fn numbers() {
        let n = parse_number("0x1F", false).unwrap();
        assert!(n.is_int && n.int == 31);
        let n = parse_number("1e3", false).unwrap();
        assert!(n.is_int && n.is_float && n.int == 1000);
        let n = parse_number("1.5", false).unwrap();
        assert!(!n.is_int && n.is_float);
        assert!(parse_number("99999999999999999999", false).is_err());
        let n = parse_number("'a'", true).unwrap();
        assert_eq!(n.int, 97);
    }

    #[test]
    fn lines_stay_right_when_asked_out_of_order() {
        // A branch's line is taken after its body, a pipeline's after its parentheses.
        let t = p("a\n{{ if (eq 1\n 1) }}\n\n{{ (eq\n 2 2) }}{{ end }}\n{{ 3 }}").unwrap();
        let Node::If(b) = &t.main.root[1] else {
            panic!("expected an if node: {:?}", t.main.root);
        };
        assert_eq!(b.line, 2);
        let Node::Action { line, .. } = &b.list[1] else {
            panic!("expected an action: {:?}", b.list);
        };
        assert_eq!(*line, 5);
        let Node::Action { line, .. } = &t.main.root[3] else {
            panic!("expected an action: {:?}", t.main.root);
        };
        assert_eq!(*line, 7);
        assert_eq!(
            p("{{ if (eq 1 1) }}\n\n{{ end }}\n{{ nope }}")
                .unwrap_err()
                .to_string(),
            "template: t:4: function \"nope\" not defined"
        );
    }

    #[test]
    fn defines_are_collected() {
        let t = p("{{ define \"x\" }}X{{ end }}rest").unwrap();
        assert_eq!(t.defines.len(), 1);
        assert_eq!(t.defines[0].name, "x");
    }
}
