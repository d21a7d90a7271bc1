//! Roles by uid, looked up in the user database off the accept loops. A lookup can block for
//! as long as NSS takes (LDAP, sssd), so it runs on a blocking thread; its answer is kept for
//! [`TTL`], so that a flood of connections from one user costs one lookup, and a change of
//! group membership takes effect within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::unistd::{Uid, User};

use super::{groups_of, role_of, Role};

/// How long a looked-up role is trusted.
pub const TTL: Duration = Duration::from_secs(60);
/// Distinct uids kept; the cache starts afresh beyond (a bound, not a policy).
const MAX_ENTRIES: usize = 4096;

pub struct Roles {
    admin_group: String,
    reader_group: String,
    cache: Mutex<HashMap<u32, Entry>>,
}

#[derive(Clone, Copy)]
struct Entry {
    /// The primary gid the role was worked out with (`None`: from the user database).
    gid: Option<u32>,
    role: Role,
    at: Instant,
}

impl Roles {
    pub fn new(admin_group: &str, reader_group: &str) -> Arc<Roles> {
        Arc::new(Roles {
            admin_group: admin_group.to_string(),
            reader_group: reader_group.to_string(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The role of `uid` (primary group `gid` when the kernel said, as SO_PEERCRED does), from
    /// the cache when fresh, else looked up on a blocking thread.
    pub async fn of(self: &Arc<Self>, uid: u32, gid: Option<u32>) -> (Role, u32) {
        if let Some(hit) = self.cached(uid, gid) {
            return (hit.role, hit.gid.or(gid).unwrap_or(u32::MAX));
        }
        let this = self.clone();
        let looked_up = tokio::task::spawn_blocking(move || this.look_up(uid, gid)).await;
        let (role, gid) = looked_up.unwrap_or((Role::None, gid.unwrap_or(u32::MAX)));
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(
            uid,
            Entry {
                gid: Some(gid),
                role,
                at: Instant::now(),
            },
        );
        (role, gid)
    }

    fn cached(&self, uid: u32, gid: Option<u32>) -> Option<Entry> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let hit = *cache.get(&uid)?;
        let same_gid = gid.is_none() || hit.gid == gid;
        (same_gid && hit.at.elapsed() < TTL).then_some(hit)
    }

    fn look_up(&self, uid: u32, gid: Option<u32>) -> (Role, u32) {
        let gid = gid.unwrap_or_else(|| {
            User::from_uid(Uid::from_raw(uid))
                .ok()
                .flatten()
                .map_or(u32::MAX, |u| u.gid.as_raw())
        });
        let groups = groups_of(uid, gid);
        (
            role_of(uid, &groups, &self.admin_group, &self.reader_group),
            gid,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_role_is_looked_up_once_and_kept() {
        let roles = Roles::new("root", "nosuchgroup-y");
        assert_eq!(roles.of(0, Some(0)).await.0, Role::Admin);
        assert_eq!(roles.of(65534, Some(65534)).await.0, Role::None);
        assert!(roles.cached(65534, Some(65534)).is_some());
        // Another primary gid than the cached one is looked up again.
        assert!(roles.cached(65534, Some(0)).is_none());
        assert_eq!(roles.of(65534, Some(0)).await.0, Role::Admin);
    }
}
