//! TLS for the SQL driver's connection, with the settings Helm's PostgreSQL client takes.
//!
//! Helm v4.2.3 hands `HELM_DRIVER_SQL_CONNECTION_STRING` to lib/pq v1.12.3 (through sqlx),
//! which reads `sslmode`, `sslrootcert`, `sslcert` and `sslkey` from the string, or else from
//! `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT` and `PGSSLKEY` (lib/pq's connector.go, ssl.go).
//! The `postgres` crate knows only `sslmode=disable|prefer|require` and refuses options it
//! does not know, so these settings are taken out of the string here (the rest is passed on
//! untouched) and applied through rustls (tokio-postgres-rustls):
//!
//! | `sslmode` | TLS | server certificate |
//! | --- | --- | --- |
//! | `disable` | never | - |
//! | `allow`, `prefer` | when the server offers it | as `require` |
//! | `require` (lib/pq's default, where libpq's is `prefer`) | always | not checked; with a root certificate file, as `verify-ca` |
//! | `verify-ca` | always | signed by `sslrootcert` (else the system's roots) |
//! | `verify-full` | always | as `verify-ca`, and issued for the host connected to |
//!
//! As lib/pq: `sslrootcert` defaults to `~/.postgresql/root.crt` when that file exists;
//! `sslrootcert=system` means the system's roots and is only allowed with `verify-full`
//! (its default then); a client certificate comes from `sslcert`/`sslkey`, by default
//! `~/.postgresql/postgresql.crt` and `.key` when they exist, and the key must not be
//! readable by others (0600, or 0640 when owned by root); a Unix socket never uses TLS.
//!
//! Where lib/pq is weaker, rudder is safer: an `sslrootcert` or `sslcert` named explicitly
//! but missing is an error (lib/pq then goes on without it, unverified or without a client
//! certificate); `allow` tries TLS first (lib/pq first tries in the clear); and `prefer`
//! falls back to the clear only when the server has no TLS, not when its certificate fails
//! the check (lib/pq falls back on any TLS failure).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::Error;

/// What the connection string (and environment) ask of TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Settings {
    pub mode: Mode,
    pub roots: Roots,
    /// `sslcert` and `sslkey`: the client certificate (PEM) and its key.
    pub client: Option<(PathBuf, PathBuf)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The certificate authorities the server's certificate is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Roots {
    /// None given: `require` and `prefer` do not check; the verify modes use the system's.
    Unset,
    /// `sslrootcert=system`.
    System,
    /// A PEM file.
    File(PathBuf),
}

/// lib/pq's names for the modes, in its order (for the error listing them).
const MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-full",
    "verify-ca",
];

const TLS_KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

impl Settings {
    /// The `postgres` crate's mode: whether TLS may be skipped.
    pub fn ssl_mode(&self) -> SslMode {
        match self.mode {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        }
    }

    /// For error messages: the mode and the CA file in force.
    pub fn describe(&self) -> String {
        let mode = match self.mode {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        };
        match &self.roots {
            Roots::Unset => format!("sslmode={mode}"),
            Roots::System => format!("sslmode={mode}, sslrootcert=system"),
            Roots::File(path) => format!("sslmode={mode}, sslrootcert={}", path.display()),
        }
    }
}

/// Splits the TLS settings out of a connection string (a `postgres://` URL or libpq's
/// `key=value` list); returns the rest of the string and the settings, completed from the
/// environment and the home folder as lib/pq completes them.
pub(crate) fn split(connection: &str) -> Result<(String, Settings), Error> {
    let (rest, pairs) =
        if connection.starts_with("postgres://") || connection.starts_with("postgresql://") {
            split_url(connection)
        } else {
            split_key_values(connection)?
        };
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".postgresql"));
    let settings = resolve(&pairs, |key| std::env::var(key).ok(), home.as_deref())?;
    Ok((rest, settings))
}

