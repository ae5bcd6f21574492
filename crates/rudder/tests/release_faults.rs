//! Release history under faults, against a real kube-apiserver (scripts/local-cluster;
//! scripts/test sets RUDDER_TEST_KUBECONFIG) and a real PostgreSQL (RUDDER_TEST_POSTGRES):
//! SIGINT/SIGTERM and `--timeout` during install, upgrade and rollback; two upgrades started
//! together; the API server going away mid-upgrade (on a control plane of the test's own, so
//! that the shared one stays up); and release records over the 1 MiB an object may hold.
//!
//! Helm's side of signals and races cannot be driven through helm-python-sdk (it runs no CLI
//! and installs no signal handler), so the expectations follow Helm v4.2.3's sources, named
//! at each test. The size limit is checked against real Helm.

mod common;
use common::{
    env_or_skip, helm_cli_python, helm_python_path, obj, python_output, revisions, secret_record,
};
#[path = "../../storage/tests/support/postgres_db.rs"]
mod postgres_db;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rudder_kube::{ConnectOptions, Kube};
use serde_json::json;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> String {
    repo_root()
        .join("tests/fixtures/charts/release-demo")
        .to_string_lossy()
        .into_owned()
}

fn kubeconfig() -> Option<String> {
    common::test_kubeconfig()
}

/// A namespace of its own for each run (the control plane never removes namespaces).
fn unique(base: &str) -> String {
    format!("{base}-{}", std::process::id())
}

fn kube(kubeconfig: &str) -> Kube {
    Kube::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig.into()),
        ..ConnectOptions::default()
    })
    .expect("connect")
}

fn create_namespace(k: &Kube, ns: &str) {
    let _ = k.create(
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        "",
    );
}

fn rudder_cmd(kubeconfig: &str, ns: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
    cmd.env("KUBECONFIG", kubeconfig)
        .env_remove("HELM_DRIVER")
        .env_remove("RUDDER_SPLIT_LARGE_RELEASES")
        .args(args)
        .args(["-n", ns]);
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("run rudder")
}

fn must(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rudder")
}

/// `(revision, status, description)` of every revision, from `rudder history -o json`.
fn history(mut cmd: Command) -> Vec<(i64, String, String)> {
    cmd.args(["-o", "json"]);
    let out = must(run(cmd), "history");
    revisions(&serde_json::from_str(&out).expect("history JSON"))
}

/// Waits for `cond` for up to 60 s.
fn eventually(what: &str, cond: impl FnMut() -> bool) {
    common::eventually_within(
        what,
        Duration::from_secs(60),
        Duration::from_millis(100),
        cond,
    );
}

fn record_status(k: &Kube, ns: &str, release: &str, version: i64) -> Option<String> {
    secret_record(k, ns, release, version)
        .map(|(_, r)| r["info"]["status"].as_str().unwrap_or_default().to_string())
}

