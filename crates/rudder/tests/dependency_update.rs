//! `rudder dependency update/build`, `package --dependency-update`, and charts taken as
//! `repo/chart`, archive URLs and `--repo URL`, against a real HTTP server on loopback.
//!
//! The server publishes tests/depup-golden/repo (archives and index Helm wrote) at
//! `/charts` and, behind basic auth, at `/private`. The goldens (Chart.lock, charts/ after
//! the run, errors) are what Helm v4.2.3 did for the same charts against the same URL
//! (scripts/gen-depup-goldens.py), hence the fixed port: the URL is part of the lock digest.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Keep in step with scripts/gen-depup-goldens.py.
const PORT: u16 = 18279;
const USER: &str = "chartuser";
const PASSWORD: &str = "s3cret";

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/depup-golden")
}

fn base() -> String {
    format!("http://127.0.0.1:{PORT}")
}

/// `Basic base64(USER:PASSWORD)`, by the base64 crate rather than the client's encoder.
fn expected_auth() -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    format!("Basic {encoded}")
}

/// Starts the server once for the whole test binary.
fn server() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let listener = TcpListener::bind(("127.0.0.1", PORT))
            .unwrap_or_else(|e| panic!("port {PORT} on 127.0.0.1 is needed for these tests: {e}"));
        let auth = expected_auth();
        let repo = golden().join("repo");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let auth = auth.clone();
                let repo = repo.clone();
                std::thread::spawn(move || answer(stream, &repo, &auth));
            }
        });
    });
}

fn answer(mut stream: std::net::TcpStream, repo: &Path, auth: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut given = String::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                given = value.trim().to_string();
            }
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, body): (&str, Vec<u8>) = match path.split_once('/').map(|(_, p)| p) {
        Some(p) if p.starts_with("private/") && given != auth => {
            ("401 Unauthorized", b"unauthorized\n".to_vec())
        }
        Some(p) => {
            let file = p
                .strip_prefix("charts/")
                .or_else(|| p.strip_prefix("private/"))
                .filter(|f| !f.contains('/') && !f.is_empty());
            match file.and_then(|f| std::fs::read(repo.join(f)).ok()) {
                Some(data) => ("200 OK", data),
                None => ("404 Not Found", b"not found\n".to_vec()),
            }
        }
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
}

