//! `--set` on generated inputs against real Helm: scripts/diff-set-values.py makes random
//! `--set` expressions (fixed seeds, so a failure reproduces), renders them with this `rudder`
//! binary and with Helm v4.2.3 through helm-python-sdk, and fails on any disagreement.

mod common;

#[test]
fn generated_set_expressions_match_helm() {
    common::run_differential("scripts/diff-set-values.py", &[], &["1", "2", "3"], 150);
}
