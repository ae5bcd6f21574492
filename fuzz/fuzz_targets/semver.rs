//! Semver versions and constraints (Masterminds/semver as Helm uses it) on arbitrary text: the
//! first line is a constraint, the others versions checked against it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rudder_semver::{Constraints, Version};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (constraint, versions) = text.split_once('\n').unwrap_or((text, ""));
    let constraints = Constraints::parse(constraint).ok();
    for line in versions.split('\n') {
        let _ = Version::parse_strict(line);
        if let Ok(v) = Version::parse(line) {
            // What a version prints reads back as the same version.
            let again = Version::parse(&v.to_string()).expect("a printed version parses");
            assert_eq!(again.to_string(), v.to_string());
            if let Some(c) = &constraints {
                let _ = c.check(&v);
            }
        }
    }
});
