//! A fast reader for the plain block YAML that values files and rendered manifests are
//! nearly always written in, producing the same nodes as libyaml.
//!
//! libyaml (through `unsafe-libyaml`) is the reference reader and the only one that decides
//! what is valid and how errors are worded, but it costs a few hundred instructions and
//! several allocations per byte-sized token, and YAML reading was most of the time of
//! `rudder template` on large charts (every rendered manifest is read back for its head).
//! This reader accepts only a conservative subset whose meaning is unambiguous: block
//! mappings and sequences indented with spaces, plain scalars (on several lines only as
//! values on the line of their key or dash, see [`Reader::plain_continuation`]), single- or
//! double-quoted scalars on one line (escapes of one ASCII character only), literal and folded block scalars,
//! one-line flow collections of such scalars (after their key or on the next line), plus
//! comments; a text of only comments has no document. Anything else (multi-line flow
//! collections, anchors, aliases, tags, multi-line quoted scalars,
//! several documents, tabs, non-ASCII text, control characters, bad indentation) makes it
//! give up and leave the text to libyaml, so it never has to know how libyaml reports an
//! error.
//! `yaml::tests` and the `yaml` fuzz target check that whenever it answers, libyaml gives
//! the same nodes.

use std::borrow::Cow;
use std::sync::Arc;

use super::Node;

