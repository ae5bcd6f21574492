//! Charts in OCI registries, as Helm stores them (`pkg/registry`): one image manifest per
//! chart version whose config blob is the chart's metadata as JSON and whose layers are the
//! chart archive and, when there is one, its provenance file.
//!
//! - [`Reference`]: `host[:port]/repository[:tag][@digest]`, with Helm's `+` to `_` tag rule.
//! - [`manifest`]: the config, annotations and manifest bytes Helm writes (byte for byte,
//!   so the same archive pushed by Helm and by rudder gets the same manifest digest).
//! - [`client::Client`]: the OCI distribution API over ureq: ping/login, push, pull, tags,
//!   with basic and bearer-token authentication and `--plain-http`.
//! - [`fetch::fetch_chart`]: a chart by reference and version (tag lookup, pull, provenance).
//! - [`credentials`]: Helm's registry config file (Docker's `config.json` format).
//! - [`plugin`]: Helm plugins stored as OCI artifacts (`plugin install oci://...`).

pub mod client;
pub mod credentials;
mod error;
pub mod fetch;
pub mod manifest;
pub mod plugin;

pub use client::{Client, ClientOptions, PullResult, PushResult};
pub use error::Error;

/// The URL scheme of OCI references.
pub const OCI_SCHEME: &str = "oci";
/// Media type of the config blob: the chart's metadata as JSON.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Media type of the chart archive layer.
pub const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Media type of the provenance file layer.
pub const PROV_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
/// The chart layer media type of early Helm 3 releases, still accepted on pull.
pub const LEGACY_CHART_LAYER_MEDIA_TYPE: &str = "application/tar+gzip";
/// OCI image manifest.
pub const IMAGE_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const IMAGE_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// Helm's note printed after a push or pull whose tag holds an underscore.
pub const UNDERSCORE_MESSAGE: &str = "
OCI artifact references (e.g. tags) do not support the plus sign (+). To support
storing semantic versions, Helm adopts the convention of changing plus (+) to
an underscore (_) in chart version tags when pushing to a registry and back to
a plus (+) when pulling from a registry.";

/// Whether `reference` is an `oci://` reference.
pub fn is_oci(reference: &str) -> bool {
    reference.starts_with("oci://")
}

/// A parsed registry reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// The repository path inside the registry (`charts/mychart`).
    pub repository: String,
    /// The tag, `+` already turned into `_`; empty when absent.
    pub tag: String,
    /// `sha256:...`; empty when absent.
    pub digest: String,
}

fn repository_is_valid(path: &str) -> bool {
    // The distribution spec's name grammar: lower-case components separated by `/`, each
    // alphanumeric runs joined by `.`, `_`, `__` or runs of `-`.
    !path.is_empty()
        && path.split('/').all(|component| {
            let bytes = component.as_bytes();
            if bytes.is_empty()
                || !bytes[0].is_ascii_alphanumeric()
                || !bytes[bytes.len() - 1].is_ascii_alphanumeric()
            {
                return false;
            }
            let mut i = 0;
            while i < bytes.len() {
                let b = bytes[i];
                if b.is_ascii_lowercase() || b.is_ascii_digit() {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'.' | b'_' | b'-') {
                    i += 1;
                }
                let sep = &component[start..i];
                let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
                if !ok || sep.is_empty() {
                    return false;
                }
            }
            true
        })
}

