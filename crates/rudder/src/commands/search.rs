//! `rudder search repo` (Helm's pkg/cmd/search_repo.go).

use std::io::Write;

use crate::settings::Settings;
use clap::{Args, Subcommand};
use rudder_action::{self as action, Error};

#[derive(Subcommand)]
pub enum SearchCommand {
    /// search repositories for a keyword in charts
    Repo(SearchRepoArgs),
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
    let SearchCommand::Repo(s) = command;
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
