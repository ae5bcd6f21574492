//! `helm pull`: download a chart archive from a configured repository (`repo/chart`), a
//! URL or an OCI registry (`oci://host/path/chart`), and optionally expand it. Provenance is
//! not supported yet.

use std::path::{Path, PathBuf};

use rudder_repo::getter::{self, GetOptions};
use rudder_repo::resolve::resolve_chart;
use rudder_repo::{HelmPaths, RepoFile};

use crate::registry::{fetch_oci_chart_with_prov, RegistryOptions};
use crate::Error;

/// The flags of `rudder pull`.
#[derive(Clone, Debug)]
pub struct PullOptions {
    pub version: String,
    pub devel: bool,
    /// `-d/--destination`.
    pub destination: String,
    pub untar: bool,
    /// `--untardir`, joined to the destination unless absolute.
    pub untar_dir: String,
    /// Registry connection flags, for `oci://` references.
    pub registry: RegistryOptions,
    /// `--verify`: fetch the chart's `.prov` too, check it against `keyring` before
    /// saving or expanding, and report the signer.
    pub verify: bool,
    pub keyring: PathBuf,
    /// `--repo`: find the chart by name in this repository instead of a configured one.
    pub repo_url: String,
    /// `--pass-credentials`: send `--username`/`--password` to every host, not only `--repo`'s.
    pub pass_credentials_all: bool,
    /// `--prov`: save the chart's provenance file beside it, without verifying.
    pub prov: bool,
}

impl Default for PullOptions {
    fn default() -> PullOptions {
        PullOptions {
            version: String::new(),
            devel: false,
            destination: ".".into(),
            untar: false,
            untar_dir: ".".into(),
            registry: RegistryOptions::default(),
            verify: false,
            keyring: rudder_repo::provenance::default_keyring(),
            repo_url: String::new(),
            pass_credentials_all: false,
            prov: false,
        }
    }
}

/// Downloads `reference`; returns the path of the saved archive (or of the expanded
/// chart's parent folder with `--untar`).
pub fn pull(paths: &HelmPaths, reference: &str, options: &PullOptions) -> Result<PathBuf, Error> {
    pull_with_output(paths, reference, options).map(|(path, _)| path)
}

/// [`pull`], also returning what Helm prints (`Pulled:` and `Digest:` for OCI references).
pub fn pull_with_output(
    paths: &HelmPaths,
    reference: &str,
    options: &PullOptions,
) -> Result<(PathBuf, String), Error> {
    let version = if options.version.is_empty() && options.devel {
        ">0.0.0-0".to_string()
    } else {
        options.version.clone()
    };
    let (data, file_name, output) = if rudder_repo::oci::is_oci(reference) {
        let with_prov = options.verify || options.prov;
        let chart =
            fetch_oci_chart_with_prov(paths, reference, &version, &options.registry, with_prov)?;
        let mut output = chart.output.clone();
        if with_prov {
            match (&chart.prov, options.verify) {
                (Some(prov), _) => {
                    let dest = Path::new(&options.destination);
                    std::fs::create_dir_all(dest).map_err(Error::io)?;
                    let prov_file = dest.join(format!("{}.prov", chart.file_name));
                    std::fs::write(prov_file, prov).map_err(Error::io)?;
                    if options.verify {
                        let verified = crate::verify::verify_archive(
                            &chart.data,
                            prov,
                            &chart.file_name,
                            &options.keyring,
                        )?;
                        output.push_str(&verified.report());
                    }
                }
                (None, true) => {
                    chart.required_prov()?;
                }
                // VerifyLater (`--prov`): a warning, and the chart all the same.
                (None, false) => output.push_str(&format!(
                    "WARNING: Verification not found for {reference}: {}\n",
                    chart.prov_error.as_deref().unwrap_or("")
                )),
            }
        }
        (chart.data, chart.file_name, output)
    } else {
        let (data, file_name, prov) = fetch_repo_chart(paths, reference, &version, options)?;
        let mut output = String::new();
        if let Some(prov) = prov {
            // Helm keeps the provenance file beside the archive and checks before saving.
            let dest = Path::new(&options.destination);
            std::fs::create_dir_all(dest).map_err(Error::io)?;
            std::fs::write(dest.join(format!("{file_name}.prov")), &prov).map_err(Error::io)?;
            if options.verify {
                let keyring = rudder_repo::provenance::load_keyring(&options.keyring)?;
                let verified = rudder_repo::provenance::verify(&data, &prov, &file_name, &keyring)?;
                output = verified.report();
            }
        }
        (data, file_name, output)
    };
    let path = save(reference, options, &data, &file_name)?;
    Ok((path, output))
}

