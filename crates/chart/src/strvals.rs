//! Helm's `--set` syntax (pkg/strvals): `a.b=c,d[0]=e,f={x,y}`, `\` escapes, type guessing
//! (`true`/`false`/`null`, int64 for digits not starting with `0`), and its error messages.
//! `--set-string` keeps every value a string, `--set-json` parses JSON values,
//! `--set-literal` takes the whole remainder verbatim, `--set-file` reads files.

use rudder_value::{json, Map, Value};

/// Helm's limits.
const MAX_INDEX: usize = 65536;
const MAX_NESTED_NAME_LEVEL: usize = 30;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Typed,
    String,
    Json,
    File,
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    mode: Mode,
    read_file: &'a ReadFile,
    /// The input ended where Go's parser reports io.EOF as an error: right after a key's `=`
    /// (`a.b[0].c=`), inside an index (`a[0`), or right after one (`a[0]`). Parsing then ends
    /// quietly, but whatever was being built up to there is kept only where Go had already
    /// stored it (see `key` and `list_item`).
    ended_early: bool,
}

/// How `--set-file` reads a file: its text, or why it could not be read.
pub type ReadFile = dyn Fn(&str) -> Result<String, Box<dyn std::error::Error + Send + Sync>>;

/// Why a `--set`-style string could not be read, with Helm's (pkg/strvals) texts.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// `--set-json` (or a JSON list item) that is not JSON.
    #[error("failed to parse json: {0}")]
    Json(#[source] json::DecodeError),
    /// `--set-file` could not read the file (the reader's text).
    #[error("{0}")]
    File(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A key without `=value`.
    #[error("key {0:?} has no value")]
    NoValue(String),
    /// A key followed by a comma instead of `=`.
    #[error("key {0:?} has no value (cannot end with ,)")]
    TrailingComma(String),
    /// A key with more dots than Helm allows.
    #[error("value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}")]
    TooDeep,
    /// A key whose existing value is of another type (Go's failed type assertion).
    #[error("unable to parse key: interface conversion: interface {{}} is {found}, not {wanted}")]
    Conversion { found: String, wanted: &'static str },
    /// `a.=...`: a map key without a name under it.
    #[error("key map {0:?} has no value")]
    EmptyMap(String),
    /// An index that is not a number.
    #[error("error parsing index: strconv.Atoi: parsing {0:?}: invalid syntax")]
    IndexSyntax(String),
    #[error("negative {0} index not allowed")]
    NegativeIndex(i64),
    #[error("index of {0} is greater than maximum supported index of {MAX_INDEX}")]
    IndexTooLarge(i64),
    #[error("parse error: unexpected token {0:?}")]
    UnexpectedToken(char),
    #[error("list must terminate with '}}'")]
    UnterminatedList,
    /// A file reference where files are not read.
    #[error("reading files is not allowed here")]
    FilesNotAllowed,
    #[error("--set-json object form must be a JSON object")]
    JsonNotObject,
}

/// Go's text for a failed type assertion on a value `--set` already placed at a key.
fn conversion_error(found: &Value, wanted: &'static str) -> SetError {
    let found = match found {
        Value::Nil => "nil".into(),
        other => other.type_name(),
    };
    SetError::Conversion {
        found: found.to_string(),
        wanted,
    }
}

/// Why reading stopped: a stop character, or the end of the input.
enum Stop {
    At(char),
    Eof,
}

fn typed_val(v: &str, as_string: bool) -> Value {
    if as_string {
        return Value::str(v);
    }
    if v.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if v.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if v.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if v == "0" {
        return Value::Int64(0);
    }
    if !v.is_empty() && !v.starts_with('0') {
        if let Ok(i) = rudder_value::gofmt::parse_int(v, 10) {
            return Value::Int64(i);
        }
    }
    Value::str(v)
}

impl Parser<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Runes up to one of `stop` (not included), with `\` escaping the next rune.
    fn runes_until(&mut self, stop: &[char]) -> (String, Stop) {
        let mut out = String::new();
        while let Some(c) = self.next() {
            if c == '\\' {
                match self.next() {
                    Some(n) => out.push(n),
                    None => return (out, Stop::Eof),
                }
                continue;
            }
            if stop.contains(&c) {
                return (out, Stop::At(c));
            }
            out.push(c);
        }
        (out, Stop::Eof)
    }

    fn value_of(&self, text: &str) -> Result<Value, SetError> {
        match self.mode {
            Mode::Typed => Ok(typed_val(text, false)),
            Mode::String => Ok(typed_val(text, true)),
            Mode::File => Ok(Value::from((self.read_file)(text).map_err(SetError::File)?)),
            Mode::Json => json::from_json(text).map_err(SetError::Json),
        }
    }

    fn parse(&mut self, data: &mut Map) -> Result<(), SetError> {
        while self.pos < self.chars.len() {
            self.key(data, 0)?;
        }
        Ok(())
    }

    fn key(&mut self, data: &mut Map, level: usize) -> Result<(), SetError> {
        let (k, stop) = self.runes_until(&['=', '[', ',', '.']);
        match stop {
            Stop::Eof => {
                if k.is_empty() {
                    return Ok(());
                }
                Err(SetError::NoValue(k))
            }
            Stop::At('[') => {
                let Some(index) = self.key_index()? else {
                    return Ok(());
                };
                // Go asserts the type of any value already there, nil included.
                let mut list = match data.get(&k) {
                    Some(Value::List(l)) => l.as_ref().clone(),
                    None => Vec::new(),
                    Some(other) => return Err(conversion_error(other, "[]interface {}")),
                };
                let r = self.list_item(&mut list, index, level);
                data.insert(k, Value::list(list));
                r
            }
            Stop::At('=') => {
                if self.mode == Mode::Json {
                    let (v, _) = self.runes_until(&[]);
                    let _ = v;
                    unreachable!("json values are parsed by parse_json");
                }
                if self.pos == self.chars.len() {
                    self.ended_early = true;
                    data.insert(k, Value::str(""));
                    return Ok(());
                }
                match self.val_list()? {
                    Some(list) => {
                        data.insert(k, Value::list(list));
                        Ok(())
                    }
                    None => {
                        let (v, _) = self.runes_until(&[',']);
                        let value = self.value_of(&v)?;
                        data.insert(k, value);
                        Ok(())
                    }
                }
            }
            Stop::At(',') => {
                data.insert(k.clone(), Value::str(""));
                Err(SetError::TrailingComma(k))
            }
            Stop::At('.') => {
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(SetError::TooDeep);
                }
                let mut inner = match data.get(&k) {
                    Some(Value::Map(m)) => m.snapshot(),
                    None => Map::new(),
                    Some(other) => return Err(conversion_error(other, "map[string]interface {}")),
                };
                let r = self.key(&mut inner, level);
                if r.is_ok() && !self.ended_early && inner.is_empty() {
                    return Err(SetError::EmptyMap(k));
                }
                if !inner.is_empty() {
                    data.insert(k, Value::map(inner));
                }
                r
            }
            Stop::At(_) => unreachable!(),
        }
    }

    /// The index after a `[`, or `None` (and `ended_early`) if the input ends first.
    fn key_index(&mut self) -> Result<Option<usize>, SetError> {
        let (v, stop) = self.runes_until(&[']']);
        if matches!(stop, Stop::Eof) {
            self.ended_early = true;
            return Ok(None);
        }
        let i: i64 = v.parse().map_err(|_| SetError::IndexSyntax(v.clone()))?;
        if i < 0 {
            return Err(SetError::NegativeIndex(i));
        }
        if i as usize > MAX_INDEX {
            return Err(SetError::IndexTooLarge(i));
        }
        Ok(Some(i as usize))
    }

    fn set_index(list: &mut Vec<Value>, index: usize, value: Value) {
        if list.len() <= index {
            list.resize(index + 1, Value::Nil);
        }
        list[index] = value;
    }

    fn list_item(
        &mut self,
        list: &mut Vec<Value>,
        index: usize,
        level: usize,
    ) -> Result<(), SetError> {
        match self.next() {
            None => {
                self.ended_early = true;
                Ok(())
            }
            Some('=') => {
                match self.val_list()? {
                    Some(items) => Self::set_index(list, index, Value::list(items)),
                    None => {
                        let (v, _) = self.runes_until(&[',']);
                        let value = self.value_of(&v)?;
                        Self::set_index(list, index, value);
                    }
                }
                Ok(())
            }
            Some('[') => {
                let Some(next) = self.key_index()? else {
                    return Ok(());
                };
                let existing = list.get(index).filter(|v| !matches!(v, Value::Nil));
                let mut inner = match existing {
                    Some(Value::List(l)) => l.as_ref().clone(),
                    None => Vec::new(),
                    Some(other) => return Err(conversion_error(other, "[]interface {}")),
                };
                let existed = existing.is_some();
                let r = self.list_item(&mut inner, next, level);
                if self.ended_early {
                    // Go returns early without storing the nested list; changes made in place
                    // to elements of a list that was already there still show.
                    if existed {
                        list[index] = Value::list(inner);
                    }
                    return r;
                }
                Self::set_index(list, index, Value::list(inner));
                r
            }
            Some('.') => {
                // Go works on the map in place when the element exists (replacing a non-map
                // element by an empty map first), and on a new map otherwise.
                let existed = index < list.len();
                let mut inner = match list.get(index) {
                    Some(Value::Map(m)) => m.snapshot(),
                    _ => Map::new(),
                };
                let r = self.key(&mut inner, level);
                if self.ended_early {
                    // Go returns early without storing a new map.
                    if existed {
                        list[index] = Value::map(inner);
                    }
                    return r;
                }
                Self::set_index(list, index, Value::map(inner));
                r
            }
            Some(c) => Err(SetError::UnexpectedToken(c)),
        }
    }

    /// A `{a,b}` list value, or `None` if the value is not a list.
    fn val_list(&mut self) -> Result<Option<Vec<Value>>, SetError> {
        if self.chars.get(self.pos) != Some(&'{') || self.mode == Mode::File {
            return Ok(None);
        }
        self.pos += 1;
        let mut list = Vec::new();
        loop {
            let (v, stop) = self.runes_until(&[',', '}']);
            match stop {
                Stop::Eof => return Err(SetError::UnterminatedList),
                Stop::At('}') => {
                    if self.chars.get(self.pos) == Some(&',') {
                        self.pos += 1;
                    }
                    list.push(self.value_of(&v)?);
                    return Ok(Some(list));
                }
                Stop::At(_) => list.push(self.value_of(&v)?),
            }
        }
    }
}

fn parse_with(
    text: &str,
    data: &mut Map,
    mode: Mode,
    read_file: &ReadFile,
) -> Result<(), SetError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        mode,
        read_file,
        ended_early: false,
    };
    p.parse(data)
}

fn no_files(_: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    Err(Box::new(SetError::FilesNotAllowed))
}

/// `--set`: parses into `data` (values already there are patched, as Helm's `ParseInto`).
pub fn parse_into(text: &str, data: &mut Map) -> Result<(), SetError> {
    parse_with(text, data, Mode::Typed, &no_files)
}

/// `--set-string`.
pub fn parse_string_into(text: &str, data: &mut Map) -> Result<(), SetError> {
    parse_with(text, data, Mode::String, &no_files)
}

/// `--set-file`: each value is a path whose contents become the value.
pub fn parse_file_into(text: &str, data: &mut Map, read_file: &ReadFile) -> Result<(), SetError> {
    parse_with(text, data, Mode::File, read_file)
}

/// `--set-literal`: `key=everything after the first =`, verbatim.
pub fn parse_literal_into(text: &str, data: &mut Map) -> Result<(), SetError> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(SetError::NoValue(text.to_string()));
    };
    let parts: Vec<&str> = key.split('.').collect();
    let (last, path) = parts.split_last().expect("split yields one part");
    if path.is_empty() {
        data.insert(last.to_string(), Value::str(value));
        return Ok(());
    }
    let first = data
        .entry(path[0].to_string())
        .or_insert_with(|| Value::map(Map::new()));
    if !matches!(first, Value::Map(_)) {
        *first = Value::map(Map::new());
    }
    let mut cur = first.as_dict().expect("a map").clone();
    for p in &path[1..] {
        let next = match cur.get(p) {
            Some(Value::Map(d)) => d,
            _ => {
                let d = rudder_value::Dict::default();
                cur.insert(*p, Value::Map(d.clone()));
                d
            }
        };
        cur = next;
    }
    cur.insert(*last, Value::str(value));
    Ok(())
}

/// `--set-json`: `key=<json>` pairs separated by commas outside JSON, or (Helm v4) a whole
/// JSON object merged in.
pub fn parse_json_into(text: &str, data: &mut Map) -> Result<(), SetError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        match json::from_json(trimmed) {
            Ok(Value::Map(m)) => {
                let merged = crate::values::merge_maps(std::mem::take(data), m.snapshot());
                *data = merged;
                return Ok(());
            }
            Ok(_) => return Err(SetError::JsonNotObject),
            Err(e) => return Err(SetError::Json(e)),
        }
    }
    // key=value pairs; a value ends at the first comma after which the JSON is complete.
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    while pos < chars.len() {
        let start = pos;
        while pos < chars.len() && chars[pos] != '=' {
            pos += 1;
        }
        if pos >= chars.len() {
            let key: String = chars[start..].iter().collect();
            return Err(SetError::NoValue(key));
        }
        let key: String = chars[start..pos].iter().collect();
        pos += 1;
        let vstart = pos;
        let mut end = chars.len();
        let mut probe = pos;
        while probe <= chars.len() {
            if probe == chars.len() || chars[probe] == ',' {
                let candidate: String = chars[vstart..probe].iter().collect();
                if json::from_json(&candidate).is_ok() {
                    end = probe;
                    break;
                }
            }
            probe += 1;
        }
        let raw: String = chars[vstart..end.min(chars.len())].iter().collect();
        let value = json::from_json(&raw).map_err(SetError::Json)?;
        let mut p = Parser {
            chars: key.chars().collect(),
            pos: 0,
            mode: Mode::Typed,
            read_file: &no_files,
            ended_early: false,
        };
        // Reuse the key grammar by parsing `key=__placeholder__` then replacing it.
        let mut tmp = Map::new();
        p.chars.extend("=__rudder_json__".chars());
        p.parse(&mut tmp)?;
        replace_placeholder(&mut tmp, &value);
        let merged = crate::values::merge_maps(std::mem::take(data), tmp);
        *data = merged;
        pos = end + 1;
    }
    Ok(())
}

fn replace_placeholder(m: &mut Map, value: &Value) {
    for v in m.values_mut() {
        replace_in(v, value);
    }
}

fn replace_in(v: &mut Value, value: &Value) {
    match v {
        Value::String(s) if &**s == "__rudder_json__" => *v = value.clone(),
        Value::Map(d) => {
            let mut inner = d.snapshot();
            replace_placeholder(&mut inner, value);
            *v = Value::map(inner);
        }
        Value::List(l) => {
            let mut items = l.as_ref().clone();
            for x in &mut items {
                replace_in(x, value);
            }
            *v = Value::list(items);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str) -> Result<Value, String> {
        let mut m = Map::new();
        parse_into(text, &mut m).map_err(|e| e.to_string())?;
        Ok(Value::map(m))
    }

    #[test]
    fn parses_like_helm() {
        let v = set("a.b=c,d=1,e=true,f=0123,g={x,y},h[1].i=z,j=null,k=1.5").unwrap();
        assert_eq!(v.get_path(&["a", "b"]), Some(Value::str("c")));
        assert_eq!(v.get_path(&["d"]), Some(Value::Int64(1)));
        assert_eq!(v.get_path(&["e"]), Some(Value::Bool(true)));
        assert_eq!(v.get_path(&["f"]), Some(Value::str("0123")));
        assert_eq!(
            v.get_path(&["g"]),
            Some(Value::list(vec![Value::str("x"), Value::str("y")]))
        );
        let h = v.get_path(&["h"]).unwrap();
        assert_eq!(h.as_list().unwrap()[0], Value::Nil);
        assert_eq!(v.get_path(&["j"]), Some(Value::Nil));
        assert_eq!(v.get_path(&["k"]), Some(Value::str("1.5")));
        let v = set(r"a=b\,c,d\.e=f").unwrap();
        assert_eq!(v.get_path(&["a"]), Some(Value::str("b,c")));
        assert_eq!(v.get_path(&["d.e"]), Some(Value::str("f")));
    }

    #[test]
    fn errors_like_helm() {
        assert_eq!(set("a").unwrap_err(), "key \"a\" has no value");
        assert_eq!(set("a=1,b").unwrap_err(), "key \"b\" has no value");
        assert_eq!(
            set("a,b=1").unwrap_err(),
            "key \"a\" has no value (cannot end with ,)"
        );
        assert!(set("a[-1]=x").is_err());
    }

    #[test]
    fn json_and_literal() {
        let mut m = Map::new();
        parse_json_into(r#"a={"b":[1,2]},c="x,y""#, &mut m).unwrap();
        let v = Value::map(m);
        assert_eq!(v.get_path(&["a", "b"]).unwrap().as_list().unwrap().len(), 2);
        assert_eq!(v.get_path(&["c"]), Some(Value::str("x,y")));
        let mut m = Map::new();
        parse_literal_into("a.b=x,y=z", &mut m).unwrap();
        assert_eq!(
            Value::map(m).get_path(&["a", "b"]),
            Some(Value::str("x,y=z"))
        );
    }
}
