//! HTTP(S) downloads as Helm's `HTTPGetter` makes them: Helm's User-Agent, basic auth only
//! for the repository's own scheme and host unless credentials are passed to all hosts
//! (`--pass-credentials`), a custom CA, client certificates, and insecure-skip-verify.
//!
//! Other schemes (`s3://`, `git+https://`, ...) go to the getter plugin that serves them,
//! as Helm's `getter.All` adds plugins to its built-in getters.
//!
//! `ureq` (blocking, rustls) does the HTTP; responses other than 200 are errors worded as
//! Helm words them.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use crate::repofile::RepoEntry;
use crate::{Error, HelmPaths};

/// The Helm version whose behaviour rudder follows, for the User-Agent.
pub const HELM_VERSION: &str = "v4.2.3";

/// Largest download accepted (Helm caps chart archives and indexes similarly).
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// Helm's `getter.DefaultHTTPTimeout`: a download that has not completed in this time fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How to fetch from one repository.
#[derive(Clone, Debug, Default)]
pub struct GetOptions {
    /// The repository URL the credentials belong to.
    pub repo_url: String,
    pub username: String,
    pub password: String,
    pub pass_credentials_all: bool,
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub insecure_skip_tls_verify: bool,
    /// 0 means [`DEFAULT_MAX_BYTES`].
    pub max_bytes: u64,
    /// How long the whole download (connecting, the response and its body) may take; zero
    /// means [`DEFAULT_TIMEOUT`] (`--timeout` of `repo add` and `repo update`).
    pub timeout: Duration,
    /// Helm's locations, for URLs a getter plugin serves (where plugins are, and the
    /// `HELM_*` settings the plugin gets), as Helm's `getter.All(settings)`; without them
    /// only http(s) is served.
    pub plugins: Option<HelmPaths>,
}

impl GetOptions {
    /// The timeout in force: [`GetOptions::timeout`], or Helm's default when it is zero.
    pub fn effective_timeout(&self) -> Duration {
        if self.timeout.is_zero() {
            DEFAULT_TIMEOUT
        } else {
            self.timeout
        }
    }
}

/// A duration as Go prints one (`2m0s`, `1.5s`, `250ms`), for error messages.
pub fn go_duration(d: Duration) -> String {
    rudder_value::goduration::format(d.as_nanos() as i128)
}

/// The text of a failed request: a timeout says which limit ran out and how long it was,
/// anything else is ureq's own text. `io` errors from reading a body may carry ureq's.
pub(crate) fn request_error_text(error: &ureq::Error, timeout: Duration) -> String {
    match error {
        ureq::Error::Timeout(ureq::Timeout::PerRead) => {
            format!("timed out: no data received for {}", go_duration(timeout))
        }
        ureq::Error::Timeout(_) => format!(
            "timed out: the request did not complete within {}",
            go_duration(timeout)
        ),
        ureq::Error::Io(e) => io_error_text(e, timeout),
        other => other.to_string(),
    }
}

/// [`request_error_text`] of an error met while reading a response body.
pub(crate) fn io_error_text(error: &std::io::Error, timeout: Duration) -> String {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<ureq::Error>())
    {
        Some(inner) => request_error_text(inner, timeout),
        None if error.kind() == std::io::ErrorKind::TimedOut => format!(
            "timed out: the request did not complete within {}",
            go_duration(timeout)
        ),
        None => error.to_string(),
    }
}

impl From<&RepoEntry> for GetOptions {
    fn from(r: &RepoEntry) -> GetOptions {
        GetOptions {
            repo_url: r.url.clone(),
            username: r.username.clone(),
            password: r.password.clone(),
            pass_credentials_all: r.pass_credentials_all,
            ca_file: r.ca_file.clone(),
            cert_file: r.cert_file.clone(),
            key_file: r.key_file.clone(),
            insecure_skip_tls_verify: r.insecure_skip_tls_verify,
            max_bytes: 0,
            timeout: Duration::ZERO,
            plugins: None,
        }
    }
}

/// `scheme://host[:port]` of a URL, lower-cased scheme, for the same-origin credential rule.
fn origin(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    Some((scheme.to_ascii_lowercase(), host.to_string()))
}

/// Whether Helm would send the credentials to `url`.
pub fn sends_credentials(url: &str, opts: &GetOptions) -> bool {
    if opts.username.is_empty() && opts.password.is_empty() {
        return false;
    }
    opts.pass_credentials_all || (origin(url).is_some() && origin(url) == origin(&opts.repo_url))
}

