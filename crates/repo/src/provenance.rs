//! Chart provenance (`helm package --sign`, `helm verify`, `helm pull --verify`), with the
//! files and checks of Helm's `pkg/provenance`.
//!
//! A `.prov` file is an OpenPGP cleartext-signed message (hash SHA-512, as Helm's signer is
//! configured) whose text is the chart's `Chart.yaml` metadata as `yaml.Marshal` writes it,
//! a `...` line (YAML's document end, since `---` is not allowed at the start of a
//! cleartext line), then a `files:` map from the archive's base name to `sha256:<hex>`.
//! Verification checks the signature against a keyring, then the archive's digest against
//! the one the message lists.
//!
//! Keys come from keyrings as `gpg --export` / `gpg --export-secret-keys` write them
//! (binary or ASCII-armoured); the signing key is picked by user ID as Helm does (an exact
//! match, else the only user ID that contains the name) and Helm signs with that key's
//! primary key, so this does too.
//!
//! OpenPGP itself is the `pgp` crate (rpgp): a maintained, pure-Rust implementation of
//! RFC 9580/4880 used by Delta Chat and others, which reads GnuPG's keyrings (including
//! passphrase-protected secret keys), produces and parses cleartext signatures, and
//! supports the RSA, EdDSA and ECDSA keys GnuPG generates. Only the glue below is written
//! here: the message layout, key selection, and the line handling of the cleartext
//! framework (trailing blanks on a line are not hashed, lines are hashed with CRLF), which
//! follows RFC 9580 section 7 as Helm's Go library does.

use std::fs;
use std::path::{Path, PathBuf};

use pgp::composed::{CleartextSignedMessage, PublicOrSecret, SignedPublicKey, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, Password, SecretParams, Timestamp, VerifyingKey};
use rudder_value::{yaml, Map, Value};
use sha2::{Digest, Sha256};

use crate::repofile::io_error_text;

