//! `helm create NAME [--starter STARTER]` (Helm's `pkg/cmd/create.go`,
//! `pkg/chart/v2/util/create.go`).
//!
//! The scaffold is rudder's own text (src/scaffold/), not Helm's: this project does not
//! copy Helm's words. It has the same files, the same Chart.yaml fields and the same
//! values keys and defaults as Helm v4.2.3's scaffold, and its templates make the same
//! objects (kinds and names) from them, so a chart made by either works the same; the
//! comments, notes and template layout differ. `<CHARTNAME>` in a scaffold or starter
//! file becomes the chart's name, as in Helm.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::Error;

/// The placeholder starters and the scaffold use for the chart's name.
const PLACEHOLDER: &str = "<CHARTNAME>";

/// Helm's `maxChartNameLength`.
const MAX_NAME: usize = 250;

/// The scaffold: (path inside the chart, text with the placeholder), in Helm's write order.
const SCAFFOLD: &[(&str, &str)] = &[
    ("Chart.yaml", include_str!("scaffold/Chart.yaml")),
    ("values.yaml", include_str!("scaffold/values.yaml")),
    (".helmignore", include_str!("scaffold/helmignore")),
    (
        "templates/ingress.yaml",
        include_str!("scaffold/templates/ingress.yaml"),
    ),
    (
        "templates/httproute.yaml",
        include_str!("scaffold/templates/httproute.yaml"),
    ),
    (
        "templates/deployment.yaml",
        include_str!("scaffold/templates/deployment.yaml"),
    ),
    (
        "templates/service.yaml",
        include_str!("scaffold/templates/service.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_str!("scaffold/templates/serviceaccount.yaml"),
    ),
    (
        "templates/hpa.yaml",
        include_str!("scaffold/templates/hpa.yaml"),
    ),
    (
        "templates/NOTES.txt",
        include_str!("scaffold/templates/NOTES.txt"),
    ),
    (
        "templates/_helpers.tpl",
        include_str!("scaffold/templates/_helpers.tpl"),
    ),
    (
        "templates/tests/test-connection.yaml",
        include_str!("scaffold/templates/tests/test-connection.yaml"),
    ),
];

/// Helm's `validateChartName`.
fn validate_name(name: &str) -> Result<(), Error> {
    static VALID: OnceLock<regex::Regex> = OnceLock::new();
    let valid = VALID.get_or_init(|| regex::Regex::new("^[a-zA-Z0-9._-]+$").expect("valid regex"));
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(Error::message(format!(
            "chart name must be between 1 and {MAX_NAME} characters"
        )));
    }
    if !valid.is_match(name) {
        return Err(Error::message(format!(
            "chart name must match the regular expression \"{}\"",
            valid.as_str()
        )));
    }
    Ok(())
}

fn io_at(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| {
        Error::message(format!(
            "{}: {}",
            path.display(),
            rudder_value::goio::io_error_text(&e)
        ))
    }
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    std::fs::write(path, data).map_err(io_at(path))
}

/// The chart directory for `name` (`path/to/NAME`): `<abs parent>/NAME`, checked as Helm
/// checks it (the parent must be a directory; the chart path, if there, too).
fn chart_dir(name_arg: &str) -> Result<(String, PathBuf), Error> {
    let arg = Path::new(name_arg);
    let name = arg
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    validate_name(&name)?;
    let parent = match arg.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent = std::path::absolute(&parent).map_err(Error::io)?;
    match std::fs::metadata(&parent) {
        Err(e) => {
            return Err(Error::message(format!(
                "stat {}: {}",
                parent.display(),
                rudder_value::goio::io_error_text(&e)
            )))
        }
        Ok(m) if !m.is_dir() => {
            return Err(Error::message(format!(
                "no such directory {}",
                parent.display()
            )))
        }
        Ok(_) => {}
    }
    let dir = parent.join(&name);
    if std::fs::metadata(&dir).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::message(format!(
            "file {} already exists and is not a directory",
            dir.display()
        )));
    }
    Ok((name, dir))
}

