//! Helm's own pure template functions (pkg/engine/funcs.go) and Sprig's JSON and date
//! functions.

use std::any::Any as StdAny;
use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, Local, TimeZone, Timelike, Utc};
use rudder_gotmpl::FuncMap;
#[allow(unused_imports)]
use rudder_gotmpl::ParamType::{Any, Bool, Float64, Int, Map as MapT, String as Str};
use rudder_value::{json, yaml, Kind, Map, Object, Value};

use crate::add;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "array",
        Value::Map(_) => "object",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Nil => "null",
        _ => "number",
    }
}

fn error_map(msg: String) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::from(msg));
    Value::map(m)
}

/// sigs.k8s.io/yaml wraps the JSON decoder's errors; encoding/json (fromJson) does not.
const YAML_JSON_PREFIX: &str = "error unmarshaling JSON: while decoding JSON: ";

fn as_map_result(parsed: Result<Value, impl std::fmt::Display>) -> Value {
    as_map_result_with(parsed, YAML_JSON_PREFIX)
}

fn as_map_result_with(parsed: Result<Value, impl std::fmt::Display>, prefix: &str) -> Value {
    match parsed {
        Ok(v @ Value::Map(_)) => v,
        Ok(Value::Nil) => Value::map(Map::new()),
        Ok(other) => error_map(format!(
            "{prefix}json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            go_json_kind(&other)
        )),
        Err(e) => error_map(e.to_string()),
    }
}

fn as_list_result(parsed: Result<Value, impl std::fmt::Display>) -> Value {
    as_list_result_with(parsed, YAML_JSON_PREFIX)
}

