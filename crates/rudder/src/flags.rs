//! The flag groups several commands share, each declared once and flattened into the
//! commands that take it (as Helm's pkg/cmd/flags.go), with its conversion to the action
//! library's options.

use std::time::Duration;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::{self as action, Error, RegistryOptions};

use crate::settings::Settings;

// Flags that set values (Helm's `addValueOptionsFlags`).
#[derive(Args, Clone, Default)]
pub struct ValueArgs {
    /// specify values in a YAML file or a URL (can specify multiple)
    #[arg(short = 'f', long = "values", value_delimiter = ',')]
    pub values: Vec<String>,
    /// set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)
    #[arg(long = "set")]
    pub set: Vec<String>,
    /// set STRING values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)
    #[arg(long = "set-string")]
    pub set_string: Vec<String>,
    /// set values from respective files specified via the command line (can specify multiple or separate values with commas: key1=path1,key2=path2)
    #[arg(long = "set-file")]
    pub set_file: Vec<String>,
    /// set JSON values on the command line (can specify multiple or separate values with commas: key1=jsonval1,key2=jsonval2 or using json format: {"key1": jsonval1, "key2": "jsonval2"})
    #[arg(long = "set-json")]
    pub set_json: Vec<String>,
    /// set a literal STRING value on the command line
    #[arg(long = "set-literal")]
    pub set_literal: Vec<String>,
}

impl From<ValueArgs> for action::ValueOptions {
    fn from(v: ValueArgs) -> Self {
        action::ValueOptions {
            value_files: v.values,
            set: v.set,
            set_string: v.set_string,
            set_file: v.set_file,
            set_json: v.set_json,
            set_literal: v.set_literal,
        }
    }
}

// `-o/--output`.
#[derive(Args, Clone)]
pub struct OutputArgs {
    /// prints the output in the specified format. Allowed values: table, json, yaml
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json", "yaml"])]
    pub output: String,
}

#[derive(Args, Clone)]
pub struct WaitArgs {
    /// wait until all resources are ready (Pods, PVCs, Services, Deployments, StatefulSets, DaemonSets, ReplicaSets) or the timeout passes
    #[arg(long, num_args = 0..=1, default_missing_value = "watcher", require_equals = true)]
    pub wait: Option<String>,
    /// if set and --wait enabled, will wait until all Jobs have been completed before marking the release as successful
    #[arg(long)]
    pub wait_for_jobs: bool,
    /// time to wait for any individual Kubernetes operation (like Jobs for hooks)
    #[arg(long, default_value = "5m0s")]
    pub timeout: String,
}

