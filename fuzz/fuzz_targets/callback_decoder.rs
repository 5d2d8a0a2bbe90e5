//! The callback decoder end to end: multipart → base64 → JSON → base64 → CMS → X.509 → chain →
//! identity. Input: `content-type \n trace-id \n body` (see `kepgate::fuzzing`).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod fixture;

fuzz_target!(|data: &[u8]| {
    let f = fixture::get();
    let _ = kepgate::fuzzing::callback_decoder(data, &f.trust, f.now);
});
