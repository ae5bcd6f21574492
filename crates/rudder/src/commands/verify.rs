//! `rudder verify`: checks a chart archive's signature (Helm's pkg/cmd/verify.go).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use rudder_action as action;
use rudder_action::provenance;

// `rudder verify PATH`
#[derive(Args)]
pub struct VerifyArgs {
    /// PATH of the chart archive (its provenance file is PATH.prov)
    path: String,
    /// keyring containing public keys
    #[arg(long, default_value_os_t = provenance::default_keyring())]
    keyring: PathBuf,
}

/// Runs `rudder verify`, printing what Helm prints.
pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<(), action::Error> {
    let path = Path::new(&args.path);
    let mut prov = path.as_os_str().to_owned();
    prov.push(".prov");
    let verification = provenance::verify_chart(path, Path::new(&prov), &args.keyring)?;
    out.write_all(verification.report().as_bytes())
        .map_err(action::Error::io)
}
