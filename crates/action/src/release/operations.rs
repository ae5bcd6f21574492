//! The commands that change a release: install, upgrade, rollback, uninstall.

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

/// `--dry-run`: none, or `client` (render only, no cluster), or `server` (render with the
/// cluster's capabilities and lookups, change nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

#[derive(Clone, Debug, Default)]
pub struct InstallOptions {
    pub values: ValueOptions,
    pub create_namespace: bool,
    pub dry_run: DryRun,
    pub description: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub wait: WaitOptions,
    pub rollback_on_failure: bool,
    pub no_hooks: bool,
    pub skip_crds: bool,
    pub take_ownership: bool,
    pub replace: bool,
    pub force_conflicts: bool,
    pub skip_schema_validation: bool,
    pub enable_dns: bool,
    /// `--render-subchart-notes`: the notes of every chart, not only the top one's.
    pub render_subchart_notes: bool,
    /// `--hide-secret`: v1 Secrets are left out of a dry run's manifest.
    pub hide_secret: bool,
    /// Where the chart is looked for (`--version`, `--repo`...).
    pub chart: crate::ChartPathOptions,
    /// Where the warnings Helm logs go.
    pub log: crate::LogSink,
    /// Fired on SIGINT/SIGTERM: the operation stops and its revision is recorded as failed
    /// ("context canceled"), as Helm does with the context it cancels.
    pub cancel: Cancel,
    /// `--post-renderer`: the plugin that rewrites the rendered files.
    pub post_renderer: Option<crate::PostRenderer>,
    /// `--kube-version` and `--api-versions` (helm template's, helm-diff's): a client-side
    /// render's `.Capabilities`; a render against the cluster takes the cluster's and
    /// ignores them (Helm v4.2.3 pkg/action/install.go, lines 329-344).
    pub kube_version: Option<KubeVersion>,
    pub api_versions: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct UpgradeOptions {
    pub install: InstallOptions,
    /// `--install`: install when the release does not exist.
    pub install_if_missing: bool,
    pub reuse_values: bool,
    pub reset_values: bool,
    pub reset_then_reuse_values: bool,
    /// `--history-max` (0: keep every revision).
    pub history_max: usize,
    pub cleanup_on_fail: bool,
}

#[derive(Clone, Debug, Default)]
pub struct RollbackOptions {
    /// 0: the revision before the last.
    pub revision: i64,
    pub wait: WaitOptions,
    pub no_hooks: bool,
    pub dry_run: bool,
    pub history_max: usize,
    pub cleanup_on_fail: bool,
    pub force_conflicts: bool,
    /// As [`InstallOptions::cancel`] (Helm's rollback has no signal handling; rudder's does).
    pub cancel: Cancel,
    pub log: LogSink,
}

#[derive(Clone, Debug, Default)]
pub struct UninstallOptions {
    pub keep_history: bool,
    pub no_hooks: bool,
    pub ignore_not_found: bool,
    pub dry_run: bool,
    pub description: Option<String>,
    pub cascade: Propagation,
    pub wait: WaitOptions,
    pub log: LogSink,
}

/// What `uninstall` reports besides success: the kept resources.
#[derive(Clone, Debug, Default)]
pub struct UninstallReport {
    pub info: String,
    pub release: Option<Release>,
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
    let mut files = engine.render(chart, &top).map_err(Error::message)?;
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
    let (hooks, manifests) = sorted.map_err(Error::message)?;
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

fn load_chart(chart_ref: &str, opts: &InstallOptions, user_values: &Value) -> Result<Chart, Error> {
    let mut chart = charts::load_with_dependencies(
        chart_ref,
        &opts.chart,
        charts::DeprecationCheck::BeforeDependencies,
        &opts.log,
    )?;
    if chart.metadata.api_version != "v2" && chart.metadata.api_version != "v1" {
        return Err(Error::message("invalid chart apiVersion"));
    }
    charts::process_dependencies(&mut chart, user_values, &opts.log)
        .map_err(|e| Error::message(format!("chart dependencies processing failed: {e}")))?;
    Ok(chart)
}

/// Helm's `availableName`: a name may be reused only when its last revision was uninstalled
/// or failed and `--replace` is given.
fn check_name_available(storage: &Storage, name: &str, replace: bool) -> Result<(), Error> {
    rudder_chart::validate_release_name(name)
        .map_err(|e| Error::message(format!("release name {name:?}: {e}")))?;
    let history = storage
        .history(name)
        .map_err(|e| Error::message(e.to_string()))?;
    let Some(last) = history.iter().max_by_key(|r| r.version) else {
        return Ok(());
    };
    if replace && matches!(last.status(), status::UNINSTALLED | status::FAILED) {
        return Ok(());
    }
    Err(Error::message("cannot reuse a name that is still in use"))
}

fn create_namespace(cluster: &Cluster, namespace: &str) -> Result<(), Error> {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {"name": namespace}}});
    match cluster.kube().create(&ns, "") {
        Ok(_) => Ok(()),
        Err(e) if e.is_already_exists() => Ok(()),
        Err(e) => Err(Error::message(format!("failed to create namespace: {e}"))),
    }
}

