//! dyff's human report (pkg/dyff/output_human.go) with helm-diff's settings, and the YAML of
//! added and removed parts as gonvenience/neat lays it out.

use rudder_value::gofmt;

use super::compare::*;
use super::lines::{self, Delta};
use super::nodes::*;
use super::paint::*;

/// The width of a text as printed: characters, escape sequences left out.
pub(super) fn plain_length(text: &str) -> usize {
    let mut n = 0;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

/// gonvenience/text `Plural`.
pub(super) fn plural(amount: usize, singular: &str, plural: &str) -> String {
    const WORDS: [&str; 13] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    let number = WORDS
        .get(amount)
        .map(|w| w.to_string())
        .unwrap_or_else(|| amount.to_string());
    format!("{number} {}", if amount == 1 { singular } else { plural })
}

/// ytbx's `RestructureObject`: in every map, the keys of the best-matching known key order
/// first (for Kubernetes objects apiVersion, kind, metadata, spec, status; otherwise `name`
/// and the like), then the others, shallow values before deep ones.
pub(super) fn restructure(node: &mut Node) {
    const KNOWN_ORDERS: [&[&str]; 13] = [
        &[
            "name",
            "director_uuid",
            "releases",
            "instance_groups",
            "networks",
            "resource_pools",
            "compilation",
        ],
        &["name", "url", "version", "sha1"],
        &["jobs", "resources", "resource_types"],
        &["name", "type", "source"],
        &["get"],
        &["put"],
        &["task"],
        &["releases", "instance_groups", "configuration", "variables"],
        &["auth", "templates"],
        &["apiVersion", "kind", "metadata", "spec", "status"],
        &["name"],
        &["key"],
        &["id"],
    ];
    match node {
        Node::Document(inner) => restructure(inner),
        Node::Sequence(items) => items.iter_mut().for_each(restructure),
        Node::Mapping(pairs) => {
            let mut best: Option<(&[&str], usize)> = None;
            for order in KNOWN_ORDERS {
                let hits = order
                    .iter()
                    .filter(|k| pairs.iter().any(|p| p.key == **k))
                    .count();
                if hits > 0 && best.is_none_or(|(_, h)| hits > h) {
                    best = Some((order, hits));
                }
            }
            if let Some((order, _)) = best {
                let mut first: Vec<Pair> = Vec::new();
                for key in order {
                    if let Some(i) = pairs.iter().position(|p| p.key == *key) {
                        first.push(pairs.remove(i));
                    }
                }
                // Go's sort.Slice; for the few keys of a manifest's maps it is an insertion
                // sort, so equal depths keep their order, as a stable sort keeps them.
                pairs.sort_by_key(|p| max_depth(&p.value, 0).unwrap_or(0));
                first.append(pairs);
                *pairs = first;
            }
            for p in pairs.iter_mut() {
                restructure(&mut p.value);
            }
        }
        Node::Scalar { .. } => {}
    }
}

/// ytbx's `maxDepth`: the length of the longest path to a leaf (a named list's entries
/// count their name and their fields, the identifying field left out).
pub(super) fn max_depth(node: &Node, depth: usize) -> Option<usize> {
    match node {
        Node::Document(inner) => max_depth(inner, depth),
        Node::Scalar { .. } => Some(depth),
        Node::Mapping(pairs) => pairs
            .iter()
            .filter_map(|p| max_depth(&p.value, depth + 1))
            .max(),
        Node::Sequence(items) => {
            let identifier = ["name", "key", "id"].into_iter().find(|id| {
                items
                    .iter()
                    .map(|i| match i {
                        Node::Mapping(p) => p.iter().filter(|p| p.key == *id).count(),
                        _ => 0,
                    })
                    .sum::<usize>()
                    == items.len()
            });
            match identifier {
                Some(id) => items
                    .iter()
                    .flat_map(|i| match i {
                        Node::Mapping(p) => p.iter().collect::<Vec<_>>(),
                        _ => Vec::new(),
                    })
                    .filter(|p| p.key != id)
                    .filter_map(|p| max_depth(&p.value, depth + 2))
                    .max(),
                None => items.iter().filter_map(|i| max_depth(i, depth + 1)).max(),
            }
        }
    }
}

/// gonvenience/neat's YAML (`neatYAMLofNode`), without indent lines or a document marker:
/// lists not indented under their key, strings quoted (Go `%q`) only where they would read
/// as another type, multi-line strings as `|` blocks, keys bold.
pub(super) struct Neat<'a> {
    pub(super) paint: &'a Paint,
    pub(super) schema: Option<&'a Schema>,
}

