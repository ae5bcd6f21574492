//! A fast reader for the plain block YAML that values files and rendered manifests are
//! nearly always written in, producing the same nodes as libyaml.
//!
//! libyaml (through `unsafe-libyaml`) is the reference reader and the only one that decides
//! what is valid and how errors are worded, but it costs a few hundred instructions and
//! several allocations per byte-sized token, and YAML reading was most of the time of
//! `rudder template` on large charts (every rendered manifest is read back for its head).
//! This reader accepts only a conservative subset whose meaning is unambiguous: block
//! mappings and sequences indented with spaces, plain scalars on one line, single- or
//! double-quoted scalars on one line without escapes, literal and folded block scalars,
//! one-line flow collections of such scalars (after their key or on the next line), plus
//! comments; a text of only comments has no document. Anything else (multi-line flow
//! collections, anchors, aliases, tags, multi-line scalars,
//! several documents, tabs, non-ASCII text, control characters, bad indentation) makes it
//! give up and leave the text to libyaml, so it never has to know how libyaml reports an
//! error.
//! `yaml::tests` and the `yaml` fuzz target check that whenever it answers, libyaml gives
//! the same nodes.

use std::borrow::Cow;
use std::sync::Arc;

use super::{is_merge_key, Node};

/// libyaml refuses implicit keys longer than this (`simple key` limit).
const MAX_KEY_LEN: usize = 1000;
/// Deeper documents are left to libyaml (and its limits).
const MAX_DEPTH: usize = 200;

/// The single document of `text` as libyaml would read it, or `None` when `text` is outside
/// the subset (which says nothing about its validity).
pub(super) fn parse(text: &str) -> Option<Vec<Node>> {
    parse_with(text, None)
}

/// [`parse`], building only what a reader of some top-level keys needs: when the document is
/// a mapping, the values of other keys are checked but left as empty scalars, and a merge key
/// (`<<`) at the top gives `None`. Reading a manifest's head this way skips building the
/// nodes of its body, most of the work.
pub(super) fn parse_top_keys(text: &str, keys: &[&str]) -> Option<Vec<Node>> {
    parse_with(text, Some(keys))
}

fn parse_with(text: &str, keep_top: Option<&[&str]>) -> Option<Vec<Node>> {
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
        return if document_started {
            None
        } else {
            Some(Vec::new())
        };
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
    };
    let root = reader.block(first_indent)?;
    if reader.pos != reader.lines.len() {
        return None;
    }
    Some(vec![root])
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

struct Reader<'a> {
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
}

impl<'a> Reader<'a> {
    fn next_indent(&self) -> Option<usize> {
        self.lines.get(self.pos).map(|l| l.indent)
    }

    /// The collection starting at the current line, indented by `indent`.
    fn block(&mut self, indent: usize) -> Option<Node> {
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

    fn sequence(&mut self, indent: usize) -> Option<Node> {
        let mut items = Vec::new();
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
            empty_scalar()
        } else {
            Node::Seq(Arc::new(items))
        })
    }

    fn mapping(&mut self, indent: usize) -> Option<Node> {
        let mut entries = Vec::new();
        while let Some(line) = self.lines.get(self.pos).copied() {
            if line.indent != indent {
                break;
            }
            let (key, rest) = if self.skipping {
                let (_, _, rest) = split_key_text(line.text)?;
                (empty_scalar(), rest)
            } else {
                split_key(line.text)?
            };
            let skip_value = match self.keep_top {
                Some(keep) if self.depth == 1 => {
                    if is_merge_key(&key) {
                        return None;
                    }
                    let Node::Scalar { text, .. } = &key else {
                        return None;
                    };
                    !keep.iter().any(|k| k.eq_ignore_ascii_case(text))
                }
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
            if !self.skipping {
                entries.push((key, value?));
            } else {
                value?;
            }
        }
        if self.next_indent().is_some_and(|i| i > indent) {
            return None;
        }
        Some(if self.skipping {
            empty_scalar()
        } else {
            Node::Map(Arc::new(entries))
        })
    }

    /// Adds `item` to a collection being built (not while skipping).
    fn keep(&self, items: &mut Vec<Node>, item: Node) {
        if !self.skipping {
            items.push(item);
        }
    }

    /// The value that follows a key or `- ` on the current line, in a collection indented by
    /// `indent`; moves past it.
    fn value(&mut self, text: &str, indent: usize) -> Option<Node> {
        let node = match text.as_bytes()[0] {
            b'[' | b'{' => {
                let (node, after) = flow_collection(text, self.depth)?;
                if !only_comment(after) {
                    return None;
                }
                node
            }
            b'|' => return self.block_scalar(text, indent, Style::Literal),
            b'>' => return self.block_scalar(text, indent, Style::Folded),
            _ if self.skipping => {
                scalar_text(text)?;
                empty_scalar()
            }
            _ => scalar(text)?,
        };
        self.pos += 1;
        Some(node)
    }

    /// A literal (`|`, `|-`, `|+`) or folded (`>`, `>-`, `>+`) block scalar whose header is
    /// `header`, inside a collection indented by `indent`. Its indentation is that of its
    /// first non-blank line; blank lines are line breaks; it ends at the first non-blank line
    /// indented less. Folding joins two lines with one space when no blank line is between
    /// them, and otherwise drops the first line break, but never next to a line indented
    /// deeper than the block (libyaml's `yaml_parser_scan_block_scalar`). Explicit
    /// indentation indicators and the rarer corners (no content, leading blank lines indented
    /// deeper than the content) are left to libyaml.
    fn block_scalar(&mut self, header: &str, indent: usize, style: Style) -> Option<Node> {
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
        Some(Node::Scalar {
            text,
            plain: false,
            tag: None,
        })
    }

    /// The value of a key or sequence item with nothing after it on its line: a collection
    /// on the following lines, or an empty (null) scalar. A mapping's value may be a
    /// sequence at the mapping's own indentation.
    fn nested_value(&mut self, indent: usize, in_mapping: bool) -> Option<Node> {
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
            _ => Some(empty_scalar()),
        }
    }
}

