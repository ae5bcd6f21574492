//! What the kubelet would report for one pod, as a pure function of the pod and the time.
//!
//! Nothing runs: a pod bound to a simulated node starts at once, each container turns ready
//! after its readiness probe's `initialDelaySeconds`, pods that do not restart forever (Jobs'
//! pods, Helm test and hook pods: `restartPolicy` Never or OnFailure) finish after
//! [`RUN_SECONDS_ANNOTATION`] seconds (default 0, i.e. at the next tick after they run), and
//! [`FAIL_ANNOTATION`] makes a pod fail: finished pods exit 1, restarting pods stay in
//! CrashLoopBackOff and never become ready. The state lives in the pod's own status (its
//! `startTime`), so a restarted simulator continues where the last one stopped.

use serde_json::{json, Value as Json};

/// `"true"` on a pod (e.g. through a Deployment's or Job's pod template) makes it fail.
pub const FAIL_ANNOTATION: &str = "sim.rudder.dev/fail";
/// How long a pod that finishes (`restartPolicy` Never/OnFailure) runs, in whole seconds.
pub const RUN_SECONDS_ANNOTATION: &str = "sim.rudder.dev/run-seconds";

/// What to do with a pod on this tick.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Its deletion was requested: the containers are "stopped", finish the deletion.
    FinishDeletion,
    /// Write this `status` (a JSON merge patch body for the status subresource).
    PatchStatus(Json),
    /// Its status is already what the kubelet would report.
    Nothing,
}

/// Addresses the simulated kubelet hands out.
pub struct Addresses<'a> {
    pub host_ip: &'a str,
    pub pod_ip: &'a str,
}

/// The next step for `pod` at `now` (Unix seconds).
pub fn next_action(pod: &Json, now: i64, addresses: &Addresses) -> Action {
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        return Action::FinishDeletion;
    }
    let status = &pod["status"];
    if matches!(status["phase"].as_str(), Some("Succeeded" | "Failed")) {
        return Action::Nothing;
    }
    let desired = desired_status(pod, now, addresses);
    if summary(status) == summary(&desired) {
        Action::Nothing
    } else {
        Action::PatchStatus(json!({ "status": desired }))
    }
}

