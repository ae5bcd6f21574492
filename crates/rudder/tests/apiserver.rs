//! The Milvus chart's renders are accepted by a real kube-apiserver: `rudder template` with
//! the dev, test and prod values, applied with a server-side dry run to the control plane
//! started by scripts/local-cluster (scripts/test starts it and sets RUDDER_TEST_KUBECONFIG).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kubectl(kubeconfig: &str, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new("kubectl")
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("kubectl output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn milvus_renders_are_accepted_by_kube_apiserver() {
    let Some(kubeconfig) = common::test_kubeconfig() else {
        return;
    };
    let root = repo_root();
    let crd =
        std::fs::read_to_string(root.join("tests/fixtures/servicemonitor-crd.yaml")).expect("crd");
    let (ok, out) = kubectl(
        &kubeconfig,
        &["apply", "--server-side", "-f", "-"],
        Some(&crd),
    );
    assert!(ok, "installing the ServiceMonitor CRD failed: {out}");
    let (ok, out) = kubectl(
        &kubeconfig,
        &[
            "wait",
            "--for=condition=Established",
            "crd/servicemonitors.monitoring.coreos.com",
            "--timeout=60s",
        ],
        None,
    );
    assert!(ok, "CRD not established: {out}");

    // The chart picks HPA and PDB API versions from Capabilities.KubeVersion (v2beta2 and
    // policy/v1beta1 before 1.23 and 1.21): render for the server's version, as an install would.
    let (ok, version) = kubectl(&kubeconfig, &["version", "-o", "json"], None);
    assert!(ok, "kubectl version failed: {version}");
    // Output is stdout then stderr: read the first JSON value only.
    let version: serde_json::Value = serde_json::Deserializer::from_str(
        &version[version.find('{').expect("kubectl version prints JSON")..],
    )
    .into_iter()
    .next()
    .expect("a JSON value")
    .expect("kubectl version JSON");
    let server_version = version["serverVersion"]["gitVersion"]
        .as_str()
        .expect("serverVersion.gitVersion")
        .to_string();

    for (env, file) in [
        ("dev", "dev-values.yaml"),
        ("test", "test-values.yaml"),
        ("prod", "prod-values.yaml"),
    ] {
        let ns = format!("rudder-accept-{env}");
        let _ = kubectl(&kubeconfig, &["create", "namespace", &ns], None);
        let render = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .current_dir(&root)
            .args([
                "template",
                &format!("milvus-{env}"),
                "charts/milvus",
                "-n",
                &ns,
                "--kube-version",
                &server_version,
                "-f",
            ])
            .arg(format!("charts/milvus/values/{file}"))
            .output()
            .expect("run rudder");
        assert!(
            render.status.success(),
            "rudder template failed: {}",
            String::from_utf8_lossy(&render.stderr)
        );
        let manifest = String::from_utf8(render.stdout).expect("utf-8");
        let (ok, out) = kubectl(
            &kubeconfig,
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "-n",
                &ns,
                "-f",
                "-",
            ],
            Some(&manifest),
        );
        assert!(ok, "the API server rejected the {env} render:\n{out}");
        let objects = manifest.matches("\nkind: ").count();
        assert!(
            out.lines().count() >= objects,
            "expected {objects} objects applied, got:\n{out}"
        );
    }
}

