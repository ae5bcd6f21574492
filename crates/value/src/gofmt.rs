//! Go's `fmt` printing of [`Value`]s: `%v` and friends, `Sprintf` verbs, widths, precisions
//! and flags, and `strconv.FormatFloat`. Written for rudder because no Rust crate prints
//! values the way Go does, and Helm's output depends on it to the byte (`1e+06`, `map[a:1]`,
//! `%!d(string=x)`).
//!
//! Float digits come from Rust's own shortest and correctly rounded formatting; only the
//! layout (exponent form, thresholds, padding) is Go's.

use crate::Value;

/// Appends Go's `%v` form of `v` to `out`.
pub fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Float(f) => out.push_str(&format_float(*f, 'g', -1)),
        Value::String(s) => out.push_str(s),
        // Digits written in place, not through a String each: printing a whole render
        // context (`$ | toString`, which bitnami's `dict` misuse does) prints every file of
        // the chart this way, megabytes of them.
        Value::Bytes(b) => {
            out.reserve(4 * b.len() + 2);
            out.push('[');
            for (i, &x) in b.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                // Char by char: a copy of one to three digits costs a call to memcpy.
                if x >= 100 {
                    out.push(char::from(b'0' + x / 100));
                }
                if x >= 10 {
                    out.push(char::from(b'0' + x / 10 % 10));
                }
                out.push(char::from(b'0' + x % 10));
            }
            out.push(']');
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, x);
            }
            out.push(']');
        }
        Value::Strings(l) => {
            out.push('[');
            out.push_str(&l.join(" "));
            out.push(']');
        }
        Value::Ints(l) => {
            out.push('[');
            let mut digits = itoa::Buffer::new();
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(digits.format(*x));
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, x)) in m.read().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, x);
            }
            out.push(']');
        }
        Value::StrMap(m) => {
            out.push_str("map[");
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                out.push_str(x);
            }
            out.push(']');
        }
        Value::Object(o) => o.fmt_v(out),
    }
}

/// Go's `fmt.Sprint(args...)`: operands joined, with a space between two operands when
/// neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_v(&mut out, a);
        prev_string = is_string;
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

/// The decimal digits and exponent of `f` (> 0, finite): `0.d1d2... × 10^dp`.
/// With `prec` `None`, the shortest digits that round-trip; else `prec` significant digits.
fn decimal_digits(f: f64, sig: Option<usize>) -> (String, i32) {
    let s = match sig {
        None => format!("{f:e}"),
        Some(p) => format!("{:.*e}", p.saturating_sub(1), f),
    };
    let (mant, exp) = s.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp + 1)
}

fn fmt_e(neg: bool, digits: &str, dp: i32, prec: usize, e: char) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let first = digits.chars().next().unwrap_or('0');
    out.push(first);
    if prec > 0 {
        out.push('.');
        let rest: String = digits.chars().skip(1).collect();
        out.push_str(&rest);
        for _ in rest.len()..prec {
            out.push('0');
        }
    }
    out.push(e);
    let exp = if digits.chars().all(|c| c == '0') {
        0
    } else {
        dp - 1
    };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
    out
}

