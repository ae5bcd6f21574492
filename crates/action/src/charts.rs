//! Chart loading and values as the commands use them (Helm's `LocateChart`, `MergeValues`,
//! `CheckDependencies`, `checkIfInstallable`).

use std::io::Read;
use std::path::{Path, PathBuf};

use rudder_chart::{strvals, Chart};
use rudder_value::goio::io_error_text;
use rudder_value::{Map, Value};

use rudder_repo::downloader;
use rudder_repo::getter::GetOptions;
use rudder_repo::HelmPaths;

use crate::{Error, ValueOptions};

/// Where a chart argument is looked for (Helm's `ChartPathOptions`): `--version`,
/// `--devel`, `--repo` and the credentials and TLS files for downloading it.
#[derive(Clone, Debug, Default)]
pub struct ChartPathOptions {
    pub version: String,
    /// `--devel`: with no `--version`, the constraint `>0.0.0-0` (pre-releases too).
    pub devel: bool,
    /// `--repo`: the repository URL to find the chart in.
    pub repo_url: String,
    pub username: String,
    pub password: String,
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub insecure_skip_tls_verify: bool,
    pub pass_credentials_all: bool,
    /// `--plain-http`: talk to an OCI registry over HTTP.
    pub plain_http: bool,
    /// `--dependency-update` (install, upgrade, template): run `dependency update` on a
    /// local chart whose dependencies are missing, then load it again.
    pub dependency_update: bool,
    /// Where the repositories file, the repository and content caches and the registry
    /// credentials are (the command line's settings).
    pub paths: HelmPaths,
    /// Where `--dependency-update` reports its progress (the command line's standard output).
    pub progress: crate::Progress,
    /// `--verify`: check the chart's provenance file against `keyring` before using it.
    pub verify: bool,
    /// `--keyring`; empty for Helm's default keyring.
    pub keyring: PathBuf,
}

impl ChartPathOptions {
    fn get_options(&self) -> GetOptions {
        GetOptions {
            repo_url: String::new(),
            username: self.username.clone(),
            password: self.password.clone(),
            pass_credentials_all: self.pass_credentials_all,
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            plugins: Some(self.paths.clone()),
            ..GetOptions::default()
        }
    }

    fn version(&self) -> String {
        let version = self.version.trim();
        if version.is_empty() && self.devel {
            ">0.0.0-0".into()
        } else {
            version.to_string()
        }
    }
}

/// Helm's `LocateChart`: the one place a chart argument becomes a file or folder on disk.
/// A local folder or archive is used as is; otherwise the reference is downloaded into
/// Helm's content cache: `--repo URL` with a chart name, `repo/chart` from a configured
/// repository's cached index, or an archive URL.
pub fn locate_chart(
    paths: &HelmPaths,
    chart_ref: &str,
    opts: &ChartPathOptions,
) -> Result<PathBuf, Error> {
    let name = chart_ref.trim();
    let version = opts.version();
    let msg = Error::message;
    if opts.repo_url.is_empty() {
        let path = Path::new(name);
        if path.exists() {
            let abs = std::path::absolute(path).map_err(Error::io)?;
            if opts.verify {
                crate::verify::verify_local(&abs, &opts.keyring)?;
            }
            return Ok(abs);
        }
        if path.is_absolute() || name.starts_with('.') {
            return Err(msg(format!("path {name:?} not found")));
        }
    }
    let located = match ChartReference::of(name, opts) {
        ChartReference::Oci => {
            let registry = crate::registry::RegistryOptions {
                plain_http: opts.plain_http,
                ca_file: opts.ca_file.clone(),
                cert_file: opts.cert_file.clone(),
                key_file: opts.key_file.clone(),
                insecure_skip_tls_verify: opts.insecure_skip_tls_verify,
                username: opts.username.clone(),
                password: opts.password.clone(),
            };
            let chart = crate::registry::fetch_oci_chart_with_prov(
                paths,
                name,
                &version,
                &registry,
                opts.verify,
            )?;
            if opts.verify {
                let prov = chart.required_prov()?;
                crate::verify::verify_archive(&chart.data, prov, &chart.file_name, &opts.keyring)?;
            }
            // Kept in Helm's content cache under the archive's digest, like other downloads.
            let digest = rudder_repo::provenance::digest(&chart.data);
            let dir = paths.content_cache.join(&digest[..2]);
            std::fs::create_dir_all(&dir).map_err(Error::io)?;
            let file = dir.join(format!("{digest}.chart"));
            std::fs::write(&file, &chart.data).map_err(Error::io)?;
            return std::path::absolute(file).map_err(Error::io);
        }
        ChartReference::InRepoUrl => {
            let base = opts.get_options();
            let url =
                downloader::find_chart_in_repo_url(paths, &opts.repo_url, name, &version, &base)?;
            // The credentials go along only to the repository's own scheme, host and port,
            // unless passed to every host.
            let mut get = base;
            if !(opts.pass_credentials_all || same_origin(&opts.repo_url, &url)) {
                get.username.clear();
                get.password.clear();
            }
            downloader::resolve_chart_version(paths, &url, &version, &get)?
        }
        ChartReference::Repository => {
            downloader::resolve_chart_version(paths, name, &version, &opts.get_options())?
        }
    };
    std::fs::create_dir_all(&paths.repository_cache).map_err(Error::io)?;
    let file = downloader::download_to_cache(&paths.content_cache, &located)?;
    if opts.verify {
        // DownloadToCache with VerifyAlways: URL.prov next to the archive, checked under the
        // name the URL gives the archive.
        let archive = std::fs::read(&file).map_err(Error::io)?;
        let prov = crate::verify::fetch_provenance(&located.url, &located.options)?;
        let file_name = crate::verify::url_file_name(&located.url);
        crate::verify::verify_archive(&archive, &prov, &file_name, &opts.keyring)?;
    }
    std::path::absolute(file).map_err(Error::io)
}

