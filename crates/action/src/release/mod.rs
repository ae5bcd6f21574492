//! Releases on a cluster: install, upgrade, rollback, uninstall, and reading them back
//! (Helm's `pkg/action` install.go, upgrade.go, rollback.go, uninstall.go, list.go, ...).
//!
//! Records go through [`rudder_storage`] in Helm's format; objects are applied with
//! server-side apply under the field manager `helm`, as Helm v4 does for new releases.

mod operations;
mod query;
mod related_pods;
pub(crate) mod resources;
mod selector;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rudder_kube::Kube;
use rudder_storage::{Driver, KubeObjects, Memory, ObjectKind, Sql, Storage};
use rudder_value::Value;

use crate::Error;

pub use operations::{
    install, parse_test_filters, rollback, test, uninstall, upgrade, DryRun, InstallOptions,
    RollbackOptions, TestOptions, TestReport, UninstallOptions, UninstallReport, UpgradeOptions,
};
pub use query::{
    format_values_yaml, get_hooks, get_manifest, get_metadata, get_notes, get_values,
    go_time_string, history, list, metadata_text, resources_text, status, status_json, status_text,
    status_text_with_resources, HistoryEntry, ListOptions, ReleaseSummary,
};
pub use resources::{Readiness, WaitOptions};
pub use rudder_kube::{Cancel, ConnectOptions, Propagation};
pub use rudder_storage::Release;
pub use selector::Selector;

/// How to reach the cluster and where releases are kept: Helm's global flags and
/// `HELM_DRIVER`.
#[derive(Clone, Debug, Default)]
pub struct ClusterOptions {
    pub connect: ConnectOptions,
    /// `-n/--namespace`; otherwise the kubeconfig context's namespace.
    pub namespace: Option<String>,
    /// `secret` (default), `configmap`, `memory` or `sql` (PostgreSQL, at
    /// `sql_connection_string`).
    pub driver: Option<String>,
    /// The `sql` driver's database (Helm's `HELM_DRIVER_SQL_CONNECTION_STRING`).
    pub sql_connection_string: String,
    /// Go on without a kubeconfig (for a client-side dry run, which never reaches a server).
    pub offline_ok: bool,
}

/// Where releases are kept: Helm's `HELM_DRIVER` (any case; empty is the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageDriver {
    /// `secret` or `secrets`, the default: one Secret per revision.
    Secrets,
    /// `configmap` or `configmaps`.
    ConfigMaps,
    /// `memory`: kept for the life of the process (dry runs, tests).
    Memory,
    /// `sql`: PostgreSQL, at `ClusterOptions::sql_connection_string`.
    Sql,
}

impl StorageDriver {
    /// The driver Helm's name stands for; an unknown name is Helm's error.
    pub fn from_name(name: &str) -> Result<StorageDriver, Error> {
        match name.to_ascii_lowercase().as_str() {
            "" | "secret" | "secrets" => Ok(StorageDriver::Secrets),
            "configmap" | "configmaps" => Ok(StorageDriver::ConfigMaps),
            "memory" => Ok(StorageDriver::Memory),
            "sql" => Ok(StorageDriver::Sql),
            other => Err(Error::message(format!("unknown driver {other:?}"))),
        }
    }
}

/// A driver with what it keeps its releases in.
enum Backend {
    Secrets,
    ConfigMaps,
    Memory(Arc<Memory>),
    /// The database, connected (and migrated) up front as Helm does.
    Sql(Sql),
}

/// A connection to one cluster and its release storage (Helm's `action.Configuration`).
pub struct Cluster {
    kube: Arc<Kube>,
    namespace: String,
    backend: Backend,
    /// `RUDDER_SPLIT_LARGE_RELEASES`: records over 1 MiB go across several Secrets (or
    /// ConfigMaps) instead of being refused.
    split_large_releases: bool,
}

impl Cluster {
    /// Prepares the connection; nothing is sent to the server until a command needs it.
    pub fn connect(opts: &ClusterOptions) -> Result<Cluster, Error> {
        let kube = match Kube::connect(&opts.connect) {
            Ok(kube) => kube,
            Err(_) if opts.offline_ok => {
                Kube::unconfigured().map_err(|e| Error::message(e.to_string()))?
            }
            Err(e) => return Err(Error::message(e.to_string())),
        };
        let namespace = opts
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| kube.default_namespace().to_string());
        let driver = match &opts.driver {
            Some(name) => StorageDriver::from_name(name)?,
            None => StorageDriver::Secrets,
        };
        let backend = match driver {
            StorageDriver::Secrets => Backend::Secrets,
            StorageDriver::ConfigMaps => Backend::ConfigMaps,
            StorageDriver::Memory => Backend::Memory(Arc::new(Memory::new(""))),
            StorageDriver::Sql => Backend::Sql(
                Sql::connect(&opts.sql_connection_string, &namespace).map_err(|e| {
                    Error::message(format!("unable to instantiate SQL driver: {e}"))
                })?,
            ),
        };
        Ok(Cluster {
            kube: Arc::new(kube),
            namespace,
            backend,
            split_large_releases: split_large_releases_setting()?,
        })
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn kube(&self) -> &Kube {
        &self.kube
    }

