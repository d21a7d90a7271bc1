//! Keeping the host-interface NIC's DHCP lease for as long as the agent runs (RFC 2131
//! §4.4.5): at T1 a renewal unicast to the server that gave it, from T2 a rebinding broadcast
//! to any server, and when the lease ends without an answer (or the server says NAK) the
//! address goes and a new lease is acquired. The address is added with the lease's lifetime
//! ([`super::link`]), so an agent that stopped renewing could never keep using an address the
//! server may give to someone else: the kernel drops it.
//!
//! Each renewal replaces the address's lifetime in place: the link never goes down and open
//! connections stay.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::dhcp::{self, DhcpError, Lease};
use super::link::{self, LinkError, LinkUp};

/// What happened to the lease, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseEvent {
    /// The server that gave it renewed it at T1.
    Renewed(Lease),
    /// No answer to the renewal; a server answered the rebinding broadcast from T2.
    Rebound(Lease),
    /// The lease ended or was refused: the address went, and this is the new lease.
    Reacquired(Lease),
}

impl LeaseEvent {
    pub fn name(&self) -> &'static str {
        match self {
            LeaseEvent::Renewed(_) => "renewed",
            LeaseEvent::Rebound(_) => "rebound",
            LeaseEvent::Reacquired(_) => "reacquired",
        }
    }
}

/// How long to wait between attempts to get a new lease once one is lost.
const REACQUIRE_PAUSE: Duration = Duration::from_secs(5);

/// Renews `up`'s lease until the link goes (an error) or `up` has no lease to keep (returns at
/// once). Runs in the calling thread's network namespace.
pub async fn keep(up: LinkUp, events: Option<mpsc::Sender<LeaseEvent>>) -> Result<(), LinkError> {
    let Some(mut lease) = up.lease.clone() else {
        return Ok(());
    };
    let (conn, mut handle, _) =
        rtnetlink::new_connection().map_err(|e| LinkError::Netlink(e.to_string()))?;
    let conn = tokio::spawn(conn);
    let result = keep_on(&mut handle, &up, &mut lease, events).await;
    conn.abort();
    result
}

async fn keep_on(
    handle: &mut rtnetlink::Handle,
    up: &LinkUp,
    lease: &mut Lease,
    events: Option<mpsc::Sender<LeaseEvent>>,
) -> Result<(), LinkError> {
    let mac = link::mac_of(handle, up.ifindex).await?;
    let ifname = up.ifname.as_str();
    let mut acked = Instant::now();
    loop {
        if lease.lease_s == dhcp::INFINITE || lease.lease_s == 0 {
            tracing::debug!(%ifname, "the DHCP lease does not end: nothing to renew");
            return Ok(());
        }
        let at = |s: u32| acked + Duration::from_secs(u64::from(s));
        tokio::time::sleep_until(at(lease.t1_s)).await;
        let left = |until: Instant| until.saturating_duration_since(Instant::now());
        let renewed = match dhcp::renew(ifname, mac, lease, false, left(at(lease.t2_s))).await {
            Ok(new) => Ok(LeaseEvent::Renewed(new)),
            Err(DhcpError::Nak(_)) => Err("the server refused the renewal (NAK)".to_string()),
            Err(DhcpError::Socket { reason, .. }) => return Err(gone(ifname, reason)),
            Err(e) => {
                tracing::warn!(%ifname, error = %e, "no answer to the DHCP renewal: rebinding");
                tokio::time::sleep_until(at(lease.t2_s)).await;
                match dhcp::renew(ifname, mac, lease, true, left(at(lease.lease_s))).await {
                    Ok(new) => Ok(LeaseEvent::Rebound(new)),
                    Err(DhcpError::Socket { reason, .. }) => return Err(gone(ifname, reason)),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        let event = match renewed {
            Ok(event) => event,
            Err(why) => {
                tracing::warn!(%ifname, address = %lease.address, %why, "the DHCP lease is lost: removing the address and asking for a new lease");
                link::remove_address(handle, up.ifindex, lease.address.into()).await?;
                LeaseEvent::Reacquired(reacquire(ifname, mac).await?)
            }
        };
        acked = Instant::now();
        let new = match &event {
            LeaseEvent::Renewed(l) | LeaseEvent::Rebound(l) | LeaseEvent::Reacquired(l) => l,
        };
        if new.address != lease.address {
            link::remove_address(handle, up.ifindex, lease.address.into()).await?;
        }
        link::set_address(
            handle,
            up.ifindex,
            new.address.into(),
            new.prefix,
            Some(new.lease_s),
        )
        .await?;
        tracing::info!(%ifname, address = %new.address, lease_s = new.lease_s, t1_s = new.t1_s, how = event.name(), "DHCP lease kept");
        *lease = new.clone();
        if let Some(tx) = &events {
            let _ = tx.send(event).await;
        }
    }
}

fn gone(ifname: &str, reason: String) -> LinkError {
    LinkError::Dhcp(DhcpError::Socket {
        ifname: ifname.to_string(),
        reason,
    })
}

/// A new lease, trying again every few seconds until the link goes.
async fn reacquire(ifname: &str, mac: [u8; 6]) -> Result<Lease, LinkError> {
    loop {
        match dhcp::acquire(ifname, mac, Duration::from_secs(20)).await {
            Ok(lease) => return Ok(lease),
            Err(DhcpError::Socket { reason, .. }) => return Err(gone(ifname, reason)),
            Err(e) => {
                tracing::warn!(%ifname, error = %e, "no new DHCP lease yet");
                tokio::time::sleep(REACQUIRE_PAUSE).await;
            }
        }
    }
}
