//! A chart repository over TLS with a self-signed CA, on loopback: `repo add` and `pull`
//! with `--ca-file`, with `--insecure-skip-tls-verify`, and refused without either. The CA
//! and server certificate are made with the openssl command and served by Python's
//! `http.server` wrapped in TLS (both on every machine this project targets; the test
//! skips with a notice if either is missing, and fails instead under CI).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `root` over HTTPS with `cert`/`key`; returns the server and its port.
fn serve_tls(root: &Path, cert: &Path, key: &Path) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = format!(
        "import http.server, ssl, functools\n\
         h = functools.partial(http.server.SimpleHTTPRequestHandler, directory={root:?})\n\
         s = http.server.HTTPServer(('127.0.0.1', {port}), h)\n\
         c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
         c.load_cert_chain({cert:?}, {key:?})\n\
         s.socket = c.wrap_socket(s.socket, server_side=True)\n\
         s.serve_forever()\n",
        root = root.display().to_string(),
        cert = cert.display().to_string(),
        key = key.display().to_string(),
    );
    let child = Command::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the TLS server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

fn rudder(home: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("HELM_REPOSITORY_CONFIG")
        .env_remove("HELM_REPOSITORY_CACHE")
        .output()
        .expect("rudder runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn repository_over_tls_with_a_self_signed_ca() {
    if !have("openssl") || !have("python3") {
        rudder_test_support::skip("openssl or python3 is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A CA, and a server certificate for 127.0.0.1 signed by it.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=rudder test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(d.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.pem",
        ],
    );

    // A repository: one chart packaged and indexed by rudder.
    let repo = d.join("repo");
    let chart = d.join("src/tlsdemo");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: tlsdemo\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "a: 1\n").unwrap();
    let home = d.join("home");
    let (ok, _, err) = rudder(
        &home,
        &[
            "package",
            chart.to_str().unwrap(),
            "-d",
            repo.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let (server, port) = serve_tls(&repo, &d.join("server.pem"), &d.join("server.key"));
    let url = format!("https://127.0.0.1:{port}");
    let (ok, _, err) = rudder(
        &home,
        &["repo", "index", repo.to_str().unwrap(), "--url", &url],
    );
    assert!(ok, "{err}");

    // Without the CA: refused, and nothing is added.
    let (ok, _, err) = rudder(&home, &["repo", "add", "secure", &url]);
    assert!(!ok);
    assert!(
        err.contains("is not a valid chart repository or cannot be reached"),
        "{err}"
    );
    let (_, listed, _) = rudder(&home, &["repo", "list", "-o", "json"]);
    assert_eq!(listed, "[]\n");

    // With it: added, searched and pulled through the same CA.
    let ca = d.join("ca.pem");
    let (ok, out, err) = rudder(
        &home,
        &[
            "repo",
            "add",
            "secure",
            &url,
            "--ca-file",
            ca.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "\"secure\" has been added to your repositories\n");
    let (ok, out, _) = rudder(&home, &["search", "repo", "tlsdemo", "-o", "json"]);
    assert!(ok);
    assert!(
        out.contains("\"name\":\"secure/tlsdemo\",\"version\":\"1.0.0\""),
        "{out}"
    );
    let dest = d.join("pulled");
    let (ok, _, err) = rudder(
        &home,
        &["pull", "secure/tlsdemo", "-d", dest.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read(dest.join("tlsdemo-1.0.0.tgz")).unwrap(),
        std::fs::read(repo.join("tlsdemo-1.0.0.tgz")).unwrap()
    );

    // --insecure-skip-tls-verify also works, without the CA.
    let (ok, _, err) = rudder(
        &home,
        &[
            "repo",
            "add",
            "insecure",
            &url,
            "--insecure-skip-tls-verify",
        ],
    );
    assert!(ok, "{err}");
    drop(server);
}
