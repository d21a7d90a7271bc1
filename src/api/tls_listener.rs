//! The optional loopback HTTPS listener (`api.listen_https`, e.g. `127.0.0.2:443`, so that
//! ilorest's URL needs no port): the same API and proxy as the Unix socket, over TLS with a
//! certificate generated at each start and never written. Each peer's uid comes from the
//! kernel ([`crate::peer::sockdiag`]) at accept, so roles, slots and refusals are exactly those of
//! the Unix socket ([`super::admission`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::admission::{Admitted, Refusal};

use super::server::{refuse, serve_connection, Gate, HEADER_TIMEOUT, REFUSAL_TICK};
use super::Api;
use super::Scope;

use crate::peer::Peer;
use crate::proxy::Via;

pub struct HttpsListener {
    listener: TcpListener,
    acceptor: TlsAcceptor,
}

/// Binds the listener (loopback only; config validation refuses other addresses) and makes
/// its certificate.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<HttpsListener> {
    bind_for(addr, "api.listen_https").await
}

/// [`bind`] for the listener configured by `key` (`api.listen_https`, `hmc.NAME.listen`).
pub async fn bind_for(addr: SocketAddr, key: &str) -> anyhow::Result<HttpsListener> {
    if !addr.ip().is_loopback() {
        anyhow::bail!("{key} must be a loopback address, not {addr}");
    }
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied && addr.port() < 1024 {
            "; ports below 1024 need CAP_NET_BIND_SERVICE: give it in a drop-in for hostagentd.service \
             (CapabilityBoundingSet=CAP_NET_BIND_SERVICE and AmbientCapabilities=CAP_NET_BIND_SERVICE), \
             or use a port of 1024 or above"
        } else {
            ""
        };
        anyhow::anyhow!("cannot listen on {addr} ({key}): {e}{hint}")
    })?;
    let acceptor = acceptor(addr)?;
    Ok(HttpsListener { listener, acceptor })
}

fn acceptor(addr: SocketAddr) -> anyhow::Result<TlsAcceptor> {
    let names = vec![addr.ip().to_string(), "localhost".to_string()];
    let certified = rcgen::generate_simple_self_signed(names)?;
    let der = certified.cert.der().clone();
    tracing::info!(listen = %addr, cert_sha256 = %hex::encode(Sha256::digest(&der)), "HTTPS listener ready");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = crate::transport::https::install_crypto_provider();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![der], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

pub async fn serve(api: Arc<Api>, https: HttpsListener, stop: watch::Receiver<bool>) {
    serve_scope(api, https, Scope::Api, stop).await
}

/// [`serve`] for what `scope` says: the whole API, or one HMC's REST API.
pub async fn serve_scope(
    api: Arc<Api>,
    https: HttpsListener,
    scope: Scope,
    stop: watch::Receiver<bool>,
) {
    let gate = Gate::new(
        &api,
        if scope == Scope::Api {
            "HTTPS listener"
        } else {
            "HMC listener"
        },
    );
    let mut tick = tokio::time::interval(REFUSAL_TICK);
    let mut stop_accept = stop.clone();
    let local = https.listener.local_addr().ok();
    loop {
        let accepted = tokio::select! {
            a = https.listener.accept() => a,
            _ = tick.tick() => {
                gate.refusals.tick();
                continue;
            }
            _ = stop_accept.changed() => break,
        };
        let Ok((stream, remote)) = accepted else {
            continue;
        };
        // Small answers (a LogonResponse, a 304) must not wait for the client's delayed ACK.
        let _ = stream.set_nodelay(true);
        let Some(local) = local else { continue };
        // Who connected is known from the 4-tuple before the handshake or any byte is read;
        // the lookups are awaited (on blocking threads), and admission stays in accept order.
        let Ok(peer) = peer_of(&gate, local, remote).await else {
            gate.refusals.refused(None, Refusal::Unknown);
            continue;
        };
        let admitted = match gate.admission.admit(&peer) {
            Ok(a) => a,
            Err(reason) => {
                gate.refusals.refused(Some(peer.uid), reason);
                continue;
            }
        };
        if matches!(admitted, Admitted::Refuse(_)) {
            gate.refusals.refused(Some(peer.uid), Refusal::NoRole);
        }
        let (api, acceptor, stop) = (api.clone(), https.acceptor.clone(), stop.clone());
        let scope = scope.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                Err(_) => return tracing::debug!(%remote, "TLS handshake timed out"),
            };
            match admitted {
                Admitted::Serve(t) => {
                    serve_connection(api, tls, peer, (Via::Https, scope), stop, t).await
                }
                Admitted::Refuse(t) => refuse(tls, peer, t).await,
            }
        });
    }
    gate.refusals.flush();
}

/// The peer's uid from the kernel (a netlink query, on a blocking thread), its role from the
/// user database ([`crate::peer::Roles`]).
async fn peer_of(gate: &Gate, local: SocketAddr, remote: SocketAddr) -> std::io::Result<Peer> {
    let uid =
        tokio::task::spawn_blocking(move || crate::peer::sockdiag::tcp_peer_uid(local, remote))
            .await
            .map_err(std::io::Error::other)??;
    let (role, gid) = gate.roles.of(uid, None).await;
    Ok(Peer {
        uid,
        gid,
        pid: None,
        role,
    })
}

/// How long a TLS handshake may take (the same bound as header reads on the socket).
pub const HANDSHAKE_TIMEOUT: Duration = HEADER_TIMEOUT;
