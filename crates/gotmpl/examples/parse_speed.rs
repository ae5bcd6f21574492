//! Times parsing every template file under the given folders, and reading the parses back
//! from their encoding (`parse::codec`): a profiling aid.
use std::time::Instant;

fn main() {
    let mut files = Vec::new();
    for dir in std::env::args().skip(1) {
        walk(std::path::Path::new(&dir), &mut files);
    }
    let total: usize = files.iter().map(|(_, t)| t.len()).sum();
    let known = |_: &str| true;
    // The fastest of 20 batches: the machine's other load only ever slows a batch down.
    let mut per = f64::INFINITY;
    for _ in 0..20 {
        // Kept until after the clock stops: the `rudder` binary never frees its trees.
        let mut kept = Vec::with_capacity(10 * files.len());
        let start = Instant::now();
        for _ in 0..10 {
            for (name, text) in &files {
                kept.push(rudder_gotmpl::parse::parse(name, text, &known));
            }
        }
        per = per.min(start.elapsed().as_secs_f64() / 10.0);
        drop(kept);
    }
    println!(
        "{} files, {} bytes: {:.3} ms per pass (fastest batch), {:.1} MB/s",
        files.len(),
        total,
        per * 1e3,
        total as f64 / per / 1e6
    );
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .filter(|(n, t)| rudder_gotmpl::parse::parse(n, t, &known).is_ok())
        .collect();
    let parsed: Vec<_> = files
        .iter()
        .map(|(n, t)| rudder_gotmpl::parse::parse(n, t, &known).unwrap())
        .collect();
    let encoded = rudder_gotmpl::parse::codec::encode(&parsed);
    let (mut encoding, mut decoding) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..20 {
        let start = Instant::now();
        for _ in 0..10 {
            std::hint::black_box(rudder_gotmpl::parse::codec::encode(&parsed));
        }
        encoding = encoding.min(start.elapsed().as_secs_f64() / 10.0);
        // Kept until after the clock stops: the `rudder` binary never frees its trees.
        let mut kept = Vec::with_capacity(10);
        let start = Instant::now();
        for _ in 0..10 {
            kept.push(rudder_gotmpl::parse::codec::decode(&encoded, &files));
        }
        decoding = decoding.min(start.elapsed().as_secs_f64() / 10.0);
        drop(kept);
    }
    println!(
        "the {} files that parse: {} bytes encoded, encoding {:.3} ms, decoding {:.3} ms",
        files.len(),
        encoded.len(),
        encoding * 1e3,
        decoding * 1e3
    );
}

fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("tpl" | "yaml" | "txt")
        ) {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}
