//! Recovery must never take what is not ours: after a SIGKILL and a BMC reboot, iDRAC's
//! reused session ids name people's sessions, which survive; and two hosts sharing one bmcweb
//! (a multi-host sled) never delete each other's sessions, which they tell by the host in
//! their `Context` tags (`agent.host_id`).

mod common;

use std::collections::HashSet;

use bmcsim::{Kind as SimKind, Profile, SimConfig, SimHandle};
use common::daemon::Daemon;

/// The reaper's interval in these tests.
const INTERVAL_S: u64 = 4;

fn config(memory_only: bool) -> String {
    format!("[reaper]\ninterval = \"{INTERVAL_S}s\"\n[state]\nmemory_only = {memory_only}\n")
}

fn ids(sim: &SimHandle) -> HashSet<String> {
    sim.sessions().into_iter().map(|s| s.id).collect()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn idrac_ids_reused_after_a_bmc_reboot_are_not_taken_for_the_ledgers_sessions() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Idrac,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    let mut daemon = Daemon::start(&sim, &config(false));
    let daemon_ready = tokio::task::spawn_blocking(move || {
        daemon.wait_ready();
        daemon.open_leases(4);
        // A listing notes the kind of each session in the ledger.
        assert_eq!(daemon.agentctl(&["list"]).0, Some(0));
        daemon
    });
    daemon = daemon_ready.await.unwrap();
    let before: Vec<String> = sim.sessions().into_iter().map(|s| s.id).collect();
    assert_eq!(before, ["2", "3", "4", "5", "6"], "iDRAC numbers sessions");
    daemon.kill9();
    assert_eq!(
        daemon.ledger()["sessions"].as_array().unwrap().len(),
        5,
        "the agent and 4 leases"
    );
    // The BMC reboots (a few minutes), then people log in with the same shared account: four
    // Web UI sessions and an out-of-band Redfish tool, which get the ids 2..6 again.
    sim.reboot();
    sim.advance_clock(180);
    sim.leak(4, SimKind::WebUi, Some("admin"));
    sim.leak(1, SimKind::Rest, Some("admin"));
    let people = ids(&sim);
    assert_eq!(
        people,
        ["2", "3", "4", "5", "6"].map(String::from).into(),
        "the ledger's URIs name the people's sessions now"
    );
    daemon.restart();
    let daemon = blocking(move || {
        daemon.wait_ready();
        daemon.wait_reaper_cycles(1, INTERVAL_S + 10);
        daemon
    })
    .await;
    assert!(
        people.is_subset(&ids(&sim)),
        "every person's session survives the first reaper cycle: {:?}",
        sim.sessions()
    );
    assert_eq!(ids(&sim).len(), 6, "and the new agent session");
    assert!(
        !daemon.log().contains(hostagent::events::SESSION_CLEANED),
        "nothing was deleted: {}",
        daemon.log()
    );
    let entries = daemon.ledger()["sessions"].as_array().unwrap().clone();
    assert_eq!(
        entries.len(),
        1,
        "the earlier run's entries are dropped: {entries:?}"
    );
    assert_eq!(entries[0]["owner"], "agent");
    drop(daemon);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hosts_on_one_bmcweb_never_take_each_others_sessions_after_a_crash() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Bmcweb,
        max_sessions: Some(64),
        ..SimConfig::default()
    })
    .await;
    // Two hosts of one sled, both cloned from one image: the same machine-id, so each sets
    // agent.host_id (and here, on one machine, they share a boot id too).
    let host = |id: &str| format!("{}[agent]\nhost_id = \"{id}\"\n", config(true));
    let mut a = Daemon::start(&sim, &host("sled1-node-a"));
    let b = Daemon::start(&sim, &host("sled1-node-b"));
    let (a_ready, b) = blocking(move || {
        a.wait_ready();
        b.wait_ready();
        a.open_leases(3);
        b.open_leases(3);
        (a, b)
    })
    .await;
    a = a_ready;
    let tagged = |host: &str| -> HashSet<String> {
        sim.sessions()
            .into_iter()
            .filter(|s| {
                s.context
                    .as_deref()
                    .is_some_and(|c| c.starts_with(&format!("hostagent/{host}/")))
            })
            .map(|s| s.id)
            .collect()
    };
    let (dead, others) = (tagged("sled1-node-a"), tagged("sled1-node-b"));
    assert_eq!((dead.len(), others.len()), (4, 4), "{:?}", sim.sessions());
    a.kill9();
    a.restart();
    let a = blocking(move || {
        a.wait_ready();
        a.wait_reaper_cycles(1, INTERVAL_S + 10);
        a
    })
    .await;
    let left = ids(&sim);
    assert!(
        others.is_subset(&left),
        "the other host's agent session and its 3 leases survive: {:?}",
        sim.sessions()
    );
    assert!(
        left.is_disjoint(&dead),
        "the killed host's orphans are gone: {:?}",
        sim.sessions()
    );
    assert_eq!(left.len(), 5, "and the restarted agent's new session");
    assert_eq!(tagged("sled1-node-a").len(), 1);
    // The other host still works: its leases are its own.
    let (code, v, err) = b.agentctl(&["session", "list"]);
    assert_eq!(code, Some(0), "{v} {err}");
    drop((a, b));
    sim.shutdown().await;
}
