//! `helm dependency update` and `helm dependency build` (Helm's `downloader.Manager` and
//! `internal/resolver`): resolve each dependency of Chart.yaml against repository indexes,
//! `file://` folders or `charts/`, download the archives into `charts/`, drop outdated
//! archives, and write Chart.lock with Helm's digest.
//!
//! The digest is `sha256:` + the hex SHA-256 of Go's `json.Marshal` of the pair
//! `[Chart.yaml dependencies, locked dependencies]`, each dependency with Helm's fields in
//! their declared order (`name`, `version`, `repository`, `condition`, `tags`, `enabled`,
//! `import-values`, `alias`) and the empty ones left out, except `name` and `repository`.
//! Dependencies naming a repository by `@name`/`alias:name` are hashed with that
//! repository's URL, as Helm substitutes it first.
//!
//! Helm updates repository indexes in parallel goroutines, printing in completion order;
//! rudder updates them one after another, in the file's order.
//!
//! Dependencies in OCI registries (`repository: oci://host/path`) are resolved against the
//! registry's tags (an exact version is taken as it is) and pulled with the registry client
//! the command made (its credentials and TLS flags, and Helm's registry config), as
//! `internal/resolver` and `Manager.downloadAll` do. With `verify`, every downloaded
//! dependency's provenance file is fetched beside it and checked against the keyring
//! (`ChartDownloader.DownloadTo` with `VerifyAlways`).

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rudder_chart::log::LogRecord;
use rudder_chart::{Chart, Dependency, Lock};
use rudder_semver::{Constraints, Version};
use rudder_value::{json, Map, Value};

use crate::chartrepo::download_index_file;
use crate::downloader::{self, load_repositories, Located};
use crate::getter::GetOptions;
use crate::index::IndexFile;
use crate::paths::HelmPaths;
use crate::provenance::digest;
use crate::repofile::{io_error_text, RepoEntry};
use crate::resolve::{clean_path, has_scheme, resolve_reference_url, url_equal};

/// Why one dependency could not be downloaded (or verified).
type DownloadFailure = Box<dyn std::error::Error + Send + Sync>;

/// The prefix of the cache names Helm gives repositories that are not configured.
const MANAGER_KEY_PREFIX: &str = "helm-manager-";

/// Reports a missing repository definition (`downloader.ErrRepoNotFound`).
pub const REPO_NOT_FOUND_HINT: &str = ". Please add the missing repos via 'helm repo add'";

