//! `helm search hub`'s client: Artifact Hub's Monocular-compatible search API (Helm v4.2.3's
//! internal/monocular), so `--endpoint` may name Artifact Hub or any instance of that API.
//!
//! The answer is read as Go's `encoding/json` reads it into Helm's structs, which is more
//! forgiving than a typed serde model: a field of the wrong type is left empty and decoding
//! goes on, field names match case-insensitively, anything after the first JSON value is
//! ignored, and a body that is not JSON at all gives no results (Helm drops the decoding
//! error). Hence the hand-written walk over a [`serde_json::Value`] below.
//!
//! The endpoint is checked as Helm's `monocular.validate` checks it (a URL with a host); the
//! search path is joined to the endpoint's path as Go's `path.Join` does. A URL parser crate
//! would follow WHATWG's rules, not Go's `net/url`, so the few steps Helm takes are written
//! here. Unlike Helm (Go's `http.DefaultClient` has no timeout and reads any size), a search
//! gives up after the getter's 120 s and refuses answers over [`MAX_RESPONSE_BYTES`].

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

use crate::getter::{DEFAULT_TIMEOUT, HELM_VERSION};

/// Helm's `monocular.SearchPath`, joined to the endpoint's path.
pub const SEARCH_PATH: &str = "api/chartsvc/v1/charts/search";

/// The largest answer read (Helm has no limit; a search page of Artifact Hub is a few
/// hundred kilobytes).
pub const MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// Why a hub search failed, with Helm's words.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The endpoint is not a URL with a host (`monocular.New`).
    #[error("unable to create connection to {endpoint:?}: {reason}")]
    Endpoint { endpoint: String, reason: String },
    /// The request failed or the server answered other than 200. Helm prints only this and
    /// logs the cause at debug level; the cause is kept in `reason`.
    #[error("unable to perform search against {endpoint:?}")]
    Search { endpoint: String, reason: String },
}

impl HubError {
    /// What went wrong underneath (Helm's debug log line: `search failed`).
    pub fn cause(&self) -> &str {
        match self {
            HubError::Endpoint { reason, .. } | HubError::Search { reason, .. } => reason,
        }
    }
}

/// One search result, the fields Helm reads from Monocular's `SearchResult`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubResult {
    pub id: String,
    /// `artifactHub.packageUrl`: the chart's page on Artifact Hub, when the hub is one.
    pub package_url: String,
    pub description: String,
    pub repo_name: String,
    pub repo_url: String,
    /// `relationships.latestChartVersion.data.version`.
    pub version: String,
    /// `relationships.latestChartVersion.data.app_version`.
    pub app_version: String,
}

/// The scheme, host and path of an endpoint as Go's `url.Parse` splits them (query and
/// fragment dropped: the search sets its own query, and a fragment is never sent).
struct Endpoint<'a> {
    scheme: &'a str,
    authority: &'a str,
    path: &'a str,
}

fn parse_endpoint(endpoint: &str) -> Result<Endpoint<'_>, String> {
    let before_fragment = endpoint.split('#').next().unwrap_or("");
    let without_query = before_fragment.split('?').next().unwrap_or("");
    // Go's getScheme: letters first, then letters, digits, `+`, `-`, `.`, up to `:`.
    let (scheme, rest) = match without_query.find(':') {
        Some(i)
            if i > 0
                && without_query[..i].starts_with(|c: char| c.is_ascii_alphabetic())
                && without_query[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            (&without_query[..i], &without_query[i + 1..])
        }
        Some(0) => return Err("missing protocol scheme".to_string()),
        _ => ("", without_query),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        },
        None => ("", rest),
    };
    // Hostname(): the authority without user information and port.
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let hostname = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if hostname.is_empty() {
        return Err("no hostname provided".to_string());
    }
    Ok(Endpoint {
        scheme,
        authority,
        path,
    })
}

/// Go's `path.Join(base, SEARCH_PATH)`: the elements joined by `/`, then `path.Clean`.
fn join_search_path(base: &str) -> String {
    let joined = if base.is_empty() {
        SEARCH_PATH.to_string()
    } else {
        format!("{base}/{SEARCH_PATH}")
    };
    let rooted = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let cleaned = parts.join("/");
    if rooted {
        format!("/{cleaned}")
    } else {
        cleaned
    }
}