/// The status the kubelet would write for `pod` at `now`.
fn desired_status(pod: &Json, now: i64, addresses: &Addresses) -> Json {
    let status = &pod["status"];
    let annotations = &pod["metadata"]["annotations"];
    let start_text = status["startTime"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| rfc3339(now));
    let started = parse_rfc3339(&start_text).unwrap_or(now);
    let first_sight = status["startTime"].is_null();
    let elapsed = now - started;
    let fails = annotations[FAIL_ANNOTATION] == "true";
    let restarts_forever = pod["spec"]["restartPolicy"]
        .as_str()
        .is_none_or(|p| p == "Always");
    let run_seconds = annotations[RUN_SECONDS_ANNOTATION]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    let finished = !restarts_forever && !first_sight && elapsed >= run_seconds;
    let now_text = rfc3339(now);

    let containers = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let container_statuses: Vec<Json> = containers
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap_or("");
            let delay = c["readinessProbe"]["initialDelaySeconds"]
                .as_i64()
                .unwrap_or(0);
            let (state, ready, restarts, last_state) = if finished {
                let (code, reason) = if fails {
                    (1, "Error")
                } else {
                    (0, "Completed")
                };
                let state = json!({"terminated": {
                    "exitCode": code, "reason": reason,
                    "startedAt": start_text, "finishedAt": now_text,
                    "containerID": container_id(pod, name),
                }});
                (state, false, 0, json!({}))
            } else if fails && restarts_forever {
                let state = json!({"waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": format!("simulated failure ({FAIL_ANNOTATION})"),
                }});
                let last = json!({"terminated": {
                    "exitCode": 1, "reason": "Error",
                    "startedAt": start_text, "finishedAt": start_text,
                    "containerID": container_id(pod, name),
                }});
                (state, false, 1, last)
            } else {
                let state = json!({"running": {"startedAt": start_text}});
                (state, elapsed >= delay, 0, json!({}))
            };
            json!({
                "name": name,
                "image": c["image"],
                "imageID": format!("sim://{}", c["image"].as_str().unwrap_or("")),
                "containerID": container_id(pod, name),
                "ready": ready,
                "started": state.get("running").is_some(),
                "restartCount": restarts,
                "state": state,
                "lastState": last_state,
            })
        })
        .collect();
    let init_statuses: Vec<Json> = pod["spec"]["initContainers"]
        .as_array()
        .map(|inits| {
            inits
                .iter()
                .map(|c| {
                    let name = c["name"].as_str().unwrap_or("");
                    json!({
                        "name": name,
                        "image": c["image"],
                        "imageID": format!("sim://{}", c["image"].as_str().unwrap_or("")),
                        "containerID": container_id(pod, name),
                        "ready": true,
                        "restartCount": 0,
                        "state": {"terminated": {
                            "exitCode": 0, "reason": "Completed",
                            "startedAt": start_text, "finishedAt": start_text,
                            "containerID": container_id(pod, name),
                        }},
                    })
                })
                .collect()
        })
        .unwrap_or_default();

    let all_ready =
        !container_statuses.is_empty() && container_statuses.iter().all(|c| c["ready"] == true);
    let phase = match (finished, fails) {
        (true, true) => "Failed",
        (true, false) => "Succeeded",
        _ => "Running",
    };
    let ready_reason = if finished {
        Some("PodCompleted")
    } else if all_ready {
        None
    } else {
        Some("ContainersNotReady")
    };
    let conditions = vec![
        condition(status, "PodScheduled", true, None, &now_text),
        condition(status, "Initialized", true, None, &now_text),
        condition(
            status,
            "ContainersReady",
            all_ready,
            ready_reason,
            &now_text,
        ),
        condition(status, "Ready", all_ready, ready_reason, &now_text),
    ];
    let mut desired = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": addresses.host_ip,
        "podIP": status["podIP"].as_str().unwrap_or(addresses.pod_ip),
        "podIPs": [{"ip": status["podIP"].as_str().unwrap_or(addresses.pod_ip)}],
        "startTime": start_text,
        "containerStatuses": container_statuses,
    });
    if !init_statuses.is_empty() {
        desired["initContainerStatuses"] = Json::Array(init_statuses);
    }
    desired
}

/// A pod condition; its transition time is kept while its status does not change.
fn condition(status: &Json, kind: &str, true_: bool, reason: Option<&str>, now: &str) -> Json {
    let value = if true_ { "True" } else { "False" };
    let previous = status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind));
    let since = match previous {
        Some(p) if p["status"] == value && p["lastTransitionTime"].is_string() => {
            p["lastTransitionTime"].clone()
        }
        _ => Json::from(now),
    };
    let mut c =
        json!({"type": kind, "status": value, "lastProbeTime": null, "lastTransitionTime": since});
    if let Some(r) = reason {
        c["reason"] = Json::from(r);
    }
    c
}

fn container_id(pod: &Json, container: &str) -> String {
    format!(
        "sim://{}/{container}",
        pod["metadata"]["uid"].as_str().unwrap_or("")
    )
}

