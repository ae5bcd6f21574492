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

/// The most data one Secret or ConfigMap may hold: the API server refuses more than 1 MiB
/// (Kubernetes' `MaxSecretSize`, which ConfigMaps share).
pub const MAX_OBJECT_DATA: usize = 1 << 20;

/// On a record stored split: how many parts hold it.
pub const PARTS_ANNOTATION: &str = "rudder.sh/release-parts";
/// On a record stored split: the SHA-256 (hex) of the whole encoded record, which its parts'
/// names begin with and which is checked when they are put back together.
pub const DIGEST_ANNOTATION: &str = "rudder.sh/release-sha256";
/// The Secret type of a part (Helm lists only `owner=helm`, which parts are not).
const PART_TYPE: &str = "rudder.sh/release-part.v1";
/// The data key of a part.
const PART_DATA: &str = "part";

/// Where a split record's parts live: `<key>.<first 16 hex of the digest>.<n>`, n from 1.
/// The digest in the name keeps two writers of one key (a lost race) from overwriting each
/// other's parts.
pub fn part_name(key: &str, digest: &str, n: usize) -> String {
    format!("{key}.{}.{n}", &digest[..16.min(digest.len())])
}

/// Cuts an encoded record (ASCII base64) into parts that each fit in one object.
pub fn split_record(body: &str) -> Vec<&str> {
    body.as_bytes()
        .chunks(MAX_OBJECT_DATA)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect()
}

/// Hex SHA-256 of an encoded record.
pub fn record_digest(body: &str) -> String {
    use sha2::Digest as _;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(body.as_bytes()))
}

/// How a stored record object is split, if it is: (digest, number of parts).
fn split_of(obj: &Json) -> Option<(String, usize)> {
    let annotations = &obj["metadata"]["annotations"];
    let parts = annotations[PARTS_ANNOTATION].as_str()?.parse().ok()?;
    let digest = annotations[DIGEST_ANNOTATION].as_str()?.to_string();
    Some((digest, parts))
}

/// Releases kept in Secrets or ConfigMaps of one namespace (empty: all namespaces, for
/// listing).
///
/// A record is one object in Helm's format whenever it fits (1 MiB of data). A larger one
/// the API server refuses, as it does Helm's, unless splitting is on
/// ([`KubeObjects::split_large_records`], `RUDDER_SPLIT_LARGE_RELEASES=true`): then the
/// record object keeps its name, type and labels (so history, status and locking by name work
/// as before) but holds no data; annotations give the digest and count of its parts, each an
/// object of its own ([`part_name`]) labelled `owner=rudder`. Parts are written before the
/// record object points at them, and old ones deleted after, so a reader never sees a record
/// that is half written. rudder reads split records whatever the setting; Helm skips them as
/// records it cannot decode.
pub struct KubeObjects<'k> {
    kube: &'k Kube,
    kind: ObjectKind,
    namespace: String,
    split_large: bool,
}

