//! A small DHCPv4 client for the host-interface NIC only: DISCOVER, OFFER, REQUEST, ACK over a
//! UDP socket bound to the interface (SO_BINDTODEVICE) with the broadcast flag set, since the
//! interface has no address yet. The server identifier (option 54) is the BMC when the record
//! says the service address is learned by DHCP (HPE iLO's vNIC: 16.1.15.1).
//!
//! Keeping the lease (renewal at T1, rebinding at T2) is [`super::dhcp_lease`]'s.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::net::UdpSocket;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub address: Ipv4Addr,
    pub prefix: u8,
    /// Option 54: who answered.
    pub server: Ipv4Addr,
    pub lease_s: u32,
    /// When to renew (option 58; half the lease when absent) and to rebind (option 59; 7/8
    /// of it), seconds after the ACK (RFC 2131 §4.4.5).
    pub t1_s: u32,
    pub t2_s: u32,
}

/// `lease_s` when the lease never ends (RFC 2131: 0xffffffff).
pub const INFINITE: u32 = u32::MAX;

#[derive(Debug, thiserror::Error)]
pub enum DhcpError {
    #[error("no DHCP answer on {ifname} within {after:?} (waiting for {waiting})")]
    Timeout {
        ifname: String,
        after: Duration,
        waiting: &'static str,
    },
    #[error("DHCP server refused the lease (NAK) on {0}")]
    Nak(String),
    #[error("DHCP socket on {ifname}: {reason}")]
    Socket { ifname: String, reason: String },
}

const MAGIC: [u8; 4] = [99, 130, 83, 99];
const DISCOVER: u8 = 1;
const OFFER: u8 = 2;
const REQUEST: u8 = 3;
const ACK: u8 = 5;
const NAK: u8 = 6;

/// A BOOTREQUEST with the broadcast flag and the given options.
pub fn request_packet(xid: u32, mac: [u8; 6], msg_type: u8, extra: &[(u8, Vec<u8>)]) -> Vec<u8> {
    request_from(xid, mac, None, msg_type, extra)
}

/// A BOOTREQUEST; with `ciaddr` (renewing or rebinding a lease: RFC 2131 §4.3.2) it carries
/// the client's address and no broadcast flag, as the server answers that address.
fn request_from(
    xid: u32,
    mac: [u8; 6],
    ciaddr: Option<Ipv4Addr>,
    msg_type: u8,
    extra: &[(u8, Vec<u8>)],
) -> Vec<u8> {
    let mut p = vec![0u8; 240];
    p[0] = 1; // BOOTREQUEST
    p[1] = 1; // Ethernet
    p[2] = 6;
    p[4..8].copy_from_slice(&xid.to_be_bytes());
    match ciaddr {
        Some(addr) => p[12..16].copy_from_slice(&addr.octets()),
        None => p[10] = 0x80, // broadcast flag: we have no address to be answered at
    }
    p[28..34].copy_from_slice(&mac);
    p[236..240].copy_from_slice(&MAGIC);
    p.extend_from_slice(&[53, 1, msg_type]);
    p.extend_from_slice(&[55, 6, 1, 3, 51, 54, 58, 59]); // mask, router, lease, server, T1, T2
    for (code, value) in extra {
        p.push(*code);
        p.push(value.len() as u8);
        p.extend_from_slice(value);
    }
    p.push(255);
    p
}

/// A parsed BOOTREPLY.
#[derive(Debug)]
pub struct Reply {
    pub xid: u32,
    pub yiaddr: Ipv4Addr,
    /// Option 53, the DHCP message type (2 offer, 5 ack, 6 nak); 0 when absent.
    pub msg_type: u8,
    pub options: Vec<(u8, Vec<u8>)>,
}

