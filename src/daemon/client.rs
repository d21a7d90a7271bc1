//! The client `agentctl` uses to talk to hostagentd over its Unix socket.

use std::path::Path;

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
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(not_running)?;
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
