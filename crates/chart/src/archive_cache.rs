//! A cache of inflated chart archives, so that rendering the same `.tgz` again (CI jobs and
//! GitOps controllers render the same chart over and over; zilliztech's Milvus chart carries
//! a 5 MB Pulsar archive) reads its tar instead of inflating it.
//!
//! Off unless the program turns it on ([`enable`]); the `rudder` command keeps it under
//! Helm's cache home, and `RUDDER_ARCHIVE_CACHE=off` turns it off.
//! - An entry is named by the BLAKE3 hash of the gzipped archive, so that no archive can be
//!   crafted to be served another's content (BLAKE3 rather than SHA-256: several times faster
//!   without SHA instructions, where SHA-256 of a large archive cost as much as inflating it). Before use, its length and CRC-32 must be the
//!   ones the archive's own gzip trailer gives for its content, so that a damaged entry is
//!   never used (it is inflated again instead).
//! - Only archives whose inflation succeeded whole are stored, and loading reads the tar
//!   from the entry exactly as from the inflated stream: a cached archive loads, and fails,
//!   as an uncached one.
//! - Entries are written to a temporary file and renamed into place, so a reader never sees
//!   a partial one; beyond [`MAX_ENTRIES`] the oldest are removed ([`crate::cache_store`]).

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::loader::GzipTrailer;

/// Archives smaller than this inflate about as fast as an entry is found and read. (At
/// 1 MiB, only Pulsar's of the Milvus chart's six archives had an entry; at 64 KiB all but
/// the smallest do: 6% fewer instructions for the render.)
const MIN_INFLATED_SIZE: u64 = 64 << 10;
/// Entries kept; the oldest beyond are removed when one is added.
const MAX_ENTRIES: usize = 64;

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Turns the cache on, in `dir` (created when first written to).
pub fn enable(dir: PathBuf) {
    let _ = DIR.set(dir);
}

/// An archive's entry: where it is, and what its content must be.
pub(crate) struct Key {
    path: PathBuf,
    len: u64,
    crc: u32,
}

/// The entry `gzipped` would have, when the cache is on and the archive large enough to
/// be worth one; `trailer` is what its gzip trailer says of its content.
pub(crate) fn key(gzipped: &[u8], trailer: &GzipTrailer) -> Option<Key> {
    let dir = DIR.get()?;
    if trailer.size < MIN_INFLATED_SIZE {
        return None;
    }
    let name = blake3::hash(gzipped).to_hex().to_string();
    Some(Key {
        path: dir.join(name),
        len: trailer.size,
        crc: trailer.crc,
    })
}

/// The entry's content, when there is one and it is whole.
pub(crate) fn get(key: &Key) -> Option<Vec<u8>> {
    let data = std::fs::read(&key.path).ok()?;
    (data.len() as u64 == key.len && crc32fast::hash(&data) == key.crc).then_some(data)
}

/// Stores `inflated` as the entry; a cache that cannot be written is left alone.
pub(crate) fn put(key: &Key, inflated: &[u8]) {
    crate::cache_store::put(&key.path, inflated, MAX_ENTRIES);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gzipped chart archive whose template is `size` bytes of varied text.
    fn big_archive(size: usize) -> Vec<u8> {
        let template: Vec<u8> = (0..size).map(|i| b"abcdefgh\n"[i % 9]).collect();
        let mut tar = tar::Builder::new(Vec::new());
        for (path, data) in [
            (
                "c/Chart.yaml",
                &b"apiVersion: v2\nname: c\nversion: 0.1.0\n"[..],
            ),
            ("c/templates/big.yaml", &template),
        ] {
            let mut header = tar::Header::new_ustar();
            header.set_path(path).unwrap();
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            header.set_cksum();
            tar.append(&header, data).unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn an_entry_is_written_read_and_never_used_when_damaged() {
        let dir = std::env::temp_dir().join(format!("rudder-archive-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        enable(dir.clone());
        let archive = big_archive(3 << 20);
        // Named by the archive's hash (other tests of this binary may add entries too).
        let entry = dir.join(blake3::hash(&archive).to_hex().as_str());
        let first = crate::loader::archive_files(&archive).unwrap();
        assert!(entry.is_file());
        assert!(!std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".tmp")));
        // From the entry: the same files.
        assert_eq!(crate::loader::archive_files(&archive).unwrap(), first);
        // A damaged entry (same length with one byte changed, or cut short) is not used.
        let mut damaged = std::fs::read(&entry).unwrap();
        let at = damaged.len() / 2;
        damaged[at] ^= 1;
        std::fs::write(&entry, &damaged).unwrap();
        assert_eq!(crate::loader::archive_files(&archive).unwrap(), first);
        std::fs::write(&entry, &damaged[..at]).unwrap();
        assert_eq!(crate::loader::archive_files(&archive).unwrap(), first);
        // Small archives get no entry.
        let small = big_archive(1000);
        assert!(crate::loader::gzip_trailer(&small)
            .and_then(|trailer| key(&small, &trailer))
            .is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
