//! `helm package`: a chart folder (with `.helmignore` applied by the loader) to
//! `<name>-<version>.tgz`, laid out as Helm's `chartutil.Save`: `<name>/Chart.yaml` first
//! (rewritten from the metadata, with `--version` / `--app-version` applied), then
//! `values.yaml`, `values.schema.json`, templates, other files, and subcharts under
//! `<name>/charts/`, every file mode 0644.
//!
//! Not yet byte-identical to Helm's archive: Helm also stamps file modification times and a
//! gzip header comment of its own; contents, names, order and modes match.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use rudder_value::goio::io_error_text;
use rudder_value::{yaml, Map, Value};

use crate::{Chart, METADATA_FIELDS};

/// Why a chart could not be packaged, worded as Helm's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The chart folder does not load.
    #[error(transparent)]
    Load(#[from] crate::LoadError),
    /// The loaded chart has no Chart.yaml file.
    #[error("Chart.yaml file is missing")]
    MissingChartYaml,
    /// Chart.yaml could not be read.
    #[error(transparent)]
    ReadYaml(#[from] rudder_value::yaml::DecodeError),
    /// Chart.yaml could not be written back.
    #[error(transparent)]
    WriteYaml(#[from] rudder_value::yaml::EncodeError),
    /// A chart name that cannot be a folder of the archive.
    #[error("chart name {name:?} is invalid")]
    InvalidName { name: String },
    /// An archive entry could not be written.
    #[error("write {name}: {source}")]
    Entry {
        name: String,
        source: std::io::Error,
    },
    /// Finishing the tar stream or its compression failed.
    #[error("{0}")]
    Compress(#[source] std::io::Error),
    /// A file system call on the destination failed (Go's `*PathError` wording).
    #[error("{op} {}: {}", .path.display(), io_error_text(.source))]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Whether Go's `encoding/json` drops the value of an `omitempty` field: false, 0, "", and
/// empty lists and maps (how Helm writes Chart.yaml and index entries back).
pub fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Int(i) | Value::Int64(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::List(l) => l.is_empty(),
        Value::Strings(l) => l.is_empty(),
        Value::Map(d) => d.is_empty(),
        _ => false,
    }
}

/// What `--version` and `--app-version` change in the packaged Chart.yaml.
#[derive(Clone, Debug, Default)]
pub struct MetadataOverrides {
    pub version: Option<String>,
    pub app_version: Option<String>,
}

/// Chart.yaml as Helm writes it back from `chart.Metadata`: known keys only, empty ones
/// dropped, keys sorted.
fn chart_yaml(chart: &Chart, overrides: &MetadataOverrides) -> Result<Vec<u8>, Error> {
    let raw = chart
        .raw
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .ok_or(Error::MissingChartYaml)?;
    let mut map: Map = match yaml::from_yaml(&String::from_utf8_lossy(&raw.data))? {
        Value::Map(d) => d.snapshot(),
        _ => Map::new(),
    };
    map.retain(|k, v| METADATA_FIELDS.contains(&k.as_str()) && !is_empty_value(v));
    if let Some(v) = &overrides.version {
        map.insert("version".into(), Value::str(v));
    }
    if let Some(v) = &overrides.app_version {
        map.insert("appVersion".into(), Value::str(v));
    }
    // apiVersion v1 charts keep dependencies in requirements.yaml, not Chart.yaml.
    if map.get("apiVersion").and_then(Value::as_str) == Some("v1") {
        map.remove("dependencies");
    }
    Ok(yaml::to_yaml(&Value::map(map))?.into_bytes())
}

fn append<W: Write>(out: &mut tar::Builder<W>, name: &str, data: &[u8]) -> Result<(), Error> {
    let mut header = tar::Header::new_ustar();
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    header.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    header.set_entry_type(tar::EntryType::Regular);
    out.append_data(&mut header, name, data)
        .map_err(|source| Error::Entry {
            name: name.to_string(),
            source,
        })
}

fn write_chart<W: Write>(
    out: &mut tar::Builder<W>,
    chart: &Chart,
    prefix: &str,
    overrides: &MetadataOverrides,
) -> Result<(), Error> {
    let name = &chart.metadata.name;
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(Error::InvalidName { name: name.clone() });
    }
    let base = if prefix.is_empty() {
        name.clone()
    } else {
        format!("{prefix}/{name}")
    };
    append(
        out,
        &format!("{base}/Chart.yaml"),
        &chart_yaml(chart, overrides)?,
    )?;
    if chart.metadata.api_version == "v2" {
        if let Some(lock) = chart.raw.iter().find(|f| f.name == "Chart.lock") {
            append(out, &format!("{base}/Chart.lock"), &lock.data)?;
        }
    }
    if let Some(values) = chart.raw.iter().find(|f| f.name == "values.yaml") {
        append(out, &format!("{base}/values.yaml"), &values.data)?;
    }
    if let Some(schema) = &chart.schema {
        append(out, &format!("{base}/values.schema.json"), schema)?;
    }
    for f in chart.templates.iter().chain(&chart.files) {
        append(out, &format!("{base}/{}", f.name), &f.data)?;
    }
    for dep in &chart.dependencies {
        write_chart(
            out,
            dep,
            &format!("{base}/charts"),
            &MetadataOverrides::default(),
        )?;
    }
    Ok(())
}

/// The archive's bytes for an already loaded chart.
pub fn archive(chart: &Chart, options: &MetadataOverrides) -> Result<Vec<u8>, Error> {
    let gz = GzEncoder::new(Vec::new(), Compression::default());
    let mut out = tar::Builder::new(gz);
    write_chart(&mut out, chart, "", options)?;
    let gz = out.into_inner().map_err(Error::Compress)?;
    gz.finish().map_err(Error::Compress)
}

/// `helm package DIR -d DEST`: returns the written archive's path.
pub fn package(
    chart_dir: &Path,
    dest: &Path,
    options: &MetadataOverrides,
) -> Result<PathBuf, Error> {
    let chart = crate::loader::load(chart_dir)?;
    let data = archive(&chart, options)?;
    let version = options
        .version
        .clone()
        .unwrap_or_else(|| chart.metadata.version.clone());
    let path = dest.join(format!("{}-{}.tgz", chart.metadata.name, version));
    std::fs::create_dir_all(dest).map_err(|source| Error::Io {
        op: "mkdir",
        path: dest.to_path_buf(),
        source,
    })?;
    std::fs::write(&path, data).map_err(|source| Error::Io {
        op: "open",
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
