//! Releases against a real kube-apiserver (scripts/local-cluster, started by scripts/test,
//! which sets RUDDER_TEST_KUBECONFIG): install, upgrade, history, rollback, uninstall, the
//! record format, ownership, hooks, waiting, faults, and interoperability with real Helm
//! (helm-python-sdk through RUDDER_HELM_PYTHON, also set by scripts/test).
//!
//! Each test works in its own namespace, so they run in parallel.

mod common;
use common::{helm_cli_python, helm_python_path, obj, python_output, secret_record};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use rudder_kube::{ConnectOptions, Kube};
use serde_json::{json, Value as Json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> String {
    fixture_chart("release-demo")
}

fn fixture_chart(name: &str) -> String {
    repo_root()
        .join("tests/fixtures/charts")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The kubeconfig, a new namespace named after `prefix` and a client, or `None` to skip.
fn fresh_namespace(prefix: &str) -> Option<(String, String, Kube)> {
    let kc = kubeconfig()?;
    let ns = unique(prefix);
    let k = kube(&kc);
    create_namespace(&k, &ns);
    Some((kc, ns, k))
}

fn kubeconfig() -> Option<String> {
    common::test_kubeconfig()
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn rudder_cmd(kubeconfig: &str, ns: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
    cmd.env("KUBECONFIG", kubeconfig)
        .env_remove("HELM_DRIVER")
        .args(args)
        .args(["-n", ns]);
    cmd
}

fn rudder(kubeconfig: &str, ns: &str, args: &[&str]) -> Run {
    let out: Output = rudder_cmd(kubeconfig, ns, args)
        .output()
        .expect("run rudder");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn must(run: Run, what: &str) -> String {
    assert!(run.ok, "{what} failed:\n{}\n{}", run.stdout, run.stderr);
    run.stdout
}

fn kube(kubeconfig: &str) -> Kube {
    Kube::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig.into()),
        ..ConnectOptions::default()
    })
    .expect("connect")
}

/// A namespace of its own for each run: the control plane has no namespace controller, so
/// deleted namespaces never go away and reruns need fresh names.
fn unique(base: &str) -> String {
    format!("{base}-{}", std::process::id())
}

fn create_namespace(k: &Kube, ns: &str) {
    let _ = k.create(
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        "",
    );
}

/// The namespace's `default` ServiceAccount, which Pods need and which no controller
/// creates on this control plane.
fn create_default_service_account(k: &Kube, ns: &str) {
    let _ = k.create(
        &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}),
        ns,
    );
}

