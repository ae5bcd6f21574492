//! Helm's file locations (`helmpath` and the `HELM_REPOSITORY_*` settings).
//!
//! Each of the three bases is `HELM_{CACHE,CONFIG,DATA}_HOME` when set, else the XDG
//! variable plus `helm`, else the platform default plus `helm` (`~/.cache`, `~/.config`,
//! `~/.local/share` on Linux; `~/Library/Caches`, `~/Library/Preferences`, `~/Library` on
//! macOS). Paths are computed from an environment lookup so tests need not touch the
//! process environment.

use std::path::{Path, PathBuf};

/// The locations one Helm invocation uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmPaths {
    pub cache_home: PathBuf,
    pub config_home: PathBuf,
    pub data_home: PathBuf,
    /// `HELM_REPOSITORY_CONFIG`, else `<config>/repositories.yaml`.
    pub repository_config: PathBuf,
    /// `HELM_REPOSITORY_CACHE`, else `<cache>/repository`.
    pub repository_cache: PathBuf,
    /// `HELM_REGISTRY_CONFIG`, else `<config>/registry/config.json`.
    pub registry_config: PathBuf,
    /// `HELM_PLUGINS`, else `<data>/plugins`.
    pub plugins: PathBuf,
    /// `HELM_CONTENT_CACHE`, else `<cache>/content`: downloaded charts by digest.
    pub content_cache: PathBuf,
}

enum Base {
    Cache,
    Config,
    Data,
}

fn platform_default(home: &Path, base: &Base) -> PathBuf {
    if cfg!(target_os = "macos") {
        match base {
            Base::Cache => home.join("Library/Caches"),
            Base::Config => home.join("Library/Preferences"),
            Base::Data => home.join("Library"),
        }
    } else {
        match base {
            Base::Cache => home.join(".cache"),
            Base::Config => home.join(".config"),
            Base::Data => home.join(".local/share"),
        }
    }
}

/// The locations with no environment at all (no home, no variable): relative paths under
/// the working directory. For options built field by field in tests; the command line
/// always passes the paths of its settings.
impl Default for HelmPaths {
    fn default() -> HelmPaths {
        HelmPaths::from_lookup(|_| None)
    }
}

impl HelmPaths {
    /// Paths from the process environment.
    pub fn from_env() -> HelmPaths {
        HelmPaths::from_lookup(|name| std::env::var(name).ok())
    }

    /// Paths from any environment lookup (empty values count as unset, as in Helm).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> HelmPaths {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        // client-go's homedir: HOME, and on Windows USERPROFILE.
        let home = PathBuf::from(
            get("HOME")
                .or_else(|| get("USERPROFILE"))
                .unwrap_or_default(),
        );
        let base = |helm_var: &str, xdg_var: &str, which: Base| -> PathBuf {
            if let Some(dir) = get(helm_var) {
                return PathBuf::from(dir);
            }
            let root = get(xdg_var)
                .map(PathBuf::from)
                .unwrap_or_else(|| platform_default(&home, &which));
            root.join("helm")
        };
        let cache_home = base("HELM_CACHE_HOME", "XDG_CACHE_HOME", Base::Cache);
        let config_home = base("HELM_CONFIG_HOME", "XDG_CONFIG_HOME", Base::Config);
        let data_home = base("HELM_DATA_HOME", "XDG_DATA_HOME", Base::Data);
        let or = |name: &str, default: PathBuf| get(name).map(PathBuf::from).unwrap_or(default);
        HelmPaths {
            repository_config: or(
                "HELM_REPOSITORY_CONFIG",
                config_home.join("repositories.yaml"),
            ),
            repository_cache: or("HELM_REPOSITORY_CACHE", cache_home.join("repository")),
            registry_config: or(
                "HELM_REGISTRY_CONFIG",
                config_home.join("registry/config.json"),
            ),
            plugins: or("HELM_PLUGINS", data_home.join("plugins")),
            content_cache: or("HELM_CONTENT_CACHE", cache_home.join("content")),
            cache_home,
            config_home,
            data_home,
        }
    }

    /// `<repository cache>/<name>-index.yaml` (`helmpath.CacheIndexFile`).
    pub fn cache_index_file(&self, repo_name: &str) -> PathBuf {
        self.repository_cache
            .join(cache_file_name(repo_name, "index.yaml"))
    }

    /// `<repository cache>/<name>-charts.txt` (`helmpath.CacheChartsFile`).
    pub fn cache_charts_file(&self, repo_name: &str) -> PathBuf {
        self.repository_cache
            .join(cache_file_name(repo_name, "charts.txt"))
    }
}

fn cache_file_name(repo_name: &str, suffix: &str) -> String {
    if repo_name.is_empty() {
        suffix.to_string()
    } else {
        format!("{repo_name}-{suffix}")
    }
}

#[cfg(all(test, not(target_os = "macos")))]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn paths(vars: &[(&str, &str)]) -> HelmPaths {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HelmPaths::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_under_home() {
        let p = paths(&[("HOME", "/h")]);
        assert_eq!(
            p.repository_config,
            Path::new("/h/.config/helm/repositories.yaml")
        );
        assert_eq!(p.repository_cache, Path::new("/h/.cache/helm/repository"));
        assert_eq!(p.plugins, Path::new("/h/.local/share/helm/plugins"));
        assert_eq!(
            p.cache_index_file("stable"),
            Path::new("/h/.cache/helm/repository/stable-index.yaml")
        );
        assert_eq!(
            p.cache_charts_file("stable"),
            Path::new("/h/.cache/helm/repository/stable-charts.txt")
        );
    }

    #[test]
    fn helm_variables_win_over_xdg() {
        let p = paths(&[
            ("HOME", "/h"),
            ("XDG_CACHE_HOME", "/xc"),
            ("XDG_CONFIG_HOME", "/xf"),
            ("HELM_CONFIG_HOME", "/hc"),
            ("HELM_DATA_HOME", ""),
        ]);
        assert_eq!(p.cache_home, Path::new("/xc/helm"));
        assert_eq!(p.config_home, Path::new("/hc"));
        assert_eq!(p.data_home, Path::new("/h/.local/share/helm"));
        let p = paths(&[
            ("HOME", "/h"),
            ("HELM_REPOSITORY_CONFIG", "/r.yaml"),
            ("HELM_REPOSITORY_CACHE", "/rc"),
        ]);
        assert_eq!(p.repository_config, Path::new("/r.yaml"));
        assert_eq!(p.cache_index_file("a"), Path::new("/rc/a-index.yaml"));
    }
}
