//! One frame of `agentctl top`: what the daemon's `GET /metrics` says (read from its
//! exposition, so that `top` adds no request to the BMC: the counts are those of the last
//! listing), and its drawing as lines of plain ASCII.
//!
//! The exposition is read here rather than with a crate: prometheus-client only writes it, the
//! crates that parse it are little kept, and the lines `top` needs (`name{labels} value`, of
//! hostagentd's own metrics, whose label values never hold a quote) take a few lines to read.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

/// Width of the table-fill bar, in characters.
const BAR: usize = 40;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Frame {
    pub version: Option<String>,
    pub bmc_up: bool,
    /// `None` while the limit is unknown.
    pub limit: Option<u64>,
    /// (kind, owner class) → sessions, at the last listing.
    pub sessions: BTreeMap<String, BTreeMap<String, u64>>,
    pub reaper_runs: u64,
    /// Unix time; the daemon's start until the first run.
    pub reaper_last_run: f64,
    pub reaper_interval_s: f64,
    pub proxy_requests: u64,
    pub virtual_sessions: u64,
    pub leases: u64,
}

/// One sample line: name, labels, value.
fn sample(line: &str) -> Option<(&str, BTreeMap<&str, &str>, f64)> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let (head, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let (name, labels) = match head.split_once('{') {
        None => (head, BTreeMap::new()),
        Some((name, rest)) => {
            let body = rest.strip_suffix('}')?;
            let labels = body
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|p| {
                    let (k, v) = p.split_once("=\"")?;
                    Some((k, v.trim_end_matches('"')))
                })
                .collect();
            (name, labels)
        }
    };
    Some((name, labels, value))
}

impl Frame {
    pub fn parse(exposition: &str) -> Frame {
        let mut f = Frame::default();
        for (name, labels, value) in exposition.lines().filter_map(sample) {
            let count = value.max(0.0) as u64;
            match name {
                "hostagent_build_info" => f.version = labels.get("version").map(|v| v.to_string()),
                "hostagent_bmc_up" => f.bmc_up = value == 1.0,
                "hostagent_bmc_session_limit" => f.limit = (count > 0).then_some(count),
                "hostagent_bmc_sessions" if count > 0 => {
                    let label = |k| labels.get(k).copied().unwrap_or("-").to_string();
                    let n = f
                        .sessions
                        .entry(label("kind"))
                        .or_default()
                        .entry(label("owner"))
                        .or_default();
                    *n = n.saturating_add(count);
                }
                "hostagent_reaper_runs_total" => f.reaper_runs = count,
                "hostagent_reaper_last_run_timestamp_seconds" => f.reaper_last_run = value,
                "hostagent_reaper_interval_seconds" => f.reaper_interval_s = value,
                "hostagent_proxy_requests_total" => {
                    f.proxy_requests = f.proxy_requests.saturating_add(count)
                }
                "hostagent_virtual_sessions" => f.virtual_sessions = count,
                "hostagent_leases" => f.leases = count,
                _ => {}
            }
        }
        f
    }

    pub fn total(&self) -> u64 {
        self.sessions
            .values()
            .flat_map(|o| o.values())
            .fold(0, |sum, n| sum.saturating_add(*n))
    }

    fn by_owner(&self) -> BTreeMap<&str, u64> {
        let mut out = BTreeMap::new();
        for owners in self.sessions.values() {
            for (owner, n) in owners {
                let sum: &mut u64 = out.entry(owner.as_str()).or_default();
                *sum = sum.saturating_add(*n);
            }
        }
        out
    }

    /// `[#####.....]  5 / 16 sessions (31 %)`, or the count alone while the limit is unknown.
    pub fn bar(&self) -> String {
        let total = self.total();
        let Some(limit) = self.limit else {
            return format!("[{}]  {total} sessions (limit unknown)", "?".repeat(BAR));
        };
        let filled = ((total as f64 / limit as f64) * BAR as f64).round() as usize;
        let filled = filled.min(BAR);
        let pct = u128::from(total) * 100 / u128::from(limit.max(1));
        format!(
            "[{}{}]  {total} / {limit} sessions ({pct} %)",
            "#".repeat(filled),
            ".".repeat(BAR - filled)
        )
    }

    /// The frame as lines; `now` is Unix time, `rate` the proxy's requests per second since the
    /// last frame (`None` for the first).
    pub fn draw(&self, now: f64, rate: Option<f64>) -> Vec<String> {
        let mut out = Vec::new();
        let version = self.version.as_deref().unwrap_or("?");
        let up = if self.bmc_up {
            "BMC up"
        } else {
            "BMC DOWN (not answering)"
        };
        out.push(format!("hostagent {version}    {up}"));
        out.push(String::new());
        out.push(format!("Table     {}", self.bar()));
        out.push(String::new());
        out.push(format!("{:<20} {:<10} {:>8}", "KIND", "OWNER", "SESSIONS"));
        for (kind, owners) in &self.sessions {
            for (owner, n) in owners {
                out.push(format!("{kind:<20} {owner:<10} {n:>8}"));
            }
        }
        let owners: Vec<String> = self
            .by_owner()
            .iter()
            .map(|(o, n)| format!("{o} {n}"))
            .collect();
        out.push(format!("By owner: {}", or_none(&owners.join(", "))));
        out.push(String::new());
        out.push(self.reaper(now));
        let rate = rate.map_or("-".to_string(), |r| format!("{r:.1}"));
        out.push(format!(
            "Proxy     {rate} requests/s ({} in all)",
            self.proxy_requests
        ));
        out.push(format!(
            "Virtual sessions {}    Leases {}",
            self.virtual_sessions, self.leases
        ));
        out.push(String::new());
        out.push("q quits".to_string());
        out
    }

