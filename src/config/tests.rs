use std::time::Duration;

use super::*;
use crate::redfish::Kind;

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn load_main(text: &str) -> (tempfile::TempDir, Result<Settings, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    let main = write(dir.path(), "hostagent.toml", text);
    let result = load(&Sources {
        main: Some(main),
        flags: vec![],
    });
    (dir, result)
}

#[test]
fn shipped_defaults_alone_give_the_documented_settings() {
    let (_dir, settings) = load_main("");
    let s = settings.unwrap();
    assert_eq!(s.bmc.transport, TransportChoice::Auto);
    assert_eq!(s.bmc.tls, TlsChoice::Tofu);
    assert_eq!(s.bmc.endpoint, None);
    assert_eq!(s.api.socket, PathBuf::from("/run/hostagent/agent.sock"));
    assert_eq!(s.reaper.interval, Duration::from_secs(60));
    assert_eq!(s.reaper.idle, Duration::from_secs(15 * 60));
    assert_eq!(s.reaper.kinds, vec![Kind::RestHost, Kind::HostApplication]);
    assert!(!s.state.memory_only);
    assert_eq!(s.api.cache_ttl, Duration::ZERO);
    assert_eq!(s.bmc.credential_bootstrapping, BootstrapChoice::Auto);
    assert_eq!(s.bmc.ipmi_device, PathBuf::from("/dev/ipmi0"));
    assert_eq!(s.bmc.max_concurrency, 8);
    assert_eq!(s.api.max_leases, 8);
}

#[test]
fn max_leases_is_a_bounded_count() {
    let (_d, ok) = load_main("[api]\nmax_leases = 3\n");
    assert_eq!(ok.unwrap().api.max_leases, 3);
    for bad in ["0", "5000", "\"all\""] {
        let (_d, err) = load_main(&format!("[api]\nmax_leases = {bad}\n"));
        let text = err.unwrap_err().to_string();
        assert!(
            text.contains("api.max_leases") && text.contains("hostagent.toml"),
            "{bad}: {text}"
        );
    }
}

#[test]
fn max_concurrency_is_a_bounded_count() {
    let (_d, ok) = load_main("[bmc]\nmax_concurrency = 32\n");
    assert_eq!(ok.unwrap().bmc.max_concurrency, 32);
    for bad in ["0", "1000", "\"many\""] {
        let (_d, err) = load_main(&format!("[bmc]\nmax_concurrency = {bad}\n"));
        let text = err.unwrap_err().to_string();
        assert!(
            text.contains("bmc.max_concurrency") && text.contains("hostagent.toml"),
            "{bad}: {text}"
        );
    }
}

#[test]
fn proxy_queue_and_request_timeout_are_bounded() {
    let (_d, ok) = load_main("");
    let s = ok.unwrap();
    assert_eq!(s.api.proxy_queue, 256);
    assert_eq!(s.bmc.request_timeout, Duration::from_secs(30));
    let (_d, ok) = load_main("[api]\nproxy_queue = 0\n[bmc]\nrequest_timeout = \"5s\"\n");
    let s = ok.unwrap();
    assert_eq!(
        (s.api.proxy_queue, s.bmc.request_timeout),
        (0, Duration::from_secs(5))
    );
    for (bad, key) in [
        ("[api]\nproxy_queue = -1\n", "api.proxy_queue"),
        ("[api]\nproxy_queue = 20000\n", "api.proxy_queue"),
        ("[bmc]\nrequest_timeout = \"0s\"\n", "bmc.request_timeout"),
        ("[bmc]\nrequest_timeout = \"1h\"\n", "bmc.request_timeout"),
        ("[bmc]\nrequest_timeout = \"soon\"\n", "bmc.request_timeout"),
    ] {
        let (_d, err) = load_main(bad);
        let text = err.unwrap_err().to_string();
        assert!(
            text.contains(key) && text.contains("hostagent.toml"),
            "{bad}: {text}"
        );
    }
}

