//! `helm plugin package` and `helm plugin verify` (Helm's `pkg/cmd/plugin_package.go`,
//! `plugin_verify.go`, `internal/plugin/sign.go`, `verify.go`): the archive from
//! rudder-plugin, the provenance (signing and checking) from rudder-repo's provenance code,
//! the same that signs and verifies charts.

use std::path::{Path, PathBuf};

use rudder_plugin as plugin;
use rudder_repo::provenance::{self, Signer, Verification};

use crate::Error;

/// What `plugin package` wrote.
pub struct PackagedPlugin {
    /// `<destination>/NAME-VERSION.tgz`.
    pub archive: PathBuf,
    /// `<archive>.prov`, when signed.
    pub prov: Option<PathBuf>,
}

/// Helm's `SignPlugin`: the clear-signed message for `archive` (named `file_name`): the
/// plugin's metadata read back from the archive, then the archive's digest.
pub fn sign_plugin_archive(
    archive: &[u8],
    file_name: &str,
    signer: &Signer,
) -> Result<String, Error> {
    let metadata = plugin::metadata_from_tgz(archive)
        .map_err(|e| Error::message(format!("failed to extract plugin metadata: {e}")))?;
    let message = provenance::message_block(archive, file_name, &plugin::signing_yaml(&metadata));
    Ok(signer.clear_sign(&message)?)
}

/// `helm plugin package PATH`: `PATH` must be a plugin directory; the archive goes to
/// `destination` as `NAME-VERSION.tgz`, with `NAME-VERSION.tgz.prov` when `signer` is
/// given. Nothing is left behind when signing fails.
pub fn plugin_package(
    path: &Path,
    destination: &Path,
    signer: Option<&Signer>,
) -> Result<PackagedPlugin, Error> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::message(format!(
            "stat {}: {}",
            path.display(),
            rudder_value::goio::io_error_text(&e)
        ))
    })?;
    if !meta.is_dir() {
        return Err(Error::message(
            "plugin package only supports directories, not tarballs",
        ));
    }
    let loaded = plugin::load_dir(path)
        .map_err(|e| Error::message(format!("invalid plugin directory: {e}")))?;
    std::fs::create_dir_all(destination).map_err(Error::io)?;
    let m = &loaded.metadata;
    let file_name = format!("{}-{}.tgz", m.name, m.version);
    let archive_path = destination.join(&file_name);
    let archive = plugin::create_tarball(path, &m.name)
        .map_err(|e| Error::message(format!("failed to create plugin tarball: {e}")))?;
    let prov = match signer {
        Some(signer) => Some(
            sign_plugin_archive(&archive, &file_name, signer)
                .map_err(|e| Error::message(format!("failed to sign plugin: {e}")))?,
        ),
        None => None,
    };
    std::fs::write(&archive_path, &archive)
        .map_err(|e| Error::message(format!("failed to create tarball: {e}")))?;
    let prov_path = match prov {
        Some(text) => {
            let mut p = archive_path.as_os_str().to_owned();
            p.push(".prov");
            let p = PathBuf::from(p);
            if let Err(e) = std::fs::write(&p, text) {
                let _ = std::fs::remove_file(&archive_path);
                return Err(Error::io(e));
            }
            Some(p)
        }
        None => None,
    };
    Ok(PackagedPlugin {
        archive: archive_path,
        prov: prov_path,
    })
}

/// `helm plugin verify PATH`: `PATH` must be a plugin archive with `PATH.prov` beside it,
/// signed by a key of `keyring`.
pub fn plugin_verify(path: &Path, keyring: &Path) -> Result<Verification, Error> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::message(format!(
            "stat {}: {}",
            path.display(),
            rudder_value::goio::io_error_text(&e)
        ))
    })?;
    if meta.is_dir() {
        return Err(Error::message(
            "directory verification not supported - only plugin tarballs can be verified",
        ));
    }
    // Helm's IsTarball: the extension is .gz or .tgz.
    let tarball = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("gz") | Some("tgz")
    );
    if !tarball {
        return Err(Error::message(
            "plugin file must be a gzipped tarball (.tar.gz or .tgz)",
        ));
    }
    let mut prov_path = path.as_os_str().to_owned();
    prov_path.push(".prov");
    let prov_path = PathBuf::from(prov_path);
    let prov = std::fs::read(&prov_path).map_err(|e| {
        Error::message(format!(
            "could not find provenance file {p}: stat {p}: {}",
            rudder_value::goio::io_error_text(&e),
            p = prov_path.display()
        ))
    })?;
    let archive = std::fs::read(path)
        .map_err(|e| Error::message(format!("failed to read plugin file: {e}")))?;
    let ring = provenance::load_keyring(keyring)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(provenance::verify(&archive, &prov, &name, &ring)?)
}

/// The lines `plugin verify` and `plugin install --verify` print.
pub fn plugin_verification_report(v: &Verification) -> String {
    let mut out = String::new();
    for name in &v.signed_by {
        out.push_str(&format!("Signed by: {name}\n"));
    }
    out.push_str(&format!("Using Key With Fingerprint: {}\n", v.fingerprint));
    out.push_str(&format!("Plugin Hash Verified: {}\n", v.file_hash));
    out
}

/// `plugin list`'s PROVENANCE column (Helm's `GetPluginSigningInfo`): "local dev" for a
/// plugin linked in development mode, "unsigned" without its kept archive or provenance,
/// "invalid provenance" when the provenance is no clear-signed message, "mismatched
/// provenance" when it does not list the kept archive's digest, else "signed" (the
/// signature itself is not checked against a keyring here, as in Helm); "unknown" when the
/// plugin is not at `<data home>/plugins/NAME` or its provenance cannot be read.
pub fn plugin_signing_status(metadata: &plugin::Metadata, data_home: &Path) -> &'static str {
    let plugins = data_home.join("plugins");
    let Ok(meta) = std::fs::symlink_metadata(plugins.join(&metadata.name)) else {
        return "unknown";
    };
    if meta.file_type().is_symlink() {
        return "local dev";
    }
    let tarball = plugins.join(format!("{}-{}.tgz", metadata.name, metadata.version));
    let Ok(archive) = std::fs::read(&tarball) else {
        return "unsigned";
    };
    let prov = match std::fs::read(tarball.with_extension("tgz.prov")) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return "unsigned",
        Err(_) => return "unknown",
    };
    let Ok(text) = provenance::signed_text(&String::from_utf8_lossy(&prov)) else {
        return "invalid provenance";
    };
    let base = tarball
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digest = format!("sha256:{}", provenance::digest(&archive));
    let listed = text
        .split_once("\n...\n")
        .and_then(|(_, sums)| rudder_value::yaml::from_yaml(sums).ok())
        .and_then(|sums| sums.to_map())
        .and_then(|m| m.get("files").and_then(|f| f.to_map()))
        .is_some_and(|files| {
            files.iter().any(|(name, sum)| {
                name.contains(&base)
                    && matches!(sum, rudder_value::Value::String(s) if **s == *digest)
            })
        });
    if listed {
        "signed"
    } else {
        "mismatched provenance"
    }
}
