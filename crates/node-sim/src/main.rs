//! rudder-node-sim: simulated nodes for rudder's local control plane (scripts/local-cluster),
//! written after the way kubernetes-sigs/kwok works: nothing runs, but the API server sees
//! what a cluster of kubelets would report.
//!
//! It registers `--nodes` Nodes with the declared capacity, keeps them Ready (their Lease in
//! `kube-node-lease` and their status conditions renewed), and plays the kubelet for every pod
//! the scheduler binds to them (see [`pod`] for the rules: Running, Ready after the readiness
//! probes' initial delay, Succeeded or Failed for pods that do not restart forever, deletion
//! finished once requested). Two small parts of a cloud are played too, so that charts install
//! as on a real cluster: a PersistentVolume for each pending claim (a hostPath volume pre-bound
//! to the claim, which the controller-manager's binder then binds) and an address for each
//! LoadBalancer Service.
//!
//! It exits on SIGTERM/SIGINT, and with an error when the API server has not answered for
//! `--give-up-after` seconds. Hand-written rather than KWOK itself: KWOK is Go and not packaged;
//! this needs only kube-rs, which the workspace already uses.

#![forbid(unsafe_code)]

mod node;
mod pod;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use node::NodeShape;

/// Simulated Kubernetes nodes: registers Nodes and plays the kubelet for their pods.
#[derive(Parser, Debug)]
#[command(name = "rudder-node-sim", version)]
struct Args {
    /// The kubeconfig to use (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// How many nodes to register.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Node names are PREFIX-0, PREFIX-1, ...; the prefix is also the pool's instance type.
    #[arg(long, default_value = "sim")]
    prefix: String,
    /// Each node's CPU capacity (a Kubernetes quantity).
    #[arg(long, default_value = "8")]
    cpu: String,
    /// Each node's memory capacity (a Kubernetes quantity).
    #[arg(long, default_value = "32Gi")]
    memory: String,
    /// How many pods each node takes.
    #[arg(long, default_value = "110")]
    pods: String,
    /// Each node's ephemeral storage.
    #[arg(long, default_value = "100Gi")]
    ephemeral_storage: String,
    /// A taint on every node, `key[=value]:Effect` as `kubectl taint` takes it (repeatable):
    /// keeps a pool for the pods that tolerate it.
    #[arg(long = "taint", value_parser = node::parse_taint)]
    taints: Vec<serde_json::Value>,
    /// How often pods are looked at, in milliseconds.
    #[arg(long, default_value_t = 500)]
    tick_ms: u64,
    /// Stop with an error when the API server has not answered for this many seconds.
    #[arg(long, default_value_t = 20)]
    give_up_after: u64,
    /// Do not provision volumes for pending claims nor addresses for LoadBalancer Services
    /// (when this is not the only simulator of the cluster).
    #[arg(long)]
    no_cloud: bool,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("reading the kubeconfig {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: kube::config::KubeconfigError,
    },
    #[error("loading the client configuration: {0}")]
    Config(#[from] kube::config::InferConfigError),
    #[error("connecting to the API server: {0}")]
    Client(#[source] kube::Error),
    #[error("registering node {node}: {source}")]
    Register { node: String, source: kube::Error },
    #[error("the API server has not answered for {seconds}s (last error: {last}); stopping")]
    ApiServerGone { seconds: u64, last: String },
    #[error("signal handler: {0}")]
    Signal(#[source] std::io::Error),
}

/// Label on the volumes this program provisions, so that it deletes only its own.
const PROVISIONED_LABEL: &str = "sim.rudder.dev/provisioned";
/// How often nodes renew their Lease and status.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How often claims and Services are looked at.
const CLOUD_PERIOD: Duration = Duration::from_secs(1);

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("rudder-node-sim: {e}");
        std::process::exit(1);
    }
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Now as a MicroTime (Lease renew times carry microseconds).
fn now_micro() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let whole = pod::rfc3339(now.as_secs() as i64);
    format!(
        "{}.{:06}Z",
        whole.trim_end_matches('Z'),
        now.subsec_micros()
    )
}

async fn client(args: &Args) -> Result<kube::Client, Error> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|source| Error::Kubeconfig {
                path: path.clone(),
                source,
            })?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|source| Error::Kubeconfig {
                    path: path.clone(),
                    source,
                })?
        }
        None => kube::Config::infer().await?,
    };
    kube::Client::try_from(config).map_err(Error::Client)
}

struct Simulator {
    client: kube::Client,
    args: Args,
    shape: NodeShape,
    node_names: Vec<String>,
    /// Pod IPs handed out, by pod UID.
    pod_ips: HashMap<String, String>,
    next_ip: u32,
    last_answer: Instant,
    last_error: String,
    /// When the nodes were registered: their conditions have not changed since.
    registered_at: String,
}

