//! `agentctl top` under a real terminal (tmux): `capture-pane` shows the table's fill bar and
//! the counts by kind, which follow a leak into the simulator and a clean; `q` quits. Without
//! a terminal it refuses (exit 2) pointing at `--json`, which prints one frame.

mod common;
mod metrics_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use bmcsim::Profile;
use common::daemon::started;
use metrics_support::{eventually, SimControl};

/// A tmux server of this test's own (its own socket name), killed by its PID when dropped.
struct Tmux {
    name: String,
}

impl Tmux {
    fn new() -> Tmux {
        Tmux {
            name: format!("hostagent-top-{}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.name, "-f", "/dev/null"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux runs")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "top"]).stdout).into_owned()
    }

    fn alive(&self) -> bool {
        self.run(&["has-session", "-t", "top"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let out = self.run(&["display-message", "-p", "#{pid}"]);
        if let Ok(pid) = String::from_utf8_lossy(&out.stdout).trim().parse::<i32>() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
}

/// Waits until the pane shows every one of `wanted` (and none of `absent`).
async fn shows(tmux: &Tmux, what: &str, wanted: &[&str], absent: &[&str]) -> String {
    eventually(Duration::from_secs(30), what, || async {
        let screen = tmux.screen();
        let ok =
            wanted.iter().all(|w| screen.contains(w)) && !absent.iter().any(|a| screen.contains(a));
        if ok {
            Ok(screen)
        } else {
            Err(screen)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn top_draws_the_bar_and_counts_which_follow_a_leak_and_a_clean_and_q_quits() {
    if !common::require(tmux_version(), "tmux (Debian package; .ci/run installs it)") {
        return;
    }
    let sim = common::sim(Profile::Ilo5).await;
    let control = SimControl::new(&sim);
    let daemon = started(
        &sim,
        "[reaper]\ninterval = \"1s\"\n[bmc]\nsession_limit = 16\n",
    )
    .await;
    let tmux = Tmux::new();
    let command = format!(
        "{} --socket {} top",
        env!("CARGO_BIN_EXE_agentctl"),
        daemon.socket.display()
    );
    let out = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "top",
        "-x",
        "100",
        "-y",
        "30",
        &command,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Only the agent's own session.
    let empty_bar = format!("[###{}]  1 / 16 sessions (6 %)", ".".repeat(37));
    let screen = shows(
        &tmux,
        "top shows the agent's session",
        &[&empty_bar, "BMC up", "q quits"],
        &[],
    )
    .await;
    assert!(
        screen.contains("rest                 agent             1"),
        "{screen}"
    );

    control.leak(4, "rest-host").await;
    let bar = format!("[#############{}]  5 / 16 sessions (31 %)", ".".repeat(27));
    shows(
        &tmux,
        "top shows the leak",
        &[
            &bar,
            "rest-host            foreign           4",
            "By owner: agent 1, foreign 4",
        ],
        &[],
    )
    .await;

    let (code, v, err) = daemon.agentctl(&["clean", "--idle", "0"]);
    assert_eq!(code, Some(0), "{v} {err}");
    shows(&tmux, "top shows the clean", &[&empty_bar], &["rest-host"]).await;

    let out = tmux.run(&["send-keys", "-t", "top", "q"]);
    assert!(out.status.success());
    eventually(Duration::from_secs(10), "q ends top", || async {
        if tmux.alive() {
            Err(tmux.screen())
        } else {
            Ok(())
        }
    })
    .await;
    drop(daemon);
    sim.shutdown().await;
}

fn tmux_version() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_top_refuses_pointing_at_json_which_prints_one_frame() {
    let sim = common::sim(Profile::Ilo5).await;
    let daemon = started(&sim, "[bmc]\nsession_limit = 16\n").await;
    let out = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--socket")
        .arg(&daemon.socket)
        .arg("top")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("needs one") && said.contains("agentctl --json top"),
        "{said}"
    );

    let (code, v, err) = daemon.agentctl(&["top"]);
    assert_eq!(code, Some(0), "{v} {err}");
    assert_eq!(v["limit"], 16, "{v}");
    assert_eq!(v["bmc_up"], true, "{v}");
    assert_eq!(v["sessions"]["rest"]["agent"], 1, "{v}");
    drop(daemon);
    sim.shutdown().await;
}
