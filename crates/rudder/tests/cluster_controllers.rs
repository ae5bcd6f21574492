//! Releases on a local cluster where things run: kube-apiserver with kube-controller-manager,
//! kube-scheduler and simulated nodes (scripts/local-cluster start, crates/node-sim), whose
//! kubeconfig scripts/test puts in RUDDER_TEST_CONTROLLERS_KUBECONFIG. Nothing here writes an
//! object's status: Deployments roll out through the real Deployment and ReplicaSet
//! controllers, pods are placed by the scheduler, and the simulated kubelet reports them
//! Running, Ready after their readiness probe's initial delay, finished (Jobs, test pods), or
//! failing when the pod carries `sim.rudder.dev/fail: "true"`.
//!
//! The behaviour expected is Helm's: `--wait` returns once every Deployment has its ready,
//! available and updated replicas (helm pkg/kube/ready.go, deploymentReady), hooks wait for
//! their Job to complete or fail (pkg/kube/wait.go, waitForJob), `--rollback-on-failure`
//! (`--atomic`) uninstalls a failed install and rolls a failed upgrade back
//! (pkg/action/install.go failRelease, pkg/action/upgrade.go failRelease), and `helm test`
//! fails when a test pod ends in phase Failed (pkg/action/release_testing.go).
//!
//! The Milvus chart's tests (issue 15) show its rollouts on these controllers: which
//! components upgrade with Recreate (the old pod gone before the new one exists) and which
//! roll, and that the production values fit a declared pool of nodes. Such a pool is a second
//! rudder-node-sim started by the test ([`NodePool`]), with the capacity the chart's README
//! recommends; nothing here runs the chart's images.
//!
//! Each test works in its own namespace, deleted at the end (the namespace controller runs
//! here), so they run in parallel.

mod common;
use common::env_or_skip;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rudder_kube::{ConnectOptions, Kube, ObjectRef, Propagation};
use serde_json::{json, Value as Json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rollout_chart() -> String {
    repo_root()
        .join("tests/fixtures/charts/rollout-demo")
        .to_string_lossy()
        .into_owned()
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn must(self, what: &str) -> Run {
        assert!(self.ok, "{what} failed:\n{}\n{}", self.stdout, self.stderr);
        self
    }
}

/// A namespace of one test on the cluster, deleted when the test ends.
struct Scope {
    kubeconfig: String,
    ns: String,
    kube: Kube,
}

impl Drop for Scope {
    fn drop(&mut self) {
        let _ = self.kube.delete(
            &obj("v1", "Namespace", "", &self.ns),
            Propagation::Background,
        );
    }
}

impl Scope {
    /// A new namespace named after `prefix`, once pods can be created in it, or `None` to
    /// skip the test when no such cluster is configured.
    fn new(prefix: &str) -> Option<Scope> {
        let kubeconfig = env_or_skip(
            "RUDDER_TEST_CONTROLLERS_KUBECONFIG",
            "scripts/test starts a local cluster with controllers and simulated nodes",
        )?;
        let kube = Kube::connect(&ConnectOptions {
            kubeconfig: Some(kubeconfig.clone().into()),
            ..ConnectOptions::default()
        })
        .expect("connect");
        let ns = format!("{prefix}-{}", std::process::id());
        kube.create(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            "",
        )
        .expect("create namespace");
        let scope = Scope {
            kubeconfig,
            ns,
            kube,
        };
        // The ServiceAccount admission refuses pods until the controllers have made the
        // namespace's default ServiceAccount and its token.
        eventually("the default ServiceAccount's token", || {
            scope
                .get("v1", "ServiceAccount", "default")
                .is_some_and(|sa| sa["secrets"].as_array().is_some_and(|s| !s.is_empty()))
        });
        Some(scope)
    }

    fn rudder(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("HELM_DRIVER")
            .args(args)
            .args(["-n", &self.ns])
            .output()
            .expect("run rudder");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn get(&self, api_version: &str, kind: &str, name: &str) -> Option<Json> {
        self.kube
            .get(&obj(api_version, kind, &self.ns, name))
            .expect("get")
    }

    fn pods(&self, label_selector: &str) -> Vec<Json> {
        self.kube
            .list("v1", "Pod", &self.ns, label_selector)
            .expect("list pods")
    }

    /// The release's status as `rudder status` prints it (`deployed`, `failed`, ...).
    fn release_status(&self, release: &str) -> Option<String> {
        let run = self.rudder(&["status", release, "-o", "json"]);
        if !run.ok {
            return None;
        }
        let status: Json = serde_json::from_str(&run.stdout).expect("status JSON");
        status["info"]["status"].as_str().map(str::to_string)
    }
}

fn obj(api_version: &str, kind: &str, ns: &str, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

/// Waits for `cond` for up to 90 s.
fn eventually(what: &str, cond: impl FnMut() -> bool) {
    common::eventually_within(
        what,
        Duration::from_secs(90),
        Duration::from_millis(200),
        cond,
    );
}

fn condition_true(obj: &Json, kind: &str) -> bool {
    obj["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == kind && c["status"] == "True")
    })
}

fn annotation<'a>(obj: &'a Json, key: &str) -> &'a str {
    obj["metadata"]["annotations"][key].as_str().unwrap_or("")
}

#[test]
fn install_with_wait_becomes_ready_through_the_controllers_and_the_scheduler() {
    let Some(s) = Scope::new("ctl-wait") else {
        return;
    };
    let started = Instant::now();
    let run = s
        .rudder(&[
            "install",
            "web",
            &rollout_chart(),
            "--set",
            "replicas=3,readyAfterSeconds=3",
            "--wait",
            "--timeout",
            "120s",
        ])
        .must("install --wait");
    // The pods only turn Ready 3 s after they start: returning earlier would mean the wait
    // did not wait.
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Deployment/web-app (0/3 replicas ready)")
            || run
                .stderr
                .contains("Deployment/web-app (1/3 replicas ready)")
            || run
                .stderr
                .contains("Deployment/web-app (2/3 replicas ready)"),
        "no progress while waiting:\n{}",
        run.stderr
    );

    let deployment = s.get("apps/v1", "Deployment", "web-app").unwrap();
    assert_eq!(deployment["status"]["readyReplicas"], 3, "{deployment}");
    assert_eq!(deployment["status"]["updatedReplicas"], 3);
    assert!(condition_true(&deployment, "Available"), "{deployment}");
    let pods = s.pods("app=web-app");
    assert_eq!(pods.len(), 3);
    for pod in &pods {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
        assert!(node.starts_with("sim-"), "not scheduled on a node: {pod}");
        assert_eq!(pod["status"]["phase"], "Running");
        assert!(condition_true(pod, "Ready"), "{pod}");
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(
            owner["kind"], "ReplicaSet",
            "made by the ReplicaSet controller"
        );
    }
    // The endpoints controller saw the ready pods behind the Service.
    eventually("the Service's endpoints", || {
        s.get("v1", "Endpoints", "web-app").is_some_and(|e| {
            e["subsets"][0]["addresses"]
                .as_array()
                .is_some_and(|a| a.len() == 3)
        })
    });
    assert_eq!(s.release_status("web").as_deref(), Some("deployed"));

    // Uninstall: the garbage collector removes the ReplicaSet and its pods.
    s.rudder(&["uninstall", "web", "--wait", "--timeout", "60s"])
        .must("uninstall");
    eventually("the pods to go", || s.pods("app=web-app").is_empty());
}