/// A private Helm home (configuration and caches) for one test.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        server();
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run_in(&self, cwd: &Path, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .args(args)
            .current_dir(cwd)
            .env("HELM_CONFIG_HOME", self.path().join("config"))
            .env("HELM_CACHE_HOME", self.path().join("cache"))
            .env("HELM_DATA_HOME", self.path().join("data"))
            .env_remove("HELM_REPOSITORY_CONFIG")
            .env_remove("HELM_REPOSITORY_CACHE")
            .env_remove("HELM_CONTENT_CACHE")
            .output()
            .expect("rudder runs");
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        self.run_in(self.path(), args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "rudder {args:?} failed: {err}");
        out
    }

    /// `rudder repo add NAME URL [flags]`.
    fn add_repo(&self, name: &str, url: &str, flags: &[&str]) {
        let mut args = vec!["repo", "add", name, url];
        args.extend_from_slice(flags);
        self.ok(&args);
    }

    /// A copy of golden case `case` (the chart and its neighbours) under this home.
    fn case(&self, case: &str) -> PathBuf {
        let dest = self.path().join("work").join(case);
        copy_dir(&golden().join("cases").join(case), &dest);
        dest.join(case)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The lock without its `generated` time, which is of the run.
fn lock_body(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("generated: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn listing(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.into_iter().map(|n| format!("{n}\n")).collect()
}

fn expected(case: &str, file: &str) -> Option<String> {
    std::fs::read_to_string(golden().join("cases").join(case).join(file)).ok()
}

/// Helm's goldens were made with each repository URL registered, as `repo add` does.
fn home_with_repo() -> Home {
    let home = Home::new();
    home.add_repo("depup", &format!("{}/charts", base()), &[]);
    home
}

#[test]
fn update_matches_helm_for_every_case() {
    let cases = ["app", "devel", "nomatch", "nochart", "notaurl"];
    for case in cases {
        let home = home_with_repo();
        let chart = home.case(case);
        let (ok, out, err) = home.run(&["dependency", "update", chart.to_str().unwrap()]);
        if let Some(error) = expected(case, "expected.error") {
            assert!(!ok, "{case}: should fail");
            assert_eq!(err, format!("Error: {error}"), "{case}");
            continue;
        }
        assert!(ok, "{case}: {err}");
        let lock = std::fs::read_to_string(chart.join("Chart.lock")).unwrap();
        assert_eq!(
            lock_body(&lock),
            lock_body(&expected(case, "expected.lock").unwrap()),
            "{case}"
        );
        let generated = lock
            .lines()
            .find(|l| l.starts_with("generated: \""))
            .unwrap();
        assert!(generated.ends_with("Z\""), "{generated}");
        assert_eq!(
            listing(&chart.join("charts")),
            expected(case, "expected.charts").unwrap(),
            "{case}"
        );
        assert!(
            out.starts_with(
                "Hang tight while we grab the latest from your chart repositories...\n\
                 ...Successfully got an update from the \"depup\" chart repository\n\
                 Update Complete. ⎈Happy Helming!⎈\nSaving "
            ),
            "{case}: {out}"
        );
        assert!(out.ends_with("Deleting outdated charts\n"), "{out}");
        assert!(!chart.read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("tmpcharts-")));
    }
}

#[test]
fn build_uses_the_lock_and_refuses_an_outdated_one() {
    let home = home_with_repo();
    let chart = home.case("app");
    let path = chart.to_str().unwrap();
    home.ok(&["dependency", "update", path]);
    let lock = std::fs::read_to_string(chart.join("Chart.lock")).unwrap();
    std::fs::remove_dir_all(chart.join("charts")).unwrap();
    let out = home.ok(&["dependency", "build", path, "--skip-refresh"]);
    assert!(
        out.starts_with("Saving 3 charts\nDownloading web from repo "),
        "{out}"
    );
    assert_eq!(
        listing(&chart.join("charts")),
        expected("app", "expected-build.charts").unwrap()
    );
    // build leaves the lock alone.
    assert_eq!(
        std::fs::read_to_string(chart.join("Chart.lock")).unwrap(),
        lock
    );
    // A second update with nothing changed keeps the lock, time included.
    home.ok(&["dependency", "update", path]);
    assert_eq!(
        std::fs::read_to_string(chart.join("Chart.lock")).unwrap(),
        lock
    );

    let chart_yaml = chart.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap();
    std::fs::write(
        &chart_yaml,
        text.replace("version: ^1.0.0", "version: ^1.1.0"),
    )
    .unwrap();
    let (ok, _, err) = home.run(&["dependency", "build", path]);
    assert!(!ok);
    assert_eq!(
        err,
        format!(
            "Error: {}",
            expected("app", "expected-outofsync.error").unwrap()
        )
    );
}

#[test]
fn unconfigured_repositories_and_aliases_give_the_same_lock() {
    let golden_lock = lock_body(&expected("devel", "expected.lock").unwrap());
    // The URL is not in repositories.yaml: Helm fetches its index under a helm-manager name.
    let home = Home::new();
    let chart = home.case("devel");
    let (ok, out, err) = home.run(&["dependency", "update", chart.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!(
            "Getting updates for unmanaged Helm repositories...\n\
             ...Successfully got an update from the \"{}/charts\" chart repository\nSaving 1 charts\n",
            base()
        )),
        "{out}"
    );
    let lock = std::fs::read_to_string(chart.join("Chart.lock")).unwrap();
    assert_eq!(lock_body(&lock), golden_lock);
    // ... but `build` wants the repository configured.
    let (ok, _, err) = home.run(&["dependency", "build", chart.to_str().unwrap()]);
    assert!(!ok);
    assert_eq!(
        err,
        format!(
            "Error: no repository definition for {}/charts. Please add the missing repos via 'helm repo add'\n",
            base()
        )
    );

    // `@name` and `alias:name` are replaced by the repository's URL before hashing.
    for alias in ["\"@depup\"", "alias:depup"] {
        let home = home_with_repo();
        let chart = home.case("devel");
        let chart_yaml = chart.join("Chart.yaml");
        let text = std::fs::read_to_string(&chart_yaml).unwrap();
        let url = format!("{}/charts", base());
        std::fs::write(&chart_yaml, text.replace(&url, alias)).unwrap();
        home.ok(&["dependency", "update", chart.to_str().unwrap()]);
        let lock = std::fs::read_to_string(chart.join("Chart.lock")).unwrap();
        assert_eq!(lock_body(&lock), golden_lock, "{alias}");
        home.ok(&["dependency", "build", chart.to_str().unwrap()]);
    }

    // An alias nobody configured.
    let home = home_with_repo();
    let chart = home.case("devel");
    let chart_yaml = chart.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap();
    std::fs::write(
        &chart_yaml,
        text.replace(&format!("{}/charts", base()), "\"@nope\""),
    )
    .unwrap();
    let (ok, _, err) = home.run(&["dependency", "update", chart.to_str().unwrap()]);
    assert!(!ok);
    assert_eq!(
        err,
        "Error: no repository definition for @nope. Please add them via 'helm repo add'\n"
    );
}

#[test]
fn basic_auth_repositories() {
    let home = Home::new();
    let private = format!("{}/private", base());
    home.add_repo(
        "private",
        &private,
        &["--username", USER, "--password", PASSWORD],
    );
    let chart = home.path().join("needs-auth");
    std::fs::create_dir_all(&chart).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: needs-auth\nversion: 0.1.0\ndependencies:\n- name: db\n  version: \"0.2.x\"\n  repository: \"@private\"\n",
    )
    .unwrap();
    let path = chart.to_str().unwrap();
    home.ok(&["dependency", "update", path]);
    assert_eq!(listing(&chart.join("charts")), "db-0.2.0.tgz\n");
    let lock = std::fs::read_to_string(chart.join("Chart.lock")).unwrap();
    assert!(
        lock.contains(&format!("  repository: {private}\n  version: 0.2.0\n")),
        "{lock}"
    );

    // The same chart by `repo/chart`, `--repo` with credentials, and refused without.
    let (ok, _, err) = home.run(&["show", "chart", "private/db", "--version", "0.1.0"]);
    assert!(ok, "{err}");
    let shown = home.ok(&[
        "show",
        "chart",
        "db",
        "--repo",
        &private,
        "--username",
        USER,
        "--password",
        PASSWORD,
    ]);
    assert!(shown.contains("version: 0.2.0\n"), "{shown}");
    let (ok, _, err) = home.run(&["show", "chart", "db", "--repo", &private]);
    assert!(!ok);
    assert_eq!(
        err,
        format!(
            "Error: looks like {private:?} is not a valid chart repository or cannot be reached: failed to fetch {private}/index.yaml : 401 Unauthorized\n"
        )
    );
}

