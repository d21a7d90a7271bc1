use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use super::*;

/// Runs `f` with a subscriber that collects every log line.
fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    (out, text)
}

const AGENT: &str = "/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/";
const LEASE: &str = "/redfish/v1/SessionService/Sessions/admin0000000063bc4f88a1b2c3d4/";

#[test]
fn what_one_run_records_the_next_run_reads_as_earlier() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.json");
    let ledger = Ledger::open(&path);
    assert!(
        ledger.entries().is_empty() && !path.exists(),
        "nothing is written before a session exists"
    );
    ledger.record(AGENT, "agent", Some("admin"));
    ledger.record(LEASE, "lease:0a1b2c3d4e5f", Some("admin"));
    assert!(
        ledger.earlier().is_empty(),
        "this run's sessions are not orphans"
    );
    let next = Ledger::open(&path);
    let earlier = next.earlier();
    assert_eq!(earlier.len(), 2);
    assert_eq!(
        (
            earlier[0].uri.as_str(),
            earlier[0].owner.as_str(),
            earlier[0].user.as_deref()
        ),
        (AGENT, "agent", Some("admin"))
    );
    assert_eq!(earlier[1].owner, "lease:0a1b2c3d4e5f");
    next.forget(AGENT);
    // A decoded URI names the same session.
    next.forget(&LEASE.replace("/admin", "/%61dmin"));
    assert!(Ledger::open(&path).entries().is_empty());
}

#[test]
fn the_file_is_written_atomically_with_mode_0600_and_holds_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/ledger.json");
    let ledger = Ledger::open(&path);
    ledger.record(AGENT, "agent", Some("admin"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700, "a missing state dir is made private");
    // A temp file left by a crash, readable by all, does not make the next write readable.
    let tmp = path.with_file_name(".ledger.json.tmp");
    std::fs::write(&tmp, "junk").unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
    ledger.record(LEASE, "lease:0a1b2c3d4e5f", Some("admin"));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!tmp.exists(), "the temp file was renamed into place");
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    let keys: Vec<&String> = v["sessions"][0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["created", "owner", "uri", "user"],
        "URIs and owners, never a token"
    );
}

#[test]
fn a_truncated_or_garbage_ledger_is_moved_aside_and_reported() {
    for content in ["{\"version\":1,\"sessions\":[{\"uri\":\"/redfish/v1/Sess", "\u{0}\u{1}garbage", "", "{\"version\":7,\"sessions\":[]}", "{\"version\":1,\"sessions\":[{\"uri\":\"/redfish/v1/AccountService/Accounts/1\",\"owner\":\"agent\",\"user\":null,\"created\":\"2026-01-01T00:00:00Z\"}]}"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.json");
        std::fs::write(&path, content).unwrap();
        let (ledger, log) = logged(|| Ledger::open(&path));
        assert!(ledger.entries().is_empty(), "{content:?}: nothing of it is trusted");
        assert!(!path.exists(), "{content:?}: moved away");
        let aside: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert!(aside[0].starts_with("ledger.json.bad-"), "{aside:?}");
        assert_eq!(std::fs::read_to_string(dir.path().join(&aside[0])).unwrap(), content, "kept as it was, for a look");
        assert!(log.contains("ERROR") && log.contains(&path.display().to_string()) && log.contains(&aside[0]), "{log}");
        assert!(log.contains(crate::events::LEDGER_UNREADABLE), "{log}");
        // The agent goes on: the next session is recorded in a fresh file.
        ledger.record(AGENT, "agent", None);
        assert_eq!(Ledger::open(&path).earlier().len(), 1);
    }
}

#[test]
fn a_second_bad_file_in_the_same_second_does_not_overwrite_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.json");
    for garbage in ["one", "two"] {
        std::fs::write(&path, garbage).unwrap();
        let _ = logged(|| Ledger::open(&path));
    }
    let mut kept: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    kept.sort();
    assert_eq!(kept, ["one", "two"]);
}

#[test]
fn an_abandoned_session_of_this_run_is_handed_to_the_reaper() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(&dir.path().join("ledger.json"));
    ledger.record(AGENT, "agent", Some("admin"));
    ledger.record(LEASE, "lease:0a1b2c3d4e5f", Some("admin"));
    ledger.abandon(LEASE);
    let earlier = ledger.earlier();
    assert_eq!(earlier.len(), 1);
    assert_eq!(earlier[0].uri, LEASE);
}

#[test]
fn the_bmc_s_login_time_and_the_listed_kind_are_kept_for_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.json");
    let ledger = Ledger::open(&path);
    let at = time::macros::datetime!(2026-11-30 09:00:07 UTC);
    ledger.record_created(AGENT, "agent", Some("admin"), Some(at));
    ledger.record(LEASE, "lease:0a1b2c3d4e5f", Some("admin"));
    let listed = |uri: &str, kind: Kind| {
        let mut s = SessionInfo::unknown(uri);
        s.kind = kind;
        s
    };
    ledger.note_kinds(&[listed(AGENT, Kind::Rest), listed(LEASE, Kind::WebUi)]);
    // A later listing does not change a noted kind.
    ledger.note_kinds(&[listed(AGENT, Kind::HostApplication)]);
    let earlier = Ledger::open(&path).earlier();
    assert_eq!(earlier[0].bmc_created, Some(at));
    assert_eq!(earlier[0].kind, Some(Kind::Rest));
    assert_eq!(earlier[1].bmc_created, None);
    assert_eq!(earlier[1].kind, None, "the agent makes no person's session");
    // A ledger written before these fields existed still reads.
    std::fs::write(&path, r#"{"version":1,"sessions":[{"uri":"/redfish/v1/SessionService/Sessions/2","owner":"agent","user":"admin","created":"2026-11-30T08:00:00Z"}]}"#).unwrap();
    let old = Ledger::open(&path).earlier();
    assert_eq!(
        (old.len(), old[0].kind, old[0].bmc_created),
        (1, None, None)
    );
}
