//! Values: merging user values (`MergeMaps`), coalescing them with chart and subchart
//! defaults (`CoalesceValues`, with globals and `null` deletion), and processing
//! dependencies (aliases, tags, conditions, import-values), as Helm v4.2.3 does in
//! pkg/chart/common/util/coalesce.go and pkg/chart/v2/util/dependencies.go.
//!
//! Helm mutates Go maps in place here, on deep copies of the chart's and the user's values
//! made for each coalescing. These functions never change a shared map: they copy one level
//! ([`Dict::snapshot`]) where they change it and share everything they leave alone (a map
//! coalesced with an empty one, a defaults table without `null`s), so the chart's defaults
//! are not copied for every coalescing (dependency processing coalesces the whole chart tree
//! several times, disabled subcharts included). Only the values handed out by the public
//! functions share no map with anything else, since templates may change them in place
//! (`set`, `merge`), which must not reach the chart's defaults or the user's values.
//!
//! [`Dict::snapshot`]: rudder_value::Dict::snapshot

use rudder_value::{Dict, Map, Value};

use crate::log::{LogRecord, Logs};
use crate::Chart;

/// Helm's `MergeMaps`: `b` over `a`, maps merged recursively, everything else replaced.
pub fn merge_maps(a: Map, b: Map) -> Map {
    let mut out = a;
    for (k, v) in b {
        if let Value::Map(bv) = &v {
            if let Some(Value::Map(av)) = out.get(&k) {
                let merged = merge_maps(av.snapshot(), bv.snapshot());
                out.insert(k, Value::map(merged));
                continue;
            }
        }
        out.insert(k, v);
    }
    out
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_))
}

fn table_of(v: &Value) -> Map {
    v.as_dict().map(|d| d.snapshot()).unwrap_or_default()
}

/// Helm's `cleanNilValues` (which chart defaults go through before coalescing), on a copy:
/// `d` without `null`s at any depth. Most defaults hold none, so every map that holds none
/// is shared, not copied.
fn without_nils(d: &Dict) -> Dict {
    match nil_free_copy(&d.read()) {
        None => d.clone(),
        Some(m) => Dict::new(m),
    }
}

/// A copy of `m` without `null`s at any depth, or `None` if it holds none.
fn nil_free_copy(m: &Map) -> Option<Map> {
    let mut out: Option<Map> = None;
    for (key, val) in m {
        let replacement = match val {
            Value::Nil => None,
            Value::Map(d) => match nil_free_copy(&d.read()) {
                None => continue,
                Some(sub) => Some(Value::map(sub)),
            },
            _ => continue,
        };
        let out = out.get_or_insert_with(|| m.clone());
        match replacement {
            None => out.remove(key),
            Some(v) => out.insert(key.clone(), v),
        };
    }
    out
}

