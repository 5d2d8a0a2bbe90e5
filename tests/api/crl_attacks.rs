//! CRLs over plain HTTP with somebody on the path (issue 32): the distribution points serve what
//! the attacker picks from the CA's own signed lists — a delta at a complete list's address, an
//! older list, another partition's list, a list kepgate cannot fully read — while the OCSP
//! responder is blocked and `trust.revocation = "require"`. What is met is the login: a key's
//! signed callback is confirmed or refused. Every list is made by OpenSSL (`openssl ca -gencrl`)
//! or Python `cryptography` (`tests/tools/make_crl.py`).

use std::time::Duration;

use kepgate::config::RevocationMode;
use kepgate_signature::test_ca::TestSigner;
use serde_json::json;
use time::OffsetDateTime;

use crate::crl_lists::{CrlServer, ListSpec, Listed, ListingCa};
use crate::diia_stack::{DiiaStack, encode_data, now, spawn_diia_stack_configured};

/// The refusal when OCSP is blocked and no CRL kepgate may use answers for the certificate.
const UNDETERMINED: &str = "ocsp_http_error";
const REVOKED: &str = "certificate_revoked";

/// A gateway trusting `cas`, refreshing CRLs every second, its responders blocked by `lists`.
struct Scene {
    stack: DiiaStack,
    lists: CrlServer,
}

impl Scene {
    async fn new(lists: CrlServer, cas: &[&ListingCa]) -> Scene {
        Scene::under(RevocationMode::Require, lists, cas).await
    }

    /// Like [`Scene::new`] under the policy `mode`.
    async fn under(mode: RevocationMode, lists: CrlServer, cas: &[&ListingCa]) -> Scene {
        let files: Vec<_> = cas.iter().map(|ca| ca.cert_path()).collect();
        let (stack, _) = spawn_diia_stack_configured(false, |s| {
            s.trust.revocation = mode;
            s.trust.files.extend(files);
            s.trust.crl_refresh = Duration::from_secs(1);
            s.trust.revocation_timeout = Duration::from_millis(500);
            s.trust.revocation_retries = 0;
            s.trust.revocation_cache_max = Duration::ZERO;
            // A scene plays more logins from one address than a minute's starts allow.
            s.login.start_rate_per_minute = 1000;
        })
        .await;
        assert_eq!(stack.settings.trust.revocation, mode);
        Scene { stack, lists }
    }

    /// One login with `signer`'s key: confirmed, or the refusal's reason.
    async fn login(&self, signer: &TestSigner) -> Result<(), String> {
        let started = self.stack.start_login().await;
        let hash = self.stack.pending(started.id).await.request_hash;
        let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();
        let response = self
            .stack
            .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
            .await;
        let body: serde_json::Value = response.json().await.unwrap();
        match body["success"].as_bool() {
            Some(true) => Ok(()),
            _ => Err(body["reason"].as_str().unwrap_or_default().to_owned()),
        }
    }

