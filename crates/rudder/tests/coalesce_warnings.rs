//! What `rudder template` (or `rudder lint`) logs on standard error while coalescing values
//! and rendering, against what `helm template` (`helm lint`) logs: every case of
//! tests/coalesce-warnings/cases.txt is run through the real `rudder` binary and its stderr
//! compared byte for byte with the golden that real Helm produced
//! (scripts/gen-coalesce-warning-goldens.py).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn template_stderr_matches_helm() {
    let root = repo_root();
    let dir = root.join("tests/coalesce-warnings");
    let cases = std::fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in cases
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let lint = words[1] == "lint";
        let (name, chart, args) = if lint {
            (words[0], words[2], &words[3..])
        } else {
            (words[0], words[1], &words[2..])
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
        cmd.current_dir(&root);
        if lint {
            cmd.args(["lint", chart]);
        } else {
            cmd.args(["template", "release-name", chart]);
        }
        let output = cmd.args(args).output().expect("run rudder");
        let want =
            std::fs::read_to_string(dir.join(format!("golden/{name}.err"))).expect("golden .err");
        let got = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() || got != want {
            failures.push(format!(
                "{name}: exit {:?}\n--- want\n{want}--- got\n{got}",
                output.status.code()
            ));
        }
        count += 1;
    }
    assert!(count > 0, "no cases parsed");
    assert!(
        failures.is_empty(),
        "{} of {count} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
