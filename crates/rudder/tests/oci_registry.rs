//! Charts in OCI registries against real registries (Debian's docker-registry, started by
//! scripts/registry from scripts/test): `registry login/logout`, `push`, `pull` by version,
//! constraint and digest, basic authentication, and interoperability with real Helm v4.2.3
//! (helm-python-sdk through RUDDER_HELM_PYTHON): each pulls what the other pushed, and the
//! same archive pushed by both gets the same manifest digest (so the same config, layers and
//! annotations, byte for byte).
//!
//! RUDDER_TEST_REGISTRY is `host:port` of an open registry; RUDDER_TEST_REGISTRY_AUTH is
//! `user:password@host:port` of one that asks for HTTP basic credentials. Every test works in
//! a repository path of its own and in its own Helm home, so they run in parallel and rerun.

mod common;
use common::{env_or_skip, helm_python_path, python_output};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What starts the registries the tests need.
const REGISTRIES: &str = "scripts/test starts the registries with scripts/registry";

/// The open registry's `host:port`.
fn open_registry() -> Option<String> {
    env_or_skip("RUDDER_TEST_REGISTRY", REGISTRIES)
}

/// The authenticated registry: (user, password, `host:port`).
fn auth_registry() -> Option<(String, String, String)> {
    let r = env_or_skip("RUDDER_TEST_REGISTRY_AUTH", REGISTRIES)?;
    let (creds, host) = r.rsplit_once('@').expect("user:password@host:port");
    let (user, password) = creds.split_once(':').expect("user:password");
    Some((user.into(), password.into(), host.into()))
}