fn fmt_f(neg: bool, digits: &str, dp: i32, prec: usize) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let d: Vec<char> = digits.chars().collect();
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(*d.get(i).unwrap_or(&'0'));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec {
            let idx = dp + i as i32;
            out.push(if idx >= 0 {
                *d.get(idx as usize).unwrap_or(&'0')
            } else {
                '0'
            });
        }
    }
    out
}

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)` for `fmt` in `e E f F g G` (prec -1: the
/// shortest representation).
pub fn format_float(f: f64, fmt: char, prec: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = f.is_sign_negative();
    let a = f.abs();
    let shortest = prec < 0;
    match fmt {
        'e' | 'E' => {
            let (digits, dp) = if a == 0.0 {
                ("0".to_string(), 1)
            } else if shortest {
                decimal_digits(a, None)
            } else {
                decimal_digits(a, Some(prec as usize + 1))
            };
            let p = if shortest {
                digits.len() - 1
            } else {
                prec as usize
            };
            fmt_e(neg, &digits, dp, p, fmt)
        }
        'f' | 'F' => {
            if shortest {
                let (digits, dp) = if a == 0.0 {
                    ("0".to_string(), 1)
                } else {
                    decimal_digits(a, None)
                };
                let p = (digits.len() as i32 - dp).max(0) as usize;
                fmt_f(neg, &digits, dp, p)
            } else {
                // Rust's formatter refuses precisions past u16::MAX; a float64's exact
                // expansion ends within 1074 fractional digits, so the rest are zeros.
                const EXACT: usize = 1100;
                let prec = prec as usize;
                let mut s = format!("{:.*}", prec.min(EXACT), a);
                s.extend(std::iter::repeat_n('0', prec.saturating_sub(EXACT)));
                if neg {
                    format!("-{s}")
                } else {
                    s
                }
            }
        }
        'g' | 'G' => {
            let e = if fmt == 'g' { 'e' } else { 'E' };
            let (mut digits, dp) = if a == 0.0 {
                ("0".to_string(), 1)
            } else if shortest {
                decimal_digits(a, None)
            } else {
                let p = if prec == 0 { 1 } else { prec as usize };
                let (d, dp) = decimal_digits(a, Some(p));
                (d.trim_end_matches('0').to_string(), dp)
            };
            if digits.is_empty() {
                digits.push('0');
            }
            let nd = digits.len() as i32;
            let mut eprec = if shortest {
                6
            } else if prec == 0 {
                1
            } else {
                prec
            };
            if !shortest && eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if a != 0.0 && (exp < -4 || exp >= eprec) {
                let mut p = if shortest {
                    nd
                } else if prec == 0 {
                    1
                } else {
                    prec
                };
                if p > nd {
                    p = nd;
                }
                return fmt_e(neg, &digits, dp, (p - 1).max(0) as usize, e);
            }
            let mut p = if shortest {
                nd
            } else if prec == 0 {
                1
            } else {
                prec
            };
            if p > dp {
                p = nd;
            }
            fmt_f(neg, &digits, dp, (p - dp).max(0) as usize)
        }
        _ => format!("%{fmt}"),
    }
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"', false);
    }
    out.push('"');
    out
}

fn push_escaped(out: &mut String, c: char, q: char, ascii_only: bool) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == q => {
            out.push('\\');
            out.push(c);
        }
        '\u{FFFD}' => out.push_str("\\ufffd"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if ascii_only && !c.is_ascii() || !is_go_printable(c) => {
            if (c as u32) < 0x10000 {
                out.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                out.push_str(&format!("\\U{:08x}", c as u32));
            }
        }
        c => out.push(c),
    }
}

/// An approximation of Go's `strconv.IsPrint`: letters, marks, numbers, punctuation,
/// symbols and the ASCII space.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32, 0xAD | 0x2028 | 0x2029 | 0xFEFF | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0xE000..=0xF8FF)
}

fn quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'', false);
    out.push('\'');
    out
}

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(out: &mut String, s: &str, f: &Flags) {
    let n = s.chars().count();
    let w = f.width.unwrap_or(0);
    if n >= w {
        out.push_str(s);
        return;
    }
    let fill = w - n;
    if f.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if f.zero {
        // Zero padding goes after a sign.
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (Some(c), &s[1..]),
            _ => (None, s),
        };
        if let Some(c) = sign {
            out.push(c);
        }
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn fmt_integer(out: &mut String, i: i128, verb: char, f: &Flags) {
    let neg = i < 0;
    let a = i.unsigned_abs();
    let mut digits = match verb {
        'd' | 'v' => a.to_string(),
        'x' => format!("{a:x}"),
        'X' => format!("{a:X}"),
        'o' | 'O' => format!("{a:o}"),
        'b' => format!("{a:b}"),
        _ => a.to_string(),
    };
    if let Some(p) = f.prec {
        if p == 0 && a == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let mut prefix = String::new();
    if neg {
        prefix.push('-');
    } else if f.plus {
        prefix.push('+');
    } else if f.space {
        prefix.push(' ');
    }
    match verb {
        'O' => prefix.push_str("0o"),
        'x' if f.sharp => prefix.push_str("0x"),
        'X' if f.sharp => prefix.push_str("0X"),
        'o' if f.sharp && !digits.starts_with('0') => prefix.push('0'),
        'b' if f.sharp => prefix.push_str("0b"),
        _ => {}
    }
    let mut flags = *f;
    if f.prec.is_some() {
        flags.zero = false;
    }
    if flags.zero && !flags.minus {
        let w = flags.width.unwrap_or(0);
        let total = prefix.chars().count() + digits.len();
        if total < w {
            out.push_str(&prefix);
            out.extend(std::iter::repeat_n('0', w - total));
            out.push_str(&digits);
            return;
        }
    }
    flags.zero = false;
    pad(out, &format!("{prefix}{digits}"), &flags);
}

fn fmt_float_verb(out: &mut String, x: f64, verb: char, f: &Flags) {
    let (fc, prec) = match verb {
        'v' => ('g', f.prec.map_or(-1, |p| p as i32)),
        'g' | 'G' => (verb, f.prec.map_or(-1, |p| p as i32)),
        'e' | 'E' | 'f' | 'F' => (verb, f.prec.map_or(6, |p| p as i32)),
        _ => ('g', -1),
    };
    let mut s = format_float(x, fc, prec);
    if f.sharp && !s.contains('.') && !s.contains("Inf") && !s.contains("NaN") {
        match s.find(['e', 'E']) {
            Some(i) => s.insert(i, '.'),
            None => s.push('.'),
        }
    }
    if !s.starts_with('-') && !s.starts_with('+') {
        if f.plus {
            s.insert(0, '+');
        } else if f.space {
            s.insert(0, ' ');
        }
    } else if s.starts_with('+') && !f.plus {
        // +Inf prints without its sign unless asked.
        s.remove(0);
        if f.space {
            s.insert(0, ' ');
        }
    }
    let mut flags = *f;
    if x.is_infinite() || x.is_nan() {
        flags.zero = false;
    }
    pad(out, &s, &flags);
}

fn fmt_string(out: &mut String, s: &str, verb: char, f: &Flags) {
    let s: String = match f.prec {
        Some(p) if matches!(verb, 's' | 'v' | 'q') => s.chars().take(p).collect(),
        _ => s.to_string(),
    };
    let body = match verb {
        's' | 'v' => s,
        'q' => {
            if f.sharp && !s.contains('`') {
                format!("`{s}`")
            } else if f.plus {
                let mut o = String::from("\"");
                for c in s.chars() {
                    push_escaped(&mut o, c, '"', true);
                }
                o.push('"');
                o
            } else {
                quote(&s)
            }
        }
        'x' | 'X' => {
            let mut o = String::new();
            for (i, b) in s.bytes().enumerate() {
                if f.space && i > 0 {
                    o.push(' ');
                }
                if f.sharp && (f.space || i == 0) {
                    o.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    o.push_str(&format!("{b:02x}"));
                } else {
                    o.push_str(&format!("{b:02X}"));
                }
            }
            o
        }
        _ => s,
    };
    pad(out, &body, f);
}

