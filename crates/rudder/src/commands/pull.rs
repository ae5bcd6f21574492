//! `rudder pull`: downloads a chart, and optionally unpacks it (Helm's pkg/cmd/pull.go).

use std::io::Write;

use clap::Args;
use rudder_action::{self as action, Error};

use crate::flags::ConnectionArgs;
use crate::settings::Settings;

#[derive(Args)]
pub struct PullArgs {
    /// [chart URL | repo/chartname]
    #[arg(required = true)]
    charts: Vec<String>,
    /// specify a version constraint for the chart version to use
    #[arg(long, default_value = "")]
    version: String,
    /// use development versions, too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored.
    #[arg(long)]
    devel: bool,
    /// location to write the chart. If this and untardir are specified, untardir is appended to this
    #[arg(short = 'd', long, default_value = ".")]
    destination: String,
    /// if set to true, will untar the chart after downloading it
    #[arg(long)]
    untar: bool,
    /// if untar is specified, this flag specifies the name of the directory into which the chart is expanded
    #[arg(long, default_value = ".")]
    untardir: String,
    #[command(flatten)]
    registry: ConnectionArgs,
    /// verify the package before using it
    #[arg(long)]
    verify: bool,
    /// location of public keys used for verification
    #[arg(long, default_value_os_t = action::provenance::default_keyring())]
    keyring: std::path::PathBuf,
    /// chart repository url where to locate the requested chart
    #[arg(long, default_value = "")]
    repo: String,
    /// pass credentials to all domains
    #[arg(long)]
    pass_credentials: bool,
    /// fetch the provenance file, but don't perform verification
    #[arg(long)]
    prov: bool,
}

pub fn run(p: PullArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let options = action::PullOptions {
        version: p.version,
        devel: p.devel,
        destination: p.destination,
        untar: p.untar,
        untar_dir: p.untardir,
        registry: p.registry.options(),
        verify: p.verify,
        keyring: p.keyring,
        repo_url: p.repo,
        pass_credentials_all: p.pass_credentials,
        prov: p.prov,
    };
    for chart in &p.charts {
        let (_, text) = action::pull_with_output(&settings.paths, chart, &options)?;
        out.write_all(text.as_bytes()).map_err(Error::io)?;
    }
    Ok(())
}