impl<'k> KubeObjects<'k> {
    pub fn new(kube: &'k Kube, kind: ObjectKind, namespace: &str) -> KubeObjects<'k> {
        KubeObjects {
            kube,
            kind,
            namespace: namespace.to_string(),
            split_large: false,
        }
    }

    /// Stores records over [`MAX_OBJECT_DATA`] split across several objects instead of
    /// letting the API server refuse them.
    pub fn split_large_records(mut self, on: bool) -> KubeObjects<'k> {
        self.split_large = on;
        self
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            ObjectKind::Secret => "Secret",
            ObjectKind::ConfigMap => "ConfigMap",
        }
    }

    fn object_ref(&self, key: &str) -> ObjectRef {
        self.object_ref_in(&self.namespace, key)
    }

    fn object_ref_in(&self, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: self.kind_name().into(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// An object of this driver's kind holding `data` under `data_key`.
    fn data_object(
        &self,
        name: &str,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        secret_type: &str,
        data_key: &str,
        data: &str,
    ) -> Json {
        let mut obj = json!({
            "apiVersion": "v1",
            "kind": self.kind_name(),
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
        });
        match self.kind {
            ObjectKind::Secret => {
                obj["type"] = json!(secret_type);
                obj["data"] = json!({
                    data_key: base64::engine::general_purpose::STANDARD.encode(data.as_bytes())
                });
            }
            ObjectKind::ConfigMap => obj["data"] = json!({ data_key: data }),
        }
        obj
    }

    /// The text under `data_key` of a stored object.
    fn data_text(&self, obj: &Json, data_key: &str) -> Result<String, Error> {
        let data = obj["data"][data_key].as_str().unwrap_or_default();
        Ok(match self.kind {
            ObjectKind::Secret => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| Error::Codec(format!("decoding secret data: {e}")))?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            ObjectKind::ConfigMap => data.to_string(),
        })
    }

    fn decode_object(&self, obj: &Json) -> Result<Release, Error> {
        let text = match split_of(obj) {
            Some((digest, parts)) => self.read_parts(obj, &digest, parts)?,
            None => self.data_text(obj, "release")?,
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

    /// Puts a split record back together from its parts, checking its digest.
    fn read_parts(&self, obj: &Json, digest: &str, parts: usize) -> Result<String, Error> {
        let key = obj["metadata"]["name"].as_str().unwrap_or_default();
        let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default();
        let mut text = String::new();
        for n in 1..=parts {
            let name = part_name(key, digest, n);
            let part = self
                .kube
                .get(&self.object_ref_in(namespace, &name))
                .map_err(Error::Kube)?
                .ok_or_else(|| {
                    Error::Codec(format!(
                        "release record {key} is split in {parts} parts and part {name} is missing"
                    ))
                })?;
            text.push_str(&self.data_text(&part, PART_DATA)?);
        }
        if record_digest(&text) != digest {
            return Err(Error::Codec(format!(
                "release record {key}: its {parts} parts do not match its digest {digest}"
            )));
        }
        Ok(text)
    }

    /// Writes the parts of a record too large for one object; returns the digest and count.
    fn write_parts(
        &self,
        key: &str,
        release: &Release,
        body: &str,
    ) -> Result<(String, usize), Error> {
        let digest = record_digest(body);
        let pieces = split_record(body);
        let labels: BTreeMap<String, String> = [
            ("name".to_string(), release.name.clone()),
            ("owner".to_string(), "rudder".to_string()),
            ("version".to_string(), release.version.to_string()),
        ]
        .into();
        for (i, piece) in pieces.iter().enumerate() {
            let name = part_name(key, &digest, i + 1);
            let obj = self.data_object(
                &name,
                &release.namespace,
                &labels,
                PART_TYPE,
                PART_DATA,
                piece,
            );
            // A part of this digest already there (a retried write) holds the same bytes.
            match self.kube.create(&obj, &release.namespace) {
                Ok(_) => {}
                Err(e) if e.is_already_exists() => {
                    self.kube
                        .replace(&obj, &release.namespace)
                        .map_err(Error::Create)?;
                }
                Err(e) => return Err(Error::Create(e)),
            }
        }
        Ok((digest, pieces.len()))
    }

    /// Deletes the parts of a split record (best effort: a leftover part is only garbage).
    fn delete_parts(&self, key: &str, namespace: &str, digest: &str, parts: usize) {
        for n in 1..=parts {
            let name = part_name(key, digest, n);
            let _ = self.kube.delete(
                &self.object_ref_in(namespace, &name),
                Propagation::Background,
            );
        }
    }

    /// Creates or replaces the record object of `key`, split when it must and may be.
    fn write(&self, key: &str, release: &Release, create: bool) -> Result<(), Error> {
        let body = encode(release).map_err(Error::Codec)?;
        let namespace = &release.namespace;
        let previous = if create {
            None
        } else {
            match self.kube.get(&self.object_ref_in(namespace, key)) {
                Ok(Some(old)) => split_of(&old),
                Ok(None) => return Err(Error::NotFound),
                Err(e) => return Err(Error::Update(e)),
            }
        };
        let mut labels = record_labels(release);
        labels.insert(
            if create { "createdAt" } else { "modifiedAt" }.to_string(),
            unix_now(),
        );
        let too_large = body.len() > MAX_OBJECT_DATA;
        let mut obj;
        let mut split = None;
        if too_large && self.split_large {
            let (digest, parts) = self.write_parts(key, release, &body)?;
            obj = self.data_object(key, namespace, &labels, RECORD_TYPE, "release", "");
            obj["metadata"]["annotations"] = json!({
                PARTS_ANNOTATION: parts.to_string(),
                DIGEST_ANNOTATION: digest,
            });
            split = Some((digest, parts));
        } else {
            obj = self.data_object(key, namespace, &labels, RECORD_TYPE, "release", &body);
        }
        let sent = if create {
            self.kube.create(&obj, namespace)
        } else {
            self.kube.replace(&obj, namespace)
        };
        match sent {
            Ok(_) => {
                if let Some((digest, parts)) = previous {
                    if split.as_ref().map(|(d, _)| d) != Some(&digest) {
                        self.delete_parts(key, namespace, &digest, parts);
                    }
                }
                Ok(())
            }
            Err(e) => {
                if let Some((digest, parts)) = &split {
                    // Unless the record there is this very one (its writer's parts are ours).
                    let theirs = match self.kube.get(&self.object_ref_in(namespace, key)) {
                        Ok(Some(there)) => split_of(&there).map(|(d, _)| d),
                        _ => None,
                    };
                    if theirs.as_ref() != Some(digest) {
                        self.delete_parts(key, namespace, digest, *parts);
                    }
                }
                Err(self.write_error(e, create, too_large, body.len()))
            }
        }
    }

    fn write_error(
        &self,
        e: rudder_kube::Error,
        create: bool,
        too_large: bool,
        size: usize,
    ) -> Error {
        if create && e.is_already_exists() {
            return Error::Exists;
        }
        if !create && e.is_not_found() {
            return Error::NotFound;
        }
        let invalid = matches!(&e, rudder_kube::Error::Api { code: 422, .. });
        let refused = if create {
            Error::Create(e)
        } else {
            Error::Update(e)
        };
        if too_large && invalid {
            return Error::TooLarge {
                refused: Box::new(refused),
                size,
                kind: self.kind_name(),
            };
        }
        refused
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

/// The Secret type of a release record.
const RECORD_TYPE: &str = "helm.sh/release.v1";

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
        self.write(key, release, true)
    }

    fn update(&self, key: &str, release: &Release) -> Result<(), Error> {
        self.write(key, release, false)
    }

    fn delete(&self, key: &str) -> Result<Release, Error> {
        let obj = self
            .kube
            .get(&self.object_ref(key))
            .map_err(Error::Kube)?
            .ok_or(Error::NotFound)?;
        let release = self.decode_object(&obj)?;
        let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default();
        self.kube
            .delete(&self.object_ref_in(namespace, key), Propagation::Background)
            .map_err(Error::Kube)?;
        if let Some((digest, parts)) = split_of(&obj) {
            self.delete_parts(key, namespace, &digest, parts);
        }
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
    fn split_records_come_back_whole() {
        let body: String = (0..MAX_OBJECT_DATA * 2 + 10)
            .map(|i| (b'A' + (i % 26) as u8) as char)
            .collect();
        let parts = split_record(&body);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [MAX_OBJECT_DATA, MAX_OBJECT_DATA, 10]
        );
        assert_eq!(parts.concat(), body);
        assert_eq!(split_record("abc"), ["abc"]);
        let digest = record_digest("abc");
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            part_name("sh.helm.release.v1.big.v2", &digest, 3),
            "sh.helm.release.v1.big.v2.ba7816bf8f01cfea.3"
        );
    }

    #[test]
    fn split_annotations_are_read_back() {
        let obj = json!({"metadata": {"annotations": {
            PARTS_ANNOTATION: "3", DIGEST_ANNOTATION: "ab12"
        }}});
        assert_eq!(split_of(&obj), Some(("ab12".to_string(), 3)));
        assert_eq!(split_of(&json!({"metadata": {}})), None);
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