/// The kinds of non-local chart references, each resolved its own way.
enum ChartReference {
    /// `oci://registry/path/chart`.
    Oci,
    /// A chart name in the repository given by `--repo`.
    InRepoUrl,
    /// `repo/chart` (a configured repository) or an absolute archive URL.
    Repository,
}

impl ChartReference {
    fn of(name: &str, opts: &ChartPathOptions) -> ChartReference {
        if name.starts_with("oci://") {
            ChartReference::Oci
        } else if !opts.repo_url.is_empty() {
            ChartReference::InRepoUrl
        } else {
            ChartReference::Repository
        }
    }
}

pub(crate) fn same_origin(a: &str, b: &str) -> bool {
    let origin = |u: &str| {
        let (scheme, rest) = u.split_once("://")?;
        let host = rest.split(['/', '?', '#']).next()?;
        Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
    };
    origin(a).is_some() && origin(a) == origin(b)
}

/// Locates (see [`locate_chart`]) and loads a chart.
pub(crate) fn load(chart_ref: &str, opts: &ChartPathOptions) -> Result<Chart, Error> {
    let path = locate_chart(&opts.paths, chart_ref, opts)?;
    rudder_chart::load(&path).map_err(|e| Error::message(e.to_string()))
}

fn read_source(path: &str) -> Result<String, Error> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(Error::io)?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| Error::message(format!("open {path}: {}", io_error_text(&e))))
}

/// Helm's `values.Options.MergeValues`: `-f` files, then `--set-json`, `--set`,
/// `--set-string`, `--set-file`, `--set-literal`.
pub(crate) fn user_values(opts: &ValueOptions) -> Result<Value, Error> {
    let mut base = Map::new();
    for f in &opts.value_files {
        let text = read_source(f)?;
        let values = rudder_chart::loader::load_values(&text)
            .map_err(|e| Error::context(format!("failed to parse {f}: {}", e.reason), e))?;
        base = rudder_chart::merge_maps(
            base,
            values.as_dict().map(|d| d.snapshot()).unwrap_or_default(),
        );
    }
    for s in &opts.set_json {
        strvals::parse_json_into(s, &mut base)
            .map_err(|e| Error::context(format!("failed parsing --set-json data {s}: {e}"), e))?;
    }
    for s in &opts.set {
        strvals::parse_into(s, &mut base)
            .map_err(|e| Error::context(format!("failed parsing --set data: {e}"), e))?;
    }
    for s in &opts.set_string {
        strvals::parse_string_into(s, &mut base)
            .map_err(|e| Error::context(format!("failed parsing --set-string data: {e}"), e))?;
    }
    for s in &opts.set_file {
        let reader = |p: &str| read_source(p).map_err(Into::into);
        strvals::parse_file_into(s, &mut base, &reader)
            .map_err(|e| Error::context(format!("failed parsing --set-file data: {e}"), e))?;
    }
    for s in &opts.set_literal {
        strvals::parse_literal_into(s, &mut base)
            .map_err(|e| Error::context(format!("failed parsing --set-literal data: {e}"), e))?;
    }
    Ok(Value::map(base))
}

