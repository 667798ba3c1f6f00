//! exports_api: official Rust SDK.

use super::*;

#[tokio::test]
async fn sdk_create_export_poll_and_download() {
    use workos::audit_logs::CreateExportParams;
    use workos::{AuditLogExportCreation, AuditLogExportState};

    let server = TestServer::start().await;
    let org = server.create_org("SDK Co").await;
    let client = server.workos();
    for at in [
        "2026-03-01T10:00:00.000Z",
        "2026-03-01T10:00:01.000Z",
        "2026-03-01T10:00:02.000Z",
    ] {
        client
            .audit_logs()
            .create_event(sdk_event(&org, at))
            .await
            .unwrap();
    }
    post_event(
        &server,
        &event(
            &org,
            "other.action",
            "2026-03-01T10:00:03.000Z",
            ("user_1", Some("Jon Smith")),
        ),
    )
    .await;

    #[allow(deprecated)]
    let creation = AuditLogExportCreation {
        organization_id: org.clone(),
        range_start: "2026-03-01T10:00:00.000Z".into(),
        range_end: "2026-03-01T10:00:02.000Z".into(),
        actions: Some(vec!["user.signed_in".into()]),
        actors: Some(vec!["Jon Smith".into()]),
        actor_names: None,
        actor_ids: Some(vec!["user_1".into()]),
        targets: Some(vec!["team".into()]),
    };
    let created = client
        .audit_logs()
        .create_export(CreateExportParams::new(creation))
        .await
        .unwrap();
    assert_eq!(created.object, "audit_log_export");
    assert_eq!(created.state, AuditLogExportState::Pending);
    assert!(created.url.is_none());
    assert_millis_timestamp(&json!(created.created_at));

    let mut export = created.clone();
    for _ in 0..POLLS {
        export = client.audit_logs().get_export(&created.id).await.unwrap();
        if export.state != AuditLogExportState::Pending {
            break;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    assert_eq!(export.state, AuditLogExportState::Ready);
    assert_eq!(export.id, created.id);
    let url = export.url.expect("a ready export has a url");
    let file = download(&url).await;
    assert_eq!(file.status, 200);
    let records = parse_csv(&file.body);
    assert_eq!(records[0], expected_header(1));
    let rows = &records[1..];
    assert_eq!(rows.len(), 2, "the range end excludes the third event");
    for row in rows {
        assert_eq!(row[1], "user.signed_in");
        assert_eq!(row[5], "Jon Smith");
        let actor_metadata: Value = serde_json::from_str(&row[6]).unwrap();
        assert_eq!(
            actor_metadata,
            json!({"role": "admin", "level": 3, "sso": true})
        );
        assert_eq!(row[7], "123.123.123.123");
        assert_eq!(row[8], "Chrome/104.0.0.0");
        assert_eq!(row[10..12], ["team_1", "team"]);
    }

    let error = client
        .audit_logs()
        .get_export("audit_log_export_01HZZZZZZZZZZZZZZZZZZZZZZZ")
        .await
        .unwrap_err();
    match error {
        workos::Error::Api(api) => {
            assert_eq!(api.status, 404);
            assert_eq!(api.code.as_deref(), Some("not_found"));
            assert!(api.request_id.is_some());
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}
