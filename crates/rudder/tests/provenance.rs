//! Chart provenance: `rudder package --sign` and `rudder verify` against GnuPG-made keys,
//! GnuPG's own verifier, and real Helm (helm-python-sdk through RUDDER_HELM_PYTHON, set by
//! scripts/test).
//!
//! Keys are generated per test run with `gpg --batch` in a throwaway GNUPGHOME and exported
//! as binary keyrings, as `gpg --export-secret-keys` / `gpg --export` write them. Without
//! `gpg` the tests skip with a notice (scripts/test installs the `gnupg` package).

mod common;
use common::{helm_python_path, python_output, serve_files};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const RSA_ID: &str = "Rudder Test <rudder@example.com>";
const ED_ID: &str = "Ed Signer <ed@example.com>";
const LOCKED_ID: &str = "Locked Key <locked@example.com>";
const OTHER_ID: &str = "Someone Else <else@example.com>";
const PASSPHRASE: &str = "correct horse";

struct Keys {
    _dir: tempfile::TempDir,
    home: PathBuf,
    /// Secret keys of the signers (RSA, EdDSA, passphrase-protected RSA).
    secring: PathBuf,
    /// Their public keys.
    pubring: PathBuf,
    /// Only an unrelated key.
    other_pubring: PathBuf,
    passphrase_file: PathBuf,
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

fn gen_key(home: &Path, params: &str) {
    let file = home.join("params");
    std::fs::write(&file, params).unwrap();
    gpg(home, &["--gen-key", file.to_str().unwrap()]);
}

/// One set of keys for the whole test binary (key generation takes a moment).
fn keys() -> Option<&'static Keys> {
    static KEYS: OnceLock<Option<Keys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        if Command::new("gpg").arg("--version").output().is_err() {
            common::skip("gpg is not installed (scripts/test installs gnupg)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("gnupg");
        std::fs::create_dir(&home).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        for (kind, id, protect) in [
            ("Key-Type: RSA\nKey-Length: 2048", RSA_ID, false),
            ("Key-Type: EDDSA\nKey-Curve: ed25519", ED_ID, false),
            ("Key-Type: RSA\nKey-Length: 2048", LOCKED_ID, true),
            ("Key-Type: RSA\nKey-Length: 2048", OTHER_ID, false),
        ] {
            let (name, email) = id.trim_end_matches('>').split_once(" <").unwrap();
            let protection = if protect {
                format!("Passphrase: {PASSPHRASE}\n")
            } else {
                "%no-protection\n".to_string()
            };
            gen_key(
                &home,
                &format!(
                    "{kind}\nKey-Usage: sign\n{protection}Name-Real: {name}\nName-Email: {email}\nExpire-Date: 0\n%commit\n"
                ),
            );
        }
        let export = |args: &[&str], file: &str| {
            let out = gpg(&home, &[&["--passphrase", PASSPHRASE][..], args].concat());
            let path = dir.path().join(file);
            std::fs::write(&path, out.stdout).unwrap();
            path
        };
        let secring = export(&["--export-secret-keys", RSA_ID, ED_ID, LOCKED_ID], "secring.gpg");
        let pubring = export(&["--export", RSA_ID, ED_ID, LOCKED_ID], "pubring.gpg");
        let other_pubring = export(&["--export", OTHER_ID], "other.gpg");
        let passphrase_file = dir.path().join("passphrase");
        std::fs::write(&passphrase_file, format!("{PASSPHRASE}\n")).unwrap();
        Some(Keys {
            home,
            secring,
            pubring,
            other_pubring,
            passphrase_file,
            _dir: dir,
        })
    })
    .as_ref()
}

/// The primary key fingerprint gpg reports for a user ID.
fn fingerprint(keys: &Keys, id: &str) -> String {
    let out = gpg(&keys.home, &["--with-colons", "--fingerprint", id]);
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .expect("fingerprint")
        .to_string()
}

