//! Parses arbitrary text as a repository's index.yaml, within a time budget per input:
//! slowness is a finding too (a published index must not hang `repo add`).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let started = Instant::now();
    let _ = rudder_repo::index::IndexFile::parse(text);
    let budget = Duration::from_millis(250) + Duration::from_micros(50) * text.len() as u32;
    let took = started.elapsed();
    assert!(took < budget, "an index.yaml of {} bytes took {took:?}", text.len());
});
