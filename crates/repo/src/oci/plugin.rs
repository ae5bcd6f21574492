//! Helm plugins as OCI artifacts (Helm's `pkg/registry/plugin.go`): an image manifest whose
//! `artifactType` (or, for older writers, config media type) is
//! `application/vnd.helm.plugin.v1+json`, with the plugin archive `NAME-VERSION.tgz` and
//! optionally its provenance `NAME-VERSION.tgz.prov` as layers named by their
//! `org.opencontainers.image.title` annotation. Helm only pulls these (they are published
//! with ORAS, `oras push --artifact-type ...`); [`Client::push_artifact`] writes the same
//! shape, for publishing plugins and for tests.

use rudder_value::json::from_json;
use rudder_value::Value;

use super::client::{manifest_accept, status_error, Client};
use super::manifest::Descriptor;
use super::{field, Error, Reference, IMAGE_MANIFEST_MEDIA_TYPE};

/// The artifact type of a Helm plugin.
pub const PLUGIN_ARTIFACT_TYPE: &str = "application/vnd.helm.plugin.v1+json";
/// The layer media types Helm's plugin pull copies.
pub const PLUGIN_LAYER_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
];
/// The OCI annotation naming a layer's file.
const TITLE: &str = "org.opencontainers.image.title";
/// The empty config ORAS writes for artifacts (`{}`).
const EMPTY_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// What a plugin pull fetched.
#[derive(Clone, Debug)]
pub struct PluginPull {
    /// `host/repo:tag`.
    pub reference: String,
    pub manifest_digest: String,
    /// The plugin archive.
    pub archive: Vec<u8>,
    /// Its provenance file, when the artifact has one.
    pub prov: Option<Vec<u8>>,
}

/// One file of an artifact to push: its title, media type and bytes.
pub struct ArtifactFile<'a> {
    pub title: &'a str,
    pub media_type: &'a str,
    pub data: &'a [u8],
}

