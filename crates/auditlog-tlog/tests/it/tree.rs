//! The log against an independent implementation (ct-merkle) and against tampering.

use auditlog_domain::canonical::leaf_hash;
use auditlog_tlog::{
    consistency_proof, hashes_to_store, hashes_to_store_batch, inclusion_proof, tree_root,
    verify_consistency, verify_inclusion, Hash, HashStore, MemoryHashStore, MultiProof, TreeError,
    EMPTY_ROOT,
};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use sha2_011::Sha256;

const N: u64 = 300;

fn data(i: u64) -> Vec<u8> {
    format!("{{\"event\":{i}}}").into_bytes()
}

fn concat(proof: &[Hash]) -> Vec<u8> {
    proof.concat()
}

fn ct_root(tree: &MemoryBackedTree<Sha256, Vec<u8>>) -> Hash {
    tree.root().as_bytes().as_slice().try_into().unwrap()
}

fn ct_root_hash(root: Hash, size: u64) -> RootHash<Sha256> {
    RootHash::new(root.into(), size)
}

/// RFC 9162 §2.1.1 MTH, from scratch, as a second reference for roots.
fn reference_root(leaves: &[Hash]) -> Hash {
    use sha2_011::Digest;
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let mut k = 1; // the largest power of two smaller than n
            while k * 2 < n {
                k *= 2;
            }
            let mut hasher = Sha256::new();
            hasher.update([1u8]);
            hasher.update(reference_root(&leaves[..k]));
            hasher.update(reference_root(&leaves[k..]));
            hasher.finalize().into()
        }
    }
}

/// Appends 1..=N leaves to both implementations; at every size, every root, inclusion proof and
/// consistency proof from ours equals ct-merkle's and verifies both ways.
#[test]
fn roots_and_proofs_match_ct_merkle_for_every_size_up_to_300() {
    let mut ours = MemoryHashStore::new();
    let mut theirs = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let mut leaves = Vec::new();
    let mut roots = vec![EMPTY_ROOT];
    assert_eq!(tree_root(0, &ours).unwrap(), ct_root(&theirs));
    for i in 0..N {
        let leaf = leaf_hash(&data(i));
        assert_eq!(ours.append(leaf).unwrap(), i);
        theirs.push(data(i));
        leaves.push(leaf);
        let size = i + 1;
        let root = tree_root(size, &ours).unwrap();
        assert_eq!(root, ct_root(&theirs), "root at size {size}");
        assert_eq!(
            root,
            reference_root(&leaves),
            "reference root at size {size}"
        );
        roots.push(root);
        let their_root = theirs.root();
        for m in 0..size {
            let proof = inclusion_proof(size, m, &ours).unwrap();
            let their_proof = theirs.prove_inclusion(m as usize);
            assert_eq!(concat(&proof), their_proof.as_bytes(), "path {m} in {size}");
            assert!(verify_inclusion(leaves[m as usize], m, size, &proof, root));
            let ours_as_theirs = InclusionProof::<Sha256>::from_bytes(concat(&proof));
            their_root
                .verify_inclusion(&data(m), m, &ours_as_theirs)
                .unwrap();
        }
        for old in 1..=size {
            let proof = consistency_proof(old, size, &ours).unwrap();
            assert!(verify_consistency(
                old,
                size,
                roots[old as usize],
                root,
                &proof
            ));
            if old < size {
                let their_proof = theirs.prove_consistency((size - old) as usize);
                assert_eq!(concat(&proof), their_proof.as_bytes(), "{old} -> {size}");
                let ours_as_theirs =
                    ConsistencyProof::<Sha256>::try_from_bytes(concat(&proof)).unwrap();
                their_root
                    .verify_consistency(&ct_root_hash(roots[old as usize], old), &ours_as_theirs)
                    .unwrap();
            } else {
                assert!(proof.is_empty());
            }
        }
        let from_empty = consistency_proof(0, size, &ours).unwrap();
        assert!(verify_consistency(0, size, EMPTY_ROOT, root, &from_empty));
    }
    assert_eq!(ours.stored().len() as u64, tlog_tiles::stored_hash_count(N));
}

fn build(n: u64) -> (MemoryHashStore, Vec<Hash>) {
    let mut store = MemoryHashStore::new();
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&data(i))).collect();
    for leaf in &leaves {
        store.append(*leaf).unwrap();
    }
    (store, leaves)
}

