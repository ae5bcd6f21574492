//! `rudder show` against `helm show`: every case of tests/show/cases.yaml is run through the
//! real `rudder` binary, for each subcommand the case names, and its standard output compared
//! byte for byte with the golden that real Helm produced (scripts/gen-show-goldens.py). Error
//! cases compare the whole standard error and want a failing exit status and no output.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const SUBCOMMANDS: &[&str] = &["all", "chart", "values", "readme", "crds"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn show_matches_helm() {
    let root = repo_root();
    let cases = common::load_cases("tests/show/cases.yaml");
    let golden = root.join("tests/show/golden");
    let mut failures = Vec::new();
    let mut runs = 0;
    for case in &cases {
        let (name, chart) = (
            case.get("name").expect("name"),
            case.get("chart").expect("chart"),
        );
        let (only, args) = (case.list("only"), case.list("args"));
        let subcommands: Vec<&str> = if only.is_empty() {
            SUBCOMMANDS.to_vec()
        } else {
            only.iter().map(String::as_str).collect()
        };
        for sub in subcommands {
            runs += 1;
            let output = Command::new(env!("CARGO_BIN_EXE_rudder"))
                .current_dir(&root)
                .args(["show", sub, &chart])
                .args(&args)
                .output()
                .expect("run rudder");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let base = format!("{name}.{sub}");
            if let Ok(want) = std::fs::read_to_string(golden.join(format!("{base}.out"))) {
                if !output.status.success() || stdout != want {
                    failures.push(format!(
                        "{base}: exit {:?}\n--- want\n{want}\n--- got\n{stdout}\n--- stderr\n{stderr}",
                        output.status.code()
                    ));
                }
            } else {
                let want = std::fs::read_to_string(golden.join(format!("{base}.err")))
                    .unwrap_or_else(|_| panic!("{base}: no golden .out or .err"));
                if output.status.success() || stderr != want || !stdout.is_empty() {
                    failures.push(format!(
                        "{base}: want error {want:?}, got exit {:?}, stderr {stderr:?}, stdout {stdout:?}",
                        output.status.code()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `show values --jsonpath`. helm-python-sdk cannot pass a JSONPath to Helm, so these
/// expectations are not from Helm: they follow client-go's jsonpath rules as Helm calls them
/// (the template runs over the loaded values, nothing is printed when running it fails, no
/// newline is added, a parse error is an error).
#[test]
fn show_values_jsonpath() {
    let root = repo_root();
    let chart = "tests/show/charts/every-field";
    let cases: &[(&str, &str)] = &[
        ("{.image.repository}", "nginx"),
        ("{.list[*]}", "a b"),
        ("{.list[-1:]}", "b"),
        ("{.replicaCount}", "1"),
        ("{.image}", r#"{"repository":"nginx","tag":""}"#),
        ("{range .list[*]}[{@}]{end}", "[a][b]"),
        // A missing key fails the whole template, text included.
        ("{.missing}{\"x\"}", ""),
    ];
    for (template, want) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .current_dir(&root)
            .args(["show", "values", chart, "--jsonpath", template])
            .output()
            .expect("run rudder");
        assert!(output.status.success(), "{template}: {output:?}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), *want, "{template}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_rudder"))
        .current_dir(&root)
        .args(["show", "values", chart, "--jsonpath", "{.image"])
        .output()
        .expect("run rudder");
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "Error: error parsing jsonpath {.image: unclosed action\n"
    );
}
