//! A cache of schema validations that passed, so that rendering the same chart with the same
//! values again (CI jobs and GitOps controllers do, over and over) does not compile the
//! chart's `values.schema.json` again to learn what it learnt last time. Compiling a schema
//! (the `jsonschema` crate checks it against its draft's meta-schema first, as Helm's
//! validator does) is most of a validation's cost: prometheus-community's prometheus chart,
//! with its alertmanager subchart's schema, spent about a fifth of its render there.
//!
//! Off unless the program turns it on ([`enable`]); the `rudder` command keeps it under
//! Helm's cache home, and `RUDDER_SCHEMA_CACHE=off` turns it off.
//! - An entry says "these values pass this schema": it is named by the BLAKE3 hash of the
//!   schema's bytes, the values as JSON (keys sorted, so the same values always give the same
//!   text), rudder's version and [`FORMAT`], and holds that hash again, which is checked
//!   before the entry is believed.
//! - Only passes are stored. Values that fail are validated every time, so every error
//!   message comes from a real validation.
//! - A validation depends on nothing else: the `jsonschema` crate is built without fetching
//!   remote references, so a schema that names one fails to compile and is never stored.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Bumped whenever validation could decide differently for the same schema and values (a new
/// `jsonschema`, say) in a build that keeps rudder's version, so older entries are not used.
const FORMAT: u32 = 1;
/// Entries kept; the oldest beyond are removed when one is added. An entry is 40 bytes.
const MAX_ENTRIES: usize = 256;
/// What an entry starts with, before its hash.
const MAGIC: &[u8; 8] = b"rdrvalid";

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Turns the cache on, in `dir` (created when first written to).
pub fn enable(dir: PathBuf) {
    let _ = DIR.set(dir);
}

/// Where a validation's pass is kept, and what the entry must hold.
pub(crate) struct Entry {
    path: PathBuf,
    hash: blake3::Hash,
}

impl Entry {
    /// The folder of the cache, when it is on.
    pub(crate) fn dir() -> Option<&'static Path> {
        DIR.get().map(PathBuf::as_path)
    }

    /// The entry in `dir` for `values_json` validated against `schema`.
    pub(crate) fn in_dir(dir: &Path, schema: &[u8], values_json: &str) -> Entry {
        let hash = crate::cache_store::entry_hash(&[
            env!("CARGO_PKG_VERSION").as_bytes(),
            &FORMAT.to_le_bytes(),
            schema,
            values_json.as_bytes(),
        ]);
        Entry {
            path: dir.join(hash.to_hex().as_str()),
            hash,
        }
    }

    /// Whether these values passed this schema before.
    pub(crate) fn passed(&self) -> bool {
        std::fs::read(&self.path).is_ok_and(|content| content == self.content())
    }

    /// Remembers that these values pass this schema.
    pub(crate) fn record_pass(&self) {
        crate::cache_store::put(&self.path, &self.content(), MAX_ENTRIES);
    }

    fn content(&self) -> Vec<u8> {
        [MAGIC.as_slice(), self.hash.as_bytes()].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_believed_only_for_its_own_schema_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let entry = Entry::in_dir(dir.path(), b"{}", r#"{"a":1}"#);
        assert!(!entry.passed());
        entry.record_pass();
        assert!(entry.passed());
        assert!(Entry::in_dir(dir.path(), b"{}", r#"{"a":1}"#).passed());
        assert!(!Entry::in_dir(dir.path(), b"{}", r#"{"a":2}"#).passed());
        assert!(!Entry::in_dir(dir.path(), b"{ }", r#"{"a":1}"#).passed());
        // Fields are delimited: moving a byte from one to the other is another input.
        assert!(!Entry::in_dir(dir.path(), b"{}{", r#""a":1}"#).passed());
    }

    #[test]
    fn a_damaged_entry_is_not_believed() {
        let dir = tempfile::tempdir().unwrap();
        let entry = Entry::in_dir(dir.path(), b"{}", "{}");
        entry.record_pass();
        let mut content = std::fs::read(&entry.path).unwrap();
        content[12] ^= 1;
        std::fs::write(&entry.path, &content).unwrap();
        assert!(!entry.passed());
        std::fs::write(&entry.path, &content[..20]).unwrap();
        assert!(!entry.passed());
    }
}
