use super::*;

#[test]
fn the_exposition_has_the_documented_names_and_no_session_or_user_label() {
    let m = Metrics::new();
    m.started(std::time::Duration::from_secs(60));
    m.bmc.set_up(BMC, true);
    m.bmc.set_limit(BMC, Some(16));
    m.bmc.set_sessions(
        BMC,
        &[
            ("rest-host".into(), "foreign", 3),
            ("web-ui".into(), "foreign", 1),
        ],
    );
    m.bmc.request(BMC, "GET", "200", 0.02);
    m.bmc.relogin(BMC);
    m.bmc.table_full(BMC);
    m.bmc.deleted(BMC, "rest-host");
    m.bmc.delete_failures(BMC, 2);
    m.reaper_ran();
    m.proxied("unix", 200, 0.001);
    m.virtual_sessions.set(2);
    m.leases.set(1);
    let text = m.encode();
    for line in [
        "hostagent_bmc_up 1",
        "hostagent_bmc_session_limit 16",
        "hostagent_bmc_sessions{kind=\"rest-host\",owner=\"foreign\"} 3",
        "hostagent_bmc_sessions{kind=\"web-ui\",owner=\"foreign\"} 1",
        "hostagent_bmc_requests_total{method=\"GET\",code=\"200\"} 1",
        "hostagent_bmc_request_duration_seconds_count 1",
        "hostagent_bmc_relogins_total 1",
        "hostagent_table_full_total 1",
        "hostagent_sessions_deleted_total{kind=\"rest-host\"} 1",
        "hostagent_session_delete_failures_total 2",
        "hostagent_reaper_runs_total 1",
        "hostagent_reaper_interval_seconds 60.0",
        "hostagent_proxy_requests_total{listener=\"unix\",code=\"200\"} 1",
        "hostagent_proxy_request_duration_seconds_count 1",
        "hostagent_virtual_sessions 2",
        "hostagent_leases 1",
        "hostagent_build_info{version=\"",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "no `{line}` in\n{text}"
        );
    }
    assert!(text.contains("hostagent_reaper_last_run_timestamp_seconds "));
}

#[test]
fn a_kind_gone_from_the_table_goes_from_the_metrics() {
    let m = Metrics::new();
    m.bmc.set_sessions(
        BMC,
        &[
            ("rest-host".into(), "foreign", 3),
            ("rest".into(), "agent", 1),
        ],
    );
    m.bmc.set_sessions(BMC, &[("rest".into(), "agent", 1)]);
    let text = m.encode();
    assert!(!text.contains("kind=\"rest-host\""), "{text}");
    assert!(
        text.contains("hostagent_bmc_sessions{kind=\"rest\",owner=\"agent\"} 1"),
        "{text}"
    );
}

#[test]
fn a_fresh_daemon_reports_the_bmc_down_the_limit_unknown_and_its_start_as_the_last_run() {
    let m = Metrics::new();
    let before = unix_now();
    m.started(std::time::Duration::from_secs(60));
    let text = m.encode();
    assert!(text.contains("\nhostagent_bmc_up 0\n"), "{text}");
    assert!(text.contains("\nhostagent_bmc_session_limit 0\n"), "{text}");
    assert!(
        text.contains("\nhostagent_session_delete_failures_total 0\n"),
        "{text}"
    );
    assert!(m.reaper_last_run.get() >= before.floor());
}

#[test]
fn hmc_metrics_are_the_bmcs_with_hmc_in_the_name_and_an_hmc_label() {
    let mut registry = Registry::with_prefix("hostagent");
    let hmc = Controller::register(&mut registry, Names::HMC);
    let on = [("hmc", "hmc1".to_string())];
    hmc.set_up(&on, true);
    hmc.table_full(&on);
    hmc.set_sessions(&on, &[("rest".into(), "foreign", 2)]);
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
    assert!(text.contains("hostagent_hmc_up{hmc=\"hmc1\"} 1"), "{text}");
    assert!(
        text.contains("hostagent_hmc_table_full_total{hmc=\"hmc1\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("hostagent_hmc_sessions{hmc=\"hmc1\",kind=\"rest\",owner=\"foreign\"} 2"),
        "{text}"
    );
}

#[test]
fn proxied_requests_are_counted_per_listener_and_code() {
    let m = Metrics::new();
    for _ in 0..3 {
        m.proxied("unix", 200, 0.001);
    }
    m.proxied("https", 200, 0.001);
    m.proxied("unix", 404, 0.001);
    m.proxied("https", 502, 0.001);
    let text = m.encode();
    for line in [
        "hostagent_proxy_requests_total{listener=\"unix\",code=\"200\"} 3",
        "hostagent_proxy_requests_total{listener=\"https\",code=\"200\"} 1",
        "hostagent_proxy_requests_total{listener=\"unix\",code=\"404\"} 1",
        "hostagent_proxy_requests_total{listener=\"https\",code=\"502\"} 1",
        "hostagent_proxy_request_duration_seconds_count 6",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
}
