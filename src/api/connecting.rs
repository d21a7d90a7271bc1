//! What both listeners serve. They accept from the start, before the BMC has answered, so that
//! no caller hangs: while the daemon connects, `GET /v1/status` answers with state
//! `connecting` and the last error, and every other request gets a 503 saying so. Once
//! connected, the [`Core`] answers.

use std::sync::{Arc, Mutex, OnceLock};

use http::{Method, StatusCode};

use super::reply::{error, json, Reply};
use super::Core;
use crate::config::{ApiSettings, Settings};
use crate::peer::{Peer, Role};
use crate::service::{SessionCounts, StatusReport};

pub struct Api {
    pub settings: ApiSettings,
    /// The configured endpoint, for the status while connecting (discovery may find another).
    endpoint: Option<String>,
    limit: Option<usize>,
    core: OnceLock<Arc<Core>>,
    last_error: Mutex<Option<String>>,
}

/// `StatusReport.state` once connected.
pub const READY: &str = "ready";
/// `StatusReport.state` (and the 503's `error.code`) while connecting.
pub const CONNECTING: &str = "connecting";

impl Api {
    pub fn new(settings: &Settings) -> Api {
        Api {
            settings: settings.api.clone(),
            endpoint: settings.bmc.endpoint.clone(),
            limit: settings.bmc.session_limit,
            core: OnceLock::new(),
            last_error: Mutex::new(None),
        }
    }

    /// The daemon, once it has connected.
    pub fn core(&self) -> Option<&Arc<Core>> {
        self.core.get()
    }

    pub fn set_ready(&self, core: Arc<Core>) {
        let _ = self.core.set(core);
    }

    /// Why the last attempt to reach the BMC failed.
    pub fn set_last_error(&self, error: impl std::fmt::Display) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
    }

    fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The answer to any request while connecting; the request's body is not read.
    pub fn connecting_reply(&self, peer: &Peer, method: &Method, path: &str) -> Reply {
        if method == Method::GET && path == "/v1/status" && peer.role >= Role::Reader {
            return json(StatusCode::OK, &self.connecting_status());
        }
        let last = self
            .last_error()
            .map(|e| format!(" (last error: {e})"))
            .unwrap_or_default();
        let mut reply = error(
            StatusCode::SERVICE_UNAVAILABLE,
            CONNECTING,
            format!("hostagentd is still connecting to the BMC{last}; try again shortly"),
        );
        reply.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("5"),
        );
        reply
    }

    fn connecting_status(&self) -> StatusReport {
        StatusReport {
            endpoint: self.endpoint.clone().unwrap_or_default(),
            transport: String::new(),
            agent_session: false,
            auth: "none".into(),
            sessions: SessionCounts::default(),
            limit: self.limit,
            proxy: None,
            state: Some(CONNECTING.into()),
            last_error: self.last_error(),
            reaper_cycles: None,
            hmc: Vec::new(),
            bmc: true,
        }
    }
}
