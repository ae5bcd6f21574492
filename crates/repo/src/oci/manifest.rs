//! The blobs and manifest of a chart as Helm pushes it: the config is `json.Marshal` of the
//! chart's `Metadata` (struct field order, empty fields left out, `<>&` escaped), layers are
//! sorted by digest, and the manifest carries Helm's OCI annotations.

use std::collections::BTreeMap;

use rudder_chart::{Dependency, Maintainer, Metadata};
use rudder_value::json::to_json;
use rudder_value::Value;

use super::sha256_digest;

/// A content descriptor: media type, digest, size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

impl Descriptor {
    /// The descriptor of `data` with `media_type`.
    pub fn of(media_type: &str, data: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: sha256_digest(data),
            size: data.len() as u64,
        }
    }

    fn to_json(&self) -> String {
        format!(
            "{{\"mediaType\":{},\"digest\":{},\"size\":{}}}",
            json_str(&self.media_type),
            json_str(&self.digest),
            self.size
        )
    }
}

fn json_str(s: &str) -> String {
    // Strings always serialize.
    to_json(&Value::str(s)).unwrap_or_default()
}

/// A JSON object written field by field in a fixed order, Go's `omitempty` applied by the
/// callers.
struct Object(Vec<String>);

impl Object {
    fn new() -> Object {
        Object(Vec::new())
    }
    fn raw(&mut self, key: &str, json: String) {
        self.0.push(format!("{}:{json}", json_str(key)));
    }
    fn string(&mut self, key: &str, value: &str, omit_empty: bool) {
        if !(omit_empty && value.is_empty()) {
            self.raw(key, json_str(value));
        }
    }
    fn strings(&mut self, key: &str, values: &[String]) {
        if !values.is_empty() {
            let items: Vec<String> = values.iter().map(|v| json_str(v)).collect();
            self.raw(key, format!("[{}]", items.join(",")));
        }
    }
    fn finish(self) -> String {
        format!("{{{}}}", self.0.join(","))
    }
}

fn maintainer_json(m: &Maintainer) -> String {
    let mut o = Object::new();
    o.string("name", &m.name, true);
    o.string("email", &m.email, true);
    o.string("url", &m.url, true);
    o.finish()
}

fn dependency_json(d: &Dependency) -> String {
    let mut o = Object::new();
    o.string("name", &d.name, false);
    o.string("version", &d.version, true);
    o.string("repository", &d.repository, false);
    o.string("condition", &d.condition, true);
    o.strings("tags", &d.tags);
    if d.enabled {
        o.raw("enabled", "true".into());
    }
    if !d.import_values.is_empty() {
        let list = Value::list(d.import_values.clone());
        o.raw(
            "import-values",
            to_json(&list).unwrap_or_else(|_| "[]".into()),
        );
    }
    o.string("alias", &d.alias, true);
    o.finish()
}

/// The config blob: `json.Marshal(chart.Metadata)`.
pub fn config_json(meta: &Metadata) -> String {
    let mut o = Object::new();
    o.string("name", &meta.name, true);
    o.string("home", &meta.home, true);
    o.strings("sources", &meta.sources);
    o.string("version", &meta.version, true);
    o.string("description", &meta.description, true);
    o.strings("keywords", &meta.keywords);
    if !meta.maintainers.is_empty() {
        let items: Vec<String> = meta.maintainers.iter().map(maintainer_json).collect();
        o.raw("maintainers", format!("[{}]", items.join(",")));
    }
    o.string("icon", &meta.icon, true);
    o.string("apiVersion", &meta.api_version, true);
    o.string("condition", &meta.condition, true);
    o.string("tags", &meta.tags, true);
    o.string("appVersion", &meta.app_version, true);
    if meta.deprecated {
        o.raw("deprecated", "true".into());
    }
    if !meta.annotations.is_empty() {
        o.raw("annotations", string_map_json(&meta.annotations));
    }
    o.string("kubeVersion", &meta.kube_version, true);
    if !meta.dependencies.is_empty() {
        let items: Vec<String> = meta.dependencies.iter().map(dependency_json).collect();
        o.raw("dependencies", format!("[{}]", items.join(",")));
    }
    o.string("type", &meta.chart_type, true);
    o.finish()
}

fn string_map_json(map: &BTreeMap<String, String>) -> String {
    let mut o = Object::new();
    for (k, v) in map {
        o.string(k, v, false);
    }
    o.finish()
}

const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
const ANNOTATION_AUTHORS: &str = "org.opencontainers.image.authors";
const ANNOTATION_URL: &str = "org.opencontainers.image.url";
const ANNOTATION_SOURCE: &str = "org.opencontainers.image.source";
const ANNOTATION_VERSION: &str = "org.opencontainers.image.version";
const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
const ANNOTATION_DESCRIPTION: &str = "org.opencontainers.image.description";

