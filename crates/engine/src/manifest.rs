//! Splitting rendered templates into manifests and hooks, in Helm's order (Helm v4.2.3's
//! `releaseutil.SortManifests` and kind sorter).
//!
//! Files are taken in path order (partials and whitespace-only files skipped), each split on
//! `(?:^|\s*\n)---\s*` (so any line *starting* with `---` separates documents), documents
//! left-trimmed. A document whose `metadata.annotations` has `helm.sh/hook` with known
//! events becomes a hook; with an unknown event it is dropped; otherwise it is a manifest.
//! Both lists are then stably sorted by kind: [`INSTALL_ORDER`] kinds first, unknown kinds
//! after them alphabetically.

use rudder_chart::log::{LogRecord, Logs};
use rudder_value::Value;

/// Helm's `InstallOrder`; uninstall uses the reverse.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
pub const HOOK_DELETE_ANNOTATION: &str = "helm.sh/hook-delete-policy";
pub const HOOK_OUTPUT_LOG_ANNOTATION: &str = "helm.sh/hook-output-log-policy";

/// The fields of a document Helm looks at (`releaseutil.SimpleHead`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Head {
    pub api_version: String,
    pub kind: String,
    /// `None` when the document has no `metadata`.
    pub name: Option<String>,
    pub annotations: Vec<(String, String)>,
}

impl Head {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A rendered resource (not a hook).
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The template path it came from (`chart/templates/x.yaml`).
    pub path: String,
    pub content: String,
    pub head: Head,
}

/// A hook resource (Helm's `release.Hook`, before it runs).
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub name: String,
    pub kind: String,
    pub path: String,
    pub manifest: String,
    pub events: Vec<String>,
    pub weight: i64,
    pub delete_policies: Vec<String>,
    pub output_log_policies: Vec<String>,
}

const HOOK_EVENTS: &[(&str, &str)] = &[
    ("pre-install", "pre-install"),
    ("post-install", "post-install"),
    ("pre-delete", "pre-delete"),
    ("post-delete", "post-delete"),
    ("pre-upgrade", "pre-upgrade"),
    ("post-upgrade", "post-upgrade"),
    ("pre-rollback", "pre-rollback"),
    ("post-rollback", "post-rollback"),
    ("test", "test"),
    ("test-success", "test"),
];

/// Go's `\s` (ASCII only), the whitespace of Helm's separator pattern.
fn is_go_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// The byte ranges where Helm's separator pattern `(?:^|\s*\n)---\s*` matches, found as Go's
/// `FindAllStringIndex` finds them (leftmost first, greedy, no overlap).
///
/// Written out by hand because compiling the pattern cost more than splitting a whole chart's
/// output; `matches_the_separator_regex` checks the two agree.
fn separator_matches(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut pos = 0;
    loop {
        let (start, dashes) = if pos == 0 && bytes.starts_with(b"---") {
            (0, 0)
        } else {
            // The earliest "\n---" gives the leftmost match; it starts where the run of
            // whitespace before that line break starts. The run cannot reach back past `pos`:
            // the previous match took all the whitespace after it.
            let Some(offset) = text[pos..].find("\n---") else {
                break;
            };
            let newline = pos + offset;
            let mut start = newline;
            while start > pos && is_go_space(bytes[start - 1]) {
                start -= 1;
            }
            (start, newline + 1)
        };
        let mut end = dashes + 3;
        while end < bytes.len() && is_go_space(bytes[end]) {
            end += 1;
        }
        found.push((start, end));
        pos = end;
    }
    found
}

/// Go's `unicode.IsSpace`, which is Rust's `char::is_whitespace`.
fn trim_left_space(s: &str) -> &str {
    s.trim_start_matches(char::is_whitespace)
}

/// Helm's `SplitManifests`: the non-blank documents of a file, left-trimmed, in order.
pub fn split_manifests(text: &str) -> Vec<&str> {
    let text = trim_left_space(text);
    let mut pieces = Vec::new();
    let mut begin = 0;
    for (start, end) in separator_matches(text) {
        pieces.push(&text[begin..start]);
        begin = end;
    }
    pieces.push(&text[begin..]);
    pieces
        .into_iter()
        .filter(|d| !d.trim().is_empty())
        .map(trim_left_space)
        .collect()
}

