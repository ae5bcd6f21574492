//! JSON as Go's `encoding/json` writes and reads it for Helm: `toJson`, `toPrettyJson`,
//! `toRawJson`, `fromJson`, `--set-json`. Writing is ours (Go's escaping and float format
//! differ from serde_json's); reading uses serde_json and words errors as Go does.

use crate::gofmt::format_float;
use crate::{Map, Value};

/// Go's `encoding/json` float format: `'f'` unless the exponent is below -6 or at least 21,
/// then `'e'` with a one-digit negative exponent cleaned (`e-07` → `e-7`).
pub fn format_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_float(f, 'e', -1);
        let b = s.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            return format!("{}{}", &s[..n - 2], &s[n - 1..]);
        }
        return s;
    }
    format_float(f, 'f', -1)
}

fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Why `json.Marshal` refused a value, worded as Go's `*json.UnsupportedValueError`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// Nesting deeper than Go's cycle check allows.
    #[error("json: unsupported value: encountered a cycle")]
    Cycle,
    /// A float JSON has no text for (`+Inf`, `NaN`), printed as Go's `%g` prints it.
    #[error("json: unsupported value: {}", format_float(*.0, 'g', -1))]
    Float(f64),
}

/// Why `json.Unmarshal` refused a text: Go's words for it (made from serde_json's error and
/// the text, by [`go_json_error`]), and serde_json's error.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    message: String,
    #[source]
    source: serde_json::Error,
}

struct Writer<'a> {
    out: String,
    escape_html: bool,
    indent: Option<(&'a str, &'a str)>,
}

impl Writer<'_> {
    fn newline(&mut self, depth: usize) {
        if let Some((prefix, indent)) = self.indent {
            self.out.push('\n');
            self.out.push_str(prefix);
            for _ in 0..depth {
                self.out.push_str(indent);
            }
        }
    }

    /// A JSON object with the entries in the order given.
    fn object<'v>(
        &mut self,
        entries: impl ExactSizeIterator<Item = (&'v str, &'v Value)>,
        depth: usize,
    ) -> Result<(), EncodeError> {
        if entries.len() == 0 {
            self.out.push_str("{}");
            return Ok(());
        }
        self.out.push('{');
        for (i, (k, x)) in entries.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            write_string(&mut self.out, k, self.escape_html);
            self.out.push(':');
            if self.indent.is_some() {
                self.out.push(' ');
            }
            self.value(x, depth + 1)?;
        }
        self.newline(depth);
        self.out.push('}');
        Ok(())
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), EncodeError> {
        if depth > 10_000 {
            return Err(EncodeError::Cycle);
        }
        match v {
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.out.push_str(&i.to_string()),
            Value::Float(f) => {
                if !f.is_finite() {
                    return Err(EncodeError::Float(*f));
                }
                self.out.push_str(&format_json_float(*f));
            }
            Value::String(s) => write_string(&mut self.out, s, self.escape_html),
            Value::Bytes(b) => {
                use base64::Engine as _;
                write_string(
                    &mut self.out,
                    &base64::engine::general_purpose::STANDARD.encode(b),
                    false,
                )
            }
            // Go's json.Marshal writes a nil slice as null.
            Value::List(_) | Value::Strings(_) if v.is_nil_slice() => self.out.push_str("null"),
            Value::StrMap(_) if v.is_nil_map() => self.out.push_str("null"),
            Value::List(_) | Value::Strings(_) | Value::Ints(_) => {
                let items = v.to_list().unwrap_or_default();
                if items.is_empty() {
                    self.out.push_str("[]");
                    return Ok(());
                }
                self.out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(x, depth + 1)?;
                }
                self.newline(depth);
                self.out.push(']');
            }
            Value::Map(_) | Value::StrMap(_) => {
                let m = v.to_map().unwrap_or_default();
                self.object(m.iter().map(|(k, x)| (k.as_str(), x)), depth)?;
            }
            Value::Object(o) => {
                if let Some(fields) = o.json_fields() {
                    self.object(fields.iter().map(|(k, x)| (*k, x)), depth)?;
                } else {
                    match o.to_data() {
                        Some(d) => self.value(&d, depth + 1)?,
                        None => self.out.push_str("{}"),
                    }
                }
            }
        }
        Ok(())
    }
}

/// Go's `json.Marshal`: map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped, floats as
/// Go formats them.
pub fn to_json(v: &Value) -> Result<String, EncodeError> {
    let mut w = Writer {
        out: String::new(),
        escape_html: true,
        indent: None,
    };
    w.value(v, 0)?;
    Ok(w.out)
}

/// Go's `json.MarshalIndent(v, prefix, indent)`.
pub fn to_json_indent(v: &Value, prefix: &str, indent: &str) -> Result<String, EncodeError> {
    let mut w = Writer {
        out: String::new(),
        escape_html: true,
        indent: Some((prefix, indent)),
    };
    w.value(v, 0)?;
    Ok(w.out)
}

/// JSON without HTML escaping (a `json.Encoder` with `SetEscapeHTML(false)`), no newline.
pub fn to_raw_json(v: &Value) -> Result<String, EncodeError> {
    let mut w = Writer {
        out: String::new(),
        escape_html: false,
        indent: None,
    };
    w.value(v, 0)?;
    Ok(w.out)
}

fn from_serde(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(a) => Value::list(a.into_iter().map(from_serde).collect()),
        serde_json::Value::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o {
                m.insert(k, from_serde(v));
            }
            Value::map(m)
        }
    }
}

/// Go's `json.Unmarshal` into `interface{}`: every number becomes a float64; errors worded
/// as Go's.
pub fn from_json(text: &str) -> Result<Value, DecodeError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => Ok(from_serde(v)),
        Err(source) => Err(DecodeError {
            message: go_json_error(text, &source),
            source,
        }),
    }
}

