//! `--output structured`: helm-diff's machine-readable report (diff/structured.go and
//! `printStructuredReport` in diff/report.go, v3.15.11). One JSON record per changed object:
//! its identity, the change type, whether it existed before and after, and for a
//! modification the changed fields, found the way helm-diff finds them: a JSON merge patch
//! of the two objects (RFC 7386, as evanphx/json-patch v5 `CreateMergePatch` builds it),
//! walked key by key, lists compared index by index. Values are those of the masked
//! manifests, so a Secret's values are never printed unless `--show-secrets` is given.
//!
//! Hand-written: the merge patch is a few dozen lines, and no JSON crate writes numbers and
//! escapes strings as Go's `encoding/json` does (that comes from `rudder_value::json`).

use std::collections::BTreeMap;

use rudder_value::{json, Value};

use super::objects::Object;

/// A JSON value as Go's `json.Unmarshal` into `interface{}` gives it: numbers are float64,
/// object keys are sorted when written.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    fn from_value(v: &Value) -> Json {
        match v {
            Value::Nil => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) | Value::Int64(i) => Json::Number(*i as f64),
            Value::Float(f) => Json::Number(*f),
            other => {
                if let Some(m) = other.to_map() {
                    Json::Object(
                        m.iter()
                            .map(|(k, v)| (k.clone(), Json::from_value(v)))
                            .collect(),
                    )
                } else if let Some(l) = other.to_list() {
                    Json::Array(l.iter().map(Json::from_value).collect())
                } else {
                    Json::String(other.to_go_string())
                }
            }
        }
    }

    /// Go's `isScalarValue` in diff/structured.go: strings, booleans and numbers.
    fn is_scalar(&self) -> bool {
        matches!(self, Json::Bool(_) | Json::Number(_) | Json::String(_))
    }

    /// Go's `json.MarshalIndent(v, prefix, "  ")`.
    fn write(&self, out: &mut String, prefix: &str) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(&json::format_json_float(*n)),
            Json::String(s) => write_string(out, s),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Object(map) if map.is_empty() => out.push_str("{}"),
            Json::Array(items) => {
                let inner = format!("{prefix}  ");
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('\n');
                    out.push_str(&inner);
                    item.write(out, &inner);
                }
                out.push('\n');
                out.push_str(prefix);
                out.push(']');
            }
            Json::Object(map) => {
                let inner = format!("{prefix}  ");
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('\n');
                    out.push_str(&inner);
                    write_string(out, k);
                    out.push_str(": ");
                    v.write(out, &inner);
                }
                out.push('\n');
                out.push_str(prefix);
                out.push('}');
            }
        }
    }
}

/// A string as Go's `encoding/json` writes it (HTML characters escaped, as a `json.Encoder`
/// does by default).
fn write_string(out: &mut String, s: &str) {
    out.push_str(&json::to_json(&Value::str(s)).unwrap_or_else(|_| "\"\"".into()));
}

/// One changed field (helm-diff's `FieldChange`).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// The path to the field's parent, dotted, with list indexes in brackets
    /// (`spec.template.spec.containers[0]`); empty for a top-level field.
    pub path: String,
    /// The field's name, or its index in a list.
    pub field: String,
    /// `add`, `remove` or `replace`.
    pub change: &'static str,
    /// Omitted from the JSON when absent or null, as Go's `omitempty` omits a nil interface.
    pub old_value: Option<Json>,
    pub new_value: Option<Json>,
}

/// One object's record (helm-diff's `StructuredEntry`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Record {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub change_type: String,
    pub old_exists: bool,
    pub new_exists: bool,
    pub changes: Vec<FieldChange>,
    pub changes_suppressed: bool,
}

impl Record {
    /// The record helm-diff prints for an entry it has no structured data for (ownership
    /// changes, objects whose manifests could not be read): the entry's key as the name.
    pub fn bare(key: &str, change_type: &str) -> Record {
        Record {
            name: key.to_string(),
            change_type: change_type.to_string(),
            ..Record::default()
        }
    }