#[test]
fn install_upgrade_history_rollback_uninstall() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("rel-lifecycle");
    let k = kube(&kc);
    let c = chart();

    let out = must(
        rudder(
            &kc,
            ns,
            &[
                "install",
                "demo",
                &c,
                "--create-namespace",
                "--labels",
                "team=vector",
            ],
        ),
        "install",
    );
    assert!(out.starts_with("NAME: demo\nLAST DEPLOYED: "), "{out}");
    assert!(out.contains(&format!("\nNAMESPACE: {ns}\nSTATUS: deployed\nREVISION: 1\nDESCRIPTION: Install complete\nTEST SUITE: None\nNOTES:\ndemo is installed in {ns} (revision 1).\n")), "{out}");

    // `status` adds the live objects as the API server tables them (as Helm v4 does).
    let status = must(rudder(&kc, ns, &["status", "demo"]), "status");
    let resources = status
        .split_once("DESCRIPTION: Install complete\nRESOURCES:\n")
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("no RESOURCES section: {status}"));
    assert!(
        resources.starts_with("==> v1/ConfigMap\nNAME          DATA   AGE\ndemo-config   2      "),
        "{status}"
    );
    assert!(
        resources.contains("==> v1/Service\nNAME       TYPE        CLUSTER-IP"),
        "{status}"
    );
    let json_status = must(
        rudder(&kc, ns, &["status", "demo", "-o", "json"]),
        "status -o json",
    );
    assert!(!json_status.contains("RESOURCES"));

    // The record is Helm's: Secret type, labels, gzip+base64 JSON.
    let (secret, record) = secret_record(&k, ns, "demo", 1).expect("v1 record");
    assert_eq!(secret["type"], "helm.sh/release.v1");
    let labels = &secret["metadata"]["labels"];
    assert_eq!(labels["name"], "demo");
    assert_eq!(labels["owner"], "helm");
    assert_eq!(labels["status"], "deployed");
    assert_eq!(labels["version"], "1");
    assert_eq!(labels["team"], "vector");
    assert_eq!(record["name"], "demo");
    assert_eq!(record["version"], 1);
    assert_eq!(record["namespace"], ns.as_str());
    assert_eq!(record["apply_method"], "ssa");
    assert_eq!(record["info"]["status"], "deployed");
    assert_eq!(record["chart"]["metadata"]["name"], "release-demo");
    assert!(
        record["labels"].is_null(),
        "user labels are not part of the JSON"
    );
    assert_eq!(record["hooks"][0]["name"], "demo-hook");
    assert_eq!(record["hooks"][0]["last_run"]["phase"], "Succeeded");
    assert!(record["manifest"]
        .as_str()
        .unwrap()
        .starts_with("---\n# Source: release-demo/templates/configmap.yaml\n"));

    // Objects carry Helm's ownership metadata and were applied by the field manager helm.
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "demo-config"))
        .unwrap()
        .expect("configmap");
    assert_eq!(
        cm["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "Helm"
    );
    assert_eq!(
        cm["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "demo"
    );
    assert_eq!(
        cm["metadata"]["annotations"]["meta.helm.sh/release-namespace"],
        ns.as_str()
    );
    assert!(cm["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["manager"] == "helm" && f["operation"] == "Apply"));
    let hook = k.get(&obj("v1", "ConfigMap", ns, "demo-hook")).unwrap();
    assert!(hook.is_some(), "the pre-install hook ran");

    // A second install of the same name is refused.
    let again = rudder(&kc, ns, &["install", "demo", &c]);
    assert!(!again.ok);
    assert!(
        again
            .stderr
            .contains("INSTALLATION FAILED: cannot reuse a name that is still in use"),
        "{}",
        again.stderr
    );

    // Upgrade with a new value and an extra object.
    let out = must(
        rudder(
            &kc,
            ns,
            &["upgrade", "demo", &c, "--set", "message=bonjour,extra=true"],
        ),
        "upgrade",
    );
    assert!(
        out.starts_with("Release \"demo\" has been upgraded. Happy Helming!\nNAME: demo\n"),
        "{out}"
    );
    assert!(
        out.contains("STATUS: deployed\nREVISION: 2\nDESCRIPTION: Upgrade complete\n"),
        "{out}"
    );
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "demo-config"))
        .unwrap()
        .unwrap();
    assert_eq!(cm["data"]["message"], "bonjour");
    assert!(k
        .get(&obj("v1", "ConfigMap", ns, "demo-extra"))
        .unwrap()
        .is_some());
    let (secret1, _) = secret_record(&k, ns, "demo", 1).unwrap();
    assert_eq!(secret1["metadata"]["labels"]["status"], "superseded");

    // Values: the user's, and all.
    let values = must(rudder(&kc, ns, &["get", "values", "demo"]), "get values");
    assert_eq!(
        values,
        "USER-SUPPLIED VALUES:\nextra: true\nmessage: bonjour\n"
    );
    let all = must(
        rudder(&kc, ns, &["get", "values", "demo", "--all", "-o", "json"]),
        "get values --all",
    );
    let all: Json = serde_json::from_str(&all).unwrap();
    assert_eq!(all["message"], "bonjour");
    assert_eq!(all["replicas"], 1);

    // An upgrade without values reuses the previous user values (Helm's default).
    must(
        rudder(&kc, ns, &["upgrade", "demo", &c]),
        "upgrade without values",
    );
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "demo-config"))
        .unwrap()
        .unwrap();
    assert_eq!(cm["data"]["message"], "bonjour");
    assert_eq!(cm["data"]["revision"], "3");

    // --reuse-values with an override keeps the rest.
    must(
        rudder(
            &kc,
            ns,
            &[
                "upgrade",
                "demo",
                &c,
                "--reuse-values",
                "--set",
                "extra=false",
            ],
        ),
        "upgrade --reuse-values",
    );
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "demo-config"))
        .unwrap()
        .unwrap();
    assert_eq!(cm["data"]["message"], "bonjour");
    assert!(
        k.get(&obj("v1", "ConfigMap", ns, "demo-extra"))
            .unwrap()
            .is_none(),
        "an object the new revision no longer has is deleted"
    );

    let history = must(rudder(&kc, ns, &["history", "demo"]), "history");
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 5, "{history}");
    assert!(lines[0].starts_with("REVISION\tUPDATED"), "{history}");
    assert!(lines[1].starts_with("1       \t"), "{history}");
    assert!(
        lines[1].contains("superseded\trelease-demo-0.1.0\t1.0        \tInstall complete"),
        "{history}"
    );
    assert!(
        lines[4].contains("deployed  \trelease-demo-0.1.0\t1.0        \tUpgrade complete"),
        "{history}"
    );

    // Roll back to revision 1: a new revision 5 with revision 1's manifest.
    let out = must(rudder(&kc, ns, &["rollback", "demo", "1"]), "rollback");
    assert_eq!(out, "Rollback was a success! Happy Helming!\n");
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "demo-config"))
        .unwrap()
        .unwrap();
    assert_eq!(cm["data"]["message"], "hello");
    let history = must(
        rudder(&kc, ns, &["history", "demo", "-o", "json"]),
        "history json",
    );
    let history: Json = serde_json::from_str(&history).unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["revision"], 5);
    assert_eq!(last["status"], "deployed");
    assert_eq!(last["description"], "Rollback to 1");
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "superseded",
            "superseded",
            "superseded",
            "superseded",
            "deployed"
        ]
    );

    let status = must(rudder(&kc, ns, &["status", "demo"]), "status");
    assert!(
        status.contains("REVISION: 5\nDESCRIPTION: Rollback to 1\n"),
        "{status}"
    );
    let list = must(rudder(&kc, ns, &["list"]), "list");
    let row = list.lines().nth(1).expect("a row");
    assert!(
        row.starts_with(&format!("demo\t{ns}\t5       \t")),
        "{list}"
    );
    assert!(
        row.ends_with("\tdeployed\trelease-demo-0.1.0\t1.0        "),
        "{list}"
    );
    let manifest = must(
        rudder(&kc, ns, &["get", "manifest", "demo"]),
        "get manifest",
    );
    assert!(manifest.contains("message: \"hello\""), "{manifest}");

    // Uninstall removes the objects and the records.
    let out = must(rudder(&kc, ns, &["uninstall", "demo"]), "uninstall");
    assert_eq!(out, "release \"demo\" uninstalled\n");
    assert!(k
        .get(&obj("v1", "ConfigMap", ns, "demo-config"))
        .unwrap()
        .is_none());
    assert!(k
        .get(&obj("v1", "Service", ns, "demo-svc"))
        .unwrap()
        .is_none());
    assert!(secret_record(&k, ns, "demo", 5).is_none());
    let gone = rudder(&kc, ns, &["status", "demo"]);
    assert!(!gone.ok);
    assert!(
        gone.stderr.contains("release: not found"),
        "{}",
        gone.stderr
    );
}

