//! Tables for people (agentctl without `--json`). JSON output is the serde form of the same
//! reports and lives with their types.

use std::fmt::Write;

use crate::reaper::CleanReport;
use crate::service::{ListReport, StatusReport};

/// Left-aligned columns, each as wide as its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

fn or_dash(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "-".into())
}

pub fn list(report: &ListReport) -> String {
    let rows: Vec<Vec<String>> = report
        .sessions
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                or_dash(&s.user),
                s.kind.to_string(),
                s.owner.clone(),
                or_dash(&s.origin),
                or_dash(&s.last_access),
                s.idle_s
                    .map(|i| format!("{i}s"))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "ID",
            "USER",
            "KIND",
            "OWNER",
            "ORIGIN",
            "LAST ACCESS",
            "IDLE",
        ],
        &rows,
    );
    let limit = report
        .limit
        .map(|l| format!(" of a limit of {l}"))
        .unwrap_or_default();
    let _ = writeln!(out, "{} sessions{limit}", report.sessions.len());
    out
}

pub fn clean(report: &CleanReport) -> String {
    let mut out = String::new();
    let verb = if report.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for d in &report.deleted {
        let _ = writeln!(
            out,
            "{verb:<12}  {}  {}  {}",
            d.id,
            d.kind,
            d.user.as_deref().unwrap_or("-")
        );
    }
    for f in &report.failed {
        let _ = writeln!(out, "{:<12}  {}  {}", "failed", f.id, f.error);
    }
    for k in &report.kept {
        let _ = writeln!(out, "{:<12}  {}  {}  ({})", "kept", k.id, k.kind, k.reason);
    }
    let _ = writeln!(
        out,
        "{} {verb}, {} kept, {} failed",
        report.deleted.len(),
        report.kept.len(),
        report.failed.len()
    );
    out
}

pub fn status(report: &StatusReport) -> String {
    let mut out = String::new();
    if !report.bmc {
        let _ = writeln!(out, "bmc:            none (bmc.transport = \"none\")");
        hmcs(&mut out, &report.hmc);
        return out;
    }
    if report.state.as_deref() == Some(crate::api::connecting::CONNECTING) {
        let last = report.last_error.as_deref().unwrap_or("none yet");
        let _ = writeln!(
            out,
            "state:          connecting to the BMC (last error: {last})"
        );
    }
    let _ = writeln!(
        out,
        "endpoint:       {}{}",
        report.endpoint,
        if report.transport.is_empty() {
            String::new()
        } else {
            format!(" ({})", report.transport)
        }
    );
    let _ = writeln!(
        out,
        "agent session:  {} (auth: {})",
        if report.agent_session { "yes" } else { "no" },
        report.auth
    );
    let limit = report
        .limit
        .map(|l| l.to_string())
        .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(
        out,
        "sessions:       {} (limit {limit})",
        report.sessions.total
    );
    let mut kinds: Vec<_> = report.sessions.by_kind.iter().collect();
    kinds.sort();
    for (kind, n) in kinds {
        let _ = writeln!(out, "  {kind:<18} {n}");
    }
    let mut owners: Vec<_> = report.sessions.by_owner.iter().collect();
    owners.sort();
    for (owner, n) in owners {
        let _ = writeln!(out, "  owner {owner:<12} {n}");
    }
    if let Some(p) = &report.proxy {
        let cache = p
            .cached
            .map(|n| format!("{n} cached answers"))
            .unwrap_or_else(|| "no cache".into());
        let https = p
            .https
            .as_deref()
            .map(|a| format!(", HTTPS on {a}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "proxy:          {} virtual sessions (none on the BMC), {} leases, {cache}{https}",
            p.virtual_sessions, p.leases
        );
    }
    hmcs(&mut out, &report.hmc);
    out
}

/// One line per HMC: name, endpoint, whether the agent is logged on, virtual sessions, and
/// the last logon error.
fn hmcs(out: &mut String, hmcs: &[crate::service::HmcStatus]) {
    for h in hmcs {
        let state = if h.logged_on {
            "logged on"
        } else {
            "not logged on"
        };
        let listen = h
            .listen
            .as_deref()
            .map(|a| format!(", HTTPS on {a}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "hmc {}:{:width$} {} ({state}), {} virtual sessions (none on the HMC){listen}",
            h.name,
            "",
            h.endpoint,
            h.virtual_sessions,
            width = 10usize.saturating_sub(h.name.len())
        );
        if let Some(e) = &h.last_error {
            let _ = writeln!(out, "  last error:   {e}");
        }
    }
}

/// A row of `session list`.
pub fn lease_row(lease: &crate::lease::LeaseInfo) -> Vec<String> {
    let expires = lease
        .expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    vec![
        lease.id.clone(),
        lease.uri.clone(),
        lease.pid.map_or_else(|| "-".into(), |p| p.to_string()),
        lease.uid.to_string(),
        expires,
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_line_up() {
        let out = super::table(
            &["A", "LONGER"],
            &[
                vec!["wide cell".into(), "x".into()],
                vec!["y".into(), "z".into()],
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "A          LONGER");
        assert_eq!(lines[1], "wide cell  x");
        assert_eq!(lines[2], "y          z");
    }
}
