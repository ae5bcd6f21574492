//! Helm's log lines on standard error. The helm CLI logs through Go's `slog` text handler
//! without the time attribute (`level=WARN msg="this chart is deprecated"`), and its plain
//! `log.Printf` calls come out of the same handler at INFO.

use rudder_action::{LogRecord, LogSink};
use rudder_value::gofmt;

/// One record as a line of Helm's text handler, without the newline.
pub fn text_line(record: &LogRecord) -> String {
    let mut line = format!(
        "level={} msg={}",
        record.level.as_str(),
        text_value(&record.message)
    );
    for (key, value) in &record.attrs {
        line.push_str(&format!(" {}={}", text_value(key), text_value(value)));
    }
    line
}

/// A sink that prints each record on standard error as it comes.
pub fn stderr_sink() -> LogSink {
    LogSink::new(|record| eprintln!("{}", text_line(record)))
}

/// The text handler writes a string as it is unless it is empty or holds a space, `=`, a
/// quote, a control character or a character Go does not print; then it quotes it as Go's
/// `strconv.Quote` does.
fn text_value(s: &str) -> String {
    if needs_quoting(s) {
        gofmt::quote(s)
    } else {
        s.to_string()
    }
}

fn needs_quoting(s: &str) -> bool {
    s.is_empty()
        || s.chars().any(|c| {
            if c.is_ascii() {
                c == ' ' || c == '=' || c == '"' || (c as u32) < 0x20
            } else {
                // What strconv.Quote escapes is what Go does not print.
                c == '\u{FFFD}'
                    || c.is_whitespace()
                    || gofmt::quote(c.encode_utf8(&mut [0; 4])).len() != c.len_utf8() + 2
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_as_the_text_handler_does() {
        let record = LogRecord::warn("returned non-bool value")
            .with("path", "sub.enabled")
            .with("error", "\"x\" is not a table");
        assert_eq!(
            text_line(&record),
            r#"level=WARN msg="returned non-bool value" path=sub.enabled error="\"x\" is not a table""#
        );
        assert_eq!(text_line(&LogRecord::info("a\\b")), r"level=INFO msg=a\b");
        assert_eq!(text_line(&LogRecord::info("")), r#"level=INFO msg="""#);
        assert_eq!(text_line(&LogRecord::info("é")), "level=INFO msg=é");
        // A no-break space is a space to Go, and not printed as is by strconv.Quote.
        assert_eq!(
            text_line(&LogRecord::info("a\u{a0}b")),
            r#"level=INFO msg="a\u00a0b""#
        );
    }
}
