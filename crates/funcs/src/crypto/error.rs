//! Why a key, a certificate or their PEM could not be made or read, with the texts of
//! Sprig and of the Go packages it calls (`crypto/x509`, `encoding/asn1`, ...). The template
//! functions hand them to the template as their message (`From<CryptoError> for String`),
//! the one form gotmpl takes.

#[derive(Debug, thiserror::Error)]
pub(crate) enum CryptoError {
    #[error("crypto/rsa: key generation failed")]
    RsaGeneration,
    #[error("crypto/rsa: signing failed")]
    RsaSigning,
    /// An RSA key or signature the `rsa` crate refused (its text).
    #[error("{0}")]
    Rsa(String),
    #[error("x509: malformed RSA private key")]
    MalformedRsaKey,
    #[error("crypto/dsa: key generation failed")]
    DsaGeneration,
    #[error("asn1: structure error: DSA key is not a sequence of six integers")]
    MalformedDsaKey,
    #[error("no PEM data in input")]
    NoPem,
    #[error("decoding PEM as PKCS#8: {0}")]
    Pkcs8(#[source] Box<CryptoError>),
    /// A PEM block whose type is not `... PRIVATE KEY`.
    #[error("no private key data in PEM block of type {0}")]
    NotAPrivateKey(String),
    #[error("parsing RSA private key from PEM: {0}")]
    RsaPem(#[source] Box<CryptoError>),
    /// The `p256` crate's text.
    #[error("parsing EC private key from PEM: {0}")]
    EcPem(String),
    #[error("parsing DSA private key from PEM: {0}")]
    DsaPem(#[source] Box<CryptoError>),
    #[error("invalid private key type {0}")]
    UnknownKeyType(String),
    #[error("x509: malformed PKCS#8 private key")]
    MalformedPkcs8,
    /// A PKCS#8 EC or Ed25519 key its crate refused (its text).
    #[error("{0}")]
    Pkcs8Key(String),
    #[error("x509: PKCS#8 wrapping contained private key with unknown algorithm")]
    UnknownPkcs8Algorithm,
    #[error("x509: unsupported public key type: *dsa.PublicKey")]
    DsaPublicKey,
    /// Go's error when `CreateCertificate` is handed a key that cannot sign (DSA).
    #[error("x509: certificate private key does not implement crypto.Signer")]
    NotASigner,
    #[error("asn1: structure error: cannot represent time as GeneralizedTime")]
    TimeOutOfRange,
    /// A DNS name that is not ASCII (`quoted` as Go's `%q`).
    #[error("x509: {quoted} cannot be encoded as an IA5String")]
    NotIa5 { quoted: String },
    #[error("x509: provided PrivateKey doesn't match parent's PublicKey")]
    KeyMismatch,
    /// A certificate `x509-parser` refused (its text).
    #[error("{0}")]
    Certificate(String),
    #[error("error parsing ip: {0}")]
    InvalidIp(String),
    /// A list element that is not a string (`value` as Go's `%v`).
    #[error("error parsing ip: {value} is not a string")]
    IpNotString { value: String },
    #[error("error processing alternate dns name: {value} is not a string")]
    DnsNameNotString { value: String },
    #[error("parsing private key: {0}")]
    SubjectKey(#[source] Box<CryptoError>),
    #[error("error generating rsa key: {0}")]
    GenerateRsa(#[source] Box<CryptoError>),
    #[error("error creating certificate: {0}")]
    CreateCertificate(#[source] Box<CryptoError>),
    #[error("wrong type for value; expected sprig.certificate")]
    NotACertificate,
    #[error("unable to decode certificate")]
    UndecodableCertificate,
    #[error("error parsing certificate: decodedSignerCert.Bytes: {0}")]
    SignerCertificate(#[source] Box<CryptoError>),
    #[error("error parsing certificate: decodedCert.Bytes: {0}")]
    CustomCertificate(#[source] Box<CryptoError>),
    #[error("error parsing private key: {0}")]
    PrivateKey(#[source] Box<CryptoError>),
    /// x/crypto/bcrypt's `ErrPasswordTooLong`.
    #[error("bcrypt: password length exceeds 72 bytes")]
    PasswordTooLong,
}

impl CryptoError {
    /// This error as the cause of the step `wrap` names.
    pub(crate) fn within(self, wrap: fn(Box<CryptoError>) -> CryptoError) -> CryptoError {
        wrap(Box::new(self))
    }
}

impl From<CryptoError> for String {
    fn from(e: CryptoError) -> String {
        e.to_string()
    }
}
