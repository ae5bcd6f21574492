//! Kubernetes label selectors (`k8s.io/apimachinery/pkg/labels.Parse`), which `list
//! --selector` matches against each release's labels: `key=value`, `key==value`,
//! `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` and `!key`, joined by commas.
//!
//! Our own, small parser: no Rust crate reads this grammar, and Helm only needs matching.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed selector: every requirement must hold. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selector(Vec<Requirement>);

/// A selector that does not parse: what is wrong, and the whole selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {reason} in selector {selector:?}")]
pub struct SelectorError {
    pub reason: &'static str,
    pub selector: String,
}

fn bad(text: &str, reason: &'static str) -> SelectorError {
    SelectorError {
        reason,
        selector: text.to_string(),
    }
}

/// Splits at commas that are not inside parentheses.
fn split_requirements(text: &str) -> Result<Vec<&str>, SelectorError> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| bad(text, "unbalanced ')'"))?
            }
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(bad(text, "unbalanced '('"));
    }
    parts.push(&text[start..]);
    Ok(parts)
}

fn is_label_text(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn values_in_parentheses(text: &str, whole: &str) -> Result<Vec<String>, SelectorError> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| bad(whole, "expected a parenthesised list of values"))?;
    let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(|v| !v.is_empty() && !is_label_text(v)) {
        return Err(bad(whole, "invalid value"));
    }
    Ok(values)
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let mut requirements = Vec::new();
        if text.trim().is_empty() {
            return Ok(Selector(requirements));
        }
        for part in split_requirements(text)? {
            let part = part.trim();
            if part.is_empty() {
                return Err(bad(text, "found ',', expected: identifier"));
            }
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement::DoesNotExist(key.trim().to_string())
            } else if let Some((key, value)) = part.split_once("!=") {
                Requirement::NotEquals(key.trim().into(), value.trim().into())
            } else if let Some((key, value)) = part.split_once("==") {
                Requirement::Equals(key.trim().into(), value.trim().into())
            } else if let Some((key, value)) = part.split_once('=') {
                Requirement::Equals(key.trim().into(), value.trim().into())
            } else if let Some((key, rest)) = part.split_once(" notin ") {
                Requirement::NotIn(key.trim().into(), values_in_parentheses(rest, text)?)
            } else if let Some((key, rest)) = part.split_once(" in ") {
                Requirement::In(key.trim().into(), values_in_parentheses(rest, text)?)
            } else {
                Requirement::Exists(part.to_string())
            };
            let (key, value) = match &requirement {
                Requirement::Equals(k, v) | Requirement::NotEquals(k, v) => (k, Some(v)),
                Requirement::In(k, _)
                | Requirement::NotIn(k, _)
                | Requirement::Exists(k)
                | Requirement::DoesNotExist(k) => (k, None),
            };
            if !is_label_text(key) {
                return Err(bad(text, "invalid label key"));
            }
            if value.is_some_and(|v| !v.is_empty() && !is_label_text(v)) {
                return Err(bad(text, "invalid label value"));
            }
            requirements.push(requirement);
        }
        Ok(Selector(requirements))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => !labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matches_as_kubernetes_does() {
        let l = labels(&[("team", "search"), ("status", "deployed"), ("tier", "db")]);
        let yes = [
            "",
            "team=search",
            "team==search",
            "team=search,status=deployed",
            "team!=ads",
            "owner!=x",
            "team in (ads, search)",
            "owner notin (x)",
            "team notin (ads)",
            "tier",
            "!owner",
            " team = search , tier ",
        ];
        for s in yes {
            assert!(Selector::parse(s).unwrap().matches(&l), "{s}");
        }
        let no = [
            "team=ads",
            "team!=search",
            "team in (ads)",
            "team notin (search,ads)",
            "owner",
            "!team",
            "team=search,tier=web",
        ];
        for s in no {
            assert!(!Selector::parse(s).unwrap().matches(&l), "{s}");
        }
    }

    #[test]
    fn refuses_malformed_selectors() {
        for s in [
            "team=search,",
            ",",
            "team in (a",
            "te am=x",
            "team=a b",
            "=x",
        ] {
            assert!(Selector::parse(s).is_err(), "{s}");
        }
    }
}
