//! The web-session table: what the HMC keeps per `X-API-Session`, the accounts with their
//! idle timeouts, the simulated clock and the limit.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Ground truth about one web session (`GET /_sim/sessions`). The token is not shown there
/// (`GET /_sim/tokens` lists every token issued).
#[derive(Debug, Clone, Serialize)]
pub struct HmcSession {
    /// [`session_id`] of the token: lets a test holding a token find its session.
    pub id: String,
    #[serde(skip)]
    pub token: String,
    pub user: String,
    /// The logon's `X-Audit-Memento` header, if it had one.
    pub audit_memento: Option<String>,
    /// Epoch seconds on the simulated clock.
    pub created: i64,
    pub last_used: i64,
    /// The peer's IP address.
    pub peer: String,
    /// `logon` or `leak` (made by `/_sim/leak`).
    pub created_via: String,
    /// Order of creation: `created` has one-second resolution.
    #[serde(skip)]
    pub seq: u64,
}

/// The first 12 hex digits of the token's SHA-256: a session's name in the control API.
pub fn session_id(token: &str) -> String {
    hex::encode(&Sha256::digest(token.as_bytes())[..6])
}

/// NOTE(ibm): a real token is 236 characters of URL-safe base64 ending in one `=`
/// (176 random bytes; tests/fixtures/hmc/logon.xml).
pub fn new_token() -> String {
    let mut bytes = [0u8; 176];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

pub fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    #[serde(skip)]
    pub password: String,
    /// Idle timeout, seconds; 0 = never.
    pub timeout_s: u64,
}

pub struct Table {
    by_token: HashMap<String, HmcSession>,
    pub accounts: HashMap<String, Account>,
    pub max_sessions: usize,
    /// Seconds added to the real clock by `/_sim/clock`.
    pub clock_offset: i64,
    next_seq: u64,
    /// Every token ever issued, logged-off sessions' too: a leak test greps the agent's
    /// output for each of them.
    issued: Vec<String>,
}

impl Table {
    pub fn new(max_sessions: usize) -> Table {
        Table {
            by_token: HashMap::new(),
            accounts: HashMap::new(),
            max_sessions,
            clock_offset: 0,
            next_seq: 0,
            issued: Vec::new(),
        }
    }

    pub fn now(&self) -> i64 {
        real_now() + self.clock_offset
    }

    pub fn set_account(&mut self, user: &str, password: &str, timeout_s: u64) {
        let account = Account {
            password: password.to_string(),
            timeout_s,
        };
        self.accounts.insert(user.to_string(), account);
    }

    /// User IDs are case-sensitive on the HMC; so is the password.
    pub fn credentials_ok(&self, user: &str, password: &str) -> bool {
        self.accounts
            .get(user)
            .is_some_and(|a| a.password == password)
    }

    fn timeout_of(&self, user: &str) -> u64 {
        self.accounts.get(user).map(|a| a.timeout_s).unwrap_or(0)
    }

    fn expired(&self, s: &HmcSession, now: i64) -> bool {
        let timeout = self.timeout_of(&s.user);
        timeout > 0 && now - s.last_used >= timeout as i64
    }

    /// Drops every session idle past its user's timeout.
    pub fn sweep(&mut self) {
        let now = self.now();
        let dead: Vec<String> = self
            .by_token
            .values()
            .filter(|s| self.expired(s, now))
            .map(|s| s.token.clone())
            .collect();
        for token in dead {
            self.by_token.remove(&token);
        }
    }

    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }

    pub fn is_full(&mut self) -> bool {
        self.sweep();
        self.by_token.len() >= self.max_sessions
    }

    /// Makes a session; the caller checked the limit.
    pub fn create(
        &mut self,
        user: &str,
        audit_memento: Option<String>,
        peer: &str,
        via: &str,
    ) -> HmcSession {
        let now = self.now();
        let token = new_token();
        self.next_seq += 1;
        let session = HmcSession {
            seq: self.next_seq,
            id: session_id(&token),
            token: token.clone(),
            user: user.to_string(),
            audit_memento,
            created: now,
            last_used: now,
            peer: peer.to_string(),
            created_via: via.to_string(),
        };
        self.issued.push(token.clone());
        self.by_token.insert(token, session.clone());
        session
    }

    pub fn issued_tokens(&self) -> &[String] {
        &self.issued
    }

    /// The live session of a token, its last use moved to now; an expired one is dropped.
    pub fn touch(&mut self, token: &str) -> Option<HmcSession> {
        let now = self.now();
        let expired = self.by_token.get(token).map(|s| self.expired(s, now))?;
        if expired {
            self.by_token.remove(token);
            return None;
        }
        let s = self.by_token.get_mut(token)?;
        s.last_used = now;
        Some(s.clone())
    }

    pub fn remove(&mut self, token: &str) -> Option<HmcSession> {
        self.by_token.remove(token)
    }

    /// Drops every session (an HMC reboot); returns how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.by_token.len();
        self.by_token.clear();
        n
    }

    /// Every live session, oldest first.
    pub fn list(&mut self) -> Vec<HmcSession> {
        self.sweep();
        let mut all: Vec<HmcSession> = self.by_token.values().cloned().collect();
        all.sort_by_key(|s| s.seq);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_real_shape_and_length() {
        let captured = include_str!("../../fixtures/hmc/logon.xml");
        let real = captured
            .split("kxe=\"false\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap();
        let ours = new_token();
        assert_eq!(ours.len(), real.len());
        assert_eq!(ours.len(), 236);
        assert!(ours.ends_with('=') && !ours.ends_with("=="));
        let alphabet = |c: char| c.is_ascii_alphanumeric() || "-_".contains(c);
        assert!(ours.trim_end_matches('=').chars().all(alphabet));
        assert!(real.trim_end_matches('=').chars().all(alphabet));
        assert_ne!(new_token(), ours);
    }

    #[test]
    fn sessions_are_listed_in_creation_order_within_one_second() {
        let mut t = Table::new(100);
        let made: Vec<String> = (0..50)
            .map(|n| t.create("u", Some(n.to_string()), "127.0.0.1", "logon").id)
            .collect();
        let listed: Vec<String> = t.list().into_iter().map(|s| s.id).collect();
        assert_eq!(listed, made);
    }

    #[test]
    fn idle_timeout_is_per_user_and_zero_means_never() {
        let mut t = Table::new(10);
        t.set_account("forever", "p", 0);
        t.set_account("brief", "p", 60);
        let a = t.create("forever", None, "127.0.0.1", "logon");
        let b = t.create("brief", None, "127.0.0.1", "logon");
        t.clock_offset += 59;
        assert!(t.touch(&b.token).is_some(), "59 s idle is within 60");
        t.clock_offset += 60;
        assert!(t.touch(&b.token).is_none(), "60 s idle since the last use");
        t.clock_offset += 10 * 365 * 86400;
        assert!(t.touch(&a.token).is_some(), "0 = never");
        assert_eq!(t.list().len(), 1);
    }
}
