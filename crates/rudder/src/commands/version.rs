//! `rudder version` (Helm's pkg/cmd/version.go).

use std::io::Write;

use clap::Args;
use rudder_action::{self as action, Error};

#[derive(Args)]
pub struct VersionArgs {
    /// print the version number
    #[arg(long)]
    short: bool,
    /// template for version string format
    #[arg(long)]
    template: Option<String>,
}

pub fn run(args: &VersionArgs, out: &mut dyn Write) -> Result<(), Error> {
    let text = action::version_text(args.short, args.template.as_deref())?;
    out.write_all(text.as_bytes()).map_err(Error::io)
}
