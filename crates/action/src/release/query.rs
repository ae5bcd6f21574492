//! Reading releases back: list, history, status, get (Helm's list.go, history.go,
//! status.go, get_*.go and their printers in `pkg/cmd`).

use std::collections::BTreeMap;

use rudder_storage::{release::parse_time, status, Release};
use serde_json::{json, Value as Json};

use super::{json_to_value, Cluster};
use crate::Error;

/// `helm list` filters.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    pub all_namespaces: bool,
    /// `-a`: every state (also the default when no state flag is given).
    pub all: bool,
    pub deployed: bool,
    pub failed: bool,
    pub pending: bool,
    pub superseded: bool,
    pub uninstalled: bool,
    pub uninstalling: bool,
    /// `--filter`: a regular expression on release names.
    pub filter: Option<String>,
    pub by_date: bool,
    pub reverse: bool,
    pub max: usize,
    pub offset: usize,
    /// `--selector`: a label selector on each release's labels (its own and Helm's `name`,
    /// `owner`, `status`, `version`).
    pub selector: Option<String>,
    /// `--time-format`: a Go time layout for the updated time.
    pub time_format: Option<String>,
}

/// One row of `helm list`, with the JSON/YAML field names Helm uses.
#[derive(Clone, Debug, PartialEq)]
pub struct ReleaseSummary {
    pub name: String,
    pub namespace: String,
    pub revision: String,
    pub updated: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
}

impl ReleaseSummary {
    pub fn to_json(&self) -> Json {
        json!({
            "name": self.name, "namespace": self.namespace, "revision": self.revision,
            "updated": self.updated, "status": self.status, "chart": self.chart,
            "app_version": self.app_version,
        })
    }
}

/// The updated time as `helm list` prints it: with `--time-format`'s Go layout, else Go's
/// `time.Time.String()` (`2006-01-02 15:04:05.999999999 -0700 MST`).
fn updated_time(s: &str, layout: Option<&str>) -> String {
    let Some(t) = parse_time(s) else {
        return "-".into();
    };
    if let Some(layout) = layout.filter(|l| !l.is_empty()) {
        return rudder_value::gotime::format(&t, None, layout);
    }
    go_time_of(&t)
}

/// A stored release time as Go's `time.Time.String()` prints it; Go's zero time
/// (`0001-01-01 00:00:00 +0000 UTC`) for an empty or unreadable one, as an unset field reads.
pub fn go_time_string(s: &str) -> String {
    match parse_time(s) {
        Some(t) => go_time_of(&t),
        None => "0001-01-01 00:00:00 +0000 UTC".into(),
    }
}

fn go_time_of(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let mut out = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos > 0 {
        out.push('.');
        out.push_str(format!("{nanos:09}").trim_end_matches('0'));
    }
    let offset = t.format("%z").to_string();
    let zone = if t.offset().local_minus_utc() == 0 {
        "UTC".to_string()
    } else {
        offset.clone()
    };
    format!("{out} {offset} {zone}")
}

