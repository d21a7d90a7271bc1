use time::macros::datetime;

use super::*;

fn session(id: &str, user: &str, kind: Kind) -> SessionInfo {
    let mut s = SessionInfo::unknown(&format!("/redfish/v1/SessionService/Sessions/{id}/"));
    s.user = Some(user.to_string());
    s.kind = kind;
    s.origin = Some("127.0.0.1".into());
    s.login_time = Some(datetime!(2026-11-30 09:00:00 UTC));
    s.last_access = Some(datetime!(2026-11-30 09:05:00 UTC));
    s
}

fn entry(id: &str, owner: &str, user: Option<&str>) -> LedgerEntry {
    LedgerEntry {
        uri: format!("/redfish/v1/SessionService/Sessions/{id}"),
        owner: owner.into(),
        user: user.map(str::to_string),
        created: datetime!(2026-11-30 09:00:00 UTC),
        bmc_created: None,
        kind: None,
        earlier: true,
    }
}

#[test]
fn a_reused_id_is_not_an_orphan_when_kind_or_creation_time_tell_another_session() {
    // iDRAC numbers sessions 2, 3, ... and starts again after a reboot: the ledger's URIs
    // now name other sessions, made after the record.
    let mut recorded = entry("2", "lease:0a1b2c3d4e5f", Some("admin"));
    recorded.kind = Some(Kind::Rest);
    recorded.bmc_created = Some(datetime!(2026-11-30 09:00:07 UTC));
    recorded.created = datetime!(2026-11-30 12:00:00 UTC);
    let owners = Owners {
        earlier: EarlierRun {
            ledger: vec![recorded],
            ..EarlierRun::default()
        },
        ..Owners::default()
    };
    let made_at = |kind: Kind, t: time::OffsetDateTime| {
        let mut s = session("2", "admin", kind);
        s.uri = "/redfish/v1/SessionService/Sessions/2".into();
        s.login_time = Some(t);
        s
    };
    let ours = made_at(Kind::Rest, datetime!(2026-11-30 09:00:07 UTC));
    assert_eq!(
        owners.owner_of(&ours),
        Owner::Orphan(Some("lease:0a1b2c3d4e5f".into()))
    );
    assert_eq!(
        owners.owner_of(&made_at(Kind::Rest, datetime!(2026-11-30 09:00:08 UTC))),
        Owner::Foreign,
        "made after the record, on the BMC's clock (the host's clock is hours ahead)"
    );
    assert_eq!(
        owners.owner_of(&made_at(
            Kind::HostApplication,
            datetime!(2026-11-30 09:00:00 UTC)
        )),
        Owner::Foreign,
        "another kind than the agent's session was"
    );
    for person in [Kind::WebUi, Kind::Console, Kind::Shell, Kind::Ipmi] {
        assert_eq!(
            owners.owner_of(&made_at(person, datetime!(2026-11-30 09:00:00 UTC))),
            Owner::Foreign,
            "{person}: a person's kind"
        );
    }
    let mut first_seen = made_at(Kind::Rest, datetime!(2026-11-30 13:00:00 UTC));
    first_seen.login_time_inferred = true;
    assert_eq!(
        owners.owner_of(&first_seen),
        Owner::Orphan(Some("lease:0a1b2c3d4e5f".into())),
        "a time the BMC did not say proves nothing either way"
    );
}

#[test]
fn a_ledger_entry_recorded_before_the_bmc_last_booted_is_no_listed_session() {
    // A BMC that gives sessions no creation time but says when it booted.
    let made = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let mut recorded = entry("2", "agent", Some("admin"));
    recorded.kind = Some(Kind::Rest);
    recorded.bmc_created = Some(made);
    let mut s = session("2", "admin", Kind::Rest);
    s.uri = "/redfish/v1/SessionService/Sessions/2".into();
    s.login_time = None;
    let owners = |boot| Owners {
        earlier: EarlierRun {
            ledger: vec![recorded.clone()],
            bmc_boot: boot,
            ..EarlierRun::default()
        },
        ..Owners::default()
    };
    let rebooted_since = made + time::Duration::minutes(30);
    assert_eq!(owners(Some(rebooted_since)).owner_of(&s), Owner::Foreign);
    let booted_before = made - time::Duration::minutes(30);
    assert_eq!(
        owners(Some(booted_before)).owner_of(&s),
        Owner::Orphan(Some("agent".into()))
    );
    assert_eq!(
        owners(None).owner_of(&s),
        Owner::Orphan(Some("agent".into())),
        "the BMC does not say: the other checks decide"
    );
}

