//! Who may hold the API's connection slots. Each listener has [`MAX_CONNECTIONS`]; the peer's
//! role is known at accept (SO_PEERCRED, sock_diag), before a byte is read, so:
//! - a peer with no role never gets a slot: it gets a 403 at once from a small pool of its own
//!   ([`NO_ROLE_CONNECTIONS`], [`NO_ROLE_PER_UID`]);
//! - one uid holds at most [`PER_UID`] slots (root excepted), so one user cannot take them all;
//! - readers together hold at most `MAX_CONNECTIONS - ADMIN_RESERVE`: root and the admin group
//!   always find [`ADMIN_RESERVE`] free.
//!
//! A flood leaves memory freed but kept by glibc's allocator; when the slots empty after a
//! busy spell the daemon gives it back (`malloc_trim`, see [`Admission`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::peer::{Peer, Role};

pub const MAX_CONNECTIONS: usize = 256;
/// Slots only root and the admin group may use.
pub const ADMIN_RESERVE: usize = 64;
/// Slots one uid may hold at once (root has no such limit).
pub const PER_UID: usize = 32;
/// Connections being refused at once (peers with no role), all uids together...
pub const NO_ROLE_CONNECTIONS: usize = 32;
/// ...and per uid.
pub const NO_ROLE_PER_UID: usize = 4;
/// Connections open at a peak that make it worth giving freed memory back when they end.
const TRIM_AFTER_PEAK: usize = 32;

/// Why a connection was refused, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The peer has no role: answered 403 without reading its request.
    NoRole,
    /// The peer has no role and already has its share of refusals in progress: closed.
    NoRoleBusy,
    /// The uid already holds [`PER_UID`] connections.
    PerUid,
    /// Every slot this peer's role may use is taken.
    Full,
    /// The kernel could not say who the peer is.
    Unknown,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::NoRole => "no role (answered 403 before reading the request)",
            Refusal::NoRoleBusy => "no role, and too many of its refusals in progress (closed)",
            Refusal::PerUid => "the uid holds its limit of connections",
            Refusal::Full => "every connection slot its role may use is taken",
            Refusal::Unknown => "the kernel could not say who connected",
        })
    }
}

/// What a peer was given: a slot to be served in, or a slot to be refused in (no role).
pub enum Admitted {
    Serve(Ticket),
    Refuse(Ticket),
}

/// One listener's slots.
pub struct Admission {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Slots in use (readers and admins).
    total: usize,
    readers: usize,
    no_role: usize,
    per_uid: HashMap<u32, usize>,
    no_role_per_uid: HashMap<u32, usize>,
    /// The most connections (of every class) open at once since the last trim.
    peak: usize,
}

impl State {
    fn open(&self) -> usize {
        self.total + self.no_role
    }
}

/// A held slot; dropping it frees the slot.
pub struct Ticket {
    admission: Arc<Admission>,
    uid: u32,
    class: Class,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Admin,
    Reader,
    NoRole,
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            state: Mutex::new(State::default()),
        }
    }
}

impl Admission {
    pub fn new() -> Arc<Admission> {
        Arc::new(Admission::default())
    }

    /// Gives `peer` a slot by its role, or says why not.
    pub fn admit(self: &Arc<Self>, peer: &Peer) -> Result<Admitted, Refusal> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let class = match peer.role {
            Role::None => Class::NoRole,
            Role::Reader => Class::Reader,
            Role::Admin => Class::Admin,
        };
        if class == Class::NoRole {
            let mine = s.no_role_per_uid.get(&peer.uid).copied().unwrap_or(0);
            if mine >= NO_ROLE_PER_UID || s.no_role >= NO_ROLE_CONNECTIONS {
                return Err(Refusal::NoRoleBusy);
            }
            s.no_role += 1;
            *s.no_role_per_uid.entry(peer.uid).or_default() += 1;
        } else {
            let mine = s.per_uid.get(&peer.uid).copied().unwrap_or(0);
            if peer.uid != 0 && mine >= PER_UID {
                return Err(Refusal::PerUid);
            }
            let room = match class {
                Class::Reader => s.readers < MAX_CONNECTIONS - ADMIN_RESERVE,
                _ => true,
            };
            if !room || s.total >= MAX_CONNECTIONS {
                return Err(Refusal::Full);
            }
            s.total += 1;
            if class == Class::Reader {
                s.readers += 1;
            }
            *s.per_uid.entry(peer.uid).or_default() += 1;
        }
        s.peak = s.peak.max(s.open());
        let ticket = Ticket {
            admission: self.clone(),
            uid: peer.uid,
            class,
        };
        Ok(match class {
            Class::NoRole => Admitted::Refuse(ticket),
            _ => Admitted::Serve(ticket),
        })
    }

    /// Connections open now (served and being refused).
    pub fn open(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).open()
    }

    fn release(&self, uid: u32, class: Class) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut *guard;
        let (count, map) = match class {
            Class::NoRole => (&mut s.no_role, &mut s.no_role_per_uid),
            _ => (&mut s.total, &mut s.per_uid),
        };
        *count = count.saturating_sub(1);
        if let Some(n) = map.get_mut(&uid) {
            *n -= 1;
            if *n == 0 {
                map.remove(&uid);
            }
        }
        if class == Class::Reader {
            s.readers = s.readers.saturating_sub(1);
        }
        if s.open() == 0 && s.peak >= TRIM_AFTER_PEAK {
            s.peak = 0;
            drop(guard);
            give_back_memory();
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self.uid, self.class);
    }
}