fn template(home: &Home, args: &[&str]) -> String {
    let mut all = vec!["template", "rel"];
    all.extend_from_slice(args);
    home.ok(&all)
}

#[test]
fn chart_references_render_like_the_local_archive() {
    let home = home_with_repo();
    let local = golden().join("repo/web-1.1.0.tgz");
    let want = template(&home, &[local.to_str().unwrap()]);
    assert!(want.contains("chart: web-1.1.0"), "{want}");
    assert_eq!(template(&home, &["depup/web", "--version", "1.1.0"]), want);
    assert_eq!(template(&home, &["depup/web", "--version", "~1.1"]), want);
    let charts = format!("{}/charts", base());
    assert_eq!(
        template(&home, &["web", "--repo", &charts, "--version", "1.1.0"]),
        want
    );
    let url = format!("{charts}/web-1.1.0.tgz");
    assert_eq!(template(&home, &[&url]), want);
    // The newest stable version by default, pre-releases with --devel.
    assert!(template(&home, &["depup/web"]).contains("chart: web-2.0.0"));
    assert!(template(&home, &["web", "--repo", &charts]).contains("chart: web-2.0.0"));
    let devel = template(&home, &["depup/web", "--devel", "--version", ""]);
    assert!(devel.contains("chart: web-2.0.0"), "{devel}");
    let rc = template(&home, &["depup/web", "--version", ">=1.2.0-0 <2.0.0"]);
    assert!(rc.contains("chart: web-1.2.0-rc.1"), "{rc}");

    // Downloads land in Helm's content cache, named by the index's digest.
    let index = std::fs::read_to_string(golden().join("repo/index.yaml")).unwrap();
    let content = home.path().join("cache/helm/content");
    let content = if content.exists() {
        content
    } else {
        home.path().join("cache/content")
    };
    let mut cached = Vec::new();
    for first in std::fs::read_dir(&content).unwrap() {
        for f in std::fs::read_dir(first.unwrap().path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            cached.push(name);
        }
    }
    assert!(!cached.is_empty());
    let listed = cached
        .iter()
        .filter(|n| index.contains(&format!("digest: {}", n.trim_end_matches(".chart"))))
        .count();
    assert!(listed >= 3, "{cached:?}");

    // Helm's errors.
    let (ok, _, err) = home.run(&["template", "rel", "nope/web"]);
    assert!(!ok);
    assert_eq!(err, "Error: repo nope not found\n");
    let (ok, _, err) = home.run(&["template", "rel", "depup/web", "--version", "^9"]);
    assert!(!ok);
    assert_eq!(
        err,
        "Error: chart \"web\" matching ^9 not found in depup index. (try 'helm repo update'): no chart version found for web-^9\n"
    );
    let (ok, _, err) = home.run(&[
        "template",
        "rel",
        "web",
        "--repo",
        &charts,
        "--version",
        "9.9.9",
    ]);
    assert!(!ok);
    assert_eq!(
        err,
        format!("Error: chart \"web\" version \"9.9.9\" not found in {charts} repository\n")
    );
    let (ok, _, err) = home.run(&["template", "rel", "./missing"]);
    assert!(!ok);
    assert_eq!(err, "Error: path \"./missing\" not found\n");
}

