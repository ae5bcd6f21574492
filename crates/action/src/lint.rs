//! `rudder lint`: Helm's chart checks (pkg/chart/v2/lint) and `helm lint`'s report.
//!
//! Implemented rules: Chart.yaml (parse, strict parse, name, apiVersion, version and
//! appVersion types, SemVer, maintainers, icon, sources, type and dependencies per
//! apiVersion, strict SemVer 2), values.yaml (presence, parse, schema), templates (folder,
//! file extensions, rendering in lint mode, YAML validity of every rendered document,
//! top-level indentation, metadata names, deprecated Kubernetes APIs, workload selectors)
//! and dependencies present in charts/. Not yet: the list-annotation check, CRD file checks.

use std::path::Path;

use rudder_chart::Chart;
use rudder_engine::{render_values, Capabilities, Engine, KubeVersion, ReleaseOptions};
use rudder_value::{yaml, Map, Value};

use crate::{charts, ValueOptions};

#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    pub namespace: String,
    pub values: ValueOptions,
    pub strict: bool,
    pub with_subcharts: bool,
    pub quiet: bool,
    pub skip_schema_validation: bool,
    pub kube_version: Option<String>,
    /// Where the warnings Helm logs go.
    pub log: crate::LogSink,
}

/// What `helm lint` prints, and the summary error when a chart failed.
pub struct LintReport {
    pub output: String,
    pub failure: Option<String>,
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Severity {
    Info = 1,
    Warning = 2,
    Error = 3,
}

struct Message {
    severity: Severity,
    path: String,
    text: String,
}

impl Message {
    fn line(&self) -> String {
        let sev = match self.severity {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        };
        format!("[{sev}] {}: {}", self.path, self.text)
    }
}

#[derive(Default)]
struct Linter {
    messages: Vec<Message>,
}

impl Linter {
    fn rule(&mut self, severity: Severity, path: &str, result: Result<(), String>) -> bool {
        match result {
            Ok(()) => true,
            Err(text) => {
                self.messages.push(Message {
                    severity,
                    path: path.to_string(),
                    text,
                });
                false
            }
        }
    }
}

/// govalidator's `IsURL`, which Helm's lint uses for maintainers' URLs: lenient (a bare
/// `milvus.io` passes) but with its own scheme list (`git://...` does not).
fn is_url(s: &str) -> bool {
    use std::sync::LazyLock;
    static URL: LazyLock<regex::Regex> = LazyLock::new(|| {
        let host = r"[a-zA-Z0-9\x{a1}-\x{ffff}](?:[a-zA-Z0-9\x{a1}-\x{ffff}_-]*[a-zA-Z0-9\x{a1}-\x{ffff}])?";
        regex::Regex::new(&format!(
            r"^(?:(?:ftp|tcp|udp|wss?|https?)://)?(?:\S+(?::\S*)?@)?(?:\[[0-9a-fA-F:.]+\]|{host}(?:[.-]{host})*)\.?(?::\d{{1,5}})?(?:[/?#]\S*)?$"
        ))
        .expect("URL grammar compiles")
    });
    let runes = s.chars().count();
    if !(4..2083).contains(&runes) || s.starts_with('.') {
        return false;
    }
    let with_scheme = s.contains("://");
    let after = s.split_once("://").map_or(s, |(_, rest)| rest);
    let host = after.split(['/', '?', '#']).next().unwrap_or("");
    if host.starts_with('.') {
        return false;
    }
    // Without a scheme or port, url.Parse leaves it all as a path; govalidator wants a dot.
    if !with_scheme && !s.contains(':') && !s.contains('.') && host != "localhost" {
        return false;
    }
    URL.is_match(s)
}

/// The first field of Chart.yaml that Helm's strict load (`yaml.UnmarshalStrict` into
/// `chart.Metadata`) does not know: Go's JSON decoder meets the keys in sorted order (the
/// YAML went through a Go map) and matches field names without regard to case.
fn unknown_chart_field(chart_yaml: &rudder_value::Map) -> Option<String> {
    const METADATA: &[&str] = rudder_chart::METADATA_FIELDS;
    const MAINTAINER: &[&str] = &["name", "email", "url"];
    const DEPENDENCY: &[&str] = &[
        "name",
        "version",
        "repository",
        "condition",
        "tags",
        "enabled",
        "import-values",
        "alias",
    ];
    fn check(map: &rudder_value::Map, known: &[&str]) -> Option<String> {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        for key in keys {
            let Some(field) = known.iter().find(|k| k.eq_ignore_ascii_case(key)) else {
                return Some(key.clone());
            };
            let nested = match *field {
                "maintainers" => MAINTAINER,
                "dependencies" => DEPENDENCY,
                _ => continue,
            };
            for item in map[key.as_str()].as_list().into_iter().flatten() {
                if let Some(d) = item.as_dict() {
                    if let Some(found) = check(&d.snapshot(), nested) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }
    check(chart_yaml, METADATA)
}

fn is_email(s: &str) -> bool {
    let Some((user, domain)) = s.split_once('@') else {
        return false;
    };
    !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
}

fn lint_chartfile(l: &mut Linter, dir: &Path) {
    let file = "Chart.yaml";
    let path = dir.join(file);
    if path.is_dir() {
        l.rule(
            Severity::Error,
            file,
            Err("should be a file, not a directory".into()),
        );
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            l.rule(
                Severity::Error,
                file,
                Err(format!(
                    "unable to parse YAML\n\topen {}: {e}",
                    path.display()
                )),
            );
            return;
        }
    };
    let mut md = rudder_chart::Metadata::default();
    if let Err(e) = md.merge_yaml(&text) {
        l.rule(
            Severity::Error,
            file,
            Err(format!("unable to parse YAML\n\t{e}")),
        );
        return;
    }
    let typed = yaml::from_yaml(&text)
        .ok()
        .and_then(|v| v.as_dict().map(|d| d.snapshot()))
        .unwrap_or_default();
    l.rule(
        Severity::Warning,
        file,
        match unknown_chart_field(&typed) {
            Some(field) => Err(format!(
                "failed to strictly parse chart metadata file\n\terror unmarshaling JSON: while decoding JSON: json: unknown field {field:?}"
            )),
            None => Ok(()),
        },
    );
    l.rule(
        Severity::Error,
        file,
        if md.name.is_empty() {
            Err("name is required".into())
        } else if md.name.contains('/') {
            Err(format!("chart name {:?} is invalid", md.name))
        } else {
            Ok(())
        },
    );
    l.rule(
        Severity::Error,
        file,
        match md.api_version.as_str() {
            "" => Err("apiVersion is required. The value must be either \"v1\" or \"v2\"".into()),
            "v1" | "v2" => Ok(()),
            other => Err(format!(
                "apiVersion '{other}' is not valid. The value must be either \"v1\" or \"v2\""
            )),
        },
    );
    let type_check = |key: &str| match typed.get(key) {
        None | Some(Value::String(_)) => Ok(()),
        Some(v) => Err(format!(
            "{key} should be of type string but it's of type {}",
            v.type_name()
        )),
    };
    l.rule(Severity::Error, file, type_check("version"));
    l.rule(
        Severity::Error,
        file,
        if md.version.is_empty() {
            Err("version is required".into())
        } else if rudder_semver::Version::parse(&md.version).is_err() {
            Err(format!("version '{}' is not a valid SemVer", md.version))
        } else {
            Ok(())
        },
    );
    l.rule(Severity::Error, file, type_check("appVersion"));
    let maintainers = md.maintainers.iter().try_for_each(|m| {
        if m.name.is_empty() {
            Err("each maintainer requires a name".to_string())
        } else if !m.email.is_empty() && !is_email(&m.email) {
            Err(format!(
                "invalid email '{}' for maintainer '{}'",
                m.email, m.name
            ))
        } else if !m.url.is_empty() && !is_url(&m.url) {
            Err(format!(
                "invalid url '{}' for maintainer '{}'",
                m.url, m.name
            ))
        } else {
            Ok(())
        }
    });
    l.rule(Severity::Error, file, maintainers);
    l.rule(
        Severity::Error,
        file,
        md.sources.iter().try_for_each(|s| {
            if is_url(s) {
                Ok(())
            } else {
                Err(format!("invalid source URL '{s}'"))
            }
        }),
    );
    l.rule(
        Severity::Info,
        file,
        if md.icon.is_empty() {
            Err("icon is recommended".into())
        } else {
            Ok(())
        },
    );
    l.rule(
        Severity::Error,
        file,
        if !md.icon.is_empty() && !is_url(&md.icon) {
            Err(format!("invalid icon URL '{}'", md.icon))
        } else {
            Ok(())
        },
    );
    l.rule(
        Severity::Error,
        file,
        if !md.chart_type.is_empty() && md.api_version != "v2" {
            Err(format!(
                "chart type is not valid in apiVersion '{}'. It is valid in apiVersion 'v2'",
                md.api_version
            ))
        } else {
            Ok(())
        },
    );
    l.rule(Severity::Error, file, if !md.dependencies.is_empty() && md.api_version != "v2" {
        Err(format!("dependencies are not valid in the Chart file with apiVersion '{}'. They are valid in apiVersion 'v2'", md.api_version))
    } else {
        Ok(())
    });
    l.rule(
        Severity::Warning,
        file,
        rudder_semver::Version::parse_strict(&md.version)
            .map(|_| ())
            .map_err(|_| format!("version '{}' is not a valid SemVerV2", md.version)),
    );
}

fn lint_values(l: &mut Linter, dir: &Path, overrides: &Value, opts: &LintOptions) {
    let file = "values.yaml";
    let path = dir.join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        l.rule(Severity::Info, file, Err("file does not exist".into()));
        return;
    };
    let values = match rudder_chart::loader::load_values(&text) {
        Ok(v) => v,
        Err(e) => {
            l.rule(
                Severity::Error,
                file,
                Err(format!("unable to parse YAML: {}", e.reason)),
            );
            return;
        }
    };
    // Helm's `CoalesceTables(overrides, values)`, which it logs about even without a schema.
    let mut logs = Vec::new();
    let merged = rudder_chart::coalesce_tables_top(overrides, &values, &mut logs);
    opts.log.emit_all(logs);
    let Ok(schema) = std::fs::read(dir.join("values.schema.json")) else {
        return;
    };
    if schema.is_empty() || opts.skip_schema_validation {
        return;
    }
    l.rule(
        Severity::Error,
        file,
        rudder_chart::schema::validate_single(&merged, &schema).map_err(|e| e.to_string()),
    );
}

const DNS_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS_1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS_1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn valid_label(label: &str, first_letter: bool) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && (if first_letter {
            b[0].is_ascii_lowercase()
        } else {
            b[0].is_ascii_alphanumeric() && !b[0].is_ascii_uppercase()
        })
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !b[b.len() - 1].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Helm's `validateMetadataName`: the Kubernetes name rule for the object's kind.
fn validate_metadata_name(kind: &str, name: &str) -> Result<(), String> {
    let mut errors: Vec<String> = Vec::new();
    match kind.to_ascii_lowercase().as_str() {
        "service" => {
            if name.len() > 63 {
                errors.push("must be no more than 63 characters".into());
            }
            if !valid_label(name, true) {
                errors.push(DNS_1035_MSG.into());
            }
        }
        "namespace" => {
            if name.len() > 63 {
                errors.push("must be no more than 63 characters".into());
            }
            if !valid_label(name, false) {
                errors.push(DNS_1123_LABEL_MSG.into());
            }
        }
        "certificatesigningrequest" => {}
        "role" | "clusterrole" | "rolebinding" | "clusterrolebinding" => {
            if name == "." || name == ".." {
                errors.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    errors.push(format!("may not contain '{bad}'"));
                }
            }
        }
        _ => {
            if name.len() > 253 {
                errors.push("must be no more than 253 characters".into());
            }
            if !valid_dns_subdomain(name) {
                errors.push(DNS_SUBDOMAIN_MSG.into());
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let details: Vec<String> = errors
        .iter()
        .map(|e| format!("metadata.name: Invalid value: {name:?}: {e}"))
        .collect();
    let joined = if details.len() == 1 {
        details[0].clone()
    } else {
        format!("[{}]", details.join(", "))
    };
    Err(format!(
        "object name does not conform to Kubernetes naming requirements: {name:?}: {joined}"
    ))
}

fn valid_dns_subdomain(name: &str) -> bool {
    name.len() <= 253
        && !name.is_empty()
        && name.split('.').all(|p| {
            let b = p.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

fn lint_templates(
    l: &mut Linter,
    dir: &Path,
    chart: Result<Chart, String>,
    opts: &LintOptions,
    values: &Value,
) {
    let tdir = "templates/";
    if !dir.join("templates").exists() {
        l.rule(
            Severity::Warning,
            tdir,
            Err("directory does not exist".into()),
        );
        return;
    }
    if !dir.join("templates").is_dir() {
        l.rule(Severity::Error, tdir, Err("not a directory".into()));
        return;
    }
    let mut chart = match chart {
        Ok(c) => c,
        Err(e) => {
            l.rule(Severity::Error, tdir, Err(e.to_string()));
            return;
        }
    };
    // This rule loads the chart itself in Helm, which logs what its loader logs.
    opts.log.emit_all(std::mem::take(&mut chart.load_logs));
    let mut caps = Capabilities::default();
    if let Some(v) = &opts.kube_version {
        if let Ok(k) = KubeVersion::parse(v) {
            caps.kube_version = k;
        }
    }
    let mut logs = Vec::new();
    let processed = rudder_chart::process_dependencies(&mut chart, values, &mut logs);
    opts.log.emit_all(std::mem::take(&mut logs));
    if processed.is_err() {
        return;
    }
    // Helm coalesces twice here (once before ToRenderValues, once inside it), and logs
    // each time.
    let once = rudder_chart::coalesce_values(&chart, values, &mut logs);
    opts.log.emit_all(std::mem::take(&mut logs));
    let Ok(once) = once else {
        return;
    };
    let coalesced =
        rudder_chart::to_render_values_check(&chart, &once, opts.skip_schema_validation, &mut logs);
    opts.log.emit_all(logs);
    let coalesced = match coalesced {
        Ok(v) => v,
        Err(e) => {
            l.rule(Severity::Error, tdir, Err(e.to_string()));
            return;
        }
    };
    let release = ReleaseOptions {
        name: "test-release".into(),
        namespace: opts.namespace.clone(),
        revision: 0,
        is_install: false,
        is_upgrade: false,
    };
    let top = render_values(&chart, coalesced, &release, &caps);
    // Helm v4.2.3 lints in lint mode only: `--strict` changes the tolerance, not missingkey.
    let log = opts.log.clone();
    let engine = Engine {
        lint_mode: true,
        log: Some(std::sync::Arc::new(
            move |record: &rudder_chart::log::LogRecord| log.emit(record.clone()),
        )),
        ..Engine::default()
    };
    let rendered = match engine.render(&chart, &top) {
        Ok(r) => r,
        Err(e) => {
            l.rule(Severity::Error, tdir, Err(e.to_string()));
            return;
        }
    };
    for t in &chart.templates {
        let name = &t.name;
        let ext = Path::new(name)
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        l.rule(Severity::Error, name, if [".yaml", ".yml", ".tpl", ".txt"].contains(&ext.as_str()) {
            Ok(())
        } else {
            Err(format!("file extension '{ext}' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt"))
        });
        if ext != ".yaml" && ext != ".yml" {
            continue;
        }
        let Some(content) = rendered.get(&format!("{}/{name}", chart.name())) else {
            continue;
        };
        if content.trim().is_empty() {
            continue;
        }
        let first_line = content.lines().find(|line| !line.trim().is_empty());
        l.rule(
            Severity::Warning,
            name,
            match first_line {
                Some(line) if line.starts_with(' ') || line.starts_with('\t') => Err(format!(
                    "document starts with an illegal indent: {line:?}, which may cause parsing problems"
                )),
                _ => Ok(()),
            },
        );
        for doc in rudder_engine::split_manifests(content) {
            match yaml::from_yaml(doc) {
                Err(e) => {
                    l.rule(
                        Severity::Error,
                        name,
                        Err(format!("unable to parse YAML: {e}")),
                    );
                    return;
                }
                Ok(Value::Map(m)) => {
                    let m: Map = m.snapshot();
                    let field = |map: &Map, key: &str| -> Option<Value> {
                        map.get(key).cloned().or_else(|| {
                            map.iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                                .map(|(_, v)| v.clone())
                        })
                    };
                    let kind = field(&m, "kind")
                        .and_then(|k| k.as_str().map(str::to_string))
                        .unwrap_or_default();
                    let meta = field(&m, "metadata")
                        .and_then(|x| x.as_dict().map(|d| d.snapshot()))
                        .unwrap_or_default();
                    let obj_name = field(&meta, "name")
                        .and_then(|n| n.as_str().map(str::to_string))
                        .unwrap_or_default();
                    l.rule(
                        Severity::Warning,
                        name,
                        validate_metadata_name(&kind, &obj_name),
                    );
                    let api_version = field(&m, "apiVersion")
                        .and_then(|k| k.as_str().map(str::to_string))
                        .unwrap_or_default();
                    l.rule(
                        Severity::Warning,
                        name,
                        deprecation(&api_version, &kind, &caps.kube_version),
                    );
                    if matches!(
                        kind.as_str(),
                        "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet"
                    ) && !content.contains("matchLabels")
                        && !content.contains("matchExpressions")
                    {
                        l.rule(
                            Severity::Error,
                            name,
                            Err(format!("a {kind} must contain matchLabels or matchExpressions, and {obj_name:?} does not")),
                        );
                    }
                }
                Ok(Value::Nil) => {}
                Ok(_) => {}
            }
        }
    }
}

/// Kubernetes' lifecycle data for its built-in kinds (generated from k8s.io/api by
/// scripts/gen-deprecated-apis.py): `group/version Kind deprecated removed replacement`.
const DEPRECATED_APIS: &str = include_str!("deprecated_apis.txt");

/// Helm's `validateNoDeprecations`: a built-in kind deprecated at the linted Kubernetes
/// version gets the apiserver's warning text.
fn deprecation(api_version: &str, kind: &str, kube: &KubeVersion) -> Result<(), String> {
    if api_version.is_empty() || kind.is_empty() {
        return Ok(());
    }
    let number = |s: &str| s.trim_end_matches('+').parse::<u32>().unwrap_or(0);
    let current = (number(&kube.major), number(&kube.minor));
    let parse = |s: &str| -> Option<(u32, u32)> {
        let (a, b) = s.split_once('.')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    for line in DEPRECATED_APIS.lines().filter(|l| !l.starts_with('#')) {
        let mut f = line.splitn(5, ' ');
        let (Some(gv), Some(k), Some(dep), Some(removed), Some(replacement)) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        if gv != api_version || k != kind {
            continue;
        }
        let Some(deprecated) = parse(dep) else {
            return Ok(());
        };
        let removed = parse(removed);
        let is_deprecated =
            current == (0, 0) || current >= deprecated || removed.is_some_and(|r| current >= r);
        if !is_deprecated {
            return Ok(());
        }
        let mut msg = format!(
            "{gv} {k} is deprecated in v{}.{}+",
            deprecated.0, deprecated.1
        );
        if let Some((a, b)) = removed {
            msg.push_str(&format!(", unavailable in v{a}.{b}+"));
        }
        if replacement != "-" {
            msg.push_str(&format!("; use {replacement}"));
        }
        return Err(msg);
    }
    Ok(())
}

fn lint_dependencies(l: &mut Linter, chart: &Chart, dir: &Path) {
    let dir = std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string();
    let in_metadata: Vec<&str> = chart
        .dependencies
        .iter()
        .filter(|c| {
            !chart
                .metadata
                .dependencies
                .iter()
                .any(|d| d.name == c.name())
        })
        .map(|c| c.name())
        .collect();
    if !in_metadata.is_empty() {
        l.rule(
            Severity::Error,
            &dir,
            Err(format!(
                "chart metadata is missing these dependencies: {}",
                in_metadata.join(",")
            )),
        );
    }
    let in_charts: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.name() == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !in_charts.is_empty() {
        l.rule(
            Severity::Warning,
            &dir,
            Err(format!(
                "chart directory is missing these dependencies: {}",
                in_charts.join(",")
            )),
        );
    }
}

fn lint_one(path: &str, opts: &LintOptions, values: &Value) -> Result<Linter, String> {
    let dir = Path::new(path);
    if !dir.join("Chart.yaml").exists() {
        return Err(format!(
            "unable to check Chart.yaml file in chart: stat {}: no such file or directory",
            dir.join("Chart.yaml").display()
        ));
    }
    let mut l = Linter::default();
    lint_chartfile(&mut l, dir);
    lint_values(&mut l, dir, values, opts);
    let (chart, load_error) = match rudder_chart::load_dir(dir) {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(e.to_string())),
    };
    lint_templates(
        &mut l,
        dir,
        chart.clone().ok_or(load_error.clone().unwrap_or_default()),
        opts,
        values,
    );
    match (&chart, &load_error) {
        (Some(c), _) => {
            opts.log.emit_all(c.load_logs.clone());
            lint_dependencies(&mut l, c, dir);
        }
        (None, Some(e)) => {
            l.rule(
                Severity::Error,
                "",
                Err(format!("unable to load chart\n\t{e}")),
            );
        }
        (None, None) => {}
    }
    lint_crds(
        &mut l,
        dir,
        chart.as_ref().ok_or(load_error.unwrap_or_default()),
        opts,
    );
    Ok(l)
}

/// Helm's `Crds` rule: every YAML document of every file under crds/ (the chart's and its
/// subcharts', named within their own chart) must be a CustomResourceDefinition of
/// apiextensions.k8s.io; the first file that does not parse ends the rule.
fn lint_crds(l: &mut Linter, dir: &Path, chart: Result<&Chart, String>, opts: &LintOptions) {
    let cdir = "crds/";
    let crds = dir.join("crds");
    if !crds.exists() {
        return;
    }
    if !crds.is_dir() {
        l.rule(Severity::Error, cdir, Err("not a directory".into()));
        return;
    }
    let chart = match chart {
        Ok(c) => c,
        Err(e) => {
            l.rule(Severity::Error, cdir, Err(e));
            return;
        }
    };
    opts.log.emit_all(chart.load_logs.clone());
    for crd in chart.crd_objects() {
        let documents = match rudder_value::yaml::from_yaml_documents(&crd.text) {
            Ok(d) => d,
            Err(e) => {
                l.rule(
                    Severity::Error,
                    &crd.name,
                    Err(format!("unable to parse YAML: {e}")),
                );
                return;
            }
        };
        for doc in documents {
            let Some(object) = doc.as_dict() else {
                continue;
            };
            let field = |key: &str| match object.get(key) {
                Some(Value::String(s)) => s.to_string(),
                _ => String::new(),
            };
            if !field("apiVersion").starts_with("apiextensions.k8s.io") {
                l.rule(
                    Severity::Error,
                    &crd.name,
                    Err("apiVersion is not in 'apiextensions.k8s.io'".into()),
                );
            }
            if field("kind") != "CustomResourceDefinition" {
                l.rule(
                    Severity::Error,
                    &crd.name,
                    Err("object kind is not 'CustomResourceDefinition'".into()),
                );
            }
        }
    }
}

/// Lints each path (and, with `with_subcharts`, the charts under their charts/) as
/// `helm lint` does, returning its output.
pub fn lint(paths: &[String], opts: &LintOptions) -> LintReport {
    let mut all: Vec<String> = paths.to_vec();
    if opts.with_subcharts {
        for p in paths {
            let mut stack = vec![Path::new(p).join("charts")];
            while let Some(d) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                let mut entries: Vec<_> =
                    entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                entries.sort();
                for e in entries {
                    if e.is_dir() {
                        if e.join("Chart.yaml").exists() {
                            all.push(e.display().to_string());
                        }
                        stack.push(e);
                    }
                }
            }
        }
    }
    let values = match charts::user_values(&opts.values) {
        Ok(v) => v,
        Err(e) => {
            return LintReport {
                output: String::new(),
                failure: Some(e.to_string()),
            }
        }
    };
    let tolerance = if opts.strict {
        Severity::Warning
    } else {
        Severity::Error
    };
    let (mut out, mut failed, mut noisy) = (String::new(), 0, 0);
    for p in &all {
        let (messages, errors): (Vec<String>, Vec<String>) = match lint_one(p, opts, &values) {
            Ok(l) => {
                let errs = l
                    .messages
                    .iter()
                    .filter(|m| m.severity >= tolerance)
                    .map(|m| m.text.clone())
                    .collect();
                if l.messages.iter().any(|m| m.severity >= Severity::Warning) {
                    noisy += 1;
                }
                let lines = l
                    .messages
                    .iter()
                    .filter(|m| !opts.quiet || m.severity > Severity::Info)
                    .map(Message::line)
                    .collect();
                (lines, errs)
            }
            Err(e) => {
                noisy += 1;
                (Vec::new(), vec![e])
            }
        };
        let has_problems = !errors.is_empty() || !messages.is_empty() && opts.quiet;
        if opts.quiet && !has_problems {
            continue;
        }
        out.push_str(&format!("==> Linting {p}\n"));
        if messages.is_empty() {
            for e in &errors {
                out.push_str(&format!("Error {e}\n"));
            }
        }
        for m in &messages {
            out.push_str(m);
            out.push('\n');
        }
        if !errors.is_empty() {
            failed += 1;
        }
        out.push('\n');
    }
    let summary = format!("{} chart(s) linted, {failed} chart(s) failed", all.len());
    if failed > 0 {
        return LintReport {
            output: out,
            failure: Some(summary),
        };
    }
    if !opts.quiet || noisy > 0 {
        out.push_str(&summary);
        out.push('\n');
    }
    LintReport {
        output: out,
        failure: None,
    }
}

#[cfg(test)]
mod url_tests {
    use super::is_url;

    #[test]
    fn maintainer_urls_are_judged_as_govalidator_judges_them() {
        for ok in [
            "milvus.io",
            "https://milvus.io",
            "http://example.com:8080/a?b#c",
            "example.com/path",
            "https://user:pw@host.example.org",
            "http://localhost",
        ] {
            assert!(is_url(ok), "{ok} should pass");
        }
        for bad in ["", "a b", "not a url", ".example.com", "git://x", "abc"] {
            assert!(!is_url(bad), "{bad} should fail");
        }
    }
}
