//! The in-band path end to end for the fixtures (AMI static, HPE DHCP, Dell DHCP host + static
//! service, Supermicro AutoConfigure, PCI v2 on VLAN 42): a veth pair between
//! a "host" and a "BMC" network namespace that this test creates (nothing touches the real
//! network), bmcsim inside the BMC namespace at the record's service address, a fake sysfs
//! naming the host end as the AMI USB NIC. The agent decodes the table, matches the NIC, brings
//! the link up (twice: idempotent), and logs in and reads through it.

mod common;
#[path = "smbios_support/mod.rs"]
mod smbios_support;

use std::path::Path;
use std::process::Command;
use std::sync::mpsc;

use bmcsim::{Profile, SimConfig};
use hostagent::discovery::link::{bring_up, plan};
use hostagent::discovery::netdev::find_netdev;
use hostagent::discovery::smbios::model::Protocol;
use hostagent::discovery::smbios::{discover_report, DirSource};

struct Netns(String);

impl Netns {
    fn new(name: String) -> Netns {
        assert!(Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success());
        Netns(name)
    }
    fn ip(&self, args: &[&str]) {
        let ok = Command::new("ip")
            .args(["-n", &self.0])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "ip -n {} {args:?}", self.0);
    }
    /// Runs `f` on a thread inside this namespace.
    fn enter(&self) {
        let fd = std::fs::File::open(format!("/run/netns/{}", self.0)).unwrap();
        nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn fake_sysfs(root: &Path, ifname: &str) {
    let usbdev = root.join("devices/pci0000:00/0000:00:14.0/usb1/1-1");
    let iface = usbdev.join("1-1:1.0");
    let netdir = iface.join(format!("net/{ifname}"));
    std::fs::create_dir_all(&netdir).unwrap();
    for (k, v) in [
        ("idVendor", "046b"),
        ("idProduct", "ffb0"),
        ("serial", "AMI0123456AB"),
    ] {
        std::fs::write(usbdev.join(k), v).unwrap();
    }
    std::fs::write(netdir.join("address"), "02:11:22:33:44:55\n").unwrap();
    std::os::unix::fs::symlink(&iface, netdir.join("device")).unwrap();
    std::fs::create_dir_all(root.join("class/net")).unwrap();
    std::os::unix::fs::symlink(&netdir, root.join(format!("class/net/{ifname}"))).unwrap();
}

/// The two namespaces, the veth between them, and bmcsim (bmcweb profile) inside the BMC one at
/// the AMI record's service address. Dropping it stops the simulator and deletes both.
struct World {
    host: Netns,
    hv: String,
    bv: String,
    cert: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    bmc_thread: Option<std::thread::JoinHandle<()>>,
    _bmc: Netns,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.bmc_thread.take() {
            let _ = t.join();
        }
    }
}

fn world(tag: &str) -> Option<World> {
    world_with(tag, None, "169.254.0.17/16")
}

/// As [`world`], with the BMC's address (and a VLAN sub-interface when `vlan` is set).
fn world_with(tag: &str, vlan: Option<u16>, service_cidr: &str) -> Option<World> {
    let have_ip = Command::new("ip").arg("-V").output().is_ok();
    if !common::require(
        common::is_root() && have_ip,
        "root and iproute2, for network namespaces",
    ) {
        return None;
    }
    let id = std::process::id() % 100_000;
    let (host, bmc) = (
        Netns::new(format!("ha-h{tag}-{id}")),
        Netns::new(format!("ha-b{tag}-{id}")),
    );
    let (hv, bv) = (format!("hv{tag}{id}"), format!("bv{tag}{id}"));
    assert!(Command::new("ip")
        .args([
            "link", "add", &hv, "netns", &host.0, "type", "veth", "peer", "name", &bv, "netns",
            &bmc.0
        ])
        .status()
        .unwrap()
        .success());
    bmc.ip(&["link", "set", &bv, "up"]);
    let bmc_if = match vlan {
        Some(vid) => {
            let name = format!("{bv}.{vid}");
            bmc.ip(&[
                "link",
                "add",
                "link",
                &bv,
                "name",
                &name,
                "type",
                "vlan",
                "id",
                &vid.to_string(),
            ]);
            bmc.ip(&["link", "set", &name, "up"]);
            name
        }
        None => bv.clone(),
    };
    let v6 = service_cidr.contains(':');
    if v6 {
        bmc.ip(&["addr", "add", service_cidr, "dev", &bmc_if, "nodad"]);
    } else {
        bmc.ip(&["addr", "add", service_cidr, "dev", &bmc_if]);
    }
    // A link-local address cannot be bound without its scope: the BMC listens on every address.
    let listen: std::net::SocketAddr = if v6 {
        "[::]:443".parse().unwrap()
    } else {
        format!("{}:443", service_cidr.split('/').next().unwrap())
            .parse()
            .unwrap()
    };
    bmc.ip(&["link", "set", "lo", "up"]);
    host.ip(&["link", "set", "lo", "up"]);
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let bmc_name = bmc.0.clone();
    let bmc_thread = std::thread::spawn(move || {
        Netns(bmc_name).enter_and_forget();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let cfg = SimConfig {
                profile: Profile::Bmcweb,
                listen: vec![listen],
                ..SimConfig::default()
            };
            let sim = bmcsim::start(cfg).await.unwrap();
            tx.send(sim.cert_sha256()).unwrap();
            let _ = stop_rx.await;
            sim.shutdown().await;
        });
    });
    let cert = rx.recv().unwrap();
    Some(World {
        host,
        hv,
        bv,
        cert,
        stop: Some(stop_tx),
        bmc_thread: Some(bmc_thread),
        _bmc: bmc,
    })
}

