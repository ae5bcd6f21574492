//! `helm pull`: download a chart archive from a configured repository (`repo/chart`), a
//! URL or an OCI registry (`oci://host/path/chart`), and optionally expand it. Provenance is
//! not supported yet.

use std::path::{Path, PathBuf};

use rudder_repo::getter::{self, GetOptions};
use rudder_repo::resolve::resolve_chart;
use rudder_repo::{HelmPaths, RepoFile};

use crate::registry::{fetch_oci_chart, RegistryOptions};
use crate::Error;

/// The flags of `rudder pull`.
#[derive(Clone, Debug)]
pub struct PullOptions {
    pub version: String,
    pub devel: bool,
    /// `-d/--destination`.
    pub destination: String,
    pub untar: bool,
    /// `--untardir`, joined to the destination unless absolute.
    pub untar_dir: String,
    /// Registry connection flags, for `oci://` references.
    pub registry: RegistryOptions,
}

impl Default for PullOptions {
    fn default() -> PullOptions {
        PullOptions {
            version: String::new(),
            devel: false,
            destination: ".".into(),
            untar: false,
            untar_dir: ".".into(),
            registry: RegistryOptions::default(),
        }
    }
}

/// Downloads `reference`; returns the path of the saved archive (or of the expanded
/// chart's parent folder with `--untar`).
pub fn pull(paths: &HelmPaths, reference: &str, options: &PullOptions) -> Result<PathBuf, Error> {
    pull_with_output(paths, reference, options).map(|(path, _)| path)
}

/// [`pull`], also returning what Helm prints (`Pulled:` and `Digest:` for OCI references).
pub fn pull_with_output(
    paths: &HelmPaths,
    reference: &str,
    options: &PullOptions,
) -> Result<(PathBuf, String), Error> {
    let version = if options.version.is_empty() && options.devel {
        ">0.0.0-0".to_string()
    } else {
        options.version.clone()
    };
    let (data, file_name, output) = if rudder_repo::oci::is_oci(reference) {
        let chart = fetch_oci_chart(paths, reference, &version, &options.registry)?;
        (chart.data, chart.file_name, chart.output)
    } else {
        let (data, file_name) = fetch_repo_chart(paths, reference, &version)?;
        (data, file_name, String::new())
    };
    save(reference, options, &data, &file_name).map(|path| (path, output))
}

/// A `repo/chart` reference or a URL, downloaded through the cached indexes.
fn fetch_repo_chart(
    paths: &HelmPaths,
    reference: &str,
    version: &str,
) -> Result<(Vec<u8>, String), Error> {
    // A missing repositories.yaml only matters for `repo/chart` references.
    let repositories = RepoFile::load(&paths.repository_config)
        .or_else(|_| RepoFile::parse(""))
        .map_err(Error::message)?;
    let resolved = resolve_chart(&repositories, &paths.repository_cache, reference, version)
        .map_err(Error::message)?;
    let get_options = resolved
        .repo
        .as_ref()
        .map(GetOptions::from)
        .unwrap_or_default();
    let data = getter::get(&resolved.url, &get_options).map_err(Error::message)?;
    Ok((data, archive_name(&resolved.url)))
}

/// Saves the archive under the destination, or expands it with `--untar`.
fn save(
    reference: &str,
    options: &PullOptions,
    data: &[u8],
    file_name: &str,
) -> Result<PathBuf, Error> {
    if !options.untar {
        let dest = Path::new(&options.destination);
        std::fs::create_dir_all(dest).map_err(Error::io)?;
        let saved = dest.join(file_name);
        std::fs::write(&saved, data).map_err(Error::io)?;
        return Ok(saved);
    }

    let mut untar_dir = PathBuf::from(&options.untar_dir);
    if !untar_dir.is_absolute() {
        untar_dir = Path::new(&options.destination).join(untar_dir);
    }
    let chart_name = reference.rsplit('/').next().unwrap_or(reference);
    // Helm refuses to expand over an existing folder of the chart's name.
    let check = if options.untar_dir == "." && options.destination == "." {
        PathBuf::from(chart_name)
    } else {
        untar_dir.join(chart_name)
    };
    if check.exists() {
        return Err(Error::message(format!(
            "failed to untar: a file or directory with the name {} already exists",
            check.display()
        )));
    }
    std::fs::create_dir_all(&check)
        .map_err(|e| Error::message(format!("failed to untar (mkdir): {e}")))?;
    expand(&untar_dir, data)?;
    Ok(untar_dir)
}

/// The last path segment of the URL, without its query.
fn archive_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Expands a chart archive under `dir`; the tar crate refuses entries that would land
/// outside it.
fn expand(dir: &Path, data: &[u8]) -> Result<(), Error> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(data));
    archive
        .unpack(dir)
        .map_err(|e| Error::message(format!("failed to untar: {e}")))
}
