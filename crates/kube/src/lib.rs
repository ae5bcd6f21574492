//! Kubernetes access for rudder: a blocking client over `kube`'s configuration and transport.
//!
//! `kube` (kube-rs) does the hard parts that must match kubectl and Helm: kubeconfig
//! resolution (`KUBECONFIG` lists, contexts, exec plugins, client certificates, in-cluster
//! service accounts) and TLS. On top of it this crate speaks plain REST with JSON objects,
//! because Helm works on arbitrary kinds known only at run time: every object is a
//! `serde_json::Value`, every kind is found through discovery (CRDs included), and the
//! callers above (release storage, actions) stay synchronous; the async runtime lives here.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value as Json;

/// Errors from the API server or from reaching it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig could not be read or used.
    #[error("{0}")]
    Config(String),
    /// The API server answered with a `Status` failure.
    #[error("{message}")]
    Api {
        code: u16,
        reason: String,
        message: String,
    },
    /// The API server could not be reached or answered something unreadable.
    #[error("{0}")]
    Transport(String),
    /// No resource of this apiVersion and kind is served.
    #[error("resource mapping not found for kind \"{kind}\" in version \"{api_version}\": ensure CRDs are installed first")]
    UnknownKind { api_version: String, kind: String },
    /// A request inside [`Kube::cancellable`] after its [`Cancel`] fired (Go's
    /// `context.Canceled`, which is what Helm reports).
    #[error("context canceled")]
    Cancelled,
}

impl Error {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { code: 404, .. })
    }
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::Api { code: 409, reason, .. } if reason == "AlreadyExists")
    }
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Api { code: 409, .. })
    }
    /// The API server could not be reached (it may be restarting): worth trying again.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Error::Transport(_))
    }
}

/// Interrupts the requests a [`Kube`] makes inside [`Kube::cancellable`], as Helm's cancelled
/// context does when it gets SIGINT or SIGTERM: a request under way is abandoned and every
/// later one fails at once with [`Error::Cancelled`]. Requests outside such a section (the
/// release record's final status) are not affected. Clones share one state.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    cancelled: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Fires the token; callable from any thread (a signal handler's).
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.wake.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Completes once the token fires.
    async fn cancelled(&self) {
        loop {
            let mut notified = pin!(self.0.wake.notified());
            // Registered before the check, so a `cancel` in between still wakes it.
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// How to reach the cluster: Helm's `--kubeconfig`, `--kube-context`, `--kube-apiserver`,
/// `--kube-token`, `--kube-ca-file`, `--kube-insecure-skip-tls-verify` (and their `HELM_*`
/// variables, read by the caller).
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub apiserver: Option<String>,
    pub token: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub tls_server_name: Option<String>,
    pub insecure_skip_tls_verify: bool,
    /// `--kube-as-user`: the user to act as (sent as `Impersonate-User`).
    pub impersonate_user: Option<String>,
    /// `--kube-as-group`, repeatable (sent as `Impersonate-Group`).
    pub impersonate_groups: Vec<String>,
}

/// A served resource: where objects of one apiVersion/kind live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The plural name used in URLs (`deployments`).
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The collection URL, in `namespace` when the resource is namespaced.
    pub fn collection_url(&self, namespace: &str) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if self.namespaced {
            format!("{base}/namespaces/{namespace}/{}", self.plural)
        } else {
            format!("{base}/{}", self.plural)
        }
    }

    pub fn object_url(&self, namespace: &str, name: &str) -> String {
        format!("{}/{}", self.collection_url(namespace), name)
    }
}

/// The identity of one object: apiVersion, kind, namespace (empty for cluster-scoped) and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    /// Reads the identity of `obj`; `default_namespace` fills a missing namespace (callers
    /// clear it again for cluster-scoped kinds once discovery has told them).
    pub fn of(obj: &Json, default_namespace: &str) -> ObjectRef {
        let s = |v: &Json| v.as_str().unwrap_or_default().to_string();
        let ns = s(&obj["metadata"]["namespace"]);
        ObjectRef {
            api_version: s(&obj["apiVersion"]),
            kind: s(&obj["kind"]),
            namespace: if ns.is_empty() {
                default_namespace.to_string()
            } else {
                ns
            },
            name: s(&obj["metadata"]["name"]),
        }
    }

    /// kubectl's way of naming an object in messages: `Kind "name" in namespace "ns"`.
    pub fn describe(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} \"{}\"", self.kind, self.name)
        } else {
            format!(
                "{} \"{}\" in namespace \"{}\"",
                self.kind, self.name, self.namespace
            )
        }
    }
}

