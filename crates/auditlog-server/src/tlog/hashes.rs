//! Stored log hashes for the synchronous tlog algorithms, fetched from the async store ahead.
//!
//! `auditlog-tlog` reads hashes through a synchronous [`HashStore`]. Its algorithms (appends,
//! roots, inclusion, consistency and multi-proofs) choose which stored indexes to read from
//! tree sizes and leaf indexes alone, never from hash values. So a dry run against placeholder
//! hashes records exactly the indexes the real run will read; one query fetches them; the real
//! run then reads from memory. That is two passes of O(log n) work, and one round trip.

use super::LogError;
use auditlog_store::Store;
use auditlog_tlog::{Hash, HashStore, MissingHash};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// Hashes of one organization's log, fetched ahead (or, in a dry run, recorded).
#[derive(Debug, Default)]
pub struct Prefetched {
    hashes: HashMap<u64, Hash>,
    /// `Some` in the dry run: every index asked for, answered with a placeholder.
    recorded: Option<RefCell<BTreeSet<u64>>>,
}

impl HashStore for Prefetched {
    type Error = MissingHash;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MissingHash> {
        if let Some(recorded) = &self.recorded {
            recorded.borrow_mut().extend(indexes.iter().copied());
            return Ok(vec![[0; 32]; indexes.len()]);
        }
        indexes
            .iter()
            .map(|index| self.hashes.get(index).copied().ok_or(MissingHash(*index)))
            .collect()
    }
}

/// Runs `reads` once against placeholders to learn which stored hashes it needs, and returns
/// them fetched from the store; run the real computation against the result.
pub async fn prefetch(
    store: &dyn Store,
    organization_id: &str,
    reads: impl FnOnce(&Prefetched),
) -> Result<Prefetched, LogError> {
    let dry = Prefetched {
        hashes: HashMap::new(),
        recorded: Some(RefCell::new(BTreeSet::new())),
    };
    reads(&dry);
    let indexes: Vec<u64> = dry
        .recorded
        .map(|r| r.into_inner())
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut hashes = HashMap::with_capacity(indexes.len());
    // Large multi-proofs need many hashes: fetch them in bounded chunks.
    for chunk in indexes.chunks(10_000) {
        let wanted: Vec<i64> = chunk.iter().map(|&i| i as i64).collect();
        let found = store.log_hashes(organization_id, &wanted).await?;
        hashes.extend(chunk.iter().copied().zip(found));
    }
    Ok(Prefetched {
        hashes,
        recorded: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditlog_tlog::{inclusion_proof, tree_root, MemoryHashStore};

    #[test]
    fn a_dry_run_records_what_the_real_run_reads() {
        let mut memory = MemoryHashStore::new();
        for i in 0..37u8 {
            memory.append([i; 32]).unwrap();
        }
        let dry = Prefetched {
            hashes: HashMap::new(),
            recorded: Some(RefCell::new(BTreeSet::new())),
        };
        let _ = tree_root(37, &dry);
        let _ = inclusion_proof(37, 5, &dry);
        let wanted: Vec<u64> = dry.recorded.unwrap().into_inner().into_iter().collect();
        let real = Prefetched {
            hashes: wanted
                .iter()
                .map(|&i| (i, memory.stored()[i as usize]))
                .collect(),
            recorded: None,
        };
        assert_eq!(
            tree_root(37, &real).unwrap(),
            tree_root(37, &memory).unwrap()
        );
        assert_eq!(
            inclusion_proof(37, 5, &real).unwrap(),
            inclusion_proof(37, 5, &memory).unwrap()
        );
    }
}
