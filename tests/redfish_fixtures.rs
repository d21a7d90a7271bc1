//! Decoding and classification of every payload in tests/fixtures/redfish-sessions/ (real or
//! documented BMC answers; see its SOURCE.md).

use hostagent::redfish::{
    classify_session, decode_collection, ClassifyContext, Kind, Member, RedfishError,
};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/redfish-sessions/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn ilo7_ctx() -> ClassifyContext {
    let mut ctx = ClassifyContext::hpe_default();
    ctx.app_accounts = vec!["iLORest".into(), "AMS".into()];
    ctx
}

#[test]
fn every_session_file_gets_its_kind_user_origin_and_times() {
    let mut dmtf = ClassifyContext::default();
    dmtf.in_band.push(("169.254.0.0".parse().unwrap(), 16));
    let cases: &[(&str, &ClassifyContext, Kind, &str, &str)] = &[
        (
            "ilo5-session-resthost.json",
            &ilo7_ctx(),
            Kind::RestHost,
            "System Administrator",
            "::ffff:0.0.0.0",
        ),
        (
            "ilo6-session-rest.json",
            &ilo7_ctx(),
            Kind::Rest,
            "admin",
            "192.168.249.2",
        ),
        (
            "ilo-session-webui.json",
            &ilo7_ctx(),
            Kind::WebUi,
            "student",
            "192.168.1.45",
        ),
        (
            "ilo7-session-host-application.json",
            &ilo7_ctx(),
            Kind::HostApplication,
            "iLORest",
            "16.1.15.2",
        ),
        (
            "idrac-session.json",
            &dmtf,
            Kind::HostApplication,
            "root",
            "169.254.2.1",
        ),
        (
            "bmcweb-session.json",
            &dmtf,
            Kind::HostApplication,
            "root",
            "::ffff:169.254.0.2",
        ),
    ];
    for (file, ctx, kind, user, origin) in cases {
        let s = classify_session(&json(file), ctx);
        assert_eq!(s.kind, *kind, "{file}");
        assert_eq!(s.user.as_deref(), Some(*user), "{file}");
        assert_eq!(s.origin.as_deref(), Some(*origin), "{file}");
        // bmcweb says nothing of when a session was made: idle is measured from first sighting.
        assert_eq!(
            s.login_time.is_some(),
            !file.starts_with("bmcweb"),
            "{file}: a login/creation time"
        );
    }
    let rest_host = classify_session(&json("ilo5-session-resthost.json"), &ilo7_ctx());
    assert_eq!(
        rest_host.id, "system administrator000000005b76e3a1849ba511",
        "decoded id"
    );
    assert!(
        rest_host.uri.contains("system%20administrator"),
        "uri as the BMC wrote it"
    );
    assert_eq!(rest_host.raw_type.as_deref(), Some("RESTHost"));
    let mine = classify_session(&json("ilo6-session-rest.json"), &ilo7_ctx());
    assert!(mine.my_session);
    let expires = mine.expires.unwrap() - mine.last_access.unwrap();
    assert_eq!(expires.whole_seconds(), 1800);
    let bmcweb = classify_session(&json("bmcweb-session.json"), &dmtf);
    assert_eq!(
        bmcweb.context.as_deref(),
        Some("hostagent/3f1c9a6e-boot/agent")
    );
    // Without the host interface's subnet a DMTF REST session is just `rest`.
    assert_eq!(
        classify_session(&json("idrac-session.json"), &ClassifyContext::default()).kind,
        Kind::Rest
    );
}

#[test]
fn the_collection_gives_members_and_my_session() {
    let page = decode_collection(&json("ilo-session-collection.json")).unwrap();
    assert_eq!(page.members.len(), 2);
    assert!(
        matches!(&page.members[0], Member::Ref(uri) if uri.ends_with("student0000000063bd2164790ee259/"))
    );
    assert!(page
        .my_session
        .unwrap()
        .contains("administrator0000000063bd28ae70dd33bf"));
    assert!(page.next_link.is_none());
}

#[test]
fn error_bodies_keep_status_message_ids_and_answer_the_predicates() {
    let limit = RedfishError::from_body(503, &fixture("ilo-session-limit-503.json"));
    assert!(limit.is_session_limit() && !limit.is_no_valid_session());
    assert_eq!(
        limit.extended_info[0].message_id,
        "Base.1.18.SessionLimitExceeded"
    );
    let idrac = RedfishError::from_body(503, &fixture("idrac-session-limit-503.json"));
    assert!(idrac.is_session_limit(), "RAC0218");
    assert!(idrac.to_string().contains("IDRAC.2.1.RAC0218"), "{idrac}");
    let dead = RedfishError::from_body(401, &fixture("ilo-no-valid-session-401.json"));
    assert!(dead.is_no_valid_session() && !dead.is_unauthorized() && !dead.is_session_limit());
    let ok = RedfishError::from_body(200, &fixture("ilo-delete-session-200.json"));
    assert!(ok.has_message("Success"));
    let garbage = RedfishError::from_body(502, b"<html>Bad Gateway</html>\x00\x01");
    assert_eq!(garbage.status, 502);
    assert!(garbage
        .snippet
        .as_deref()
        .unwrap()
        .starts_with("<html>Bad Gateway"));
    assert!(
        !garbage.to_string().contains('\u{1}'),
        "control characters are not echoed"
    );
}

#[test]
fn the_create_session_answer_is_read_from_headers_with_the_absolute_location_cut_to_a_path() {
    let text = String::from_utf8(fixture("ilo-create-session-response.txt")).unwrap();
    let location = text
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .unwrap();
    assert_eq!(
        hostagent::redfish::path_of(location),
        "/redfish/v1/SessionService/Sessions/admin0000000063bc4f87659ddce4/"
    );
    // NOTE(hpe): old iLO 5 firmware answers the login with an ExtendedInfo body, not a session.
    let body = r#"{"error":{"@Message.ExtendedInfo":[{"MessageID":"Base.0.10.Created"}],"code":"iLO.0.10.ExtendedInfo","message":"See @Message.ExtendedInfo for more information."}}"#;
    let s = classify_session(
        &serde_json::from_str(body).unwrap(),
        &ClassifyContext::hpe_default(),
    );
    assert_eq!(s.kind, Kind::Unknown);
    assert!(
        RedfishError::from_body(201, body.as_bytes()).has_message("Created"),
        "MessageID spelling"
    );
}

#[test]
fn odd_shapes_are_unknown_never_errors() {
    let ctx = ClassifyContext::hpe_default();
    for body in [
        serde_json::json!("a string"),
        serde_json::json!({"Id": 7, "UserName": ["x"], "Oem": {"Hpe": "not an object"}}),
        serde_json::json!({"Oem": {"Hpe": {"UserTag": "RIBCL", "AccessTime": "yesterday"}}}),
        serde_json::json!({"SessionType": "Teleport", "CreatedTime": "2024-05-14T09:12:44"}),
    ] {
        let s = classify_session(&body, &ctx);
        assert!(
            matches!(s.kind, Kind::Unknown | Kind::Other),
            "{body}: {:?}",
            s.kind
        );
        assert!(s.last_access.is_none());
    }
    assert!(decode_collection(&serde_json::json!({"Members": "nope"})).is_err());
    let page =
        decode_collection(&serde_json::json!({"Members": [1, "x", {"@odata.id": "/a"}]})).unwrap();
    assert_eq!(
        page.members.len(),
        1,
        "junk members are skipped, good ones kept"
    );
}