/// The manifest annotations Helm writes: description, title (name), version, url (home),
/// created, source (first source), authors (maintainers as `Name (email)` joined by `, `),
/// each only when not blank; then the chart's own annotations, except that they cannot
/// replace the title or the version.
pub fn annotations(meta: &Metadata, created: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut add = |key: &str, value: &str| {
        if !value.trim().is_empty() {
            out.insert(key.to_string(), value.to_string());
        }
    };
    add(ANNOTATION_DESCRIPTION, &meta.description);
    add(ANNOTATION_TITLE, &meta.name);
    add(ANNOTATION_VERSION, &meta.version);
    add(ANNOTATION_URL, &meta.home);
    add(ANNOTATION_CREATED, created);
    if let Some(first) = meta.sources.first() {
        add(ANNOTATION_SOURCE, first);
    }
    if !meta.maintainers.is_empty() {
        let authors: Vec<String> = meta
            .maintainers
            .iter()
            .map(|m| {
                let mut s = m.name.clone();
                if !m.email.is_empty() {
                    s.push_str(&format!(" ({})", m.email));
                }
                s
            })
            .collect();
        add(ANNOTATION_AUTHORS, &authors.join(", "));
    }
    for (k, v) in &meta.annotations {
        if k != ANNOTATION_VERSION && k != ANNOTATION_TITLE {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// The image manifest Helm writes: schema version 2, no top-level media type, the config,
/// the layers sorted by digest, and the annotations.
pub fn manifest_json(
    config: &Descriptor,
    layers: &[Descriptor],
    annotations: &BTreeMap<String, String>,
) -> String {
    let mut layers = layers.to_vec();
    layers.sort_by(|a, b| a.digest.cmp(&b.digest));
    let layers: Vec<String> = layers.iter().map(Descriptor::to_json).collect();
    let mut o = Object::new();
    o.raw("schemaVersion", "2".into());
    o.raw("config", config.to_json());
    o.raw("layers", format!("[{}]", layers.join(",")));
    if !annotations.is_empty() {
        o.raw("annotations", string_map_json(annotations));
    }
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Metadata {
        Metadata {
            name: "demo".into(),
            home: "https://example.com".into(),
            sources: vec!["https://src/a".into(), "https://src/b".into()],
            version: "1.2.3+build.7".into(),
            description: "A <chart> & stuff".into(),
            maintainers: vec![
                Maintainer {
                    name: "Ann".into(),
                    email: "ann@example.com".into(),
                    url: String::new(),
                },
                Maintainer {
                    name: "Bob".into(),
                    ..Default::default()
                },
            ],
            api_version: "v2".into(),
            app_version: "4.5".into(),
            annotations: [
                ("custom".to_string(), "value".to_string()),
                (ANNOTATION_TITLE.to_string(), "ignored".to_string()),
            ]
            .into_iter()
            .collect(),
            dependencies: vec![Dependency {
                name: "sub".into(),
                version: "0.1.0".into(),
                repository: "file://sub".into(),
                enabled: true,
                import_values: vec![Value::str("data")],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn config_in_go_field_order() {
        assert_eq!(
            config_json(&demo()),
            concat!(
                r#"{"name":"demo","home":"https://example.com","sources":["https://src/a","https://src/b"],"#,
                r#""version":"1.2.3+build.7","description":"A \u003cchart\u003e \u0026 stuff","#,
                r#""maintainers":[{"name":"Ann","email":"ann@example.com"},{"name":"Bob"}],"#,
                r#""apiVersion":"v2","appVersion":"4.5","#,
                r#""annotations":{"custom":"value","org.opencontainers.image.title":"ignored"},"#,
                r#""dependencies":[{"name":"sub","version":"0.1.0","repository":"file://sub","enabled":true,"import-values":["data"]}]}"#
            )
        );
    }

    #[test]
    fn annotations_and_manifest() {
        let meta = demo();
        let ann = annotations(&meta, "2026-01-02T03:04:05Z");
        assert_eq!(ann[ANNOTATION_TITLE], "demo");
        assert_eq!(ann[ANNOTATION_AUTHORS], "Ann (ann@example.com), Bob");
        assert_eq!(ann[ANNOTATION_SOURCE], "https://src/a");
        assert_eq!(ann["custom"], "value");
        let config = Descriptor::of(super::super::CONFIG_MEDIA_TYPE, b"{}");
        let a = Descriptor {
            media_type: "x".into(),
            digest: "sha256:bb".into(),
            size: 1,
        };
        let b = Descriptor {
            digest: "sha256:aa".into(),
            ..a.clone()
        };
        let m = manifest_json(&config, &[a, b], &BTreeMap::new());
        assert!(m.starts_with(r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"x","digest":"sha256:aa""#));
        assert!(m.ends_with(r#""size":1}]}"#));
    }
}
