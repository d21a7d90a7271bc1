//! What the agent needs to log in again after a 401 without leaking or storming: a bounded
//! wait for a login under way, the outcome of a failed relogin shared by every request that
//! was waiting for it, and the best-effort delete of the session a relogin replaced.
//!
//! Why: while the agent logs in again, requests must neither go out unauthenticated (the BMC
//! answers 401 and a proxy client sees it) nor start logins of their own (one revocation,
//! one login). And a 401 may be spurious (a BMC hiccup): the old session may still be on the
//! BMC, taking a slot, so it is deleted once the new one holds.

use std::time::Duration;

use http::StatusCode;
use tokio::sync::{Mutex, MutexGuard};

use super::SessionError;
use crate::state::Ledger;
use crate::transport::{Request, Transport};

/// The last relogin's failure, kept until a login succeeds. Only its text and whether the BMC
/// was unreachable are kept (a [`SessionError`] is not `Clone`), never a secret.
#[derive(Debug, Default)]
pub(super) struct LastFailure(std::sync::Mutex<Option<(String, bool)>>);

impl LastFailure {
    pub(super) fn set(&self, e: &SessionError) {
        *self.lock() = Some((e.to_string(), e.is_unreachable()));
    }

    pub(super) fn clear(&self) {
        *self.lock() = None;
    }

    /// The failure as an error for a request that was waiting for that relogin.
    pub(super) fn error(&self) -> Option<SessionError> {
        self.lock()
            .clone()
            .map(|(reason, unreachable)| SessionError::ReloginFailed {
                reason,
                unreachable,
            })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(String, bool)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Takes the login lock, waiting at most `wait` for a login under way.
pub(super) async fn lock_within(
    lock: &Mutex<()>,
    wait: Duration,
) -> Result<MutexGuard<'_, ()>, SessionError> {
    tokio::time::timeout(wait, lock.lock())
        .await
        .map_err(|_| SessionError::LoginPending(wait))
}

/// Deletes the session a relogin replaced, with the new session's request `delete` (already
/// authorized), once and without relogin. Gone (2xx, 404): forgotten. Anything else: left to
/// the reaper through the ledger, which retries it each cycle while the BMC lists it.
pub(super) async fn delete_replaced(
    transport: &dyn Transport,
    ledger: Option<&Ledger>,
    old: &str,
    delete: Request,
) {
    let failure = match transport.send(delete).await {
        Ok(resp) if resp.status == StatusCode::NOT_FOUND => None,
        Ok(resp) if resp.status.is_success() => {
            tracing::info!(session = %old, "deleted the agent's previous session: the BMC still had it (the 401 was spurious)");
            None
        }
        Ok(resp) => Some(format!("the BMC answered {}", resp.status)),
        Err(e) => Some(e.to_string()),
    };
    if let Some(error) = &failure {
        tracing::warn!(session = %old, %error, "cannot delete the agent's previous session: the reaper retries it");
    }
    match (ledger, failure) {
        (Some(ledger), None) => ledger.forget(old),
        (Some(ledger), Some(_)) => ledger.abandon(old),
        (None, _) => {}
    }
}
