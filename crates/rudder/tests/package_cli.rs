//! `rudder package` and `rudder repo index` through the binary, against archives and an
//! index that real Helm made (`scripts/gen-repo-goldens.py`, files in `tests/repo-golden`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/repo-golden")
}

fn rudder(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .output()
        .expect("rudder runs")
}

/// (path, mode, contents) of every entry of a chart archive, in order.
fn archive_entries(data: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(data));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mode = e.header().mode().unwrap();
            let mut body = Vec::new();
            e.read_to_end(&mut body).unwrap();
            (path, mode, body)
        })
        .collect()
}

#[test]
fn package_writes_helms_archive_and_says_where() {
    let dest = tempfile::tempdir().unwrap();
    let src = golden_dir().join("src/nginx");
    let out = rudder(&[
        "package",
        src.to_str().unwrap(),
        "--version",
        "1.1.0",
        "-d",
        dest.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = dest.path().join("nginx-1.1.0.tgz");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "Successfully packaged chart and saved it to: {}\n",
            written.display()
        )
    );
    assert_eq!(
        archive_entries(&std::fs::read(&written).unwrap()),
        archive_entries(&std::fs::read(golden_dir().join("charts/nginx-1.1.0.tgz")).unwrap())
    );
}

#[test]
fn package_refuses_bad_version_and_missing_folder() {
    let dest = tempfile::tempdir().unwrap();
    let src = golden_dir().join("src/nginx");
    let out = rudder(&[
        "package",
        src.to_str().unwrap(),
        "--version",
        "not-a-version",
        "-d",
        dest.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0);

    let out = rudder(&["package", "no/such/chart"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("stat no/such/chart: no such file or directory"));
}

#[test]
fn repo_index_with_url_matches_helm() {
    let work = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(golden_dir().join("charts")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), work.path().join(entry.file_name())).unwrap();
    }
    let out = rudder(&[
        "repo",
        "index",
        work.path().to_str().unwrap(),
        "--url",
        "https://charts.example.com/stable",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let ours = std::fs::read_to_string(work.path().join("index.yaml")).unwrap();
    let helms = std::fs::read_to_string(golden_dir().join("index-url.yaml")).unwrap();
    assert_eq!(without_times(&ours), without_times(&helms));
}

/// The run's own timestamps differ from Helm's; everything else must be equal.
fn without_times(text: &str) -> String {
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            match t.split_once(": ") {
                Some((key @ ("created" | "generated"), _)) => {
                    format!("{}{key}: <time>", &l[..l.len() - t.len()])
                }
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
