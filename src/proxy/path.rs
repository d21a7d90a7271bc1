//! Which Redfish path a client asked for, checked before anything is forwarded: only
//! `/redfish` and `/redfish/v1/**`, no dot segments, no encoded slashes or NULs, and
//! ilorest's malformed logout path (`/none:PORT/redfish/...`) read as the path it meant.

use percent_encoding::percent_decode_str;

/// A request target the proxy may forward: `path` is as the client wrote it (percent-encoding
/// kept, so ids such as `system%20administrator…` reach the BMC unchanged), `query` without `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: String,
    pub query: Option<String>,
}

impl Target {
    /// Path and query as sent to the BMC.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// The path decoded, lowercased and without trailing slashes: for comparing resources.
    pub fn key(&self) -> String {
        key_of(&self.path)
    }
}

/// `path` decoded, lowercased and without trailing slashes (the root stays `/`).
pub fn key_of(path: &str) -> String {
    let normalized = crate::redfish::normalize(path);
    if normalized.is_empty() {
        "/".to_string()
    } else {
        normalized.to_ascii_lowercase()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the proxy forwards only /redfish/v1 and below, not `{0}`")]
    Outside(String),
    #[error("path `{0}` has a `.` or `..` segment or an empty segment")]
    DotSegment(String),
    #[error("path `{0}` encodes a slash, a backslash or a control character")]
    Encoded(String),
}

/// Checks a request target (`path?query` from the request line).
pub fn parse(path: &str, query: Option<&str>) -> Result<Target, PathError> {
    let path = strip_ilorest_prefix(path);
    if !path.starts_with('/') {
        return Err(PathError::Outside(path.to_string()));
    }
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    if decoded.chars().any(|c| c.is_control() || c == '\\') || lower_contains(path, "%2f") {
        return Err(PathError::Encoded(path.to_string()));
    }
    let segments: Vec<&str> = decoded.trim_end_matches('/').split('/').skip(1).collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(PathError::DotSegment(path.to_string()));
    }
    let under_v1 = matches!(segments.as_slice(), ["redfish"] | ["redfish", "v1", ..]);
    if !under_v1 {
        return Err(PathError::Outside(path.to_string()));
    }
    Ok(Target {
        path: path.to_string(),
        query: query.filter(|q| !q.is_empty()).map(str::to_string),
    })
}

fn lower_contains(haystack: &str, needle: &str) -> bool {
    haystack.to_ascii_lowercase().contains(needle)
}

/// NOTE(hpe): ilorest, given a URL with a port, builds its logout target from the session's
/// absolute `Location` and the port it parsed, and sends `DELETE /None:8443/redfish/v1/...`.
/// The path it meant is what follows the first segment.
pub fn strip_ilorest_prefix(path: &str) -> &str {
    let Some(rest) = path.strip_prefix('/') else {
        return path;
    };
    let Some((first, _)) = rest.split_once('/') else {
        return path;
    };
    let malformed = first.split_once(':').is_some_and(|(host, port)| {
        host.eq_ignore_ascii_case("none")
            && !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
    });
    if malformed {
        &path[1 + first.len()..]
    } else {
        path
    }
}

/// Whether `target` is the session collection at `sessions_path` (or its `Members`), where a
/// POST is a login.
pub fn is_session_collection(target: &Target, sessions_path: &str) -> bool {
    let key = target.key();
    let sessions = key_of(sessions_path);
    key == sessions || key == format!("{sessions}/members")
}