/// A Helm home of its own (config, cache, data, registry config; Docker's config pointed
/// at an empty folder so no credentials leak in).
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn registry_config(&self) -> PathBuf {
        self.path().join("config/registry/config.json")
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
        let p = self.path();
        cmd.env("HELM_CONFIG_HOME", p.join("config"))
            .env("HELM_CACHE_HOME", p.join("cache"))
            .env("HELM_DATA_HOME", p.join("data"))
            .env_remove("HELM_REGISTRY_CONFIG")
            .env("DOCKER_CONFIG", p.join("docker"))
            .current_dir(p)
            .args(args);
        cmd
    }
    fn rudder(&self, args: &[&str]) -> Run {
        self.rudder_stdin(args, "")
    }
    fn rudder_stdin(&self, args: &[&str], stdin: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run rudder");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    fn must(&self, args: &[&str]) -> String {
        let run = self.rudder(args);
        assert!(
            run.ok,
            "rudder {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// Writes a chart folder and packages it with rudder; returns the archive's path.
    fn chart(&self, name: &str, version: &str) -> PathBuf {
        let src = self.path().join("src").join(name);
        std::fs::create_dir_all(src.join("templates")).unwrap();
        std::fs::write(
            src.join("Chart.yaml"),
            format!(
                "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"2.0\"\n\
                 description: A chart <for> OCI & tests\nhome: https://example.com/{name}\n\
                 sources:\n  - https://example.com/src/a\n  - https://example.com/src/b\n\
                 keywords: [oci, test]\nmaintainers:\n  - name: Ann\n    email: ann@example.com\n  - name: Bob\n\
                 annotations:\n  category: testing\n  org.opencontainers.image.title: not-the-title\n"
            ),
        )
        .unwrap();
        std::fs::write(src.join("values.yaml"), "message: hello\n").unwrap();
        std::fs::write(
            src.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  m: {{ .Values.message }}\n",
        )
        .unwrap();
        let dest = self.path().join("dist");
        self.must(&[
            "package",
            src.to_str().unwrap(),
            "-d",
            dest.to_str().unwrap(),
        ]);
        dest.join(format!("{name}-{version}.tgz"))
    }
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// A repository path no other test or earlier run uses.
fn unique(base: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rudder-tests/{base}-{}-{nanos}", std::process::id())
}

fn digest_line(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("no Digest line in {output:?}"))
        .to_string()
}

const UNDERSCORE_NOTE: &str = "
OCI artifact references (e.g. tags) do not support the plus sign (+). To support
storing semantic versions, Helm adopts the convention of changing plus (+) to
an underscore (_) in chart version tags when pushing to a registry and back to
a plus (+) when pulling from a registry.
";

#[test]
fn push_then_pull_round_trip() {
    let Some(reg) = open_registry() else { return };
    let home = Home::new();
    let repo = unique("roundtrip");
    let v1 = home.chart("demo", "1.0.0");
    let v2 = home.chart("demo", "1.2.3+build.7");
    let remote = format!("oci://{reg}/{repo}");

    let out = home.must(&["push", v1.to_str().unwrap(), &remote, "--plain-http"]);
    let d1 = digest_line(&out);
    assert_eq!(
        out,
        format!("Pushed: {reg}/{repo}/demo:1.0.0\nDigest: {d1}\n")
    );
    assert!(d1.starts_with("sha256:") && d1.len() == 71, "{d1}");

    // `+` is stored as `_`, with Helm's note.
    let out = home.must(&["push", v2.to_str().unwrap(), &remote, "--plain-http"]);
    let d2 = digest_line(&out);
    let tagged = format!("{reg}/{repo}/demo:1.2.3_build.7");
    assert_eq!(
        out,
        format!(
            "Pushed: {tagged}\nDigest: {d2}\n{tagged} contains an underscore.\n{UNDERSCORE_NOTE}"
        )
    );

    // Pull by exact version: the archive comes back byte for byte, named as Helm names it.
    let chart_ref = format!("{remote}/demo");
    let dest = home.path().join("pulled");
    let d = dest.to_str().unwrap();
    let out = home.must(&[
        "pull",
        &chart_ref,
        "--version",
        "1.0.0",
        "--plain-http",
        "-d",
        d,
    ]);
    assert_eq!(
        out,
        format!("Pulled: {reg}/{repo}/demo:1.0.0\nDigest: {d1}\n")
    );
    assert_eq!(
        std::fs::read(dest.join("demo-1.0.0.tgz")).unwrap(),
        std::fs::read(&v1).unwrap()
    );

    // No version: the newest tag (read back with `+`); a constraint picks within it.
    let out = home.must(&["pull", &chart_ref, "--plain-http", "-d", d]);
    assert!(
        out.starts_with(&format!("Pulled: {tagged}\nDigest: {d2}\n")),
        "{out}"
    );
    assert_eq!(
        std::fs::read(dest.join("demo-1.2.3+build.7.tgz")).unwrap(),
        std::fs::read(&v2).unwrap()
    );
    let out = home.must(&[
        "pull",
        &chart_ref,
        "--version",
        "~1.0",
        "--plain-http",
        "-d",
        d,
    ]);
    assert!(out.contains(&format!("Digest: {d1}\n")), "{out}");

    // The tag in the reference, and --untar.
    let untar = home.path().join("untarred");
    home.must(&[
        "pull",
        &format!("{chart_ref}:1.0.0"),
        "--plain-http",
        "--untar",
        "-d",
        untar.to_str().unwrap(),
    ]);
    let chart_yaml = std::fs::read_to_string(untar.join("demo/Chart.yaml")).unwrap();
    assert!(chart_yaml.contains("version: 1.0.0"), "{chart_yaml}");

    // Errors worded as Helm's.
    let run = home.rudder(&[
        "pull",
        &format!("{chart_ref}:1.0.0"),
        "--version",
        "1.2.0",
        "--plain-http",
    ]);
    assert!(!run.ok);
    assert_eq!(
        run.stderr,
        "Error: chart reference and version mismatch: 1.2.0 is not 1.0.0\n"
    );
    let run = home.rudder(&["pull", &chart_ref, "--version", "^3", "--plain-http"]);
    assert!(!run.ok);
    assert_eq!(
        run.stderr,
        "Error: could not locate a version matching provided version string ^3\n"
    );
    let run = home.rudder(&[
        "push",
        home.path().join("src/demo").to_str().unwrap(),
        &remote,
    ]);
    assert_eq!(
        run.stderr,
        "Error: cannot push directory, must provide chart archive (.tgz)\n"
    );
    let run = home.rudder(&["push", v1.to_str().unwrap(), &format!("{reg}/{repo}")]);
    assert_eq!(
        run.stderr,
        "Error: scheme prefix missing from remote (e.g. \"oci://\")\n"
    );

    // Every command that takes a chart takes an oci:// reference: `template` of the pushed
    // chart equals `template` of the archive it came from.
    let local = home.must(&["template", "r", v1.to_str().unwrap()]);
    let remote_render = home.must(&[
        "template",
        "r",
        &chart_ref,
        "--version",
        "1.0.0",
        "--plain-http",
    ]);
    assert_eq!(remote_render, local);
    let shown = home.must(&[
        "show",
        "chart",
        &chart_ref,
        "--version",
        "1.0.0",
        "--plain-http",
    ]);
    assert!(
        shown.contains("name: demo\n") && shown.contains("version: 1.0.0\n"),
        "{shown}"
    );
}

#[test]
fn pull_by_digest() {
    let Some(reg) = open_registry() else { return };
    let home = Home::new();
    let repo = unique("digest");
    let v1 = home.chart("pinned", "0.1.0");
    let v2 = home.chart("pinned", "0.2.0");
    let remote = format!("oci://{reg}/{repo}");
    let d1 = digest_line(&home.must(&["push", v1.to_str().unwrap(), &remote, "--plain-http"]));
    let d2 = digest_line(&home.must(&["push", v2.to_str().unwrap(), &remote, "--plain-http"]));

    let dest = home.path().join("by-digest");
    let d = dest.to_str().unwrap();
    let pinned = format!("{remote}/pinned@{d1}");
    let out = home.must(&["pull", &pinned, "--plain-http", "-d", d]);
    assert_eq!(
        out,
        format!("Pulled: {reg}/{repo}/pinned@{d1}\nDigest: {d1}\n")
    );
    // Helm names the file after the reference's last segment, its last `:` made `-`.
    let saved = dest.join(format!("pinned@{}.tgz", d1.replace(':', "-")));
    assert_eq!(std::fs::read(&saved).unwrap(), std::fs::read(&v1).unwrap());

    // A version and a digest must agree.
    home.must(&[
        "pull",
        &pinned,
        "--version",
        "0.1.0",
        "--plain-http",
        "-d",
        d,
    ]);
    let run = home.rudder(&[
        "pull",
        &pinned,
        "--version",
        "0.2.0",
        "--plain-http",
        "-d",
        d,
    ]);
    assert!(!run.ok);
    assert_eq!(
        run.stderr,
        format!("Error: chart reference digest mismatch: {d2} is not {d1}\n")
    );
    // An unknown digest is a clear failure.
    let unknown = format!("sha256:{}", "0".repeat(64));
    let run = home.rudder(&[
        "pull",
        &format!("{remote}/pinned@{unknown}"),
        "--plain-http",
        "-d",
        d,
    ]);
    assert!(!run.ok);
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
}

#[test]
fn login_logout_and_basic_auth() {
    let Some((user, password, reg)) = auth_registry() else {
        return;
    };
    let home = Home::new();
    let repo = unique("auth");
    let chart = home.chart("secured", "1.0.0");
    let remote = format!("oci://{reg}/{repo}");

    // Without credentials the registry refuses, in Helm's words (checked against Helm
    // v4.2.3: ORAS's error for a basic challenge with no credential).
    let run = home.rudder(&["push", chart.to_str().unwrap(), &remote, "--plain-http"]);
    assert!(!run.ok);
    assert!(
        run.stderr
            .starts_with("Error: failed to perform \"Exists\" on destination: HEAD \"http://")
            && run.stderr.ends_with("\": basic credential not found\n"),
        "{}",
        run.stderr
    );
    // A wrong password is refused at login, and nothing is stored.
    let run = home.rudder_stdin(
        &[
            "registry",
            "login",
            &reg,
            "-u",
            &user,
            "--password-stdin",
            "--plain-http",
        ],
        "wrong\n",
    );
    assert!(!run.ok);
    assert_eq!(
        run.stderr,
        format!("Error: authenticating to \"{reg}\": GET \"http://{reg}/v2/\": response status code 401: unauthorized: authentication required\n")
    );
    assert!(!home.registry_config().exists());

    // Login checks and stores the credentials as Helm does (docker config.json, 0600).
    let run = home.rudder_stdin(
        &[
            "registry",
            "login",
            &reg,
            "-u",
            &user,
            "--password-stdin",
            "--plain-http",
        ],
        &format!("{password}\n"),
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout, "Login Succeeded\n");
    let config = std::fs::read_to_string(home.registry_config()).unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    assert_eq!(
        config,
        format!(
            "{{\n\t\"auths\": {{\n\t\t\"{reg}\": {{\n\t\t\t\"auth\": \"{auth}\"\n\t\t}}\n\t}}\n}}"
        )
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(home.registry_config())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The stored credentials serve push and pull.
    let out = home.must(&["push", chart.to_str().unwrap(), &remote, "--plain-http"]);
    let digest = digest_line(&out);
    let dest = home.path().join("pulled");
    let out = home.must(&[
        "pull",
        &format!("{remote}/secured"),
        "--version",
        "1.0.0",
        "--plain-http",
        "-d",
        dest.to_str().unwrap(),
    ]);
    assert!(out.contains(&digest), "{out}");

    // Logout forgets them; then the registry refuses again.
    let out = home.must(&["registry", "logout", &reg]);
    assert_eq!(out, format!("Removing login credentials for {reg}\n"));
    assert_eq!(
        std::fs::read_to_string(home.registry_config()).unwrap(),
        "{\n\t\"auths\": {}\n}"
    );
    let pull = [
        "pull",
        &format!("{remote}/secured"),
        "--version",
        "1.0.0",
        "--plain-http",
        "-d",
        dest.to_str().unwrap(),
    ];
    let run = home.rudder(&pull);
    assert!(!run.ok);
    assert!(
        run.stderr
            .starts_with("Error: failed to perform \"FetchReference\" on source: GET ")
            && run.stderr.ends_with("\": basic credential not found\n"),
        "{}",
        run.stderr
    );

    // --username/--password on the command line work without a login.
    let mut with_flags: Vec<&str> = pull.to_vec();
    with_flags.extend(["--username", &user, "--password", &password]);
    home.must(&with_flags);
    // So does push (pkg/cmd/push.go passes them to its registry client), and a wrong password
    // is refused without a login to fall back on.
    let v2 = home.chart("secured", "1.0.1");
    let push = ["push", v2.to_str().unwrap(), &remote, "--plain-http"];
    let mut wrong: Vec<&str> = push.to_vec();
    wrong.extend(["--username", &user, "--password", "not-the-password"]);
    assert!(!home.rudder(&wrong).ok);
    let mut right: Vec<&str> = push.to_vec();
    right.extend(["--username", &user, "--password", &password]);
    let out = home.must(&right);
    assert!(
        out.starts_with(&format!(
            "Pushed: {reg}/{repo}/secured:1.0.1\nDigest: sha256:"
        )),
        "{out}"
    );
}

/// Runs a Python snippet with real Helm (helm-python-sdk); prints go to stdout.
fn helm_python(python: &str, script: &str) -> String {
    let mut cmd = Command::new(python);
    cmd.args(["-c", script]);
    python_output(cmd)
}

#[test]
fn helm_and_rudder_share_registries() {
    let Some(reg) = open_registry() else { return };
    let Some(python) = helm_python_path() else {
        return;
    };
    let home = Home::new();
    let chart = home.chart("shared", "3.1.4+meta.2");
    // A provenance file beside the archive is pushed as its own layer (its content is not
    // checked on push).
    std::fs::write(
        home.path().join("dist/shared-3.1.4+meta.2.tgz.prov"),
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nnot really signed\n",
    )
    .unwrap();
    let by_rudder = unique("by-rudder");
    let by_helm = unique("by-helm");
    let chart_s = chart.to_str().unwrap();

    let rudder_out = home.must(&[
        "push",
        chart_s,
        &format!("oci://{reg}/{by_rudder}"),
        "--plain-http",
    ]);
    let rudder_digest = digest_line(&rudder_out);
    let helm_dest = home.path().join("helm-pulled");
    std::fs::create_dir_all(&helm_dest).unwrap();
    let script = format!(
        r#"
import json, helm_python as h
push = h.push({chart_s:?}, "oci://{reg}/{by_helm}", plain_http=True)
tags = h.RegistryClient(plain_http=True).tags("oci://{reg}/{by_rudder}/shared")
resolved = h.RegistryClient(plain_http=True).resolve("oci://{reg}/{by_helm}/shared:3.1.4_meta.2")
pull = h.pull("oci://{reg}/{by_rudder}/shared", version="3.1.4+meta.2", destination={dest:?}, plain_http=True)
print(json.dumps({{"push": push, "tags": tags, "resolved": resolved, "pull": pull}}))
"#,
        dest = helm_dest.to_str().unwrap()
    );
    let helm: serde_json::Value =
        serde_json::from_str(helm_python(&python, &script).trim()).expect("json from python");

    // Helm pulls what rudder pushed, byte for byte, and lists its tag with `+`.
    assert_eq!(
        std::fs::read(helm_dest.join("shared-3.1.4+meta.2.tgz")).unwrap(),
        std::fs::read(&chart).unwrap()
    );
    assert_eq!(helm["tags"], serde_json::json!(["3.1.4+meta.2"]));
    // The same archive (same modification time) pushed by Helm gets the same manifest
    // digest: config, layer order, media types and annotations all agree byte for byte.
    assert_eq!(
        helm["resolved"]["digest"],
        serde_json::json!(rudder_digest),
        "{helm}"
    );
    // (The SDK returns no printed output for push and pull, so the messages are compared
    // with Helm's wording in the other tests.)

    // rudder pulls what Helm pushed.
    let dest = home.path().join("rudder-pulled");
    let out = home.must(&[
        "pull",
        &format!("oci://{reg}/{by_helm}/shared"),
        "--plain-http",
        "-d",
        dest.to_str().unwrap(),
    ]);
    assert!(
        out.starts_with(&format!(
            "Pulled: {reg}/{by_helm}/shared:3.1.4_meta.2\nDigest: {rudder_digest}\n"
        )),
        "{out}"
    );
    assert_eq!(
        std::fs::read(dest.join("shared-3.1.4+meta.2.tgz")).unwrap(),
        std::fs::read(&chart).unwrap()
    );
}

#[test]
fn helm_reads_rudders_login_and_rudder_reads_helms() {
    let Some((user, password, reg)) = auth_registry() else {
        return;
    };
    let Some(python) = helm_python_path() else {
        return;
    };
    let home = Home::new();
    let repo = unique("login-interop");
    let chart = home.chart("guarded", "0.3.0");
    let helm_config = home.path().join("helm-registry.json");

    // Helm logs in with its own file: the same bytes as rudder's.
    let script = format!(
        r#"
import helm_python as h
c = h.RegistryClient(plain_http=True, credentials_file={cfg:?})
c.login({reg:?}, {user:?}, {password:?}, plain_http=True)
c.push({chart:?}, "oci://{reg}/{repo}", plain_http=True)
"#,
        cfg = helm_config.to_str().unwrap(),
        chart = chart.to_str().unwrap()
    );
    helm_python(&python, &script);
    let run = home.rudder_stdin(
        &[
            "registry",
            "login",
            &reg,
            "-u",
            &user,
            "--password-stdin",
            "--plain-http",
        ],
        &password,
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(home.registry_config()).unwrap(),
        std::fs::read_to_string(&helm_config).unwrap()
    );

    // rudder uses the file Helm wrote (HELM_REGISTRY_CONFIG) to pull what Helm pushed.
    let dest = home.path().join("pulled");
    let mut cmd = home.cmd(&[
        "pull",
        &format!("oci://{reg}/{repo}/guarded"),
        "--version",
        "0.3.0",
        "--plain-http",
        "-d",
        dest.to_str().unwrap(),
    ]);
    let out = cmd
        .env("HELM_REGISTRY_CONFIG", &helm_config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(dest.join("guarded-0.3.0.tgz")).unwrap(),
        std::fs::read(&chart).unwrap()
    );

    // Helm uses rudder's file; after rudder's logout, Helm is refused.
    let script = format!(
        r#"
import helm_python as h
c = h.RegistryClient(plain_http=True, credentials_file={cfg:?})
print(c.tags("oci://{reg}/{repo}/guarded"))
"#,
        cfg = home.registry_config().to_str().unwrap()
    );
    assert_eq!(helm_python(&python, &script).trim(), "['0.3.0']");
    home.must(&["registry", "logout", &reg]);
    let refused = Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(!refused.status.success());
}
