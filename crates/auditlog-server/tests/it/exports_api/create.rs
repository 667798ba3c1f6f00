//! exports_api: create, poll, download.

use super::*;

#[tokio::test]
async fn create_poll_and_download_the_csv() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    // Two events share an occurred_at (ordered by id), one has two targets, one none.
    let bodies = [
        with_metadata(
            with_targets(
                event(
                    &org,
                    "user.signed_in",
                    "2026-03-01T10:00:02.000Z",
                    ("user_1", Some("Jon Smith")),
                ),
                &[("team_1", "team"), ("doc_1", "document")],
            ),
            json!({"owner": "user_2", "n": 3, "ok": true}),
        ),
        event(
            &org,
            "user.signed_out",
            "2026-03-01T10:00:01.000Z",
            ("user_2", None),
        ),
        with_targets(
            event(
                &org,
                "doc.viewed",
                "2026-03-01T10:00:01.000Z",
                ("user_3", Some("Ann")),
            ),
            &[("doc_2", "document")],
        ),
    ];
    for body in &bodies {
        post_event(&server, body).await;
    }

    let response = server
        .post("/audit_logs/exports")
        .json(&export_body(&org, WIDE_START, WIDE_END))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_json_with_request_id(&response);
    let created: Value = response.json().await.unwrap();
    let object = created.as_object().expect("an object");
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["object", "id", "state", "url", "created_at", "updated_at"]),
        "{created}"
    );
    assert_eq!(created["object"], "audit_log_export");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(
        auditlog_domain::ids::has_prefix_and_ulid(&id, "audit_log_export"),
        "{id}"
    );
    assert_eq!(created["state"], "pending");
    assert!(
        created["url"].is_null(),
        "url must be present and null: {created}"
    );
    assert_millis_timestamp(&created["created_at"]);
    assert_millis_timestamp(&created["updated_at"]);
    assert_eq!(created["created_at"], created["updated_at"]);

    let ready = settle_ready(&server, &id).await;
    assert_eq!(ready["id"], id.as_str());
    assert_eq!(ready["object"], "audit_log_export");
    assert_eq!(ready["created_at"], created["created_at"]);
    assert_millis_timestamp(&ready["updated_at"]);
    assert!(
        micros_of(ready["updated_at"].as_str().unwrap())
            >= micros_of(ready["created_at"].as_str().unwrap())
    );
    let first_url = ready["url"].as_str().expect("url").to_string();
    assert!(
        first_url.starts_with(&format!("{}/", server.base_url)),
        "{first_url}"
    );

    // Links carry a second-granular expiry: a GET one second later issues another link.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second_url = get_export(&server, &id).await["url"]
        .as_str()
        .expect("url")
        .to_string();
    assert_ne!(first_url, second_url, "every GET issues a fresh link");

    let stored = stored_in_export_order(&server, &org).await;
    assert_eq!(stored.len(), 3);
    let mut bodies_seen = Vec::new();
    for url in [&first_url, &second_url] {
        let file = download(url).await;
        assert_eq!(file.status, 200, "{}", String::from_utf8_lossy(&file.body));
        assert_eq!(file.content_type, "text/csv; charset=utf-8");
        assert_eq!(
            file.disposition.as_deref(),
            Some(format!("attachment; filename=\"{id}.csv\"").as_str())
        );
        assert_eq!(file.cache_control.as_deref(), Some("private, no-store"));
        assert_eq!(file.content_length, Some(file.body.len() as u64));
        assert!(file.body.ends_with(b"\r\n"), "rows end with CRLF");
        bodies_seen.push(file.body);
    }
    assert_eq!(
        bodies_seen[0], bodies_seen[1],
        "both links serve the same file"
    );

    let records = parse_csv(&bodies_seen[0]);
    assert_eq!(records[0], expected_header(2));
    let rows = &records[1..];
    assert_eq!(rows.len(), 3);
    let ids: Vec<&str> = rows.iter().map(|r| r.last().unwrap().as_str()).collect();
    let expected_ids: Vec<&str> = stored.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, expected_ids, "ordered by (occurred_at, id)");
    // The tie at 10:00:01 is broken by id; both come before 10:00:02.
    assert_eq!(rows[0][0], "2026-03-01T10:00:01.000Z");
    assert_eq!(rows[1][0], "2026-03-01T10:00:01.000Z");
    assert_eq!(rows[2][0], "2026-03-01T10:00:02.000Z");

    let full = &rows[2];
    let expected_full = [
        "2026-03-01T10:00:02.000Z",
        "user.signed_in",
        "1",
        "user_1",
        "user",
        "Jon Smith",
        "",
        "10.0.0.1",
        "",
    ];
    assert_eq!(full[..9], expected_full);
    let metadata: Value = serde_json::from_str(&full[9]).unwrap();
    assert_eq!(metadata, json!({"owner": "user_2", "n": 3, "ok": true}));
    assert_eq!(
        full[10..18],
        ["team_1", "team", "", "", "doc_1", "document", "", ""]
    );
    assert_eq!(full[18], stored[2].1);
    // Events with fewer targets leave the extra target columns empty.
    let names: BTreeSet<&str> = rows[..2].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(names, BTreeSet::from(["user.signed_out", "doc.viewed"]));
    for row in &rows[..2] {
        assert!(row[14..18].iter().all(String::is_empty), "{row:?}");
        assert_eq!(row[9], "", "absent metadata is an empty cell");
    }
    let signed_out = rows.iter().find(|r| r[1] == "user.signed_out").unwrap();
    assert_eq!(signed_out[5], "", "absent actor name is an empty cell");
    assert!(signed_out[10..14].iter().all(String::is_empty));
}

#[tokio::test]
async fn idempotency_key_on_create_replays_the_same_export() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let body = export_body(&org, WIDE_START, WIDE_END);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = server
            .post("/audit_logs/exports")
            .header("Idempotency-Key", "export-once")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids[0], ids[1]);
    // An empty organization gives a ready export with a header-only file.
    let (header, rows) = export_csv(&server, &ids[0]).await;
    assert_eq!(header, expected_header(0));
    assert!(rows.is_empty());
}