#[test]
fn a_static_host_interface_is_matched_brought_up_and_used() {
    let Some(w) = world("a") else { return };
    let (host, hv, cert) = (&w.host, w.hv.clone(), w.cert.clone());
    let sysfs = tempfile::tempdir().unwrap();
    fake_sysfs(sysfs.path(), &hv);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios/ami-megarac");
    let report = discover_report(&DirSource::new(fixture));
    let record = report
        .decode
        .as_ref()
        .unwrap()
        .records
        .iter()
        .find(|r| r.device.is_some())
        .unwrap()
        .clone();
    let matched = find_netdev(sysfs.path(), record.device.as_ref().unwrap()).unwrap();
    assert_eq!(matched.ifname, hv);
    let Protocol::RedfishOverIp(redfish) = &record.protocols[0] else {
        panic!("no Redfish record")
    };
    let plan = plan(redfish, &matched.ifname).unwrap();
    assert_eq!(
        plan.host,
        hostagent::discovery::link::HostAddress::Static("169.254.0.18".parse().unwrap(), 16)
    );

    let host_name = host.0.clone();
    let outcome = std::thread::spawn(move || {
        Netns(host_name).enter_and_forget();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let up = bring_up(&plan).await.unwrap();
            let again = bring_up(&plan).await.unwrap();
            assert_eq!(up, again, "idempotent");
            let mut opts = hostagent::transport::https::HttpsOptions::new(
                up.url(),
                hostagent::transport::trust::Trust::Pin(
                    hostagent::transport::trust::Fingerprint::parse(&cert).unwrap(),
                ),
            );
            opts.interface = Some(up.ifname.clone());
            let transport = std::sync::Arc::new(
                hostagent::transport::https::HttpsTransport::new(opts).unwrap(),
            );
            let agent = hostagent::session::AgentSession::connect(
                transport,
                Some(common::creds()),
                Default::default(),
            )
            .await
            .unwrap();
            agent.login().await.unwrap();
            let resp = agent
                .send(hostagent::transport::Request::get(
                    "/redfish/v1/Systems/system",
                ))
                .await
                .unwrap();
            agent.logout().await.unwrap();
            (up.url(), resp.status.as_u16())
        })
    })
    .join()
    .unwrap();
    assert_eq!(outcome, ("https://169.254.0.17:443".to_string(), 200));
    let routes = Command::new("ip")
        .args(["-n", &host.0, "route", "show", "default"])
        .output()
        .unwrap();
    assert!(
        routes.stdout.is_empty(),
        "no default route: {}",
        String::from_utf8_lossy(&routes.stdout)
    );
}

