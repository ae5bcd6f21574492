use std::path::PathBuf;

/// What can go wrong with a plugin; the Display texts are Helm's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read plugin at {path:?}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to load plugin {dir:?}: {reason}")]
    Load { dir: PathBuf, reason: String },
    #[error("two plugins claim the name {name:?} at {first:?} and {second:?}")]
    Duplicate {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    /// Helm prints its descriptor with `%+v`.
    #[error("plugin: {{Name:{name} Type:{kind}}} not found")]
    NotFound { name: String, kind: String },
    #[error("no downloader found for protocol {protocol:?}")]
    NoDownloader { protocol: String },
    #[error("no plugin command is applicable")]
    NoCommand,
    #[error("plugin {name:?} exited with error")]
    Exited { name: String, exit_code: i32 },
    #[error("plugin {name:?}: cannot run {command:?}: {source}")]
    Spawn {
        name: String,
        command: String,
        source: std::io::Error,
    },
    /// Helm embeds Wasm (extism/wazero); rudder does not.
    #[error("plugin {name:?}: runtime \"extism/v1\" (WebAssembly) is not supported by rudder")]
    WasmUnsupported { name: String },
    #[error("unsupported subprocess plugin type {kind:?}")]
    UnsupportedType { kind: String },
    #[error("plugin {name:?} hook for {event:?} exited with error")]
    Hook { name: String, event: String },
    #[error("expected plugin to be a directory (containing a file 'plugin.yaml')")]
    NotADirectory,
    #[error("plugin metadata (plugin.yaml) missing")]
    MissingMetadata,
    #[error("plugin already exists")]
    AlreadyExists,
    #[error("cannot get information about plugin source {source_ref:?} (if it's a local directory, does it exist?), last error was: {reason}")]
    Source { source_ref: String, reason: String },
    #[error("plugin is installed but unusable: {0}")]
    Unusable(Box<Error>),
    #[error("cannot get information about plugin source")]
    UnknownSource,
    /// A plugin archive that cannot be read or unpacked (Go's gzip/tar wording, or
    /// Helm's refusal of a hostile entry).
    #[error("{0}")]
    Archive(String),
    /// A step of an install and what went wrong in it, as Helm wraps its errors.
    #[error("{context}: {source}")]
    Step { context: String, source: Box<Error> },
    #[error(
        "plugin.yaml not found in expected directory {dir}: stat {file}: no such file or directory"
    )]
    NotInExpectedDirectory { dir: String, file: String },
    #[error("plugin.yaml not found in {0} or its immediate subdirectories")]
    NoPluginRoot(String),
    #[error("{path:?}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// The exit code a failed plugin process had, to pass on as Helm does.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Error::Exited { exit_code, .. } => Some(*exit_code),
            _ => None,
        }
    }

    /// This error as the cause of `context`.
    pub fn within(self, context: impl Into<String>) -> Error {
        Error::Step {
            context: context.into(),
            source: Box::new(self),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
