//! Repository `index.yaml` (`repo.IndexFile`).
//!
//! Each chart version keeps the mapping it was read from, restricted to the keys Helm's
//! structs know, so writing an index back gives what Helm's marshalling would: metadata
//! keys are `omitempty` (empty ones vanish), `urls` and `created` are always written, and
//! keys come out sorted as go-yaml sorts a JSON object.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use rudder_semver::Version;
use rudder_value::{json, yaml, Map, Value};

use crate::repofile::json_kind;
use crate::{time, Error};

/// Keys of Helm's `chart.Metadata` (all `omitempty`).
pub(crate) const METADATA_KEYS: &[&str] = rudder_chart::METADATA_FIELDS;

/// Keys `repo.ChartVersion` adds; only `urls` and `created` are written when empty.
const VERSION_KEYS: &[&str] = &[
    "urls",
    "created",
    "removed",
    "digest",
    "checksum",
    "engine",
    "tillerVersion",
    "url",
];

/// One version of one chart in an index.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartVersion {
    pub name: String,
    pub version: String,
    pub app_version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub urls: Vec<String>,
    pub created: String,
    pub digest: String,
    /// Every known key as read, for writing the entry back.
    fields: Map,
}

fn string_field(map: &Map, key: &str) -> Result<String, Error> {
    match map.get(key) {
        None | Some(Value::Nil) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(other) => Err(Error::Unmarshal(format!(
            "while decoding JSON: json: cannot unmarshal {} into Go struct field ChartVersion.entries.{key} of type string",
            json_kind(other)
        ))),
    }
}

fn strings_field(map: &Map, key: &str) -> Result<Vec<String>, Error> {
    match map.get(key) {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(v) => {
            let items = v.to_list().ok_or_else(|| {
                Error::Unmarshal(format!(
                    "while decoding JSON: json: cannot unmarshal {} into Go struct field ChartVersion.entries.{key} of type []string",
                    json_kind(v)
                ))
            })?;
            items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.to_string()),
                    Value::Nil => Ok(String::new()),
                    other => Err(Error::Unmarshal(format!(
                        "while decoding JSON: json: cannot unmarshal {} into Go struct field ChartVersion.entries.{key} of type string",
                        json_kind(other)
                    ))),
                })
                .collect()
        }
    }
}

/// Go's `omitempty`: false, 0, "", nil and empty lists and maps are left out.
pub(crate) use rudder_chart::package::is_empty_value;

impl ChartVersion {
    fn from_map(map: &Map) -> Result<ChartVersion, Error> {
        let mut fields = Map::new();
        for key in METADATA_KEYS.iter().chain(VERSION_KEYS) {
            if let Some(v) = map.get(*key) {
                fields.insert((*key).to_string(), v.clone());
            }
        }
        Ok(ChartVersion {
            name: string_field(map, "name")?,
            version: string_field(map, "version")?,
            app_version: string_field(map, "appVersion")?,
            description: string_field(map, "description")?,
            keywords: strings_field(map, "keywords")?,
            urls: strings_field(map, "urls")?,
            created: match map.get("created") {
                Some(Value::String(s)) => s.to_string(),
                _ => String::new(),
            },
            digest: string_field(map, "digest")?,
            fields,
        })
    }

    /// A new entry for a packaged chart (`IndexFile.MustAdd`): `metadata` is the chart's
    /// Chart.yaml mapping.
    pub fn new(metadata: &Map, urls: Vec<String>, digest: &str, created: &str) -> ChartVersion {
        let mut map: Map = metadata
            .iter()
            .filter(|(k, _)| METADATA_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        map.insert("urls".into(), Value::strings(urls));
        map.insert("digest".into(), Value::str(digest));
        map.insert("created".into(), Value::str(created));
        // Only fails on mistyped metadata; keep what can be read.
        ChartVersion::from_map(&map).unwrap_or_else(|_| ChartVersion {
            name: String::new(),
            version: String::new(),
            app_version: String::new(),
            description: String::new(),
            keywords: Vec::new(),
            urls: Vec::new(),
            created: created.to_string(),
            digest: digest.to_string(),
            fields: map,
        })
    }

    /// The entry as Go's JSON encoder writes `ChartVersion`: `chart.Metadata`'s fields in
    /// their struct order (all `omitempty`), then `urls` (`null` when unset) and `created`
    /// (always), then the `omitempty` rest.
    fn to_json_node(&self) -> JsonNode<'_> {
        let written = self.to_value();
        let written = written.to_map().unwrap_or_default();
        let mut fields = Vec::new();
        for key in METADATA_KEYS.iter().chain(VERSION_KEYS) {
            let always = matches!(*key, "urls" | "created");
            let Some(value) = written.get(*key) else {
                continue;
            };
            if !always && is_empty_value(value) {
                continue;
            }
            let node = match *key {
                // `[]*Maintainer`: name, email, url, each omitempty.
                "maintainers" => {
                    struct_list(value, &[("name", false), ("email", false), ("url", false)])
                }
                // `[]*Dependency`: name and repository are not omitempty.
                "dependencies" => struct_list(
                    value,
                    &[
                        ("name", true),
                        ("version", false),
                        ("repository", true),
                        ("condition", false),
                        ("tags", false),
                        ("enabled", false),
                        ("import-values", false),
                        ("alias", false),
                    ],
                ),
                _ => JsonNode::Leaf(value.clone()),
            };
            fields.push((*key, node));
        }
        JsonNode::Struct(fields)
    }