/// `helm create NAME`: writes the scaffold into `NAME` (its parent must exist), warning on
/// `out` (as Helm does, on standard output) for each file it overwrites. Returns the chart
/// directory.
pub fn create(name_arg: &str, out: &mut dyn Write) -> Result<PathBuf, Error> {
    let (name, dir) = chart_dir(name_arg)?;
    for (rel, text) in SCAFFOLD {
        let path = dir.join(rel);
        if path.exists() {
            writeln!(
                out,
                "WARNING: File {:?} already exists. Overwriting.",
                path.display().to_string()
            )
            .map_err(Error::io)?;
        }
        write_file(&path, text.replace(PLACEHOLDER, &name).as_bytes())?;
    }
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts).map_err(io_at(&charts))?;
    Ok(dir)
}

/// `helm create NAME --starter STARTER`: the starter chart (a name under
/// `<data home>/starters`, or an absolute path) copied as Helm's `CreateFrom` copies it:
/// a new Chart.yaml (name, Helm's description, type application, version and appVersion
/// 0.1.0), the placeholder replaced in templates and values.yaml, other files as they are,
/// subcharts as archives in charts/. The starter's Chart.lock is not copied (Helm's loader
/// keeps it apart from the files SaveDir writes).
pub fn create_from_starter(
    name_arg: &str,
    starter: &str,
    data_home: &Path,
) -> Result<PathBuf, Error> {
    let source = if Path::new(starter).is_absolute() {
        PathBuf::from(starter)
    } else {
        data_home.join("starters").join(starter)
    };
    let chart = rudder_chart::load(&source)
        .map_err(|e| Error::message(format!("could not load {}: {e}", source.display())))?;
    let (name, dir) = chart_dir(name_arg)?;
    std::fs::create_dir_all(&dir).map_err(io_at(&dir))?;
    let metadata = rudder_chart::Metadata {
        name: name.clone(),
        description: "A Helm chart for Kubernetes".into(),
        chart_type: "application".into(),
        version: "0.1.0".into(),
        app_version: "0.1.0".into(),
        api_version: "v2".into(),
        ..Default::default()
    };
    write_file(&dir.join("Chart.yaml"), metadata.to_yaml().as_bytes())?;
    let replace = |data: &[u8]| String::from_utf8_lossy(data).replace(PLACEHOLDER, &name);
    if let Some(values) = chart.raw.iter().find(|f| f.name == "values.yaml") {
        write_file(&dir.join("values.yaml"), replace(&values.data).as_bytes())?;
    }
    if let Some(schema) = &chart.schema {
        write_file(&dir.join("values.schema.json"), schema)?;
    }
    for t in &chart.templates {
        write_file(&dir.join(&t.name), replace(&t.data).as_bytes())?;
    }
    for f in &chart.files {
        write_file(&dir.join(&f.name), &f.data)?;
    }
    // SaveDir writes each subchart of the starter (a folder or an archive in its charts/)
    // as an archive, `charts/NAME-VERSION.tgz`, the placeholder left as it is
    // (pkg/chart/v2/util/save.go SaveDir: `Save(dep, base)` for `c.Dependencies()`).
    for dep in &chart.dependencies {
        let data = rudder_chart::package::archive(
            dep,
            &rudder_chart::package::MetadataOverrides::default(),
        )
        .map_err(|e| Error::message(format!("saving {name}/charts/{}: {e}", dep.metadata.name)))?;
        let file = dir.join("charts").join(format!(
            "{}-{}.tgz",
            dep.metadata.name, dep.metadata.version
        ));
        write_file(&file, &data)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_helm_checks_them() {
        assert!(validate_name("my-chart_1.0").is_ok());
        assert_eq!(
            validate_name("a b").unwrap_err().to_string(),
            "chart name must match the regular expression \"^[a-zA-Z0-9._-]+$\""
        );
        assert_eq!(
            validate_name(&"x".repeat(251)).unwrap_err().to_string(),
            "chart name must be between 1 and 250 characters"
        );
    }
}
