//! `rudder show all|chart|values|readme|crds` (Helm's pkg/cmd/show.go).

use std::io::Write;

use clap::{Args, Subcommand};
use rudder_action::{self as action, Error};

use crate::flags::ChartPathArgs;
use crate::settings::Settings;

#[derive(Subcommand)]
pub enum ShowCommand {
    /// show all information of the chart
    All(ShowArgs),
    /// show the chart's definition
    Chart(ShowArgs),
    /// show the chart's values
    Values(ShowValuesArgs),
    /// show the chart's README
    Readme(ShowArgs),
    /// show the chart's CRDs
    Crds(ShowArgs),
}

#[derive(Args)]
pub struct ShowValuesArgs {
    #[command(flatten)]
    show: ShowArgs,
    /// supply a JSONPath expression to filter the output
    #[arg(long, default_value = "")]
    jsonpath: String,
}

#[derive(Args)]
pub struct ShowArgs {
    /// CHART
    chart: String,
    #[command(flatten)]
    chart_path: ChartPathArgs,
}

pub fn run(s: ShowCommand, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let (what, args, jsonpath) = match s {
        ShowCommand::All(a) => (action::ShowWhat::All, a, String::new()),
        ShowCommand::Chart(a) => (action::ShowWhat::Chart, a, String::new()),
        ShowCommand::Values(a) => (action::ShowWhat::Values, a.show, a.jsonpath),
        ShowCommand::Readme(a) => (action::ShowWhat::Readme, a, String::new()),
        ShowCommand::Crds(a) => (action::ShowWhat::Crds, a, String::new()),
    };
    let text = action::show(
        &args.chart,
        what,
        &jsonpath,
        &args.chart_path.options(settings)?,
        &crate::slog::stderr_sink(),
    )?;
    out.write_all(text.as_bytes()).map_err(Error::io)?;
    Ok(())
}