#[test]
fn keep_history_and_resource_policy() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("rel-keep");
    let k = kube(&kc);
    create_namespace(&k, ns);
    let c = chart();
    must(
        rudder(&kc, ns, &["install", "kept", &c, "--set", "keep=true"]),
        "install",
    );
    let out = must(
        rudder(&kc, ns, &["uninstall", "kept", "--keep-history"]),
        "uninstall",
    );
    assert_eq!(
        out,
        "These resources were kept due to the resource policy:\n[ConfigMap] kept-kept\n\nrelease \"kept\" uninstalled\n"
    );
    assert!(k
        .get(&obj("v1", "ConfigMap", ns, "kept-kept"))
        .unwrap()
        .is_some());
    assert!(k
        .get(&obj("v1", "ConfigMap", ns, "kept-config"))
        .unwrap()
        .is_none());
    let (_, record) = secret_record(&k, ns, "kept", 1).expect("history kept");
    assert_eq!(record["info"]["status"], "uninstalled");
    assert_eq!(record["info"]["description"], "Uninstallation complete");
    let list = must(rudder(&kc, ns, &["list", "--uninstalled", "-q"]), "list");
    assert_eq!(list, "kept\n");
    // The name can be reused only with --replace.
    let refused = rudder(&kc, ns, &["install", "kept", &c]);
    assert!(
        refused
            .stderr
            .contains("cannot reuse a name that is still in use"),
        "{}",
        refused.stderr
    );
    must(
        rudder(&kc, ns, &["install", "kept", &c, "--replace"]),
        "install --replace",
    );
}

