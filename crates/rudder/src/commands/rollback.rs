//! `rudder rollback`: rolls a release back to a previous revision (Helm's pkg/cmd/rollback.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::{force_replace_check, parse_dry_run, ApplyMethodArgs, WaitArgs};
use crate::output;
use crate::settings::Settings;

#[derive(Args)]
pub struct RollbackArgs {
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
}

pub fn run(args: RollbackArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    let RollbackArgs {
        release,
        revision,
        wait,
        no_hooks,
        dry_run,
        history_max,
        cleanup_on_fail,
        force_conflicts,
        apply,
    } = args;
    apply.check()?;
    force_replace_check(apply.force_replace(), force_conflicts)?;
    let cluster = settings.connect()?;
    let opts = rel::RollbackOptions {
        revision: revision.unwrap_or(0),
        wait: wait.options()?,
        no_hooks,
        dry_run: parse_dry_run(&dry_run)? != rel::DryRun::None,
        history_max,
        cleanup_on_fail,
        force_conflicts,
        cancel: crate::signals::cancel_on_signal(&release),
        log: crate::slog::stderr_sink(),
    };
    rel::rollback(&cluster, &release, &opts, &mut output::progress_printer())?;
    write("Rollback was a success! Happy Helming!\n");
    Ok(())
}
