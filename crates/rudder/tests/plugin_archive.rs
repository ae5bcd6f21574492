//! `plugin install` from archives through the binary: a local .tgz, an HTTP(S) URL served
//! by a real HTTP server on loopback, and an OCI reference in the tests' docker-registry
//! (RUDDER_TEST_REGISTRY, started by scripts/registry); Helm's layout under the data home,
//! and Helm's errors for an existing plugin, a bad archive and hostile archive entries.
//!
//! helm-python-sdk does not expose plugins, so the expectations follow Helm v4.2.3's
//! sources (internal/plugin/installer/*.go, pkg/cmd/plugin_install.go), named at each test.

#![cfg(unix)]

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{stderr, stdout, HelmHome as Home};

/// A tar entry whose name is written as given (the tar crate refuses `..` and absolute
/// names, which a hostile archive has).
fn raw_entry(tar: &mut tar::Builder<impl Write>, name: &str, kind: tar::EntryType, body: &[u8]) {
    let mut header = tar::Header::new_ustar();
    header.as_mut_bytes()[..name.len()].copy_from_slice(name.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o755);
    header.set_size(body.len() as u64);
    if kind == tar::EntryType::Symlink {
        header.set_link_name("/etc/passwd").unwrap();
    }
    header.set_cksum();
    tar.append(&header, body).unwrap();
}

/// A gzipped tar of `entries` (name, type, body).
fn tgz(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, kind, body) in entries {
        raw_entry(&mut tar, name, *kind, body);
    }
    tar.into_inner().unwrap().finish().unwrap()
}

const REG: tar::EntryType = tar::EntryType::Regular;
const DIR: tar::EntryType = tar::EntryType::Directory;

/// A cli/v1 plugin NAME (v1 schema) whose command prints its name and arguments.
fn plugin_tgz(top: &str, name: &str) -> Vec<u8> {
    let yaml = format!(
        "apiVersion: v1\nname: {name}\ntype: cli/v1\nruntime: subprocess\nversion: 0.1.0\nruntimeConfig:\n  platformCommand:\n  - command: ${{HELM_PLUGIN_DIR}}/bin/run.sh\n"
    );
    let script = "#!/bin/sh\necho \"$HELM_PLUGIN_NAME says $*\"\n";
    let prefix = if top.is_empty() {
        String::new()
    } else {
        format!("{top}/")
    };
    tgz(&[
        (&format!("{prefix}plugin.yaml"), REG, yaml.as_bytes()),
        (&format!("{prefix}bin"), DIR, b""),
        (&format!("{prefix}bin/run.sh"), REG, script.as_bytes()),
    ])
}

