//! `helm search repo`: Helm's `cmd/search` index and `search_repo` command logic.
//!
//! Every chart (or, with all versions, every chart version) becomes one line
//! `name \v repo/name \v description \v keywords`; a match's score is the number of `\v`
//! before it, and matches scoring 25 or more are dropped. Results sort by score, then name,
//! then newest version; then the version constraint (`>0.0.0`, or `>0.0.0-0` with `--devel`,
//! unless `--version` is given) keeps, unless all versions are wanted, the first match per
//! name.

use std::cmp::Ordering;

use regex::Regex;
use rudder_semver::{Constraints, Version};

use crate::index::{ChartVersion, IndexFile};
use crate::Error;

const SEP: char = '\u{0b}';
/// Helm's `searchMaxScore`.
pub const MAX_SCORE: usize = 25;

/// One search hit.
#[derive(Clone, Debug)]
pub struct SearchResult {
    /// `repo/chart`.
    pub name: String,
    pub score: usize,
    pub chart: ChartVersion,
}

/// The charts of the configured repositories, as `search.Index`.
#[derive(Default)]
pub struct SearchIndex {
    lines: Vec<(String, String, ChartVersion)>,
}

/// Options of `helm search repo`.
#[derive(Clone, Debug, Default)]
pub struct SearchOptions {
    pub regexp: bool,
    /// `--versions`: every version, not only the newest per chart.
    pub versions: bool,
    pub devel: bool,
    /// `--version` constraint.
    pub version: String,
}

impl SearchIndex {
    pub fn new() -> SearchIndex {
        SearchIndex::default()
    }

    /// `Index.AddRepo`: the newest version of each chart, or all with `all_versions`.
    pub fn add_repo(&mut self, repo_name: &str, index: &IndexFile, all_versions: bool) {
        for (name, versions) in &index.entries {
            let Some(newest) = versions.first() else {
                continue;
            };
            let full = join_repo(repo_name, name);
            let chosen = if all_versions {
                &versions[..]
            } else {
                std::slice::from_ref(newest)
            };
            for cv in chosen {
                self.lines
                    .push((full.clone(), line_of(repo_name, cv), cv.clone()));
            }
        }
    }

    /// `Index.All`.
    pub fn all(&self) -> Vec<SearchResult> {
        self.lines
            .iter()
            .map(|(name, _, cv)| SearchResult {
                name: name.clone(),
                score: 0,
                chart: cv.clone(),
            })
            .collect()
    }

    /// `Index.Search`: a case-insensitive substring, or a Go regular expression.
    pub fn search(
        &self,
        term: &str,
        threshold: usize,
        regexp: bool,
    ) -> Result<Vec<SearchResult>, Error> {
        let matcher = if regexp {
            Some(Regex::new(term).map_err(Error::Regexp)?)
        } else {
            None
        };
        let term = term.to_lowercase();
        let mut out = Vec::new();
        for (name, line, cv) in &self.lines {
            let (at, text) = match &matcher {
                Some(re) => match re.find(line) {
                    Some(m) => (m.start(), line.clone()),
                    None => continue,
                },
                None => {
                    let lower = line.to_lowercase();
                    match lower.find(&term) {
                        Some(at) => (at, lower),
                        None => continue,
                    }
                }
            };
            let score = text[..at].matches(SEP).count();
            if score < threshold {
                out.push(SearchResult {
                    name: name.clone(),
                    score,
                    chart: cv.clone(),
                });
            }
        }
        Ok(out)
    }
}

/// `path.Join(repo, chart)` for the plain names repositories use.
fn join_repo(repo: &str, chart: &str) -> String {
    match (repo.is_empty(), chart.is_empty()) {
        (true, _) => chart.to_string(),
        (_, true) => repo.to_string(),
        _ => format!("{repo}/{chart}"),
    }
}

fn line_of(repo_name: &str, cv: &ChartVersion) -> String {
    format!(
        "{name}{SEP}{repo_name}/{name}{SEP}{desc}{SEP}{keywords}",
        name = cv.name,
        desc = cv.description,
        keywords = cv.keywords.join(" ")
    )
}

/// `search.SortScore`: score, then name, then newest version first.
pub fn sort_results(results: &mut [SearchResult]) {
    results.sort_by(|a, b| {
        a.score.cmp(&b.score).then_with(|| {
            if a.name != b.name {
                return a.name.cmp(&b.name);
            }
            match (
                Version::parse(&a.chart.version),
                Version::parse(&b.chart.version),
            ) {
                (Ok(x), Ok(y)) => y.compare(&x),
                _ => Ordering::Equal,
            }
        })
    });
}

