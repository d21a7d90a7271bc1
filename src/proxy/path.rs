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
    if decoded.chars().any(|c| c.is_control() || c == '\\') || contains_encoded_slash(path) {
        return Err(PathError::Encoded(path.to_string()));
    }
    let mut segments = decoded.trim_end_matches('/').split('/').skip(1);
    if segments
        .clone()
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(PathError::DotSegment(path.to_string()));
    }
    let under_v1 = matches!(
        (segments.next(), segments.next()),
        (Some("redfish"), None | Some("v1"))
    );
    if !under_v1 {
        return Err(PathError::Outside(path.to_string()));
    }
    Ok(Target {
        path: path.to_string(),
        query: query.filter(|q| !q.is_empty()).map(str::to_string),
    })
}

/// `%2f` or `%2F` anywhere in `path`.
fn contains_encoded_slash(path: &str) -> bool {
    path.as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%2f"))
}

/// NOTE(hpe): ilorest, given a URL with a port, builds its logout target from the session's
/// absolute `Location` and the port it parsed, and sends `DELETE /None:8443/redfish/v1/...`.
/// The path it meant is what follows the first segment.
pub fn strip_ilorest_prefix(path: &str) -> &str {
    let Some(rest) = path.strip_prefix('/') else {
        return path;
    };
    let Some(end) = rest.bytes().position(|b| b == b'/') else {
        return path;
    };
    let first = &rest[..end];
    let malformed = first.len() > 5
        && first.as_bytes()[..5].eq_ignore_ascii_case(b"none:")
        && first.as_bytes()[5..].iter().all(u8::is_ascii_digit);
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
    if !may_be_under(&target.path, sessions_path) {
        return None;
    }
    member_id(target, sessions_path)
}

/// [`session_member`] without its cheap first check.
fn member_id(target: &Target, sessions_path: &str) -> Option<String> {
    let key = crate::redfish::session_key(&target.path);
    let sessions = key_of(sessions_path);
    let id = key.strip_prefix(&sessions)?.strip_prefix('/')?;
    // The id as the client spelled it (case kept), decoded.
    (!id.is_empty() && !id.contains('/') && id != "members")
        .then(|| crate::redfish::last_segment(&target.path))
}

/// Whether `path` may name something under `collection` in any spelling [`session_key`]
/// accepts: false only for a plain path (no percent-encoding, not an absolute URL) that does
/// not start with the collection's path, ignoring case. Most requests are such paths, and
/// this check needs no allocation.
///
/// [`session_key`]: crate::redfish::session_key
fn may_be_under(path: &str, collection: &str) -> bool {
    let plain = |p: &str| !p.contains('%') && !p.contains("://");
    if !plain(path) || !plain(collection) {
        return true;
    }
    let prefix = collection.trim_end_matches('/').as_bytes();
    path.len() >= prefix.len() && path.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix)
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

    #[test]
    fn the_cheap_first_check_never_hides_a_session_member() {
        // Spellings of session paths: prefixes of the collection, case flipped, encoded
        // letters, absolute URLs, Members/, extra slashes; each compared with the full check.
        let stems = [
            "/redfish/v1/SessionService/Sessions/",
            "https://bmc/redfish/v1/SessionService/Sessions/",
            "/redfish/v1/%53essionService/Sessions/",
            "/redfish/v1/SessionService/Sessions/Members/",
            "/redfish/v1/Systems/1/",
        ];
        let tails = ["abc", "ABC/", "a%20b", "Members", "a/b", "", "/x", "%2e"];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            crate::testing::xorshift(&mut x);
            let stem = stems[(x % stems.len() as u64) as usize];
            let cut = (x >> 8) as usize % (stem.len() + 1);
            let mut path: String = stem[..cut]
                .chars()
                .enumerate()
                .map(|(i, c)| match (x >> (16 + i % 40)) & 1 {
                    1 => c.to_ascii_uppercase(),
                    _ => c.to_ascii_lowercase(),
                })
                .collect();
            path.push_str(tails[((x >> 56) as usize) % tails.len()]);
            let target = Target { path, query: None };
            for sessions in [SESSIONS, "/redfish/v1/SessionService/Sessions"] {
                assert_eq!(
                    session_member(&target, sessions),
                    member_id(&target, sessions),
                    "{:?}",
                    target.path
                );
            }
        }
    }
}
