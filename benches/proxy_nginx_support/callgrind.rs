//! `PROXY_NGINX_CALLGRIND=1`: the same job counted in instructions instead of time. On a VM
//! whose speed drifts by a third between rounds, CPU µs per request cannot show a change of a
//! few percent; the instructions a proxy executes per request can, and they repeat to within
//! 0.4 % between runs. nginx (its master and workers) and hostagentd run under callgrind
//! (Debian package valgrind); each path gets `CONNS` keep-alive connections, warmed up, then
//! the counters are zeroed, `CONNS * PER_CONN` requests are sent, and the counters dumped: TLS
//! handshakes and start-up are outside the count. User space only: the kernel's share is
//! what `PROXY_NGINX_SYSCALLS=1` counts. Cycles are not instructions (rep-prefixed zeroing counts
//! one per byte); the figure is for comparing builds and for the share of each part, with an
//! unstripped build (`CARGO_PROFILE_RELEASE_STRIP=false`), the dumps kept
//! (`PROXY_NGINX_CALLGRIND_KEEP=1`) and `callgrind_annotate` on them.
//! `PROXY_NGINX_CALLGRIND_ARGS` adds valgrind options: with `--cache-sim=yes` each line also
//! gives the simulated cache misses per request (`D1mr` and so on).

use std::path::Path;
use std::process::Command;

use super::{daemon, free_port, get, open, start_nginx, tls_connector, Target};
use bmcsim::SimHandle;

const CONNS: usize = 32;
const PER_CONN: usize = 150;

pub async fn run(sim: &SimHandle, token: &str) {
    let dir = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("PROXY_NGINX_CALLGRIND_KEEP").is_some();
    let extra = std::env::var("PROXY_NGINX_CALLGRIND_ARGS").unwrap_or_default();
    let valgrind = |name: &str| -> Vec<String> {
        let mut command: Vec<String> = vec![
            "valgrind".into(),
            "--tool=callgrind".into(),
            "--trace-children=yes".into(),
            format!("--callgrind-out-file={}/{name}.%p", dir.path().display()),
        ];
        command.extend(extra.split_whitespace().map(String::from));
        command
    };
    let nginx_port = free_port();
    let mut nginx = start_nginx(dir.path(), nginx_port, sim, token, &valgrind("nginx"));
    let agent_port = free_port();
    let agent = daemon::ready(
        super::measured(
            daemon::Launch::new(sim)
                .extra(&format!("[api]\nlisten_https = \"127.0.0.1:{agent_port}\""))
                .memory_only()
                .wrapped(&valgrind("agent")),
        )
        .start(),
    )
    .await;
    let tls = |port: u16| {
        Target::Direct(
            ([127, 0, 0, 1], port).into(),
            tls_connector(),
            String::new(),
        )
    };
    println!("instructions per request (callgrind, user space; {CONNS} connections x {PER_CONN} requests after warm-up, handshakes excluded):");
    let nginx_ir = measure(&tls(nginx_port), &super::family(nginx.id()), dir.path()).await;
    println!("   nginx (HTTPS)                     {}", nginx_ir.line());
    let agent_pids = super::family(agent.child.id());
    let https = measure(&tls(agent_port), &agent_pids, dir.path()).await;
    println!(
        "   hostagentd listen_https           {}   agent / nginx {:.2}",
        https.line(),
        https.ir() / nginx_ir.ir()
    );
    let unix = measure(
        &Target::Socket(agent.socket.clone()),
        &agent_pids,
        dir.path(),
    )
    .await;
    println!("   hostagentd Unix socket            {}", unix.line());
    if keep {
        println!("   dumps kept in {}", dir.keep().display());
    }
    // SAFETY: kill(2) on the PID of the child this process started and has not reaped.
    unsafe { libc::kill(nginx.id() as i32, libc::SIGTERM) };
    let _ = nginx.wait();
    drop(agent);
}

/// Callgrind's events (`Ir` first) and their counts per request.
struct PerRequest(Vec<(String, f64)>);

impl PerRequest {
    fn ir(&self) -> f64 {
        self.0.first().map_or(f64::NAN, |(_, n)| *n)
    }

    fn line(&self) -> String {
        let mut line = format!("{:>9.0}", self.ir());
        for (name, n) in self.0.iter().skip(1) {
            line.push_str(&format!("  {name} {n:.0}"));
        }
        line
    }
}

/// Events per request of the processes `pids` (all under callgrind) on `target`.
async fn measure(target: &Target, pids: &[String], dumps: &Path) -> PerRequest {
    let mut conns = Vec::new();
    for _ in 0..CONNS {
        let mut tx = open(target).await;
        for _ in 0..5 {
            get(&mut tx, target).await;
        }
        conns.push(tx);
    }
    control("-z", pids);
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut tx| {
            let target = target.clone();
            tokio::spawn(async move {
                for _ in 0..PER_CONN {
                    get(&mut tx, &target).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    control("-d", pids);
    let mut total: Vec<(String, f64)> = Vec::new();
    for (i, (name, n)) in pids
        .iter()
        .flat_map(|pid| newest_summary(dumps, pid).into_iter().enumerate())
    {
        match total.get_mut(i) {
            Some((_, sum)) => *sum += n as f64,
            None => total.push((name, n as f64)),
        }
    }
    let requests = (CONNS * PER_CONN) as f64;
    PerRequest(total.into_iter().map(|(e, n)| (e, n / requests)).collect())
}

/// `callgrind_control -z` (zero) or `-d` (dump) on each process; vgdb reaches a process even
/// while it waits in a system call, and the command has run when this returns.
fn control(flag: &str, pids: &[String]) {
    for pid in pids {
        let out = Command::new("callgrind_control")
            .args([flag, pid])
            .output()
            .expect("callgrind_control (Debian package valgrind)");
        assert!(
            out.status.success(),
            "callgrind_control {flag} {pid}: {out:?}"
        );
    }
}

/// The events and `summary:` totals of the last dump of `pid` in `dir`.
fn newest_summary(dir: &Path, pid: &str) -> Vec<(String, u64)> {
    let newest = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let mut fields = name.split('.');
            let (_, p, part) = (fields.next()?, fields.next()?, fields.next()?);
            let part: u32 = part.parse().ok()?;
            (p == pid).then_some((part, name.clone()))
        })
        .max();
    let Some((_, name)) = newest else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_default()
            .split_whitespace()
    };
    field("events: ")
        .map(String::from)
        .zip(field("summary: ").map(|n| n.parse().unwrap_or(0)))
        .collect()
}
