//! dyff's comparison (pkg/dyff/core.go): documents by Kubernetes name, maps by key, lists by
//! an identifying field or by content, with order changes.

use std::collections::{BTreeMap, HashMap};

use super::nodes::*;

/// Why dyff could not compare two streams (dyff's wording).
#[derive(Debug, thiserror::Error)]
pub enum DyffError {
    /// A side's manifests do not read as YAML (`old` or `new`, and the reader's message).
    #[error("reading the {side} manifests: {message}")]
    Read { side: &'static str, message: String },
    #[error("provided node is not a mapping node")]
    NotAMapping,
    /// A Kubernetes object without this key.
    #[error("no key {0:?} found")]
    NoKey(String),
    /// A list entry without the identifying field.
    #[error("no key {0:?} found in map")]
    NoMapKey(String),
    #[error("failed to identify name: {0}")]
    Unidentified(#[source] Box<DyffError>),
    #[error("not a valid boolean value: '{0}'")]
    NotABool(String),
    #[error("comparing YAMLs with a different number of documents is currently not supported")]
    DocumentCounts,
}

/// Which stream a path's document belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Side {
    From,
    To,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Element {
    Key(String),
    /// A list entry found by an identifying field (`name: web`), shown by its name.
    Named(String),
    Index(usize),
}

/// ytbx's `Path`: the document (in the old or the new stream) and the way into it.
#[derive(Clone, Debug)]
pub(super) struct Path {
    pub(super) side: Side,
    pub(super) document: usize,
    pub(super) elements: Vec<Element>,
}

impl Path {
    pub(super) fn with(&self, e: Element) -> Path {
        let mut p = self.clone();
        p.elements.push(e);
        p
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum DetailKind {
    Addition,
    Removal,
    Modification,
    OrderChange,
}

#[derive(Clone, Debug)]
pub(super) struct Detail {
    pub(super) kind: DetailKind,
    pub(super) from: Option<Node>,
    pub(super) to: Option<Node>,
}

#[derive(Clone, Debug)]
pub(super) struct Difference {
    /// `None` for a difference of the files as a whole (the order of their documents).
    pub(super) path: Option<Path>,
    pub(super) details: Vec<Detail>,
}

pub(super) fn modification(path: &Path, from: &Node, to: &Node) -> Vec<Difference> {
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
pub(super) enum Identifier {
    Field(String),
    Kubernetes,
}

impl Identifier {
    pub(super) fn name(&self, node: &Node) -> Result<String, DyffError> {
        match self {
            Identifier::Field(field) => match node {
                Node::Mapping(pairs) => pairs
                    .iter()
                    .find(|p| p.key == *field)
                    .map(|p| p.value.value().to_string())
                    .ok_or_else(|| DyffError::NoMapKey(field.to_string())),
                _ => Err(DyffError::NoMapKey(field.to_string())),
            },
            Identifier::Kubernetes => kubernetes_name(node),
        }
    }

    pub(super) fn find<'n>(&self, list: &'n [Node], name: &str) -> Option<&'n Node> {
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
pub(super) fn kubernetes_name(node: &Node) -> Result<String, DyffError> {
    if !matches!(node, Node::Mapping(_)) {
        return Err(DyffError::NotAMapping);
    }
    let field = |n: &Node, k: &str| -> Result<String, DyffError> {
        n.get(k)
            .map(|v| v.value().to_string())
            .ok_or_else(|| DyffError::NoKey(k.to_string()))
    };
    let mut parts = vec![field(node, "apiVersion")?, field(node, "kind")?];
    let metadata = node
        .get("metadata")
        .ok_or_else(|| DyffError::NoKey("metadata".into()))?;
    if let Ok(namespace) = field(metadata, "namespace") {
        parts.push(namespace);
    }
    parts.push(field(metadata, "name")?);
    Ok(parts.join("/"))
}

/// dyff's comparison settings as helm-diff sets them.
pub(super) struct Compare {
    pub(super) non_standard_identifier_threshold: usize,
}

impl Compare {
    pub(super) fn objects(
        &self,
        path: &Path,
        from: &Node,
        to: &Node,
    ) -> Result<Vec<Difference>, DyffError> {
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

    pub(super) fn mappings(
        &self,
        path: &Path,
        from: &[Pair],
        to: &[Pair],
    ) -> Result<Vec<Difference>, DyffError> {
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

    pub(super) fn sequences(
        &self,
        path: &Path,
        from: &[Node],
        to: &[Node],
    ) -> Result<Vec<Difference>, DyffError> {
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
    pub(super) fn named_list_identifier(&self, a: &[Node], b: &[Node]) -> Option<Identifier> {
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
    pub(super) fn non_standard_identifier(&self, a: &[Node], b: &[Node]) -> Option<Identifier> {
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

    pub(super) fn named_entry_lists(
        &self,
        path: &Path,
        id: &Identifier,
        from: &[Node],
        to: &[Node],
    ) -> Result<Vec<Difference>, DyffError> {
        let (mut result, mut removals, mut additions) = (Vec::new(), Vec::new(), Vec::new());
        let (mut from_names, mut to_names) = (Vec::new(), Vec::new());
        for entry in from {
            let name = id
                .name(entry)
                .map_err(|e| DyffError::Unidentified(Box::new(e)))?;
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
                .map_err(|e| DyffError::Unidentified(Box::new(e)))?;
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

    pub(super) fn simple_lists(
        &self,
        path: &Path,
        from: &[Node],
        to: &[Node],
    ) -> Result<Vec<Difference>, DyffError> {
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

pub(super) fn order_change(from: &[String], to: &[String]) -> Detail {
    let seq = |names: &[String]| Node::Sequence(names.iter().map(|n| Node::text(n)).collect());
    Detail {
        kind: DetailKind::OrderChange,
        from: Some(seq(from)),
        to: Some(seq(to)),
    }
}

/// dyff's `packChangesAndAddToResult`: this path's order change, removals and additions
/// come before the differences found inside the entries.
pub(super) fn pack(
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

pub(super) fn whitespace_only_change(from: &str, to: &str) -> bool {
    from.trim_matches([' ', '\n']) == to.trim_matches([' ', '\n'])
}

pub(super) fn to_bool(s: &str) -> Result<bool, DyffError> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Ok(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Ok(false)
        }
        _ => Err(DyffError::NotABool(s.to_string())),
    }
}

/// The two streams after dyff's Kubernetes detection: the documents compared, and the
/// names that describe them in paths.
pub(super) struct Streams {
    pub(super) from: Vec<Node>,
    pub(super) to: Vec<Node>,
    pub(super) from_names: Vec<String>,
    pub(super) to_names: Vec<String>,
}

/// dyff's `CompareInputFiles` with helm-diff's options.
pub(super) fn compare_streams(
    from: Vec<Node>,
    to: Vec<Node>,
) -> Result<(Streams, Vec<Difference>), DyffError> {
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
        return Err(DyffError::DocumentCounts);
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
pub(super) fn documents(cmp: &Compare, s: &Streams) -> Result<Vec<Difference>, DyffError> {
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
