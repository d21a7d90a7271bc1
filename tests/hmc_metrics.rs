//! The HMCs in the metrics: `hostagent_hmc_*{hmc}`, the BMC's names with `hmc` in them and an
//! `hmc` label, recorded from the agent's own traffic (no request of their own).

mod common;

use common::hmc::{logon_body, start, HmcSpec};
use hmcsim::HmcSimConfig;

const FEED: &str = "/rest/api/uom/ManagedSystem";

/// The value of the exposition's line that starts with `series` (its name and labels).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_hmc_has_its_own_series_of_the_bmcs_metrics() {
    let sim = hmcsim::start(HmcSimConfig::default()).await.unwrap();
    let d = start(&[HmcSpec::of("lab", &sim, false)], "");
    tokio::task::block_in_place(|| d.wait_logged_on("lab"));
    let metrics = || {
        let (code, _, body) = d.request("GET", "/metrics", &[], "");
        assert_eq!(code, 200, "{body}");
        body
    };
    let m = tokio::task::block_in_place(metrics);
    assert_eq!(value(&m, "hostagent_hmc_up{hmc=\"lab\"}"), Some(1.0), "{m}");
    let logons = "hostagent_hmc_requests_total{hmc=\"lab\",method=\"PUT\",code=\"200\"}";
    assert_eq!(value(&m, logons), Some(1.0), "{m}");
    assert_eq!(
        value(&m, "hostagent_hmc_relogins_total{hmc=\"lab\"}"),
        Some(0.0)
    );
    let virtual_sessions = "hostagent_hmc_virtual_sessions{hmc=\"lab\"}";
    assert_eq!(value(&m, virtual_sessions), Some(0.0), "{m}");

    // A client logs on (a virtual session), then the HMC forgets the agent's session.
    let logon = format!("/hmc/lab{}", hmcsim::LOGON_PATH);
    let headers = [(
        "Content-Type",
        "application/vnd.ibm.powervm.web+xml; type=LogonRequest",
    )];
    let body = logon_body("hscroot", "anything");
    let (code, _, answer) =
        tokio::task::block_in_place(|| d.request("PUT", &logon, &headers, &body));
    assert_eq!(code, 200, "{answer}");
    assert_eq!(sim.drop_sessions(), 1);
    let (code, _, _) =
        tokio::task::block_in_place(|| d.request("GET", &format!("/hmc/lab{FEED}"), &[], ""));
    assert_eq!(code, 200);

    let m = tokio::task::block_in_place(metrics);
    assert_eq!(value(&m, virtual_sessions), Some(1.0), "{m}");
    assert_eq!(
        value(&m, "hostagent_hmc_relogins_total{hmc=\"lab\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(value(&m, logons), Some(2.0), "the logon again: {m}");
    assert!(
        value(
            &m,
            "hostagent_hmc_requests_total{hmc=\"lab\",method=\"GET\",code=\"401\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "the 401 that told the agent: {m}"
    );
    drop(d);
    sim.shutdown().await;
}
