//! Chart loading and values as the commands use them (Helm's `LocateChart`, `MergeValues`,
//! `CheckDependencies`, `checkIfInstallable`).

use std::io::Read;

use rudder_chart::{strvals, Chart};
use rudder_value::{Map, Value};

use crate::{Error, ValueOptions};

/// Loads a chart from a local folder or archive; a reference that is not on disk is reported
/// as Helm's `LocateChart` reports it (repositories are not supported yet).
pub(crate) fn load(chart_ref: &str) -> Result<Chart, Error> {
    let path = std::path::Path::new(chart_ref);
    if !path.exists() {
        return Err(Error::message(
            if path.is_absolute() || chart_ref.starts_with('.') {
                format!("path {chart_ref:?} not found")
            } else if let Some((repo, _)) = chart_ref.split_once('/') {
                format!("repo {repo} not found")
            } else {
                format!("non-absolute URLs should be in form of repo_name/path_to_chart, got: {chart_ref}")
            },
        ));
    }
    rudder_chart::load(chart_ref).map_err(|e| Error::message(e.to_string()))
}

fn read_source(path: &str) -> Result<String, Error> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(Error::io)?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| Error::message(format!("open {path}: {}", go_io_error(&e))))
}

fn go_io_error(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory",
        std::io::ErrorKind::PermissionDenied => "permission denied",
        _ => "read error",
    }
}

/// Helm's `values.Options.MergeValues`: `-f` files, then `--set-json`, `--set`,
/// `--set-string`, `--set-file`, `--set-literal`.
pub(crate) fn user_values(opts: &ValueOptions) -> Result<Value, Error> {
    let mut base = Map::new();
    for f in &opts.value_files {
        let text = read_source(f)?;
        let values = rudder_chart::loader::load_values(&text).map_err(|e| {
            Error::message(format!(
                "failed to parse {f}: {}",
                e.trim_start_matches("cannot unmarshal yaml document: ")
            ))
        })?;
        base = rudder_chart::merge_maps(
            base,
            values.as_dict().map(|d| d.snapshot()).unwrap_or_default(),
        );
    }
    for s in &opts.set_json {
        strvals::parse_json_into(s, &mut base)
            .map_err(|e| Error::message(format!("failed parsing --set-json data {s}: {e}")))?;
    }
    for s in &opts.set {
        strvals::parse_into(s, &mut base)
            .map_err(|e| Error::message(format!("failed parsing --set data: {e}")))?;
    }
    for s in &opts.set_string {
        strvals::parse_string_into(s, &mut base)
            .map_err(|e| Error::message(format!("failed parsing --set-string data: {e}")))?;
    }
    for s in &opts.set_file {
        let reader = |p: &str| read_source(p).map_err(|e| e.to_string());
        strvals::parse_file_into(s, &mut base, &reader)
            .map_err(|e| Error::message(format!("failed parsing --set-file data: {e}")))?;
    }
    for s in &opts.set_literal {
        strvals::parse_literal_into(s, &mut base)
            .map_err(|e| Error::message(format!("failed parsing --set-literal data: {e}")))?;
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

pub(crate) fn process_dependencies(chart: &mut Chart, values: &Value) -> Result<(), String> {
    rudder_chart::process_dependencies(chart, values)
}

pub(crate) fn coalesce(chart: &Chart, values: &Value, skip_schema: bool) -> Result<Value, Error> {
    rudder_chart::to_render_values_check(chart, values, skip_schema).map_err(Error::message)
}

pub(crate) fn kube_version_compatible(constraint: &str, version: &str) -> bool {
    rudder_semver::is_compatible_range(constraint, version)
}

pub(crate) fn crd_objects(chart: &Chart) -> Vec<(String, String)> {
    chart.crd_objects()
}
