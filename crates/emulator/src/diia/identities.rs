//! The emulator's CA and the test people whose keys "the phone" signs with, kept in memory or
//! in a state directory so that a gateway configured to trust the CA keeps working after a
//! restart.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::{Duration, OffsetDateTime};

use kepgate_signature::dstu4145::DstuCurve;
use kepgate_signature::identity::{Edrpou, IdentityError, Rnokpp};
use kepgate_signature::revocation_sources::revocation_sources;
use kepgate_signature::test_ca::{
    KeyKind, Publication, TestCa, TestCaError, TestIdentitySpec, TestSigner,
};
use kepgate_signature::{TrustList, verify_auth_signature};
use url::Url;

use super::error::EmulatorError;

const CA_NAME: &str = "Тестовий КНЕДП емулятора Дії";

/// Synthetic numbers with valid check digits (computed with the published algorithms; the
/// tests parse them), chosen not to belong to anyone we know of.
const PERSON_RNOKPP: &str = "3012345670";
const DIRECTOR_RNOKPP: &str = "2654321099";
const COMPANY_EDRPOU: &str = "40123454";
const COMPANY_NAME: &str = "ТОВ «Тестова компанія»";

/// Which test key answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestIdentity {
    /// A private individual: РНОКПП only.
    #[default]
    Person,
    /// A company director: РНОКПП plus the company's ЄДРПОУ.
    Director,
}

impl TestIdentity {
    pub const ALL: [TestIdentity; 2] = [TestIdentity::Person, TestIdentity::Director];

    pub fn key(self) -> &'static str {
        match self {
            TestIdentity::Person => "person",
            TestIdentity::Director => "director",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.key() == s)
    }

    pub fn full_name(self) -> &'static str {
        match self {
            TestIdentity::Person => "Шевченко Тарас Григорович",
            TestIdentity::Director => "Коваленко Олена Петрівна",
        }
    }

    pub fn rnokpp(self) -> &'static str {
        match self {
            TestIdentity::Person => PERSON_RNOKPP,
            TestIdentity::Director => DIRECTOR_RNOKPP,
        }
    }

    pub fn edrpou(self) -> Option<&'static str> {
        match self {
            TestIdentity::Person => None,
            TestIdentity::Director => Some(COMPANY_EDRPOU),
        }
    }

    /// The organisation the person signs for (the director's company), if any.
    pub fn organization(self) -> Option<&'static str> {
        self.edrpou().map(|_| COMPANY_NAME)
    }

    /// The person's position in [`TestIdentity::organization`], if any.
    pub fn title(self) -> Option<&'static str> {
        self.edrpou().map(|_| "Директор")
    }

    /// One line for the phone page under the name.
    pub fn description(self) -> String {
        match self {
            TestIdentity::Person => format!("Фізична особа · РНОКПП {PERSON_RNOKPP}"),
            TestIdentity::Director => format!(
                "Директор, {COMPANY_NAME} · ЄДРПОУ {COMPANY_EDRPOU} · РНОКПП {DIRECTOR_RNOKPP}"
            ),
        }
    }

    pub(crate) fn spec(self) -> Result<TestIdentitySpec, TestCaError> {
        let bad = |e: IdentityError| TestCaError::Key(e.to_string());
        let full_name = self.full_name();
        let (surname, given_name) = full_name.split_once(' ').unwrap_or((full_name, ""));
        Ok(TestIdentitySpec {
            full_name: full_name.to_owned(),
            surname: surname.to_owned(),
            given_name: given_name.to_owned(),
            rnokpp: Rnokpp::parse(self.rnokpp()).map_err(bad)?,
            edrpou: self.edrpou().map(Edrpou::parse).transpose().map_err(bad)?,
            organization: self.organization().map(str::to_owned),
            title: self.title().map(str::to_owned),
        })
    }
}

/// Which of the emulator's two CAs signs: Diia signs with DSTU 4145 unless the partner asks
/// for ECDSA (`signAlgo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Ecdsa,
    Dstu,
}

impl KeyFamily {
    pub const ALL: [KeyFamily; 2] = [KeyFamily::Ecdsa, KeyFamily::Dstu];

