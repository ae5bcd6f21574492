//! A release manifest as helm-diff indexes it: one entry per Kubernetes object, keyed
//! `NAMESPACE, NAME, KIND (API GROUP)`, holding the object's text as rendered.

use std::collections::BTreeMap;

use rudder_value::{yaml, Value};

/// Helm's test hook annotation values, left out of a diff unless tests are asked for.
pub const TEST_HOOKS: [&str; 2] = ["test", "test-success"];

const HOOK_ANNOTATION: &str = "helm.sh/hook";
const RESOURCE_POLICY_ANNOTATION: &str = "helm.sh/resource-policy";
/// helm-diff's annotation that names an object for matching (objects whose generated names
/// change on every render, e.g. a Job with a hash in its name).
const BASE_NAME_ANNOTATION: &str = "helm-diff/base-name";

/// One object of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// `NAMESPACE, NAME, KIND (GROUP)`; GROUP is the apiVersion without its version
    /// (`apps` for `apps/v1`; `v1` stays `v1`).
    pub key: String,
    pub kind: String,
    /// The document's text, trimmed (or re-written when normalising).
    pub content: String,
    /// `helm.sh/resource-policy`: `keep` objects are not reported as removed.
    pub resource_policy: String,
}

/// How a manifest is read.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions<'a> {
    /// The namespace of objects that name none.
    pub default_namespace: &'a str,
    /// `--normalize-manifests`: compare the objects' YAML re-written with sorted keys, so that
    /// formatting differences do not count.
    pub normalize: bool,
    /// Hook kinds to leave out (`TEST_HOOKS` unless `--include-tests`).
    pub excluded_hooks: &'a [&'a str],
}

/// What reading a manifest found besides its objects.
#[derive(Debug, Default)]
pub struct Parsed {
    pub objects: BTreeMap<String, Object>,
    /// Keys seen twice (the first is kept), as helm-diff logs them.
    pub duplicates: Vec<String>,
}

/// Why a manifest could not be read into objects (helm-diff's wording).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// A document that is not YAML, followed by the document itself.
    #[error("YAML parse error: {source}\n{document}")]
    Yaml {
        document: String,
        #[source]
        source: yaml::DecodeError,
    },
    /// An object that could not be written back as YAML (a list's item, or a normalised
    /// object).
    #[error(transparent)]
    Encode(yaml::EncodeError),
}

/// Reads every object of a manifest (documents split on `\n---\n`).
pub fn parse(manifest: &str, opts: &ParseOptions<'_>) -> Result<Parsed, ParseError> {
    let mut parsed = Parsed::default();
    let text = format!("\n{manifest}");
    for doc in text.split("\n---\n") {
        let doc = doc.trim_matches(go_space);
        if doc.is_empty() {
            continue;
        }
        for object in read_document(doc, opts)? {
            if parsed.objects.contains_key(&object.key) {
                parsed.duplicates.push(object.key);
            } else {
                parsed.objects.insert(object.key.clone(), object);
            }
        }
    }
    Ok(parsed)
}

/// Go's `unicode.IsSpace` for the ASCII range and the Latin-1 spaces `bytes.TrimSpace` trims.
fn go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || c.is_whitespace()
}

