//! Drift: objects of a release whose live state no longer matches what the release applied.
//!
//! For each object of the release's last manifest, the server is asked (a server-side apply
//! as a dry run, with the release's field manager and forced ownership) what the object
//! would be if the release were applied again now; that is compared with the live object.
//! Both sides come from the server, so its defaulting and canonical forms (quantities,
//! ports...) cause no false alarms, and fields the release never set are not reported.
//! Who changed a drifted field is read from the live object's `managedFields`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::lines::{self, Delta};
use super::objects::Object as Indexed;
use super::release::{Outcome, ReadOptions};
use super::{secrets, structured, Change, Entry, Format, OwnershipChange, Report};
use crate::release::{self, Cluster};
use crate::Error;

/// The fields that differ between any two reads of one object, whatever changed it.
const VOLATILE_METADATA: [&str; 5] = [
    "managedFields",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "uid",
];

/// `rudder diff drift RELEASE`: every object of the release's last revision that was
/// changed or deleted behind its back.
pub fn drift(cluster: &Cluster, name: &str, read: &ReadOptions) -> Result<Outcome, Error> {
    let namespace = cluster.namespace().to_string();
    let last = release::status(cluster, name, 0)?;
    let mut objects = release::resources::parse_manifest(&last.manifest, &last.namespace)?;
    release::resources::stamp_ownership(&mut objects, name, &last.namespace);
    let kube = cluster.kube();
    // Each object costs two requests (a read and a dry-run apply); they are sent a few at a
    // time, as the server answers them independently.
    let results = map_concurrently(
        &objects,
        CONCURRENT_REQUESTS,
        |o| -> Result<Option<(Entry, Option<String>)>, Error> {
            let key = object_key(&o.json, &o.reference.namespace, &namespace);
            let kind = o.reference.kind.clone();
            let live = kube
                .get(&o.reference)
                .map_err(|e| Error::message(format!("reading {key}: {e}")))?;
            let Some(live) = live else {
                // The diff format prints a deletion as its header alone; dyff needs the
                // object's lines to show it removed, structured its identity.
                let (mut lines, mut structured) = (Vec::new(), None);
                if matches!(read.diff.format, Format::Dyff | Format::Structured) {
                    let mut applied = side(&key, &kind, &o.json)?;
                    secrets::prepare(Some(&mut applied), None, read.diff.secrets);
                    if read.diff.format == Format::Dyff {
                        lines = lines::diff_texts(&applied.content, "", false);
                    } else {
                        let suppressed = read.diff.suppressed_kinds.contains(&kind);
                        structured =
                            structured::build(&key, "DELETED", suppressed, Some(&applied), None)
                                .ok();
                    }
                }
                return Ok(Some((
                    Entry {
                        key,
                        kind,
                        change: Change::Deleted,
                        lines,
                        managers: Vec::new(),
                        structured,
                    },
                    None,
                )));
            };
            let planned = reapplied(kube, o, &key)?;
            let mut wanted = side(&key, &kind, &planned)?;
            let mut found = side(&key, &kind, &live)?;
            if wanted.content == found.content {
                return Ok(None);
            }
            secrets::prepare(Some(&mut wanted), Some(&mut found), read.diff.secrets);
            let diff = lines::diff_texts(&wanted.content, &found.content, false);
            if diff.iter().all(|l| l.delta == Delta::Common) {
                return Ok(None);
            }
            let managers = managers_of_changes(&planned, &live);
            let (structured, warning) = if read.diff.format == Format::Structured {
                let suppressed = read.diff.suppressed_kinds.contains(&kind);
                match structured::build(&key, "DRIFTED", suppressed, Some(&wanted), Some(&found)) {
                    Ok(r) => (Some(r), None),
                    Err(e) => (
                        None,
                        Some(format!(
                            "Warning: failed to build structured entry for {key} (kind: {kind}, changeType: DRIFTED): {}",
                            e.0
                        )),
                    ),
                }
            } else {
                (None, None)
            };
            Ok(Some((
                Entry {
                    key,
                    kind,
                    change: Change::Drifted,
                    lines: diff,
                    managers: managers.into_iter().collect(),
                    structured,
                },
                warning,
            )))
        },
    );
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    for result in results {
        if let Some((entry, warning)) = result? {
            entries.push(entry);
            warnings.extend(warning);
        }
    }
    let seen_changes = !entries.is_empty();
    Ok(Outcome {
        report: Report {
            entries,
            seen_changes,
            warnings,
        },
        warnings: Vec::new(),
    })
}

/// Objects by key, as the diff compares them.
pub(super) type ObjectIndex = BTreeMap<String, Indexed>;

