//! The commands that change a release, one module each as in Helm's `pkg/action`:
//! [`install`], [`upgrade`], [`rollback`], [`uninstall`], [`test`]. What they share stays
//! here: rendering a chart for a release, the chart as the release record stores it, the
//! recorder that writes records under a time limit, and cancellation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rudder_chart::Chart;
use rudder_engine::{sort_manifests, Capabilities, Engine, KubeVersion, ReleaseOptions};
use rudder_kube::{Cancel, Kube, ObjectRef, Propagation};
use rudder_storage::{make_key, status, Info, Release, Storage};
use rudder_value::Value;
use serde_json::{json, Value as Json};

use super::resources::{self, WaitOptions};
use super::{json_to_value, value_to_json, Cluster, ClusterLookup};
use crate::{charts, Error, LogRecord, LogSink, ValueOptions};

mod install;
mod rollback;
mod test;
mod uninstall;
mod upgrade;

pub use install::{install, InstallOptions};
pub use rollback::{rollback, RollbackOptions};
pub use test::{parse_test_filters, test, TestOptions, TestReport};
pub use uninstall::{uninstall, UninstallOptions, UninstallReport};
pub use upgrade::{upgrade, UpgradeOptions};

/// `--dry-run`: none, or `client` (render only, no cluster), or `server` (render with the
/// cluster's capabilities and lookups, change nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

fn timeout_of(wait: &WaitOptions) -> Duration {
    if wait.timeout.is_zero() {
        super::default_timeout()
    } else {
        wait.timeout
    }
}

/// Chart metadata as Helm's `chart.Metadata` marshals it (empty fields left out).
fn metadata_json(chart: &Chart) -> Json {
    let m = &chart.metadata;
    let mut out = serde_json::Map::new();
    let mut put_str = |k: &str, v: &str| {
        if !v.is_empty() {
            out.insert(k.into(), Json::String(v.into()));
        }
    };
    put_str("name", &m.name);
    put_str("home", &m.home);
    put_str("version", &m.version);
    put_str("description", &m.description);
    put_str("icon", &m.icon);
    put_str("apiVersion", &m.api_version);
    put_str("condition", &m.condition);
    put_str("tags", &m.tags);
    put_str("appVersion", &m.app_version);
    put_str("kubeVersion", &m.kube_version);
    put_str("type", &m.chart_type);
    if !m.sources.is_empty() {
        out.insert("sources".into(), json!(m.sources));
    }
    if !m.keywords.is_empty() {
        out.insert("keywords".into(), json!(m.keywords));
    }
    if !m.maintainers.is_empty() {
        let list: Vec<Json> = m
            .maintainers
            .iter()
            .map(|p| {
                let mut o = serde_json::Map::new();
                for (k, v) in [("name", &p.name), ("email", &p.email), ("url", &p.url)] {
                    if !v.is_empty() {
                        o.insert(k.into(), Json::String(v.clone()));
                    }
                }
                Json::Object(o)
            })
            .collect();
        out.insert("maintainers".into(), Json::Array(list));
    }
    if m.deprecated {
        out.insert("deprecated".into(), Json::Bool(true));
    }
    if !m.annotations.is_empty() {
        out.insert("annotations".into(), json!(m.annotations));
    }
    if !m.dependencies.is_empty() {
        let deps: Vec<Json> = m.dependencies.iter().map(dependency_json).collect();
        out.insert("dependencies".into(), Json::Array(deps));
    }
    Json::Object(out)
}

fn dependency_json(d: &rudder_chart::Dependency) -> Json {
    let mut o = serde_json::Map::new();
    o.insert("name".into(), Json::String(d.name.clone()));
    if !d.version.is_empty() {
        o.insert("version".into(), Json::String(d.version.clone()));
    }
    o.insert("repository".into(), Json::String(d.repository.clone()));
    if !d.condition.is_empty() {
        o.insert("condition".into(), Json::String(d.condition.clone()));
    }
    if !d.tags.is_empty() {
        o.insert("tags".into(), json!(d.tags));
    }
    if d.enabled {
        o.insert("enabled".into(), Json::Bool(true));
    }
    if !d.import_values.is_empty() {
        let list: Vec<Json> = d.import_values.iter().map(value_to_json).collect();
        o.insert("import-values".into(), Json::Array(list));
    }
    if !d.alias.is_empty() {
        o.insert("alias".into(), Json::String(d.alias.clone()));
    }
    Json::Object(o)
}

