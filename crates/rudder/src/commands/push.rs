//! `rudder push`: uploads a chart archive to an OCI registry (Helm's pkg/cmd/push.go).

use std::io::Write;

use clap::Args;
use rudder_action::{self as action, Error};

use crate::settings::Settings;

use crate::flags::ConnectionArgs;

#[derive(Args)]
pub struct PushArgs {
    /// [chart]
    chart: String,
    /// [remote]
    remote: String,
    #[command(flatten)]
    connection: ConnectionArgs,
}

pub fn run(args: PushArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let text = action::push(
        &settings.paths,
        &args.chart,
        &args.remote,
        &args.connection.options(),
    )?;
    out.write_all(text.as_bytes()).map_err(Error::io)
}
