//! The leaves sidecar of an export: beside `exports/{id}.csv` the export job stores
//! `exports/{id}.leaves`, the (sequence, leaf hash) of every exported row in CSV order and the
//! CSV's SHA-256, so the bundle can be built later without re-reading a single event.
//!
//! Binary, written page by page as the CSV streams: 40 bytes per row (sequence, big-endian u64;
//! leaf hash), then a 49-byte trailer: CSV SHA-256 (32), row count (big-endian u64), flags (1:
//! bit 0 = formula protection was on), and the magic `ALLEAVE1`.

use auditlog_tlog::{BundleLeaf, Hash};

pub const ROW: usize = 40;
const TRAILER: usize = 49;
const MAGIC: &[u8; 8] = b"ALLEAVE1";

/// Where an export's leaves sidecar lives in the blob store.
pub fn leaves_key(export_id: &str) -> String {
    format!("exports/{export_id}.leaves")
}

/// The rows of one page.
pub fn encode_rows(rows: impl IntoIterator<Item = (i64, Hash)>, out: &mut Vec<u8>) {
    for (sequence, hash) in rows {
        out.extend_from_slice(&(sequence as u64).to_be_bytes());
        out.extend_from_slice(&hash);
    }
}

pub fn encode_trailer(csv_sha256: Hash, row_count: u64, formula_protection: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(TRAILER);
    out.extend_from_slice(&csv_sha256);
    out.extend_from_slice(&row_count.to_be_bytes());
    out.push(u8::from(formula_protection));
    out.extend_from_slice(MAGIC);
    out
}

/// A decoded sidecar.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaves {
    pub csv_sha256: Hash,
    pub formula_protection: bool,
    /// In CSV row order.
    pub leaves: Vec<BundleLeaf>,
}

pub fn decode(bytes: &[u8]) -> Result<Leaves, String> {
    let mut decoder = LeavesDecoder::new(bytes.len() as u64)?;
    decoder.push(bytes);
    decoder.finish()
}

/// Decodes a sidecar as its bytes arrive, so that only the leaves (40 bytes a row) are ever in
/// memory, never the file as well.
pub struct LeavesDecoder {
    body_len: usize,
    body_seen: usize,
    carry: Vec<u8>,
    leaves: Vec<BundleLeaf>,
    trailer: Vec<u8>,
}

impl LeavesDecoder {
    /// For a sidecar of `total` bytes.
    pub fn new(total: u64) -> Result<LeavesDecoder, String> {
        let body_len = (total as usize)
            .checked_sub(TRAILER)
            .ok_or("the leaves sidecar is truncated")?;
        if body_len % ROW != 0 {
            return Err("the leaves sidecar is malformed".into());
        }
        Ok(LeavesDecoder {
            body_len,
            body_seen: 0,
            carry: Vec::with_capacity(ROW),
            leaves: Vec::with_capacity(body_len / ROW),
            trailer: Vec::with_capacity(TRAILER),
        })
    }

    pub fn push(&mut self, chunk: &[u8]) {
        let take = chunk.len().min(self.body_len - self.body_seen);
        let (mut body, trailer) = chunk.split_at(take);
        self.body_seen += take;
        if !self.carry.is_empty() {
            let need = (ROW - self.carry.len()).min(body.len());
            self.carry.extend_from_slice(&body[..need]);
            body = &body[need..];
            if self.carry.len() == ROW {
                let row = std::mem::take(&mut self.carry);
                self.leaves.push(leaf(&row));
            }
        }
        let whole = body.len() / ROW * ROW;
        self.leaves
            .extend(body[..whole].chunks_exact(ROW).map(leaf));
        self.carry.extend_from_slice(&body[whole..]);
        self.trailer.extend_from_slice(trailer);
    }

    pub fn finish(self) -> Result<Leaves, String> {
        let trailer = &self.trailer;
        if trailer.len() != TRAILER || !self.carry.is_empty() || &trailer[41..] != MAGIC {
            return Err("the leaves sidecar is malformed".into());
        }
        let csv_sha256: Hash = trailer[..32].try_into().map_err(|_| "short trailer")?;
        let count = u64::from_be_bytes(trailer[32..40].try_into().map_err(|_| "short trailer")?);
        if count != self.leaves.len() as u64 {
            return Err("the leaves sidecar's row count does not match its rows".into());
        }
        Ok(Leaves {
            csv_sha256,
            formula_protection: trailer[40] & 1 == 1,
            leaves: self.leaves,
        })
    }
}

fn leaf(row: &[u8]) -> BundleLeaf {
    let (sequence, hash) = row.split_at(8);
    BundleLeaf {
        sequence: u64::from_be_bytes(sequence.try_into().unwrap_or_default()),
        leaf_hash: hash.try_into().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_same_in_chunks_of_any_size() {
        let mut bytes = Vec::new();
        encode_rows((0..25).map(|i| (i * 3, [i as u8; 32])), &mut bytes);
        bytes.extend(encode_trailer([9; 32], 25, true));
        let whole = decode(&bytes).unwrap();
        for size in [1, 7, 39, 40, 41, 97, 5000] {
            let mut decoder = LeavesDecoder::new(bytes.len() as u64).unwrap();
            for chunk in bytes.chunks(size) {
                decoder.push(chunk);
            }
            assert_eq!(decoder.finish().unwrap(), whole, "chunks of {size}");
        }
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn round_trips() {
        let mut bytes = Vec::new();
        encode_rows([(3, [1; 32]), (0, [2; 32])], &mut bytes);
        encode_rows([(7, [3; 32])], &mut bytes);
        bytes.extend(encode_trailer([9; 32], 3, true));
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.csv_sha256, [9; 32]);
        assert!(decoded.formula_protection);
        let sequences: Vec<u64> = decoded.leaves.iter().map(|l| l.sequence).collect();
        assert_eq!(sequences, [3, 0, 7]);
        assert_eq!(decoded.leaves[2].leaf_hash, [3; 32]);
        assert!(decode(&bytes[1..]).is_err());
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        let empty = encode_trailer([0; 32], 0, false);
        assert!(decode(&empty).unwrap().leaves.is_empty());
    }
}
