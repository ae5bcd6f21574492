//! `--set`, `--set-string`, `--set-literal` and `--set-json` on arbitrary text (Helm's
//! strvals): errors are fine, panics and runaway nesting are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rudder_chart::strvals;
use rudder_value::Map;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = strvals::parse_into(text, &mut Map::new());
    let _ = strvals::parse_string_into(text, &mut Map::new());
    let _ = strvals::parse_literal_into(text, &mut Map::new());
    let _ = strvals::parse_json_into(text, &mut Map::new());
});
