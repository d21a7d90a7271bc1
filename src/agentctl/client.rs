//! agentctl's client of hostagentd's local API over the Unix socket. Requests and answers are
//! the same types the API serves (`StatusReport`, `CleanRequest`, `LeaseGranted`, ...); an
//! error answer is the API's [`ApiError`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::ApiError;

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
#[derive(Debug, Clone)]
pub struct DaemonClient {
    pub socket: PathBuf,
    pub timeout: Duration,
}

impl DaemonClient {
    pub fn new(socket: &Path, timeout: Duration) -> DaemonClient {
        DaemonClient {
            socket: socket.to_path_buf(),
            timeout,
        }
    }

    /// One request whose answer is a `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default();
        let send = self.send(method, path, Bytes::from(body));
        let (status, answer) = tokio::time::timeout(self.timeout, send)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Timeout {
                    socket: self.socket.display().to_string(),
                    after: self.timeout,
                })
            })?;
        let value = decode_answer(status, &answer)?;
        serde_json::from_value(value)
            .map_err(|e| ClientError::Protocol(format!("unexpected answer from hostagentd: {e}")))
    }

    /// One request whose answer is shown as it is (a Redfish resource through the proxy).
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        self.call(method, path, body).await
    }

    /// One GET whose answer is text (`/metrics`), within the timeout.
    pub async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let (status, _, answer) = self.call_text(path, &[]).await?;
        if !status.is_success() {
            decode_answer(status, &answer)?;
        }
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }

    /// One request whose answer is not JSON (an HMC's XML through its proxy): the status,
    /// the named headers' values and the body.
    pub async fn call_text(
        &self,
        path: &str,
        headers: &[&str],
    ) -> Result<(StatusCode, Vec<Option<String>>, Bytes), ClientError> {
        let send = self.send_full(Method::GET, path, Bytes::new(), headers);
        tokio::time::timeout(self.timeout, send)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Timeout {
                    socket: self.socket.display().to_string(),
                    after: self.timeout,
                })
            })
    }

    /// A call answered in lines of JSON (`Accept: application/x-ndjson`): `on_line` sees each
    /// line but the last, which is returned. An error answer is the API's error as for
    /// [`Self::call`].
    pub async fn call_lines(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
        on_line: &mut (dyn FnMut(serde_json::Value) + Send),
    ) -> Result<serde_json::Value, ClientError> {
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default();
        let work = async {
            let resp = self
                .request(method, path, Bytes::from(body), crate::api::stream::NDJSON)
                .await?;
            let status = resp.status();
            let mut body = resp.into_body();
            if !status.is_success() {
                let all = body.collect().await.map_err(|e| protocol(&e))?.to_bytes();
                return decode_answer(status, &all);
            }
            let mut lines = NdjsonLines::default();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| protocol(&e))?;
                if let Some(data) = frame.data_ref() {
                    lines.push(data, on_line)?;
                }
            }
            lines.finish()
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Timeout {
                    socket: self.socket.display().to_string(),
                    after: self.timeout,
                })
            })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let (status, _, body) = self.send_full(method, path, body, &[]).await?;
        Ok((status, body))
    }

    /// One JSON request: the status, the `wanted` headers' values and the whole body.
    async fn send_full(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        wanted: &[&str],
    ) -> Result<(StatusCode, Vec<Option<String>>, Bytes), ClientError> {
        let resp = self.request(method, path, body, "application/json").await?;
        let status = resp.status();
        let values = wanted
            .iter()
            .map(|h| {
                resp.headers()
                    .get(*h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .collect();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| protocol(&e))?
            .to_bytes();
        Ok((status, values, body))
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        accept: &'static str,
    ) -> Result<http::Response<hyper::body::Incoming>, ClientError> {
        let not_running = |e: std::io::Error| {
            let (socket, reason) = (self.socket.display().to_string(), e.to_string());
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                ClientError::NotPermitted { socket, reason }
            } else {
                ClientError::NotRunning { socket, reason }
            }
        };
        let protocol = |e: &dyn std::fmt::Display| ClientError::Protocol(e.to_string());
        let stream = connect(&self.socket).await.map_err(not_running)?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| protocol(&e))?;
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, "hostagent")
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, accept)
            .body(Full::new(body))
            .map_err(|e| protocol(&e))?;
        sender.send_request(req).await.map_err(|e| protocol(&e))
    }
}

/// The lines of an NDJSON answer as its frames come (a line may span frames, a frame may
/// hold several): `on_line` sees each line but the last, which [`Self::finish`] returns.
#[derive(Debug, Default)]
pub struct NdjsonLines {
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no line end (a long line is searched once).
    searched: usize,
    /// Lines read so far, for the error's "line N".
    count: usize,
    last: Option<serde_json::Value>,
}

