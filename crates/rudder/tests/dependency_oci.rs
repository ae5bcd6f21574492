//! `dependency update/build` and `package -u` with dependencies in OCI registries
//! (`repository: oci://host/path`), against real registries (Debian's docker-registry from
//! scripts/registry, one open and one asking for basic credentials), and `--verify` of the
//! downloaded dependencies. Each result is compared with what real Helm v4.2.3
//! (helm-python-sdk through RUDDER_HELM_PYTHON) does with the same chart, registry and
//! Helm home: the same Chart.lock (all but its `generated` time), the same archives in
//! charts/ byte for byte, the same error text. Where the SDK cannot drive a behaviour (it
//! has no `--username`/`--password`, no `package -u`, and returns no printed output), the
//! expectation names the Helm source lines it follows.

mod common;
use common::{env_or_skip, helm_python_path, stderr, stdout, HelmHome};

use std::path::{Path, PathBuf};
use std::process::Command;

const REGISTRIES: &str = "scripts/test starts the registries with scripts/registry";

fn open_registry() -> Option<String> {
    env_or_skip("RUDDER_TEST_REGISTRY", REGISTRIES)
}

/// (user, password, `host:port`) of the registry that asks for credentials.
fn auth_registry() -> Option<(String, String, String)> {
    let r = env_or_skip("RUDDER_TEST_REGISTRY_AUTH", REGISTRIES)?;
    let (creds, host) = r.rsplit_once('@').expect("user:password@host:port");
    let (user, password) = creds.split_once(':').expect("user:password");
    Some((user.into(), password.into(), host.into()))
}

/// A repository path no other test or earlier run uses.
fn unique(base: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rudder-tests/{base}-{}-{nanos}", std::process::id())
}

