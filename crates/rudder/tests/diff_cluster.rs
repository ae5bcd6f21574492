//! `rudder diff` against a real kube-apiserver (scripts/local-cluster, started by
//! scripts/test, which sets RUDDER_TEST_KUBECONFIG).
//!
//! The expected texts follow databus23/helm-diff v3.15.11, whose output no tool here can
//! produce (it is a Helm plugin binary, not in helm-python-sdk); each expectation names the
//! helm-diff source lines it follows:
//! - object keys `NAMESPACE, NAME, KIND (GROUP)`: manifest/parse.go, `metadata.String`;
//! - report order (changed objects by key, then removed, then added): diff/diff.go,
//!   `generateReport`;
//! - headers `KEY has changed:` / `has been added:` / `has been removed:` and the simple
//!   format's `to be changed.` lines and `Plan:` line: diff/report.go, `setupDiffReport`,
//!   `setupSimpleReport`, `printSimpleReport`;
//! - line prefixes `+ `, `- `, two spaces, and an empty line for an empty common line:
//!   diff/diff.go, `printDiffRecord`; `...` for elided context: `printDiffRecords`;
//! - Secret values masked as `REDACTED # (N bytes)` / `-------- # (N bytes)` /
//!   `++++++++ # (N bytes)`, the Secret re-serialised with sorted keys: diff/diff.go,
//!   `redactSecrets`;
//! - exit status 2 with `--detailed-exitcode` when something changed: cmd/upgrade.go.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn kubeconfig() -> Option<String> {
    common::test_kubeconfig()
}

