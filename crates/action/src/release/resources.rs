//! The Kubernetes side of a release: turning manifests into objects, stamping ownership,
//! applying and deleting them in Helm's order, running hooks and waiting for readiness.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rudder_engine::{split_manifests, INSTALL_ORDER};
use rudder_kube::{Kube, ObjectRef, Propagation};
use rudder_storage::{Hook, Release};
use serde_json::Value as Json;

use crate::Error;

pub(crate) const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub(crate) const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
pub(crate) const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";
pub(crate) const RESOURCE_POLICY_ANNOTATION: &str = "helm.sh/resource-policy";
pub(crate) const FIELD_MANAGER: &str = "helm";

/// One object of a manifest, as JSON, with where it came from.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    pub json: Json,
    pub reference: ObjectRef,
}

impl Object {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.json["metadata"]["annotations"][key].as_str()
    }
}

/// Why a manifest document does not become JSON (each step's own wording).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DocumentError {
    #[error(transparent)]
    Yaml(rudder_value::yaml::DecodeError),
    #[error(transparent)]
    Encode(rudder_value::json::EncodeError),
    #[error(transparent)]
    Json(serde_json::Error),
}

/// Reads a YAML document as Kubernetes reads it (go-yaml, integers stay integers) into JSON.
pub(crate) fn yaml_to_json(doc: &str) -> Result<Json, DocumentError> {
    let value = rudder_value::yaml::from_yaml_native(doc).map_err(DocumentError::Yaml)?;
    if value.is_nil() {
        return Ok(Json::Null);
    }
    let text = rudder_value::json::to_json(&value).map_err(DocumentError::Encode)?;
    serde_json::from_str(&text).map_err(DocumentError::Json)
}

/// Every object of a release manifest (`---`-separated documents), in manifest order.
pub(crate) fn parse_manifest(manifest: &str, namespace: &str) -> Result<Vec<Object>, Error> {
    let mut out = Vec::new();
    for doc in split_manifests(manifest) {
        let json = yaml_to_json(doc).map_err(|e| {
            Error::context(
                format!(
                    "unable to build kubernetes objects from release manifest: error parsing {}: {e}",
                    source_of(doc)
                ),
                e,
            )
        })?;
        if json.is_null() {
            continue;
        }
        if !json.is_object() || json["kind"].as_str().unwrap_or("").is_empty() {
            return Err(Error::message(format!(
                "unable to build kubernetes objects from release manifest: error validating data from {}: kind not set",
                source_of(doc)
            )));
        }
        let reference = ObjectRef::of(&json, namespace);
        out.push(Object { json, reference });
    }
    Ok(out)
}

fn source_of(doc: &str) -> &str {
    doc.lines()
        .find_map(|l| l.strip_prefix("# Source: "))
        .unwrap_or("manifest")
}

/// Resolves each object's resource (discovery) and fixes its namespace: cluster-scoped
/// objects have none, namespaced ones default to the release's.
pub(crate) fn locate(kube: &Kube, objects: &mut [Object]) -> Result<(), Error> {
    for o in objects.iter_mut() {
        let (_, located) = kube
            .locate(&o.reference)
            .map_err(|e| Error::message(e.to_string()))?;
        o.reference = located;
        if !o.reference.namespace.is_empty() {
            o.json["metadata"]["namespace"] = Json::String(o.reference.namespace.clone());
        }
    }
    Ok(())
}

/// Helm's `setMetadataVisitor`: the managed-by label and the two release annotations.
pub(crate) fn stamp_ownership(objects: &mut [Object], release: &str, namespace: &str) {
    for o in objects {
        let meta = &mut o.json["metadata"];
        if !meta["labels"].is_object() {
            meta["labels"] = Json::Object(Default::default());
        }
        meta["labels"][MANAGED_BY_LABEL] = Json::String("Helm".into());
        if !meta["annotations"].is_object() {
            meta["annotations"] = Json::Object(Default::default());
        }
        meta["annotations"][RELEASE_NAME_ANNOTATION] = Json::String(release.into());
        meta["annotations"][RELEASE_NAMESPACE_ANNOTATION] = Json::String(namespace.into());
    }
}