fn must(home: &HelmHome, args: &[&str]) -> String {
    let out = home.rudder(args);
    assert!(
        out.status.success(),
        "rudder {args:?} failed:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// rudder's error for `args` (it must fail), without the `Error: ` prefix.
fn refused(home: &HelmHome, args: &[&str]) -> String {
    let out = home.rudder(args);
    assert!(!out.status.success(), "rudder {args:?} succeeded");
    let err = stderr(&out);
    err.lines()
        .find_map(|l| l.strip_prefix("Error: "))
        .unwrap_or_else(|| panic!("no error line in {err:?}"))
        .to_string()
}

/// Writes a small chart `name` at `version` and packages it (with `--sign` when a
/// keyring and key are given); returns the archive's path.
fn chart_archive(
    home: &HelmHome,
    name: &str,
    version: &str,
    sign: Option<(&Path, &str)>,
) -> PathBuf {
    let src = home.path("src").join(format!("{name}-{version}"));
    std::fs::create_dir_all(src.join("templates")).unwrap();
    std::fs::write(
        src.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(
        src.join("templates/cm.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"),
    )
    .unwrap();
    let dest = home.path("dist");
    let (src_s, dest_s) = (src.to_str().unwrap(), dest.to_str().unwrap());
    match sign {
        None => must(home, &["package", src_s, "-d", dest_s]),
        Some((keyring, key)) => must(
            home,
            &[
                "package",
                src_s,
                "-d",
                dest_s,
                "--sign",
                "--key",
                key,
                "--keyring",
                keyring.to_str().unwrap(),
            ],
        ),
    };
    dest.join(format!("{name}-{version}.tgz"))
}

fn push(home: &HelmHome, archive: &Path, remote: &str) {
    must(
        home,
        &["push", archive.to_str().unwrap(), remote, "--plain-http"],
    );
}

/// Writes a parent chart with `deps` (Chart.yaml's dependency list) into `dir`.
fn parent(dir: &Path, deps: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n{deps}"),
    )
    .unwrap();
}

/// Chart.lock without its `generated` line (the time of the run).
fn lock_without_time(chart: &Path) -> String {
    std::fs::read_to_string(chart.join("Chart.lock"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("generated:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// charts/ as (file name, bytes), sorted.
fn charts_dir(chart: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(chart.join("charts"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn names(files: &[(String, Vec<u8>)]) -> Vec<&str> {
    files.iter().map(|(n, _)| n.as_str()).collect()
}

/// Real Helm's `dependency update` (or `build`) of `chart` in `home` (so it reads the same
/// registry login, `HELM_CONFIG_HOME/registry/config.json`): `Ok(())` or Helm's error.
fn helm_dependency(
    python: &str,
    home: &HelmHome,
    build: bool,
    chart: &Path,
    verify_keyring: Option<&Path>,
) -> Result<(), String> {
    let verify = match verify_keyring {
        Some(k) => format!(", verify=True, keyring={:?}", k.to_str().unwrap()),
        None => String::new(),
    };
    let function = if build {
        "dependency_build"
    } else {
        "dependency_update"
    };
    let script = format!(
        r#"
import sys, helm_python as h
try:
    h.{function}({chart:?}, plain_http=True{verify})
except h.HelmError as e:
    sys.stdout.write("ERROR " + str(e))
"#,
        chart = chart.to_str().unwrap()
    );
    let out = Command::new(python)
        .args(["-c", &script])
        .env("HELM_CONFIG_HOME", home.path("config"))
        .env("HELM_CACHE_HOME", home.path("helm-cache"))
        .env("HELM_DATA_HOME", home.path("data"))
        .env("DOCKER_CONFIG", home.path("docker"))
        .env_remove("HELM_REGISTRY_CONFIG")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "helm-python-sdk failed:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    match stdout(&out).strip_prefix("ERROR ") {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    }
}

#[test]
fn oci_dependencies_resolve_download_and_lock_as_helm_does() {
    let Some(open) = open_registry() else { return };
    let Some((user, password, guarded)) = auth_registry() else {
        return;
    };
    let python = helm_python_path();
    let home = HelmHome::new();
    let public = unique("deps-public");
    let private = unique("deps-private");
    for version in ["1.0.0", "1.1.0", "1.2.0+build.3", "2.0.0"] {
        let archive = chart_archive(&home, "web", version, None);
        push(&home, &archive, &format!("oci://{open}/{public}"));
    }
    let login = home
        .command(&[
            "registry",
            "login",
            &guarded,
            "-u",
            &user,
            "--password-stdin",
            "--plain-http",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(password.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(login.status.success(), "{}", stderr(&login));
    let db = chart_archive(&home, "db", "0.3.1", None);
    push(&home, &db, &format!("oci://{guarded}/{private}"));

    // A constraint (the newest tag within it, read back with `+`), an exact version under
    // an alias, and a dependency behind credentials.
    let deps = format!(
        "- name: web\n  version: ^1.1.0\n  repository: oci://{open}/{public}\n\
         - name: web\n  alias: pinned\n  version: 2.0.0\n  repository: oci://{open}/{public}\n\
         - name: web\n  alias: again\n  version: 2.0.0\n  repository: oci://{open}/{public}\n\
         - name: db\n  version: \">=0.3.0\"\n  repository: oci://{guarded}/{private}\n"
    );
    let mine = home.path("mine/parent");
    parent(&mine, &deps);
    let out = must(
        &home,
        &[
            "dependency",
            "update",
            mine.to_str().unwrap(),
            "--plain-http",
        ],
    );
    // Each pull is reported by the registry client (pkg/registry/client.go Pull prints
    // `Pulled:` and `Digest:` to the command's output, which the manager shares).
    for pulled in [
        format!("Downloading web from repo oci://{open}/{public}\nPulled: {open}/{public}/web:1.2.0_build.3\n"),
        format!("Downloading web from repo oci://{open}/{public}\nPulled: {open}/{public}/web:2.0.0\n"),
        format!("Downloading db from repo oci://{guarded}/{private}\nPulled: {guarded}/{private}/db:0.3.1\n"),
    ] {
        assert!(out.contains(&pulled), "{pulled:?} not in\n{out}");
    }
    // Without a repositories.yaml, Helm treats each OCI repository as an unmanaged chart
    // repository and tries its index.yaml first; its OCI getter refuses the untagged
    // reference (pkg/downloader/manager.go ensureMissingRepos and parallelRepoUpdate,
    // pkg/getter/ocigetter.go, oras-go v2.6.1 Repository.ParseReference and copyerror.go).
    assert!(
        out.starts_with(&format!(
            "Getting updates for unmanaged Helm repositories...\n\
             ...Unable to get an update from the \"oci://{open}/{public}\" chart repository:\n\
             \tfailed to perform \"FetchReference\" on source: invalid reference\n"
        )),
        "{out}"
    );
    assert!(out.contains("Saving 4 charts\n"), "{out}");
    // The same OCI chart and version twice is pulled twice: Helm's downloadAll records
    // an OCI dependency under its reference without the tag but looks it up with the tag
    // (pkg/downloader/manager.go: `churls[churl]` after `parseOCIRef`), so it never says
    // "Already downloaded" for one.
    assert_eq!(out.matches("/web:2.0.0\n").count(), 2, "{out}");
    assert!(!out.contains("Already downloaded"), "{out}");
    let lock = lock_without_time(&mine);
    assert!(
        lock.starts_with(&format!(
            "dependencies:\n- name: web\n  repository: oci://{open}/{public}\n  version: 1.2.0+build.3\n\
             - name: web\n  repository: oci://{open}/{public}\n  version: 2.0.0\n\
             - name: web\n  repository: oci://{open}/{public}\n  version: 2.0.0\n\
             - name: db\n  repository: oci://{guarded}/{private}\n  version: 0.3.1\ndigest: sha256:"
        )),
        "{lock}"
    );
    let charts = charts_dir(&mine);
    assert_eq!(
        names(&charts),
        ["db-0.3.1.tgz", "web-1.2.0+build.3.tgz", "web-2.0.0.tgz"]
    );
    assert_eq!(charts[0].1, std::fs::read(&db).unwrap());

    // `dependency build` from that lock into an empty charts/.
    std::fs::remove_dir_all(mine.join("charts")).unwrap();
    must(
        &home,
        &[
            "dependency",
            "build",
            mine.to_str().unwrap(),
            "--plain-http",
        ],
    );
    assert_eq!(charts_dir(&mine), charts);

    if let Some(python) = &python {
        let helms = home.path("helm/parent");
        parent(&helms, &deps);
        helm_dependency(python, &home, false, &helms, None).expect("helm dependency update");
        assert_eq!(lock_without_time(&helms), lock);
        assert_eq!(charts_dir(&helms), charts);
        std::fs::remove_dir_all(helms.join("charts")).unwrap();
        helm_dependency(python, &home, true, &helms, None).expect("helm dependency build");
        assert_eq!(charts_dir(&helms), charts);
    }

    // `package -u`: the manager's own lines are discarded, the registry client's are not
    // (pkg/cmd/package.go: the Manager's Out is io.Discard, the registry client was made
    // with the command's `out`); the archive holds the dependencies.
    let packaged = home.path("packaged");
    std::fs::remove_dir_all(mine.join("charts")).unwrap();
    std::fs::remove_file(mine.join("Chart.lock")).unwrap();
    let out = must(
        &home,
        &[
            "package",
            mine.to_str().unwrap(),
            "-u",
            "--plain-http",
            "-d",
            packaged.to_str().unwrap(),
        ],
    );
    assert!(!out.contains("Saving"), "{out}");
    assert!(
        out.contains(&format!("Pulled: {guarded}/{private}/db:0.3.1\n")),
        "{out}"
    );
    assert!(
        out.ends_with(&format!(
            "Successfully packaged chart and saved it to: {}\n",
            packaged.join("parent-0.1.0.tgz").display()
        )),
        "{out}"
    );
    assert_eq!(charts_dir(&mine), charts);
}

#[test]
fn oci_dependency_errors_and_credential_flags() {
    let Some(open) = open_registry() else { return };
    let Some((user, password, guarded)) = auth_registry() else {
        return;
    };
    let python = helm_python_path();
    let home = HelmHome::new();
    let public = unique("deps-errors");
    let private = unique("deps-creds");
    let web = chart_archive(&home, "web", "1.0.0", None);
    push(&home, &web, &format!("oci://{open}/{public}"));
    must(
        &home,
        &[
            "push",
            web.to_str().unwrap(),
            &format!("oci://{guarded}/{private}"),
            "--plain-http",
            "--username",
            &user,
            "--password",
            &password,
        ],
    );

    // No login: the tag list is refused (Helm's wording, compared below).
    let guarded_deps =
        format!("- name: web\n  version: ^1.0.0\n  repository: oci://{guarded}/{private}\n");
    let chart = home.path("guarded/parent");
    parent(&chart, &guarded_deps);
    let no_creds = refused(
        &home,
        &[
            "dependency",
            "update",
            chart.to_str().unwrap(),
            "--plain-http",
        ],
    );
    assert_eq!(
        no_creds,
        format!(
            "could not retrieve list of tags for repository oci://{guarded}/{private}: \
             GET \"http://{guarded}/v2/{private}/web/tags/list\": basic credential not found"
        )
    );
    // --username/--password reach the registry client (pkg/cmd/dependency_update.go:
    // newRegistryClient(out, certFile, keyFile, caFile, insecure, plainHTTP, username,
    // password)); the SDK has no such options, so this is rudder's side only.
    must(
        &home,
        &[
            "dependency",
            "update",
            chart.to_str().unwrap(),
            "--plain-http",
            "--username",
            &user,
            "--password",
            &password,
        ],
    );
    assert_eq!(names(&charts_dir(&chart)), ["web-1.0.0.tgz"]);
    // TLS files that do not make a TLS configuration fail before anything else (Helm makes
    // the registry client first: "missing registry client: can't create TLS config...").
    let bad_ca = refused(
        &home,
        &[
            "dependency",
            "update",
            chart.to_str().unwrap(),
            "--ca-file",
            home.path("no-such-ca.pem").to_str().unwrap(),
        ],
    );
    assert!(
        bad_ca.starts_with("missing registry client: can't create TLS config for client: "),
        "{bad_ca}"
    );

    // No tag within the constraint: Helm's resolver locks the constraint itself for an OCI
    // dependency and the download then finds no matching tag.
    let nomatch_deps =
        format!("- name: web\n  version: ^9.0.0\n  repository: oci://{open}/{public}\n");
    let nomatch = home.path("nomatch/parent");
    parent(&nomatch, &nomatch_deps);
    let no_tag = refused(
        &home,
        &[
            "dependency",
            "update",
            nomatch.to_str().unwrap(),
            "--plain-http",
        ],
    );
    assert_eq!(
        no_tag,
        format!(
            "could not download oci://{open}/{public}/web: could not locate a version matching provided version string ^9.0.0"
        )
    );

    // An exact version is locked without asking the registry; the pull then fails.
    let missing_deps =
        format!("- name: web\n  version: 1.0.1\n  repository: oci://{open}/{public}\n");
    let missing = home.path("missing/parent");
    parent(&missing, &missing_deps);
    let not_found = refused(
        &home,
        &[
            "dependency",
            "update",
            missing.to_str().unwrap(),
            "--plain-http",
        ],
    );
    assert!(
        not_found.starts_with(&format!("could not download oci://{open}/{public}/web: ")),
        "{not_found}"
    );

    if let Some(python) = &python {
        let helms = home.path("helm-missing/parent");
        parent(&helms, &missing_deps);
        assert_eq!(
            helm_dependency(python, &home, false, &helms, None),
            Err(not_found)
        );
        let helms = home.path("helm-guarded/parent");
        parent(&helms, &guarded_deps);
        assert_eq!(
            helm_dependency(python, &home, false, &helms, None),
            Err(no_creds)
        );
        let helms = home.path("helm-nomatch/parent");
        parent(&helms, &nomatch_deps);
        assert_eq!(
            helm_dependency(python, &home, false, &helms, None),
            Err(no_tag)
        );
    }
}

/// A signing key pair made with GnuPG in a throwaway home: (secret keyring, public keyring,
/// a public keyring of an unrelated key), or `None` without gpg.
fn keys(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    if Command::new("gpg").arg("--version").output().is_err() {
        common::skip("gpg is not installed (scripts/test installs gnupg)");
        return None;
    }
    let gnupg = dir.join("gnupg-keys");
    std::fs::create_dir_all(&gnupg).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &gnupg)
            .args(["--batch", "--yes"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "gpg {args:?}: {}", stderr(&out));
        out.stdout
    };
    for name in ["Dep Signer", "Someone Else"] {
        let params = dir.join("params");
        std::fs::write(
            &params,
            format!(
                "Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\n%no-protection\n\
                 Name-Real: {name}\nName-Email: signer@example.com\nExpire-Date: 0\n%commit\n"
            ),
        )
        .unwrap();
        gpg(&["--gen-key", params.to_str().unwrap()]);
    }
    let write = |file: &str, data: Vec<u8>| {
        let path = dir.join(file);
        std::fs::write(&path, data).unwrap();
        path
    };
    let secring = write("secring.gpg", gpg(&["--export-secret-keys", "Dep Signer"]));
    let pubring = write("pubring.gpg", gpg(&["--export", "Dep Signer"]));
    let other = write("other.gpg", gpg(&["--export", "Someone Else"]));
    Some((secring, pubring, other))
}

#[test]
fn verify_checks_each_downloaded_dependency() {
    let Some(open) = open_registry() else { return };
    let python = helm_python_path();
    let home = HelmHome::new();
    let Some((secring, pubring, other)) = keys(home.dir.path()) else {
        return;
    };
    let repo = unique("deps-signed");
    let signed = chart_archive(&home, "signed", "1.0.0", Some((&secring, "Dep Signer")));
    push(&home, &signed, &format!("oci://{open}/{repo}"));
    let unsigned = chart_archive(&home, "plain", "1.0.0", None);
    push(&home, &unsigned, &format!("oci://{open}/{repo}"));

    let update = |chart: &Path, keyring: &Path| {
        home.rudder(&[
            "dependency",
            "update",
            chart.to_str().unwrap(),
            "--plain-http",
            "--verify",
            "--keyring",
            keyring.to_str().unwrap(),
        ])
    };
    // A signed dependency passes; its provenance file stays behind in tmpcharts/ (Helm's
    // safeMoveDeps only moves what loads as a chart, and says so without a line break).
    let signed_deps =
        format!("- name: signed\n  version: 1.0.0\n  repository: oci://{open}/{repo}\n");
    let chart = home.path("signed/parent");
    parent(&chart, &signed_deps);
    let out = update(&chart, &pubring);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "/signed-1.0.0.tgz.prov for moving: file '"
        ) && text.contains(
            "/signed-1.0.0.tgz.prov' does not appear to be a gzipped archive; got 'text/plain; charset=utf-8' (Skipping)Deleting outdated charts\n"
        ),
        "{text}"
    );
    let charts = charts_dir(&chart);
    assert_eq!(names(&charts), ["signed-1.0.0.tgz"]);
    assert_eq!(charts[0].1, std::fs::read(&signed).unwrap());

    // Signed by a key the keyring does not hold.
    let other_chart = home.path("other/parent");
    parent(&other_chart, &signed_deps);
    let out = update(&other_chart, &other);
    assert!(!out.status.success());
    let wrong_key = stderr(&out)
        .trim_end()
        .strip_prefix("Error: ")
        .unwrap()
        .to_string();
    assert!(
        wrong_key.starts_with(&format!("could not download oci://{open}/{repo}/signed: ")),
        "{wrong_key}"
    );

    // No provenance layer at all.
    let plain_deps =
        format!("- name: plain\n  version: 1.0.0\n  repository: oci://{open}/{repo}\n");
    let plain = home.path("plain/parent");
    parent(&plain, &plain_deps);
    let out = update(&plain, &pubring);
    assert!(!out.status.success());
    let no_prov = format!(
        "could not download oci://{open}/{repo}/plain: failed to fetch provenance \"oci://{open}/{repo}/plain:1.0.0.prov\""
    );
    assert_eq!(stderr(&out), format!("Error: {no_prov}\n"));
    assert!(!plain.join("charts/plain-1.0.0.tgz").exists());

    if let Some(python) = &python {
        let helms = home.path("helm-signed/parent");
        parent(&helms, &signed_deps);
        helm_dependency(python, &home, false, &helms, Some(&pubring)).expect("helm verifies");
        assert_eq!(charts_dir(&helms), charts);
        let helms = home.path("helm-other/parent");
        parent(&helms, &signed_deps);
        assert_eq!(
            helm_dependency(python, &home, false, &helms, Some(&other)),
            Err(wrong_key)
        );
        let helms = home.path("helm-plain/parent");
        parent(&helms, &plain_deps);
        assert_eq!(
            helm_dependency(python, &home, false, &helms, Some(&pubring)),
            Err(no_prov)
        );
    }
}

#[test]
fn verify_checks_dependencies_from_chart_repositories_too() {
    let python = helm_python_path();
    let home = HelmHome::new();
    let Some((secring, pubring, _)) = keys(home.dir.path()) else {
        return;
    };
    let signed = chart_archive(&home, "signed", "1.0.0", Some((&secring, "Dep Signer")));
    chart_archive(&home, "plain", "1.0.0", None);
    // An index with relative URLs (`repo index` without --url), so it holds wherever the
    // server listens.
    let dist = home.path("dist");
    must(&home, &["repo", "index", dist.to_str().unwrap()]);
    let mut files = Vec::new();
    for name in [
        "index.yaml",
        "signed-1.0.0.tgz",
        "signed-1.0.0.tgz.prov",
        "plain-1.0.0.tgz",
    ] {
        files.push((
            format!("/charts/{name}"),
            std::fs::read(dist.join(name)).unwrap(),
        ));
    }
    let url = format!("{}/charts", common::serve_files(files));
    let update = |chart: &Path| {
        home.rudder(&[
            "dependency",
            "update",
            chart.to_str().unwrap(),
            "--verify",
            "--keyring",
            pubring.to_str().unwrap(),
        ])
    };
    let signed_deps = format!("- name: signed\n  version: 1.0.0\n  repository: {url}\n");
    let chart = home.path("http-signed/parent");
    parent(&chart, &signed_deps);
    let out = update(&chart);
    assert!(out.status.success(), "{}", stderr(&out));
    let charts = charts_dir(&chart);
    assert_eq!(names(&charts), ["signed-1.0.0.tgz"]);
    assert_eq!(charts[0].1, std::fs::read(&signed).unwrap());

    let plain_deps = format!("- name: plain\n  version: 1.0.0\n  repository: {url}\n");
    let plain = home.path("http-plain/parent");
    parent(&plain, &plain_deps);
    let out = update(&plain);
    assert!(!out.status.success());
    let no_prov = format!(
        "could not download {url}/plain-1.0.0.tgz: failed to fetch provenance \"{url}/plain-1.0.0.tgz.prov\""
    );
    assert_eq!(stderr(&out), format!("Error: {no_prov}\n"));
    // Nothing lands in charts/ when the download fails (the tmpcharts/ folder goes).
    assert!(!plain.join("charts").join("plain-1.0.0.tgz").exists());

    if let Some(python) = &python {
        let helms = home.path("helm-http-signed/parent");
        parent(&helms, &signed_deps);
        helm_dependency(python, &home, false, &helms, Some(&pubring)).expect("helm verifies");
        assert_eq!(charts_dir(&helms), charts);
        let helms = home.path("helm-http-plain/parent");
        parent(&helms, &plain_deps);
        assert_eq!(
            helm_dependency(python, &home, false, &helms, Some(&pubring)),
            Err(no_prov)
        );
    }
}

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

/// A docker-registry process, stopped when dropped.
struct Registry(std::process::Child);

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A docker-registry over TLS on loopback that also asks for a client certificate signed
/// by the same CA; returns it and its `host:port`.
fn tls_registry(dir: &Path) -> (Registry, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n\
             http:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {cert}\n    key: {key}\n    clientcas:\n      - {ca}\n",
            storage = dir.join("storage").display(),
            cert = dir.join("server.pem").display(),
            key = dir.join("server.key").display(),
            ca = dir.join("ca.pem").display(),
        ),
    )
    .unwrap();
    let child = Command::new("docker-registry")
        .args(["serve", config.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("docker-registry runs");
    let registry = Registry(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the TLS registry did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (registry, format!("127.0.0.1:{port}"))
}

/// `--ca-file`, `--cert-file`/`--key-file` and `--insecure-skip-tls-verify` of `dependency
/// update` reach the registry client (pkg/cmd/dependency_update.go hands them to
/// newRegistryClient, which pkg/cmd/root.go turns into the client's TLS configuration when
/// a CA, a certificate and key, or insecure is given). helm-python-sdk's dependency_update
/// has no TLS options, so this is rudder's side only.
#[test]
fn registry_tls_flags_reach_oci_dependencies() {
    if !have("docker-registry", "--version") || !have("openssl", "version") {
        common::skip("docker-registry or openssl is missing (scripts/registry installs the first)");
        return;
    }
    let home = HelmHome::new();
    let d = home.path("tls");
    std::fs::create_dir_all(&d).unwrap();
    openssl(
        &d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=rudder test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    std::fs::write(d.join("server.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    std::fs::write(d.join("client.cnf"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (who, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=rudder client")] {
        openssl(
            &d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                subject,
                "-keyout",
                &format!("{who}.key"),
                "-out",
                &format!("{who}.csr"),
            ],
        );
        openssl(
            &d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{who}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{who}.cnf"),
                "-out",
                &format!("{who}.pem"),
            ],
        );
    }
    let (_registry, host) = tls_registry(&d);
    let path = |f: &str| d.join(f).to_str().unwrap().to_string();
    let (ca, cert, key) = (path("ca.pem"), path("client.pem"), path("client.key"));
    let web = chart_archive(&home, "web", "1.0.0", None);
    must(
        &home,
        &[
            "push",
            web.to_str().unwrap(),
            &format!("oci://{host}/charts"),
            "--ca-file",
            &ca,
            "--cert-file",
            &cert,
            "--key-file",
            &key,
        ],
    );
    let chart = home.path("tls-parent/parent");
    parent(
        &chart,
        &format!("- name: web\n  version: ^1.0.0\n  repository: oci://{host}/charts\n"),
    );
    let chart_s = chart.to_str().unwrap();

    // Without the CA the server is not trusted; without the client certificate the
    // registry refuses the handshake.
    let untrusted = refused(&home, &["dependency", "update", chart_s]);
    assert!(
        untrusted.starts_with(&format!(
            "could not retrieve list of tags for repository oci://{host}/charts: "
        )),
        "{untrusted}"
    );
    let no_client_cert = refused(&home, &["dependency", "update", chart_s, "--ca-file", &ca]);
    assert!(
        no_client_cert.starts_with(&format!(
            "could not retrieve list of tags for repository oci://{host}/charts: "
        )),
        "{no_client_cert}"
    );
    // (The TLS failure itself is worded by rustls, not as Go's crypto/tls words it.)
    for refusal in [&untrusted, &no_client_cert] {
        assert!(refusal.to_lowercase().contains("certificate"), "{refusal}");
    }
    assert!(!chart.join("charts").exists() || charts_dir(&chart).is_empty());

    let out = must(
        &home,
        &[
            "dependency",
            "update",
            chart_s,
            "--ca-file",
            &ca,
            "--cert-file",
            &cert,
            "--key-file",
            &key,
        ],
    );
    assert!(
        out.contains(&format!("Pulled: {host}/charts/web:1.0.0\n")),
        "{out}"
    );
    assert_eq!(
        charts_dir(&chart),
        [("web-1.0.0.tgz".to_string(), std::fs::read(&web).unwrap())]
    );
    // --insecure-skip-tls-verify in place of the CA.
    std::fs::remove_dir_all(chart.join("charts")).unwrap();
    must(
        &home,
        &[
            "dependency",
            "build",
            chart_s,
            "--insecure-skip-tls-verify",
            "--cert-file",
            &cert,
            "--key-file",
            &key,
        ],
    );
    assert_eq!(names(&charts_dir(&chart)), ["web-1.0.0.tgz"]);
    // package -u takes the same flags.
    std::fs::remove_dir_all(chart.join("charts")).unwrap();
    let dest = home.path("tls-packaged");
    must(
        &home,
        &[
            "package",
            chart_s,
            "-u",
            "--ca-file",
            &ca,
            "--cert-file",
            &cert,
            "--key-file",
            &key,
            "-d",
            dest.to_str().unwrap(),
        ],
    );
    assert_eq!(names(&charts_dir(&chart)), ["web-1.0.0.tgz"]);
    assert!(dest.join("parent-0.1.0.tgz").exists());
}
