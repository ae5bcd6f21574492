//! Helpers shared by the binary's integration tests (each test file uses some of them).
#![allow(dead_code, unused_imports)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

pub use rudder_test_support::{env_or_skip, skip};

/// The local control plane's kubeconfig (`RUDDER_TEST_KUBECONFIG`), or `None` after a skip
/// notice.
pub fn test_kubeconfig() -> Option<String> {
    env_or_skip(
        "RUDDER_TEST_KUBECONFIG",
        "scripts/test starts a local control plane",
    )
}

/// The venv Python with helm-python-sdk (`RUDDER_HELM_PYTHON`, set by scripts/test).
pub fn helm_python_path() -> Option<String> {
    env_or_skip("RUDDER_HELM_PYTHON", "scripts/test sets it")
}

/// A Python command that runs the SDK as the helm CLI runs: Helm names its server-side-apply
/// field manager after argv[0], so the process is named "helm"; Python then no longer finds
/// its venv by itself, so it is handed the venv's site-packages.
pub fn helm_cli_python(python: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let site = Command::new(python)
        .args(["-c", "import site; print(site.getsitepackages()[0])"])
        .output()
        .expect("python site-packages");
    let site = String::from_utf8_lossy(&site.stdout).trim().to_string();
    let mut cmd = Command::new(python);
    cmd.arg0("helm").env("PYTHONPATH", site);
    cmd
}

/// Runs a helm-python-sdk command, failing the test with its output if it fails; returns
/// its standard output.
pub fn python_output(mut cmd: Command) -> String {
    let out = cmd.output().expect("run python");
    assert!(
        out.status.success(),
        "helm-python-sdk failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Serves each (URL path, body) over plain HTTP on loopback, and 404 elsewhere, for as long
/// as the test runs; returns `http://127.0.0.1:PORT`.
pub fn serve_files(files: Vec<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let (status, body): (&str, &[u8]) = match files.iter().find(|(p, _)| p == path) {
                Some((_, body)) => ("200 OK", body),
                None => ("404 Not Found", b"not found\n"),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    format!("http://{addr}")
}

/// One case of a golden suite's `cases.yaml` (a YAML list of mappings of strings and lists of
/// strings), read with rudder's own YAML reader.
pub struct GoldenCase(rudder_value::Map);

impl GoldenCase {
    /// A string field, if present.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).map(|v| match v {
            rudder_value::Value::String(s) => s.to_string(),
            other => panic!("cases.yaml: {key} must be a string, got {other:?}: quote it"),
        })
    }

    /// A list-of-strings field; empty if absent.
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.0.get(key) {
            None => Vec::new(),
            Some(rudder_value::Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    rudder_value::Value::String(s) => s.to_string(),
                    other => panic!("cases.yaml: {key} items must be strings, got {other:?}"),
                })
                .collect(),
            Some(other) => panic!("cases.yaml: {key} must be a list, got {other:?}"),
        }
    }
}

/// The cases of `path` (relative to the repository root), which must hold at least one.
pub fn load_cases(path: &str) -> Vec<GoldenCase> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join(path)).expect("cases file");
    let cases: Vec<GoldenCase> = match rudder_value::yaml::from_yaml(&text).expect("cases YAML") {
        rudder_value::Value::List(items) => items
            .iter()
            .map(|item| match item {
                rudder_value::Value::Map(m) => GoldenCase(m.snapshot()),
                other => panic!("{path}: each case must be a mapping, got {other:?}"),
            })
            .collect(),
        other => panic!("{path}: must be a list of cases, got {other:?}"),
    };
    assert!(!cases.is_empty(), "{path}: no cases");
    cases
}