/// Helm's `concatPrefix`: the dotted path that warnings name.
fn concat_prefix(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// What Helm's `coalesceTablesFullKey` leaves at a key that both tables hold.
enum Coalesced {
    KeepDestination,
    Remove,
    Replace(Value),
}

impl Coalesced {
    /// Writes the outcome for `key` into `out`, a copy of the source table: the
    /// destination's value `kept`, no entry, or the replacement.
    fn write(self, out: &mut Map, key: String, kept: Value) {
        match self {
            Coalesced::KeepDestination => {
                out.insert(key, kept);
            }
            Coalesced::Remove => {
                out.remove(&key);
            }
            Coalesced::Replace(v) => {
                out.insert(key, v);
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey` for one key that both `dst` (value `dv`) and `src`
/// (value `val`) hold. Helm first sets the key to `null` in `src` wherever `dst` holds
/// `null`, so such a key only ever decides between removing and keeping the `null`.
fn coalesce_entry(
    key: &str,
    dv: &Value,
    val: &Value,
    prefix: &str,
    merge: bool,
    logs: &mut Logs,
) -> Coalesced {
    if dv.is_nil() {
        // The user nulls a chart default: coalescing deletes the key, merging keeps it.
        return if !merge && !val.is_nil() {
            Coalesced::Remove
        } else {
            Coalesced::KeepDestination
        };
    }
    match (dv, val) {
        (Value::Map(d), Value::Map(s)) => Coalesced::Replace(Value::Map(coalesce_dicts(
            d,
            s,
            &concat_prefix(prefix, key),
            merge,
            logs,
        ))),
        (_, Value::Map(_)) => {
            logs.push(LogRecord::info(format!(
                "warning: cannot overwrite table with non table for {} ({})",
                concat_prefix(prefix, key),
                val.to_go_string()
            )));
            Coalesced::KeepDestination
        }
        (Value::Map(_), _) if !val.is_nil() => {
            logs.push(LogRecord::info(format!(
                "warning: destination for {} is a table. Ignoring non-table value ({})",
                concat_prefix(prefix, key),
                val.to_go_string()
            )));
            Coalesced::KeepDestination
        }
        _ => Coalesced::KeepDestination,
    }
}

/// Helm's `coalesceTablesFullKey`: `dst` (higher priority) filled from `src` (defaults),
/// logging the keys where a table and a non-table meet; `prefix` is the path of `dst`.
///
/// Warnings come in the order of the keys both hold, so the result can be built from
/// either side: from a copy of the larger one, with the smaller one's keys laid over it
/// (user values are usually small, chart defaults large).
fn coalesce_tables(dst: Map, src: &Map, prefix: &str, merge: bool, logs: &mut Logs) -> Map {
    if dst.len() >= src.len() {
        let mut out = dst;
        for (key, val) in src {
            let Some(dv) = out.get(key) else {
                out.insert(key.clone(), val.clone());
                continue;
            };
            match coalesce_entry(key, dv, val, prefix, merge, logs) {
                Coalesced::KeepDestination => {}
                Coalesced::Remove => {
                    out.remove(key);
                }
                Coalesced::Replace(v) => {
                    out.insert(key.clone(), v);
                }
            }
        }
        out
    } else {
        let mut out = src.clone();
        for (key, dv) in dst {
            let outcome = match src.get(&key) {
                None => Coalesced::KeepDestination,
                Some(val) => coalesce_entry(&key, &dv, val, prefix, merge, logs),
            };
            outcome.write(&mut out, key, dv);
        }
        out
    }
}

/// [`coalesce_tables`] of two maps into a new one, or into one of them, shared, where the
/// result has the same contents: when the other is empty or both are the same map.
fn coalesce_dicts(dst: &Dict, src: &Dict, prefix: &str, merge: bool, logs: &mut Logs) -> Dict {
    if dst.ptr_eq(src) || src.is_empty() {
        return dst.clone();
    }
    if dst.is_empty() {
        return src.clone();
    }
    let merged = coalesce_tables(dst.snapshot(), &src.read(), prefix, merge, logs);
    Dict::new(merged)
}

/// Helm's `coalesceGlobals`: the parent's `global` into the subchart's; `prefix` is the
/// parent chart's path.
fn coalesce_globals(dest: &mut Map, src: &Map, prefix: &str, logs: &mut Logs) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(Value::Map(d)) => d.snapshot(),
        Some(_) => {
            logs.push(LogRecord::info(
                "warning: skipping globals because destination global is not a table.",
            ));
            return;
        }
    };
    let sg = match src.get("global") {
        None => Dict::default(),
        Some(Value::Map(s)) => s.clone(),
        Some(_) => {
            logs.push(LogRecord::info(
                "warning: skipping globals because source global is not a table.",
            ));
            return;
        }
    };
    for (key, val) in sg.read().iter() {
        if let Value::Map(vv) = val {
            match dg.get(key) {
                None => {
                    dg.insert(key.clone(), val.clone());
                }
                Some(Value::Map(destv)) => {
                    // Helm merges top-down here: the parent's table over the subchart's.
                    let prefix = concat_prefix(prefix, key);
                    let merged = coalesce_dicts(vv, destv, &prefix, true, logs);
                    dg.insert(key.clone(), Value::Map(merged));
                }
                Some(_) => logs.push(LogRecord::info(format!(
                    "Conflict: cannot merge map onto non-map for {}. Skipping.",
                    rudder_value::gofmt::quote(key)
                ))),
            }
        } else if dg.get(key).is_some_and(is_table) {
            logs.push(LogRecord::info(format!("key {key} is table. Skipping")));
        } else {
            dg.insert(key.clone(), val.clone());
        }
    }
    dest.insert("global".into(), Value::map(dg));
}

fn child_merge(chart: &Chart, key: &str, merge: bool) -> bool {
    chart.dependencies.iter().any(|d| d.name() == key) || merge
}

/// Helm's `coalesceValues`: the chart's own defaults into `v`; `prefix` is the path of the
/// chart's parent.
///
/// Like [`coalesce_tables`], it builds the result from the larger side: a subchart's
/// values usually hold a few keys besides `global`, its defaults many.
fn coalesce_chart_values(chart: &Chart, v: &mut Map, prefix: &str, merge: bool, logs: &mut Logs) {
    let sub_prefix = concat_prefix(prefix, chart.name());
    let Some(defaults) = chart.values.as_dict() else {
        return;
    };
    let defaults = defaults.read();
    if v.len() >= defaults.len() {
        for (key, val) in defaults.iter() {
            let outcome = match v.get(key) {
                Some(value) => under_default(chart, key, value, val, &sub_prefix, merge, logs),
                None => match default_to_copy(val, merge) {
                    Some(val) => Coalesced::Replace(val),
                    None => Coalesced::KeepDestination,
                },
            };
            match outcome {
                Coalesced::KeepDestination => {}
                Coalesced::Remove => {
                    v.remove(key);
                }
                Coalesced::Replace(val) => {
                    v.insert(key.clone(), val);
                }
            }
        }
    } else {
        // default_to_copy's rule for every default, on a clone of the whole table: cloning a
        // map and pruning it costs less than building it entry by entry.
        let mut out = defaults.clone();
        if !merge {
            out.retain(|_, val| !val.is_nil());
            for val in out.values_mut() {
                if let Value::Map(sub) = val {
                    *val = Value::Map(without_nils(sub));
                }
            }
        }
        for (key, value) in std::mem::take(v) {
            let outcome = match defaults.get(&key) {
                Some(val) => under_default(chart, &key, &value, val, &sub_prefix, merge, logs),
                None => Coalesced::KeepDestination,
            };
            outcome.write(&mut out, key, value);
        }
        *v = out;
    }
}

/// What a chart default `val` that `v` lacks adds to it: nothing for a `null`, and tables
/// without their `null`s, when coalescing (not merging).
fn default_to_copy(val: &Value, merge: bool) -> Option<Value> {
    match val {
        Value::Nil if !merge => None,
        Value::Map(sub) if !merge => Some(Value::Map(without_nils(sub))),
        _ => Some(val.clone()),
    }
}

/// Helm's `coalesceValues` for a key that both the values (`value`) and the chart's
/// defaults (`val`) hold.
fn under_default(
    chart: &Chart,
    key: &str,
    value: &Value,
    val: &Value,
    sub_prefix: &str,
    merge: bool,
    logs: &mut Logs,
) -> Coalesced {
    if value.is_nil() && !merge {
        return Coalesced::Remove;
    }
    let Value::Map(dest) = value else {
        return Coalesced::KeepDestination;
    };
    if let Value::Map(src) = val {
        let m = child_merge(chart, key, merge);
        let src = if m { src.clone() } else { without_nils(src) };
        let path = concat_prefix(sub_prefix, key);
        Coalesced::Replace(Value::Map(coalesce_dicts(dest, &src, &path, m, logs)))
    } else {
        if !val.is_nil() {
            logs.push(LogRecord::info(format!(
                "warning: skipped value for {sub_prefix}.{key}: Not a table."
            )));
        }
        Coalesced::KeepDestination
    }
}

/// Why values could not be coalesced or do not meet the charts' schemas; the `Display` is
/// Helm's text.
#[derive(Debug, thiserror::Error)]
pub enum CoalesceError {
    /// A subchart's key holds something other than a table (Helm's `%!t` of the value).
    #[error("type mismatch on {name}: %!t({type_name}={value})")]
    TypeMismatch {
        name: String,
        type_name: String,
        value: String,
    },
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{0}"
    )]
    Schema(#[from] crate::schema::ChartSchemaErrors),
}

/// A dotted path that does not lead to a table (Helm's `ErrNoTable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not a table", rudder_value::gofmt::quote(.0))]
struct NoTable(String);

fn coalesce(
    chart: &Chart,
    dest: &mut Map,
    prefix: &str,
    merge: bool,
    logs: &mut Logs,
) -> Result<(), CoalesceError> {
    coalesce_chart_values(chart, dest, prefix, merge, logs);
    let sub_prefix = concat_prefix(prefix, chart.name());
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        match dest.get(&name) {
            None => {
                dest.insert(name.clone(), Value::map(Map::new()));
            }
            Some(v) if !is_table(v) => {
                return Err(CoalesceError::TypeMismatch {
                    type_name: v.type_name().into_owned(),
                    value: v.to_go_string(),
                    name,
                });
            }
            _ => {}
        }
        let mut dv = table_of(dest.get(&name).expect("just ensured"));
        coalesce_globals(&mut dv, dest, &sub_prefix, logs);
        coalesce(sub, &mut dv, &sub_prefix, merge, logs)?;
        dest.insert(name, Value::map(dv));
    }
    Ok(())
}

/// Helm's `CoalesceValues`: user values over chart defaults, for the chart and every
/// (enabled) subchart, `null` deleting keys. Where a table meets a non-table, Helm logs a
/// warning and keeps the user's value; those warnings go to `logs`.
pub fn coalesce_values(
    chart: &Chart,
    user: &Value,
    logs: &mut Logs,
) -> Result<Value, CoalesceError> {
    let mut values = coalesced(chart, user, false, logs)?;
    unshare(&mut values);
    Ok(values)
}

/// Makes `v` share no map with anything else: the maps coalescing built, held by `v` alone,
/// are kept as they are, and every map it shares (chart defaults, user values) is copied.
/// A map held only by a map that `v` alone holds is `v`'s alone too.
fn unshare(v: &mut Value) {
    match v {
        Value::Map(d) => match d.get_mut() {
            Some(m) => m.values_mut().for_each(unshare),
            None => *v = v.deep_clone(),
        },
        // Coalescing builds no lists: any list with maps inside is shared.
        Value::List(_) => *v = v.deep_clone(),
        _ => {}
    }
}

/// Coalesced values that share every map they do not change with the chart's and the
/// user's values: for reading, or for values that stay inside this module. With `merge`,
/// Helm's `MergeValues` (coalescing that keeps `null`s), which import-values uses.
fn coalesced(
    chart: &Chart,
    user: &Value,
    merge: bool,
    logs: &mut Logs,
) -> Result<Value, CoalesceError> {
    let mut dest = table_of(user);
    coalesce(chart, &mut dest, "", merge, logs)?;
    Ok(Value::map(dest))
}

/// Helm's `CoalesceTables`: `dst` over `src` at the top level of a values tree (as
/// `--reuse-values` and lint's values check use it), `null` in `dst` deleting keys.
pub fn coalesce_tables_top(dst: &Value, src: &Value, logs: &mut Logs) -> Value {
    let src = src.as_dict().cloned().unwrap_or_default();
    let out = coalesce_tables(table_of(dst), &src.read(), "", false, logs);
    Value::map(out).deep_clone()
}

/// Helm's `Values.PathValue`: a non-table value at a dotted path.
fn path_value(values: &Map, path: &str) -> Option<Value> {
    let (tables, last) = match path.rsplit_once('.') {
        Some((tables, last)) => (Some(tables), last),
        None => (None, path),
    };
    let found = match tables {
        None => values.get(last).cloned(),
        Some(tables) => table_at(values, tables).ok()?.read().get(last).cloned(),
    };
    found.filter(|v| !is_table(v))
}

/// Whether a dependency entry names a loaded subchart (same name, version in the entry's
/// range), as Helm's `getAliasDependency` and `processDependencyEnabled` match them.
fn names_chart(dep: &crate::Dependency, chart: &Chart) -> bool {
    chart.name() == dep.name
        && rudder_semver::is_compatible_range(&dep.version, &chart.metadata.version)
}

fn process_enabled(
    chart: &mut Chart,
    values: &Value,
    path: &str,
    logs: &mut Logs,
) -> Result<(), CoalesceError> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    // Helm rebuilds the subchart list: loaded charts no entry refers to, then one copy per
    // entry (renamed to its alias). Copies are moved out of the loaded list, and cloned only
    // when two entries name the same chart, so charts are never copied needlessly.
    let mut loaded: Vec<Option<Chart>> = std::mem::take(&mut chart.dependencies)
        .into_iter()
        .map(Some)
        .collect();
    // The first loaded chart each entry names.
    let picks: Vec<Option<usize>> = chart
        .metadata
        .dependencies
        .iter()
        .map(|req| {
            loaded
                .iter()
                .position(|c| c.as_ref().is_some_and(|c| names_chart(req, c)))
        })
        .collect();
    let mut deps: Vec<Chart> = Vec::new();
    for slot in &mut loaded {
        let referenced = slot.as_ref().is_some_and(|c| {
            chart
                .metadata
                .dependencies
                .iter()
                .any(|r| names_chart(r, c))
        });
        if !referenced {
            deps.extend(slot.take());
        }
    }
    let mut uses_left = vec![0usize; loaded.len()];
    for i in picks.iter().flatten() {
        uses_left[*i] += 1;
    }
    for (req, pick) in chart.metadata.dependencies.iter_mut().zip(&picks) {
        if let Some(i) = *pick {
            uses_left[i] -= 1;
            let mut copy = if uses_left[i] == 0 {
                loaded[i]
                    .take()
                    .expect("a referenced chart stays until its last use")
            } else {
                loaded[i]
                    .clone()
                    .expect("a referenced chart stays until its last use")
            };
            if !req.alias.is_empty() {
                copy.metadata.name = req.alias.clone();
            }
            deps.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = deps;
    for r in &mut chart.metadata.dependencies {
        r.enabled = true;
    }
    let cvals = table_of(&coalesced(chart, values, false, logs)?);
    // Tags.
    if let Some(Value::Map(tags)) = cvals.get("tags") {
        let tags = tags.snapshot();
        for r in &mut chart.metadata.dependencies {
            let (mut has_true, mut has_false) = (false, false);
            for k in &r.tags {
                match tags.get(k) {
                    Some(Value::Bool(true)) => has_true = true,
                    Some(Value::Bool(false)) => has_false = true,
                    Some(_) => logs.push(
                        LogRecord::warn("returned non-bool value")
                            .with("tag", k.as_str())
                            .with("chart", r.name.as_str()),
                    ),
                    None => {}
                }
            }
            if !has_true && has_false {
                r.enabled = false;
            } else if has_true || !has_false {
                r.enabled = true;
            }
        }
    }
    // Conditions: the first path that holds a bool decides.
    for r in &mut chart.metadata.dependencies {
        for c in r.condition.trim().split(',') {
            if c.is_empty() {
                continue;
            }
            match path_value(&cvals, &format!("{path}{c}")) {
                Some(Value::Bool(b)) => {
                    r.enabled = b;
                    break;
                }
                Some(_) => logs.push(
                    LogRecord::warn("returned non-bool value")
                        .with("path", c)
                        .with("chart", r.name.as_str()),
                ),
                None => {}
            }
        }
    }
    let disabled: std::collections::HashSet<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    chart.dependencies.retain(|d| !disabled.contains(d.name()));
    chart
        .metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    let cvals_value = Value::map(cvals);
    for sub in &mut chart.dependencies {
        let subpath = format!("{path}{}.", sub.metadata.name);
        process_enabled(sub, &cvals_value, &subpath, logs)?;
    }
    // These values hold the last references to the disabled subcharts' defaults (their
    // files went with the charts above): many small allocations, which a short-lived
    // process leaves to its end.
    rudder_value::teardown::discard(cvals_value);
    Ok(())
}

fn path_to_map(path: &str, data: Dict) -> Map {
    if path == "." {
        return data.snapshot();
    }
    let mut cur = Value::Map(data);
    for p in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(p.to_string(), cur);
        cur = Value::map(m);
    }
    table_of(&cur)
}

/// Helm's `Values.Table`: the table at a dotted path, or the error naming the first key
/// that is missing or not a table.
fn table_at(values: &Map, path: &str) -> Result<Dict, NoTable> {
    let mut parts = path.split('.');
    let first = parts.next().unwrap_or_default();
    let mut cur = match values.get(first) {
        Some(Value::Map(m)) => m.clone(),
        _ => return Err(NoTable(first.to_string())),
    };
    for p in parts {
        cur = match cur.get(p) {
            Some(Value::Map(m)) => m,
            _ => return Err(NoTable(p.to_string())),
        };
    }
    Ok(cur)
}

fn process_import_values(chart: &mut Chart, logs: &mut Logs) -> Result<(), CoalesceError> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = table_of(&coalesced(chart, &Value::map(Map::new()), true, logs)?);
    let mut b = Map::new();
    for r in &mut chart.metadata.dependencies {
        let mut out = Vec::new();
        for iv in &r.import_values {
            match iv {
                Value::Map(m) => {
                    let m = m.snapshot();
                    let child = m
                        .get("child")
                        .map(Value::to_go_string)
                        .unwrap_or_else(|| "<nil>".into());
                    let parent = m
                        .get("parent")
                        .map(Value::to_go_string)
                        .unwrap_or_else(|| "<nil>".into());
                    let mut entry = Map::new();
                    entry.insert("child".into(), Value::str(&child));
                    entry.insert("parent".into(), Value::str(&parent));
                    out.push(Value::map(entry));
                    match table_at(&cvals, &format!("{}.{child}", r.name)) {
                        Ok(vv) => {
                            let imported = path_to_map(&parent, vv);
                            b = coalesce_tables(std::mem::take(&mut b), &imported, "", true, logs);
                        }
                        Err(e) => logs.push(
                            LogRecord::warn("ImportValues missing table from chart")
                                .with("chart", r.name.as_str())
                                .with("error", e.to_string()),
                        ),
                    }
                }
                Value::String(s) => {
                    let child = format!("exports.{s}");
                    let mut entry = Map::new();
                    entry.insert("child".into(), Value::str(&child));
                    entry.insert("parent".into(), Value::str("."));
                    out.push(Value::map(entry));
                    match table_at(&cvals, &format!("{}.{child}", r.name)) {
                        Ok(vm) => {
                            b = coalesce_tables(std::mem::take(&mut b), &vm.read(), "", true, logs)
                        }
                        Err(e) => logs.push(
                            LogRecord::warn("ImportValues missing table")
                                .with("error", e.to_string()),
                        ),
                    }
                }
                _ => {}
            }
        }
        r.import_values = out;
    }
    chart.values = Value::map(coalesce_tables(cvals, &b, "", true, logs));
    Ok(())
}

fn process_import_values_rec(chart: &mut Chart, logs: &mut Logs) -> Result<(), CoalesceError> {
    for d in &mut chart.dependencies {
        process_import_values_rec(d, logs)?;
    }
    process_import_values(chart, logs)
}

/// Helm's `ProcessDependencies`: resolves aliases, drops subcharts disabled by tags or
/// conditions, then applies import-values. Coalescing warnings and non-bool conditions or
/// tags go to `logs`.
pub fn process_dependencies(
    chart: &mut Chart,
    values: &Value,
    logs: &mut Logs,
) -> Result<(), CoalesceError> {
    process_enabled(chart, values, "", logs)?;
    let parents = chart.parents.clone();
    chart.set_parents(parents);
    process_import_values_rec(chart, logs)
}

/// Coalesces and validates against every chart's schema: the values part of Helm's
/// `ToRenderValuesWithSchemaValidation`.
pub fn to_render_values_check(
    chart: &Chart,
    user: &Value,
    skip_schema: bool,
    logs: &mut Logs,
) -> Result<Value, CoalesceError> {
    let values = coalesce_values(chart, user, logs)?;
    if !skip_schema {
        crate::schema::validate_against_schema(chart, &values)?;
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_files, File};

    fn chart(files: &[(&str, &str)]) -> Chart {
        load_files(
            files
                .iter()
                .map(|(n, d)| File {
                    name: n.to_string(),
                    data: bytes::Bytes::copy_from_slice(d.as_bytes()),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn coalesced_values_share_no_map_with_the_chart_or_the_user() {
        // Templates may change .Values in place (`set`, `merge`); coalescing shares maps
        // internally, so what it hands out must be a copy.
        let mut c = chart(&[
            ("Chart.yaml", "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: 0.1.0\n"),
            ("values.yaml", "a: {b: 1}\n"),
            ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
            ("charts/sub/values.yaml", "x: {y: 2}\n"),
        ]);
        let user = rudder_value::yaml::from_yaml("u: {v: 3}\n").unwrap();
        let mut logs = Logs::new();
        process_dependencies(&mut c, &user, &mut logs).unwrap();
        let v = coalesce_values(&c, &user, &mut logs).unwrap();
        for path in [&["a"][..], &["sub", "x"], &["u"]] {
            let Some(Value::Map(d)) = v.get_path(path) else {
                panic!("{path:?} is not a table in {}", v.to_go_string());
            };
            d.insert("changed", Value::Bool(true));
        }
        assert_eq!(c.values.get_path(&["a", "changed"]), None);
        assert_eq!(c.dependencies[0].values.get_path(&["x", "changed"]), None);
        assert_eq!(user.get_path(&["u", "changed"]), None);
    }

    #[test]
    fn coalesces_with_globals_and_nulls() {
        let mut c = chart(&[
            ("Chart.yaml", "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  condition: sub.enabled\n"),
            ("values.yaml", "a: 1\nb: {c: 2, d: 3}\nglobal: {g: 1}\nsub: {x: parent}\n"),
            ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
            ("charts/sub/values.yaml", "x: sub\nz: 2\n"),
        ]);
        let user = rudder_value::yaml::from_yaml("b: {d: null}\n").unwrap();
        let mut logs = Logs::new();
        process_dependencies(&mut c, &user, &mut logs).unwrap();
        let v = coalesce_values(&c, &user, &mut logs).unwrap();
        assert!(logs.is_empty(), "{logs:?}");
        assert_eq!(v.get_path(&["b", "c"]), Some(Value::Float(2.0)));
        assert_eq!(v.get_path(&["b", "d"]), None);
        assert_eq!(v.get_path(&["sub", "x"]), Some(Value::str("parent")));
        assert_eq!(v.get_path(&["sub", "z"]), Some(Value::Float(2.0)));
        assert_eq!(v.get_path(&["sub", "global", "g"]), Some(Value::Float(1.0)));
    }

    #[test]
    fn reuse_values_coalescing_warns_and_drops_nulled_keys() {
        let new = rudder_value::yaml::from_yaml("a: {x: 1}\nb: null\n").unwrap();
        let old = rudder_value::yaml::from_yaml("a: old\nb: 2\n").unwrap();
        let mut logs = Logs::new();
        let v = coalesce_tables_top(&new, &old, &mut logs);
        assert_eq!(v.get_path(&["b"]), None);
        assert_eq!(
            logs,
            vec![LogRecord::info(
                "warning: destination for a is a table. Ignoring non-table value (old)"
            )]
        );
    }

    #[test]
    fn conditions_disable_subcharts() {
        let mut c = chart(&[
            ("Chart.yaml", "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: ~0.1\n  condition: other.enabled\n  alias: other\n"),
            ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
        ]);
        let user = rudder_value::yaml::from_yaml("other: {enabled: false}\n").unwrap();
        process_dependencies(&mut c, &user, &mut Logs::new()).unwrap();
        assert!(c.dependencies.is_empty());
    }

    #[test]
    fn aliased_copies_share_the_loaded_chart_files() {
        let mut c = chart(&[
            ("Chart.yaml", "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  alias: one\n- name: sub\n  version: 0.1.0\n  alias: two\n- name: sub\n  version: 9.0.0\n"),
            ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
            ("charts/sub/templates/a.yaml", "kind: A\n"),
            ("charts/other/Chart.yaml", "apiVersion: v2\nname: other\nversion: 0.1.0\n"),
        ]);
        let template = c.dependencies[1].templates[0].data.clone();
        process_dependencies(&mut c, &Value::map(Map::new()), &mut Logs::new()).unwrap();
        // Helm's order: the unreferenced chart first, then one copy per matching entry; the
        // entry whose version matches nothing adds none.
        let names: Vec<&str> = c.dependencies.iter().map(Chart::name).collect();
        assert_eq!(names, ["other", "one", "two"]);
        assert_eq!(c.dependencies[1].full_path(), "top/charts/one");
        for copy in &c.dependencies[1..] {
            // The same bytes, shared: not a copy.
            assert_eq!(copy.templates[0].data.as_ptr(), template.as_ptr());
        }
    }
}