/// The settings from the pairs found in the string, then from `env` (lib/pq's lower
/// precedence), then the files lib/pq looks for in `home` (`~/.postgresql`).
fn resolve(
    pairs: &[(String, String)],
    env: impl Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Settings, Error> {
    let setting = |key: &str, variable: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| env(variable))
            .filter(|v| !v.is_empty())
    };
    let mode_given = setting("sslmode", "PGSSLMODE");
    let mut mode = match mode_given.as_deref() {
        None | Some("require") => Mode::Require,
        Some("disable") => Mode::Disable,
        Some("allow") | Some("prefer") => Mode::Prefer,
        Some("verify-ca") => Mode::VerifyCa,
        Some("verify-full") => Mode::VerifyFull,
        Some(other) => {
            let (last, first) = MODES.split_last().unwrap_or((&"", &[]));
            return Err(Error::Other(format!(
                "wrong value for \"sslmode\": {other:?} is not supported; supported values are {}, or {last}",
                first.join(", ")
            )));
        }
    };
    let roots = match setting("sslrootcert", "PGSSLROOTCERT") {
        Some(system) if system == "system" => {
            if mode_given.is_none() {
                mode = Mode::VerifyFull;
            }
            if mode != Mode::VerifyFull {
                return Err(Error::Other(format!(
                    "weak sslmode {:?} may not be used with sslrootcert=system (use \"verify-full\")",
                    mode_given.unwrap_or_default()
                )));
            }
            Roots::System
        }
        Some(file) => Roots::File(PathBuf::from(file)),
        None => match home.map(|h| h.join("root.crt")) {
            Some(default) if mode != Mode::Disable && default.is_file() => Roots::File(default),
            _ => Roots::Unset,
        },
    };
    let client = match setting("sslcert", "PGSSLCERT") {
        Some(cert) => Some(PathBuf::from(cert)),
        None => home
            .map(|h| h.join("postgresql.crt"))
            .filter(|c| c.is_file()),
    };
    let client = match client {
        None => None,
        Some(cert) => {
            let key = setting("sslkey", "PGSSLKEY")
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join("postgresql.key")))
                .ok_or_else(|| {
                    Error::Other(format!(
                        "sslcert {} is given without sslkey",
                        cert.display()
                    ))
                })?;
            Some((cert, key))
        }
    };
    Ok(Settings {
        mode,
        roots,
        client,
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|&h| hex(h)),
            bytes.get(i + 2).and_then(|&l| hex(l)),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let key = percent_decode(key);
        if TLS_KEYS.contains(&key.as_str()) {
            taken.push((key, percent_decode(value)));
        } else {
            kept.push(part);
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, taken)
}

/// libpq's `key = value` list: values may be single-quoted, with `\` escaping.
fn split_key_values(text: &str) -> Result<(String, Vec<(String, String)>), Error> {
    let bad = || Error::Other(format!("invalid connection string {text:?}"));
    let mut chars = text.chars().peekable();
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(bad());
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next().ok_or_else(bad)? {
                    '\'' => break,
                    '\\' => value.push(chars.next().ok_or_else(bad)?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.push(chars.next().ok_or_else(bad)?);
                } else {
                    value.push(c);
                }
            }
        }
        if TLS_KEYS.contains(&key.as_str()) {
            taken.push((key, value));
        } else {
            let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
            kept.push(format!("{key}='{quoted}'"));
        }
    }
    Ok((kept.join(" "), taken))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| {
            Error::Other(format!(
                "could not read {what} file {}: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Other(format!(
            "could not read {what} file {}: no PEM certificate in it",
            path.display()
        )));
    }
    Ok(certs)
}

fn root_store(roots: &Roots) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            for cert in read_certificates(path, "root certificate")? {
                store.add(cert).map_err(|e| {
                    Error::Other(format!("root certificate file {}: {e}", path.display()))
                })?;
            }
        }
        Roots::System | Roots::Unset => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A system certificate rustls cannot use is skipped, as Go's pool skips it.
                let _ = store.add(cert);
            }
            if store.is_empty() {
                return Err(Error::Other(
                    "no system root certificates to verify the server with: set sslrootcert".into(),
                ));
            }
        }
    }
    Ok(store)
}

/// lib/pq's check of a client key's permissions: no access beyond the owner's read and
/// write, or the group's read when root owns the file.
#[cfg(unix)]
fn check_key_permissions(key: &Path) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(key).map_err(|e| {
        Error::Other(format!(
            "could not read client key file {}: {e}",
            key.display()
        ))
    })?;
    let mode = meta.mode() & 0o777;
    if mode & !0o600 == 0 || (meta.uid() == 0 && mode & !0o640 == 0) {
        return Ok(());
    }
    Err(Error::Other(format!(
        "client key file {} has group or world access ({mode:o}); permissions should be u=rw (0600), or u=rw,g=r (0640) if owned by root, or less",
        key.display()
    )))
}

#[cfg(not(unix))]
fn check_key_permissions(_key: &Path) -> Result<(), Error> {
    Ok(())
}

/// The rustls client configuration for `settings` (not called for `disable`).
pub(crate) fn client_config(settings: &Settings) -> Result<rustls::ClientConfig, Error> {
    let provider = provider();
    let verify_chain = match settings.mode {
        Mode::VerifyCa | Mode::VerifyFull => true,
        _ => settings.roots != Roots::Unset,
    };
    let verifier: Arc<dyn ServerCertVerifier> = if verify_chain {
        let webpki = WebPkiServerVerifier::builder_with_provider(
            Arc::new(root_store(&settings.roots)?),
            provider.clone(),
        )
        .build()
        .map_err(|e| Error::Other(format!("TLS configuration: {e}")))?;
        if settings.mode == Mode::VerifyFull {
            webpki
        } else {
            Arc::new(ChainOnly(webpki))
        }
    } else {
        Arc::new(Unverified(provider.clone()))
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Other(format!("TLS configuration: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let Some((cert, key)) = &settings.client else {
        return Ok(builder.with_no_client_auth());
    };
    let chain = read_certificates(cert, "client certificate")?;
    check_key_permissions(key)?;
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Error::Other(format!(
            "could not read client key file {}: {e}",
            key.display()
        ))
    })?;
    builder
        .with_client_auth_cert(chain, private_key)
        .map_err(|e| Error::Other(format!("client certificate {}: {e}", cert.display())))
}