    /// Every known list due now; waits until the refresher has been at each (stored or
    /// refused). Twice: a download under way before the lists changed may end after the first.
    async fn refreshed(&self) {
        for _ in 0..2 {
            sqlx::query(
                "UPDATE revocation_lists SET due_at = now(), fetched_at = NULL, last_error = NULL",
            )
            .execute(&self.stack.app.db)
            .await
            .unwrap();
            for _ in 0..200 {
                let waiting: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM revocation_lists
                     WHERE fetched_at IS NULL AND last_error IS NULL",
                )
                .fetch_one(&self.stack.app.db)
                .await
                .unwrap();
                if waiting == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    fn serve(&self, case: &str, served: &Served) {
        let lists = &self.lists;
        lists.serve(&format!("/{case}/full.crl"), served.complete.clone());
        lists.serve(&format!("/{case}/delta.crl"), served.delta.clone());
    }
}

/// What a case's two distribution points serve (404 for None).
#[derive(Default)]
struct Served {
    complete: Option<Vec<u8>>,
    delta: Option<Vec<u8>>,
}

impl Served {
    fn complete(der: Vec<u8>) -> Served {
        Served {
            complete: Some(der),
            delta: None,
        }
    }
}

/// A person whose certificate names `/{name}/full.crl` and `/{name}/delta.crl`; what those
/// serve before the person's first login (which makes them known), and what they serve after
/// the refresher stored that, if it changes.
struct Case {
    name: &'static str,
    person: TestSigner,
    first: Served,
    then: Option<Served>,
}

/// Plays the cases side by side; the login each comes to at the end.
async fn play(scene: &Scene, cases: &[Case]) -> Vec<(&'static str, Result<(), String>)> {
    for case in cases {
        scene.serve(case.name, &case.first);
        let first = scene.login(&case.person).await;
        assert!(
            first.is_err(),
            "{}: no list stored yet: {first:?}",
            case.name
        );
    }
    scene.refreshed().await;
    if cases.iter().any(|c| c.then.is_some()) {
        for case in cases {
            if let Some(then) = &case.then {
                scene.serve(case.name, then);
            }
        }
        scene.refreshed().await;
    }
    let mut outcomes = Vec::new();
    for case in cases {
        outcomes.push((case.name, scene.login(&case.person).await));
    }
    outcomes
}

fn refused(reason: &str) -> Result<(), String> {
    Err(reason.to_owned())
}

/// One CA per case: lists of one case can never answer for another's certificates.
struct Cas {
    lists: CrlServer,
    cas: Vec<(&'static str, ListingCa)>,
}

impl Cas {
    async fn new(names: &[&'static str]) -> Cas {
        let cas = names.iter().map(|n| (*n, ListingCa::new(n))).collect();
        Cas {
            lists: CrlServer::start().await,
            cas,
        }
    }

    fn ca(&self, name: &str) -> &ListingCa {
        &self.cas.iter().find(|(n, _)| *n == name).unwrap().1
    }

    /// A person of the case's CA naming the case's lists.
    fn person(&self, name: &str) -> TestSigner {
        self.ca(name).person(self.lists.publication(name))
    }

    async fn scene(&self) -> Scene {
        let cas: Vec<&ListingCa> = self.cas.iter().map(|(_, ca)| ca).collect();
        Scene::new(self.lists.clone(), &cas).await
    }
}

#[tokio::test]
async fn a_list_swapped_on_the_way_does_not_unrevoke_a_key() {
    let names = [
        "honest-good",
        "honest-revoked",
        "delta-at-the-full-address",
        "delta-after-the-full-list",
        "older-list-same-date",
        "older-delta-same-date",
        "old-delta-takes-back",
    ];
    let cas = Cas::new(&names).await;
    let scene = cas.scene().await;
    let date = OffsetDateTime::now_utc() - time::Duration::minutes(10);
    // A list numbered `n`, dated `date`, made by OpenSSL / Python.
    let full = |case: &str, n: u64, revoked: &[Listed<'_>]| {
        cas.ca(case).openssl_list(&ListSpec::new(n, revoked), "")
    };
    let delta = |case: &str, n: u64, base: u64, revoked: &[Listed<'_>]| {
        cas.ca(case)
            .python_list(&ListSpec::new(n, revoked), Some(base), json!({}))
    };
    let mut cases = Vec::new();

    let name = "honest-good";
    let (person, other) = (cas.person(name), cas.person(name));
    cases.push(Case {
        name,
        first: Served::complete(full(name, 10, &[Listed::new(&other, "keyCompromise")])),
        then: None,
        person,
    });

    let name = "honest-revoked";
    let person = cas.person(name);
    cases.push(Case {
        name,
        first: Served::complete(full(name, 10, &[Listed::new(&person, "keyCompromise")])),
        then: None,
        person,
    });

    // The CA's complete list #10 revokes the key; what arrives at its address is the CA's delta
    // #11, which names only what changed since #10.
    let name = "delta-at-the-full-address";
    let person = cas.person(name);
    cases.push(Case {
        name,
        first: Served::complete(delta(name, 11, 10, &[])),
        then: None,
        person,
    });

    // The same, after the complete list was stored.
    let name = "delta-after-the-full-list";
    let person = cas.person(name);
    cases.push(Case {
        name,
        first: Served::complete(full(name, 10, &[Listed::new(&person, "keyCompromise")])),
        then: Some(Served::complete(delta(name, 11, 10, &[]))),
        person,
    });

    // A CA that dates its lists by the start of the issuing period: #11 revokes the key, then
    // #10 of the same date, from before the revocation, is served again.
    let name = "older-list-same-date";
    let person = cas.person(name);
    let ca = cas.ca(name);
    let dated = |n, revoked| {
        let mut spec = ListSpec::new(n, revoked);
        spec.this_update = date;
        ca.openssl_list(&spec, "")
    };
    cases.push(Case {
        name,
        first: Served::complete(dated(11, &[Listed::new(&person, "keyCompromise")])),
        then: Some(Served::complete(dated(10, &[]))),
        person,
    });

    // The same with deltas: delta #12 revokes the key, then delta #11 of the same date.
    let name = "older-delta-same-date";
    let person = cas.person(name);
    let ca = cas.ca(name);
    let dated_delta = |n, revoked| {
        let mut spec = ListSpec::new(n, revoked);
        spec.this_update = date;
        ca.python_list(&spec, Some(10), json!({}))
    };
    cases.push(Case {
        name,
        first: Served {
            complete: Some(full(name, 10, &[])),
            delta: Some(dated_delta(12, &[Listed::new(&person, "keyCompromise")])),
        },
        then: Some(Served {
            complete: Some(full(name, 10, &[])),
            delta: Some(dated_delta(11, &[])),
        }),
        person,
    });

    // The key was on hold in #10 and released by delta #11 (removeFromCRL); then revoked for
    // key compromise in complete list #12. The old delta #11, of #12's date, is served beside it.
    let name = "old-delta-takes-back";
    let person = cas.person(name);
    let ca = cas.ca(name);
    let compromised = [Listed::new(&person, "keyCompromise")];
    let mut complete_12 = ListSpec::new(12, &compromised);
    complete_12.this_update = date;
    let released = [Listed::new(&person, "removeFromCRL")];
    let mut delta_11 = ListSpec::new(11, &released);
    delta_11.this_update = date;
    cases.push(Case {
        name,
        first: Served {
            complete: Some(ca.openssl_list(&complete_12, "")),
            delta: Some(ca.python_list(&delta_11, Some(10), json!({}))),
        },
        then: None,
        person,
    });

    let outcomes = play(&scene, &cases).await;
    assert_eq!(
        outcomes,
        [
            ("honest-good", Ok(())),
            ("honest-revoked", refused(REVOKED)),
            ("delta-at-the-full-address", refused(UNDETERMINED)),
            ("delta-after-the-full-list", refused(REVOKED)),
            ("older-list-same-date", refused(REVOKED)),
            ("older-delta-same-date", refused(REVOKED)),
            ("old-delta-takes-back", refused(REVOKED)),
        ]
    );
}

#[tokio::test]
async fn a_list_kepgate_cannot_fully_read_decides_nothing() {
    let names = [
        "openssl-control",
        "python-control",
        "no-next-update",
        "critical-extension",
        "critical-entry-extension",
        "indirect",
        "some-reasons",
        "attribute-certificates",
        "ca-certificates-only",
        "user-certificates-only",
    ];
    let cas = Cas::new(&names).await;
    let scene = cas.scene().await;
    let mut cases = Vec::new();
    for name in names {
        // A good key; the list revokes another certificate of the CA.
        let (person, other) = (cas.person(name), cas.person(name));
        let ca = cas.ca(name);
        let mut listed = [Listed::new(&other, "keyCompromise")];
        let idp = |lines: &str| {
            format!(
                "issuingDistributionPoint = critical, @idp\n[idp]\nfullname = URI:{}\n{lines}",
                cas.lists.url(&format!("/{name}/full.crl"))
            )
        };
        let list = match name {
            "openssl-control" => ca.openssl_list(&ListSpec::new(5, &listed), ""),
            "python-control" => ca.python_list(&ListSpec::new(5, &listed), None, json!({})),
            // An old list, from before the key was revoked, that never says it ends.
            "no-next-update" => {
                let mut spec = ListSpec::new(5, &listed);
                spec.this_update = OffsetDateTime::now_utc() - time::Duration::days(60);
                spec.next_update = None;
                ca.python_list(&spec, None, json!({}))
            }
            "critical-extension" => ca.openssl_list(
                &ListSpec::new(5, &listed),
                "1.3.6.1.4.1.55555.7 = critical, DER:05:00",
            ),
            "critical-entry-extension" => {
                listed[0].critical_extension = true;
                ca.python_list(&ListSpec::new(5, &listed), None, json!({}))
            }
            "indirect" => ca.openssl_list(&ListSpec::new(5, &listed), &idp("indirectCRL = TRUE")),
            "some-reasons" => ca.openssl_list(
                &ListSpec::new(5, &listed),
                &idp("onlysomereasons = keyCompromise"),
            ),
            "attribute-certificates" => {
                ca.openssl_list(&ListSpec::new(5, &listed), &idp("onlyAA = TRUE"))
            }
            "ca-certificates-only" => {
                ca.openssl_list(&ListSpec::new(5, &listed), &idp("onlyCA = TRUE"))
            }
            "user-certificates-only" => {
                ca.openssl_list(&ListSpec::new(5, &listed), &idp("onlyuser = TRUE"))
            }
            other => unreachable!("{other}"),
        };
        cases.push(Case {
            name,
            person,
            first: Served::complete(list),
            then: None,
        });
    }
    let outcomes = play(&scene, &cases).await;
    assert_eq!(
        outcomes,
        [
            ("openssl-control", Ok(())),
            ("python-control", Ok(())),
            ("no-next-update", refused(UNDETERMINED)),
            ("critical-extension", refused(UNDETERMINED)),
            ("critical-entry-extension", refused(UNDETERMINED)),
            ("indirect", refused(UNDETERMINED)),
            ("some-reasons", refused(UNDETERMINED)),
            ("attribute-certificates", refused(UNDETERMINED)),
            ("ca-certificates-only", refused(UNDETERMINED)),
            ("user-certificates-only", Ok(())),
        ]
    );
    // The operator reads why in the list's row.
    let errors: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT url, last_error FROM revocation_lists WHERE NOT is_delta ORDER BY url",
    )
    .fetch_all(&scene.stack.app.db)
    .await
    .unwrap();
    let error_of = |name: &str| {
        errors
            .iter()
            .find(|(url, _)| url.contains(&format!("/{name}/")))
            .and_then(|(_, e)| e.clone())
            .unwrap_or_default()
    };
    for (name, words) in [
        ("no-next-update", "nextUpdate"),
        ("critical-extension", "1.3.6.1.4.1.55555.7"),
        ("critical-entry-extension", "entry"),
        ("indirect", "indirectCRL"),
        ("some-reasons", "onlySomeReasons"),
        ("attribute-certificates", "onlyContainsAttributeCerts"),
    ] {
        assert!(error_of(name).contains(words), "{name}: {}", error_of(name));
    }
}

#[tokio::test]
async fn a_partitioned_list_answers_only_for_the_certificates_that_point_at_it() {
    let lists = CrlServer::start().await;
    let ca = ListingCa::new("partitioned");
    let scene = Scene::new(lists.clone(), &[&ca]).await;
    // The CA partitions its revocations: each certificate names one partition's list, and each
    // list names its partition (IssuingDistributionPoint).
    let partition = |name: &str, revoked: &[Listed<'_>]| {
        let idp = format!(
            "issuingDistributionPoint = critical, @idp\n[idp]\nfullname = URI:{}\nonlyuser = TRUE",
            lists.url(&format!("/{name}/full.crl"))
        );
        ca.openssl_list(&ListSpec::new(7, revoked), &idp)
    };
    let person = |name: &str| ca.person(lists.publication(name));
    let (p1, k2, k3, k4) = (person("p1"), person("p2"), person("p3"), person("p4"));
    let partition_1 = partition("p1", &[]);
    let cases = vec![
        Case {
            name: "p1",
            first: Served::complete(partition_1.clone()),
            then: None,
            person: p1,
        },
        // Partition 2's list revokes the key; the attacker keeps it from kepgate.
        Case {
            name: "p2",
            first: Served::default(),
            then: None,
            person: k2,
        },
        // Partition 3's key is revoked; the attacker serves partition 1's list in its place.
        Case {
            name: "p3",
            first: Served::complete(partition_1),
            then: None,
            person: k3,
        },
        Case {
            name: "p4",
            first: Served::complete(partition("p4", &[Listed::new(&k4, "keyCompromise")])),
            then: None,
            person: k4,
        },
    ];
    let outcomes = play(&scene, &cases).await;
    assert_eq!(
        outcomes,
        [
            ("p1", Ok(())),
            ("p2", refused(UNDETERMINED)),
            ("p3", refused(UNDETERMINED)),
            ("p4", refused(REVOKED)),
        ]
    );
}

/// CA A's list at an address revokes A's person; CA B, also trusted, issues a certificate
/// naming the same address (a re-keyed CA, or one that copied another's extension), and B's
/// person signs in. A's list stays A's: under `prefer`, with OCSP blocked, A's revoked key is
/// still refused. Before, B's login re-bound the address to B's key and cleared A's list.
#[tokio::test]
async fn another_cas_certificate_naming_a_lists_address_leaves_that_list_alone() {
    let lists = CrlServer::start().await;
    let (a, b) = (ListingCa::new("rightful"), ListingCa::new("stranger"));
    let scene = Scene::under(RevocationMode::Prefer, lists.clone(), &[&a, &b]).await;
    let person = a.person(lists.publication("shared"));
    let strangers_person = b.person(lists.publication("shared"));
    let revoked = [Listed::new(&person, "keyCompromise")];
    scene.serve(
        "shared",
        &Served::complete(a.openssl_list(&ListSpec::new(3, &revoked), "")),
    );
    // Nothing stored yet and OCSP blocked: `prefer` lets it through, and the address is known.
    assert_eq!(scene.login(&person).await, Ok(()));
    scene.refreshed().await;
    assert_eq!(scene.login(&person).await, refused(REVOKED));

    // B's certificate makes the address known for B's key too.
    assert_eq!(scene.login(&strangers_person).await, Ok(()));
    assert_eq!(scene.login(&person).await, refused(REVOKED));
    // Downloaded for each key and checked against each: the list is A's, not B's.
    scene.refreshed().await;
    assert_eq!(scene.login(&person).await, refused(REVOKED));
    assert_eq!(scene.login(&strangers_person).await, Ok(()));
    let rows: Vec<(Option<Vec<u8>>, Option<String>)> = sqlx::query_as(
        "SELECT crl_number, last_error FROM revocation_lists WHERE url LIKE '%/shared/full.crl'
         ORDER BY crl_number NULLS LAST",
    )
    .fetch_all(&scene.stack.app.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0], (Some(vec![3]), None), "A's list");
    assert!(rows[1].0.is_none() && rows[1].1.is_some(), "B's: {rows:?}");
}

/// The CA's complete list #10 revokes a key. On the path, the attacker serves at that address
/// the same CA's list of another scope (its ARL: CA certificates only), then its older list #5
/// from before the revocation. Before, the ARL took the address's place (the person's
/// certificate then had no list: `prefer` signed the key in), after which #5 found no list of
/// its scope to be compared with and was stored (`require` signed it in too).
#[tokio::test]
async fn a_list_of_another_scope_takes_no_addresss_place_and_an_older_one_stays_older() {
    let lists = CrlServer::start().await;
    let ca = ListingCa::new("rescoped");
    let scene = Scene::new(lists.clone(), &[&ca]).await;
    let person = ca.person(lists.publication("rescoped"));
    let revoked = [Listed::new(&person, "keyCompromise")];
    let arl = format!(
        "issuingDistributionPoint = critical, @idp\n[idp]\nfullname = URI:{}\nonlyCA = TRUE",
        lists.url("/rescoped/full.crl")
    );
    let cases = [Case {
        name: "rescoped",
        first: Served::complete(ca.openssl_list(&ListSpec::new(10, &revoked), "")),
        then: Some(Served::complete(
            ca.openssl_list(&ListSpec::new(20, &[]), &arl),
        )),
        person,
    }];
    let outcomes = play(&scene, &cases).await;
    assert_eq!(outcomes, [("rescoped", refused(REVOKED))], "after the ARL");
    scene.serve(
        "rescoped",
        &Served::complete(ca.openssl_list(&ListSpec::new(5, &[]), "")),
    );
    scene.refreshed().await;
    assert_eq!(
        scene.login(&cases[0].person).await,
        refused(REVOKED),
        "after the older list"
    );
    let last_error: Option<String> = sqlx::query_scalar(
        "SELECT last_error FROM revocation_lists WHERE url LIKE '%/rescoped/full.crl'",
    )
    .fetch_one(&scene.stack.app.db)
    .await
    .unwrap();
    assert!(
        last_error.as_deref().is_some_and(|e| e.contains("older")),
        "{last_error:?}"
    );
}
