//! `POST /organizations/{id}/log_streams/{id}/test`: sends one synthetic event now.

use super::get::load_stream;
use super::view::StreamPath;
use crate::auth::Environment;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::extract::PathIds;
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use crate::streams::destination::Destination;
use crate::streams::send_test_event;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
enum TestObject {
    #[serde(rename = "log_stream_test")]
    LogStreamTest,
}

/// What the receiver answered the test event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogStreamTestResult)]
pub struct TestResultView {
    #[schema(inline)]
    object: TestObject,
    /// The receiver acknowledged it.
    delivered: bool,
    /// The receiver's HTTP status, when it answered.
    #[schema(required = true)]
    status: Option<u16>,
    /// What the receiver answered (bounded), or why it could not be reached.
    response: String,
}

/// Send a test event
///
/// Sends one synthetic event (`action` `auditlog.log_stream.test`, `test: true`, no sequence)
/// to the receiver now and answers with what the receiver said; the stream's position and
/// counters do not change. When the receiver accepts it, a failing stream tries again at once.
#[utoipa::path(
    post,
    path = "/organizations/{organization_id}/log_streams/{stream_id}/test",
    operation_id = "testLogStream",
    tag = "log streams",
    extensions(("x-auditlog-extension" = json!(true))),
    params(StreamPath),
    responses(
        (status = 200, description = "The receiver's answer (delivered or not).", body = TestResultView),
        (status = 404, response = NotFound),
    ),
)]
pub async fn send_log_stream_test(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathIds(organization_id, stream_id): PathIds,
) -> Result<Json<TestResultView>, ApiError> {
    let mut stream = load_stream(&state, &environment, &organization_id, &stream_id).await?;
    let policy = state.config.streams.outbound_policy();
    let destination = match Destination::parse(
        &stream.destination_type,
        &stream.settings,
        &stream.secrets,
        &policy,
    ) {
        Ok(destination) => destination,
        Err(errors) => return Err(ApiError::Validation(errors)),
    };
    let view = match send_test_event(&state.config.streams, &stream, &destination).await {
        Ok(receipt) => {
            if stream.consecutive_failures > 0 {
                stream.next_attempt_at = now_micros();
                state.store.update_stream(&stream).await?;
            }
            TestResultView {
                object: TestObject::LogStreamTest,
                delivered: true,
                status: Some(receipt.status),
                response: receipt.body,
            }
        }
        Err(failure) => TestResultView {
            object: TestObject::LogStreamTest,
            delivered: false,
            status: failure.status,
            response: failure.message,
        },
    };
    Ok(Json(view))
}
