//! `get all --template`: a Go template over the release, as Helm's `pkg/cmd/get_all.go` runs it
//! (`tpl` in `pkg/cmd/printer.go`: plain `text/template`, no Sprig, dot is `{"Release": rel}`).
//!
//! Helm hands the template its `*release.Release` struct, so fields go by their Go names
//! (`.Release.Info.Status`, `.Release.Chart.Metadata.Version`). The stored record is JSON with
//! Helm's JSON tags; this module renames those keys to the Go field names and leaves the user's
//! data (values, annotations, labels) as it is. Times print as Go's `time.Time.String()`.
//! Where Go would print a whole struct (`{{ .Release.Info }}` gives `&{...}`) or a `[]byte`,
//! rudder prints the map or the base64 text it holds: those are not reproduced.

use rudder_action::release as rel;
use rudder_gotmpl::{ExecOptions, FuncMap, Templates};
use serde_json::{Map, Value as Json};

/// Keys whose contents are the user's data, kept under their own names.
const OPAQUE_KEYS: &[&str] = &["config", "values", "annotations", "import-values", "labels"];

/// Keys holding times: Go's `time.Time` prints as `2006-01-02 15:04:05.999999999 -0700 MST`.
const TIME_KEYS: &[&str] = &[
    "first_deployed",
    "last_deployed",
    "deleted",
    "started_at",
    "completed_at",
];

/// The template's dot: `{"Release": <release with Go field names>}`.
pub(crate) fn template_data(release: &rel::Release) -> rudder_value::Value {
    let stored = serde_json::to_value(release).unwrap_or_default();
    let mut go = go_names(stored);
    if let Json::Object(fields) = &mut go {
        // Every field of Go's Release struct exists, set or not.
        for (key, zero) in [
            ("Name", Json::String(String::new())),
            ("Manifest", Json::String(String::new())),
            ("Namespace", Json::String(String::new())),
            ("ApplyMethod", Json::String(String::new())),
            ("Version", Json::from(0)),
            ("Config", Json::Null),
            ("Chart", Json::Null),
            ("Hooks", Json::Null),
        ] {
            fields.entry(key).or_insert(zero);
        }
        // Labels live on the storage object, not in the JSON (Helm's `json:"-"`).
        fields.insert(
            "Labels".into(),
            serde_json::to_value(&release.labels).unwrap_or_default(),
        );
        let info = fields
            .entry("Info")
            .or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(info) = info {
            for key in ["FirstDeployed", "LastDeployed", "Deleted"] {
                info.entry(key)
                    .or_insert_with(|| Json::String(rel::go_time_string("")));
            }
            for key in ["Description", "Status", "Notes"] {
                info.entry(key).or_insert(Json::String(String::new()));
            }
            info.entry("Resources").or_insert(Json::Null);
        }
    }
    let mut dot = Map::new();
    dot.insert("Release".into(), go);
    rudder_value::json::from_json(&Json::Object(dot).to_string()).unwrap_or_default()
}

/// Runs the user's template over the release (`helm get all --template`).
pub(crate) fn render(text: &str, release: &rel::Release) -> Result<String, String> {
    let funcs = FuncMap::new();
    let mut set = Templates::new();
    set.parse("_", text, &funcs).map_err(|e| e.to_string())?;
    let opts = ExecOptions {
        set_name: "_".into(),
        ..ExecOptions::default()
    };
    set.execute("_", &template_data(release), &funcs, &opts)
        .map_err(|e| e.to_string())
}

/// Renames JSON-tag keys to Go field names, recursively, except inside the user's data.
fn go_names(value: Json) -> Json {
    match value {
        Json::Object(fields) => Json::Object(
            fields
                .into_iter()
                .map(|(key, v)| {
                    let v = if OPAQUE_KEYS.contains(&key.as_str()) {
                        v
                    } else if TIME_KEYS.contains(&key.as_str()) {
                        Json::String(rel::go_time_string(v.as_str().unwrap_or("")))
                    } else {
                        go_names(v)
                    };
                    (go_field_name(&key), v)
                })
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(go_names).collect()),
        other => other,
    }
}