impl Neat<'_> {
    pub(super) fn colorize(&self, pick: fn(&Schema) -> Rgb, text: &str) -> String {
        match self.schema {
            Some(schema) => self
                .paint
                .style(text, Some(pick(schema)), false, false, false),
            None => text.to_string(),
        }
    }

    pub(super) fn indent(&self) -> String {
        self.colorize(|s| s.indent, "  ")
    }

    pub(super) fn node(
        &self,
        node: &Node,
        prefix: &str,
        skip_first_indent: bool,
        out: &mut String,
    ) {
        match node {
            Node::Document(inner) => self.node(inner, prefix, false, out),
            Node::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 || !skip_first_indent {
                        out.push_str(prefix);
                    }
                    out.push_str(&self.colorize(|s| s.key, "-"));
                    out.push(' ');
                    self.node(item, &format!("{prefix}{}", self.indent()), true, out);
                }
            }
            Node::Mapping(pairs) => {
                for (i, pair) in pairs.iter().enumerate() {
                    if i > 0 || !skip_first_indent {
                        out.push_str(prefix);
                    }
                    if let Some(comment) = &pair.comment {
                        out.push_str(comment);
                        out.push('\n');
                    }
                    let key = self.colorize(|s| s.key, &format!("{}:", pair.key));
                    out.push_str(&self.paint.style(&key, None, true, false, false));
                    match &pair.value {
                        Node::Mapping(p) if p.is_empty() => {
                            out.push(' ');
                            out.push_str(&self.colorize(|s| s.empty, "{}"));
                            out.push('\n');
                        }
                        Node::Sequence(l) if l.is_empty() => {
                            out.push(' ');
                            out.push_str(&self.colorize(|s| s.empty, "[]"));
                            out.push('\n');
                        }
                        Node::Mapping(_) => {
                            out.push('\n');
                            self.node(
                                &pair.value,
                                &format!("{prefix}{}", self.indent()),
                                false,
                                out,
                            );
                        }
                        Node::Sequence(_) => {
                            out.push('\n');
                            self.node(&pair.value, prefix, false, out);
                        }
                        value => {
                            out.push(' ');
                            self.node(value, &format!("{prefix}{}", self.indent()), false, out);
                        }
                    }
                }
            }
            Node::Scalar { tag, value } => {
                // dyff's schemas colour every scalar type alike, except null; binary values
                // have no colour in them.
                let pick: fn(&Schema) -> Rgb = match *tag {
                    NULL => |s| s.null,
                    _ => |s| s.scalar,
                };
                let lines: Vec<&str> = value.split('\n').collect();
                if lines.len() == 1 {
                    let text = if needs_quotes(tag, value) {
                        gofmt::quote(value)
                    } else {
                        value.clone()
                    };
                    if *tag == "!!binary" {
                        out.push_str(&text);
                    } else {
                        out.push_str(&self.colorize(pick, &text));
                    }
                } else {
                    out.push_str(&self.colorize(|s| s.multi_line, "|"));
                    out.push('\n');
                    for (i, line) in lines.iter().enumerate() {
                        out.push_str(prefix);
                        out.push_str(&self.colorize(|s| s.multi_line, line));
                        if i != lines.len() - 1 {
                            out.push('\n');
                        }
                    }
                }
                out.push('\n');
            }
        }
    }
}

/// neat's `needsQuotes`.
pub(super) fn needs_quotes(tag: &str, value: &str) -> bool {
    if tag != STR {
        return false;
    }
    let reserved = ["true", "false", "null", ".nan", ".inf", "-.inf", "+.inf"];
    let number_like = {
        let body = value.strip_prefix(['-', '+']).unwrap_or(value);
        !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+'))
    };
    reserved.contains(&value)
        || value.starts_with('-')
        || number_like
        || value.contains([' ', '*', '&', ':', ','])
}

/// dyff's `yamlString`: `<nil>` for nothing or null, else neat's YAML (bold keys, no
/// colours).
pub(super) fn yaml_string(node: Option<&Node>, paint: &Paint) -> String {
    match node {
        None => "<nil>".into(),
        Some(n) if n.is_null() => "<nil>".into(),
        Some(n) => {
            let mut out = String::new();
            Neat {
                paint,
                schema: None,
            }
            .node(n, "", false, &mut out);
            out
        }
    }
}