    /// Release storage for `namespace` (empty: every namespace, for `list -A`).
    pub(crate) fn storage(&self, namespace: &str) -> Storage<'_> {
        let objects = |kind| {
            KubeObjects::new(&self.kube, kind, namespace)
                .split_large_records(self.split_large_releases)
        };
        let driver: Arc<dyn Driver + '_> = match &self.backend {
            Backend::Secrets => Arc::new(objects(ObjectKind::Secret)),
            Backend::ConfigMaps => Arc::new(objects(ObjectKind::ConfigMap)),
            Backend::Memory(memory) => memory.clone(),
            Backend::Sql(db) => Arc::new(db.with_namespace(namespace)),
        };
        Storage::new(driver)
    }
}

/// The environment variable that turns on splitting records over 1 MiB (rudder's own; Helm
/// has no such thing and cannot read split records).
pub const SPLIT_LARGE_RELEASES_VAR: &str = "RUDDER_SPLIT_LARGE_RELEASES";

fn split_large_releases_setting() -> Result<bool, Error> {
    let value = std::env::var(SPLIT_LARGE_RELEASES_VAR).unwrap_or_default();
    match value.to_ascii_lowercase().as_str() {
        "" | "0" | "false" => Ok(false),
        "1" | "true" => Ok(true),
        _ => Err(Error::message(format!(
            "{SPLIT_LARGE_RELEASES_VAR}={value:?}: expected true or false"
        ))),
    }
}

/// What `helm template --dry-run=server` takes from the cluster: a reachability check, the
/// cluster's version and API groups, and `lookup`.
pub fn server_render(cluster: &Cluster) -> Result<crate::ServerRender, Error> {
    let capabilities = operations::capabilities(cluster, DryRun::Server)
        .map_err(|e| Error::message(format!("cluster reachability check failed: {e}")))?;
    Ok(crate::ServerRender {
        capabilities,
        lookup: Arc::new(ClusterLookup(cluster.kube.clone())),
    })
}

/// `lookup` against the live cluster.
struct ClusterLookup(Arc<Kube>);

impl rudder_engine::Lookup for ClusterLookup {
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        let empty = || Value::map(Default::default());
        let resource = match self.0.resource(api_version, kind) {
            Ok(r) => r,
            Err(rudder_kube::Error::UnknownKind { .. }) => return Ok(empty()),
            Err(e) => return Err(e.to_string()),
        };
        let ns = if resource.namespaced { namespace } else { "" };
        let json = if name.is_empty() {
            let items = self
                .0
                .list(api_version, kind, ns, "")
                .map_err(|e| e.to_string())?;
            serde_json::json!({"apiVersion": "v1", "kind": format!("{kind}List"), "metadata": {}, "items": items})
        } else {
            let r = rudder_kube::ObjectRef {
                api_version: api_version.into(),
                kind: kind.into(),
                namespace: ns.into(),
                name: name.into(),
            };
            match self.0.get(&r).map_err(|e| e.to_string())? {
                Some(obj) => obj,
                None => return Ok(empty()),
            }
        };
        rudder_value::json::from_json(&json.to_string()).map_err(|e| e.to_string())
    }
}

/// Values as JSON for the release record.
pub(crate) fn value_to_json(v: &Value) -> serde_json::Value {
    rudder_value::json::to_json(v)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// A record's values back into the template value model (JSON numbers become float64, as
/// they do in Helm).
pub(crate) fn json_to_value(j: &serde_json::Value) -> Value {
    if j.is_null() {
        return Value::map(Default::default());
    }
    rudder_value::json::from_json(&j.to_string()).unwrap_or_else(|_| Value::map(Default::default()))
}

/// Helm's `--labels k=v,...` parsed, with system labels refused.
pub fn parse_labels(specs: &[String]) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for spec in specs {
        for pair in spec.split(',').filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(Error::message(format!(
                    "invalid label {pair:?}: expected key=value"
                )));
            };
            out.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    if out
        .keys()
        .any(|k| rudder_storage::driver::SYSTEM_LABELS.contains(&k.as_str()))
    {
        return Err(Error::message(format!(
            "user supplied labels contains system reserved label name. System labels: {:?}",
            rudder_storage::driver::SYSTEM_LABELS
        )));
    }
    Ok(out)
}

pub(crate) fn default_timeout() -> Duration {
    Duration::from_secs(300)
}
