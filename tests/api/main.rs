//! One integration-test binary (one link step, shared helpers). Real PostgreSQL, real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod cli;
mod compose;
mod database;
mod helpers;
mod pages;
