//! Where the two sides of a diff come from: a release's stored revisions, or what an upgrade
//! would render (Helm's own upgrade code path, as a dry run).

use std::collections::BTreeMap;

use rudder_storage::Release;

use super::objects::{self, Object, ParseOptions, TEST_HOOKS};
use super::{compare, DiffOptions, Report};
use crate::release::{self, Cluster, DryRun, UpgradeOptions};
use crate::Error;

/// How manifests are read on both sides.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// `--include-tests`: keep test hooks.
    pub include_tests: bool,
    /// `--normalize-manifests`.
    pub normalize: bool,
    pub diff: DiffOptions,
}

/// The outcome of a diff: the report, and warnings helm-diff logs (duplicate objects).
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub warnings: Vec<String>,
}

/// `diff upgrade`'s options beyond the upgrade's own.
#[derive(Clone, Debug, Default)]
pub struct DiffUpgradeOptions {
    /// The upgrade the diff previews (values, chart version, `--install`, hooks...).
    pub upgrade: UpgradeOptions,
    /// `--allow-unreleased`/`--install`: a release that does not exist diffs as an install.
    pub allow_unreleased: bool,
    /// `--dry-run[=client]`: no cluster access; the release diffs as a new install.
    pub client_only: bool,
    /// `--disable-validation` or `--dry-run=false`: the release is read from the cluster but
    /// the chart is rendered client-side, as helm-diff then runs `helm template` without
    /// `--dry-run=server` (helm-diff v3.15.11 cmd/helm.go, lines 347-409), so that
    /// `--kube-version` and `--api-versions` take effect.
    pub client_render: bool,
    /// `--three-way-merge`: compare the live objects with what a server-side apply of the
    /// new render would store (hooks are left out, as helm-diff leaves them).
    pub three_way_merge: bool,
    pub read: ReadOptions,
}