/// What a pod observer saw during an upgrade: the pods of the old and of the new template at
/// the same moment, at any poll.
struct Overlap {
    old_and_new_together: bool,
    saw_new: bool,
    saw_old_gone: bool,
}

/// Polls the release's pods every 50 ms while `upgrade` runs, and tells whether pods of the old
/// (`old_revision`) and the new template ever existed together (pods being deleted count as
/// existing: their containers still run until the kubelet confirms the deletion).
fn observe_upgrade(s: &Scope, old_revision: &str, upgrade: impl FnOnce() -> Run) -> Overlap {
    observe_pods(
        s,
        "app=web-app",
        "rollout-demo/revision",
        old_revision,
        upgrade,
    )
}

/// [`observe_upgrade`] for any pods: those matching `selector`, old when their annotation
/// `key` has the value `old_value`.
fn observe_pods(
    s: &Scope,
    selector: &str,
    key: &str,
    old_value: &str,
    upgrade: impl FnOnce() -> Run,
) -> Overlap {
    let group = Watched {
        selector: selector.to_string(),
        key: key.to_string(),
        old_value: old_value.to_string(),
    };
    observe_groups(s, &[group], upgrade).remove(0)
}

/// One group of pods watched during an upgrade: those matching `selector`, old when their
/// annotation `key` has the value `old_value`.
#[derive(Clone)]
struct Watched {
    selector: String,
    key: String,
    old_value: String,
}

/// [`observe_pods`] for several groups at once (every group polled every 50 ms while
/// `upgrade` runs): what was seen of each, in the order of `groups`.
fn observe_groups(s: &Scope, groups: &[Watched], upgrade: impl FnOnce() -> Run) -> Vec<Overlap> {
    let done = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(
        groups
            .iter()
            .map(|_| Overlap {
                old_and_new_together: false,
                saw_new: false,
                saw_old_gone: false,
            })
            .collect::<Vec<_>>(),
    ));
    let observer = {
        let done = done.clone();
        let seen = seen.clone();
        let kube = Kube::connect(&ConnectOptions {
            kubeconfig: Some(s.kubeconfig.clone().into()),
            ..ConnectOptions::default()
        })
        .expect("connect");
        let ns = s.ns.clone();
        let groups = groups.to_vec();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                for (i, group) in groups.iter().enumerate() {
                    let pods = kube.list("v1", "Pod", &ns, &group.selector).expect("list");
                    let old = pods
                        .iter()
                        .filter(|p| annotation(p, &group.key) == group.old_value.as_str())
                        .count();
                    let new = pods.len() - old;
                    let mut seen = seen.lock().unwrap();
                    seen[i].old_and_new_together |= old > 0 && new > 0;
                    seen[i].saw_new |= new > 0;
                    seen[i].saw_old_gone |= old == 0;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let run = upgrade();
    // `--wait` returns once the new pods are ready; with RollingUpdate the last old pod may
    // still be on its way out: keep watching until every group's old pods are gone.
    if run.ok {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && !seen.lock().unwrap().iter().all(|o| o.saw_old_gone) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    done.store(true, Ordering::SeqCst);
    observer.join().unwrap();
    run.must("upgrade");
    Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap()
}

#[test]
fn recreate_removes_the_old_pods_before_the_new_ones_exist() {
    let Some(s) = Scope::new("ctl-recreate") else {
        return;
    };
    let chart = rollout_chart();
    s.rudder(&[
        "install",
        "web",
        &chart,
        "--set",
        "replicas=2,strategy=Recreate,revision=1",
        "--wait",
        "--timeout",
        "120s",
    ])
    .must("install");

    let recreate = observe_upgrade(&s, "1", || {
        s.rudder(&[
            "upgrade",
            "web",
            &chart,
            "--set",
            "replicas=2,strategy=Recreate,revision=2",
            "--wait",
            "--timeout",
            "120s",
        ])
    });
    assert!(recreate.saw_new && recreate.saw_old_gone);
    assert!(
        !recreate.old_and_new_together,
        "Recreate: a pod of the new template existed while an old one was still there"
    );
    let pods = s.pods("app=web-app");
    assert_eq!(pods.len(), 2);
    assert!(pods
        .iter()
        .all(|p| annotation(p, "rollout-demo/revision") == "2" && condition_true(p, "Ready")));

    // The same observer on a RollingUpdate does see both generations at once: the check
    // above can tell the two strategies apart.
    s.rudder(&[
        "upgrade",
        "web",
        &chart,
        "--set",
        "replicas=2,strategy=RollingUpdate,revision=2",
        "--wait",
        "--timeout",
        "120s",
    ])
    .must("switch to RollingUpdate");
    let rolling = observe_upgrade(&s, "2", || {
        s.rudder(&[
            "upgrade",
            "web",
            &chart,
            "--set",
            "replicas=2,strategy=RollingUpdate,revision=3,readyAfterSeconds=2",
            "--wait",
            "--timeout",
            "120s",
        ])
    });
    assert!(
        rolling.old_and_new_together,
        "RollingUpdate: old and new pods were never seen together"
    );
}

#[test]
fn rollback_on_failure_undoes_a_failing_install_and_a_failing_upgrade() {
    let Some(s) = Scope::new("ctl-atomic") else {
        return;
    };
    let chart = rollout_chart();

    // The app's pods crash-loop: the install never becomes ready and is uninstalled.
    let run = s.rudder(&[
        "install",
        "bad",
        &chart,
        "--set",
        "appFails=true",
        "--wait",
        "--timeout",
        "8s",
        "--atomic",
    ]);
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "release bad failed, and has been uninstalled due to rollback-on-failure being set"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(s.release_status("bad"), None, "the release is gone");
    assert!(s.get("apps/v1", "Deployment", "bad-app").is_none());
    eventually("the failed install's pods to go", || {
        s.pods("app=bad-app").is_empty()
    });

    // A good release, then an upgrade whose pods crash-loop: rolled back to the good one.
    s.rudder(&[
        "install",
        "web",
        &chart,
        "--set",
        "revision=1",
        "--wait",
        "--timeout",
        "120s",
    ])
    .must("install");
    let run = s.rudder(&[
        "upgrade",
        "web",
        &chart,
        "--set",
        "revision=2,appFails=true",
        "--wait",
        "--timeout",
        "8s",
        "--atomic",
    ]);
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("has been rolled back due to rollback-on-failure being set"),
        "{}",
        run.stderr
    );
    let history = s
        .rudder(&["history", "web", "-o", "json"])
        .must("history")
        .stdout;
    let history: Json = serde_json::from_str(&history).unwrap();
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["superseded", "failed", "deployed"], "{history}");
    // The rollback restored the first template, which the controllers roll out again.
    eventually("the rolled-back pods to be ready", || {
        let pods = s.pods("app=web-app");
        pods.len() == 2
            && pods.iter().all(|p| {
                annotation(p, "rollout-demo/revision") == "1" && condition_true(p, "Ready")
            })
    });
}

