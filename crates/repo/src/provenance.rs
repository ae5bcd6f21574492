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
pub fn chart_message_block(archive: &[u8], file_name: &str) -> Result<String, String> {
    let chart = rudder_chart::loader::load_archive(archive)
        .map_err(|e| format!("failed to load chart for signing: {e}"))?;
    Ok(message_block(archive, file_name, &chart.metadata.to_yaml()))
}

/// The entries of a keyring file (public and/or secret keys).
pub fn load_keyring(path: &Path) -> Result<Vec<PublicOrSecret>, String> {
    let data =
        fs::read(path).map_err(|e| format!("open {}: {}", path.display(), io_error_text(&e)))?;
    parse_keyring(&data)
}

/// Parses keyring bytes (binary or armoured, any number of keys).
pub fn parse_keyring(data: &[u8]) -> Result<Vec<PublicOrSecret>, String> {
    let (keys, _) = PublicOrSecret::from_reader_many(data)
        .map_err(|e| format!("openpgp: invalid keyring: {e}"))?;
    let keys = keys
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("openpgp: invalid keyring: {e}"))?;
    if keys.is_empty() {
        return Err("openpgp: invalid keyring: no keys found".into());
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
) -> Result<Option<&'a PublicOrSecret>, String> {
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
        return Err(format!("more than one key contain the id {name:?}"));
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
    ) -> Result<Signer, String> {
        let ring = load_keyring(keyring)?;
        let key =
            match select_key(&ring, name)? {
                None => return Err("private key not found".into()),
                Some(PublicOrSecret::Public(_)) => return Err(
                    "provided key is not a private key. Try providing a keyring with secret keys"
                        .into(),
                ),
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
                let pass = passphrase(&shown)?;
                let password = Password::from(pass);
                key.primary_key
                    .unlock(&password, |_, _| Ok(()))
                    .and_then(|r| r)
                    .map_err(|_| {
                        "openpgp: invalid data: private key checksum failure".to_string()
                    })?;
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
    pub fn clear_sign(&self, text: &str) -> Result<String, String> {
        let key = &self.key.primary_key;
        // As Helm's library does, the whole text (its final line break included) is signed,
        // and one more line break separates it from the signature.
        let body = text;
        let mut config =
            SignatureConfig::v4(SignatureType::Text, key.algorithm(), HashAlgorithm::Sha512);
        let sub = |d| Subpacket::regular(d).map_err(|e| e.to_string());
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
        .map_err(|e| format!("failed to either sign or armor message block: {e}"))?;
        message
            .to_armored_string(Default::default())
            .map_err(|e| format!("failed to either sign or armor message block: {e}"))
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
pub fn sign_chart(archive_path: &Path, signer: &Signer) -> Result<PathBuf, String> {
    let archive = fs::read(archive_path).map_err(|e| {
        format!(
            "failed to read chart archive: open {}: {}",
            archive_path.display(),
            io_error_text(&e)
        )
    })?;
    let name = archive_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let message = chart_message_block(&archive, &name)?;
    let signed = signer.clear_sign(&message)?;
    let mut prov = archive_path.as_os_str().to_owned();
    prov.push(".prov");
    let prov = PathBuf::from(prov);
    fs::write(&prov, signed)
        .map_err(|e| format!("open {}: {}", prov.display(), io_error_text(&e)))?;
    Ok(prov)
}

/// The signed text of a `.prov` file (dash-escaping undone), as Helm's parser returns it.
pub fn signed_text(prov: &str) -> Result<String, String> {
    let (message, _) = CleartextSignedMessage::from_string(prov)
        .map_err(|_| "signature block not found".to_string())?;
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
) -> Result<Verification, String> {
    let prov = String::from_utf8_lossy(prov);
    let (message, _) = CleartextSignedMessage::from_string(&prov)
        .map_err(|_| "signature block not found".to_string())?;
    let keys = public_keys(keyring);
    let signature = message
        .signatures()
        .first()
        .ok_or_else(|| "signature block not found".to_string())?;
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
        (None, Some(e)) => return Err(format!("openpgp: invalid signature: {e}")),
        (None, None) => return Err("openpgp: signature made by unknown entity".into()),
    };

    let sum = format!("sha256:{}", digest(archive));
    let text = unescape(message.text());
    let parts: Vec<&str> = text.split("\n...\n").collect();
    if parts.len() < 2 {
        return Err("message block must have at least two parts".into());
    }
    let sums = yaml::from_yaml(parts[1])?;
    let listed = sums
        .to_map()
        .and_then(|m| m.get("files").cloned())
        .and_then(|f| f.to_map().and_then(|m| m.get(file_name).cloned()));
    let listed = match listed {
        Some(Value::String(s)) => s.to_string(),
        _ => {
            return Err(format!(
                "provenance does not contain a SHA for a file named {file_name:?}"
            ))
        }
    };
    if listed != sum {
        return Err(format!(
            "sha256 sum does not match for {file_name}: {listed:?} != {sum:?}"
        ));
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
    fn check(&self, message: &CleartextSignedMessage) -> Result<(), String>;
}

impl<K: VerifyingKey> VerifyingKeyDetails for K {
    fn details(&self) -> &dyn KeyDetails {
        self
    }
    fn check(&self, message: &CleartextSignedMessage) -> Result<(), String> {
        message.verify(self).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// `helm verify PATH` (also run by `pull --verify`): the archive must be a `.tgz` file
/// with `PATH.prov` beside it; `keyring` holds the trusted public keys.
pub fn verify_chart(path: &Path, prov: &Path, keyring: &Path) -> Result<Verification, String> {
    match fs::metadata(path) {
        Err(e) => return Err(format!("stat {}: {}", path.display(), io_error_text(&e))),
        Ok(m) if m.is_dir() => return Err("unpacked charts cannot be verified".into()),
        Ok(_) => {}
    }
    let is_tgz = path
        .extension()
        .map(|e| e.to_string_lossy().eq_ignore_ascii_case("tgz"))
        .unwrap_or(false);
    if !is_tgz {
        return Err("chart must be a tgz file".into());
    }
    if let Err(e) = fs::metadata(prov) {
        return Err(format!(
            "could not load provenance file {}: stat {}: {}",
            prov.display(),
            prov.display(),
            io_error_text(&e)
        ));
    }
    let ring = load_keyring(keyring).map_err(|e| format!("failed to load keyring: {e}"))?;
    let archive = fs::read(path)
        .map_err(|e| format!("failed to read chart archive: {}", io_error_text(&e)))?;
    let prov_data = fs::read(prov)
        .map_err(|e| format!("failed to read provenance file: {}", io_error_text(&e)))?;
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
