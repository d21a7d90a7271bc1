//! The agent's one session with an HMC: the XML logon (`PUT /rest/api/web/Logon`, with
//! `X-Audit-Memento`), the `X-API-Session` token in a [`Secret`], one logon again on 401 (or
//! 403 with reason code 5) and one retry, the logoff, and the token kept in the kernel keyring
//! ([`super::keyring`]) so that the next start reuses it instead of leaking it.
//!
//! The relogin rules are those of the Redfish session core (`session::agent`): a generation
//! counter tells a request whose token was refused whether another task has logged on again
//! meanwhile (one revocation, one logon), one logon at a time, and a failed logon's error is
//! shared by every request that waited for it. On top of that, each failed logon backs off
//! (doubling) before the next is tried, whoever asks: a wrong password then costs the HMC
//! account one failed logon per back-off period, not one per request, so it never locks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, Method, StatusCode};
use tokio::sync::{Mutex, RwLock};

use super::error::HmcError;
use super::kept::Kept;
use super::keyring::Keyring;
use super::xml;
use crate::credentials::Credentials;
use crate::secret::Secret;
use crate::transport::{Request, Response, Transport};

/// The logon and logoff path.
pub const LOGON_PATH: &str = "/rest/api/web/Logon";
/// A cheap authenticated GET that tells whether a token found in the keyring is still live.
pub const PROBE_PATH: &str = "/rest/api/uom/ManagementConsole";

#[derive(Debug, Clone)]
pub struct UpstreamOptions {
    /// How long a request waits for a logon under way.
    pub logon_wait: Duration,
    pub logoff_timeout: Duration,
    /// Back-off after a failed logon when the HMC did not answer: doubling from the first to
    /// the second value.
    pub unreachable_backoff: (Duration, Duration),
    /// Back-off after a refused or unusable logon (a wrong password): doubling likewise.
    pub refused_backoff: (Duration, Duration),
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        UpstreamOptions {
            logon_wait: Duration::from_secs(40),
            logoff_timeout: Duration::from_secs(10),
            unreachable_backoff: (Duration::from_secs(1), Duration::from_secs(30)),
            refused_backoff: (Duration::from_secs(60), Duration::from_secs(3600)),
        }
    }
}

/// The last failed logon: its text (never a secret), when the next may be tried, and how
/// many failed in a row.
#[derive(Debug, Clone)]
struct Failure {
    reason: String,
    not_before: Instant,
    count: u32,
}

pub struct Upstream {
    pub name: String,
    transport: Arc<dyn Transport>,
    creds: Credentials,
    memento: HeaderValue,
    /// The token and its generation.
    state: RwLock<(Option<Secret>, u64)>,
    logon_lock: Mutex<()>,
    failure: std::sync::Mutex<Option<Failure>>,
    keyring: Option<(Keyring, String)>,
    /// Set by [`Upstream::close`]: the table was removed or the agent stops; no more logons.
    closed: std::sync::atomic::AtomicBool,
    opts: UpstreamOptions,
}

/// Whether an answer means the token is not (or no longer) valid.
fn token_refused(resp: &Response) -> bool {
    resp.status == StatusCode::UNAUTHORIZED
        || (resp.status == StatusCode::FORBIDDEN
            && xml::reason_code(&resp.body).as_deref() == Some("5"))
}

impl Upstream {
    /// `keyring`: where the token is kept between runs, with this agent's description prefix
    /// ([`super::kept::prefix`]).
    pub fn new(
        name: &str,
        transport: Arc<dyn Transport>,
        creds: Credentials,
        memento: &str,
        keyring: Option<(Keyring, String)>,
        opts: UpstreamOptions,
    ) -> Upstream {
        let keyring = keyring.map(|(ring, prefix)| {
            let desc = super::kept::description(&prefix, name, &transport.endpoint(), &creds.user);
            (ring, desc)
        });
        Upstream {
            name: name.to_string(),
            memento: HeaderValue::from_str(memento)
                .unwrap_or_else(|_| HeaderValue::from_static("hostagent")),
            transport,
            creds,
            state: RwLock::new((None, 0)),
            logon_lock: Mutex::new(()),
            failure: std::sync::Mutex::new(None),
            keyring,
            closed: Default::default(),
            opts,
        }
    }

    pub fn endpoint(&self) -> String {
        self.transport.endpoint()
    }

    pub fn keyring(&self) -> Option<&Keyring> {
        self.keyring.as_ref().map(|(k, _)| k)
    }

    /// The description of this HMC's key in the keyring.
    pub fn key_description(&self) -> Option<&str> {
        self.keyring.as_ref().map(|(_, d)| d.as_str())
    }

    pub async fn logged_on(&self) -> bool {
        self.state.read().await.0.is_some()
    }

