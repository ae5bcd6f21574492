//! Signed plugins: `plugin package` (with and without `--sign`), `plugin verify`, and
//! `plugin install --verify` from a file, an HTTP URL and an OCI registry, against keys
//! GnuPG generates at test time; GnuPG's own verifier checks the signatures rudder writes.
//!
//! helm-python-sdk does not expose plugins, so the expectations follow Helm v4.2.3's
//! sources (pkg/cmd/plugin_package.go, plugin_verify.go, plugin_install.go,
//! internal/plugin/sign.go, verify.go, installer/installer.go), named at each test.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const SIGNER: &str = "Plugin Signer <signer@example.com>";
const OTHER: &str = "Someone Else <else@example.com>";

struct Keys {
    _dir: tempfile::TempDir,
    home: PathBuf,
    secring: PathBuf,
    pubring: PathBuf,
    other_pubring: PathBuf,
    fingerprint: String,
}

fn gpg(home: &Path, args: &[&str]) -> Output {
    let out = Command::new("gpg")
        .env("GNUPGHOME", home)
        .args(["--batch", "--yes", "--pinentry-mode", "loopback"])
        .args(args)
        .output()
        .expect("run gpg");
    assert!(
        out.status.success(),
        "gpg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn keys() -> Option<&'static Keys> {
    static KEYS: OnceLock<Option<Keys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        if Command::new("gpg").arg("--version").output().is_err() {
            eprintln!("SKIPPED: gpg is not installed (scripts/test installs gnupg)");
            assert!(std::env::var_os("CI").is_none(), "CI must run these tests");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("gnupg");
        std::fs::create_dir(&home).unwrap();
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        for id in [SIGNER, OTHER] {
            let (name, email) = id.trim_end_matches('>').split_once(" <").unwrap();
            let params = home.join("params");
            std::fs::write(
                &params,
                format!("Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\n%no-protection\nName-Real: {name}\nName-Email: {email}\nExpire-Date: 0\n%commit\n"),
            )
            .unwrap();
            gpg(&home, &["--gen-key", params.to_str().unwrap()]);
        }
        let export = |args: &[&str], file: &str| {
            let out = gpg(&home, args);
            let path = dir.path().join(file);
            std::fs::write(&path, out.stdout).unwrap();
            path
        };
        let secring = export(&["--export-secret-keys", SIGNER], "secring.gpg");
        let pubring = export(&["--export", SIGNER], "pubring.gpg");
        let other_pubring = export(&["--export", OTHER], "other.gpg");
        let listing = gpg(&home, &["--with-colons", "--fingerprint", SIGNER]);
        let fingerprint = String::from_utf8_lossy(&listing.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|l| l.trim_matches(':').to_string())
            .expect("fingerprint");
        Some(Keys {
            home,
            secring,
            pubring,
            other_pubring,
            fingerprint,
            _dir: dir,
        })
    })
    .as_ref()
}

use common::{stderr, stdout, HelmHome as Home};