fn rudder(kubeconfig: &str, ns: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rudder"))
        .env("KUBECONFIG", kubeconfig)
        .env_remove("HELM_DRIVER")
        .env_remove("HELM_DIFF_OUTPUT")
        .env_remove("HELM_DIFF_COLOR")
        .env_remove("HELM_DIFF_OUTPUT_CONTEXT")
        .args(args)
        .args(["-n", ns])
        .output()
        .expect("run rudder")
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A chart with a Deployment (replicas from values), an optional ConfigMap and Service,
/// and a Secret whose password comes from values.
fn write_chart(dir: &Path) {
    let t = dir.join("templates");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("values.yaml"),
        "replicas: 1\nconfig: false\nservice: true\npassword: s3cret\n",
    )
    .unwrap();
    std::fs::write(
        t.join("deployment.yaml"),
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
",
    )
    .unwrap();
    std::fs::write(
        t.join("configmap.yaml"),
        "{{- if .Values.config }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  mode: fast
{{- end }}
",
    )
    .unwrap();
    std::fs::write(
        t.join("service.yaml"),
        "{{- if .Values.service }}
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      protocol: TCP
{{- end }}
",
    )
    .unwrap();
    std::fs::write(
        t.join("secret.yaml"),
        "apiVersion: v1
kind: Secret
metadata:
  name: web-auth
type: Opaque
data:
  password: {{ .Values.password | b64enc }}
  user: {{ \"admin\" | b64enc }}
",
    )
    .unwrap();
}

fn setup(prefix: &str) -> Option<(String, String, tempfile::TempDir)> {
    let kc = kubeconfig()?;
    let ns = format!("{prefix}-{}", std::process::id());
    ok(
        Command::new(env!("CARGO_BIN_EXE_rudder"))
            .env("KUBECONFIG", &kc)
            .args(["install", "diff-web", "--create-namespace", "-n", &ns])
            .arg({
                let dir = tempfile::tempdir().unwrap();
                write_chart(dir.path());
                let p = dir.path().to_path_buf();
                std::mem::forget(dir);
                p
            })
            .output()
            .unwrap(),
        "install",
    );
    let chart = tempfile::tempdir().unwrap();
    write_chart(chart.path());
    Some((kc, ns, chart))
}

#[test]
fn diff_upgrade_shows_exactly_the_changes_with_secrets_masked() {
    let Some((kc, ns, chart)) = setup("diff-upgrade") else {
        return;
    };
    let chart_path = chart.path().to_str().unwrap();
    let changes = [
        "--set",
        "replicas=3",
        "--set",
        "config=true",
        "--set",
        "service=false",
        "--set",
        "password=n3w",
    ];
    let mut args = vec!["diff", "upgrade", "diff-web", chart_path, "--no-color"];
    args.extend(changes);
    let out = ok(rudder(&kc, &ns, &args), "diff upgrade");
    let expected = format!(
        "{ns}, web, Deployment (apps) has changed:
  # Source: web/templates/deployment.yaml
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
  spec:
-   replicas: 1
+   replicas: 3
    selector:
      matchLabels:
        app: web
    template:
      metadata:
        labels:
          app: web
      spec:
        containers:
          - name: web
            image: nginx:1.27
{ns}, web-auth, Secret (v1) has changed:
  # Source: web/templates/secret.yaml
  apiVersion: v1
  kind: Secret
  metadata:
    name: web-auth
  data:
-   password: '-------- # (6 bytes)'
+   password: '++++++++ # (3 bytes)'
    user: 'REDACTED # (5 bytes)'
  type: Opaque

{ns}, web, Service (v1) has been removed:
- # Source: web/templates/service.yaml
- apiVersion: v1
- kind: Service
- metadata:
-   name: web
- spec:
-   selector:
-     app: web
-   ports:
-     - port: 80
-       protocol: TCP
+ 
{ns}, web-config, ConfigMap (v1) has been added:
- 
+ # Source: web/templates/configmap.yaml
+ apiVersion: v1
+ kind: ConfigMap
+ metadata:
+   name: web-config
+ data:
+   mode: fast
"
    );
    assert_eq!(out, expected);
    assert!(!out.contains("s3cret") && !out.contains("czNjcmV0"));

    // The simple format: one line per object and the plan.
    let mut args = vec![
        "diff",
        "upgrade",
        "diff-web",
        chart_path,
        "--no-color",
        "--output",
        "simple",
    ];
    args.extend(changes);
    let out = ok(rudder(&kc, &ns, &args), "diff upgrade --output simple");
    assert_eq!(
        out,
        format!(
            "{ns}, web, Deployment (apps) to be changed.
{ns}, web-auth, Secret (v1) to be changed.
{ns}, web, Service (v1) to be removed.
{ns}, web-config, ConfigMap (v1) to be added.
Plan: 1 to add, 2 to change, 1 to destroy, 0 to change ownership.
"
        )
    );

    // The structured format: one JSON record per object, a modification with its changed
    // fields, Secret values masked (helm-diff v3.15.11 diff/structured.go
    // `buildStructuredEntry`, `populateMetadata` (namespace from the key when the manifest
    // names none), `calculateFieldChanges`; diff/report.go `printStructuredReport`: a
    // json.Encoder with two-space indent; diff/diff.go `doDiff` masks before building).
    let out = ok(
        rudder(&kc, &ns, &with_output(chart_path, "structured", &changes)),
        "diff upgrade --output structured",
    );
    let record = |kind: &str, api: &str, name: &str, change: &str, old: bool, new: bool| {
        format!(
            "  {{
    \"apiVersion\": \"{api}\",
    \"kind\": \"{kind}\",
    \"namespace\": \"{ns}\",
    \"name\": \"{name}\",
    \"changeType\": \"{change}\",
    \"resourceStatus\": {{
      \"oldExists\": {old},
      \"newExists\": {new}
    }}"
        )
    };
    let field = |path: &str, field: &str, old: &str, new: &str| {
        format!(
            ",
    \"changes\": [
      {{
        \"path\": \"{path}\",
        \"field\": \"{field}\",
        \"change\": \"replace\",
        \"oldValue\": {old},
        \"newValue\": {new}
      }}
    ]"
        )
    };
    let expected = format!(
        "[\n{}{}\n  }},\n{}{}\n  }},\n{}\n  }},\n{}\n  }}\n]\n",
        record("Deployment", "apps/v1", "web", "MODIFY", true, true),
        field("spec", "replicas", "1", "3"),
        record("Secret", "v1", "web-auth", "MODIFY", true, true),
        field(
            "data",
            "password",
            "\"-------- # (6 bytes)\"",
            "\"++++++++ # (3 bytes)\""
        ),
        record("Service", "v1", "web", "REMOVE", true, false),
        record("ConfigMap", "v1", "web-config", "ADD", false, true),
    );
    assert_eq!(out, expected);
    // --suppress-secrets: the Secret's record says its changes are suppressed and lists none.
    let mut args = with_output(chart_path, "structured", &changes);
    args.push("--suppress-secrets");
    let out = ok(
        rudder(&kc, &ns, &args),
        "diff upgrade --output structured -q",
    );
    let secret = format!(
        "{},\n    \"changesSuppressed\": true\n  }}",
        record("Secret", "v1", "web-auth", "MODIFY", true, true)
    );
    assert!(out.contains(&secret), "{out}");
    assert!(!out.contains("bytes)"), "{out}");

    // The dyff format: dyff v1.12.0's human report without its banner, as helm-diff prints it
    // (diff/report.go `printDyffReport`: Kubernetes entity detection, whitespace changes
    // ignored, minor change threshold 0.1). Documents are matched by apiVersion/kind/name and
    // named after the path when there are several (dyff pkg/dyff/core.go `documentNodes`,
    // `pathToString`); a changed value is `± value change` with `-`/`+` lines, a removed or
    // added document its YAML (output_human.go `generateHumanDetailOutput*`); documents not
    // in the same places in both streams give a file-level order change, printed as two
    // columns when the names do not fit half the 80-column width (`CreateTableStyleString`).
    let out = ok(
        rudder(&kc, &ns, &with_output(chart_path, "dyff", &changes)),
        "diff upgrade --output dyff",
    );
    assert_eq!(
        out,
        "
spec.replicas  (apps/v1/Deployment/web)
± value change
- 1
+ 3

data.password  (v1/Secret/web-auth)
± value change
- -------- # (6 bytes)
+ ++++++++ # (3 bytes)

(root level)  (v1/Service/web)
- one document removed:
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    protocol: TCP

(root level)  (v1/ConfigMap/web-config)
+ one document added:
# Source: web/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  mode: fast

(file level)
⇆ order changed
  apps/v1/Deployment/web   apps/v1/Deployment/web
  v1/Secret/web-auth       v1/Secret/web-auth
  v1/Service/web           v1/ConfigMap/web-config
"
    );
    assert!(!out.contains("s3cret") && !out.contains("czNjcmV0"));
    // --detailed-exitcode counts the changes whatever the format.
    for format in ["structured", "dyff"] {
        let mut args = with_output(chart_path, format, &changes);
        args.push("--detailed-exitcode");
        assert_eq!(rudder(&kc, &ns, &args).status.code(), Some(2), "{format}");
    }

    // Nothing was changed by the diff: the release still has one revision.
    let history = ok(
        rudder(&kc, &ns, &["history", "diff-web", "-o", "json"]),
        "history",
    );
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1);
}

