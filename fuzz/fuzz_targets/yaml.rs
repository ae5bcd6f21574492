//! Reads arbitrary text as YAML and writes what it read back: never panics, and what
//! to_yaml writes reads back as the same value, except for strings holding U+0085 (NEL):
//! Helm's toYaml writes those raw and go-yaml reads them back as a line break, so Helm's own
//! round trip changes them (checked against Helm; the writer matches it on purpose), and
//! mappings with a `<<` key (read from a quoted or tagged `<<`): Helm's toYaml writes the key
//! plain (`<<: 1`, checked with helm-oracle), which go-yaml then reads as a merge key, so
//! Helm's own round trip fails on them too.
//! Whenever the fast block-YAML reader reads a text (the input, or what to_yaml wrote),
//! libyaml reads it to the same nodes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = rudder_value::yaml::check_block_subset(text) {
        panic!("fast reader disagrees with libyaml on {text:?}: {e}");
    }
    if let Ok(v) = rudder_value::yaml::from_yaml(text) {
        if rudder_value::json::to_json(&v).is_ok_and(|j| {
            j.contains('\u{85}')
                || j.contains("\\u0085")
                || j.contains("\"<<\":")
                || j.contains("\"\\u003c\\u003c\":")
        }) {
            return;
        }
        if let Ok(out) = rudder_value::yaml::to_yaml(&v) {
            if let Err(e) = rudder_value::yaml::check_block_subset(&out) {
                panic!("fast reader disagrees with libyaml on {out:?}: {e}");
            }
            let back = rudder_value::yaml::from_yaml(&out).expect("to_yaml output must parse");
            assert_eq!(back, v, "round trip changed the value; yaml was:\n{out}");
        }
    }
});
