//! `rudder create` against real Helm v4.2.3's `helm create` (helm-python-sdk's
//! `Chart.create`, through RUDDER_HELM_PYTHON): rudder's scaffold is its own text, so the
//! files are not compared byte for byte; what must agree is the interface: the same file
//! names, the same values (keys and defaults), Chart.yaml's fields, both charts lint clean
//! with Helm's linter and rudder's, and Helm's renderer makes the same objects (kinds and
//! names) from both, with the defaults and with every optional object switched on.
//! `--starter` follows pkg/chart/v2/util/create.go CreateFrom (named in the test).

mod common;
use common::{helm_python_path, python_output, stderr, stdout, HelmHome};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file and folder under `dir`, relative, sorted.
fn tree(dir: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            if path.is_dir() {
                out.insert(format!("{rel}/"));
                walk(base, &path, out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn yaml_file(path: &Path) -> rudder_value::Value {
    rudder_value::yaml::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Helm's lint messages for `chart` and (kind, name) of what Helm's renderer makes from it
/// with each values set in `value_sets` (JSON), one line per set.
const HELM_SCRIPT: &str = r#"
import json, sys
import helm_python as helm
import yaml
chart_path, value_sets = sys.argv[1], json.loads(sys.argv[2])
lint = helm.lint(chart_path, {})
print(json.dumps(sorted("%s %s" % (m["severity"], m["error"]) for m in lint.get("messages") or []) + lint.get("errors", [])))
chart = helm.Chart.load(chart_path)
for vals in value_sets:
    rendered = chart.render(vals, name="rel", namespace="default", is_install=True)
    objects = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                objects.append("%s/%s" % (doc["kind"], doc["metadata"]["name"]))
    print(json.dumps(sorted(objects)))
"#;

const VALUE_SETS: &str = r#"[{}, {"ingress": {"enabled": true, "tls": [{"secretName": "s", "hosts": ["chart-example.local"]}]}, "httpRoute": {"enabled": true}, "autoscaling": {"enabled": true, "targetMemoryUtilizationPercentage": 70}, "serviceAccount": {"create": false}, "service": {"type": "NodePort"}}]"#;

fn helm_view(python: &str, chart: &Path) -> Vec<String> {
    let mut cmd = Command::new(python);
    cmd.args(["-c", HELM_SCRIPT, chart.to_str().unwrap(), VALUE_SETS]);
    python_output(cmd).lines().map(String::from).collect()
}

#[test]
fn create_matches_helms_scaffold_in_interface_not_text() {
    let Some(python) = helm_python_path() else {
        return;
    };
    let work = HelmHome::new();
    let home = work.dir.path();
    std::fs::create_dir_all(home.join("ours")).unwrap();
    std::fs::create_dir_all(home.join("helms")).unwrap();

    let out = work.rudder(&["create", "ours/demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Creating ours/demo\n");
    let mut cmd = Command::new(&python);
    cmd.args([
        "-c",
        "import sys, helm_python as helm; helm.Chart.create(sys.argv[1], sys.argv[2]).close()",
        "demo",
        home.join("helms").to_str().unwrap(),
    ]);
    python_output(cmd);
    let (ours, helms) = (home.join("ours/demo"), home.join("helms/demo"));

    assert_eq!(tree(&ours), tree(&helms));
    // The values are the interface users set: the same keys and defaults.
    assert_eq!(
        yaml_file(&ours.join("values.yaml")),
        yaml_file(&helms.join("values.yaml"))
    );
    assert_eq!(
        yaml_file(&ours.join("Chart.yaml")),
        yaml_file(&helms.join("Chart.yaml"))
    );
    // Not Helm's text.
    for file in [
        "values.yaml",
        "templates/deployment.yaml",
        "templates/_helpers.tpl",
    ] {
        assert_ne!(
            std::fs::read(ours.join(file)).unwrap(),
            std::fs::read(helms.join(file)).unwrap(),
            "{file}"
        );
    }

    // Helm's linter and renderer on both: only the icon recommendation, and the same
    // objects with the defaults and with everything optional switched on.
    let helm_on_helms = helm_view(&python, &helms);
    assert_eq!(helm_on_helms[0], r#"["1 icon is recommended"]"#);
    assert_eq!(helm_view(&python, &ours), helm_on_helms);
    assert!(
        helm_on_helms[2].contains("HTTPRoute/rel-demo"),
        "{helm_on_helms:?}"
    );

    // rudder's linter and renderer agree on rudder's chart.
    let out = work.rudder(&["lint", ours.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "==> Linting {}\n[INFO] Chart.yaml: icon is recommended\n\n1 chart(s) linted, 0 chart(s) failed\n",
            ours.display()
        )
    );
    let out = work.rudder(&["template", "rel", ours.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kinds: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("kind: ").map(String::from))
        .collect();
    assert_eq!(kinds, ["ServiceAccount", "Service", "Deployment", "Pod"]);
}

#[test]
fn create_checks_names_and_overwrites_with_a_warning() {
    let work = HelmHome::new();
    let home = work.dir.path();
    // create.go validateChartName.
    let out = work.rudder(&["create", "bad name"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: chart name must match the regular expression \"^[a-zA-Z0-9._-]+$\"\n"
    );
    let out = work.rudder(&["create", "missing/dir/demo"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        format!(
            "Error: stat {}: no such file or directory\n",
            home.join("missing/dir").display()
        )
    );
    std::fs::write(home.join("file"), "x").unwrap();
    let out = work.rudder(&["create", "file"]);
    assert_eq!(
        stderr(&out),
        format!(
            "Error: file {} already exists and is not a directory\n",
            home.join("file").display()
        )
    );
    // Create again: each file is overwritten with a warning on standard output (create.go
    // sets chartutil.Stderr to the command's output); other files stay.
    assert!(work.rudder(&["create", "demo"]).status.success());
    std::fs::write(home.join("demo/README.md"), "mine").unwrap();
    let out = work.rudder(&["create", "demo"]);
    assert!(out.status.success());
    let warnings = stdout(&out)
        .lines()
        .filter(|l| l.starts_with("WARNING: File ") && l.ends_with("already exists. Overwriting."))
        .count();
    assert_eq!(warnings, 12);
    assert_eq!(
        std::fs::read_to_string(home.join("demo/README.md")).unwrap(),
        "mine"
    );
}

#[test]
fn starters_are_copied_with_the_name_replaced() {
    let work = HelmHome::new();
    let home = work.dir.path();
    let starter = home.join("data/starters/web");
    let write = |rel: &str, text: &str| {
        let p: PathBuf = starter.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 9.9.9\ndescription: starter\n",
    );
    write(
        "values.yaml",
        "# values of <CHARTNAME>\nname: <CHARTNAME>-app\n",
    );
    write(
        "templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n  labels:\n    chart: <CHARTNAME>\n",
    );
    write("README.md", "About <CHARTNAME>\n");
    // create.go: a starter name is looked up under <data home>/starters.
    let out = work.rudder(&["create", "shop", "--starter", "web"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Creating shop\n");
    let made = home.join("shop");
    // CreateFrom: Helm's new Chart.yaml (yaml.Marshal of the metadata, keys sorted),
    // the placeholder replaced in values.yaml (its text kept) and templates, other files
    // copied as they are.
    assert_eq!(
        std::fs::read_to_string(made.join("Chart.yaml")).unwrap(),
        "apiVersion: v2\nappVersion: 0.1.0\ndescription: A Helm chart for Kubernetes\nname: shop\ntype: application\nversion: 0.1.0\n"
    );
    assert_eq!(
        std::fs::read_to_string(made.join("values.yaml")).unwrap(),
        "# values of shop\nname: shop-app\n"
    );
    assert!(std::fs::read_to_string(made.join("templates/cm.yaml"))
        .unwrap()
        .contains("chart: shop\n"));
    assert_eq!(
        std::fs::read_to_string(made.join("README.md")).unwrap(),
        "About <CHARTNAME>\n"
    );
    let out = work.rudder(&["template", "rel", made.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("  name: shop-app\n"),
        "{}",
        stdout(&out)
    );

    // An absolute starter path is used as it is; a missing starter is Helm's error.
    let out = work.rudder(&["create", "other", "-p", starter.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = work.rudder(&["create", "third", "--starter", "nope"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).starts_with(&format!(
            "Error: could not load {}",
            home.join("data/starters/nope").display()
        )),
        "{}",
        stderr(&out)
    );
}

/// The entries of a gzipped tar archive: (path, bytes), in archive order.
fn archive_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
    let mut archive = tar::Archive::new(gz);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

#[test]
fn starters_with_subcharts_and_other_files_are_copied_as_helm_copies_them() {
    let work = HelmHome::new();
    let home = work.dir.path();
    let starter = home.join("data/starters/web");
    let write = |rel: &str, data: &[u8]| {
        let p: PathBuf = starter.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    write(
        "Chart.yaml",
        b"apiVersion: v2\nname: web\nversion: 9.9.9\ndependencies:\n- name: db\n  version: 0.2.0\n- name: cache\n  version: 1.0.0\n",
    );
    write("values.yaml", b"name: <CHARTNAME>-app\n");
    write("templates/cm.yaml", b"kind: ConfigMap\nname: <CHARTNAME>\n");
    write("README.md", b"About <CHARTNAME>\n");
    write("values.schema.json", br#"{"type":"object"}"#);
    write("crds/crd.yaml", b"kind: CustomResourceDefinition\n");
    write("files/config.txt", b"cfg <CHARTNAME>\n");
    write(".helmignore", b"*.bak\n");
    write("notes.bak", b"ignored\n");
    write(
        "Chart.lock",
        b"dependencies:\n- name: db\n  repository: \"\"\n  version: 0.2.0\ndigest: sha256:0\ngenerated: \"2020-01-01T00:00:00Z\"\n",
    );
    // A subchart as a folder, with a subchart of its own, and one as an archive.
    write(
        "charts/db/Chart.yaml",
        b"apiVersion: v2\nname: db\nversion: 0.2.0\n",
    );
    write("charts/db/values.yaml", b"x: <CHARTNAME>\n");
    write(
        "charts/db/templates/s.yaml",
        b"kind: Secret\nname: <CHARTNAME>\n",
    );
    write(
        "charts/db/charts/inner/Chart.yaml",
        b"apiVersion: v2\nname: inner\nversion: 3.0.0\n",
    );
    write("charts/db/charts/inner/templates/x.yaml", b"kind: X\n");
    let cache_src = home.join("cache-src/cache");
    std::fs::create_dir_all(cache_src.join("templates")).unwrap();
    std::fs::write(
        cache_src.join("Chart.yaml"),
        "apiVersion: v2\nname: cache\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(cache_src.join("templates/c.yaml"), "kind: C\n").unwrap();
    let out = work.rudder(&[
        "package",
        cache_src.to_str().unwrap(),
        "-d",
        starter.join("charts").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = work.rudder(&["create", "shop", "--starter", "web"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let made = home.join("shop");
    // Chart.yaml is create.go's new metadata (pkg/cmd/create.go createV2Chart: name,
    // description, type, version, appVersion, apiVersion), without the starter's
    // dependencies; the starter's Chart.lock is not written (SaveDir writes Chart.yaml,
    // values.yaml, the schema, templates, files and subcharts only).
    assert_eq!(
        std::fs::read_to_string(made.join("Chart.yaml")).unwrap(),
        "apiVersion: v2\nappVersion: 0.1.0\ndescription: A Helm chart for Kubernetes\nname: shop\ntype: application\nversion: 0.1.0\n"
    );
    // Each subchart becomes charts/NAME-VERSION.tgz (save.go SaveDir: `Save(dep, base)`),
    // its placeholders untouched.
    let db = archive_entries(&made.join("charts/db-0.2.0.tgz"));
    assert!(
        db.contains(&(
            "db/templates/s.yaml".to_string(),
            b"kind: Secret\nname: <CHARTNAME>\n".to_vec()
        )),
        "{db:?}"
    );
    assert!(db
        .iter()
        .any(|(n, _)| n == "db/charts/inner/templates/x.yaml"));
    // The chart made from the starter renders its subcharts.
    let out = work.rudder(&["template", "rel", made.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for kind in [
        "kind: ConfigMap\nname: shop\n",
        "kind: Secret\n",
        "kind: X\n",
        "kind: C\n",
    ] {
        assert!(stdout(&out).contains(kind), "{kind:?} in {}", stdout(&out));
    }

    // Real Helm's CreateFrom (helm-python-sdk's Chart.create_from) on the same starter:
    // the same files, the same bytes but for Chart.yaml (the SDK passes its own metadata,
    // without create.go's description and type) and the archives, whose entries (names
    // and contents) are the same.
    let Some(python) = helm_python_path() else {
        return;
    };
    let helms = home.join("helms");
    std::fs::create_dir_all(&helms).unwrap();
    let mut cmd = Command::new(&python);
    cmd.args([
        "-c",
        "import sys, helm_python as h; h.Chart.create_from('shop', sys.argv[1], sys.argv[2])",
        helms.to_str().unwrap(),
        starter.to_str().unwrap(),
    ]);
    python_output(cmd);
    let helms = helms.join("shop");
    assert_eq!(tree(&made), tree(&helms));
    for file in tree(&made) {
        if file.ends_with('/') || file == "Chart.yaml" {
            continue;
        }
        if file.ends_with(".tgz") {
            assert_eq!(
                archive_entries(&made.join(&file)),
                archive_entries(&helms.join(&file)),
                "{file}"
            );
        } else {
            assert_eq!(
                std::fs::read(made.join(&file)).unwrap(),
                std::fs::read(helms.join(&file)).unwrap(),
                "{file}"
            );
        }
    }
}