/// Go's `time.ANSIC`: `Mon Jan _2 15:04:05 2006`.
pub(crate) fn ansic(s: &str) -> String {
    parse_time(s)
        .map(|t| t.format("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_default()
}

fn state_wanted(opts: &ListOptions, st: &str) -> bool {
    let any_flag = opts.deployed
        || opts.failed
        || opts.pending
        || opts.superseded
        || opts.uninstalled
        || opts.uninstalling;
    if opts.all || !any_flag {
        return true;
    }
    (opts.deployed && st == status::DEPLOYED)
        || (opts.failed && st == status::FAILED)
        || (opts.pending && status::is_pending(st))
        || (opts.superseded && st == status::SUPERSEDED)
        || (opts.uninstalled && st == status::UNINSTALLED)
        || (opts.uninstalling && st == status::UNINSTALLING)
}

/// `rudder list`: the latest revision of each release, filtered and sorted as Helm does.
pub fn list(cluster: &Cluster, opts: &ListOptions) -> Result<Vec<ReleaseSummary>, Error> {
    let filter = match &opts.filter {
        Some(f) if !f.is_empty() => Some(
            regex::Regex::new(f)
                .map_err(|e| Error::message(format!("error parsing regexp: {e}")))?,
        ),
        _ => None,
    };
    let selector =
        super::Selector::parse(opts.selector.as_deref().unwrap_or("")).map_err(Error::typed)?;
    let namespace = if opts.all_namespaces {
        ""
    } else {
        cluster.namespace()
    };
    let all = cluster
        .storage(namespace)
        .list_all()
        .map_err(|e| Error::message(e.to_string()))?;
    let superseded_only = opts.superseded
        && !(opts.all
            || opts.deployed
            || opts.failed
            || opts.pending
            || opts.uninstalled
            || opts.uninstalling);
    let mut latest: BTreeMap<(String, String), Release> = BTreeMap::new();
    let mut releases = Vec::new();
    for r in all {
        if filter.as_ref().is_some_and(|f| !f.is_match(&r.name)) {
            continue;
        }
        if superseded_only {
            releases.push(r);
            continue;
        }
        let key = (r.name.clone(), r.namespace.clone());
        match latest.get(&key) {
            Some(existing) if existing.version >= r.version => {}
            _ => {
                latest.insert(key, r);
            }
        }
    }
    releases.extend(latest.into_values());
    releases.retain(|r| state_wanted(opts, r.status()));
    releases.retain(|r| selector.matches(&rudder_storage::driver::record_labels(r)));
    releases.sort_by(|a, b| a.name.cmp(&b.name));
    if opts.by_date {
        releases.sort_by(|a, b| {
            let t = |r: &Release| {
                r.info
                    .as_ref()
                    .and_then(|i| parse_time(&i.last_deployed))
                    .map(|t| t.timestamp_nanos_opt().unwrap_or(0))
                    .unwrap_or(0)
            };
            t(a).cmp(&t(b))
        });
    }
    if opts.reverse {
        releases.reverse();
    }
    let releases: Vec<Release> = releases
        .into_iter()
        .skip(opts.offset)
        .take(if opts.max == 0 { usize::MAX } else { opts.max })
        .collect();
    Ok(releases
        .iter()
        .map(|r| ReleaseSummary {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            revision: r.version.to_string(),
            updated: r
                .info
                .as_ref()
                .map(|i| updated_time(&i.last_deployed, opts.time_format.as_deref()))
                .unwrap_or_else(|| "-".into()),
            status: r.status().to_string(),
            chart: r.chart_label(),
            app_version: r.chart_field("appVersion").to_string(),
        })
        .collect())
}

/// One row of `helm history`.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    pub revision: i64,
    /// RFC 3339 as stored.
    pub updated: String,
    /// `time.ANSIC`, as the table shows it.
    pub updated_ansic: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
    pub description: String,
}

impl HistoryEntry {
    pub fn to_json(&self) -> Json {
        let mut o = json!({"revision": self.revision});
        if !self.updated.is_empty() {
            o["updated"] = Json::String(self.updated.clone());
        }
        o["status"] = Json::String(self.status.clone());
        o["chart"] = Json::String(self.chart.clone());
        o["app_version"] = Json::String(self.app_version.clone());
        o["description"] = Json::String(self.description.clone());
        o
    }
}

/// `rudder history NAME`: the last `max` revisions, oldest first.
pub fn history(cluster: &Cluster, name: &str, max: usize) -> Result<Vec<HistoryEntry>, Error> {
    let mut revisions = cluster
        .storage(cluster.namespace())
        .history(name)
        .map_err(|e| Error::message(e.to_string()))?;
    if revisions.is_empty() {
        return Err(Error::message("release: not found"));
    }
    revisions.sort_by_key(|r| std::cmp::Reverse(r.version));
    revisions.truncate(if max == 0 { usize::MAX } else { max });
    revisions.reverse();
    Ok(revisions
        .iter()
        .map(|r| {
            let info = r.info.clone().unwrap_or_default();
            HistoryEntry {
                revision: r.version,
                updated_ansic: ansic(&info.last_deployed),
                updated: info.last_deployed,
                status: info.status,
                chart: r.chart_label(),
                app_version: r.chart_field("appVersion").to_string(),
                description: info.description,
            }
        })
        .collect())
}

/// The release at `revision` (0: the latest).
pub(crate) fn get_release(cluster: &Cluster, name: &str, revision: i64) -> Result<Release, Error> {
    let storage = cluster.storage(cluster.namespace());
    if revision > 0 {
        return storage
            .get(name, revision)
            .map_err(|e| Error::message(e.to_string()));
    }
    storage.last(name).map_err(|e| match e {
        rudder_storage::Error::NotFound => Error::message("release: not found"),
        e => Error::message(e.to_string()),
    })
}

/// `helm status` as a table (also what install, upgrade print); `debug` adds values and,
/// like a dry run, the hooks and manifest.
pub fn status_text(
    release: &Release,
    show_metadata: bool,
    debug: bool,
    hide_notes: bool,
) -> String {
    status_text_with_resources(release, show_metadata, debug, hide_notes, "")
}

/// [`status_text`] with the `RESOURCES:` section `helm status` adds (see
/// [`resources_text`]).
pub fn status_text_with_resources(
    release: &Release,
    show_metadata: bool,
    debug: bool,
    hide_notes: bool,
    resources: &str,
) -> String {
    let info = release.info.clone().unwrap_or_default();
    let mut out = format!("NAME: {}\n", release.name);
    if !info.last_deployed.is_empty() {
        out.push_str(&format!("LAST DEPLOYED: {}\n", ansic(&info.last_deployed)));
    }
    out.push_str(&format!("NAMESPACE: {}\n", release.namespace));
    out.push_str(&format!("STATUS: {}\n", info.status));
    out.push_str(&format!("REVISION: {}\n", release.version));
    if show_metadata {
        out.push_str(&format!("CHART: {}\n", release.chart_field("name")));
        out.push_str(&format!("VERSION: {}\n", release.chart_field("version")));
        out.push_str(&format!(
            "APP_VERSION: {}\n",
            release.chart_field("appVersion")
        ));
    }
    out.push_str(&format!("DESCRIPTION: {}\n", info.description));
    out.push_str(resources);
    let tests: Vec<_> = release
        .hooks
        .iter()
        .filter(|h| h.events.iter().any(|e| e == "test"))
        .collect();
    if tests.is_empty() {
        out.push_str("TEST SUITE: None\n");
    } else {
        for h in tests {
            if h.last_run.started_at.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "TEST SUITE:     {}\nLast Started:   {}\nLast Completed: {}\nPhase:          {}\n",
                h.name,
                ansic(&h.last_run.started_at),
                ansic(&h.last_run.completed_at),
                h.last_run.phase
            ));
        }
    }
    if debug {
        out.push_str("USER-SUPPLIED VALUES:\n");
        out.push_str(&values_yaml(&release.config));
        out.push('\n');
        out.push_str("COMPUTED VALUES:\n");
        out.push_str(&values_yaml(&computed_values(release)));
        out.push('\n');
    }
    if info.description.eq_ignore_ascii_case("Dry run complete") || debug {
        out.push_str("HOOKS:\n");
        for h in &release.hooks {
            out.push_str(&crate::template::source_block(&h.path, &h.manifest));
        }
        out.push_str(&format!("MANIFEST:\n{}\n", release.manifest));
    }
    if !hide_notes && !info.notes.is_empty() {
        out.push_str(&format!("NOTES:\n{}\n", info.notes.trim()));
    }
    out
}

