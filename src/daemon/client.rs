//! The client `agentctl` uses to talk to hostagentd over its Unix socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("hostagentd is not answering on {socket}: {reason}")]
    NotRunning { socket: String, reason: String },
    #[error("not permitted to connect to {socket}: {reason}")]
    NotPermitted { socket: String, reason: String },
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("talking to hostagentd: {0}")]
    Protocol(String),
    #[error("hostagentd did not answer on {socket} within {}s (see `journalctl -u hostagentd`; --timeout sets how long to wait)", after.as_secs_f64())]
    Timeout { socket: String, after: Duration },
}

/// The daemon's socket and how long one call may take in all: configuration management runs
/// agentctl unattended and must never hang on it.
pub struct Client {
    pub socket: PathBuf,
    pub timeout: Duration,
}

impl Client {
    /// [`call`], given up after the timeout.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        tokio::time::timeout(self.timeout, call(&self.socket, method, path, body))
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Timeout {
                    socket: self.socket.display().to_string(),
                    after: self.timeout,
                })
            })
    }
}

/// One request; the answer's JSON, or the API's error.
pub async fn call(
    socket: &Path,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, ClientError> {
    let not_running = |e: std::io::Error| {
        let (socket, reason) = (socket.display().to_string(), e.to_string());
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            ClientError::NotPermitted { socket, reason }
        } else {
            ClientError::NotRunning { socket, reason }
        }
    };
    let stream = connect(socket).await.map_err(not_running)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    tokio::spawn(conn);
    let bytes = body
        .map(|b| Bytes::from(serde_json::to_vec(&b).unwrap_or_default()))
        .unwrap_or_default();
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, "hostagent")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(bytes))
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| ClientError::Protocol(e.to_string()))?
        .to_bytes();
    let value: serde_json::Value = if body.is_empty() {
        // 204 No Content (a BMC's answer to DELETE, through the proxy).
        serde_json::json!({ "status": status.as_u16() })
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ClientError::Protocol(format!("answer is not JSON: {e}")))?
    };
    if status.is_success() {
        return Ok(value);
    }
    let field = |k: &str| value["error"][k].as_str().unwrap_or_default().to_string();
    Err(ClientError::Api {
        status: status.as_u16(),
        code: field("code"),
        message: field("message"),
    })
}

/// Connects as a blocking `connect(2)` does: when the listen backlog is full (another local
/// user flooding the socket with connects) it waits in the kernel's queue for room, as the
/// flooder's own connects do, where a non-blocking connect would fail at once with EAGAIN and
/// never get its turn. [`Client`]'s timeout bounds the wait.
async fn connect(socket: &Path) -> std::io::Result<tokio::net::UnixStream> {
    let path = socket.to_path_buf();
    let stream = tokio::task::spawn_blocking(move || std::os::unix::net::UnixStream::connect(path))
        .await
        .map_err(std::io::Error::other)??;
    stream.set_nonblocking(true)?;
    tokio::net::UnixStream::from_std(stream)
}
