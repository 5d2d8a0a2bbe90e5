//! What the tests share: processes, the demo stack, PKI, HTTP/2 and browser clients.

pub mod browser;
pub mod compose_stack;
pub mod crl_lists;
pub mod diia_stack;
pub mod helpers;
pub mod own_ca_responder;
pub mod processes;
pub mod raw_h2;
pub mod sign_in;
pub mod test_pki;
pub mod trust_mirror;
pub mod upstreams;
