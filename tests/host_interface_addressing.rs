//! How the host side of the host interface gets and keeps its address: the DHCP lease's
//! renewal at T1 and rebinding at T2 when the server does not answer the renewal, and an
//! AutoConfigure record without addresses (the host's own IPv6 link-local). A veth pair
//! between a "host" and a "BMC" network namespace this test creates (nothing touches the real
//! network), dnsmasq and bmcsim in the BMC one.
//!
//! dnsmasq's shortest lease is 2 minutes; the renewal timing follows the lease's T1 and T2
//! options, so the test asks dnsmasq for T1 = 4 s (T2 = 7 s) and sees three renewals in
//! about 12 s instead of the 90 s that three renewals of a 60 s lease would take.

mod common;
#[path = "netns_support/mod.rs"]
mod netns_support;

use std::net::IpAddr;
use std::process::{Command, Stdio};

use netns_support::{Netns, Started};
use std::time::Duration;

use bmcsim::{Profile, SimConfig};
use hostagent::discovery::dhcp_lease::{keep, LeaseEvent};
use hostagent::discovery::link::{bring_up, HostAddress, LinkPlan, ServiceAddress};

const SERVER: &str = "169.254.2.3";
const SERVICE: &str = "169.254.2.2";
const LEASED: &str = "169.254.2.10";

struct World {
    host: Netns,
    _bmc: Netns,
    hv: String,
    cert: String,
    _dnsmasq: Started,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    sim_thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.sim_thread.take() {
            let _ = t.join();
        }
    }
}

/// The BMC side has the DHCP server's address (its server identifier) and, beside it, the
/// Redfish service's: traffic to one can be stopped without touching the other.
fn world(tag: &str, t1: u32, t2: u32) -> Option<World> {
    let have = Command::new("dnsmasq").arg("--version").output().is_ok()
        && Command::new("ip").arg("-V").output().is_ok();
    if !common::require(
        common::is_root() && have,
        "root, iproute2 and dnsmasq, for network namespaces",
    ) {
        return None;
    }
    let id = std::process::id() % 100_000;
    let (host, bmc) = (
        Netns::new(format!("ha-dh{tag}-{id}")),
        Netns::new(format!("ha-db{tag}-{id}")),
    );
    let (hv, bv) = (format!("hd{tag}{id}"), format!("bd{tag}{id}"));
    assert!(Command::new("ip")
        .args(["link", "add", &hv, "netns", &host.0, "type", "veth", "peer", "name", &bv])
        .args(["netns", &bmc.0])
        .status()
        .unwrap()
        .success());
    for ns in [&host, &bmc] {
        ns.ip(&["link", "set", "lo", "up"]);
    }
    bmc.ip(&["addr", "add", &format!("{SERVER}/24"), "dev", &bv]);
    bmc.ip(&["addr", "add", &format!("{SERVICE}/24"), "dev", &bv]);
    bmc.ip(&["link", "set", &bv, "up"]);
    let dnsmasq = Command::new("ip")
        .args([
            "netns",
            "exec",
            &bmc.0,
            "dnsmasq",
            "--no-daemon",
            "--port=0",
        ])
        .args(["--conf-file=/dev/null", "--bind-interfaces", "--no-ping"])
        .arg(format!("--interface={bv}"))
        .arg(format!("--dhcp-range={LEASED},{LEASED},255.255.255.0,2m"))
        .arg(format!("--dhcp-option=option:T1,{t1}"))
        .arg(format!("--dhcp-option=option:T2,{t2}"))
        .args(["--dhcp-option=3", "--dhcp-option=6", "--pid-file="])
        .arg(format!("--dhcp-leasefile=/tmp/ha-dhcp-{tag}-{id}.leases"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let bmc_name = bmc.0.clone();
    let sim_thread = std::thread::spawn(move || {
        let ns = Netns(bmc_name);
        ns.enter();
        std::mem::forget(ns);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let sim = bmcsim::start(SimConfig {
                profile: Profile::Bmcweb,
                listen: vec![format!("{SERVICE}:443").parse().unwrap()],
                ..SimConfig::default()
            })
            .await
            .unwrap();
            tx.send(sim.cert_sha256()).unwrap();
            let _ = stop_rx.await;
            sim.shutdown().await;
        });
    });
    let cert = rx.recv().unwrap();
    Some(World {
        host,
        _bmc: bmc,
        hv,
        cert,
        _dnsmasq: Started(dnsmasq),
        stop: Some(stop_tx),
        sim_thread: Some(sim_thread),
    })
}

/// The leased address's remaining valid lifetime on the host side, seconds.
fn valid_lft(w: &World) -> Option<u64> {
    let out = Command::new("ip")
        .args(["-n", &w.host.0, "-j", "addr", "show", "dev", &w.hv])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v[0]["addr_info"]
        .as_array()?
        .iter()
        .find(|a| a["local"] == LEASED)?["valid_life_time"]
        .as_u64()
}

struct Outcome {
    events: Vec<LeaseEvent>,
    requests: usize,
    failures: Vec<String>,
    index_before: u32,
    index_after: Option<u32>,
}

