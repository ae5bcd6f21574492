//! Index files compared with what real Helm wrote for the same charts
//! (`scripts/gen-repo-goldens.py`, goldens in `tests/repo-golden`).

use std::path::{Path, PathBuf};

use rudder_repo::directory::{digest, repo_index};
use rudder_repo::IndexFile;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/repo-golden")
}

/// Times of the run differ; everything else, including the fixed times that come from the
/// merged index, must be equal.
fn without_times(text: &str) -> String {
    const FIXED: &[&str] = &["\"2020-01-01T00:00:00Z\"", "\"2019-05-06T07:08:09.123Z\""];
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            let indent = &l[..l.len() - t.len()];
            match t.split_once(": ") {
                Some(("created" | "generated", value)) if !FIXED.contains(&value) => {
                    format!("{indent}{}: <time>", t.split(':').next().unwrap_or(""))
                }
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn helm_written_indexes_round_trip_unchanged() {
    for name in ["index-plain.yaml", "index-url.yaml", "index-merge.yaml"] {
        let text = std::fs::read_to_string(golden_dir().join(name)).unwrap();
        let index = IndexFile::parse(&text).unwrap();
        assert_eq!(index.to_yaml().unwrap(), text, "{name}");
    }
}

fn copy_charts(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(golden_dir().join("charts")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn repo_index_matches_helm() {
    let work = std::env::temp_dir().join(format!("rudder-repo-index-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    copy_charts(&work);
    for (label, url, merge) in [
        ("plain", "", None),
        ("url", "https://charts.example.com/stable", None),
        (
            "merge",
            "https://charts.example.com/stable",
            Some(golden_dir().join("merge-from.yaml")),
        ),
    ] {
        repo_index(&work, url, merge.as_deref(), false).unwrap();
        let ours = std::fs::read_to_string(work.join("index.yaml")).unwrap();
        let helms =
            std::fs::read_to_string(golden_dir().join(format!("index-{label}.yaml"))).unwrap();
        assert_eq!(without_times(&ours), without_times(&helms), "index-{label}");
        std::fs::remove_file(work.join("index.yaml")).unwrap();
    }
    std::fs::remove_dir_all(&work).unwrap();
}

/// `repo index --json`: Helm writes `IndexFile.WriteJSONFile` output to `index.yaml`
/// (v4.2.3 pkg/cmd/repo_index.go `writeIndexFile`); the golden is that JSON from real Helm.
#[test]
fn repo_index_json_matches_helm() {
    let work = std::env::temp_dir().join(format!("rudder-repo-index-json-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    copy_charts(&work);
    let merge = golden_dir().join("merge-from.yaml");
    repo_index(
        &work,
        "https://charts.example.com/stable",
        Some(&merge),
        true,
    )
    .unwrap();
    let ours = std::fs::read_to_string(work.join("index.yaml")).unwrap();
    let helms = std::fs::read_to_string(golden_dir().join("index-merge.json")).unwrap();
    assert_eq!(json_without_times(&ours), json_without_times(&helms));
    // And what it wrote reads back as the same index.
    let reread = IndexFile::parse(&ours).unwrap();
    assert_eq!(reread.to_json().unwrap(), ours);

    // A missing merge file is created as an empty index, in JSON too.
    let missing = work.join("new-merge.yaml");
    repo_index(&work, "", Some(&missing), true).unwrap();
    let created = std::fs::read_to_string(&missing).unwrap();
    assert!(
        created.starts_with("{\n  \"apiVersion\": \"v1\",\n  \"generated\": "),
        "{created}"
    );
    assert!(created.ends_with("\"entries\": {}\n}"), "{created}");
    std::fs::remove_dir_all(&work).unwrap();
}

/// [`without_times`] for Go's indented JSON (`"created": "..."`).
fn json_without_times(text: &str) -> String {
    const FIXED: &[&str] = &["\"2020-01-01T00:00:00Z\"", "\"2019-05-06T07:08:09.123Z\""];
    text.lines()
        .map(|l| match l.trim_start().split_once(": ") {
            Some((key @ ("\"created\"" | "\"generated\""), value))
                if !FIXED.contains(&value.trim_end_matches(',')) =>
            {
                format!("{key}: <time>")
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn digests_are_sha256_of_the_archive() {
    let data = std::fs::read(golden_dir().join("charts/lib-2.0.0.tgz")).unwrap();
    let index = IndexFile::load(&golden_dir().join("index-plain.yaml")).unwrap();
    assert_eq!(index.entries["lib"][0].digest, digest(&data));
}

#[test]
fn large_index_loads_and_sorts() {
    let mut text = String::from("apiVersion: v1\ngenerated: \"2026-01-01T00:00:00Z\"\nentries:\n");
    for chart in 0..200 {
        text.push_str(&format!("  chart{chart}:\n"));
        for v in 0..100 {
            text.push_str(&format!(
                "  - apiVersion: v2\n    name: chart{chart}\n    version: 1.{v}.0\n    appVersion: \"{v}\"\n    description: Chart number {chart}\n    digest: 0123456789abcdef\n    created: \"2026-01-01T00:00:00Z\"\n    urls:\n    - https://example.com/chart{chart}-1.{v}.0.tgz\n"
            ));
        }
    }
    let started = std::time::Instant::now();
    let index = IndexFile::parse(&text).unwrap();
    let elapsed = started.elapsed();
    eprintln!("20,000 versions parsed in {elapsed:?}");
    assert_eq!(index.entries.len(), 200);
    assert_eq!(index.entries["chart7"][0].version, "1.99.0");
    assert_eq!(index.entries["chart7"][99].version, "1.0.0");
}

#[test]
fn loading_skips_and_sorts_entries_as_helm() {
    let index = IndexFile::load(&golden_dir().join("loading/index.yaml")).unwrap();
    let expected = std::fs::read_to_string(golden_dir().join("loading/loaded.tsv")).unwrap();
    let mut ours = String::new();
    for (chart, versions) in &index.entries {
        let mut cols = vec![chart.clone()];
        cols.extend(versions.iter().map(|v| format!("{}@{}", v.name, v.version)));
        ours.push_str(&cols.join("\t"));
        ours.push('\n');
    }
    assert_eq!(ours, expected);
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
fn package_matches_helm_layout_and_contents() {
    use rudder_chart::package::{package, MetadataOverrides};
    let dest = std::env::temp_dir().join(format!("rudder-package-{}", std::process::id()));
    for (chart, version) in [
        ("alpine", "0.2.0-rc.1"),
        ("nginx", "1.1.0"),
        ("lib", "2.0.0"),
    ] {
        let options = MetadataOverrides {
            version: Some(version.into()),
            app_version: None,
        };
        let ours = package(&golden_dir().join("src").join(chart), &dest, &options).unwrap();
        assert_eq!(
            ours.file_name().unwrap().to_str().unwrap(),
            format!("{chart}-{version}.tgz")
        );
        let helms = golden_dir()
            .join("charts")
            .join(format!("{chart}-{version}.tgz"));
        assert_eq!(
            archive_entries(&std::fs::read(&ours).unwrap()),
            archive_entries(&std::fs::read(&helms).unwrap()),
            "{chart}-{version}"
        );
    }
    std::fs::remove_dir_all(&dest).unwrap();
}
