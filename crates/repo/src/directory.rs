//! `helm repo index DIR [--url URL] [--merge FILE]`: index the packaged charts of a
//! folder.
//!
//! Charts are read with `rudder-chart`'s archive loader (which refuses unsafe archives
//! and unloadable charts are skipped, as Helm's `IndexDirectory` skips them); the digest is
//! the SHA-256 of the archive file.

use std::fs;
use std::path::{Path, PathBuf};

use rudder_value::{yaml, Value};

use crate::index::{ChartVersion, IndexFile};
use crate::{time, Error};

pub use crate::provenance::digest;

/// `*.tgz` in `dir` and in its direct subfolders, each group sorted by name: Go's
/// `filepath.Glob` with `*.tgz` then `**/*.tgz` (where `**` is just `*`, one level).
fn archives(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let list = |d: &Path| -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        found.sort();
        found
    };
    if !dir.is_dir() {
        return Err(Error::NotADirectory(dir.to_path_buf()));
    }
    let top = list(dir);
    let mut out: Vec<PathBuf> = top
        .iter()
        .filter(|p| is_tgz(p) && p.exists())
        .cloned()
        .collect();
    let mut nested: Vec<PathBuf> = top
        .iter()
        .filter(|p| p.is_dir())
        .flat_map(|d| list(d))
        .filter(|p| is_tgz(p))
        .collect();
    nested.sort();
    out.extend(nested);
    Ok(out)
}

fn is_tgz(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".tgz"))
}

/// Helm's `urlutil.URLJoin` for the simple case of appending path segments.
fn url_join(base: &str, segment: &str) -> String {
    if segment.is_empty() {
        return base.to_string();
    }
    if base.is_empty() {
        return segment.to_string();
    }
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        segment.trim_start_matches('/')
    )
}

/// `repo.IndexDirectory(dir, base_url)`.
pub fn index_directory(dir: &Path, base_url: &str) -> Result<IndexFile, Error> {
    let mut index = IndexFile::default();
    for archive in archives(dir)? {
        let data = fs::read(&archive).map_err(Error::io("open", &archive))?;
        let Ok(chart) = rudder_chart::loader::load_archive(&data) else {
            continue;
        };
        let Some(chart_yaml) = chart.raw.iter().find(|f| f.name == "Chart.yaml") else {
            continue;
        };
        let metadata = match yaml::from_yaml(&String::from_utf8_lossy(&chart_yaml.data)) {
            Ok(Value::Map(d)) => d.snapshot(),
            _ => continue,
        };
        let relative = archive.strip_prefix(dir).unwrap_or(&archive);
        let file_name = relative
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let parent = relative
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent_url = url_join(base_url, &parent);
        let url = url_join(&parent_url, &file_name);
        let cv = ChartVersion::new(&metadata, vec![url], &digest(&data), &time::now());
        if cv.name.is_empty() || cv.version.is_empty() {
            return Err(Error::UnnamedChart { file: file_name });
        }
        index.add(cv);
    }
    Ok(index)
}

/// `helm repo index`: index `dir`, optionally merging an existing index (whose versions
/// the folder does not have are kept), sorted, written to `dir/index.yaml`. With `json`
/// (`--json`) the files hold JSON, under the same names: Helm v4.2.3's `pkg/cmd/repo_index.go`
/// (`index`, `writeIndexFile`) writes `WriteJSONFile` output to `index.yaml` and to the
/// missing merge file alike.
pub fn repo_index(
    dir: &Path,
    base_url: &str,
    merge: Option<&Path>,
    json: bool,
) -> Result<IndexFile, Error> {
    let write = |index: &IndexFile, path: &Path| {
        if json {
            index.write_json(path)
        } else {
            index.write(path)
        }
    };
    let mut index = index_directory(dir, base_url)?;
    if let Some(merge) = merge {
        if merge.exists() {
            let old = IndexFile::load(merge).map_err(|e| Error::Merge(Box::new(e)))?;
            index.merge(&old);
        } else {
            // Helm creates the missing merge file as an empty index.
            write(&IndexFile::default(), merge)?;
        }
    }
    index.sort_entries();
    write(&index, &dir.join("index.yaml"))?;
    Ok(index)
}
