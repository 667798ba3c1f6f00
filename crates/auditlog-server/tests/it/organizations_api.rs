//! The Organizations API through the official SDK (and raw HTTP where the SDK cannot express
//! a request): create, get, update, list pagination, delete, audit log configuration.

use crate::common;

use common::{assert_json_with_request_id, event_body, field_errors, TestServer};
use futures::TryStreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use workos::organizations::{
    CreateOrganizationParams, ListOrganizationsParams, UpdateOrganizationParams,
};
use workos::{
    AuditLogConfigurationState, Error, Organization, OrganizationDomainData,
    OrganizationDomainDataState, OrganizationDomainState, OrganizationInput, PaginationOrder,
    UpdateOrganization,
};

fn input(name: &str) -> OrganizationInput {
    #[allow(deprecated)]
    OrganizationInput {
        name: name.to_string(),
        allow_profiles_outside_organization: None,
        domains: None,
        domain_data: None,
        metadata: None,
        external_id: None,
    }
}

fn no_changes() -> UpdateOrganization {
    #[allow(deprecated)]
    UpdateOrganization {
        name: None,
        allow_profiles_outside_organization: None,
        domains: None,
        domain_data: None,
        stripe_customer_id: None,
        metadata: None,
        external_id: None,
    }
}

fn domain_data(
    domain: &str,
    state: OrganizationDomainDataState,
) -> Option<Vec<OrganizationDomainData>> {
    Some(vec![OrganizationDomainData {
        domain: domain.into(),
        state,
    }])
}

async fn create(client: &workos::Client, body: OrganizationInput) -> Result<Organization, Error> {
    let params = CreateOrganizationParams::new(body);
    client.organizations().create_organization(params).await
}

