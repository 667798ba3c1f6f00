//! schemas_api: ingest validation.

use super::*;

#[tokio::test]
async fn a_missing_declared_target_type_is_400_at_targets() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;

    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([{"id": "team_1", "type": "team"}]),
        Some(json!({"role": "admin"})),
        None,
    );
    let (message, errors) = expect_invalid(&server, &body).await;
    assert_eq!(message, "Invalid Audit Log event.");
    assert_eq!(paths(&errors), [("/targets".into(), "contains".into())]);
    let schema_path = errors[0]["schemaPath"].as_str().unwrap();
    assert!(
        schema_path.starts_with("#/properties/targets/allOf/0/"),
        "{schema_path}"
    );
    assert!(errors[0]["message"].as_str().unwrap().contains("invoice"));

    // No targets at all misses both declared types.
    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([]),
        Some(json!({"role": "a"})),
        None,
    );
    let (_, errors) = expect_invalid(&server, &body).await;
    assert_eq!(
        paths(&errors),
        [
            ("/targets".into(), "contains".into()),
            ("/targets".into(), "contains".into())
        ]
    );
    assert_eq!(
        server.count_events(&org).await,
        0,
        "rejected events are not stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn metadata_errors_report_their_instance_paths_all_at_once() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;

    // Undeclared target first, so the invoice sits at position 1; a second invoice at 3.
    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([
            {"id": "x", "type": "undeclared", "metadata": {"amount": "not checked"}},
            {"id": "inv_1", "type": "invoice", "metadata": {"amount": "five"}},
            {"id": "team_1", "type": "team", "metadata": {"anything": true}},
            {"id": "inv_2", "type": "invoice"}
        ]),
        Some(json!({"role": 5})),
        Some(json!({"note": true})),
    );
    let (_, errors) = expect_invalid(&server, &body).await;
    let mut found = paths(&errors);
    found.sort();
    assert_eq!(
        found,
        [
            ("/actor/metadata/role".into(), "type".into()),
            ("/metadata/note".into(), "type".into()),
            ("/targets/1/metadata/amount".into(), "type".into()),
            ("/targets/3/metadata".into(), "required".into()),
        ],
        "{errors:?}"
    );
    let role = errors
        .iter()
        .find(|e| e["instancePath"] == "/actor/metadata/role")
        .unwrap();
    assert_eq!(
        role["schemaPath"],
        "#/properties/actor/properties/metadata/properties/role/type"
    );

    // Absent actor metadata is checked as {}: the required `role` is missing.
    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([{"id": "i", "type": "invoice", "metadata": {"amount": 1}}, {"id": "t", "type": "team"}]),
        None,
        None,
    );
    let (_, errors) = expect_invalid(&server, &body).await;
    assert_eq!(
        paths(&errors),
        [("/actor/metadata".into(), "required".into())]
    );
    assert_eq!(server.count_events(&org).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn conforming_events_and_undeclared_extra_targets_are_accepted() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;

    expect_accepted(&server, &invoice_event(&org, "invoice.paid", None)).await;
    expect_accepted(&server, &invoice_event(&org, "invoice.paid", Some(1))).await;
    // Extra target types, repeated declared types and extra metadata keys are all fine.
    let body = event(
        &org,
        "invoice.paid",
        None,
        json!([
            {"id": "u", "type": "user", "metadata": {"whatever": 1}},
            {"id": "i1", "type": "invoice", "metadata": {"amount": 1, "currency": "EUR"}},
            {"id": "i2", "type": "invoice", "metadata": {"amount": 2}},
            {"id": "t", "type": "team"}
        ]),
        Some(json!({"role": "admin", "level": 3})),
        None,
    );
    expect_accepted(&server, &body).await;
    let stored = server.stored_events("default", &org).await;
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|e| e.action == "invoice.paid"));
    server.stop().await;
}