/// A few words on what a TLS failure means, for the connection error.
pub(crate) fn explain(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let mut cause = Some(error);
    while let Some(mut e) = cause {
        // An io::Error's source is its inner error's source: look at the inner one itself.
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            e = inner;
        }
        if let Some(rustls::Error::InvalidCertificate(reason)) = e.downcast_ref::<rustls::Error>() {
            return Some(match reason {
                CertificateError::UnknownIssuer => {
                    "the server's certificate is not signed by a trusted certificate authority (sslrootcert)"
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    "the server's certificate was not issued for the host connected to (sslmode=verify-full checks it)"
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "the server's certificate has expired"
                }
                _ => "the server's certificate was refused",
            });
        }
        cause = e.source();
    }
    None
}

/// `verify-ca` (and `require` with a root certificate): the chain must lead to a trusted
/// root; the name it was issued for is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` and `prefer` without a root certificate: encrypted, the server not
/// authenticated (libpq's and lib/pq's meaning); the handshake signatures are still checked
/// against the certificate presented.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn tls_settings_come_out_of_both_forms() {
        let (rest, taken) = split_url(
            "postgres://u@127.0.0.1:5432/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.crt&application_name=x",
        );
        assert_eq!(rest, "postgres://u@127.0.0.1:5432/db?application_name=x");
        assert_eq!(
            taken,
            pairs(&[("sslmode", "verify-full"), ("sslrootcert", "/tmp/ca.crt")])
        );
        let (rest, taken) = split_key_values(
            "host=127.0.0.1 port = 5432 user=u sslmode='verify-ca' sslrootcert='/a b/ca.pem' password='it\\'s'",
        )
        .unwrap();
        assert_eq!(
            rest,
            "host='127.0.0.1' port='5432' user='u' password='it\\'s'"
        );
        assert_eq!(
            taken,
            pairs(&[("sslmode", "verify-ca"), ("sslrootcert", "/a b/ca.pem")])
        );
        assert!(split_key_values("host=h user").is_err());
        assert!(split_key_values("host='unterminated").is_err());
    }

    #[test]
    fn modes_follow_lib_pq() {
        // lib/pq's default is require (libpq's is prefer).
        let s = resolve(&[], no_env, None).unwrap();
        assert_eq!((s.mode, s.ssl_mode()), (Mode::Require, SslMode::Require));
        let s = resolve(&pairs(&[("sslmode", "disable")]), no_env, None).unwrap();
        assert_eq!(s.ssl_mode(), SslMode::Disable);
        // allow is taken as prefer: TLS first (safer than lib/pq's clear first).
        let s = resolve(&pairs(&[("sslmode", "allow")]), no_env, None).unwrap();
        assert_eq!(s.ssl_mode(), SslMode::Prefer);
        let e = resolve(&pairs(&[("sslmode", "sometimes")]), no_env, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "wrong value for \"sslmode\": \"sometimes\" is not supported; supported values are disable, allow, prefer, require, verify-full, or verify-ca"
        );
        // The string wins over the environment, which fills in what the string lacks.
        let env = |k: &str| match k {
            "PGSSLMODE" => Some("verify-ca".to_string()),
            "PGSSLROOTCERT" => Some("/etc/ca.pem".to_string()),
            _ => None,
        };
        let s = resolve(&pairs(&[("sslmode", "verify-full")]), env, None).unwrap();
        assert_eq!(s.mode, Mode::VerifyFull);
        assert_eq!(s.roots, Roots::File("/etc/ca.pem".into()));
        // sslrootcert=system: verify-full by default, and nothing weaker.
        let s = resolve(&pairs(&[("sslrootcert", "system")]), no_env, None).unwrap();
        assert_eq!((s.mode, s.roots), (Mode::VerifyFull, Roots::System));
        let e = resolve(
            &pairs(&[("sslrootcert", "system"), ("sslmode", "require")]),
            no_env,
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "weak sslmode \"require\" may not be used with sslrootcert=system (use \"verify-full\")"
        );
    }

    #[test]
    fn files_in_home_are_used_when_they_exist() {
        let home = std::env::temp_dir().join(format!("rudder-pq-home-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let s = resolve(&[], no_env, Some(&home)).unwrap();
        assert_eq!((s.roots.clone(), s.client.clone()), (Roots::Unset, None));
        std::fs::write(home.join("root.crt"), "").unwrap();
        std::fs::write(home.join("postgresql.crt"), "").unwrap();
        let s = resolve(&[], no_env, Some(&home)).unwrap();
        assert_eq!(s.roots, Roots::File(home.join("root.crt")));
        assert_eq!(
            s.client,
            Some((home.join("postgresql.crt"), home.join("postgresql.key")))
        );
        // Not for a connection without TLS.
        let s = resolve(&pairs(&[("sslmode", "disable")]), no_env, Some(&home)).unwrap();
        assert_eq!(s.roots, Roots::Unset);
        std::fs::remove_dir_all(&home).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_client_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("rudder-pq-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("client.key");
        std::fs::write(&key, "").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        check_key_permissions(&key).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = check_key_permissions(&key).unwrap_err().to_string();
        assert!(e.contains("has group or world access (644)"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
