//! One DSTU 4145 verification on M257 and on M431, timed: the Rust half of `bench/dstu_verify.sh`
//! (which runs it side by side with UAPKI's C implementation on the same vectors). Not a test.
//!
//! The vectors are real certificate signatures from UAPKI's Diia test chain
//! (`tests/data/dstu/uapki/certs/`): the Diia CA's key (explicit parameters equal to M257) over
//! the test signer's certificate, and the central root's key (explicit M431 parameters) over the
//! Diia CA's certificate. The public key is parsed and validated once, outside the timing; what is
//! timed is `PublicKey::verify_digest` (range checks, sP + rQ, the comparison) over the GOST 34.311
//! digest of the to-be-signed certificate, as UAPKI's `dstu4145_verify` takes a digest too.
//!
//! `dstu_verify_bench vectors` prints one line per vector for the C harness:
//! `NAME COMPRESSED_KEY_HEX DIGEST_HEX SIGNATURE_HEX` (octets as the certificate carries them:
//! little-endian, the signature r‖s). `dstu_verify_bench run ITERATIONS` prints
//! `kepgate NAME MICROSECONDS_PER_VERIFICATION` per vector, after checking that each vector
//! verifies and a changed one does not, and `kepgate-key-parse NAME MICROSECONDS` for parsing
//! and validating the key (for information: the C harness does not time its equivalent).
//!
//! `dstu_verify_bench seeds DIR` writes the same vectors (and jkurwa's self-signed certificate,
//! a named curve) as seeds of the fuzz target `dstu_key_signature`, framed as
//! `kepgate::fuzzing::split_dstu_input` reads them: parameter length (2 octets, big-endian), key
//! length, signature length (1 octet each), parameters, key, signature, digest.

// A benchmark tool, not product code: a step that fails ends the run with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use der::{Decode, Encode};
use kepgate_signature::dstu4145::{ByteOrder, PublicKey};
use kepgate_signature::gost34311;
use x509_cert::Certificate;

const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dstu/uapki/certs/");
const ROOT: &str = "CAO-05E19E2CD92EA2990100000001000000C1000000.cer";
const CA: &str = "diia-CA-05E19E2CD92EA2990100000001000000E1000000.cer";
const SIGNER: &str = "diia-test-sign-7775603.cer";

struct Vector {
    name: &'static str,
    params_der: Vec<u8>,
    key_bits: Vec<u8>,
    compressed_key: Vec<u8>,
    digest: [u8; gost34311::DIGEST_LEN],
    signature: Vec<u8>,
}

fn cert(file: &str) -> Certificate {
    let der = std::fs::read(format!("{CERTS}{file}")).expect("read certificate");
    Certificate::from_der(&der).expect("parse certificate")
}

/// `issuer`'s key over `child`'s certificate signature.
fn vector(name: &'static str, issuer: &str, child: &str) -> Vector {
    let (issuer, child) = (cert(issuer), cert(child));
    let spki = issuer.tbs_certificate().subject_public_key_info();
    let params_der = spki
        .algorithm
        .parameters
        .as_ref()
        .expect("DSTU parameters")
        .to_der()
        .expect("encode parameters");
    let key_bits = spki.subject_public_key.raw_bytes().to_vec();
    let compressed_key = der::asn1::OctetString::from_der(&key_bits)
        .expect("key is an OCTET STRING")
        .as_bytes()
        .to_vec();
    let tbs = child.tbs_certificate().to_der().expect("encode TBS");
    // A certificate's DSTU signature: the BIT STRING wraps a DER OCTET STRING with r‖s.
    let signature = der::asn1::OctetString::from_der(child.signature().raw_bytes())
        .expect("signature is an OCTET STRING")
        .as_bytes()
        .to_vec();
    Vector {
        name,
        params_der,
        key_bits,
        compressed_key,
        digest: gost34311::digest(&tbs),
        signature,
    }
}

fn vectors() -> [Vector; 2] {
    [vector("M257", CA, SIGNER), vector("M431", ROOT, CA)]
}

fn write_seeds(dir: &str) {
    // Self-signed: the key verifies its own certificate.
    let self_signed = "../../jkurwa/SELF_SIGNED1.cer";
    let jkurwa = vector("M257", self_signed, self_signed);
    let seeds = vectors()
        .into_iter()
        .map(|v| (format!("uapki-diia-{}", v.name.to_lowercase()), v))
        .chain([("jkurwa-self-signed-m257".to_owned(), jkurwa)]);
    std::fs::create_dir_all(dir).expect("create the seed directory");
    for (file, v) in seeds {
        let mut framed = u16::try_from(v.params_der.len())
            .expect("parameters fit")
            .to_be_bytes()
            .to_vec();
        framed.push(u8::try_from(v.key_bits.len()).expect("key fits"));
        framed.push(u8::try_from(v.signature.len()).expect("signature fits"));
        for part in [&v.params_der[..], &v.key_bits, &v.signature, &v.digest] {
            framed.extend_from_slice(part);
        }
        std::fs::write(format!("{dir}/{file}"), framed).expect("write a seed");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["vectors"] => {
            for v in vectors() {
                println!(
                    "{} {} {} {}",
                    v.name,
                    hex(&v.compressed_key),
                    hex(&v.digest),
                    hex(&v.signature)
                );
            }
        }
        ["seeds", dir] => write_seeds(dir),
        ["run", iterations] => {
            let iterations: u32 = iterations.parse().expect("ITERATIONS is a number");
            for v in vectors() {
                let key = PublicKey::from_spki_parts(&v.params_der, &v.key_bits, ByteOrder::Little)
                    .expect("key parses");
                assert_eq!(key.curve_name(), v.name);
                assert!(key.verify_digest(&v.digest, &v.signature).is_ok());
                let mut changed = v.digest;
                changed[0] ^= 1;
                assert!(key.verify_digest(&changed, &v.signature).is_err());
                // Warm-up: caches, branch predictors, the CPU's clock.
                for _ in 0..iterations.div_ceil(10) {
                    std::hint::black_box(key.verify_digest(&v.digest, &v.signature)).ok();
                }
                let start = Instant::now();
                for _ in 0..iterations {
                    let ok = key.verify_digest(
                        std::hint::black_box(&v.digest),
                        std::hint::black_box(&v.signature),
                    );
                    assert!(ok.is_ok());
                }
                let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
                println!("kepgate {} {us:.1}", v.name);
                // For information (not compared): parsing and validating the key, which a
                // certificate check does once per certificate (decompression and n·Q = O).
                let rounds = iterations.div_ceil(4);
                let start = Instant::now();
                for _ in 0..rounds {
                    std::hint::black_box(PublicKey::from_spki_parts(
                        std::hint::black_box(&v.params_der),
                        &v.key_bits,
                        ByteOrder::Little,
                    ))
                    .expect("key parses");
                }
                let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
                println!("kepgate-key-parse {} {us:.1}", v.name);
            }
        }
        _ => {
            eprintln!("usage: dstu_verify_bench vectors | run ITERATIONS | seeds DIR");
            std::process::exit(2);
        }
    }
}
