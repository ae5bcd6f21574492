//! `rudder upgrade`: upgrades a release, or installs it with `--install` (Helm's pkg/cmd/upgrade.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::{
    force_replace_check, parse_dry_run, warn_deprecated, ChartPathArgs, OutputArgs,
    RenderApplyArgs, ValueArgs, WaitArgs,
};
use crate::output;
use crate::settings::GlobalArgs;

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

pub fn run(a: UpgradeArgs, globals: &GlobalArgs, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    warn_deprecated("atomic", a.atomic, "use --rollback-on-failure instead");
    a.render_apply.apply.check()?;
    force_replace_check(a.render_apply.apply.force_replace(), a.force_conflicts)
        .map_err(|e| Error::message(format!("UPGRADE FAILED: {e}")))?;
    let cluster = globals.connect()?;
    let opts = rel::UpgradeOptions {
        install: rel::InstallOptions {
            values: a.values.into(),
            create_namespace: a.create_namespace,
            dry_run: parse_dry_run(&a.dry_run)?,
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
            post_renderer: a.render_apply.post_render.renderer(globals)?,
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
        write(&super::diff::upgrade_plan(
            &cluster, &a.release, &a.chart, &opts, a.install,
        )?);
        if a.confirm && !super::diff::confirmed()? {
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
        &mut output::progress_printer(),
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
    write(&output::print_release(
        &release,
        &a.output.output,
        a.hide_notes,
        globals.debug,
    )?);
    Ok(())
}
