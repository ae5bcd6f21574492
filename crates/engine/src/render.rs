//! Rendering a chart tree the way Helm v4's `engine.Render` does.
//!
//! Every template of every chart is parsed into one template set, named by its full path
//! (`parent/charts/sub/templates/x.yaml`), deepest paths first and, at equal depth, in
//! reverse name order, so that a parent's `define` overrides a subchart's and, among
//! siblings, the alphabetically first file's. Then every non-partial template is executed in
//! the same order with its chart's context map (`Values`, `Chart`, `Files`, `Release`,
//! `Capabilities`, `Subcharts`, `Template`). Context maps are shared Go-style maps: a
//! template that `set`s into `.Values` is seen by those executed after it, as in Helm.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use rudder_chart::log::LogRecord;
use rudder_chart::{Chart, Metadata};
use rudder_gotmpl::{
    ExecError, ExecOptions, FuncMap, Function, MissingKey, ParamType, ParseError, ParsedText,
    Signature, Templates,
};
use rudder_value::{Dict, Map, Value};

use crate::errors::{cleanup_parse_error, reformat_exec_error, warn_wrap};
use crate::files::Files;

/// How deep one template name may be nested through `include`/`tpl` (Helm's
/// `recursionMaxNums`).
const RECURSION_MAX: usize = 1000;

/// Distinct `tpl` texts kept parsed in one render: a bound on memory for charts that build
/// texts on the fly.
const MAX_PARSED_TEXTS: usize = 1024;

/// Answers `lookup` from a live cluster.
pub trait Lookup: Send + Sync {
    /// `lookup apiVersion kind namespace name`: the object as a map, a list object when
    /// `name` is empty, an empty map when it does not exist.
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String>;
}

/// Why a chart's templates did not render, worded as Helm rewords Go's template errors
/// (`cleanupParseError`, `reformatExecErrorMsg`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    /// A template that does not parse.
    #[error("{}", cleanup_parse_error(.template, &.source.to_string()))]
    Parse {
        template: String,
        #[source]
        source: ParseError,
    },
    /// A template whose execution failed.
    #[error("{}", reformat_exec_error(.template, &.source.to_string()))]
    Exec {
        template: String,
        #[source]
        source: ExecError,
    },
}

/// Helm's `common.ReleaseOptions`: what `.Release` says.
#[derive(Clone, Debug)]
pub struct ReleaseOptions {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_install: bool,
    pub is_upgrade: bool,
}

impl Default for ReleaseOptions {
    fn default() -> ReleaseOptions {
        ReleaseOptions {
            name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        }
    }
}

/// A receiver of log records.
pub type LogFn = dyn Fn(&LogRecord) + Send + Sync;

/// The rendering engine and its options (Helm's `engine.Engine`).
#[derive(Clone, Default)]
pub struct Engine {
    /// Missing map keys are errors (`lint --strict`).
    pub strict: bool,
    /// `required` and `fail` do not fail (lint); they log instead, through `log`.
    pub lint_mode: bool,
    /// Where Helm's lint-mode log lines go (`missing required value`, `funcMap fail`).
    pub log: Option<Arc<LogFn>>,
    /// `getHostByName` really resolves (`--enable-dns`).
    pub enable_dns: bool,
    /// `lookup` talks to this cluster; without one it returns empty maps.
    pub lookup: Option<Arc<dyn Lookup>>,
    /// Extra functions, overriding everything else (the SDK's `CustomTemplateFuncs`).
    pub custom_funcs: FuncMap,
}

/// A template to execute, with the context of its chart.
struct Renderable {
    text: Arc<str>,
    context: Dict,
    base_path: String,
}

