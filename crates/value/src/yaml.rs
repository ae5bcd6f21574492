//! YAML as Helm reads and writes it: `sigs.k8s.io/yaml` over go-yaml v2.
//!
//! Reading ([`from_yaml`]) is go-yaml v2's decoding into `interface{}` followed by the JSON
//! round trip sigs.k8s.io/yaml makes: YAML 1.1 scalars (`yes`/`no`/`on`/`off`/`y`/`n` are
//! booleans, `0777` is octal, dates become RFC 3339 strings), every number ends as a float64,
//! map keys become strings, `<<` merge keys work, only the first document counts. Events come
//! from libyaml itself (`unsafe-libyaml`; go-yaml v2 is a port of libyaml); resolving
//! scalars and building values is ours, because no crate resolves the way go-yaml v2 does.
//!
//! Writing ([`to_yaml`]) is `yaml.Marshal`: the value goes through JSON, then go-yaml v2's
//! encoder and libyaml's emitter lay it out: block style, sequences not indented inside
//! mappings, empty collections as `{}`/`[]`, strings that would read back as another type
//! double-quoted, multi-line strings as literal blocks, long plain and quoted scalars folded
//! at 80 columns, and map keys in go-yaml's "natural" order (`a2` before `a10`). No emitter
//! crate matches that layout, so the emitter is ours too.

use std::collections::HashMap;
use std::sync::Arc;

use crate::{Map, Value};

mod block_subset;

// ---------------------------------------------------------------------------------------------
// Reading

/// A YAML node before resolution into values. Collections are shared, so that an alias
/// costs a pointer, not a copy (the alias-ratio check below bounds what expanding them into
/// values may cost).
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
    },
    Seq(Arc<Vec<Node>>),
    Map(Arc<Vec<(Node, Node)>>),
}

/// A collection being built from parser events, with the number of nodes decoding it will
/// visit (aliases counted as expanded).
enum Frame {
    Seq(Vec<Node>),
    /// Entries so far and a key waiting for its value.
    Map(Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    /// Open collections with their anchors ("" for none) and expanded sizes so far.
    stack: Vec<(Frame, String, u64)>,
    /// Anchored nodes with their expanded sizes.
    anchors: HashMap<String, (Node, u64)>,
    docs: Vec<Node>,
    /// go-yaml's decode counters: every node decoded, and those decoded through an alias.
    decode_count: u64,
    alias_count: u64,
}

/// A tag as go-yaml v2 shortens it: `tag:yaml.org,2002:str` is `!!str`.
fn short_tag(tag: &str) -> String {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(suffix) => format!("!!{suffix}"),
        None => tag.to_string(),
    }
}

/// go-yaml v2's `allowedAliasRatio`: small documents may be mostly aliases, large ones less.
fn allowed_alias_ratio(decode_count: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if decode_count <= LOW {
        0.99
    } else if decode_count >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decode_count - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

impl Builder {
    /// Adds a finished node of `size` expanded nodes to its parent.
    fn push_node(&mut self, node: Node, anchor: String, size: u64) {
        if !anchor.is_empty() {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            Some((Frame::Seq(items), _, total)) => {
                items.push(node);
                *total += size;
            }
            Some((Frame::Map(entries, pending), _, total)) => {
                *total += size;
                match pending.take() {
                    Some(key) => entries.push((key, node)),
                    None => *pending = Some(node),
                }
            }
            None => self.docs.push(node),
        }
    }

    fn scalar(&mut self, node: Node, anchor: String) {
        self.decode_count += 1;
        self.push_node(node, anchor, 1);
    }

    fn start_collection(&mut self, frame: Frame, anchor: String) {
        self.decode_count += 1;
        self.stack.push((frame, anchor, 1));
    }

    fn end_collection(&mut self) {
        if let Some((frame, anchor, size)) = self.stack.pop() {
            let node = match frame {
                Frame::Seq(items) => Node::Seq(Arc::new(items)),
                Frame::Map(entries, _) => Node::Map(Arc::new(entries)),
            };
            self.push_node(node, anchor, size);
        }
    }

    /// An alias: the anchored node again, counted as go-yaml counts decoding it, which
    /// refuses documents that are mostly alias expansion (a "billion laughs" bomb).
    fn alias(&mut self, name: &str) -> Result<(), String> {
        let Some((node, size)) = self.anchors.get(name).cloned() else {
            return Err(format!("yaml: unknown anchor '{name}' referenced"));
        };
        self.decode_count = self.decode_count.saturating_add(size);
        self.alias_count = self.alias_count.saturating_add(size);
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64
                > allowed_alias_ratio(self.decode_count)
        {
            return Err("yaml: document contains excessive aliasing".into());
        }
        self.push_node(node, String::new(), size);
        Ok(())
    }
}

/// Parses every document of `text` into nodes as libyaml itself does (`unsafe-libyaml`, a
/// faithful translation of the C library that go-yaml v2 ports), so that what go-yaml
/// accepts, rejects and says about bad input is what we accept, reject and say: a
/// spec-strict parser refuses real charts' values files that Helm reads. Plain block YAML
/// takes a fast path ([`block_subset`]) that yields the same nodes.
fn parse_documents(text: &str) -> Result<Vec<Node>, String> {
    match block_subset::parse(text) {
        Some(docs) => Ok(docs),
        None => parse_documents_with_libyaml(text),
    }
}

/// Parses with libyaml alone: the reference for [`block_subset`], and the reader of
/// everything outside its subset.
fn parse_documents_with_libyaml(text: &str) -> Result<Vec<Node>, String> {
    use std::ffi::CStr;
    use std::mem::MaybeUninit;
    use unsafe_libyaml as unsafe_sys;

    /// A NUL-terminated libyaml string, or "" for none.
    unsafe fn c_str(p: *const u8) -> String {
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p.cast()).to_string_lossy().into_owned()
        }
    }

    struct Parser(Box<MaybeUninit<unsafe_sys::yaml_parser_t>>);
    impl Drop for Parser {
        fn drop(&mut self) {
            // SAFETY: initialised in `parse_documents` before any `Parser` is dropped.
            unsafe { unsafe_sys::yaml_parser_delete(self.0.as_mut_ptr()) }
        }
    }

    let mut builder = Builder::default();
    let mut depth = NestingDepth::new(text.len());
    let mut raw = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
    // SAFETY: libyaml's documented life cycle: initialise, set a string input that outlives
    // the parser (`text` is borrowed for this whole function), pull events, delete each event
    // after copying what it holds, delete the parser (in `Parser::drop`).
    unsafe {
        if unsafe_sys::yaml_parser_initialize(raw.as_mut_ptr()).fail {
            return Err("yaml: cannot initialise the parser".into());
        }
        let mut parser = Parser(raw);
        let p = parser.0.as_mut_ptr();
        unsafe_sys::yaml_parser_set_input_string(p, text.as_ptr(), text.len() as u64);
        loop {
            let mut event = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
            if unsafe_sys::yaml_parser_parse(p, event.as_mut_ptr()).fail {
                return Err(go_yaml_parse_error(&*p));
            }
            let mut event = event.assume_init();
            let opens_or_holds = !matches!(
                event.type_,
                unsafe_sys::YAML_SEQUENCE_END_EVENT | unsafe_sys::YAML_MAPPING_END_EVENT
            );
            if let Err(e) = depth.charge(opens_or_holds, &event.start_mark) {
                unsafe_sys::yaml_event_delete(&mut event);
                return Err(e);
            }
            let mut done = false;
            match event.type_ {
                unsafe_sys::YAML_STREAM_END_EVENT => done = true,
                unsafe_sys::YAML_SCALAR_EVENT => {
                    let d = event.data.scalar;
                    let bytes = std::slice::from_raw_parts(d.value, d.length as usize);
                    let tag = c_str(d.tag);
                    let node = Node::Scalar {
                        text: String::from_utf8_lossy(bytes).into_owned(),
                        plain: d.style == unsafe_sys::YAML_PLAIN_SCALAR_STYLE,
                        tag: (!tag.is_empty()).then(|| short_tag(&tag)),
                    };
                    builder.scalar(node, c_str(d.anchor));
                }
                unsafe_sys::YAML_SEQUENCE_START_EVENT => {
                    let data = event.data.sequence_start;
                    let flow = data.style == unsafe_sys::YAML_FLOW_SEQUENCE_STYLE;
                    if let Err(e) = depth.open(flow, &event.start_mark) {
                        unsafe_sys::yaml_event_delete(&mut event);
                        return Err(e);
                    }
                    builder.start_collection(Frame::Seq(Vec::new()), c_str(data.anchor));
                }
                unsafe_sys::YAML_MAPPING_START_EVENT => {
                    let data = event.data.mapping_start;
                    let flow = data.style == unsafe_sys::YAML_FLOW_MAPPING_STYLE;
                    if let Err(e) = depth.open(flow, &event.start_mark) {
                        unsafe_sys::yaml_event_delete(&mut event);
                        return Err(e);
                    }
                    builder.start_collection(Frame::Map(Vec::new(), None), c_str(data.anchor));
                }
                unsafe_sys::YAML_SEQUENCE_END_EVENT | unsafe_sys::YAML_MAPPING_END_EVENT => {
                    depth.close();
                    builder.end_collection()
                }
                unsafe_sys::YAML_ALIAS_EVENT => {
                    let name = c_str(event.data.alias.anchor);
                    if let Err(e) = builder.alias(&name) {
                        unsafe_sys::yaml_event_delete(&mut event);
                        return Err(e);
                    }
                }
                _ => {}
            }
            unsafe_sys::yaml_event_delete(&mut event);
            if done {
                break;
            }
        }
    }
    Ok(builder.docs)
}

