//! Keeping the agent's session alive: a touch well inside the BMC's idle timeout.

use std::sync::Arc;
use std::time::Duration;

use super::agent::AgentSession;

/// Keeps the session alive every `interval` until `shutdown` resolves.
pub async fn keep_alive_loop(
    session: Arc<AgentSession>,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = session.keep_alive().await {
                    tracing::warn!(error = %e, "keep-alive of the agent session failed");
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// A keep-alive interval well inside the BMC's idle timeout: a third of it, between 5 s and
/// 5 min; 5 min when the BMC never expires sessions.
pub fn keep_alive_interval(timeout: Option<Duration>) -> Duration {
    let max = Duration::from_secs(300);
    match timeout {
        Some(t) => (t / 3).clamp(Duration::from_secs(5), max),
        None => max,
    }
}
