//! At start: the sessions a previous run of this agent left in the kernel keyring for HMCs that
//! are no longer configured (a table removed while the agent was down, or its endpoint or
//! account changed) are logged off and their keys removed. Each logoff goes to the endpoint
//! the key names, pinned to the certificate the agent trusted there ([`super::kept`]), and to
//! nothing else. One that cannot be sent (the HMC is unreachable) keeps its key: the next start
//! tries again.

use std::time::Duration;

use http::{HeaderValue, Method};

use super::kept::{self, Kept};
use super::keyring::Keyring;
use super::session::LOGON_PATH;
use super::Hmcs;
use crate::transport::https::{HttpsOptions, HttpsTransport};
use crate::transport::trust::Trust;
use crate::transport::{Request, Transport};

/// How long one logoff may take.
const LOGOFF_TIMEOUT: Duration = Duration::from_secs(10);

/// Logs off every orphan of this agent (description starting with `prefix`) that `hmcs` does
/// not hold now, all at once.
pub async fn log_off(ring: Keyring, prefix: &str, hmcs: &Hmcs) {
    let live: Vec<String> = hmcs
        .all()
        .iter()
        .filter_map(|h| h.upstream.key_description().map(str::to_string))
        .collect();
    let orphans: Vec<String> = ring
        .list(prefix)
        .into_iter()
        .filter(|d| !live.contains(d))
        .collect();
    let all = orphans.iter().map(|d| log_off_one(ring, prefix, d));
    futures::future::join_all(all).await;
}

async fn log_off_one(ring: Keyring, prefix: &str, description: &str) {
    let name = kept::name_of(prefix, description).unwrap_or(description);
    let Some(payload) = ring.find(description) else {
        return;
    };
    let kept = match Kept::parse(&payload) {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(hmc = %name, error = %e, "dropping an unreadable key a previous run left in the kernel keyring");
            return ring.remove(description);
        }
    };
    let Some(fingerprint) = kept.fingerprint.clone() else {
        tracing::warn!(hmc = %name, endpoint = %kept.endpoint, "the session a previous run left for this HMC, no longer configured, cannot be logged off: no certificate was recorded for it; dropping its key (the session may remain on the HMC)");
        return ring.remove(description);
    };
    let mut opts = HttpsOptions::new(kept.endpoint.clone(), Trust::Pin(fingerprint));
    opts.request_timeout = LOGOFF_TIMEOUT;
    opts.max_in_flight = 1;
    let sent = match HttpsTransport::new(opts) {
        Ok(t) => t.send(logoff_request(&kept)).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(resp) => {
            ring.remove(description);
            tracing::info!(hmc = %name, endpoint = %kept.endpoint, status = resp.status.as_u16(), "logged off the session a previous run of the agent left for this HMC, no longer configured; its key is removed");
        }
        Err(e) => {
            tracing::warn!(hmc = %name, endpoint = %kept.endpoint, error = %e, "cannot log off the session a previous run left for this HMC, no longer configured: its key stays in the kernel keyring and the next start tries again");
        }
    }
}

fn logoff_request(kept: &Kept) -> Request {
    let mut req = Request::new(Method::DELETE, LOGON_PATH).with_timeout(LOGOFF_TIMEOUT);
    if let Ok(mut value) = HeaderValue::from_str(kept.token.expose()) {
        value.set_sensitive(true);
        req.headers.insert("x-api-session", value);
    }
    req.headers
        .insert("x-audit-memento", HeaderValue::from_static("hostagent"));
    req
}
