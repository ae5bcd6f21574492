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

/// A one-ConfigMap chart and `rudder diff upgrade rel CHART --dry-run=client -n ns ARGS`.
fn diff_install(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: one\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  port: \"80\"\n",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
    for name in ["HELM_DIFF_OUTPUT", "HELM_DIFF_COLOR", "KUBECONFIG"] {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().copied())
        .args(["diff", "upgrade", "rel", chart.to_str().unwrap()])
        .args(["--dry-run=client", "-n", "ns"])
        .args(args)
        .output()
        .unwrap()
}

/// `--output structured` of an install: one ADD record, no old side, identity from the
/// manifest and the namespace from the key (helm-diff v3.15.11 diff/structured.go
/// `buildStructuredEntry`, `populateMetadata`).
#[test]
fn structured_output_of_an_install() {
    let out = diff_install(&["--output", "structured"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        r#"[
  {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "namespace": "ns",
    "name": "cm",
    "changeType": "ADD",
    "resourceStatus": {
      "oldExists": false,
      "newExists": true
    }
  }
]
"#
    );
}

/// dyff colours only when `--color` or HELM_DIFF_COLOR=true asks (helm-diff v3.15.11
/// cmd/root.go lines 65-78: bunt is turned off unless colour is forced); `--no-color` wins.
/// The one added document prints as YAML, the quoted number kept quoted (neat's
/// `needsQuotes`), and no document name after the path, since there is one document (dyff
/// output_human.go `WriteReport`, `showPathRoot`).
#[test]
fn dyff_output_is_plain_unless_colour_is_forced() {
    let plain = "\n(root level)\n+ one document added:\n# Source: one/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  port: \"80\"\n\n";
    for (args, env) in [
        (vec!["--output", "dyff"], vec![]),
        (vec!["--output", "dyff", "--no-color", "--color"], vec![]),
        (
            vec!["--output", "dyff", "--no-color"],
            vec![("HELM_DIFF_COLOR", "true")],
        ),
    ] {
        let out = diff_install(&args, &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            plain,
            "{args:?} {env:?}"
        );
    }
    for (args, env) in [
        (vec!["--output", "dyff", "--color"], vec![]),
        (vec!["--output", "dyff"], vec![("HELM_DIFF_COLOR", "true")]),
    ] {
        let out = diff_install(&args, &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("\x1b["), "{args:?} {env:?}: {text}");
    }
}
