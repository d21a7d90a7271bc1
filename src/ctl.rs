//! What `agentctl` does for each command: `demo`, and `status`/`list`/`clean`/`get` one-shot
//! with `--standalone` (own session, logged out at exit). Output is a table for people or the
//! stable JSON of DESIGN §13 with `--json`; exit codes are those of DESIGN §8.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::cli::agentctl::{Args, CleanArgs, Command};
use crate::config::{self, Settings, Sources, TlsChoice};
use crate::reaper::{CleanOptions, Policy};
use crate::redfish::{ClassifyContext, Kind};
use crate::service::Service;
use crate::session::{AgentOptions, AgentSession};
use crate::transport::https::{HttpsOptions, HttpsTransport};
use crate::transport::trust::{FilePins, Fingerprint, MemoryPins, Trust};
use crate::transport::Request;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NOT_RUNNING: i32 = 3;
pub const EXIT_UNREACHABLE: i32 = 4;
pub const EXIT_NOTHING_TO_DO: i32 = 6;

/// A failure with its exit code and the `error.code` of the JSON output.
#[derive(Debug)]
pub struct CtlError {
    pub exit: i32,
    pub code: &'static str,
    pub message: String,
}

impl CtlError {
    fn new(exit: i32, code: &'static str, message: impl std::fmt::Display) -> CtlError {
        CtlError { exit, code, message: message.to_string() }
    }
}

fn session_error(e: crate::session::SessionError) -> CtlError {
    if e.is_unreachable() {
        CtlError::new(EXIT_UNREACHABLE, "bmc_unreachable", e)
    } else {
        CtlError::new(EXIT_FAILURE, "bmc_error", e)
    }
}

