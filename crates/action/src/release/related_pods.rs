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
    /// The table of the pods related to the manifest object `obj` (in `namespace`), if it
    /// is a workload whose selector was not listed yet. A failed listing is skipped, as
    /// Helm only logs it.
    pub(crate) fn table_for(&mut self, kube: &Kube, obj: &Json, namespace: &str) -> Option<Json> {
        let selector = selector_of(obj)?;
        if self.seen.contains(&selector) {
            return None;
        }
        let text = selector_text(&selector);
        self.seen.push(selector);
        kube.list_pods_table(namespace, &text).ok()
    }
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