#[test]
fn hook_jobs_complete_or_fail_through_the_job_controller() {
    let Some(s) = Scope::new("ctl-hooks") else {
        return;
    };
    let chart = rollout_chart();
    s.rudder(&[
        "install",
        "web",
        &chart,
        "--set",
        "hookJob.enabled=true,hookJob.runSeconds=2",
        "--wait",
        "--timeout",
        "120s",
    ])
    .must("install with a post-install Job");
    let job = s
        .get("batch/v1", "Job", "web-migrate")
        .expect("the hook Job");
    assert!(condition_true(&job, "Complete"), "{job}");
    assert_eq!(job["status"]["succeeded"], 1);
    let job_pods = s.pods("job-name=web-migrate");
    assert_eq!(job_pods.len(), 1);
    assert_eq!(job_pods[0]["status"]["phase"], "Succeeded");
    assert_eq!(s.release_status("web").as_deref(), Some("deployed"));

    // A Job whose pod fails (backoffLimit 0): the job controller marks it Failed and the
    // upgrade fails with it.
    let run = s.rudder(&[
        "upgrade",
        "web",
        &chart,
        "--set",
        "hookJob.enabled=true,hookJob.fails=true",
        "--wait",
        "--timeout",
        "60s",
    ]);
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stderr.contains("post-upgrade hooks failed")
            && run
                .stderr
                .contains("job web-migrate failed: BackoffLimitExceeded"),
        "{}",
        run.stderr
    );
    assert_eq!(s.release_status("web").as_deref(), Some("failed"));
}

#[test]
fn release_tests_pass_or_fail_by_the_test_pods_phase() {
    let Some(s) = Scope::new("ctl-test") else {
        return;
    };
    let chart = rollout_chart();
    s.rudder(&["install", "web", &chart, "--wait", "--timeout", "120s"])
        .must("install");
    let run = s.rudder(&["test", "web", "--timeout", "60s"]).must("test");
    assert!(
        run.stdout.contains("TEST SUITE:     web-test-connection")
            && run.stdout.contains("Phase:          Succeeded"),
        "{}",
        run.stdout
    );
    let pod = s.get("v1", "Pod", "web-test-connection").unwrap();
    assert_eq!(pod["status"]["phase"], "Succeeded");

    s.rudder(&[
        "upgrade",
        "web",
        &chart,
        "--set",
        "testPod.fails=true",
        "--wait",
        "--timeout",
        "120s",
    ])
    .must("upgrade");
    // The old test pod is replaced (Helm deletes test pods before running them again).
    let run = s.rudder(&["test", "web", "--timeout", "60s"]);
    assert!(
        !run.ok,
        "a failing test pod must fail the command:\n{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("pod web-test-connection failed"),
        "{}",
        run.stderr
    );
    let pod = s.get("v1", "Pod", "web-test-connection").unwrap();
    assert_eq!(pod["status"]["phase"], "Failed");
}

/// What one tool made of the same four steps on this cluster: an install that becomes ready,
/// an install whose pods crash-loop (with rollback on failure), a release test that passes, and
/// one whose pod fails. `ok` or the error's text.
#[derive(Debug)]
struct Outcomes {
    ready_install: Result<(), String>,
    failing_install: Result<(), String>,
    passing_test: Result<(), String>,
    failing_test: Result<(), String>,
}

#[test]
fn helm_and_rudder_judge_the_same_rollouts_alike() {
    let Some(s) = Scope::new("ctl-helm") else {
        return;
    };
    let Some(python) = common::helm_python_path() else {
        return;
    };
    let chart = rollout_chart();
    let (kc, ns) = (&s.kubeconfig, &s.ns);
    let script = format!(
        r#"
import json, helm_python as h
c = h.Config(kubeconfig_path={kc:?}, namespace={ns:?})
def outcome(step):
    try:
        step()
        return None
    except h.HelmError as e:
        return str(e)
out = {{
  "ready_install": outcome(lambda: c.install({chart:?}, "h-good", {{"readyAfterSeconds": 2}}, wait="watcher", timeout=120)),
  "failing_install": outcome(lambda: c.install({chart:?}, "h-bad", {{"appFails": "true"}}, wait="watcher", timeout=8, rollback_on_failure=True)),
  "passing_test": outcome(lambda: c.test("h-good", timeout=60)),
}}
c.upgrade({chart:?}, "h-good", {{"readyAfterSeconds": 2, "testPod": {{"fails": "true"}}}}, wait="watcher", timeout=120)
out["failing_test"] = outcome(lambda: c.test("h-good", timeout=60))
print(json.dumps(out))
"#
    );
    let mut cmd = common::helm_cli_python(&python);
    cmd.env("KUBECONFIG", kc).args(["-c", &script]);
    let out = common::python_output(cmd);
    let seen: Json = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    let of = |key: &str| match &seen[key] {
        Json::Null => Ok(()),
        e => Err(e.as_str().unwrap_or("").to_string()),
    };
    let helm = Outcomes {
        ready_install: of("ready_install"),
        failing_install: of("failing_install"),
        passing_test: of("passing_test"),
        failing_test: of("failing_test"),
    };

    let result = |run: Run| if run.ok { Ok(()) } else { Err(run.stderr) };
    let ready_install = result(s.rudder(&[
        "install",
        "r-good",
        &chart,
        "--set",
        "readyAfterSeconds=2",
        "--wait",
        "--timeout",
        "120s",
    ]));
    let failing_install = result(s.rudder(&[
        "install",
        "r-bad",
        &chart,
        "--set",
        "appFails=true",
        "--wait",
        "--timeout",
        "8s",
        "--rollback-on-failure",
    ]));
    let passing_test = result(s.rudder(&["test", "r-good", "--timeout", "60s"]));
    s.rudder(&[
        "upgrade",
        "r-good",
        &chart,
        "--set",
        "readyAfterSeconds=2,testPod.fails=true",
        "--wait",
        "--timeout",
        "120s",
    ])
    .must("upgrade");
    let failing_test = result(s.rudder(&["test", "r-good", "--timeout", "60s"]));
    let rudder = Outcomes {
        ready_install,
        failing_install,
        passing_test,
        failing_test,
    };

    for (tool, o) in [("helm", &helm), ("rudder", &rudder)] {
        assert!(o.ready_install.is_ok(), "{tool}: {o:?}");
        assert!(o.passing_test.is_ok(), "{tool}: {o:?}");
        let failed_install = o.failing_install.as_ref().unwrap_err();
        assert!(
            failed_install.contains("has been uninstalled due to rollback-on-failure being set"),
            "{tool}: {o:?}"
        );
        let failed_test = o.failing_test.as_ref().unwrap_err();
        assert!(failed_test.contains("test-connection"), "{tool}: {o:?}");
    }
    // Both left the same releases behind: the good ones, not the rolled-back ones.
    assert_eq!(s.release_status("h-good").as_deref(), Some("deployed"));
    assert_eq!(s.release_status("r-good").as_deref(), Some("deployed"));
    assert_eq!(s.release_status("h-bad"), None);
    assert_eq!(s.release_status("r-bad"), None);
}

