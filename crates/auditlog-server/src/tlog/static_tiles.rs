//! The log as static files (`--publish-tiles`): after each checkpoint, the tiles new since the
//! last published one and the checkpoint itself are written to the blob store in the C2SP
//! tlog-tiles layout, under `tlog/<organization id>/tiles/`:
//! `checkpoint` (the signed note with its cosignatures, replaced each time) and
//! `tile/<L>/<N>[.p/<W>]` (full tiles written once, create-only; partial tiles replaced as they
//! grow). A bucket served by a static host or a CDN is then a log that generic transparency
//! tooling can verify and mirror without calling the server. Entry bundles are not written, for
//! the reason the tile API gives (the entries are events, served by the read API).

use super::hashes::prefetch;
use super::{parse_note, LogError, Tlog};
use auditlog_store::Store;
use auditlog_tlog::tiles::{c2sp_path, new_tiles, tile_data, Tile, TILE_HEIGHT};

/// Bytes read of a published checkpoint at most.
const MAX_NOTE_BYTES: u64 = 64 * 1024;

fn prefix(organization_id: &str) -> String {
    format!("{}/{organization_id}/tiles", super::memory::FOLDER)
}

/// The published key of a tile: its C2SP path under the organization's prefix.
pub fn tile_key(organization_id: &str, tile: &Tile) -> String {
    format!("{}/{}", prefix(organization_id), c2sp_path(tile))
}

pub fn checkpoint_key(organization_id: &str) -> String {
    format!("{}/checkpoint", prefix(organization_id))
}

/// Publishes the organization's newest checkpoint and the tiles new since the one published
/// before (all of them the first time).
pub async fn publish(
    store: &dyn Store,
    tlog: &Tlog,
    organization_id: &str,
) -> Result<(), LogError> {
    let Some(checkpoint) = store.latest_checkpoint(organization_id).await? else {
        return Ok(());
    };
    let new_size = checkpoint.tree_size as u64;
    let published_size = tlog
        .blob
        .read_small(&checkpoint_key(organization_id), MAX_NOTE_BYTES)
        .await?
        .and_then(|bytes| parse_note(&String::from_utf8_lossy(&bytes)))
        .map_or(0, |(_, size, _)| size)
        .min(new_size);
    let tiles = new_tiles(published_size, new_size);
    let hashes = prefetch(store, organization_id, |dry| {
        for tile in &tiles {
            let _ = tile_data(tile, dry);
        }
    })
    .await?;
    for tile in &tiles {
        let data = tile_data(tile, &hashes)?;
        let key = tile_key(organization_id, tile);
        if tile.width() == 1 << TILE_HEIGHT {
            tlog.blob.create(&key, data).await?;
        } else {
            tlog.blob.put(&key, data).await?;
        }
    }
    // The checkpoint last: a reader that sees it finds every tile it needs.
    tlog.blob
        .put(
            &checkpoint_key(organization_id),
            checkpoint.note.into_bytes(),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditlog_tlog::tiles::{parse_tile_path, TilePath};

    #[test]
    fn tile_keys_are_c2sp_paths() {
        for path in ["0/000", "0/x001/234.p/5", "2/000.p/1"] {
            let Some(TilePath::Hashes(tile)) = parse_tile_path(path) else {
                panic!("{path}");
            };
            assert_eq!(
                tile_key("org_1", &tile),
                format!("tlog/org_1/tiles/tile/{path}")
            );
        }
    }
}