/// `--hide-secret` and `--render-subchart-notes` as Helm's renderResources treats them, and
/// what rudder refuses rather than pretend (client-side apply).
#[test]
fn dry_run_hides_secrets_and_renders_subchart_notes() {
    let Some((kc, ns, _)) = fresh_namespace("rel-notes") else {
        return;
    };
    let ns = &ns;
    let c = fixture_chart("notes-secret");
    let shown = must(
        rudder(
            &kc,
            ns,
            &[
                "install",
                "quiet",
                &c,
                "--dry-run",
                "--hide-secret",
                "--render-subchart-notes",
            ],
        ),
        "install --dry-run --hide-secret",
    );
    assert!(
        shown.contains("# Source: notes-secret/templates/secret.yaml\n# HIDDEN: The Secret output has been suppressed\n"),
        "{shown}"
    );
    assert!(!shown.contains("not-for-your-eyes"), "{shown}");
    assert!(shown.contains("mode: visible"), "{shown}");
    assert!(
        shown.contains("Helper notes.\n\nParent notes for quiet."),
        "{shown}"
    );
    let plain = must(
        rudder(&kc, ns, &["install", "quiet", &c, "--dry-run"]),
        "install --dry-run",
    );
    assert!(
        plain.contains("not-for-your-eyes") && !plain.contains("Helper notes."),
        "{plain}"
    );
    // Hiding secrets only makes sense for a dry run; nothing is installed.
    let refused = rudder(&kc, ns, &["install", "quiet", &c, "--hide-secret"]);
    assert!(!refused.ok);
    assert!(
        refused
            .stderr
            .contains("INSTALLATION FAILED: hiding Kubernetes secrets requires a dry-run mode"),
        "{}",
        refused.stderr
    );
    let refused = rudder(&kc, ns, &["install", "quiet", &c, "--server-side=false"]);
    assert!(!refused.ok);
    assert!(
        refused
            .stderr
            .contains("client-side apply is not supported"),
        "{}",
        refused.stderr
    );
    assert_eq!(must(rudder(&kc, ns, &["list", "-q"]), "list"), "");
    // --server-side=true is what rudder does anyway.
    must(
        rudder(
            &kc,
            ns,
            &[
                "install",
                "quiet",
                &c,
                "--server-side",
                "--render-subchart-notes",
            ],
        ),
        "install",
    );
    let notes = must(rudder(&kc, ns, &["get", "notes", "quiet"]), "get notes");
    assert!(notes.contains("Helper notes."), "{notes}");
}

/// `list --selector` matches each release's labels (its own and the storage labels Helm's
/// secret driver lists with), and `--time-format` takes a Go layout.
#[test]
fn list_selects_by_labels_and_formats_times() {
    let Some((kc, ns, _)) = fresh_namespace("rel-select") else {
        return;
    };
    let ns = &ns;
    let c = fixture_chart("notes-secret");
    must(
        rudder(
            &kc,
            ns,
            &["install", "alpha", &c, "--labels", "team=search,tier=db"],
        ),
        "install alpha",
    );
    must(
        rudder(&kc, ns, &["install", "beta", &c, "-l", "team=ads"]),
        "install beta",
    );
    let selected =
        |selector: &str| must(rudder(&kc, ns, &["list", "-q", "-l", selector]), selector);
    assert_eq!(selected("team=search"), "alpha\n");
    assert_eq!(selected("team!=search"), "beta\n");
    assert_eq!(
        selected("team in (ads,search),status=deployed"),
        "alpha\nbeta\n"
    );
    assert_eq!(selected("tier"), "alpha\n");
    assert_eq!(selected("!tier,name=beta,owner==helm"), "beta\n");
    assert_eq!(selected("version=2"), "");
    let bad = rudder(&kc, ns, &["list", "-l", "team in (ads"]);
    assert!(
        !bad.ok && bad.stderr.contains("unable to parse requirement"),
        "{}",
        bad.stderr
    );
    let year = must(
        rudder(&kc, ns, &["list", "-o", "json", "--time-format", "2006"]),
        "list --time-format",
    );
    let rows: serde_json::Value = serde_json::from_str(&year).unwrap();
    for row in rows.as_array().unwrap() {
        let updated = row["updated"].as_str().unwrap();
        assert!(updated.len() == 4 && updated.starts_with("20"), "{updated}");
    }
}

/// `template --dry-run=server` renders with the cluster's capabilities and answers `lookup`
/// from it, as Helm's server-side dry-run install does (compared with helm-python-sdk).
#[test]
fn template_dry_run_server_reads_the_cluster_like_helm() {
    let Some((kc, ns, k)) = fresh_namespace("tpl-server") else {
        return;
    };
    let ns = &ns;
    k.create(
        &json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "preexisting", "namespace": ns},
                "data": {"value": "42"}}),
        ns,
    )
    .unwrap();
    let c = fixture_chart("server-render");
    let ours = must(
        rudder(&kc, ns, &["template", "probe", &c, "--dry-run=server"]),
        "template --dry-run=server",
    );
    assert!(ours.contains("preexisting: \"42\""), "{ours}");
    assert!(ours.contains("namespaceFound: \"yes\""), "{ours}");
    // --validate is the deprecated spelling of the same.
    let validate = rudder(&kc, ns, &["template", "probe", &c, "--validate"]);
    assert!(validate.ok, "{}", validate.stderr);
    assert_eq!(validate.stdout, ours);
    assert!(validate
        .stderr
        .contains("Flag --validate has been deprecated"));
    // Client-side, lookup finds nothing.
    let offline = must(rudder(&kc, ns, &["template", "probe", &c]), "template");
    assert!(offline.contains("preexisting: \"none\""), "{offline}");
    let script = format!(
        r#"
import json, helm_python as h
c = h.Config(kubeconfig_path={kc:?}, namespace={ns:?})
rel = c.install({c:?}, "probe", {{}}, dry_run="server", namespace={ns:?})
print(json.dumps(rel["manifest"]))
"#
    );
    let Some(out) = helm_python(&kc, &script) else {
        return;
    };
    let helm_manifest: String = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    assert_eq!(ours.trim_end(), helm_manifest.trim_end());
}

