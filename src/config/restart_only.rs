//! The keys read only when the gateway starts: the sockets it binds, the pool it opens, the
//! logger it installs, how it accepts connections and how it stops. A reload that changes one
//! names it; the change waits for a restart.

use secrecy::ExposeSecret;

use super::sections::Settings;

/// The restart-only keys whose values differ between `running` and `next`.
pub fn changed_restart_only_keys(running: &Settings, next: &Settings) -> Vec<&'static str> {
    let (a, b) = (&running.server, &next.server);
    let (da, db) = (&running.database, &next.database);
    [
        ("server.listen", a.listen == b.listen),
        ("server.tls", same(&a.tls, &b.tls)),
        ("server.http2", same(&a.http2, &b.http2)),
        (
            "server.header_read_timeout",
            a.header_read_timeout == b.header_read_timeout,
        ),
        (
            "server.max_connections_per_address",
            a.max_connections_per_address == b.max_connections_per_address,
        ),
        // Which peers the per-address cap exempts is fixed with the listener; which peers'
        // X-Forwarded-For is believed follows the reload.
        (
            "proxy.trusted_proxies (exempt from server.max_connections_per_address)",
            running.proxy.trusted_proxies == next.proxy.trusted_proxies,
        ),
        (
            "server.shutdown_delay",
            a.shutdown_delay == b.shutdown_delay,
        ),
        (
            "server.shutdown_grace",
            a.shutdown_grace == b.shutdown_grace,
        ),
        (
            "database.url",
            da.url.expose_secret() == db.url.expose_secret(),
        ),
        (
            "database.max_connections",
            da.max_connections == db.max_connections,
        ),
        (
            "database.acquire_timeout",
            da.acquire_timeout == db.acquire_timeout,
        ),
        ("metrics", same(&running.metrics, &next.metrics)),
        ("log", same(&running.log, &next.log)),
    ]
    .into_iter()
    .filter_map(|(key, same)| (!same).then_some(key))
    .collect()
}

/// Equal as configured (these sections hold no secret, so their `Debug` is all of them).
fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_names_each_restart_only_key_it_cannot_apply_and_nothing_else() {
        let running = Settings::load_with(None, false, super::super::Defaults::Production).unwrap();
        let mut next = running.clone();
        assert!(changed_restart_only_keys(&running, &next).is_empty());
        next.server.listen = "127.0.0.1:1".parse().unwrap();
        next.database.url = "postgres://other@db/kepgate".into();
        next.login.start_rate_per_minute += 1;
        next.ui.time_zone = "UTC".into();
        assert_eq!(
            changed_restart_only_keys(&running, &next),
            ["server.listen", "database.url"]
        );
    }
}
