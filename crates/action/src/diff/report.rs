//! Printing a diff in helm-diff's output formats: `diff` (the default: a header per object,
//! then its lines with `+ `/`- `/two-space prefixes), `simple` (one line per object and a
//! Terraform-style plan line), `json` and `template` (one record per object), `structured`
//! (JSON with the changed fields, see [`super::structured`]) and `dyff` (dyff's human
//! report, see [`super::dyff`]).

use super::lines::{Delta, Line};
use super::{structured, Change, DiffOptions, Entry};

/// `--output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Diff,
    Simple,
    Json,
    Template,
    Structured,
    Dyff,
}

impl Format {
    /// helm-diff's formats (cmd/options.go, `--output`). helm-diff prints the `diff` format
    /// for any other name; rudder refuses a name it does not know, so that a typo does not
    /// pass unnoticed in a pipeline.
    pub fn parse(name: &str) -> Result<Format, String> {
        match name {
            "diff" => Ok(Format::Diff),
            "simple" => Ok(Format::Simple),
            "json" => Ok(Format::Json),
            "template" => Ok(Format::Template),
            "structured" => Ok(Format::Structured),
            "dyff" => Ok(Format::Dyff),
            other => Err(format!(
                "unknown output format {other:?} (use diff, simple, template, json, structured or dyff)"
            )),
        }
    }
}

/// The changes found, ready to print.
#[derive(Clone, Debug)]
pub struct Report {
    pub entries: Vec<Entry>,
    /// Whether anything changed before line suppression (what `--detailed-exitcode` reports).
    pub seen_changes: bool,
    /// What helm-diff writes to stderr while building the report (a structured record that
    /// could not be built).
    pub warnings: Vec<String>,
}

/// ANSI colours as helm-diff's colour library writes them.
#[derive(Clone, Copy)]
enum Color {
    Red,
    Green,
    Yellow,
    Magenta,
    BrightBlue,
}

