//! The Ansible collection `hostagent.bmc` (`packaging/ansible/ansible_collections/hostagent/bmc`)
//! run by a real ansible-core (PyPI, in `.venv-ansible`, made by `.ci/run`) against a live
//! hostagentd on bmcsim: check mode reports the change and deletes nothing, a kind filter that
//! selects nothing changes nothing, the first run cleans, the second reports no change, a
//! person's Web UI sessions stay, the info module sets the status as the fact `hostagent`, and
//! a socket with no daemon behind it (or a bad `idle`) fails the task with a message naming why.
//! What is on the BMC is read from the simulator's own table (the ground truth of
//! `GET /_sim/sessions`), not from the agent.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bmcsim::{Kind as SimKind, Profile, SimHandle};
use common::daemon::started;
use serde_json::{json, Value};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv_bin(bin: &str) -> PathBuf {
    std::env::var("HOSTAGENT_ANSIBLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv-ansible"))
        .join("bin")
        .join(bin)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An ansible command isolated from the machine's Ansible setup: its own home and temp dirs, no
/// ansible.cfg, and only this repository's collections.
fn ansible(bin: &str, home: &Path) -> Command {
    let mut cmd = Command::new(venv_bin(bin));
    cmd.current_dir(home)
        .env("HOME", home)
        .env("ANSIBLE_HOME", home.join(".ansible"))
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("ANSIBLE_CONFIG", home.join("no-ansible.cfg"))
        .env("ANSIBLE_COLLECTIONS_PATH", repo().join("packaging/ansible"))
        .env("ANSIBLE_COLLECTIONS_SCAN_SYS_PATH", "false")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
        // ansible-core refuses to start without a UTF-8 locale.
        .env("LC_ALL", "C.UTF-8");
    cmd
}

struct Run {
    out: Output,
    /// `{"clean": <sessions result>, "facts": <the hostagent fact>}`, when the play got that far.
    result: Value,
}

impl Run {
    /// The PLAY RECAP's counter for localhost (`ok`, `changed`, `failed`).
    fn recap(&self, counter: &str) -> u32 {
        let out = String::from_utf8_lossy(&self.out.stdout);
        let line = out
            .lines()
            .find(|l| l.starts_with("localhost") && l.contains("ok="))
            .unwrap_or_else(|| panic!("no PLAY RECAP in {}", text(&self.out)));
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{counter}=")))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {counter}= in {line}"))
    }
}

