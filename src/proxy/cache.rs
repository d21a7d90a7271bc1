//! The proxy's GET cache (`api.cache_ttl`, off by default): successful answers kept in memory
//! for the TTL, bounded in entries and bytes, and dropped when anyone writes to the same
//! resource, to a resource below it, or to its collection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;

use super::path::key_of;

pub const MAX_ENTRIES: usize = 1024;
pub const MAX_BYTES: usize = 32 << 20;

#[derive(Clone)]
pub struct Cached {
    pub headers: HeaderMap,
    pub body: Bytes,
}

struct Entry {
    value: Cached,
    stored: Instant,
    /// The decoded path, for invalidation.
    path_key: String,
}

pub struct Cache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    /// `None` when the TTL is zero: no cache.
    pub fn new(ttl: Duration) -> Option<Cache> {
        (!ttl.is_zero()).then(|| Cache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        })
    }

    /// `key` is the path and query as sent to the BMC.
    pub fn get(&self, key: &str) -> Option<Cached> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some(e) if e.stored.elapsed() < self.ttl => Some(e.value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: &str, path: &str, value: Cached) {
        if value.body.len() > MAX_BYTES / 16 {
            return;
        }
        let mut entries = self.lock();
        let now = Instant::now();
        entries.retain(|_, e| now.duration_since(e.stored) < self.ttl);
        let mut bytes: usize = entries.values().map(|e| e.value.body.len()).sum();
        while entries.len() >= MAX_ENTRIES || bytes + value.body.len() > MAX_BYTES {
            let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.stored)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = entries.remove(&oldest) {
                bytes -= e.value.body.len();
            }
        }
        entries.insert(
            key.to_string(),
            Entry {
                value,
                stored: now,
                path_key: key_of(path),
            },
        );
    }

    /// A write to `path`: forget it (any query), everything below it, and its parent
    /// collection (whose members may have changed).
    pub fn invalidate(&self, path: &str) {
        let written = key_of(path);
        let parent = written.rsplit_once('/').map(|(p, _)| {
            if p.is_empty() {
                "/".to_string()
            } else {
                p.to_string()
            }
        });
        let below = format!("{written}/");
        self.lock().retain(|_, e| {
            e.path_key != written
                && !e.path_key.starts_with(&below)
                && Some(&e.path_key) != parent.as_ref()
        });
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Cached {
        Cached {
            headers: HeaderMap::new(),
            body: Bytes::from(text.to_string()),
        }
    }

    #[test]
    fn zero_ttl_means_no_cache() {
        assert!(Cache::new(Duration::ZERO).is_none());
    }

    #[test]
    fn entries_live_for_the_ttl() {
        let c = Cache::new(Duration::from_millis(40)).unwrap();
        c.put("/redfish/v1/Systems/1", "/redfish/v1/Systems/1", value("a"));
        assert_eq!(c.get("/redfish/v1/Systems/1").unwrap().body, "a");
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.get("/redfish/v1/Systems/1").is_none());
    }

    #[test]
    fn a_write_drops_the_resource_its_children_and_its_collection_only() {
        let c = Cache::new(Duration::from_secs(60)).unwrap();
        for p in [
            "/redfish/v1/Systems",
            "/redfish/v1/Systems/1/",
            "/redfish/v1/Systems/1/Bios",
            "/redfish/v1/Systems/10",
            "/redfish/v1/Chassis/1",
        ] {
            c.put(p, p, value(p));
        }
        c.put(
            "/redfish/v1/Systems/1?$select=Name",
            "/redfish/v1/Systems/1",
            value("q"),
        );
        c.invalidate("/redfish/v1/Systems/1");
        assert!(c.get("/redfish/v1/Systems/1/").is_none());
        assert!(c.get("/redfish/v1/Systems/1?$select=Name").is_none());
        assert!(c.get("/redfish/v1/Systems/1/Bios").is_none());
        assert!(c.get("/redfish/v1/Systems").is_none());
        assert!(c.get("/redfish/v1/Systems/10").is_some());
        assert!(c.get("/redfish/v1/Chassis/1").is_some());
    }

    #[test]
    fn the_cache_is_bounded_in_entries() {
        let c = Cache::new(Duration::from_secs(60)).unwrap();
        for i in 0..MAX_ENTRIES + 10 {
            let p = format!("/redfish/v1/x/{i}");
            c.put(&p, &p, value("x"));
        }
        assert_eq!(c.len(), MAX_ENTRIES);
    }
}
