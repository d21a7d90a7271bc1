//! Network namespaces for tests (created and deleted by the test: nothing touches the real
//! network), a process stopped by its PID, and bmcsim run inside a namespace.
#![allow(dead_code)]

use std::process::{Child, Command};

use bmcsim::{Profile, SimConfig};

pub struct Netns(pub String);

impl Netns {
    pub fn new(name: String) -> Netns {
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        assert!(Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success());
        Netns(name)
    }
    pub fn ip(&self, args: &[&str]) {
        let ok = Command::new("ip")
            .args(["-n", &self.0])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "ip -n {} {args:?}", self.0);
    }
    /// Moves the calling thread into this namespace for good.
    pub fn enter(&self) {
        let fd = std::fs::File::open(format!("/run/netns/{}", self.0)).unwrap();
        nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Stops a process this test started, by its PID.
pub struct Started(pub Child);

impl Drop for Started {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.0.wait();
    }
}

/// bmcsim (bmcweb) on `listen` inside the namespace `ns`, on a thread of its own: its
/// certificate's SHA-256, and what stops it.
pub struct Sim {
    pub cert: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn sim_in(ns: &str, listen: &str) -> Sim {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ns, listen) = (ns.to_string(), listen.parse().unwrap());
    let thread = std::thread::spawn(move || {
        let ns = Netns(ns);
        ns.enter();
        std::mem::forget(ns);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let sim = bmcsim::start(SimConfig {
                profile: Profile::Bmcweb,
                listen: vec![listen],
                ..SimConfig::default()
            })
            .await
            .unwrap();
            tx.send(sim.cert_sha256()).unwrap();
            let _ = stop_rx.await;
            sim.shutdown().await;
        });
    });
    Sim {
        cert: rx.recv().unwrap(),
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

/// A veth pair `a` (in `ns_a`, with MAC `mac`) and `b` (in `ns_b`).
pub fn veth(a: &str, ns_a: &Netns, mac: &str, b: &str, ns_b: &Netns) {
    assert!(Command::new("ip")
        .args(["link", "add", a, "netns", &ns_a.0, "address", mac])
        .args(["type", "veth", "peer", "name", b, "netns", &ns_b.0])
        .status()
        .unwrap()
        .success());
}
