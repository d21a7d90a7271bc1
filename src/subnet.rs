//! Address-prefix arithmetic shared by session classification (is a client on the host
//! interface's subnet?) and link bring-up (is the service inside the host's prefix?).

use std::net::IpAddr;

/// Whether `ip` lies in `net/prefix`. Different families never match.
pub fn in_prefix(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::in_prefix;

    #[test]
    fn prefixes_match_within_a_family_only() {
        let ip = |s: &str| s.parse().unwrap();
        assert!(in_prefix(ip("16.1.15.2"), ip("16.1.15.0"), 30));
        assert!(!in_prefix(ip("16.1.15.5"), ip("16.1.15.0"), 30));
        assert!(in_prefix(ip("10.0.0.1"), ip("192.168.0.0"), 0));
        assert!(in_prefix(ip("fe80::2"), ip("fe80::1"), 64));
        assert!(!in_prefix(ip("fe80::2"), ip("16.1.15.0"), 0));
    }
}
