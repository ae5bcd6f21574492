//! Go's `time.Duration` as text: `time.ParseDuration` (with its error texts) and
//! `Duration.String`, in nanoseconds. Template functions (`duration`, `dateModify`), the
//! `--timeout` flags and error messages all go through these two.

use crate::gofmt::quote;

/// Why `time.ParseDuration` refused a text, with Go's error texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("time: invalid duration {}", quote(.0))]
    Invalid(String),
    #[error("time: unknown unit {} in duration {}", quote(.unit), quote(.text))]
    UnknownUnit { unit: String, text: String },
    #[error("time: missing unit in duration {}", quote(.0))]
    MissingUnit(String),
}

/// Go's `time.ParseDuration`, in nanoseconds, with Go's error texts (`time: invalid
/// duration "x"`, `time: unknown unit "x" in duration "5x"`, `time: missing unit ...`).
pub fn parse(text: &str) -> Result<i128, DurationError> {
    if let Some(d) = parse_valid(text) {
        return Ok(d);
    }
    let body = text.trim_start_matches(['-', '+']);
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    if num_end > 0 && body[..num_end] != *"." {
        let rest = &body[num_end..];
        if rest.is_empty() {
            return Err(DurationError::MissingUnit(text.to_string()));
        }
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return Err(DurationError::UnknownUnit {
                unit: unit.to_string(),
                text: text.to_string(),
            });
        }
    }
    Err(DurationError::Invalid(text.to_string()))
}

/// A text `time.ParseDuration` accepts, in nanoseconds.
fn parse_valid(text: &str) -> Option<i128> {
    let (neg, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += n * mult;
    }
    Some(if neg { -(total as i128) } else { total as i128 })
}

/// Go's `Duration.String` for a whole number of nanoseconds (`2m0s`, `1.5s`, `250ms`).
pub fn format(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (v, unit) = if u < 1_000 {
            (u as f64, "ns")
        } else if u < 1_000_000 {
            (u as f64 / 1e3, "µs")
        } else {
            (u as f64 / 1e6, "ms")
        };
        out.push_str(&crate::gofmt::format_float(v, 'g', -1));
        out.push_str(unit);
    } else {
        let secs_total = u / 1_000_000_000;
        let frac = u % 1_000_000_000;
        let (h, m, sec) = (secs_total / 3600, secs_total / 60 % 60, secs_total % 60);
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&sec.to_string());
        if frac > 0 {
            let f = format!("{frac:09}");
            out.push('.');
            out.push_str(f.trim_end_matches('0'));
        }
        out.push('s');
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_and_parse_as_go_does() {
        assert_eq!(format(0), "0s");
        assert_eq!(format(90 * 1_000_000_000), "1m30s");
        assert_eq!(format(7200 * 1_000_000_000), "2h0m0s");
        assert_eq!(format(1_500_000_000), "1.5s");
        assert_eq!(format(250_000_000), "250ms");
        assert_eq!(parse("1h30m"), Ok(5400 * 1_000_000_000));
        assert_eq!(parse("1.5m"), Ok(90 * 1_000_000_000));
        assert_eq!(parse("-2s"), Ok(-2_000_000_000));
        assert_eq!(parse("0"), Ok(0));
    }

    #[test]
    fn bad_durations_get_gos_errors() {
        let text = |d: &str| parse(d).unwrap_err().to_string();
        assert_eq!(text(""), r#"time: invalid duration """#);
        assert_eq!(text("soon"), r#"time: invalid duration "soon""#);
        assert_eq!(text("5x"), r#"time: unknown unit "x" in duration "5x""#);
        assert_eq!(text("5"), r#"time: missing unit in duration "5""#);
    }
}