    /// A field as read (`home`, `icon`, `maintainers`, `annotations`...).
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// The entry's mapping as Helm writes it.
    pub fn to_value(&self) -> Value {
        let mut out = Map::new();
        for (k, v) in &self.fields {
            if !is_empty_value(v) {
                out.insert(k.clone(), v.clone());
            }
        }
        out.insert("name".into(), Value::str(&self.name));
        out.insert("version".into(), Value::str(&self.version));
        out.insert(
            "urls".into(),
            if self.urls.is_empty() {
                Value::Nil
            } else {
                Value::strings(self.urls.clone())
            },
        );
        let created = if self.created.is_empty() {
            time::ZERO_TIME
        } else {
            &self.created
        };
        out.insert("created".into(), Value::str(created));
        for (key, value) in [
            ("name", &self.name),
            ("version", &self.version),
            ("appVersion", &self.app_version),
            ("description", &self.description),
            ("digest", &self.digest),
        ] {
            if value.is_empty() {
                out.remove(key);
            } else {
                out.insert(key.into(), Value::str(value));
            }
        }
        if self.keywords.is_empty() {
            out.remove("keywords");
        } else {
            out.insert("keywords".into(), Value::strings(self.keywords.clone()));
        }
        Value::map(out)
    }

    /// Whether `IndexFile` loading keeps this entry (Helm drops entries whose metadata does
    /// not validate: a name and a semantic version are required).
    fn is_loadable(&self) -> bool {
        !self.name.is_empty() && Version::parse(&self.version).is_ok()
    }
}

/// Newest first, as `sort.Reverse(ChartVersions)`: semantic order, unparsable versions
/// treated as smallest. Versions are parsed once, not per comparison (indexes can hold
/// tens of thousands).
fn sort_newest_first(versions: &mut Vec<ChartVersion>) {
    let mut keyed: Vec<(Option<Version>, ChartVersion)> = versions
        .drain(..)
        .map(|cv| (Version::parse(&cv.version).ok(), cv))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(x), Some(y)) => y.compare(x),
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (None, None) => Ordering::Equal,
    });
    versions.extend(keyed.into_iter().map(|(_, cv)| cv));
}

/// A repository index.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexFile {
    pub api_version: String,
    pub generated: String,
    /// Chart name to its versions, newest first.
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
    pub public_keys: Vec<String>,
    pub server_info: Option<Value>,
    pub annotations: Option<Value>,
}

impl Default for IndexFile {
    /// `repo.NewIndexFile`.
    fn default() -> IndexFile {
        IndexFile {
            api_version: "v1".into(),
            generated: time::now(),
            entries: BTreeMap::new(),
            public_keys: Vec::new(),
            server_info: None,
            annotations: None,
        }
    }
}

impl IndexFile {
    /// `repo.LoadIndexFile`.
    pub fn load(path: &Path) -> Result<IndexFile, Error> {
        let data = fs::read(path).map_err(Error::io("open", path))?;
        IndexFile::parse(&String::from_utf8_lossy(&data))
    }

