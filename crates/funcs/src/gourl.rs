//! Go's `net/url` as Sprig's `urlParse` and `urlJoin` use it: `url.Parse` (percent-decoded
//! path and fragment, opaque URLs, authority and host checks, Go's error texts) and
//! `URL.String` (Go's per-component escaping). Hand-written: the `url` crate follows the
//! WHATWG standard, which normalises and escapes differently.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    Fragment,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match mode {
                Mode::Path => c == b'?',
                Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Mode::Fragment => false,
                Mode::Host => true,
            }
        }
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if should_escape(b, mode) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Go's `*url.Error` from `url.Parse`: the URL and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("parse {}: {source}", rudder_value::gofmt::quote(.url))]
pub(crate) struct UrlError {
    url: String,
    source: UrlProblem,
}

/// What `url.Parse` found wrong, in Go's words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UrlProblem {
    #[error("invalid URL escape {}", rudder_value::gofmt::quote(.0))]
    InvalidEscape(String),
    #[error("missing ']' in host")]
    MissingBracket,
    #[error("invalid port {} after host", rudder_value::gofmt::quote(.0))]
    InvalidPort(String),
    #[error("net/url: invalid control character in URL")]
    ControlCharacter,
    #[error("missing protocol scheme")]
    MissingScheme,
    #[error("first path segment in URL cannot contain colon")]
    ColonInFirstSegment,
    #[error("net/url: invalid userinfo")]
    InvalidUserinfo,
}

fn unescape(s: &str) -> Result<String, UrlProblem> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
            match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    let end = (i + 3).min(b.len());
                    return Err(UrlProblem::InvalidEscape(
                        String::from_utf8_lossy(&b[i..end]).into_owned(),
                    ));
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A parsed URL, with the fields Sprig reads.
#[derive(Default)]
pub(crate) struct Url {
    pub scheme: String,
    pub opaque: String,
    /// (username, password) as decoded.
    pub user: Option<(String, Option<String>)>,
    pub host: String,
    pub path: String,
    pub raw_query: String,
    pub fragment: String,
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty() || (port.starts_with(':') && port[1..].bytes().all(|c| c.is_ascii_digit()))
}

fn parse_host(host: &str) -> Result<String, UrlProblem> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err(UrlProblem::MissingBracket);
        };
        let port = &host[i + 1..];
        if !valid_optional_port(port) {
            return Err(UrlProblem::InvalidPort(port.to_string()));
        }
    } else if let Some(i) = host.rfind(':') {
        let port = &host[i..];
        if !valid_optional_port(port) {
            return Err(UrlProblem::InvalidPort(port.to_string()));
        }
    }
    unescape(host)
}

fn parse_no_fragment(raw: &str, u: &mut Url) -> Result<(), UrlProblem> {
    if raw.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return Err(UrlProblem::ControlCharacter);
    }
    if raw == "*" {
        u.path = "*".into();
        return Ok(());
    }
    let mut rest = raw;
    for (i, c) in raw.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || c == b'+' || c == b'-' || c == b'.' {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == b':' {
            if i == 0 {
                return Err(UrlProblem::MissingScheme);
            }
            u.scheme = raw[..i].to_ascii_lowercase();
            rest = &raw[i + 1..];
        }
        break;
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        u.raw_query = q.to_string();
        rest = r;
    }
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            u.opaque = rest.to_string();
            return Ok(());
        }
        let seg = rest.split('/').next().unwrap_or("");
        if seg.contains(':') {
            return Err(UrlProblem::ColonInFirstSegment);
        }
    }
    if (!u.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let mut authority = &rest[2..];
        rest = "";
        if let Some(i) = authority.find('/') {
            rest = &authority[i..];
            authority = &authority[..i];
        }
        match authority.rfind('@') {
            None => u.host = parse_host(authority)?,
            Some(i) => {
                u.host = parse_host(&authority[i + 1..])?;
                let info = &authority[..i];
                let valid = info.bytes().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(
                            c,
                            b'-' | b'.'
                                | b'_'
                                | b':'
                                | b'~'
                                | b'!'
                                | b'$'
                                | b'&'
                                | b'\''
                                | b'('
                                | b')'
                                | b'*'
                                | b'+'
                                | b','
                                | b';'
                                | b'='
                                | b'%'
                                | b'@'
                        )
                        || c >= 0x80
                });
                if !valid {
                    return Err(UrlProblem::InvalidUserinfo);
                }
                u.user = Some(match info.split_once(':') {
                    None => (unescape(info)?, None),
                    Some((n, p)) => (unescape(n)?, Some(unescape(p)?)),
                });
            }
        }
    }
    u.path = unescape(rest)?;
    Ok(())
}

/// `url.Parse`; the error is Go's `*url.Error` text (`parse "URL": reason`).
pub(crate) fn parse(raw: &str) -> Result<Url, UrlError> {
    let mut u = Url::default();
    let wrap = |source| UrlError {
        url: raw.to_string(),
        source,
    };
    let (rest, frag) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    parse_no_fragment(rest, &mut u).map_err(wrap)?;
    if let Some(f) = frag {
        u.fragment = unescape(f).map_err(wrap)?;
    }
    Ok(u)
}

impl Url {
    /// `Userinfo.String()`.
    pub(crate) fn userinfo(&self) -> String {
        match &self.user {
            None => String::new(),
            Some((n, p)) => {
                let mut s = escape(n, Mode::UserPassword);
                if let Some(p) = p {
                    s.push(':');
                    s.push_str(&escape(p, Mode::UserPassword));
                }
                s
            }
        }
    }

    /// `URL.Hostname()`.
    pub(crate) fn hostname(&self) -> String {
        let h = &self.host;
        let host = match h.rfind(':') {
            Some(i) if valid_optional_port(&h[i..]) => &h[..i],
            _ => h.as_str(),
        };
        host.strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(host)
            .to_string()
    }

    /// `URL.String()`.
    pub(crate) fn to_go_string(&self) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.push_str("//");
                }
                if self.user.is_some() {
                    out.push_str(&self.userinfo());
                    out.push('@');
                }
                out.push_str(&escape(&self.host, Mode::Host));
            }
            let path = if self.path == "*" {
                "*".to_string()
            } else {
                escape(&self.path, Mode::Path)
            };
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                out.push('/');
            }
            if out.is_empty() && path.split('/').next().unwrap_or("").contains(':') {
                out.push_str("./");
            }
            out.push_str(&path);
        }
        if !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            out.push('#');
            out.push_str(&escape(&self.fragment, Mode::Fragment));
        }
        out
    }
}
