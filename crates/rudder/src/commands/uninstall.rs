//! `rudder uninstall`: removes releases (Helm's pkg/cmd/uninstall.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::WaitArgs;
use crate::settings::Settings;

#[derive(Args)]
pub struct UninstallArgs {
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
}

pub fn run(args: UninstallArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    let UninstallArgs {
        releases,
        wait,
        keep_history,
        no_hooks,
        ignore_not_found,
        dry_run,
        description,
        cascade,
    } = args;
    let cluster = settings.connect()?;
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
    Ok(())
}
