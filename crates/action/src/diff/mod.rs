//! `rudder diff`: what an upgrade, a rollback or another revision changes, printed in the
//! formats of the helm-diff plugin (databus23/helm-diff), so that pipelines built on
//! `helm diff` switch by alias. This module compares two manifests; where they come from
//! (a release revision, a dry-run render) is the caller's business.

mod drift;
mod dyff;
pub mod lines;
pub mod objects;
pub mod release;
mod report;
pub mod secrets;
pub mod structured;

use std::collections::BTreeMap;

pub use drift::drift;
pub use objects::{Object, ParseOptions, TEST_HOOKS};
pub use report::{Format, RenderError, Report};
pub use secrets::SecretView;

use lines::{Delta, Line};

/// What kind of change an object sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Add,
    Remove,
    Modify,
    /// The object exists, owned by another release, and the upgrade takes it over.
    Ownership,
    /// Changed, but every changed line was suppressed by `--suppress-output-line-regex`.
    ModifySuppressed,
    /// Drift: the live object differs from what the release applied.
    Drifted,
    /// Drift: the release's object is gone from the cluster.
    Deleted,
}

impl Change {
    /// helm-diff's name of the change (its JSON/template output).
    pub fn name(self) -> &'static str {
        match self {
            Change::Add => "ADD",
            Change::Remove => "REMOVE",
            Change::Modify => "MODIFY",
            Change::Ownership => "OWNERSHIP",
            Change::ModifySuppressed => "MODIFY_SUPPRESSED",
            Change::Drifted => "DRIFTED",
            Change::Deleted => "DELETED",
        }
    }
}

/// One object's change.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub kind: String,
    pub change: Change,
    pub lines: Vec<Line>,
    /// For drift: the field managers that changed the object's fields.
    pub managers: Vec<String>,
    /// `--output structured`: the object's record, built from the two sides as they are
    /// compared (`None` where helm-diff has none, e.g. an ownership change, or where the
    /// manifests could not be read; the entry then prints as a bare record).
    pub structured: Option<structured::Record>,
}

/// The flags that shape a diff (helm-diff's `diff.Options`).
#[derive(Clone, Debug)]
pub struct DiffOptions {
    pub format: Format,
    /// `-C/--context`: lines of context around changes; negative prints every line.
    pub context: i64,
    pub strip_trailing_cr: bool,
    pub secrets: SecretView,
    /// `--suppress KIND` (and `Secret` for `--suppress-secrets`): changes of these kinds are
    /// listed, their lines not.
    pub suppressed_kinds: Vec<String>,
    /// `--find-renames`: above 0, a removed and an added object of one kind whose lines differ
    /// by less than this fraction are shown as one change.
    pub find_renames: f32,
    /// `--suppress-output-line-regex`: changed lines matching any of these are dropped.
    pub suppressed_lines: Vec<regex::Regex>,
    /// Colour escape codes in the output.
    pub color: bool,
    /// HELM_DIFF_TPL's template text for `--output template`.
    pub template: Option<String>,
    /// The terminal's width, which decides whether dyff puts blocks side by side (80, dyff's
    /// fallback, when stdout is not a terminal).
    pub terminal_width: usize,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            format: Format::Diff,
            context: -1,
            strip_trailing_cr: false,
            secrets: SecretView::Masked,
            suppressed_kinds: Vec::new(),
            find_renames: 0.0,
            suppressed_lines: Vec::new(),
            color: false,
            template: None,
            terminal_width: 80,
        }
    }
}

/// Compiles `--suppress-output-line-regex` patterns (Go's RE2 syntax, which the regex crate
/// shares for these purposes).
pub fn compile_line_patterns(patterns: &[String]) -> Result<Vec<regex::Regex>, String> {
    patterns
        .iter()
        .map(|p| {
            regex::Regex::new(p)
                .map_err(|e| format!("invalid --suppress-output-line-regex {p:?}: {e}"))
        })
        .collect()
}

/// An object that changes owner: its key, and the releases (`NAMESPACE/NAME`) before and after.
#[derive(Clone, Debug)]
pub struct OwnershipChange {
    pub key: String,
    pub old_release: String,
    pub new_release: String,
}