/// Why a live object does not belong to the release (Helm's `checkOwnership` wording):
/// every label or annotation that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ownership metadata; {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
pub(crate) struct OwnershipError(Vec<OwnershipProblem>);

/// One wrong label (`label`) or annotation (`annotation`) of [`OwnershipError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OwnershipProblem {
    #[error("{place} validation error: missing key {key:?}: must be set to {want:?}")]
    Missing {
        place: &'static str,
        key: &'static str,
        want: String,
    },
    #[error(
        "{place} validation error: key {key:?} must equal {want:?}: current value is {actual:?}"
    )]
    Differs {
        place: &'static str,
        key: &'static str,
        want: String,
        actual: String,
    },
}

/// Helm's `checkOwnership` of a live object.
pub(crate) fn check_ownership(
    live: &Json,
    release: &str,
    namespace: &str,
) -> Result<(), OwnershipError> {
    let require = |place: &'static str, key: &'static str, want: &str| {
        let map = &live["metadata"][if place == "label" {
            "labels"
        } else {
            "annotations"
        }];
        match map[key].as_str() {
            None => Some(OwnershipProblem::Missing {
                place,
                key,
                want: want.to_string(),
            }),
            Some(actual) if actual != want => Some(OwnershipProblem::Differs {
                place,
                key,
                want: want.to_string(),
                actual: actual.to_string(),
            }),
            Some(_) => None,
        }
    };
    let problems: Vec<OwnershipProblem> = [
        require("label", MANAGED_BY_LABEL, "Helm"),
        require("annotation", RELEASE_NAME_ANNOTATION, release),
        require("annotation", RELEASE_NAMESPACE_ANNOTATION, namespace),
    ]
    .into_iter()
    .flatten()
    .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(OwnershipError(problems))
    }
}

/// Helm's `resourceString`.
pub(crate) fn describe(r: &ObjectRef) -> String {
    format!("{} {:?} in namespace {:?}", r.kind, r.name, r.namespace)
}

/// Objects that already exist must belong to this release (Helm's
/// `existingResourceConflict`), unless ownership is being taken.
pub(crate) fn check_conflicts(
    kube: &Kube,
    objects: &[Object],
    skip: &BTreeSet<ObjectRef>,
    release: &str,
    namespace: &str,
    take_ownership: bool,
) -> Result<(), Error> {
    if take_ownership {
        return Ok(());
    }
    for o in objects {
        if skip.contains(&o.reference) {
            continue;
        }
        let live = kube.get(&o.reference).map_err(|e| {
            Error::message(format!(
                "could not get information about the resource {}: {e}",
                describe(&o.reference)
            ))
        })?;
        if let Some(live) = live {
            check_ownership(&live, release, namespace).map_err(|e| {
                Error::context(
                    format!(
                        "{} exists and cannot be imported into the current release: {e}",
                        describe(&o.reference)
                    ),
                    e,
                )
            })?;
        }
    }
    Ok(())
}

