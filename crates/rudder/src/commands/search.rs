//! `rudder search repo` and `rudder search hub` (Helm's pkg/cmd/search_repo.go and
//! search_hub.go).

use std::io::Write;

use crate::settings::Settings;
use clap::{Args, Subcommand};
use rudder_action::{self as action, Error};

#[derive(Subcommand)]
pub enum SearchCommand {
    /// search repositories for a keyword in charts
    Repo(SearchRepoArgs),
    /// search for charts in the Artifact Hub or your own hub instance
    Hub(SearchHubArgs),
}

#[derive(Args)]
pub struct SearchHubArgs {
    /// [KEYWORD]
    keywords: Vec<String>,
    /// Hub instance to query for charts
    #[arg(long, default_value = action::DEFAULT_HUB_ENDPOINT)]
    endpoint: String,
    /// maximum column width for output table
    #[arg(long, default_value_t = 50)]
    max_col_width: usize,
    /// print charts repository URL
    #[arg(long)]
    list_repo_url: bool,
    /// search fails if no results are found
    #[arg(long)]
    fail_on_no_result: bool,
    /// prints the output in the specified format. Allowed values: table, json, yaml
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json", "yaml"])]
    output: String,
}

#[derive(Args)]
pub struct SearchRepoArgs {
    /// [KEYWORD]
    keywords: Vec<String>,
    /// use regular expressions for searching repositories you have added
    #[arg(short = 'r', long)]
    regexp: bool,
    /// show the long listing, with each version of each chart on its own line, for repositories you have added
    #[arg(short = 'l', long)]
    versions: bool,
    /// use development versions (alpha, beta, and release candidate releases), too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored
    #[arg(long)]
    devel: bool,
    /// search using semantic versioning constraints on repositories you have added
    #[arg(long, default_value = "")]
    version: String,
    /// maximum column width for output table
    #[arg(long, default_value_t = 50)]
    max_col_width: usize,
    /// search fails if no results are found
    #[arg(long)]
    fail_on_no_result: bool,
    /// prints the output in the specified format. Allowed values: table, json, yaml
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json", "yaml"])]
    output: String,
}

pub fn run(command: SearchCommand, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let s = match command {
        SearchCommand::Repo(s) => s,
        SearchCommand::Hub(h) => return run_hub(h, settings, out),
    };
    let options = action::SearchRepoOptions {
        search: action::SearchOptions {
            regexp: s.regexp,
            versions: s.versions,
            devel: s.devel,
            version: s.version,
        },
        max_col_width: s.max_col_width,
        fail_on_no_result: s.fail_on_no_result,
        output: s.output,
    };
    let (text, warnings) = action::search_repo(&settings.paths, &s.keywords, &options)?;
    for warning in &warnings {
        eprintln!("{}", crate::slog::text_line(warning));
    }
    out.write_all(text.as_bytes()).map_err(Error::io)?;
    Ok(())
}

fn run_hub(h: SearchHubArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let options = action::SearchHubOptions {
        endpoint: h.endpoint,
        max_col_width: h.max_col_width,
        list_repo_url: h.list_repo_url,
        fail_on_no_result: h.fail_on_no_result,
        output: h.output,
    };
    match action::search_hub(&h.keywords, &options) {
        Ok(text) => out.write_all(text.as_bytes()).map_err(Error::io),
        Err(e) => {
            // Helm: slog.Debug("search failed", slog.Any("error", err)).
            if let (true, action::SearchHubError::Hub(hub)) = (settings.debug, &e) {
                eprintln!(
                    "level=DEBUG msg=\"search failed\" error={}",
                    rudder_value::gofmt::quote(hub.cause())
                );
            }
            Err(e.into())
        }
    }
}
