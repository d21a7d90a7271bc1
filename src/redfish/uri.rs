//! Session URIs as BMCs write them: absolute or relative `Location`s, percent-encoded ids
//! (`system%20administrator…`), trailing slashes.

use percent_encoding::percent_decode_str;

/// The path of a `Location` or `@odata.id`, without scheme and authority.
///
/// NOTE(hpe): iLO's absolute `Location` names the BMC's own address without the port the
/// agent used; keep only its path and send every request to the configured endpoint.
pub fn path_of(location: &str) -> String {
    let rest = location.split_once("://").map(|(_, rest)| rest);
    match rest {
        Some(rest) => match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        },
        None => location.to_string(),
    }
}

/// A URI or id, percent-decoded, without trailing slashes, for comparison.
pub fn normalize(uri: &str) -> String {
    let path = path_of(uri);
    let decoded = percent_decode_str(&path).decode_utf8_lossy();
    decoded.trim_end_matches('/').to_string()
}

/// Whether two session URIs (or ids) name the same session.
pub fn ids_equal(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// The one key by which the proxy's guards compare session paths (the agent's own session,
/// virtual sessions): decoded, lower-cased, without trailing slashes, and
/// `.../Sessions/Members/<id>` read as `.../Sessions/<id>`.
///
/// NOTE(hpe): iLO finds a session by its id without regard to case and also answers it under
/// `Sessions/Members/<id>`: a guard that compared the path as written would let
/// `DELETE .../Sessions/ADMIN0000.../` through to the agent's own session. Lower-casing can
/// only make a guard refuse more (ids that differ only in case are one session to iLO).
pub fn session_key(uri: &str) -> String {
    let key = normalize(uri).to_ascii_lowercase();
    match key.rsplit_once('/') {
        Some((collection, id)) if collection.ends_with("/sessions/members") => {
            let sessions = &collection[..collection.len() - "/members".len()];
            format!("{sessions}/{id}")
        }
        _ => key,
    }
}

/// The last path segment, decoded: the session id of a session URI.
pub fn last_segment(uri: &str) -> String {
    let n = normalize(uri);
    n.rsplit('/').next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_locations_keep_only_the_path() {
        let loc = "https://192.168.1.101/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/";
        assert_eq!(
            path_of(loc),
            "/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/"
        );
        assert_eq!(
            path_of("/redfish/v1/SessionService/Sessions/Xk3cW9pQ2m"),
            "/redfish/v1/SessionService/Sessions/Xk3cW9pQ2m"
        );
        assert_eq!(
            path_of("https://[fe80::1%25usb0]:443/redfish/v1/"),
            "/redfish/v1/"
        );
    }

    #[test]
    fn encoded_and_decoded_ids_compare_equal() {
        let a =
            "/redfish/v1/SessionService/Sessions/system%20administrator000000005b76e3a1849ba511/";
        let b = "/redfish/v1/SessionService/Sessions/system administrator000000005b76e3a1849ba511";
        assert!(ids_equal(a, b));
        assert_eq!(
            last_segment(a),
            "system administrator000000005b76e3a1849ba511"
        );
        assert!(!ids_equal(a, "/redfish/v1/SessionService/Sessions/admin"));
    }

    #[test]
    fn session_keys_ignore_case_members_trailing_slashes_and_encoding() {
        let own =
            "https://16.1.15.1/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/";
        let key = session_key(own);
        assert_eq!(
            key,
            "/redfish/v1/sessionservice/sessions/admin0000000063bc4f87659ddce4"
        );
        for spelling in [
            "/redfish/v1/SessionService/Sessions/ADMIN0000000063BC4F87659DDCE4",
            "/redfish/v1/SessionService/Sessions/Members/admin0000000063bc4f87659ddce4/",
            "/redfish/v1/SessionService/Sessions/members/Admin0000000063bc4f87659ddce4",
            "/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4//",
            "/redfish/v1/SessionService/Sessions/%61dmin0000000063bc4f87659ddce4",
            "/redfish/v1/SessionService/Sessions/%41DMIN0000000063bc4f87659ddce4/",
        ] {
            assert_eq!(session_key(spelling), key, "{spelling}");
        }
        assert_ne!(
            session_key("/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce5"),
            key
        );
        assert_eq!(
            session_key("/redfish/v1/SessionService/Sessions/Members"),
            "/redfish/v1/sessionservice/sessions/members",
            "the collection's Members alias is not a member"
        );
    }
}
