//! `rudder search hub` through the binary against a loopback HTTP server written here that
//! plays Artifact Hub's Monocular-compatible search API. helm-python-sdk has no hub search, so
//! the expectations follow Helm v4.2.3's sources, named at each assertion:
//! internal/monocular/search.go (request) and pkg/cmd/search_hub.go (output), with
//! pkg/cli/output/output.go (EncodeJSON, EncodeYAML, EncodeTable).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::mpsc;

/// A request as the server saw it: its target (path and query) and User-Agent.
struct Request {
    target: String,
    user_agent: String,
}

/// Answers every request with `status` and `body`, and reports each request on the channel.
fn serve(status: &'static str, body: &'static str) -> (String, mpsc::Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut user_agent = String::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    if name.eq_ignore_ascii_case("user-agent") {
                        user_agent = value.trim().to_string();
                    }
                }
            }
            let target = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            let _ = tx.send(Request { target, user_agent });
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{addr}"), rx)
}

fn rudder(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .expect("rudder runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Two results as Artifact Hub answers them (with `artifactHub.packageUrl`) and one as a plain
/// Monocular instance does (without), whose description is longer than the 50-character
/// column.
const RESULTS: &str = r#"{"data":[
 {"id":"bitnami/nginx","artifactHub":{"packageUrl":"https://artifacthub.io/packages/helm/bitnami/nginx"},
  "attributes":{"name":"nginx","description":"NGINX Open Source is a web server & <proxy>","repo":{"name":"bitnami","url":"https://charts.bitnami.com/bitnami"}},
  "relationships":{"latestChartVersion":{"data":{"version":"22.0.7","app_version":"1.29.1"}}}},
 {"id":"stable/nginx-ingress",
  "attributes":{"name":"nginx-ingress","description":"An nginx Ingress controller that uses ConfigMap to store the nginx configuration.","repo":{"name":"stable","url":"https://charts.helm.sh/stable"}},
  "relationships":{"latestChartVersion":{"data":{"version":"1.41.3","app_version":"v0.34.1"}}}}
]}"#;