/// Compares two indexed manifests, as helm-diff's report is built: ownership changes first,
/// then changed objects in key order, then (after rename detection) removed and added ones.
pub fn compare(
    mut old: BTreeMap<String, Object>,
    mut new: BTreeMap<String, Object>,
    ownership: &[OwnershipChange],
    opts: &DiffOptions,
) -> Report {
    let mut report = Report {
        entries: Vec::new(),
        seen_changes: false,
        warnings: Vec::new(),
    };
    for o in ownership {
        let lines = lines::diff_texts(&o.old_release, &o.new_release, true);
        report.entries.push(Entry {
            key: o.key.clone(),
            kind: String::new(),
            change: Change::Ownership,
            lines,
            managers: Vec::new(),
            structured: None,
        });
    }
    let mut possibly_removed = Vec::new();
    let keys: Vec<String> = old.keys().cloned().collect();
    for key in &keys {
        if new.contains_key(key) {
            let (mut o, mut n) = (old[key].clone(), new[key].clone());
            push_change(&mut report, key, Some(&mut o), Some(&mut n), opts);
        } else {
            possibly_removed.push(key.clone());
        }
    }
    let mut possibly_added: Vec<String> = new
        .keys()
        .filter(|k| !old.contains_key(*k))
        .cloned()
        .collect();
    let mut removed = Vec::new();
    for key in possibly_removed {
        match rename_target(&old[&key], &possibly_added, &new, opts) {
            Some(target) => {
                possibly_added.retain(|k| *k != target);
                let (mut o, mut n) = (old[&key].clone(), new[&target].clone());
                push_change(&mut report, &key, Some(&mut o), Some(&mut n), opts);
            }
            None => removed.push(key),
        }
    }
    for key in removed {
        let mut o = old.remove(&key).expect("key from the old index");
        if o.resource_policy != "keep" {
            push_change(&mut report, &key, Some(&mut o), None, opts);
        }
    }
    for key in possibly_added {
        let mut n = new.remove(&key).expect("key from the new index");
        push_change(&mut report, &key, None, Some(&mut n), opts);
    }
    report.seen_changes = !report.entries.is_empty();
    if !opts.suppressed_lines.is_empty() {
        report.entries = suppress_lines(report.entries, &opts.suppressed_lines);
    }
    report
}

/// The added object a removed one was renamed to, if rename detection is on and one is
/// close enough.
fn rename_target(
    removed: &Object,
    added: &[String],
    new: &BTreeMap<String, Object>,
    opts: &DiffOptions,
) -> Option<String> {
    if opts.find_renames <= 0.0 {
        return None;
    }
    let mut best: Option<(f32, &String)> = None;
    for key in added {
        let candidate = &new[key];
        if candidate.kind != removed.kind {
            continue;
        }
        let (old_len, new_len) = (removed.content.len(), candidate.content.len());
        if old_len == 0 || new_len == 0 {
            continue;
        }
        if removed.kind != "Secret" {
            // Secrets are compared after masking, whose length says nothing of the values.
            let ratio = old_len as f32 / new_len as f32;
            if !(0.1..=10.0).contains(&ratio) {
                continue;
            }
        }
        let (mut o, mut n) = (removed.clone(), candidate.clone());
        secrets::prepare(Some(&mut o), Some(&mut n), opts.secrets);
        let lines = lines::diff_texts(&o.content, &n.content, opts.strip_trailing_cr);
        let changed = lines.iter().filter(|l| l.delta != Delta::Common).count();
        if changed == 0 || lines.is_empty() {
            continue;
        }
        let fraction = changed as f32 / lines.len() as f32;
        if best.is_none_or(|(f, _)| fraction < f) {
            best = Some((fraction, key));
        }
    }
    best.filter(|(f, _)| *f < opts.find_renames)
        .map(|(_, k)| k.clone())
}

