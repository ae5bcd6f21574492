//! Parses arbitrary text as a repository's index.yaml, within a time budget per input:
//! slowness is a finding too (a published index must not hang `repo add`).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let budget = Duration::from_millis(250) + Duration::from_micros(50) * text.len() as u32;
    // Slowness is deterministic, a descheduled process is not: an input over its budget is
    // timed twice more, and only one that is slow every time is a finding.
    let took = (0..3)
        .map(|_| {
            let started = Instant::now();
            let _ = rudder_repo::index::IndexFile::parse(text);
            started.elapsed()
        })
        .find(|took| *took < budget);
    assert!(took.is_some(), "an index.yaml of {} bytes took {budget:?} or more three times", text.len());
});
