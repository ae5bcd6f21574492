//! The simulator's command line: bad input and an absent API server end it at once with a
//! message saying what and where, and a non-zero status. (Its behaviour on a live cluster is
//! tested by crates/rudder/tests/cluster_controllers.rs.)

use std::net::TcpListener;
use std::process::Command;

fn node_sim(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rudder-node-sim"))
        .env_remove("KUBECONFIG")
        .args(args)
        .output()
        .expect("run rudder-node-sim");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_kubeconfig_is_named() {
    let (ok, stderr) = node_sim(&["--kubeconfig", "/nonexistent/kubeconfig"]);
    assert!(!ok);
    assert!(
        stderr.starts_with("rudder-node-sim: reading the kubeconfig /nonexistent/kubeconfig:"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_api_server_stops_the_registration() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("node-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n"
        ),
    )
    .unwrap();
    let (ok, stderr) = node_sim(&["--kubeconfig", kubeconfig.to_str().unwrap(), "--nodes", "1"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!ok);
    assert!(
        stderr.starts_with("rudder-node-sim: registering node sim-0:"),
        "{stderr}"
    );
}

#[test]
fn a_bad_flag_is_refused() {
    let (ok, stderr) = node_sim(&["--nodes", "many"]);
    assert!(!ok);
    assert!(
        stderr.contains("invalid value 'many' for '--nodes <NODES>'"),
        "{stderr}"
    );
}

#[test]
fn a_bad_taint_is_refused_with_the_syntax_expected() {
    let (ok, stderr) = node_sim(&["--taint", "pool=prod"]);
    assert!(!ok);
    assert!(
        stderr.contains("invalid value 'pool=prod' for '--taint <TAINTS>'")
            && stderr.contains("expected key[=value]:Effect"),
        "{stderr}"
    );
}
