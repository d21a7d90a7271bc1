//! hostagentd: serve the local API from the start (answering "connecting" until the BMC has
//! answered), connect to the BMC (retrying until it answers), hold the agent session, run the
//! reaper every `reaper.interval` (at once, with a shorter idle threshold, when the table is
//! near full), and log out at shutdown.

pub mod core_dumps;
pub mod hmcs;
pub mod logging;
mod loops;
pub mod systemd;

use std::future::Future;
use std::sync::Arc;

use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};

use crate::api::{server, tls_listener, Api, Core};
use crate::config::{Settings, TransportChoice};
use crate::connect::ConnectError;
use crate::hmc::{Hmcs, UpstreamOptions};
use crate::session::keepalive::{keep_alive_interval, keep_alive_loop};

/// Runs until `shutdown` resolves, then logs out with a fresh timeout. The listeners answer
/// from the start ([`Api`]: "connecting" until the BMC has answered).
pub async fn run(
    settings: Settings,
    sysfs_root: std::path::PathBuf,
    listener: UnixListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // Never sent on: no reload.
    let (_keep, reloads) = mpsc::unbounded_channel();
    run_with_reloads(settings, sysfs_root, listener, shutdown, reloads).await
}

/// [`run`], applying each config that `reloads` brings (SIGHUP) to the `[[hmc]]` tables
/// ([`hmcs`]).
pub async fn run_with_reloads(
    settings: Settings,
    sysfs_root: std::path::PathBuf,
    listener: UnixListener,
    shutdown: impl Future<Output = ()>,
    reloads: mpsc::UnboundedReceiver<hmcs::Reload>,
) -> anyhow::Result<()> {
    let notifier = systemd::Notifier::from_env();
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    let https = match settings.api.listen_https {
        Some(addr) => Some(tls_listener::bind(addr).await?),
        None => None,
    };
    let metrics_listener = match settings.api.metrics_listen {
        Some(addr) => Some(crate::api::metrics::bind(addr).await?),
        None => None,
    };
    crate::metrics::global().started(settings.reaper.interval);
    let hmcs = Arc::new(Hmcs::from_settings(&settings, &UpstreamOptions::default())?);
    let api = Arc::new(Api::with_hmcs(&settings, hmcs.clone()));
    let textfile = settings.metrics.textfile.clone();
    crate::api::metrics::write_textfile(textfile.as_deref(), api.metrics_text().await).await;
    let mut tasks = vec![tokio::spawn(server::serve(
        api.clone(),
        listener,
        stop_rx.clone(),
    ))];
    if let Some(metrics_listener) = metrics_listener {
        tasks.push(tokio::spawn(crate::api::metrics::serve(
            api.clone(),
            metrics_listener,
            stop_rx.clone(),
        )));
    }
    if let Some(https) = https {
        tasks.push(tokio::spawn(tls_listener::serve(
            api.clone(),
            https,
            stop_rx.clone(),
        )));
    }
    let hmc_tasks = hmcs::HmcTasks::start(&api, &settings).await?;
    tasks.push(tokio::spawn(hmc_tasks.run(reloads, stop_rx.clone())));
    if settings.bmc.transport == TransportChoice::None {
        notifier.ready();
        notifier.status(&format!("serving {} HMC(s); no BMC", hmcs.len()));
        tracing::info!(
            hmcs = hmcs.len(),
            "serving HMCs only (bmc.transport = \"none\")"
        );
        shutdown.await;
        notifier.stopping();
        return stop(stop_tx, tasks, &hmcs).await;
    }
    notifier.status("connecting to the BMC");
    let on_unreachable = |e: &ConnectError| api.set_last_error(e);
    let connected = tokio::select! {
        c = crate::connect::connect_with_retry(&settings, &sysfs_root, &on_unreachable) => Some(c),
        _ = &mut shutdown => None,
    };
    let connected = match connected {
        Some(Ok(c)) => c,
        other => {
            stop(stop_tx, tasks, &hmcs).await?;
            return match other {
                Some(Err(e)) => Err(e.into()),
                _ => Ok(()),
            };
        }
    };
    let service = Arc::new(connected.service);
    let timeout = service.agent.session_timeout().await;
    let proxy =
        crate::proxy::Proxy::new(service.agent.clone(), timeout, settings.api.cache_ttl).await;
    let proxy_queue =
        crate::proxy::queue::Queue::new(settings.bmc.max_concurrency, settings.api.proxy_queue);
    let core = Arc::new(Core {
        proxy_queue,
        settings,
        service: service.clone(),
        proxy,
        reaper_cycles: Default::default(),
        hmcs: hmcs.clone(),
    });
    api.set_ready(core.clone());
    crate::api::metrics::write_textfile(textfile.as_deref(), core.metrics_text().await).await;
    notifier.ready();
    notifier.status(&format!(
        "serving; BMC at {}",
        service.agent.transport().endpoint()
    ));
    tasks.extend([
        tokio::spawn(keep_alive_loop(
            service.agent.clone(),
            keep_alive_interval(timeout),
            stop_rx.clone(),
        )),
        tokio::spawn(loops::reaper(core.clone(), stop_rx.clone())),
    ]);
    if let Some((plan, up)) = connected.link {
        tasks.push(tokio::spawn(loops::link(
            service.clone(),
            plan,
            up,
            stop_rx.clone(),
        )));
    }
    if let Some(every) = systemd::Notifier::watchdog_interval() {
        tasks.push(tokio::spawn(loops::watchdog(every, stop_rx.clone())));
    }
    shutdown.await;
    notifier.stopping();
    tracing::info!("stopping: logging out of the BMC");
    stop(stop_tx, tasks, &hmcs).await?;
    // Leases end with the agent: their sessions would otherwise outlive it on the BMC.
    service.leases.close_all().await;
    if let Err(e) = service.agent.logout().await {
        tracing::warn!(error = %e, "logout at shutdown failed");
    }
    Ok(())
}

/// Stops every task and logs off every HMC (each with a fresh timeout).
async fn stop(
    stop_tx: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    hmcs: &Hmcs,
) -> anyhow::Result<()> {
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    hmcs.logoff_all().await;
    Ok(())
}