/// Runs rudder against the test control plane and returns (success, stdout + stderr).
fn rudder(kubeconfig: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
        .current_dir(repo_root())
        .env("KUBECONFIG", kubeconfig)
        .env_remove("HELM_NAMESPACE")
        .args(args)
        .output()
        .expect("run rudder");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The `milvus.io/message-queue` annotation of a release's ConfigMap, and the `mq.type` of
/// the user.yaml in it.
fn installed_message_queue(kubeconfig: &str, ns: &str, configmap: &str) -> (String, String) {
    let (ok, annotation) = kubectl(
        kubeconfig,
        &[
            "get",
            "configmap",
            configmap,
            "-n",
            ns,
            "-o",
            "jsonpath={.metadata.annotations.milvus\\.io/message-queue}",
        ],
        None,
    );
    assert!(ok, "reading ConfigMap {configmap}: {annotation}");
    let (ok, user_yaml) = kubectl(
        kubeconfig,
        &[
            "get",
            "configmap",
            configmap,
            "-n",
            ns,
            "-o",
            "jsonpath={.data.user\\.yaml}",
        ],
        None,
    );
    assert!(ok, "reading ConfigMap {configmap}: {user_yaml}");
    let config = rudder_value::yaml::from_yaml(&user_yaml).expect("user.yaml parses");
    let mq = config
        .get_path(&["mq", "type"])
        .map(|v| v.to_go_string())
        .unwrap_or_default();
    (annotation, mq)
}

/// Upgrading a 2.5 standalone release (rocksmq) to a 2.6 image keeps rocksmq: the chart looks
/// up the queue the installed release uses (its ConfigMap's annotation) instead of switching to
/// Woodpecker, the 2.6 default that a fresh install gets. This needs `lookup` against a live
/// API server, which no offline render (and so no Helm golden) can show.
#[test]
fn milvus_upgrade_to_2_6_keeps_the_installed_message_queue() {
    let Some(kubeconfig) = common::test_kubeconfig() else {
        return;
    };
    let ns = "rudder-milvus-mq";
    let dev = "charts/milvus/values/dev-values.yaml";
    // Left over by an earlier run that failed half-way.
    for release in ["keep-mq", "fresh-mq"] {
        let _ = rudder(&kubeconfig, &["uninstall", release, "-n", ns]);
    }
    let (ok, out) = rudder(
        &kubeconfig,
        &[
            "install",
            "keep-mq",
            "charts/milvus",
            "-n",
            ns,
            "--create-namespace",
            "-f",
            dev,
            "--set",
            "image.tag=v2.5.4",
        ],
    );
    assert!(ok, "install of 2.5 failed: {out}");
    assert_eq!(
        installed_message_queue(&kubeconfig, ns, "keep-mq-milvus"),
        ("rocksmq".to_string(), "rocksmq".to_string())
    );

    let (ok, out) = rudder(
        &kubeconfig,
        &[
            "upgrade",
            "keep-mq",
            "charts/milvus",
            "-n",
            ns,
            "-f",
            dev,
            "--set",
            "image.tag=v2.6.15",
        ],
    );
    assert!(ok, "upgrade to 2.6 failed: {out}");
    assert_eq!(
        installed_message_queue(&kubeconfig, ns, "keep-mq-milvus"),
        ("rocksmq".to_string(), "rocksmq".to_string()),
        "the upgrade switched the message queue"
    );
    let (ok, annotation) = kubectl(
        &kubeconfig,
        &[
            "get",
            "deployment",
            "keep-mq-milvus-standalone",
            "-n",
            ns,
            "-o",
            "jsonpath={.metadata.annotations.milvus\\.io/message-queue} {.spec.template.spec.containers[0].image}",
        ],
        None,
    );
    assert!(ok, "reading the Deployment: {annotation}");
    assert_eq!(annotation, "rocksmq milvusdb/milvus:v2.6.15");

    // A fresh 2.6 install, by contrast, gets Woodpecker.
    let (ok, out) = rudder(
        &kubeconfig,
        &["install", "fresh-mq", "charts/milvus", "-n", ns, "-f", dev],
    );
    assert!(ok, "install of 2.6 failed: {out}");
    assert_eq!(
        installed_message_queue(&kubeconfig, ns, "fresh-mq-milvus"),
        ("woodpecker".to_string(), "woodpecker".to_string())
    );

    for release in ["keep-mq", "fresh-mq"] {
        let (ok, out) = rudder(&kubeconfig, &["uninstall", release, "-n", ns]);
        assert!(ok, "uninstall {release} failed: {out}");
    }
}

/// The pod template's `checksum/credentials` of a Deployment.
fn credentials_checksum(kubeconfig: &str, ns: &str, deployment: &str) -> String {
    let (ok, out) = kubectl(
        kubeconfig,
        &[
            "get",
            "deployment",
            deployment,
            "-n",
            ns,
            "-o",
            "jsonpath={.spec.template.metadata.annotations.checksum/credentials}",
        ],
        None,
    );
    assert!(ok, "reading Deployment {deployment}: {out}");
    assert_eq!(out.len(), 64, "not a sha256: {out:?}");
    out
}

/// A change of an existing credentials Secret rolls the Milvus pods at the next upgrade, as a
/// configuration change does: the chart hashes the Secret's data (looked up in the cluster)
/// into the pod template. An upgrade without a change leaves the pod template alone.
#[test]
fn milvus_credentials_secret_change_rolls_the_pods() {
    let Some(kubeconfig) = common::test_kubeconfig() else {
        return;
    };
    let ns = "rudder-milvus-creds";
    let _ = rudder(&kubeconfig, &["uninstall", "creds", "-n", ns]);
    let _ = kubectl(&kubeconfig, &["create", "namespace", ns], None);
    let secret = |secretkey: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s3-credentials\n  namespace: {ns}\n\
             stringData:\n  accesskey: milvus\n  secretkey: {secretkey}\n"
        )
    };
    let (ok, out) = kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&secret("first")));
    assert!(ok, "creating the Secret failed: {out}");
    let args = |verb: &'static str| {
        vec![
            verb,
            "creds",
            "charts/milvus",
            "-n",
            ns,
            "-f",
            "charts/milvus/values/dev-values.yaml",
            "--set",
            "minio.enabled=false,externalS3.enabled=true,externalS3.host=s3.example,externalS3.bucketName=b,externalS3.existingSecret=s3-credentials",
        ]
    };
    let (ok, out) = rudder(&kubeconfig, &args("install"));
    assert!(ok, "install failed: {out}");
    let installed = credentials_checksum(&kubeconfig, ns, "creds-milvus-standalone");

    let (ok, out) = rudder(&kubeconfig, &args("upgrade"));
    assert!(ok, "upgrade failed: {out}");
    assert_eq!(
        credentials_checksum(&kubeconfig, ns, "creds-milvus-standalone"),
        installed,
        "an upgrade without a change altered the pod template"
    );

    let (ok, out) = kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&secret("rotated")));
    assert!(ok, "updating the Secret failed: {out}");
    let (ok, out) = rudder(&kubeconfig, &args("upgrade"));
    assert!(ok, "upgrade failed: {out}");
    assert_ne!(
        credentials_checksum(&kubeconfig, ns, "creds-milvus-standalone"),
        installed,
        "the rotated Secret did not change the pod template"
    );

    let (ok, out) = rudder(&kubeconfig, &["uninstall", "creds", "-n", ns]);
    assert!(ok, "uninstall failed: {out}");
}