/// Why `dependency update/build` failed, worded as Helm's downloader manager.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Repositories, indexes, downloads and file system calls.
    #[error(transparent)]
    Repo(#[from] crate::Error),
    /// A chart (the parent or a `file://` dependency) that does not load.
    #[error(transparent)]
    Load(#[from] rudder_chart::LoadError),
    /// A `file://` dependency that could not be archived.
    #[error(transparent)]
    Package(#[from] rudder_chart::package::Error),
    /// Chart.lock could not be written as YAML.
    #[error("{0}")]
    Yaml(#[source] rudder_value::yaml::EncodeError),
    /// A `file://` (or `charts/<name>`) dependency whose folder is missing.
    #[error("directory {} not found", .0.display())]
    NoDirectory(PathBuf),
    /// The tags of an OCI dependency's repository could not be listed.
    #[error("could not retrieve list of tags for repository {repository}: {source}")]
    Tags {
        repository: String,
        #[source]
        source: crate::oci::Error,
    },
    /// An OCI dependency with no registry client to fetch it.
    #[error("unable to lookup ref {reference} at version '{version}', missing registry client")]
    NoRegistryClient { reference: String, version: String },
    /// An OCI dependency URL without a tag (`parseOCIRef`).
    #[error("could not parse OCI reference: improperly formatted oci chart reference: {0}")]
    OciReference(String),
    /// A dependency's provenance file could not be fetched (`--verify`).
    #[error("failed to fetch provenance {0:?}")]
    NoProvenance(String),
    /// A dependency whose version constraint does not parse.
    #[error("dependency {name:?} has an invalid version/constraint format: {reason}")]
    Constraint {
        name: String,
        #[source]
        reason: rudder_semver::ConstraintError,
    },
    /// The chart folder is missing.
    #[error("could not find {}: stat {}: {}", .path.display(), .path.display(), io_error_text(.source))]
    ChartNotFound {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The chart is an archive.
    #[error("only unpacked charts can be updated")]
    NotUnpacked,
    /// Chart.lock does not match Chart.yaml's dependencies.
    #[error("the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies with 'helm dependency update'")]
    LockOutOfSync,
    /// requirements.lock does not match requirements.yaml (apiVersion v1).
    #[error("the lock file (requirements.lock) is out of sync with the dependencies file (requirements.yaml). Please update the dependencies")]
    LegacyLockOutOfSync,
    /// Locked dependencies whose repository URLs are not configured.
    #[error("no repository definition for {}{REPO_NOT_FOUND_HINT}", .0.join(", "))]
    MissingRepositories(Vec<String>),
    /// Dependencies whose repositories are neither configured, URLs nor aliases.
    #[error("{}", unresolved_repositories(.0))]
    UnresolvedRepositories(Vec<String>),
    /// A repository whose index is not in the cache.
    #[error("no cached repository for {repo} found. (try 'helm repo update'): {source}")]
    NoCachedIndex {
        repo: String,
        #[source]
        source: Box<crate::Error>,
    },
    /// The repository's index does not list the dependency.
    #[error("{name} chart not found in repo {repository}")]
    NotInRepo { name: String, repository: String },
    /// Dependencies no version of which satisfies the constraint (`"name" (repository
    /// "...", version "...")` each).
    #[error("can't get a valid version for {} subchart(s): {}. Make sure a matching chart version exists in the repo, or change the version constraint in Chart.yaml", .0.len(), .0.join(", "))]
    NoValidVersions(Vec<String>),
    /// repositories.yaml does not load.
    #[error("failed to load {}: {source}", .path.display())]
    LoadRepositories {
        path: PathBuf,
        #[source]
        source: Box<crate::Error>,
    },
    /// The repository's index has no entry of that name.
    #[error("entry not found")]
    EntryNotFound,
    /// The repository's index has no such version.
    #[error("no matching version")]
    NoMatchingVersion,
    /// The chart could not be found at a repository that is not configured.
    #[error("chart {name} not found in {url}: {source}")]
    NotFoundAt {
        name: String,
        url: String,
        #[source]
        source: Box<crate::Error>,
    },
    /// `charts` is a file.
    #[error("{:?} is not a directory", .0.display().to_string())]
    NotADirectory(PathBuf),
    /// `charts` could not be looked at.
    #[error("unable to retrieve file info for '{}': {}", .path.display(), io_error_text(.source))]
    Stat {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A dependency kept in `charts/` that does not load.
    #[error("unable to load chart '{}': {source}", .path.display())]
    LoadDependency {
        path: PathBuf,
        #[source]
        source: rudder_chart::LoadError,
    },
    /// A dependency kept in `charts/` whose version is not semantic.
    #[error("invalid version {version} for dependency {name}: {reason}")]
    InvalidVersion {
        version: String,
        name: String,
        #[source]
        reason: rudder_semver::VersionError,
    },
    /// A dependency kept in `charts/` outside its constraint.
    #[error("dependency {name} at version {version} does not satisfy the constraint {constraint}")]
    Unsatisfied {
        name: String,
        version: String,
        constraint: String,
    },
    /// Finding a dependency's archive URL failed.
    #[error("could not find : {0}")]
    CouldNotFind(#[source] Box<Error>),
    /// Downloading (or, with `verify`, checking) a dependency failed.
    #[error("could not download {url}: {source}")]
    Download {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A `file://` dependency whose version is not semantic (semver's text).
    #[error(transparent)]
    Version(rudder_semver::VersionError),
    /// A `file://` dependency outside its constraint.
    #[error("can't get a valid version for dependency {0}")]
    NoValidVersion(String),
    /// The lock file is a symbolic link that cannot be read.
    #[error("error reading symlink for {:?}: {source}", .path.display().to_string())]
    ReadSymlink {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The lock file is a symbolic link.
    #[error("the {name} file is a symlink to {:?}", .target.display().to_string())]
    LockIsSymlink { name: &'static str, target: PathBuf },
}

/// Helm's message for dependency repositories it cannot resolve, with its note when one of
/// them looks like a bare repository name.
fn unresolved_repositories(missing: &[String]) -> String {
    let mut message = format!(
        "no repository definition for {}. Please add them via 'helm repo add'",
        missing.join(", ")
    );
    let non_url = missing
        .iter()
        .any(|r| !r.contains("//") && !r.starts_with('@') && !r.starts_with("alias:"));
    if non_url {
        message.push_str(concat!(
            "\nNote that repositories must be URLs or aliases. For example, to refer to the \"example\"\n",
            "repository, use \"https://charts.example.com/\" or \"@example\" instead of\n",
            "\"example\". Don't forget to add the repo, too ('helm repo add')."
        ));
    }
    message
}

/// One `dependency update`/`build` run.
pub struct Manager<'a> {
    /// Progress and warnings, as Helm prints them to standard output.
    pub out: &'a mut dyn Write,
    /// The chart folder, as given (Helm cleans it, keeping it relative).
    pub chart_path: PathBuf,
    pub paths: HelmPaths,
    /// `--skip-refresh`.
    pub skip_update: bool,
    /// `--debug`: say which local folders are archived.
    pub debug: bool,
    /// Helm's log (its `log.Println`), which the command line prints on standard error.
    pub log: Box<dyn Fn(LogRecord) + 'a>,
    /// The registry client for `oci://` dependencies (`None`: they fail as in Helm without
    /// one).
    pub registry: Option<crate::oci::Client>,
    /// Where the registry client prints `Pulled:`/`Digest:`; `None` is `out`. (`package
    /// -u` discards the manager's output but not its registry client's.)
    pub registry_out: Option<&'a mut dyn Write>,
    /// `--verify`: check each downloaded dependency's provenance against `keyring`.
    pub verify: bool,
    pub keyring: PathBuf,
}

fn go_json_string(s: &str) -> String {
    json::to_json(&Value::str(s)).unwrap_or_else(|_| format!("{s:?}"))
}

/// A dependency as Go's `json.Marshal(chart.Dependency)` writes it.
fn dependency_json(d: &Dependency) -> String {
    let mut fields = vec![format!("\"name\":{}", go_json_string(&d.name))];
    if !d.version.is_empty() {
        fields.push(format!("\"version\":{}", go_json_string(&d.version)));
    }
    fields.push(format!("\"repository\":{}", go_json_string(&d.repository)));
    if !d.condition.is_empty() {
        fields.push(format!("\"condition\":{}", go_json_string(&d.condition)));
    }
    if !d.tags.is_empty() {
        let tags = json::to_json(&Value::strings(d.tags.clone())).unwrap_or_default();
        fields.push(format!("\"tags\":{tags}"));
    }
    if d.enabled {
        fields.push("\"enabled\":true".into());
    }
    if !d.import_values.is_empty() {
        let values = json::to_json(&Value::list(d.import_values.clone())).unwrap_or_default();
        fields.push(format!("\"import-values\":{values}"));
    }
    if !d.alias.is_empty() {
        fields.push(format!("\"alias\":{}", go_json_string(&d.alias)));
    }
    format!("{{{}}}", fields.join(","))
}

fn dependencies_json(deps: &[Dependency]) -> String {
    let items: Vec<String> = deps.iter().map(dependency_json).collect();
    format!("[{}]", items.join(","))
}

/// `resolver.HashReq`: the digest Chart.lock records for these declared and locked
/// dependencies.
pub fn hash_req(req: &[Dependency], locked: &[Dependency]) -> String {
    let data = format!("[{},{}]", dependencies_json(req), dependencies_json(locked));
    format!("sha256:{}", digest(data.as_bytes()))
}

/// `resolver.HashV2Req`: Helm 2's requirements.lock digest.
pub fn hash_v2_req(req: &[Dependency]) -> String {
    let data = format!("{{\"dependencies\":{}}}", dependencies_json(req));
    format!("sha256:{}", digest(data.as_bytes()))
}

/// Chart.lock's text (`yaml.Marshal(chart.Lock)`: keys sorted, each locked dependency
/// with `name`, `repository` and, when set, `version`).
pub fn lock_yaml(lock: &Lock) -> Result<String, Error> {
    let deps: Vec<Value> = lock
        .dependencies
        .iter()
        .map(|d| {
            let mut m = Map::new();
            m.insert("name".into(), Value::str(&d.name));
            m.insert("repository".into(), Value::str(&d.repository));
            if !d.version.is_empty() {
                m.insert("version".into(), Value::str(&d.version));
            }
            Value::map(m)
        })
        .collect();
    let mut m = Map::new();
    m.insert("dependencies".into(), Value::list(deps));
    m.insert("digest".into(), Value::str(&lock.digest));
    m.insert("generated".into(), Value::str(&lock.generated));
    rudder_value::yaml::to_yaml(&Value::map(m)).map_err(Error::Yaml)
}

/// `filepath.Join(base, rel)` cleaned as Go cleans it.
fn join_clean(base: &Path, rel: &str) -> PathBuf {
    PathBuf::from(clean_path(&format!("{}/{rel}", base.display())))
}

/// `resolver.GetLocalPath`: the folder a `file://` repository (or `charts/<name>`) names.
pub fn local_path(repository: &str, chart_path: &Path) -> Result<PathBuf, Error> {
    let p = repository.strip_prefix("file://").unwrap_or(repository);
    let dep_path = if p.starts_with('/') {
        PathBuf::from(clean_path(p))
    } else {
        join_clean(chart_path, p)
    };
    match fs::metadata(&dep_path) {
        Ok(_) => Ok(dep_path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NoDirectory(dep_path)),
        Err(e) => Err(crate::Error::io("stat", dep_path)(e).into()),
    }
}

fn is_oci(repository: &str) -> bool {
    repository.starts_with("oci://")
}

/// Why Helm cannot fetch `index.yaml` of an `oci://` repository: its OCI getter pulls
/// `REPO/index.yaml` as a reference without a tag, which the registry library parses and
/// then refuses before any request (oras-go v2.6.1 `Repository.ParseReference`: an empty
/// reference is `invalid reference`, reported by `oras.Copy` as a failed `FetchReference`).
fn oci_index_error(url: &str) -> String {
    let index = crate::resolve::resolve_reference_url(url, "index.yaml");
    match crate::oci::Reference::parse(index.trim_start_matches("oci://")) {
        Err(e) => e.to_string(),
        Ok(_) => crate::oci::Error::FetchReference(Box::new(crate::oci::Error::EmptyReference))
            .to_string(),
    }
}

/// `parseOCIRef`: `oci://host[:port]/path/name:tag` split into the reference and the tag
/// (at the first `:` after the host and port).
fn parse_oci_ref(url: &str) -> Result<(String, String), Error> {
    let bad = || Error::OciReference(url.to_string());
    let rest = url.strip_prefix("oci://").ok_or_else(bad)?;
    // The host runs to the first `:` or `/`; a port of 1 to 5 digits may follow.
    let host_end = rest.find([':', '/']).ok_or_else(bad)?;
    let mut path_start = host_end;
    if rest[host_end..].starts_with(':') {
        let digits = rest[host_end + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if (1..=5).contains(&digits) && rest[host_end + 1 + digits..].starts_with('/') {
            path_start = host_end + 1 + digits;
        }
    }
    let colon = match rest[path_start..].find(':') {
        Some(i) if i > 0 => i + path_start,
        Some(_) => return Err(bad()),
        // No tag after the port: the regular expression backtracks and takes the port's
        // colon as the tag's (`oci://host:5000/web` -> `oci://host`, `5000/web`).
        None if path_start != host_end && host_end >= 2 => host_end,
        None => return Err(bad()),
    };
    Ok((
        format!("oci://{}", &rest[..colon]),
        rest[colon + 1..].to_string(),
    ))
}

fn parse_constraint(d: &Dependency) -> Result<Constraints, Error> {
    Constraints::parse(&d.version).map_err(|reason| Error::Constraint {
        name: d.name.clone(),
        reason,
    })
}

fn locked(name: &str, repository: &str, version: &str) -> Dependency {
    Dependency {
        name: name.to_string(),
        repository: repository.to_string(),
        version: version.to_string(),
        ..Default::default()
    }
}

impl Manager<'_> {
    fn say(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}");
    }

    fn load_chart_dir(&self) -> Result<Chart, Error> {
        let meta = fs::metadata(&self.chart_path).map_err(|source| Error::ChartNotFound {
            path: self.chart_path.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(Error::NotUnpacked);
        }
        Ok(rudder_chart::loader::load_dir(&self.chart_path)?)
    }

    /// `Manager.Update`: resolve, download, and write the lock when it changed.
    pub fn update(&mut self) -> Result<(), Error> {
        let chart = self.load_chart_dir()?;
        let mut req = chart.metadata.dependencies.clone();
        if req.is_empty() {
            return Ok(());
        }
        let repo_names = self.resolve_repo_names(&mut req)?;
        let repo_names = self.ensure_missing_repos(repo_names, &req)?;
        if !self.skip_update {
            self.update_repositories()?;
        }
        let mut lock = self.resolve(&req, &repo_names)?;
        self.download_all(&mut lock.dependencies)?;
        lock.digest = hash_req(&req, &lock.dependencies);
        if chart
            .lock
            .as_ref()
            .is_some_and(|old| old.digest == lock.digest)
        {
            return Ok(());
        }
        self.write_lock(&lock, chart.metadata.api_version == "v1")
    }

    /// `Manager.Build`: fetch what Chart.lock records, refusing an out-of-date lock; with no
    /// lock, an update.
    pub fn build(&mut self) -> Result<(), Error> {
        let chart = self.load_chart_dir()?;
        let Some(lock) = chart.lock.clone() else {
            return self.update();
        };
        let legacy = chart.metadata.api_version == "v1";
        let mut req = chart.metadata.dependencies.clone();
        let v2_sum = hash_v2_req(&req);
        self.resolve_repo_names(&mut req)?;
        if hash_req(&req, &lock.dependencies) != lock.digest {
            if !legacy {
                return Err(Error::LockOutOfSync);
            }
            (self.log)(LogRecord::info(
                "warning: a valid Helm v3 hash was not found. Checking against Helm v2 hash...",
            ));
            if v2_sum != lock.digest {
                return Err(Error::LegacyLockOutOfSync);
            }
        }
        self.has_all_repos(&lock.dependencies)?;
        if !self.skip_update {
            self.update_repositories()?;
        }
        let mut deps = lock.dependencies.clone();
        self.download_all(&mut deps)
    }

    fn repositories(&self) -> Result<Vec<RepoEntry>, Error> {
        Ok(load_repositories(&self.paths.repository_config)?.repositories)
    }

    /// `Manager.hasAllRepos`: every locked dependency's repository URL is configured.
    fn has_all_repos(&self, deps: &[Dependency]) -> Result<(), Error> {
        let repos = self.repositories()?;
        let missing: Vec<String> = deps
            .iter()
            .filter(|d| {
                !d.repository.is_empty()
                    && !d.repository.starts_with("file://")
                    && !is_oci(&d.repository)
            })
            .filter(|d| {
                !repos
                    .iter()
                    .any(|r| url_equal(&r.url, d.repository.trim_end_matches('/')))
            })
            .map(|d| d.repository.clone())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::MissingRepositories(missing))
    }

    /// `Manager.resolveRepoNames`: the configured repository name for each dependency (by
    /// URL or `@name`/`alias:name`, which is replaced by the URL in `deps`).
    fn resolve_repo_names(
        &mut self,
        deps: &mut [Dependency],
    ) -> Result<HashMap<String, String>, Error> {
        let mut names = HashMap::new();
        if !self.paths.repository_config.exists() {
            return Ok(names);
        }
        let repos = self.repositories()?;
        let mut missing = Vec::new();
        for dd in deps.iter_mut() {
            if dd.repository.is_empty() {
                continue;
            }
            if dd.repository.starts_with("file://") {
                local_path(&dd.repository, &self.chart_path)?;
                if self.debug {
                    let line = format!("Repository from local path: {}", dd.repository);
                    self.say(&line);
                }
                names.insert(dd.name.clone(), dd.repository.clone());
                continue;
            }
            if is_oci(&dd.repository) {
                names.insert(dd.name.clone(), dd.repository.clone());
                continue;
            }
            let alias = dd
                .repository
                .strip_prefix('@')
                .or_else(|| dd.repository.strip_prefix("alias:"));
            let found = repos
                .iter()
                .find(|r| alias.is_some_and(|a| a == r.name) || url_equal(&r.url, &dd.repository));
            match found {
                Some(r) => {
                    if alias.is_some_and(|a| a == r.name) {
                        dd.repository = r.url.clone();
                    }
                    names.insert(dd.name.clone(), r.name.clone());
                }
                // Go's url.ParseRequestURI: an absolute URL or an absolute path.
                None if has_scheme(&dd.repository) || dd.repository.starts_with('/') => {
                    names.insert(dd.repository.clone(), dd.repository.clone());
                }
                None => missing.push(dd.repository.clone()),
            }
        }
        if missing.is_empty() {
            return Ok(names);
        }
        Err(Error::UnresolvedRepositories(missing))
    }

    /// `Manager.ensureMissingRepos`: repositories that are not configured get a cache
    /// name `helm-manager-<sha256 of the URL>` and, unless skipped, their index fetched.
    fn ensure_missing_repos(
        &mut self,
        mut names: HashMap<String, String>,
        deps: &[Dependency],
    ) -> Result<HashMap<String, String>, Error> {
        let mut unmanaged = Vec::new();
        for dd in deps {
            if dd.repository.is_empty() || names.contains_key(&dd.name) {
                continue;
            }
            let rn = format!("{MANAGER_KEY_PREFIX}{}", digest(dd.repository.as_bytes()));
            names.insert(dd.name.clone(), rn.clone());
            unmanaged.push(RepoEntry {
                name: rn,
                url: dd.repository.clone(),
                ..Default::default()
            });
        }
        if !self.skip_update && !unmanaged.is_empty() {
            self.say("Getting updates for unmanaged Helm repositories...");
            self.parallel_repo_update(&unmanaged);
        }
        Ok(names)
    }

    /// `Manager.UpdateRepositories`: refresh every configured repository's index.
    pub fn update_repositories(&mut self) -> Result<(), Error> {
        let repos = self.repositories()?;
        if !repos.is_empty() {
            self.say("Hang tight while we grab the latest from your chart repositories...");
            self.parallel_repo_update(&repos);
            self.say("Update Complete. ⎈Happy Helming!⎈");
        }
        Ok(())
    }

    fn parallel_repo_update(&mut self, repos: &[RepoEntry]) {
        // One fetch per URL (trailing slash ignored); the last entry of a URL wins.
        let mut unique: Vec<RepoEntry> = Vec::new();
        for r in repos {
            let key = r.url.trim_end_matches('/');
            match unique
                .iter_mut()
                .find(|u| u.url.trim_end_matches('/') == key)
            {
                Some(slot) => *slot = r.clone(),
                None => unique.push(r.clone()),
            }
        }
        for r in unique {
            let managed = r.name.starts_with(MANAGER_KEY_PREFIX);
            let fetched = if is_oci(&r.url) {
                Err(oci_index_error(&r.url))
            } else {
                download_index_file(&r, &self.paths).map_err(|e| e.to_string())
            };
            let line = match fetched {
                Err(e) if managed => format!(
                    "...Unable to get an update from the {:?} chart repository:\n\t{e}",
                    r.url
                ),
                Err(e) => format!(
                    "...Unable to get an update from the {:?} chart repository ({}):\n\t{e}",
                    r.name, r.url
                ),
                Ok(_) if managed => format!(
                    "...Successfully got an update from the {:?} chart repository",
                    r.url
                ),
                Ok(_) => format!(
                    "...Successfully got an update from the {:?} chart repository",
                    r.name
                ),
            };
            self.say(&line);
        }
    }

    /// `Resolver.Resolve`: each dependency pinned to one version.
    fn resolve(&self, reqs: &[Dependency], names: &HashMap<String, String>) -> Result<Lock, Error> {
        let mut out = Vec::with_capacity(reqs.len());
        let mut missing = Vec::new();
        for d in reqs {
            let constraint = parse_constraint(d)?;
            let not_found = || {
                format!(
                    "{:?} (repository {:?}, version {:?})",
                    d.name, d.repository, d.version
                )
            };
            if d.repository.is_empty() {
                local_path(&format!("charts/{}", d.name), &self.chart_path)?;
                out.push(locked(&d.name, "", &d.version));
                continue;
            }
            if d.repository.starts_with("file://") {
                let dir = local_path(&d.repository, &self.chart_path)?;
                let ch = rudder_chart::loader::load_dir(&dir)?;
                let Ok(v) = Version::parse(&ch.metadata.version) else {
                    continue;
                };
                if !constraint.check(&v) {
                    missing.push(not_found());
                    continue;
                }
                out.push(locked(&d.name, &d.repository, &ch.metadata.version));
                continue;
            }
            let repo_name = names.get(&d.name).cloned().unwrap_or_default();
            if repo_name.is_empty() {
                out.push(locked(&d.name, &d.repository, &d.version));
                continue;
            }
            if is_oci(&d.repository) {
                // Helm counts an OCI dependency as found even when no tag is within the
                // constraint (resolver.go keeps `found` true on that path): the constraint
                // itself is locked, and the download reports that no tag matches.
                let version = self.resolve_oci(d, &constraint)?;
                out.push(locked(&d.name, &d.repository, &version));
                continue;
            }
            let index_path = self.paths.cache_index_file(&repo_name);
            let index = IndexFile::load(&index_path).map_err(|source| Error::NoCachedIndex {
                repo: repo_name.clone(),
                source: Box::new(source),
            })?;
            let Some(versions) = index.entries.get(&d.name) else {
                return Err(Error::NotInRepo {
                    name: d.name.clone(),
                    repository: d.repository.clone(),
                });
            };
            // Newest first: the first version that satisfies the constraint wins.
            let chosen = versions.iter().find(|cv| {
                !cv.urls.is_empty()
                    && Version::parse(&cv.version).is_ok_and(|v| constraint.check(&v))
            });
            match chosen {
                Some(cv) => out.push(locked(&d.name, &d.repository, &cv.version)),
                None => {
                    out.push(locked(&d.name, &d.repository, ""));
                    missing.push(not_found());
                }
            }
        }
        if !missing.is_empty() {
            return Err(Error::NoValidVersions(missing));
        }
        Ok(Lock {
            generated: crate::time::now(),
            digest: hash_req(reqs, &out),
            dependencies: out,
        })
    }

    /// The version of an OCI dependency: an exact version as it is, else the newest tag
    /// within the constraint, else the constraint as it is.
    fn resolve_oci(&self, d: &Dependency, constraint: &Constraints) -> Result<String, Error> {
        let tags = if Version::parse(&d.version).is_ok() {
            vec![d.version.clone()]
        } else {
            let reference = format!("{}/{}", d.repository.trim_start_matches("oci://"), d.name);
            let client = self
                .registry
                .as_ref()
                .ok_or_else(|| Error::NoRegistryClient {
                    reference: reference.clone(),
                    version: d.version.clone(),
                })?;
            client.tags(&reference).map_err(|source| Error::Tags {
                repository: d.repository.clone(),
                source,
            })?
        };
        Ok(tags
            .into_iter()
            .find(|t| Version::parse(t).is_ok_and(|v| constraint.check(&v)))
            .unwrap_or_else(|| d.version.clone()))
    }

    fn load_chart_repositories(&self) -> Result<Vec<(RepoEntry, IndexFile)>, Error> {
        let config = &self.paths.repository_config;
        let file = load_repositories(config).map_err(|source| Error::LoadRepositories {
            path: config.clone(),
            source: Box::new(source),
        })?;
        file.repositories
            .into_iter()
            .map(|r| {
                let index = IndexFile::load(&self.paths.cache_index_file(&r.name))?;
                Ok((r, index))
            })
            .collect()
    }

    /// `Manager.findChartURL`: the archive URL of `name` at the exact `version` in the
    /// repository at `repo_url`, with that repository's settings.
    fn find_chart_url(
        &self,
        name: &str,
        version: &str,
        repo_url: &str,
        repos: &[(RepoEntry, IndexFile)],
    ) -> Result<(String, GetOptions), Error> {
        if let Some((rc, index)) = repos.iter().find(|(rc, _)| url_equal(repo_url, &rc.url)) {
            let versions = index.entries.get(name).ok_or(Error::EntryNotFound)?;
            let ve = versions
                .iter()
                .filter(|cv| !cv.urls.is_empty())
                .find(|cv| version.is_empty() || version_equals(version, &cv.version))
                .ok_or(Error::NoMatchingVersion)?;
            let options = GetOptions {
                repo_url: rc.url.clone(),
                username: rc.username.clone(),
                password: rc.password.clone(),
                pass_credentials_all: rc.pass_credentials_all,
                insecure_skip_tls_verify: rc.insecure_skip_tls_verify,
                ca_file: rc.ca_file.clone(),
                cert_file: rc.cert_file.clone(),
                key_file: rc.key_file.clone(),
                plugins: Some(self.paths.clone()),
                ..GetOptions::default()
            };
            return Ok((resolve_reference_url(repo_url, &ve.urls[0]), options));
        }
        let plugins = GetOptions {
            plugins: Some(self.paths.clone()),
            ..GetOptions::default()
        };
        let url =
            downloader::find_chart_in_repo_url(&self.paths, repo_url, name, version, &plugins)
                .map_err(|source| Error::NotFoundAt {
                    name: name.to_string(),
                    url: repo_url.to_string(),
                    source: Box::new(source),
                })?;
        Ok((url, plugins))
    }

    /// `Manager.downloadAll`: every dependency into a temporary folder, then moved into
    /// `charts/` (see [`Manager::safe_move_deps`]). Versions of `file://` dependencies are
    /// set to the archived chart's.
    fn download_all(&mut self, deps: &mut [Dependency]) -> Result<(), Error> {
        let repos = self.load_chart_repositories()?;
        let dest = self.chart_path.join("charts");
        match fs::metadata(&dest) {
            Ok(m) if !m.is_dir() => return Err(Error::NotADirectory(dest)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(&dest).map_err(crate::Error::io("mkdir", &dest))?;
            }
            Err(source) => return Err(Error::Stat { path: dest, source }),
        }
        let tmp = self
            .chart_path
            .join(format!("tmpcharts-{}", std::process::id()));
        fs::create_dir_all(&tmp).map_err(crate::Error::io("mkdir", &tmp))?;
        let result = self.download_into(deps, &repos, &dest, &tmp);
        let result = result.and_then(|()| self.safe_move_deps(deps, &tmp, &dest));
        let _ = fs::remove_dir_all(&tmp);
        result
    }

    fn download_into(
        &mut self,
        deps: &mut [Dependency],
        repos: &[(RepoEntry, IndexFile)],
        dest: &Path,
        tmp: &Path,
    ) -> Result<(), Error> {
        let line = format!("Saving {} charts", deps.len());
        self.say(&line);
        let mut fetched: Vec<String> = Vec::new();
        let mut save_error = None;
        for dep in deps.iter_mut() {
            if dep.repository.is_empty() {
                let line = format!(
                    "Dependency {} did not declare a repository. Assuming it exists in the charts directory",
                    dep.name
                );
                self.say(&line);
                let path = dest.join(&dep.name);
                let ch = rudder_chart::loader::load_dir(&path).map_err(|source| {
                    Error::LoadDependency {
                        path: path.clone(),
                        source,
                    }
                })?;
                let constraint = parse_constraint(dep)?;
                let v = Version::parse(&ch.metadata.version).map_err(|reason| {
                    Error::InvalidVersion {
                        version: dep.version.clone(),
                        name: dep.name.clone(),
                        reason,
                    }
                })?;
                if !constraint.check(&v) {
                    save_error = Some(Error::Unsatisfied {
                        name: dep.name.clone(),
                        version: ch.metadata.version.clone(),
                        constraint: dep.version.clone(),
                    });
                    break;
                }
                continue;
            }
            if dep.repository.starts_with("file://") {
                if self.debug {
                    let line = format!("Archiving {} from repo {}", dep.name, dep.repository);
                    self.say(&line);
                }
                match self.tar_from_local_dir(dep, tmp) {
                    Ok(version) => dep.version = version,
                    Err(e) => {
                        save_error = Some(e);
                        break;
                    }
                }
                continue;
            }
            if is_oci(&dep.repository) {
                // `findChartURL` gives `REPO/NAME:VERSION`, which `parseOCIRef` splits again.
                // Helm then records the reference without its tag as downloaded, so its
                // "Already downloaded" check (made with the tag) never matches an OCI
                // dependency: each one is pulled, even twice the same version.
                let url = format!("{}/{}:{}", dep.repository, dep.name, dep.version);
                let line = format!("Downloading {} from repo {}", dep.name, dep.repository);
                self.say(&line);
                let (reference, version) = parse_oci_ref(&url)?;
                if let Err(source) = self.download_oci(&reference, &version, tmp) {
                    save_error = Some(Error::Download {
                        url: reference,
                        source,
                    });
                    break;
                }
                continue;
            }
            let (url, options) =
                match self.find_chart_url(&dep.name, &dep.version, &dep.repository, repos) {
                    Ok(found) => found,
                    Err(e) => {
                        save_error = Some(Error::CouldNotFind(Box::new(e)));
                        break;
                    }
                };
            if fetched.contains(&url) {
                let line = format!(
                    "Already downloaded {} from repo {}",
                    dep.name, dep.repository
                );
                self.say(&line);
                continue;
            }
            let line = format!("Downloading {} from repo {}", dep.name, dep.repository);
            self.say(&line);
            let got = downloader::resolve_chart_version(&self.paths, &url, "", &options).and_then(
                |located: Located| {
                    let saved = downloader::download_to(&self.paths.content_cache, &located, tmp)?;
                    Ok((located, saved))
                },
            );
            let checked = match got {
                Ok((located, saved)) if self.verify => self.verify_download(&located, &saved),
                Ok(_) => Ok(()),
                Err(source) => Err(Box::new(source) as DownloadFailure),
            };
            if let Err(source) = checked {
                save_error = Some(Error::Download { url, source });
                break;
            }
            fetched.push(url);
        }
        if let Some(e) = save_error {
            let line = format!("Save error occurred:  {e}");
            self.say(&line);
            return Err(e);
        }
        Ok(())
    }

    /// An OCI dependency pulled into `dest` as `NAME-VERSION.tgz` (with `verify`, its
    /// provenance layer beside it as `.prov`, then checked).
    fn download_oci(
        &mut self,
        reference: &str,
        version: &str,
        dest: &Path,
    ) -> Result<(), DownloadFailure> {
        let Some(client) = self.registry.as_ref() else {
            return Err(Box::new(Error::NoRegistryClient {
                reference: reference.to_string(),
                version: version.to_string(),
            }));
        };
        let chart = crate::oci::fetch::fetch_chart(client, reference, version, self.verify)?;
        let out: &mut dyn Write = match self.registry_out.as_mut() {
            Some(w) => &mut **w,
            None => &mut *self.out,
        };
        let _ = out.write_all(chart.output.as_bytes());
        let file = dest.join(&chart.file_name);
        fs::write(&file, &chart.data).map_err(crate::Error::io("open", &file))?;
        if !self.verify {
            return Ok(());
        }
        let prov = chart
            .prov
            .ok_or_else(|| Error::NoProvenance(chart.prov_url.clone()))?;
        self.check_provenance(&file, &prov)
    }

    /// `--verify` of a dependency downloaded from a chart repository: `URL.prov` fetched
    /// with the archive's options, saved beside it, and checked.
    fn verify_download(&self, located: &Located, saved: &Path) -> Result<(), DownloadFailure> {
        let prov_url = match located.url.find(['?', '#']) {
            Some(i) => format!("{}.prov{}", &located.url[..i], &located.url[i..]),
            None => format!("{}.prov", located.url),
        };
        let prov = crate::getter::get(&prov_url, &located.options)
            .map_err(|_| Error::NoProvenance(prov_url.clone()))?;
        self.check_provenance(saved, &prov)
    }

    /// `VerifyChart(file, file+".prov", keyring)` after saving the provenance file.
    fn check_provenance(&self, archive: &Path, prov: &[u8]) -> Result<(), DownloadFailure> {
        let mut prov_path = archive.as_os_str().to_owned();
        prov_path.push(".prov");
        let prov_path = PathBuf::from(prov_path);
        fs::write(&prov_path, prov).map_err(crate::Error::io("open", &prov_path))?;
        crate::provenance::verify_chart(archive, &prov_path, &self.keyring)?;
        Ok(())
    }

    /// `tarFromLocalDir`: a `file://` dependency packaged into `dest`; returns its version.
    fn tar_from_local_dir(&self, dep: &Dependency, dest: &Path) -> Result<String, Error> {
        let dir = local_path(&dep.repository, &self.chart_path)?;
        let ch = rudder_chart::loader::load_dir(&dir)?;
        let constraint = parse_constraint(dep)?;
        let v = Version::parse(&ch.metadata.version).map_err(Error::Version)?;
        if !constraint.check(&v) {
            return Err(Error::NoValidVersion(dep.name.clone()));
        }
        let data = rudder_chart::package::archive(
            &ch,
            &rudder_chart::package::MetadataOverrides::default(),
        )?;
        let file = dest.join(format!("{}-{}.tgz", ch.metadata.name, ch.metadata.version));
        fs::write(&file, data).map_err(crate::Error::io("open", &file))?;
        Ok(ch.metadata.version.clone())
    }

    /// `Manager.safeMoveDeps`: the downloaded archives that load as charts replace those
    /// of the same name in `charts/`; other archives in `charts/` are deleted unless they
    /// are charts without a repository (kept in charts/ by hand).
    fn safe_move_deps(
        &mut self,
        deps: &[Dependency],
        source: &Path,
        dest: &Path,
    ) -> Result<(), Error> {
        let list = |dir: &Path| -> Result<Vec<(String, bool)>, Error> {
            let mut v: Vec<(String, bool)> = fs::read_dir(dir)
                .map_err(crate::Error::io("open", dir))?
                .filter_map(Result::ok)
                .map(|e| {
                    let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                    (e.file_name().to_string_lossy().into_owned(), is_dir)
                })
                .collect();
            v.sort();
            Ok(v)
        };
        let source_files = list(source)?;
        let dest_files = list(dest)?;
        let local: Vec<&str> = deps
            .iter()
            .filter(|d| d.repository.is_empty())
            .map(|d| d.name.as_str())
            .collect();
        let mut in_source = Vec::new();
        for (name, is_dir) in &source_files {
            if *is_dir {
                continue;
            }
            let from = source.join(name);
            let to = dest.join(name);
            in_source.push(name.clone());
            if let Err(e) = load_file(&from) {
                let line = format!(
                    "Could not verify {} for moving: {e} (Skipping)",
                    from.display()
                );
                let _ = write!(self.out, "{line}");
                continue;
            }
            if let Err(e) = fs::rename(&from, &to).or_else(|_| {
                fs::copy(&from, &to)
                    .map(|_| ())
                    .and_then(|()| fs::remove_file(&from))
            }) {
                let _ = write!(
                    self.out,
                    "Unable to move {} to charts dir {} (Skipping)",
                    from.display(),
                    io_error_text(&e)
                );
            }
        }
        self.say("Deleting outdated charts");
        for (name, is_dir) in &dest_files {
            if *is_dir || in_source.contains(name) {
                continue;
            }
            let file = dest.join(name);
            let ch = match load_file(&file) {
                Ok(ch) => ch,
                Err(e) => {
                    let line = format!(
                        "Could not verify {} for deletion: {e} (Skipping)",
                        file.display()
                    );
                    self.say(&line);
                    continue;
                }
            };
            if local.contains(&ch.metadata.name.as_str()) {
                continue;
            }
            if let Err(e) = fs::remove_file(&file) {
                let _ = write!(
                    self.out,
                    "Could not delete {}: {} (Skipping)",
                    file.display(),
                    io_error_text(&e)
                );
            }
        }
        Ok(())
    }

    /// `writeLock`: Chart.lock (requirements.lock for apiVersion v1), refusing to write
    /// through a symbolic link.
    fn write_lock(&self, lock: &Lock, legacy: bool) -> Result<(), Error> {
        let text = lock_yaml(lock)?;
        let name = if legacy {
            "requirements.lock"
        } else {
            "Chart.lock"
        };
        let dest = self.chart_path.join(name);
        if let Ok(meta) = fs::symlink_metadata(&dest) {
            if meta.file_type().is_symlink() {
                let link = fs::read_link(&dest).map_err(|source| Error::ReadSymlink {
                    path: dest.clone(),
                    source,
                })?;
                return Err(Error::LockIsSymlink { name, target: link });
            }
        }
        Ok(fs::write(&dest, text).map_err(crate::Error::io("open", &dest))?)
    }
}

/// Helm's `loader.LoadFile` as the move and clean-up steps use it: a file that is not
/// gzip is refused first with `archive.EnsureArchive`'s words, which name the file and the
/// content type Go's `http.DetectContentType` gives it (only its text/binary split is
/// rebuilt here: what lands in charts/ or tmpcharts/ is an archive, a provenance file, or
/// some other file; a text file is `text/plain; charset=utf-8`).
fn load_file(path: &Path) -> Result<Chart, String> {
    let data =
        fs::read(path).map_err(|e| format!("open {}: {}", path.display(), io_error_text(&e)))?;
    if !data.starts_with(&[0x1f, 0x8b]) {
        let name = path.display();
        let text = name.to_string();
        if text.ends_with(".yml") || text.ends_with(".yaml") {
            return Err(format!(
                "file '{name}' seems to be a YAML file, but expected a gzipped archive"
            ));
        }
        return Err(format!(
            "file '{name}' does not appear to be a gzipped archive; got '{}'",
            sniffed_type(&data)
        ));
    }
    rudder_chart::loader::load_archive(&data).map_err(|e| e.to_string())
}

/// `http.DetectContentType` for what is not an archive: text when the first 512 bytes hold
/// none of the bytes Go calls binary (empty data is text too), else octet-stream.
fn sniffed_type(data: &[u8]) -> &'static str {
    let head = &data[..data.len().min(512)];
    let binary = head.iter().any(|&b| {
        b <= 0x08 || b == 0x0B || (0x0E..=0x1A).contains(&b) || (0x1C..=0x1F).contains(&b)
    });
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// `versionEquals`: equal as semantic versions, or as strings when `v1` is not one.
fn version_equals(v1: &str, v2: &str) -> bool {
    match Version::parse(v1) {
        Err(_) => v1 == v2,
        Ok(a) => Version::parse(v2).is_ok_and(|b| a.compare(&b).is_eq()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, version: &str, repository: &str) -> Dependency {
        Dependency {
            name: name.into(),
            version: version.into(),
            repository: repository.into(),
            ..Default::default()
        }
    }

    #[test]
    fn dependency_json_follows_go_field_order_and_omitempty() {
        let mut d = dep("web", "^1.0.0", "https://x.io/<c>");
        d.condition = "web.enabled".into();
        d.tags = vec!["front".into()];
        d.alias = "site".into();
        d.import_values = vec![Value::str("data")];
        assert_eq!(
            dependency_json(&d),
            r#"{"name":"web","version":"^1.0.0","repository":"https://x.io/\u003cc\u003e","condition":"web.enabled","tags":["front"],"import-values":["data"],"alias":"site"}"#
        );
        assert_eq!(
            dependency_json(&dep("a", "", "")),
            r#"{"name":"a","repository":""}"#
        );
    }

    #[test]
    fn lock_text_is_sorted_and_quotes_the_time() {
        let lock = Lock {
            generated: "2026-01-02T03:04:05.5Z".into(),
            digest: "sha256:00".into(),
            dependencies: vec![dep("a", "1.0.0", "https://x.io")],
        };
        assert_eq!(
            lock_yaml(&lock).unwrap(),
            "dependencies:\n- name: a\n  repository: https://x.io\n  version: 1.0.0\ndigest: sha256:00\ngenerated: \"2026-01-02T03:04:05.5Z\"\n"
        );
    }

    #[test]
    fn oci_references_split_at_the_tag() {
        assert_eq!(
            parse_oci_ref("oci://127.0.0.1:5000/charts/web:1.2.3").unwrap(),
            ("oci://127.0.0.1:5000/charts/web".into(), "1.2.3".into())
        );
        assert_eq!(
            parse_oci_ref("oci://ghcr.io/org/web:^1.0").unwrap(),
            ("oci://ghcr.io/org/web".into(), "^1.0".into())
        );
        assert_eq!(
            parse_oci_ref("oci://host/web:1.0.0+build").unwrap(),
            ("oci://host/web".into(), "1.0.0+build".into())
        );
        // As Go's regexp backtracks for `^(oci://[^:]+(:[0-9]{1,5})?[^:]+):(.*)$`.
        assert_eq!(
            parse_oci_ref("oci://host:5000/web").unwrap(),
            ("oci://host".into(), "5000/web".into())
        );
        assert_eq!(
            parse_oci_ref("oci://host/web").unwrap_err().to_string(),
            "could not parse OCI reference: improperly formatted oci chart reference: oci://host/web"
        );
    }

    #[test]
    fn oci_repositories_have_no_index() {
        assert_eq!(
            oci_index_error("oci://127.0.0.1:5000/charts"),
            "failed to perform \"FetchReference\" on source: invalid reference"
        );
    }

    #[test]
    fn non_archives_are_named_with_their_sniffed_type() {
        assert_eq!(
            sniffed_type(b"-----BEGIN PGP SIGNED MESSAGE-----\n"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(sniffed_type(b"\x00\x01binary"), "application/octet-stream");
    }

    #[test]
    fn version_equality() {
        assert!(version_equals("1.0.0", "v1.0.0"));
        assert!(!version_equals("1.0.0", "1.0.1"));
        assert!(version_equals("abc", "abc"));
    }
}