/// Rank of a kind in Helm's install order; unknown kinds come after every known one.
fn install_rank(kind: &str) -> usize {
    INSTALL_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// Helm's uninstall order: known kinds in reverse install order, then unknown kinds
/// alphabetically; ties keep manifest order.
pub(crate) fn sort_for_uninstall(objects: &mut [Object]) {
    objects.sort_by(|a, b| {
        let (ra, rb) = (
            install_rank(&a.reference.kind),
            install_rank(&b.reference.kind),
        );
        let known = INSTALL_ORDER.len();
        match (ra == known, rb == known) {
            (false, false) => rb.cmp(&ra),
            (true, true) => a.reference.kind.cmp(&b.reference.kind),
            (false, true) => std::cmp::Ordering::Less,
            (true, false) => std::cmp::Ordering::Greater,
        }
    });
}

/// Server-side applies every object, in order; returns those that did not exist before.
pub(crate) fn apply_all(
    kube: &Kube,
    objects: &[Object],
    force_conflicts: bool,
) -> Result<Vec<ObjectRef>, Error> {
    let mut created = Vec::new();
    for o in objects {
        let existed = kube
            .get(&o.reference)
            .map_err(|e| Error::message(e.to_string()))?
            .is_some();
        kube.apply(
            &o.json,
            &o.reference.namespace,
            FIELD_MANAGER,
            force_conflicts,
        )
        .map_err(|e| {
            if e.is_conflict() {
                Error::message(format!(
                    "conflict occurred while applying object {}/{} {}: {e}",
                    o.reference.namespace, o.reference.name, o.reference.api_version
                ))
            } else {
                Error::message(format!("failed to apply {}: {e}", describe(&o.reference)))
            }
        })?;
        if !existed {
            created.push(o.reference.clone());
        }
    }
    Ok(created)
}

/// Deletes objects (already in deletion order); those whose annotation says `keep` stay.
/// Returns the kept ones as `[Kind] name` and the errors.
pub(crate) fn delete_all(
    kube: &Kube,
    objects: &[Object],
    propagation: Propagation,
) -> (Vec<String>, Vec<String>) {
    let mut kept = Vec::new();
    let mut errors = Vec::new();
    for o in objects {
        if let Some(policy) = o.annotation(RESOURCE_POLICY_ANNOTATION) {
            if policy.trim().eq_ignore_ascii_case("keep") {
                kept.push(format!("[{}] {}", o.reference.kind, o.reference.name));
            }
            // Helm drops objects with any other policy value from both lists.
            continue;
        }
        if let Err(e) = kube.delete(&o.reference, propagation) {
            errors.push(e.to_string());
        }
    }
    (kept, errors)
}

/// Deletes what the old revision had and the new one does not (upgrade, rollback), unless
/// the live object says `helm.sh/resource-policy: keep`.
pub(crate) fn delete_removed(kube: &Kube, old: &[Object], new: &[Object]) -> Result<(), Error> {
    let keep: BTreeSet<(String, String, String, String)> = new.iter().map(identity).collect();
    let mut gone: Vec<Object> = old
        .iter()
        .filter(|o| !keep.contains(&identity(o)))
        .cloned()
        .collect();
    sort_for_uninstall(&mut gone);
    for o in gone {
        let live = match kube.get(&o.reference) {
            Ok(Some(live)) => live,
            Ok(None) => continue,
            Err(e) => return Err(Error::message(e.to_string())),
        };
        if live["metadata"]["annotations"][RESOURCE_POLICY_ANNOTATION].as_str() == Some("keep") {
            continue;
        }
        kube.delete(&o.reference, Propagation::Background)
            .map_err(|e| {
                Error::message(format!("failed to delete {}: {e}", describe(&o.reference)))
            })?;
    }
    Ok(())
}

/// Helm's `objectKey`: group, kind, namespace, name (the version may change).
fn identity(o: &Object) -> (String, String, String, String) {
    let group = o
        .reference
        .api_version
        .split_once('/')
        .map(|(g, _)| g.to_string())
        .unwrap_or_default();
    (
        group,
        o.reference.kind.clone(),
        o.reference.namespace.clone(),
        o.reference.name.clone(),
    )
}

/// What a wait is for.
#[derive(Clone, Debug, Default)]
pub struct WaitOptions {
    pub wait: bool,
    pub wait_for_jobs: bool,
    pub timeout: Duration,
}

/// A count in an object's status (absent counts as 0, as in Go's zero values).
fn int(v: &Json) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// An object waited on that failed for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Failed {
    #[error("pod {0} failed")]
    Pod(String),
    #[error("job {name} failed: {reason}")]
    Job { name: String, reason: String },
}

