//! The https transport's limits: timeouts, refused connections, the bound on requests in
//! flight, oversized bodies, binding to an interface, TOFU pins on disk.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bmcsim::{Profile, SimConfig};
use bytes::Bytes;
use hostagent::transport::https::{HttpsOptions, HttpsTransport};
use hostagent::transport::trust::{FilePins, Fingerprint, PinStore, Trust};
use hostagent::transport::{Request, Transport, TransportError};

#[tokio::test]
async fn a_slow_bmc_times_out_and_a_closed_port_is_a_connect_error_naming_the_endpoint() {
    let sim = common::sim_with(SimConfig {
        profile: Profile::Ilo6,
        latency_ms: 3000,
        ..SimConfig::default()
    })
    .await;
    let fp = Fingerprint::parse(&sim.cert_sha256()).unwrap();
    let mut opts = HttpsOptions::new(sim.base_url(), Trust::Pin(fp));
    opts.request_timeout = Duration::from_millis(300);
    let t = HttpsTransport::new(opts).unwrap();
    let err = t
        .send(Request::get("/redfish/v1/Systems/1/"))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Timeout { .. }), "{err:?}");
    sim.shutdown().await;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let t = HttpsTransport::new(HttpsOptions::new(
        format!("https://{addr}"),
        Trust::Insecure,
    ))
    .unwrap();
    let err = t.send(Request::get("/redfish/v1/")).await.unwrap_err();
    match &err {
        TransportError::Connect { endpoint, .. } => {
            assert_eq!(endpoint, &format!("https://{addr}"))
        }
        other => panic!("{other:?}"),
    }
}

/// A plain HTTP server that counts requests in flight and answers after a pause.
async fn counting_server(body_len: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (now, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let max_out = max.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (now, max) = (now.clone(), max.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| {
                    let (now, max) = (now.clone(), max.clone());
                    async move {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(n, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        now.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(Bytes::from(vec![b'x'; body_len])),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), max_out)
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_in_flight_stay_within_the_bound_and_the_rest_wait() {
    let (url, max) = counting_server(10).await;
    let mut opts = HttpsOptions::new(url, Trust::Insecure);
    opts.max_in_flight = 3;
    let t = Arc::new(HttpsTransport::new(opts).unwrap());
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move { t.send(Request::get("/redfish/v1/")).await.unwrap().status })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200, "queued, not failed");
    }
    assert_eq!(max.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_the_limit_named() {
    let (url, _) = counting_server(4096).await;
    let mut opts = HttpsOptions::new(url, Trust::Insecure);
    opts.max_body = 1000;
    let err = HttpsTransport::new(opts)
        .unwrap()
        .send(Request::get("/big"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TransportError::Malformed(m) if m.contains("1000 bytes")),
        "{err:?}"
    );
}

#[tokio::test]
async fn requests_can_be_bound_to_an_interface() {
    if !common::require(common::is_root(), "root, for SO_BINDTODEVICE") {
        return;
    }
    let sim = common::sim(Profile::Ilo6).await;
    let mut opts = HttpsOptions::new(
        sim.base_url(),
        Trust::Pin(Fingerprint::parse(&sim.cert_sha256()).unwrap()),
    );
    opts.interface = Some("lo".into());
    assert_eq!(
        HttpsTransport::new(opts.clone())
            .unwrap()
            .send(Request::get("/redfish/v1/"))
            .await
            .unwrap()
            .status,
        200
    );
    opts.interface = Some("hostagent-nonexistent0".into());
    assert!(
        HttpsTransport::new(opts)
            .unwrap()
            .send(Request::get("/redfish/v1/"))
            .await
            .is_err(),
        "bound to a missing NIC: no route"
    );
    sim.shutdown().await;
}

#[test]
fn tofu_pins_persist_atomically_0600_and_a_garbage_file_is_moved_aside() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pins.json");
    let fp = Fingerprint::parse(&"0a".repeat(32)).unwrap();
    FilePins::open(&path)
        .put("https://16.1.15.1:443", &fp)
        .unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        FilePins::open(&path).get("https://16.1.15.1:443"),
        Some(fp.clone()),
        "survives a restart"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
    let garbage = b"{\"https://x\": \"sha256:zz\", \"trunc";
    std::fs::write(&path, garbage).unwrap();
    let pins = FilePins::open(&path);
    assert_eq!(
        pins.get("https://16.1.15.1:443"),
        None,
        "garbage is treated as empty"
    );
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("pins.json.bad-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "the garbage is moved aside, not lost");
    assert_eq!(std::fs::read(aside[0].path()).unwrap(), garbage);
    pins.put("https://16.1.15.1:443", &fp).unwrap();
    assert_eq!(FilePins::open(&path).get("https://16.1.15.1:443"), Some(fp));
}

#[test]
fn fingerprints_parse_in_every_accepted_form_and_print_canonically() {
    let hex = "9c7b1a2f3e4d5c6b7a8f9e0d1c2b3a4f9c7b1a2f3e4d5c6b7a8f9e0d1c2b3a4f";
    let canonical = Fingerprint::parse(hex).unwrap().to_string();
    assert!(canonical.starts_with("sha256:9C:7B:1A"));
    for form in [
        hex.to_uppercase(),
        canonical.clone(),
        canonical.trim_start_matches("sha256:").to_lowercase(),
    ] {
        assert_eq!(
            Fingerprint::parse(&form).unwrap().to_string(),
            canonical,
            "{form}"
        );
    }
    assert!(Fingerprint::parse("sha256:AB:CD")
        .unwrap_err()
        .contains("2 bytes"));
    assert!(Fingerprint::parse("not hex at all")
        .unwrap_err()
        .contains("not a hex"));
}

#[tokio::test]
async fn ca_mode_accepts_what_its_bundle_signs_and_refuses_the_rest() {
    let sim = common::sim(Profile::Ilo6).await;
    let dir = tempfile::tempdir().unwrap();
    let other = bmcsim::start(SimConfig::default()).await.unwrap();
    let bundle = dir.path().join("other-ca.pem");
    std::fs::write(&bundle, other.cert_pem()).unwrap();
    let t = HttpsTransport::new(HttpsOptions::new(sim.base_url(), Trust::Ca(bundle))).unwrap();
    let err = t.send(Request::get("/redfish/v1/")).await.unwrap_err();
    assert!(
        matches!(
            err,
            TransportError::Tls { .. } | TransportError::Connect { .. }
        ),
        "{err:?}"
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate").unwrap();
    let err = HttpsTransport::new(HttpsOptions::new(sim.base_url(), Trust::Ca(empty)))
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("no certificate in CA bundle"),
        "{err}"
    );
    let own = dir.path().join("own.pem");
    std::fs::write(&own, sim.cert_pem()).unwrap();
    let t = HttpsTransport::new(HttpsOptions::new(sim.base_url(), Trust::Ca(own))).unwrap();
    assert_eq!(t.peer_fingerprint(), None, "no handshake yet");
    let result = t.send(Request::get("/redfish/v1/")).await;
    assert_eq!(
        result.unwrap().status,
        200,
        "a bundle holding the BMC's own certificate (chain and IP name checked)"
    );
    assert_eq!(
        t.peer_fingerprint(),
        Some(Fingerprint::parse(&sim.cert_sha256()).unwrap()),
        "the certificate the CA vouched for is recorded (an HMC key keeps it for the logoff)"
    );
    other.shutdown().await;
    sim.shutdown().await;
}
