//! `rudder diff` without a cluster: `diff upgrade --dry-run=client` renders the chart as an
//! install, so the output formats can be checked end to end.

use std::process::Command;

/// `--output template` reads HELM_DIFF_TPL's file and runs it with helm-diff's FuncMap
/// (`last`, diff/report.go `newTemplate`) over one record per change (Namespace, Name,
/// Kind, API, Change: diff/report.go `ReportTemplateSpec`), then a newline
/// (`templateReportPrinter`).
#[test]
fn helm_diff_tpl_templates_can_use_last() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: two\nversion: 0.1.0\n",
    )
    .unwrap();
    for name in ["a", "b"] {
        std::fs::write(
            chart.join(format!("templates/{name}.yaml")),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"),
        )
        .unwrap();
    }
    let template = dir.path().join("names.tpl");
    std::fs::write(
        &template,
        "{{ range $i, $e := . }}{{ $e.Change }} {{ $e.Kind }}/{{ $e.Name }}{{ if not (last $i $) }}; {{ end }}{{ end }}",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
        .env("HELM_DIFF_TPL", &template)
        .env_remove("HELM_DIFF_OUTPUT")
        .env_remove("KUBECONFIG")
        .args(["diff", "upgrade", "rel", chart.to_str().unwrap()])
        .args(["--dry-run=client", "--output", "template", "-n", "ns"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ADD ConfigMap/a; ADD ConfigMap/b\n"
    );
}