fn install_crds(cluster: &Cluster, chart: &Chart) -> Result<(), Error> {
    let crds = chart.crd_objects();
    if crds.is_empty() {
        return Ok(());
    }
    let kube = cluster.kube();
    let mut created = Vec::new();
    for crd in crds {
        for obj in resources::parse_manifest(&crd.text, "")? {
            match kube.create(&obj.json, "") {
                Ok(_) => created.push(obj.reference),
                Err(e) if e.is_already_exists() => {}
                Err(e) => {
                    return Err(Error::message(format!(
                        "failed to install CRD {}: {e}",
                        crd.filename
                    )))
                }
            }
        }
    }
    let wait = WaitOptions {
        wait: true,
        wait_for_jobs: false,
        timeout: Duration::from_secs(60),
    };
    resources::wait_ready(kube, &created, &wait, &mut |_| {})?;
    kube.forget_discovery();
    Ok(())
}

/// `rudder install NAME CHART`.
pub fn install(
    cluster: &Cluster,
    name: &str,
    chart_ref: &str,
    opts: &InstallOptions,
    progress: &mut dyn FnMut(&[resources::Readiness]),
) -> Result<Release, Error> {
    check_hide_secret(opts)?;
    let user_values = charts::user_values(&opts.values)?;
    let chart = load_chart(chart_ref, opts, &user_values)?;
    install_chart(cluster, name, chart, user_values, opts, progress)
}

/// `--hide-secret` only changes what a dry run shows.
fn check_hide_secret(opts: &InstallOptions) -> Result<(), Error> {
    if opts.hide_secret && opts.dry_run == DryRun::None {
        return Err(Error::message(
            "hiding Kubernetes secrets requires a dry-run mode",
        ));
    }
    Ok(())
}