/// `.Chart` as Helm v4 exposes it: the metadata as a map with Go field names, plus `IsRoot`.
pub fn metadata_to_value(m: &Metadata, is_root: Option<bool>) -> Value {
    let s = |v: &str| Value::str(v);
    let strs = |v: &[String]| Value::list(v.iter().map(Value::str).collect());
    let mut map = Map::new();
    map.insert("Name".into(), s(&m.name));
    map.insert("Home".into(), s(&m.home));
    map.insert("Sources".into(), strs(&m.sources));
    map.insert("Version".into(), s(&m.version));
    map.insert("Description".into(), s(&m.description));
    map.insert("Keywords".into(), strs(&m.keywords));
    let maintainers = m
        .maintainers
        .iter()
        .map(|mt| {
            let mut e = Map::new();
            e.insert("Name".into(), s(&mt.name));
            e.insert("Email".into(), s(&mt.email));
            e.insert("URL".into(), s(&mt.url));
            Value::map(e)
        })
        .collect();
    map.insert("Maintainers".into(), Value::list(maintainers));
    map.insert("Icon".into(), s(&m.icon));
    map.insert("APIVersion".into(), s(&m.api_version));
    map.insert("Condition".into(), s(&m.condition));
    map.insert("Tags".into(), s(&m.tags));
    map.insert("AppVersion".into(), s(&m.app_version));
    map.insert("Deprecated".into(), Value::Bool(m.deprecated));
    // Absent annotations are a nil map in Go (`toJson` writes null); the chart model does not
    // keep `annotations: {}` apart from absent, so empty is taken as absent.
    map.insert(
        "Annotations".into(),
        if m.annotations.is_empty() {
            Value::nil_str_map()
        } else {
            Value::StrMap(Arc::new(m.annotations.clone()))
        },
    );
    map.insert("KubeVersion".into(), s(&m.kube_version));
    let deps = m
        .dependencies
        .iter()
        .map(|d| {
            let mut e = Map::new();
            e.insert("Name".into(), s(&d.name));
            e.insert("Version".into(), s(&d.version));
            e.insert("Repository".into(), s(&d.repository));
            e.insert("Condition".into(), s(&d.condition));
            e.insert("Tags".into(), strs(&d.tags));
            e.insert("Enabled".into(), Value::Bool(d.enabled));
            e.insert("ImportValues".into(), Value::list(d.import_values.clone()));
            e.insert("Alias".into(), s(&d.alias));
            Value::map(e)
        })
        .collect();
    map.insert("Dependencies".into(), Value::list(deps));
    map.insert("Type".into(), s(&m.chart_type));
    if let Some(root) = is_root {
        map.insert("IsRoot".into(), Value::Bool(root));
    }
    Value::map(map)
}

/// Helm's `ToRenderValues` minus coalescing and schema validation (done by the chart
/// crate): the top-level map `{Chart, Capabilities, Release, Values}`.
pub fn render_values(
    chart: &Chart,
    values: Value,
    release: &ReleaseOptions,
    capabilities: &crate::Capabilities,
) -> Value {
    let mut rel = Map::new();
    rel.insert("Name".into(), Value::str(&release.name));
    rel.insert("Namespace".into(), Value::str(&release.namespace));
    rel.insert("IsUpgrade".into(), Value::Bool(release.is_upgrade));
    rel.insert("IsInstall".into(), Value::Bool(release.is_install));
    rel.insert("Revision".into(), Value::Int(release.revision));
    rel.insert("Service".into(), Value::str("Helm"));
    let mut top = Map::new();
    top.insert("Chart".into(), metadata_to_value(&chart.metadata, None));
    top.insert("Capabilities".into(), capabilities.to_value());
    top.insert("Release".into(), Value::map(rel));
    top.insert("Values".into(), values);
    Value::map(top)
}

/// Helm's `Values.Table`: the sub-map at `name`, if it is a map.
fn table(values: &Value, name: &str) -> Option<Value> {
    match values.as_dict()?.get(name)? {
        v @ Value::Map(_) => Some(v),
        _ => None,
    }
}

/// Helm's `recAllTpls`: collects the templates of `chart` and its subcharts with the
/// context each is executed in; returns `chart`'s context.
fn collect(chart: &Chart, parent: &Value, out: &mut BTreeMap<String, Renderable>) -> Value {
    let subcharts = Dict::default();
    let context = Dict::default();
    context.insert(
        "Chart",
        metadata_to_value(&chart.metadata, Some(chart.is_root())),
    );
    context.insert("Files", Files::new(&chart.files).to_value());
    context.insert("Release", parent.get_path(&["Release"]).unwrap_or_default());
    context.insert(
        "Capabilities",
        parent.get_path(&["Capabilities"]).unwrap_or_default(),
    );
    let values = if chart.is_root() {
        parent.get_path(&["Values"]).unwrap_or_default()
    } else {
        parent
            .get_path(&["Values"])
            .and_then(|v| table(&v, chart.name()))
            .unwrap_or_else(|| Value::map(Map::new()))
    };
    // Templates see `.Values` as Helm's named type common.Values (the same map).
    let values = match values {
        Value::Map(d) => Value::Map(d.as_helm_values()),
        other => other,
    };
    context.insert("Values", values);
    context.insert("Subcharts", Value::Map(subcharts.clone()));
    let context_value = Value::Map(context.clone());

    for child in &chart.dependencies {
        let child_context = collect(child, &context_value, out);
        subcharts.insert(child.name(), child_context);
    }

    let full_path = chart.full_path();
    let base_path = format!("{full_path}/templates");
    for t in &chart.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if chart.is_library() && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{}", t.name),
            Renderable {
                // `from_utf8` first: its validation is several times faster than the lossy
                // decoder's, and template files are nearly always valid UTF-8.
                text: match std::str::from_utf8(&t.data) {
                    Ok(text) => Arc::from(text),
                    Err(_) => Arc::from(String::from_utf8_lossy(&t.data).as_ref()),
                },
                context: context.clone(),
                base_path: base_path.clone(),
            },
        );
    }
    context_value
}

