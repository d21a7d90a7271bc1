//! The agent's own Redfish session: login, relogin once on 401, keep-alive, logout, and the
//! fallback to Basic auth when the BMC's session table is full.
//!
//! Rules that hold up in the field: relogin once on 401 and retry with relogin off;
//! never relogin after a failed login POST; never rely on the login response body (old iLO 5
//! firmware answers with an ExtendedInfo body); fall back to Basic only on a session-limit
//! answer, and say so.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tokio::sync::{Mutex, RwLock};

use super::auth::AuthState;
use super::login::{login_request, session_from_login, NewSession};
use super::relogin::{delete_replaced, lock_within, LastFailure};
use super::root::ServiceRoot;
use super::SessionError;
use crate::credentials::{CredentialRefresh, Credentials};
use crate::metrics;
use crate::redfish::RedfishError;
use crate::state::Ledger;
use crate::transport::streamed::Streamed;
use crate::transport::{Request, Response, Transport};

/// Knobs with defaults that suit a real BMC; tests shorten them.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Sent as the session's `Context` where the BMC keeps it (bmcweb), so that the agent
    /// recognises its own sessions after a crash without any file.
    pub context: Option<String>,
    /// Logout at shutdown gets a fresh timeout of its own.
    pub logout_timeout: Duration,
    /// Where the sessions the agent creates are recorded (the daemon in default mode), so that
    /// the next run deletes them after a crash.
    pub ledger: Option<Arc<Ledger>>,
    /// How long a request waits for a login under way (a relogin after 401) before it fails;
    /// longer than one login POST may take.
    pub login_wait: Duration,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            context: None,
            logout_timeout: Duration::from_secs(10),
            ledger: None,
            login_wait: Duration::from_secs(40),
        }
    }
}

/// What a login achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Session,
    /// The table was full: requests carry Basic credentials until a later login succeeds.
    BasicFallback,
    /// CHIF in Production mode: no session needed.
    Sessionless,
}

pub struct AgentSession {
    transport: Arc<dyn Transport>,
    /// Replaced only by [`CredentialRefresh`] (bootstrap accounts); never held across an await.
    creds: std::sync::RwLock<Option<Credentials>>,
    /// Asked once when a login is refused with 401 (DSP0270 bootstrap accounts vanish with a
    /// BMC reset); `None` for credentials from files, which a retry would not change.
    refresh: Option<Arc<dyn CredentialRefresh>>,
    /// One refresh at a time: each one makes the BMC create an account.
    refresh_lock: Mutex<()>,
    opts: AgentOptions,
    root: ServiceRoot,
    /// The current auth and its generation; the generation tells a request that failed with
    /// 401 whether someone else has logged in again meanwhile.
    state: RwLock<(AuthState, u64)>,
    login_lock: Mutex<()>,
    /// Why the last relogin failed, until a login succeeds: requests that waited for it share
    /// it instead of logging in again (never a login per request after a failed login POST).
    relogin_failure: LastFailure,
    /// The last login's `Location` as the BMC wrote it (iLO: an absolute URL naming itself).
    login_location: RwLock<Option<String>>,
}

impl AgentSession {
    /// Reads the service root (which needs no authentication) and prepares; does not log in.
    pub async fn connect(
        transport: Arc<dyn Transport>,
        creds: Option<Credentials>,
        opts: AgentOptions,
    ) -> Result<AgentSession, SessionError> {
        let root = ServiceRoot::fetch(transport.as_ref()).await?;
        let creds = std::sync::RwLock::new(creds);
        Ok(AgentSession {
            transport,
            creds,
            refresh: None,
            refresh_lock: Mutex::new(()),
            opts,
            root,
            state: RwLock::new((AuthState::None, 0)),
            login_lock: Mutex::new(()),
            relogin_failure: LastFailure::default(),
            login_location: RwLock::new(None),
        })
    }

    /// Where to get new credentials when a login is refused with 401.
    pub fn with_credential_refresh(mut self, refresh: Arc<dyn CredentialRefresh>) -> AgentSession {
        self.refresh = Some(refresh);
        self
    }

