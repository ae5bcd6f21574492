//! `helm repo add`, `remove` and `update`: repositories.yaml and the index cache, with
//! Helm's messages (pkg/cmd/repo_*.go).

use rudder_repo::chartrepo::download_index_file_within;
use rudder_repo::{HelmPaths, RepoEntry, RepoFile};

use rudder_value::gofmt::quote;

use crate::{Error, LogRecord};

/// The flags of `rudder repo add` that rudder supports so far.
#[derive(Clone, Debug, Default)]
pub struct RepoAddOptions {
    pub username: String,
    pub password: String,
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub insecure_skip_tls_verify: bool,
    pub pass_credentials_all: bool,
    /// `--force-update`: replace an entry of the same name.
    pub force_update: bool,
    /// `--timeout` of the index download; zero means Helm's default (120 s).
    pub timeout: std::time::Duration,
}

/// Adds a repository after checking that its index downloads; returns what Helm prints.
pub fn repo_add(
    paths: &HelmPaths,
    name: &str,
    url: &str,
    options: &RepoAddOptions,
) -> Result<String, Error> {
    // Helm reads a missing file as an empty one here (and only here).
    let mut file = match std::fs::read_to_string(&paths.repository_config) {
        Ok(text) => RepoFile::parse(&text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => RepoFile::parse("")?,
        Err(e) => return Err(Error::io(e)),
    };
    let entry = RepoEntry {
        name: name.to_string(),
        url: url.to_string(),
        username: options.username.clone(),
        password: options.password.clone(),
        cert_file: options.cert_file.clone(),
        key_file: options.key_file.clone(),
        ca_file: options.ca_file.clone(),
        insecure_skip_tls_verify: options.insecure_skip_tls_verify,
        pass_credentials_all: options.pass_credentials_all,
    };
    if name.contains('/') {
        return Err(Error::message(format!(
            "repository name ({name}) contains '/', please specify a different name without '/'"
        )));
    }
    if !options.force_update {
        if let Some(existing) = file.get(name) {
            if *existing != entry {
                return Err(Error::message(format!(
                    "repository name ({name}) already exists, please specify a different name"
                )));
            }
            return Ok(format!(
                "{} already exists with the same configuration, skipping\n",
                quote(name)
            ));
        }
    }
    download_index_file_within(&entry, paths, options.timeout).map_err(|e| {
        Error::message(format!(
            "looks like {} is not a valid chart repository or cannot be reached: {e}",
            quote(url)
        ))
    })?;
    file.update(entry);
    file.write(&paths.repository_config)?;
    Ok(format!(
        "{} has been added to your repositories\n",
        quote(name)
    ))
}

/// Removes repositories and their cached index; returns what Helm prints.
pub fn repo_remove(paths: &HelmPaths, names: &[String]) -> Result<String, Error> {
    let mut file = match RepoFile::load(&paths.repository_config) {
        Ok(f) if !f.repositories.is_empty() => f,
        Ok(_) => return Err(Error::message("no repositories configured")),
        Err(e) if e.is_not_found() => return Err(Error::message("no repositories configured")),
        Err(e) => return Err(e.into()),
    };
    let mut out = String::new();
    for name in names {
        if !file.remove(name) {
            return Err(Error::message(format!(
                "no repo named {} found",
                quote(name)
            )));
        }
        file.write(&paths.repository_config)?;
        let _ = std::fs::remove_file(paths.cache_charts_file(name));
        match std::fs::remove_file(paths.cache_index_file(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(e)),
        }
        out.push_str(&format!(
            "{} has been removed from your repositories\n",
            quote(name)
        ));
    }
    Ok(out)
}

/// Downloads the index of every repository (or of `names`). What Helm prints goes to
/// `out` as it happens; the error, if any, names the repositories that failed. Each
/// download may take `timeout` (`--timeout`; zero means Helm's default, 120 s).
pub fn repo_update(
    paths: &HelmPaths,
    names: &[String],
    timeout: std::time::Duration,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    const NO_REPOSITORIES: &str = "no repositories found. You must add one before updating";
    let file = match RepoFile::load(&paths.repository_config) {
        Ok(f) if !f.repositories.is_empty() => f,
        Ok(_) => return Err(Error::message(NO_REPOSITORIES)),
        Err(e) if e.is_not_found() => return Err(Error::message(NO_REPOSITORIES)),
        Err(e) => {
            return Err(Error::message(format!(
                "failed loading file: {}: {e}",
                paths.repository_config.display()
            )))
        }
    };
    for name in names {
        if !file.has(name) {
            return Err(Error::message(format!(
                "no repositories found matching '{name}'.  Nothing will be updated"
            )));
        }
    }
    writeln!(
        out,
        "Hang tight while we grab the latest from your chart repositories..."
    )
    .map_err(Error::io)?;
    let mut failed = Vec::new();
    // Helm fetches in parallel and prints in completion order; sequential is one such order.
    for entry in &file.repositories {
        if !names.is_empty() && !names.contains(&entry.name) {
            continue;
        }
        match download_index_file_within(entry, paths, timeout) {
            Ok(_) => writeln!(
                out,
                "...Successfully got an update from the {} chart repository",
                quote(&entry.name)
            ),
            Err(e) => {
                failed.push(entry.url.clone());
                writeln!(
                    out,
                    "...Unable to get an update from the {} chart repository ({}):\n\t{e}",
                    quote(&entry.name),
                    entry.url
                )
            }
        }
        .map_err(Error::io)?;
    }
    if !failed.is_empty() {
        return Err(Error::message(format!(
            "failed to update the following repositories: [{}]",
            failed.join(" ")
        )));
    }
    writeln!(out, "Update Complete. ⎈Happy Helming!⎈").map_err(Error::io)?;
    Ok(())
}

/// `helm repo list`: the table Helm prints, or `None` when there is nothing to list (Helm
/// then says "no repositories to show" on standard error and succeeds).
pub fn repo_list(paths: &HelmPaths, no_headers: bool) -> Option<String> {
    repo_list_as(paths, no_headers, "table")
}

/// `helm repo list -o table|json|yaml`; `None` when there is nothing to show in a table
/// (JSON and YAML print an empty list instead).
pub fn repo_list_as(paths: &HelmPaths, no_headers: bool, output: &str) -> Option<String> {
    // Helm ignores a missing or unreadable file here and lists nothing.
    let file = RepoFile::load(&paths.repository_config).unwrap_or_default();
    if matches!(output, "json" | "yaml") {
        let items: Vec<Vec<(&str, String)>> = file
            .repositories
            .iter()
            .map(|e| vec![("name", e.name.clone()), ("url", e.url.clone())])
            .collect();
        return Some(encode_list(&items, output));
    }
    if file.repositories.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    if !no_headers {
        rows.push(vec!["NAME".to_string(), "URL".to_string()]);
    }
    for entry in &file.repositories {
        rows.push(vec![entry.name.clone(), entry.url.clone()]);
    }
    Some(crate::table::table(&rows, None))
}

/// A list of flat objects as Helm's `output.EncodeJSON` (Go's JSON encoder: fields in
/// struct order, `<`, `>`, `&`, U+2028 and U+2029 escaped, a final line break) or
/// `output.EncodeYAML` (sigs.k8s.io/yaml: keys sorted) writes it.
fn encode_list(items: &[Vec<(&str, String)>], output: &str) -> String {
    if output == "yaml" {
        let list: Vec<rudder_value::Value> = items
            .iter()
            .map(|fields| {
                let map: rudder_value::Map = fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), rudder_value::Value::from(v.clone())))
                    .collect();
                rudder_value::Value::map(map)
            })
            .collect();
        return rudder_value::yaml::to_yaml(&rudder_value::Value::list(list)).unwrap_or_default();
    }
    let objects: Vec<String> = items
        .iter()
        .map(|fields| {
            let members: Vec<String> = fields
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        serde_json::Value::from(*k),
                        serde_json::Value::from(v.as_str())
                    )
                })
                .collect();
            format!("{{{}}}", members.join(","))
        })
        .collect();
    let text = format!("[{}]\n", objects.join(","));
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The flags of `rudder search repo`.
#[derive(Clone, Debug)]
pub struct SearchRepoOptions {
    /// `-o table|json|yaml`.
    pub output: String,
    pub search: rudder_repo::search::SearchOptions,
    /// `--max-col-width` (Helm's default is 50).
    pub max_col_width: usize,
    pub fail_on_no_result: bool,
}