    /// In routes (`/ocsp/{family}`) and JSON.
    pub fn key(self) -> &'static str {
        match self {
            KeyFamily::Ecdsa => "ecdsa",
            KeyFamily::Dstu => "dstu",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == s)
    }

    /// The emulator's OCSP responder and CRL for this CA, named in the people's certificates.
    pub fn publication(self, public_base_url: &Url) -> Publication {
        let url = |path: String| public_base_url.join(&path).ok().map(String::from);
        Publication {
            ocsp_url: url(format!("ocsp/{}", self.key())),
            crl_url: url(format!("crl/{}.crl", self.key())),
            delta_crl_url: None,
        }
    }

    /// Like the real chain: the Diia CA's key is DSTU 4145 on M257 and people's keys on M431,
    /// both with explicit curve parameters.
    fn ca_kind(self) -> KeyKind {
        match self {
            KeyFamily::Ecdsa => KeyKind::EcdsaP256,
            KeyFamily::Dstu => KeyKind::Dstu4145(DstuCurve::M257),
        }
    }

    fn person_kind(self) -> KeyKind {
        match self {
            KeyFamily::Ecdsa => KeyKind::EcdsaP256,
            KeyFamily::Dstu => KeyKind::Dstu4145(DstuCurve::M431),
        }
    }

    fn ca_name(self) -> String {
        match self {
            KeyFamily::Ecdsa => CA_NAME.to_owned(),
            KeyFamily::Dstu => format!("{CA_NAME} (ДСТУ 4145)"),
        }
    }

    /// State-file name: the ECDSA files keep the names earlier versions wrote.
    fn file(self, stem: &str) -> String {
        match self {
            KeyFamily::Ecdsa => format!("{stem}.pem"),
            KeyFamily::Dstu => format!("{stem}-dstu.pem"),
        }
    }
}

/// One CA and a signer per [`TestIdentity`].
struct KeySet {
    ca: TestCa,
    person: TestSigner,
    director: TestSigner,
}

/// Both CAs (their certificates are what gateways trust) and every test person's two keys.
pub(crate) struct Keys {
    pub ca_pem: String,
    ecdsa: KeySet,
    dstu: KeySet,
}

impl Keys {
    /// The CA of `family`: it answers OCSP and signs CRLs for its people.
    pub fn ca(&self, family: KeyFamily) -> &TestCa {
        match family {
            KeyFamily::Ecdsa => &self.ecdsa.ca,
            KeyFamily::Dstu => &self.dstu.ca,
        }
    }

    pub fn signer(&self, who: TestIdentity, family: KeyFamily) -> &TestSigner {
        let set = match family {
            KeyFamily::Ecdsa => &self.ecdsa,
            KeyFamily::Dstu => &self.dstu,
        };
        match who {
            TestIdentity::Person => &set.person,
            TestIdentity::Director => &set.director,
        }
    }
}

/// Loads the CAs and identities from `state_dir` (creating what is missing or no longer
/// usable), or makes fresh ones in memory.
pub(crate) fn load_or_create(
    state_dir: Option<&Path>,
    public_base_url: &Url,
    now: OffsetDateTime,
) -> Result<Keys, EmulatorError> {
    let mut ca_pem = String::new();
    let mut sets = Vec::new();
    for family in KeyFamily::ALL {
        let mut ca = match state_dir {
            None => TestCa::generate_with(&family.ca_name(), now, family.ca_kind())?,
            Some(dir) => load_or_create_ca(dir, family, now)?,
        };
        ca.set_publication(family.publication(public_base_url));
        ca_pem += &ca.cert_pem()?;
        sets.push(load_or_create_signers(state_dir, family, ca, now)?);
    }
    let mut sets = sets.into_iter();
    let (Some(ecdsa), Some(dstu)) = (sets.next(), sets.next()) else {
        return Err(TestCaError::Key("key sets missing".into()).into());
    };
    Ok(Keys {
        ca_pem,
        ecdsa,
        dstu,
    })
}

