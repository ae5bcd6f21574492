//! `.helmignore` rules (Helm's pkg/ignore): one glob a line, `#` comments, `!` negation (with
//! Helm's quirk: a negated rule ignores everything it does *not* match), a trailing `/` for
//! directories only, a leading `/` anchors at the chart root, a rule without `/` matches the
//! base name only, and `**` is rejected. `templates/.?*` is always added.

use crate::path_match;

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    must_dir: bool,
    /// How the pattern is compared: against the whole path, or only its base name.
    whole_path: bool,
}

/// A `.helmignore` line Helm refuses, with Helm's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("double-star (**) syntax is not supported")]
    DoubleStar,
    #[error("syntax error in pattern")]
    Syntax,
}

/// A parsed `.helmignore`.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// Parses the file's text; errors as Helm's.
    pub fn parse(text: &str) -> Result<Rules, RuleError> {
        let mut rules = Rules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for line in text.lines() {
            rules.add(line)?;
        }
        Ok(rules)
    }

    /// Helm's defaults: hidden files under templates/.
    pub fn with_defaults(mut self) -> Rules {
        self.add("templates/.?*").expect("default rule parses");
        self
    }

    fn add(&mut self, line: &str) -> Result<(), RuleError> {
        let mut rule = line.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(RuleError::DoubleStar);
        }
        if !crate::path_match_valid(rule) {
            return Err(RuleError::Syntax);
        }
        let negate = rule.starts_with('!');
        if negate {
            rule = &rule[1..];
        }
        let must_dir = rule.ends_with('/');
        if must_dir {
            rule = rule.trim_end_matches('/');
        }
        let (pattern, whole_path) = if let Some(r) = rule.strip_prefix('/') {
            (r.to_string(), true)
        } else {
            (rule.to_string(), rule.contains('/'))
        };
        self.rules.push(Rule {
            pattern,
            negate,
            must_dir,
            whole_path,
        });
        Ok(())
    }

    /// Helm's `Ignore`: `path` is relative to the chart root with `/` separators.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for r in &self.rules {
            let target = if r.whole_path {
                path
            } else {
                path.rsplit('/').next().unwrap_or(path)
            };
            let matched = path_match(&r.pattern, target);
            if r.negate {
                if r.must_dir && !is_dir {
                    return true;
                }
                if !matched {
                    return true;
                }
                continue;
            }
            if r.must_dir && !is_dir {
                continue;
            }
            if matched {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_like_helm() {
        let r = Rules::parse("# c\n*.bak\n/ci/\ntemplates/*.txt\n")
            .unwrap()
            .with_defaults();
        assert!(r.ignore("x.bak", false));
        assert!(r.ignore("sub/x.bak", false));
        assert!(r.ignore("ci", true));
        assert!(!r.ignore("ci", false));
        assert!(r.ignore("templates/a.txt", false));
        assert!(r.ignore("templates/.hidden", false));
        assert!(!r.ignore("templates/a.yaml", false));
        assert!(Rules::parse("a/**/b").is_err());
    }
}