/// `last_run` → `LastRun`, `import-values` → `ImportValues`, `apiVersion` → `APIVersion`,
/// `url` → `URL`: the Go names behind Helm's JSON tags.
fn go_field_name(tag: &str) -> String {
    match tag {
        "apiVersion" => return "APIVersion".into(),
        "url" => return "URL".into(),
        _ => {}
    }
    tag.split(['_', '-'])
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> rel::Release {
        serde_json::from_value(serde_json::json!({
            "name": "demo",
            "namespace": "apps",
            "version": 3,
            "info": {
                "first_deployed": "2024-01-02T03:04:05.123456789Z",
                "last_deployed": "2024-01-02T03:04:06Z",
                "status": "deployed",
                "description": "Upgrade complete",
            },
            "chart": {"metadata": {"name": "web", "version": "1.2.3", "apiVersion": "v2",
                "appVersion": "4.5", "annotations": {"my_key": "kept"},
                "maintainers": [{"name": "a", "url": "https://x"}]}},
            "config": {"replica_count": 2},
            "hooks": [{"name": "pre", "events": ["pre-install"], "last_run": {"phase": "Succeeded"}}],
            "manifest": "---\nkind: ConfigMap\n",
        }))
        .unwrap()
    }

    /// Field paths as Go's struct fields name them (helm v4.2.3 pkg/release/v1/release.go,
    /// info.go, hook.go; pkg/chart/v2/metadata.go).
    #[test]
    fn fields_go_by_their_go_names() {
        let text = "{{.Release.Name}} {{.Release.Namespace}} {{.Release.Version}} \
                    {{.Release.Info.Status}} {{.Release.Info.Description}} \
                    {{.Release.Chart.Metadata.Name}}-{{.Release.Chart.Metadata.Version}} \
                    {{.Release.Chart.Metadata.APIVersion}} {{.Release.Chart.Metadata.AppVersion}} \
                    {{(index .Release.Chart.Metadata.Maintainers 0).URL}} \
                    {{index .Release.Chart.Metadata.Annotations \"my_key\"}} \
                    {{.Release.Config.replica_count}} \
                    {{(index .Release.Hooks 0).LastRun.Phase}} {{len .Release.Manifest}}";
        assert_eq!(
            render(text, &release()).unwrap(),
            "demo apps 3 deployed Upgrade complete web-1.2.3 v2 4.5 https://x kept 2 Succeeded 20"
        );
    }

    /// Go's `time.Time.String()`, and the zero time for a field never set (`Deleted`).
    #[test]
    fn times_print_as_go_prints_them() {
        let text = "{{.Release.Info.FirstDeployed}}|{{.Release.Info.LastDeployed}}|{{.Release.Info.Deleted}}";
        assert_eq!(
            render(text, &release()).unwrap(),
            "2024-01-02 03:04:05.123456789 +0000 UTC|2024-01-02 03:04:06 +0000 UTC|\
             0001-01-01 00:00:00 +0000 UTC"
        );
    }

    /// Helm's `tpl` has no Sprig: an unknown function fails at parse, as Go's `Parse` does
    /// (`template: _:1: function "upper" not defined`).
    #[test]
    fn sprig_functions_are_not_defined() {
        let err = render("{{ upper .Release.Name }}", &release()).unwrap_err();
        assert!(err.contains("function \"upper\" not defined"), "{err}");
    }

    #[test]
    fn json_tags_map_to_go_field_names() {
        assert_eq!(go_field_name("first_deployed"), "FirstDeployed");
        assert_eq!(go_field_name("import-values"), "ImportValues");
        assert_eq!(go_field_name("apiVersion"), "APIVersion");
        assert_eq!(go_field_name("kubeVersion"), "KubeVersion");
    }
}
