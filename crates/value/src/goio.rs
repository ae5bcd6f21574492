//! Go's wording of I/O errors, which Helm's messages embed (`open values.yaml: no such file
//! or directory`). Rust's `io::Error` prints the C library's capitalised text plus
//! " (os error N)"; Go prints its own lower-case text. One function, so every crate words
//! them alike.

use std::io::{Error, ErrorKind};

/// Go's text for the I/O errors users meet (a missing file, a refused one); any other error
/// as Rust words it.
pub fn io_error_text(e: &Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_refused_files_are_worded_as_go_words_them() {
        let missing = std::fs::read("/nonexistent/rudder/file").unwrap_err();
        assert_eq!(io_error_text(&missing), "no such file or directory");
        let refused = Error::from(ErrorKind::PermissionDenied);
        assert_eq!(io_error_text(&refused), "permission denied");
        let other = Error::other("disk on fire");
        assert_eq!(io_error_text(&other), "disk on fire");
    }
}