/// neat's YAML in one of dyff's schemas, for added and removed parts.
pub(super) fn yaml_in_colors(node: &Node, paint: &Paint, schema: &Schema) -> String {
    let mut out = String::new();
    Neat {
        paint,
        schema: Some(schema),
    }
    .node(node, "", false, &mut out);
    out
}

/// dyff's `createStringWithPrefix`: the prefix on the first line, the others indented as far.
pub(super) fn with_prefix(prefix: &str, text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i == 0 {
            out.push_str(prefix);
        } else {
            out.push_str(&" ".repeat(plain_length(prefix)));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// dyff's `createStringWithContinuousPrefix`: the prefix on every line.
pub(super) fn with_continuous_prefix(prefix: &str, text: &str) -> String {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n').map(|l| format!("{prefix}{l}\n")).collect()
}

/// The report writer: helm-diff's `HumanReport` settings (no banner, indent 0, minor change
/// threshold 0.1, no context lines in multi-line text, table style allowed).
pub(super) struct Writer<'a> {
    pub(super) paint: Paint,
    pub(super) width: usize,
    pub(super) streams: &'a Streams,
}

impl Writer<'_> {
    /// dyff's `writeTextBlocks`: blocks side by side when they fit the width, else one
    /// after the other.
    pub(super) fn text_blocks(&self, out: &mut String, indent: usize, blocks: &[String]) {
        const SEPARATOR: &str = "   ";
        let widest = |b: &String| b.split('\n').map(plain_length).max().unwrap_or(0);
        let total = indent
            + blocks.len().saturating_sub(1) * SEPARATOR.len()
            + blocks.iter().map(widest).sum::<usize>();
        if total > self.width {
            for block in blocks {
                for line in block.split('\n') {
                    out.push_str(&" ".repeat(indent));
                    out.push_str(line);
                    out.push('\n');
                }
            }
        } else {
            out.push_str(&table(SEPARATOR, indent, blocks));
        }
    }

    pub(super) fn path(&self, path: Option<&Path>, show_root: bool) -> String {
        let Some(path) = path else {
            return self.paint.bold("(file level)");
        };
        let mut text = if path.elements.is_empty() {
            self.paint.bold("(root level)")
        } else {
            path.elements
                .iter()
                .map(|e| match e {
                    Element::Key(k) | Element::Named(k) => self.paint.bold(k),
                    Element::Index(i) => self.paint.bold(&i.to_string()),
                })
                .collect::<Vec<_>>()
                .join(".")
        };
        if show_root {
            let names = match path.side {
                Side::From => &self.streams.from_names,
                Side::To => &self.streams.to_names,
            };
            let root = names
                .get(path.document)
                .cloned()
                .unwrap_or_else(|| format!("document #{}", path.document + 1));
            text.push_str("  ");
            // bunt's `LightSteelBlue{...}` markup: no line splitting, the same for one line.
            text.push_str(&self.paint.color(LIGHT_STEEL_BLUE, &format!("({root})")));
        }
        text
    }

    pub(super) fn difference(&self, out: &mut String, d: &Difference, show_root: bool) {
        out.push('\n');
        out.push_str(&self.path(d.path.as_ref(), show_root));
        out.push('\n');
        let blocks: Vec<String> = d.details.iter().map(|detail| self.detail(detail)).collect();
        self.text_blocks(out, 0, &blocks);
    }

    pub(super) fn detail(&self, d: &Detail) -> String {
        let p = &self.paint;
        let mut out = String::new();
        match d.kind {
            DetailKind::Addition | DetailKind::Removal => {
                let (node, verb, mark, color) = if d.kind == DetailKind::Addition {
                    (d.to.as_ref(), "added", '+', &GREENISH)
                } else {
                    (d.from.as_ref(), "removed", '-', &REDDISH)
                };
                let Some(node) = node else { return out };
                let what = match node {
                    Node::Document(_) => plural(1, "document", "documents"),
                    Node::Sequence(items) => plural(items.len(), "list entry", "list entries"),
                    Node::Mapping(pairs) => plural(pairs.len(), "map entry", "map entries"),
                    Node::Scalar { .. } => String::new(),
                };
                out.push_str(&p.color(YELLOW, &format!("{mark} {what} {verb}:")));
                out.push('\n');
                let mut node = node.clone();
                restructure(&mut node);
                let yaml = yaml_in_colors(&node, p, color);
                self.text_blocks(&mut out, 0, &[yaml]);
            }
            DetailKind::Modification => self.modification(&mut out, d.from.as_ref(), d.to.as_ref()),
            DetailKind::OrderChange => {
                out.push_str(&p.color(YELLOW, "⇆ order changed"));
                out.push('\n');
                let names = |n: Option<&Node>| -> Vec<String> {
                    match n {
                        Some(Node::Sequence(items)) => items
                            .iter()
                            .map(|i| match i.value() {
                                "" => yaml_string(Some(i), p),
                                v => v.to_string(),
                            })
                            .collect(),
                        _ => Vec::new(),
                    }
                };
                let (from, to) = (names(d.from.as_ref()), names(d.to.as_ref()));
                let one_line = |l: &[String]| {
                    l.iter().map(|s| plain_length(s)).sum::<usize>() + l.len().saturating_sub(1) * 2
                };
                if one_line(&from).max(one_line(&to)) < self.width / 2 {
                    out.push_str(&p.color(RED, &format!("- {}", from.join(", "))));
                    out.push('\n');
                    out.push_str(&p.color(GREEN, &format!("+ {}", to.join(", "))));
                    out.push('\n');
                } else {
                    out.push_str(&table(
                        " ",
                        2,
                        &[
                            p.color(RED, &from.join("\n")),
                            p.color(GREEN, &to.join("\n")),
                        ],
                    ));
                }
            }
        }
        out
    }

    pub(super) fn modification(&self, out: &mut String, from: Option<&Node>, to: Option<&Node>) {
        let p = &self.paint;
        let type_of = |n: Option<&Node>| n.map(Node::type_name).unwrap_or("<nil>");
        let (from_type, to_type) = (type_of(from), type_of(to));
        if let (
            Some(Node::Scalar { value: f, .. }),
            Some(Node::Scalar { value: t, .. }),
            "string",
            "string",
        ) = (from, to, from_type, to_type)
        {
            self.string_change(out, f, t);
            return;
        }
        let header = if from_type != to_type {
            format!(
                "± type change from {} to {}",
                p.italic(from_type),
                p.italic(to_type)
            )
        } else {
            "± value change".to_string()
        };
        out.push_str(&p.color(YELLOW, &header));
        out.push('\n');
        let f = yaml_string(from, p);
        let t = yaml_string(to, p);
        out.push_str(&p.color(RED, &with_prefix("- ", f.trim_end_matches('\n'))));
        out.push_str(&p.color(GREEN, &with_prefix("+ ", t.trim_end_matches('\n'))));
    }

    /// dyff's `writeStringDiff`.
    pub(super) fn string_change(&self, out: &mut String, from: &str, to: &str) {
        let p = &self.paint;
        if let (Some(from_cert), Some(to_cert)) =
            (certificate_summary(from), certificate_summary(to))
        {
            out.push_str(&p.color(YELLOW, "± certificate change"));
            out.push('\n');
            self.lines_side_by_side(out, &from_cert, &to_cert);
        } else if whitespace_only_change(from, to) {
            out.push_str(&p.color(YELLOW, "± whitespace only change"));
            out.push('\n');
            let show = |s: &str| s.replace('\n', &p.bold("↵\n")).replace(' ', &p.bold("·"));
            self.text_blocks(
                out,
                0,
                &[
                    p.color(RED, &with_prefix("- ", &show(from))),
                    p.color(GREEN, &with_prefix("+ ", &show(to))),
                ],
            );
        } else if from.contains('\n') || to.contains('\n') {
            let chunks = line_chunks(from, to);
            let (mut inserts, mut deletions) = (0, 0);
            let mut body = String::new();
            for (delta, text) in &chunks {
                match delta {
                    Delta::Added => {
                        body.push_str(&p.color(GREEN, &with_continuous_prefix("+ ", text)));
                        inserts += 1;
                    }
                    Delta::Removed => {
                        body.push_str(&p.color(RED, &with_continuous_prefix("- ", text)));
                        deletions += 1;
                    }
                    Delta::Common => {}
                }
            }
            out.push_str(&p.color(
                YELLOW,
                &format!(
                    "± value change in multiline text ({}, {})",
                    plural(inserts, "insert", "inserts"),
                    plural(deletions, "deletion", "deletions")
                ),
            ));
            out.push('\n');
            out.push_str(&body);
            out.push('\n');
        } else if p.on && is_minor_change(from, to) {
            // `highlightRemovals` and `highlightAdditions`: the changed characters bold.
            // Without colour this prints as any other value change, so it is only worked out
            // with colour.
            out.push_str(&p.color(YELLOW, "± value change"));
            out.push('\n');
            let parts = char_chunks(from, to);
            for (mark, color, light, shown) in [
                ("- ", RED, LIGHT_SALMON, Delta::Removed),
                ("+ ", GREEN, LIGHT_GREEN, Delta::Added),
            ] {
                out.push_str(&p.color(color, mark));
                for (delta, text) in &parts {
                    if *delta == Delta::Common {
                        out.push_str(&p.color(light, text));
                    } else if *delta == shown {
                        out.push_str(&p.bold(&p.color(color, text)));
                    }
                }
                out.push('\n');
            }
        } else {
            out.push_str(&p.color(YELLOW, "± value change"));
            out.push('\n');
            out.push_str(&p.color(RED, &with_prefix("- ", from)));
            out.push_str(&p.color(GREEN, &with_prefix("+ ", to)));
        }
    }
}