    fn write(&self, out: &mut String) {
        let mut fields: Vec<(&str, String)> = Vec::new();
        let mut text = |name: &'static str, value: &str| {
            if !value.is_empty() {
                let mut s = String::new();
                write_string(&mut s, value);
                fields.push((name, s));
            }
        };
        // The fields in `StructuredEntry`'s order; `omitempty` drops empty strings.
        text("apiVersion", &self.api_version);
        text("kind", &self.kind);
        text("namespace", &self.namespace);
        text("name", &self.name);
        text("changeType", &self.change_type);
        fields.push((
            "resourceStatus",
            format!(
                "{{\n      \"oldExists\": {},\n      \"newExists\": {}\n    }}",
                self.old_exists, self.new_exists
            ),
        ));
        if !self.changes.is_empty() {
            let mut s = String::from("[");
            for (i, c) in self.changes.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str("\n      {");
                let mut parts: Vec<String> = Vec::new();
                let mut string_field = |name: &str, value: &str| {
                    let mut f = format!("\n        \"{name}\": ");
                    write_string(&mut f, value);
                    parts.push(f);
                };
                if !c.path.is_empty() {
                    string_field("path", &c.path);
                }
                if !c.field.is_empty() {
                    string_field("field", &c.field);
                }
                string_field("change", c.change);
                for (name, value) in [("oldValue", &c.old_value), ("newValue", &c.new_value)] {
                    if let Some(v) = value.as_ref().filter(|v| **v != Json::Null) {
                        let mut f = format!("\n        \"{name}\": ");
                        v.write(&mut f, "        ");
                        parts.push(f);
                    }
                }
                s.push_str(&parts.join(","));
                s.push_str("\n      }");
            }
            s.push_str("\n    ]");
            fields.push(("changes", s));
        }
        if self.changes_suppressed {
            fields.push(("changesSuppressed", "true".into()));
        }
        out.push_str("  {");
        for (i, (name, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!("\n    \"{name}\": {value}"));
        }
        out.push_str("\n  }");
    }
}

/// The report as helm-diff's `printStructuredReport` writes it: a JSON array (`json.Encoder`
/// with two-space indentation, so a final newline).
pub fn render(records: &[Record]) -> String {
    if records.is_empty() {
        return "[]\n".to_string();
    }
    let mut out = String::from("[\n");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        r.write(&mut out);
    }
    out.push_str("\n]\n");
    out
}

/// Why a record could not be built (helm-diff then prints a bare record and warns).
#[derive(Debug, PartialEq)]
pub struct BuildError(pub String);

/// helm-diff's `buildStructuredEntry`: the record of one object's change, from the two sides'
/// (masked) manifests. `change_type` is `ADD`, `REMOVE` or `MODIFY`.
pub fn build(
    key: &str,
    change_type: &str,
    suppressed: bool,
    old: Option<&Object>,
    new: Option<&Object>,
) -> Result<Record, BuildError> {
    let exists = |o: Option<&Object>| o.is_some_and(|o| !o.content.trim().is_empty());
    let mut record = Record {
        change_type: change_type.to_string(),
        old_exists: exists(old),
        new_exists: exists(new),
        changes_suppressed: suppressed,
        ..Record::default()
    };
    let old_doc = document(old).map_err(|e| BuildError(format!("convert old manifest: {e}")))?;
    let new_doc = document(new).map_err(|e| BuildError(format!("convert new manifest: {e}")))?;
    record.fill_identity(key, [&old_doc, &new_doc]);
    if suppressed {
        return Ok(record);
    }
    // Drift (rudder's own) is a modification of the applied object.
    if matches!(change_type, "MODIFY" | "DRIFTED") {
        if let (Some(o), Some(n)) = (&old_doc, &new_doc) {
            record.changes = field_changes(o, n)?;
        }
    }
    Ok(record)
}

/// An object's manifest as JSON (sigs.k8s.io/yaml's `YAMLToJSON`, then `json.Unmarshal` into a
/// map): `None` for a missing or blank manifest, `Some(Null)` for a `null` document.
fn document(o: Option<&Object>) -> Result<Option<Json>, String> {
    let Some(o) = o.filter(|o| !o.content.trim().is_empty()) else {
        return Ok(None);
    };
    let value = rudder_value::yaml::from_yaml(&o.content).map_err(|e| e.to_string())?;
    match Json::from_value(&value) {
        Json::Null => Ok(Some(Json::Null)),
        doc @ Json::Object(_) => Ok(Some(doc)),
        other => Err(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            go_json_type(&other)
        )),
    }
}

/// encoding/json's name of a JSON value's type in its unmarshal errors.
fn go_json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

