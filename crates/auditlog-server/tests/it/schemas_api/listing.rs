//! schemas_api: listing.

use super::*;

/// Creates actions `a1`…`a5` in that order; `a2` gets a second version afterwards.
async fn five_actions(server: &TestServer) {
    for i in 1..=5 {
        let body = json!({"targets": [{"type": format!("t{i}")}]});
        create_schema(server, &format!("a{i}"), &body, 201).await;
    }
    // A new millisecond, so the action's updated_at differs from its created_at.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let body = json!({"targets": [{"type": "t2"}, {"type": "extra"}]});
    create_schema(server, "a2", &body, 201).await;
}

#[tokio::test]
async fn list_actions_carries_the_latest_schema_newest_first() {
    let server = TestServer::start().await;
    five_actions(&server).await;
    let page = list(&server, "/audit_logs/actions").await;
    // Ordered by when the action was created, not when it last changed.
    assert_eq!(names(&page), ["a5", "a4", "a3", "a2", "a1"]);
    assert_eq!(
        page["list_metadata"],
        json!({"before": null, "after": null})
    );
    for action in page["data"].as_array().unwrap() {
        assert_eq!(action["object"], "audit_log_action");
        assert_eq!(action["schema"]["object"], "audit_log_schema");
        let name = action["name"].as_str().unwrap();
        let latest = &list(&server, &schemas_path(name)).await["data"][0];
        assert_eq!(
            &action["schema"], latest,
            "{name} carries its latest schema"
        );
    }
    let a2 = &page["data"][3];
    assert_eq!(a2["schema"]["version"], 2);
    assert_eq!(
        a2["schema"]["targets"],
        json!([{"type": "t2"}, {"type": "extra"}])
    );
    assert_ne!(a2["updated_at"], a2["created_at"]);
    server.stop().await;
}

#[tokio::test]
async fn list_actions_paginates_with_cursors_in_both_orders() {
    let server = TestServer::start().await;
    five_actions(&server).await;

    // desc, limit 2: [a5 a4] [a3 a2] [a1].
    let first = list(&server, "/audit_logs/actions?limit=2").await;
    assert_eq!(names(&first), ["a5", "a4"]);
    assert_eq!(cursor(&first, "before"), None);
    let after = cursor(&first, "after").expect("more pages");
    let second = list(
        &server,
        &format!("/audit_logs/actions?limit=2&after={after}"),
    )
    .await;
    assert_eq!(names(&second), ["a3", "a2"]);
    let back = cursor(&second, "before").expect("a page precedes");
    let third = list(
        &server,
        &format!(
            "/audit_logs/actions?limit=2&after={}",
            cursor(&second, "after").unwrap()
        ),
    )
    .await;
    assert_eq!(names(&third), ["a1"]);
    assert_eq!(cursor(&third, "after"), None);
    assert!(cursor(&third, "before").is_some());

    // `before` walks back to the first page.
    let previous = list(
        &server,
        &format!("/audit_logs/actions?limit=2&before={back}"),
    )
    .await;
    assert_eq!(names(&previous), ["a5", "a4"]);
    assert_eq!(cursor(&previous, "before"), None);
    assert!(cursor(&previous, "after").is_some());

    // asc walks the other way; every action exactly once either way.
    let asc: Vec<String> = walk(&server, "/audit_logs/actions?limit=2&order=asc")
        .await
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(asc, ["a1", "a2", "a3", "a4", "a5"]);
    let desc: Vec<String> = walk(&server, "/audit_logs/actions?limit=2&order=desc")
        .await
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(desc, ["a5", "a4", "a3", "a2", "a1"]);

    // `normal`: newest first, `before` leads to older records.
    let normal = list(&server, "/audit_logs/actions?limit=2&order=normal").await;
    assert_eq!(names(&normal), ["a5", "a4"]);
    assert_eq!(cursor(&normal, "after"), None);
    let older = cursor(&normal, "before").expect("older records exist");
    let normal2 = list(
        &server,
        &format!("/audit_logs/actions?limit=2&order=normal&before={older}"),
    )
    .await;
    assert_eq!(names(&normal2), ["a3", "a2"]);

    // limit 1 and 100 are the bounds; Node's literal "null" cursor means no cursor.
    assert_eq!(
        names(&list(&server, "/audit_logs/actions?limit=1").await),
        ["a5"]
    );
    assert_eq!(
        names(&list(&server, "/audit_logs/actions?limit=100&after=null&before=").await).len(),
        5
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_list_parameters_are_422() {
    let server = TestServer::start().await;
    create_schema(&server, "a1", &json!({"targets": [{"type": "t"}]}), 201).await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=2.5", "limit"),
        ("order=sideways", "order"),
        ("before=x&after=y", "before"),
    ];
    for base in ["/audit_logs/actions", "/audit_logs/actions/a1/schemas"] {
        for (query, field) in cases {
            let (status, body) = get(&server, &format!("{base}?{query}")).await;
            assert_eq!(status, 422, "{base}?{query}: {body}");
            assert_eq!(body["message"], "Validation failed.");
            let fields: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
            assert!(fields.contains(&field.to_string()), "{query}: {fields:?}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn list_schemas_is_newest_first_paginates_and_404s_for_unknown_actions() {
    let server = TestServer::start().await;
    for i in 1..=5 {
        let body = json!({"targets": [{"type": format!("t{i}")}]});
        let schema = create_schema(&server, "doc.edited", &body, 201).await;
        assert_eq!(schema["version"], i);
    }
    // Another action's versions never show up here.
    create_schema(
        &server,
        "doc.deleted",
        &json!({"targets": [{"type": "t"}]}),
        201,
    )
    .await;

    let all = list(&server, &schemas_path("doc.edited")).await;
    assert_eq!(versions(&all), [5, 4, 3, 2, 1]);
    for schema in all["data"].as_array().unwrap() {
        let version = schema["version"].as_i64().unwrap();
        assert_eq!(schema["targets"], json!([{"type": format!("t{version}")}]));
    }

    let path = format!("{}?limit=2", schemas_path("doc.edited"));
    let first = list(&server, &path).await;
    assert_eq!(versions(&first), [5, 4]);
    let second = list(
        &server,
        &format!("{path}&after={}", cursor(&first, "after").unwrap()),
    )
    .await;
    assert_eq!(versions(&second), [3, 2]);
    let back = list(
        &server,
        &format!("{path}&before={}", cursor(&second, "before").unwrap()),
    )
    .await;
    assert_eq!(versions(&back), [5, 4]);
    let walked: Vec<i64> = walk(&server, &path)
        .await
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(walked, [5, 4, 3, 2, 1]);
    let asc: Vec<i64> = walk(&server, &format!("{path}&order=asc"))
        .await
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(asc, [1, 2, 3, 4, 5]);

    let (status, body) = get(&server, &schemas_path("doc.nope")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["message"], "Audit Log Action not found: 'doc.nope'.");
    server.stop().await;
}
