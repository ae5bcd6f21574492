//! Reading, first step: libyaml's events into [`Node`]s (anchors, aliases and their budget,
//! nesting limits), with go-yaml v2's error texts.

use std::collections::HashMap;
use std::sync::Arc;

use super::block_subset;

/// A YAML node before resolution into values. Collections are shared, so that an alias
/// costs a pointer, not a copy (the alias-ratio check below bounds what expanding them into
/// values may cost).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
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
pub(super) fn parse_documents(text: &str) -> Result<Vec<Node>, String> {
    match block_subset::parse(text) {
        Some(docs) => Ok(docs),
        None => parse_documents_with_libyaml(text),
    }
}

/// Parses with libyaml alone: the reference for [`block_subset`], and the reader of
/// everything outside its subset.
pub(super) fn parse_documents_with_libyaml(text: &str) -> Result<Vec<Node>, String> {
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

pub(super) const MAX_NESTING: usize = 10_000;
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
