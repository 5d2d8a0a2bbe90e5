//! The request-path canonicalizer, with its properties asserted (see `kepgate::fuzzing`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kepgate::fuzzing::canonical_path(data);
});
