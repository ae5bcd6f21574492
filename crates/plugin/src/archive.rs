//! Plugin archives (`NAME-VERSION.tgz`): reading the metadata inside one, unpacking one
//! safely, and writing one (Helm's `installer/extractor.go` and `sign.go`).
//!
//! gzip and tar are the `flate2` and `tar` crates; what is written here are Helm's rules:
//! which entries an archive may hold (directories and regular files only) and which names
//! are refused (`:`, a `..` component, an absolute path), checked before anything is
//! written, so a hostile archive cannot place a file outside the directory it is unpacked
//! into.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flate2::read::GzDecoder;

use crate::metadata::{Metadata, PLUGIN_FILE_NAME};
use crate::Error;

/// The archive suffixes Helm's installers recognise (`installer.Extractors`).
pub const ARCHIVE_SUFFIXES: [&str; 2] = [".tar.gz", ".tgz"];

/// Whether `name` ends with a plugin archive suffix.
pub fn is_archive_name(name: &str) -> bool {
    ARCHIVE_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Helm's `stripPluginName`: `hello-1.2.3.tgz` is the plugin `hello` (the suffix cut, then
/// everything from the last `-<digits>.` on). A name without an archive suffix gives "".
pub fn strip_plugin_name(file_name: &str) -> String {
    static VERSIONED: OnceLock<regex::Regex> = OnceLock::new();
    let stripped = ARCHIVE_SUFFIXES
        .iter()
        .find_map(|s| file_name.strip_suffix(s))
        .unwrap_or("");
    VERSIONED
        .get_or_init(|| regex::Regex::new(r"(.*)-[0-9]+\..*").expect("valid regex"))
        .replace_all(stripped, "$1")
        .into_owned()
}

/// Go's `compress/gzip` and `archive/tar` wording for the usual ways data is not a tgz.
fn read_error(data: &[u8], e: std::io::Error) -> String {
    if data.len() < 2 || data[0] != 0x1f || data[1] != 0x8b {
        return "gzip: invalid header".into();
    }
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return "unexpected EOF".into();
    }
    e.to_string()
}

fn entries_error(data: &[u8]) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Archive(read_error(data, e))
}

/// Helm's `ExtractTgzPluginMetadata`: the first `plugin.yaml` (at any depth) in the
/// archive, loaded.
pub fn metadata_from_tgz(data: &[u8]) -> Result<Metadata, Error> {
    let fail = entries_error(data);
    if data.len() < 2 || data[0] != 0x1f || data[1] != 0x8b {
        return Err(Error::Archive("gzip: invalid header".into()));
    }
    let mut archive = tar::Archive::new(GzDecoder::new(data));
    for entry in archive.entries().map_err(&fail)? {
        let mut entry = entry.map_err(&fail)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if name.rsplit(['/', '\\']).next() == Some(PLUGIN_FILE_NAME) {
            let mut text = String::new();
            (&mut entry)
                .take(MAX_UNPACKED_BYTES)
                .read_to_string(&mut text)
                .map_err(&fail)?;
            return Metadata::parse(&text).map_err(Error::Archive);
        }
    }
    Err(Error::Archive("plugin.yaml not found in tarball".into()))
}

/// Helm's `cleanJoin`: `name` resolved under `root`, refused when it looks hostile.
fn clean_join(root: &Path, name: &str) -> Result<PathBuf, String> {
    if name.contains(':') {
        return Err("path contains ':', which is illegal".into());
    }
    let name = name.replace('\\', "/");
    if name.split('/').any(|c| c == "..") {
        return Err("path contains '..', which is illegal".into());
    }
    if name.starts_with('/') {
        return Err("path is absolute, which is illegal".into());
    }
    let mut path = root.to_path_buf();
    for component in name.split('/').filter(|c| !c.is_empty() && *c != ".") {
        path.push(component);
    }
    Ok(path)
}

/// The most an archive may unpack to. Helm sets no limit; rudder refuses a decompression
/// bomb, with room for plugins that bundle large binaries (the same 1 GiB cap as a
/// download).
pub const MAX_UNPACKED_BYTES: u64 = 1 << 30;

/// Helm's `TarGzExtractor.Extract`: unpacks `data` into `target` (created if needed).
/// Only directories and regular files are allowed (a link or device entry is refused with
/// Go's `%b` of its type byte, as Helm words it); file modes keep their permission bits.
/// At most [`MAX_UNPACKED_BYTES`] are written.
pub fn extract_tgz(data: &[u8], target: &Path) -> Result<(), Error> {
    extract_tgz_within(data, target, MAX_UNPACKED_BYTES)
}

