//! `rudder diff`: the helm-diff plugin's command line (databus23/helm-diff v3), built in.
//! `rudder diff upgrade RELEASE CHART` previews an upgrade; `rollback`, `revision` and
//! `release` compare stored revisions. Flags, defaults and HELM_DIFF_* variables follow
//! helm-diff's cmd/ package; the comparison lives in `rudder_action::diff`.

use std::io::{IsTerminal, Write};

use clap::{Args, Subcommand};
use rudder_action::diff::{self, release as sources, DiffOptions, Format, SecretView};
use rudder_action::release as rel;
use rudder_action::Error;

use crate::flags::{ChartPathArgs, PostRenderArgs, ValueArgs};
use crate::settings::Settings;

/// The version of helm-diff whose command line rudder follows (`rudder diff version`).
const HELM_DIFF_VERSION: &str = "3.15.11";

#[derive(Subcommand)]
pub enum DiffCommand {
    /// Show a diff explaining what a helm upgrade would change
    Upgrade(Box<UpgradeArgs>),
    /// Show a diff explaining what a helm rollback could perform
    Rollback {
        /// RELEASE
        release: String,
        /// [REVISION] (default: the revision before the last)
        revision: Option<i64>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Shows diff between revision's manifests
    Revision {
        /// RELEASE
        release: String,
        /// REVISION1 [REVISION2]
        #[arg(required = true, num_args = 1..=2)]
        revisions: Vec<i64>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Shows diff between release's manifests
    Release {
        /// [NAMESPACE/]RELEASE1 [NAMESPACE/]RELEASE2
        #[arg(required = true, num_args = 2)]
        releases: Vec<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Show the objects of a release changed or deleted behind its back (drift), and who changed them
    Drift {
        /// RELEASE
        release: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Show version of the helm diff plugin
    Version,
}

// Flags every diff subcommand takes (helm-diff's `AddDiffOptions` and the colour flags).
#[derive(Args, Clone)]
pub struct CommonArgs {
    /// suppress secrets in the output
    #[arg(short = 'q', long)]
    suppress_secrets: bool,
    /// do not redact secret values in the output
    #[arg(long)]
    show_secrets: bool,
    /// decode secret values in the output
    #[arg(long)]
    show_secrets_decoded: bool,
    /// allows suppression of the kinds listed in the diff output (can specify multiple, like '--suppress Deployment --suppress Service')
    #[arg(long = "suppress")]
    suppress: Vec<String>,
    /// output NUM lines of context around changes
    #[arg(short = 'C', long, allow_negative_numbers = true)]
    context: Option<i64>,
    /// Possible values: diff, simple, template, json, structured, dyff. When set to "template", use the env var HELM_DIFF_TPL to specify the template.
    #[arg(long)]
    output: Option<String>,
    /// strip trailing carriage return on input
    #[arg(long)]
    strip_trailing_cr: bool,
    /// Enable rename detection if set to any value greater than 0: the maximum fraction of changed lines for two objects of one kind to be shown as a rename
    #[arg(short = 'D', long, default_value_t = 0.0)]
    find_renames: f32,
    /// a regex to suppress diff output lines that match
    #[arg(long)]
    suppress_output_line_regex: Vec<String>,
    /// normalize manifests before running diff to exclude style differences from the output
    #[arg(long)]
    normalize_manifests: bool,
    /// enable the diffing of the helm test hooks
    #[arg(long)]
    include_tests: bool,
    /// return a non-zero exit code when there are changes (2)
    #[arg(long)]
    detailed_exitcode: bool,
    /// remove colors from the output
    #[arg(long)]
    no_color: bool,
    /// color output. You can control the value for this flag via HELM_DIFF_COLOR=[true|false]
    // A string: it shares its id with the global `--color` (Helm's never/auto/always), which
    // this definition replaces under `diff`; a bool here made reading the global one panic.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    color: Option<String>,
}

#[derive(Args)]
pub struct UpgradeArgs {
    /// RELEASE
    release: String,
    /// CHART
    chart: String,
    #[command(flatten)]
    values: ValueArgs,
    #[command(flatten)]
    chart_path: ChartPathArgs,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    post_render: PostRenderArgs,
    /// reuse the last release's values and merge in any new values. If '--reset-values' is specified, this is ignored
    #[arg(long)]
    reuse_values: bool,
    /// reset the values to the ones built into the chart and merge in any new values
    #[arg(long)]
    reset_values: bool,
    /// reset the values to the ones built into the chart, apply the last release's values and merge in any new values
    #[arg(long)]
    reset_then_reuse_values: bool,
    /// enables diffing of releases that are not yet deployed via Helm
    #[arg(long)]
    allow_unreleased: bool,
    /// enables diffing of releases that are not yet deployed via Helm (equivalent to --allow-unreleased)
    #[arg(long)]
    install: bool,
    /// disable diffing of hooks
    #[arg(long)]
    no_hooks: bool,
    /// --dry-run or --dry-run=client: no cluster access, the diff shown as if it was an install
    #[arg(long, num_args = 0..=1, default_missing_value = "client", require_equals = true)]
    dry_run: Option<String>,
    /// if set, upgrade will ignore the check for helm annotations and take ownership of the existing resources
    #[arg(long)]
    take_ownership: bool,
    /// compare the live objects with what a server-side apply of the new render would store (HELM_DIFF_THREE_WAY_MERGE)
    #[arg(long)]
    three_way_merge: bool,
    /// skip validation of the values against the chart's schema
    #[arg(long)]
    skip_schema_validation: bool,
    /// enable DNS lookups when rendering templates
    #[arg(long)]
    enable_dns: bool,
    /// Kubernetes version used for Capabilities.KubeVersion
    #[arg(long)]
    kube_version: Option<String>,
    /// Kubernetes api versions used for Capabilities.APIVersions
    #[arg(short = 'a', long = "api-versions")]
    api_versions: Vec<String>,
    /// disables rendered templates validation against the Kubernetes cluster you are currently pointing to. This is the same validation performed on an install
    #[arg(long)]
    disable_validation: bool,
}

/// Reads the shared flags and helm-diff's environment variables (HELM_DIFF_OUTPUT,
/// HELM_DIFF_OUTPUT_CONTEXT, HELM_DIFF_NORMALIZE_MANIFESTS, HELM_DIFF_COLOR, HELM_DIFF_TPL):
/// a flag given wins over its variable.
fn read_options(c: &CommonArgs) -> Result<sources::ReadOptions, Error> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let output = c
        .output
        .clone()
        .or_else(|| env("HELM_DIFF_OUTPUT"))
        .unwrap_or_else(|| "diff".into());
    let format = Format::parse(output.trim()).map_err(Error::usage)?;
    let context = match c.context {
        Some(n) => n,
        None => env("HELM_DIFF_OUTPUT_CONTEXT")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(-1),
    };
    let normalize =
        c.normalize_manifests || env("HELM_DIFF_NORMALIZE_MANIFESTS").as_deref() == Some("true");
    let color_env = env("HELM_DIFF_COLOR").and_then(|v| parse_go_bool(&v));
    let forced = match c.color.as_deref() {
        Some(v) => Some(parse_colour_flag(v)?),
        None => color_env,
    };
    let color = if c.no_color {
        false
    } else if let Some(forced) = forced {
        forced
    } else if format == Format::Dyff {
        // dyff colours only when asked (helm-diff v3.15.11 cmd/root.go lines 65-78 turn
        // bunt off unless --color or HELM_DIFF_COLOR says true).
        false
    } else {
        terminal_colour()
    };
    let secrets = if c.show_secrets_decoded {
        SecretView::Decoded
    } else if c.show_secrets {
        SecretView::AsIs
    } else {
        SecretView::Masked
    };
    let mut suppressed_kinds = c.suppress.clone();
    if c.suppress_secrets {
        suppressed_kinds.push("Secret".into());
    }
    let suppressed_lines =
        diff::compile_line_patterns(&c.suppress_output_line_regex).map_err(Error::usage)?;
    let template = match (format, env("HELM_DIFF_TPL")) {
        (Format::Template, Some(path)) => {
            Some(std::fs::read_to_string(&path).map_err(|e| {
                Error::message(format!("Error loading custom template {path:?}: {e}"))
            })?)
        }
        _ => None,
    };
    Ok(sources::ReadOptions {
        include_tests: c.include_tests,
        normalize,
        diff: DiffOptions {
            format,
            context,
            strip_trailing_cr: c.strip_trailing_cr,
            secrets,
            suppressed_kinds,
            find_renames: c.find_renames,
            suppressed_lines,
            color,
            template,
            terminal_width: terminal_width(),
        },
    })
}

/// The terminal's width for dyff's layout, or dyff's fallback of 80 columns when stdout is
/// not a terminal (gonvenience/term `GetTerminalSize`).
fn terminal_width() -> usize {
    match terminal_size::terminal_size_of(std::io::stdout()) {
        Some((terminal_size::Width(w), _)) if w > 0 => w as usize,
        _ => 80,
    }
}

/// Colour when stdout is a terminal (and TERM is not dumb), as helm-diff decides.
fn terminal_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var("TERM").as_deref() != Ok("dumb")
}

/// `rudder upgrade --diff`: what the upgrade changes, in the diff format, before it runs.
pub fn upgrade_plan(
    cluster: &rel::Cluster,
    name: &str,
    chart: &str,
    upgrade: &rel::UpgradeOptions,
    install: bool,
) -> Result<String, Error> {
    let read = sources::ReadOptions {
        diff: DiffOptions {
            color: terminal_colour(),
            ..DiffOptions::default()
        },
        ..Default::default()
    };
    let opts = sources::DiffUpgradeOptions {
        upgrade: upgrade.clone(),
        allow_unreleased: install,
        client_only: false,
        client_render: false,
        three_way_merge: false,
        read,
    };
    let outcome = sources::diff_upgrade(cluster, name, chart, &opts)?;
    let text = outcome
        .report
        .render(&opts.read.diff)
        .map_err(Error::typed)?;
    Ok(if outcome.report.seen_changes {
        text
    } else {
        "No changes.\n".to_string()
    })
}

/// `--confirm`: asks on the terminal; without one (a pipeline) the answer is yes, since the
/// plan was printed and nobody can answer.
pub fn confirmed() -> Result<bool, Error> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    eprint!("Apply these changes? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(Error::io)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// `rudder status --drift`: a DRIFT section after the status.
pub fn drift_section(cluster: &rel::Cluster, name: &str) -> Result<String, Error> {
    let read = sources::ReadOptions {
        diff: DiffOptions {
            color: terminal_colour(),
            context: 3,
            ..DiffOptions::default()
        },
        ..Default::default()
    };
    let outcome = diff::drift(cluster, name, &read)?;
    let body = if outcome.report.entries.is_empty() {
        "none: every object is as the release applied it\n".to_string()
    } else {
        outcome.report.render(&read.diff).map_err(Error::typed)?
    };
    Ok(format!("DRIFT:\n{body}"))
}

/// `--color[=BOOL]` (pflag's bool syntax), also taking Helm's global `always`/`never`.
fn parse_colour_flag(v: &str) -> Result<bool, Error> {
    match v {
        "always" => Ok(true),
        "never" => Ok(false),
        other => parse_go_bool(other).ok_or_else(|| {
            Error::usage(format!(
                "invalid argument {other:?} for \"--color\" flag: strconv.ParseBool: parsing {other:?}: invalid syntax"
            ))
        }),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Runs a diff command; returns the process exit code (2 for changes under
/// `--detailed-exitcode`).
pub fn run(command: DiffCommand, settings: &Settings, out: &mut dyn Write) -> Result<u8, Error> {
    let (outcome, common) = match command {
        DiffCommand::Version => {
            writeln!(out, "{HELM_DIFF_VERSION}").map_err(Error::io)?;
            return Ok(0);
        }
        DiffCommand::Upgrade(a) => {
            let a = *a;
            let read = read_options(&a.common)?;
            // helm-diff's modes: `false` reads the release but renders client-side, as
            // `--disable-validation` does (helm-diff v3.15.11 cmd/upgrade.go line 111,
            // cmd/helm.go lines 347-409).
            let (client_only, client_render) = match a.dry_run.as_deref() {
                None | Some("none") | Some("server") => (false, a.disable_validation),
                Some("false") => (false, true),
                Some("client") | Some("true") => (true, true),
                Some(other) => {
                    return Err(Error::usage(format!(
                        "flag \"dry-run\" must take a bool value or either \"client\" or \"server\", but got {other:?}"
                    )))
                }
            };
            let cluster = if client_only {
                settings.connect_offline()?
            } else {
                settings.connect()?
            };
            let opts = sources::DiffUpgradeOptions {
                upgrade: rel::UpgradeOptions {
                    install: rel::InstallOptions {
                        values: a.values.into(),
                        no_hooks: a.no_hooks,
                        take_ownership: a.take_ownership,
                        skip_schema_validation: a.skip_schema_validation,
                        enable_dns: a.enable_dns,
                        chart: a.chart_path.options(settings)?,
                        log: crate::slog::stderr_sink(),
                        post_renderer: a.post_render.renderer(&Settings {
                            debug: false,
                            ..settings.clone()
                        })?,
                        kube_version: a
                            .kube_version
                            .as_deref()
                            .map(rudder_action::parse_kube_version)
                            .transpose()?,
                        api_versions: a.api_versions,
                        ..rel::InstallOptions::default()
                    },
                    reuse_values: a.reuse_values,
                    reset_values: a.reset_values,
                    reset_then_reuse_values: a.reset_then_reuse_values,
                    ..rel::UpgradeOptions::default()
                },
                allow_unreleased: a.allow_unreleased || a.install,
                client_only,
                client_render,
                three_way_merge: a.three_way_merge
                    || std::env::var("HELM_DIFF_THREE_WAY_MERGE").as_deref() == Ok("true"),
                read,
            };
            let outcome = sources::diff_upgrade(&cluster, &a.release, &a.chart, &opts)?;
            (outcome, (a.common, opts.read))
        }
        DiffCommand::Rollback {
            release,
            revision,
            common,
        } => {
            let read = read_options(&common)?;
            let cluster = settings.connect()?;
            let outcome = sources::diff_rollback(&cluster, &release, revision, &read)?;
            (outcome, (common, read))
        }
        DiffCommand::Revision {
            release,
            revisions,
            common,
        } => {
            let read = read_options(&common)?;
            let cluster = settings.connect()?;
            let outcome = sources::diff_revision(&cluster, &release, &revisions, &read)?;
            (outcome, (common, read))
        }
        DiffCommand::Drift { release, common } => {
            let read = read_options(&common)?;
            let cluster = settings.connect()?;
            let outcome = diff::drift(&cluster, &release, &read)?;
            (outcome, (common, read))
        }
        DiffCommand::Release { releases, common } => {
            let read = read_options(&common)?;
            let cluster = settings.connect()?;
            let outcome = sources::diff_releases(&cluster, &releases[0], &releases[1], &read)?;
            (outcome, (common, read))
        }
    };
    let (common, read) = common;
    for w in outcome.warnings.iter().chain(&outcome.report.warnings) {
        eprintln!("{w}");
    }
    let text = outcome.report.render(&read.diff).map_err(Error::typed)?;
    out.write_all(text.as_bytes()).map_err(Error::io)?;
    if common.detailed_exitcode && outcome.report.seen_changes {
        out.flush().map_err(Error::io)?;
        eprintln!("Error: identified at least one change, exiting with non-zero exit code (detailed-exitcode parameter enabled)");
        return Ok(2);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_flag_takes_booleans_and_helm_words() {
        assert!(parse_colour_flag("true").unwrap());
        assert!(!parse_colour_flag("never").unwrap());
        assert!(parse_colour_flag("auto").is_err());
    }

    #[test]
    fn go_booleans_parse_as_strconv_does() {
        assert_eq!(parse_go_bool("T"), Some(true));
        assert_eq!(parse_go_bool("0"), Some(false));
        assert_eq!(parse_go_bool("yes"), None);
    }

    /// helm-diff v3.15.11 cmd/options.go: `--output` takes diff, simple, template, json,
    /// structured and dyff.
    #[test]
    fn every_helm_diff_format_is_accepted_and_others_refused() {
        for name in ["diff", "simple", "template", "json", "structured", "dyff"] {
            assert!(Format::parse(name).is_ok(), "{name}");
        }
        let err = Format::parse("yaml").unwrap_err();
        assert!(err.contains("unknown output format \"yaml\""), "{err}");
    }
}