fn rudder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .output()
        .expect("run rudder")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "rudder failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: Output) -> String {
    assert!(
        !out.status.success(),
        "rudder should have failed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A chart folder with a varied Chart.yaml (keys in no particular order, quoting needed).
fn chart(dir: &Path) -> PathBuf {
    let c = dir.join("signed");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        "version: 0.3.1\nname: signed\napiVersion: v2\ndescription: \"A chart: signed - and sealed\"\n\
         appVersion: \"1.10\"\nkeywords: [alpha, \"yes\"]\nhome: https://example.com\n\
         maintainers:\n  - name: Jo\n    email: jo@example.com\nannotations:\n  example.com/x: \"true\"\n\
         kubeVersion: \">=1.20.0-0\"\ntype: application\n",
    )
    .unwrap();
    std::fs::write(c.join("values.yaml"), "replicas: 1\n").unwrap();
    std::fs::write(
        c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    )
    .unwrap();
    c
}

/// Packages the test chart into `dest`, signing with `sign` flags if given.
fn package(dir: &Path, dest: &Path, sign: &[&str]) -> PathBuf {
    let c = chart(dir);
    let mut args = vec!["package", c.to_str().unwrap(), "-d", dest.to_str().unwrap()];
    args.extend(sign);
    ok(rudder(&args));
    dest.join("signed-0.3.1.tgz")
}

fn sign_flags<'a>(keys: &'a Keys, id: &'a str) -> Vec<&'a str> {
    vec![
        "--sign",
        "--key",
        id,
        "--keyring",
        keys.secring.to_str().unwrap(),
        "--passphrase-file",
        keys.passphrase_file.to_str().unwrap(),
    ]
}

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn expected_report(keys: &Keys, id: &str, archive: &Path) -> String {
    format!(
        "Signed by: {id}\nUsing Key With Fingerprint: {}\nChart Hash Verified: sha256:{}\n",
        fingerprint(keys, id),
        sha256_of(archive)
    )
}

/// The text of a cleartext-signed message, before its signature.
fn body(prov: &str) -> &str {
    prov.split("-----BEGIN PGP SIGNATURE-----").next().unwrap()
}

#[test]
fn sign_and_verify_with_each_key_type() {
    let Some(keys) = keys() else { return };
    for id in [RSA_ID, ED_ID, LOCKED_ID] {
        let dir = tempfile::tempdir().unwrap();
        let archive = package(dir.path(), &dir.path().join("out"), &sign_flags(keys, id));
        let prov = dir.path().join("out/signed-0.3.1.tgz.prov");
        let text = std::fs::read_to_string(&prov).unwrap();
        assert!(text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"));
        assert!(body(&text).contains(&format!(
            "\n...\nfiles:\n  signed-0.3.1.tgz: sha256:{}\n",
            sha256_of(&archive)
        )));

        let report = ok(rudder(&[
            "verify",
            archive.to_str().unwrap(),
            "--keyring",
            keys.pubring.to_str().unwrap(),
        ]));
        assert_eq!(report, expected_report(keys, id, &archive));

        // GnuPG accepts the signature too.
        let out = Command::new("gpg")
            .env("GNUPGHOME", &keys.home)
            .args(["--batch", "--verify", prov.to_str().unwrap()])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "gpg --verify: {said}");
        assert!(said.contains("Good signature"), "{said}");
    }
}

#[test]
fn tampering_and_unknown_keys_are_refused() {
    let Some(keys) = keys() else { return };
    let dir = tempfile::tempdir().unwrap();
    let archive = package(
        dir.path(),
        &dir.path().join("out"),
        &sign_flags(keys, RSA_ID),
    );
    let verify = |keyring: &Path| {
        rudder(&[
            "verify",
            archive.to_str().unwrap(),
            "--keyring",
            keyring.to_str().unwrap(),
        ])
    };

    let err = failed(verify(&keys.other_pubring));
    assert!(err.contains("signature made by unknown entity"), "{err}");

    // A changed archive: the signature holds, the digest does not.
    let original = std::fs::read(&archive).unwrap();
    let mut changed = original.clone();
    changed.extend_from_slice(b"\0");
    std::fs::write(&archive, &changed).unwrap();
    let err = failed(verify(&keys.pubring));
    assert!(
        err.contains("sha256 sum does not match for signed-0.3.1.tgz"),
        "{err}"
    );
    std::fs::write(&archive, &original).unwrap();
    ok(verify(&keys.pubring));

    // A changed message: the signature no longer matches.
    let prov = dir.path().join("out/signed-0.3.1.tgz.prov");
    let text = std::fs::read_to_string(&prov).unwrap();
    std::fs::write(&prov, text.replace("version: 0.3.1", "version: 0.3.2")).unwrap();
    let err = failed(verify(&keys.pubring));
    assert!(err.contains("invalid signature"), "{err}");

    std::fs::remove_file(&prov).unwrap();
    let err = failed(verify(&keys.pubring));
    assert!(err.contains("could not load provenance file"), "{err}");

    let err = failed(rudder(&[
        "verify",
        dir.path().join("signed").to_str().unwrap(),
        "--keyring",
        keys.pubring.to_str().unwrap(),
    ]));
    assert!(err.contains("unpacked charts cannot be verified"), "{err}");
}

