//! One integration-test binary (one link step, shared helpers). Real PostgreSQL, real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests fail loudly by design
// The tests stand outside the product: they read the real clock to drive it (the product reads
// time only through `kepgate::clock`).
#![allow(clippy::disallowed_methods)]

mod apache_rp;
mod attacks;
mod breach;
mod browser;
mod browser_e2e;
mod ca_revocation;
mod cabinet_edges;
mod certificate_status;
mod cli;
mod compose;
mod crl_attacks;
mod crl_lists;
mod database;
mod diia;
mod diia_stack;
mod faults;
mod forward_auth;
mod fuzz_regressions;
mod gate_bypass;
mod helpers;
mod hostile_input;
mod http2_limits;
mod https_upstreams;
mod idgovua;
mod login;
mod oidc;
mod oidc_library;
mod oidc_review;
mod operator_files;
mod operator_pages;
mod own_ca_responder;
mod pages;
mod processes;
mod proxy;
mod qr_relay;
mod raw_h2;
mod replicas;
mod revocation;
mod sessions;
mod sign_in;
mod test_pki;
mod tls;
mod tls_certificates;
mod upstreams;
