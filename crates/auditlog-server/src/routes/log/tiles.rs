//! The organization's log as C2SP tlog-tiles (extension), under
//! `/audit_logs/log/{organization_id}/tlog/`: `checkpoint` (the newest signed note, as text) and
//! `tile/<L>/<N>[.p/<W>]` (hash tiles of 256 hashes, 8 tree levels each), so that generic
//! transparency tooling can verify and mirror the log. Tiles are served for the tree of the
//! newest checkpoint; a full tile never changes, so it may be cached for good.
//!
//! Entry bundles (`tile/entries/…`) are not served: the entries are the organization's audit
//! events, which the read API serves with its access record in the meta-audit trail and which
//! retention removes; a mirror takes the events from the read API (their canonical JSON hashes
//! to the leaves) and the hashes from here.

use super::view::{require_organization, LogPath, LogRouteError};
use crate::auth::Environment;
use crate::error::ApiError;
use crate::extract::{PathId, PathIds};
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use crate::tlog::hashes::prefetch;
use crate::tlog::LogError;
use auditlog_tlog::tiles::{parse_tile_path, tile_data, tile_in_tree, TilePath};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;

/// The newest checkpoint of the log as a signed note (text)
///
/// The C2SP tlog-tiles `checkpoint` of the organization's log: the same note as
/// `GET …/checkpoint` returns in JSON. 404 while the log has none.
#[utoipa::path(
    get,
    path = "/audit_logs/log/{organization_id}/tlog/checkpoint",
    operation_id = "getTlogCheckpoint",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    params(LogPath),
    responses(
        (status = 200, description = "The signed note.", content_type = "text/plain", body = String),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_tlog_checkpoint(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathId(organization_id): PathId,
) -> Result<Response, LogRouteError> {
    require_organization(&state, environment.name(), &organization_id).await?;
    let checkpoint = state
        .store
        .latest_checkpoint(&organization_id)
        .await?
        .ok_or_else(|| no_checkpoint(&organization_id))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        checkpoint.note,
    )
        .into_response())
}

fn no_checkpoint(organization_id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "The log of '{organization_id}' has no checkpoint yet."
    ))
}

/// A hash tile of the log (C2SP tlog-tiles)
///
/// `tile_path` is `<L>/<N>[.p/<W>]` as C2SP tlog-tiles writes it, slashes included (e.g.
/// `0/x001/234.p/7`): the hashes at tree level 8·L from index 256·N, concatenated, 32 bytes
/// each. 404 for a tile the newest checkpoint's tree does not hold, for a path that is not a
/// tile's, and for entry bundles (`entries/…`; events are read through the read API).
#[utoipa::path(
    get,
    path = "/audit_logs/log/{organization_id}/tlog/tile/{tile_path}",
    operation_id = "getTlogTile",
    tag = "tamper evidence",
    extensions(("x-auditlog-extension" = json!(true))),
    params(
        LogPath,
        ("tile_path" = String, Path, description = "`<L>/<N>[.p/<W>]`; its slashes are part of the path", example = "0/000.p/5"),
    ),
    responses(
        (status = 200, description = "The tile's hashes.", content_type = "application/octet-stream", body = [u8]),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get_tlog_tile(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    PathIds(organization_id, path): PathIds,
) -> Result<Response, LogRouteError> {
    require_organization(&state, environment.name(), &organization_id).await?;
    let tile = match parse_tile_path(&path) {
        Some(TilePath::Hashes(tile)) => tile,
        Some(TilePath::Entries) => {
            return Err(ApiError::NotFound(
                "Entry bundles are not served: read the events through GET /audit_logs/events \
                 (their canonical JSON hashes to the leaves)."
                    .into(),
            )
            .into())
        }
        None => {
            return Err(ApiError::NotFound(format!(
                "Not a tile path: '{path}' (C2SP tlog-tiles: <L>/<N>[.p/<W>])."
            ))
            .into())
        }
    };
    let checkpoint = state
        .store
        .latest_checkpoint(&organization_id)
        .await?
        .ok_or_else(|| no_checkpoint(&organization_id))?;
    if !tile_in_tree(&tile, checkpoint.tree_size as u64) {
        return Err(ApiError::NotFound(format!(
            "The tile '{path}' is not in the tree of the newest checkpoint (size {}).",
            checkpoint.tree_size
        ))
        .into());
    }
    let hashes = prefetch(state.store.as_ref(), &organization_id, |dry| {
        let _ = tile_data(&tile, dry);
    })
    .await?;
    let data = tile_data(&tile, &hashes).map_err(LogError::from)?;
    let cache = if tile.width() == 256 {
        "private, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        data,
    )
        .into_response())
}
