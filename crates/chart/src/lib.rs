//! Helm charts: the chart model ([`Chart`]), loading it from a folder or an archive
//! ([`load`]), `Chart.yaml` metadata, dependencies (conditions, tags, aliases,
//! import-values), values coalescing, Helm's `--set` syntax and `values.schema.json`
//! validation, and writing a chart back as an archive ([`package`]). Behaviour follows Helm
//! v4.2.3 (pkg/chart/v2 and pkg/chart/common).

#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use rudder_value::{yaml, Map, Value};

pub mod archive_cache;
pub mod cache_store;
pub mod ignore;
pub mod loader;
pub mod log;
pub mod package;
pub mod schema;
pub mod schema_cache;
pub mod strvals;
pub mod values;

pub use loader::{load, load_archive, load_dir, load_files, LoadError};
pub use log::{LogRecord, Logs};
pub use values::{
    coalesce_tables_top, coalesce_values, merge_maps, process_dependencies, to_render_values_check,
    CoalesceError,
};

/// One file of a chart: its path relative to the chart root (`/`-separated) and its bytes.
/// The bytes are shared: a chart's files appear in its `raw` list as well as in `templates`
/// or `files`, and dependency processing copies subcharts (Helm copies pointers there), so a
/// clone of a `File` must not copy its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub name: String,
    /// Reference-counted, and possibly a slice of a larger buffer: the files of an archive
    /// are slices of its inflated tar, never copied out of it.
    pub data: bytes::Bytes,
}

impl File {
    pub fn new(name: impl Into<String>, data: impl Into<bytes::Bytes>) -> File {
        File {
            name: name.into(),
            data: data.into(),
        }
    }
}

/// The JSON field names of Helm's `chart.Metadata`, in its struct order (Chart.yaml's known
/// top-level keys; Helm's strict load rejects any other).
pub const METADATA_FIELDS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];

/// `Chart.yaml` (Helm's `chart.Metadata`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: BTreeMap<String, String>,
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    pub chart_type: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// A dependency entry of `Chart.yaml` (v2) or `requirements.yaml` (v1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    /// Each entry is a string (`"data"`) or a map `{child, parent}`, kept as values.
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// `Chart.lock` / `requirements.lock`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lock {
    pub generated: String,
    pub digest: String,
    pub dependencies: Vec<Dependency>,
}

/// A loaded chart and, in `dependencies`, its subcharts (Helm's `chart.Chart`).
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub metadata: Metadata,
    pub lock: Option<Lock>,
    /// Files under `templates/`, names including the `templates/` prefix.
    pub templates: Vec<File>,
    /// The chart's default values (`values.yaml`), a map (empty if there is none).
    pub values: Value,
    /// The raw bytes of `values.schema.json`, if present.
    pub schema: Option<Vec<u8>>,
    /// Every other file (README, LICENSE, crds/, files for `.Files`, ...).
    pub files: Vec<File>,
    /// Every file as loaded, in load order (Helm's `Raw`).
    pub raw: Vec<File>,
    /// Subcharts, in load order.
    pub dependencies: Vec<Chart>,
    /// For a subchart: the names of its ancestors, root first (Helm's `Parent()` chain).
    pub parents: Vec<String>,
    /// What Helm's loader logs while loading this chart and its subcharts (in that order):
    /// the warnings for `requirements.yaml`/`requirements.lock` in an apiVersion v2 chart.
    pub load_logs: crate::log::Logs,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Helm's `ChartFullPath`: `root/charts/sub/charts/subsub`.
    pub fn full_path(&self) -> String {
        let mut path = String::new();
        for p in &self.parents {
            path.push_str(p);
            path.push_str("/charts/");
        }
        path.push_str(self.name());
        path
    }

    pub fn is_root(&self) -> bool {
        self.parents.is_empty()
    }

    pub fn is_library(&self) -> bool {
        self.metadata.chart_type.eq_ignore_ascii_case("library")
    }

    /// Sets the parent chain of every subchart from this chart down.
    pub fn set_parents(&mut self, parents: Vec<String>) {
        self.parents = parents;
        let mut chain = self.parents.clone();
        chain.push(self.metadata.name.clone());
        for d in &mut self.dependencies {
            d.set_parents(chain.clone());
        }
    }

    /// Helm's `CRDObjects`: files under `crds/` ending in `.yaml`, `.yml` or `.json` (any
    /// case) of this chart and its subcharts.
    pub fn crd_objects(&self) -> Vec<Crd> {
        let mut out = Vec::new();
        for f in &self.files {
            let lower = f.name.to_ascii_lowercase();
            if f.name.starts_with("crds/")
                && (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
            {
                out.push(Crd {
                    name: f.name.clone(),
                    filename: format!("{}/{}", self.full_path(), f.name),
                    text: String::from_utf8_lossy(&f.data).into_owned(),
                });
            }
        }
        for d in &self.dependencies {
            out.extend(d.crd_objects());
        }
        out
    }
}

