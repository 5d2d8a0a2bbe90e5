//! Verification of the CAdES signature a user's phone returns in the Diia.Signature auth flow.

use const_oid::ObjectIdentifier;
use der::{Decode, Encode, Tagged};
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::KeyUsages;

use crate::algorithm::{oid_name, signer_scheme, verify_with_key};
use crate::certificate_identity::{
    IdentityExtractError, identity_from_certificate, key_sha256_hex,
};
use crate::chain::{chain_to_trust_anchor, check_validity, key_usage};
use crate::error::{VerifyError, malformed, unsupported};
use crate::hash_alg::HashAlg;
use crate::identity::SignerIdentity;
use crate::oids;
use crate::parsed_cert::ParsedCert;
use crate::parsed_cert::x509_time;
use crate::signed_data::{
    Parsed, check_signing_cert_v2, find_signer, octets, parse_cms, parse_signed_attrs,
};
use crate::trust_list::TrustList;

/// Tolerated clock skew for a signing time ahead of our clock.
const MAX_FUTURE_SKEW: Duration = Duration::minutes(5);

/// A signature that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    pub identity: SignerIdentity,
    /// The signingTime signed attribute, if present (asserted by the signer, not a timestamp).
    pub signing_time: Option<OffsetDateTime>,
    /// E.g. "ECDSA P-256 with SHA-256".
    pub signature_algorithm: &'static str,
    /// The SignerInfo's digestAlgorithm: what the signer says it hashed with.
    pub digest_algorithm: ObjectIdentifier,
    /// Whether the signed attributes hold signingCertificateV2 (checked against the signer's
    /// certificate when present): document signing requires it, CAdES-BES.
    pub signing_certificate_v2: bool,
    /// The content was embedded (equal to the expected hash) rather than detached: then the
    /// signature is over those bytes, not over a document whose hash they are.
    pub attached: bool,
    /// Non-fatal problems found while reading the identity (e.g. РНОКПП with a bad check digit).
    pub identity_warnings: Vec<String>,
    /// The signer's certificate as received, and the verified path above it (its issuer first,
    /// the trust anchor last): what a revocation check asks about and asks whom.
    pub signer_der: Vec<u8>,
    pub issuers: Vec<Vec<u8>>,
}

/// Verifies the auth signature returned by the signing app.
///
/// `expected_hash` is the hash we asked the user to sign. For a detached signature (the Diia
/// flow) it must equal the messageDigest attribute; for an attached one the content must be
/// exactly these bytes. Certificates are checked at the signingTime attribute, else at `now`.
/// Revocation (OCSP/CRL) is NOT checked here.
pub fn verify_auth_signature(
    p7s: &[u8],
    expected_hash: &[u8],
    trust: &TrustList,
    now: OffsetDateTime,
) -> Result<VerifiedSignature, VerifyError> {
    let _span = tracing::info_span!("signature.verify").entered();
    let parsed = parse_cms(p7s)?;
    let si = &parsed.signer_info;
    let attrs_raw = parsed
        .signed_attrs_raw
        .ok_or(VerifyError::MissingSignedAttributes)?;
    let signer = find_signer(&si.sid, &parsed.certs)?;

    // Refuse algorithms we cannot check before looking at anything they protect.
    let scheme = signer_scheme(&si.signature_algorithm, &si.digest_alg)?;
    let digest_alg = HashAlg::from_oid(&si.digest_alg.oid)
        .ok_or_else(|| unsupported(format!("digest {}", oid_name(&si.digest_alg.oid))))?;

    let attrs = parse_signed_attrs(attrs_raw)?;

    check_content(&attrs, &parsed, expected_hash, digest_alg)?;

    // The signature covers the attributes as received, with [0] IMPLICIT turned into SET OF.
    let mut signed_bytes = attrs_raw.to_vec();
    signed_bytes[0] = 0x31;
    let sig_alg_name = verify_with_key(
        signer.cert.tbs_certificate().subject_public_key_info(),
        scheme,
        &signed_bytes,
        si.signature.as_bytes(),
    )?;

    let signing_certificate_v2 = attribute(&attrs, oids::ATTR_SIGNING_CERT_V2);
    if let Some(v) = signing_certificate_v2 {
        check_signing_cert_v2(v, signer)?;
    }
    let signing_certificate_v2 = signing_certificate_v2.is_some();

    let signing_time = signing_time(&attrs, now)?;
    let at = signing_time.unwrap_or(now);
    check_signer_usable(signer, at)?;

    let issuers = tracing::info_span!("certificate.chain")
        .in_scope(|| chain_to_trust_anchor(signer, &parsed.certs, trust, at))?;

    let (mut identity, identity_warnings) =
        identity_from_certificate(&signer.cert).map_err(|e| match e {
            IdentityExtractError::UnusableName(unusable) => VerifyError::UnusableName(unusable),
            IdentityExtractError::MissingName => malformed(e),
        })?;
    let issuer = issuers
        .first()
        .ok_or_else(|| malformed("no issuer in the path"))?;
    identity.issuer_key_sha256 = Some(key_sha256_hex(issuer).map_err(malformed)?);
    Ok(VerifiedSignature {
        identity,
        signing_time,
        signature_algorithm: sig_alg_name,
        digest_algorithm: si.digest_alg.oid,
        signing_certificate_v2,
        attached: parsed.encap.econtent.is_some(),
        identity_warnings,
        signer_der: signer.der.clone(),
        issuers,
    })
}

type SignedAttrs = [(ObjectIdentifier, der::Any)];

fn attribute(attrs: &SignedAttrs, oid: ObjectIdentifier) -> Option<&der::Any> {
    attrs.iter().find(|(o, _)| *o == oid).map(|(_, v)| v)
}