fn type_and_value(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        v => format!("{}={}", v.type_name(), v.to_go_string()),
    }
}

fn bad_verb(out: &mut String, verb: char, v: &Value) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    out.push_str(&type_and_value(v));
    out.push(')');
}

/// Formats one operand with one verb (Go's `printArg`).
fn fmt_arg(out: &mut String, v: &Value, verb: char, f: &Flags) {
    if verb == 'T' {
        fmt_string(out, &v.type_name(), 's', f);
        return;
    }
    if verb == 'p' {
        bad_verb(out, verb, v);
        return;
    }
    match v {
        Value::Nil => match verb {
            'v' => pad(out, "<nil>", f),
            _ => bad_verb(out, verb, v),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, f),
            _ => bad_verb(out, verb, v),
        },
        Value::Int(i) | Value::Int64(i) => match verb {
            'd' | 'v' | 'x' | 'X' | 'o' | 'O' | 'b' => fmt_integer(out, *i as i128, verb, f),
            'c' => pad(
                out,
                &char::from_u32(*i as u32).unwrap_or('\u{FFFD}').to_string(),
                f,
            ),
            'q' => pad(
                out,
                &quote_rune(char::from_u32(*i as u32).unwrap_or('\u{FFFD}')),
                f,
            ),
            'U' => {
                let mut s = format!("U+{:04X}", i);
                if f.sharp {
                    if let Some(c) = char::from_u32(*i as u32) {
                        s.push_str(&format!(" '{c}'"));
                    }
                }
                pad(out, &s, f)
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => bad_verb(out, verb, v),
            _ => bad_verb(out, verb, v),
        },
        Value::Float(x) => match verb {
            'v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => fmt_float_verb(out, *x, verb, f),
            _ => bad_verb(out, verb, v),
        },
        Value::String(s) => match verb {
            'v' | 's' | 'q' | 'x' | 'X' => fmt_string(out, s, verb, f),
            _ => bad_verb(out, verb, v),
        },
        Value::Bytes(b) => match verb {
            's' | 'q' | 'x' | 'X' => fmt_string(out, &String::from_utf8_lossy(b), verb, f),
            _ => fmt_list(
                out,
                &b.iter().map(|x| Value::Int(*x as i64)).collect::<Vec<_>>(),
                verb,
                f,
            ),
        },
        Value::List(l) => fmt_list(out, l, verb, f),
        Value::Strings(l) => fmt_list(out, &l.iter().map(Value::str).collect::<Vec<_>>(), verb, f),
        Value::Ints(l) => fmt_list(
            out,
            &l.iter().map(|x| Value::Int(*x)).collect::<Vec<_>>(),
            verb,
            f,
        ),
        Value::Map(_) | Value::StrMap(_) => {
            let m = v.to_map().unwrap_or_default();
            out.push_str("map[");
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_arg(out, &Value::str(k), verb, f);
                out.push(':');
                fmt_elem(out, x, verb, f);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut s = String::new();
            o.fmt_v(&mut s);
            match verb {
                'v' | 's' => pad(out, &s, f),
                _ => bad_verb(out, verb, v),
            }
        }
    }
}