    /// Parses an index (YAML or JSON): invalid entries are skipped, versions sorted newest
    /// first, and a missing `apiVersion` is an error, as in Helm's `loadIndex`.
    pub fn parse(data: &str) -> Result<IndexFile, Error> {
        if data.is_empty() {
            return Err(Error::EmptyIndex);
        }
        let doc = yaml::from_yaml(data).map_err(Error::Yaml)?;
        let map = match &doc {
            Value::Map(d) => d.snapshot(),
            Value::Nil => Map::new(),
            other => {
                return Err(Error::Unmarshal(format!(
                    "while decoding JSON: json: cannot unmarshal {} into Go value of type repo.IndexFile",
                    json_kind(other)
                )))
            }
        };
        let mut entries = BTreeMap::new();
        if let Some(Value::Map(d)) = map.get("entries") {
            for (name, list) in d.snapshot() {
                let mut versions = Vec::new();
                if let Some(items) = list.to_list() {
                    for item in items.iter() {
                        let Value::Map(m) = item else { continue };
                        let mut cv = ChartVersion::from_map(&m.snapshot())?;
                        if !cv.fields.contains_key("apiVersion") {
                            cv.fields.insert("apiVersion".into(), Value::str("v1"));
                        }
                        if cv.is_loadable() {
                            versions.push(cv);
                        }
                    }
                }
                sort_newest_first(&mut versions);
                entries.insert(name, versions);
            }
        }
        let index = IndexFile {
            api_version: string_field(&map, "apiVersion")?,
            generated: match map.get("generated") {
                Some(Value::String(s)) => s.to_string(),
                _ => time::ZERO_TIME.into(),
            },
            entries,
            public_keys: strings_field(&map, "publicKeys")?,
            server_info: map
                .get("serverInfo")
                .filter(|v| !is_empty_value(v))
                .cloned(),
            annotations: map
                .get("annotations")
                .filter(|v| !is_empty_value(v))
                .cloned(),
        };
        if index.api_version.is_empty() {
            return Err(Error::NoApiVersion);
        }
        Ok(index)
    }

    /// `IndexFile.Has`.
    pub fn has(&self, name: &str, version: &str) -> bool {
        self.entries
            .get(name)
            .is_some_and(|vs| vs.iter().any(|v| v.version == version))
    }

    /// `IndexFile.Add`: appends a version (call [`IndexFile::sort_entries`] afterwards).
    pub fn add(&mut self, version: ChartVersion) {
        self.entries
            .entry(version.name.clone())
            .or_default()
            .push(version);
    }

    /// `IndexFile.SortEntries`: newest version first in every chart.
    pub fn sort_entries(&mut self) {
        for versions in self.entries.values_mut() {
            sort_newest_first(versions);
        }
    }

    /// `IndexFile.Merge`: adds the versions of `other` this index does not have.
    pub fn merge(&mut self, other: &IndexFile) {
        for versions in other.entries.values() {
            for cv in versions {
                if !self.has(&cv.name, &cv.version) {
                    self.add(cv.clone());
                }
            }
        }
    }

    /// `IndexFile.Get`: an exact version string wins, else the newest version satisfying
    /// `version` as a constraint (`*`, so stable versions only, when empty).
    pub fn get(&self, name: &str, version: &str) -> Result<&ChartVersion, Error> {
        let versions = self.entries.get(name).ok_or(Error::NoChartName)?;
        if versions.is_empty() {
            return Err(Error::NoChartVersion);
        }
        let constraints =
            rudder_semver::Constraints::parse(if version.is_empty() { "*" } else { version })
                .map_err(Error::Constraint)?;
        if !version.is_empty() {
            if let Some(cv) = versions.iter().find(|cv| cv.version == version) {
                return Ok(cv);
            }
        }
        versions
            .iter()
            .find(|cv| Version::parse(&cv.version).is_ok_and(|v| constraints.check(&v)))
            .ok_or_else(|| Error::NoMatchingVersion {
                name: name.to_string(),
                version: version.to_string(),
            })
    }

    /// The index as Helm writes it (`yaml.Marshal(IndexFile)`).
    pub fn to_yaml(&self) -> Result<String, Error> {
        let mut m = Map::new();
        m.insert("apiVersion".into(), Value::str(&self.api_version));
        m.insert("generated".into(), Value::str(&self.generated));
        let mut entries = Map::new();
        for (name, versions) in &self.entries {
            entries.insert(
                name.clone(),
                Value::list(versions.iter().map(ChartVersion::to_value).collect()),
            );
        }
        m.insert("entries".into(), Value::map(entries));
        if !self.public_keys.is_empty() {
            m.insert(
                "publicKeys".into(),
                Value::strings(self.public_keys.clone()),
            );
        }
        if let Some(info) = &self.server_info {
            m.insert("serverInfo".into(), info.clone());
        }
        if let Some(annotations) = &self.annotations {
            m.insert("annotations".into(), annotations.clone());
        }
        yaml::to_yaml(&Value::map(m)).map_err(Error::YamlWrite)
    }

