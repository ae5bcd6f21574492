//! A registry client for charts over the OCI distribution API, behaving as Helm's
//! `registry.Client` (which uses ORAS): the same requests' outcomes, the same messages
//! (`Pushed:`/`Pulled:`/`Digest:`), and errors worded as ORAS words them
//! (`GET "<url>": response status code 401: unauthorized: authentication required`).
//!
//! Authentication follows the registry's `WWW-Authenticate` challenge: `Basic` sends the
//! credentials; `Bearer` fetches a token from the challenge's realm (the distribution token
//! protocol, a GET with the credentials as basic auth) for the needed scopes. Credentials come
//! from explicit `--username/--password`, else Helm's registry config (see
//! [`super::credentials`]).
//!
//! The integration tests run against real registries with basic authentication; the bearer
//! path (challenge parsing, realm checks, token request) has unit tests of its parts but no
//! token server to run against yet. ORAS's OAuth2 (POST) token request is not implemented.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use rudder_semver::{Constraints, Version};
use rudder_value::json::from_json;
use rudder_value::Value;
use ureq::http;

use super::credentials::{Credential, Store};
use super::error::Error;
use super::manifest::{annotations, config_json, manifest_json, Descriptor};
use super::{
    base64_encode, field, sha256_digest, Reference, CHART_LAYER_MEDIA_TYPE, CONFIG_MEDIA_TYPE,
    IMAGE_INDEX_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, LEGACY_CHART_LAYER_MEDIA_TYPE,
    PROV_LAYER_MEDIA_TYPE, UNDERSCORE_MESSAGE,
};
use crate::getter::{self, GetOptions};

/// Largest manifest accepted (ORAS caps manifests at 4 MiB).
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// How to reach registries.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// `--plain-http`: HTTP instead of HTTPS.
    pub plain_http: bool,
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    /// `--insecure` / `--insecure-skip-tls-verify`.
    pub insecure_skip_tls_verify: bool,
    /// Explicit credentials (`--username`/`--password`); used only when both are set.
    pub username: String,
    pub password: String,
    /// Helm's registry config file.
    pub credentials_file: PathBuf,
    /// How long one request (connecting, sending, the response and its body) may take;
    /// zero means [`getter::DEFAULT_TIMEOUT`]. Helm's registry client has no such limit
    /// (only its dialer's), so a registry that stalls would hang it; rudder gives up.
    pub timeout: Duration,
}

/// What a push stored.
#[derive(Clone, Debug)]
pub struct PushResult {
    /// `host/repo:tag`.
    pub reference: String,
    pub manifest: Descriptor,
    pub config: Descriptor,
    pub chart: Descriptor,
    pub prov: Option<Descriptor>,
    /// What Helm prints: `Pushed: ...`, `Digest: ...` and the underscore note if any.
    pub output: String,
}

/// What a pull fetched.
#[derive(Clone, Debug)]
pub struct PullResult {
    /// `host/repo:tag`.
    pub reference: String,
    pub manifest_digest: String,
    /// The config blob (the chart's metadata as JSON).
    pub config: Vec<u8>,
    pub chart: Option<Vec<u8>>,
    pub prov: Option<Vec<u8>>,
    /// What Helm prints: `Pulled: ...`, `Digest: ...` and the underscore note if any.
    pub output: String,
}

pub(super) struct Response {
    pub(super) status: u16,
    headers: http::HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Response {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: String,
        scope: String,
    },
    Other,
}

/// Parses the first challenge of a `WWW-Authenticate` header.
pub fn parse_challenge(header: &str) -> Challenge {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Challenge::Basic,
        "bearer" => {
            let params = parse_params(rest);
            let get = |k: &str| params.get(k).cloned().unwrap_or_default();
            Challenge::Bearer {
                realm: get("realm"),
                service: get("service"),
                scope: get("scope"),
            }
        }
        _ => Challenge::Other,
    }
}

/// `key="value", key=token, ...` (quoted values may hold commas and escaped quotes).
fn parse_params(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    out
}

