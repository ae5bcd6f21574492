//! Plugins on disk (Helm's `loader.go`, `installer/local_installer.go`, `plugin_*.go`).

use std::path::{Path, PathBuf};

use crate::metadata::{Metadata, PLUGIN_FILE_NAME};
use crate::run::Plugin;
use crate::Error;

/// Which plugins to find: empty fields match any.
#[derive(Clone, Debug, Default)]
pub struct Descriptor {
    pub name: String,
    pub kind: String,
}

/// Plugins found, and the warnings for those that failed to load (Helm logs and skips
/// them).
#[derive(Debug, Default)]
pub struct Found {
    pub plugins: Vec<Plugin>,
    pub warnings: Vec<String>,
}

/// `HELM_PLUGINS` is a list of directories, as Go's `filepath.SplitList` reads it.
pub fn split_plugin_dirs(plugins: &Path) -> Vec<PathBuf> {
    let text = plugins.as_os_str();
    if text.is_empty() {
        return Vec::new();
    }
    std::env::split_paths(text).collect()
}

/// Helm's `LoadDir`: the plugin in `dir`.
pub fn load_dir(dir: &Path) -> Result<Plugin, Error> {
    let file = dir.join(PLUGIN_FILE_NAME);
    let text = std::fs::read_to_string(&file).map_err(|source| Error::Read {
        path: file.clone(),
        source,
    })?;
    let metadata = Metadata::parse(&text).map_err(|reason| Error::Load {
        dir: dir.to_path_buf(),
        reason,
    })?;
    Ok(Plugin {
        metadata,
        dir: dir.to_path_buf(),
    })
}

/// Helm's `LoadAllDir`: every `<base>/*/plugin.yaml`, in Go's `Glob` order (sorted), those
/// that fail to load skipped with a warning; two plugins of one name are an error.
pub fn load_all(base: &Path) -> Result<Found, Error> {
    let mut found = Found::default();
    let Ok(entries) = std::fs::read_dir(base) else {
        return Ok(found);
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join(PLUGIN_FILE_NAME).exists())
        .collect();
    dirs.sort();
    for dir in dirs {
        match load_dir(&dir) {
            Ok(plugin) => found.plugins.push(plugin),
            Err(e) => found.warnings.push(format!(
                "failed to load plugin (ignoring) plugin_yaml={} error={e:?}",
                dir.join(PLUGIN_FILE_NAME).display(),
                e = e.to_string()
            )),
        }
    }
    for (i, plugin) in found.plugins.iter().enumerate() {
        if let Some(first) = found.plugins[..i]
            .iter()
            .find(|p| p.metadata.name == plugin.metadata.name)
        {
            return Err(Error::Duplicate {
                name: plugin.metadata.name.clone(),
                first: first.dir.clone(),
                second: plugin.dir.clone(),
            });
        }
    }
    Ok(found)
}

/// Helm's `FindPlugins`: the plugins of every directory matching `descriptor`.
pub fn find_plugins(dirs: &[PathBuf], descriptor: &Descriptor) -> Result<Found, Error> {
    let mut found = Found::default();
    for dir in dirs {
        let mut here = load_all(dir)?;
        here.plugins.retain(|p| {
            (descriptor.name.is_empty() || p.metadata.name == descriptor.name)
                && (descriptor.kind.is_empty() || p.metadata.kind == descriptor.kind)
        });
        found.plugins.append(&mut here.plugins);
        found.warnings.append(&mut here.warnings);
    }
    Ok(found)
}

/// Helm's `FindPlugin`: the first plugin matching `descriptor`.
pub fn find_plugin(dirs: &[PathBuf], descriptor: &Descriptor) -> Result<Plugin, Error> {
    find_plugins(dirs, descriptor)?
        .plugins
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotFound {
            name: descriptor.name.clone(),
            kind: descriptor.kind.clone(),
        })
}

/// What an install did.
#[derive(Debug)]
pub struct Installed {
    pub plugin: Plugin,
    /// Where the plugin now is (a symlink to the source directory).
    pub path: PathBuf,
}

/// Helm's local installer for a directory ("development mode"): a symlink named after the
/// directory, in `<data home>/plugins` (Helm's `helmpath.DataPath("plugins", ...)`, not
/// `HELM_PLUGINS`), then the plugin must load.
pub fn install_from_directory(source: &str, data_home: &Path) -> Result<Installed, Error> {
    let source_error = |reason: String| Error::Source {
        source_ref: source.to_string(),
        reason,
    };
    let absolute = std::path::absolute(source).map_err(|e| source_error(e.to_string()))?;
    let meta = std::fs::metadata(&absolute).map_err(|e| source_error(e.to_string()))?;
    if !meta.is_dir() {
        return Err(Error::NotADirectory);
    }
    if !absolute.join(PLUGIN_FILE_NAME).exists() {
        return Err(Error::MissingMetadata);
    }
    let base = absolute.file_name().map(PathBuf::from).unwrap_or_default();
    let plugins_dir = data_home.join("plugins");
    let path = plugins_dir.join(base);
    std::fs::create_dir_all(&plugins_dir).map_err(Error::io(&plugins_dir))?;
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(Error::AlreadyExists);
    }
    symlink_dir(&absolute, &path).map_err(Error::io(&path))?;
    let plugin = load_dir(&path).map_err(|e| Error::Unusable(Box::new(e)))?;
    Ok(Installed { plugin, path })
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}

/// Helm's `uninstallPlugin`: removes the plugin's directory (only the link, for one
/// installed in development mode) and the `NAME-VERSION.tgz` (and `.prov`) kept beside it.
/// The caller runs the `delete` hook afterwards, as Helm does.
pub fn uninstall(plugin: &Plugin, plugins_dir: &Path) -> Result<(), Error> {
    let dir = &plugin.dir;
    let is_link = std::fs::symlink_metadata(dir)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    if is_link {
        std::fs::remove_file(dir).map_err(Error::io(dir))?;
    } else if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(Error::io(dir))?;
    }
    if !plugin.metadata.version.is_empty() {
        let tarball = plugins_dir.join(format!(
            "{}-{}.tgz",
            plugin.metadata.name, plugin.metadata.version
        ));
        // Helm only logs a failure to remove these.
        let _ = std::fs::remove_file(&tarball);
        let _ = std::fs::remove_file(tarball.with_extension("tgz.prov"));
    }
    Ok(())
}

/// Helm's `updatePlugin`: the plugin's real location must be a version-control checkout,
/// which Helm updates (`git pull` and the like). A directory that is not one, such as a
/// plugin installed in development mode or from an archive, fails as in Helm
/// (`installer.FindSource` with Masterminds/vcs's "Cannot detect VCS"). rudder does not
/// drive version control, so a checkout is refused too, with its own reason.
pub fn update(plugin: &Plugin) -> Result<(), Error> {
    let real = std::fs::canonicalize(&plugin.dir).map_err(Error::io(&plugin.dir))?;
    let vcs = [".git", ".hg", ".bzr", ".svn"]
        .iter()
        .any(|marker| real.join(marker).exists());
    if !vcs {
        return Err(Error::UnknownSource);
    }
    Err(Error::Source {
        source_ref: real.display().to_string(),
        reason: "rudder cannot update plugins installed from version control".into(),
    })
}