/// `diff upgrade diff-web CHART --no-color --output FORMAT CHANGES...`.
fn with_output<'a>(chart: &'a str, format: &'a str, changes: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "diff",
        "upgrade",
        "diff-web",
        chart,
        "--no-color",
        "--output",
        format,
    ];
    args.extend(changes);
    args
}

#[test]
fn detailed_exitcode_is_0_without_changes_2_with_and_1_on_error() {
    let Some((kc, ns, chart)) = setup("diff-exit") else {
        return;
    };
    let chart_path = chart.path().to_str().unwrap();
    let same = rudder(
        &kc,
        &ns,
        &[
            "diff",
            "upgrade",
            "diff-web",
            chart_path,
            "--detailed-exitcode",
        ],
    );
    assert_eq!(same.status.code(), Some(0), "{same:?}");
    assert!(same.stdout.is_empty());
    let changed = rudder(
        &kc,
        &ns,
        &[
            "diff",
            "upgrade",
            "diff-web",
            chart_path,
            "--detailed-exitcode",
            "--set",
            "replicas=2",
        ],
    );
    assert_eq!(changed.status.code(), Some(2), "{changed:?}");
    assert!(String::from_utf8_lossy(&changed.stdout).contains("+   replicas: 2"));
    let failed = rudder(
        &kc,
        &ns,
        &[
            "diff",
            "upgrade",
            "diff-web",
            "/nonexistent/chart",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
}

#[test]
fn diff_revision_and_rollback_compare_stored_revisions() {
    let Some((kc, ns, chart)) = setup("diff-rev") else {
        return;
    };
    let chart_path = chart.path().to_str().unwrap();
    ok(
        rudder(
            &kc,
            &ns,
            &["upgrade", "diff-web", chart_path, "--set", "replicas=4"],
        ),
        "upgrade",
    );
    let rev = ok(
        rudder(
            &kc,
            &ns,
            &["diff", "revision", "diff-web", "1", "2", "-C", "1"],
        ),
        "diff revision",
    );
    assert_eq!(
        rev,
        format!(
            "{ns}, web, Deployment (apps) has changed:
...
  spec:
-   replicas: 1
+   replicas: 4
    selector:
...
"
        )
    );
    // A rollback to revision 1 undoes exactly that.
    let back = ok(
        rudder(&kc, &ns, &["diff", "rollback", "diff-web", "-C", "0"]),
        "diff rollback",
    );
    assert_eq!(
        back,
        format!(
            "{ns}, web, Deployment (apps) has changed:
...
-   replicas: 4
+   replicas: 1
...
"
        )
    );
}

#[test]
fn an_unreleased_release_needs_allow_unreleased() {
    let Some(kc) = kubeconfig() else {
        return;
    };
    let ns = format!("diff-new-{}", std::process::id());
    let chart = tempfile::tempdir().unwrap();
    write_chart(chart.path());
    let chart_path = chart.path().to_str().unwrap();
    let refused = rudder(&kc, &ns, &["diff", "upgrade", "nothing-here", chart_path]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-unreleased"));
    let out = ok(
        rudder(
            &kc,
            &ns,
            &[
                "diff",
                "upgrade",
                "nothing-here",
                chart_path,
                "--allow-unreleased",
                "--output",
                "simple",
                "--no-color",
            ],
        ),
        "diff upgrade --allow-unreleased",
    );
    assert!(out.ends_with("Plan: 3 to add, 0 to change, 0 to destroy, 0 to change ownership.\n"));
    // The secret is masked on the added side too.
    let full = ok(
        rudder(
            &kc,
            &ns,
            &[
                "diff",
                "upgrade",
                "nothing-here",
                chart_path,
                "--install",
                "--no-color",
            ],
        ),
        "diff upgrade --install",
    );
    assert!(full.contains("+   password: '++++++++ # (6 bytes)'"));
}

fn kubectl(kubeconfig: &str, ns: &str, args: &[&str]) {
    let out = Command::new("kubectl")
        .args(["--kubeconfig", kubeconfig, "-n", ns])
        .args(args)
        .output()
        .expect("kubectl (scripts/local-cluster installs it)");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn drift_names_the_changed_fields_their_manager_and_deleted_objects() {
    let Some((kc, ns, _chart)) = setup("diff-drift") else {
        return;
    };
    // Right after the install nothing has drifted.
    let clean = rudder(
        &kc,
        &ns,
        &["diff", "drift", "diff-web", "--detailed-exitcode"],
    );
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    assert!(clean.stdout.is_empty(), "{clean:?}");

    // A patch, as `kubectl edit` makes one (kube-apiserver 1.20 records no field manager for
    // changes through the scale subresource, so `kubectl scale` would show without a name).
    kubectl(
        &kc,
        &ns,
        &[
            "patch",
            "deployment",
            "web",
            "-p",
            r#"{"spec":{"replicas":5}}"#,
        ],
    );
    kubectl(&kc, &ns, &["delete", "service", "web"]);
    let drift = rudder(
        &kc,
        &ns,
        &[
            "diff",
            "drift",
            "diff-web",
            "--detailed-exitcode",
            "-C",
            "0",
            "--no-color",
        ],
    );
    assert_eq!(drift.status.code(), Some(2), "{drift:?}");
    let text = String::from_utf8_lossy(&drift.stdout);
    let deployment = format!("{ns}, web, Deployment (apps) has drifted (changed by kubectl");
    assert!(text.contains(&deployment), "{text}");
    assert!(
        text.contains("-   replicas: 1\n+   replicas: 5\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{ns}, web, Service (v1) has been deleted.\n")),
        "{text}"
    );
    // The ConfigMap-free chart's Secret and the untouched objects are not reported.
    assert!(!text.contains("web-auth"), "{text}");

    // Drift is rudder's own, so helm-diff has no structured or dyff output for it: the same
    // records and reports as for an upgrade that would undo it, DRIFTED (the live object as
    // the new side) and DELETED (the applied object as the old side).
    let structured = ok(
        rudder(
            &kc,
            &ns,
            &["diff", "drift", "diff-web", "--output", "structured"],
        ),
        "diff drift --output structured",
    );
    let changes: serde_json::Value = serde_json::from_str(&structured).unwrap();
    let records = changes.as_array().unwrap();
    assert_eq!(records.len(), 2, "{structured}");
    // In the release's manifest order: the Service before the Deployment.
    let (deleted, drifted) = (&records[0], &records[1]);
    assert_eq!(drifted["changeType"], "DRIFTED", "{structured}");
    assert_eq!(drifted["kind"], "Deployment");
    assert_eq!(
        drifted["changes"],
        serde_json::json!([{"path": "spec", "field": "replicas", "change": "replace", "oldValue": 1, "newValue": 5}]),
        "{structured}"
    );
    assert_eq!(deleted["changeType"], "DELETED");
    assert_eq!(
        (&deleted["kind"], &deleted["name"]),
        (&"Service".into(), &"web".into())
    );
    assert_eq!(deleted["resourceStatus"]["oldExists"], true);
    assert_eq!(deleted["resourceStatus"]["newExists"], false);
    let dyff = ok(
        rudder(&kc, &ns, &["diff", "drift", "diff-web", "--output", "dyff"]),
        "diff drift --output dyff",
    );
    // The live objects name their namespace, so the document's name has it.
    assert!(
        dyff.contains(&format!(
            "\nspec.replicas  (apps/v1/Deployment/{ns}/web)\n± value change\n- 1\n+ 5\n"
        )),
        "{dyff}"
    );
    assert!(
        dyff.contains("\n(root level)  (v1/Service/web)\n- one document removed:\napiVersion: v1\nkind: Service\n"),
        "{dyff}"
    );
}

#[test]
fn status_drift_and_upgrade_diff_print_the_plan_and_the_drift() {
    let Some((kc, ns, chart)) = setup("diff-status") else {
        return;
    };
    let chart_path = chart.path().to_str().unwrap();
    let status = ok(
        rudder(&kc, &ns, &["status", "diff-web", "--drift"]),
        "status --drift",
    );
    assert!(
        status.ends_with("DRIFT:\nnone: every object is as the release applied it\n"),
        "{status}"
    );
    // upgrade --diff prints the plan, then upgrades (no terminal: no question asked).
    let upgraded = ok(
        rudder(
            &kc,
            &ns,
            &[
                "upgrade",
                "diff-web",
                chart_path,
                "--diff",
                "--confirm",
                "--set",
                "replicas=2",
            ],
        ),
        "upgrade --diff",
    );
    assert!(
        upgraded.starts_with(&format!("{ns}, web, Deployment (apps) has changed:\n")),
        "{upgraded}"
    );
    assert!(
        upgraded.contains("-   replicas: 1\n+   replicas: 2\n"),
        "{upgraded}"
    );
    assert!(upgraded.contains("has been upgraded"), "{upgraded}");
    kubectl(&kc, &ns, &["delete", "secret", "web-auth"]);
    let status = ok(
        rudder(&kc, &ns, &["status", "diff-web", "--drift"]),
        "status --drift",
    );
    assert!(
        status.ends_with(&format!(
            "DRIFT:\n{ns}, web-auth, Secret (v1) has been deleted.\n"
        )),
        "{status}"
    );
}

#[test]
fn three_way_merge_compares_with_the_live_objects() {
    let Some((kc, ns, chart)) = setup("diff-3way") else {
        return;
    };
    let chart_path = chart.path().to_str().unwrap();
    kubectl(
        &kc,
        &ns,
        &[
            "patch",
            "deployment",
            "web",
            "-p",
            r#"{"spec":{"replicas":5}}"#,
        ],
    );
    // Against the release's manifest nothing changes...
    let two_way = ok(
        rudder(
            &kc,
            &ns,
            &["diff", "upgrade", "diff-web", chart_path, "--no-color"],
        ),
        "diff upgrade",
    );
    assert_eq!(two_way, "");
    // ...but the upgrade would set the live 5 replicas back to 1.
    let three_way = ok(
        rudder(
            &kc,
            &ns,
            &[
                "diff",
                "upgrade",
                "diff-web",
                chart_path,
                "--no-color",
                "--three-way-merge",
                "-C",
                "0",
            ],
        ),
        "diff upgrade --three-way-merge",
    );
    assert_eq!(
        three_way,
        format!("{ns}, web, Deployment (apps) has changed:\n...\n-   replicas: 5\n+   replicas: 1\n...\n")
    );
}

#[test]
fn take_ownership_lists_objects_taken_from_their_owner() {
    let Some((kc, ns, chart)) = setup("diff-owner") else {
        return;
    };
    // A ConfigMap made by hand, which the chart's config=true would take over.
    kubectl(
        &kc,
        &ns,
        &[
            "create",
            "configmap",
            "web-config",
            "--from-literal=mode=slow",
        ],
    );
    let out = ok(
        rudder(
            &kc,
            &ns,
            &[
                "diff",
                "upgrade",
                "diff-web",
                chart.path().to_str().unwrap(),
                "--take-ownership",
                "--set",
                "config=true",
                "--no-color",
                "--output",
                "simple",
            ],
        ),
        "diff upgrade --take-ownership",
    );
    assert_eq!(
        out,
        format!(
            "{ns}, web-config, ConfigMap (v1) to change ownership.
{ns}, web-config, ConfigMap (v1) to be changed.
Plan: 0 to add, 1 to change, 0 to destroy, 1 to change ownership.
"
        )
    );
    let full = ok(
        rudder(
            &kc,
            &ns,
            &[
                "diff",
                "upgrade",
                "diff-web",
                chart.path().to_str().unwrap(),
                "--take-ownership",
                "--set",
                "config=true",
                "--no-color",
            ],
        ),
        "diff upgrade --take-ownership",
    );
    assert!(
        full.starts_with(&format!(
            "{ns}, web-config, ConfigMap (v1) changed ownership:\n- \n+ {ns}/diff-web\n"
        )),
        "{full}"
    );
    // The live object (status and volatile metadata left out, keys sorted) against the render.
    assert!(full.contains("\n-   mode: slow\n"), "{full}");
    assert!(full.contains("\n+   mode: fast\n"), "{full}");
    assert!(full.contains(&format!("\n-   namespace: {ns}\n")), "{full}");
}

/// A chart whose ConfigMap branches on `.Capabilities.KubeVersion` and
/// `.Capabilities.APIVersions.Has`.
fn write_capabilities_chart(dir: &Path) {
    let t = dir.join("templates");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        t.join("cm.yaml"),
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
{{- if .Capabilities.APIVersions.Has \"example.com/v1\" }}
  example: \"served\"
{{- end }}
",
    )
    .unwrap();
}

/// `--kube-version` and `--api-versions` reach the render's `.Capabilities` when it is
/// client-side (`--disable-validation`, `--dry-run[=client]`), as helm-diff v3.15.11 passes
/// them to `helm template` (cmd/helm.go lines 370-376, `--dry-run=server` left out per
/// lines 347-358 and 389-409); a render against the cluster takes the cluster's
/// capabilities and ignores them (Helm v4.2.3 pkg/action/install.go lines 329-344).
#[test]
fn kube_version_and_api_versions_feed_a_client_side_render() {
    let Some(kc) = kubeconfig() else {
        return;
    };
    let ns = format!("diff-caps-{}", std::process::id());
    let chart = tempfile::tempdir().unwrap();
    write_capabilities_chart(chart.path());
    let chart_path = chart.path().to_str().unwrap();
    ok(
        Command::new(env!("CARGO_BIN_EXE_rudder"))
            .env("KUBECONFIG", &kc)
            .args([
                "install",
                "caps",
                chart_path,
                "--create-namespace",
                "-n",
                &ns,
            ])
            .output()
            .unwrap(),
        "install",
    );
    let caps = [
        "--kube-version",
        "1.31.2",
        "-a",
        "example.com/v1",
        "--no-color",
    ];
    let mut args = vec![
        "diff",
        "upgrade",
        "caps",
        chart_path,
        "--disable-validation",
    ];
    args.extend(caps);
    let out = ok(rudder(&kc, &ns, &args), "diff upgrade --disable-validation");
    assert!(
        out.starts_with(&format!("{ns}, caps, ConfigMap (v1) has changed:\n")),
        "{out}"
    );
    assert!(out.contains("\n+   kube: \"v1.31.2\"\n"), "{out}");
    assert!(out.contains("\n+   example: \"served\"\n"), "{out}");
    assert!(out.contains("\n-   kube: \"v1."), "{out}");

    // Rendered against the cluster, the flags are ignored: nothing changes.
    let mut args = vec!["diff", "upgrade", "caps", chart_path, "--detailed-exitcode"];
    args.extend(caps);
    let out = rudder(&kc, &ns, &args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");

    // --dry-run=client: no cluster access, the chart diffs as an install.
    let mut args = vec!["diff", "upgrade", "caps", chart_path, "--dry-run=client"];
    args.extend(caps);
    let out = ok(rudder(&kc, &ns, &args), "diff upgrade --dry-run=client");
    assert!(
        out.contains("caps, ConfigMap (v1) has been added:\n"),
        "{out}"
    );
    assert!(out.contains("\n+   kube: \"v1.31.2\"\n"), "{out}");
    assert!(out.contains("\n+   example: \"served\"\n"), "{out}");

    // A malformed version is refused as helm template refuses it.
    let out = rudder(
        &kc,
        &ns,
        &[
            "diff",
            "upgrade",
            "caps",
            chart_path,
            "--kube-version",
            "one.two",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid kube version 'one.two'"),
        "{out:?}"
    );
}

/// `diff upgrade --post-renderer NAME --post-renderer-args ARG`: helm-diff passes both to
/// the render (v3.15.11 cmd/helm.go lines 209-214); under Helm v4 the name is a
/// `postrenderer/v1` plugin's. A plugin that adds a label makes the diff show the label.
#[test]
fn post_renderer_plugin_output_is_what_the_diff_compares() {
    use std::os::unix::fs::PermissionsExt;
    let Some(kc) = kubeconfig() else {
        return;
    };
    let ns = format!("diff-post-{}", std::process::id());
    let home = tempfile::tempdir().unwrap();
    let chart = home.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: post\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        // Keys in sorted order: rudder's post-render writes them sorted (post_render.rs
        // module doc), so the label is the only difference.
        "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: post\n",
    )
    .unwrap();
    let plugin = home.path().join("src/label");
    std::fs::create_dir_all(&plugin).unwrap();
    std::fs::write(
        plugin.join("plugin.yaml"),
        "apiVersion: v1\nname: label\ntype: postrenderer/v1\nruntime: subprocess\nversion: 0.1.0\nruntimeConfig:\n  platformCommand:\n  - command: ${HELM_PLUGIN_DIR}/run.sh\n",
    )
    .unwrap();
    // Inserts `labels: {post: ARG}` before each top-level object's name.
    std::fs::write(
        plugin.join("run.sh"),
        "#!/bin/sh\nsed \"s/^  name: /  labels:\\n    post: $1\\n  name: /\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        plugin.join("run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rudder"))
            .env("KUBECONFIG", &kc)
            .env("HELM_DATA_HOME", home.path().join("data"))
            .env("HELM_CONFIG_HOME", home.path().join("config"))
            .env("HELM_CACHE_HOME", home.path().join("cache"))
            .env_remove("HELM_PLUGINS")
            .env_remove("HELM_NO_PLUGINS")
            .env_remove("HELM_DRIVER")
            .env_remove("HELM_DIFF_OUTPUT")
            .env_remove("HELM_DIFF_OUTPUT_CONTEXT")
            .args(args)
            .args(["-n", &ns])
            .output()
            .expect("run rudder")
    };
    ok(
        run(&["plugin", "install", plugin.to_str().unwrap()]),
        "plugin install",
    );
    let chart = chart.to_str().unwrap();
    ok(
        run(&["install", "post", chart, "--create-namespace"]),
        "install",
    );
    let out = ok(
        run(&[
            "diff",
            "upgrade",
            "post",
            chart,
            "--post-renderer",
            "label",
            "--post-renderer-args",
            "blue",
            "--no-color",
        ]),
        "diff upgrade --post-renderer",
    );
    assert_eq!(
        out,
        format!(
            "{ns}, post, ConfigMap (v1) has changed:\n  # Source: post/templates/cm.yaml\n  apiVersion: v1\n  data:\n    k: v\n  kind: ConfigMap\n  metadata:\n+   labels:\n+     post: blue\n    name: post\n"
        )
    );
    // A name that is no postrenderer plugin is refused as Helm refuses it.
    let out = run(&["diff", "upgrade", "post", chart, "--post-renderer", "nope"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "invalid argument \"nope\" for \"--post-renderer\" flag: plugin: {Name:nope Type:postrenderer/v1} not found"
        ),
        "{out:?}"
    );
}