impl Record {
    /// helm-diff's `populateMetadata`: apiVersion, kind, name and namespace from the old
    /// object, then the new one, and what is still missing from the entry's key.
    fn fill_identity(&mut self, key: &str, docs: [&Option<Json>; 2]) {
        for doc in docs.into_iter().flatten() {
            let Json::Object(map) = doc else { continue };
            let text = |m: &BTreeMap<String, Json>, k: &str| match m.get(k) {
                Some(Json::String(s)) => s.clone(),
                _ => String::new(),
            };
            if self.api_version.is_empty() {
                self.api_version = text(map, "apiVersion");
            }
            if self.kind.is_empty() {
                self.kind = text(map, "kind");
            }
            if let Some(Json::Object(meta)) = map.get("metadata") {
                if self.name.is_empty() {
                    self.name = text(meta, "name");
                }
                if self.namespace.is_empty() {
                    self.namespace = text(meta, "namespace");
                }
            }
        }
        if self.kind.is_empty()
            || self.name.is_empty()
            || self.namespace.is_empty()
            || self.api_version.is_empty()
        {
            if let Some([namespace, name, kind, api]) = super::report::key_parts(key) {
                for (field, value) in [
                    (&mut self.kind, kind),
                    (&mut self.name, name),
                    (&mut self.namespace, namespace),
                    (&mut self.api_version, api),
                ] {
                    if field.is_empty() {
                        *field = value.to_string();
                    }
                }
            }
        }
    }
}

/// evanphx/json-patch's errors, as helm-diff passes them on.
const BAD_DOCUMENT: &str = "Invalid JSON Document";
const MISMATCHED_TYPES: &str = "Mismatched JSON Documents";

/// helm-diff's `calculateFieldChanges`.
fn field_changes(old: &Json, new: &Json) -> Result<Vec<FieldChange>, BuildError> {
    let patch = merge_patch(old, new)?;
    let mut changes = Vec::new();
    if !matches!(&patch, Json::Object(m) if m.is_empty()) {
        walk(&mut changes, &mut Vec::new(), &patch, Some(old), Some(new))?;
    }
    Ok(changes)
}

/// evanphx/json-patch v5 `CreateMergePatch` of two documents: both arrays (then pairwise
/// object patches of equal-length arrays), or both not arrays (then objects; a scalar or a
/// null cannot be read as one).
fn merge_patch(old: &Json, new: &Json) -> Result<Json, BuildError> {
    match (old, new) {
        (Json::Array(a), Json::Array(b)) => {
            if a.len() != b.len() {
                return Err(BuildError(BAD_DOCUMENT.into()));
            }
            let patches = a
                .iter()
                .zip(b)
                .map(|(x, y)| object_patch(x, y))
                .collect::<Result<_, _>>()?;
            Ok(Json::Array(patches))
        }
        (Json::Array(_), _) | (_, Json::Array(_)) => Err(BuildError(MISMATCHED_TYPES.into())),
        _ => object_patch(old, new),
    }
}

/// `createObjectMergePatch`: both sides must read as JSON objects (`null` reads as an empty
/// one, as `json.Unmarshal` of `null` into a map leaves it empty).
fn object_patch(old: &Json, new: &Json) -> Result<Json, BuildError> {
    let empty = BTreeMap::new();
    let as_object = |j: &'_ Json| -> Option<BTreeMap<String, Json>> {
        match j {
            Json::Object(m) => Some(m.clone()),
            Json::Null => Some(empty.clone()),
            _ => None,
        }
    };
    match (as_object(old), as_object(new)) {
        (Some(a), Some(b)) => Ok(Json::Object(object_diff(&a, &b))),
        _ => Err(BuildError(BAD_DOCUMENT.into())),
    }
}

/// `getDiff`: keys added or changed get the new value (objects recursively, lists whole),
/// removed keys get null.
fn object_diff(a: &BTreeMap<String, Json>, b: &BTreeMap<String, Json>) -> BTreeMap<String, Json> {
    let mut into = BTreeMap::new();
    for (key, bv) in b {
        match (a.get(key), bv) {
            (None, _) => {
                into.insert(key.clone(), bv.clone());
            }
            (Some(Json::Object(ao)), Json::Object(bo)) => {
                let d = object_diff(ao, bo);
                if !d.is_empty() {
                    into.insert(key.clone(), Json::Object(d));
                }
            }
            (Some(av), bv) if av != bv => {
                into.insert(key.clone(), bv.clone());
            }
            _ => {}
        }
    }
    for key in a.keys() {
        if !b.contains_key(key) {
            into.insert(key.clone(), Json::Null);
        }
    }
    into
}