/// One CRD file of a chart (Helm's `chart.CRD`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crd {
    /// The file's name within its own chart (`crds/x.yaml`), as `helm lint` names it.
    pub name: String,
    /// Its path from the top chart (`top/charts/sub/crds/x.yaml`), as `# Source:` names it.
    pub filename: String,
    pub text: String,
}

/// Go's `filepath.Match` (Unix): `*` and `?` do not match `/`, `[...]` classes (which do
/// match `/`) with `^` negation and ranges, `\` escapes. A malformed pattern matches nothing.
///
/// Hand-written after Go's algorithm, not a backtracking one: the pattern is cut into chunks
/// at its stars and each chunk is placed at the leftmost position where it matches (the last
/// chunk where it also ends the name), so a match costs at most pattern × name steps however
/// many stars a hostile `.helmignore` holds. Malformed patterns are found as lazily as Go
/// finds them (see [`path_match_valid`]).
pub fn path_match(pattern: &str, name: &str) -> bool {
    go_path_match(pattern.as_bytes(), name.as_bytes()).unwrap_or(false)
}

/// Whether Go's `filepath.Match` accepts the pattern, tried as Helm's `.helmignore` parser
/// tries it: against the name `abc` (Go reports `ErrBadPattern` only for the parts it reached).
pub fn path_match_valid(pattern: &str) -> bool {
    go_path_match(pattern.as_bytes(), b"abc").is_ok()
}

/// Go's `ErrBadPattern`.
struct BadPattern;

/// One UTF-8 character at the start of `s` and its length, as Go's `utf8.DecodeRune`:
/// an invalid byte is U+FFFD of length 1.
fn decode_rune(s: &[u8]) -> (char, usize) {
    for len in 1..=s.len().min(4) {
        if let Ok(text) = std::str::from_utf8(&s[..len]) {
            if let Some(c) = text.chars().next() {
                return (c, len);
            }
        }
    }
    (char::REPLACEMENT_CHARACTER, 1)
}