fn extract_tgz_within(data: &[u8], target: &Path, limit: u64) -> Result<(), Error> {
    let fail = entries_error(data);
    if data.len() < 2 || data[0] != 0x1f || data[1] != 0x8b {
        return Err(Error::Archive("gzip: invalid header".into()));
    }
    std::fs::create_dir_all(target).map_err(Error::io(target))?;
    let mut archive = tar::Archive::new(GzDecoder::new(data));
    let mut written: u64 = 0;
    for entry in archive.entries().map_err(&fail)? {
        let mut entry = entry.map_err(&fail)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = clean_join(target, &name).map_err(Error::Archive)?;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&path).map_err(Error::io(&path))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
                }
                let mode = entry.header().mode().unwrap_or(0o644) & 0o777;
                let mut file = open_for_writing(&path, mode).map_err(Error::io(&path))?;
                let room = limit.saturating_sub(written);
                written +=
                    std::io::copy(&mut (&mut entry).take(room + 1), &mut file).map_err(&fail)?;
                if written > limit {
                    return Err(Error::Archive(format!(
                        "plugin archive unpacks to more than {limit} bytes"
                    )));
                }
            }
            tar::EntryType::XHeader
            | tar::EntryType::XGlobalHeader
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink => {}
            other => {
                return Err(Error::Archive(format!(
                    "unknown type: {:b} in {name}",
                    other.as_byte()
                )))
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn open_for_writing(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn open_for_writing(path: &Path, _mode: u32) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

/// Helm's `CreatePluginTarball`: every file and directory under `source` (in
/// `filepath.Walk`'s lexical order, the source directory itself first), named
/// `<plugin name>/<relative path>`, with their modes and modification times, gzipped.
pub fn create_tarball(source: &Path, plugin_name: &str) -> Result<Vec<u8>, Error> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    builder.follow_symlinks(false);
    let mut stack = vec![source.to_path_buf()];
    // Depth-first in lexical order, as filepath.Walk visits.
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).map_err(Error::io(&path))?;
        let rel = path.strip_prefix(source).unwrap_or(Path::new(""));
        let mut name = PathBuf::from(plugin_name);
        if !rel.as_os_str().is_empty() {
            name.push(rel);
        }
        let mut header = tar::Header::new_ustar();
        header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
        if meta.is_dir() {
            header.set_size(0);
            builder
                .append_data(&mut header, &name, std::io::empty())
                .map_err(Error::io(&path))?;
            let mut children: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(Error::io(&path))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            children.sort();
            stack.extend(children.into_iter().rev());
        } else if meta.is_file() {
            let file = std::fs::File::open(&path).map_err(Error::io(&path))?;
            builder
                .append_data(&mut header, &name, file)
                .map_err(Error::io(&path))?;
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(Error::io(&path))?;
            header.set_size(0);
            builder
                .append_link(&mut header, &name, &target)
                .map_err(Error::io(&path))?;
        }
    }
    let gz = builder.into_inner().map_err(Error::io(source))?;
    let mut gz = gz;
    gz.flush().map_err(Error::io(source))?;
    gz.finish().map_err(Error::io(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_from_archive_names() {
        assert_eq!(strip_plugin_name("hello-1.2.3.tgz"), "hello");
        assert_eq!(strip_plugin_name("my-plugin-2-0.1.0.tar.gz"), "my-plugin-2");
        assert_eq!(strip_plugin_name("plain.tgz"), "plain");
        assert_eq!(strip_plugin_name("plain"), "");
    }

    #[test]
    fn hostile_names_are_refused() {
        let root = Path::new("/r");
        assert_eq!(clean_join(root, "a/b").unwrap(), Path::new("/r/a/b"));
        assert_eq!(clean_join(root, "./a//b/").unwrap(), Path::new("/r/a/b"));
        for (name, want) in [
            ("../x", "path contains '..', which is illegal"),
            ("a/../../x", "path contains '..', which is illegal"),
            ("a\\..\\x", "path contains '..', which is illegal"),
            ("/etc/x", "path is absolute, which is illegal"),
            ("c:x", "path contains ':', which is illegal"),
        ] {
            assert_eq!(clean_join(root, name).unwrap_err(), want, "{name}");
        }
    }

    #[test]
    fn unpacking_stops_at_the_limit() {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_ustar();
        header.set_size(64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "p/big", &[0u8; 64][..])
            .unwrap();
        let data = tar.into_inner().unwrap().finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            extract_tgz_within(&data, dir.path(), 10)
                .unwrap_err()
                .to_string(),
            "plugin archive unpacks to more than 10 bytes"
        );
        extract_tgz_within(&data, &dir.path().join("ok"), 64).unwrap();
    }

    #[test]
    fn not_gzip_is_helms_error() {
        assert_eq!(
            metadata_from_tgz(b"plain text").unwrap_err().to_string(),
            "gzip: invalid header"
        );
    }
}
