//! The cap on open connections per client address (`server.max_connections_per_address`),
//! counted when a connection is accepted, before TLS or HTTP. The address is the TCP peer's: at
//! accept nothing else is known (a client behind a front proxy shows only in the headers of
//! its requests), so `proxy.trusted_proxies` are exempt. IPv6 peers count by /64, the block one
//! host or LAN is given, as an office's IPv4 address behind NAT.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// Open connections by address.
type Open = Arc<Mutex<HashMap<IpAddr, usize>>>;

pub struct PerAddress {
    /// 0: no cap.
    cap: usize,
    exempt: Vec<ipnet::IpNet>,
    open: Open,
}

/// Held by a connection for its whole life: its place in its address's count.
pub struct Slot(Option<(IpAddr, Open)>);

/// The address already holds the cap.
#[derive(Debug)]
pub struct AtCap;

impl PerAddress {
    pub fn new(cap: usize, exempt: Vec<ipnet::IpNet>) -> Self {
        Self {
            cap,
            exempt,
            open: Arc::default(),
        }
    }

    /// A place for a new connection from `peer`, unless its address holds the cap already.
    pub fn admit(&self, peer: IpAddr) -> Result<Slot, AtCap> {
        let peer = peer.to_canonical();
        if self.cap == 0 || self.exempt.iter().any(|net| net.contains(&peer)) {
            return Ok(Slot(None));
        }
        let key = counted_as(peer);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key).or_default();
        if *count >= self.cap {
            return Err(AtCap);
        }
        *count += 1;
        Ok(Slot(Some((key, self.open.clone()))))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((key, open)) = self.0.take() {
            let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = open.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&key);
                }
            }
        }
    }
}

/// IPv4 as it is; IPv6 by its /64.
fn counted_as(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_up_to_the_cap_and_a_closed_connection_frees_its_place() {
        let cap = PerAddress::new(2, vec!["10.0.0.1/32".parse().unwrap()]);
        let peer: IpAddr = "192.0.2.7".parse().unwrap();
        let first = cap.admit(peer).unwrap();
        let _second = cap.admit(peer).unwrap();
        assert!(cap.admit(peer).is_err());
        // The same address written as IPv4-mapped IPv6 (a dual-stack listener) is the same.
        assert!(cap.admit("::ffff:192.0.2.7".parse().unwrap()).is_err());
        assert!(cap.admit("192.0.2.8".parse().unwrap()).is_ok());
        drop(first);
        assert!(cap.admit(peer).is_ok());
        // A trusted front proxy carries everyone's connections.
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..10).map(|_| cap.admit(proxy).unwrap()).collect();
        assert_eq!(held.len(), 10);
    }

    #[test]
    fn ipv6_peers_count_by_their_64() {
        let cap = PerAddress::new(1, Vec::new());
        let _held = cap.admit("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(cap.admit("2001:db8:1:2:ffff::9".parse().unwrap()).is_err());
        assert!(cap.admit("2001:db8:1:3::1".parse().unwrap()).is_ok());
    }
}