impl Writer<'_> {
    /// dyff's `highlightByLine`: two texts of as many lines in two columns (changed lines in
    /// the strong colour); otherwise one after the other.
    pub(super) fn lines_side_by_side(&self, out: &mut String, from: &str, to: &str) {
        let p = &self.paint;
        let (from_lines, to_lines): (Vec<&str>, Vec<&str>) =
            (from.split('\n').collect(), to.split('\n').collect());
        if from_lines.len() != to_lines.len() {
            self.text_blocks(
                out,
                0,
                &[
                    p.color(RED, &with_prefix("- ", from)),
                    p.color(GREEN, &with_prefix("+ ", to)),
                ],
            );
            return;
        }
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for (f, t) in from_lines.iter().zip(&to_lines) {
            let (fc, tc) = if f != t {
                (RED, GREEN)
            } else {
                (LIGHT_SALMON, LIGHT_GREEN)
            };
            left.push(p.color(fc, f));
            right.push(p.color(tc, t));
        }
        self.text_blocks(
            out,
            0,
            &[
                with_prefix(&p.color(RED, "- "), &left.join("\n")),
                with_prefix(&p.color(GREEN, "+ "), &right.join("\n")),
            ],
        );
    }
}

/// dyff's `LoadX509Certs` and `certificateSummaryAsYAML`: the first PEM block of a text read
/// as an X.509 certificate (whatever the block's type, as Go's `pem.Decode` and
/// `x509.ParseCertificate` take it), summarised as subject, validity, issuer and serial.
pub(super) fn certificate_summary(text: &str) -> Option<String> {
    use base64::Engine as _;
    use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let (kind, rest) = rest.split_once("-----")?;
    let end = rest.find(&format!("-----END {kind}-----"))?;
    let body: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let (_, cert) = X509Certificate::from_der(&der).ok()?;
    let values = |name: &X509Name, oid: &x509_parser::der_parser::oid::Oid| -> Vec<String> {
        name.iter_attributes()
            .filter(|a| a.attr_type() == oid)
            .filter_map(|a| a.as_str().ok().map(str::to_string))
            .collect()
    };
    use x509_parser::oid_registry as oids;
    let (subject, issuer) = (cert.subject(), cert.issuer());
    // Go's pkix.Name keeps the last common name and every value of the other attributes.
    let last = |v: Vec<String>| v.last().cloned().unwrap_or_default();
    let joined = |v: Vec<String>| v.join(" ");
    let time = |t: &x509_parser::time::ASN1Time| {
        let t = t.to_datetime();
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{} {} {:02}:{:02}:{:02} {} UTC",
            MONTHS[t.month() as usize - 1],
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.year()
        )
    };
    let serial = &cert.tbs_certificate.serial;
    Some(format!(
        "Subject:\n  Common Name: {}\n  Organization: {}\n  Organization Unit: {}\n  Locality: {}\n  State: {}\n  Country: {}\nValidity Period:\n  NotBefore: {}\n  NotAfter: {}\nIssuer: {}, {}\nSerial Number: {} (0x{})\n",
        last(values(subject, &oids::OID_X509_COMMON_NAME)),
        joined(values(subject, &oids::OID_X509_ORGANIZATION_NAME)),
        joined(values(subject, &oids::OID_X509_ORGANIZATIONAL_UNIT)),
        joined(values(subject, &oids::OID_X509_LOCALITY_NAME)),
        joined(values(subject, &oids::OID_X509_STATE_OR_PROVINCE_NAME)),
        joined(values(subject, &oids::OID_X509_COUNTRY_NAME)),
        time(&cert.validity().not_before),
        time(&cert.validity().not_after),
        last(values(issuer, &oids::OID_X509_COMMON_NAME)),
        joined(values(issuer, &oids::OID_X509_ORGANIZATION_NAME)),
        serial.to_str_radix(10),
        serial.to_str_radix(16),
    ))
}

