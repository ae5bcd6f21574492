//! The nodes of a parse tree (Go's `text/template/parse/node.go`), how each prints itself
//! (Go's `Node.String()`, for the `at <...>` part of execution errors), and the reading of
//! number constants (Go's `newNumber`).
//!
//! `codec` writes and reads these nodes for the cache of parsed templates: a change to them
//! needs the same change there, and its `FORMAT` bumped, so that no older entry is misread.

use std::fmt::{self, Write};
use std::sync::Arc;

/// A parsed template body.
pub type List = Vec<Node>;

/// A field, variable or function name in a tree. Names repeat a great deal (`Values`,
/// `common`, `include`...), so each parse keeps one shared copy of each name rather than
/// allocating it at every use.
pub type Name = Arc<str>;

/// The field names of a chain (`.a.b`). Chains repeat a great deal (`.Values.image`,
/// `$.Release.Name`...), so each parse keeps one shared copy of each chain as written.
pub type Fields = Arc<[Name]>;

/// A piece of the template source: the file's one shared copy and a byte range of it. Text
/// between actions is most of a template, so its nodes point into the source rather than
/// each owning a copy.
#[derive(Clone)]
pub struct Span {
    source: Arc<str>,
    start: usize,
    end: usize,
}

impl Span {
    /// `source[start..end]`; the range must lie on character boundaries.
    pub(super) fn new(source: &Arc<str>, start: usize, end: usize) -> Span {
        debug_assert!(source.is_char_boundary(start) && source.is_char_boundary(end));
        Span {
            source: source.clone(),
            start,
            end,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source[self.start..self.end]
    }

    /// Where it lies in the source, as byte offsets.
    pub(super) fn range(&self) -> (usize, usize) {
        (self.start, self.end)
    }
}

impl std::ops::Deref for Span {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
pub enum Node {
    Text(Span),
    /// `{{ pipeline }}`
    Action {
        pos: usize,
        pipe: Pipe,
    },
    If(Branch),
    Range(Branch),
    With(Branch),
    /// `{{ template "name" pipeline }}`
    Template {
        pos: usize,
        name: Arc<str>,
        pipe: Option<Pipe>,
    },
    Break {
        pos: usize,
    },
    Continue {
        pos: usize,
    },
}

/// `if`, `range` and `with`: a pipeline, a body and an optional `else` body.
#[derive(Debug, Clone)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    /// `$x = ...` rather than `$x := ...`.
    pub is_assign: bool,
    pub decl: Vec<Name>,
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
    /// The constant as written.
    pub text: Span,
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
    String(Span, Arc<str>),
    /// `.a.b`
    Field(Fields),
    /// `$x.a.b`: the name (with `$`) and the fields.
    Variable(Name, Fields),
    /// A function name.
    Identifier(Name),
    /// `( pipeline )`
    Pipe(Box<Pipe>),
    /// `(pipeline).a.b` or `$x.a` after a parenthesis: the operand and the fields.
    Chain(Box<Arg>, Fields),
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub pos: usize,
    pub kind: ArgKind,
}

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
                for i in idents.iter() {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            ArgKind::Variable(name, idents) => {
                f.write_str(name)?;
                for i in idents.iter() {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            ArgKind::Identifier(name) => f.write_str(name),
            ArgKind::Pipe(p) => write!(f, "({p})"),
            ArgKind::Chain(node, fields) => {
                write!(f, "{node}")?;
                for i in fields.iter() {
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

/// Why a number or character constant does not parse, worded as Go's parser words it
/// (`parse/node.go`'s `newNumber`); each carries the constant as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum NumberError {
    #[error("malformed character constant: {0}")]
    MalformedChar(String),
    #[error("complex numbers are not supported: {0:?}")]
    Complex(String),
    #[error("integer overflow: {0:?}")]
    IntegerOverflow(String),
    #[error("illegal number syntax: {0:?}")]
    Illegal(String),
}

/// Go's `strconv.UnquoteChar` of a character constant `'x'`: its rune value.
fn unquote_char(raw: &str) -> Result<u32, NumberError> {
    let inner = &raw[1..raw.len() - 1];
    let err = || NumberError::MalformedChar(raw.to_string());
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
    // Plain decimal digits, nearly every constant in charts (`nindent 4`, `trunc 63`): no
    // sign, prefix or underscore to look at, and no cleaned copy to allocate.
    let bytes = text.as_bytes();
    if !bytes.is_empty()
        && bytes.len() <= 18
        && (bytes[0] != b'0' || bytes.len() == 1)
        && bytes.iter().all(u8::is_ascii_digit)
    {
        return Some(bytes.iter().fold(0, |v, &d| v * 10 + i128::from(d - b'0')));
    }
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

/// The number constant `text` (the source's `span`).
pub(super) fn parse_number(span: Span, is_char: bool) -> Result<Number, NumberError> {
    let text = span.as_str();
    let mut n = Number {
        text: span.clone(),
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
        return Err(NumberError::Complex(text.to_string()));
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
                return Err(NumberError::IntegerOverflow(text.to_string()));
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
        return Err(NumberError::Illegal(text.to_string()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_number(text: &str, is_char: bool) -> Result<Number, NumberError> {
        let source: Arc<str> = Arc::from(text);
        super::parse_number(Span::new(&source, 0, text.len()), is_char)
    }

    #[test]
    fn numbers() {
        let n = parse_number("0x1F", false).unwrap();
        assert!(n.is_int && n.int == 31);
        let n = parse_number("1e3", false).unwrap();
        assert!(n.is_int && n.is_float && n.int == 1000);
        let n = parse_number("1.5", false).unwrap();
        assert!(!n.is_int && n.is_float);
        assert_eq!(
            parse_number("99999999999999999999", false).unwrap_err(),
            NumberError::IntegerOverflow("99999999999999999999".into())
        );
        let n = parse_number("'a'", true).unwrap();
        assert_eq!(n.int, 97);
    }
}
