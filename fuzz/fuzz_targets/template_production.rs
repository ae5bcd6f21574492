//! Parses and executes arbitrary text as a template with the Sprig/Helm functions at the
//! limits `rudder template` runs with (Go's nesting depth of 100000): it may fail, it must
//! never panic, abort or overflow the stack. Inputs that would loop or allocate for as long
//! as Go would (a `range` over a huge number, `repeat` of a huge count) are skipped: there
//! Helm has no limit either, so a timeout says nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rudder_gotmpl::{ExecOptions, Templates};
use rudder_value::Value;

/// Whether the text asks for a loop or string of unbounded size: a number of five or more
/// digits together with a function that counts or repeats.
fn unbounded(text: &str) -> bool {
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

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if unbounded(text) {
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
