//! `repositories.yaml`: the repositories `helm repo add` records.
//!
//! Fields and their spelling follow Helm's `repo.File` and `repo.Entry` JSON tags; none is
//! `omitempty`, so every entry is written with all nine keys (sorted, as go-yaml writes a
//! JSON object).

use std::fs;
use std::io::Write;
use std::path::Path;

pub(crate) use rudder_value::goio::io_error_text;
use rudder_value::{yaml, Map, Value};

use crate::{time, Error};

/// One configured repository (`repo.Entry`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoEntry {
    pub name: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    pub insecure_skip_tls_verify: bool,
    pub pass_credentials_all: bool,
}

/// The whole file (`repo.File`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoFile {
    pub api_version: String,
    /// Kept as the text read (Go's `time.Time` JSON form) so rewriting keeps it.
    pub generated: String,
    pub repositories: Vec<RepoEntry>,
}

impl Default for RepoFile {
    /// `repo.NewFile`: API version v1, generated now, no repositories.
    fn default() -> RepoFile {
        RepoFile {
            api_version: "v1".into(),
            generated: time::now(),
            repositories: Vec::new(),
        }
    }
}

fn text(map: &Map, key: &str) -> Result<String, Error> {
    match map.get(key) {
        None | Some(Value::Nil) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(other) => Err(Error::Unmarshal(format!(
            "while decoding JSON: json: cannot unmarshal {} into Go struct field of type string",
            json_kind(other)
        ))),
    }
}

fn flag(map: &Map, key: &str) -> Result<bool, Error> {
    match map.get(key) {
        None | Some(Value::Nil) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::Unmarshal(format!(
            "while decoding JSON: json: cannot unmarshal {} into Go struct field of type bool",
            json_kind(other)
        ))),
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::List(_) | Value::Strings(_) => "array",
        Value::Map(_) => "object",
        _ => "number",
    }
}

impl RepoEntry {
    fn from_map(map: &Map) -> Result<RepoEntry, Error> {
        Ok(RepoEntry {
            name: text(map, "name")?,
            url: text(map, "url")?,
            username: text(map, "username")?,
            password: text(map, "password")?,
            cert_file: text(map, "certFile")?,
            key_file: text(map, "keyFile")?,
            ca_file: text(map, "caFile")?,
            insecure_skip_tls_verify: flag(map, "insecure_skip_tls_verify")?,
            pass_credentials_all: flag(map, "pass_credentials_all")?,
        })
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in [
            ("name", &self.name),
            ("url", &self.url),
            ("username", &self.username),
            ("password", &self.password),
            ("certFile", &self.cert_file),
            ("keyFile", &self.key_file),
            ("caFile", &self.ca_file),
        ] {
            m.insert(k.into(), Value::str(v));
        }
        m.insert(
            "insecure_skip_tls_verify".into(),
            Value::Bool(self.insecure_skip_tls_verify),
        );
        m.insert(
            "pass_credentials_all".into(),
            Value::Bool(self.pass_credentials_all),
        );
        Value::map(m)
    }
}

impl RepoFile {
    /// `repo.LoadFile`: a missing or unreadable file is an error (callers such as
    /// `repo add` treat "not found" as an empty file).
    pub fn load(path: &Path) -> Result<RepoFile, Error> {
        let data = fs::read_to_string(path).map_err(|source| Error::LoadRepositories {
            path: path.to_path_buf(),
            source,
        })?;
        RepoFile::parse(&data)
    }

    /// Parses the file's text (`sigs.k8s.io/yaml` into `repo.File`).
    pub fn parse(data: &str) -> Result<RepoFile, Error> {
        let doc = yaml::from_yaml(data).map_err(Error::Yaml)?;
        let map = match &doc {
            Value::Nil => Map::new(),
            Value::Map(d) => d.snapshot(),
            other => {
                return Err(Error::Unmarshal(format!(
                "while decoding JSON: json: cannot unmarshal {} into Go value of type repo.File",
                json_kind(other)
            )))
            }
        };
        let mut repositories = Vec::new();
        match map.get("repositories") {
            None | Some(Value::Nil) => {}
            Some(v) => {
                let items = v
                    .to_list()
                    .ok_or_else(|| Error::Unmarshal("repositories is not a list".into()))?;
                for item in items.iter() {
                    match item {
                        // A null entry is a nil *Entry, which Helm skips everywhere.
                        Value::Nil => {}
                        Value::Map(d) => repositories.push(RepoEntry::from_map(&d.snapshot())?),
                        other => {
                            return Err(Error::Unmarshal(format!(
                                "while decoding JSON: json: cannot unmarshal {} into Go struct field File.repositories of type repo.Entry",
                                json_kind(other)
                            )))
                        }
                    }
                }
            }
        }
        Ok(RepoFile {
            api_version: text(&map, "apiVersion")?,
            generated: match map.get("generated") {
                Some(Value::String(s)) => s.to_string(),
                _ => time::ZERO_TIME.into(),
            },
            repositories,
        })
    }

