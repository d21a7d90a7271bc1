//! hostagentd's journal records, with a datagram socket standing in for
//! /run/systemd/journal/socket (bind-mounted there in a private mount namespace): a "session
//! cleaned" record carries MESSAGE_ID, PRIORITY, the session id and kind; no record, even at
//! trace level, carries the BMC password.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bmcsim::{Kind as SimKind, Profile, SimConfig};

const PASSWORD: &str = "Zq8-journal-canary-pw";

/// Native journal protocol: `KEY=value` lines, or `KEY\n<u64 le length><bytes>\n`.
fn fields(datagram: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
            break;
        };
        let line = &rest[..nl];
        if let Some(eq) = line.iter().position(|b| *b == b'=') {
            out.push((
                String::from_utf8_lossy(&line[..eq]).into_owned(),
                String::from_utf8_lossy(&line[eq + 1..]).into_owned(),
            ));
            rest = &rest[nl + 1..];
        } else {
            let key = String::from_utf8_lossy(line).into_owned();
            let len_bytes: [u8; 8] = rest[nl + 1..nl + 9].try_into().unwrap();
            let len = u64::from_le_bytes(len_bytes) as usize;
            let value = &rest[nl + 9..nl + 9 + len];
            out.push((key, String::from_utf8_lossy(value).into_owned()));
            rest = &rest[(nl + 9 + len + 1).min(rest.len())..];
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn session_cleaned_records_carry_their_fields_and_no_record_carries_a_secret() {
    if !common::require(common::is_root(), "root, for a private mount namespace") {
        return;
    }
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo5,
        password: PASSWORD.into(),
        ..SimConfig::default()
    })
    .await;
    sim.leak(3, SimKind::RestHost, None);
    sim.advance_clock(20 * 60);
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = dir.path().join("journal");
    std::fs::create_dir(&journal_dir).unwrap();
    let journal = UnixDatagram::bind(journal_dir.join("socket")).unwrap();
    journal
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    for (name, value) in [("bmc-username", "admin"), ("bmc-password", PASSWORD)] {
        std::fs::write(creds.join(name), value).unwrap();
        std::fs::set_permissions(creds.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let config = dir.path().join("hostagent.toml");
    std::fs::write(&config, format!(
        "[bmc]\nendpoint = \"{}\"\ntls = \"pin\"\nfingerprint = \"{}\"\ncredentials_dir = \"{}\"\n[api]\nsocket = \"{}/agent.sock\"\nreader_group = \"root\"\n[reaper]\ninterval = \"1s\"\n[state]\nmemory_only = true\n",
        sim.base_url(), sim.cert_sha256(), creds.display(), dir.path().display()
    )).unwrap();
    let script = format!(
        "mount --make-rprivate / && mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && mount --bind {} /run/systemd/journal && \
         export JOURNAL_STREAM=$(stat -L -c '%d:%i' /proc/self/fd/2) && exec {} --config {}",
        journal_dir.display(), env!("CARGO_BIN_EXE_hostagentd"), config.display()
    );
    let child = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("HOSTAGENT_LOG", "trace")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let records = tokio::task::spawn_blocking(move || {
        let (mut records, mut buf) = (Vec::new(), vec![0u8; 1 << 16]);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(n) = journal.recv(&mut buf) {
                records.push(buf[..n].to_vec());
            }
            let cleaned = records
                .iter()
                .filter(|r| {
                    fields(r)
                        .iter()
                        .any(|(k, v)| k == "MESSAGE" && v == "session cleaned")
                })
                .count();
            if cleaned >= 3 {
                break;
            }
        }
        records
    })
    .await
    .unwrap();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(PASSWORD), "the password reached stderr");
    assert!(
        !records.is_empty(),
        "no journal record at all; stderr: {stderr}"
    );
    for r in &records {
        assert!(
            !String::from_utf8_lossy(r).contains(PASSWORD),
            "a journal record carries the password"
        );
    }
    let cleaned: Vec<Vec<(String, String)>> = records
        .iter()
        .map(|r| fields(r))
        .filter(|f| {
            f.iter()
                .any(|(k, v)| k == "MESSAGE" && v == "session cleaned")
        })
        .collect();
    assert_eq!(cleaned.len(), 3, "one record per cleaned session");
    let ids: Vec<String> = sim.sessions().iter().map(|s| s.id.clone()).collect();
    for f in &cleaned {
        let get = |key: &str| {
            f.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {key} in {f:?}"))
        };
        assert_eq!(get("MESSAGE_ID"), hostagent::events::SESSION_CLEANED);
        // tracing-journald maps INFO to notice (5).
        assert_eq!(get("PRIORITY"), "5");
        assert_eq!(get("KIND"), "rest-host");
        assert!(get("SESSION_ID").starts_with("system administrator"));
        assert!(
            !ids.contains(&get("SESSION_ID")),
            "the logged session is the one deleted"
        );
    }
    sim.shutdown().await;
}
