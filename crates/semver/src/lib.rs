//! Semantic versions and version constraints the way Masterminds/semver v3 (which Helm and
//! Sprig use) reads and checks them: lenient versions (`v1.2` is `1.2.0`), constraints with
//! `=`, `!=`, `>`, `<`, `>=`, `<=`, `~`, `~>`, `^`, wildcards (`1.2.x`, `*`), hyphen ranges
//! (`1.2 - 1.4.5`), AND (`,` or space) and OR (`||`), and v3's rule that a prerelease
//! version satisfies a constraint only when the constraint itself names a prerelease.
//!
//! The `semver` crate follows Cargo's rules (different prerelease matching, no `v` prefix, no
//! wildcards in the middle of a comparison), so this is our own.

use std::cmp::Ordering;
use std::fmt;

/// A parsed version, keeping the text it was parsed from (Masterminds' `Original()`).
#[derive(Clone, Debug)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub metadata: String,
    original: String,
}

pub const INVALID_VERSION: &str = "invalid semantic version";

fn valid_ident(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl Version {
    /// Masterminds' `NewVersion`: an optional `v`, one to three numbers, then an optional
    /// `-prerelease` and `+metadata`.
    pub fn parse(text: &str) -> Result<Version, String> {
        let s = text.strip_prefix('v').unwrap_or(text);
        let (rest, metadata) = match s.split_once('+') {
            Some((r, m)) => (r, m),
            None => (s, ""),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, p),
            None => (rest, ""),
        };
        if (!pre.is_empty() || rest.contains('-')) && !valid_ident(pre) {
            return Err(INVALID_VERSION.into());
        }
        if (!metadata.is_empty() || s.contains('+')) && !valid_ident(metadata) {
            return Err(INVALID_VERSION.into());
        }
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty()
            || parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(INVALID_VERSION.into());
        }
        let num = |i: usize| -> Result<u64, String> {
            match parts.get(i) {
                None => Ok(0),
                Some(p) => p.parse().map_err(|_| INVALID_VERSION.to_string()),
            }
        };
        // Numeric prerelease identifiers may not have leading zeros.
        if !pre.is_empty()
            && pre
                .split('.')
                .any(|p| p.len() > 1 && p.starts_with('0') && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err("invalid prerelease string".into());
        }
        Ok(Version {
            major: num(0)?,
            minor: num(1)?,
            patch: num(2)?,
            pre: pre.into(),
            metadata: metadata.into(),
            original: text.into(),
        })
    }

    /// Masterminds' `StrictNewVersion`: exactly `MAJOR.MINOR.PATCH`, no `v`, no leading zeros.
    pub fn parse_strict(text: &str) -> Result<Version, String> {
        let core = text.split(['-', '+']).next().unwrap_or("");
        let parts: Vec<&str> = core.split('.').collect();
        if text.starts_with('v')
            || parts.len() != 3
            || parts.iter().any(|p| p.len() > 1 && p.starts_with('0'))
        {
            return Err(INVALID_VERSION.into());
        }
        Version::parse(text)
    }

    pub fn original(&self) -> &str {
        &self.original
    }

    /// Semver precedence (metadata ignored).
    pub fn compare(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_prerelease(&self.pre, &other.pre))
    }

    pub fn inc_major(&self) -> Version {
        Version::parse(&format!("{}.0.0", self.major + 1)).expect("valid")
    }

    pub fn inc_minor(&self) -> Version {
        Version::parse(&format!("{}.{}.0", self.major, self.minor + 1)).expect("valid")
    }

    pub fn inc_patch(&self) -> Version {
        // Masterminds: a prerelease version increments to its release.
        if self.pre.is_empty() {
            Version::parse(&format!("{}.{}.{}", self.major, self.minor, self.patch + 1))
                .expect("valid")
        } else {
            Version::parse(&format!("{}.{}.{}", self.major, self.minor, self.patch)).expect("valid")
        }
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for (x, y) in pa.iter().zip(pb.iter()) {
        let (nx, ny) = (x.parse::<u64>().ok(), y.parse::<u64>().ok());
        let o = match (nx, ny) {
            (Some(i), Some(j)) => i.cmp(&j),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

impl fmt::Display for Version {
    /// Masterminds' `String()`: the normalised form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.compare(other) == Ordering::Equal
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Tilde,
    Caret,
}

#[derive(Clone, Debug)]
struct Constraint {
    op: Op,
    con: Version,
    orig: String,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// A parsed constraint expression: OR of AND groups.
#[derive(Clone, Debug)]
pub struct Constraints {
    groups: Vec<Vec<Constraint>>,
    text: String,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

const OPS: &[(&str, Op)] = &[
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("=>", Op::Ge),
    ("<=", Op::Le),
    ("=<", Op::Le),
    ("~>", Op::Tilde),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("~", Op::Tilde),
    ("^", Op::Caret),
];

fn is_version_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '*')
}

fn parse_one(op: Op, ver: &str) -> Result<Constraint, String> {
    let improper = || format!("improper constraint: {ver:?}");
    let v = ver.strip_prefix('v').unwrap_or(ver);
    let (core, tail) = match v.find(['-', '+']) {
        Some(i) => (&v[..i], &v[i..]),
        None => (v, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !(is_x(p) || p.bytes().all(|b| b.is_ascii_digit())))
    {
        return Err(improper());
    }
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let normalized = if is_x(parts[0]) {
        dirty = true;
        "0.0.0".to_string()
    } else if parts.len() < 2 || is_x(parts[1]) {
        dirty = true;
        minor_dirty = true;
        format!("{}.0.0{tail}", parts[0])
    } else if parts.len() < 3 || is_x(parts[2]) {
        dirty = true;
        patch_dirty = true;
        format!("{}.{}.0{tail}", parts[0], parts[1])
    } else {
        format!("{core}{tail}")
    };
    let con = Version::parse(&normalized).map_err(|_| improper())?;
    Ok(Constraint {
        op,
        con,
        orig: ver.to_string(),
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Constraints {
    /// Masterminds' `NewConstraint`.
    pub fn parse(text: &str) -> Result<Constraints, String> {
        let mut groups = Vec::new();
        for or in text.split("||") {
            let group = or.trim();
            let mut cs = Vec::new();
            if group.is_empty() {
                let con = Version::parse("0.0.0").expect("valid");
                cs.push(Constraint {
                    op: Op::Eq,
                    con,
                    orig: String::new(),
                    dirty: true,
                    minor_dirty: false,
                    patch_dirty: false,
                });
                groups.push(cs);
                continue;
            }
            // Hyphen ranges: "A - B" means ">= A, <= B".
            let tokens: Vec<&str> = group
                .split([' ', ',', '\t'])
                .filter(|t| !t.is_empty())
                .collect();
            let mut i = 0;
            while i < tokens.len() {
                let tok = tokens[i];
                if i + 2 < tokens.len()
                    && tokens[i + 1] == "-"
                    && tok.chars().all(is_version_char)
                    && !tok.starts_with(['<', '>', '=', '!', '~', '^'])
                {
                    cs.push(parse_one(Op::Ge, tok)?);
                    cs.push(parse_one(Op::Le, tokens[i + 2])?);
                    i += 3;
                    continue;
                }
                let (op, rest) = OPS
                    .iter()
                    .find(|(s, _)| tok.starts_with(s))
                    .map(|(s, o)| (*o, &tok[s.len()..]))
                    .unwrap_or((Op::Eq, tok));
                // An operator may be separated from its version by spaces.
                let (ver, used) = if rest.is_empty() && i + 1 < tokens.len() {
                    (tokens[i + 1], 2)
                } else {
                    (rest, 1)
                };
                if ver.is_empty() || !ver.chars().all(is_version_char) {
                    return Err(format!("improper constraint: {group:?}"));
                }
                cs.push(parse_one(op, ver).map_err(|_| format!("improper constraint: {group:?}"))?);
                i += used;
            }
            groups.push(cs);
        }
        Ok(Constraints {
            groups,
            text: text.to_string(),
        })
    }

    /// True if `v` satisfies any OR group.
    pub fn check(&self, v: &Version) -> bool {
        self.groups
            .iter()
            .any(|g| g.iter().all(|c| c.check(v).is_ok()))
    }

    /// Like [`Constraints::check`], with the reasons a version fails.
    pub fn validate(&self, v: &Version) -> Result<(), Vec<String>> {
        let mut reasons = Vec::new();
        for g in &self.groups {
            let errs: Vec<String> = g.iter().filter_map(|c| c.check(v).err()).collect();
            if errs.is_empty() {
                return Ok(());
            }
            reasons.extend(errs);
        }
        Err(reasons)
    }
}

impl fmt::Display for Constraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Constraint {
    fn check(&self, v: &Version) -> Result<(), String> {
        let c = &self.con;
        if !v.pre.is_empty() && c.pre.is_empty() {
            return Err(format!("{v} is a prerelease version and the constraint is only looking for release versions"));
        }
        let fail = |what: &str| Err(format!("{v} {what} {}", self.orig));
        match self.op {
            Op::Eq => {
                if self.dirty {
                    return self.tilde(v);
                }
                if v.compare(c) == Ordering::Equal {
                    Ok(())
                } else {
                    fail("is not equal to")
                }
            }
            Op::Ne => {
                let equal = if self.dirty {
                    self.tilde(v).is_ok()
                } else {
                    v.compare(c) == Ordering::Equal
                };
                if equal {
                    fail("is equal to")
                } else {
                    Ok(())
                }
            }
            Op::Gt => {
                if !self.dirty {
                    return if v.compare(c) == Ordering::Greater {
                        Ok(())
                    } else {
                        fail("is less than or equal to")
                    };
                }
                if v.major > c.major {
                    Ok(())
                } else if v.major < c.major || self.minor_dirty {
                    fail("is less than or equal to")
                } else if self.patch_dirty {
                    if v.minor > c.minor {
                        Ok(())
                    } else {
                        fail("is less than or equal to")
                    }
                } else if v.compare(c) == Ordering::Greater {
                    Ok(())
                } else {
                    fail("is less than or equal to")
                }
            }
            Op::Lt => {
                if v.compare(c) == Ordering::Less {
                    Ok(())
                } else {
                    fail("is greater than or equal to")
                }
            }
            Op::Ge => {
                if v.compare(c) != Ordering::Less {
                    Ok(())
                } else {
                    fail("is less than")
                }
            }
            Op::Le => {
                if !self.dirty {
                    return if v.compare(c) != Ordering::Greater {
                        Ok(())
                    } else {
                        fail("is greater than")
                    };
                }
                if v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty)
                {
                    fail("is greater than")
                } else {
                    Ok(())
                }
            }
            Op::Tilde => self.tilde(v),
            Op::Caret => {
                if v.compare(c) == Ordering::Less {
                    return fail("is less than");
                }
                let ok = if c.major > 0 || self.minor_dirty {
                    v.major == c.major
                } else if c.minor > 0 || self.patch_dirty {
                    v.major == c.major && v.minor == c.minor
                } else {
                    v.major == c.major && v.minor == c.minor && v.patch == c.patch
                };
                if ok {
                    Ok(())
                } else {
                    fail("does not have same major version as")
                }
            }
        }
    }

    fn tilde(&self, v: &Version) -> Result<(), String> {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return Err(format!("{v} is less than {}", self.orig));
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return Ok(());
        }
        if v.major != c.major {
            return Err(format!(
                "{v} does not have same major version as {}",
                self.orig
            ));
        }
        if v.minor != c.minor && !self.minor_dirty {
            return Err(format!(
                "{v} does not have same major and minor version as {}",
                self.orig
            ));
        }
        Ok(())
    }
}

/// Helm's `IsCompatibleRange`: does `version` satisfy `constraint`? False when either
/// does not parse.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (Version::parse(version), Constraints::parse(constraint)) {
        (Ok(v), Ok(c)) => c.check(&v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(c: &str, v: &str) -> bool {
        Constraints::parse(c)
            .unwrap()
            .check(&Version::parse(v).unwrap())
    }

    #[test]
    fn versions() {
        let v = Version::parse("v1.2").unwrap();
        assert_eq!(v.to_string(), "1.2.0");
        assert_eq!(v.original(), "v1.2");
        assert!(Version::parse("1.2.3.4").is_err());
        assert!(Version::parse("x").is_err());
        assert!(
            Version::parse("1.0.0-alpha")
                .unwrap()
                .compare(&Version::parse("1.0.0").unwrap())
                == Ordering::Less
        );
        assert!(
            Version::parse("1.0.0-alpha.2")
                .unwrap()
                .compare(&Version::parse("1.0.0-alpha.10").unwrap())
                == Ordering::Less
        );
    }

    #[test]
    fn constraints() {
        assert!(ok(">=1.19", "1.36.0"));
        assert!(!ok(">=1.19", "1.18.9"));
        assert!(ok(">=1.21.0-0", "1.36.0"));
        assert!(ok(">= 1.21.0-0", "1.22.0-gke.1"));
        assert!(!ok(">=1.21.0", "1.22.0-gke.1"));
        assert!(ok("~1.2.3", "1.2.9"));
        assert!(!ok("~1.2.3", "1.3.0"));
        assert!(ok("^1.2.3", "1.9.0"));
        assert!(!ok("^1.2.3", "2.0.0"));
        assert!(ok("^0.2.3", "0.2.9"));
        assert!(!ok("^0.2.3", "0.3.0"));
        assert!(ok("1.2.x", "1.2.7"));
        assert!(ok("*", "4.0.0"));
        assert!(ok("1.2 - 1.4.5", "1.4.5"));
        assert!(!ok("1.2 - 1.4.5", "1.4.6"));
        assert!(ok("<1.0 || >=2.1", "2.1.0"));
        assert!(ok(">1.2", "1.3.0"));
        assert!(!ok(">1.2", "1.2.5"));
        assert!(ok("<=1.2", "1.2.9"));
        assert!(ok("!=1.2.3", "1.2.4"));
        assert!(ok(">= 1.0, < 2.0", "1.5.0"));
        assert!(ok("^1.10.0-0", "1.36.0"));
        assert!(Constraints::parse(">= foo").is_err());
    }
}