/// helm-diff's `walkPatch`: objects of the patch are walked in key order; a list in the patch
/// sends the two sides' lists to [`walk_lists`]; anything else is one field's change.
fn walk(
    changes: &mut Vec<FieldChange>,
    tokens: &mut Vec<String>,
    patch: &Json,
    old: Option<&Json>,
    new: Option<&Json>,
) -> Result<(), BuildError> {
    match patch {
        Json::Object(map) => {
            for (key, sub) in map {
                let child = |side: Option<&Json>| -> Option<Json> {
                    match side {
                        Some(Json::Object(m)) => m.get(key).cloned(),
                        _ => None,
                    }
                };
                let (o, n) = (child(old), child(new));
                tokens.push(key.clone());
                let result = walk(changes, tokens, sub, o.as_ref(), n.as_ref());
                tokens.pop();
                result?;
            }
        }
        Json::Array(_) => walk_lists(changes, tokens, old, new)?,
        _ => {
            let (path, field) = split_tokens(tokens);
            // Go's nil interface: a missing key and a JSON null are the same.
            let present = |v: Option<&Json>| v.filter(|v| **v != Json::Null).cloned();
            let (o, n) = (present(old), present(new));
            let change = if *patch == Json::Null {
                FieldChange {
                    path,
                    field,
                    change: "remove",
                    old_value: o,
                    new_value: None,
                }
            } else if o.is_none() {
                FieldChange {
                    path,
                    field,
                    change: "add",
                    old_value: None,
                    new_value: n,
                }
            } else {
                if o == n {
                    return Ok(());
                }
                FieldChange {
                    path,
                    field,
                    change: "replace",
                    old_value: o,
                    new_value: n,
                }
            };
            changes.push(change);
        }
    }
    Ok(())
}