fn paint(text: &str, color: Color, on: bool) -> String {
    if !on {
        return text.to_string();
    }
    let code = match color {
        Color::Red => "31",
        Color::Green => "32",
        Color::Yellow => "33",
        Color::Magenta => "35",
        Color::BrightBlue => "94",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn style(change: Change, format: Format) -> (Color, &'static str) {
    let simple = format == Format::Simple;
    match change {
        Change::Add => (
            Color::Green,
            if simple {
                "to be added."
            } else {
                "has been added:"
            },
        ),
        Change::Remove => (
            Color::Red,
            if simple {
                "to be removed."
            } else {
                "has been removed:"
            },
        ),
        Change::Modify => (
            Color::Yellow,
            if simple {
                "to be changed."
            } else {
                "has changed:"
            },
        ),
        Change::Ownership => (
            Color::Magenta,
            if simple {
                "to change ownership."
            } else {
                "changed ownership:"
            },
        ),
        Change::ModifySuppressed => (
            Color::BrightBlue,
            "has changed, but diff is empty after suppression.",
        ),
        Change::Drifted => (
            Color::Yellow,
            if simple {
                "has drifted."
            } else {
                "has drifted"
            },
        ),
        Change::Deleted => (Color::Red, "has been deleted."),
    }
}

/// An entry's header line, before colouring.
fn header(e: &Entry, format: Format) -> String {
    let (_, message) = style(e.change, format);
    if e.change == Change::Drifted && format != Format::Simple {
        if e.managers.is_empty() {
            format!("{} {message}:", e.key)
        } else {
            format!(
                "{} {message} (changed by {}):",
                e.key,
                e.managers.join(", ")
            )
        }
    } else {
        format!("{} {message}", e.key)
    }
}

/// Why a report could not be printed: the user's `--output template` or dyff failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Template(#[from] rudder_gotmpl::Error),
    #[error(transparent)]
    Dyff(#[from] super::dyff::Error),
}

impl Report {
    /// The text helm-diff prints for these changes.
    pub fn render(&self, opts: &DiffOptions) -> Result<String, RenderError> {
        let mut out = String::new();
        match opts.format {
            Format::Diff => {
                for e in &self.entries {
                    let (color, _) = style(e.change, opts.format);
                    out.push_str(&paint(&header(e, opts.format), color, opts.color));
                    out.push('\n');
                    render_lines(e, opts, &mut out);
                }
            }
            Format::Simple => {
                let mut counts = [0usize; 4];
                for e in &self.entries {
                    let (color, _) = style(e.change, opts.format);
                    out.push_str(&paint(&header(e, opts.format), color, opts.color));
                    out.push('\n');
                    // Drift counts as what applying the release again would do.
                    match e.change {
                        Change::Add | Change::Deleted => counts[0] += 1,
                        Change::Modify | Change::Drifted => counts[1] += 1,
                        Change::Remove => counts[2] += 1,
                        Change::Ownership => counts[3] += 1,
                        Change::ModifySuppressed => {}
                    }
                }
                out.push_str(&format!(
                    "Plan: {} to add, {} to change, {} to destroy, {} to change ownership.\n",
                    counts[0], counts[1], counts[2], counts[3]
                ));
            }
            Format::Structured => {
                let records: Vec<structured::Record> = self
                    .entries
                    .iter()
                    .map(|e| match &e.structured {
                        Some(r) => r.clone(),
                        None => structured::Record::bare(&e.key, e.change.name()),
                    })
                    .collect();
                out.push_str(&structured::render(&records));
            }
            Format::Dyff => out.push_str(&super::dyff::render(&self.entries, opts)?),
            Format::Json | Format::Template => match (&opts.template, opts.format) {
                (Some(template), Format::Template) => {
                    out.push_str(&render_template(template, &self.entries)?);
                    out.push('\n');
                }
                _ => {
                    out.push_str(&render_json(&self.entries));
                    out.push('\n');
                }
            },
        }
        Ok(out)
    }
}

fn render_lines(entry: &Entry, opts: &DiffOptions, out: &mut String) {
    if opts.suppressed_kinds.contains(&entry.kind) {
        let text = format!(
            "+ Changes suppressed on sensitive content of type {}\n",
            entry.kind
        );
        out.push_str(&paint(&text, Color::Yellow, opts.color));
        return;
    }
    if opts.context < 0 {
        for line in &entry.lines {
            render_line(line, opts.color, out);
        }
        return;
    }
    let distances = distances_to_change(&entry.lines);
    let mut omitting = false;
    for (line, distance) in entry.lines.iter().zip(distances) {
        if distance > opts.context as usize {
            if !omitting {
                out.push_str("...\n");
                omitting = true;
            }
        } else {
            omitting = false;
            render_line(line, opts.color, out);
        }
    }
}

fn render_line(line: &Line, color: bool, out: &mut String) {
    match line.delta {
        Delta::Added => out.push_str(&paint(&format!("+ {}", line.text), Color::Green, color)),
        Delta::Removed => out.push_str(&paint(&format!("- {}", line.text), Color::Red, color)),
        Delta::Common if line.text.is_empty() => {}
        Delta::Common => {
            out.push_str("  ");
            out.push_str(&line.text);
        }
    }
    out.push('\n');
}

/// For each line, how far the nearest changed line is (`usize::MAX` when none is).
fn distances_to_change(lines: &[Line]) -> Vec<usize> {
    let mut distances = vec![usize::MAX; lines.len()];
    let mut last = None;
    for (i, l) in lines.iter().enumerate() {
        if l.delta != Delta::Common {
            last = Some(i);
        }
        if let Some(c) = last {
            distances[i] = i - c;
        }
    }
    let mut next = None;
    for (i, l) in lines.iter().enumerate().rev() {
        if l.delta != Delta::Common {
            next = Some(i);
        }
        if let Some(c) = next {
            distances[i] = distances[i].min(c - i);
        }
    }
    distances
}

/// An entry's key split back into its parts (helm-diff's template data); `None` for keys
/// that are not of the `NAMESPACE, NAME, KIND (API)` form (helm-diff skips those).
pub(super) fn key_parts(key: &str) -> Option<[&str; 4]> {
    let (namespace, rest) = key.split_once(", ")?;
    let (name, rest) = rest.split_once(", ")?;
    let (kind, rest) = rest.split_once(" (")?;
    let api = rest.strip_suffix(')')?;
    let ok = !namespace.is_empty()
        && namespace
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !kind.is_empty()
        && kind.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !api.is_empty();
    ok.then_some([namespace, name, kind, api])
}

/// helm-diff's default template output: a JSON array, one object per change.
fn render_json(entries: &[Entry]) -> String {
    let records: Vec<String> = entries
        .iter()
        .filter_map(|e| {
            let [namespace, name, kind, api] = key_parts(&e.key)?;
            Some(format!(
                "{{\n  \"api\": \"{api}\",\n  \"kind\": \"{kind}\",\n  \"namespace\": \"{namespace}\",\n  \"name\": \"{name}\",\n  \"change\": \"{}\"\n}}",
                e.change.name()
            ))
        })
        .collect();
    format!("[{}]", records.join(",\n"))
}

/// `--output template` with HELM_DIFF_TPL: the template gets a list of records with the
/// fields Namespace, Name, Kind, API and Change.
fn render_template(template: &str, entries: &[Entry]) -> Result<String, rudder_gotmpl::Error> {
    use rudder_value::{Map, Value};
    let records: Vec<Value> = entries
        .iter()
        .filter_map(|e| {
            let [namespace, name, kind, api] = key_parts(&e.key)?;
            let mut m = Map::new();
            m.insert("Namespace".into(), Value::str(namespace));
            m.insert("Name".into(), Value::str(name));
            m.insert("Kind".into(), Value::str(kind));
            m.insert("API".into(), Value::str(api));
            m.insert("Change".into(), Value::str(e.change.name()));
            Some(Value::map(m))
        })
        .collect();
    rudder_engine::render_plain_template(template, &Value::list(records), &template_funcs())
}

/// helm-diff's FuncMap for its templates (diff/report.go, `newTemplate`, v3.15.11): `last`
/// only, beside Go's builtins. Hand-written: it is one line of Go.
fn template_funcs() -> rudder_gotmpl::FuncMap {
    use rudder_gotmpl::{FuncMap, Function, ParamType, Signature};
    let mut funcs = FuncMap::new();
    // `last INDEX LIST`: whether INDEX is the last index of LIST (`x ==
    // reflect.ValueOf(a).Len()-1`; Len's panic on a value without a length becomes the
    // call's error, as text/template reports a panicking function).
    funcs.insert(
        "last",
        Function::new(
            Signature::new(&[ParamType::Int, ParamType::Any]),
            |_, args| {
                let index = match &args[0] {
                    rudder_value::Value::Int(i) | rudder_value::Value::Int64(i) => *i,
                    other => return Err(format!("expected int, got {}", other.type_name())),
                };
                let len = go_len(&args[1])?;
                Ok(rudder_value::Value::Bool(index == len - 1))
            },
        ),
    );
    funcs
}

/// Go's `reflect.Value.Len`, with its panic's text for a value that has no length.
fn go_len(v: &rudder_value::Value) -> Result<i64, String> {
    use rudder_value::{Kind, Value};
    let n = match v {
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.len(),
        Value::Strings(l) => l.len(),
        Value::Ints(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::StrMap(m) => m.len(),
        Value::Nil => return Err("reflect: call of reflect.Value.Len on zero Value".into()),
        other => {
            let kind = match other.kind() {
                Kind::Invalid => "zero".to_string(),
                k => k.name().to_string(),
            };
            return Err(format!(
                "reflect: call of reflect.Value.Len on {kind} Value"
            ));
        }
    };
    Ok(n as i64)
}

#[cfg(test)]
mod tests {
    use super::super::lines::diff_texts;
    use super::*;

    fn entry(change: Change, old: &str, new: &str) -> Entry {
        Entry {
            key: "ns, a, ConfigMap (v1)".into(),
            kind: "ConfigMap".into(),
            change,
            lines: diff_texts(old, new, false),
            managers: Vec::new(),
            structured: None,
        }
    }

    #[test]
    fn diff_format_prints_a_header_and_prefixed_lines() {
        let r = Report {
            entries: vec![entry(Change::Modify, "a: 1\nb: 2", "a: 1\nb: 3")],
            seen_changes: true,
            warnings: Vec::new(),
        };
        let text = r.render(&DiffOptions::default()).unwrap();
        assert_eq!(
            text,
            "ns, a, ConfigMap (v1) has changed:\n  a: 1\n- b: 2\n+ b: 3\n"
        );
    }

    #[test]
    fn context_elides_far_lines_with_dots() {
        let old = "1\n2\n3\n4\n5\n6\n7";
        let new = "1\n2\n3\nX\n5\n6\n7";
        let r = Report {
            entries: vec![entry(Change::Modify, old, new)],
            seen_changes: true,
            warnings: Vec::new(),
        };
        let opts = DiffOptions {
            context: 1,
            ..Default::default()
        };
        assert_eq!(
            r.render(&opts).unwrap(),
            "ns, a, ConfigMap (v1) has changed:\n...\n  3\n- 4\n+ X\n  5\n...\n"
        );
    }

    #[test]
    fn colours_wrap_headers_and_lines() {
        let r = Report {
            entries: vec![entry(Change::Add, "", "x")],
            seen_changes: true,
            warnings: Vec::new(),
        };
        let opts = DiffOptions {
            color: true,
            ..Default::default()
        };
        assert_eq!(
            r.render(&opts).unwrap(),
            "\x1b[32mns, a, ConfigMap (v1) has been added:\x1b[0m\n\x1b[31m- \x1b[0m\n\x1b[32m+ x\x1b[0m\n"
        );
    }

    #[test]
    fn simple_format_counts_the_plan() {
        let r = Report {
            entries: vec![
                entry(Change::Add, "", "x"),
                entry(Change::Remove, "x", ""),
                entry(Change::Modify, "x", "y"),
            ],
            seen_changes: true,
            warnings: Vec::new(),
        };
        let opts = DiffOptions {
            format: Format::Simple,
            ..Default::default()
        };
        let text = r.render(&opts).unwrap();
        assert!(
            text.ends_with("Plan: 1 to add, 1 to change, 1 to destroy, 0 to change ownership.\n")
        );
        assert!(text.starts_with("ns, a, ConfigMap (v1) to be added.\n"));
    }

    #[test]
    fn json_format_lists_records() {
        let r = Report {
            entries: vec![entry(Change::Modify, "x", "y")],
            seen_changes: true,
            warnings: Vec::new(),
        };
        let opts = DiffOptions {
            format: Format::Json,
            ..Default::default()
        };
        assert_eq!(
            r.render(&opts).unwrap(),
            "[{\n  \"api\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"namespace\": \"ns\",\n  \"name\": \"a\",\n  \"change\": \"MODIFY\"\n}]\n"
        );
    }

    #[test]
    fn suppressed_kinds_hide_lines() {
        let r = Report {
            entries: vec![entry(Change::Modify, "x", "y")],
            seen_changes: true,
            warnings: Vec::new(),
        };
        let opts = DiffOptions {
            suppressed_kinds: vec!["ConfigMap".into()],
            ..Default::default()
        };
        assert_eq!(
            r.render(&opts).unwrap(),
            "ns, a, ConfigMap (v1) has changed:\n+ Changes suppressed on sensitive content of type ConfigMap\n"
        );
    }

    fn two_entries() -> Vec<Entry> {
        let mut second = entry(Change::Add, "", "y");
        second.key = "ns, b, Service (v1)".into();
        vec![entry(Change::Modify, "x", "y"), second]
    }

    /// helm-diff's templates get `last` (diff/report.go, `newTemplate`):
    /// `x == reflect.ValueOf(a).Len()-1`.
    #[test]
    fn templates_get_helm_diff_last_function() {
        let out = render_template(
            "{{ range $i, $e := . }}{{ $e.Name }}{{ if not (last $i $) }},{{ end }}{{ end }}",
            &two_entries(),
        )
        .unwrap();
        assert_eq!(out, "a,b");
        // Len of a string is its byte length, of a map its number of keys.
        let out = render_template(
            r#"{{ last 2 "abc" }} {{ last 1 "abc" }} {{ last 0 (index . 0) }} {{ last 4 (index . 0) }}"#,
            &two_entries(),
        )
        .unwrap();
        assert_eq!(out, "true false false true");
    }

    /// A value with no length makes reflect's Len panic; text/template reports the panic as
    /// the call's error.
    #[test]
    fn last_of_a_value_without_length_is_an_error() {
        let message = |template: &str| {
            render_template(template, &two_entries())
                .unwrap_err()
                .to_string()
        };
        let err = message("{{ last 0 3 }}");
        assert!(
            err.ends_with("error calling last: reflect: call of reflect.Value.Len on int Value"),
            "{err}"
        );
        let err = message("{{ last 0 nil }}");
        assert!(err.contains("reflect.Value.Len on zero Value"), "{err}");
        let err = message(r#"{{ last "0" . }}"#);
        assert!(err.contains("expected int"), "{err}");
    }

    /// Go's builtins stay available beside `last`; Sprig's are not (helm-diff gives none).
    #[test]
    fn templates_have_go_builtins_and_not_sprig() {
        let out = render_template(
            r#"{{ len . }} {{ printf "%s/%s" (index . 1).Kind (index . 1).Change }}"#,
            &two_entries(),
        )
        .unwrap();
        assert_eq!(out, "2 Service/ADD");
        let err = render_template("{{ upper \"a\" }}", &two_entries())
            .unwrap_err()
            .to_string();
        assert!(err.contains("function \"upper\" not defined"), "{err}");
    }
}
