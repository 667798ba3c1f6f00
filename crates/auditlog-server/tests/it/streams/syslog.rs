//! Syslog against a real rsyslog (Debian's package): RFC 5424 with octet-counting framing over
//! plain TCP and over TLS, parsed by rsyslog's own RFC 5424 parser and written to a file.

use super::{create_stream, post_events, server, wait_for_stream};
use auditlog_test_support as support;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

struct Rsyslog {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// rsyslogd in the foreground, writing the RFC 5424 fields it parsed from each message, one
/// line per message, `|`-separated. `None` when rsyslogd is not installed.
fn start_rsyslog(tls: Option<&Path>) -> Option<Rsyslog> {
    let binary = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .into_iter()
        .find(|path| Path::new(path).exists());
    let Some(binary) = binary else {
        support::skip_unless_required("rsyslogd is not installed (Debian: rsyslog)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (global, module) = match tls {
        Some(certs) => (
            format!(
                "global(DefaultNetstreamDriver=\"gtls\" \
                 DefaultNetstreamDriverCAFile=\"{0}/ca.pem\" \
                 DefaultNetstreamDriverCertFile=\"{0}/server.pem\" \
                 DefaultNetstreamDriverKeyFile=\"{0}/server.key\")",
                certs.display()
            ),
            "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" \
             StreamDriver.AuthMode=\"anon\")"
                .to_string(),
        ),
        None => (String::new(), "module(load=\"imtcp\")".to_string()),
    };
    let config = format!(
        r#"global(workDirectory="{dir}")
{global}
{module}
template(name="fields" type="string"
  string="%syslogfacility%|%syslogseverity%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
ruleset(name="in") {{
  action(type="omfile" file="{dir}/out.log" template="fields" flushOnTXEnd="on")
}}
input(type="imtcp" port="{port}" ruleset="in")
"#,
        dir = dir.path().display()
    );
    let config_path = dir.path().join("rsyslog.conf");
    std::fs::write(&config_path, config).unwrap();
    let child = Command::new(binary)
        .arg("-n")
        .arg("-f")
        .arg(&config_path)
        .arg("-i")
        .arg(dir.path().join("rsyslog.pid"))
        .spawn()
        .expect("start rsyslogd");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "rsyslogd did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Rsyslog { child, port, dir })
}

/// A CA and a certificate for `localhost` signed by it, made with the openssl command.
fn make_certificates(dir: &Path) -> PathBuf {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run openssl");
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=auditlog test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.pem",
        "-extfile",
        "ext.cnf",
    ]);
    dir.to_path_buf()
}

fn lines(rsyslog: &Rsyslog, count: usize) -> Vec<String> {
    let path = rsyslog.dir.path().join("out.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= count {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "rsyslog wrote {} of {count} lines",
            lines.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Each line is what rsyslog's RFC 5424 parser made of one message.
fn assert_parsed_events(lines: &[String], org: &str) {
    let mut sequences = Vec::new();
    for line in lines {
        let parts: Vec<&str> = line.splitn(9, '|').collect();
        assert_eq!(parts.len(), 9, "{line}");
        assert_eq!(parts[0], "13", "facility log audit: {line}");
        assert_eq!(parts[1], "6", "severity informational: {line}");
        assert!(parts[2].starts_with("2026-03-01T10:00:00"), "{line}");
        assert_eq!(parts[3], "acme-prod");
        assert_eq!(parts[4], "auditlog");
        assert_eq!(parts[5], "-");
        assert_eq!(parts[6], "document.updated");
        assert!(
            parts[7].starts_with("[auditlog@32473 id=\"audit_log_event_"),
            "{line}"
        );
        assert!(
            parts[7].contains(&format!("organization_id=\"{org}\"")),
            "{line}"
        );
        let event: Value = serde_json::from_str(parts[8].trim()).expect("MSG is the event as JSON");
        assert_eq!(event["organization_id"], org);
        assert!(
            parts[7].contains(&format!("sequence=\"{}\"", event["sequence"])),
            "{line}"
        );
        sequences.push(event["sequence"].as_i64().unwrap());
    }
    assert_eq!(sequences, (0..sequences.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn rsyslog_receives_rfc_5424_over_plain_tcp() {
    let Some(rsyslog) = start_rsyslog(None) else {
        return;
    };
    let server = server().await;
    let org = server.create_org("Acme").await;
    let stream = create_stream(
        &server,
        &org,
        json!({"type": "Syslog", "start": "beginning",
               "settings": {"host": "127.0.0.1", "port": rsyslog.port, "tls": false, "hostname": "acme-prod"},
               "secrets": {}}),
    )
    .await;
    let id = stream["id"].as_str().unwrap();
    post_events(&server, &org, 30).await;
    let done = wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 29
    })
    .await;
    assert_eq!(done["state"], "active");
    assert_parsed_events(&lines(&rsyslog, 30), &org);
}

#[tokio::test]
async fn rsyslog_receives_over_tls_with_a_private_ca_and_refuses_the_wrong_one() {
    let certificates = tempfile::tempdir().unwrap();
    make_certificates(certificates.path());
    let Some(rsyslog) = start_rsyslog(Some(certificates.path())) else {
        return;
    };
    let server = server().await;
    let org = server.create_org("Acme").await;
    let ca = std::fs::read_to_string(certificates.path().join("ca.pem")).unwrap();
    let stream = create_stream(
        &server,
        &org,
        json!({"type": "Syslog", "start": "beginning",
               "settings": {"host": "localhost", "port": rsyslog.port, "ca_certificate": ca, "hostname": "acme-prod"},
               "secrets": {}}),
    )
    .await;
    let id = stream["id"].as_str().unwrap();
    post_events(&server, &org, 12).await;
    wait_for_stream(&server, &org, id, Duration::from_secs(20), |s| {
        s["cursor"] == 11
    })
    .await;
    assert_parsed_events(&lines(&rsyslog, 12), &org);

    // Without the private CA (the public roots), the receiver's certificate is not trusted.
    let other = server.create_org("Other").await;
    let untrusted = create_stream(
        &server,
        &other,
        json!({"type": "Syslog", "start": "beginning",
               "settings": {"host": "localhost", "port": rsyslog.port}, "secrets": {}}),
    )
    .await;
    post_events(&server, &other, 1).await;
    let failing = wait_for_stream(
        &server,
        &other,
        untrusted["id"].as_str().unwrap(),
        Duration::from_secs(20),
        |s| s["state"] == "error",
    )
    .await;
    let message = failing["last_error"]["message"].as_str().unwrap();
    assert!(
        message.contains("TLS handshake") && message.contains("certificate"),
        "{message}"
    );
}
