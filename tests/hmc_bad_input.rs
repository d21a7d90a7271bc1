//! An HMC that answers what no REST API should — an HTML page, Atom that is not XML, a
//! `LogonResponse` without a token, a 2 GiB answer — is a clear error naming the HMC and what
//! was wrong, and the daemon keeps serving its other HMCs.

mod common;

use common::hmc::{agent_sessions, start, HmcDaemon, HmcSpec};
use hmcsim::{FaultTarget, Faults, HmcSimConfig, HmcSimHandle};

const FEED: &str = "/rest/api/uom/ManagedSystem";

async fn sim_with(faults: Faults) -> HmcSimHandle {
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    sim.set_faults(faults);
    sim
}

fn good_still_serves(d: &HmcDaemon) {
    let (code, _, body) = d.request("GET", &format!("/hmc/good{FEED}"), &[], "");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("<feed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_logon_answers_name_the_hmc_and_what_was_wrong() {
    let good = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let logon = |f: Faults| Faults {
        target: FaultTarget::Logon,
        ..f
    };
    let html = sim_with(logon(Faults {
        html_next: 1,
        ..Faults::default()
    }))
    .await;
    let broken = sim_with(logon(Faults {
        non_xml_next: 1,
        ..Faults::default()
    }))
    .await;
    let tokenless = sim_with(Faults {
        logon_without_token_next: 1,
        ..Faults::default()
    })
    .await;
    let d = start(
        &[
            HmcSpec::of("good", &good, false),
            HmcSpec::of("html", &html, false),
            HmcSpec::of("broken", &broken, false),
            HmcSpec::of("tokenless", &tokenless, false),
        ],
        "",
    );
    tokio::task::block_in_place(|| {
        d.wait_logged_on("good");
        for (name, want) in [
            ("html", "text/html"),
            ("broken", "malformed XML"),
            ("tokenless", "holds no X-API-Session"),
        ] {
            let e = d.wait_hmc(name, |h| h["last_error"].is_string());
            let err = e["last_error"].as_str().unwrap();
            assert!(
                err.contains(&format!("HMC {name}"))
                    && err.contains("LogonResponse")
                    && err.contains(want),
                "{name}: {err}"
            );
            assert_eq!(e["logged_on"], false);
            let (code, _, body) = d.request("GET", &format!("/hmc/{name}{FEED}"), &[], "");
            assert_eq!(code, 503, "{name}: {body}");
            assert!(
                body.contains("<HttpErrorResponse") && body.contains(&format!("HMC {name}")),
                "{body}"
            );
            good_still_serves(&d);
        }
    });
    assert_eq!(agent_sessions(&good), 1);
    assert!(tokenless.sessions().is_empty() && html.sessions().is_empty());
    drop(d);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_answers_to_reads_are_502s_naming_the_hmc_and_the_daemon_goes_on() {
    let good = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let bad = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let d = start(
        &[
            HmcSpec::of("good", &good, false),
            HmcSpec::of("bad", &bad, false),
        ],
        "",
    );
    tokio::task::block_in_place(|| {
        d.wait_logged_on("good");
        d.wait_logged_on("bad");
        for (faults, want) in [
            (
                Faults {
                    html_next: 1,
                    ..Faults::default()
                },
                "HTML page",
            ),
            (
                Faults {
                    non_xml_next: 1,
                    ..Faults::default()
                },
                "not well-formed XML",
            ),
            (
                Faults {
                    huge_next: 1,
                    ..Faults::default()
                },
                "larger than 67108864 bytes",
            ),
            (
                Faults {
                    huge_next: 1,
                    huge_declare_length: true,
                    ..Faults::default()
                },
                "larger than 67108864 bytes",
            ),
        ] {
            bad.set_faults(Faults {
                target: FaultTarget::Other,
                ..faults
            });
            let (code, _, body) = d.request("GET", &format!("/hmc/bad{FEED}"), &[], "");
            assert_eq!(code, 502, "{want}: {body}");
            assert!(body.contains("<HttpErrorResponse"), "HMC-shaped: {body}");
            assert!(
                body.contains("HMC bad") && body.contains(want),
                "{want}: {body}"
            );
            good_still_serves(&d);
            let (code, _, _) = d.request("GET", &format!("/hmc/bad{FEED}"), &[], "");
            assert_eq!(code, 200, "{want}: the next read is fine again");
        }
        let rss = std::fs::read_to_string(format!("/proc/{}/status", d.child.id())).unwrap();
        let kb: u64 = rss
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(
            kb < 400 * 1024,
            "the 2 GiB answers were never held: peak RSS {kb} kB"
        );
    });
    assert_eq!(agent_sessions(&good) + agent_sessions(&bad), 2);
    drop(d);
}
