//! Helm plugins, as Helm v4 defines them (`internal/plugin` in Helm's sources).
//!
//! A plugin is a directory holding `plugin.yaml`, found as `<dir>/*/plugin.yaml` under each
//! directory of `HELM_PLUGINS`, so that plugins installed by `helm` work in `rudder` and the
//! reverse. `plugin.yaml` comes in two schemas: Helm 4's versioned one (`apiVersion: v1`,
//! `type`, `runtime`, `config`, `runtimeConfig`) and Helm 3's legacy one (`command`,
//! `platformCommand`, `hooks`, `downloaders`, ...), which Helm reads as a `subprocess`
//! plugin of type `cli/v1` (or `getter/v1` when it has downloaders); [`Metadata`] is that
//! common form. Only the `subprocess` runtime runs; Helm's Wasm runtime (`extism/v1`) loads
//! but refuses to run, naming the plugin.
//!
//! Plugins install from a directory (a symlink, "development mode") or from an archive
//! (a local file, an HTTP download or an OCI pull: [`Source`]), laid out under
//! `HELM_PLUGINS` as Helm lays them out; the downloads and provenance checks are done by
//! the caller (rudder-action), since the repository crate that does them uses this one for
//! getter plugins.
//!
//! Hand-written: the schemas are small and read through rudder-value's YAML reader (the one
//! Helm's chart files go through), and the few Go behaviours plugins depend on (`os.Expand`,
//! Helm's platform command choice) must be followed exactly, which no crate does.

#![forbid(unsafe_code)]

mod archive;
mod error;
mod install;
mod metadata;
mod run;
mod store;

pub use archive::{
    create_tarball, extract_tgz, is_archive_name, metadata_from_tgz, strip_plugin_name,
    ARCHIVE_SUFFIXES,
};
pub use error::Error;
pub use install::{ensure_not_installed, install_from_archive, ArchiveOrigin, Source};
pub use metadata::{
    signing_yaml, CliConfig, Config, Metadata, PlatformCommand, RuntimeConfig, SubprocessConfig,
    PLUGIN_FILE_NAME,
};
pub use run::{expand, prepare_command, GetterOptions, Plugin};
pub use store::{
    find_plugin, find_plugins, install_from_directory, load_all, load_dir, split_plugin_dirs,
    uninstall, update, Descriptor, Found, Installed,
};
