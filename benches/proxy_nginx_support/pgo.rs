//! `PROXY_NGINX_PGO=PATH`: the training run of `packaging/pgo-build`. PATH is a hostagentd
//! built with `-Cprofile-generate`; it serves the job this bench measures (GETs through the
//! HTTPS listener and the Unix socket on `CONNS` keep-alive connections each), plus `status`
//! and a lease as a local tool takes them, and is then stopped by SIGTERM, as systemd stops
//! it, so that it writes its profile. The release build laid out by that profile keeps the
//! proxy's hot path together: docs/PERFORMANCE.md, "Profile-guided build (sixth pass)".
//! What the training does not run (the HMC broker, cleaning) is laid out as cold code.

use super::{daemon, free_port, get, open, tls_connector, Target};
use bmcsim::SimHandle;

const CONNS: usize = 32;
const PER_CONN: usize = 300;

pub async fn run(sim: &SimHandle, program: &str) {
    let port = free_port();
    let mut agent = daemon::ready(
        daemon::Launch::new(sim)
            .extra(&format!("[api]\nlisten_https = \"127.0.0.1:{port}\""))
            .memory_only()
            .program(program)
            .start(),
    )
    .await;
    let https = Target::Direct(
        ([127, 0, 0, 1], port).into(),
        tls_connector(),
        String::new(),
    );
    for target in [https, Target::Socket(agent.socket.clone())] {
        load(&target).await;
    }
    let leases = agent.open_leases(4);
    assert_eq!(leases.len(), 4);
    let status = agent.stop();
    assert!(
        status.success(),
        "the profiling hostagentd stops cleanly at SIGTERM ({status}), or it writes no profile; its log:\n{}",
        agent.log()
    );
    println!(
        "trained {program}: {} GETs on each of the HTTPS listener and the Unix socket",
        CONNS * PER_CONN
    );
}

/// `CONNS` keep-alive connections, `PER_CONN` GETs each, all at once.
async fn load(target: &Target) {
    let tasks: Vec<_> = (0..CONNS)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move {
                let mut tx = open(&target).await;
                for _ in 0..PER_CONN {
                    get(&mut tx, &target).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}
