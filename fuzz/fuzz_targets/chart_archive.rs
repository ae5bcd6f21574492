//! Reads arbitrary bytes as the tar inside a chart archive (gzipped here, so that the fuzzer
//! mutates the tar and not the compression): PAX records, long names, duplicate entries,
//! links. It may be refused; it must never panic, and what it loads keeps within Helm's
//! per-file and whole-chart size caps.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use rudder_chart::loader::{self, MAX_DECOMPRESSED_CHART_SIZE, MAX_DECOMPRESSED_FILE_SIZE};

fuzz_target!(|data: &[u8]| {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("writing to memory");
    let archive = gz.finish().expect("writing to memory");
    let Ok(files) = loader::archive_files(&archive) else {
        return;
    };
    let mut total = 0u64;
    for f in &files {
        assert!(f.data.len() as u64 <= MAX_DECOMPRESSED_FILE_SIZE, "{} is over the cap", f.name);
        assert!(!f.name.split('/').any(|part| part == ".."), "{} escapes the chart", f.name);
        total += f.data.len() as u64;
    }
    assert!(total <= MAX_DECOMPRESSED_CHART_SIZE);
    let _ = loader::load_files(files);
});
