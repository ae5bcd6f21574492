//! `helm package` and `helm repo index`: the commands over rudder-repo's archive and index
//! code that need no network.

use std::path::{Path, PathBuf};

use rudder_repo::HelmPaths;
use rudder_value::goio::io_error_text;

use crate::Error;

/// `--version`, `--app-version`, `-d/--destination` and `-u` of `rudder package`.
#[derive(Clone, Debug, Default)]
pub struct PackageOptions {
    /// `--version` and `--app-version`.
    pub overrides: rudder_chart::package::MetadataOverrides,
    /// Where the archive goes; `.` means the working directory, as in Helm.
    pub destination: String,
    /// `-u/--dependency-update`: `dependency update` (quietly) before packaging.
    pub dependency_update: bool,
    /// The registry client's flags, for OCI dependencies with `-u`.
    pub registry: crate::RegistryOptions,
    /// `--keyring` (only kept for the update: Helm's `package -u` does not verify).
    pub keyring: PathBuf,
    /// Where Helm's log lines go.
    pub log: crate::LogSink,
}

/// Packages the chart folder at `chart_dir`; returns the archive's path as Helm prints it.
/// With `-u`, what the registry client prints while pulling OCI dependencies goes to
/// `out` (Helm discards the rest of the update's output).
pub fn package(
    paths: &HelmPaths,
    chart_dir: &str,
    options: &PackageOptions,
    out: &mut dyn std::io::Write,
) -> Result<PathBuf, Error> {
    // Helm's package command makes its registry client before looking at any chart.
    let registry = crate::registry::client(paths, &options.registry)?;
    let path = Path::new(chart_dir);
    std::fs::metadata(path)
        .map_err(|e| Error::message(format!("stat {chart_dir}: {}", io_error_text(&e))))?;
    if options.dependency_update {
        let mut sink = std::io::sink();
        let mut manager = rudder_repo::manager::Manager {
            out: &mut sink,
            chart_path: std::path::absolute(path).map_err(Error::io)?,
            paths: paths.clone(),
            skip_update: false,
            debug: false,
            log: crate::dependency::log_to(&options.log),
            registry: Some(registry),
            registry_out: Some(out),
            verify: false,
            keyring: crate::verify::keyring_or_default(&options.keyring),
        };
        manager.update()?;
    }
    let chart = rudder_chart::loader::load(path).map_err(|e| Error::message(e.to_string()))?;
    if let Some(version) = &options.overrides.version {
        rudder_semver::Version::parse(version).map_err(Error::typed)?;
    }
    // Helm refuses to package a chart whose declared dependencies are not in charts/.
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.metadata.name == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::message(format!(
            "found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        )));
    }
    let dest = if options.destination == "." || options.destination.is_empty() {
        std::env::current_dir().map_err(Error::io)?
    } else {
        PathBuf::from(&options.destination)
    };
    rudder_chart::package::package(path, &dest, &options.overrides)
        .map_err(|e| Error::context(format!("failed to save: {e}"), e))
}

/// `helm repo index DIR [--url URL] [--merge FILE]`: writes DIR/index.yaml.
pub fn repo_index(dir: &str, url: &str, merge: Option<&str>, json: bool) -> Result<(), Error> {
    let dir = std::path::absolute(dir).map_err(Error::io)?;
    rudder_repo::directory::repo_index(&dir, url, merge.map(Path::new), json)?;
    Ok(())
}
