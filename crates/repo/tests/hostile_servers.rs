//! rudder-repo against servers that misbehave on purpose, each written here and listening
//! on loopback (issue 14, items 2, 3 and 8):
//!
//! - a registry whose tag list `Link` and blob upload `Location` point at another port:
//!   that port must never see the registry's credentials (ORAS keys credentials by host);
//! - servers that accept a connection and then say nothing, or send headers and stall the
//!   body: downloads and registry requests fail with a timeout error within their limit;
//! - a repository whose archive does not match the index's digest: nothing is stored in the
//!   content cache, and a cached file that does not match its name is not used.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rudder_repo::downloader::{content_cache_file, download_to_cache, Located};
use rudder_repo::getter::{self, GetOptions};
use rudder_repo::oci::{Client, ClientOptions};

/// One request as a test server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
}

/// What a test server answers: status line, extra headers and body.
struct Answer {
    status: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn new(status: &'static str) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    fn header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Answer {
        self.body = body.into();
        self
    }
}

type Handler = dyn Fn(&Seen) -> Answer + Send + Sync;

/// An HTTP/1.1 server on a loopback port, one request per connection, recording every
/// request. Returns its `127.0.0.1:port` and the record.
fn serve(handler: Box<Handler>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            if let Some(request) = read_request(&stream) {
                record.lock().unwrap().push(request.clone());
                let answer = handler(&request);
                let mut out = stream;
                let mut head = format!(
                    "HTTP/1.1 {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                    answer.status,
                    answer.body.len()
                );
                for (k, v) in &answer.headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = out.write_all(head.as_bytes());
                let _ = out.write_all(&answer.body);
            }
        }
    });
    (addr, seen)
}

/// Reads a request's line, headers and (Content-Length) body.
fn read_request(stream: &TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let mut parts = first.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut authorization = None;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
        let (name, value) = line.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value.trim().to_string()),
            "content-length" => length = value.trim().parse().ok()?,
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        authorization,
    })
}

/// A folder of its own under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rudder-hostile-{name}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A registry client with explicit credentials and an empty credentials file, so the only
/// credential it holds is the registry's.
fn client(name: &str) -> Client {
    let dir = scratch(name);
    // Docker's own config is a fallback of the credentials store: point it at nothing.
    std::env::set_var("DOCKER_CONFIG", dir.join("docker"));
    Client::new(ClientOptions {
        plain_http: true,
        username: "alice".into(),
        password: "s3cret".into(),
        credentials_file: dir.join("config.json"),
        timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    })
    .unwrap()
}

const ALICE: &str = "Basic YWxpY2U6czNjcmV0";

/// The registry answers without credentials with a Basic challenge, as a real one does.
fn challenge_unless_authorized(seen: &Seen) -> Option<Answer> {
    if seen.authorization.as_deref() == Some(ALICE) {
        None
    } else {
        Some(Answer::new("401 Unauthorized").header("WWW-Authenticate", "Basic realm=\"test\""))
    }
}

fn assert_no_credentials(seen: &[Seen], what: &str) {
    assert!(!seen.is_empty(), "{what}: the other host was never asked");
    for s in seen {
        assert_eq!(
            s.authorization, None,
            "{what}: {} {} carried the registry's credentials",
            s.method, s.path
        );
    }
}

