//! Helm's `ChartDownloader` and `FindChartInRepoURL`: turning a chart reference into an
//! archive on disk, with the credential and TLS settings Helm applies at each step.
//!
//! - [`download_to_cache`]: the archive in Helm's content cache
//!   (`<content cache>/<first byte of digest>/<sha256>.chart`), reused when the index
//!   gives a digest that is already cached; this is what `install`, `template` and `show`
//!   load from.
//! - [`download_to`]: the archive saved under its URL's file name in a folder (dependency
//!   downloads into `charts/`).
//! - [`find_chart_in_repo_url`]: `--repo URL`: the repository's index fetched once into a
//!   throw-away cache name, the chart's URL taken from it.

use std::fs;
use std::path::{Path, PathBuf};

use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};

use crate::chartrepo::{download_index_file, write_atomic};
use crate::getter::{self, GetOptions};
use crate::paths::HelmPaths;
use crate::repofile::{RepoEntry, RepoFile};
use crate::resolve::{resolve_chart, resolve_reference_url};
use crate::Error;

/// `repositories.yaml` as the downloader reads it: a missing file is an empty one.
pub fn load_repositories(path: &Path) -> Result<RepoFile, crate::Error> {
    if !path.exists() {
        return RepoFile::parse("");
    }
    RepoFile::load(path)
}

/// Where an archive comes from: its URL, the index's digest (empty when unknown), and the
/// options the download uses.
#[derive(Clone, Debug)]
pub struct Located {
    pub url: String,
    pub digest: String,
    pub options: GetOptions,
}

/// `ChartDownloader.ResolveChartVersion`: `reference` is `repo/chart` or an absolute URL;
/// `base` holds the command's own flags (`--username`, `--ca-file`...), which a configured
/// repository's own credentials and TLS files override.
pub fn resolve_chart_version(
    paths: &HelmPaths,
    reference: &str,
    version: &str,
    base: &GetOptions,
) -> Result<Located, Error> {
    let repositories = load_repositories(&paths.repository_config)?;
    let resolved = resolve_chart(&repositories, &paths.repository_cache, reference, version)?;
    let mut options = GetOptions {
        plugins: Some(paths.clone()),
        ..base.clone()
    };
    match &resolved.repo {
        Some(rc) => apply_repo(&mut options, rc),
        None => options.repo_url = resolved.url.clone(),
    }
    Ok(Located {
        url: resolved.url,
        digest: resolved.digest,
        options,
    })
}

/// The settings of a configured repository that Helm's downloader applies over the flags:
/// its URL (for the same-host credential rule), its TLS files when any is set, and its
/// credentials when both user and password are set.
pub fn apply_repo(options: &mut GetOptions, rc: &RepoEntry) {
    options.repo_url = rc.url.clone();
    if !rc.cert_file.is_empty() || !rc.key_file.is_empty() || !rc.ca_file.is_empty() {
        options.cert_file = rc.cert_file.clone();
        options.key_file = rc.key_file.clone();
        options.ca_file = rc.ca_file.clone();
    }
    if !rc.username.is_empty() && !rc.password.is_empty() {
        options.username = rc.username.clone();
        options.password = rc.password.clone();
        options.pass_credentials_all = rc.pass_credentials_all;
    }
}

fn decode_digest(digest: &str) -> Result<Option<[u8; 32]>, Error> {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    if hex.is_empty() {
        return Ok(None);
    }
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidDigest {
            hex: hex.to_string(),
        });
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0))
        .collect();
    let array: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| Error::DigestLength(bytes.len()))?;
    Ok(Some(array))
}

/// `DiskCache.fileName`: `<root>/<first byte hex>/<digest hex>.chart`.
pub fn content_cache_file(root: &Path, digest: &[u8; 32]) -> PathBuf {
    root.join(HEXLOWER.encode(&digest[..1]))
        .join(format!("{}.chart", HEXLOWER.encode(digest)))
}

/// `ChartDownloader.DownloadToCache`: the cached archive when the index's digest is already
/// in the content cache, else downloaded and stored under its digest (the index's, or the
/// data's own sha256 when the index gives none). Returns the cached file's path.
///
/// The download's own sha256 must be the index's digest, else nothing is stored and the
/// download fails (Helm stores it under the index's digest unchecked); a cached file whose
/// content does not match its name is not used, and is replaced by a fresh download.
pub fn download_to_cache(content_cache: &Path, located: &Located) -> Result<PathBuf, Error> {
    let known = decode_digest(&located.digest)?;
    if let Some(d) = known {
        let path = content_cache_file(content_cache, &d);
        if fs::read(&path).is_ok_and(|data| !data.is_empty() && sha256(&data) == d) {
            return Ok(path);
        }
    }
    let data = getter::get(&located.url, &located.options)?;
    check_digest(&located.url, known, &data)?;
    let digest = known.unwrap_or_else(|| sha256(&data));
    let path = content_cache_file(content_cache, &digest);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(Error::io("mkdir", dir))?;
    }
    write_atomic(&path, &data)?;
    Ok(path)
}

