//! Packets from the host-interface link, on arbitrary bytes: a DHCP BOOTREPLY
//! (`dhcp::parse_reply`, its options) and the lease an ACK's options give (`lease_of`), and an
//! ARP packet seen while probing a link-local candidate (`ipv4ll::conflicts`). No panic; every
//! option lies inside the packet; a lease keeps T1 <= T2 <= its length and a prefix <= 32; a
//! conflict comes from an Ethernet/IPv4 ARP packet of another host.
#![no_main]

use std::net::Ipv4Addr;

use hostagent::discovery::dhcp::{lease_of, parse_reply};
use hostagent::discovery::ipv4ll::conflicts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(reply) = parse_reply(data) {
        let total: usize = reply.options.iter().map(|(_, v)| 2 + v.len()).sum();
        assert!(240 + total <= data.len());
        let lease = lease_of(reply.yiaddr, Ipv4Addr::new(16, 1, 15, 1), &reply.options);
        assert!(
            lease.t1_s <= lease.t2_s && lease.t2_s <= lease.lease_s,
            "{lease:?}"
        );
        assert!(lease.prefix <= 32);
    }
    let me = [2, 0, 0, 0, 0, 1];
    let ip = Ipv4Addr::new(169, 254, 7, 9);
    if conflicts(data, me, ip) {
        assert!(data.len() >= 28 && data[..6] == [0, 1, 8, 0, 6, 4] && data[8..14] != me);
    }
});
