//! The Puppet type/provider (`packaging/puppet/hostagent`) and the Chef custom resource
//! (`packaging/chef/hostagent`) against a live hostagentd on bmcsim: the first run cleans the
//! stale in-band sessions and reports a change, the second finds nothing to do, a person's
//! sessions stay, filters reach agentctl, and a daemon that does not answer fails the run with
//! agentctl's message. Puppet is Debian's; Chef is not installable here (rubygems.org only), so
//! its resource runs under `tests/chef/run_resource.rb`, which gives it the DSL it uses.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use bmcsim::{Kind as SimKind, Profile};
use common::daemon::started;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a run printed, without Facter's complaints about what a container hides (/proc/1).
fn text(out: &Output) -> String {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    all.lines()
        .filter(|l| !l.starts_with("Error: Facter:"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn puppet_apply(dirs: &Path, manifest: &str) -> Output {
    let mut cmd = Command::new("puppet");
    cmd.arg("apply")
        .arg("--detailed-exitcodes")
        .arg("--color=false");
    cmd.arg("--modulepath").arg(repo().join("packaging/puppet"));
    for (flag, sub) in [
        ("--vardir", "var"),
        ("--confdir", "conf"),
        ("--codedir", "code"),
        ("--logdir", "log"),
        ("--rundir", "run"),
    ] {
        cmd.arg(flag).arg(dirs.join(sub));
    }
    cmd.arg("-e")
        .arg(manifest)
        .env("HOME", dirs)
        .output()
        .expect("puppet runs")
}

fn chef(socket: &Path, extra: &[&str]) -> Output {
    Command::new("ruby")
        .arg(repo().join("tests/chef/run_resource.rb"))
        .arg(repo().join("packaging/chef/hostagent/resources/sessions.rb"))
        .arg("clean")
        .arg(format!("socket={}", socket.display()))
        .arg(format!("agentctl={}", env!("CARGO_BIN_EXE_agentctl")))
        .args(extra)
        .output()
        .expect("ruby runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn puppet_and_chef_clean_the_stale_sessions_once_and_then_find_nothing_to_do() {
    let have = |p: &str| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !common::require(
        have("puppet") && have("ruby"),
        "puppet and ruby (Debian package puppet; .ci/run installs it)",
    ) {
        return;
    }
    let sim = common::sim(Profile::Ilo5).await;
    sim.leak(4, SimKind::RestHost, None);
    sim.leak(2, SimKind::WebUi, Some("alice"));
    sim.advance_clock(20 * 60);
    let daemon = started(&sim, "[reaper]\ninterval = \"1h\"\n").await;
    let socket = daemon.socket.clone();
    let dirs = tempfile::tempdir().unwrap();
    let manifest = |socket: &Path, stale: &str| {
        format!("hostagent_sessions {{ 'in-band': stale => {stale}, socket => '{}', agentctl => '{}' }}", socket.display(), env!("CARGO_BIN_EXE_agentctl"))
    };

    // Puppet: a change, then none.
    let (d, m) = (dirs.path().to_path_buf(), manifest(&socket, "0"));
    let first = tokio::task::spawn_blocking(move || puppet_apply(&d, &m))
        .await
        .unwrap();
    assert_eq!(
        first.status.code(),
        Some(2),
        "changes were applied: {}",
        text(&first)
    );
    assert!(
        text(&first).contains("stale changed 4 to 0"),
        "{}",
        text(&first)
    );
    let left = sim.sessions();
    assert_eq!(
        left.len(),
        3,
        "the agent's session and alice's two Web UI sessions: {left:?}"
    );
    let (d, m) = (dirs.path().to_path_buf(), manifest(&socket, "0"));
    let second = tokio::task::spawn_blocking(move || puppet_apply(&d, &m))
        .await
        .unwrap();
    assert_eq!(
        second.status.code(),
        Some(0),
        "nothing to do: {}",
        text(&second)
    );
    // Bad input: a wish other than 0, and a daemon that does not answer.
    let (d, m) = (dirs.path().to_path_buf(), manifest(&socket, "3"));
    let bad = tokio::task::spawn_blocking(move || puppet_apply(&d, &m))
        .await
        .unwrap();
    assert!(text(&bad).contains("stale must be 0"), "{}", text(&bad));
    let (d, m) = (
        dirs.path().to_path_buf(),
        manifest(&dirs.path().join("no.sock"), "0"),
    );
    let down = tokio::task::spawn_blocking(move || puppet_apply(&d, &m))
        .await
        .unwrap();
    assert_eq!(down.status.code(), Some(4), "a failure: {}", text(&down));
    assert!(
        text(&down).contains("hostagentd is not answering"),
        "agentctl's message: {}",
        text(&down)
    );

    // Chef: the same, with filters passed through.
    sim.leak(3, SimKind::RestHost, None);
    sim.leak(1, SimKind::WebUi, Some("bob"));
    sim.advance_clock(20 * 60);
    let s = socket.clone();
    let (filtered, first, second) = tokio::task::spawn_blocking(move || {
        (
            chef(&s, &["kinds=host-application"]),
            chef(&s, &["idle=10"]),
            chef(&s, &[]),
        )
    })
    .await
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&filtered.stdout).trim(),
        "up to date",
        "no host-application session is stale: {}",
        text(&filtered)
    );
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        String::from_utf8_lossy(&first.stdout).starts_with("converged: clean 3 stale BMC sessions"),
        "{}",
        text(&first)
    );
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "up to date",
        "{}",
        text(&second)
    );
    let left = sim.sessions();
    assert!(left.iter().all(|s| s.kind != SimKind::RestHost), "{left:?}");
    assert!(
        left.iter().any(|s| s.user == "bob"),
        "bob's Web UI session stays (alice's timed out on the BMC meanwhile): {left:?}"
    );
    let down = chef(&dirs.path().join("no.sock"), &[]);
    assert_eq!(down.status.code(), Some(1));
    assert!(
        text(&down).contains("hostagentd is not answering"),
        "{}",
        text(&down)
    );
    drop(daemon);
    sim.shutdown().await;
}