/// What the reader makes of what it reads: [`Node`]s ([`NodeBuild`]), or values straight
/// away (`decode`'s builder), so that the common reading needs no node tree in between.
/// Every method may give up (`None`), which sends the whole text to libyaml.
pub(super) trait Build {
    /// A finished node or value.
    type Out;
    /// A mapping key, converted.
    type Key;
    type Seq;
    type Map;
    /// A scalar, `plain` or quoted (block scalars are not plain).
    fn scalar(&mut self, text: Cow<'_, str>, plain: bool) -> Option<Self::Out>;
    /// A mapping key (never a merge key `<<` while only some top keys are read).
    fn key(&mut self, text: Cow<'_, str>, plain: bool) -> Option<Self::Key>;
    fn seq(&mut self) -> Self::Seq;
    fn push(&mut self, seq: &mut Self::Seq, item: Self::Out);
    fn finish_seq(&mut self, seq: Self::Seq) -> Self::Out;
    fn map(&mut self) -> Self::Map;
    fn insert(&mut self, map: &mut Self::Map, key: Self::Key, value: Self::Out) -> Option<()>;
    /// Whether `key` of the top-level mapping is one of `keys` (compared without case), whose
    /// values are built while only some top keys are read.
    fn wanted_top(&self, key: &Self::Key, keys: &[&str]) -> bool;
    /// An entry of the top-level mapping while only some top keys are read: `value` is
    /// [`Build::empty`] for a key not asked for.
    fn insert_top(&mut self, map: &mut Self::Map, key: Self::Key, value: Self::Out) -> Option<()> {
        self.insert(map, key, value)
    }
    fn finish_map(&mut self, map: Self::Map) -> Self::Out;
    /// The empty plain scalar: a key or item without value, and the stand-in for values
    /// that are checked but not built.
    fn empty(&mut self) -> Self::Out {
        self.scalar(Cow::Borrowed(""), true)
            .expect("the empty scalar is always accepted")
    }
}

/// Builds the [`Node`]s that libyaml's events make.
pub(super) struct NodeBuild;

impl Build for NodeBuild {
    type Out = Node;
    type Key = Node;
    type Seq = Vec<Node>;
    type Map = Vec<(Node, Node)>;
    fn scalar(&mut self, text: Cow<'_, str>, plain: bool) -> Option<Node> {
        Some(Node::Scalar {
            text: text.into_owned(),
            plain,
            tag: None,
        })
    }
    fn key(&mut self, text: Cow<'_, str>, plain: bool) -> Option<Node> {
        self.scalar(text, plain)
    }
    fn seq(&mut self) -> Vec<Node> {
        Vec::new()
    }
    fn push(&mut self, seq: &mut Vec<Node>, item: Node) {
        seq.push(item);
    }
    fn finish_seq(&mut self, seq: Vec<Node>) -> Node {
        Node::Seq(Arc::new(seq))
    }
    fn map(&mut self) -> Vec<(Node, Node)> {
        Vec::new()
    }
    fn insert(&mut self, map: &mut Vec<(Node, Node)>, key: Node, value: Node) -> Option<()> {
        map.push((key, value));
        Some(())
    }
    fn finish_map(&mut self, map: Vec<(Node, Node)>) -> Node {
        Node::Map(Arc::new(map))
    }
    /// Compared as written: the nodes' reader decodes and compares the keys later.
    fn wanted_top(&self, key: &Node, keys: &[&str]) -> bool {
        let Node::Scalar { text, .. } = key else {
            return false;
        };
        keys.iter().any(|k| k.eq_ignore_ascii_case(text))
    }
}

/// libyaml refuses implicit keys longer than this (`simple key` limit).
const MAX_KEY_LEN: usize = 1000;
/// Deeper documents are left to libyaml (and its limits).
pub(super) const MAX_DEPTH: usize = 200;

/// The single document of `text` as libyaml would read it, or `None` when `text` is outside
/// the subset (which says nothing about its validity).
pub(super) fn parse(text: &str) -> Option<Vec<Node>> {
    Some(
        parse_with(text, None, &mut NodeBuild)?
            .into_iter()
            .collect(),
    )
}

/// [`parse`], building only what a reader of some top-level keys needs: when the document is
/// a mapping, the values of other keys are checked but left as empty scalars, and a merge key
/// (`<<`) at the top gives `None`. Reading a manifest's head this way skips building the
/// nodes of its body, most of the work.
pub(super) fn parse_top_keys(text: &str, keys: &[&str]) -> Option<Vec<Node>> {
    Some(
        parse_with(text, Some(keys), &mut NodeBuild)?
            .into_iter()
            .collect(),
    )
}

/// The single document of `text` (`Some(None)` when it has none) as `build` makes it, or
/// `None` when `text` is outside the subset or `build` gives up.
pub(super) fn parse_with<B: Build>(
    text: &str,
    keep_top: Option<&[&str]>,
    build: &mut B,
) -> Option<Option<B::Out>> {
    // One vectorised pass for every line break: `split('\n')` starts a new search per line,
    // and values files are mostly short lines.
    let mut rows: Vec<&str> = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        rows.push(&text[start..end]);
        start = end + 1;
    }
    rows.push(&text[start..]);
    if !is_printable_ascii(text) && !rows.iter().all(|row| row_in_subset(row)) {
        return None;
    }
    // The piece after a final line break is not a line; one without a final break is.
    let last_row_unterminated = rows.last() != Some(&"");
    if !last_row_unterminated {
        rows.pop();
    }
    let mut lines = Vec::new();
    let mut document_started = false;
    for (row, raw) in rows.iter().enumerate() {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let rest = &raw[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        if indent == 0 && (rest.starts_with("---") || rest.starts_with("...")) {
            // A bare `---` may open the (single) document; any other marker is left to
            // libyaml.
            if rest == "---" && !document_started {
                document_started = true;
                continue;
            }
            return None;
        }
        if indent == 0 && rest.starts_with('%') {
            return None;
        }
        document_started = true;
        lines.push(Line {
            indent,
            text: rest,
            row,
        });
    }
    let Some(first) = lines.first() else {
        // Only comments and blank lines (a template that rendered nothing but its licence
        // header): no document at all. A bare `---` opens one, which is left to libyaml.
        return if document_started { None } else { Some(None) };
    };
    let first_indent = first.indent;
    let mut reader = Reader {
        rows,
        last_row_unterminated,
        lines,
        pos: 0,
        depth: 0,
        keep_top,
        skipping: false,
        build,
    };
    let root = reader.block(first_indent)?;
    if reader.pos != reader.lines.len() {
        return None;
    }
    Some(Some(root))
}

/// Whether `text` is only printable ASCII and line breaks, the common case of
/// [`row_in_subset`] for every line, checked a block at a time without branches (several
/// times faster than a byte-by-byte test that stops at the first miss).
fn is_printable_ascii(text: &str) -> bool {
    let outside = |b: u8| (b < 0x20 && b != b'\n') | (b >= 0x7f);
    let mut blocks = text.as_bytes().chunks_exact(64);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &b| any | outside(b)) {
            return false;
        }
    }
    !blocks.remainder().iter().any(|&b| outside(b))
}