fn fmt_list(out: &mut String, items: &[Value], verb: char, f: &Flags) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        fmt_elem(out, x, verb, f);
    }
    out.push(']');
}

/// An element of a slice or map: a nil interface there prints `<nil>` whatever the verb.
fn fmt_elem(out: &mut String, v: &Value, verb: char, f: &Flags) {
    if v.is_nil() && verb != 'T' {
        pad(out, "<nil>", f);
    } else {
        fmt_arg(out, v, verb, f);
    }
}

/// Go's `%#v` (Go-syntax) text of a value; `top` is false inside an `interface{}` slot,
/// where nil prints as `interface {}(nil)`.
fn go_syntax(v: &Value, top: bool) -> String {
    let items = |name: &str, parts: Vec<String>| format!("{name}{{{}}}", parts.join(", "));
    match v {
        Value::Nil if top => "<nil>".into(),
        Value::Nil => "interface {}(nil)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Float(x) => format_float(*x, 'g', -1),
        Value::String(s) => quote(s),
        Value::Bytes(b) => items("[]byte", b.iter().map(|x| format!("0x{x:x}")).collect()),
        Value::List(_) if v.is_nil_slice() => "[]interface {}(nil)".into(),
        Value::Strings(_) if v.is_nil_slice() => "[]string(nil)".into(),
        Value::StrMap(_) if v.is_nil_map() => "map[string]string(nil)".into(),
        Value::List(l) => items(
            "[]interface {}",
            l.iter().map(|x| go_syntax(x, false)).collect(),
        ),
        Value::Strings(l) => items(l.go_type().go_name(), l.iter().map(|x| quote(x)).collect()),
        Value::Ints(l) => items("[]int", l.iter().map(|x| x.to_string()).collect()),
        Value::Map(d) => items(
            if d.is_helm_values() {
                "common.Values"
            } else {
                "map[string]interface {}"
            },
            v.to_map()
                .unwrap_or_default()
                .iter()
                .map(|(k, x)| format!("{}:{}", quote(k), go_syntax(x, false)))
                .collect(),
        ),
        Value::StrMap(m) => items(
            "map[string]string",
            m.iter()
                .map(|(k, x)| format!("{}:{}", quote(k), quote(x)))
                .collect(),
        ),
        Value::Object(o) => {
            let mut s = String::new();
            o.fmt_v(&mut s);
            s
        }
    }
}

