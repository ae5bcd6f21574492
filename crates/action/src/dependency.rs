//! `helm dependency list`: each dependency Chart.yaml declares, with its status in charts/;
//! `helm dependency update` and `build` over rudder-repo's dependency manager.

use std::path::{Path, PathBuf};

use rudder_repo::manager::Manager;
use rudder_repo::HelmPaths;

use rudder_chart::{Chart, Dependency};
use rudder_semver::{Constraints, Version};

use crate::Error;

/// One row of `rudder dependency list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DependencyStatus {
    pub name: String,
    pub version: String,
    pub repository: String,
    /// `ok`, `unpacked`, `missing`, `wrong version`, `invalid version`, `corrupt`,
    /// `misnamed` or `too many matches`, as Helm says.
    pub status: String,
}

/// The statuses, in Chart.yaml order, and the warnings Helm prints after the table.
pub fn dependency_list(chart_dir: &str) -> Result<(Vec<DependencyStatus>, Vec<String>), Error> {
    let dir = Path::new(chart_dir);
    let chart = rudder_chart::loader::load(dir).map_err(|e| Error::message(e.to_string()))?;
    let charts_dir = dir.join("charts");
    let rows = chart
        .metadata
        .dependencies
        .iter()
        .map(|dep| DependencyStatus {
            name: dep.name.clone(),
            version: dep.version.clone(),
            repository: dep.repository.clone(),
            status: status(&charts_dir, dep, &chart).to_string(),
        })
        .collect();
    let mut warnings = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&charts_dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        let is_archive = path.extension().is_some_and(|e| e == "tgz");
        if !path.is_dir() && !is_archive {
            continue;
        }
        let shown = path.display().to_string();
        match rudder_chart::loader::load(&path) {
            Err(_) => warnings.push(format!("WARNING: {shown:?} is not a chart.")),
            Ok(sub) => {
                if !chart
                    .metadata
                    .dependencies
                    .iter()
                    .any(|d| d.name == sub.metadata.name)
                {
                    warnings.push(format!("WARNING: {shown:?} is not in Chart.yaml."));
                }
            }
        }
    }
    Ok((rows, warnings))
}

/// Whether `found` satisfies the declared version (equal, or matching it as a constraint).
fn version_status(declared: &str, found: &str) -> Option<&'static str> {
    if declared == found {
        return None;
    }
    let Ok(constraint) = Constraints::parse(declared) else {
        return Some("invalid version");
    };
    let Ok(version) = Version::parse(found) else {
        return Some("invalid version");
    };
    (!constraint.check(&version)).then_some("wrong version")
}

fn archive_status(archive: &Path, dep: &Dependency) -> &'static str {
    match rudder_chart::loader::load(archive) {
        Err(_) => "corrupt",
        Ok(c) if c.metadata.name != dep.name => "misnamed",
        Ok(c) => version_status(&dep.version, &c.metadata.version).unwrap_or("ok"),
    }
}

fn status(charts_dir: &Path, dep: &Dependency, parent: &Chart) -> &'static str {
    // Archives named `<name>-*.tgz`; with several, only those whose suffix is a strict
    // semantic version count.
    let prefix = format!("{}-", dep.name);
    let mut archives: Vec<_> = std::fs::read_dir(charts_dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".tgz"))
                })
                .collect()
        })
        .unwrap_or_default();
    archives.sort();
    if archives.len() == 1 {
        return archive_status(&archives[0], dep);
    }
    if archives.len() > 1 {
        let strict: Vec<_> = archives
            .iter()
            .filter(|a| {
                let stem = a.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let version = &stem[prefix.len()..stem.len() - ".tgz".len()];
                Version::parse_strict(version).is_ok()
            })
            .collect();
        match strict.len() {
            1 => return archive_status(strict[0], dep),
            0 => {}
            _ => return "too many matches",
        }
    }
    // Helm takes the last loaded subchart of that name.
    match parent
        .dependencies
        .iter()
        .rev()
        .find(|c| c.metadata.name == dep.name)
    {
        None => "missing",
        Some(sub) => version_status(&dep.version, &sub.metadata.version).unwrap_or("unpacked"),
    }
}

/// The flags of `rudder dependency update` and `rudder dependency build`.
#[derive(Clone, Debug, Default)]
pub struct DependencyUpdateOptions {
    /// `--skip-refresh`: use the cached repository indexes as they are.
    pub skip_refresh: bool,
    /// `--verify`: check each downloaded dependency's provenance file against `keyring`.
    pub verify: bool,
    /// `--keyring` (empty: Helm's default keyring).
    pub keyring: PathBuf,
    /// The registry client's flags (`--username`, `--password`, `--cert-file`,
    /// `--key-file`, `--ca-file`, `--insecure-skip-tls-verify`, `--plain-http`), which in
    /// Helm apply to OCI dependencies only; chart repositories keep their repositories.yaml
    /// settings.
    pub registry: crate::RegistryOptions,
    /// `--debug`.
    pub debug: bool,
    /// Where Helm's log lines go (a lock file checked against Helm v2's hash).
    pub log: crate::LogSink,
}

fn manager<'a>(
    paths: &HelmPaths,
    chart_dir: &str,
    options: &DependencyUpdateOptions,
    out: &'a mut dyn std::io::Write,
) -> Result<Manager<'a>, Error> {
    // As Helm, the registry client is made before anything else, so bad TLS files fail
    // first.
    let registry = crate::registry::client(paths, &options.registry)?;
    Ok(Manager {
        out,
        chart_path: PathBuf::from(clean_chart_path(chart_dir)),
        paths: paths.clone(),
        skip_update: options.skip_refresh,
        debug: options.debug,
        log: log_to(&options.log),
        registry: Some(registry),
        registry_out: None,
        verify: options.verify,
        keyring: crate::verify::keyring_or_default(&options.keyring),
    })
}

/// The repo crate's manager logs through a plain function; this one hands its records to
/// `sink`.
pub(crate) fn log_to(sink: &crate::LogSink) -> Box<dyn Fn(crate::LogRecord)> {
    let sink = sink.clone();
    Box::new(move |record| sink.emit(record))
}

/// `filepath.Clean` of the chart argument (`.` when empty).
fn clean_chart_path(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|s| *s != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            s => parts.push(s),
        }
    }
    match (rooted, parts.is_empty()) {
        (true, _) => format!("/{}", parts.join("/")),
        (false, true) => ".".into(),
        (false, false) => parts.join("/"),
    }
}

/// `helm dependency update CHART`: progress goes to `out`.
pub fn dependency_update(
    paths: &HelmPaths,
    chart_dir: &str,
    options: &DependencyUpdateOptions,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    Ok(manager(paths, chart_dir, options, out)?.update()?)
}

/// `helm dependency build CHART`: progress goes to `out`.
pub fn dependency_build(
    paths: &HelmPaths,
    chart_dir: &str,
    options: &DependencyUpdateOptions,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    Ok(manager(paths, chart_dir, options, out)?.build()?)
}

#[cfg(test)]
mod tests {
    use super::clean_chart_path;

    #[test]
    fn chart_paths_are_cleaned_as_go_does() {
        assert_eq!(clean_chart_path(""), ".");
        assert_eq!(clean_chart_path("./web/"), "web");
        assert_eq!(clean_chart_path("a/../../b"), "../b");
        assert_eq!(clean_chart_path("/x//y/."), "/x/y");
    }
}
