//! `rudder test`: runs a release's test hooks (Helm's pkg/cmd/release_testing.go).

use std::io::Write;

use clap::Args;
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::parse_duration_flag;
use crate::settings::Settings;

#[derive(Args)]
pub struct TestArgs {
    /// RELEASE
    release: String,
    /// time to wait for any individual Kubernetes operation (like Jobs for hooks)
    #[arg(long, default_value = "5m0s")]
    timeout: String,
    /// dump the logs from test pods (this runs after all tests are complete, but before any cleanup)
    #[arg(long)]
    logs: bool,
    /// specify tests by attribute (currently "name") using attribute=value syntax or '!attribute=value' to exclude a test (can specify multiple or separate values with commas: name=test1,name=test2)
    #[arg(long, value_delimiter = ',')]
    filter: Vec<String>,
}

pub fn run(args: TestArgs, settings: &Settings, out: &mut dyn Write) -> Result<(), Error> {
    let mut write = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    let TestArgs {
        release,
        timeout,
        logs,
        filter,
    } = args;
    let cluster = settings.connect()?;
    let (include, exclude) = rel::parse_test_filters(&filter);
    let opts = rel::TestOptions {
        timeout: parse_duration_flag(&timeout, "timeout")?,
        include,
        exclude,
        logs,
    };
    let report = rel::test(&cluster, &release, &opts)?;
    write(&rel::status_text(
        &report.release,
        false,
        settings.debug,
        true,
    ));
    if logs {
        write("\n");
        write(&report.logs);
    }
    if let Some(e) = report.error {
        return Err(e);
    }
    Ok(())
}