/// Helm's `checkIfInstallable`.
pub(crate) fn check_installable(chart: &Chart) -> Result<(), Error> {
    match chart.metadata.chart_type.as_str() {
        "" | "application" => Ok(()),
        other => Err(Error::message(format!(
            "{other} charts are not installable"
        ))),
    }
}

/// Loads the chart (see [`load`]) and checks that its dependencies are present, first
/// fetching them with `dependency update` when `--dependency-update` asks for it, as Helm's
/// install, upgrade and template do (the update's progress goes to standard output).
pub(crate) fn load_with_dependencies(
    chart_ref: &str,
    opts: &ChartPathOptions,
    deprecation: DeprecationCheck,
    log: &crate::LogSink,
) -> Result<Chart, Error> {
    let path = locate_chart(&opts.paths, chart_ref, opts)?;
    let load = |p: &Path| {
        let mut chart = rudder_chart::load(p).map_err(|e| Error::message(e.to_string()))?;
        log.emit_all(std::mem::take(&mut chart.load_logs));
        Ok(chart)
    };
    let chart = load(&path)?;
    check_installable(&chart)?;
    if deprecation == DeprecationCheck::BeforeDependencies {
        warn_if_deprecated(&chart, log);
    }
    let chart = load_missing_dependencies(chart, &path, opts, log, load)?;
    if deprecation == DeprecationCheck::AfterDependencies {
        warn_if_deprecated(&chart, log);
    }
    Ok(chart)
}

/// When a command warns about a deprecated chart: `helm install` and `helm template` before
/// checking its dependencies, `helm upgrade` after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeprecationCheck {
    BeforeDependencies,
    AfterDependencies,
}

fn load_missing_dependencies(
    chart: Chart,
    path: &Path,
    opts: &ChartPathOptions,
    log: &crate::LogSink,
    load: impl Fn(&Path) -> Result<Chart, Error>,
) -> Result<Chart, Error> {
    match check_dependencies(&chart) {
        Err(_) if opts.dependency_update && path.is_dir() => {
            let options = crate::DependencyUpdateOptions {
                log: log.clone(),
                ..Default::default()
            };
            let mut out = opts.progress.clone();
            crate::dependency_update(&opts.paths, &path.to_string_lossy(), &options, &mut out)?;
            load(path).map_err(|e| {
                Error::message(format!("failed reloading chart after repo update: {e}"))
            })
        }
        Err(e) => Err(e),
        Ok(()) => Ok(chart),
    }
}

/// Helm's `CheckDependencies`.
pub(crate) fn check_dependencies(chart: &Chart) -> Result<(), Error> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::message(format!(
        "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}",
        missing.join(", ")
    )))
}

/// Helm's `ProcessDependencies`, its warnings handed to `log`, its failure worded as
/// install, upgrade and template report it.
pub(crate) fn process_dependencies(
    chart: &mut Chart,
    values: &Value,
    log: &crate::LogSink,
) -> Result<(), Error> {
    let mut logs = Vec::new();
    let result = rudder_chart::process_dependencies(chart, values, &mut logs);
    log.emit_all(logs);
    result.map_err(|e| Error::context(format!("chart dependencies processing failed: {e}"), e))
}

/// Coalesces and validates the values to render with, its warnings handed to `log`.
pub(crate) fn coalesce(
    chart: &Chart,
    values: &Value,
    skip_schema: bool,
    log: &crate::LogSink,
) -> Result<Value, Error> {
    let mut logs = Vec::new();
    let result = rudder_chart::to_render_values_check(chart, values, skip_schema, &mut logs);
    log.emit_all(logs);
    result.map_err(Error::typed)
}

/// What `helm install` and `helm upgrade` log about a chart marked deprecated.
pub(crate) fn warn_if_deprecated(chart: &Chart, log: &crate::LogSink) {
    if chart.metadata.deprecated {
        log.emit(crate::LogRecord::warn("this chart is deprecated"));
    }
}

pub(crate) fn kube_version_compatible(constraint: &str, version: &str) -> bool {
    rudder_semver::is_compatible_range(constraint, version)
}
