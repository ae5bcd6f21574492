//! Secrets typed at a prompt (repository and registry passwords, a signing key's
//! passphrase) are read without echo, as Helm's `term.ReadPassword` reads them.
//!
//! The rpassword crate turns the terminal's echo off while the line is read (and back on
//! after, also on error). It reads standard input (through `/dev/stdin`), as Helm does,
//! rather than its default `/dev/tty`; standard input that is not a terminal is read as is
//! (Helm fails there; reading it keeps scripts that pipe a password working).

use std::io::Write;

/// Prints `prompt` on standard output, reads one line from standard input with echo off,
/// then ends the prompt's line (the typed newline was not echoed). The line comes back
/// without its line ending.
pub fn read_hidden(prompt: &str) -> std::io::Result<String> {
    let mut stdout = std::io::stdout();
    write!(stdout, "{prompt}")?;
    stdout.flush()?;
    let config = rpassword::ConfigBuilder::new()
        .input_file_path("/dev/stdin")
        .password_feedback_hide()
        .output_discard()
        .build();
    let line = rpassword::read_password_with_config(config)?;
    writeln!(stdout)?;
    Ok(line)
}