fn as_list_result_with(parsed: Result<Value, impl std::fmt::Display>, prefix: &str) -> Value {
    match parsed {
        Ok(v @ Value::List(_)) => v,
        Ok(Value::Nil) => Value::list(Vec::new()),
        Ok(other) => Value::list(vec![Value::from(format!(
            "{prefix}json: cannot unmarshal {} into Go value of type []interface {{}}",
            go_json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::from(e.to_string())]),
    }
}

fn trim_newline(s: String) -> String {
    s.strip_suffix('\n').map(str::to_string).unwrap_or(s)
}

pub(crate) fn register(m: &mut FuncMap) {
    add(m, "toYaml", &[Any], None, |a| {
        Ok(Value::from(
            yaml::to_yaml(&a[0]).map(trim_newline).unwrap_or_default(),
        ))
    });
    add(m, "mustToYaml", &[Any], None, |a| {
        yaml::to_yaml(&a[0])
            .map(|y| Value::from(trim_newline(y)))
            .map_err(|e| e.to_string())
    });
    add(m, "toYamlPretty", &[Any], None, |a| {
        Ok(Value::from(
            yaml::to_yaml_pretty(&a[0])
                .map(trim_newline)
                .unwrap_or_default(),
        ))
    });
    add(m, "fromYaml", &[Str], None, |a| {
        Ok(as_map_result(yaml::from_yaml(s(&a[0]))))
    });
    add(m, "fromYamlArray", &[Str], None, |a| {
        Ok(as_list_result(yaml::from_yaml(s(&a[0]))))
    });
    add(m, "toJson", &[Any], None, |a| {
        Ok(Value::from(json::to_json(&a[0]).unwrap_or_default()))
    });
    add(m, "mustToJson", &[Any], None, |a| {
        json::to_json(&a[0])
            .map(Value::from)
            .map_err(|e| e.to_string())
    });
    add(m, "fromJson", &[Str], None, |a| {
        Ok(as_map_result_with(json::from_json(s(&a[0])), ""))
    });
    add(m, "fromJsonArray", &[Str], None, |a| {
        Ok(match json::from_json(s(&a[0])) {
            // encoding/json sets the slice to nil for a JSON null (fromYamlArray's reader
            // leaves its empty list as it is).
            Ok(Value::Nil) => Value::nil_list(),
            parsed => as_list_result_with(parsed, ""),
        })
    });
    add(m, "toToml", &[Any], None, |a| {
        if a[0].is_nil() {
            // Go's reflection panics on the nil interface: a template error, not a result.
            return crate::toml_fmt::to_toml(&a[0])
                .map(Value::from)
                .map_err(|e| e.to_string());
        }
        Ok(Value::from(
            crate::toml_fmt::to_toml(&a[0]).unwrap_or_else(|e| e.to_string()),
        ))
    });
    add(m, "mustToToml", &[Any], None, |a| {
        crate::toml_fmt::to_toml(&a[0])
            .map(Value::from)
            .map_err(|e| e.to_string())
    });
    add(m, "fromToml", &[Str], None, |a| {
        Ok(match crate::toml_fmt::from_toml(s(&a[0])) {
            Ok(m) => Value::map(m),
            Err(e) => error_map(e.to_string()),
        })
    });
}

/// Sprig's JSON helpers and date functions (registered with Sprig's set).
pub(crate) fn register_dates(m: &mut FuncMap) {
    add(m, "toPrettyJson", &[Any], None, |a| {
        Ok(Value::from(
            json::to_json_indent(&a[0], "", "  ").unwrap_or_default(),
        ))
    });
    add(m, "mustToPrettyJson", &[Any], None, |a| {
        json::to_json_indent(&a[0], "", "  ")
            .map(Value::from)
            .map_err(|e| e.to_string())
    });
    // Sprig's toRawJson panics where toJson would return "".
    add(m, "toRawJson", &[Any], None, |a| {
        json::to_raw_json(&a[0])
            .map(Value::from)
            .map_err(|e| e.to_string())
    });
    add(m, "mustToRawJson", &[Any], None, |a| {
        json::to_raw_json(&a[0])
            .map(Value::from)
            .map_err(|e| e.to_string())
    });
    add(m, "mustFromJson", &[Str], None, |a| {
        json::from_json(s(&a[0])).map_err(|e| e.to_string())
    });

    add(m, "now", &[], None, |_| {
        Ok(time_value(Local::now().fixed_offset()))
    });
    // Sprig's date and htmlDate are dateInZone with the local zone.
    add(m, "date", &[Str, Any], None, |a| {
        let (t, zone) = in_zone(as_time(&a[1]), "Local");
        Ok(Value::from(format_go_zone(&t, zone.as_deref(), s(&a[0]))))
    });
    for name in ["dateInZone", "date_in_zone"] {
        add(m, name, &[Str, Any, Str], None, |a| {
            let (t, zone) = in_zone(as_time(&a[1]), s(&a[2]));
            Ok(Value::from(format_go_zone(&t, zone.as_deref(), s(&a[0]))))
        });
    }
    add(m, "htmlDate", &[Any], None, |a| {
        let (t, _) = in_zone(as_time(&a[0]), "Local");
        Ok(Value::from(format_go(&t, "2006-01-02")))
    });
    add(m, "htmlDateInZone", &[Any, Str], None, |a| {
        let (t, _) = in_zone(as_time(&a[0]), s(&a[1]));
        Ok(Value::from(format_go(&t, "2006-01-02")))
    });
    add(m, "unixEpoch", &[Any], None, |a| {
        Ok(Value::from(as_time(&a[0]).timestamp().to_string()))
    });
    add(m, "ago", &[Any], None, |a| {
        let secs = (Local::now().fixed_offset() - as_time(&a[0])).num_seconds();
        Ok(Value::from(go_duration(secs as i128 * 1_000_000_000)))
    });
    add(m, "duration", &[Any], None, |a| {
        // Sprig only understands strings and int64 here; anything else is 0.
        let n: i64 = match &a[0] {
            Value::String(s) => rudder_value::gofmt::parse_int(s, 10).unwrap_or(0),
            Value::Int64(n) => *n,
            _ => 0,
        };
        Ok(Value::from(go_duration(n as i128 * 1_000_000_000)))
    });
    add(m, "durationRound", &[Any], None, |a| {
        let nanos: i128 = match &a[0] {
            Value::String(t) => parse_go_duration(t).unwrap_or(0),
            Value::Int64(n) => *n as i128,
            Value::Object(_) => (Local::now().fixed_offset() - as_time(&a[0]))
                .num_nanoseconds()
                .unwrap_or(0) as i128,
            _ => 0,
        };
        let u = nanos.unsigned_abs();
        let (sec, min, hour) = (1_000_000_000u128, 60_000_000_000u128, 3_600_000_000_000u128);
        let (day, month, year) = (hour * 24, hour * 24 * 30, hour * 24 * 365);
        let out = if u > year {
            format!("{}y", u / year)
        } else if u > month {
            format!("{}mo", u / month)
        } else if u > day {
            format!("{}d", u / day)
        } else if u > hour {
            format!("{}h", u / hour)
        } else if u > min {
            format!("{}m", u / min)
        } else if u > sec {
            format!("{}s", u / sec)
        } else {
            "0s".into()
        };
        Ok(Value::from(out))
    });
    add(m, "toDate", &[Str, Str], None, |a| {
        Ok(time_value(
            rudder_value::gotime::parse_in_local(s(&a[0]), s(&a[1]))
                .unwrap_or_else(|_| zero_time()),
        ))
    });
    add(m, "mustToDate", &[Str, Str], None, |a| {
        rudder_value::gotime::parse_in_local(s(&a[0]), s(&a[1]))
            .map(time_value)
            .map_err(|e| e.to_string())
    });
    for name in ["mustDateModify", "must_date_modify"] {
        add(m, name, &[Str, Any], None, |a| {
            let t = as_time(&a[1]);
            let d = go_duration_result(s(&a[0]))?;
            Ok(time_value(t + chrono::Duration::nanoseconds(d as i64)))
        });
    }
    for name in ["dateModify", "date_modify"] {
        add(m, name, &[Str, Any], None, |a| {
            let t = as_time(&a[1]);
            Ok(match parse_go_duration(s(&a[0])) {
                Some(d) => time_value(t + chrono::Duration::nanoseconds(d as i64)),
                None => time_value(t),
            })
        });
    }
}

/// A Go `time.Time`.
#[derive(Debug)]
struct TimeObject(DateTime<FixedOffset>);

fn time_value(t: DateTime<FixedOffset>) -> Value {
    Value::Object(Arc::new(TimeObject(t)))
}

/// The time of a `time.Time` value.
pub(crate) fn time_of(v: &Value) -> Option<DateTime<FixedOffset>> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<TimeObject>().map(|t| t.0),
        _ => None,
    }
}

