//! `helm registry login/logout`, `helm push`, and the OCI side of `helm pull`: charts in OCI
//! registries through rudder-repo's registry client, with Helm's messages.

use std::path::Path;

use rudder_repo::oci::{self, Client, ClientOptions};
use rudder_repo::HelmPaths;

use crate::Error;

/// The connection flags the registry commands share (`--plain-http`, TLS files,
/// `--insecure-skip-tls-verify`/`--insecure`, `--username`/`--password`).
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    pub plain_http: bool,
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub insecure_skip_tls_verify: bool,
    pub username: String,
    pub password: String,
}

/// Helm's `newRegistryClient`: the flags, and the credentials of Helm's registry config.
pub(crate) fn client(paths: &HelmPaths, options: &RegistryOptions) -> Result<Client, Error> {
    Client::new(ClientOptions {
        plain_http: options.plain_http,
        ca_file: options.ca_file.clone(),
        cert_file: options.cert_file.clone(),
        key_file: options.key_file.clone(),
        insecure_skip_tls_verify: options.insecure_skip_tls_verify,
        username: options.username.clone(),
        password: options.password.clone(),
        credentials_file: paths.registry_config.clone(),
        ..ClientOptions::default()
    })
    .map_err(|e| Error::context(format!("missing registry client: {e}"), e))
}

/// `helm registry login HOST`: checks the credentials with the registry and saves them in
/// Helm's registry config. Returns what Helm prints (`Login Succeeded`).
pub fn registry_login(
    paths: &HelmPaths,
    host: &str,
    username: &str,
    password: &str,
    options: &RegistryOptions,
) -> Result<String, Error> {
    let mut c = client(
        paths,
        &RegistryOptions {
            username: String::new(),
            password: String::new(),
            ..options.clone()
        },
    )?;
    Ok(c.login(host, username, password)?)
}

/// `helm registry logout HOST`. Returns what Helm prints.
pub fn registry_logout(paths: &HelmPaths, host: &str) -> Result<String, Error> {
    Ok(client(paths, &RegistryOptions::default())?.logout(host)?)
}

/// `helm push CHART.tgz oci://host/path`: uploads the archive (and `CHART.tgz.prov` when it
/// exists) as `host/path/<name>:<version>`. Returns what Helm prints (`Pushed:`, `Digest:`).
pub fn push(
    paths: &HelmPaths,
    chart_path: &str,
    remote: &str,
    options: &RegistryOptions,
) -> Result<String, Error> {
    let Some((scheme, rest)) = remote.split_once("://") else {
        return Err(Error::message(
            "scheme prefix missing from remote (e.g. \"oci://\")",
        ));
    };
    if scheme != oci::OCI_SCHEME {
        return Err(Error::message(format!("scheme {scheme:?} not supported")));
    }
    let path = Path::new(chart_path);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::message(format!("{chart_path}: no such file")))
        }
        Err(e) => return Err(Error::io(e)),
    };
    if meta.is_dir() {
        return Err(Error::message(
            "cannot push directory, must provide chart archive (.tgz)",
        ));
    }
    let data = std::fs::read(path).map_err(Error::io)?;
    let chart = rudder_chart::load_archive(&data).map_err(|e| Error::message(e.to_string()))?;
    // A provenance file beside the archive goes along; one that is there but unreadable fails.
    let prov_path = format!("{chart_path}.prov");
    let prov = if std::fs::metadata(&prov_path).is_ok() {
        Some(std::fs::read(&prov_path).map_err(Error::io)?)
    } else {
        None
    };
    // Helm dates the artifact with the archive's modification time, RFC 3339 in local time.
    let modified: chrono::DateTime<chrono::Local> = meta
        .modified()
        .unwrap_or_else(|_| std::time::SystemTime::now())
        .into();
    let created = modified.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let base = rest.trim_end_matches('/');
    let reference = format!("{base}/{}:{}", chart.metadata.name, chart.metadata.version);
    let result = client(paths, options)?.push(&data, prov.as_deref(), &reference, &created)?;
    Ok(result.output)
}

/// A chart fetched from a registry.
pub(crate) struct OciChart {
    /// `<name>-<version>.tgz`, as Helm names the saved archive.
    pub file_name: String,
    pub data: Vec<u8>,
    /// What Helm prints (`Pulled:`, `Digest:`; twice when the provenance file is pulled too,
    /// as Helm pulls it with a second request).
    pub output: String,
    /// The provenance layer, when asked for and found.
    pub prov: Option<Vec<u8>>,
    /// Why the provenance layer could not be had, when asked for.
    pub prov_error: Option<String>,
    /// What Helm names the provenance file in its errors (`oci://REF.prov`).
    pub prov_url: String,
}

impl OciChart {
    /// The provenance file `--verify` needs, or Helm's error without it.
    pub fn required_prov(&self) -> Result<&[u8], Error> {
        self.prov.as_deref().ok_or_else(|| {
            Error::message(format!("failed to fetch provenance {:?}", self.prov_url))
        })
    }
}

/// The OCI side of Helm's `ChartDownloader`: `reference` at `version` fetched through
/// [`oci::fetch::fetch_chart`] with a client made of `options` and Helm's registry config.
pub(crate) fn fetch_oci_chart_with_prov(
    paths: &HelmPaths,
    reference: &str,
    version: &str,
    options: &RegistryOptions,
    with_prov: bool,
) -> Result<OciChart, Error> {
    let client = client(paths, options)?;
    let fetched = oci::fetch::fetch_chart(&client, reference, version, with_prov)?;
    Ok(OciChart {
        file_name: fetched.file_name,
        data: fetched.data,
        output: fetched.output,
        prov: fetched.prov,
        prov_error: fetched.prov_error.map(|e| e.to_string()),
        prov_url: fetched.prov_url,
    })
}
