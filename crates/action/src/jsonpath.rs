//! The JSONPath templates of kubectl (`k8s.io/client-go/util/jsonpath`), as `helm show values
//! --jsonpath` runs them over a chart's values: literal text with `{...}` actions of fields,
//! `[index]`, `[start:end:step]`, `[a,b]` unions, `['key']`, `*`, `..`, `[?(filter)]`,
//! `range`/`end` and quoted text. Missing keys are errors, as Helm does not allow them.
//!
//! Map iteration (`*`, `..` over a map) is in key order here; Go's is random.

use rudder_value::{gofmt, json, Value};

#[derive(Clone, Debug)]
enum Node {
    Text(String),
    Field(String),
    Array([Param; 3]),
    Union(Vec<Vec<Node>>),
    Filter {
        left: Vec<Node>,
        right: Vec<Node>,
        op: String,
    },
    Int(i64),
    Float(f64),
    Bool(bool),
    Wildcard,
    Recursive,
    Identifier(String),
}

#[derive(Clone, Copy, Debug, Default)]
struct Param {
    value: i64,
    known: bool,
    /// The end of a plain `[i]` index: `i + 1`, counted from the end when `i` is negative.
    derived: bool,
}

/// A top-level piece of a template.
#[derive(Debug)]
enum Piece {
    Text(String),
    Action(Vec<Node>),
}

/// A parsed template.
#[derive(Debug)]
pub struct JsonPath {
    pieces: Vec<Piece>,
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
}

