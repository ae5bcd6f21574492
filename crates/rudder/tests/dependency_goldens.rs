//! `rudder dependency list` against what Helm reports for the same charts
//! (`scripts/gen-dependency-goldens.py`, goldens in `tests/dependency/golden`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (name, version, repository, status) rows of rudder's table.
fn rudder_rows(chart: &Path) -> (Vec<[String; 4]>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(["dependency", "list", chart.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows = text
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let cells: Vec<String> = l.split('\t').map(|c| c.trim_end().to_string()).collect();
            [
                cells[0].clone(),
                cells[1].clone(),
                cells[2].clone(),
                cells[3].clone(),
            ]
        })
        .collect();
    (rows, text)
}

fn helm_rows(case: &str) -> Vec<[String; 4]> {
    let path = root().join(format!("tests/dependency/golden/{case}.json"));
    let deps: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    deps.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            ["name", "version", "repository", "status"].map(|k| d[k].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn statuses_match_helm() {
    for (case, chart) in [
        ("parent", "tests/dependency/charts/parent"),
        ("milvus", "charts/milvus"),
    ] {
        let (rows, text) = rudder_rows(&root().join(chart));
        assert_eq!(rows, helm_rows(case), "{case}:\n{text}");
    }
}

#[test]
fn table_layout_and_warnings() {
    let chart = root().join("tests/dependency/charts/parent");
    let (_, text) = rudder_rows(&chart);
    let lines: Vec<&str> = text.lines().collect();
    // uitable pads every cell, the last one too; then a blank line and the warnings.
    assert_eq!(
        lines[0],
        "NAME\tVERSION         \tREPOSITORY                       \tSTATUS         "
    );
    assert_eq!(lines[6], "");
    let extra = chart.join("charts/extra");
    assert_eq!(
        lines[7],
        format!("WARNING: \"{}\" is not in Chart.yaml.", extra.display())
    );
    assert_eq!(lines.len(), 8);
}