/// Go's `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    let mut arg_num = 0usize;
    let mut reordered = false;
    let mut good_arg_num = true;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut f = Flags::default();
        // Flags.
        while i < chars.len() {
            match chars[i] {
                '#' => f.sharp = true,
                '0' => f.zero = !f.minus,
                '+' => f.plus = true,
                '-' => {
                    f.minus = true;
                    f.zero = false;
                }
                ' ' => f.space = true,
                _ => break,
            }
            i += 1;
        }
        // Argument index, width.
        let parse_index =
            |i: &mut usize, arg_num: &mut usize, reordered: &mut bool, good: &mut bool| {
                if *i < chars.len() && chars[*i] == '[' {
                    *reordered = true;
                    let start = *i + 1;
                    let mut j = start;
                    while j < chars.len() && chars[j] != ']' {
                        j += 1;
                    }
                    let text: String = chars[start..j.min(chars.len())].iter().collect();
                    match (j < chars.len(), text.parse::<usize>()) {
                        (true, Ok(n)) if n >= 1 && n <= args.len() => {
                            *arg_num = n - 1;
                            *good = true;
                        }
                        _ => *good = false,
                    }
                    *i = (j + 1).min(chars.len());
                }
            };
        parse_index(&mut i, &mut arg_num, &mut reordered, &mut good_arg_num);
        let mut bad_width = false;
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            match int_from_arg(args, &mut arg_num) {
                Some(n) => {
                    if n < 0 {
                        f.minus = true;
                        f.zero = false;
                    }
                    f.width = Some(n.unsigned_abs() as usize);
                }
                None => bad_width = true,
            }
        } else {
            (f.width, i) = parse_num(&chars, i);
        }
        if bad_width {
            out.push_str("%!(BADWIDTH)");
        }
        // Precision.
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            parse_index(&mut i, &mut arg_num, &mut reordered, &mut good_arg_num);
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                match int_from_arg(args, &mut arg_num) {
                    Some(n) if n >= 0 => f.prec = Some(n as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
            } else {
                let (prec, end) = parse_num(&chars, i);
                f.prec = Some(prec.unwrap_or(0));
                i = end;
            }
        }
        parse_index(&mut i, &mut arg_num, &mut reordered, &mut good_arg_num);
        if i >= chars.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = chars[i];
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good_arg_num {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        let Some(arg) = args.get(arg_num) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        arg_num += 1;
        if verb == 'v' && f.sharp {
            // %#v: Go syntax.
            let text = go_syntax(arg, true);
            pad(&mut out, &text, &f);
            continue;
        }
        if verb == 'v' && f.plus {
            // %+v only names struct fields; numbers get no sign.
            f.plus = false;
        }
        fmt_arg(&mut out, arg, verb, &f);
    }
    if !reordered && arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            out.push_str(&type_and_value(a));
        }
        out.push(')');
    }
    out
}

/// Go's `fmt` refuses widths and precisions past a million (`tooLarge`), so that a format
/// cannot ask for gigabytes of padding.
const MAX_WIDTH: i64 = 1_000_000;

/// Go's `parsenum`: the decimal number starting at `start`, if there is one, and where
/// scanning stopped. Past [`MAX_WIDTH`] (checked before each digit, so seven digits still
/// pass) Go gives up and takes the rest of the format with it, which then has no verb.
fn parse_num(chars: &[char], start: usize) -> (Option<usize>, usize) {
    let mut num: i64 = 0;
    let mut i = start;
    while let Some(digit) = chars.get(i).and_then(|c| c.to_digit(10)) {
        if num > MAX_WIDTH {
            return (None, chars.len());
        }
        num = num * 10 + i64::from(digit);
        i += 1;
    }
    ((i > start).then_some(num as usize), i)
}

/// Go's `intFromArg` for a `*` width or precision: the argument when it is an integer within
/// [`MAX_WIDTH`]; the argument is used up only when there is one.
fn int_from_arg(args: &[Value], arg_num: &mut usize) -> Option<i64> {
    let arg = args.get(*arg_num)?;
    *arg_num += 1;
    match arg {
        Value::Int(n) | Value::Int64(n) if (-MAX_WIDTH..=MAX_WIDTH).contains(n) => Some(*n),
        _ => None,
    }
}

/// The radix Go's base-0 integer syntax gives an unsigned literal (`0x`, `0o`, `0b`, a
/// leading `0` for octal, else decimal) and the digits after its prefix.
pub fn go_int_radix(body: &str) -> (u32, &str) {
    if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, r)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    }
}

