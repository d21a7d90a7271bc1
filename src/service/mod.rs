//! The agent's operations — status, list, clean — over one [`AgentSession`]. The daemon's
//! routes and `agentctl --standalone` (and the demo) call the same code.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::ownership::{ContextTag, Owner};
use crate::reaper::{
    self, CleanOptions, CleanReport, EarlierRun, Identity, Owners, Policy, Refusals,
};
use crate::redfish::{ids_equal, ClassifyContext, Kind, SessionInfo};
use crate::session::listing::{list_sessions, ListOptions};
use crate::session::{AgentSession, SessionError};
use crate::state::{Ledger, LedgerEntry};

pub mod reports;

pub use reports::{HmcStatus, ListReport, ProxyStatus, SessionCounts, SessionRow, StatusReport};

pub struct Service {
    pub agent: Arc<AgentSession>,
    pub classify: ClassifyContext,
    pub list_options: ListOptions,
    /// The session limit, when known (profile, config, or learned from a limit answer).
    pub limit: Mutex<Option<usize>>,
    /// The leases this agent holds; their sessions are owned, not foreign.
    pub leases: crate::lease::LeaseTable,
    /// When each session without a creation or access time was first listed (bmcweb says
    /// neither): its idle time counts from then.
    first_seen: Mutex<HashMap<String, OffsetDateTime>>,
    /// How sessions of an earlier run are recognised; off outside the daemon.
    pub recovery: Recovery,
    /// The memory-only rule's reference, fixed at the first listing that shows the agent's
    /// own session (see [`Identity`]).
    identity: std::sync::OnceLock<Option<Identity>>,
    /// Sessions the BMC refused to delete: not tried again by later cleans.
    refusals: Arc<Refusals>,
    /// `agent.host_id`: the `<host>` of this host's `Context` tags.
    host_id: String,
    /// Another host's tag was listed once (sticky): old-format tags no longer count.
    other_hosts_tagged: std::sync::atomic::AtomicBool,
    /// The BMC's last boot as read while the agent held this session (`None`: not read yet);
    /// read again after a new login, which is what a BMC reboot forces.
    bmc_boot: Mutex<Option<(Option<String>, Option<OffsetDateTime>)>>,
}

/// How the daemon recognises the sessions an earlier run of it left behind (the ledger needs
/// no switch: the agent has one or not). `agentctl --standalone` leaves both off: a running
/// daemon's sessions are not its orphans.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recovery {
    /// By the agent's `Context` tag.
    pub by_context: bool,
    /// By the memory-only identity rule, on BMCs that keep no `Context`.
    pub by_identity: bool,
}

impl Service {
    pub fn new(
        agent: Arc<AgentSession>,
        classify: ClassifyContext,
        limit: Option<usize>,
    ) -> Service {
        let host_id = crate::config::default_host_id();
        Service {
            leases: crate::lease::LeaseTable::new(agent.clone(), ContextTag::prefix(&host_id)),
            agent,
            classify,
            list_options: ListOptions::default(),
            limit: Mutex::new(limit),
            first_seen: Mutex::new(HashMap::new()),
            recovery: Recovery::default(),
            identity: std::sync::OnceLock::new(),
            refusals: Arc::default(),
            host_id,
            other_hosts_tagged: Default::default(),
            bmc_boot: Mutex::new(None),
        }
    }

    /// Names this host in the `Context` tags of its leases and in the orphan rule
    /// (`agent.host_id`); before any lease is opened.
    pub fn with_host_id(mut self, host_id: &str) -> Service {
        self.host_id = host_id.to_string();
        self.leases =
            crate::lease::LeaseTable::new(self.agent.clone(), ContextTag::prefix(host_id));
        self
    }

    /// The BMC refused a login for a full table: the limit is the number of sessions now.
    pub async fn learn_limit_from_full_table(&self) {
        if let Ok((sessions, _)) = self.sessions().await {
            tracing::warn!(
                message_id = crate::events::TABLE_NEAR_FULL,
                limit = sessions.len(),
                "the BMC's session table is full; its limit is taken to be the current count"
            );
            *self.limit.lock().await = Some(sessions.len());
        }
    }

    /// Who answers for each session. The identity rule needs a listing first ([`Self::sessions`]).
    pub async fn owners(&self) -> Owners {
        let ledger = self.agent.ledger().map(|l| l.earlier()).unwrap_or_default();
        let bmc_boot = if ledger.is_empty() {
            None
        } else {
            self.bmc_boot().await
        };
        let earlier = EarlierRun {
            ledger,
            bmc_boot,
            by_context: self.recovery.by_context,
            identity: self.identity.get().cloned().flatten(),
            host_id: Some(self.host_id.clone()),
            other_hosts_tagged: self.other_hosts_tagged.load(Ordering::Relaxed),
        };
        Owners {
            agent_logging_in: self.agent.logging_in(),
            agent_uri: self.agent.own_session_uri().await,
            leases: self.leases.by_uri().await,
            lease_ids: self.leases.ids().await,
            earlier,
        }
    }