fn is_terminator(c: Option<char>) -> bool {
    matches!(
        c,
        None | Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
    )
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's `%#U`.
fn go_unicode(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    if c.is_control() || c.is_whitespace() {
        code
    } else {
        format!("{code} '{c}'")
    }
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Parser {
            input,
            pos: 0,
            start: 0,
        }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn consume(&mut self) -> &'a str {
        let text = &self.input[self.start..self.pos];
        self.start = self.pos;
        text
    }

    fn parse(mut self) -> Result<Vec<Piece>, JsonPathError> {
        let mut pieces = Vec::new();
        loop {
            if self.rest().starts_with('{') {
                if self.pos > self.start {
                    pieces.push(Piece::Text(self.consume().to_string()));
                }
                self.pos += 1;
                self.consume();
                let mut action = Vec::new();
                self.inside_action(&mut action)?;
                pieces.push(Piece::Action(action));
                continue;
            }
            if self.next().is_none() {
                break;
            }
        }
        if self.pos > self.start {
            pieces.push(Piece::Text(self.consume().to_string()));
        }
        Ok(pieces)
    }

    /// Parses `text` as the inside of one action.
    fn action(text: &str) -> Result<Vec<Node>, JsonPathError> {
        let wrapped = format!("{{{text}}}");
        let mut pieces = Parser::new(&wrapped).parse()?;
        match pieces.remove(0) {
            Piece::Action(nodes) => Ok(nodes),
            Piece::Text(_) => Err(JsonPathError::InvalidSyntax),
        }
    }

    /// Reads the nodes of an action up to and including its closing `}`.
    fn inside_action(&mut self, cur: &mut Vec<Node>) -> Result<(), JsonPathError> {
        loop {
            let rest = self.rest();
            if rest.starts_with('}') {
                self.pos += 1;
                self.consume();
                return Ok(());
            }
            if rest.starts_with("[?(") {
                self.filter(cur)?;
                continue;
            }
            if rest.starts_with("..") {
                if matches!(cur.last(), Some(Node::Recursive)) {
                    return Err(JsonPathError::MultipleRecursiveDescent);
                }
                self.pos += 2;
                self.consume();
                cur.push(Node::Recursive);
                if self.peek().is_some_and(is_alphanumeric) {
                    self.field(cur);
                }
                continue;
            }
            match self.next() {
                None | Some('\r' | '\n') => return Err(JsonPathError::UnclosedAction),
                Some(' ' | '@' | '$') => {
                    self.consume();
                }
                Some('[') => self.array(cur)?,
                Some(q @ ('"' | '\'')) => self.quote(cur, q)?,
                Some('.') => {
                    self.consume();
                    self.field(cur);
                }
                Some(c) if c == '+' || c == '-' || c.is_ascii_digit() => {
                    self.pos -= c.len_utf8();
                    self.number(cur)?;
                }
                Some(c) if is_alphanumeric(c) => {
                    while !is_terminator(self.peek()) {
                        self.next();
                    }
                    let word = self.consume();
                    cur.push(match word {
                        "true" => Node::Bool(true),
                        "false" => Node::Bool(false),
                        _ => Node::Identifier(word.to_string()),
                    });
                }
                Some(c) => return Err(JsonPathError::UnrecognizedChar(c)),
            }
        }
    }

    /// A field name up to the next terminator that is not escaped with `\`.
    fn field(&mut self, cur: &mut Vec<Node>) {
        self.consume();
        loop {
            match self.peek() {
                Some('\\') => {
                    self.next();
                    self.next();
                }
                c if is_terminator(c) => break,
                _ => {
                    self.next();
                }
            }
        }
        let name = self.consume();
        cur.push(if name == "*" {
            Node::Wildcard
        } else {
            Node::Field(name.replace('\\', ""))
        });
    }

    fn number(&mut self, cur: &mut Vec<Node>) -> Result<(), JsonPathError> {
        if matches!(self.peek(), Some('+' | '-')) {
            self.next();
        }
        while matches!(self.peek(), Some(c) if c == '.' || c.is_ascii_digit()) {
            self.next();
        }
        let text = self.consume();
        if let Ok(i) = text.parse::<i64>() {
            cur.push(Node::Int(i));
        } else if let Some(f) = text
            .trim_start_matches('+')
            .parse::<f64>()
            .ok()
            .filter(|_| text.contains(|c: char| c.is_ascii_digit()))
        {
            cur.push(Node::Float(f));
        } else {
            return Err(JsonPathError::BadNumber(text.to_string()));
        }
        Ok(())
    }

    fn array(&mut self, cur: &mut Vec<Node>) -> Result<(), JsonPathError> {
        loop {
            match self.next() {
                None | Some('\n') => return Err(JsonPathError::UnterminatedArray),
                Some(']') => break,
                _ => {}
            }
        }
        let text = self.consume();
        let mut text = &text[1..text.len() - 1];
        if text == "*" {
            text = ":";
        }
        if text.contains(',') {
            let union = text
                .split(',')
                .map(|part| Parser::action(&format!("[{}]", part.trim_matches(' '))))
                .collect::<Result<Vec<_>, _>>()?;
            cur.push(Node::Union(union));
            return Ok(());
        }
        if let Some(key) = text
            .strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .filter(|k| !k.contains('\''))
        {
            // Helm's parser reads a quoted key as a dotted field path.
            cur.extend(Parser::action(&format!(".{key}"))?);
            return Ok(());
        }
        cur.push(Node::Array(slice_params(text)?));
        Ok(())
    }

    fn filter(&mut self, cur: &mut Vec<Node>) -> Result<(), JsonPathError> {
        self.pos += 3;
        self.consume();
        let (mut begin, mut end, mut pair) = (false, false, '\0');
        loop {
            let Some(c) = self.next() else {
                return Err(JsonPathError::UnterminatedFilter);
            };
            match c {
                '\n' => return Err(JsonPathError::UnterminatedFilter),
                '"' | '\'' if !begin => {
                    begin = true;
                    pair = c;
                }
                '"' | '\'' if self.input.as_bytes()[self.pos - 2] != b'\\' && c == pair => {
                    end = true;
                }
                ')' if begin == end => break,
                _ => {}
            }
        }
        if self.next() != Some(']') {
            return Err(JsonPathError::UnclosedArray);
        }
        let text = self.consume();
        let text = &text[..text.len() - 2];
        match split_comparison(text) {
            None => cur.push(Node::Filter {
                left: Parser::action(text)?,
                right: Vec::new(),
                op: "exists".into(),
            }),
            Some((left, op, right)) => cur.push(Node::Filter {
                left: Parser::action(left)?,
                right: Parser::action(right)?,
                op: op.to_string(),
            }),
        }
        Ok(())
    }

    fn quote(&mut self, cur: &mut Vec<Node>, quote: char) -> Result<(), JsonPathError> {
        loop {
            match self.next() {
                None | Some('\n') => return Err(JsonPathError::UnterminatedString),
                Some(c) if c == quote && self.input.as_bytes()[self.pos - 2] != b'\\' => break,
                _ => {}
            }
        }
        let text = self.consume();
        let unquoted =
            unquote(text, quote).ok_or_else(|| JsonPathError::BadQuotedString(text.to_string()))?;
        cur.push(Node::Text(unquoted));
        Ok(())
    }
}

