//! `rudder install`: installs a chart as a release (Helm's pkg/cmd/install.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::{
    parse_dry_run, warn_deprecated, ChartPathArgs, OutputArgs, RenderApplyArgs, ValueArgs, WaitArgs,
};
use crate::output;
use crate::settings::GlobalArgs;
use rudder_action as action;

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

pub fn run(a: InstallArgs, globals: &GlobalArgs, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    warn_deprecated("atomic", a.atomic, "use --rollback-on-failure instead");
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
    let dry_run = parse_dry_run(&a.dry_run)?;
    let cluster = globals.connect_or_offline(dry_run == rel::DryRun::Client)?;
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
        post_renderer: a.render_apply.post_render.renderer(globals)?,
        hide_secret: a.render_apply.hide_secret,
        chart: rudder_action::ChartPathOptions {
            dependency_update: a.dependency_update,
            ..a.chart_path.options()?
        },
        log: crate::slog::stderr_sink(),
        cancel: crate::signals::cancel_on_signal(&a.args[0]),
    };
    let release = rel::install(
        &cluster,
        &name,
        &chart,
        &opts,
        &mut output::progress_printer(),
    )
    .map_err(|e| Error::message(format!("INSTALLATION FAILED: {e}")))?;
    write(&output::print_release(
        &release,
        &a.output.output,
        a.hide_notes,
        globals.debug,
    )?);
    Ok(())
}
