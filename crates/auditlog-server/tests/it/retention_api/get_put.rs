//! retention_api: GET / PUT.

use super::*;

#[tokio::test]
async fn get_returns_the_default_retention() {
    let server = TestServer::start().await;
    let id = server.create_org("Default retention").await;
    let (status, body) = send(server.get(&retention_path(&id))).await;
    assert_eq!(
        (status, body),
        (200, json!({"retention_period_in_days": 365}))
    );
    assert_eq!(sdk_retention(&server.workos(), &id).await, Some(365));

    let short = TestServer::start_with(|c| c.jobs.default_retention_days = 30).await;
    let id = short.create_org("Short default").await;
    let (status, body) = send(short.get(&retention_path(&id))).await;
    assert_eq!(
        (status, body),
        (200, json!({"retention_period_in_days": 30}))
    );
    let client = short.workos();
    assert_eq!(sdk_retention(&client, &id).await, Some(30));
    let config = client
        .organizations()
        .get_audit_log_configuration(&id)
        .await
        .expect("configuration");
    assert_eq!(config.retention_period_in_days, 30);
    assert_eq!(config.organization_id, id);
    assert!(matches!(config.state, AuditLogConfigurationState::Active));
}

#[tokio::test]
async fn put_maps_every_retention_period() {
    let server = TestServer::start().await;
    let client = server.workos();
    let id = server.create_org("Periods").await;
    let config_path = format!("/organizations/{id}/audit_log_configuration");

    // Raw `retention_period`, each enum value.
    for (period, days) in PERIODS {
        let (status, body) = send(
            server
                .put(&retention_path(&id))
                .json(&json!({"retention_period": period})),
        )
        .await;
        assert_eq!(
            (status, body),
            (200, json!({"retention_period_in_days": days})),
            "{period}"
        );
        let (_, got) = send(server.get(&retention_path(&id))).await;
        assert_eq!(got, json!({"retention_period_in_days": days}), "{period}");
        let (_, config) = send(server.get(&config_path)).await;
        assert_eq!(config["retention_period_in_days"], days, "{period}");
    }

    // Through the SDK's `Retention::Period`, each enum value.
    for (period, days) in PERIODS {
        let enum_value = Period::from(period);
        assert!(!matches!(enum_value, Period::Unknown(_)), "{period}");
        let updated = client
            .audit_logs()
            .update_organization_audit_logs_retention(
                &id,
                sdk_update(Retention::Period {
                    retention_period: enum_value,
                }),
            )
            .await
            .unwrap_or_else(|e| panic!("{period}: {e:?}"));
        assert_eq!(updated.retention_period_in_days, Some(days), "{period}");
        assert_eq!(sdk_retention(&client, &id).await, Some(days), "{period}");
        let config = client
            .organizations()
            .get_audit_log_configuration(&id)
            .await
            .expect("configuration");
        assert_eq!(config.retention_period_in_days, days, "{period}");
    }

    // `retention_period_in_days`: every allowed value, raw and through the SDK.
    for (_, days) in PERIODS.iter().rev() {
        let (status, body) = send(
            server
                .put(&retention_path(&id))
                .json(&json!({"retention_period_in_days": days})),
        )
        .await;
        assert_eq!(
            (status, body),
            (200, json!({"retention_period_in_days": days}))
        );
        let updated = client
            .audit_logs()
            .update_organization_audit_logs_retention(
                &id,
                sdk_update(Retention::PeriodInDays {
                    retention_period_in_days: *days,
                }),
            )
            .await
            .unwrap_or_else(|e| panic!("{days}: {e:?}"));
        assert_eq!(updated.retention_period_in_days, Some(*days));
        assert_eq!(sdk_retention(&client, &id).await, Some(*days));
        let (_, config) = send(server.get(&config_path)).await;
        assert_eq!(
            config,
            json!({"organization_id": id, "retention_period_in_days": days, "state": "active", "log_stream": null})
        );
    }

    // Another organization keeps the default.
    let other = server.create_org("Untouched").await;
    assert_eq!(sdk_retention(&client, &other).await, Some(365));
}

