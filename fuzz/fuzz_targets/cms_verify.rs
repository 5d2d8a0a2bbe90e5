//! The CMS/X.509 layer alone: 32 bytes of the expected hash, then the p7s.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod fixture;

fuzz_target!(|data: &[u8]| {
    let f = fixture::get();
    let _ = kepgate::fuzzing::cms_verify(data, &f.trust, f.now);
});
