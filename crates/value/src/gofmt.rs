//! Go's `fmt` printing of [`Value`]s: `%v` and friends, `Sprintf` verbs, widths, precisions
//! and flags, and `strconv.FormatFloat`. Written for rudder because no Rust crate prints
//! values the way Go does, and Helm's output depends on it to the byte.
//!
//! (Skeleton: being filled in.)

use crate::Value;

/// Appends Go's `%v` form of `v` to `out`.
pub fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::String(s) => out.push_str(s),
        other => out.push_str(&format!("{other:?}")),
    }
}

/// Go's `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let _ = args;
    format.to_string()
}

/// Go's `fmt.Sprint(args...)`: operands joined, with a space between two operands when
/// neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for a in args {
        write_v(&mut out, a);
    }
    out
}

/// Go's `fmt.Sprintln(args...)`: operands joined by spaces, with a trailing newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(&mut out, a);
    }
    out.push('\n');
    out
}