#[tokio::test]
async fn each_version_validates_its_own_events() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let action = "invoice.paid";
    create_schema(&server, action, &invoice_schema(), 201).await;
    // Version 2: only a `team` target, and the actor's `role` is now a number.
    let v2 = json!({
        "targets": [{"type": "team"}],
        "actor": {"metadata": {"type": "object", "properties": {"role": {"type": "number"}}, "required": ["role"]}}
    });
    create_schema(&server, action, &v2, 201).await;
    let v2_event = |version: Option<i64>| {
        event(
            &org,
            action,
            version,
            json!([{"id": "t", "type": "team"}]),
            Some(json!({"role": 7})),
            None,
        )
    };

    // Version 1 (explicit or omitted) is still validated against version 1.
    expect_accepted(&server, &invoice_event(&org, action, None)).await;
    expect_accepted(&server, &invoice_event(&org, action, Some(1))).await;
    let (_, errors) = expect_invalid(&server, &v2_event(None)).await;
    let mut found = paths(&errors);
    found.sort();
    assert_eq!(
        found,
        [
            ("/actor/metadata/role".into(), "type".into()),
            ("/targets".into(), "contains".into())
        ]
    );

    // Version 2 events against version 2.
    expect_accepted(&server, &v2_event(Some(2))).await;
    let (_, errors) = expect_invalid(&server, &invoice_event(&org, action, Some(2))).await;
    assert_eq!(
        paths(&errors),
        [("/actor/metadata/role".into(), "type".into())]
    );

    // Version 3 does not exist.
    let (message, errors) = expect_invalid(&server, &v2_event(Some(3))).await;
    assert_eq!(message, unconfigured(action, 3));
    assert_eq!(errors.len(), 1);
    assert_eq!(server.count_events(&org).await, 3);
    server.stop().await;
}

#[tokio::test]
async fn actions_without_a_schema_are_accepted_by_default() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    expect_accepted(&server, &event_body(&org)).await;
    let mut versioned = event_body(&org);
    versioned["event"]["version"] = json!(9);
    expect_accepted(&server, &versioned).await;
    assert_eq!(server.count_events(&org).await, 2);
    server.stop().await;
}