/// Whether a line's characters are in the subset: printable ASCII (no tabs or control
/// characters), and anything else libyaml reads as printable text in a whole-line comment,
/// where it means nothing (curly quotes in values files' comments are common). Not
/// U+0085, U+2028 and U+2029, which libyaml reads as line breaks, nor U+FEFF.
fn row_in_subset(row: &str) -> bool {
    // Not `is_printable_ascii`: its block loop costs more than it saves on one short line.
    if row.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return true;
    }
    row.trim_start_matches(' ').starts_with('#')
        && row.chars().all(|c| {
            matches!(u32::from(c),
                0x20..=0x7e
                | 0xa0..=0x2027
                | 0x202a..=0xd7ff
                | 0xe000..=0xfefe
                | 0xff00..=0xfffd
                | 0x10000..=0x10ffff)
        })
}

/// How a block scalar keeps its line breaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Literal,
    Folded,
}

/// A line with content: its indentation and the text after it. The content of a compact
/// sequence item (`- a: 1`) is re-read as a line indented to where that content starts.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
    /// Where the line is in `Reader::rows`.
    row: usize,
}

struct Reader<'a, 'b, B: Build> {
    /// Every line of the text, as block scalars need them (blank and `#` lines included).
    rows: Vec<&'a str>,
    last_row_unterminated: bool,
    /// The lines with content, comments and blank lines left out.
    lines: Vec<Line<'a>>,
    pos: usize,
    depth: usize,
    /// The top-level keys whose values are built (all when `None`).
    keep_top: Option<&'a [&'a str]>,
    /// Inside a value nobody reads: check it, build nothing.
    skipping: bool,
    build: &'b mut B,
}