/// The plugin works as a subcommand, with its script's execute bit kept.
fn assert_runs(home: &Home, name: &str) {
    let out = home.rudder(&[name, "hi"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{name} says hi\n"));
}

/// Nothing of a failed install is left under the data home but the (empty) plugins folder.
fn assert_nothing_installed(home: &Home) {
    let leftovers: Vec<_> = std::fs::read_dir(home.path("data/plugins"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn local_tgz_installs_as_helm_lays_it_out() {
    let home = Home::new();
    let archive = home.path("dist/hello-0.1.0.tgz");
    std::fs::create_dir_all(archive.parent().unwrap()).unwrap();
    let data = plugin_tgz("hello", "hello");
    std::fs::write(&archive, &data).unwrap();
    let source = archive.to_str().unwrap();

    // plugin_install.go: --verify is on by default, so an archive without NAME.tgz.prov is
    // refused (installer.go InstallWithOptions) and nothing is installed.
    let out = home.rudder(&["plugin", "install", source]);
    assert!(!out.status.success());
    assert_eq!(stdout(&out), "Verifying plugin signature...\n");
    assert_eq!(
        stderr(&out),
        "Error: plugin verification failed: no provenance file (.prov) found\n"
    );
    assert_nothing_installed(&home);

    let out = home.rudder(&["plugin", "install", source, "--verify=false"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "WARNING: Skipping plugin signature verification\nInstalled plugin: hello\n"
    );
    // local_installer.go: Path() is <data>/plugins/<archive name without version>, a copy
    // of the archive's top directory (not a link), and the archive is kept beside it as
    // NAME-VERSION.tgz for `plugin list`'s provenance column and `uninstall`.
    let dir = home.path("data/plugins/hello");
    assert!(std::fs::symlink_metadata(&dir).unwrap().is_dir());
    let mode = std::fs::metadata(dir.join("bin/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "execute bits kept: {mode:o}");
    assert_eq!(
        std::fs::read(home.path("data/plugins/hello-0.1.0.tgz")).unwrap(),
        data
    );
    assert_runs(&home, "hello");

    // installer.go InstallWithOptions: the plugin's path must be free.
    let out = home.rudder(&["plugin", "install", source, "--verify=false"]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out), "Error: plugin already exists\n");

    // plugin_uninstall.go: the directory and the kept archive go.
    let out = home.rudder(&["plugin", "uninstall", "hello"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!dir.exists());
    assert!(!home.path("data/plugins/hello-0.1.0.tgz").exists());
}

#[test]
fn plugins_installed_by_helm_are_found_and_run() {
    // What Helm's local archive installer leaves (local_installer.go installFromArchive:
    // <data>/plugins/NAME copied out of the archive, NAME-VERSION.tgz beside it), made by
    // hand, is a plugin rudder lists, runs and uninstalls.
    let home = Home::new();
    let plugins = home.path("data/plugins");
    std::fs::create_dir_all(plugins.join("byhelm/bin")).unwrap();
    std::fs::write(
        plugins.join("byhelm/plugin.yaml"),
        "name: byhelm\nversion: 1.0.0\nusage: made by helm\ncommand: $HELM_PLUGIN_DIR/bin/run.sh\n",
    )
    .unwrap();
    let script = plugins.join("byhelm/bin/run.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"$HELM_PLUGIN_NAME says $*\"\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(plugins.join("byhelm-1.0.0.tgz"), b"kept archive").unwrap();
    assert_runs(&home, "byhelm");
    let out = home.rudder(&["plugin", "uninstall", "byhelm"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_nothing_installed(&home);
}

#[test]
fn bad_and_hostile_archives_are_refused_and_leave_nothing() {
    let home = Home::new();
    let dist = home.path("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let install = |name: &str, data: &[u8]| {
        let path = dist.join(name);
        std::fs::write(&path, data).unwrap();
        home.rudder(&[
            "plugin",
            "install",
            path.to_str().unwrap(),
            "--verify=false",
        ])
    };
    let yaml: &[u8] = b"name: evil\nversion: 0.1.0\ncommand: true\n";
    // sign.go ExtractTgzPluginMetadata reads the archive first; Go's gzip reader rejects
    // what is not gzip with "gzip: invalid header".
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "evil-0.1.0.tgz",
            b"not an archive".to_vec(),
            "failed to extract plugin metadata from tarball: gzip: invalid header",
        ),
        (
            "evil-0.1.0.tgz",
            tgz(&[("evil/README", REG, b"no metadata")]),
            "failed to extract plugin metadata from tarball: plugin.yaml not found in tarball",
        ),
        // extractor.go cleanJoin: a `..` component, an absolute name and a `:` are refused
        // before anything is written; only directories and regular files are allowed
        // (Extract's "unknown type: %b in NAME", '2' = 0b110010 for a symlink).
        (
            "evil-0.1.0.tgz",
            tgz(&[
                ("evil/plugin.yaml", REG, yaml),
                ("evil/../../../escaped", REG, b"owned"),
            ]),
            "failed to extract archive: path contains '..', which is illegal",
        ),
        (
            "evil-0.1.0.tgz",
            tgz(&[
                ("evil/plugin.yaml", REG, yaml),
                ("/tmp/rudder-plugin-absolute-escape", REG, b"owned"),
            ]),
            "failed to extract archive: path is absolute, which is illegal",
        ),
        (
            "evil-0.1.0.tgz",
            tgz(&[("evil/plugin.yaml", REG, yaml), ("evil/c:x", REG, b"owned")]),
            "failed to extract archive: path contains ':', which is illegal",
        ),
        (
            "evil-0.1.0.tgz",
            tgz(&[
                ("evil/plugin.yaml", REG, yaml),
                ("evil/link", tar::EntryType::Symlink, b""),
            ]),
            "failed to extract archive: unknown type: 110010 in evil/link",
        ),
        // local_installer.go: the plugin must be in the top directory named after the
        // archive.
        (
            "other-0.1.0.tgz",
            tgz(&[("evil/plugin.yaml", REG, yaml)]),
            "plugin.yaml not found in expected directory",
        ),
    ];
    for (name, data, want) in cases {
        let out = install(name, &data);
        assert!(!out.status.success(), "{name}: {want}");
        assert!(
            stderr(&out).starts_with(&format!("Error: {want}")),
            "{want}\ngot: {}",
            stderr(&out)
        );
        assert_nothing_installed(&home);
    }
    assert!(!home.path("escaped").exists());
    assert!(!dist.join("escaped").exists());
    assert!(!Path::new("/tmp/rudder-plugin-absolute-escape").exists());
}

#[test]
fn http_urls_install_the_archive_they_serve() {
    let home = Home::new();
    let base = common::serve_files(vec![
        ("/dl/web-1.2.0.tgz".into(), plugin_tgz("web", "web")),
        // http_installer.go + plugin_structure.go detectPluginRoot: plugin.yaml may be at
        // the archive's top.
        ("/dl/flat-0.3.0.tar.gz".into(), plugin_tgz("", "flat")),
    ]);
    let url = format!("{base}/dl/web-1.2.0.tgz");
    // A URL whose archive is signed needs its .prov next to it (http_installer.go
    // GetVerificationData); none is served here.
    let out = home.rudder(&["plugin", "install", &url]);
    assert_eq!(
        stderr(&out),
        "Error: plugin verification failed: no provenance file (.prov) found\n"
    );
    let out = home.rudder(&["plugin", "install", &url, "--verify=false"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "WARNING: Skipping plugin signature verification\nInstalled plugin: web\n"
    );
    assert!(home.path("data/plugins/web/plugin.yaml").is_file());
    assert!(home.path("data/plugins/web-0.1.0.tgz").is_file());
    assert_runs(&home, "web");

    let out = home.rudder(&[
        "plugin",
        "install",
        &format!("{base}/dl/flat-0.3.0.tar.gz"),
        "--verify=false",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_runs(&home, "flat");

    // A missing archive is the getter's error.
    let out = home.rudder(&[
        "plugin",
        "install",
        &format!("{base}/dl/gone-1.0.0.tgz"),
        "--verify=false",
    ]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        format!("Error: failed to fetch {base}/dl/gone-1.0.0.tgz : 404 Not Found\n")
    );
}

#[test]
fn oci_references_install_with_version() {
    let Some(registry) = common::env_or_skip("RUDDER_TEST_REGISTRY", "scripts/registry") else {
        return;
    };
    let repo = format!("{registry}/plugins-{}/greet", std::process::id());
    // As `oras push --artifact-type application/vnd.helm.plugin.v1+json` publishes them
    // (registry/plugin.go processPluginPull: the layer titled NAME-VERSION.tgz).
    for version in ["1.0.0", "2.0.0"] {
        let data = plugin_tgz("greet", "greet");
        common::push_plugin(
            &format!("{repo}:{version}"),
            None,
            &[(&format!("greet-{version}.tgz"), &data)],
        );
    }
    let home = Home::new();
    let reference = format!("oci://{repo}");
    let out = home.rudder(&[
        "plugin",
        "install",
        &reference,
        "--version",
        "1.0.0",
        "--plain-http",
        "--verify=false",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "WARNING: Skipping plugin signature verification\nInstalled plugin: greet\n"
    );
    // oci_installer.go Path(): HELM_PLUGINS/<last repository component>.
    assert!(home.path("data/plugins/greet/plugin.yaml").is_file());
    assert_runs(&home, "greet");
    // With --verify (the default) an artifact without a provenance layer is refused.
    let other = Home::new();
    let out = other.rudder(&[
        "plugin",
        "install",
        &format!("{reference}:2.0.0"),
        "--plain-http",
    ]);
    assert_eq!(
        stderr(&out),
        "Error: plugin verification failed: no provenance file (.prov) found\n"
    );
    // A tag that is not there.
    let out = other.rudder(&[
        "plugin",
        "install",
        &reference,
        "--version",
        "9.9.9",
        "--plain-http",
        "--verify=false",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).starts_with(&format!(
            "Error: failed to pull plugin from {reference}:9.9.9: "
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn oci_install_passes_registry_credentials() {
    let Some(auth) = common::env_or_skip("RUDDER_TEST_REGISTRY_AUTH", "scripts/registry") else {
        return;
    };
    let (credentials, registry) = auth.rsplit_once('@').expect("user:password@host:port");
    let (user, password) = credentials.split_once(':').expect("user:password");
    let repo = format!("{registry}/plugins-{}/locked", std::process::id());
    let data = plugin_tgz("locked", "locked");
    common::push_plugin(
        &format!("{repo}:0.1.0"),
        Some((user, password)),
        &[("locked-0.1.0.tgz", &data)],
    );
    let home = Home::new();
    let reference = format!("oci://{repo}:0.1.0");
    let install = |extra: &[&str]| {
        let mut args = vec![
            "plugin",
            "install",
            &reference,
            "--plain-http",
            "--verify=false",
        ];
        args.extend_from_slice(extra);
        home.rudder(&args)
    };
    // Without credentials the registry says no; nothing is installed.
    let out = install(&[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).starts_with(&format!("Error: failed to pull plugin from {reference}: ")),
        "{}",
        stderr(&out)
    );
    assert_nothing_installed(&home);
    // plugin_install.go: --username/--password go to the OCI getter (WithBasicAuth).
    let out = install(&["--username", user, "--password", password]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_runs(&home, "locked");
}
