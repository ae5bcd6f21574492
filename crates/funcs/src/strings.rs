//! Sprig's string functions.

use rudder_gotmpl::FuncMap;
#[allow(unused_imports)]
use rudder_gotmpl::ParamType::{Any, Bool, Float64, Int, Map as MapT, String as Str};
use rudder_value::{gofmt, Map, Value};

use crate::add;
use crate::convert::{strslice, strval};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Sprig's `indent` (`pad + strings.Replace(text, "\n", "\n"+pad, -1)`, `pad` being
/// `spaces` spaces) and `nindent` (the same after a newline), written in one pass into one
/// string: charts pipe every `toYaml` and `include` through them.
fn indent(newline_first: bool, spaces: i64, text: &str) -> Result<Value, String> {
    if spaces < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let pad = " ".repeat(spaces as usize);
    let lines = 1 + text.bytes().filter(|&b| b == b'\n').count();
    let mut out =
        String::with_capacity(text.len() + usize::from(newline_first) + lines * pad.len());
    if newline_first {
        out.push('\n');
    }
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&pad);
        out.push_str(line);
    }
    Ok(Value::from(out))
}

fn i(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

/// Go's `strings.Title` separator rule.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

pub(crate) fn title(text: &str) -> String {
    let mut prev = ' ';
    text.chars()
        .map(|c| {
            let out = if is_separator(prev) {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

/// Byte-based slicing as Go does it, tolerating cuts inside a character.
fn byte_slice(s: &str, a: usize, b: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[a..b]).into_owned()
}

/// goutils' `Abbreviate`/`AbbreviateFull`.
fn abbreviate_full(text: &str, mut offset: usize, max: usize) -> String {
    let len = text.len();
    if len <= max {
        return text.to_string();
    }
    if offset > len {
        offset = len;
    }
    if len - offset < max - 3 {
        offset = len - (max - 3);
    }
    if offset <= 4 {
        return format!("{}...", byte_slice(text, 0, max - 3));
    }
    if offset + max - 3 < len {
        return format!("...{}", abbreviate_full(&text[offset..], 0, max - 3));
    }
    format!("...{}", byte_slice(text, len - (max - 3), len))
}

/// goutils' `WrapCustom`.
fn wrap_custom(text: &str, width: i64, newline: &str, wrap_long: bool) -> String {
    let width = width.max(1) as usize;
    let mut out = String::new();
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push_str(newline);
        }
        let mut rest = line;
        loop {
            if rest.chars().count() <= width {
                out.push_str(rest);
                break;
            }
            let cut: usize = rest
                .char_indices()
                .nth(width)
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
            match rest[..=cut.min(rest.len() - 1)].rfind(' ') {
                Some(sp) if sp > 0 => {
                    out.push_str(&rest[..sp]);
                    out.push_str(newline);
                    rest = &rest[sp + 1..];
                }
                _ if wrap_long => {
                    out.push_str(&rest[..cut]);
                    out.push_str(newline);
                    rest = &rest[cut..];
                }
                _ => match rest[cut..].find(' ') {
                    Some(sp) => {
                        out.push_str(&rest[..cut + sp]);
                        out.push_str(newline);
                        rest = &rest[cut + sp + 1..];
                    }
                    None => {
                        out.push_str(rest);
                        break;
                    }
                },
            }
        }
    }
    out
}

/// The kinds of word huandu/xstrings (v1.5.0, Sprig's) sees in a string when it changes case.
#[derive(Clone, Copy, PartialEq)]
enum WordKind {
    /// One space, `_` or `-` (but `_`/`-` right after punctuation belong to it).
    Connector,
    /// A run of punctuation (Unicode P*).
    Punct,
    Number,
    /// Letters: a run of lower case, a run of upper case, or one upper case letter followed
    /// by lower case (`HTTPServer` is `HTTP`, `Server`).
    Letters,
    /// Anything else (symbols such as `+ = ~`).
    Other,
}

fn is_connector(c: char) -> bool {
    c == '_' || c == '-' || c.is_whitespace()
}

fn is_punct(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    matches!(
        get_general_category(c),
        G::ConnectorPunctuation
            | G::DashPunctuation
            | G::OpenPunctuation
            | G::ClosePunctuation
            | G::InitialPunctuation
            | G::FinalPunctuation
            | G::OtherPunctuation
    )
}

/// Splits text into xstrings' words, each with its kind.
fn case_words(text: &str) -> Vec<(WordKind, &str)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let is_lower_letter = |c: char| c.is_alphabetic() && !c.is_uppercase();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let start = i;
        let kind = if is_connector(c) {
            i += 1;
            WordKind::Connector
        } else if is_punct(c) {
            while i < chars.len() && is_punct(chars[i].1) {
                i += 1;
            }
            WordKind::Punct
        } else if c.is_numeric() {
            while i < chars.len() && chars[i].1.is_numeric() {
                i += 1;
            }
            WordKind::Number
        } else if c.is_uppercase() {
            while i < chars.len() && chars[i].1.is_uppercase() {
                i += 1;
            }
            if i < chars.len() && is_lower_letter(chars[i].1) {
                if i - start > 1 {
                    // The last capital starts the next word.
                    out.push((WordKind::Letters, &text[at(start)..at(i - 1)]));
                    i -= 1;
                    let word_start = i;
                    i += 1;
                    while i < chars.len() && is_lower_letter(chars[i].1) {
                        i += 1;
                    }
                    out.push((WordKind::Letters, &text[at(word_start)..at(i)]));
                    continue;
                }
                while i < chars.len() && is_lower_letter(chars[i].1) {
                    i += 1;
                }
            }
            WordKind::Letters
        } else if c.is_alphabetic() {
            while i < chars.len() && is_lower_letter(chars[i].1) {
                i += 1;
            }
            WordKind::Letters
        } else {
            while i < chars.len()
                && !(is_connector(chars[i].1)
                    || is_punct(chars[i].1)
                    || chars[i].1.is_alphanumeric())
            {
                i += 1;
            }
            WordKind::Other
        };
        out.push((kind, &text[at(start)..at(i)]));
    }
    out
}

