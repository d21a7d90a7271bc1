//! From "the host-interface link appears" to the first successful Redfish GET through it,
//! static (AMI fixture) and DHCP (HPE fixture, dnsmasq as the iLO's DHCP server), median of 20
//! runs each. Needs root: everything happens in two network namespaces this bench creates.
//! The baseline of the ratio is the static case.
//!
//! `cargo bench --bench link_bringup`

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn ip(args: &[&str]) {
    assert!(
        Command::new("ip").args(args).status().unwrap().success(),
        "ip {args:?}"
    );
}

fn enter(ns: &str) {
    let fd = std::fs::File::open(format!("/run/netns/{ns}")).unwrap();
    nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
}

/// A fake sysfs naming `ifname` as the USB NIC `vid:pid`, with the fixture's SMBIOS tables.
fn sysfs(root: &Path, ifname: &str, vid: &str, pid: &str, fixture: &str) {
    let usbdev = root.join("devices/usb1/1-1");
    let iface = usbdev.join("1-1:1.0");
    let netdir = iface.join(format!("net/{ifname}"));
    std::fs::create_dir_all(&netdir).unwrap();
    std::fs::write(usbdev.join("idVendor"), vid).unwrap();
    std::fs::write(usbdev.join("idProduct"), pid).unwrap();
    std::fs::write(usbdev.join("serial"), "AMI0123456AB").unwrap();
    std::os::unix::fs::symlink(&iface, netdir.join("device")).unwrap();
    std::fs::create_dir_all(root.join("class/net")).unwrap();
    std::os::unix::fs::symlink(&netdir, root.join(format!("class/net/{ifname}"))).unwrap();
    let tables = root.join("firmware/dmi/tables");
    std::fs::create_dir_all(&tables).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/smbios")
        .join(fixture);
    for f in ["smbios_entry_point", "DMI"] {
        std::fs::copy(src.join(f), tables.join(f)).unwrap();
    }
}

struct Case {
    name: &'static str,
    fixture: &'static str,
    ids: (&'static str, &'static str),
    bmc_cidr: &'static str,
    dhcp_range: Option<&'static str>,
}

fn run_case(case: &Case, runs: usize) -> Vec<Duration> {
    let (host, bmc) = ("hab-host", "hab-bmc");
    let _ = Command::new("ip").args(["netns", "del", host]).status();
    let _ = Command::new("ip").args(["netns", "del", bmc]).status();
    ip(&["netns", "add", host]);
    ip(&["netns", "add", bmc]);
    ip(&["-n", bmc, "link", "set", "lo", "up"]);
    ip(&["-n", host, "link", "set", "lo", "up"]);
    let service = case.bmc_cidr.split('/').next().unwrap().to_string();
    // The BMC: bmcsim bound to the service address (IP_FREEBIND lets it bind before the link exists).
    let (tx, rx) = std::sync::mpsc::channel();
    let listen: std::net::SocketAddr = format!("{service}:443").parse().unwrap();
    std::thread::spawn(move || {
        enter(bmc);
        // A dummy address keeps the service address bindable between runs.
        ip(&[
            "-n",
            bmc,
            "addr",
            "add",
            &format!("{}/32", listen.ip()),
            "dev",
            "lo",
        ]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let sim = bmcsim::start(bmcsim::SimConfig {
                profile: bmcsim::Profile::Bmcweb,
                listen: vec![listen],
                ..Default::default()
            })
            .await
            .unwrap();
            tx.send(sim.cert_sha256()).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let cert = rx.recv().unwrap();
    ip(&[
        "-n",
        bmc,
        "addr",
        "del",
        &format!("{service}/32"),
        "dev",
        "lo",
    ]);
    let mut times = Vec::new();
    for run in 0..runs {
        let (hv, bv) = (format!("habh{run}"), format!("habb{run}"));
        let dir = tempfile::tempdir().unwrap();
        sysfs(dir.path(), &hv, case.ids.0, case.ids.1, case.fixture);
        let start = Instant::now(); // the link appears
        ip(&[
            "link", "add", &hv, "netns", host, "type", "veth", "peer", "name", &bv, "netns", bmc,
        ]);
        ip(&["-n", bmc, "addr", "add", case.bmc_cidr, "dev", &bv]);
        ip(&["-n", bmc, "link", "set", &bv, "up"]);
        let mut dnsmasq: Option<Child> = case.dhcp_range.map(|range| {
            Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    bmc,
                    "dnsmasq",
                    "--no-daemon",
                    "--port=0",
                    "--conf-file=/dev/null",
                    "--bind-interfaces",
                    "--pid-file=",
                    "--dhcp-option=3",
                    "--dhcp-option=6",
                    "--no-ping",
                ])
                .arg(format!("--interface={bv}"))
                .arg(format!("--dhcp-range={range},1h"))
                .arg(format!(
                    "--dhcp-leasefile={}",
                    dir.path().join("leases").display()
                ))
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        });
        let (root, cert) = (dir.path().to_path_buf(), cert.clone());
        let took = std::thread::spawn(move || {
            enter(host);
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
                loop {
                    if let Ok(r) = hostagent::transport::Transport::send(
                        &t,
                        hostagent::transport::Request::get("/redfish/v1/"),
                    )
                    .await
                    {
                        assert_eq!(r.status, 200);
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
            start.elapsed()
        })
        .join()
        .unwrap();
        times.push(took);
        if let Some(d) = dnsmasq.as_mut() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(d.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = d.wait();
        }
        ip(&["-n", host, "link", "del", &hv]);
    }
    let _ = Command::new("ip").args(["netns", "del", host]).status();
    let _ = Command::new("ip").args(["netns", "del", bmc]).status();
    times
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("link_bringup needs root (network namespaces)");
        return;
    }
    let cases = [
        Case {
            name: "static (AMI)",
            fixture: "ami-megarac",
            ids: ("046b", "ffb0"),
            bmc_cidr: "169.254.0.17/16",
            dhcp_range: None,
        },
        Case {
            name: "DHCP (HPE iLO vNIC)",
            fixture: "hpe-ilo-vnic",
            ids: ("03f0", "2927"),
            bmc_cidr: "16.1.15.1/30",
            dhcp_range: Some("16.1.15.2,16.1.15.2,255.255.255.252"),
        },
    ];
    let mut base = None;
    println!(
        "link appears -> first authenticated-free GET /redfish/v1/ through it, median of 20 runs"
    );
    for case in &cases {
        let m = median(run_case(case, 20));
        let b = *base.get_or_insert(m);
        println!(
            "  {:<22} {:>8.1} ms  {:>5.1}x the static case",
            case.name,
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / b.as_secs_f64()
        );
    }
}