impl<'a, B: Build> Reader<'a, '_, B> {
    fn next_indent(&self) -> Option<usize> {
        self.lines.get(self.pos).map(|l| l.indent)
    }

    /// The collection starting at the current line, indented by `indent`.
    fn block(&mut self, indent: usize) -> Option<B::Out> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let text = self.lines[self.pos].text;
        let node = if is_sequence_item(text) {
            self.sequence(indent)
        } else if split_key_text(text).is_some() {
            self.mapping(indent)
        } else {
            None
        };
        self.depth -= 1;
        node
    }

    fn sequence(&mut self, indent: usize) -> Option<B::Out> {
        let mut items = self.build.seq();
        while let Some(line) = self.lines.get(self.pos).copied() {
            if line.indent != indent || !is_sequence_item(line.text) {
                break;
            }
            let after_dash = &line.text[1..];
            let content = after_dash.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                self.pos += 1;
                let item = self.nested_value(indent, false)?;
                self.keep(&mut items, item);
                continue;
            }
            let column = indent + 1 + (after_dash.len() - content.len());
            if is_sequence_item(content) || split_key_text(content).is_some() {
                self.lines[self.pos] = Line {
                    indent: column,
                    text: content,
                    row: line.row,
                };
                let item = self.block(column)?;
                self.keep(&mut items, item);
            } else {
                let item = self.value(content, indent)?;
                self.keep(&mut items, item);
            }
        }
        // Whatever follows must belong to an enclosing collection.
        if self.next_indent().is_some_and(|i| i > indent) {
            return None;
        }
        Some(if self.skipping {
            self.build.empty()
        } else {
            self.build.finish_seq(items)
        })
    }

    fn mapping(&mut self, indent: usize) -> Option<B::Out> {
        let mut entries = self.build.map();
        while let Some(line) = self.lines.get(self.pos).copied() {
            if line.indent != indent {
                break;
            }
            let (key_text, plain, rest) = split_key_text(line.text)?;
            let top = self.keep_top.is_some() && self.depth == 1;
            // A merge key would bring in keys of its own.
            if top && plain && key_text == "<<" {
                return None;
            }
            let key = if self.skipping {
                None
            } else {
                Some(self.build.key(key_text, plain)?)
            };
            let skip_value = match (self.keep_top, &key) {
                (Some(keep), Some(key)) if top => !self.build.wanted_top(key, keep),
                _ => false,
            };
            let outer = self.skipping;
            self.skipping |= skip_value;
            let rest = rest.trim_start_matches(' ');
            let value = if rest.is_empty() || rest.starts_with('#') {
                self.pos += 1;
                self.nested_value(indent, true)
            } else {
                self.value(rest, indent)
            };
            self.skipping = outer;
            let value = value?;
            match key {
                Some(key) if top => self.build.insert_top(&mut entries, key, value)?,
                Some(key) => self.build.insert(&mut entries, key, value)?,
                None => {}
            }
        }
        if self.next_indent().is_some_and(|i| i > indent) {
            return None;
        }
        Some(if self.skipping {
            self.build.empty()
        } else {
            self.build.finish_map(entries)
        })
    }

    /// Adds `item` to a collection being built (not while skipping).
    fn keep(&mut self, items: &mut B::Seq, item: B::Out) {
        if !self.skipping {
            self.build.push(items, item);
        }
    }

    /// The value that follows a key or `- ` on the current line, in a collection indented by
    /// `indent`; moves past it.
    fn value(&mut self, text: &str, indent: usize) -> Option<B::Out> {
        let node = match text.as_bytes()[0] {
            b'[' | b'{' => {
                let (node, after) = flow_collection(text, self.depth, self.build)?;
                if !only_comment(after) {
                    return None;
                }
                node
            }
            b'|' => return self.block_scalar(text, indent, Style::Literal),
            b'>' => return self.block_scalar(text, indent, Style::Folded),
            _ => {
                let (value, plain) = scalar_text(text)?;
                let continued = plain
                    && self
                        .lines
                        .get(self.pos + 1)
                        .is_some_and(|l| l.indent > indent);
                if continued {
                    // A comment ends the scalar, and the deeper line after it is an error.
                    if value.len() != text.trim_end_matches(' ').len() {
                        return None;
                    }
                    let folded = self.plain_continuation(&value, indent)?;
                    return Some(if self.skipping {
                        self.build.empty()
                    } else {
                        self.build.scalar(Cow::Owned(folded), true)?
                    });
                }
                if self.skipping {
                    self.build.empty()
                } else {
                    self.build.scalar(value, plain)?
                }
            }
        };
        self.pos += 1;
        Some(node)
    }

    /// A plain scalar that goes on over the following lines indented deeper than its
    /// collection (`indent`), as Chart.yaml descriptions are written: `first` and those lines
    /// folded (a line break between two lines is a space, each blank line between them a line
    /// break, the spaces around each line dropped: libyaml's `yaml_parser_scan_plain_scalar`);
    /// moves past them. A comment line among them, or a line that is not plainly text (one
    /// starting with an indicator, holding `: ` or ` #`, or ending in `:`), gives up.
    fn plain_continuation(&mut self, first: &str, indent: usize) -> Option<String> {
        let mut text = first.to_string();
        let mut row = self.lines[self.pos].row;
        self.pos += 1;
        while let Some(next) = self.lines.get(self.pos).copied() {
            if next.indent <= indent {
                break;
            }
            let between = &self.rows[row + 1..next.row];
            if !between.iter().all(|r| r.bytes().all(|b| b == b' ')) {
                return None;
            }
            let content = next.text.trim_end_matches(' ');
            if !plain_start(content)
                || content.ends_with(':')
                || content.contains(": ")
                || has_comment(content)
            {
                return None;
            }
            if between.is_empty() {
                text.push(' ');
            } else {
                text.extend(std::iter::repeat_n('\n', between.len()));
            }
            text.push_str(content);
            row = next.row;
            self.pos += 1;
        }
        Some(text)
    }

    /// A literal (`|`, `|-`, `|+`) or folded (`>`, `>-`, `>+`) block scalar whose header is
    /// `header`, inside a collection indented by `indent`. Its indentation is that of its
    /// first non-blank line; blank lines are line breaks; it ends at the first non-blank line
    /// indented less. Folding joins two lines with one space when no blank line is between
    /// them, and otherwise drops the first line break, but never next to a line indented
    /// deeper than the block (libyaml's `yaml_parser_scan_block_scalar`). Explicit
    /// indentation indicators and the rarer corners (no content, leading blank lines indented
    /// deeper than the content) are left to libyaml.
    fn block_scalar(&mut self, header: &str, indent: usize, style: Style) -> Option<B::Out> {
        let (chomp, after) = match header.as_bytes().get(1) {
            Some(b'-') => (Chomp::Strip, &header[2..]),
            Some(b'+') => (Chomp::Keep, &header[2..]),
            _ => (Chomp::Clip, &header[1..]),
        };
        if !only_comment(after) {
            return None;
        }
        let start = self.lines[self.pos].row + 1;
        let spaces = |row: &str| row.len() - row.trim_start_matches(' ').len();
        let is_blank = |row: &str| row.bytes().all(|b| b == b' ');
        let first = (start..self.rows.len()).find(|&r| !is_blank(self.rows[r]))?;
        let block_indent = spaces(self.rows[first]);
        if block_indent <= indent
            || self.rows[start..first]
                .iter()
                .any(|row| row.len() > block_indent)
        {
            return None;
        }
        let mut text = String::new();
        let mut breaks_after_content = 0;
        // Whether the last line with content was indented deeper than the block (libyaml's
        // `leading_blank`): folding never joins such a line to its neighbours.
        let mut last_deeper = false;
        let mut end = start;
        while end < self.rows.len() {
            let row = self.rows[end];
            // Every row ends in a line break but an unterminated last one.
            let breaks = usize::from(!(end + 1 == self.rows.len() && self.last_row_unterminated));
            if is_blank(row) && row.len() <= block_indent {
                breaks_after_content += breaks;
            } else if spaces(row) >= block_indent {
                let deeper = spaces(row) > block_indent;
                let folds = style == Style::Folded && !text.is_empty() && !last_deeper && !deeper;
                last_deeper = deeper;
                if folds && breaks_after_content == 1 {
                    text.push(' ');
                } else {
                    // Folding drops the first line break; blank lines' breaks stay.
                    let kept = breaks_after_content.saturating_sub(usize::from(folds));
                    text.extend(std::iter::repeat_n('\n', kept));
                }
                breaks_after_content = breaks;
                text.push_str(&row[block_indent..]);
            } else {
                break;
            }
            end += 1;
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip if breaks_after_content > 0 => text.push('\n'),
            Chomp::Clip => {}
            Chomp::Keep => {
                for _ in 0..breaks_after_content {
                    text.push('\n');
                }
            }
        }
        self.pos = self.lines.partition_point(|l| l.row < end);
        self.build.scalar(Cow::Owned(text), false)
    }

    /// The value of a key or sequence item with nothing after it on its line: a collection
    /// on the following lines, or an empty (null) scalar. A mapping's value may be a
    /// sequence at the mapping's own indentation.
    fn nested_value(&mut self, indent: usize, in_mapping: bool) -> Option<B::Out> {
        match self.lines.get(self.pos).copied() {
            // A one-line flow collection on the next line (`resources:` then `  {}`).
            Some(next) if next.indent > indent && next.text.starts_with(['{', '[']) => {
                self.value(next.text, indent)
            }
            Some(next) if next.indent > indent => self.block(next.indent),
            Some(next) if in_mapping && next.indent == indent && is_sequence_item(next.text) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                let node = self.sequence(indent);
                self.depth -= 1;
                node
            }
            _ => Some(self.build.empty()),
        }
    }
}

