//! exports_api: errors.

use super::*;

#[tokio::test]
async fn invalid_ranges_are_400_invalid_audit_log_export_range_date() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let cases = [
        ("2026-03-02T00:00:00.000Z", "2026-03-01T00:00:00.000Z"),
        ("2026-03-01T00:00:00.000001Z", "2026-03-01T00:00:00.000Z"),
        ("yesterday", "2026-03-01T00:00:00.000Z"),
        ("2026-03-01T00:00:00.000Z", "2026-13-01T00:00:00.000Z"),
        ("", "2026-03-01T00:00:00.000Z"),
        ("2026-03-01", "2026-03-02"),
    ];
    for (start, end) in cases {
        let (status, body) = create_export(&server, &export_body(&org, start, end)).await;
        assert_eq!(status, 400, "[{start}, {end}): {body}");
        assert_eq!(
            body["code"], "invalid_audit_log_export_range_date",
            "{body}"
        );
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert!(body.get("error").is_none(), "no NestJS `error` key: {body}");
    }
}

#[tokio::test]
async fn missing_or_ill_typed_fields_are_422() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let start = "2026-03-01T00:00:00.000Z";
    let end = "2026-03-02T00:00:00.000Z";
    let base = export_body(&org, start, end);
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let too_many: Vec<String> = (0..101).map(|i| format!("a{i}")).collect();
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({}),
            vec![
                ("organization_id", "required"),
                ("range_start", "required"),
                ("range_end", "required"),
            ],
        ),
        (
            json!({"organization_id": org, "range_start": start}),
            vec![("range_end", "required")],
        ),
        (
            with("organization_id", json!(42)),
            vec![("organization_id", "invalid_type")],
        ),
        (
            with("organization_id", json!("")),
            vec![("organization_id", "required")],
        ),
        (
            with("range_start", json!(1_700_000_000)),
            vec![("range_start", "invalid_type")],
        ),
        (
            with("actions", json!("a.one")),
            vec![("actions", "invalid_type")],
        ),
        (
            with("actors", json!("Jon")),
            vec![("actors", "invalid_type")],
        ),
        (
            with("actor_names", json!({"name": "Jon"})),
            vec![("actor_names", "invalid_type")],
        ),
        (
            with("actor_ids", json!([1])),
            vec![("actor_ids.0", "invalid_type")],
        ),
        (
            with("targets", json!(true)),
            vec![("targets", "invalid_type")],
        ),
        (
            with("actions", json!(too_many)),
            vec![("actions", "too_many_items")],
        ),
        (
            json!(["not", "an", "object"]),
            vec![("body", "invalid_type")],
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = create_export(&server, &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["message"], "Validation failed.");
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        assert_eq!(field_errors(&answer), expected, "{body}");
    }
    // Not JSON at all.
    let response = server
        .post("/audit_logs/exports")
        .header(CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_json_with_request_id(&response);
}

#[tokio::test]
async fn unknown_organizations_exports_and_foreign_environments_are_404() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let body = export_body(
        "org_01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "2026-03-01T00:00:00.000Z",
        "2026-03-02T00:00:00.000Z",
    );
    let (status, answer) = create_export(&server, &body).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(
        answer["message"],
        "Organization not found: 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ'."
    );

    let unknown = "audit_log_export_01HZZZZZZZZZZZZZZZZZZZZZZZ";
    let (status, answer) = get_export_with_key(&server, &server.key, unknown).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(
        answer["message"],
        format!("Audit Log Export not found: '{unknown}'.")
    );

    // Another environment sees neither the organization nor its exports.
    let other_key = server.key_for_environment("other").await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let (status, answer) = get_export_with_key(&server, &other_key, &id).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(
        answer["message"],
        format!("Audit Log Export not found: '{id}'.")
    );
    let (status, answer) = create_export_with_key(
        &server,
        &other_key,
        &export_body(&org, WIDE_START, WIDE_END),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    // And the other way round.
    let response = server
        .http
        .post(server.url("/organizations"))
        .bearer_auth(&other_key)
        .json(&json!({"name": "B"}))
        .send()
        .await
        .unwrap();
    let foreign_org: Value = response.json().await.unwrap();
    let foreign_org = foreign_org["id"].as_str().unwrap();
    let (status, created) = create_export_with_key(
        &server,
        &other_key,
        &export_body(foreign_org, WIDE_START, WIDE_END),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let foreign_export = created["id"].as_str().unwrap();
    let (status, _) = get_export_with_key(&server, &server.key, foreign_export).await;
    assert_eq!(status, 404);
    let (status, answer) = get_export_with_key(&server, &other_key, foreign_export).await;
    assert_eq!(status, 200, "{answer}");

    // A deleted organization cannot be exported any more.
    let doomed = server.create_org("Doomed").await;
    let response = server
        .delete(&format!("/organizations/{doomed}"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (status, answer) =
        create_export(&server, &export_body(&doomed, WIDE_START, WIDE_END)).await;
    assert_eq!(status, 404, "{answer}");

    // No key at all.
    let response = server
        .http
        .get(server.url(&format!("/audit_logs/exports/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = server
        .http
        .post(server.url("/audit_logs/exports"))
        .json(&export_body(&org, WIDE_START, WIDE_END))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