/// In the host namespace: brings the link up by DHCP, keeps the lease, and reads the BMC
/// every 100 ms until `want` lease events came (at most `within`).
fn run(
    w: &World,
    want: usize,
    within: Duration,
    before_t1: impl FnOnce() + Send + 'static,
) -> Outcome {
    let (host, hv, cert) = (w.host.0.clone(), w.hv.clone(), w.cert.clone());
    std::thread::spawn(move || {
        let ns = Netns(host);
        ns.enter();
        std::mem::forget(ns);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let plan = LinkPlan {
                ifname: hv.clone(),
                host: HostAddress::Dhcp,
                service: ServiceAddress::Static(SERVICE.parse().unwrap()),
                port: 443,
                vlan: None,
            };
            let up = bring_up(&plan).await.unwrap();
            assert_eq!(up.host.0, LEASED.parse::<IpAddr>().unwrap());
            before_t1();
            let (tx, mut rx) = tokio::sync::mpsc::channel(8);
            let keeper = tokio::spawn(keep(up.clone(), Some(tx)));
            let mut opts = hostagent::transport::https::HttpsOptions::new(
                up.url(),
                hostagent::transport::trust::Trust::Pin(
                    hostagent::transport::trust::Fingerprint::parse(&cert).unwrap(),
                ),
            );
            opts.interface = Some(up.ifname.clone());
            opts.request_timeout = Duration::from_secs(2);
            let t = hostagent::transport::https::HttpsTransport::new(opts).unwrap();
            let (mut events, mut requests, mut failures) = (Vec::new(), 0, Vec::new());
            let deadline = tokio::time::Instant::now() + within;
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            while events.len() < want && tokio::time::Instant::now() < deadline {
                tokio::select! {
                    Some(e) = rx.recv() => events.push(e),
                    _ = tick.tick() => {
                        requests += 1;
                        let req = hostagent::transport::Request::get("/redfish/v1/");
                        match hostagent::transport::Transport::send(&t, req).await {
                            Ok(r) if r.status == 200 => {}
                            Ok(r) => failures.push(format!("HTTP {}", r.status)),
                            Err(e) => failures.push(e.to_string()),
                        }
                    }
                }
            }
            keeper.abort();
            let (conn, handle, _) = rtnetlink::new_connection().unwrap();
            tokio::spawn(conn);
            use futures::TryStreamExt;
            let index_after = handle
                .link()
                .get()
                .match_name(hv)
                .execute()
                .try_next()
                .await
                .ok()
                .flatten()
                .map(|m| m.header.index);
            Outcome {
                events,
                requests,
                failures,
                index_before: up.ifindex,
                index_after,
            }
        })
    })
    .join()
    .unwrap()
}

#[test]
fn the_lease_is_renewed_at_t1_three_times_and_no_request_fails() {
    let Some(w) = world("r", 4, 7) else { return };
    let out = run(&w, 3, Duration::from_secs(30), || {});
    let names: Vec<&str> = out.events.iter().map(LeaseEvent::name).collect();
    assert_eq!(
        names, ["renewed"; 3],
        "three renewals at T1: {:?}",
        out.events
    );
    assert!(
        out.failures.is_empty(),
        "no request failed: {:?}",
        out.failures
    );
    assert!(
        out.requests > 80,
        "requests ran all along: {}",
        out.requests
    );
    assert_eq!(
        out.index_after,
        Some(out.index_before),
        "the link never dropped"
    );
    let lft = valid_lft(&w).expect("the leased address is still there");
    // A lease of 120 s, renewed ~4 s ago: a lifetime that was never refreshed would be
    // under 108 s after 12 s, and a permanent address would say 4294967295.
    assert!(
        (110..=120).contains(&lft),
        "its lifetime follows the lease: {lft}"
    );
}

