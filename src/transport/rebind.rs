//! An HTTPS transport bound to the host-interface NIC that can be bound to the same NIC under
//! a new name: the kernel binds sockets to a device by name (SO_BINDTODEVICE), so when the NIC
//! is renamed while the agent runs (`ip link set dev X name Y`, a udev rule applied late) new
//! connections would fail. The link watcher follows the NIC's index and calls
//! [`Transport::follow_interface`]; this builds a new [`HttpsTransport`] with the new name and
//! sends every later request through it. Requests already under way finish on the old one.

use std::sync::{Arc, RwLock};

use super::https::{HttpsOptions, HttpsTransport};
use super::{Request, SendFuture, StreamedFuture, Transport, TransportError};

pub struct Rebindable {
    opts: RwLock<HttpsOptions>,
    current: RwLock<Arc<HttpsTransport>>,
}

impl Rebindable {
    pub fn new(opts: HttpsOptions) -> Result<Rebindable, TransportError> {
        let current = Arc::new(HttpsTransport::new(opts.clone())?);
        Ok(Rebindable {
            opts: RwLock::new(opts),
            current: RwLock::new(current),
        })
    }

    fn current(&self) -> Arc<HttpsTransport> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Transport for Rebindable {
    fn send(&self, req: Request) -> SendFuture<'_> {
        let transport = self.current();
        Box::pin(async move { transport.send(req).await })
    }

    fn send_streamed(&self, req: Request) -> StreamedFuture<'_> {
        let transport = self.current();
        Box::pin(async move { transport.send_streamed(req).await })
    }

    fn kind(&self) -> &'static str {
        "https"
    }

    fn peer_fingerprint(&self) -> Option<super::trust::Fingerprint> {
        self.current().peer_fingerprint()
    }

    fn endpoint(&self) -> String {
        self.current().endpoint()
    }

    fn follow_interface(&self, ifname: &str) -> Result<(), TransportError> {
        let mut opts = self.opts.write().unwrap_or_else(|e| e.into_inner());
        if opts.interface.as_deref() == Some(ifname) {
            return Ok(());
        }
        let mut renamed = opts.clone();
        renamed.interface = Some(ifname.to_string());
        let transport = Arc::new(HttpsTransport::new(renamed.clone())?);
        tracing::info!(
            old = opts.interface.as_deref().unwrap_or_default(),
            new = ifname,
            "the host interface was renamed: requests are bound to its new name"
        );
        *opts = renamed;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = transport;
        Ok(())
    }
}