/// go-yaml's nesting limits (`max_flow_level` and `max_indents`, 10000 each): it refuses a
/// document nested deeper while scanning it, before building anything. Counted here from the
/// parser's events as they come, so that a hostile document stops at the limit instead of
/// being read whole first.
///
/// libyaml also spends time proportional to the flow depth on every token (it rechecks one
/// possible simple key per open flow level; go-yaml indexes them instead), so a document of
/// many tokens deep inside flow collections costs depth × tokens: 28 s for 100k scalars
/// 9990 levels down. That work is counted too, and a document that would need more than
/// [`FLOW_WORK_BASE`] plus [`FLOW_WORK_PER_BYTE`] per byte of it is refused, which keeps
/// reading any document within about two seconds plus a fraction of a microsecond per byte
/// (release build).
/// Helm reads such documents (go-yaml is linear there): here rudder is stricter, and says so.
struct NestingDepth {
    /// For each open collection: `None` for a flow one, else its column and whether it
    /// opened an indentation level.
    open: Vec<Option<(u64, bool)>>,
    flow_levels: usize,
    indents: usize,
    /// libyaml's simple-key checks so far (the flow depth summed over events) and the most
    /// allowed for this document.
    flow_work: u64,
    flow_work_budget: u64,
}

const MAX_NESTING: usize = 10_000;
/// Enough for a plain nest of 10000 flow mappings (two events a level) to reach go-yaml's
/// depth error.
const FLOW_WORK_BASE: u64 = 110_000_000;
/// Real documents stay far below: a deeply nested JSON index does about one unit a byte.
const FLOW_WORK_PER_BYTE: u64 = 16;

impl NestingDepth {
    fn new(text_len: usize) -> NestingDepth {
        NestingDepth {
            open: Vec::new(),
            flow_levels: 0,
            indents: 0,
            flow_work: 0,
            flow_work_budget: FLOW_WORK_BASE
                .saturating_add(FLOW_WORK_PER_BYTE.saturating_mul(text_len as u64)),
        }
    }

    /// Counts libyaml's work for one event at the current flow depth (ends of collections
    /// are not counted: their starts were).
    fn charge(&mut self, counted: bool, mark: &unsafe_libyaml::yaml_mark_t) -> Result<(), String> {
        if !counted {
            return Ok(());
        }
        self.flow_work += self.flow_levels as u64;
        if self.flow_work > self.flow_work_budget {
            return Err(format!(
                "yaml: line {}: flow collections nested too deep for a document of this size \
                 (rudder refuses what libyaml cannot read in linear time; see README)",
                mark.line + 1
            ));
        }
        Ok(())
    }

    fn open(&mut self, flow: bool, mark: &unsafe_libyaml::yaml_mark_t) -> Result<(), String> {
        if flow {
            self.flow_levels += 1;
            self.open.push(None);
            if self.flow_levels > MAX_NESTING {
                // go-yaml reports the flow level's error at an empty mark: no line.
                return Err(format!("yaml: exceeded max depth of {MAX_NESTING}"));
            }
            return Ok(());
        }
        // A block collection indents further than the block one around it, except a
        // sequence written at its mapping's own column (an "indentless" sequence), which
        // libyaml reads without a new indentation level.
        let outer = self
            .open
            .iter()
            .rev()
            .find_map(|o| o.map(|(column, _)| column));
        let indents = outer.is_none_or(|outer| mark.column > outer);
        self.open.push(Some((mark.column, indents)));
        if indents {
            self.indents += 1;
            if self.indents > MAX_NESTING {
                return Err(format!(
                    "yaml: line {}: exceeded max depth of {MAX_NESTING}",
                    mark.line + 1
                ));
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        match self.open.pop() {
            Some(None) => self.flow_levels -= 1,
            Some(Some((_, true))) => self.indents -= 1,
            _ => {}
        }
    }
}

/// go-yaml v2's wording of a libyaml error: `yaml: line N: problem`, where N is the
/// problem's line (one more for scanner errors, which stop before counting it) or else the
/// context's.
fn go_yaml_parse_error(parser: &unsafe_libyaml::yaml_parser_t) -> String {
    use std::ffi::CStr;
    let line = if parser.problem_mark.line != 0 {
        parser.problem_mark.line + u64::from(parser.error == unsafe_libyaml::YAML_SCANNER_ERROR)
    } else {
        parser.context_mark.line
    };
    let problem = if parser.problem.is_null() {
        "unknown problem parsing YAML content".to_string()
    } else {
        // SAFETY: libyaml's problem texts are static NUL-terminated strings.
        unsafe { CStr::from_ptr(parser.problem) }
            .to_string_lossy()
            .into_owned()
    };
    if line != 0 {
        format!("yaml: line {line}: {problem}")
    } else {
        format!("yaml: {problem}")
    }
}

/// A scalar resolved the way go-yaml v2 resolves plain scalars.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
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
fn resolve_plain(s: &str) -> Scalar {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'+' || first == b'-' || first == b'.') {
        return Scalar::Str(s.to_string());
    }
    if parse_timestamp(s).is_some() {
        return Scalar::Time(s.to_string());
    }
    let plain = s.replace('_', "");
    if let Some(v) = parse_go_int_base0(&plain) {
        return Scalar::Int(v);
    }
    if is_yaml_style_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return Scalar::Float(f);
        }
    }
    if let Some(rest) = plain.strip_prefix("0b") {
        if let Ok(v) = i64::from_str_radix(rest, 2) {
            return Scalar::Int(v as i128);
        }
    } else if let Some(rest) = plain.strip_prefix("-0b") {
        if let Ok(v) = i64::from_str_radix(rest, 2) {
            return Scalar::Int(-(v as i128));
        }
    }
    Scalar::Str(s.to_string())
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