/// Returns the heap's free pages to the kernel. glibc keeps memory freed by many threads in
/// per-thread arenas and gives back only the top of each heap on its own; after a flood of
/// connections (each with its buffers) that stays resident. `malloc_trim(0)` releases every
/// whole free page of every arena. It runs only when a listener's slots empty after a peak of
/// [`TRIM_AFTER_PEAK`] connections, so rarely, and takes well under a millisecond on a heap of
/// this size.
fn give_back_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only walks the allocator's own free lists under its locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(uid: u32, role: Role) -> Peer {
        Peer {
            uid,
            gid: uid,
            pid: None,
            role,
        }
    }

    fn serve(a: &Arc<Admission>, p: &Peer) -> Result<Ticket, Refusal> {
        match a.admit(p)? {
            Admitted::Serve(t) => Ok(t),
            Admitted::Refuse(_) => panic!("uid {} was to be served", p.uid),
        }
    }

    #[test]
    fn one_reader_cannot_take_more_than_its_share_and_gets_it_back() {
        let a = Admission::new();
        let reader = peer(1000, Role::Reader);
        let held: Vec<_> = (0..PER_UID).map(|_| serve(&a, &reader).unwrap()).collect();
        assert_eq!(serve(&a, &reader).err(), Some(Refusal::PerUid));
        serve(&a, &peer(1001, Role::Reader)).expect("another reader still gets in");
        drop(held);
        assert_eq!(a.open(), 0);
        serve(&a, &reader).expect("slots come back when connections end");
    }

    #[test]
    fn readers_together_leave_the_reserve_to_root_and_admins() {
        let a = Admission::new();
        let readers = MAX_CONNECTIONS - ADMIN_RESERVE;
        let _held: Vec<_> = (0..readers)
            .map(|i| serve(&a, &peer(2000 + (i / PER_UID) as u32, Role::Reader)).unwrap())
            .collect();
        assert_eq!(
            serve(&a, &peer(9999, Role::Reader)).err(),
            Some(Refusal::Full)
        );
        let admin = peer(3000, Role::Admin);
        let _admins: Vec<_> = (0..PER_UID).map(|_| serve(&a, &admin).unwrap()).collect();
        // Root has no per-uid limit and takes what is left.
        let root = peer(0, Role::Admin);
        let _root: Vec<_> = (0..ADMIN_RESERVE - PER_UID)
            .map(|_| serve(&a, &root).unwrap())
            .collect();
        assert_eq!(serve(&a, &root).err(), Some(Refusal::Full), "256 in all");
    }

    #[test]
    fn peers_with_no_role_take_no_slot_and_only_a_few_refusals() {
        let a = Admission::new();
        let stranger = peer(4000, Role::None);
        let refusing: Vec<_> = (0..NO_ROLE_PER_UID)
            .map(|_| match a.admit(&stranger) {
                Ok(Admitted::Refuse(t)) => t,
                _ => panic!("a peer with no role is refused"),
            })
            .collect();
        assert_eq!(a.admit(&stranger).err(), Some(Refusal::NoRoleBusy));
        let root = peer(0, Role::Admin);
        let _root: Vec<_> = (0..MAX_CONNECTIONS)
            .map(|_| serve(&a, &root).unwrap())
            .collect();
        drop(refusing);
    }
}