fn read_document(doc: &str, opts: &ParseOptions<'_>) -> Result<Vec<Object>, ParseError> {
    let value = yaml::from_yaml(doc).map_err(|source| ParseError::Yaml {
        document: doc.to_string(),
        source,
    })?;
    let api_version = string_at(&value, &["apiVersion"]);
    let kind = string_at(&value, &["kind"]);
    if api_version.is_empty() && kind.is_empty() {
        return Ok(Vec::new());
    }
    if kind.ends_with("List") {
        let mut objects = Vec::new();
        if let Some(items) = value
            .get_path(&["items"])
            .and_then(|v| v.to_list().map(|l| l.to_vec()))
        {
            for item in items {
                let text = yaml::to_yaml(&item).map_err(ParseError::Encode)?;
                objects.extend(read_document(text.trim_end(), opts)?);
            }
        }
        return Ok(objects);
    }
    let content = if opts.normalize {
        yaml::to_yaml(&value).map_err(ParseError::Encode)?
    } else {
        doc.to_string()
    };
    let hook = string_at(&value, &["metadata", "annotations", HOOK_ANNOTATION]);
    if !hook.is_empty() && opts.excluded_hooks.contains(&hook.as_str()) {
        return Ok(Vec::new());
    }
    let mut namespace = string_at(&value, &["metadata", "namespace"]);
    if namespace.is_empty() {
        namespace = opts.default_namespace.to_string();
    }
    let base_name = value.get_path(&["metadata", "annotations", BASE_NAME_ANNOTATION]);
    let name = match base_name.as_ref().and_then(|v| v.as_str()) {
        Some(n) => n.to_string(),
        None => string_at(&value, &["metadata", "name"]),
    };
    let group = match api_version.rsplit_once('/') {
        Some((group, _)) => group.to_string(),
        None => api_version.clone(),
    };
    Ok(vec![Object {
        key: format!("{namespace}, {name}, {kind} ({group})"),
        kind,
        content,
        resource_policy: string_at(
            &value,
            &["metadata", "annotations", RESOURCE_POLICY_ANNOTATION],
        ),
    }])
}

/// A string field, or "" when absent or not a string (a Go struct's zero value).
fn string_at(value: &Value, path: &[&str]) -> String {
    value
        .get_path(path)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Rekeys objects by the template they came from (`# Source: ...` on their first line), as
/// helm-diff does to compare two different releases; the second object of one template is
/// numbered 2, the third 3, and so on.
pub fn by_source(objects: BTreeMap<String, Object>) -> BTreeMap<String, Object> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (_, object) in objects {
        let first = object.content.split('\n').next().unwrap_or("");
        let source = first.replacen("# Source: ", "", 1);
        let seen = counts.entry(source.clone()).or_insert(0);
        *seen += 1;
        let key = if *seen == 1 {
            source
        } else {
            format!("{source} {seen}")
        };
        out.insert(key.clone(), Object { key, ..object });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "---
# Source: c/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  a: \"1\"
---
# Source: c/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: other
---
# Source: c/templates/test.yaml
apiVersion: v1
kind: Pod
metadata:
  name: t
  annotations:
    helm.sh/hook: test
";

    #[test]
    fn objects_are_keyed_by_namespace_name_kind_and_group() {
        let p = parse(
            MANIFEST,
            &ParseOptions {
                default_namespace: "ns",
                ..Default::default()
            },
        )
        .unwrap();
        let keys: Vec<&str> = p.objects.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ns, cm, ConfigMap (v1)",
                "ns, t, Pod (v1)",
                "other, web, Deployment (apps)"
            ]
        );
        assert!(p.objects["ns, cm, ConfigMap (v1)"]
            .content
            .starts_with("# Source: c/templates/cm.yaml\napiVersion: v1"));
    }

    #[test]
    fn test_hooks_are_left_out_when_asked() {
        let p = parse(
            MANIFEST,
            &ParseOptions {
                default_namespace: "ns",
                excluded_hooks: &TEST_HOOKS,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!p.objects.contains_key("ns, t, Pod (v1)"));
    }

    #[test]
    fn lists_are_split_into_their_items_and_duplicates_reported() {
        let m = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n";
        let p = parse(
            m,
            &ParseOptions {
                default_namespace: "d",
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.objects.len(), 1);
        assert_eq!(p.duplicates, ["d, s, Secret (v1)"]);
    }

    #[test]
    fn rekeying_by_source_numbers_the_second_object_of_a_template_2() {
        let m = "# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n";
        let p = parse(
            m,
            &ParseOptions {
                default_namespace: "d",
                ..Default::default()
            },
        )
        .unwrap();
        let keys: Vec<String> = by_source(p.objects).into_keys().collect();
        assert_eq!(keys, ["c/templates/a.yaml", "c/templates/a.yaml 2"]);
    }
}