/// xstrings' snake/kebab case: words lower-cased, each connector written as `connector`, a
/// connector between words except next to punctuation and connectors; a number sticks to the
/// word before it unless a lower-case word follows it, and takes the numbers and lower-case
/// words that follow it.
fn to_lower_case_words(text: &str, connector: char) -> String {
    let words = case_words(text);
    let starts_lower =
        |w: &(WordKind, &str)| w.0 == WordKind::Letters && !w.1.starts_with(char::is_uppercase);
    let mut out = String::with_capacity(text.len() + 8);
    let emit = |out: &mut String, (kind, word): (WordKind, &str)| {
        if kind == WordKind::Connector {
            out.push(connector);
        } else {
            out.extend(word.chars().map(lower_rune));
        }
    };
    let mut i = 0;
    while i < words.len() {
        let (kind, _) = words[i];
        emit(&mut out, words[i]);
        if kind == WordKind::Number {
            let mut j = i + 1;
            while j < words.len() && (words[j].0 == WordKind::Number || starts_lower(&words[j])) {
                emit(&mut out, words[j]);
                j += 1;
            }
            if j < words.len() && !matches!(words[j].0, WordKind::Punct | WordKind::Connector) {
                out.push(connector);
            }
            i = j;
            continue;
        }
        if matches!(kind, WordKind::Letters | WordKind::Other) {
            match words.get(i + 1).map(|w| w.0) {
                Some(WordKind::Number) => {
                    if words.get(i + 2).is_some_and(starts_lower) {
                        out.push(connector);
                    }
                }
                Some(WordKind::Connector | WordKind::Punct) | None => {}
                Some(_) => out.push(connector),
            }
        }
        i += 1;
    }
    out
}

