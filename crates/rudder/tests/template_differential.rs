//! The template engine on generated templates against real Helm: scripts/diff-templates.py
//! makes random pipelines of Sprig, Helm and built-in functions over values of every kind
//! (fixed seeds, so a failure reproduces), renders each with this `rudder` binary and with
//! Helm v4.2.3 through helm-python-sdk, and fails on any difference in output or error text.

mod common;

#[test]
fn generated_templates_match_helm() {
    common::run_differential("scripts/diff-templates.py", &[], &["1", "2"], 150);
}

/// Version constraints (rudder reads their grammar by hand) on generated versions.
#[test]
fn generated_semver_comparisons_match_helm() {
    common::run_differential("scripts/diff-templates.py", &["--semver"], &["1"], 200);
}