async fn run(args: Args) -> Result<(), Error> {
    let client = client(&args).await?;
    let shape = NodeShape {
        cpu: args.cpu.clone(),
        memory: args.memory.clone(),
        pods: args.pods.clone(),
        ephemeral_storage: args.ephemeral_storage.clone(),
        taints: args.taints.clone(),
    };
    let node_names = (0..args.nodes)
        .map(|i| format!("{}-{i}", args.prefix))
        .collect();
    let mut sim = Simulator {
        client,
        shape,
        node_names,
        pod_ips: HashMap::new(),
        next_ip: 0,
        last_answer: Instant::now(),
        last_error: String::new(),
        registered_at: pod::rfc3339(now_seconds()),
        args,
    };
    for index in 0..sim.node_names.len() {
        sim.register(index).await?;
    }
    eprintln!(
        "rudder-node-sim: {} nodes registered ({} cpu, {} memory, {} pods each)",
        sim.node_names.len(),
        sim.shape.cpu,
        sim.shape.memory,
        sim.shape.pods
    );

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(Error::Signal)?;
    let mut ticker = tokio::time::interval(Duration::from_millis(sim.args.tick_ms.max(50)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heartbeat = Instant::now();
    let mut last_cloud = Instant::now() - CLOUD_PERIOD;
    loop {
        tokio::select! {
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = ticker.tick() => {}
        }
        if last_heartbeat.elapsed() >= HEARTBEAT {
            last_heartbeat = Instant::now();
            for index in 0..sim.node_names.len() {
                let result = sim.heartbeat(index).await;
                sim.note(result);
            }
        }
        let result = sim.play_pods().await;
        sim.note(result);
        if !sim.args.no_cloud && last_cloud.elapsed() >= CLOUD_PERIOD {
            last_cloud = Instant::now();
            let result = sim.provision_volumes().await;
            sim.note(result);
            let result = sim.address_load_balancers().await;
            sim.note(result);
        }
        let silent = sim.last_answer.elapsed().as_secs();
        if silent >= sim.args.give_up_after {
            return Err(Error::ApiServerGone {
                seconds: silent,
                last: sim.last_error.clone(),
            });
        }
    }
    eprintln!("rudder-node-sim: stopped");
    Ok(())
}

impl Simulator {
    /// Records whether the API server answered; errors of single objects (conflicts, objects
    /// gone meanwhile) are answers too, only transport failures count as silence.
    fn note(&mut self, result: Result<(), kube::Error>) {
        match result {
            Ok(()) => self.last_answer = Instant::now(),
            Err(kube::Error::Api(status)) => {
                self.last_answer = Instant::now();
                eprintln!("rudder-node-sim: {}", status.message);
            }
            Err(e) => {
                self.last_error = e.to_string();
            }
        }
    }

    /// Creates node `index` (or refreshes its status if it exists) and its Lease.
    async fn register(&mut self, index: usize) -> Result<(), Error> {
        let name = self.node_names[index].clone();
        let register_error = |source| Error::Register {
            node: name.clone(),
            source,
        };
        let nodes: Api<Node> = Api::all(self.client.clone());
        let object = node::node_object(
            &name,
            index,
            &self.shape,
            &self.args.prefix,
            &pod::rfc3339(now_seconds()),
        );
        let typed: Node = serde_json::from_value(object.clone()).expect("node object");
        match nodes.create(&PostParams::default(), &typed).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(register_error(e)),
        }
        // A node that existed keeps its old capacity unless its status is rewritten.
        nodes
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": object["status"]})),
            )
            .await
            .map_err(register_error)?;
        self.renew_lease(index).await.map_err(register_error)?;
        self.last_answer = Instant::now();
        Ok(())
    }

    async fn renew_lease(&self, index: usize) -> Result<(), kube::Error> {
        let name = &self.node_names[index];
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), "kube-node-lease");
        let renewed = leases
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"renewTime": now_micro(), "holderIdentity": name}})),
            )
            .await;
        match renewed {
            Err(kube::Error::Api(s)) if s.code == 404 => {
                let nodes: Api<Node> = Api::all(self.client.clone());
                let uid = nodes.get(name).await?.metadata.uid.unwrap_or_default();
                let lease: Lease =
                    serde_json::from_value(node::lease_object(name, &uid, &now_micro()))
                        .expect("lease object");
                leases.create(&PostParams::default(), &lease).await?;
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Renews node `index`'s Lease and Ready condition; re-registers it if it was deleted.
    async fn heartbeat(&mut self, index: usize) -> Result<(), kube::Error> {
        let name = self.node_names[index].clone();
        let nodes: Api<Node> = Api::all(self.client.clone());
        let patched = nodes
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"conditions": node::conditions(
                    &pod::rfc3339(now_seconds()),
                    &self.registered_at,
                )}})),
            )
            .await;
        match patched {
            Err(kube::Error::Api(s)) if s.code == 404 => {
                if let Err(e) = self.register(index).await {
                    eprintln!("rudder-node-sim: {e}");
                }
                Ok(())
            }
            Err(e) => Err(e),
            Ok(_) => self.renew_lease(index).await,
        }
    }

    fn pod_ip(&mut self, uid: &str, node_index: usize) -> String {
        if let Some(ip) = self.pod_ips.get(uid) {
            return ip.clone();
        }
        self.next_ip += 1;
        let n = self.next_ip;
        let ip = format!(
            "10.{}.{}.{}",
            64 + node_index % 64,
            (n / 250) % 250,
            n % 250 + 1
        );
        self.pod_ips.insert(uid.to_string(), ip.clone());
        ip
    }

    /// One kubelet sync of every pod bound to a simulated node.
    async fn play_pods(&mut self) -> Result<(), kube::Error> {
        let all: Api<Pod> = Api::all(self.client.clone());
        let pods = all.list(&ListParams::default()).await?;
        let now = now_seconds();
        let mut live_uids = Vec::new();
        for pod in pods.items {
            let Some(node_index) = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .and_then(|n| self.node_names.iter().position(|m| m == n))
            else {
                continue;
            };
            let value = serde_json::to_value(&pod).expect("pod to JSON");
            let name = pod.metadata.name.clone().unwrap_or_default();
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            live_uids.push(uid.clone());
            let host_ip = node::host_ip(node_index);
            let pod_ip = self.pod_ip(&uid, node_index);
            let action = pod::next_action(
                &value,
                now,
                &pod::Addresses {
                    host_ip: &host_ip,
                    pod_ip: &pod_ip,
                },
            );
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
            let result = match action {
                pod::Action::Nothing => Ok(()),
                pod::Action::FinishDeletion => {
                    let params = DeleteParams {
                        grace_period_seconds: Some(0),
                        preconditions: Some(kube::api::Preconditions {
                            uid: Some(uid.clone()),
                            resource_version: None,
                        }),
                        ..DeleteParams::default()
                    };
                    api.delete(&name, &params).await.map(|_| ())
                }
                pod::Action::PatchStatus(patch) => api
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                    .map(|_| ()),
            };
            match result {
                // Gone or changed meanwhile: the next tick sees the new state.
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
                other => other?,
            }
        }
        self.pod_ips.retain(|uid, _| live_uids.contains(uid));
        Ok(())
    }

    /// Binds a new hostPath volume to each pending claim that names no volume, and removes the
    /// volumes it made once their claim is gone.
    async fn provision_volumes(&mut self) -> Result<(), kube::Error> {
        let claims: Api<PersistentVolumeClaim> = Api::all(self.client.clone());
        let volumes: Api<PersistentVolume> = Api::all(self.client.clone());
        for claim in claims.list(&ListParams::default()).await?.items {
            let pending = claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending");
            let spec = claim.spec.clone().unwrap_or_default();
            if !pending || spec.volume_name.is_some() || claim.metadata.deletion_timestamp.is_some()
            {
                continue;
            }
            let uid = claim.metadata.uid.clone().unwrap_or_default();
            let size = spec
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .map(|q| q.0.clone())
                .unwrap_or_else(|| "1Gi".into());
            let volume = json!({
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": format!("pvc-{uid}"), "labels": {PROVISIONED_LABEL: "true"}},
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": spec.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".into()]),
                    "storageClassName": spec.storage_class_name.clone().unwrap_or_default(),
                    "volumeMode": spec.volume_mode.clone().unwrap_or_else(|| "Filesystem".into()),
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": format!("/var/lib/rudder-node-sim/{uid}")},
                    "claimRef": {
                        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "namespace": claim.metadata.namespace, "name": claim.metadata.name, "uid": uid,
                    },
                },
            });
            let typed: PersistentVolume = serde_json::from_value(volume).expect("volume object");
            match volumes.create(&PostParams::default(), &typed).await {
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                other => {
                    other?;
                }
            }
        }
        let ours = ListParams::default().labels(&format!("{PROVISIONED_LABEL}=true"));
        for volume in volumes.list(&ours).await?.items {
            let phase = volume.status.as_ref().and_then(|s| s.phase.as_deref());
            if matches!(phase, Some("Released" | "Failed")) {
                let name = volume.metadata.name.unwrap_or_default();
                match volumes.delete(&name, &DeleteParams::default()).await {
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    other => {
                        other?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Gives each LoadBalancer Service an address, as a cloud's controller would.
    async fn address_load_balancers(&mut self) -> Result<(), kube::Error> {
        let services: Api<Service> = Api::all(self.client.clone());
        for service in services.list(&ListParams::default()).await?.items {
            let is_lb =
                service.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
            let has_address = service
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|l| l.ingress.as_ref())
                .is_some_and(|i| !i.is_empty());
            if !is_lb || has_address {
                continue;
            }
            let api: Api<Service> = Api::namespaced(
                self.client.clone(),
                service.metadata.namespace.as_deref().unwrap_or_default(),
            );
            let name = service.metadata.name.unwrap_or_default();
            // 192.0.2.0/24 is TEST-NET-1: an address that is plainly not routable.
            let patch = json!({"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}});
            match api
                .patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }
}
