//! Bringing the host-interface NIC up over rtnetlink from its type 42 record: link up, the
//! static or DHCP host address (DHCP on that link only), a VLAN sub-interface for VLAN 1–4094,
//! and a host route scoped to the link when the service is outside the host's prefix. Never a
//! default route. Idempotent.
//!
//! IPv6 addresses are added without duplicate address detection (the BMC is the only other
//! end); a link-local service is reached through the NIC the transport binds to, which gives
//! the scope. AutoConfigure records are configured with the addresses they carry; one without
//! addresses gets the host's own link-local address: EUI-64 IPv6, or IPv4 probed with ARP
//! ([`super::ipv4ll`]). The link
//! watcher ([`super::watch`]) applies the plan again when the NIC comes back; a DHCP address
//! carries its lease's lifetime and [`super::dhcp_lease`] renews it.

use std::net::IpAddr;

use futures::TryStreamExt;
use rtnetlink::{LinkUnspec, LinkVlan, RouteMessageBuilder};

use super::smbios::model::{Assignment, RedfishOverIp};
use crate::subnet::in_prefix;

/// How the host side gets its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAddress {
    Static(IpAddr, u8),
    Dhcp,
    /// AutoConfigure with no address in the record and an IPv6 service: the host's own IPv6
    /// link-local address on the NIC (fe80::/64 with the EUI-64 of its MAC).
    LinkLocalV6,
    /// The same with an IPv4 service: an address of 169.254/16 the host picks and probes with
    /// ARP (RFC 3927, [`super::ipv4ll`]).
    LinkLocalV4,
}

/// Where the BMC's Redfish service is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAddress {
    Static(IpAddr),
    /// The DHCP server identifier (HPE iLO: the BMC serves DHCP on its vNIC).
    FromDhcp,
}

/// What to configure on which interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPlan {
    pub ifname: String,
    pub host: HostAddress,
    pub service: ServiceAddress,
    pub port: u16,
    pub vlan: Option<u16>,
}

/// The configured interface (the VLAN sub-interface when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkUp {
    pub ifname: String,
    pub ifindex: u32,
    /// The host side's address and prefix length.
    pub host: (IpAddr, u8),
    pub service: IpAddr,
    pub port: u16,
    /// The DHCP lease behind `host`, which [`super::dhcp_lease::keep`] renews.
    pub lease: Option<super::dhcp::Lease>,
}

