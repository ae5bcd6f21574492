//! Times parsing every template file under the given folders (a profiling aid).
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
        let start = Instant::now();
        for _ in 0..10 {
            for (name, text) in &files {
                let parsed = rudder_gotmpl::parse::parse(name, text, &known);
                std::hint::black_box(&parsed);
            }
        }
        per = per.min(start.elapsed().as_secs_f64() / 10.0);
    }
    println!(
        "{} files, {} bytes: {:.3} ms per pass (fastest batch), {:.1} MB/s",
        files.len(),
        total,
        per * 1e3,
        total as f64 / per / 1e6
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
