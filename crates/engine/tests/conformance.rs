//! The template conformance suite: every case in tests/conformance/cases/*.case is rendered
//! with rudder and compared byte for byte with what real Helm produced
//! (tests/conformance/golden/*.json, made by scripts/gen-conformance-goldens.py).
//!
//! Cases that do not pass yet are listed, one `FILE/CASE` a line, in
//! tests/conformance/known-failures.txt: the honest list of what is not done. The test fails
//! when a case outside that list fails, and also when a listed case passes (so the list
//! shrinks as work lands). `RUDDER_CONFORMANCE_FILTER=substring` runs a subset;
//! `RUDDER_CONFORMANCE_VERBOSE=1` prints every difference.
//!
//! Generated keys and certificates are random: every PEM block, in the golden and in
//! rudder's output alike, is compared as its DER structure with the random fields masked
//! (see `pem_shape`).

mod pem_shape;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use rudder_engine::{render_values, Capabilities, Engine, ReleaseOptions};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const DEFAULT_CHART: &str = "apiVersion: v2\nname: c\nversion: 0.1.0\n";

/// Parses a case file: `== NAME ==` starts a case, `-- PATH --` a file of it.
fn parse_cases(text: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut cases: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut path: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        if let Some(name) = bare.strip_prefix("== ").and_then(|r| r.strip_suffix(" ==")) {
            if !name.contains(' ') && !name.is_empty() {
                cases.push((name.to_string(), BTreeMap::new()));
                path = None;
                continue;
            }
        }
        if let Some(p) = bare.strip_prefix("-- ").and_then(|r| r.strip_suffix(" --")) {
            if !p.contains(' ') && !p.is_empty() {
                if let Some((_, files)) = cases.last_mut() {
                    files.insert(p.to_string(), String::new());
                    path = Some(p.to_string());
                    continue;
                }
            }
        }
        if let (Some(p), Some((_, files))) = (&path, cases.last_mut()) {
            let f = files.get_mut(p).expect("current file exists");
            f.push_str(bare);
            f.push('\n');
        }
    }
    cases
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Output(BTreeMap<String, String>),
    Error(String),
}

impl Outcome {
    /// The outcome with every PEM block replaced by its masked structure.
    fn masked(&self) -> Outcome {
        match self {
            Outcome::Output(files) => Outcome::Output(
                files
                    .iter()
                    .map(|(k, v)| (k.clone(), pem_shape::mask_pem_blocks(v)))
                    .collect(),
            ),
            Outcome::Error(e) => Outcome::Error(e.clone()),
        }
    }
}

fn render_case(files: &BTreeMap<String, String>) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let chart_dir = dir.path().join("c");
    fs::create_dir_all(chart_dir.join("templates")).expect("mkdir");
    for (path, text) in files {
        let full = chart_dir.join(path);
        fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        fs::write(full, text).expect("write case file");
    }
    if !files.contains_key("Chart.yaml") {
        fs::write(chart_dir.join("Chart.yaml"), DEFAULT_CHART).expect("write Chart.yaml");
    }
    match render_chart_dir(&chart_dir) {
        Ok(out) => Outcome::Output(
            out.into_iter()
                .filter(|(p, _)| !p.rsplit('/').next().unwrap_or(p).starts_with('_'))
                .collect(),
        ),
        Err(e) => Outcome::Error(e),
    }
}

/// What helm-python-sdk's `Chart.load(dir).render({}, name="release-name",
/// namespace="default")` does: load, process dependencies, coalesce, validate, render.
fn render_chart_dir(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let user = rudder_value::Value::map(Default::default());
    let mut chart = rudder_chart::load(dir).map_err(|e| e.to_string())?;
    let mut logs = Vec::new();
    rudder_chart::process_dependencies(&mut chart, &user, &mut logs).map_err(|e| e.to_string())?;
    let values = rudder_chart::to_render_values_check(&chart, &user, false, &mut logs)
        .map_err(|e| e.to_string())?;
    let top = render_values(
        &chart,
        values,
        &ReleaseOptions::default(),
        &Capabilities::default(),
    );
    let run = move || {
        Engine::default()
            .render(&chart, &top)
            .map_err(|e| e.to_string())
    };
    // Deep template recursion needs a deep stack, as the CLI provides.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run)
        .expect("spawn render thread")
        .join()
        .unwrap_or_else(|_| Err("render panicked".into()))
}

fn golden(case_file: &Path) -> BTreeMap<String, Outcome> {
    let stem = case_file
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .into_owned();
    let path = repo_root()
        .join("tests/conformance/golden")
        .join(format!("{stem}.json"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("golden is JSON");
    let mut out = BTreeMap::new();
    for (name, v) in json.as_object().expect("golden is an object") {
        let outcome = if let Some(e) = v.get("error") {
            Outcome::Error(e.as_str().expect("error text").to_string())
        } else {
            let files = v["output"].as_object().expect("output map");
            Outcome::Output(
                files
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("text").to_string()))
                    .collect(),
            )
        };
        out.insert(name.clone(), outcome);
    }
    out
}

#[test]
fn conformance() {
    let root = repo_root();
    let filter = std::env::var("RUDDER_CONFORMANCE_FILTER").unwrap_or_default();
    let verbose = std::env::var_os("RUDDER_CONFORMANCE_VERBOSE").is_some();
    let known: BTreeSet<String> =
        fs::read_to_string(root.join("tests/conformance/known-failures.txt"))
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();

    let mut case_files: Vec<PathBuf> = fs::read_dir(root.join("tests/conformance/cases"))
        .expect("cases dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    case_files.sort();

    let (mut passed, mut failed_known, mut total) = (0, 0, 0);
    let mut unexpected_failures = Vec::new();
    let mut unexpected_passes = Vec::new();
    for file in &case_files {
        let stem = file
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let cases = parse_cases(&fs::read_to_string(file).expect("read case file"));
        let expected = golden(file);
        for (name, files) in cases {
            let id = format!("{stem}/{name}");
            if !id.contains(&filter) {
                continue;
            }
            total += 1;
            let Some(want) = expected.get(&name) else {
                unexpected_failures.push(format!(
                    "{id}: no golden (run scripts/gen-conformance-goldens.py)"
                ));
                continue;
            };
            let got = render_case(&files).masked();
            let want = &want.masked();
            let ok = &got == want;
            match (ok, known.contains(&id)) {
                (true, false) => passed += 1,
                (true, true) => unexpected_passes.push(id),
                (false, true) => {
                    failed_known += 1;
                    if verbose {
                        eprintln!("known failure {id}:\n  want: {want:?}\n  got:  {got:?}");
                    }
                }
                (false, false) => {
                    unexpected_failures.push(format!("{id}:\n  want: {want:?}\n  got:  {got:?}"));
                }
            }
        }
    }
    eprintln!(
        "conformance: {total} cases, {passed} pass, {failed_known} known failures, {} unexpected failures, {} listed but passing",
        unexpected_failures.len(),
        unexpected_passes.len()
    );
    for f in &unexpected_failures {
        eprintln!("FAIL {f}");
    }
    for p in &unexpected_passes {
        eprintln!("PASSES NOW (remove from known-failures.txt): {p}");
    }
    assert!(
        unexpected_failures.is_empty() && unexpected_passes.is_empty(),
        "conformance suite: {} unexpected failures, {} listed cases now pass",
        unexpected_failures.len(),
        unexpected_passes.len()
    );
}
