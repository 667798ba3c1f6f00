//! schemas_api: creating versions.

use super::*;

#[tokio::test]
async fn versions_start_at_one_identical_returns_latest_and_changes_append() {
    let server = TestServer::start().await;
    let action = "invoice.paid";

    let v1 = create_schema(&server, action, &invoice_schema(), 201).await;
    assert_eq!(v1["object"], "audit_log_schema");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["targets"], invoice_schema()["targets"]);
    assert_eq!(v1["actor"], invoice_schema()["actor"]);
    assert_eq!(v1["metadata"], invoice_schema()["metadata"]);
    let created = v1["created_at"].as_str().unwrap();
    assert!(
        created.len() == 24 && created.ends_with('Z'),
        "millisecond UTC timestamp: {created}"
    );

    // The same document with every object's keys in another order: 200 with version 1.
    let reordered = json!({
        "metadata": {"properties": {"note": {"type": "string"}}, "type": "object"},
        "actor": {"metadata": {"required": ["role"], "properties": {"role": {"type": "string"}}, "type": "object"}},
        "targets": [
            {"metadata": {"required": ["amount"], "type": "object", "properties": {"amount": {"type": "number"}}}, "type": "invoice"},
            {"type": "team"}
        ]
    });
    let same = create_schema(&server, action, &reordered, 200).await;
    assert_eq!(
        same, v1,
        "identical schema returns the latest version unchanged"
    );

    // A change mints version 2; posting it again returns version 2.
    let mut changed = invoice_schema();
    changed["targets"][1] = json!({"type": "team", "metadata": {"type": "object"}});
    let v2 = create_schema(&server, action, &changed, 201).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["targets"], changed["targets"]);
    assert_eq!(create_schema(&server, action, &changed, 200).await, v2);

    // Dropping a part is a change too.
    let mut fewer = changed.clone();
    fewer.as_object_mut().unwrap().remove("metadata");
    let v3 = create_schema(&server, action, &fewer, 201).await;
    assert_eq!(v3["version"], 3);
    assert!(
        v3.get("metadata").is_none(),
        "absent part stays absent: {v3}"
    );

    // Only the latest version counts as "identical": re-posting version 1 appends version 4.
    let v4 = create_schema(&server, action, &invoice_schema(), 201).await;
    assert_eq!(v4["version"], 4);

    // Versions are immutable: every one is still listed exactly as it was created.
    let page = list(&server, &schemas_path(action)).await;
    assert_eq!(versions(&page), [4, 3, 2, 1]);
    assert_eq!(page["data"][3], v1);
    assert_eq!(page["data"][2], v2);
    assert_eq!(page["data"][1], v3);
    assert_eq!(page["data"][0], v4);

    // The action: created with version 1, updated with the latest version, which it carries.
    let actions = list(&server, "/audit_logs/actions").await;
    assert_eq!(names(&actions), [action]);
    let entry = &actions["data"][0];
    assert_eq!(entry["object"], "audit_log_action");
    assert_eq!(entry["schema"], v4);
    assert_eq!(entry["created_at"], v1["created_at"]);
    assert_eq!(entry["updated_at"], v4["created_at"]);
    server.stop().await;
}

#[tokio::test]
async fn an_identical_post_does_not_touch_the_action() {
    let server = TestServer::start().await;
    create_schema(
        &server,
        "doc.viewed",
        &json!({"targets": [{"type": "doc"}]}),
        201,
    )
    .await;
    let before = list(&server, "/audit_logs/actions").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    create_schema(
        &server,
        "doc.viewed",
        &json!({"targets": [{"type": "doc"}]}),
        200,
    )
    .await;
    let after = list(&server, "/audit_logs/actions").await;
    assert_eq!(before, after);
    assert_eq!(
        versions(&list(&server, &schemas_path("doc.viewed")).await),
        [1]
    );
    server.stop().await;
}

