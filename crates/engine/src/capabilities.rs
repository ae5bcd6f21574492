//! `.Capabilities`: the Kubernetes and Helm versions and the API versions a chart may ask
//! about. Offline (`template`, `--dry-run=client`, `lint`) Helm uses built-in defaults; those
//! were read from real Helm by `scripts/gen-default-capabilities.py` into
//! `default_capabilities.txt`.

use std::any::Any;
use std::sync::Arc;

use rudder_value::{Kind, Object, Value};

const DEFAULTS: &str = include_str!("default_capabilities.txt");

/// Helm's `common.KubeVersion`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeVersion {
    /// As given, with a `v` prefix (`v1.33.4-gke.1245000`): `.Version`, `.GitVersion`.
    pub version: String,
    /// `v<major>.<minor>.<patch>`: what `String()` prints and constraints are checked against.
    pub normalized: String,
    pub major: String,
    pub minor: String,
}

/// A Kubernetes version that does not parse (the text as given), worded as Helm's
/// `ParseKubeVersion` words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not parse {0:?} as version")]
pub struct KubeVersionError(pub String);

impl KubeVersion {
    /// Helm's `ParseKubeVersion` (Kubernetes' generic version parsing: `1.20`, `v1.20.3`,
    /// `1.20.3-gke.1`; at least major and minor).
    pub fn parse(text: &str) -> Result<KubeVersion, KubeVersionError> {
        let bare = text.strip_prefix('v').unwrap_or(text);
        let core_end = bare
            .find(|c: char| c != '.' && !c.is_ascii_digit())
            .unwrap_or(bare.len());
        let core = &bare[..core_end];
        let parts: Vec<&str> = core.split('.').collect();
        let valid = (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            && parts.iter().all(|p| p.len() == 1 || !p.starts_with('0'));
        if !valid {
            return Err(KubeVersionError(text.to_string()));
        }
        let num = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| KubeVersionError(text.to_string()))
        };
        let (major, minor) = (num(parts[0])?, num(parts[1])?);
        let patch = if parts.len() == 3 { num(parts[2])? } else { 0 };
        let version = if text.starts_with('v') {
            text.to_string()
        } else {
            format!("v{text}")
        };
        Ok(KubeVersion {
            version,
            normalized: format!("v{major}.{minor}.{patch}"),
            major: major.to_string(),
            minor: minor.to_string(),
        })
    }
}

/// Helm's `version.BuildInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmVersion {
    pub version: String,
    pub git_commit: String,
    pub git_tree_state: String,
    pub go_version: String,
    pub kube_client_version: String,
}

/// Helm's `common.Capabilities`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub kube_version: KubeVersion,
    pub api_versions: Vec<String>,
    pub helm_version: HelmVersion,
}

impl Default for Capabilities {
    /// What Helm v4.2.3 offers when it does not talk to a cluster.
    fn default() -> Capabilities {
        let mut lines = DEFAULTS.lines();
        let kube = lines.next().unwrap_or("v1.36.0");
        let helm: Vec<&str> = lines.next().unwrap_or("").split('|').collect();
        let field = |i: usize| helm.get(i).copied().unwrap_or("").to_string();
        Capabilities {
            kube_version: KubeVersion::parse(kube).expect("built-in kube version parses"),
            api_versions: lines
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            helm_version: HelmVersion {
                version: field(0),
                git_commit: field(1),
                git_tree_state: field(2),
                go_version: field(3),
                kube_client_version: field(4),
            },
        }
    }
}

impl Capabilities {
    /// The template value `.Capabilities`.
    pub fn to_value(&self) -> Value {
        Value::Object(Arc::new(CapabilitiesObject {
            api_versions: Value::version_set(self.api_versions.clone()),
            caps: self.clone(),
        }))
    }
}

fn struct_v(out: &mut String, fields: &[&str]) {
    out.push('{');
    out.push_str(&fields.join(" "));
    out.push('}');
}

#[derive(Debug)]
struct CapabilitiesObject {
    caps: Capabilities,
    /// `.APIVersions`, built once: charts ask it many times, and the value shares its list.
    api_versions: Value,
}