/// What a block scalar does with its final line breaks.
enum Chomp {
    Strip,
    Clip,
    Keep,
}

fn is_sequence_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: rest` (or `key:` at the end of the line): the key's text, whether it is
/// plain, the rest.
fn split_key_text(text: &str) -> Option<(Cow<'_, str>, bool, &str)> {
    if let Some((key, after)) = quoted_text(text) {
        if text.len() - after.len() > MAX_KEY_LEN {
            return None;
        }
        let rest = after.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((key, false, rest));
    }
    let bytes = text.as_bytes();
    // Lines are short: a plain loop beats setting up a memchr search per line.
    let colon = (0..bytes.len())
        .find(|&i| bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' '))?;
    let key = text[..colon].trim_end_matches(' ');
    if key.is_empty() || key.len() > MAX_KEY_LEN || has_comment(key) || !plain_start(key) {
        return None;
    }
    Some((Cow::Borrowed(key), true, &text[colon + 1..]))
}

/// A value on the rest of a line, a quoted scalar or a plain one up to a comment: its text
/// and whether it is plain.
fn scalar_text(text: &str) -> Option<(Cow<'_, str>, bool)> {
    if let Some((value, after)) = quoted_text(text) {
        return only_comment(after).then_some((value, false));
    }
    // One pass: the value ends where a comment starts, and must hold no `: `.
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    for i in 0..bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b' ', Some(b'#')) => {
                end = i;
                break;
            }
            (b':', Some(b' ')) => return None,
            _ => {}
        }
    }
    let value = text[..end].trim_end_matches(' ');
    if !plain_start(value) || value.ends_with(':') {
        return None;
    }
    Some((Cow::Borrowed(value), true))
}

/// Whether `text` holds ` #`, which starts a comment.
fn has_comment(text: &str) -> bool {
    text.as_bytes().windows(2).any(|w| w == b" #")
}

