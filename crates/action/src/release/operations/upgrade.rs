//! `upgrade` (and `upgrade --install`): the values reused or reset, a new revision.

use super::install::{check_hide_secret, install_chart, load_chart};
use super::*;

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
    charts::process_dependencies(&mut chart, &values, &opts.install.log)?;

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
