//! The Node objects and their heartbeats: what a kubelet registers and renews so that the node
//! lifecycle controller keeps the node Ready and the scheduler places pods on it.

use serde_json::{json, Value as Json};

/// What every simulated node declares.
#[derive(Clone, Debug)]
pub struct NodeShape {
    pub cpu: String,
    pub memory: String,
    pub pods: String,
    pub ephemeral_storage: String,
    /// Taints every node carries from its registration (`--taint`), as Node `spec.taints`.
    pub taints: Vec<Json>,
}

/// A taint given as `key[=value]:Effect` (kubectl taint's syntax), as a Node's `spec.taints`
/// entry.
pub fn parse_taint(text: &str) -> Result<Json, String> {
    let (key_value, effect) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("taint {text:?}: expected key[=value]:Effect"))?;
    if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
        return Err(format!(
            "taint {text:?}: effect {effect:?} is not NoSchedule, PreferNoSchedule or NoExecute"
        ));
    }
    let (key, value) = key_value.split_once('=').unwrap_or((key_value, ""));
    if key.is_empty() {
        return Err(format!("taint {text:?}: the key is empty"));
    }
    let mut taint = json!({"key": key, "effect": effect});
    if !value.is_empty() {
        taint["value"] = json!(value);
    }
    Ok(taint)
}

/// The label that marks the nodes this program owns (KWOK marks its nodes the same way).
pub const SIMULATED_LABEL: &str = "sim.rudder.dev/node";

/// The InternalIP of the `index`th node: an address of the 10.240/16 block, unused elsewhere.
pub fn host_ip(index: usize) -> String {
    format!("10.240.{}.{}", index / 250, index % 250 + 1)
}

/// A new Node as a kubelet registers it, with its status.
pub fn node_object(name: &str, index: usize, shape: &NodeShape, pool: &str, now: &str) -> Json {
    let resources = json!({
        "cpu": shape.cpu,
        "memory": shape.memory,
        "pods": shape.pods,
        "ephemeral-storage": shape.ephemeral_storage,
    });
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": pool,
                "topology.kubernetes.io/zone": format!("zone-{}", index % 3),
                SIMULATED_LABEL: "true",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": if shape.taints.is_empty() { json!({}) } else { json!({"taints": shape.taints}) },
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": conditions(now, now),
            "addresses": [
                {"type": "InternalIP", "address": host_ip(index)},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "osImage": "rudder simulated node",
                "kernelVersion": "",
                "kubeletVersion": "v1.20.2",
                "kubeProxyVersion": "v1.20.2",
                "containerRuntimeVersion": "sim://0",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
            "phase": "Running",
        },
    })
}

/// A healthy node's conditions, heartbeat at `now`, unchanged `since`.
pub fn conditions(now: &str, since: &str) -> Json {
    let condition = |kind: &str, status: &str, reason: &str| {
        json!({
            "type": kind, "status": status, "reason": reason,
            "lastHeartbeatTime": now, "lastTransitionTime": since,
        })
    };
    json!([
        condition("Ready", "True", "KubeletReady"),
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID"),
        condition("NetworkUnavailable", "False", "RouteCreated"),
    ])
}

/// The node's Lease in `kube-node-lease`, owned by the node so that it goes with it.
pub fn lease_object(node: &str, node_uid: &str, now_micro: &str) -> Json {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": node,
            "namespace": "kube-node-lease",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid}],
        },
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": now_micro},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_declares_its_shape_and_is_ready() {
        let shape = NodeShape {
            cpu: "4".into(),
            memory: "16Gi".into(),
            pods: "110".into(),
            ephemeral_storage: "100Gi".into(),
            taints: Vec::new(),
        };
        let node = node_object("sim-1", 1, &shape, "standard", "2026-01-01T00:00:00Z");
        assert_eq!(node["status"]["allocatable"]["cpu"], "4");
        assert_eq!(node["status"]["capacity"]["memory"], "16Gi");
        assert_eq!(node["status"]["addresses"][0]["address"], "10.240.0.2");
        assert_eq!(node["metadata"]["labels"][SIMULATED_LABEL], "true");
        let ready = node["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "True");
        assert_eq!(host_ip(250), "10.240.1.1");
        assert_eq!(node["spec"], json!({}));
    }

    #[test]
    fn taints_are_read_as_kubectl_writes_them_and_registered_with_the_node() {
        assert_eq!(
            parse_taint("pool=prod:NoSchedule").unwrap(),
            json!({"key": "pool", "value": "prod", "effect": "NoSchedule"})
        );
        assert_eq!(
            parse_taint("example.com/gpu:NoExecute").unwrap(),
            json!({"key": "example.com/gpu", "effect": "NoExecute"})
        );
        assert!(parse_taint("pool=prod")
            .unwrap_err()
            .contains("expected key[=value]:Effect"));
        assert!(parse_taint("pool=prod:Never")
            .unwrap_err()
            .contains("effect \"Never\" is not"));
        assert!(parse_taint("=x:NoSchedule")
            .unwrap_err()
            .contains("key is empty"));

        let shape = NodeShape {
            cpu: "4".into(),
            memory: "16Gi".into(),
            pods: "110".into(),
            ephemeral_storage: "100Gi".into(),
            taints: vec![parse_taint("pool=prod:NoSchedule").unwrap()],
        };
        let node = node_object("prod-0", 0, &shape, "prod", "2026-01-01T00:00:00Z");
        assert_eq!(node["spec"]["taints"][0]["value"], "prod");
    }
}
