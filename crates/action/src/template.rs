//! `rudder template`: what `helm template` prints (Helm v4.2.3's `pkg/cmd/template.go` over a
//! client-only dry-run install).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rudder_engine::{
    sort_manifests, split_manifests, Capabilities, Engine, KubeVersion, Manifest, ReleaseOptions,
};

use crate::{charts, Error, ValueOptions};

/// Options of `rudder template` (the flags of `helm template`).
#[derive(Clone, Debug, Default)]
pub struct TemplateOptions {
    /// `--post-renderer`: the plugin that rewrites the rendered files.
    pub post_renderer: Option<crate::PostRenderer>,
    pub release_name: String,
    pub namespace: String,
    pub values: ValueOptions,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    pub is_upgrade: bool,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub no_hooks: bool,
    pub show_only: Vec<String>,
    pub output_dir: Option<String>,
    pub use_release_name: bool,
    pub skip_schema_validation: bool,
    pub enable_dns: bool,
    pub hide_secret: bool,
    /// `--skip-crds` (only matters to a server-side render's CRD warning).
    pub skip_crds: bool,
    pub debug: bool,
    /// Where the chart is looked for (`--version`, `--repo`...).
    pub chart: crate::ChartPathOptions,
    /// Where the warnings Helm logs go.
    pub log: crate::LogSink,
    /// `--dry-run=server`: what the cluster gives the render (see
    /// [`crate::release::server_render`]); `None` renders client-side.
    pub server: Option<ServerRender>,
}

/// What a render takes from the cluster under `--dry-run=server`: the cluster's version and
/// API groups (instead of Helm's defaults, `--kube-version` and `--api-versions`) and
/// `lookup` answered by the cluster.
#[derive(Clone)]
pub struct ServerRender {
    pub capabilities: Capabilities,
    pub lookup: std::sync::Arc<dyn rudder_engine::Lookup>,
}

impl std::fmt::Debug for ServerRender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerRender")
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

/// One document as Helm frames it in a release's manifest and in `helm template`'s output.
pub(crate) fn source_block(path: &str, body: &str) -> String {
    format!("---\n# Source: {path}\n{body}\n")
}

/// [`source_block`] for a rendered manifest; with `hide_secret` (`--hide-secret`), a v1
/// Secret's body gives way to Helm's HIDDEN line.
pub(crate) fn manifest_block(m: &Manifest, hide_secret: bool) -> String {
    if hide_secret && m.head.kind == "Secret" && m.head.api_version == "v1" {
        source_block(&m.path, "# HIDDEN: The Secret output has been suppressed")
    } else {
        source_block(&m.path, &m.content)
    }
}

/// The release name that `--name-template` gives (Helm's `TemplateName`).
pub fn template_name(name_template: &str) -> Result<String, Error> {
    rudder_engine::render_name_template(name_template).map_err(Error::typed)
}

