//! `--set` on generated inputs against real Helm: scripts/diff-set-values.py makes random
//! `--set` expressions (fixed seeds, so a failure reproduces), renders them with this `rudder`
//! binary and with Helm v4.2.3 through helm-python-sdk, and fails on any disagreement.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn generated_set_expressions_match_helm() {
    let Some(python) = common::helm_python_path() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for seed in ["1", "2", "3"] {
        let out = Command::new(&python)
            .arg(root.join("scripts/diff-set-values.py"))
            .args(["--count", "150", "--seed", seed])
            .args(["--rudder", env!("CARGO_BIN_EXE_rudder")])
            .output()
            .expect("run scripts/diff-set-values.py");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "seed {seed}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("150 expressions, 0 disagreements"),
            "{stdout}"
        );
    }
}
