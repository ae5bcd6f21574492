//! `rudder`: the command line. Flags, help and output only; what each command does lives in
//! the `rudder-action` library.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rudder_action as action;

mod create_cmd;
mod dependency_cmd;
mod diff_cmd;
mod get_template;
mod plugin_cmd;
mod prompt;
mod provenance_cmd;
mod registry_cmd;
mod release_cmd;
mod signals;
mod slog;
#[cfg(test)]
mod surface;

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
    #[command(flatten)]
    kube: release_cmd::KubeArgs,
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Command,
}

/// Helm's global flags for where its files are, which the library reads from Helm's
/// environment variables (`HELM_REPOSITORY_CONFIG`, ...): a flag given sets its variable.
#[derive(Args)]
struct SettingsArgs {
    /// path to the registry config file
    #[arg(long, global = true)]
    registry_config: Option<String>,
    /// path to the file containing repository names and URLs
    #[arg(long, global = true)]
    repository_config: Option<String>,
    /// path to the directory containing cached repository indexes
    #[arg(long, global = true)]
    repository_cache: Option<String>,
    /// path to the directory containing cached content (e.g. charts)
    #[arg(long, global = true)]
    content_cache: Option<String>,
    /// use colored output (never, auto, always); rudder's output has no colors
    #[arg(long, global = true, alias = "colour")]
    color: Option<String>,
}

impl SettingsArgs {
    /// Must run before any other thread starts (it sets environment variables).
    fn export(&self) {
        let settings = [
            ("HELM_REGISTRY_CONFIG", &self.registry_config),
            ("HELM_REPOSITORY_CONFIG", &self.repository_config),
            ("HELM_REPOSITORY_CACHE", &self.repository_cache),
            ("HELM_CONTENT_CACHE", &self.content_cache),
        ];
        for (variable, value) in settings {
            if let Some(value) = value {
                std::env::set_var(variable, value);
            }
        }
    }
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
    /// create a new chart with the given name
    Create(create_cmd::CreateArgs),
    /// generate autocompletion scripts for the specified shell
    Completion {
        /// bash, zsh, fish or powershell
        #[arg(value_parser = ["bash", "zsh", "fish", "powershell"])]
        shell: String,
        /// disable completion descriptions (accepted for Helm's sake; the scripts carry none)
        #[arg(long)]
        no_descriptions: bool,
    },
    /// Helm client environment information
    Env {
        /// [NAME]
        name: Option<String>,
    },
    /// print the version information (that of the Helm release rudder follows, with rudder's own as build metadata)
    Version {
        /// print the version number
        #[arg(long)]
        short: bool,
        /// template for version string format
        #[arg(long)]
        template: Option<String>,
    },
    /// Preview what an upgrade or rollback changes (the helm-diff plugin's commands, built in)
    #[command(subcommand)]
    Diff(diff_cmd::DiffCommand),
    #[command(flatten)]
    Release(Box<release_cmd::ReleaseCommand>),
    #[command(flatten)]
    Registry(registry_cmd::RegistryCommand),
    /// install, list, or uninstall Helm plugins
    #[command(subcommand)]
    Plugin(plugin_cmd::PluginCommand),
    /// A plugin's name: Helm's plugins are subcommands.
    #[command(external_subcommand)]
    External(Vec<String>),
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
        /// time to wait for the index file download to complete
        #[arg(long, default_value = "2m0s")]
        timeout: String,
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
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut line)
            .map_err(action::Error::io)?;
    } else {
        line = prompt::read_hidden("Password: ").map_err(action::Error::io)?;
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_string())
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
    /// output in JSON format
    #[arg(long)]
    json: bool,
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
    #[command(flatten)]
    install: TemplateInstallArgs,
}