/// Plays the Deployment controller: reports `name` ready.
fn make_deployment_ready(k: &Kube, ns: &str, name: &str) {
    let dep = obj("apps/v1", "Deployment", ns, name);
    let live = k.get(&dep).unwrap().expect("deployment");
    let replicas = live["spec"]["replicas"].as_i64().unwrap_or(1);
    k.merge_patch(
        &dep,
        "status",
        &json!({"status": {"observedGeneration": live["metadata"]["generation"], "replicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas}}),
    )
    .expect("patch deployment status");
}

fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// Waits for `child` to end, at most `limit`; the test fails if it hangs.
fn finish_within(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rudder still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

// Helm v4.2.3, pkg/cmd/upgrade.go 238-251 and install.go 333-345: on SIGINT/SIGTERM the CLI
// prints "Release NAME has been cancelled." and cancels the context; pkg/action/upgrade.go
// 442-451 (handleContext) then fails the release with ctx.Err(), whose text is "context
// canceled", through failRelease (528-539: description `Upgrade "NAME" failed: ...`), and
// install.go 479-498 with 581-582 (`Release "NAME" failed: ...`). The command fails with
// "UPGRADE FAILED: context canceled" / "INSTALLATION FAILED: context canceled".
#[test]
fn signals_cancel_operations_and_record_them_failed() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("faults-signal");
    let k = kube(&kc);
    create_namespace(&k, ns);
    let c = chart();
    must(run(rudder_cmd(&kc, ns, &["install", "s", &c])), "install");

    // SIGINT while an upgrade waits for a Deployment no controller will ever make ready.
    let child = spawn(rudder_cmd(
        &kc,
        ns,
        &[
            "upgrade",
            "s",
            &c,
            "--set",
            "deployment=true",
            "--wait",
            "--timeout",
            "120s",
        ],
    ));
    eventually("the upgrade to wait", || {
        record_status(&k, ns, "s", 2).as_deref() == Some("pending-upgrade")
            && k.get(&obj("apps/v1", "Deployment", ns, "s-web"))
                .unwrap()
                .is_some()
    });
    send_signal(&child, "INT");
    let out = finish_within(child, Duration::from_secs(20));
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "Release s has been cancelled.\n");
    assert!(
        text(&out.stderr).ends_with("Error: UPGRADE FAILED: context canceled\n"),
        "{}",
        text(&out.stderr)
    );
    let (secret, record) = secret_record(&k, ns, "s", 2).unwrap();
    assert_eq!(secret["metadata"]["labels"]["status"], "failed");
    assert_eq!(
        record["info"]["description"],
        "Upgrade \"s\" failed: context canceled"
    );
    // Nothing is locked: the next upgrade goes ahead.
    must(
        run(rudder_cmd(
            &kc,
            ns,
            &["upgrade", "s", &c, "--set", "message=next"],
        )),
        "upgrade after the interrupted one",
    );
    assert_eq!(record_status(&k, ns, "s", 3).as_deref(), Some("deployed"));

    // SIGINT during a rollback (to the revision with the Deployment): Helm's rollback has no
    // signal handling (the process just dies, leaving it pending-rollback); rudder's fails it
    // as its rollback.go 236 words a failed rollback.
    let child = spawn(rudder_cmd(
        &kc,
        ns,
        &["rollback", "s", "2", "--wait", "--timeout", "120s"],
    ));
    eventually("the rollback to wait", || {
        record_status(&k, ns, "s", 4).as_deref() == Some("pending-rollback")
    });
    std::thread::sleep(Duration::from_millis(500));
    send_signal(&child, "INT");
    let out = finish_within(child, Duration::from_secs(20));
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "Release s has been cancelled.\n");
    assert!(
        text(&out.stderr).ends_with("Error: context canceled\n"),
        "{}",
        text(&out.stderr)
    );
    let (_, r4) = secret_record(&k, ns, "s", 4).unwrap();
    assert_eq!(r4["info"]["status"], "failed");
    assert_eq!(
        r4["info"]["description"],
        "Rollback \"s\" failed: context canceled"
    );

    // SIGTERM during an install.
    let child = spawn(rudder_cmd(
        &kc,
        ns,
        &[
            "install",
            "t",
            &c,
            "--set",
            "deployment=true",
            "--wait",
            "--timeout",
            "120s",
        ],
    ));
    eventually("the install to wait", || {
        k.get(&obj("apps/v1", "Deployment", ns, "t-web"))
            .unwrap()
            .is_some()
    });
    send_signal(&child, "TERM");
    let out = finish_within(child, Duration::from_secs(20));
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "Release t has been cancelled.\n");
    assert!(
        text(&out.stderr).ends_with("Error: INSTALLATION FAILED: context canceled\n"),
        "{}",
        text(&out.stderr)
    );
    let (_, r1) = secret_record(&k, ns, "t", 1).unwrap();
    assert_eq!(r1["info"]["status"], "failed");
    assert_eq!(
        r1["info"]["description"],
        "Release \"t\" failed: context canceled"
    );
    must(
        run(rudder_cmd(&kc, ns, &["upgrade", "t", &c])),
        "upgrade of the cancelled install",
    );

    // --timeout expiring ends the same way, with the wait's reason.
    let out = run(rudder_cmd(
        &kc,
        ns,
        &[
            "upgrade",
            "t",
            &c,
            "--set",
            "deployment=true",
            "--wait",
            "--timeout",
            "2s",
        ],
    ));
    assert!(!out.status.success());
    let rows = history(rudder_cmd(&kc, ns, &["history", "t"]));
    assert_eq!(
        rows.last().unwrap(),
        &(
            3,
            "failed".to_string(),
            "Upgrade \"t\" failed: resources not ready after 2s: Deployment/t-web".to_string()
        )
    );
    must(
        run(rudder_cmd(&kc, ns, &["upgrade", "t", &c])),
        "upgrade after a timeout",
    );
}