fn index(
    manifest: &str,
    namespace: &str,
    read: &ReadOptions,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, Object>, Error> {
    let excluded: &[&str] = if read.include_tests { &[] } else { &TEST_HOOKS };
    let parsed = objects::parse(
        manifest,
        &ParseOptions {
            default_namespace: namespace,
            normalize: read.normalize,
            excluded_hooks: excluded,
        },
    )
    .map_err(Error::typed)?;
    warnings.extend(
        parsed
            .duplicates
            .into_iter()
            .map(|k| format!("Error: Found duplicate key {k:?} in manifest")),
    );
    Ok(parsed.objects)
}

/// A release's manifest followed by its hooks, as `helm get manifest` and `helm get hooks`
/// print them.
fn manifest_with_hooks(release: &Release, hooks: bool) -> String {
    let mut text = release.manifest.clone();
    if hooks {
        for h in &release.hooks {
            text.push_str(&crate::template::source_block(&h.path, &h.manifest));
        }
    }
    text
}

/// The release's revisions, oldest first (empty when it does not exist).
fn revisions(cluster: &Cluster, namespace: &str, name: &str) -> Result<Vec<Release>, Error> {
    let mut history = cluster
        .storage(namespace)
        .history(name)
        .map_err(|e| Error::message(e.to_string()))?;
    history.sort_by_key(|r| r.version);
    Ok(history)
}

fn revision(history: &[Release], name: &str, version: i64) -> Result<Release, Error> {
    history
        .iter()
        .find(|r| r.version == version)
        .cloned()
        .ok_or_else(|| Error::message(format!("release: not found: {name} revision {version}")))
}

/// `diff upgrade RELEASE CHART`: the release's last revision (manifest and hooks) against
/// what the upgrade would render.
pub fn diff_upgrade(
    cluster: &Cluster,
    name: &str,
    chart_ref: &str,
    opts: &DiffUpgradeOptions,
) -> Result<Outcome, Error> {
    let namespace = cluster.namespace().to_string();
    let hooks = !opts.upgrade.install.no_hooks;
    let mut warnings = Vec::new();
    let current = if opts.client_only {
        None
    } else {
        revisions(cluster, cluster.namespace(), name)?.pop()
    };
    if current.is_none() && !opts.allow_unreleased && !opts.client_only {
        return Err(Error::message(format!(
            "release {name:?} was not found in namespace {namespace:?}; add --allow-unreleased (or --install) to diff it as an install"
        )));
    }
    let render_mode = if opts.client_only || opts.client_render {
        DryRun::Client
    } else {
        DryRun::Server
    };
    let planned = if opts.client_only || current.is_none() {
        // Nothing deployed (or no cluster to ask): the diff previews an install.
        let mut install = opts.upgrade.install.clone();
        install.dry_run = render_mode;
        release::install(cluster, name, chart_ref, &install, &mut |_| {})?
    } else {
        let mut upgrade = opts.upgrade.clone();
        upgrade.install.dry_run = render_mode;
        release::upgrade(cluster, name, chart_ref, &upgrade, &mut |_| {})?.0
    };
    if opts.three_way_merge && !opts.client_only {
        let old_manifest = current.as_ref().map(|r| r.manifest.as_str()).unwrap_or("");
        let (old, new) = super::drift::live_and_planned(
            cluster,
            name,
            &planned.namespace,
            old_manifest,
            &planned.manifest,
        )?;
        return Ok(Outcome {
            report: compare(old, new, &[], &opts.read.diff),
            warnings,
        });
    }
    let mut old = match &current {
        Some(r) => index(
            &manifest_with_hooks(r, hooks),
            &namespace,
            &opts.read,
            &mut warnings,
        )?,
        None => BTreeMap::new(),
    };
    let new = index(
        &manifest_with_hooks(&planned, hooks),
        &namespace,
        &opts.read,
        &mut warnings,
    )?;
    let mut ownership = Vec::new();
    if opts.upgrade.install.take_ownership && !opts.client_only {
        // Objects taken over from another owner are compared with their live state.
        let (changes, live) =
            super::drift::ownership_changes(cluster, name, &planned.namespace, &planned.manifest)?;
        old.extend(live);
        ownership = changes;
    }
    Ok(Outcome {
        report: compare(old, new, &ownership, &opts.read.diff),
        warnings,
    })
}

/// `diff rollback RELEASE [REVISION]`: the last revision's manifest against the one a
/// rollback would restore (by default the one before the last).
pub fn diff_rollback(
    cluster: &Cluster,
    name: &str,
    target: Option<i64>,
    read: &ReadOptions,
) -> Result<Outcome, Error> {
    let history = revisions(cluster, cluster.namespace(), name)?;
    let Some(last) = history.last() else {
        return Err(Error::message("release: not found"));
    };
    let target = target.filter(|r| *r > 0).unwrap_or(last.version - 1);
    let to = revision(&history, name, target)?;
    diff_manifests(&last.manifest, &to.manifest, cluster.namespace(), read)
}

/// `diff revision RELEASE REV1 [REV2]`: with one revision, that revision against the last;
/// with two, the older against the newer.
pub fn diff_revision(
    cluster: &Cluster,
    name: &str,
    revisions_asked: &[i64],
    read: &ReadOptions,
) -> Result<Outcome, Error> {
    let history = revisions(cluster, cluster.namespace(), name)?;
    let Some(last) = history.last() else {
        return Err(Error::message("release: not found"));
    };
    let (old, new) = match revisions_asked {
        [one] => (revision(&history, name, *one)?, last.clone()),
        [a, b] => {
            let (a, b) = if a > b { (*b, *a) } else { (*a, *b) };
            (revision(&history, name, a)?, revision(&history, name, b)?)
        }
        _ => return Err(Error::usage("Invalid Arguments")),
    };
    diff_manifests(&old.manifest, &new.manifest, cluster.namespace(), read)
}

/// `diff release [NS/]RELEASE1 [NS/]RELEASE2`: two releases of one chart, their objects
/// matched by the template they came from.
pub fn diff_releases(
    cluster: &Cluster,
    first: &str,
    second: &str,
    read: &ReadOptions,
) -> Result<Outcome, Error> {
    let mut warnings = Vec::new();
    let mut sides = Vec::new();
    for spec in [first, second] {
        let (namespace, name) = match spec.split_once('/') {
            Some((ns, n)) => (ns.to_string(), n.to_string()),
            None => (cluster.namespace().to_string(), spec.to_string()),
        };
        let Some(last) = revisions(cluster, &namespace, &name)?.pop() else {
            return Err(Error::message("release: not found"));
        };
        let chart = last.chart["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let objects = index(&last.manifest, &namespace, read, &mut warnings)?;
        sides.push((chart, objects));
    }
    let (second_chart, second_objects) = sides.pop().expect("two sides");
    let (first_chart, first_objects) = sides.pop().expect("two sides");
    if first_chart != second_chart {
        return Err(Error::message(format!(
            "Incomparable Releases: unable to compare releases from two different charts {first_chart:?}, {second_chart:?}"
        )));
    }
    Ok(Outcome {
        report: compare(
            objects::by_source(first_objects),
            objects::by_source(second_objects),
            &[],
            &read.diff,
        ),
        warnings,
    })
}

fn diff_manifests(
    old: &str,
    new: &str,
    namespace: &str,
    read: &ReadOptions,
) -> Result<Outcome, Error> {
    let mut warnings = Vec::new();
    let old = index(old, namespace, read, &mut warnings)?;
    let new = index(new, namespace, read, &mut warnings)?;
    Ok(Outcome {
        report: compare(old, new, &[], &read.diff),
        warnings,
    })
}