fn text(v: Option<Value>) -> String {
    v.and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl Client {
    /// Helm's `PullPlugin`: the manifest of `reference` must be a plugin artifact; the
    /// first layer titled `<plugin_name>-*.tgz` is the archive (required), the first
    /// titled `<plugin_name>-*.tgz.prov` its provenance.
    pub fn pull_plugin(&self, reference: &str, plugin_name: &str) -> Result<PluginPull, Error> {
        let r = Reference::parse(reference)?;
        let scopes = vec![format!("repository:{}:pull", r.repository)];
        let url = self.manifest_url(&r, r.reference());
        let fail = |e: Error| Error::FetchReference(Box::new(e));
        let resp = self
            .send(
                &r.registry,
                &scopes,
                "GET",
                &url,
                &[("Accept", manifest_accept())],
                None,
                4 << 20,
            )
            .map_err(fail)?;
        match resp.status {
            200 => {}
            404 => {
                return Err(fail(Error::NotFound {
                    reference: r.to_string(),
                }))
            }
            _ => return Err(fail(status_error("GET", &url, &resp))),
        }
        let manifest_digest = super::sha256_digest(&resp.body);
        if let Some(expected) = resp
            .header("docker-content-digest")
            .filter(|d| r.digest.is_empty() && d.starts_with("sha256:"))
        {
            if expected != manifest_digest {
                return Err(fail(Error::DigestMismatch {
                    reference: r.to_string(),
                    actual: manifest_digest,
                    expected: expected.to_string(),
                }));
            }
        }
        if !r.digest.is_empty() && r.digest != manifest_digest {
            return Err(fail(Error::DigestMismatch {
                reference: r.to_string(),
                actual: manifest_digest,
                expected: r.digest.clone(),
            }));
        }
        let manifest = from_json(&String::from_utf8_lossy(&resp.body))
            .map_err(|source| Error::UnparsableManifest { source })?;
        let artifact_type = text(field(&manifest, "artifactType"));
        if !artifact_type.is_empty() && artifact_type != PLUGIN_ARTIFACT_TYPE {
            return Err(Error::ArtifactType {
                expected: PLUGIN_ARTIFACT_TYPE,
                actual: artifact_type,
            });
        }
        let config_type = field(&manifest, "config")
            .map(|c| text(field(&c, "mediaType")))
            .unwrap_or_default();
        if artifact_type.is_empty() && config_type != PLUGIN_ARTIFACT_TYPE {
            return Err(Error::LegacyConfigType {
                expected: PLUGIN_ARTIFACT_TYPE,
                actual: config_type,
            });
        }
        let layers = field(&manifest, "layers")
            .and_then(|l| l.to_list().map(|l| l.to_vec()))
            .unwrap_or_default();
        let prefix = format!("{plugin_name}-");
        let (mut archive, mut prov) = (None, None);
        for layer in &layers {
            let title = field(layer, "annotations")
                .map(|a| text(field(&a, TITLE)))
                .unwrap_or_default();
            let media_type = text(field(layer, "mediaType"));
            // Helm's generic pull copies only these layer types into its store, so a
            // layer of another type cannot be read back.
            if !PLUGIN_LAYER_MEDIA_TYPES.contains(&media_type.as_str()) {
                continue;
            }
            let descriptor = || -> Option<Descriptor> {
                Some(Descriptor {
                    media_type: media_type.clone(),
                    digest: text(field(layer, "digest")),
                    size: match field(layer, "size")? {
                        Value::Float(f) if f >= 0.0 => f as u64,
                        Value::Int(i) | Value::Int64(i) if i >= 0 => i as u64,
                        _ => return None,
                    },
                })
            };
            if archive.is_none() && title.starts_with(&prefix) && title.ends_with(".tgz") {
                archive = descriptor();
            }
            if prov.is_none() && title.starts_with(&prefix) && title.ends_with(".tgz.prov") {
                prov = descriptor();
            }
        }
        let archive = archive.ok_or_else(|| Error::NoPluginLayer {
            plugin: plugin_name.to_string(),
        })?;
        let archive_data =
            self.fetch_blob(&r, &scopes, &archive)
                .map_err(|e| Error::PluginData {
                    digest: archive.digest.clone(),
                    source: Box::new(e),
                })?;
        let prov_data = match prov {
            Some(d) => {
                Some(
                    self.fetch_blob(&r, &scopes, &d)
                        .map_err(|e| Error::PluginProvenance {
                            digest: d.digest.clone(),
                            source: Box::new(e),
                        })?,
                )
            }
            None => None,
        };
        Ok(PluginPull {
            reference: r.to_string(),
            manifest_digest,
            archive: archive_data,
            prov: prov_data,
        })
    }

    /// Pushes `files` as one artifact of `artifact_type` to `reference` (with a tag), as
    /// `oras push --artifact-type` does: an empty `{}` config, one layer per file titled
    /// by its name. Returns the manifest digest.
    pub fn push_artifact(
        &self,
        reference: &str,
        artifact_type: &str,
        files: &[ArtifactFile<'_>],
    ) -> Result<String, Error> {
        let r = Reference::parse(reference)?;
        if r.tag.is_empty() {
            return Err(Error::TagRequired {
                reference: reference.to_string(),
            });
        }
        let scopes = vec![format!("repository:{}:pull,push", r.repository)];
        let config = b"{}";
        let config_desc = Descriptor::of(EMPTY_CONFIG_MEDIA_TYPE, config);
        self.upload_blob(&r, &scopes, &config_desc, config)?;
        let mut layers = Vec::new();
        for f in files {
            let desc = Descriptor::of(f.media_type, f.data);
            self.upload_blob(&r, &scopes, &desc, f.data)?;
            layers.push(format!(
                "{{\"mediaType\":{},\"digest\":{},\"size\":{},\"annotations\":{{{}:{}}}}}",
                json(&desc.media_type),
                json(&desc.digest),
                desc.size,
                json(TITLE),
                json(f.title)
            ));
        }
        let manifest = format!(
            "{{\"schemaVersion\":2,\"mediaType\":{},\"artifactType\":{},\"config\":{{\"mediaType\":{},\"digest\":{},\"size\":{}}},\"layers\":[{}]}}",
            json(IMAGE_MANIFEST_MEDIA_TYPE),
            json(artifact_type),
            json(EMPTY_CONFIG_MEDIA_TYPE),
            json(&config_desc.digest),
            config_desc.size,
            layers.join(",")
        );
        self.put_manifest(&r, &scopes, &r.tag, &manifest)?;
        Ok(super::sha256_digest(manifest.as_bytes()))
    }
}

fn json(s: &str) -> String {
    rudder_value::json::to_json(&Value::str(s)).unwrap_or_default()
}
