//! What the fuzz targets share.

/// Whether a template text asks for a loop or string of unbounded size: a number of five or
/// more digits together with a function that counts or repeats. Go loops or allocates for as
/// long as such a text asks (`range 3888888888888888888` runs that many times), and Helm has
/// no limit either, so the targets that execute templates skip these texts: a timeout on them
/// says nothing.
pub fn unbounded(text: &str) -> bool {
    let mut run = 0;
    let long_number = text.chars().any(|c| {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        run >= 5
    });
    long_number
        && ["range", "repeat", "until", "seq", "indent", "printf"]
            .iter()
            .any(|f| text.contains(f))
}