pub async fn run(args: Args) -> i32 {
    init_logging(args.verbose);
    let json = args.json;
    match dispatch(args).await {
        Ok((text, value, exit)) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            } else {
                print!("{text}");
            }
            exit
        }
        Err(e) => {
            if json {
                println!("{}", serde_json::json!({ "error": { "code": e.code, "message": e.message } }));
            } else {
                eprintln!("agentctl: {}", e.message);
            }
            e.exit
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOSTAGENT_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

type Output = (String, serde_json::Value, i32);

fn output<T: Serialize>(text: String, value: &T) -> Output {
    (text, serde_json::to_value(value).unwrap_or_default(), EXIT_OK)
}

async fn dispatch(args: Args) -> Result<Output, CtlError> {
    if let Command::Demo = args.command {
        return demo().await;
    }
    if !args.standalone {
        return Err(not_running(&args));
    }
    let settings = config::load(&Sources { main: args.config.clone(), flags: Vec::new() }).map_err(|e| CtlError::new(EXIT_USAGE, "bad_config", e))?;
    let service = standalone_service(&settings).await?;
    let result = command(&service, &settings, &args.command).await;
    if let Err(e) = service.agent.logout().await {
        tracing::warn!(error = %e, "logout failed");
    }
    result
}

fn not_running(args: &Args) -> CtlError {
    let message = format!(
        "hostagentd is not answering on {} (start the service, or use --standalone to work without it)",
        args.socket.display()
    );
    CtlError::new(EXIT_NOT_RUNNING, "not_running", message)
}

#[cfg(feature = "demo")]
async fn demo() -> Result<Output, CtlError> {
    let text = crate::demo::run().await.map_err(|e| CtlError::new(EXIT_FAILURE, "demo_failed", format!("{e:#}")))?;
    Ok((text.clone(), serde_json::json!({ "transcript": text }), EXIT_OK))
}

#[cfg(not(feature = "demo"))]
async fn demo() -> Result<Output, CtlError> {
    Err(CtlError::new(EXIT_USAGE, "unsupported", "this build has no demo (feature `demo` is off)"))
}

fn trust(settings: &Settings) -> Result<Trust, CtlError> {
    let bmc = &settings.bmc;
    Ok(match bmc.tls {
        TlsChoice::Pin => {
            let fp = bmc.fingerprint.as_deref().unwrap_or_default();
            Trust::Pin(Fingerprint::parse(fp).map_err(|e| CtlError::new(EXIT_USAGE, "bad_config", format!("bmc.fingerprint: {e}")))?)
        }
        TlsChoice::Tofu if settings.state.memory_only => Trust::Tofu(Arc::new(MemoryPins::default())),
        TlsChoice::Tofu => Trust::Tofu(Arc::new(FilePins::open(&settings.state.dir.join("pins.json")))),
        TlsChoice::Ca => Trust::Ca(bmc.ca_file.clone().unwrap_or_default()),
        TlsChoice::Insecure => Trust::Insecure,
    })
}

async fn standalone_service(settings: &Settings) -> Result<Service, CtlError> {
    let Some(endpoint) = settings.bmc.endpoint.clone() else {
        return Err(CtlError::new(EXIT_USAGE, "no_endpoint", "no BMC endpoint: set bmc.endpoint in the config"));
    };
    let transport = HttpsTransport::new(HttpsOptions::new(endpoint, trust(settings)?)).map_err(|e| CtlError::new(EXIT_FAILURE, "tls", e))?;
    let creds = crate::credentials::load(settings.bmc.credentials_dir.as_deref()).map_err(|e| CtlError::new(EXIT_USAGE, "credentials", e))?;
    let agent = AgentSession::connect(Arc::new(transport), creds, AgentOptions::default()).await.map_err(session_error)?;
    agent.login().await.map_err(session_error)?;
    let ctx = if agent.root().info.vendor == crate::redfish::Vendor::Hpe { ClassifyContext::hpe_default() } else { ClassifyContext::default() };
    Ok(Service::new(Arc::new(agent), ctx, None))
}

fn kinds(names: &[String]) -> Result<Vec<Kind>, CtlError> {
    names.iter().map(|k| k.parse().map_err(|e: String| CtlError::new(EXIT_USAGE, "bad_kind", e))).collect()
}

async fn command(service: &Service, settings: &Settings, command: &Command) -> Result<Output, CtlError> {
    match command {
        Command::Status => {
            let report = service.status().await.map_err(session_error)?;
            Ok(output(crate::render::status(&report), &report))
        }
        Command::List { kinds: names } => {
            let report = service.list(&kinds(names)?).await.map_err(session_error)?;
            Ok(output(crate::render::list(&report), &report))
        }
        Command::Clean(clean) => clean_command(service, settings, clean).await,
        Command::Get { path } => {
            let resp = service.agent.send(Request::get(path.clone())).await.map_err(session_error)?;
            let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_else(|_| String::from_utf8_lossy(&resp.body).into());
            let exit = if resp.status.is_success() { EXIT_OK } else { EXIT_FAILURE };
            Ok((format!("{}\n", serde_json::to_string_pretty(&body).unwrap_or_default()), body, exit))
        }
        other => Err(CtlError::new(EXIT_USAGE, "unsupported", format!("{} needs the daemon (hostagentd)", command_name(other)))),
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Session(_) => "session",
        Command::Run { .. } => "run",
        Command::Patch { .. } => "patch",
        Command::Delete { .. } => "delete",
        Command::Discover { .. } => "discover",
        _ => "this command",
    }
}

async fn clean_command(service: &Service, settings: &Settings, args: &CleanArgs) -> Result<Output, CtlError> {
    let mut policy = Policy::from_settings(&settings.reaper);
    if !args.kinds.is_empty() {
        policy.kinds = kinds(&args.kinds)?;
    }
    if let Some(minutes) = args.idle {
        policy.idle = Duration::from_secs(minutes * 60);
    }
    policy.force = args.force;
    policy.ids = args.ids.clone();
    let opts = CleanOptions { dry_run: args.dry_run, ..CleanOptions::default() };
    let report = service.clean(&policy, &opts, &|_, _| {}).await.map_err(session_error)?;
    let mut out = output(crate::render::clean(&report), &report);
    if args.check && report.deleted.is_empty() {
        out.2 = EXIT_NOTHING_TO_DO;
    } else if !report.failed.is_empty() {
        out.2 = EXIT_FAILURE;
    }
    Ok(out)
}