impl WaitArgs {
    pub fn options(&self) -> Result<rel::WaitOptions, Error> {
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

/// Go's `time.ParseDuration` of the value given to the flag `--{flag}`, with pflag's error.
/// A negative duration (which Go accepts) is no time at all.
pub fn parse_duration_flag(text: &str, flag: &str) -> Result<Duration, Error> {
    let nanos = rudder_value::goduration::parse(text).map_err(|e| {
        Error::message(format!(
            "invalid argument {text:?} for \"--{flag}\" flag: {e}"
        ))
    })?;
    Ok(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

// Install and upgrade flags about rendering and applying that rudder takes as Helm does.
#[derive(Args)]
pub struct RenderApplyArgs {
    /// render subchart notes along with the parent
    #[arg(long)]
    pub render_subchart_notes: bool,
    /// hide Kubernetes Secrets when also using the --dry-run flag
    #[arg(long)]
    pub hide_secret: bool,
    /// if set, the installation process will not validate rendered templates against the
    /// Kubernetes OpenAPI Schema (rudder never validates them on the client: the API server does)
    #[arg(long)]
    pub disable_openapi_validation: bool,
    #[command(flatten)]
    pub apply: ApplyMethodArgs,
    #[command(flatten)]
    pub post_render: PostRenderArgs,
}

// How objects are written: `--server-side` and `--force-replace` (install, upgrade,
// rollback).
#[derive(Args)]
pub struct ApplyMethodArgs {
    /// object updates run in the server instead of the client ("true", or "auto" to follow the
    /// previous release; rudder always applies server-side)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub server_side: Option<String>,
    /// force resource updates by replacement
    #[arg(long)]
    pub force_replace: bool,
    /// deprecated: --force-replace
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    pub force: u8,
}

impl ApplyMethodArgs {
    pub fn check(&self) -> Result<(), Error> {
        warn_deprecated("force", self.force, "use --force-replace instead");
        server_side_check(self.server_side.as_deref())
    }

    pub fn force_replace(&self) -> bool {
        self.force_replace || self.force > 0
    }
}

/// Helm's kube client refuses to replace objects it server-side applies, and rudder always
/// applies server-side, so an update that asks for replacement fails as Helm's would (before
/// anything changes, where Helm fails at the update step).
pub fn force_replace_check(force_replace: bool, force_conflicts: bool) -> Result<(), Error> {
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

/// pflag's notice for a deprecated flag, once per use.
pub fn warn_deprecated(flag: &str, uses: u8, advice: &str) {
    for _ in 0..uses {
        eprintln!("Flag --{flag} has been deprecated, {advice}");
    }
}

/// `--dry-run` of install, upgrade and rollback.
pub fn parse_dry_run(flag: &Option<String>) -> Result<rel::DryRun, Error> {
    match flag.as_deref() {
        None | Some("none") | Some("false") => Ok(rel::DryRun::None),
        Some("client") | Some("true") => Ok(rel::DryRun::Client),
        Some("server") => Ok(rel::DryRun::Server),
        Some(other) => Err(Error::message(format!(
            "invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\""
        ))),
    }
}

// Helm's `addChartPathOptionsFlags` plus `--devel`: where a CHART argument is looked for.
#[derive(Args, Clone, Default)]
pub struct ChartPathArgs {
    /// specify a version constraint for the chart version to use. This constraint can be a specific tag (e.g. 1.1.1) or it may reference a valid range (e.g. ^2.0.0). If this is not specified, the latest version is used
    #[arg(long, default_value = "")]
    pub version: String,
    /// use development versions, too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored
    #[arg(long)]
    pub devel: bool,
    /// chart repository url where to locate the requested chart
    #[arg(long, default_value = "")]
    pub repo: String,
    /// chart repository username where to locate the requested chart
    #[arg(long, default_value = "")]
    pub username: String,
    /// chart repository password where to locate the requested chart
    #[arg(long, default_value = "")]
    pub password: String,
    /// identify HTTPS client using this SSL certificate file
    #[arg(long, default_value = "")]
    pub cert_file: String,
    /// identify HTTPS client using this SSL key file
    #[arg(long, default_value = "")]
    pub key_file: String,
    /// verify certificates of HTTPS-enabled servers using this CA bundle
    #[arg(long, default_value = "")]
    pub ca_file: String,
    /// skip tls certificate checks for the chart download
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// pass credentials to all domains
    #[arg(long)]
    pub pass_credentials: bool,
    /// use insecure HTTP connections for the chart download
    #[arg(long)]
    pub plain_http: bool,
    /// verify the package before using it
    #[arg(long)]
    pub verify: bool,
    /// location of public keys used for verification
    #[arg(long, default_value = "")]
    pub keyring: String,
}

impl ChartPathArgs {
    /// The options for the action library.
    pub fn options(self, settings: &Settings) -> Result<action::ChartPathOptions, Error> {
        Ok(action::ChartPathOptions {
            version: self.version,
            devel: self.devel,
            repo_url: self.repo,
            username: self.username,
            password: self.password,
            ca_file: self.ca_file,
            cert_file: self.cert_file,
            key_file: self.key_file,
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            pass_credentials_all: self.pass_credentials,
            plain_http: self.plain_http,
            dependency_update: false,
            paths: settings.paths.clone(),
            progress: action::Progress::new(std::io::stdout()),
            verify: self.verify,
            keyring: self.keyring.into(),
        })
    }
}

// The connection flags of `push` and `pull` for registries.
#[derive(Args, Clone, Default)]
pub struct ConnectionArgs {
    /// identify registry client using this SSL certificate file
    #[arg(long, default_value = "")]
    pub cert_file: String,
    /// identify registry client using this SSL key file
    #[arg(long, default_value = "")]
    pub key_file: String,
    /// verify certificates of HTTPS-enabled servers using this CA bundle
    #[arg(long, default_value = "")]
    pub ca_file: String,
    /// skip tls certificate checks for the chart upload
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// use insecure HTTP connections for the chart upload
    #[arg(long)]
    pub plain_http: bool,
    /// chart repository username where to locate the requested chart
    #[arg(long, default_value = "")]
    pub username: String,
    /// chart repository password where to locate the requested chart
    #[arg(long, default_value = "")]
    pub password: String,
}

impl ConnectionArgs {
    pub fn options(&self) -> RegistryOptions {
        RegistryOptions {
            plain_http: self.plain_http,
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

// `--post-renderer` and `--post-renderer-args` (template, install, upgrade, diff upgrade).
#[derive(Args, Clone, Default)]
pub struct PostRenderArgs {
    /// the name of a postrenderer type plugin to be used for post rendering. If it exists, the plugin will be used
    #[arg(long)]
    pub post_renderer: Option<String>,
    /// an argument to the post-renderer (can specify multiple)
    #[arg(long)]
    pub post_renderer_args: Vec<String>,
}

impl PostRenderArgs {
    /// The post-renderer to use, if one is named. As in Helm, a name that is no installed
    /// `postrenderer/v1` plugin is an error about the flag.
    pub fn renderer(
        &self,
        settings: &Settings,
    ) -> Result<Option<action::PostRenderer>, action::Error> {
        let Some(name) = self.post_renderer.as_deref().filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        let paths = &settings.paths;
        action::PostRenderer::find(
            &paths.plugins,
            name,
            self.post_renderer_args.clone(),
            settings.plugin_env(),
        )
        .map(Some)
        .map_err(|e| {
            action::Error::usage(format!(
                "invalid argument {name:?} for \"--post-renderer\" flag: {e}"
            ))
        })
    }
}

// The flags install and upgrade share: what goes into the action's `InstallOptions`. The
// help texts are install's; upgrade words some differently (its `mut_arg`s).
#[derive(Args)]
pub struct InstallUpgradeArgs {
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub render_apply: RenderApplyArgs,
    /// create the release namespace if not present
    #[arg(long)]
    pub create_namespace: bool,
    /// simulate an install: "client" renders only, "server" also consults the cluster
    #[arg(long, num_args = 0..=1, default_missing_value = "client", require_equals = true)]
    pub dry_run: Option<String>,
    /// add a custom description
    #[arg(long)]
    pub description: Option<String>,
    /// Labels that would be added to release metadata. Should be divided by comma.
    #[arg(short = 'l', long)]
    pub labels: Vec<String>,
    /// if set, Helm will uninstall the release on failure
    #[arg(long)]
    pub rollback_on_failure: bool,
    /// deprecated: --rollback-on-failure
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    pub atomic: u8,
    /// prevent hooks from running during install
    #[arg(long)]
    pub no_hooks: bool,
    /// if set, no CRDs will be installed
    #[arg(long)]
    pub skip_crds: bool,
    /// if set, install will ignore the check for helm annotations and take ownership of the existing resources
    #[arg(long)]
    pub take_ownership: bool,
    /// if set server-side apply will force changes against conflicts
    #[arg(long)]
    pub force_conflicts: bool,
    /// if set, disables JSON schema validation
    #[arg(long)]
    pub skip_schema_validation: bool,
    /// enable DNS lookups when rendering templates
    #[arg(long)]
    pub enable_dns: bool,
    /// if set, do not show notes in install output
    #[arg(long)]
    pub hide_notes: bool,
    /// update dependencies if they are missing before installing the chart
    #[arg(long)]
    pub dependency_update: bool,
    #[command(flatten)]
    pub chart_path: ChartPathArgs,
}

impl InstallUpgradeArgs {
    /// pflag's notice for `--atomic`, and the checks of the apply flags.
    pub fn check(&self) -> Result<(), Error> {
        warn_deprecated("atomic", self.atomic, "use --rollback-on-failure instead");
        self.render_apply.apply.check()
    }

    /// The action's options (`--dry-run` already parsed, since install needs it before it
    /// connects); `cancel_name` names the operation a signal cancels.
    pub fn install_options(
        &self,
        dry_run: rel::DryRun,
        cancel_name: &str,
        settings: &Settings,
    ) -> Result<rel::InstallOptions, Error> {
        Ok(rel::InstallOptions {
            values: self.values.clone().into(),
            create_namespace: self.create_namespace,
            dry_run,
            description: self.description.clone(),
            labels: rel::parse_labels(&self.labels)?,
            wait: self.wait.options()?,
            rollback_on_failure: self.rollback_on_failure || self.atomic > 0,
            no_hooks: self.no_hooks,
            skip_crds: self.skip_crds,
            take_ownership: self.take_ownership,
            replace: false,
            force_conflicts: self.force_conflicts,
            skip_schema_validation: self.skip_schema_validation,
            enable_dns: self.enable_dns,
            render_subchart_notes: self.render_apply.render_subchart_notes,
            post_renderer: self.render_apply.post_render.renderer(settings)?,
            hide_secret: self.render_apply.hide_secret,
            chart: action::ChartPathOptions {
                dependency_update: self.dependency_update,
                ..self.chart_path.clone().options(settings)?
            },
            log: crate::slog::stderr_sink(),
            cancel: crate::signals::cancel_on_signal(cancel_name),
            // install and upgrade have no --kube-version/--api-versions (template and diff do).
            kube_version: None,
            api_versions: Vec::new(),
        })
    }
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
        assert_eq!(
            parse_duration_flag("-1s", "timeout").unwrap(),
            Duration::ZERO
        );
        // pflag's wording around Go's error.
        assert_eq!(
            parse_duration_flag("5x", "timeout")
                .unwrap_err()
                .to_string(),
            r#"invalid argument "5x" for "--timeout" flag: time: unknown unit "x" in duration "5x""#
        );
        assert!(parse_duration_flag("", "timeout").is_err());
    }
}