fn kind_rank(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

/// Helm's `lessByKind`: known kinds by install order, then unknown kinds alphabetically.
fn kind_less(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (kind_rank(a), kind_rank(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

fn go_type_of_json(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Int64(_) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(_) | Value::Strings(_) | Value::Ints(_) => "array",
        _ => "object",
    }
}

fn unmarshal_error(field: &'static str, got: &Value, want: &'static str) -> HeadError {
    HeadError::FieldType {
        field,
        json_type: go_type_of_json(got),
        want,
    }
}

/// Why a document's head does not read, worded as Helm's `yaml.Unmarshal` into
/// `SimpleHead` words it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HeadError {
    #[error(transparent)]
    Yaml(rudder_value::yaml::DecodeError),
    /// The document is not a mapping (the JSON type it is).
    #[error("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {0} into Go value of type util.SimpleHead")]
    NotAnObject(&'static str),
    /// A field of the wrong type: its Go path, the JSON type found, the Go type wanted.
    #[error("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {json_type} into Go struct field {field} of type {want}")]
    FieldType {
        field: &'static str,
        json_type: &'static str,
        want: &'static str,
    },
}

/// Why [`sort_manifests`] failed: a document of `path` whose head does not read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("YAML parse error on {path}: {source}")]
pub struct SortError {
    pub path: String,
    #[source]
    pub source: HeadError,
}

/// Reads a document's head the way `yaml.Unmarshal(doc, &SimpleHead{})` does, with its
/// errors for fields of the wrong type.
pub fn parse_head(doc: &str) -> Result<Head, HeadError> {
    let value = rudder_value::yaml::from_yaml_top_keys(doc, &["apiVersion", "kind", "metadata"])
        .map_err(HeadError::Yaml)?;
    let mut head = Head::default();
    let map = match &value {
        Value::Nil => return Ok(head),
        Value::Map(m) => m.snapshot(),
        other => return Err(HeadError::NotAnObject(go_type_of_json(other))),
    };
    let string_field = |key: &str, path: &'static str| -> Result<String, HeadError> {
        match map.get(key) {
            None | Some(Value::Nil) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(other) => Err(unmarshal_error(path, other, "string")),
        }
    };
    head.api_version = string_field("apiVersion", "SimpleHead.apiVersion")?;
    head.kind = string_field("kind", "SimpleHead.kind")?;
    match map.get("metadata") {
        None | Some(Value::Nil) => {}
        Some(Value::Map(meta)) => {
            let meta = meta.snapshot();
            head.name = Some(match meta.get("name") {
                None | Some(Value::Nil) => String::new(),
                Some(Value::String(s)) => s.to_string(),
                Some(other) => return Err(unmarshal_error("SimpleHead.metadata.name", other, "string")),
            });
            match meta.get("annotations") {
                None | Some(Value::Nil) => {}
                Some(Value::Map(ann)) => {
                    for (k, v) in ann.snapshot() {
                        let v = match v {
                            Value::Nil => String::new(),
                            Value::String(s) => s.to_string(),
                            other => {
                                return Err(unmarshal_error(
                                    "SimpleHead.metadata.annotations",
                                    &other,
                                    "string",
                                ))
                            }
                        };
                        head.annotations.push((k, v));
                    }
                }
                Some(other) => {
                    return Err(unmarshal_error(
                        "SimpleHead.metadata.annotations",
                        other,
                        "map[string]string",
                    ))
                }
            }
        }
        Some(other) => {
            return Err(unmarshal_error("SimpleHead.metadata", other, "struct { Name string \"json:\\\"name\\\"\"; Annotations map[string]string \"json:\\\"annotations\\\"\" }"))
        }
    }
    Ok(head)
}

/// Helm's `SortManifests` over rendered files (`path -> text`, any order): hooks and
/// manifests, each in install order. Errors name the file whose YAML does not parse; a hook
/// with an unknown event is dropped with the INFO record Helm logs (`skipping unknown hooks`).
pub fn sort_manifests<'a>(
    files: impl IntoIterator<Item = (&'a String, &'a String)>,
    logs: &mut Logs,
) -> Result<(Vec<Hook>, Vec<Manifest>), SortError> {
    let mut files: Vec<(&String, &String)> = files.into_iter().collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let docs: Vec<(&String, &str)> = files
        .into_iter()
        .filter(|(path, text)| {
            let base = path.rsplit('/').next().unwrap_or(path);
            !base.starts_with('_') && !text.trim().is_empty()
        })
        .flat_map(|(path, text)| {
            split_manifests(text)
                .into_iter()
                .map(move |doc| (path, doc))
        })
        .collect();
    let heads = parse_heads(&docs);
    let mut hooks = Vec::new();
    let mut manifests = Vec::new();
    for ((path, doc), head) in docs.into_iter().zip(heads) {
        let head = head.map_err(|source| SortError {
            path: path.clone(),
            source,
        })?;
        let Some(events) = head.annotation(HOOK_ANNOTATION).map(str::to_string) else {
            manifests.push(Manifest {
                path: path.clone(),
                content: doc.to_string(),
                head,
            });
            continue;
        };
        let mut hook = Hook {
            name: head.name.clone().unwrap_or_default(),
            kind: head.kind.clone(),
            path: path.clone(),
            manifest: doc.to_string(),
            events: Vec::new(),
            weight: head
                .annotation(HOOK_WEIGHT_ANNOTATION)
                .and_then(go_atoi)
                .unwrap_or(0),
            delete_policies: Vec::new(),
            output_log_policies: Vec::new(),
        };
        let mut unknown = false;
        for event in events.split(',') {
            let event = event.trim().to_lowercase();
            match HOOK_EVENTS.iter().find(|(name, _)| *name == event) {
                Some((_, canonical)) => hook.events.push(canonical.to_string()),
                None => {
                    unknown = true;
                    break;
                }
            }
        }
        if unknown {
            logs.push(LogRecord::info("skipping unknown hooks").with("hookTypes", events));
            continue;
        }
        let list = |key: &str| -> Vec<String> {
            head.annotation(key)
                .map(|v| v.split(',').map(|p| p.trim().to_lowercase()).collect())
                .unwrap_or_default()
        };
        hook.delete_policies = list(HOOK_DELETE_ANNOTATION);
        hook.output_log_policies = list(HOOK_OUTPUT_LOG_ANNOTATION);
        hooks.push(hook);
    }
    hooks.sort_by(|a, b| kind_less(&a.kind, &b.kind));
    manifests.sort_by(|a, b| kind_less(&a.head.kind, &b.head.kind));
    Ok((hooks, manifests))
}

/// Manifest bytes worth one more thread for reading heads (each document is parsed whole, as
/// Helm's `yaml.Unmarshal` does, so that invalid YAML fails here as it does there).
const HEAD_BYTES_PER_THREAD: usize = 64 * 1024;
const MAX_HEAD_THREADS: usize = 4;

/// [`parse_head`] of every document, in order; a large release's documents are read on
/// several threads (each is independent).
fn parse_heads(docs: &[(&String, &str)]) -> Vec<Result<Head, HeadError>> {
    rudder_value::threads::map_in_order(
        docs,
        |(_, doc)| doc.len(),
        HEAD_BYTES_PER_THREAD,
        MAX_HEAD_THREADS,
        |(_, doc)| parse_head(doc),
    )
}

/// Go's `strconv.Atoi`: optional sign and decimal digits, within 64 bits.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_helm() {
        // The separator's trailing whitespace swallows the next line break, so a `---` right
        // after another stays in the document (as Go's regexp split does).
        let docs = split_manifests("\n\na: 1\n---\nb: 2\n---   \n\n---\nc: 3\n\n");
        assert_eq!(docs, vec!["a: 1", "b: 2", "---\nc: 3\n\n"]);
        // A line starting with --- separates, whatever follows it.
        assert_eq!(
            split_manifests("a: 1\n---foo: 1\n"),
            vec!["a: 1", "foo: 1\n"]
        );
    }

    #[test]
    fn matches_the_separator_regex() {
        // Go's `\s` is ASCII-only: [\t\n\f\r ].
        let re = regex::Regex::new(r"(?:^|[\t\n\x0C\r ]*\n)---[\t\n\x0C\r ]*").unwrap();
        // Every string of up to 6 pieces from an alphabet that exercises the pattern.
        let alphabet = ["-", "---", "\n", " ", "\t", "a", "\r\n", "é"];
        let mut texts = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..6 {
            let mut next = Vec::new();
            for t in &frontier {
                for piece in alphabet {
                    next.push(format!("{t}{piece}"));
                }
            }
            texts.extend(next.iter().cloned());
            frontier = next;
        }
        for text in &texts {
            let want: Vec<(usize, usize)> =
                re.find_iter(text).map(|m| (m.start(), m.end())).collect();
            assert_eq!(separator_matches(text), want, "{text:?}");
        }
    }

    #[test]
    fn orders_kinds_like_helm() {
        use std::cmp::Ordering::*;
        assert_eq!(kind_less("Namespace", "Deployment"), Less);
        assert_eq!(kind_less("Deployment", "Zebra"), Less);
        assert_eq!(kind_less("Alpha", "Zebra"), Less);
        assert_eq!(kind_less("Zebra", "Service"), Greater);
    }

    #[test]
    fn atoi_is_strict() {
        assert_eq!(go_atoi("-5"), Some(-5));
        assert_eq!(go_atoi(" 5"), None);
        assert_eq!(go_atoi("5x"), None);
    }
}