#[test]
fn without_a_noted_kind_or_bmc_time_the_ledger_still_never_takes_a_person_s_or_a_later_session() {
    let owners = Owners {
        earlier: EarlierRun {
            ledger: vec![entry("3", "agent", Some("admin"))],
            ..EarlierRun::default()
        },
        ..Owners::default()
    };
    let mut s = session("3", "admin", Kind::WebUi);
    s.uri = "/redfish/v1/SessionService/Sessions/3".into();
    assert_eq!(owners.owner_of(&s), Owner::Foreign, "a person's kind");
    s.kind = Kind::Rest;
    assert_eq!(owners.owner_of(&s), Owner::Orphan(Some("agent".into())));
    s.login_time = Some(datetime!(2026-11-30 09:00:01 UTC));
    assert_eq!(
        owners.owner_of(&s),
        Owner::Foreign,
        "made after the host's clock at the record"
    );
}

#[test]
fn no_orphan_rule_takes_a_person_s_session() {
    let mut own = session("own", "admin", Kind::Rest);
    own.login_time = Some(datetime!(2026-11-30 10:00:00 UTC));
    let mut owners = Owners {
        earlier: EarlierRun {
            by_context: true,
            identity: Identity::of(&own),
            ..EarlierRun::default()
        },
        ..Owners::default()
    };
    let mut web = session("web", "admin", Kind::WebUi);
    web.context = Some("hostagent/6a1c0f3e-boot/agent".into());
    let mut person = entry("web", "agent", Some("admin"));
    person.uri = web.uri.clone();
    owners.earlier.ledger.push(person);
    for kind in [Kind::WebUi, Kind::Console, Kind::Shell, Kind::Ipmi] {
        web.kind = kind;
        assert_eq!(owners.owner_of(&web), Owner::Foreign, "{kind}");
    }
    // The same session as a program's kind: every rule would have taken it.
    web.kind = Kind::Rest;
    assert!(matches!(owners.owner_of(&web), Owner::Orphan(_)));
}

#[test]
fn a_ledger_entry_listed_with_the_same_user_is_an_orphan_and_no_other() {
    let owners = Owners {
        earlier: EarlierRun {
            ledger: vec![
                entry("admin01", "lease:0a1b2c3d4e5f", Some("Admin")),
                entry("admin02", "agent", Some("admin")),
            ],
            ..EarlierRun::default()
        },
        ..Owners::default()
    };
    assert_eq!(
        owners.owner_of(&session("admin01", "admin", Kind::Rest)),
        Owner::Orphan(Some("lease:0a1b2c3d4e5f".into()))
    );
    assert_eq!(
        owners
            .owner_of(&session("admin01", "admin", Kind::Rest))
            .to_string(),
        "orphan:lease:0a1b2c3d4e5f"
    );
    assert_eq!(
        owners.owner_of(&session("admin02", "alice", Kind::WebUi)),
        Owner::Foreign,
        "the URI came back with another user: not provably ours"
    );
    assert_eq!(
        owners.owner_of(&session("admin03", "admin", Kind::Rest)),
        Owner::Foreign
    );
}

#[test]
fn a_context_tag_makes_an_orphan_unless_it_names_a_live_or_opening_lease() {
    let tagged = |id: &str, who: &str| {
        let mut s = session(id, "admin", Kind::Rest);
        s.context = Some(format!("hostagent/6a1c0f3e-boot/{who}"));
        s
    };
    let mut owners = Owners {
        agent_uri: Some("/redfish/v1/SessionService/Sessions/now".into()),
        ..Owners::default()
    };
    owners.lease_ids.insert("0a1b2c3d4e5f".into());
    assert_eq!(
        owners.owner_of(&tagged("old", "agent")),
        Owner::Foreign,
        "outside the daemon tags do not count"
    );
    owners.earlier.by_context = true;
    assert_eq!(
        owners.owner_of(&tagged("old", "agent")),
        Owner::Orphan(Some("agent".into()))
    );
    assert_eq!(
        owners.owner_of(&tagged("old2", "ffffffffffff")).to_string(),
        "orphan:lease:ffffffffffff"
    );
    assert_eq!(
        owners.owner_of(&tagged("opening", "0a1b2c3d4e5f")),
        Owner::Lease("0a1b2c3d4e5f".into())
    );
    assert_eq!(owners.owner_of(&tagged("now", "agent")), Owner::Agent);
    owners.agent_logging_in = true;
    assert_eq!(
        owners.owner_of(&tagged("new", "agent")),
        Owner::Foreign,
        "maybe the login under way"
    );
    owners.agent_logging_in = false;
    let mut other = session("x", "admin", Kind::Rest);
    other.context = Some("redfishtool".into());
    assert_eq!(owners.owner_of(&other), Owner::Foreign);
}