fn tag_is_valid(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn digest_is_valid(digest: &str) -> bool {
    match digest.split_once(':') {
        Some(("sha256", hex)) => {
            hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        }
        Some((alg, hex)) => !alg.is_empty() && !hex.is_empty(),
        None => false,
    }
}

fn registry_is_valid(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

impl Reference {
    /// Helm's `newReference`: the `oci://` prefix dropped, a trailing `@digest` split off,
    /// `+` in the tag turned into `_`, then validated as ORAS validates references.
    pub fn parse(raw: &str) -> Result<Reference, Error> {
        let raw = raw.strip_prefix("oci://").unwrap_or(raw);
        let (rest, digest) = match raw.rfind('@') {
            Some(i) => (&raw[..i], raw[i + 1..].to_string()),
            None => (raw, String::new()),
        };
        let (registry, path) = rest
            .split_once('/')
            .ok_or(Error::MissingRegistryOrRepository)?;
        if registry.is_empty() || path.is_empty() {
            return Err(Error::MissingRegistryOrRepository);
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, tag.replace('+', "_")),
            _ => (path, String::new()),
        };
        let invalid = |part, value: &str| Error::InvalidReference {
            part,
            value: value.to_string(),
        };
        if !registry_is_valid(registry) {
            return Err(invalid("registry", registry));
        }
        if !repository_is_valid(repository) {
            return Err(invalid("repository", repository));
        }
        if !tag.is_empty() && !tag_is_valid(&tag) {
            return Err(invalid("tag", &tag));
        }
        if !digest.is_empty() && !digest_is_valid(&digest) {
            return Err(invalid("digest", &digest));
        }
        Ok(Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// What the manifest is fetched by: the tag, else the digest.
    pub fn reference(&self) -> &str {
        if self.tag.is_empty() {
            &self.digest
        } else {
            &self.tag
        }
    }

    /// `host/repository` without tag or digest.
    pub fn repository_ref(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl std::fmt::Display for Reference {
    /// `host/repo:tag`, or `host/repo@digest` when there is no tag (Helm's `reference.String`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.tag.is_empty() {
            write!(f, "{}/{}@{}", self.registry, self.repository, self.digest)
        } else {
            write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
        }
    }
}

/// A key of a JSON object value.
pub(crate) fn field(v: &rudder_value::Value, key: &str) -> Option<rudder_value::Value> {
    v.get_path(&[key])
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", crate::provenance::digest(data))
}

/// Standard base64 with padding.
pub(crate) fn base64_encode(input: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(input)
}

/// Standard base64, padding optional; `None` on anything else.
pub(crate) fn base64_decode(input: &str) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurpose};
    use base64::Engine;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        general_purpose::PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(input).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_as_helm_parses_them() {
        let r = Reference::parse("oci://localhost:5000/charts/demo:1.2.3+build.7").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "charts/demo");
        assert_eq!(r.tag, "1.2.3_build.7");
        assert_eq!(r.to_string(), "localhost:5000/charts/demo:1.2.3_build.7");
        let r = Reference::parse("ghcr.io/a/b@sha256:".to_string().as_str()).unwrap_err();
        assert_eq!(
            r.to_string(),
            "invalid reference: invalid digest \"sha256:\""
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("ghcr.io/a/b@{digest}")).unwrap();
        assert_eq!(r.tag, "");
        assert_eq!(r.to_string(), format!("ghcr.io/a/b@{digest}"));
        assert_eq!(
            Reference::parse("127.0.0.1:44731/Helm/demo:1.0.0")
                .unwrap_err()
                .to_string(),
            "invalid reference: invalid repository \"Helm/demo\""
        );
        assert_eq!(
            Reference::parse("oci://host").unwrap_err().to_string(),
            "invalid reference: missing registry or repository"
        );
        assert_eq!(
            Reference::parse("host/a/b").unwrap(),
            Reference {
                registry: "host".into(),
                repository: "a/b".into(),
                tag: String::new(),
                digest: String::new()
            }
        );
        assert!(Reference::parse("host/a__b/c-d/e.f--g:v1").is_ok());
        assert!(Reference::parse("host/a/-b").is_err());
        assert!(Reference::parse("host/a/b:.x").is_err());
    }

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "alice:s3cret", "user:pä:ss"] {
            let enc = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&enc).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"alice:s3cret"), "YWxpY2U6czNjcmV0");
        assert_eq!(base64_decode("YTo").unwrap(), b"a:");
        assert!(base64_decode("a*b").is_none());
    }

    #[test]
    fn digests() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
