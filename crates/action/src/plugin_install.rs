//! `helm plugin install` (Helm's `pkg/cmd/plugin_install.go` and
//! `internal/plugin/installer`): the source classified, the archive fetched (a local file,
//! an HTTP(S) download with the repository getter, an OCI pull with the registry client),
//! its provenance checked when `--verify` is on (the default), then unpacked and laid out
//! by rudder-plugin as Helm lays it out.

use std::io::Write;
use std::path::PathBuf;

use rudder_plugin::{self as plugin, ArchiveOrigin, Plugin, Source};
use rudder_repo::getter::{self, GetOptions};
use rudder_repo::oci::{Client, ClientOptions};
use rudder_repo::provenance;
use rudder_repo::HelmPaths;

use crate::{Error, RegistryOptions};

/// The flags of `plugin install`.
#[derive(Clone, Debug)]
pub struct PluginInstallOptions {
    /// `--version`: for an OCI reference without a tag, the tag to pull.
    pub version: String,
    /// `--verify` (Helm's default: on).
    pub verify: bool,
    /// `--keyring`: the public keys a signature is checked against.
    pub keyring: PathBuf,
    /// `--cert-file`, `--key-file`, `--ca-file`, `--insecure-skip-tls-verify`,
    /// `--plain-http`, `--username`, `--password` (Helm uses them for OCI sources).
    pub registry: RegistryOptions,
}

fn plugin_error(e: plugin::Error) -> Error {
    Error::message(e.to_string())
}

/// The archive, its provenance if any, and the file name the provenance lists it under.
struct Fetched {
    archive: Vec<u8>,
    prov: Option<Vec<u8>>,
    file_name: String,
}

