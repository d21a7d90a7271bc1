//! What both listeners serve. They accept from the start, before the BMC has answered, so that
//! no caller hangs: while the daemon connects, `GET /v1/status` answers with state
//! `connecting` and the last error, and every other request gets a 503 saying so. Once
//! connected, the [`Core`] answers.

use std::sync::{Arc, Mutex, OnceLock};

use http::{Method, StatusCode};

use super::reply::{error, json, Reply};
use super::Core;
use crate::config::{ApiSettings, Settings, TransportChoice};
use crate::hmc::Hmcs;
use crate::peer::{Peer, Role};
use crate::service::{SessionCounts, StatusReport};

pub struct Api {
    pub settings: ApiSettings,
    /// The configured endpoint, for the status while connecting (discovery may find another).
    endpoint: Option<String>,
    limit: Option<usize>,
    core: OnceLock<Arc<Core>>,
    last_error: Mutex<Option<String>>,
    /// The HMCs, served from the start whatever the BMC does.
    pub hmcs: Arc<Hmcs>,
    /// `bmc.transport = "none"`: there is no BMC to wait for.
    no_bmc: bool,
}

/// `StatusReport.state` once connected.
pub const READY: &str = "ready";
/// The error code of BMC requests when the daemon has none (`bmc.transport = "none"`).
pub const NO_BMC: &str = "no_bmc";
/// `StatusReport.state` (and the 503's `error.code`) while connecting.
pub const CONNECTING: &str = "connecting";

impl Api {
    pub fn new(settings: &Settings) -> Api {
        Api::with_hmcs(settings, Arc::new(Hmcs::default()))
    }

    pub fn with_hmcs(settings: &Settings, hmcs: Arc<Hmcs>) -> Api {
        Api {
            settings: settings.api.clone(),
            endpoint: settings.bmc.endpoint.clone(),
            limit: settings.bmc.session_limit,
            core: OnceLock::new(),
            last_error: Mutex::new(None),
            hmcs,
            no_bmc: settings.bmc.transport == TransportChoice::None,
        }
    }

    /// `bmc.session_limit`, until the daemon knows better.
    pub fn settings_limit(&self) -> Option<usize> {
        self.limit
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

    /// The answer to any request while connecting (or, without a BMC, to any request but
    /// an HMC's); the request's body is not read.
    pub async fn connecting_reply(&self, peer: &Peer, method: &Method, path: &str) -> Reply {
        if method == Method::GET && path == "/v1/status" && peer.role >= Role::Reader {
            let mut status = self.connecting_status();
            status.hmc = self.hmcs.status().await;
            if self.no_bmc {
                status.state = Some(READY.into());
                status.transport = "none".into();
                status.bmc = false;
            }
            return json(StatusCode::OK, &status);
        }
        if self.no_bmc {
            return error(
                StatusCode::NOT_FOUND,
                NO_BMC,
                format!("{path}: this hostagentd has no BMC (bmc.transport = \"none\"); it serves its HMCs under /hmc/<name>/rest/api/"),
            );
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
