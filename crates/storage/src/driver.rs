//! Storage drivers: where release records live (Helm's `pkg/storage/driver`).
//!
//! Each driver stores one record per release revision under the key
//! `sh.helm.release.v1.<name>.v<revision>` and answers label queries over the system labels
//! `name`, `owner`, `status` and `version`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rudder_kube::{Kube, ObjectRef, Propagation};
use serde_json::{json, Value as Json};

use crate::release::{decode, encode, Release};
use crate::Error;

/// Labels the drivers own; user labels may not use them.
pub const SYSTEM_LABELS: &[&str] = &[
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];

pub trait Driver: Send + Sync {
    /// `Secret`, `ConfigMap`, `Memory` or `SQL`, as Helm names its drivers.
    fn name(&self) -> &'static str;
    fn get(&self, key: &str) -> Result<Release, Error>;
    /// Every record, in no particular order.
    fn list(&self) -> Result<Vec<Release>, Error>;
    /// Records whose labels include all of `labels`; [`Error::NotFound`] when none do.
    fn query(&self, labels: &[(&str, &str)]) -> Result<Vec<Release>, Error>;
    fn create(&self, key: &str, release: &Release) -> Result<(), Error>;
    fn update(&self, key: &str, release: &Release) -> Result<(), Error>;
    fn delete(&self, key: &str) -> Result<Release, Error>;
}

/// The labels a record is stored with: the user's, then the system labels over them.
pub fn record_labels(release: &Release) -> BTreeMap<String, String> {
    let mut labels = release.labels.clone();
    labels.insert("name".into(), release.name.clone());
    labels.insert("owner".into(), "helm".into());
    labels.insert("status".into(), release.status().to_string());
    labels.insert("version".into(), release.version.to_string());
    labels
}

fn unix_now() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}

fn matches(labels: &BTreeMap<String, String>, want: &[(&str, &str)]) -> bool {
    want.iter()
        .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
}

/// Keeps releases in memory (`HELM_DRIVER=memory`): for dry runs and unit tests.
#[derive(Default)]
pub struct Memory {
    records: Mutex<BTreeMap<(String, String), Release>>,
    namespace: String,
}

impl Memory {
    /// A memory driver seeing `namespace` (empty: every namespace).
    pub fn new(namespace: &str) -> Memory {
        Memory {
            records: Mutex::default(),
            namespace: namespace.to_string(),
        }
    }

    fn visible(&self, r: &Release) -> bool {
        self.namespace.is_empty() || r.namespace == self.namespace
    }
}

impl Driver for Memory {
    fn name(&self) -> &'static str {
        "Memory"
    }

    fn get(&self, key: &str) -> Result<Release, Error> {
        let records = self.records.lock().unwrap();
        records
            .iter()
            .find(|((_, k), r)| k == key && self.visible(r))
            .map(|(_, r)| r.clone())
            .ok_or(Error::NotFound)
    }

    fn list(&self) -> Result<Vec<Release>, Error> {
        let records = self.records.lock().unwrap();
        Ok(records
            .values()
            .filter(|r| self.visible(r))
            .cloned()
            .collect())
    }

    fn query(&self, labels: &[(&str, &str)]) -> Result<Vec<Release>, Error> {
        let found: Vec<Release> = self
            .list()?
            .into_iter()
            .filter(|r| matches(&record_labels(r), labels))
            .collect();
        if found.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(found)
    }

    fn create(&self, key: &str, release: &Release) -> Result<(), Error> {
        let mut records = self.records.lock().unwrap();
        let id = (release.namespace.clone(), key.to_string());
        if records.contains_key(&id) {
            return Err(Error::Exists);
        }
        records.insert(id, release.clone());
        Ok(())
    }

    fn update(&self, key: &str, release: &Release) -> Result<(), Error> {
        let mut records = self.records.lock().unwrap();
        let id = (release.namespace.clone(), key.to_string());
        if !records.contains_key(&id) {
            return Err(Error::NotFound);
        }
        records.insert(id, release.clone());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<Release, Error> {
        let mut records = self.records.lock().unwrap();
        let id = records
            .iter()
            .find(|((_, k), r)| k == key && self.visible(r))
            .map(|(id, _)| id.clone())
            .ok_or(Error::NotFound)?;
        Ok(records.remove(&id).expect("present"))
    }
}

/// Which Kubernetes object holds the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// `HELM_DRIVER=secret` (the default): type `helm.sh/release.v1`, body base64 once more
    /// because Secret data is bytes.
    Secret,
    /// `HELM_DRIVER=configmap`.
    ConfigMap,
}

/// Releases kept in Secrets or ConfigMaps of one namespace (empty: all namespaces, for
/// listing).
pub struct KubeObjects<'k> {
    kube: &'k Kube,
    kind: ObjectKind,
    namespace: String,
}

impl<'k> KubeObjects<'k> {
    pub fn new(kube: &'k Kube, kind: ObjectKind, namespace: &str) -> KubeObjects<'k> {
        KubeObjects {
            kube,
            kind,
            namespace: namespace.to_string(),
        }
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            ObjectKind::Secret => "Secret",
            ObjectKind::ConfigMap => "ConfigMap",
        }
    }