fn go_json_error(text: &str, e: &serde_json::Error) -> String {
    if e.is_eof() {
        return go_json_eof_error(text);
    }
    // serde_json reports 1-based line and column of the offending character.
    let mut offset: usize = (text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        + e.column().saturating_sub(1))
    .min(text.len());
    // The column counts bytes: step back to the start of the character it falls in.
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let c = text[offset..].chars().next();
    // Inside `true`, `false` or `null`, Go names the literal and the letter it expected.
    if let Some(c) = c {
        let start = text[..offset]
            .char_indices()
            .rev()
            .find(|(_, ch)| !ch.is_ascii_lowercase())
            .map_or(0, |(i, ch)| i + ch.len_utf8());
        if let Some((literal, expected)) = inside_literal(&text[start..offset]) {
            return format!(
                "invalid character {} in literal {literal} (expecting {})",
                quote_char(c),
                quote_char(expected)
            );
        }
    }
    let context = match e.classify() {
        serde_json::error::Category::Syntax if e.to_string().contains("trailing characters") => {
            "after top-level value"
        }
        serde_json::error::Category::Syntax if e.to_string().contains("expected `:`") => {
            "after object key"
        }
        serde_json::error::Category::Syntax if e.to_string().contains("key must be a string") => {
            "looking for beginning of object key string"
        }
        serde_json::error::Category::Syntax if e.to_string().contains("expected `,` or `}`") => {
            "after object key:value pair"
        }
        serde_json::error::Category::Syntax if e.to_string().contains("expected `,` or `]`") => {
            "after array element"
        }
        _ => "looking for beginning of value",
    };
    match c {
        Some(c) => format!("invalid character {} {context}", quote_char(c)),
        None => "unexpected end of JSON input".into(),
    }
}

/// The JSON literal that `prefix` (the letters read so far) starts, and the letter expected
/// next.
fn inside_literal(prefix: &str) -> Option<(&'static str, char)> {
    ["true", "false", "null"]
        .into_iter()
        .find(|l| !prefix.is_empty() && l.len() > prefix.len() && l.starts_with(prefix))
        .map(|l| (l, l.as_bytes()[prefix.len()] as char))
}

/// Go's error for input that ends too soon: its scanner feeds one more space at the end, so
/// input ending inside a literal or a number gets that literal's error for ' '.
fn go_json_eof_error(text: &str) -> String {
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (false, _, '"') => in_string = true,
            _ => {}
        }
    }
    if !in_string {
        let letters = text.len()
            - text
                .trim_end_matches(|c: char| c.is_ascii_lowercase())
                .len();
        if let Some((literal, expected)) = inside_literal(&text[text.len() - letters..]) {
            return format!(
                "invalid character ' ' in literal {literal} (expecting {})",
                quote_char(expected)
            );
        }
        let bytes = text.as_bytes();
        let last = bytes.last().copied();
        let before = |n: usize| bytes.len().checked_sub(n).map(|i| bytes[i]);
        let context = match last {
            Some(b'-') if !before(2).is_some_and(|b| b == b'e' || b == b'E') => {
                Some("in numeric literal")
            }
            Some(b'.') if before(2).is_some_and(|b| b.is_ascii_digit()) => {
                Some("after decimal point in numeric literal")
            }
            Some(b'e' | b'E') if before(2).is_some_and(|b| b.is_ascii_digit()) => {
                Some("in exponent of numeric literal")
            }
            Some(b'+' | b'-')
                if before(2).is_some_and(|b| b == b'e' || b == b'E')
                    && before(3).is_some_and(|b| b.is_ascii_digit()) =>
            {
                Some("in exponent of numeric literal")
            }
            _ => None,
        };
        if let Some(context) = context {
            return format!("invalid character ' ' {context}");
        }
    }
    "unexpected end of JSON input".into()
}

fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c if (c as u32) < 0x20 => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_go() {
        let v = crate::yaml::from_yaml(
            "b: [1, 2.5, x]\na: '<&>'\nc: {}\nd: 1e-7\ne: 100000000000000000000000\n",
        )
        .unwrap();
        assert_eq!(
            to_json(&v).unwrap(),
            r#"{"a":"\u003c\u0026\u003e","b":[1,2.5,"x"],"c":{},"d":1e-7,"e":1e+23}"#
        );
        assert_eq!(to_raw_json(&Value::str("<a>")).unwrap(), "\"<a>\"");
        let v = crate::yaml::from_yaml("a: 1\nb: [x]\n").unwrap();
        assert_eq!(
            to_json_indent(&v, "", "  ").unwrap(),
            "{\n  \"a\": 1,\n  \"b\": [\n    \"x\"\n  ]\n}"
        );
    }

    #[test]
    fn reads_like_go() {
        assert_eq!(
            from_json("{\"a\": 3}").unwrap().get_path(&["a"]),
            Some(Value::Float(3.0))
        );
        assert_eq!(
            from_json("{").unwrap_err().to_string(),
            "unexpected end of JSON input"
        );
        assert_eq!(
            from_json("x").unwrap_err().to_string(),
            "invalid character 'x' looking for beginning of value"
        );
    }

    #[test]
    fn errors_after_multibyte_characters_do_not_panic() {
        // Found by the oci and set_values fuzz targets: a control character in a string
        // after a multi-byte character and lowercase letters.
        for text in [
            "\"\u{49c}e\u{0}\"",
            "{\"na\u{fffd}e\u{0}u\": 1}",
            "[\u{e9}tru\u{e9}]",
        ] {
            let err = from_json(text).unwrap_err().to_string();
            assert!(err.starts_with("invalid character"), "{text:?}: {err}");
        }
    }
}
