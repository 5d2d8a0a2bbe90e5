//! The return-path parser, with its same-origin properties asserted (see `kepgate::fuzzing`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kepgate::fuzzing::return_path(data);
});