/// A downloaded archive, its file name, and its provenance file when asked for.
type Fetched = (Vec<u8>, String, Option<Vec<u8>>);

/// A `repo/chart` reference or a URL, downloaded through the cached indexes.
fn fetch_repo_chart(
    paths: &HelmPaths,
    reference: &str,
    version: &str,
    options: &PullOptions,
) -> Result<Fetched, Error> {
    // A missing repositories.yaml only matters for `repo/chart` references.
    let (url, get_options) = if options.repo_url.is_empty() {
        let repositories =
            RepoFile::load(&paths.repository_config).or_else(|_| RepoFile::parse(""))?;
        let resolved = resolve_chart(&repositories, &paths.repository_cache, reference, version)?;
        let get_options = GetOptions {
            plugins: Some(paths.clone()),
            ..resolved
                .repo
                .as_ref()
                .map(GetOptions::from)
                .unwrap_or_default()
        };
        (resolved.url, get_options)
    } else {
        let registry = &options.registry;
        // The credentials belong to `--repo`'s origin: the chart download gets them when
        // it is there (or with --pass-credentials), as the index download does.
        let mut get_options = GetOptions {
            repo_url: options.repo_url.clone(),
            username: registry.username.clone(),
            password: registry.password.clone(),
            pass_credentials_all: options.pass_credentials_all,
            ca_file: registry.ca_file.clone(),
            cert_file: registry.cert_file.clone(),
            key_file: registry.key_file.clone(),
            insecure_skip_tls_verify: registry.insecure_skip_tls_verify,
            plugins: Some(paths.clone()),
            ..GetOptions::default()
        };
        let url = rudder_repo::downloader::find_chart_in_repo_url(
            paths,
            &options.repo_url,
            reference,
            version,
            &get_options,
        )?;
        // As for install: the credentials go only to the repository's own origin.
        if !(options.pass_credentials_all || crate::charts::same_origin(&options.repo_url, &url)) {
            get_options.username.clear();
            get_options.password.clear();
        }
        (url, get_options)
    };
    let data = getter::get(&url, &get_options)?;
    let prov = if options.verify || options.prov {
        let url = provenance_url(&url);
        Some(
            getter::get(&url, &get_options)
                .map_err(|e| Error::message(format!("failed to fetch provenance {url:?}: {e}")))?,
        )
    } else {
        None
    };
    Ok((data, archive_name(&url), prov))
}

/// The provenance file's URL: the archive's with `.prov` added to its path.
fn provenance_url(url: &str) -> String {
    match url.find(['?', '#']) {
        Some(i) => format!("{}.prov{}", &url[..i], &url[i..]),
        None => format!("{url}.prov"),
    }
}

/// Saves the archive under the destination, or expands it with `--untar`.
fn save(
    reference: &str,
    options: &PullOptions,
    data: &[u8],
    file_name: &str,
) -> Result<PathBuf, Error> {
    if !options.untar {
        let dest = Path::new(&options.destination);
        std::fs::create_dir_all(dest).map_err(Error::io)?;
        let saved = dest.join(file_name);
        std::fs::write(&saved, data).map_err(Error::io)?;
        return Ok(saved);
    }

    let mut untar_dir = PathBuf::from(&options.untar_dir);
    if !untar_dir.is_absolute() {
        untar_dir = Path::new(&options.destination).join(untar_dir);
    }
    let chart_name = reference.rsplit('/').next().unwrap_or(reference);
    // Helm refuses to expand over an existing folder of the chart's name.
    let check = if options.untar_dir == "." && options.destination == "." {
        PathBuf::from(chart_name)
    } else {
        untar_dir.join(chart_name)
    };
    if check.exists() {
        return Err(Error::message(format!(
            "failed to untar: a file or directory with the name {} already exists",
            check.display()
        )));
    }
    std::fs::create_dir_all(&check)
        .map_err(|e| Error::message(format!("failed to untar (mkdir): {e}")))?;
    expand(&untar_dir, data)?;
    Ok(untar_dir)
}