    /// The BMC's last boot, read once per agent session (two GETs) and only when the ledger
    /// holds sessions of an earlier run to judge.
    async fn bmc_boot(&self) -> Option<OffsetDateTime> {
        let own = self.agent.own_session_uri().await;
        let mut cached = self.bmc_boot.lock().await;
        if let Some((uri, boot)) = &*cached {
            if *uri == own {
                return *boot;
            }
        }
        let boot = crate::session::boot::last_boot(&self.agent).await;
        *cached = Some((own, boot));
        boot
    }

    /// Fixes the identity rule's reference at the first listing that shows our own session.
    async fn note_identity(&self, sessions: &[SessionInfo]) {
        if !self.recovery.by_identity || self.identity.get().is_some() {
            return;
        }
        let Some(own) = self.agent.own_session_uri().await else {
            return;
        };
        let Some(own) = sessions.iter().find(|s| ids_equal(&s.uri, &own)) else {
            return;
        };
        // NOTE(hpe): over CHIF every session is "System Administrator", whatever the account:
        // a user that is not the agent's own account would match every tool's session.
        let ours = matches!((own.user.as_deref(), self.agent.user().as_deref()), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b));
        if !ours {
            tracing::info!(user = own.user.as_deref().unwrap_or("-"), "the BMC does not list the agent's session under its own account: no identity rule for orphans");
            let _ = self.identity.set(None);
            return;
        }
        let identity = Identity::of(own);
        if let Some(id) = &identity {
            tracing::info!(kind = %id.kind, user = %id.user, since = %id.since, "sessions of this kind, user and origin unused since before this login are taken for an earlier run's");
        }
        let _ = self.identity.set(identity);
    }

    /// Notes (once, for good) that another host tags its sessions on this BMC.
    fn note_other_hosts(&self, sessions: &[SessionInfo]) {
        if self.other_hosts_tagged.load(Ordering::Relaxed) {
            return;
        }
        let other = sessions
            .iter()
            .filter_map(|s| ContextTag::parse(s.context.as_deref()?))
            .find(|t| t.host.as_deref().is_some_and(|h| h != self.host_id));
        if let Some(tag) = other {
            tracing::info!(other_host = tag.host.as_deref().unwrap_or("-"), "another host tags its sessions on this BMC: only this host's tags count as its own, and old-format tags no longer do");
            self.other_hosts_tagged.store(true, Ordering::Relaxed);
        }
    }

    /// Every session the BMC lists, classified, and the BMC's clock.
    pub async fn sessions(&self) -> Result<(Vec<SessionInfo>, OffsetDateTime), SessionError> {
        let mut listing = list_sessions(&self.agent, &self.classify, &self.list_options).await?;
        let now = listing.bmc_now;
        let mut seen = self.first_seen.lock().await;
        seen.retain(|uri, _| listing.sessions.iter().any(|s| &s.uri == uri));
        for s in listing
            .sessions
            .iter_mut()
            .filter(|s| s.login_time.is_none() && s.last_access.is_none())
        {
            s.login_time = Some(*seen.entry(s.uri.clone()).or_insert(now));
            s.login_time_inferred = true;
        }
        drop(seen);
        if let Some(ledger) = self.agent.ledger() {
            ledger.note_kinds(&listing.sessions);
        }
        self.note_other_hosts(&listing.sessions);
        self.note_identity(&listing.sessions).await;
        Ok((listing.sessions, now))
    }

    pub async fn list(&self, kinds: &[Kind]) -> Result<ListReport, SessionError> {
        let (sessions, now) = self.sessions().await?;
        let owners = self.owners().await;
        let sessions = sessions
            .into_iter()
            .filter(|s| kinds.is_empty() || kinds.contains(&s.kind))
            .map(|s| SessionRow::new(&s, &owners.owner_of(&s), now))
            .collect();
        Ok(ListReport {
            sessions,
            limit: *self.limit.lock().await,
        })
    }

    pub async fn status(&self) -> Result<StatusReport, SessionError> {
        let sessions = self.sessions().await?.0;
        let owners = self.owners().await;
        let mut counts = SessionCounts::default();
        for s in &sessions {
            counts.total += 1;
            *counts.by_kind.entry(s.kind.to_string()).or_default() += 1;
            *counts
                .by_owner
                .entry(owners.owner_of(s).to_string())
                .or_default() += 1;
        }
        note_table(&sessions, &owners, &[]);
        let auth = self.agent.auth().await;
        Ok(StatusReport {
            endpoint: self.agent.transport().endpoint(),
            transport: self.agent.transport().kind().to_string(),
            agent_session: auth.session_uri().is_some(),
            auth: auth.describe().to_string(),
            sessions: counts,
            limit: *self.limit.lock().await,
            proxy: None,
            state: None,
            last_error: None,
            reaper_cycles: None,
            hmc: Vec::new(),
            bmc: true,
        })
    }

    pub async fn clean(
        &self,
        policy: &Policy,
        opts: &CleanOptions,
        on_progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<CleanReport, SessionError> {
        let (sessions, now) = self.sessions().await?;
        Ok(self
            .clean_listed(sessions, now, policy, opts, on_progress)
            .await)
    }

    /// Cleans one listing, then settles the ledger's entries of earlier runs with what it found.
    pub async fn clean_listed(
        &self,
        sessions: Vec<SessionInfo>,
        now: OffsetDateTime,
        policy: &Policy,
        opts: &CleanOptions,
        on_progress: &(dyn Fn(usize, usize) + Sync),
    ) -> CleanReport {
        let owners = self.owners().await;
        let opts = &CleanOptions {
            refused: Some(self.refusals.clone()),
            ..opts.clone()
        };
        if opts.dry_run {
            note_table(&sessions, &owners, &[]);
            return reaper::clean(
                &self.agent,
                sessions,
                now,
                &owners,
                policy,
                opts,
                on_progress,
            )
            .await;
        }
        let table = sessions.clone();
        let listed: Vec<(String, Owner)> = sessions
            .iter()
            .map(|s| (s.uri.clone(), owners.owner_of(s)))
            .collect();
        let orphans = listed
            .iter()
            .filter(|(_, owner)| matches!(owner, Owner::Orphan(_)))
            .count();
        if orphans > 0 {
            tracing::warn!(
                message_id = crate::events::ORPHANS_FOUND,
                count = orphans,
                "sessions left by an earlier run of the agent (killed?): deleting them"
            );
        }
        let report = reaper::clean(
            &self.agent,
            sessions,
            now,
            &owners,
            policy,
            opts,
            on_progress,
        )
        .await;
        if let Some(ledger) = self.agent.ledger() {
            settle_ledger(ledger, &owners.earlier.ledger, &listed, &report);
        }
        note_clean(&table, &owners, &report);
        report
    }
}