/// Deletion propagation (`--cascade`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Propagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

/// A connection to one API server.
pub struct Kube {
    runtime: tokio::runtime::Runtime,
    client: kube::Client,
    default_namespace: String,
    resources: Mutex<HashMap<String, Vec<Resource>>>,
    /// The token of the [`Kube::cancellable`] section under way, if any.
    cancel: Mutex<Option<Cancel>>,
    /// The longest one request may take inside a [`Kube::within`] section.
    request_limit: Mutex<Option<Duration>>,
}

impl Kube {
    /// Connects as kubectl and Helm do: the given kubeconfig, else `KUBECONFIG` / `~/.kube/config`,
    /// else the in-cluster service account. Nothing is sent to the server yet.
    pub fn connect(opts: &ConnectOptions) -> Result<Kube> {
        let runtime = io_runtime()?;
        let mut config = runtime.block_on(load_config(opts))?;
        if let Some(server) = &opts.apiserver {
            config.cluster_url = server
                .parse()
                .map_err(|e| Error::Config(format!("invalid --kube-apiserver {server:?}: {e}")))?;
        }
        if let Some(token) = &opts.token {
            config.auth_info.token = Some(token.clone().into());
        }
        if let Some(ca) = &opts.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| Error::Config(format!("reading {}: {e}", ca.display())))?;
            config.root_cert = Some(pem_certificates(&pem));
        }
        if let Some(name) = &opts.tls_server_name {
            config.tls_server_name = Some(name.clone());
        }
        if opts.insecure_skip_tls_verify {
            config.accept_invalid_certs = true;
        }
        if let Some(user) = &opts.impersonate_user {
            config.auth_info.impersonate = Some(user.clone());
        }
        if !opts.impersonate_groups.is_empty() {
            config.auth_info.impersonate_groups = Some(opts.impersonate_groups.clone());
        }
        config.read_timeout = Some(Duration::from_secs(60));
        Kube::with_config(runtime, config)
    }

    fn with_config(runtime: tokio::runtime::Runtime, config: kube::Config) -> Result<Kube> {
        let default_namespace = config.default_namespace.clone();
        let client = {
            let _guard = runtime.enter();
            kube::Client::try_from(config)
                .map_err(|e| Error::Config(format!("building the Kubernetes client: {e}")))?
        };
        Ok(Kube {
            runtime,
            client,
            default_namespace,
            resources: Mutex::new(HashMap::new()),
            cancel: Mutex::new(None),
            request_limit: Mutex::new(None),
        })
    }

    /// Runs `work` with each request it makes through this client limited to `limit`: an API
    /// server that accepts connections and never answers (stopped, overloaded) then fails
    /// the request as unreachable instead of holding it for the transport's read timeout.
    pub fn within<T>(&self, limit: Duration, work: impl FnOnce() -> T) -> T {
        struct Restore<'k>(&'k Kube, Option<Duration>);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                *self
                    .0
                    .request_limit
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = self.1;
            }
        }
        let previous = self
            .request_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(limit);
        let _restore = Restore(self, previous);
        work()
    }

    /// Runs `work` with every request it makes through this client interruptible by `cancel`.
    pub fn cancellable<T>(&self, cancel: &Cancel, work: impl FnOnce() -> T) -> T {
        struct Restore<'k>(&'k Kube, Option<Cancel>);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                *self.0.cancel.lock().unwrap_or_else(|e| e.into_inner()) = self.1.take();
            }
        }
        let previous = self
            .cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(cancel.clone());
        let _restore = Restore(self, previous);
        work()
    }

    /// Drives one request to its end, or until the section's [`Cancel`] fires or its
    /// request limit passes.
    fn block_on<T>(&self, request: impl Future<Output = kube::Result<T>>) -> Result<T> {
        let cancel = self
            .cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let limit = *self.request_limit.lock().unwrap_or_else(|e| e.into_inner());
        if cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(Error::Cancelled);
        }
        if cancel.is_none() && limit.is_none() {
            return self.runtime.block_on(request).map_err(convert);
        }
        self.runtime.block_on(async {
            let mut request = pin!(request);
            let mut cancelled = pin!(async {
                match &cancel {
                    Some(cancel) => cancel.cancelled().await,
                    None => std::future::pending().await,
                }
            });
            let mut expired = pin!(async {
                match limit {
                    Some(limit) => tokio::time::sleep(limit).await,
                    None => std::future::pending().await,
                }
            });
            std::future::poll_fn(|cx| {
                if let Poll::Ready(outcome) = request.as_mut().poll(cx) {
                    return Poll::Ready(outcome.map_err(convert));
                }
                if cancelled.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(Error::Cancelled));
                }
                if expired.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(Error::Transport(format!(
                        "Kubernetes cluster unreachable: no answer within {}s",
                        limit.unwrap_or_default().as_secs_f64()
                    ))));
                }
                Poll::Pending
            })
            .await
        })
    }

    /// A client with no kubeconfig, for work that never reaches a server (Helm's client-side
    /// dry run works without one): it points where client-go points without configuration,
    /// `http://localhost:8080`, so a request that is made after all fails as a connection
    /// error, and its namespace is `default`.
    pub fn unconfigured() -> Result<Kube> {
        let url = "http://localhost:8080".parse().expect("a valid URL");
        // kube-rs's own default namespace for a bare config is "default".
        Kube::with_config(io_runtime()?, kube::Config::new(url))
    }

    /// The namespace of the kubeconfig's current context (`default` if it names none).
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// `GET /version`: (major, minor, gitVersion).
    pub fn server_version(&self) -> Result<(String, String, String)> {
        let info = self.block_on(self.client.apiserver_version())?;
        Ok((info.major, info.minor, info.git_version))
    }

    /// Every served group/version, and every `group/version/Kind`, as Helm puts them in
    /// `.Capabilities.APIVersions`.
    pub fn api_versions(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for gv in self.group_versions()? {
            out.push(gv.clone());
            for r in self.resources_of(&gv)? {
                out.push(format!("{gv}/{}", r.kind));
            }
        }
        Ok(out)
    }

    fn group_versions(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        let core: Json = self.get_json("/api")?;
        for v in core["versions"].as_array().into_iter().flatten() {
            if let Some(v) = v.as_str() {
                out.push(v.to_string());
            }
        }
        let groups: Json = self.get_json("/apis")?;
        for g in groups["groups"].as_array().into_iter().flatten() {
            for v in g["versions"].as_array().into_iter().flatten() {
                if let Some(gv) = v["groupVersion"].as_str() {
                    out.push(gv.to_string());
                }
            }
        }
        Ok(out)
    }

    /// The resources of one group/version (cached for the life of this client; `forget`
    /// drops the cache after CRDs are installed).
    fn resources_of(&self, group_version: &str) -> Result<Vec<Resource>> {
        if let Some(found) = self.resources.lock().unwrap().get(group_version) {
            return Ok(found.clone());
        }
        let url = if group_version.contains('/') {
            format!("/apis/{group_version}")
        } else {
            format!("/api/{group_version}")
        };
        let (group, version) = match group_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), group_version.to_string()),
        };
        let list = match self.get_json(&url) {
            Ok(list) => list,
            Err(e) if e.is_not_found() => Json::Null,
            Err(e) => return Err(e),
        };
        let mut found = Vec::new();
        for r in list["resources"].as_array().into_iter().flatten() {
            let plural = r["name"].as_str().unwrap_or_default();
            if plural.contains('/') {
                continue; // subresources such as deployments/status
            }
            found.push(Resource {
                group: group.clone(),
                version: version.clone(),
                kind: r["kind"].as_str().unwrap_or_default().to_string(),
                plural: plural.to_string(),
                namespaced: r["namespaced"].as_bool().unwrap_or(false),
            });
        }
        self.resources
            .lock()
            .unwrap()
            .insert(group_version.to_string(), found.clone());
        Ok(found)
    }

    /// Forgets what discovery found (after CRDs were created).
    pub fn forget_discovery(&self) {
        self.resources.lock().unwrap().clear();
    }

    /// The resource serving `kind` in `api_version`.
    pub fn resource(&self, api_version: &str, kind: &str) -> Result<Resource> {
        let unknown = || Error::UnknownKind {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        };
        if let Some(r) = self
            .resources_of(api_version)?
            .into_iter()
            .find(|r| r.kind == kind)
        {
            return Ok(r);
        }
        // A CRD created moments ago: look again once.
        self.resources.lock().unwrap().remove(api_version);
        self.resources_of(api_version)?
            .into_iter()
            .find(|r| r.kind == kind)
            .ok_or_else(unknown)
    }

    /// Resolves `obj`'s identity and clears the namespace of cluster-scoped kinds.
    pub fn locate(&self, obj: &ObjectRef) -> Result<(Resource, ObjectRef)> {
        let resource = self.resource(&obj.api_version, &obj.kind)?;
        let mut obj = obj.clone();
        if !resource.namespaced {
            obj.namespace.clear();
        } else if obj.namespace.is_empty() {
            obj.namespace = self.default_namespace.clone();
        }
        Ok((resource, obj))
    }

    /// The live object, or `None` when it does not exist.
    pub fn get(&self, obj: &ObjectRef) -> Result<Option<Json>> {
        let (resource, obj) = self.locate(obj)?;
        match self.get_json(&resource.object_url(&obj.namespace, &obj.name)) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists objects of a kind (`namespace` empty: all namespaces for namespaced kinds).
    pub fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        label_selector: &str,
    ) -> Result<Vec<Json>> {
        let resource = self.resource(api_version, kind)?;
        let mut url = if resource.namespaced && namespace.is_empty() {
            let all = Resource {
                namespaced: false,
                ..resource.clone()
            };
            all.collection_url("")
        } else {
            resource.collection_url(namespace)
        };
        if !label_selector.is_empty() {
            url.push_str("?labelSelector=");
            url.push_str(&percent_encode(label_selector));
        }
        let list = self.get_json(&url)?;
        let mut items: Vec<Json> = list["items"].as_array().cloned().unwrap_or_default();
        for item in &mut items {
            // Lists leave out each item's apiVersion and kind.
            item["apiVersion"] = Json::String(api_version.to_string());
            item["kind"] = Json::String(kind.to_string());
        }
        Ok(items)
    }

    /// `POST`: creates `obj` (its namespace defaults to `namespace`).
    pub fn create(&self, obj: &Json, namespace: &str) -> Result<Json> {
        let (resource, r) = self.locate(&ObjectRef::of(obj, namespace))?;
        let mut body = obj.clone();
        if resource.namespaced {
            body["metadata"]["namespace"] = Json::String(r.namespace.clone());
        }
        self.send_json(
            http::Method::POST,
            &resource.collection_url(&r.namespace),
            "application/json",
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    }

    /// `PUT`: replaces `obj` (optimistic concurrency through its resourceVersion, if any).
    pub fn replace(&self, obj: &Json, namespace: &str) -> Result<Json> {
        let (resource, r) = self.locate(&ObjectRef::of(obj, namespace))?;
        let mut body = obj.clone();
        if resource.namespaced {
            body["metadata"]["namespace"] = Json::String(r.namespace.clone());
        }
        self.send_json(
            http::Method::PUT,
            &resource.object_url(&r.namespace, &r.name),
            "application/json",
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    }

    /// Server-side apply of the whole object with `field_manager`; `force` takes over fields
    /// owned by other managers (`--force-conflicts`).
    pub fn apply(
        &self,
        obj: &Json,
        namespace: &str,
        field_manager: &str,
        force: bool,
    ) -> Result<Json> {
        self.apply_with(obj, namespace, field_manager, force, false)
    }

    /// [`Kube::apply`] as a server-side dry run (`dryRun=All`): the object as the server would
    /// store it (defaults, admission and field ownership applied), nothing changed.
    pub fn apply_dry_run(
        &self,
        obj: &Json,
        namespace: &str,
        field_manager: &str,
        force: bool,
    ) -> Result<Json> {
        self.apply_with(obj, namespace, field_manager, force, true)
    }

    fn apply_with(
        &self,
        obj: &Json,
        namespace: &str,
        field_manager: &str,
        force: bool,
        dry_run: bool,
    ) -> Result<Json> {
        let (resource, r) = self.locate(&ObjectRef::of(obj, namespace))?;
        let mut body = obj.clone();
        if resource.namespaced {
            body["metadata"]["namespace"] = Json::String(r.namespace.clone());
        }
        let url = format!(
            "{}?fieldManager={}{}{}",
            resource.object_url(&r.namespace, &r.name),
            percent_encode(field_manager),
            if force { "&force=true" } else { "" },
            if dry_run { "&dryRun=All" } else { "" }
        );
        self.send_json(
            http::Method::PATCH,
            &url,
            "application/apply-patch+yaml",
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    }

    /// A JSON merge patch (`application/merge-patch+json`), e.g. of `/status` in tests.
    pub fn merge_patch(&self, obj: &ObjectRef, subresource: &str, patch: &Json) -> Result<Json> {
        let (resource, r) = self.locate(obj)?;
        let mut url = resource.object_url(&r.namespace, &r.name);
        if !subresource.is_empty() {
            url.push('/');
            url.push_str(subresource);
        }
        self.send_json(
            http::Method::PATCH,
            &url,
            "application/merge-patch+json",
            serde_json::to_vec(patch).unwrap_or_default(),
        )
    }

    /// Deletes an object; `Ok(false)` when it was already gone.
    pub fn delete(&self, obj: &ObjectRef, propagation: Propagation) -> Result<bool> {
        let (resource, r) = self.locate(obj)?;
        let policy = match propagation {
            Propagation::Background => "Background",
            Propagation::Foreground => "Foreground",
            Propagation::Orphan => "Orphan",
        };
        let body = serde_json::json!({
            "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy
        });
        match self.send_json(
            http::Method::DELETE,
            &resource.object_url(&r.namespace, &r.name),
            "application/json",
            serde_json::to_vec(&body).unwrap_or_default(),
        ) {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The object as the server's table of it (`Accept: ...;as=Table`): what `kubectl get`
    /// and `helm status` print, columns and cells computed by the server.
    pub fn get_table(&self, obj: &ObjectRef) -> Result<Json> {
        let (resource, r) = self.locate(obj)?;
        self.get_as_table(&format!(
            "{}?includeObject=Object",
            resource.object_url(&r.namespace, &r.name)
        ))
    }

    /// The pods of `namespace` that `label_selector` (`k=v,...`) picks, as the server's
    /// table of them (Helm's related pods of `helm status`).
    pub fn list_pods_table(&self, namespace: &str, label_selector: &str) -> Result<Json> {
        self.get_as_table(&format!(
            "/api/v1/namespaces/{}/pods?labelSelector={}&includeObject=Object",
            percent_encode(namespace),
            percent_encode(label_selector)
        ))
    }

    fn get_as_table(&self, url: &str) -> Result<Json> {
        let request = http::Request::get(url)
            .header(
                "Accept",
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
            )
            .body(Vec::new())
            .map_err(|e| Error::Transport(format!("building request for {url}: {e}")))?;
        self.block_on(self.client.request::<Json>(request))
    }

    /// The log of one container of a pod (`GET .../pods/NAME/log?container=C`), as text.
    pub fn pod_logs(&self, namespace: &str, pod: &str, container: &str) -> Result<String> {
        let url = format!(
            "/api/v1/namespaces/{}/pods/{}/log?container={}",
            percent_encode(namespace),
            percent_encode(pod),
            percent_encode(container)
        );
        let request = http::Request::get(&url)
            .body(Vec::new())
            .map_err(|e| Error::Transport(format!("building request for {url}: {e}")))?;
        self.block_on(self.client.request_text(request))
    }

    fn get_json(&self, url: &str) -> Result<Json> {
        self.send_json(http::Method::GET, url, "", Vec::new())
    }

    fn send_json(
        &self,
        method: http::Method,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Json> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(url)
            .header("Accept", "application/json");
        if !content_type.is_empty() {
            request = request.header("Content-Type", content_type);
        }
        let request = request
            .body(body)
            .map_err(|e| Error::Transport(format!("building request for {url}: {e}")))?;
        self.block_on(self.client.request::<Json>(request))
    }
}

/// The single-threaded runtime a blocking [`Kube`] drives its requests on.
fn io_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("starting the I/O runtime: {e}")))
}

async fn load_config(opts: &ConnectOptions) -> Result<kube::Config> {
    let options = KubeConfigOptions {
        context: opts.context.clone(),
        cluster: None,
        user: None,
    };
    if let Some(path) = &opts.kubeconfig {
        let kubeconfig = Kubeconfig::read_from(path)
            .map_err(|e| Error::Config(format!("kubeconfig {}: {e}", path.display())))?;
        return kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| Error::Config(format!("kubeconfig {}: {e}", path.display())));
    }
    match Kubeconfig::read() {
        Ok(kubeconfig) => kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| Error::Config(format!("kubeconfig: {e}"))),
        Err(file_err) => kube::Config::incluster().map_err(|in_cluster| {
            Error::Config(format!(
                "Kubernetes cluster unreachable: no usable kubeconfig ({file_err}) and not in a cluster ({in_cluster})"
            ))
        }),
    }
}