/// Helm's `--generate-name`: the chart argument's base name up to its first dot, and the
/// current Unix time.
pub fn generate_name(chart: &str) -> String {
    let base = Path::new(chart)
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = match base.as_str() {
        "" | "." => "chart".to_string(),
        b => b.split('.').next().unwrap_or(b).to_string(),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{base}-{now}")
}

/// Helm's release name check, worded as `helm template` reports it.
pub(crate) fn validate_release_name(name: &str) -> Result<(), Error> {
    rudder_chart::validate_release_name(name).map_err(|e| {
        Error::context(
            format!("release name check failed: release name {name:?}: {e}"),
            e,
        )
    })
}

/// `--kube-version`'s value, refused as `helm template` refuses it.
pub fn parse_kube_version(v: &str) -> Result<KubeVersion, Error> {
    KubeVersion::parse(v).map_err(|e| Error::message(format!("invalid kube version '{v}': {e}")))
}

/// Renders `chart_ref` as `helm template` does and returns what it prints on standard output.
pub fn template(chart_ref: &str, opts: &TemplateOptions) -> Result<String, Error> {
    let mut capabilities = Capabilities::default();
    if let Some(v) = &opts.kube_version {
        capabilities.kube_version = parse_kube_version(v)?;
    }
    capabilities
        .api_versions
        .extend(opts.api_versions.iter().cloned());
    // A server-side render takes the cluster's capabilities; Helm then ignores
    // --kube-version and --api-versions.
    if let Some(server) = &opts.server {
        capabilities = server.capabilities.clone();
    }

    let user_values = charts::user_values(&opts.values)?;
    let mut chart =
        rudder_value::teardown::FreedUnlessSkipped::new(charts::load_with_dependencies(
            chart_ref,
            &opts.chart,
            charts::DeprecationCheck::BeforeDependencies,
            &opts.log,
        )?);
    validate_release_name(&opts.release_name)?;
    charts::process_dependencies(&mut chart, &user_values, &opts.log)?;
    if opts.server.is_some() && !opts.skip_crds && !chart.crd_objects().is_empty() {
        opts.log.emit(crate::LogRecord::warn(
            "This chart or one of its subcharts contains CRDs. Rendering may fail or contain inaccuracies.",
        ));
    }

    let release = ReleaseOptions {
        name: opts.release_name.clone(),
        namespace: opts.namespace.clone(),
        revision: 1,
        is_install: !opts.is_upgrade,
        is_upgrade: opts.is_upgrade,
    };
    let values = charts::coalesce(&chart, &user_values, opts.skip_schema_validation, &opts.log)?;
    let top = rudder_engine::render_values(&chart, values, &release, &capabilities);

    // From here on Helm has a release to show, so its errors suggest --debug.
    let with_hint = |e: Error| {
        if opts.debug {
            e
        } else {
            Error::context(
                format!("{e}\n\nUse --debug flag to render out invalid YAML"),
                e,
            )
        }
    };
    if !chart.metadata.kube_version.is_empty()
        && !charts::kube_version_compatible(
            &chart.metadata.kube_version,
            &capabilities.kube_version.normalized,
        )
    {
        return Err(with_hint(Error::message(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.metadata.kube_version, capabilities.kube_version.version
        ))));
    }

    let engine = Engine {
        enable_dns: opts.enable_dns,
        lookup: opts.server.as_ref().map(|s| s.lookup.clone()),
        ..Engine::default()
    };
    let mut files = engine
        .render(&chart, &top)
        .map_err(|e| with_hint(Error::typed(e)))?;
    files.retain(|path, _| !path.ends_with("NOTES.txt"));
    if let Some(renderer) = &opts.post_renderer {
        crate::post_render_files(&mut files, renderer)?;
    }
    let mut logs = Vec::new();
    let sorted = sort_manifests(files.iter(), &mut logs);
    opts.log.emit_all(logs);
    let (hooks, manifests) = sorted.map_err(|e| with_hint(Error::typed(e)))?;

    let mut out = String::new();
    let mut manifest = String::new();
    let mut written: BTreeMap<String, bool> = BTreeMap::new();
    let release_dir = |dir: &str| {
        if opts.use_release_name {
            format!("{dir}/{}", opts.release_name)
        } else {
            dir.to_string()
        }
    };
    if opts.include_crds {
        for crd in chart.crd_objects() {
            match &opts.output_dir {
                None => manifest.push_str(&source_block(&crd.filename, &crd.text)),
                Some(dir) => {
                    let seen = written.contains_key(&crd.filename);
                    write_to_file(dir, &crd.filename, &crd.text, seen, &mut out)?;
                    written.insert(crd.filename, true);
                }
            }
        }
    }
    for m in &manifests {
        match &opts.output_dir {
            None => manifest.push_str(&manifest_block(m, opts.hide_secret)),
            Some(dir) => {
                let dir = release_dir(dir);
                write_to_file(
                    &dir,
                    &m.path,
                    &m.content,
                    written.contains_key(&m.path),
                    &mut out,
                )?;
                written.insert(m.path.clone(), true);
            }
        }
    }

    let mut printed = String::new();
    printed.push_str(manifest.trim());
    printed.push('\n');
    if !opts.no_hooks {
        let mut hook_written: BTreeMap<String, bool> = BTreeMap::new();
        for h in &hooks {
            if opts.skip_tests && h.events.iter().any(|e| e == "test") {
                continue;
            }
            match &opts.output_dir {
                None => printed.push_str(&source_block(&h.path, &h.manifest)),
                Some(dir) => {
                    let dir = release_dir(dir);
                    let target = Path::new(&dir).join(&h.path);
                    if target.exists() {
                        hook_written.insert(h.path.clone(), true);
                    }
                    let append = hook_written.contains_key(&h.path);
                    write_to_file(&dir, &h.path, &h.manifest, append, &mut out)?;
                }
            }
        }
    }

    if opts.show_only.is_empty() {
        out.push_str(&printed);
        return Ok(out);
    }
    let docs = split_manifests(&printed);
    let mut selected = Vec::new();
    for pattern in &opts.show_only {
        let mut missing = true;
        for doc in &docs {
            let Some(name) = source_name(doc) else {
                continue;
            };
            if go_path_match(pattern, name) {
                selected.push(*doc);
                missing = false;
            }
        }
        if missing {
            return Err(Error::message(format!(
                "could not find template {pattern} in chart"
            )));
        }
    }
    for doc in selected {
        out.push_str(&format!("---\n{doc}\n"));
    }
    Ok(out)
}

/// The path after the chart name in a document's `# Source: chart/PATH` line (Helm's
/// `# Source: [^/]+/(.+)`, first match anywhere in the document).
fn source_name(doc: &str) -> Option<&str> {
    let start = doc.find("# Source: ")? + "# Source: ".len();
    let rest = &doc[start..];
    let slash = rest.find('/')?;
    if slash == 0 || rest[..slash].contains('\n') {
        return None;
    }
    let tail = &rest[slash + 1..];
    let end = tail.find('\n').unwrap_or(tail.len());
    (end > 0).then(|| &tail[..end])
}

/// Helm's `writeToFile` for `--output-dir`: appends or creates, and reports `wrote FILE`.
fn write_to_file(
    dir: &str,
    name: &str,
    data: &str,
    append: bool,
    report: &mut String,
) -> Result<(), Error> {
    use std::io::Write;
    let path = format!("{dir}/{name}");
    if let Some(parent) = Path::new(&path).parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::message(format!("{}: {e}", parent.display())))?;
    }
    let mut file = if append {
        std::fs::OpenOptions::new().append(true).open(&path)
    } else {
        std::fs::File::create(&path)
    }
    .map_err(|e| Error::message(format!("open {path}: {e}")))?;
    file.write_all(source_block(name, data).as_bytes())
        .map_err(|e| Error::message(format!("write {path}: {e}")))?;
    report.push_str(&format!("wrote {path}\n"));
    Ok(())
}

fn go_path_match(pattern: &str, name: &str) -> bool {
    rudder_chart::path_match(pattern, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names() {
        assert_eq!(
            source_name("# Source: c/templates/a.yaml\nx: 1"),
            Some("templates/a.yaml")
        );
        assert_eq!(source_name("x: 1"), None);
    }

    #[test]
    fn release_names() {
        assert!(validate_release_name("my-milvus").is_ok());
        assert!(validate_release_name("a.b").is_ok());
        assert!(validate_release_name("My").is_err());
        assert!(validate_release_name("-a").is_err());
        assert!(validate_release_name(&"a".repeat(54)).is_err());
    }
}
