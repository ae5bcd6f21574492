//! Turning Go `text/template` error strings into the messages Helm v4 prints.
//!
//! Helm post-processes template errors (pkg/engine/engine.go): parse errors become
//! `parse error at (FILE:LINE): LAST-PART`; `required`/`fail` messages (wrapped in
//! `HELM_ERR_START…HELM_ERR_END` on their way through Go) become `execution error at
//! (FILE:LINE:COL): MESSAGE`; other execution errors are re-laid out as a multi-line trace,
//! one block per template in the chain of wrapped errors, but only when every error in that
//! chain is itself a template error; otherwise Go's one-line message is kept.

use std::sync::OnceLock;

use regex::Regex;

pub(crate) const WARN_START: &str = "HELM_ERR_START";
pub(crate) const WARN_END: &str = "HELM_ERR_END";

/// What `required` and `fail` return as their error, so the message can be found again.
pub(crate) fn warn_wrap(msg: &str) -> String {
    format!("{WARN_START}{msg}{WARN_END}")
}

/// Helm's `cleanupParseError`.
pub fn cleanup_parse_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {err}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

#[derive(Debug, PartialEq, Eq)]
struct Traceable {
    location: String,
    message: String,
    executed_function: String,
}

impl Traceable {
    fn write(&self, out: &mut String) {
        if !self.location.is_empty() {
            out.push_str(&self.location);
            out.push_str("\n  ");
        }
        if !self.executed_function.is_empty() {
            out.push_str(&self.executed_function);
            out.push_str("\n    ");
        }
        if !self.message.is_empty() {
            out.push_str(&self.message);
            out.push('\n');
        }
    }
}

fn cut_chained(msg: &str) -> &str {
    match msg.find(" template:") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

/// Helm's `parseTemplateExecErrorString`.
fn parse_exec_error(s: &str) -> Option<Traceable> {
    let remainder = s.strip_prefix("template: ")?;
    if remainder.starts_with("no template ") {
        return Some(Traceable {
            location: String::new(),
            message: s.to_string(),
            executed_function: String::new(),
        });
    }
    if let Some((name, after)) = remainder.split_once(": executing ") {
        if let Some(t) = parse_executing(name, after) {
            return Some(t);
        }
    }
    let sep = remainder.rfind(": ")?;
    Some(Traceable {
        location: remainder[..sep].to_string(),
        message: cut_chained(&remainder[sep + 2..]).to_string(),
        executed_function: String::new(),
    })
}

fn parse_executing(name: &str, after: &str) -> Option<Traceable> {
    let quoted = after.strip_prefix('"')?;
    let end = quoted.find('"')?;
    let function = &quoted[..end];
    let after_at = quoted[end + 1..].strip_prefix(" at <")?;
    let (location, message) = after_at.split_once(">: ")?;
    Some(Traceable {
        location: name.to_string(),
        message: cut_chained(message).to_string(),
        executed_function: format!("executing \"{function}\" at <{location}>:"),
    })
}

/// The error a Go error string wraps (`error calling NAME: %w`), if any.
fn unwrap_once(s: &str) -> Option<&str> {
    let remainder = s.strip_prefix("template: ")?;
    let (_, after) = remainder.split_once(": executing ")?;
    let (_, message) = after.split_once(">: ")?;
    let rest = message.strip_prefix("error calling ")?;
    let (_, inner) = rest.split_once(": ")?;
    Some(inner)
}

fn warn_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"HELM_ERR_START((?s).*)HELM_ERR_END").expect("valid regex"))
}

/// Helm's `reformatExecErrorMsg` for an execution error of template `filename`.
pub fn reformat_exec_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {err}");
    }
    if let Some(caps) = warn_regex().captures(tokens[2]) {
        return format!("execution error at ({}): {}", tokens[1], &caps[1]);
    }
    let mut chain: Vec<Traceable> = Vec::new();
    let mut current = Some(err);
    while let Some(text) = current {
        let Some(t) = parse_exec_error(text) else {
            return err.to_string();
        };
        if chain.last() != Some(&t) {
            chain.push(t);
        }
        current = unwrap_once(text);
    }
    let mut out = String::new();
    for t in &chain {
        t.write(&mut out);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings below are what Helm v4.2.3 (helm-python-sdk) reported for the same
    // templates; the inputs are the Go errors behind them.

    #[test]
    fn nested_include_error_becomes_a_trace() {
        let go = "template: c/templates/t.yaml:1:3: executing \"c/templates/t.yaml\" at <include \"y\" .>: error calling include: template: c/templates/_h.tpl:1:76: executing \"y\" at <upper>: invalid value; expected string";
        assert_eq!(
            reformat_exec_error("c/templates/t.yaml", go),
            "c/templates/t.yaml:1:3\n  executing \"c/templates/t.yaml\" at <include \"y\" .>:\n    error calling include:\nc/templates/_h.tpl:1:76\n  executing \"y\" at <upper>:\n    invalid value; expected string"
        );
    }

    #[test]
    fn plain_function_errors_keep_go_text() {
        let go = "template: c/templates/t.yaml:1:3: executing \"c/templates/t.yaml\" at <mustFromJson \"{\">: error calling mustFromJson: unexpected end of JSON input";
        assert_eq!(reformat_exec_error("c/templates/t.yaml", go), go);
    }

    #[test]
    fn fail_and_required_name_the_outer_location() {
        let go = format!("template: c/templates/t.yaml:1:3: executing \"c/templates/t.yaml\" at <include \"x\" .>: error calling include: template: c/templates/_h.tpl:1:17: executing \"x\" at <fail \"boom\">: error calling fail: {}", warn_wrap("boom"));
        assert_eq!(
            reformat_exec_error("c/templates/t.yaml", &go),
            "execution error at (c/templates/t.yaml:1:3): boom"
        );
    }

    #[test]
    fn undefined_template() {
        let go = "template: c/templates/t.yaml:1:12: executing \"c/templates/t.yaml\" at <{{template \"zz\" .}}>: template \"zz\" not defined";
        assert_eq!(
            reformat_exec_error("c/templates/t.yaml", go),
            "c/templates/t.yaml:1:12\n  executing \"c/templates/t.yaml\" at <{{template \"zz\" .}}>:\n    template \"zz\" not defined"
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            cleanup_parse_error(
                "c/templates/t.yaml",
                "template: c/templates/t.yaml:1: function \"nope\" not defined"
            ),
            "parse error at (c/templates/t.yaml:1): function \"nope\" not defined"
        );
    }
}
