//! Registry credentials as Helm keeps them: a Docker-style `config.json` (Helm's own at
//! `HELM_REGISTRY_CONFIG`, default `<config home>/registry/config.json`), whose `auths` map
//! holds, per registry host, `{"auth": base64("user:password")}`. Reads fall back to
//! Docker's own file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), as Helm's
//! client does. Other keys of the file are kept on writes; the file is written owner-only
//! (0600, its folder 0700), tab-indented as Go's `json.MarshalIndent` writes it.
//!
//! Native credential helpers (`credsStore`, `credHelpers`) are not used.

use std::path::{Path, PathBuf};

use rudder_value::json::{from_json, to_json_indent};
use rudder_value::{Map, Value};

use super::{base64_decode, base64_encode, field, Error};

/// A user name and password (or identity token) for one registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: String,
}

/// The key a host's credentials are stored under (`docker.io` is kept under Docker Hub's
/// legacy address, as Docker and ORAS do).
pub fn server_address(host: &str) -> String {
    match host {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => {
            "https://index.docker.io/v1/".into()
        }
        _ => host.to_string(),
    }
}

/// The host part of a stored key (`https://host/v1/` and `host` both name `host`).
fn key_host(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn read_config(path: &Path) -> Result<Option<Map>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::ReadConfig {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if text.trim().is_empty() {
        return Ok(Some(Map::new()));
    }
    match from_json(&text) {
        Ok(Value::Map(d)) => Ok(Some(d.snapshot())),
        Ok(_) => Err(Error::ConfigNotObject {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(Error::DecodeConfig {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn entry_credential(entry: &Value) -> Option<Credential> {
    let field = |k: &str| {
        field(entry, k)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let auth = field("auth");
    if !auth.is_empty() {
        let decoded = String::from_utf8(base64_decode(&auth)?).ok()?;
        let (user, pass) = decoded.split_once(':')?;
        return Some(Credential {
            username: user.to_string(),
            password: pass.to_string(),
        });
    }
    let (username, password) = (field("username"), field("password"));
    if username.is_empty() && password.is_empty() {
        return None;
    }
    Some(Credential { username, password })
}

fn lookup(config: &Map, host: &str) -> Option<Credential> {
    let auths = config.get("auths")?.to_map()?;
    let key = server_address(host);
    if let Some(entry) = auths.get(&key) {
        return entry_credential(entry);
    }
    auths
        .iter()
        .find(|(k, _)| key_host(k) == key_host(&key))
        .and_then(|(_, v)| entry_credential(v))
}

/// Docker's own config file, read as a fallback.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// Helm's registry credentials file (and Docker's as a read-only fallback).
#[derive(Clone, Debug)]
pub struct Store {
    pub path: PathBuf,
    pub fallback: Option<PathBuf>,
}

impl Store {
    /// The store at `path`, falling back to Docker's config for reads.
    pub fn new(path: impl Into<PathBuf>) -> Store {
        Store {
            path: path.into(),
            fallback: docker_config_path(),
        }
    }

    /// The credential stored for `host`, if any.
    pub fn get(&self, host: &str) -> Result<Option<Credential>, Error> {
        if let Some(config) = read_config(&self.path)? {
            if let Some(c) = lookup(&config, host) {
                return Ok(Some(c));
            }
        }
        if let Some(fallback) = &self.fallback {
            // A broken Docker file must not break Helm's own.
            if let Ok(Some(config)) = read_config(fallback) {
                return Ok(lookup(&config, host));
            }
        }
        Ok(None)
    }

    /// Stores `credential` for `host` in Helm's file.
    pub fn put(&self, host: &str, credential: &Credential) -> Result<(), Error> {
        let mut config = read_config(&self.path)?.unwrap_or_default();
        let mut auths = config
            .get("auths")
            .and_then(Value::to_map)
            .unwrap_or_default();
        let mut entry = Map::new();
        entry.insert(
            "auth".into(),
            Value::str(base64_encode(
                format!("{}:{}", credential.username, credential.password).as_bytes(),
            )),
        );
        auths.insert(server_address(host), Value::map(entry));
        config.insert("auths".into(), Value::map(auths));
        self.write(&config)
    }

    /// Removes `host`'s credential from Helm's file; the file is left untouched when there
    /// is none.
    pub fn remove(&self, host: &str) -> Result<bool, Error> {
        let Some(mut config) = read_config(&self.path)? else {
            return Ok(false);
        };
        let Some(mut auths) = config.get("auths").and_then(Value::to_map) else {
            return Ok(false);
        };
        if auths.remove(&server_address(host)).is_none() {
            return Ok(false);
        }
        config.insert("auths".into(), Value::map(auths));
        self.write(&config)?;
        Ok(true)
    }

    fn write(&self, config: &Map) -> Result<(), Error> {
        let text =
            to_json_indent(&Value::map(config.clone()), "", "\t").map_err(Error::EncodeConfig)?;
        write_private_atomic(&self.path, text.as_bytes())
    }
}

/// Writes `data` to `path` through a temporary file in the same folder, owner-only; the
/// folder is created owner-only when missing.
fn write_private_atomic(path: &Path, data: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|source| Error::CreateConfigFolder {
            dir: dir.to_path_buf(),
            source,
        })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.json".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(data).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(source) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::SaveConfig {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_remove_keep_other_keys_and_private_mode() {
        let dir = std::env::temp_dir().join(format!("rudder-oci-cred-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("registry/config.json");
        let store = Store {
            path: path.clone(),
            fallback: None,
        };
        assert_eq!(store.get("127.0.0.1:5000").unwrap(), None);
        let cred = Credential {
            username: "alice".into(),
            password: "s3cret".into(),
        };
        store.put("127.0.0.1:5000", &cred).unwrap();
        // The exact layout Helm's client writes.
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5000\": {\n\t\t\t\"auth\": \"YWxpY2U6czNjcmV0\"\n\t\t}\n\t}\n}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert_eq!(store.get("127.0.0.1:5000").unwrap(), Some(cred.clone()));

        std::fs::write(
            &path,
            r#"{"auths":{"https://other.example.com/v1/":{"username":"u","password":"p"}},"custom":"kept"}"#,
        )
        .unwrap();
        assert_eq!(
            store.get("other.example.com").unwrap(),
            Some(Credential {
                username: "u".into(),
                password: "p".into()
            })
        );
        store.put("127.0.0.1:5000", &cred).unwrap();
        assert!(store.remove("127.0.0.1:5000").unwrap());
        assert!(!store.remove("127.0.0.1:5000").unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"custom\": \"kept\""), "{text}");
        assert!(text.contains("other.example.com"), "{text}");
        assert!(!text.contains("127.0.0.1"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
