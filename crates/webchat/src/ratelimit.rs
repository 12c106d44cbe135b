//! Abuse control without raw IP addresses.
//!
//! The client address is reduced at once to its network prefix (IPv4 /24, IPv6 /48) and
//! that prefix to a keyed SHA-256 with a random key that lives only in this process's
//! memory. Only this [`PrefixKey`] is kept, only in memory, only as long as a rate-limit
//! bucket or connection count needs it. Neither the address nor the key is stored in the
//! database, logged or traced; after a restart the old keys cannot be linked to anything.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Keyed hash of a client's network prefix (16 bytes of HMAC-like SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixKey([u8; 16]);

/// Turns client addresses into [`PrefixKey`]s with a per-process random key.
pub struct PrefixHasher {
    key: [u8; 32],
}

impl Default for PrefixHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PrefixHasher {
    pub fn new() -> Self {
        Self {
            key: rand::random(),
        }
    }

    pub fn key_of(&self, addr: Option<IpAddr>) -> PrefixKey {
        let prefix: Vec<u8> = match addr.map(canonical) {
            Some(IpAddr::V4(v4)) => {
                let o = v4.octets();
                vec![4, o[0], o[1], o[2]]
            }
            Some(IpAddr::V6(v6)) => {
                let o = v6.octets();
                let mut p = vec![6];
                p.extend_from_slice(&o[..6]);
                p
            }
            None => vec![0],
        };
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(&prefix);
        h.update(self.key);
        let out = h.finalize();
        let mut k = [0u8; 16];
        k.copy_from_slice(&out[..16]);
        PrefixKey(k)
    }
}

fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// A set of token buckets keyed by `K`. Idle buckets are forgotten.
pub struct Buckets<K> {
    per_minute: u32,
    burst: u32,
    map: Mutex<HashMap<K, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_minute,
            burst: burst.max(1),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token; `Err(wait)` says how long until one is available.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(self.per_minute) / 60.0;
        let burst = f64::from(self.burst);
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > 100_000 {
            // Forget full buckets so the map cannot grow without bound.
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let b = map.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else if rate <= 0.0 {
            Err(Duration::from_secs(3600))
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }

    /// Gives back a token taken for a request that was refused for another reason.
    pub fn refund(&self, key: &K) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(b) = map.get_mut(key) {
            b.tokens = (b.tokens + 1.0).min(f64::from(self.burst));
        }
    }
}

/// Concurrent connections per prefix.
pub struct ConnectionCounter {
    max: u32,
    map: Mutex<HashMap<PrefixKey, u32>>,
}

impl ConnectionCounter {
    pub fn new(max: u32) -> Self {
        Self {
            max,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a connection in, unless the prefix is at its maximum.
    pub fn enter(self: &std::sync::Arc<Self>, key: PrefixKey) -> Option<ConnectionSlot> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let n = map.entry(key).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(ConnectionSlot {
            counter: self.clone(),
            key,
        })
    }
}

/// One counted connection; counts out on drop.
pub struct ConnectionSlot {
    counter: std::sync::Arc<ConnectionCounter>,
    key: PrefixKey,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut map = self
            .counter
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn prefixes_group_neighbours_and_hide_addresses() {
        let h = PrefixHasher::new();
        let a = h.key_of(Some("192.0.2.10".parse().unwrap()));
        let b = h.key_of(Some("192.0.2.200".parse().unwrap()));
        let c = h.key_of(Some("192.0.3.10".parse().unwrap()));
        let mapped = h.key_of(Some("::ffff:192.0.2.7".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, mapped);
        let v6a = h.key_of(Some("2001:db8:1:2::1".parse().unwrap()));
        let v6b = h.key_of(Some("2001:db8:1:ffff::1".parse().unwrap()));
        assert_eq!(v6a, v6b);
        // Another process (another key) yields unrelated keys.
        assert_ne!(
            PrefixHasher::new().key_of(Some("192.0.2.10".parse().unwrap())),
            a
        );
    }

    #[test]
    fn bucket_refills() {
        let b = Buckets::new(60, 2);
        let t0 = Instant::now();
        assert!(b.take_at(&1, t0).is_ok());
        assert!(b.take_at(&1, t0).is_ok());
        let wait = b.take_at(&1, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1));
        assert!(b.take_at(&2, t0).is_ok());
        assert!(b.take_at(&1, t0 + Duration::from_millis(1100)).is_ok());
    }

    #[test]
    fn connection_limit() {
        let c = Arc::new(ConnectionCounter::new(1));
        let k = PrefixHasher::new().key_of(None);
        let s = c.enter(k).unwrap();
        assert!(c.enter(k).is_none());
        drop(s);
        assert!(c.enter(k).is_some());
    }
}