/// `helm search repo [KEYWORD...]` over already loaded indexes (repository name, index),
/// in the order of repositories.yaml.
pub fn search_repos(
    repos: &[(String, IndexFile)],
    keywords: &[String],
    options: &SearchOptions,
) -> Result<Vec<SearchResult>, Error> {
    let version = if !options.version.is_empty() {
        options.version.clone()
    } else if options.devel {
        ">0.0.0-0".to_string()
    } else {
        ">0.0.0".to_string()
    };
    let mut index = SearchIndex::new();
    for (name, file) in repos {
        // The constraint is never empty here, so every version is indexed, as in Helm.
        index.add_repo(name, file, options.versions || !version.is_empty());
    }
    let mut results = if keywords.is_empty() {
        index.all()
    } else {
        index.search(&keywords.join(" "), MAX_SCORE, options.regexp)?
    };
    sort_results(&mut results);
    let constraint = Constraints::parse(&version).map_err(Error::SearchConstraint)?;
    let mut seen = std::collections::HashSet::new();
    let mut kept = Vec::new();
    for r in results {
        if !options.versions && seen.contains(&r.name) {
            continue;
        }
        let Ok(v) = Version::parse(&r.chart.version) else {
            continue;
        };
        if constraint.check(&v) {
            seen.insert(r.name.clone());
            kept.push(r);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(entries: &[(&str, &str, &str, &str)]) -> IndexFile {
        let mut merged = IndexFile::default();
        for (name, version, description, keywords) in entries {
            let one = IndexFile::parse(&format!(
                "apiVersion: v1\nentries:\n  {name}:\n  - name: {name}\n    version: {version}\n    appVersion: \"{version}\"\n    description: {description}\n    keywords: [{keywords}]\n"
            ))
            .unwrap();
            merged.merge(&one);
        }
        merged.sort_entries();
        merged
    }

    fn names(results: &[SearchResult]) -> Vec<String> {
        results
            .iter()
            .map(|r| format!("{}@{}", r.name, r.chart.version))
            .collect()
    }

    fn repos() -> Vec<(String, IndexFile)> {
        vec![
            (
                "testing".into(),
                index(&[
                    (
                        "alpine",
                        "0.1.0",
                        "Deploy a basic Alpine Linux pod",
                        "linux",
                    ),
                    (
                        "alpine",
                        "0.2.0",
                        "Deploy a basic Alpine Linux pod",
                        "linux",
                    ),
                    (
                        "alpine",
                        "0.3.0-rc.1",
                        "Deploy a basic Alpine Linux pod",
                        "linux",
                    ),
                    (
                        "mariadb",
                        "0.3.0",
                        "Fast, reliable database server",
                        "mysql, alpine",
                    ),
                ]),
            ),
            (
                "other".into(),
                index(&[("nginx", "1.0.0", "Web server", "web")]),
            ),
        ]
    }

    #[test]
    fn newest_stable_version_per_chart_by_default() {
        let r = search_repos(&repos(), &[], &SearchOptions::default()).unwrap();
        assert_eq!(
            names(&r),
            [
                "other/nginx@1.0.0",
                "testing/alpine@0.2.0",
                "testing/mariadb@0.3.0"
            ]
        );
    }

    #[test]
    fn devel_versions_and_constraints() {
        let devel = SearchOptions {
            devel: true,
            ..Default::default()
        };
        let r = search_repos(&repos(), &["alpine".into()], &devel).unwrap();
        assert_eq!(
            names(&r),
            ["testing/alpine@0.3.0-rc.1", "testing/mariadb@0.3.0"]
        );
        let all = SearchOptions {
            versions: true,
            ..Default::default()
        };
        let r = search_repos(&repos(), &["alpine".into()], &all).unwrap();
        assert_eq!(
            names(&r),
            [
                "testing/alpine@0.2.0",
                "testing/alpine@0.1.0",
                "testing/mariadb@0.3.0"
            ]
        );
        let constrained = SearchOptions {
            version: "<0.2".into(),
            ..Default::default()
        };
        let r = search_repos(&repos(), &["alpine".into()], &constrained).unwrap();
        assert_eq!(names(&r), ["testing/alpine@0.1.0"]);
        let bad = SearchOptions {
            version: "abc".into(),
            ..Default::default()
        };
        assert_eq!(
            search_repos(&repos(), &[], &bad).unwrap_err().to_string(),
            "an invalid version/constraint format: improper constraint: \"abc\""
        );
    }

    #[test]
    fn score_is_the_field_the_term_matched_in() {
        // "alpine" is in mariadb's keywords (score 3), alpine's own name (score 0).
        let mut index = SearchIndex::new();
        for (name, file) in repos() {
            index.add_repo(&name, &file, false);
        }
        let mut r = index.search("ALPINE", MAX_SCORE, false).unwrap();
        sort_results(&mut r);
        let scores: Vec<(String, usize)> = r.iter().map(|r| (r.name.clone(), r.score)).collect();
        assert_eq!(
            scores,
            [
                ("testing/alpine".to_string(), 0),
                ("testing/mariadb".to_string(), 3)
            ]
        );
        let r = index.search("^ngin", MAX_SCORE, true).unwrap();
        assert_eq!(names(&r), ["other/nginx@1.0.0"]);
        assert!(index.search("(", MAX_SCORE, true).is_err());
    }
}