#[test]
fn tampered_inclusion_proofs_fail() {
    let (store, leaves) = build(N);
    let root = tree_root(N, &store).unwrap();
    for m in [0, 1, 2, 127, 128, 255, 256, 298, 299] {
        let proof = inclusion_proof(N, m, &store).unwrap();
        let leaf = leaves[m as usize];
        assert!(verify_inclusion(leaf, m, N, &proof, root));
        let mut changed = leaf;
        changed[0] ^= 1;
        assert!(
            !verify_inclusion(changed, m, N, &proof, root),
            "changed leaf"
        );
        assert!(
            !verify_inclusion(leaf, (m + 1) % N, N, &proof, root),
            "wrong index"
        );
        // A proof does not bind the tree size by itself (the same path can fit several sizes):
        // the signed checkpoint does, with its root. Against another size's real root it fails.
        for size in [N - 1, N + 1, N + 100] {
            let mut other = store.clone();
            while other.size() < size {
                other.append(leaf_hash(b"more")).unwrap();
            }
            let other_root = tree_root(size, &other).unwrap();
            assert!(
                !verify_inclusion(leaf, m, size, &proof, other_root),
                "wrong size"
            );
        }
        assert!(
            !verify_inclusion(leaf, m, N, &proof, leaves[0]),
            "wrong root"
        );
        assert!(
            !verify_inclusion(leaf, N + 5, N, &proof, root),
            "index out of range"
        );
        for k in 0..proof.len() {
            let mut bad = proof.clone();
            bad[k][31] ^= 0x80;
            assert!(
                !verify_inclusion(leaf, m, N, &bad, root),
                "node {k} modified"
            );
        }
        let other = inclusion_proof(N, (m + 7) % N, &store).unwrap();
        assert!(!verify_inclusion(leaf, m, N, &other, root), "swapped proof");
        let mut longer = proof.clone();
        longer.push(root);
        assert!(!verify_inclusion(leaf, m, N, &longer, root), "extra node");
        assert!(
            !verify_inclusion(leaf, m, N, &proof[1..], root),
            "missing node"
        );
    }
    assert!(matches!(
        inclusion_proof(N, N, &store),
        Err(TreeError::OutOfRange(_))
    ));
}

#[test]
fn tampered_consistency_proofs_fail() {
    let (store, _) = build(N);
    let root = |n| tree_root(n, &store).unwrap();
    for (old, new) in [
        (1, 2),
        (3, 7),
        (64, 300),
        (100, 300),
        (255, 257),
        (299, 300),
    ] {
        let proof = consistency_proof(old, new, &store).unwrap();
        assert!(verify_consistency(old, new, root(old), root(new), &proof));
        assert!(!verify_consistency(
            old,
            new,
            root(old + 1),
            root(new),
            &proof
        ));
        assert!(!verify_consistency(
            old,
            new,
            root(old),
            root(new - 1),
            &proof
        ));
        assert!(!verify_consistency(
            old + 1,
            new,
            root(old + 1),
            root(new),
            &proof
        ));
        assert!(!verify_consistency(old - 1, new, root(old - 1), root(new), &proof) || old == 1);
        if new < N {
            assert!(!verify_consistency(
                old,
                new + 1,
                root(old),
                root(new + 1),
                &proof
            ));
        }
        assert!(!verify_consistency(new, old, root(new), root(old), &proof));
        for k in 0..proof.len() {
            let mut bad = proof.clone();
            bad[k][0] ^= 1;
            assert!(!verify_consistency(old, new, root(old), root(new), &bad));
        }
        let other = consistency_proof(old + 1, new, &store).unwrap();
        if other != proof {
            assert!(!verify_consistency(old, new, root(old), root(new), &other));
        }
    }
    // An inconsistent history: the same size-100 prefix with one leaf rewritten.
    let mut forked = MemoryHashStore::new();
    for i in 0..N {
        let bytes = if i == 42 {
            b"rewritten".to_vec()
        } else {
            data(i)
        };
        forked.append(leaf_hash(&bytes)).unwrap();
    }
    let forked_proof = consistency_proof(100, N, &forked).unwrap();
    let forked_new = tree_root(N, &forked).unwrap();
    assert!(!verify_consistency(
        100,
        N,
        root(100),
        forked_new,
        &forked_proof
    ));
    assert!(!verify_consistency(0, 5, root(1), root(5), &[]));
    assert!(consistency_proof(5, 4, &store).is_err());
}

