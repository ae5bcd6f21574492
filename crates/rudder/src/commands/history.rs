//! `rudder history`: a release's revisions (Helm's pkg/cmd/history.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::OutputArgs;
use crate::output;
use crate::settings::Settings;

#[derive(Args)]
pub struct HistoryArgs {
    /// RELEASE_NAME
    release: String,
    #[command(flatten)]
    output: OutputArgs,
    /// maximum number of revision to include in history
    #[arg(long, default_value_t = 256)]
    max: usize,
}

pub fn run(args: HistoryArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    let HistoryArgs {
        release,
        output,
        max,
    } = args;
    let cluster = settings.connect()?;
    let entries = rel::history(&cluster, &release, max)?;
    match output.output.as_str() {
        "json" => {
            let list: Vec<_> = entries.iter().map(|e| e.to_json()).collect();
            write(&format!("{}\n", serde_json::Value::Array(list)));
        }
        "yaml" => {
            let list: Vec<_> = entries.iter().map(|e| e.to_json()).collect();
            write(&output::json_to_yaml(&serde_json::Value::Array(list)));
        }
        _ => {
            let mut rows = vec![[
                "REVISION",
                "UPDATED",
                "STATUS",
                "CHART",
                "APP VERSION",
                "DESCRIPTION",
            ]
            .map(String::from)
            .to_vec()];
            for e in entries {
                rows.push(vec![
                    e.revision.to_string(),
                    e.updated_ansic,
                    e.status,
                    e.chart,
                    e.app_version,
                    e.description,
                ]);
            }
            write(&output::table(rows));
        }
    }
    Ok(())
}
