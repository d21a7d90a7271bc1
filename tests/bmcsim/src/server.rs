//! Listeners: TCP (plain or TLS with a certificate generated at start), one hyper HTTP/1.1
//! connection task per client, refused connections while the BMC "resets".

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use std::os::fd::{AsRawFd, RawFd};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::handler::{self, Channel, Ctx};
use crate::state::{Cut, Sim};

/// Request bodies above this are refused with 413.
pub const MAX_BODY: usize = 1 << 20;

pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub cert_pem: String,
    /// Lowercase hex SHA-256 of the DER certificate.
    pub sha256: String,
}

/// A self-signed certificate for localhost and the listeners' addresses.
pub fn make_tls(addrs: &[SocketAddr]) -> anyhow::Result<Tls> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut names = vec!["localhost".to_string(), "bmcsim".to_string()];
    names.extend(addrs.iter().map(|a| a.ip().to_string()));
    let certified = rcgen::generate_simple_self_signed(names)?;
    let der = certified.cert.der().clone();
    let sha256 = hex::encode(Sha256::digest(der.as_ref()));
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![der], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        cert_pem: certified.cert.pem(),
        sha256,
    })
}

/// Accepts connections until `shutdown` flips.
pub async fn serve(
    sim: Arc<Sim>,
    listener: TcpListener,
    channel: Channel,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        if sim.is_down() {
            drop(stream); // NOTE: a resetting BMC refuses its clients.
            continue;
        }
        let local = stream.local_addr().unwrap_or(peer);
        let fd = stream.as_raw_fd();
        let _ = stream.set_nodelay(true);
        let (sim, tls, shutdown) = (sim.clone(), tls.clone(), shutdown.clone());
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        connection(
                            sim,
                            TokioIo::new(stream),
                            Ctx {
                                peer,
                                local,
                                channel,
                            },
                            fd,
                            shutdown,
                        )
                        .await;
                    }
                }
                None => {
                    connection(
                        sim,
                        TokioIo::new(stream),
                        Ctx {
                            peer,
                            local,
                            channel,
                        },
                        fd,
                        shutdown,
                    )
                    .await
                }
            }
        });
    }
}

async fn connection<I>(
    sim: Arc<Sim>,
    io: I,
    ctx: Ctx,
    fd: RawFd,
    mut shutdown: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let ctx = Arc::new(ctx);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (sim, ctx) = (sim.clone(), ctx.clone());
        async move { Ok::<_, std::convert::Infallible>(one(sim, &ctx, fd, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => conn.as_mut().graceful_shutdown(),
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn full(resp: Response<Bytes>) -> Response<Body> {
    resp.map(|b| Full::new(b).map_err(|never| match never {}).boxed())
}

async fn one(sim: Arc<Sim>, ctx: &Ctx, fd: RawFd, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large(&sim);
    }
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return too_large(&sim),
    };
    let req = Request::from_parts(parts, bytes);
    // The event stream and large blobs are served as streams, outside the request log.
    if !sim.is_down() {
        let channel = handler::effective_channel(ctx, &req);
        if let Some(resp) = crate::streams::route(&sim, channel, &req) {
            return resp.map(|b| b.map_err(|never| match never {}).boxed());
        }
    }
    let ctx = Ctx {
        peer: ctx.peer,
        local: ctx.local,
        channel: ctx.channel,
    };
    // A BMC finishes what it started when the client goes away (a login still makes its
    // session): the request runs on, whatever becomes of this connection.
    let sim2 = sim.clone();
    match tokio::spawn(handler::handle(sim, ctx, req)).await {
        Ok(resp) => match resp.extensions().get::<Cut>().copied() {
            Some(cut) => resp.map(|b| CutBody::new(b, cut, fd).boxed()),
            None => full(resp),
        },
        Err(_) => full(handler::error_reply(
            &sim2,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "The request failed.",
        )),
    }
}

/// A body cut short (`/_sim/faults` `truncate_next`, `reset_next`): its size hint (hence
/// `Content-Length`) names the whole body, half of it is sent, and after a pause (so that the
/// half is on the wire) the body fails, which makes hyper drop the connection: a plain close,
/// or a reset when `SO_LINGER` is set to 0 first.
struct CutBody {
    half: Option<Bytes>,
    len: u64,
    pause: std::pin::Pin<Box<tokio::time::Sleep>>,
    cut: Cut,
    fd: RawFd,
}

impl CutBody {
    fn new(body: Bytes, cut: Cut, fd: RawFd) -> CutBody {
        let len = body.len() as u64;
        CutBody {
            half: Some(body.slice(..body.len() / 2)),
            len,
            pause: Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50))),
            cut,
            fd,
        }
    }
}

impl hyper::body::Body for CutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        use std::future::Future;
        if let Some(half) = self.half.take() {
            return std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(half))));
        }
        if self.pause.as_mut().poll(cx).is_pending() {
            return std::task::Poll::Pending;
        }
        if self.cut == Cut::Reset {
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: `fd` is this connection's socket, open while hyper polls its body; the
            // option value is a valid `linger` of the size passed.
            unsafe {
                libc::setsockopt(
                    self.fd,
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&linger as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
        }
        std::task::Poll::Ready(Some(Err(std::io::Error::other("bmcsim: body cut short"))))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.len)
    }
}

fn too_large(sim: &Sim) -> Response<Body> {
    let mut resp = handler::error_reply(
        sim,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        "The request body is too large.",
    );
    resp.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    full(resp)
}