#[test]
fn hostagentd_without_an_endpoint_discovers_the_host_interface_and_logs_in() {
    let Some(w) = world("d") else { return };
    let dir = tempfile::tempdir().unwrap();
    let sysfs = dir.path().join("sys");
    fake_sysfs(&sysfs, &w.hv);
    let tables = sysfs.join("firmware/dmi/tables");
    std::fs::create_dir_all(&tables).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios/ami-megarac");
    for f in ["smbios_entry_point", "DMI"] {
        std::fs::copy(fixture.join(f), tables.join(f)).unwrap();
    }
    let creds = common::daemon::write_creds(dir.path());
    let socket = dir.path().join("agent.sock");
    let config = dir.path().join("hostagent.toml");
    std::fs::write(&config, format!(
        "[bmc]\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\n[api]\nsocket = \"{}\"\nreader_group = \"root\"\n[state]\nmemory_only = true\n",
        w.cert, creds.display(), socket.display()
    )).unwrap();
    let mut daemon = Command::new("ip")
        .args([
            "netns",
            "exec",
            &w.host.0,
            env!("CARGO_BIN_EXE_hostagentd"),
            "--config",
        ])
        .arg(&config)
        .arg("--sysfs-root")
        .arg(&sysfs)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        let out = Command::new(env!("CARGO_BIN_EXE_agentctl"))
            .arg("--socket")
            .arg(&socket)
            .args(["--json", "status"])
            .output()
            .unwrap();
        if out.status.success() {
            break serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no status: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = daemon.wait();
    assert_eq!(status["endpoint"], "https://169.254.0.17:443", "{status}");
    assert_eq!(status["agent_session"], true, "{status}");
}

trait EnterAndForget {
    fn enter_and_forget(self);
}

impl EnterAndForget for Netns {
    /// Moves this thread into the namespace without deleting it when the handle goes.
    fn enter_and_forget(self) {
        self.enter();
        std::mem::forget(self);
    }
}

/// Whether this kernel can make VLAN links (the 8021q module); probed in a scratch namespace.
fn kernel_has_vlans() -> bool {
    let ns = Netns::new(format!("ha-probe-{}", std::process::id() % 100_000));
    let ok = |args: &[&str]| {
        Command::new("ip")
            .args(["-n", &ns.0])
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    ok(&["link", "add", "pa", "type", "veth", "peer", "name", "pb"])
        && ok(&[
            "link", "add", "link", "pa", "name", "pa.42", "type", "vlan", "id", "42",
        ])
}

/// A PCI v2 NIC (matched by its MAC) on VLAN 42: the pci-v2-vlan fixture. Where the kernel has
/// no VLAN support (this build machine's has none), the agent must fail with a netlink error
/// rather than configure the untagged parent.
#[test]
fn a_vlan_host_interface_gets_its_sub_interface_and_reaches_the_bmc() {
    if !common::require(common::is_root(), "root, for network namespaces") {
        return;
    }
    let vlans = kernel_has_vlans();
    let Some(w) = world_with("v", vlans.then_some(42), "10.99.0.1/30") else {
        return;
    };
    w.host
        .ip(&["link", "set", &w.hv, "address", "00:25:90:ab:cd:ef"]);
    let sysfs = tempfile::tempdir().unwrap();
    let dev = sysfs.path().join("devices/pci0000:00/0000:03:00.1");
    let netdir = dev.join(format!("net/{}", w.hv));
    std::fs::create_dir_all(&netdir).unwrap();
    for (k, v) in [
        ("vendor", "0x8086"),
        ("device", "0x1533"),
        ("subsystem_vendor", "0x15d9"),
        ("subsystem_device", "0x1533"),
    ] {
        std::fs::write(dev.join(k), v).unwrap();
    }
    std::fs::write(netdir.join("address"), "00:25:90:ab:cd:ef\n").unwrap();
    std::os::unix::fs::symlink(&dev, netdir.join("device")).unwrap();
    std::fs::create_dir_all(sysfs.path().join("class/net")).unwrap();
    std::os::unix::fs::symlink(&netdir, sysfs.path().join(format!("class/net/{}", w.hv))).unwrap();
    let tables = sysfs.path().join("firmware/dmi/tables");
    std::fs::create_dir_all(&tables).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios/pci-v2-vlan");
    for f in ["smbios_entry_point", "DMI"] {
        std::fs::copy(fixture.join(f), tables.join(f)).unwrap();
    }
    let (host_name, cert, root) = (w.host.0.clone(), w.cert.clone(), sysfs.path().to_path_buf());
    if !vlans {
        eprintln!(
            "this kernel has no VLAN support: checking that the agent refuses with a netlink error"
        );
        let result = std::thread::spawn(move || {
            Netns(host_name).enter_and_forget();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(hostagent::discovery::host_interface::bring_up_host_interface(&root))
                .map(|up| up.link.ifname)
        })
        .join()
        .unwrap();
        let err = result.unwrap_err();
        assert!(err.to_string().starts_with("netlink:"), "{err}");
        let addrs = Command::new("ip")
            .args(["-n", &w.host.0, "-4", "addr", "show", "dev", &w.hv])
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&addrs.stdout).contains("10.99.0.2"),
            "the untagged parent got no address"
        );
        return;
    }
    let (url, ifname, status) = std::thread::spawn(move || {
        Netns(host_name).enter_and_forget();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let up = hostagent::discovery::host_interface::bring_up_host_interface(&root)
                .await
                .unwrap();
            let mut opts = hostagent::transport::https::HttpsOptions::new(
                up.link.url(),
                hostagent::transport::trust::Trust::Pin(
                    hostagent::transport::trust::Fingerprint::parse(&cert).unwrap(),
                ),
            );
            opts.interface = Some(up.link.ifname.clone());
            let t = hostagent::transport::https::HttpsTransport::new(opts).unwrap();
            let resp = hostagent::transport::Transport::send(
                &t,
                hostagent::transport::Request::get("/redfish/v1/"),
            )
            .await
            .unwrap();
            (up.link.url(), up.link.ifname, resp.status.as_u16())
        })
    })
    .join()
    .unwrap();
    assert_eq!(
        (url.as_str(), ifname, status),
        ("https://10.99.0.1:443", format!("{}.42", w.hv), 200)
    );
}

