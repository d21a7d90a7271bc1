//! Real engines for the metrics tests: Debian's `prometheus` and `prometheus-node-exporter`,
//! each started on a free loopback port with its own temporary directory and killed (by the PID
//! it got) when dropped; and the simulator's ground truth over its control API.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A child process killed when dropped.
pub struct Engine {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Engine {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Waits until `path` answers 200 (the engine is up), at most 30 s.
    async fn wait_up(&mut self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        loop {
            if let Ok(r) = client.get(self.url(path)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the engine exited ({status}): {}", self.log());
            }
            assert!(Instant::now() < deadline, "not up: {}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn spawn(cmd: &mut Command, dir: &Path) -> Child {
    let log = std::fs::File::create(dir.join("log")).unwrap();
    cmd.stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the engine starts")
}

/// A Prometheus scraping `target` (`ADDR:PORT`, path `/metrics`) every second.
pub async fn prometheus(target: &str) -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: hostagent\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let port = common_port();
    let child = spawn(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}")),
        dir.path(),
    );
    let mut engine = Engine { child, port, dir };
    engine.wait_up("/-/ready").await;
    engine
}

/// Debian's node_exporter with only the textfile collector, reading `textfiles`.
pub async fn node_exporter(textfiles: &Path) -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let port = common_port();
    let child = spawn(
        Command::new("prometheus-node-exporter")
            .arg("--collector.disable-defaults")
            .arg("--collector.textfile")
            .arg(format!(
                "--collector.textfile.directory={}",
                textfiles.display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}")),
        dir.path(),
    );
    let mut engine = Engine { child, port, dir };
    engine.wait_up("/metrics").await;
    engine
}

fn common_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One instant query of Prometheus's HTTP API: each series' labels and value.
pub async fn query(prom: &Engine, q: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = reqwest::Url::parse_with_params(&prom.url("/api/v1/query"), [("query", q)]).unwrap();
    let v: Value = client.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["status"], "success", "{q}: {v}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = serde_json::from_value(s["metric"].clone()).unwrap();
            let value = s["value"][1].as_str().unwrap().parse().unwrap();
            (labels, value)
        })
        .collect()
}

/// `sum by (kind)` of a query's series, as a map (zeros left out).
pub fn by_label(series: &[(BTreeMap<String, String>, f64)], label: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (labels, value) in series {
        if *value > 0.0 {
            *out.entry(labels.get(label).cloned().unwrap_or_default())
                .or_default() += *value as u64;
        }
    }
    out
}

/// Polls `check` (every 200 ms) until it returns `Some`, at most `within`; `what` says what
/// was waited for, and the last value seen is shown when it never came.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + within;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => panic!("{what}: never; last: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The simulator's control API (`/_sim/...`), over HTTP as any client would use it.
pub struct SimControl {
    base: String,
    client: reqwest::Client,
}

impl SimControl {
    pub fn new(sim: &bmcsim::SimHandle) -> SimControl {
        hostagent::transport::https::install_crypto_provider();
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .no_proxy()
            .build()
            .unwrap();
        SimControl {
            base: sim.base_url(),
            client,
        }
    }

    /// `GET /_sim/sessions`: the table by kind (the agent's kind names).
    pub async fn sessions_by_kind(&self) -> BTreeMap<String, u64> {
        let table: Vec<Value> = self
            .client
            .get(format!("{}/_sim/sessions", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut out = BTreeMap::new();
        for s in table {
            *out.entry(s["kind"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        out
    }

    /// `POST /_sim/leak`.
    pub async fn leak(&self, count: usize, kind: &str) {
        let r = self
            .client
            .post(format!("{}/_sim/leak", self.base))
            .json(&serde_json::json!({ "count": count, "kind": kind }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// `GET /_sim/log`: every request the simulator served.
    pub async fn log(&self) -> Vec<Value> {
        self.client
            .get(format!("{}/_sim/log", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `DELETE /_sim/log`.
    pub async fn clear_log(&self) {
        let r = self
            .client
            .delete(format!("{}/_sim/log", self.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// `promtool check metrics` on an exposition: its verdict and what it said.
pub fn promtool_check(exposition: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}
