//! Keeps clients on the proxy: absolute URLs in the BMC's answers that name the BMC
//! (`Location`, `@odata.id` and any other link in a JSON body) lose the BMC's scheme and
//! authority. In bodies they become paths (what DSP0266 asks `@odata.id` to be); the
//! `Location` header becomes the client's own base when it reached the proxy over TCP, and a
//! path on the Unix socket.

/// The names the BMC goes by: the endpoint's host and the host of the agent's login
/// `Location` (iLO names its own address there, which may differ from the endpoint).
#[derive(Debug, Clone, Default)]
pub struct BmcNames {
    hosts: Vec<String>,
}

impl BmcNames {
    pub fn new<'a>(urls: impl IntoIterator<Item = &'a str>) -> BmcNames {
        let mut hosts: Vec<String> = urls
            .into_iter()
            .filter_map(|u| split_absolute(u).map(|(host, _)| host))
            .collect();
        hosts.sort();
        hosts.dedup();
        BmcNames { hosts }
    }

    /// The path of `value` when it is an absolute http(s) URL naming the BMC.
    pub fn local_path<'v>(&self, value: &'v str) -> Option<&'v str> {
        let (host, path) = split_absolute(value)?;
        self.hosts.contains(&host).then_some(path)
    }

    /// Rewrites a JSON body; `None` when nothing named the BMC (the body goes out untouched).
    pub fn rewrite_body(&self, body: &[u8]) -> Option<Vec<u8>> {
        if !self.named_in(body) {
            return None;
        }
        let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let changed = self.rewrite_value(&mut value);
        changed.then(|| serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec()))
    }

    /// Whether `://` followed by one of the BMC's names occurs in `body`: one `memmem` pass,
    /// so that most bodies (no absolute URL, or only links elsewhere) are never parsed.
    fn named_in(&self, body: &[u8]) -> bool {
        if self.hosts.is_empty() {
            return false;
        }
        let finder = SCHEME_END.get_or_init(|| memchr::memmem::Finder::new(b"://"));
        finder.find_iter(body).any(|at| {
            let after = &body[at + 3..];
            // userinfo@ or [v6] may come first; the host then follows within the authority.
            let authority_end = after
                .iter()
                .position(|b| matches!(b, b'/' | b'"' | b'\\' | b'?' | b'#'))
                .unwrap_or(after.len());
            let authority = &after[..authority_end];
            self.hosts.iter().any(|h| {
                authority
                    .windows(h.len())
                    .any(|w| w.eq_ignore_ascii_case(h.as_bytes()))
            })
        })
    }

    fn rewrite_value(&self, value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => match self.local_path(s) {
                Some(path) => {
                    *s = path.to_string();
                    true
                }
                None => false,
            },
            serde_json::Value::Array(items) => items
                .iter_mut()
                .fold(false, |acc, v| self.rewrite_value(v) | acc),
            serde_json::Value::Object(map) => map
                .values_mut()
                .fold(false, |acc, v| self.rewrite_value(v) | acc),
            _ => false,
        }
    }

    /// Rewrites absolute URLs naming the BMC (or HMC) in a text body (XML such as an Atom
    /// feed's `<link href=...>`, or JSON) to `base` + path: `base` is the client's own origin
    /// (`https://127.0.0.3:12443`) or a path prefix on the Unix socket. `None` when nothing
    /// named it (the body goes out untouched).
    pub fn rewrite_text(&self, body: &[u8], base: &str) -> Option<Vec<u8>> {
        if self.hosts.is_empty() {
            return None;
        }
        let mut out: Vec<u8> = Vec::new();
        let mut copied = 0;
        for at in memchr::memmem::find_iter(body, b"://") {
            let start = if at >= 5 && body[at - 5..at].eq_ignore_ascii_case(b"https") {
                at - 5
            } else if at >= 4 && body[at - 4..at].eq_ignore_ascii_case(b"http") {
                at - 4
            } else {
                continue;
            };
            // `xhttps://` is another scheme, and `...3https://` no URL of its own.
            let in_scheme = |b: &u8| b.is_ascii_alphanumeric() || b"+-.".contains(b);
            if start < copied || start.checked_sub(1).is_some_and(|i| in_scheme(&body[i])) {
                continue;
            }
            let len = body[start..]
                .iter()
                .position(|b| b"\"'<> \t\r\n".contains(b))
                .unwrap_or(body.len() - start);
            let Ok(url) = std::str::from_utf8(&body[start..start + len]) else {
                continue;
            };
            let Some(path) = self.local_path(url) else {
                continue;
            };
            let path_at = start + len - path.len();
            out.extend_from_slice(&body[copied..start]);
            out.extend_from_slice(base.as_bytes());
            copied = if url.ends_with(path) {
                path_at
            } else {
                start + len
            };
            if !url.ends_with(path) {
                out.extend_from_slice(path.as_bytes());
            }
        }
        if copied == 0 {
            return None;
        }
        out.extend_from_slice(&body[copied..]);
        Some(out)
    }

    /// The `Location` a client should see: `base` + path for a URL naming the BMC (a path on
    /// the Unix socket, where `base` is `None`); other values unchanged.
    pub fn location(&self, value: &str, base: Option<&str>) -> String {
        match (self.local_path(value), base) {
            (Some(path), Some(base)) => format!("{base}{path}"),
            (Some(path), None) => path.to_string(),
            (None, _) => value.to_string(),
        }
    }
}

