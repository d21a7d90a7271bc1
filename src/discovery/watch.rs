//! Watching the host-interface link: a BMC reset re-enumerates its USB NIC, so the link goes
//! and comes back with a new index. On its return the plan is applied again (it is idempotent)
//! and the session core is told, so the agent recovers without a restart. A NIC renamed while
//! the agent runs keeps its index: the watcher follows the index, not the name, applies the
//! plan under the new name and says so ([`LinkEvent::Renamed`]) for the transport to bind to it.

use futures::StreamExt;
use netlink_sys::{AsyncSocket, SocketAddr};
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage};
use rtnetlink::packet_route::RouteNetlinkMessage;
use tokio::sync::mpsc;

use super::link::{bring_up, LinkError, LinkPlan, LinkUp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// The interface is gone.
    Down,
    /// The interface is (back) and configured again.
    Up(LinkUp),
    /// The same interface (its index) under a new name, configured again.
    Renamed(LinkUp),
}

fn name_of(msg: &LinkMessage) -> Option<&str> {
    msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.as_str()),
        _ => None,
    })
}

/// Runs until `events` is closed. `known_index` is the interface's index as configured now.
pub async fn watch(
    plan: LinkPlan,
    known_index: Option<u32>,
    events: mpsc::Sender<LinkEvent>,
) -> Result<(), LinkError> {
    let (mut conn, _, mut messages) =
        rtnetlink::new_connection().map_err(|e| LinkError::Netlink(e.to_string()))?;
    conn.socket_mut()
        .socket_mut()
        .bind(&SocketAddr::new(0, rtnetlink::constants::RTMGRP_LINK))
        .map_err(|e| LinkError::Netlink(e.to_string()))?;
    let conn = tokio::spawn(conn);
    let mut index = known_index;
    let mut plan = plan;
    while let Some((message, _)) = messages.next().await {
        let (new, msg) = match message.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => (true, m),
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => (false, m),
            _ => continue,
        };
        let ours = index == Some(msg.header.index);
        let name = name_of(&msg).map(str::to_string);
        // The same link under another name (a VLAN's parent is followed by name only).
        if let (true, true, Some(name)) = (new, ours && plan.vlan.is_none(), &name) {
            if *name != plan.ifname {
                tracing::warn!(old = %plan.ifname, new = %name, "the host interface was renamed: following its index");
                plan.ifname = name.clone();
                match bring_up(&plan).await {
                    Ok(up) => {
                        if events.send(LinkEvent::Renamed(up)).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(ifname = %plan.ifname, error = %e, "bringing the renamed host interface up failed")
                    }
                }
                continue;
            }
        }
        let about_us = name.as_deref() == Some(plan.ifname.as_str()) || (ours && !new);
        if !about_us {
            continue;
        }
        let event = match (new, index) {
            (false, _) => {
                index = None;
                tracing::warn!(ifname = %plan.ifname, "the host interface is gone");
                LinkEvent::Down
            }
            (true, Some(i)) if i == msg.header.index => continue,
            (true, _) => {
                index = Some(msg.header.index);
                match bring_up(&plan).await {
                    Ok(up) => LinkEvent::Up(up),
                    Err(e) => {
                        tracing::warn!(ifname = %plan.ifname, error = %e, "bringing the returned host interface up failed");
                        continue;
                    }
                }
            }
        };
        if events.send(event).await.is_err() {
            break;
        }
    }
    conn.abort();
    Ok(())
}
