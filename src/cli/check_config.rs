//! `kepgate check-config`: everything `serve` builds before it reaches the database, built the
//! same way ([`OfflineParts`]), and a report of what it found. Exit 2 names what is wrong.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use super::exit::print_whole;
use crate::app::OfflineParts;
use crate::clock::SystemClock;
use crate::config::{RevocationMode, Settings};

pub fn check_config(settings: &Settings) -> ExitCode {
    let offline = match OfflineParts::load(settings, Arc::new(SystemClock)) {
        Ok(offline) => offline,
        Err(e) => {
            eprintln!("kepgate: configuration error:\n{e:#}");
            return ExitCode::from(2);
        }
    };
    warn(settings, &offline);
    let mut report = Report::default();
    report.server(settings, &offline);
    report.trust(settings, &offline);
    report.pages(settings, &offline);
    report.oidc(settings, &offline);
    for line in offline
        .providers
        .check_config_lines(settings.server.kepgate_address())
    {
        report.say(format_args!("{line}"));
    }
    print_whole(&report.0, "the report")
}

/// What works but should not be left so, on stderr.
fn warn(settings: &Settings, offline: &OfflineParts) {
    for warning in offline.certificate.iter().flat_map(|c| c.warnings()) {
        eprintln!("warning: {warning}");
    }
    for (id, provider) in &settings.providers {
        if provider.common().allow_http {
            eprintln!(
                "warning: providers.{id}.allow_http = true: the provider may be reached over plain \
                 http, where anyone on the path reads kepgate's credentials (and, for id.gov.ua, \
                 chooses who signs in). Use it for a demo on a private network only."
            );
        }
    }
    if settings.trust.revocation == RevocationMode::Off {
        eprintln!(
            "warning: trust.revocation = \"off\": certificates are not checked for revocation, so a \
             stolen or revoked key signs in. Use it for the demo only."
        );
    }
}

/// The report on stdout, one line at a time.
#[derive(Default)]
struct Report(String);

impl Report {
    fn say(&mut self, line: std::fmt::Arguments) {
        let _ = writeln!(self.0, "{line}");
    }

    fn server(&mut self, settings: &Settings, offline: &OfflineParts) {
        let server = &settings.server;
        self.say(format_args!("configuration OK"));
        self.say(format_args!("  users browse:         {}", server.base_url));
        self.say(format_args!(
            "  providers and phones: {}",
            server.public_base_url()
        ));
        self.say(format_args!(
            "  kepgate routes under: {}",
            server.route_prefix
        ));
        let Some(tls) = &server.tls else {
            return;
        };
        let protocols = if tls.http2 {
            "HTTP/2, HTTP/1.1"
        } else {
            "HTTP/1.1"
        };
        let until = offline
            .certificate
            .as_ref()
            .map(|c| format!(", valid until {}", c.not_after().date()))
            .unwrap_or_default();
        let watched = if tls.watch_interval.is_zero() {
            String::new()
        } else {
            format!(" and every {} s if changed", tls.watch_interval.as_secs())
        };
        self.say(format_args!(
            "  HTTPS ({protocols}) with {}{until} (read again on SIGHUP{watched})",
            tls.cert_file.display(),
        ));
    }

    fn trust(&mut self, settings: &Settings, offline: &OfflineParts) {
        self.say(format_args!(
            "  trusted CA certificates: {}",
            offline.trust.len()
        ));
        self.say(format_args!(
            "  certificate status (OCSP): {}",
            match settings.trust.revocation {
                RevocationMode::Require => "required at every login",
                RevocationMode::Prefer =>
                    "asked; a CA that cannot be reached lets the login through",
                RevocationMode::Off => {
                    "NOT ASKED (trust.revocation = \"off\"): revoked keys sign in — demo only"
                }
            }
        ));
        if let Some(sources) = &settings.trust.sources {
            self.say(format_args!(
                "  and the national list from {} and {}, every {} s (`kepgate trust show` lists the one in force)",
                sources.bundle_url,
                sources.providers_url,
                sources.refresh_interval.as_secs()
            ));
        }
        if let Some(path) = &settings.trust.ca_list {
            self.say(format_args!(
                "    responders for certificates that name none: {} CA names from {}",
                offline.ca_list.len(),
                path.display()
            ));
        }
        for (path, report) in &offline.trust_reports {
            self.say(format_args!("    {}: {}", path.display(), report.summary()));
            for entry in report.skipped.iter().chain(&report.unusable_keys) {
                self.say(format_args!(
                    "      entry {}: {}",
                    entry.index, entry.reason
                ));
            }
        }
    }

    fn pages(&mut self, settings: &Settings, offline: &OfflineParts) {
        let Some(dir) = &settings.ui.pages_dir else {
            return;
        };
        let replaced = offline.custom_pages.replaced();
        self.say(format_args!(
            "  the organisation's pages ({}): {}; files served under static/site/: {}",
            dir.display(),
            if replaced.is_empty() {
                "no built-in page replaced".to_owned()
            } else {
                format!("replace {}", replaced.join(", "))
            },
            offline.custom_pages.asset_count()
        ));
    }

    fn oidc(&mut self, settings: &Settings, offline: &OfflineParts) {
        if !settings.oidc.enabled {
            return;
        }
        let base_url = &settings.server.base_url;
        self.say(format_args!(
            "  OpenID Provider: issuer {}, discovery {}.well-known/openid-configuration",
            base_url.as_str().trim_end_matches('/'),
            base_url
        ));
        for client in offline.oidc_clients.iter() {
            self.say(format_args!(
                "    client {} «{}» ({}): scopes {}, ID tokens {}{}",
                client.id,
                client.name,
                if client.is_public() {
                    "public, PKCE"
                } else {
                    "confidential"
                },
                client.scopes.join(" "),
                client.id_token_alg.name(),
                if client.backchannel_logout_uri.is_some() {
                    ", back-channel logout"
                } else {
                    ""
                }
            ));
        }
    }
}
