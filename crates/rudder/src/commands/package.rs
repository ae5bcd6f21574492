//! `rudder package`: packs chart directories into archives (Helm's pkg/cmd/package.go),
//! with the signing flags (`--sign --key --keyring --passphrase-file`) as Helm's.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use crate::flags::ConnectionArgs;
use crate::settings::Settings;
use clap::Args;
use rudder_action::provenance;
use rudder_action::{self as action, Error};

#[derive(Args)]
#[command(
    mut_arg("cert_file", |a| a.help("identify HTTPS client using this SSL certificate file")),
    mut_arg("key_file", |a| a.help("identify HTTPS client using this SSL key file")),
    mut_arg("insecure_skip_tls_verify", |a| a.help("skip tls certificate checks for the chart download")),
    mut_arg("plain_http", |a| a.help("use insecure HTTP connections for the chart download")),
)]
pub struct PackageArgs {
    /// CHART_PATH (one or more chart folders)
    #[arg(required = true)]
    charts: Vec<String>,
    /// set the version on the chart to this semver version
    #[arg(long)]
    version: Option<String>,
    /// set the appVersion on the chart to this version
    #[arg(long)]
    app_version: Option<String>,
    /// location to write the chart.
    #[arg(short = 'd', long, default_value = ".")]
    destination: String,
    /// update dependencies from "Chart.yaml" to dir "charts/" before packaging
    #[arg(short = 'u', long)]
    dependency_update: bool,
    #[command(flatten)]
    sign: SignArgs,
    #[command(flatten)]
    registry: ConnectionArgs,
}

pub fn run(p: PackageArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let options = action::PackageOptions {
        overrides: action::MetadataOverrides {
            version: p.version,
            app_version: p.app_version,
        },
        destination: p.destination,
        dependency_update: p.dependency_update,
        // The registry client pulls OCI dependencies with -u.
        registry: p.registry.options(),
        keyring: p.sign.keyring.clone(),
        log: crate::slog::stderr_sink(),
    };
    p.sign.check()?;
    for chart in &p.charts {
        let path = action::package(&settings.paths, chart, &options, out)?;
        p.sign.sign(&path)?;
        writeln!(
            out,
            "Successfully packaged chart and saved it to: {}",
            path.display()
        )
        .map_err(Error::io)?;
    }
    Ok(())
}

// The signing flags of `rudder package`.
#[derive(Args)]
pub struct SignArgs {
    /// use a PGP private key to sign this package
    #[arg(long)]
    sign: bool,
    /// name of the key to use when signing. Used if --sign is true
    #[arg(long, default_value = "")]
    key: String,
    /// location of a public keyring
    #[arg(long, default_value_os_t = provenance::default_keyring())]
    keyring: PathBuf,
    /// location of a file which contains the passphrase for the signing key. Use "-" in order to read from stdin.
    #[arg(long)]
    passphrase_file: Option<String>,
}

impl SignArgs {
    /// Helm's checks before anything is packaged.
    pub fn check(&self) -> Result<(), action::Error> {
        if self.sign && self.key.is_empty() {
            return Err(action::Error::message(
                "--key is required for signing a package",
            ));
        }
        if self.sign && self.keyring.as_os_str().is_empty() {
            return Err(action::Error::message(
                "--keyring is required for signing a package",
            ));
        }
        Ok(())
    }

    /// With `--sign`, writes `<archive>.prov` beside the archive.
    pub fn sign(&self, archive: &Path) -> Result<(), action::Error> {
        if !self.sign {
            return Ok(());
        }
        let signer =
            provenance::Signer::from_keyring(&self.keyring, &self.key, |name| {
                match &self.passphrase_file {
                    Some(file) => read_passphrase_file(file),
                    None => prompt(name),
                }
            })?;
        provenance::sign_chart(archive, &signer)?;
        Ok(())
    }
}

/// The first line of the passphrase file (`-` is standard input).
pub(crate) fn read_passphrase_file(file: &str) -> Result<String, String> {
    let mut line = String::new();
    if file == "-" {
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
    } else {
        let f = std::fs::File::open(file).map_err(|e| format!("open {file}: {e}"))?;
        std::io::BufReader::new(f)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
    }
    let line = line.strip_suffix('\n').unwrap_or(&line);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

/// Asks for the passphrase on the terminal as Helm does, without echoing it.
pub(crate) fn prompt(name: &str) -> Result<String, String> {
    crate::prompt::read_hidden(&format!("Password for key {name:?} >  ")).map_err(|e| e.to_string())
}
