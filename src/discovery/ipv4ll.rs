//! IPv4 link-local address selection (RFC 3927) for an AutoConfigure host-interface record
//! that carries no address: a candidate in 169.254.1.0–169.254.254.255 derived from the NIC's
//! MAC (the same one at every start, as §2.1 recommends), probed with ARP before use; on a
//! conflict the next candidate. Hand-written over an `AF_PACKET` socket: no crate does ARP
//! probing alone (the DHCP clients that do are daemons of their own), and this is a few
//! frames on one point-to-point link.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// RFC 3927 §9 constants, seconds: PROBE_WAIT, PROBE_MIN, PROBE_MAX, ANNOUNCE_WAIT.
const PROBE_WAIT: f64 = 1.0;
const PROBE_MIN: f64 = 1.0;
const PROBE_MAX: f64 = 2.0;
const ANNOUNCE_WAIT: Duration = Duration::from_secs(2);
const PROBE_NUM: usize = 3;
/// Candidates tried before giving up (§2.2.1 MAX_CONFLICTS is 10 before rate limiting).
pub const MAX_CONFLICTS: u32 = 10;

const ETH_P_ARP: u16 = 0x0806;

/// The `attempt`-th candidate for `mac`: 169.254.1.0–169.254.254.255, from an FNV-1a hash of
/// the MAC and the attempt number.
pub fn candidate(mac: [u8; 6], attempt: u32) -> Ipv4Addr {
    let mut h: u32 = 0x811c_9dc5;
    for b in mac.iter().chain(attempt.to_be_bytes().iter()) {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    // 254 * 256 addresses: 169.254.1.0 up to 169.254.254.255.
    let n = h % (254 * 256);
    Ipv4Addr::new(169, 254, (1 + n / 256) as u8, (n % 256) as u8)
}

#[derive(Debug, thiserror::Error)]
pub enum Ipv4llError {
    #[error("ARP on interface index {index}: {reason}")]
    Socket { index: u32, reason: String },
    #[error("no free IPv4 link-local address after {0} candidates: each one was in use")]
    Exhausted(u32),
}

/// Picks a free link-local address on the link `index` with hardware address `mac`, probing
/// each candidate (blocking: run it off the async threads).
pub fn select(index: u32, mac: [u8; 6]) -> Result<Ipv4Addr, Ipv4llError> {
    let sock = ArpSocket::open(index)?;
    for attempt in 0..MAX_CONFLICTS {
        let ip = candidate(mac, attempt);
        if sock.probe(mac, ip)? {
            tracing::info!(address = %ip, attempt, "IPv4 link-local candidate is in use: trying the next");
            continue;
        }
        // Announce it (§2.4); the second announcement of the RFC is left to the kernel's ARP.
        sock.send(mac, arp(mac, ip, ip))?;
        return Ok(ip);
    }
    Err(Ipv4llError::Exhausted(MAX_CONFLICTS))
}

/// An ARP request frame's payload (Ethernet, IPv4) from `mac` with sender `sip`, asking for `tip`.
fn arp(mac: [u8; 6], sip: Ipv4Addr, tip: Ipv4Addr) -> [u8; 28] {
    let mut p = [0u8; 28];
    p[0..2].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    p[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    p[4] = 6;
    p[5] = 4;
    p[6..8].copy_from_slice(&1u16.to_be_bytes()); // request
    p[8..14].copy_from_slice(&mac);
    p[14..18].copy_from_slice(&sip.octets());
    p[24..28].copy_from_slice(&tip.octets());
    p
}

/// Whether an ARP packet from another host says `ip` is taken (§2.2.1): it is from `ip`, or
/// it is another host's probe for `ip`. Packets too short for Ethernet/IPv4 ARP say nothing.
pub fn conflicts(p: &[u8], mac: [u8; 6], ip: Ipv4Addr) -> bool {
    // Hardware type Ethernet, protocol IPv4, address lengths 6 and 4: else the fields below
    // are not where they are read.
    if p.len() < 28 || p[..6] != [0, 1, 8, 0, 6, 4] || p[8..14] == mac {
        return false;
    }
    let sip = Ipv4Addr::new(p[14], p[15], p[16], p[17]);
    let tip = Ipv4Addr::new(p[24], p[25], p[26], p[27]);
    let op = u16::from_be_bytes([p[6], p[7]]);
    sip == ip || (op == 1 && sip.is_unspecified() && tip == ip)
}

struct ArpSocket {
    fd: std::os::fd::OwnedFd,
    index: u32,
}

impl ArpSocket {
    fn open(index: u32) -> Result<ArpSocket, Ipv4llError> {
        use std::os::fd::FromRawFd;
        let err = |what: &str| Ipv4llError::Socket {
            index,
            reason: format!("{what}: {}", std::io::Error::last_os_error()),
        };
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                i32::from(ETH_P_ARP.to_be()),
            )
        };
        if raw < 0 {
            return Err(err("socket"));
        }
        // SAFETY: `raw` is a socket we just opened and own.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        let sock = ArpSocket { fd, index };
        let addr = sock.link_addr([0; 6]);
        // SAFETY: binds our socket to a valid, fully initialised sockaddr_ll of its size.
        let rc = unsafe {
            libc::bind(
                std::os::fd::AsRawFd::as_raw_fd(&sock.fd),
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(err("bind"));
        }
        Ok(sock)
    }

    fn link_addr(&self, dest: [u8; 6]) -> libc::sockaddr_ll {
        // SAFETY: sockaddr_ll is plain data; all zero is a valid value.
        let mut a: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        a.sll_family = libc::AF_PACKET as u16;
        a.sll_protocol = ETH_P_ARP.to_be();
        a.sll_ifindex = self.index as i32;
        a.sll_halen = 6;
        a.sll_addr[..6].copy_from_slice(&dest);
        a
    }

    fn send(&self, _mac: [u8; 6], payload: [u8; 28]) -> Result<(), Ipv4llError> {
        let to = self.link_addr([0xff; 6]);
        // SAFETY: sends `payload` (28 valid bytes) to a valid sockaddr_ll of its size.
        let n = unsafe {
            libc::sendto(
                std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                payload.as_ptr().cast(),
                payload.len(),
                0,
                (&to as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(Ipv4llError::Socket {
                index: self.index,
                reason: format!("send: {}", std::io::Error::last_os_error()),
            });
        }
        Ok(())
    }

    /// Reads ARP packets until `until`; true at the first that conflicts with `ip`.
    fn listen(&self, mac: [u8; 6], ip: Ipv4Addr, until: Instant) -> bool {
        let mut buf = [0u8; 128];
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let mut pfd = libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: polls one valid pollfd for at most `ms`.
            if unsafe { libc::poll(&mut pfd, 1, ms) } <= 0 {
                continue;
            }
            // SAFETY: reads at most buf.len() bytes into our buffer.
            let n = unsafe {
                libc::recv(
                    pfd.fd,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 && conflicts(&buf[..n as usize], mac, ip) {
                return true;
            }
        }
    }

    /// §2.2.1: wait 0–PROBE_WAIT, then PROBE_NUM probes PROBE_MIN–PROBE_MAX apart, then
    /// ANNOUNCE_WAIT; true when anyone else claims `ip` meanwhile.
    fn probe(&self, mac: [u8; 6], ip: Ipv4Addr) -> Result<bool, Ipv4llError> {
        let jitter =
            |lo: f64, hi: f64| Duration::from_secs_f64(lo + rand::random::<f64>() * (hi - lo));
        if self.listen(mac, ip, Instant::now() + jitter(0.0, PROBE_WAIT)) {
            return Ok(true);
        }
        for n in 0..PROBE_NUM {
            self.send(mac, arp(mac, Ipv4Addr::UNSPECIFIED, ip))?;
            let wait = if n + 1 == PROBE_NUM {
                ANNOUNCE_WAIT
            } else {
                jitter(PROBE_MIN, PROBE_MAX)
            };
            if self.listen(mac, ip, Instant::now() + wait) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_stay_in_the_usable_range_and_differ_by_attempt() {
        let mac = [2, 0x11, 0x22, 0x33, 0x44, 0x55];
        for attempt in 0..1000 {
            let ip = candidate(mac, attempt).octets();
            assert_eq!((ip[0], ip[1]), (169, 254));
            assert!((1..=254).contains(&ip[2]), "{ip:?}");
        }
        assert_ne!(candidate(mac, 0), candidate(mac, 1));
        assert_eq!(candidate(mac, 0), candidate(mac, 0), "stable across starts");
    }

    #[test]
    fn a_reply_from_the_candidate_or_another_hosts_probe_for_it_is_a_conflict() {
        let (me, other) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let ip = Ipv4Addr::new(169, 254, 7, 9);
        let mut reply = arp(other, ip, Ipv4Addr::UNSPECIFIED);
        reply[7] = 2;
        assert!(conflicts(&reply, me, ip));
        assert!(conflicts(&arp(other, Ipv4Addr::UNSPECIFIED, ip), me, ip));
        assert!(
            !conflicts(&arp(me, Ipv4Addr::UNSPECIFIED, ip), me, ip),
            "our own probe"
        );
        let elsewhere = Ipv4Addr::new(169, 254, 7, 10);
        assert!(!conflicts(
            &arp(other, elsewhere, Ipv4Addr::UNSPECIFIED),
            me,
            ip
        ));
        assert!(!conflicts(&reply[..20], me, ip), "short");
    }

    #[test]
    fn arp_for_other_address_kinds_is_no_conflict() {
        let (me, other) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let ip = Ipv4Addr::new(169, 254, 7, 9);
        let reply = arp(other, ip, Ipv4Addr::UNSPECIFIED);
        for (at, value) in [(1, 6), (2, 0x86), (4, 8), (5, 16)] {
            let mut odd = reply;
            odd[at] = value;
            assert!(!conflicts(&odd, me, ip), "byte {at} = {value}");
        }
    }

    #[test]
    fn random_and_mutated_packets_never_panic() {
        // The fuzz target dhcp_arp runs this at length; here a fixed xorshift seed.
        let (me, ip) = ([2, 0, 0, 0, 0, 1], Ipv4Addr::new(169, 254, 7, 9));
        let probe = arp([2, 0, 0, 0, 0, 2], Ipv4Addr::UNSPECIFIED, ip);
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            crate::testing::xorshift(&mut x);
            let mut p = probe.to_vec();
            p[(x % 28) as usize] = (x >> 8) as u8;
            p.truncate((x >> 16) as usize % 40);
            p.resize((x >> 24) as usize % 40, (x >> 32) as u8);
            if conflicts(&p, me, ip) {
                assert!(p.len() >= 28 && p[8..14] != me, "{p:?}");
            }
        }
    }
}