impl Object for CapabilitiesObject {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn kind(&self) -> Kind {
        Kind::Ptr
    }
    fn field(&self, name: &str) -> Option<Value> {
        let c = &self.caps;
        Some(match name {
            "KubeVersion" => Value::Object(Arc::new(KubeVersionObject(c.kube_version.clone()))),
            "APIVersions" => self.api_versions.clone(),
            "HelmVersion" => Value::Object(Arc::new(HelmVersionObject(c.helm_version.clone()))),
            _ => return None,
        })
    }
    fn json_fields(&self) -> Option<Vec<(&'static str, Value)>> {
        let c = &self.caps;
        Some(vec![
            (
                "KubeVersion",
                Value::Object(Arc::new(KubeVersionObject(c.kube_version.clone()))),
            ),
            ("APIVersions", self.api_versions.clone()),
            (
                "HelmVersion",
                Value::Object(Arc::new(HelmVersionObject(c.helm_version.clone()))),
            ),
        ])
    }
    fn fmt_v(&self, out: &mut String) {
        out.push('&');
        out.push('{');
        KubeVersionObject(self.caps.kube_version.clone()).fmt_struct(out);
        out.push_str(" [");
        out.push_str(&self.caps.api_versions.join(" "));
        out.push_str("] ");
        HelmVersionObject(self.caps.helm_version.clone()).fmt_v(out);
        out.push('}');
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[derive(Debug)]
struct KubeVersionObject(KubeVersion);

impl KubeVersionObject {
    fn fmt_struct(&self, out: &mut String) {
        let k = &self.0;
        struct_v(out, &[&k.version, &k.normalized, &k.major, &k.minor]);
    }
}

impl Object for KubeVersionObject {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(name, "String" | "GitVersion")
    }
    fn method_params(&self, _name: &str) -> Option<&'static [rudder_value::ParamType]> {
        Some(&[])
    }
    fn call_method(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        match name {
            "String" => Ok(Value::str(&self.0.normalized)),
            "GitVersion" => Ok(Value::str(&self.0.version)),
            _ => Err(format!("no method {name}")),
        }
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::str(match name {
            "Version" => &self.0.version,
            "Major" => &self.0.major,
            "Minor" => &self.0.minor,
            _ => return None,
        }))
    }
    /// A copy of the struct (what functions and `printf` get) has no `String()`: that method
    /// is on `*KubeVersion`. So `%v` prints the fields, the unexported one too.
    fn fmt_v(&self, out: &mut String) {
        self.fmt_struct(out);
    }
    /// `{{ .Capabilities.KubeVersion }}` prints through the pointer's `String()` method.
    fn fmt_printed(&self, out: &mut String) {
        out.push_str(&self.0.normalized);
    }
    /// The exported fields, in declaration order (the struct has no JSON tags).
    fn json_fields(&self) -> Option<Vec<(&'static str, Value)>> {
        let k = &self.0;
        Some(vec![
            ("Version", Value::str(&k.version)),
            ("Major", Value::str(&k.major)),
            ("Minor", Value::str(&k.minor)),
        ])
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[derive(Debug)]
struct HelmVersionObject(HelmVersion);

impl Object for HelmVersionObject {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let h = &self.0;
        Some(Value::str(match name {
            "Version" => &h.version,
            "GitCommit" => &h.git_commit,
            "GitTreeState" => &h.git_tree_state,
            "GoVersion" => &h.go_version,
            "KubeClientVersion" => &h.kube_client_version,
            _ => return None,
        }))
    }
    fn fmt_v(&self, out: &mut String) {
        let h = &self.0;
        struct_v(
            out,
            &[
                &h.version,
                &h.git_commit,
                &h.git_tree_state,
                &h.go_version,
                &h.kube_client_version,
            ],
        );
    }
    /// `json:"version,omitempty"`, ..., `json:"kube_client_version"` (the only one without
    /// omitempty), in declaration order.
    fn json_fields(&self) -> Option<Vec<(&'static str, Value)>> {
        let h = &self.0;
        let fields = [
            ("version", &h.version, true),
            ("git_commit", &h.git_commit, true),
            ("git_tree_state", &h.git_tree_state, true),
            ("go_version", &h.go_version, true),
            ("kube_client_version", &h.kube_client_version, false),
        ];
        Some(
            fields
                .into_iter()
                .filter(|(_, v, omit_empty)| !(*omit_empty && v.is_empty()))
                .map(|(k, v, _)| (k, Value::str(v)))
                .collect(),
        )
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kube_versions_like_helm() {
        let v = KubeVersion::parse("1.33.4-gke.1245000").unwrap();
        assert_eq!(v.version, "v1.33.4-gke.1245000");
        assert_eq!(v.normalized, "v1.33.4");
        assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "33"));
        assert_eq!(KubeVersion::parse("v1.20").unwrap().normalized, "v1.20.0");
        assert_eq!(
            KubeVersion::parse("one").unwrap_err().to_string(),
            "could not parse \"one\" as version"
        );
        assert!(KubeVersion::parse("1").is_err());
    }

    #[test]
    fn defaults_come_from_helm() {
        let c = Capabilities::default();
        assert_eq!(c.kube_version.version, "v1.36.0");
        assert!(c.api_versions.iter().any(|v| v == "apps/v1"));
        assert!(!c
            .api_versions
            .iter()
            .any(|v| v == "monitoring.coreos.com/v1"));
    }
}