/// What may follow a scalar on its line: nothing, or spaces and then a comment.
fn only_comment(after: &str) -> bool {
    let trimmed = after.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < after.len())
}

/// Whether `text` may start a plain scalar: not with an indicator character, and not with
/// `-` unless something other than a space follows.
fn plain_start(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        None => false,
        Some(b'-') => bytes.get(1).is_some_and(|&b| b != b' '),
        Some(c) => !b"?:,[]{}#&*!|>'\"%@` ".contains(c),
    }
}

/// A one-line flow collection at the start of `text` (`[a, "b"]`, `{k: v, l: [1, {}]}`), and
/// the text after it. Plain scalars in it are kept to characters that mean nothing in flow
/// context; a trailing comma, an empty entry or a key without `: ` gives up.
fn flow_collection<'t, B: Build>(
    text: &'t str,
    depth: usize,
    build: &mut B,
) -> Option<(B::Out, &'t str)> {
    if depth > MAX_DEPTH {
        return None;
    }
    /// The collection being built.
    enum Flow<S, M> {
        Seq(S),
        Map(M),
    }
    let (mut flow, close) = match text.as_bytes().first()? {
        b'[' => (Flow::Seq(build.seq()), ']'),
        b'{' => (Flow::Map(build.map()), '}'),
        _ => return None,
    };
    let mut rest = text[1..].trim_start_matches(' ');
    if let Some(after) = rest.strip_prefix(close) {
        rest = after;
    } else {
        loop {
            match &mut flow {
                Flow::Map(entries) => {
                    let (key, plain, after) = flow_scalar(rest)?;
                    let key = build.key(key, plain)?;
                    let (value, after) = flow_node(after.strip_prefix(": ")?, depth, build)?;
                    build.insert(entries, key, value)?;
                    rest = after;
                }
                Flow::Seq(items) => {
                    let (item, after) = flow_node(rest, depth, build)?;
                    build.push(items, item);
                    rest = after;
                }
            }
            rest = rest.trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix(close) {
                rest = after;
                break;
            }
            rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        }
    }
    let node = match flow {
        Flow::Map(entries) => build.finish_map(entries),
        Flow::Seq(items) => build.finish_seq(items),
    };
    Some((node, rest))
}