/// A TOML date-time as a `time.Time` (local date-times, dates and times are taken as UTC).
pub(crate) fn time_value_of(d: &::toml::value::Datetime) -> Option<Value> {
    let date = d.date?;
    let (h, mi, sec, ns) = d
        .time
        .map(|t| (t.hour, t.minute, t.second, t.nanosecond))
        .unwrap_or((0, 0, 0, 0));
    let off = match d.offset {
        Some(::toml::value::Offset::Custom { minutes }) => minutes as i32 * 60,
        _ => 0,
    };
    let tz = FixedOffset::east_opt(off)?;
    let t = tz
        .with_ymd_and_hms(
            date.year as i32,
            date.month as u32,
            date.day as u32,
            h as u32,
            mi as u32,
            sec as u32,
        )
        .single()?
        + chrono::Duration::nanoseconds(ns as i64);
    Some(time_value(t))
}

/// Go's zero `time.Time` (January 1, year 1, UTC).
fn zero_time() -> DateTime<FixedOffset> {
    Utc.timestamp_opt(-62135596800, 0)
        .single()
        .expect("zero time")
        .fixed_offset()
}

fn as_time(v: &Value) -> DateTime<FixedOffset> {
    match v {
        Value::Object(o) => match o.as_any().downcast_ref::<TimeObject>() {
            Some(t) => t.0,
            None => Local::now().fixed_offset(),
        },
        Value::Int(n) | Value::Int64(n) => Local
            .timestamp_opt(*n, 0)
            .single()
            .map(|t| t.fixed_offset())
            .unwrap_or_else(|| Local::now().fixed_offset()),
        _ => Local::now().fixed_offset(),
    }
}

/// Go's `t.In(time.LoadLocation(zone))`, with UTC for a zone it cannot load (as Sprig does),
/// and the zone's abbreviation for `MST` in layouts. Named zones come from the IANA database
/// compiled into `chrono-tz` (Go reads the same database from the system).
fn in_zone(t: DateTime<FixedOffset>, zone: &str) -> (DateTime<FixedOffset>, Option<String>) {
    match zone {
        "Local" => (t.with_timezone(&Local).fixed_offset(), None),
        "UTC" | "" => (t.with_timezone(&Utc).fixed_offset(), None),
        name => match name.parse::<chrono_tz::Tz>() {
            Ok(tz) => {
                use chrono::Offset;
                use chrono_tz::OffsetName;
                let z = t.with_timezone(&tz);
                let abbr = z.offset().abbreviation().map(str::to_string);
                let fixed = z.offset().fix();
                (t.with_timezone(&fixed), abbr)
            }
            Err(_) => (t.with_timezone(&Utc).fixed_offset(), None),
        },
    }
}

