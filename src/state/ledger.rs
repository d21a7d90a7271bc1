//! The ledger: the URIs of the BMC sessions this agent created (its own and each lease's),
//! never a token. Written at every creation and deletion, so that after a crash (SIGKILL, OOM,
//! power loss of the host but not of the BMC) the next run knows which sessions were its own
//! and deletes them at its first reaper cycle. `<state.dir>/ledger.json`, mode 0600.
//!
//! Everything read from the file at start belongs to an earlier run: that process is gone
//! (systemd runs one `hostagentd`). An entry is deleted on the BMC only when its URI is listed
//! there now with the same user and kind, made no later than the record (where the BMC says
//! each; see `reaper::owners`); one that is not listed is just dropped. A file that cannot be read is moved aside and reported, never a crash: the agent
//! then starts with an empty ledger and deletes nothing that it cannot prove is its own.
//!
//! In memory-only mode the ledger is kept in memory only ([`Ledger::in_memory`]): nothing
//! survives a crash, but a session this run failed to delete (a lease whose DELETE failed,
//! a session a relogin replaced) is still retried by the reaper every cycle until the BMC no
//! longer lists it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::redfish::{ids_equal, Kind, SessionInfo};

const VERSION: u32 = 1;

/// One session the agent created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The session's path on the BMC, as its `Location` gave it.
    pub uri: String,
    /// `agent` or `lease:<id>`: who held it.
    pub owner: String,
    /// The BMC user it was made with, checked against the listing before a delete.
    pub user: Option<String>,
    /// The host's clock at the record.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The BMC's clock when it answered the login (its `Date` header): a session listed
    /// under this URI but made later is another one that reuses the id (iDRAC numbers its
    /// sessions and starts again after a reboot).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub bmc_created: Option<OffsetDateTime>,
    /// The kind the BMC lists the session as, noted at the first listing that shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Not written: true for entries of an earlier run (read at start) and for sessions this
    /// run failed to delete; the reaper deletes those.
    #[serde(skip)]
    pub earlier: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerFile {
    version: u32,
    sessions: Vec<LedgerEntry>,
}

#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a ledger: {0}")]
    Garbage(String),
}

#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    /// False for [`Ledger::in_memory`]: no file is ever read or written.
    persistent: bool,
    entries: Mutex<Vec<LedgerEntry>>,
    /// The last write failed (a full disk): the file lags the entries until a write succeeds,
    /// which the next change or [`Ledger::flush`] tries again.
    dirty: AtomicBool,
}