/// Parses a BOOTREPLY; `None` for anything else.
pub fn parse_reply(p: &[u8]) -> Option<Reply> {
    if p.len() < 240 || p[0] != 2 || p.get(236..240)? != MAGIC {
        return None;
    }
    let xid = u32::from_be_bytes(p.get(4..8)?.try_into().ok()?);
    let yiaddr = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    let (mut options, mut i, mut msg_type) = (Vec::new(), 240usize, 0u8);
    while let Some(&code) = p.get(i) {
        match code {
            0 => i += 1,
            255 => break,
            _ => {
                let len = usize::from(*p.get(i + 1)?);
                let value = p.get(i + 2..i + 2 + len)?.to_vec();
                if code == 53 {
                    msg_type = *value.first()?;
                }
                options.push((code, value));
                i += 2 + len;
            }
        }
    }
    Some(Reply {
        xid,
        yiaddr,
        msg_type,
        options,
    })
}

fn option(options: &[(u8, Vec<u8>)], code: u8) -> Option<&[u8]> {
    options
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, v)| v.as_slice())
}

fn ipv4(v: Option<&[u8]>) -> Option<Ipv4Addr> {
    let b: [u8; 4] = v?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

fn bound_socket(ifname: &str) -> Result<UdpSocket, DhcpError> {
    let err = |e: std::io::Error| DhcpError::Socket {
        ifname: ifname.to_string(),
        reason: e.to_string(),
    };
    let std_sock =
        std::net::UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68)).map_err(err)?;
    std_sock.set_broadcast(true).map_err(err)?;
    let name = std::ffi::CString::new(ifname).map_err(|_| DhcpError::Socket {
        ifname: ifname.into(),
        reason: "bad interface name".into(),
    })?;
    // SAFETY: setsockopt on our own socket with a NUL-terminated name and its length.
    let rc = unsafe {
        libc::setsockopt(
            std_sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            name.as_ptr().cast(),
            name.as_bytes_with_nul().len() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    std_sock.set_nonblocking(true).map_err(err)?;
    UdpSocket::from_std(std_sock).map_err(err)
}

/// Sends `packet` until a reply of one of `want` types with our xid comes, resending after
/// 250 ms, doubling to 4 s: the vNIC is point to point and its server may start after the link
/// (RFC 2131's 4 s first retry would cost seconds at every BMC reset).
#[allow(clippy::too_many_arguments)]
async fn exchange(
    sock: &UdpSocket,
    ifname: &str,
    to: Ipv4Addr,
    packet: &[u8],
    xid: u32,
    want: &[u8],
    timeout: Duration,
    waiting: &'static str,
) -> Result<(Ipv4Addr, u8, Vec<(u8, Vec<u8>)>), DhcpError> {
    let to = SocketAddr::from((to, 67));
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = vec![0u8; 1500];
    let mut wait = Duration::from_millis(250);
    loop {
        if let Err(e) = sock.send_to(packet, to).await {
            // The interface is gone: nothing to wait for. Anything else (no route to the
            // server yet) is retried like a lost packet.
            if e.raw_os_error() == Some(libc::ENODEV)
                || to.ip() == std::net::IpAddr::V4(Ipv4Addr::BROADCAST)
            {
                return Err(DhcpError::Socket {
                    ifname: ifname.into(),
                    reason: e.to_string(),
                });
            }
        }
        let resend = tokio::time::Instant::now() + wait;
        wait = (wait * 2).min(Duration::from_secs(4));
        while tokio::time::Instant::now() < resend.min(deadline) {
            let Ok(Ok((n, _))) =
                tokio::time::timeout_at(resend.min(deadline), sock.recv_from(&mut buf)).await
            else {
                break;
            };
            if let Some(Reply {
                xid: rx,
                yiaddr,
                msg_type: t,
                options: opts,
            }) = parse_reply(&buf[..n])
            {
                if rx == xid && want.contains(&t) {
                    return Ok((yiaddr, t, opts));
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DhcpError::Timeout {
                ifname: ifname.into(),
                after: timeout,
                waiting,
            });
        }
    }
}

/// Acquires a lease on `ifname` (which must be up).
pub async fn acquire(ifname: &str, mac: [u8; 6], timeout: Duration) -> Result<Lease, DhcpError> {
    let sock = bound_socket(ifname)?;
    let xid: u32 = rand::random();
    let (offered, _, offer) = exchange(
        &sock,
        ifname,
        Ipv4Addr::BROADCAST,
        &request_packet(xid, mac, DISCOVER, &[]),
        xid,
        &[OFFER],
        timeout,
        "an offer",
    )
    .await?;
    let server = ipv4(option(&offer, 54)).unwrap_or(Ipv4Addr::UNSPECIFIED);
    let extra = [
        (50, offered.octets().to_vec()),
        (54, server.octets().to_vec()),
    ];
    let (address, t, ack) = exchange(
        &sock,
        ifname,
        Ipv4Addr::BROADCAST,
        &request_packet(xid, mac, REQUEST, &extra),
        xid,
        &[ACK, NAK],
        timeout,
        "an ack",
    )
    .await?;
    if t == NAK {
        return Err(DhcpError::Nak(ifname.into()));
    }
    let lease = lease_of(address, server, &ack);
    tracing::info!(%ifname, %address, prefix = lease.prefix, server = %lease.server, lease_s = lease.lease_s, "DHCP lease");
    Ok(lease)
}

/// Renews `lease` (RFC 2131 §4.4.5): a REQUEST with the address as `ciaddr`, unicast to the
/// server that gave it (RENEWING, from T1) or broadcast to any server (REBINDING, from T2),
/// resent until `timeout`. A NAK is [`DhcpError::Nak`]: the address must go.
pub async fn renew(
    ifname: &str,
    mac: [u8; 6],
    lease: &Lease,
    rebinding: bool,
    timeout: Duration,
) -> Result<Lease, DhcpError> {
    let sock = bound_socket(ifname)?;
    let xid: u32 = rand::random();
    let to = if rebinding {
        Ipv4Addr::BROADCAST
    } else {
        lease.server
    };
    let packet = request_from(xid, mac, Some(lease.address), REQUEST, &[]);
    let waiting = if rebinding {
        "an ack to the rebinding request"
    } else {
        "an ack to the renewal"
    };
    let (address, t, ack) = exchange(
        &sock,
        ifname,
        to,
        &packet,
        xid,
        &[ACK, NAK],
        timeout,
        waiting,
    )
    .await?;
    if t == NAK {
        return Err(DhcpError::Nak(ifname.into()));
    }
    // A server that answers with no yiaddr means the same address.
    let address = if address.is_unspecified() {
        lease.address
    } else {
        address
    };
    Ok(lease_of(address, lease.server, &ack))
}

/// The lease an ACK's options give `address`; `server` is who answered when the ACK names
/// no server (option 54). Nonsense is bounded rather than refused: T1 ≤ T2 ≤ the lease, and a
/// subnet mask that is not contiguous (`255.0.255.0`) counts by its leading ones, with a
/// warning naming it.
pub fn lease_of(address: Ipv4Addr, server: Ipv4Addr, ack: &[(u8, Vec<u8>)]) -> Lease {
    let prefix = ipv4(option(ack, 1)).map_or(24, |m| {
        let bits = u32::from(m);
        let prefix = bits.leading_ones() as u8;
        if bits.count_ones() != u32::from(prefix) {
            tracing::warn!(mask = %m, prefix, "the DHCP server's subnet mask (option 1) is not contiguous: using its leading ones");
        }
        prefix
    });
    let seconds = |code| {
        option(ack, code)
            .and_then(|v| v.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let lease_s = seconds(51).unwrap_or(0);
    let t1_s = seconds(58).unwrap_or(lease_s / 2).min(lease_s);
    let t2_s = seconds(59)
        .unwrap_or((u64::from(lease_s) * 7 / 8) as u32)
        .clamp(t1_s, lease_s);
    Lease {
        address,
        prefix,
        server: ipv4(option(ack, 54)).unwrap_or(server),
        lease_s,
        t1_s,
        t2_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_the_broadcast_flag_and_replies_parse_bounded() {
        let p = request_packet(
            0x01020304,
            [2, 0, 0, 0, 0, 1],
            DISCOVER,
            &[(50, vec![16, 1, 15, 2])],
        );
        assert_eq!((p[0], p[10], &p[4..8]), (1, 0x80, &[1u8, 2, 3, 4][..]));
        assert_eq!(&p[236..240], &MAGIC);
        let mut reply = p.clone();
        reply[0] = 2;
        reply[16..20].copy_from_slice(&[16, 1, 15, 2]);
        let Reply {
            xid,
            yiaddr,
            msg_type: t,
            options: opts,
        } = parse_reply(&reply).unwrap();
        assert_eq!(
            (xid, yiaddr, t),
            (0x01020304, Ipv4Addr::new(16, 1, 15, 2), DISCOVER)
        );
        assert_eq!(option(&opts, 50), Some(&[16u8, 1, 15, 2][..]));
        for cut in 0..reply.len() {
            let _ = parse_reply(&reply[..cut]);
        }
        let mut bad = reply.clone();
        bad[241] = 200; // an option length past the end
        assert!(parse_reply(&bad[..250]).is_none());
    }

    #[test]
    fn a_renewal_carries_the_address_and_no_broadcast_flag() {
        let p = request_from(
            7,
            [2, 0, 0, 0, 0, 1],
            Some(Ipv4Addr::new(16, 1, 15, 2)),
            REQUEST,
            &[],
        );
        assert_eq!((p[10], &p[12..16]), (0, &[16u8, 1, 15, 2][..]));
    }

    #[test]
    fn t1_and_t2_come_from_the_ack_or_default_to_half_and_seven_eighths() {
        let server = Ipv4Addr::new(16, 1, 15, 1);
        let addr = Ipv4Addr::new(16, 1, 15, 2);
        let l = lease_of(addr, server, &[(51, 120u32.to_be_bytes().to_vec())]);
        assert_eq!((l.lease_s, l.t1_s, l.t2_s), (120, 60, 105));
        let l = lease_of(
            addr,
            server,
            &[
                (51, 120u32.to_be_bytes().to_vec()),
                (58, 6u32.to_be_bytes().to_vec()),
                (59, 9u32.to_be_bytes().to_vec()),
            ],
        );
        assert_eq!((l.t1_s, l.t2_s), (6, 9));
        // Nonsense from the server (T2 before T1, T1 past the end) is clamped into order.
        let l = lease_of(
            addr,
            server,
            &[
                (51, 60u32.to_be_bytes().to_vec()),
                (58, 90u32.to_be_bytes().to_vec()),
                (59, 1u32.to_be_bytes().to_vec()),
            ],
        );
        assert_eq!((l.t1_s, l.t2_s), (60, 60));
    }

    #[test]
    fn a_mask_that_is_not_contiguous_counts_by_its_leading_ones() {
        let (server, addr) = (Ipv4Addr::new(16, 1, 15, 1), Ipv4Addr::new(16, 1, 15, 2));
        let l = lease_of(addr, server, &[(1, vec![255, 255, 0, 255])]);
        assert_eq!(l.prefix, 16, "not 24, the count of its ones");
        let l = lease_of(addr, server, &[(1, vec![255, 255, 252, 0])]);
        assert_eq!(l.prefix, 22);
        assert_eq!(lease_of(addr, server, &[(1, vec![255])]).prefix, 24);
    }

    #[test]
    fn random_and_mutated_replies_never_panic_and_leases_stay_in_order() {
        // The fuzz target dhcp_arp runs this at length; here a fixed xorshift seed.
        let mut ack = request_packet(9, [2, 0, 0, 0, 0, 1], ACK, &[(51, vec![0, 0, 1, 0])]);
        ack[0] = 2;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut p = ack.clone();
            for _ in 0..1 + x % 4 {
                crate::testing::xorshift(&mut x);
                let at = 236 + (x % (p.len() as u64 - 236)) as usize;
                p[at] = (x >> 32) as u8;
            }
            p.truncate(240 + (x >> 40) as usize % 24);
            let Some(reply) = parse_reply(&p) else {
                continue;
            };
            assert!(reply.options.iter().all(|(_, v)| v.len() < p.len()));
            let l = lease_of(reply.yiaddr, Ipv4Addr::UNSPECIFIED, &reply.options);
            assert!(
                l.t1_s <= l.t2_s && l.t2_s <= l.lease_s && l.prefix <= 32,
                "{l:?}"
            );
        }
    }
}
