//! The OCI side of Helm's `ChartDownloader` (pkg/registry/client.go `ValidateReference`,
//! then pkg/getter/ocigetter.go): `oci://host/repo/name[:tag][@digest]` with a version (an
//! exact version, a constraint, or empty for the reference's tag, else the newest tag)
//! resolved against the repository's tags, then pulled. `pull`, `install`/`template` of an
//! OCI chart and `dependency update/build` all fetch through here.

use super::client::tag_matching;
use super::{Client, Error, Reference};

/// A chart fetched from a registry.
#[derive(Debug)]
pub struct FetchedChart {
    /// `<name>-<tag>.tgz` (or `<name>@sha256-<hex>.tgz`), as Helm names the saved archive.
    pub file_name: String,
    pub data: Vec<u8>,
    /// What Helm's registry client prints (`Pulled:`, `Digest:`; twice when the provenance
    /// file is pulled too, as Helm pulls it with a second request).
    pub output: String,
    /// The provenance layer, when asked for and found.
    pub prov: Option<Vec<u8>>,
    /// Why the provenance layer could not be had, when asked for.
    pub prov_error: Option<Error>,
    /// What Helm names the provenance file in its errors (`oci://REF.prov`).
    pub prov_url: String,
}

/// Fetches `reference` at `version`. A digest pins the manifest; with a version too, the
/// version's tag must resolve to that digest when it exists.
///
/// With `with_prov`, the manifest's provenance layer too: Helm's `DownloadTo` asks the OCI
/// getter for `REF.prov`, which pulls the same manifest again for its provenance layer
/// alone; a chart without one is reported in [`FetchedChart::prov_error`].
pub fn fetch_chart(
    client: &Client,
    reference: &str,
    version: &str,
    with_prov: bool,
) -> Result<FetchedChart, Error> {
    let without_scheme = reference.trim_start_matches("oci://");
    let parsed = Reference::parse(without_scheme)?;
    let mut version = version.to_string();
    if version.is_empty() {
        version = parsed.tag.clone();
    } else if !parsed.tag.is_empty() && parsed.tag != version {
        return Err(Error::VersionMismatch {
            version,
            tag: parsed.tag.clone(),
        });
    }
    // What is pulled, and the last path segment Helm names the saved archive after.
    let (pull_ref, base) = if !parsed.digest.is_empty() {
        if !version.is_empty() {
            let tagged = format!("{}:{version}", parsed.repository_ref());
            // An untagged manifest is fine: only a tag pointing elsewhere is an error.
            if let Ok(found) = client.resolve(&tagged) {
                if found != parsed.digest {
                    return Err(Error::ReferenceDigestMismatch {
                        found,
                        expected: parsed.digest.clone(),
                    });
                }
            }
        }
        let pinned = format!("{}@{}", parsed.repository_ref(), parsed.digest);
        let base = format!("{}@{}", last_segment(&parsed.repository), parsed.digest);
        (pinned, base)
    } else {
        let tag = if rudder_semver::Version::parse(&version).is_ok() {
            version
        } else {
            let tags = client.tags(&parsed.repository_ref())?;
            if tags.is_empty() {
                return Err(Error::NoTags {
                    reference: reference.to_string(),
                });
            }
            tag_matching(&tags, &version)?
        };
        let tagged = format!("{}:{tag}", parsed.repository_ref());
        (
            tagged,
            format!("{}:{tag}", last_segment(&parsed.repository)),
        )
    };
    let pulled = client.pull(&pull_ref, true, false)?;
    // Helm's name: the segment's last `:` becomes `-` (`name:1.0.0` -> `name-1.0.0.tgz`,
    // `name@sha256:<hex>` -> `name@sha256-<hex>.tgz`).
    let file_name = match base.rsplit_once(':') {
        Some((name, tag)) => format!("{name}-{tag}.tgz"),
        None => format!("{base}.tgz"),
    };
    let mut output = pulled.output;
    let (mut prov, mut prov_error) = (None, None);
    if with_prov {
        match client.pull(&pull_ref, false, true) {
            Ok(p) => {
                output.push_str(&p.output);
                prov = p.prov;
            }
            Err(e) => prov_error = Some(e),
        }
    }
    Ok(FetchedChart {
        file_name,
        data: pulled.chart.unwrap_or_default(),
        output,
        prov,
        prov_error,
        prov_url: format!("oci://{pull_ref}.prov"),
    })
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
