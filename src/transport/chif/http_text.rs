//! The raw HTTP/1.1 text that travels inside CHIF REST packets: requests are encoded by
//! hand, responses parsed with hard bounds (fuzzed by the `chif_response` target).

use bytes::Bytes;
use http::header::{HeaderName, CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::transport::{Request, Response, TransportError};

/// Largest status line plus headers accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header lines accepted.
pub const MAX_HEADERS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpTextError {
    #[error("no end of headers (CRLF CRLF) within the first {0} bytes")]
    NoHeadEnd(usize),
    #[error("status line {0:?} is not `HTTP/1.x NNN reason`")]
    StatusLine(String),
    #[error("header line {line} is malformed: {what}")]
    Header { line: usize, what: String },
    #[error("more than {MAX_HEADERS} header lines")]
    TooManyHeaders,
    #[error("Content-Length {0:?} is not a number")]
    ContentLength(String),
    #[error("body is {available} bytes but Content-Length says {declared}")]
    ShortBody { declared: usize, available: usize },
    #[error("chunked body: {0}")]
    Chunked(&'static str),
}

/// Encodes `req` as HTTP/1.1 request text.
pub fn encode_request(req: &Request) -> Result<Vec<u8>, TransportError> {
    let path_ok = req.path.starts_with('/') && req.path.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if !path_ok {
        return Err(TransportError::Chif(format!(
            "request path {:?} is not a valid origin-form target",
            req.path
        )));
    }
    // NOTE(vendor): HPE's own client sends an empty Host header over CHIF
    // (python-ilorest-library src/redfish/rest/connections.py, Blobstore2Connection).
    let mut out = format!("{} {} HTTP/1.1\r\nHost: \r\n", req.method, req.path).into_bytes();
    for (name, value) in &req.headers {
        if [HOST, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION].contains(name) {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let has_body_method = [Method::POST, Method::PUT, Method::PATCH].contains(&req.method);
    if !req.body.is_empty() || has_body_method {
        out.extend_from_slice(format!("Content-Length: {}\r\n", req.body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&req.body);
    Ok(out)
}

/// Parses raw HTTP/1.1 response text. `head_request`: the request was HEAD (no body follows).
pub fn parse_response(raw: &[u8], head_request: bool) -> Result<Response, HttpTextError> {
    let window = &raw[..raw.len().min(MAX_HEAD + 4)];
    let head_end = find(window, b"\r\n\r\n").ok_or(HttpTextError::NoHeadEnd(MAX_HEAD))?;
    let head = &raw[..head_end];
    let rest = &raw[head_end + 4..];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status = parse_status_line(lines.next().unwrap_or_default())?;
    let mut headers = HeaderMap::new();
    for (i, line) in lines.enumerate() {
        if i >= MAX_HEADERS {
            return Err(HttpTextError::TooManyHeaders);
        }
        let (name, value) = parse_header(line, i + 2)?;
        headers.append(name, value);
    }
    let no_body = head_request || status.is_informational() || status == 204 || status == 304;
    let body = if no_body {
        Bytes::new()
    } else {
        body(&mut headers, rest)?
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn parse_status_line(line: &[u8]) -> Result<StatusCode, HttpTextError> {
    let bad = || {
        HttpTextError::StatusLine(String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned())
    };
    let text = std::str::from_utf8(line).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0")
        || code.len() != 3
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    StatusCode::from_bytes(code.as_bytes()).map_err(|_| bad())
}

fn parse_header(line: &[u8], line_no: usize) -> Result<(HeaderName, HeaderValue), HttpTextError> {
    let err = |what: &str| HttpTextError::Header {
        line: line_no,
        what: what.to_string(),
    };
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| err("no colon"))?;
    let name = HeaderName::from_bytes(&line[..colon]).map_err(|_| err("invalid header name"))?;
    let value = line[colon + 1..].trim_ascii();
    let value = HeaderValue::from_bytes(value).map_err(|_| err("invalid header value"))?;
    Ok((name, value))
}

fn body(headers: &mut HeaderMap, rest: &[u8]) -> Result<Bytes, HttpTextError> {
    let chunked = headers.get_all(TRANSFER_ENCODING).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.to_ascii_lowercase().contains("chunked"))
    });
    if chunked {
        headers.remove(TRANSFER_ENCODING);
        return dechunk(rest).map(Bytes::from);
    }
    let Some(len) = headers.get(CONTENT_LENGTH) else {
        return Ok(Bytes::copy_from_slice(rest));
    };
    let text = String::from_utf8_lossy(len.as_bytes()).into_owned();
    let declared: usize = text
        .trim()
        .parse()
        .map_err(|_| HttpTextError::ContentLength(text))?;
    if declared > rest.len() {
        return Err(HttpTextError::ShortBody {
            declared,
            available: rest.len(),
        });
    }
    Ok(Bytes::copy_from_slice(&rest[..declared]))
}

/// Decodes a chunked body (extensions ignored, trailers dropped).
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, HttpTextError> {
    let mut out = Vec::new();
    loop {
        let eol =
            find(rest, b"\r\n").ok_or(HttpTextError::Chunked("chunk size line has no CRLF"))?;
        let size_text = std::str::from_utf8(&rest[..eol])
            .map_err(|_| HttpTextError::Chunked("chunk size is not text"))?;
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| HttpTextError::Chunked("chunk size is not hex"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size.saturating_add(2) {
            return Err(HttpTextError::Chunked("chunk is longer than the data"));
        }
        if &rest[size..size + 2] != b"\r\n" {
            return Err(HttpTextError::Chunked("chunk data is not followed by CRLF"));
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_headers_and_content_length_body() {
        let raw = b"HTTP/1.1 201 Created\r\nLocation: /redfish/v1/S/1\r\nX-Auth-Token: t\r\nContent-Length: 2\r\n\r\n{}extra";
        let rsp = parse_response(raw, false).unwrap();
        assert_eq!(rsp.status, 201);
        assert_eq!(rsp.header_str("location"), Some("/redfish/v1/S/1"));
        assert_eq!(&rsp.body[..], b"{}");
    }

    #[test]
    fn decodes_chunked_bodies() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let rsp = parse_response(raw, false).unwrap();
        assert_eq!(&rsp.body[..], b"abcde");
        assert!(rsp.headers.get(TRANSFER_ENCODING).is_none());
    }

    #[test]
    fn malformed_responses_name_the_problem() {
        let cases: [(&[u8], &str); 5] = [
            (b"HTTP/1.1 200 OK\r\nA: b\r\n", "no end of headers"),
            (b"SPDY/3 200 OK\r\n\r\n", "status line"),
            (
                b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
                "header line 2 is malformed: no colon",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                "body is 5 bytes but Content-Length says 10",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
                "chunk size is not hex",
            ),
        ];
        for (raw, want) in cases {
            let err = parse_response(raw, false).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }

    #[test]
    fn encodes_request_with_length_and_without_caller_hop_headers() {
        let mut req = Request::json(
            Method::POST,
            "/redfish/v1/SessionService/Sessions",
            &serde_json::json!({"a": 1}),
        );
        req.headers.insert(HOST, HeaderValue::from_static("evil"));
        let text = String::from_utf8(encode_request(&req).unwrap()).unwrap();
        assert!(text.starts_with("POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\nHost: \r\n"));
        assert!(text.contains("content-type: application/json\r\n"));
        assert!(text.ends_with("Content-Length: 7\r\n\r\n{\"a\":1}"));
        assert!(!text.contains("evil"));
        let bad = Request::get("/redfish/v1/a b");
        assert!(encode_request(&bad)
            .unwrap_err()
            .to_string()
            .contains("not a valid origin-form target"));
    }
}