#[test]
fn bootstrapping_keys_are_validated_naming_file_and_key() {
    let (dir, err) = load_main("[bmc]\ncredential_bootstrapping = \"sometimes\"\n");
    let text = err.unwrap_err().to_string();
    assert!(
        text.contains("bmc.credential_bootstrapping")
            && text.contains("`sometimes` is not one of auto, always, never"),
        "{text}"
    );
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    let (_d, err) = load_main("[bmc]\nipmi_device = \"ipmi0\"\n");
    let text = err.unwrap_err().to_string();
    assert!(
        text.contains("bmc.ipmi_device") && text.contains("absolute path"),
        "{text}"
    );
    let (_d, err) = load_main("[bmc]\nipmi_device = \"\"\n");
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("bmc.ipmi_device`: must not be empty"));
    let (_d, err) = load_main("[bmc]\ncredential_bootstrapping = true\n");
    assert!(err.unwrap_err().to_string().contains("must be a string"));
    let (_d, ok) =
        load_main("[bmc]\ncredential_bootstrapping = \"always\"\nipmi_device = \"/dev/ipmi1\"\n");
    let s = ok.unwrap();
    assert_eq!(
        (s.bmc.credential_bootstrapping, s.bmc.ipmi_device),
        (BootstrapChoice::Always, PathBuf::from("/dev/ipmi1"))
    );
}

#[test]
fn dropins_override_the_main_file_in_name_order_and_flags_override_all() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "hostagent.toml",
        "[reaper]\nidle = \"5m\"\ninterval = \"30s\"\n",
    );
    write(
        dir.path(),
        "conf.d/20-late.toml",
        "[reaper]\nidle = \"20m\"\n",
    );
    write(
        dir.path(),
        "conf.d/10-early.toml",
        "[reaper]\nidle = \"10m\"\n[state]\nmemory_only = true\n",
    );
    write(
        dir.path(),
        "conf.d/ignored.txt",
        "this is not toml at all [",
    );
    let flags = vec![("state.dir", toml::Value::String("/tmp/state".into()))];
    let s = load(&Sources {
        main: Some(main),
        flags,
    })
    .unwrap();
    assert_eq!(s.reaper.idle, Duration::from_secs(20 * 60));
    assert_eq!(s.reaper.interval, Duration::from_secs(30));
    assert!(s.state.memory_only);
    assert_eq!(s.state.dir, PathBuf::from("/tmp/state"));
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(dir.path(), "hostagent.toml", "");
    let bad = write(dir.path(), "conf.d/50-bad.toml", "[reaper]\nidle = \n");
    let err = load(&Sources {
        main: Some(main),
        flags: vec![],
    })
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&bad.display().to_string()), "{text}");
    assert!(text.contains("line 2"), "{text}");
}

#[test]
fn unknown_keys_and_sections_are_named() {
    let (_d, err) = load_main("[reaper]\nidel = \"5m\"\n");
    assert!(
        matches!(err, Err(ConfigError::UnknownKey { ref key, .. }) if key == "reaper.idel"),
        "{err:?}"
    );
    let (_d, err) = load_main("[reapr]\nidle = \"5m\"\n");
    assert!(
        matches!(err, Err(ConfigError::UnknownKey { ref key, .. }) if key == "reapr"),
        "{err:?}"
    );
}

#[test]
fn wrong_types_and_values_name_file_key_and_problem() {
    let (dir, err) = load_main("[state]\nmemory_only = \"yes\"\n");
    let text = err.unwrap_err().to_string();
    assert!(
        text.contains("state.memory_only") && text.contains("true or false"),
        "{text}"
    );
    assert!(text.contains(&dir.path().display().to_string()), "{text}");

    let (_d, err) = load_main("[reaper]\nidle = \"soon\"\n");
    let text = err.unwrap_err().to_string();
    assert!(
        text.contains("reaper.idle") && text.contains("`soon`"),
        "{text}"
    );

    let (_d, err) = load_main("[reaper]\nkinds = [\"rest-host\", \"people\"]\n");
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("unknown kind `people`"));

    let (_d, err) = load_main("[bmc]\ntls = \"maybe\"\n");
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("`maybe` is not one of pin, tofu, ca, insecure"));
}

#[test]
fn cross_key_rules_are_enforced() {
    let (_d, err) = load_main("[bmc]\ntls = \"pin\"\n");
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("needs bmc.fingerprint"));
    let (_d, err) = load_main("[api]\nlisten_https = \"10.0.0.1:443\"\n");
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("not a loopback address"));
    let (_d, err) = load_main("[state]\ndir = \"relative/dir\"\n");
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("must be an absolute path"));
    let (_d, ok) = load_main("[api]\nlisten_https = \"127.0.0.2:443\"\n");
    assert_eq!(
        ok.unwrap().api.listen_https,
        Some("127.0.0.2:443".parse().unwrap())
    );
}

#[test]
fn a_missing_explicit_config_file_is_an_error() {
    let err = load(&Sources {
        main: Some("/nonexistent/hostagent.toml".into()),
        flags: vec![],
    })
    .unwrap_err();
    assert!(
        matches!(err, ConfigError::Read { ref path, .. } if path == "/nonexistent/hostagent.toml")
    );
}

