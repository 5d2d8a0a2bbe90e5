//! One integration-test binary (one link step, shared helpers). Real PostgreSQL, real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests fail loudly by design
// The tests stand outside the product: they read the real clock to drive it (the product reads
// time only through `kepgate::clock`).
#![allow(clippy::disallowed_methods)]

// What the tests share (processes, stacks, PKI, clients), apart from the tests themselves; the
// tests name them as `crate::helpers`, `crate::diia_stack`, ….
mod support;
use support::{
    browser, compose_stack, crl_lists, diia_stack, helpers, own_ca_responder, processes, raw_h2,
    sign_in, test_pki, trust_mirror, upstreams,
};

mod apache_rp;
mod attacks;
mod breach;
mod browser_e2e;
mod ca_revocation;
mod cabinet_edges;
mod certificate_status;
mod cli;
mod compose;
mod crl_attacks;
mod database;
mod diia;
mod docs;
mod docs_commands;
mod dstu_independent;
mod faults;
mod forward_auth;
mod fuzz_regressions;
mod gate_bypass;
mod hostile_input;
mod http2_limits;
mod https_upstreams;
mod idgovua;
mod kubernetes;
mod login;
mod oidc;
mod oidc_library;
mod oidc_review;
mod operator_files;
mod operator_pages;
mod pages;
mod proxy;
mod qr_relay;
mod reload;
mod replicas;
mod revocation;
mod service_manager;
mod sessions;
mod signing;
mod signing_attacks;
mod tls;
mod tls_certificates;
mod traces;
mod trust_sources;