/// `left op right` of a filter: the left side is the longest run without `!<>=`, the
/// operator the run of `!<>=~` after it, the right side the rest (not empty).
fn split_comparison(text: &str) -> Option<(&str, &str, &str)> {
    let is_op = |c: char| "!<>=~".contains(c);
    let left_end = text.find(|c: char| "!<>=".contains(c))?;
    if left_end == 0 {
        return None;
    }
    let after = &text[left_end..];
    let op_len = after.find(|c: char| !is_op(c)).unwrap_or(after.len());
    // The right side takes at least one character, even one of the operator's.
    let op_len = if op_len == after.len() {
        op_len.checked_sub(1).filter(|n| *n > 0)?
    } else {
        op_len
    };
    Some((&text[..left_end], &after[..op_len], &after[op_len..]))
}

/// `[start:end:step]`, where each part may be missing; a plain `[i]` is `[i:i+1]`.
fn slice_params(text: &str) -> Result<[Param; 3], JsonPathError> {
    let parts: Vec<&str> = text.split(':').collect();
    let number = |s: &str| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        digits.chars().all(|c| c.is_ascii_digit())
    };
    if parts.len() > 3 || !parts.iter().all(|p| number(p)) {
        return Err(JsonPathError::InvalidArrayIndex(text.to_string()));
    }
    let mut params = [Param::default(); 3];
    for i in 0..3 {
        match parts.get(i) {
            Some(p) if !p.is_empty() => {
                params[i].known = true;
                params[i].value = p.parse().map_err(|source| JsonPathError::IndexNotANumber {
                    index: p.to_string(),
                    source,
                })?;
            }
            Some(_) if i > 0 => {}
            // A missing end after a lone index: the one element at that index.
            None if i == 1 => {
                params[1] = Param {
                    value: params[0].value + 1,
                    known: true,
                    derived: true,
                };
            }
            _ => {}
        }
    }
    Ok(params)
}