/// A DHCP case: dnsmasq in the BMC namespace (which has `bmc_cidr`) leases `range`; the fake
/// sysfs names the host end as the USB NIC `vid:pid`; the fixture's table is decoded, matched,
/// brought up and read through. Returns (endpoint URL, host address, HTTP status).
fn dhcp_case(
    tag: &str,
    fixture: &str,
    (vid, pid): (&str, &str),
    bmc_cidr: &str,
    range: &str,
) -> Option<(String, (std::net::IpAddr, u8), u16)> {
    let have = Command::new("dnsmasq").arg("--version").output().is_ok();
    if !common::require(
        common::is_root() && have,
        "root and dnsmasq (Debian package dnsmasq-base)",
    ) {
        return None;
    }
    usb_case(tag, fixture, (vid, pid), bmc_cidr, Some(range))
}

/// The USB NIC case with or without a DHCP server in the BMC namespace.
fn usb_case(
    tag: &str,
    fixture: &str,
    (vid, pid): (&str, &str),
    bmc_cidr: &str,
    range: Option<&str>,
) -> Option<(String, (std::net::IpAddr, u8), u16)> {
    let w = world_with(tag, None, bmc_cidr)?;
    let leases = tempfile::tempdir().unwrap();
    let mut dnsmasq = range.map(|range| {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &w._bmc.0,
                "dnsmasq",
                "--no-daemon",
                "--port=0",
                "--conf-file=/dev/null",
                "--bind-interfaces",
            ])
            .arg(format!("--interface={}", w.bv))
            .arg(format!("--dhcp-range={range},1h"))
            .args([
                "--dhcp-option=3",
                "--dhcp-option=6",
                "--pid-file=",
                "--no-ping",
            ])
            .arg(format!(
                "--dhcp-leasefile={}",
                leases.path().join("leases").display()
            ))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    });
    let sysfs = tempfile::tempdir().unwrap();
    let usbdev = sysfs
        .path()
        .join("devices/pci0000:00/0000:00:14.0/usb1/1-1");
    let iface = usbdev.join("1-1:1.0");
    let netdir = iface.join(format!("net/{}", w.hv));
    std::fs::create_dir_all(&netdir).unwrap();
    for (k, v) in [("idVendor", vid), ("idProduct", pid)] {
        std::fs::write(usbdev.join(k), v).unwrap();
    }
    std::fs::write(netdir.join("address"), "02:00:00:00:00:09\n").unwrap();
    std::os::unix::fs::symlink(&iface, netdir.join("device")).unwrap();
    std::fs::create_dir_all(sysfs.path().join("class/net")).unwrap();
    std::os::unix::fs::symlink(&netdir, sysfs.path().join(format!("class/net/{}", w.hv))).unwrap();
    let tables = sysfs.path().join("firmware/dmi/tables");
    std::fs::create_dir_all(&tables).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/smbios")
        .join(fixture);
    for f in ["smbios_entry_point", "DMI"] {
        std::fs::copy(fixture.join(f), tables.join(f)).unwrap();
    }
    let (host_name, cert, root) = (w.host.0.clone(), w.cert.clone(), sysfs.path().to_path_buf());
    let outcome = std::thread::spawn(move || {
        Netns(host_name).enter_and_forget();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let up = hostagent::discovery::host_interface::bring_up_host_interface(&root).await?;
            let mut opts = hostagent::transport::https::HttpsOptions::new(
                up.link.url(),
                hostagent::transport::trust::Trust::Pin(
                    hostagent::transport::trust::Fingerprint::parse(&cert).unwrap(),
                ),
            );
            opts.interface = Some(up.link.ifname.clone());
            let t = hostagent::transport::https::HttpsTransport::new(opts).unwrap();
            let resp = hostagent::transport::Transport::send(
                &t,
                hostagent::transport::Request::get("/redfish/v1/"),
            )
            .await
            .unwrap();
            Ok::<_, hostagent::discovery::host_interface::DiscoveryError>((
                up.link.url(),
                up.host,
                resp.status.as_u16(),
            ))
        })
    })
    .join()
    .unwrap();
    if let Some(d) = dnsmasq.as_mut() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(d.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = d.wait();
    }
    Some(outcome.unwrap())
}