/// The chart as a release record holds it (Helm's `chart.Chart` JSON; subcharts are not
/// serialised, as in Helm).
fn chart_json(chart: &Chart) -> Json {
    let b64 = |data: &[u8]| Json::String(base64::engine::general_purpose::STANDARD.encode(data));
    let files = |list: &[rudder_chart::File]| -> Json {
        if list.is_empty() {
            return Json::Null;
        }
        Json::Array(
            list.iter()
                .map(|f| json!({"name": f.name, "data": b64(&f.data)}))
                .collect(),
        )
    };
    let lock = chart.lock.as_ref().map_or(Json::Null, |l| {
        json!({
            "generated": l.generated,
            "digest": l.digest,
            "dependencies": l.dependencies.iter().map(dependency_json).collect::<Vec<_>>(),
        })
    });
    json!({
        "metadata": metadata_json(chart),
        "lock": lock,
        "templates": files(&chart.templates),
        "values": value_to_json(&chart.values),
        "schema": chart.schema.as_deref().map_or(Json::Null, b64),
        "schemamodtime": "0001-01-01T00:00:00Z",
        "files": files(&chart.files),
    })
}

/// What rendering a chart for a release produces.
struct Rendered {
    manifest: String,
    manifests: Vec<rudder_engine::Manifest>,
    hooks: Vec<rudder_storage::Hook>,
    notes: String,
}

pub(super) fn capabilities(cluster: &Cluster, dry_run: DryRun) -> Result<Capabilities, Error> {
    let mut caps = Capabilities::default();
    if dry_run == DryRun::Client {
        return Ok(caps);
    }
    let kube = cluster.kube();
    let (_, _, git_version) = kube
        .server_version()
        .map_err(|e| Error::message(format!("Kubernetes cluster unreachable: {e}")))?;
    if let Ok(v) = KubeVersion::parse(&git_version) {
        caps.kube_version = v;
    }
    caps.api_versions = kube
        .api_versions()
        .map_err(|e| Error::message(format!("could not get apiVersions from Kubernetes: {e}")))?;
    Ok(caps)
}

#[allow(clippy::too_many_arguments)]
fn render(
    cluster: &Cluster,
    chart: &Chart,
    values: &Value,
    name: &str,
    namespace: &str,
    revision: i64,
    is_upgrade: bool,
    opts: &InstallOptions,
) -> Result<Rendered, Error> {
    let mut caps = capabilities(cluster, opts.dry_run)?;
    if opts.dry_run == DryRun::Client {
        if let Some(v) = &opts.kube_version {
            caps.kube_version = v.clone();
        }
        caps.api_versions.extend(opts.api_versions.iter().cloned());
    }
    let release = ReleaseOptions {
        name: name.to_string(),
        namespace: namespace.to_string(),
        revision,
        is_install: !is_upgrade,
        is_upgrade,
    };
    let coalesced = charts::coalesce(chart, values, opts.skip_schema_validation, &opts.log)?;
    let top = rudder_engine::render_values(chart, coalesced, &release, &caps);
    if !chart.metadata.kube_version.is_empty()
        && !charts::kube_version_compatible(
            &chart.metadata.kube_version,
            &caps.kube_version.normalized,
        )
    {
        return Err(Error::message(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.metadata.kube_version, caps.kube_version.version
        )));
    }
    let engine = Engine {
        enable_dns: opts.enable_dns,
        lookup: (opts.dry_run != DryRun::Client).then(|| {
            Arc::new(ClusterLookup(cluster.kube.clone())) as Arc<dyn rudder_engine::Lookup>
        }),
        ..Engine::default()
    };
    let mut files = engine.render(chart, &top).map_err(Error::typed)?;
    // Helm's renderResources (whose map order makes the subcharts' order random; here it is
    // by path).
    let notes_path = format!("{}/templates/NOTES.txt", chart.name());
    let mut notes = String::new();
    for (path, text) in &files {
        if path.ends_with("NOTES.txt") && (opts.render_subchart_notes || *path == notes_path) {
            if !notes.is_empty() {
                notes.push('\n');
            }
            notes.push_str(text);
        }
    }
    files.retain(|path, _| !path.ends_with("NOTES.txt"));
    if let Some(renderer) = &opts.post_renderer {
        crate::post_render_files(&mut files, renderer)?;
    }
    let mut logs = Vec::new();
    let sorted = sort_manifests(files.iter(), &mut logs);
    opts.log.emit_all(logs);
    let (hooks, manifests) = sorted.map_err(Error::typed)?;
    let mut manifest = String::new();
    for m in &manifests {
        manifest.push_str(&crate::template::manifest_block(m, opts.hide_secret));
    }
    Ok(Rendered {
        manifest,
        manifests,
        hooks: resources::hooks_of(&hooks),
        notes,
    })
}

