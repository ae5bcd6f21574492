//! Helm's command-line surface beyond what a render golden shows: the global flags accepted
//! after any command, the `helm install` flags that `helm template` accepts, pflag's notices
//! for deprecated flags, and the release name rules of `NameAndChart`. helm-python-sdk has no
//! command line, so the expectations here come from Helm v4.2.3's sources (pkg/cmd/install.go,
//! template.go, pkg/cli/environment.go, pkg/action/install.go), not from a golden.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn rudder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .env_remove("HELM_REPOSITORY_CONFIG")
        .output()
        .expect("run rudder")
}

fn chart() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/template/charts/hooks")
        .to_string_lossy()
        .into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// Helm v4.2.3: pkg/cmd/template.go:206 gives `template` install's flags (addInstallFlags,
// pkg/cmd/install.go:186); pkg/cli/environment.go:165 and around declares the global ones.
#[test]
fn template_accepts_helms_install_and_global_flags_without_changing_its_output() {
    let chart = chart();
    let plain = rudder(&["template", "r", &chart]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    let flags: &[&str] = &[
        "--create-namespace",
        "--description=d",
        "--disable-openapi-validation",
        "--force-conflicts",
        "--force-replace",
        "--server-side=false",
        "--labels=a=b,c=d",
        "--replace",
        "--rollback-on-failure",
        "--take-ownership",
        "--wait",
        "--wait=hookOnly",
        "--wait-for-jobs",
        "--timeout=90s",
        "--post-renderer-args=x",
        "--kube-context=elsewhere",
        "--kubeconfig=/nonexistent/config",
        "--kube-apiserver=https://127.0.0.1:1",
        "--kube-token=t",
        "--kube-as-user=someone",
        "--kube-as-group=g",
        "--burst-limit=5",
        "--qps=2.5",
        "--color=never",
        "--colour=always",
        "--registry-config=/nonexistent/registry.json",
        "--repository-cache=/nonexistent/cache",
        "--content-cache=/nonexistent/content",
    ];
    for flag in flags {
        let out = rudder(&["template", "r", &chart, flag]);
        assert!(out.status.success(), "{flag}: {}", stderr(&out));
        assert_eq!(stdout(&out), stdout(&plain), "{flag} changed the output");
    }
    // Global flags go before the command too.
    let out = rudder(&["--kube-context=x", "template", "r", &chart]);
    assert_eq!(stdout(&out), stdout(&plain), "{}", stderr(&out));
    // What the flags are checked for, as in Helm.
    let out = rudder(&["template", "r", &chart, "--timeout=soon"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(r#"invalid argument "soon" for "--timeout" flag"#),
        "{}",
        stderr(&out)
    );
}

// Helm v4.2.3: pkg/cmd/install.go:190 and :205 deprecate --force and --atomic, :218 and :225
// --hide-notes and --render-subchart-notes for `template`; pflag prints the notice per use.
#[test]
fn deprecated_flags_get_pflags_notice_each_time() {
    let chart = chart();
    let plain = rudder(&["template", "r", &chart]);
    let out = rudder(&[
        "template",
        "r",
        &chart,
        "--atomic",
        "--force",
        "--hide-notes",
        "--render-subchart-notes",
        "--atomic",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&plain));
    let no_effect = "this flag has no effect for 'helm template' and will be removed in Helm 5";
    let notices: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("Flag --"))
        .map(String::from)
        .collect();
    assert_eq!(
        notices,
        vec![
            "Flag --atomic has been deprecated, use --rollback-on-failure instead".to_string(),
            "Flag --atomic has been deprecated, use --rollback-on-failure instead".to_string(),
            "Flag --force has been deprecated, use --force-replace instead".to_string(),
            format!("Flag --hide-notes has been deprecated, {no_effect}"),
            format!("Flag --render-subchart-notes has been deprecated, {no_effect}"),
        ]
    );
    // The deprecated flags stay out of the help, as MarkDeprecated hides them.
    let help = stdout(&rudder(&["template", "--help"]));
    assert!(!help.contains("--atomic") && !help.contains("--render-subchart-notes"));
    assert!(help.contains("--rollback-on-failure") && help.contains("--name-template"));
}

// Helm v4.2.3: pkg/action/install.go:766 (`NameAndChart`), its cases in install_test.go:909.
#[test]
fn template_names_the_release_as_helm_does() {
    let chart = chart();
    let name_of = |args: &[&str]| {
        let out = rudder(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("name: "))
            .expect("a named object")
            .to_string();
        line.trim().trim_start_matches("name: ").to_string()
    };
    // The chart names its objects after the release.
    let plain = name_of(&["template", &chart]);
    assert!(plain.starts_with("release-name"), "{plain}");
    // --name-template is a template with Sprig's functions, executed with no data.
    let named = name_of(&[
        "template",
        &chart,
        "--name-template",
        r#"{{ "demo" | lower }}-{{ add 1 2 }}"#,
    ]);
    assert_eq!(named, plain.replacen("release-name", "demo-3", 1));
    // template presets the name "release-name", so --generate-name does nothing with one
    // argument...
    assert_eq!(name_of(&["template", "-g", &chart]), plain);
    // ...and is refused with two, like --name-template.
    for flag in ["-g", "--name-template=x"] {
        let out = rudder(&["template", "mine", &chart, flag]);
        assert!(!out.status.success());
        let want = if flag == "-g" {
            "Error: cannot set --generate-name and also specify a name"
        } else {
            "Error: cannot set --name-template and also specify a name"
        };
        assert_eq!(stderr(&out).trim(), want);
    }
    // A name template that does not parse is an error naming the template.
    let out = rudder(&["template", &chart, "--name-template", "{{ nope }}"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("template: name-template:1: function \"nope\" not defined"),
        "{}",
        stderr(&out)
    );
}

// Helm v4.2.3: pkg/cli/environment.go:112 (HELM_REPOSITORY_CONFIG) and :165 (the flag).
#[test]
fn repository_config_flag_is_read_like_helm_repository_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("repositories.yaml");
    std::fs::write(
        &config,
        "apiVersion: \"\"\ngenerated: \"0001-01-01T00:00:00Z\"\nrepositories:\n- name: flagged\n  url: http://127.0.0.1:1/charts\n",
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    for args in [
        vec!["repo", "list", "--repository-config", &config],
        vec!["--repository-config", &config, "repo", "list"],
    ] {
        let out = rudder(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("flagged"), "{}", stdout(&out));
    }
}

// Helm v4.2.3: pkg/cmd/repo_add.go:42 (the old hosts), :110 (the refusal), :100 (--timeout).
#[test]
fn repo_add_refuses_the_old_kubernetes_chart_hosts_and_bad_timeouts() {
    let home = tempfile::tempdir().unwrap();
    let config = home
        .path()
        .join("repositories.yaml")
        .to_string_lossy()
        .into_owned();
    let out = rudder(&[
        "repo",
        "add",
        "stable",
        "https://kubernetes-charts.storage.googleapis.com",
        "--repository-config",
        &config,
    ]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim(),
        r#"Error: repo "https://kubernetes-charts.storage.googleapis.com" is no longer available; try "https://charts.helm.sh/stable" instead"#
    );
    let out = rudder(&[
        "repo",
        "add",
        "x",
        "http://127.0.0.1:1",
        "--timeout",
        "1 minute",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(r#"invalid argument "1 minute" for "--timeout" flag"#));
}

// Helm v4.2.3: pkg/cmd/pull.go:88-91 (--untar, --prov, --untardir, --destination).
#[test]
fn pull_finds_a_chart_by_name_with_repo_and_keeps_its_provenance_with_prov() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let archive = std::fs::read(root.join("tests/template/charts/hooks-1.2.3.tgz")).unwrap();
    let index = "apiVersion: v1\nentries:\n  hooks:\n  - apiVersion: v2\n    name: hooks\n    version: 1.2.3\n    urls:\n    - charts/hooks-1.2.3.tgz\n";
    let base = common::serve_files(vec![
        ("/index.yaml".into(), index.as_bytes().to_vec()),
        ("/charts/hooks-1.2.3.tgz".into(), archive.clone()),
        (
            "/charts/hooks-1.2.3.tgz.prov".into(),
            b"not checked".to_vec(),
        ),
    ]);
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache").to_string_lossy().into_owned();
    let dest = home.path().join("out");
    let dest_s = dest.to_string_lossy().into_owned();
    let out = rudder(&[
        "pull",
        "hooks",
        "--repo",
        &base,
        "--version",
        "1.2.3",
        "-d",
        &dest_s,
        "--prov",
        "--repository-cache",
        &cache,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dest.join("hooks-1.2.3.tgz")).unwrap(),
        archive
    );
    assert_eq!(
        std::fs::read(dest.join("hooks-1.2.3.tgz.prov")).unwrap(),
        b"not checked"
    );
    // Not in that repository: Helm's error for a chart it cannot find.
    let out = rudder(&[
        "pull",
        "nope",
        "--repo",
        &base,
        "-d",
        &dest_s,
        "--repository-cache",
        &cache,
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
}

// Helm v4.2.3: pkg/kube/client.go:818 and :822 (the two refusals), pkg/cmd/install.go:189
// (--force, deprecated for --force-replace).
#[test]
fn replacing_objects_is_refused_as_helm_refuses_it_under_server_side_apply() {
    // Helm v4's kube client cannot replace what it server-side applies; rudder always
    // applies server-side, so upgrade and rollback refuse --force-replace (and --force).
    let chart = chart();
    let out = rudder(&["upgrade", "r", &chart, "--force"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Flag --force has been deprecated, use --force-replace instead\n\
         Error: UPGRADE FAILED: invalid operation: cannot use server-side apply and force replace together\n"
    );
    let out = rudder(&["rollback", "r", "--force-replace", "--force-conflicts"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: invalid operation: cannot use force conflicts and force replace together\n"
    );
}

// Helm v4.2.3: pkg/cmd/version.go:44-60 (--template and its fields), pkg/cmd/env.go:33-59
// (`env` prints NAME="value" lines, or one value).
#[test]
fn version_and_env_answer_as_helm_does() {
    let v = format!("v4.2.3+rudder.{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(stdout(&rudder(&["version", "--short"])), format!("{v}\n"));
    assert_eq!(
        stdout(&rudder(&["version"])),
        format!("version.BuildInfo{{Version:\"{v}\", GitCommit:\"\", GitTreeState:\"\", GoVersion:\"\", KubeClientVersion:\"\"}}\n")
    );
    assert_eq!(
        stdout(&rudder(&["version", "--template", "{{ .Version }}!"])),
        format!("{v}!")
    );

    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache").to_string_lossy().into_owned();
    let env = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .args(args)
            .env("HELM_CACHE_HOME", &cache)
            .env("KUBECONFIG", home.path().join("none"))
            .env_remove("HELM_NAMESPACE")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let all = env(&["env", "--kube-context", "ctx"]);
    let keys: Vec<&str> = all.lines().map(|l| l.split('=').next().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "{all}");
    assert!(
        all.contains(&format!("HELM_REPOSITORY_CACHE=\"{cache}/repository\"\n")),
        "{all}"
    );
    assert!(all.contains("HELM_KUBECONTEXT=\"ctx\"\n") && all.contains("HELM_QPS=\"0.00\"\n"));
    assert!(
        !all.contains("KUBECONFIG="),
        "only --kubeconfig sets it: {all}"
    );
    assert_eq!(env(&["env", "HELM_NAMESPACE"]), "default\n");
    assert_eq!(env(&["env", "HELM_NAMESPACE", "-n", "milvus"]), "milvus\n");
    assert_eq!(
        env(&["env", "HELM_CONTENT_CACHE"]),
        format!("{cache}/content\n")
    );
}

// Helm v4.2.3: pkg/cmd/completion.go (a script per shell).
#[test]
fn completion_scripts_and_a_reader_that_goes_away() {
    let bash = rudder(&["completion", "bash"]);
    assert!(bash.status.success(), "{}", stderr(&bash));
    let script = stdout(&bash);
    assert!(script.starts_with("_rudder() {"), "{}", &script[..80]);
    assert!(script.contains("--kube-context") && script.contains("template"));
    for shell in ["zsh", "fish", "powershell"] {
        let out = rudder(&["completion", shell]);
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }
    // `rudder completion bash | head -c 10`: the script is larger than a pipe holds, so the
    // write fails; like Helm (ended by SIGPIPE) rudder says nothing and exits with 141.
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(["completion", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

// Helm v4.2.3: pkg/cmd/install.go:157 (the dry-run strategy); a client-side dry run builds no
// kube client.
#[test]
fn a_client_side_dry_run_install_needs_no_cluster() {
    let home = tempfile::tempdir().unwrap();
    let run = |dry_run: &str| {
        Command::new(env!("CARGO_BIN_EXE_rudder"))
            .args(["install", "offline", &chart(), dry_run])
            .env("KUBECONFIG", home.path().join("none"))
            .env("HOME", home.path())
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .unwrap()
    };
    let out = run("--dry-run");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("NAME: offline\n"), "{text}");
    assert!(
        text.contains("NAMESPACE: default\n") && text.contains("MANIFEST:"),
        "{text}"
    );
    // A server-side dry run does need one.
    let out = run("--dry-run=server");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Kubernetes cluster unreachable"),
        "{}",
        stderr(&out)
    );
}
