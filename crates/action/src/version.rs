//! `rudder version` in the shape of `helm version`.
//!
//! The version printed is that of Helm whose behaviour rudder follows, with rudder's own
//! version as build metadata (`v4.2.3+rudder.0.1.0`): scripts that check which Helm they run
//! (`helm version --short`, semver comparisons) keep working, and the text still says what
//! answered. rudder is not built with Go, so `GoVersion` is empty, as are the git fields.

use rudder_value::{Map, Value};

use crate::Error;

/// The Helm release whose behaviour rudder reproduces (the oracle of its tests).
pub const HELM_COMPATIBLE_VERSION: &str = "v4.2.3";

/// `version.BuildInfo` as fields.
fn build_info() -> Vec<(&'static str, String)> {
    vec![
        (
            "Version",
            format!(
                "{HELM_COMPATIBLE_VERSION}+rudder.{}",
                env!("CARGO_PKG_VERSION")
            ),
        ),
        ("GitCommit", String::new()),
        ("GitTreeState", String::new()),
        ("GoVersion", String::new()),
        ("KubeClientVersion", String::new()),
    ]
}

/// What `helm version [--short] [--template T]` prints.
pub fn version_text(short: bool, template: Option<&str>) -> Result<String, Error> {
    let info = build_info();
    if let Some(template) = template.filter(|t| !t.is_empty()) {
        let mut data = Map::new();
        for (k, v) in &info {
            data.insert((*k).to_string(), Value::str(v));
        }
        return rudder_engine::render_plain_template(
            template,
            &Value::map(data),
            &rudder_gotmpl::FuncMap::new(),
        )
        .map_err(Error::typed);
    }
    if short {
        return Ok(format!("{}\n", info[0].1));
    }
    let fields: Vec<String> = info.iter().map(|(k, v)| format!("{k}:{v:?}")).collect();
    Ok(format!("version.BuildInfo{{{}}}\n", fields.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_helm_version() {
        let v = format!("v4.2.3+rudder.{}", env!("CARGO_PKG_VERSION"));
        assert_eq!(version_text(true, None).unwrap(), format!("{v}\n"));
        assert_eq!(
            version_text(false, None).unwrap(),
            format!("version.BuildInfo{{Version:\"{v}\", GitCommit:\"\", GitTreeState:\"\", GoVersion:\"\", KubeClientVersion:\"\"}}\n")
        );
        assert_eq!(
            version_text(false, Some("Version: {{.Version}}")).unwrap(),
            format!("Version: {v}")
        );
        assert!(version_text(false, Some("{{ upper .Version }}")).is_err());
    }
}
