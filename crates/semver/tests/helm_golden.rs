//! Checks versions and constraints against what real Helm (Sprig's `semver` and
//! `semverCompare` over Masterminds/semver v3) answered; the tables come from
//! `tests/gen-goldens.py`.

use rudder_semver::{Constraints, Version};

const COMPARE: &str = include_str!("golden/compare.tsv");
const VERSIONS: &str = include_str!("golden/versions.tsv");

/// Sprig's `semverCompare`: parse the constraint, then the version, then check.
fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraints::parse(constraint)?;
    let v = Version::parse(version)?;
    Ok(c.check(&v))
}

#[test]
fn semver_compare_matches_helm() {
    let mut failures = Vec::new();
    let mut rows = 0;
    for line in COMPARE.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "bad golden row {line:?}");
        rows += 1;
        let expected = match cols[2] {
            "ok" => Ok(cols[3] == "true"),
            _ => Err(cols[3].to_string()),
        };
        let got = semver_compare(cols[0], cols[1]);
        if got != expected {
            failures.push(format!(
                "semverCompare {:?} {:?}: helm {:?}, rudder {:?}",
                cols[0], cols[1], expected, got
            ));
        }
    }
    assert!(rows > 1000, "golden table too small");
    assert!(
        failures.is_empty(),
        "{} of {rows} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn version_fields_match_helm() {
    let mut failures = Vec::new();
    for line in VERSIONS.lines() {
        let (input, rest) = line.split_once('\t').expect("input column");
        let (status, text) = rest.split_once('\t').expect("status column");
        let got = Version::parse(input).map(|v| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                v.major,
                v.minor,
                v.patch,
                v.pre,
                v.metadata,
                v.original(),
                v
            )
        });
        let expected = if status == "ok" {
            Ok(text.to_string())
        } else {
            Err(text.to_string())
        };
        if got != expected {
            failures.push(format!(
                "semver {input:?}: helm {expected:?}, rudder {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
