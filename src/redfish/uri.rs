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
}
