//! `rudder create NAME [--starter STARTER]` (Helm's `pkg/cmd/create.go`); the scaffold
//! and the starter copy are rudder-action's.

use std::io::Write;

use clap::Args;
use rudder_action as action;

use crate::settings::Settings;

#[derive(Args)]
pub struct CreateArgs {
    /// NAME of the chart (a path: the chart is made in its last folder)
    name: String,
    /// the name or absolute path to Helm starter scaffold
    #[arg(long, short = 'p', default_value = "")]
    starter: String,
    /// chart API version to use (v2 only)
    #[arg(long, default_value = "v2", hide = true)]
    chart_api_version: String,
}

pub fn run(
    args: &CreateArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), action::Error> {
    writeln!(out, "Creating {}", args.name).map_err(action::Error::io)?;
    match args.chart_api_version.as_str() {
        "v2" | "" => {}
        // Helm's v3 charts are behind a feature gate rudder does not have.
        other => {
            return Err(action::Error::message(format!(
                "unsupported chart API version: {other} (supported: v2, v3)"
            )))
        }
    }
    if args.starter.is_empty() {
        action::create(&args.name, out)?;
    } else {
        action::create_from_starter(&args.name, &args.starter, &settings.paths.data_home)?;
    }
    Ok(())
}
