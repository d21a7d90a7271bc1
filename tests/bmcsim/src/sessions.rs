//! The session table: what a BMC keeps per session, the idle clock, and the limit.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::Serialize;

use crate::config::Profile;

/// How a session came to be, as the BMC would tell from the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    RestHost,
    HostApplication,
    Rest,
    WebUi,
    Console,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "rest-host" => Kind::RestHost,
            "host-application" => Kind::HostApplication,
            "rest" => Kind::Rest,
            "web-ui" => Kind::WebUi,
            "console" => Kind::Console,
            _ => return None,
        })
    }
}

/// Ground truth about one session (`GET /_sim/sessions`). The token is not shown there.
#[derive(Debug, Clone, Serialize)]
pub struct SimSession {
    pub id: String,
    #[serde(skip)]
    pub token: String,
    pub user: String,
    pub kind: Kind,
    /// `login`, `login-inband`, `login-chif` or `leak`.
    pub created_via: String,
    pub login_time: i64,
    pub access_time: i64,
    pub user_ip: String,
    pub context: Option<String>,
    /// The BMC refuses to delete it (`/_sim/leak` with `"undeletable": true`): iLO's
    /// emergency sessions answer 405 with `Allow: GET`, other BMCs 403.
    pub undeletable: bool,
}

pub struct Table {
    pub profile: Profile,
    by_token: HashMap<String, SimSession>,
    /// Decoded, lower-cased session id → token.
    by_id: HashMap<String, String>,
    pub max_sessions: usize,
    /// Idle timeout in seconds; 0 = never.
    pub timeout: u64,
    /// Seconds added to the real clock by `/_sim/clock`.
    pub clock_offset: i64,
    next_numeric_id: u64,
    /// Every token ever issued, deleted sessions' too (`GET /_sim/tokens`): a leak test
    /// greps the agent's output for each of them.
    issued: Vec<String>,
    /// When the BMC last booted, on its clock: the Manager's `LastResetTime`.
    pub booted: i64,
}

pub fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

fn alnum(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

impl Table {
    pub fn new(profile: Profile, max_sessions: usize, timeout: u64) -> Table {
        Table {
            profile,
            by_token: HashMap::new(),
            by_id: HashMap::new(),
            max_sessions,
            timeout,
            clock_offset: 0,
            next_numeric_id: 1,
            issued: Vec::new(),
            booted: real_now(),
        }
    }

    pub fn now(&self) -> i64 {
        real_now() + self.clock_offset
    }

    fn expired(&self, s: &SimSession, now: i64) -> bool {
        self.timeout > 0 && now - s.access_time >= self.timeout as i64
    }

    /// Drops every session idle past the timeout.
    pub fn sweep(&mut self) {
        let now = self.now();
        let dead: Vec<String> = self
            .by_token
            .values()
            .filter(|s| self.expired(s, now))
            .map(|s| s.token.clone())
            .collect();
        for token in dead {
            self.remove_token(&token);
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

    /// NOTE(hpe): iLO ids are the lower-cased user name, the login time as 16 hex digits and
    /// a random hex suffix; iDRAC numbers its sessions; bmcweb uses 10 random characters.
    fn new_id(&mut self, user: &str, now: i64) -> String {
        match self.profile {
            Profile::Idrac => {
                self.next_numeric_id += 1;
                self.next_numeric_id.to_string()
            }
            Profile::Bmcweb => alnum(10),
            _ => format!("{}{:016x}{}", user.to_lowercase(), now, hex(8)),
        }
    }

    fn new_token(&self) -> String {
        match self.profile {
            Profile::Bmcweb => alnum(20),
            _ => hex(32),
        }
    }

    /// Makes a session; the caller checked the limit.
    pub fn create(
        &mut self,
        user: &str,
        kind: Kind,
        via: &str,
        user_ip: &str,
        context: Option<String>,
    ) -> SimSession {
        let now = self.now();
        let session = SimSession {
            id: self.new_id(user, now),
            token: self.new_token(),
            user: user.to_string(),
            kind,
            created_via: via.to_string(),
            login_time: now,
            access_time: now,
            user_ip: user_ip.to_string(),
            context,
            undeletable: false,
        };
        self.issued.push(session.token.clone());
        self.by_id
            .insert(session.id.to_lowercase(), session.token.clone());
        self.by_token.insert(session.token.clone(), session.clone());
        session
    }

    /// Every token issued since start, oldest first.
    pub fn issued_tokens(&self) -> &[String] {
        &self.issued
    }

    /// The live session of a token, its access time moved to now.
    pub fn touch(&mut self, token: &str) -> Option<SimSession> {
        let now = self.now();
        let expired = self.by_token.get(token).map(|s| self.expired(s, now))?;
        if expired {
            self.remove_token(token);
            return None;
        }
        let s = self.by_token.get_mut(token)?;
        s.access_time = now;
        Some(s.clone())
    }

    pub fn get_by_id(&mut self, id: &str) -> Option<SimSession> {
        self.sweep();
        let token = self.by_id.get(&id.to_lowercase())?;
        self.by_token.get(token).cloned()
    }

    /// Marks a session as one the BMC will not delete.
    pub fn set_undeletable(&mut self, id: &str) {
        if let Some(token) = self.by_id.get(&id.to_lowercase()) {
            if let Some(s) = self.by_token.get_mut(token) {
                s.undeletable = true;
            }
        }
    }

    pub fn remove_by_id(&mut self, id: &str) -> Option<SimSession> {
        let token = self.by_id.get(&id.to_lowercase())?.clone();
        self.remove_token(&token)
    }

    pub fn remove_token(&mut self, token: &str) -> Option<SimSession> {
        let s = self.by_token.remove(token)?;
        self.by_id.remove(&s.id.to_lowercase());
        Some(s)
    }

    pub fn clear(&mut self) {
        self.by_token.clear();
        self.by_id.clear();
    }

    /// A BMC reboot: every session is gone. NOTE(dell): iDRAC numbers its sessions again from
    /// 2 after a reboot, so a session id of before the reboot names another session after it.
    pub fn reboot(&mut self) {
        self.clear();
        self.next_numeric_id = 1;
        self.booted = self.now();
    }

    /// Every live session, oldest first (ties by id), as a BMC lists them.
    pub fn list(&mut self) -> Vec<SimSession> {
        self.sweep();
        let mut all: Vec<SimSession> = self.by_token.values().cloned().collect();
        all.sort_by(|a, b| (a.login_time, &a.id).cmp(&(b.login_time, &b.id)));
        all
    }
}