fn read_pem(path: &str) -> Result<Vec<PemItem<'static>>, Error> {
    let data = std::fs::read(path).map_err(|source| Error::TlsFileUnreadable {
        path: path.to_string(),
        source,
    })?;
    ureq::tls::parse_pem(&data)
        .map(|item| match item {
            Ok(PemItem::Certificate(c)) => Ok(PemItem::Certificate(c.to_owned())),
            Ok(PemItem::PrivateKey(k)) => Ok(PemItem::PrivateKey(k.to_owned())),
            Ok(_) => Err(Error::TlsFile(format!(
                "can't parse {path}: unsupported PEM item"
            ))),
            Err(e) => Err(Error::TlsFile(format!("can't parse {path}: {e}"))),
        })
        .collect()
}

pub(crate) fn tls_config(opts: &GetOptions) -> Result<TlsConfig, Error> {
    let mut tls = TlsConfig::builder().disable_verification(opts.insecure_skip_tls_verify);
    if !opts.ca_file.is_empty() {
        let certs: Vec<Certificate<'static>> = read_pem(&opts.ca_file)?
            .into_iter()
            .filter_map(|item| match item {
                PemItem::Certificate(c) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(Error::TlsFile(format!(
                "can't read CA file: {}: no certificates",
                opts.ca_file
            )));
        }
        tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    if !opts.cert_file.is_empty() && !opts.key_file.is_empty() {
        let certs: Vec<Certificate<'static>> = read_pem(&opts.cert_file)?
            .into_iter()
            .filter_map(|item| match item {
                PemItem::Certificate(c) => Some(c),
                _ => None,
            })
            .collect();
        let key: PrivateKey<'static> = read_pem(&opts.key_file)?
            .into_iter()
            .find_map(|item| match item {
                PemItem::PrivateKey(k) => Some(k),
                _ => None,
            })
            .ok_or_else(|| {
                Error::TlsFile(format!(
                    "can't load key pair from cert {} and key {}",
                    opts.cert_file, opts.key_file
                ))
            })?;
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&certs, key)));
    }
    Ok(tls.build())
}

/// The Authorization header of HTTP basic auth.
fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {credentials}")
}

