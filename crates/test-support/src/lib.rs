//! What the integration tests of several crates share: skipping a test whose service
//! (a control plane, PostgreSQL, a registry, real Helm) or tool is not there. Locally a
//! test without its service says so and passes; under CI (the `CI` variable set) a missing
//! service fails the test, so that nothing is silently left untested.

#![forbid(unsafe_code)]

/// Says why the test is skipped (`SKIPPED: reason` on stderr); fails it under CI.
pub fn skip(reason: &str) {
    eprintln!("SKIPPED: {reason}");
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run this test, but: {reason}"
    );
}

/// The value of `var`, or `None` after [`skip`] saying what sets it (`what`). An empty
/// value counts as unset.
pub fn env_or_skip(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            skip(&format!("{var} is not set ({what})"));
            None
        }
    }
}
