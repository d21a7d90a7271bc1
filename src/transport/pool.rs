//! Persistent HTTP/1.1 connections to the BMC, as a reverse proxy keeps its upstream pool: a
//! TCP (or TLS) connection is opened on demand, bound to the host-interface NIC when asked,
//! and goes back to the idle list once its answer has been read whole. An idle connection is
//! closed after `idle_timeout` (a sweeper drops it even when no request comes).
//!
//! Written on hyper's connection API rather than through reqwest: reqwest's per-request
//! machinery (URL handling, its pool's keys and locks, redirects, the boxed body layers) was
//! a large share of the proxy's CPU per request (docs/PERFORMANCE.md); the pool here is a
//! locked `Vec`, enough for the few connections a BMC gets.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

pub type Sender = SendRequest<Full<Bytes>>;

/// Why no connection could be made.
#[derive(Debug)]
pub enum ConnectError {
    Connect(String),
    Tls(String),
    Timeout,
}

/// Where and how connections are made.
pub struct Connector {
    pub host: String,
    pub port: u16,
    pub tls: Option<(TlsConnector, ServerName<'static>)>,
    pub interface: Option<String>,
    pub connect_timeout: Duration,
}

impl Connector {
    async fn tcp(&self) -> Result<TcpStream, ConnectError> {
        let addrs = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| ConnectError::Connect(format!("resolving {}: {e}", self.host)))?;
        let mut last = ConnectError::Connect(format!("{} has no address", self.host));
        for addr in addrs {
            let socket = if addr.is_ipv4() {
                TcpSocket::new_v4()
            } else {
                TcpSocket::new_v6()
            }
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
            if let Some(ifname) = &self.interface {
                socket.bind_device(Some(ifname.as_bytes())).map_err(|e| {
                    ConnectError::Connect(format!("binding to interface {ifname}: {e}"))
                })?;
            }
            match socket.connect(addr).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last = ConnectError::Connect(format!("{addr}: {e}")),
            }
        }
        Err(last)
    }

    /// A new connection, its driver spawned on the runtime.
    async fn connect(&self) -> Result<Sender, ConnectError> {
        let open = async {
            let tcp = self.tcp().await?;
            let builder = hyper::client::conn::http1::Builder::new();
            match &self.tls {
                Some((connector, name)) => {
                    let tls = connector
                        .connect(name.clone(), tcp)
                        .await
                        .map_err(|e| ConnectError::Tls(e.to_string()))?;
                    let (sender, conn) = builder
                        .handshake(TokioIo::new(tls))
                        .await
                        .map_err(|e| ConnectError::Connect(e.to_string()))?;
                    tokio::spawn(conn);
                    Ok(sender)
                }
                None => {
                    let (sender, conn) = builder
                        .handshake(TokioIo::new(tcp))
                        .await
                        .map_err(|e| ConnectError::Connect(e.to_string()))?;
                    tokio::spawn(conn);
                    Ok(sender)
                }
            }
        };
        tokio::time::timeout(self.connect_timeout, open)
            .await
            .map_err(|_| ConnectError::Timeout)?
    }
}

struct Idle {
    sender: Sender,
    since: Instant,
}

pub struct Pool {
    connector: Connector,
    idle: Mutex<Vec<Idle>>,
    idle_timeout: Duration,
    max_idle: usize,
    sweeping: std::sync::Once,
}

impl Pool {
    pub fn new(connector: Connector, idle_timeout: Duration, max_idle: usize) -> Arc<Pool> {
        Arc::new(Pool {
            connector,
            idle: Mutex::new(Vec::new()),
            idle_timeout,
            max_idle: max_idle.max(1),
            sweeping: std::sync::Once::new(),
        })
    }

    /// An idle connection that is still open, or `None`.
    pub fn take_idle(self: &Arc<Self>) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(entry) = idle.pop() {
            if entry.since.elapsed() < self.idle_timeout && entry.sender.is_ready() {
                return Some(entry.sender);
            }
        }
        None
    }

    pub async fn connect(self: &Arc<Self>) -> Result<Sender, ConnectError> {
        self.start_sweeper();
        self.connector.connect().await
    }

    /// Gives back a connection whose answer was read whole.
    pub fn put(&self, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    /// Closes the connections idle longer than `idle_timeout`, whether or not requests come:
    /// an idle connection's buffers still hold the last request's headers.
    fn start_sweeper(self: &Arc<Self>) {
        self.sweeping.call_once(|| {
            let weak: Weak<Pool> = Arc::downgrade(self);
            let every = (self.idle_timeout / 4).max(Duration::from_millis(50));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let Some(pool) = weak.upgrade() else { return };
                    let timeout = pool.idle_timeout;
                    pool.idle
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .retain(|i| i.since.elapsed() < timeout && !i.sender.is_closed());
                }
            });
        });
    }
}