fn playbook(home: &Path, socket: &Path, check: bool, vars: Value) -> Run {
    let result_file = home.join("result.json");
    let _ = std::fs::remove_file(&result_file);
    let mut all = json!({
        "hostagent_socket": socket,
        "hostagent_agentctl": env!("CARGO_BIN_EXE_agentctl"),
        "result_file": result_file,
    });
    all.as_object_mut()
        .unwrap()
        .extend(vars.as_object().unwrap().clone());
    let mut cmd = ansible("ansible-playbook", home);
    cmd.arg("-i").arg("localhost,");
    if check {
        cmd.arg("--check");
    }
    cmd.arg("-e")
        .arg(all.to_string())
        .arg(repo().join("tests/ansible/hostagent.yml"));
    let out = cmd.output().expect("ansible-playbook runs");
    let result = std::fs::read(&result_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    Run { out, result }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn ids(sim: &SimHandle, kind: Option<SimKind>) -> BTreeSet<String> {
    sim.sessions()
        .into_iter()
        .filter(|s| kind.is_none_or(|k| s.kind == k))
        .map(|s| s.id)
        .collect()
}

fn listed(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ansible_doc_reads_both_modules_documentation_and_the_collection_builds() {
    if !common::require(
        venv_bin("ansible-doc").exists(),
        "ansible-core in .venv-ansible (.ci/run makes it)",
    ) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = ansible("ansible-doc", home.path())
        .args(["-t", "module", "--json"])
        .args(["hostagent.bmc.sessions", "hostagent.bmc.info"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let docs: Value = serde_json::from_slice(&out.stdout).expect("ansible-doc's JSON");
    let options = |m: &str| -> BTreeSet<String> {
        docs[m]["doc"]["options"]
            .as_object()
            .unwrap_or_else(|| panic!("{m} has options: {docs}"))
            .keys()
            .cloned()
            .collect()
    };
    let common_options = ["agentctl", "socket", "timeout"];
    let mut sessions: BTreeSet<String> = common_options.iter().map(|s| s.to_string()).collect();
    sessions.extend(["state", "kinds", "idle"].map(String::from));
    assert_eq!(options("hostagent.bmc.sessions"), sessions);
    assert_eq!(
        options("hostagent.bmc.info"),
        common_options.iter().map(|s| s.to_string()).collect()
    );
    for m in ["hostagent.bmc.sessions", "hostagent.bmc.info"] {
        assert!(
            docs[m]["examples"].as_str().is_some_and(|e| e.contains(m)),
            "{m}: {docs}"
        );
        assert!(docs[m]["return"].is_object(), "{m}: {docs}");
    }
    for key in ["changed", "deleted", "kept"] {
        assert!(
            docs["hostagent.bmc.sessions"]["return"][key].is_object(),
            "sessions returns {key}"
        );
    }
    // galaxy.yml is valid: the collection builds, with both modules and their shared code.
    let out = ansible("ansible-galaxy", home.path())
        .args(["collection", "build", "--output-path"])
        .arg(home.path())
        .arg(repo().join("packaging/ansible/ansible_collections/hostagent/bmc"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let tarball = home.path().join("hostagent-bmc-0.1.0.tar.gz");
    let listing = Command::new("tar")
        .arg("tzf")
        .arg(&tarball)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for f in [
        "meta/runtime.yml",
        "plugins/modules/sessions.py",
        "plugins/modules/info.py",
        "plugins/module_utils/agentctl.py",
    ] {
        assert!(listing.lines().any(|l| l == f), "{f} in {listing}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_playbook_previews_cleans_once_then_finds_nothing_and_keeps_peoples_sessions() {
    if !common::require(
        venv_bin("ansible-playbook").exists(),
        "ansible-core in .venv-ansible (.ci/run makes it)",
    ) {
        return;
    }
    let sim = common::sim(Profile::Ilo5).await;
    sim.leak(4, SimKind::RestHost, None);
    sim.leak(2, SimKind::WebUi, Some("alice"));
    sim.advance_clock(20 * 60);
    let daemon = started(
        &sim,
        "[reaper]\ninterval = \"1h\"\n[bmc]\nsession_limit = 16\n",
    )
    .await;
    let socket = daemon.socket.clone();
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let stale = ids(&sim, Some(SimKind::RestHost));
    let alices = ids(&sim, Some(SimKind::WebUi));
    assert_eq!((stale.len(), alices.len()), (4, 2));

    // Check mode: the change is reported, what would go is listed, nothing goes.
    let before = ids(&sim, None);
    let (hh, s) = (h.clone(), socket.clone());
    let preview = blocking(move || playbook(&hh, &s, true, json!({}))).await;
    assert!(preview.out.status.success(), "{}", text(&preview.out));
    assert_eq!(preview.recap("changed"), 1, "{}", text(&preview.out));
    assert_eq!(preview.result["clean"]["changed"], true);
    assert_eq!(listed(&preview.result["clean"]["deleted"]), stale);
    assert_eq!(ids(&sim, None), before, "check mode deleted nothing");
    // The info module's facts, in check mode too.
    let facts = &preview.result["facts"];
    assert_eq!(facts["endpoint"], sim.base_url(), "{facts}");
    assert_eq!(facts["transport"], "https");
    assert_eq!(facts["limit"], 16);
    assert_eq!(facts["sessions"]["by_kind"]["rest-host"], 4, "{facts}");
    assert_eq!(facts["sessions"]["by_kind"]["web-ui"], 2, "{facts}");
    assert_eq!(facts["sessions"]["total"], before.len(), "{facts}");

    // A filter that selects none of them: no change.
    let (hh, s) = (h.clone(), socket.clone());
    let filtered = blocking(move || {
        playbook(
            &hh,
            &s,
            false,
            json!({ "hostagent_kinds": ["host-application"] }),
        )
    })
    .await;
    assert!(filtered.out.status.success(), "{}", text(&filtered.out));
    assert_eq!(filtered.recap("changed"), 0, "{}", text(&filtered.out));
    assert_eq!(ids(&sim, None), before);

    // The first run cleans exactly the stale ones; alice's stay, and are reported kept.
    let (hh, s) = (h.clone(), socket.clone());
    let first = blocking(move || playbook(&hh, &s, false, json!({}))).await;
    assert!(first.out.status.success(), "{}", text(&first.out));
    assert_eq!(first.recap("changed"), 1, "{}", text(&first.out));
    assert_eq!(listed(&first.result["clean"]["deleted"]), stale);
    assert!(
        ids(&sim, Some(SimKind::RestHost)).is_empty(),
        "{:?}",
        sim.sessions()
    );
    assert_eq!(
        ids(&sim, Some(SimKind::WebUi)),
        alices,
        "people's sessions stay"
    );
    assert!(
        alices.is_subset(&listed(&first.result["clean"]["kept"])),
        "{}",
        first.result
    );
    assert_eq!(
        first.result["facts"]["sessions"]["total"], 3,
        "{}",
        first.result
    );

    // The second finds nothing to do.
    let (hh, s) = (h.clone(), socket.clone());
    let second = blocking(move || playbook(&hh, &s, false, json!({}))).await;
    assert!(second.out.status.success(), "{}", text(&second.out));
    assert_eq!(second.recap("changed"), 0, "{}", text(&second.out));
    assert_eq!(second.result["clean"]["changed"], false);
    assert_eq!(second.result["clean"]["deleted"], json!([]));

    // Bad input and a daemon that is not there fail the task, saying why.
    let (hh, s) = (h.clone(), socket.clone());
    let bad = blocking(move || playbook(&hh, &s, false, json!({ "hostagent_idle": -1 }))).await;
    assert_eq!(bad.out.status.code(), Some(2), "{}", text(&bad.out));
    assert_eq!(bad.recap("failed"), 1);
    assert!(
        text(&bad.out).contains("idle must be a number of minutes >= 0, got -1"),
        "{}",
        text(&bad.out)
    );
    let (hh, nothing) = (h.clone(), h.join("no.sock"));
    let down = blocking(move || playbook(&hh, &nothing, false, json!({}))).await;
    assert_eq!(down.out.status.code(), Some(2), "{}", text(&down.out));
    assert_eq!(down.recap("failed"), 1);
    assert!(
        text(&down.out).contains("agentctl clean failed (exit 3): hostagentd is not answering"),
        "agentctl's message: {}",
        text(&down.out)
    );
    assert_eq!(ids(&sim, Some(SimKind::WebUi)), alices);
    drop(daemon);
    sim.shutdown().await;
}
