//! YAML as Helm reads and writes it: `sigs.k8s.io/yaml` over go-yaml v2 (YAML 1.1 scalars:
//! `yes`/`no`/`on`/`off`/`y`/`n` are booleans; every number becomes float64 through the
//! JSON round trip; map keys become strings). (Skeleton: being filled in.)

use crate::Value;

/// `sigs.k8s.io/yaml.Unmarshal` into `interface{}` (values files, `fromYaml`).
pub fn from_yaml(text: &str) -> Result<Value, String> {
    let _ = text;
    Err("from_yaml: not implemented yet".into())
}

/// `sigs.k8s.io/yaml.Marshal` (`toYaml` before Helm trims the trailing newline).
pub fn to_yaml(v: &Value) -> Result<String, String> {
    let _ = v;
    Err("to_yaml: not implemented yet".into())
}
