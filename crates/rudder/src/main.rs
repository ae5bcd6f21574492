//! `rudder`: the command line. Flags, help and output only; what each command does lives in
//! the `rudder-action` library.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rudder_action as action;

mod dependency_cmd;
mod provenance_cmd;
mod registry_cmd;
mod release_cmd;
mod slog;

#[derive(Parser)]
#[command(
    name = "rudder",
    version,
    about = "A Helm-compatible Kubernetes package manager"
)]
struct Cli {
    /// namespace scope for this request
    #[arg(short = 'n', long, global = true, env = "HELM_NAMESPACE")]
    namespace: Option<String>,
    /// enable verbose output
    #[arg(long, global = true, env = "HELM_DEBUG")]
    debug: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Locally render templates
    Template(Box<TemplateArgs>),
    /// Examine a chart for possible issues
    Lint(LintArgs),
    /// Show information of a chart
    #[command(alias = "inspect", subcommand)]
    Show(ShowCommand),
    /// download a chart from a repository and (optionally) unpack it in local directory
    #[command(alias = "fetch")]
    Pull(PullArgs),
    /// manage a chart's dependencies
    #[command(alias = "dep", alias = "dependencies", subcommand)]
    Dependency(dependency_cmd::DependencyCommand),
    /// Package a chart directory into a chart archive
    Package(PackageArgs),
    /// search for a keyword in charts
    #[command(subcommand)]
    Search(SearchCommand),
    /// Add, list, remove, update, and index chart repositories
    #[command(subcommand)]
    Repo(RepoCommand),
    /// verify that a chart at the given path has been signed and is valid
    Verify(provenance_cmd::VerifyArgs),
    #[command(flatten)]
    Release(Box<release_cmd::ReleaseCommand>),
    #[command(flatten)]
    Registry(registry_cmd::RegistryCommand),
}

#[derive(Args)]
struct PullArgs {
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
    registry: registry_cmd::ConnectionArgs,
    /// verify the package before using it
    #[arg(long)]
    verify: bool,
    /// location of public keys used for verification
    #[arg(long, default_value_os_t = action::provenance::default_keyring())]
    keyring: std::path::PathBuf,
}

#[derive(Args)]
struct PackageArgs {
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
    sign: provenance_cmd::SignArgs,
}

#[derive(Subcommand)]
enum RepoCommand {
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
    },
    /// generate an index file given a directory containing packaged charts
    Index(RepoIndexArgs),
}

#[derive(Subcommand)]
enum SearchCommand {
    /// search repositories for a keyword in charts
    Repo(SearchRepoArgs),
}

