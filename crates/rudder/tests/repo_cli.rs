//! `rudder repo add/update/remove` through the binary against a real HTTP server on
//! loopback that serves an index Helm wrote (tests/repo-golden/index-url.yaml).

mod common;
use common::serve_files;

use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/repo-golden")
}

/// Serves `index` at `/stable/index.yaml` and 404 elsewhere, for as long as the test runs.
fn serve(index: Vec<u8>) -> String {
    serve_files(vec![("/stable/index.yaml".to_string(), index)])
}

struct Helm {
    home: tempfile::TempDir,
}

impl Helm {
    fn config(&self) -> PathBuf {
        self.home.path().join("repositories.yaml")
    }
    fn cache(&self) -> PathBuf {
        self.home.path().join("cache")
    }
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .args(args)
            .env("HELM_REPOSITORY_CONFIG", self.config())
            .env("HELM_REPOSITORY_CACHE", self.cache())
            .output()
            .expect("rudder runs");
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

#[test]
fn add_update_remove_round_trip() {
    let index = std::fs::read(golden_dir().join("index-url.yaml")).unwrap();
    let base = serve(index.clone());
    let url = format!("{base}/stable");
    let helm = Helm {
        home: tempfile::tempdir().unwrap(),
    };

    let (ok, _, err) = helm.run(&["repo", "update"]);
    assert!(!ok);
    assert!(
        err.contains("no repositories found. You must add one before updating"),
        "{err}"
    );

    let (ok, out, err) = helm.run(&["repo", "add", "stable", &url]);
    assert!(ok, "{err}");
    assert_eq!(out, "\"stable\" has been added to your repositories\n");
    let file = std::fs::read_to_string(helm.config()).unwrap();
    assert!(file.contains(&format!("url: {url}\n")), "{file}");
    assert!(file.contains("name: stable\n"), "{file}");
    assert_eq!(
        std::fs::read(helm.cache().join("stable-index.yaml")).unwrap(),
        index
    );
    assert_eq!(
        std::fs::read_to_string(helm.cache().join("stable-charts.txt")).unwrap(),
        "alpine\nlib\nnginx\n"
    );

    let (ok, out, _) = helm.run(&["repo", "add", "stable", &url]);
    assert!(ok);
    assert_eq!(
        out,
        "\"stable\" already exists with the same configuration, skipping\n"
    );

    let (ok, _, err) = helm.run(&["repo", "add", "stable", &format!("{base}/other")]);
    assert!(!ok);
    assert!(
        err.contains("repository name (stable) already exists, please specify a different name"),
        "{err}"
    );

    // A URL that serves no index is refused and leaves repositories.yaml as it was.
    let (ok, _, err) = helm.run(&["repo", "add", "broken", &format!("{base}/missing")]);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "looks like \"{base}/missing\" is not a valid chart repository or cannot be reached"
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(helm.config()).unwrap(), file);

    let (ok, out, err) = helm.run(&["repo", "update"]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Hang tight while we grab the latest from your chart repositories...\n\
         ...Successfully got an update from the \"stable\" chart repository\n\
         Update Complete. ⎈Happy Helming!⎈\n"
    );

    let (ok, _, err) = helm.run(&["repo", "update", "nosuch"]);
    assert!(!ok);
    assert!(
        err.contains("no repositories found matching 'nosuch'.  Nothing will be updated"),
        "{err}"
    );

    // Expected tables below follow gosuri/uitable's padding as Helm uses it (read from their
    // sources; the Helm SDK used for goldens has no search or list).
    let (ok, out, _) = helm.run(&["repo", "list"]);
    assert!(ok);
    let pad = " ".repeat(url.len() - 3);
    assert_eq!(out, format!("NAME  \tURL{pad}\nstable\t{url}\n"));
    let (ok, out, _) = helm.run(&["repo", "list", "--no-headers"]);
    assert!(ok);
    assert_eq!(out, format!("stable\t{url}\n"));