/// The last path segment of the URL, without its query.
fn archive_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Expands a chart archive under `dir` as Helm's `chartutil.Expand` does: the files come
/// through the archive loader (which refuses absolute paths and `..`, skips links and
/// devices, and bounds sizes), are written below `dir/<chart name from Chart.yaml>`, and
/// nothing is ever written outside it.
fn expand(dir: &Path, data: &[u8]) -> Result<(), Error> {
    let untar = |e: String| Error::message(format!("failed to untar: {e}"));
    let files = rudder_chart::loader::archive_files(data).map_err(|e| untar(e.to_string()))?;
    let chart_name = files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .and_then(|f| {
            let text = String::from_utf8_lossy(&f.data);
            let mut md = rudder_chart::Metadata::default();
            md.merge_yaml(&text).ok().map(|_| md.name)
        })
        .unwrap_or_default();
    if chart_name.is_empty()
        || chart_name.contains(['/', '\\'])
        || chart_name == ".."
        || chart_name == "."
    {
        return Err(untar("chart name not specified".into()));
    }
    let root = dir.join(&chart_name);
    for f in &files {
        let relative = Path::new(&f.name);
        if relative.is_absolute()
            || relative
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(untar(format!("illegal file name {:?}", f.name)));
        }
        let out = root.join(relative);
        let parent = Path::new(&chart_name).join(relative.parent().unwrap_or(Path::new("")));
        create_dirs_without_links(dir, &parent)
            .map_err(|e| Error::context(format!("failed to untar: {e}"), e))?;
        // A link planted at the destination beforehand is replaced, never followed.
        if std::fs::symlink_metadata(&out).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&out).map_err(|e| untar(e.to_string()))?;
        }
        std::fs::write(&out, &f.data).map_err(|e| untar(e.to_string()))?;
    }
    Ok(())
}

