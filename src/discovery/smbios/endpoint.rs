//! Which Redfish service the agent would use, from the decoded type 42 records.
//!
//! Rule: among network interfaces' Redfish-over-IP records (table order), the first whose
//! service address is known wins; if none is, the first whose service address is learned by
//! DHCP. An IPv6 link-local address needs the host interface's scope (`%ifname`), which is
//! only known once the NIC is matched in sysfs: [`Endpoint::Address::needs_scope`] says so.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::model::{Assignment, HostInterface, InterfaceType, Protocol, RedfishOverIp};

/// The endpoint choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The table names the service address.
    Address {
        handle: u16,
        address: IpAddr,
        port: u16,
        vlan_id: Option<u32>,
        hostname: Option<String>,
        needs_scope: bool,
    },
    /// The service address is learned by DHCP: unknown until the host interface link is up.
    Dhcp {
        handle: u16,
        port: u16,
        vlan_id: Option<u32>,
        hostname: Option<String>,
    },
}

impl Endpoint {
    /// `https://<addr>:<port>`, IPv6 in brackets; `None` while the address is unknown.
    pub fn url(&self) -> Option<String> {
        match self {
            Endpoint::Address {
                address: IpAddr::V6(a),
                port,
                ..
            } => Some(format!("https://[{a}]:{port}")),
            Endpoint::Address { address, port, .. } => Some(format!("https://{address}:{port}")),
            Endpoint::Dhcp { .. } => None,
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Endpoint::Address {
                handle,
                address,
                port,
                vlan_id,
                hostname,
                needs_scope,
            } => json!({
                "source": "smbios",
                "url": self.url(),
                "address": address.to_string(),
                "port": port,
                "handle": handle,
                "vlan_id": vlan_id,
                "hostname": hostname,
                "needs_interface_scope": needs_scope,
            }),
            Endpoint::Dhcp {
                handle,
                port,
                vlan_id,
                hostname,
            } => json!({
                "source": "dhcp",
                "url": null,
                "address": null,
                "port": port,
                "handle": handle,
                "vlan_id": vlan_id,
                "hostname": hostname,
                "note": "learned by DHCP (unknown until the link is up)",
            }),
        }
    }
}

fn redfish_records(records: &[HostInterface]) -> impl Iterator<Item = (u16, &RedfishOverIp)> {
    records
        .iter()
        .filter(|r| r.interface_type == InterfaceType::Network)
        .flat_map(|r| r.protocols.iter().map(move |p| (r.handle, p)))
        .filter_map(|(h, p)| match p {
            Protocol::RedfishOverIp(x) => Some((h, x)),
            Protocol::Other { .. } => None,
        })
}

fn port(p: u16) -> u16 {
    // A zero port is not a port: fall back to the HTTPS default that DSP0270 services use.
    if p == 0 {
        443
    } else {
        p
    }
}

fn link_local(a: &IpAddr) -> bool {
    match a {
        IpAddr::V6(v6) => (v6.segments().first().copied().unwrap_or(0) & 0xffc0) == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

/// Picks the endpoint; `None` when no network host interface advertises Redfish over IP.
pub fn choose_endpoint(records: &[HostInterface]) -> Option<Endpoint> {
    let known = redfish_records(records).find_map(|(handle, r)| {
        let address = r.service_address?;
        Some(Endpoint::Address {
            handle,
            address,
            port: port(r.service_port),
            vlan_id: r.vlan_id,
            hostname: r.hostname.clone(),
            needs_scope: link_local(&address),
        })
    });
    known.or_else(|| {
        redfish_records(records)
            .find(|(_, r)| r.service_ip_discovery == Assignment::Dhcp)
            .map(|(handle, r)| Endpoint::Dhcp {
                handle,
                port: port(r.service_port),
                vlan_id: r.vlan_id,
                hostname: r.hostname.clone(),
            })
    })
}
