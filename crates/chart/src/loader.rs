//! Loading charts from folders, `.tgz` archives and in-memory files (Helm's
//! pkg/chart/v2/loader and pkg/chart/loader/archive), with Helm's limits and hygiene.

use std::fmt;
use std::io::Read;
use std::path::Path;

use rudder_value::{yaml, Map, Value};

use crate::ignore::Rules;
use crate::log::LogRecord;
use crate::{Chart, File, Lock, Metadata};

/// Largest decompressed chart archive Helm accepts.
pub const MAX_DECOMPRESSED_CHART_SIZE: u64 = 100 * 1024 * 1024;
/// Largest single file Helm accepts in a chart.
pub const MAX_DECOMPRESSED_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// A failure to load a chart, worded as Helm's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

fn err(msg: impl Into<String>) -> LoadError {
    LoadError(msg.into())
}

/// Loads a chart from a folder or an archive file (Helm's `loader.Load`).
pub fn load(path: impl AsRef<Path>) -> Result<Chart, LoadError> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err(format!("path {:?} not found", path.display().to_string()))
        } else {
            err(format!("{}: {e}", path.display()))
        }
    })?;
    if meta.is_dir() {
        return load_dir(path);
    }
    let data = std::fs::read(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
    load_archive(&data)
}

/// Loads a chart folder, honouring its `.helmignore`.
pub fn load_dir(dir: &Path) -> Result<Chart, LoadError> {
    let rules = match std::fs::read_to_string(dir.join(".helmignore")) {
        Ok(text) => Rules::parse(&text).map_err(|e| err(e.to_string()))?,
        Err(_) => Rules::default(),
    }
    .with_defaults();
    let mut files = Vec::new();
    walk(dir, dir, &rules, &mut files)?;
    load_files(files)
}

fn walk(root: &Path, dir: &Path, rules: &Rules, out: &mut Vec<File>) -> Result<(), LoadError> {
    // The folder listing says which entries are plain files and folders; only a symbolic
    // link (followed, as Helm's sympath walk does) or an entry of unknown type needs a
    // `stat` of its own.
    let mut entries: Vec<(std::ffi::OsString, Option<std::fs::FileType>)> = std::fs::read_dir(dir)
        .map_err(|e| err(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| (e.file_name(), e.file_type().ok())))
        .collect();
    // By name, byte by byte, as Go's sort.Strings orders them.
    entries.sort_unstable_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    for (name, listed) in entries {
        let path = dir.join(name);
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        // (is a folder, is a plain file)
        let (is_dir, is_file) = match listed {
            Some(kind) if kind.is_dir() || kind.is_file() => (kind.is_dir(), kind.is_file()),
            _ => {
                let meta = std::fs::metadata(&path)
                    .map_err(|e| err(format!("{}: {e}", path.display())))?;
                (meta.is_dir(), meta.is_file())
            }
        };
        if is_dir {
            if rules.ignore(&rel, true) {
                continue;
            }
            walk(root, &path, rules, out)?;
            continue;
        }
        if rules.ignore(&rel, false) {
            continue;
        }
        if !is_file {
            return Err(irregular_file(&path));
        }
        let mut data = read_chart_file(&path)?;
        if data.starts_with(b"\xEF\xBB\xBF") {
            data.drain(..3);
        }
        out.push(File::new(rel, data));
    }
    Ok(())
}

/// Helm names the file by its absolute path here (its walk starts from `filepath.Abs` of
/// the chart folder; pkg/chart/v2/loader/directory.go).
fn irregular_file(path: &Path) -> LoadError {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    err(format!(
        "cannot load irregular file {} as it has file mode type bits set",
        path.display()
    ))
}

