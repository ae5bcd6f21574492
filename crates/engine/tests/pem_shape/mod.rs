//! Compares generated keys and certificates by structure: every PEM block in a rendered
//! output is replaced by a dump of its DER tree in which the random fields are masked, so a
//! golden from Helm and rudder's output compare equal exactly when everything but the
//! randomness matches: tags, nesting, string types, object identifiers, extension order and
//! criticality, key usage bits, names, lengths, validity length in days, PEM line layout.
//!
//! Masked fields, with their lengths kept (fixed by the key type) or left out of every
//! enclosing length (random in Go too): the serial number (length left out, but it must be
//! a positive INTEGER of at most 17 bytes, as Go's 128-bit serials are), validity times
//! (tag and length kept; the validity period is printed rounded to the minute), the subject
//! public key (kept), 20-byte key identifiers (kept), the signature (left out: ECDSA's
//! varies), and in private keys every INTEGER above 8 bytes (left out) and the EC and
//! Ed25519 private key bytes and EC public point (kept).

use base64::Engine as _;

#[derive(Clone, Copy, PartialEq)]
enum Mask {
    None,
    /// Content hidden, length kept.
    Fixed,
    /// Content hidden, length left out of every enclosing length.
    Variable,
}

struct Element<'a> {
    tag: u8,
    content: &'a [u8],
}

fn read(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (
            rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize),
            &rest[n..],
        )
    };
    (rest.len() >= len).then(|| {
        (
            Element {
                tag,
                content: &rest[..len],
            },
            &rest[len..],
        )
    })
}

fn children(mut content: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (e, rest) = read(content)?;
        out.push(e);
        content = rest;
    }
    Some(out)
}

fn header_len(len: usize) -> usize {
    match len {
        0..=0x7f => 2,
        0x80..=0xff => 3,
        0x100..=0xffff => 4,
        _ => 5,
    }
}

struct Walker<'k> {
    kind: &'k str,
    lines: Vec<String>,
}

impl Walker<'_> {
    fn mask(&self, path: &[usize], e: &Element) -> Mask {
        let primitive = e.tag & 0x20 == 0;
        match self.kind {
            "CERTIFICATE" => match path {
                [0, 1] => Mask::Variable,
                [0, 4, _] | [0, 6, 1] => Mask::Fixed,
                [2] => Mask::Variable,
                // Key identifiers: SKI's OCTET STRING, AKI's [0] keyIdentifier.
                [0, 7, 0, _, _, _, ..] if matches!(e.tag, 0x04 | 0x80) && e.content.len() == 20 => {
                    Mask::Fixed
                }
                _ => Mask::None,
            },
            "PRIVATE KEY" if path == [2] => Mask::None,
            _ => {
                if e.tag == 0x02 && e.content.len() > 8 {
                    Mask::Variable
                } else if primitive && matches!(e.tag, 0x03 | 0x04) && e.content.len() >= 32 {
                    Mask::Fixed
                } else {
                    Mask::None
                }
            }
        }
    }

    /// OCTET STRINGs whose content is DER to compare: certificate extension values and
    /// the PKCS#8 private key.
    fn descend_octets(&self, path: &[usize]) -> bool {
        match self.kind {
            "CERTIFICATE" => matches!(path, [0, 7, 0, _, _]),
            "PRIVATE KEY" => path == [2],
            _ => false,
        }
    }

    /// Dumps one element and returns its length with the variable fields left out.
    fn walk(&mut self, path: &mut Vec<usize>, e: &Element) -> usize {
        let indent = "  ".repeat(path.len());
        let mask = self.mask(path, e);
        if self.kind == "CERTIFICATE" && path.as_slice() == [0, 1] {
            let ok = e.tag == 0x02
                && (1..=17).contains(&e.content.len())
                && e.content[0] & 0x80 == 0
                && !(e.content.len() > 1 && e.content[0] == 0 && e.content[1] & 0x80 == 0);
            self.lines
                .push(format!("{indent}{:02x} serial ok={ok}", e.tag));
            return 0;
        }
        match mask {
            Mask::Variable => {
                self.lines.push(format!("{indent}{:02x} *", e.tag));
                return 0;
            }
            Mask::Fixed => {
                let len = e.content.len();
                self.lines
                    .push(format!("{indent}{:02x} len={len} *", e.tag));
                return header_len(len) + len;
            }
            Mask::None => {}
        }
        let constructed = e.tag & 0x20 != 0;
        let nested = if constructed {
            children(e.content)
        } else if e.tag == 0x04 && self.descend_octets(path) {
            children(e.content).filter(|c| !c.is_empty())
        } else {
            None
        };
        match nested {
            Some(kids) => {
                let at = self.lines.len();
                self.lines.push(String::new());
                let mut len = 0;
                for (i, kid) in kids.iter().enumerate() {
                    path.push(i);
                    len += self.walk(path, kid);
                    path.pop();
                }
                self.lines[at] = format!("{indent}{:02x} len={len}", e.tag);
                header_len(len) + len
            }
            None => {
                let hex: String = e.content.iter().map(|b| format!("{b:02x}")).collect();
                self.lines.push(format!(
                    "{indent}{:02x} len={} {hex}",
                    e.tag,
                    e.content.len()
                ));
                header_len(e.content.len()) + e.content.len()
            }
        }
    }
}

