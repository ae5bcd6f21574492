use std::fmt;

/// An error of a command, worded for the user (the CLI prints it after `Error: `), with
/// the typed error it comes from when there is one.
#[derive(Debug)]
pub struct Error {
    message: String,
    broken_pipe: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub fn message(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            broken_pipe: false,
            source: None,
        }
    }

    /// Wrong use of a command.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::message(message)
    }

    pub fn io(e: std::io::Error) -> Error {
        Error {
            broken_pipe: e.kind() == std::io::ErrorKind::BrokenPipe,
            ..Error::message(e.to_string())
        }
    }

    /// Writing failed because the reader went away (`rudder template ... | head`): Helm, a Go
    /// program, is then ended by SIGPIPE without a word, and so is rudder's CLI.
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A repository error: its `Display` (Helm's text) is the message, the error the cause.
impl From<rudder_repo::Error> for Error {
    fn from(e: rudder_repo::Error) -> Error {
        Error {
            message: e.to_string(),
            broken_pipe: false,
            source: Some(Box::new(e)),
        }
    }
}