#[test]
fn batch_append_equals_one_by_one_and_store_failures_are_errors() {
    let (store, leaves) = build(N);
    let mut batched = MemoryHashStore::new();
    for leaf in &leaves[..37] {
        batched.append(*leaf).unwrap();
    }
    let new = hashes_to_store_batch(37, &leaves[37..], &batched).unwrap();
    let first = tlog_tiles::stored_hash_index(0, 37) as usize;
    assert_eq!(new.first().unwrap().0 as usize, first);
    let expected: Vec<(u64, Hash)> = (first as u64..)
        .zip(store.stored()[first..].iter().copied())
        .collect();
    assert_eq!(new, expected);
    // Appending leaf n reads only hashes that exist: an empty store cannot append leaf 1.
    let empty = MemoryHashStore::new();
    assert!(matches!(
        hashes_to_store(1, leaves[1], &empty),
        Err(TreeError::Store(_))
    ));
    assert!(matches!(tree_root(5, &empty), Err(TreeError::Store(_))));

    struct Short;
    impl HashStore for Short {
        type Error = std::io::Error;
        fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, std::io::Error> {
            Ok(vec![])
        }
    }
    assert!(matches!(
        inclusion_proof(10, 3, &Short),
        Err(TreeError::ShortRead { .. })
    ));
    assert!(matches!(
        MultiProof::prove(10, &[3], &Short),
        Err(TreeError::ShortRead { .. })
    ));
}

#[test]
fn multi_proofs_verify_and_are_compact() {
    let (store, leaves) = build(N);
    for size in [1, 2, 3, 5, 8, 13, 64, 100, 255, 256, 257, 300] {
        let root = tree_root(size, &store).unwrap();
        let sets: Vec<Vec<u64>> = vec![
            vec![],
            vec![0],
            vec![size - 1],
            (0..size).collect(),
            (0..size).filter(|i| i % 3 == 1).collect(),
            (0..size)
                .rev()
                .filter(|i| i % 17 == 0 || *i == size - 1)
                .collect(),
        ];
        for set in sets {
            let proof = MultiProof::prove(size, &set, &store).unwrap();
            let pairs: Vec<(u64, Hash)> = set.iter().map(|&i| (i, leaves[i as usize])).collect();
            assert_eq!(proof.root(&pairs).unwrap(), root, "size {size} set {set:?}");
            let per_leaf: usize = set
                .iter()
                .map(|&i| inclusion_proof(size, i, &store).unwrap().len())
                .sum();
            if set.len() > 1 {
                assert!(proof.nodes.len() < per_leaf, "compact for {size}");
            }
            if let (Some(&(first, _)), true) = (pairs.first(), size > 1) {
                let mut changed = pairs.clone();
                changed[0].1[5] ^= 1;
                assert_ne!(proof.root(&changed).unwrap(), root);
                // Claiming a neighbour's position, or listing a leaf twice, fails.
                let mut moved = pairs.clone();
                moved[0].0 = (first + 1) % size;
                assert!(proof.root(&moved) != Ok(root));
                let mut twice = pairs.clone();
                twice.push(pairs[0]);
                assert!(proof.root(&twice).is_err());
            }
            for k in 0..proof.nodes.len() {
                let mut bad = proof.clone();
                bad.nodes[k].hash[0] ^= 1;
                assert_ne!(bad.root(&pairs).unwrap(), root);
                let mut dropped = proof.clone();
                dropped.nodes.remove(k);
                assert!(dropped.root(&pairs).is_err());
            }
            let mut extra = proof.clone();
            extra.nodes.push(
                extra
                    .nodes
                    .first()
                    .cloned()
                    .unwrap_or(auditlog_tlog::ProofNode {
                        level: 0,
                        index: 0,
                        hash: root,
                    }),
            );
            assert!(extra.root(&pairs).is_err());
        }
    }
    // A proof node cannot stand in for a listed leaf: a proof for leaf 0 alone, given leaves 0
    // and 1, has an unused node (1's sibling subtree) and fails.
    let proof = MultiProof::prove(4, &[0], &store).unwrap();
    let pairs = [(0, leaves[0]), (1, leaves[1])];
    assert!(proof.root(&pairs).is_err());
    assert!(MultiProof::prove(4, &[4], &store).is_err());
    let empty = MultiProof::prove(0, &[], &store).unwrap();
    assert_eq!(empty.root(&[]).unwrap(), EMPTY_ROOT);
}
