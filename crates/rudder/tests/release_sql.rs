//! Releases recorded in PostgreSQL (`HELM_DRIVER=sql`): rudder install, upgrade, history,
//! rollback, list and uninstall against the local kube-apiserver (RUDDER_TEST_KUBECONFIG) and
//! a real PostgreSQL (RUDDER_TEST_POSTGRES, from scripts/postgres), and real Helm
//! (helm-python-sdk through RUDDER_HELM_PYTHON) reading and writing the same database.
//! scripts/test sets all three.

mod common;
use common::{env_or_skip, helm_cli_python, helm_python_path, python_output, revisions};
#[path = "../../storage/tests/support/postgres_db.rs"]
mod postgres_db;
use postgres_db::fresh_database;

use std::path::Path;
use std::process::{Command, Output};

use postgres::{Client, NoTls};
use rudder_kube::{ConnectOptions, Kube, ObjectRef};
use serde_json::{json, Value as Json};

fn chart() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/charts/release-demo")
        .to_string_lossy()
        .into_owned()
}

struct Env {
    kubeconfig: String,
    db: String,
}

impl Env {
    fn rudder(&self, ns: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rudder"))
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_DRIVER", "sql")
            .env("HELM_DRIVER_SQL_CONNECTION_STRING", &self.db)
            .args(args)
            .args(["-n", ns])
            .output()
            .expect("run rudder")
    }