/// A chart folder's plain file `path`, refused before it is read when it is over Helm's size
/// limit. Its size and type come from one `stat` of the open file: the type is checked again
/// there, in case the file was replaced since the folder was listed.
fn read_chart_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let failed = |e: std::io::Error| err(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(failed)?;
    let meta = file.metadata().map_err(failed)?;
    if !meta.is_file() {
        return Err(irregular_file(path));
    }
    if meta.len() > MAX_DECOMPRESSED_FILE_SIZE {
        return Err(oversized(path));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    // Through `take`: `File`'s own read_to_end asks the size again (a `stat` and an `lseek`
    // per file) to size a buffer that is already sized. The bound also stops a file that
    // grows past the limit while it is read.
    let read = file
        .take(MAX_DECOMPRESSED_FILE_SIZE + 1)
        .read_to_end(&mut data)
        .map_err(failed)?;
    if read as u64 > MAX_DECOMPRESSED_FILE_SIZE {
        return Err(oversized(path));
    }
    Ok(data)
}

/// Helm names only the file (`fi.Name()`, of the link's target for a link).
fn oversized(path: &Path) -> LoadError {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    err(format!(
        "chart file {name:?} is larger than the maximum file size {MAX_DECOMPRESSED_FILE_SIZE}"
    ))
}

/// Unpacks a gzipped tar chart archive and loads it (Helm's `LoadArchive`): entries are
/// taken relative to the archive's top folder; absolute paths and `..` are refused.
pub fn load_archive(data: &[u8]) -> Result<Chart, LoadError> {
    load_files(archive_files(data)?)
}

/// The regular files of a gzipped tar chart archive, named relative to its top folder
/// (Helm's `LoadArchiveFiles`): absolute paths and `..` are refused, links, devices and
/// other special entries skipped, and the size of each file and of the whole bounded.
pub fn archive_files(data: &[u8]) -> Result<Vec<File>, LoadError> {
    if data.len() < 2 || data[0] != 0x1f || data[1] != 0x8b {
        return Err(err(
            "file does not appear to be a gzipped archive; got 'application/octet-stream'",
        ));
    }
    // The whole archive is inflated into one buffer first: tar entries then become slices
    // of it (one copy each) and skipping padding is a seek, where reading the tar through
    // the gzip stream zeroed a 32 KiB skip buffer and each file's buffer at every entry (a
    // tenth of the instructions of a render of zilliztech's Milvus chart).
    let inflated = Inflated::new(data);
    let mut archive = tar::Archive::new(inflated.reader());
    let mut files: Vec<File> = Vec::new();
    let mut total: u64 = 0;
    let entries = archive
        .entries_with_seek()
        .map_err(|e| err(format!("error reading archive: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| err(format!("error reading archive: {e}")))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| err(format!("error reading archive: {e}")))?
            .to_string_lossy()
            .replace('\\', "/");
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            // Helm skips anything that is not a regular file (PAX headers, links, devices).
            continue;
        }
        let parts: Vec<&str> = path.splitn(2, '/').collect();
        let name = match parts.as_slice() {
            [_, rest] => rest.to_string(),
            ["Chart.yaml"] => return Err(err("chart yaml not in base directory")),
            _ => continue,
        };
        if name.is_empty() {
            continue;
        }
        if path.starts_with('/') || name.split('/').any(|p| p == "..") {
            return Err(err(format!(
                "chart illegally contains content outside the base directory: {path:?}"
            )));
        }
        if name.contains(':') && name.len() > 1 && name.as_bytes()[1] == b':' {
            return Err(err(format!(
                "chart contains illegally named files: {path:?}"
            )));
        }
        // The entry's real size: a PAX `size` record overrides the ustar header's field, as
        // in Go's archive/tar, so a small header cannot smuggle a large file past the cap.
        let size = entry.size();
        if size > MAX_DECOMPRESSED_FILE_SIZE {
            return Err(err(format!("decompressed chart file {path:?} is larger than the maximum file size {MAX_DECOMPRESSED_FILE_SIZE}")));
        }
        total += size;
        if total > MAX_DECOMPRESSED_CHART_SIZE {
            return Err(err(format!(
                "decompressed chart is larger than the maximum size {MAX_DECOMPRESSED_CHART_SIZE}"
            )));
        }
        let mut data = inflated
            .slice(entry.raw_file_position(), size)
            .map_err(|e| err(format!("error reading archive: {e}")))?;
        if data.starts_with(b"\xEF\xBB\xBF") {
            data = data.slice(3..);
        }
        files.push(File::new(name, data));
    }
    if files.is_empty() {
        return Err(err("no files in chart archive"));
    }
    Ok(files)
}

/// What a gzip stream's trailer (its last 8 bytes) says of the content of its last member:
/// the CRC-32 and the size modulo 4 GiB. For a one-member stream, of the whole.
pub(crate) struct GzipTrailer {
    pub(crate) crc: u32,
    pub(crate) size: u64,
}

pub(crate) fn gzip_trailer(gzipped: &[u8]) -> Option<GzipTrailer> {
    let at = gzipped.len().checked_sub(8)?;
    let word = |at: usize| u32::from_le_bytes(gzipped[at..at + 4].try_into().unwrap_or_default());
    Some(GzipTrailer {
        crc: word(at),
        size: u64::from(word(at + 4)),
    })
}

/// A gzip stream inflated as far as it goes, capped one byte past the largest chart Helm
/// accepts (as Helm caps its reader), with the error that stopped it, if any. Reading it
/// gives the inflated bytes and then that error, where the stream itself would have given
/// it, so that errors come in the order that reading the archive entry by entry gives.
struct Inflated {
    bytes: bytes::Bytes,
    error: Option<std::io::Error>,
}

impl Inflated {
    fn new(gzipped: &[u8]) -> Inflated {
        let cap = MAX_DECOMPRESSED_CHART_SIZE + 1;
        let trailer = gzip_trailer(gzipped);
        let hint = trailer.as_ref().map_or(0, |t| t.size);
        // libdeflate inflates a whole one-member stream about twice as fast as a streaming
        // inflater. Anything else it refuses (a size that does not match the trailer's,
        // several members, a bad checksum, broken data) goes through the streaming reader,
        // whose errors, and its silence about a checksum the tar reader never reaches, are
        // what reading the archive has always given.
        if hint > 0 && hint <= cap {
            let cache_key = trailer
                .as_ref()
                .and_then(|trailer| crate::archive_cache::key(gzipped, trailer));
            if let Some(bytes) = cache_key.as_ref().and_then(crate::archive_cache::get) {
                return Inflated {
                    bytes: bytes.into(),
                    error: None,
                };
            }
            let mut bytes = vec![0; hint as usize];
            let inflated = libdeflater::Decompressor::new().gzip_decompress(gzipped, &mut bytes);
            if inflated.is_ok_and(|n| n as u64 == hint) {
                if let Some(key) = &cache_key {
                    crate::archive_cache::put(key, &bytes);
                }
                return Inflated {
                    bytes: bytes.into(),
                    error: None,
                };
            }
        }
        let mut bytes = Vec::with_capacity(hint.min(cap) as usize);
        let error = flate2::read::GzDecoder::new(gzipped)
            .take(cap)
            .read_to_end(&mut bytes)
            .err();
        Inflated {
            bytes: bytes.into(),
            error,
        }
    }

    fn reader(&self) -> InflatedReader<'_> {
        InflatedReader {
            inflated: self,
            pos: 0,
        }
    }

    /// `len` bytes from `at`, sharing the inflated buffer: as many as there are when the
    /// stream ended cleanly before their end (as reading to the end would give), the
    /// stream's error when it broke before.
    fn slice(&self, at: u64, len: u64) -> std::io::Result<bytes::Bytes> {
        let start = (at as usize).min(self.bytes.len());
        let end = at.saturating_add(len).min(self.bytes.len() as u64) as usize;
        if end < at.saturating_add(len) as usize {
            if let Some(e) = self.stream_error() {
                return Err(e);
            }
        }
        Ok(self.bytes.slice(start..end))
    }

    /// The error that stopped the stream, again for each reader that reaches it.
    fn stream_error(&self) -> Option<std::io::Error> {
        self.error
            .as_ref()
            .map(|e| std::io::Error::new(e.kind(), e.to_string()))
    }
}

/// A seekable reader of [`Inflated`] for the tar reader.
struct InflatedReader<'a> {
    inflated: &'a Inflated,
    pos: u64,
}

