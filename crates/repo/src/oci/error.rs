//! The errors of OCI registry operations, typed by what went wrong; the text Helm (through
//! ORAS) prints for each is its `Display`, and wrapping steps (`failed to perform
//! "FetchReference" on source: ...`) keep the inner error as their source.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A reference without a registry or a repository part.
    #[error("invalid reference: missing registry or repository")]
    MissingRegistryOrRepository,
    /// A reference without a tag or digest where one is needed (oras-go's bare
    /// `ErrInvalidReference`).
    #[error("invalid reference")]
    EmptyReference,
    /// A reference whose `part` (registry, repository, tag, digest) is malformed.
    #[error("invalid reference: invalid {part} \"{value}\"")]
    InvalidReference { part: &'static str, value: String },
    /// `push_artifact` on a reference without a tag.
    #[error("{reference}: a tag is required")]
    TagRequired { reference: String },
    /// The TLS files given for the registry do not make a TLS configuration.
    #[error("can't create TLS config for client: {0}")]
    TlsConfig(#[source] Box<crate::Error>),
    /// A request that could not be built (a URL `http` refuses).
    #[error("{0}")]
    BadRequest(String),
    /// A URL without a host.
    #[error("{method} \"{url}\": invalid URL")]
    InvalidUrl { method: &'static str, url: String },
    /// A request that got no complete answer (connection, TLS, timeout, reading the body):
    /// `reason` worded as `getter` words it (a timeout says which limit ran out).
    #[error("{method} \"{url}\": {reason}")]
    Request {
        method: &'static str,
        url: String,
        reason: String,
    },
    /// An answer over the size limit of its kind.
    #[error("{method} \"{url}\": response larger than {limit} bytes")]
    TooLarge {
        method: &'static str,
        url: String,
        limit: u64,
    },
    /// An answer with an unexpected status: `text` is the registry's error details
    /// (`code: message`) or the status text.
    #[error("{method} \"{url}\": response status code {status}: {text}")]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        text: String,
    },
    /// An upload the registry accepted without saying where to send the data.
    #[error("POST \"{url}\": missing Location header")]
    MissingLocation { url: String },
    /// A basic challenge with no credential for the host.
    #[error("{method} \"{url}\": basic credential not found")]
    NoBasicCredential { method: &'static str, url: String },
    /// A basic challenge with a credential lacking its user name or password.
    #[error("{method} \"{url}\": missing username or password for basic auth")]
    IncompleteBasicCredential { method: &'static str, url: String },
    /// A bearer challenge without a realm.
    #[error("{registry}: bearer challenge without a realm")]
    NoRealm { registry: String },
    /// A bearer realm that is not HTTP(S).
    #[error("bearer realm {realm:?} uses unsupported scheme {scheme:?}")]
    RealmScheme { realm: String, scheme: String },
    /// A plain-HTTP bearer realm for a registry spoken to over HTTPS.
    #[error("bearer realm {realm:?} uses http but registry was contacted over https")]
    RealmDowngrade { realm: String },
    /// A bearer realm on an internal address that is not the registry's own host.
    #[error(
        "bearer realm host {host:?} is a loopback, link-local, private, or unspecified address"
    )]
    RealmInternalHost { host: String },
    /// A token answer that is not JSON.
    #[error("GET \"{url}\": decoding the token response: {source}")]
    TokenResponse {
        url: String,
        source: rudder_value::json::DecodeError,
    },
    /// A token answer without a token.
    #[error("GET \"{url}\": empty token returned")]
    EmptyToken { url: String },
    /// `registry login` failed.
    #[error("authenticating to \"{host}\": {source}")]
    Authenticating {
        host: String,
        #[source]
        source: Box<Error>,
    },
    /// ORAS's check whether the manifest is already pushed failed.
    #[error("failed to perform \"Exists\" on destination: {0}")]
    Exists(#[source] Box<Error>),
    /// Fetching the manifest failed.
    #[error("failed to perform \"FetchReference\" on source: {0}")]
    FetchReference(#[source] Box<Error>),
    /// The registry has no manifest for the reference.
    #[error("{reference}: not found")]
    NotFound { reference: String },
    /// The manifest's digest is not the one asked for or announced.
    #[error("{reference}: manifest digest mismatch: {actual} is not {expected}")]
    DigestMismatch {
        reference: String,
        actual: String,
        expected: String,
    },
    /// A manifest that is not JSON.
    #[error("{reference}: invalid manifest: {source}")]
    InvalidManifest {
        reference: String,
        source: rudder_value::json::DecodeError,
    },
    /// A plugin manifest that is not JSON.
    #[error("unable to parse manifest: {source}")]
    UnparsableManifest {
        source: rudder_value::json::DecodeError,
    },
    /// An image index where a chart manifest was expected.
    #[error(
        "{reference}: an image index is not a chart (no manifest with mediatype {})",
        super::CONFIG_MEDIA_TYPE
    )]
    ImageIndex { reference: String },
    /// A manifest with fewer of the wanted descriptors than the operation needs.
    #[error("manifest does not contain minimum number of descriptors ({minimum}), descriptors found: {found}")]
    TooFewDescriptors { minimum: usize, found: usize },
    /// A chart manifest without its config.
    #[error("could not load config with mediatype {}", super::CONFIG_MEDIA_TYPE)]
    NoConfig,
    /// A manifest without a layer of `media_type`.
    #[error("manifest does not contain a layer with mediatype {media_type}")]
    MissingLayer { media_type: &'static str },
    /// A chart config blob that is not JSON.
    #[error("{reference}: invalid chart config: {source}")]
    InvalidConfig {
        reference: String,
        source: rudder_value::json::DecodeError,
    },
    /// A tag list that is not JSON.
    #[error("GET \"{url}\": {source}")]
    TagList {
        url: String,
        source: rudder_value::json::DecodeError,
    },
    /// Fetching a blob failed.
    #[error("unable to retrieve blob with digest {digest}: {source}")]
    Blob {
        digest: String,
        #[source]
        source: Box<Error>,
    },
    /// A blob whose size or digest is not the descriptor's.
    #[error("unable to retrieve blob with digest {digest}: content does not match the descriptor")]
    BlobMismatch { digest: String },
    /// A chart archive that does not load (pushing).
    #[error("{0}")]
    Chart(#[source] rudder_chart::LoadError),
    /// `push` to a reference whose name and tag are not the chart's.
    #[error("strict mode enabled, ref basename and tag must match the chart name and version")]
    StrictMode,
    /// A version constraint that does not parse (Masterminds/semver's text).
    #[error(transparent)]
    Constraint(rudder_semver::ConstraintError),
    /// A version that is not the reference's own tag.
    #[error("chart reference and version mismatch: {version} is not {tag}")]
    VersionMismatch { version: String, tag: String },
    /// A version whose tag points at another manifest than the reference's digest.
    #[error("chart reference digest mismatch: {found} is not {expected}")]
    ReferenceDigestMismatch { found: String, expected: String },
    /// A repository without any semantic-version tag.
    #[error("unable to locate any tags in provided repository: {reference}")]
    NoTags { reference: String },
    /// No tag is the version or within the constraint.
    #[error("could not locate a version matching provided version string {version}")]
    NoMatchingTag { version: String },
    /// A plugin manifest of another artifact type.
    #[error("expected artifact type {expected}, got {actual}")]
    ArtifactType {
        expected: &'static str,
        actual: String,
    },
    /// A legacy plugin manifest whose config is of another media type.
    #[error("expected config media type {expected} for legacy compatibility, got {actual}")]
    LegacyConfigType {
        expected: &'static str,
        actual: String,
    },
    /// A plugin manifest without the plugin's archive layer.
    #[error("required layer matching pattern {plugin}-VERSION.tgz not found in manifest")]
    NoPluginLayer { plugin: String },
    /// Fetching a plugin's archive failed.
    #[error("unable to retrieve plugin data with digest {digest}: {source}")]
    PluginData {
        digest: String,
        #[source]
        source: Box<Error>,
    },
    /// Fetching a plugin's provenance failed.
    #[error("unable to retrieve provenance data with digest {digest}: {source}")]
    PluginProvenance {
        digest: String,
        #[source]
        source: Box<Error>,
    },
    /// The registry credentials file could not be read.
    #[error("failed to read config file {}: {source}", .path.display())]
    ReadConfig {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The registry credentials file is not JSON.
    #[error("failed to decode config file at {}: {source}", .path.display())]
    DecodeConfig {
        path: PathBuf,
        source: rudder_value::json::DecodeError,
    },
    /// The registry credentials file is JSON but not an object.
    #[error("failed to decode config file at {}: invalid config format", .path.display())]
    ConfigNotObject { path: PathBuf },
    /// The registry credentials could not be encoded.
    #[error("{0}")]
    EncodeConfig(#[source] rudder_value::json::EncodeError),
    /// The folder of the credentials file could not be made.
    #[error("failed to create config folder {}: {source}", .dir.display())]
    CreateConfigFolder {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// The credentials file could not be written.
    #[error("failed to save config file {}: {source}", .path.display())]
    SaveConfig {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// The registry has no such manifest.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotFound { .. } => true,
            Error::FetchReference(inner) => inner.is_not_found(),
            _ => false,
        }
    }
}
