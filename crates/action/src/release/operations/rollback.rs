//! `rollback`: a new revision with an earlier one's chart, values and manifests.

use super::*;

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