#[tokio::test]
async fn invalid_schema_documents_are_422_naming_the_field() {
    let server = TestServer::start().await;
    let target = json!([{"type": "invoice"}]);
    #[rustfmt::skip]
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "targets", "required"),
        (json!({"targets": null}), "targets", "required"),
        (json!({"targets": []}), "targets", "required"),
        (json!({"targets": "invoice"}), "targets", "invalid_type"),
        (json!({"targets": [{"metadata": {}}]}), "targets.0.type", "required"),
        (json!({"targets": [{"type": ""}]}), "targets.0.type", "required"),
        (json!({"targets": [{"type": 5}]}), "targets.0.type", "required"),
        (json!({"targets": [{"type": "a"}, {"type": "b"}, {"type": "a"}]}), "targets.2.type", "duplicate"),
        (json!({"targets": (0..51).map(|i| json!({"type": format!("t{i}")})).collect::<Vec<_>>()}), "targets", "too_many_items"),
        // Not a JSON Schema: a non-object, an unknown type, a bad regex, a dangling local $ref.
        (json!({"targets": [{"type": "a", "metadata": []}]}), "targets.0.metadata", "invalid_schema"),
        (json!({"targets": [{"type": "a", "metadata": {"type": "nonsense"}}]}), "targets.0.metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": 5}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"properties": {"a": {"pattern": "("}}}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"$ref": "#/definitions/missing"}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "actor": {"metadata": {"required": "role"}}}), "actor.metadata", "invalid_schema"),
        // Remote references are never fetched: http(s), file, relative to a remote $id, urn.
        (json!({"targets": target, "metadata": {"$ref": "https://example.com/schema.json"}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"properties": {"a": {"$ref": "http://127.0.0.1:9/x.json"}}}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "actor": {"metadata": {"$ref": "file:///etc/passwd"}}}), "actor.metadata", "invalid_schema"),
        (json!({"targets": [{"type": "a", "metadata": {"$id": "https://example.com/root.json", "properties": {"a": {"$ref": "other.json"}}}}]}), "targets.0.metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"$ref": "urn:example:thing"}}), "metadata", "invalid_schema"),
        // A $schema that is not one of the bundled drafts.
        (json!({"targets": target, "metadata": {"$schema": "https://evil.example/meta"}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"$schema": "https://json-schema.org/draft/2099-01/schema"}}), "metadata", "invalid_schema"),
        (json!({"targets": target, "metadata": {"$schema": 7}}), "metadata", "invalid_schema"),
        // actor needs metadata.
        (json!({"targets": target, "actor": {}}), "actor.metadata", "required"),
        (json!({"targets": target, "actor": {"metadata": null}}), "actor.metadata", "required"),
        (json!({"targets": target, "actor": "user"}), "actor", "invalid_type"),
        (json!([{"type": "invoice"}]), "body", "invalid_type"),
    ];
    for (body, field, code) in cases {
        let (status, response) = post_schema(&server, "invoice.paid", &body).await;
        assert_eq!(status, 422, "{body}: {response}");
        assert_eq!(response["message"], "Validation failed.");
        let errors = field_errors(&response);
        assert!(
            errors.contains(&(field.to_string(), code.to_string())),
            "{body}: expected ({field}, {code}) in {errors:?}"
        );
    }
    // Every problem of one document at once.
    let (status, response) = post_schema(
        &server,
        "invoice.paid",
        &json!({"targets": [{"type": "a", "metadata": {"type": 1}}, {"type": "a"}], "actor": {}, "metadata": {"$ref": "https://example.com/x"}}),
    )
    .await;
    assert_eq!(status, 422);
    let mut fields: Vec<String> = field_errors(&response)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "actor.metadata",
            "metadata",
            "targets.0.metadata",
            "targets.1.type"
        ]
    );

    // Nothing was created by any of them.
    let (status, response) = get(&server, &schemas_path("invoice.paid")).await;
    assert_eq!(status, 404, "{response}");
    assert_eq!(
        list(&server, "/audit_logs/actions").await["data"],
        json!([])
    );
    server.stop().await;
}

#[tokio::test]
async fn action_names_over_1000_characters_are_422() {
    let server = TestServer::start().await;
    let body = json!({"targets": [{"type": "x"}]});
    let (status, response) = post_schema(&server, &"a".repeat(1001), &body).await;
    assert_eq!(status, 422, "{response}");
    assert_eq!(
        field_errors(&response),
        [("action".to_string(), "invalid_value".to_string())]
    );
    create_schema(&server, &"a".repeat(1000), &body, 201).await;
    server.stop().await;
}

#[tokio::test]
async fn schema_creation_honours_idempotency_keys() {
    let server = TestServer::start().await;
    let post = |key: &str, body: &Value| {
        server
            .post(&schemas_path("doc.viewed"))
            .header("Idempotency-Key", key)
            .json(body)
    };
    let v1_body = json!({"targets": [{"type": "doc"}]});
    let (status, v1) = send(post("key-1", &v1_body)).await;
    assert_eq!(status, 201, "{v1}");
    // A retry with the same key replays the first answer and mints nothing.
    let (status, replay) = send(post("key-1", &v1_body)).await;
    assert_eq!((status, &replay), (201, &v1));
    // The same key with another document is a conflict, and creates no version either.
    let (status, conflict) = send(post("key-1", &json!({"targets": [{"type": "other"}]}))).await;
    assert_eq!(status, 409, "{conflict}");
    // A new key: the identical document is a 200 with version 1.
    let (status, same) = send(post("key-2", &v1_body)).await;
    assert_eq!((status, &same), (200, &v1));
    assert_eq!(
        versions(&list(&server, &schemas_path("doc.viewed")).await),
        [1]
    );
    server.stop().await;
}

#[tokio::test]
async fn valid_json_schemas_of_every_bundled_draft_and_local_refs_are_accepted() {
    let server = TestServer::start().await;
    let documents = [
        json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}),
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}),
        json!({"definitions": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/s"}}}),
        json!({"$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s"}}}),
        json!({"type": "object", "properties": {"a": {"$ref": "#"}}}),
        json!({}),
    ];
    for (i, metadata) in documents.into_iter().enumerate() {
        let body =
            json!({"targets": [{"type": "x", "metadata": metadata.clone()}], "metadata": metadata});
        let schema = create_schema(&server, "x.happened", &body, 201).await;
        assert_eq!(schema["version"], i as i64 + 1);
        assert_eq!(schema["metadata"], body["metadata"], "stored as submitted");
    }
    server.stop().await;
}

#[tokio::test]
async fn percent_encoded_action_names_are_one_segment() {
    let server = TestServer::start().await;
    let body = json!({"targets": [{"type": "x"}]});
    create_schema(&server, "billing%2Finvoice%20paid", &body, 201).await;
    let page = list(&server, &schemas_path("billing%2Finvoice%20paid")).await;
    assert_eq!(versions(&page), [1]);
    let actions = list(&server, "/audit_logs/actions").await;
    assert_eq!(names(&actions), ["billing/invoice paid"]);
    server.stop().await;
}