fn install_chart(
    cluster: &Cluster,
    name: &str,
    chart: Chart,
    user_values: Value,
    opts: &InstallOptions,
    progress: &mut dyn FnMut(&[resources::Readiness]),
) -> Result<Release, Error> {
    let namespace = cluster.namespace().to_string();
    let client_only = opts.dry_run == DryRun::Client;
    let memory_storage;
    let storage = if client_only {
        memory_storage = Storage::new(Arc::new(rudder_storage::Memory::new("")));
        &memory_storage
    } else {
        &cluster.storage(&namespace)
    };
    check_name_available(storage, name, opts.replace)?;

    let rendered = render(
        cluster,
        &chart,
        &user_values,
        name,
        &namespace,
        1,
        false,
        opts,
    )?;
    let now = rudder_storage::release::now();
    let mut release = Release {
        name: name.to_string(),
        namespace: namespace.clone(),
        chart: chart_json(&chart),
        config: value_to_json(&user_values),
        manifest: rendered.manifest.clone(),
        hooks: rendered.hooks,
        version: 1,
        labels: opts.labels.clone(),
        apply_method: "ssa".into(),
        info: Some(Info {
            first_deployed: now.clone(),
            last_deployed: now,
            notes: rendered.notes,
            ..Info::default()
        }),
    };
    release.set_status(status::PENDING_INSTALL, "Initial install underway");

    let mut objects = resources::parse_manifest(&rendered.manifest, &namespace)?;
    if client_only {
        release.set_status(status::PENDING_INSTALL, "Dry run complete");
        return Ok(release);
    }
    let kube = cluster.kube();
    if opts.create_namespace && opts.dry_run == DryRun::None {
        create_namespace(cluster, &namespace)?;
    }
    if !opts.skip_crds && opts.dry_run == DryRun::None {
        install_crds(cluster, &chart)?;
    }
    resources::locate(kube, &mut objects)?;
    resources::stamp_ownership(&mut objects, name, &namespace);
    resources::check_conflicts(
        kube,
        &objects,
        &BTreeSet::new(),
        name,
        &namespace,
        opts.take_ownership,
    )
    .map_err(|e| Error::message(format!("unable to continue with install: {e}")))?;
    if opts.dry_run == DryRun::Server {
        release.set_status(status::PENDING_INSTALL, "Dry run complete");
        return Ok(release);
    }

    if opts.replace {
        // Helm's `replaceRelease`: the new record follows the old history, which it supersedes.
        let history = storage
            .history(name)
            .map_err(|e| Error::message(e.to_string()))?;
        if let Some(mut last) = history.into_iter().max_by_key(|r| r.version) {
            release.version = last.version + 1;
            last.set_status(status::SUPERSEDED, "");
            storage
                .update(&last)
                .map_err(|e| Error::message(e.to_string()))?;
        }
    }
    storage
        .create(&release)
        .map_err(|e| Error::message(e.to_string()))?;
    let timeout = timeout_of(&opts.wait);
    let recorder = Recorder::new(storage, kube, timeout, &opts.log);
    let outcome = interruptible(kube, &opts.cancel, timeout, || {
        if !opts.no_hooks {
            resources::run_hooks(kube, &mut release.hooks, "pre-install", &namespace, timeout)
                .map_err(|e| Error::message(format!("failed pre-install: {e}")))?;
        }
        resources::apply_all(kube, &objects, opts.force_conflicts)?;
        if opts.wait.wait {
            let refs: Vec<ObjectRef> = objects.iter().map(|o| o.reference.clone()).collect();
            resources::wait_ready(
                kube,
                &refs,
                &WaitOptions {
                    timeout,
                    ..opts.wait.clone()
                },
                progress,
            )?;
        }
        if !opts.no_hooks {
            resources::run_hooks(
                kube,
                &mut release.hooks,
                "post-install",
                &namespace,
                timeout,
            )
            .map_err(|e| Error::message(format!("failed post-install: {e}")))?;
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {
            let description = opts
                .description
                .clone()
                .unwrap_or_else(|| "Install complete".into());
            release.set_status(status::DEPLOYED, &description);
            // Helm logs this one (at ERROR) and reports the install as done, which it is.
            if let Err(e) = recorder.write(&release) {
                opts.log.emit(
                    LogRecord::warn("failed to record the release").with("error", e.to_string()),
                );
            }
            Ok(release)
        }
        Err(e) => {
            release.set_status(status::FAILED, &format!("Release {name:?} failed: {e}"));
            if opts.rollback_on_failure {
                recorder.record(&release);
                let un = UninstallOptions {
                    no_hooks: opts.no_hooks,
                    wait: opts.wait.clone(),
                    log: opts.log.clone(),
                    ..UninstallOptions::default()
                };
                if let Err(ue) = uninstall(cluster, name, &un) {
                    return Err(Error::message(format!(
                        "an error occurred while uninstalling the release. original install error: {e}: {ue}"
                    )));
                }
                return Err(Error::message(format!(
                    "release {name} failed, and has been uninstalled due to rollback-on-failure being set: {e}"
                )));
            }
            recorder.record(&release);
            Err(e)
        }
    }
}

/// Helm's `reuseValues`: which user values an upgrade renders with, and which chart
/// defaults (`--reuse-values` renders over the old release's computed values).
fn upgrade_values(
    chart: &mut Chart,
    current: &Release,
    new_values: Value,
    opts: &UpgradeOptions,
) -> Result<Value, Error> {
    let old_config = json_to_value(&current.config);
    if opts.reset_values {
        return Ok(new_values);
    }
    // Helm's `CoalesceTables(newVals, current.Config)`.
    let merge_old_under_new = |new: Value| -> Value {
        let mut logs = Vec::new();
        let merged = rudder_chart::coalesce_tables_top(&new, &old_config, &mut logs);
        opts.install.log.emit_all(logs);
        merged
    };
    if opts.reuse_values {
        let mut old_chart = Chart {
            values: json_to_value(&current.chart["values"]),
            ..Chart::default()
        };
        // Coalescing warnings name the chart.
        old_chart.metadata.name = current.chart["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut logs = Vec::new();
        let old_values = rudder_chart::coalesce_values(&old_chart, &old_config, &mut logs);
        opts.install.log.emit_all(logs);
        chart.values =
            old_values.map_err(|e| Error::message(format!("failed to rebuild old values: {e}")))?;
        return Ok(merge_old_under_new(new_values));
    }
    if opts.reset_then_reuse_values {
        return Ok(merge_old_under_new(new_values));
    }
    let new_is_empty = new_values.as_dict().is_none_or(|d| d.is_empty());
    let old_is_empty = old_config.as_dict().is_none_or(|d| d.is_empty());
    if new_is_empty && !old_is_empty {
        return Ok(old_config);
    }
    Ok(new_values)
}

/// `rudder upgrade NAME CHART`. Returns the new revision and whether it was an install.
pub fn upgrade(
    cluster: &Cluster,
    name: &str,
    chart_ref: &str,
    opts: &UpgradeOptions,
    progress: &mut dyn FnMut(&[resources::Readiness]),
) -> Result<(Release, bool), Error> {
    check_hide_secret(&opts.install)?;
    rudder_chart::validate_release_name(name)
        .map_err(|e| Error::message(format!("release name {name:?}: {e}")))?;
    let namespace = cluster.namespace().to_string();
    let mut storage = cluster.storage(&namespace);
    storage.max_history = opts.history_max;
    let user_values = charts::user_values(&opts.install.values)?;

    let history = storage
        .history(name)
        .map_err(|e| Error::message(e.to_string()))?;
    if opts.install_if_missing {
        let only_uninstalled =
            !history.is_empty() && history.iter().all(|r| r.status() == status::UNINSTALLED);
        if history.is_empty() || only_uninstalled {
            let chart = load_chart(chart_ref, &opts.install, &user_values)?;
            let install_opts = InstallOptions {
                replace: only_uninstalled || opts.install.replace,
                ..opts.install.clone()
            };
            let rel = install_chart(cluster, name, chart, user_values, &install_opts, progress)?;
            return Ok((rel, true));
        }
    }
    let Some(last) = history.iter().max_by_key(|r| r.version).cloned() else {
        return Err(Error::message(format!("{name:?} has no deployed releases")));
    };
    if status::is_pending(last.status()) {
        return Err(Error::message(ANOTHER_OPERATION));
    }
    let mut current = if last.status() == status::DEPLOYED {
        last.clone()
    } else {
        match storage.deployed(name) {
            Ok(r) => r,
            Err(_) if matches!(last.status(), status::FAILED | status::SUPERSEDED) => last.clone(),
            Err(e) => return Err(Error::message(e.to_string())),
        }
    };

    let mut chart = charts::load_with_dependencies(
        chart_ref,
        &opts.install.chart,
        charts::DeprecationCheck::AfterDependencies,
        &opts.install.log,
    )?;
    let values = upgrade_values(&mut chart, &current, user_values, opts)?;
    charts::process_dependencies(&mut chart, &values, &opts.install.log)
        .map_err(|e| Error::message(format!("chart dependencies processing failed: {e}")))?;

    let revision = last.version + 1;
    let rendered = render(
        cluster,
        &chart,
        &values,
        name,
        &current.namespace,
        revision,
        true,
        &opts.install,
    )?;
    let mut labels = last.labels.clone();
    labels.extend(opts.install.labels.clone());
    let mut upgraded = Release {
        name: name.to_string(),
        namespace: current.namespace.clone(),
        chart: chart_json(&chart),
        config: value_to_json(&values),
        manifest: rendered.manifest.clone(),
        hooks: rendered.hooks,
        version: revision,
        labels,
        apply_method: "ssa".into(),
        info: Some(Info {
            first_deployed: current
                .info
                .as_ref()
                .map(|i| i.first_deployed.clone())
                .unwrap_or_default(),
            last_deployed: rudder_storage::release::now(),
            notes: rendered.notes,
            ..Info::default()
        }),
    };
    upgraded.set_status(status::PENDING_UPGRADE, "Preparing upgrade");
    let _ = &rendered.manifests;

    let kube = cluster.kube();
    let mut target = resources::parse_manifest(&upgraded.manifest, &upgraded.namespace)?;
    if opts.install.dry_run != DryRun::Client {
        resources::locate(kube, &mut target)?;
    }
    if opts.install.dry_run != DryRun::None {
        upgraded.set_status(status::PENDING_UPGRADE, "Dry run complete");
        return Ok((upgraded, false));
    }
    resources::stamp_ownership(&mut target, name, &upgraded.namespace);
    let mut old = resources::parse_manifest(&current.manifest, &current.namespace)?;
    old.retain_mut(|o| match kube.locate(&o.reference) {
        Ok((_, r)) => {
            o.reference = r;
            true
        }
        Err(_) => false,
    });
    let already_ours: BTreeSet<ObjectRef> = old.iter().map(|o| o.reference.clone()).collect();
    resources::check_conflicts(
        kube,
        &target,
        &already_ours,
        name,
        &upgraded.namespace,
        opts.install.take_ownership,
    )
    .map_err(|e| Error::message(format!("Unable to continue with update: {e}")))?;

    // Two upgrades that both passed the pending check race for this revision's record; the
    // store lets one create it. Helm says "release: already exists" to the other; its
    // cause is the same as the pending check's, so rudder gives the same error for both.
    storage.create(&upgraded).map_err(|e| match e {
        rudder_storage::Error::Exists => Error::message(ANOTHER_OPERATION),
        e => Error::message(e.to_string()),
    })?;
    let timeout = timeout_of(&opts.install.wait);
    let recorder = Recorder::new(&storage, kube, timeout, &opts.install.log);
    let mut created = Vec::new();
    let outcome = interruptible(kube, &opts.install.cancel, timeout, || {
        if !opts.install.no_hooks {
            resources::run_hooks(
                kube,
                &mut upgraded.hooks,
                "pre-upgrade",
                &upgraded.namespace,
                timeout,
            )
            .map_err(|e| Error::message(format!("pre-upgrade hooks failed: {e}")))?;
        }
        created = resources::apply_all(kube, &target, opts.install.force_conflicts)?;
        resources::delete_removed(kube, &old, &target)?;
        if opts.install.wait.wait {
            let refs: Vec<ObjectRef> = target.iter().map(|o| o.reference.clone()).collect();
            let wait = WaitOptions {
                timeout,
                ..opts.install.wait.clone()
            };
            resources::wait_ready(kube, &refs, &wait, progress)?;
        }
        if !opts.install.no_hooks {
            resources::run_hooks(
                kube,
                &mut upgraded.hooks,
                "post-upgrade",
                &upgraded.namespace,
                timeout,
            )
            .map_err(|e| Error::message(format!("post-upgrade hooks failed: {e}")))?;
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {
            current.set_status(status::SUPERSEDED, "");
            recorder.record(&current);
            let description = opts
                .install
                .description
                .clone()
                .unwrap_or_else(|| "Upgrade complete".into());
            upgraded.set_status(status::DEPLOYED, &description);
            // Helm's upgrade fails when its final record cannot be written.
            recorder
                .write(&upgraded)
                .map_err(|e| Error::message(e.to_string()))?;
            Ok((upgraded, false))
        }
        Err(e) => {
            opts.install.log.emit(
                LogRecord::warn("upgrade failed")
                    .with("name", name)
                    .with("error", e.to_string()),
            );
            upgraded.set_status(status::FAILED, &format!("Upgrade {name:?} failed: {e}"));
            recorder.record(&upgraded);
            if opts.cleanup_on_fail {
                for r in &created {
                    let _ = kube.delete(r, Propagation::Background);
                }
            }
            if opts.install.rollback_on_failure {
                let history = storage
                    .history(name)
                    .map_err(|e| Error::message(e.to_string()))?;
                let Some(good) = history
                    .iter()
                    .filter(|r| matches!(r.status(), status::SUPERSEDED | status::DEPLOYED))
                    .max_by_key(|r| r.version)
                else {
                    return Err(Error::message(format!(
                        "unable to find a previously successful release when attempting to rollback. original upgrade error: {e}"
                    )));
                };
                let rb = RollbackOptions {
                    revision: good.version,
                    wait: opts.install.wait.clone(),
                    no_hooks: opts.install.no_hooks,
                    history_max: opts.history_max,
                    force_conflicts: opts.install.force_conflicts,
                    log: opts.install.log.clone(),
                    ..RollbackOptions::default()
                };
                if let Err(re) = rollback(cluster, name, &rb, progress) {
                    return Err(Error::message(format!(
                        "an error occurred while rolling back the release. original upgrade error: {e}: {re}"
                    )));
                }
                return Err(Error::message(format!(
                    "release {name} failed, and has been rolled back due to rollback-on-failure being set: {e}"
                )));
            }
            Err(e)
        }
    }
}

/// `rudder rollback NAME [REVISION]`.
pub fn rollback(
    cluster: &Cluster,
    name: &str,
    opts: &RollbackOptions,
    progress: &mut dyn FnMut(&[resources::Readiness]),
) -> Result<Release, Error> {
    rudder_chart::validate_release_name(name)
        .map_err(|_| Error::message(format!("prepareRollback: Release name is invalid: {name}")))?;
    let namespace = cluster.namespace().to_string();
    let mut storage = cluster.storage(&namespace);
    storage.max_history = opts.history_max;
    let mut current = storage.last(name).map_err(|e| match e {
        rudder_storage::Error::NotFound => Error::message("release: not found"),
        e => Error::message(e.to_string()),
    })?;
    let previous_version = if opts.revision > 0 {
        opts.revision
    } else {
        current.version - 1
    };
    let history = storage
        .history(name)
        .map_err(|e| Error::message(e.to_string()))?;
    if !history.iter().any(|r| r.version == previous_version) {
        return Err(Error::message(format!(
            "release has no {previous_version} version"
        )));
    }
    let previous = storage
        .get(name, previous_version)
        .map_err(|e| Error::message(e.to_string()))?;
    let mut target = Release {
        name: name.to_string(),
        namespace: current.namespace.clone(),
        chart: previous.chart.clone(),
        config: previous.config.clone(),
        manifest: previous.manifest.clone(),
        hooks: previous.hooks.clone(),
        version: current.version + 1,
        labels: previous.labels.clone(),
        apply_method: "ssa".into(),
        info: Some(Info {
            first_deployed: current
                .info
                .as_ref()
                .map(|i| i.first_deployed.clone())
                .unwrap_or_default(),
            last_deployed: rudder_storage::release::now(),
            notes: previous
                .info
                .as_ref()
                .map(|i| i.notes.clone())
                .unwrap_or_default(),
            ..Info::default()
        }),
    };
    target.set_status(
        status::PENDING_ROLLBACK,
        &format!("Rollback to {previous_version}"),
    );
    if opts.dry_run {
        return Ok(target);
    }
    let kube = cluster.kube();
    let mut objects = resources::parse_manifest(&target.manifest, &target.namespace)?;
    resources::locate(kube, &mut objects)?;
    resources::stamp_ownership(&mut objects, name, &target.namespace);
    let mut old = resources::parse_manifest(&current.manifest, &current.namespace)?;
    old.retain_mut(|o| match kube.locate(&o.reference) {
        Ok((_, r)) => {
            o.reference = r;
            true
        }
        Err(_) => false,
    });
    storage
        .create(&target)
        .map_err(|e| Error::message(e.to_string()))?;
    let timeout = timeout_of(&opts.wait);
    let recorder = Recorder::new(&storage, kube, timeout, &opts.log);
    let mut created = Vec::new();
    let outcome = interruptible(kube, &opts.cancel, timeout, || {
        if !opts.no_hooks {
            resources::run_hooks(
                kube,
                &mut target.hooks,
                "pre-rollback",
                &target.namespace,
                timeout,
            )?;
        }
        created = resources::apply_all(kube, &objects, opts.force_conflicts)?;
        resources::delete_removed(kube, &old, &objects)?;
        if opts.wait.wait {
            let refs: Vec<ObjectRef> = objects.iter().map(|o| o.reference.clone()).collect();
            let wait = WaitOptions {
                timeout,
                ..opts.wait.clone()
            };
            resources::wait_ready(kube, &refs, &wait, progress)?;
        }
        if !opts.no_hooks {
            resources::run_hooks(
                kube,
                &mut target.hooks,
                "post-rollback",
                &target.namespace,
                timeout,
            )?;
        }
        Ok(())
    });
    if let Err(e) = outcome {
        current.set_status(status::SUPERSEDED, "");
        recorder.record(&current);
        target.set_status(status::FAILED, &format!("Rollback {name:?} failed: {e}"));
        recorder.record(&target);
        if opts.cleanup_on_fail {
            for r in &created {
                let _ = kube.delete(r, Propagation::Background);
            }
        }
        return Err(e);
    }
    // Every earlier deployed revision is superseded now (a recovered pending one too).
    for mut r in history {
        if r.version != target.version
            && matches!(
                r.status(),
                status::DEPLOYED
                    | status::PENDING_INSTALL
                    | status::PENDING_UPGRADE
                    | status::PENDING_ROLLBACK
            )
        {
            r.set_status(status::SUPERSEDED, "");
            recorder.record(&r);
        }
    }
    target.set_status(status::DEPLOYED, "");
    recorder.record(&target);
    Ok(target)
}

/// `rudder uninstall NAME`.
pub fn uninstall(
    cluster: &Cluster,
    name: &str,
    opts: &UninstallOptions,
) -> Result<UninstallReport, Error> {
    rudder_chart::validate_release_name(name)
        .map_err(|_| Error::message(format!("uninstall: Release name is invalid: {name}")))?;
    let namespace = cluster.namespace().to_string();
    let storage = cluster.storage(&namespace);
    let history = storage
        .history(name)
        .map_err(|e| Error::message(e.to_string()))?;
    let Some(mut rel) = history.iter().max_by_key(|r| r.version).cloned() else {
        if opts.ignore_not_found {
            return Ok(UninstallReport::default());
        }
        return Err(Error::message(format!(
            "uninstall: Release not loaded: {name}: release: not found"
        )));
    };
    if opts.dry_run {
        return Ok(UninstallReport {
            info: String::new(),
            release: Some(rel),
        });
    }
    if rel.status() == status::UNINSTALLED {
        if !opts.keep_history {
            purge(&storage, name, &history)?;
            return Ok(UninstallReport {
                info: String::new(),
                release: Some(rel),
            });
        }
        return Err(Error::message(format!(
            "the release named {name:?} is already deleted"
        )));
    }
    rel.set_status(
        status::UNINSTALLING,
        "Deletion in progress (or silently failed)",
    );
    if let Some(info) = rel.info.as_mut() {
        info.deleted = rudder_storage::release::now();
    }
    let timeout = timeout_of(&opts.wait);
    let kube = cluster.kube();
    let recorder = Recorder::new(&storage, kube, timeout, &opts.log);
    recorder.record(&rel);

    let mut errors = Vec::new();
    if !opts.no_hooks {
        resources::run_hooks(kube, &mut rel.hooks, "pre-delete", &rel.namespace, timeout)?;
    }
    let mut objects = resources::release_objects(kube, &rel)?;
    resources::sort_for_uninstall(&mut objects);
    let (kept, delete_errors) = resources::delete_all(kube, &objects, opts.cascade);
    errors.extend(delete_errors);
    if opts.wait.wait {
        let refs: Vec<ObjectRef> = objects
            .iter()
            .filter(|o| {
                o.annotation(resources::RESOURCE_POLICY_ANNOTATION)
                    .is_none()
            })
            .map(|o| o.reference.clone())
            .collect();
        wait_deleted(kube, &refs, timeout)?;
    }
    if !opts.no_hooks {
        if let Err(e) =
            resources::run_hooks(kube, &mut rel.hooks, "post-delete", &rel.namespace, timeout)
        {
            errors.push(e.to_string());
        }
    }
    let info = if kept.is_empty() {
        String::new()
    } else {
        format!(
            "These resources were kept due to the resource policy:\n{}\n",
            kept.join("\n")
        )
    };
    rel.set_status(
        status::UNINSTALLED,
        opts.description
            .as_deref()
            .unwrap_or("Uninstallation complete"),
    );
    if opts.keep_history {
        recorder.record(&rel);
    } else {
        purge(&storage, name, &storage.history(name).unwrap_or_default())?;
    }
    if !errors.is_empty() {
        return Err(Error::message(format!(
            "uninstallation completed with {} error(s): {}",
            errors.len(),
            errors.join("; ")
        )));
    }
    Ok(UninstallReport {
        info,
        release: Some(rel),
    })
}

fn purge(storage: &Storage, name: &str, history: &[Release]) -> Result<(), Error> {
    for r in history {
        if let Err(e) = storage.driver.delete(&make_key(name, r.version)) {
            if !matches!(e, rudder_storage::Error::NotFound) {
                return Err(Error::message(format!(
                    "uninstall: Failed to purge the release: {e}"
                )));
            }
        }
    }
    Ok(())
}

fn wait_deleted(
    kube: &rudder_kube::Kube,
    refs: &[ObjectRef],
    timeout: Duration,
) -> Result<(), Error> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let remaining: Vec<&ObjectRef> = refs
            .iter()
            .filter(|r| matches!(kube.get(r), Ok(Some(_))))
            .collect();
        if remaining.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::message(format!(
                "timed out waiting for {} resources to be deleted",
                remaining.len()
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

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
        super::default_timeout()
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
    let error = match (outcome, logs.as_ref().err(), stored) {
        (Err(e), _, _) => Some(e),
        (Ok(()), Some(e), _) => Some(Error::message(e.clone())),
        (Ok(()), None, Err(e)) => Some(Error::message(e.to_string())),
        _ => None,
    };
    Ok(TestReport {
        release: rel,
        logs: logs.unwrap_or_default(),
        error,
    })
}

/// The logs of every container of the test pods, by hook weight, as `helm test --logs`
/// prints them.
fn test_pod_logs(
    kube: &rudder_kube::Kube,
    namespace: &str,
    hooks: &[rudder_storage::Hook],
) -> Result<String, String> {
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
            Ok(None) => return Err(format!("unable to get pod {}: not found", h.name)),
            Err(e) => return Err(format!("unable to get pod {}: {e}", h.name)),
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
                Err(e) => errors.push(format!(
                    "unable to get logs for pod {}, container {container}: {e}",
                    h.name
                )),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("\n"))
    }
}