impl Read for InflatedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let bytes = &self.inflated.bytes;
        if self.pos >= bytes.len() as u64 {
            return match self.inflated.stream_error() {
                Some(e) => Err(e),
                None => Ok(0),
            };
        }
        let start = self.pos as usize;
        let n = buf.len().min(bytes.len() - start);
        buf[..n].copy_from_slice(&bytes[start..start + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for InflatedReader<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(at) => Some(at),
            std::io::SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
            std::io::SeekFrom::End(delta) => {
                (self.inflated.bytes.len() as u64).checked_add_signed(delta)
            }
        };
        let target = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        // The tar reader seeks only to skip what it has not read; past the end that is the
        // error that reading through the stream would have met.
        if target > self.inflated.bytes.len() as u64 {
            return Err(self
                .inflated
                .stream_error()
                .unwrap_or_else(|| std::io::Error::other("unexpected EOF during skip")));
        }
        self.pos = target;
        Ok(self.pos)
    }
}

fn parse_lock(text: &str, file: &str) -> Result<Lock, LoadError> {
    let raw = yaml::from_yaml_raw(text).map_err(|e| err(format!("cannot load {file}: {e}")))?;
    let map = raw.as_map().map(|m| m.clone()).unwrap_or_default();
    let get = |k: &str| {
        map.get(k)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let mut meta = Metadata::default();
    let deps_text = yaml::to_yaml(&Value::map({
        let mut m = Map::new();
        if let Some(d) = map.get("dependencies") {
            m.insert("dependencies".into(), d.clone());
        }
        m
    }))
    .unwrap_or_default();
    meta.merge_yaml(&deps_text)
        .map_err(|e| err(format!("cannot load {file}: {e}")))?;
    Ok(Lock {
        generated: get("generated"),
        digest: get("digest"),
        dependencies: meta.dependencies,
    })
}

/// A values document that is not a map (Helm's `ReadValues`): `reason` is the decoder's
/// text, which `-f` and lint report after their own prefix; the `Display` is Helm's whole
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot unmarshal yaml document: {reason}")]
pub struct ValuesError {
    pub reason: String,
}

/// Helm's `LoadValues`: every YAML document of the file, merged; errors name the problem.
pub fn load_values(text: &str) -> Result<Value, ValuesError> {
    let mut values: Option<rudder_value::Dict> = None;
    for doc in yaml_documents(text) {
        match yaml::from_yaml(doc) {
            // The first map is the values as parsed (nearly every file has one document);
            // later ones are merged over it.
            Ok(Value::Map(m)) => {
                values = Some(match values {
                    None => m,
                    Some(before) => {
                        crate::values::merge_maps(before.snapshot(), m.snapshot()).into()
                    }
                })
            }
            Ok(Value::Nil) => {}
            Ok(other) => {
                let kind = if other.as_list().is_some() {
                    "array"
                } else if other.as_str().is_some() {
                    "string"
                } else {
                    "number"
                };
                return Err(ValuesError {
                    reason: format!("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"),
                });
            }
            Err(e) => {
                return Err(ValuesError {
                    reason: e.to_string(),
                })
            }
        }
    }
    Ok(values.map_or_else(|| Value::map(Map::new()), Value::Map))
}

/// The documents of a YAML stream as k8s.io/apimachinery's YAML reader splits them: at each
/// line that starts with `---` and holds nothing else but dashes and white space; blank
/// documents are left out. Documents are slices of `text`, found by searching for `\n---`
/// rather than by walking every line (which was about 3% of a Milvus render).
fn yaml_documents(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let line_starts = text
        .starts_with("---")
        .then_some(0)
        .into_iter()
        .chain(memchr::memmem::find_iter(bytes, b"\n---").map(|at| at + 1));
    let mut docs = Vec::new();
    let mut start = 0;
    for line_start in line_starts {
        let line_end = memchr::memchr(b'\n', &bytes[line_start..])
            .map_or(text.len(), |at| line_start + at + 1);
        let separator = text[line_start..line_end]
            .trim_end_matches(['\n', '\r'])
            .trim_start_matches('-')
            .trim()
            .is_empty();
        if separator {
            docs.push(&text[start..line_start]);
            start = line_end;
        }
    }
    docs.push(&text[start..]);
    docs.retain(|doc| !doc.trim().is_empty());
    docs
}

/// Builds a chart from its files (Helm's `LoadFiles`), loading subcharts under `charts/`.
pub fn load_files(files: Vec<File>) -> Result<Chart, LoadError> {
    let mut c = Chart {
        values: Value::map(Map::new()),
        ..Chart::default()
    };
    let mut has_metadata = false;
    let mut subcharts: std::collections::BTreeMap<String, Vec<File>> =
        std::collections::BTreeMap::new();
    // Chart.yaml first, wherever it is among the files: what the others mean depends on its
    // apiVersion. Every Chart.yaml entry counts, in archive order, each decoded over the one
    // before (a second one overrides the fields it sets, as in Helm).
    for f in files.iter().filter(|f| f.name == "Chart.yaml") {
        has_metadata = true;
        c.metadata
            .merge_yaml(&text_of(&f.data))
            .map_err(|e| err(format!("cannot load Chart.yaml: {e}")))?;
        if c.metadata.api_version.is_empty() {
            c.metadata.api_version = "v1".into();
        }
    }
    // values.yaml is parsed after the other files, beside the subcharts' loading (it can be
    // most of a chart's loading time); an error from it still comes first wherever Helm,
    // which parses it in file order, would have stopped at it.
    let mut values_files: Vec<File> = Vec::new();
    let sort_files = || -> Result<(), LoadError> {
        for f in files {
            c.raw.push(f.clone());
            let text = || text_of(&f.data).into_owned();
            match f.name.as_str() {
                "Chart.yaml" => {}
                "Chart.lock" => c.lock = Some(parse_lock(&text(), "Chart.lock")?),
                "values.yaml" => values_files.push(f),
                "values.schema.json" => c.schema = Some(f.data.to_vec()),
                // Helm v2's dependency files: still read (into the chart's metadata, as Helm
                // does), with a warning when the chart is past apiVersion v1.
                "requirements.yaml" => {
                    has_metadata = true;
                    if c.metadata.api_version != "v1" {
                        c.load_logs.push(LogRecord::info(
                        "Warning: Dependencies are handled in Chart.yaml since apiVersion \"v2\". We recommend migrating dependencies to Chart.yaml.",
                    ));
                    }
                    c.metadata
                        .merge_yaml(&text())
                        .map_err(|e| err(format!("cannot load requirements.yaml: {e}")))?;
                    if c.metadata.api_version == "v1" {
                        c.files.push(f);
                    }
                }
                "requirements.lock" => {
                    c.lock = Some(parse_lock(&text(), "requirements.lock")?);
                    if c.metadata.api_version != "v1" {
                        c.load_logs.push(LogRecord::info(
                        "Warning: Dependency locking is handled in Chart.lock since apiVersion \"v2\". We recommend migrating to Chart.lock.",
                    ));
                    }
                    if c.metadata.api_version == "v1" {
                        c.files.push(f);
                    }
                }
                name if name.starts_with("templates/") => c.templates.push(f),
                name if name.starts_with("charts/") => {
                    if name.ends_with(".prov") {
                        c.files.push(f);
                        continue;
                    }
                    let rest = &name["charts/".len()..];
                    let sub = rest.split('/').next().unwrap_or(rest).to_string();
                    subcharts.entry(sub).or_default().push(File {
                        name: rest.to_string(),
                        data: f.data,
                    });
                }
                _ => c.files.push(f),
            }
        }
        if !has_metadata {
            return Err(err("Chart.yaml file is missing"));
        }
        c.metadata.validate().map_err(|e| err(e.to_string()))
    };
    if let Err(e) = sort_files() {
        // The values.yaml files read before the failure come first in Helm's loader.
        return Err(parse_values_files(&values_files).err().unwrap_or(e));
    }
    let subcharts: Vec<(String, Vec<File>)> = subcharts
        .into_iter()
        .filter(|(n, _)| !(n.starts_with('_') || n.starts_with('.')))
        .collect();
    let parent = c.name().to_string();
    // Archived subcharts are independent gunzip + tar + YAML work, and so are large folder
    // subcharts (whose values.yaml files are most of their cost): with more than one such,
    // they and the chart's own values.yaml are shared out over the cores. Results are taken
    // in name order, so the first error is the one a sequential load reports.
    let heavy = subcharts
        .iter()
        .filter(|(n, files)| is_archive_name(n) || files_size(files) > HEAVY_SUBCHART)
        .count();
    let (values, loaded): (_, Vec<Result<Chart, LoadError>>) =
        if heavy > 0 && heavy + usize::from(files_size(&values_files) > HEAVY_SUBCHART) > 1 {
            load_in_parallel(&parent, &values_files, subcharts)
        } else {
            let values = parse_values_files(&values_files);
            let loaded = match values {
                // Helm stops at a broken values.yaml before loading any subchart.
                Err(_) => Vec::new(),
                Ok(_) => subcharts
                    .into_iter()
                    .map(|(n, files)| load_subchart(&parent, &n, files))
                    .collect(),
            };
            (values, loaded)
        };
    if let Some(values) = values? {
        c.values = values;
    }
    for sub in loaded {
        let mut sub = sub?;
        c.load_logs.extend(std::mem::take(&mut sub.load_logs));
        c.dependencies.push(sub);
    }
    c.set_parents(Vec::new());
    Ok(c)
}

/// A chart's own values.yaml and its subcharts, loaded by as many threads as there are
/// cores (the calling one among them), largest job first: the longest job (often one large
/// archive, such as Pulsar's in the Milvus chart) starts at once and has a core to itself,
/// where a thread per subchart had it share the cores with every small one until the end.
fn load_in_parallel(
    parent: &str,
    values_files: &[File],
    subcharts: Vec<(String, Vec<File>)>,
) -> (ValuesResult, Vec<Result<Chart, LoadError>>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    /// What loading a subchart costs, roughly.
    fn cost(name: &str, files: &[File]) -> usize {
        match files {
            // The inflated size, from gzip's trailer: most of an archive's cost grows with it.
            [archive] if is_archive_name(name) => {
                gzip_trailer(&archive.data).map_or(0, |trailer| trailer.size as usize)
            }
            _ => files_size(files),
        }
    }
    // Jobs are numbered as the subcharts are, and one more for the values files.
    let values_job = subcharts.len();
    let mut order: Vec<(usize, usize)> = subcharts
        .iter()
        .enumerate()
        .map(|(i, (name, files))| (cost(name, files), i))
        .collect();
    // YAML costs several times more per byte than the rest of a subchart's loading.
    order.push((files_size(values_files) * 8, values_job));
    order.sort_by_key(|&(cost, _)| std::cmp::Reverse(cost));
    let names: Vec<String> = subcharts.iter().map(|(n, _)| n.clone()).collect();
    let jobs: Vec<Mutex<Option<Vec<File>>>> = subcharts
        .into_iter()
        .map(|(_, files)| Mutex::new(Some(files)))
        .collect();
    let loaded: Vec<Mutex<Option<Result<Chart, LoadError>>>> =
        names.iter().map(|_| Mutex::new(None)).collect();
    let values = Mutex::new(None);
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(&(_, job)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            if job == values_job {
                *values.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(parse_values_files(values_files));
                continue;
            }
            let files = jobs[job]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_default();
            let chart = load_subchart(parent, &names[job], files);
            *loaded[job].lock().unwrap_or_else(|e| e.into_inner()) = Some(chart);
        }
    };
    let threads = rudder_value::threads::cores().min(order.len());
    // As deep a stack as the main thread's: values.yaml nesting is the input's.
    rudder_value::threads::run_on(threads, 8 << 20, work);
    let take = |slot: Mutex<Option<Result<Chart, LoadError>>>| {
        slot.into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .expect("every job is claimed and run")
    };
    let values = values
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .expect("every job is claimed and run");
    (values, loaded.into_iter().map(take).collect())
}

