//! `agentctl top`: a live view of the BMC's session table for a person on the host, redrawn
//! every second from the daemon's `GET /metrics` (which asks the BMC nothing): the table's
//! fill against its limit, sessions by kind and owner, the reaper's last and next run, the
//! proxy's requests per second, virtual sessions and leases. `q` (or Ctrl-C) quits.
//!
//! The terminal is driven with crossterm (raw mode to read single keys, the alternate screen
//! so that the shell's screen comes back as it was, resize events): hand-written termios and
//! escape codes would have to get the restore right on every exit path themselves.
//! Without a terminal `top` refuses; `agentctl --json top` prints one frame for scripts.

pub mod frame;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyModifiers};
use crossterm::{cursor, execute, queue, terminal};
use futures::StreamExt;

use self::frame::Frame;
use super::client::DaemonClient;
use super::output::{CtlError, Output, EXIT_OK};

/// How often the frame is redrawn.
const EVERY: Duration = Duration::from_secs(1);

pub async fn run(client: &DaemonClient, json: bool) -> Result<Output, CtlError> {
    if json {
        let frame = fetch(client).await?;
        return Ok(Output::report(String::new(), &frame));
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CtlError::usage(
            "no_terminal",
            "agentctl top redraws a terminal and needs one on stdin and stdout: for scripts use `agentctl --json top` (one frame) or `agentctl --json status`",
        ));
    }
    let screen = Screen::enter().map_err(terminal_error)?;
    let result = live(client).await;
    drop(screen);
    result.map(|()| Output {
        text: String::new(),
        json: serde_json::Value::Null,
        exit: EXIT_OK,
    })
}

async fn fetch(client: &DaemonClient) -> Result<Frame, CtlError> {
    Ok(Frame::parse(&client.get_text("/metrics").await?))
}

async fn live(client: &DaemonClient) -> Result<(), CtlError> {
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(EVERY);
    let mut last: Option<(Instant, u64)> = None;
    let mut lines = Vec::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let frame = fetch(client).await?;
                let rate = last.map(|(at, n)| {
                    frame.proxy_requests.saturating_sub(n) as f64 / at.elapsed().as_secs_f64()
                });
                last = Some((Instant::now(), frame.proxy_requests));
                lines = frame.draw(unix_now(), rate);
            }
            event = keys.next() => match event {
                Some(Ok(Event::Key(key))) if quits(&key) => return Ok(()),
                Some(Ok(Event::Resize(..))) => {}
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(terminal_error(e)),
                None => return Ok(()),
            },
        }
        draw(&lines).map_err(terminal_error)?;
    }
}

fn quits(key: &KeyEvent) -> bool {
    matches!(
        key.code,
        KeyCode::Char('q') | KeyCode::Char('Q') | KeyCode::Esc
    ) || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
}

fn draw(lines: &[String]) -> std::io::Result<()> {
    let (cols, rows) = terminal::size().unwrap_or((80, 24));
    let mut out = std::io::stdout().lock();
    queue!(
        out,
        cursor::MoveTo(0, 0),
        terminal::Clear(terminal::ClearType::All)
    )?;
    for (row, line) in lines.iter().take(rows as usize).enumerate() {
        let shown: String = line.chars().take(cols as usize).collect();
        queue!(out, cursor::MoveTo(0, row as u16))?;
        out.write_all(shown.as_bytes())?;
    }
    out.flush()
}

/// Raw mode, the alternate screen and a hidden cursor, until dropped (on every exit path).
struct Screen;

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        terminal::enable_raw_mode()?;
        let screen = Screen;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )?;
        Ok(screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}

fn terminal_error(e: std::io::Error) -> CtlError {
    CtlError::new(
        super::EXIT_FAILURE,
        "terminal",
        format!("driving the terminal: {e}"),
    )
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
