//! Helm's rendering for rudder: the context templates see (`.Values`, `.Chart`, `.Release`,
//! `.Capabilities`, `.Files`, `.Template`, `.Subcharts`), the functions bound to a render
//! (`include`, `tpl`, `required`, `fail`, `lookup`), rendering a whole chart tree, Helm's
//! wording of template errors, and splitting rendered output into manifests and hooks in
//! Helm's order. Knows nothing of how manifests reach a cluster.

#![forbid(unsafe_code)]

pub mod capabilities;
pub mod errors;
pub mod files;
pub mod manifest;
pub mod parse_cache;
pub mod render;

pub use capabilities::{Capabilities, HelmVersion, KubeVersion, KubeVersionError};
pub use manifest::{
    sort_manifests, split_manifests, Head, HeadError, Hook, Manifest, SortError, INSTALL_ORDER,
};
pub use render::{
    metadata_to_value, render_name_template, render_plain_template, render_values, Engine, Lookup,
    ReleaseOptions, RenderError,
};