fn push_change(
    report: &mut Report,
    key: &str,
    old: Option<&mut Object>,
    new: Option<&mut Object>,
    opts: &DiffOptions,
) {
    if let (Some(o), Some(n)) = (&old, &new) {
        if o.content == n.content {
            return;
        }
    }
    let (mut old, mut new) = (old, new);
    secrets::prepare(old.as_deref_mut(), new.as_deref_mut(), opts.secrets);
    let (change, kind, old_text, new_text) = match (&old, &new) {
        (None, Some(n)) => (Change::Add, n.kind.clone(), "", n.content.as_str()),
        (Some(o), None) => (Change::Remove, o.kind.clone(), o.content.as_str(), ""),
        (Some(o), Some(n)) => (
            Change::Modify,
            o.kind.clone(),
            o.content.as_str(),
            n.content.as_str(),
        ),
        (None, None) => return,
    };
    if opts.format == Format::Structured {
        // helm-diff builds the record instead of the line diff (diff/diff.go `doDiff`): a
        // modification whose objects differ only in layout is no change.
        let suppressed = opts.suppressed_kinds.contains(&kind);
        let record = structured::build(
            key,
            change.name(),
            suppressed,
            old.as_deref(),
            new.as_deref(),
        );
        let structured = match record {
            Ok(r) if change == Change::Modify && !r.changes_suppressed && r.changes.is_empty() => {
                return
            }
            Ok(r) => Some(r),
            Err(e) => {
                report.warnings.push(format!(
                    "Warning: failed to build structured entry for {key} (kind: {kind}, changeType: {}): {}",
                    change.name(),
                    e.0
                ));
                None
            }
        };
        report.entries.push(Entry {
            key: key.to_string(),
            kind,
            change,
            lines: Vec::new(),
            managers: Vec::new(),
            structured,
        });
        return;
    }
    let lines = lines::diff_texts(old_text, new_text, opts.strip_trailing_cr);
    if change == Change::Modify && lines.iter().all(|l| l.delta == Delta::Common) {
        return;
    }
    report.entries.push(Entry {
        key: key.to_string(),
        kind,
        change,
        lines,
        managers: Vec::new(),
        structured: None,
    });
}

/// Drops changed lines matching a pattern; an entry left with no change is kept as
/// `MODIFY_SUPPRESSED` (a modification) or without lines.
fn suppress_lines(entries: Vec<Entry>, patterns: &[regex::Regex]) -> Vec<Entry> {
    entries
        .into_iter()
        .map(|mut e| {
            e.lines
                .retain(|l| !patterns.iter().any(|p| p.is_match(&l.text)));
            if e.lines.iter().all(|l| l.delta == Delta::Common) {
                e.lines.clear();
                if e.change == Change::Modify {
                    e.change = Change::ModifySuppressed;
                }
            }
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(manifest: &str) -> BTreeMap<String, Object> {
        objects::parse(
            manifest,
            &ParseOptions {
                default_namespace: "ns",
                ..Default::default()
            },
        )
        .unwrap()
        .objects
    }

    fn cm(name: &str, value: &str) -> String {
        format!("---\n# Source: c/templates/{name}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: \"{value}\"\n")
    }

    #[test]
    fn changes_come_in_helm_diff_order() {
        let old = index(&format!(
            "{}{}{}",
            cm("a", "1"),
            cm("b", "1"),
            cm("gone", "1")
        ));
        let new = index(&format!("{}{}{}", cm("a", "2"), cm("b", "1"), cm("c", "1")));
        let r = compare(old, new, &[], &DiffOptions::default());
        let seen: Vec<(&str, Change)> = r
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.change))
            .collect();
        assert_eq!(
            seen,
            [
                ("ns, a, ConfigMap (v1)", Change::Modify),
                ("ns, gone, ConfigMap (v1)", Change::Remove),
                ("ns, c, ConfigMap (v1)", Change::Add),
            ]
        );
        assert!(r.seen_changes);
    }

    #[test]
    fn kept_objects_are_not_reported_removed() {
        let old = index("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\n  annotations:\n    helm.sh/resource-policy: keep\n");
        let r = compare(old, BTreeMap::new(), &[], &DiffOptions::default());
        assert!(r.entries.is_empty());
        assert!(!r.seen_changes);
    }

    #[test]
    fn renames_are_found_when_asked() {
        let old = index(&cm("old-name", "1"));
        let new = index(&cm("new-name", "1"));
        let opts = DiffOptions {
            find_renames: 0.9,
            ..Default::default()
        };
        let r = compare(old, new, &[], &opts);
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.entries[0].change, Change::Modify);
        assert_eq!(r.entries[0].key, "ns, old-name, ConfigMap (v1)");
    }

    #[test]
    fn suppressed_lines_turn_a_modification_into_modify_suppressed() {
        let old = index(&cm("a", "1"));
        let new = index(&cm("a", "2"));
        let opts = DiffOptions {
            suppressed_lines: vec![regex::Regex::new("v: ").unwrap()],
            ..Default::default()
        };
        let r = compare(old, new, &[], &opts);
        assert_eq!(r.entries[0].change, Change::ModifySuppressed);
        assert!(r.entries[0].lines.is_empty());
        assert!(r.seen_changes);
    }
}