/// `helm search repo [KEYWORD...]` over the cached indexes of the configured repositories.
/// Returns the table and a warning per repository whose cached index could not be read
/// (logged by Helm as `repo is corrupt or missing`, with the repository and the error).
pub fn search_repo(
    paths: &HelmPaths,
    keywords: &[String],
    options: &SearchRepoOptions,
) -> Result<(String, Vec<LogRecord>), Error> {
    let file = match RepoFile::load(&paths.repository_config) {
        Ok(f) if !f.repositories.is_empty() => f,
        _ => return Err(Error::message("no repositories configured")),
    };
    let mut indexes = Vec::new();
    let mut warnings = Vec::new();
    for entry in &file.repositories {
        match rudder_repo::IndexFile::load(&paths.cache_index_file(&entry.name)) {
            Ok(index) => indexes.push((entry.name.clone(), index)),
            Err(e) => warnings.push(
                LogRecord::warn("repo is corrupt or missing")
                    .with("repo", entry.name.as_str())
                    .with("error", e.to_string()),
            ),
        }
    }
    let results = rudder_repo::search::search_repos(&indexes, keywords, &options.search)?;
    if results.is_empty() && options.fail_on_no_result {
        return Err(Error::message("no results found"));
    }
    if matches!(options.output.as_str(), "json" | "yaml") {
        let items: Vec<Vec<(&str, String)>> = results
            .into_iter()
            .map(|r| {
                vec![
                    ("name", r.name),
                    ("version", r.chart.version),
                    ("app_version", r.chart.app_version),
                    ("description", r.chart.description),
                ]
            })
            .collect();
        return Ok((encode_list(&items, &options.output), warnings));
    }
    if results.is_empty() {
        return Ok(("No results found\n".to_string(), warnings));
    }
    let mut rows = vec![["NAME", "CHART VERSION", "APP VERSION", "DESCRIPTION"]
        .map(String::from)
        .to_vec()];
    rows.extend(results.into_iter().map(|r| {
        vec![
            r.name,
            r.chart.version,
            r.chart.app_version,
            r.chart.description,
        ]
    }));
    Ok((
        crate::table::table(&rows, Some(options.max_col_width)),
        warnings,
    ))
}

#[cfg(test)]
mod encode_tests {
    use super::encode_list;

    #[test]
    fn json_escapes_as_gos_encoder_and_yaml_sorts_keys() {
        let items = vec![vec![
            ("name", "a/<b>".to_string()),
            ("description", "x & y \u{2028} \"q\"".to_string()),
        ]];
        assert_eq!(
            encode_list(&items, "json"),
            "[{\"name\":\"a/\\u003cb\\u003e\",\"description\":\"x \\u0026 y \\u2028 \\\"q\\\"\"}]\n"
        );
        assert_eq!(
            encode_list(&items, "yaml"),
            // libyaml's (and go-yaml's) escape for U+2028 in a double-quoted scalar.
            "- description: \"x & y \\L \\\"q\\\"\"\n  name: a/<b>\n"
        );
        assert_eq!(encode_list(&[], "json"), "[]\n");
    }
}
