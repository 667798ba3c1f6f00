//! schemas_api: the official Rust SDK.

use super::*;

fn sdk_schema(targets: &[&str], role: Option<&str>) -> CreateSchemaParams {
    CreateSchemaParams::new(workos::AuditLogSchemaInput {
        actor: role.map(|kind| workos::AuditLogSchemaActorInput {
            metadata: map(json!({
                "type": "object",
                "properties": {"role": {"type": kind}},
                "required": ["role"]
            })),
        }),
        targets: targets
            .iter()
            .map(|kind| workos::AuditLogSchemaTargetInput {
                type_: kind.to_string(),
                metadata: None,
            })
            .collect(),
        metadata: Some(map(
            json!({"type": "object", "properties": {"count": {"type": "integer"}}}),
        )),
    })
}

#[tokio::test]
async fn sdk_creates_schemas_and_lists_them_across_pages() {
    let server = TestServer::start().await;
    let client = server.workos();
    let audit_logs = client.audit_logs();

    let v1 = audit_logs
        .create_schema("sdk.action_1", sdk_schema(&["team"], Some("string")))
        .await
        .unwrap();
    assert_eq!((v1.object.as_str(), v1.version), ("audit_log_schema", 1));
    assert_eq!(v1.targets.len(), 1);
    assert_eq!(v1.targets[0].type_, "team");
    assert_eq!(
        v1.actor.as_ref().unwrap().metadata["properties"]["role"]["type"],
        "string"
    );
    // HashMap key order differs between calls; the schema is still identical.
    let again = audit_logs
        .create_schema("sdk.action_1", sdk_schema(&["team"], Some("string")))
        .await
        .unwrap();
    assert_eq!(
        (again.version, again.created_at.as_str()),
        (1, v1.created_at.as_str())
    );
    for (version, role) in [(2, "number"), (3, "boolean"), (4, "integer"), (5, "string")] {
        let schema = audit_logs
            .create_schema("sdk.action_1", sdk_schema(&["team", "doc"], Some(role)))
            .await
            .unwrap();
        assert_eq!(schema.version, version);
    }
    for i in 2..=5 {
        audit_logs
            .create_schema(&format!("sdk.action_{i}"), sdk_schema(&["team"], None))
            .await
            .unwrap();
    }

    // list_actions: one page, then every page with limit 2.
    let page = audit_logs
        .list_actions(ListActionsParams {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let first: Vec<&str> = page.data.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(first, ["sdk.action_5", "sdk.action_4"]);
    assert!(page.list_metadata.after.is_some());
    let all: Vec<workos::AuditLogAction> = audit_logs
        .list_actions_auto_paging(ListActionsParams {
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    let all_names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        all_names,
        [
            "sdk.action_5",
            "sdk.action_4",
            "sdk.action_3",
            "sdk.action_2",
            "sdk.action_1"
        ]
    );
    let action_1 = all.iter().find(|a| a.name == "sdk.action_1").unwrap();
    assert_eq!(action_1.object, "audit_log_action");
    assert_eq!(action_1.schema.version, 5);
    assert_eq!(action_1.created_at, v1.created_at);
    let asc: Vec<String> = audit_logs
        .list_actions_auto_paging(ListActionsParams {
            limit: Some(2),
            order: Some(workos::PaginationOrder::Asc),
            ..Default::default()
        })
        .map_ok(|a| a.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        asc,
        [
            "sdk.action_1",
            "sdk.action_2",
            "sdk.action_3",
            "sdk.action_4",
            "sdk.action_5"
        ]
    );

    // list_action_schemas: newest first, across pages.
    let page = audit_logs
        .list_action_schemas(
            "sdk.action_1",
            ListActionSchemasParams {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.data.iter().map(|s| s.version).collect::<Vec<_>>(),
        [5, 4]
    );
    let second = audit_logs
        .list_action_schemas(
            "sdk.action_1",
            ListActionSchemasParams {
                limit: Some(2),
                after: page.list_metadata.after.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        second.data.iter().map(|s| s.version).collect::<Vec<_>>(),
        [3, 2]
    );
    let all_versions: Vec<i64> = audit_logs
        .list_action_schemas_auto_paging(
            "sdk.action_1",
            ListActionSchemasParams {
                limit: Some(2),
                ..Default::default()
            },
        )
        .map_ok(|s| s.version)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all_versions, [5, 4, 3, 2, 1]);
    let asc_versions: Vec<i64> = audit_logs
        .list_action_schemas_auto_paging(
            "sdk.action_1",
            ListActionSchemasParams {
                limit: Some(2),
                order: Some(workos::PaginationOrder::Asc),
                ..Default::default()
            },
        )
        .map_ok(|s| s.version)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(asc_versions, [1, 2, 3, 4, 5]);

    // Unknown action: 404 through the SDK.
    let error = audit_logs
        .list_action_schemas("sdk.unknown", ListActionSchemasParams::default())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    server.stop().await;
}

#[tokio::test]
async fn sdk_schema_errors_are_api_errors() {
    let server = TestServer::start().await;
    let client = server.workos();
    let error = client
        .audit_logs()
        .create_schema(
            "sdk.action",
            CreateSchemaParams::new(workos::AuditLogSchemaInput {
                actor: None,
                targets: vec![],
                metadata: None,
            }),
        )
        .await
        .unwrap_err();
    let workos::Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(api.status, 422);
    assert_eq!(api.code.as_deref(), Some("validation_failed"));
    let raw: Value = serde_json::from_slice(&api.raw_body).unwrap();
    assert_eq!(
        field_errors(&raw),
        [("targets".to_string(), "required".to_string())]
    );
    server.stop().await;
}

/// An SDK event of `action` with a `team` target and actor metadata `role`.
fn sdk_event_with(
    org: &str,
    action: &str,
    role: workos::AuditLogEventActorMetadataOneOf,
    count: f64,
    version: Option<i64>,
) -> workos::audit_logs::CreateEventParams {
    let mut params = common::sdk_event(org, "2026-02-02T16:35:39.317Z");
    let event = &mut params.body.event;
    event.action = action.to_string();
    event.version = version;
    event.actor.metadata = Some([("role".to_string(), role)].into_iter().collect());
    event.metadata = Some(
        [(
            "count".to_string(),
            workos::AuditLogEventActorMetadataOneOf::F64(count),
        )]
        .into_iter()
        .collect(),
    );
    params
}

#[tokio::test]
async fn sdk_events_are_validated_and_violations_are_400_api_errors() {
    use workos::AuditLogEventActorMetadataOneOf as Meta;
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    let client = server.workos();
    let audit_logs = client.audit_logs();
    // An action name the SDK must percent-encode.
    let action = "billing/invoice paid";
    audit_logs
        .create_schema(action, sdk_schema(&["team"], Some("string")))
        .await
        .unwrap();
    audit_logs
        .create_schema(action, sdk_schema(&["team"], Some("boolean")))
        .await
        .unwrap();
    let listed = audit_logs
        .list_action_schemas(action, ListActionSchemasParams::default())
        .await
        .unwrap();
    assert_eq!(
        listed.data.iter().map(|s| s.version).collect::<Vec<_>>(),
        [2, 1]
    );

    // Conforming: the SDK sends `count` as the float 3.0, which is an integer in JSON Schema.
    let response = audit_logs
        .create_event(sdk_event_with(
            &org,
            action,
            Meta::String("admin".into()),
            3.0,
            None,
        ))
        .await
        .unwrap();
    assert!(response.success);
    audit_logs
        .create_event(sdk_event_with(&org, action, Meta::Bool(true), 3.0, Some(2)))
        .await
        .unwrap();

    for (role, count, version, path) in [
        (Meta::F64(1.0), 3.0, None, "/actor/metadata/role"),
        (
            Meta::String("admin".into()),
            3.0,
            Some(2),
            "/actor/metadata/role",
        ),
        (Meta::String("admin".into()), 2.5, None, "/metadata/count"),
    ] {
        let error = audit_logs
            .create_event(sdk_event_with(&org, action, role, count, version))
            .await
            .unwrap_err();
        let workos::Error::Api(api) = &error else {
            panic!("expected an API error, got {error:?}");
        };
        assert_eq!(api.status, 400);
        assert_eq!(api.code.as_deref(), Some("invalid_audit_log_event"));
        assert_eq!(api.message, "Invalid Audit Log event.");
        assert!(api.request_id.is_some());
        let raw: Value = serde_json::from_slice(&api.raw_body).unwrap();
        assert_eq!(raw["errors"][0]["instancePath"], path, "{raw}");
        assert_eq!(raw["errors"].as_array().unwrap().len(), 1, "{raw}");
    }

    let error = audit_logs
        .create_event(sdk_event_with(&org, action, Meta::Bool(true), 3.0, Some(3)))
        .await
        .unwrap_err();
    let workos::Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(
        (api.status, api.code.as_deref()),
        (400, Some("invalid_audit_log_event"))
    );
    assert_eq!(api.message, unconfigured(action, 3));
    assert_eq!(server.count_events(&org).await, 2);
    server.stop().await;
}
