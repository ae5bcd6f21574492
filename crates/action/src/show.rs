//! `rudder show chart|values|readme|crds|all` (Helm's `action.Show`).

use crate::jsonpath::JsonPath;
use crate::{charts, Error};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowWhat {
    All,
    Chart,
    Values,
    Readme,
    Crds,
}

const README_NAMES: &[&str] = &["readme.md", "readme.txt", "readme"];

/// What `helm show WHAT CHART` prints; a non-empty `jsonpath` (`show values --jsonpath`)
/// prints what that template selects from the chart's values instead of values.yaml. What
/// Helm's loader logs goes to `log`.
pub fn show(
    chart_ref: &str,
    what: ShowWhat,
    jsonpath: &str,
    chart_path: &charts::ChartPathOptions,
    log: &crate::LogSink,
) -> Result<String, Error> {
    let mut chart = charts::load(chart_ref, chart_path)?;
    log.emit_all(std::mem::take(&mut chart.load_logs));
    let mut out = String::new();
    let all = what == ShowWhat::All;
    if what == ShowWhat::Chart || all {
        out.push_str(&chart.metadata.to_yaml());
        out.push('\n');
    }
    // Helm prints the values section, and its separator, only for a chart that has a
    // values.yaml: without one the chart's values are nil, not empty.
    let values_files: Vec<_> = chart
        .raw
        .iter()
        .filter(|f| f.name == "values.yaml")
        .collect();
    if (what == ShowWhat::Values || all) && !values_files.is_empty() {
        if all {
            out.push_str("---\n");
        }
        if !jsonpath.is_empty() {
            // Parsed only here, as Helm does: a chart without values.yaml never reads it.
            let template = JsonPath::parse(jsonpath).map_err(|e| {
                Error::context(format!("error parsing jsonpath {jsonpath}: {e}"), e)
            })?;
            // Helm ignores a failure to run the template: it then prints nothing.
            out.push_str(&template.execute(&chart.values).unwrap_or_default());
        } else {
            for f in values_files {
                out.push_str(&String::from_utf8_lossy(&f.data));
                out.push('\n');
            }
        }
    }
    if what == ShowWhat::Readme || all {
        if let Some(readme) = chart
            .files
            .iter()
            .find(|f| README_NAMES.iter().any(|n| f.name.eq_ignore_ascii_case(n)))
        {
            if all {
                out.push_str("---\n");
            }
            out.push_str(&String::from_utf8_lossy(&readme.data));
            out.push('\n');
        }
    }
    if what == ShowWhat::Crds || all {
        for crd in chart.crd_objects() {
            if !crd.text.starts_with("---") {
                out.push_str("---\n");
            }
            out.push_str(&crd.text);
            out.push('\n');
        }
    }
    Ok(out)
}
