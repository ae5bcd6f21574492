//! Helm's chart repository model, reading and writing the files Helm does.
//!
//! - [`paths`]: where Helm keeps its configuration, cache and data (`helmpath`, with the
//!   `HELM_*` and XDG variables).
//! - [`repofile`]: `repositories.yaml`, written owner-only as Helm does.
//! - [`index`]: repository `index.yaml` files: loading (invalid entries skipped, versions
//!   sorted newest first), merging and writing; [`directory`]: `helm repo index`.
//! - [`search`]: `helm search repo`: Helm's scoring, ordering, version constraints and table.
//! - [`resolve`]: chart references (`repo/chart`, archive URLs) to download URLs.
//! - [`getter`]: HTTP(S) downloads with Helm's credential, CA, client-certificate and
//!   insecure-skip-verify rules (ureq with rustls); [`chartrepo`]: fetching and caching a
//!   repository's index (`repo add`, `repo update`).
//!
//! YAML is read and written through `rudder-value`, which follows `sigs.k8s.io/yaml` (YAML
//! to JSON to Go structs, and go-yaml v2's layout with sorted keys on the way out), so index
//! and repository files come out laid out as Helm's.
//!
//! - [`oci`]: charts in OCI registries (push, pull, tags, login) with Helm's media types,
//!   annotations and registry credentials file.
//!
//! - [`downloader`]: chart references to archives in Helm's content cache or a folder;
//!   [`manager`]: `helm dependency update/build` and Chart.lock.
//!
//! - [`oci`]: OCI registries (push, pull, login credentials).
//! - [`provenance`]: signing and verifying `.prov` files (`package --sign`, `verify`).

#![forbid(unsafe_code)]

pub mod chartrepo;
pub mod directory;
pub mod downloader;
mod error;
pub mod getter;
pub mod hub;
pub mod index;
pub mod manager;
pub mod oci;
pub mod paths;
pub mod provenance;
pub mod repofile;
pub mod resolve;
pub mod search;
mod time;

pub use error::Error;
pub use index::{ChartVersion, IndexFile};
pub use paths::HelmPaths;
pub use repofile::{RepoEntry, RepoFile};
