//! `.Files`: a chart's non-template files as templates see them (Helm's `engine.files`, a
//! `map[string][]byte` with methods `Get`, `GetBytes`, `Glob`, `Lines`, `AsConfig`,
//! `AsSecrets`).
//!
//! `Glob` follows gobwas/glob with `/` as separator (what Helm uses): `*` and `?` stop at
//! `/`, `**` crosses it, `[...]`/`[!...]` classes, `{a,b}` alternatives, `\` escapes. No glob
//! crate has exactly these rules (globset's `**` only works as a whole path component), so
//! the matcher is our own; an invalid pattern matches everything, as in Helm.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use rudder_value::{Kind, Map, Object, Value};

/// The files of one chart, by path relative to the chart root.
#[derive(Debug, Clone, Default)]
pub struct Files(pub BTreeMap<String, Arc<[u8]>>);

impl Files {
    pub fn new(files: &[rudder_chart::File]) -> Files {
        Files(
            files
                .iter()
                .map(|f| (f.name.clone(), f.data.clone()))
                .collect(),
        )
    }

    pub fn to_value(&self) -> Value {
        Value::Object(Arc::new(self.clone()))
    }

    fn get_bytes(&self, name: &str) -> Arc<[u8]> {
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::from(&b""[..]))
    }

    fn glob(&self, pattern: &str) -> Files {
        let pattern = Glob::parse(pattern).unwrap_or(Glob(vec![Token::AnyDeep]));
        Files(
            self.0
                .iter()
                .filter(|(name, _)| pattern.matches(name))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    fn lines(&self, path: &str) -> Result<Value, String> {
        let Some(data) = self.0.get(path) else {
            return Ok(Value::strings(Vec::new()));
        };
        let mut text = String::from_utf8_lossy(data).into_owned();
        if text.is_empty() {
            // Helm indexes the last byte of the file and panics on an empty one.
            return Err("runtime error: index out of range [-1]".into());
        }
        if text.ends_with('\n') {
            text.pop();
        }
        Ok(Value::strings(
            text.split('\n').map(str::to_string).collect(),
        ))
    }

    fn as_yaml_map(&self, encode: impl Fn(&[u8]) -> String) -> String {
        let mut m = Map::new();
        for (k, v) in &self.0 {
            let base = k.rsplit('/').next().unwrap_or(k);
            m.insert(base.to_string(), Value::str(encode(v)));
        }
        match rudder_value::yaml::to_yaml(&Value::map(m)) {
            Ok(s) => s.strip_suffix('\n').map(str::to_string).unwrap_or(s),
            Err(_) => String::new(),
        }
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn kind(&self) -> Kind {
        Kind::Map
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Get" | "GetBytes" | "Glob" | "Lines" | "AsConfig" | "AsSecrets"
        )
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let want = if matches!(name, "AsConfig" | "AsSecrets") {
            0
        } else {
            1
        };
        if args.len() != want {
            return Err(format!(
                "wrong number of args for {name}: want {want} got {}",
                args.len()
            ));
        }
        let arg = match args.first() {
            Some(Value::String(s)) => s.to_string(),
            Some(other) => {
                return Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                ))
            }
            None => String::new(),
        };
        match name {
            "Get" => Ok(Value::str(String::from_utf8_lossy(&self.get_bytes(&arg)))),
            "GetBytes" => Ok(Value::Bytes(self.get_bytes(&arg))),
            "Glob" => Ok(self.glob(&arg).to_value()),
            "Lines" => self.lines(&arg),
            "AsConfig" => Ok(Value::str(
                self.as_yaml_map(|b| String::from_utf8_lossy(b).into_owned()),
            )),
            "AsSecrets" => {
                Ok(Value::str(self.as_yaml_map(|b| {
                    base64::engine::general_purpose::STANDARD.encode(b)
                })))
            }
            _ => Err(format!("no method {name}")),
        }
    }
    fn field(&self, name: &str) -> Option<Value> {
        // A Go map type: `.Files.name` indexes the map (missing keys give a nil []byte).
        Some(
            self.0
                .get(name)
                .map(|b| Value::Bytes(b.clone()))
                .unwrap_or(Value::Nil),
        )
    }
    fn fmt_v(&self, out: &mut String) {
        out.push_str("map[");
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(k);
            out.push(':');
            rudder_value::gofmt::write_v(out, &Value::Bytes(v.clone()));
        }
        out.push(']');
    }
    fn is_true(&self) -> bool {
        !self.0.is_empty()
    }
    /// For `range`, `index` and `len`: the map of file names to bytes.
    fn to_data(&self) -> Option<Value> {
        Some(Value::map(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bytes(v.clone())))
                .collect(),
        ))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    /// `?`: one character other than the separator.
    AnyChar,
    /// `*`: any run of characters other than the separator.
    Any,
    /// `**`: any run of characters.
    AnyDeep,
    /// `[...]`: (negated, ranges)
    Class(bool, Vec<(char, char)>),
    /// `{a,b}`: alternatives, each a token sequence.
    Alt(Vec<Vec<Token>>),
}

