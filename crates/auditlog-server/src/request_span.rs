//! The tracing span of each request, with the secrets of its URL left out: a download link's
//! `signature`, an Admin Portal link's `secret` (and a presigned S3 URL's credentials) are
//! bearer secrets, and logs travel
//! further than the links were meant to. The span carries the request id (the `X-Request-ID`
//! sent back) and, once routing has matched, the route's path template.

use axum::extract::{MatchedPath, Request as AxumRequest};
use axum::http::{Request, Uri};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Span;

/// Query parameters whose values authenticate the request by themselves.
const SECRET_PARAMETERS: [&str; 5] = [
    "secret",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

/// The span of a request: its id, method and URI with secret query values replaced by
/// `REDACTED`; `route` is filled in by [`record_route`].
pub fn make_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        uri = %redacted(request.uri()),
        version = ?request.version(),
        route = tracing::field::Empty,
        environment = tracing::field::Empty,
    )
}

/// Router middleware (outside authentication, so a 401 has its route too): records the matched
/// path template (`/organizations/{organization_id}`)
/// in the request's span, so log lines group by endpoint without parsing URIs, and for the
/// request metrics.
pub async fn record_route(request: AxumRequest, next: Next) -> Response {
    if let Some(path) = request.extensions().get::<MatchedPath>() {
        Span::current().record("route", tracing::field::display(path.as_str()));
        if let Some(slot) = request.extensions().get::<crate::metrics::RouteSlot>() {
            slot.set(path.as_str());
        }
    }
    next.run(request).await
}

/// `uri` as path and query, with the values of [`SECRET_PARAMETERS`] redacted.
pub fn redacted(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{name}=REDACTED"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{}?{}", uri.path(), parts.join("&"))
}

fn is_secret(name: &str) -> bool {
    SECRET_PARAMETERS
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
}

#[cfg(test)]
mod tests {
    use super::{make_span, redacted};
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Log output kept in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_of_a_request_carry_its_id_and_route_but_not_its_secrets() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = axum::http::Request::builder()
                .uri("/downloads/exports/e.csv?expires=1&signature=s3cr3t")
                .header("x-request-id", "req_test_42")
                .body(())
                .unwrap();
            let span = make_span(&request);
            span.record("route", tracing::field::display("/downloads/exports/{id}"));
            let _entered = span.enter();
            tracing::warn!("something happened");
        });
        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(output.contains("request_id=req_test_42"), "{output}");
        assert!(output.contains("route=/downloads/exports/{id}"), "{output}");
        assert!(output.contains("something happened"), "{output}");
        assert!(!output.contains("s3cr3t"), "{output}");
    }

    #[test]
    fn secret_query_values_are_redacted() {
        let uri = "/downloads/exports/export_1.csv?expires=1700000000&signature=abc123"
            .parse()
            .unwrap();
        assert_eq!(
            redacted(&uri),
            "/downloads/exports/export_1.csv?expires=1700000000&signature=REDACTED"
        );
        let uri = "/b/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ff&x=1"
            .parse()
            .unwrap();
        assert_eq!(
            redacted(&uri),
            "/b/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&x=1"
        );
        let uri = "/portal/launch?secret=0EmGqcDbqiEll".parse().unwrap();
        assert_eq!(redacted(&uri), "/portal/launch?secret=REDACTED");
        assert_eq!(redacted(&"/health".parse().unwrap()), "/health");
    }
}
