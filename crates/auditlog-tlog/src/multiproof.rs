//! One compact inclusion proof for many leaves of the same tree.
//!
//! Per-leaf audit paths repeat the nodes near the root and carry siblings that are themselves
//! proven leaves. A multi-proof instead lists each node the verifier cannot compute, once.
//!
//! Coordinates: node (`level`, `index`) covers leaves `[index·2^level, min((index+1)·2^level,
//! tree_size))`. This embeds the RFC 9162 tree of any size in a perfect tree: a node whose right
//! half is empty is the same node as its left child, and proof nodes always use the lowest such
//! level (so a lone right-edge leaf is (0, i), never a higher alias). The verifier walks down
//! from the root: a subtree holding no listed leaf must be a proof node; one holding leaves is
//! always computed, never taken from the proof (so a proof cannot stand in for a leaf). Every
//! proof node must be used exactly once.

use crate::tree::{HashStore, TreeError};
use crate::{hex32, Hash};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tlog_tiles::{node_hash, sub_tree_index};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProofNode {
    pub level: u8,
    pub index: u64,
    /// Node hash, hex.
    #[serde(with = "hex32")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub hash: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MultiProof {
    pub tree_size: u64,
    /// In the order a depth-first, left-to-right walk meets them.
    pub nodes: Vec<ProofNode>,
}

fn root_level(size: u64) -> u32 {
    if size <= 1 {
        0
    } else {
        64 - (size - 1).leading_zeros()
    }
}

/// The leaf range `[lo, hi)` of a node, and the first leaf of its right child.
fn span(level: u32, index: u64, size: u64) -> (u128, u128, u128) {
    let lo = u128::from(index) << level;
    let hi = (lo + (1u128 << level)).min(u128::from(size));
    let mid = if level == 0 {
        hi
    } else {
        lo + (1u128 << (level - 1))
    };
    (lo, hi, mid)
}

/// Collects the proof nodes of the subtree (level, index) for the sorted `leaves` inside it.
fn walk(level: u32, index: u64, size: u64, leaves: &[u64], out: &mut Vec<(u8, u64, u64, u64)>) {
    let (lo, hi, mid) = span(level, index, size);
    if leaves.is_empty() {
        // Cannot truncate: lo < hi <= size <= u64::MAX and level <= 64.
        out.push((level as u8, index, lo as u64, hi as u64));
        return;
    }
    if level == 0 {
        return;
    }
    if mid >= hi {
        return walk(level - 1, 2 * index, size, leaves, out);
    }
    let split = leaves.partition_point(|&leaf| u128::from(leaf) < mid);
    walk(level - 1, 2 * index, size, &leaves[..split], out);
    walk(level - 1, 2 * index + 1, size, &leaves[split..], out);
}

impl MultiProof {
    /// The multi-proof for `leaf_indexes` (any order, duplicates ignored) in the tree of
    /// `tree_size` leaves, read from `store` in one call.
    pub fn prove(
        tree_size: u64,
        leaf_indexes: &[u64],
        store: &impl HashStore,
    ) -> Result<MultiProof, TreeError> {
        let mut leaves = leaf_indexes.to_vec();
        leaves.sort_unstable();
        leaves.dedup();
        if let Some(&last) = leaves.last() {
            if last >= tree_size {
                return Err(TreeError::OutOfRange(format!(
                    "leaf {last} is not in a tree of size {tree_size}"
                )));
            }
        }
        if tree_size == 0 {
            return Ok(MultiProof {
                tree_size,
                nodes: Vec::new(),
            });
        }
        let mut spans = Vec::new();
        walk(root_level(tree_size), 0, tree_size, &leaves, &mut spans);
        // Each node is the RFC 9162 hash of its range: the fold of the range's maximal complete
        // subtrees, which are stored hashes.
        let mut need = Vec::new();
        let mut counts = Vec::with_capacity(spans.len());
        for &(_, _, lo, hi) in &spans {
            let before = need.len();
            need = sub_tree_index(lo, hi, need);
            counts.push(need.len() - before);
        }
        let stored = if need.is_empty() {
            Vec::new()
        } else {
            store
                .read_hashes(&need)
                .map_err(|e| TreeError::Store(Box::new(e)))?
        };
        if stored.len() != need.len() {
            return Err(TreeError::ShortRead {
                requested: need.len(),
                returned: stored.len(),
            });
        }
        let mut rest = stored.as_slice();
        let mut nodes = Vec::with_capacity(spans.len());
        for (&(level, index, _, _), count) in spans.iter().zip(counts) {
            let (parts, tail) = rest.split_at(count);
            rest = tail;
            let hash = parts
                .iter()
                .rev()
                .map(|h| tlog_tiles::Hash(*h))
                .reduce(|right, left| node_hash(left, right))
                .map(|h| h.0)
                .ok_or_else(|| TreeError::OutOfRange(format!("empty node ({level}, {index})")))?;
            nodes.push(ProofNode { level, index, hash });
        }
        Ok(MultiProof { tree_size, nodes })
    }