#[test]
fn agent_host_id_defaults_to_a_hash_of_the_machine_id_and_must_be_a_short_token() {
    let (_d, s) = load_main("");
    let default = s.unwrap().agent.host_id;
    assert_eq!(default, default_host_id(), "the same on every run");
    assert!(
        default.len() == 12 && default.bytes().all(|b| b.is_ascii_hexdigit()),
        "{default}"
    );
    let (_d, s) = load_main("[agent]\nhost_id = \"sled-2-node-B\"\n");
    assert_eq!(s.unwrap().agent.host_id, "sled-2-node-B");
    for bad in ["a/b", "node 1", "näme", &"x".repeat(33)] {
        let (_d, err) = load_main(&format!("[agent]\nhost_id = \"{bad}\"\n"));
        let text = err.unwrap_err().to_string();
        assert!(
            text.contains("agent.host_id")
                && text.contains("hostagent.toml")
                && text.contains("not a short token"),
            "{bad}: {text}"
        );
    }
}

#[test]
fn an_unusable_endpoint_is_a_config_error_naming_file_and_key() {
    for bad in [
        "https://127.0.0.1:99999",
        "https://exa mple/x",
        "https://",
        "ftp://bmc.example",
        "bmc.example:443",
        "https://admin:secret@bmc.example",
    ] {
        let (dir, err) = load_main(&format!("[bmc]\nendpoint = \"{bad}\"\n"));
        let text = err.expect_err(bad).to_string();
        assert!(
            text.contains("`bmc.endpoint`")
                && text.contains(&dir.path().join("hostagent.toml").display().to_string()),
            "{bad}: {text}"
        );
        assert!(!text.contains("secret"), "no password echoed: {text}");
    }
    let (_d, ok) = load_main("[bmc]\nendpoint = \"https://[fd00::1]:8443\"\n");
    ok.expect("an IPv6 endpoint is fine");
}

#[test]
fn an_invalid_fingerprint_is_a_config_error_naming_file_and_key() {
    for bad in ["sha256:AB:CD", "not hex at all", &"AB:".repeat(33)] {
        let (dir, err) = load_main(&format!("[bmc]\ntls = \"pin\"\nfingerprint = \"{bad}\"\n"));
        let text = err.expect_err(bad).to_string();
        assert!(
            text.contains("`bmc.fingerprint`")
                && text.contains(&dir.path().join("hostagent.toml").display().to_string()),
            "{bad}: {text}"
        );
    }
    let good = "AB:".repeat(31) + "AB";
    let (_d, ok) = load_main(&format!("[bmc]\ntls = \"pin\"\nfingerprint = \"{good}\"\n"));
    ok.expect("32 hex bytes");
}

#[test]
fn plain_http_is_refused_unless_the_testing_key_allows_it() {
    let (dir, err) = load_main("[bmc]\nendpoint = \"http://127.0.0.1:8080\"\n");
    let text = err.unwrap_err().to_string();
    assert!(
        text.contains("`bmc.endpoint`")
            && text.contains("in clear")
            && text.contains("bmc.allow_plaintext_http_for_testing")
            && text.contains(&dir.path().display().to_string()),
        "{text}"
    );
    let (_d, ok) = load_main(
        "[bmc]\nendpoint = \"http://127.0.0.1:8080\"\nallow_plaintext_http_for_testing = true\n",
    );
    assert!(ok.unwrap().bmc.allow_plaintext_http_for_testing);
}

#[test]
fn metrics_listen_is_a_loopback_address_named_in_the_error_otherwise() {
    let (_d, ok) = load_main("[api]\nmetrics_listen = \"127.0.0.1:9469\"\n");
    assert_eq!(
        ok.unwrap().api.metrics_listen,
        Some("127.0.0.1:9469".parse().unwrap())
    );
    let (_d, off) = load_main("");
    assert_eq!(off.unwrap().api.metrics_listen, None);
    for (bad, why) in [
        ("0.0.0.0:9469", "is not a loopback address"),
        ("10.0.0.1:9469", "is not a loopback address"),
        ("localhost", "is not an address:port"),
    ] {
        let (_d, err) = load_main(&format!("[api]\nmetrics_listen = \"{bad}\"\n"));
        let text = err.unwrap_err().to_string();
        assert!(
            text.contains("hostagent.toml")
                && text.contains("api.metrics_listen")
                && text.contains(why),
            "{bad}: {text}"
        );
    }
}