/// contentType is id-data and agrees with eContentType; messageDigest (and the attached content,
/// if any) is the hash kepgate asked to have signed.
fn check_content(
    attrs: &SignedAttrs,
    parsed: &Parsed<'_>,
    expected_hash: &[u8],
    digest_alg: HashAlg,
) -> Result<(), VerifyError> {
    let ct = attribute(attrs, oids::ATTR_CONTENT_TYPE)
        .ok_or(VerifyError::BadSignedAttribute("contentType"))?
        .decode_as::<ObjectIdentifier>()
        .map_err(|_| VerifyError::BadSignedAttribute("contentType"))?;
    for t in [ct, parsed.encap.econtent_type] {
        if t != oids::ID_DATA {
            return Err(VerifyError::WrongContentType(t.to_string()));
        }
    }
    let md = attribute(attrs, oids::ATTR_MESSAGE_DIGEST)
        .filter(|v| v.tag() == der::Tag::OctetString)
        .ok_or(VerifyError::BadSignedAttribute("messageDigest"))?
        .value();
    match &parsed.encap.econtent {
        None if md != expected_hash => Err(VerifyError::HashMismatch),
        None => Ok(()),
        Some(content) => {
            let content = octets(content)?;
            if content != expected_hash || digest_alg.digest(&content) != md {
                return Err(VerifyError::HashMismatch);
            }
            Ok(())
        }
    }
}