/// Creates `base/relative` folder by folder, refusing to go through a symbolic link (or a
/// file) already there: a link planted in the destination must not carry the chart's files
/// elsewhere. Helm's securejoin resolves such links as if `base` were the root, so its
/// writes stay inside `base` but land where the link says; rudder refuses instead.
fn create_dirs_without_links(base: &Path, relative: &Path) -> Result<(), DirError> {
    let mut path = base.to_path_buf();
    for component in relative.components() {
        path.push(component);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => return Err(DirError::Link(path)),
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(DirError::NotADirectory(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir(&path)
                .map_err(|source| DirError::Create {
                    path: path.clone(),
                    source,
                })?,
            Err(source) => return Err(DirError::Stat { path, source }),
        }
    }
    Ok(())
}

/// Why [`create_dirs_without_links`] refused or failed, at which path.
#[derive(Debug, thiserror::Error)]
enum DirError {
    #[error("{} is a symbolic link; refusing to write through it", .0.display())]
    Link(PathBuf),
    #[error("{} exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("mkdir {}: {source}", .path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", .path.display())]
    Stat {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod hostile_archive_tests {
    use super::expand;
    use std::io::Write;

    /// A gzipped tar of raw entries: (name as written in the header, type, data, link).
    fn archive(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut header = tar::Header::new_old();
            // Write the name bytes directly: the tar crate's own setters refuse `..`.
            let raw = header.as_old_mut();
            raw.name[..name.len()].copy_from_slice(name.as_bytes());
            if !link.is_empty() {
                raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    const CHART: &[u8] = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n";

    fn files_under(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        for e in walk(dir) {
            out.push(e.strip_prefix(dir).unwrap().display().to_string());
        }
        out.sort();
        out
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn traversal_and_absolute_paths_are_refused_and_nothing_is_written() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        for evil in ["demo/../../escaped.txt", "/tmp/rudder-absolute-escape.txt"] {
            let data = archive(&[
                ("demo/Chart.yaml", tar::EntryType::Regular, CHART, ""),
                (evil, tar::EntryType::Regular, b"owned", ""),
            ]);
            let e = expand(&dest, &data).unwrap_err().to_string();
            assert!(e.starts_with("failed to untar: "), "{e}");
            assert!(
                files_under(root.path()).is_empty(),
                "{evil}: nothing may be written"
            );
        }
        assert!(!std::path::Path::new("/tmp/rudder-absolute-escape.txt").exists());
    }

    #[test]
    fn links_and_devices_are_skipped_and_files_land_under_the_chart_name() {
        let root = tempfile::tempdir().unwrap();
        let data = archive(&[
            ("anything/Chart.yaml", tar::EntryType::Regular, CHART, ""),
            (
                "anything/templates/cm.yaml",
                tar::EntryType::Regular,
                b"kind: ConfigMap\n",
                "",
            ),
            (
                "anything/templates/passwd",
                tar::EntryType::Symlink,
                b"",
                "/etc/passwd",
            ),
            (
                "anything/templates/hard",
                tar::EntryType::Link,
                b"",
                "/etc/shadow",
            ),
            ("anything/dev", tar::EntryType::Char, b"", ""),
        ]);
        expand(root.path(), &data).unwrap();
        // Named after Chart.yaml's name (as Helm's Expand does), regular files only.
        assert_eq!(
            files_under(root.path()),
            ["demo/Chart.yaml", "demo/templates/cm.yaml"]
        );
    }

    #[test]
    fn links_already_in_the_destination_are_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("dest");
        let outside = root.path().join("outside");
        std::fs::create_dir_all(&dest).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let data = archive(&[
            ("demo/Chart.yaml", tar::EntryType::Regular, CHART, ""),
            (
                "demo/templates/cm.yaml",
                tar::EntryType::Regular,
                b"kind: ConfigMap\n",
                "",
            ),
        ]);
        // The chart's own folder, then a folder inside it, planted as links to elsewhere.
        std::os::unix::fs::symlink(&outside, dest.join("demo")).unwrap();
        let e = expand(&dest, &data).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "failed to untar: {} is a symbolic link; refusing to write through it",
                dest.join("demo").display()
            )
        );
        std::fs::remove_file(dest.join("demo")).unwrap();
        std::fs::create_dir(dest.join("demo")).unwrap();
        std::os::unix::fs::symlink(&outside, dest.join("demo/templates")).unwrap();
        let e = expand(&dest, &data).unwrap_err().to_string();
        assert!(
            e.ends_with("templates is a symbolic link; refusing to write through it"),
            "{e}"
        );
        assert!(files_under(&outside).is_empty(), "nothing may land outside");
    }

    #[test]
    fn oversized_and_corrupt_archives_give_clear_errors() {
        let root = tempfile::tempdir().unwrap();
        // A file whose header claims more than Helm's per-file limit is refused before it
        // is read.
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_path("demo/Chart.yaml").unwrap();
        header.set_size(CHART.len() as u64);
        header.set_cksum();
        builder.append(&header, CHART).unwrap();
        let mut big = tar::Header::new_gnu();
        big.set_path("demo/big.bin").unwrap();
        big.set_size(6 * 1024 * 1024);
        big.set_cksum();
        builder
            .append(&big, std::io::repeat(0).take_bytes(6 * 1024 * 1024))
            .unwrap();
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&tar).unwrap();
        let e = expand(root.path(), &gz.finish().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("is larger than the maximum file size"), "{e}");
        let e = expand(root.path(), b"\x1f\x8bnot really gzip")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("failed to untar: "), "{e}");
        let e = expand(root.path(), b"plain text").unwrap_err().to_string();
        assert!(e.contains("does not appear to be a gzipped archive"), "{e}");
        assert!(files_under(root.path()).is_empty());
    }

    trait TakeBytes: std::io::Read + Sized {
        fn take_bytes(self, n: u64) -> std::io::Take<Self> {
            std::io::Read::take(self, n)
        }
    }
    impl<R: std::io::Read> TakeBytes for R {}
}
