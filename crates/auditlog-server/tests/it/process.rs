//! Servers started as their own processes (`auditlog serve` from this build), for tests that
//! need a process of their own: process-wide metrics, backups of a live data directory.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The API key every server started here accepts.
pub const KEY: &str = "sk_test_process_0123456789abcdefghijklmnopqr";

pub struct Node {
    child: Child,
    pub api: String,
    pub metrics: String,
    /// The node's id (its leases are held under it).
    pub node_id: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Node {
    /// Everything the server logged so far, one JSON object per line.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Stops the server (SIGKILL: what it acknowledged is durable).
    pub fn stop(mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Starts `auditlog serve` on free ports (API and metrics) with JSON logs and `extra` flags.
pub fn start(data_dir: &std::path::Path, extra: &[&str]) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .args(extra)
        .arg("--data-dir")
        .arg(data_dir)
        .env("AUDITLOG_API_KEYS", KEY)
        .env("AUDITLOG_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn auditlog serve");
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = mpsc::channel::<Value>();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            kept.lock().unwrap().push(line.clone());
            if let Ok(value) = serde_json::from_str(&line) {
                let _ = sender.send(value);
            }
        }
    });
    let (mut api, mut metrics, mut node_id) = (None, None, None);
    while api.is_none() || metrics.is_none() {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("the server's listening lines");
        let address = line["fields"]["address"].as_str().map(str::to_string);
        match line["fields"]["message"].as_str() {
            Some("auditlog listening") => {
                api = address;
                node_id = line["fields"]["node"].as_str().map(str::to_string);
            }
            Some("metrics listening") => metrics = address,
            _ => {}
        }
    }
    Node {
        child,
        api: format!("http://{}", api.unwrap()),
        metrics: format!("http://{}/metrics", metrics.unwrap()),
        node_id: node_id.unwrap_or_default(),
        log,
    }
}
