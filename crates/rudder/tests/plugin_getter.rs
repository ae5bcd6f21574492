//! Getter plugins through the binary: a shell-script getter in each plugin.yaml schema
//! (Helm 4's `getter/v1` with `protocolCommands`, Helm 3's `downloaders`) serving a custom
//! scheme, used by `repo add`, `pull` (repo/chart and a chart URL), `template` and
//! `install` of a chart URL, and `dependency update`.
//!
//! helm-python-sdk does not expose plugins, so the expectations follow Helm v4.2.3's
//! sources: pkg/getter/plugingetter.go (which plugins serve which scheme, the options they
//! get) and internal/plugin/runtime_subprocess_getter.go (how the command is run).

#![cfg(unix)]

mod common;
use common::{stderr, stdout, HelmHome};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A Helm home with both getter plugins installed and a chart repository they serve.
struct Home {
    base: HelmHome,
}

/// Serves `<scheme>://charts/PATH` from `$GETTER_ROOT/PATH`, logging its arguments
/// (`count|cert|key|ca|url`) and HELM_PLUGIN_NAME to `$GETTER_LOG`.
const GETTER: &str = "#!/bin/sh\necho \"$#|$1|$2|$3|$4|$HELM_PLUGIN_NAME\" >> \"$GETTER_LOG\"\npath=\"${4#*://charts/}\"\nexec cat \"$GETTER_ROOT/$path\"\n";

impl Home {
    fn new() -> Home {
        let home = Home {
            base: HelmHome::new(),
        };
        // Both plugins as Helm leaves them under <data>/plugins.
        home.plugin(
            "v1getter",
            "apiVersion: v1\nname: v1getter\ntype: getter/v1\nruntime: subprocess\nversion: 0.1.0\nconfig:\n  protocols: [vone]\nruntimeConfig:\n  protocolCommands:\n  - protocols: [vone]\n    platformCommand:\n    - command: bin/get.sh\n",
        );
        home.plugin(
            "legacygetter",
            "name: legacygetter\nversion: 0.1.0\ndownloaders:\n- command: bin/get.sh\n  protocols: [legacy, other]\n",
        );
        // A chart repository folder with an index (relative chart URLs).
        write(
            &home.path("chart/Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        );
        write(
            &home.path("chart/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n",
        );
        let repo = home.path("served");
        std::fs::create_dir_all(&repo).unwrap();
        let out = home.rudder(&[
            "package",
            home.path("chart").to_str().unwrap(),
            "-d",
            repo.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = home.rudder(&["repo", "index", repo.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let _ = std::fs::remove_file(home.path("getter.log"));
        home
    }

    fn plugin(&self, name: &str, yaml: &str) {
        let dir = self.path(&format!("data/plugins/{name}"));
        write(&dir.join("plugin.yaml"), yaml);
        let script = dir.join("bin/get.sh");
        write(&script, GETTER);
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.base.path(rel)
    }

    fn rudder(&self, args: &[&str]) -> Output {
        self.base
            .command(args)
            .env("GETTER_ROOT", self.path("served"))
            .env("GETTER_LOG", self.path("getter.log"))
            .output()
            .expect("rudder runs")
    }

    /// The getter calls logged since the last look.
    fn calls(&self) -> Vec<String> {
        let log = self.path("getter.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        text.lines().map(String::from).collect()
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn getter_plugins_in_both_schemas_serve_their_scheme_everywhere() {
    for (scheme, plugin) in [("vone", "v1getter"), ("legacy", "legacygetter")] {
        let home = Home::new();
        let repo_url = format!("{scheme}://charts");

        // repo add fetches index.yaml through the plugin; runtime_subprocess_getter.go:
        // the arguments are the cert, key and CA files, then the full URL.
        let out = home.rudder(&["repo", "add", "r", &repo_url, "--ca-file", "ca.pem"]);
        assert!(out.status.success(), "{scheme}: {}", stderr(&out));
        assert_eq!(stdout(&out), "\"r\" has been added to your repositories\n");
        assert_eq!(
            home.calls(),
            [format!("4|||ca.pem|{repo_url}/index.yaml|{plugin}")]
        );

        // pull repo/chart: the archive URL resolved against the repository URL.
        let out = home.rudder(&["pull", "r/c", "-d", "pulled"]);
        assert!(out.status.success(), "{scheme}: {}", stderr(&out));
        let pulled = std::fs::read(home.path("pulled/c-0.1.0.tgz")).unwrap();
        assert_eq!(
            pulled,
            std::fs::read(home.path("served/c-0.1.0.tgz")).unwrap()
        );
        assert!(
            home.calls()
                .contains(&format!("4|||ca.pem|{repo_url}/c-0.1.0.tgz|{plugin}")),
            "the repository's CA file goes along"
        );

        // pull and template of a chart URL.
        let chart_url = format!("{repo_url}/c-0.1.0.tgz");
        let out = home.rudder(&["pull", &chart_url, "-d", "direct"]);
        assert!(out.status.success(), "{scheme}: {}", stderr(&out));
        assert!(home.path("direct/c-0.1.0.tgz").is_file());
        let out = home.rudder(&["template", "rel", &chart_url]);
        assert!(out.status.success(), "{scheme}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rel-cm\n"
        );

        // install of a chart URL (a client-side dry run: the chart is fetched the same way).
        let out = home.rudder(&["install", "rel", &chart_url, "--dry-run"]);
        assert!(out.status.success(), "{scheme}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("  name: rel-cm\n"),
            "{}",
            stdout(&out)
        );

        // dependency update with the repository by URL: it is the configured repository
        // `r`, so its CA file goes along (manager.go finds the repository by URL).
        write(
            &home.path("parent/Chart.yaml"),
            &format!("apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n- name: c\n  version: 0.1.0\n  repository: {repo_url}\n"),
        );
        home.calls();
        let out = home.rudder(&["dependency", "update", "parent"]);
        assert!(out.status.success(), "{scheme}: {}", stderr(&out));
        assert!(home.path("parent/charts/c-0.1.0.tgz").is_file());
        let calls = home.calls();
        assert!(
            calls.contains(&format!("4|||ca.pem|{repo_url}/c-0.1.0.tgz|{plugin}")),
            "{calls:?}"
        );
    }
}

#[test]
fn unknown_schemes_and_failing_getters_are_reported() {
    let home = Home::new();
    // getter.go ByScheme.
    let out = home.rudder(&["pull", "nope://charts/c-0.1.0.tgz"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("scheme \"nope\" not supported"),
        "{}",
        stderr(&out)
    );
    // A legacy getter serving several protocols; the file it is asked for is missing, so
    // its `cat` fails: runtime_subprocess.go executeCmd's wording, wrapped by
    // plugingetter.go's "failed to invoke".
    let out = home.rudder(&["pull", "other://charts/missing-1.0.0.tgz"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(
            "plugin \"legacygetter\" failed to invoke: plugin \"legacygetter\" exited with error"
        ),
        "{}",
        stderr(&out)
    );
}
