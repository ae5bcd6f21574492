//! The template engine on generated templates against real Helm: scripts/diff-templates.py
//! makes random pipelines of Sprig, Helm and built-in functions over values of every kind
//! (fixed seeds, so a failure reproduces), renders each with this `rudder` binary and with
//! Helm v4.2.3 through helm-python-sdk, and fails on any difference in output or error text.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn generated_templates_match_helm() {
    let Some(python) = common::helm_python_path() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for seed in ["1", "2"] {
        let out = Command::new(&python)
            .arg(root.join("scripts/diff-templates.py"))
            .args(["--count", "150", "--seed", seed])
            .args(["--rudder", env!("CARGO_BIN_EXE_rudder")])
            .output()
            .expect("run scripts/diff-templates.py");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "seed {seed}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("150 templates, 0 disagreements"),
            "{stdout}"
        );
    }
}
