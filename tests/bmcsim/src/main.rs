//! `bmcsim`: run the simulator as a process (ARCHITECTURE.md, "Interfaces"). Prints one JSON ready line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use bmcsim::{Profile, SimConfig};
use clap::Parser;

/// A Redfish BMC simulator faithful to iLO 5/6/7, iDRAC and bmcweb session handling.
#[derive(Debug, Parser)]
#[command(name = "bmcsim", version)]
struct Args {
    #[arg(long, default_value = "ilo6")]
    profile: Profile,
    /// Out-of-band listener (repeatable); default 127.0.0.1:0.
    #[arg(long)]
    listen: Vec<SocketAddr>,
    /// Listener standing for the host-side vNIC: sessions made there are in-band.
    #[arg(long)]
    inband_listen: Vec<SocketAddr>,
    /// Plain HTTP instead of HTTPS.
    #[arg(long)]
    http: bool,
    #[arg(long)]
    max_sessions: Option<usize>,
    /// SessionService.SessionTimeout in seconds (0 = never).
    #[arg(long)]
    session_timeout: Option<u64>,
    #[arg(long, default_value = "admin")]
    user: String,
    #[arg(long, default_value = "password")]
    password: String,
    #[arg(long, default_value_t = 0)]
    login_latency_ms: u64,
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    #[arg(long)]
    max_concurrency: Option<usize>,
    /// A directory of JSON resources replacing the built-in tree.
    #[arg(long)]
    tree: Option<PathBuf>,
    /// Page the Sessions collection with Members@odata.nextLink.
    #[arg(long)]
    page_size: Option<usize>,
    /// Status of the full-table answer (default 503).
    #[arg(long)]
    session_limit_status: Option<u16>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let cfg = SimConfig {
        profile: a.profile,
        listen: a.listen,
        inband_listen: a.inband_listen,
        http: a.http,
        max_sessions: a.max_sessions,
        session_timeout: a.session_timeout,
        user: a.user,
        password: a.password,
        login_latency_ms: a.login_latency_ms,
        latency_ms: a.latency_ms,
        max_concurrency: a.max_concurrency,
        tree: a.tree,
        page_size: a.page_size,
        session_limit_status: a.session_limit_status,
    };
    let sim = bmcsim::start(cfg).await?;
    let mut out = std::io::stdout();
    writeln!(out, "{}", sim.ready_line())?;
    out.flush()?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}
