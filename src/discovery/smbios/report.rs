//! `agentctl discover`: the decode as JSON (the fixtures' `expected.json` schema) plus the
//! chosen endpoint.
//!
//! Malformed tables: `expected.json` fixes the shape `{"error": <what>, "smbios_version"}`
//! with the fault text alone, so that is what the JSON says (the first fault in table
//! order); the handle and offset of every fault are in [`DiscoverReport::errors`] and their
//! `Display`, which the CLI prints to stderr. The endpoint is still chosen from the records
//! that did decode.

use serde_json::{json, Value};

use super::json::record_json;
use super::{choose_endpoint, decode, Endpoint, SmbiosDecode, SmbiosError, SmbiosSource};

/// Everything `discover` knows.
#[derive(Debug)]
pub struct DiscoverReport {
    /// `None` when the tables could not be read or the entry point is unusable.
    pub decode: Option<SmbiosDecode>,
    /// Read or entry point failure, then every table fault.
    pub errors: Vec<SmbiosError>,
    pub endpoint: Option<Endpoint>,
}

impl DiscoverReport {
    /// True when the tables were read and every type 42 structure decoded.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Checksum and other warnings that did not stop the decode.
    pub fn warnings(&self) -> Vec<String> {
        self.decode
            .as_ref()
            .map(|d| d.entry_point.warnings.clone())
            .unwrap_or_default()
    }

    /// The fixture schema, without the endpoint.
    pub fn decode_json(&self) -> Value {
        let version: Value = self.decode.as_ref().map(SmbiosDecode::version).into();
        match (self.errors.first(), &self.decode) {
            (Some(e), _) => json!({ "error": e.fault_text(), "smbios_version": version }),
            (None, Some(d)) => json!({
                "records": d.records.iter().map(record_json).collect::<Vec<_>>(),
                "smbios_version": version,
            }),
            (None, None) => json!({ "records": [], "smbios_version": version }),
        }
    }

    /// `decode_json` plus `"endpoint"`.
    pub fn to_json(&self) -> Value {
        let mut v = self.decode_json();
        if let Some(m) = v.as_object_mut() {
            m.insert(
                "endpoint".into(),
                self.endpoint.as_ref().map(Endpoint::to_json).into(),
            );
        }
        v
    }
}

/// Reads and decodes; never fails (failures are in the report). The decode's `errors` move
/// into the report's.
pub fn discover_report(source: &dyn SmbiosSource) -> DiscoverReport {
    let report = match source.read().and_then(|raw| decode(&raw)) {
        Ok(mut d) => {
            let endpoint = choose_endpoint(&d.records);
            let errors = std::mem::take(&mut d.errors);
            DiscoverReport {
                decode: Some(d),
                errors,
                endpoint,
            }
        }
        Err(e) => DiscoverReport {
            decode: None,
            errors: vec![e],
            endpoint: None,
        },
    };
    let from = source.describe();
    for w in report.warnings() {
        tracing::warn!(source = %from, "SMBIOS: {w}");
    }
    for e in &report.errors {
        tracing::warn!(source = %from, "{e}");
    }
    report
}

/// A readable summary for `agentctl discover` without `--json`.
pub fn human_summary(report: &DiscoverReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let Some(d) = &report.decode else {
        let _ = writeln!(
            out,
            "SMBIOS tables could not be read (see the error above)."
        );
        return out;
    };
    let _ = writeln!(
        out,
        "SMBIOS {} ({:?} entry point)",
        d.version(),
        d.entry_point.kind
    );
    if d.records.is_empty() && report.errors.is_empty() {
        let _ = writeln!(out, "No host interface (type 42) is advertised.");
    }
    for r in &d.records {
        let _ = writeln!(
            out,
            "Host interface handle {:#06x}: {}",
            r.handle,
            r.interface_type.name()
        );
        if let Some(note) = r.note {
            let _ = writeln!(out, "  note: {note}");
        }
        if let Some(dev) = &r.device {
            let _ = writeln!(out, "  device: {}", super::json::device_json(dev));
        }
        for p in &r.protocols {
            let _ = writeln!(out, "  protocol: {}", super::json::protocol_json(p));
        }
    }
    let _ = match &report.endpoint {
        Some(e @ Endpoint::Address { needs_scope, .. }) => writeln!(
            out,
            "Endpoint: {}{}",
            e.url().unwrap_or_default(),
            if *needs_scope {
                " (link-local: needs the host interface's scope)"
            } else {
                ""
            }
        ),
        Some(Endpoint::Dhcp { port, .. }) => {
            writeln!(out, "Endpoint: learned by DHCP on the host interface (port {port}), unknown until the link is up")
        }
        None => writeln!(out, "Endpoint: none (no Redfish-over-IP host interface)"),
    };
    out
}
