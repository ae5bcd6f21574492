//! `rudder install`: installs a chart as a release (Helm's pkg/cmd/install.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::{self as action, Error};

use crate::flags::{parse_dry_run, InstallUpgradeArgs};
use crate::output;
use crate::settings::Settings;

#[derive(Args)]
pub struct InstallArgs {
    /// [NAME] [CHART]
    #[arg(num_args = 1..=2, required = true)]
    args: Vec<String>,
    #[command(flatten)]
    common: InstallUpgradeArgs,
    #[command(flatten)]
    naming: NamingArgs,
    /// reuse the given name, only if that name is a deleted release which remains in the history
    #[arg(long)]
    replace: bool,
}

// How a release is named when NAME is not given (install and template).
#[derive(Args)]
pub struct NamingArgs {
    /// generate the name (and omit the NAME parameter)
    #[arg(short = 'g', long)]
    pub generate_name: bool,
    /// specify template used to name the release
    #[arg(long)]
    pub name_template: Option<String>,
}

impl NamingArgs {
    /// Helm's `Install.NameAndChart`: the release name and the chart from `[NAME] CHART`.
    /// With one argument the name comes from `--name-template`, else `preset` (template's
    /// "release-name"), else `--generate-name`.
    pub fn name_and_chart(
        &self,
        args: &[String],
        preset: Option<&str>,
    ) -> Result<(String, String), Error> {
        let name_template = self.name_template.as_deref().unwrap_or("");
        match args {
            [_, _] if self.generate_name => Err(Error::message(
                "cannot set --generate-name and also specify a name",
            )),
            [_, _] if !name_template.is_empty() => Err(Error::message(
                "cannot set --name-template and also specify a name",
            )),
            [name, chart] => Ok((name.clone(), chart.clone())),
            [chart] if !name_template.is_empty() => {
                Ok((action::template_name(name_template)?, chart.clone()))
            }
            [chart] => match preset {
                Some(name) => Ok((name.to_string(), chart.clone())),
                None if self.generate_name => Ok((action::generate_name(chart), chart.clone())),
                None => Err(Error::message(
                    "must either provide a name or specify --generate-name",
                )),
            },
            _ => Err(Error::usage("expected [NAME] CHART")),
        }
    }
}

pub fn run(a: InstallArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let failed = |e: Error| Error::message(format!("INSTALLATION FAILED: {e}"));
    a.common.check()?;
    let (name, chart) = a.naming.name_and_chart(&a.args, None).map_err(failed)?;
    let dry_run = parse_dry_run(&a.common.dry_run)?;
    let cluster = settings.connect_or_offline(dry_run == rel::DryRun::Client)?;
    let opts = rel::InstallOptions {
        replace: a.replace,
        ..a.common.install_options(dry_run, &a.args[0], settings)?
    };
    let release = rel::install(
        &cluster,
        &name,
        &chart,
        &opts,
        &mut output::progress_printer(),
    )
    .map_err(failed)?;
    let text = output::print_release(
        &release,
        &a.common.output.output,
        a.common.hide_notes,
        settings.debug,
    )?;
    let _ = out.write_all(text.as_bytes());
    Ok(())
}