/// HPE iLO's vNIC (the hpe-ilo-vnic fixture): DHCP on both sides. dnsmasq stands in for the
/// iLO's DHCP server at 16.1.15.1/30; the agent takes 16.1.15.2 and learns the service address
/// from the server identifier.
#[test]
fn a_dhcp_host_interface_learns_the_bmc_from_the_server_identifier() {
    let Some((url, host, status)) = dhcp_case(
        "p",
        "hpe-ilo-vnic",
        ("03f0", "2927"),
        "16.1.15.1/30",
        "16.1.15.2,16.1.15.2,255.255.255.252",
    ) else {
        return;
    };
    assert_eq!(
        url, "https://16.1.15.1:443",
        "the service address came from the DHCP server identifier"
    );
    assert_eq!(host, ("16.1.15.2".parse().unwrap(), 30));
    assert_eq!(status, 200);
}

/// Dell iDRAC 9 (the dell-r740-idrac9 fixture): the host by DHCP, the service static.
#[test]
fn a_dhcp_host_with_a_static_service_uses_the_tables_address() {
    let Some((url, host, status)) = dhcp_case(
        "e",
        "dell-r740-idrac9",
        ("413c", "a102"),
        "169.254.2.2/24",
        "169.254.2.1,169.254.2.1,255.255.255.0",
    ) else {
        return;
    };
    assert_eq!(url, "https://169.254.2.2:443");
    assert_eq!(host, ("169.254.2.1".parse().unwrap(), 24));
    assert_eq!(status, 200);
}

/// Supermicro (the supermicro-autoconf fixture): AutoConfigure with the addresses in the record.
#[test]
fn an_autoconfigure_record_with_addresses_uses_them() {
    if !common::require(common::is_root(), "root, for network namespaces") {
        return;
    }
    let Some((url, host, status)) = usb_case(
        "s",
        "supermicro-autoconf",
        ("0b1f", "03ee"),
        "169.254.3.254/24",
        None,
    ) else {
        return;
    };
    assert_eq!(url, "https://169.254.3.254:443");
    assert_eq!(host, ("169.254.3.1".parse().unwrap(), 24));
    assert_eq!(status, 200);
}

