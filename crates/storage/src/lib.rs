//! Release storage, compatible with Helm's: the same record format (see [`release`]), the same
//! drivers (Secrets, ConfigMaps, memory, PostgreSQL; chosen by `HELM_DRIVER`) and the same history
//! operations ([`Storage`]), so that `helm` and `rudder` read and write each other's releases.

#![forbid(unsafe_code)]

pub mod driver;
pub mod release;
pub mod sql;

use std::sync::Arc;

pub use driver::{Driver, KubeObjects, Memory, ObjectKind, MAX_OBJECT_DATA};
pub use release::{status, Hook, HookExecution, Info, Release};
pub use sql::Sql;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Helm's `ErrReleaseNotFound`.
    #[error("release: not found")]
    NotFound,
    /// Helm's `ErrReleaseExists`.
    #[error("release: already exists")]
    Exists,
    #[error("{0:?} has no deployed releases")]
    NoDeployedReleases(String),
    #[error("{0}")]
    Codec(String),
    #[error("{0}")]
    Kube(#[from] rudder_kube::Error),
    /// Helm's Secret and ConfigMap drivers' wording for a record they could not store.
    #[error("create: failed to create: {0}")]
    Create(#[source] rudder_kube::Error),
    #[error("update: failed to update: {0}")]
    Update(#[source] rudder_kube::Error),
    /// The API server refused a record over the 1 MiB an object may hold (as it refuses
    /// Helm's); says how rudder can store it anyway.
    #[error("{refused} (the release record is {size} bytes, over the {MAX_OBJECT_DATA} bytes a {kind} may hold; with RUDDER_SPLIT_LARGE_RELEASES=true rudder stores it across several {kind}s, which Helm cannot read)")]
    TooLarge {
        refused: Box<Error>,
        size: usize,
        kind: &'static str,
    },
    /// The SQL driver's database (the `postgres` crate's message names only the kind of
    /// failure: its causes are part of the text).
    #[error("{}", sql::describe(.0))]
    Sql(#[from] postgres::Error),
    /// The SQL driver could not connect; `settings` are the TLS settings in force.
    #[error("could not connect to PostgreSQL ({settings}): {}", sql::describe(.source))]
    SqlConnect {
        settings: String,
        #[source]
        source: postgres::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The store could not be reached (an API server restarting, say): worth trying again.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Kube(e) | Error::Create(e) | Error::Update(e) => e.is_unreachable(),
            _ => false,
        }
    }
}

/// `sh.helm.release.v1.<name>.v<version>`.
pub fn make_key(name: &str, version: i64) -> String {
    format!("sh.helm.release.v1.{name}.v{version}")
}

/// Helm's `storage.Storage`: release history over a driver.
pub struct Storage<'d> {
    pub driver: Arc<dyn Driver + 'd>,
    /// Revisions kept per release when creating a new one (0: all).
    pub max_history: usize,
}

impl<'d> Storage<'d> {
    pub fn new(driver: Arc<dyn Driver + 'd>) -> Storage<'d> {
        Storage {
            driver,
            max_history: 0,
        }
    }

    pub fn get(&self, name: &str, version: i64) -> Result<Release, Error> {
        self.driver.get(&make_key(name, version))
    }

    /// Stores a new revision, first pruning the oldest ones beyond `max_history`.
    pub fn create(&self, release: &Release) -> Result<(), Error> {
        if self.max_history > 0 {
            match self.remove_least_recent(&release.name, self.max_history - 1) {
                Ok(()) | Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        self.driver
            .create(&make_key(&release.name, release.version), release)
    }

    pub fn update(&self, release: &Release) -> Result<(), Error> {
        self.driver
            .update(&make_key(&release.name, release.version), release)
    }

    pub fn delete(&self, name: &str, version: i64) -> Result<Release, Error> {
        self.driver.delete(&make_key(name, version))
    }

    /// Every revision of every release the driver sees.
    pub fn list_all(&self) -> Result<Vec<Release>, Error> {
        self.driver.list()
    }

    /// Every revision of `name`, in no particular order (empty when there is none).
    pub fn history(&self, name: &str) -> Result<Vec<Release>, Error> {
        match self.driver.query(&[("name", name), ("owner", "helm")]) {
            Ok(h) => Ok(h),
            Err(Error::NotFound) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The latest revision with status `deployed`.
    pub fn deployed(&self, name: &str) -> Result<Release, Error> {
        let found =
            match self
                .driver
                .query(&[("name", name), ("owner", "helm"), ("status", "deployed")])
            {
                Ok(found) => found,
                Err(Error::NotFound) => Vec::new(),
                Err(e) => return Err(e),
            };
        found
            .into_iter()
            .max_by_key(|r| r.version)
            .ok_or_else(|| Error::NoDeployedReleases(name.to_string()))
    }

    /// The highest revision of `name` ([`Error::NotFound`] when it has none; a store that
    /// cannot be read is its own error).
    pub fn last(&self, name: &str) -> Result<Release, Error> {
        self.history(name)?
            .into_iter()
            .max_by_key(|r| r.version)
            .ok_or(Error::NotFound)
    }

    /// Deletes the oldest revisions until `maximum` remain, never the deployed one.
    fn remove_least_recent(&self, name: &str, maximum: usize) -> Result<(), Error> {
        let mut history = self.history(name)?;
        if history.len() <= maximum {
            return Ok(());
        }
        history.sort_by_key(|r| r.version);
        let last_deployed = match self.deployed(name) {
            Ok(r) => Some(r.version),
            Err(Error::NoDeployedReleases(_)) => None,
            Err(e) => return Err(e),
        };
        let mut doomed = Vec::new();
        for r in &history {
            if history.len() - doomed.len() == maximum {
                break;
            }
            if Some(r.version) != last_deployed {
                doomed.push(r.version);
            }
        }
        let mut first_error = None;
        for version in doomed {
            if let Err(e) = self.delete(name, version) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(version: i64, st: &str) -> Release {
        let mut r = Release {
            name: "app".into(),
            namespace: "default".into(),
            version,
            ..Release::default()
        };
        r.set_status(st, "");
        r
    }

    #[test]
    fn pruning_keeps_the_deployed_revision() {
        let storage = Storage {
            driver: Arc::new(Memory::new("default")),
            max_history: 3,
        };
        storage.create(&rel(1, status::DEPLOYED)).unwrap();
        for v in 2..=5 {
            storage.create(&rel(v, status::FAILED)).unwrap();
        }
        let mut versions: Vec<i64> = storage
            .history("app")
            .unwrap()
            .iter()
            .map(|r| r.version)
            .collect();
        versions.sort();
        assert_eq!(versions, vec![1, 4, 5]);
        assert_eq!(storage.deployed("app").unwrap().version, 1);
        assert_eq!(storage.last("app").unwrap().version, 5);
    }

    #[test]
    fn missing_releases_have_no_history() {
        let storage = Storage::new(Arc::new(Memory::new("default")));
        assert!(storage.history("nope").unwrap().is_empty());
        assert_eq!(
            storage.deployed("nope").unwrap_err().to_string(),
            "\"nope\" has no deployed releases"
        );
        assert_eq!(
            storage.get("nope", 1).unwrap_err().to_string(),
            "release: not found"
        );
    }
}
