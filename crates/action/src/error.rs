use std::fmt;

/// An error of a command, worded for the user (the CLI prints it after `Error: `).
#[derive(Debug)]
pub struct Error {
    message: String,
}

impl Error {
    pub fn message(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }

    /// Wrong use of a command.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::message(message)
    }

    pub fn io(e: std::io::Error) -> Error {
        Error::message(e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error { message }
    }
}
