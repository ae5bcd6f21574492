//! Sprig's math, encoding, hashing, regex, semver, date, path, URL and random functions.

use std::any::Any as StdAny;
use std::sync::Arc;

use base64::Engine as _;
use num_bigint::BigInt;
use num_traits::Zero;
use rand::Rng;
use regex::Regex;
use rudder_gotmpl::FuncMap;
#[allow(unused_imports)]
use rudder_gotmpl::ParamType::{Any, Bool, Float64, Int, Map as MapT, String as Str};
use rudder_semver::{Constraints, Version};
use rudder_value::{gofmt, Kind, Map, Object, Value};

use crate::add;
use crate::convert::{to_float64, to_int64};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn i(v: &Value) -> i64 {
    to_int64(v)
}

/// Sprig's float arithmetic (`addf`, `add1f`, `subf`, `mulf`, `divf`) is shopspring/decimal's:
/// each argument becomes the exact decimal of its shortest text (`NewFromFloat`, which refuses
/// NaN and infinities), sums and products are exact at any size, a quotient is rounded half
/// away from zero at 16 decimal places (`DivisionPrecision`), and the result is the float64
/// nearest to the decimal (+Inf past the range). So `addf 0.1 0.2` is `0.3` and
/// `addf 1e39 1` is `1e+39`. Hand-written over `num-bigint`: the decimal crates either cap
/// the digits (28-digit `rust_decimal`) or round differently from shopspring.
#[derive(Clone, Debug)]
struct Decimal {
    /// The value is `digits × 10^exp`.
    digits: BigInt,
    exp: i64,
}

/// shopspring's `DivisionPrecision`.
const DIVISION_PRECISION: i64 = 16;

impl Decimal {
    fn from_f64(f: f64) -> Result<Decimal, String> {
        if !f.is_finite() {
            let text = if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "+Inf"
            } else {
                "-Inf"
            };
            return Err(format!("Cannot create a Decimal from {text}"));
        }
        // The shortest round-tripping digits, as `d.ddde±x`.
        let text = gofmt::format_float(f, 'e', -1);
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let exp: i64 = exp.parse().unwrap_or(0);
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits: BigInt = format!("{int}{frac}").parse().unwrap_or_default();
        Ok(Decimal {
            digits,
            exp: exp - frac.len() as i64,
        })
    }

    fn to_f64(&self) -> f64 {
        // Rust's float parsing rounds any number of digits correctly.
        format!("{}e{}", self.digits, self.exp)
            .parse()
            .unwrap_or(0.0)
    }

    /// Both digit strings at the smaller exponent.
    fn aligned(&self, other: &Decimal) -> (BigInt, BigInt, i64) {
        let exp = self.exp.min(other.exp);
        let scale = |d: &Decimal| &d.digits * pow10(d.exp - exp);
        (scale(self), scale(other), exp)
    }

    fn add(&self, other: &Decimal) -> Decimal {
        let (a, b, exp) = self.aligned(other);
        Decimal { digits: a + b, exp }
    }

    fn sub(&self, other: &Decimal) -> Decimal {
        let (a, b, exp) = self.aligned(other);
        Decimal { digits: a - b, exp }
    }

    fn mul(&self, other: &Decimal) -> Decimal {
        Decimal {
            digits: &self.digits * &other.digits,
            exp: self.exp + other.exp,
        }
    }

    /// shopspring's `Div`: the quotient truncated at [`DIVISION_PRECISION`] places, then
    /// rounded away from zero when the remainder is at least half a unit.
    fn div(&self, other: &Decimal) -> Result<Decimal, String> {
        if other.digits.is_zero() {
            return Err("decimal division by 0".into());
        }
        // self / other × 10^p = (a / b) × 10^k
        let k = self.exp - other.exp + DIVISION_PRECISION;
        let (num, den) = if k >= 0 {
            (&self.digits * pow10(k), other.digits.clone())
        } else {
            (self.digits.clone(), &other.digits * pow10(-k))
        };
        let mut quotient = &num / &den;
        let remainder = &num % &den;
        if remainder.magnitude() * 2u32 >= *den.magnitude() {
            if self.digits.sign() != other.digits.sign() {
                quotient -= 1;
            } else {
                quotient += 1;
            }
        }
        Ok(Decimal {
            digits: quotient,
            exp: -DIVISION_PRECISION,
        })
    }
}