    fn creds(&self) -> Option<Credentials> {
        self.creds.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn root(&self) -> &ServiceRoot {
        &self.root
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// The ledger of the sessions this agent creates, when it keeps one.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.opts.ledger.as_deref()
    }

    /// The BMC user the agent logs in as.
    pub fn user(&self) -> Option<String> {
        self.creds().map(|c| c.user).filter(|u| !u.is_empty())
    }

    /// Records a session just created, for the next run after a crash.
    pub fn record(&self, uri: &str, owner: &str, bmc_created: Option<time::OffsetDateTime>) {
        if let Some(ledger) = self.ledger() {
            ledger.record_created(uri, owner, self.user().as_deref(), bmc_created);
        }
    }

    /// Forgets a session that is gone from the BMC.
    pub fn forget(&self, uri: &str) {
        if let Some(ledger) = self.ledger() {
            ledger.forget(uri);
        }
    }

    pub async fn auth(&self) -> AuthState {
        self.state.read().await.0.clone()
    }

    /// The `Location` of the agent's last login, as the BMC wrote it.
    pub async fn login_location(&self) -> Option<String> {
        self.login_location.read().await.clone()
    }

    /// Whether a login is under way: its new session may be listed before it is the agent's.
    pub fn logging_in(&self) -> bool {
        self.login_lock.try_lock().is_err()
    }

    /// The path of the agent's own session on the BMC, if it holds one.
    pub async fn own_session_uri(&self) -> Option<String> {
        self.state.read().await.0.session_uri().map(str::to_string)
    }

    /// Logs in (or settles for Basic / no session, see [`LoginOutcome`]).
    pub async fn login(&self) -> Result<LoginOutcome, SessionError> {
        let _one_at_a_time = self.login_lock.lock().await;
        self.login_locked().await
    }

    async fn login_locked(&self) -> Result<LoginOutcome, SessionError> {
        if self.transport.sessionless() {
            self.set_state(AuthState::Sessionless).await;
            return Ok(LoginOutcome::Sessionless);
        }
        match self.create_session(self.opts.context.clone()).await {
            Ok(NewSession {
                token,
                uri,
                location,
                bmc_date,
            }) => {
                tracing::info!(session = %uri, "logged in to the BMC");
                *self.login_location.write().await = Some(location);
                self.record(&uri, "agent", bmc_date);
                self.set_state(AuthState::Session { token, uri }).await;
                self.relogin_failure.clear();
                Ok(LoginOutcome::Session)
            }
            Err(SessionError::Login(err)) if err.is_session_limit() => {
                tracing::warn!(error = %err, "the BMC's session table is full: using Basic auth, which leaves no session");
                self.set_state(AuthState::Basic).await;
                self.relogin_failure.clear();
                Ok(LoginOutcome::BasicFallback)
            }
            Err(e) => Err(e),
        }
    }

    /// POSTs a login and returns the new session, without making it the agent's: leases use
    /// this too. When the login is refused with 401 and a [`CredentialRefresh`] is set, asks it
    /// once for new credentials and tries once more (the one exception to "never log in again
    /// after a failed login POST": a bootstrap account is known to vanish with a BMC reset).
    pub async fn create_session(
        &self,
        context: Option<String>,
    ) -> Result<NewSession, SessionError> {
        let used = self.creds();
        let first = self.post_login(used.as_ref(), context.clone()).await;
        let (Err(SessionError::Login(err)), Some(refresh)) = (&first, &self.refresh) else {
            return first;
        };
        if err.status != StatusCode::UNAUTHORIZED.as_u16() {
            return first;
        }
        self.refresh_credentials(refresh, used.as_ref()).await?;
        self.post_login(self.creds().as_ref(), context).await
    }

    /// Asks for new credentials unless another task already replaced `used` meanwhile.
    async fn refresh_credentials(
        &self,
        refresh: &Arc<dyn CredentialRefresh>,
        used: Option<&Credentials>,
    ) -> Result<(), SessionError> {
        let _one_at_a_time = self.refresh_lock.lock().await;
        if !same(self.creds().as_ref(), used) {
            return Ok(());
        }
        tracing::info!("the BMC refused the bootstrap credentials (gone after a BMC reset?): asking for new ones");
        let refresh = refresh.clone();
        let creds = tokio::task::spawn_blocking(move || refresh.refresh())
            .await
            .map_err(|e| SessionError::Refresh(format!("the credential task failed: {e}")))?
            .map_err(SessionError::Refresh)?;
        *self.creds.write().unwrap_or_else(|e| e.into_inner()) = Some(creds);
        Ok(())
    }

    /// One login POST. On a sessionless transport (CHIF, Production mode) no credentials are
    /// needed.
    async fn post_login(
        &self,
        held: Option<&Credentials>,
        context: Option<String>,
    ) -> Result<NewSession, SessionError> {
        let anonymous = Credentials {
            user: String::new(),
            password: crate::secret::Secret::new(""),
        };
        let creds = match (held, self.transport.sessionless()) {
            (Some(creds), _) => creds,
            (None, true) => &anonymous,
            (None, false) => return Err(SessionError::NoCredentials),
        };
        let resp = self
            .transport
            .send(login_request(&self.root, creds, context))
            .await?;
        if resp.status.is_success() {
            return session_from_login(&resp);
        }
        let err = RedfishError::from_response(&resp);
        if err.is_session_limit() {
            metrics::global().bmc.table_full(metrics::BMC);
        }
        Err(SessionError::Login(err))
    }

    async fn set_state(&self, auth: AuthState) {
        let mut state = self.state.write().await;
        state.0 = auth;
        state.1 += 1;
    }

    /// Sends a request with the agent's authentication. On 401 with a session, logs in again
    /// once and retries once; the retry's answer is final. A request that arrives while a
    /// login is under way waits for it (at most `login_wait`); one that got 401 with a token
    /// another task's relogin has replaced (or is replacing) retries with the new one, so one
    /// revocation makes one login. After a failed relogin requests fail with its error (the
    /// reaper's next cycle logs in again) rather than reach the BMC unauthenticated.
    ///
    /// With Basic auth (a full table) and credentials from bootstrapping, a 401 means the
    /// bootstrap account went with a BMC reset: new credentials are asked for once and the
    /// request is retried once.
    pub async fn send(&self, req: Request) -> Result<Response, SessionError> {
        Ok(self.send_streamed(req).await?.into_whole().await?)
    }

    /// [`AgentSession::send`], a large answer or an event stream coming as a stream.
    pub async fn send_streamed(&self, req: Request) -> Result<Streamed, SessionError> {
        if self.logging_in() {
            drop(Box::pin(lock_within(&self.login_lock, self.opts.login_wait)).await?);
        }
        let (header, used, generation) = self.current_header().await;
        let resp = self
            .transport
            .send_streamed(with_header(req.clone(), header))
            .await?;
        if resp.status != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        match used {
            AuthUsed::Session => {
                tracing::info!(path = %req.path, "the BMC no longer knows the agent's session: logging in again");
                Box::pin(self.relogin(generation)).await?;
            }
            AuthUsed::Basic(creds) => {
                let Some(refresh) = &self.refresh else {
                    return Ok(resp);
                };
                Box::pin(self.refresh_credentials(refresh, creds.as_ref())).await?;
            }
            AuthUsed::Nothing => return self.relogin_failure.error().map_or(Ok(resp), Err),
        }
        let (header, _, _) = self.current_header().await;
        Ok(self
            .transport
            .send_streamed(with_header(req, header))
            .await?)
    }

    /// The auth header to send now, what it was made of, and the state's generation. The
    /// token is read in place (no copy of the secret per request); the password only for Basic.
    async fn current_header(
        &self,
    ) -> (Option<(http::HeaderName, http::HeaderValue)>, AuthUsed, u64) {
        let state = self.state.read().await;
        let (header, used) = match &state.0 {
            AuthState::Basic => {
                let creds = self.creds();
                (state.0.header(creds.as_ref()), AuthUsed::Basic(creds))
            }
            AuthState::Session { .. } => (state.0.header(None), AuthUsed::Session),
            other => (other.header(None), AuthUsed::Nothing),
        };
        (header, used, state.1)
    }

    /// Logs in again unless another task's login (or failed relogin) came since `generation`.
    /// The old session stays the agent's until the new one holds, so that no request goes out
    /// without authentication meanwhile; then it is deleted, best effort (a 401 can be
    /// spurious and leave it on the BMC).
    async fn relogin(&self, generation: u64) -> Result<(), SessionError> {
        let one_at_a_time = lock_within(&self.login_lock, self.opts.login_wait).await?;
        {
            let state = self.state.read().await;
            if state.1 != generation {
                return match state.0 {
                    AuthState::None => self.relogin_failure.error().map_or(Ok(()), Err),
                    _ => Ok(()),
                };
            }
        }
        let old = self.own_session_uri().await;
        metrics::global().bmc.relogin(metrics::BMC);
        if let Err(e) = self.login_locked().await {
            tracing::warn!(error = %e, "logging in again failed: requests fail until the reaper's next cycle logs in");
            self.relogin_failure.set(&e);
            self.set_state(AuthState::None).await;
            // Gone or not, it is no longer ours to use; the reaper deletes it if it is listed.
            if let (Some(old), Some(ledger)) = (&old, self.ledger()) {
                ledger.abandon(old);
            }
            return Err(e);
        }
        drop(one_at_a_time);
        let new = self.own_session_uri().await;
        if let Some(old) = old.filter(|o| new.as_deref() != Some(o.as_str())) {
            let auth = self.auth().await;
            let delete = self
                .authorize(Request::delete(old.clone()), &auth)
                .with_timeout(self.opts.logout_timeout);
            delete_replaced(self.transport.as_ref(), self.ledger(), &old, delete).await;
        }
        Ok(())
    }

    fn authorize(&self, req: Request, auth: &AuthState) -> Request {
        with_header(req, auth.header(self.creds().as_ref()))
    }

    /// After a Basic fallback: try to hold a real session again (the reaper made room).
    pub async fn upgrade(&self) -> Result<LoginOutcome, SessionError> {
        match self.auth().await {
            AuthState::Basic | AuthState::None => self.login().await,
            AuthState::Session { .. } => Ok(LoginOutcome::Session),
            AuthState::Sessionless => Ok(LoginOutcome::Sessionless),
        }
    }

    /// Touches the agent's session so the BMC's idle timer restarts. A 401 logs in again.
    pub async fn keep_alive(&self) -> Result<(), SessionError> {
        let Some(uri) = self.own_session_uri().await else {
            return Ok(());
        };
        let resp = self.send(Request::get(uri)).await?;
        if resp.status.is_success() {
            return Ok(());
        }
        Err(SessionError::Bmc(RedfishError::from_response(&resp)))
    }

    /// `SessionService.SessionTimeout`; `None` when the BMC does not say or says 0 (never).
    pub async fn session_timeout(&self) -> Option<Duration> {
        let resp = self
            .send(Request::get("/redfish/v1/SessionService"))
            .await
            .ok()?;
        let body: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
        let secs = body.get("SessionTimeout")?.as_u64()?;
        (secs > 0).then(|| Duration::from_secs(secs))
    }

    /// Deletes the agent's session with a fresh timeout. The state is cleared whatever the
    /// BMC answers, so a second call does nothing.
    pub async fn logout(&self) -> Result<(), SessionError> {
        let (auth, _) = self.state.read().await.clone();
        self.set_state(AuthState::None).await;
        let AuthState::Session { uri, .. } = &auth else {
            return Ok(());
        };
        let req = self
            .authorize(Request::delete(uri.clone()), &auth)
            .with_timeout(self.opts.logout_timeout);
        let resp = self.transport.send(req).await?;
        if resp.status.is_success() || resp.status == StatusCode::NOT_FOUND {
            tracing::info!(session = %uri, "logged out of the BMC");
            self.forget(uri);
            return Ok(());
        }
        Err(SessionError::Bmc(RedfishError::from_response(&resp)))
    }
}

/// Whether two credential sets are the same (another task may have refreshed meanwhile).
fn same(a: Option<&Credentials>, b: Option<&Credentials>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.user == b.user && a.password == b.password,
        (None, None) => true,
        _ => false,
    }
}

/// What authenticated a request, for deciding what a 401 means.
enum AuthUsed {
    Session,
    Basic(Option<Credentials>),
    Nothing,
}

fn with_header(mut req: Request, header: Option<(http::HeaderName, http::HeaderValue)>) -> Request {
    if let Some((name, value)) = header {
        req.headers.insert(name, value);
    }
    req
}