/// A node inside a flow collection, after any spaces.
fn flow_node<'t, B: Build>(
    text: &'t str,
    depth: usize,
    build: &mut B,
) -> Option<(B::Out, &'t str)> {
    let text = text.trim_start_matches(' ');
    match text.as_bytes().first()? {
        b'[' | b'{' => flow_collection(text, depth + 1, build),
        _ => {
            let (value, plain, after) = flow_scalar(text)?;
            Some((build.scalar(value, plain)?, after))
        }
    }
}

/// A scalar inside a flow collection, quoted or plain of letters, digits, `._/-+=` and
/// inner spaces: its text, whether it is plain, the text after it.
fn flow_scalar(text: &str) -> Option<(Cow<'_, str>, bool, &str)> {
    if let Some((value, after)) = quoted_text(text) {
        return Some((value, false, after));
    }
    let len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._/-+= ".contains(c)))
        .unwrap_or(text.len());
    let plain = text[..len].trim_end_matches(' ');
    if !plain_start(plain) {
        return None;
    }
    Some((Cow::Borrowed(plain), true, &text[plain.len()..]))
}

/// A one-line quoted scalar at the start of `text`: its text and the text after it.
fn quoted_text(text: &str) -> Option<(Cow<'_, str>, &str)> {
    if let Some(inner) = text.strip_prefix('"') {
        let end = inner.find(['"', '\\'])?;
        if inner.as_bytes()[end] == b'"' {
            return Some((Cow::Borrowed(&inner[..end]), &inner[end + 1..]));
        }
        let (value, after) = double_quoted_escapes(inner)?;
        Some((Cow::Owned(value), after))
    } else if let Some(inner) = text.strip_prefix('\'') {
        let end = inner.find('\'')?;
        if !inner[end + 1..].starts_with('\'') {
            return Some((Cow::Borrowed(&inner[..end]), &inner[end + 1..]));
        }
        // `''` is a quote.
        let mut value = String::new();
        let mut rest = inner;
        loop {
            let end = rest.find('\'')?;
            value.push_str(&rest[..end]);
            if rest[end + 1..].starts_with('\'') {
                value.push('\'');
                rest = &rest[end + 2..];
            } else {
                return Some((Cow::Owned(value), &rest[end + 1..]));
            }
        }
    } else {
        None
    }
}

/// The inside of a one-line double-quoted scalar holding escapes (`inner` follows the
/// opening quote): its text and the text after the closing quote. Only the escapes that
/// stand for one ASCII character are read (libyaml's `yaml_parser_scan_flow_scalar`); the
/// others (`\x`, `\u`, `\U`, `\N`, `\_`, `\L`, `\P`, a line break) give up.
fn double_quoted_escapes(inner: &str) -> Option<(String, &str)> {
    let mut value = String::with_capacity(inner.len());
    let mut rest = inner;
    loop {
        let end = rest.find(['"', '\\'])?;
        value.push_str(&rest[..end]);
        if rest.as_bytes()[end] == b'"' {
            return Some((value, &rest[end + 1..]));
        }
        value.push(match rest.as_bytes().get(end + 1)? {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            _ => return None,
        });
        rest = &rest[end + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::is_printable_ascii;

    #[test]
    fn printable_ascii_is_found_wherever_the_odd_byte_is() {
        let base = "a: b # c\n".repeat(20);
        assert!(is_printable_ascii(&base));
        for odd in ['\t', '\r', '\u{7f}', '\u{e9}', '\u{0}'] {
            for at in [0, 63, 64, 100, base.len()] {
                let mut text = base.clone();
                text.insert(at, odd);
                assert!(!is_printable_ascii(&text), "{odd:?} at {at}");
            }
        }
    }
}
