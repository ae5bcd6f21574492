//! Colours: dyff's palette written as gonvenience/bunt writes styled text.

pub(super) type Rgb = (u8, u8, u8);

// dyff's colours (pkg/dyff/colors.go) and the bunt colours dyff and neat name.
pub(super) const YELLOW: Rgb = (0xC7, 0xC4, 0x3F);
pub(super) const GREEN: Rgb = (0x58, 0xBF, 0x38);
pub(super) const RED: Rgb = (0xB9, 0x31, 0x1B);
pub(super) const LIGHT_STEEL_BLUE: Rgb = (0xB0, 0xC4, 0xDE);
pub(super) const LIGHT_SALMON: Rgb = (0xFF, 0xA0, 0x7A);
pub(super) const LIGHT_GREEN: Rgb = (0x90, 0xEE, 0x90);

/// The text attributes bunt keeps per character.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Attributes {
    pub(super) bold: bool,
    pub(super) italic: bool,
    pub(super) foreground: Option<Rgb>,
}

/// gonvenience/bunt's styling, with true colour on (helm-diff turns it on for dyff when
/// colour is forced): a text is read back into characters with attributes, restyled, and
/// written with an escape sequence wherever the attributes change (with a reset first when
/// bold or italic ends) and a reset at the end. Without colour every text stays plain.
pub(super) struct Paint {
    pub(super) on: bool,
}

impl Paint {
    pub(super) fn style(
        &self,
        text: &str,
        foreground: Option<Rgb>,
        bold: bool,
        italic: bool,
        each_line: bool,
    ) -> String {
        if !self.on {
            return text.to_string();
        }
        let mut chars = read_attributes(text);
        for (c, a) in chars.iter_mut() {
            if each_line && *c == '\n' {
                continue;
            }
            a.bold |= bold;
            a.italic |= italic;
            if foreground.is_some() {
                a.foreground = foreground;
            }
        }
        write_attributes(&chars)
    }

    /// dyff's `colored`: a foreground colour, line by line.
    pub(super) fn color(&self, rgb: Rgb, text: &str) -> String {
        self.style(text, Some(rgb), false, false, true)
    }

    /// dyff's `Bold`, line by line (also bunt's `*text*` markup, used for single lines).
    pub(super) fn bold(&self, text: &str) -> String {
        self.style(text, None, true, false, true)
    }

    pub(super) fn italic(&self, text: &str) -> String {
        self.style(text, None, false, true, true)
    }
}

/// bunt's `ParseString`, for the escape sequences this module writes.
pub(super) fn read_attributes(text: &str) -> Vec<(char, Attributes)> {
    let mut out = Vec::with_capacity(text.len());
    let mut current = Attributes::default();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(seq) = rest.strip_prefix("\x1b[") {
            if let Some(end) = seq.find('m') {
                let params: Vec<u8> = seq[..end]
                    .split(';')
                    .filter_map(|p| p.parse().ok())
                    .collect();
                let mut i = 0;
                while i < params.len() {
                    match params[i] {
                        0 => current = Attributes::default(),
                        1 => current.bold = true,
                        3 => current.italic = true,
                        38 if params.get(i + 1) == Some(&2) && i + 4 < params.len() => {
                            current.foreground =
                                Some((params[i + 2], params[i + 3], params[i + 4]));
                            i += 4;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                rest = &seq[end + 1..];
                continue;
            }
        }
        out.push((c, current));
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// bunt's `String.String`.
pub(super) fn write_attributes(chars: &[(char, Attributes)]) -> String {
    let mut out = String::new();
    let mut current = Attributes::default();
    for (c, a) in chars {
        if *a != current {
            if *a == Attributes::default() {
                out.push_str("\x1b[0m");
            } else {
                let mut params: Vec<String> = Vec::new();
                if (current.bold && !a.bold) || (current.italic && !a.italic) {
                    params.push("0".into());
                }
                if a.bold {
                    params.push("1".into());
                }
                if a.italic {
                    params.push("3".into());
                }
                if let Some((r, g, b)) = a.foreground {
                    params.extend([
                        "38".into(),
                        "2".into(),
                        r.to_string(),
                        g.to_string(),
                        b.to_string(),
                    ]);
                }
                out.push_str(&format!("\x1b[{}m", params.join(";")));
            }
            current = *a;
        }
        out.push(*c);
    }
    if current != Attributes::default() {
        out.push_str("\x1b[0m");
    }
    out
}

/// neat's colour schema: dyff's greenish one for added YAML, its reddish one for removed
/// YAML (colors.go `YAMLInGreenishColors`, `YAMLInRedishColors`); none for values shown in a
/// change, which are then coloured whole.
pub(super) struct Schema {
    pub(super) key: Rgb,
    pub(super) indent: Rgb,
    pub(super) scalar: Rgb,
    pub(super) multi_line: Rgb,
    pub(super) null: Rgb,
    pub(super) empty: Rgb,
}

pub(super) const GREENISH: Schema = Schema {
    key: (0x00, 0x80, 0x00),
    indent: (0, 51, 0),
    scalar: (0x32, 0xCD, 0x32),
    multi_line: (0x6B, 0x8E, 0x23),
    null: (0x80, 0x80, 0x00),
    empty: (0x55, 0x6B, 0x2F),
};

pub(super) const REDDISH: Schema = Schema {
    key: (0xB2, 0x22, 0x22),
    indent: (51, 0, 0),
    scalar: (0xF0, 0x80, 0x80),
    multi_line: (0xE9, 0x96, 0x7A),
    null: (0xFA, 0x80, 0x72),
    empty: (0xFF, 0xA0, 0x7A),
};
