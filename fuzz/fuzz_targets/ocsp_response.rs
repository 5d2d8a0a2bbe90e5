//! The complete check of an OCSP answer (`OcspQuery::check`) for a fixed question: one byte
//! choosing the fixed CA, then the DER answer (see `kepgate::fuzzing::ocsp_response`).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod revocation_fixture;

fuzz_target!(|data: &[u8]| {
    let f = revocation_fixture::get();
    let _ = kepgate::fuzzing::ocsp_response(data, &f.ocsp, f.now, f.skew);
});