fn pow10(n: i64) -> BigInt {
    BigInt::from(10u32).pow(n as u32)
}

/// Sprig's `execDecimalOp`: `first` combined with each of `rest` in turn.
fn decimal_op(
    first: &Value,
    rest: &[Value],
    op: fn(&Decimal, &Decimal) -> Result<Decimal, String>,
) -> Result<Value, String> {
    let mut acc = Decimal::from_f64(to_float64(first))?;
    for x in rest {
        acc = op(&acc, &Decimal::from_f64(to_float64(x))?)?;
    }
    Ok(Value::Float(acc.to_f64()))
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// Go's RE2 syntax through the `regex` crate, with Go's compile error wording. Compiled
/// patterns are kept for the life of the process (charts call `regexMatch` with the same few
/// patterns over and over, and compiling costs far more than matching). They are shared, not
/// cloned: a cloned `Regex` starts with an empty pool of match caches, which its first search
/// rebuilds (costing more than the search itself).
fn compile(re: &str) -> Result<Arc<Regex>, String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(re).cloned()) {
        return Ok(found);
    }
    let compiled = Arc::new(compile_uncached(re)?);
    if let Ok(mut c) = cache.lock() {
        // Bounded: a template generating patterns must not grow memory without limit.
        if c.len() >= 512 {
            c.clear();
        }
        c.insert(re.to_string(), compiled.clone());
    }
    Ok(compiled)
}

/// Go's RE2 syntax in the `regex` crate's: Go's `\d`, `\w`, `\s` and `\b` are ASCII-only
/// (the crate's are Unicode), and inside a class Go takes a `-` right after a class escape
/// (`[\w-.]`) as a literal, where the crate would see a broken range.
fn go_regex_to_rust(re: &str) -> String {
    const DIGIT: &str = "0-9";
    const WORD: &str = "0-9A-Za-z_";
    const SPACE: &str = "\\t\\n\\f\\r ";
    let mut out = String::with_capacity(re.len() + 16);
    let mut in_class = false;
    // Whether the last thing in the class was a whole class (an escape like `\w`, `[:alpha:]`,
    // `\p{L}`), after which a `-` is a literal.
    let mut after_class_item = false;
    let mut class_start = false;
    let mut chars = re.chars().peekable();
    while let Some(c) = chars.next() {
        let was_after_class_item = std::mem::take(&mut after_class_item);
        let was_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let ascii = match e {
                    'd' => Some((DIGIT, false)),
                    'D' => Some((DIGIT, true)),
                    'w' => Some((WORD, false)),
                    'W' => Some((WORD, true)),
                    's' => Some((SPACE, false)),
                    'S' => Some((SPACE, true)),
                    _ => None,
                };
                match (ascii, in_class) {
                    (Some((set, false)), true) => {
                        out.push_str(set);
                        after_class_item = true;
                    }
                    (Some((set, negated)), _) => {
                        out.push_str(if negated { "[^" } else { "[" });
                        out.push_str(set);
                        out.push(']');
                        after_class_item = in_class;
                    }
                    (None, false) if e == 'b' || e == 'B' => {
                        out.push_str("(?-u:\\");
                        out.push(e);
                        out.push(')');
                    }
                    (None, _) => {
                        out.push('\\');
                        out.push(e);
                        if in_class && (e == 'p' || e == 'P') {
                            // `\pL` or `\p{Greek}`: copy the name through.
                            if chars.peek() == Some(&'{') {
                                for n in chars.by_ref() {
                                    out.push(n);
                                    if n == '}' {
                                        break;
                                    }
                                }
                            } else if let Some(n) = chars.next() {
                                out.push(n);
                            }
                            after_class_item = true;
                        }
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                // A `]` first in a class is a literal.
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                    class_start = false;
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class `[:alpha:]`, copied through.
                out.push('[');
                for n in chars.by_ref() {
                    out.push(n);
                    if n == ']' {
                        break;
                    }
                }
                after_class_item = true;
            }
            // Literal in Go's classes, nested classes and set operators in the crate's.
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '-' if in_class && was_after_class_item && !was_class_start => out.push_str("\\-"),
            c => out.push(c),
        }
    }
    out
}