/// A file's text, with invalid UTF-8 replaced by U+FFFD (`from_utf8_lossy`). Valid text,
/// nearly always, is checked by `from_utf8` first, several times faster than the lossy
/// decoder's chunk-by-chunk walk (which was 2% of a Milvus render, on values files).
fn text_of(data: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(data),
    }
}

/// What [`parse_values_files`] gives.
type ValuesResult = Result<Option<Value>, LoadError>;

/// The chart's values from its values.yaml entries, parsed in order as Helm's loader
/// parses them (the last one wins); `None` without any.
fn parse_values_files(files: &[File]) -> ValuesResult {
    let mut values = None;
    for f in files {
        values = Some(
            load_values(&text_of(&f.data))
                .map_err(|e| err(format!("cannot load values.yaml: {e}")))?,
        );
    }
    Ok(values)
}

/// Bytes of files from which a folder subchart is loaded on a thread of its own (when
/// there are others): below this, starting the thread costs more than it saves.
const HEAVY_SUBCHART: usize = 64 << 10;

fn files_size(files: &[File]) -> usize {
    files.iter().map(|f| f.data.len()).sum()
}

fn is_archive_name(name: &str) -> bool {
    name.ends_with(".tgz") || name.ends_with(".tar.gz")
}

/// Loads the subchart `name` of the chart `parent` from its files under `charts/` (one
/// archive, or a folder's files named `name/...`).
fn load_subchart(parent: &str, name: &str, files: Vec<File>) -> Result<Chart, LoadError> {
    if is_archive_name(name) {
        let file = &files[0];
        if file.name != name {
            return Err(err(format!(
                "error unpacking subchart tar in {parent}: expected {name}, got {}",
                file.name
            )));
        }
        load_archive(&file.data)
    } else {
        let inner: Vec<File> = files
            .into_iter()
            .filter_map(|f| {
                f.name.split_once('/').map(|(_, rest)| File {
                    name: rest.to_string(),
                    data: f.data,
                })
            })
            .collect();
        load_files(inner)
    }
    .map_err(|e| err(format!("error unpacking subchart {name} in {parent}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// apimachinery's YAML reader splits at lines of dashes (and white space) that start with
    /// `---`, nowhere else, and skips blank documents.
    #[test]
    fn values_documents_split_at_separator_lines_only() {
        assert_eq!(yaml_documents("a: 1\n"), ["a: 1\n"]);
        assert_eq!(yaml_documents("---\na: 1\n---\nb: 2"), ["a: 1\n", "b: 2"]);
        assert_eq!(
            yaml_documents("a: 1\n----  \r\nb: 2\n--- \n\n  \n---"),
            ["a: 1\n", "b: 2\n"]
        );
        assert_eq!(
            yaml_documents("a: ---\n---x: 1\n -- \n"),
            ["a: ---\n---x: 1\n -- \n"]
        );
        assert_eq!(yaml_documents("a: |\n  ---\n"), ["a: |\n  ---\n"]);
        assert!(yaml_documents("\n---\n  \n").is_empty());
        let merged = load_values("a: {x: 1}\n---\na: {y: 2}\nb: 3\n").unwrap();
        assert_eq!(merged, yaml::from_yaml("a: {x: 1, y: 2}\nb: 3\n").unwrap());
    }

    #[test]
    fn reports_a_broken_values_file_where_helms_file_order_reaches_it() {
        // values.yaml is parsed beside the subcharts' loading, but its error still comes
        // first wherever Helm's loader, reading the files in order, would stop at it.
        let file = |name: &str, data: &str| File {
            name: name.into(),
            data: bytes::Bytes::copy_from_slice(data.as_bytes()),
        };
        let chart_yaml = || file("Chart.yaml", "apiVersion: v2\nname: top\nversion: 1.0.0\n");
        let bad_values = || file("values.yaml", "a: [\n");
        let bad_lock = || file("Chart.lock", "- [\n");
        let big_sub = |name: &str| {
            vec![
                file(
                    &format!("charts/{name}/Chart.yaml"),
                    "apiVersion: v2\nname: x\nversion: 1.0.0\n",
                ),
                file(
                    &format!("charts/{name}/values.yaml"),
                    &"k: v\n".repeat(20_000),
                ),
            ]
        };
        let load = |files: Vec<File>| load_files(files).unwrap_err().to_string();
        let values_error = load(vec![chart_yaml(), bad_values()]);
        assert!(
            values_error.starts_with("cannot load values.yaml: "),
            "{values_error}"
        );
        assert_eq!(
            load(vec![chart_yaml(), bad_values(), bad_lock()]),
            values_error
        );
        assert!(load(vec![chart_yaml(), bad_lock(), bad_values()])
            .starts_with("cannot load Chart.lock"));
        assert_eq!(load(vec![bad_values()]), values_error);
        // Loaded on threads (two large subcharts): a broken subchart does not hide it.
        let mut files = vec![chart_yaml(), bad_values()];
        files.extend(big_sub("a"));
        files.push(file("charts/b/Chart.yaml", "name: [\n"));
        files.extend(big_sub("c"));
        assert_eq!(load(files), values_error);
        // Without the broken values, the subchart's error is the one.
        let mut files = vec![chart_yaml(), file("values.yaml", &"k: v\n".repeat(20_000))];
        files.extend(big_sub("a"));
        files.push(file("charts/b/Chart.yaml", "name: [\n"));
        assert!(load(files).starts_with("error unpacking subchart b in top"));
    }

    #[test]
    fn reads_chart_yaml_first_and_warns_about_v1_dependency_files_in_v2_charts() {
        let file = |name: &str, data: &str| File {
            name: name.into(),
            data: bytes::Bytes::copy_from_slice(data.as_bytes()),
        };
        let deps = "dependencies:\n- name: sub\n  version: 0.1.0\n";
        // An archive may list requirements.yaml before Chart.yaml: it is still a v1 chart's.
        let v1 = load_files(vec![
            file("requirements.yaml", deps),
            file("Chart.yaml", "apiVersion: v1\nname: old\nversion: 1.0.0\n"),
        ])
        .unwrap();
        assert!(v1.load_logs.is_empty(), "{:?}", v1.load_logs);
        assert_eq!(v1.metadata.dependencies.len(), 1);
        assert!(v1.files.iter().any(|f| f.name == "requirements.yaml"));

        let v2 = load_files(vec![
            file("Chart.yaml", "apiVersion: v2\nname: new\nversion: 1.0.0\n"),
            file("requirements.yaml", deps),
        ])
        .unwrap();
        assert_eq!(v2.metadata.dependencies.len(), 1);
        assert!(v2.files.is_empty());
        assert_eq!(v2.load_logs.len(), 1);
        assert!(v2.load_logs[0]
            .message
            .starts_with("Warning: Dependencies are handled in Chart.yaml"));
    }

    #[test]
    fn loads_files_and_subcharts() {
        let files = vec![
            File {
                name: "Chart.yaml".into(),
                data: b"apiVersion: v2\nname: top\nversion: 1.0.0\n"[..].into(),
            },
            File {
                name: "values.yaml".into(),
                data: b"a: 1\n---\nb: 2\n"[..].into(),
            },
            File {
                name: "templates/x.yaml".into(),
                data: b"x"[..].into(),
            },
            File {
                name: "README.md".into(),
                data: b"hi"[..].into(),
            },
            File {
                name: "charts/sub/Chart.yaml".into(),
                data: b"apiVersion: v2\nname: sub\nversion: 0.1.0\n"[..].into(),
            },
        ];
        let c = load_files(files).unwrap();
        assert_eq!(c.dependencies.len(), 1);
        assert_eq!(c.dependencies[0].full_path(), "top/charts/sub");
        assert_eq!(c.values.get_path(&["b"]), Some(Value::Float(2.0)));
        assert_eq!(c.files.len(), 1);
    }

    /// Helm's folder walk (pkg/chart/v2/loader/directory.go, internal/sympath/walk.go):
    /// links are followed, an ignored entry is never looked at, an irregular file is refused
    /// by its absolute path without being opened, an oversized one by its name alone.
    #[test]
    fn a_chart_folder_follows_links_and_refuses_irregular_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("c");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("shared.tpl"), "{{/* shared */}}").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("shared.tpl"),
            chart.join("templates/_link.tpl"),
        )
        .unwrap();
        std::fs::write(chart.join(".helmignore"), "*.fifo\n").unwrap();
        let fifo = chart.join("templates/pipe.fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");

        // The FIFO is ignored: never opened (that would block), the link's target read.
        let c = load_dir(&chart).unwrap();
        let linked = c.templates.iter().find(|f| f.name == "templates/_link.tpl");
        assert_eq!(linked.map(|f| &f.data[..]), Some(&b"{{/* shared */}}"[..]));

        std::fs::remove_file(chart.join(".helmignore")).unwrap();
        let e = load_dir(&chart).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "cannot load irregular file {} as it has file mode type bits set",
                std::path::absolute(&fifo).unwrap().display()
            )
        );
        std::fs::remove_file(&fifo).unwrap();

        let big = std::fs::File::create(dir.path().join("big.bin")).unwrap();
        big.set_len(MAX_DECOMPRESSED_FILE_SIZE + 1).unwrap();
        std::os::unix::fs::symlink(dir.path().join("big.bin"), chart.join("big-link")).unwrap();
        let e = load_dir(&chart).unwrap_err().to_string();
        assert_eq!(
            e,
            "chart file \"big.bin\" is larger than the maximum file size 5242880"
        );
    }

    #[test]
    fn missing_chart_yaml() {
        let e = load_files(vec![File {
            name: "values.yaml".into(),
            data: bytes::Bytes::new(),
        }])
        .unwrap_err();
        assert_eq!(e.0, "Chart.yaml file is missing");
    }

    /// A gzipped tar of `(path, data)` entries; `pax_size` gives an entry a PAX `size`
    /// record while its ustar header claims 10 bytes.
    fn archive(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data, pax_size) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_path(path).unwrap();
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            if *pax_size {
                let size = data.len().to_string();
                builder
                    .append_pax_extensions([("size", size.as_bytes())])
                    .unwrap();
                header.set_size(10);
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    const CHART_YAML: &[u8] = b"apiVersion: v2\nname: c\nversion: 0.1.0\n";

    #[test]
    fn the_file_size_cap_reads_the_pax_size() {
        // Helm v4.2.3 (checked with its SDK on an archive of a 6 MiB template, with and
        // without a PAX size record): `decompressed chart file "c/templates/big.yaml" is
        // larger than the maximum file size 5242880`.
        let big = vec![b'#'; 6 * 1024 * 1024];
        for pax in [false, true] {
            let data = archive(&[
                ("c/Chart.yaml", CHART_YAML, false),
                ("c/templates/big.yaml", &big, pax),
            ]);
            let e = archive_files(&data).unwrap_err();
            assert_eq!(
                e.0,
                "decompressed chart file \"c/templates/big.yaml\" is larger than the maximum file size 5242880"
            );
        }
    }

    #[test]
    fn a_broken_or_cut_stream_fails_and_a_whole_one_loads_from_slices() {
        let template = vec![b'x'; 3000];
        let data = archive(&[
            ("c/Chart.yaml", CHART_YAML, false),
            ("c/templates/a.yaml", &template, false),
            ("c/values.yaml", b"a: 1\n", false),
        ]);
        let files = archive_files(&data).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Chart.yaml", "templates/a.yaml", "values.yaml"]);
        assert_eq!(&*files[1].data, &template[..]);
        // Cut inside the deflate data: the stream's own error, never a partial chart.
        let cut = archive_files(&data[..data.len() / 2]).unwrap_err();
        assert!(cut.0.starts_with("error reading archive: "), "{}", cut.0);
        // A whole gzip stream of a tar cut inside a file's data: the tar reader's error.
        let tar_only = {
            let mut d = flate2::read::GzDecoder::new(&data[..]);
            let mut tar = Vec::new();
            d.read_to_end(&mut tar).unwrap();
            tar
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar_only[..2048]).unwrap();
        let e = archive_files(&gz.finish().unwrap()).unwrap_err();
        assert_eq!(e.0, "error reading archive: unexpected EOF during skip");
    }

    #[test]
    fn a_second_chart_yaml_is_decoded_over_the_first() {
        // Helm v4.2.3's SDK on the same archive: name second, version 0.2.0, description
        // first (kept from the first entry), keywords [z]; a broken first entry fails.
        let data = archive(&[
            (
                "c/Chart.yaml",
                b"apiVersion: v2\nname: c\nversion: 0.1.0\ndescription: first\nkeywords: [a, b]\n",
                false,
            ),
            (
                "c/Chart.yaml",
                b"apiVersion: v2\nname: second\nversion: 0.2.0\nkeywords: [z]\n",
                false,
            ),
        ]);
        let chart = load_archive(&data).unwrap();
        assert_eq!(chart.metadata.name, "second");
        assert_eq!(chart.metadata.version, "0.2.0");
        assert_eq!(chart.metadata.description, "first");
        assert_eq!(chart.metadata.keywords, vec!["z".to_string()]);
        let data = archive(&[
            ("c/Chart.yaml", b"a: [", false),
            ("c/Chart.yaml", CHART_YAML, false),
        ]);
        assert_eq!(
            load_archive(&data).unwrap_err().0,
            "cannot load Chart.yaml: error converting YAML to JSON: yaml: line 1: did not find expected node content"
        );
    }

    /// A gzipped tar archive of `files` under the top folder `top`.
    fn tgz(top: &str, files: &[(&str, &str)]) -> Vec<u8> {
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, format!("{top}/{name}"), data.as_bytes())
                .unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn archived_subcharts_load_in_name_order_and_report_the_first_error() {
        let sub = |name: &str| {
            let chart_yaml = format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n");
            File::new(
                format!("charts/{name}-0.1.0.tgz"),
                tgz(
                    name,
                    &[("Chart.yaml", &chart_yaml), ("values.yaml", "x: 1\n")],
                ),
            )
        };
        let top = File::new(
            "Chart.yaml",
            &b"apiVersion: v2\nname: top\nversion: 1.0.0\n"[..],
        );
        let c = load_files(vec![top.clone(), sub("c"), sub("a"), sub("b")]).unwrap();
        let names: Vec<&str> = c.dependencies.iter().map(Chart::name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(c.dependencies[2].full_path(), "top/charts/c");
        assert_eq!(
            c.dependencies[0].values.get_path(&["x"]),
            Some(Value::Float(1.0))
        );

        let broken = |name: &str| File::new(format!("charts/{name}.tgz"), &b"not gzip"[..]);
        let e = load_files(vec![top, sub("a"), broken("b"), broken("c")]).unwrap_err();
        assert_eq!(
            e.0,
            "error unpacking subchart b.tgz in top: file does not appear to be a gzipped archive; got 'application/octet-stream'"
        );
    }
}
