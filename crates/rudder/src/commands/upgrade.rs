//! `rudder upgrade`: upgrades a release, or installs it with `--install` (Helm's pkg/cmd/upgrade.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::{force_replace_check, parse_dry_run, InstallUpgradeArgs};
use crate::output;
use crate::settings::Settings;

// Upgrade words some of the flags it shares with install differently.
#[derive(Args)]
#[command(
    mut_arg("skip_crds", |a| a.help("if set, no CRDs will be installed when an upgrade is performed with install flag enabled")),
    mut_arg("create_namespace", |a| a.help("create the release namespace if not present (with --install)")),
    mut_arg("dry_run", |a| a.help("simulate an upgrade")),
    mut_arg("labels", |a| a.help("Labels that would be added to release metadata")),
    mut_arg("rollback_on_failure", |a| a.help("if set, Helm will roll back the release to its previous revision on failure")),
    mut_arg("no_hooks", |a| a.help("disable pre/post upgrade hooks")),
    mut_arg("take_ownership", |a| a.help("if set, upgrade will ignore the check for helm annotations and take ownership of the existing resources")),
    mut_arg("hide_notes", |a| a.help("if set, do not show notes in upgrade output")),
)]
pub struct UpgradeArgs {
    /// RELEASE
    release: String,
    /// CHART
    chart: String,
    #[command(flatten)]
    common: InstallUpgradeArgs,
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
    /// print what the upgrade changes (as `rudder diff upgrade` does) before applying it
    #[arg(long)]
    diff: bool,
    /// with --diff, ask before applying when on a terminal
    #[arg(long, requires = "diff")]
    confirm: bool,
}

pub fn run(a: UpgradeArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    a.common.check()?;
    force_replace_check(
        a.common.render_apply.apply.force_replace(),
        a.common.force_conflicts,
    )
    .map_err(|e| Error::message(format!("UPGRADE FAILED: {e}")))?;
    let cluster = settings.connect()?;
    let dry_run = parse_dry_run(&a.common.dry_run)?;
    let opts = rel::UpgradeOptions {
        install: a.common.install_options(dry_run, &a.release, settings)?,
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
    if a.common.output.output == "table" {
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
        &a.common.output.output,
        a.common.hide_notes,
        settings.debug,
    )?);
    Ok(())
}
