//! A clean as asked for: by `POST /v1/clean`, or by `agentctl clean` on the command line (to
//! the daemon, or standalone). One type, serialized by agentctl and read by the API, and one
//! place that turns it into a [`Policy`] over the configured defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{CleanOptions, Policy};
use crate::config::ReaperSettings;
use crate::redfish::Kind;

/// `POST /v1/clean` body; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CleanRequest {
    pub dry_run: bool,
    /// Empty: the configured `reaper.kinds`.
    pub kinds: Vec<Kind>,
    /// The idle threshold in seconds; `None`: the configured `reaper.idle`.
    pub idle_s: Option<u64>,
    pub ids: Vec<String>,
    pub force: bool,
}

impl CleanRequest {
    /// The policy and options of this request over the configured defaults.
    pub fn policy(&self, settings: &ReaperSettings) -> (Policy, CleanOptions) {
        let mut policy = Policy::from_settings(settings);
        if !self.kinds.is_empty() {
            policy.kinds = self.kinds.clone();
        }
        if let Some(idle) = self.idle_s {
            policy.idle = Duration::from_secs(idle);
        }
        policy.ids = self.ids.clone();
        policy.force = self.force;
        let opts = CleanOptions {
            dry_run: self.dry_run,
            ..CleanOptions::default()
        };
        (policy, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_fields_keep_the_configured_policy() {
        let settings = ReaperSettings {
            interval: Duration::from_secs(60),
            idle: Duration::from_secs(900),
            kinds: vec![Kind::RestHost],
            keep_users: Vec::new(),
            near_full: 0.8,
            near_full_idle: Duration::from_secs(60),
        };
        let (policy, opts) = CleanRequest::default().policy(&settings);
        assert_eq!(policy.idle, settings.idle);
        assert_eq!(policy.kinds, vec![Kind::RestHost]);
        assert!(!opts.dry_run && !policy.force && policy.ids.is_empty());
        let asked = CleanRequest {
            dry_run: true,
            kinds: vec![Kind::WebUi],
            idle_s: Some(120),
            ids: vec!["7".into()],
            force: true,
        };
        let (policy, opts) = asked.policy(&settings);
        assert_eq!(policy.kinds, vec![Kind::WebUi]);
        assert_eq!(policy.idle, Duration::from_secs(120));
        assert!(opts.dry_run && policy.force && policy.ids == ["7"]);
    }

    #[test]
    fn the_wire_form_round_trips() {
        let asked = CleanRequest {
            kinds: vec![Kind::RestHost],
            idle_s: Some(60),
            ..CleanRequest::default()
        };
        let text = serde_json::to_string(&asked).unwrap();
        assert_eq!(serde_json::from_str::<CleanRequest>(&text).unwrap(), asked);
        assert!(serde_json::from_str::<CleanRequest>(r#"{"idle":3}"#).is_err());
    }
}
