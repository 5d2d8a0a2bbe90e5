//! Cloud-key providers: the adapters the login flow talks to.

pub mod diia;
