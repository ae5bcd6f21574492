//! Secrets in a diff: by default their values are never printed, only whether each key
//! changed, as helm-diff masks them (`REDACTED # (N bytes)` for an unchanged value,
//! `-------- # (N bytes)` / `++++++++ # (N bytes)` for the old and new sides of a changed
//! one). The Secret is re-written the way client-go's YAML serializer writes a decoded
//! `v1.Secret` (known fields only, keys sorted), since that is what helm-diff prints.

use std::collections::BTreeMap;

use base64::Engine as _;
use rudder_value::{yaml, Map, Value};

use super::objects::Object;

/// How a Secret's values are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecretView {
    /// Changed/unchanged markers with lengths (helm-diff's default).
    #[default]
    Masked,
    /// The manifests as they are (`--show-secrets`).
    AsIs,
    /// Values base64-decoded into `stringData` (`--show-secrets-decoded`).
    Decoded,
}

/// A Secret's fields as `v1.Secret` decodes them.
struct Decoded {
    head: Map,
    data: BTreeMap<String, Vec<u8>>,
}

/// Re-writes the contents of a pair of Secrets (either side may be missing) for display.
/// Objects that are not both Secrets are left alone.
pub fn prepare(old: Option<&mut Object>, new: Option<&mut Object>, view: SecretView) {
    if view == SecretView::AsIs {
        return;
    }
    let is_secret = |o: &Option<&mut Object>| o.as_ref().is_none_or(|o| o.kind == "Secret");
    if !is_secret(&old) || !is_secret(&new) {
        return;
    }
    let (mut old, mut new) = (old, new);
    let old_decoded = old.as_mut().and_then(|o| decode(o, "old"));
    let new_decoded = new.as_mut().and_then(|o| decode(o, "new"));
    let empty = Vec::new();
    let show = |side: &Decoded, other: Option<&Decoded>, changed_mark: &str| -> Map {
        let mut shown = Map::new();
        for (k, v) in &side.data {
            let text = match view {
                SecretView::Decoded => String::from_utf8_lossy(v).into_owned(),
                _ => {
                    let same = other
                        .map(|o| o.data.get(k).unwrap_or(&empty) == v)
                        .unwrap_or(false);
                    let mark = if same { "REDACTED" } else { changed_mark };
                    format!("{mark} # ({} bytes)", v.len())
                }
            };
            shown.insert(k.clone(), Value::str(text));
        }
        shown
    };
    if let (Some(o), Some(d)) = (old.as_mut(), old_decoded.as_ref()) {
        let shown = show(d, new_decoded.as_ref(), "--------");
        o.content = encode(&o.content, d, shown, view);
    }
    if let (Some(n), Some(d)) = (new.as_mut(), new_decoded.as_ref()) {
        let shown = show(d, old_decoded.as_ref(), "++++++++");
        n.content = encode(&n.content, d, shown, view);
    }
}

/// Decodes a Secret as `v1.Secret`; on failure the object's content becomes the error, as
/// helm-diff shows it.
fn decode(object: &mut Object, side: &str) -> Option<Decoded> {
    match try_decode(&object.content) {
        Ok(d) => Some(d),
        Err(e) => {
            object.content = format!("Error parsing {side} secret: {e}");
            None
        }
    }
}

/// Why a Secret does not decode as `v1.Secret`.
#[derive(Debug, thiserror::Error)]
enum SecretError {
    #[error(transparent)]
    Yaml(yaml::DecodeError),
    #[error("illegal base64 data for key {key:?}: {source}")]
    Base64 {
        key: String,
        #[source]
        source: base64::DecodeError,
    },
}