#[test]
fn signing_errors() {
    let Some(keys) = keys() else { return };
    let dir = tempfile::tempdir().unwrap();
    let c = chart(dir.path());
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        let mut args = vec!["package", c.to_str().unwrap(), "-d", out.to_str().unwrap()];
        args.extend(extra);
        rudder(&args)
    };
    let err = failed(run(&[
        "--sign",
        "--keyring",
        keys.secring.to_str().unwrap(),
    ]));
    assert!(
        err.contains("--key is required for signing a package"),
        "{err}"
    );
    let err = failed(run(&[
        "--sign",
        "--key",
        "nobody",
        "--keyring",
        keys.secring.to_str().unwrap(),
    ]));
    assert!(err.contains("private key not found"), "{err}");
    let err = failed(run(&[
        "--sign",
        "--key",
        RSA_ID,
        "--keyring",
        keys.pubring.to_str().unwrap(),
    ]));
    assert!(err.contains("not a private key"), "{err}");
    // "example.com" is in every user ID.
    let err = failed(run(&[
        "--sign",
        "--key",
        "example.com",
        "--keyring",
        keys.secring.to_str().unwrap(),
    ]));
    assert!(err.contains("more than one key contain the id"), "{err}");
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    let err = failed(run(&[
        "--sign",
        "--key",
        "Locked",
        "--keyring",
        keys.secring.to_str().unwrap(),
        "--passphrase-file",
        wrong.to_str().unwrap(),
    ]));
    assert!(err.contains("private key checksum failure"), "{err}");
}

/// Runs a Python snippet with real Helm (helm-python-sdk); `None` when it is not available.
fn helm_python(script: &str, args: &[&Path]) -> Option<String> {
    let mut cmd = Command::new(helm_python_path()?);
    cmd.args(["-c", script]).args(args);
    Some(python_output(cmd))
}

const HELM_VERIFY: &str = r#"
import sys, json, helm_python
try:
    r = helm_python.verify(sys.argv[1], sys.argv[2])
    print(json.dumps({"ok": r}))
except Exception as e:
    print(json.dumps({"error": str(e)}))
"#;

const HELM_SIGN: &str = r#"
import sys, helm_python
print(helm_python.sign(sys.argv[1], key=sys.argv[2], keyring=sys.argv[3], passphrase_file=sys.argv[4]))
"#;

fn helm_verify(archive: &Path, keyring: &Path) -> Option<serde_json::Value> {
    let out = helm_python(HELM_VERIFY, &[archive, keyring])?;
    Some(serde_json::from_str(out.trim()).unwrap())
}

#[test]
fn helm_verifies_what_rudder_signs() {
    let Some(keys) = keys() else { return };
    for id in [RSA_ID, ED_ID, LOCKED_ID] {
        let dir = tempfile::tempdir().unwrap();
        let archive = package(dir.path(), &dir.path().join("out"), &sign_flags(keys, id));
        let Some(result) = helm_verify(&archive, &keys.pubring) else {
            return;
        };
        let ok = &result["ok"];
        assert_eq!(ok["signed_by"], serde_json::json!([id]), "{result}");
        assert_eq!(
            ok["file_hash"],
            format!("sha256:{}", sha256_of(&archive)),
            "{result}"
        );
        assert_eq!(ok["file_name"], "signed-0.3.1.tgz", "{result}");

        // Helm refuses the same tampering rudder refuses.
        let result = helm_verify(&archive, &keys.other_pubring).unwrap();
        let err = result["error"].as_str().unwrap_or_default();
        assert!(err.contains("signature made by unknown entity"), "{result}");
        let mut changed = std::fs::read(&archive).unwrap();
        changed.push(0);
        std::fs::write(&archive, changed).unwrap();
        let result = helm_verify(&archive, &keys.pubring).unwrap();
        let err = result["error"].as_str().unwrap_or_default();
        assert!(err.contains("sha256 sum does not match"), "{result}");
    }
}

