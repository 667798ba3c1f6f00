//! C2SP tlog-tiles: a log's hashes as static tiles, so that generic transparency tooling can
//! verify and mirror it. Tiles are 8 levels high (256 hashes); `tile/<L>/<N>[.p/<W>]` holds the
//! hashes at tree level 8·L from index 256·N, `W` of them when the tile is partial. The path
//! encoding of `N` (`x001/x234/067`) is the one `tlog_tiles` implements for Go's sumdb paths,
//! which add the height: `tile/8/<L>/<N>`.

use crate::tree::{HashStore, TreeError};
pub use tlog_tiles::Tile;

/// Height of every tile (C2SP tlog-tiles fixes it).
pub const TILE_HEIGHT: u8 = 8;

/// What a path under `tile/` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// A hash tile.
    Hashes(Tile),
    /// An entry bundle (`tile/entries/<N>[.p/<W>]`).
    Entries,
}

/// `tlog_tiles::Tile::from_path` panics, rather than refusing, on a width of 0 or a level of
/// 64 or more: such paths are refused here first.
fn within_tile_limits(path: &str) -> bool {
    let (body, width) = match path.rsplit_once(".p/") {
        Some((body, width)) => (body, Some(width)),
        None => (path, None),
    };
    let width_ok = width.is_none_or(|w| w.parse::<u32>().is_ok_and(|w| (1..256).contains(&w)));
    let level = body.split('/').next().unwrap_or_default();
    width_ok && (level == "entries" || level.parse::<u8>().is_ok_and(|l| l < 64))
}

/// Parses the part of a tile URL after `tile/`; `None` when it is not a tile path.
pub fn parse_tile_path(path: &str) -> Option<TilePath> {
    if !within_tile_limits(path) {
        return None;
    }
    if let Some(rest) = path.strip_prefix("entries/") {
        let tile = Tile::from_path(&format!("tile/{TILE_HEIGHT}/data/{rest}")).ok()?;
        return tile.is_data().then_some(TilePath::Entries);
    }
    let tile = Tile::from_path(&format!("tile/{TILE_HEIGHT}/{path}")).ok()?;
    Some(TilePath::Hashes(tile))
}

/// Whether a tree of `size` leaves holds all of `tile`'s hashes.
pub fn tile_in_tree(tile: &Tile, size: u64) -> bool {
    let level_bits = u32::from(TILE_HEIGHT) * u32::from(tile.level());
    let available = size.checked_shr(level_bits).unwrap_or(0);
    let first = tile.level_index().checked_mul(1 << TILE_HEIGHT);
    first
        .and_then(|first| first.checked_add(u64::from(tile.width())))
        .is_some_and(|end| end <= available)
}

/// The tile's data: its hashes, concatenated, read from the stored hashes.
pub fn tile_data<S: HashStore>(tile: &Tile, store: &S) -> Result<Vec<u8>, TreeError> {
    crate::tree::read_tile(tile, store)
}

/// The hash tiles of a tree of `new_size` leaves that a tree of `old_size` did not have in
/// that form (new tiles, and partial tiles that grew).
pub fn new_tiles(old_size: u64, new_size: u64) -> Vec<Tile> {
    Tile::new_tiles(TILE_HEIGHT, old_size, new_size)
}

/// A hash tile's C2SP tlog-tiles path, `tile/<L>/<N>[.p/<W>]` (`tlog_tiles` writes Go's
/// sumdb paths, which carry the tile height after `tile/`).
pub fn c2sp_path(tile: &Tile) -> String {
    tile.path()
        .replacen(&format!("tile/{TILE_HEIGHT}/"), "tile/", 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{tree_root, MemoryHashStore};
    use tlog_tiles::{TileHashReader, TileReader};

    #[test]
    fn paths_parse_as_c2sp_names_them() {
        let Some(TilePath::Hashes(tile)) = parse_tile_path("1/x001/234.p/7") else {
            panic!("a partial hash tile");
        };
        assert_eq!(
            (tile.level(), tile.level_index(), tile.width()),
            (1, 1234, 7)
        );
        let Some(TilePath::Hashes(full)) = parse_tile_path("0/000") else {
            panic!("a full hash tile");
        };
        assert_eq!(full.width(), 256);
        assert_eq!(parse_tile_path("entries/000.p/3"), Some(TilePath::Entries));
        for bad in [
            "",
            "0",
            "0/1",
            "0/0001",
            "0/000.p/256",
            "0/000.p/0",
            "x/000",
            "8/0/000",
            "64/000",
            "255/000",
            "entries/000.p/0",
            "0/000.p/x",
            "0/000.p/",
        ] {
            assert_eq!(parse_tile_path(bad), None, "{bad}");
        }
    }

    /// Whatever a client puts in the URL, parsing answers and never panics (tlog_tiles asserts
    /// on some values it parses).
    #[test]
    fn no_path_makes_parsing_panic() {
        let parts = [
            "",
            "0",
            "7",
            "63",
            "64",
            "255",
            "256",
            "000",
            "001",
            "x000",
            "x999",
            "999",
            "1000",
            "entries",
            "data",
            "000.p",
            "001.p",
            "-1",
            "x",
            "18446744073709551615",
        ];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    for path in [
                        format!("{a}/{b}"),
                        format!("{a}/{b}/{c}"),
                        format!("{a}/{b}.p/{c}"),
                    ] {
                        let _ = parse_tile_path(&path);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 20_000);
    }

    /// Tiles read from the stored hashes verify against the tree's root with `tlog_tiles`'
    /// own tile reader (the algorithm of Go's sumdb clients).
    #[test]
    fn tiles_verify_against_the_root() {
        struct Tiles<'a>(&'a MemoryHashStore);
        impl TileReader for Tiles<'_> {
            fn height(&self) -> u8 {
                TILE_HEIGHT
            }
            fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
                Ok(tiles
                    .iter()
                    .map(|t| tile_data(t, self.0).unwrap())
                    .collect())
            }
            fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
        }
        let mut store = MemoryHashStore::new();
        for i in 0..70_000u32 {
            let mut leaf = [0u8; 32];
            leaf[..4].copy_from_slice(&i.to_be_bytes());
            store.append(leaf).unwrap();
        }
        let size = 70_000;
        let root = tree_root(size, &store).unwrap();
        let reader = Tiles(&store);
        let verified = TileHashReader::new(size, tlog_tiles::Hash(root), &reader);
        let proof = tlog_tiles::prove_record(size, 65_537, &verified).unwrap();
        let leaf = store
            .read_hashes(&[tlog_tiles::stored_hash_index(0, 65_537)])
            .unwrap()[0];
        tlog_tiles::check_record(
            &proof,
            size,
            tlog_tiles::Hash(root),
            65_537,
            tlog_tiles::Hash(leaf),
        )
        .unwrap();
        let full = Tile::new(TILE_HEIGHT, 0, 0, 256, false);
        assert!(tile_in_tree(&full, 256) && !tile_in_tree(&full, 255));
        let upper = Tile::new(TILE_HEIGHT, 1, 0, 3, false);
        assert!(tile_in_tree(&upper, 3 * 256) && !tile_in_tree(&upper, 3 * 256 - 1));
    }
}