    /// `File.Get`.
    pub fn get(&self, name: &str) -> Option<&RepoEntry> {
        self.repositories.iter().find(|r| r.name == name)
    }

    /// `File.Has`.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `File.Update`: replace the entry of the same name, or append.
    pub fn update(&mut self, entry: RepoEntry) {
        match self.repositories.iter_mut().find(|r| r.name == entry.name) {
            Some(existing) => *existing = entry,
            None => self.repositories.push(entry),
        }
    }

    /// `File.Remove`: true when an entry was removed.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.repositories.len();
        self.repositories.retain(|r| r.name != name);
        self.repositories.len() != before
    }

    /// The file's YAML as Helm writes it.
    pub fn to_yaml(&self) -> Result<String, Error> {
        let mut m = Map::new();
        m.insert("apiVersion".into(), Value::str(&self.api_version));
        m.insert("generated".into(), Value::str(&self.generated));
        m.insert(
            "repositories".into(),
            Value::list(self.repositories.iter().map(RepoEntry::to_value).collect()),
        );
        yaml::to_yaml(&Value::map(m)).map_err(Error::YamlWrite)
    }

    /// `File.WriteFile(path, 0600)`: parent directories made, the file owner-only.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let data = self.to_yaml()?;
        write_private(path, data.as_bytes())
    }
}

/// Writes `data` to `path` readable and writable by the owner only, creating parents.
pub(crate) fn write_private(path: &Path, data: &[u8]) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(Error::io("mkdir", parent))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(Error::io("open", path))?;
    file.write_all(data).map_err(Error::io("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_fields_and_layout() {
        let text = "apiVersion: v1\ngenerated: \"2026-01-02T03:04:05.5Z\"\nrepositories:\n- name: a\n  url: https://a.example\n  pass_credentials_all: true\n- null\n";
        let mut f = RepoFile::parse(text).unwrap();
        assert_eq!(f.repositories.len(), 1);
        assert!(f.get("a").unwrap().pass_credentials_all);
        f.update(RepoEntry {
            name: "b".into(),
            url: "http://b".into(),
            ..Default::default()
        });
        assert_eq!(
            f.to_yaml().unwrap(),
            "apiVersion: v1\ngenerated: \"2026-01-02T03:04:05.5Z\"\nrepositories:\n- caFile: \"\"\n  certFile: \"\"\n  insecure_skip_tls_verify: false\n  keyFile: \"\"\n  name: a\n  pass_credentials_all: true\n  password: \"\"\n  url: https://a.example\n  username: \"\"\n- caFile: \"\"\n  certFile: \"\"\n  insecure_skip_tls_verify: false\n  keyFile: \"\"\n  name: b\n  pass_credentials_all: false\n  password: \"\"\n  url: http://b\n  username: \"\"\n"
        );
        assert!(f.remove("a"));
        assert!(!f.remove("a"));
    }

    #[test]
    fn written_owner_only() {
        let dir = std::env::temp_dir().join(format!("rudder-repofile-{}", std::process::id()));
        let path = dir.join("sub/repositories.yaml");
        RepoFile::default().write(&path).unwrap();
        let back = RepoFile::load(&path).unwrap();
        assert_eq!(back.api_version, "v1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let none = dir.join("none.yaml");
        let missing = RepoFile::load(&none).unwrap_err();
        assert!(missing.is_not_found());
        assert_eq!(
            missing.to_string(),
            format!(
                "couldn't load repositories file ({}): no such file or directory",
                none.display()
            )
        );
        assert!(std::error::Error::source(&missing).is_some());
        fs::remove_dir_all(&dir).unwrap();
    }
}