async fn update(
    client: &workos::Client,
    id: &str,
    body: UpdateOrganization,
) -> Result<Organization, Error> {
    let params = UpdateOrganizationParams::new(body);
    client.organizations().update_organization(id, params).await
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`: UTC, exactly three fractional digits and `Z`.
fn assert_millis_timestamp(value: &str) {
    let shape_ok = value.len() == 24 && value.as_bytes()[19] == b'.' && value.ends_with('Z');
    let parses = chrono::DateTime::parse_from_rfc3339(value).is_ok();
    assert!(
        shape_ok && parses,
        "not a millisecond UTC timestamp: {value}"
    );
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 204 {
        return (status, Value::Null);
    }
    assert_json_with_request_id(&response);
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn create_returns_a_complete_organization() {
    let server = TestServer::start().await;
    let body = json!({
        "name": "Acme",
        "domain_data": [{"domain": "Acme.com", "state": "verified"}, {"domain": "acme.io", "state": "pending"}],
        "metadata": {"tier": "gold"},
        "external_id": "ext-1",
    });
    let (status, org) = send(server.post("/organizations").json(&body)).await;
    assert_eq!(status, 201, "{org}");
    assert_eq!(org["object"], "organization");
    let id = org["id"].as_str().unwrap();
    assert!(id.starts_with("org_") && id.len() == 30, "{id}");
    assert_eq!(org["name"], "Acme");
    assert_eq!(org["metadata"], json!({"tier": "gold"}));
    assert_eq!(org["external_id"], "ext-1");
    assert_eq!(org["stripe_customer_id"], Value::Null);
    assert_eq!(org["allow_profiles_outside_organization"], false);
    assert_millis_timestamp(org["created_at"].as_str().unwrap());
    assert_millis_timestamp(org["updated_at"].as_str().unwrap());
    let domains = org["domains"].as_array().unwrap();
    let names: Vec<(&str, &str)> = domains
        .iter()
        .map(|d| (d["domain"].as_str().unwrap(), d["state"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("acme.com", "verified"), ("acme.io", "pending")]);
    for domain in domains {
        assert_eq!(domain["object"], "organization_domain");
        assert!(domain["id"].as_str().unwrap().starts_with("org_domain_"));
        assert_eq!(domain["organization_id"], id);
        assert_millis_timestamp(domain["created_at"].as_str().unwrap());
    }
    server.stop().await;
}

#[tokio::test]
async fn sdk_create_and_get_with_domain_data_and_deprecated_domains() {
    let server = TestServer::start().await;
    let client = server.workos();
    let mut body = input("Acme");
    body.domain_data = domain_data("acme.com", OrganizationDomainDataState::Verified);
    body.metadata = Some(HashMap::from([("tier".to_string(), "gold".to_string())]));
    body.external_id = Some("ext-1".into());
    let created = create(&client, body).await.unwrap();
    assert_eq!(created.object, "organization");
    assert_eq!(created.domains.len(), 1);
    assert_eq!(created.domains[0].domain, "acme.com");
    assert_eq!(
        created.domains[0].state,
        Some(OrganizationDomainState::Verified)
    );
    assert_eq!(created.metadata["tier"], "gold");
    assert_eq!(created.external_id.as_deref(), Some("ext-1"));

    let fetched = client
        .organizations()
        .get_organization(&created.id)
        .await
        .unwrap();
    assert_eq!(fetched.id, created.id);
    assert_eq!(fetched.name, "Acme");
    assert_eq!(fetched.created_at, created.created_at);
    assert_eq!(fetched.domains[0].id, created.domains[0].id);

    let mut legacy = input("Legacy");
    #[allow(deprecated)]
    {
        legacy.domains = Some(vec!["Legacy.example".into(), "two.example".into()]);
    }
    let created = create(&client, legacy).await.unwrap();
    let domains: Vec<_> = created
        .domains
        .iter()
        .map(|d| (d.domain.as_str(), d.state.clone()))
        .collect();
    let pending = Some(OrganizationDomainState::Pending);
    assert_eq!(
        domains,
        [
            ("legacy.example", pending.clone()),
            ("two.example", pending)
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn update_changes_only_the_given_fields() {
    let server = TestServer::start().await;
    let client = server.workos();
    let mut body = input("Acme");
    body.metadata = Some(HashMap::from([("tier".to_string(), "gold".to_string())]));
    body.external_id = Some("ext-a".into());
    body.domain_data = domain_data("acme.com", OrganizationDomainDataState::Pending);
    let orgs = client.organizations();
    let created = create(&client, body).await.unwrap();

    let mut rename = no_changes();
    rename.name = Some("Acme Inc".into());
    let updated = update(&client, &created.id, rename).await.unwrap();
    assert_eq!(updated.name, "Acme Inc");
    assert_eq!(updated.metadata, created.metadata);
    assert_eq!(updated.external_id.as_deref(), Some("ext-a"));
    assert_eq!(updated.domains[0].id, created.domains[0].id);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);
    assert_millis_timestamp(&updated.updated_at);
    let fetched = orgs.get_organization(&created.id).await.unwrap();
    assert_eq!(fetched.name, "Acme Inc");

    // A domain that stays keeps its id; its state may change.
    let mut domains = no_changes();
    domains.domain_data = domain_data("acme.com", OrganizationDomainDataState::Verified);
    let updated = update(&client, &created.id, domains).await.unwrap();
    assert_eq!(updated.domains[0].id, created.domains[0].id);
    assert_eq!(
        updated.domains[0].state,
        Some(OrganizationDomainState::Verified)
    );

    // `null` clears metadata and external_id (only raw JSON can send null).
    let path = format!("/organizations/{}", created.id);
    let (status, cleared) = send(server.put(&path).json(&json!({"metadata": null}))).await;
    assert_eq!(status, 200);
    assert_eq!(cleared["metadata"], json!({}));
    assert_eq!(cleared["external_id"], "ext-a");
    assert_eq!(cleared["name"], "Acme Inc");
    let (status, cleared) = send(server.put(&path).json(&json!({"external_id": null}))).await;
    assert_eq!(status, 200);
    assert_eq!(cleared["external_id"], Value::Null);
    server.stop().await;
}

#[tokio::test]
async fn external_id_conflicts_are_409() {
    let server = TestServer::start().await;
    let client = server.workos();
    let orgs = client.organizations();
    let mut first = input("A");
    first.external_id = Some("ext-a".into());
    let a = create(&client, first.clone()).await.unwrap();
    let b = create(&client, input("B")).await.unwrap();

    let error = create(&client, first.clone()).await.unwrap_err();
    assert_eq!(error.status(), Some(409), "{error:?}");
    assert_eq!(error.code(), Some("conflict"));

    let mut steal = no_changes();
    steal.external_id = Some("ext-a".into());
    let error = update(&client, &b.id, steal.clone()).await.unwrap_err();
    assert_eq!(error.status(), Some(409), "{error:?}");
    assert_eq!(
        orgs.get_organization(&b.id).await.unwrap().external_id,
        None
    );

    // Once the holder is deleted the external id is free again.
    orgs.delete_organization(&a.id).await.unwrap();
    let taken = update(&client, &b.id, steal).await.unwrap();
    assert_eq!(taken.external_id.as_deref(), Some("ext-a"));
    server.stop().await;
}

type Cursor = Option<String>;

/// Lists with raw query parameters and returns (ids, before, after).
async fn list(server: &TestServer, query: &str) -> (Vec<String>, Cursor, Cursor) {
    let (status, body) = send(server.get(&format!("/organizations?{query}"))).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(body["object"], "list");
    let ids = body["data"].as_array().unwrap().iter();
    let ids = ids.map(|o| o["id"].as_str().unwrap().to_string()).collect();
    let meta = body["list_metadata"].as_object().unwrap();
    assert!(
        meta.contains_key("before") && meta.contains_key("after"),
        "{body}"
    );
    let cursor = |key: &str| meta[key].as_str().map(str::to_string);
    (ids, cursor("before"), cursor("after"))
}

fn page_size(limit: i64, after: Cursor, order: PaginationOrder) -> ListOrganizationsParams {
    let order = Some(order);
    ListOrganizationsParams {
        limit: Some(limit),
        after,
        order,
        ..Default::default()
    }
}

#[tokio::test]
async fn list_pagination_in_every_order() {
    let server = TestServer::start().await;
    let client = server.workos();
    let orgs = client.organizations();
    let mut c = Vec::new();
    for i in 0..5 {
        let params = CreateOrganizationParams::new(input(&format!("Org {i}")));
        c.push(orgs.create_organization(params).await.unwrap().id);
    }
    let newest_first: Vec<String> = c.iter().rev().cloned().collect();
    let ids = |range: &[usize]| range.iter().map(|i| c[*i].clone()).collect::<Vec<_>>();
    let at = |i: usize| Some(c[i].clone());

    // desc (the default) following `after` until it is null: each seen once, newest first.
    let (mut seen, mut sizes, mut after) = (Vec::new(), Vec::new(), None);
    loop {
        let params = page_size(2, after.clone(), PaginationOrder::Desc);
        let page = orgs.list_organizations(params).await.unwrap();
        assert_eq!(page.object, "list");
        assert_eq!(page.list_metadata.before.is_none(), after.is_none());
        sizes.push(page.data.len());
        seen.extend(page.data.into_iter().map(|o| o.id));
        after = page.list_metadata.after;
        if after.is_none() {
            break;
        }
    }
    assert_eq!((seen, sizes), (newest_first.clone(), vec![2, 2, 1]));

    // The SDK's auto-pager gets the same.
    let pages = orgs.list_organizations_auto_paging(page_size(2, None, PaginationOrder::Desc));
    let all: Vec<_> = pages.try_collect().await.unwrap();
    assert_eq!(
        all.into_iter().map(|o| o.id).collect::<Vec<_>>(),
        newest_first
    );

    // asc, through the SDK and then raw.
    let page = orgs
        .list_organizations(page_size(3, None, PaginationOrder::Asc))
        .await
        .unwrap();
    assert_eq!(
        page.data.into_iter().map(|o| o.id).collect::<Vec<_>>(),
        ids(&[0, 1, 2])
    );
    assert_eq!(page.list_metadata.after, at(2));
    let query = format!("order=asc&limit=3&after={}", c[2]);
    assert_eq!(list(&server, &query).await, (ids(&[3, 4]), at(3), None));

    let query = format!("order=asc&limit=2&before={}", c[2]);
    assert_eq!(list(&server, &query).await, (ids(&[0, 1]), None, at(1)));

    // `before` in desc order pages back towards the newest.
    let query = format!("limit=2&before={}", c[2]);
    assert_eq!(list(&server, &query).await, (ids(&[4, 3]), None, at(3)));

    // `normal`: newest first, `before` fetches older records and `after` newer ones.
    let query = "order=normal&limit=2";
    assert_eq!(list(&server, query).await, (ids(&[4, 3]), at(3), None));
    let query = format!("order=normal&limit=2&before={}", c[3]);
    assert_eq!(list(&server, &query).await, (ids(&[2, 1]), at(1), at(2)));
    let query = format!("order=normal&limit=2&after={}", c[1]);
    assert_eq!(list(&server, &query).await, (ids(&[3, 2]), at(2), at(3)));

    // Node may send the literal "null" for an absent cursor.
    assert_eq!(list(&server, "after=null&before=").await.0, newest_first);
    server.stop().await;
}

#[tokio::test]
async fn list_rejects_bad_parameters_with_422() {
    let server = TestServer::start().await;
    server.create_org("Acme").await;
    let orgs = server.workos();
    let orgs = orgs.organizations();
    for limit in [0, 101] {
        let params = page_size(limit, None, PaginationOrder::Desc);
        let error = orgs.list_organizations(params).await.unwrap_err();
        assert_eq!(error.status(), Some(422), "limit {limit}");
    }
    let domains = Some(vec!["acme.com".into()]);
    let params = ListOrganizationsParams {
        domains,
        ..Default::default()
    };
    let error = orgs.list_organizations(params).await.unwrap_err();
    let body: Value = serde_json::from_slice(&error.api().unwrap().raw_body).unwrap();
    let expected = ("domains".to_string(), "unsupported".to_string());
    assert_eq!(field_errors(&body), [expected]);

    #[rustfmt::skip]
    let cases = [
        ("limit=abc", "limit"), ("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"),
        ("order=sideways", "order"), ("before=org_a&after=org_b", "before"),
        ("search=acme", "search"), ("domains=acme.com", "domains"),
    ];
    for (query, field) in cases {
        let (status, body) = send(server.get(&format!("/organizations?{query}"))).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["message"], "Validation failed.");
        assert!(
            field_errors(&body).iter().any(|(f, _)| f == field),
            "{query}: {body}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn delete_hides_the_organization_everywhere() {
    let server = TestServer::start().await;
    let id = server.create_org("Doomed").await;
    let keep = server.create_org("Kept").await;
    let path = format!("/organizations/{id}");
    let (status, _) = send(server.delete(&path)).await;
    assert_eq!(status, 204);
    let message = format!("Organization not found: '{id}'.");
    let checks = [
        server.get(&path),
        server.put(&path).json(&json!({"name": "Back"})),
        server.delete(&path),
        server.get(&format!("{path}/audit_log_configuration")),
        server.post("/audit_logs/events").json(&event_body(&id)),
    ];
    for request in checks {
        let (status, body) = send(request).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (404, Some(message.as_str())),
            "{body}"
        );
    }
    let (ids, _, _) = list(&server, "").await;
    assert_eq!(ids, [keep]);
    let error = server
        .workos()
        .organizations()
        .get_organization(&id)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    server.stop().await;
}

#[tokio::test]
async fn audit_log_configuration_reports_the_default_retention() {
    let server = TestServer::start().await;
    let id = server.create_org("Acme").await;
    let (status, body) =
        send(server.get(&format!("/organizations/{id}/audit_log_configuration"))).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"organization_id": id, "retention_period_in_days": 365, "state": "active", "log_stream": null})
    );
    let config = server
        .workos()
        .organizations()
        .get_audit_log_configuration(&id)
        .await
        .unwrap();
    assert_eq!(config.organization_id, id);
    assert_eq!(config.retention_period_in_days, 365);
    assert_eq!(config.state, AuditLogConfigurationState::Active);
    assert!(config.log_stream.is_none());
    let missing = "org_01EHWNCE74X7JSDV0X3SZ3KJNY";
    let error = server
        .workos()
        .organizations()
        .get_audit_log_configuration(missing)
        .await
        .unwrap_err();
    assert!(error.is_not_found());
    server.stop().await;
}

#[tokio::test]
async fn invalid_organization_bodies_are_422() {
    let server = TestServer::start().await;
    let eleven: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    let long_key = format!("metadata.{}", "k".repeat(41));
    #[rustfmt::skip]
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "name", "required"),
        (json!({"name": null}), "name", "required"),
        (json!({"name": ""}), "name", "required"),
        (json!({"name": 5}), "name", "invalid_type"),
        (
            json!({"name": "A", "metadata": eleven}),
            "metadata",
            "too_many_keys",
        ),
        (
            json!({"name": "A", "metadata": {"k": 1}}),
            "metadata.k",
            "invalid_value",
        ),
        (
            json!({"name": "A", "metadata": {"k": true}}),
            "metadata.k",
            "invalid_value",
        ),
        (
            json!({"name": "A", "metadata": {"k": "x".repeat(601)}}),
            "metadata.k",
            "value_too_long",
        ),
        (
            json!({"name": "A", "metadata": {"k".repeat(41): "v"}}),
            &long_key,
            "invalid_key",
        ),
        (
            json!({"name": "A", "metadata": ["v"]}),
            "metadata",
            "invalid_type",
        ),
        (
            json!({"name": "A", "domain_data": [{"domain": "a.com", "state": "done"}]}),
            "domain_data.0.state",
            "invalid_value",
        ),
        (
            json!({"name": "A", "domains": "a.com"}),
            "domains",
            "invalid_type",
        ),
        (
            json!({"name": "A", "external_id": 5}),
            "external_id",
            "invalid_type",
        ),
        (json!(["A"]), "body", "invalid_type"),
    ];
    for (body, field, code) in cases {
        let (status, response) = send(server.post("/organizations").json(&body)).await;
        assert_eq!(status, 422, "{body}: {response}");
        assert!(
            field_errors(&response).contains(&(field.to_string(), code.to_string())),
            "{body}: expected ({field}, {code}) in {response}"
        );
    }
    let (ids, _, _) = list(&server, "").await;
    assert!(ids.is_empty(), "nothing was created");

    let mut too_many = HashMap::new();
    for i in 0..11 {
        too_many.insert(format!("k{i}"), "v".to_string());
    }
    let mut body = input("A");
    body.metadata = Some(too_many);
    let error = server
        .workos()
        .organizations()
        .create_organization(CreateOrganizationParams::new(body))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(422));

    // Updates validate too, and unknown organizations are 404.
    let id = server.create_org("Acme").await;
    let (status, _) = send(
        server
            .put(&format!("/organizations/{id}"))
            .json(&json!({"name": ""})),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = send(server.get("/organizations/org_01EHWNCE74X7JSDV0X3SZ3KJNY")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "Organization not found: 'org_01EHWNCE74X7JSDV0X3SZ3KJNY'."
    );
    server.stop().await;
}
