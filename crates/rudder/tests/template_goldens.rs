//! `rudder template` against `helm template`: every case of tests/template/cases.yaml is run
//! through the real `rudder` binary and its output compared byte for byte with the golden that
//! real Helm produced (scripts/gen-template-goldens.py). Error cases compare the first line of
//! the message.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One case of cases.yaml.
struct Case {
    name: String,
    chart: String,
    release: Option<String>,
    namespace: Option<String>,
    args: Vec<String>,
}

fn load_cases() -> Vec<Case> {
    common::load_cases("tests/template/cases.yaml")
        .into_iter()
        .map(|c| Case {
            name: c.get("name").expect("name"),
            chart: c.get("chart").expect("chart"),
            release: c.get("release"),
            namespace: c.get("namespace"),
            args: c.list("args"),
        })
        .collect()
}

#[test]
fn template_matches_helm() {
    let root = repo_root();
    let cases = load_cases();
    let mut failures = Vec::new();
    for case in &cases {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
        cmd.current_dir(&root).arg("template");
        if let Some(r) = &case.release {
            cmd.arg(r);
        }
        cmd.arg(&case.chart);
        cmd.args([
            "--namespace",
            case.namespace.as_deref().unwrap_or("default"),
        ]);
        cmd.args(&case.args);
        let output = cmd.output().expect("run rudder");
        let golden = root.join("tests/template/golden");
        let out_path = golden.join(format!("{}.out", case.name));
        let err_path = golden.join(format!("{}.err", case.name));
        if let Ok(want) = std::fs::read_to_string(&out_path) {
            let got = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() || got != want {
                failures.push(format!(
                    "{}: exit {:?}\n--- want\n{want}\n--- got\n{got}\n--- stderr\n{}",
                    case.name,
                    output.status.code(),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        } else {
            let want = std::fs::read_to_string(&err_path).expect("golden .out or .err");
            let got = String::from_utf8_lossy(&output.stderr);
            let want_first = want.lines().next().unwrap_or_default();
            // Helm's log lines (`level=...`, checked by coalesce_warnings.rs) may come first;
            // the goldens hold the error alone.
            let got_first = got.lines().find(|l| !l.starts_with("level="));
            if output.status.success() || got_first != Some(want_first) {
                failures.push(format!(
                    "{}: want error {want_first:?}, got {got:?}",
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every object the Milvus chart renders, in every scenario, carries the labels that let
/// `kubectl get all -l app.kubernetes.io/instance=RELEASE` find a whole release.
#[test]
fn milvus_objects_carry_the_release_labels() {
    const LABELS: &[&str] = &[
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/version",
        "app.kubernetes.io/managed-by",
        "helm.sh/chart",
        "app.kubernetes.io/component",
    ];
    let root = repo_root();
    let mut checked = 0;
    for case in load_cases().iter().filter(|c| c.chart == "charts/milvus") {
        let output = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .current_dir(&root)
            .arg("template")
            .arg(case.release.as_deref().unwrap_or("release-name"))
            .arg(&case.chart)
            .args(&case.args)
            .output()
            .expect("run rudder");
        if !output.status.success() {
            continue; // error cases are covered by template_matches_helm
        }
        let text = String::from_utf8(output.stdout).expect("utf-8");
        for doc in text.split("\n---\n") {
            let value = rudder_value::yaml::from_yaml(doc).expect("rendered YAML parses");
            let Some(kind) = value.get_path(&["kind"]) else {
                continue;
            };
            let labels = value.get_path(&["metadata", "labels"]).unwrap_or_default();
            for label in LABELS {
                assert!(
                    labels.get_path(&[label]).is_some(),
                    "{}: {} {:?} lacks label {label}",
                    case.name,
                    kind.to_go_string(),
                    value.get_path(&["metadata", "name"])
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} objects checked");
}