/// Why a plugin archive could not be fetched (Helm's wording), with the cause.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("failed to read archive: open {}: {source}", .path.display())]
    ReadArchive {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to access provenance file {}: {source}", .path.display())]
    Provenance {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Get(rudder_repo::Error),
    #[error(transparent)]
    Registry(rudder_repo::oci::Error),
    #[error("failed to pull plugin from {reference}: {source}")]
    Pull {
        reference: String,
        #[source]
        source: rudder_repo::oci::Error,
    },
    #[error("failed to extract plugin metadata from tarball: {0}")]
    Metadata(#[source] plugin::Error),
}

fn fetch(
    source: &Source,
    opts: &PluginInstallOptions,
    paths: &HelmPaths,
) -> Result<Fetched, FetchError> {
    match source {
        Source::LocalArchive(path) => {
            let archive = std::fs::read(path).map_err(|source| FetchError::ReadArchive {
                path: path.clone(),
                source,
            })?;
            let mut prov_path = path.as_os_str().to_owned();
            prov_path.push(".prov");
            let prov = match std::fs::read(&prov_path) {
                Ok(p) => Some(p),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => {
                    return Err(FetchError::Provenance {
                        path: PathBuf::from(prov_path),
                        source,
                    })
                }
            };
            Ok(Fetched {
                archive,
                prov,
                file_name: source.archive_file_name().unwrap_or_default(),
            })
        }
        Source::Http(url) => {
            let options = GetOptions::default();
            let archive = getter::get(url, &options).map_err(FetchError::Get)?;
            let prov = getter::get(&format!("{url}.prov"), &options).ok();
            Ok(Fetched {
                archive,
                prov,
                file_name: source.archive_file_name().unwrap_or_default(),
            })
        }
        Source::Oci { reference, name } => {
            let r = &opts.registry;
            let client = Client::new(ClientOptions {
                plain_http: r.plain_http,
                ca_file: r.ca_file.clone(),
                cert_file: r.cert_file.clone(),
                key_file: r.key_file.clone(),
                insecure_skip_tls_verify: r.insecure_skip_tls_verify,
                username: r.username.clone(),
                password: r.password.clone(),
                credentials_file: paths.registry_config.clone(),
                ..ClientOptions::default()
            })
            .map_err(FetchError::Registry)?;
            let reference = oci_reference(reference, &opts.version);
            let pulled =
                client
                    .pull_plugin(&reference, name)
                    .map_err(|source| FetchError::Pull {
                        reference: reference.clone(),
                        source,
                    })?;
            let metadata =
                plugin::metadata_from_tgz(&pulled.archive).map_err(FetchError::Metadata)?;
            Ok(Fetched {
                archive: pulled.archive,
                prov: pulled.prov,
                file_name: format!("{}-{}.tgz", metadata.name, metadata.version),
            })
        }
        Source::Directory(_) | Source::LocalFile(_) | Source::Vcs(_) => {
            unreachable!("not an archive source")
        }
    }
}

/// `--version` for an OCI reference: the tag when the reference has neither tag nor
/// digest. Helm v4.2.3 ignores `--version` for OCI sources and pulls `latest`; rudder uses
/// it, as `helm pull --version` does for charts.
fn oci_reference(reference: &str, version: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if last.contains(':') || last.contains('@') {
        return reference.to_string();
    }
    let tag = if version.is_empty() {
        "latest"
    } else {
        version
    };
    format!("{reference}:{}", tag.replace('+', "_"))
}

/// Installs the plugin `source` names, printing what Helm prints on the way (the
/// development-mode note, the verification lines). Returns the installed plugin; its
/// `install` hook and the closing "Installed plugin" line are the caller's.
pub fn plugin_install(
    paths: &HelmPaths,
    source: &str,
    opts: &PluginInstallOptions,
    out: &mut dyn Write,
) -> Result<Plugin, Error> {
    let mut say = |s: &str| out.write_all(s.as_bytes()).map_err(Error::io);
    let classified = Source::classify(source, |url| {
        getter::head_content_type(url, &GetOptions::default())
    })
    .map_err(plugin_error)?;
    let plugins_dirs = plugin::split_plugin_dirs(&paths.plugins);
    match &classified {
        Source::Vcs(_) => {
            return Err(plugin_error(plugin::Error::Source {
                source_ref: source.to_string(),
                reason: "rudder does not install plugins from version control; give a directory, a .tgz file or URL, or an oci:// reference".into(),
            }))
        }
        Source::Directory(_) | Source::LocalFile(_) => {
            // Development mode: Helm neither verifies nor warns.
            say("Installing plugin from local directory (development mode)\n")?;
            let installed =
                plugin::install_from_directory(source, &paths.data_home).map_err(plugin_error)?;
            return Ok(installed.plugin);
        }
        _ => {}
    }
    if opts.verify && !classified.supports_verification() {
        return Err(Error::message(
            "plugin source does not support verification. Use --verify=false to skip verification",
        ));
    }
    if opts.verify {
        say("Verifying plugin signature...\n")?;
    } else {
        say("WARNING: Skipping plugin signature verification\n")?;
    }
    let dest = classified.install_path(&paths.data_home, &plugins_dirs);
    plugin::ensure_not_installed(&dest).map_err(plugin_error)?;
    let fetched = fetch(&classified, opts, paths).map_err(|e| {
        if opts.verify {
            Error::context(format!("failed to get verification data: {e}"), e)
        } else {
            Error::typed(e)
        }
    })?;
    let verification = if opts.verify {
        let Some(prov) = &fetched.prov else {
            return Err(Error::message(
                "plugin verification failed: no provenance file (.prov) found",
            ));
        };
        let checked = provenance::load_keyring(&opts.keyring)
            .and_then(|ring| provenance::verify(&fetched.archive, prov, &fetched.file_name, &ring));
        Some(checked.map_err(|e| Error::context(format!("plugin verification failed: {e}"), e))?)
    } else {
        None
    };
    let origin = match classified {
        Source::LocalArchive(_) => ArchiveOrigin::Local,
        Source::Http(_) => ArchiveOrigin::Http,
        _ => ArchiveOrigin::Oci,
    };
    let installed = plugin::install_from_archive(
        &fetched.archive,
        fetched.prov.as_deref(),
        origin,
        &dest,
        &paths.data_home,
    )
    .map_err(plugin_error)?;
    if let Some(v) = verification {
        say(&crate::plugin_verification_report(&v))?;
    }
    Ok(installed.plugin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_becomes_the_tag_only_when_there_is_none() {
        assert_eq!(oci_reference("oci://r/p/x", "1.0.0"), "oci://r/p/x:1.0.0");
        assert_eq!(oci_reference("oci://r/p/x", ""), "oci://r/p/x:latest");
        assert_eq!(
            oci_reference("oci://r:5000/p/x:2.0.0", "1.0.0"),
            "oci://r:5000/p/x:2.0.0"
        );
        assert_eq!(
            oci_reference("oci://r/p/x", "1.0.0+b"),
            "oci://r/p/x:1.0.0_b"
        );
    }
}