impl LinkUp {
    pub fn url(&self) -> String {
        match self.service {
            IpAddr::V6(ip) => format!("https://[{ip}]:{}", self.port),
            IpAddr::V4(ip) => format!("https://{ip}:{}", self.port),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the host interface record asks for {0}, which this build does not configure yet")]
    Unsupported(String),
    #[error("the host interface record is incomplete: {0}")]
    Incomplete(&'static str),
    #[error("no network device {0}")]
    NoDevice(String),
    #[error("netlink: {0}")]
    Netlink(String),
    #[error(transparent)]
    Dhcp(#[from] super::dhcp::DhcpError),
}

fn netlink(e: impl std::fmt::Display) -> LinkError {
    LinkError::Netlink(e.to_string())
}

fn prefix_len(mask: IpAddr) -> u8 {
    match mask {
        IpAddr::V4(m) => u32::from(m).count_ones() as u8,
        IpAddr::V6(m) => u128::from(m).count_ones() as u8,
    }
}

/// The plan for a record: static or DHCP host addressing, a static or DHCP-learned service.
/// AutoConfigure and a DHCP service beside a static host are refused with a clear error.
pub fn plan(record: &RedfishOverIp, ifname: &str) -> Result<LinkPlan, LinkError> {
    let host = match record.host_ip_assignment {
        Assignment::Static => {
            let addr = record
                .host_address
                .ok_or(LinkError::Incomplete("no host address"))?;
            let mask = record
                .host_mask
                .ok_or(LinkError::Incomplete("no host mask"))?;
            HostAddress::Static(addr, prefix_len(mask))
        }
        Assignment::Dhcp => HostAddress::Dhcp,
        // NOTE(supermicro): AutoConfigure records carry the addresses the firmware chose
        // (host 169.254.3.1/24, service 169.254.3.254): use them as given.
        Assignment::AutoConfigure => match (record.host_address, record.host_mask) {
            (Some(addr), Some(mask)) => HostAddress::Static(addr, prefix_len(mask)),
            // Without an address the host picks its own: an IPv6 link-local beside an IPv6
            // link-local service.
            _ if record
                .service_address
                .is_some_and(|s| matches!(s, IpAddr::V6(v6) if v6.is_unicast_link_local())) =>
            {
                HostAddress::LinkLocalV6
            }
            _ if record.service_address.is_some_and(|s| s.is_ipv4()) => HostAddress::LinkLocalV4,
            _ => {
                return Err(LinkError::Incomplete(
                    "no host address and no service address",
                ))
            }
        },
        other => {
            return Err(LinkError::Unsupported(format!(
                "host IP assignment {}",
                other.name()
            )))
        }
    };
    let service = match (record.service_ip_discovery, &host) {
        (Assignment::Static | Assignment::AutoConfigure, _) if record.service_address.is_some() => {
            ServiceAddress::Static(
                record
                    .service_address
                    .ok_or(LinkError::Incomplete("no service address"))?,
            )
        }
        (Assignment::Static, _) => return Err(LinkError::Incomplete("no service address")),
        (Assignment::Dhcp, HostAddress::Dhcp) => ServiceAddress::FromDhcp,
        (other, _) => {
            return Err(LinkError::Unsupported(format!(
                "service IP discovery {} with this host assignment",
                other.name()
            )))
        }
    };
    let vlan = match record.vlan_id {
        Some(v @ 1..=4094) => Some(v as u16),
        Some(v) => return Err(LinkError::Unsupported(format!("VLAN {v}"))),
        None => None,
    };
    Ok(LinkPlan {
        ifname: ifname.to_string(),
        host,
        service,
        port: record.service_port,
        vlan,
    })
}

async fn index_of(handle: &mut rtnetlink::Handle, name: &str) -> Result<Option<u32>, LinkError> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(Some(msg)) => Ok(Some(msg.header.index)),
        Ok(None) => Ok(None),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(None),
        Err(e) => Err(netlink(e)),
    }
}

/// EEXIST is success for an idempotent bring-up.
fn exists_ok(result: Result<(), rtnetlink::Error>) -> Result<(), LinkError> {
    match result {
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::EEXIST => Ok(()),
        other => other.map_err(netlink),
    }
}

/// Applies the plan in the calling thread's network namespace.
pub async fn bring_up(plan: &LinkPlan) -> Result<LinkUp, LinkError> {
    let (conn, mut handle, _) = rtnetlink::new_connection().map_err(netlink)?;
    let conn = tokio::spawn(conn);
    let result = apply(&mut handle, plan).await;
    conn.abort();
    result
}

async fn apply(handle: &mut rtnetlink::Handle, plan: &LinkPlan) -> Result<LinkUp, LinkError> {
    let parent = index_of(handle, &plan.ifname)
        .await?
        .ok_or_else(|| LinkError::NoDevice(plan.ifname.clone()))?;
    handle
        .link()
        .set(LinkUnspec::new_with_index(parent).up().build())
        .execute()
        .await
        .map_err(netlink)?;
    let (ifname, index) = match plan.vlan {
        None => (plan.ifname.clone(), parent),
        Some(vid) => {
            let name = format!("{}.{vid}", plan.ifname);
            if index_of(handle, &name).await?.is_none() {
                exists_ok(
                    handle
                        .link()
                        .add(LinkVlan::new(&name, parent, vid).build())
                        .execute()
                        .await,
                )?;
            }
            let index = index_of(handle, &name)
                .await?
                .ok_or_else(|| LinkError::NoDevice(name.clone()))?;
            handle
                .link()
                .set(LinkUnspec::new_with_index(index).up().build())
                .execute()
                .await
                .map_err(netlink)?;
            (name, index)
        }
    };
    let mut dhcp_lease = None;
    let (host, prefix, service) = match (&plan.host, &plan.service) {
        (HostAddress::Static(addr, prefix), ServiceAddress::Static(service)) => {
            (*addr, *prefix, *service)
        }
        (HostAddress::Dhcp, service) => {
            let mac = mac_of(handle, index).await?;
            let lease =
                super::dhcp::acquire(&ifname, mac, std::time::Duration::from_secs(20)).await?;
            let service = match service {
                ServiceAddress::Static(ip) => *ip,
                ServiceAddress::FromDhcp => IpAddr::V4(lease.server),
            };
            let host = (IpAddr::V4(lease.address), lease.prefix, service);
            dhcp_lease = Some(lease);
            host
        }
        (HostAddress::LinkLocalV6, ServiceAddress::Static(service)) => {
            let mac = mac_of(handle, index).await?;
            (IpAddr::V6(eui64_link_local(mac)), 64, *service)
        }
        (HostAddress::LinkLocalV4, ServiceAddress::Static(service)) => {
            let host = match held_link_local_v4(handle, index).await? {
                Some(held) => held,
                None => {
                    let mac = mac_of(handle, index).await?;
                    tokio::task::spawn_blocking(move || super::ipv4ll::select(index, mac))
                        .await
                        .map_err(netlink)?
                        .map_err(|e| LinkError::Netlink(e.to_string()))?
                }
            };
            (IpAddr::V4(host), 16, *service)
        }
        (
            HostAddress::Static(..) | HostAddress::LinkLocalV6 | HostAddress::LinkLocalV4,
            ServiceAddress::FromDhcp,
        ) => {
            return Err(LinkError::Unsupported(
                "a DHCP-learned service with a static host".into(),
            ))
        }
    };
    // A leased address lives as long as its lease: the kernel drops it if no renewal comes.
    let valid = dhcp_lease.as_ref().map(|l| l.lease_s);
    set_address(handle, index, host, prefix, valid).await?;
    if let (false, IpAddr::V4(service)) = (in_prefix(host, service, prefix), service) {
        let route = RouteMessageBuilder::<std::net::Ipv4Addr>::new()
            .destination_prefix(service, 32)
            .output_interface(index)
            .scope(rtnetlink::packet_route::route::RouteScope::Link)
            .build();
        exists_ok(handle.route().add(route).execute().await)?;
    }
    tracing::info!(%ifname, host = %host, prefix, service = %service, "host interface configured");
    Ok(LinkUp {
        ifname,
        ifindex: index,
        host: (host, prefix),
        service,
        port: plan.port,
        lease: dhcp_lease,
    })
}

/// A 169.254/16 address the link has already (an earlier bring-up's): kept, not probed again.
async fn held_link_local_v4(
    handle: &mut rtnetlink::Handle,
    index: u32,
) -> Result<Option<std::net::Ipv4Addr>, LinkError> {
    use rtnetlink::packet_route::address::AddressAttribute;
    let mut addrs = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute();
    while let Some(msg) = addrs.try_next().await.map_err(netlink)? {
        for attr in &msg.attributes {
            if let AddressAttribute::Local(IpAddr::V4(v4)) = attr {
                if v4.is_link_local() {
                    return Ok(Some(*v4));
                }
            }
        }
    }
    Ok(None)
}

/// fe80::/64 with the modified EUI-64 interface identifier of `mac` (RFC 4291 appendix A):
/// the address the kernel itself gives the link by default, added here without waiting for
/// duplicate address detection and whatever the link's `addr_gen_mode`.
pub fn eui64_link_local(mac: [u8; 6]) -> std::net::Ipv6Addr {
    let [a, b, c, d, e, f] = mac;
    std::net::Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        a ^ 0x02,
        b,
        c,
        0xff,
        0xfe,
        d,
        e,
        f,
    ])
}

