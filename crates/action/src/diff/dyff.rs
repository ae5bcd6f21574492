//! `--output dyff`: the changes as homeport/dyff's human report, which helm-diff prints for
//! this format (diff/report.go `printDyffReport`, v3.15.11, with dyff v1.12.0). helm-diff
//! writes each entry's two sides as one document of an "old" and a "new" YAML stream (the
//! lines of its line diff, so Secrets are already masked and `--suppress-output-line-regex`
//! has already dropped lines), then has dyff compare the streams with Kubernetes entity
//! detection (documents matched by apiVersion, kind, namespace and name) and whitespace
//! changes ignored, and prints dyff's report without its banner.
//!
//! What is compared and printed follows dyff's pkg/dyff/core.go (maps by key, lists by an
//! identifying field such as `name`, or as Kubernetes objects, or by content; order changes
//! reported) and output_human.go (a path per difference, then `±`/`+`/`-`/`⇆` blocks; YAML
//! of added and removed parts laid out as gonvenience/neat does, keys ordered as ytbx's
//! `RestructureObject` orders them; blocks side by side when they fit the terminal width, 80
//! columns when stdout is not a terminal). Scalars are typed as go-yaml v3 types them. See
//! the README for what differs (comments, rename detection). No Rust crate
//! renders dyff's format, hence this module.

use std::collections::{BTreeMap, HashMap};

use rudder_value::gofmt;
use rudder_value::yaml::{self, Node as RawNode};

use super::lines::{self, Delta};
use super::{DiffOptions, Entry};

/// A YAML node as go-yaml v3 builds it, reduced to what dyff looks at.
#[derive(Clone, Debug)]
enum Node {
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
struct Pair {
    key: String,
    /// The comment lines just above the key (go-yaml v3's head comment), which neat prints.
    comment: Option<String>,
    value: Node,
}

const STR: &str = "!!str";
const NULL: &str = "!!null";
const BOOL: &str = "!!bool";
const INT: &str = "!!int";
const FLOAT: &str = "!!float";
const TIMESTAMP: &str = "!!timestamp";

impl Node {
    fn null() -> Node {
        Node::Scalar {
            tag: NULL,
            value: String::new(),
        }
    }

    fn text(value: &str) -> Node {
        Node::Scalar {
            tag: STR,
            value: value.to_string(),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { tag, .. } if *tag == NULL)
    }

    /// go-yaml v3's `Node.Value`: a scalar's text, empty for collections.
    fn value(&self) -> &str {
        match self {
            Node::Scalar { value, .. } => value,
            _ => "",
        }
    }

    /// dyff's `humanReadableType`.
    fn type_name(&self) -> &'static str {
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
    fn shape(&self) -> (u8, &'static str) {
        match self {
            Node::Document(_) => (0, ""),
            Node::Sequence(_) => (1, "!!seq"),
            Node::Mapping(_) => (2, "!!map"),
            Node::Scalar { tag, .. } => (3, tag),
        }
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Mapping(pairs) => pairs.iter().find(|p| p.key == key).map(|p| &p.value),
            _ => None,
        }
    }