#[derive(Args)]
struct SearchRepoArgs {
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

#[derive(Args)]
struct RepoAddArgs {
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
}

#[derive(Args)]
struct RepoIndexArgs {
    /// DIR
    dir: String,
    /// url of chart repository
    #[arg(long, default_value = "")]
    url: String,
    /// merge the generated index into the given index
    #[arg(long)]
    merge: Option<String>,
}

/// Flags that set values (Helm's `addValueOptionsFlags`).
#[derive(Args, Clone, Default)]
struct ValueArgs {
    /// specify values in a YAML file or a URL (can specify multiple)
    #[arg(short = 'f', long = "values", value_delimiter = ',')]
    values: Vec<String>,
    /// set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)
    #[arg(long = "set")]
    set: Vec<String>,
    /// set STRING values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)
    #[arg(long = "set-string")]
    set_string: Vec<String>,
    /// set values from respective files specified via the command line (can specify multiple or separate values with commas: key1=path1,key2=path2)
    #[arg(long = "set-file")]
    set_file: Vec<String>,
    /// set JSON values on the command line (can specify multiple or separate values with commas: key1=jsonval1,key2=jsonval2 or using json format: {"key1": jsonval1, "key2": "jsonval2"})
    #[arg(long = "set-json")]
    set_json: Vec<String>,
    /// set a literal STRING value on the command line
    #[arg(long = "set-literal")]
    set_literal: Vec<String>,
}

impl From<ValueArgs> for action::ValueOptions {
    fn from(v: ValueArgs) -> Self {
        action::ValueOptions {
            value_files: v.values,
            set: v.set,
            set_string: v.set_string,
            set_file: v.set_file,
            set_json: v.set_json,
            set_literal: v.set_literal,
        }
    }
}

#[derive(Args)]
struct TemplateArgs {
    /// [NAME] CHART
    #[arg(num_args = 1..=2, required = true)]
    args: Vec<String>,
    #[command(flatten)]
    values: ValueArgs,
    /// generate the name (and omit the NAME parameter)
    #[arg(short = 'g', long)]
    generate_name: bool,
    /// only show manifests rendered from the given templates
    #[arg(short = 's', long = "show-only")]
    show_only: Vec<String>,
    /// writes the executed templates to files in output-dir instead of stdout
    #[arg(long)]
    output_dir: Option<String>,
    /// use release name in the output-dir path.
    #[arg(long = "release-name")]
    release_name_dir: bool,
    /// include CRDs in the templated output
    #[arg(long)]
    include_crds: bool,
    /// if set, no CRDs will be installed. By default, CRDs are installed if not already present
    #[arg(long)]
    skip_crds: bool,
    /// skip tests from templated output
    #[arg(long)]
    skip_tests: bool,
    /// prevent hooks from running during install
    #[arg(long)]
    no_hooks: bool,
    /// set .Release.IsUpgrade instead of .Release.IsInstall
    #[arg(long)]
    is_upgrade: bool,
    /// Kubernetes version used for Capabilities.KubeVersion
    #[arg(long)]
    kube_version: Option<String>,
    /// Kubernetes api versions used for Capabilities.APIVersions (multiple can be specified)
    #[arg(short = 'a', long = "api-versions", value_delimiter = ',')]
    api_versions: Vec<String>,
    /// if set, disables JSON schema validation
    #[arg(long)]
    skip_schema_validation: bool,
    /// enable DNS lookups when rendering templates
    #[arg(long)]
    enable_dns: bool,
    /// hide Kubernetes Secrets from the output
    #[arg(long)]
    hide_secret: bool,
    /// simulate the operation client-side ("client") or server-side ("server")
    #[arg(long, default_value = "client", num_args = 0..=1, default_missing_value = "client")]
    dry_run: String,
    /// update dependencies if they are missing before installing the chart
    #[arg(long)]
    dependency_update: bool,
    #[command(flatten)]
    chart_path: dependency_cmd::ChartPathArgs,
}

#[derive(Args)]
struct LintArgs {
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

#[derive(Subcommand)]
enum ShowCommand {
    /// show all information of the chart
    All(ShowArgs),
    /// show the chart's definition
    Chart(ShowArgs),
    /// show the chart's values
    Values(ShowValuesArgs),
    /// show the chart's README
    Readme(ShowArgs),
    /// show the chart's CRDs
    Crds(ShowArgs),
}

#[derive(Args)]
struct ShowValuesArgs {
    #[command(flatten)]
    show: ShowArgs,
    /// supply a JSONPath expression to filter the output
    #[arg(long, default_value = "")]
    jsonpath: String,
}

#[derive(Args)]
struct ShowArgs {
    /// CHART
    chart: String,
    #[command(flatten)]
    chart_path: dependency_cmd::ChartPathArgs,
}

fn run(cli: Cli) -> Result<(), action::Error> {
    let namespace = cli
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Template(t) => {
            let t = *t;
            let (name, chart) = match (t.args.as_slice(), t.generate_name) {
                ([chart], true) => (action::generate_name(chart), chart.clone()),
                ([chart], false) => ("release-name".to_string(), chart.clone()),
                ([name, chart], _) => (name.clone(), chart.clone()),
                _ => return Err(action::Error::usage("template takes [NAME] CHART")),
            };
            if t.dry_run != "client" && t.dry_run != "server" {
                return Err(action::Error::usage(format!(
                    "invalid dry-run value ({}). Must be \"server\" or \"client\"",
                    t.dry_run
                )));
            }
            let options = action::TemplateOptions {
                release_name: name,
                namespace,
                values: t.values.into(),
                kube_version: t.kube_version,
                api_versions: t.api_versions,
                is_upgrade: t.is_upgrade,
                include_crds: t.include_crds,
                skip_tests: t.skip_tests,
                no_hooks: t.no_hooks,
                show_only: t.show_only,
                output_dir: t.output_dir,
                use_release_name: t.release_name_dir,
                skip_schema_validation: t.skip_schema_validation,
                enable_dns: t.enable_dns,
                hide_secret: t.hide_secret,
                debug: cli.debug,
                chart: action::ChartPathOptions {
                    dependency_update: t.dependency_update,
                    ..t.chart_path.options()?
                },
                log: slog::stderr_sink(),
            };
            let _ = t.skip_crds;
            let text = action::template(&chart, &options)?;
            out.write_all(text.as_bytes()).map_err(action::Error::io)?;
        }
        Command::Lint(l) => {
            let options = action::LintOptions {
                namespace,
                values: l.values.into(),
                strict: l.strict,
                with_subcharts: l.with_subcharts,
                quiet: l.quiet,
                skip_schema_validation: l.skip_schema_validation,
                kube_version: l.kube_version,
                log: slog::stderr_sink(),
            };
            let report = action::lint(&l.paths, &options);
            out.write_all(report.output.as_bytes())
                .map_err(action::Error::io)?;
            if let Some(summary) = report.failure {
                return Err(action::Error::message(summary));
            }
        }
        Command::Show(s) => {
            let (what, args, jsonpath) = match s {
                ShowCommand::All(a) => (action::ShowWhat::All, a, String::new()),
                ShowCommand::Chart(a) => (action::ShowWhat::Chart, a, String::new()),
                ShowCommand::Values(a) => (action::ShowWhat::Values, a.show, a.jsonpath),
                ShowCommand::Readme(a) => (action::ShowWhat::Readme, a, String::new()),
                ShowCommand::Crds(a) => (action::ShowWhat::Crds, a, String::new()),
            };
            let text = action::show(&args.chart, what, &jsonpath, &args.chart_path.options()?)?;
            out.write_all(text.as_bytes()).map_err(action::Error::io)?;
        }
        Command::Pull(p) => {
            let options = action::PullOptions {
                version: p.version,
                devel: p.devel,
                destination: p.destination,
                untar: p.untar,
                untar_dir: p.untardir,
                registry: p.registry.options(),
                verify: p.verify,
                keyring: p.keyring,
            };
            for chart in &p.charts {
                let (_, text) =
                    action::pull_with_output(&action::HelmPaths::from_env(), chart, &options)?;
                out.write_all(text.as_bytes()).map_err(action::Error::io)?;
            }
        }
        Command::Dependency(d) => dependency_cmd::run(d, cli.debug, &mut out)?,
        Command::Package(p) => {
            let options = action::PackageOptions {
                version: p.version,
                app_version: p.app_version,
                destination: p.destination,
                dependency_update: p.dependency_update,
            };
            p.sign.check()?;
            for chart in &p.charts {
                let path = action::package(chart, &options)?;
                p.sign.sign(&path)?;
                writeln!(
                    out,
                    "Successfully packaged chart and saved it to: {}",
                    path.display()
                )
                .map_err(action::Error::io)?;
            }
        }
        Command::Repo(RepoCommand::Add(a)) => {
            let options = action::RepoAddOptions {
                username: a.username,
                password: a.password,
                ca_file: a.ca_file,
                cert_file: a.cert_file,
                key_file: a.key_file,
                insecure_skip_tls_verify: a.insecure_skip_tls_verify,
                pass_credentials_all: a.pass_credentials,
                force_update: a.force_update,
            };
            let text = action::repo_add(&action::HelmPaths::from_env(), &a.name, &a.url, &options)?;
            out.write_all(text.as_bytes()).map_err(action::Error::io)?;
        }
        Command::Repo(RepoCommand::List { no_headers, output }) => {
            match action::repo_list_as(&action::HelmPaths::from_env(), no_headers, &output) {
                Some(text) => out.write_all(text.as_bytes()).map_err(action::Error::io)?,
                None => eprintln!("no repositories to show"),
            }
        }
        Command::Search(SearchCommand::Repo(s)) => {
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
            let (text, warnings) =
                action::search_repo(&action::HelmPaths::from_env(), &s.keywords, &options)?;
            for warning in &warnings {
                eprintln!("{}", slog::text_line(warning));
            }
            out.write_all(text.as_bytes()).map_err(action::Error::io)?;
        }
        Command::Repo(RepoCommand::Remove { names }) => {
            let text = action::repo_remove(&action::HelmPaths::from_env(), &names)?;
            out.write_all(text.as_bytes()).map_err(action::Error::io)?;
        }
        Command::Repo(RepoCommand::Update { names }) => {
            action::repo_update(&action::HelmPaths::from_env(), &names, &mut out)?;
        }
        Command::Verify(v) => provenance_cmd::verify(&v, &mut out)?,
        Command::Release(r) => release_cmd::run(*r, &cli.namespace, cli.debug, &mut out)?,
        Command::Registry(r) => registry_cmd::run(r, &mut out)?,
        Command::Repo(RepoCommand::Index(r)) => {
            action::repo_index(&r.dir, &r.url, r.merge.as_deref())?;
        }
    }
    Ok(())
}

/// glibc gives every thread that allocates an arena of its own, grown one `mprotect` call at
/// a time (over 200 of them for one render of the Milvus chart); rudder's work runs on one
/// worker thread, which the main arena (grown with `brk`) serves with far fewer system
/// calls and page faults.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn use_one_malloc_arena() {
    // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn use_one_malloc_arena() {}

fn main() -> ExitCode {
    use_one_malloc_arena();
    let cli = Cli::parse();
    // Templates may recurse deeply (Go allows 100000 nested template calls); give the work a
    // large stack instead of risking an overflow.
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || run(cli));
    let result = match worker {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|_| Err(action::Error::message("internal error: rudder panicked"))),
        Err(e) => Err(action::Error::message(format!("cannot start: {e}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "Error: {e}");
            ExitCode::FAILURE
        }
    }
}
