//! `[[hmc]]` tables come and go without a restart (SIGHUP, `systemctl reload hostagentd`), and
//! a table removed while the agent was down has its session logged off at the next start: the
//! simulator's ground truth (`sessions()`, `log()`) says what the HMC saw.

mod common;

use std::path::Path;
use std::time::Duration;

use common::hmc::{agent_sessions, client, start, wait_until, HmcSpec, LOGON};
use hmcsim::HmcSimConfig;
use hostagent::hmc::keyring::Keyring;

const FEED: &str = "/rest/api/uom/ManagedSystem";

/// The keys this agent (by its socket) holds for HMC `name` in root's persistent keyring.
fn keys_of(socket: &Path, name: &str) -> Vec<String> {
    let prefix = hostagent::hmc::kept::prefix(socket);
    let ring = Keyring::open().expect("this kernel has keyrings");
    ring.list(&format!("{prefix}{name}:"))
}

fn logons(sim: &hmcsim::HmcSimHandle) -> usize {
    sim.log()
        .iter()
        .filter(|e| e.path == LOGON && e.method == "PUT")
        .count()
}

fn logoffs(sim: &hmcsim::HmcSimHandle) -> usize {
    sim.log()
        .iter()
        .filter(|e| e.path == LOGON && e.method == "DELETE")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_adds_a_table_then_removes_it_and_the_other_hmc_keeps_its_session() {
    let stays = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let gone = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let stays_spec = HmcSpec::of("stays", &stays, true);
    let stays_base = format!("https://{}", stays_spec.listen.unwrap());
    let d = start(&[stays_spec], "");
    let gone_spec = HmcSpec::of("gone", &gone, true);
    let gone_listen = gone_spec.listen.unwrap();
    tokio::task::block_in_place(|| {
        d.wait_logged_on("stays");
        // Added in a drop-in: it logs on and serves, on the socket and on its listener.
        d.write_dropin("50-gone.toml", &d.table(&gone_spec));
        d.reload(1);
        d.wait_logged_on("gone");
    });
    let (code, _, body) = d.request("GET", &format!("/hmc/gone{FEED}"), &[], "");
    assert_eq!(code, 200, "{body}");
    let c = client();
    let feed = c
        .get(format!("https://{gone_listen}{FEED}"))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    assert_eq!(agent_sessions(&gone), 1);
    assert_eq!(keys_of(&d.socket, "gone").len(), 1, "its token is kept");

    // Removed: logged off the HMC, its key dropped, its listener closed, its paths 404.
    stays.clear_log();
    d.remove_dropin("50-gone.toml");
    tokio::task::block_in_place(|| d.reload(2));
    assert_eq!(logoffs(&gone), 1, "DELETE Logon: {:?}", gone.log());
    assert!(gone.sessions().is_empty(), "{:?}", gone.sessions());
    assert!(keys_of(&d.socket, "gone").is_empty(), "key dropped");
    let refused = std::net::TcpStream::connect_timeout(&gone_listen, Duration::from_secs(5));
    assert!(refused.is_err(), "the removed HMC's listener still accepts");
    let (code, _, body) = d.request("GET", &format!("/hmc/gone{FEED}"), &[], "");
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("configured: stays"), "{body}");
    let status = d.status();
    let names: Vec<_> = status["hmc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].clone())
        .collect();
    assert_eq!(names, vec!["stays"], "{status}");

    // The other HMC never stopped: same session, no logon, both ways in still serve.
    let (code, _, _) = d.request("GET", &format!("/hmc/stays{FEED}"), &[], "");
    assert_eq!(code, 200);
    let feed = c.get(format!("{stays_base}{FEED}")).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    assert_eq!(logons(&stays), 0, "no new logon: {:?}", stays.log());
    assert_eq!(stays.issued_tokens().len(), 1);
    assert_eq!(agent_sessions(&stays), 1);
    assert!(
        !d.log().contains("restart for the rest"),
        "only [[hmc]] changed"
    );
    drop(d);
    stays.shutdown().await;
    gone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_that_does_not_load_on_sighup_changes_nothing() {
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let other = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let d = start(&[HmcSpec::of("lab", &sim, false)], "");
    let other_spec = HmcSpec::of("other", &other, false);
    tokio::task::block_in_place(|| {
        d.wait_logged_on("lab");
        d.write_dropin("50-other.toml", &d.table(&other_spec));
        d.reload(1);
        d.wait_logged_on("other");
        // The drop-in that would remove "other" also breaks the config.
        d.write_dropin("50-other.toml", "[[hmc]]\nname = \"Bad Name\"\n");
        d.reload(2);
    });
    let log = d.log();
    assert!(
        log.contains("reload: the configuration does not load; nothing changed"),
        "{log}"
    );
    assert!(
        log.contains("50-other.toml"),
        "the error names the file: {log}"
    );
    for (name, s) in [("lab", &sim), ("other", &other)] {
        let (code, _, body) = d.request("GET", &format!("/hmc/{name}{FEED}"), &[], "");
        assert_eq!(code, 200, "{name}: {body}");
        assert_eq!(logoffs(s), 0, "{name} was not logged off");
        assert_eq!(s.issued_tokens().len(), 1, "{name}: no new logon");
    }
    // A settings change outside [[hmc]] is said to need a restart, and the tables still apply.
    d.write_dropin("50-other.toml", "[reaper]\ninterval = \"7m\"\n");
    tokio::task::block_in_place(|| d.reload(3));
    let log = d.log();
    assert!(
        log.contains("only [[hmc]] tables are reloaded; restart for the rest"),
        "{log}"
    );
    assert_eq!(logoffs(&other), 1, "the table is gone with that drop-in");
    assert!(other.sessions().is_empty());
    drop(d);
    sim.shutdown().await;
    other.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_table_is_logged_off_then_on_again_with_its_new_settings() {
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let keep = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let d = start(&[HmcSpec::of("keep", &keep, false)], "");
    let spec = HmcSpec::of("lab", &sim, false);
    tokio::task::block_in_place(|| {
        d.wait_logged_on("keep");
        d.write_dropin("50-lab.toml", &d.table(&spec));
        d.reload(1);
        d.wait_logged_on("lab");
        let changed = format!("{}audit_memento = \"v2\"\n", d.table(&spec));
        d.write_dropin("50-lab.toml", &changed);
        d.reload(2);
        d.wait_logged_on("lab");
    });
    assert_eq!(
        logoffs(&sim),
        1,
        "the old session logged off: {:?}",
        sim.log()
    );
    let mementos: Vec<_> = sim
        .sessions()
        .into_iter()
        .map(|s| s.audit_memento)
        .collect();
    assert_eq!(
        mementos,
        vec![Some("v2".to_string())],
        "one session, the new table's"
    );
    assert_eq!(keys_of(&d.socket, "lab").len(), 1, "one key");
    assert_eq!(
        keep.issued_tokens().len(),
        1,
        "the unchanged table kept its session"
    );
    drop(d);
    sim.shutdown().await;
    keep.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_removed_while_the_agent_was_down_is_logged_off_at_the_next_start() {
    let keep = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let drop_sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let mut d = start(&[HmcSpec::of("keep", &keep, false)], "");
    let spec = HmcSpec::of("dropped", &drop_sim, false);
    tokio::task::block_in_place(|| {
        d.wait_logged_on("keep");
        d.write_dropin("50-dropped.toml", &d.table(&spec));
        d.reload(1);
        d.wait_logged_on("dropped");
        d.kill9();
        d.remove_dropin("50-dropped.toml");
        d.restart();
        d.wait_logged_on("keep");
        wait_until("the orphan's logoff", Duration::from_secs(20), || {
            drop_sim.sessions().is_empty()
        });
        wait_until("its key's removal", Duration::from_secs(20), || {
            keys_of(&d.socket, "dropped").is_empty()
        });
    });
    assert_eq!(logoffs(&drop_sim), 1, "{:?}", drop_sim.log());
    assert!(
        d.log()
            .contains("logged off the session a previous run of the agent left"),
        "{}",
        d.log()
    );
    assert_eq!(
        keep.issued_tokens().len(),
        1,
        "the kept HMC's session reused"
    );
    assert_eq!(agent_sessions(&keep), 1);
    drop(d);
    keep.shutdown().await;
    drop_sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_orphan_whose_hmc_is_unreachable_keeps_its_key_and_no_other_server_gets_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let at = |listen| HmcSimConfig {
        listen: vec![listen],
        ..HmcSimConfig::default()
    };
    let first = hmcsim::start(at(port)).await.unwrap();
    let keep = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let mut d = start(&[HmcSpec::of("keep", &keep, false)], "");
    let spec = HmcSpec::of("away", &first, false);
    tokio::task::block_in_place(|| {
        d.write_dropin("50-away.toml", &d.table(&spec));
        d.reload(1);
        d.wait_logged_on("away");
        d.kill9();
    });
    first.shutdown().await;
    d.remove_dropin("50-away.toml");
    // Nothing answers there: the key stays, and the log says the next start tries again.
    tokio::task::block_in_place(|| {
        d.restart();
        wait_until("the failed logoff's log", Duration::from_secs(30), || {
            d.log()
                .contains("its key stays in the kernel keyring and the next start tries again")
        });
    });
    assert_eq!(keys_of(&d.socket, "away").len(), 1);
    // Another server at that address (another certificate) gets no logoff and no token.
    let impostor = hmcsim::start(at(port)).await.unwrap();
    tokio::task::block_in_place(|| {
        d.kill9();
        d.restart();
        wait_until("the second failed logoff", Duration::from_secs(30), || {
            d.log().matches("the next start tries again").count() >= 2
        });
    });
    assert_eq!(logoffs(&impostor), 0, "{:?}", impostor.log());
    assert!(d.log().contains("certificate"), "{}", d.log());
    assert_eq!(
        keys_of(&d.socket, "away").len(),
        1,
        "kept for a later start"
    );
    let ring = Keyring::open().unwrap();
    for key in keys_of(&d.socket, "away") {
        ring.remove(&key);
    }
    drop(d);
    impostor.shutdown().await;
    keep.shutdown().await;
}
