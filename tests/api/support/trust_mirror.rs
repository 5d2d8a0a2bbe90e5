//! A mirror of the national trust list as an operator would run one: Debian's nginx on TLS (a
//! certificate of a test CA) serving `CACertificates.p7b` and `CAs.json`, made from the real
//! files of `tests/fixtures/ua-trust/` with the operator's own CAs (the emulator's) added the way
//! the central certification authority adds a provider: its certificates in the bundle, its CA
//! names in the list.

use std::path::PathBuf;
use std::time::Duration;

use kepgate::config::TrustSources;
use kepgate::signature::TrustList;

use crate::upstreams::{Upstream, nginx_listening};

pub struct TrustMirror {
    _nginx: Upstream,
    www: PathBuf,
    base: String,
    ca_file: PathBuf,
}

impl TrustMirror {
    /// Serving nothing yet: [`Self::publish`] puts the files in place.
    pub async fn start() -> TrustMirror {
        let mut base = String::new();
        let mut www = PathBuf::new();
        let mut ca_file = PathBuf::new();
        let nginx = nginx_listening("ssl", |port, dir| {
            crate::test_pki::test_pki(dir);
            www = dir.join("www");
            std::fs::create_dir_all(&www).unwrap();
            ca_file = dir.join("ca.pem");
            base = format!("https://127.0.0.1:{port}");
            format!(
                "    ssl_certificate {d}/server.pem;\n    ssl_certificate_key {d}/server.key;\n    location / {{ root {d}/www; }}",
                d = dir.display()
            )
        })
        .await;
        TrustMirror {
            _nginx: nginx,
            www,
            base,
            ca_file,
        }
    }

    /// From now on the mirror serves these two files.
    pub fn publish(&self, bundle: &[u8], providers: &[u8]) {
        std::fs::write(self.www.join("CACertificates.p7b"), bundle).unwrap();
        std::fs::write(self.www.join("CAs.json"), providers).unwrap();
    }

    /// `[trust.sources]` for this mirror (its TLS CA as the sources' `ca_file`).
    pub fn sources(&self) -> TrustSources {
        TrustSources {
            bundle_url: format!("{}/CACertificates.p7b", self.base).parse().unwrap(),
            providers_url: format!("{}/CAs.json", self.base).parse().unwrap(),
            ca_file: Some(self.ca_file.clone()),
            allow_http: false,
            refresh_interval: Duration::from_secs(6 * 3600),
            timeout: Duration::from_secs(20),
            max_bytes: 16 * 1024 * 1024,
            max_gone_percent: 20,
        }
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/ua-trust/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The real bundle's certificates (DER, as published).
pub fn national_certificates() -> Vec<Vec<u8>> {
    let (list, _) = TrustList::from_pkcs7_der(&fixture("CACertificates.p7b")).unwrap();
    list.entries().map(|(_, der, _)| der.to_vec()).collect()
}

/// The certificates of a PEM file, DER.
pub fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    let (list, _) = TrustList::from_pem(pem).unwrap();
    list.entries().map(|(_, der, _)| der.to_vec()).collect()
}

/// The subject CNs of `certificates`: what the list names a provider's CAs by.
pub fn subject_cns(certificates: &[Vec<u8>]) -> Vec<String> {
    let mut list = TrustList::new();
    for der in certificates {
        list.add_der(der).unwrap();
    }
    list.certificates()
        .filter_map(kepgate::trust_list::check::subject_cn)
        .collect()
}

/// The real JSON list with one provider more per entry of `extra` (its CA names).
pub fn providers_with(extra: &[Vec<String>]) -> Vec<u8> {
    let mut list: Vec<serde_json::Value> = serde_json::from_slice(&fixture("CAs.json")).unwrap();
    for names in extra {
        list.push(serde_json::json!({ "issuerCNs": names, "address": "ca.test.example" }));
    }
    serde_json::to_vec_pretty(&list).unwrap()
}

/// A PKCS#7 certs-only bundle (SignedData with no signers) of `certificates`, the shape of
/// `CACertificates.p7b`.
pub fn bundle_of(certificates: &[Vec<u8>]) -> Vec<u8> {
    const SIGNED_DATA: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    const DATA: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
    ];
    let certs = tlv(0xa0, &certificates.concat());
    let signed_data = tlv(
        0x30,
        &[
            &[0x02, 0x01, 0x01][..], // version 1
            &[0x31, 0x00],           // no digest algorithms
            &tlv(0x30, DATA),        // no content
            &certs,
            &[0x31, 0x00], // no signers
        ]
        .concat(),
    );
    tlv(0x30, &[SIGNED_DATA, &tlv(0xa0, &signed_data)].concat())
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// `kepgate_trust_list_refresh_total{outcome}` as `/metrics` shows it (0 before the first).
pub async fn refreshes(metrics_address: &str, outcome: &str) -> u64 {
    let text = crate::helpers::metrics_text(metrics_address).await;
    let prefix = format!("kepgate_trust_list_refresh_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// Waits (up to a generous bound) until `done` holds.
pub async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 30 s");
}
