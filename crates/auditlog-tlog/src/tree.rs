//! The per-organization log over stored hashes.
//!
//! Every leaf n adds the hashes of the complete subtrees it closes: itself at level 0 and one
//! more per trailing 1 bit of n (`1 + trailing_ones(n)` hashes, under two on average). They live
//! at dense "stored indexes" (Crosby–Wallach order, `tlog_tiles::stored_hash_index`): after n
//! leaves exactly the indexes `0..tlog_tiles::stored_hash_count(n)` are filled, so a store can
//! be a table keyed by (organization, stored index) or an array. Roots and proofs read at most
//! O(log n) of them; nothing re-reads the log.

use crate::Hash;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::error::Error as StdError;
use tlog_tiles::{
    check_record, check_tree, prove_record, prove_tree, stored_hash_count, stored_hash_index,
    stored_hashes_for_record_hash, tree_hash, HashReader,
};

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Hash = tlog_tiles::EMPTY_HASH.0;

/// Read access to the stored hashes of one log.
pub trait HashStore {
    type Error: StdError + Send + Sync + 'static;

    /// The hashes at the given stored indexes, in the same order. Indexes are usually asked in
    /// increasing order. Must return exactly one hash per index, or an error.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

impl<S: HashStore + ?Sized> HashStore for &S {
    type Error = S::Error;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        (**self).read_hashes(indexes)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("hash store: {0}")]
    Store(Box<dyn StdError + Send + Sync>),
    #[error("hash store returned {returned} hashes for {requested} indexes")]
    ShortRead { requested: usize, returned: usize },
    #[error("{0}")]
    OutOfRange(String),
    #[error("tlog: {0}")]
    Tlog(#[from] tlog_tiles::Error),
}

/// Adapts a [`HashStore`] to `tlog_tiles::HashReader`, keeping the store's own error (tlog's
/// error type cannot carry it) and turning a wrong-length answer into an error, not a panic.
struct Reader<'a, S> {
    store: &'a S,
    failure: RefCell<Option<TreeError>>,
}

impl<'a, S: HashStore> Reader<'a, S> {
    fn new(store: &'a S) -> Self {
        Reader {
            store,
            failure: RefCell::new(None),
        }
    }

    /// The store's failure if there was one, else tlog's own result.
    fn finish<T>(self, result: Result<T, tlog_tiles::Error>) -> Result<T, TreeError> {
        match (self.failure.into_inner(), result) {
            (Some(failure), _) => Err(failure),
            (None, result) => Ok(result?),
        }
    }
}

impl<S: HashStore> HashReader for Reader<'_, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        let failure = match self.store.read_hashes(indexes) {
            Ok(hashes) if hashes.len() == indexes.len() => {
                return Ok(hashes.into_iter().map(tlog_tiles::Hash).collect())
            }
            Ok(hashes) => TreeError::ShortRead {
                requested: indexes.len(),
                returned: hashes.len(),
            },
            Err(error) => TreeError::Store(Box::new(error)),
        };
        *self.failure.borrow_mut() = Some(failure);
        Err(tlog_tiles::Error::IndexesNotInTree)
    }
}

/// A tile's data read from `store` (see `crate::tiles`).
pub(crate) fn read_tile<S: HashStore>(
    tile: &tlog_tiles::Tile,
    store: &S,
) -> Result<Vec<u8>, TreeError> {
    let reader = Reader::new(store);
    let data = tile.read_data(&reader);
    reader.finish(data)
}

fn unwrap(hashes: Vec<tlog_tiles::Hash>) -> Vec<Hash> {
    hashes.into_iter().map(|h| h.0).collect()
}

fn wrap(hashes: &[Hash]) -> Vec<tlog_tiles::Hash> {
    hashes.iter().copied().map(tlog_tiles::Hash).collect()
}

/// The (stored index, hash) pairs to persist when appending leaf `leaf_index`: the leaf hash
/// itself (level 0) followed by every subtree root it completes. `store` must already hold the
/// hashes of leaves `0..leaf_index`; at most `trailing_ones(leaf_index)` of them are read.
pub fn hashes_to_store(
    leaf_index: u64,
    leaf_hash: Hash,
    store: &impl HashStore,
) -> Result<Vec<(u64, Hash)>, TreeError> {
    let reader = Reader::new(store);
    let result = stored_hashes_for_record_hash(leaf_index, tlog_tiles::Hash(leaf_hash), &reader);
    let hashes = reader.finish(result)?;
    let first = stored_hash_index(0, leaf_index);
    Ok((first..).zip(unwrap(hashes)).collect())
}

/// A store seen through the hashes of a batch that is not persisted yet.
struct Overlay<'a, S> {
    base: &'a S,
    pending: &'a BTreeMap<u64, Hash>,
}

impl<S: HashStore> HashStore for Overlay<'_, S> {
    type Error = S::Error;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        let missing: Vec<u64> = indexes
            .iter()
            .copied()
            .filter(|index| !self.pending.contains_key(index))
            .collect();
        let mut fetched = if missing.is_empty() {
            Vec::new()
        } else {
            self.base.read_hashes(&missing)?
        }
        .into_iter();
        // A short base answer yields a short result, which the Reader reports.
        Ok(indexes
            .iter()
            .map_while(|index| self.pending.get(index).copied().or_else(|| fetched.next()))
            .collect())
    }
}