/// `--kube-as-user`/`--kube-as-group` act as another user (the control plane runs RBAC), and a
/// refused list reads as Helm's storage driver words it.
#[test]
fn impersonates_users_and_groups() {
    let Some((kc, ns, _)) = fresh_namespace("rel-imp") else {
        return;
    };
    let nobody = rudder(&kc, &ns, &["list", "--kube-as-user", "nobody"]);
    assert!(!nobody.ok);
    assert!(
        nobody.stderr.starts_with(
            "Error: list: failed to list: secrets is forbidden: User \"nobody\" cannot list resource \"secrets\""
        ),
        "{}",
        nobody.stderr
    );
    let history = rudder(&kc, &ns, &["history", "x", "--kube-as-user=nobody"]);
    assert!(
        history
            .stderr
            .starts_with("Error: query: failed to query with labels: secrets is forbidden"),
        "{}",
        history.stderr
    );
    let admin = rudder(
        &kc,
        &ns,
        &[
            "list",
            "--kube-as-user",
            "nobody",
            "--kube-as-group",
            "system:masters",
        ],
    );
    assert!(admin.ok, "{}", admin.stderr);
}

#[test]
fn refuses_to_adopt_objects_of_others() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("rel-owner");
    let k = kube(&kc);
    create_namespace(&k, ns);
    k.create(
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine-config", "namespace": ns}, "data": {"x": "1"}}),
        ns,
    )
    .unwrap();
    let run = rudder(&kc, ns, &["install", "mine", &chart()]);
    assert!(!run.ok);
    assert!(run.stderr.contains(&format!(
        "Error: INSTALLATION FAILED: unable to continue with install: ConfigMap \"mine-config\" in namespace \"{ns}\" exists and cannot be imported into the current release: invalid ownership metadata; label validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\"; annotation validation error: missing key \"meta.helm.sh/release-name\": must be set to \"mine\"; annotation validation error: missing key \"meta.helm.sh/release-namespace\": must be set to \"{ns}\""
    )), "{}", run.stderr);
    assert!(
        secret_record(&k, ns, "mine", 1).is_none(),
        "no record for a refused install"
    );
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "mine-config"))
        .unwrap()
        .unwrap();
    assert_eq!(cm["data"]["x"], "1", "the foreign object is untouched");
    // --take-ownership adopts it.
    must(
        rudder(&kc, ns, &["install", "mine", &chart(), "--take-ownership"]),
        "take ownership",
    );
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "mine-config"))
        .unwrap()
        .unwrap();
    assert_eq!(
        cm["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "mine"
    );
}

#[test]
fn failed_upgrade_keeps_history_intact() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("rel-faults");
    let k = kube(&kc);
    create_namespace(&k, ns);
    let c = chart();
    must(rudder(&kc, ns, &["install", "f", &c]), "install");
    // A bad --set, a missing chart, a values file that is not YAML: errors, nothing stored.
    let bad = rudder(&kc, ns, &["upgrade", "f", &c, "--set", "a.b[x]=1"]);
    assert!(!bad.ok);
    assert!(
        bad.stderr
            .starts_with("Error: UPGRADE FAILED: failed parsing --set data"),
        "{}",
        bad.stderr
    );
    let missing = rudder(&kc, ns, &["upgrade", "f", "./no-such-chart"]);
    assert!(!missing.ok);
    assert!(
        missing
            .stderr
            .contains("path \"./no-such-chart\" not found"),
        "{}",
        missing.stderr
    );
    assert!(secret_record(&k, ns, "f", 2).is_none());

    // An upgrade the API server rejects (an invalid object): revision 2 is failed, 1 stays deployed.
    let bad_port = rudder(
        &kc,
        ns,
        &[
            "upgrade",
            "f",
            &c,
            "--set-string",
            "replicas=many",
            "--set",
            "deployment=true",
        ],
    );
    assert!(!bad_port.ok, "{}", bad_port.stdout);
    // After Helm's warning (pkg/action/upgrade.go failRelease logs "upgrade failed").
    assert!(
        bad_port
            .stderr
            .starts_with("level=WARN msg=\"upgrade failed\" name=f error=")
            && bad_port.stderr.contains("\nError: UPGRADE FAILED: "),
        "{}",
        bad_port.stderr
    );
    let (_, r2) = secret_record(&k, ns, "f", 2).expect("failed revision recorded");
    assert_eq!(r2["info"]["status"], "failed");
    assert!(r2["info"]["description"]
        .as_str()
        .unwrap()
        .starts_with("Upgrade \"f\" failed: "));
    let (_, r1) = secret_record(&k, ns, "f", 1).unwrap();
    assert_eq!(r1["info"]["status"], "deployed");

    // The next upgrade works from the deployed revision; rollback recovers too.
    must(
        rudder(&kc, ns, &["upgrade", "f", &c, "--set", "message=fixed"]),
        "upgrade after failure",
    );
    let (_, r3) = secret_record(&k, ns, "f", 3).unwrap();
    assert_eq!(r3["info"]["status"], "deployed");
}