fn load_or_create_signers(
    state_dir: Option<&Path>,
    family: KeyFamily,
    ca: TestCa,
    now: OffsetDateTime,
) -> Result<KeySet, EmulatorError> {
    let trust = TrustList::from_pem(ca.cert_pem()?.as_bytes())
        .map_err(|e| TestCaError::Pem(e.to_string()))?
        .0;
    let mut signers = Vec::with_capacity(TestIdentity::ALL.len());
    for who in TestIdentity::ALL {
        let file = family.file(who.key());
        let stored = match state_dir {
            Some(dir) => read_optional(&dir.join(&file))?
                .and_then(|pem| {
                    TestSigner::from_pem_bundle(&pem, vec![ca.cert_der().to_vec()]).ok()
                })
                .filter(|s| still_usable(s, who, &trust, ca.publication(), now)),
            None => None,
        };
        let signer = match stored {
            Some(s) => s,
            None => {
                let s = ca.issue_with(
                    &who.spec()?,
                    now - Duration::days(1),
                    now + Duration::days(365),
                    family.person_kind(),
                )?;
                if let Some(dir) = state_dir {
                    write_private(&dir.join(&file), &s.to_pem_bundle()?)?;
                    tracing::info!(
                        identity = who.key(),
                        ?family,
                        "issued a new test identity key"
                    );
                }
                s
            }
        };
        signers.push(signer);
    }
    let mut signers = signers.into_iter();
    let (Some(person), Some(director)) = (signers.next(), signers.next()) else {
        return Err(TestCaError::Key("test identities missing".into()).into());
    };
    Ok(KeySet {
        ca,
        person,
        director,
    })
}

fn load_or_create_ca(
    dir: &Path,
    family: KeyFamily,
    now: OffsetDateTime,
) -> Result<TestCa, EmulatorError> {
    fs::create_dir_all(dir).map_err(|source| EmulatorError::StateFile {
        path: dir.to_owned(),
        source,
    })?;
    let path = dir.join(family.file("ca"));
    if let Some(pem) = read_optional(&path)? {
        // A broken CA file is an error rather than silently replaced: gateways trust this CA.
        let ca = TestCa::from_pem_bundle(&pem).map_err(|source| EmulatorError::CaBundle {
            path: path.clone(),
            source,
        })?;
        let not_after = OffsetDateTime::UNIX_EPOCH
            + ca.certificate()
                .tbs_certificate()
                .validity()
                .not_after
                .to_unix_duration();
        if not_after > now + Duration::days(366) {
            return Ok(ca);
        }
        tracing::warn!(path = %path.display(), %not_after, "the stored test CA is (nearly) expired: making a new one");
    }
    let ca = TestCa::generate_with(&family.ca_name(), now, family.ca_kind())?;
    write_private(&path, &ca.to_pem_bundle()?)?;
    tracing::info!(path = %path.display(), ?family, "created a new test CA");
    Ok(ca)
}

/// A stored key is reused only if it still signs something that verifies against the CA, with
/// the identity numbers this version of the emulator hands out, for at least another day, and
/// its certificate names this run's OCSP responder and CRL (the base URL may have changed).
fn still_usable(
    signer: &TestSigner,
    who: TestIdentity,
    trust: &TrustList,
    publication: &Publication,
    now: OffsetDateTime,
) -> bool {
    let Ok(sources) = revocation_sources(signer.cert_der()) else {
        return false;
    };
    if sources.ocsp != publication.ocsp_url.iter().cloned().collect::<Vec<_>>()
        || sources.crl != publication.crl_url.iter().cloned().collect::<Vec<_>>()
    {
        return false;
    }
    let hash = sha2::Sha256::digest(b"kepgate emulator self-check").to_vec();
    let Ok(p7s) = signer.sign_hash_cades(&hash, now) else {
        return false;
    };
    let Ok(verified) = verify_auth_signature(&p7s, &hash, trust, now) else {
        return false;
    };
    let id = verified.identity;
    id.not_after.is_some_and(|t| t > now + Duration::days(1))
        && id.full_name == who.full_name()
        && id.rnokpp.as_ref().map(Rnokpp::as_str) == Some(who.rnokpp())
        && id.edrpou.as_ref().map(Edrpou::as_str) == who.edrpou()
}

fn read_optional(path: &Path) -> Result<Option<String>, EmulatorError> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EmulatorError::StateFile {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes a private key file: owner-only.
fn write_private(path: &Path, contents: &str) -> Result<(), EmulatorError> {
    write_replacing(path, contents, 0o600)
}

/// Writes beside `path` and renames over it: a crash leaves no half file, and a reader (the
/// gateway reading the CA file at its start) sees the old file or the new one. `mode` is the
/// new file's permissions on unix.
pub(super) fn write_replacing(path: &Path, contents: &str, mode: u32) -> Result<(), EmulatorError> {
    let err = |source| EmulatorError::StateFile {
        path: path.to_owned(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp).map_err(err)?;
    file.write_all(contents.as_bytes()).map_err(err)?;
    file.sync_all().map_err(err)?;
    fs::rename(&tmp, path).map_err(err)
}
