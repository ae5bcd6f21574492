//! Scalars resolved as go-yaml v2 resolves them (YAML 1.1 booleans, base-0 integers, floats,
//! timestamps, explicit tags).

use std::borrow::Cow;

use crate::Value;

/// A scalar resolved the way go-yaml v2 resolves plain scalars.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// A date/time: go-yaml v2 keeps the original text when decoding into `interface{}`,
    /// but the encoder quotes strings that look like one.
    Time(String),
}

/// go-yaml v2's `resolve` for a plain scalar without tag.
pub(super) fn resolve_plain(s: &str) -> Scalar {
    resolve_plain_kind(s).into_scalar(s)
}

/// What a plain scalar resolves to, without copying its text: strings and timestamps are the
/// text itself (go-yaml v2 keeps a timestamp's text when decoding into `interface{}`).
pub(super) enum Plain {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str,
    Time,
}

impl Plain {
    /// The scalar `s` (whose kind this is) resolves to.
    pub(super) fn into_scalar(self, s: &str) -> Scalar {
        match self {
            Plain::Null => Scalar::Null,
            Plain::Bool(b) => Scalar::Bool(b),
            Plain::Int(i) => Scalar::Int(i),
            Plain::Float(f) => Scalar::Float(f),
            Plain::Str => Scalar::Str(s.to_string()),
            Plain::Time => Scalar::Time(s.to_string()),
        }
    }
}

/// [`resolve_plain`] without copying the text.
pub(super) fn resolve_plain_kind(s: &str) -> Plain {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Plain::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Plain::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'+' || first == b'-' || first == b'.') {
        return Plain::Str;
    }
    if parse_timestamp(s).is_some() {
        return Plain::Time;
    }
    let plain: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    if let Some(v) = parse_go_int_base0(&plain) {
        return Plain::Int(v);
    }
    if is_yaml_style_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return Plain::Float(f);
        }
    }
    if let Some(rest) = plain.strip_prefix("0b") {
        if let Ok(v) = i64::from_str_radix(rest, 2) {
            return Plain::Int(v as i128);
        }
    } else if let Some(rest) = plain.strip_prefix("-0b") {
        if let Ok(v) = i64::from_str_radix(rest, 2) {
            return Plain::Int(-(v as i128));
        }
    }
    Plain::Str
}

/// The value a plain untagged scalar has after the JSON round trip
/// (`scalar_value(resolve_plain(s))` without copying the text twice).
pub(super) fn plain_value(s: &str) -> Value {
    match resolve_plain_kind(s) {
        Plain::Null => Value::Nil,
        Plain::Bool(b) => Value::Bool(b),
        Plain::Int(i) => Value::Float(i as f64),
        Plain::Float(f) => Value::Float(f),
        Plain::Str | Plain::Time => Value::str(s),
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    } else {
        if !digits(&mut i) {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint`.
fn parse_go_int_base0(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = crate::gofmt::go_int_radix(body);
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    let fits = if neg {
        v >= i64::MIN as i128
    } else {
        v <= u64::MAX as i128
    };
    fits.then_some(v)
}

/// go-yaml v2's `parseTimestamp`: the formats it accepts, as the RFC 3339 text the JSON step
/// gives them (`time.Time` marshals with `RFC3339Nano`).
fn parse_timestamp(s: &str) -> Option<String> {
    // Quick check: all YAML timestamps start with "YYYY-".
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    if parts[0].len() != 4 || parts[1].len() > 2 || parts[2].len() > 2 {
        return None;
    }
    let (y, mo, d): (i32, u32, u32) = (
        parts[0].parse().ok()?,
        parts[1].parse().ok()?,
        parts[2].parse().ok()?,
    );
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let Some(time) = time else {
        return Some(format!("{y:04}-{mo:02}-{d:02}T00:00:00Z"));
    };
    // 15:4:5.999999999 with an optional zone (Z or ±07:00) when separated by T/t; a
    // space-separated time has no zone in go-yaml v2's formats.
    let (clock, zone) = match time.find(['Z', '+', '-']) {
        Some(i) if s.contains(['T', 't']) => (&time[..i], Some(&time[i..])),
        _ => (time, None),
    };
    let hms: Vec<&str> = clock.split(':').collect();
    if hms.len() != 3 {
        return None;
    }
    let (sec, frac) = match hms[2].split_once('.') {
        Some((s, f)) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|c| c.is_ascii_digit()) => {
            (s, Some(f))
        }
        Some(_) => return None,
        None => (hms[2], None),
    };
    let num = |t: &str, max: u32| -> Option<u32> {
        if t.is_empty() || t.len() > 2 || !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok().filter(|v| *v <= max)
    };
    let (h, mi, se) = (num(hms[0], 23)?, num(hms[1], 59)?, num(sec, 59)?);
    let frac = frac
        .map(|f| f.trim_end_matches('0'))
        .filter(|f| !f.is_empty());
    let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
    let zone = match zone {
        None | Some("Z") => "Z".to_string(),
        Some(z) => {
            let (sign, rest) = z.split_at(1);
            let (zh, zm) = rest.split_once(':')?;
            if zh.len() != 2 || zm.len() != 2 {
                return None;
            }
            let (zh, zm) = (num(zh, 23)?, num(zm, 59)?);
            if zh == 0 && zm == 0 {
                "Z".to_string()
            } else {
                format!("{sign}{zh:02}:{zm:02}")
            }
        }
    };
    Some(format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}{frac}{zone}"
    ))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

pub(super) fn scalar_of(text: &str, plain: bool, tag: Option<&str>) -> Result<Scalar, String> {
    match tag {
        None | Some("!") => {
            if plain && tag.is_none() {
                Ok(resolve_plain(text))
            } else {
                Ok(Scalar::Str(text.to_string()))
            }
        }
        Some("!!str") => Ok(Scalar::Str(text.to_string())),
        Some("!!null") => Ok(Scalar::Null),
        Some("!!bool") => match resolve_plain(text) {
            b @ Scalar::Bool(_) => Ok(b),
            _ => Err(format!("cannot decode !!str `{text}` as a !!bool")),
        },
        Some("!!int") => match resolve_plain(text) {
            i @ Scalar::Int(_) => Ok(i),
            _ => Err(format!("cannot decode !!str `{text}` as a !!int")),
        },
        Some("!!float") => match resolve_plain(text) {
            Scalar::Int(i) => Ok(Scalar::Float(i as f64)),
            f @ Scalar::Float(_) => Ok(f),
            _ => Err(format!("cannot decode !!str `{text}` as a !!float")),
        },
        Some("!!timestamp") => Ok(Scalar::Time(text.to_string())),
        Some("!!binary") => {
            use base64::Engine as _;
            let clean: String = text.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map(|b| Scalar::Str(String::from_utf8_lossy(&b).into_owned()))
                .map_err(|e| format!("!!binary value contains invalid base64 data: {e}"))
        }
        Some(_) => Ok(if plain {
            resolve_plain(text)
        } else {
            Scalar::Str(text.to_string())
        }),
    }
}

/// The value a scalar has after the JSON round trip.
pub(super) fn scalar_value(s: Scalar) -> Value {
    match s {
        Scalar::Null => Value::Nil,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::Float(i as f64),
        Scalar::Float(f) => Value::Float(f),
        Scalar::Str(s) | Scalar::Time(s) => Value::from(s),
    }
}