impl Object for TimeObject {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn kind(&self) -> Kind {
        Kind::Struct
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Unix"
                | "UnixNano"
                | "Format"
                | "Year"
                | "Day"
                | "Hour"
                | "Minute"
                | "Second"
                | "UTC"
                | "String"
                | "Month"
                | "Weekday"
                | "YearDay"
                | "Nanosecond"
                | "IsZero"
        )
    }
    fn method_params(&self, name: &str) -> Option<&'static [rudder_gotmpl::ParamType]> {
        Some(match name {
            "Format" => &[rudder_gotmpl::ParamType::String],
            _ => &[],
        })
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let t = &self.0;
        Ok(match name {
            "Unix" => Value::Int64(t.timestamp()),
            "UnixNano" => Value::Int64(t.timestamp_nanos_opt().unwrap_or(0)),
            "Format" => Value::from(format_go(
                t,
                args.first().and_then(Value::as_str).unwrap_or_default(),
            )),
            "Year" => Value::Int(t.year() as i64),
            "Day" => Value::Int(t.day() as i64),
            "Hour" => Value::Int(t.hour() as i64),
            "Minute" => Value::Int(t.minute() as i64),
            "Second" => Value::Int(t.second() as i64),
            "UTC" => time_value(t.with_timezone(&Utc).fixed_offset()),
            "Month" => Value::from(rudder_value::gotime::MONTHS[t.month0() as usize]),
            "Weekday" => {
                Value::from(rudder_value::gotime::DAYS[t.weekday().num_days_from_sunday() as usize])
            }
            "YearDay" => Value::Int(t.ordinal() as i64),
            "Nanosecond" => Value::Int(t.nanosecond() as i64),
            "IsZero" => Value::Bool(t.timestamp() == -62135596800 && t.nanosecond() == 0),
            "String" => Value::from(format_go(t, "2006-01-02 15:04:05.999999999 -0700 MST")),
            _ => return Err(format!("no method {name}")),
        })
    }
    fn fmt_v(&self, out: &mut String) {
        out.push_str(&format_go(
            &self.0,
            "2006-01-02 15:04:05.999999999 -0700 MST",
        ));
    }
    fn to_data(&self) -> Option<Value> {
        Some(Value::from(format_go(
            &self.0,
            "2006-01-02T15:04:05.999999999Z07:00",
        )))
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
}

/// Go's `Time.Format` with a reference-time layout.
pub(crate) fn format_go(t: &DateTime<FixedOffset>, layout: &str) -> String {
    format_go_zone(t, None, layout)
}

/// [`format_go`] for a time in a named zone whose abbreviation `MST` prints.
pub(crate) fn format_go_zone(
    t: &DateTime<FixedOffset>,
    zone: Option<&str>,
    layout: &str,
) -> String {
    rudder_value::gotime::format(t, zone, layout)
}

/// Go's `time.ParseDuration` with its error texts, in nanoseconds.
fn go_duration_result(text: &str) -> Result<i128, String> {
    rudder_value::goduration::parse(text).map_err(|e| e.to_string())
}

fn parse_go_duration(text: &str) -> Option<i128> {
    rudder_value::goduration::parse(text).ok()
}

/// Go's `Duration.String` for a whole number of nanoseconds.
pub(crate) fn go_duration(nanos: i128) -> String {
    rudder_value::goduration::format(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(90 * 1_000_000_000), "1m30s");
        assert_eq!(go_duration(7200 * 1_000_000_000), "2h0m0s");
        assert_eq!(parse_go_duration("1h30m"), Some(5400 * 1_000_000_000));
    }

    #[test]
    fn formats_go_layouts() {
        let t = DateTime::parse_from_rfc3339("2024-03-05T07:08:09Z").unwrap();
        assert_eq!(format_go(&t, "2006-01-02 15:04:05"), "2024-03-05 07:08:09");
        assert_eq!(
            format_go(&t, "Jan 2, 2006 at 3:04pm (MST)"),
            "Mar 5, 2024 at 7:08am (UTC)"
        );
    }
}
