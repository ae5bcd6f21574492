//! The release commands: install, upgrade, rollback, uninstall, list, history, status, get.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use rudder_action::release::{self as rel, Cluster, ClusterOptions};
use rudder_action::{self as action, Error};

use crate::dependency_cmd::ChartPathArgs;
use crate::ValueArgs;

/// Helm's global Kubernetes flags, accepted by every command (before or after its name) and
/// used by those that talk to a cluster.
#[derive(Args, Clone, Default)]
pub struct KubeArgs {
    /// path to the kubeconfig file
    #[arg(long, global = true)]
    kubeconfig: Option<PathBuf>,
    /// name of the kubeconfig context to use
    #[arg(long, global = true, env = "HELM_KUBECONTEXT")]
    kube_context: Option<String>,
    /// the address and the port for the Kubernetes API server
    #[arg(long, global = true, env = "HELM_KUBEAPISERVER")]
    kube_apiserver: Option<String>,
    /// bearer token used for authentication
    #[arg(long, global = true, env = "HELM_KUBETOKEN")]
    kube_token: Option<String>,
    /// the certificate authority file for the Kubernetes API server connection
    #[arg(long, global = true, env = "HELM_KUBECAFILE")]
    kube_ca_file: Option<PathBuf>,
    /// server name to use for Kubernetes API server certificate validation
    #[arg(long, global = true, env = "HELM_KUBETLS_SERVER_NAME")]
    kube_tls_server_name: Option<String>,
    /// if true, the Kubernetes API server's certificate will not be checked for validity
    #[arg(long, global = true, env = "HELM_KUBEINSECURE_SKIP_TLS_VERIFY")]
    kube_insecure_skip_tls_verify: bool,
    /// username to impersonate for the operation
    #[arg(long, global = true, env = "HELM_KUBEASUSER")]
    kube_as_user: Option<String>,
    /// group to impersonate for the operation, this flag can be repeated to specify multiple groups
    #[arg(long, global = true)]
    kube_as_group: Vec<String>,
    /// client-side default throttling limit
    #[arg(long, global = true, default_value_t = 100)]
    burst_limit: i64,
    /// queries per second used when communicating with the Kubernetes API, not including bursting
    #[arg(long, global = true, default_value_t = 0.0)]
    qps: f32,
}

/// `-o/--output`.
#[derive(Args, Clone)]
pub struct OutputArgs {
    /// prints the output in the specified format. Allowed values: table, json, yaml
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json", "yaml"])]
    output: String,
}

#[derive(Args, Clone)]
pub struct WaitArgs {
    /// wait until all resources are ready (Pods, PVCs, Services, Deployments, StatefulSets, DaemonSets, ReplicaSets) or the timeout passes
    #[arg(long, num_args = 0..=1, default_missing_value = "watcher", require_equals = true)]
    wait: Option<String>,
    /// if set and --wait enabled, will wait until all Jobs have been completed before marking the release as successful
    #[arg(long)]
    wait_for_jobs: bool,
    /// time to wait for any individual Kubernetes operation (like Jobs for hooks)
    #[arg(long, default_value = "5m0s")]
    timeout: String,
}

impl WaitArgs {
    pub(crate) fn options(&self) -> Result<rel::WaitOptions, Error> {
        let wait = match self.wait.as_deref() {
            None | Some("hookOnly") | Some("false") => false,
            Some("watcher") | Some("legacy") | Some("true") => true,
            Some(other) => {
                return Err(Error::message(format!(
                    "invalid wait strategy {other:?}: must be one of watcher, legacy, hookOnly"
                )))
            }
        };
        Ok(rel::WaitOptions {
            wait: wait || self.wait_for_jobs,
            wait_for_jobs: self.wait_for_jobs,
            timeout: parse_duration_flag(&self.timeout, "timeout")?,
        })
    }
}

