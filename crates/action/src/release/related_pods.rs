//! The related pods `helm status` lists under `v1/Pod(related)` (Helm v4.2.3's
//! pkg/kube/client.go: `Get` with related=true, `getSelectRelationPod`,
//! `getSelectorFromObject`): for each workload of the release, the pods its selector picks
//! in its namespace, as the server tables them; a selector met before is not listed again.

use std::collections::BTreeMap;

use rudder_kube::Kube;
use serde_json::Value as Json;

/// The group key Helm files the related pods under.
pub(crate) const RELATED_KEY: &str = "v1/Pod(related)";

/// The pod selector of a workload as the manifest gives it (`spec.selector.matchLabels`,
/// or `spec.selector` for a ReplicationController); none for other kinds or when the
/// field is missing or not a map of strings (Go's `NestedStringMap` fails then).
fn selector_of(obj: &Json) -> Option<BTreeMap<String, String>> {
    let selector = match obj["kind"].as_str()? {
        "ReplicaSet" | "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => {
            &obj["spec"]["selector"]["matchLabels"]
        }
        "ReplicationController" => &obj["spec"]["selector"],
        _ => return None,
    };
    selector
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// `labels.Set(selector).AsSelector().String()`: `k=v` pairs sorted by key, comma-joined.
fn selector_text(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The selectors already listed in one `status`.
#[derive(Default)]
pub(crate) struct RelatedPods {
    seen: Vec<BTreeMap<String, String>>,
}

impl RelatedPods {
    /// The label selector (`k=v,...`) of the pods related to the manifest object `obj`,
    /// if it is a workload whose selector was not met yet.
    fn first_time(&mut self, obj: &Json) -> Option<String> {
        let selector = selector_of(obj)?;
        if self.seen.contains(&selector) {
            return None;
        }
        let text = selector_text(&selector);
        self.seen.push(selector);
        Some(text)
    }

    /// The table of the pods related to the manifest object `obj` (in `namespace`), for
    /// the table output. A failed listing is skipped, as Helm only logs it.
    pub(crate) fn table_for(&mut self, kube: &Kube, obj: &Json, namespace: &str) -> Option<Json> {
        let selector = self.first_time(obj)?;
        kube.list_pods_table(namespace, &selector).ok()
    }

    /// The related pods themselves, for `-o json`/`-o yaml`.
    pub(crate) fn pods_for(
        &mut self,
        kube: &Kube,
        obj: &Json,
        namespace: &str,
    ) -> Option<Vec<Json>> {
        let selector = self.first_time(obj)?;
        kube.list("v1", "Pod", namespace, &selector).ok()
    }
}

/// `info.resources` of `helm status -o json|yaml` (Helm v4.2.3's action/status.go with
/// ShowResourcesTable off): the live objects of the release's manifest keyed
/// `VERSION/KIND`, and `v1/Pod(related)`; objects that cannot be read are left out.
pub(crate) fn resources_json(kube: &Kube, objects: &[super::resources::Object]) -> Json {
    // Keys sorted, as Go's encoding/json writes a map.
    let mut groups: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    let mut related = RelatedPods::default();
    let mut add = |key: String, obj: Json| groups.entry(key).or_default().push(obj);
    for o in objects {
        let Ok(Some(live)) = kube.get(&o.reference) else {
            continue;
        };
        let version = o
            .reference
            .api_version
            .rsplit('/')
            .next()
            .unwrap_or_default();
        add(format!("{version}/{}", o.reference.kind), live);
        for pod in related
            .pods_for(kube, &o.json, &o.reference.namespace)
            .unwrap_or_default()
        {
            add(RELATED_KEY.to_string(), pod);
        }
    }
    Json::Object(
        groups
            .into_iter()
            .map(|(k, v)| (k, Json::Array(v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_as_helm_reads_them() {
        let deploy = json!({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"b": "2", "a": "1"}}}});
        assert_eq!(selector_text(&selector_of(&deploy).unwrap()), "a=1,b=2");
        let rc = json!({"kind": "ReplicationController", "spec": {"selector": {"app": "x"}}});
        assert_eq!(selector_text(&selector_of(&rc).unwrap()), "app=x");
        assert!(
            selector_of(&json!({"kind": "Service", "spec": {"selector": {"app": "x"}}})).is_none()
        );
        assert!(selector_of(&json!({"kind": "Deployment", "spec": {}})).is_none());
        let not_strings = json!({"kind": "Job", "spec": {"selector": {"matchLabels": {"n": 1}}}});
        assert!(selector_of(&not_strings).is_none());
    }
}
