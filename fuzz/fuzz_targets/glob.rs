//! Both glob matchers on arbitrary input: the first line is the pattern, the others are
//! names. Go's `filepath.Match` (.helmignore, `--show-only`) and the gobwas-style
//! `.Files.Glob` must answer without panicking, in time proportional to pattern × name.
#![no_main]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rudder_value::{Object, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, names) = text.split_once('\n').unwrap_or((text, ""));
    let names: Vec<&str> = names.split('\n').collect();
    let budget =
        Duration::from_millis(100) + Duration::from_nanos(200) * (text.len() * text.len()) as u32;
    // Slowness is deterministic, a descheduled process is not: an input over its budget is
    // timed twice more, and only one that is slow every time is a finding.
    let took = (0..3)
        .map(|_| {
            let started = Instant::now();
            match_all(pattern, &names);
            started.elapsed()
        })
        .find(|took| *took < budget);
    assert!(took.is_some(), "{} bytes of pattern and names took {budget:?} or more three times", text.len());
});

fn match_all(pattern: &str, names: &[&str]) {
    let valid = rudder_chart::path_match_valid(pattern);
    for name in names {
        let matched = rudder_chart::path_match(pattern, name);
        // A pattern without metacharacters matches only itself.
        if !pattern.contains(['*', '?', '[', '\\']) {
            assert_eq!(matched, valid && pattern == *name, "{pattern:?} against {name:?}");
        }
    }
    if let Ok(rules) = rudder_chart::ignore::Rules::parse(pattern) {
        for name in names {
            rules.ignore(name, false);
            rules.ignore(name, true);
        }
    }
    let files = rudder_engine::files::Files(
        names.iter().map(|n| (n.to_string(), Default::default())).collect::<BTreeMap<_, _>>(),
    );
    let _ = files.call_method("Glob", &[Value::from(pattern)]);
}