/// Helm's `sortTemplates`: deepest paths first; at equal depth, reverse name order.
fn sort_templates(names: &mut [&String]) {
    // Each name's depth is counted once, not at every comparison (that was 2% of the
    // instructions of a Milvus render).
    names.sort_by_cached_key(|name| {
        let depth = memchr::memchr_iter(b'/', name.as_bytes()).count();
        (std::cmp::Reverse(depth), std::cmp::Reverse(*name))
    });
}

fn is_partial(path: &str) -> bool {
    path.rsplit('/').next().unwrap_or(path).starts_with('_')
}

impl Engine {
    /// Renders every template of `chart` (already processed: disabled subcharts removed)
    /// with `top` from [`render_values`]. Returns each non-partial template's output by path.
    /// Errors are worded as Helm words them.
    pub fn render(
        &self,
        chart: &Chart,
        top: &Value,
    ) -> Result<BTreeMap<String, String>, RenderError> {
        let mut renderables = BTreeMap::new();
        collect(chart, top, &mut renderables);
        let mut names: Vec<&String> = renderables.keys().collect();
        sort_templates(&mut names);

        let funcs = self.func_map();
        let mut templates = Templates::new();
        let sources: Vec<(&str, &str)> = names
            .iter()
            .map(|name| (name.as_str(), &*renderables[*name].text))
            .collect();
        let parsed = crate::parse_cache::parse_files(&sources, &funcs).map_err(|(i, source)| {
            RenderError::Parse {
                template: names[i].clone(),
                source,
            }
        })?;
        templates.add_parsed(parsed);

        let options = ExecOptions {
            missing_key: if self.strict {
                MissingKey::Error
            } else {
                MissingKey::Zero
            },
            ..ExecOptions::default()
        };
        let mut rendered = BTreeMap::new();
        for name in names {
            if is_partial(name) {
                continue;
            }
            let r = &renderables[name];
            let mut template = Map::new();
            template.insert("Name".into(), Value::str(name));
            template.insert("BasePath".into(), Value::str(&r.base_path));
            // Helm's `.Template` is a common.Values, methods included.
            r.context
                .insert("Template", Value::Map(Dict::new(template).as_helm_values()));
            let out = templates
                .execute(name, &Value::Map(r.context.clone()), &funcs, &options)
                .map_err(|source| RenderError::Exec {
                    template: name.clone(),
                    source,
                })?;
            rendered.insert(name.clone(), without_no_value(out));
        }
        // Parse trees, function table and contexts: thousands of small allocations.
        rudder_value::teardown::discard((templates, funcs, renderables));
        Ok(rendered)
    }

