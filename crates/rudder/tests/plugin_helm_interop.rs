//! Plugins installed by `rudder plugin install` are found and run by real Helm v4.2.3
//! (helm-python-sdk through RUDDER_HELM_PYTHON). The SDK exposes no plugin commands
//! (no `plugin list`, no CLI plugins, no post-renderer option), but its
//! `dependency_update` fetches through Helm's getters, which load the getter plugins of
//! the plugins folder (`getter.All(settings)`, pkg/getter/plugingetter.go): so Helm's own
//! plugin loader reads the layout rudder wrote and runs the plugin, for a getter/v1 plugin
//! installed from a folder (development mode, a link) and a Helm 3 `downloaders` plugin
//! installed from a .tgz made by `rudder plugin package`.

#![cfg(unix)]

mod common;
use common::{helm_python_path, stderr, stdout, HelmHome};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Serves `<scheme>://charts/PATH` from `$GETTER_ROOT/PATH`, logging the URL and
/// HELM_PLUGIN_NAME to `$GETTER_LOG`.
const GETTER: &str = "#!/bin/sh\necho \"$4|$HELM_PLUGIN_NAME\" >> \"$GETTER_LOG\"\npath=\"${4#*://charts/}\"\nexec cat \"$GETTER_ROOT/$path\"\n";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn must(home: &HelmHome, args: &[&str]) -> String {
    let out = home.rudder(args);
    assert!(
        out.status.success(),
        "rudder {args:?}:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// A plugin source folder `name` with `yaml` and the getter script.
fn plugin_source(home: &HelmHome, name: &str, yaml: &str) -> String {
    let dir = home.path(&format!("src/{name}"));
    write(&dir.join("plugin.yaml"), yaml);
    let script = dir.join("bin/get.sh");
    write(&script, GETTER);
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir.to_str().unwrap().to_string()
}

#[test]
fn getter_plugins_installed_by_rudder_serve_real_helm() {
    let Some(python) = helm_python_path() else {
        return;
    };
    let home = HelmHome::new();
    let v1 = plugin_source(
        &home,
        "v1getter",
        "apiVersion: v1\nname: v1getter\ntype: getter/v1\nruntime: subprocess\nversion: 0.1.0\nconfig:\n  protocols: [vone]\nruntimeConfig:\n  protocolCommands:\n  - protocols: [vone]\n    platformCommand:\n    - command: bin/get.sh\n",
    );
    let legacy = plugin_source(
        &home,
        "legacygetter",
        "name: legacygetter\nversion: 0.2.0\ndownloaders:\n- command: bin/get.sh\n  protocols: [legacy]\n",
    );
    must(&home, &["plugin", "install", &v1]);
    let dist = home.path("dist");
    must(
        &home,
        &[
            "plugin",
            "package",
            &legacy,
            "--sign=false",
            "-d",
            dist.to_str().unwrap(),
        ],
    );
    let archive = dist.join("legacygetter-0.2.0.tgz");
    must(
        &home,
        &[
            "plugin",
            "install",
            archive.to_str().unwrap(),
            "--verify=false",
        ],
    );
    let listed = must(&home, &["plugin", "list"]);
    assert!(
        listed.contains("v1getter") && listed.contains("legacygetter"),
        "{listed}"
    );

    // A chart repository the plugins serve.
    let chart = home.path("chart");
    write(
        &chart.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    write(&chart.join("templates/x.yaml"), "kind: X\n");
    let served = home.path("served");
    must(
        &home,
        &[
            "package",
            chart.to_str().unwrap(),
            "-d",
            served.to_str().unwrap(),
        ],
    );
    must(&home, &["repo", "index", served.to_str().unwrap()]);

    for scheme in ["vone", "legacy"] {
        let parent = home.path(&format!("parent-{scheme}"));
        write(
            &parent.join("Chart.yaml"),
            &format!(
                "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n- name: c\n  version: 0.1.0\n  repository: {scheme}://charts\n"
            ),
        );
        let log = home.path(&format!("getter-{scheme}.log"));
        let out = Command::new(&python)
            .args([
                "-c",
                "import sys, helm_python as h; h.dependency_update(sys.argv[1])",
                parent.to_str().unwrap(),
            ])
            .env("HELM_CONFIG_HOME", home.path("config"))
            .env("HELM_CACHE_HOME", home.path("helm-cache"))
            .env("HELM_DATA_HOME", home.path("data"))
            .env_remove("HELM_PLUGINS")
            .env("GETTER_ROOT", &served)
            .env("GETTER_LOG", &log)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helm with {scheme}:// failed: {}",
            stderr(&out)
        );
        // Helm ran the plugin rudder installed, for the index and for the archive.
        let plugin = if scheme == "vone" {
            "v1getter"
        } else {
            "legacygetter"
        };
        let calls = std::fs::read_to_string(&log).unwrap();
        assert!(
            calls.contains(&format!("{scheme}://charts/index.yaml|{plugin}\n"))
                && calls.contains(&format!("{scheme}://charts/c-0.1.0.tgz|{plugin}\n")),
            "{calls}"
        );
        assert_eq!(
            std::fs::read(parent.join("charts/c-0.1.0.tgz")).unwrap(),
            std::fs::read(served.join("c-0.1.0.tgz")).unwrap()
        );
    }
}
