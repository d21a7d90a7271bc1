//! Who owns the other end of a loopback TCP connection, asked of the kernel (netlink
//! `NETLINK_SOCK_DIAG`, `SOCK_DIAG_BY_FAMILY` with the exact 4-tuple): the uid that created the
//! client's socket. The HTTPS listener gives its peers roles with it, as SO_PEERCRED does on
//! the Unix socket.
//!
//! Layouts from `linux/inet_diag.h` and `linux/sock_diag.h`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const NETLINK_SOCK_DIAG: libc::c_int = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const INET_DIAG_NOCOOKIE: u32 = !0;
const NLMSG_HDR: usize = 16;
/// `struct inet_diag_sockid`.
const SOCKID_LEN: usize = 48;
/// `struct inet_diag_req_v2`.
const REQ_LEN: usize = 8 + SOCKID_LEN;
/// Offset of `idiag_uid` in `struct inet_diag_msg` (family, state, timer, retrans, id,
/// expires, rqueue, wqueue, uid, inode).
const MSG_UID_OFFSET: usize = 4 + SOCKID_LEN + 12;

/// The uid owning the TCP socket whose local address is `peer` and remote address is
/// `local`: the client end of a connection accepted at `local` from `peer`.
pub fn tcp_peer_uid(local: SocketAddr, peer: SocketAddr) -> io::Result<u32> {
    let fd = socket()?;
    let request = request(peer, local);
    // SAFETY: `request` is a live buffer of `request.len()` bytes and `fd` an open socket.
    let sent = unsafe { libc::send(fd.as_raw_fd(), request.as_ptr().cast(), request.len(), 0) };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = [0u8; 8192];
    // SAFETY: `buf` is writable for `buf.len()` bytes and `fd` an open socket.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    parse_reply(&buf[..n as usize])
}

fn socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; the result is checked below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2), is valid, and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // A reply that never comes must not hang the accept loop's task.
    let timeout = libc::timeval {
        tv_sec: 1,
        tv_usec: 0,
    };
    // SAFETY: `timeout` is a live `timeval` and the length passed is its size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        );
    }
    Ok(fd)
}

/// `nlmsghdr` + `inet_diag_req_v2` asking for the one socket `src` → `dst`.
fn request(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let mut msg = Vec::with_capacity(NLMSG_HDR + REQ_LEN);
    msg.extend_from_slice(&((NLMSG_HDR + REQ_LEN) as u32).to_ne_bytes());
    msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // pid
    let family = if src.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    } as u8;
    msg.extend_from_slice(&[family, libc::IPPROTO_TCP as u8, 0, 0]);
    msg.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    msg.extend_from_slice(&src.port().to_be_bytes());
    msg.extend_from_slice(&dst.port().to_be_bytes());
    msg.extend_from_slice(&address(src.ip()));
    msg.extend_from_slice(&address(dst.ip()));
    msg.extend_from_slice(&0u32.to_ne_bytes()); // interface
    msg.extend_from_slice(&INET_DIAG_NOCOOKIE.to_ne_bytes());
    msg.extend_from_slice(&INET_DIAG_NOCOOKIE.to_ne_bytes());
    msg
}

/// An address in `__be32 [4]`: IPv4 in the first word.
fn address(ip: IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.copy_from_slice(&v6.octets()),
    }
    out
}

fn parse_reply(buf: &[u8]) -> io::Result<u32> {
    let bad = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sock_diag reply: {what}"),
        )
    };
    if buf.len() < NLMSG_HDR {
        return Err(bad("shorter than a netlink header"));
    }
    let kind = u16::from_ne_bytes([buf[4], buf[5]]);
    let payload = &buf[NLMSG_HDR..];
    if kind == NLMSG_ERROR {
        let errno = payload
            .get(..4)
            .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| bad("truncated error"))?;
        return Err(match errno {
            0 => bad("no socket in the answer"),
            e => io::Error::from_raw_os_error(-e),
        });
    }
    if kind != SOCK_DIAG_BY_FAMILY {
        return Err(bad(&format!("unexpected message type {kind}")));
    }
    let uid = payload
        .get(MSG_UID_OFFSET..MSG_UID_OFFSET + 4)
        .ok_or_else(|| bad("truncated inet_diag_msg"))?;
    Ok(u32::from_ne_bytes([uid[0], uid[1], uid[2], uid[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_names_the_uid_of_a_loopback_client() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let uid = tcp_peer_uid(server.local_addr().unwrap(), peer).unwrap();
        assert_eq!(uid, nix::unistd::Uid::effective().as_raw());
    }

    #[test]
    fn an_unknown_connection_is_an_error_not_a_guess() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let nowhere: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert!(tcp_peer_uid(listener.local_addr().unwrap(), nowhere).is_err());
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert!(parse_reply(&[0; 4]).is_err());
        let mut short = vec![0u8; NLMSG_HDR + 10];
        short[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        assert!(parse_reply(&short).is_err());
    }
}