/// Runs one of the differential scripts (`scripts/diff-*.py`, with `extra_args`) against this
/// `rudder` binary with helm-python-sdk, once per seed, `count` generated inputs each, and fails
/// on any disagreement (the script's report is in the message). Skips without the SDK.
pub fn run_differential(script: &str, extra_args: &[&str], seeds: &[&str], count: usize) {
    let Some(python) = helm_python_path() else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for seed in seeds {
        let out = Command::new(&python)
            .arg(root.join(script))
            .args(extra_args)
            .args(["--count", &count.to_string(), "--seed", seed])
            .args(["--rudder", env!("CARGO_BIN_EXE_rudder")])
            .output()
            .expect("run the differential script");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(" 0 disagreements"),
            "{script} seed {seed}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The (revision, status, description) rows of `history -o json` output.
pub fn revisions(history: &serde_json::Value) -> Vec<(i64, String, String)> {
    history
        .as_array()
        .expect("history is a list")
        .iter()
        .map(|h| {
            (
                h["revision"].as_i64().unwrap(),
                h["status"].as_str().unwrap().to_string(),
                h["description"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The identity of an object, for `Kube` calls.
pub fn obj(api_version: &str, kind: &str, ns: &str, name: &str) -> rudder_kube::ObjectRef {
    rudder_kube::ObjectRef {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

/// The Secret of a release revision and its record, decoded from Helm's format (base64 of
/// base64 of gzip of JSON); `None` when there is no such Secret or its data is not a record
/// in that format (a split record's).
pub fn secret_record(
    k: &rudder_kube::Kube,
    ns: &str,
    release: &str,
    version: i64,
) -> Option<(serde_json::Value, serde_json::Value)> {
    use base64::Engine as _;
    use std::io::Read;
    let secret = k
        .get(&obj(
            "v1",
            "Secret",
            ns,
            &format!("sh.helm.release.v1.{release}.v{version}"),
        ))
        .expect("get secret")?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let once = b64
        .decode(secret["data"]["release"].as_str().expect("release data"))
        .expect("base64");
    let twice = b64.decode(once).expect("base64 inside");
    let mut json = String::new();
    flate2::read::GzDecoder::new(&twice[..])
        .read_to_string(&mut json)
        .ok()?;
    Some((secret, serde_json::from_str(&json).expect("json")))
}

/// Polls `cond` every `poll` until it holds, failing the test after `timeout` with what was
/// awaited.
pub fn eventually_within(
    what: &str,
    timeout: std::time::Duration,
    poll: std::time::Duration,
    mut cond: impl FnMut() -> bool,
) {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(poll);
    }
    panic!("timed out waiting for {what}");
}

/// A Helm home of its own for one test (data, config and cache folders, Docker's config
/// and GnuPG's home pointed inside it), and `rudder` run in it without the caller's
/// `HELM_*` settings that would change what it does.
pub struct HelmHome {
    pub dir: tempfile::TempDir,
}

impl HelmHome {
    pub fn new() -> HelmHome {
        HelmHome {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    /// `rudder ARGS` in this home, working in its folder; callers may add to it.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("HELM_DATA_HOME", self.path("data"))
            .env("HELM_CONFIG_HOME", self.path("config"))
            .env("HELM_CACHE_HOME", self.path("cache"))
            .env("DOCKER_CONFIG", self.path("docker"))
            .env("GNUPGHOME", self.path("gnupg"));
        for var in [
            "HELM_PLUGINS",
            "HELM_REGISTRY_CONFIG",
            "HELM_REPOSITORY_CONFIG",
            "HELM_REPOSITORY_CACHE",
            "HELM_NO_PLUGINS",
            "HELM_NAMESPACE",
            "HELM_DEBUG",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    pub fn rudder(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("rudder runs")
    }
}

/// A command's standard output, as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A command's standard error, as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Publishes a plugin to a test registry at `reference` (`host:port/path:tag`), with
/// (user, password) when it asks for them, as `oras push --artifact-type
/// application/vnd.helm.plugin.v1+json` does: one layer per (file name, bytes), titled by
/// the name (Helm's registry/plugin.go looks for NAME-VERSION.tgz and .tgz.prov).
pub fn push_plugin(reference: &str, credentials: Option<(&str, &str)>, files: &[(&str, &[u8])]) {
    use rudder_repo::oci::plugin::{ArtifactFile, PLUGIN_ARTIFACT_TYPE};
    let (username, password) = credentials.unwrap_or_default();
    let client = rudder_repo::oci::Client::new(rudder_repo::oci::ClientOptions {
        plain_http: true,
        username: username.into(),
        password: password.into(),
        ..Default::default()
    })
    .unwrap();
    let layers: Vec<ArtifactFile> = files
        .iter()
        .map(|(title, data)| ArtifactFile {
            title,
            media_type: "application/vnd.oci.image.layer.v1.tar",
            data,
        })
        .collect();
    client
        .push_artifact(reference, PLUGIN_ARTIFACT_TYPE, &layers)
        .expect("push the plugin");
}