    /// Why the last logon failed, until one succeeds.
    pub fn last_error(&self) -> Option<String> {
        self.failure_lock().as_ref().map(|f| f.reason.clone())
    }

    fn failure_lock(&self) -> std::sync::MutexGuard<'_, Option<Failure>> {
        self.failure.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn transport_error(&self, source: crate::transport::TransportError) -> HmcError {
        HmcError::Transport {
            name: self.name.clone(),
            source,
        }
    }

    fn authorized(&self, mut req: Request, token: Option<&Secret>) -> Request {
        req.headers.insert("x-audit-memento", self.memento.clone());
        if let Some(mut value) = token.and_then(|t| HeaderValue::from_str(t.expose()).ok()) {
            value.set_sensitive(true);
            req.headers.insert("x-api-session", value);
        }
        req
    }

    /// At start: the token a previous run left in the keyring when the HMC still knows it
    /// (no new session), else a logon. Backs off like any logon.
    pub async fn start(&self) -> Result<(), HmcError> {
        let _one = self.logon_lock.lock().await;
        if self.state.read().await.0.is_some() {
            return Ok(());
        }
        if let Some((ring, desc)) = &self.keyring {
            let kept = ring.find(desc).map(|payload| Kept::parse(&payload));
            if let Some(Err(e)) = &kept {
                tracing::warn!(hmc = %self.name, error = %e, "dropping an unreadable key from the kernel keyring");
                ring.remove(desc);
            }
            if let Some(Ok(Kept { token, .. })) = kept {
                match self.probe(&token).await {
                    Ok(true) => {
                        tracing::info!(hmc = %self.name, keyring = ring.kind.describe(), "reusing the HMC session a previous run of the agent left (found in the kernel keyring)");
                        self.set_token(Some(token)).await;
                        return Ok(());
                    }
                    Ok(false) => ring.remove(desc),
                    Err(e) => return Err(self.failed(e)),
                }
            }
        }
        self.logon_locked().await
    }