/// Values as `helm get values` prints them (`{}` for none).
fn values_yaml(values: &Json) -> String {
    let v = json_to_value(values);
    if v.as_dict().is_none_or(|d| d.is_empty()) {
        return "{}\n".into();
    }
    rudder_value::yaml::to_yaml(&v).unwrap_or_default()
}

/// The chart's values under the user's (Helm's `CoalesceValues` on the stored chart).
fn computed_values(release: &Release) -> Json {
    let chart = rudder_chart::Chart {
        values: json_to_value(&release.chart["values"]),
        ..rudder_chart::Chart::default()
    };
    // Helm logs coalescing warnings here too; `get values` and `status` do not show them yet.
    rudder_chart::coalesce_values(&chart, &json_to_value(&release.config), &mut Vec::new())
        .map(|v| super::value_to_json(&v))
        .unwrap_or(Json::Null)
}

/// `rudder get values NAME [--all]`: (heading, values).
pub fn get_values(
    cluster: &Cluster,
    name: &str,
    revision: i64,
    all: bool,
) -> Result<(String, Json), Error> {
    let release = get_release(cluster, name, revision)?;
    if all {
        Ok(("COMPUTED VALUES:".into(), computed_values(&release)))
    } else {
        Ok(("USER-SUPPLIED VALUES:".into(), release.config.clone()))
    }
}