/// The table as a listing showed it, less the sessions deleted since (`hostagent_bmc_sessions`).
fn note_table(sessions: &[SessionInfo], owners: &Owners, deleted: &[reaper::Deleted]) {
    let mut table: HashMap<(String, &'static str), usize> = HashMap::new();
    for s in sessions {
        if deleted.iter().any(|d| ids_equal(&d.id, &s.id)) {
            continue;
        }
        *table
            .entry((s.kind.to_string(), owners.owner_of(s).class()))
            .or_default() += 1;
    }
    let table: Vec<(String, &str, usize)> =
        table.into_iter().map(|((k, o), n)| (k, o, n)).collect();
    crate::metrics::global()
        .bmc
        .set_sessions(crate::metrics::BMC, &table);
}

/// What a clean did: the table after it, the deletes by kind, the failures.
fn note_clean(sessions: &[SessionInfo], owners: &Owners, report: &CleanReport) {
    let bmc = &crate::metrics::global().bmc;
    for d in &report.deleted {
        bmc.deleted(crate::metrics::BMC, d.kind.as_str());
    }
    bmc.delete_failures(crate::metrics::BMC, report.failed.len());
    note_table(sessions, owners, &report.deleted);
}

/// After a clean, an earlier run's ledger entry is dropped when its session is gone (deleted
/// now, or not listed at all) or when the URI is listed with another user (not provably ours);
/// it stays only while a delete fails or a policy (`--id`) keeps it.
fn settle_ledger(
    ledger: &Ledger,
    earlier: &[LedgerEntry],
    listed: &[(String, Owner)],
    report: &CleanReport,
) {
    let failed_or_kept = |uri: &str| {
        let id = crate::redfish::last_segment(uri);
        report.failed.iter().any(|f| ids_equal(&f.id, &id))
            || report.kept.iter().any(|k| ids_equal(&k.id, &id))
    };
    for entry in earlier {
        match listed.iter().find(|(uri, _)| ids_equal(uri, &entry.uri)) {
            None => {
                tracing::info!(session = %entry.uri, was = %entry.owner, "a session of an earlier run is gone from the BMC: dropped from the ledger")
            }
            Some((_, Owner::Orphan(_))) if failed_or_kept(&entry.uri) => continue,
            Some((_, Owner::Orphan(_))) => {}
            Some((_, owner)) => {
                tracing::warn!(session = %entry.uri, %owner, "the BMC lists a ledger entry's URI with another user, kind or a later creation time (an id reused after a BMC reboot?): not provably ours, left alone and dropped from the ledger")
            }
        }
        ledger.forget(&entry.uri);
    }
}