#[test]
fn the_metrics_textfile_is_an_absolute_prom_path_and_refused_in_memory_only_mode() {
    let (_d, ok) = load_main("[metrics]\ntextfile = \"/var/lib/node_exporter/hostagent.prom\"\n");
    assert_eq!(
        ok.unwrap().metrics.textfile,
        Some(PathBuf::from("/var/lib/node_exporter/hostagent.prom"))
    );
    let (_d, off) = load_main("");
    assert_eq!(off.unwrap().metrics.textfile, None);
    for (text, why) in [
        (
            "[metrics]\ntextfile = \"hostagent.prom\"\n",
            "absolute path",
        ),
        (
            "[metrics]\ntextfile = \"/tmp/hostagent.txt\"\n",
            "must end in .prom",
        ),
        (
            "[state]\nmemory_only = true\n[metrics]\ntextfile = \"/tmp/hostagent.prom\"\n",
            "memory-only mode writes no file",
        ),
    ] {
        let (_d, err) = load_main(text);
        let msg = err.unwrap_err().to_string();
        assert!(
            msg.contains("hostagent.toml") && msg.contains("metrics.textfile") && msg.contains(why),
            "{text}: {msg}"
        );
    }
}

#[test]
fn hmc_tables_add_up_across_layers_with_their_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "hostagent.toml",
        "[bmc]\ntransport = \"none\"\n[[hmc]]\nname = \"prod-1\"\nendpoint = \"https://hmc1.example:12443\"\n",
    );
    write(
        dir.path(),
        "conf.d/20-lab.toml",
        "[[hmc]]\nname = \"lab\"\nendpoint = \"https://10.1.1.1:12443\"\ntls = \"insecure\"\nlisten = \"127.0.0.3:12443\"\naudit_memento = \"ops\"\nmax_concurrency = 2\n",
    );
    let s = load(&Sources {
        main: Some(main),
        flags: vec![],
    })
    .unwrap();
    assert_eq!(s.bmc.transport, TransportChoice::None);
    let names: Vec<&str> = s.hmc.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["prod-1", "lab"]);
    let (prod, lab) = (&s.hmc[0], &s.hmc[1]);
    assert_eq!(
        (
            prod.tls,
            prod.audit_memento.as_str(),
            prod.max_concurrency,
            prod.listen
        ),
        (TlsChoice::Tofu, "hostagent", 4, None)
    );
    assert_eq!(lab.listen, Some("127.0.0.3:12443".parse().unwrap()));
    assert_eq!((lab.tls, lab.max_concurrency), (TlsChoice::Insecure, 2));
    assert_eq!(lab.audit_memento, "ops");
}

#[test]
fn bad_hmc_tables_are_errors_naming_file_table_and_key() {
    let hmc = |body: &str| format!("[[hmc]]\n{body}\n");
    for (body, want) in [
        ("endpoint = \"https://h:12443\"", "hmc[0].name"),
        (
            "name = \"Prod_1\"\nendpoint = \"https://h:12443\"",
            "`Prod_1` is not a name",
        ),
        ("name = \"a\"", "hmc.a.endpoint"),
        ("name = \"a\"\nendpoint = \"http://h:12443\"", "plain HTTP"),
        (
            "name = \"a\"\nendpoint = \"https://h\"\ntls = \"pin\"",
            "needs a fingerprint",
        ),
        (
            "name = \"a\"\nendpoint = \"https://h\"\nlisten = \"10.0.0.1:12443\"",
            "not a loopback",
        ),
        (
            "name = \"a\"\nendpoint = \"https://h\"\nmax_concurrency = 0",
            "hmc.a.max_concurrency",
        ),
        (
            "name = \"a\"\nendpoint = \"https://h\"\npassword = \"x\"",
            "unknown key `hmc[0].password`",
        ),
        (
            "name = \"a\"\nendpoint = \"https://h\"\ncredentials_dir = \"etc\"",
            "absolute path",
        ),
    ] {
        let (dir, err) = load_main(&hmc(body));
        let text = err.unwrap_err().to_string();
        assert!(
            text.contains(want) && text.contains(&dir.path().display().to_string()),
            "{body}: {text}"
        );
    }
    let twice = "[[hmc]]\nname = \"a\"\nendpoint = \"https://h1\"\n[[hmc]]\nname = \"a\"\nendpoint = \"https://h2\"\n";
    let (_d, err) = load_main(twice);
    assert!(err.unwrap_err().to_string().contains("already used"));
    let (_d, err) = load_main("[hmc]\nname = \"a\"\n");
    assert!(err.unwrap_err().to_string().contains("[[hmc]]"));
}