/// helm-diff's `diffArrayNodes`: two lists compared index by index; entries present on both
/// sides that are objects (or lists of objects) are walked through their own merge patch.
fn walk_lists(
    changes: &mut Vec<FieldChange>,
    tokens: &mut Vec<String>,
    old: Option<&Json>,
    new: Option<&Json>,
) -> Result<(), BuildError> {
    let items = |side: Option<&Json>| match side {
        Some(Json::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let (old_items, new_items) = (items(old), items(new));
    for i in 0..old_items.len().max(new_items.len()) {
        let pick = |items: &[Json]| items.get(i).filter(|v| **v != Json::Null).cloned();
        let (o, n) = (pick(&old_items), pick(&new_items));
        tokens.push(i.to_string());
        let result = (|| -> Result<(), BuildError> {
            let (path, field) = split_tokens(tokens);
            match (o, n) {
                (Some(o), Some(n)) => {
                    if o == n {
                        return Ok(());
                    }
                    if !(o.is_scalar() && n.is_scalar()) {
                        let patch = merge_patch(&o, &n)?;
                        let empty = matches!(&patch, Json::Object(m) if m.is_empty());
                        if !empty {
                            return walk(changes, tokens, &patch, Some(&o), Some(&n));
                        }
                    }
                    changes.push(FieldChange {
                        path,
                        field,
                        change: "replace",
                        old_value: Some(o),
                        new_value: Some(n),
                    });
                }
                (Some(o), None) => changes.push(FieldChange {
                    path,
                    field,
                    change: "remove",
                    old_value: Some(o),
                    new_value: None,
                }),
                (None, Some(n)) => changes.push(FieldChange {
                    path,
                    field,
                    change: "add",
                    old_value: None,
                    new_value: Some(n),
                }),
                (None, None) => {}
            }
            Ok(())
        })();
        tokens.pop();
        result?;
    }
    Ok(())
}

/// helm-diff's `splitTokens` and `formatPath`: the parent's path (indexes appended to the
/// previous segment in brackets) and the last token.
fn split_tokens(tokens: &[String]) -> (String, String) {
    let Some((last, parents)) = tokens.split_last() else {
        return (String::new(), String::new());
    };
    let mut segments: Vec<String> = Vec::new();
    for token in parents.iter().filter(|t| !t.is_empty()) {
        if token.bytes().all(|b| b.is_ascii_digit()) {
            match segments.last_mut() {
                Some(previous) => previous.push_str(&format!("[{token}]")),
                None => segments.push(format!("[{token}]")),
            }
        } else {
            segments.push(token.clone());
        }
    }
    (segments.join("."), last.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(content: &str) -> Object {
        Object {
            key: "prod, web, Deployment (apps)".into(),
            kind: "Deployment".into(),
            content: content.into(),
            resource_policy: String::new(),
        }
    }

    fn change<'a>(r: &'a Record, path: &str, field: &str) -> &'a FieldChange {
        r.changes
            .iter()
            .find(|c| c.path == path && c.field == field)
            .unwrap_or_else(|| panic!("no change at {path} {field}: {:?}", r.changes))
    }

    /// helm-diff v3.15.11 diff/diff_test.go `TestStructuredOutputModify` (lines 589-710): the
    /// same two manifests give the same eight changes.
    #[test]
    fn field_changes_follow_helm_diff_modify_test() {
        let old = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: app\n        image: demo:v1\n      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n            - matchExpressions:\n              - key: node-type\n                operator: In\n                values:\n                - standard\n      priorities:\n      - 1\n      booleanArrayField:\n      - true\n      multiTypeField:\n      - 3\n      - true\n      - \"string\"\n";
        let new = old
            .replace("replicas: 2", "replicas: 3")
            .replace("demo:v1", "demo:v2")
            .replace("- standard", "- dedicated")
            .replace("      - 1\n", "      - 2\n")
            .replace(
                "      - true\n      multiTypeField",
                "      - false\n      multiTypeField",
            )
            .replace(
                "      - 3\n      - true\n      - \"string\"\n",
                "      - false\n      - \"new-string\"\n      - 2\n",
            );
        let r = build(
            "prod, web, Deployment (apps)",
            "MODIFY",
            false,
            Some(&object(old)),
            Some(&object(&new)),
        )
        .unwrap();
        assert_eq!(
            (
                r.api_version.as_str(),
                r.kind.as_str(),
                r.namespace.as_str(),
                r.name.as_str()
            ),
            ("apps/v1", "Deployment", "prod", "web")
        );
        assert_eq!(r.changes.len(), 8, "{:?}", r.changes);
        let replicas = change(&r, "spec", "replicas");
        assert_eq!(
            (replicas.change, &replicas.old_value, &replicas.new_value),
            (
                "replace",
                &Some(Json::Number(2.0)),
                &Some(Json::Number(3.0))
            )
        );
        let image = change(&r, "spec.template.spec.containers[0]", "image");
        assert_eq!(image.new_value, Some(Json::String("demo:v2".into())));
        let values = change(
            &r,
            "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
            "0",
        );
        assert_eq!(values.old_value, Some(Json::String("standard".into())));
        let mixed = change(&r, "spec.template.spec.multiTypeField", "1");
        assert_eq!(
            (&mixed.old_value, &mixed.new_value),
            (
                &Some(Json::Bool(true)),
                &Some(Json::String("new-string".into()))
            )
        );
        // Keys are walked in sorted order, list entries by index.
        let order: Vec<String> = r
            .changes
            .iter()
            .map(|c| format!("{} {}", c.path, c.field))
            .collect();
        let affinity = "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values 0";
        assert_eq!(
            order,
            [
                "spec replicas",
                affinity,
                "spec.template.spec.booleanArrayField 0",
                "spec.template.spec.containers[0] image",
                "spec.template.spec.multiTypeField 0",
                "spec.template.spec.multiTypeField 1",
                "spec.template.spec.multiTypeField 2",
                "spec.template.spec.priorities 0",
            ]
        );
    }

    /// A field only on one side is an add or a remove with one value; a JSON null counts as
    /// absent (Go's nil interface), so it is omitted.
    #[test]
    fn added_and_removed_fields_carry_one_value() {
        let old =
            object("kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  gone: x\n  nulled: null\n");
        let new = object("kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  added: z\n");
        let r = build(
            "ns, c, ConfigMap (v1)",
            "MODIFY",
            false,
            Some(&old),
            Some(&new),
        )
        .unwrap();
        assert_eq!(
            r.changes,
            vec![
                FieldChange {
                    path: "data".into(),
                    field: "added".into(),
                    change: "add",
                    old_value: None,
                    new_value: Some(Json::String("z".into())),
                },
                FieldChange {
                    path: "data".into(),
                    field: "gone".into(),
                    change: "remove",
                    old_value: Some(Json::String("x".into())),
                    new_value: None,
                },
                FieldChange {
                    path: "data".into(),
                    field: "nulled".into(),
                    change: "remove",
                    old_value: None,
                    new_value: None,
                },
            ]
        );
        // apiVersion is missing from both manifests: it comes from the key.
        assert_eq!((r.api_version.as_str(), r.namespace.as_str()), ("v1", "ns"));
    }

    /// helm-diff's `diffArrayNodes`: a list entry that is an object on one side and a scalar
    /// on the other cannot be merge-patched, so the record cannot be built.
    #[test]
    fn an_object_replaced_by_a_scalar_in_a_list_is_an_error() {
        let old = object("kind: X\nmetadata:\n  name: a\nitems:\n- a: 1\n- b\n");
        let new = object("kind: X\nmetadata:\n  name: a\nitems:\n- x\n- b\n");
        let err = build("ns, a, X (v1)", "MODIFY", false, Some(&old), Some(&new)).unwrap_err();
        assert_eq!(err, BuildError("Invalid JSON Document".into()));
    }

    #[test]
    fn suppressed_kinds_get_no_changes() {
        let old =
            object("kind: Secret\nmetadata:\n  name: s\ndata:\n  a: '-------- # (1 bytes)'\n");
        let new =
            object("kind: Secret\nmetadata:\n  name: s\ndata:\n  a: '++++++++ # (2 bytes)'\n");
        let r = build("ns, s, Secret (v1)", "MODIFY", true, Some(&old), Some(&new)).unwrap();
        assert!(r.changes_suppressed);
        assert!(r.changes.is_empty());
    }

    #[test]
    fn a_list_document_cannot_be_read_as_an_object() {
        let new = object("- a: 1\n");
        let err = build("ns, a, X (v1)", "ADD", false, None, Some(&new)).unwrap_err();
        assert_eq!(
            err.0,
            "convert new manifest: json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
    }

    /// `json.Encoder` with `SetIndent("", "  ")` on `[]StructuredEntry`: struct fields in
    /// declaration order, `omitempty` fields left out, map keys sorted, HTML escaped, floats
    /// as Go writes them.
    #[test]
    fn records_are_written_as_go_encodes_them() {
        let mut nested = BTreeMap::new();
        nested.insert("b".to_string(), Json::Number(1e21));
        nested.insert("a".to_string(), Json::String("<x>".into()));
        let r = Record {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: "ns".into(),
            name: "c".into(),
            change_type: "MODIFY".into(),
            old_exists: true,
            new_exists: true,
            changes: vec![FieldChange {
                path: String::new(),
                field: "data".into(),
                change: "replace",
                old_value: Some(Json::Number(2.0)),
                new_value: Some(Json::Object(nested)),
            }],
            changes_suppressed: false,
        };
        assert_eq!(
            render(&[r, Record::bare("ns, o, ConfigMap (v1)", "OWNERSHIP")]),
            r#"[
  {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "namespace": "ns",
    "name": "c",
    "changeType": "MODIFY",
    "resourceStatus": {
      "oldExists": true,
      "newExists": true
    },
    "changes": [
      {
        "field": "data",
        "change": "replace",
        "oldValue": 2,
        "newValue": {
          "a": "\u003cx\u003e",
          "b": 1e+21
        }
      }
    ]
  },
  {
    "name": "ns, o, ConfigMap (v1)",
    "changeType": "OWNERSHIP",
    "resourceStatus": {
      "oldExists": false,
      "newExists": false
    }
  }
]
"#
        );
        assert_eq!(render(&[]), "[]\n");
    }

    #[test]
    fn paths_put_indexes_in_brackets() {
        let t = |v: &[&str]| split_tokens(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            t(&["spec", "containers", "0", "image"]),
            ("spec.containers[0]".into(), "image".into())
        );
        assert_eq!(t(&["0", "1", "x"]), ("[0][1]".into(), "x".into()));
        assert_eq!(t(&["kind"]), (String::new(), "kind".into()));
    }
}
