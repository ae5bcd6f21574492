//! `rudder dependency list|update|build` (Helm's pkg/cmd/dependency*.go).

use std::io::Write;

use crate::flags::ConnectionArgs;
use crate::settings::Settings;
use clap::{Args, Subcommand};
use rudder_action::{self as action, Error};

#[derive(Subcommand)]
pub enum DependencyCommand {
    /// list the dependencies for the given chart
    #[command(alias = "ls")]
    List {
        /// CHART
        #[arg(default_value = ".")]
        chart: String,
        /// maximum column width for output table
        #[arg(long, default_value_t = 80)]
        max_col_width: usize,
    },
    /// update charts/ based on the contents of Chart.yaml
    #[command(alias = "up")]
    Update(DependencyUpdateArgs),
    /// rebuild the charts/ directory based on the Chart.lock file
    Build(DependencyUpdateArgs),
}

#[derive(Args)]
#[command(
    mut_arg("cert_file", |a| a.help("identify HTTPS client using this SSL certificate file")),
    mut_arg("key_file", |a| a.help("identify HTTPS client using this SSL key file")),
    mut_arg("insecure_skip_tls_verify", |a| a.help("skip tls certificate checks for the chart download")),
    mut_arg("plain_http", |a| a.help("use insecure HTTP connections for the chart download")),
)]
pub struct DependencyUpdateArgs {
    /// CHART
    #[arg(default_value = ".")]
    chart: String,
    /// verify the packages against signatures
    #[arg(long)]
    verify: bool,
    /// keyring containing public keys
    #[arg(long, default_value_os_t = rudder_action::provenance::default_keyring())]
    keyring: std::path::PathBuf,
    /// do not refresh the local repository cache
    #[arg(long)]
    skip_refresh: bool,
    #[command(flatten)]
    registry: ConnectionArgs,
}

impl DependencyUpdateArgs {
    fn options(&self, debug: bool) -> action::DependencyUpdateOptions {
        action::DependencyUpdateOptions {
            skip_refresh: self.skip_refresh,
            verify: self.verify,
            keyring: self.keyring.clone(),
            // Helm hands these to the registry client only (OCI dependencies); chart
            // repositories use their settings in repositories.yaml.
            registry: self.registry.options(),
            debug,
            log: crate::slog::stderr_sink(),
        }
    }
}

pub fn run(cmd: DependencyCommand, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let paths = settings.paths.clone();
    match cmd {
        DependencyCommand::List {
            chart,
            max_col_width,
        } => {
            let (rows, warnings) = action::dependency_list(&chart)?;
            if rows.is_empty() {
                let charts = std::path::Path::new(&chart).join("charts");
                writeln!(out, "WARNING: no dependencies at {}", charts.display())
                    .map_err(Error::io)?;
            } else {
                let mut table = vec![["NAME", "VERSION", "REPOSITORY", "STATUS"]
                    .map(String::from)
                    .to_vec()];
                table.extend(
                    rows.into_iter()
                        .map(|r| vec![r.name, r.version, r.repository, r.status]),
                );
                let text = action::table(&table, Some(max_col_width));
                writeln!(out, "{text}").map_err(Error::io)?;
                for warning in warnings {
                    writeln!(out, "{warning}").map_err(Error::io)?;
                }
            }
        }
        DependencyCommand::Update(a) => {
            action::dependency_update(&paths, &a.chart, &a.options(settings.debug), out)?;
        }
        DependencyCommand::Build(a) => {
            action::dependency_build(&paths, &a.chart, &a.options(settings.debug), out)?;
        }
    }
    Ok(())
}
