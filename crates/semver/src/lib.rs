//! Semantic versions and version constraints the way Masterminds/semver v3 (which Helm and
//! Sprig use) reads and checks them: lenient versions (`v1.2` is `1.2.0`), constraints with
//! `=`, `!=`, `>`, `<`, `>=`, `<=`, `~`, `~>`, `^`, wildcards (`1.2.x`, `*`), hyphen ranges
//! (`1.2 - 1.4.5`), AND (`,` or space) and OR (`||`), and v3's rule that a prerelease
//! version satisfies a constraint only when the constraint itself names a prerelease.
//!
//! The `semver` crate follows Cargo's rules (different prerelease matching, no `v` prefix, no
//! wildcards in the middle of a comparison), so this is our own.

#![forbid(unsafe_code)]

use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

use regex_lite::Regex;

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

/// Why a version does not parse, with Masterminds' error texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The text is not a version at all (Masterminds' `ErrInvalidSemVer`).
    #[error("invalid semantic version")]
    Invalid,
    #[error("version string empty")]
    Empty,
    #[error("invalid characters in version")]
    InvalidCharacters,
    #[error("version segment starts with 0")]
    LeadingZero,
    #[error("invalid prerelease string")]
    InvalidPrerelease,
    #[error("invalid metadata string")]
    InvalidMetadata,
    /// A number too large for a `uint64`, as the lenient parser words it.
    #[error("error parsing version segment: {0}")]
    Segment(#[source] SegmentError),
    /// A number that is empty or too large, as the strict parser words it (Go's own error).
    #[error(transparent)]
    StrictSegment(SegmentError),
}

/// Go's `strconv.ParseUint` failing on a version number (its digits as written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    #[error("strconv.ParseUint: parsing {0:?}: invalid syntax")]
    Syntax(String),
    #[error("strconv.ParseUint: parsing {0:?}: value out of range")]
    OutOfRange(String),
}

/// Why a constraint does not parse, with Masterminds' error texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// An OR group that is not a list of comparisons (the group as written).
    #[error("improper constraint: {0:?}")]
    ImproperGroup(String),
    /// One comparison whose operator or version is malformed (operator and version as
    /// written, quoted without escaping as Masterminds prints it).
    #[error("improper constraint: \"{0}\"")]
    Improper(String),
    /// The version of a comparison, once its wildcards are filled in, does not parse.
    #[error("constraint parser error")]
    Version(#[source] VersionError),
}

/// Why a version does not satisfy one comparison of a constraint (Masterminds' `Validate`
/// reasons).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsatisfied {
    /// A prerelease version against a constraint that names none (the version).
    #[error(
        "{0:?} is a prerelease version and the constraint is only looking for release versions"
    )]
    Prerelease(String),
    /// The version, how it relates to the constraint, and the constraint's version text.
    #[error("{version:?} {relation} {constraint:?}{}", relation.note())]
    Relation {
        version: String,
        relation: Relation,
        constraint: String,
    },
}

/// How a version fails a comparison, as Masterminds words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    NotEqual,
    Equal,
    LessOrEqual,
    GreaterOrEqual,
    Less,
    Greater,
    OtherMajor,
    OtherMajorOrMinor,
    OtherMinor,
    /// `^0.x`: the minor versions differ.
    OtherMinorUnderZeroMajor,
    /// `^0.0.x`: the patch versions differ.
    OtherPatchUnderZeroMinor,
}

impl Relation {
    /// What Masterminds appends after the constraint.
    fn note(self) -> &'static str {
        match self {
            Relation::OtherMinorUnderZeroMajor => {
                ". Expected minor versions to match when constraint major version is 0"
            }
            Relation::OtherPatchUnderZeroMinor => {
                ". Expect version and constraint to equal when major and minor versions are 0"
            }
            _ => "",
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Relation::NotEqual => "is not equal to",
            Relation::Equal => "is equal to",
            Relation::LessOrEqual => "is less than or equal to",
            Relation::GreaterOrEqual => "is greater than or equal to",
            Relation::Less => "is less than",
            Relation::Greater => "is greater than",
            Relation::OtherMajor => "does not have same major version as",
            Relation::OtherMajorOrMinor => "does not have same major and minor version as",
            Relation::OtherMinor | Relation::OtherMinorUnderZeroMajor => {
                "does not have same minor version as"
            }
            Relation::OtherPatchUnderZeroMinor => "does not equal",
        })
    }
}