/// The `Content-Type` a HEAD request for `url` answers (Helm's plugin installer asks it of
/// a URL without an archive suffix); `None` when the request fails.
pub fn head_content_type(url: &str, opts: &GetOptions) -> Option<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls_config(opts).ok()?)
        .http_status_as_error(false)
        .timeout_global(Some(opts.effective_timeout()))
        .user_agent(format!("Helm/{}", HELM_VERSION.trim_start_matches('v')))
        .build()
        .into();
    let response = agent.head(url).call().ok()?;
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The `HELM_*` settings a getter plugin's process gets (Helm's `settings.EnvVars()`),
/// those this crate knows: the locations and `HELM_BIN`. The rest (namespace, kube
/// context, ...) reach the plugin through the inherited environment when the user set them.
fn plugin_settings(paths: &HelmPaths) -> Vec<(String, String)> {
    let path = |p: &std::path::Path| p.display().to_string();
    let mut vars = vec![
        ("HELM_CACHE_HOME", path(&paths.cache_home)),
        ("HELM_CONFIG_HOME", path(&paths.config_home)),
        ("HELM_DATA_HOME", path(&paths.data_home)),
        ("HELM_PLUGINS", path(&paths.plugins)),
        ("HELM_REGISTRY_CONFIG", path(&paths.registry_config)),
        ("HELM_REPOSITORY_CACHE", path(&paths.repository_cache)),
        ("HELM_REPOSITORY_CONFIG", path(&paths.repository_config)),
        ("HELM_CONTENT_CACHE", path(&paths.content_cache)),
    ];
    if let Ok(exe) = std::env::current_exe() {
        vars.push(("HELM_BIN", path(&exe)));
    }
    vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Fetches `url` with the getter plugin serving its scheme (Helm's `getter.All`: the
/// `getter/v1` plugins under `HELM_PLUGINS`, legacy `downloaders` included).
fn get_with_plugin(scheme: &str, url: &str, opts: &GetOptions) -> Result<Vec<u8>, Error> {
    let Some(paths) = &opts.plugins else {
        return Err(Error::UnsupportedScheme(scheme.to_string()));
    };
    let dirs = rudder_plugin::split_plugin_dirs(&paths.plugins);
    let descriptor = rudder_plugin::Descriptor {
        name: String::new(),
        kind: "getter/v1".into(),
    };
    let found = rudder_plugin::find_plugins(&dirs, &descriptor)
        .map_err(|e| Error::Plugins(e.to_string()))?;
    let plugin = found
        .plugins
        .into_iter()
        .find(|p| p.serves(scheme))
        .ok_or_else(|| Error::UnsupportedScheme(scheme.to_string()))?;
    let options = rudder_plugin::GetterOptions {
        cert_file: opts.cert_file.clone(),
        key_file: opts.key_file.clone(),
        ca_file: opts.ca_file.clone(),
        username: opts.username.clone(),
        password: opts.password.clone(),
        pass_credentials_all: opts.pass_credentials_all,
    };
    plugin
        .get(url, &options, &plugin_settings(paths))
        .map_err(|e| Error::PluginFailed {
            plugin: plugin.metadata.name.clone(),
            reason: e.to_string(),
        })
}

/// The scheme of `url` when it is not one the built-in getters serve (http, https, oci).
fn plugin_scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (valid && !matches!(scheme.as_str(), "http" | "https" | "oci")).then_some(scheme)
}

/// Fetches `url` and returns its body: http(s) here, any other scheme with the getter
/// plugin that serves it.
pub fn get(url: &str, opts: &GetOptions) -> Result<Vec<u8>, Error> {
    if let Some(scheme) = plugin_scheme(url) {
        return get_with_plugin(&scheme, url, opts);
    }
    let timeout = opts.effective_timeout();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls_config(opts)?)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .user_agent(format!("Helm/{}", HELM_VERSION.trim_start_matches('v')))
        .build()
        .into();
    let mut request = agent.get(url);
    if sends_credentials(url, opts) {
        request = request.header("Authorization", basic_auth(&opts.username, &opts.password));
    }
    let mut response = request.call().map_err(|e| Error::Fetch {
        url: url.to_string(),
        reason: request_error_text(&e, timeout),
    })?;
    let status = response.status();
    if status.as_u16() != 200 {
        return Err(Error::FetchStatus {
            url: url.to_string(),
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or(""),
        });
    }
    let limit = if opts.max_bytes == 0 {
        DEFAULT_MAX_BYTES
    } else {
        opts.max_bytes
    };
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|e| Error::Fetch {
            url: url.to_string(),
            reason: io_error_text(&e, timeout),
        })?;
    if body.len() as u64 > limit {
        return Err(Error::TooLarge {
            url: url.to_string(),
            limit,
        });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    /// A one-request-per-connection HTTP server on loopback that records each request's
    /// Authorization header and answers 200 with `body` for `/ok*` paths, 404 otherwise.
    fn serve(body: &'static [u8], requests: usize) -> (String, mpsc::Receiver<(String, String)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(requests) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                reader.read_line(&mut first).unwrap();
                let path = first.split(' ').nth(1).unwrap_or("").to_string();
                let mut auth = String::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                    if let Some(v) = line
                        .strip_prefix("authorization: ")
                        .or_else(|| line.strip_prefix("Authorization: "))
                    {
                        auth = v.trim().to_string();
                    }
                }
                tx.send((path.clone(), auth)).unwrap();
                let response = if path.starts_with("/ok") {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(body);
                    r
                } else {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                };
                stream.write_all(&response).unwrap();
            }
        });
        (format!("http://{addr}"), rx)
    }

    #[test]
    fn basic_auth_encoding() {
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_auth("a", ""), "Basic YTo=");
    }

    #[test]
    fn credentials_only_for_the_repository_host() {
        let opts = GetOptions {
            repo_url: "https://charts.example.com/stable".into(),
            username: "u".into(),
            password: "p".into(),
            ..Default::default()
        };
        assert!(sends_credentials(
            "https://charts.example.com/stable/a.tgz",
            &opts
        ));
        assert!(!sends_credentials("https://cdn.example.com/a.tgz", &opts));
        assert!(!sends_credentials("http://charts.example.com/a.tgz", &opts));
        let all = GetOptions {
            pass_credentials_all: true,
            ..opts
        };
        assert!(sends_credentials("https://cdn.example.com/a.tgz", &all));
    }

    #[test]
    fn downloads_over_loopback() {
        let (base, seen) = serve(b"apiVersion: v1\n", 2);
        let opts = GetOptions {
            repo_url: base.clone(),
            username: "user".into(),
            password: "pw".into(),
            ..Default::default()
        };
        let body = get(&format!("{base}/ok/index.yaml"), &opts).unwrap();
        assert_eq!(body, b"apiVersion: v1\n");
        assert_eq!(
            seen.recv().unwrap(),
            ("/ok/index.yaml".to_string(), basic_auth("user", "pw"))
        );
        let err = get(&format!("{base}/missing.tgz"), &opts).unwrap_err();
        assert!(matches!(err, Error::FetchStatus { status: 404, .. }));
        assert_eq!(
            err.to_string(),
            format!("failed to fetch {base}/missing.tgz : 404 Not Found")
        );
    }
}