/// Go's `*strconv.NumError`: the function, its input and why it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strconv.{func}: parsing {}: {reason}", quote(.input))]
pub struct NumError {
    pub func: &'static str,
    pub input: String,
    pub reason: NumErrorReason,
}

/// Go's `strconv.ErrSyntax` and `strconv.ErrRange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumErrorReason {
    #[error("invalid syntax")]
    Syntax,
    #[error("value out of range")]
    Range,
}

/// Go's `strconv.ParseInt(s, base, 64)` with its error text.
pub fn parse_int(s: &str, base: u32) -> Result<i64, NumError> {
    let err = |reason| NumError {
        func: "ParseInt",
        input: s.to_string(),
        reason,
    };
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if base == 0 {
        go_int_radix(body)
    } else {
        (base, body)
    };
    let clean: String = if base == 0 {
        digits.replace('_', "")
    } else {
        digits.to_string()
    };
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return Err(err(NumErrorReason::Syntax));
    }
    match i128::from_str_radix(&clean, radix) {
        Ok(v) => {
            let v = if neg { -v } else { v };
            i64::try_from(v).map_err(|_| err(NumErrorReason::Range))
        }
        Err(_) => Err(err(NumErrorReason::Range)),
    }
}

/// Go's `strconv.ParseFloat(s, 64)` with its error text.
pub fn parse_float(s: &str) -> Result<f64, NumError> {
    let err = |reason| NumError {
        func: "ParseFloat",
        input: s.to_string(),
        reason,
    };
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_start_matches(['+', '-']);
    match t {
        "inf" | "infinity" => {
            return Ok(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Ok(f64::NAN),
        _ => {}
    }
    if s.is_empty() || s.contains(|c: char| c.is_whitespace()) || lower.contains("0x") {
        return Err(err(NumErrorReason::Syntax));
    }
    let clean = s.replace('_', "");
    match clean.parse::<f64>() {
        Ok(v) if v.is_infinite() => Err(err(NumErrorReason::Range)),
        Ok(v) => Ok(v),
        Err(_) => Err(err(NumErrorReason::Syntax)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings are Go's (fmt and strconv behaviour).

    #[test]
    fn floats_like_go() {
        let v = |f: f64| format_float(f, 'g', -1);
        assert_eq!(v(1e6), "1e+06");
        assert_eq!(v(100000.0), "100000");
        assert_eq!(v(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(v(0.0001), "0.0001");
        assert_eq!(v(0.00001), "1e-05");
        assert_eq!(v(123456789.0), "1.23456789e+08");
        assert_eq!(v(-2.5), "-2.5");
        assert_eq!(v(0.0), "0");
        assert_eq!(v(3.0), "3");
        assert_eq!(format_float(1.23456, 'f', 2), "1.23");
        assert_eq!(format_float(1234.5678, 'e', 3), "1.235e+03");
        assert_eq!(format_float(1234.5678, 'g', 3), "1.23e+03");
        assert_eq!(format_float(0.5, 'f', -1), "0.5");
        assert_eq!(format_float(1e21, 'f', -1), "1000000000000000000000");
    }

    #[test]
    fn byte_slices_and_integers_print_their_decimal_digits() {
        // Go: fmt.Sprint([]byte{0, 9, 10, 99, 100, 255}), fmt.Sprint(int64(-9223372036854775808)).
        let mut out = String::new();
        write_v(&mut out, &Value::Bytes(vec![0, 9, 10, 99, 100, 255].into()));
        assert_eq!(out, "[0 9 10 99 100 255]");
        let mut out = String::new();
        write_v(&mut out, &Value::Bytes(Vec::new().into()));
        assert_eq!(out, "[]");
        let mut out = String::new();
        write_v(&mut out, &Value::Int64(i64::MIN));
        write_v(&mut out, &Value::Int(42));
        assert_eq!(out, "-922337203685477580842");
    }

    #[test]
    fn printf_like_go() {
        let s = |f: &str, a: &[Value]| sprintf(f, a);
        assert_eq!(s("%d-%s", &[Value::Int(3), Value::str("x")]), "3-x");
        assert_eq!(
            s(
                "%05d|%-4d|%+d",
                &[Value::Int(42), Value::Int(7), Value::Int(5)]
            ),
            "00042|7   |+5"
        );
        assert_eq!(
            s(
                "%x %X %o %b",
                &[
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(8),
                    Value::Int(5)
                ]
            ),
            "ff FF 10 101"
        );
        assert_eq!(s("%q", &[Value::str("a\"b")]), "\"a\\\"b\"");
        assert_eq!(s("%d", &[Value::str("x")]), "%!d(string=x)");
        assert_eq!(s("%d %d", &[Value::Int(1)]), "1 %!d(MISSING)");
        assert_eq!(s("%d", &[Value::Int(1), Value::Int(2)]), "1%!(EXTRA int=2)");
        assert_eq!(
            s(
                "%.2f %6.1f %e",
                &[Value::Float(1.23456), Value::Float(2.25), Value::Float(1e6)]
            ),
            "1.23    2.2 1.000000e+06"
        );
        assert_eq!(
            s("%v %T", &[Value::Float(1e6), Value::Float(1.0)]),
            "1e+06 float64"
        );
        assert_eq!(
            s(
                "%5s|%-5s|%.2s",
                &[Value::str("ab"), Value::str("ab"), Value::str("abc")]
            ),
            "   ab|ab   |ab"
        );
        assert_eq!(s("100%%", &[]), "100%");
        assert_eq!(s("%[2]d %[1]d", &[Value::Int(1), Value::Int(2)]), "2 1");
        assert_eq!(s("%v", &[Value::Nil]), "<nil>");
        assert_eq!(s("%s", &[Value::Nil]), "%!s(<nil>)");
        assert_eq!(s("%t", &[Value::Bool(true)]), "true");
        assert_eq!(s("%c", &[Value::Int(65)]), "A");
        assert_eq!(s("%x", &[Value::str("hi")]), "6869");
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(sprint(&[Value::Int(1), Value::Int(2)]), "1 2");
        assert_eq!(
            sprint(&[Value::str("a"), Value::Int(2), Value::str("b")]),
            "a2b"
        );
        assert_eq!(sprint(&[Value::Nil, Value::Nil]), "<nil> <nil>");
    }

    #[test]
    fn parse_numbers() {
        assert_eq!(parse_int("42", 10), Ok(42));
        assert_eq!(parse_int("0x1f", 0), Ok(31));
        assert_eq!(
            parse_int("x", 10).unwrap_err().to_string(),
            "strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(parse_float("1.5"), Ok(1.5));
        assert!(parse_float("abc").is_err());
    }

    #[test]
    fn widths_and_precisions_are_capped_as_go_caps_them() {
        // Go's fmt refuses widths and precisions past 1e6 (tests/conformance/cases/
        // hostile-input.case has Helm's outputs for these through printf).
        let s = |f: &str, a: &[Value]| sprintf(f, a);
        let huge = Value::Int(99_999_999_999);
        assert_eq!(
            s("%.*f", &[huge.clone(), Value::Float(1.0)]),
            "%!(BADPREC)1.000000"
        );
        assert_eq!(s("%*d", &[huge.clone(), Value::Int(1)]), "%!(BADWIDTH)1");
        assert_eq!(
            s("%*d|", &[Value::Int(-99_999_999_999), Value::Int(1)]),
            "%!(BADWIDTH)1|"
        );
        assert_eq!(
            s("%9999999999d", &[Value::Int(1)]),
            "%!(NOVERB)%!(EXTRA int=1)"
        );
        assert_eq!(
            s("%.9999999999f", &[Value::Float(1.0)]),
            "%!(NOVERB)%!(EXTRA float64=1)"
        );
        assert_eq!(
            s("%*d", &[Value::Int(1_000_001), Value::Int(1)]),
            "%!(BADWIDTH)1"
        );
        assert_eq!(
            s("%*d", &[Value::Int(1_000_000), Value::Int(1)]).len(),
            1_000_000
        );
        // Go checks before each digit: seven digits still pass.
        assert_eq!(s("%9999999d", &[Value::Int(1)]).len(), 9_999_999);
        // A `*` without an argument uses none up.
        assert_eq!(s("%*d", &[]), "%!(BADWIDTH)%!d(MISSING)");
        let long = s("%.1000000f", &[Value::Float(1.5)]);
        assert_eq!((long.len(), &long[..4]), (1_000_002, "1.50"));
        assert!(long[3..].bytes().all(|b| b == b'0'));
    }
}