#[tokio::test]
async fn put_rejects_invalid_bodies_with_422() {
    let server = TestServer::start().await;
    let id = server.create_org("Invalid").await;
    set_retention_days(&server, &id, 90).await;
    let bad = [
        // neither
        json!({}),
        json!({"retention_period": null}),
        json!({"retention_period_in_days": null}),
        json!({"retention": "1_YEAR"}),
        json!([]),
        json!("1_YEAR"),
        json!(365),
        // both
        json!({"retention_period": "1_YEAR", "retention_period_in_days": 365}),
        json!({"retention_period": "1_MONTH", "retention_period_in_days": 365}),
        // unknown enum values
        json!({"retention_period": "FOREVER"}),
        json!({"retention_period": "12_MONTHS"}),
        json!({"retention_period": "11_YEARS"}),
        json!({"retention_period": "0_MONTHS"}),
        json!({"retention_period": "1_MONTHS"}),
        json!({"retention_period": "2_YEAR"}),
        json!({"retention_period": "01_YEAR"}),
        json!({"retention_period": "1_year"}),
        json!({"retention_period": " 1_YEAR"}),
        json!({"retention_period": ""}),
        // disallowed day counts
        json!({"retention_period_in_days": 0}),
        json!({"retention_period_in_days": -30}),
        json!({"retention_period_in_days": 1}),
        json!({"retention_period_in_days": 31}),
        json!({"retention_period_in_days": 360}),
        json!({"retention_period_in_days": 366}),
        json!({"retention_period_in_days": 400}),
        json!({"retention_period_in_days": 3651}),
        json!({"retention_period_in_days": 4015}),
        json!({"retention_period_in_days": 9_223_372_036_854_775_807_i64}),
        // wrong types
        json!({"retention_period_in_days": "30"}),
        json!({"retention_period_in_days": 30.5}),
        json!({"retention_period_in_days": true}),
        json!({"retention_period_in_days": [30]}),
        json!({"retention_period_in_days": {"days": 30}}),
        json!({"retention_period": 365}),
        json!({"retention_period": true}),
        json!({"retention_period": ["1_YEAR"]}),
    ];
    for body in &bad {
        let (status, error) = send(server.put(&retention_path(&id)).json(body)).await;
        assert_eq!(status, 422, "{body} → {error}");
        assert!(error["message"].is_string(), "{error}");
        let fields = field_errors(&error);
        assert!(
            fields
                .iter()
                .any(|(field, _)| field.starts_with("retention_period")),
            "{body} → {error}"
        );
    }
    // Nothing changed.
    let (_, got) = send(server.get(&retention_path(&id))).await;
    assert_eq!(got, json!({"retention_period_in_days": 90}));

    // The SDK sees typed 422s.
    let client = server.workos();
    for retention in [
        Retention::Period {
            retention_period: Period::Unknown("FOREVER".into()),
        },
        Retention::PeriodInDays {
            retention_period_in_days: 31,
        },
    ] {
        let error = client
            .audit_logs()
            .update_organization_audit_logs_retention(&id, sdk_update(retention.clone()))
            .await
            .expect_err("invalid retention");
        assert_eq!(error.status(), Some(422), "{retention:?}: {error:?}");
    }
    assert_eq!(sdk_retention(&client, &id).await, Some(90));
}

#[tokio::test]
async fn unknown_and_foreign_organizations_are_404() {
    let server = TestServer::start().await;
    let mine = server.create_org("Mine").await;
    let other_key = server.key_for_environment("other").await;
    let (status, theirs) = send(
        server
            .http
            .post(server.url("/organizations"))
            .bearer_auth(&other_key)
            .json(&json!({"name": "Theirs"})),
    )
    .await;
    assert_eq!(status, 201);
    let theirs = theirs["id"].as_str().unwrap().to_string();

    let valid = json!({"retention_period_in_days": 30});
    let reason = json!({"reason": "litigation"});
    // (key, organization): unknown ids, and each environment asking for the other's organization.
    let cases = [
        (server.key.clone(), UNKNOWN_ORG.to_string()),
        (server.key.clone(), theirs.clone()),
        (other_key.clone(), mine.clone()),
    ];
    for (key, id) in &cases {
        let requests = [
            server.http.get(server.url(&retention_path(id))),
            server
                .http
                .put(server.url(&retention_path(id)))
                .json(&valid),
            server
                .http
                .get(server.url(&format!("/organizations/{id}/audit_log_configuration"))),
            server.http.get(server.url(&hold_path(id))),
            server.http.post(server.url(&hold_path(id))).json(&reason),
            server.http.delete(server.url(&hold_path(id))).json(&reason),
        ];
        for request in requests {
            let request = request.bearer_auth(key).build().unwrap();
            let what = format!("{} {}", request.method(), request.url().path());
            let response = server.http.execute(request).await.unwrap();
            assert_json_with_request_id(&response);
            assert_eq!(response.status(), 404, "{what}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body["message"],
                format!("Organization not found: '{id}'."),
                "{what}"
            );
        }
    }

    // Through the SDK.
    let client = server.workos();
    let error = client
        .audit_logs()
        .get_organization_audit_logs_retention(UNKNOWN_ORG)
        .await
        .expect_err("unknown org");
    assert_eq!(error.status(), Some(404));
    let error = client
        .audit_logs()
        .update_organization_audit_logs_retention(
            &theirs,
            sdk_update(Retention::Period {
                retention_period: Period::V1Year,
            }),
        )
        .await
        .expect_err("another environment's org");
    assert_eq!(error.status(), Some(404));
    let error = client
        .organizations()
        .get_audit_log_configuration(&theirs)
        .await
        .expect_err("another environment's org");
    assert_eq!(error.status(), Some(404));

    // The foreign attempts changed nothing.
    assert_eq!(sdk_retention(&client, &mine).await, Some(365));
    let (_, hold) = send(server.get(&hold_path(&mine))).await;
    assert_eq!(hold["active"], false);
    assert_eq!(hold["history"], json!([]));
    let (_, got) = send(
        server
            .http
            .get(server.url(&retention_path(&theirs)))
            .bearer_auth(&other_key),
    )
    .await;
    assert_eq!(got, json!({"retention_period_in_days": 365}));
}