/// Starts `count` upgrades of `release` at once, each waiting for the Deployment; once all
/// but one have ended, plays the controller so that the last one finishes. Returns the
/// outputs of the losers and of the winner.
fn race_upgrades(
    cmd: impl Fn(&[&str]) -> Command,
    k: &Kube,
    ns: &str,
    release: &str,
    count: usize,
) -> (Vec<Output>, Output) {
    let c = chart();
    let messages: Vec<String> = (0..count).map(|i| format!("racer-{i}")).collect();
    let mut children: Vec<Option<Child>> = messages
        .iter()
        .map(|m| {
            let set = format!("deployment=true,message={m}");
            Some(spawn(cmd(&[
                "upgrade",
                release,
                &c,
                "--set",
                &set,
                "--wait",
                "--timeout",
                "120s",
            ])))
        })
        .collect();
    let mut losers = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while losers.len() < count - 1 {
        assert!(Instant::now() < deadline, "the losing upgrades did not end");
        for slot in children.iter_mut() {
            let done = slot
                .as_mut()
                .is_some_and(|c| c.try_wait().unwrap().is_some());
            if done {
                losers.push(slot.take().unwrap().wait_with_output().unwrap());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let winner = children.into_iter().flatten().next().expect("a winner");
    eventually("the winner's Deployment", || {
        k.get(&obj("apps/v1", "Deployment", ns, &format!("{release}-web")))
            .unwrap()
            .is_some()
    });
    make_deployment_ready(k, ns, &format!("{release}-web"));
    (losers, finish_within(winner, Duration::from_secs(60)))
}

fn assert_one_winner(losers: &[Output], winner: &Output) {
    for out in losers {
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).ends_with(
                "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n"
            ),
            "{}",
            text(&out.stderr)
        );
    }
    assert!(winner.status.success(), "{}", text(&winner.stderr));
}

// Helm v4.2.3, pkg/action/upgrade.go 246-249: "Concurrent `helm upgrade`s will either fail
// here with `errPending` or when creating the release with "already exists"" (the record's
// Create, 409). rudder answers both with errPending, whose text the test expects.
#[test]
fn concurrent_upgrades_on_secrets_one_wins() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("faults-race");
    let k = kube(&kc);
    create_namespace(&k, ns);
    must(
        run(rudder_cmd(&kc, ns, &["install", "r", &chart()])),
        "install",
    );
    let (losers, winner) = race_upgrades(|args| rudder_cmd(&kc, ns, args), &k, ns, "r", 4);
    assert_one_winner(&losers, &winner);
    let rows = history(rudder_cmd(&kc, ns, &["history", "r"]));
    assert_eq!(
        rows,
        [
            (1, "superseded".into(), "Install complete".into()),
            (2, "deployed".into(), "Upgrade complete".into()),
        ]
    );
    // The live object is the winner's, whichever it was.
    let (_, r2) = secret_record(&k, ns, "r", 2).unwrap();
    let message = r2["config"]["message"].as_str().unwrap().to_string();
    let cm = k
        .get(&obj("v1", "ConfigMap", ns, "r-config"))
        .unwrap()
        .unwrap();
    assert_eq!(cm["data"]["message"], message.as_str());
}

#[test]
fn concurrent_upgrades_on_postgres_one_wins() {
    let Some(kc) = kubeconfig() else { return };
    let Some(server) = env_or_skip(
        "RUDDER_TEST_POSTGRES",
        "scripts/test starts PostgreSQL with scripts/postgres",
    ) else {
        return;
    };
    let db = postgres_db::fresh_database(&server, "faults_race");
    let ns = &unique("faults-race-sql");
    let k = kube(&kc);
    create_namespace(&k, ns);
    let sql = |args: &[&str]| {
        let mut cmd = rudder_cmd(&kc, ns, args);
        cmd.env("HELM_DRIVER", "sql")
            .env("HELM_DRIVER_SQL_CONNECTION_STRING", &db);
        cmd
    };
    must(run(sql(&["install", "r", &chart()])), "install");
    let (losers, winner) = race_upgrades(sql, &k, ns, "r", 4);
    assert_one_winner(&losers, &winner);
    let mut client = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let rows: Vec<(i32, String)> = client
        .query(
            "SELECT version, status FROM releases_v1 WHERE namespace = $1 AND name = 'r' ORDER BY version",
            &[&ns.as_str()],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [(1, "superseded".to_string()), (2, "deployed".to_string())]
    );
}

