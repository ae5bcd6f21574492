//! `install`: a new release (name check, CRDs, hooks, resources, the record).

use super::*;

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

pub(super) fn load_chart(
    chart_ref: &str,
    opts: &InstallOptions,
    user_values: &Value,
) -> Result<Chart, Error> {
    let mut chart = charts::load_with_dependencies(
        chart_ref,
        &opts.chart,
        charts::DeprecationCheck::BeforeDependencies,
        &opts.log,
    )?;
    if chart.metadata.api_version != "v2" && chart.metadata.api_version != "v1" {
        return Err(Error::message("invalid chart apiVersion"));
    }
    charts::process_dependencies(&mut chart, user_values, &opts.log)?;
    Ok(chart)
}

/// Helm's `availableName`: a name may be reused only when its last revision was uninstalled
/// or failed and `--replace` is given.
fn check_name_available(storage: &Storage, name: &str, replace: bool) -> Result<(), Error> {
    rudder_chart::validate_release_name(name)
        .map_err(|e| Error::context(format!("release name {name:?}: {e}"), e))?;
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
pub(super) fn check_hide_secret(opts: &InstallOptions) -> Result<(), Error> {
    if opts.hide_secret && opts.dry_run == DryRun::None {
        return Err(Error::message(
            "hiding Kubernetes secrets requires a dry-run mode",
        ));
    }
    Ok(())
}

pub(super) fn install_chart(
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
