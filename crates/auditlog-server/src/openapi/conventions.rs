//! What every operation's description follows from, added here once rather than written on
//! each handler: the `X-Request-ID` header on every answer, the API key and its 401 on the
//! authenticated half, the 503 any stored read or write can give, the 400/413/415/422 of a JSON
//! body, and the idempotency of the POSTs whose resource opted in.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::{OpenApi, Ref, RefOr};

pub fn apply(half: &mut OpenApi, needs_key: bool) {
    for (path, item) in half.paths.paths.iter_mut() {
        for (_, operation) in operations(item) {
            if needs_key {
                add_response(operation, "401", "Unauthorized");
                add_response(operation, "503", "ServiceUnavailable");
            } else {
                operation.security = Some(Vec::new());
            }
            let has_query = operation.parameters.iter().flatten().any(|parameter| {
                matches!(parameter, RefOr::T(p) if p.parameter_in == ParameterIn::Query)
            });
            let has_body = operation.request_body.is_some();
            if path.contains('{') || has_query || has_body {
                add_response(operation, "400", "BadRequest");
            }
            if has_query || has_body {
                add_response(operation, "422", "ValidationFailed");
            }
            if has_body {
                add_response(operation, "413", "PayloadTooLarge");
                add_response(operation, "415", "UnsupportedMediaType");
            }
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .entry("X-Request-ID".into())
                        .or_insert_with(|| {
                            RefOr::Ref(Ref::new("#/components/headers/X-Request-ID"))
                        });
                }
            }
        }
    }
}

/// Describes the idempotency layer on a resource's POSTs: the `Idempotency-Key` header, the
/// replay marker on success, and the answers a bad, reused or busy key gets.
pub fn mark_idempotent(document: &mut OpenApi) {
    for item in document.paths.paths.values_mut() {
        let Some(operation) = item.post.as_mut() else {
            continue;
        };
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::Ref(Ref::new(
                "#/components/parameters/Idempotency-Key",
            )));
        for (status, response) in operation.responses.responses.iter_mut() {
            if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                response.headers.insert(
                    "Idempotent-Replayed".into(),
                    RefOr::Ref(Ref::new("#/components/headers/Idempotent-Replayed")),
                );
            }
        }
        add_response(operation, "400", "BadRequest");
        add_response(operation, "409", "Conflict");
        add_response(operation, "413", "PayloadTooLarge");
    }
}

fn add_response(operation: &mut Operation, status: &str, component: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(component)));
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
    .collect()
}
