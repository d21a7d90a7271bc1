//! The soak's BMC: bmcsim inside the "BMC" network namespace, on a thread of its own, and
//! the questions the soak asks it (a reset with down time, the session count).

/// Moves the calling thread into the network namespace `ns` for good.
pub fn enter(ns: &str) {
    let fd = std::fs::File::open(format!("/run/netns/{ns}")).unwrap();
    nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
}

/// Asks the simulator's thread (in the BMC namespace) something.
pub enum Ask {
    Reset(tokio::sync::oneshot::Sender<()>),
    Sessions(tokio::sync::oneshot::Sender<usize>),
}

pub fn start_sim(ns: &str) -> (String, tokio::sync::mpsc::Sender<Ask>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (ask_tx, mut ask_rx) = tokio::sync::mpsc::channel::<Ask>(4);
    let ns = ns.to_string();
    std::thread::spawn(move || {
        enter(&ns);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let sim = bmcsim::start(bmcsim::SimConfig {
                profile: bmcsim::Profile::Bmcweb,
                listen: vec![
                    "169.254.0.17:443".parse().unwrap(),
                    "127.0.0.1:0".parse().unwrap(),
                ],
                max_sessions: Some(64),
                ..bmcsim::SimConfig::default()
            })
            .await
            .unwrap();
            let control = format!("https://{}", sim.listen_addrs()[1]);
            tx.send(sim.cert_sha256()).unwrap();
            hostagent::transport::https::install_crypto_provider();
            let http = reqwest::Client::builder()
                .tls_danger_accept_invalid_certs(true)
                .no_proxy()
                .build()
                .unwrap();
            while let Some(ask) = ask_rx.recv().await {
                match ask {
                    Ask::Reset(done) => {
                        let _ = http
                            .post(format!("{control}/_sim/reset"))
                            .json(&serde_json::json!({"down_s": 1.0}))
                            .send()
                            .await;
                        let _ = done.send(());
                    }
                    Ask::Sessions(reply) => {
                        let _ = reply.send(sim.sessions().len());
                    }
                }
            }
        });
    });
    (rx.recv().unwrap(), ask_tx)
}
