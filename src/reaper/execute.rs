//! Applies the policy to a listing and deletes the stale sessions, `concurrency` at a time.
//! Best effort and complete: a failed DELETE is reported, the others go on. A
//! session the BMC will not delete (403, 405) is reported as kept with the BMC's answer, and,
//! with [`CleanOptions::refused`], not tried again while it stays the same session.

use futures::stream::{self, StreamExt};
use serde::Serialize;
use time::OffsetDateTime;

use super::refused::{is_refusal, Refusals};
use super::{Owners, Policy, Verdict};
use crate::ownership::Owner;
use crate::redfish::{Kind, SessionInfo};
use crate::session::{listing::delete_session, AgentSession, SessionError};

#[derive(Debug, Clone)]
pub struct CleanOptions {
    pub dry_run: bool,
    pub concurrency: usize,
    /// Sessions the BMC refused to delete in earlier cleans (the daemon keeps one for its
    /// life); `None`: no memory, every clean tries again.
    pub refused: Option<std::sync::Arc<Refusals>>,
}

impl Default for CleanOptions {
    fn default() -> Self {
        CleanOptions {
            dry_run: false,
            concurrency: 8,
            refused: None,
        }
    }
}

/// The `clean` JSON shape of ARCHITECTURE.md, "Interfaces".
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct CleanReport {
    pub dry_run: bool,
    pub deleted: Vec<Deleted>,
    pub kept: Vec<Kept>,
    pub failed: Vec<Failed>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Deleted {
    pub id: String,
    pub user: Option<String>,
    pub kind: Kind,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Kept {
    pub id: String,
    pub kind: Kind,
    pub reason: String,
    /// The HTTP status with which the BMC refused to delete it, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Failed {
    pub id: String,
    pub error: String,
}

/// Judges every session at `now` (the BMC's clock, see [`crate::session::listing::Listing`])
/// and deletes the stale ones. `on_progress` is called after each DELETE with (done, total).
pub async fn clean(
    agent: &AgentSession,
    sessions: Vec<SessionInfo>,
    now: OffsetDateTime,
    owners: &Owners,
    policy: &Policy,
    opts: &CleanOptions,
    on_progress: &(dyn Fn(usize, usize) + Sync),
) -> CleanReport {
    let mut report = CleanReport {
        dry_run: opts.dry_run,
        ..CleanReport::default()
    };
    let refused = opts.refused.as_deref();
    if let Some(refused) = refused {
        refused.retain_listed(&sessions);
    }
    let mut doomed = Vec::new();
    for session in sessions {
        let owner = owners.owner_of(&session);
        let verdict = policy.judge(&session, &owner, now);
        let known = refused.and_then(|r| r.status_of(&session));
        match (verdict, known) {
            (Verdict::Delete, Some(status)) => report.kept.push(Kept {
                reason: format!("the BMC refused to delete it (HTTP {status}): not tried again"),
                status: Some(status),
                ..kept(session)
            }),
            (Verdict::Delete, None) => doomed.push((session, owner)),
            (Verdict::Keep(reason), _) => report.kept.push(Kept {
                reason,
                ..kept(session)
            }),
        }
    }
    if opts.dry_run {
        report.deleted = doomed.into_iter().map(|(s, _)| deleted(s)).collect();
        return report;
    }
    let total = doomed.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<(SessionInfo, Owner, Result<(), SessionError>)> = stream::iter(doomed)
        .map(|(session, owner)| async {
            let result = delete_session(agent, &session.uri).await;
            on_progress(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            (session, owner, result)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    for (session, owner, result) in outcomes {
        match result {
            Ok(()) => {
                tracing::info!(message_id = crate::events::SESSION_CLEANED, session_id = %session.id, kind = %session.kind, user = session.user.as_deref().unwrap_or("-"), %owner, "session cleaned");
                report.deleted.push(deleted(session));
            }
            Err(SessionError::Bmc(e)) if is_refusal(e.status) => {
                tracing::warn!(session_id = %session.id, kind = %session.kind, user = session.user.as_deref().unwrap_or("-"), %owner, error = %e, "the BMC refuses to delete this session: kept, and not tried again while it is listed");
                if let Some(refused) = refused {
                    refused.note(&session, e.status);
                }
                report.kept.push(Kept {
                    reason: format!("the BMC refuses to delete it: {e}"),
                    status: Some(e.status),
                    ..kept(session)
                });
            }
            Err(error) => report.failed.push(Failed {
                id: session.id,
                error: error.to_string(),
            }),
        }
    }
    report
}

fn kept(session: SessionInfo) -> Kept {
    Kept {
        id: session.id,
        kind: session.kind,
        reason: String::new(),
        status: None,
    }
}

fn deleted(session: SessionInfo) -> Deleted {
    Deleted {
        id: session.id,
        user: session.user,
        kind: session.kind,
    }
}
