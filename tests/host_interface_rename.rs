//! A host-interface NIC renamed while the agent runs (`ip link set dev X name Y`, which needs
//! the link down): the link watcher follows its index, not its name, applies the plan under
//! the new name and the transport binds to it, so requests go on through the same NIC.

mod common;
#[path = "netns_support/mod.rs"]
mod netns_support;

use std::time::Duration;

use hostagent::discovery::link::{bring_up, HostAddress, LinkPlan, ServiceAddress};
use hostagent::discovery::watch::{watch, LinkEvent};
use hostagent::transport::rebind::Rebindable;
use hostagent::transport::{Request, Transport};
use netns_support::{sim_in, veth, Netns};

#[test]
fn a_renamed_nic_is_followed_by_its_index_and_requests_go_on_under_the_new_name() {
    if !common::require(
        common::is_root(),
        "root and iproute2, for network namespaces",
    ) {
        return;
    }
    let id = std::process::id() % 100_000;
    let (host, bmc) = (
        Netns::new(format!("ha-rh-{id}")),
        Netns::new(format!("ha-rb-{id}")),
    );
    let (hv, bv, renamed) = (format!("hr{id}"), format!("br{id}"), format!("usb{id}"));
    veth(&hv, &host, "02:00:00:00:00:31", &bv, &bmc);
    bmc.ip(&["addr", "add", "169.254.0.17/16", "dev", &bv]);
    bmc.ip(&["link", "set", &bv, "up"]);
    let sim = sim_in(&bmc.0, "169.254.0.17:443");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (host_name, ifname, cert) = (host.0.clone(), hv.clone(), sim.cert.clone());
    let agent = std::thread::spawn(move || {
        let ns = Netns(host_name);
        ns.enter();
        std::mem::forget(ns);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let plan = LinkPlan {
                ifname: ifname.clone(),
                host: HostAddress::Static("169.254.0.2".parse().unwrap(), 16),
                service: ServiceAddress::Static("169.254.0.17".parse().unwrap()),
                port: 443,
                vlan: None,
            };
            let up = bring_up(&plan).await.unwrap();
            let mut opts = hostagent::transport::https::HttpsOptions::new(
                up.url(),
                hostagent::transport::trust::Trust::Pin(
                    hostagent::transport::trust::Fingerprint::parse(&cert).unwrap(),
                ),
            );
            opts.interface = Some(up.ifname.clone());
            opts.request_timeout = Duration::from_secs(3);
            let t = Rebindable::new(opts).unwrap();
            let before = t.send(Request::get("/redfish/v1/")).await.unwrap().status;
            let (tx, mut events) = tokio::sync::mpsc::channel(8);
            tokio::spawn(watch(plan, Some(up.ifindex), tx));
            // On this single-threaded runtime the watcher runs up to its first wait for a
            // message, its netlink subscription made, before this task goes on.
            tokio::task::yield_now().await;
            ready_tx.send(()).unwrap();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            let event = loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Some(LinkEvent::Renamed(up))) => break Some(up),
                    Ok(Some(_)) => continue,
                    _ => break None,
                }
            };
            let up2 = event.expect("a Renamed event");
            t.follow_interface(&up2.ifname).unwrap();
            let after = t.send(Request::get("/redfish/v1/")).await.map(|r| r.status);
            (before, up.ifindex, up2, after.map_err(|e| e.to_string()))
        })
    });
    ready_rx.recv().unwrap();
    host.ip(&["link", "set", "dev", &hv, "down"]);
    host.ip(&["link", "set", "dev", &hv, "name", &renamed]);
    let (before, index, up2, after) = agent.join().unwrap();
    assert_eq!(before, 200);
    assert_eq!(up2.ifname, renamed, "the new name");
    assert_eq!(up2.ifindex, index, "the same link");
    assert_eq!(
        after,
        Ok(http::StatusCode::OK),
        "requests go on through the renamed NIC"
    );
    drop(sim);
}
