//! `rudder lint`: examines charts for possible issues (Helm's pkg/cmd/lint.go).

use std::io::Write;

use clap::Args;
use rudder_action::{self as action, Error};

use crate::flags::ValueArgs;
use crate::settings::Settings;

#[derive(Args)]
pub struct LintArgs {
    /// PATH...
    #[arg(required = true)]
    paths: Vec<String>,
    #[command(flatten)]
    values: ValueArgs,
    /// fail on lint warnings
    #[arg(long)]
    strict: bool,
    /// lint dependent charts
    #[arg(long)]
    with_subcharts: bool,
    /// print only warnings and errors
    #[arg(long)]
    quiet: bool,
    /// if set, disables JSON schema validation
    #[arg(long)]
    skip_schema_validation: bool,
    /// Kubernetes version used for capabilities and deprecation checks
    #[arg(long)]
    kube_version: Option<String>,
}

pub fn run(l: LintArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let namespace = settings.namespace_or_default();
    let options = action::LintOptions {
        namespace,
        values: l.values.into(),
        strict: l.strict,
        with_subcharts: l.with_subcharts,
        quiet: l.quiet,
        skip_schema_validation: l.skip_schema_validation,
        kube_version: l.kube_version,
        log: crate::slog::stderr_sink(),
    };
    let report = action::lint(&l.paths, &options);
    out.write_all(report.output.as_bytes()).map_err(Error::io)?;
    if let Some(summary) = report.failure {
        return Err(Error::message(summary));
    }
    Ok(())
}