/// A plugin source directory `src/hello` (legacy schema) with an executable script.
fn plugin_source(home: &Home) -> PathBuf {
    let dir = home.path("src/hello");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::write(
        dir.join("plugin.yaml"),
        "name: hello\nversion: 0.2.0\nusage: say hello\ncommand: $HELM_PLUGIN_DIR/bin/run.sh\n",
    )
    .unwrap();
    let script = dir.join("bin/run.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"hello from $HELM_PLUGIN_NAME: $*\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn package_signed(home: &Home, keys: &Keys) -> PathBuf {
    let src = plugin_source(home);
    let dest = home.path("dist");
    let out = home.rudder(&[
        "plugin",
        "package",
        src.to_str().unwrap(),
        "--key",
        SIGNER,
        "--keyring",
        keys.secring.to_str().unwrap(),
        "-d",
        dest.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let archive = dest.join("hello-0.2.0.tgz");
    // plugin_package.go: the signature line, then the package line.
    assert_eq!(
        stdout(&out),
        format!(
            "Successfully signed. Signature written to: {}.prov\nSuccessfully packaged plugin and saved it to: {}\n",
            archive.display(),
            archive.display()
        )
    );
    archive
}

fn sha256_hex(data: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(data)?;
            child.wait_with_output()
        })
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

fn report(keys: &Keys, archive: &[u8]) -> String {
    format!(
        "Signed by: {SIGNER}\nUsing Key With Fingerprint: {}\nPlugin Hash Verified: sha256:{}\n",
        keys.fingerprint,
        sha256_hex(archive)
    )
}

#[test]
fn package_writes_helms_archive_layout() {
    let home = Home::new();
    let src = plugin_source(&home);
    let dest = home.path("dist");
    let out = home.rudder(&[
        "plugin",
        "package",
        src.to_str().unwrap(),
        "--sign=false",
        "--destination",
        dest.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let archive = dest.join("hello-0.2.0.tgz");
    assert_eq!(
        stdout(&out),
        format!(
            "WARNING: Skipping plugin signing. This is not recommended for plugins intended for distribution.\nSuccessfully packaged plugin and saved it to: {}\n",
            archive.display()
        )
    );
    // sign.go CreatePluginTarball: filepath.Walk order (lexical, the directory first),
    // each entry named <plugin name>/<relative path>, modes kept.
    let data = std::fs::read(&archive).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&data[..]));
    let entries: Vec<(String, u32)> = tar
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.path().unwrap().display().to_string(),
                e.header().mode().unwrap() & 0o777,
            )
        })
        .collect();
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "hello",
            "hello/bin",
            "hello/bin/run.sh",
            "hello/plugin.yaml"
        ]
    );
    assert_eq!(entries[2].1, 0o755);
    assert!(!archive.with_extension("tgz.prov").exists());

    // The archive installs (as a local archive, plugin_install.go) and runs.
    let out = home.rudder(&[
        "plugin",
        "install",
        archive.to_str().unwrap(),
        "--verify=false",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = home.rudder(&["hello", "x"]);
    assert_eq!(stdout(&out), "hello from hello: x\n");

    // plugin_package.go: only directories, and they must hold a valid plugin.
    let out = home.rudder(&[
        "plugin",
        "package",
        archive.to_str().unwrap(),
        "--sign=false",
    ]);
    assert_eq!(
        stderr(&out),
        "Error: plugin package only supports directories, not tarballs\n"
    );
    let empty = home.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = home.rudder(&["plugin", "package", empty.to_str().unwrap(), "--sign=false"]);
    assert!(
        stderr(&out).starts_with("Error: invalid plugin directory: failed to read plugin at "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn signed_packages_verify_with_rudder_and_gnupg() {
    let Some(keys) = keys() else { return };
    let home = Home::new();
    let archive = package_signed(&home, keys);
    let prov = archive.with_extension("tgz.prov");
    let data = std::fs::read(&archive).unwrap();
    // sign.go SignPlugin: the message lists the archive's digest under its file name.
    let text = std::fs::read_to_string(&prov).unwrap();
    assert!(
        text.contains(&format!(
            "\n...\nfiles:\n  hello-0.2.0.tgz: sha256:{}\n",
            sha256_hex(&data)
        )),
        "{text}"
    );
    assert!(text.contains("Name: hello\n"), "{text}");
    // GnuPG accepts the clear signature.
    gpg(&keys.home, &["--verify", prov.to_str().unwrap()]);

    // plugin_verify.go: the signer, the key's fingerprint and the archive's hash.
    let out = home.rudder(&[
        "plugin",
        "verify",
        archive.to_str().unwrap(),
        "--keyring",
        keys.pubring.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), report(keys, &data));

    // An unknown signer, a changed archive.
    let out = home.rudder(&[
        "plugin",
        "verify",
        archive.to_str().unwrap(),
        "--keyring",
        keys.other_pubring.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: openpgp: signature made by unknown entity\n"
    );
    let tampered = home.path("tampered/hello-0.2.0.tgz");
    std::fs::create_dir_all(tampered.parent().unwrap()).unwrap();
    let mut changed = data.clone();
    changed.extend_from_slice(b"\0");
    std::fs::write(&tampered, &changed).unwrap();
    std::fs::copy(&prov, tampered.with_extension("tgz.prov")).unwrap();
    let out = home.rudder(&[
        "plugin",
        "verify",
        tampered.to_str().unwrap(),
        "--keyring",
        keys.pubring.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).starts_with("Error: sha256 sum does not match for hello-0.2.0.tgz"),
        "{}",
        stderr(&out)
    );

    // plugin_verify.go's checks before any signature.
    let keyring = keys.pubring.to_str().unwrap();
    let src = home.path("src/hello");
    let plain = home.path("src/hello/plugin.yaml");
    let unsigned = home.path("unsigned/hello-0.2.0.tgz");
    std::fs::create_dir_all(unsigned.parent().unwrap()).unwrap();
    std::fs::write(&unsigned, &data).unwrap();
    for (path, want) in [
        (
            src.clone(),
            "directory verification not supported - only plugin tarballs can be verified"
                .to_string(),
        ),
        (
            plain.clone(),
            "plugin file must be a gzipped tarball (.tar.gz or .tgz)".to_string(),
        ),
        (
            unsigned.clone(),
            format!(
                "could not find provenance file {p}.prov: stat {p}.prov: no such file or directory",
                p = unsigned.display()
            ),
        ),
    ] {
        let out = home.rudder(&[
            "plugin",
            "verify",
            path.to_str().unwrap(),
            "--keyring",
            keyring,
        ]);
        assert_eq!(stderr(&out), format!("Error: {want}\n"));
    }

    // plugin_package.go: without --key Helm's signatory has no key.
    let out = home.rudder(&[
        "plugin",
        "package",
        src.to_str().unwrap(),
        "--keyring",
        keys.secring.to_str().unwrap(),
        "-d",
        home.path("nokey").to_str().unwrap(),
    ]);
    assert_eq!(stderr(&out), "Error: private key not found\n");
    assert!(!home.path("nokey/hello-0.2.0.tgz").exists());
}

#[test]
fn install_verifies_signed_archives_from_files_urls_and_registries() {
    let Some(keys) = keys() else { return };
    let publisher = Home::new();
    let archive = package_signed(&publisher, keys);
    let data = std::fs::read(&archive).unwrap();
    let prov = std::fs::read(archive.with_extension("tgz.prov")).unwrap();
    let keyring = keys.pubring.to_str().unwrap();

    // A local archive with its .prov: plugin_install.go prints the check, then the
    // verification details after the install, then "Installed plugin".
    let home = Home::new();
    let expected = format!(
        "Verifying plugin signature...\n{}Installed plugin: hello\n",
        report(keys, &data)
    );
    let out = home.rudder(&[
        "plugin",
        "install",
        archive.to_str().unwrap(),
        "--keyring",
        keyring,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
    // local_installer.go keeps the provenance beside the kept archive.
    assert_eq!(
        std::fs::read(home.path("data/plugins/hello-0.2.0.tgz.prov")).unwrap(),
        prov
    );
    assert_eq!(
        stdout(&home.rudder(&["hello", "y"])),
        "hello from hello: y\n"
    );
    // signing_info.go GetPluginSigningInfo: the kept archive's digest is in the kept
    // provenance: "signed"; a provenance for other bytes: "mismatched provenance"; no
    // clear-signed message: "invalid provenance"; none: "unsigned".
    let provenance_column = |h: &Home| {
        let out = h.rudder(&["plugin", "list"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let row = stdout(&out).lines().nth(1).unwrap_or_default().to_string();
        row.split('\t')
            .nth(4)
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(provenance_column(&home), "signed");
    let kept = home.path("data/plugins/hello-0.2.0.tgz.prov");
    let other = String::from_utf8_lossy(&prov).replace(&sha256_hex(&data), &"0".repeat(64));
    std::fs::write(&kept, other).unwrap();
    assert_eq!(provenance_column(&home), "mismatched provenance");
    std::fs::write(&kept, "not signed").unwrap();
    assert_eq!(provenance_column(&home), "invalid provenance");
    std::fs::remove_file(&kept).unwrap();
    assert_eq!(provenance_column(&home), "unsigned");

    // A key the keyring does not hold: refused, nothing installed.
    let refused = Home::new();
    let out = refused.rudder(&[
        "plugin",
        "install",
        archive.to_str().unwrap(),
        "--keyring",
        keys.other_pubring.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: plugin verification failed: openpgp: signature made by unknown entity\n"
    );
    assert!(!refused.path("data/plugins/hello").exists());

    // Over HTTP, the .prov is fetched from URL.prov (http_installer.go).
    let base = common::serve_files(vec![
        ("/p/hello-0.2.0.tgz".into(), data.clone()),
        ("/p/hello-0.2.0.tgz.prov".into(), prov.clone()),
    ]);
    let web = Home::new();
    let out = web.rudder(&[
        "plugin",
        "install",
        &format!("{base}/p/hello-0.2.0.tgz"),
        "--keyring",
        keyring,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);

    // From a registry, the provenance is the layer titled NAME-VERSION.tgz.prov
    // (registry/plugin.go); the file name checked is NAME-VERSION.tgz of the metadata
    // (oci_installer.go GetVerificationData).
    let Some(registry) = common::env_or_skip("RUDDER_TEST_REGISTRY", "scripts/registry") else {
        return;
    };
    let repo = format!("{registry}/signed-{}/hello", std::process::id());
    common::push_plugin(
        &format!("{repo}:0.2.0"),
        None,
        &[("hello-0.2.0.tgz", &data), ("hello-0.2.0.tgz.prov", &prov)],
    );
    let oci = Home::new();
    let out = oci.rudder(&[
        "plugin",
        "install",
        &format!("oci://{repo}"),
        "--version",
        "0.2.0",
        "--plain-http",
        "--keyring",
        keyring,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
}