#[test]
fn without_an_answer_to_the_renewal_the_lease_is_rebound_at_t2() {
    let Some(w) = world("b", 3, 5) else { return };
    let hv = w.hv.clone();
    let host = w.host.0.clone();
    // Unicast to the DHCP server goes to a MAC no one has: the renewal at T1 gets no answer,
    // the broadcast at T2 does. The Redfish service, at another address, is not affected.
    let out = run(&w, 2, Duration::from_secs(30), move || {
        let ok = Command::new("ip")
            .args([
                "-n",
                &host,
                "neigh",
                "replace",
                SERVER,
                "lladdr",
                "02:00:00:00:00:ee",
            ])
            .args(["dev", &hv, "nud", "permanent"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "a static neighbour entry for the server");
    });
    let names: Vec<&str> = out.events.iter().map(LeaseEvent::name).collect();
    assert_eq!(names, ["rebound"; 2], "rebound at T2: {:?}", out.events);
    assert!(
        out.failures.is_empty(),
        "no request failed: {:?}",
        out.failures
    );
    assert_eq!(out.index_after, Some(out.index_before));
    assert!(valid_lft(&w).is_some_and(|l| l >= 110));
}

/// An AutoConfigure record without a host address beside `service`: the BMC namespace has
/// `bmc_addrs` (the service's among them), the host's NIC the MAC `mac` and no address of the
/// kernel's own. Brings it up (twice: idempotent) and reads the BMC; (host address, status).
fn autoconfigure_case(
    tag: &str,
    mac: &str,
    bmc_addrs: &[&str],
    service: &str,
) -> Option<((IpAddr, u8), u16)> {
    use hostagent::discovery::smbios::model::{Assignment, IpFormat, RedfishOverIp};
    if !common::require(
        common::is_root(),
        "root and iproute2, for network namespaces",
    ) {
        return None;
    }
    let id = std::process::id() % 100_000;
    let (host, bmc) = (
        Netns::new(format!("ha-a{tag}h-{id}")),
        Netns::new(format!("ha-a{tag}b-{id}")),
    );
    let (hv, bv) = (format!("ha{tag}{id}"), format!("ba{tag}{id}"));
    assert!(Command::new("ip")
        .args(["link", "add", &hv, "netns", &host.0, "address", mac])
        .args(["type", "veth", "peer", "name", &bv, "netns", &bmc.0])
        .status()
        .unwrap()
        .success());
    host.ip(&["link", "set", &hv, "addrgenmode", "none"]);
    for a in bmc_addrs {
        bmc.ip(&["addr", "add", a, "dev", &bv, "nodad"]);
    }
    bmc.ip(&["link", "set", &bv, "up"]);
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let bmc_name = bmc.0.clone();
    let sim = std::thread::spawn(move || {
        let ns = Netns(bmc_name);
        ns.enter();
        std::mem::forget(ns);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let sim = bmcsim::start(SimConfig {
                profile: Profile::Bmcweb,
                listen: vec!["[::]:443".parse().unwrap()],
                ..SimConfig::default()
            })
            .await
            .unwrap();
            tx.send(sim.cert_sha256()).unwrap();
            let _ = stop_rx.await;
            sim.shutdown().await;
        });
    });
    let cert = rx.recv().unwrap();
    let service: IpAddr = service.parse().unwrap();
    let format = if service.is_ipv6() {
        IpFormat::Ipv6
    } else {
        IpFormat::Ipv4
    };
    let record = RedfishOverIp {
        service_uuid: String::new(),
        host_ip_assignment: Assignment::AutoConfigure,
        host_ip_format: format,
        host_address: None,
        host_mask: None,
        service_ip_discovery: Assignment::AutoConfigure,
        service_ip_format: format,
        service_address: Some(service),
        service_mask: None,
        service_port: 443,
        vlan_id: None,
        hostname: None,
    };
    let (host_name, ifname) = (host.0.clone(), hv.clone());
    let outcome = std::thread::spawn(move || {
        let ns = Netns(host_name);
        ns.enter();
        std::mem::forget(ns);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let plan = hostagent::discovery::link::plan(&record, &ifname).unwrap();
            let up = bring_up(&plan).await.unwrap();
            let again = bring_up(&plan).await.expect("twice: idempotent");
            assert_eq!(again.host, up.host, "the same address the second time");
            let mut opts = hostagent::transport::https::HttpsOptions::new(
                up.url(),
                hostagent::transport::trust::Trust::Pin(
                    hostagent::transport::trust::Fingerprint::parse(&cert).unwrap(),
                ),
            );
            opts.interface = Some(up.ifname.clone());
            let t = hostagent::transport::https::HttpsTransport::new(opts).unwrap();
            let req = hostagent::transport::Request::get("/redfish/v1/");
            let resp = hostagent::transport::Transport::send(&t, req)
                .await
                .unwrap();
            (up.host, resp.status.as_u16())
        })
    })
    .join();
    let _ = stop_tx.send(());
    let _ = sim.join();
    Some(outcome.unwrap())
}

/// An IPv6 link-local service (fe80::1): the host takes its own EUI-64 link-local address and
/// reaches the service through the NIC.
#[test]
fn an_autoconfigure_record_without_addresses_takes_the_hosts_ipv6_link_local() {
    let Some((host, status)) =
        autoconfigure_case("6", "02:11:22:33:44:55", &["fe80::1/64"], "fe80::1")
    else {
        return;
    };
    assert_eq!(host, ("fe80::11:22ff:fe33:4455".parse().unwrap(), 64));
    assert_eq!(status, 200);
}

/// An IPv4 service (169.254.0.17): the host picks a 169.254/16 address and probes it with
/// ARP first. The BMC side already holds the first candidate: the probe finds it taken and the
/// host takes the second.
#[test]
fn an_autoconfigure_record_without_addresses_picks_a_probed_ipv4_link_local() {
    use hostagent::discovery::ipv4ll::candidate;
    let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x56];
    let (first, second) = (candidate(mac, 0), candidate(mac, 1));
    let taken = format!("{first}/16");
    let Some((host, status)) = autoconfigure_case(
        "4",
        "02:11:22:33:44:56",
        &["169.254.0.17/16", &taken],
        "169.254.0.17",
    ) else {
        return;
    };
    assert_eq!(host, (IpAddr::V4(second), 16), "{first} was in use");
    assert_eq!(status, 200);
}
