//! A small PKI made by OpenSSL itself, for checking kepgate's OCSP and CRL code against an
//! independent implementation: a P-256 CA with an `index.txt`, a leaf, a delegated OCSP
//! responder, a certificate without OCSP signing, and an unrelated CA.

use std::path::PathBuf;
use std::process::Command;

use crate::ocsp::OcspQuery;

const CONFIG: &str = "\
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
keyUsage = critical,digitalSignature
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://ca.test/full.crl
[responder]
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
authorityKeyIdentifier = keyid
[ca_default]
database = index.txt
crlnumber = crlnumber
default_md = sha256
certificate = ca.pem
private_key = ca.key
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid
[crl_idp]
authorityKeyIdentifier = keyid
issuingDistributionPoint = critical, @idp
[idp]
fullname = URI:http://ca.test/full.crl
onlyuser = TRUE
[crl_critical]
authorityKeyIdentifier = keyid
1.3.6.1.4.1.55555.1 = critical, DER:05:00
";

/// Leaves in the index: (serial, name).
const LEAVES: [(&str, &str); 2] = [("1001", "leaf"), ("1002", "other_leaf")];

pub(crate) struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Pki {
    pub(crate) fn new() -> Pki {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kepgate-pki-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ext.cnf"), CONFIG).unwrap();
        std::fs::write(dir.join("crlnumber"), "1000\n").unwrap();
        let pki = Pki { dir };
        let key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -config ext.cnf";
        for ca in ["ca", "other"] {
            pki.openssl(&format!(
                "req -x509 {key} -keyout {ca}.key -out {ca}.pem -subj /CN=Test-{ca}-CA \
                 -days 30 -extensions ca_ext"
            ));
        }
        let certs = [
            ("responder", "responder", "2001"),
            ("plain", "leaf", "2002"),
        ];
        for (name, ext, serial) in LEAVES.iter().map(|(s, n)| (*n, "leaf", *s)).chain(certs) {
            pki.openssl(&format!(
                "req -new {key} -keyout {name}.key -out {name}.csr -subj /CN=Test-{name}"
            ));
            pki.openssl(&format!(
                "x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -set_serial 0x{serial} \
                 -days 10 -out {name}.pem -extfile ext.cnf -extensions {ext}"
            ));
        }
        pki.index(&[]);
        pki
    }

    /// Runs `openssl` in the PKI's directory (arguments split at spaces).
    pub(crate) fn openssl(&self, args: &str) {
        let args: Vec<&str> = args.split_whitespace().collect();
        let out = Command::new("openssl")
            .args(&args)
            .current_dir(&self.dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// index.txt with every leaf valid, or revoked on 2026-01-01 for key compromise.
    pub(crate) fn index(&self, revoked: &[&str]) {
        let mut text = String::new();
        for (serial, cn) in LEAVES {
            if revoked.contains(&cn) {
                text += &format!(
                    "R\t301231000000Z\t260101000000Z,keyCompromise\t{serial}\tunknown\t/CN=Test-{cn}\n"
                );
            } else {
                text += &format!("V\t301231000000Z\t\t{serial}\tunknown\t/CN=Test-{cn}\n");
            }
        }
        std::fs::write(self.dir.join("index.txt"), text).unwrap();
    }

    pub(crate) fn der(&self, name: &str) -> Vec<u8> {
        let pem = std::fs::read(self.dir.join(format!("{name}.pem"))).unwrap();
        der::pem::decode_vec(&pem).unwrap().1
    }

    pub(crate) fn query(&self, leaf: &str, nonce: &[u8]) -> OcspQuery {
        OcspQuery::new(&self.der(leaf), &self.der("ca"), nonce).unwrap()
    }

    /// OpenSSL's responder answering `query`, signed by `signer` (its key and certificate).
    pub(crate) fn answer(&self, query: &OcspQuery, signer: &str, extra: &str) -> Vec<u8> {
        std::fs::write(self.dir.join("req.der"), query.to_der()).unwrap();
        self.openssl(&format!(
            "ocsp -index index.txt -CA ca.pem -rsigner {signer}.pem -rkey {signer}.key \
             -reqin req.der -respout resp.der -ndays 1 {extra}"
        ));
        std::fs::read(self.dir.join("resp.der")).unwrap()
    }

    /// A CRL from `openssl ca -gencrl` over the current index, valid for `hours`.
    pub(crate) fn crl(&self, hours: u32) -> Vec<u8> {
        self.crl_with(hours, "crl_ext")
    }

    /// As [`Self::crl`] with the CRL extensions of the config's section `extensions`.
    pub(crate) fn crl_with(&self, hours: u32, extensions: &str) -> Vec<u8> {
        self.openssl(&format!(
            "ca -gencrl -config ext.cnf -name ca_default -crlexts {extensions} -crlhours {hours} \
             -out crl.pem"
        ));
        let pem = std::fs::read(self.dir.join("crl.pem")).unwrap();
        der::pem::decode_vec(&pem).unwrap().1
    }
}
