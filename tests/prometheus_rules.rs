//! The alert rules shipped in `packaging/prometheus/hostagent.rules.yml`: Prometheus's own
//! `promtool` (Debian package `prometheus`) accepts them, and their unit tests
//! (`hostagent.rules.test.yml`: series that fire each alert and series that must not) pass. Each
//! alert's test has teeth: a rule file with that alert's threshold or duration changed fails it.
//! The packages install both files as examples (packaging/layout).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/prometheus")
}

fn have_promtool() -> bool {
    Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn promtool(args: &[&str], cwd: &Path) -> Output {
    Command::new("promtool")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("promtool runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn promtool_accepts_the_rules_and_their_unit_tests_pass() {
    if !common::require(
        have_promtool(),
        "promtool (Debian package prometheus; .ci/run installs it)",
    ) {
        return;
    }
    let check = promtool(&["check", "rules", "hostagent.rules.yml"], &dir());
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("SUCCESS: 4 rules found"),
        "{}",
        text(&check)
    );
    let test = promtool(&["test", "rules", "hostagent.rules.test.yml"], &dir());
    assert!(test.status.success(), "{}", text(&test));
}

#[test]
fn each_alerts_unit_test_fails_when_its_rule_is_changed() {
    if !common::require(
        have_promtool(),
        "promtool (Debian package prometheus; .ci/run installs it)",
    ) {
        return;
    }
    let rules = std::fs::read_to_string(dir().join("hostagent.rules.yml")).unwrap();
    // One change per alert, each a plausible mistake the tests must catch.
    let mutations = [
        ("HostagentBmcSessionTableNearlyFull", ">= 0.8", ">= 0.9"),
        (
            "HostagentBmcSessionTableNearlyFull",
            "(hostagent_bmc_session_limit > 0)",
            "hostagent_bmc_session_limit",
        ),
        ("HostagentBmcUnreachable", "for: 5m", "for: 1m"),
        (
            "HostagentSessionDeleteFailures",
            "increase(hostagent_session_delete_failures_total[30m]) > 0",
            "hostagent_session_delete_failures_total > 0",
        ),
        (
            "HostagentReaperStalled",
            "> 3 * hostagent_reaper_interval_seconds",
            "> 2 * hostagent_reaper_interval_seconds",
        ),
    ];
    for (alert, from, to) in mutations {
        assert_eq!(
            rules.matches(from).count(),
            1,
            "`{from}` is in the rules once"
        );
        let scratch = tempfile::tempdir().unwrap();
        std::fs::write(
            scratch.path().join("hostagent.rules.yml"),
            rules.replace(from, to),
        )
        .unwrap();
        std::fs::copy(
            dir().join("hostagent.rules.test.yml"),
            scratch.path().join("hostagent.rules.test.yml"),
        )
        .unwrap();
        let out = promtool(
            &["test", "rules", "hostagent.rules.test.yml"],
            scratch.path(),
        );
        assert!(
            !out.status.success() && text(&out).contains(alert),
            "{alert} with `{to}` instead of `{from}` should fail its test: {}",
            text(&out)
        );
    }
}