/// The longest a status write waits for an unreachable store to come back.
const RECORD_PATIENCE_LIMIT: Duration = Duration::from_secs(60);

/// Helm's `recordRelease`: writes a revision's new status.
///
/// Helm writes once; when the API server is away (restarting, say) that leaves the revision
/// pending and the release locked until someone rolls it back. rudder tries again while the
/// store is unreachable, for the operation's timeout (at most a minute), which Helm's own
/// install.go names as the better strategy. A write that still fails is logged as Helm logs
/// it, never dropped silently.
struct Recorder<'s, 'd> {
    storage: &'s Storage<'d>,
    kube: &'s Kube,
    patience: Duration,
    log: &'s LogSink,
}

impl<'s, 'd> Recorder<'s, 'd> {
    fn new(
        storage: &'s Storage<'d>,
        kube: &'s Kube,
        timeout: Duration,
        log: &'s LogSink,
    ) -> Recorder<'s, 'd> {
        Recorder {
            storage,
            kube,
            patience: timeout.min(RECORD_PATIENCE_LIMIT),
            log,
        }
    }

    /// Writes `release`, retrying while the store is unreachable; no attempt outlasts the
    /// patience (an API server that stopped answering holds requests open).
    fn write(&self, release: &Release) -> Result<(), rudder_storage::Error> {
        let deadline = Instant::now() + self.patience;
        let mut pause = Duration::from_millis(250);
        loop {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1));
            match self.kube.within(left, || self.storage.update(release)) {
                Err(e) if e.is_unreachable() && Instant::now() + pause < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                outcome => return outcome,
            }
        }
    }

    /// Writes `release`; a failure becomes Helm's warning.
    fn record(&self, release: &Release) {
        if let Err(e) = self.write(release) {
            self.log.emit(
                LogRecord::warn("failed to update release")
                    .with("name", release.name.clone())
                    .with("revision", release.version.to_string())
                    .with("error", e.to_string()),
            );
        }
    }
}

/// Runs the part of an operation that Helm runs under its cancellable context (hooks,
/// applying, waiting): once `cancel` fires, every request fails, and the failure reads as
/// Go's `context.Canceled` whatever step it surfaced in, as Helm reports `ctx.Err()`. No
/// single request may take longer than the operation's `timeout` (Helm sets no such limit,
/// so a stopped API server holds it until the transport gives up).
fn interruptible(
    kube: &Kube,
    cancel: &Cancel,
    timeout: Duration,
    work: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    let cancelled = || Error::message(rudder_kube::Error::Cancelled.to_string());
    let outcome = kube.cancellable(cancel, || {
        if cancel.is_cancelled() {
            return Err(cancelled());
        }
        kube.within(timeout, work)
    });
    match outcome {
        Err(_) if cancel.is_cancelled() => Err(cancelled()),
        outcome => outcome,
    }
}

/// Helm's `errPending`.
const ANOTHER_OPERATION: &str = "another operation (install/upgrade/rollback) is in progress";