/// `helm install`'s flags that `helm template` accepts too. Only `--name-template` changes
/// what a client-side render prints; the others are checked and otherwise have no effect, as
/// in Helm.
#[derive(Args)]
struct TemplateInstallArgs {
    /// specify template used to name the release
    #[arg(long)]
    name_template: Option<String>,
    /// create the release namespace if not present
    #[arg(long)]
    create_namespace: bool,
    /// add a custom description
    #[arg(long)]
    description: Option<String>,
    /// if set, the installation process will not validate rendered templates against the Kubernetes OpenAPI Schema
    #[arg(long)]
    disable_openapi_validation: bool,
    /// if set server-side apply will force changes against conflicts
    #[arg(long)]
    force_conflicts: bool,
    /// force resource updates by replacement
    #[arg(long)]
    force_replace: bool,
    /// object updates run in the server instead of the client
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    server_side: Option<bool>,
    /// Labels that would be added to release metadata. Should be divided by comma.
    #[arg(short = 'l', long)]
    labels: Vec<String>,
    /// reuse the given name, only if that name is a deleted release which remains in the history. This is unsafe in production
    #[arg(long)]
    replace: bool,
    /// if set, Helm will rollback (uninstall) the installation upon failure
    #[arg(long)]
    rollback_on_failure: bool,
    /// if set, install will ignore the check for helm annotations and take ownership of the existing resources
    #[arg(long)]
    take_ownership: bool,
    #[command(flatten)]
    wait: release_cmd::WaitArgs,
    #[command(flatten)]
    post_render: plugin_cmd::PostRenderArgs,
    // Deprecated flags: hidden, and warned about each time they are given (as pflag does).
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    atomic: u8,
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    force: u8,
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    hide_notes: u8,
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    render_subchart_notes: u8,
    #[arg(long, hide = true, action = clap::ArgAction::Count)]
    validate: u8,
}

impl TemplateInstallArgs {
    /// Prints pflag's deprecation notices and refuses what rudder cannot do.
    fn check(&self) -> Result<(), action::Error> {
        let no_effect = "this flag has no effect for 'helm template' and will be removed in Helm 5";
        warn_deprecated("atomic", self.atomic, "use --rollback-on-failure instead");
        warn_deprecated("force", self.force, "use --force-replace instead");
        warn_deprecated("hide-notes", self.hide_notes, no_effect);
        warn_deprecated(
            "render-subchart-notes",
            self.render_subchart_notes,
            no_effect,
        );
        warn_deprecated("validate", self.validate, "use '--dry-run=server' instead");
        self.wait.options()?;
        action::release::parse_labels(&self.labels)?;
        Ok(())
    }
}

