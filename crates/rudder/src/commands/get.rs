//! `rudder get all|values|manifest|notes|hooks|metadata` (Helm's pkg/cmd/get*.go).

use std::io::Write;

use clap::{Args, Subcommand};
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::OutputArgs;
use crate::output;
use crate::settings::Settings;

#[derive(Args)]
pub struct GetArgs {
    /// RELEASE_NAME
    release: String,
    /// get the named release with revision
    #[arg(long, default_value_t = 0)]
    revision: i64,
}

#[derive(Subcommand)]
pub enum GetCommand {
    /// download all information for a named release
    All {
        #[command(flatten)]
        get: GetArgs,
        /// go template for formatting the output, eg: {{.Release.Name}}
        #[arg(long)]
        template: Option<String>,
    },
    /// download the values file for a named release
    Values {
        #[command(flatten)]
        get: GetArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// dump all (computed) values
        #[arg(short = 'a', long)]
        all: bool,
    },
    /// download the manifest for a named release
    Manifest(GetArgs),
    /// download the notes for a named release
    Notes(GetArgs),
    /// download all hooks for a named release
    Hooks(GetArgs),
    /// This command fetches metadata for a given release
    Metadata {
        #[command(flatten)]
        get: GetArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
}

pub fn run(command: GetCommand, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    match command {
        GetCommand::All { get, template } => {
            let cluster = settings.connect()?;
            let r = rel::status(&cluster, &get.release, get.revision)?;
            match template.filter(|t| !t.is_empty()) {
                Some(text) => {
                    write(&crate::get_template::render(&text, &r).map_err(Error::message)?)
                }
                None => write(&rel::status_text(&r, true, true, false)),
            }
        }
        GetCommand::Values { get, output, all } => {
            let cluster = settings.connect()?;
            let (heading, values) = rel::get_values(&cluster, &get.release, get.revision, all)?;
            match output.output.as_str() {
                "json" => write(&format!(
                    "{}\n",
                    if values.is_null() {
                        serde_json::json!({})
                    } else {
                        values
                    }
                )),
                "yaml" => write(&rel::format_values_yaml(&values)),
                _ => {
                    write(&format!("{heading}\n"));
                    write(&rel::format_values_yaml(&values));
                }
            }
        }
        GetCommand::Manifest(g) => {
            let cluster = settings.connect()?;
            write(&format!(
                "{}\n",
                rel::get_manifest(&cluster, &g.release, g.revision)?
            ));
        }
        GetCommand::Notes(g) => {
            let cluster = settings.connect()?;
            write(&rel::get_notes(&cluster, &g.release, g.revision)?);
        }
        GetCommand::Hooks(g) => {
            let cluster = settings.connect()?;
            write(&rel::get_hooks(&cluster, &g.release, g.revision)?);
        }
        GetCommand::Metadata { get, output } => {
            let cluster = settings.connect()?;
            let m = rel::get_metadata(&cluster, &get.release, get.revision)?;
            match output.output.as_str() {
                "json" => write(&format!("{m}\n")),
                "yaml" => write(&output::json_to_yaml(&m)),
                _ => write(&rel::metadata_text(&m)),
            }
        }
    }
    Ok(())
}