struct Glob(Vec<Token>);

impl Glob {
    fn parse(pattern: &str) -> Option<Glob> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let tokens = parse_seq(&chars, &mut pos, false)?;
        (pos == chars.len()).then_some(Glob(tokens))
    }

    fn matches(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        match_seq(&self.0, &chars, &mut |rest| rest.is_empty())
    }
}

fn parse_seq(chars: &[char], pos: &mut usize, in_alt: bool) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        match c {
            ',' | '}' if in_alt => return Some(out),
            '\\' => {
                *pos += 1;
                out.push(Token::Literal(*chars.get(*pos)?));
                *pos += 1;
            }
            '?' => {
                out.push(Token::AnyChar);
                *pos += 1;
            }
            '*' => {
                if chars.get(*pos + 1) == Some(&'*') {
                    out.push(Token::AnyDeep);
                    *pos += 2;
                } else {
                    out.push(Token::Any);
                    *pos += 1;
                }
            }
            '[' => {
                *pos += 1;
                let negated = chars.get(*pos) == Some(&'!');
                if negated {
                    *pos += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    let c = *chars.get(*pos)?;
                    if c == ']' {
                        *pos += 1;
                        break;
                    }
                    if chars.get(*pos + 1) == Some(&'-')
                        && chars.get(*pos + 2).is_some_and(|&e| e != ']')
                    {
                        ranges.push((c, chars[*pos + 2]));
                        *pos += 3;
                    } else {
                        ranges.push((c, c));
                        *pos += 1;
                    }
                }
                out.push(Token::Class(negated, ranges));
            }
            '{' => {
                *pos += 1;
                let mut alts = Vec::new();
                loop {
                    alts.push(parse_seq(chars, pos, true)?);
                    match chars.get(*pos)? {
                        ',' => *pos += 1,
                        '}' => {
                            *pos += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                out.push(Token::Alt(alts));
            }
            _ => {
                out.push(Token::Literal(c));
                *pos += 1;
            }
        }
    }
    if in_alt {
        return None; // unterminated `{`
    }
    Some(out)
}

/// Matches `tokens` against a prefix of `name`, then asks `rest_ok` about what is left.
fn match_seq(tokens: &[Token], name: &[char], rest_ok: &mut dyn FnMut(&[char]) -> bool) -> bool {
    let Some((first, more)) = tokens.split_first() else {
        return rest_ok(name);
    };
    match first {
        Token::Literal(c) => name.first() == Some(c) && match_seq(more, &name[1..], rest_ok),
        Token::AnyChar => {
            name.first().is_some_and(|&c| c != '/') && match_seq(more, &name[1..], rest_ok)
        }
        Token::Class(negated, ranges) => {
            name.first().is_some_and(|&c| {
                let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                inside != *negated
            }) && match_seq(more, &name[1..], rest_ok)
        }
        Token::Any | Token::AnyDeep => {
            let deep = *first == Token::AnyDeep;
            for i in 0..=name.len() {
                if match_seq(more, &name[i..], rest_ok) {
                    return true;
                }
                if i < name.len() && !deep && name[i] == '/' {
                    return false;
                }
            }
            false
        }
        Token::Alt(alts) => alts.iter().any(|alt| {
            match_seq(alt, name, &mut |rest: &[char]| {
                match_seq(more, rest, rest_ok)
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        Glob::parse(pattern).expect("valid pattern").matches(name)
    }

    #[test]
    fn glob_follows_gobwas_rules() {
        assert!(matches("files/*.conf", "files/a.conf"));
        assert!(!matches("files/*.conf", "files/sub/a.conf"));
        assert!(matches("files/**.conf", "files/sub/a.conf"));
        assert!(matches("**", "a/b/c"));
        assert!(matches("f?le", "file"));
        assert!(!matches("a?b", "a/b"));
        assert!(matches("{a,b}/*.txt", "b/x.txt"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[!a-c]x", "bx"));
        assert!(matches("a\\*", "a*"));
        assert!(Glob::parse("{a,b").is_none());
    }
}