    let (ok, out, err) = helm.run(&["search", "repo", "alpine"]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "NAME         \tCHART VERSION\tAPP VERSION\tDESCRIPTION                    \n\
         stable/alpine\t0.10.0       \t1.2.3      \tDeploy a basic Alpine Linux pod\n"
    );
    let (ok, out, _) = helm.run(&["search", "repo", "alpine", "--versions"]);
    assert!(ok);
    let versions: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(1).unwrap().trim())
        .collect();
    assert_eq!(versions, ["0.10.0", "0.2.0", "0.1.0"]);
    let (ok, out, _) = helm.run(&["search", "repo", "alpine", "--devel", "--versions"]);
    assert!(ok);
    assert_eq!(out.lines().count(), 5, "{out}");
    let (ok, out, _) = helm.run(&["search", "repo", "alpine", "--version", "~0.2", "--devel"]);
    assert!(ok);
    assert!(out.contains("stable/alpine\t0.2.0 "), "{out}");
    let (ok, out, _) = helm.run(&["search", "repo", "web server"]);
    assert!(ok);
    // Descriptions are cut to --max-col-width (50) with "...".
    assert!(
        out.contains("\tA web server, with a description long enough to...\n"),
        "{out}"
    );
    // -o json / yaml: Helm's output.EncodeJSON (struct field order, HTML-escaped) and
    // EncodeYAML (sigs.k8s.io/yaml, keys sorted).
    let (ok, out, _) = helm.run(&["search", "repo", "alpine", "-o", "json"]);
    assert!(ok);
    assert_eq!(
        out,
        "[{\"name\":\"stable/alpine\",\"version\":\"0.10.0\",\"app_version\":\"1.2.3\",\"description\":\"Deploy a basic Alpine Linux pod\"}]\n"
    );
    let (ok, out, _) = helm.run(&["search", "repo", "alpine", "-o", "yaml"]);
    assert!(ok);
    assert_eq!(
        out,
        "- app_version: 1.2.3\n  description: Deploy a basic Alpine Linux pod\n  name: stable/alpine\n  version: 0.10.0\n"
    );
    let (ok, out, _) = helm.run(&["repo", "list", "-o", "json"]);
    assert!(ok);
    assert_eq!(
        out,
        format!("[{{\"name\":\"stable\",\"url\":\"{url}\"}}]\n")
    );
    let (ok, out, _) = helm.run(&["search", "repo", "no-such-chart", "-o", "json"]);
    assert!(ok);
    assert_eq!(out, "[]\n");
    let (ok, out, _) = helm.run(&["search", "repo", "no-such-chart"]);
    assert!(ok);
    assert_eq!(out, "No results found\n");
    let (ok, _, err) = helm.run(&["search", "repo", "no-such-chart", "--fail-on-no-result"]);
    assert!(!ok);
    assert!(err.contains("no results found"), "{err}");

    let (ok, out, err) = helm.run(&["repo", "remove", "stable"]);
    assert!(ok, "{err}");
    assert_eq!(out, "\"stable\" has been removed from your repositories\n");
    assert!(!helm.cache().join("stable-index.yaml").exists());
    assert!(!helm.cache().join("stable-charts.txt").exists());

    let (ok, _, err) = helm.run(&["repo", "remove", "stable"]);
    assert!(!ok);
    assert!(err.contains("no repositories configured"), "{err}");
    let (ok, out, err) = helm.run(&["repo", "list"]);
    assert!(ok);
    assert_eq!(out, "");
    assert_eq!(err, "no repositories to show\n");
    for (format, empty) in [("json", "[]\n"), ("yaml", "[]\n")] {
        let (ok, out, _) = helm.run(&["repo", "list", "-o", format]);
        assert!(ok);
        assert_eq!(out, empty, "an empty list, not an error, in {format}");
    }
    let (ok, _, err) = helm.run(&["search", "repo", "alpine"]);
    assert!(!ok);
    assert!(err.contains("no repositories configured"), "{err}");
}

#[test]
fn pull_downloads_and_expands() {
    // index-plain.yaml was written by `helm repo index` without --url: relative chart URLs.
    let mut files = vec![(
        "/stable/index.yaml".to_string(),
        std::fs::read(golden_dir().join("index-plain.yaml")).unwrap(),
    )];
    for entry in std::fs::read_dir(golden_dir().join("charts")).unwrap() {
        let entry = entry.unwrap();
        files.push((
            format!("/stable/{}", entry.file_name().to_string_lossy()),
            std::fs::read(entry.path()).unwrap(),
        ));
    }
    let base = serve_files(files);
    let helm = Helm {
        home: tempfile::tempdir().unwrap(),
    };
    let (ok, _, err) = helm.run(&["repo", "add", "stable", &format!("{base}/stable")]);
    assert!(ok, "{err}");
    let dest = helm.home.path().join("downloads");
    let dest_s = dest.to_str().unwrap();

    // The newest stable version, saved byte for byte as served.
    let (ok, out, err) = helm.run(&["pull", "stable/alpine", "-d", dest_s]);
    assert!(ok, "{err}");
    assert_eq!(out, "");
    assert_eq!(
        std::fs::read(dest.join("alpine-0.10.0.tgz")).unwrap(),
        std::fs::read(golden_dir().join("charts/alpine-0.10.0.tgz")).unwrap()
    );
    let (ok, _, err) = helm.run(&[
        "pull",
        "stable/alpine",
        "--devel",
        "--version",
        "~0.2.0-0",
        "-d",
        dest_s,
    ]);
    assert!(ok, "{err}");
    assert!(dest.join("alpine-0.2.0.tgz").exists());

    // --untar expands the chart, and refuses to expand over it a second time.
    let (ok, _, err) = helm.run(&["pull", "stable/nginx", "--untar", "-d", dest_s]);
    assert!(ok, "{err}");
    let chart_yaml = std::fs::read_to_string(dest.join("nginx/Chart.yaml")).unwrap();
    assert!(chart_yaml.contains("version: 1.1.0"), "{chart_yaml}");
    let (ok, _, err) = helm.run(&["pull", "stable/nginx", "--untar", "-d", dest_s]);
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");

    let (ok, _, err) = helm.run(&["pull", "stable/nosuch", "-d", dest_s]);
    assert!(!ok);
    assert!(err.contains("nosuch"), "{err}");
    let (ok, _, err) = helm.run(&["pull", "stable/alpine", "--version", "9.9.9", "-d", dest_s]);
    assert!(!ok);
    assert!(err.contains("9.9.9"), "{err}");
}