fn try_decode(content: &str) -> Result<Decoded, SecretError> {
    let value = yaml::from_yaml(content).map_err(SecretError::Yaml)?;
    let map = value.to_map().unwrap_or_default();
    let mut head = Map::new();
    for key in ["apiVersion", "kind", "immutable", "type"] {
        if let Some(v) = map.get(key) {
            if !v.is_nil() && v.as_str() != Some("") {
                head.insert(key.to_string(), v.clone());
            }
        }
    }
    if let Some(meta) = map.get("metadata").and_then(|m| m.to_map()) {
        let known = [
            "name",
            "generateName",
            "namespace",
            "selfLink",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "labels",
            "annotations",
            "ownerReferences",
            "finalizers",
            "managedFields",
        ];
        let mut kept = Map::new();
        for (k, v) in meta.iter() {
            let empty = v.is_nil()
                || v.as_str() == Some("")
                || v.to_list().is_some_and(|l| l.is_empty())
                || v.to_map().is_some_and(|m| m.is_empty());
            if known.contains(&k.as_str()) && !empty {
                kept.insert(k.clone(), v.clone());
            }
        }
        head.insert("metadata".to_string(), Value::map(kept));
    } else {
        head.insert("metadata".to_string(), Value::map(Map::new()));
    }
    let mut data = BTreeMap::new();
    if let Some(d) = map.get("data").and_then(|d| d.to_map()) {
        for (k, v) in d.iter() {
            let text = v.as_str().unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|source| SecretError::Base64 {
                    key: k.clone(),
                    source,
                })?;
            data.insert(k.clone(), bytes);
        }
    }
    // The API server folds stringData into data; helm-diff does the same before comparing.
    if let Some(s) = map.get("stringData").and_then(|d| d.to_map()) {
        for (k, v) in s.iter() {
            data.insert(k.clone(), v.to_go_string().into_bytes());
        }
    }
    Ok(Decoded { head, data })
}

fn encode(original: &str, decoded: &Decoded, shown: Map, view: SecretView) -> String {
    let mut map = decoded.head.clone();
    if !shown.is_empty() {
        map.insert("stringData".to_string(), Value::map(shown));
    }
    let text = yaml::to_yaml(&Value::map(map)).unwrap_or_default();
    let text = if view == SecretView::Masked {
        text.replacen("stringData", "data", 1)
    } else {
        text
    };
    format!("{}{text}", source_comment(original))
}

/// The first line when it is a comment (the `# Source:` line of a rendered manifest).
fn source_comment(content: &str) -> &str {
    match content.find('\n') {
        Some(i) if content.starts_with('#') => &content[..=i],
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(data: &str) -> Object {
        Object {
            key: "ns, s, Secret (v1)".into(),
            kind: "Secret".into(),
            content: format!(
                "# Source: c/templates/s.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  labels:\n    a: b\ntype: Opaque\n{data}"
            ),
            resource_policy: String::new(),
        }
    }

    #[test]
    fn changed_and_unchanged_values_are_masked_with_their_lengths() {
        // "c2VjcmV0" = "secret", "b3RoZXI=" = "other", "c2FtZQ==" = "same". Values go under
        // `stringData`, sorted as such (after metadata), and the key is then renamed `data`.
        let mut old = secret("data:\n  pw: c2VjcmV0\n  keep: c2FtZQ==\n");
        let mut new = secret("data:\n  pw: b3RoZXI=\n  keep: c2FtZQ==\n");
        prepare(Some(&mut old), Some(&mut new), SecretView::Masked);
        assert_eq!(
            old.content,
            "# Source: c/templates/s.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  labels:\n    a: b\n  name: s\ndata:\n  keep: 'REDACTED # (4 bytes)'\n  pw: '-------- # (6 bytes)'\ntype: Opaque\n"
        );
        assert!(new.content.contains("pw: '++++++++ # (5 bytes)'"));
        assert!(!new.content.contains("b3RoZXI"));
        assert!(!old.content.contains("c2VjcmV0"));
    }

    #[test]
    fn string_data_is_folded_into_data() {
        let mut new = secret("stringData:\n  token: abc\n");
        prepare(None, Some(&mut new), SecretView::Masked);
        assert!(new.content.contains("token: '++++++++ # (3 bytes)'"));
        assert!(!new.content.contains("abc"));
    }

    #[test]
    fn decoded_view_shows_the_values_in_string_data() {
        let mut new = secret("data:\n  pw: c2VjcmV0\n");
        prepare(None, Some(&mut new), SecretView::Decoded);
        assert!(new.content.contains("stringData:\n  pw: secret\n"));
    }

    #[test]
    fn bad_base64_replaces_the_content_with_the_error() {
        let mut new = secret("data:\n  pw: '***'\n");
        prepare(None, Some(&mut new), SecretView::Masked);
        assert!(new.content.starts_with("Error parsing new secret: "));
    }
}