/// Go's `http.StatusText` for the codes registries answer with.
fn status_text(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        416 => "Requested Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Go's `%v` of a JSON value (maps as `map[k:v]`, sorted keys).
fn go_value(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => rudder_value::json::format_json_float(*f),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(d) => {
            let parts: Vec<String> = d
                .snapshot()
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_value(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        other => other.as_str().unwrap_or_default().to_string(),
    }
}

/// ORAS's `ErrorResponse` text: the method, the quoted URL, the status and the registry's
/// error list (`code in lower case: message[: detail]`), or Go's status text.
pub(super) fn status_error(method: &'static str, url: &str, resp: &Response) -> Error {
    let mut details = Vec::new();
    if let Ok(Value::Map(d)) = from_json(&String::from_utf8_lossy(&resp.body)) {
        if let Some(errors) = d
            .get("errors")
            .and_then(|e| e.to_list().map(|l| l.to_vec()))
        {
            for e in errors {
                let text = |k: &str| field(&e, k).and_then(|v| v.as_str().map(str::to_string));
                let code: String = text("code")
                    .unwrap_or_default()
                    .chars()
                    .map(|c| {
                        if c == '_' {
                            ' '
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect();
                let message = text("message").unwrap_or_default();
                let detail = field(&e, "detail").filter(|d| !d.is_nil());
                details.push(match (message.is_empty(), detail) {
                    (true, _) => code,
                    (false, None) => format!("{code}: {message}"),
                    (false, Some(d)) => format!("{code}: {message}: {}", go_value(&d)),
                });
            }
        }
    }
    let text = if details.is_empty() {
        status_text(resp.status).to_string()
    } else {
        details.join("; ")
    };
    Error::Status {
        method,
        url: url.to_string(),
        status: resp.status,
        text,
    }
}

/// A client for one command run; remembers the authorization each host asked for.
pub struct Client {
    options: ClientOptions,
    agent: ureq::Agent,
    store: Store,
    /// Authorization header per host (basic) or host and scopes (bearer).
    auth_cache: RefCell<HashMap<String, String>>,
    /// A credential that overrides everything else (set by login).
    login_credential: Option<Credential>,
}

/// The host API requests go to (`docker.io` is served by `registry-1.docker.io`).
fn api_host(registry: &str) -> &str {
    if registry == "docker.io" {
        "registry-1.docker.io"
    } else {
        registry
    }
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Client, Error> {
        let tls = getter::tls_config(&GetOptions {
            ca_file: options.ca_file.clone(),
            cert_file: options.cert_file.clone(),
            key_file: options.key_file.clone(),
            insecure_skip_tls_verify: options.insecure_skip_tls_verify,
            ..Default::default()
        })
        .map_err(|e| Error::TlsConfig(Box::new(e)))?;
        let timeout = if options.timeout.is_zero() {
            getter::DEFAULT_TIMEOUT
        } else {
            options.timeout
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(timeout))
            .user_agent(format!(
                "Helm/{}",
                getter::HELM_VERSION.trim_start_matches('v')
            ))
            .build()
            .into();
        let store = Store::new(options.credentials_file.clone());
        Ok(Client {
            options,
            agent,
            store,
            auth_cache: RefCell::new(HashMap::new()),
            login_credential: None,
        })
    }

    /// The distribution API's address of a manifest (by tag or digest) in `r`'s repository.
    pub(super) fn manifest_url(&self, r: &Reference, reference: &str) -> String {
        format!(
            "{}/v2/{}/manifests/{reference}",
            self.base_url(&r.registry),
            r.repository
        )
    }

    /// The distribution API's address of a blob in `r`'s repository.
    fn blob_url(&self, r: &Reference, digest: &str) -> String {
        format!(
            "{}/v2/{}/blobs/{digest}",
            self.base_url(&r.registry),
            r.repository
        )
    }

    fn base_url(&self, registry: &str) -> String {
        let scheme = if self.options.plain_http {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}", api_host(registry))
    }

    /// The credential for requests to `host` (`host[:port]` of the URL) made on behalf of
    /// `registry`. Explicit and login credentials belong to the registry's own host only (as
    /// ORAS's static credential); any other host gets what the credentials file holds for it.
    fn credential(&self, registry: &str, host: &str) -> Result<Option<Credential>, Error> {
        if !same_host(host, api_host(registry)) {
            return self.store.get(host);
        }
        if let Some(c) = &self.login_credential {
            return Ok(Some(c.clone()));
        }
        if !self.options.username.is_empty() && !self.options.password.is_empty() {
            return Ok(Some(Credential {
                username: self.options.username.clone(),
                password: self.options.password.clone(),
            }));
        }
        self.store.get(registry)
    }

    fn raw(
        &self,
        method: &'static str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
        limit: u64,
    ) -> Result<Response, Error> {
        let mut builder = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            builder = builder.header(*k, v);
        }
        let result = match body {
            Some(data) => builder
                .body(data)
                .map_err(|e| Error::BadRequest(e.to_string()))
                .map(|r| self.agent.run(r)),
            None => builder
                .body(())
                .map_err(|e| Error::BadRequest(e.to_string()))
                .map(|r| self.agent.run(r)),
        }?;
        let timeout = self.agent.config().timeouts().global.unwrap_or_default();
        let mut response = result.map_err(|e| Error::Request {
            method,
            url: url.to_string(),
            reason: getter::request_error_text(&e, timeout),
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut data = Vec::new();
        if method != "HEAD" {
            response
                .body_mut()
                .with_config()
                .limit(limit + 1)
                .reader()
                .take(limit + 1)
                .read_to_end(&mut data)
                .map_err(|e| Error::Request {
                    method,
                    url: url.to_string(),
                    reason: getter::io_error_text(&e, timeout),
                })?;
            if data.len() as u64 > limit {
                return Err(Error::TooLarge {
                    method,
                    url: url.to_string(),
                    limit,
                });
            }
        }
        Ok(Response {
            status,
            headers,
            body: data,
        })
    }

    /// Sends a request to `registry`, answering its authentication challenge once.
    // The request's parts are passed as they are built at each call site.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send(
        &self,
        registry: &str,
        scopes: &[String],
        method: &'static str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
        limit: u64,
    ) -> Result<Response, Error> {
        // Authorizations are kept per host the request goes to, never per registry: a
        // `Link` or `Location` the registry hands back may name another host, which must
        // not see this registry's credentials or tokens.
        let host = url_host(url).ok_or_else(|| Error::InvalidUrl {
            method,
            url: url.to_string(),
        })?;
        let scope_key = format!("{host} {}", scopes.join(" "));
        let cached = {
            let cache = self.auth_cache.borrow();
            cache.get(&scope_key).or_else(|| cache.get(&host)).cloned()
        };
        let mut all_headers: Vec<(&str, String)> = headers.to_vec();
        if let Some(auth) = &cached {
            all_headers.push(("Authorization", auth.clone()));
        }
        let resp = self.raw(method, url, &all_headers, body, limit)?;
        if resp.status != 401 {
            return Ok(resp);
        }
        let challenge = resp
            .header("www-authenticate")
            .map(parse_challenge)
            .unwrap_or(Challenge::Other);
        let (key, auth) = match challenge {
            Challenge::Basic => {
                let Some(cred) = self.credential(registry, &host)? else {
                    return Err(Error::NoBasicCredential {
                        method,
                        url: url.to_string(),
                    });
                };
                if cred.username.is_empty() || cred.password.is_empty() {
                    return Err(Error::IncompleteBasicCredential {
                        method,
                        url: url.to_string(),
                    });
                }
                let value = format!(
                    "Basic {}",
                    base64_encode(format!("{}:{}", cred.username, cred.password).as_bytes())
                );
                (host.clone(), value)
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let mut all_scopes: Vec<String> = Vec::new();
                for s in scope.split(' ').chain(scopes.iter().map(String::as_str)) {
                    if !s.is_empty() && !all_scopes.iter().any(|x| x == s) {
                        all_scopes.push(s.to_string());
                    }
                }
                let token = self.fetch_token(registry, &host, &realm, &service, &all_scopes)?;
                (scope_key, format!("Bearer {token}"))
            }
            Challenge::Other => return Ok(resp),
        };
        if cached.as_deref() == Some(auth.as_str()) {
            // The registry refused what it asked for: report its answer.
            return Ok(resp);
        }
        self.auth_cache.borrow_mut().insert(key, auth.clone());
        let mut retry: Vec<(&str, String)> = headers.to_vec();
        retry.push(("Authorization", auth));
        self.raw(method, url, &retry, body, limit)
    }

    /// The distribution token protocol: GET `realm?service=...&scope=...`, with the
    /// credentials as basic auth when there are any.
    fn fetch_token(
        &self,
        registry: &str,
        host: &str,
        realm: &str,
        service: &str,
        scopes: &[String],
    ) -> Result<String, Error> {
        if realm.is_empty() {
            return Err(Error::NoRealm {
                registry: registry.to_string(),
            });
        }
        validate_realm(realm, self.options.plain_http, host)?;
        let mut query = Vec::new();
        if !service.is_empty() {
            query.push(format!("service={}", query_escape(service)));
        }
        for s in scopes {
            query.push(format!("scope={}", query_escape(s)));
        }
        let url = if query.is_empty() {
            realm.to_string()
        } else {
            let sep = if realm.contains('?') { '&' } else { '?' };
            format!("{realm}{sep}{}", query.join("&"))
        };
        let mut headers = Vec::new();
        if let Some(cred) = self.credential(registry, host)? {
            if !cred.username.is_empty() || !cred.password.is_empty() {
                headers.push((
                    "Authorization",
                    format!(
                        "Basic {}",
                        base64_encode(format!("{}:{}", cred.username, cred.password).as_bytes())
                    ),
                ));
            }
        }
        let resp = self.raw("GET", &url, &headers, None, MAX_MANIFEST_BYTES)?;
        if resp.status != 200 {
            return Err(status_error("GET", &url, &resp));
        }
        let body = from_json(&String::from_utf8_lossy(&resp.body)).map_err(|source| {
            Error::TokenResponse {
                url: url.clone(),
                source,
            }
        })?;
        for key in ["access_token", "token"] {
            if let Some(t) = field(&body, key).and_then(|v| v.as_str().map(str::to_string)) {
                if !t.is_empty() {
                    return Ok(t);
                }
            }
        }
        Err(Error::EmptyToken { url })
    }

    /// `helm registry login`: checks the credentials against `GET /v2/` and stores them.
    /// Returns what Helm prints.
    pub fn login(&mut self, host: &str, username: &str, password: &str) -> Result<String, Error> {
        let registry = host.to_string();
        if registry.contains('/') || registry.is_empty() {
            return Err(Error::InvalidReference {
                part: "registry",
                value: registry,
            });
        }
        self.login_credential = Some(Credential {
            username: username.to_string(),
            password: password.to_string(),
        });
        self.auth_cache.borrow_mut().clear();
        let url = format!("{}/v2/", self.base_url(&registry));
        let resp = self
            .send(&registry, &[], "GET", &url, &[], None, MAX_MANIFEST_BYTES)
            .map_err(|e| Error::Authenticating {
                host: host.to_string(),
                source: Box::new(e),
            })?;
        if resp.status != 200 {
            return Err(Error::Authenticating {
                host: host.to_string(),
                source: Box::new(status_error("GET", &url, &resp)),
            });
        }
        self.store.put(
            &registry,
            &Credential {
                username: username.to_string(),
                password: password.to_string(),
            },
        )?;
        Ok("Login Succeeded\n".into())
    }

    /// `helm registry logout`: forgets the host's stored credentials. Returns what Helm prints.
    pub fn logout(&self, host: &str) -> Result<String, Error> {
        self.store.remove(host)?;
        Ok(format!("Removing login credentials for {host}\n"))
    }

    fn blob_exists(
        &self,
        r: &Reference,
        scopes: &[String],
        desc: &Descriptor,
    ) -> Result<bool, Error> {
        let url = self.blob_url(r, &desc.digest);
        let resp = self.send(&r.registry, scopes, "HEAD", &url, &[], None, 0)?;
        match resp.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(status_error("HEAD", &url, &resp)),
        }
    }

    pub(super) fn upload_blob(
        &self,
        r: &Reference,
        scopes: &[String],
        desc: &Descriptor,
        data: &[u8],
    ) -> Result<(), Error> {
        if self.blob_exists(r, scopes, desc)? {
            return Ok(());
        }
        let base = self.base_url(&r.registry);
        let url = format!("{base}/v2/{}/blobs/uploads/", r.repository);
        let resp = self.send(&r.registry, scopes, "POST", &url, &[], Some(&[]), 1 << 16)?;
        if resp.status != 202 {
            return Err(status_error("POST", &url, &resp));
        }
        let location = resp
            .header("location")
            .ok_or_else(|| Error::MissingLocation { url: url.clone() })?;
        let location = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{base}{location}")
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put_url = format!("{location}{sep}digest={}", query_escape(&desc.digest));
        let headers = [
            ("Content-Type", "application/octet-stream".to_string()),
            ("Content-Length", data.len().to_string()),
        ];
        let resp = self.send(
            &r.registry,
            scopes,
            "PUT",
            &put_url,
            &headers,
            Some(data),
            1 << 16,
        )?;
        if resp.status != 201 {
            return Err(status_error("PUT", &put_url, &resp));
        }
        Ok(())
    }

    /// `helm push` of a chart archive (and its provenance file) to `reference`
    /// (`host/repo/name:version`; `+` becomes `_` in the tag). `created` is the RFC 3339
    /// creation time for the annotations (Helm uses the archive's modification time).
    pub fn push(
        &self,
        chart: &[u8],
        prov: Option<&[u8]>,
        reference: &str,
        created: &str,
    ) -> Result<PushResult, Error> {
        let r = Reference::parse(reference)?;
        let meta = rudder_chart::load_archive(chart)
            .map_err(Error::Chart)?
            .metadata;
        if !reference.ends_with(&format!("/{}:{}", meta.name, meta.version)) {
            return Err(Error::StrictMode);
        }
        let chart_desc = Descriptor::of(CHART_LAYER_MEDIA_TYPE, chart);
        let config = config_json(&meta);
        let config_desc = Descriptor::of(CONFIG_MEDIA_TYPE, config.as_bytes());
        let mut layers = vec![(chart_desc.clone(), chart)];
        let prov_desc = prov.map(|p| Descriptor::of(PROV_LAYER_MEDIA_TYPE, p));
        if let (Some(d), Some(p)) = (&prov_desc, prov) {
            layers.push((d.clone(), p));
        }
        let layer_descs: Vec<Descriptor> = layers.iter().map(|(d, _)| d.clone()).collect();
        let manifest = manifest_json(&config_desc, &layer_descs, &annotations(&meta, created));
        let manifest_desc = Descriptor::of(IMAGE_MANIFEST_MEDIA_TYPE, manifest.as_bytes());

        let scopes = vec![format!("repository:{}:pull,push", r.repository)];
        // As ORAS: is the manifest already there?
        let exists_url = self.manifest_url(&r, &manifest_desc.digest);
        let resp = self
            .send(
                &r.registry,
                &scopes,
                "HEAD",
                &exists_url,
                &[("Accept", IMAGE_MANIFEST_MEDIA_TYPE.to_string())],
                None,
                0,
            )
            .map_err(|e| Error::Exists(Box::new(e)))?;
        match resp.status {
            200 | 404 => {}
            _ => {
                return Err(Error::Exists(Box::new(status_error(
                    "HEAD",
                    &exists_url,
                    &resp,
                ))))
            }
        }
        if resp.status == 404 {
            self.upload_blob(&r, &scopes, &config_desc, config.as_bytes())?;
            for (desc, data) in &layers {
                self.upload_blob(&r, &scopes, desc, data)?;
            }
        }
        let tag = if r.tag.is_empty() {
            manifest_desc.digest.clone()
        } else {
            r.tag.clone()
        };
        self.put_manifest(&r, &scopes, &tag, &manifest)?;
        let reference = r.to_string();
        let mut output = format!("Pushed: {reference}\nDigest: {}\n", manifest_desc.digest);
        if r.tag.contains('_') {
            output.push_str(&format!(
                "{reference} contains an underscore.\n{UNDERSCORE_MESSAGE}\n"
            ));
        }
        Ok(PushResult {
            reference,
            manifest: manifest_desc,
            config: config_desc,
            chart: chart_desc,
            prov: prov_desc,
            output,
        })
    }

    /// Stores `manifest` (an OCI image manifest) under `tag` in `r`'s repository.
    pub(super) fn put_manifest(
        &self,
        r: &Reference,
        scopes: &[String],
        tag: &str,
        manifest: &str,
    ) -> Result<(), Error> {
        let url = self.manifest_url(r, tag);
        let resp = self.send(
            &r.registry,
            scopes,
            "PUT",
            &url,
            &[("Content-Type", IMAGE_MANIFEST_MEDIA_TYPE.to_string())],
            Some(manifest.as_bytes()),
            1 << 16,
        )?;
        if resp.status != 201 {
            return Err(status_error("PUT", &url, &resp));
        }
        Ok(())
    }

    pub(super) fn fetch_blob(
        &self,
        r: &Reference,
        scopes: &[String],
        desc: &Descriptor,
    ) -> Result<Vec<u8>, Error> {
        let url = self.blob_url(r, &desc.digest);
        let resp = self.send(
            &r.registry,
            scopes,
            "GET",
            &url,
            &[],
            None,
            desc.size.clamp(1, getter::DEFAULT_MAX_BYTES),
        )?;
        if resp.status != 200 {
            return Err(Error::Blob {
                digest: desc.digest.clone(),
                source: Box::new(status_error("GET", &url, &resp)),
            });
        }
        if resp.body.len() as u64 != desc.size || sha256_digest(&resp.body) != desc.digest {
            return Err(Error::BlobMismatch {
                digest: desc.digest.clone(),
            });
        }
        Ok(resp.body)
    }

    /// `helm pull` of `reference` (`host/repo/name:tag` or `@digest`): the manifest, its
    /// config and the chart layer (and the provenance layer when `with_prov`).
    pub fn pull(
        &self,
        reference: &str,
        with_chart: bool,
        with_prov: bool,
    ) -> Result<PullResult, Error> {
        let r = Reference::parse(reference)?;
        let scopes = vec![format!("repository:{}:pull", r.repository)];
        let url = self.manifest_url(&r, r.reference());
        let accept = manifest_accept();
        let fail = |e: Error| Error::FetchReference(Box::new(e));
        let resp = self
            .send(
                &r.registry,
                &scopes,
                "GET",
                &url,
                &[("Accept", accept)],
                None,
                MAX_MANIFEST_BYTES,
            )
            .map_err(fail)?;
        match resp.status {
            200 => {}
            404 => {
                return Err(fail(Error::NotFound {
                    reference: r.to_string(),
                }))
            }
            _ => return Err(fail(status_error("GET", &url, &resp))),
        }
        let manifest_digest = sha256_digest(&resp.body);
        let expected = if r.digest.is_empty() {
            resp.header("docker-content-digest").map(str::to_string)
        } else {
            Some(r.digest.clone())
        };
        if let Some(expected) = expected.filter(|d| d.starts_with("sha256:")) {
            if expected != manifest_digest {
                return Err(fail(Error::DigestMismatch {
                    reference: r.to_string(),
                    actual: manifest_digest,
                    expected,
                }));
            }
        }
        let manifest = from_json(&String::from_utf8_lossy(&resp.body)).map_err(|source| {
            Error::InvalidManifest {
                reference: r.to_string(),
                source,
            }
        })?;
        let media_type = field(&manifest, "mediaType")
            .and_then(|v| v.as_str().map(str::to_string))
            .or_else(|| resp.header("content-type").map(str::to_string))
            .unwrap_or_default();
        if media_type.starts_with(IMAGE_INDEX_MEDIA_TYPE) || field(&manifest, "manifests").is_some()
        {
            return Err(Error::ImageIndex {
                reference: r.to_string(),
            });
        }
        let descriptor = |v: &Value| -> Option<Descriptor> {
            Some(Descriptor {
                media_type: field(v, "mediaType")?.as_str()?.to_string(),
                digest: field(v, "digest")?.as_str()?.to_string(),
                size: match field(v, "size")? {
                    Value::Float(f) if f >= 0.0 => f as u64,
                    Value::Int(i) | Value::Int64(i) if i >= 0 => i as u64,
                    _ => return None,
                },
            })
        };
        let mut allowed = vec![CONFIG_MEDIA_TYPE];
        if with_chart {
            allowed.extend([CHART_LAYER_MEDIA_TYPE, LEGACY_CHART_LAYER_MEDIA_TYPE]);
        }
        if with_prov {
            allowed.push(PROV_LAYER_MEDIA_TYPE);
        }
        // The manifest itself counts, as in Helm's tally of copied nodes.
        let mut descriptors = vec![Descriptor::of(IMAGE_MANIFEST_MEDIA_TYPE, &resp.body)];
        if let Some(c) = field(&manifest, "config").as_ref().and_then(descriptor) {
            descriptors.push(c);
        }
        for layer in field(&manifest, "layers")
            .and_then(|l| l.to_list().map(|l| l.to_vec()))
            .unwrap_or_default()
        {
            if let Some(d) = descriptor(&layer) {
                descriptors.push(d);
            }
        }
        let mut warning = String::new();
        allowed.push(IMAGE_MANIFEST_MEDIA_TYPE);
        descriptors.retain(|d| allowed.contains(&d.media_type.as_str()));
        let minimum = 1 + usize::from(with_chart) + usize::from(with_prov);
        if descriptors.len() < minimum {
            return Err(Error::TooFewDescriptors {
                minimum,
                found: descriptors.len(),
            });
        }
        let (mut config, mut chart, mut prov) = (None, None, None);
        for d in descriptors.into_iter().skip(1) {
            match d.media_type.as_str() {
                CONFIG_MEDIA_TYPE => config = Some(d),
                CHART_LAYER_MEDIA_TYPE => chart = Some(d),
                PROV_LAYER_MEDIA_TYPE => prov = Some(d),
                LEGACY_CHART_LAYER_MEDIA_TYPE => {
                    warning = format!(
                        "Warning: chart media type {LEGACY_CHART_LAYER_MEDIA_TYPE} is deprecated\n"
                    );
                    chart = Some(d)
                }
                _ => {}
            }
        }
        let config = config.ok_or(Error::NoConfig)?;
        if with_chart && chart.is_none() {
            return Err(Error::MissingLayer {
                media_type: CHART_LAYER_MEDIA_TYPE,
            });
        }
        if with_prov && prov.is_none() {
            return Err(Error::MissingLayer {
                media_type: PROV_LAYER_MEDIA_TYPE,
            });
        }
        let config_data = self.fetch_blob(&r, &scopes, &config)?;
        from_json(&String::from_utf8_lossy(&config_data)).map_err(|source| {
            Error::InvalidConfig {
                reference: r.to_string(),
                source,
            }
        })?;
        let chart_data = match (&chart, with_chart) {
            (Some(d), true) => Some(self.fetch_blob(&r, &scopes, d)?),
            _ => None,
        };
        let prov_data = match (&prov, with_prov) {
            (Some(d), true) => Some(self.fetch_blob(&r, &scopes, d)?),
            _ => None,
        };
        let reference = r.to_string();
        let mut output = format!("{warning}Pulled: {reference}\nDigest: {manifest_digest}\n");
        if reference.contains('_') {
            output.push_str(&format!(
                "{reference} contains an underscore.\n{UNDERSCORE_MESSAGE}\n"
            ));
        }
        Ok(PullResult {
            reference,
            manifest_digest,
            config: config_data,
            chart: chart_data,
            prov: prov_data,
            output,
        })
    }

    /// Helm's `Resolve`: the digest of the manifest `reference` names (a HEAD request; the
    /// manifest is fetched and hashed when the registry does not say).
    pub fn resolve(&self, reference: &str) -> Result<String, Error> {
        let r = Reference::parse(reference)?;
        let scopes = vec![format!("repository:{}:pull", r.repository)];
        let url = self.manifest_url(&r, r.reference());
        let accept = manifest_accept();
        let resp = self.send(
            &r.registry,
            &scopes,
            "HEAD",
            &url,
            &[("Accept", accept.clone())],
            None,
            0,
        )?;
        match resp.status {
            200 => {}
            404 => {
                return Err(Error::NotFound {
                    reference: r.to_string(),
                })
            }
            _ => return Err(status_error("HEAD", &url, &resp)),
        }
        if let Some(d) = resp.header("docker-content-digest") {
            return Ok(d.to_string());
        }
        let resp = self.send(
            &r.registry,
            &scopes,
            "GET",
            &url,
            &[("Accept", accept)],
            None,
            MAX_MANIFEST_BYTES,
        )?;
        if resp.status != 200 {
            return Err(status_error("GET", &url, &resp));
        }
        Ok(sha256_digest(&resp.body))
    }

    /// The repository's tags that are strict semantic versions (`_` read as `+`), newest
    /// first, as Helm lists them.
    pub fn tags(&self, repository_ref: &str) -> Result<Vec<String>, Error> {
        let r = Reference::parse(repository_ref)?;
        let scopes = vec![format!("repository:{}:pull", r.repository)];
        let base = self.base_url(&r.registry);
        let mut url = format!("{base}/v2/{}/tags/list", r.repository);
        let mut versions: Vec<Version> = Vec::new();
        for _ in 0..1000 {
            let resp = self.send(&r.registry, &scopes, "GET", &url, &[], None, 64 << 20)?;
            if resp.status != 200 {
                return Err(status_error("GET", &url, &resp));
            }
            let body = from_json(&String::from_utf8_lossy(&resp.body)).map_err(|source| {
                Error::TagList {
                    url: url.clone(),
                    source,
                }
            })?;
            for tag in field(&body, "tags")
                .and_then(|t| t.to_list().map(|l| l.to_vec()))
                .unwrap_or_default()
            {
                if let Some(t) = tag.as_str() {
                    if let Ok(v) = Version::parse_strict(&t.replace('_', "+")) {
                        versions.push(v);
                    }
                }
            }
            match resp.header("link").and_then(next_link) {
                Some(next) if next.starts_with("http") => url = next,
                Some(next) => url = format!("{base}{next}"),
                None => break,
            }
        }
        versions.sort_by(|a, b| b.compare(a));
        Ok(versions.iter().map(|v| v.to_string()).collect())
    }
}

/// As ORAS checks a bearer realm before sending credentials to it: HTTPS, or HTTP only when
/// the registry itself is spoken to over HTTP; and a loopback, link-local, private or
/// unspecified IP address only when it is the registry's own host.
fn validate_realm(
    realm: &str,
    registry_plain_http: bool,
    registry_host: &str,
) -> Result<(), Error> {
    let (scheme, rest) = realm.split_once("://").ok_or_else(|| Error::RealmScheme {
        realm: realm.to_string(),
        scheme: String::new(),
    })?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if registry_plain_http => {}
        "http" => {
            return Err(Error::RealmDowngrade {
                realm: realm.to_string(),
            })
        }
        other => {
            return Err(Error::RealmScheme {
                realm: realm.to_string(),
                scheme: other.to_string(),
            })
        }
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hostname = |a: &str| -> String {
        if let Some(inner) = a.strip_prefix('[') {
            inner.split(']').next().unwrap_or("").to_string()
        } else {
            a.rsplit_once(':').map_or(a, |(h, _)| h).to_string()
        }
    };
    let realm_host = hostname(authority);
    if let Ok(ip) = realm_host.parse::<std::net::IpAddr>() {
        let internal = match ip {
            std::net::IpAddr::V4(v4) => {
                v4.is_loopback() || v4.is_link_local() || v4.is_private() || v4.is_unspecified()
            }
            std::net::IpAddr::V6(v6) => {
                let seg = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (seg & 0xffc0) == 0xfe80
                    || (seg & 0xff0f) == 0xff02
                    || (seg & 0xfe00) == 0xfc00
            }
        };
        if internal && realm_host != hostname(registry_host) {
            return Err(Error::RealmInternalHost { host: realm_host });
        }
    }
    Ok(())
}

/// `host[:port]` of an absolute URL, lower-cased, without user information and without the
/// scheme's default port, as credentials are keyed.
fn url_host(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if authority.is_empty() {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => "",
    };
    Some(match authority.strip_suffix(default_port) {
        Some(h) if !default_port.is_empty() && !h.ends_with(':') => h.to_string(),
        _ => authority,
    })
}

/// Whether `host` (from [`url_host`]) is the registry host `registry` (`host[:port]`).
fn same_host(host: &str, registry: &str) -> bool {
    let registry = registry.to_ascii_lowercase();
    host == registry
        || registry
            .strip_suffix(":443")
            .or_else(|| registry.strip_suffix(":80"))
            .is_some_and(|r| r == host)
}

/// The manifest media types asked for.
pub(super) fn manifest_accept() -> String {
    [
        IMAGE_MANIFEST_MEDIA_TYPE,
        IMAGE_INDEX_MEDIA_TYPE,
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
    .join(", ")
}

/// The target of a `Link: <url>; rel="next"` header.
fn next_link(header: &str) -> Option<String> {
    for part in header.split(',') {
        let (target, params) = part.split_once(';')?;
        if params.contains("rel=\"next\"") || params.contains("rel=next") {
            let t = target.trim();
            return Some(t.trim_start_matches('<').trim_end_matches('>').to_string());
        }
    }
    None
}

/// Percent-encoding of a query value (RFC 3986 unreserved characters kept).
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Helm's `GetTagMatchingVersionOrConstraint`: an exact tag first, else the first (newest)
/// tag within the constraint (`*` when empty).
pub fn tag_matching(tags: &[String], version: &str) -> Result<String, Error> {
    let constraint = if version.is_empty() {
        Constraints::parse("*").map_err(Error::Constraint)?
    } else {
        if let Some(t) = tags.iter().find(|t| *t == version) {
            return Ok(t.clone());
        }
        Constraints::parse(version).map_err(Error::Constraint)?
    };
    for t in tags {
        if let Ok(v) = Version::parse(t) {
            if constraint.check(&v) {
                return Ok(t.clone());
            }
        }
    }
    Err(Error::NoMatchingTag {
        version: version.to_string(),
    })
}

/// The chart metadata of a pulled config blob, for callers that want it.
pub fn metadata_name_version(config: &[u8]) -> Option<(String, String)> {
    let v = from_json(&String::from_utf8_lossy(config)).ok()?;
    let name = field(&v, "name")?.as_str()?.to_string();
    let version = field(&v, "version")?.as_str()?.to_string();
    Some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge("Basic realm=\"rudder-test\""),
            Challenge::Basic
        );
        assert_eq!(
            parse_challenge(
                "Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:a/b:pull,push\""
            ),
            Challenge::Bearer {
                realm: "https://auth.example.com/token".into(),
                service: "registry.example.com".into(),
                scope: "repository:a/b:pull,push".into(),
            }
        );
        assert_eq!(parse_challenge("Negotiate"), Challenge::Other);
    }

    #[test]
    fn realms_checked_before_credentials_go_there() {
        assert!(validate_realm("https://auth.example.com/token", false, "r.example.com").is_ok());
        assert!(validate_realm("http://127.0.0.1:5001/token", true, "127.0.0.1:5000").is_ok());
        assert_eq!(
            validate_realm("http://auth.example.com/token", false, "r.example.com")
                .unwrap_err()
                .to_string(),
            "bearer realm \"http://auth.example.com/token\" uses http but registry was contacted over https"
        );
        assert_eq!(
            validate_realm("https://10.0.0.1/token", false, "r.example.com")
                .unwrap_err()
                .to_string(),
            "bearer realm host \"10.0.0.1\" is a loopback, link-local, private, or unspecified address"
        );
        assert!(validate_realm("https://[::1]:8443/t", false, "[::1]:5000").is_ok());
        assert!(validate_realm("ftp://x/t", false, "r").is_err());
    }

    #[test]
    fn error_wording() {
        let resp = Response {
            status: 404,
            headers: http::HeaderMap::new(),
            body: br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"helm/nope"}}]}"#.to_vec(),
        };
        assert_eq!(
            status_error("GET", "http://h/v2/helm/nope/tags/list", &resp).to_string(),
            "GET \"http://h/v2/helm/nope/tags/list\": response status code 404: name unknown: repository name not known to registry: map[name:helm/nope]"
        );
        let resp = Response {
            status: 401,
            headers: http::HeaderMap::new(),
            body: Vec::new(),
        };
        assert_eq!(
            status_error("HEAD", "http://h/v2/", &resp).to_string(),
            "HEAD \"http://h/v2/\": response status code 401: Unauthorized"
        );
    }

    #[test]
    fn tag_selection() {
        let tags: Vec<String> = ["2.0.0-rc.1", "1.2.3+build.7", "1.0.0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(tag_matching(&tags, "").unwrap(), "1.2.3+build.7");
        assert_eq!(tag_matching(&tags, "2.0.0-rc.1").unwrap(), "2.0.0-rc.1");
        assert_eq!(tag_matching(&tags, "~1.0").unwrap(), "1.0.0");
        assert_eq!(
            tag_matching(&tags, "^3").unwrap_err().to_string(),
            "could not locate a version matching provided version string ^3"
        );
        assert_eq!(
            next_link("</v2/a/tags/list?last=x&n=2>; rel=\"next\""),
            Some("/v2/a/tags/list?last=x&n=2".into())
        );
    }
}
