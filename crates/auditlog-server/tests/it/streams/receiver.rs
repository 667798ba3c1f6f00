//! A local receiver for log-stream tests: records every delivery it gets (path, headers,
//! body) and answers from a script of faults, then with its default answer.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How the receiver answers one delivery.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Accept with this status.
    Accept(u16),
    /// Refuse with this status, an optional `Retry-After` (seconds) and a body.
    Refuse(u16, Option<u64>, &'static str),
    /// Take this long, then accept (the sender may have given up already).
    Slow(Duration),
    /// Accept a JSON array of at most this many events; answer 413 to a larger one.
    AtMost(usize),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whether it was accepted (2xx).
    pub accepted: bool,
    pub at: std::time::Instant,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        let handler_shared = shared.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let shared = handler_shared.clone();
            async move { answer(&shared, uri, headers, body).await }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, shared }
    }

    /// Answers the next deliveries with `replies`, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// Answers every delivery after the script with `reply` (default: accept with 200).
    pub fn set_default(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.accepted).collect()
    }

    /// The sequences of each accepted JSON-array delivery, in the order they arrived.
    pub fn accepted_batches(&self) -> Vec<Vec<i64>> {
        self.accepted()
            .iter()
            .map(|r| super::sequences_of_array(&r.body))
            .collect()
    }
}

async fn answer(shared: &Shared, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let reply = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| shared.default.lock().unwrap().clone())
        .unwrap_or(Reply::Accept(200));
    let status = match &reply {
        Reply::Accept(status) => *status,
        Reply::Refuse(status, ..) => *status,
        Reply::Slow(_) => 200,
        Reply::AtMost(most) => {
            let events: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap_or_default();
            if events.len() <= *most {
                200
            } else {
                413
            }
        }
    };
    // Recorded before a slow answer: the receiver has the batch even if the sender gives up.
    shared.received.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        headers,
        body,
        accepted: (200..300).contains(&status),
        at: std::time::Instant::now(),
    });
    if let Reply::Slow(delay) = reply {
        tokio::time::sleep(delay).await;
    }
    let status = StatusCode::from_u16(status).unwrap();
    match reply {
        Reply::Refuse(_, Some(seconds), body) => {
            (status, [("retry-after", seconds.to_string())], body).into_response()
        }
        Reply::Refuse(_, None, body) => (status, body).into_response(),
        _ => (status, r#"{"ok":true}"#).into_response(),
    }
}