    /// Whether the HMC still accepts `token`: any answer but 401 / 403 reason 5 says yes.
    async fn probe(&self, token: &Secret) -> Result<bool, HmcError> {
        let mut req = Request::get(PROBE_PATH);
        req.headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/atom+xml"),
        );
        let resp = self
            .transport
            .send(self.authorized(req, Some(token)))
            .await
            .map_err(|e| self.transport_error(e))?;
        Ok(!token_refused(&resp))
    }

    async fn set_token(&self, token: Option<Secret>) {
        let mut state = self.state.write().await;
        state.0 = token;
        state.1 += 1;
    }

    /// One logon, the logon lock held, unless the back-off forbids one yet or the HMC is
    /// no longer served.
    async fn logon_locked(&self) -> Result<(), HmcError> {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(HmcError::Closed {
                name: self.name.clone(),
            });
        }
        if let Some(f) = self.failure_lock().clone() {
            let now = Instant::now();
            if f.not_before > now {
                return Err(HmcError::BackingOff {
                    name: self.name.clone(),
                    reason: f.reason,
                    retry_in: f.not_before - now,
                });
            }
        }
        match self.post_logon().await {
            Ok(token) => {
                tracing::info!(hmc = %self.name, endpoint = %self.endpoint(), "logged on to the HMC");
                self.keep(&token);
                self.set_token(Some(token)).await;
                *self.failure_lock() = None;
                Ok(())
            }
            Err(e) => {
                self.set_token(None).await;
                Err(self.failed(e))
            }
        }
    }

    /// Keeps the token in the keyring with what a later run needs to log it off.
    fn keep(&self, token: &Secret) {
        let Some((ring, desc)) = &self.keyring else {
            return;
        };
        let kept = Kept {
            endpoint: self.endpoint(),
            fingerprint: self.transport.peer_fingerprint(),
            token: token.clone(),
        };
        if let Err(e) = ring.store(desc, &kept.encode()) {
            tracing::warn!(hmc = %self.name, error = %e, "cannot keep the HMC token in the kernel keyring: a crash of the agent would leave its session on the HMC");
        }
    }

    /// Records a failed logon and its back-off; returns the error.
    fn failed(&self, e: HmcError) -> HmcError {
        let (first, max) = if e.is_unreachable() {
            self.opts.unreachable_backoff
        } else {
            self.opts.refused_backoff
        };
        let mut failure = self.failure_lock();
        let count = failure.as_ref().map_or(0, |f| f.count + 1);
        let wait = first.saturating_mul(1 << count.min(16)).min(max);
        tracing::warn!(hmc = %self.name, error = %e, retry_in_s = wait.as_secs(), "logon to the HMC failed");
        *failure = Some(Failure {
            reason: e.to_string(),
            not_before: Instant::now() + wait,
            count,
        });
        e
    }

    async fn post_logon(&self) -> Result<Secret, HmcError> {
        let mut req = Request::new(Method::PUT, LOGON_PATH);
        req.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(xml::LOGON_REQUEST_TYPE),
        );
        req.headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static(xml::LOGON_RESPONSE_TYPE),
        );
        req.body = xml::logon_request(&self.creds);
        let resp = self
            .transport
            .send(self.authorized(req, None))
            .await
            .map_err(|e| self.transport_error(e))?;
        let content_type = resp.header_str("content-type").unwrap_or("no Content-Type");
        if !resp.status.is_success() {
            return Err(HmcError::Refused {
                name: self.name.clone(),
                user: self.creds.user.clone(),
                status: resp.status.as_u16(),
                message: super::xml::message_of(&resp.body),
            });
        }
        xml::token_of(&resp.body).map_err(|reason| HmcError::BadLogon {
            name: self.name.clone(),
            content_type: content_type.to_string(),
            reason,
        })
    }

    /// Sends a request with the agent's token, logging on first when it holds none (and the
    /// back-off allows). A refused token: one logon again (shared with every request that met
    /// the same refusal) and one retry, whose answer is final.
    pub async fn send(&self, req: Request) -> Result<Response, HmcError> {
        if self.logon_lock.try_lock().is_err() {
            drop(self.lock_within().await?);
        }
        let generation = self.ensure_token().await?;
        let resp = self.send_with_token(req.clone()).await?;
        if !token_refused(&resp) {
            return Ok(resp);
        }
        tracing::info!(hmc = %self.name, path = %req.path, "the HMC no longer knows the agent's session: logging on again");
        self.relogon(generation).await?;
        self.send_with_token(req).await
    }

    async fn send_with_token(&self, req: Request) -> Result<Response, HmcError> {
        let req = {
            let state = self.state.read().await;
            self.authorized(req, state.0.as_ref())
        };
        self.transport
            .send(req)
            .await
            .map_err(|e| self.transport_error(e))
    }

    async fn lock_within(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, HmcError> {
        let wait = self.opts.logon_wait;
        tokio::time::timeout(wait, self.logon_lock.lock())
            .await
            .map_err(|_| HmcError::LogonPending {
                name: self.name.clone(),
                wait,
            })
    }

    /// The current generation, logging on first when no token is held.
    async fn ensure_token(&self) -> Result<u64, HmcError> {
        {
            let state = self.state.read().await;
            if state.0.is_some() {
                return Ok(state.1);
            }
        }
        let _one = self.lock_within().await?;
        if self.state.read().await.0.is_none() {
            self.logon_locked().await?;
        }
        Ok(self.state.read().await.1)
    }

    /// Logs on again unless another task did since `generation`.
    async fn relogon(&self, generation: u64) -> Result<(), HmcError> {
        let _one = self.lock_within().await?;
        {
            let state = self.state.read().await;
            if state.1 != generation {
                if state.0.is_some() {
                    return Ok(());
                }
                drop(state);
                return self.logon_locked().await;
            }
        }
        if let Some((ring, desc)) = &self.keyring {
            ring.remove(desc);
        }
        self.set_token(None).await;
        crate::metrics::global()
            .hmc
            .relogin(&[("hmc", self.name.clone())]);
        self.logon_locked().await
    }

    /// Logs off for good: no logon after this (a request still in flight gets
    /// [`HmcError::Closed`] instead of making a new session), then [`Upstream::logoff`].
    pub async fn close(&self) -> Result<(), HmcError> {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        // A logon under way finishes (or fails) first, so its token is logged off too; one
        // that hangs does not hold the stop for longer than a logoff may take.
        let _one = tokio::time::timeout(self.opts.logoff_timeout, self.logon_lock.lock()).await;
        self.logoff().await
    }

    /// Logs off with a fresh timeout and forgets the token in memory, so a second call does
    /// nothing. The keyring forgets it once the HMC has answered; when the logoff could not be
    /// sent the key stays, so that the next start logs it off (or reuses it).
    pub async fn logoff(&self) -> Result<(), HmcError> {
        let token = {
            let mut state = self.state.write().await;
            state.1 += 1;
            state.0.take()
        };
        let Some(token) = token else { return Ok(()) };
        let req = Request::new(Method::DELETE, LOGON_PATH).with_timeout(self.opts.logoff_timeout);
        let resp = self
            .transport
            .send(self.authorized(req, Some(&token)))
            .await
            .map_err(|e| self.transport_error(e))?;
        if let Some((ring, desc)) = &self.keyring {
            ring.remove(desc);
        }
        tracing::info!(hmc = %self.name, status = resp.status.as_u16(), "logged off the HMC");
        Ok(())
    }
}