fn compile_uncached(re: &str) -> Result<Regex, String> {
    Regex::new(&go_regex_to_rust(re)).map_err(|e| {
        let msg = e.to_string();
        let last = msg
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map(|l| l.trim_start_matches("error: ").to_string());
        let code = match last.as_deref() {
            Some("unclosed group") => "missing closing )".to_string(),
            Some("unclosed character class") => "missing closing ]".to_string(),
            Some("unopened group") => "unexpected )".to_string(),
            Some("unclosed capture group name") | Some("empty capture group name") => {
                "invalid named capture".to_string()
            }
            Some("repetition operator missing expression") => {
                "missing argument to repetition operator".to_string()
            }
            Some(other) => other.to_string(),
            None => msg.clone(),
        };
        format!("error parsing regexp: {code}: `{re}`")
    })
}

/// `regexp.MustCompile`'s panic text, which the template engine reports.
fn must_compile(re: &str) -> Result<Arc<Regex>, String> {
    compile(re).map_err(|e| {
        let quoted = if re.contains('`') {
            gofmt::quote(re)
        } else {
            format!("`{re}`")
        };
        format!("regexp: Compile({quoted}): {e}")
    })
}

/// A `*semver.Version` for templates.
#[derive(Debug)]
struct SemverObject(Version);

impl Object for SemverObject {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }
    fn kind(&self) -> Kind {
        Kind::Ptr
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Major"
                | "Minor"
                | "Patch"
                | "Prerelease"
                | "Metadata"
                | "Original"
                | "String"
                | "IncMajor"
                | "IncMinor"
                | "IncPatch"
                | "LessThan"
                | "GreaterThan"
                | "Equal"
                | "Compare"
        )
    }
    /// The comparisons take a `*semver.Version`, which `ParamType` does not name: they
    /// check their argument themselves.
    fn method_params(&self, name: &str) -> Option<&'static [rudder_gotmpl::ParamType]> {
        match name {
            "LessThan" | "GreaterThan" | "Equal" | "Compare" => None,
            _ => Some(&[]),
        }
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let v = &self.0;
        let other = || -> Result<Version, String> {
            match args.first() {
                Some(Value::Object(o)) => o
                    .as_any()
                    .downcast_ref::<SemverObject>()
                    .map(|s| s.0.clone())
                    .ok_or_else(|| "wrong type for value; expected *semver.Version".to_string()),
                Some(other) => Err(format!(
                    "wrong type for value; expected *semver.Version; got {}",
                    other.type_name()
                )),
                None => Err(format!("wrong number of args for {name}: want 1 got 0")),
            }
        };
        Ok(match name {
            "Major" => Value::Int64(v.major as i64),
            "Minor" => Value::Int64(v.minor as i64),
            "Patch" => Value::Int64(v.patch as i64),
            "Prerelease" => Value::str(&v.pre),
            "Metadata" => Value::str(&v.metadata),
            "Original" => Value::str(v.original()),
            "String" => Value::from(v.to_string()),
            "IncMajor" => Value::Object(Arc::new(SemverObject(v.inc_major()))),
            "IncMinor" => Value::Object(Arc::new(SemverObject(v.inc_minor()))),
            "IncPatch" => Value::Object(Arc::new(SemverObject(v.inc_patch()))),
            "LessThan" => Value::Bool(v.compare(&other()?) == std::cmp::Ordering::Less),
            "GreaterThan" => Value::Bool(v.compare(&other()?) == std::cmp::Ordering::Greater),
            "Equal" => Value::Bool(v.compare(&other()?) == std::cmp::Ordering::Equal),
            "Compare" => Value::Int(v.compare(&other()?) as i64),
            _ => return Err(format!("no method {name}")),
        })
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn fmt_v(&self, out: &mut String) {
        out.push_str(&self.0.to_string());
    }
    fn to_data(&self) -> Option<Value> {
        Some(Value::from(self.0.to_string()))
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
}

