//! The command-line client against a real server: `auditlog orgs`, and `auditlog tail` from a
//! position, in both formats, and following new events. Output is checked as a pipe sees it.

use crate::process::{start, KEY};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn auditlog(api: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(args)
        .env("AUDITLOG_URL", api)
        .env("AUDITLOG_API_KEY", KEY)
        .env("AUDITLOG_LOG", "warn")
        .output()
        .expect("run auditlog")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

async fn post_event(http: &reqwest::Client, api: &str, org: &str, n: u32) {
    let body = json!({"organization_id": org, "event": {
        "action": format!("document.step_{n}"), "occurred_at": "2026-01-15T12:00:00.000Z",
        "actor": {"id": format!("user_{n}"), "type": "user", "name": "Jon"},
        "targets": [{"id": "doc_1", "type": "document"}],
        "context": {"location": "203.0.113.7"}}});
    let response = http
        .post(format!("{api}/audit_logs/events"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn orgs_and_tail_print_what_the_server_holds() {
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(data_dir.path(), &["--meta-audit", "false"]);
    let api = node.api.clone();

    let created = auditlog(
        &api,
        &["orgs", "create", "--name", "Acme", "--external-id", "acme"],
    );
    let org = stdout(&created).trim().to_string();
    assert!(org.starts_with("org_"), "{org}");
    let listed = stdout(&auditlog(&api, &["orgs", "list"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert!(lines[0].starts_with("ID"), "{listed}");
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[1].starts_with(&org) && lines[1].ends_with("Acme") && lines[1].contains("acme"));
    let json_list = stdout(&auditlog(&api, &["orgs", "list", "--format", "json"]));
    let listed: Value = serde_json::from_str(json_list.trim()).unwrap();
    assert_eq!(listed["id"], org.as_str());

    let http = reqwest::Client::new();
    for n in 0..3 {
        post_event(&http, &api, &org, n).await;
    }
    let table = stdout(&auditlog(&api, &["tail", "--org", &org]));
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 4, "{table}");
    assert!(rows[1]
        .trim_start()
        .starts_with("0  2026-01-15T12:00:00.000Z  document.step_0"));
    assert!(rows[3].contains("user_2 (Jon)") && rows[3].ends_with("document"));
    let from_one = stdout(&auditlog(
        &api,
        &["tail", "--org", &org, "--from", "0", "--format", "json"],
    ));
    let events: Vec<Value> = from_one
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let sequences: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, [1, 2]);

    // --follow prints events as they arrive.
    let mut follower = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args([
            "tail",
            "--org",
            &org,
            "--follow",
            "--poll-secs",
            "0.1",
            "--format",
            "json",
        ])
        .args(["--from", "2"])
        .env("AUDITLOG_URL", &api)
        .env("AUDITLOG_API_KEY", KEY)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, lines) = std::sync::mpsc::channel::<String>();
    let out = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    for n in 3..5 {
        post_event(&http, &api, &org, n).await;
    }
    for expected in 3..5 {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a followed event");
        let event: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(event["sequence"], expected);
        assert_eq!(event["actor"]["id"], format!("user_{expected}"));
    }
    follower.kill().ok();
    follower.wait().ok();

    // Exit codes: 1 when the server refuses, 3 when it cannot be reached.
    let unknown = auditlog(&api, &["tail", "--org", "org_unknown"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("404"));
    drop(node);
    let gone = auditlog(&api, &["orgs", "list"]);
    assert_eq!(gone.status.code(), Some(3));
}

#[tokio::test]
async fn export_downloads_and_verifies_with_plain_progress_lines() {
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(data_dir.path(), &["--meta-audit", "false"]);
    let api = node.api.clone();
    let org = stdout(&auditlog(&api, &["orgs", "create", "--name", "Exported"]))
        .trim()
        .to_string();
    let http = reqwest::Client::new();
    for n in 0..3 {
        post_event(&http, &api, &org, n).await;
    }
    let out = tempfile::tempdir().unwrap();
    let csv = out.path().join("trail.csv");
    let exported = auditlog(
        &api,
        &["export", "--org", &org, "-o", csv.to_str().unwrap()],
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    // Not a terminal: one plain line per step, no bar drawing.
    let progress = String::from_utf8_lossy(&exported.stderr);
    let steps: Vec<&str> = progress.lines().collect();
    assert_eq!(steps.len(), 4, "{progress}");
    assert!(steps[0].contains("created; waiting while it is pending"));
    assert!(steps[1].contains("ready after"));
    assert!(steps[2].starts_with("downloaded ") && steps[2].ends_with("trail.csv"));
    assert_eq!(steps[3], "verified: the file matches its signed bundle");
    assert!(
        !progress.contains('\r'),
        "a progress bar was drawn off a terminal"
    );
    let file = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(file.lines().count(), 4, "{file}");

    // Filters reach the export.
    let filtered = out.path().join("one.csv");
    let args = [
        "export",
        "--org",
        &org,
        "--action",
        "document.step_1",
        "--no-verify",
        "-o",
        filtered.to_str().unwrap(),
    ];
    stdout(&auditlog(&api, &args));
    let file = std::fs::read_to_string(&filtered).unwrap();
    assert_eq!(file.lines().count(), 2, "{file}");
    assert!(file.contains("document.step_1"));

    let unknown = auditlog(&api, &["export", "--org", "org_unknown", "-o", "x.csv"]);
    assert_eq!(unknown.status.code(), Some(1));
}

#[tokio::test]
async fn schemas_push_and_list_and_completions() {
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(data_dir.path(), &["--meta-audit", "false"]);
    let api = node.api.clone();
    let files = tempfile::tempdir().unwrap();
    let schema = files.path().join("schema.json");
    std::fs::write(&schema, r#"{"targets":[{"type":"team"}]}"#).unwrap();
    let file = schema.to_str().unwrap();
    let push = ["schemas", "push", "--action", "user.signed_in", file];
    assert_eq!(
        stdout(&auditlog(&api, &push)).trim(),
        "user.signed_in version 1"
    );
    // Identical: no new version.
    assert_eq!(
        stdout(&auditlog(&api, &push)).trim(),
        "user.signed_in version 1"
    );
    std::fs::write(&schema, r#"{"targets":[{"type":"team"},{"type":"user"}]}"#).unwrap();
    assert_eq!(
        stdout(&auditlog(&api, &push)).trim(),
        "user.signed_in version 2"
    );
    let listed = stdout(&auditlog(&api, &["schemas", "list"]));
    let rows: Vec<&str> = listed.lines().collect();
    assert_eq!(rows.len(), 2, "{listed}");
    assert!(rows[1].starts_with("user.signed_in") && rows[1].contains(" 2  "));
    // A schema the server refuses, and a file that is not JSON.
    std::fs::write(&schema, r#"{"targets":[]}"#).unwrap();
    assert_eq!(auditlog(&api, &push).status.code(), Some(1));
    std::fs::write(&schema, "not json").unwrap();
    assert_eq!(auditlog(&api, &push).status.code(), Some(5));

    let completions = stdout(&auditlog(&api, &["completions", "bash"]));
    assert!(completions.contains("_auditlog()"), "{completions}");
    for command in [
        "serve", "export", "tail", "orgs", "schemas", "backup", "verify",
    ] {
        assert!(completions.contains(command), "{command} is not completed");
    }
}

/// Rows of an export CSV without their last column (the event id, new on import), sorted.
fn rows_without_ids(csv: &str) -> Vec<String> {
    let mut rows: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|line| line.rsplit_once(',').unwrap().0.to_string())
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn an_exported_csv_imports_into_another_organization_and_exports_the_same() {
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(data_dir.path(), &["--meta-audit", "false"]);
    let api = node.api.clone();
    let http = reqwest::Client::new();
    let source = stdout(&auditlog(&api, &["orgs", "create", "--name", "Source"]))
        .trim()
        .to_string();
    for n in 0..4 {
        post_event(&http, &api, &source, n).await;
    }
    // One with every optional part, and a cell a spreadsheet would evaluate.
    let rich = json!({"organization_id": source, "event": {
        "action": "user.invited", "occurred_at": "2026-02-01T08:30:00.123456Z", "version": 1,
        "actor": {"id": "user_9", "type": "user", "name": "=HYPERLINK()", "metadata": {"role": "admin"}},
        "targets": [{"id": "team_1", "type": "team", "name": "Core", "metadata": {"size": 4}},
                    {"id": "user_10", "type": "user"}],
        "context": {"location": "198.51.100.2", "user_agent": "curl/8"},
        "metadata": {"plan": "enterprise", "seats": 25, "trial": false}}});
    let response = http
        .post(format!("{api}/audit_logs/events"))
        .bearer_auth(KEY)
        .json(&rich)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let files = tempfile::tempdir().unwrap();
    let exported = files.path().join("source.csv");
    stdout(&auditlog(
        &api,
        &["export", "--org", &source, "-o", exported.to_str().unwrap()],
    ));

    let target = stdout(&auditlog(&api, &["orgs", "create", "--name", "Target"]))
        .trim()
        .to_string();
    let import = ["import", "--org", &target, exported.to_str().unwrap()];
    let first = stdout(&auditlog(&api, &import));
    assert!(
        first.starts_with("imported 5, already imported 0, refused 0"),
        "{first}"
    );
    let again = stdout(&auditlog(&api, &import));
    assert!(
        again.starts_with("imported 0, already imported 5, refused 0"),
        "{again}"
    );

    let reexported = files.path().join("target.csv");
    stdout(&auditlog(
        &api,
        &[
            "export",
            "--org",
            &target,
            "-o",
            reexported.to_str().unwrap(),
        ],
    ));
    let before = std::fs::read_to_string(&exported).unwrap();
    let after = std::fs::read_to_string(&reexported).unwrap();
    assert_eq!(before.lines().next(), after.lines().next(), "same header");
    assert_eq!(rows_without_ids(&before), rows_without_ids(&after));

    // NDJSON, with a line that is not JSON and an event the server refuses.
    let ndjson = files.path().join("events.ndjson");
    let good = json!({"action": "user.signed_in", "occurred_at": "2026-03-01T00:00:00Z",
        "actor": {"id": "user_1", "type": "user"}, "targets": [],
        "context": {"location": "203.0.113.7"}});
    let bad = json!({"action": "user.signed_in", "actor": {"id": "user_1", "type": "user"}});
    std::fs::write(&ndjson, format!("{good}\nnot json\n{{\"event\":{bad}}}\n")).unwrap();
    let output = auditlog(
        &api,
        &["import", "--org", &target, ndjson.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.starts_with("imported 1, already imported 0, refused 2"),
        "{summary}"
    );
    assert!(summary.contains("line 2: not JSON"), "{summary}");
    assert!(
        summary.contains("line 3: ") && summary.contains("422"),
        "{summary}"
    );
    let progress = String::from_utf8_lossy(&output.stderr);
    assert!(progress.contains("importing 3 events from"), "{progress}");
}

/// The cells of each data row of a CSV by column name, in file order.
fn rows_by_name(csv_text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            header
                .iter()
                .zip(record.unwrap().iter())
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(name, cell)| (name.to_string(), cell.to_string()))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn a_workos_export_csv_imports_and_exports_with_the_same_cells() {
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(data_dir.path(), &["--meta-audit", "false"]);
    let api = node.api.clone();
    let org = stdout(&auditlog(&api, &["orgs", "create", "--name", "Moving"]))
        .trim()
        .to_string();
    // A WorkOS export as parsers of real ones read it: columns in another order than ours,
    // targets numbered from 0, no version and no id, JSON metadata, RFC 4180 quoting.
    let workos = "\
action,occurred_at,actor_type,actor_id,actor_name,actor_metadata,context_location,\
context_user_agent,metadata,target_id_0,target_type_0,target_name_0,target_metadata_0,\
target_id_1,target_type_1,target_name_1,target_metadata_1
user.signed_in,2026-03-01T09:00:00.000Z,user,user_1,\"Doe, Jane\",,203.0.113.7,\"Mozilla/5.0 \"\"x\"\"\",,,,,,,,,
document.shared,2026-03-01T09:05:00.000Z,user,user_1,,\"{\"\"role\"\":\"\"admin\"\"}\",203.0.113.7,,\"{\"\"channel\"\":\"\"email\"\",\"\"count\"\":2}\",doc_1,document,Q1 plan,\"{\"\"size\"\":10}\",user_2,user,,
";
    let files = tempfile::tempdir().unwrap();
    let source = files.path().join("workos-export.csv");
    std::fs::write(&source, workos).unwrap();
    let import = ["import", "--org", &org, source.to_str().unwrap()];
    let first = stdout(&auditlog(&api, &import));
    assert!(
        first.starts_with("imported 2, already imported 0, refused 0"),
        "{first}"
    );
    let again = stdout(&auditlog(&api, &import));
    assert!(
        again.starts_with("imported 0, already imported 2, refused 0"),
        "{again}"
    );

    let exported = files.path().join("exported.csv");
    stdout(&auditlog(
        &api,
        &["export", "--org", &org, "-o", exported.to_str().unwrap()],
    ));
    let mut expected = rows_by_name(workos);
    for row in &mut expected {
        // Our export numbers targets from 1 and adds the version the server defaulted.
        *row = std::mem::take(row)
            .into_iter()
            .map(|(name, cell)| match name.strip_suffix("_0") {
                Some(field) => (format!("{field}_1"), cell),
                None => match name.strip_suffix("_1") {
                    Some(field) if field.starts_with("target_") => (format!("{field}_2"), cell),
                    _ => (name, cell),
                },
            })
            .collect();
        row.insert("version".into(), "1".into());
    }
    let mut actual = rows_by_name(&std::fs::read_to_string(&exported).unwrap());
    for row in &mut actual {
        assert!(row.remove("id").is_some_and(|id| id.len() > 10), "{row:?}");
    }
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn health_answers_with_the_exit_status() {
    let data_dir = tempfile::tempdir().unwrap();
    let node = start(data_dir.path(), &[]);
    let live = auditlog(&node.api, &["health"]);
    assert!(stdout(&live).contains("ok"), "{live:?}");
    let ready = auditlog(&node.api, &["health", "--ready"]);
    assert!(stdout(&ready).contains("ready"), "{ready:?}");
    let gone = format!("http://127.0.0.1:{}", node.api.rsplit(':').next().unwrap());
    drop(node);
    let unreachable = auditlog(&gone, &["health", "--timeout", "1"]);
    assert_eq!(unreachable.status.code(), Some(3), "{unreachable:?}");
}
