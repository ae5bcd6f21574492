//! Reads arbitrary text as YAML and writes what it read back: never panics, and what
//! to_yaml writes reads back as the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(v) = rudder_value::yaml::from_yaml(text) {
        if let Ok(out) = rudder_value::yaml::to_yaml(&v) {
            let back = rudder_value::yaml::from_yaml(&out).expect("to_yaml output must parse");
            assert_eq!(back, v, "round trip changed the value; yaml was:\n{out}");
        }
    }
});
