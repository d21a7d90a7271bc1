//! Listing the BMC's sessions: one collection read (`$expand=.` where the service supports it,
//! else one GET per member with bounded concurrency), `Members@odata.nextLink` paging, and a
//! classification of each. A member that cannot be read becomes `unknown`, never an error that
//! hides the others.

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;

use super::agent::AgentSession;
use super::SessionError;
use crate::redfish::{
    classify_session, decode_collection, ClassifyContext, Member, RedfishError, SessionInfo,
};
use crate::transport::Request;

/// How a listing is done.
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// Use `$expand=.` when the service root says it is supported.
    pub expand: bool,
    /// Member GETs in flight at once when not expanding.
    pub concurrency: usize,
    /// Stop following `nextLink` after this many pages (a BMC answering in a loop).
    pub max_pages: usize,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            expand: true,
            concurrency: 8,
            max_pages: 1000,
        }
    }
}

/// The sessions and what it cost to read them.
#[derive(Debug, Clone)]
pub struct Listing {
    pub sessions: Vec<SessionInfo>,
    /// HTTP requests sent, for benchmarks and logs.
    pub requests: usize,
    /// The BMC's clock when it answered (its `Date` header), else the host's. Idle times are
    /// measured on the BMC's clock: BMC clocks drift from the host's by minutes.
    pub bmc_now: OffsetDateTime,
}

pub async fn list_sessions(
    agent: &AgentSession,
    ctx: &ClassifyContext,
    opts: &ListOptions,
) -> Result<Listing, SessionError> {
    let expand = opts.expand && agent.root().info.supports_expand();
    let mut next = Some(collection_path(&agent.root().sessions_path, expand));
    let (mut members, mut requests, mut pages) = (Vec::new(), 0usize, 0usize);
    let mut bmc_now = None;
    while let Some(path) = next.take() {
        pages += 1;
        if pages > opts.max_pages {
            tracing::warn!(
                pages,
                "stopped following the sessions collection's nextLink"
            );
            break;
        }
        let resp = agent.send(Request::get(path)).await?;
        requests += 1;
        bmc_now = bmc_now.or_else(|| resp.date());
        if !resp.status.is_success() {
            return Err(SessionError::Bmc(RedfishError::from_response(&resp)));
        }
        let body: serde_json::Value =
            serde_json::from_slice(&resp.body).map_err(|e| SessionError::Malformed {
                what: "sessions collection".into(),
                reason: e.to_string(),
            })?;
        let page = decode_collection(&body).map_err(|e| SessionError::Malformed {
            what: "sessions collection".into(),
            reason: e.to_string(),
        })?;
        members.extend(page.members);
        next = page.next_link;
    }
    let (sessions, fetched) = resolve_members(agent, ctx, members, opts.concurrency.max(1)).await;
    let bmc_now = bmc_now.unwrap_or_else(OffsetDateTime::now_utc);
    Ok(Listing {
        sessions,
        requests: requests + fetched,
        bmc_now,
    })
}

fn collection_path(sessions_path: &str, expand: bool) -> String {
    if expand {
        format!("{sessions_path}?$expand=.")
    } else {
        sessions_path.to_string()
    }
}

/// Classifies expanded members as they are and fetches the others, `concurrency` at a time,
/// keeping the collection's order.
async fn resolve_members(
    agent: &AgentSession,
    ctx: &ClassifyContext,
    members: Vec<Member>,
    concurrency: usize,
) -> (Vec<SessionInfo>, usize) {
    let fetched = members
        .iter()
        .filter(|m| matches!(m, Member::Ref(_)))
        .count();
    let sessions = stream::iter(members)
        .map(|member| async move {
            match member {
                Member::Expanded(body) => classify_session(&body, ctx),
                Member::Ref(uri) => fetch_member(agent, ctx, uri).await,
            }
        })
        .buffered(concurrency)
        .collect()
        .await;
    (sessions, fetched)
}

async fn fetch_member(agent: &AgentSession, ctx: &ClassifyContext, uri: String) -> SessionInfo {
    let body = match agent.send(Request::get(uri.clone())).await {
        Ok(resp) if resp.status.is_success() => {
            serde_json::from_slice::<serde_json::Value>(&resp.body).ok()
        }
        Ok(resp) => {
            tracing::debug!(%uri, status = %resp.status, "cannot read a session");
            None
        }
        Err(e) => {
            tracing::debug!(%uri, error = %e, "cannot read a session");
            None
        }
    };
    match body {
        Some(body) => classify_session(&body, ctx),
        None => SessionInfo::unknown(&uri),
    }
}

/// Deletes one session by its path; 404 counts as done (someone else deleted it).
pub async fn delete_session(agent: &AgentSession, uri: &str) -> Result<(), SessionError> {
    let resp = agent.send(Request::delete(uri)).await?;
    if resp.status.is_success() || resp.status == http::StatusCode::NOT_FOUND {
        return Ok(());
    }
    Err(SessionError::Bmc(RedfishError::from_response(&resp)))
}
