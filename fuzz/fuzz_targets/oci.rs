//! What a registry or a user hands the OCI client: references, `WWW-Authenticate` challenges,
//! tag lists and chart config blobs, on arbitrary text. Errors are fine, panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rudder_repo::oci::{self, client};

fuzz_target!(|data: &[u8]| {
    let _ = client::metadata_name_version(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let _ = oci::is_oci(first);
    if let Ok(reference) = oci::Reference::parse(first) {
        let _ = reference.reference();
    }
    let _ = client::parse_challenge(first);
    let tags: Vec<String> = rest.split('\n').map(str::to_string).collect();
    let _ = client::tag_matching(&tags, first);
});
