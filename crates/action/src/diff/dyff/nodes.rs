//! The YAML nodes dyff compares, read as go-yaml v3 reads them (tags resolved by its rules).

use std::collections::BTreeMap;

use rudder_value::gofmt;
use rudder_value::yaml::{self, Node as RawNode};

/// A YAML node as go-yaml v3 builds it, reduced to what dyff looks at.
#[derive(Clone, Debug)]
pub(super) enum Node {
    /// A document (only as the subject of a document added or removed).
    Document(Box<Node>),
    Scalar {
        tag: &'static str,
        value: String,
    },
    Sequence(Vec<Node>),
    Mapping(Vec<Pair>),
}

#[derive(Clone, Debug)]
pub(super) struct Pair {
    pub(super) key: String,
    /// The comment lines just above the key (go-yaml v3's head comment), which neat prints.
    pub(super) comment: Option<String>,
    pub(super) value: Node,
}

pub(super) const STR: &str = "!!str";
pub(super) const NULL: &str = "!!null";
pub(super) const BOOL: &str = "!!bool";
pub(super) const INT: &str = "!!int";
pub(super) const FLOAT: &str = "!!float";
pub(super) const TIMESTAMP: &str = "!!timestamp";

impl Node {
    pub(super) fn null() -> Node {
        Node::Scalar {
            tag: NULL,
            value: String::new(),
        }
    }

    pub(super) fn text(value: &str) -> Node {
        Node::Scalar {
            tag: STR,
            value: value.to_string(),
        }
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { tag, .. } if *tag == NULL)
    }

    /// go-yaml v3's `Node.Value`: a scalar's text, empty for collections.
    pub(super) fn value(&self) -> &str {
        match self {
            Node::Scalar { value, .. } => value,
            _ => "",
        }
    }

    /// dyff's `humanReadableType`.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Node::Document(_) => "document",
            Node::Mapping(_) => "map",
            Node::Sequence(_) => "list",
            Node::Scalar { tag, .. } => match *tag {
                STR => "string",
                NULL => "<nil>",
                other => other.trim_start_matches('!'),
            },
        }
    }

    /// The kind and tag that must agree for dyff to compare two nodes' contents.
    pub(super) fn shape(&self) -> (u8, &'static str) {
        match self {
            Node::Document(_) => (0, ""),
            Node::Sequence(_) => (1, "!!seq"),
            Node::Mapping(_) => (2, "!!map"),
            Node::Scalar { tag, .. } => (3, tag),
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Mapping(pairs) => pairs.iter().find(|p| p.key == key).map(|p| &p.value),
            _ => None,
        }
    }

    /// The content as dyff hashes it (`basicType`: maps without order, scalars by text).
    pub(super) fn basic(&self, out: &mut String) {
        match self {
            Node::Document(inner) => inner.basic(out),
            Node::Scalar { value, .. } => {
                out.push('s');
                out.push_str(&value.len().to_string());
                out.push(':');
                out.push_str(value);
            }
            Node::Sequence(items) => {
                out.push('[');
                for i in items {
                    i.basic(out);
                    out.push(',');
                }
                out.push(']');
            }
            Node::Mapping(pairs) => {
                let mut sorted: BTreeMap<&str, String> = BTreeMap::new();
                for p in pairs {
                    let mut v = String::new();
                    p.value.basic(&mut v);
                    sorted.insert(&p.key, v);
                }
                out.push('{');
                for (k, v) in sorted {
                    out.push_str(&k.len().to_string());
                    out.push(':');
                    out.push_str(k);
                    out.push_str(&v);
                    out.push(',');
                }
                out.push('}');
            }
        }
    }

    /// dyff's `calcNodeHash`, as a string: a scalar by tag and text, collections by content.
    pub(super) fn identity(&self) -> String {
        let mut out = String::new();
        match self {
            Node::Scalar { tag, value } => {
                out.push_str(tag);
                out.push('/');
                out.push_str(value);
            }
            other => other.basic(&mut out),
        }
        out
    }
}

