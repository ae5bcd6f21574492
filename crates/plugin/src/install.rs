//! Where an install comes from and where it goes (Helm's `installer.NewForSource` and the
//! `Path()` of each installer), and installing from a plugin archive (`installFromArchive`
//! of the local installer, `Install` of the HTTP and OCI installers).
//!
//! Fetching (HTTP, OCI) and provenance checks are the caller's: this crate is below the
//! repository crate that does them, which in turn asks it for getter plugins.

use std::path::{Path, PathBuf};

use crate::archive::{extract_tgz, is_archive_name, metadata_from_tgz, strip_plugin_name};
use crate::metadata::PLUGIN_FILE_NAME;
use crate::store::{load_dir, Installed};
use crate::Error;

/// What a `plugin install` source is, as Helm's `NewForSource` decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `oci://host/repo/name[:tag]`; `name` is the last repository component.
    Oci { reference: String, name: String },
    /// An existing directory (development mode: a symlink to it).
    Directory(PathBuf),
    /// An existing `.tgz`/`.tar.gz` file.
    LocalArchive(PathBuf),
    /// An existing file that is not an archive (Helm fails on it as on a directory
    /// without plugin.yaml).
    LocalFile(PathBuf),
    /// An `http(s)://` URL of an archive.
    Http(String),
    /// Anything else: Helm takes it for a version-control repository.
    Vcs(String),
}

impl Source {
    /// Classifies `source`. `content_type` is asked (Helm sends a HEAD request) only for an
    /// http(s) URL without an archive suffix; an archive media type makes it an archive.
    pub fn classify(
        source: &str,
        content_type: impl FnOnce(&str) -> Option<String>,
    ) -> Result<Source, Error> {
        if let Some(rest) = source.strip_prefix("oci://") {
            return Ok(Source::Oci {
                reference: source.to_string(),
                name: oci_plugin_name(rest).map_err(|reason| Error::Source {
                    source_ref: source.to_string(),
                    reason,
                })?,
            });
        }
        if let Ok(meta) = std::fs::metadata(source) {
            let absolute = std::path::absolute(source).map_err(|e| Error::Source {
                source_ref: source.to_string(),
                reason: format!("unable to get absolute path to plugin: {e}"),
            })?;
            return Ok(if meta.is_dir() {
                Source::Directory(absolute)
            } else if is_archive_name(source) {
                Source::LocalArchive(absolute)
            } else {
                Source::LocalFile(absolute)
            });
        }
        if source.starts_with("http://") || source.starts_with("https://") {
            if is_archive_name(source) {
                return Ok(Source::Http(source.to_string()));
            }
            let archive_type = content_type(source).is_some_and(|t| {
                matches!(
                    t.to_ascii_lowercase().as_str(),
                    "application/gzip"
                        | "application/x-gzip"
                        | "application/x-tgz"
                        | "application/x-gtar"
                )
            });
            if archive_type {
                return Ok(Source::Http(source.to_string()));
            }
        }
        Ok(Source::Vcs(source.to_string()))
    }

    /// Where Helm puts the plugin: `<data home>/plugins/<name>` for local and HTTP sources
    /// (the archive's name without its version and suffix), the first `HELM_PLUGINS`
    /// directory for OCI.
    pub fn install_path(&self, data_home: &Path, plugins_dirs: &[PathBuf]) -> PathBuf {
        let data_plugins = data_home.join("plugins");
        let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        match self {
            Source::Oci { name, .. } => plugins_dirs
                .first()
                .cloned()
                .unwrap_or(data_plugins)
                .join(name),
            Source::Directory(p) | Source::LocalFile(p) => {
                data_plugins.join(p.file_name().unwrap_or_default())
            }
            Source::LocalArchive(p) => data_plugins.join(strip_plugin_name(
                &p.file_name().unwrap_or_default().to_string_lossy(),
            )),
            Source::Http(url) => data_plugins.join(strip_plugin_name(&base(url))),
            Source::Vcs(url) => data_plugins.join(base(url)),
        }
    }

    /// Whether `--verify` can check this source (Helm's `SupportsVerification`).
    pub fn supports_verification(&self) -> bool {
        match self {
            Source::LocalArchive(_) | Source::Oci { .. } => true,
            Source::Http(url) => url.ends_with(".tgz") || url.ends_with(".tar.gz"),
            _ => false,
        }
    }

    /// The archive's file name as its provenance lists it, when it is known before
    /// download (local and HTTP); an OCI archive is `NAME-VERSION.tgz` of its metadata.
    pub fn archive_file_name(&self) -> Option<String> {
        match self {
            Source::LocalArchive(p) => Some(p.file_name()?.to_string_lossy().into_owned()),
            Source::Http(url) => Some(url.rsplit('/').next().unwrap_or(url).to_string()),
            _ => None,
        }
    }
}

/// Helm's `registry.GetPluginName`: the last component of the repository path of
/// `host/repo/name[:tag][@digest]`.
fn oci_plugin_name(reference: &str) -> Result<String, String> {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let (host, path) = without_digest
        .split_once('/')
        .ok_or_else(|| format!("invalid OCI reference: invalid reference format: {reference}"))?;
    if host.is_empty() || path.is_empty() {
        return Err("invalid OCI reference: missing repository".into());
    }
    let last = path.rsplit('/').next().unwrap_or(path);
    let name = last.split(':').next().unwrap_or(last);
    if name.is_empty() {
        return Err(format!(
            "invalid OCI reference: cannot determine plugin name from repository {path}"
        ));
    }
    Ok(name.to_string())
}