/// Go's `time.ParseDuration` for the forms Helm users write (`300s`, `5m0s`, `1h`, `1.5m`),
/// given to the flag `--{flag}`, with pflag's error.
pub(crate) fn parse_duration_flag(text: &str, flag: &str) -> Result<Duration, Error> {
    let bad = || {
        Error::message(format!(
            "invalid argument {text:?} for \"--{flag}\" flag: time: invalid duration {text:?}"
        ))
    };
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

/// Install and upgrade flags about rendering and applying that rudder takes as Helm does.
#[derive(Args)]
pub struct RenderApplyArgs {
    /// render subchart notes along with the parent
    #[arg(long)]
    render_subchart_notes: bool,
    /// hide Kubernetes Secrets when also using the --dry-run flag
    #[arg(long)]
    hide_secret: bool,
    /// if set, the installation process will not validate rendered templates against the
    /// Kubernetes OpenAPI Schema (rudder never validates them on the client: the API server does)
    #[arg(long)]
    disable_openapi_validation: bool,
    #[command(flatten)]
    apply: ApplyMethodArgs,
    #[command(flatten)]
    pub(crate) post_render: crate::plugin_cmd::PostRenderArgs,
}

/// How objects are written: `--server-side` and `--force-replace` (install, upgrade,
/// rollback).
#[derive(Args)]
pub struct ApplyMethodArgs {
    /// object updates run in the server instead of the client ("true", or "auto" to follow the
    /// previous release; rudder always applies server-side)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    server_side: Option<String>,
    /// force resource updates by replacement
    #[arg(long)]
    force_replace: bool,
    /// deprecated: --force-replace
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    force: u8,
}

impl ApplyMethodArgs {
    fn check(&self) -> Result<(), Error> {
        crate::warn_deprecated("force", self.force, "use --force-replace instead");
        server_side_check(self.server_side.as_deref())
    }

    fn force_replace(&self) -> bool {
        self.force_replace || self.force > 0
    }
}

/// Helm's kube client refuses to replace objects it server-side applies, and rudder always
/// applies server-side, so an update that asks for replacement fails as Helm's would (before
/// anything changes, where Helm fails at the update step).
fn force_replace_check(force_replace: bool, force_conflicts: bool) -> Result<(), Error> {
    if !force_replace {
        return Ok(());
    }
    Err(Error::message(if force_conflicts {
        "invalid operation: cannot use force conflicts and force replace together"
    } else {
        "invalid operation: cannot use server-side apply and force replace together"
    }))
}

/// rudder applies with server-side apply only.
fn server_side_check(value: Option<&str>) -> Result<(), Error> {
    match value {
        None | Some("true") | Some("auto") => Ok(()),
        Some("false") => Err(Error::message(
            "--server-side=false: client-side apply is not supported by rudder yet",
        )),
        Some(other) => Err(Error::message(format!(
            "invalid server-side value {other:?}: must be \"true\", \"false\" or \"auto\""
        ))),
    }
}

#[derive(Args)]
pub struct InstallArgs {
    /// [NAME] [CHART]
    #[arg(num_args = 1..=2, required = true)]
    args: Vec<String>,
    #[command(flatten)]
    values: ValueArgs,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    render_apply: RenderApplyArgs,
    /// generate the name (and omit the NAME parameter)
    #[arg(short = 'g', long)]
    generate_name: bool,
    /// specify template used to name the release
    #[arg(long)]
    name_template: Option<String>,
    /// create the release namespace if not present
    #[arg(long)]
    create_namespace: bool,
    /// simulate an install: "client" renders only, "server" also consults the cluster
    #[arg(long, num_args = 0..=1, default_missing_value = "client", require_equals = true)]
    dry_run: Option<String>,
    /// add a custom description
    #[arg(long)]
    description: Option<String>,
    /// Labels that would be added to release metadata. Should be divided by comma.
    #[arg(short = 'l', long)]
    labels: Vec<String>,
    /// if set, Helm will uninstall the release on failure
    #[arg(long)]
    rollback_on_failure: bool,
    /// deprecated: --rollback-on-failure
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    atomic: u8,
    /// prevent hooks from running during install
    #[arg(long)]
    no_hooks: bool,
    /// if set, no CRDs will be installed
    #[arg(long)]
    skip_crds: bool,
    /// if set, install will ignore the check for helm annotations and take ownership of the existing resources
    #[arg(long)]
    take_ownership: bool,
    /// reuse the given name, only if that name is a deleted release which remains in the history
    #[arg(long)]
    replace: bool,
    /// if set server-side apply will force changes against conflicts
    #[arg(long)]
    force_conflicts: bool,
    /// if set, disables JSON schema validation
    #[arg(long)]
    skip_schema_validation: bool,
    /// enable DNS lookups when rendering templates
    #[arg(long)]
    enable_dns: bool,
    /// if set, do not show notes in install output
    #[arg(long)]
    hide_notes: bool,
    /// update dependencies if they are missing before installing the chart
    #[arg(long)]
    dependency_update: bool,
    #[command(flatten)]
    chart_path: ChartPathArgs,
}

#[derive(Args)]
pub struct UpgradeArgs {
    /// RELEASE
    release: String,
    /// CHART
    chart: String,
    #[command(flatten)]
    values: ValueArgs,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    render_apply: RenderApplyArgs,
    /// if set, no CRDs will be installed when an upgrade is performed with install flag enabled
    #[arg(long)]
    skip_crds: bool,
    /// if a release by this name doesn't already exist, run an install
    #[arg(short = 'i', long)]
    install: bool,
    /// when upgrading, reuse the last release's values and merge in any overrides from the command line
    #[arg(long)]
    reuse_values: bool,
    /// when upgrading, reset the values to the ones built into the chart
    #[arg(long)]
    reset_values: bool,
    /// when upgrading, reset the values to the ones built into the chart, apply the last release's values and merge in any overrides
    #[arg(long)]
    reset_then_reuse_values: bool,
    /// limit the maximum number of revisions saved per release. Use 0 for no limit
    #[arg(long, env = "HELM_MAX_HISTORY", default_value_t = 10)]
    history_max: usize,
    /// allow deletion of new resources created in this upgrade when upgrade fails
    #[arg(long)]
    cleanup_on_fail: bool,
    /// create the release namespace if not present (with --install)
    #[arg(long)]
    create_namespace: bool,
    /// simulate an upgrade
    #[arg(long, num_args = 0..=1, default_missing_value = "client", require_equals = true)]
    dry_run: Option<String>,
    /// add a custom description
    #[arg(long)]
    description: Option<String>,
    /// Labels that would be added to release metadata
    #[arg(short = 'l', long)]
    labels: Vec<String>,
    /// if set, Helm will roll back the release to its previous revision on failure
    #[arg(long)]
    rollback_on_failure: bool,
    /// deprecated: --rollback-on-failure
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    atomic: u8,
    /// disable pre/post upgrade hooks
    #[arg(long)]
    no_hooks: bool,
    /// if set, upgrade will ignore the check for helm annotations and take ownership of the existing resources
    #[arg(long)]
    take_ownership: bool,
    /// if set server-side apply will force changes against conflicts
    #[arg(long)]
    force_conflicts: bool,
    /// print what the upgrade changes (as `rudder diff upgrade` does) before applying it
    #[arg(long)]
    diff: bool,
    /// with --diff, ask before applying when on a terminal
    #[arg(long, requires = "diff")]
    confirm: bool,
    /// if set, disables JSON schema validation
    #[arg(long)]
    skip_schema_validation: bool,
    /// enable DNS lookups when rendering templates
    #[arg(long)]
    enable_dns: bool,
    /// if set, do not show notes in upgrade output
    #[arg(long)]
    hide_notes: bool,
    /// update dependencies if they are missing before installing the chart
    #[arg(long)]
    dependency_update: bool,
    #[command(flatten)]
    chart_path: ChartPathArgs,
}

#[derive(Subcommand)]
pub enum ReleaseCommand {
    /// install a chart
    Install(InstallArgs),
    /// upgrade a release
    Upgrade(UpgradeArgs),
    /// roll back a release to a previous revision
    Rollback {
        /// RELEASE
        release: String,
        /// [REVISION]
        revision: Option<i64>,
        #[command(flatten)]
        wait: WaitArgs,
        /// disable pre/post rollback hooks
        #[arg(long)]
        no_hooks: bool,
        /// simulate a rollback
        #[arg(long, num_args = 0..=1, default_missing_value = "client", require_equals = true)]
        dry_run: Option<String>,
        /// limit the maximum number of revisions saved per release. Use 0 for no limit
        #[arg(long, env = "HELM_MAX_HISTORY", default_value_t = 10)]
        history_max: usize,
        /// allow deletion of new resources created in this rollback when rollback fails
        #[arg(long)]
        cleanup_on_fail: bool,
        /// if set server-side apply will force changes against conflicts
        #[arg(long)]
        force_conflicts: bool,
        #[command(flatten)]
        apply: ApplyMethodArgs,
    },
    /// uninstall a release
    #[command(alias = "un", alias = "delete", alias = "del")]
    Uninstall {
        /// RELEASE_NAME [...]
        #[arg(required = true)]
        releases: Vec<String>,
        #[command(flatten)]
        wait: WaitArgs,
        /// remove all associated resources and mark the release as deleted, but retain the release history
        #[arg(long)]
        keep_history: bool,
        /// prevent hooks from running during uninstallation
        #[arg(long)]
        no_hooks: bool,
        /// treat "release not found" as a successful uninstall
        #[arg(long)]
        ignore_not_found: bool,
        /// simulate a uninstall
        #[arg(long)]
        dry_run: bool,
        /// add a custom description
        #[arg(long)]
        description: Option<String>,
        /// Must be "background", "orphan", or "foreground"
        #[arg(long, default_value = "background", value_parser = ["background", "orphan", "foreground"])]
        cascade: String,
    },
    /// list releases
    #[command(alias = "ls")]
    List {
        #[command(flatten)]
        output: OutputArgs,
        /// show all releases without any filter applied
        #[arg(short = 'a', long)]
        all: bool,
        /// list releases across all namespaces
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// show deployed releases
        #[arg(long)]
        deployed: bool,
        /// show failed releases
        #[arg(long)]
        failed: bool,
        /// show pending releases
        #[arg(long)]
        pending: bool,
        /// show superseded releases
        #[arg(long)]
        superseded: bool,
        /// show uninstalled releases (if 'helm uninstall --keep-history' was used)
        #[arg(long)]
        uninstalled: bool,
        /// show releases that are currently being uninstalled
        #[arg(long)]
        uninstalling: bool,
        /// a regular expression (Perl compatible). Any releases that match the expression will be included in the results
        #[arg(short = 'f', long)]
        filter: Option<String>,
        /// output short (quiet) listing format
        #[arg(short = 'q', long)]
        short: bool,
        /// don't print headers when using the default output format
        #[arg(long)]
        no_headers: bool,
        /// sort by release date
        #[arg(short = 'd', long)]
        date: bool,
        /// reverse the sort order
        #[arg(short = 'r', long)]
        reverse: bool,
        /// maximum number of releases to fetch
        #[arg(short = 'm', long, default_value_t = 256)]
        max: usize,
        /// next release index in the list, used to offset from start value
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Works only for secret(default) and configmap storage backends.
        #[arg(short = 'l', long)]
        selector: Option<String>,
        /// format time using golang time formatter. Example: --time-format "2006-01-02 15:04:05Z0700"
        #[arg(long)]
        time_format: Option<String>,
    },
    /// fetch release history
    #[command(alias = "hist")]
    History {
        /// RELEASE_NAME
        release: String,
        #[command(flatten)]
        output: OutputArgs,
        /// maximum number of revision to include in history
        #[arg(long, default_value_t = 256)]
        max: usize,
    },
    /// display the status of the named release
    Status {
        /// RELEASE_NAME
        release: String,
        #[command(flatten)]
        output: OutputArgs,
        /// if set, display the status of the named release with revision
        #[arg(long, default_value_t = 0)]
        revision: i64,
        /// also list the release's objects changed or deleted behind its back, and by whom
        #[arg(long)]
        drift: bool,
    },
    /// download extended information of a named release
    #[command(subcommand)]
    Get(GetCommand),
    /// run tests for a release
    Test {
        /// RELEASE
        release: String,
        /// time to wait for any individual Kubernetes operation (like Jobs for hooks)
        #[arg(long, default_value = "5m0s")]
        timeout: String,
        /// dump the logs from test pods (this runs after all tests are complete, but before any cleanup)
        #[arg(long)]
        logs: bool,
        /// specify tests by attribute (currently "name") using attribute=value syntax or '!attribute=value' to exclude a test (can specify multiple or separate values with commas: name=test1,name=test2)
        #[arg(long, value_delimiter = ',')]
        filter: Vec<String>,
    },
}

#[derive(Args)]
pub struct GetArgs {
    /// RELEASE_NAME
    release: String,
    /// get the named release with revision
    #[arg(long, default_value_t = 0)]
    revision: i64,
}

#[derive(Subcommand)]
pub enum GetCommand {
    /// download all information for a named release
    All {
        #[command(flatten)]
        get: GetArgs,
        /// go template for formatting the output, eg: {{.Release.Name}}
        #[arg(long)]
        template: Option<String>,
    },
    /// download the values file for a named release
    Values {
        #[command(flatten)]
        get: GetArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// dump all (computed) values
        #[arg(short = 'a', long)]
        all: bool,
    },
    /// download the manifest for a named release
    Manifest(GetArgs),
    /// download the notes for a named release
    Notes(GetArgs),
    /// download all hooks for a named release
    Hooks(GetArgs),
    /// This command fetches metadata for a given release
    Metadata {
        #[command(flatten)]
        get: GetArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `helm env`: Helm's settings as environment variables, sorted by name, or one value.
pub(crate) fn env_text(
    kube: &KubeArgs,
    namespace: &Option<String>,
    debug: bool,
    name: Option<&str>,
) -> String {
    let vars = env_vars(kube, namespace, debug);
    match name {
        Some(name) => format!(
            "{}\n",
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        ),
        None => vars.iter().map(|(k, v)| format!("{k}=\"{v}\"\n")).collect(),
    }
}

/// Helm's `EnvSettings.EnvVars()`: what `rudder env` prints and plugins get, sorted.
pub(crate) fn env_vars(
    kube: &KubeArgs,
    namespace: &Option<String>,
    debug: bool,
) -> Vec<(&'static str, String)> {
    let paths = action::HelmPaths::from_env();
    let path = |p: &std::path::Path| p.display().to_string();
    // Helm's Namespace(): the flag, else the kubeconfig context's, else "default".
    let namespace = namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            let opts = ClusterOptions {
                connect: rel::ConnectOptions {
                    kubeconfig: kube.kubeconfig.clone(),
                    context: kube.kube_context.clone(),
                    ..rel::ConnectOptions::default()
                },
                namespace: None,
                // Only the kubeconfig is read: no database, nothing sent to a server.
                driver: Some("secret".into()),
                offline_ok: false,
            };
            Cluster::connect(&opts)
                .map(|c| c.namespace().to_string())
                .unwrap_or_else(|_| "default".into())
        });
    let max_history = std::env::var("HELM_MAX_HISTORY")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(10);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut vars: Vec<(&str, String)> = vec![
        ("HELM_BIN", std::env::args().next().unwrap_or_default()),
        ("HELM_CACHE_HOME", path(&paths.cache_home)),
        ("HELM_CONFIG_HOME", path(&paths.config_home)),
        ("HELM_DATA_HOME", path(&paths.data_home)),
        ("HELM_DEBUG", debug.to_string()),
        ("HELM_PLUGINS", path(&paths.plugins)),
        ("HELM_REGISTRY_CONFIG", path(&paths.registry_config)),
        ("HELM_REPOSITORY_CACHE", path(&paths.repository_cache)),
        ("HELM_CONTENT_CACHE", path(&paths.content_cache)),
        ("HELM_REPOSITORY_CONFIG", path(&paths.repository_config)),
        ("HELM_NAMESPACE", namespace),
        ("HELM_MAX_HISTORY", max_history.to_string()),
        ("HELM_BURST_LIMIT", kube.burst_limit.to_string()),
        ("HELM_QPS", format!("{:.2}", kube.qps)),
        ("HELM_KUBECONTEXT", text(&kube.kube_context)),
        ("HELM_KUBETOKEN", text(&kube.kube_token)),
        ("HELM_KUBEASUSER", text(&kube.kube_as_user)),
        ("HELM_KUBEASGROUPS", kube.kube_as_group.join(",")),
        ("HELM_KUBEAPISERVER", text(&kube.kube_apiserver)),
        (
            "HELM_KUBECAFILE",
            kube.kube_ca_file.as_deref().map(path).unwrap_or_default(),
        ),
        (
            "HELM_KUBEINSECURE_SKIP_TLS_VERIFY",
            kube.kube_insecure_skip_tls_verify.to_string(),
        ),
        ("HELM_KUBETLS_SERVER_NAME", text(&kube.kube_tls_server_name)),
    ];
    if let Some(kubeconfig) = &kube.kubeconfig {
        vars.push(("KUBECONFIG", path(kubeconfig)));
    }
    vars.sort();
    vars
}

pub(crate) fn connect(kube: &KubeArgs, namespace: &Option<String>) -> Result<Cluster, Error> {
    connect_or_offline(kube, namespace, false)
}

/// [`connect`] for a client-side dry run: no kubeconfig is needed.
pub(crate) fn connect_offline(
    kube: &KubeArgs,
    namespace: &Option<String>,
) -> Result<Cluster, Error> {
    connect_or_offline(kube, namespace, true)
}

/// [`connect`]; with `offline_ok`, a missing kubeconfig is no error (a client-side dry run
/// never reaches a server, and Helm's works without one).
fn connect_or_offline(
    kube: &KubeArgs,
    namespace: &Option<String>,
    offline_ok: bool,
) -> Result<Cluster, Error> {
    // rudder does not throttle its requests, so --burst-limit and --qps have nothing to set.
    let opts = ClusterOptions {
        connect: rel::ConnectOptions {
            kubeconfig: kube.kubeconfig.clone(),
            context: kube.kube_context.clone(),
            apiserver: kube.kube_apiserver.clone(),
            token: kube.kube_token.clone(),
            ca_file: kube.kube_ca_file.clone(),
            tls_server_name: kube.kube_tls_server_name.clone(),
            insecure_skip_tls_verify: kube.kube_insecure_skip_tls_verify,
            impersonate_user: kube.kube_as_user.clone().filter(|u| !u.is_empty()),
            impersonate_groups: kube.kube_as_group.clone(),
        },
        namespace: namespace.clone(),
        driver: std::env::var("HELM_DRIVER").ok().filter(|d| !d.is_empty()),
        offline_ok,
    };
    Cluster::connect(&opts)
}

fn dry_run_of(flag: &Option<String>) -> Result<rel::DryRun, Error> {
    match flag.as_deref() {
        None | Some("none") | Some("false") => Ok(rel::DryRun::None),
        Some("client") | Some("true") => Ok(rel::DryRun::Client),
        Some("server") => Ok(rel::DryRun::Server),
        Some(other) => Err(Error::message(format!(
            "invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\""
        ))),
    }
}

/// The progress of `--wait`, on stderr so that stdout stays what Helm prints. On a terminal,
/// a live line per resource (indicatif); elsewhere, a plain line whenever the state changes.
fn progress_printer() -> impl FnMut(&[rel::Readiness]) {
    let mut live = std::io::stderr()
        .is_terminal()
        .then(LiveWaitDisplay::default);
    let mut last_line = String::new();
    move |states: &[rel::Readiness]| {
        if let Some(display) = live.as_mut() {
            display.update(states);
            return;
        }
        let line = plain_wait_line(states);
        let first = last_line.is_empty();
        if line != last_line && !(first && states.iter().all(|s| s.ready)) {
            eprintln!("{line}");
        }
        last_line = line;
    }
}

/// One line telling what a wait is still waiting for.
fn plain_wait_line(states: &[rel::Readiness]) -> String {
    let pending: Vec<String> = states
        .iter()
        .filter(|s| !s.ready)
        .map(|s| format!("{} ({})", s.resource, s.detail))
        .collect();
    if pending.is_empty() {
        return format!("all {} resources are ready", states.len());
    }
    format!(
        "waiting for {} of {} resources to be ready: {}",
        pending.len(),
        states.len(),
        pending.join(", ")
    )
}

/// A spinner per resource that turns into a check mark once the resource is ready.
#[derive(Default)]
struct LiveWaitDisplay {
    bars: indicatif::MultiProgress,
    by_resource: std::collections::HashMap<String, indicatif::ProgressBar>,
}

impl LiveWaitDisplay {
    fn update(&mut self, states: &[rel::Readiness]) {
        let width = states.iter().map(|s| s.resource.len()).max().unwrap_or(0);
        for s in states {
            let bar = self
                .by_resource
                .entry(s.resource.clone())
                .or_insert_with(|| {
                    let bar = self.bars.add(indicatif::ProgressBar::new_spinner());
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("{spinner} {prefix} {msg}")
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(format!("{:width$}", s.resource));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
            if bar.is_finished() {
                continue;
            }
            if s.ready {
                bar.set_style(
                    indicatif::ProgressStyle::with_template("✓ {prefix} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar.finish_with_message("ready");
            } else {
                bar.set_message(s.detail.clone());
            }
        }
    }
}

impl Drop for LiveWaitDisplay {
    fn drop(&mut self) {
        // A wait that failed leaves its last state on screen.
        for bar in self.by_resource.values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}

fn print_release(
    release: &rel::Release,
    output: &str,
    hide_notes: bool,
    debug: bool,
) -> Result<String, Error> {
    match output {
        "json" => Ok(format!("{}\n", release_json(release))),
        "yaml" => Ok(json_to_yaml(&release_json(release))),
        _ => Ok(rel::status_text(release, false, debug, hide_notes)),
    }
}

/// The release as `-o json` prints it (Helm marshals the release record itself).
fn release_json(release: &rel::Release) -> serde_json::Value {
    serde_json::to_value(release).unwrap_or_default()
}

fn json_to_yaml(j: &serde_json::Value) -> String {
    let v = rudder_value::json::from_json(&j.to_string()).unwrap_or_default();
    rudder_value::yaml::to_yaml(&v).unwrap_or_default()
}

fn table(rows: Vec<Vec<String>>) -> String {
    action::table(&rows, None)
}

pub fn run(
    cmd: ReleaseCommand,
    kube: &KubeArgs,
    namespace: &Option<String>,
    debug: bool,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    match cmd {
        ReleaseCommand::Install(a) => {
            crate::warn_deprecated("atomic", a.atomic, "use --rollback-on-failure instead");
            a.render_apply.apply.check()?;
            // Helm's `NameAndChart`.
            let name_template = a.name_template.as_deref().unwrap_or("");
            let failed = |e: &str| Error::message(format!("INSTALLATION FAILED: {e}"));
            let (name, chart) = match a.args.as_slice() {
                [_, _] if a.generate_name => {
                    return Err(failed("cannot set --generate-name and also specify a name"))
                }
                [_, _] if !name_template.is_empty() => {
                    return Err(failed("cannot set --name-template and also specify a name"))
                }
                [name, chart] => (name.clone(), chart.clone()),
                [chart] if !name_template.is_empty() => (
                    action::template_name(name_template).map_err(|e| failed(&e.to_string()))?,
                    chart.clone(),
                ),
                [chart] if a.generate_name => (action::generate_name(chart), chart.clone()),
                [_] => {
                    return Err(failed(
                        "must either provide a name or specify --generate-name",
                    ))
                }
                _ => unreachable!("clap allows one or two arguments"),
            };
            let dry_run = dry_run_of(&a.dry_run)?;
            let cluster = connect_or_offline(kube, namespace, dry_run == rel::DryRun::Client)?;
            let opts = rel::InstallOptions {
                values: a.values.into(),
                create_namespace: a.create_namespace,
                dry_run,
                description: a.description,
                labels: rel::parse_labels(&a.labels)?,
                wait: a.wait.options()?,
                rollback_on_failure: a.rollback_on_failure || a.atomic > 0,
                no_hooks: a.no_hooks,
                skip_crds: a.skip_crds,
                take_ownership: a.take_ownership,
                replace: a.replace,
                force_conflicts: a.force_conflicts,
                skip_schema_validation: a.skip_schema_validation,
                enable_dns: a.enable_dns,
                render_subchart_notes: a.render_apply.render_subchart_notes,
                post_renderer: a
                    .render_apply
                    .post_render
                    .renderer(kube, namespace, debug)?,
                hide_secret: a.render_apply.hide_secret,
                chart: rudder_action::ChartPathOptions {
                    dependency_update: a.dependency_update,
                    ..a.chart_path.options()?
                },
                log: crate::slog::stderr_sink(),
                cancel: crate::signals::cancel_on_signal(&a.args[0]),
            };
            let release = rel::install(&cluster, &name, &chart, &opts, &mut progress_printer())
                .map_err(|e| Error::message(format!("INSTALLATION FAILED: {e}")))?;
            write(&print_release(
                &release,
                &a.output.output,
                a.hide_notes,
                debug,
            )?);
        }
        ReleaseCommand::Upgrade(a) => {
            crate::warn_deprecated("atomic", a.atomic, "use --rollback-on-failure instead");
            a.render_apply.apply.check()?;
            force_replace_check(a.render_apply.apply.force_replace(), a.force_conflicts)
                .map_err(|e| Error::message(format!("UPGRADE FAILED: {e}")))?;
            let cluster = connect(kube, namespace)?;
            let opts = rel::UpgradeOptions {
                install: rel::InstallOptions {
                    values: a.values.into(),
                    create_namespace: a.create_namespace,
                    dry_run: dry_run_of(&a.dry_run)?,
                    description: a.description,
                    labels: rel::parse_labels(&a.labels)?,
                    wait: a.wait.options()?,
                    rollback_on_failure: a.rollback_on_failure || a.atomic > 0,
                    no_hooks: a.no_hooks,
                    take_ownership: a.take_ownership,
                    force_conflicts: a.force_conflicts,
                    skip_schema_validation: a.skip_schema_validation,
                    enable_dns: a.enable_dns,
                    render_subchart_notes: a.render_apply.render_subchart_notes,
                    post_renderer: a
                        .render_apply
                        .post_render
                        .renderer(kube, namespace, debug)?,
                    hide_secret: a.render_apply.hide_secret,
                    skip_crds: a.skip_crds,
                    chart: rudder_action::ChartPathOptions {
                        dependency_update: a.dependency_update,
                        ..a.chart_path.options()?
                    },
                    log: crate::slog::stderr_sink(),
                    cancel: crate::signals::cancel_on_signal(&a.release),
                    ..rel::InstallOptions::default()
                },
                install_if_missing: a.install,
                reuse_values: a.reuse_values,
                reset_values: a.reset_values,
                reset_then_reuse_values: a.reset_then_reuse_values,
                history_max: a.history_max,
                cleanup_on_fail: a.cleanup_on_fail,
            };
            if a.diff {
                write(&crate::diff_cmd::upgrade_plan(
                    &cluster, &a.release, &a.chart, &opts, a.install,
                )?);
                if a.confirm && !crate::diff_cmd::confirmed()? {
                    return Err(Error::message(
                        "upgrade cancelled: the changes were not confirmed",
                    ));
                }
            }
            let (release, installed) = rel::upgrade(
                &cluster,
                &a.release,
                &a.chart,
                &opts,
                &mut progress_printer(),
            )
            .map_err(|e| Error::message(format!("UPGRADE FAILED: {e}")))?;
            if a.output.output == "table" {
                if installed {
                    write(&format!(
                        "Release {:?} does not exist. Installing it now.\n",
                        a.release
                    ));
                } else {
                    write(&format!(
                        "Release {:?} has been upgraded. Happy Helming!\n",
                        a.release
                    ));
                }
            }
            write(&print_release(
                &release,
                &a.output.output,
                a.hide_notes,
                debug,
            )?);
        }
        ReleaseCommand::Rollback {
            release,
            revision,
            wait,
            no_hooks,
            dry_run,
            history_max,
            cleanup_on_fail,
            force_conflicts,
            apply,
        } => {
            apply.check()?;
            force_replace_check(apply.force_replace(), force_conflicts)?;
            let cluster = connect(kube, namespace)?;
            let opts = rel::RollbackOptions {
                revision: revision.unwrap_or(0),
                wait: wait.options()?,
                no_hooks,
                dry_run: dry_run_of(&dry_run)? != rel::DryRun::None,
                history_max,
                cleanup_on_fail,
                force_conflicts,
                cancel: crate::signals::cancel_on_signal(&release),
                log: crate::slog::stderr_sink(),
            };
            rel::rollback(&cluster, &release, &opts, &mut progress_printer())?;
            write("Rollback was a success! Happy Helming!\n");
        }
        ReleaseCommand::Uninstall {
            releases,
            wait,
            keep_history,
            no_hooks,
            ignore_not_found,
            dry_run,
            description,
            cascade,
        } => {
            let cluster = connect(kube, namespace)?;
            let opts = rel::UninstallOptions {
                keep_history,
                no_hooks,
                ignore_not_found,
                dry_run,
                description,
                cascade: match cascade.as_str() {
                    "orphan" => rel::Propagation::Orphan,
                    "foreground" => rel::Propagation::Foreground,
                    _ => rel::Propagation::Background,
                },
                wait: wait.options()?,
                log: crate::slog::stderr_sink(),
            };
            for name in releases {
                let report = rel::uninstall(&cluster, &name, &opts)?;
                if !report.info.is_empty() {
                    write(&format!("{}\n", report.info));
                }
                write(&format!("release \"{name}\" uninstalled\n"));
            }
        }
        ReleaseCommand::List {
            output,
            all,
            all_namespaces,
            deployed,
            failed,
            pending,
            superseded,
            uninstalled,
            uninstalling,
            filter,
            short,
            no_headers,
            date,
            reverse,
            max,
            offset,
            selector,
            time_format,
        } => {
            let cluster = connect(kube, namespace)?;
            let opts = rel::ListOptions {
                all_namespaces,
                all,
                deployed,
                failed,
                pending,
                superseded,
                uninstalled,
                uninstalling,
                filter,
                by_date: date,
                reverse,
                max,
                offset,
                selector,
                time_format,
            };
            let rows = rel::list(&cluster, &opts)?;
            if short {
                let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
                match output.output.as_str() {
                    "json" => write(&format!("{}\n", serde_json::json!(names))),
                    "yaml" => write(&json_to_yaml(&serde_json::json!(names))),
                    _ => {
                        for n in names {
                            write(&format!("{n}\n"));
                        }
                    }
                }
                return Ok(());
            }
            match output.output.as_str() {
                "json" => {
                    let list: Vec<_> = rows.iter().map(|r| r.to_json()).collect();
                    write(&format!("{}\n", serde_json::Value::Array(list)));
                }
                "yaml" => {
                    let list: Vec<_> = rows.iter().map(|r| r.to_json()).collect();
                    write(&json_to_yaml(&serde_json::Value::Array(list)));
                }
                _ => {
                    let mut table_rows = Vec::new();
                    if !no_headers {
                        table_rows.push(
                            [
                                "NAME",
                                "NAMESPACE",
                                "REVISION",
                                "UPDATED",
                                "STATUS",
                                "CHART",
                                "APP VERSION",
                            ]
                            .map(String::from)
                            .to_vec(),
                        );
                    }
                    for r in rows {
                        table_rows.push(vec![
                            r.name,
                            r.namespace,
                            r.revision,
                            r.updated,
                            r.status,
                            r.chart,
                            r.app_version,
                        ]);
                    }
                    write(&table(table_rows));
                }
            }
        }
        ReleaseCommand::History {
            release,
            output,
            max,
        } => {
            let cluster = connect(kube, namespace)?;
            let entries = rel::history(&cluster, &release, max)?;
            match output.output.as_str() {
                "json" => {
                    let list: Vec<_> = entries.iter().map(|e| e.to_json()).collect();
                    write(&format!("{}\n", serde_json::Value::Array(list)));
                }
                "yaml" => {
                    let list: Vec<_> = entries.iter().map(|e| e.to_json()).collect();
                    write(&json_to_yaml(&serde_json::Value::Array(list)));
                }
                _ => {
                    let mut rows = vec![[
                        "REVISION",
                        "UPDATED",
                        "STATUS",
                        "CHART",
                        "APP VERSION",
                        "DESCRIPTION",
                    ]
                    .map(String::from)
                    .to_vec()];
                    for e in entries {
                        rows.push(vec![
                            e.revision.to_string(),
                            e.updated_ansic,
                            e.status,
                            e.chart,
                            e.app_version,
                            e.description,
                        ]);
                    }
                    write(&table(rows));
                }
            }
        }
        ReleaseCommand::Status {
            release,
            output,
            revision,
            drift,
        } => {
            let cluster = connect(kube, namespace)?;
            let r = rel::status(&cluster, &release, revision)?;
            if output.output == "table" {
                // As Helm v4, the table shows the live objects, as the API server tables them.
                let resources = rel::resources_text(&cluster, &r)?;
                write(&rel::status_text_with_resources(
                    &r, false, debug, false, &resources,
                ));
            } else {
                // As Helm v4, -o json/yaml carry the live objects in info.resources.
                let json = rel::status_json(&cluster, &r)?;
                write(&match output.output.as_str() {
                    "json" => format!("{json}\n"),
                    _ => json_to_yaml(&json),
                });
            }
            if drift {
                write(&crate::diff_cmd::drift_section(&cluster, &release)?);
            }
        }
        ReleaseCommand::Test {
            release,
            timeout,
            logs,
            filter,
        } => {
            let cluster = connect(kube, namespace)?;
            let (include, exclude) = rel::parse_test_filters(&filter);
            let opts = rel::TestOptions {
                timeout: parse_duration_flag(&timeout, "timeout")?,
                include,
                exclude,
                logs,
            };
            let report = rel::test(&cluster, &release, &opts)?;
            write(&rel::status_text(&report.release, false, debug, true));
            if logs {
                write("\n");
                write(&report.logs);
            }
            if let Some(e) = report.error {
                return Err(e);
            }
        }
        ReleaseCommand::Get(get) => match get {
            GetCommand::All { get, template } => {
                let cluster = connect(kube, namespace)?;
                let r = rel::status(&cluster, &get.release, get.revision)?;
                match template.filter(|t| !t.is_empty()) {
                    Some(text) => {
                        write(&crate::get_template::render(&text, &r).map_err(Error::message)?)
                    }
                    None => write(&rel::status_text(&r, true, true, false)),
                }
            }
            GetCommand::Values { get, output, all } => {
                let cluster = connect(kube, namespace)?;
                let (heading, values) = rel::get_values(&cluster, &get.release, get.revision, all)?;
                match output.output.as_str() {
                    "json" => write(&format!(
                        "{}\n",
                        if values.is_null() {
                            serde_json::json!({})
                        } else {
                            values
                        }
                    )),
                    "yaml" => write(&rel::format_values_yaml(&values)),
                    _ => {
                        write(&format!("{heading}\n"));
                        write(&rel::format_values_yaml(&values));
                    }
                }
            }
            GetCommand::Manifest(g) => {
                let cluster = connect(kube, namespace)?;
                write(&format!(
                    "{}\n",
                    rel::get_manifest(&cluster, &g.release, g.revision)?
                ));
            }
            GetCommand::Notes(g) => {
                let cluster = connect(kube, namespace)?;
                write(&rel::get_notes(&cluster, &g.release, g.revision)?);
            }
            GetCommand::Hooks(g) => {
                let cluster = connect(kube, namespace)?;
                write(&rel::get_hooks(&cluster, &g.release, g.revision)?);
            }
            GetCommand::Metadata { get, output } => {
                let cluster = connect(kube, namespace)?;
                let m = rel::get_metadata(&cluster, &get.release, get.revision)?;
                match output.output.as_str() {
                    "json" => write(&format!("{m}\n")),
                    "yaml" => write(&json_to_yaml(&m)),
                    _ => write(&rel::metadata_text(&m)),
                }
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_go_does() {
        assert_eq!(
            parse_duration_flag("5m0s", "timeout").unwrap(),
            Duration::from_secs(300)
        );
        assert_eq!(
            parse_duration_flag("90s", "timeout").unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(
            parse_duration_flag("1h30m", "timeout").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(
            parse_duration_flag("1.5m", "timeout").unwrap(),
            Duration::from_secs(90)
        );
        assert!(parse_duration_flag("5x", "timeout").is_err());
        assert!(parse_duration_flag("", "timeout").is_err());
    }

    fn state(resource: &str, ready: bool, detail: &str) -> rel::Readiness {
        rel::Readiness {
            resource: resource.into(),
            ready,
            detail: detail.into(),
        }
    }

    #[test]
    fn plain_wait_lines_name_what_is_pending_and_why() {
        let states = [
            state("ConfigMap/c", true, "ready"),
            state("Deployment/web", false, "1/3 replicas ready"),
            state("PersistentVolumeClaim/data", false, "Pending"),
        ];
        assert_eq!(
            plain_wait_line(&states),
            "waiting for 2 of 3 resources to be ready: Deployment/web (1/3 replicas ready), PersistentVolumeClaim/data (Pending)"
        );
        assert_eq!(
            plain_wait_line(&[state("ConfigMap/c", true, "ready")]),
            "all 1 resources are ready"
        );
    }
}
