//! Writing, first step: a [`Value`] into the data go-yaml's encoder sees after
//! `json.Marshal` (key order, numbers, strings after the JSON round trip).

use crate::Value;

use super::emit::*;

/// go-yaml v2's key order (`keyList.Less`): runs of digits compare as numbers, and
/// non-letters sort before letters.
pub fn natural_less(a: &str, b: &str) -> std::cmp::Ordering {
    // ASCII keys (nearly all) are compared in place, others as vectors of chars.
    if a.is_ascii() && b.is_ascii() {
        return natural_order(a.as_bytes(), b.as_bytes());
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    natural_order(&ar[..], &br[..])
}

/// A key's characters by index: its bytes when it is ASCII, else its decoded chars.
trait KeyChars {
    fn len(&self) -> usize;
    fn at(&self, i: usize) -> char;
}

impl KeyChars for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }
    fn at(&self, i: usize) -> char {
        char::from(self[i])
    }
}

impl KeyChars for [char] {
    fn len(&self) -> usize {
        <[char]>::len(self)
    }
    fn at(&self, i: usize) -> char {
        self[i]
    }
}

/// go-yaml v2's `keyList.Less` over two keys' characters.
fn natural_order<K: KeyChars + ?Sized>(ar: &K, br: &K) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar.at(i) == br.at(i) {
            i += 1;
            continue;
        }
        let al = ar.at(i).is_alphabetic();
        let bl = br.at(i).is_alphabetic();
        if al && bl {
            return ar.at(i).cmp(&br.at(i));
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar.at(i) == '0' || br.at(i) == '0' {
            let mut j = i;
            while j > 0 && ar.at(j - 1).is_ascii_digit() {
                j -= 1;
                if ar.at(j) != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar.at(ai).is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(ar.at(ai) as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br.at(bi).is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(br.at(bi) as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar.at(i).cmp(&br.at(i));
    }
    ar.len().cmp(&br.len())
}

/// Sorts map entries by [`natural_less`] with a merge sort of our own. go-yaml's order is not
/// a total order for keys whose digit runs overflow 64 bits, and the standard library's sort
/// panics on such comparators; Go's sort does not, so neither may we.
fn sort_keys_naturally(entries: &mut Vec<(String, Data)>) {
    // Keys come from a map, in byte order, which is nearly always go-yaml's order already.
    // Without ASCII digits in any key the order is a total one (characters compared one by
    // one, non-letters before letters), so keys that are in order pair by pair are sorted
    // and the stable sort would leave them as they are: one comparison per key instead of
    // a sort's many.
    let digit_free = || {
        entries
            .iter()
            .all(|(k, _)| !k.bytes().any(|b| b.is_ascii_digit()))
    };
    let in_order = || {
        entries
            .windows(2)
            .all(|pair| natural_less(&pair[1].0, &pair[0].0) != std::cmp::Ordering::Less)
    };
    if digit_free() && in_order() {
        return;
    }
    fn merge_sort(mut v: Vec<(String, Data)>) -> Vec<(String, Data)> {
        if v.len() <= 1 {
            return v;
        }
        let right = v.split_off(v.len() / 2);
        let (left, right) = (merge_sort(v), merge_sort(right));
        let mut out = Vec::with_capacity(left.len() + right.len());
        let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
        while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
            if natural_less(&r.0, &l.0) == std::cmp::Ordering::Less {
                out.extend(right.next());
            } else {
                out.extend(left.next());
            }
        }
        out.extend(left);
        out.extend(right);
        out
    }
    *entries = merge_sort(std::mem::take(entries));
}

/// The data as it comes back from JSON into go-yaml v2: what `yaml.Marshal` really prints.
pub(super) enum Data {
    Null,
    Bool(bool),
    Int(String),
    Float(f64),
    Str(String),
    Seq(Vec<Data>),
    Map(Vec<(String, Data)>),
}

/// Why a value could not be written as YAML, by the step that failed, so that each step's
/// prefix is written once and no caller tests the text for it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// `json.Marshal` refused a value (sigs.k8s.io/yaml's first step).
    #[error("error marshaling into JSON: {0}")]
    Marshal(#[source] crate::json::EncodeError),
    /// go-yaml could not read back the JSON text (go-yaml's text).
    #[error("{0}")]
    Reread(String),
    /// go-yaml v3 encoding the value directly (`toYamlPretty`) refused it: Go's text, without
    /// sigs.k8s.io/yaml's prefix.
    #[error("{0}")]
    Unsupported(#[source] crate::json::EncodeError),
}

/// json.Marshal then yaml.Unmarshal: numbers that JSON prints without a fraction or exponent
/// come back as integers.
pub(super) fn to_data(v: &Value, depth: usize) -> Result<Data, EncodeError> {
    to_data_with(v, depth, true)
}

/// With `json` false, numbers keep their Go type (go-yaml v3 encoding the value directly).
pub(super) fn to_data_with(v: &Value, depth: usize, json: bool) -> Result<Data, EncodeError> {
    if depth > 10_000 {
        return Err(if json {
            EncodeError::Marshal(crate::json::EncodeError::Cycle)
        } else {
            EncodeError::Unsupported(crate::json::EncodeError::Cycle)
        });
    }
    Ok(match v {
        Value::Nil => Data::Null,
        Value::Bool(b) => Data::Bool(*b),
        Value::Int(i) | Value::Int64(i) => Data::Int(i.to_string()),
        Value::Float(f) if !json => Data::Float(*f),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(EncodeError::Marshal(crate::json::EncodeError::Float(*f)));
            }
            let json = crate::json::format_json_float(*f);
            if json.contains(['.', 'e', 'E']) {
                Data::Float(*f)
            } else {
                match json.trim_start_matches('-').parse::<u64>() {
                    Ok(_) if json.parse::<i64>().is_ok() || !json.starts_with('-') => {
                        Data::Int(json)
                    }
                    _ => Data::Float(*f),
                }
            }
        }
        Value::String(s) if json => Data::Str(json_round_trip_string(s)),
        Value::String(s) => Data::Str(s.to_string()),
        Value::Bytes(b) => {
            use base64::Engine as _;
            Data::Str(base64::engine::general_purpose::STANDARD.encode(b))
        }
        // A nil slice is null after the JSON round trip; go-yaml v3 itself writes [].
        Value::List(_) | Value::Strings(_) if json && v.is_nil_slice() => Data::Null,
        Value::StrMap(_) if json && v.is_nil_map() => Data::Null,
        Value::List(l) => Data::Seq(
            l.iter()
                .map(|x| to_data_with(x, depth + 1, json))
                .collect::<Result<_, _>>()?,
        ),
        Value::Strings(l) => Data::Seq(
            l.iter()
                .map(|s| {
                    Data::Str(if json {
                        json_round_trip_string(s)
                    } else {
                        s.clone()
                    })
                })
                .collect(),
        ),
        Value::Ints(l) => Data::Seq(l.iter().map(|i| Data::Int(i.to_string())).collect()),
        Value::Map(_) | Value::StrMap(_) => {
            let m = v.to_map().unwrap_or_default();
            let mut entries: Vec<(String, Data)> = m
                .iter()
                .map(|(k, x)| {
                    if json && k.contains('\u{85}') {
                        // The key, with its raw NEL, spans two lines of the JSON text:
                        // go-yaml v2 cannot read it back as a key.
                        return Err(EncodeError::Reread(
                            "yaml: line 1: did not find expected ',' or '}'".to_string(),
                        ));
                    }
                    Ok((k.clone(), to_data_with(x, depth + 1, json)?))
                })
                .collect::<Result<_, EncodeError>>()?;
            sort_keys_naturally(&mut entries);
            Data::Map(entries)
        }
        Value::Object(o) => match o.to_data() {
            Some(d) => to_data_with(&d, depth + 1, json)?,
            None => Data::Map(Vec::new()),
        },
    })
}

/// A string after `json.Marshal` and go-yaml v2's reading of the JSON text. Go's JSON
/// escapes every line break except U+0085 (NEL), which stays raw inside the double-quoted
/// JSON string, where libyaml reads it as a line break and folds it (`"a<NEL>b"` becomes
/// `"a b"`, blanks around the break are dropped, a run of breaks keeps all but the first).
fn json_round_trip_string(s: &str) -> String {
    if !s.contains('\u{85}') {
        return s.to_string();
    }
    let mut src = vec!['"'];
    for c in s.chars() {
        match c {
            '"' => src.extend(['\\', '"']),
            '\\' => src.extend(['\\', '\\']),
            '\n' => src.extend(['\\', 'n']),
            '\r' => src.extend(['\\', 'r']),
            '\t' => src.extend(['\\', 't']),
            '\u{2028}' => src.extend(['\\', 'L']),
            '\u{2029}' => src.extend(['\\', 'P']),
            c => src.push(c),
        }
    }
    src.push('"');
    flow_scalar(&src, 0).unwrap_or_else(|| s.to_string())
}

/// libyaml's reading of a quoted scalar starting at `src[start]` (the opening quote), with
/// YAML 1.1's line breaks: `\r\n`, `\r`, `\n`, U+0085 (read as `\n`), U+2028 and U+2029
/// (kept as themselves). A first line break that is `\n` folds into a space (or into the
/// breaks that follow it); a U+2028/U+2029 break is kept. yaml-rust2 follows YAML 1.2, where
/// only `\r` and `\n` break lines, so quoted scalars holding the others are read again here.
fn flow_scalar(src: &[char], start: usize) -> Option<String> {
    let quote = *src.get(start)?;
    let single = match quote {
        '\'' => true,
        '"' => false,
        _ => return None,
    };
    let is_blank = |c: char| c == ' ' || c == '\t';
    let mut i = start + 1;
    let mut out = String::new();
    let (mut leading_break, mut trailing, mut spaces) =
        (String::new(), String::new(), String::new());
    loop {
        let mut leading_blanks = false;
        while i < src.len() && !is_blank(src[i]) && !is_break(src[i]) {
            let c = src[i];
            if single && c == '\'' && src.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
            } else if c == quote {
                break;
            } else if !single && c == '\\' && src.get(i + 1).is_some_and(|&n| is_break(n)) {
                i += 1;
                i += if src[i] == '\r' && src.get(i + 1) == Some(&'\n') {
                    2
                } else {
                    1
                };
                leading_blanks = true;
                break;
            } else if !single && c == '\\' {
                let e = *src.get(i + 1)?;
                i += 2;
                let width = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => 0,
                };
                if width > 0 {
                    let hex: String = src.get(i..i + width)?.iter().collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    i += width;
                    continue;
                }
                out.push(match e {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\'' => '\'',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    _ => return None,
                });
            } else {
                out.push(c);
                i += 1;
            }
        }
        if i >= src.len() {
            return None;
        }
        if src[i] == quote {
            break;
        }
        while i < src.len() && (is_blank(src[i]) || is_break(src[i])) {
            if is_blank(src[i]) {
                if !leading_blanks {
                    spaces.push(src[i]);
                }
                i += 1;
            } else {
                let (brk, len) = match src[i] {
                    '\r' if src.get(i + 1) == Some(&'\n') => ('\n', 2),
                    '\r' | '\n' | '\u{85}' => ('\n', 1),
                    c => (c, 1),
                };
                if !leading_blanks {
                    spaces.clear();
                    leading_break.push(brk);
                    leading_blanks = true;
                } else {
                    trailing.push(brk);
                }
                i += len;
            }
        }
        if leading_blanks {
            if leading_break.starts_with('\n') {
                if trailing.is_empty() {
                    out.push(' ');
                } else {
                    out.push_str(&trailing);
                    trailing.clear();
                }
            } else {
                out.push_str(&leading_break);
                out.push_str(&trailing);
                trailing.clear();
            }
            leading_break.clear();
        } else {
            out.push_str(&spaces);
            spaces.clear();
        }
    }
    Some(out)
}