/// The signingTime attribute, if present; one ahead of our clock by more than the skew is refused.
fn signing_time(
    attrs: &SignedAttrs,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, VerifyError> {
    let Some(v) = attribute(attrs, oids::ATTR_SIGNING_TIME) else {
        return Ok(None);
    };
    let der = v.to_der().map_err(malformed)?;
    let t = x509_cert::time::Time::from_der(&der)
        .map_err(|_| VerifyError::BadSignedAttribute("signingTime"))?;
    let signing_time = x509_time(t);
    if signing_time > now + MAX_FUTURE_SKEW {
        return Err(VerifyError::SigningTimeInFuture { signing_time, now });
    }
    Ok(Some(signing_time))
}

/// The signer's certificate may sign (digitalSignature or nonRepudiation) and is valid at `at`.
fn check_signer_usable(signer: &ParsedCert, at: OffsetDateTime) -> Result<(), VerifyError> {
    let ku_ok = key_usage(signer)?.is_some_and(|ku| {
        ku.0.contains(KeyUsages::DigitalSignature) || ku.0.contains(KeyUsages::NonRepudiation)
    });
    if !ku_ok {
        return Err(VerifyError::WrongKeyUsage {
            subject: signer.subject_string(),
            reason: "key usage has neither digitalSignature nor nonRepudiation".into(),
        });
    }
    check_validity(signer, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Edrpou, Rnokpp};
    use crate::key_algorithm::KeyAlgorithm;
    use crate::test_ca::{CadesOptions, TestCa, TestIdentitySpec, TestSigner};
    use crate::tlv;
    use crate::trust_list::tests::load_national;
    use sha2::Digest;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    fn hash(s: &str) -> Vec<u8> {
        sha2::Sha256::digest(s.as_bytes()).to_vec()
    }

    fn person() -> TestIdentitySpec {
        TestIdentitySpec {
            full_name: "Шевченко Тарас Григорович".into(),
            surname: "Шевченко".into(),
            given_name: "Тарас Григорович".into(),
            rnokpp: Rnokpp::parse("3652504575").unwrap(),
            edrpou: None,
            organization: None,
            title: None,
        }
    }

    fn director() -> TestIdentitySpec {
        TestIdentitySpec {
            full_name: "Франко Іван Якович".into(),
            surname: "Франко".into(),
            given_name: "Іван Якович".into(),
            rnokpp: Rnokpp::parse("1759013776").unwrap(),
            edrpou: Some(Edrpou::parse("14360570").unwrap()),
            organization: Some("АТ КБ \"ПРИВАТБАНК\"".into()),
            title: Some("Директор".into()),
        }
    }

    fn trust_of(ca: &TestCa) -> TrustList {
        TrustList::from_pem(ca.cert_pem().unwrap().as_bytes())
            .unwrap()
            .0
    }

    /// CA + a person's key valid for a year around NOW.
    fn setup() -> (TestCa, TestSigner, TrustList) {
        let ca = TestCa::generate("Тестовий КНЕДП", NOW - Duration::days(30)).unwrap();
        let signer = ca
            .issue(
                &person(),
                NOW - Duration::days(10),
                NOW + Duration::days(355),
            )
            .unwrap();
        let trust = trust_of(&ca);
        (ca, signer, trust)
    }

    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len())
            .position(|w| w == needle)
            .expect("needle present")
    }

    #[test]
    fn accepts_good_signature_of_a_person() {
        let (_ca, signer, trust) = setup();
        let h = hash("login request 1");
        let p7s = signer
            .sign_hash_cades(&h, NOW - Duration::seconds(5))
            .unwrap();
        let v = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
        assert_eq!(v.identity.full_name, "Шевченко Тарас Григорович");
        assert_eq!(v.identity.surname.as_deref(), Some("Шевченко"));
        assert_eq!(v.identity.given_name.as_deref(), Some("Тарас Григорович"));
        assert_eq!(
            v.identity.rnokpp.as_ref().map(Rnokpp::as_str),
            Some("3652504575")
        );
        assert_eq!(v.identity.edrpou, None);
        assert_eq!(v.identity.organization, None);
        assert_eq!(v.identity.issuer_cn.as_deref(), Some("Тестовий КНЕДП"));
        assert!(
            v.identity.issuer.contains("CN=Тестовий КНЕДП"),
            "{}",
            v.identity.issuer
        );
        assert_eq!(v.signing_time, Some(NOW - Duration::seconds(5)));
        assert_eq!(v.signature_algorithm, "ECDSA P-256 with SHA-256");
        assert!(v.identity_warnings.is_empty());
    }

    #[test]
    fn accepts_good_signature_of_a_company_director() {
        let (ca, _, trust) = setup();
        let signer = ca
            .issue(
                &director(),
                NOW - Duration::days(1),
                NOW + Duration::days(365),
            )
            .unwrap();
        let h = hash("login request 2");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let id = verify_auth_signature(&p7s, &h, &trust, NOW)
            .unwrap()
            .identity;
        assert_eq!(id.full_name, "Франко Іван Якович");
        assert_eq!(id.rnokpp.as_ref().map(Rnokpp::as_str), Some("1759013776"));
        assert_eq!(id.edrpou.as_ref().map(Edrpou::as_str), Some("14360570"));
        assert_eq!(id.organization.as_deref(), Some("АТ КБ \"ПРИВАТБАНК\""));
        assert_eq!(id.title.as_deref(), Some("Директор"));
        assert_eq!(
            id.cert_serial_hex,
            crate::names::hex_upper(
                signer
                    .certificate()
                    .tbs_certificate()
                    .serial_number()
                    .as_bytes()
            )
        );
        // serde output keeps the Cyrillic and numbers as plain strings
        let json = serde_json_like(&id);
        assert!(json.contains("Франко"));
    }

    fn serde_json_like(id: &SignerIdentity) -> String {
        // No serde_json dependency: Debug is enough to show the values survive.
        format!("{id:?}")
    }

    #[test]
    fn accepts_attached_content_equal_to_the_hash() {
        let (_ca, signer, trust) = setup();
        let h = hash("attached");
        let opts = CadesOptions {
            attached: true,
            ..Default::default()
        };
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
        assert_eq!(
            verify_auth_signature(&p7s, &hash("other"), &trust, NOW).unwrap_err(),
            VerifyError::HashMismatch
        );
        // Content swapped after signing (same length): messageDigest no longer matches it.
        let mut forged = p7s.clone();
        let at = find(&p7s, &h);
        forged[at..at + 32].copy_from_slice(&hash("other"));
        assert_eq!(
            verify_auth_signature(&forged, &hash("other"), &trust, NOW).unwrap_err(),
            VerifyError::HashMismatch
        );
    }

    #[test]
    fn refuses_signature_over_a_different_hash() {
        let (_ca, signer, trust) = setup();
        let p7s = signer
            .sign_hash_cades(&hash("attacker's request"), NOW)
            .unwrap();
        let err = verify_auth_signature(&p7s, &hash("our request"), &trust, NOW).unwrap_err();
        assert_eq!(err, VerifyError::HashMismatch);
        assert!(err.to_string().contains("different hash"));
    }

    #[test]
    fn refuses_certificate_from_an_untrusted_ca() {
        let (_ca, _, trust) = setup();
        let rogue = TestCa::generate("Шахрайський ЦСК", NOW - Duration::days(30)).unwrap();
        let signer = rogue
            .issue(&person(), NOW - Duration::days(1), NOW + Duration::days(30))
            .unwrap();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::UntrustedChain(_)), "{err}");
    }

    #[test]
    fn refuses_impostor_ca_with_the_same_name() {
        let (_ca, _, trust) = setup();
        // Same DN as the trusted CA, different key: DN matching alone must not be enough.
        let impostor = TestCa::generate("Тестовий КНЕДП", NOW - Duration::days(30)).unwrap();
        let signer = impostor
            .issue(&person(), NOW - Duration::days(1), NOW + Duration::days(30))
            .unwrap();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::UntrustedChain(_)), "{err}");
    }

    #[test]
    fn refuses_expired_certificate() {
        let (ca, _, trust) = setup();
        let not_after = NOW - Duration::days(1);
        let signer = ca
            .issue(&person(), NOW - Duration::days(20), not_after)
            .unwrap();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        match verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err() {
            VerifyError::CertExpired {
                not_after: na, at, ..
            } => {
                assert_eq!(na, not_after);
                assert_eq!(at, NOW);
            }
            e => panic!("wrong error {e}"),
        }
        // Without signingTime the check happens at `now`: same verdict.
        let p7s = signer
            .sign_hash_cades_with(
                &h,
                NOW,
                &CadesOptions {
                    include_signing_time: false,
                    ..Default::default()
                },
            )
            .unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::CertExpired { .. }), "{err}");
        assert!(err.to_string().contains("expired on"));
    }

    #[test]
    fn a_certificate_seen_before_is_still_checked_at_the_signing_time() {
        let (ca, _, trust) = setup();
        let not_after = NOW + Duration::days(1);
        let signer = ca
            .issue(&person(), NOW - Duration::days(20), not_after)
            .unwrap();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        assert!(verify_auth_signature(&p7s, &h, &trust, NOW).is_ok());
        // Its issuance is remembered now; its validity is not.
        let later = NOW + Duration::days(2);
        let p7s = signer.sign_hash_cades(&h, later).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, later).unwrap_err();
        assert!(matches!(err, VerifyError::CertExpired { .. }), "{err}");
    }

    #[test]
    fn refuses_certificate_not_yet_valid() {
        let (ca, _, trust) = setup();
        let signer = ca
            .issue(&person(), NOW + Duration::days(1), NOW + Duration::days(30))
            .unwrap();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::CertNotYetValid { .. }), "{err}");
    }

    #[test]
    fn refuses_tampered_signature_value() {
        let (_ca, signer, trust) = setup();
        let h = hash("x");
        let mut p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let parsed = parse_cms(&p7s).unwrap();
        let sig = parsed.signer_info.signature.as_bytes().to_vec();
        let at = find(&p7s, &sig) + 12; // inside r
        p7s[at] ^= 0x01;
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::BadSignature(_)), "{err}");
    }

    #[test]
    fn refuses_tampered_signed_attribute() {
        let (_ca, signer, trust) = setup();
        let h = hash("x");
        let mut p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        // Flip a byte of the signingCertificateV2 hash: attributes no longer match the signature.
        let cert_hash = sha2::Sha256::digest(signer.cert_der()).to_vec();
        let at = find(&p7s, &cert_hash) + 7;
        p7s[at] ^= 0x80;
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::BadSignature(_)), "{err}");

        // Change the signing time by one second (still a valid UTCTime).
        let mut p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let at = find(&p7s, b"261125120000Z") + 11;
        p7s[at] = b'1';
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::BadSignature(_)), "{err}");
    }

    #[test]
    fn refuses_garbage() {
        let (_ca, _, trust) = setup();
        for junk in [
            &b""[..],
            b"hello world",
            b"\x30\x80\x00",
            b"\x30\x03\x06\x01\x00",
            &[0xff; 64],
        ] {
            let err = verify_auth_signature(junk, &hash("x"), &trust, NOW).unwrap_err();
            assert!(matches!(err, VerifyError::Malformed(_)), "{err}");
        }
        // A well-formed ContentInfo of another type.
        let data = cms::content_info::ContentInfo {
            content_type: oids::ID_DATA,
            content: der::Any::encode_from(&der::asn1::OctetString::new(b"x".to_vec()).unwrap())
                .unwrap(),
        }
        .to_der()
        .unwrap();
        let err = verify_auth_signature(&data, &hash("x"), &trust, NOW).unwrap_err();
        assert_eq!(err, VerifyError::NotSignedData(oids::ID_DATA.to_string()));
    }

    #[test]
    fn refuses_missing_signed_attributes() {
        let (_ca, signer, trust) = setup();
        let h = hash("x");
        let opts = CadesOptions {
            signed_attributes: false,
            ..Default::default()
        };
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert_eq!(err, VerifyError::MissingSignedAttributes);
    }

    #[test]
    fn refuses_signing_time_in_the_future() {
        let (_ca, signer, trust) = setup();
        let h = hash("x");
        let p7s = signer
            .sign_hash_cades(&h, NOW + Duration::minutes(10))
            .unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(
            matches!(err, VerifyError::SigningTimeInFuture { .. }),
            "{err}"
        );
        // Small clock skew is tolerated.
        let p7s = signer
            .sign_hash_cades(&h, NOW + Duration::minutes(4))
            .unwrap();
        verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
    }

    #[test]
    fn refuses_dstu_signature_algorithm_as_unsupported() {
        let (_ca, signer, trust) = setup();
        let h = hash("x");
        let opts = CadesOptions {
            signature_algorithm_override: Some(oids::DSTU4145_LE),
            ..Default::default()
        };
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        match verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err() {
            VerifyError::UnsupportedAlgorithm { what } => assert!(what.contains("DSTU"), "{what}"),
            e => panic!("wrong error {e}"),
        }
        // RSA-PSS is refused too, never "accepted by default".
        let opts = CadesOptions {
            signature_algorithm_override: Some(oids::RSA_PSS),
            ..Default::default()
        };
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(
            matches!(err, VerifyError::UnsupportedAlgorithm { .. }),
            "{err}"
        );
    }

    #[test]
    fn refuses_real_dstu_certificate_as_signer() {
        // A real DSTU 4145 CA certificate from the national bundle stands in as the signer.
        let (national, _) = load_national();
        let dstu = national
            .certificates()
            .find(|c| {
                KeyAlgorithm::of_spki(c.tbs_certificate().subject_public_key_info())
                    == KeyAlgorithm::Dstu4145Le
            })
            .unwrap()
            .clone();
        let (_ca, signer, _) = setup();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let ci = cms::content_info::ContentInfo::from_der(&p7s).unwrap();
        let mut sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
        let mut si = sd.signer_infos.0.get(0).unwrap().clone();
        si.sid = cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(
            cms::cert::IssuerAndSerialNumber {
                issuer: dstu.tbs_certificate().issuer().clone(),
                serial_number: dstu.tbs_certificate().serial_number().clone(),
            },
        );
        si.signature_algorithm = dstu.signature_algorithm().clone();
        sd.signer_infos = cms::signed_data::SignerInfos(vec![si].try_into().unwrap());
        sd.certificates = Some(cms::signed_data::CertificateSet(
            vec![cms::cert::CertificateChoices::Certificate(dstu)]
                .try_into()
                .unwrap(),
        ));
        let p7s = cms::content_info::ContentInfo {
            content_type: oids::ID_SIGNED_DATA,
            content: der::Any::encode_from(&sd).unwrap(),
        }
        .to_der()
        .unwrap();
        let err = verify_auth_signature(&p7s, &h, &national, NOW).unwrap_err();
        assert!(
            matches!(err, VerifyError::UnsupportedAlgorithm { .. }),
            "{err}"
        );
    }

    #[test]
    fn accepts_chain_with_intermediate_in_the_cms() {
        let root = TestCa::generate("Кореневий ЦЗО", NOW - Duration::days(60)).unwrap();
        let sub = root
            .issue_sub_ca("Проміжний КНЕДП", NOW - Duration::days(30))
            .unwrap();
        let signer = sub
            .issue(&person(), NOW - Duration::days(1), NOW + Duration::days(30))
            .unwrap();
        let trust = trust_of(&root);
        let h = hash("chain");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let v = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
        assert_eq!(v.identity.issuer_cn.as_deref(), Some("Проміжний КНЕДП"));
        // The path a revocation check needs: whom to ask about the signer, up to the anchor.
        assert_eq!(v.signer_der, signer.cert_der());
        assert_eq!(
            v.issuers,
            [sub.cert_der().to_vec(), root.cert_der().to_vec()]
        );
        // The issuing CA told by its key, as OCSP's issuerKeyHash hashes it.
        let sub_key = sub
            .certificate()
            .tbs_certificate()
            .subject_public_key_info();
        let sub_key_sha256 = sha2::Sha256::digest(sub_key.subject_public_key.raw_bytes());
        assert_eq!(
            v.identity.issuer_key_sha256,
            Some(crate::names::hex_upper(&sub_key_sha256).to_ascii_lowercase())
        );
        // Without the intermediate there is no path to the root.
        let opts = CadesOptions {
            include_chain: false,
            ..Default::default()
        };
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::UntrustedChain(_)), "{err}");
    }

    #[test]
    fn refuses_end_entity_certificate_used_as_ca() {
        // A person's certificate (cA=false) turned into a "CA" that issues another one.
        let (_ca, person_signer, trust) = setup();
        let fake_ca = TestCa::from_pem_bundle(&person_signer.to_pem_bundle().unwrap()).unwrap();
        let victim = fake_ca
            .issue(
                &director(),
                NOW - Duration::days(1),
                NOW + Duration::days(30),
            )
            .unwrap();
        let signer = TestSigner::from_pem_bundle(
            &victim.to_pem_bundle().unwrap(),
            vec![person_signer.cert_der().to_vec()],
        )
        .unwrap();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        match verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err() {
            VerifyError::WrongKeyUsage { reason, .. } => assert!(reason.contains("not a CA")),
            e => panic!("wrong error {e}"),
        }
    }

    #[test]
    fn refuses_signer_without_signing_key_usage() {
        // The CA's own key (keyCertSign+cRLSign only) must not log anyone in.
        let (ca, _, trust) = setup();
        let signer = TestSigner::from_pem_bundle(&ca.to_pem_bundle().unwrap(), vec![]).unwrap();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::WrongKeyUsage { .. }), "{err}");
    }

    #[test]
    fn refuses_signing_certificate_v2_mismatch() {
        let (_ca, signer, trust) = setup();
        let h = hash("x");
        let opts = CadesOptions {
            signing_cert_hash_override: Some(vec![0x42; 32]),
            ..Default::default()
        };
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        let err = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err();
        assert_eq!(err, VerifyError::SigningCertMismatch);
    }

    #[test]
    fn refuses_multiple_signers_and_missing_signer_cert() {
        let (_ca, signer, trust) = setup();
        let h = hash("x");
        let opts = CadesOptions {
            second_signer: true,
            ..Default::default()
        };
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        assert_eq!(
            verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err(),
            VerifyError::MultipleSigners(2)
        );
        let opts = CadesOptions {
            include_signer_cert: false,
            ..Default::default()
        };
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        assert_eq!(
            verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err(),
            VerifyError::SignerCertMissing
        );
    }

    #[test]
    fn accepts_ber_indefinite_length_outer_encoding() {
        let (_ca, signer, trust) = setup();
        let h = hash("ber");
        let der = signer.sign_hash_cades(&h, NOW).unwrap();
        let ci = tlv::single(&der).unwrap();
        let kids = tlv::children(ci.value).unwrap();
        let sd = tlv::children(kids[1].value).unwrap()[0];
        let mut ber = vec![0x30, 0x80];
        ber.extend_from_slice(kids[0].raw);
        ber.extend_from_slice(&[0xa0, 0x80]);
        ber.extend_from_slice(sd.raw);
        ber.extend_from_slice(&[0, 0, 0, 0]);
        verify_auth_signature(&ber, &h, &trust, NOW).unwrap();
    }

    #[test]
    fn works_with_the_national_trust_list_merged_in() {
        let (mut national, _) = load_national();
        let (ca, signer, _) = setup();
        let h = hash("x");
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        // National list alone does not trust the test CA.
        let err = verify_auth_signature(&p7s, &h, &national, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::UntrustedChain(_)), "{err}");
        national.merge(trust_of(&ca));
        verify_auth_signature(&p7s, &h, &national, NOW).unwrap();
    }

    #[test]
    fn error_messages_are_plain_english() {
        let e = VerifyError::CertExpired {
            subject: "CN=Шевченко".into(),
            not_after: NOW,
            at: NOW + Duration::days(1),
        };
        let s = e.to_string();
        assert!(s.contains("expired on 2026-11-25"), "{s}");
        assert!(
            VerifyError::UnsupportedAlgorithm {
                what: "DSTU".into()
            }
            .to_string()
            .starts_with("unsupported algorithm")
        );
    }

    // Produced by OpenSSL 3 (`openssl cms -sign -binary -md sha256|sha384`) over the bytes of
    // OPENSSL_CONTENT: an independent encoder for the RSA and P-384 paths.
    const OPENSSL_CONTENT: &[u8] = b"kepgate openssl fixture";
    const OPENSSL_RSA_CA: &str = "\
-----BEGIN CERTIFICATE-----
MIIDdTCCAl2gAwIBAgIURyF9m67uE/X77m26l/wKyLzEnTAwDQYJKoZIhvcNAQEL
BQAwQjELMAkGA1UEBhMCVUExFTATBgNVBAoMDE9wZW5TU0wgVGVzdDEcMBoGA1UE
AwwTT3BlblNTTCBUZXN0IENBIHJzYTAeFw0yNjExMjUyMjA0NDZaFw0zNjExMjIy
MjA0NDZaMEIxCzAJBgNVBAYTAlVBMRUwEwYDVQQKDAxPcGVuU1NMIFRlc3QxHDAa
BgNVBAMME09wZW5TU0wgVGVzdCBDQSByc2EwggEiMA0GCSqGSIb3DQEBAQUAA4IB
DwAwggEKAoIBAQC1x2TXo0jW6IntOu2/BGDbP2iBSeQ0ls5iGnyGtBDSebSjtWtO
TyZruDLfsybS9lV6wpp6MSow38fne6mjOZkx+W76RxtEyQ2AMD8oVLQFIuVoWl1I
JYP9li2SvijZ9zuZS4jntBsOjKMuzsfXi47x3kDfESMtd+XzkTaSMNhsNu0CZyvW
FwpjRtb1Awotnx97WFffPTsuPFN2iN1U+v0v0isOu9CaYaTv6FoxocP9TyQszFo5
7uKfpOJZG/Kjs1gH4GPVMR8yy0HocbcptU2U6W9EDhP8JqZEb+WSt2iXb1lbUEQD
+Qmdtl+450F5297kKEp2J50o9lAeqyCfgIlNAgMBAAGjYzBhMB0GA1UdDgQWBBTe
h8gQ+JU2JUE4/cBNaxB+AbL6CDAfBgNVHSMEGDAWgBTeh8gQ+JU2JUE4/cBNaxB+
AbL6CDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjANBgkqhkiG9w0B
AQsFAAOCAQEAmHO636XXTPeSzQuCC2mL96c6/wvE+uMvifBpve5EiOKKe5o0BaTF
XxIyx/zaRF7+XDwj/UagDUWNrn7ZNi868U8qizhQPYoEnftAAlji8/n2dK9p+Fd0
bVyM7gNAySFKj7i/C0GCDaWVe8NOc9OQeRKx3fSCH/fIOScQGE7QKwvGppI3eGUb
OvarVByENH2ckR82axAqWJSPJysARw4zgyU6ug1U0XNvNcgJ2Mjem4SPjloCX8gb
5UXTN0zwao9JRx0yxcLQrpeaeG5/H3rQsLUKBwfS4ghmORiazV3TpZq1DtL2G+Dv
3Y/1BbWLOVc5SlBPZabghb+1sqdiFRycRA==
-----END CERTIFICATE-----
";
    const OPENSSL_RSA_P7S: &str = "\
-----BEGIN CMS-----
MIIGKwYJKoZIhvcNAQcCoIIGHDCCBhgCAQExDTALBglghkgBZQMEAgEwCwYJKoZI
hvcNAQcBoIIDmTCCA5UwggJ9oAMCAQICAhI0MA0GCSqGSIb3DQEBCwUAMEIxCzAJ
BgNVBAYTAlVBMRUwEwYDVQQKDAxPcGVuU1NMIFRlc3QxHDAaBgNVBAMME09wZW5T
U0wgVGVzdCBDQSByc2EwHhcNMjYxMTI1MjIwNDQ2WhcNMzYxMTIyMjIwNDQ2WjB6
MQswCQYDVQQGEwJVQTEZMBcGA1UEBAwQ0KPQutGA0LDRl9C90LrQsDERMA8GA1UE
KgwI0JvQtdGB0Y8xIjAgBgNVBAMMGdCj0LrRgNCw0ZfQvdC60LAg0JvQtdGB0Y8x
GTAXBgNVBAUTEFRJTlVBLTMwNjgyMDg0MDAwggEiMA0GCSqGSIb3DQEBAQUAA4IB
DwAwggEKAoIBAQDRNLH5UMEdZQVmomXhjTQ7wUwLiSoNqP9OsFaaaA5nORwSHkZx
9X/Auj153mFq93P2swm19uLHMdJ3bRc4tL+lfKgi8EOzsrfb610fLApugXY3ZGuY
wTh0vULsNdLQrEE8VxGrjWoOWzCR5ndsQIzTqIqg70uyXnS2evotB5UFJU7gnMYy
YXNh3tA4GuWZTdDgjgYLiV5njgj9L5t9HJphqFa8IaLjB1oUlnnfbEW8yn4dVf0a
hLsXCTO4z3LHmNTd0NI0DD1vcGCqRCVeQOku9r5H3b84vCWqYFmXE1D5GxZZE/u0
DwE0mjon4xGdCHJqkvGPcNVhoCI25Mn+DwqhAgMBAAGjXTBbMAkGA1UdEwQCMAAw
DgYDVR0PAQH/BAQDAgbAMB0GA1UdDgQWBBQ3zxtr3VjiVchSmf8dC+x1YtiHFTAf
BgNVHSMEGDAWgBTeh8gQ+JU2JUE4/cBNaxB+AbL6CDANBgkqhkiG9w0BAQsFAAOC
AQEACzYuT51FcsBgFmHXE8hsFylTTQQaVH71WxMp/ZpCX7ZEpOYzQ569onR+l4WH
Ff70jfUWJNEjB5BQxho/FqoNDsbRGs9YWVBOiOy7cu9pELUYOsu9y3/CPA/3T1qQ
o/fCi6mQ87fuRj2w6I/qqbYMFFbWRZuaxJVoUuCLzG9PoqgjmnStgaLoZ9FXIfAL
yrLaABmuY5KmWqAkRu/Pm915qtET9TadNideFRKvcJNN3CP0mlAx8VqNdj8jLyzQ
J66nf9COluCRBwkFdUzFQ6NhzbROGeEbKSeoBVnegWtzZ/FdfhiZ9uYshb69jS9P
YflHm+2TLz5HbcToqnUQo3gNyzGCAlgwggJUAgEBMEgwQjELMAkGA1UEBhMCVUEx
FTATBgNVBAoMDE9wZW5TU0wgVGVzdDEcMBoGA1UEAwwTT3BlblNTTCBUZXN0IENB
IHJzYQICEjQwCwYJYIZIAWUDBAIBoIHkMBgGCSqGSIb3DQEJAzELBgkqhkiG9w0B
BwEwHAYJKoZIhvcNAQkFMQ8XDTI2MTEyNTIyMDQ0NlowLwYJKoZIhvcNAQkEMSIE
ILXvMDAX7zjbzITBqAQOMJ/YdzxJjTZbHpOURxuqvLejMHkGCSqGSIb3DQEJDzFs
MGowCwYJYIZIAWUDBAEqMAsGCWCGSAFlAwQBFjALBglghkgBZQMEAQIwCgYIKoZI
hvcNAwcwDgYIKoZIhvcNAwICAgCAMA0GCCqGSIb3DQMCAgFAMAcGBSsOAwIHMA0G
CCqGSIb3DQMCAgEoMA0GCSqGSIb3DQEBAQUABIIBABFnVtyU1s9C5dViAdNpVeM9
DJJjCVgmFj0mvZqFUnFWq+FUXcAQR4pqvbsbKfLYbEEnnVFvBxTj9GzI2yYV4I7J
GzguhxPnyP8Kt/7iGDk0qgEVTXIEozyGpNToYr5Hgx6TzuShABxDFlk1fsnsOUFp
RGjyFWOmTPUaj4vOdLQDEX8JREc3EOLZAStLG6PQ931FPfxdj2EGQCVvC8mHC4ph
74hqz3+1bncXTDkVJxpstgHFKviB78M7WOb/L8Mxx2oLltmpGYTDfHBrfigSCLa5
tO4bVGTGTiTGxuuQbdapzTqMySVZ1ZCyQoWKcJs4XIn1VM1j90rP1lyfZ7k4+3E=
-----END CMS-----
";
    const OPENSSL_P384_CA: &str = "\
-----BEGIN CERTIFICATE-----
MIICKTCCAa6gAwIBAgIUJvD6LBnfQGeygmMhsY9YQQBGKXMwCgYIKoZIzj0EAwIw
QzELMAkGA1UEBhMCVUExFTATBgNVBAoMDE9wZW5TU0wgVGVzdDEdMBsGA1UEAwwU
T3BlblNTTCBUZXN0IENBIHAzODQwHhcNMjYxMTI1MjIwNDQ2WhcNMzYxMTIyMjIw
NDQ2WjBDMQswCQYDVQQGEwJVQTEVMBMGA1UECgwMT3BlblNTTCBUZXN0MR0wGwYD
VQQDDBRPcGVuU1NMIFRlc3QgQ0EgcDM4NDB2MBAGByqGSM49AgEGBSuBBAAiA2IA
BMa8v0RILnmzE/PwXPkPLKzR2ewEwT26wcem8aLahGIos9f57BI6i3YsgvpapaBh
mCM9AvzPXkICW/YozXue3i3q33/LMrqEsUQN/p+lh41WjQbZWh/GZ7oiVA9NZPMq
DaNjMGEwHQYDVR0OBBYEFGTpIfgy8WC8Eb8boeqDV3KG4l05MB8GA1UdIwQYMBaA
FGTpIfgy8WC8Eb8boeqDV3KG4l05MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/
BAQDAgEGMAoGCCqGSM49BAMCA2kAMGYCMQCVQTIg/RBS79DNn+uZyTKauc+6lVVm
RGvOQcNE9S83dDoS7/ixmD4ut4JLiZoznjYCMQC41ZickHithN9dcJ8QN6gY9zxh
TayIdZ7Uajl5Feev2tILDbqK8m4VCvDN6cO+WZk=
-----END CERTIFICATE-----
";
    const OPENSSL_P384_P7S: &str = "\
-----BEGIN CMS-----
MIIETwYJKoZIhvcNAQcCoIIEQDCCBDwCAQExDTALBglghkgBZQMEAgIwCwYJKoZI
hvcNAQcBoIICSzCCAkcwggHNoAMCAQICAhI0MAoGCCqGSM49BAMCMEMxCzAJBgNV
BAYTAlVBMRUwEwYDVQQKDAxPcGVuU1NMIFRlc3QxHTAbBgNVBAMMFE9wZW5TU0wg
VGVzdCBDQSBwMzg0MB4XDTI2MTEyNTIyMDQ0NloXDTM2MTEyMjIyMDQ0NlowejEL
MAkGA1UEBhMCVUExGTAXBgNVBAQMENCj0LrRgNCw0ZfQvdC60LAxETAPBgNVBCoM
CNCb0LXRgdGPMSIwIAYDVQQDDBnQo9C60YDQsNGX0L3QutCwINCb0LXRgdGPMRkw
FwYDVQQFExBUSU5VQS0zMDY4MjA4NDAwMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE
g1GB2HSeI78SCNhOa83RpiR7oKZI/NpdW1dbimyX3MC/Ap1cnViZ2XBORJVSbriO
j8A53OmXa/IrLl/3cqd9aXu1eu7LbOLx/pR9Q2SbF080N0J6iVibLnp1M6pL1Saw
o10wWzAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIGwDAdBgNVHQ4EFgQUkijpvvEU
DnO0nRHrSJaw/PzRBjMwHwYDVR0jBBgwFoAUZOkh+DLxYLwRvxuh6oNXcobiXTkw
CgYIKoZIzj0EAwIDaAAwZQIxAJix2c6SuiYdw3KJf1JmCcCfE8DaUFiNj4G4upkS
QCIm4MMM4dzvpc5AsgoMp6XkvAIwXx1KWUOQQKSDbLC4N6XMKJjHCBRoQy+eKIwR
mQFcWyuLZ55SrHudYl1QzmMYrhJSMYIByjCCAcYCAQEwSTBDMQswCQYDVQQGEwJV
QTEVMBMGA1UECgwMT3BlblNTTCBUZXN0MR0wGwYDVQQDDBRPcGVuU1NMIFRlc3Qg
Q0EgcDM4NAICEjQwCwYJYIZIAWUDBAICoIH0MBgGCSqGSIb3DQEJAzELBgkqhkiG
9w0BBwEwHAYJKoZIhvcNAQkFMQ8XDTI2MTEyNTIyMDQ0NlowPwYJKoZIhvcNAQkE
MTIEMNU9rotdLwtNl2wH3+VtijXgGHcpqiyqXzo7OZlgk0T+eB/jMnpp1QEEbfxP
A8F3lTB5BgkqhkiG9w0BCQ8xbDBqMAsGCWCGSAFlAwQBKjALBglghkgBZQMEARYw
CwYJYIZIAWUDBAECMAoGCCqGSIb3DQMHMA4GCCqGSIb3DQMCAgIAgDANBggqhkiG
9w0DAgIBQDAHBgUrDgMCBzANBggqhkiG9w0DAgIBKDAKBggqhkjOPQQDAwRmMGQC
MHTlAyu/DoPOkIkcrvRIQ5wB6w5j8HPWWd8Jbr2HOP4OCHITxTs8bT7LxTmz3dIX
gAIwK6CCNfc7t1oyqBbl1riJN2E0dqtnFBuOjvUdhAOhbTnc8chZsPsdJjPURw56
Zm5T
-----END CMS-----
";

    fn pem_der(pem: &str) -> Vec<u8> {
        der::pem::decode_vec(pem.as_bytes()).unwrap().1
    }

    #[test]
    fn accepts_openssl_rsa_and_p384_signatures() {
        let now = datetime!(2026-11-26 00:00 UTC);
        let cases = [
            (
                OPENSSL_RSA_CA,
                OPENSSL_RSA_P7S,
                sha2::Sha256::digest(OPENSSL_CONTENT).to_vec(),
                "RSA PKCS#1 v1.5 with SHA-256",
            ),
            (
                OPENSSL_P384_CA,
                OPENSSL_P384_P7S,
                sha2::Sha384::digest(OPENSSL_CONTENT).to_vec(),
                "ECDSA P-384 with SHA-384",
            ),
        ];
        for (ca, p7s, h, alg) in cases {
            let trust = TrustList::from_pem(ca.as_bytes()).unwrap().0;
            let p7s = pem_der(p7s);
            let v = verify_auth_signature(&p7s, &h, &trust, now).unwrap();
            assert_eq!(v.signature_algorithm, alg);
            assert_eq!(v.identity.full_name, "Українка Леся");
            assert_eq!(
                v.identity.rnokpp.as_ref().map(Rnokpp::as_str),
                Some("3068208400")
            );
            assert_eq!(v.identity.cert_serial_hex, "1234");
            // and a flipped signature byte is caught on these paths too
            let mut bad = p7s.clone();
            let n = bad.len();
            bad[n - 20] ^= 1;
            let err = verify_auth_signature(&bad, &h, &trust, now).unwrap_err();
            assert!(matches!(err, VerifyError::BadSignature(_)), "{err}");
        }
    }

    #[test]
    fn verifies_signed_attributes_as_received_even_if_not_der_sorted() {
        use p256::pkcs8::DecodePrivateKey;
        use signature::Signer;
        let (_ca, signer, trust) = setup();
        let bundle = signer.to_pem_bundle().unwrap();
        let key_pem = &bundle[bundle.find("-----BEGIN PRIVATE KEY-----").unwrap()..];
        let key = p256::ecdsa::SigningKey::from_pkcs8_pem(key_pem).unwrap();
        let h = hash("unsorted");
        // Re-signing changes the signature length now and then; vary the time until it fits.
        for secs in 0..64 {
            let mut p7s = signer
                .sign_hash_cades(&h, NOW - Duration::seconds(secs))
                .unwrap();
            let (attrs_at, attrs_len, old_sig) = {
                let parsed = parse_cms(&p7s).unwrap();
                let raw = parsed.signed_attrs_raw.unwrap();
                let at = raw.as_ptr() as usize - p7s.as_ptr() as usize;
                (
                    at,
                    raw.len(),
                    parsed.signer_info.signature.as_bytes().to_vec(),
                )
            };
            let raw = p7s[attrs_at..attrs_at + attrs_len].to_vec();
            let t = tlv::single(&raw).unwrap();
            let header = &raw[..raw.len() - t.value.len()];
            let mut kids = tlv::children(t.value).unwrap();
            kids.reverse(); // no longer in DER SET OF order
            let mut reordered = header.to_vec();
            for k in &kids {
                reordered.extend_from_slice(k.raw);
            }
            assert_ne!(reordered, raw);
            let mut to_sign = reordered.clone();
            to_sign[0] = 0x31;
            let sig: p256::ecdsa::DerSignature = key.sign(&to_sign);
            if sig.as_bytes().len() != old_sig.len() {
                continue;
            }
            p7s[attrs_at..attrs_at + attrs_len].copy_from_slice(&reordered);
            let sig_at = find(&p7s, &old_sig);
            p7s[sig_at..sig_at + old_sig.len()].copy_from_slice(sig.as_bytes());
            // Decoding with DER rules re-sorts SET OF: re-encoding would not give the signed bytes.
            let ci = cms::content_info::ContentInfo::from_der(&p7s).unwrap();
            let sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
            let decoded = sd
                .signer_infos
                .0
                .get(0)
                .unwrap()
                .signed_attrs
                .clone()
                .unwrap();
            assert_ne!(decoded.to_der().unwrap(), to_sign);
            verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
            return;
        }
        panic!("could not produce a same-length signature");
    }
}