#[tokio::test]
async fn require_schemas_rejects_actions_without_a_schema() {
    let server = TestServer::start_with(|c| c.require_schemas = true).await;
    let org = server.create_org("Acme").await;

    let (message, errors) = expect_invalid(&server, &event_body(&org)).await;
    assert_eq!(
        message,
        unconfigured("user.signed_in", 1),
        "version 1 is assumed"
    );
    assert_eq!(errors[0]["message"], message.as_str());
    let mut versioned = event_body(&org);
    versioned["event"]["version"] = json!(4);
    let (message, _) = expect_invalid(&server, &versioned).await;
    assert_eq!(message, unconfigured("user.signed_in", 4));

    // Through the SDK too.
    let error = server
        .workos()
        .audit_logs()
        .create_event(common::sdk_event(&org, "2026-02-02T16:35:39.317Z"))
        .await
        .unwrap_err();
    let workos::Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(api.status, 400);
    assert_eq!(api.code.as_deref(), Some("invalid_audit_log_event"));
    assert_eq!(api.message, unconfigured("user.signed_in", 1));
    assert_eq!(server.count_events(&org).await, 0);

    // Once the action has a schema its events go through, at once.
    create_schema(
        &server,
        "user.signed_in",
        &json!({"targets": [{"type": "team"}]}),
        201,
    )
    .await;
    expect_accepted(&server, &event_body(&org)).await;
    let (message, _) = expect_invalid(&server, &versioned).await;
    assert_eq!(message, unconfigured("user.signed_in", 4));
    assert_eq!(server.count_events(&org).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_schema_created_after_events_were_accepted_applies_immediately() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let action = "invoice.paid";
    // Accepted while the action has no schema (and the server remembers it has none).
    let lacking_invoice = event(
        &org,
        action,
        None,
        json!([{"id": "t", "type": "team"}]),
        Some(json!({"role": "admin"})),
        None,
    );
    expect_accepted(&server, &lacking_invoice).await;
    expect_accepted(&server, &lacking_invoice).await;

    create_schema(&server, action, &invoice_schema(), 201).await;
    // No waiting: the very next event is validated.
    let (_, errors) = expect_invalid(&server, &lacking_invoice).await;
    assert_eq!(paths(&errors), [("/targets".into(), "contains".into())]);
    expect_accepted(&server, &invoice_event(&org, action, None)).await;

    // Same for a new version: version 2 is usable right after it is created.
    let mut version_2 = lacking_invoice.clone();
    version_2["event"]["version"] = json!(2);
    let (message, _) = expect_invalid(&server, &version_2).await;
    assert_eq!(message, unconfigured(action, 2));
    create_schema(
        &server,
        action,
        &json!({"targets": [{"type": "team"}]}),
        201,
    )
    .await;
    expect_accepted(&server, &version_2).await;
    assert_eq!(server.count_events(&org).await, 4);
    server.stop().await;
}

#[tokio::test]
async fn schemas_are_isolated_per_environment() {
    let server = TestServer::start().await;
    let other_key = server.key_for_environment("other").await;
    let as_other = |path: &str| server.http.get(server.url(path)).bearer_auth(&other_key);
    let org = server.create_org("Acme").await;
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;
    create_schema(
        &server,
        "invoice.paid",
        &json!({"targets": [{"type": "x"}]}),
        201,
    )
    .await;

    // The other environment sees no actions and no schemas of this one.
    let (status, body) = send(as_other("/audit_logs/actions")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!([]), "{body}");
    let (status, body) = send(as_other(&schemas_path("invoice.paid"))).await;
    assert_eq!(status, 404, "{body}");

    // Creating the same action there starts at version 1 and leaves this one alone.
    let (status, created) = send(
        server
            .http
            .post(server.url(&schemas_path("invoice.paid")))
            .bearer_auth(&other_key)
            .json(&json!({"targets": [{"type": "other_only"}]})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["version"], 1);
    let (_, theirs) = send(as_other("/audit_logs/actions")).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["data"][0]["schema"], created);
    let ours = list(&server, &schemas_path("invoice.paid")).await;
    assert_eq!(versions(&ours), [2, 1]);
    assert_eq!(ours["data"][1]["targets"], invoice_schema()["targets"]);

    // Events of the default environment are validated against its own version 1 only.
    expect_accepted(&server, &invoice_event(&org, "invoice.paid", None)).await;
    let (_, errors) = expect_invalid(
        &server,
        &event(
            &org,
            "invoice.paid",
            None,
            json!([{"id": "o", "type": "other_only"}]),
            Some(json!({"role": "a"})),
            None,
        ),
    )
    .await;
    assert!(paths(&errors).contains(&("/targets".into(), "contains".into())));
    server.stop().await;
}

#[tokio::test]
async fn events_of_another_environment_are_validated_by_its_schemas_only() {
    let server = TestServer::start().await;
    let other_key = server.key_for_environment("other").await;
    // Organizations belong to an environment: create one in "other".
    let (status, org) = send(
        server
            .http
            .post(server.url("/organizations"))
            .bearer_auth(&other_key)
            .json(&json!({"name": "Other Co"})),
    )
    .await;
    assert_eq!(status, 201, "{org}");
    let org = org["id"].as_str().unwrap().to_string();
    let post_other = |body: &Value| {
        server
            .http
            .post(server.url("/audit_logs/events"))
            .bearer_auth(&other_key)
            .json(body)
    };

    // A schema in the default environment does not apply to "other".
    create_schema(&server, "invoice.paid", &invoice_schema(), 201).await;
    let lacking_invoice = event(&org, "invoice.paid", None, json!([]), None, None);
    let (status, body) = send(post_other(&lacking_invoice)).await;
    assert_eq!(status, 200, "{body}");

    // Its own schema does, immediately.
    let (status, body) = send(
        server
            .http
            .post(server.url(&schemas_path("invoice.paid")))
            .bearer_auth(&other_key)
            .json(&json!({"targets": [{"type": "invoice"}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(post_other(&lacking_invoice)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["instancePath"], "/targets");
    assert_eq!(server.stored_events("other", &org).await.len(), 1);
    server.stop().await;
}
