//! The release record, field for field as Helm v4 serialises it (`pkg/release/v1`), and its
//! encoding for storage: JSON, gzip at best compression, then standard base64.
//!
//! The chart is kept as raw JSON: Helm stores templates, files and metadata that rudder only
//! needs to read back (names, versions, values), and keeping it opaque preserves every field
//! a Helm of any version wrote.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;

/// Release statuses (`pkg/release/common/status.go`).
pub mod status {
    pub const UNKNOWN: &str = "unknown";
    pub const DEPLOYED: &str = "deployed";
    pub const UNINSTALLED: &str = "uninstalled";
    pub const SUPERSEDED: &str = "superseded";
    pub const FAILED: &str = "failed";
    pub const UNINSTALLING: &str = "uninstalling";
    pub const PENDING_INSTALL: &str = "pending-install";
    pub const PENDING_UPGRADE: &str = "pending-upgrade";
    pub const PENDING_ROLLBACK: &str = "pending-rollback";

    pub fn is_pending(status: &str) -> bool {
        matches!(status, PENDING_INSTALL | PENDING_UPGRADE | PENDING_ROLLBACK)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Release {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Json::is_null")]
    pub chart: Json,
    /// The values the user supplied (not coalesced with the chart's).
    #[serde(default, skip_serializing_if = "is_empty_object")]
    pub config: Json,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// User labels (`--labels`): kept on the storage object, not in the JSON.
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    /// `ssa` or `csa` (Helm 4); empty for records written by Helm 3.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub apply_method: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Info {
    #[serde(
        default,
        deserialize_with = "time_or_empty",
        skip_serializing_if = "String::is_empty"
    )]
    pub first_deployed: String,
    #[serde(
        default,
        deserialize_with = "time_or_empty",
        skip_serializing_if = "String::is_empty"
    )]
    pub last_deployed: String,
    #[serde(
        default,
        deserialize_with = "time_or_empty",
        skip_serializing_if = "String::is_empty"
    )]
    pub deleted: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Json>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Hook {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    #[serde(default)]
    pub last_run: HookExecution,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_log_policies: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HookExecution {
    #[serde(
        default,
        deserialize_with = "time_or_empty",
        skip_serializing_if = "String::is_empty"
    )]
    pub started_at: String,
    #[serde(
        default,
        deserialize_with = "time_or_empty",
        skip_serializing_if = "String::is_empty"
    )]
    pub completed_at: String,
    /// `Unknown`, `Running`, `Succeeded` or `Failed`; Helm always writes it, even empty.
    #[serde(default)]
    pub phase: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_empty_object(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Helm 3 wrote zero times as `""` (and Go's zero time as `0001-01-01T00:00:00Z`); both read
/// as "not set".
fn time_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(match s {
        Some(s) if s.starts_with("0001-01-01T00:00:00") => String::new(),
        Some(s) => s,
        None => String::new(),
    })
}

impl Release {
    pub fn status(&self) -> &str {
        self.info.as_ref().map(|i| i.status.as_str()).unwrap_or("")
    }

    pub fn set_status(&mut self, status: &str, description: &str) {
        let info = self.info.get_or_insert_with(Info::default);
        info.status = status.to_string();
        if !description.is_empty() {
            info.description = description.to_string();
        }
    }

    /// `chart.metadata.<field>` as a string.
    pub fn chart_field(&self, field: &str) -> &str {
        self.chart["metadata"][field].as_str().unwrap_or("")
    }

    /// `name-version`, as `helm list` shows the chart.
    pub fn chart_label(&self) -> String {
        format!(
            "{}-{}",
            self.chart_field("name"),
            self.chart_field("version")
        )
    }
}

/// `base64(gzip(json))`, as Helm's `encodeRelease`.
pub fn encode(release: &Release) -> Result<String, String> {
    let json = serde_json::to_vec(release).map_err(|e| e.to_string())?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json).map_err(|e| e.to_string())?;
    let zipped = gz.finish().map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(zipped))
}

/// The inverse of [`encode`]; like Helm, accepts JSON that was never gzipped.
pub fn decode(text: &str) -> Result<Release, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("decoding release: {e}"))?;
    let json = if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("decompressing release: {e}"))?;
        out
    } else {
        bytes
    };
    serde_json::from_slice(&json).map_err(|e| format!("decoding release JSON: {e}"))
}

/// Now, as Go's `time.Time` marshals to JSON (RFC 3339 with trailing zeros of the fraction
/// dropped), in local time.
pub fn now() -> String {
    format_time(&chrono::Local::now().fixed_offset())
}

pub fn format_time(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let mut out = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    if t.offset().local_minus_utc() == 0 {
        out.push('Z');
    } else {
        out.push_str(&t.format("%:z").to_string());
    }
    out
}

pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_storage_encoding() {
        let mut rel = Release {
            name: "demo".into(),
            version: 3,
            namespace: "ns".into(),
            manifest: "---\n# Source: x\n".into(),
            config: serde_json::json!({"a": 1}),
            ..Release::default()
        };
        rel.set_status(status::DEPLOYED, "Upgrade complete");
        let text = encode(&rel).unwrap();
        assert_eq!(decode(&text).unwrap(), rel);
    }

    #[test]
    fn reads_plain_json_and_helm3_empty_times() {
        let json = r#"{"name":"a","info":{"first_deployed":"","last_deployed":"2020-01-01T00:00:00Z","deleted":"","status":"deployed"},"version":1}"#;
        let text = base64::engine::general_purpose::STANDARD.encode(json);
        let rel = decode(&text).unwrap();
        let info = rel.info.unwrap();
        assert_eq!(info.first_deployed, "");
        assert_eq!(info.last_deployed, "2020-01-01T00:00:00Z");
    }

    #[test]
    fn omits_empty_fields_as_go_does() {
        let rel = Release {
            name: "a".into(),
            hooks: vec![Hook::default()],
            ..Release::default()
        };
        assert_eq!(
            serde_json::to_string(&rel).unwrap(),
            r#"{"name":"a","hooks":[{"last_run":{"phase":""}}]}"#
        );
    }

    #[test]
    fn formats_times_like_go() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-25T05:44:00.071485770Z").unwrap();
        assert_eq!(format_time(&t), "2026-11-25T05:44:00.07148577Z");
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-25T05:44:00+02:00").unwrap();
        assert_eq!(format_time(&t), "2026-11-25T05:44:00+02:00");
    }
}
