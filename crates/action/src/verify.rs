//! `--verify` wherever a chart is fetched or located (Helm v4.2.3's pkg/downloader
//! chart_downloader.go `DownloadTo`/`DownloadToCache` with `VerifyAlways`, and
//! pkg/action/install.go `LocateChart` for local archives): the provenance file is fetched
//! beside the chart (`URL.prov` from a repository; for an OCI reference the manifest's
//! provenance layer, which Helm's OCI getter pulls for `REF.prov`) and checked with
//! `rudder_repo::provenance` against the keyring before the chart is used.

use std::path::{Path, PathBuf};

use rudder_repo::getter::{self, GetOptions};
use rudder_repo::provenance::{self, Verification};

use crate::Error;

/// `--keyring`, or Helm's default keyring when the flag is empty.
pub(crate) fn keyring_or_default(keyring: &Path) -> PathBuf {
    if keyring.as_os_str().is_empty() {
        provenance::default_keyring()
    } else {
        keyring.to_path_buf()
    }
}

/// `LocateChart` on a local path with `--verify`: `VerifyChart(path, path+".prov")`, which
/// refuses a folder (`unpacked charts cannot be verified`) and a missing provenance file.
pub(crate) fn verify_local(path: &Path, keyring: &Path) -> Result<Verification, Error> {
    let mut prov = path.as_os_str().to_owned();
    prov.push(".prov");
    provenance::verify_chart(path, Path::new(&prov), &keyring_or_default(keyring))
        .map_err(Error::from)
}

/// The file name a provenance file lists a downloaded archive under: the last segment of
/// its URL's path (`filepath.Base(u.Path)`).
pub(crate) fn url_file_name(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or("");
    let path = without_query
        .split_once("://")
        .map_or(without_query, |(_, rest)| {
            rest.split_once('/').map_or("", |(_, p)| p)
        });
    path.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(".")
        .to_string()
}

/// Fetches `URL.prov` for an archive downloaded from `url`; Helm's words when it cannot.
pub(crate) fn fetch_provenance(url: &str, options: &GetOptions) -> Result<Vec<u8>, Error> {
    let prov_url = match url.find(['?', '#']) {
        Some(i) => format!("{}.prov{}", &url[..i], &url[i..]),
        None => format!("{url}.prov"),
    };
    getter::get(&prov_url, options)
        .map_err(|_| Error::message(format!("failed to fetch provenance {prov_url:?}")))
}

/// Checks `archive` (listed as `file_name`) against its provenance file with the keyring.
pub(crate) fn verify_archive(
    archive: &[u8],
    prov: &[u8],
    file_name: &str,
    keyring: &Path,
) -> Result<Verification, Error> {
    // VerifyChart checks the file it is given: a `.tgz` file.
    let is_tgz = Path::new(file_name)
        .extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("tgz"));
    if !is_tgz {
        return Err(Error::message("chart must be a tgz file"));
    }
    let ring = provenance::load_keyring(&keyring_or_default(keyring))
        .map_err(|e| Error::message(format!("failed to load keyring: {e}")))?;
    provenance::verify(archive, prov, file_name, &ring).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_the_last_path_segment() {
        assert_eq!(
            url_file_name("https://h/charts/a-1.0.0.tgz?x=1"),
            "a-1.0.0.tgz"
        );
        assert_eq!(url_file_name("http://h"), ".");
    }
}