/// `ChartDownloader.DownloadTo`: the archive written into `dest` under the last segment of
/// its URL's path (taken from the content cache when the digest is there).
pub fn download_to(content_cache: &Path, located: &Located, dest: &Path) -> Result<PathBuf, Error> {
    let known = decode_digest(&located.digest)?;
    let cached = known.and_then(|d| {
        fs::read(content_cache_file(content_cache, &d))
            .ok()
            .filter(|data| sha256(data) == d)
    });
    let data = match cached {
        Some(d) => d,
        None => {
            let data = getter::get(&located.url, &located.options)?;
            check_digest(&located.url, known, &data)?;
            data
        }
    };
    let path_part = located.url.split(['?', '#']).next().unwrap_or("");
    let path_part = path_part.split_once("://").map_or(path_part, |(_, rest)| {
        rest.split_once('/').map_or("", |(_, p)| p)
    });
    let name = path_part
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(".");
    let file = dest.join(name);
    write_atomic(&file, &data)?;
    Ok(file)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Refuses a download whose sha256 is not the digest the index gives for it.
fn check_digest(url: &str, expected: Option<[u8; 32]>, data: &[u8]) -> Result<(), Error> {
    match expected {
        Some(d) if sha256(data) != d => Err(Error::DigestMismatch {
            url: url.to_string(),
            expected: HEXLOWER.encode(&d),
            actual: HEXLOWER.encode(&sha256(data)),
        }),
        _ => Ok(()),
    }
}

/// A random name for a throw-away repository cache entry (20 random bytes in base64 with
/// `/` replaced, as Helm names it).
fn throwaway_name() -> String {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        ^ u128::from(std::process::id());
    let bytes: Vec<u8> = (0..20)
        .map(|_| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 64) as u8
        })
        .collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .replace('/', "-")
}

/// `repo.FindChartInRepoURL`: fetches `repo_url`'s index (credentials and TLS from
/// `options`) and returns the absolute URL of `chart` at `version` (a version or
/// constraint; empty for the newest stable). The index is not kept.
pub fn find_chart_in_repo_url(
    paths: &HelmPaths,
    repo_url: &str,
    chart: &str,
    version: &str,
    options: &GetOptions,
) -> Result<String, Error> {
    let entry = RepoEntry {
        name: throwaway_name(),
        url: repo_url.to_string(),
        username: options.username.clone(),
        password: options.password.clone(),
        cert_file: options.cert_file.clone(),
        key_file: options.key_file.clone(),
        ca_file: options.ca_file.clone(),
        insecure_skip_tls_verify: options.insecure_skip_tls_verify,
        pass_credentials_all: options.pass_credentials_all,
    };
    let repository_cache = &paths.repository_cache;
    let downloaded = download_index_file(&entry, paths);
    let _ = fs::remove_file(repository_cache.join(format!("{}-charts.txt", entry.name)));
    let _ = fs::remove_file(repository_cache.join(format!("{}-index.yaml", entry.name)));
    let (_, index) = downloaded.map_err(|e| Error::NotARepository {
        url: repo_url.to_string(),
        source: Box::new(e),
    })?;
    let cv = index
        .get(chart, version)
        .map_err(|_| Error::NotInRepository {
            chart: chart.to_string(),
            version: version.to_string(),
            url: repo_url.to_string(),
        })?;
    let first = cv.urls.first().ok_or_else(|| Error::NoDownloadUrls {
        chart: chart.to_string(),
        version: version.to_string(),
    })?;
    Ok(resolve_reference_url(repo_url, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_cache_names() {
        assert_eq!(decode_digest("").unwrap(), None);
        let d = decode_digest(&format!("sha256:{}", "ab".repeat(32)))
            .unwrap()
            .unwrap();
        assert_eq!(
            content_cache_file(Path::new("/c"), &d),
            Path::new("/c/ab").join(format!("{}.chart", "ab".repeat(32)))
        );
        assert_eq!(
            decode_digest("abcd").unwrap_err().to_string(),
            "invalid digest length: 2"
        );
        assert_eq!(throwaway_name().len(), 28);
        assert!(!throwaway_name().contains('/'));
    }
}