/// A BMC reset re-enumerates its NIC: the link goes and comes back (here: the veth deleted and
/// made again). The watcher sees it go, applies the plan to the new link, and the agent reads
/// through it again, with no restart.
#[test]
fn the_link_watcher_recovers_the_host_interface_after_it_flaps() {
    let Some(w) = world("f") else { return };
    let sysfs = tempfile::tempdir().unwrap();
    fake_sysfs(sysfs.path(), &w.hv);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smbios/ami-megarac");
    let report = discover_report(&DirSource::new(fixture));
    let record = report
        .decode
        .as_ref()
        .unwrap()
        .records
        .iter()
        .find(|r| r.device.is_some())
        .unwrap()
        .clone();
    let Protocol::RedfishOverIp(redfish) = &record.protocols[0] else {
        panic!()
    };
    let plan = plan(redfish, &w.hv).unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (host_name, cert) = (w.host.0.clone(), w.cert.clone());
    let agent_thread = std::thread::spawn(move || {
        Netns(host_name).enter_and_forget();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let up = bring_up(&plan).await.unwrap();
            let (tx, mut events) = tokio::sync::mpsc::channel(8);
            tokio::spawn(hostagent::discovery::watch::watch(
                plan.clone(),
                Some(up.ifindex),
                tx,
            ));
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            ready_tx.send(up.ifindex).unwrap();
            let mut seen = Vec::new();
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
            while let Ok(Some(e)) = tokio::time::timeout_at(deadline, events.recv()).await {
                let done = matches!(e, hostagent::discovery::watch::LinkEvent::Up(_));
                seen.push(e);
                if done {
                    break;
                }
            }
            let mut opts = hostagent::transport::https::HttpsOptions::new(
                up.url(),
                hostagent::transport::trust::Trust::Pin(
                    hostagent::transport::trust::Fingerprint::parse(&cert).unwrap(),
                ),
            );
            opts.interface = Some(up.ifname.clone());
            let t = hostagent::transport::https::HttpsTransport::new(opts).unwrap();
            let mut status = 0;
            for _ in 0..50 {
                if let Ok(r) = hostagent::transport::Transport::send(
                    &t,
                    hostagent::transport::Request::get("/redfish/v1/"),
                )
                .await
                {
                    status = r.status.as_u16();
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            (up.ifindex, seen, status)
        })
    });
    ready_rx.recv().unwrap();
    // The flap: the NIC disappears and a new one with the same identity appears.
    assert!(Command::new("ip")
        .args(["-n", &w.host.0, "link", "del", &w.hv])
        .status()
        .unwrap()
        .success());
    assert!(Command::new("ip")
        .args([
            "link", "add", &w.hv, "netns", &w.host.0, "type", "veth", "peer", "name", &w.bv,
            "netns", &w._bmc.0
        ])
        .status()
        .unwrap()
        .success());
    w._bmc.ip(&["addr", "add", "169.254.0.17/16", "dev", &w.bv]);
    w._bmc.ip(&["link", "set", &w.bv, "up"]);
    let (first_index, seen, status) = agent_thread.join().unwrap();
    assert!(
        matches!(
            seen.first(),
            Some(hostagent::discovery::watch::LinkEvent::Down)
        ),
        "{seen:?}"
    );
    match seen.last() {
        Some(hostagent::discovery::watch::LinkEvent::Up(up)) => {
            assert_ne!(up.ifindex, first_index, "a new link")
        }
        other => panic!("no Up event: {other:?} in {seen:?}"),
    }
    assert_eq!(
        status, 200,
        "read through the returned link without a restart"
    );
}

/// An IPv6 link-local host interface (a synthetic table: DSP0270 allows it, no fixture has it):
/// host fe80::2/64, service fe80::1. The service is reached through the interface it lives on
/// (the scope), which the transport's binding to the NIC supplies.
#[test]
fn an_ipv6_link_local_service_is_reached_through_its_interface() {
    if !common::require(common::is_root(), "root, for network namespaces") {
        return;
    }
    use smbios_support::{ep64, table, usb_net, Rf};
    let rf = Rf {
        host: (1, 2, "fe80::2", "ffff:ffff:ffff:ffff::"),
        service: (1, 2, "fe80::1", "ffff:ffff:ffff:ffff::"),
        ..Rf::default()
    };
    let t = table(&[usb_net(0x30, &[rf.bytes()])]);
    let fixture = tempfile::tempdir().unwrap();
    std::fs::write(
        fixture.path().join("smbios_entry_point"),
        ep64(3, 3, t.len()),
    )
    .unwrap();
    std::fs::write(fixture.path().join("DMI"), &t).unwrap();
    let Some((url, host, status)) = usb_case(
        "6",
        fixture.path().to_str().unwrap(),
        ("03f0", "2927"),
        "fe80::1/64",
        None,
    ) else {
        return;
    };
    assert_eq!(url, "https://[fe80::1]:443");
    assert_eq!(host, ("fe80::2".parse().unwrap(), 64));
    assert_eq!(status, 200);
}