fn scalar_of(text: &str, plain: bool, tag: Option<&str>) -> Result<Scalar, String> {
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
fn scalar_value(s: Scalar) -> Value {
    match s {
        Scalar::Null => Value::Nil,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::Float(i as f64),
        Scalar::Float(f) => Value::Float(f),
        Scalar::Str(s) | Scalar::Time(s) => Value::from(s),
    }
}

/// A map key as sigs.k8s.io/yaml turns it into a JSON object key.
fn key_string(node: &Node) -> Result<String, String> {
    match node {
        Node::Scalar {
            text, plain, tag, ..
        } => match scalar_of(text, *plain, tag.as_deref())? {
            Scalar::Str(s) | Scalar::Time(s) => Ok(s),
            Scalar::Bool(b) => Ok(b.to_string()),
            Scalar::Int(i) => Ok(i.to_string()),
            Scalar::Float(f) => Ok(
                match crate::gofmt::format_float(f as f32 as f64, 'g', -1).as_str() {
                    "+Inf" => ".inf".into(),
                    "-Inf" => "-.inf".into(),
                    "NaN" => ".nan".into(),
                    other => float32_key(f).unwrap_or_else(|| other.to_string()),
                },
            ),
            Scalar::Null => {
                Err("error converting YAML to JSON: unsupported map key of type: <nil>".into())
            }
        },
        _ => Err("error converting YAML to JSON: yaml: invalid map key".into()),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest text that round-trips as a float32.
fn float32_key(f: f64) -> Option<String> {
    let v = f as f32;
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let neg = v < 0.0;
    let dp = exp + 1;
    let nd = digits.len() as i32;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= 21.max(nd) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if dp <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-dp) as usize));
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        out.push_str(&"0".repeat((dp - nd) as usize));
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    Some(out)
}

/// go-yaml's merge key: `<<` that libyaml reports as implicit, i.e. plain and untagged, or
/// with the non-specific tag `!` in any style (libyaml's `plain_implicit`; Helm's `fromYaml`
/// refuses `! <<: scalar` as a merge of a scalar).
fn is_merge_key(node: &Node) -> bool {
    match node {
        Node::Scalar {
            text, plain, tag, ..
        } if text == "<<" => match tag.as_deref() {
            None => *plain,
            Some(t) => t == "!",
        },
        _ => false,
    }
}

/// sigs.k8s.io/yaml's error when the JSON it made from the YAML nests deeper than
/// encoding/json's limit of 10000 (YAML nesting counts flow and block levels apart, JSON both).
fn json_too_deep(node: &Node) -> String {
    let open = if matches!(node, Node::Map(_)) {
        '{'
    } else {
        '['
    };
    format!("error unmarshaling JSON: while decoding JSON: invalid character '{open}' exceeded max depth")
}

fn to_value(node: &Node, depth: usize) -> Result<Value, String> {
    if depth >= MAX_NESTING && !matches!(node, Node::Scalar { .. }) {
        return Err(json_too_deep(node));
    }
    match node {
        Node::Scalar {
            text, plain, tag, ..
        } => Ok(scalar_value(
            scalar_of(text, *plain, tag.as_deref()).map_err(|e| format!("yaml: {e}"))?,
        )),
        Node::Seq(items) => Ok(Value::list(
            items
                .iter()
                .map(|n| to_value(n, depth + 1))
                .collect::<Result<_, _>>()?,
        )),
        Node::Map(entries) => {
            let mut map = Map::new();
            fill_map(&mut map, entries, depth)?;
            Ok(Value::map(map))
        }
    }
}

fn fill_map(map: &mut Map, entries: &[(Node, Node)], depth: usize) -> Result<(), String> {
    for (k, v) in entries {
        if is_merge_key(k) {
            match v {
                Node::Map(inner) => fill_map(map, inner, depth)?,
                Node::Seq(items) => {
                    for item in items.iter() {
                        match item {
                            Node::Map(inner) => fill_map(map, &inner[..], depth)?,
                            _ => {
                                return Err(
                                    "yaml: map merge requires map or sequence of maps as the value"
                                        .into(),
                                )
                            }
                        }
                    }
                }
                _ => {
                    return Err(
                        "yaml: map merge requires map or sequence of maps as the value".into(),
                    )
                }
            }
            continue;
        }
        let key = key_string(k)?;
        map.insert(key, to_value(v, depth + 1)?);
    }
    Ok(())
}

/// `sigs.k8s.io/yaml.Unmarshal` into `interface{}` (values files, `fromYaml`): the first
/// document, `Nil` for an empty one.
pub fn from_yaml(text: &str) -> Result<Value, String> {
    let docs = parse_documents(text).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    match docs.first() {
        None => Ok(Value::Nil),
        Some(node) => to_value(node, 0).map_err(|e| {
            if e.starts_with("error converting") || e.starts_with("error unmarshaling") {
                e
            } else {
                format!("error converting YAML to JSON: {e}")
            }
        }),
    }
}

/// Like [`from_yaml`], but converts only the top-level keys named in `keys` (compared
/// without case, as Go's JSON decoding matches struct fields): cheaper when a caller needs a
/// few fields of a large document. The whole document is still parsed, so syntax errors are
/// reported as `from_yaml` reports them. Documents that are not plain mappings (or use a
/// top-level merge key) are converted whole.
pub fn from_yaml_top_keys(text: &str, keys: &[&str]) -> Result<Value, String> {
    let docs = match block_subset::parse_top_keys(text, keys) {
        Some(docs) => Ok(docs),
        None => parse_documents_with_libyaml(text),
    }
    .map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    let wrap = |e: String| {
        if e.starts_with("error converting") || e.starts_with("error unmarshaling") {
            e
        } else {
            format!("error converting YAML to JSON: {e}")
        }
    };
    match docs.first() {
        None => Ok(Value::Nil),
        Some(Node::Map(entries)) if !entries.iter().any(|(k, _)| is_merge_key(k)) => {
            let mut map = Map::new();
            for (k, v) in entries.iter() {
                let key = key_string(k).map_err(wrap)?;
                if keys.iter().any(|want| want.eq_ignore_ascii_case(&key)) {
                    map.insert(key, to_value(v, 1).map_err(wrap)?);
                }
            }
            Ok(Value::map(map))
        }
        Some(node) => to_value(node, 0).map_err(wrap),
    }
}