    fn object_ref(&self, key: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: self.kind_name().into(),
            namespace: self.namespace.clone(),
            name: key.to_string(),
        }
    }

    fn encode_object(&self, key: &str, release: &Release, time_label: &str) -> Result<Json, Error> {
        let body = encode(release).map_err(Error::Codec)?;
        let mut labels = record_labels(release);
        labels.insert(time_label.to_string(), unix_now());
        let mut obj = json!({
            "apiVersion": "v1",
            "kind": self.kind_name(),
            "metadata": {"name": key, "namespace": release.namespace, "labels": labels},
        });
        match self.kind {
            ObjectKind::Secret => {
                obj["type"] = json!("helm.sh/release.v1");
                obj["data"] = json!({
                    "release": base64::engine::general_purpose::STANDARD.encode(body.as_bytes())
                });
            }
            ObjectKind::ConfigMap => obj["data"] = json!({ "release": body }),
        }
        Ok(obj)
    }

    fn decode_object(&self, obj: &Json) -> Result<Release, Error> {
        let data = obj["data"]["release"].as_str().unwrap_or_default();
        let text = match self.kind {
            ObjectKind::Secret => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| Error::Codec(format!("decoding secret data: {e}")))?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            ObjectKind::ConfigMap => data.to_string(),
        };
        let mut release = decode(&text).map_err(Error::Codec)?;
        if let Some(labels) = obj["metadata"]["labels"].as_object() {
            release.labels = labels
                .iter()
                .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
        }
        Ok(release)
    }

    fn list_selected(&self, selector: &str) -> Result<Vec<Release>, Error> {
        let items = self
            .kube
            .list("v1", self.kind_name(), &self.namespace, selector)
            .map_err(Error::Kube)?;
        let mut out = Vec::new();
        for item in &items {
            // Helm skips records it cannot decode rather than failing the whole list.
            if let Ok(r) = self.decode_object(item) {
                out.push(r);
            }
        }
        Ok(out)
    }
}

impl Driver for KubeObjects<'_> {
    fn name(&self) -> &'static str {
        self.kind_name()
    }

    fn get(&self, key: &str) -> Result<Release, Error> {
        match self.kube.get(&self.object_ref(key)).map_err(Error::Kube)? {
            Some(obj) => self.decode_object(&obj),
            None => Err(Error::NotFound),
        }
    }

    fn list(&self) -> Result<Vec<Release>, Error> {
        self.list_selected("owner=helm")
            .map_err(|e| Error::Other(format!("list: failed to list: {e}")))
    }

    fn query(&self, labels: &[(&str, &str)]) -> Result<Vec<Release>, Error> {
        let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let found = self
            .list_selected(&selector.join(","))
            .map_err(|e| Error::Other(format!("query: failed to query with labels: {e}")))?;
        if found.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(found)
    }

    fn create(&self, key: &str, release: &Release) -> Result<(), Error> {
        let obj = self.encode_object(key, release, "createdAt")?;
        match self.kube.create(&obj, &release.namespace) {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Err(Error::Exists),
            Err(e) => Err(Error::Kube(e)),
        }
    }

    fn update(&self, key: &str, release: &Release) -> Result<(), Error> {
        let obj = self.encode_object(key, release, "modifiedAt")?;
        self.kube
            .replace(&obj, &release.namespace)
            .map(|_| ())
            .map_err(|e| {
                if e.is_not_found() {
                    Error::NotFound
                } else {
                    Error::Kube(e)
                }
            })
    }

    fn delete(&self, key: &str) -> Result<Release, Error> {
        let release = self.get(key)?;
        let mut target = self.object_ref(key);
        target.namespace = release.namespace.clone();
        self.kube
            .delete(&target, Propagation::Background)
            .map_err(Error::Kube)?;
        Ok(release)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::status;

    fn release(name: &str, version: i64, st: &str) -> Release {
        let mut r = Release {
            name: name.into(),
            version,
            namespace: "default".into(),
            ..Release::default()
        };
        r.set_status(st, "");
        r
    }

    #[test]
    fn memory_queries_by_system_labels() {
        let m = Memory::new("default");
        m.create("k1", &release("a", 1, status::SUPERSEDED))
            .unwrap();
        m.create("k2", &release("a", 2, status::DEPLOYED)).unwrap();
        m.create("k3", &release("b", 1, status::DEPLOYED)).unwrap();
        assert!(matches!(
            m.create("k3", &release("b", 1, status::DEPLOYED)),
            Err(Error::Exists)
        ));
        let deployed = m.query(&[("name", "a"), ("status", "deployed")]).unwrap();
        assert_eq!(deployed.len(), 1);
        assert_eq!(deployed[0].version, 2);
        assert!(matches!(m.query(&[("name", "c")]), Err(Error::NotFound)));
        assert_eq!(m.delete("k1").unwrap().version, 1);
        assert_eq!(m.list().unwrap().len(), 2);
    }

    #[test]
    fn memory_namespaces_are_separate() {
        let all = Memory::new("");
        let mut other = release("a", 1, status::DEPLOYED);
        other.namespace = "other".into();
        all.create("k", &other).unwrap();
        all.create("k", &release("a", 1, status::DEPLOYED)).unwrap();
        assert_eq!(all.list().unwrap().len(), 2);
    }
}
