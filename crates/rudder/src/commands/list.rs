//! `rudder list`: the releases (Helm's pkg/cmd/list.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::OutputArgs;
use crate::output;
use crate::settings::Settings;

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    output: OutputArgs,
    /// show all releases without any filter applied
    #[arg(short = 'a', long)]
    all: bool,
    /// list releases across all namespaces
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// show deployed releases
    #[arg(long)]
    deployed: bool,
    /// show failed releases
    #[arg(long)]
    failed: bool,
    /// show pending releases
    #[arg(long)]
    pending: bool,
    /// show superseded releases
    #[arg(long)]
    superseded: bool,
    /// show uninstalled releases (if 'helm uninstall --keep-history' was used)
    #[arg(long)]
    uninstalled: bool,
    /// show releases that are currently being uninstalled
    #[arg(long)]
    uninstalling: bool,
    /// a regular expression (Perl compatible). Any releases that match the expression will be included in the results
    #[arg(short = 'f', long)]
    filter: Option<String>,
    /// output short (quiet) listing format
    #[arg(short = 'q', long)]
    short: bool,
    /// don't print headers when using the default output format
    #[arg(long)]
    no_headers: bool,
    /// sort by release date
    #[arg(short = 'd', long)]
    date: bool,
    /// reverse the sort order
    #[arg(short = 'r', long)]
    reverse: bool,
    /// maximum number of releases to fetch
    #[arg(short = 'm', long, default_value_t = 256)]
    max: usize,
    /// next release index in the list, used to offset from start value
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Works only for secret(default) and configmap storage backends.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// format time using golang time formatter. Example: --time-format "2006-01-02 15:04:05Z0700"
    #[arg(long)]
    time_format: Option<String>,
}

pub fn run(args: ListArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    let cluster = settings.connect()?;
    let opts = rel::ListOptions {
        all_namespaces: args.all_namespaces,
        all: args.all,
        deployed: args.deployed,
        failed: args.failed,
        pending: args.pending,
        superseded: args.superseded,
        uninstalled: args.uninstalled,
        uninstalling: args.uninstalling,
        filter: args.filter,
        by_date: args.date,
        reverse: args.reverse,
        max: args.max,
        offset: args.offset,
        selector: args.selector,
        time_format: args.time_format,
    };
    let (output, short, no_headers) = (args.output, args.short, args.no_headers);
    let rows = rel::list(&cluster, &opts)?;
    if short {
        let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
        match output.output.as_str() {
            "json" => write(&format!("{}\n", serde_json::json!(names))),
            "yaml" => write(&output::json_to_yaml(&serde_json::json!(names))),
            _ => {
                for n in names {
                    write(&format!("{n}\n"));
                }
            }
        }
        return Ok(());
    }
    match output.output.as_str() {
        "json" => {
            let list: Vec<_> = rows.iter().map(|r| r.to_json()).collect();
            write(&format!("{}\n", serde_json::Value::Array(list)));
        }
        "yaml" => {
            let list: Vec<_> = rows.iter().map(|r| r.to_json()).collect();
            write(&output::json_to_yaml(&serde_json::Value::Array(list)));
        }
        _ => {
            let mut table_rows = Vec::new();
            if !no_headers {
                table_rows.push(
                    [
                        "NAME",
                        "NAMESPACE",
                        "REVISION",
                        "UPDATED",
                        "STATUS",
                        "CHART",
                        "APP VERSION",
                    ]
                    .map(String::from)
                    .to_vec(),
                );
            }
            for r in rows {
                table_rows.push(vec![
                    r.name,
                    r.namespace,
                    r.revision,
                    r.updated,
                    r.status,
                    r.chart,
                    r.app_version,
                ]);
            }
            write(&output::table(table_rows));
        }
    }
    Ok(())
}