fn random_string(n: i64, alphabet: &[u8]) -> Value {
    let mut rng = rand::thread_rng();
    Value::from(
        (0..n.max(0))
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
            .collect::<String>(),
    )
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const DIGITS: &[u8] = b"0123456789";

fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn path_dir(p: &str) -> String {
    let dir = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    path_clean(dir)
}

fn path_ext(p: &str) -> String {
    let base_start = p.rfind('/').map_or(0, |i| i + 1);
    match p[base_start..].rfind('.') {
        Some(i) => p[base_start + i..].to_string(),
        None => String::new(),
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    // Integer math (int64 results, cast conversions).
    add(m, "add1", &[Any], None, |a| {
        Ok(Value::Int64(i(&a[0]).wrapping_add(1)))
    });
    add(m, "add", &[], Some(Any), |a| {
        Ok(Value::Int64(
            a.iter().map(i).fold(0i64, |x, y| x.wrapping_add(y)),
        ))
    });
    add(m, "sub", &[Any, Any], None, |a| {
        Ok(Value::Int64(i(&a[0]).wrapping_sub(i(&a[1]))))
    });
    add(m, "mul", &[Any], Some(Any), |a| {
        Ok(Value::Int64(
            a[1..].iter().fold(i(&a[0]), |x, y| x.wrapping_mul(i(y))),
        ))
    });
    add(m, "div", &[Any, Any], None, |a| match i(&a[1]) {
        0 => Err("runtime error: integer divide by zero".into()),
        d => Ok(Value::Int64(i(&a[0]).wrapping_div(d))),
    });
    add(m, "mod", &[Any, Any], None, |a| match i(&a[1]) {
        0 => Err("runtime error: integer divide by zero".into()),
        d => Ok(Value::Int64(i(&a[0]).wrapping_rem(d))),
    });
    for name in ["max", "biggest"] {
        add(m, name, &[Any], Some(Any), |a| {
            Ok(Value::Int64(a[1..].iter().map(i).fold(i(&a[0]), i64::max)))
        });
    }
    add(m, "min", &[Any], Some(Any), |a| {
        Ok(Value::Int64(a[1..].iter().map(i).fold(i(&a[0]), i64::min)))
    });
    add(m, "randInt", &[Int, Int], None, |a| {
        let (lo, hi) = (i(&a[0]), i(&a[1]));
        if hi <= lo {
            return Err("invalid argument to Intn".into());
        }
        Ok(Value::Int(rand::thread_rng().gen_range(lo..hi)))
    });
    // Float math.
    add(m, "add1f", &[Any], None, |a| {
        decimal_op(&a[0], &[Value::Int(1)], |x, y| Ok(x.add(y)))
    });
    add(m, "addf", &[], Some(Any), |a| {
        decimal_op(&Value::Float(0.0), a, |x, y| Ok(x.add(y)))
    });
    add(m, "subf", &[Any], Some(Any), |a| {
        decimal_op(&a[0], &a[1..], |x, y| Ok(x.sub(y)))
    });
    add(m, "mulf", &[Any], Some(Any), |a| {
        decimal_op(&a[0], &a[1..], |x, y| Ok(x.mul(y)))
    });
    add(m, "divf", &[Any], Some(Any), |a| {
        decimal_op(&a[0], &a[1..], Decimal::div)
    });
    add(m, "maxf", &[Any], Some(Any), |a| {
        Ok(Value::Float(
            a[1..]
                .iter()
                .map(to_float64)
                .fold(to_float64(&a[0]), f64::max),
        ))
    });
    add(m, "minf", &[Any], Some(Any), |a| {
        Ok(Value::Float(
            a[1..]
                .iter()
                .map(to_float64)
                .fold(to_float64(&a[0]), f64::min),
        ))
    });
    add(m, "ceil", &[Any], None, |a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    add(m, "floor", &[Any], None, |a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    add(m, "round", &[Any, Int], Some(Float64), |a| {
        let round_on = a.get(2).map(to_float64).unwrap_or(0.5);
        let val = to_float64(&a[0]);
        let pow = 10f64.powf(to_float64(&a[1]));
        let digit = pow * val;
        let frac = digit - digit.trunc();
        let r = if frac >= round_on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(r / pow))
    });

    // Encodings and hashes.
    add(m, "b64enc", &[Str], None, |a| {
        Ok(Value::from(
            base64::engine::general_purpose::STANDARD.encode(s(&a[0])),
        ))
    });
    add(m, "b64dec", &[Str], None, |a| {
        Ok(Value::from(
            match base64::engine::general_purpose::STANDARD.decode(s(&a[0])) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => go_base64_error(e),
            },
        ))
    });
    add(m, "b32enc", &[Str], None, |a| {
        Ok(Value::from(
            data_encoding::BASE32.encode(s(&a[0]).as_bytes()),
        ))
    });
    add(m, "b32dec", &[Str], None, |a| {
        Ok(Value::from(
            match data_encoding::BASE32.decode(s(&a[0]).as_bytes()) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => format!("illegal base32 data at input byte {}", e.position),
            },
        ))
    });
    add(m, "sha1sum", &[Str], None, |a| {
        use sha1::Digest;
        Ok(Value::from(hex(&sha1::Sha1::digest(s(&a[0]).as_bytes()))))
    });
    add(m, "sha256sum", &[Str], None, |a| {
        use sha2::Digest;
        Ok(Value::from(hex(&sha2::Sha256::digest(s(&a[0]).as_bytes()))))
    });
    add(m, "sha512sum", &[Str], None, |a| {
        use sha2::Digest;
        Ok(Value::from(hex(&sha2::Sha512::digest(s(&a[0]).as_bytes()))))
    });
    add(m, "adler32sum", &[Str], None, |a| {
        let (mut x, mut y) = (1u32, 0u32);
        for b in s(&a[0]).bytes() {
            x = (x + b as u32) % 65521;
            y = (y + x) % 65521;
        }
        Ok(Value::from(((y << 16) | x).to_string()))
    });

    // Regular expressions: the must* variants return Go's compile error; the others panic
    // with regexp.MustCompile's message (regexMatch alone just answers false).
    add(m, "regexMatch", &[Str, Str], None, |a| {
        Ok(Value::Bool(
            compile(s(&a[0])).is_ok_and(|re| re.is_match(s(&a[1]))),
        ))
    });
    add(m, "mustRegexMatch", &[Str, Str], None, |a| {
        Ok(Value::Bool(compile(s(&a[0]))?.is_match(s(&a[1]))))
    });
    add(
        m,
        "regexFindAll",
        &[Str, Str, Int],
        None,
        regex_find_all::<false>,
    );
    add(
        m,
        "mustRegexFindAll",
        &[Str, Str, Int],
        None,
        regex_find_all::<true>,
    );
    add(m, "regexFind", &[Str, Str], None, regex_find::<false>);
    add(m, "mustRegexFind", &[Str, Str], None, regex_find::<true>);
    add(
        m,
        "regexReplaceAll",
        &[Str, Str, Str],
        None,
        regex_replace::<false, false>,
    );
    add(
        m,
        "mustRegexReplaceAll",
        &[Str, Str, Str],
        None,
        regex_replace::<true, false>,
    );
    add(
        m,
        "regexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        regex_replace::<false, true>,
    );
    add(
        m,
        "mustRegexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        regex_replace::<true, true>,
    );
    add(
        m,
        "regexSplit",
        &[Str, Str, Int],
        None,
        regex_split::<false>,
    );
    add(
        m,
        "mustRegexSplit",
        &[Str, Str, Int],
        None,
        regex_split::<true>,
    );
    add(m, "regexQuoteMeta", &[Str], None, |a| {
        Ok(Value::from(regex::escape(s(&a[0]))))
    });

    // Semver.
    add(m, "semver", &[Str], None, |a| {
        Version::parse(s(&a[0]))
            .map(|v| Value::Object(Arc::new(SemverObject(v))))
            .map_err(|e| e.to_string())
    });
    add(m, "semverCompare", &[Str, Str], None, |a| {
        let c = Constraints::parse(s(&a[0])).map_err(|e| e.to_string())?;
        let v = Version::parse(s(&a[1])).map_err(|e| e.to_string())?;
        Ok(Value::Bool(c.check(&v)))
    });

    // Paths.
    add(m, "base", &[Str], None, |a| {
        Ok(Value::from(path_base(s(&a[0]))))
    });
    add(m, "dir", &[Str], None, |a| {
        Ok(Value::from(path_dir(s(&a[0]))))
    });
    add(m, "clean", &[Str], None, |a| {
        Ok(Value::from(path_clean(s(&a[0]))))
    });
    add(m, "ext", &[Str], None, |a| {
        Ok(Value::from(path_ext(s(&a[0]))))
    });
    add(m, "isAbs", &[Str], None, |a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });
    add(m, "osBase", &[Str], None, |a| {
        Ok(Value::from(path_base(s(&a[0]))))
    });
    add(m, "osDir", &[Str], None, |a| {
        Ok(Value::from(path_dir(s(&a[0]))))
    });
    add(m, "osClean", &[Str], None, |a| {
        Ok(Value::from(path_clean(s(&a[0]))))
    });
    add(m, "osExt", &[Str], None, |a| {
        Ok(Value::from(path_ext(s(&a[0]))))
    });
    add(m, "osIsAbs", &[Str], None, |a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });

    // Random values: same shape as Sprig's, different values.
    add(m, "randAlphaNum", &[Int], None, |a| {
        Ok(random_string(i(&a[0]), ALNUM))
    });
    add(m, "randAlpha", &[Int], None, |a| {
        Ok(random_string(i(&a[0]), LETTERS))
    });
    add(m, "randNumeric", &[Int], None, |a| {
        Ok(random_string(i(&a[0]), DIGITS))
    });
    add(m, "randAscii", &[Int], None, |a| {
        let printable: Vec<u8> = (32u8..127).collect();
        Ok(random_string(i(&a[0]), &printable))
    });
    add(m, "randBytes", &[Int], None, |a| {
        let n = i(&a[0]).max(0) as usize;
        let mut buf = vec![0u8; n];
        rand::thread_rng().fill(buf.as_mut_slice());
        Ok(Value::from(
            base64::engine::general_purpose::STANDARD.encode(buf),
        ))
    });
    add(m, "shuffle", &[Str], None, |a| {
        use rand::seq::SliceRandom;
        let mut c: Vec<char> = s(&a[0]).chars().collect();
        c.shuffle(&mut rand::thread_rng());
        Ok(Value::from(c.into_iter().collect::<String>()))
    });
    add(m, "uuidv4", &[], None, |_| {
        let mut b = [0u8; 16];
        rand::thread_rng().fill(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex(&b);
        Ok(Value::from(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )))
    });

    // URLs.
    add(m, "urlParse", &[Str], None, |a| {
        let u = crate::gourl::parse(s(&a[0])).map_err(|e| format!("unable to parse url: {e}"))?;
        let mut out = Map::new();
        out.insert("scheme".into(), Value::str(&u.scheme));
        out.insert("host".into(), Value::str(&u.host));
        out.insert("hostname".into(), Value::from(u.hostname()));
        out.insert("path".into(), Value::str(&u.path));
        out.insert("query".into(), Value::str(&u.raw_query));
        out.insert("opaque".into(), Value::str(&u.opaque));
        out.insert("fragment".into(), Value::str(&u.fragment));
        out.insert("userinfo".into(), Value::from(u.userinfo()));
        Ok(Value::map(out))
    });
    add(m, "urlJoin", &[MapT], None, |a| {
        let g = |k: &str| -> Result<String, String> {
            match a[0].get_path(&[k]) {
                None => Ok(String::new()),
                Some(Value::String(v)) => Ok(v.to_string()),
                Some(Value::Nil) => {
                    Err("runtime error: invalid memory address or nil pointer dereference".into())
                }
                Some(v) => Err(format!(
                    "unable to parse {k} key, must be of type string, but {} found",
                    v.kind().name()
                )),
            }
        };
        let mut u = crate::gourl::Url {
            scheme: g("scheme")?,
            host: g("host")?,
            path: g("path")?,
            raw_query: g("query")?,
            opaque: g("opaque")?,
            fragment: g("fragment")?,
            ..Default::default()
        };
        let info = g("userinfo")?;
        if !info.is_empty() {
            let t = crate::gourl::parse(&format!("proto://{info}@host"))
                .map_err(|e| format!("unable to parse userinfo in dict: {e}"))?;
            u.user = t.user;
        }
        Ok(Value::from(u.to_go_string()))
    });
    add(m, "getHostByName", &[Str], None, |a| {
        use std::net::ToSocketAddrs;
        Ok(Value::from(
            (s(&a[0]), 0)
                .to_socket_addrs()
                .ok()
                .and_then(|mut it| it.next())
                .map(|sa| sa.ip().to_string())
                .unwrap_or_default(),
        ))
    });

    crate::helm::register_dates(m);
}