/// Every document of a stream (Helm v4 merges the documents of a values file).
pub fn from_yaml_documents(text: &str) -> Result<Vec<Value>, String> {
    let docs = parse_documents(text).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    docs.iter()
        .map(|d| {
            to_value(d, 0).map_err(|e| {
                if e.starts_with("error unmarshaling") {
                    e
                } else {
                    format!("error converting YAML to JSON: {e}")
                }
            })
        })
        .collect()
}

/// Every scalar as a string, the way sigs.k8s.io/yaml fills `string` fields of a Go struct
/// (Chart.yaml's `version`, `appVersion`, annotations): the scalar is resolved first, then
/// integers are printed in decimal (`0777` gives `511`), floats as float32 shortest text
/// (`1.10` gives `1.1`), booleans as `true`/`false` (`y` gives `true`). Nulls stay `Nil`.
pub fn from_yaml_raw(text: &str) -> Result<Value, String> {
    fn conv(node: &Node) -> Result<Value, String> {
        Ok(match node {
            Node::Scalar { text, plain, tag } => match scalar_of(text, *plain, tag.as_deref())? {
                Scalar::Null => Value::Nil,
                Scalar::Bool(b) => Value::str(if b { "true" } else { "false" }),
                Scalar::Int(i) => Value::from(i.to_string()),
                Scalar::Float(f) if f.is_finite() => Value::from(
                    float32_key(f).unwrap_or_else(|| crate::gofmt::format_float(f, 'g', -1)),
                ),
                Scalar::Float(f) => Value::from(crate::gofmt::format_float(f, 'g', -1)),
                Scalar::Str(s) | Scalar::Time(s) => Value::from(s),
            },
            Node::Seq(items) => Value::list(items.iter().map(conv).collect::<Result<_, _>>()?),
            Node::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries.iter() {
                    m.insert(key_string(k)?, conv(v)?);
                }
                Value::map(m)
            }
        })
    }
    let docs = parse_documents(text).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    docs.first()
        .map(conv)
        .unwrap_or(Ok(Value::Nil))
        .map_err(|e| format!("error converting YAML to JSON: {e}"))
}

/// go-yaml v2 itself (no JSON round trip) decoding into `interface{}`: integers stay
/// integers (Go `int`). Used where Helm reads YAML with go-yaml directly.
pub fn from_yaml_native(text: &str) -> Result<Value, String> {
    fn conv(node: &Node) -> Result<Value, String> {
        Ok(match node {
            Node::Scalar {
                text, plain, tag, ..
            } => match scalar_of(text, *plain, tag.as_deref())? {
                Scalar::Int(i) => Value::Int(i as i64),
                other => scalar_value(other),
            },
            Node::Seq(items) => Value::list(items.iter().map(conv).collect::<Result<_, _>>()?),
            Node::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries.iter() {
                    m.insert(key_string(k)?, conv(v)?);
                }
                Value::map(m)
            }
        })
    }
    let docs = parse_documents(text)?;
    docs.first().map(conv).unwrap_or(Ok(Value::Nil))
}

// ---------------------------------------------------------------------------------------------
// Writing