/// Readiness of one live object, as Helm's status checks judge it: `Ok(true)` ready,
/// `Ok(false)` not yet, `Err` failed for good.
pub(crate) fn is_ready(obj: &Json, wait_for_jobs: bool) -> Result<bool, Failed> {
    let status = &obj["status"];
    let spec = &obj["spec"];
    let generation_seen = || {
        let observed = status["observedGeneration"].as_i64();
        let generation = obj["metadata"]["generation"].as_i64();
        match (observed, generation) {
            (Some(o), Some(g)) => o >= g,
            (None, Some(_)) => false,
            _ => true,
        }
    };
    match obj["kind"].as_str().unwrap_or("") {
        "Deployment" | "ReplicaSet" | "StatefulSet" => {
            let replicas = spec["replicas"].as_i64().unwrap_or(1);
            let kind = obj["kind"].as_str().unwrap_or("");
            let updated = int(&status["updatedReplicas"]);
            let counts_reached = generation_seen()
                && int(&status["readyReplicas"]) >= replicas
                && int(&status["availableReplicas"]).max(int(&status["readyReplicas"])) >= replicas
                && (kind == "ReplicaSet" || updated >= replicas)
                // Pods of the old template still terminating (kstatus's "Pending
                // termination"): during a rolling update `readyReplicas` counts them too,
                // so without this a rollout looked done while a new pod was not ready yet.
                && int(&status["replicas"]) <= replicas;
            if !counts_reached {
                return Ok(false);
            }
            Ok(match kind {
                // Every updated pod available (kstatus: "Available: x/y").
                "Deployment" => int(&status["availableReplicas"]) >= updated,
                "StatefulSet" => statefulset_rolled_out(spec, status, replicas),
                _ => true,
            })
        }
        "DaemonSet" => {
            let desired = int(&status["desiredNumberScheduled"]);
            Ok(generation_seen()
                && status["desiredNumberScheduled"].is_i64()
                && int(&status["numberReady"]) >= desired
                && int(&status["updatedNumberScheduled"]) >= desired)
        }
        "Pod" => {
            if status["phase"] == "Succeeded" {
                return Ok(true);
            }
            if status["phase"] == "Failed" {
                return Err(Failed::Pod(
                    obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
                ));
            }
            Ok(condition_true(status, "Ready"))
        }
        "PersistentVolumeClaim" => Ok(status["phase"] == "Bound"),
        "Service" => {
            if spec["type"] == "ExternalName" || spec["type"] != "LoadBalancer" {
                return Ok(true);
            }
            Ok(status["loadBalancer"]["ingress"]
                .as_array()
                .is_some_and(|i| !i.is_empty()))
        }
        "Job" => {
            if !wait_for_jobs {
                return Ok(true);
            }
            job_done(obj)
        }
        "CustomResourceDefinition" => Ok(condition_true(status, "Established")),
        _ => Ok(true),
    }
}

/// Whether a StatefulSet's rolling update is over, as kstatus judges it: with a partition,
/// the pods at or above it are updated; without one, every pod runs the update revision.
fn statefulset_rolled_out(spec: &Json, status: &Json, replicas: i64) -> bool {
    let strategy = &spec["updateStrategy"];
    if strategy["type"]
        .as_str()
        .is_some_and(|t| t != "RollingUpdate")
    {
        return true;
    }
    if let Some(partition) = strategy["rollingUpdate"]["partition"].as_i64() {
        if partition > 0 {
            return int(&status["updatedReplicas"]) >= replicas - partition;
        }
    }
    int(&status["currentReplicas"]) >= replicas
        && status["currentRevision"] == status["updateRevision"]
}

fn condition_true(status: &Json, kind: &str) -> bool {
    status["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == kind && c["status"] == "True")
    })
}

/// A Job has completed (`Ok(true)`), is running (`Ok(false)`) or failed (`Err`).
pub(crate) fn job_done(obj: &Json) -> Result<bool, Failed> {
    let status = &obj["status"];
    if condition_true(status, "Failed") {
        let reason = status["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Failed"))
            .and_then(|c| c["reason"].as_str())
            .unwrap_or("");
        return Err(Failed::Job {
            name: obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
            reason: reason.to_string(),
        });
    }
    Ok(condition_true(status, "Complete"))
}

/// How far one object is from ready, for progress displays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// `Kind/name`.
    pub resource: String,
    pub ready: bool,
    /// What the object's status says, e.g. `1/3 replicas ready`.
    pub detail: String,
}

