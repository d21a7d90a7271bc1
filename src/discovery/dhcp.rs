//! A small DHCPv4 client for the host-interface NIC only: DISCOVER, OFFER, REQUEST, ACK over a
//! UDP socket bound to the interface (SO_BINDTODEVICE) with the broadcast flag set, since the
//! interface has no address yet. The server identifier (option 54) is the BMC when the record
//! says the service address is learned by DHCP (HPE iLO's vNIC: 16.1.15.1).
//!
//! Not here yet: renewal at T1 (the agent asks again when the link comes back).

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
}

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
    let mut p = vec![0u8; 240];
    p[0] = 1; // BOOTREQUEST
    p[1] = 1; // Ethernet
    p[2] = 6;
    p[4..8].copy_from_slice(&xid.to_be_bytes());
    p[10] = 0x80; // broadcast flag: we have no address to be answered at
    p[28..34].copy_from_slice(&mac);
    p[236..240].copy_from_slice(&MAGIC);
    p.extend_from_slice(&[53, 1, msg_type]);
    p.extend_from_slice(&[55, 4, 1, 3, 51, 54]); // ask for mask, router, lease, server id
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
async fn exchange(
    sock: &UdpSocket,
    ifname: &str,
    packet: &[u8],
    xid: u32,
    want: &[u8],
    timeout: Duration,
    waiting: &'static str,
) -> Result<(Ipv4Addr, u8, Vec<(u8, Vec<u8>)>), DhcpError> {
    let to = SocketAddr::from((Ipv4Addr::BROADCAST, 67));
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = vec![0u8; 1500];
    let mut wait = Duration::from_millis(250);
    loop {
        sock.send_to(packet, to)
            .await
            .map_err(|e| DhcpError::Socket {
                ifname: ifname.into(),
                reason: e.to_string(),
            })?;
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
    let prefix = ipv4(option(&ack, 1))
        .map(|m| u32::from(m).count_ones() as u8)
        .unwrap_or(24);
    let lease_s = option(&ack, 51)
        .and_then(|v| v.try_into().ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0);
    let server = ipv4(option(&ack, 54)).unwrap_or(server);
    tracing::info!(%ifname, %address, prefix, %server, lease_s, "DHCP lease");
    Ok(Lease {
        address,
        prefix,
        server,
        lease_s,
    })
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
}
