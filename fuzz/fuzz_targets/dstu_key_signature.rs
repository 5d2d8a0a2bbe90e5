//! DSTU 4145 parameters, public key and signature parsing and the verification after them:
//! parameters length (2 octets), key length, signature length, then the parts and the digest
//! (see `kepgate::fuzzing::dstu_key_signature`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kepgate::fuzzing::dstu_key_signature(data);
});