    fn reaper(&self, now: f64) -> String {
        let next = (self.reaper_last_run + self.reaper_interval_s - now).max(0.0);
        let mut line = String::from("Reaper    ");
        if self.reaper_runs == 0 {
            let _ = write!(line, "not run yet");
        } else {
            let ago = (now - self.reaper_last_run).max(0.0);
            let _ = write!(line, "last run {} ago", secs(ago));
        }
        let _ = write!(
            line,
            ", next in {} (every {})",
            secs(next),
            secs(self.reaper_interval_s)
        );
        line
    }
}

fn or_none(text: &str) -> &str {
    if text.is_empty() {
        "none"
    } else {
        text
    }
}

fn secs(s: f64) -> String {
    let s = s.round() as u64;
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSITION: &str = "# HELP hostagent_bmc_up 1 while ...\n# TYPE hostagent_bmc_up gauge\nhostagent_bmc_up 1\nhostagent_bmc_session_limit 16\nhostagent_bmc_sessions{kind=\"rest-host\",owner=\"foreign\"} 3\nhostagent_bmc_sessions{kind=\"rest\",owner=\"agent\"} 1\nhostagent_bmc_sessions{kind=\"web-ui\",owner=\"foreign\"} 0\nhostagent_reaper_runs_total 4\nhostagent_reaper_last_run_timestamp_seconds 1000.0\nhostagent_reaper_interval_seconds 60.0\nhostagent_proxy_requests_total{listener=\"unix\",code=\"200\"} 7\nhostagent_proxy_requests_total{listener=\"https\",code=\"404\"} 2\nhostagent_virtual_sessions 2\nhostagent_leases 1\nhostagent_build_info{version=\"0.1.0\"} 1\n";

    #[test]
    fn a_frame_reads_the_daemons_exposition() {
        let f = Frame::parse(EXPOSITION);
        assert!(f.bmc_up);
        assert_eq!(f.limit, Some(16));
        assert_eq!(f.total(), 4);
        assert_eq!(f.sessions["rest-host"]["foreign"], 3);
        assert!(!f.sessions.contains_key("web-ui"), "zeros are left out");
        assert_eq!((f.proxy_requests, f.virtual_sessions, f.leases), (9, 2, 1));
        assert_eq!(f.version.as_deref(), Some("0.1.0"));
    }

    #[test]
    fn the_drawing_shows_the_fill_bar_the_counts_and_the_reapers_runs() {
        let lines = Frame::parse(EXPOSITION).draw(1012.0, Some(1.5)).join("\n");
        let filled = "#".repeat(10);
        assert!(
            lines.contains(&format!(
                "[{filled}{}]  4 / 16 sessions (25 %)",
                ".".repeat(30)
            )),
            "{lines}"
        );
        assert!(
            lines.contains("rest-host            foreign           3"),
            "{lines}"
        );
        assert!(lines.contains("By owner: agent 1, foreign 3"), "{lines}");
        assert!(
            lines.contains("last run 12s ago, next in 48s (every 60s)"),
            "{lines}"
        );
        assert!(lines.contains("1.5 requests/s (9 in all)"), "{lines}");
        assert!(lines.contains("Virtual sessions 2    Leases 1"), "{lines}");
    }

    #[test]
    fn counts_too_large_for_a_u64_saturate_instead_of_overflowing() {
        let text = "hostagent_bmc_session_limit 16\nhostagent_bmc_sessions{kind=\"rest\",owner=\"foreign\"} 1e30\nhostagent_bmc_sessions{kind=\"rest\",owner=\"agent\"} 1e30\nhostagent_bmc_sessions{kind=\"rest\",owner=\"agent\"} 5\nhostagent_proxy_requests_total{code=\"200\"} 1e30\nhostagent_proxy_requests_total{code=\"404\"} 1e30\n";
        let f = Frame::parse(text);
        assert_eq!((f.total(), f.proxy_requests), (u64::MAX, u64::MAX));
        let lines = f.draw(0.0, None).join("\n");
        assert!(
            lines.contains(&format!("{} / 16 sessions", u64::MAX)),
            "{lines}"
        );
        assert!(lines.contains(&format!("foreign {}", u64::MAX)), "{lines}");
    }

    #[test]
    fn random_and_mutated_expositions_never_panic() {
        // The fuzz target agentctl_daemon runs this at length; here a fixed xorshift seed.
        let alphabet = b"{}=\", \n#e.-+0123456789infNaN_";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3_000 {
            let mut text = EXPOSITION.as_bytes().to_vec();
            for _ in 0..1 + x % 6 {
                crate::testing::xorshift(&mut x);
                let at = (x % text.len() as u64) as usize;
                let b = alphabet[(x >> 8) as usize % alphabet.len()];
                match x >> 62 {
                    0 | 1 => text[at] = b,
                    2 => text.insert(at, b),
                    _ => drop(text.remove(at)),
                }
            }
            let f = Frame::parse(&String::from_utf8_lossy(&text));
            let _ = f.draw(f64::from((x >> 40) as u32), Some(f64::from(x as u32)));
        }
    }

    #[test]
    fn an_unknown_limit_and_a_full_table_are_drawn_as_such() {
        let mut f = Frame::parse(EXPOSITION);
        f.limit = None;
        assert!(
            f.bar().contains("4 sessions (limit unknown)"),
            "{}",
            f.bar()
        );
        f.limit = Some(2);
        assert!(
            f.bar().starts_with(&format!("[{}]", "#".repeat(BAR))),
            "{}",
            f.bar()
        );
    }
}
