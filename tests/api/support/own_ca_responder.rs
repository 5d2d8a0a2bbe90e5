//! The revocation services of the tests' own CA (the one the tests sign callbacks with): an
//! OCSP responder and a full CRL over loopback HTTP, named in every certificate the CA issues
//! after [`publish`], so the gateway asks about them as it asks a real CA.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use kepgate_signature::ocsp::CertStatus;
use kepgate_signature::test_ca::{Publication, RevokedCert, TestCa};
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

struct Published {
    ca: TestCa,
    revoked: Mutex<Vec<RevokedCert>>,
}

/// Ends the services when dropped.
pub struct OwnCaServices {
    published: Arc<Published>,
    _stop: oneshot::Sender<()>,
}

impl OwnCaServices {
    /// From now on the CA's responder and CRL say `serial` is revoked (key compromise).
    pub fn revoke(&self, serial: &[u8]) {
        let mut revoked = self.published.revoked.lock().unwrap();
        revoked.push(RevokedCert {
            serial: serial.to_vec(),
            at: OffsetDateTime::now_utc() - Duration::minutes(1),
            reason: Some(1),
        });
    }
}

/// Serves `ca`'s OCSP responder and CRL on a random port and names them in what it issues.
pub async fn publish(ca: &mut TestCa) -> OwnCaServices {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    ca.set_publication(Publication {
        ocsp_url: Some(format!("{base}/ocsp")),
        crl_url: Some(format!("{base}/own.crl")),
        delta_crl_url: None,
    });
    let published = Arc::new(Published {
        ca: ca.clone(),
        revoked: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/ocsp", post(ocsp))
        .route("/own.crl", get(crl))
        .with_state(published.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    OwnCaServices {
        published,
        _stop: stop,
    }
}

async fn ocsp(State(p): State<Arc<Published>>, request: Bytes) -> impl IntoResponse {
    let now = OffsetDateTime::now_utc();
    let revoked = p.revoked.lock().unwrap().clone();
    let status = |serial: &[u8]| {
        revoked
            .iter()
            .find(|r| r.serial == serial)
            .map_or(CertStatus::Good, |r| CertStatus::Revoked {
                at: r.at,
                reason: r.reason,
            })
    };
    let der =
        p.ca.ocsp_response(&request, status, now, Some(now + Duration::minutes(10)));
    ([(CONTENT_TYPE, "application/ocsp-response")], der)
}

async fn crl(State(p): State<Arc<Published>>) -> impl IntoResponse {
    let now = OffsetDateTime::now_utc();
    let revoked = p.revoked.lock().unwrap().clone();
    // Numbered by the second, so each list is newer than the one before.
    let number = now.unix_timestamp().unsigned_abs();
    let der =
        p.ca.crl(&revoked, number, now, now + Duration::hours(1))
            .unwrap();
    ([(CONTENT_TYPE, "application/pkix-crl")], der)
}