/// The parts of a status that matter to controllers and waiters; timestamps are left out so
/// that an unchanged pod is not rewritten on every tick.
fn summary(status: &Json) -> Json {
    let conditions: Vec<Json> = status["conditions"]
        .as_array()
        .map(|cs| {
            let mut v: Vec<Json> = cs.iter().map(|c| json!([c["type"], c["status"]])).collect();
            v.sort_by_key(|c| c.to_string());
            v
        })
        .unwrap_or_default();
    let containers = |key: &str| -> Vec<Json> {
        status[key]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        let state = c["state"]
                            .as_object()
                            .and_then(|s| s.keys().next().cloned())
                            .unwrap_or_default();
                        json!([c["name"], c["ready"], c["restartCount"], state])
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    json!({
        "phase": status["phase"],
        "podIP": status["podIP"],
        "conditions": conditions,
        "containers": containers("containerStatuses"),
        "init": containers("initContainerStatuses"),
    })
}

/// `seconds` since the Unix epoch as Kubernetes writes times (RFC 3339, UTC, whole seconds).
pub fn rfc3339(seconds: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    text.parse::<k8s_openapi::jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: Addresses = Addresses {
        host_ip: "10.240.0.1",
        pod_ip: "10.244.0.7",
    };

    fn pod(restart_policy: &str, annotations: Json, delay: Option<i64>) -> Json {
        let mut container = json!({"name": "app", "image": "busybox"});
        if let Some(d) = delay {
            container["readinessProbe"] = json!({"initialDelaySeconds": d});
        }
        json!({
            "metadata": {"name": "p", "namespace": "n", "uid": "u1", "annotations": annotations},
            "spec": {"nodeName": "sim-0", "restartPolicy": restart_policy, "containers": [container]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]},
        })
    }

    /// Applies the action's status the way a merge patch would (whole keys replaced).
    fn apply(pod: &mut Json, action: Action) {
        let Action::PatchStatus(patch) = action else {
            panic!("expected a status patch, got {action:?}")
        };
        for (k, v) in patch["status"].as_object().unwrap() {
            pod["status"][k] = v.clone();
        }
    }

    /// One tick at `now`, which must change the status.
    fn step(pod: &mut Json, now: i64) {
        let action = next_action(pod, now, &ADDR);
        apply(pod, action);
    }

    fn ready(pod: &Json) -> bool {
        pod["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    }

    #[test]
    fn a_served_pod_runs_and_turns_ready_after_its_probe_delay() {
        let t0 = 1_700_000_000;
        let mut p = pod("Always", json!({}), Some(5));
        step(&mut p, t0);
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(p["status"]["podIP"], "10.244.0.7");
        assert_eq!(p["status"]["startTime"], rfc3339(t0));
        assert!(!ready(&p));
        assert_eq!(next_action(&p, t0 + 4, &ADDR), Action::Nothing);
        step(&mut p, t0 + 5);
        assert!(ready(&p));
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
        assert_eq!(next_action(&p, t0 + 60, &ADDR), Action::Nothing);
    }

    #[test]
    fn a_pod_that_does_not_restart_succeeds_after_its_run_time() {
        let t0 = 1_700_000_000;
        let mut p = pod("Never", json!({RUN_SECONDS_ANNOTATION: "3"}), None);
        step(&mut p, t0);
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(next_action(&p, t0 + 2, &ADDR), Action::Nothing);
        step(&mut p, t0 + 3);
        assert_eq!(p["status"]["phase"], "Succeeded");
        let terminated = &p["status"]["containerStatuses"][0]["state"]["terminated"];
        assert_eq!(terminated["exitCode"], 0);
        assert_eq!(terminated["reason"], "Completed");
        assert_eq!(next_action(&p, t0 + 4, &ADDR), Action::Nothing);
    }

    #[test]
    fn the_fail_annotation_fails_finishing_pods_and_crash_loops_restarting_ones() {
        let t0 = 1_700_000_000;
        let mut job_pod = pod("OnFailure", json!({FAIL_ANNOTATION: "true"}), None);
        step(&mut job_pod, t0);
        step(&mut job_pod, t0 + 1);
        assert_eq!(job_pod["status"]["phase"], "Failed");
        assert_eq!(
            job_pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            1
        );

        let mut served = pod("Always", json!({FAIL_ANNOTATION: "true"}), None);
        step(&mut served, t0);
        assert_eq!(served["status"]["phase"], "Running");
        assert_eq!(
            served["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "CrashLoopBackOff"
        );
        assert!(!ready(&served));
        assert_eq!(next_action(&served, t0 + 600, &ADDR), Action::Nothing);
    }

    #[test]
    fn a_pod_being_deleted_is_finished_off() {
        let mut p = pod("Always", json!({}), None);
        p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert_eq!(next_action(&p, 0, &ADDR), Action::FinishDeletion);
    }

    #[test]
    fn init_containers_are_reported_completed() {
        let mut p = pod("Always", json!({}), None);
        p["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}]);
        step(&mut p, 1_700_000_000);
        assert_eq!(
            p["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        assert!(ready(&p));
    }

    #[test]
    fn times_are_written_and_read_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-12-05T13:00:00Z"), Some(1_796_475_600));
    }
}