/// Go's `strconv.Unquote`, single quotes allowed around a string.
fn unquote(text: &str, quote: char) -> Option<String> {
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    if !inner.contains('\\') && !inner.contains(quote) {
        return Some(inner.to_string());
    }
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| {
            let digits: String = (0..n).filter_map(|_| chars.next()).collect();
            (digits.len() == n)
                .then(|| u32::from_str_radix(&digits, 16).ok())
                .flatten()
        };
        match chars.next()? {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            q if q == quote => out.push(q),
            'x' => out.push(char::from_u32(hex(&mut chars, 2)?)?),
            'u' => out.push(char::from_u32(hex(&mut chars, 4)?)?),
            'U' => out.push(char::from_u32(hex(&mut chars, 8)?)?),
            d @ '0'..='7' => {
                let rest: String = (0..2).filter_map(|_| chars.next()).collect();
                let code = u32::from_str_radix(&format!("{d}{rest}"), 8).ok()?;
                if rest.len() != 2 || code > 255 {
                    return None;
                }
                out.push(char::from_u32(code)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Why a JSONPath template does not parse, worded as client-go's `jsonpath` parser words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonPathError {
    #[error("invalid syntax")]
    InvalidSyntax,
    #[error("invalid multiple recursive descent")]
    MultipleRecursiveDescent,
    #[error("unclosed action")]
    UnclosedAction,
    #[error("unrecognized character in action: {}", go_unicode(*.0))]
    UnrecognizedChar(char),
    /// The number as written.
    #[error("cannot parse number {0}")]
    BadNumber(String),
    #[error("unterminated array")]
    UnterminatedArray,
    #[error("unterminated filter")]
    UnterminatedFilter,
    #[error("unclosed array expect ]")]
    UnclosedArray,
    #[error("unterminated quoted string")]
    UnterminatedString,
    /// The quoted string as written.
    #[error("unquote string {0} error invalid syntax")]
    BadQuotedString(String),
    /// What is between the brackets.
    #[error("invalid array index {0}")]
    InvalidArrayIndex(String),
    #[error("array index {index} is not a number")]
    IndexNotANumber {
        index: String,
        #[source]
        source: std::num::ParseIntError,
    },
}

impl JsonPath {
    /// Parses a template.
    pub fn parse(template: &str) -> Result<Self, JsonPathError> {
        Ok(JsonPath {
            pieces: Parser::new(template).parse()?,
        })
    }

    /// What the template prints for `data`, or `None` when running it fails (a missing
    /// key, an index out of range, a comparison of different types...): Helm prints nothing
    /// then.
    pub fn execute(&self, data: &Value) -> Option<String> {
        let mut results = Vec::new();
        run_pieces(&self.pieces, data, &mut results, 0).ok()?;
        let mut out = String::new();
        for list in results {
            let texts: Vec<String> = list.iter().map(print_result).collect();
            out.push_str(&texts.join(" "));
        }
        Some(out)
    }
}

/// Runs pieces in order; a `range` action runs the pieces after it, up to its `end`, once
/// for each of its results. Returns how many pieces were consumed.
fn run_pieces(
    pieces: &[Piece],
    data: &Value,
    results: &mut Vec<Vec<Value>>,
    depth: usize,
) -> Result<usize, ()> {
    let mut i = 0;
    while i < pieces.len() {
        match &pieces[i] {
            Piece::Text(t) => results.push(vec![Value::str(t)]),
            Piece::Action(nodes) => {
                if matches!(nodes.first(), Some(Node::Identifier(w)) if w == "end") {
                    return if depth > 0 { Ok(i + 1) } else { Err(()) };
                }
                if let Some(pos) = nodes
                    .iter()
                    .position(|n| matches!(n, Node::Identifier(w) if w == "range"))
                {
                    let mut items = walk(std::slice::from_ref(data), &nodes[..pos])?;
                    items = walk(&items, &nodes[pos + 1..])?;
                    let body = &pieces[i + 1..];
                    let mut consumed = 0;
                    if items.is_empty() {
                        // Still finds where the range ends.
                        let mut ignored = Vec::new();
                        consumed = run_pieces(body, &Value::Nil, &mut ignored, depth + 1)?;
                    }
                    for item in &items {
                        consumed = run_pieces(body, item, results, depth + 1)?;
                    }
                    i += 1 + consumed;
                    continue;
                }
                results.push(walk(std::slice::from_ref(data), nodes)?);
            }
        }
        i += 1;
    }
    Ok(i)
}

fn walk(input: &[Value], nodes: &[Node]) -> Result<Vec<Value>, ()> {
    let mut cur = input.to_vec();
    for node in nodes {
        cur = walk_node(&cur, node)?;
    }
    Ok(cur)
}

/// The elements of a map (in key order), list or string (its bytes); none for anything else.
fn children(v: &Value) -> Vec<Value> {
    if let Some(m) = v.as_map() {
        return m.values().cloned().collect();
    }
    if let Some(l) = v.as_list() {
        return l.to_vec();
    }
    if let Some(s) = v.as_str() {
        return s.bytes().map(|b| Value::Int(b as i64)).collect();
    }
    Vec::new()
}

fn walk_node(input: &[Value], node: &Node) -> Result<Vec<Value>, ()> {
    let each = |v: Value| input.iter().map(|_| v.clone()).collect();
    Ok(match node {
        Node::Text(t) => vec![Value::str(t)],
        Node::Int(i) => each(Value::Int(*i)),
        Node::Float(f) => each(Value::Float(*f)),
        Node::Bool(b) => each(Value::Bool(*b)),
        Node::Identifier(_) => return Err(()),
        Node::Field(name) => {
            if input.is_empty() {
                return Ok(Vec::new());
            }
            let found: Vec<Value> = input
                .iter()
                .filter_map(|v| v.as_map().and_then(|m| m.get(name).cloned()))
                .collect();
            if found.is_empty() {
                return Err(());
            }
            found
        }
        Node::Wildcard => input.iter().flat_map(children).collect(),
        Node::Recursive => {
            let mut out = Vec::new();
            recurse(input, &mut out);
            out
        }
        Node::Union(lists) => {
            let mut out = Vec::new();
            for list in lists {
                out.extend(walk(input, list)?);
            }
            out
        }
        Node::Array(params) => {
            let mut out = Vec::new();
            for v in input {
                if matches!(v, Value::Nil) {
                    continue;
                }
                let list = v.as_list().ok_or(())?;
                out.extend(slice(list, *params)?);
            }
            out
        }
        Node::Filter { left, right, op } => {
            let mut out = Vec::new();
            for v in input {
                let list = v.as_list().ok_or(())?;
                for item in list {
                    let one = [item.clone()];
                    let lefts = walk(&one, left);
                    if op == "exists" {
                        if lefts.is_ok_and(|l| !l.is_empty()) {
                            out.push(item.clone());
                        }
                        continue;
                    }
                    let lefts = lefts?;
                    match lefts.len() {
                        0 => continue,
                        1 => {}
                        _ => return Err(()),
                    }
                    let rights = walk(&one, right)?;
                    match rights.len() {
                        0 => continue,
                        1 => {}
                        _ => return Err(()),
                    }
                    if compare(&lefts[0], op, &rights[0])? {
                        out.push(item.clone());
                    }
                }
            }
            out
        }
    })
}

fn recurse(input: &[Value], out: &mut Vec<Value>) {
    for v in input {
        let kids = children(v);
        if !kids.is_empty() {
            out.push(v.clone());
            recurse(&kids, out);
        }
    }
}

fn slice(list: &[Value], mut p: [Param; 3]) -> Result<Vec<Value>, ()> {
    let len = list.len() as i64;
    if !p[0].known {
        p[0].value = 0;
    }
    if p[0].value < 0 {
        p[0].value += len;
    }
    if !p[1].known {
        p[1].value = len;
    }
    if p[1].value < 0 || (p[1].value == 0 && p[1].derived) {
        p[1].value += len;
    }
    if p[1].value == p[0].value {
        return Ok(Vec::new());
    }
    if p[0].value >= len || p[0].value < 0 || p[1].value > len || p[1].value < 0 {
        return Err(());
    }
    if p[0].value > p[1].value {
        return Err(());
    }
    let step = if p[2].known {
        if p[2].value <= 0 {
            return Err(());
        }
        p[2].value as usize
    } else {
        1
    };
    Ok(list[p[0].value as usize..p[1].value as usize]
        .iter()
        .step_by(step)
        .cloned()
        .collect())
}

/// The comparisons of Go templates' `eq`, `lt`...: both sides of one basic kind (bool,
/// integer, float, string), `=~` a regular expression search in a string.
fn compare(left: &Value, op: &str, right: &Value) -> Result<bool, ()> {
    use std::cmp::Ordering;
    if op == "=~" {
        let (Some(text), Some(pattern)) = (left.as_str(), right.as_str()) else {
            return Err(());
        };
        return regex::Regex::new(pattern)
            .map(|re| re.is_match(text))
            .map_err(|_| ());
    }
    let order = match (left, right) {
        (Value::Bool(a), Value::Bool(b)) => {
            return match op {
                "==" => Ok(a == b),
                "!=" => Ok(a != b),
                _ => Err(()),
            }
        }
        (Value::Int(a) | Value::Int64(a), Value::Int(b) | Value::Int64(b)) => a.cmp(b),
        (Value::Float(a), Value::Float(b)) => a.partial_cmp(b).unwrap_or(Ordering::Less),
        (Value::String(a), Value::String(b)) => a.cmp(b),
        _ => return Err(()),
    };
    Ok(match op {
        "==" => order == Ordering::Equal,
        "!=" => order != Ordering::Equal,
        "<" => order == Ordering::Less,
        ">" => order == Ordering::Greater,
        "<=" => order != Ordering::Greater,
        ">=" => order != Ordering::Less,
        _ => return Err(()),
    })
}

/// One result as Go prints it: maps and lists as JSON, anything else with `fmt.Print`.
fn print_result(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Map(_) | Value::List(_) => json::to_json(v).unwrap_or_default(),
        _ => gofmt::sprint(std::slice::from_ref(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(template: &str, yaml: &str) -> Option<String> {
        let data = rudder_value::yaml::from_yaml(yaml).unwrap();
        JsonPath::parse(template).unwrap().execute(&data)
    }

    #[test]
    fn paths_slices_and_ranges() {
        let yaml = "a:\n  b: x\nlist: [1, 2, 3, 4]\nitems:\n- name: n1\n- name: n2\n";
        assert_eq!(run("{.a.b}", yaml).unwrap(), "x");
        assert_eq!(run("v={.a['b']}!", yaml).unwrap(), "v=x!");
        assert_eq!(run("{.list[1:3]}", yaml).unwrap(), "2 3");
        assert_eq!(run("{.list[-1]}", yaml).unwrap(), "4");
        assert_eq!(run("{.list[0,2]}", yaml).unwrap(), "1 3");
        assert_eq!(run("{.list[::2]}", yaml).unwrap(), "1 3");
        assert_eq!(
            run("{range .items[*]}{.name}{\"\\n\"}{end}", yaml).unwrap(),
            "n1\nn2\n"
        );
        assert_eq!(run("{.items[?(@.name==\"n2\")].name}", yaml).unwrap(), "n2");
        assert_eq!(run("{.a}", yaml).unwrap(), "{\"b\":\"x\"}");
        assert_eq!(run("{.missing}", yaml), None);
        assert_eq!(run("{.list[9]}", yaml), None);
    }

    #[test]
    fn prints_as_go_does() {
        // Values are float64 in Helm, printed with %v; null is a nil interface.
        let yaml = "big: 1000000\nsmall: 123456\nnone: null\nflag: true\n";
        assert_eq!(run("{.big} {.small}", yaml).unwrap(), "1e+06 123456");
        assert_eq!(run("{.none}/{.flag}", yaml).unwrap(), "<nil>/true");
        // An integer literal never equals a float64 value: the comparison fails.
        let items = "items:\n- port: 80\n";
        assert_eq!(run("{.items[?(@.port==80)]}", items), None);
        assert_eq!(run("{.items[?(@.port==80.0)].port}", items).unwrap(), "80");
    }

    #[test]
    fn parse_errors() {
        let message = |template: &str| JsonPath::parse(template).unwrap_err().to_string();
        assert_eq!(message("{.a"), "unclosed action");
        assert_eq!(message("{.a[1}"), "unterminated array");
        assert_eq!(
            message("{#}"),
            "unrecognized character in action: U+0023 '#'"
        );
        assert_eq!(message("{[x]}"), "invalid array index x");
        assert!(matches!(
            JsonPath::parse("{[99999999999999999999]}").unwrap_err(),
            JsonPathError::IndexNotANumber { .. }
        ));
    }
}