/// `--three-way-merge`: for each object of the old and the new manifest, the live object
/// (old side) and what a forced server-side dry-run apply of the new render would store
/// (new side), both without status and volatile metadata; an object the new render drops
/// has no new side, one that does not exist yet no old side.
pub(crate) fn live_and_planned(
    cluster: &Cluster,
    name: &str,
    release_namespace: &str,
    old_manifest: &str,
    new_manifest: &str,
) -> Result<(ObjectIndex, ObjectIndex), Error> {
    let default_namespace = cluster.namespace().to_string();
    let kube = cluster.kube();
    let mut new_objects = release::resources::parse_manifest(new_manifest, release_namespace)?;
    release::resources::stamp_ownership(&mut new_objects, name, release_namespace);
    let old_objects = release::resources::parse_manifest(old_manifest, release_namespace)?;
    // Every object's live read (once per key), and for the new render's objects the dry-run
    // apply too, a few requests at a time; the results are used in manifest order.
    let mut seen = BTreeSet::new();
    // (object, key, read its live state, dry-run apply it)
    let mut work: Vec<(&release::resources::Object, String, bool, bool)> = Vec::new();
    for (o, planned) in new_objects
        .iter()
        .map(|o| (o, true))
        .chain(old_objects.iter().map(|o| (o, false)))
    {
        let key = object_key(&o.json, &o.reference.namespace, &default_namespace);
        let first = seen.insert(key.clone());
        if first || planned {
            work.push((o, key, first, planned));
        }
    }
    let results = map_concurrently(&work, CONCURRENT_REQUESTS, |(o, key, read_live, apply)| {
        let live = if *read_live {
            kube.get(&o.reference)
                .map_err(|e| Error::message(format!("reading {key}: {e}")))?
                .map(|live| side(key, &o.reference.kind, &live))
                .transpose()?
        } else {
            None
        };
        let planned = if *apply {
            Some(side(key, &o.reference.kind, &reapplied(kube, o, key)?)?)
        } else {
            None
        };
        Ok::<_, Error>((live, planned))
    });
    let (mut old, mut new) = (BTreeMap::new(), BTreeMap::new());
    for ((_, key, _, _), result) in work.iter().zip(results) {
        let (live, planned) = result?;
        if let Some(live) = live {
            old.insert(key.clone(), live);
        }
        if let Some(planned) = planned {
            new.insert(key.clone(), planned);
        }
    }
    Ok((old, new))
}

/// How many requests drift and `--three-way-merge` keep in flight at once: enough to hide
/// the round trips of a release with hundreds of objects, few enough for the API server's
/// default per-client fairness.
const CONCURRENT_REQUESTS: usize = 8;

