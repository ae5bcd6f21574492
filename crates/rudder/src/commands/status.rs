//! `rudder status`: a release's state (Helm's pkg/cmd/status.go), with `--drift`.

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::OutputArgs;
use crate::output;
use crate::settings::Settings;

#[derive(Args)]
pub struct StatusArgs {
    /// RELEASE_NAME
    release: String,
    #[command(flatten)]
    output: OutputArgs,
    /// if set, display the status of the named release with revision
    #[arg(long, default_value_t = 0)]
    revision: i64,
    /// also list the release's objects changed or deleted behind its back, and by whom
    #[arg(long)]
    drift: bool,
}

pub fn run(args: StatusArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    let StatusArgs {
        release,
        output,
        revision,
        drift,
    } = args;
    let cluster = settings.connect()?;
    let r = rel::status(&cluster, &release, revision)?;
    if output.output == "table" {
        // As Helm v4, the table shows the live objects, as the API server tables them.
        let resources = rel::resources_text(&cluster, &r)?;
        write(&rel::status_text_with_resources(
            &r,
            false,
            settings.debug,
            false,
            &resources,
        ));
    } else {
        // As Helm v4, -o json/yaml carry the live objects in info.resources.
        let json = rel::status_json(&cluster, &r)?;
        write(&match output.output.as_str() {
            "json" => format!("{json}\n"),
            _ => output::json_to_yaml(&json),
        });
    }
    if drift {
        write(&super::diff::drift_section(&cluster, &release)?);
    }
    Ok(())
}
