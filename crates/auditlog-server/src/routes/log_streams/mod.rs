//! Log streams (extension): configure where an organization's events are delivered, see how
//! delivery goes, pause, replay and test. Delivery itself is in `streams`.

pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod get;
mod replay;
mod request;
pub(crate) mod test_event;
pub(crate) mod update;
pub(crate) mod view;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    crate::idempotency::idempotent_posts(
        OpenApiRouter::default()
            .routes(routes!(create::create_log_stream, get::list_log_streams))
            .routes(routes!(
                get::get_log_stream,
                update::update_log_stream,
                delete::delete_log_stream
            ))
            .routes(routes!(test_event::send_log_stream_test))
            .routes(routes!(replay::replay_log_stream)),
    )
}
