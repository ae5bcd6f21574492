//! Decodes arbitrary bytes as a stored release record (the base64 of gzipped JSON that the
//! Secret, ConfigMap and SQL drivers hold), both as given and wrapped the way Helm writes it.
#![no_main]

use std::io::Write;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rudder_storage::release::decode(text);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("writing to memory");
    let wrapped = base64::engine::general_purpose::STANDARD.encode(gz.finish().expect("writing to memory"));
    if let Ok(release) = rudder_storage::release::decode(&wrapped) {
        let again = rudder_storage::release::encode(&release).expect("a decoded release encodes");
        rudder_storage::release::decode(&again).expect("an encoded release decodes");
    }
});
