//! Virtual sessions: what a local client gets when it logs in through the proxy. Each has a
//! proxy-only token and a URI under the BMC's session collection; none exists on the BMC.
//! They expire after the BMC's own `SessionTimeout` of inactivity, and the table is bounded
//! (the least recently used goes first; one local user's beyond its quota go before anyone
//! else's), so a client that never logs out costs nothing.
//!
//! Tokens are kept only as SHA-256 digests: the table holds nothing a client could replay.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// Virtual sessions kept at most; the least recently used is dropped to make room.
pub const MAX_VIRTUAL: usize = 4096;
/// Virtual sessions one local user keeps at most: beyond it, that user's own least recently
/// used goes, so one user's leaking tool cannot push out everyone else's sessions.
pub const MAX_PER_UID: usize = 1024;

#[derive(Debug, Clone)]
pub struct VirtualSession {
    pub id: String,
    /// The `UserName` the client logged in with (not checked: the kernel says who it is).
    pub user: String,
    /// The local user that created it.
    pub uid: u32,
    pub created: Instant,
    last_access: Instant,
}

pub struct VirtualSessions {
    timeout: Duration,
    /// By token digest.
    table: Mutex<HashMap<[u8; 32], VirtualSession>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl VirtualSessions {
    pub fn new(timeout: Duration) -> VirtualSessions {
        VirtualSessions {
            timeout,
            table: Mutex::new(HashMap::new()),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Creates a session and returns it with its token (given to the client once).
    pub fn create(&self, user: &str, uid: u32) -> (VirtualSession, Secret) {
        let mut raw = zeroize::Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(raw.as_mut());
        self.create_with(user, uid, Secret::new(hex::encode(raw.as_ref())))
    }

    /// [`Self::create`] with a token the caller made, in the shape its clients expect (an HMC
    /// token is 236 characters of base64); it must be as unguessable as one from `create`.
    pub fn create_with(&self, user: &str, uid: u32, token: Secret) -> (VirtualSession, Secret) {
        let mut raw = [0u8; 16];
        rand::rng().fill_bytes(&mut raw);
        let id = format!("hostagent-{}", hex::encode(raw));
        let now = Instant::now();
        let session = VirtualSession {
            id,
            user: user.chars().take(64).collect(),
            uid,
            created: now,
            last_access: now,
        };
        let mut table = self.lock();
        self.expire(&mut table, now);
        let own = table.values().filter(|s| s.uid == uid).count();
        let victim = if own >= MAX_PER_UID {
            table
                .iter()
                .filter(|(_, s)| s.uid == uid)
                .min_by_key(|(_, s)| s.last_access)
                .map(|(k, _)| *k)
        } else if table.len() >= MAX_VIRTUAL {
            table
                .iter()
                .min_by_key(|(_, s)| s.last_access)
                .map(|(k, _)| *k)
        } else {
            None
        };
        if let Some(key) = victim {
            table.remove(&key);
        }
        table.insert(digest(token.expose()), session.clone());
        (session, token)
    }

    /// The live session holding `token`, touched; `None` when unknown or expired.
    pub fn authenticate(&self, token: &str) -> Option<VirtualSession> {
        let now = Instant::now();
        let mut table = self.lock();
        let key = digest(token);
        let live = table
            .get(&key)
            .is_some_and(|s| now.duration_since(s.last_access) < self.timeout);
        if !live {
            table.remove(&key);
            return None;
        }
        let s = table.get_mut(&key)?;
        s.last_access = now;
        Some(s.clone())
    }

    /// The live session with this id (ids compare case-insensitively, as URIs do on iLO).
    pub fn by_id(&self, id: &str) -> Option<VirtualSession> {
        let now = Instant::now();
        let mut table = self.lock();
        self.expire(&mut table, now);
        table
            .values()
            .find(|s| s.id.eq_ignore_ascii_case(id))
            .cloned()
    }

    /// Ends the session with this id; whether it existed.
    pub fn remove(&self, id: &str) -> bool {
        let mut table = self.lock();
        let before = table.len();
        table.retain(|_, s| !s.id.eq_ignore_ascii_case(id));
        table.len() != before
    }

    /// Ends every session (their HMC or BMC is no longer served).
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn len(&self) -> usize {
        let mut table = self.lock();
        self.expire(&mut table, Instant::now());
        table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn expire(&self, table: &mut HashMap<[u8; 32], VirtualSession>, now: Instant) {
        table.retain(|_, s| now.duration_since(s.last_access) < self.timeout);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], VirtualSession>> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_authenticates_its_session_until_logout() {
        let v = VirtualSessions::new(Duration::from_secs(60));
        let (s, token) = v.create("admin", 1000);
        assert_eq!(
            v.authenticate(token.expose()).map(|x| x.id),
            Some(s.id.clone())
        );
        assert!(v.authenticate("not-a-token").is_none());
        assert_eq!(v.by_id(&s.id.to_uppercase()).map(|x| x.uid), Some(1000));
        assert!(v.remove(&s.id));
        assert!(!v.remove(&s.id));
        assert!(v.authenticate(token.expose()).is_none());
    }

    #[test]
    fn sessions_expire_after_the_timeout_of_inactivity() {
        let v = VirtualSessions::new(Duration::from_millis(50));
        let (_, token) = v.create("admin", 0);
        std::thread::sleep(Duration::from_millis(80));
        assert!(v.authenticate(token.expose()).is_none());
        assert!(v.is_empty());
    }

    #[test]
    fn one_user_cannot_push_out_another_users_sessions() {
        let v = VirtualSessions::new(Duration::from_secs(60));
        let (_, theirs) = v.create("ops", 1000);
        let (_, first_mine) = v.create("x", 2000);
        for _ in 0..MAX_PER_UID * 2 {
            v.create("x", 2000);
        }
        assert_eq!(
            v.len(),
            MAX_PER_UID + 1,
            "uid 2000 holds its quota, uid 1000 its one"
        );
        assert!(
            v.authenticate(theirs.expose()).is_some(),
            "the other user's session stays"
        );
        assert!(
            v.authenticate(first_mine.expose()).is_none(),
            "the leaking user's oldest went"
        );
    }

    #[test]
    fn the_table_is_bounded_and_drops_the_least_recently_used() {
        let v = VirtualSessions::new(Duration::from_secs(60));
        let (_, first) = v.create("a", 0);
        let (_, second) = v.create("b", 1);
        for i in 0..MAX_VIRTUAL - 2 {
            v.create("c", 2 + (i / MAX_PER_UID) as u32);
        }
        std::thread::sleep(Duration::from_millis(2));
        assert!(
            v.authenticate(first.expose()).is_some(),
            "touching keeps it"
        );
        v.create("d", 99);
        assert_eq!(v.len(), MAX_VIRTUAL);
        assert!(v.authenticate(first.expose()).is_some());
        assert!(
            v.authenticate(second.expose()).is_none(),
            "the least recently used went"
        );
    }
}