fn go_path_match(mut pattern: &[u8], mut name: &[u8]) -> Result<bool, BadPattern> {
    'chunks: while !pattern.is_empty() {
        let (star, chunk, rest) = split_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&b'/'));
        }
        let last = pattern.is_empty();
        let here = match_chunk(chunk, name);
        if let Ok(Some(after)) = here {
            if after.is_empty() || !last {
                name = after;
                continue;
            }
        }
        here?;
        if star {
            let mut skip = 0;
            while skip < name.len() && name[skip] != b'/' {
                skip += 1;
                match match_chunk(chunk, &name[skip..])? {
                    Some(after) if !last || after.is_empty() => {
                        name = after;
                        continue 'chunks;
                    }
                    _ => {}
                }
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// The leading stars of `pattern` (whether there were any), the chunk up to the next star
/// outside a class, and the rest.
fn split_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let start = pattern.iter().take_while(|&&b| b == b'*').count();
    let pattern = &pattern[start..];
    let mut in_class = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'*' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    (start > 0, &pattern[..i], &pattern[i..])
}

/// Matches a star-free chunk against the start of `s`: what is left of `s`, or `None`.
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> Result<Option<&'a [u8]>, BadPattern> {
    while let Some(&op) = chunk.first() {
        if s.is_empty() {
            return Ok(None);
        }
        match op {
            b'[' => {
                let (c, len) = decode_rune(s);
                s = &s[len..];
                chunk = &chunk[1..];
                if chunk.is_empty() {
                    return Err(BadPattern);
                }
                let negated = chunk[0] == b'^';
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if ranges > 0 && chunk.first() == Some(&b']') {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = class_char(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        let (end, rest) = class_char(&chunk[1..])?;
                        hi = end;
                        chunk = rest;
                    }
                    matched |= lo <= c && c <= hi;
                    ranges += 1;
                }
                if matched == negated {
                    return Ok(None);
                }
            }
            b'?' => {
                if s[0] == b'/' {
                    return Ok(None);
                }
                s = &s[decode_rune(s).1..];
                chunk = &chunk[1..];
            }
            _ => {
                if op == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                }
                if chunk[0] != s[0] {
                    return Ok(None);
                }
                s = &s[1..];
                chunk = &chunk[1..];
            }
        }
    }
    Ok(Some(s))
}

/// One possibly escaped character of a class, and the rest of the chunk, which must not be
/// empty (a class needs its `]`).
fn class_char(chunk: &[u8]) -> Result<(char, &[u8]), BadPattern> {
    let mut chunk = match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(BadPattern),
        Some(_) => chunk,
    };
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let (c, len) = decode_rune(chunk);
    let invalid = c == char::REPLACEMENT_CHARACTER && len == 1;
    let rest = &chunk[len..];
    if invalid || rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((c, rest))
}

/// Helm's `sanitizeString`: every Unicode space becomes an ASCII space and every other
/// character that Go's `unicode.IsPrint` rejects is dropped.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if is_go_print(c) {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

/// Go's `unicode.IsPrint` for a character that is not a space: the general categories
/// letter, mark, number, punctuation and symbol. (The tables here are Unicode 16, Go's are
/// 15: the few characters new in 16 are kept here where Helm drops them.)
fn is_go_print(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    !matches!(
        get_general_category(c),
        G::Control
            | G::Format
            | G::Surrogate
            | G::PrivateUse
            | G::Unassigned
            | G::SpaceSeparator
            | G::LineSeparator
            | G::ParagraphSeparator
    )
}

fn field<'a>(map: &'a Map, name: &str) -> Option<&'a Value> {
    // encoding/json matches struct fields case-insensitively, exact match first.
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn type_error(path: &str, v: &Value, want: &str) -> MetadataError {
    let got = match v {
        Value::List(_) => "array",
        Value::Map(_) => "object",
        Value::Bool(_) => "bool",
        Value::String(_) => "string",
        _ => "number",
    };
    MetadataError::FieldType {
        path: path.to_string(),
        got,
        want: want.to_string(),
    }
}

/// Why a `Chart.yaml` (or `requirements.yaml`) could not be read into [`Metadata`], or why
/// the metadata fails Helm's `Metadata.Validate`; the `Display` is Helm's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// The text is not YAML.
    #[error(transparent)]
    Yaml(#[from] yaml::DecodeError),
    /// A field of another type than Helm's struct has (encoding/json's `UnmarshalTypeError`).
    #[error("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {got} into Go struct field {path} of type {want}")]
    FieldType {
        path: String,
        got: &'static str,
        want: String,
    },
    #[error("validation: chart.metadata.apiVersion is required")]
    ApiVersionRequired,
    #[error("validation: chart.metadata.name is required")]
    NameRequired,
    #[error("validation: chart.metadata.name {0:?} is not allowed")]
    NameNotAllowed(String),
    #[error("validation: chart.metadata.name {0:?} is invalid")]
    NameInvalid(String),
    #[error("validation: chart.metadata.version is required")]
    VersionRequired,
    #[error("validation: chart.metadata.version {0:?} is invalid")]
    VersionInvalid(String),
    #[error("validation: chart.metadata.type must be application or library")]
    TypeInvalid,
    #[error("validation: dependencies must have a name")]
    DependencyNameRequired,
    #[error("validation: dependency {0:?} has disallowed characters in the alias")]
    AliasDisallowed(String),
    #[error("validation: more than one dependency with name or alias {0:?}")]
    DuplicateDependency(String),
}