/// Seconds between a certificate's notBefore and notAfter, rounded to the minute.
fn validity_minutes(der: &[u8]) -> Option<i64> {
    let (cert, _) = read(der)?;
    let fields = children(cert.content)?;
    let tbs = children(fields.first()?.content)?;
    let validity = children(tbs.get(4)?.content)?;
    let seconds = |e: &Element| -> Option<i64> {
        let text = std::str::from_utf8(e.content).ok()?;
        let text = text.strip_suffix('Z')?;
        let full = match e.tag {
            0x17 => {
                let yy: i32 = text[..2].parse().ok()?;
                format!("{}{text}", if yy < 50 { "20" } else { "19" })
            }
            _ => text.to_string(),
        };
        let t = chrono::NaiveDateTime::parse_from_str(&full, "%Y%m%d%H%M%S").ok()?;
        Some(t.and_utc().timestamp())
    };
    let diff = seconds(validity.get(1)?)? - seconds(validity.first()?)?;
    Some((diff as f64 / 60.0).round() as i64)
}

/// The dump of one PEM block: its type, whether its lines are laid out as Go's
/// `pem.Encode` lays them, its length without the variable fields, and its masked tree.
fn describe(kind: &str, body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let layout_ok = lines
        .iter()
        .enumerate()
        .all(|(i, l)| l.len() == 64 || (i + 1 == lines.len() && !l.is_empty() && l.len() < 64));
    let b64: String = lines.concat();
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return format!("[PEM {kind}: bad base64]");
    };
    let Some((root, rest)) = read(&der) else {
        return format!("[PEM {kind}: bad DER]");
    };
    let mut walker = Walker {
        kind,
        lines: Vec::new(),
    };
    let len = walker.walk(&mut Vec::new(), &root);
    let mut out = format!(
        "[PEM {kind} layout-ok={layout_ok} trailing={} length-without-random-fields={len}\n",
        rest.len()
    );
    if kind == "CERTIFICATE" {
        out.push_str(&format!("validity-minutes={:?}\n", validity_minutes(&der)));
    }
    for l in walker.lines {
        out.push_str(&l);
        out.push('\n');
    }
    out.push(']');
    out
}

/// Replaces every PEM block of `text` by its masked dump.
pub fn mask_pem_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(type_end) = after.find("-----") else {
            break;
        };
        let kind = &after[..type_end];
        let end_marker = format!("-----END {kind}-----");
        let body_start = start + 11 + type_end + 5;
        let Some(body_len) = rest[body_start..].find(&end_marker) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&describe(
            kind,
            rest[body_start..body_start + body_len].trim_matches('\n'),
        ));
        rest = &rest[body_start + body_len + end_marker.len()..];
    }
    out.push_str(rest);
    out
}
