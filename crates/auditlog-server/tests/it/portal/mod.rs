//! The Admin Portal over HTTP, as a browser would use it: links from `POST
//! /portal/generate_link`, the session cookie, CSRF, isolation, timeouts, search and export.
//! The real browser (Chromium) runs the pages themselves in `tests/portal`.

mod isolation;
mod links;
mod sessions;
mod viewer_api;

use crate::common::{event_body, TestServer};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// A browser's side of one portal session: its cookie and CSRF token.
pub struct Browser {
    pub http: reqwest::Client,
    pub base_url: String,
    pub cookie: String,
    pub csrf: String,
    /// The `Set-Cookie` the link's opening answered with.
    pub set_cookie: String,
    /// Where the link's opening sent the browser.
    pub location: String,
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub async fn generate_link(server: &TestServer, organization: &str, intent: &str) -> String {
    let response = server
        .post("/portal/generate_link")
        .json(&json!({"organization": organization, "intent": intent}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["link"].as_str().unwrap().to_string()
}

/// The link's path and query on this test server (links carry the configured public URL).
pub fn local(server: &TestServer, link: &str) -> String {
    let at = link.find("/portal/launch").expect("a launch link");
    server.url(&link[at..])
}

impl Browser {
    pub async fn open(server: &TestServer, link: &str) -> Browser {
        let http = no_redirects();
        let response = http.get(local(server, link)).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "a fresh link opens"
        );
        let location = response.headers()[LOCATION].to_str().unwrap().to_string();
        let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let mut browser = Browser {
            http,
            base_url: server.base_url.clone(),
            cookie,
            csrf: String::new(),
            set_cookie,
            location,
        };
        let session = browser.get_json("/portal/api/session").await;
        browser.csrf = session["csrf_token"].as_str().unwrap().to_string();
        browser
    }

    pub async fn session(server: &TestServer, organization: &str, intent: &str) -> Browser {
        let link = generate_link(server, organization, intent).await;
        Browser::open(server, &link).await
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .header(COOKIE, &self.cookie)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// A state-changing request as the page sends it: with the CSRF token.
    pub async fn send(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path)
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// `GET path` with the API key; its JSON.
pub async fn api_json(server: &TestServer, path: &str) -> Value {
    let response = server.get(path).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// The body at `url` (a download link), as text.
pub async fn download(server: &TestServer, url: &str) -> String {
    server
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `count` events in `organization`, with `actor` as the actor's name; their ids.
pub async fn post_events(
    server: &TestServer,
    organization: &str,
    count: usize,
    actor: &str,
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let mut body = event_body(organization);
        body["event"]["actor"]["name"] = json!(actor);
        body["event"]["occurred_at"] = json!(format!("2026-02-02T16:35:{:02}.000Z", i % 60));
        let response = server
            .post("/audit_logs/events")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let listed = api_json(
        server,
        &format!("/audit_logs/events?organization_id={organization}&limit=100"),
    )
    .await;
    for event in listed["data"].as_array().unwrap() {
        ids.push(event["id"].as_str().unwrap().to_string());
    }
    ids
}