#[test]
fn table_json_and_yaml_as_helm_prints_them() {
    let (endpoint, requests) = serve("200 OK", RESULTS);
    let out = rudder(&[
        "search",
        "hub",
        "nginx",
        "web server",
        "--endpoint",
        &endpoint,
    ]);
    assert!(out.status.success(), "{out:?}");
    // search.go: p.Path = path.Join(p.Path, SearchPath); p.RawQuery = "q=" +
    // url.QueryEscape(term), the keywords joined by a space (search_hub.go run()); the
    // User-Agent is version.GetUserAgent(), "Helm/" and the version without its "v".
    let request = requests.recv().unwrap();
    assert_eq!(
        request.target,
        "/api/chartsvc/v1/charts/search?q=nginx+web+server"
    );
    assert_eq!(request.user_agent, "Helm/4.2.3");
    // search_hub.go newHubSearchWriter: the URL is artifactHub.packageUrl when set, else
    // ENDPOINT/charts/ID; WriteTable: uitable with MaxColWidth 50 (default of
    // --max-col-width), cells padded and tab-separated, a cell over 50 characters cut to 47
    // and "..."; EncodeTable adds a final line break.
    let monocular_url = format!("{endpoint}/charts/stable/nginx-ingress");
    let url_width = monocular_url.len().max(50);
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w - s.chars().count()));
    let cut_description = "An nginx Ingress controller that uses ConfigMap...";
    let expected = format!(
        "{}\t{}\t{}\t{}\n{}\t{}\t{}\t{}\n{}\t{}\t{}\t{}\n",
        pad("URL", url_width),
        "CHART VERSION",
        "APP VERSION",
        pad("DESCRIPTION", 50),
        pad(
            "https://artifacthub.io/packages/helm/bitnami/nginx",
            url_width
        ),
        pad("22.0.7", 13),
        pad("1.29.1", 11),
        pad("NGINX Open Source is a web server & <proxy>", 50),
        pad(&monocular_url, url_width),
        pad("1.41.3", 13),
        pad("v0.34.1", 11),
        pad(cut_description, 50),
    );
    assert_eq!(stdout(&out), expected);

    // --list-repo-url adds the REPO URL column; --max-col-width narrows every column.
    let out = rudder(&[
        "search",
        "hub",
        "--endpoint",
        &endpoint,
        "--list-repo-url",
        "--max-col-width",
        "20",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        requests.recv().unwrap().target,
        "/api/chartsvc/v1/charts/search?q="
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "URL                 \tCHART VERSION\tAPP VERSION\tDESCRIPTION         \tREPO URL            "
    );
    assert_eq!(
        lines[1],
        "https://artifacth...\t22.0.7       \t1.29.1     \tNGINX Open Source...\thttps://charts.bi..."
    );

    // -o json: output.EncodeJSON of []hubChartElement, fields in struct order (url, version,
    // app_version, description, repository{url, name}), Go's HTML escaping, one line.
    let out = rudder(&["search", "hub", "--endpoint", &endpoint, "-o", "json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        format!(
            concat!(
                r#"[{{"url":"https://artifacthub.io/packages/helm/bitnami/nginx","version":"22.0.7","app_version":"1.29.1","#,
                r#""description":"NGINX Open Source is a web server \u0026 \u003cproxy\u003e","#,
                r#""repository":{{"url":"https://charts.bitnami.com/bitnami","name":"bitnami"}}}},"#,
                r#"{{"url":"{monocular_url}","version":"1.41.3","app_version":"v0.34.1","#,
                r#""description":"An nginx Ingress controller that uses ConfigMap to store the nginx configuration.","#,
                r#""repository":{{"url":"https://charts.helm.sh/stable","name":"stable"}}}}]"#,
                "\n"
            ),
            monocular_url = monocular_url
        )
    );

    // -o yaml: output.EncodeYAML (sigs.k8s.io/yaml), keys sorted.
    let out = rudder(&["search", "hub", "--endpoint", &endpoint, "-o", "yaml"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        format!(
            "- app_version: 1.29.1
  description: NGINX Open Source is a web server & <proxy>
  repository:
    name: bitnami
    url: https://charts.bitnami.com/bitnami
  url: https://artifacthub.io/packages/helm/bitnami/nginx
  version: 22.0.7
- app_version: v0.34.1
  description: An nginx Ingress controller that uses ConfigMap to store the nginx
    configuration.
  repository:
    name: stable
    url: https://charts.helm.sh/stable
  url: {monocular_url}
  version: 1.41.3
"
        )
    );
}

#[test]
fn no_results_and_failures_as_helm_reports_them() {
    let (endpoint, _requests) = serve("200 OK", r#"{"data":[]}"#);
    // WriteTable: "No results found" unless --fail-on-no-result, which fails with
    // "no results found"; encodeByFormat: an empty list, not null.
    let out = rudder(&["search", "hub", "x", "--endpoint", &endpoint]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "No results found\n");
    let out = rudder(&["search", "hub", "x", "--endpoint", &endpoint, "-o", "json"]);
    assert_eq!(stdout(&out), "[]\n");
    let out = rudder(&["search", "hub", "x", "--endpoint", &endpoint, "-o", "yaml"]);
    assert_eq!(stdout(&out), "[]\n");
    for format in ["table", "json", "yaml"] {
        let out = rudder(&[
            "search",
            "hub",
            "x",
            "--endpoint",
            &endpoint,
            "--fail-on-no-result",
            "-o",
            format,
        ]);
        assert!(!out.status.success());
        assert_eq!(stdout(&out), "");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no results found"),
            "{out:?}"
        );
    }

    // search.go: a status other than 200 is an error; search_hub.go prints only
    // `unable to perform search against %q` and logs the cause at debug level.
    let (failing, _requests) = serve("500 Internal Server Error", "boom");
    let out = rudder(&["search", "hub", "x", "--endpoint", &failing]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("unable to perform search against {failing:?}")),
        "{stderr}"
    );
    assert!(!stderr.contains("500"), "{stderr}");
    let out = rudder(&["search", "hub", "x", "--endpoint", &failing, "--debug"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("msg=\"search failed\"") && stderr.contains("500 Internal Server Error"),
        "{stderr}"
    );

    // search.go: the body is decoded and the error ignored, so a body that is not JSON is
    // no results.
    let (html, _requests) = serve("200 OK", "<html>maintenance</html>");
    let out = rudder(&["search", "hub", "x", "--endpoint", &html]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "No results found\n");

    // client.go validate(): an endpoint without a host is refused before any request.
    let out = rudder(&["search", "hub", "x", "--endpoint", "hub.example.com"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("unable to create connection to \"hub.example.com\": no hostname provided"),
        "{out:?}"
    );
}
