//! `hostagentd`: parse flags, load the layered config, set up logging, bind the API socket and
//! run the daemon until SIGTERM or SIGINT; at SIGHUP, load the config again for the daemon to
//! apply its `[[hmc]]` tables. The logic lives in `hostagent::daemon`.

use clap::Parser;
use hostagent::cli::hostagentd::Args;
use hostagent::config::{self, Sources};

/// Freed memory is zeroed, so copies of tokens and headers end with the value holding them.
#[global_allocator]
static ALLOC: hostagent::secret::ZeroOnFree = hostagent::secret::ZeroOnFree;

fn main() {
    let args = Args::parse();
    hostagent::daemon::logging::init(args.verbose);
    hostagent::daemon::core_dumps::forbid_unless_allowed();
    let sources = Sources {
        main: args.config.clone(),
        flags: args.config_flags(),
    };
    let settings = match config::load(&sources) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hostagentd: {e}");
            std::process::exit(2);
        }
    };
    let workers = match workers() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("hostagentd: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(settings, sources, args.sysfs_root.clone())) {
        eprintln!("hostagentd: {e:#}");
        std::process::exit(1);
    }
}

/// The runtime's worker threads: `HOSTAGENT_WORKERS` (1 to 64), else 1 — the agent shares the
/// host with its workload: one thread never takes more than a core from it, and spends less
/// CPU per proxied request than two (no wake-ups across threads), at the same HTTPS
/// throughput on the measured machines (docs/PERFORMANCE.md). Blocking work (CHIF, files,
/// the user database) runs on tokio's blocking pool either way.
fn workers() -> Result<usize, String> {
    match std::env::var("HOSTAGENT_WORKERS") {
        Err(_) => Ok(1),
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| {
                format!("HOSTAGENT_WORKERS must be a number of threads from 1 to 64, not {v:?}")
            }),
    }
}

async fn run(
    settings: config::Settings,
    sources: Sources,
    sysfs_root: std::path::PathBuf,
) -> anyhow::Result<()> {
    let reloads = reload_on_sighup(sources)?;
    if !settings.state.memory_only && settings.state.dir.exists() {
        hostagent::api::socket::check_private_dir(
            &settings.state.dir,
            "the state directory (state.dir)",
        )?;
    }
    let listener = hostagent::api::socket::bind(&settings.api.socket, &settings.api.reader_group)
        .map_err(|e| {
        anyhow::anyhow!(
            "binding the API socket {}: {e}",
            settings.api.socket.display()
        )
    })?;
    let socket = settings.api.socket.clone();
    let result = hostagent::daemon::run_with_reloads(
        settings,
        sysfs_root,
        listener,
        shutdown_signal(),
        reloads,
    )
    .await;
    let _ = std::fs::remove_file(&socket);
    result
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Each SIGHUP: the layered config loaded again, or why it does not load.
fn reload_on_sighup(
    sources: Sources,
) -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<hostagent::daemon::hmcs::Reload>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup())?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the configuration ([[hmc]] tables)");
            let loaded = config::load(&sources).map_err(anyhow::Error::from);
            if tx.send(loaded).is_err() {
                return;
            }
        }
    });
    Ok(rx)
}