#[test]
fn rudder_verifies_what_helm_signs_and_builds_the_same_message() {
    let Some(keys) = keys() else { return };
    for id in [RSA_ID, ED_ID, LOCKED_ID] {
        let dir = tempfile::tempdir().unwrap();
        // rudder signs; then Helm signs the very same archive (replacing the .prov).
        let archive = package(dir.path(), &dir.path().join("out"), &sign_flags(keys, id));
        let prov = dir.path().join("out/signed-0.3.1.tgz.prov");
        let rudder_prov = std::fs::read_to_string(&prov).unwrap();
        let Some(written) = helm_python(
            HELM_SIGN,
            &[
                &archive,
                Path::new(id),
                &keys.secring,
                &keys.passphrase_file,
            ],
        ) else {
            return;
        };
        assert_eq!(Path::new(written.trim()), prov);
        let helm_prov = std::fs::read_to_string(&prov).unwrap();
        assert_ne!(helm_prov, rudder_prov, "Helm should have re-signed");
        assert_eq!(body(&rudder_prov), body(&helm_prov));

        let report = ok(rudder(&[
            "verify",
            archive.to_str().unwrap(),
            "--keyring",
            keys.pubring.to_str().unwrap(),
        ]));
        assert_eq!(report, expected_report(keys, id, &archive));
        let err = failed(rudder(&[
            "verify",
            archive.to_str().unwrap(),
            "--keyring",
            keys.other_pubring.to_str().unwrap(),
        ]));
        assert!(err.contains("signature made by unknown entity"), "{err}");
    }
}

#[test]
fn pull_verify_checks_the_provenance_before_saving() {
    let Some(keys) = keys() else { return };
    let dir = tempfile::tempdir().unwrap();
    let archive = package(
        dir.path(),
        &dir.path().join("out"),
        &sign_flags(keys, RSA_ID),
    );
    let data = std::fs::read(&archive).unwrap();
    let prov = std::fs::read(dir.path().join("out/signed-0.3.1.tgz.prov")).unwrap();
    let mut tampered = data.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let url = serve_files(vec![
        ("/signed-0.3.1.tgz".into(), data),
        ("/signed-0.3.1.tgz.prov".into(), prov.clone()),
        ("/bad/signed-0.3.1.tgz".into(), tampered),
        ("/bad/signed-0.3.1.tgz.prov".into(), prov),
    ]);
    let dest = dir.path().join("pulled");
    let d = dest.to_str().unwrap();
    let keyring = keys.pubring.to_str().unwrap();
    let report = ok(rudder(&[
        "pull",
        &format!("{url}/signed-0.3.1.tgz"),
        "--verify",
        "--keyring",
        keyring,
        "-d",
        d,
    ]));
    assert_eq!(report, expected_report(keys, RSA_ID, &archive));
    assert!(dest.join("signed-0.3.1.tgz").exists());
    assert!(dest.join("signed-0.3.1.tgz.prov").exists());

    let bad_dest = dir.path().join("bad");
    let err = failed(rudder(&[
        "pull",
        &format!("{url}/bad/signed-0.3.1.tgz"),
        "--verify",
        "--keyring",
        keyring,
        "-d",
        bad_dest.to_str().unwrap(),
    ]));
    assert!(err.contains("sha256 sum does not match"), "{err}");
    assert!(
        !bad_dest.join("signed-0.3.1.tgz").exists(),
        "a chart that fails is not saved"
    );
}

/// A rudder run with a Helm home of its own under `home` (registry credentials included).
fn rudder_in(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rudder"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("HELM_REGISTRY_CONFIG")
        .env("DOCKER_CONFIG", home.join("docker"))
        .args(args)
        .output()
        .expect("run rudder")
}

