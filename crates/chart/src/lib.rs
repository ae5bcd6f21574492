//! Helm charts: the chart model ([`Chart`]), loading it from a folder or an archive,
//! `Chart.yaml` metadata, dependencies (conditions, tags, aliases, import-values), values
//! coalescing, Helm's `--set` syntax and `values.schema.json` validation.
//! (Skeleton: being filled in.)

use rudder_value::Value;

/// One file of a chart: its path relative to the chart root (`/`-separated) and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub data: Vec<u8>,
}

/// `Chart.yaml` (Helm's `chart.Metadata`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: std::collections::BTreeMap<String, String>,
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    pub chart_type: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// A dependency entry of `Chart.yaml` (v2) or `requirements.yaml` (v1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    /// Each entry is a string (`"data"`) or a map `{child, parent}`, kept as values.
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// `Chart.lock` / `requirements.lock`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lock {
    pub generated: String,
    pub digest: String,
    pub dependencies: Vec<Dependency>,
}

/// A loaded chart and, in `dependencies`, its subcharts (Helm's `chart.Chart`).
#[derive(Clone, Debug, Default)]
pub struct Chart {
    /// The raw `Chart.yaml` bytes are not kept; this is its parsed form.
    pub metadata: Metadata,
    pub lock: Option<Lock>,
    /// Files under `templates/`, names including the `templates/` prefix.
    pub templates: Vec<File>,
    /// The chart's default values (`values.yaml`), a map (empty if there is none).
    pub values: Value,
    /// The raw bytes of `values.schema.json`, if present.
    pub schema: Option<Vec<u8>>,
    /// Every other file (README, LICENSE, crds/, files for `.Files`, ...).
    pub files: Vec<File>,
    /// Subcharts, in load order.
    pub dependencies: Vec<Chart>,
    /// For a subchart: the names of its ancestors, root first (Helm's `Parent()` chain),
    /// used to build template paths like `parent/charts/sub/templates/x.yaml`.
    pub parents: Vec<String>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Helm's `ChartFullPath`: `root/charts/sub/charts/subsub`.
    pub fn full_path(&self) -> String {
        let mut path = String::new();
        for p in &self.parents {
            path.push_str(p);
            path.push_str("/charts/");
        }
        path.push_str(self.name());
        path
    }

    pub fn is_root(&self) -> bool {
        self.parents.is_empty()
    }

    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }
}
