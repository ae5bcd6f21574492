//! `rudder template`: renders a chart locally (Helm's pkg/cmd/template.go).

use std::io::Write;

use clap::Args;
use rudder_action::{self as action, Error};

use super::install::NamingArgs;
use crate::flags::{warn_deprecated, ChartPathArgs, PostRenderArgs, ValueArgs, WaitArgs};
use crate::settings::Settings;

#[derive(Args)]
pub struct TemplateArgs {
    /// [NAME] CHART
    #[arg(num_args = 1..=2, required = true)]
    args: Vec<String>,
    #[command(flatten)]
    values: ValueArgs,
    #[command(flatten)]
    naming: NamingArgs,
    /// only show manifests rendered from the given templates
    #[arg(short = 's', long = "show-only")]
    show_only: Vec<String>,
    /// writes the executed templates to files in output-dir instead of stdout
    #[arg(long)]
    output_dir: Option<String>,
    /// use release name in the output-dir path.
    #[arg(long = "release-name")]
    release_name_dir: bool,
    /// include CRDs in the templated output
    #[arg(long)]
    include_crds: bool,
    /// if set, no CRDs will be installed. By default, CRDs are installed if not already present
    #[arg(long)]
    skip_crds: bool,
    /// skip tests from templated output
    #[arg(long)]
    skip_tests: bool,
    /// prevent hooks from running during install
    #[arg(long)]
    no_hooks: bool,
    /// set .Release.IsUpgrade instead of .Release.IsInstall
    #[arg(long)]
    is_upgrade: bool,
    /// Kubernetes version used for Capabilities.KubeVersion
    #[arg(long)]
    kube_version: Option<String>,
    /// Kubernetes api versions used for Capabilities.APIVersions (multiple can be specified)
    #[arg(short = 'a', long = "api-versions", value_delimiter = ',')]
    api_versions: Vec<String>,
    /// if set, disables JSON schema validation
    #[arg(long)]
    skip_schema_validation: bool,
    /// enable DNS lookups when rendering templates
    #[arg(long)]
    enable_dns: bool,
    /// hide Kubernetes Secrets from the output
    #[arg(long)]
    hide_secret: bool,
    /// simulate the operation client-side ("client") or server-side ("server")
    #[arg(long, default_value = "client", num_args = 0..=1, default_missing_value = "client")]
    dry_run: String,
    /// update dependencies if they are missing before installing the chart
    #[arg(long)]
    dependency_update: bool,
    #[command(flatten)]
    chart_path: ChartPathArgs,
    #[command(flatten)]
    install: TemplateInstallArgs,
}

// `helm install`'s flags that `helm template` accepts too. Only `--name-template` changes
// what a client-side render prints; the others are checked and otherwise have no effect, as
// in Helm.
#[derive(Args)]
pub struct TemplateInstallArgs {
    /// create the release namespace if not present
    #[arg(long)]
    create_namespace: bool,
    /// add a custom description
    #[arg(long)]
    description: Option<String>,
    /// if set, the installation process will not validate rendered templates against the Kubernetes OpenAPI Schema
    #[arg(long)]
    disable_openapi_validation: bool,
    /// if set server-side apply will force changes against conflicts
    #[arg(long)]
    force_conflicts: bool,
    /// force resource updates by replacement
    #[arg(long)]
    force_replace: bool,
    /// object updates run in the server instead of the client
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    server_side: Option<bool>,
    /// Labels that would be added to release metadata. Should be divided by comma.
    #[arg(short = 'l', long)]
    labels: Vec<String>,
    /// reuse the given name, only if that name is a deleted release which remains in the history. This is unsafe in production
    #[arg(long)]
    replace: bool,
    /// if set, Helm will rollback (uninstall) the installation upon failure
    #[arg(long)]
    rollback_on_failure: bool,
    /// if set, install will ignore the check for helm annotations and take ownership of the existing resources
    #[arg(long)]
    take_ownership: bool,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    post_render: PostRenderArgs,
    // Deprecated flags: hidden, and warned about each time they are given (as pflag does).
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    atomic: u8,
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    force: u8,
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    hide_notes: u8,
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    render_subchart_notes: u8,
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    validate: u8,
}

impl TemplateInstallArgs {
    /// Prints pflag's deprecation notices and refuses what rudder cannot do.
    fn check(&self) -> Result<(), Error> {
        let no_effect = "this flag has no effect for 'helm template' and will be removed in Helm 5";
        warn_deprecated("atomic", self.atomic, "use --rollback-on-failure instead");
        warn_deprecated("force", self.force, "use --force-replace instead");
        warn_deprecated("hide-notes", self.hide_notes, no_effect);
        warn_deprecated(
            "render-subchart-notes",
            self.render_subchart_notes,
            no_effect,
        );
        warn_deprecated("validate", self.validate, "use '--dry-run=server' instead");
        self.wait.options()?;
        action::release::parse_labels(&self.labels)?;
        Ok(())
    }
}

pub fn run(t: TemplateArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let namespace = settings.namespace_or_default();
    t.install.check()?;
    // Helm's `NameAndChart` with the release name preset to "release-name", so that
    // --generate-name has no effect with one argument.
    let (name, chart) = t.naming.name_and_chart(&t.args, Some("release-name"))?;
    if t.dry_run != "client" && t.dry_run != "server" {
        return Err(Error::usage(format!(
            "invalid dry-run value ({}). Must be \"server\" or \"client\"",
            t.dry_run
        )));
    }
    // --validate is the deprecated spelling of --dry-run=server.
    let server = if t.dry_run == "server" || t.install.validate > 0 {
        let cluster = settings.connect()?;
        Some(action::release::server_render(&cluster)?)
    } else {
        None
    };
    let options = action::TemplateOptions {
        release_name: name,
        namespace,
        values: t.values.into(),
        kube_version: t.kube_version,
        api_versions: t.api_versions,
        is_upgrade: t.is_upgrade,
        include_crds: t.include_crds,
        skip_tests: t.skip_tests,
        no_hooks: t.no_hooks,
        show_only: t.show_only,
        output_dir: t.output_dir,
        use_release_name: t.release_name_dir,
        skip_schema_validation: t.skip_schema_validation,
        enable_dns: t.enable_dns,
        hide_secret: t.hide_secret,
        debug: settings.debug,
        chart: action::ChartPathOptions {
            dependency_update: t.dependency_update,
            ..t.chart_path.options(settings)?
        },
        log: crate::slog::stderr_sink(),
        server,
        skip_crds: t.skip_crds,
        post_renderer: t.install.post_render.renderer(settings)?,
    };
    let text = action::template(&chart, &options)?;
    out.write_all(text.as_bytes()).map_err(Error::io)?;
    Ok(())
}