    /// Sprig's and Helm's functions plus those bound to this render (Helm's `initFunMap`).
    fn func_map(&self) -> FuncMap {
        use ParamType::{Any, String as Str};
        let mut funcs = rudder_funcs::all();
        let included: Arc<Mutex<HashMap<String, usize>>> = Arc::default();

        let counts = included.clone();
        funcs.insert(
            "include",
            Function::new(Signature::new(&[Str, Any]), move |rt, args| {
                let name = args[0].as_str().unwrap_or_default();
                {
                    let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
                    // Looked up before inserting: a name is only copied the first time.
                    let n = match c.get_mut(name) {
                        Some(n) => n,
                        None => c.entry(name.to_string()).or_insert(0),
                    };
                    if *n > RECURSION_MAX {
                        return Err(format!(
                            "rendering template has a nested reference name: {name}: unable to execute template"
                        ));
                    }
                    *n += 1;
                }
                let result = rt.execute_named(name, &args[1]);
                if let Some(n) = counts.lock().unwrap_or_else(|e| e.into_inner()).get_mut(name) {
                    *n = n.saturating_sub(1);
                }
                result
            }),
        );

        // Charts hand `tpl` the same texts over and over (a config and its checksum, a value
        // in every workload): each distinct text is parsed once per render. Parsing depends
        // only on the text and this render's functions; failures are not kept, so a text that
        // does not parse fails the same way every time.
        let parsed_texts: Mutex<HashMap<String, ParsedText>> = Mutex::default();
        funcs.insert(
            "tpl",
            Function::new(Signature::new(&[Str, Any]), move |rt, args| {
                let text = args[0].as_str().unwrap_or_default();
                let known = parsed_texts
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(text)
                    .cloned();
                let parsed = match known {
                    Some(parsed) => parsed,
                    None => {
                        let parsed = rt.parse_text("gotpl", text).map_err(|e| {
                            format!("cannot parse template {}: {e}", go_quote(text))
                        })?;
                        let mut kept = parsed_texts.lock().unwrap_or_else(|e| e.into_inner());
                        if kept.len() < MAX_PARSED_TEXTS {
                            kept.insert(text.to_string(), parsed.clone());
                        }
                        parsed
                    }
                };
                match rt.execute_parsed(&parsed, &args[1]) {
                    Ok(out) => Ok(Value::from(without_no_value(out))),
                    Err(e) => Err(format!(
                        "error during tpl function execution for {}: {e}",
                        go_quote(text)
                    )),
                }
            }),
        );

        let lint = self.lint_mode;
        let log = self.log.clone();
        let emit = move |record: LogRecord| {
            if let Some(log) = &log {
                log(&record);
            }
        };
        let emit_required = emit.clone();
        funcs.insert(
            "required",
            Function::new(Signature::new(&[Str, Any]), move |_rt, args| {
                let message = args[0].as_str().unwrap_or_default();
                // Helm words the two cases differently.
                let missing = match &args[1] {
                    Value::Nil => "missing required value",
                    Value::String(s) if s.is_empty() => "missing required values",
                    _ => return Ok(args[1].clone()),
                };
                if lint {
                    emit_required(LogRecord::warn(missing).with("message", message));
                    return Ok(Value::str(""));
                }
                Err(warn_wrap(message))
            }),
        );
        funcs.insert(
            "fail",
            Function::new(Signature::new(&[Str]), move |_rt, args| {
                let message = args[0].as_str().unwrap_or_default();
                if lint {
                    emit(LogRecord::info("funcMap fail").with("message", message));
                    return Ok(Value::str(""));
                }
                Err(warn_wrap(message))
            }),
        );

        let lookup = if self.lint_mode {
            None
        } else {
            self.lookup.clone()
        };
        funcs.insert(
            "lookup",
            Function::new(Signature::new(&[Str, Str, Str, Str]), move |_rt, args| {
                let a = |i: usize| args[i].as_str().unwrap_or_default();
                match &lookup {
                    Some(l) => l.lookup(a(0), a(1), a(2), a(3)),
                    None => Ok(Value::map(Map::new())),
                }
            }),
        );

        if !self.enable_dns {
            funcs.insert(
                "getHostByName",
                Function::new(Signature::new(&[Str]), |_rt, _args| Ok(Value::str(""))),
            );
        }
        funcs.extend(&self.custom_funcs);
        funcs
    }
}

/// Helm's `strings.ReplaceAll(out, "<no value>", "")`, without copying an output that has
/// none (nearly all).
fn without_no_value(out: String) -> String {
    if out.contains("<no value>") {
        out.replace("<no value>", "")
    } else {
        out
    }
}

/// Go's `%q` for the strings Helm quotes in tpl errors.
fn go_quote(s: &str) -> String {
    rudder_value::gofmt::sprintf("%q", &[Value::str(s)])
}

/// Go's plain `text/template` (no Sprig, no Helm functions; only `funcs`) executed on
/// `data`, as `helm version --template` (no functions) and helm-diff's template output run it.
pub fn render_plain_template(
    text: &str,
    data: &Value,
    funcs: &FuncMap,
) -> Result<String, rudder_gotmpl::Error> {
    execute_alone("_", text, data, funcs)
}

/// Helm's `TemplateName`: a release name from `--name-template`, a template with Sprig's
/// functions (not Helm's) executed with no data.
pub fn render_name_template(text: &str) -> Result<String, rudder_gotmpl::Error> {
    execute_alone("name-template", text, &Value::Nil, &rudder_funcs::sprig())
}

/// Parses `text` as the only template of a set named `name` and executes it on `data`.
fn execute_alone(
    name: &str,
    text: &str,
    data: &Value,
    funcs: &FuncMap,
) -> Result<String, rudder_gotmpl::Error> {
    let mut templates = Templates::new();
    templates
        .parse(name, text, funcs)
        .map_err(rudder_gotmpl::Error::Parse)?;
    templates
        .execute(name, data, funcs, &ExecOptions::default())
        .map_err(rudder_gotmpl::Error::Exec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_templates_like_helm() {
        let a = "c/templates/a.yaml".to_string();
        let b = "c/templates/b.yaml".to_string();
        let sub = "c/charts/s/templates/a.yaml".to_string();
        let mut names = vec![&a, &b, &sub];
        sort_templates(&mut names);
        assert_eq!(names, vec![&sub, &b, &a]);
    }
}
