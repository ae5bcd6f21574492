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

impl Error {
    /// A typed error of a library crate: its `Display` (Helm's text) is the message, the
    /// error itself the cause.
    pub fn typed(e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error {
            message: e.to_string(),
            broken_pipe: false,
            source: Some(Box::new(e)),
        }
    }
}

impl Error {
    /// `message` (a step's wording around a library error) caused by `e`.
    pub fn context(
        message: impl Into<String>,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error {
            message: message.into(),
            broken_pipe: false,
            source: Some(Box::new(e)),
        }
    }
}

/// The library errors whose text is what the command reports.
macro_rules! from_typed {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::typed(e)
            }
        }
    )*};
}

from_typed!(
    rudder_repo::Error,
    rudder_repo::oci::Error,
    rudder_repo::provenance::Error,
    rudder_repo::manager::Error
);
