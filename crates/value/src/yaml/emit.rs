//! Writing, second step: libyaml's emitter as go-yaml v2 drives it (styles, folding at 80
//! columns, indentation), and the public writers.

use std::sync::Arc;

use crate::Value;

use super::encode::*;
use super::scalar::*;

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// libyaml's `yaml_emitter_analyze_scalar` results that matter here.
struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// A scalar's characters by index, as libyaml's emitter walks them. ASCII text (nearly all
/// of it) is read in place; only other text is decoded into a vector of chars. Decoding
/// every scalar, and every key twice, was a third of `toYaml`'s instructions.
enum Chars<'a> {
    Ascii(&'a [u8]),
    Wide(Vec<char>),
}

impl<'a> Chars<'a> {
    fn new(text: &'a str) -> Chars<'a> {
        if text.is_ascii() {
            Chars::Ascii(text.as_bytes())
        } else {
            Chars::Wide(text.chars().collect())
        }
    }

    fn len(&self) -> usize {
        match self {
            Chars::Ascii(bytes) => bytes.len(),
            Chars::Wide(chars) => chars.len(),
        }
    }

    fn get(&self, i: usize) -> Option<char> {
        match self {
            Chars::Ascii(bytes) => bytes.get(i).map(|&b| char::from(b)),
            Chars::Wide(chars) => chars.get(i).copied(),
        }
    }

    /// The character at `i`, which must be below [`Chars::len`].
    fn at(&self, i: usize) -> char {
        match self {
            Chars::Ascii(bytes) => char::from(bytes[i]),
            Chars::Wide(chars) => chars[i],
        }
    }
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let chars = Chars::new(value);
    let (mut block_ind, mut flow_ind) = (false, false);
    if value.starts_with("---") || value.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut prev_space, mut prev_break) =
        (false, false, false, false);
    let mut preceded_by_ws = true;
    let n = chars.len();
    for i in 0..n {
        let c = chars.at(i);
        let followed_by_ws = i + 1 >= n || chars.at(i + 1) == ' ' || chars.at(i + 1) == '\t';
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '-' if followed_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '#' if preceded_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == n - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            if i == 0 {
                leading_break = true;
            }
            if i == n - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_break = true;
            prev_space = false;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain: true,
        block_plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

/// go-yaml v2's `isBase60Float`.
fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        if i < b.len()
            && (b'0'..=b'5').contains(&b[i])
            && i + 1 < b.len()
            && b[i + 1].is_ascii_digit()
        {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

struct Emitter {
    /// go-yaml v3 with `SetIndent(2)` indents sequences inside mappings; v2 does not.
    indent_sequences: bool,
    out: String,
    column: usize,
    indent: i32,
    whitespace: bool,
    indention: bool,
}

const BEST_WIDTH: usize = 80;
const BEST_INDENT: i32 = 2;

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// Writes one character (breaks handled by callers).
    fn write(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn plain(&mut self, value: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars = Chars::new(value);
        let (mut spaces, mut breaks) = (false, false);
        let mut i = 0;
        while i < chars.len() {
            let c = chars.at(i);
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(' ')
                {
                    self.write_indent();
                } else {
                    self.write(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars = Chars::new(value);
        let (mut spaces, mut breaks) = (false, false);
        let n = chars.len();
        let mut i = 0;
        while i < n {
            let c = chars.at(i);
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < n - 1
                    && chars.get(i + 1) != Some(' ')
                {
                    self.write_indent();
                } else {
                    self.write(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn double_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars = Chars::new(value);
        let n = chars.len();
        let mut spaces = false;
        let mut i = 0;
        while i < n {
            let c = chars.at(i);
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let u = c as u32;
                let esc = match u {
                    0x00 => Some('0'),
                    0x07 => Some('a'),
                    0x08 => Some('b'),
                    0x09 => Some('t'),
                    0x0A => Some('n'),
                    0x0B => Some('v'),
                    0x0C => Some('f'),
                    0x0D => Some('r'),
                    0x1B => Some('e'),
                    0x22 => Some('"'),
                    0x5C => Some('\\'),
                    0x85 => Some('N'),
                    0xA0 => Some('_'),
                    0x2028 => Some('L'),
                    0x2029 => Some('P'),
                    _ => None,
                };
                match esc {
                    Some(e) => self.put(e),
                    None => {
                        let s = if u <= 0xFF {
                            format!("x{u:02X}")
                        } else if u <= 0xFFFF {
                            format!("u{u:04X}")
                        } else {
                            format!("U{u:08X}")
                        };
                        for ch in s.chars() {
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i != 0 && i != n - 1 {
                    self.write_indent();
                    if chars.get(i + 1) == Some(' ') {
                        self.put('\\');
                    }
                } else {
                    self.write(c);
                }
                spaces = true;
            } else {
                self.write(c);
                spaces = false;
            }
            i += 1;
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        let chars = Chars::new(value);
        if chars.get(0).is_some_and(|c| c == ' ' || is_break(c)) {
            self.put(char::from(b'0' + BEST_INDENT as u8));
        }
        match chars.len().checked_sub(1).map(|last| chars.at(last)) {
            None => self.put('-'),
            Some(last) if !is_break(last) => self.put('-'),
            Some(_) if chars.len() == 1 => self.put('+'),
            Some(_) => {
                if is_break(chars.at(chars.len() - 2)) {
                    self.put('+');
                }
            }
        }
        self.whitespace = false;
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
    }

    /// Emits a scalar with go-yaml's style choice and libyaml's adjustments.
    fn scalar(&mut self, text: &str, requested: Style, simple_key: bool) {
        let a = analyze(text);
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if !a.block_plain {
                style = Style::Single;
            }
            if text.is_empty() && simple_key {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || simple_key) {
            style = Style::Double;
        }
        // Scalars are emitted one indentation level deeper (libyaml's increase_indent).
        let saved = self.indent;
        self.indent = if self.indent < 0 {
            BEST_INDENT
        } else {
            self.indent + BEST_INDENT
        };
        match style {
            Style::Plain => self.plain(text, !simple_key),
            Style::Single => self.single_quoted(text, !simple_key),
            Style::Double => self.double_quoted(text, !simple_key),
            Style::Literal => self.literal(text),
        }
        self.indent = saved;
    }

    fn string(&mut self, s: &str, simple_key: bool) {
        // go-yaml v2's `resolve("", s)`: the empty string resolves to null.
        let resolves_to_string = !s.is_empty() && matches!(resolve_plain_kind(s), Plain::Str);
        let style = if s.contains('\n') {
            Style::Literal
        } else if resolves_to_string && !is_base60_float(s) {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(s, style, simple_key);
    }

    fn node(&mut self, d: &Data, mapping_context: bool) {
        match d {
            Data::Null => self.scalar("null", Style::Plain, false),
            Data::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, false),
            Data::Int(s) => self.scalar(s, Style::Plain, false),
            Data::Float(f) => {
                let s = match crate::gofmt::format_float(*f, 'g', -1).as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    other => other.to_string(),
                };
                self.scalar(&s, Style::Plain, false)
            }
            Data::Str(s) => self.string(s, false),
            Data::Seq(items) if items.is_empty() => self.write_indicator("[]", true, false, false),
            Data::Map(entries) if entries.is_empty() => {
                self.write_indicator("{}", true, false, false)
            }
            Data::Seq(items) => {
                let saved = self.indent;
                let indentless = mapping_context && !self.indention && !self.indent_sequences;
                if self.indent < 0 {
                    self.indent = 0;
                } else if !indentless {
                    self.indent += BEST_INDENT;
                }
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, false);
                }
                self.indent = saved;
            }
            Data::Map(entries) => {
                let saved = self.indent;
                self.indent = if self.indent < 0 {
                    0
                } else {
                    self.indent + BEST_INDENT
                };
                for (k, v) in entries {
                    self.write_indent();
                    // libyaml writes a key longer than 128 bytes or spanning lines as a
                    // complex key: `? key` then `: value` on the next line.
                    if k.len() <= 128 && !k.chars().any(is_break) {
                        self.string(k, true);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.string(k, false);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.node(v, true);
                }
                self.indent = saved;
            }
        }
    }
}

/// `sigs.k8s.io/yaml.Marshal`: the YAML go-yaml v2 writes for the value after its JSON round
/// trip, with its final newline.
pub fn to_yaml(v: &Value) -> Result<String, EncodeError> {
    Ok(emit(&to_data(v, 0)?, false))
}

/// Helm's `toYamlPretty` (go-yaml v3's encoder with `SetIndent(2)`): the value is encoded
/// directly, without the JSON round trip, and sequences are indented inside mappings.
pub fn to_yaml_pretty(v: &Value) -> Result<String, EncodeError> {
    Ok(emit(&to_data_with(v, 0, false)?, true))
}

fn emit(data: &Data, indent_sequences: bool) -> String {
    let mut e = Emitter {
        indent_sequences,
        out: String::new(),
        column: 0,
        indent: -1,
        whitespace: true,
        indention: true,
    };
    e.node(data, false);
    // The document ends with a line break unless the last scalar (a kept literal block)
    // already ended one.
    if e.column != 0 || !e.out.ends_with('\n') {
        e.put_break();
    }
    e.out
}

/// For callers that hold a shared string.
pub fn to_yaml_arc(v: &Value) -> Result<Arc<str>, EncodeError> {
    to_yaml(v).map(Arc::from)
}
