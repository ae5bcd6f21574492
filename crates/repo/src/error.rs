//! The errors of rudder-repo, typed by what went wrong and carrying their cause; the text
//! Helm prints for each is its `Display` and nowhere else, so callers branch on the kind
//! (`is_not_found`) and print the error as it is.
//!
//! Modules with errors of their own (`oci`, `provenance`, `manager`) have their
//! own enums, which hold this one as a cause where they build on it.

use std::path::PathBuf;

use rudder_value::goio::io_error_text;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file system call failed: Go's `*PathError` (`open /x: no such file or directory`),
    /// `op` being Go's name of the call (`open`, `write`, `mkdir`).
    #[error("{op} {}: {}", .path.display(), io_error_text(.source))]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// repositories.yaml could not be read (`repo.LoadFile`).
    #[error("couldn't load repositories file ({}): {}", .path.display(), io_error_text(.source))]
    LoadRepositories {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A document whose shape does not fit Helm's Go type (`sigs.k8s.io/yaml` decoding the
    /// JSON it made into a struct): encoding/json's text.
    #[error("error unmarshaling JSON: {0}")]
    Unmarshal(String),
    /// A value JSON cannot hold (`index --json`).
    #[error("{0}")]
    Json(#[source] rudder_value::json::EncodeError),
    /// A document that is not YAML.
    #[error("{0}")]
    Yaml(#[source] rudder_value::yaml::DecodeError),
    /// A value YAML cannot hold.
    #[error("{0}")]
    YamlWrite(#[source] rudder_value::yaml::EncodeError),
    /// An index file with nothing in it (`repo.ErrEmptyIndexYaml`).
    #[error("empty index.yaml file")]
    EmptyIndex,
    /// An index without `apiVersion` (`repo.ErrNoAPIVersion`).
    #[error("no API version specified")]
    NoApiVersion,
    /// The index lists no chart of that name (`repo.ErrNoChartName`).
    #[error("no chart name found")]
    NoChartName,
    /// The index lists the chart without versions (`repo.ErrNoChartVersion`).
    #[error("no chart version found")]
    NoChartVersion,
    /// No version of the chart satisfies the constraint.
    #[error("no chart version found for {name}-{version}")]
    NoMatchingVersion { name: String, version: String },
    /// A version constraint that does not parse (Masterminds/semver's text).
    #[error(transparent)]
    Constraint(rudder_semver::ConstraintError),
    /// A TLS file (`--ca-file`, `--cert-file`, `--key-file`) that cannot be read.
    #[error("can't read {path}: {source}")]
    TlsFileUnreadable {
        path: String,
        source: std::io::Error,
    },
    /// A TLS file that is not what it should be: the reason as Helm words it.
    #[error("{0}")]
    TlsFile(String),
    /// A download that did not complete (connection, TLS, timeout): `reason` worded by
    /// `getter` (a timeout says which limit ran out).
    #[error("failed to fetch {url} : {reason}")]
    Fetch { url: String, reason: String },
    /// A download the server answered with a status other than 200.
    #[error("failed to fetch {url} : {status} {reason}")]
    FetchStatus {
        url: String,
        status: u16,
        reason: &'static str,
    },
    /// A response over the size limit.
    #[error("failed to fetch {url} : response larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    /// `helm repo index` on what is not a readable folder.
    #[error("could not read directory {}", .0.display())]
    NotADirectory(PathBuf),
    /// `helm repo index` found an archive whose Chart.yaml has no name or version.
    #[error("failed adding to {file} to index: validation: chart.metadata.name is required")]
    UnnamedChart { file: String },
    /// `helm repo index --merge` with an index that does not load.
    #[error("merge failed: {0}")]
    Merge(#[source] Box<Error>),
    /// An index digest that is not hex.
    #[error("unable to decode digest: encoding/hex: invalid byte: {hex:?}")]
    InvalidDigest { hex: String },
    /// An index digest that is not 32 bytes long.
    #[error("invalid digest length: {0}")]
    DigestLength(usize),
    /// A download whose sha256 is not the one its index gives.
    #[error("failed to download {url}: digest mismatch: the index says sha256:{expected}, the download is sha256:{actual}")]
    DigestMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    /// `--repo URL` whose index could not be fetched.
    #[error("looks like {url:?} is not a valid chart repository or cannot be reached: {source}")]
    NotARepository {
        url: String,
        #[source]
        source: Box<Error>,
    },
    /// `--repo URL` whose index lacks the chart (at that version).
    #[error("{} not found in {url} repository", chart_and_version(.chart, .version))]
    NotInRepository {
        chart: String,
        version: String,
        url: String,
    },
    /// An index entry without URLs.
    #[error("{} has no downloadable URLs", chart_and_version(.chart, .version))]
    NoDownloadUrls { chart: String, version: String },
    /// An `oci://` reference where only repositories are looked up.
    #[error("unable to lookup ref {reference} at version '{version}', OCI registries are not supported yet")]
    OciNotSupported { reference: String, version: String },
    /// A repository whose index is not in the cache.
    #[error("no cached repo found. (try 'helm repo update'): {0}")]
    NoCachedIndex(#[source] Box<Error>),
    /// A relative chart reference that is not `repo/chart`.
    #[error("non-absolute URLs should be in form of repo_name/path_to_chart, got: {0}")]
    NotRepoSlashChart(String),
    /// A repository name repositories.yaml does not list.
    #[error("repo {0} not found")]
    UnknownRepository(String),
    /// A configured repository without a URL.
    #[error("no URL found for repository {0}")]
    NoRepositoryUrl(String),
    /// The cached index lacks the chart at that version.
    #[error("chart {chart:?} matching {version} not found in {repo} index. (try 'helm repo update'): {source}")]
    NotInIndex {
        chart: String,
        version: String,
        repo: String,
        #[source]
        source: Box<Error>,
    },
    /// `search repo --regexp` with an invalid expression.
    #[error("error parsing regexp: {0}")]
    Regexp(#[source] regex::Error),
    /// `search repo --version` with an invalid constraint.
    #[error("an invalid version/constraint format: {0}")]
    SearchConstraint(#[source] rudder_semver::ConstraintError),
    /// A URL scheme no built-in getter or getter plugin serves.
    #[error("scheme {0:?} not supported")]
    UnsupportedScheme(String),
    /// The getter plugins could not be listed (the plugin crate's text).
    #[error("{0}")]
    Plugins(String),
    /// A getter plugin failed.
    #[error("plugin {plugin:?} failed to invoke: {reason}")]
    PluginFailed { plugin: String, reason: String },
}

/// `chart "NAME"` or `chart "NAME" version "VERSION"`, as Helm names what it looked for.
fn chart_and_version(chart: &str, version: &str) -> String {
    if version.is_empty() {
        format!("chart {chart:?}")
    } else {
        format!("chart {chart:?} version {version:?}")
    }
}

impl Error {
    /// The file or directory the operation needed does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::Io { source, .. } | Error::LoadRepositories { source, .. } => {
                source.kind() == std::io::ErrorKind::NotFound
            }
            _ => false,
        }
    }

    /// A failed file system call `op` on `path`.
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}
