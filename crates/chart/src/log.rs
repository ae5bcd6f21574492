//! Diagnostics that Helm logs instead of returning: `log.Printf` warnings of value
//! coalescing and `slog` warnings of dependency processing. Library code collects them as
//! [`LogRecord`]s; the CLI decides how (and whether) to print them.

/// The level of a record. Helm's `log.Printf` lines reach its `slog` handler at INFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
}

impl Level {
    /// The level as Go's `slog` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
        }
    }
}

/// One message with its attributes, each attribute value already in Go's text form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub level: Level,
    pub message: String,
    pub attrs: Vec<(String, String)>,
}

impl LogRecord {
    pub fn info(message: impl Into<String>) -> Self {
        LogRecord {
            level: Level::Info,
            message: message.into(),
            attrs: Vec::new(),
        }
    }

    pub fn warn(message: impl Into<String>) -> Self {
        LogRecord {
            level: Level::Warn,
            message: message.into(),
            attrs: Vec::new(),
        }
    }

    /// Adds an attribute (`key=value` after the message).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.attrs.push((key.to_string(), value.into()));
        self
    }
}

/// Where records go; the functions that log take `&mut Logs` and append in Helm's order.
pub type Logs = Vec<LogRecord>;
