//! `helm repo add` / `helm repo update` for one repository: fetch `<url>/index.yaml`,
//! check it loads, and cache it as `<name>-index.yaml` (the bytes as served) with
//! `<name>-charts.txt` (one chart name a line) beside it, as `DownloadIndexFile` does.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::getter::{self, GetOptions};
use crate::index::IndexFile;
use crate::repofile::RepoEntry;
use crate::resolve::resolve_reference_url;
use crate::{Error, HelmPaths};

/// Downloads and caches the index of `repo` in the repository cache of `paths`; returns
/// the index file's path and the parsed index.
pub fn download_index_file(
    repo: &RepoEntry,
    paths: &HelmPaths,
) -> Result<(PathBuf, IndexFile), Error> {
    download_index_file_within(repo, paths, Duration::ZERO)
}

/// [`download_index_file`] with a time limit for the download (`--timeout` of `repo add`
/// and `repo update`; zero means Helm's default, [`getter::DEFAULT_TIMEOUT`]).
pub fn download_index_file_within(
    repo: &RepoEntry,
    paths: &HelmPaths,
    timeout: Duration,
) -> Result<(PathBuf, IndexFile), Error> {
    let cache_dir = paths.repository_cache.as_path();
    let url = resolve_reference_url(&repo.url, "index.yaml");
    let options = GetOptions {
        timeout,
        plugins: Some(paths.clone()),
        ..GetOptions::from(repo)
    };
    let data = getter::get(&url, &options)?;
    let index = IndexFile::parse(&String::from_utf8_lossy(&data))?;
    fs::create_dir_all(cache_dir).map_err(Error::io("mkdir", cache_dir))?;
    // Helm lists names in map order, which Go randomises; sorted is one of its orders.
    let charts: String = index
        .entries
        .keys()
        .map(|name| format!("{name}\n"))
        .collect();
    let charts_file = cache_dir.join(format!("{}-charts.txt", repo.name));
    write_atomic(&charts_file, charts.as_bytes())?;
    let index_file = cache_dir.join(format!("{}-index.yaml", repo.name));
    write_atomic(&index_file, &data)?;
    Ok((index_file, index))
}

/// Writes through a temporary file in the same folder then renames, so readers never see a
/// partial file (Helm's `AtomicWriteFile`).
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, data).map_err(Error::io("open", &tmp))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("rename", path)(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// Serves `body` at `/charts/index.yaml` (404 elsewhere) for one request.
    fn serve_once(body: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let ok = first.starts_with("GET /charts/index.yaml ");
            let response = if ok {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
            };
            stream.write_all(response.as_bytes()).unwrap();
        });
        format!("http://{addr}/charts")
    }

    /// Helm's locations with the repository cache at `cache`.
    fn cache_paths(cache: &Path) -> HelmPaths {
        let cache = cache.display().to_string();
        HelmPaths::from_lookup(|name| (name == "HELM_REPOSITORY_CACHE").then(|| cache.clone()))
    }

    #[test]
    fn caches_index_and_chart_names() {
        const INDEX: &str = "apiVersion: v1\nentries:\n  zeta:\n  - name: zeta\n    version: 1.0.0\n  alpha:\n  - name: alpha\n    version: 0.1.0\n";
        let url = serve_once(INDEX);
        let cache = std::env::temp_dir().join(format!("rudder-chartrepo-{}", std::process::id()));
        let repo = RepoEntry {
            name: "demo".into(),
            url,
            ..Default::default()
        };
        let (path, index) = download_index_file(&repo, &cache_paths(&cache)).unwrap();
        assert_eq!(path, cache.join("demo-index.yaml"));
        assert_eq!(fs::read_to_string(&path).unwrap(), INDEX);
        assert_eq!(
            fs::read_to_string(cache.join("demo-charts.txt")).unwrap(),
            "alpha\nzeta\n"
        );
        assert_eq!(index.entries.len(), 2);
        fs::remove_dir_all(&cache).unwrap();
    }

    #[test]
    fn invalid_index_is_refused() {
        let url = serve_once("entries: {}\n");
        let cache =
            std::env::temp_dir().join(format!("rudder-chartrepo-bad-{}", std::process::id()));
        let repo = RepoEntry {
            name: "bad".into(),
            url,
            ..Default::default()
        };
        assert!(matches!(
            download_index_file(&repo, &cache_paths(&cache)).unwrap_err(),
            Error::NoApiVersion
        ));
        assert!(!cache.join("bad-index.yaml").exists());
    }
}
