//! Checks versions and constraints against what real Helm (Sprig's `semver` and
//! `semverCompare` over Masterminds/semver v3) answered; the tables come from
//! `tests/gen-goldens.py`.

use rudder_semver::{Constraints, Version};

const COMPARE: &str = include_str!("golden/compare.tsv");
const VERSIONS: &str = include_str!("golden/versions.tsv");

/// Sprig's `semverCompare`: parse the constraint, then the version, then check; an error
/// as its text, which is what the template sees.
fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraints::parse(constraint).map_err(|e| e.to_string())?;
    let v = Version::parse(version).map_err(|e| e.to_string())?;
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
        let got = Version::parse(input).map_err(|e| e.to_string()).map(|v| {
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

#[test]
fn increments_match_helm() {
    for line in include_str!("golden/increments.tsv").lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let v = Version::parse(cols[0]).unwrap();
        let got = [
            v.inc_major().to_string(),
            v.inc_minor().to_string(),
            v.inc_patch().to_string(),
        ];
        assert_eq!(
            got,
            [cols[1], cols[2], cols[3]],
            "increments of {:?}",
            cols[0]
        );
    }
}

#[test]
fn ordering_matches_helm() {
    let mut rows = 0;
    for line in include_str!("golden/order.tsv").lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (a, b) = (
            Version::parse(cols[0]).unwrap(),
            Version::parse(cols[1]).unwrap(),
        );
        let compare = match a.compare(&b) {
            std::cmp::Ordering::Less => "-1",
            std::cmp::Ordering::Equal => "0",
            std::cmp::Ordering::Greater => "1",
        };
        let got = [
            compare.to_string(),
            a.less_than(&b).to_string(),
            a.greater_than(&b).to_string(),
            a.equal(&b).to_string(),
        ];
        assert_eq!(
            got,
            [cols[2], cols[3], cols[4], cols[5]],
            "{:?} vs {:?}",
            cols[0],
            cols[1]
        );
        rows += 1;
    }
    assert!(rows > 1000);
}
