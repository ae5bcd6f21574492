//! `test`: the release's test hooks run, their pods' logs collected.

use super::*;

/// `rudder test NAME`: which test hooks to run (`--filter name=...` / `!name=...`).
#[derive(Clone, Debug, Default)]
pub struct TestOptions {
    pub timeout: Duration,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// `--logs`: read the test pods' logs before their delete policies remove them.
    pub logs: bool,
}

/// What `rudder test` ran: the release with its hooks' last runs recorded, the pod logs
/// asked for, and the first failure (a failed test still has a release to print).
pub struct TestReport {
    pub release: Release,
    pub logs: String,
    pub error: Option<Error>,
}

/// Parses `--filter` values as Helm does: `name=X` includes, `!name=X` (or `! name=X`)
/// excludes; anything else is ignored.
pub fn parse_test_filters(filters: &[String]) -> (Vec<String>, Vec<String>) {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for f in filters {
        if let Some(name) = f.strip_prefix("name=") {
            include.push(name.to_string());
        } else if let Some(rest) = f.strip_prefix('!') {
            let rest = rest
                .strip_prefix(|c: char| c.is_whitespace())
                .unwrap_or(rest);
            if let Some(name) = rest.strip_prefix("name=") {
                exclude.push(name.to_string());
            }
        }
    }
    (include, exclude)
}

/// Runs the release's test hooks (the latest revision, whatever its state), records their
/// runs in that revision's record, and returns it.
pub fn test(cluster: &Cluster, name: &str, opts: &TestOptions) -> Result<TestReport, Error> {
    rudder_chart::validate_release_name(name)
        .map_err(|_| Error::message(format!("releaseTest: Release name is invalid: {name}")))?;
    let namespace = cluster.namespace().to_string();
    let storage = cluster.storage(&namespace);
    let history = storage
        .history(name)
        .map_err(|e| Error::message(e.to_string()))?;
    let Some(mut rel) = history.into_iter().max_by_key(|r| r.version) else {
        return Err(Error::message("release: not found"));
    };
    let selected = |h: &rudder_storage::Hook| {
        !opts.exclude.contains(&h.name)
            && (opts.include.is_empty() || opts.include.contains(&h.name))
    };
    // Skipped hooks are set aside and put back in front, as Helm does.
    let (mut running, skipped): (Vec<_>, Vec<_>) = rel.hooks.drain(..).partition(selected);
    let timeout = if opts.timeout.is_zero() {
        super::super::default_timeout()
    } else {
        opts.timeout
    };
    let kube = cluster.kube();
    let (outcome, cleanup) =
        resources::run_hooks_deferring_cleanup(kube, &mut running, "test", &rel.namespace, timeout);
    let logs = if opts.logs {
        test_pod_logs(kube, &rel.namespace, &running)
    } else {
        Ok(String::new())
    };
    cleanup.run(kube);
    rel.hooks = skipped.into_iter().chain(running).collect();
    let stored = storage.update(&rel);
    let (logs, logs_error) = match logs {
        Ok(logs) => (logs, None),
        Err(e) => (String::new(), Some(e)),
    };
    let error = match (outcome, logs_error, stored) {
        (Err(e), _, _) => Some(e),
        (Ok(()), Some(e), _) => Some(Error::typed(e)),
        (Ok(()), None, Err(e)) => Some(Error::message(e.to_string())),
        _ => None,
    };
    Ok(TestReport {
        release: rel,
        logs,
        error,
    })
}

/// Why `test --logs` could not collect the logs (Helm's wording).
#[derive(Debug, thiserror::Error)]
enum PodLogsError {
    #[error("unable to get pod {0}: not found")]
    PodMissing(String),
    #[error("unable to get pod {pod}: {source}")]
    Pod {
        pod: String,
        #[source]
        source: rudder_kube::Error,
    },
    /// Every container whose logs could not be read, one line each.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Containers(Vec<ContainerLogsError>),
}

/// One container whose logs could not be read.
#[derive(Debug, thiserror::Error)]
#[error("unable to get logs for pod {pod}, container {container}: {source}")]
struct ContainerLogsError {
    pod: String,
    container: String,
    #[source]
    source: rudder_kube::Error,
}

/// The logs of every container of the test pods, by hook weight, as `helm test --logs`
/// prints them.
fn test_pod_logs(
    kube: &rudder_kube::Kube,
    namespace: &str,
    hooks: &[rudder_storage::Hook],
) -> Result<String, PodLogsError> {
    let mut ordered: Vec<&rudder_storage::Hook> = hooks
        .iter()
        .filter(|h| h.kind == "Pod" && h.events.iter().any(|e| e == "test"))
        .collect();
    ordered.sort_by(|a, b| a.weight.cmp(&b.weight).then_with(|| a.name.cmp(&b.name)));
    let mut out = String::new();
    let mut errors = Vec::new();
    for h in ordered {
        let pod = ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: namespace.into(),
            name: h.name.clone(),
        };
        let live = match kube.get(&pod) {
            Ok(Some(live)) => live,
            Ok(None) => return Err(PodLogsError::PodMissing(h.name.clone())),
            Err(source) => {
                return Err(PodLogsError::Pod {
                    pod: h.name.clone(),
                    source,
                })
            }
        };
        let containers = live["spec"]["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(live["spec"]["containers"].as_array().into_iter().flatten());
        for c in containers {
            let container = c["name"].as_str().unwrap_or_default();
            match kube.pod_logs(namespace, &h.name, container) {
                Ok(text) => {
                    out.push_str(&format!("POD LOGS: {} ({container})\n{text}\n", h.name));
                }
                Err(source) => errors.push(ContainerLogsError {
                    pod: h.name.clone(),
                    container: container.to_string(),
                    source,
                }),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(PodLogsError::Containers(errors))
    }
}
