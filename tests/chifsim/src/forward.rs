//! A tiny blocking HTTP/1.1 client: sends the raw request text the agent put in the CHIF
//! packet to `CHIFSIM_TARGET` (one connection per request, `Connection: close`) and returns
//! the raw response text, as iLO's firmware hands back its web server's answer.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// Forwards `request` (raw HTTP/1.1 text) to `target` (`http://` or `https://host:port`).
pub fn forward(target: &str, request: &[u8]) -> Result<Vec<u8>, String> {
    let (tls, authority) = split_target(target)?;
    let rewritten = rewrite(request, authority)?;
    let tcp = TcpStream::connect(authority).map_err(|e| format!("connect {authority}: {e}"))?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    if !tls {
        return exchange(tcp, &rewritten);
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .trim_matches(['[', ']']);
    let name =
        ServerName::try_from(host.to_string()).map_err(|e| format!("server name {host}: {e}"))?;
    let conn = rustls::ClientConnection::new(tls_config(), name).map_err(|e| e.to_string())?;
    exchange(rustls::StreamOwned::new(conn, tcp), &rewritten)
}

fn split_target(target: &str) -> Result<(bool, &str), String> {
    let (tls, rest) = if let Some(r) = target.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = target.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!(
            "CHIFSIM_TARGET {target:?} is not an http:// or https:// URL"
        ));
    };
    Ok((tls, rest.trim_end_matches('/')))
}

/// Replaces Host and Connection, adds the channel header, keeps everything else as sent.
fn rewrite(request: &[u8], authority: &str) -> Result<Vec<u8>, String> {
    let split = find(request, b"\r\n\r\n").ok_or("request has no end of headers")?;
    let head = std::str::from_utf8(&request[..split]).map_err(|_| "request head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let mut out = format!("{}\r\n", lines.next().unwrap_or_default());
    for line in lines {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !matches!(name.as_str(), "host" | "connection" | "x-bmcsim-channel") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!(
        "Host: {authority}\r\nConnection: close\r\nX-Bmcsim-Channel: chif\r\n\r\n"
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&request[split + 4..]);
    Ok(bytes)
}

fn exchange(mut stream: impl Read + Write, request: &[u8]) -> Result<Vec<u8>, String> {
    stream
        .write_all(request)
        .map_err(|e| format!("send: {e}"))?;
    stream.flush().map_err(|e| format!("send: {e}"))?;
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => Ok(response),
        // A server that closes without TLS close_notify: the response is still complete.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {
            Ok(response)
        }
        Err(e) => Err(format!("receive: {e}")),
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn tls_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = Arc::new(NoVerify(provider.clone()));
            let config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// The simulator's certificate is self-signed and not checked (loopback test traffic only).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
