//! `rudder env [NAME]`: Helm's settings as environment variables (Helm's pkg/cmd/env.go).

use std::io::Write;

use clap::Args;
use rudder_action::Error;

use crate::settings::Settings;

#[derive(Args)]
pub struct EnvArgs {
    /// [NAME]
    name: Option<String>,
}

pub fn run(args: &EnvArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let text = settings.env_text(args.name.as_deref());
    out.write_all(text.as_bytes()).map_err(Error::io)
}