/// `template`/`install`/`upgrade --verify` (they share Helm's `ChartPathOptions.LocateChart`,
/// pkg/action/install.go): a local archive is checked against PATH.prov with
/// `downloader.VerifyChart`, a folder cannot be verified, and a downloaded archive is checked
/// against URL.prov (pkg/downloader/chart_downloader.go `DownloadToCache` with
/// `VerifyAlways`: `failed to fetch provenance %q` when it is missing). helm-python-sdk's
/// template takes no --verify, so the expectations follow those lines.
#[test]
fn template_verify_checks_local_and_downloaded_charts() {
    let Some(keys) = keys() else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let archive = package(
        dir.path(),
        &dir.path().join("out"),
        &sign_flags(keys, RSA_ID),
    );
    let keyring = keys.pubring.to_str().unwrap();
    let template = |chart: &str, keyring: &str| {
        rudder_in(
            &home,
            &["template", "r", chart, "--verify", "--keyring", keyring],
        )
    };
    // A signed local archive renders; the same with a key it was not signed with does not.
    let rendered = ok(template(archive.to_str().unwrap(), keyring));
    assert!(rendered.contains("kind: ConfigMap"), "{rendered}");
    let err = failed(template(
        archive.to_str().unwrap(),
        keys.other_pubring.to_str().unwrap(),
    ));
    assert!(
        err.contains("openpgp: signature made by unknown entity"),
        "{err}"
    );
    // A folder cannot be verified (VerifyChart: "unpacked charts cannot be verified").
    let folder = dir.path().join("signed");
    let err = failed(template(folder.to_str().unwrap(), keyring));
    assert!(err.contains("unpacked charts cannot be verified"), "{err}");
    // An archive without its .prov: VerifyChart's "could not load provenance file".
    let unsigned_dir = dir.path().join("unsigned");
    let unsigned = package(dir.path(), &unsigned_dir, &[]);
    let err = failed(template(unsigned.to_str().unwrap(), keyring));
    assert!(err.contains("could not load provenance file"), "{err}");
    // Without --verify the same archive renders.
    ok(rudder_in(
        &home,
        &["template", "r", unsigned.to_str().unwrap()],
    ));

    // Downloaded: URL.prov next to the archive.
    let data = std::fs::read(&archive).unwrap();
    let prov = std::fs::read(dir.path().join("out/signed-0.3.1.tgz.prov")).unwrap();
    let mut tampered = data.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let url = serve_files(vec![
        ("/signed-0.3.1.tgz".into(), data.clone()),
        ("/signed-0.3.1.tgz.prov".into(), prov.clone()),
        ("/bad/signed-0.3.1.tgz".into(), tampered),
        ("/bad/signed-0.3.1.tgz.prov".into(), prov),
        ("/noprov/signed-0.3.1.tgz".into(), data),
    ]);
    let rendered = ok(template(&format!("{url}/signed-0.3.1.tgz"), keyring));
    assert!(rendered.contains("kind: ConfigMap"), "{rendered}");
    let err = failed(template(&format!("{url}/bad/signed-0.3.1.tgz"), keyring));
    assert!(err.contains("sha256 sum does not match"), "{err}");
    let err = failed(template(&format!("{url}/noprov/signed-0.3.1.tgz"), keyring));
    assert!(
        err.contains(&format!(
            "failed to fetch provenance \"{url}/noprov/signed-0.3.1.tgz.prov\""
        )),
        "{err}"
    );
}