/// Why signing or verifying failed, with Helm's (and its OpenPGP library's) wording.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file that could not be read or written (Go's `*PathError` wording).
    #[error(transparent)]
    Io(#[from] crate::Error),
    /// The archive to sign does not load as a chart.
    #[error("failed to load chart for signing: {0}")]
    LoadChart(#[source] rudder_chart::LoadError),
    /// Keyring bytes that are not OpenPGP keys.
    #[error("openpgp: invalid keyring: {0}")]
    InvalidKeyring(#[source] pgp::errors::Error),
    /// A keyring without keys.
    #[error("openpgp: invalid keyring: no keys found")]
    EmptyKeyring,
    /// Several keys' user IDs contain the name, none is exactly it.
    #[error("more than one key contain the id {name:?}")]
    AmbiguousKey { name: String },
    /// No key of the keyring has the name.
    #[error("private key not found")]
    PrivateKeyNotFound,
    /// The key named is a public key.
    #[error("provided key is not a private key. Try providing a keyring with secret keys")]
    NotPrivateKey,
    /// Asking for the passphrase failed (the caller's wording).
    #[error("{0}")]
    Passphrase(String),
    /// The passphrase does not unlock the key.
    #[error("openpgp: invalid data: private key checksum failure")]
    WrongPassphrase,
    /// A signature subpacket could not be made.
    #[error("{0}")]
    Subpacket(#[source] pgp::errors::Error),
    /// Signing or armouring the message failed.
    #[error("failed to either sign or armor message block: {0}")]
    Sign(#[source] pgp::errors::Error),
    /// The archive to sign could not be read.
    #[error("failed to read chart archive: {0}")]
    ReadArchiveToSign(#[source] crate::Error),
    /// A `.prov` file without a cleartext signature.
    #[error("signature block not found")]
    NoSignatureBlock,
    /// The signing key is in the keyring but the signature does not check.
    #[error("openpgp: invalid signature: {0}")]
    InvalidSignature(#[source] pgp::errors::Error),
    /// No key of the keyring made the signature.
    #[error("openpgp: signature made by unknown entity")]
    UnknownSigner,
    /// A signed message without its `...` separator.
    #[error("message block must have at least two parts")]
    MessageParts,
    /// The file sums of the message are not YAML.
    #[error("{0}")]
    Sums(#[source] rudder_value::yaml::DecodeError),
    /// The message lists no digest for the archive.
    #[error("provenance does not contain a SHA for a file named {file_name:?}")]
    NoDigest { file_name: String },
    /// The archive's digest is not the one listed.
    #[error("sha256 sum does not match for {file_name}: {listed:?} != {actual:?}")]
    DigestMismatch {
        file_name: String,
        listed: String,
        actual: String,
    },
    /// `verify` of a chart folder.
    #[error("unpacked charts cannot be verified")]
    UnpackedChart,
    /// `verify` of a file that is not `.tgz`.
    #[error("chart must be a tgz file")]
    NotTgz,
    /// No `.prov` file beside the archive.
    #[error("could not load provenance file {}: stat {}: {}", .path.display(), .path.display(), io_error_text(.source))]
    NoProvenance {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The keyring given to `verify` does not load.
    #[error("failed to load keyring: {0}")]
    LoadKeyring(#[source] Box<Error>),
    /// The archive to verify could not be read.
    #[error("failed to read chart archive: {}", io_error_text(.0))]
    ReadArchive(#[source] std::io::Error),
    /// The `.prov` file could not be read.
    #[error("failed to read provenance file: {}", io_error_text(.0))]
    ReadProvenance(#[source] std::io::Error),
}

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    /// The user IDs of the key that made the signature.
    pub signed_by: Vec<String>,
    /// The signing entity's primary key fingerprint, upper-case hex.
    pub fingerprint: String,
    /// `sha256:<hex>` of the archive.
    pub file_hash: String,
    /// The archive's base name, as listed in the message.
    pub file_name: String,
}

impl Verification {
    /// The lines `helm verify` and `helm pull --verify` print.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for name in &self.signed_by {
            out.push_str(&format!("Signed by: {name}\n"));
        }
        out.push_str(&format!(
            "Using Key With Fingerprint: {}\n",
            self.fingerprint
        ));
        out.push_str(&format!("Chart Hash Verified: {}\n", self.file_hash));
        out
    }
}

/// Lower-case hex SHA-256 of `data` (Helm's `provenance.Digest`): the one digest function
/// of index entries, Chart.lock and OCI layers.
pub fn digest(data: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(data))
}

/// The text Helm signs: `metadata_yaml`, `\n...\n`, and the `files:` section.
pub fn message_block(archive: &[u8], file_name: &str, metadata_yaml: &str) -> String {
    let mut files = Map::new();
    files.insert(
        file_name.to_string(),
        Value::str(format!("sha256:{}", digest(archive))),
    );
    let mut sums = Map::new();
    sums.insert("files".into(), Value::map(files));
    let sums = yaml::to_yaml(&Value::map(sums)).unwrap_or_default();
    format!("{metadata_yaml}\n...\n{sums}")
}

/// The message block for a chart archive: its metadata is read from the archive (with
/// Helm's loader rules) and written back as `yaml.Marshal(chart.Metadata)` does.
pub fn chart_message_block(archive: &[u8], file_name: &str) -> Result<String, Error> {
    let chart = rudder_chart::loader::load_archive(archive).map_err(Error::LoadChart)?;
    Ok(message_block(archive, file_name, &chart.metadata.to_yaml()))
}

/// The entries of a keyring file (public and/or secret keys).
pub fn load_keyring(path: &Path) -> Result<Vec<PublicOrSecret>, Error> {
    let data = fs::read(path).map_err(crate::Error::io("open", path))?;
    parse_keyring(&data)
}

/// Parses keyring bytes (binary or armoured, any number of keys).
pub fn parse_keyring(data: &[u8]) -> Result<Vec<PublicOrSecret>, Error> {
    let (keys, _) = PublicOrSecret::from_reader_many(data).map_err(Error::InvalidKeyring)?;
    let keys = keys
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::InvalidKeyring)?;
    if keys.is_empty() {
        return Err(Error::EmptyKeyring);
    }
    Ok(keys)
}

fn user_ids(key: &PublicOrSecret) -> Vec<String> {
    let details = match key {
        PublicOrSecret::Public(k) => &k.details,
        PublicOrSecret::Secret(k) => &k.details,
    };
    details
        .users
        .iter()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
        .collect()
}

/// Helm's key selection by name: an exact user ID wins; otherwise the one key with a user ID
/// containing `name`. `Ok(None)` when nothing matches.
pub fn select_key<'a>(
    ring: &'a [PublicOrSecret],
    name: &str,
) -> Result<Option<&'a PublicOrSecret>, Error> {
    let mut candidate = None;
    let mut vague = false;
    for key in ring {
        for id in user_ids(key) {
            if id == name {
                return Ok(Some(key));
            }
            if id.contains(name) {
                if candidate.is_some() {
                    vague = true;
                }
                candidate = Some(key);
            }
        }
    }
    if vague {
        return Err(Error::AmbiguousKey {
            name: name.to_string(),
        });
    }
    Ok(candidate)
}

/// A secret key ready to sign, with the passphrase that unlocks it (empty if none).
pub struct Signer {
    key: SignedSecretKey,
    password: Password,
}

impl Signer {
    /// Picks `name` from the keyring at `keyring` and unlocks it. `passphrase` is asked
    /// (with the key's first user ID) only when the key is protected.
    pub fn from_keyring(
        keyring: &Path,
        name: &str,
        passphrase: impl FnOnce(&str) -> Result<String, String>,
    ) -> Result<Signer, Error> {
        let ring = load_keyring(keyring)?;
        let key = match select_key(&ring, name)? {
            None => return Err(Error::PrivateKeyNotFound),
            Some(PublicOrSecret::Public(_)) => return Err(Error::NotPrivateKey),
            Some(PublicOrSecret::Secret(k)) => k.clone(),
        };
        let password = match key.primary_key.secret_params() {
            SecretParams::Plain(_) => Password::empty(),
            SecretParams::Encrypted(_) => {
                let ids = user_ids(&PublicOrSecret::Secret(key.clone()));
                let shown = ids
                    .into_iter()
                    .find(|i| !i.is_empty())
                    .unwrap_or_else(|| "Unknown".into());
                let pass = passphrase(&shown).map_err(Error::Passphrase)?;
                let password = Password::from(pass);
                key.primary_key
                    .unlock(&password, |_, _| Ok(()))
                    .and_then(|r| r)
                    .map_err(|_| Error::WrongPassphrase)?;
                password
            }
        };
        Ok(Signer { key, password })
    }

    /// The signing key's primary fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        format!("{:X}", self.key.primary_key.fingerprint())
    }

    /// Cleartext-signs `text` as Helm's signer does (SHA-512, text signature).
    pub fn clear_sign(&self, text: &str) -> Result<String, Error> {
        let key = &self.key.primary_key;
        // As Helm's library does, the whole text (its final line break included) is signed,
        // and one more line break separates it from the signature.
        let body = text;
        let mut config =
            SignatureConfig::v4(SignatureType::Text, key.algorithm(), HashAlgorithm::Sha512);
        let sub = |d| Subpacket::regular(d).map_err(Error::Subpacket);
        config.hashed_subpackets = vec![
            sub(SubpacketData::SignatureCreationTime(Timestamp::now()))?,
            sub(SubpacketData::IssuerFingerprint(key.fingerprint()))?,
        ];
        config.unhashed_subpackets = vec![sub(SubpacketData::IssuerKeyId(key.legacy_key_id()))?];
        let hashed = signed_form(body);
        let password = &self.password;
        let message = CleartextSignedMessage::new_many(body, |_| {
            Ok(vec![config.sign(key, password, hashed.as_bytes())?])
        })
        .map_err(Error::Sign)?;
        message
            .to_armored_string(Default::default())
            .map_err(Error::Sign)
    }
}

/// The cleartext framework's hashed form of a text: trailing blanks of each line dropped,
/// lines joined with CRLF.
fn signed_form(text: &str) -> String {
    text.split('\n')
        .map(|l| l.trim_end_matches([' ', '\t', '\r']))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// `helm package --sign`: writes `<archive>.prov` beside the archive; returns its path.
pub fn sign_chart(archive_path: &Path, signer: &Signer) -> Result<PathBuf, Error> {
    let archive = fs::read(archive_path)
        .map_err(|e| Error::ReadArchiveToSign(crate::Error::io("open", archive_path)(e)))?;
    let name = archive_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let message = chart_message_block(&archive, &name)?;
    let signed = signer.clear_sign(&message)?;
    let mut prov = archive_path.as_os_str().to_owned();
    prov.push(".prov");
    let prov = PathBuf::from(prov);
    fs::write(&prov, signed).map_err(crate::Error::io("open", &prov))?;
    Ok(prov)
}

/// The signed text of a `.prov` file (dash-escaping undone), as Helm's parser returns it.
pub fn signed_text(prov: &str) -> Result<String, Error> {
    let (message, _) =
        CleartextSignedMessage::from_string(prov).map_err(|_| Error::NoSignatureBlock)?;
    Ok(unescape(message.text()))
}

fn unescape(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|l| l.strip_prefix("- ").unwrap_or(l))
        .collect()
}

fn public_keys(ring: &[PublicOrSecret]) -> Vec<SignedPublicKey> {
    ring.iter()
        .map(|k| match k {
            PublicOrSecret::Public(p) => p.clone(),
            PublicOrSecret::Secret(s) => s.to_public_key(),
        })
        .collect()
}

/// Checks the signature of `prov` against `keyring`, then `archive`'s digest against the
/// one listed for `file_name` (Helm's `Signatory.Verify`).
pub fn verify(
    archive: &[u8],
    prov: &[u8],
    file_name: &str,
    keyring: &[PublicOrSecret],
) -> Result<Verification, Error> {
    let prov = String::from_utf8_lossy(prov);
    let (message, _) =
        CleartextSignedMessage::from_string(&prov).map_err(|_| Error::NoSignatureBlock)?;
    let keys = public_keys(keyring);
    let signature = message
        .signatures()
        .first()
        .ok_or(Error::NoSignatureBlock)?;
    let ids = signature.issuer_key_id();
    let fps = signature.issuer_fingerprint();
    let matches = |k: &dyn KeyDetails| {
        ids.iter().any(|i| **i == k.legacy_key_id()) || fps.iter().any(|f| **f == k.fingerprint())
    };
    let mut signer = None;
    let mut last_error = None;
    for key in &keys {
        let mut candidates: Vec<&dyn VerifyingKeyDetails> = vec![&key.primary_key];
        candidates.extend(
            key.public_subkeys
                .iter()
                .map(|s| &s.key as &dyn VerifyingKeyDetails),
        );
        for k in candidates {
            if !matches(k.details()) {
                continue;
            }
            match k.check(&message) {
                Ok(()) => {
                    signer = Some(key);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        if signer.is_some() {
            break;
        }
    }
    let signer = match (signer, last_error) {
        (Some(s), _) => s,
        (None, Some(e)) => return Err(Error::InvalidSignature(e)),
        (None, None) => return Err(Error::UnknownSigner),
    };

    let sum = format!("sha256:{}", digest(archive));
    let text = unescape(message.text());
    let parts: Vec<&str> = text.split("\n...\n").collect();
    if parts.len() < 2 {
        return Err(Error::MessageParts);
    }
    let sums = yaml::from_yaml(parts[1]).map_err(Error::Sums)?;
    let listed = sums
        .to_map()
        .and_then(|m| m.get("files").cloned())
        .and_then(|f| f.to_map().and_then(|m| m.get(file_name).cloned()));
    let listed = match listed {
        Some(Value::String(s)) => s.to_string(),
        _ => {
            return Err(Error::NoDigest {
                file_name: file_name.to_string(),
            })
        }
    };
    if listed != sum {
        return Err(Error::DigestMismatch {
            file_name: file_name.to_string(),
            listed,
            actual: sum,
        });
    }
    Ok(Verification {
        signed_by: signer
            .details
            .users
            .iter()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
            .collect(),
        fingerprint: format!("{:X}", signer.primary_key.fingerprint()),
        file_hash: sum,
        file_name: file_name.to_string(),
    })
}

/// A primary key or subkey that can check the message's signature.
trait VerifyingKeyDetails {
    fn details(&self) -> &dyn KeyDetails;
    fn check(&self, message: &CleartextSignedMessage) -> pgp::errors::Result<()>;
}

impl<K: VerifyingKey> VerifyingKeyDetails for K {
    fn details(&self) -> &dyn KeyDetails {
        self
    }
    fn check(&self, message: &CleartextSignedMessage) -> pgp::errors::Result<()> {
        message.verify(self).map(|_| ())
    }
}

/// `helm verify PATH` (also run by `pull --verify`): the archive must be a `.tgz` file
/// with `PATH.prov` beside it; `keyring` holds the trusted public keys.
pub fn verify_chart(path: &Path, prov: &Path, keyring: &Path) -> Result<Verification, Error> {
    match fs::metadata(path) {
        Err(e) => return Err(crate::Error::io("stat", path)(e).into()),
        Ok(m) if m.is_dir() => return Err(Error::UnpackedChart),
        Ok(_) => {}
    }
    let is_tgz = path
        .extension()
        .map(|e| e.to_string_lossy().eq_ignore_ascii_case("tgz"))
        .unwrap_or(false);
    if !is_tgz {
        return Err(Error::NotTgz);
    }
    if let Err(source) = fs::metadata(prov) {
        return Err(Error::NoProvenance {
            path: prov.to_path_buf(),
            source,
        });
    }
    let ring = load_keyring(keyring).map_err(|e| Error::LoadKeyring(Box::new(e)))?;
    let archive = fs::read(path).map_err(Error::ReadArchive)?;
    let prov_data = fs::read(prov).map_err(Error::ReadProvenance)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    verify(&archive, &prov_data, &name, &ring)
}

/// Helm's default keyring: `$GNUPGHOME/pubring.gpg`, else `~/.gnupg/pubring.gpg`.
pub fn default_keyring() -> PathBuf {
    if let Some(home) = std::env::var_os("GNUPGHOME") {
        return PathBuf::from(home).join("pubring.gpg");
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home).join(".gnupg").join("pubring.gpg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_block_layout() {
        let m = message_block(b"abc", "x-1.0.0.tgz", "name: x\nversion: 1.0.0\n");
        assert_eq!(
            m,
            "name: x\nversion: 1.0.0\n\n...\nfiles:\n  x-1.0.0.tgz: sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        );
    }

    #[test]
    fn signed_form_drops_trailing_blanks() {
        assert_eq!(signed_form("a  \nb\t\n\nc"), "a\r\nb\r\n\r\nc");
    }
}
