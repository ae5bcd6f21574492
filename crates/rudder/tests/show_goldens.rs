//! `rudder show` against `helm show`: every case of tests/show/cases.yaml is run through the
//! real `rudder` binary, for each subcommand the case names, and its standard output compared
//! byte for byte with the golden that real Helm produced (scripts/gen-show-goldens.py). Error
//! cases compare the whole standard error and want a failing exit status and no output.

use std::path::{Path, PathBuf};
use std::process::Command;

const SUBCOMMANDS: &[&str] = &["all", "chart", "values", "readme", "crds"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One case of cases.yaml.
#[derive(Debug, Default)]
struct Case {
    name: String,
    chart: String,
    only: Vec<String>,
    args: Vec<String>,
}

/// The items of a YAML flow list of plain or double-quoted scalars (`\\` and `\"` escapes).
fn parse_flow_list(s: &str) -> Vec<String> {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => cur.extend(chars.next()),
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// cases.yaml holds one flow mapping per line; the lists (`only`, `args`) come last.
fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for line in text.lines() {
        let Some(body) = line
            .trim()
            .strip_prefix("- {")
            .and_then(|l| l.strip_suffix('}'))
        else {
            continue;
        };
        let mut case = Case::default();
        let mut rest = body;
        // Split off the list-valued fields from the end, last first.
        for key in ["args:", "only:"] {
            if let Some(i) = rest.rfind(key) {
                let list = parse_flow_list(&rest[i + key.len()..]);
                match key {
                    "args:" => case.args = list,
                    _ => case.only = list,
                }
                rest = rest[..i].trim_end().trim_end_matches(',');
            }
        }
        for field in rest.split(',') {
            let Some((k, v)) = field.split_once(':') else {
                continue;
            };
            match k.trim() {
                "name" => case.name = v.trim().to_string(),
                "chart" => case.chart = v.trim().to_string(),
                _ => {}
            }
        }
        cases.push(case);
    }
    cases
}

#[test]
fn show_matches_helm() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("tests/show/cases.yaml")).expect("cases.yaml");
    let cases = parse_cases(&text);
    assert!(!cases.is_empty(), "no cases parsed");
    let golden = root.join("tests/show/golden");
    let mut failures = Vec::new();
    let mut runs = 0;
    for case in &cases {
        let subcommands: Vec<&str> = if case.only.is_empty() {
            SUBCOMMANDS.to_vec()
        } else {
            case.only.iter().map(String::as_str).collect()
        };
        for sub in subcommands {
            runs += 1;
            let output = Command::new(env!("CARGO_BIN_EXE_rudder"))
                .current_dir(&root)
                .args(["show", sub, &case.chart])
                .args(&case.args)
                .output()
                .expect("run rudder");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let base = format!("{}.{sub}", case.name);
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