/// `pull --verify`, `pull --prov` and `template --verify` of charts in an OCI registry
/// (Debian's docker-registry from scripts/registry). Helm's `DownloadTo` asks the OCI getter
/// for `REF.prov`, which pulls the manifest a second time for its provenance layer only
/// (pkg/getter/ocigetter.go `get`: PullOptWithChart(false), PullOptWithProv(true)), so the
/// registry client prints `Pulled:`/`Digest:` twice (pkg/registry/client.go
/// processChartPull); then pkg/action/pull.go prints `Signed by`, `Using Key With
/// Fingerprint` and `Chart Hash Verified`. Without a provenance layer `--verify` fails with
/// `failed to fetch provenance %q` and `--prov` (VerifyLater) prints
/// `WARNING: Verification not found for REF: ERR`.
#[test]
fn oci_pull_and_template_verify() {
    let Some(reg) = common::env_or_skip(
        "RUDDER_TEST_REGISTRY",
        "scripts/test starts the registries with scripts/registry",
    ) else {
        return;
    };
    let Some(keys) = keys() else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let archive = package(
        dir.path(),
        &dir.path().join("out"),
        &sign_flags(keys, RSA_ID),
    );
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let repo = format!("rudder-tests/verify-{}-{nanos}", std::process::id());
    // The .prov beside the archive is pushed as the provenance layer.
    let pushed = ok(rudder_in(
        &home,
        &[
            "push",
            archive.to_str().unwrap(),
            &format!("oci://{reg}/{repo}"),
            "--plain-http",
        ],
    ));
    let digest = pushed
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap()
        .to_string();
    let keyring = keys.pubring.to_str().unwrap();
    let reference = format!("oci://{reg}/{repo}/signed");
    let dest = dir.path().join("pulled");
    let out = ok(rudder_in(
        &home,
        &[
            "pull",
            &reference,
            "--version",
            "0.3.1",
            "--verify",
            "--keyring",
            keyring,
            "--plain-http",
            "-d",
            dest.to_str().unwrap(),
        ],
    ));
    let pulled = format!("Pulled: {reg}/{repo}/signed:0.3.1\nDigest: {digest}\n");
    assert_eq!(
        out,
        format!(
            "{pulled}{pulled}{}",
            expected_report(keys, RSA_ID, &archive)
        )
    );
    assert_eq!(
        std::fs::read(dest.join("signed-0.3.1.tgz")).unwrap(),
        std::fs::read(&archive).unwrap()
    );
    assert_eq!(
        std::fs::read(dest.join("signed-0.3.1.tgz.prov")).unwrap(),
        std::fs::read(dir.path().join("out/signed-0.3.1.tgz.prov")).unwrap()
    );
    // The wrong keyring: refused, and the chart is not saved.
    let other_dest = dir.path().join("other");
    let err = failed(rudder_in(
        &home,
        &[
            "pull",
            &format!("{reference}:0.3.1"),
            "--verify",
            "--keyring",
            keys.other_pubring.to_str().unwrap(),
            "--plain-http",
            "-d",
            other_dest.to_str().unwrap(),
        ],
    ));
    assert!(
        err.contains("openpgp: signature made by unknown entity"),
        "{err}"
    );
    assert!(!other_dest.join("signed-0.3.1.tgz").exists());
    // template of the OCI reference with --verify renders it.
    let rendered = ok(rudder_in(
        &home,
        &[
            "template",
            "r",
            &format!("{reference}:0.3.1"),
            "--verify",
            "--keyring",
            keyring,
            "--plain-http",
        ],
    ));
    assert!(rendered.contains("kind: ConfigMap"), "{rendered}");

    // An unsigned chart (no provenance layer).
    let unsigned = package(dir.path(), &dir.path().join("unsigned"), &[]);
    let unsigned_repo = format!("{repo}-unsigned");
    ok(rudder_in(
        &home,
        &[
            "push",
            unsigned.to_str().unwrap(),
            &format!("oci://{reg}/{unsigned_repo}"),
            "--plain-http",
        ],
    ));
    let unsigned_ref = format!("oci://{reg}/{unsigned_repo}/signed:0.3.1");
    let err = failed(rudder_in(
        &home,
        &[
            "pull",
            &unsigned_ref,
            "--verify",
            "--keyring",
            keyring,
            "--plain-http",
            "-d",
            dir.path().join("u1").to_str().unwrap(),
        ],
    ));
    assert!(
        err.contains(&format!(
            "failed to fetch provenance \"oci://{reg}/{unsigned_repo}/signed:0.3.1.prov\""
        )),
        "{err}"
    );
    let err = failed(rudder_in(
        &home,
        &[
            "template",
            "r",
            &unsigned_ref,
            "--verify",
            "--keyring",
            keyring,
            "--plain-http",
        ],
    ));
    assert!(err.contains("failed to fetch provenance"), "{err}");
    let out = ok(rudder_in(
        &home,
        &[
            "pull",
            &unsigned_ref,
            "--prov",
            "--plain-http",
            "-d",
            dir.path().join("u2").to_str().unwrap(),
        ],
    ));
    assert!(
        out.contains(&format!(
            "WARNING: Verification not found for {unsigned_ref}: manifest does not contain a layer with mediatype application/vnd.cncf.helm.chart.provenance.v1.prov"
        )),
        "{out}"
    );
    assert!(dir.path().join("u2/signed-0.3.1.tgz").exists());
}