    /// The root implied by the proof and `leaves` ((index, leaf hash) in any order). Errors name
    /// what is wrong: a duplicate or out-of-range leaf, a missing, duplicate or unused node.
    pub fn root(&self, leaves: &[(u64, Hash)]) -> Result<Hash, String> {
        self.root_of(leaves.to_vec())
    }

    /// [`Self::root`] of leaves the caller gives up, sorted in place rather than copied: a
    /// million-row export's leaves are 40 MB.
    pub fn root_of(&self, mut leaves: Vec<(u64, Hash)>) -> Result<Hash, String> {
        let size = self.tree_size;
        leaves.sort_unstable_by_key(|(index, _)| *index);
        if let Some(pair) = leaves.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(format!("leaf {} is listed twice", pair[0].0));
        }
        if let Some((last, _)) = leaves.last() {
            if *last >= size {
                return Err(format!("leaf {last} is not in a tree of size {size}"));
            }
        }
        let mut nodes = HashMap::with_capacity(self.nodes.len());
        for node in &self.nodes {
            if nodes.insert((node.level, node.index), node.hash).is_some() {
                return Err(format!(
                    "proof node ({}, {}) is listed twice",
                    node.level, node.index
                ));
            }
        }
        if size == 0 {
            return match nodes.is_empty() {
                true => Ok(crate::tree::EMPTY_ROOT),
                false => Err("a proof for the empty tree has no nodes".into()),
            };
        }
        let mut used = 0;
        let root = compute(root_level(size), 0, size, &leaves, &nodes, &mut used)?;
        if used != nodes.len() {
            return Err(format!(
                "{} proof nodes are not part of the proof",
                nodes.len() - used
            ));
        }
        Ok(root)
    }
}

fn compute(
    level: u32,
    index: u64,
    size: u64,
    leaves: &[(u64, Hash)],
    nodes: &HashMap<(u8, u64), Hash>,
    used: &mut usize,
) -> Result<Hash, String> {
    let (_, hi, mid) = span(level, index, size);
    if leaves.is_empty() {
        *used += 1;
        return nodes
            .get(&(level as u8, index))
            .copied()
            .ok_or_else(|| format!("proof node ({level}, {index}) is missing"));
    }
    if level == 0 {
        // Leaves are sorted, distinct and in range, so exactly one falls in a level-0 node.
        return Ok(leaves[0].1);
    }
    if mid >= hi {
        return compute(level - 1, 2 * index, size, leaves, nodes, used);
    }
    let split = leaves.partition_point(|(leaf, _)| u128::from(*leaf) < mid);
    let left = compute(level - 1, 2 * index, size, &leaves[..split], nodes, used)?;
    let right = compute(
        level - 1,
        2 * index + 1,
        size,
        &leaves[split..],
        nodes,
        used,
    )?;
    Ok(node_hash(tlog_tiles::Hash(left), tlog_tiles::Hash(right)).0)
}