/// Go's `unicode.ToLower` of one rune (no multi-rune expansions).
fn lower_rune(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    add(m, "hello", &[], None, |_| Ok(Value::str("Hello!")));
    // Go maps rune by rune (simple case mapping): `ß` stays `ß` in upper case.
    add(m, "upper", &[Str], None, |a| {
        Ok(Value::from(
            s(&a[0])
                .chars()
                .map(|c| {
                    let mut u = c.to_uppercase();
                    match (u.next(), u.next()) {
                        (Some(x), None) => x,
                        _ => c,
                    }
                })
                .collect::<std::string::String>(),
        ))
    });
    add(m, "lower", &[Str], None, |a| {
        Ok(Value::from(
            s(&a[0])
                .chars()
                .map(|c| c.to_lowercase().next().unwrap_or(c))
                .collect::<std::string::String>(),
        ))
    });
    add(m, "title", &[Str], None, |a| {
        Ok(Value::from(title(s(&a[0]))))
    });
    add(m, "untitle", &[Str], None, |a| {
        let mut prev_space = true;
        Ok(Value::from(
            s(&a[0])
                .chars()
                .map(|c| {
                    let out = if prev_space {
                        c.to_lowercase().next().unwrap_or(c)
                    } else {
                        c
                    };
                    prev_space = c.is_whitespace();
                    out
                })
                .collect::<std::string::String>(),
        ))
    });
    add(m, "trim", &[Str], None, |a| Ok(Value::str(s(&a[0]).trim())));
    for name in ["trimAll", "trimall"] {
        add(m, name, &[Str, Str], None, |a| {
            let cut: Vec<char> = s(&a[0]).chars().collect();
            Ok(Value::str(s(&a[1]).trim_matches(|c| cut.contains(&c))))
        });
    }
    add(m, "trimSuffix", &[Str, Str], None, |a| {
        Ok(Value::str(
            s(&a[1]).strip_suffix(s(&a[0])).unwrap_or(s(&a[1])),
        ))
    });
    add(m, "trimPrefix", &[Str, Str], None, |a| {
        Ok(Value::str(
            s(&a[1]).strip_prefix(s(&a[0])).unwrap_or(s(&a[1])),
        ))
    });
    add(m, "nospace", &[Str], None, |a| {
        Ok(Value::from(
            s(&a[0])
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<std::string::String>(),
        ))
    });
    add(m, "abbrev", &[Int, Str], None, |a| {
        let (w, t) = (i(&a[0]), s(&a[1]));
        if w < 4 {
            return Ok(Value::str(t));
        }
        Ok(Value::from(abbreviate_full(t, 0, w as usize)))
    });
    add(m, "abbrevboth", &[Int, Int, Str], None, |a| {
        let (left, right, t) = (i(&a[0]), i(&a[1]), s(&a[2]));
        if right < 4 || (left > 0 && right < 7) {
            return Ok(Value::str(t));
        }
        Ok(Value::from(abbreviate_full(
            t,
            left.max(0) as usize,
            right as usize,
        )))
    });
    add(m, "trunc", &[Int, Str], None, |a| {
        let (c, t) = (i(&a[0]), s(&a[1]));
        let len = t.len() as i64;
        if c < 0 && len + c > 0 {
            return Ok(Value::from(byte_slice(t, (len + c) as usize, t.len())));
        }
        if c >= 0 && len > c {
            return Ok(Value::from(byte_slice(t, 0, c as usize)));
        }
        Ok(Value::str(t))
    });
    add(m, "substr", &[Int, Int, Str], None, |a| {
        let (start, end, t) = (i(&a[0]), i(&a[1]), s(&a[2]));
        let len = t.len() as i64;
        let bad = || {
            Err(format!(
                "runtime error: slice bounds out of range [{start}:{end}]"
            ))
        };
        if start < 0 {
            if end < 0 || end > len {
                return Err(format!(
                    "runtime error: slice bounds out of range [:{end}] with length {len}"
                ));
            }
            return Ok(Value::from(byte_slice(t, 0, end as usize)));
        }
        if end < 0 || end > len {
            if start > len {
                return Err(format!(
                    "runtime error: slice bounds out of range [{start}:{len}]"
                ));
            }
            return Ok(Value::from(byte_slice(t, start as usize, t.len())));
        }
        if start > end {
            return bad();
        }
        Ok(Value::from(byte_slice(t, start as usize, end as usize)))
    });
    /// Beyond any template's legitimate output (Kubernetes objects stop at 1.5 MiB).
    const MAX_REPEAT_BYTES: u64 = 1 << 30;
    add(m, "repeat", &[Int, Str], None, |a| {
        let n = i(&a[0]);
        let text = s(&a[1]);
        if n < 0 {
            return Err("strings: negative Repeat count".into());
        }
        // Go panics (text/template reports it) when the length overflows an int; rudder
        // also refuses lengths no machine holds, where Go would die of an allocation failure.
        let len = (text.len() as u64)
            .checked_mul(n as u64)
            .filter(|&len| len <= i64::MAX as u64)
            .ok_or("strings: Repeat output length overflow")?;
        if len > MAX_REPEAT_BYTES {
            return Err(format!(
                "strings: Repeat output of {len} bytes is over rudder's limit of {MAX_REPEAT_BYTES}"
            ));
        }
        Ok(Value::from(text.repeat(n as usize)))
    });
    add(m, "replace", &[Str, Str, Str], None, |a| {
        Ok(Value::from(s(&a[2]).replace(s(&a[0]), s(&a[1]))))
    });
    add(m, "contains", &[Str, Str], None, |a| {
        Ok(Value::Bool(s(&a[1]).contains(s(&a[0]))))
    });
    add(m, "hasPrefix", &[Str, Str], None, |a| {
        Ok(Value::Bool(s(&a[1]).starts_with(s(&a[0]))))
    });
    add(m, "hasSuffix", &[Str, Str], None, |a| {
        Ok(Value::Bool(s(&a[1]).ends_with(s(&a[0]))))
    });
    add(m, "quote", &[], Some(Any), |a| {
        let parts: Vec<std::string::String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| gofmt::quote(&strval(v)))
            .collect();
        Ok(Value::from(parts.join(" ")))
    });
    add(m, "squote", &[], Some(Any), |a| {
        let parts: Vec<std::string::String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect();
        Ok(Value::from(parts.join(" ")))
    });
    add(m, "cat", &[], Some(Any), |a| {
        let vals: Vec<Value> = a.iter().filter(|v| !v.is_nil()).cloned().collect();
        let format = "%v ".repeat(vals.len());
        Ok(Value::from(gofmt::sprintf(format.trim(), &vals)))
    });
    add(m, "indent", &[Int, Str], None, |a| {
        indent(false, i(&a[0]), s(&a[1]))
    });
    add(m, "nindent", &[Int, Str], None, |a| {
        indent(true, i(&a[0]), s(&a[1]))
    });
    add(m, "plural", &[Str, Str, Int], None, |a| {
        Ok(if i(&a[2]) == 1 {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    add(m, "initials", &[Str], None, |a| {
        // goutils walks the string byte by byte, each byte read as the rune of that value:
        // a multi-byte letter gives its lead byte as a Latin-1 char, and a 0x85 or 0xA0
        // byte inside one counts as a space (as U+0085 and U+00A0 are).
        let mut out = std::string::String::new();
        let mut after_space = true;
        for c in s(&a[0]).bytes().map(char::from) {
            if c.is_whitespace() {
                after_space = true;
            } else if after_space {
                out.push(c);
                after_space = false;
            }
        }
        Ok(Value::from(out))
    });
    add(m, "swapcase", &[Str], None, |a| {
        Ok(Value::from(
            s(&a[0])
                .chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().next().unwrap_or(c)
                    } else {
                        c.to_uppercase().next().unwrap_or(c)
                    }
                })
                .collect::<std::string::String>(),
        ))
    });
    add(m, "snakecase", &[Str], None, |a| {
        Ok(Value::from(to_lower_case_words(s(&a[0]), '_')))
    });
    add(m, "kebabcase", &[Str], None, |a| {
        Ok(Value::from(to_lower_case_words(s(&a[0]), '-')))
    });
    // huandu/xstrings' ToCamelCase (v1.5.0): leading connectors stay; a connector before
    // something else is dropped and what follows is upper-cased; of a run of connectors all
    // but the last stay; a word whose first letter is upper case has the capitals right after
    // it lower-cased (`HTTPServer` is `Httpserver`); a string of connectors only gets its last
    // one twice.
    add(m, "camelcase", &[Str], None, |a| {
        let up = |c: char| {
            let mut u = c.to_uppercase();
            match (u.next(), u.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        };
        let chars: Vec<char> = s(&a[0]).chars().collect();
        let mut out = std::string::String::new();
        if chars.is_empty() {
            return Ok(Value::from(out));
        }
        let mut i = 0;
        let mut r0 = chars[0];
        let mut lowering = false;
        while i < chars.len() {
            r0 = chars[i];
            i += 1;
            if !is_connector(r0) {
                lowering = r0.is_uppercase();
                r0 = up(r0);
                break;
            }
            out.push(r0);
        }
        if i >= chars.len() {
            out.push(r0);
            return Ok(Value::from(out));
        }
        while i < chars.len() {
            let r1 = r0;
            r0 = chars[i];
            i += 1;
            if is_connector(r0) && is_connector(r1) {
                out.push(r1);
                continue;
            }
            if is_connector(r1) {
                lowering = r0.is_uppercase();
                r0 = up(r0);
            } else {
                if lowering {
                    if r0.is_uppercase() {
                        r0 = lower_rune(r0);
                    } else {
                        lowering = false;
                    }
                }
                out.push(r1);
            }
        }
        out.push(r0);
        Ok(Value::from(out))
    });
    add(m, "wrap", &[Int, Str], None, |a| {
        Ok(Value::from(wrap_custom(s(&a[1]), i(&a[0]), "\n", false)))
    });
    add(m, "wrapWith", &[Int, Str, Str], None, |a| {
        Ok(Value::from(wrap_custom(s(&a[2]), i(&a[0]), s(&a[1]), true)))
    });
    add(m, "split", &[Str, Str], None, |a| {
        let mut out = std::collections::BTreeMap::new();
        for (k, part) in go_split(s(&a[1]), s(&a[0]), -1).into_iter().enumerate() {
            out.insert(format!("_{k}"), part);
        }
        Ok(Value::StrMap(std::sync::Arc::new(out)))
    });
    add(m, "splitn", &[Str, Int, Str], None, |a| {
        let mut out = std::collections::BTreeMap::new();
        for (k, part) in go_split(s(&a[2]), s(&a[0]), i(&a[1]))
            .into_iter()
            .enumerate()
        {
            out.insert(format!("_{k}"), part);
        }
        Ok(Value::StrMap(std::sync::Arc::new(out)))
    });
    add(m, "splitList", &[Str, Str], None, |a| {
        Ok(Value::strings(go_split(s(&a[1]), s(&a[0]), -1)))
    });
    add(m, "join", &[Str, Any], None, |a| {
        Ok(Value::from(strslice(&a[1]).join(s(&a[0]))))
    });
    add(m, "seq", &[], Some(Int), |a| {
        let p: Vec<i64> = a.iter().map(i).collect();
        let out = match p.as_slice() {
            [end] => {
                let inc = if *end < 1 { -1 } else { 1 };
                until_step(1, end + inc, inc)
            }
            [start, end] => {
                let step = if end < start { -1 } else { 1 };
                until_step(*start, end + step, step)
            }
            [start, step, end] => {
                let mut inc = 1;
                if end < start {
                    inc = -1;
                    if *step > 0 {
                        return Ok(Value::str(""));
                    }
                }
                until_step(*start, end + inc, *step)
            }
            _ => Vec::new(),
        };
        Ok(Value::from(
            out.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ))
    });
    let _ = Map::new;
}

/// Go's `strings.SplitN` (n < 0: all; n == 0: none).
pub(crate) fn go_split(text: &str, sep: &str, n: i64) -> Vec<std::string::String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let mut out: Vec<std::string::String> = text.chars().map(|c| c.to_string()).collect();
        if n > 0 && out.len() > n as usize {
            let rest: std::string::String = out[n as usize - 1..].concat();
            out.truncate(n as usize - 1);
            out.push(rest);
        }
        return out;
    }
    if n < 0 {
        return text.split(sep).map(str::to_string).collect();
    }
    text.splitn(n as usize, sep).map(str::to_string).collect()
}

/// Sprig's `untilStep`.
pub(crate) fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return v;
        }
        let mut k = start;
        while k > stop {
            v.push(k);
            k += step;
        }
        return v;
    }
    if step <= 0 {
        return v;
    }
    let mut k = start;
    while k < stop {
        v.push(k);
        k += step;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(title("hello world-foo bar_baz"), "Hello World-Foo Bar_baz");
        assert_eq!(go_split("a,b,c", ",", 2), vec!["a", "b,c"]);
        assert_eq!(until_step(0, 5, 2), vec![0, 2, 4]);
        assert_eq!(abbreviate_full("hello world", 0, 8), "hello...");
        let words: Vec<&str> = case_words("HelloWorldHTTPServer")
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(words, vec!["Hello", "World", "HTTP", "Server"]);
        assert_eq!(to_lower_case_words("k8s.io/Name", '_'), "k_8s.io/name");
        assert_eq!(to_lower_case_words("a1B2", '-'), "a1-b2");
    }
}