/// Helm's first check of `InstallWithOptions`: nothing may be at `path` yet.
pub fn ensure_not_installed(path: &Path) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::AlreadyExists);
    }
    Ok(())
}

/// The kinds of archive source, whose installers differ in where plugin.yaml may be and
/// in how they word a failure to unpack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveOrigin {
    /// A local file: the plugin must be in the top directory named after the archive.
    Local,
    /// An HTTP download: plugin.yaml at the top or in a directory one level down.
    Http,
    /// An OCI pull: as HTTP.
    Oci,
}

impl ArchiveOrigin {
    fn extract_context(self) -> &'static str {
        match self {
            ArchiveOrigin::Local => "failed to extract archive",
            ArchiveOrigin::Http => "extracting files from archive",
            ArchiveOrigin::Oci => "failed to extract plugin",
        }
    }
}

/// Installs the plugin archive `data` at `dest`: the archive is unpacked into a fresh
/// directory beside `dest` and moved into place only when it is whole, so a bad archive
/// leaves nothing behind. The archive (and `prov`, its provenance) is kept as
/// `<data home>/plugins/NAME-VERSION.tgz[.prov]`, where Helm keeps it for `plugin list`'s
/// signature column and `uninstall`. Helm saves it before unpacking; rudder saves it after,
/// so a refused archive is not left there.
pub fn install_from_archive(
    data: &[u8],
    prov: Option<&[u8]>,
    origin: ArchiveOrigin,
    dest: &Path,
    data_home: &Path,
) -> Result<Installed, Error> {
    let metadata = metadata_from_tgz(data)
        .map_err(|e| e.within("failed to extract plugin metadata from tarball"))?;
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    let scratch = tempfile::Builder::new()
        .prefix(".rudder-plugin-extract-")
        .tempdir_in(parent)
        .map_err(Error::io(parent))?;
    extract_tgz(data, scratch.path()).map_err(|e| e.within(origin.extract_context()))?;
    let root = match origin {
        ArchiveOrigin::Local => {
            let name = dest.file_name().unwrap_or_default();
            let dir = scratch.path().join(name);
            if !dir.join(PLUGIN_FILE_NAME).is_file() {
                return Err(Error::NotInExpectedDirectory {
                    dir: dir.display().to_string(),
                    file: dir.join(PLUGIN_FILE_NAME).display().to_string(),
                });
            }
            dir
        }
        ArchiveOrigin::Http | ArchiveOrigin::Oci => match plugin_root(scratch.path())? {
            Some(root) => root,
            None if origin == ArchiveOrigin::Http => {
                return Err(Error::NoPluginRoot(scratch.path().display().to_string()))
            }
            None => return Err(Error::MissingMetadata),
        },
    };
    ensure_not_installed(dest)?;
    std::fs::rename(&root, dest).map_err(Error::io(dest))?;
    let tarball = data_home
        .join("plugins")
        .join(format!("{}-{}.tgz", metadata.name, metadata.version));
    if let Some(dir) = tarball.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    std::fs::write(&tarball, data).map_err(|e| Error::Io {
        path: tarball.clone(),
        source: e,
    })?;
    if let Some(prov) = prov {
        // Helm only logs a failure to keep the provenance.
        let _ = std::fs::write(tarball.with_extension("tgz.prov"), prov);
    }
    let plugin = load_dir(dest).map_err(|e| Error::Unusable(Box::new(e)))?;
    Ok(Installed {
        plugin,
        path: dest.to_path_buf(),
    })
}

/// Helm's `detectPluginRoot`: `dir` if it holds plugin.yaml, else its first subdirectory
/// (in name order) that does.
fn plugin_root(dir: &Path) -> Result<Option<PathBuf>, Error> {
    if dir.join(PLUGIN_FILE_NAME).is_file() {
        return Ok(Some(dir.to_path_buf()));
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(Error::io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    Ok(subdirs
        .into_iter()
        .find(|d| d.join(PLUGIN_FILE_NAME).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_classified_as_helm_does() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("p-1.0.0.tgz");
        std::fs::write(&archive, b"x").unwrap();
        let no_head = |_: &str| -> Option<String> { panic!("no HEAD for this source") };
        assert_eq!(
            Source::classify(archive.to_str().unwrap(), no_head).unwrap(),
            Source::LocalArchive(archive.clone())
        );
        assert_eq!(
            Source::classify("https://h/p-1.0.0.tar.gz", no_head).unwrap(),
            Source::Http("https://h/p-1.0.0.tar.gz".into())
        );
        assert_eq!(
            Source::classify("https://h/download", |_| Some("application/x-gzip".into())).unwrap(),
            Source::Http("https://h/download".into())
        );
        assert_eq!(
            Source::classify("https://h/repo", |_| Some("text/html".into())).unwrap(),
            Source::Vcs("https://h/repo".into())
        );
        let oci = Source::classify("oci://r:5000/a/b/hello:1.0.0", no_head).unwrap();
        assert_eq!(
            oci,
            Source::Oci {
                reference: "oci://r:5000/a/b/hello:1.0.0".into(),
                name: "hello".into()
            }
        );
        let home = Path::new("/d");
        assert_eq!(
            oci.install_path(home, &[PathBuf::from("/p")]),
            Path::new("/p/hello")
        );
        assert_eq!(
            Source::LocalArchive(archive).install_path(home, &[]),
            Path::new("/d/plugins/p")
        );
    }
}
