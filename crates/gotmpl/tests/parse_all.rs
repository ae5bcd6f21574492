//! `Templates::parse_all` (several threads for a large batch) must give what parsing the
//! files one after the other gives: the same winning definitions and the same first error.

use rudder_gotmpl::{ExecOptions, FuncMap, Templates};
use rudder_value::Value;

/// A file big enough that a batch of them is split across threads.
fn big_file(define: &str, body: &str) -> String {
    let mut text = format!("{{{{ define \"{define}\" }}}}{body}{{{{ end }}}}");
    while text.len() < 40 * 1024 {
        text.push_str("line {{ .x }} {{ if .y }}y{{ else }}n{{ end }}\n");
    }
    text
}

fn run(templates: &Templates, name: &str) -> String {
    let funcs = FuncMap::default();
    templates
        .execute(name, &Value::Nil, &funcs, &ExecOptions::default())
        .unwrap()
}

#[test]
fn later_files_win_as_in_order() {
    let files: Vec<(String, String)> = (0..6)
        .map(|i| (format!("f{i}"), big_file("shared", &format!("from f{i}"))))
        .chain([(
            "last".to_string(),
            "{{ define \"shared\" }}{{ end }}".to_string(),
        )])
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let funcs = FuncMap::default();
    let mut batch = Templates::new();
    batch.parse_all(&refs, &funcs).unwrap();
    let mut one_by_one = Templates::new();
    for (name, text) in &refs {
        one_by_one.parse(name, text, &funcs).unwrap();
    }
    // An empty definition does not replace a non-empty one (Go's rule), so f5's stays.
    assert_eq!(run(&batch, "shared"), "from f5");
    assert_eq!(run(&batch, "shared"), run(&one_by_one, "shared"));
    let mut names: Vec<&str> = batch.names().collect();
    names.sort();
    let mut expected: Vec<&str> = one_by_one.names().collect();
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn the_first_failing_file_in_order_is_the_error() {
    let mut files: Vec<(String, String)> = (0..6)
        .map(|i| (format!("f{i}"), big_file(&format!("d{i}"), "ok")))
        .collect();
    files[2].1.push_str("{{ if }}");
    files[5].1.push_str("{{ end }}");
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let (index, error) = Templates::new()
        .parse_all(&refs, &FuncMap::default())
        .unwrap_err();
    assert_eq!(index, 2);
    let mut one_by_one = Templates::new();
    let sequential = refs
        .iter()
        .find_map(|(name, text)| one_by_one.parse(name, text, &FuncMap::default()).err())
        .unwrap();
    assert_eq!(error.to_string(), sequential.to_string());
    assert!(
        error.to_string().contains("missing value for if"),
        "{error}"
    );
}

#[test]
fn deep_templates_parse_on_helper_threads_as_on_the_work_thread() {
    // Nesting within Go's parser limit, in a file that lands on a helper thread (after 120
    // KiB of other files): helper threads need the work thread's stack, or this overflows.
    let mut files: Vec<(String, String)> = (0..3)
        .map(|i| (format!("f{i}"), big_file(&format!("d{i}"), "ok")))
        .collect();
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(9_000), ")".repeat(9_000));
    files.push(("deep".to_string(), deep));
    let parsed = std::thread::Builder::new()
        .stack_size(rudder_value::threads::WORK_STACK)
        .spawn(move || {
            let refs: Vec<(&str, &str)> = files
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str()))
                .collect();
            Templates::new()
                .parse_all(&refs, &FuncMap::default())
                .is_ok()
        })
        .unwrap()
        .join()
        .expect("no overflow");
    assert!(parsed);
}
