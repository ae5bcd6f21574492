//! Says for each YAML file given whether the fast block-subset reader reads it (and then
//! reads it as libyaml does) or leaves it to libyaml, with the first line that makes it give
//! up (found by halving): a profiling aid for the reader's subset.
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let read = rudder_value::yaml::check_block_subset(&text);
        if let Err(e) = &read {
            println!("DIFFERS {path}: {e}");
            continue;
        }
        if matches!(read, Ok(true)) {
            println!("FAST {path} {}", text.len());
            continue;
        }
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let (mut lo, mut hi) = (0usize, lines.len());
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            let t: String = lines[..mid].concat();
            // A prefix of only comments and blank lines has no document to read yet.
            let empty = t.lines().all(|l| {
                let l = l.trim_start_matches(' ');
                l.is_empty() || l.starts_with('#')
            });
            if empty || matches!(rudder_value::yaml::check_block_subset(&t), Ok(true)) {
                lo = mid
            } else {
                hi = mid
            }
        }
        println!(
            "SLOW {path} {} line {}: {:?}",
            text.len(),
            hi,
            lines.get(hi - 1).unwrap_or(&"")
        );
    }
}
