//! The national list of qualified CAs as the IIT library and the Diia SDKs ship it (`CAs.json`):
//! for each provider, the CNs its CA certificates carry and its OCSP address. Used for a
//! certificate whose Authority Information Access names no OCSP responder.

use std::collections::HashMap;

use serde::Deserialize;

/// One provider's entry; the other fields (TSP, CMP, codes) are not needed here.
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "issuerCNs", default)]
    issuer_cns: Vec<String>,
    #[serde(rename = "ocspAccessPointAddress", default)]
    ocsp_address: Option<String>,
    #[serde(rename = "ocspAccessPointPort", default)]
    ocsp_port: Option<String>,
}

/// OCSP responders by the issuing CA's CN.
#[derive(Clone, Debug, Default)]
pub struct CaList {
    responders: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaListError {
    #[error("not a CAs.json list of providers: {0}")]
    Json(#[from] serde_json::Error),
    #[error("entry {index}: OCSP address {address:?} with port {port:?} is not an http URL")]
    Address {
        index: usize,
        address: String,
        port: String,
    },
}

impl CaList {
    pub fn parse(json: &[u8]) -> Result<CaList, CaListError> {
        let entries: Vec<Entry> = serde_json::from_slice(json)?;
        let mut responders = HashMap::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let Some(address) = entry.ocsp_address.filter(|a| !a.trim().is_empty()) else {
                continue;
            };
            let port = entry.ocsp_port.unwrap_or_default();
            let url = responder_url(&address, &port).ok_or_else(|| CaListError::Address {
                index,
                address: address.clone(),
                port: port.clone(),
            })?;
            for cn in entry.issuer_cns {
                responders.insert(cn.trim().to_owned(), url.clone());
            }
        }
        Ok(CaList { responders })
    }

    /// The list at `path` (`trust.ca_list`), empty when none is configured.
    pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<CaList> {
        use anyhow::Context;
        let Some(path) = path else {
            return Ok(CaList::default());
        };
        let bytes = std::fs::read(path)
            .with_context(|| format!("trust.ca_list: cannot read {}", path.display()))?;
        let list =
            CaList::parse(&bytes).with_context(|| format!("trust.ca_list: {}", path.display()))?;
        tracing::info!(file = %path.display(), names = list.len(), "CA list loaded: OCSP responders by issuer name");
        Ok(list)
    }

    /// The responder of the CA whose certificates carry `issuer_cn`.
    pub fn responder_for(&self, issuer_cn: &str) -> Option<&str> {
        self.responders.get(issuer_cn.trim()).map(String::as_str)
    }

    /// How many CA names have a responder.
    pub fn len(&self) -> usize {
        self.responders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.responders.is_empty()
    }
}

/// `ca.tax.gov.ua/services/ocsp/` with port `80` → `http://ca.tax.gov.ua/services/ocsp/`;
/// `ca.treasury.gov.ua` with `43222` → `http://ca.treasury.gov.ua:43222/`. The IIT library asks
/// over plain HTTP (OCSP answers are signed); an address with a scheme is taken as it is.
fn responder_url(address: &str, port: &str) -> Option<String> {
    let address = address.trim();
    let candidate = if address.starts_with("http://") || address.starts_with("https://") {
        address.to_owned()
    } else {
        let (host, path) = address.split_once('/').unwrap_or((address, ""));
        match port.trim() {
            "" | "80" => format!("http://{host}/{path}"),
            port => format!("http://{host}:{}/{path}", port.parse::<u16>().ok()?),
        }
    };
    let url = url::Url::parse(&candidate).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some()).then(|| url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn national() -> CaList {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ua-trust/CAs.json"
        );
        CaList::parse(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn every_provider_of_the_national_list_gets_its_responder_by_each_of_its_names() {
        let list = national();
        assert_eq!(
            list.responder_for("КНЕДП ДПС"),
            Some("http://ca.tax.gov.ua/services/ocsp/")
        );
        // An older name of the same CA, from before its certificates were re-issued.
        assert_eq!(
            list.responder_for("Акредитований центр сертифікації ключів ІДД ДФС"),
            Some("http://ca.tax.gov.ua/services/ocsp/")
        );
        assert_eq!(
            list.responder_for("КНЕДП Казначейства"),
            Some("http://ca.treasury.gov.ua:43222/")
        );
        assert_eq!(
            list.responder_for("\"Дія\". Кваліфікований надавач електронних довірчих послуг"),
            Some("http://ca.informjust.ua/services/ocsp/")
        );
        assert_eq!(list.responder_for("КНЕДП, якого немає"), None);
        // 31 providers, several names each.
        assert!(list.len() > 31, "{}", list.len());
    }

    #[test]
    fn an_address_that_is_not_a_url_is_a_clear_error() {
        let json = br#"[{"issuerCNs": ["X"], "ocspAccessPointAddress": "ca.example", "ocspAccessPointPort": "http"}]"#;
        let error = CaList::parse(json).unwrap_err().to_string();
        assert!(
            error.contains("entry 0") && error.contains("ca.example"),
            "{error}"
        );
        assert!(CaList::parse(b"{}").is_err());
        let none = br#"[{"issuerCNs": ["X"], "ocspAccessPointAddress": ""}]"#;
        assert!(CaList::parse(none).unwrap().is_empty());
    }
}
