//! `toToml`/`mustToToml`/`fromToml`: TOML as Helm v4.2.3 writes and reads it (Helm uses the
//! Go library BurntSushi/toml v1.6.0).
//!
//! The encoder is hand-written because Helm's output has a layout no Rust TOML crate
//! produces: keys whose values are not tables come first (each group sorted by byte order),
//! every nested table header and key is indented by two spaces per level below the top,
//! a blank line goes before each top-level table only, floats use Go's shortest `%g` form
//! with `.0` added (`1e+06` stays as is), strings are always basic strings with Go's escape
//! set (only C0 controls, DEL, `"` and `\`; everything else raw), maps inside arrays are
//! written inline as `{k = v, ...}`, and a value that is not a table at the top level is
//! written bare (`toToml 1` is `1`, no key, no newline). Its errors are BurntSushi's texts.
//!
//! The decoder uses the `toml` crate's parser (well kept, TOML 1.0) and converts its
//! document into template values the way BurntSushi decodes into `map[string]any`:
//! integers are `int64`, floats `float64`, date-times `time.Time`. Parse error texts are
//! the `toml` crate's, not BurntSushi's (known difference).

use rudder_value::{Map, Value};

use crate::helm::{time_of, time_value_of};

/// Why a value could not be written or a document read, with BurntSushi's texts (the
/// `toml` crate's for parse errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TomlError {
    /// An array with a nil element.
    #[error("toml: cannot encode array with nil element")]
    NilElement,
    /// An array of tables at the top level, where it would need a key.
    #[error("toml: top-level values must be Go maps or structs")]
    NoKey,
    /// A value of a type TOML has no form for.
    #[error("unexpected type: {0}")]
    UnexpectedType(String),
    /// The nil interface (Go's reflection fails before the encoder starts).
    #[error("reflect: call of reflect.Value.Type on zero Value")]
    ZeroValue,
    /// A document that does not parse.
    #[error("toml: {0}")]
    Parse(String),
}

/// The TOML type of a value (BurntSushi's `tomlTypeOfGo`); `None` for nil.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TType {
    Scalar,
    Array,
    Hash,
    ArrayHash,
}

fn is_table(t: Option<TType>) -> bool {
    matches!(t, Some(TType::Hash | TType::ArrayHash))
}

/// The items of a slice value (`[]byte` gives its bytes as integers), `None` for non-slices.
fn slice_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Bytes(b) => Some(b.iter().map(|x| Value::Int(*x as i64)).collect()),
        other => other.to_list().map(|l| l.into_owned()),
    }
}

/// The entries of a map value, `None` for non-maps.
fn map_entries(v: &Value) -> Option<Map> {
    v.to_map()
}

/// Objects other than `time.Time` are written as the data `toJson` would give for them.
fn plain(v: &Value) -> Value {
    match v {
        Value::Object(o) if time_of(v).is_none() => o.to_data().unwrap_or(Value::Nil),
        other => other.clone(),
    }
}

fn ttype(v: &Value) -> Result<Option<TType>, TomlError> {
    let v = plain(v);
    Ok(Some(match &v {
        // BurntSushi's encoder treats a nil slice as it treats the nil interface.
        v if v.is_go_nil() => return Ok(None),
        Value::Map(_) | Value::StrMap(_) => TType::Hash,
        Value::Object(_) => TType::Scalar,
        _ => match slice_items(&v) {
            Some(items) => {
                if items.is_empty() {
                    TType::Array
                } else {
                    let mut all_hash = true;
                    for it in &items {
                        match ttype(it)? {
                            None => return Err(TomlError::NilElement),
                            Some(TType::Hash) => {}
                            Some(_) => all_hash = false,
                        }
                    }
                    if all_hash {
                        TType::ArrayHash
                    } else {
                        TType::Array
                    }
                }
            }
            None => TType::Scalar,
        },
    }))
}

/// Go's `strings.NewReplacer` set used for TOML basic strings and quoted keys.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    escape(s, &mut out);
    out.push('"');
    out
}

fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn key_part(s: &str) -> String {
    if is_bare(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

fn key_string(key: &[String]) -> String {
    key.iter()
        .map(|k| key_part(k))
        .collect::<Vec<_>>()
        .join(".")
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` with a `.0` added when it has neither a
/// decimal point nor an exponent; `nan`/`inf` with their sign.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    let s = rudder_value::gofmt::format_float(f, 'g', -1);
    if s.contains('e') || s.contains('.') {
        s
    } else {
        s + ".0"
    }
}

struct Encoder {
    out: String,
}

impl Encoder {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(&self, key: &[String]) -> String {
        "  ".repeat(key.len().saturating_sub(1))
    }

    fn encode(&mut self, key: &[String], v: &Value) -> Result<(), TomlError> {
        let v = plain(v);
        match &v {
            Value::Nil => Ok(()),
            Value::Map(_) | Value::StrMap(_) => self.table(key, &v),
            Value::Object(_) => self.key_value(key, &v, false),
            _ if slice_items(&v).is_some() => {
                if ttype(&v)? == Some(TType::ArrayHash) {
                    self.array_of_tables(key, &v)
                } else {
                    self.key_value(key, &v, false)
                }
            }
            _ => self.key_value(key, &v, false),
        }
    }

    fn key_value(&mut self, key: &[String], v: &Value, inline: bool) -> Result<(), TomlError> {
        let Some(last) = key.last() else {
            return self.element(v);
        };
        let line = format!("{}{} = ", self.indent(key), key_part(last));
        self.write(&line);
        self.element(v)?;
        if !inline {
            self.newline();
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> Result<(), TomlError> {
        if let Some(t) = time_of(v) {
            let text = crate::helm::format_go(&t, "2006-01-02T15:04:05.999999999Z07:00");
            self.write(&text);
            return Ok(());
        }
        let v = plain(v);
        match &v {
            Value::String(s) => {
                let q = quoted(s);
                self.write(&q);
            }
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.write(&i.to_string()),
            Value::Float(f) => self.write(&float_text(*f)),
            Value::Map(_) | Value::StrMap(_) => self.map(&[], &v, true)?,
            Value::Nil => return Err(TomlError::NilElement),
            _ => match slice_items(&v) {
                Some(items) => {
                    self.write("[");
                    let n = items.len();
                    for (i, it) in items.iter().enumerate() {
                        self.element(it)?;
                        if i + 1 != n {
                            self.write(", ");
                        }
                    }
                    self.write("]");
                }
                None => {
                    return Err(TomlError::UnexpectedType(v.type_name().to_string()));
                }
            },
        }
        Ok(())
    }

    fn array_of_tables(&mut self, key: &[String], v: &Value) -> Result<(), TomlError> {
        if key.is_empty() {
            return Err(TomlError::NoKey);
        }
        for it in slice_items(v).unwrap_or_default() {
            let it = plain(&it);
            if it.is_nil() {
                continue;
            }
            self.newline();
            let head = format!("{}[[{}]]", self.indent(key), key_string(key));
            self.write(&head);
            self.newline();
            self.map(key, &it, false)?;
        }
        Ok(())
    }

    fn table(&mut self, key: &[String], v: &Value) -> Result<(), TomlError> {
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            let head = format!("{}[{}]", self.indent(key), key_string(key));
            self.write(&head);
            self.newline();
        }
        self.map(key, v, false)
    }

    fn map(&mut self, key: &[String], v: &Value, inline: bool) -> Result<(), TomlError> {
        let entries = map_entries(v).unwrap_or_default();
        let (mut direct, mut sub) = (Vec::new(), Vec::new());
        for (k, val) in &entries {
            if is_table(ttype(val)?) {
                sub.push((k, val));
            } else {
                direct.push((k, val));
            }
        }
        if inline {
            self.write("{");
        }
        let trail = !sub.is_empty();
        for (group, trail_comma) in [(direct, trail), (sub, false)] {
            let n = group.len();
            for (i, (k, val)) in group.into_iter().enumerate() {
                if plain(val).is_go_nil() {
                    continue;
                }
                if inline {
                    self.key_value(std::slice::from_ref(k), val, true)?;
                    if trail_comma || i + 1 != n {
                        self.write(", ");
                    }
                } else {
                    let mut child = key.to_vec();
                    child.push(k.clone());
                    self.encode(&child, val)?;
                }
            }
        }
        if inline {
            self.write("}");
        }
        Ok(())
    }
}

/// BurntSushi's `NewEncoder(w).Encode(v)`: the document, or the encoder's error text.
pub fn to_toml(v: &Value) -> Result<String, TomlError> {
    if v.is_nil() {
        // Go's reflection fails on the nil interface before the encoder starts.
        return Err(TomlError::ZeroValue);
    }
    let mut enc = Encoder { out: String::new() };
    enc.encode(&[], v)?;
    Ok(enc.out)
}

/// `fromToml`'s document as template values (a map), or the parse error text.
pub fn from_toml(text: &str) -> Result<Map, TomlError> {
    let table: ::toml::Table = text
        .parse()
        .map_err(|e: ::toml::de::Error| TomlError::Parse(e.message().to_string()))?;
    Ok(table.into_iter().map(|(k, v)| (k, convert(v))).collect())
}

fn convert(v: ::toml::Value) -> Value {
    match v {
        ::toml::Value::String(s) => Value::from(s),
        ::toml::Value::Integer(i) => Value::Int64(i),
        ::toml::Value::Float(f) => Value::Float(f),
        ::toml::Value::Boolean(b) => Value::Bool(b),
        ::toml::Value::Datetime(d) => {
            time_value_of(&d).unwrap_or_else(|| Value::from(d.to_string()))
        }
        ::toml::Value::Array(a) => Value::list(a.into_iter().map(convert).collect()),
        ::toml::Value::Table(t) => {
            Value::map(t.into_iter().map(|(k, v)| (k, convert(v))).collect())
        }
    }
}