/// Waits for `cond` for up to 60 s.
fn eventually(what: &str, cond: impl FnMut() -> bool) {
    common::eventually_within(
        what,
        Duration::from_secs(60),
        Duration::from_millis(200),
        cond,
    );
}

fn spawn_rudder(kc: &str, ns: &str, args: &[&str]) -> Child {
    rudder_cmd(kc, ns, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rudder")
}

fn complete_job(k: &Kube, ns: &str, name: &str) {
    k.merge_patch(
        &obj("batch/v1", "Job", ns, name),
        "status",
        &json!({"status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}}),
    )
    .expect("complete job");
}

#[test]
fn hooks_pending_releases_and_concurrent_upgrades() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("rel-pending");
    let k = kube(&kc);
    create_namespace(&k, ns);
    let c = chart();
    must(rudder(&kc, ns, &["install", "p", &c]), "install");

    // An upgrade whose pre-upgrade Job hook is completed by the test (no controllers here).
    let child = spawn_rudder(&kc, ns, &["upgrade", "p", &c, "--set", "hookJob=true"]);
    eventually("the hook job", || {
        k.get(&obj("batch/v1", "Job", ns, "p-migrate"))
            .unwrap()
            .is_some()
    });
    // While it waits, the release is pending: a concurrent upgrade is refused.
    let second = rudder(&kc, ns, &["upgrade", "p", &c, "--set", "message=second"]);
    assert!(!second.ok);
    assert!(
        second.stderr.contains(
            "UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress"
        ),
        "{}",
        second.stderr
    );
    complete_job(&k, ns, "p-migrate");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("hook-succeeded deletion", || {
        k.get(&obj("batch/v1", "Job", ns, "p-migrate"))
            .unwrap()
            .is_none()
    });
    let (_, r2) = secret_record(&k, ns, "p", 2).unwrap();
    assert_eq!(r2["info"]["status"], "deployed");
    assert_eq!(r2["hooks"].as_array().unwrap().len(), 2);

    // An upgrade killed mid-way leaves a pending-upgrade revision...
    let mut child = spawn_rudder(
        &kc,
        ns,
        &[
            "upgrade",
            "p",
            &c,
            "--set",
            "hookJob=true,message=interrupted",
        ],
    );
    eventually("the interrupted upgrade's record", || {
        secret_record(&k, ns, "p", 3).is_some_and(|(_, r)| r["info"]["status"] == "pending-upgrade")
            && k.get(&obj("batch/v1", "Job", ns, "p-migrate"))
                .unwrap()
                .is_some()
    });
    child.kill().unwrap();
    let _ = child.wait();
    let status = must(rudder(&kc, ns, &["status", "p"]), "status");
    assert!(
        status.contains("STATUS: pending-upgrade\nREVISION: 3\n"),
        "{status}"
    );
    let refused = rudder(&kc, ns, &["upgrade", "p", &c]);
    assert!(refused
        .stderr
        .contains("another operation (install/upgrade/rollback) is in progress"));
    // ...which rollback recovers.
    must(
        rudder(&kc, ns, &["rollback", "p", "2"]),
        "rollback of a pending release",
    );
    let (_, r3) = secret_record(&k, ns, "p", 3).unwrap();
    assert_eq!(r3["info"]["status"], "superseded");
    let (_, r4) = secret_record(&k, ns, "p", 4).unwrap();
    assert_eq!(r4["info"]["status"], "deployed");
    must(
        rudder(&kc, ns, &["upgrade", "p", &c, "--set", "message=after"]),
        "upgrade after recovery",
    );
}

fn set_pod_phase(k: &Kube, ns: &str, name: &str, phase: &str) {
    k.merge_patch(
        &obj("v1", "Pod", ns, name),
        "status",
        &json!({"status": {"phase": phase}}),
    )
    .expect("set pod phase");
}

#[test]
fn test_hooks_run_in_weight_order_and_are_recorded() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("rel-test");
    let k = kube(&kc);
    create_namespace(&k, ns);
    create_default_service_account(&k, ns);
    let c = chart();
    must(
        rudder(&kc, ns, &["install", "t", &c, "--set", "testPods=true"]),
        "install",
    );
    let status = must(rudder(&kc, ns, &["status", "t"]), "status");
    assert!(
        !status.contains("TEST SUITE"),
        "tests not yet run print nothing: {status}"
    );

    // The first test pod succeeds, the second fails (the test plays the kubelet).
    let child = spawn_rudder(&kc, ns, &["test", "t", "--timeout", "60s"]);
    let pod = |name: &str| k.get(&obj("v1", "Pod", ns, name)).unwrap();
    eventually("the first test pod", || pod("t-test-first").is_some());
    assert!(pod("t-test-second").is_none(), "tests run one at a time");
    set_pod_phase(&k, ns, "t-test-first", "Succeeded");
    eventually("the second test pod", || pod("t-test-second").is_some());
    set_pod_phase(&k, ns, "t-test-second", "Failed");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a failed test fails the command");
    assert!(stderr.contains("pod t-test-second failed"), "{stderr}");
    assert!(stdout.starts_with("NAME: t\n"), "{stdout}");
    assert!(
        stdout.contains("TEST SUITE:     t-test-first\n")
            && stdout.contains("TEST SUITE:     t-test-second\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("NOTES:"), "helm test hides the notes");
    let phases: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Phase:"))
        .map(str::trim)
        .collect();
    assert_eq!(phases, ["Succeeded", "Failed"], "{stdout}");
    // hook-succeeded removed the first pod; the failed one stays for inspection.
    eventually("hook-succeeded deletion", || pod("t-test-first").is_none());
    assert!(pod("t-test-second").is_some());

    // The runs are recorded in the release's own revision, which stays deployed.
    let (_, r1) = secret_record(&k, ns, "t", 1).unwrap();
    assert_eq!(r1["info"]["status"], "deployed");
    let runs: Vec<(String, String)> = r1["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["events"] == json!(["test"]))
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_string(),
                h["last_run"]["phase"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        [
            ("t-test-first".to_string(), "Succeeded".to_string()),
            ("t-test-second".to_string(), "Failed".to_string())
        ]
    );
    assert!(
        secret_record(&k, ns, "t", 2).is_none(),
        "test adds no revision"
    );

    // --filter runs only the named test; the other keeps its last run.
    let child = spawn_rudder(
        &kc,
        ns,
        &[
            "test",
            "t",
            "--filter",
            "name=t-test-first",
            "--timeout",
            "60s",
        ],
    );
    eventually("the filtered test pod", || pod("t-test-first").is_some());
    set_pod_phase(&k, ns, "t-test-first", "Succeeded");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = must(rudder(&kc, ns, &["status", "t"]), "status");
    let phases: Vec<&str> = status
        .lines()
        .filter_map(|l| l.strip_prefix("Phase:"))
        .map(str::trim)
        .collect();
    // Helm puts the skipped hooks first in the record, so they print first.
    assert_eq!(phases, ["Failed", "Succeeded"], "{status}");
    let missing = rudder(&kc, ns, &["test", "nope"]);
    assert!(!missing.ok);
    assert!(
        missing.stderr.contains("release: not found"),
        "{}",
        missing.stderr
    );
}

#[test]
fn wait_and_rollback_on_failure() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("rel-wait");
    let k = kube(&kc);
    create_namespace(&k, ns);
    let c = chart();

    // --wait returns once the Deployment reports ready (the test plays the controller).
    let child = spawn_rudder(
        &kc,
        ns,
        &[
            "install",
            "w",
            &c,
            "--set",
            "deployment=true,replicas=2",
            "--wait",
            "--timeout",
            "60s",
        ],
    );
    let dep = obj("apps/v1", "Deployment", ns, "w-web");
    eventually("the deployment", || k.get(&dep).unwrap().is_some());
    std::thread::sleep(Duration::from_millis(800));
    let live = k.get(&dep).unwrap().unwrap();
    assert!(
        secret_record(&k, ns, "w", 1).unwrap().1["info"]["status"] == "pending-install",
        "still waiting"
    );
    k.merge_patch(
        &dep,
        "status",
        &json!({"status": {"observedGeneration": live["metadata"]["generation"], "replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2}}),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "waiting for 1 of 3 resources to be ready: Deployment/w-web (0/2 replicas ready)\n"
        ) && stderr.contains("all 3 resources are ready\n"),
        "{stderr}"
    );

    // --rollback-on-failure: the Deployment never becomes ready, so the install is undone.
    let run = rudder(
        &kc,
        ns,
        &[
            "install",
            "a",
            &c,
            "--set",
            "deployment=true",
            "--wait",
            "--timeout",
            "2s",
            "--rollback-on-failure",
        ],
    );
    assert!(!run.ok);
    assert!(
        run.stderr.contains("INSTALLATION FAILED: release a failed, and has been uninstalled due to rollback-on-failure being set: resources not ready after 2s: Deployment/a-web"),
        "{}",
        run.stderr
    );
    assert!(k
        .get(&obj("apps/v1", "Deployment", ns, "a-web"))
        .unwrap()
        .is_none());
    assert!(secret_record(&k, ns, "a", 1).is_none());
}

/// Runs a Python snippet with real Helm (helm-python-sdk) against the cluster, named as the
/// helm CLI so that its field manager matches; `None` when the SDK is not available.
fn helm_python(kc: &str, script: &str) -> Option<String> {
    let mut cmd = helm_cli_python(&helm_python_path()?);
    cmd.env("KUBECONFIG", kc).args(["-c", script]);
    Some(python_output(cmd))
}

#[test]
fn helm_and_rudder_share_releases() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("rel-interop");
    let k = kube(&kc);
    create_namespace(&k, ns);
    let c = chart();

    // rudder installs and upgrades; Helm lists, reads, upgrades and rolls back.
    must(
        rudder(
            &kc,
            ns,
            &["install", "by-rudder", &c, "--set", "message=from-rudder"],
        ),
        "install",
    );
    must(
        rudder(
            &kc,
            ns,
            &["upgrade", "by-rudder", &c, "--set", "message=again"],
        ),
        "upgrade",
    );
    let script = format!(
        r#"
import json, helm_python as h
c = h.Config(kubeconfig_path={kc:?}, namespace={ns:?})
names = sorted(r["name"] for r in c.list())
hist = [(r["revision"], r["status"]) for r in c.history("by-rudder")]
vals = c.get_values("by-rudder")
c.upgrade({c:?}, "by-rudder", {{"message": "from-helm"}})
c.rollback("by-rudder", version=2)
print(json.dumps({{"names": names, "history": hist, "values": vals}}))
"#
    );
    let Some(out) = helm_python(&kc, &script) else {
        return;
    };
    let seen: Json = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    assert_eq!(seen["names"], json!(["by-rudder"]));
    assert_eq!(seen["history"], json!([[1, "superseded"], [2, "deployed"]]));
    assert_eq!(seen["values"]["message"], "again", "{seen}");
    let history = must(
        rudder(&kc, ns, &["history", "by-rudder", "-o", "json"]),
        "history",
    );
    let rows = common::revisions(&serde_json::from_str(&history).unwrap());
    assert_eq!(
        rows,
        [
            (1, "superseded".into(), "Install complete".into()),
            (2, "superseded".into(), "Upgrade complete".into()),
            (3, "superseded".into(), "Upgrade complete".into()),
            (4, "deployed".into(), "Rollback to 2".into()),
        ]
    );
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "by-rudder-config"))
        .unwrap()
        .unwrap();
    assert_eq!(cm["data"]["message"], "again");

    // Helm installs; rudder lists, upgrades, rolls back and uninstalls.
    let script = format!(
        r#"
import helm_python as h
c = h.Config(kubeconfig_path={kc:?}, namespace={ns:?})
c.install({c:?}, "by-helm", {{"message": "from-helm"}})
"#
    );
    helm_python(&kc, &script);
    let list = must(rudder(&kc, ns, &["list", "-o", "json"]), "list");
    let list: Json = serde_json::from_str(&list).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["by-helm", "by-rudder"]);
    let values = must(rudder(&kc, ns, &["get", "values", "by-helm"]), "get values");
    assert_eq!(values, "USER-SUPPLIED VALUES:\nmessage: from-helm\n");
    must(
        rudder(
            &kc,
            ns,
            &[
                "upgrade",
                "by-helm",
                &c,
                "--reuse-values",
                "--set",
                "extra=true",
            ],
        ),
        "upgrade helm's release",
    );
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "by-helm-config"))
        .unwrap()
        .unwrap();
    assert_eq!(cm["data"]["message"], "from-helm");
    must(
        rudder(&kc, ns, &["rollback", "by-helm"]),
        "rollback helm's release",
    );
    assert!(k
        .get(&obj("v1", "ConfigMap", ns, "by-helm-extra"))
        .unwrap()
        .is_none());
    let script = format!(
        r#"
import json, helm_python as h
c = h.Config(kubeconfig_path={kc:?}, namespace={ns:?})
print(json.dumps([(r["revision"], r["status"]) for r in c.history("by-helm")]))
"#
    );
    let out = helm_python(&kc, &script).unwrap();
    let hist: Json = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        hist,
        json!([[1, "superseded"], [2, "superseded"], [3, "deployed"]])
    );
    must(
        rudder(&kc, ns, &["uninstall", "by-helm"]),
        "uninstall helm's release",
    );
    assert!(k
        .get(&obj("v1", "ConfigMap", ns, "by-helm-config"))
        .unwrap()
        .is_none());
}