/// `items.iter().map(f).collect()`, with up to `limit` items in flight at once on scoped
/// threads (each takes the next item when it is done with one, so slow requests do not hold
/// up a whole share). For I/O-bound work: rudder_value's `map_in_order` splits CPU-bound work
/// by the number of cores instead.
fn map_concurrently<T: Sync, R: Send>(
    items: &[T],
    limit: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = limit.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i) else { break };
        let r = f(item);
        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            // The work thread's stack, as for rudder's other helper threads: the objects
            // read are nested as deep as the server allows.
            let _ = std::thread::Builder::new()
                .stack_size(rudder_value::threads::WORK_STACK)
                .spawn_scoped(scope, work);
        }
    });
    // Items no thread took (none could be started) are mapped here.
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    for (slot, item) in results.iter_mut().zip(items) {
        if slot.is_none() {
            *slot = Some(f(item));
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every item was mapped"))
        .collect()
}

/// What the server would store if the object were applied now by the release's field
/// manager, taking over conflicting fields (a server-side apply as a dry run).
fn reapplied(
    kube: &rudder_kube::Kube,
    o: &release::resources::Object,
    key: &str,
) -> Result<Json, Error> {
    kube.apply_dry_run(
        &o.json,
        &o.reference.namespace,
        release::resources::FIELD_MANAGER,
        true,
    )
    .map_err(|e| Error::message(format!("dry-run apply of {key}: {e}")))
}

pub(super) fn object_key(obj: &Json, namespace: &str, default_namespace: &str) -> String {
    let api = obj["apiVersion"].as_str().unwrap_or_default();
    let group = api.rsplit_once('/').map(|(g, _)| g).unwrap_or(api);
    let ns = if namespace.is_empty() {
        default_namespace
    } else {
        namespace
    };
    format!(
        "{ns}, {}, {} ({group})",
        obj["metadata"]["name"].as_str().unwrap_or_default(),
        obj["kind"].as_str().unwrap_or_default()
    )
}

/// One side of the comparison: the object without its status and volatile metadata, as YAML.
pub(super) fn side(key: &str, kind: &str, obj: &Json) -> Result<Indexed, Error> {
    let mut obj = obj.clone();
    if let Some(map) = obj.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = obj["metadata"].as_object_mut() {
        for field in VOLATILE_METADATA {
            meta.remove(field);
        }
    }
    let value = crate::release::json_to_value(&obj);
    let content = rudder_value::yaml::to_yaml(&value).map_err(Error::typed)?;
    Ok(Indexed {
        key: key.to_string(),
        kind: kind.to_string(),
        content,
        resource_policy: String::new(),
    })
}

/// The field managers (other than the release's own) that own a field whose value differs
/// between what the release wants and the live object.
/// `--take-ownership`: the objects of a render that exist already but belong to another
/// release (or to none), with their live state, as helm-diff's `checkOwnership` lists them.
pub(crate) fn ownership_changes(
    cluster: &Cluster,
    name: &str,
    release_namespace: &str,
    manifest: &str,
) -> Result<(Vec<OwnershipChange>, ObjectIndex), Error> {
    let default_namespace = cluster.namespace().to_string();
    let objects = release::resources::parse_manifest(manifest, release_namespace)?;
    let new_owner = format!("{release_namespace}/{name}");
    let (mut changes, mut live_objects) = (Vec::new(), ObjectIndex::new());
    for o in &objects {
        let key = object_key(&o.json, &o.reference.namespace, &default_namespace);
        let Some(live) = cluster
            .kube()
            .get(&o.reference)
            .map_err(|e| Error::message(format!("reading {key}: {e}")))?
        else {
            continue;
        };
        let annotations = &live["metadata"]["annotations"];
        let owner_namespace = annotations["meta.helm.sh/release-namespace"]
            .as_str()
            .map(|ns| format!("{ns}/"))
            .unwrap_or_default();
        let owner = format!(
            "{owner_namespace}{}",
            annotations["meta.helm.sh/release-name"]
                .as_str()
                .unwrap_or_default()
        );
        if owner == new_owner {
            continue;
        }
        // Compared with rendered text, which has no final line break (helm-diff trims it too).
        let mut current = side(&key, &o.reference.kind, &live)?;
        current
            .content
            .truncate(current.content.trim_end_matches('\n').len());
        live_objects.insert(key.clone(), current);
        changes.push(OwnershipChange {
            key,
            old_release: owner,
            new_release: new_owner.clone(),
        });
    }
    Ok((changes, live_objects))
}

fn managers_of_changes(planned: &Json, live: &Json) -> BTreeSet<String> {
    let mut paths = Vec::new();
    differing_paths(planned, live, &mut Vec::new(), &mut paths);
    let mut managers = BTreeSet::new();
    let Some(entries) = live["metadata"]["managedFields"].as_array() else {
        return managers;
    };
    for entry in entries {
        let manager = entry["manager"].as_str().unwrap_or_default();
        if manager.is_empty() || manager == release::resources::FIELD_MANAGER {
            continue;
        }
        if paths.iter().any(|p| owns(&entry["fieldsV1"], p)) {
            managers.insert(manager.to_string());
        }
    }
    managers
}

/// Map keys leading to each value that differs (lists are compared whole).
fn differing_paths(a: &Json, b: &Json, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                if at.is_empty() && k == "status" {
                    continue;
                }
                let (va, vb) = (x.get(k.as_str()), y.get(k.as_str()));
                if va == vb {
                    continue;
                }
                at.push(k.clone());
                match (va, vb) {
                    (Some(va), Some(vb)) => differing_paths(va, vb, at, out),
                    _ => out.push(at.clone()),
                }
                at.pop();
            }
        }
        _ if a != b => out.push(at.clone()),
        _ => {}
    }
}

/// Whether a `fieldsV1` set covers `path` (or something under it).
fn owns(fields: &Json, path: &[String]) -> bool {
    let mut node = fields;
    for key in path {
        match node.get(format!("f:{key}")) {
            Some(next) => node = next,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_mapping_keeps_the_order_and_maps_every_item_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = AtomicUsize::new(0);
        let items: Vec<u64> = (0..200).collect();
        let out = map_concurrently(&items, 8, |i| {
            calls.fetch_add(1, Ordering::Relaxed);
            // Uneven latencies, as requests have.
            std::thread::sleep(std::time::Duration::from_micros((i % 7) * 300));
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::Relaxed), items.len());
        assert!(map_concurrently(&Vec::<u8>::new(), 8, |_| 0).is_empty());
    }
    use serde_json::json;

    #[test]
    fn the_manager_of_a_changed_field_is_found() {
        let planned = json!({"spec": {"replicas": 1, "template": {"x": 1}}});
        let live = json!({
            "spec": {"replicas": 5, "template": {"x": 1}},
            "metadata": {"managedFields": [
                {"manager": "helm", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}}},
                {"manager": "kubectl", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "other", "fieldsV1": {"f:spec": {"f:paused": {}}}}
            ]}
        });
        let managers: Vec<String> = managers_of_changes(&planned, &live).into_iter().collect();
        assert_eq!(managers, ["kubectl"]);
    }

    #[test]
    fn status_and_volatile_metadata_are_left_out() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "9", "managedFields": []},
            "status": {"x": 1}, "data": {"a": "b"}});
        let s = side("k", "ConfigMap", &obj).unwrap();
        assert_eq!(
            s.content,
            "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  name: c\n"
        );
    }
}