/// Splits a PEM bundle into DER certificates.
fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN CERTIFICATE") {
            current = Some(String::new());
        } else if line.starts_with("-----END CERTIFICATE") {
            if let Some(b64) = current.take() {
                if let Ok(der) = base64_decode(&b64) {
                    out.push(der);
                }
            }
        } else if let Some(buf) = current.as_mut() {
            buf.push_str(line);
        }
    }
    out
}

fn base64_decode(text: &str) -> std::result::Result<Vec<u8>, ()> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| ())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn convert(e: kube::Error) -> Error {
    match e {
        kube::Error::Api(status) => Error::Api {
            code: status.code,
            reason: status.reason.clone(),
            message: status.message.clone(),
        },
        other => Error::Transport(format!("Kubernetes cluster unreachable: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_rest_layout() {
        let deploy = Resource {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
            namespaced: true,
        };
        assert_eq!(
            deploy.object_url("ns", "web"),
            "/apis/apps/v1/namespaces/ns/deployments/web"
        );
        let ns = Resource {
            group: String::new(),
            version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
            namespaced: false,
        };
        assert_eq!(ns.object_url("ignored", "prod"), "/api/v1/namespaces/prod");
        assert_eq!(ns.api_version(), "v1");
        assert_eq!(deploy.api_version(), "apps/v1");
    }

    #[test]
    fn selectors_are_percent_encoded() {
        assert_eq!(
            percent_encode("name=a,owner=helm"),
            "name%3Da%2Cowner%3Dhelm"
        );
    }

    /// A server that accepts connections and never answers: only cancellation ends a
    /// request to it.
    fn silent_server() -> (std::net::TcpListener, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        (listener, url)
    }

    #[test]
    fn cancel_interrupts_requests_inside_a_cancellable_section_only() {
        let (_listener, url) = silent_server();
        let kube = Kube::with_config(
            io_runtime().unwrap(),
            kube::Config::new(url.parse().unwrap()),
        )
        .unwrap();
        let cancel = Cancel::new();
        let trigger = cancel.clone();
        let firing = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            trigger.cancel();
        });
        let started = std::time::Instant::now();
        let outcome = kube.cancellable(&cancel, || kube.server_version());
        firing.join().unwrap();
        assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(Error::Cancelled.to_string(), "context canceled");
        // Later requests in a section fail at once; outside one, the token is not consulted.
        assert!(matches!(
            kube.cancellable(&cancel, || kube.get_json("/api")),
            Err(Error::Cancelled)
        ));
        assert!(kube.cancel.lock().unwrap().is_none());
    }

    #[test]
    fn within_limits_each_request() {
        let (_listener, url) = silent_server();
        let kube = Kube::with_config(
            io_runtime().unwrap(),
            kube::Config::new(url.parse().unwrap()),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let outcome = kube.within(Duration::from_millis(300), || kube.server_version());
        assert!(started.elapsed() < Duration::from_secs(10));
        match outcome {
            Err(e) => {
                assert!(e.is_unreachable(), "{e:?}");
                assert_eq!(
                    e.to_string(),
                    "Kubernetes cluster unreachable: no answer within 0.3s"
                );
            }
            Ok(v) => panic!("answered: {v:?}"),
        }
        assert!(kube.request_limit.lock().unwrap().is_none());
    }

    #[test]
    fn object_refs_default_their_namespace() {
        let obj =
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        let r = ObjectRef::of(&obj, "dev");
        assert_eq!(r.namespace, "dev");
        assert_eq!(r.describe(), "ConfigMap \"x\" in namespace \"dev\"");
    }
}