/// Go's `url.QueryEscape`: unreserved bytes kept, a space as `+`, the rest `%XX`.
fn query_escape(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for byte in term.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The URL Helm's `Client.Search` requests for `term` at `endpoint`.
pub fn search_url(endpoint: &str, term: &str) -> Result<String, HubError> {
    let parsed = parse_endpoint(endpoint).map_err(|reason| HubError::Endpoint {
        endpoint: endpoint.to_string(),
        reason,
    })?;
    let mut path = join_search_path(parsed.path);
    // url.URL.String(): a path that does not start with `/` gets one after a host.
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let scheme = if parsed.scheme.is_empty() {
        String::new()
    } else {
        format!("{}:", parsed.scheme)
    };
    Ok(format!(
        "{scheme}//{}{path}?q={}",
        parsed.authority,
        query_escape(term)
    ))
}

/// Searches `endpoint` for `term` (the keywords joined by spaces), as `helm search hub` does.
pub fn search(endpoint: &str, term: &str) -> Result<Vec<HubResult>, HubError> {
    search_with_timeout(endpoint, term, DEFAULT_TIMEOUT)
}

/// [`search`] with another time limit for the whole request.
pub fn search_with_timeout(
    endpoint: &str,
    term: &str,
    timeout: Duration,
) -> Result<Vec<HubResult>, HubError> {
    let url = search_url(endpoint, term)?;
    let failed = |reason: String| HubError::Search {
        endpoint: endpoint.to_string(),
        reason,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .user_agent(format!("Helm/{}", HELM_VERSION.trim_start_matches('v')))
        .build()
        .into();
    let mut response = agent
        .get(&url)
        .call()
        .map_err(|e| failed(format!("Get {url:?}: {e}")))?;
    let status = response.status();
    if status.as_u16() != 200 {
        return Err(failed(format!(
            "failed to fetch {url} : {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )));
    }
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(MAX_RESPONSE_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| failed(format!("reading {url}: {e}")))?;
    if body.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(failed(format!(
            "failed to fetch {url} : response larger than {MAX_RESPONSE_BYTES} bytes"
        )));
    }
    Ok(parse_results(&body))
}

/// A member of a JSON object as encoding/json finds a struct field: the exact name, else
/// one that matches ignoring case.
fn member<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    let map = object.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The string at `path` below `object`; empty where a step is missing or not of its type.
fn string_at(object: &Value, path: &[&str]) -> String {
    let mut at = object;
    for name in path {
        match member(at, name) {
            Some(next) => at = next,
            None => return String::new(),
        }
    }
    at.as_str().unwrap_or("").to_string()
}

/// The results of a search answer (`{"data": [...]}`), read as Helm reads them.
pub fn parse_results(body: &[u8]) -> Vec<HubResult> {
    // Go decodes invalid UTF-8 in strings to U+FFFD rather than failing.
    let text = String::from_utf8_lossy(body);
    let Some(Ok(document)) = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .next()
    else {
        return Vec::new();
    };
    let Some(data) = member(&document, "data").and_then(Value::as_array) else {
        return Vec::new();
    };
    data.iter()
        .map(|r| HubResult {
            id: string_at(r, &["id"]),
            package_url: string_at(r, &["artifactHub", "packageUrl"]),
            description: string_at(r, &["attributes", "description"]),
            repo_name: string_at(r, &["attributes", "repo", "name"]),
            repo_url: string_at(r, &["attributes", "repo", "url"]),
            version: string_at(
                r,
                &["relationships", "latestChartVersion", "data", "version"],
            ),
            app_version: string_at(
                r,
                &["relationships", "latestChartVersion", "data", "app_version"],
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_url_joins_the_path_as_go_does() {
        // internal/monocular/search.go: p.Path = path.Join(p.Path, SearchPath);
        // p.RawQuery = "q=" + url.QueryEscape(term).
        assert_eq!(
            search_url("https://hub.helm.sh", "nginx").unwrap(),
            "https://hub.helm.sh/api/chartsvc/v1/charts/search?q=nginx"
        );
        assert_eq!(
            search_url("http://127.0.0.1:8080/hub/./x/../", "a b&c/ü").unwrap(),
            "http://127.0.0.1:8080/hub/api/chartsvc/v1/charts/search?q=a+b%26c%2F%C3%BC"
        );
        assert_eq!(
            search_url("http://u:p@h/?x=1#f", "").unwrap(),
            "http://u:p@h/api/chartsvc/v1/charts/search?q="
        );
    }

    #[test]
    fn an_endpoint_without_a_host_is_refused_with_helms_words() {
        // internal/monocular/client.go: validate() returns ErrHostnameNotProvided;
        // pkg/cmd/search_hub.go wraps it as `unable to create connection to %q: %w`.
        for endpoint in ["hub.helm.sh", "http://", "file:///tmp/x", "http://:80/"] {
            assert_eq!(
                search_url(endpoint, "x").unwrap_err().to_string(),
                format!("unable to create connection to {endpoint:?}: no hostname provided")
            );
        }
    }

    #[test]
    fn results_are_read_as_encoding_json_reads_them() {
        let body = br#"{"data":[
            {"id":"stable/a","attributes":{"description":"A","repo":{"name":"stable","url":"https://r"}},
             "relationships":{"latestChartVersion":{"data":{"version":"1.0.0","app_version":"2"}}}},
            {"ID":"other/b","artifactHub":{"packageUrl":"https://hub/b"},
             "attributes":{"description":7}},
            null
        ]} trailing garbage"#;
        let results = parse_results(body);
        assert_eq!(results.len(), 3);
        assert_eq!(
            results[0],
            HubResult {
                id: "stable/a".into(),
                package_url: String::new(),
                description: "A".into(),
                repo_name: "stable".into(),
                repo_url: "https://r".into(),
                version: "1.0.0".into(),
                app_version: "2".into(),
            }
        );
        // Case-insensitive field names; a number where a string belongs stays empty.
        assert_eq!(results[1].id, "other/b");
        assert_eq!(results[1].package_url, "https://hub/b");
        assert_eq!(results[1].description, "");
        // A null element is a zero-valued result, as Go appends one.
        assert_eq!(results[2], HubResult::default());
        // Not JSON, or no `data` array: no results (Helm ignores the decoding error).
        assert!(parse_results(b"<html>").is_empty());
        assert!(parse_results(br#"{"data":{"id":"x"}}"#).is_empty());
    }

    #[test]
    fn a_server_that_never_answers_times_out() {
        // Helm's http.DefaultClient would wait for ever; rudder gives up after its limit.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Hold the connection open without answering until the test ends.
            let (stream, _) = listener.accept().unwrap();
            let _ = rx.recv();
            drop(stream);
        });
        let started = std::time::Instant::now();
        let error = search_with_timeout(&endpoint, "x", Duration::from_millis(500)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(
            error.to_string(),
            format!("unable to perform search against {endpoint:?}")
        );
        assert!(
            error.cause().contains("timeout") || error.cause().contains("timed out"),
            "{}",
            error.cause()
        );
        let _ = tx.send(());
    }
}