impl NdjsonLines {
    /// Takes one frame; the error says which line is not JSON and why.
    pub fn push(
        &mut self,
        data: &[u8],
        on_line: &mut (dyn FnMut(serde_json::Value) + Send),
    ) -> Result<(), ClientError> {
        self.pending.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &self.pending[start.max(self.searched)..]) {
            let end = start.max(self.searched) + end;
            self.count += 1;
            let value: serde_json::Value = serde_json::from_slice(&self.pending[start..end])
                .map_err(|e| {
                    ClientError::Protocol(format!(
                        "line {} of hostagentd's answer is not JSON: {e}",
                        self.count
                    ))
                })?;
            if let Some(previous) = self.last.replace(value) {
                on_line(previous);
            }
            start = end + 1;
            self.searched = 0;
        }
        self.pending.drain(..start);
        self.searched = self.pending.len();
        Ok(())
    }

    /// The last line, once the answer has ended.
    pub fn finish(self) -> Result<serde_json::Value, ClientError> {
        if !self.pending.trim_ascii().is_empty() {
            return Err(ClientError::Protocol(format!(
                "hostagentd's answer ended inside line {} ({} bytes with no line end)",
                self.count + 1,
                self.pending.len()
            )));
        }
        self.last
            .ok_or_else(|| ClientError::Protocol("the answer ended with no line".into()))
    }
}

fn protocol(e: &dyn std::fmt::Display) -> ClientError {
    ClientError::Protocol(e.to_string())
}

/// The answer's JSON, or the API's error. An empty answer (204 from a BMC's DELETE, through
/// the proxy) reads as `{"status": N}`.
fn decode_answer(status: StatusCode, body: &[u8]) -> Result<serde_json::Value, ClientError> {
    let value: serde_json::Value = if body.is_empty() {
        serde_json::json!({ "status": status.as_u16() })
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ClientError::Protocol(format!("answer is not JSON: {e}")))?
    };
    if status.is_success() {
        return Ok(value);
    }
    // A Redfish error through the proxy has the same outer shape, with more beside.
    let (code, message) = match serde_json::from_value::<ApiError>(value.clone()) {
        Ok(e) => (e.error.code, e.error.message),
        Err(_) => {
            let field = |k: &str| value["error"][k].as_str().unwrap_or_default().to_string();
            (field("code"), field("message"))
        }
    };
    Err(ClientError::Api {
        status: status.as_u16(),
        code,
        message,
    })
}

/// Connects as a blocking `connect(2)` does: when the listen backlog is full (another local
/// user flooding the socket with connects) it waits in the kernel's queue for room, as the
/// flooder's own connects do, where a non-blocking connect would fail at once with EAGAIN and
/// never get its turn. [`DaemonClient`]'s timeout bounds the wait.
async fn connect(socket: &Path) -> std::io::Result<tokio::net::UnixStream> {
    let path = socket.to_path_buf();
    let stream = tokio::task::spawn_blocking(move || std::os::unix::net::UnixStream::connect(path))
        .await
        .map_err(std::io::Error::other)??;
    stream.set_nonblocking(true)?;
    tokio::net::UnixStream::from_std(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(frames: &[&[u8]]) -> (Vec<serde_json::Value>, Result<serde_json::Value, String>) {
        let mut seen = Vec::new();
        let mut lines = NdjsonLines::default();
        for frame in frames {
            if let Err(e) = lines.push(frame, &mut |v| seen.push(v)) {
                return (seen, Err(e.to_string()));
            }
        }
        (seen, lines.finish().map_err(|e| e.to_string()))
    }

    #[test]
    fn ndjson_lines_may_span_frames_and_the_last_is_the_answer() {
        let (seen, last) = read(&[b"{\"n\":1}\n{\"n\"", b":2}\n", b"{\"done\":true}\n"]);
        assert_eq!(
            seen,
            [serde_json::json!({"n": 1}), serde_json::json!({"n": 2})]
        );
        assert_eq!(last.unwrap(), serde_json::json!({"done": true}));
    }

    #[test]
    fn a_bad_or_cut_ndjson_line_is_named() {
        let (seen, last) = read(&[b"{\"n\":1}\n{\"n\":2}\nnot json\n{}\n"]);
        assert_eq!(seen.len(), 1);
        let err = last.unwrap_err();
        assert!(
            err.contains("line 3 of hostagentd's answer is not JSON"),
            "{err}"
        );
        let err = read(&[b"{\"n\":1}\n{\"n\":"]).1.unwrap_err();
        assert!(err.contains("ended inside line 2 (5 bytes"), "{err}");
        let err = read(&[b""]).1.unwrap_err();
        assert!(err.contains("ended with no line"), "{err}");
    }

    #[test]
    fn random_ndjson_frames_never_panic() {
        // The fuzz target agentctl_daemon runs this at length; here a fixed xorshift seed.
        let text = b"{\"progress\":{\"deleted\":1}}\n{\"report\":{\"deleted\":[\"a\"]}}\n";
        let alphabet = b"{}[]\":,\n 0a\\";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3_000 {
            let mut body = text.to_vec();
            crate::testing::xorshift(&mut x);
            let at = (x % body.len() as u64) as usize;
            body[at] = alphabet[(x >> 8) as usize % alphabet.len()];
            let cut = (x >> 16) as usize % body.len();
            let (seen, _) = read(&[&body[..cut], &body[cut..]]);
            assert!(seen.len() <= 2);
        }
    }
}