/// Values as YAML, the way the table output of `get values` prints them.
pub fn format_values_yaml(values: &Json) -> String {
    values_yaml(values)
}

pub fn get_manifest(cluster: &Cluster, name: &str, revision: i64) -> Result<String, Error> {
    Ok(get_release(cluster, name, revision)?.manifest)
}

pub fn get_notes(cluster: &Cluster, name: &str, revision: i64) -> Result<String, Error> {
    let release = get_release(cluster, name, revision)?;
    let notes = release.info.map(|i| i.notes).unwrap_or_default();
    Ok(if notes.is_empty() {
        String::new()
    } else {
        format!("NOTES:\n{notes}\n")
    })
}

pub fn get_hooks(cluster: &Cluster, name: &str, revision: i64) -> Result<String, Error> {
    let release = get_release(cluster, name, revision)?;
    let mut out = String::new();
    for h in &release.hooks {
        out.push_str(&crate::template::source_block(&h.path, &h.manifest));
    }
    Ok(out)
}

/// `rudder get metadata NAME` as JSON (Helm's `Metadata` field names).
pub fn get_metadata(cluster: &Cluster, name: &str, revision: i64) -> Result<Json, Error> {
    let r = get_release(cluster, name, revision)?;
    let info = r.info.clone().unwrap_or_default();
    let deps: Vec<String> = r.chart["metadata"]["dependencies"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .filter_map(|d| d["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let deployed_at = parse_time(&info.last_deployed)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    Ok(json!({
        "name": r.name,
        "chart": r.chart_field("name"),
        "version": r.chart_field("version"),
        "appVersion": r.chart_field("appVersion"),
        "annotations": r.chart["metadata"]["annotations"],
        "labels": r.labels,
        "dependencies": deps,
        "namespace": r.namespace,
        "revision": r.version,
        "status": info.status,
        "deployedAt": deployed_at,
        "applyMethod": r.apply_method,
    }))
}