fn go_base64_error(e: base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(pos, _)
        | base64::DecodeError::InvalidLastSymbol(pos, _) => {
            format!("illegal base64 data at input byte {pos}")
        }
        base64::DecodeError::InvalidLength(len) => {
            format!("illegal base64 data at input byte {len}")
        }
        base64::DecodeError::InvalidPadding => "illegal base64 data at input byte 0".into(),
    }
}

fn compile_for<const MUST: bool>(re: &str) -> Result<Arc<Regex>, String> {
    if MUST {
        compile(re)
    } else {
        must_compile(re)
    }
}

fn regex_find_all<const MUST: bool>(a: &[Value]) -> Result<Value, String> {
    let re = compile_for::<MUST>(s(&a[0]))?;
    let n = i(&a[2]);
    let all: Vec<String> = re
        .find_iter(s(&a[1]))
        .map(|x| x.as_str().to_string())
        .collect();
    let found: Vec<String> = if n < 0 {
        all
    } else {
        all.into_iter().take(n as usize).collect()
    };
    // Go's FindAllString gives a nil []string when nothing matched (or n is 0).
    Ok(if found.is_empty() {
        Value::nil_strings()
    } else {
        Value::strings(found)
    })
}

fn regex_find<const MUST: bool>(a: &[Value]) -> Result<Value, String> {
    let re = compile_for::<MUST>(s(&a[0]))?;
    Ok(Value::str(
        re.find(s(&a[1])).map(|x| x.as_str()).unwrap_or(""),
    ))
}