/// dyff's `isMinorChange`: a Levenshtein distance (a substitution costing two) of at most
/// four, or under a tenth of the shorter text's length in bytes.
pub(super) fn is_minor_change(from: &str, to: &str) -> bool {
    let parts = char_chunks(from, to);
    let distance: usize = parts
        .iter()
        .filter(|(d, _)| *d != Delta::Common)
        .map(|(_, t)| t.chars().count())
        .sum();
    if distance <= 4 {
        return true;
    }
    let reference = from.len().min(to.len());
    reference > 0 && (distance as f64) / (reference as f64) < 0.1
}

/// A character diff grouped as diff-match-patch groups it (see [`line_chunks`]).
pub(super) fn char_chunks(from: &str, to: &str) -> Vec<(Delta, String)> {
    let chars = |s: &str| -> Vec<String> { s.chars().map(String::from).collect() };
    let (a, b) = (chars(from), chars(to));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    group(&a, &b)
}

/// A line diff of two texts as diff-match-patch's line mode groups it: between two runs of
/// equal lines, one deletion then one insertion (lines keep their line ends).
pub(super) fn line_chunks(from: &str, to: &str) -> Vec<(Delta, String)> {
    let a: Vec<&str> = from.split_inclusive('\n').collect();
    let b: Vec<&str> = to.split_inclusive('\n').collect();
    group(&a, &b)
}

