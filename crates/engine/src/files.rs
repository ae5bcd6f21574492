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
use rudder_value::{Kind, Map, Object, ParamType, Value};

/// The files of one chart, by path relative to the chart root.
#[derive(Debug, Clone, Default)]
pub struct Files(pub BTreeMap<String, bytes::Bytes>);

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
        Arc::from(self.0.get(name).map_or(&b""[..], |data| &data[..]))
    }

    fn glob(&self, pattern: &str) -> Files {
        let pattern = Glob::parse(pattern)
            .unwrap_or_else(|| Glob(vec![Inst::Star { deep: true }, Inst::Match]));
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
    fn method_params(&self, name: &str) -> Option<&'static [ParamType]> {
        Some(match name {
            "AsConfig" | "AsSecrets" => &[],
            _ => &[ParamType::String],
        })
    }
    /// The arguments were checked against [`Object::method_params`].
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let arg = args
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
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
                .map(|b| Value::Bytes(Arc::from(&b[..])))
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
            rudder_value::gofmt::write_v(out, &Value::Bytes(Arc::from(&v[..])));
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
                .map(|(k, v)| (k.clone(), Value::Bytes(Arc::from(&v[..]))))
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

/// A compiled `Glob` pattern: a small NFA run over the name one character at a time
/// (Thompson's construction), so that matching costs pattern × name steps; trying every way
/// a `*` could split the name would be exponential in the number of stars.
struct Glob(Vec<Inst>);

#[derive(Debug, Clone, PartialEq)]
enum Inst {
    /// Consumes one character that the token (a literal, `?` or a class) accepts.
    One(Token),
    /// `*` (`deep`: `**`): consumes any character (other than `/` unless deep) and stays,
    /// or moves on without consuming.
    Star {
        deep: bool,
    },
    /// Moves on to every target without consuming (the branches of `{a,b}`).
    Split(Vec<usize>),
    Jump(usize),
    Match,
}

impl Glob {
    fn parse(pattern: &str) -> Option<Glob> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let tokens = parse_seq(&chars, &mut pos, false)?;
        if pos != chars.len() {
            return None;
        }
        let mut program = Vec::new();
        compile(&tokens, &mut program);
        program.push(Inst::Match);
        Some(Glob(program))
    }

    fn matches(&self, name: &str) -> bool {
        let mut current = StateSet::new(self.0.len());
        let mut next = StateSet::new(self.0.len());
        self.add_state(&mut current, 0);
        for c in name.chars() {
            next.clear();
            for &pc in &current.list {
                match &self.0[pc] {
                    Inst::One(token) if token_accepts(token, c) => {
                        self.add_state(&mut next, pc + 1)
                    }
                    Inst::Star { deep } if *deep || c != '/' => self.add_state(&mut next, pc),
                    _ => {}
                }
            }
            std::mem::swap(&mut current, &mut next);
            if current.list.is_empty() {
                return false;
            }
        }
        current.list.iter().any(|&pc| self.0[pc] == Inst::Match)
    }

    /// Adds `pc` and everything reachable from it without consuming a character.
    fn add_state(&self, set: &mut StateSet, pc: usize) {
        let mut pending = vec![pc];
        while let Some(pc) = pending.pop() {
            if !set.insert(pc) {
                continue;
            }
            match &self.0[pc] {
                Inst::Star { .. } => pending.push(pc + 1),
                Inst::Split(targets) => pending.extend(targets.iter().rev()),
                Inst::Jump(target) => pending.push(*target),
                Inst::One(_) | Inst::Match => {}
            }
        }
    }
}

/// The NFA states active at one position of the name.
struct StateSet {
    seen: Vec<bool>,
    list: Vec<usize>,
}

impl StateSet {
    fn new(size: usize) -> StateSet {
        StateSet {
            seen: vec![false; size],
            list: Vec::new(),
        }
    }

    fn insert(&mut self, pc: usize) -> bool {
        if self.seen[pc] {
            return false;
        }
        self.seen[pc] = true;
        self.list.push(pc);
        true
    }

    fn clear(&mut self) {
        for &pc in &self.list {
            self.seen[pc] = false;
        }
        self.list.clear();
    }
}

fn compile(tokens: &[Token], program: &mut Vec<Inst>) {
    for token in tokens {
        match token {
            Token::Any => program.push(Inst::Star { deep: false }),
            Token::AnyDeep => program.push(Inst::Star { deep: true }),
            Token::Alt(alts) => {
                let split = program.len();
                program.push(Inst::Split(Vec::new()));
                let mut starts = Vec::new();
                let mut jumps = Vec::new();
                for alt in alts {
                    starts.push(program.len());
                    compile(alt, program);
                    jumps.push(program.len());
                    program.push(Inst::Jump(0));
                }
                let end = program.len();
                program[split] = Inst::Split(starts);
                for j in jumps {
                    program[j] = Inst::Jump(end);
                }
            }
            one => program.push(Inst::One(one.clone())),
        }
    }
}

fn token_accepts(token: &Token, c: char) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::AnyChar => c != '/',
        Token::Class(negated, ranges) => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
        _ => false,
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
        assert!(matches("{a,b{c,d}}x", "bdx"));
        assert!(matches("{,x}y", "y"));
        assert!(matches("*{.yaml,.yml}", "a.yml"));
        assert!(!matches("*{.yaml,.yml}", "a/b.yml"));
        assert!(matches("**/{a,b*}/**", "x/y/bz/q"));
        assert!(!matches("a", ""));
        assert!(matches("", ""));
    }

    #[test]
    fn many_stars_cost_pattern_times_name() {
        let name = "a".repeat(120);
        let started = std::time::Instant::now();
        assert!(!matches("*a*a*a*a*a*a*a*a*a*b", &name));
        assert!(!matches("**a**a**a**a**a**a**a**a**a**b", &name));
        assert!(!matches(
            "{*a,*a}{*a,*a}{*a,*a}{*a,*a}{*a,*a}{*a,*a}{*a,*a}b",
            &name
        ));
        assert!(matches("*a*a*a*a*a*a*a*a*a*a", &name));
        assert!(
            started.elapsed() < std::time::Duration::from_millis(50),
            "took {:?}",
            started.elapsed()
        );
    }
}
