//! Hostile local users against both listeners (the Unix socket and the loopback HTTPS
//! listener): as a reader and as a uid with no role, stalled bodies, slowloris and connect
//! floods, all at once, while root keeps being answered; memory comes back afterwards and
//! the journal gets a bounded summary of the refusals, not a line each.
//!
//! Needs root (to take other uids); fails rather than skips with HOSTAGENT_REQUIRE_PRIVILEGED=1.

mod common;
mod hostile;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bmcsim::Profile;
use common::daemon::{free_port, Daemon};
use hostile::{Attack, Target, READER, STRANGER};

/// Root's answers during the attack: the median within the second the issue asks for, and
/// every one within two, which leaves room for starting agentctl on a shared 2-core CI
/// machine that the attack itself keeps busy (measured: median about 0.25 s, slowest 0.6 to
/// 1.05 s). A locked-out daemon does not answer at all, so the bounds separate the two cases
/// by far.
const MEDIAN_WITHIN: Duration = Duration::from_secs(1);
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// How long the attack lasts: past the 10 s header and handshake timeouts, so the attackers'
/// connections are cut and opened again at least once.
const ATTACK: Duration = Duration::from_secs(14);

fn listeners(daemon: &Daemon, port: u16) -> [Target; 2] {
    [
        Target::Unix(daemon.socket.clone()),
        Target::Https(format!("127.0.0.1:{port}").parse().unwrap()),
    ]
}

async fn start(sim: &bmcsim::SimHandle, port: u16) -> Daemon {
    // nobody's primary group is nogroup: nobody is a reader, uid 65533 has no role.
    let daemon = Daemon::start(
        sim,
        &format!("[api]\nlisten_https = \"127.0.0.1:{port}\"\nreader_group = \"nogroup\"\n"),
    );
    let socket = daemon.socket.clone();
    tokio::task::spawn_blocking(move || common::daemon::wait_ready(&socket))
        .await
        .unwrap();
    daemon
}