/// go-yaml v3's resolution of a scalar's tag (resolve.go): quoted and block scalars are
/// strings; plain ones may be null, a boolean (`true`/`false` in three spellings only), an
/// integer (Go's base-0 syntax, underscores allowed), a float or a timestamp.
pub(super) fn resolve(text: &str, plain: bool, explicit: Option<&str>) -> &'static str {
    if let Some(tag) = explicit {
        return match tag {
            "!!str" => STR,
            "!!null" => NULL,
            "!!bool" => BOOL,
            "!!int" => INT,
            "!!float" => FLOAT,
            "!!timestamp" => TIMESTAMP,
            "!!binary" => "!!binary",
            _ => STR,
        };
    }
    if !plain {
        return STR;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NULL,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return BOOL,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return FLOAT,
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first == b'.' {
        return if gofmt::parse_float(text).is_ok() {
            FLOAT
        } else {
            STR
        };
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return STR;
    }
    if is_timestamp(text) {
        return TIMESTAMP;
    }
    let digits = text.replace('_', "");
    if gofmt::parse_int(&digits, 0).is_ok() || parse_uint(&digits) {
        return INT;
    }
    if is_yaml_float(&digits) {
        return FLOAT;
    }
    STR
}

pub(super) fn parse_uint(s: &str) -> bool {
    let (radix, digits) = gofmt::go_int_radix(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_digit(radix))
        && u64::from_str_radix(digits, radix).is_ok()
}

/// go-yaml v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub(super) fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// go-yaml v3's `parseTimestamp`: Go's `time.Parse` with the layouts `2006-1-2`,
/// `2006-1-2 15:4:5.999999999` and `2006-1-2T15:4:5.999999999Z07:00` (also with `t`): one- or
/// two-digit fields, dates and times in range.
pub(super) fn is_timestamp(s: &str) -> bool {
    pub(super) fn number(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
        let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
        (n >= min)
            .then(|| (s[..n].parse().ok(), &s[n..]))
            .and_then(|(v, r)| Some((v?, r)))
    }
    pub(super) fn field(s: &str, sep: char) -> Option<(u32, &str)> {
        let (v, rest) = number(s, 1, 2)?;
        Some((v, rest.strip_prefix(sep)?))
    }
    let Some((year, rest)) = number(s, 4, 4) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    let Some((month, rest)) = field(rest, '-') else {
        return false;
    };
    let Some((day, rest)) = number(rest, 1, 2) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day < 1 || day > days[month as usize - 1] {
        return false;
    }
    let (zoned, time) = match rest.chars().next() {
        None => return true,
        Some('T') | Some('t') => (true, &rest[1..]),
        Some(' ') => (false, &rest[1..]),
        Some(_) => return false,
    };
    let clock = || -> Option<&str> {
        let (hour, r) = field(time, ':')?;
        let (minute, r) = field(r, ':')?;
        let (second, mut r) = number(r, 1, 2)?;
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        if let Some(frac) = r.strip_prefix(['.', ',']) {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            r = &frac[n..];
        }
        Some(r)
    };
    let Some(zone) = clock() else {
        return false;
    };
    if !zoned {
        return zone.is_empty();
    }
    zone == "Z"
        || zone.len() == 6
            && zone.starts_with(['+', '-'])
            && zone.as_bytes()[3] == b':'
            && zone[1..3]
                .bytes()
                .chain(zone[4..].bytes())
                .all(|b| b.is_ascii_digit())
}

pub(super) fn convert(raw: &RawNode) -> Node {
    match raw {
        RawNode::Scalar { text, plain, tag } => Node::Scalar {
            tag: resolve(text, *plain, tag.as_deref()),
            value: text.clone(),
        },
        RawNode::Seq(items) => Node::Sequence(items.iter().map(convert).collect()),
        RawNode::Map(entries) => Node::Mapping(
            entries
                .iter()
                .map(|(k, v)| Pair {
                    key: match k {
                        RawNode::Scalar { text, .. } => text.clone(),
                        _ => String::new(),
                    },
                    comment: None,
                    value: convert(v),
                })
                .collect(),
        ),
    }
}

/// One document of a stream: its root (null when empty).
pub(super) fn read_document(text: &str) -> Result<Node, String> {
    let docs = yaml::parse_nodes(text)?;
    let mut root = docs.first().map(convert).unwrap_or_else(Node::null);
    // go-yaml v3 keeps comment lines right above the first key as that key's head comment;
    // a blank line between them makes it the document's, which neat does not print.
    let mut comment = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            comment.push(trimmed.trim_end());
        } else if trimmed.is_empty() || trimmed == "---" {
            comment.clear();
        } else {
            break;
        }
    }
    if let (Node::Mapping(pairs), false) = (&mut root, comment.is_empty()) {
        if let Some(first) = pairs.first_mut() {
            first.comment = Some(comment.join("\n"));
        }
    }
    Ok(root)
}