    /// The content as dyff hashes it (`basicType`: maps without order, scalars by text).
    fn basic(&self, out: &mut String) {
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
    fn identity(&self) -> String {
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
fn resolve(text: &str, plain: bool, explicit: Option<&str>) -> &'static str {
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

fn parse_uint(s: &str) -> bool {
    let (radix, digits) = gofmt::go_int_radix(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_digit(radix))
        && u64::from_str_radix(digits, radix).is_ok()
}

/// go-yaml v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
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
fn is_timestamp(s: &str) -> bool {
    fn number(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
        let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
        (n >= min)
            .then(|| (s[..n].parse().ok(), &s[n..]))
            .and_then(|(v, r)| Some((v?, r)))
    }
    fn field(s: &str, sep: char) -> Option<(u32, &str)> {
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

fn convert(raw: &RawNode) -> Node {
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
fn read_document(text: &str) -> Result<Node, String> {
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

/// Which stream a path's document belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    From,
    To,
}

#[derive(Clone, Debug, PartialEq)]
enum Element {
    Key(String),
    /// A list entry found by an identifying field (`name: web`), shown by its name.
    Named(String),
    Index(usize),
}

/// ytbx's `Path`: the document (in the old or the new stream) and the way into it.
#[derive(Clone, Debug)]
struct Path {
    side: Side,
    document: usize,
    elements: Vec<Element>,
}

impl Path {
    fn with(&self, e: Element) -> Path {
        let mut p = self.clone();
        p.elements.push(e);
        p
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum DetailKind {
    Addition,
    Removal,
    Modification,
    OrderChange,
}

#[derive(Clone, Debug)]
struct Detail {
    kind: DetailKind,
    from: Option<Node>,
    to: Option<Node>,
}

#[derive(Clone, Debug)]
struct Difference {
    /// `None` for a difference of the files as a whole (the order of their documents).
    path: Option<Path>,
    details: Vec<Detail>,
}

fn modification(path: &Path, from: &Node, to: &Node) -> Vec<Difference> {
    vec![Difference {
        path: Some(path.clone()),
        details: vec![Detail {
            kind: DetailKind::Modification,
            from: Some(from.clone()),
            to: Some(to.clone()),
        }],
    }]
}

/// How list entries are told apart (dyff's `listItemIdentifier`).
enum Identifier {
    Field(String),
    Kubernetes,
}

impl Identifier {
    fn name(&self, node: &Node) -> Result<String, String> {
        match self {
            Identifier::Field(field) => match node {
                Node::Mapping(pairs) => pairs
                    .iter()
                    .find(|p| p.key == *field)
                    .map(|p| p.value.value().to_string())
                    .ok_or_else(|| format!("no key {field:?} found in map")),
                _ => Err(format!("no key {field:?} found in map")),
            },
            Identifier::Kubernetes => kubernetes_name(node),
        }
    }

    fn find<'n>(&self, list: &'n [Node], name: &str) -> Option<&'n Node> {
        for entry in list {
            match self.name(entry) {
                Ok(n) if n == name => return Some(entry),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }
}

/// dyff's `k8sItemIdentifier.Name`: `apiVersion/kind[/namespace]/name`.
fn kubernetes_name(node: &Node) -> Result<String, String> {
    if !matches!(node, Node::Mapping(_)) {
        return Err("provided node is not a mapping node".into());
    }
    let field = |n: &Node, k: &str| -> Result<String, String> {
        n.get(k)
            .map(|v| v.value().to_string())
            .ok_or_else(|| format!("no key {k:?} found"))
    };
    let mut parts = vec![field(node, "apiVersion")?, field(node, "kind")?];
    let metadata = node.get("metadata").ok_or("no key \"metadata\" found")?;
    if let Ok(namespace) = field(metadata, "namespace") {
        parts.push(namespace);
    }
    parts.push(field(metadata, "name")?);
    Ok(parts.join("/"))
}

/// dyff's comparison settings as helm-diff sets them.
struct Compare {
    non_standard_identifier_threshold: usize,
}

impl Compare {
    fn objects(&self, path: &Path, from: &Node, to: &Node) -> Result<Vec<Difference>, String> {
        if from.shape() != to.shape() {
            return Ok(modification(path, from, to));
        }
        match (from, to) {
            (Node::Document(f), Node::Document(t)) => self.objects(path, f, t),
            (Node::Mapping(f), Node::Mapping(t)) => self.mappings(path, f, t),
            (Node::Sequence(f), Node::Sequence(t)) => self.sequences(path, f, t),
            (Node::Scalar { tag, value: f }, Node::Scalar { value: t, .. }) => Ok(match *tag {
                STR if f != t && !whitespace_only_change(f, t) => modification(path, from, to),
                STR | NULL => Vec::new(),
                BOOL if to_bool(f)? != to_bool(t)? => modification(path, from, to),
                BOOL => Vec::new(),
                _ if f != t => modification(path, from, to),
                _ => Vec::new(),
            }),
            _ => Ok(modification(path, from, to)),
        }
    }

    fn mappings(&self, path: &Path, from: &[Pair], to: &[Pair]) -> Result<Vec<Difference>, String> {
        let mut result = Vec::new();
        let mut removals = Vec::new();
        for pair in from {
            match to.iter().find(|p| p.key == pair.key) {
                Some(other) => result.extend(self.objects(
                    &path.with(Element::Key(pair.key.clone())),
                    &pair.value,
                    &other.value,
                )?),
                None => removals.push(pair.clone()),
            }
        }
        let additions: Vec<Pair> = to
            .iter()
            .filter(|p| !from.iter().any(|f| f.key == p.key))
            .cloned()
            .collect();
        let mut details = Vec::new();
        if !removals.is_empty() {
            details.push(Detail {
                kind: DetailKind::Removal,
                from: Some(Node::Mapping(removals)),
                to: None,
            });
        }
        if !additions.is_empty() {
            details.push(Detail {
                kind: DetailKind::Addition,
                from: None,
                to: Some(Node::Mapping(additions)),
            });
        }
        if !details.is_empty() {
            result.insert(
                0,
                Difference {
                    path: Some(path.clone()),
                    details,
                },
            );
        }
        Ok(result)
    }

    fn sequences(
        &self,
        path: &Path,
        from: &[Node],
        to: &[Node],
    ) -> Result<Vec<Difference>, String> {
        if from.is_empty() && to.is_empty() {
            return Ok(Vec::new());
        }
        let identifier = self
            .named_list_identifier(from, to)
            .or_else(|| self.non_standard_identifier(from, to))
            .or_else(|| {
                let all_named = |l: &[Node]| l.iter().all(|n| kubernetes_name(n).is_ok());
                (all_named(from) && all_named(to)).then_some(Identifier::Kubernetes)
            });
        match identifier {
            Some(id) => self.named_entry_lists(path, &id, from, to),
            None => self.simple_lists(path, from, to),
        }
    }

    /// dyff's `getIdentifierFromNamedLists`: `name`, `key`, `id` or (Kubernetes)
    /// `manager`, when every entry of both lists has a distinct value for it.
    fn named_list_identifier(&self, a: &[Node], b: &[Node]) -> Option<Identifier> {
        const CANDIDATES: [&str; 4] = ["name", "key", "id", "manager"];
        let distinct = |list: &[Node], field: &str| -> usize {
            let mut values: Vec<&str> = list
                .iter()
                .filter_map(|n| match n {
                    Node::Mapping(pairs) => Some(pairs),
                    _ => None,
                })
                .flat_map(|pairs| {
                    pairs
                        .iter()
                        .filter(|p| p.key == field)
                        .map(|p| p.value.value())
                })
                .collect();
            values.sort_unstable();
            values.dedup();
            let present = list
                .iter()
                .any(|n| matches!(n, Node::Mapping(p) if p.iter().any(|p| p.key == field)));
            if present {
                values.len()
            } else {
                usize::MAX
            }
        };
        CANDIDATES
            .iter()
            .find(|c| distinct(a, c) == a.len() && distinct(b, c) == b.len())
            .map(|c| Identifier::Field(c.to_string()))
    }

    /// dyff's `getNonStandardIdentifierFromNamedLists`: a string field whose values are all
    /// distinct in lists of more than three maps.
    fn non_standard_identifier(&self, a: &[Node], b: &[Node]) -> Option<Identifier> {
        let counts = |list: &[Node]| -> BTreeMap<String, usize> {
            let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for entry in list {
                let Node::Mapping(pairs) = entry else {
                    return BTreeMap::new();
                };
                for p in pairs {
                    if let Node::Scalar { tag: STR, value } = &p.value {
                        let values = seen.entry(p.key.clone()).or_default();
                        if !values.contains(value) {
                            values.push(value.clone());
                        }
                    }
                }
            }
            seen.into_iter().map(|(k, v)| (k, v.len())).collect()
        };
        let (count_a, count_b) = (counts(a), counts(b));
        count_a.iter().find_map(|(key, n)| {
            (count_b.get(key) == Some(&b.len())
                && *n == a.len()
                && *n > self.non_standard_identifier_threshold)
                .then(|| Identifier::Field(key.clone()))
        })
    }

    fn named_entry_lists(
        &self,
        path: &Path,
        id: &Identifier,
        from: &[Node],
        to: &[Node],
    ) -> Result<Vec<Difference>, String> {
        let (mut result, mut removals, mut additions) = (Vec::new(), Vec::new(), Vec::new());
        let (mut from_names, mut to_names) = (Vec::new(), Vec::new());
        for entry in from {
            let name = id
                .name(entry)
                .map_err(|e| format!("failed to identify name: {e}"))?;
            match id.find(to, &name) {
                Some(other) => {
                    result.extend(self.objects(
                        &path.with(Element::Named(name.clone())),
                        entry,
                        other,
                    )?);
                    from_names.push(name);
                }
                None => removals.push(entry.clone()),
            }
        }
        for entry in to {
            let name = id
                .name(entry)
                .map_err(|e| format!("failed to identify name: {e}"))?;
            match id.find(from, &name) {
                Some(_) => to_names.push(name),
                None => additions.push(entry.clone()),
            }
        }
        let positions: HashMap<&str, usize> = to_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let moved = from_names
            .iter()
            .enumerate()
            .any(|(i, n)| positions.get(n.as_str()).copied().unwrap_or(0) != i);
        let order = if moved {
            vec![order_change(&from_names, &to_names)]
        } else {
            Vec::new()
        };
        Ok(pack(result, path, order, additions, removals))
    }

    fn simple_lists(
        &self,
        path: &Path,
        from: &[Node],
        to: &[Node],
    ) -> Result<Vec<Difference>, String> {
        if from.len() == 1 && to.len() == 1 {
            return self.objects(&path.with(Element::Index(0)), &from[0], &to[0]);
        }
        let lookup = |list: &[Node]| -> HashMap<String, usize> {
            let mut m = HashMap::new();
            for n in list {
                *m.entry(n.identity()).or_insert(0) += 1;
            }
            m
        };
        let (from_counts, to_counts) = (lookup(from), lookup(to));
        let mut removals: Vec<Node> = Vec::new();
        let mut additions: Vec<Node> = Vec::new();
        let (mut from_common, mut to_common) = (Vec::new(), Vec::new());
        for (entries, counts, other_counts, changed, common) in [
            (
                from,
                &from_counts,
                &to_counts,
                &mut removals,
                &mut from_common,
            ),
            (to, &to_counts, &from_counts, &mut additions, &mut to_common),
        ] {
            for n in entries {
                let id = n.identity();
                match other_counts.get(&id) {
                    None => changed.push(n.clone()),
                    Some(other) => {
                        common.push(n.clone());
                        let mine = counts[&id];
                        if mine > *other && !changed.iter().any(|c| c.identity() == id) {
                            for _ in 0..mine - other {
                                changed.push(n.clone());
                            }
                        }
                    }
                }
            }
        }
        let mut order = Vec::new();
        if from_common.len() == to_common.len()
            && from_common
                .iter()
                .zip(&to_common)
                .any(|(a, b)| a.identity() != b.identity())
        {
            order.push(Detail {
                kind: DetailKind::OrderChange,
                from: Some(Node::Sequence(from_common)),
                to: Some(Node::Sequence(to_common)),
            });
        }
        Ok(pack(Vec::new(), path, order, additions, removals))
    }
}

fn order_change(from: &[String], to: &[String]) -> Detail {
    let seq = |names: &[String]| Node::Sequence(names.iter().map(|n| Node::text(n)).collect());
    Detail {
        kind: DetailKind::OrderChange,
        from: Some(seq(from)),
        to: Some(seq(to)),
    }
}

/// dyff's `packChangesAndAddToResult`: this path's order change, removals and additions
/// come before the differences found inside the entries.
fn pack(
    mut list: Vec<Difference>,
    path: &Path,
    order: Vec<Detail>,
    additions: Vec<Node>,
    removals: Vec<Node>,
) -> Vec<Difference> {
    let mut details = order;
    if !removals.is_empty() {
        details.push(Detail {
            kind: DetailKind::Removal,
            from: Some(Node::Sequence(removals)),
            to: None,
        });
    }
    if !additions.is_empty() {
        details.push(Detail {
            kind: DetailKind::Addition,
            from: None,
            to: Some(Node::Sequence(additions)),
        });
    }
    if !details.is_empty() {
        list.insert(
            0,
            Difference {
                path: Some(path.clone()),
                details,
            },
        );
    }
    list
}

fn whitespace_only_change(from: &str, to: &str) -> bool {
    from.trim_matches([' ', '\n']) == to.trim_matches([' ', '\n'])
}

fn to_bool(s: &str) -> Result<bool, String> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Ok(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Ok(false)
        }
        _ => Err(format!("not a valid boolean value: '{s}'")),
    }
}

/// The two streams after dyff's Kubernetes detection: the documents compared, and the
/// names that describe them in paths.
struct Streams {
    from: Vec<Node>,
    to: Vec<Node>,
    from_names: Vec<String>,
    to_names: Vec<String>,
}

/// dyff's `CompareInputFiles` with helm-diff's options.
fn compare_streams(from: Vec<Node>, to: Vec<Node>) -> Result<(Streams, Vec<Difference>), String> {
    let cmp = Compare {
        non_standard_identifier_threshold: 3,
    };
    let from_docs: Vec<Node> = from.iter().filter(|d| !d.is_null()).cloned().collect();
    let to_docs: Vec<Node> = to.iter().filter(|d| !d.is_null()).cloned().collect();
    let names = |docs: &[Node]| -> Option<Vec<String>> {
        docs.iter().map(|d| kubernetes_name(d).ok()).collect()
    };
    if let (Some(from_names), Some(to_names)) = (names(&from_docs), names(&to_docs)) {
        let streams = Streams {
            from: from_docs,
            to: to_docs,
            from_names,
            to_names,
        };
        let diffs = documents(&cmp, &streams)?;
        return Ok((streams, diffs));
    }
    if from.len() != to.len() {
        return Err(
            "comparing YAMLs with a different number of documents is currently not supported"
                .into(),
        );
    }
    let mut diffs = Vec::new();
    for (i, (f, t)) in from.iter().zip(&to).enumerate() {
        let path = Path {
            side: Side::From,
            document: i,
            elements: Vec::new(),
        };
        diffs.extend(cmp.objects(&path, f, t)?);
    }
    let streams = Streams {
        from,
        to,
        from_names: Vec::new(),
        to_names: Vec::new(),
    };
    Ok((streams, diffs))
}

/// dyff's `documentNodes`: documents matched by their Kubernetes names.
fn documents(cmp: &Compare, s: &Streams) -> Result<Vec<Difference>, String> {
    let index = |names: &[String]| -> HashMap<String, usize> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect()
    };
    let (from_index, to_index) = (index(&s.from_names), index(&s.to_names));
    let mut result = Vec::new();
    let mut removals = Vec::new();
    for name in &s.from_names {
        let i = from_index[name];
        match to_index.get(name) {
            Some(&j) => {
                let path = Path {
                    side: Side::From,
                    document: i,
                    elements: Vec::new(),
                };
                result.extend(cmp.objects(&path, &s.from[i], &s.to[j])?);
            }
            None => removals.push(i),
        }
    }
    let additions: Vec<usize> = s
        .to_names
        .iter()
        .filter(|n| !from_index.contains_key(*n))
        .map(|n| to_index[n])
        .collect();
    for (side, indexes, docs) in [
        (Side::From, removals, &s.from),
        (Side::To, additions, &s.to),
    ] {
        for i in indexes {
            let document = Some(Node::Document(Box::new(docs[i].clone())));
            let (kind, from, to) = match side {
                Side::From => (DetailKind::Removal, document, None),
                Side::To => (DetailKind::Addition, None, document),
            };
            result.push(Difference {
                path: Some(Path {
                    side,
                    document: i,
                    elements: Vec::new(),
                }),
                details: vec![Detail { kind, from, to }],
            });
        }
    }
    if s.from_names.len() == s.to_names.len() && s.from_names != s.to_names {
        result.push(Difference {
            path: None,
            details: vec![order_change(&s.from_names, &s.to_names)],
        });
    }
    Ok(result)
}

type Rgb = (u8, u8, u8);

// dyff's colours (pkg/dyff/colors.go) and the bunt colours dyff and neat name.
const YELLOW: Rgb = (0xC7, 0xC4, 0x3F);
const GREEN: Rgb = (0x58, 0xBF, 0x38);
const RED: Rgb = (0xB9, 0x31, 0x1B);
const LIGHT_STEEL_BLUE: Rgb = (0xB0, 0xC4, 0xDE);
const LIGHT_SALMON: Rgb = (0xFF, 0xA0, 0x7A);
const LIGHT_GREEN: Rgb = (0x90, 0xEE, 0x90);

/// The text attributes bunt keeps per character.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Attributes {
    bold: bool,
    italic: bool,
    foreground: Option<Rgb>,
}

/// gonvenience/bunt's styling, with true colour on (helm-diff turns it on for dyff when
/// colour is forced): a text is read back into characters with attributes, restyled, and
/// written with an escape sequence wherever the attributes change (with a reset first when
/// bold or italic ends) and a reset at the end. Without colour every text stays plain.
struct Paint {
    on: bool,
}

impl Paint {
    fn style(
        &self,
        text: &str,
        foreground: Option<Rgb>,
        bold: bool,
        italic: bool,
        each_line: bool,
    ) -> String {
        if !self.on {
            return text.to_string();
        }
        let mut chars = read_attributes(text);
        for (c, a) in chars.iter_mut() {
            if each_line && *c == '\n' {
                continue;
            }
            a.bold |= bold;
            a.italic |= italic;
            if foreground.is_some() {
                a.foreground = foreground;
            }
        }
        write_attributes(&chars)
    }

    /// dyff's `colored`: a foreground colour, line by line.
    fn color(&self, rgb: Rgb, text: &str) -> String {
        self.style(text, Some(rgb), false, false, true)
    }

    /// dyff's `Bold`, line by line (also bunt's `*text*` markup, used for single lines).
    fn bold(&self, text: &str) -> String {
        self.style(text, None, true, false, true)
    }

    fn italic(&self, text: &str) -> String {
        self.style(text, None, false, true, true)
    }
}

/// bunt's `ParseString`, for the escape sequences this module writes.
fn read_attributes(text: &str) -> Vec<(char, Attributes)> {
    let mut out = Vec::with_capacity(text.len());
    let mut current = Attributes::default();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(seq) = rest.strip_prefix("\x1b[") {
            if let Some(end) = seq.find('m') {
                let params: Vec<u8> = seq[..end]
                    .split(';')
                    .filter_map(|p| p.parse().ok())
                    .collect();
                let mut i = 0;
                while i < params.len() {
                    match params[i] {
                        0 => current = Attributes::default(),
                        1 => current.bold = true,
                        3 => current.italic = true,
                        38 if params.get(i + 1) == Some(&2) && i + 4 < params.len() => {
                            current.foreground =
                                Some((params[i + 2], params[i + 3], params[i + 4]));
                            i += 4;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                rest = &seq[end + 1..];
                continue;
            }
        }
        out.push((c, current));
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// bunt's `String.String`.
fn write_attributes(chars: &[(char, Attributes)]) -> String {
    let mut out = String::new();
    let mut current = Attributes::default();
    for (c, a) in chars {
        if *a != current {
            if *a == Attributes::default() {
                out.push_str("\x1b[0m");
            } else {
                let mut params: Vec<String> = Vec::new();
                if (current.bold && !a.bold) || (current.italic && !a.italic) {
                    params.push("0".into());
                }
                if a.bold {
                    params.push("1".into());
                }
                if a.italic {
                    params.push("3".into());
                }
                if let Some((r, g, b)) = a.foreground {
                    params.extend([
                        "38".into(),
                        "2".into(),
                        r.to_string(),
                        g.to_string(),
                        b.to_string(),
                    ]);
                }
                out.push_str(&format!("\x1b[{}m", params.join(";")));
            }
            current = *a;
        }
        out.push(*c);
    }
    if current != Attributes::default() {
        out.push_str("\x1b[0m");
    }
    out
}

/// neat's colour schema: dyff's greenish one for added YAML, its reddish one for removed
/// YAML (colors.go `YAMLInGreenishColors`, `YAMLInRedishColors`); none for values shown in a
/// change, which are then coloured whole.
struct Schema {
    key: Rgb,
    indent: Rgb,
    scalar: Rgb,
    multi_line: Rgb,
    null: Rgb,
    empty: Rgb,
}

const GREENISH: Schema = Schema {
    key: (0x00, 0x80, 0x00),
    indent: (0, 51, 0),
    scalar: (0x32, 0xCD, 0x32),
    multi_line: (0x6B, 0x8E, 0x23),
    null: (0x80, 0x80, 0x00),
    empty: (0x55, 0x6B, 0x2F),
};

const REDDISH: Schema = Schema {
    key: (0xB2, 0x22, 0x22),
    indent: (51, 0, 0),
    scalar: (0xF0, 0x80, 0x80),
    multi_line: (0xE9, 0x96, 0x7A),
    null: (0xFA, 0x80, 0x72),
    empty: (0xFF, 0xA0, 0x7A),
};

/// The width of a text as printed: characters, escape sequences left out.
fn plain_length(text: &str) -> usize {
    let mut n = 0;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

/// gonvenience/text `Plural`.
fn plural(amount: usize, singular: &str, plural: &str) -> String {
    const WORDS: [&str; 13] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    let number = WORDS
        .get(amount)
        .map(|w| w.to_string())
        .unwrap_or_else(|| amount.to_string());
    format!("{number} {}", if amount == 1 { singular } else { plural })
}

/// ytbx's `RestructureObject`: in every map, the keys of the best-matching known key order
/// first (for Kubernetes objects apiVersion, kind, metadata, spec, status; otherwise `name`
/// and the like), then the others, shallow values before deep ones.
fn restructure(node: &mut Node) {
    const KNOWN_ORDERS: [&[&str]; 13] = [
        &[
            "name",
            "director_uuid",
            "releases",
            "instance_groups",
            "networks",
            "resource_pools",
            "compilation",
        ],
        &["name", "url", "version", "sha1"],
        &["jobs", "resources", "resource_types"],
        &["name", "type", "source"],
        &["get"],
        &["put"],
        &["task"],
        &["releases", "instance_groups", "configuration", "variables"],
        &["auth", "templates"],
        &["apiVersion", "kind", "metadata", "spec", "status"],
        &["name"],
        &["key"],
        &["id"],
    ];
    match node {
        Node::Document(inner) => restructure(inner),
        Node::Sequence(items) => items.iter_mut().for_each(restructure),
        Node::Mapping(pairs) => {
            let mut best: Option<(&[&str], usize)> = None;
            for order in KNOWN_ORDERS {
                let hits = order
                    .iter()
                    .filter(|k| pairs.iter().any(|p| p.key == **k))
                    .count();
                if hits > 0 && best.is_none_or(|(_, h)| hits > h) {
                    best = Some((order, hits));
                }
            }
            if let Some((order, _)) = best {
                let mut first: Vec<Pair> = Vec::new();
                for key in order {
                    if let Some(i) = pairs.iter().position(|p| p.key == *key) {
                        first.push(pairs.remove(i));
                    }
                }
                // Go's sort.Slice; for the few keys of a manifest's maps it is an insertion
                // sort, so equal depths keep their order, as a stable sort keeps them.
                pairs.sort_by_key(|p| max_depth(&p.value, 0).unwrap_or(0));
                first.append(pairs);
                *pairs = first;
            }
            for p in pairs.iter_mut() {
                restructure(&mut p.value);
            }
        }
        Node::Scalar { .. } => {}
    }
}

/// ytbx's `maxDepth`: the length of the longest path to a leaf (a named list's entries
/// count their name and their fields, the identifying field left out).
fn max_depth(node: &Node, depth: usize) -> Option<usize> {
    match node {
        Node::Document(inner) => max_depth(inner, depth),
        Node::Scalar { .. } => Some(depth),
        Node::Mapping(pairs) => pairs
            .iter()
            .filter_map(|p| max_depth(&p.value, depth + 1))
            .max(),
        Node::Sequence(items) => {
            let identifier = ["name", "key", "id"].into_iter().find(|id| {
                items
                    .iter()
                    .map(|i| match i {
                        Node::Mapping(p) => p.iter().filter(|p| p.key == *id).count(),
                        _ => 0,
                    })
                    .sum::<usize>()
                    == items.len()
            });
            match identifier {
                Some(id) => items
                    .iter()
                    .flat_map(|i| match i {
                        Node::Mapping(p) => p.iter().collect::<Vec<_>>(),
                        _ => Vec::new(),
                    })
                    .filter(|p| p.key != id)
                    .filter_map(|p| max_depth(&p.value, depth + 2))
                    .max(),
                None => items.iter().filter_map(|i| max_depth(i, depth + 1)).max(),
            }
        }
    }
}

/// gonvenience/neat's YAML (`neatYAMLofNode`), without indent lines or a document marker:
/// lists not indented under their key, strings quoted (Go `%q`) only where they would read
/// as another type, multi-line strings as `|` blocks, keys bold.
struct Neat<'a> {
    paint: &'a Paint,
    schema: Option<&'a Schema>,
}

impl Neat<'_> {
    fn colorize(&self, pick: fn(&Schema) -> Rgb, text: &str) -> String {
        match self.schema {
            Some(schema) => self
                .paint
                .style(text, Some(pick(schema)), false, false, false),
            None => text.to_string(),
        }
    }

    fn indent(&self) -> String {
        self.colorize(|s| s.indent, "  ")
    }

    fn node(&self, node: &Node, prefix: &str, skip_first_indent: bool, out: &mut String) {
        match node {
            Node::Document(inner) => self.node(inner, prefix, false, out),
            Node::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 || !skip_first_indent {
                        out.push_str(prefix);
                    }
                    out.push_str(&self.colorize(|s| s.key, "-"));
                    out.push(' ');
                    self.node(item, &format!("{prefix}{}", self.indent()), true, out);
                }
            }
            Node::Mapping(pairs) => {
                for (i, pair) in pairs.iter().enumerate() {
                    if i > 0 || !skip_first_indent {
                        out.push_str(prefix);
                    }
                    if let Some(comment) = &pair.comment {
                        out.push_str(comment);
                        out.push('\n');
                    }
                    let key = self.colorize(|s| s.key, &format!("{}:", pair.key));
                    out.push_str(&self.paint.style(&key, None, true, false, false));
                    match &pair.value {
                        Node::Mapping(p) if p.is_empty() => {
                            out.push(' ');
                            out.push_str(&self.colorize(|s| s.empty, "{}"));
                            out.push('\n');
                        }
                        Node::Sequence(l) if l.is_empty() => {
                            out.push(' ');
                            out.push_str(&self.colorize(|s| s.empty, "[]"));
                            out.push('\n');
                        }
                        Node::Mapping(_) => {
                            out.push('\n');
                            self.node(
                                &pair.value,
                                &format!("{prefix}{}", self.indent()),
                                false,
                                out,
                            );
                        }
                        Node::Sequence(_) => {
                            out.push('\n');
                            self.node(&pair.value, prefix, false, out);
                        }
                        value => {
                            out.push(' ');
                            self.node(value, &format!("{prefix}{}", self.indent()), false, out);
                        }
                    }
                }
            }
            Node::Scalar { tag, value } => {
                // dyff's schemas colour every scalar type alike, except null; binary values
                // have no colour in them.
                let pick: fn(&Schema) -> Rgb = match *tag {
                    NULL => |s| s.null,
                    _ => |s| s.scalar,
                };
                let lines: Vec<&str> = value.split('\n').collect();
                if lines.len() == 1 {
                    let text = if needs_quotes(tag, value) {
                        gofmt::quote(value)
                    } else {
                        value.clone()
                    };
                    if *tag == "!!binary" {
                        out.push_str(&text);
                    } else {
                        out.push_str(&self.colorize(pick, &text));
                    }
                } else {
                    out.push_str(&self.colorize(|s| s.multi_line, "|"));
                    out.push('\n');
                    for (i, line) in lines.iter().enumerate() {
                        out.push_str(prefix);
                        out.push_str(&self.colorize(|s| s.multi_line, line));
                        if i != lines.len() - 1 {
                            out.push('\n');
                        }
                    }
                }
                out.push('\n');
            }
        }
    }
}

/// neat's `needsQuotes`.
fn needs_quotes(tag: &str, value: &str) -> bool {
    if tag != STR {
        return false;
    }
    let reserved = ["true", "false", "null", ".nan", ".inf", "-.inf", "+.inf"];
    let number_like = {
        let body = value.strip_prefix(['-', '+']).unwrap_or(value);
        !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+'))
    };
    reserved.contains(&value)
        || value.starts_with('-')
        || number_like
        || value.contains([' ', '*', '&', ':', ','])
}

/// dyff's `yamlString`: `<nil>` for nothing or null, else neat's YAML (bold keys, no
/// colours).
fn yaml_string(node: Option<&Node>, paint: &Paint) -> String {
    match node {
        None => "<nil>".into(),
        Some(n) if n.is_null() => "<nil>".into(),
        Some(n) => {
            let mut out = String::new();
            Neat {
                paint,
                schema: None,
            }
            .node(n, "", false, &mut out);
            out
        }
    }
}

/// neat's YAML in one of dyff's schemas, for added and removed parts.
fn yaml_in_colors(node: &Node, paint: &Paint, schema: &Schema) -> String {
    let mut out = String::new();
    Neat {
        paint,
        schema: Some(schema),
    }
    .node(node, "", false, &mut out);
    out
}

/// dyff's `createStringWithPrefix`: the prefix on the first line, the others indented as far.
fn with_prefix(prefix: &str, text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i == 0 {
            out.push_str(prefix);
        } else {
            out.push_str(&" ".repeat(plain_length(prefix)));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// dyff's `createStringWithContinuousPrefix`: the prefix on every line.
fn with_continuous_prefix(prefix: &str, text: &str) -> String {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n').map(|l| format!("{prefix}{l}\n")).collect()
}

/// The report writer: helm-diff's `HumanReport` settings (no banner, indent 0, minor change
/// threshold 0.1, no context lines in multi-line text, table style allowed).
struct Writer<'a> {
    paint: Paint,
    width: usize,
    streams: &'a Streams,
}

impl Writer<'_> {
    /// dyff's `writeTextBlocks`: blocks side by side when they fit the width, else one
    /// after the other.
    fn text_blocks(&self, out: &mut String, indent: usize, blocks: &[String]) {
        const SEPARATOR: &str = "   ";
        let widest = |b: &String| b.split('\n').map(plain_length).max().unwrap_or(0);
        let total = indent
            + blocks.len().saturating_sub(1) * SEPARATOR.len()
            + blocks.iter().map(widest).sum::<usize>();
        if total > self.width {
            for block in blocks {
                for line in block.split('\n') {
                    out.push_str(&" ".repeat(indent));
                    out.push_str(line);
                    out.push('\n');
                }
            }
        } else {
            out.push_str(&table(SEPARATOR, indent, blocks));
        }
    }

    fn path(&self, path: Option<&Path>, show_root: bool) -> String {
        let Some(path) = path else {
            return self.paint.bold("(file level)");
        };
        let mut text = if path.elements.is_empty() {
            self.paint.bold("(root level)")
        } else {
            path.elements
                .iter()
                .map(|e| match e {
                    Element::Key(k) | Element::Named(k) => self.paint.bold(k),
                    Element::Index(i) => self.paint.bold(&i.to_string()),
                })
                .collect::<Vec<_>>()
                .join(".")
        };
        if show_root {
            let names = match path.side {
                Side::From => &self.streams.from_names,
                Side::To => &self.streams.to_names,
            };
            let root = names
                .get(path.document)
                .cloned()
                .unwrap_or_else(|| format!("document #{}", path.document + 1));
            text.push_str("  ");
            // bunt's `LightSteelBlue{...}` markup: no line splitting, the same for one line.
            text.push_str(&self.paint.color(LIGHT_STEEL_BLUE, &format!("({root})")));
        }
        text
    }

    fn difference(&self, out: &mut String, d: &Difference, show_root: bool) {
        out.push('\n');
        out.push_str(&self.path(d.path.as_ref(), show_root));
        out.push('\n');
        let blocks: Vec<String> = d.details.iter().map(|detail| self.detail(detail)).collect();
        self.text_blocks(out, 0, &blocks);
    }

    fn detail(&self, d: &Detail) -> String {
        let p = &self.paint;
        let mut out = String::new();
        match d.kind {
            DetailKind::Addition | DetailKind::Removal => {
                let (node, verb, mark, color) = if d.kind == DetailKind::Addition {
                    (d.to.as_ref(), "added", '+', &GREENISH)
                } else {
                    (d.from.as_ref(), "removed", '-', &REDDISH)
                };
                let Some(node) = node else { return out };
                let what = match node {
                    Node::Document(_) => plural(1, "document", "documents"),
                    Node::Sequence(items) => plural(items.len(), "list entry", "list entries"),
                    Node::Mapping(pairs) => plural(pairs.len(), "map entry", "map entries"),
                    Node::Scalar { .. } => String::new(),
                };
                out.push_str(&p.color(YELLOW, &format!("{mark} {what} {verb}:")));
                out.push('\n');
                let mut node = node.clone();
                restructure(&mut node);
                let yaml = yaml_in_colors(&node, p, color);
                self.text_blocks(&mut out, 0, &[yaml]);
            }
            DetailKind::Modification => self.modification(&mut out, d.from.as_ref(), d.to.as_ref()),
            DetailKind::OrderChange => {
                out.push_str(&p.color(YELLOW, "⇆ order changed"));
                out.push('\n');
                let names = |n: Option<&Node>| -> Vec<String> {
                    match n {
                        Some(Node::Sequence(items)) => items
                            .iter()
                            .map(|i| match i.value() {
                                "" => yaml_string(Some(i), p),
                                v => v.to_string(),
                            })
                            .collect(),
                        _ => Vec::new(),
                    }
                };
                let (from, to) = (names(d.from.as_ref()), names(d.to.as_ref()));
                let one_line = |l: &[String]| {
                    l.iter().map(|s| plain_length(s)).sum::<usize>() + l.len().saturating_sub(1) * 2
                };
                if one_line(&from).max(one_line(&to)) < self.width / 2 {
                    out.push_str(&p.color(RED, &format!("- {}", from.join(", "))));
                    out.push('\n');
                    out.push_str(&p.color(GREEN, &format!("+ {}", to.join(", "))));
                    out.push('\n');
                } else {
                    out.push_str(&table(
                        " ",
                        2,
                        &[
                            p.color(RED, &from.join("\n")),
                            p.color(GREEN, &to.join("\n")),
                        ],
                    ));
                }
            }
        }
        out
    }

    fn modification(&self, out: &mut String, from: Option<&Node>, to: Option<&Node>) {
        let p = &self.paint;
        let type_of = |n: Option<&Node>| n.map(Node::type_name).unwrap_or("<nil>");
        let (from_type, to_type) = (type_of(from), type_of(to));
        if let (
            Some(Node::Scalar { value: f, .. }),
            Some(Node::Scalar { value: t, .. }),
            "string",
            "string",
        ) = (from, to, from_type, to_type)
        {
            self.string_change(out, f, t);
            return;
        }
        let header = if from_type != to_type {
            format!(
                "± type change from {} to {}",
                p.italic(from_type),
                p.italic(to_type)
            )
        } else {
            "± value change".to_string()
        };
        out.push_str(&p.color(YELLOW, &header));
        out.push('\n');
        let f = yaml_string(from, p);
        let t = yaml_string(to, p);
        out.push_str(&p.color(RED, &with_prefix("- ", f.trim_end_matches('\n'))));
        out.push_str(&p.color(GREEN, &with_prefix("+ ", t.trim_end_matches('\n'))));
    }

    /// dyff's `writeStringDiff`.
    fn string_change(&self, out: &mut String, from: &str, to: &str) {
        let p = &self.paint;
        if let (Some(from_cert), Some(to_cert)) =
            (certificate_summary(from), certificate_summary(to))
        {
            out.push_str(&p.color(YELLOW, "± certificate change"));
            out.push('\n');
            self.lines_side_by_side(out, &from_cert, &to_cert);
        } else if whitespace_only_change(from, to) {
            out.push_str(&p.color(YELLOW, "± whitespace only change"));
            out.push('\n');
            let show = |s: &str| s.replace('\n', &p.bold("↵\n")).replace(' ', &p.bold("·"));
            self.text_blocks(
                out,
                0,
                &[
                    p.color(RED, &with_prefix("- ", &show(from))),
                    p.color(GREEN, &with_prefix("+ ", &show(to))),
                ],
            );
        } else if from.contains('\n') || to.contains('\n') {
            let chunks = line_chunks(from, to);
            let (mut inserts, mut deletions) = (0, 0);
            let mut body = String::new();
            for (delta, text) in &chunks {
                match delta {
                    Delta::Added => {
                        body.push_str(&p.color(GREEN, &with_continuous_prefix("+ ", text)));
                        inserts += 1;
                    }
                    Delta::Removed => {
                        body.push_str(&p.color(RED, &with_continuous_prefix("- ", text)));
                        deletions += 1;
                    }
                    Delta::Common => {}
                }
            }
            out.push_str(&p.color(
                YELLOW,
                &format!(
                    "± value change in multiline text ({}, {})",
                    plural(inserts, "insert", "inserts"),
                    plural(deletions, "deletion", "deletions")
                ),
            ));
            out.push('\n');
            out.push_str(&body);
            out.push('\n');
        } else if p.on && is_minor_change(from, to) {
            // `highlightRemovals` and `highlightAdditions`: the changed characters bold.
            // Without colour this prints as any other value change, so it is only worked out
            // with colour.
            out.push_str(&p.color(YELLOW, "± value change"));
            out.push('\n');
            let parts = char_chunks(from, to);
            for (mark, color, light, shown) in [
                ("- ", RED, LIGHT_SALMON, Delta::Removed),
                ("+ ", GREEN, LIGHT_GREEN, Delta::Added),
            ] {
                out.push_str(&p.color(color, mark));
                for (delta, text) in &parts {
                    if *delta == Delta::Common {
                        out.push_str(&p.color(light, text));
                    } else if *delta == shown {
                        out.push_str(&p.bold(&p.color(color, text)));
                    }
                }
                out.push('\n');
            }
        } else {
            out.push_str(&p.color(YELLOW, "± value change"));
            out.push('\n');
            out.push_str(&p.color(RED, &with_prefix("- ", from)));
            out.push_str(&p.color(GREEN, &with_prefix("+ ", to)));
        }
    }
}

impl Writer<'_> {
    /// dyff's `highlightByLine`: two texts of as many lines in two columns (changed lines in
    /// the strong colour); otherwise one after the other.
    fn lines_side_by_side(&self, out: &mut String, from: &str, to: &str) {
        let p = &self.paint;
        let (from_lines, to_lines): (Vec<&str>, Vec<&str>) =
            (from.split('\n').collect(), to.split('\n').collect());
        if from_lines.len() != to_lines.len() {
            self.text_blocks(
                out,
                0,
                &[
                    p.color(RED, &with_prefix("- ", from)),
                    p.color(GREEN, &with_prefix("+ ", to)),
                ],
            );
            return;
        }
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for (f, t) in from_lines.iter().zip(&to_lines) {
            let (fc, tc) = if f != t {
                (RED, GREEN)
            } else {
                (LIGHT_SALMON, LIGHT_GREEN)
            };
            left.push(p.color(fc, f));
            right.push(p.color(tc, t));
        }
        self.text_blocks(
            out,
            0,
            &[
                with_prefix(&p.color(RED, "- "), &left.join("\n")),
                with_prefix(&p.color(GREEN, "+ "), &right.join("\n")),
            ],
        );
    }
}

/// dyff's `LoadX509Certs` and `certificateSummaryAsYAML`: the first PEM block of a text read
/// as an X.509 certificate (whatever the block's type, as Go's `pem.Decode` and
/// `x509.ParseCertificate` take it), summarised as subject, validity, issuer and serial.
fn certificate_summary(text: &str) -> Option<String> {
    use base64::Engine as _;
    use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let (kind, rest) = rest.split_once("-----")?;
    let end = rest.find(&format!("-----END {kind}-----"))?;
    let body: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let (_, cert) = X509Certificate::from_der(&der).ok()?;
    let values = |name: &X509Name, oid: &x509_parser::der_parser::oid::Oid| -> Vec<String> {
        name.iter_attributes()
            .filter(|a| a.attr_type() == oid)
            .filter_map(|a| a.as_str().ok().map(str::to_string))
            .collect()
    };
    use x509_parser::oid_registry as oids;
    let (subject, issuer) = (cert.subject(), cert.issuer());
    // Go's pkix.Name keeps the last common name and every value of the other attributes.
    let last = |v: Vec<String>| v.last().cloned().unwrap_or_default();
    let joined = |v: Vec<String>| v.join(" ");
    let time = |t: &x509_parser::time::ASN1Time| {
        let t = t.to_datetime();
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{} {} {:02}:{:02}:{:02} {} UTC",
            MONTHS[t.month() as usize - 1],
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.year()
        )
    };
    let serial = &cert.tbs_certificate.serial;
    Some(format!(
        "Subject:\n  Common Name: {}\n  Organization: {}\n  Organization Unit: {}\n  Locality: {}\n  State: {}\n  Country: {}\nValidity Period:\n  NotBefore: {}\n  NotAfter: {}\nIssuer: {}, {}\nSerial Number: {} (0x{})\n",
        last(values(subject, &oids::OID_X509_COMMON_NAME)),
        joined(values(subject, &oids::OID_X509_ORGANIZATION_NAME)),
        joined(values(subject, &oids::OID_X509_ORGANIZATIONAL_UNIT)),
        joined(values(subject, &oids::OID_X509_LOCALITY_NAME)),
        joined(values(subject, &oids::OID_X509_STATE_OR_PROVINCE_NAME)),
        joined(values(subject, &oids::OID_X509_COUNTRY_NAME)),
        time(&cert.validity().not_before),
        time(&cert.validity().not_after),
        last(values(issuer, &oids::OID_X509_COMMON_NAME)),
        joined(values(issuer, &oids::OID_X509_ORGANIZATION_NAME)),
        serial.to_str_radix(10),
        serial.to_str_radix(16),
    ))
}

/// dyff's `isMinorChange`: a Levenshtein distance (a substitution costing two) of at most
/// four, or under a tenth of the shorter text's length in bytes.
fn is_minor_change(from: &str, to: &str) -> bool {
    let parts = char_chunks(from, to);
    let distance: usize = parts
        .iter()
        .filter(|(d, _)| *d != Delta::Common)
        .map(|(_, t)| t.chars().count())
        .sum();
    if distance <= 4 {
        return true;
    }
    let reference = from.len().min(to.len());
    reference > 0 && (distance as f64) / (reference as f64) < 0.1
}

/// A character diff grouped as diff-match-patch groups it (see [`line_chunks`]).
fn char_chunks(from: &str, to: &str) -> Vec<(Delta, String)> {
    let chars = |s: &str| -> Vec<String> { s.chars().map(String::from).collect() };
    let (a, b) = (chars(from), chars(to));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    group(&a, &b)
}

/// A line diff of two texts as diff-match-patch's line mode groups it: between two runs of
/// equal lines, one deletion then one insertion (lines keep their line ends).
fn line_chunks(from: &str, to: &str) -> Vec<(Delta, String)> {
    let a: Vec<&str> = from.split_inclusive('\n').collect();
    let b: Vec<&str> = to.split_inclusive('\n').collect();
    group(&a, &b)
}

/// The diff of two token lists, runs merged: between equal runs, the removed tokens, then
/// the added ones.
fn group(a: &[&str], b: &[&str]) -> Vec<(Delta, String)> {
    let mut chunks: Vec<(Delta, String)> = Vec::new();
    let (mut removed, mut added) = (String::new(), String::new());
    let flush = |chunks: &mut Vec<(Delta, String)>, removed: &mut String, added: &mut String| {
        if !removed.is_empty() {
            chunks.push((Delta::Removed, std::mem::take(removed)));
        }
        if !added.is_empty() {
            chunks.push((Delta::Added, std::mem::take(added)));
        }
    };
    for line in lines::diff_lines(a, b) {
        match line.delta {
            Delta::Removed => removed.push_str(&line.text),
            Delta::Added => added.push_str(&line.text),
            Delta::Common => {
                flush(&mut chunks, &mut removed, &mut added);
                match chunks.last_mut() {
                    Some((Delta::Common, text)) => text.push_str(&line.text),
                    _ => chunks.push((Delta::Common, line.text.clone())),
                }
            }
        }
    }
    flush(&mut chunks, &mut removed, &mut added);
    chunks
}

/// dyff's `CreateTableStyleString`: columns side by side, padded to their widest line,
/// trailing spaces trimmed, no newline after the last row.
fn table(separator: &str, indent: usize, columns: &[String]) -> String {
    let split: Vec<Vec<&str>> = columns.iter().map(|c| c.split('\n').collect()).collect();
    let rows = split.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = split
        .iter()
        .map(|lines| lines.iter().map(|l| plain_length(l)).max().unwrap_or(0))
        .collect();
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let cells: Vec<String> = split
            .iter()
            .zip(&widths)
            .map(|(lines, w)| match lines.get(r) {
                Some(line) => format!(
                    "{}{line}{}",
                    " ".repeat(indent),
                    " ".repeat(w - plain_length(line))
                ),
                None => " ".repeat(w + indent),
            })
            .collect();
        out.push(cells.join(separator).trim_end_matches(' ').to_string());
    }
    out.join("\n")
}

/// The old and new streams helm-diff hands to dyff: one document per entry, from the
/// entry's line diff.
fn streams(entries: &[Entry]) -> (Vec<String>, Vec<String>) {
    let mut old = Vec::with_capacity(entries.len());
    let mut new = Vec::with_capacity(entries.len());
    for e in entries {
        let (mut o, mut n) = (String::new(), String::new());
        for line in &e.lines {
            if line.delta != Delta::Added {
                o.push_str(&line.text);
                o.push('\n');
            }
            if line.delta != Delta::Removed {
                n.push_str(&line.text);
                n.push('\n');
            }
        }
        old.push(o);
        new.push(n);
    }
    (old, new)
}

/// The dyff report of a diff's entries.
pub fn render(entries: &[Entry], opts: &DiffOptions) -> Result<String, String> {
    let (old, new) = streams(entries);
    let read = |docs: &[String], side: &str| -> Result<Vec<Node>, String> {
        docs.iter()
            .map(|d| {
                read_document(d).map_err(|e| format!("dyff: reading the {side} manifests: {e}"))
            })
            .collect()
    };
    let (from, to) = (read(&old, "old")?, read(&new, "new")?);
    let (streams, diffs) = compare_streams(from, to).map_err(|e| format!("dyff: {e}"))?;
    let writer = Writer {
        paint: Paint { on: opts.color },
        width: opts.terminal_width,
        streams: &streams,
    };
    let show_root = streams.from.len() > 1;
    let mut out = String::new();
    for d in &diffs {
        writer.difference(&mut out, d, show_root);
    }
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Change;

    fn entry(old: &str, new: &str) -> Entry {
        Entry {
            key: String::new(),
            kind: String::new(),
            change: Change::Modify,
            lines: lines::diff_texts(old, new, false),
            managers: Vec::new(),
            structured: None,
        }
    }

    fn render_plain(entries: &[Entry]) -> String {
        render(entries, &DiffOptions::default()).unwrap()
    }

    const DEPLOY: &str = "# Source: c/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1\n";

    /// dyff output_human.go `generateHumanDetailOutputModification` (default case) and
    /// `writeStringDiff`: a path line, then `± value change` and the two values; one
    /// document, so no document name after the path.
    #[test]
    fn a_changed_value_prints_its_path_and_both_values() {
        let new = DEPLOY
            .replace("replicas: 1", "replicas: 3")
            .replace("app:1", "app:2");
        assert_eq!(
            render_plain(&[entry(DEPLOY, &new)]),
            "\nspec.replicas\n± value change\n- 1\n+ 3\n\nspec.template.spec.containers.app.image\n± value change\n- app:1\n+ app:2\n\n"
        );
    }

    /// Several documents: each path names its document (`apiVersion/kind/name`), added and
    /// removed documents print as YAML, keys in ytbx's order, the `# Source:` comment first.
    #[test]
    fn added_and_removed_documents_print_as_yaml() {
        let cm = "# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n";
        let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports:\n  - port: 80\n";
        let new = DEPLOY.replace("replicas: 1", "replicas: 2");
        let entries = [entry(DEPLOY, &new), entry(svc, ""), entry("", cm)];
        assert_eq!(
            render_plain(&entries),
            "\nspec.replicas  (apps/v1/Deployment/web)\n± value change\n- 1\n+ 2\n\
             \n(root level)  (v1/Service/svc)\n- one document removed:\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports:\n  - port: 80\n\
             \n(root level)  (v1/ConfigMap/cm)\n+ one document added:\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n\
             \n(file level)\n⇆ order changed\n- apps/v1/Deployment/web, v1/Service/svc\n+ apps/v1/Deployment/web, v1/ConfigMap/cm\n\n"
        );
    }

    /// core.go `mappingNodes` and `namedEntryLists`: removed and added keys of one map in one
    /// difference, side by side when they fit in 80 columns; list entries by `name`.
    #[test]
    fn map_entries_and_named_list_entries() {
        let old = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    a: x\ndata:\n  env:\n    k: v\n";
        let new = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    b: y\ndata:\n  env:\n    k: v\n";
        assert_eq!(
            render_plain(&[entry(old, new)]),
            "\nmetadata.labels\n- one map entry removed:   + one map entry added:\na: x                       b: y\n\n"
        );
        let old = "kind: X\napiVersion: v1\nmetadata:\n  name: x\nitems:\n- name: a\n  v: 1\n- name: b\n  v: 2\n";
        let new = "kind: X\napiVersion: v1\nmetadata:\n  name: x\nitems:\n- name: b\n  v: 3\n- name: a\n  v: 1\n";
        assert_eq!(
            render_plain(&[entry(old, new)]),
            "\nitems\n⇆ order changed\n- a, b\n+ b, a\n\nitems.b.v\n± value change\n- 2\n+ 3\n\n"
        );
    }

    /// `writeStringDiff`'s multi-line case: counted inserts and deletions, the changed lines.
    #[test]
    fn multiline_text_changes_show_the_changed_lines() {
        let old = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  conf: |\n    a=1\n    b=2\n    c=3\n";
        let new = old.replace("b=2", "b=20");
        assert_eq!(
            render_plain(&[entry(old, &new)]),
            "\ndata.conf\n± value change in multiline text (one insert, one deletion)\n- b=2\n+ b=20\n\n\n"
        );
    }

    /// go-yaml v3 types `"3"` as a string and `3` as an int: a type change.
    #[test]
    fn scalar_types_follow_go_yaml_v3() {
        let old = "apiVersion: v1\nkind: X\nmetadata:\n  name: x\nv: 3\nw: yes\n";
        let new = "apiVersion: v1\nkind: X\nmetadata:\n  name: x\nv: \"3\"\nw: 'yes'\n";
        assert_eq!(
            render_plain(&[entry(old, new)]),
            "\nv\n± type change from int to string\n- 3\n+ \"3\"\n\n"
        );
        assert_eq!(resolve("0x1F", true, None), INT);
        assert_eq!(resolve("1_000", true, None), INT);
        assert_eq!(resolve("1.5e3", true, None), FLOAT);
        assert_eq!(resolve("2001-12-14", true, None), TIMESTAMP);
        assert_eq!(
            resolve("2001-12-14t21:59:43.10-05:00", true, None),
            TIMESTAMP
        );
        assert_eq!(resolve("2001-12-14 21:59:43.10", true, None), TIMESTAMP);
        // time.Parse cannot read these (go-yaml v3's resolve.go says as much of the first).
        assert_eq!(resolve("2001-12-14 21:59:43.10 -5", true, None), STR);
        assert_eq!(resolve("2001-02-30", true, None), STR);
        assert_eq!(resolve(".5", true, None), FLOAT);
        assert_eq!(resolve(".x", true, None), STR);
        assert_eq!(resolve("08", true, None), FLOAT);
        assert_eq!(resolve("on", true, None), STR);
        assert_eq!(resolve("1.2.3", true, None), STR);
    }

    /// Nothing changed (an empty report) prints one empty line, as dyff ends every report.
    #[test]
    fn no_entries_print_one_newline() {
        assert_eq!(render_plain(&[]), "\n");
    }

    /// `writeTextBlocks`: blocks wider than the terminal go one after the other, each block's
    /// lines followed by a newline.
    #[test]
    fn blocks_too_wide_for_the_terminal_are_stacked() {
        let blocks = ["- x:\n  a\n".to_string(), "+ y:\n  b\n".to_string()];
        let streams = Streams {
            from: Vec::new(),
            to: Vec::new(),
            from_names: Vec::new(),
            to_names: Vec::new(),
        };
        let w = Writer {
            paint: Paint { on: false },
            width: 10,
            streams: &streams,
        };
        let mut out = String::new();
        w.text_blocks(&mut out, 0, &blocks);
        assert_eq!(out, "- x:\n  a\n\n+ y:\n  b\n\n");
        let w = Writer { width: 80, ..w };
        let mut out = String::new();
        w.text_blocks(&mut out, 0, &blocks);
        assert_eq!(out, "- x:   + y:\n  a      b\n");
    }

    #[test]
    fn neat_quotes_strings_that_read_as_other_types() {
        let mut out = String::new();
        let node = Node::Mapping(vec![
            Pair {
                key: "a".into(),
                comment: None,
                value: Node::text("true"),
            },
            Pair {
                key: "b".into(),
                comment: None,
                value: Node::text("a: b"),
            },
            Pair {
                key: "c".into(),
                comment: None,
                value: Node::text("plain"),
            },
            Pair {
                key: "d".into(),
                comment: None,
                value: Node::text("x\ny"),
            },
        ]);
        Neat {
            paint: &Paint { on: false },
            schema: Some(&GREENISH),
        }
        .node(&node, "", false, &mut out);
        assert_eq!(out, "a: \"true\"\nb: \"a: b\"\nc: plain\nd: |\n  x\n  y\n");
    }

    /// output_human.go `writeStringDiff` and `certificateSummaryAsYAML`: two PEM certificates
    /// print as their summaries, in two columns when they fit. The certificates were made for
    /// this test with `openssl req -x509 -subj "/CN=one.example/O=Rudder Test/C=DE"
    /// -set_serial 4660 -days 30` (and `two.example`).
    #[test]
    fn certificates_print_as_their_summaries() {
        const ONE: &str = "-----BEGIN CERTIFICATE-----\nMIIBtjCCAVugAwIBAgICEjQwCgYIKoZIzj0EAwIwOTEUMBIGA1UEAwwLb25lLmV4\nYW1wbGUxFDASBgNVBAoMC1J1ZGRlciBUZXN0MQswCQYDVQQGEwJERTAeFw0yNjEy\nMDUyMjU3MjhaFw0yNzAxMDQyMjU3MjhaMDkxFDASBgNVBAMMC29uZS5leGFtcGxl\nMRQwEgYDVQQKDAtSdWRkZXIgVGVzdDELMAkGA1UEBhMCREUwWTATBgcqhkjOPQIB\nBggqhkjOPQMBBwNCAAQoXrWDn71+mCV0BlkH4uB0bygTWblGhS7mANWT0C9nB4hV\nhIs3DfsAFmPnIwL7VCpAjcaWRK4ivJA2cNnuKWOso1MwUTAdBgNVHQ4EFgQUdLyV\nUSSazPtWrV7od+Ooq8UyQp4wHwYDVR0jBBgwFoAUdLyVUSSazPtWrV7od+Ooq8Uy\nQp4wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAxhgDv6zsC1BJ\nBMRIUojKoPtvn1kAJ0du/FjKwQOphfMCIQCkNlfbDMwr5Y3G1NyIg98LBl3EcMEL\nJlBiYoM+DCV3CQ==\n-----END CERTIFICATE-----\n";
        const TWO: &str = "-----BEGIN CERTIFICATE-----\nMIIBtjCCAVugAwIBAgICEjQwCgYIKoZIzj0EAwIwOTEUMBIGA1UEAwwLdHdvLmV4\nYW1wbGUxFDASBgNVBAoMC1J1ZGRlciBUZXN0MQswCQYDVQQGEwJERTAeFw0yNjEy\nMDUyMjU3MjlaFw0yNzAxMDQyMjU3MjlaMDkxFDASBgNVBAMMC3R3by5leGFtcGxl\nMRQwEgYDVQQKDAtSdWRkZXIgVGVzdDELMAkGA1UEBhMCREUwWTATBgcqhkjOPQIB\nBggqhkjOPQMBBwNCAAR6AmmNKT3+QWTH46ZYHYhLdf1J9r7lOaRae6JR5+/JNvRx\n4IWji/8rbpW318CAHiW/1u1i2jGVnLej2yvyWk/Xo1MwUTAdBgNVHQ4EFgQUQbGW\nHrB6WbsrSWhpeLOGdiR9MVEwHwYDVR0jBBgwFoAUQbGWHrB6WbsrSWhpeLOGdiR9\nMVEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAziCiBFBTC7x3\nhZjM58/6rP9I8YPPfioSKySOcWqGgCgCIQDcaG0WsFgvrIDAr/HUN8+L5VYWz0gb\n7WQEZfR03eZUhw==\n-----END CERTIFICATE-----\n";
        let doc = |pem: &str| {
            let block: String = pem.lines().map(|l| format!("    {l}\n")).collect();
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\ndata:\n  ca.crt: |\n{block}")
        };
        let out = render_plain(&[entry(&doc(ONE), &doc(TWO))]);
        let summary = |cn: &str| certificate_summary(if cn == "one" { ONE } else { TWO }).unwrap();
        assert!(summary("one").starts_with("Subject:\n  Common Name: one.example\n  Organization: Rudder Test\n  Organization Unit: \n  Locality: \n  State: \n  Country: DE\nValidity Period:\n  NotBefore: "), "{}", summary("one"));
        assert!(
            summary("two")
                .ends_with("\nIssuer: two.example, Rudder Test\nSerial Number: 4660 (0x1234)\n"),
            "{}",
            summary("two")
        );
        // Lines after the first are indented as far as the `- ` prefix; the two columns fit
        // in 80, padded to the wider left line, three spaces apart.
        let expected = [
            "",
            "data.ca.crt",
            "± certificate change",
            "- Subject:                               + Subject:",
            "    Common Name: one.example                 Common Name: two.example",
            "    Organization: Rudder Test                Organization: Rudder Test",
            "    Organization Unit:                       Organization Unit:",
            "    Locality:                                Locality:",
            "    State:                                   State:",
            "    Country: DE                              Country: DE",
            "  Validity Period:                         Validity Period:",
            "    NotBefore: Dec 5 22:57:28 2026 UTC       NotBefore: Dec 5 22:57:29 2026 UTC",
            "    NotAfter: Jan 4 22:57:28 2027 UTC        NotAfter: Jan 4 22:57:29 2027 UTC",
            "  Issuer: one.example, Rudder Test         Issuer: two.example, Rudder Test",
            "  Serial Number: 4660 (0x1234)             Serial Number: 4660 (0x1234)",
            // The summaries end with a newline, which createStringWithPrefix turns into an
            // indented empty line: one empty row, then the end of the block and the report.
            "",
            "",
            "",
        ];
        assert_eq!(out, expected.join("\n"));
        assert_eq!(certificate_summary("not a certificate"), None);
    }

    /// helm-diff v3.15.11 diff/report_test.go `TestPrintDyffReportWithAddAndRemove` (lines
    /// 70-105): a removed and an added Deployment. The removal and the addition print as
    /// documents; since each stream then has one named document and the names differ, dyff
    /// also reports the file-level order change (core.go `documentNodes`, lines 409-423).
    #[test]
    fn helm_diff_add_and_remove_test() {
        let old = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: old-app";
        let new = old.replace("old-app", "new-app");
        let removed = Entry {
            change: Change::Remove,
            ..entry(old, "")
        };
        let added = Entry {
            change: Change::Add,
            ..entry("", &new)
        };
        assert_eq!(
            render_plain(&[removed, added]),
            "\n(root level)\n- one document removed:\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: old-app\n\
             \n(root level)\n+ one document added:\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: new-app\n\
             \n(file level)\n⇆ order changed\n- apps/v1/Deployment/old-app\n+ apps/v1/Deployment/new-app\n\n"
        );
    }

    /// With colour (forced), bunt writes an escape sequence wherever a character's attributes
    /// change, a reset (`0`) first when bold or italic ends, and a reset at the end (bunt
    /// render.go `String`); dyff's colours (colors.go), neat's greenish schema for added YAML
    /// (keys bold and green, values lime), italic type names in a type change.
    #[test]
    fn colours_follow_bunt_and_dyff_palette() {
        let old = "apiVersion: v1\nkind: X\nmetadata:\n  name: x\n  labels:\n    a: x\nv: 3\n";
        let new = "apiVersion: v1\nkind: X\nmetadata:\n  name: x\n  labels:\n    a: x\n    b: y\nv: \"3\"\n";
        let opts = DiffOptions {
            color: true,
            ..DiffOptions::default()
        };
        let out = render(&[entry(old, new)], &opts).unwrap();
        let yellow = "\x1b[38;2;199;196;63m";
        let expected = format!(
            "\n\x1b[1mmetadata\x1b[0m.\x1b[1mlabels\x1b[0m\n\
             {yellow}+ one map entry added:\x1b[0m\n\
             \x1b[1;38;2;0;128;0mb:\x1b[0m \x1b[38;2;50;205;50my\x1b[0m\n\
             \n\x1b[1mv\x1b[0m\n\
             {yellow}± type change from \x1b[3;38;2;199;196;63mint\x1b[0;38;2;199;196;63m to \x1b[3;38;2;199;196;63mstring\x1b[0m\n\
             \x1b[38;2;185;49;27m- 3\x1b[0m\n\
             \x1b[38;2;88;191;56m+ \"3\"\x1b[0m\n\n"
        );
        assert_eq!(out, expected);
    }

    /// A minor change (a Levenshtein distance of at most four) highlights the changed
    /// characters in bold (output_human.go `highlightRemovals`, `highlightAdditions`).
    #[test]
    fn minor_changes_highlight_the_changed_characters() {
        assert!(is_minor_change("nginx:1.27", "nginx:1.28"));
        assert!(!is_minor_change("abcdefgh", "stuvwxyz"));
        let paint = Paint { on: true };
        let streams = Streams {
            from: Vec::new(),
            to: Vec::new(),
            from_names: Vec::new(),
            to_names: Vec::new(),
        };
        let w = Writer {
            paint,
            width: 80,
            streams: &streams,
        };
        let mut out = String::new();
        w.string_change(&mut out, "app:1", "app:2");
        assert_eq!(
            out,
            "\x1b[38;2;199;196;63m± value change\x1b[0m\n\
             \x1b[38;2;185;49;27m- \x1b[0m\x1b[38;2;255;160;122mapp:\x1b[0m\x1b[1;38;2;185;49;27m1\x1b[0m\n\
             \x1b[38;2;88;191;56m+ \x1b[0m\x1b[38;2;144;238;144mapp:\x1b[0m\x1b[1;38;2;88;191;56m2\x1b[0m\n"
        );
    }
}