/// root's `agentctl status`, bounded by a deadline of our own: its latency, or why it failed.
fn root_status(socket: &Path) -> Result<Duration, String> {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(socket)
        .args(["--json", "status"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while started.elapsed() < Duration::from_secs(10) {
        if let Some(status) = child.try_wait().unwrap() {
            return match status.code() {
                Some(0) => Ok(started.elapsed()),
                other => Err(format!("agentctl status exited {other:?}")),
            };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err("agentctl status did not answer in 10 s".into())
}

/// root's GET /v1/status over the HTTPS listener.
fn root_https_status(target: &Target) -> Result<Duration, String> {
    let started = Instant::now();
    let answer = hostile::request(
        target,
        "GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .map_err(|e| format!("HTTPS status: {e}"))?;
    if !answer.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "HTTPS status: {}",
            answer.lines().next().unwrap_or("no answer")
        ));
    }
    Ok(started.elapsed())
}

fn sigterm(daemon: &mut Daemon) {
    nix::sys::signal::kill(daemon.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while daemon.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "hostagentd did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn root_is_answered_through_every_attack_and_memory_comes_back() {
    if !common::require(common::is_root(), "root, to attack as other uids") {
        return;
    }
    let sim = common::sim(Profile::Ilo6).await;
    let port = free_port();
    let mut daemon = start(&sim, port).await;
    let pid = daemon.child.id();
    let targets = listeners(&daemon, port);
    let socket = daemon.socket.clone();
    let (samples, before, peak) = tokio::task::spawn_blocking({
        let targets = targets.clone();
        move || {
            // Warm up both listeners, so that what stays allocated after one request is in
            // the baseline.
            for _ in 0..5 {
                root_status(&socket).unwrap();
                root_https_status(&targets[1]).unwrap();
            }
            let before = hostile::rss_kib(pid);
            let until = Instant::now() + ATTACK;
            let mut attackers = Vec::new();
            for target in &targets {
                for who in [READER, STRANGER] {
                    for attack in [Attack::StalledBody, Attack::Slowloris, Attack::ConnectFlood] {
                        let target = target.clone();
                        attackers.push(std::thread::spawn(move || {
                            hostile::run(who, target, attack, until)
                        }));
                    }
                }
            }
            let mut samples = Vec::new();
            let mut peak = before;
            while Instant::now() < until {
                samples.push(("socket", root_status(&socket)));
                samples.push(("https", root_https_status(&targets[1])));
                peak = peak.max(hostile::rss_kib(pid));
                std::thread::sleep(Duration::from_millis(200));
            }
            let opened: usize = attackers.into_iter().map(|a| a.join().unwrap()).sum();
            eprintln!("attackers opened {opened} connections");
            (samples, before, peak)
        }
    })
    .await
    .unwrap();

    assert!(samples.len() > 20, "sampled all along: {}", samples.len());
    let worst = samples
        .iter()
        .filter_map(|(_, s)| s.as_ref().ok())
        .max()
        .copied();
    eprintln!(
        "{} samples, slowest {worst:?}; RSS {before} kB before, {peak} kB at the peak",
        samples.len()
    );
    for (listener, sample) in &samples {
        match sample {
            Ok(took) => assert!(
                *took <= ANSWER_WITHIN,
                "root waited {took:?} on the {listener} during the attack"
            ),
            Err(e) => panic!("root was not answered on the {listener} during the attack: {e}"),
        }
    }

    let mut took: Vec<Duration> = samples.iter().filter_map(|(_, s)| s.clone().ok()).collect();
    took.sort();
    let median = took[took.len() / 2];
    assert!(
        median <= MEDIAN_WITHIN,
        "root's median answer took {median:?}"
    );

    // Memory: back within 20 % of the baseline once the attackers are gone.
    let deadline = Instant::now() + Duration::from_secs(30);
    let limit = before + before / 5;
    loop {
        let now = hostile::rss_kib(pid);
        if now <= limit {
            eprintln!("RSS back to {now} kB");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "RSS stayed at {now} kB after the attack (before: {before} kB, peak {peak} kB)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The journal: a handful of lines per attacker and listener, not one per connection.
    let log = tokio::task::spawn_blocking(move || {
        sigterm(&mut daemon);
        daemon.log()
    })
    .await
    .unwrap();
    for uid in [READER.0, STRANGER.0] {
        for listener in ["API socket", "HTTPS listener"] {
            let (count, lines) = hostile::refusals(&log, uid, listener);
            eprintln!("uid {uid} on the {listener}: {count} refused in {lines} lines");
            assert!(
                lines <= 3,
                "uid {uid} on the {listener}: {lines} lines for {count} refusals"
            );
        }
    }
    let warnings = log.lines().filter(|l| l.contains("WARN")).count();
    assert!(warnings < 50, "{warnings} warnings:\n{log}");
    sim.shutdown().await;
}

/// Opens `n` connections one after the other as `who`, each read to its end; how many were
/// refused (closed with no answer, or answered 403).
fn refused_in_turn(who: (u32, u32), target: &Target, n: usize, hold: usize) -> usize {
    let target = target.clone();
    std::thread::spawn(move || {
        hostile::become_user(who);
        // Connections that say nothing, so that the next ones find the uid's share taken.
        let held: Vec<_> = (0..hold)
            .map(|_| hostile::Conn::open(&target, true).unwrap())
            .collect();
        let mut refused = 0;
        for _ in 0..n {
            let Ok(mut c) = hostile::Conn::open(&target, hold > 0) else {
                refused += 1;
                continue;
            };
            let _ = std::io::Write::write_all(
                &mut c,
                b"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            let answer = c.read_answer();
            if answer.is_empty() || answer.starts_with(b"HTTP/1.1 403") {
                refused += 1;
            }
        }
        drop(held);
        refused
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_refused_connections_is_logged_as_a_count_not_a_line_each() {
    if !common::require(common::is_root(), "root, to connect as other uids") {
        return;
    }
    let sim = common::sim(Profile::Ilo6).await;
    let port = free_port();
    let mut daemon = start(&sim, port).await;
    let targets = listeners(&daemon, port);
    let n = 300;
    let log = tokio::task::spawn_blocking(move || {
        // No role: every connection is refused. A reader past its share: each one more is.
        let stranger = [
            refused_in_turn(STRANGER, &targets[0], n, 0),
            refused_in_turn(STRANGER, &targets[1], n, 0),
        ];
        let share = hostagent::api::admission::PER_UID;
        let reader = refused_in_turn(READER, &targets[0], n, share);
        assert_eq!(stranger, [n, n], "no role, no answer but 403");
        assert_eq!(reader, n, "past its share of slots a reader is refused");
        sigterm(&mut daemon);
        daemon.log()
    })
    .await
    .unwrap();
    for (uid, listener) in [
        (STRANGER.0, "API socket"),
        (STRANGER.0, "HTTPS listener"),
        (READER.0, "API socket"),
    ] {
        let (count, lines) = hostile::refusals(&log, uid, listener);
        assert_eq!(
            count, n as u64,
            "uid {uid} on the {listener}: the lines carry the count\n{log}"
        );
        assert!(
            lines <= 2,
            "uid {uid} on the {listener}: {lines} lines for {n} refusals"
        );
    }
    sim.shutdown().await;
}