/// The parts of a version as Masterminds' loose pattern
/// `^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-(ID(\.ID)*))?(\+(ID(\.ID)*))?$` (ID is `[0-9A-Za-z-]+`)
/// captures them: the three numbers' digits (empty when absent), prerelease and metadata.
///
/// By hand rather than by regex: every part has exactly one way to match, and compiling the
/// pattern cost more than rendering a small chart. `loose_split_matches_the_regex` checks the
/// two agree.
fn split_loose(text: &str) -> Option<[&str; 5]> {
    split_version(text, |b| b.is_ascii_digit())
}

/// `split_loose` with another class of number characters (constraints allow wildcards).
fn split_version(text: &str, is_number: fn(&u8) -> bool) -> Option<[&str; 5]> {
    let number_len = |s: &str| s.bytes().take_while(&is_number).count();
    let is_id_list = |s: &str| {
        s.split('.')
            .all(|part| !part.is_empty() && part.bytes().all(is_ident_char))
    };
    let s = text.strip_prefix('v').unwrap_or(text);
    let n = number_len(s);
    if n == 0 {
        return None;
    }
    let (major, mut rest) = s.split_at(n);
    let mut numbers = ["", ""];
    for number in &mut numbers {
        if let Some(after) = rest.strip_prefix('.') {
            let n = number_len(after);
            if n == 0 {
                return None;
            }
            *number = &after[..n];
            rest = &after[n..];
        }
    }
    let mut pre = "";
    if let Some(after) = rest.strip_prefix('-') {
        let end = after.find('+').unwrap_or(after.len());
        pre = &after[..end];
        if !is_id_list(pre) {
            return None;
        }
        rest = &after[end..];
    }
    let mut metadata = "";
    if let Some(after) = rest.strip_prefix('+') {
        if !is_id_list(after) {
            return None;
        }
        metadata = after;
    } else if !rest.is_empty() {
        return None;
    }
    Some([major, numbers[0], numbers[1], pre, metadata])
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Numeric prerelease identifiers may not have leading zeros.
fn validate_prerelease(pre: &str) -> Result<(), VersionError> {
    if pre.is_empty() {
        return Ok(());
    }
    validate_prerelease_strict(pre)
}

/// Strict parsing checks whatever follows a `-`, even nothing.
fn validate_prerelease_strict(pre: &str) -> Result<(), VersionError> {
    for part in pre.split('.') {
        if part.is_empty() {
            return Err(VersionError::InvalidPrerelease);
        } else if part.bytes().all(|b| b.is_ascii_digit()) {
            if part.len() > 1 && part.starts_with('0') {
                return Err(VersionError::LeadingZero);
            }
        } else if !part.bytes().all(is_ident_char) {
            return Err(VersionError::InvalidPrerelease);
        }
    }
    Ok(())
}

fn validate_metadata(metadata: &str) -> Result<(), VersionError> {
    if metadata.is_empty() {
        return Ok(());
    }
    validate_metadata_strict(metadata)
}

/// Strict parsing checks whatever follows a `+`, even nothing.
fn validate_metadata_strict(metadata: &str) -> Result<(), VersionError> {
    if metadata
        .split('.')
        .any(|p| p.is_empty() || !p.bytes().all(is_ident_char))
    {
        return Err(VersionError::InvalidMetadata);
    }
    Ok(())
}

impl Version {
    /// Masterminds' `NewVersion` (with its default coercion): an optional `v`, one to three
    /// numbers (leading zeros allowed), then an optional `-prerelease` and `+metadata`.
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        let [major, minor, patch, pre, metadata] =
            split_loose(text).ok_or(VersionError::Invalid)?;
        let number = |digits: &str| -> Result<u64, VersionError> {
            if digits.is_empty() {
                return Ok(0);
            }
            // Only digits reach here: the one failure is overflow.
            digits
                .parse()
                .map_err(|_| VersionError::Segment(SegmentError::OutOfRange(digits.to_string())))
        };
        let version = Version {
            major: number(major)?,
            minor: number(minor)?,
            patch: number(patch)?,
            pre: pre.to_string(),
            metadata: metadata.to_string(),
            original: text.to_string(),
        };
        validate_prerelease(&version.pre)?;
        validate_metadata(&version.metadata)?;
        Ok(version)
    }

    /// Masterminds' `StrictNewVersion`: exactly `MAJOR.MINOR.PATCH`, no `v`, no leading
    /// zeros, with its error texts (metadata is checked before the prerelease, as there).
    pub fn parse_strict(text: &str) -> Result<Version, VersionError> {
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        let mut parts = text.splitn(3, '.');
        let (Some(major), Some(minor), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VersionError::Invalid);
        };
        let (rest, metadata) = match rest.split_once('+') {
            Some((rest, metadata)) => {
                validate_metadata_strict(metadata)?;
                (rest, metadata)
            }
            None => (rest, ""),
        };
        let (patch, pre) = match rest.split_once('-') {
            Some((patch, pre)) => {
                validate_prerelease_strict(pre)?;
                (patch, pre)
            }
            None => (rest, ""),
        };
        for part in [major, minor, patch] {
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(VersionError::InvalidCharacters);
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(VersionError::LeadingZero);
            }
        }
        let number = |digits: &str| -> Result<u64, VersionError> {
            digits.parse().map_err(|_| {
                VersionError::StrictSegment(if digits.is_empty() {
                    SegmentError::Syntax(String::new())
                } else {
                    SegmentError::OutOfRange(digits.to_string())
                })
            })
        };
        Ok(Version {
            major: number(major)?,
            minor: number(minor)?,
            patch: number(patch)?,
            pre: pre.to_string(),
            metadata: metadata.to_string(),
            original: text.to_string(),
        })
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

    /// Masterminds' `IncMajor`: next major, prerelease and metadata dropped.
    pub fn inc_major(&self) -> Version {
        self.next(self.major.saturating_add(1), 0, 0)
    }

    /// Masterminds' `IncMinor`.
    pub fn inc_minor(&self) -> Version {
        self.next(self.major, self.minor.saturating_add(1), 0)
    }

    /// Masterminds' `IncPatch`: a prerelease increments to its release.
    pub fn inc_patch(&self) -> Version {
        if self.pre.is_empty() {
            self.next(self.major, self.minor, self.patch.saturating_add(1))
        } else {
            self.next(self.major, self.minor, self.patch)
        }
    }

    /// The `v` the original text started with, kept by increments.
    fn v_prefix(&self) -> &str {
        if self.original.starts_with(['v', 'V']) {
            &self.original[..1]
        } else {
            ""
        }
    }

    fn next(&self, major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: String::new(),
            metadata: String::new(),
            original: format!("{}{major}.{minor}.{patch}", self.v_prefix()),
        }
    }

    /// Masterminds' `LessThan`.
    pub fn less_than(&self, other: &Version) -> bool {
        self.compare(other) == Ordering::Less
    }

    /// Masterminds' `GreaterThan`.
    pub fn greater_than(&self, other: &Version) -> bool {
        self.compare(other) == Ordering::Greater
    }

    /// Masterminds' `Equal` (metadata ignored).
    pub fn equal(&self, other: &Version) -> bool {
        self.compare(other) == Ordering::Equal
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

impl Op {
    fn from_text(op: &str) -> Option<Op> {
        Some(match op {
            "" | "=" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt,
            "<" => Op::Lt,
            ">=" | "=>" => Op::Ge,
            "<=" | "=<" => Op::Le,
            "~" | "~>" => Op::Tilde,
            "^" => Op::Caret,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
struct Constraint {
    op: Op,
    /// The operator as written (`=>`, `~>`...), for `String()`.
    op_text: String,
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
    /// Per OR group: does any of its constraints name a prerelease? Then the whole group
    /// admits prerelease versions (Masterminds' `containsPre`).
    group_has_pre: Vec<bool>,
    /// Masterminds' `IncludePrerelease`: admit prereleases in every group.
    pub include_prerelease: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

// The grammar is defined by Masterminds' regular expressions (Go's `\s` is ASCII-only):
//   one constraint:  OP WS* CV, where OP is one of `OPERATORS` (possibly empty) and CV is
//                    v?(N)(\.N)?(\.N)?(-ID(\.ID)*)?(\+ID(\.ID)*)? with N = [0-9|xX*]+
//   an AND group:    ^WS* one WS* ((WS+ | ,WS*) one WS*)*$
// Operators and versions share no characters and a version holds no whitespace or comma, so
// a group splits into its constraints in exactly one way; `tokens_match_the_regexes` checks
// this hand-written reading against the patterns themselves.
const WS: &str = r"[\t\n\f\r ]";
const CV_RE: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPERATORS: &[&str] = &[
    "", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^",
];

fn grammar(pattern: String) -> Regex {
    Regex::new(&pattern).expect("constraint grammar compiles")
}

// Compiled on first use, only for text with a spaced hyphen.
static RANGE: LazyLock<Regex> =
    LazyLock::new(|| grammar(format!("{WS}*({CV_RE}){WS}+-{WS}+({CV_RE}){WS}*")));

fn is_operator_char(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'<' | b'>' | b'~' | b'^')
}

fn is_constraint_number(b: &u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'|' | b'x' | b'X' | b'*')
}

/// One AND group's constraints as (operator, version) texts, or `None` when the group does
/// not match the grammar.
fn tokenize_group(group: &str) -> Option<Vec<(&str, &str)>> {
    let bytes = group.as_bytes();
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && is_ws(bytes[i]) {
            i += 1;
        }
        i
    };
    let mut tokens = Vec::new();
    let mut i = skip_ws(0);
    loop {
        let op_start = i;
        while i < bytes.len() && is_operator_char(bytes[i]) {
            i += 1;
        }
        let op = &group[op_start..i];
        if !OPERATORS.contains(&op) {
            return None;
        }
        i = skip_ws(i);
        let version_start = i;
        while i < bytes.len() && !is_ws(bytes[i]) && bytes[i] != b',' {
            i += 1;
        }
        let version = &group[version_start..i];
        split_version(version, is_constraint_number)?;
        tokens.push((op, version));
        let after_version = i;
        i = skip_ws(i);
        if i == bytes.len() {
            return Some(tokens);
        }
        if bytes[i] == b',' {
            i = skip_ws(i + 1);
        } else if i == after_version {
            return None;
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// Hyphen ranges `A - B` become `>= A, <= B `.
fn rewrite_ranges(text: &str) -> String {
    // The range pattern needs a `-` with whitespace on both sides.
    let bytes = text.as_bytes();
    let has_spaced_hyphen = (1..bytes.len().saturating_sub(1))
        .any(|i| bytes[i] == b'-' && is_ws(bytes[i - 1]) && is_ws(bytes[i + 1]));
    if !has_spaced_hyphen {
        return text.to_string();
    }
    let mut out = text.to_string();
    for m in RANGE.captures_iter(text) {
        let whole = m.get(0).map_or("", |g| g.as_str());
        let low = m.get(1).map_or("", |g| g.as_str());
        let high = m.get(11).map_or("", |g| g.as_str());
        out = out.replacen(whole, &format!(">= {low}, <= {high} "), 1);
    }
    out
}

fn parse_one(op_text: &str, version: &str) -> Result<Constraint, ConstraintError> {
    let improper = || ConstraintError::Improper(format!("{op_text}{version}"));
    let op = Op::from_text(op_text).ok_or_else(improper)?;
    let [major, minor, patch, pre, _] =
        split_version(version, is_constraint_number).ok_or_else(improper)?;
    let pre = if pre.is_empty() {
        String::new()
    } else {
        format!("-{pre}")
    };
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let normalized = if is_x(major) {
        dirty = true;
        format!("0.0.0{pre}")
    } else if minor.is_empty() || is_x(minor) {
        dirty = true;
        minor_dirty = true;
        format!("{major}.0.0{pre}")
    } else if patch.is_empty() || is_x(patch) {
        dirty = true;
        patch_dirty = true;
        format!("{major}.{minor}.0{pre}")
    } else {
        version.to_string()
    };
    let con = Version::parse(&normalized).map_err(ConstraintError::Version)?;
    Ok(Constraint {
        op,
        op_text: op_text.to_string(),
        con,
        orig: version.to_string(),
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Constraints {
    /// Masterminds' `NewConstraint`, with its error texts.
    pub fn parse(text: &str) -> Result<Constraints, ConstraintError> {
        let text = rewrite_ranges(text);
        let mut groups = Vec::new();
        let mut group_has_pre = Vec::new();
        for or in text.split("||") {
            let tokens =
                tokenize_group(or).ok_or_else(|| ConstraintError::ImproperGroup(or.to_string()))?;
            let group = tokens
                .into_iter()
                .map(|(op, version)| parse_one(op, version))
                .collect::<Result<Vec<_>, _>>()?;
            group_has_pre.push(group.iter().any(|c| !c.con.pre.is_empty()));
            groups.push(group);
        }
        Ok(Constraints {
            groups,
            group_has_pre,
            include_prerelease: false,
        })
    }

    /// True if `v` satisfies any OR group.
    pub fn check(&self, v: &Version) -> bool {
        self.groups
            .iter()
            .zip(&self.group_has_pre)
            .any(|(g, &pre)| {
                let include_pre = self.include_prerelease || pre;
                g.iter().all(|c| c.check(v, include_pre).is_ok())
            })
    }

    /// Masterminds' `Validate`: `Ok` when `v` satisfies the constraints, else the reasons.
    pub fn validate(&self, v: &Version) -> Result<(), Vec<Unsatisfied>> {
        let mut reasons = Vec::new();
        let mut told_prerelease = false;
        for (g, &pre) in self.groups.iter().zip(&self.group_has_pre) {
            let include_pre = self.include_prerelease || pre;
            let mut satisfied = true;
            for c in g {
                if !include_pre && !v.pre.is_empty() {
                    if !told_prerelease {
                        reasons.push(prerelease_reason(v));
                        told_prerelease = true;
                    }
                    satisfied = false;
                } else if let Err(e) = c.check(v, include_pre) {
                    reasons.push(e);
                    satisfied = false;
                }
            }
            if satisfied {
                return Ok(());
            }
        }
        Err(reasons)
    }
}

impl fmt::Display for Constraints {
    /// Masterminds' `String()`: each constraint as operator plus version text, AND groups
    /// joined by spaces and OR groups by ` || `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.groups.iter().enumerate() {
            if i > 0 {
                f.write_str(" || ")?;
            }
            for (j, c) in g.iter().enumerate() {
                if j > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{}{}", c.op_text, c.orig)?;
            }
        }
        Ok(())
    }
}

fn prerelease_reason(v: &Version) -> Unsatisfied {
    Unsatisfied::Prerelease(v.to_string())
}

impl Constraint {
    /// `v` failing this comparison by `relation`.
    fn unsatisfied(&self, v: &Version, relation: Relation) -> Result<(), Unsatisfied> {
        Err(Unsatisfied::Relation {
            version: v.to_string(),
            relation,
            constraint: self.orig.clone(),
        })
    }

    fn check(&self, v: &Version, include_pre: bool) -> Result<(), Unsatisfied> {
        if !v.pre.is_empty() && !include_pre {
            return Err(prerelease_reason(v));
        }
        let c = &self.con;
        let fail = |relation| self.unsatisfied(v, relation);
        match self.op {
            Op::Eq => {
                if self.dirty {
                    return self.tilde(v);
                }
                if v.compare(c) == Ordering::Equal {
                    Ok(())
                } else {
                    fail(Relation::NotEqual)
                }
            }
            Op::Ne => {
                if self.dirty {
                    if c.major != v.major {
                        return Ok(());
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return Ok(());
                    } else if self.minor_dirty {
                        return fail(Relation::Equal);
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return Ok(());
                    } else if self.patch_dirty {
                        if (!v.pre.is_empty() || !c.pre.is_empty())
                            && compare_prerelease(&v.pre, &c.pre) != Ordering::Equal
                        {
                            return Ok(());
                        }
                        return fail(Relation::Equal);
                    }
                }
                if v.compare(c) == Ordering::Equal {
                    fail(Relation::Equal)
                } else {
                    Ok(())
                }
            }
            Op::Gt => {
                let greater = if !self.dirty {
                    v.compare(c) == Ordering::Greater
                } else if v.major != c.major {
                    v.major > c.major
                } else if self.minor_dirty {
                    false
                } else if self.patch_dirty {
                    v.minor > c.minor
                } else {
                    v.compare(c) == Ordering::Greater
                };
                if greater {
                    Ok(())
                } else {
                    fail(Relation::LessOrEqual)
                }
            }
            Op::Lt => {
                if v.compare(c) == Ordering::Less {
                    Ok(())
                } else {
                    fail(Relation::GreaterOrEqual)
                }
            }
            Op::Ge => {
                if v.compare(c) != Ordering::Less {
                    Ok(())
                } else {
                    fail(Relation::Less)
                }
            }
            Op::Le => {
                let within = if !self.dirty {
                    v.compare(c) != Ordering::Greater
                } else {
                    !(v.major > c.major
                        || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
                };
                if within {
                    Ok(())
                } else {
                    fail(Relation::Greater)
                }
            }
            Op::Tilde => self.tilde(v),
            Op::Caret => self.caret(v),
        }
    }

    fn tilde(&self, v: &Version) -> Result<(), Unsatisfied> {
        let c = &self.con;
        let fail = |relation| self.unsatisfied(v, relation);
        if v.compare(c) == Ordering::Less {
            return fail(Relation::Less);
        }
        // `~0`, `~*`: anything at or above 0.0.0.
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return Ok(());
        }
        if v.major != c.major {
            return fail(Relation::OtherMajor);
        }
        if v.minor != c.minor && !self.minor_dirty {
            return fail(Relation::OtherMajorOrMinor);
        }
        Ok(())
    }

    fn caret(&self, v: &Version) -> Result<(), Unsatisfied> {
        let c = &self.con;
        let fail = |relation| self.unsatisfied(v, relation);
        if v.compare(c) == Ordering::Less {
            return fail(Relation::Less);
        }
        if c.major > 0 || self.minor_dirty {
            return if v.major == c.major {
                Ok(())
            } else {
                fail(Relation::OtherMajor)
            };
        }
        if v.major > 0 {
            return fail(Relation::OtherMajor);
        }
        if c.minor > 0 || self.patch_dirty {
            return if v.minor == c.minor {
                Ok(())
            } else {
                fail(Relation::OtherMinorUnderZeroMajor)
            };
        }
        if v.minor > 0 {
            return fail(Relation::OtherMinor);
        }
        if v.patch == c.patch {
            Ok(())
        } else {
            fail(Relation::OtherPatchUnderZeroMinor)
        }
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
    fn loose_split_matches_the_regex() {
        let re = Regex::new(
            r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$",
        )
        .unwrap();
        // Every string of up to 6 characters from an alphabet that exercises the pattern.
        let alphabet = ["v", "1", "0", ".", "-", "+", "a", "é"];
        let mut frontier = vec![String::new()];
        let mut texts = frontier.clone();
        for _ in 0..6 {
            frontier = frontier
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(frontier.iter().cloned());
        }
        texts.extend(["v1.22.3-rc.1+build.5", "10.2-x", "1.2.3+a+b", "1..2"].map(String::from));
        for text in &texts {
            let want = re.captures(text).map(|m| {
                let group = |i: usize| m.get(i).map_or("", |g| g.as_str());
                [
                    group(1),
                    group(2).trim_start_matches('.'),
                    group(3).trim_start_matches('.'),
                    group(5),
                    group(8),
                ]
            });
            assert_eq!(split_loose(text), want, "{text:?}");
        }
    }

    /// Masterminds' own patterns for a group (validity, finding each constraint, reading one),
    /// as the reference for `tokenize_group`.
    fn tokens_by_regex(group: &str) -> Option<Vec<(String, String)>> {
        const OPS_RE: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";
        let valid = grammar(format!(
            "^({WS}*({OPS_RE}){WS}*({CV_RE}){WS}*)((?:{WS}+|,{WS}*)({OPS_RE}){WS}*({CV_RE}){WS}*)*$"
        ));
        let find = grammar(format!("({OPS_RE}){WS}*({CV_RE})"));
        let one = grammar(format!("^{WS}*({OPS_RE}){WS}*({CV_RE}){WS}*$"));
        if !valid.is_match(group) {
            return None;
        }
        let found: Vec<&str> = find.find_iter(group).map(|m| m.as_str()).collect();
        Some(
            found
                .into_iter()
                .map(|text| {
                    let m = one.captures(text).expect("a found constraint reads");
                    (m[1].to_string(), m[2].to_string())
                })
                .collect(),
        )
    }

    #[test]
    fn tokens_match_the_regexes() {
        let pieces = [
            " ", ",", ">", "=", "<", "~", "^", "!", "1", "0", ".", "x", "*", "-", "+", "a", "v",
            "|", "\t", "X", ">=", "=<", "~>", "1.2.3", "1.x", "-rc.1", "+b.2", ", ", "é",
        ];
        let mut texts: Vec<String> = vec![String::new()];
        for a in pieces {
            for b in pieces {
                texts.push(format!("{a}{b}"));
            }
        }
        // Random concatenations (a fixed xorshift sequence, so every run checks the same).
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = next() % 8;
            let text: String = (0..len)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            texts.push(text);
        }
        for text in &texts {
            let want = tokens_by_regex(text);
            let got = tokenize_group(text).map(|tokens| {
                tokens
                    .into_iter()
                    .map(|(op, v)| (op.to_string(), v.to_string()))
                    .collect::<Vec<_>>()
            });
            assert_eq!(got, want, "{text:?}");
        }
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
    fn strict_versions() {
        assert_eq!(
            Version::parse_strict("1.2.3-rc.1+b").unwrap().to_string(),
            "1.2.3-rc.1+b"
        );
        let cases = [
            (
                "v1.2.3",
                VersionError::InvalidCharacters,
                "invalid characters in version",
            ),
            ("1.2", VersionError::Invalid, "invalid semantic version"),
            ("", VersionError::Empty, "version string empty"),
            (
                "1.02.3",
                VersionError::LeadingZero,
                "version segment starts with 0",
            ),
            (
                "1.2.3+",
                VersionError::InvalidMetadata,
                "invalid metadata string",
            ),
            (
                "1.2.3-",
                VersionError::InvalidPrerelease,
                "invalid prerelease string",
            ),
            (
                "1..3",
                VersionError::StrictSegment(SegmentError::Syntax(String::new())),
                "strconv.ParseUint: parsing \"\": invalid syntax",
            ),
        ];
        for (text, kind, message) in cases {
            let e = Version::parse_strict(text).unwrap_err();
            assert_eq!((&e, e.to_string().as_str()), (&kind, message), "{text:?}");
        }
        let e = Version::parse("1.99999999999999999999.0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "error parsing version segment: strconv.ParseUint: parsing \"99999999999999999999\": value out of range"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn increments_keep_the_v() {
        let v = Version::parse("v1.2.3-rc.1+m").unwrap();
        assert_eq!(v.inc_patch().original(), "v1.2.3");
        assert_eq!(v.inc_minor().original(), "v1.3.0");
        assert_eq!(v.inc_major().to_string(), "2.0.0");
        assert_eq!(
            Version::parse("1.2.3").unwrap().inc_patch().original(),
            "1.2.4"
        );
    }

    #[test]
    fn validate_gives_reasons() {
        let c = Constraints::parse(">=1.2, <2 || ^3").unwrap();
        assert!(c.validate(&Version::parse("1.5.0").unwrap()).is_ok());
        let reasons = c.validate(&Version::parse("2.1.0").unwrap()).unwrap_err();
        assert_eq!(
            reasons.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            vec![
                "\"2.1.0\" is greater than or equal to \"2\"".to_string(),
                "\"2.1.0\" is less than \"3\"".to_string(),
            ]
        );
        let reasons = c
            .validate(&Version::parse("1.5.0-rc.1").unwrap())
            .unwrap_err();
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0], Unsatisfied::Prerelease("1.5.0-rc.1".into()));
        assert_eq!(
            reasons[0].to_string(),
            "\"1.5.0-rc.1\" is a prerelease version and the constraint is only looking for release versions"
        );
        assert_eq!(c.to_string(), ">=1.2 <2 || ^3");
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