/// The diff of two token lists, runs merged: between equal runs, the removed tokens, then
/// the added ones.
pub(super) fn group(a: &[&str], b: &[&str]) -> Vec<(Delta, String)> {
    let mut chunks: Vec<(Delta, String)> = Vec::new();
    let (mut removed, mut added) = (String::new(), String::new());
    let flush = |chunks: &mut Vec<(Delta, String)>, removed: &mut String, added: &mut String| {
        if !removed.is_empty() {
            chunks.push((Delta::Removed, std::mem::take(removed)));
        }
        if !added.is_empty() {
            chunks.push((Delta::Added, std::mem::take(added)));
        }
    };
    for line in lines::diff_lines(a, b) {
        match line.delta {
            Delta::Removed => removed.push_str(&line.text),
            Delta::Added => added.push_str(&line.text),
            Delta::Common => {
                flush(&mut chunks, &mut removed, &mut added);
                match chunks.last_mut() {
                    Some((Delta::Common, text)) => text.push_str(&line.text),
                    _ => chunks.push((Delta::Common, line.text.clone())),
                }
            }
        }
    }
    flush(&mut chunks, &mut removed, &mut added);
    chunks
}

/// dyff's `CreateTableStyleString`: columns side by side, padded to their widest line,
/// trailing spaces trimmed, no newline after the last row.
pub(super) fn table(separator: &str, indent: usize, columns: &[String]) -> String {
    let split: Vec<Vec<&str>> = columns.iter().map(|c| c.split('\n').collect()).collect();
    let rows = split.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = split
        .iter()
        .map(|lines| lines.iter().map(|l| plain_length(l)).max().unwrap_or(0))
        .collect();
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let cells: Vec<String> = split
            .iter()
            .zip(&widths)
            .map(|(lines, w)| match lines.get(r) {
                Some(line) => format!(
                    "{}{line}{}",
                    " ".repeat(indent),
                    " ".repeat(w - plain_length(line))
                ),
                None => " ".repeat(w + indent),
            })
            .collect();
        out.push(cells.join(separator).trim_end_matches(' ').to_string());
    }
    out.join("\n")
}