    fn must(&self, ns: &str, args: &[&str]) -> String {
        let out = self.rudder(ns, args);
        assert!(
            out.status.success(),
            "rudder {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&self, ns: &str, args: &[&str]) -> Json {
        serde_json::from_str(&self.must(ns, args)).expect("JSON output")
    }

    /// Runs Python with helm-python-sdk, with Helm's SQL driver on our database.
    fn helm(&self, script: &str) -> Option<String> {
        // As in release_cluster.rs: Helm's field manager is argv[0], so run as "helm".
        let mut cmd = helm_cli_python(&helm_python_path()?);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_DRIVER_SQL_CONNECTION_STRING", &self.db)
            .args(["-c", script]);
        Some(python_output(cmd))
    }

    /// `(version, status)` of each row of `name` in `releases_v1`.
    fn rows(&self, ns: &str, name: &str) -> Vec<(i32, String)> {
        let mut client = Client::connect(&self.db, NoTls).unwrap();
        client
            .query(
                "SELECT version, status FROM releases_v1 WHERE namespace = $1 AND name = $2 ORDER BY version",
                &[&ns, &name],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }
}

fn config_message(k: &Kube, ns: &str, name: &str) -> Option<String> {
    k.get(&ObjectRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: ns.into(),
        name: name.into(),
    })
    .unwrap()
    .map(|cm| {
        cm["data"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    })
}

#[test]
fn releases_in_postgres_shared_with_helm() {
    let Some(kubeconfig) = env_or_skip(
        "RUDDER_TEST_KUBECONFIG",
        "scripts/test starts a local control plane",
    ) else {
        return;
    };
    let Some(server) = env_or_skip(
        "RUDDER_TEST_POSTGRES",
        "scripts/test starts PostgreSQL with scripts/postgres",
    ) else {
        return;
    };
    let env = Env {
        kubeconfig,
        db: fresh_database(&server, "release_sql"),
    };
    let ns = &format!("rel-sql-{}", std::process::id());
    let k = Kube::connect(&ConnectOptions {
        kubeconfig: Some(env.kubeconfig.clone().into()),
        ..ConnectOptions::default()
    })
    .unwrap();
    let _ = k.create(
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        "",
    );
    let c = chart();

    // rudder's lifecycle, recorded in the database and not in Secrets.
    env.must(ns, &["install", "demo", &c, "--set", "message=one"]);
    env.must(ns, &["upgrade", "demo", &c, "--set", "message=two"]);
    assert_eq!(
        config_message(&k, ns, "demo-config").as_deref(),
        Some("two")
    );
    env.must(ns, &["rollback", "demo", "1"]);
    assert_eq!(
        config_message(&k, ns, "demo-config").as_deref(),
        Some("one")
    );
    let history = env.json(ns, &["history", "demo", "-o", "json"]);
    assert_eq!(
        revisions(&history),
        [
            (1, "superseded".into(), "Install complete".into()),
            (2, "superseded".into(), "Upgrade complete".into()),
            (3, "deployed".into(), "Rollback to 1".into()),
        ]
    );
    assert_eq!(
        env.rows(ns, "demo"),
        [
            (1, "superseded".into()),
            (2, "superseded".into()),
            (3, "deployed".into())
        ]
    );
    assert!(k.list("v1", "Secret", ns, "owner=helm").unwrap().is_empty());
    let values = env.must(ns, &["get", "values", "demo"]);
    assert_eq!(values, "USER-SUPPLIED VALUES:\nmessage: one\n");

    // Helm reads rudder's records, upgrades, and installs a release of its own.
    let script = format!(
        r#"
import json, helm_python as h
c = h.Config(namespace={ns:?}, storage_driver="sql")
hist = [(r["revision"], r["status"]) for r in c.history("demo")]
vals = c.get_values("demo")
c.upgrade({c:?}, "demo", {{"message": "from-helm"}})
c.install({c:?}, "by-helm", {{"message": "helm-owned"}}, labels={{"team": "blue"}})
print(json.dumps({{"history": hist, "values": vals}}))
"#
    );
    let Some(out) = env.helm(&script) else { return };
    let seen: Json = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    assert_eq!(
        seen["history"],
        json!([[1, "superseded"], [2, "superseded"], [3, "deployed"]])
    );
    assert_eq!(seen["values"], json!({"message": "one"}));

    // rudder reads Helm's records.
    let history = env.json(ns, &["history", "demo", "-o", "json"]);
    assert_eq!(
        revisions(&history).last().unwrap(),
        &(4, "deployed".into(), "Upgrade complete".into())
    );
    assert_eq!(
        env.must(ns, &["get", "values", "demo"]),
        "USER-SUPPLIED VALUES:\nmessage: from-helm\n"
    );
    // Pruning to --history-max goes through the database too.
    env.must(
        ns,
        &[
            "upgrade",
            "demo",
            &c,
            "--reuse-values",
            "--history-max",
            "2",
        ],
    );
    assert_eq!(
        env.rows(ns, "demo"),
        [(4, "superseded".into()), (5, "deployed".into())]
    );
    let list = env.json(ns, &["list", "-o", "json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["by-helm", "demo"]);
    let all = env.json(ns, &["list", "-A", "-o", "json"]);
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let mut client = Client::connect(&env.db, NoTls).unwrap();
    let label: String = client
        .query_one(
            "SELECT value FROM custom_labels_v1 WHERE releasenamespace = $1 AND key = 'team'",
            &[ns],
        )
        .unwrap()
        .get(0);
    assert_eq!(label, "blue");

    // rudder upgrades and uninstalls Helm's release; Helm sees the result.
    env.must(
        ns,
        &[
            "upgrade",
            "by-helm",
            &c,
            "--reuse-values",
            "--set",
            "extra=true",
        ],
    );
    assert_eq!(
        config_message(&k, ns, "by-helm-config").as_deref(),
        Some("helm-owned")
    );
    let script = format!(
        r#"
import json, helm_python as h
c = h.Config(namespace={ns:?}, storage_driver="sql")
print(json.dumps([(r["revision"], r["status"]) for r in c.history("by-helm")]))
"#
    );
    let hist: Json = serde_json::from_str(env.helm(&script).unwrap().trim()).unwrap();
    assert_eq!(hist, json!([[1, "superseded"], [2, "deployed"]]));
    env.must(ns, &["uninstall", "by-helm"]);
    assert!(env.rows(ns, "by-helm").is_empty());
    assert_eq!(config_message(&k, ns, "by-helm-config"), None);
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM custom_labels_v1 WHERE releasenamespace = $1",
            &[ns],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the labels of the uninstalled release remain");
    let script = format!(
        r#"
import json, helm_python as h
c = h.Config(namespace={ns:?}, storage_driver="sql")
print(json.dumps(sorted(r["name"] for r in c.list(all_states=True))))
"#
    );
    let names: Json = serde_json::from_str(env.helm(&script).unwrap().trim()).unwrap();
    assert_eq!(names, json!(["demo"]));
}

#[test]
fn unreachable_database_is_an_error() {
    let Some(kubeconfig) = env_or_skip(
        "RUDDER_TEST_KUBECONFIG",
        "scripts/test starts a local control plane",
    ) else {
        return;
    };
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = Env {
        kubeconfig,
        db: format!("postgres://nobody@127.0.0.1:{port}/none?sslmode=disable"),
    };
    let out = env.rudder("default", &["list"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unable to instantiate SQL driver"),
        "{stderr}"
    );
}
