//! `hmcsim`: run the HMC simulator as a process. Prints one JSON ready line.

use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;
use hmcsim::HmcSimConfig;

/// An IBM Power HMC REST API simulator (logon/logoff, X-API-Session, session limit, idle
/// timeouts, the captured feeds). Control API under /_sim/ for loopback peers.
#[derive(Debug, Parser)]
#[command(name = "hmcsim", version)]
struct Args {
    /// Listener (repeatable); default 127.0.0.1:0. A real HMC listens on 12443.
    #[arg(long)]
    listen: Vec<SocketAddr>,
    /// Plain HTTP instead of HTTPS.
    #[arg(long)]
    http: bool,
    #[arg(long, default_value = "hscroot")]
    user: String,
    #[arg(long, default_value = "abc123")]
    password: String,
    /// The user's idle timeout in seconds (0 = never, the HMC's default).
    #[arg(long, default_value_t = 0)]
    session_timeout: u64,
    /// The web-session limit.
    #[arg(long, default_value_t = hmcsim::config::DEFAULT_MAX_SESSIONS)]
    max_sessions: usize,
    /// Time a logon takes (a real HMC: 563 ms median).
    #[arg(long, default_value_t = 0)]
    login_latency_ms: u64,
    /// Time a logoff takes (a real HMC: 182 ms median).
    #[arg(long, default_value_t = 0)]
    logoff_latency_ms: u64,
    /// Time every other REST request takes.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Status for an unknown or expired X-API-Session: 401, or 403 (reason code 5).
    #[arg(long, default_value_t = 401)]
    invalid_token_status: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let cfg = HmcSimConfig {
        listen: a.listen,
        http: a.http,
        user: a.user,
        password: a.password,
        session_timeout_s: a.session_timeout,
        max_sessions: a.max_sessions,
        login_latency_ms: a.login_latency_ms,
        logoff_latency_ms: a.logoff_latency_ms,
        latency_ms: a.latency_ms,
        invalid_token_status: a.invalid_token_status,
    };
    let sim = hmcsim::start(cfg).await?;
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
