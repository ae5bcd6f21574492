//! `helm search hub` (Helm v4.2.3's pkg/cmd/search_hub.go): the results of a Monocular-style
//! search (`rudder_repo::hub`) as Helm's `hubSearchWriter` prints them.

use rudder_repo::hub::{self, HubError, HubResult};
use rudder_value::{Map, Value};

use crate::Error;

/// Helm's default `--endpoint`.
pub const DEFAULT_HUB_ENDPOINT: &str = "https://hub.helm.sh";

/// The flags of `rudder search hub`.
#[derive(Clone, Debug)]
pub struct SearchHubOptions {
    pub endpoint: String,
    pub max_col_width: usize,
    pub list_repo_url: bool,
    pub fail_on_no_result: bool,
    /// `table`, `json` or `yaml`.
    pub output: String,
}

/// One row of Helm's `hubChartElement`.
struct Element {
    url: String,
    version: String,
    app_version: String,
    description: String,
    repo_url: String,
    repo_name: String,
}

/// `newHubSearchWriter`: a result's URL is its Artifact Hub page, or for a plain Monocular
/// instance `ENDPOINT/charts/ID`.
fn element(endpoint: &str, r: HubResult) -> Element {
    let url = if r.package_url.is_empty() {
        format!("{endpoint}/charts/{}", r.id)
    } else {
        r.package_url
    };
    Element {
        url,
        version: r.version,
        app_version: r.app_version,
        description: r.description,
        repo_url: r.repo_url,
        repo_name: r.repo_name,
    }
}

/// Searches the hub for `keywords` (joined by spaces) and returns what Helm prints. Helm
/// prints a failed search as `unable to perform search against "ENDPOINT"` and logs its cause
/// at debug level: the [`HubError`] in [`SearchHubError::Hub`] has both.
pub fn search_hub(
    keywords: &[String],
    options: &SearchHubOptions,
) -> Result<String, SearchHubError> {
    let results = hub::search(&options.endpoint, &keywords.join(" "))?;
    format_results(&options.endpoint, results, options)
}

/// Why `search hub` failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchHubError {
    #[error(transparent)]
    Hub(#[from] HubError),
    /// `--fail-on-no-result` and nothing found.
    #[error("no results found")]
    NoResults,
}

impl From<SearchHubError> for Error {
    fn from(e: SearchHubError) -> Error {
        Error::message(e.to_string())
    }
}

/// The text of `results` in the chosen format.
pub fn format_results(
    endpoint: &str,
    results: Vec<HubResult>,
    options: &SearchHubOptions,
) -> Result<String, SearchHubError> {
    let elements: Vec<Element> = results.into_iter().map(|r| element(endpoint, r)).collect();
    // WriteTable and encodeByFormat both fail first when asked to.
    if elements.is_empty() && options.fail_on_no_result {
        return Err(SearchHubError::NoResults);
    }
    match options.output.as_str() {
        "json" => Ok(json(&elements)),
        "yaml" => Ok(yaml(&elements)),
        _ => Ok(table(&elements, options)),
    }
}

fn table(elements: &[Element], options: &SearchHubOptions) -> String {
    if elements.is_empty() {
        return "No results found\n".to_string();
    }
    let mut header = vec!["URL", "CHART VERSION", "APP VERSION", "DESCRIPTION"];
    if options.list_repo_url {
        header.push("REPO URL");
    }
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for e in elements {
        let mut row = vec![
            e.url.clone(),
            e.version.clone(),
            e.app_version.clone(),
            e.description.clone(),
        ];
        if options.list_repo_url {
            row.push(e.repo_url.clone());
        }
        rows.push(row);
    }
    // output.EncodeTable: the table, then a line break.
    format!(
        "{}\n",
        crate::table::table(&rows, Some(options.max_col_width)).trim_end_matches('\n')
    )
}

/// `output.EncodeJSON` of `[]hubChartElement`: Go's encoder, fields in struct order, HTML
/// characters escaped, one line.
fn json(elements: &[Element]) -> String {
    let string = |s: &str| serde_json::Value::from(s).to_string();
    let objects: Vec<String> = elements
        .iter()
        .map(|e| {
            format!(
                "{{\"url\":{},\"version\":{},\"app_version\":{},\"description\":{},\"repository\":{{\"url\":{},\"name\":{}}}}}",
                string(&e.url),
                string(&e.version),
                string(&e.app_version),
                string(&e.description),
                string(&e.repo_url),
                string(&e.repo_name),
            )
        })
        .collect();
    format!("[{}]\n", objects.join(","))
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// `output.EncodeYAML` (sigs.k8s.io/yaml: through JSON, keys sorted).
fn yaml(elements: &[Element]) -> String {
    let text = |s: &str| Value::from(s.to_string());
    let list: Vec<Value> = elements
        .iter()
        .map(|e| {
            let mut repository = Map::new();
            repository.insert("url".to_string(), text(&e.repo_url));
            repository.insert("name".to_string(), text(&e.repo_name));
            let mut map = Map::new();
            map.insert("url".to_string(), text(&e.url));
            map.insert("version".to_string(), text(&e.version));
            map.insert("app_version".to_string(), text(&e.app_version));
            map.insert("description".to_string(), text(&e.description));
            map.insert("repository".to_string(), Value::map(repository));
            Value::map(map)
        })
        .collect();
    rudder_value::yaml::to_yaml(&Value::list(list)).unwrap_or_default()
}