#[test]
fn package_with_dependency_update() {
    let home = home_with_repo();
    let chart = home.case("devel");
    let dest = home.path().join("out");
    home.ok(&[
        "package",
        chart.to_str().unwrap(),
        "-u",
        "-d",
        dest.to_str().unwrap(),
    ]);
    let archive = std::fs::read(dest.join("devel-0.1.0.tgz")).unwrap();
    let mut names = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&archive[..]));
    for entry in tar.entries().unwrap() {
        let entry = entry.unwrap();
        names.push(entry.path().unwrap().display().to_string());
    }
    // Helm writes subcharts expanded into the parent's archive.
    assert!(
        names.contains(&"devel/charts/web/Chart.yaml".to_string()),
        "{names:?}"
    );
    assert_eq!(listing(&chart.join("charts")), "web-1.2.0-rc.1.tgz\n");
    assert!(names.contains(&"devel/Chart.lock".to_string()), "{names:?}");
    let mut lock = String::new();
    std::fs::File::open(chart.join("Chart.lock"))
        .unwrap()
        .read_to_string(&mut lock)
        .unwrap();
    assert_eq!(
        lock_body(&lock),
        lock_body(&expected("devel", "expected.lock").unwrap())
    );
}

#[test]
fn template_with_dependency_update_fetches_missing_charts() {
    let home = home_with_repo();
    let chart = home.case("devel");
    let c = chart.to_str().unwrap();
    // Without the flag: Helm's refusal.
    let (ok, _, err) = home.run(&["template", "rel", c]);
    assert!(!ok);
    assert!(
        err.contains("found in Chart.yaml, but missing in charts/ directory: web"),
        "{err}"
    );
    // With it: the update runs first (its progress on stdout, as Helm's manager writes
    // there), then the chart renders with the fetched subchart.
    let out = home.ok(&["template", "rel", c, "--dependency-update"]);
    let (progress, manifest) = out.split_once("---\n").expect("a manifest");
    assert!(progress.contains("Saving 1 charts"), "{progress}");
    assert_eq!(listing(&chart.join("charts")), "web-1.2.0-rc.1.tgz\n");
    // The same render as after an explicit `dependency update`.
    assert_eq!(format!("---\n{manifest}"), home.ok(&["template", "rel", c]));
}

/// A v1 chart whose lock matches neither Helm v3's nor v2's digest: Helm's Manager.Build
/// (pkg/downloader/manager.go) logs its v2 fallback with `log.Println`, which Helm v4's
/// slog default handler prints at INFO on standard error, then refuses the lock.
#[test]
fn build_logs_the_helm_v2_digest_fallback_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let (chart, sub) = (dir.path().join("c"), dir.path().join("sub"));
    std::fs::create_dir_all(&chart).unwrap();
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v1\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    let dependencies =
        "dependencies:\n- name: sub\n  version: 0.1.0\n  repository: file://../sub\n";
    std::fs::write(chart.join("requirements.yaml"), dependencies).unwrap();
    std::fs::write(
        chart.join("requirements.lock"),
        format!("{dependencies}digest: sha256:0000\ngenerated: \"2020-01-01T00:00:00Z\"\n"),
    )
    .unwrap();
    std::fs::write(
        sub.join("Chart.yaml"),
        "apiVersion: v1\nname: sub\nversion: 0.1.0\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(["dependency", "build"])
        .arg(&chart)
        .env("HOME", dir.path())
        .env_remove("HELM_REPOSITORY_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "level=INFO msg=\"warning: a valid Helm v3 hash was not found. Checking against Helm v2 hash...\"\n\
         Error: the lock file (requirements.lock) is out of sync with the dependencies file (requirements.yaml). Please update the dependencies\n"
    );
}
