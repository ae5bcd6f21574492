//! `rudder repo add|list|remove|update|index` (Helm's pkg/cmd/repo_*.go).

use std::io::Write;

use clap::{Args, Subcommand};
use rudder_action::{self as action, Error};

use crate::flags::parse_duration_flag;
use crate::settings::Settings;

#[derive(Subcommand)]
pub enum RepoCommand {
    /// list chart repositories
    #[command(alias = "ls")]
    List {
        /// suppress headers in the output
        #[arg(long)]
        no_headers: bool,
        /// prints the output in the specified format. Allowed values: table, json, yaml
        #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json", "yaml"])]
        output: String,
    },
    /// add a chart repository
    Add(RepoAddArgs),
    /// remove one or more chart repositories
    #[command(alias = "rm")]
    Remove {
        /// [REPO1 [REPO2 ...]]
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// update information of available charts locally from chart repositories
    #[command(alias = "up")]
    Update {
        /// [REPO1 [REPO2 ...]]
        names: Vec<String>,
        /// time to wait for the index file download to complete
        #[arg(long, default_value = "2m0s")]
        timeout: String,
    },
    /// generate an index file given a directory containing packaged charts
    Index(RepoIndexArgs),
}

#[derive(Args)]
pub struct RepoAddArgs {
    /// NAME
    name: String,
    /// URL
    url: String,
    /// chart repository username
    #[arg(long, default_value = "")]
    username: String,
    /// chart repository password
    #[arg(long, default_value = "")]
    password: String,
    /// identify HTTPS client using this SSL certificate file
    #[arg(long, default_value = "")]
    cert_file: String,
    /// identify HTTPS client using this SSL key file
    #[arg(long, default_value = "")]
    key_file: String,
    /// verify certificates of HTTPS-enabled servers using this CA bundle
    #[arg(long, default_value = "")]
    ca_file: String,
    /// skip tls certificate checks for the repository
    #[arg(long)]
    insecure_skip_tls_verify: bool,
    /// pass credentials to all domains
    #[arg(long)]
    pass_credentials: bool,
    /// replace (overwrite) the repo if it already exists
    #[arg(long)]
    force_update: bool,
    /// read chart repository password from stdin
    #[arg(long)]
    password_stdin: bool,
    /// add repositories which are known to be deprecated (the old Kubernetes chart hosts)
    #[arg(long)]
    allow_deprecated_repos: bool,
    /// time to wait for the index file download to complete
    #[arg(long, default_value = "2m0s")]
    timeout: String,
}

/// The chart hosts Helm refuses without `--allow-deprecated-repos`, and where they moved.
const DEPRECATED_REPOS: &[(&str, &str)] = &[
    (
        "//kubernetes-charts.storage.googleapis.com",
        "https://charts.helm.sh/stable",
    ),
    (
        "//kubernetes-charts-incubator.storage.googleapis.com",
        "https://charts.helm.sh/incubator",
    ),
];

/// Helm's `repo add` password: from `--password`, else (with a username) from standard
/// input with `--password-stdin` or a prompt.
fn repo_add_password(a: &RepoAddArgs) -> Result<String, action::Error> {
    if a.username.is_empty() || !a.password.is_empty() {
        return Ok(a.password.clone());
    }
    let mut line = String::new();
    if a.password_stdin {
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut line).map_err(Error::io)?;
    } else {
        line = crate::prompt::read_hidden("Password: ").map_err(Error::io)?;
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_string())
}

#[derive(Args)]
pub struct RepoIndexArgs {
    /// DIR
    dir: String,
    /// url of chart repository
    #[arg(long, default_value = "")]
    url: String,
    /// merge the generated index into the given index
    #[arg(long)]
    merge: Option<String>,
    /// output in JSON format
    #[arg(long)]
    json: bool,
}

pub fn run(command: RepoCommand, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    match command {
        RepoCommand::Add(a) => {
            if !a.allow_deprecated_repos {
                if let Some((_, moved)) =
                    DEPRECATED_REPOS.iter().find(|(old, _)| a.url.contains(old))
                {
                    return Err(Error::message(format!(
                        "repo {:?} is no longer available; try {moved:?} instead",
                        a.url
                    )));
                }
            }
            let timeout = parse_duration_flag(&a.timeout, "timeout")?;
            let password = repo_add_password(&a)?;
            let options = action::RepoAddOptions {
                username: a.username,
                password,
                ca_file: a.ca_file,
                cert_file: a.cert_file,
                key_file: a.key_file,
                insecure_skip_tls_verify: a.insecure_skip_tls_verify,
                pass_credentials_all: a.pass_credentials,
                force_update: a.force_update,
                timeout,
            };
            let text = action::repo_add(&settings.paths, &a.name, &a.url, &options)?;
            out.write_all(text.as_bytes()).map_err(Error::io)?;
        }
        RepoCommand::List { no_headers, output } => {
            match action::repo_list_as(&settings.paths, no_headers, &output) {
                Some(text) => out.write_all(text.as_bytes()).map_err(Error::io)?,
                None => eprintln!("no repositories to show"),
            }
        }
        RepoCommand::Remove { names } => {
            let text = action::repo_remove(&settings.paths, &names)?;
            out.write_all(text.as_bytes()).map_err(Error::io)?;
        }
        RepoCommand::Update { names, timeout } => {
            let timeout = parse_duration_flag(&timeout, "timeout")?;
            action::repo_update(&settings.paths, &names, timeout, out)?;
        }
        RepoCommand::Index(r) => {
            action::repo_index(&r.dir, &r.url, r.merge.as_deref(), r.json)?;
        }
    }
    Ok(())
}
