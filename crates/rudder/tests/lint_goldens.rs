//! `rudder lint` against `helm lint`: every case of tests/lint/cases.yaml is run through the
//! real `rudder` binary and compared with what real Helm printed and returned
//! (scripts/gen-lint-goldens.py): exit status, error line, and the report.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn lint_matches_helm() {
    let root = repo_root();
    let mut failures = Vec::new();
    let mut count = 0;
    for case in common::load_cases("tests/lint/cases.yaml") {
        let name = case.get("name").expect("name");
        let paths = case.list("paths");
        let args = case.list("args");
        count += 1;
        let output = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .current_dir(&root)
            .arg("lint")
            .args(&paths)
            .args(&args)
            .output()
            .expect("run rudder");
        let want = std::fs::read_to_string(root.join(format!("tests/lint/golden/{name}.out")))
            .expect("golden");
        let (status_line, rest) = want.split_once('\n').expect("status line");
        let (err_line, want_out) = rest.split_once('\n').expect("error line");
        let want_code: i32 = status_line
            .trim_start_matches("exit ")
            .parse()
            .expect("code");
        let got_out = String::from_utf8_lossy(&output.stdout);
        let got_err = String::from_utf8_lossy(&output.stderr);
        let got_code = output.status.code().unwrap_or(-1);
        if got_code != want_code || got_out != want_out || got_err.trim_end() != err_line {
            failures.push(format!(
                "{name}: exit {got_code} (want {want_code})\n--- want stdout\n{want_out}--- got stdout\n{got_out}--- want stderr\n{err_line}\n--- got stderr\n{got_err}"
            ));
        }
    }
    assert!(count > 0, "no cases");
    assert!(
        failures.is_empty(),
        "{} of {count} lint cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