fn regex_replace<const MUST: bool, const LITERAL: bool>(a: &[Value]) -> Result<Value, String> {
    let re = compile_for::<MUST>(s(&a[0]))?;
    Ok(Value::from(if LITERAL {
        re.replace_all(s(&a[1]), regex::NoExpand(s(&a[2])))
            .into_owned()
    } else {
        re.replace_all(s(&a[1]), s(&a[2])).into_owned()
    }))
}

fn regex_split<const MUST: bool>(a: &[Value]) -> Result<Value, String> {
    let re = compile_for::<MUST>(s(&a[0]))?;
    let n = i(&a[2]);
    let text = s(&a[1]);
    if n == 0 {
        // Go's Regexp.Split returns a nil []string for n == 0.
        return Ok(Value::nil_strings());
    }
    if !re.as_str().is_empty() && text.is_empty() {
        return Ok(Value::strings(vec![String::new()]));
    }
    // Go's Regexp.Split over its FindAllStringIndex, which drops an empty match that
    // abuts the previous match.
    let mut matches: Vec<(usize, usize)> = Vec::new();
    let mut prev_end: Option<usize> = None;
    for m in re.find_iter(text) {
        if m.start() == m.end() && prev_end == Some(m.start()) {
            continue;
        }
        if n > 0 && matches.len() as i64 >= n {
            break;
        }
        prev_end = Some(m.end());
        matches.push((m.start(), m.end()));
    }
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (ms, me) in matches {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        end = ms;
        if me != 0 {
            parts.push(text[beg..end].to_string());
        }
        beg = me;
    }
    if end != text.len() {
        parts.push(text[beg..].to_string());
    }
    Ok(Value::strings(parts))
}