/// Adds the host address, or replaces it (its lifetime) when it is there; `valid_s` is its
/// lifetime in seconds (a DHCP lease's), `None` or infinite for a permanent one.
pub(super) async fn set_address(
    handle: &mut rtnetlink::Handle,
    index: u32,
    host: IpAddr,
    prefix: u8,
    valid_s: Option<u32>,
) -> Result<(), LinkError> {
    use rtnetlink::packet_route::address::{
        AddressAttribute, AddressFlags, AddressHeaderFlags, CacheInfo,
    };
    let mut add = handle.address().add(index, host, prefix).replace();
    if host.is_ipv6() {
        // The other end is the BMC alone: duplicate address detection would only keep the
        // address tentative (unusable) for a second or two.
        add.message_mut().header.flags |= AddressHeaderFlags::Nodad;
        add.message_mut()
            .attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    if let Some(valid) = valid_s.filter(|v| *v != super::dhcp::INFINITE && *v > 0) {
        let mut info = CacheInfo::default();
        info.ifa_preferred = valid;
        info.ifa_valid = valid;
        add.message_mut()
            .attributes
            .push(AddressAttribute::CacheInfo(info));
    }
    exists_ok(add.execute().await)
}

/// Removes the host address (a lease that ended); one already gone is no error.
pub(super) async fn remove_address(
    handle: &mut rtnetlink::Handle,
    index: u32,
    host: IpAddr,
) -> Result<(), LinkError> {
    let mut addrs = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .set_address_filter(host)
        .execute();
    while let Some(msg) = addrs.try_next().await.map_err(netlink)? {
        match handle.address().del(msg).execute().await {
            Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::EADDRNOTAVAIL => {}
            other => other.map_err(netlink)?,
        }
    }
    Ok(())
}

/// The link's hardware address, for the DHCP client's chaddr.
pub(super) async fn mac_of(
    handle: &mut rtnetlink::Handle,
    index: u32,
) -> Result<[u8; 6], LinkError> {
    use rtnetlink::packet_route::link::LinkAttribute;
    let mut links = handle.link().get().match_index(index).execute();
    let msg = links
        .try_next()
        .await
        .map_err(netlink)?
        .ok_or_else(|| LinkError::NoDevice(format!("index {index}")))?;
    msg.attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::Address(bytes) => <[u8; 6]>::try_from(bytes.as_slice()).ok(),
            _ => None,
        })
        .ok_or(LinkError::Incomplete("the link has no Ethernet address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::smbios::model::IpFormat;

    fn autoconfigure(service: &str) -> RedfishOverIp {
        let service: IpAddr = service.parse().unwrap();
        RedfishOverIp {
            service_uuid: String::new(),
            host_ip_assignment: Assignment::AutoConfigure,
            host_ip_format: if service.is_ipv6() {
                IpFormat::Ipv6
            } else {
                IpFormat::Ipv4
            },
            host_address: None,
            host_mask: None,
            service_ip_discovery: Assignment::AutoConfigure,
            service_ip_format: IpFormat::Ipv6,
            service_address: Some(service),
            service_mask: None,
            service_port: 443,
            vlan_id: None,
            hostname: None,
        }
    }

    #[test]
    fn an_autoconfigure_record_without_addresses_uses_the_hosts_ipv6_link_local() {
        let p = plan(&autoconfigure("fe80::1"), "usb0").unwrap();
        assert_eq!(p.host, HostAddress::LinkLocalV6);
        assert_eq!(
            p.service,
            ServiceAddress::Static("fe80::1".parse().unwrap())
        );
        assert_eq!(
            eui64_link_local([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]),
            "fe80::11:22ff:fe33:4455"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
        );
    }

    #[test]
    fn an_autoconfigure_record_without_addresses_and_an_ipv4_service_picks_ipv4_link_local() {
        let p = plan(&autoconfigure("169.254.0.1"), "usb0").unwrap();
        assert_eq!(p.host, HostAddress::LinkLocalV4);
    }
}
