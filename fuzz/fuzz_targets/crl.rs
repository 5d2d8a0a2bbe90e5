//! The check of a CRL against its CA (`check_crl`), as a complete list and as a delta: one byte
//! choosing the fixed CA certificate, then the DER CRL (see `kepgate::fuzzing::crl`).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod revocation_fixture;

fuzz_target!(|data: &[u8]| {
    let f = revocation_fixture::get();
    let _ = kepgate::fuzzing::crl(data, &f.issuers, f.now, f.skew);
});
