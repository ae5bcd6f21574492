//! rudder's use cases as a library, the way Helm separates `pkg/action` from `cmd/`: each
//! function does what one `helm` command does and returns its output as data or text, never
//! touching the terminal itself.

#![forbid(unsafe_code)]

mod charts;
mod create;
mod dependency;
pub mod diff;
mod error;
mod jsonpath;
mod lint;
mod package;
mod plugin_install;
mod plugin_package;
mod post_render;
mod pull;
mod registry;
pub mod release;
mod repo;
mod search_hub;
mod show;
mod table;
mod template;
mod verify;
mod version;

pub use charts::{locate_chart, ChartPathOptions};
pub use create::{create, create_from_starter};
pub use dependency::{
    dependency_build, dependency_list, dependency_update, DependencyStatus, DependencyUpdateOptions,
};
pub use error::Error;
pub use lint::{lint, LintOptions, LintReport};
pub use package::{package, repo_index, PackageOptions};
pub use plugin_install::{plugin_install, PluginInstallOptions};
pub use plugin_package::{
    plugin_package, plugin_signing_status, plugin_verification_report, plugin_verify,
    sign_plugin_archive, PackagedPlugin,
};
pub use post_render::{plugin_list_table, post_render_files, PostRenderer};
pub use pull::{pull, pull_with_output, PullOptions};
pub use registry::{push, registry_login, registry_logout, RegistryOptions};
pub use repo::{
    repo_add, repo_list, repo_list_as, repo_remove, repo_update, search_repo, RepoAddOptions,
    SearchRepoOptions,
};
pub use rudder_chart::package::MetadataOverrides;
pub use rudder_plugin as plugin;
pub use rudder_repo::provenance;
pub use rudder_repo::search::SearchOptions;
pub use rudder_repo::HelmPaths;
pub use search_hub::{
    format_results as format_hub_results, search_hub, SearchHubError, SearchHubOptions,
    DEFAULT_HUB_ENDPOINT,
};
pub use show::{show, ShowWhat};
pub use table::table;
pub use template::{
    generate_name, parse_kube_version, template, template_name, ServerRender, TemplateOptions,
};
pub use version::{version_text, HELM_COMPATIBLE_VERSION};

/// Keeps inflated chart archives in a folder, for renders of the same archive again (see
/// `rudder_chart::archive_cache`).
pub use rudder_chart::archive_cache::enable as enable_archive_cache;
pub use rudder_chart::log::{Level as LogLevel, LogRecord};
/// Keeps a record of schema validations that passed, for renders of the same chart with the
/// same values again (see `rudder_chart::schema_cache`).
pub use rudder_chart::schema_cache::enable as enable_schema_cache;
/// Keeps the parses of chart templates in a folder, for renders of the same templates again
/// (see `rudder_engine::parse_cache`).
pub use rudder_engine::parse_cache::enable as enable_template_cache;
/// For a command-line process: loading, values processing and renders leave their working
/// structures to the process's end (see `rudder_value::teardown`).
pub use rudder_value::teardown::skip as skip_render_teardown;

/// Where an action hands the diagnostics Helm would log (coalescing warnings, a deprecated
/// chart...) as they happen, so that they come before an error that follows them. The
/// default drops them.
#[derive(Clone, Default)]
pub struct LogSink(Option<std::sync::Arc<LogFn>>);

type LogFn = dyn Fn(&LogRecord) + Send + Sync;

impl LogSink {
    pub fn new(f: impl Fn(&LogRecord) + Send + Sync + 'static) -> Self {
        LogSink(Some(std::sync::Arc::new(f)))
    }

    pub fn emit(&self, record: LogRecord) {
        if let Some(f) = &self.0 {
            f(&record);
        }
    }

    pub fn emit_all(&self, records: Vec<LogRecord>) {
        for r in records {
            self.emit(r);
        }
    }
}

/// Where an action writes what Helm prints on standard output while it works (the
/// "Hang tight..." lines of `--dependency-update`): the command line passes its standard
/// output, so that no action chooses the terminal itself. The default drops it.
#[derive(Clone, Default)]
pub struct Progress(Option<std::sync::Arc<std::sync::Mutex<dyn std::io::Write + Send>>>);

impl Progress {
    pub fn new(out: impl std::io::Write + Send + 'static) -> Self {
        Progress(Some(std::sync::Arc::new(std::sync::Mutex::new(out))))
    }
}

impl std::io::Write for Progress {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.0 {
            Some(out) => out
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &self.0 {
            Some(out) => out
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .flush(),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(..)"
        } else {
            "Progress(dropped)"
        })
    }
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "LogSink(..)"
        } else {
            "LogSink(none)"
        })
    }
}

/// The value flags every command that renders takes (Helm's `values.Options`).
#[derive(Clone, Debug, Default)]
pub struct ValueOptions {
    /// `-f/--values`: files (or `-` for standard input), later ones win.
    pub value_files: Vec<String>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub set_file: Vec<String>,
    pub set_json: Vec<String>,
    pub set_literal: Vec<String>,
}