/// A control plane of the test's own (scripts/local-cluster with its own state folder),
/// stopped when dropped.
struct OwnCluster {
    dir: tempfile::TempDir,
    kubeconfig: String,
}

impl OwnCluster {
    fn start() -> OwnCluster {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(repo_root().join("scripts/local-cluster"))
            .args(["start", "--apiserver-only"])
            .env("RUDDER_CLUSTER_DIR", dir.path().join("cluster"))
            .output()
            .expect("run scripts/local-cluster");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let kubeconfig = text(&out.stdout).trim().to_string();
        OwnCluster { dir, kubeconfig }
    }

    fn script(&self, what: &str) {
        let out = Command::new(repo_root().join("scripts/local-cluster"))
            .arg(what)
            .env("RUDDER_CLUSTER_DIR", self.dir.path().join("cluster"))
            .output()
            .expect("run scripts/local-cluster");
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/local-cluster"))
            .arg("stop")
            .env("RUDDER_CLUSTER_DIR", self.dir.path().join("cluster"))
            .output();
    }
}

#[test]
fn api_server_going_away_mid_upgrade() {
    // Its own control plane: stopping the shared one would break the tests running beside.
    if kubeconfig().is_none() {
        return;
    }
    let cluster = OwnCluster::start();
    let kc = &cluster.kubeconfig;
    let ns = &unique("faults-outage");
    let k = kube(kc);
    create_namespace(&k, ns);
    let c = chart();
    must(run(rudder_cmd(kc, ns, &["install", "o", &c])), "install");

    // 1. The API server goes away while the upgrade waits, and stays away: rudder reports the
    // failure, tries to record it for its --timeout, then says it could not.
    let child = spawn(rudder_cmd(
        kc,
        ns,
        &[
            "upgrade",
            "o",
            &c,
            "--set",
            "deployment=true,message=lost",
            "--wait",
            "--timeout",
            "5s",
        ],
    ));
    eventually("the upgrade to wait", || {
        record_status(&k, ns, "o", 2).as_deref() == Some("pending-upgrade")
            && k.get(&obj("apps/v1", "Deployment", ns, "o-web"))
                .unwrap()
                .is_some()
    });
    let stopped = Instant::now();
    cluster.script("stop-apiserver");
    let out = finish_within(child, Duration::from_secs(30));
    assert!(stopped.elapsed() < Duration::from_secs(20));
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("Error: UPGRADE FAILED: ")
            && stderr.contains("Kubernetes cluster unreachable"),
        "{stderr}"
    );
    assert!(
        stderr.contains("level=WARN msg=\"failed to update release\" name=o revision=2 error="),
        "{stderr}"
    );
    cluster.script("start-apiserver");
    // The revision stays pending, which refuses upgrades (as Helm's errPending does)...
    let refused = run(rudder_cmd(kc, ns, &["upgrade", "o", &c]));
    assert!(text(&refused.stderr)
        .contains("another operation (install/upgrade/rollback) is in progress"));
    // ...and a rollback recovers, without losing a revision.
    must(run(rudder_cmd(kc, ns, &["rollback", "o", "1"])), "rollback");
    let rows = history(rudder_cmd(kc, ns, &["history", "o"]));
    let statuses: Vec<(i64, &str)> = rows.iter().map(|(v, s, _)| (*v, s.as_str())).collect();
    assert_eq!(
        statuses,
        [(1, "superseded"), (2, "superseded"), (3, "deployed")]
    );
    assert!(k
        .get(&obj("apps/v1", "Deployment", ns, "o-web"))
        .unwrap()
        .is_none());

    // 2. The API server comes back within the timeout: the failure is recorded, and the next
    // upgrade is accepted at once.
    let child = spawn(rudder_cmd(
        kc,
        ns,
        &[
            "upgrade",
            "o",
            &c,
            "--set",
            "deployment=true,message=brief",
            "--wait",
            "--timeout",
            "60s",
        ],
    ));
    eventually("the second upgrade to wait", || {
        record_status(&k, ns, "o", 4).as_deref() == Some("pending-upgrade")
            && k.get(&obj("apps/v1", "Deployment", ns, "o-web"))
                .unwrap()
                .is_some()
    });
    cluster.script("stop-apiserver");
    std::thread::sleep(Duration::from_secs(1));
    cluster.script("start-apiserver");
    let out = finish_within(child, Duration::from_secs(90));
    assert!(!out.status.success());
    assert!(
        !text(&out.stderr).contains("failed to update release"),
        "{}",
        text(&out.stderr)
    );
    let (_, r4) = secret_record(&k, ns, "o", 4).unwrap();
    assert_eq!(r4["info"]["status"], "failed");
    assert!(
        r4["info"]["description"]
            .as_str()
            .unwrap()
            .starts_with("Upgrade \"o\" failed: "),
        "{r4}"
    );
    must(
        run(rudder_cmd(
            kc,
            ns,
            &["upgrade", "o", &c, "--set", "message=after"],
        )),
        "upgrade after the outage",
    );
    let rows = history(rudder_cmd(kc, ns, &["history", "o"]));
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4].1, "deployed");

    // 3. The API server stops answering (SIGSTOP) mid-upgrade: connections are accepted and
    // never answered, and no request outlasts --timeout, so rudder ends within a few timeouts
    // instead of the transport's 60 s per request.
    let child = spawn(rudder_cmd(
        kc,
        ns,
        &[
            "upgrade",
            "o",
            &c,
            "--set",
            "deployment=true,message=stalled",
            "--wait",
            "--timeout",
            "3s",
        ],
    ));
    eventually("the third upgrade to wait", || {
        record_status(&k, ns, "o", 6).as_deref() == Some("pending-upgrade")
    });
    let apiserver_pid = std::fs::read_to_string(cluster.dir.path().join("cluster/apiserver.pid"))
        .unwrap()
        .trim()
        .to_string();
    let signal = |which: &str| {
        assert!(Command::new("kill")
            .args([which, &apiserver_pid])
            .status()
            .unwrap()
            .success())
    };
    signal("-STOP");
    let stopped = Instant::now();
    let out = finish_within(child, Duration::from_secs(40));
    let held = stopped.elapsed();
    signal("-CONT");
    assert!(held < Duration::from_secs(15), "held {held:?}");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Kubernetes cluster unreachable: no answer within 3s"),
        "{}",
        text(&out.stderr)
    );
    eventually("the API server to answer again", || {
        run(rudder_cmd(kc, ns, &["status", "o"])).status.success()
    });
    must(run(rudder_cmd(kc, ns, &["rollback", "o"])), "rollback");
    let rows = history(rudder_cmd(kc, ns, &["history", "o"]));
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[6].1, "deployed");
}

