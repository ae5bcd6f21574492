//! Links the `rudder` executable as a position-dependent (non-PIE) binary.
//!
//! A PIE executable of this size carries ~60,000 relative relocations that the dynamic loader
//! applies at every start, touching (and copying) every page of `.data.rel.ro`: about 2 ms and
//! 400 page faults before `main`, more than rendering a small chart takes. A non-PIE
//! executable has them resolved at link time. Helm's own binaries are non-PIE too (Go's
//! default on linux/amd64). Only the binaries get the flag: proc-macro and test builds are
//! untouched.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