static SCHEME_END: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
    std::sync::OnceLock::new();

/// Whether a body of these headers can hold a URL to rewrite: JSON (`application/json`,
/// `application/*+json`) or no content type at all. Images, firmware, logs as text and event
/// streams are passed on untouched.
pub fn may_name_hosts(headers: &http::HeaderMap) -> bool {
    let Some(ct) = headers.get(http::header::CONTENT_TYPE) else {
        return true;
    };
    let ct = ct.as_bytes();
    let essence = ct
        .split(|b| *b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    essence.eq_ignore_ascii_case(b"application/json")
        || (essence.len() > 17
            && essence[..12].eq_ignore_ascii_case(b"application/")
            && essence[essence.len() - 5..].eq_ignore_ascii_case(b"+json"))
}

/// `(host, path)` of an absolute http(s) URL: host lowercased, without port or brackets, path
/// `/` when absent.
fn split_absolute(url: &str) -> Option<(String, &str)> {
    let lower_scheme = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let rest = if lower_scheme.starts_with("https://") {
        &url[8..]
    } else if lower_scheme.starts_with("http://") {
        &url[7..]
    } else {
        return None;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> BmcNames {
        BmcNames::new([
            "https://127.0.0.1:8443",
            "https://16.1.15.1/redfish/v1/SessionService/Sessions/x/",
        ])
    }

    #[test]
    fn urls_naming_the_bmc_become_paths_and_others_stay() {
        let n = names();
        assert_eq!(
            n.local_path("https://16.1.15.1/redfish/v1/Systems/1/"),
            Some("/redfish/v1/Systems/1/")
        );
        assert_eq!(
            n.local_path("HTTPS://127.0.0.1:443/redfish/v1"),
            Some("/redfish/v1")
        );
        assert_eq!(n.local_path("https://example.com/redfish/v1"), None);
        assert_eq!(n.local_path("/redfish/v1/Systems/1"), None);
        assert_eq!(n.local_path("https://user@16.1.15.1"), Some("/"));
    }

    #[test]
    fn bodies_are_rewritten_deeply_and_only_when_needed() {
        let n = names();
        let body = br#"{"@odata.id":"https://16.1.15.1/redfish/v1/Systems/1/","Members":[{"@odata.id":"https://16.1.15.1:443/redfish/v1/Systems/1/Bios/"}],"Link":"https://www.dmtf.org/x"}"#;
        let out: serde_json::Value =
            serde_json::from_slice(&n.rewrite_body(body).unwrap()).unwrap();
        assert_eq!(out["@odata.id"], "/redfish/v1/Systems/1/");
        assert_eq!(
            out["Members"][0]["@odata.id"],
            "/redfish/v1/Systems/1/Bios/"
        );
        assert_eq!(out["Link"], "https://www.dmtf.org/x");
        assert_eq!(n.rewrite_body(br#"{"@odata.id":"/redfish/v1/"}"#), None);
        assert_eq!(n.rewrite_body(b"not json ://"), None);
        let elsewhere = br#"{"Link":"https://www.dmtf.org/redfish/v1"}"#;
        assert!(!n.named_in(elsewhere), "a link elsewhere is not parsed");
        assert!(n.named_in(br#"{"a":"https://admin@16.1.15.1:443/x"}"#));
        assert!(n.named_in(br#"{"a":"HTTPS://127.0.0.1/x"}"#));
    }

    #[test]
    fn only_json_bodies_are_scanned() {
        let with = |ct: &'static str| {
            let mut h = http::HeaderMap::new();
            h.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(ct),
            );
            may_name_hosts(&h)
        };
        assert!(with("application/json; charset=utf-8"));
        assert!(with("Application/JSON"));
        assert!(with("application/problem+json"));
        assert!(!with("application/octet-stream"));
        assert!(!with("text/event-stream"));
        assert!(!with("image/png"));
        assert!(may_name_hosts(&http::HeaderMap::new()), "no type: scanned");
    }

    #[test]
    fn text_bodies_get_the_clients_base_in_every_url_naming_the_hmc() {
        let n = BmcNames::new(["https://9.1.2.3:12443"]);
        let feed = br#"<feed><link rel="SELF" href="https://9.1.2.3:12443/rest/api/uom/ManagedSystem"/><a href='HTTPS://9.1.2.3:12443'/><b href="https://ibm.com/x"/>text http://9.1.2.3</feed>"#;
        let out = n.rewrite_text(feed, "https://127.0.0.3:12443").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"<feed><link rel="SELF" href="https://127.0.0.3:12443/rest/api/uom/ManagedSystem"/><a href='https://127.0.0.3:12443/'/><b href="https://ibm.com/x"/>text https://127.0.0.3:12443/</feed>"#
        );
        let out = n.rewrite_text(feed, "/hmc/prod").unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with(
            r#"<feed><link rel="SELF" href="/hmc/prod/rest/api/uom/ManagedSystem"/>"#
        ));
        assert_eq!(
            n.rewrite_text(b"<a href=\"https://ibm.com/\"/>", "/x"),
            None
        );
        assert_eq!(n.rewrite_text(b"no urls", "/x"), None);
    }

    #[test]
    fn only_whole_http_schemes_are_rewritten_in_text() {
        let n = BmcNames::new(["https://9.1.2.3:12443"]);
        for body in [
            &b"<a href=\"xhttps://9.1.2.3/rest/api\"/>"[..],
            b"<a href=\"git+https://9.1.2.3/x\"/>",
            b"<id>https://9.1.2.3https://9.1.2.3/rest/api</id>",
        ] {
            assert_eq!(
                n.rewrite_text(body, "/hmc/p"),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let out = n.rewrite_text(b"(https://9.1.2.3/a)", "/hmc/p").unwrap();
        assert_eq!(out, b"(/hmc/p/a)");
    }

    #[test]
    fn random_and_mutated_text_bodies_never_panic() {
        // The fuzz target hmc_proxy_answer runs this at length; here a fixed xorshift seed.
        let n = BmcNames::new(["https://9.1.2.3:12443"]);
        let feed = br#"<feed><link href="https://9.1.2.3:12443/rest/api/uom/ManagedSystem"/><id>HTTP://user@9.1.2.3/x?y=https://9.1.2.3</id>{"a":"https://[::1]/"}</feed>"#;
        let alphabet = b"htps:/9.12 3\"'<>@[]";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5_000 {
            let mut body = feed.to_vec();
            for _ in 0..1 + x % 4 {
                crate::testing::xorshift(&mut x);
                let at = (x % body.len() as u64) as usize;
                let b = alphabet[(x >> 8) as usize % alphabet.len()];
                match x >> 62 {
                    0 => body[at] = b,
                    1 => body.insert(at, b),
                    2 => drop(body.remove(at)),
                    _ => body[at] = (x >> 16) as u8,
                }
            }
            if let Some(out) = n.rewrite_text(&body, "/hmc/p") {
                assert_ne!(out, body);
                assert!(memchr::memmem::find(&out, b"/hmc/p").is_some());
            }
        }
    }

    #[test]
    fn location_gets_the_clients_base_or_a_path() {
        let n = names();
        let loc = "https://16.1.15.1/redfish/v1/SessionService/Sessions/abc/";
        assert_eq!(
            n.location(loc, Some("https://127.0.0.2")),
            "https://127.0.0.2/redfish/v1/SessionService/Sessions/abc/"
        );
        assert_eq!(
            n.location(loc, None),
            "/redfish/v1/SessionService/Sessions/abc/"
        );
        assert_eq!(
            n.location("/redfish/v1/TaskService/Tasks/1", Some("https://127.0.0.2")),
            "/redfish/v1/TaskService/Tasks/1"
        );
    }
}