fn string_field(map: &Map, name: &str, path: &str) -> Result<String, MetadataError> {
    match field(map, name) {
        None | Some(Value::Nil) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(other) => Err(type_error(path, other, "string")),
    }
}

fn bool_field(map: &Map, name: &str, path: &str) -> Result<bool, MetadataError> {
    match field(map, name) {
        None | Some(Value::Nil) => Ok(false),
        Some(Value::String(s)) => match yaml::from_yaml(s) {
            Ok(Value::Bool(b)) => Ok(b),
            _ => Err(type_error(path, &Value::str(""), "bool")),
        },
        Some(other) => Err(type_error(path, other, "bool")),
    }
}

fn strings_field(map: &Map, name: &str, path: &str) -> Result<Vec<String>, MetadataError> {
    match field(map, name) {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::List(l)) => l
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.to_string()),
                Value::Nil => Ok(String::new()),
                other => Err(type_error(path, other, "string")),
            })
            .collect(),
        Some(other) => Err(type_error(path, other, "[]string")),
    }
}

/// Converts a raw-scalar YAML tree (strings as written) back to typed values, for
/// `import-values` entries.
fn typed(v: &Value) -> Value {
    match v {
        Value::String(s) => yaml::from_yaml(s).unwrap_or_else(|_| v.clone()),
        Value::List(l) => Value::list(l.iter().map(typed).collect()),
        Value::Map(m) => Value::map(
            m.read()
                .iter()
                .map(|(k, v)| (k.clone(), typed(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn parse_dependencies(map: &Map, key: &str) -> Result<Vec<Dependency>, MetadataError> {
    let list = match field(map, key) {
        None | Some(Value::Nil) => return Ok(Vec::new()),
        Some(Value::List(l)) => l.clone(),
        Some(other) => {
            return Err(type_error(
                "Metadata.dependencies",
                other,
                "[]*v2.Dependency",
            ))
        }
    };
    let mut out = Vec::new();
    for d in list.iter() {
        let Value::Map(dm) = d else {
            if d.is_nil() {
                continue;
            }
            return Err(type_error("Metadata.dependencies", d, "v2.Dependency"));
        };
        let dm = dm.snapshot();
        let p = "Metadata.dependencies";
        out.push(Dependency {
            name: string_field(&dm, "name", &format!("{p}.name"))?,
            version: string_field(&dm, "version", &format!("{p}.version"))?,
            repository: string_field(&dm, "repository", &format!("{p}.repository"))?,
            condition: string_field(&dm, "condition", &format!("{p}.condition"))?,
            tags: strings_field(&dm, "tags", &format!("{p}.tags"))?,
            enabled: bool_field(&dm, "enabled", &format!("{p}.enabled"))?,
            import_values: match field(&dm, "import-values") {
                Some(Value::List(l)) => l.iter().map(typed).collect(),
                _ => Vec::new(),
            },
            alias: string_field(&dm, "alias", &format!("{p}.alias"))?,
        });
    }
    Ok(out)
}

impl Metadata {
    /// Fills fields from a `Chart.yaml` (or, for v1 charts, `requirements.yaml`) text, as
    /// sigs.k8s.io/yaml unmarshals into Helm's struct: fields present replace, absent stay.
    pub fn merge_yaml(&mut self, text: &str) -> Result<(), MetadataError> {
        let raw = yaml::from_yaml_raw(text).map_err(MetadataError::Yaml)?;
        let map = match raw {
            Value::Nil => return Ok(()),
            Value::Map(m) => m.snapshot(),
            other => return Err(type_error("Metadata", &other, "v2.Metadata")),
        };
        let has = |k: &str| field(&map, k).is_some();
        let m = "Metadata";
        if has("name") {
            self.name = string_field(&map, "name", &format!("{m}.name"))?;
        }
        if has("home") {
            self.home = string_field(&map, "home", &format!("{m}.home"))?;
        }
        if has("sources") {
            self.sources = strings_field(&map, "sources", &format!("{m}.sources"))?;
        }
        if has("version") {
            self.version = string_field(&map, "version", &format!("{m}.version"))?;
        }
        if has("description") {
            self.description = string_field(&map, "description", &format!("{m}.description"))?;
        }
        if has("keywords") {
            self.keywords = strings_field(&map, "keywords", &format!("{m}.keywords"))?;
        }
        if has("maintainers") {
            self.maintainers.clear();
            if let Some(Value::List(l)) = field(&map, "maintainers") {
                for item in l.iter() {
                    if let Value::Map(mm) = item {
                        let mm = mm.snapshot();
                        self.maintainers.push(Maintainer {
                            name: string_field(&mm, "name", "Maintainer.name")?,
                            email: string_field(&mm, "email", "Maintainer.email")?,
                            url: string_field(&mm, "url", "Maintainer.url")?,
                        });
                    }
                }
            }
        }
        if has("icon") {
            self.icon = string_field(&map, "icon", &format!("{m}.icon"))?;
        }
        if has("apiVersion") {
            self.api_version = string_field(&map, "apiVersion", &format!("{m}.apiVersion"))?;
        }
        if has("condition") {
            self.condition = string_field(&map, "condition", &format!("{m}.condition"))?;
        }
        if has("tags") {
            self.tags = string_field(&map, "tags", &format!("{m}.tags"))?;
        }
        if has("appVersion") {
            self.app_version = string_field(&map, "appVersion", &format!("{m}.appVersion"))?;
        }
        if has("deprecated") {
            self.deprecated = bool_field(&map, "deprecated", &format!("{m}.deprecated"))?;
        }
        if has("annotations") {
            self.annotations.clear();
            match field(&map, "annotations") {
                Some(Value::Map(a)) => {
                    for (k, v) in a.snapshot() {
                        match v {
                            Value::String(s) => {
                                self.annotations.insert(k, s.to_string());
                            }
                            Value::Nil => {
                                self.annotations.insert(k, String::new());
                            }
                            other => {
                                return Err(type_error(
                                    &format!("{m}.annotations"),
                                    &other,
                                    "string",
                                ))
                            }
                        }
                    }
                }
                None | Some(Value::Nil) => {}
                Some(other) => {
                    return Err(type_error(
                        &format!("{m}.annotations"),
                        other,
                        "map[string]string",
                    ))
                }
            }
        }
        if has("kubeVersion") {
            self.kube_version = string_field(&map, "kubeVersion", &format!("{m}.kubeVersion"))?;
        }
        if has("dependencies") {
            self.dependencies = parse_dependencies(&map, "dependencies")?;
        }
        if has("type") {
            self.chart_type = string_field(&map, "type", &format!("{m}.type"))?;
        }
        Ok(())
    }

    /// Helm's `Metadata.Validate` (strings sanitised first).
    pub fn validate(&mut self) -> Result<(), MetadataError> {
        // The fields Helm sanitises: not version, apiVersion or type, which are checked as
        // they are written.
        for s in [
            &mut self.name,
            &mut self.description,
            &mut self.home,
            &mut self.icon,
            &mut self.condition,
            &mut self.tags,
            &mut self.app_version,
            &mut self.kube_version,
        ]
        .into_iter()
        .chain(self.sources.iter_mut())
        .chain(self.keywords.iter_mut())
        .chain(
            self.maintainers
                .iter_mut()
                .flat_map(|m| [&mut m.name, &mut m.email, &mut m.url]),
        )
        .chain(self.dependencies.iter_mut().flat_map(|d| {
            [
                &mut d.name,
                &mut d.version,
                &mut d.repository,
                &mut d.condition,
            ]
            .into_iter()
            .chain(d.tags.iter_mut())
        })) {
            *s = sanitize(s);
        }
        if self.api_version.is_empty() {
            return Err(MetadataError::ApiVersionRequired);
        }
        if self.name.is_empty() {
            return Err(MetadataError::NameRequired);
        }
        if self.name == "." || self.name == ".." {
            return Err(MetadataError::NameNotAllowed(self.name.clone()));
        }
        if self.name.contains('/') {
            return Err(MetadataError::NameInvalid(self.name.clone()));
        }
        if self.version.is_empty() {
            return Err(MetadataError::VersionRequired);
        }
        if rudder_semver::Version::parse(&self.version).is_err() {
            return Err(MetadataError::VersionInvalid(self.version.clone()));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return Err(MetadataError::TypeInvalid);
        }
        let mut seen = std::collections::HashSet::new();
        for d in &self.dependencies {
            if d.name.is_empty() {
                return Err(MetadataError::DependencyNameRequired);
            }
            let key = if d.alias.is_empty() {
                &d.name
            } else {
                &d.alias
            };
            if !d.alias.is_empty()
                && !d
                    .alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(MetadataError::AliasDisallowed(d.name.clone()));
            }
            if !seen.insert(key.clone()) {
                return Err(MetadataError::DuplicateDependency(key.clone()));
            }
        }
        Ok(())
    }

    /// The metadata as `helm show chart` prints it: JSON field names, empty fields left out,
    /// through `yaml.Marshal`.
    pub fn to_yaml(&self) -> String {
        let mut m = Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                m.insert(k.to_string(), Value::str(v));
            }
        };
        put("name", &self.name);
        put("home", &self.home);
        put("version", &self.version);
        put("description", &self.description);
        put("icon", &self.icon);
        put("apiVersion", &self.api_version);
        put("condition", &self.condition);
        put("tags", &self.tags);
        put("appVersion", &self.app_version);
        put("kubeVersion", &self.kube_version);
        put("type", &self.chart_type);
        if !self.sources.is_empty() {
            m.insert(
                "sources".into(),
                Value::list(self.sources.iter().map(Value::str).collect()),
            );
        }
        if !self.keywords.is_empty() {
            m.insert(
                "keywords".into(),
                Value::list(self.keywords.iter().map(Value::str).collect()),
            );
        }
        if self.deprecated {
            m.insert("deprecated".into(), Value::Bool(true));
        }
        if !self.annotations.is_empty() {
            m.insert(
                "annotations".into(),
                Value::map(
                    self.annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::str(v)))
                        .collect(),
                ),
            );
        }
        if !self.maintainers.is_empty() {
            let list = self
                .maintainers
                .iter()
                .map(|mt| {
                    let mut e = Map::new();
                    for (k, v) in [("name", &mt.name), ("email", &mt.email), ("url", &mt.url)] {
                        if !v.is_empty() {
                            e.insert(k.into(), Value::str(v));
                        }
                    }
                    Value::map(e)
                })
                .collect();
            m.insert("maintainers".into(), Value::list(list));
        }
        if !self.dependencies.is_empty() {
            let list = self
                .dependencies
                .iter()
                .map(|d| {
                    let mut e = Map::new();
                    e.insert("name".into(), Value::str(&d.name));
                    e.insert("repository".into(), Value::str(&d.repository));
                    for (k, v) in [
                        ("version", &d.version),
                        ("condition", &d.condition),
                        ("alias", &d.alias),
                    ] {
                        if !v.is_empty() {
                            e.insert(k.into(), Value::str(v));
                        }
                    }
                    if !d.tags.is_empty() {
                        e.insert(
                            "tags".into(),
                            Value::list(d.tags.iter().map(Value::str).collect()),
                        );
                    }
                    if d.enabled {
                        e.insert("enabled".into(), Value::Bool(true));
                    }
                    if !d.import_values.is_empty() {
                        e.insert("import-values".into(), Value::list(d.import_values.clone()));
                    }
                    Value::map(e)
                })
                .collect();
            m.insert("dependencies".into(), Value::list(list));
        }
        yaml::to_yaml(&Value::map(m)).unwrap_or_default()
    }
}

/// A release name Helm refuses (`chartutil.ValidateReleaseName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53")]
pub struct InvalidReleaseName;

/// Helm's `chartutil.ValidateReleaseName`.
pub fn validate_release_name(name: &str) -> Result<(), InvalidReleaseName> {
    let valid_label = |label: &str| {
        let b = label.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    };
    if name.is_empty() || name.len() > 53 || !name.split('.').all(valid_label) {
        return Err(InvalidReleaseName);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_strings_as_helm_reads_them() {
        // Checked against helm-python-sdk: Helm reads `version: 1.10` as "1.1" and `0777` as "511".
        let mut m = Metadata::default();
        m.merge_yaml(
            "apiVersion: v2\nname: x\nversion: 1.10\nappVersion: 2.0\ndeprecated: true\ndescription: 0777\n",
        )
        .unwrap();
        assert_eq!(m.version, "1.1");
        assert_eq!(m.app_version, "2");
        assert_eq!(m.description, "511");
        assert!(m.deprecated);
        assert!(m.validate().is_ok());
    }

    #[test]
    fn validation_errors() {
        let mut m = Metadata {
            api_version: "v2".into(),
            name: "x".into(),
            version: "abc".into(),
            ..Default::default()
        };
        assert_eq!(
            m.validate().unwrap_err().to_string(),
            "validation: chart.metadata.version \"abc\" is invalid"
        );
    }

    #[test]
    fn file_path_match() {
        assert!(path_match("templates/*.yaml", "templates/a.yaml"));
        assert!(!path_match("templates/*", "templates/sub/a.yaml"));
        assert!(path_match("[a-c]", "b"));
        assert!(!path_match("[^a-c]", "b"));
    }

    #[test]
    fn file_path_match_follows_go() {
        // Classes match `/`, `?` and `*` do not; a trailing star stops at `/`.
        assert!(path_match("a[/]b", "a/b"));
        assert!(!path_match("a?b", "a/b"));
        assert!(!path_match("a*", "ab/c"));
        assert!(path_match("a*/b", "abc/b"));
        assert!(path_match("*.yaml", "x.yaml"));
        assert!(path_match("*x", "xxx"));
        assert!(path_match("a*b*c", "aXbYbZc"));
        assert!(!path_match("a*b*c", "aXbYbZ"));
        assert!(path_match("\\\\*", "\\x"));
        assert!(path_match("\\*", "*"));
        assert!(!path_match("\\*", "x"));
        assert!(path_match("[\\]]", "]"));
        assert!(path_match("é?", "éñ"));
        assert!(path_match("[à-ï]", "é"));
        // Malformed patterns: Go finds the fault only where matching reaches it, as Helm's
        // `.helmignore` parser does when it tries each rule on "abc".
        assert!(!path_match_valid("a["));
        assert!(!path_match_valid("[]a]"));
        assert!(!path_match_valid("[a-]"));
        assert!(!path_match_valid("\\"));
        assert!(path_match_valid("abc\\"));
        assert!(path_match_valid("x["));
        assert!(!path_match("[", "a"));
    }

    #[test]
    fn many_stars_cost_pattern_times_name() {
        let name = "a".repeat(120);
        let started = std::time::Instant::now();
        assert!(!path_match("*a*a*a*a*a*a*a*a*a*b", &name));
        assert!(path_match("*a*a*a*a*a*a*a*a*a*a", &name));
        assert!(
            started.elapsed() < std::time::Duration::from_millis(50),
            "took {:?}",
            started.elapsed()
        );
    }
}
