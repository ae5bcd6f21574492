//! The lexer (Go's `text/template/parse/lex.go`): tokens inside an action, and Go's
//! unquoting of string literals. The parser drives it: text between actions is scanned by the
//! parser itself, and each action is tokenised on the spot.

use std::sync::Arc;

/// A token; its text borrows the template source, so tokens cost no allocation and
/// peeking (which copies one) is cheap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Tok<'a> {
    Ident(&'a str),
    Field(&'a str),
    Variable(&'a str),
    /// A quoted string without escapes, as written.
    Str(&'a str),
    /// A quoted string with escapes, as written (checked by the lexer:
    /// [`Tok::string_value`] cannot fail).
    EscapedStr(&'a str),
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
    pub(super) fn string_value(&self) -> Option<Arc<str>> {
        match *self {
            Tok::Str(raw) => Some(Arc::from(&raw[1..raw.len() - 1])),
            Tok::EscapedStr(raw) => unquote(raw).ok(),
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

    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Field(s) | Tok::Variable(s) | Tok::Number(s) | Tok::Char(s) => {
                format!("{s:?}")
            }
            Tok::Str(raw) | Tok::EscapedStr(raw) | Tok::RawStr(raw) => format!("{raw:?}"),
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

/// Why the lexer stopped, worded as Go's lexer words it (`lex.go`'s `errorf` calls).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum LexError {
    /// The source ended inside an action; the parser names where the action started.
    #[error("unclosed action")]
    UnclosedAction,
    #[error("expected :=")]
    ExpectedDeclare,
    #[error("unterminated quoted string")]
    UnterminatedString,
    #[error("unterminated raw quoted string")]
    UnterminatedRawString,
    #[error("unterminated character constant")]
    UnterminatedChar,
    /// A quoted string whose escapes do not unquote (the string as written).
    #[error("invalid syntax: {0}")]
    InvalidString(String),
    #[error("unrecognized character in action: {}", go_quote_rune(*.0))]
    UnrecognizedChar(char),
    /// The number as written, up to the end of the word.
    #[error("bad number syntax: {0:?}")]
    BadNumber(String),
}

pub(super) const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "nil", "template", "with",
];

pub(super) struct Lexer<'a> {
    pub(super) src: &'a str,
    pub(super) pos: usize,
}

/// ASCII letters, digits and `_`, as a table: identifiers and field names are most of what
/// is lexed inside actions.
static WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    table
};

fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

pub(super) fn is_space(c: char) -> bool {
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
        let mut pos = self.pos;
        while let Some(&b) = bytes.get(pos) {
            if WORD_BYTES[b as usize] {
                pos += 1;
            } else if b.is_ascii() {
                break;
            } else {
                match self.src[pos..].chars().next() {
                    Some(c) if c.is_alphanumeric() => pos += c.len_utf8(),
                    _ => break,
                }
            }
        }
        self.pos = pos;
    }

    /// Where the field names that directly follow end (`.a.b`, each a `.` then a word not
    /// starting with a digit, as [`Lexer::next`] reads them), or `None` where a character
    /// that is not ASCII leaves that to `next`.
    pub(super) fn field_chain_end(&self) -> Option<usize> {
        let bytes = self.src.as_bytes();
        let mut pos = self.pos;
        loop {
            match bytes.get(pos) {
                Some(b'.') => match bytes.get(pos + 1) {
                    Some(&b) if WORD_BYTES[b as usize] && !b.is_ascii_digit() => {
                        pos += 2;
                        while bytes.get(pos).is_some_and(|&b| WORD_BYTES[b as usize]) {
                            pos += 1;
                        }
                    }
                    Some(b) if !b.is_ascii() => return None,
                    _ => return Some(pos),
                },
                Some(b) if !b.is_ascii() => return None,
                _ => return Some(pos),
            }
        }
    }

    /// Moves past spaces, up to the one that begins a trimming `-}}`.
    pub(super) fn skip_spaces(&mut self) {
        let bytes = self.src.as_bytes();
        let mut end = self.pos;
        while bytes.get(end).is_some_and(|&b| is_space_byte(b)) {
            end += 1;
        }
        if end > self.pos && bytes[end..].starts_with(b"-}}") {
            end -= 1;
        }
        self.pos = end;
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    /// The next token inside an action. Errors carry Go's lexer messages.
    pub(super) fn next(&mut self) -> Result<(usize, Tok<'a>), LexError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        match bytes.get(start) {
            None => return Err(LexError::UnclosedAction),
            Some(b'}') if bytes.get(start + 1) == Some(&b'}') => {
                self.pos += 2;
                return Ok((start, Tok::End(false)));
            }
            Some(b' ' | b'\t' | b'\r' | b'\n') => {
                let mut end = start + 1;
                while bytes
                    .get(end)
                    .is_some_and(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                {
                    end += 1;
                }
                // The last space before `-}}` is part of the trimming delimiter.
                if bytes[end..].starts_with(b"-}}") {
                    if end == start + 1 {
                        self.pos = end + 3;
                        return Ok((end, Tok::End(true)));
                    }
                    end -= 1;
                }
                self.pos = end;
                return Ok((start, Tok::Space));
            }
            Some(_) => {}
        }
        let Some(c) = self.peek() else {
            return Err(LexError::UnclosedAction);
        };
        self.pos += c.len_utf8();
        let tok = match c {
            '=' => Tok::Assign,
            ':' => {
                if self.peek() != Some('=') {
                    return Err(LexError::ExpectedDeclare);
                }
                self.pos += 1;
                Tok::Declare
            }
            '|' => Tok::Pipe,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '"' => {
                let bytes = self.src.as_bytes();
                let mut escaped = false;
                loop {
                    // Jump to the next byte that ends or escapes the string.
                    let Some(i) = memchr::memchr3(b'"', b'\\', b'\n', &bytes[self.pos..]) else {
                        return Err(LexError::UnterminatedString);
                    };
                    self.pos += i + 1;
                    match bytes[self.pos - 1] {
                        b'"' => break,
                        b'\n' => return Err(LexError::UnterminatedString),
                        _ => match self.peek() {
                            None | Some('\n') => return Err(LexError::UnterminatedString),
                            Some(e) => {
                                escaped = true;
                                self.pos += e.len_utf8();
                            }
                        },
                    }
                }
                let raw = &self.src[start..self.pos];
                // Only escapes can make a quoted string invalid; check them now (the value
                // is made where the string is used).
                if !escaped {
                    return Ok((start, Tok::Str(raw)));
                }
                unquote(raw).map_err(|_| LexError::InvalidString(raw.to_string()))?;
                Tok::EscapedStr(raw)
            }
            '`' => {
                match memchr::memchr(b'`', self.rest().as_bytes()) {
                    Some(i) => self.pos += i + 1,
                    None => return Err(LexError::UnterminatedRawString),
                }
                Tok::RawStr(&self.src[start..self.pos])
            }
            '\'' => {
                loop {
                    match self.peek() {
                        None | Some('\n') => return Err(LexError::UnterminatedChar),
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
            c => return Err(LexError::UnrecognizedChar(c)),
        };
        Ok((start, tok))
    }

    fn number(&mut self, start: usize) -> Result<(usize, Tok<'a>), LexError> {
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
            return Err(LexError::BadNumber(self.src[start..j].to_string()));
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
