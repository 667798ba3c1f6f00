//! exports_api: filters and range.

use super::*;

/// (tag, action, actor id, actor name, target types)
type FilterEvent<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a [&'a str]);

#[tokio::test]
async fn filters_are_and_across_fields_and_or_within_one() {
    let server = TestServer::start().await;
    let org = server.create_org("Filters").await;
    let events: [FilterEvent; 5] = [
        ("e1", "a.one", "u1", Some("Alice"), &["team"]),
        ("e2", "a.two", "u2", Some("Bob"), &["document"]),
        (
            "e3",
            "a.one",
            "u2",
            Some("Bob"),
            &["team", "document", "team"],
        ),
        ("e4", "a.three", "u3", None, &["user"]),
        ("e5", "a.two", "u1", Some("Alice"), &[]),
    ];
    for (i, (tag, action, actor_id, actor_name, types)) in events.iter().enumerate() {
        let at = format!("2026-03-01T10:00:0{i}.000Z");
        let targets: Vec<(String, &str)> = types
            .iter()
            .enumerate()
            .map(|(n, kind)| (format!("{tag}_t{n}"), *kind))
            .collect();
        let targets: Vec<(&str, &str)> = targets.iter().map(|(id, k)| (id.as_str(), *k)).collect();
        let body = with_metadata(
            with_targets(event(&org, action, &at, (actor_id, *actor_name)), &targets),
            json!({"tag": tag}),
        );
        post_event(&server, &body).await;
    }
    // (filters, expected tags, expected target column groups)
    let mut cases: Vec<(Value, Vec<&str>, usize)> = vec![
        (json!({}), vec!["e1", "e2", "e3", "e4", "e5"], 3),
        (
            json!({"actions": [], "actor_names": [], "actor_ids": [], "targets": [], "actors": []}),
            vec!["e1", "e2", "e3", "e4", "e5"],
            3,
        ),
        (json!({"actions": ["a.one"]}), vec!["e1", "e3"], 3),
        (
            json!({"actions": ["a.one", "a.three"]}),
            vec!["e1", "e3", "e4"],
            3,
        ),
        (json!({"actor_names": ["Bob"]}), vec!["e2", "e3"], 3),
        (json!({"actors": ["Alice"]}), vec!["e1", "e5"], 1),
        (
            json!({"actors": ["Alice"], "actor_names": ["Bob"]}),
            vec!["e1", "e2", "e3", "e5"],
            3,
        ),
        (json!({"actor_ids": ["u3"]}), vec!["e4"], 1),
        (
            json!({"actor_ids": ["u1", "u3"]}),
            vec!["e1", "e4", "e5"],
            1,
        ),
        (json!({"targets": ["document"]}), vec!["e2", "e3"], 3),
        (
            json!({"targets": ["team", "user"]}),
            vec!["e1", "e3", "e4"],
            3,
        ),
        (
            json!({"actions": ["a.one"], "actor_names": ["Bob"]}),
            vec!["e3"],
            3,
        ),
        (
            json!({"actions": ["a.two"], "targets": ["document"], "actor_ids": ["u2"]}),
            vec!["e2"],
            1,
        ),
        (
            json!({"actions": ["a.two"], "actor_ids": ["u3"]}),
            vec![],
            0,
        ),
        (json!({"actions": ["nothing.matches"]}), vec![], 0),
        (json!({"actor_names": ["alice"]}), vec![], 0),
        (
            json!({"actions": null, "actor_names": null, "targets": null}),
            vec!["e1", "e2", "e3", "e4", "e5"],
            3,
        ),
    ];
    // The most values a list may hold, in every list at once.
    let full = |keep: &str| -> Vec<String> {
        let mut values: Vec<String> = (1..100).map(|i| format!("filler {i}")).collect();
        values.push(keep.to_string());
        values
    };
    cases.push((
        json!({"actions": full("a.one"), "actor_names": full("Bob"), "actor_ids": full("u2"),
               "targets": full("document")}),
        vec!["e3"],
        3,
    ));
    let mut exports = Vec::new();
    for (filters, _, _) in &cases {
        let mut body = export_body(&org, WIDE_START, WIDE_END);
        for (key, value) in filters.as_object().unwrap() {
            body[key] = value.clone();
        }
        exports.push(start_export(&server, &body).await);
    }
    for ((filters, tags, targets), id) in cases.iter().zip(&exports) {
        let (header, rows) = export_csv(&server, id).await;
        assert_eq!(header, expected_header(*targets), "{filters}");
        let metadata = column(&header, "metadata");
        let got: Vec<String> = rows
            .iter()
            .map(|r| {
                let value: Value = serde_json::from_str(&r[metadata]).unwrap();
                value["tag"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(got, *tags, "filters {filters}");
    }
}

#[tokio::test]
async fn range_is_start_inclusive_end_exclusive_and_scoped_to_the_organization() {
    let server = TestServer::start().await;
    let org = server.create_org("Range").await;
    let other = server.create_org("Other").await;
    let other_key = server.key_for_environment("other").await;
    let foreign = {
        let response = server
            .http
            .post(server.url("/organizations"))
            .bearer_auth(&other_key)
            .json(&json!({"name": "Other env"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_string()
    };
    let times = [
        ("before_start", "2026-03-01T09:59:59.999999Z"),
        ("at_start", "2026-03-01T10:00:00.000Z"),
        ("inside", "2026-03-01T10:30:00.000001Z"),
        ("just_before_end", "2026-03-01T10:59:59.999999Z"),
        ("at_end", "2026-03-01T11:00:00.000Z"),
        ("after_end", "2026-03-01T11:00:00.001Z"),
    ];
    for (tag, at) in times {
        let body = with_metadata(
            event(&org, "range.test", at, ("u", None)),
            json!({"tag": tag}),
        );
        post_event(&server, &body).await;
        // The same instants in another organization and in another environment.
        let mut elsewhere = body.clone();
        elsewhere["organization_id"] = json!(other);
        post_event(&server, &elsewhere).await;
        elsewhere["organization_id"] = json!(foreign);
        post_event_with_key(&server, &other_key, &elsewhere).await;
    }
    let tags = |rows: &[Vec<String>]| -> Vec<String> {
        rows.iter()
            .map(|r| {
                let value: Value = serde_json::from_str(&r[9]).unwrap();
                value["tag"].as_str().unwrap().to_string()
            })
            .collect()
    };
    // The same range written with an offset.
    let ranges = [
        ("2026-03-01T10:00:00.000Z", "2026-03-01T11:00:00.000Z"),
        ("2026-03-01T11:00:00+01:00", "2026-03-01T07:00:00-04:00"),
    ];
    for (start, end) in ranges {
        let id = start_export(&server, &export_body(&org, start, end)).await;
        let (_, rows) = export_csv(&server, &id).await;
        assert_eq!(
            tags(&rows),
            ["at_start", "inside", "just_before_end"],
            "[{start}, {end})"
        );
        assert_eq!(rows[0][0], "2026-03-01T10:00:00.000Z");
        assert_eq!(rows[1][0], "2026-03-01T10:30:00.000001Z");
        assert_eq!(rows[2][0], "2026-03-01T10:59:59.999999Z");
        let own: BTreeSet<String> = server
            .stored_events(ENV, &org)
            .await
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert!(rows.iter().all(|r| own.contains(r.last().unwrap())));
    }
    // One microsecond before the start is excluded; starting there includes it.
    let id = start_export(
        &server,
        &export_body(
            &org,
            "2026-03-01T09:59:59.999999Z",
            "2026-03-01T10:00:00.000001Z",
        ),
    )
    .await;
    assert_eq!(
        tags(&export_csv(&server, &id).await.1),
        ["before_start", "at_start"]
    );
    // An empty range (start = end) is ready with a header-only file.
    let id = start_export(
        &server,
        &export_body(&org, "2026-03-01T10:00:00.000Z", "2026-03-01T10:00:00.000Z"),
    )
    .await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(0));
    assert!(rows.is_empty());
}