/// The table form of `get metadata`.
pub fn metadata_text(m: &Json) -> String {
    let set = |v: &Json| -> String {
        v.as_object()
            .map(|o| {
                let mut pairs: Vec<String> = o
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect();
                pairs.sort();
                pairs.join(",")
            })
            .unwrap_or_default()
    };
    let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
    let deps: Vec<&str> = m["dependencies"]
        .as_array()
        .map(|d| d.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let method = match s("applyMethod").as_str() {
        "ssa" => "server-side apply".to_string(),
        "csa" | "" => "client-side apply".to_string(),
        other => other.to_string(),
    };
    format!(
        "NAME: {}\nCHART: {}\nVERSION: {}\nAPP_VERSION: {}\nANNOTATIONS: {}\nLABELS: {}\nDEPENDENCIES: {}\nNAMESPACE: {}\nREVISION: {}\nSTATUS: {}\nDEPLOYED_AT: {}\nAPPLY_METHOD: {}\n",
        s("name"),
        s("chart"),
        s("version"),
        s("appVersion"),
        set(&m["annotations"]),
        set(&m["labels"]),
        deps.join(","),
        s("namespace"),
        m["revision"],
        s("status"),
        s("deployedAt"),
        method
    )
}

/// `rudder status NAME`.
pub fn status(cluster: &Cluster, name: &str, revision: i64) -> Result<Release, Error> {
    get_release(cluster, name, revision)
}

/// The `RESOURCES:` section of `helm status`: each object of the release's manifest as the
/// API server's table of it, grouped under `==> VERSION/KIND`, printed as kubectl prints
/// tables. Groups come in manifest order (Helm's order is a Go map's, i.e. random); objects
/// that cannot be read are left out, as Helm leaves them. Empty when nothing could be read.
pub fn resources_text(cluster: &Cluster, release: &Release) -> Result<String, Error> {
    let kube = cluster.kube();
    let mut objects = super::resources::parse_manifest(&release.manifest, &release.namespace)?;
    super::resources::locate(kube, &mut objects)?;
    let mut groups: Vec<(String, Vec<Json>)> = Vec::new();
    let mut related = super::related_pods::RelatedPods::default();
    let mut add = |key: String, table: Json| match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, tables)) => tables.push(table),
        None => groups.push((key, vec![table])),
    };
    for o in &objects {
        let Ok(table) = kube.get_table(&o.reference) else {
            continue;
        };
        let pods = related.table_for(kube, &o.json, &o.reference.namespace);
        let version = o
            .reference
            .api_version
            .rsplit('/')
            .next()
            .unwrap_or_default();
        add(format!("{version}/{}", o.reference.kind), table);
        if let Some(pods) = pods {
            add(super::related_pods::RELATED_KEY.to_string(), pods);
        }
    }
    if groups.is_empty() {
        return Ok(String::new());
    }
    let mut printer = TablePrinter::default();
    let mut buf = String::new();
    for (key, tables) in &groups {
        buf.push_str(&format!("==> {key}\n"));
        for t in tables {
            buf.push_str(&printer.print(t));
        }
        buf.push('\n');
    }
    Ok(format!("RESOURCES:\n{buf}\n"))
}

/// The release as `helm status -o json|yaml` prints it: the record without its chart, with
/// `info.resources`
/// (the live objects and their related pods, see [`super::related_pods::resources_json`])
/// when any could be read.
pub fn status_json(cluster: &Cluster, release: &Release) -> Result<Json, Error> {
    let kube = cluster.kube();
    let mut objects = super::resources::parse_manifest(&release.manifest, &release.namespace)?;
    super::resources::locate(kube, &mut objects)?;
    let resources = super::related_pods::resources_json(kube, &objects);
    let mut json = serde_json::to_value(release).map_err(|e| Error::message(e.to_string()))?;
    // cmd/status.go: "strip chart metadata from the output".
    if let Some(fields) = json.as_object_mut() {
        fields.remove("chart");
    }
    if resources.as_object().is_some_and(|m| !m.is_empty()) {
        json["info"]["resources"] = resources;
    }
    Ok(json)
}

/// kubectl's printing of server-side tables: headers (upper-cased, priority-0 columns only)
/// once for a run of tables with the same columns, each table aligned on its own as a
/// tabwriter with minimum width 6 and padding 3.
#[derive(Default)]
struct TablePrinter {
    last_columns: Option<Json>,
    printed_headers: bool,
}