/// The member id when `target` names one session under `sessions_path`, in any spelling the
/// BMC accepts (see [`crate::redfish::session_key`]: case, `Members/<id>`, slashes, encoding).
pub fn session_member(target: &Target, sessions_path: &str) -> Option<String> {
    let key = crate::redfish::session_key(&target.path);
    let sessions = key_of(sessions_path);
    let id = key.strip_prefix(&sessions)?.strip_prefix('/')?;
    // The id as the client spelled it (case kept), decoded.
    (!id.is_empty() && !id.contains('/') && id != "members")
        .then(|| crate::redfish::last_segment(&target.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSIONS: &str = "/redfish/v1/SessionService/Sessions/";

    #[test]
    fn only_redfish_v1_is_forwarded() {
        assert!(parse("/redfish/v1/Systems/1/", None).is_ok());
        assert!(parse("/redfish", None).is_ok());
        assert!(parse("/redfish/v1", Some("$expand=.")).is_ok());
        assert_eq!(
            parse("/v1/status", None),
            Err(PathError::Outside("/v1/status".into()))
        );
        assert!(matches!(
            parse("/redfish/v2/x", None),
            Err(PathError::Outside(_))
        ));
        assert!(matches!(
            parse("/redfishx/v1", None),
            Err(PathError::Outside(_))
        ));
        assert!(matches!(parse("/", None), Err(PathError::Outside(_))));
        // Found by fuzzing: a target that does not start with `/` was read as if it did.
        assert!(matches!(
            parse("x/redfish/v1/Systems", None),
            Err(PathError::Outside(_))
        ));
        assert!(matches!(parse("", None), Err(PathError::Outside(_))));
    }

    #[test]
    fn dot_segments_and_encoded_slashes_are_refused() {
        assert!(matches!(
            parse("/redfish/v1/../../etc/passwd", None),
            Err(PathError::DotSegment(_))
        ));
        assert!(matches!(
            parse("/redfish/v1/%2e%2e/x", None),
            Err(PathError::DotSegment(_))
        ));
        assert!(matches!(
            parse("/redfish/v1//Systems", None),
            Err(PathError::DotSegment(_))
        ));
        assert!(matches!(
            parse("/redfish/v1/Systems%2F1", None),
            Err(PathError::Encoded(_))
        ));
        assert!(matches!(
            parse("/redfish/v1/Systems%001", None),
            Err(PathError::Encoded(_))
        ));
    }

    #[test]
    fn ilorest_logout_with_none_and_port_means_the_path_after_it() {
        assert_eq!(
            strip_ilorest_prefix("/None:8443/redfish/v1/SessionService/Sessions/abc/"),
            "/redfish/v1/SessionService/Sessions/abc/"
        );
        assert_eq!(
            strip_ilorest_prefix("/none:443/redfish/v1/"),
            "/redfish/v1/"
        );
        assert_eq!(
            strip_ilorest_prefix("/None:/redfish/v1/"),
            "/None:/redfish/v1/"
        );
        assert_eq!(strip_ilorest_prefix("/redfish/v1/"), "/redfish/v1/");
        let t = parse("/None:8443/redfish/v1/SessionService/Sessions/abc/", None).unwrap();
        assert_eq!(session_member(&t, SESSIONS).as_deref(), Some("abc"));
    }

    #[test]
    fn session_collection_and_members_are_recognised_whatever_the_spelling() {
        let t = |p: &str| parse(p, None).unwrap();
        assert!(is_session_collection(
            &t("/redfish/v1/SessionService/Sessions"),
            SESSIONS
        ));
        assert!(is_session_collection(
            &t("/redfish/v1/sessionservice/sessions/"),
            SESSIONS
        ));
        assert!(is_session_collection(
            &t("/redfish/v1/SessionService/Sessions/Members"),
            SESSIONS
        ));
        assert!(!is_session_collection(
            &t("/redfish/v1/SessionService"),
            SESSIONS
        ));
        assert_eq!(
            session_member(&t("/redfish/v1/SessionService/Sessions/Ab%20c/"), SESSIONS).as_deref(),
            Some("Ab c")
        );
        assert_eq!(
            session_member(&t("/redfish/v1/SessionService/Sessions"), SESSIONS),
            None
        );
        assert_eq!(
            session_member(&t("/redfish/v1/SessionService/Sessions/a/b"), SESSIONS),
            None
        );
        assert_eq!(
            session_member(
                &t("/redfish/v1/SessionService/Sessions/Members/AbC/"),
                SESSIONS
            )
            .as_deref(),
            Some("AbC"),
            "iLO answers a member under Members/ too"
        );
        assert_eq!(
            session_member(&t("/redfish/v1/SessionService/Sessions/Members/"), SESSIONS),
            None
        );
    }

    #[test]
    fn random_targets_are_refused_or_stay_under_redfish() {
        // The fuzz target proxy_input runs this property at length; here a fixed xorshift seed.
        let alphabet = b"/.%2eEfF0aNnoe:8redfishv1SsonMmb?&$ \\\x00\xff";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..50_000 {
            let mut bytes = b"/redfish/v1/".to_vec();
            bytes.truncate((x % 13) as usize);
            for _ in 0..(x % 24) {
                crate::testing::xorshift(&mut x);
                bytes.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(t) = parse(&text, None) {
                let key = t.key();
                assert!(
                    key == "/redfish" || key.starts_with("/redfish/v1"),
                    "{text:?} -> {key}"
                );
                assert!(!key.split('/').any(|s| s == ".." || s == "."), "{text:?}");
            }
        }
    }
}