#[test]
fn a_dev_install_of_the_milvus_chart_becomes_ready_under_wait() {
    let Some(s) = Scope::new("ctl-milvus") else {
        return;
    };
    let chart = repo_root().join("charts/milvus");
    let dev_values = chart.join("values/dev-values.yaml");
    let started = Instant::now();
    s.rudder(&[
        "install",
        "mv",
        &chart.to_string_lossy(),
        "-f",
        &dev_values.to_string_lossy(),
        "--wait",
        "--timeout",
        "300s",
    ])
    .must("install the Milvus chart with its dev values");
    let waited = started.elapsed();
    assert_eq!(s.release_status("mv").as_deref(), Some("deployed"));

    let workloads: Vec<Json> = ["Deployment", "StatefulSet"]
        .iter()
        .flat_map(|kind| {
            s.kube
                .list("apps/v1", kind, &s.ns, "app.kubernetes.io/instance=mv")
                .expect("list workloads")
        })
        .collect();
    assert!(
        workloads
            .iter()
            .any(|w| w["metadata"]["name"] == "mv-milvus-standalone"),
        "no standalone Deployment among {workloads:?}"
    );
    let mut longest_delay = 0;
    for w in &workloads {
        let wanted = w["spec"]["replicas"].as_i64().unwrap_or(1);
        assert_eq!(
            w["status"]["readyReplicas"].as_i64().unwrap_or(0),
            wanted,
            "{} {} not ready: {}",
            w["kind"],
            w["metadata"]["name"],
            w["status"]
        );
        for c in w["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
        {
            longest_delay = longest_delay.max(
                c["readinessProbe"]["initialDelaySeconds"]
                    .as_u64()
                    .unwrap_or(0),
            );
        }
    }
    // The pods turn Ready only after their readiness probes' initial delay: the wait lasted
    // at least that long.
    assert!(
        waited >= Duration::from_secs(longest_delay),
        "returned after {waited:?}, before the {longest_delay}s readiness delay"
    );
    for pod in s.pods("app.kubernetes.io/instance=mv") {
        assert_eq!(pod["status"]["phase"], "Running", "{pod}");
        assert!(condition_true(&pod, "Ready"), "{pod}");
    }

    // An upgrade that changes the configuration rolls standalone with Recreate: Milvus holds
    // one ReadWriteOnce volume and one coordinator session, so the old pod must be gone
    // before the new one starts (issue 15, point 1).
    let standalone = "app.kubernetes.io/instance=mv,app.kubernetes.io/component=standalone";
    let before = s.pods(standalone);
    assert_eq!(before.len(), 1, "{before:?}");
    let old_config = annotation(&before[0], "checksum/config").to_string();
    assert!(!old_config.is_empty());
    let rolled = observe_pods(&s, standalone, "checksum/config", &old_config, || {
        s.rudder(&[
            "upgrade",
            "mv",
            &chart.to_string_lossy(),
            "-f",
            &dev_values.to_string_lossy(),
            "--set",
            "log.format=json",
            "--wait",
            "--timeout",
            "300s",
        ])
    });
    assert!(rolled.saw_new && rolled.saw_old_gone);
    assert!(
        !rolled.old_and_new_together,
        "standalone: a pod of the new configuration existed while the old one was still there"
    );
}

#[test]
fn claims_get_volumes_and_load_balancers_addresses_as_in_a_cloud() {
    let Some(s) = Scope::new("ctl-cloud") else {
        return;
    };
    s.rudder(&[
        "install",
        "web",
        &rollout_chart(),
        "--set",
        "store.enabled=true,serviceType=LoadBalancer",
        "--wait",
        "--timeout",
        "120s",
    ])
    .must("install a StatefulSet with claims and a LoadBalancer");
    let service = s.get("v1", "Service", "web-app").unwrap();
    assert_eq!(
        service["status"]["loadBalancer"]["ingress"][0]["ip"],
        "192.0.2.1"
    );
    let store = s.get("apps/v1", "StatefulSet", "web-store").unwrap();
    assert_eq!(store["status"]["readyReplicas"], 2, "{store}");
    let claims = s
        .kube
        .list("v1", "PersistentVolumeClaim", &s.ns, "app=web-store")
        .unwrap();
    assert_eq!(claims.len(), 2);
    let mut volumes = Vec::new();
    for claim in &claims {
        assert_eq!(claim["status"]["phase"], "Bound", "{claim}");
        let volume = s
            .kube
            .get(&obj(
                "v1",
                "PersistentVolume",
                "",
                claim["spec"]["volumeName"].as_str().unwrap(),
            ))
            .unwrap()
            .expect("the bound volume");
        assert_eq!(
            volume["metadata"]["labels"]["sim.rudder.dev/provisioned"],
            "true"
        );
        assert_eq!(volume["spec"]["capacity"]["storage"], "1Gi");
        volumes.push(volume["metadata"]["name"].as_str().unwrap().to_string());
    }

    // The claims outlive the release, as on a real cluster; once they are deleted, their
    // volumes go too.
    s.rudder(&["uninstall", "web", "--wait", "--timeout", "60s"])
        .must("uninstall");
    for claim in &claims {
        s.kube
            .delete(
                &obj(
                    "v1",
                    "PersistentVolumeClaim",
                    &s.ns,
                    claim["metadata"]["name"].as_str().unwrap(),
                ),
                Propagation::Background,
            )
            .unwrap();
    }
    eventually("the released volumes to be removed", || {
        volumes.iter().all(|v| {
            s.kube
                .get(&obj("v1", "PersistentVolume", "", v))
                .unwrap()
                .is_none()
        })
    });
}

#[test]
fn status_lists_the_pods_related_to_the_release_workloads() {
    let Some(s) = Scope::new("ctl-related") else {
        return;
    };
    let run = s.rudder(&[
        "install",
        "rel",
        &rollout_chart(),
        "--wait",
        "--timeout",
        "90s",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let run = s.rudder(&["status", "rel"]);
    assert!(run.ok, "{}", run.stderr);
    // pkg/kube/client.go (v4.2.3) Get with related=true: after a Deployment (ReplicaSet,
    // StatefulSet, DaemonSet, Job: spec.selector.matchLabels), the pods its selector picks,
    // as the server tables them, under "v1/Pod(related)"; a selector seen before is skipped
    // (getSelectRelationPod), so the section appears once per distinct selector.
    let deployment = s
        .get("apps/v1", "Deployment", "rel-app")
        .expect("deployment");
    let selector: Vec<String> = deployment["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
        .collect();
    let mut pods: Vec<String> = s
        .pods(&selector.join(","))
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    pods.sort();
    assert_eq!(pods.len(), 2);
    let section = run
        .stdout
        .split("==> v1/Pod(related)\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no related pods in:\n{}", run.stdout));
    let lines: Vec<Vec<&str>> = section
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let mut listed: Vec<String> = lines[1..].iter().map(|l| l[0].to_string()).collect();
    listed.sort();
    assert_eq!(listed, pods);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l[1] == "1/1" && l[2] == "Running"),
        "{section}"
    );

    // -o json: the same, as the objects themselves in info.resources (action/status.go with
    // ShowResourcesTable off; Go writes the map's keys sorted), and no chart (cmd/status.go
    // strips it).
    let run = s.rudder(&["status", "rel", "-o", "json"]);
    assert!(run.ok, "{}", run.stderr);
    let status: Json = serde_json::from_str(&run.stdout).expect("status JSON");
    assert!(status.get("chart").is_none());
    let resources = status["info"]["resources"]
        .as_object()
        .expect("info.resources");
    let keys: Vec<&str> = resources.keys().map(String::as_str).collect();
    assert_eq!(keys, ["v1/Deployment", "v1/Pod(related)", "v1/Service"]);
    let mut related: Vec<String> = resources["v1/Pod(related)"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    related.sort();
    assert_eq!(related, pods);
    assert_eq!(resources["v1/Deployment"][0]["status"]["readyReplicas"], 2);

    // A workload without pods: the section is there, empty (kubectl's printTable prints
    // no headers for a table without rows).
    let run = s.rudder(&["install", "none", &rollout_chart(), "--set", "replicas=0"]);
    assert!(run.ok, "{}", run.stderr);
    let run = s.rudder(&["status", "none"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains("==> v1/Pod(related)\n\n"),
        "{}",
        run.stdout
    );
}

fn milvus_chart() -> String {
    repo_root()
        .join("charts/milvus")
        .to_string_lossy()
        .into_owned()
}

/// The selector of one Milvus component's pods in release `release`.
fn milvus_component(release: &str, component: &str) -> String {
    format!("app.kubernetes.io/instance={release},app.kubernetes.io/component={component}")
}

/// The `checksum/config` all pods of `selector` share (asserts they are there and agree).
fn config_checksum(s: &Scope, selector: &str) -> String {
    let pods = s.pods(selector);
    assert!(!pods.is_empty(), "no pods for {selector}");
    let checksum = annotation(&pods[0], "checksum/config").to_string();
    assert!(!checksum.is_empty(), "{}", pods[0]);
    assert!(
        pods.iter()
            .all(|p| annotation(p, "checksum/config") == checksum),
        "pods of {selector} from different configurations: {pods:?}"
    );
    checksum
}

/// Watches `components` of release `release` through an upgrade (see [`observe_groups`]),
/// each group's old pods being those of its current configuration, once the release has
/// settled.
fn observe_components(
    s: &Scope,
    release: &str,
    components: &[&str],
    upgrade: impl FnOnce() -> Run,
) -> Vec<(String, Overlap)> {
    all_workloads_ready(s, release);
    let groups: Vec<Watched> = components
        .iter()
        .map(|c| {
            let selector = milvus_component(release, c);
            Watched {
                old_value: config_checksum(s, &selector),
                selector,
                key: "checksum/config".into(),
            }
        })
        .collect();
    let seen = observe_groups(s, &groups, upgrade);
    components.iter().map(|c| c.to_string()).zip(seen).collect()
}

/// Waits until every Deployment and StatefulSet of `release` has all its replicas ready and
/// of the current template (updated = ready = wanted; the status follows the pods by a few
/// hundred milliseconds) and no pod of the release is still terminating, and returns them.
fn all_workloads_ready(s: &Scope, release: &str) -> Vec<Json> {
    let unsettled = || -> Result<Vec<Json>, String> {
        let workloads: Vec<Json> = ["Deployment", "StatefulSet"]
            .iter()
            .flat_map(|kind| {
                s.kube
                    .list(
                        "apps/v1",
                        kind,
                        &s.ns,
                        &format!("app.kubernetes.io/instance={release}"),
                    )
                    .expect("list workloads")
            })
            .collect();
        let pods = s.pods(&format!("app.kubernetes.io/instance={release}"));
        for w in &workloads {
            let wanted = w["spec"]["replicas"].as_i64().unwrap_or(1);
            let status = &w["status"];
            if status["readyReplicas"].as_i64().unwrap_or(0) != wanted
                || status["updatedReplicas"].as_i64().unwrap_or(0) != wanted
                || status["replicas"].as_i64().unwrap_or(0) != wanted
            {
                return Err(format!(
                    "{} {} not ready: {}",
                    w["kind"], w["metadata"]["name"], status
                ));
            }
        }
        let terminating: Vec<&str> = pods
            .iter()
            .filter(|p| !p["metadata"]["deletionTimestamp"].is_null())
            .filter_map(|p| p["metadata"]["name"].as_str())
            .collect();
        if !terminating.is_empty() {
            return Err(format!("pods still terminating: {terminating:?}"));
        }
        Ok(workloads)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match unsettled() {
            Ok(workloads) => return workloads,
            Err(e) if Instant::now() >= deadline => panic!("after 60 s: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// The Milvus chart in cluster mode for the rollout tests below: bundled etcd and MinIO
/// without volumes, and readiness after 3 s instead of 90 s. The probe delay only sets how
/// long each pod takes to turn Ready on the simulated nodes; the strategy under test is the
/// chart's, unchanged.
const MILVUS_CLUSTER_FOR_ROLLOUTS: &str =
    "cluster.enabled=true,readinessProbe.initialDelaySeconds=3,\
     etcd.persistence.enabled=false,minio.persistence.enabled=false";

#[test]
fn a_milvus_2_6_cluster_upgrade_recreates_mixcoord_and_rolls_the_nodes() {
    let Some(s) = Scope::new("ctl-mv26") else {
        return;
    };
    let chart = milvus_chart();
    let run = |verb: &str, extra: &str| {
        s.rudder(&[
            verb,
            "mv",
            &chart,
            "--set",
            &format!("{MILVUS_CLUSTER_FOR_ROLLOUTS}{extra}"),
            "--wait",
            "--timeout",
            "300s",
        ])
    };
    run("install", "").must("install a Milvus 2.6 cluster");
    let workloads = all_workloads_ready(&s, "mv");
    let mixcoord = s
        .get("apps/v1", "Deployment", "mv-milvus-mixcoord")
        .expect("the mixCoord Deployment");
    assert_eq!(mixcoord["spec"]["strategy"]["type"], "Recreate");
    assert!(
        workloads.len() >= 7,
        "proxy, mixcoord, querynode, datanode, streamingnode, etcd, minio: {workloads:?}"
    );

    // A configuration change rolls every component. mixCoord holds Milvus's one coordinator
    // session: its old pod must be gone before the new one exists (issue 15, point 1). The
    // proxy and the nodes roll with RollingUpdate (maxUnavailable 0), so the same observer
    // does see their old and new pods together.
    let seen = observe_components(
        &s,
        "mv",
        &[
            "mixcoord",
            "proxy",
            "querynode",
            "datanode",
            "streamingnode",
        ],
        || run("upgrade", ",log.format=json"),
    );
    for (component, overlap) in &seen {
        assert!(
            overlap.saw_new && overlap.saw_old_gone,
            "{component} did not roll"
        );
        if component == "mixcoord" {
            assert!(
                !overlap.old_and_new_together,
                "mixcoord: a pod of the new configuration existed while the old one was still there"
            );
        } else {
            assert!(
                overlap.old_and_new_together,
                "{component}: RollingUpdate, yet old and new pods were never seen together"
            );
        }
    }
    all_workloads_ready(&s, "mv");

    // With Milvus's active-standby on, mixCoord may run two pods and rolls like the nodes:
    // the new pod starts next to the old ones (it waits as standby until the active one goes).
    run(
        "upgrade",
        ",log.format=json,mixCoordinator.replicas=2,mixCoordinator.activeStandby.enabled=true",
    )
    .must("turn on active-standby");
    // `rudder upgrade --wait` can return while the last old pod of a rolling update is still
    // there and a new one not yet ready (it counts the Deployment's ready pods, old ones
    // included, where Helm checks the new ReplicaSet and kstatus the pods pending
    // termination): let the rollout settle before reading the pods.
    all_workloads_ready(&s, "mv");
    let mixcoord = s
        .get("apps/v1", "Deployment", "mv-milvus-mixcoord")
        .unwrap();
    assert_eq!(mixcoord["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(mixcoord["status"]["readyReplicas"], 2, "{mixcoord}");
    let seen = observe_components(&s, "mv", &["mixcoord"], || {
        run(
            "upgrade",
            ",log.format=text,mixCoordinator.replicas=2,mixCoordinator.activeStandby.enabled=true",
        )
    });
    assert!(
        seen[0].1.old_and_new_together,
        "active-standby mixcoord: expected a rolling update"
    );
    all_workloads_ready(&s, "mv");
}

#[test]
fn a_milvus_2_5_cluster_upgrade_recreates_every_coordinator() {
    let Some(s) = Scope::new("ctl-mv25") else {
        return;
    };
    let chart = milvus_chart();
    // Milvus 2.5 in cluster mode: rootCoord, queryCoord, dataCoord and (turned on here) indexCoord,
    // each with its own session, on the bundled Kafka.
    let values = format!(
        "{MILVUS_CLUSTER_FOR_ROLLOUTS},image.tag=v2.5.4,kafka.enabled=true,indexCoordinator.enabled=true"
    );
    let run = |verb: &str, extra: &str| {
        s.rudder(&[
            verb,
            "mv",
            &chart,
            "--set",
            &format!("{values}{extra}"),
            "--wait",
            "--timeout",
            "300s",
        ])
    };
    run("install", "").must("install a Milvus 2.5 cluster");
    all_workloads_ready(&s, "mv");
    let coordinators = ["rootcoord", "querycoord", "datacoord", "indexcoord"];
    for c in coordinators {
        let d = s
            .get("apps/v1", "Deployment", &format!("mv-milvus-{c}"))
            .unwrap_or_else(|| panic!("no {c} Deployment"));
        assert_eq!(d["spec"]["strategy"]["type"], "Recreate", "{c}");
    }

    let mut watched: Vec<&str> = coordinators.to_vec();
    watched.extend(["proxy", "querynode", "datanode", "indexnode"]);
    let seen = observe_components(&s, "mv", &watched, || run("upgrade", ",log.format=json"));
    for (component, overlap) in &seen {
        assert!(
            overlap.saw_new && overlap.saw_old_gone,
            "{component} did not roll"
        );
        let coordinator = coordinators.contains(&component.as_str());
        assert_eq!(
            overlap.old_and_new_together,
            !coordinator,
            "{component}: {}",
            if coordinator {
                "a pod of the new configuration existed while the old one was still there"
            } else {
                "RollingUpdate, yet old and new pods were never seen together"
            }
        );
    }
    all_workloads_ready(&s, "mv");
}

/// A pool of simulated nodes of one shape, added to the cluster for one test: a second
/// rudder-node-sim (the one scripts/local-cluster starts keeps its own nodes) whose nodes carry
/// `node.kubernetes.io/instance-type: <prefix>` and the taint `sim.rudder.dev/pool=<prefix>:
/// NoSchedule`, so that only pods that tolerate it land there (not those of the tests running
/// alongside). Dropping it stops the simulator and deletes its nodes.
struct NodePool {
    prefix: String,
    names: Vec<String>,
    simulator: std::process::Child,
    kube: Kube,
}

impl NodePool {
    /// `count` nodes of `cpu` and `memory` allocatable each, once they are Ready.
    fn start(s: &Scope, prefix: &str, count: usize, cpu: &str, memory: &str) -> NodePool {
        // RUDDER_NODE_SIM, else the simulator built next to the rudder binary under test
        // (scripts/test builds every binary of the workspace first).
        let binary = std::env::var_os("RUDDER_NODE_SIM")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_BIN_EXE_rudder")).with_file_name("rudder-node-sim")
            });
        assert!(
            binary.exists(),
            "{} missing: build it with `cargo build -p rudder-node-sim` (or set RUDDER_NODE_SIM)",
            binary.display()
        );
        let log = std::env::temp_dir().join(format!("{prefix}-node-sim.log"));
        let simulator = Command::new(&binary)
            .args(["--kubeconfig", &s.kubeconfig, "--prefix", prefix])
            .args([
                "--nodes",
                &count.to_string(),
                "--cpu",
                cpu,
                "--memory",
                memory,
            ])
            .args([
                "--taint",
                &format!("sim.rudder.dev/pool={prefix}:NoSchedule"),
            ])
            // The cluster's own simulator already provisions volumes and load balancers.
            .arg("--no-cloud")
            .stdout(std::process::Stdio::null())
            // Its messages, read if it stops early (a file: an unread pipe could fill up).
            .stderr(std::fs::File::create(&log).expect("simulator log"))
            .spawn()
            .expect("start rudder-node-sim");
        let kube = Kube::connect(&ConnectOptions {
            kubeconfig: Some(s.kubeconfig.clone().into()),
            ..ConnectOptions::default()
        })
        .expect("connect");
        let mut pool = NodePool {
            prefix: prefix.to_string(),
            names: (0..count).map(|i| format!("{prefix}-{i}")).collect(),
            simulator,
            kube,
        };
        eventually(
            &format!("the {count} nodes of pool {prefix} to be Ready"),
            || {
                if let Ok(Some(status)) = pool.simulator.try_wait() {
                    panic!(
                        "{} stopped ({status}): {}",
                        binary.display(),
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                let nodes = pool
                    .kube
                    .list("v1", "Node", "", &pool.selector())
                    .expect("list nodes");
                nodes.len() == count && nodes.iter().all(|n| condition_true(n, "Ready"))
            },
        );
        let _ = std::fs::remove_file(&log);
        pool
    }

    fn selector(&self) -> String {
        format!("node.kubernetes.io/instance-type={}", self.prefix)
    }

    /// `--set` text that puts every Milvus pod on this pool: the chart's `nodeSelector` and
    /// `tolerations`.
    fn milvus_placement(&self) -> String {
        format!(
            "nodeSelector.node\\.kubernetes\\.io/instance-type={0},\
             tolerations[0].key=sim.rudder.dev/pool,tolerations[0].value={0},\
             tolerations[0].effect=NoSchedule",
            self.prefix
        )
    }
}

impl Drop for NodePool {
    fn drop(&mut self) {
        let _ = self.simulator.kill();
        let _ = self.simulator.wait();
        // Pods still bound to the nodes are removed by the pod garbage collector.
        for name in &self.names {
            let _ = self
                .kube
                .delete(&obj("v1", "Node", "", name), Propagation::Background);
        }
    }
}

/// What the production values expect to exist: the ServiceMonitor CRD and the three Secrets
/// the README's quick start creates (root password, proxy certificate, S3 keys).
fn prepare_for_milvus_prod(s: &Scope) {
    let crd = repo_root().join("tests/fixtures/servicemonitor-crd.yaml");
    for args in [
        vec!["apply", "--server-side", "-f", &*crd.to_string_lossy()],
        vec![
            "wait",
            "--for=condition=Established",
            "crd/servicemonitors.monitoring.coreos.com",
            "--timeout=60s",
        ],
    ] {
        let out = Command::new("kubectl")
            .env("KUBECONFIG", &s.kubeconfig)
            .args(&args)
            .output()
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (name, kind, data) in [
        (
            "milvus-root-password",
            "Opaque",
            json!({"password": "not-the-default"}),
        ),
        (
            "milvus-proxy-tls",
            "kubernetes.io/tls",
            json!({"tls.crt": "certificate", "tls.key": "key"}),
        ),
        (
            "milvus-s3-credentials",
            "Opaque",
            json!({"accesskey": "a", "secretkey": "s"}),
        ),
    ] {
        s.kube
            .create(
                &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                        "type": kind, "stringData": data}),
                &s.ns,
            )
            .expect("create a Secret");
    }
}

/// The production values on the nodes of `pool`, readiness after 5 s instead of 90 s (the
/// delay only sets how long the simulated pods take to turn Ready; what is scheduled where is
/// the production values' resources), plus `extra` `--set` text.
fn milvus_prod(s: &Scope, verb: &str, pool: &NodePool, extra: &str, timeout: &str) -> Run {
    let prod = repo_root().join("charts/milvus/values/prod-values.yaml");
    s.rudder(&[
        verb,
        "milvus-prod",
        &milvus_chart(),
        "-f",
        &prod.to_string_lossy(),
        "--set",
        &format!(
            "{},readinessProbe.initialDelaySeconds=5{extra}",
            pool.milvus_placement()
        ),
        "--wait",
        "--timeout",
        timeout,
    ])
}

/// Sums of the CPU (millicores) and memory (bytes) requests of the pods on each node.
fn requests_by_node(pods: &[Json]) -> std::collections::BTreeMap<String, (i64, i64)> {
    fn quantity(q: &str) -> i64 {
        let units = [
            ("Ki", 1i64 << 10),
            ("Mi", 1 << 20),
            ("Gi", 1 << 30),
            ("Ti", 1 << 40),
        ];
        for (suffix, factor) in units {
            if let Some(n) = q.strip_suffix(suffix) {
                return n.parse::<i64>().expect("quantity") * factor;
            }
        }
        if let Some(n) = q.strip_suffix('m') {
            return n.parse().expect("quantity");
        }
        // Whole CPUs, as millicores.
        q.parse::<i64>().expect("quantity") * 1000
    }
    let mut by_node = std::collections::BTreeMap::new();
    for pod in pods {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        let entry = by_node.entry(node).or_insert((0, 0));
        for c in pod["spec"]["containers"].as_array().unwrap() {
            let requests = &c["resources"]["requests"];
            entry.0 += requests["cpu"].as_str().map_or(0, quantity);
            entry.1 += requests["memory"].as_str().map_or(0, quantity);
        }
    }
    by_node
}

/// Nine nodes of 15.5 CPU and 58Gi allocatable (16 vCPU / 64 GiB machines after the kubelet's
/// reservations), three per zone: the pool charts/milvus/README.md ("Sizing") recommends for the
/// production values.
const PROD_POOL: (usize, &str, &str) = (9, "15500m", "58Gi");

#[test]
fn milvus_prod_fits_the_node_pool_its_readme_recommends() {
    let Some(s) = Scope::new("ctl-mvprod") else {
        return;
    };
    let (count, cpu, memory) = PROD_POOL;
    let pool = NodePool::start(
        &s,
        &format!("mvfit{}", std::process::id()),
        count,
        cpu,
        memory,
    );
    prepare_for_milvus_prod(&s);
    milvus_prod(&s, "install", &pool, "", "300s").must("install the production values");
    assert_eq!(s.release_status("milvus-prod").as_deref(), Some("deployed"));

    let release = "app.kubernetes.io/instance=milvus-prod";
    let on_pool = |pods: &[Json]| {
        for pod in pods {
            let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
            assert!(
                pool.names.iter().any(|n| n == node),
                "{} not on the pool: {}",
                pod["metadata"]["name"],
                pod["status"]
            );
            assert_eq!(pod["status"]["phase"], "Running", "{pod}");
            assert!(condition_true(pod, "Ready"), "{pod}");
        }
    };
    all_workloads_ready(&s, "milvus-prod");
    // The proxies' HorizontalPodAutoscaler (no replicas in the Deployment) raises them to
    // its minimum of 3.
    eventually("three ready proxies", || {
        s.get("apps/v1", "Deployment", "milvus-prod-proxy")
            .is_some_and(|d| d["status"]["readyReplicas"] == 3)
    });
    let pods = s.pods(release);
    // 3 proxies, 2 mixCoord, 10 query nodes, 2 data nodes, 2 streaming nodes.
    assert_eq!(pods.len(), 19, "{pods:?}");
    on_pool(&pods);

    // The most the values ask for: the proxies at the autoscaler's maximum (10) while a
    // configuration change rolls every Deployment with its surge pod. Everything is still
    // placed and turns Ready.
    milvus_prod(
        &s,
        "upgrade",
        &pool,
        ",proxy.hpa.minReplicas=10,log.level=info",
        "600s",
    )
    .must("upgrade to 10 proxies with a configuration change");
    eventually("ten ready proxies of the new configuration", || {
        s.get("apps/v1", "Deployment", "milvus-prod-proxy")
            .is_some_and(|d| {
                d["status"]["readyReplicas"] == 10 && d["status"]["updatedReplicas"] == 10
            })
    });
    eventually("the old pods to go", || s.pods(release).len() == 26);
    all_workloads_ready(&s, "milvus-prod");
    let pods = s.pods(release);
    on_pool(&pods);
    let allocatable = (15_500, 58i64 << 30);
    for (node, (cpu, memory)) in requests_by_node(&pods) {
        // Shown with --nocapture: how full the peak leaves each node.
        eprintln!("{node}: {cpu}m CPU, {} Gi requested", memory >> 30);
        assert!(
            cpu <= allocatable.0 && memory <= allocatable.1,
            "{node}: {cpu}m CPU, {memory} bytes requested"
        );
    }
}

#[test]
fn milvus_prod_on_a_pool_too_small_stays_pending_and_wait_names_what_is_not_ready() {
    let Some(s) = Scope::new("ctl-mvsmall") else {
        return;
    };
    // Three nodes of 8 CPU / 32Gi: 24 CPU for the 56 CPU the production values request.
    let pool = NodePool::start(
        &s,
        &format!("mvsmall{}", std::process::id()),
        3,
        "8",
        "32Gi",
    );
    prepare_for_milvus_prod(&s);
    let run = milvus_prod(&s, "install", &pool, "", "40s");
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stderr.contains("resources not ready after 40s")
            && run.stderr.contains("Deployment/milvus-prod-querynode"),
        "{}",
        run.stderr
    );
    assert_eq!(s.release_status("milvus-prod").as_deref(), Some("failed"));

    // The scheduler says why: the pending pods do not fit the nodes' free CPU or memory.
    let pending: Vec<Json> = s
        .pods("app.kubernetes.io/instance=milvus-prod")
        .into_iter()
        .filter(|p| p["status"]["phase"] == "Pending")
        .collect();
    assert!(!pending.is_empty(), "every pod was placed");
    for pod in &pending {
        assert!(pod["spec"]["nodeName"].is_null(), "{pod}");
        let scheduled = pod["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled"))
            .unwrap_or_else(|| panic!("no PodScheduled condition: {pod}"));
        assert_eq!(scheduled["status"], "False", "{pod}");
        assert_eq!(scheduled["reason"], "Unschedulable", "{pod}");
        assert!(
            scheduled["message"].as_str().is_some_and(
                |m| m.contains("Insufficient cpu") || m.contains("Insufficient memory")
            ),
            "{scheduled}"
        );
    }
}

#[test]
fn a_failing_milvus_install_or_upgrade_with_rollback_on_failure_is_undone() {
    let Some(s) = Scope::new("ctl-mvatomic") else {
        return;
    };
    let chart = milvus_chart();
    let dev = repo_root().join("charts/milvus/values/dev-values.yaml");
    let dev = dev.to_string_lossy();
    // Milvus's pods crash-loop when they carry the simulator's fail annotation (the chart's
    // podAnnotations): they never turn Ready, as when Milvus cannot start.
    let milvus = |verb: &str, release: &str, failing: bool, timeout: &str| {
        let mut args = vec![
            verb,
            release,
            &chart,
            "-f",
            &dev,
            "--set",
            "readinessProbe.initialDelaySeconds=3",
            "--wait",
            "--timeout",
            timeout,
        ];
        if failing {
            args.extend([
                "--set-string",
                "podAnnotations.sim\\.rudder\\.dev/fail=true",
                "--atomic",
            ]);
        }
        s.rudder(&args)
    };

    let run = milvus("install", "bad", true, "20s");
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "release bad failed, and has been uninstalled due to rollback-on-failure being set"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(s.release_status("bad"), None);
    assert!(s
        .get("apps/v1", "Deployment", "bad-milvus-standalone")
        .is_none());
    eventually("the failed install's pods to go", || {
        s.pods("app.kubernetes.io/instance=bad").is_empty()
    });

    milvus("install", "mv", false, "300s").must("install the dev values");
    let standalone = milvus_component("mv", "standalone");
    let good_pod = s.pods(&standalone);
    assert_eq!(good_pod.len(), 1);
    let run = milvus("upgrade", "mv", true, "20s");
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("has been rolled back due to rollback-on-failure being set"),
        "{}",
        run.stderr
    );
    let history: Json = serde_json::from_str(
        &s.rudder(&["history", "mv", "-o", "json"])
            .must("history")
            .stdout,
    )
    .unwrap();
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["superseded", "failed", "deployed"], "{history}");
    // Standalone rolls with Recreate: the upgrade removed the good pod before starting the
    // crash-looping one, and the rollback brings a pod of the first template back.
    eventually("a ready standalone pod of the first template", || {
        let pods = s.pods(&standalone);
        pods.len() == 1
            && annotation(&pods[0], "sim.rudder.dev/fail").is_empty()
            && condition_true(&pods[0], "Ready")
            && pods[0]["metadata"]["name"] != good_pod[0]["metadata"]["name"]
    });
}

#[test]
fn milvus_prod_still_fits_the_recommended_pool_after_losing_a_zone() {
    let Some(s) = Scope::new("ctl-mvzone") else {
        return;
    };
    // The recommended pool less one zone's three nodes, by capacity (the six nodes left are
    // still labelled over three zones; the values spread over zones with ScheduleAnyway, so
    // this does not change where pods may go): the production values at their minimum
    // (3 proxies) still fit.
    let (count, cpu, memory) = PROD_POOL;
    let pool = NodePool::start(
        &s,
        &format!("mvzone{}", std::process::id()),
        count - 3,
        cpu,
        memory,
    );
    prepare_for_milvus_prod(&s);
    milvus_prod(&s, "install", &pool, "", "300s").must("install on six nodes");
    eventually("three ready proxies", || {
        s.get("apps/v1", "Deployment", "milvus-prod-proxy")
            .is_some_and(|d| d["status"]["readyReplicas"] == 3)
    });
    all_workloads_ready(&s, "milvus-prod");
    let pods = s.pods("app.kubernetes.io/instance=milvus-prod");
    assert_eq!(pods.len(), 19);
    for pod in &pods {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
        assert!(pool.names.iter().any(|n| n == node), "{pod}");
        assert!(condition_true(pod, "Ready"), "{pod}");
    }
}
