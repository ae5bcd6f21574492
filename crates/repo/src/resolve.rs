//! Chart references to download locations (`ChartDownloader.ResolveChartVersion`), for
//! `repo/chart` and absolute URLs; OCI references are for later and are reported as such.

use std::path::Path;

use crate::index::IndexFile;
use crate::repofile::{RepoEntry, RepoFile};
use crate::Error;

/// Where to download a chart from and with which repository's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedChart {
    pub url: String,
    /// The index's digest of the archive (empty for a direct URL).
    pub digest: String,
    /// The configured repository whose credentials and TLS files apply, if any.
    pub repo: Option<RepoEntry>,
}

pub(crate) fn has_scheme(reference: &str) -> bool {
    match reference.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Removes `.` and `..` segments (RFC 3986 section 5.2.4).
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// `repo.ResolveReferenceURL`: an absolute `reference` as is; a relative one against the
/// repository URL taken as a folder, keeping the repository URL's query.
pub fn resolve_reference_url(base: &str, reference: &str) -> String {
    if has_scheme(reference) {
        return reference.to_string();
    }
    let (base, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let (origin, path) = match base.find("://") {
        Some(i) => {
            let rest = &base[i + 3..];
            let cut = rest.find('/').map_or(base.len(), |j| i + 3 + j);
            (&base[..cut], &base[cut..])
        }
        None => ("", base),
    };
    let reference = reference.split(['?', '#']).next().unwrap_or("");
    let folder = format!("{}/", path.trim_end_matches('/'));
    let merged = if reference.starts_with('/') {
        reference.to_string()
    } else {
        format!("{folder}{reference}")
    };
    let mut out = format!("{origin}{}", remove_dot_segments(&merged));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Go's `filepath.Clean` for URL paths: no empty, `.` or `..` segments, no trailing slash.
pub(crate) fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `urlutil.Equal`: two URLs name the same place once their paths are cleaned (an empty
/// path counting as `/`).
pub fn url_equal(a: &str, b: &str) -> bool {
    fn norm(u: &str) -> String {
        let (rest, suffix) = match u.find(['?', '#']) {
            Some(i) => (&u[..i], &u[i..]),
            None => (u, ""),
        };
        let (origin, path) = match rest.find("://") {
            Some(i) => {
                let after = &rest[i + 3..];
                let cut = after.find('/').map_or(rest.len(), |j| i + 3 + j);
                (&rest[..cut], &rest[cut..])
            }
            None => ("", rest),
        };
        let path = if path.is_empty() { "/" } else { path };
        format!("{origin}{}{suffix}", clean_path(path))
    }
    norm(a) == norm(b)
}

/// Resolves `reference` (`repo/chart`, or an `http(s)://` URL of an archive) at `version`
/// (a version or constraint, empty for the newest stable), reading repository
/// configuration and cached indexes as Helm does.
pub fn resolve_chart(
    repositories: &RepoFile,
    repository_cache: &Path,
    reference: &str,
    version: &str,
) -> Result<ResolvedChart, Error> {
    if reference.starts_with("oci://") {
        return Err(Error::OciNotSupported {
            reference: reference.to_string(),
            version: version.to_string(),
        });
    }
    if has_scheme(reference) {
        // The configured repository whose index lists this very URL lends its settings
        // (`scanReposForURL`); every configured repository's index must be cached.
        let mut owner = None;
        for rc in &repositories.repositories {
            let index_path = repository_cache.join(format!("{}-index.yaml", rc.name));
            let index =
                IndexFile::load(&index_path).map_err(|e| Error::NoCachedIndex(Box::new(e)))?;
            let listed = index
                .entries
                .values()
                .flatten()
                .flat_map(|cv| cv.urls.iter())
                .any(|u| url_equal(reference, u));
            if listed {
                owner = Some(rc.clone());
                break;
            }
        }
        return Ok(ResolvedChart {
            url: reference.to_string(),
            digest: String::new(),
            repo: owner,
        });
    }
    let Some((repo_name, chart_name)) = reference.split_once('/') else {
        return Err(Error::NotRepoSlashChart(reference.to_string()));
    };
    let repo = repositories
        .get(repo_name)
        .ok_or_else(|| Error::UnknownRepository(repo_name.to_string()))?;
    if repo.url.is_empty() {
        return Err(Error::NoRepositoryUrl(repo_name.to_string()));
    }
    let index_path = repository_cache.join(format!("{}-index.yaml", repo.name));
    let index = IndexFile::load(&index_path).map_err(|e| Error::NoCachedIndex(Box::new(e)))?;
    let cv = index
        .get(chart_name, version)
        .map_err(|e| Error::NotInIndex {
            chart: chart_name.to_string(),
            version: version.to_string(),
            repo: repo.name.clone(),
            source: Box::new(e),
        })?;
    let first = cv.urls.first().ok_or_else(|| Error::NoDownloadUrls {
        chart: reference.to_string(),
        version: String::new(),
    })?;
    Ok(ResolvedChart {
        url: resolve_reference_url(&repo.url, first),
        digest: cv.digest.clone(),
        repo: Some(repo.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_urls() {
        let r = resolve_reference_url;
        assert_eq!(
            r("https://x.io/charts", "a-1.0.0.tgz"),
            "https://x.io/charts/a-1.0.0.tgz"
        );
        assert_eq!(
            r("https://x.io/charts/", "a.tgz"),
            "https://x.io/charts/a.tgz"
        );
        assert_eq!(
            r("https://x.io/charts", "../b/a.tgz"),
            "https://x.io/b/a.tgz"
        );
        assert_eq!(
            r("https://x.io/charts", "/root/a.tgz"),
            "https://x.io/root/a.tgz"
        );
        assert_eq!(
            r("https://x.io/c?token=1", "a.tgz"),
            "https://x.io/c/a.tgz?token=1"
        );
        assert_eq!(
            r("https://x.io/c", "https://cdn.io/a.tgz"),
            "https://cdn.io/a.tgz"
        );
    }

    #[test]
    fn urls_equal_once_paths_are_cleaned() {
        assert!(url_equal("https://x.io/charts/", "https://x.io/charts"));
        assert!(url_equal("https://x.io", "https://x.io/"));
        assert!(url_equal("https://x.io/a/../charts", "https://x.io/charts"));
        assert!(!url_equal(
            "https://x.io/charts",
            "https://x.io:8443/charts"
        ));
        assert!(!url_equal("https://x.io/charts", "http://x.io/charts"));
        assert_eq!(clean_path("/a//b/./c/.."), "/a/b");
    }

    #[test]
    fn repo_slash_chart_uses_the_cached_index() {
        let cache = std::env::temp_dir().join(format!("rudder-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(
            cache.join("st-index.yaml"),
            "apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 1.0.0\n    digest: d1\n    urls: [web-1.0.0.tgz]\n  - name: web\n    version: 1.1.0-rc.1\n    urls: [web-1.1.0-rc.1.tgz]\n",
        )
        .unwrap();
        let mut repos = RepoFile::default();
        repos.update(RepoEntry {
            name: "st".into(),
            url: "https://charts.example.com/st".into(),
            ..Default::default()
        });
        let got = resolve_chart(&repos, &cache, "st/web", "").unwrap();
        assert_eq!(got.url, "https://charts.example.com/st/web-1.0.0.tgz");
        assert_eq!(got.digest, "d1");
        let pre = resolve_chart(&repos, &cache, "st/web", ">=1.1.0-0").unwrap();
        assert_eq!(pre.url, "https://charts.example.com/st/web-1.1.0-rc.1.tgz");
        assert_eq!(
            resolve_chart(&repos, &cache, "nope/web", "")
                .unwrap_err()
                .to_string(),
            "repo nope not found"
        );
        let missing = resolve_chart(&repos, &cache, "st/other", "").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "chart \"other\" matching  not found in st index. (try 'helm repo update'): no chart name found"
        );
        assert!(resolve_chart(&repos, &cache, "web", "").is_err());
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