/// [`hashes_to_store`] for consecutive leaves `first_index, first_index + 1, …` appended in one
/// transaction (group commit): later leaves see the hashes of earlier ones in the batch. The
/// result is in increasing stored-index order.
pub fn hashes_to_store_batch(
    first_index: u64,
    leaf_hashes: &[Hash],
    store: &impl HashStore,
) -> Result<Vec<(u64, Hash)>, TreeError> {
    let mut pending = BTreeMap::new();
    for (leaf_index, leaf_hash) in (first_index..).zip(leaf_hashes) {
        let overlay = Overlay {
            base: store,
            pending: &pending,
        };
        let new = hashes_to_store(leaf_index, *leaf_hash, &overlay)?;
        pending.extend(new);
    }
    Ok(pending.into_iter().collect())
}

/// The RFC 9162 root of the first `size` leaves ([`EMPTY_ROOT`] for 0).
pub fn tree_root(size: u64, store: &impl HashStore) -> Result<Hash, TreeError> {
    let reader = Reader::new(store);
    let result = tree_hash(size, &reader);
    Ok(reader.finish(result)?.0)
}

/// The RFC 9162 inclusion proof (audit path, leaf to root) of leaf `leaf_index` in the tree of
/// `size` leaves.
pub fn inclusion_proof(
    size: u64,
    leaf_index: u64,
    store: &impl HashStore,
) -> Result<Vec<Hash>, TreeError> {
    if leaf_index >= size {
        return Err(TreeError::OutOfRange(format!(
            "leaf {leaf_index} is not in a tree of size {size}"
        )));
    }
    let reader = Reader::new(store);
    let result = prove_record(size, leaf_index, &reader);
    Ok(unwrap(reader.finish(result)?))
}

/// The RFC 9162 consistency proof that the tree of `old_size` leaves is a prefix of the tree of
/// `new_size` leaves. Empty when the sizes are equal, and for `old_size == 0` (the empty tree is
/// a prefix of every tree).
pub fn consistency_proof(
    old_size: u64,
    new_size: u64,
    store: &impl HashStore,
) -> Result<Vec<Hash>, TreeError> {
    if old_size > new_size {
        return Err(TreeError::OutOfRange(format!(
            "old size {old_size} is larger than new size {new_size}"
        )));
    }
    if old_size == 0 {
        return Ok(Vec::new());
    }
    let reader = Reader::new(store);
    let result = prove_tree(new_size, old_size, &reader);
    Ok(unwrap(reader.finish(result)?))
}

/// Whether `proof` shows that leaf `leaf_index` with hash `leaf_hash` is in the tree of `size`
/// leaves whose root is `root`. Never panics on hostile input.
pub fn verify_inclusion(
    leaf_hash: Hash,
    leaf_index: u64,
    size: u64,
    proof: &[Hash],
    root: Hash,
) -> bool {
    check_record(
        &wrap(proof),
        size,
        tlog_tiles::Hash(root),
        leaf_index,
        tlog_tiles::Hash(leaf_hash),
    )
    .is_ok()
}

/// Whether `proof` shows that the tree (`old_size`, `old_root`) is a prefix of the tree
/// (`new_size`, `new_root`). Never panics on hostile input.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: Hash,
    new_root: Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == 0 {
        return proof.is_empty() && old_root == EMPTY_ROOT;
    }
    check_tree(
        &wrap(proof),
        new_size,
        tlog_tiles::Hash(new_root),
        old_size,
        tlog_tiles::Hash(old_root),
    )
    .is_ok()
}

/// A stored index that the store does not hold.
#[derive(Debug, thiserror::Error)]
#[error("no stored hash at index {0}")]
pub struct MissingHash(pub u64);

/// An in-memory log: the stored hashes in index order. For tests, and for tools that rebuild a
/// log from a list of leaf hashes.
#[derive(Debug, Clone, Default)]
pub struct MemoryHashStore {
    hashes: Vec<Hash>,
    size: u64,
}

impl MemoryHashStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one leaf and returns its index.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<u64, TreeError> {
        let index = self.size;
        let new = hashes_to_store(index, leaf_hash, self)?;
        debug_assert_eq!(new.first().map(|(i, _)| *i), Some(self.hashes.len() as u64));
        self.hashes.extend(new.into_iter().map(|(_, hash)| hash));
        self.size += 1;
        debug_assert_eq!(self.hashes.len() as u64, stored_hash_count(self.size));
        Ok(index)
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Every stored hash, by stored index.
    pub fn stored(&self) -> &[Hash] {
        &self.hashes
    }
}

impl HashStore for MemoryHashStore {
    type Error = MissingHash;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MissingHash> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.hashes.get(i).copied())
                    .ok_or(MissingHash(index))
            })
            .collect()
    }
}
