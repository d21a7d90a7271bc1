//! What `agentctl` does for each command: `demo`, and `status`/`list`/`clean`/`get` one-shot
//! with `--standalone` (own session, logged out at exit). Output is a table for people or the
//! stable JSON of DESIGN §13 with `--json`; exit codes are those of DESIGN §8.

use std::time::Duration;

use serde::Serialize;

use crate::cli::agentctl::{Args, CleanArgs, Command};
use crate::config::{self, Settings, Sources};
use crate::daemon::build::BuildError;
use crate::daemon::client::{Client, ClientError};
use crate::reaper::{CleanOptions, CleanReport, Policy};
use crate::redfish::Kind;
use crate::service::{ListReport, Service, StatusReport};
use crate::transport::Request;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NOT_RUNNING: i32 = 3;
pub const EXIT_UNREACHABLE: i32 = 4;
pub const EXIT_NOT_PERMITTED: i32 = 5;
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
        CtlError {
            exit,
            code,
            message: message.to_string(),
        }
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
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            } else {
                print!("{text}");
            }
            exit
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "error": { "code": e.code, "message": e.message } })
                );
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
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOSTAGENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

type Output = (String, serde_json::Value, i32);

fn output<T: Serialize>(text: String, value: &T) -> Output {
    (
        text,
        serde_json::to_value(value).unwrap_or_default(),
        EXIT_OK,
    )
}

async fn dispatch(args: Args) -> Result<Output, CtlError> {
    if let Command::Demo = args.command {
        return demo().await;
    }
    if let Command::Discover { dmi_dir } = &args.command {
        return Ok(discover(dmi_dir.clone(), &args.sysfs_root));
    }
    if !args.standalone {
        return via_daemon(&args).await;
    }
    let settings = config::load(&Sources {
        main: args.config.clone(),
        flags: Vec::new(),
    })
    .map_err(|e| CtlError::new(EXIT_USAGE, "bad_config", e))?;
    let service = standalone_service(&settings, &args.sysfs_root).await?;
    let result = command(&service, &settings, &args.command).await;
    if let Err(e) = service.agent.logout().await {
        tracing::warn!(error = %e, "logout failed");
    }
    result
}

/// `agentctl discover`: the type 42 decode in the fixtures' schema, plus the endpoint.
fn discover(dmi_dir: Option<std::path::PathBuf>, sysfs_root: &std::path::Path) -> Output {
    use crate::discovery::smbios::{discover_report, report::human_summary, DirSource};
    let source = match dmi_dir {
        Some(dir) => DirSource::new(dir),
        None => DirSource::from_sysfs_root(sysfs_root),
    };
    let report = discover_report(&source);
    for w in report.warnings() {
        eprintln!("agentctl: warning: {w}");
    }
    for e in &report.errors {
        eprintln!("agentctl: {e}");
    }
    let exit = if report.ok() { EXIT_OK } else { EXIT_FAILURE };
    (human_summary(&report), report.to_json(), exit)
}