    /// The index as `json.MarshalIndent(IndexFile, "", "  ")` writes it (`helm repo index
    /// --json`): keys in the order of Go's struct fields (`IndexFile`, then the embedded
    /// `chart.Metadata` before `ChartVersion`'s own), map keys sorted, no final newline.
    pub fn to_json(&self) -> Result<String, Error> {
        let mut fields = Vec::new();
        if let Some(info) = self.server_info.as_ref().filter(|v| !is_empty_value(v)) {
            fields.push(("serverInfo", JsonNode::Leaf(info.clone())));
        }
        fields.push(("apiVersion", JsonNode::Leaf(Value::str(&self.api_version))));
        fields.push(("generated", JsonNode::Leaf(Value::str(&self.generated))));
        let entries = self
            .entries
            .iter()
            .map(|(name, versions)| {
                let list = versions.iter().map(ChartVersion::to_json_node).collect();
                (name.as_str(), JsonNode::List(list))
            })
            .collect();
        fields.push(("entries", JsonNode::Struct(entries)));
        if !self.public_keys.is_empty() {
            fields.push((
                "publicKeys",
                JsonNode::Leaf(Value::strings(self.public_keys.clone())),
            ));
        }
        if let Some(annotations) = self.annotations.as_ref().filter(|v| !is_empty_value(v)) {
            fields.push(("annotations", JsonNode::Leaf(annotations.clone())));
        }
        let mut out = String::new();
        JsonNode::Struct(fields).write(0, &mut out)?;
        Ok(out)
    }

    /// `IndexFile.WriteJSONFile(dest, 0644)`.
    pub fn write_json(&self, path: &Path) -> Result<(), Error> {
        let data = self.to_json()?;
        fs::write(path, data).map_err(Error::io("open", path))
    }

    /// `IndexFile.WriteFile(dest, 0644)`.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let data = self.to_yaml()?;
        fs::write(path, data).map_err(Error::io("open", path))
    }
}

/// A JSON document whose objects keep a fixed key order (Go structs); leaves are encoded by
/// [`json::to_json_indent`] (Go's encoder: sorted map keys, HTML-safe escaping).
enum JsonNode<'a> {
    Struct(Vec<(&'a str, JsonNode<'a>)>),
    List(Vec<JsonNode<'a>>),
    Leaf(Value),
}

impl JsonNode<'_> {
    /// `json.MarshalIndent` with a two-space indent, this node at `depth`.
    fn write(&self, depth: usize, out: &mut String) -> Result<(), Error> {
        let pad = |out: &mut String, depth: usize| {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        };
        match self {
            JsonNode::Struct(fields) if fields.is_empty() => out.push_str("{}"),
            JsonNode::List(items) if items.is_empty() => out.push_str("[]"),
            JsonNode::Struct(fields) => {
                out.push('{');
                for (i, (key, node)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, depth + 1);
                    out.push_str(&json::to_json(&Value::str(key)).map_err(Error::Json)?);
                    out.push_str(": ");
                    node.write(depth + 1, out)?;
                }
                pad(out, depth);
                out.push('}');
            }
            JsonNode::List(items) => {
                out.push('[');
                for (i, node) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, depth + 1);
                    node.write(depth + 1, out)?;
                }
                pad(out, depth);
                out.push(']');
            }
            JsonNode::Leaf(value) => {
                let text = json::to_json_indent(value, "", "  ").map_err(Error::Json)?;
                out.push_str(&text.replace('\n', &format!("\n{}", "  ".repeat(depth))));
            }
        }
        Ok(())
    }
}

/// A list of Go structs (`[]*Maintainer`, `[]*Dependency`) with their fields in order; a
/// field marked `true` is written even when empty (no `omitempty`).
fn struct_list<'a>(value: &Value, order: &[(&'a str, bool)]) -> JsonNode<'a> {
    let Some(items) = value.to_list() else {
        return JsonNode::Leaf(value.clone());
    };
    JsonNode::List(
        items
            .iter()
            .map(|item| {
                let Some(map) = item.to_map() else {
                    return JsonNode::Leaf(item.clone());
                };
                let fields = order
                    .iter()
                    .filter_map(|(key, always)| {
                        let v = map.get(*key).cloned().unwrap_or_else(|| {
                            if *always {
                                Value::str("")
                            } else {
                                Value::Nil
                            }
                        });
                        (*always || !is_empty_value(&v)).then_some((*key, JsonNode::Leaf(v)))
                    })
                    .collect();
                JsonNode::Struct(fields)
            })
            .collect(),
    )
}