#[test]
fn the_identity_rule_takes_only_idle_sessions_made_like_the_agents_own() {
    let mut own = session("own", "admin", Kind::Rest);
    own.login_time = Some(datetime!(2026-11-30 10:00:00 UTC));
    let owners = Owners {
        agent_uri: Some(own.uri.clone()),
        earlier: EarlierRun {
            identity: Identity::of(&own),
            ..EarlierRun::default()
        },
        ..Owners::default()
    };
    assert_eq!(owners.owner_of(&own), Owner::Agent);
    assert_eq!(
        owners.owner_of(&session("old", "ADMIN", Kind::Rest)),
        Owner::Orphan(None)
    );
    assert_eq!(
        owners
            .owner_of(&session("old", "admin", Kind::Rest))
            .to_string(),
        "orphan"
    );
    assert_eq!(
        owners.owner_of(&session("web", "admin", Kind::WebUi)),
        Owner::Foreign,
        "a person's session"
    );
    assert_eq!(
        owners.owner_of(&session("con", "admin", Kind::Console)),
        Owner::Foreign
    );
    assert_eq!(
        owners.owner_of(&session("ops", "ops", Kind::Rest)),
        Owner::Foreign,
        "another user"
    );
    let mut elsewhere = session("far", "admin", Kind::Rest);
    elsewhere.origin = Some("192.168.1.45".into());
    assert_eq!(
        owners.owner_of(&elsewhere),
        Owner::Foreign,
        "another origin"
    );
    let mut busy = session("busy", "admin", Kind::Rest);
    busy.last_access = Some(datetime!(2026-11-30 10:00:00 UTC));
    assert_eq!(
        owners.owner_of(&busy),
        Owner::Foreign,
        "used since the agent logged in (same second counts as used)"
    );
    let mut unknown = session("u", "admin", Kind::Rest);
    unknown.last_access = None;
    assert_eq!(
        owners.owner_of(&unknown),
        Owner::Foreign,
        "a login time alone does not say the session is unused"
    );
}

#[test]
fn no_identity_rule_from_a_person_s_kind_a_missing_user_or_a_bmc_without_access_times() {
    assert!(Identity::of(&session("own", "admin", Kind::WebUi)).is_none());
    let mut no_user = session("own", "admin", Kind::Rest);
    no_user.user = None;
    assert!(Identity::of(&no_user).is_none());
    let mut dmtf = session("own", "admin", Kind::HostApplication);
    dmtf.last_access = None;
    assert!(
        Identity::of(&dmtf).is_none(),
        "no access times (iDRAC, bmcweb): no rule"
    );
}

#[test]
fn only_this_host_s_tags_count_and_old_ones_only_while_no_other_host_tags() {
    let tagged = |id: &str, tag: &str| {
        let mut s = session(id, "admin", Kind::HostApplication);
        s.context = Some(tag.to_string());
        s
    };
    let mut owners = Owners {
        earlier: EarlierRun {
            by_context: true,
            host_id: Some("host-a".into()),
            ..EarlierRun::default()
        },
        ..Owners::default()
    };
    let mine = tagged("a1", "hostagent/host-a/6a1c0f3e-boot/agent");
    let theirs = tagged("b1", "hostagent/host-b/6a1c0f3e-boot/agent");
    let their_lease = tagged("b2", "hostagent/host-b/6a1c0f3e-boot/0a1b2c3d4e5f");
    let old = tagged("o1", "hostagent/6a1c0f3e-boot/agent");
    assert_eq!(owners.owner_of(&mine), Owner::Orphan(Some("agent".into())));
    assert_eq!(
        owners.owner_of(&theirs),
        Owner::Foreign,
        "another host's agent, same boot id"
    );
    assert_eq!(owners.owner_of(&their_lease), Owner::Foreign);
    assert_eq!(
        owners.owner_of(&old),
        Owner::Orphan(Some("agent".into())),
        "an old-format tag while no other host tags"
    );
    owners.earlier.other_hosts_tagged = true;
    assert_eq!(owners.owner_of(&old), Owner::Foreign);
    assert_eq!(owners.owner_of(&mine), Owner::Orphan(Some("agent".into())));
}

#[test]
fn the_identity_rule_does_not_take_another_host_s_sessions() {
    // Two hosts reach one iLO with one shared account: the BMC lists each host's sessions
    // from that host's own address, or, with an account per host, under another user.
    let mut own = session("own", "admin", Kind::Rest);
    own.origin = Some("10.0.0.11".into());
    own.login_time = Some(datetime!(2026-11-30 10:00:00 UTC));
    let owners = Owners {
        agent_uri: Some(own.uri.clone()),
        earlier: EarlierRun {
            identity: Identity::of(&own),
            host_id: Some("host-a".into()),
            ..EarlierRun::default()
        },
        ..Owners::default()
    };
    let mut my_orphan = session("mine", "admin", Kind::Rest);
    my_orphan.origin = Some("10.0.0.11".into());
    assert_eq!(owners.owner_of(&my_orphan), Owner::Orphan(None));
    for n in 0..4 {
        let mut other_host = session(&format!("b{n}"), "admin", Kind::Rest);
        other_host.origin = Some("10.0.0.12".into());
        assert_eq!(
            owners.owner_of(&other_host),
            Owner::Foreign,
            "{other_host:?}"
        );
        let mut own_account = session(&format!("c{n}"), "host-b", Kind::Rest);
        own_account.origin = Some("10.0.0.11".into());
        assert_eq!(owners.owner_of(&own_account), Owner::Foreign);
    }
}