fn client_error(e: ClientError) -> CtlError {
    match e {
        ClientError::NotRunning { .. } => CtlError::new(
            EXIT_NOT_RUNNING,
            "not_running",
            format!("{e} (start the service, or use --standalone)"),
        ),
        ClientError::NotPermitted { .. } => CtlError::new(
            EXIT_NOT_PERMITTED,
            "not_permitted",
            format!("{e} (the socket is for root and the members of api.reader_group)"),
        ),
        ClientError::Api {
            status: 403,
            message,
            ..
        } => CtlError::new(EXIT_NOT_PERMITTED, "forbidden", message),
        // The proxy's own answer when it cannot reach the BMC (`get`, `patch`, `delete`).
        ClientError::Api {
            status: 502,
            ref code,
            ..
        } if code == "bmc_unreachable" || code == "Base.1.8.ServiceTemporarilyUnavailable" => {
            CtlError::new(EXIT_UNREACHABLE, "bmc_unreachable", e)
        }
        ClientError::Api { ref code, .. } if code == "lease_limit" => {
            CtlError::new(EXIT_FAILURE, "lease_limit", e)
        }
        ClientError::Api { ref code, .. } if code == crate::daemon::api::CONNECTING => {
            CtlError::new(EXIT_UNREACHABLE, "connecting", e)
        }
        ClientError::Timeout { .. } => CtlError::new(EXIT_UNREACHABLE, "timeout", e),
        ClientError::Api { .. } | ClientError::Protocol(_) => {
            CtlError::new(EXIT_FAILURE, "api_error", e)
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, CtlError> {
    serde_json::from_value(value).map_err(|e| {
        CtlError::new(
            EXIT_FAILURE,
            "api_error",
            format!("unexpected answer from hostagentd: {e}"),
        )
    })
}

/// How long agentctl waits for hostagentd by default: one BMC request may take up to 30 s.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// A clean deletes many sessions one by one.
pub const CLEAN_TIMEOUT: Duration = Duration::from_secs(600);

/// The commands hostagentd answers over its socket.
async fn via_daemon(args: &Args) -> Result<Output, CtlError> {
    let default = match args.command {
        Command::Clean(_) => CLEAN_TIMEOUT,
        _ => CALL_TIMEOUT,
    };
    let client = &Client {
        socket: args.socket.clone(),
        timeout: args.timeout.unwrap_or(default),
    };
    match &args.command {
        Command::Status => {
            let report: StatusReport = decode(
                client
                    .call(http::Method::GET, "/v1/status", None)
                    .await
                    .map_err(client_error)?,
            )?;
            let mut out = output(crate::render::status(&report), &report);
            // Still connecting: the BMC has not been reached, as exit 4 says elsewhere.
            if report.state.as_deref() == Some(crate::daemon::api::CONNECTING) {
                out.2 = EXIT_UNREACHABLE;
            }
            Ok(out)
        }
        Command::List { kinds: names } => {
            kinds(names)?;
            let query: Vec<String> = names.iter().map(|k| format!("kind={k}")).collect();
            let path = if query.is_empty() {
                "/v1/sessions".to_string()
            } else {
                format!("/v1/sessions?{}", query.join("&"))
            };
            let report: ListReport = decode(
                client
                    .call(http::Method::GET, &path, None)
                    .await
                    .map_err(client_error)?,
            )?;
            Ok(output(crate::render::list(&report), &report))
        }
        Command::Clean(c) => {
            let body = serde_json::json!({ "dry_run": c.dry_run, "kinds": kinds(&c.kinds)?, "idle_s": c.idle.map(|m| m * 60), "ids": c.ids, "force": c.force });
            let call = client.call(http::Method::POST, "/v1/clean", Some(body));
            let report: CleanReport =
                decode(with_spinner("cleaning", call).await.map_err(client_error)?)?;
            Ok(clean_output(report, c.check))
        }
        Command::Session(sub) => session_command(client, sub).await,
        Command::Run { ttl, command } => run_with_lease(client, *ttl, command).await,
        Command::Get { path } => raw_via_daemon(client, http::Method::GET, path, None).await,
        Command::Patch { path, data } => {
            raw_via_daemon(client, http::Method::PATCH, path, Some(json_data(data)?)).await
        }
        Command::Delete { path } => raw_via_daemon(client, http::Method::DELETE, path, None).await,
        other => Err(CtlError::new(
            EXIT_USAGE,
            "unsupported",
            format!("{} is not available yet", command_name(other)),
        )),
    }
}

/// `get`/`patch`/`delete` through the daemon's Redfish proxy, with the daemon's session.
async fn raw_via_daemon(
    client: &Client,
    method: http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<Output, CtlError> {
    let path = redfish_path(path)?;
    let value = client
        .call(method, &path, body)
        .await
        .map_err(client_error)?;
    Ok(pretty(value, EXIT_OK))
}

/// A raw Redfish answer as output: its JSON, pretty, as the text too.
fn pretty(value: serde_json::Value, exit: i32) -> Output {
    (
        format!(
            "{}\n",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        ),
        value,
        exit,
    )
}

/// A Redfish path as the proxy takes it: `/redfish/...`.
fn redfish_path(path: &str) -> Result<String, CtlError> {
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if path == "/redfish" || path.starts_with("/redfish/") {
        return Ok(path);
    }
    Err(CtlError::new(
        EXIT_USAGE,
        "bad_path",
        format!("`{path}` is not a Redfish path (it must start with /redfish/v1)"),
    ))
}

fn json_data(data: &str) -> Result<serde_json::Value, CtlError> {
    serde_json::from_str(data)
        .map_err(|e| CtlError::new(EXIT_USAGE, "bad_data", format!("--data is not JSON: {e}")))
}

async fn open_lease(
    client: &Client,
    ttl: Option<std::time::Duration>,
    pid: u32,
) -> Result<serde_json::Value, CtlError> {
    let body = serde_json::json!({ "ttl_s": ttl.map(|t| t.as_secs()), "pid": pid });
    client
        .call(http::Method::POST, "/v1/leases", Some(body))
        .await
        .map_err(client_error)
}

/// `session open` binds the lease to the calling shell (agentctl itself exits at once) unless
/// `--pid` names another process.
async fn session_command(
    client: &Client,
    sub: &crate::cli::agentctl::SessionCommand,
) -> Result<Output, CtlError> {
    use crate::cli::agentctl::SessionCommand;
    match sub {
        SessionCommand::Open { ttl, pid } => {
            let pid = pid.unwrap_or_else(|| nix::unistd::getppid().as_raw() as u32);
            let v = open_lease(client, *ttl, pid).await?;
            let text = format!(
                "lease {} (bound to process {pid}, expires {})\nREDFISH_URL={}\nREDFISH_SESSION_TOKEN={}\nREDFISH_SESSION_LOCATION={}\n",
                v["id"].as_str().unwrap_or("?"), v["expires"].as_str().unwrap_or("?"), v["url"].as_str().unwrap_or(""), v["token"].as_str().unwrap_or(""), v["location"].as_str().unwrap_or("")
            );
            Ok((text, v, EXIT_OK))
        }
        SessionCommand::Close { id } => {
            let v = client
                .call(http::Method::DELETE, &format!("/v1/leases/{id}"), None)
                .await
                .map_err(client_error)?;
            Ok((format!("lease {id} closed\n"), v, EXIT_OK))
        }
        SessionCommand::List => {
            let v = client
                .call(http::Method::GET, "/v1/leases", None)
                .await
                .map_err(client_error)?;
            let rows: Vec<Vec<String>> = v["leases"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|l| {
                    ["id", "uri", "pid", "uid", "expires"]
                        .iter()
                        .map(|k| match &l[*k] {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            Ok((
                crate::render::table(&["ID", "SESSION", "PID", "UID", "EXPIRES"], &rows),
                v,
                EXIT_OK,
            ))
        }
    }
}

/// `agentctl run -- CMD`: a lease bound to this agentctl (which lives as long as the child),
/// exported to the child, closed when the child ends however it ends; the child's exit status
/// is agentctl's (128 + signal for a signal).
async fn run_with_lease(
    client: &Client,
    ttl: Option<std::time::Duration>,
    command: &[String],
) -> Result<Output, CtlError> {
    let v = open_lease(client, ttl, std::process::id()).await?;
    let id = v["id"].as_str().unwrap_or_default().to_string();
    let status = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .env("REDFISH_URL", v["url"].as_str().unwrap_or_default())
        .env(
            "REDFISH_SESSION_TOKEN",
            v["token"].as_str().unwrap_or_default(),
        )
        .env(
            "REDFISH_SESSION_LOCATION",
            v["location"].as_str().unwrap_or_default(),
        )
        .status()
        .await;
    if let Err(e) = client
        .call(http::Method::DELETE, &format!("/v1/leases/{id}"), None)
        .await
    {
        tracing::warn!(lease = %id, error = %e, "closing the lease failed; it ends when this process does");
    }
    let status = status.map_err(|e| {
        CtlError::new(
            EXIT_USAGE,
            "spawn",
            format!("cannot run {}: {e}", command[0]),
        )
    })?;
    let code = status.code().unwrap_or_else(|| {
        128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
    });
    Ok((
        String::new(),
        serde_json::json!({ "lease": id, "exit_code": code }),
        code,
    ))
}

/// Shows `cleaning… 12s` on a terminal while the daemon works (it reports only at the end).
async fn with_spinner<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    use std::io::{IsTerminal, Write};
    if !std::io::stderr().is_terminal() {
        return work.await;
    }
    let start = std::time::Instant::now();
    tokio::pin!(work);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    loop {
        tokio::select! {
            out = &mut work => {
                eprint!("\r\x1b[2K");
                return out;
            }
            _ = tick.tick() => {
                let frame = ["|", "/", "-", "\\"][(start.elapsed().as_millis() / 500 % 4) as usize];
                eprint!("\r{frame} {what}… {}s", start.elapsed().as_secs());
                let _ = std::io::stderr().flush();
            }
        }
    }
}

/// `deleting [#####     ] 120/300` on stderr, only when stderr is a terminal.
fn progress_bar(done: usize, total: usize) {
    use std::io::{IsTerminal, Write};
    let mut err = std::io::stderr();
    if total < 20 || !err.is_terminal() {
        return;
    }
    let filled = done * 30 / total.max(1);
    let _ = write!(
        err,
        "\rdeleting [{}{}] {done}/{total}",
        "#".repeat(filled),
        " ".repeat(30 - filled)
    );
    let _ = err.flush();
}

fn clean_output(report: CleanReport, check: bool) -> Output {
    let mut out = output(crate::render::clean(&report), &report);
    if check && report.deleted.is_empty() {
        out.2 = EXIT_NOTHING_TO_DO;
    } else if !report.failed.is_empty() {
        out.2 = EXIT_FAILURE;
    }
    out
}

#[cfg(feature = "demo")]
async fn demo() -> Result<Output, CtlError> {
    let text = crate::demo::run()
        .await
        .map_err(|e| CtlError::new(EXIT_FAILURE, "demo_failed", format!("{e:#}")))?;
    Ok((
        text.clone(),
        serde_json::json!({ "transcript": text }),
        EXIT_OK,
    ))
}

#[cfg(not(feature = "demo"))]
async fn demo() -> Result<Output, CtlError> {
    Err(CtlError::new(
        EXIT_USAGE,
        "unsupported",
        "this build has no demo (feature `demo` is off)",
    ))
}

async fn standalone_service(
    settings: &Settings,
    sysfs_root: &std::path::Path,
) -> Result<Service, CtlError> {
    crate::daemon::build::service(
        settings,
        sysfs_root,
        &crate::daemon::build::Role::Standalone,
    )
    .await
    .map_err(|e| match e {
        BuildError::Session(e) => session_error(e),
        BuildError::Config(m) => CtlError::new(EXIT_USAGE, "bad_config", m),
        e @ BuildError::Credentials(_) => CtlError::new(EXIT_USAGE, "credentials", e),
        e @ BuildError::Bootstrap(_) => CtlError::new(EXIT_FAILURE, "credential_bootstrapping", e),
    })
}

fn kinds(names: &[String]) -> Result<Vec<Kind>, CtlError> {
    names
        .iter()
        .map(|k| {
            k.parse()
                .map_err(|e: String| CtlError::new(EXIT_USAGE, "bad_kind", e))
        })
        .collect()
}

async fn command(
    service: &Service,
    settings: &Settings,
    command: &Command,
) -> Result<Output, CtlError> {
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
        Command::Get { path } => raw(service, Request::get(redfish_path(path)?)).await,
        Command::Patch { path, data } => {
            raw(
                service,
                Request::json(http::Method::PATCH, redfish_path(path)?, &json_data(data)?),
            )
            .await
        }
        Command::Delete { path } => raw(service, Request::delete(redfish_path(path)?)).await,
        other => Err(CtlError::new(
            EXIT_USAGE,
            "unsupported",
            format!("{} needs the daemon (hostagentd)", command_name(other)),
        )),
    }
}

/// One raw request with the standalone session; the BMC's answer is printed whatever it is.
async fn raw(service: &Service, req: Request) -> Result<Output, CtlError> {
    let resp = service.agent.send(req).await.map_err(session_error)?;
    let body: serde_json::Value = if resp.body.is_empty() {
        serde_json::json!({ "status": resp.status.as_u16() })
    } else {
        serde_json::from_slice(&resp.body)
            .unwrap_or_else(|_| String::from_utf8_lossy(&resp.body).into())
    };
    Ok(pretty(
        body,
        if resp.status.is_success() {
            EXIT_OK
        } else {
            EXIT_FAILURE
        },
    ))
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

async fn clean_command(
    service: &Service,
    settings: &Settings,
    args: &CleanArgs,
) -> Result<Output, CtlError> {
    let mut policy = Policy::from_settings(&settings.reaper);
    if !args.kinds.is_empty() {
        policy.kinds = kinds(&args.kinds)?;
    }
    if let Some(minutes) = args.idle {
        policy.idle = Duration::from_secs(minutes * 60);
    }
    policy.force = args.force;
    policy.ids = args.ids.clone();
    let opts = CleanOptions {
        dry_run: args.dry_run,
        ..CleanOptions::default()
    };
    let report = service
        .clean(&policy, &opts, &progress_bar)
        .await
        .map_err(session_error)?;
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprint!("\r\x1b[2K");
    }
    Ok(clean_output(report, args.check))
}
