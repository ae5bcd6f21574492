//! Helm plugins through the binary, with real plugins (shell scripts) this test writes, in
//! both plugin.yaml schemas: installed from a directory, listed, run as subcommands calling
//! `$HELM_BIN template`, used as `--post-renderer`, uninstalled.
//!
//! helm-python-sdk does not expose plugins or post-rendering, so the expectations follow
//! Helm v4.2.3's sources, named at each test.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A Helm home of its own (data, config, cache) and a chart.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let home = Home {
            dir: tempfile::tempdir().unwrap(),
        };
        write(
            &home.path("chart/Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        );
        write(
            &home.path("chart/templates/cm.yaml"),
            "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n  namespace: {{ .Release.Namespace }}\n",
        );
        write(
            &home.path("chart/templates/hook.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n  name: {{ .Release.Name }}-hook\n",
        );
        write(
            &home.path("chart/templates/_helpers.tpl"),
            "{{/* partial */}}\n",
        );
        home
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn rudder(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rudder"))
            .args(args)
            .env("HELM_DATA_HOME", self.path("data"))
            .env("HELM_CONFIG_HOME", self.path("config"))
            .env("HELM_CACHE_HOME", self.path("cache"))
            .env_remove("HELM_PLUGINS")
            .env_remove("HELM_NAMESPACE")
            .env_remove("HELM_NO_PLUGINS")
            .env_remove("HELM_DEBUG")
            .output()
            .expect("rudder runs")
    }

    /// A plugin source directory with its plugin.yaml and an executable script.
    fn plugin_source(&self, dir: &str, plugin_yaml: &str, script: &str) -> PathBuf {
        let dir = self.path(&format!("src/{dir}"));
        write(&dir.join("plugin.yaml"), plugin_yaml);
        let run = dir.join("run.sh");
        write(&run, script);
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    fn install(&self, source: &Path, name: &str) {
        let out = self.rudder(&["plugin", "install", source.to_str().unwrap()]);
        assert_eq!(stderr(&out), "");
        assert!(out.status.success());
        // pkg/cmd/plugin_install.go: the development-mode notice, then "Installed plugin".
        assert_eq!(
            stdout(&out),
            format!("Installing plugin from local directory (development mode)\nInstalled plugin: {name}\n")
        );
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Prints what the plugin saw, then runs `$HELM_BIN template rel CHART` (CHART: the last
/// argument).
const TEMPLATE_SCRIPT: &str = "#!/bin/sh\necho \"# plugin=$HELM_PLUGIN_NAME dir=$HELM_PLUGIN_DIR ns=$HELM_NAMESPACE args=$*\"\nfor last; do :; done\nexec \"$HELM_BIN\" template rel \"$last\"\n";

#[test]
fn cli_plugins_in_both_schemas_run_as_subcommands_calling_helm_bin() {
    let home = Home::new();
    let legacy = home.plugin_source(
        "tpl-legacy",
        "name: tpl-legacy\nversion: 0.1.0\nusage: render through rudder\ncommand: $HELM_PLUGIN_DIR/run.sh\n",
        TEMPLATE_SCRIPT,
    );
    let v1 = home.plugin_source(
        "tpl-v1",
        "apiVersion: v1\nname: tpl-v1\ntype: cli/v1\nruntime: subprocess\nversion: 1.0.0\nconfig:\n  shortHelp: render\nruntimeConfig:\n  platformCommand:\n  - command: ${HELM_PLUGIN_DIR}/run.sh\n    args: [--from-yaml]\n",
        TEMPLATE_SCRIPT,
    );
    home.install(&legacy, "tpl-legacy");
    home.install(&v1, "tpl-v1");
    // installer/local_installer.go:101,179: a symlink in <data home>/plugins.
    let link = home.path("data/plugins/tpl-v1");
    assert_eq!(std::fs::read_link(&link).unwrap(), v1);

    let chart = home.path("chart");
    let chart = chart.to_str().unwrap();
    let direct = home.rudder(&["template", "rel", chart, "-n", "team"]);
    assert!(direct.status.success(), "{}", stderr(&direct));
    let direct = stdout(&direct);
    assert!(direct.contains("namespace: team"), "{direct}");

    // A global flag before the plugin's name.
    let out = home.rudder(&["-n", "team", "tpl-legacy", "--x", chart]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = home.path("data/plugins/tpl-legacy");
    assert_eq!(
        stdout(&out),
        format!(
            "# plugin=tpl-legacy dir={} ns=team args=--x {chart}\n{direct}",
            dir.display()
        )
    );
    // load_plugins.go manuallyProcessArgs: Helm's own flags after the name are Helm's, not
    // the plugin's; the v1 plugin's args from plugin.yaml come first (subprocess_commands.go
    // PrepareCommands), `${HELM_PLUGIN_DIR}` expanded.
    let out = home.rudder(&["tpl-v1", "--namespace", "team", chart]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "# plugin=tpl-v1 dir={} ns=team args=--from-yaml {chart}\n{direct}",
            link.display()
        )
    );

    // plugin_list.go: NAME VERSION TYPE APIVERSION PROVENANCE SOURCE.
    let out = home.rudder(&["plugin", "list"]);
    assert!(out.status.success());
    let rows: Vec<Vec<String>> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec![
                "NAME",
                "VERSION",
                "TYPE",
                "APIVERSION",
                "PROVENANCE",
                "SOURCE"
            ],
            // signing_info.go GetPluginSigningInfo: a symlink is "local dev".
            vec![
                "tpl-legacy",
                "0.1.0",
                "cli/v1",
                "legacy",
                "local",
                "dev",
                "unknown"
            ],
            vec!["tpl-v1", "1.0.0", "cli/v1", "v1", "local", "dev", "unknown"],
        ]
    );
    let out = home.rudder(&["plugin", "list", "--type", "postrenderer/v1"]);
    assert_eq!(stdout(&out).lines().count(), 1);

    // plugin_uninstall.go: the link goes, the source stays; an unknown name is reported.
    let out = home.rudder(&["plugin", "uninstall", "tpl-v1", "nope"]);
    assert!(!out.status.success());
    assert_eq!(stdout(&out), "Uninstalled plugin: tpl-v1\n");
    assert_eq!(stderr(&out), "Error: plugin: nope not found\n");
    assert!(std::fs::symlink_metadata(&link).is_err());
    assert!(v1.join("plugin.yaml").exists());
    let out = home.rudder(&["tpl-v1", chart]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: unknown command \"tpl-v1\" for \"rudder\"\n"
    );
}

#[test]
fn plugin_exit_code_is_passed_through() {
    let home = Home::new();
    let src = home.plugin_source(
        "fail",
        "name: fail\nversion: 0.1.0\ncommand: $HELM_PLUGIN_DIR/run.sh\n",
        "#!/bin/sh\necho out\necho err >&2\nexit 7\n",
    );
    home.install(&src, "fail");
    let out = home.rudder(&["fail"]);
    // runtime_subprocess.go executeCmd and cmd/helm/helm.go: the plugin's exit code, with
    // "plugin NAME exited with error".
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(
        stderr(&out),
        "err\nError: plugin \"fail\" exited with error\n"
    );
}

#[test]
fn install_errors_and_update_as_helm() {
    let home = Home::new();
    let src = home.plugin_source(
        "p",
        "name: p\nversion: 0.1.0\ncommand: $HELM_PLUGIN_DIR/run.sh\n",
        "#!/bin/sh\n",
    );
    home.install(&src, "p");
    // installer.go InstallWithOptions.
    let out = home.rudder(&["plugin", "install", src.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out), "Error: plugin already exists\n");
    // local_installer.go installFromDirectory.
    let empty = home.path("src/empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = home.rudder(&["plugin", "install", empty.to_str().unwrap()]);
    assert_eq!(
        stderr(&out),
        "Error: plugin metadata (plugin.yaml) missing\n"
    );
    // plugin_update.go updatePlugin: a directory that is no VCS checkout has no source to
    // update from (installer.FindSource).
    let out = home.rudder(&["plugin", "update", "p"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: failed to update plugin p, got error (cannot get information about plugin source)\n"
    );
}

#[test]
fn wasm_plugins_are_refused_by_name() {
    let home = Home::new();
    let src = home.plugin_source(
        "wasm",
        "apiVersion: v1\nname: wasm\ntype: cli/v1\nruntime: extism/v1\nversion: 0.1.0\n",
        "#!/bin/sh\n",
    );
    home.install(&src, "wasm");
    let out = home.rudder(&["wasm"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: plugin \"wasm\": runtime \"extism/v1\" (WebAssembly) is not supported by rudder\n"
    );
}

/// Adds the label `post: <first argument>` before each document's `  name:` line.
const LABEL_SCRIPT: &str = "#!/bin/sh\nsed \"s/^  name: /  labels:\\n    post: $1\\n  name: /\"\n";

#[test]
fn post_renderer_plugins_in_both_schemas_rewrite_manifests_and_hooks() {
    let home = Home::new();
    let v1 = home.plugin_source(
        "label",
        "apiVersion: v1\nname: label\ntype: postrenderer/v1\nruntime: subprocess\nversion: 0.1.0\nruntimeConfig:\n  platformCommand:\n  - command: ${HELM_PLUGIN_DIR}/run.sh\n",
        LABEL_SCRIPT,
    );
    home.install(&v1, "label");
    let chart = home.path("chart");
    let chart = chart.to_str().unwrap();
    let out = home.rudder(&[
        "template",
        "rel",
        chart,
        "--post-renderer",
        "label",
        "--post-renderer-args",
        "blue",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // pkg/action/action.go (v4.2.3) renderResources, default "combined" strategy (line 431):
    // every file, hooks included, goes through the plugin (annotateAndMerge, line 177), and
    // comes back to its file by the postrender-filename annotation, which is removed again
    // with the then empty annotations (splitAndDeannotate, line 235; kio's ByteWriter clears
    // empty annotations). The script keeps the key order, so kyaml's order-keeping writer
    // and rudder's agree. A hook ends in a blank line as in Helm's `template` (checked with
    // helm-oracle.py on the same chart without post-renderer: SplitManifests only trims
    // leading space).
    let expected = "---\n# Source: c/templates/cm.yaml\napiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  labels:\n    post: blue\n  name: rel-cm\n  namespace: default\n---\n# Source: c/templates/hook.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n  labels:\n    post: blue\n  name: rel-hook\n\n";
    assert_eq!(stdout(&out), expected);

    // install renders through the same code (a client-side dry run needs no cluster).
    let out = home.rudder(&[
        "install",
        "rel",
        chart,
        "--dry-run",
        "--post-renderer",
        "label",
        "--post-renderer-args",
        "green",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["rel-cm", "rel-hook"] {
        let labelled = format!("  labels:\n    post: green\n  name: {name}\n");
        assert!(stdout(&out).contains(&labelled), "{}", stdout(&out));
    }

    // A legacy plugin is a cli/v1 plugin, never a post-renderer (metadata.go
    // fromMetadataLegacy): Helm's FindPlugin does not find it (loader.go, flags.go).
    let legacy = home.plugin_source(
        "legacy-label",
        "name: legacy-label\nversion: 0.1.0\ncommand: $HELM_PLUGIN_DIR/run.sh\n",
        LABEL_SCRIPT,
    );
    home.install(&legacy, "legacy-label");
    let out = home.rudder(&["template", "rel", chart, "--post-renderer", "legacy-label"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: invalid argument \"legacy-label\" for \"--post-renderer\" flag: plugin: {Name:legacy-label Type:postrenderer/v1} not found\n"
    );
}

#[test]
fn post_renderer_failures_as_helm_words_them() {
    let home = Home::new();
    for (name, script) in [
        ("broken", "#!/bin/sh\ncat >/dev/null\nexit 3\n"),
        ("silent", "#!/bin/sh\ncat >/dev/null\n"),
    ] {
        let src = home.plugin_source(
            name,
            &format!("apiVersion: v1\nname: {name}\ntype: postrenderer/v1\nruntime: subprocess\nversion: 0.1.0\nruntimeConfig:\n  platformCommand:\n  - command: $HELM_PLUGIN_DIR/run.sh\n"),
            script,
        );
        home.install(&src, name);
    }
    let chart = home.path("chart");
    let chart = chart.to_str().unwrap();
    // postrenderer.go:72,80 and action.go's "error while running post render on files".
    let out = home.rudder(&["template", "rel", chart, "--post-renderer", "broken"]);
    assert!(!out.status.success());
    assert!(stderr(&out).starts_with("Error: error while running post render on files: failed to invoke post-renderer plugin \"broken\": plugin \"broken\" exited with error"), "{}", stderr(&out));
    let out = home.rudder(&["template", "rel", chart, "--post-renderer", "silent"]);
    assert!(!out.status.success());
    assert!(stderr(&out).starts_with("Error: error while running post render on files: post-renderer \"silent\" produced empty output"), "{}", stderr(&out));
}

#[test]
fn legacy_hooks_run_on_install_and_uninstall() {
    let home = Home::new();
    // metadata.go buildLegacyRuntimeConfig: a legacy hook runs as `sh -c HOOK`, unexpanded
    // (the shell expands it); plugin_install.go and plugin_uninstall.go run the install
    // hook before "Installed plugin" and the delete hook after removing the plugin.
    let src = home.plugin_source(
        "hooked",
        "name: hooked\nversion: 0.1.0\ncommand: $HELM_PLUGIN_DIR/run.sh\nhooks:\n  install: echo \"install hook for $HELM_PLUGIN_NAME\"\n  delete: echo \"delete hook for $HELM_PLUGIN_NAME\"\n",
        "#!/bin/sh\n",
    );
    let out = home.rudder(&["plugin", "install", src.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Installing plugin from local directory (development mode)\ninstall hook for hooked\nInstalled plugin: hooked\n"
    );
    let out = home.rudder(&["plugin", "uninstall", "hooked"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "delete hook for hooked\nUninstalled plugin: hooked\n"
    );
}