impl TablePrinter {
    fn print(&mut self, table: &Json) -> String {
        let columns = table["columnDefinitions"].clone();
        let mut no_headers = false;
        let same = self.last_columns.as_ref() == Some(&columns);
        if self.printed_headers && (columns.as_array().is_none_or(|c| c.is_empty()) || same) {
            no_headers = true;
        }
        if !same && columns.as_array().is_some_and(|c| !c.is_empty()) {
            self.last_columns = Some(columns.clone());
            self.printed_headers = false;
        }
        let rows = table["rows"].as_array().cloned().unwrap_or_default();
        if !rows.is_empty() {
            self.printed_headers = true;
        }
        // kubectl's printTable prints not even the headers of a table without rows (an
        // empty list of related pods).
        if rows.is_empty() && !no_headers {
            return String::new();
        }
        let defs = self
            .last_columns
            .as_ref()
            .and_then(|c| c.as_array().cloned())
            .unwrap_or_default();
        let shown: Vec<usize> = defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d["priority"].as_i64().unwrap_or(0) == 0)
            .map(|(i, _)| i)
            .collect();
        let mut lines: Vec<Vec<String>> = Vec::new();
        if !no_headers {
            lines.push(
                shown
                    .iter()
                    .map(|&i| defs[i]["name"].as_str().unwrap_or_default().to_uppercase())
                    .collect(),
            );
        }
        for row in &rows {
            let cells = row["cells"].as_array().cloned().unwrap_or_default();
            lines.push(
                shown
                    .iter()
                    .map(|&i| match cells.get(i) {
                        Some(Json::String(s)) => s.clone(),
                        Some(Json::Null) | None => "<none>".into(),
                        Some(v) => v.to_string(),
                    })
                    .collect(),
            );
        }
        tabwriter(&lines)
    }
}

/// Go's tabwriter as kubectl configures it (min width 6, padding 3, spaces): every cell but
/// the last of its line is padded to its column's width.
fn tabwriter(lines: &[Vec<String>]) -> String {
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for line in lines {
        for (j, cell) in line.iter().enumerate() {
            if j + 1 < line.len() {
                widths[j] = widths[j].max((cell.chars().count() + 3).max(6));
            }
        }
    }
    let mut out = String::new();
    for line in lines {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < line.len() {
                out.push_str(&" ".repeat(widths[j] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_go_prints_them() {
        assert_eq!(
            updated_time("2026-11-25T05:44:00.07148577Z", None),
            "2026-11-25 05:44:00.07148577 +0000 UTC"
        );
        // --time-format takes a Go layout, as Time.Format does.
        assert_eq!(
            updated_time(
                "2026-11-25T05:44:00.07148577Z",
                Some("2006-01-02 15:04:05Z0700")
            ),
            "2026-11-25 05:44:00Z"
        );
        assert_eq!(
            updated_time(
                "2026-11-25T17:04:00+02:00",
                Some("Jan _2 3:04PM -07:00 MST")
            ),
            "Nov 25 5:04PM +02:00 +0200"
        );
        assert_eq!(ansic("2026-11-05T05:44:00Z"), "Thu Nov  5 05:44:00 2026");
    }

    #[test]
    fn default_list_shows_every_state() {
        let opts = ListOptions::default();
        assert!(state_wanted(&opts, "uninstalled"));
        let deployed_only = ListOptions {
            deployed: true,
            ..ListOptions::default()
        };
        assert!(!state_wanted(&deployed_only, "failed"));
        assert!(state_wanted(&deployed_only, "deployed"));
    }

    #[test]
    fn a_table_without_rows_prints_nothing() {
        let columns =
            serde_json::json!([{"name": "Name", "priority": 0}, {"name": "Age", "priority": 0}]);
        let empty = serde_json::json!({"columnDefinitions": columns, "rows": []});
        let full =
            serde_json::json!({"columnDefinitions": columns, "rows": [{"cells": ["a", "1s"]}]});
        let mut printer = TablePrinter::default();
        assert_eq!(printer.print(&empty), "");
        assert!(printer.print(&full).starts_with("NAME"));
        assert_eq!(printer.print(&empty), "");
    }
}