/// What a block scalar does with its final line breaks.
enum Chomp {
    Strip,
    Clip,
    Keep,
}

fn empty_scalar() -> Node {
    Node::Scalar {
        text: String::new(),
        plain: true,
        tag: None,
    }
}

fn is_sequence_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: rest` (or `key:` at the end of the line) into the key's node and the rest.
fn split_key(text: &str) -> Option<(Node, &str)> {
    let (key, plain, rest) = split_key_text(text)?;
    Some((
        Node::Scalar {
            text: key.into_owned(),
            plain,
            tag: None,
        },
        rest,
    ))
}

/// [`split_key`] without building the node: the key's text, whether it is plain, the rest.
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

/// A value on the rest of a line: a quoted scalar, or a plain one up to a comment.
fn scalar(text: &str) -> Option<Node> {
    let (value, plain) = scalar_text(text)?;
    Some(Node::Scalar {
        text: value.into_owned(),
        plain,
        tag: None,
    })
}

/// [`scalar`] without building the node: the scalar's text and whether it is plain.
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
fn flow_collection(text: &str, depth: usize) -> Option<(Node, &str)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (is_map, close) = match text.as_bytes().first()? {
        b'[' => (false, ']'),
        b'{' => (true, '}'),
        _ => return None,
    };
    let mut rest = text[1..].trim_start_matches(' ');
    let (mut items, mut entries) = (Vec::new(), Vec::new());
    if let Some(after) = rest.strip_prefix(close) {
        rest = after;
    } else {
        loop {
            if is_map {
                let (key, after) = flow_scalar(rest)?;
                let (value, after) = flow_node(after.strip_prefix(": ")?, depth)?;
                entries.push((key, value));
                rest = after;
            } else {
                let (item, after) = flow_node(rest, depth)?;
                items.push(item);
                rest = after;
            }
            rest = rest.trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix(close) {
                rest = after;
                break;
            }
            rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        }
    }
    let node = if is_map {
        Node::Map(Arc::new(entries))
    } else {
        Node::Seq(Arc::new(items))
    };
    Some((node, rest))
}

/// A node inside a flow collection, after any spaces.
fn flow_node(text: &str, depth: usize) -> Option<(Node, &str)> {
    let text = text.trim_start_matches(' ');
    match text.as_bytes().first()? {
        b'[' | b'{' => flow_collection(text, depth + 1),
        _ => flow_scalar(text),
    }
}

/// A scalar inside a flow collection: quoted, or plain of letters, digits, `._/-+=` and
/// inner spaces.
fn flow_scalar(text: &str) -> Option<(Node, &str)> {
    if let Some(quoted) = quoted(text) {
        return Some(quoted);
    }
    let len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._/-+= ".contains(c)))
        .unwrap_or(text.len());
    let plain = text[..len].trim_end_matches(' ');
    if !plain_start(plain) {
        return None;
    }
    Some((
        Node::Scalar {
            text: plain.to_string(),
            plain: true,
            tag: None,
        },
        &text[plain.len()..],
    ))
}

/// A one-line quoted scalar at the start of `text` without escapes, and the text after it.
fn quoted(text: &str) -> Option<(Node, &str)> {
    let (value, after) = quoted_text(text)?;
    Some((
        Node::Scalar {
            text: value.into_owned(),
            plain: false,
            tag: None,
        },
        after,
    ))
}

/// [`quoted`] without building the node.
fn quoted_text(text: &str) -> Option<(Cow<'_, str>, &str)> {
    if let Some(inner) = text.strip_prefix('"') {
        let end = inner.find('"')?;
        if inner[..end].contains('\\') {
            return None;
        }
        Some((Cow::Borrowed(&inner[..end]), &inner[end + 1..]))
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
