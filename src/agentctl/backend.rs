//! What agentctl's commands run against: the daemon over its socket, or (`--standalone`) an
//! agent session of agentctl's own, logged in for this one command and logged out after.
//! Each command is written once over this; only what needs a daemon (leases) says so.

use http::Method;

use super::client::DaemonClient;
use super::output::{CtlError, EXIT_FAILURE, EXIT_OK};
use super::progress;
use crate::config::Settings;
use crate::lease::{LeaseGranted, LeaseInfo, LeaseList, LeaseRequest};
use crate::reaper::{CleanReport, CleanRequest};
use crate::redfish::Kind;
use crate::service::{ListReport, Service, StatusReport};
use crate::transport::Request;

pub enum Backend {
    Daemon(DaemonClient),
    Standalone {
        service: Box<Service>,
        settings: Box<Settings>,
    },
}

/// The streamed clean's last line: the report, or the API's error.
fn clean_answer(last: serde_json::Value) -> Result<CleanReport, CtlError> {
    use super::client::ClientError;
    if let Ok(e) = serde_json::from_value::<crate::api::ApiError>(last.clone()) {
        return Err(ClientError::Api {
            status: 502,
            code: e.error.code,
            message: e.error.message,
        }
        .into());
    }
    serde_json::from_value(last["report"].clone()).map_err(|e| {
        ClientError::Protocol(format!("unexpected answer from hostagentd: {e}")).into()
    })
}

impl Backend {
    pub async fn status(&self) -> Result<StatusReport, CtlError> {
        match self {
            Backend::Daemon(c) => Ok(c.call(Method::GET, "/v1/status", NO_BODY).await?),
            Backend::Standalone { service, .. } => Ok(service.status().await?),
        }
    }

    pub async fn list(&self, kinds: &[Kind]) -> Result<ListReport, CtlError> {
        match self {
            Backend::Daemon(c) => {
                let query: Vec<String> = kinds.iter().map(|k| format!("kind={k}")).collect();
                let path = if query.is_empty() {
                    "/v1/sessions".to_string()
                } else {
                    format!("/v1/sessions?{}", query.join("&"))
                };
                Ok(c.call(Method::GET, &path, NO_BODY).await?)
            }
            Backend::Standalone { service, .. } => Ok(service.list(kinds).await?),
        }
    }

    /// A bar on a terminal, both ways: the daemon streams its progress (`application/x-ndjson`),
    /// standalone reports it directly. Off a terminal the daemon's plain JSON answer is used.
    pub async fn clean(&self, req: &CleanRequest) -> Result<CleanReport, CtlError> {
        match self {
            Backend::Daemon(c) if std::io::IsTerminal::is_terminal(&std::io::stderr()) => {
                let mut on_line = |line: serde_json::Value| {
                    let p = &line["progress"];
                    if let (Some(done), Some(total)) = (p["done"].as_u64(), p["total"].as_u64()) {
                        progress::bar(done as usize, total as usize);
                    }
                };
                let last = c
                    .call_lines(Method::POST, "/v1/clean", Some(req), &mut on_line)
                    .await;
                progress::clear();
                clean_answer(last?)
            }
            Backend::Daemon(c) => Ok(c.call(Method::POST, "/v1/clean", Some(req)).await?),
            Backend::Standalone { service, settings } => {
                let (policy, opts) = req.policy(&settings.reaper);
                let report = service.clean(&policy, &opts, &progress::bar).await;
                progress::clear();
                Ok(report?)
            }
        }
    }

    /// One Redfish request, with the daemon's session (through its proxy) or our own; the
    /// BMC's answer is shown whatever it is.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(serde_json::Value, i32), CtlError> {
        match self {
            Backend::Daemon(c) => Ok((c.call_raw(method, path, body.as_ref()).await?, EXIT_OK)),
            Backend::Standalone { service, .. } => {
                let req = match body {
                    Some(body) => Request::json(method, path.to_string(), &body),
                    None => Request::new(method, path.to_string()),
                };
                let resp = service.agent.send(req).await?;
                let body: serde_json::Value = if resp.body.is_empty() {
                    serde_json::json!({ "status": resp.status.as_u16() })
                } else {
                    serde_json::from_slice(&resp.body)
                        .unwrap_or_else(|_| String::from_utf8_lossy(&resp.body).into())
                };
                let exit = if resp.status.is_success() {
                    EXIT_OK
                } else {
                    EXIT_FAILURE
                };
                Ok((body, exit))
            }
        }
    }

    /// The daemon's client, for commands only it can serve (`what` names the command).
    pub fn daemon_client(&self, what: &str) -> Result<&DaemonClient, CtlError> {
        self.daemon(what)
    }

    /// Leases live in the daemon: `what` names the command that needs one.
    fn daemon(&self, what: &str) -> Result<&DaemonClient, CtlError> {
        match self {
            Backend::Daemon(c) => Ok(c),
            Backend::Standalone { .. } => Err(CtlError::usage(
                "unsupported",
                format!("{what} needs the daemon (hostagentd)"),
            )),
        }
    }

    pub async fn open_lease(
        &self,
        what: &str,
        req: &LeaseRequest,
    ) -> Result<LeaseGranted, CtlError> {
        Ok(self
            .daemon(what)?
            .call(Method::POST, "/v1/leases", Some(req))
            .await?)
    }

    pub async fn close_lease(&self, what: &str, id: &str) -> Result<LeaseInfo, CtlError> {
        let path = format!("/v1/leases/{id}");
        Ok(self
            .daemon(what)?
            .call(Method::DELETE, &path, NO_BODY)
            .await?)
    }

    pub async fn leases(&self, what: &str) -> Result<LeaseList, CtlError> {
        Ok(self
            .daemon(what)?
            .call(Method::GET, "/v1/leases", NO_BODY)
            .await?)
    }

    /// Standalone: logs out of the session this command used.
    pub async fn finish(self) {
        if let Backend::Standalone { service, .. } = self {
            if let Err(e) = service.agent.logout().await {
                tracing::warn!(error = %e, "logout failed");
            }
        }
    }
}

const NO_BODY: Option<&()> = None;
