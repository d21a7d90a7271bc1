//! Hostile local clients for the API's listeners: threads that take another uid (the kernel
//! keeps credentials per thread: raw `setresuid` changes only the calling thread, unlike
//! libc's, which changes every thread) and then stall bodies, send headers a byte at a time or
//! flood connects, on the Unix socket or the loopback HTTPS listener.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `nobody`: a reader when the reader group is `nogroup`.
pub const READER: (u32, u32) = (65534, 65534);
/// A uid and gid with no user or group of their own: no role.
pub const STRANGER: (u32, u32) = (65533, 65533);

#[derive(Clone, Debug)]
pub enum Target {
    Unix(PathBuf),
    Https(SocketAddr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Headers announcing a 1 MB body to the proxy, as much of it as the daemon takes, then
    /// nothing.
    StalledBody,
    /// Headers one byte per second.
    Slowloris,
    /// Connect, close, again, as fast as it goes; and connections that never say a word.
    ConnectFlood,
}

/// Drops this thread's groups, gid and uid (only this thread's: raw syscalls).
pub fn become_user((uid, gid): (u32, u32)) {
    // SAFETY: plain syscalls on this thread's own credentials.
    unsafe {
        assert_eq!(
            libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<u32>()),
            0
        );
        assert_eq!(libc::syscall(libc::SYS_setresgid, gid, gid, gid), 0);
        assert_eq!(libc::syscall(libc::SYS_setresuid, uid, uid, uid), 0);
    }
}

pub enum Conn {
    Unix(UnixStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    Tcp(TcpStream),
}

impl Conn {
    /// A connection; over HTTPS with the TLS handshake done unless `raw`.
    pub fn open(target: &Target, raw: bool) -> std::io::Result<Conn> {
        let timeout = Some(Duration::from_secs(3));
        match target {
            Target::Unix(path) => {
                let s = UnixStream::connect(path)?;
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)?;
                Ok(Conn::Unix(s))
            }
            Target::Https(addr) => {
                let s = TcpStream::connect_timeout(addr, Duration::from_secs(3))?;
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)?;
                if raw {
                    return Ok(Conn::Tcp(s));
                }
                let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
                let tls = rustls::ClientConnection::new(tls_config(), name)
                    .map_err(std::io::Error::other)?;
                let mut stream = rustls::StreamOwned::new(tls, s);
                while stream.conn.is_handshaking() {
                    stream.conn.complete_io(&mut stream.sock)?;
                }
                Ok(Conn::Tls(Box::new(stream)))
            }
        }
    }

    /// Reads what comes until EOF or an error, at most 64 KiB.
    pub fn read_answer(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while out.len() < 65536 {
            match self.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        out
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Unix(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
            Conn::Tcp(s) => s.flush(),
        }
    }
}

/// One request with `Connection: close`; the whole answer.
pub fn request(target: &Target, request: &str) -> std::io::Result<String> {
    let mut c = Conn::open(target, false)?;
    c.write_all(request.as_bytes())?;
    c.flush()?;
    Ok(String::from_utf8_lossy(&c.read_answer()).into_owned())
}

const STALLED_HEAD: &str = "POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\nHost: x\r\n\
                            Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n";
const SLOW_HEAD: &[u8] = b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";

/// Runs `attack` as `who` on `target` until `until`; returns how many connections it opened.
pub fn run(who: (u32, u32), target: Target, attack: Attack, until: Instant) -> usize {
    become_user(who);
    let mut opened = 0;
    match attack {
        Attack::ConnectFlood => {
            let mut idle = Vec::new();
            while Instant::now() < until {
                if let Ok(c) = Conn::open(&target, true) {
                    opened += 1;
                    // One in four is kept open and silent; the rest close at once.
                    if opened % 4 == 0 && idle.len() < 512 {
                        idle.push(c);
                    }
                }
            }
        }
        Attack::StalledBody | Attack::Slowloris => {
            let mut conns: Vec<(Conn, usize)> = Vec::new();
            let chunk = vec![b'x'; 60 << 10];
            while Instant::now() < until {
                while conns.len() < 300 && Instant::now() < until {
                    let Ok(mut c) = Conn::open(&target, false) else {
                        break;
                    };
                    opened += 1;
                    if attack == Attack::StalledBody {
                        // As much of the body as goes in before the daemon stops reading.
                        let _ = c.write_all(STALLED_HEAD.as_bytes());
                        for _ in 0..16 {
                            if c.write_all(&chunk).is_err() {
                                break;
                            }
                        }
                        let _ = c.flush();
                    }
                    conns.push((c, 0));
                }
                if attack == Attack::Slowloris {
                    conns.retain_mut(|(c, sent)| {
                        let byte = SLOW_HEAD[*sent % SLOW_HEAD.len()];
                        *sent += 1;
                        c.write_all(&[byte]).and_then(|_| c.flush()).is_ok()
                    });
                }
                // The attack's own pace: a byte per connection per second.
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    opened
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    Arc::new(config)
}

/// The listener's certificate is made at each start; these clients take any.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The daemon's resident memory in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Refusal counts in the daemon's log: (uid, listener) → refused connections, lines.
pub fn refusals(log: &str, uid: u32, listener: &str) -> (u64, usize) {
    let (mut count, mut lines) = (0, 0);
    let one = format!("refused a connection from uid {uid} on the {listener}:");
    let many = format!(" connections from uid {uid} on the {listener} in the last minute");
    for line in log.lines() {
        if line.contains(&one) {
            count += 1;
            lines += 1;
        } else if let Some(at) = line.find(&many) {
            let head = &line[..at];
            let n = head.rsplit("refused ").next().unwrap_or_default();
            count += n.trim().parse::<u64>().unwrap_or(0);
            lines += 1;
        }
    }
    (count, lines)
}
