//! exports_api: link security.

use super::*;

#[tokio::test]
async fn tampered_foreign_or_incomplete_links_are_404_without_content() {
    let server = TestServer::start().await;
    let org = server.create_org("Acme").await;
    post_event(
        &server,
        &event(&org, "secret.read", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    let first = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let second = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let url = ready_url(&server, &first).await;
    let other_url = ready_url(&server, &second).await;
    assert_eq!(download(&url).await.status, 200);
    assert_eq!(download(&other_url).await.status, 200);

    let parsed = reqwest::Url::parse(&url).unwrap();
    let query: std::collections::HashMap<String, String> =
        parsed.query_pairs().into_owned().collect();
    let expires: i64 = query["expires"].parse().expect("numeric expires");
    let signature = query["signature"].clone();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now + 590..=now + 601).contains(&expires),
        "default link lifetime is 10 minutes: {expires} vs now {now}"
    );
    let flipped = {
        let mut chars: Vec<char> = signature.chars().collect();
        chars[0] = if chars[0] == '0' { '1' } else { '0' };
        chars.into_iter().collect::<String>()
    };
    let path = |id: &str| format!("{}/downloads/exports/{id}.csv", server.base_url);
    let base = path(&first);
    let cases = [
        (
            "tampered signature",
            format!("{base}?expires={expires}&signature={flipped}"),
        ),
        (
            "truncated signature",
            format!(
                "{base}?expires={expires}&signature={}",
                &signature[..signature.len() - 2]
            ),
        ),
        (
            "non-hex signature",
            format!("{base}?expires={expires}&signature=zz{}", &signature[2..]),
        ),
        (
            "empty signature",
            format!("{base}?expires={expires}&signature="),
        ),
        (
            "later expiry",
            format!("{base}?expires={}&signature={signature}", expires + 1),
        ),
        (
            "far expiry",
            format!(
                "{base}?expires={}&signature={signature}",
                expires + 10_000_000
            ),
        ),
        (
            "earlier expiry",
            format!("{base}?expires={}&signature={signature}", expires - 1),
        ),
        (
            "non-numeric expiry",
            format!("{base}?expires=soon&signature={signature}"),
        ),
        ("missing signature", format!("{base}?expires={expires}")),
        ("missing expiry", format!("{base}?signature={signature}")),
        ("no query", base.clone()),
        (
            "signature of another export",
            format!("{}?expires={expires}&signature={signature}", path(&second)),
        ),
        (
            "unknown export",
            format!(
                "{}?expires={expires}&signature={signature}",
                path("audit_log_export_01HZZZZZZZZZZZZZZZZZZZZZZZ")
            ),
        ),
        (
            "no .csv suffix",
            format!(
                "{}/downloads/exports/{first}?expires={expires}&signature={signature}",
                server.base_url
            ),
        ),
    ];
    for (what, link) in &cases {
        assert_link_refused(&download(link).await, what);
    }
    // The other export's own link opens only its own file.
    let other_query = reqwest::Url::parse(&other_url).unwrap();
    let other_pairs: std::collections::HashMap<String, String> =
        other_query.query_pairs().into_owned().collect();
    let swapped = format!(
        "{base}?expires={}&signature={}",
        other_pairs["expires"], other_pairs["signature"]
    );
    assert_link_refused(&download(&swapped).await, "link of export B on export A");
    // An API key does not stand in for a signature.
    let response = server
        .http
        .get(&base)
        .bearer_auth(&server.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // The genuine link still works after all this.
    assert_eq!(download(&url).await.status, 200);
}

#[tokio::test]
async fn links_expire_after_download_link_ttl_secs() {
    let server = TestServer::start_with(|c| c.exports.download_link_ttl_secs = 2).await;
    let org = server.create_org("Acme").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let url = ready_url(&server, &id).await;
    let parsed = reqwest::Url::parse(&url).unwrap();
    let expires: i64 = parsed
        .query_pairs()
        .find(|(k, _)| k == "expires")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let now = chrono::Utc::now();
    assert!(expires - now.timestamp() <= 2, "{expires} vs {now}");
    // Issued with two seconds to live, so at least one second of validity is left.
    assert_eq!(download(&url).await.status, 200);
    // Sleep until the expiry second has begun.
    let until =
        chrono::DateTime::from_timestamp(expires, 0).unwrap() + chrono::Duration::milliseconds(100);
    let wait = (until - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
    assert_link_refused(&download(&url).await, "expired link");
    // A new GET issues a working link for the same file.
    let fresh = get_export(&server, &id).await["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(fresh, url);
    assert_eq!(download(&fresh).await.status, 200);
}

#[tokio::test]
async fn links_depend_on_the_download_secret() {
    if common::skip_on_postgres("links_depend_on_the_download_secret") {
        return;
    }
    const SECRET_A: &str = "first-download-secret-0123456789abcdef";
    const SECRET_B: &str = "second-download-secret-0123456789abcdef";
    // A data dir this test owns, so it outlives each server.
    let data_dir = tempfile::tempdir().unwrap();
    let server = start_on(&data_dir, |c| {
        c.exports.download_secret = Some(SECRET_A.into())
    })
    .await;
    let org = server.create_org("Acme").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let url = ready_url(&server, &id).await;
    assert_eq!(download(&url).await.status, 200);
    drop(server.stop().await);

    // Another secret: the old link is refused, a new one works.
    let server = start_on(&data_dir, |c| {
        c.exports.download_secret = Some(SECRET_B.into())
    })
    .await;
    let old = rebase(&url, &server.base_url);
    assert_link_refused(&download(&old).await, "link signed with another secret");
    let fresh = ready_url(&server, &id).await;
    assert_eq!(download(&fresh).await.status, 200);
    drop(server.stop().await);

    // The first secret again: its links survive a restart.
    let server = start_on(&data_dir, |c| {
        c.exports.download_secret = Some(SECRET_A.into())
    })
    .await;
    assert_eq!(download(&rebase(&url, &server.base_url)).await.status, 200);
    assert_link_refused(
        &download(&rebase(&fresh, &server.base_url)).await,
        "link signed with secret B",
    );
    drop(server.stop().await);

    // Without a configured secret the generated one is kept in the data dir.
    let server = start_on(&data_dir, |_| {}).await;
    let generated = ready_url(&server, &id).await;
    assert_eq!(download(&generated).await.status, 200);
    drop(server.stop().await);
    let server = start_on(&data_dir, |_| {}).await;
    assert_eq!(
        download(&rebase(&generated, &server.base_url)).await.status,
        200,
        "a generated secret survives a restart"
    );
    assert_link_refused(
        &download(&rebase(&url, &server.base_url)).await,
        "link of the configured secret under the generated one",
    );
    drop(server.stop().await);
}