/// go-yaml v2's key order (`keyList.Less`): runs of digits compare as numbers, and
/// non-letters sort before letters.
pub fn natural_less(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// Sorts map entries by [`natural_less`] with a merge sort of our own. go-yaml's order is not
/// a total order for keys whose digit runs overflow 64 bits, and the standard library's sort
/// panics on such comparators; Go's sort does not, so neither may we.
fn sort_keys_naturally(entries: &mut Vec<(String, Data)>) {
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
enum Data {
    Null,
    Bool(bool),
    Int(String),
    Float(f64),
    Str(String),
    Seq(Vec<Data>),
    Map(Vec<(String, Data)>),
}

/// json.Marshal then yaml.Unmarshal: numbers that JSON prints without a fraction or exponent
/// come back as integers.
fn to_data(v: &Value, depth: usize) -> Result<Data, String> {
    to_data_with(v, depth, true)
}

/// With `json` false, numbers keep their Go type (go-yaml v3 encoding the value directly).
fn to_data_with(v: &Value, depth: usize, json: bool) -> Result<Data, String> {
    if depth > 10_000 {
        return Err("json: unsupported value: encountered a cycle".into());
    }
    Ok(match v {
        Value::Nil => Data::Null,
        Value::Bool(b) => Data::Bool(*b),
        Value::Int(i) | Value::Int64(i) => Data::Int(i.to_string()),
        Value::Float(f) if !json => Data::Float(*f),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!(
                    "json: unsupported value: {}",
                    crate::gofmt::format_float(*f, 'g', -1)
                ));
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
                        return Err("yaml: line 1: did not find expected ',' or '}'".to_string());
                    }
                    Ok((k.clone(), to_data_with(x, depth + 1, json)?))
                })
                .collect::<Result<_, String>>()?;
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

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// libyaml's `yaml_emitter_analyze_scalar` results that matter here.
struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    let (mut block_ind, mut flow_ind) = (false, false);
    if value.starts_with("---") || value.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut prev_space, mut prev_break) =
        (false, false, false, false);
    let mut preceded_by_ws = true;
    let n = chars.len();
    for i in 0..n {
        let c = chars[i];
        let followed_by_ws = i + 1 >= n || chars[i + 1] == ' ' || chars[i + 1] == '\t';
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '-' if followed_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '#' if preceded_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == n - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            if i == 0 {
                leading_break = true;
            }
            if i == n - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_break = true;
            prev_space = false;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain: true,
        block_plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

/// go-yaml v2's `isBase60Float`.
fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        if i < b.len()
            && (b'0'..=b'5').contains(&b[i])
            && i + 1 < b.len()
            && b[i + 1].is_ascii_digit()
        {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

struct Emitter {
    /// go-yaml v3 with `SetIndent(2)` indents sequences inside mappings; v2 does not.
    indent_sequences: bool,
    out: String,
    column: usize,
    indent: i32,
    whitespace: bool,
    indention: bool,
}

const BEST_WIDTH: usize = 80;
const BEST_INDENT: i32 = 2;

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// Writes one character (breaks handled by callers).
    fn write(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn plain(&mut self, value: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.write(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        let n = chars.len();
        let mut i = 0;
        while i < n {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < n - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.write(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn double_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let mut spaces = false;
        let mut i = 0;
        while i < n {
            let c = chars[i];
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let u = c as u32;
                let esc = match u {
                    0x00 => Some('0'),
                    0x07 => Some('a'),
                    0x08 => Some('b'),
                    0x09 => Some('t'),
                    0x0A => Some('n'),
                    0x0B => Some('v'),
                    0x0C => Some('f'),
                    0x0D => Some('r'),
                    0x1B => Some('e'),
                    0x22 => Some('"'),
                    0x5C => Some('\\'),
                    0x85 => Some('N'),
                    0xA0 => Some('_'),
                    0x2028 => Some('L'),
                    0x2029 => Some('P'),
                    _ => None,
                };
                match esc {
                    Some(e) => self.put(e),
                    None => {
                        let s = if u <= 0xFF {
                            format!("x{u:02X}")
                        } else if u <= 0xFFFF {
                            format!("u{u:04X}")
                        } else {
                            format!("U{u:08X}")
                        };
                        for ch in s.chars() {
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i != 0 && i != n - 1 {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.write(c);
                }
                spaces = true;
            } else {
                self.write(c);
                spaces = false;
            }
            i += 1;
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.put(char::from(b'0' + BEST_INDENT as u8));
        }
        match chars.last() {
            None => self.put('-'),
            Some(&last) if !is_break(last) => self.put('-'),
            Some(_) if chars.len() == 1 => self.put('+'),
            Some(_) => {
                if is_break(chars[chars.len() - 2]) {
                    self.put('+');
                }
            }
        }
        self.whitespace = false;
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
    }

    /// Emits a scalar with go-yaml's style choice and libyaml's adjustments.
    fn scalar(&mut self, text: &str, requested: Style, simple_key: bool) {
        let a = analyze(text);
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if !a.block_plain {
                style = Style::Single;
            }
            if text.is_empty() && simple_key {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || simple_key) {
            style = Style::Double;
        }
        // Scalars are emitted one indentation level deeper (libyaml's increase_indent).
        let saved = self.indent;
        self.indent = if self.indent < 0 {
            BEST_INDENT
        } else {
            self.indent + BEST_INDENT
        };
        match style {
            Style::Plain => self.plain(text, !simple_key),
            Style::Single => self.single_quoted(text, !simple_key),
            Style::Double => self.double_quoted(text, !simple_key),
            Style::Literal => self.literal(text),
        }
        self.indent = saved;
    }

    fn string(&mut self, s: &str, simple_key: bool) {
        let resolves_to_string = matches!(resolve_plain_for_encode(s), Scalar::Str(_));
        let style = if s.contains('\n') {
            Style::Literal
        } else if resolves_to_string && !is_base60_float(s) {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(s, style, simple_key);
    }

    fn node(&mut self, d: &Data, mapping_context: bool) {
        match d {
            Data::Null => self.scalar("null", Style::Plain, false),
            Data::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, false),
            Data::Int(s) => self.scalar(s, Style::Plain, false),
            Data::Float(f) => {
                let s = match crate::gofmt::format_float(*f, 'g', -1).as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    other => other.to_string(),
                };
                self.scalar(&s, Style::Plain, false)
            }
            Data::Str(s) => self.string(s, false),
            Data::Seq(items) if items.is_empty() => self.write_indicator("[]", true, false, false),
            Data::Map(entries) if entries.is_empty() => {
                self.write_indicator("{}", true, false, false)
            }
            Data::Seq(items) => {
                let saved = self.indent;
                let indentless = mapping_context && !self.indention && !self.indent_sequences;
                if self.indent < 0 {
                    self.indent = 0;
                } else if !indentless {
                    self.indent += BEST_INDENT;
                }
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, false);
                }
                self.indent = saved;
            }
            Data::Map(entries) => {
                let saved = self.indent;
                self.indent = if self.indent < 0 {
                    0
                } else {
                    self.indent + BEST_INDENT
                };
                for (k, v) in entries {
                    self.write_indent();
                    // libyaml writes a key longer than 128 bytes or spanning lines as a
                    // complex key: `? key` then `: value` on the next line.
                    if k.len() <= 128 && !analyze(k).multiline {
                        self.string(k, true);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.string(k, false);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.node(v, true);
                }
                self.indent = saved;
            }
        }
    }
}

/// The resolution the encoder checks strings against (go-yaml v2's `resolve("", s)`).
fn resolve_plain_for_encode(s: &str) -> Scalar {
    if s.is_empty() {
        return Scalar::Null;
    }
    resolve_plain(s)
}

/// `sigs.k8s.io/yaml.Marshal`: the YAML go-yaml v2 writes for the value after its JSON round
/// trip, with its final newline.
pub fn to_yaml(v: &Value) -> Result<String, String> {
    let data = to_data(v, 0).map_err(|e| {
        if e.starts_with("json:") {
            format!("error marshaling into JSON: {e}")
        } else {
            e
        }
    })?;
    emit(&data, false)
}

/// Helm's `toYamlPretty` (go-yaml v3's encoder with `SetIndent(2)`): the value is encoded
/// directly, without the JSON round trip, and sequences are indented inside mappings.
pub fn to_yaml_pretty(v: &Value) -> Result<String, String> {
    emit(&to_data_with(v, 0, false)?, true)
}

fn emit(data: &Data, indent_sequences: bool) -> Result<String, String> {
    let mut e = Emitter {
        indent_sequences,
        out: String::new(),
        column: 0,
        indent: -1,
        whitespace: true,
        indention: true,
    };
    e.node(data, false);
    // The document ends with a line break unless the last scalar (a kept literal block)
    // already ended one.
    if e.column != 0 || !e.out.ends_with('\n') {
        e.put_break();
    }
    Ok(e.out)
}

/// For callers that hold a shared string.
pub fn to_yaml_arc(v: &Value) -> Result<Arc<str>, String> {
    to_yaml(v).map(Arc::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(text: &str) -> Value {
        from_yaml(text).unwrap()
    }

    #[test]
    fn a_string_key_spelled_like_the_merge_key_is_written_plain_as_helm_writes_it() {
        // Found by the yaml fuzz target (input "xIp:\n!xIp: <<:"): a quoted or tagged `<<`
        // reads as an ordinary key, and toYaml writes it back plain, which then reads as a
        // merge key. Helm does the same: a chart with values `x: {"<<": 1, a: 1}` renders
        // `{{ toYaml .Values.x }}`, `toYamlPretty` and a toJson/fromJson/toYaml round trip
        // all as "<<: 1\na: 1" (helm-oracle, Helm v4.2.3). So the writer keeps Helm's text and
        // the round trip fails as Helm's does.
        let v = y("'<<': 1\na: 1\n");
        assert_eq!(v.as_map().unwrap()["<<"], Value::Float(1.0));
        assert_eq!(to_yaml(&v).unwrap(), "<<: 1\na: 1\n");
        assert_eq!(to_yaml_pretty(&v).unwrap(), "<<: 1\na: 1\n");
        let tagged = y("xIp:\n!xIp: <<:\n");
        assert_eq!(to_yaml(&tagged).unwrap(), "<<: null\nxIp: null\n");
        assert_eq!(
            from_yaml(&to_yaml(&tagged).unwrap()).unwrap_err(),
            "error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value"
        );
    }

    #[test]
    fn resolves_like_go_yaml_v2() {
        // Checked against helm-python-sdk's values_from_yaml (go-yaml v2 through sigs.k8s.io/yaml).
        let v = y("a: yes\nb: off\nc: 0777\nd: 1_000\ne: 1.5\nf: ~\ng: '1'\nh: 2020-01-02\ni: 0x1F\nn: x\nm: 08\nz: 1:30\n");
        let m = v.as_map().unwrap();
        assert_eq!(m["a"], Value::Bool(true));
        assert_eq!(m["b"], Value::Bool(false));
        assert_eq!(m["c"], Value::Float(511.0));
        assert_eq!(m["d"], Value::Float(1000.0));
        assert_eq!(m["e"], Value::Float(1.5));
        assert_eq!(m["f"], Value::Nil);
        assert_eq!(m["g"], Value::str("1"));
        assert_eq!(m["h"], Value::str("2020-01-02"));
        assert_eq!(m["m"], Value::Float(8.0));
        assert_eq!(m["z"], Value::str("1:30"));
        assert_eq!(m["i"], Value::Float(31.0));
        // The key `n` resolves to false.
        assert!(m.contains_key("false"));
    }

    #[test]
    fn reads_and_rejects_what_go_yaml_does() {
        // Expected values and messages from Helm 4.2.3 (helm-python-sdk `values_from_yaml`).
        // A flow sequence closed below its key's indentation: libyaml accepts it (a real
        // chart's values.yaml does this), a spec-strict parser would not.
        let v = from_yaml(
            "vault:\n  server:\n    args: [\n      \"server\",\n      \"-dev\"\n    ]\n    x: 1\n",
        )
        .unwrap();
        assert_eq!(
            crate::json::to_json(&v).unwrap(),
            r#"{"vault":{"server":{"args":["server","-dev"],"x":1}}}"#
        );
        let err = |t: &str| from_yaml(t).unwrap_err();
        assert_eq!(
            err("a: &x 1\nb: *y\n"),
            "error converting YAML to JSON: yaml: unknown anchor 'y' referenced"
        );
        assert_eq!(
            err("a: b: c\n"),
            "error converting YAML to JSON: yaml: mapping values are not allowed in this context"
        );
        assert_eq!(
            err("a:\n\t- b\n"),
            "error converting YAML to JSON: yaml: line 2: found character that cannot start any token"
        );
        assert_eq!(
            err("k: \"unterminated\n"),
            "error converting YAML to JSON: yaml: line 2: found unexpected end of stream"
        );
    }

    /// Runs `f` on a stack as large as the one `rudder` gives its work (main.rs): values
    /// nested 10000 deep are legal, and building and dropping them recurses that deep.
    fn on_rudders_stack(f: impl FnOnce() + Send) {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(1 << 30)
                .spawn_scoped(scope, f)
                .expect("thread starts")
                .join()
                .expect("test passes");
        });
    }

    #[test]
    fn nesting_is_refused_at_go_yamls_limits_while_reading() {
        on_rudders_stack(nesting_limits);
    }

    fn nesting_limits() {
        // Expected texts from Helm v4.2.3 (helm.values_from_yaml, the values-file reader):
        // go-yaml refuses a 10001st flow level or indentation level while scanning; a
        // document within both limits whose JSON nests deeper than 10000 fails in
        // encoding/json instead.
        let flow = |open: &str, close: &str, n: usize| {
            format!("a: {}{}\n", open.repeat(n), close.repeat(n))
        };
        for n in [10_001, 1_000_000] {
            assert_eq!(
                from_yaml(&flow("[", "]", n)).unwrap_err(),
                "error converting YAML to JSON: yaml: exceeded max depth of 10000",
                "{n} flow sequences"
            );
        }
        let maps = format!("a: {}1{}\n", "{a: ".repeat(10_001), "}".repeat(10_001));
        assert_eq!(
            from_yaml(&maps).unwrap_err(),
            "error converting YAML to JSON: yaml: exceeded max depth of 10000"
        );
        assert_eq!(
            from_yaml(&flow("[", "]", 10_000)).unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: invalid character '[' exceeded max depth"
        );
        let maps = format!("a: {}1{}\n", "{a: ".repeat(10_000), "}".repeat(10_000));
        assert_eq!(
            from_yaml(&maps).unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: invalid character '{' exceeded max depth"
        );
        assert!(from_yaml(&flow("[", "]", 9_999)).is_ok());
        // Sequences written at their key's column open no indentation level, those on one
        // line (`- - x`) one each (Helm's outputs: tests/conformance/cases/hostile-input.case).
        let dashes = |n: usize| format!("a:\n  {}x\n", "- ".repeat(n));
        assert!(from_yaml(&dashes(9_999)).is_ok());
        assert_eq!(
            from_yaml(&dashes(10_000)).unwrap_err(),
            "error converting YAML to JSON: yaml: line 2: exceeded max depth of 10000"
        );
        let indentless = |n: usize| format!("a:\n- b:\n  - c:\n    {}x\n", "- ".repeat(n));
        assert_eq!(
            from_yaml(&indentless(9_998)).unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: invalid character '[' exceeded max depth"
        );
        assert_eq!(
            from_yaml(&indentless(9_999)).unwrap_err(),
            "error converting YAML to JSON: yaml: line 4: exceeded max depth of 10000"
        );
        let mixed = format!(
            "a:\n  {}{}{}\n",
            "- ".repeat(5_000),
            "[".repeat(5_000),
            "]".repeat(5_000)
        );
        assert_eq!(
            from_yaml(&mixed).unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: invalid character '[' exceeded max depth"
        );
    }

    #[test]
    fn deep_nesting_costs_bounded_time() {
        // A hundred thousand levels were read whole before the depth check (14 s at 80k in
        // a release build); the limit now stops the reader at the 10001st level.
        let timed = |text: String| {
            let started = std::time::Instant::now();
            let result = from_yaml(&text);
            (started.elapsed(), result)
        };
        let (took, result) = timed(format!(
            "a: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ));
        assert!(result.unwrap_err().ends_with("exceeded max depth of 10000"));
        assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
        // Within the depth limit, libyaml's work grows with depth × tokens (28 s in a
        // release build for this one): refused once it passes the budget for its size.
        let wide = vec!["a"; 100_000].join(",");
        let (took, result) = timed(format!(
            "a: {}{wide}{}\n",
            "[".repeat(9_990),
            "]".repeat(9_990)
        ));
        assert!(result
            .unwrap_err()
            .contains("flow collections nested too deep"));
        assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
        // Nesting as real documents have it is nowhere near the budget.
        let items: Vec<String> = (0..20_000)
            .map(|i| format!("{{\"k{i}\": [[1, 2], {{\"x\": [\"y\"]}}]}}"))
            .collect();
        let deep_json = format!("{}[{}]{}", "[".repeat(20), items.join(", "), "]".repeat(20));
        assert!(from_yaml(&deep_json).is_ok());
    }

    #[test]
    fn alias_bombs_are_refused_as_go_yaml_refuses_them() {
        // Nine levels of ten aliases each: a billion laughs. Helm says the same.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert_eq!(
            from_yaml(&text).unwrap_err(),
            "error converting YAML to JSON: yaml: document contains excessive aliasing"
        );
        // Ordinary reuse of an anchor is fine.
        let mut text = String::from("base: &b {a: 1, b: 2}\n");
        for i in 0..50 {
            text.push_str(&format!("k{i}: *b\n"));
        }
        let v = from_yaml(&text).unwrap();
        assert_eq!(v.as_dict().unwrap().len(), 51);
    }

    #[test]
    fn key_order_survives_overflowing_digit_runs() {
        // Found by fuzzing: go-yaml's key order is not total once digit runs overflow, and
        // writing must neither panic nor lose keys.
        // The fuzzer's inputs hold raw control characters, which libyaml and go-yaml refuse
        // to read (checked against Helm); the keys they produced are built directly below.
        let text = include_str!("../tests/data/fuzz-yaml-key-order-overflow.yaml");
        assert_eq!(
            from_yaml(text).unwrap_err(),
            "error converting YAML to JSON: yaml: control characters are not allowed"
        );
        let overflowing: Map = [
            "1",
            "99999999999999999999999a",
            "99999999999999999999998",
            "a10",
            "a2",
        ]
        .iter()
        .map(|k| (k.to_string(), Value::Int(1)))
        .collect();
        let v = Value::map(overflowing);
        assert_eq!(
            from_yaml(&to_yaml(&v).unwrap()).unwrap(),
            from_yaml(&to_yaml(&v).unwrap()).unwrap()
        );
        assert_eq!(
            from_yaml(&to_yaml(&v).unwrap())
                .unwrap()
                .as_dict()
                .unwrap()
                .len(),
            5
        );
        // Found by fuzzing: a key longer than 128 bytes must be written as a complex key,
        // or the output does not read back.
        let text = include_str!("../tests/data/fuzz-yaml-long-control-key.yaml");
        assert_eq!(
            from_yaml(text).unwrap_err(),
            "error converting YAML to JSON: yaml: control characters are not allowed"
        );
        let long_key = format!("\u{e}\u{6}Y{}:\n", "x".repeat(140));
        let v = Value::map([(long_key, Value::Int(1))].into_iter().collect::<Map>());
        let back = from_yaml(&to_yaml(&v).unwrap()).unwrap();
        assert_eq!(back.as_dict().unwrap().keys(), v.as_dict().unwrap().keys());
        let mut keys: Vec<String> = (0..40)
            .map(|i| format!("{}7{i}", "9".repeat(i % 25)))
            .collect();
        keys.push("x".into());
        let m: Map = keys.iter().map(|k| (k.clone(), Value::Int(1))).collect();
        let out = to_yaml(&Value::map(m)).unwrap();
        assert_eq!(out.lines().count(), keys.len());
    }

    #[test]
    fn merges_and_anchors() {
        let v = y("base: &b {x: 1, q: 2}\nd:\n  <<: *b\n  q: 3\ny: 1\n");
        let d = v.get_path(&["d"]).unwrap();
        let m = d.as_map().unwrap();
        assert_eq!(m["x"], Value::Float(1.0));
        assert_eq!(m["q"], Value::Float(3.0));
        // `y` is a boolean key in YAML 1.1.
        assert!(v.as_map().unwrap().contains_key("true"));
    }

    #[test]
    fn writes_like_go_yaml_v2() {
        let v = y("b: 1\na:\n  - x\n  - k: v\n    j: 2\nc: {}\nd: []\ne: \"yes\"\nf: \"\"\ng: \"l1\\nl2\"\nh: 1000000\ni: 0.5\nj: null\nk: \"- x\"\n");
        assert_eq!(
            to_yaml(&v).unwrap(),
            "a:\n- x\n- j: 2\n  k: v\nb: 1\nc: {}\nd: []\ne: \"yes\"\nf: \"\"\ng: |-\n  l1\n  l2\nh: 1000000\ni: 0.5\nj: null\nk: '- x'\n"
        );
    }

    #[test]
    fn natural_key_order() {
        let mut keys = vec!["a10", "a9", "b", "_x", "B"];
        keys.sort_by(|a, b| natural_less(a, b));
        assert_eq!(keys, vec!["_x", "B", "a9", "a10", "b"]);
    }

    #[test]
    fn folds_long_strings() {
        let long = "word ".repeat(30);
        let v = Value::map(
            [("k".to_string(), Value::str(long.trim()))]
                .into_iter()
                .collect(),
        );
        let out = to_yaml(&v).unwrap();
        assert!(out.lines().count() > 1, "{out}");
        assert_eq!(
            from_yaml(&out).unwrap().get_path(&["k"]).unwrap(),
            Value::str(long.trim())
        );
    }
}
#[cfg(test)]
mod unicode_break_tests {
    use super::{from_yaml, to_yaml};
    use crate::{Map, Value};

    fn get(text: &str, key: &str) -> Value {
        from_yaml(text).unwrap().get_path(&[key]).unwrap()
    }

    /// Expected values are what Helm v4.2.3's fromYaml gives (func-yaml-unicode.case).
    #[test]
    fn a_merge_key_tagged_non_specific_is_still_a_merge() {
        // Found by the yaml fuzz target; Helm v4.2.3's fromYaml of this text gives the same
        // error (checked with helm-python-sdk), and with `!` a merge works as without it.
        let e = from_yaml("x: &a v\n! <<: *a\n").unwrap_err();
        assert!(
            e.ends_with("map merge requires map or sequence of maps as the value"),
            "{e}"
        );
        let merged = from_yaml("x: &a {k: v}\ny:\n  ! <<: *a\n").unwrap();
        assert_eq!(merged, from_yaml("x: {k: v}\ny: {k: v}\n").unwrap());
    }

    #[test]
    fn quoted_scalars_break_lines_as_libyaml_does() {
        assert_eq!(get("a: \"x\ny\"", "a"), Value::str("x y"));
        assert_eq!(get("a: \"x\u{2028}  y\"", "a"), Value::str("x\u{2028}y"));
        assert_eq!(
            get("a: 'x\u{2028}\u{2028}y'", "a"),
            Value::str("x\u{2028}\u{2028}y")
        );
        assert_eq!(get("a: 'x\u{85}y'", "a"), Value::str("x y"));
        assert_eq!(get("a: 'x\u{2029}\ny'", "a"), Value::str("x\u{2029}\ny"));
        assert_eq!(get("a: \"x\\\u{2028}y\"", "a"), Value::str("xy"));
        assert_eq!(get("a: 'p\u{85}\u{85}q'", "a"), Value::str("p\nq"));
    }

    /// Helm's values for block scalars that end the input (func-yaml-unicode.case).
    #[test]
    fn block_scalars_at_the_end_of_input_as_libyaml() {
        assert_eq!(get("k: |\n  a", "k"), Value::str("a"));
        assert_eq!(get("k: |+\n  a", "k"), Value::str("a"));
        assert_eq!(get("k: |+\n", "k"), Value::str(""));
        assert_eq!(get("k: |+\n\n", "k"), Value::str("\n"));
        assert_eq!(get("k: |\n  a\n# c", "k"), Value::str("a\n"));
        assert_eq!(get("k: |+\n  a\n\n", "k"), Value::str("a\n\n"));
        assert_eq!(get("k: |\n  a\nj: 1", "k"), Value::str("a\n"));
    }

    /// Where Helm's fromYaml takes or rejects tabs (func-yaml-unicode.case, yaml-tabs).
    #[test]
    fn tabs_as_libyaml() {
        assert_eq!(get("a:\tb", "a"), Value::str("b"));
        assert_eq!(get("a: 'x\n\ty'", "a"), Value::str("x y"));
        let err = |t: &str| from_yaml(t).unwrap_err();
        assert!(err("\ta: 1").ends_with("yaml: found character that cannot start any token"));
        assert!(err("a: |\n  \tx").ends_with(
            "yaml: line 2: found a tab character where an indentation space is expected"
        ));
        assert!(err("a:\n  b: 1\n\tc: 2")
            .ends_with("yaml: line 3: found a tab character that violates indentation"));
    }

    #[test]
    fn line_separators_round_trip_and_nel_folds_like_helm() {
        for s in [
            "x\u{2028}y",
            "\u{2029}",
            "a\nb\u{2028}c",
            " \u{2028} ",
            "x\u{2028}\u{2028}y",
        ] {
            let mut m = Map::new();
            m.insert("k".into(), Value::str(s));
            let y = to_yaml(&Value::map(m)).unwrap();
            assert_eq!(get(&y, "k"), Value::str(s), "{y:?}");
        }
        let mut m = Map::new();
        m.insert("c".into(), Value::str("x\u{85}y"));
        assert_eq!(to_yaml(&Value::map(m)).unwrap(), "c: x y\n");
    }
}

/// The fast reader against libyaml: whenever [`block_subset`] reads a text, libyaml must read
/// it to the same nodes.
#[doc(hidden)]
pub fn check_block_subset(text: &str) -> Result<bool, String> {
    let Some(fast) = block_subset::parse(text) else {
        return Ok(false);
    };
    // Reading only some top-level keys accepts the same text and builds the same nodes for
    // them (it may still give up, on a merge key).
    let keys = ["apiVersion", "kind", "metadata", "a"];
    if let Some(partial) = block_subset::parse_top_keys(text, &keys) {
        let wanted = |docs: &[Node]| -> Vec<(Node, Option<Node>)> {
            match docs.first() {
                Some(Node::Map(entries)) => entries
                    .iter()
                    .map(|(k, v)| {
                        let keep = matches!(k, Node::Scalar { text, .. }
                            if keys.iter().any(|w| w.eq_ignore_ascii_case(text)));
                        (k.clone(), keep.then(|| v.clone()))
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let whole_document = !matches!(fast.first(), Some(Node::Map(_)));
        if (whole_document && partial != fast) || wanted(&partial) != wanted(&fast) {
            return Err(format!("top keys: {partial:?}\nwhole: {fast:?}"));
        }
    } else if !matches!(fast.first(), Some(Node::Map(e)) if e.iter().any(|(k, _)| is_merge_key(k)))
    {
        return Err("reading the top keys gave up where reading everything did not".into());
    }
    match parse_documents_with_libyaml(text) {
        Ok(reference) if reference == fast => Ok(true),
        Ok(reference) => Err(format!("fast reader: {fast:?}\nlibyaml: {reference:?}")),
        Err(e) => Err(format!("fast reader accepted what libyaml rejects: {e}")),
    }
}

#[cfg(test)]
mod block_subset_tests {
    use super::check_block_subset;

    fn agrees(text: &str) -> bool {
        match check_block_subset(text) {
            Ok(read) => read,
            Err(e) => panic!("{text:?}\n{e}"),
        }
    }

    #[test]
    fn reads_plain_block_yaml_as_libyaml_does() {
        let read = [
            "a: 1\n",
            "a: 1",
            "---\na: 1\n",
            "# c\n\na: 1 # c\nb:\n  c: 'x''y' # c\n  d: \"q # not a comment\"\n",
            "a:\n- 1\n- -2\n-\n- x: 1\n  y:\n  - z\nb: ~\n",
            "- - a\n  - b\n- c: d\n  e: f\n-   g: h\n    i: j\n",
            "a b:  c d  \n'q k': v\n\"dq\": ''\nurl: http://x:80/y\n",
            "  a: 1\n  b: 2\n",
            "a:\n    b:\n        c: x]\nd: 1\n",
            "k: v#not-comment\nk2: a :b\n-x: 1\n<<: 1\n",
            "a:\n  - b\n  -\n  - # c\n    c: 1\n",
            "list:\n- a: 1\n  b:\n  - c\n- d\n",
            "a: {}\nb: [] # c\nc:\n- {}\n- []\n",
            "a: |\n  x\n   y\n\n  # z\nb: |-\n    q\n\n\nc: |+\n  k\n\n\nd: 1\n",
            "- |\n  x\n  \n    \n  y\n- |-\n   a\n- k: |\n    v\n  l: 2\n",
            "a: |\n\n  x\nb: | # c\n  y\n",
            "a: |\n  x",
            "a: |-\n  x",
            "a: [x, \"y z\", 'w', -1, 1.5, a/b]\nb: [x] # c\nc:\n- [a,b]\n",
            "a: {b: 1, c: [x, {d: e f}], 'g': \"h\"}\nb: { }\nc: [ ]\nd:\n- [{}]\ne: [x y,  z  w ]\n",
            "- {a: [1, 2], b: {c: {}}}\n- [[x], []]\n",
            "a: |+\n  x\n\n  ",
            "a:\n  b: |+\n    x\n\n  ",
        ];
        for text in read {
            assert!(agrees(text), "not read by the fast reader: {text:?}");
        }
    }

    #[test]
    fn leaves_everything_else_to_libyaml() {
        let left = [
            "",
            "# only a comment\n",
            "plain\n",
            "a: >-\n  x\n",
            "a: |2\n   x\n",
            "a: |\nb: 1\n",
            "a: |\n     \n  x\n",
            "a: |\n  x\n b: 1\n",
            "a: [x, ]\n",
            "a: [x: y]\n",
            "a: [x]]\n",
            "a: [x\n",
            "a: {}x\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: {b:1}\n",
            "a: {b: 1,}\n",
            "a: {b}\n",
            "a: {b: }\n",
            "a: {b: 1\n  , c: 2}\n",
            "a: {b: 1} x\n",
            "a: {b: 1}}\n",
            "a: {\"b\":1}\n",
            "a: {b: c #d}\n",
            "a: b\n  c\n",
            "a:\n  b\n",
            "a: \"x\\ty\"\n",
            "a: \"x\n  y\"\n",
            "a: 1\n---\nb: 2\n",
            "---\n---\n-\n",
            "---\n# c\n---\na: 1\n",
            "a: 1\n...\n",
            "%YAML 1.1\n---\na: 1\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: é\n",
            "a: b: c\n",
            "a:\n  b: 1\n c: 2\n",
            "- a\nb: 1\n",
            "a: 1\n- b\n",
            "? a\n: b\n",
            "a: 'x\n",
            "a: \"x\"y\n",
            "a: -\n",
            "a: x:\n",
            "- a\n  b\n",
        ];
        for text in left {
            assert!(!agrees(text), "read by the fast reader: {text:?}");
        }
    }

    #[test]
    fn reads_the_repositorys_yaml_files_as_libyaml_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut stack = vec![root.join("charts"), root.join("tests")];
        let (mut files, mut read) = (0, 0);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path
                    .extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "out")
                {
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    files += 1;
                    // Rendered manifests are read one document at a time.
                    for doc in text.split("\n---") {
                        if check_block_subset(doc)
                            .unwrap_or_else(|e| panic!("{}: {doc:?}\n{e}", path.display()))
                        {
                            read += 1;
                        }
                    }
                }
            }
        }
        assert!(
            files > 100 && read > 300,
            "{files} files, {read} documents read"
        );
    }
}