/// pflag's notice for a deprecated flag, once per use.
pub(crate) fn warn_deprecated(flag: &str, uses: u8, advice: &str) {
    for _ in 0..uses {
        eprintln!("Flag --{flag} has been deprecated, {advice}");
    }
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
            t.install.check()?;
            // Helm's `NameAndChart` with the release name preset to "release-name", so that
            // --generate-name has no effect with one argument.
            let name_template = t.install.name_template.as_deref().unwrap_or("");
            let (name, chart) = match t.args.as_slice() {
                [_, _] if t.generate_name => {
                    return Err(action::Error::message(
                        "cannot set --generate-name and also specify a name",
                    ))
                }
                [_, _] if !name_template.is_empty() => {
                    return Err(action::Error::message(
                        "cannot set --name-template and also specify a name",
                    ))
                }
                [name, chart] => (name.clone(), chart.clone()),
                [chart] if !name_template.is_empty() => {
                    (action::template_name(name_template)?, chart.clone())
                }
                [chart] => ("release-name".to_string(), chart.clone()),
                _ => return Err(action::Error::usage("template takes [NAME] CHART")),
            };
            if t.dry_run != "client" && t.dry_run != "server" {
                return Err(action::Error::usage(format!(
                    "invalid dry-run value ({}). Must be \"server\" or \"client\"",
                    t.dry_run
                )));
            }
            // --validate is the deprecated spelling of --dry-run=server.
            let server = if t.dry_run == "server" || t.install.validate > 0 {
                let cluster = release_cmd::connect(&cli.kube, &cli.namespace)?;
                Some(action::release::server_render(&cluster)?)
            } else {
                None
            };
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
                server,
                skip_crds: t.skip_crds,
                post_renderer: t.install.post_render.renderer(
                    &cli.kube,
                    &cli.namespace,
                    cli.debug,
                )?,
            };
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
            let text = action::show(
                &args.chart,
                what,
                &jsonpath,
                &args.chart_path.options()?,
                &slog::stderr_sink(),
            )?;
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
                repo_url: p.repo,
                pass_credentials_all: p.pass_credentials,
                prov: p.prov,
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
            if !a.allow_deprecated_repos {
                if let Some((_, moved)) =
                    DEPRECATED_REPOS.iter().find(|(old, _)| a.url.contains(old))
                {
                    return Err(action::Error::message(format!(
                        "repo {:?} is no longer available; try {moved:?} instead",
                        a.url
                    )));
                }
            }
            let timeout = release_cmd::parse_duration_flag(&a.timeout, "timeout")?;
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
        Command::Repo(RepoCommand::Update { names, timeout }) => {
            let timeout = release_cmd::parse_duration_flag(&timeout, "timeout")?;
            action::repo_update(&action::HelmPaths::from_env(), &names, timeout, &mut out)?;
        }
        Command::Verify(v) => provenance_cmd::verify(&v, &mut out)?,
        Command::Create(c) => create_cmd::run(&c, &mut out)?,
        Command::Completion { shell, .. } => {
            use clap::CommandFactory;
            use clap_complete::Shell;
            let shell = match shell.as_str() {
                "bash" => Shell::Bash,
                "zsh" => Shell::Zsh,
                "fish" => Shell::Fish,
                _ => Shell::PowerShell,
            };
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rudder", &mut script);
            out.write_all(&script).map_err(action::Error::io)?;
        }
        Command::Env { name } => {
            let text = release_cmd::env_text(&cli.kube, &cli.namespace, cli.debug, name.as_deref());
            out.write_all(text.as_bytes()).map_err(action::Error::io)?;
        }
        Command::Version { short, template } => {
            let text = action::version_text(short, template.as_deref())?;
            out.write_all(text.as_bytes()).map_err(action::Error::io)?;
        }
        Command::Release(r) => {
            release_cmd::run(*r, &cli.kube, &cli.namespace, cli.debug, &mut out)?
        }
        Command::Diff(d) => {
            let code = diff_cmd::run(d, &cli.kube, &cli.namespace, &mut out)?;
            if code != 0 {
                // helm-diff's --detailed-exitcode status, once the report is out.
                out.flush().map_err(action::Error::io)?;
                std::process::exit(code.into());
            }
        }
        Command::Registry(r) => registry_cmd::run(r, &mut out)?,
        Command::Plugin(p) => plugin_cmd::run(p, &cli.kube, &cli.namespace, cli.debug, &mut out)?,
        // Handled in main, before the worker thread.
        Command::External(_) => {}
        Command::Repo(RepoCommand::Index(r)) => {
            action::repo_index(&r.dir, &r.url, r.merge.as_deref(), r.json)?;
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
    action::skip_render_teardown();
    let cli = Cli::parse();
    cli.settings.export();
    if let Command::External(external) = &cli.command {
        let args: Vec<String> = std::env::args().collect();
        let before = &args[..args.len().saturating_sub(external.len())];
        return plugin_cmd::run_external(external, before, |mut argv| {
            argv.push("env".into());
            let parsed = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
            Ok((parsed.kube, parsed.namespace, parsed.debug))
        });
    }
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
        // The shell's status for a process ended by SIGPIPE, as Helm's would be.
        Err(e) if e.is_broken_pipe() => ExitCode::from(141),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "Error: {e}");
            ExitCode::FAILURE
        }
    }
}
