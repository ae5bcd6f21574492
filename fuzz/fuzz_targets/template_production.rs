//! Parses and executes arbitrary text as a template with the Sprig/Helm functions at the
//! limits `rudder template` runs with (Go's nesting depth of 100000): it may fail, it must
//! never panic, abort or overflow the stack. Inputs that would loop or allocate for as long
//! as Go would (a `range` over a huge number, `repeat` of a huge count) are skipped: there
//! Helm has no limit either, so a timeout says nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rudder_gotmpl::{ExecOptions, Templates};
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
    let _ = set.execute("fuzz", &values, &funcs, &ExecOptions::default());
});