impl Ledger {
    /// Reads the ledger at `path`. A missing file is an empty ledger; a truncated or garbage
    /// one is moved aside to `<path>.bad-<time>` and reported, and the ledger starts empty.
    pub fn open(path: &Path) -> Ledger {
        let entries = match load(path) {
            Ok(entries) => entries,
            Err(LoadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(LoadError::Io(e)) => {
                tracing::error!(message_id = crate::events::LEDGER_UNREADABLE, path = %path.display(), error = %e, "cannot read the ledger: starting with an empty one; sessions of an earlier run are left to the policy");
                Vec::new()
            }
            Err(LoadError::Garbage(reason)) => {
                report_garbage(path, &reason);
                Vec::new()
            }
        };
        if !entries.is_empty() {
            tracing::info!(path = %path.display(), count = entries.len(), "the ledger names sessions of an earlier run: those the BMC still lists are deleted at the first reaper cycle");
        }
        Ledger {
            path: path.to_path_buf(),
            persistent: true,
            entries: Mutex::new(entries),
            dirty: AtomicBool::new(false),
        }
    }

    /// A ledger that never touches a file (memory-only mode), starting empty.
    pub fn in_memory() -> Ledger {
        Ledger {
            path: PathBuf::new(),
            persistent: false,
            entries: Mutex::new(Vec::new()),
            dirty: AtomicBool::new(false),
        }
    }

    /// Whether it is written to a file (and read at start).
    pub fn is_persistent(&self) -> bool {
        self.persistent
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Notes a session just created, and writes the file.
    pub fn record(&self, uri: &str, owner: &str, user: Option<&str>) {
        self.record_created(uri, owner, user, None)
    }

    /// [`Self::record`] with the BMC's clock at the login's answer, when it said.
    pub fn record_created(
        &self,
        uri: &str,
        owner: &str,
        user: Option<&str>,
        bmc_created: Option<OffsetDateTime>,
    ) {
        let entry = LedgerEntry {
            uri: uri.to_string(),
            owner: owner.to_string(),
            user: user.map(str::to_string),
            created: OffsetDateTime::now_utc(),
            bmc_created,
            kind: None,
            earlier: false,
        };
        self.update(|entries| {
            entries.retain(|e| !ids_equal(&e.uri, uri));
            entries.push(entry);
        });
    }

    /// Notes the kind of this run's sessions that a listing shows (once per entry; a
    /// person's kind is never noted: the agent makes none).
    pub fn note_kinds(&self, listed: &[SessionInfo]) {
        let unnoted = |e: &LedgerEntry| e.kind.is_none() && !e.earlier;
        if !self.lock().iter().any(unnoted) {
            return;
        }
        self.update(|entries| {
            for entry in entries.iter_mut().filter(|e| unnoted(e)) {
                let listed = listed.iter().find(|s| ids_equal(&s.uri, &entry.uri));
                if let Some(s) = listed.filter(|s| !s.kind.is_person() && s.kind != Kind::Unknown) {
                    entry.kind = Some(s.kind);
                }
            }
        });
    }

    /// Forgets a session that is gone from the BMC, and writes the file.
    pub fn forget(&self, uri: &str) {
        self.update(|entries| entries.retain(|e| !ids_equal(&e.uri, uri)));
    }

    /// A session this run could not delete (its close failed): the reaper deletes it later.
    pub fn abandon(&self, uri: &str) {
        let mut entries = self.lock();
        entries
            .iter_mut()
            .filter(|e| ids_equal(&e.uri, uri))
            .for_each(|e| e.earlier = true);
    }

    /// The entries the reaper should delete: an earlier run's, and this run's abandoned ones.
    pub fn earlier(&self) -> Vec<LedgerEntry> {
        self.lock().iter().filter(|e| e.earlier).cloned().collect()
    }

    /// Every entry, in the order they were recorded.
    pub fn entries(&self) -> Vec<LedgerEntry> {
        self.lock().clone()
    }

    /// Writes the file again if the last write failed (the reaper calls it every cycle), so
    /// that nothing recorded while the disk was full is lost once space returns.
    pub fn flush(&self) {
        if self.dirty.load(Ordering::Relaxed) {
            self.update(|_| {});
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LedgerEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the entries and writes the file while holding the lock, so that writes land in
    /// the order of the changes. A failed write is reported; the agent goes on.
    fn update(&self, change: impl FnOnce(&mut Vec<LedgerEntry>)) {
        let mut entries = self.lock();
        let before = entries.clone();
        change(&mut entries);
        let dirty = self.dirty.load(Ordering::Relaxed);
        if (*entries == before && !dirty) || !self.persistent {
            return;
        }
        let file = LedgerFile {
            version: VERSION,
            sessions: entries.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
        let written = self
            .path
            .parent()
            .map(super::ensure_dir)
            .unwrap_or(Ok(()))
            .and_then(|_| super::write_atomic(&self.path, &bytes));
        match written {
            Ok(()) if dirty => {
                self.dirty.store(false, Ordering::Relaxed);
                tracing::info!(path = %self.path.display(), count = entries.len(), "the ledger is written again: it names every session of this run");
            }
            Ok(()) => {}
            // Logged once per spell of failures, not at every change.
            Err(e) if !self.dirty.swap(true, Ordering::Relaxed) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot write the ledger: kept in memory and written again once it can be; after a crash meanwhile these sessions are left to the policy");
            }
            Err(_) => {}
        }
    }
}

/// Far more than the sessions a BMC holds (a few hundred bytes each): anything larger is not
/// a ledger this agent wrote, and is not read into memory.
const MAX_BYTES: u64 = 4 << 20;

fn load(path: &Path) -> Result<Vec<LedgerEntry>, LoadError> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_BYTES {
        return Err(LoadError::Garbage(format!(
            "{size} bytes, more than a ledger holds"
        )));
    }
    let bytes = std::fs::read(path)?;
    let file: LedgerFile =
        serde_json::from_slice(&bytes).map_err(|e| LoadError::Garbage(e.to_string()))?;
    if file.version != VERSION {
        return Err(LoadError::Garbage(format!(
            "version {} (this agent writes {VERSION})",
            file.version
        )));
    }
    if let Some(bad) = file.sessions.iter().find(|e| !is_session_path(&e.uri)) {
        return Err(LoadError::Garbage(format!(
            "`{}` is not a Redfish session path",
            bad.uri
        )));
    }
    Ok(file
        .sessions
        .into_iter()
        .map(|e| LedgerEntry { earlier: true, ..e })
        .collect())
}

/// A member of a Sessions collection, e.g. `/redfish/v1/SessionService/Sessions/<id>`.
fn is_session_path(uri: &str) -> bool {
    uri.starts_with("/redfish/v1/")
        && uri
            .trim_end_matches('/')
            .rsplit_once("/Sessions/")
            .is_some_and(|(_, id)| !id.is_empty() && !id.contains('/'))
}

fn report_garbage(path: &Path, reason: &str) {
    match super::move_aside(path) {
        Ok(aside) => {
            tracing::error!(message_id = crate::events::LEDGER_UNREADABLE, path = %path.display(), moved_to = %aside.display(), %reason, "the ledger is truncated or garbage: moved aside; starting with an empty one")
        }
        Err(e) => {
            tracing::error!(message_id = crate::events::LEDGER_UNREADABLE, path = %path.display(), %reason, error = %e, "the ledger is truncated or garbage and cannot be moved aside; starting with an empty one")
        }
    }
}

#[cfg(test)]
mod tests;