/// A chart whose release record is over 1 MiB: a file of `size` bytes that do not compress.
fn large_chart(dir: &Path, size: usize) -> String {
    let chart = dir.join("large");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::create_dir_all(chart.join("files")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: large\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  message: {{ .Values.message | default \"hello\" | quote }}\n",
    )
    .unwrap();
    // xorshift64: reproducible bytes that gzip cannot shrink.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let blob: Vec<u8> = (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(chart.join("files/blob.bin"), blob).unwrap();
    chart.to_string_lossy().into_owned()
}

fn secrets(k: &Kube, ns: &str, selector: &str) -> Vec<String> {
    let mut names: Vec<String> = k
        .list("v1", "Secret", ns, selector)
        .unwrap()
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn release_records_over_one_mebibyte() {
    let Some(kc) = kubeconfig() else { return };
    let ns = &unique("faults-large");
    let k = kube(&kc);
    create_namespace(&k, ns);
    let dir = tempfile::tempdir().unwrap();
    let big = large_chart(dir.path(), 1_000_000);

    // By default the API server refuses the record, as it refuses Helm's, before anything is
    // applied; rudder adds how to store it.
    let out = run(rudder_cmd(&kc, ns, &["install", "big", &big]));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let refused = "create: failed to create: Secret \"sh.helm.release.v1.big.v1\" is invalid: data: Too long: ";
    assert!(
        stderr.starts_with(&format!("Error: INSTALLATION FAILED: {refused}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("RUDDER_SPLIT_LARGE_RELEASES=true"),
        "{stderr}"
    );
    assert!(k
        .get(&obj("v1", "ConfigMap", ns, "big-config"))
        .unwrap()
        .is_none());
    assert!(secrets(&k, ns, "name=big").is_empty());

    // Real Helm fails the same way (pkg/storage/driver/secrets.go Create wraps the API
    // server's refusal in "create: failed to create: ").
    if let Some(python) = helm_python_path() {
        let mut cmd = helm_cli_python(&python);
        cmd.env("KUBECONFIG", &kc).args([
            "-c",
            &format!(
                r#"
import helm_python as h
c = h.Config(kubeconfig_path={kc:?}, namespace={ns:?})
try:
    c.install({big:?}, "big")
    print("installed")
except Exception as e:
    print(str(e))
"#
            ),
        ]);
        let helm = python_output(cmd);
        assert!(helm.contains(refused), "{helm}");
        assert!(secrets(&k, ns, "name=big").is_empty());
    }

    // Opted in, the record goes across several Secrets and reads back whole.
    let split = |args: &[&str]| {
        let mut cmd = rudder_cmd(&kc, ns, args);
        cmd.env("RUDDER_SPLIT_LARGE_RELEASES", "true");
        cmd
    };
    must(run(split(&["install", "big", &big])), "split install");
    let main = k
        .get(&obj("v1", "Secret", ns, "sh.helm.release.v1.big.v1"))
        .unwrap()
        .unwrap();
    assert_eq!(main["type"], "helm.sh/release.v1");
    assert_eq!(main["metadata"]["labels"]["status"], "deployed");
    assert_eq!(
        main["metadata"]["annotations"]["rudder.sh/release-parts"],
        "2"
    );
    let parts = secrets(&k, ns, "owner=rudder,name=big");
    assert_eq!(parts.len(), 2, "{parts:?}");
    let digest = main["metadata"]["annotations"]["rudder.sh/release-sha256"]
        .as_str()
        .unwrap();
    assert_eq!(
        parts,
        [
            format!("sh.helm.release.v1.big.v1.{}.1", &digest[..16]),
            format!("sh.helm.release.v1.big.v1.{}.2", &digest[..16]),
        ]
    );
    // Reading needs no setting.
    let manifest = must(
        run(rudder_cmd(&kc, ns, &["get", "manifest", "big"])),
        "get manifest",
    );
    assert!(manifest.contains("name: big-config"), "{manifest}");
    must(
        run(split(&["upgrade", "big", &big, "--set", "message=second"])),
        "split upgrade",
    );
    must(run(split(&["rollback", "big", "1"])), "split rollback");
    let rows = history(rudder_cmd(&kc, ns, &["history", "big"]));
    let statuses: Vec<(i64, &str)> = rows.iter().map(|(v, s, _)| (*v, s.as_str())).collect();
    assert_eq!(
        statuses,
        [(1, "superseded"), (2, "superseded"), (3, "deployed")]
    );
    let values = must(
        run(rudder_cmd(
            &kc,
            ns,
            &["get", "values", "big", "--revision", "2"],
        )),
        "get values",
    );
    assert!(values.contains("message: second"), "{values}");
    // Rewritten records (status changes) left no stale parts: two per revision.
    assert_eq!(secrets(&k, ns, "owner=rudder,name=big").len(), 6);

    // A record Helm can store stays in Helm's format even when splitting is on.
    must(run(split(&["install", "small", &chart()])), "small install");
    let (small, _) = secret_record(&k, ns, "small", 1).expect("Helm's format");
    assert!(small["metadata"]["annotations"].is_null(), "{small}");

    must(run(rudder_cmd(&kc, ns, &["uninstall", "big"])), "uninstall");
    assert!(secrets(&k, ns, "name=big").is_empty());

    // The ConfigMap driver: the same refusal (the API server words it for ConfigMaps), the
    // same split when opted in.
    let configmaps = |args: &[&str], split: bool| {
        let mut cmd = rudder_cmd(&kc, ns, args);
        cmd.env("HELM_DRIVER", "configmap");
        if split {
            cmd.env("RUDDER_SPLIT_LARGE_RELEASES", "true");
        }
        cmd
    };
    let out = run(configmaps(&["install", "cm", &big], false));
    assert!(
        text(&out.stderr).starts_with(
            "Error: INSTALLATION FAILED: create: failed to create: ConfigMap \"sh.helm.release.v1.cm.v1\" is invalid: "
        ),
        "{}",
        text(&out.stderr)
    );
    must(
        run(configmaps(&["install", "cm", &big], true)),
        "split install",
    );
    let parts = k
        .list("v1", "ConfigMap", ns, "owner=rudder,name=cm")
        .unwrap();
    assert_eq!(parts.len(), 2);
    let rows = history(configmaps(&["history", "cm"], false));
    assert_eq!(rows, [(1, "deployed".into(), "Install complete".into())]);
    must(run(configmaps(&["uninstall", "cm"], false)), "uninstall");
    assert!(k.list("v1", "ConfigMap", ns, "name=cm").unwrap().is_empty());
}