/// A short account of an object's status for a progress display.
fn readiness_detail(obj: &Json) -> String {
    let status = &obj["status"];
    match obj["kind"].as_str().unwrap_or("") {
        "Deployment" | "ReplicaSet" | "StatefulSet" => format!(
            "{}/{} replicas ready",
            int(&status["readyReplicas"]),
            obj["spec"]["replicas"].as_i64().unwrap_or(1)
        ),
        "DaemonSet" => format!(
            "{}/{} scheduled pods ready",
            int(&status["numberReady"]),
            int(&status["desiredNumberScheduled"])
        ),
        "Pod" | "PersistentVolumeClaim" => status["phase"].as_str().unwrap_or("Pending").into(),
        "Service" => "waiting for a load balancer address".into(),
        "Job" => "running".into(),
        _ => "not ready".into(),
    }
}

/// Polls until every object is ready, reporting each poll to `progress`; fails at the
/// timeout.
pub(crate) fn wait_ready(
    kube: &Kube,
    objects: &[ObjectRef],
    opts: &WaitOptions,
    progress: &mut dyn FnMut(&[Readiness]),
) -> Result<(), Error> {
    let deadline = Instant::now() + opts.timeout;
    loop {
        let mut states = Vec::with_capacity(objects.len());
        for r in objects {
            let resource = format!("{}/{}", r.kind, r.name);
            let (ready, detail) = match kube.get(r) {
                Ok(Some(live)) => match is_ready(&live, opts.wait_for_jobs) {
                    Ok(true) => (true, "ready".to_string()),
                    Ok(false) => (false, readiness_detail(&live)),
                    Err(e) => return Err(Error::typed(e)),
                },
                Ok(None) => (false, "missing".to_string()),
                Err(e) => return Err(Error::message(e.to_string())),
            };
            states.push(Readiness {
                resource,
                ready,
                detail,
            });
        }
        progress(&states);
        let pending: Vec<&str> = states
            .iter()
            .filter(|s| !s.ready)
            .map(|s| s.resource.as_str())
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::message(format!(
                "resources not ready after {}s: {}",
                opts.timeout.as_secs(),
                pending.join(", ")
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Runs the hooks of `event`, in Helm's order (weight, then name, over kind order), with
/// their delete policies; records each run in the hook's `last_run`.
pub(crate) fn run_hooks(
    kube: &Kube,
    hooks: &mut [Hook],
    event: &str,
    namespace: &str,
    timeout: Duration,
) -> Result<(), Error> {
    let (outcome, cleanup) = run_hooks_deferring_cleanup(kube, hooks, event, namespace, timeout);
    cleanup.run(kube);
    outcome
}

/// Hook objects to delete once the caller is done with them (`helm test --logs` reads the
/// test pods' logs first): those whose delete policy asked for it.
#[derive(Default)]
pub(crate) struct HookCleanup {
    objects: Vec<ObjectRef>,
}

impl HookCleanup {
    pub(crate) fn run(self, kube: &Kube) {
        for r in &self.objects {
            let _ = kube.delete(r, Propagation::Background);
        }
    }
}

/// [`run_hooks`], leaving the deletions that delete policies ask for to the caller.
pub(crate) fn run_hooks_deferring_cleanup(
    kube: &Kube,
    hooks: &mut [Hook],
    event: &str,
    namespace: &str,
    timeout: Duration,
) -> (Result<(), Error>, HookCleanup) {
    let mut order: Vec<usize> = (0..hooks.len())
        .filter(|&i| hooks[i].events.iter().any(|e| e == event))
        .collect();
    order.sort_by(|&a, &b| {
        hooks[a]
            .weight
            .cmp(&hooks[b].weight)
            .then_with(|| hooks[a].name.cmp(&hooks[b].name))
    });
    let mut done: Vec<(usize, Object)> = Vec::new();
    for &i in &order {
        let hook = &mut hooks[i];
        let mut objects = match parse_manifest(&hook.manifest, namespace)
            .and_then(|mut o| locate(kube, &mut o).map(|_| o))
        {
            Ok(o) => o,
            Err(e) => {
                return (
                    Err(Error::message(format!(
                        "unable to build kubernetes object for {event} hook {}: {e}",
                        hook.path
                    ))),
                    HookCleanup::default(),
                )
            }
        };
        let policies = if hook.delete_policies.is_empty() {
            vec!["before-hook-creation".to_string()]
        } else {
            hook.delete_policies.clone()
        };
        if policies.iter().any(|p| p == "before-hook-creation") {
            for o in &objects {
                if let Err(e) = delete_and_wait(kube, &o.reference, timeout) {
                    return (Err(e), HookCleanup::default());
                }
            }
        }
        hook.last_run.started_at = rudder_storage::release::now();
        hook.last_run.completed_at.clear();
        hook.last_run.phase = "Running".into();
        let outcome = apply_all(kube, &objects, true).and_then(|_| {
            for o in &objects {
                wait_hook(kube, &o.reference, timeout)?;
            }
            Ok(())
        });
        hook.last_run.completed_at = rudder_storage::release::now();
        match outcome {
            Ok(()) => {
                hook.last_run.phase = "Succeeded".into();
                done.extend(objects.drain(..).map(|o| (i, o)));
            }
            Err(e) => {
                hook.last_run.phase = "Failed".into();
                let mut cleanup = HookCleanup::default();
                if policies.iter().any(|p| p == "hook-failed")
                    && hook.kind != "CustomResourceDefinition"
                {
                    cleanup
                        .objects
                        .extend(objects.iter().map(|o| o.reference.clone()));
                }
                cleanup.objects.extend(succeeded_to_delete(hooks, &done));
                return (
                    Err(Error::message(format!(
                        "{event} hook {} failed: {e}",
                        hooks[i].path
                    ))),
                    cleanup,
                );
            }
        }
    }
    (
        Ok(()),
        HookCleanup {
            objects: succeeded_to_delete(hooks, &done),
        },
    )
}

/// The objects of succeeded hooks whose policy is `hook-succeeded`, last first; never CRDs.
fn succeeded_to_delete(hooks: &[Hook], done: &[(usize, Object)]) -> Vec<ObjectRef> {
    done.iter()
        .rev()
        .filter(|(i, o)| {
            hooks[*i]
                .delete_policies
                .iter()
                .any(|p| p == "hook-succeeded")
                && o.reference.kind != "CustomResourceDefinition"
        })
        .map(|(_, o)| o.reference.clone())
        .collect()
}

fn delete_and_wait(kube: &Kube, r: &ObjectRef, timeout: Duration) -> Result<(), Error> {
    let deleted = kube
        .delete(r, Propagation::Background)
        .map_err(|e| Error::message(e.to_string()))?;
    if !deleted {
        return Ok(());
    }
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match kube.get(r) {
            Ok(None) => return Ok(()),
            Ok(Some(_)) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(Error::message(e.to_string())),
        }
    }
    Err(Error::message(format!(
        "timed out waiting for {} to be deleted",
        describe(r)
    )))
}

/// Helm's `WatchUntilReady` for hooks: Jobs must complete, Pods succeed; anything else is
/// done once created.
fn wait_hook(kube: &Kube, r: &ObjectRef, timeout: Duration) -> Result<(), Error> {
    if r.kind != "Job" && r.kind != "Pod" {
        return Ok(());
    }
    let deadline = Instant::now() + timeout;
    loop {
        let live = kube
            .get(r)
            .map_err(|e| Error::message(e.to_string()))?
            .ok_or_else(|| Error::message(format!("{} disappeared", describe(r))))?;
        let done = if r.kind == "Job" {
            job_done(&live).map_err(Error::typed)?
        } else {
            match live["status"]["phase"].as_str() {
                Some("Succeeded") => true,
                Some("Failed") => {
                    return Err(Error::typed(Failed::Pod(r.name.clone())));
                }
                _ => false,
            }
        };
        if done {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::message(format!(
                "timed out waiting for the condition on {}",
                describe(r)
            )));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Hook records as the engine produced them.
pub(crate) fn hooks_of(engine_hooks: &[rudder_engine::Hook]) -> Vec<Hook> {
    engine_hooks
        .iter()
        .map(|h| Hook {
            name: h.name.clone(),
            kind: h.kind.clone(),
            path: h.path.clone(),
            manifest: h.manifest.clone(),
            events: h.events.clone(),
            weight: h.weight,
            delete_policies: h.delete_policies.clone(),
            output_log_policies: h.output_log_policies.clone(),
            ..Hook::default()
        })
        .collect()
}

/// Every object of a release, for deletion in uninstall order.
pub(crate) fn release_objects(kube: &Kube, release: &Release) -> Result<Vec<Object>, Error> {
    let mut objects = parse_manifest(&release.manifest, &release.namespace)?;
    // Kinds no longer served cannot be deleted; skip them rather than fail the uninstall.
    objects.retain_mut(|o| match kube.locate(&o.reference) {
        Ok((_, located)) => {
            o.reference = located;
            true
        }
        Err(_) => false,
    });
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ownership_errors_read_like_helms() {
        let live = json!({"metadata": {"labels": {}, "annotations": {"meta.helm.sh/release-name": "other"}}});
        assert_eq!(
            check_ownership(&live, "mine", "ns").unwrap_err().to_string(),
            "invalid ownership metadata; label validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\"; annotation validation error: key \"meta.helm.sh/release-name\" must equal \"mine\": current value is \"other\"; annotation validation error: missing key \"meta.helm.sh/release-namespace\": must be set to \"ns\""
        );
    }

    #[test]
    fn uninstall_order_reverses_kinds_and_puts_unknown_last() {
        let obj = |kind: &str, name: &str| Object {
            json: json!({}),
            reference: ObjectRef {
                api_version: "v1".into(),
                kind: kind.into(),
                namespace: "n".into(),
                name: name.into(),
            },
        };
        let mut objects = vec![
            obj("Namespace", "a"),
            obj("Widget", "w"),
            obj("Service", "s"),
            obj("Deployment", "d"),
            obj("ConfigMap", "c"),
        ];
        sort_for_uninstall(&mut objects);
        let kinds: Vec<&str> = objects.iter().map(|o| o.reference.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["Deployment", "Service", "ConfigMap", "Namespace", "Widget"]
        );
    }

    #[test]
    fn readiness_follows_status() {
        let dep = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2}});
        assert_eq!(is_ready(&dep, false), Ok(true));
        let stale = json!({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2}});
        assert_eq!(is_ready(&stale, false), Ok(false));
        let pvc = json!({"kind": "PersistentVolumeClaim", "status": {"phase": "Pending"}});
        assert_eq!(is_ready(&pvc, false), Ok(false));
        let job = json!({"kind": "Job", "metadata": {"name": "j"}, "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}});
        assert_eq!(is_ready(&job, false), Ok(true));
        assert_eq!(
            is_ready(&job, true),
            Err(Failed::Job {
                name: "j".into(),
                reason: "BackoffLimitExceeded".into()
            })
        );
        let lb = json!({"kind": "Service", "spec": {"type": "LoadBalancer"}, "status": {}});
        assert_eq!(is_ready(&lb, false), Ok(false));
    }

    /// kstatus (Helm v4's default `--wait`, sigs.k8s.io/cli-utils pkg/kstatus/status/core.go,
    /// deploymentConditions and stsConditions) keeps waiting while old pods terminate, while
    /// an updated pod is not yet available, and until a StatefulSet's pods all run the
    /// update revision (or those above its partition do).
    #[test]
    fn a_rollout_in_progress_is_not_ready() {
        // Seen on the control plane with controllers: 2 wanted, 2 updated, 2 ready, but one
        // of the ready ones is an old pod that has not gone yet and one new pod is not ready.
        let surging = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2}});
        assert_eq!(is_ready(&surging, false), Ok(false));
        let done = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2}});
        assert_eq!(is_ready(&done, false), Ok(true));
        let sts = |current: &str, current_replicas: i64, strategy: serde_json::Value| {
            json!({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 3, "updateStrategy": strategy},
                "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                    "updatedReplicas": 3, "currentReplicas": current_replicas, "currentRevision": current, "updateRevision": "r2"}})
        };
        let rolling = json!({"type": "RollingUpdate"});
        assert_eq!(is_ready(&sts("r1", 3, rolling.clone()), false), Ok(false));
        assert_eq!(is_ready(&sts("r2", 3, rolling), false), Ok(true));
        let partitioned = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}});
        assert_eq!(is_ready(&sts("r1", 2, partitioned), false), Ok(true));
        assert_eq!(
            is_ready(&sts("r1", 0, json!({"type": "OnDelete"})), false),
            Ok(true)
        );
    }
}
