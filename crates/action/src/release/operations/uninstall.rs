//! `uninstall`: resources and hooks deleted, the records kept or purged.

use super::*;

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
