//! Parses and executes arbitrary text as a template with the Sprig/Helm functions: it may
//! fail, it must never panic or overflow the stack. Texts that would loop or allocate for as
//! long as Go would are skipped ([`rudder_fuzz::unbounded`]).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rudder_gotmpl::{ExecOptions, MissingKey, Templates};
use rudder_value::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if rudder_fuzz::unbounded(text) {
        return;
    }
    let funcs = rudder_funcs::all();
    let mut set = Templates::new();
    if set.parse("fuzz", text, &funcs).is_err() {
        return;
    }
    let values = rudder_value::yaml::from_yaml("a: 1\nb: [x, y]\nc: {d: e}\n").unwrap_or(Value::Nil);
    // A small depth keeps runaway recursion cheap to reach.
    let opts = ExecOptions { missing_key: MissingKey::Zero, max_depth: 200, ..ExecOptions::default() };
    let _ = set.execute("fuzz", &values, &funcs, &opts);
});
