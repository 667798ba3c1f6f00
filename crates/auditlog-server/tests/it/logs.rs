//! `--log-format json`: one JSON object per line on stderr, the access line of each request
//! carrying its id, route, status, latency and environment, and never a key or a signature.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const KEY: &str = "sk_test_logs_0123456789abcdefghijklmnopqrstuv";

#[tokio::test]
async fn json_logs_carry_the_request_and_no_secret() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir.path())
        .env("AUDITLOG_API_KEYS", KEY)
        .env("AUDITLOG_METRICS_LISTEN", "127.0.0.1:0")
        .env_remove("AUDITLOG_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn auditlog serve");
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let next = |lines: &mpsc::Receiver<String>| {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a log line");
        serde_json::from_str::<Value>(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
    };
    let address = loop {
        let line = next(&lines);
        if line["fields"]["message"] == "auditlog listening" {
            break line["fields"]["address"].as_str().unwrap().to_string();
        }
    };
    let http = reqwest::Client::new();
    let base = format!("http://{address}");
    let response = http
        .get(format!("{base}/organizations?limit=1"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    // A download link's signature authenticates by itself: it must not reach the logs.
    let download = http
        .get(format!(
            "{base}/downloads/exports/audit_log_export_x.csv?expires=1&signature=s3cr3tsig"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 404);

    let mut seen = Vec::new();
    let mut access = None;
    let mut download_line = None;
    while access.is_none() || download_line.is_none() {
        let line = next(&lines);
        seen.push(line.to_string());
        if line["target"] != "auditlog::access" {
            continue;
        }
        match line["span"]["route"].as_str() {
            Some("/organizations") => access = Some(line),
            Some("/downloads/exports/{file_name}") => download_line = Some(line),
            _ => {}
        }
    }
    let access = access.unwrap();
    assert_eq!(access["level"], "INFO");
    assert!(access["timestamp"].is_string());
    assert_eq!(access["fields"]["message"], "request answered");
    assert_eq!(access["fields"]["status"], 200);
    assert!(access["fields"]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(access["span"]["request_id"], request_id.as_str());
    assert_eq!(access["span"]["method"], "GET");
    assert_eq!(access["span"]["environment"], "default");
    let download_line = download_line.unwrap();
    assert_eq!(download_line["fields"]["status"], 404);
    assert!(download_line["span"]["uri"]
        .as_str()
        .unwrap()
        .contains("signature=REDACTED"));

    child.kill().ok();
    child.wait().ok();
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        seen.push(line);
    }
    let all = seen.join("\n");
    assert!(!all.contains(KEY), "the API key reached the logs");
    assert!(
        !all.contains("s3cr3tsig"),
        "a link signature reached the logs"
    );
}