#[test]
fn tag_list_link_to_another_host_gets_no_credentials() {
    // The other host lists a tag (it is followed) or asks for credentials (not answered).
    for other_asks in [false, true] {
        let (other, other_seen) = serve(Box::new(move |_| {
            if other_asks {
                Answer::new("401 Unauthorized")
                    .header("WWW-Authenticate", "Basic realm=\"elsewhere\"")
            } else {
                Answer::new("200 OK").body(r#"{"name":"charts/demo","tags":["2.0.0"]}"#)
            }
        }));
        let (registry, registry_seen) = serve(Box::new(move |seen| {
            challenge_unless_authorized(seen).unwrap_or_else(|| {
                Answer::new("200 OK")
                    .header(
                        "Link",
                        format!(
                            "<http://{other}/v2/charts/demo/tags/list?last=1.0.0>; rel=\"next\""
                        ),
                    )
                    .body(r#"{"name":"charts/demo","tags":["1.0.0"]}"#)
            })
        }));
        let result = client("link").tags(&format!("{registry}/charts/demo"));
        if other_asks {
            let e = result.unwrap_err();
            assert!(
                matches!(e, rudder_repo::oci::Error::NoBasicCredential { .. }),
                "{e}"
            );
        } else {
            assert_eq!(result.unwrap(), ["2.0.0", "1.0.0"]);
        }
        // The registry itself did get them.
        assert!(registry_seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.authorization.as_deref() == Some(ALICE)));
        assert_no_credentials(&other_seen.lock().unwrap(), "Link");
    }
}

/// A chart archive (`demo` 0.1.0) as `helm package` lays it out.
fn chart_archive() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let chart = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n";
    let mut header = tar::Header::new_gnu();
    header.set_path("demo/Chart.yaml").unwrap();
    header.set_size(chart.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, &chart[..]).unwrap();
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

#[test]
fn upload_location_on_another_host_gets_no_credentials() {
    let (other, other_seen) = serve(Box::new(|seen| {
        if seen.method == "PUT" {
            Answer::new("201 Created")
        } else {
            Answer::new("401 Unauthorized").header("WWW-Authenticate", "Basic realm=\"elsewhere\"")
        }
    }));
    let (registry, registry_seen) = serve(Box::new(move |seen| {
        if let Some(challenge) = challenge_unless_authorized(seen) {
            return challenge;
        }
        match seen.method.as_str() {
            "HEAD" => Answer::new("404 Not Found"),
            "POST" => Answer::new("202 Accepted")
                .header("Location", format!("http://{other}/upload/session-1")),
            "PUT" => Answer::new("201 Created"),
            _ => Answer::new("405 Method Not Allowed"),
        }
    }));
    client("location")
        .push(
            &chart_archive(),
            None,
            &format!("{registry}/charts/demo:0.1.0"),
            "2024-01-01T00:00:00Z",
        )
        .unwrap();
    let other_seen = other_seen.lock().unwrap();
    assert!(other_seen.iter().all(|s| s.method == "PUT"));
    assert_no_credentials(&other_seen, "Location");
    // The manifest went to the registry, with the credentials.
    assert!(registry_seen
        .lock()
        .unwrap()
        .iter()
        .any(|s| s.method == "PUT"
            && s.path == "/v2/charts/demo/manifests/0.1.0"
            && s.authorization.as_deref() == Some(ALICE)));
}

/// A server that accepts connections and then stalls: it says nothing at all, or sends
/// the response's headers and then never the body it announced. Connections are kept
/// open until the test process ends.
fn stalling_server(send_headers: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if send_headers {
                let _ = read_request(&stream);
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\napiVersion: v1\n");
            }
            held.push(stream);
        }
    });
    addr
}

#[test]
fn stalled_downloads_time_out() {
    for send_headers in [false, true] {
        let addr = stalling_server(send_headers);
        let url = format!("http://{addr}/index.yaml");
        let start = Instant::now();
        let e = getter::get(
            &url,
            &GetOptions {
                timeout: Duration::from_secs(1),
                ..GetOptions::default()
            },
        )
        .unwrap_err();
        let took = start.elapsed();
        assert_eq!(
            e.to_string(),
            format!("failed to fetch {url} : timed out: the request did not complete within 1s"),
            "headers sent: {send_headers}"
        );
        assert!(took < Duration::from_secs(5), "took {took:?}");
    }
}

#[test]
fn stalled_registry_requests_time_out() {
    for send_headers in [false, true] {
        let addr = stalling_server(send_headers);
        let client = Client::new(ClientOptions {
            plain_http: true,
            timeout: Duration::from_secs(1),
            credentials_file: scratch("stall").join("config.json"),
            ..ClientOptions::default()
        })
        .unwrap();
        let start = Instant::now();
        let e = client.tags(&format!("{addr}/charts/demo")).unwrap_err();
        let took = start.elapsed();
        assert_eq!(
            e.to_string(),
            format!(
                "GET \"http://{addr}/v2/charts/demo/tags/list\": timed out: the request did not complete within 1s"
            ),
            "headers sent: {send_headers}"
        );
        assert!(took < Duration::from_secs(5), "took {took:?}");
    }
}

#[test]
fn the_default_timeout_is_helms() {
    assert_eq!(getter::DEFAULT_TIMEOUT, Duration::from_secs(120));
    assert_eq!(
        GetOptions::default().effective_timeout(),
        Duration::from_secs(120)
    );
    assert_eq!(getter::go_duration(Duration::from_secs(120)), "2m0s");
    assert_eq!(getter::go_duration(Duration::from_millis(1500)), "1.5s");
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn content_cache_stores_only_what_matches_the_digest() {
    let served = chart_archive();
    let body = served.clone();
    let (addr, _) = serve(Box::new(move |_| Answer::new("200 OK").body(body.clone())));
    let url = format!("http://{addr}/demo-0.1.0.tgz");
    let cache = scratch("cache");

    // The index claims another digest: refused, nothing stored.
    let claimed = sha256_hex(b"something else");
    let located = Located {
        url: url.clone(),
        digest: claimed.clone(),
        options: GetOptions::default(),
    };
    let e = download_to_cache(&cache, &located).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "failed to download {url}: digest mismatch: the index says sha256:{claimed}, the download is sha256:{}",
            sha256_hex(&served)
        )
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);

    // The right digest: stored under it.
    let digest = sha256_hex(&served);
    let located = Located {
        url,
        digest: format!("sha256:{digest}"),
        options: GetOptions::default(),
    };
    let path = download_to_cache(&cache, &located).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), served);

    // A file planted under that name with other content is not used, but replaced.
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16).unwrap();
    }
    assert_eq!(path, content_cache_file(&cache, &key));
    std::fs::write(&path, b"planted").unwrap();
    let again = download_to_cache(&cache, &located).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), served);
}
