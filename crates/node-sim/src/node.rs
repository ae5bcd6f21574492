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
        "spec": {},
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
    }
}
