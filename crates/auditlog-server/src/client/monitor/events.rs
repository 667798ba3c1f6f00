//! `--events`: every event of the log, downloaded through the read API and re-hashed here, must
//! rebuild the checkpoint's root. Incremental: earlier runs' verified leaves are kept in the
//! state directory, so a run downloads only the events after them (`--full` downloads all again
//! and holds each to the leaf seen before).
//!
//! The read API does not serve events that retention removed (nor, of course, deleted ones); the
//! log keeps their leaves, which the monitor reads from the log's level-0 tiles
//! (`…/tlog/tile/0/…`). The log's `redactions` route tells the two apart (see `redactions`): a
//! sequence it lists was removed by retention, one neither served nor listed is a gap.

use super::super::ClientError;
use super::redactions::{explain, Expected};
use super::remote::Remote;
use super::report::{ranges, EventsSummary, FindingKind, Report};
use super::state::{StateDir, UNKNOWN_TIME};
use auditlog_domain::canonical::{canonical_bytes, leaf_hash, CANONICAL_FORMAT_VERSION};
use auditlog_domain::timestamp::{parse_timestamp, to_micros};
use auditlog_tlog::{tree_root, Checkpoint, Hash, MemoryHashStore};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

/// The members of the canonical form (auditlog-domain `canonical`, version 1) that the read
/// API's event object carries as they were stored.
const CANONICAL_MEMBERS: [&str; 8] = [
    "id",
    "organization_id",
    "action",
    "version",
    "occurred_at",
    "actor",
    "targets",
    "context",
];

/// An event of the read API as its leaf: the canonical JSON rebuilt from the object (the
/// `v` member is the format version; optional members are absent, never `null`) and hashed as
/// the server hashes it at ingest. Also its `occurred_at` in µs, for retention.
pub fn leaf_of(event: &Value) -> (Hash, i64) {
    let mut canonical = Map::new();
    canonical.insert("v".into(), CANONICAL_FORMAT_VERSION.into());
    for name in CANONICAL_MEMBERS {
        canonical.insert(name.into(), event[name].clone());
    }
    if let Some(metadata) = event.get("metadata").filter(|m| !m.is_null()) {
        canonical.insert("metadata".into(), metadata.clone());
    }
    let occurred_at = event["occurred_at"]
        .as_str()
        .and_then(parse_timestamp)
        .map_or(UNKNOWN_TIME, to_micros);
    (
        leaf_hash(&canonical_bytes(&Value::Object(canonical))),
        occurred_at,
    )
}

/// Progress on stderr: rewritten in place on a terminal, a line per 10 000 events otherwise.
pub struct Progress {
    pub enabled: bool,
}

impl Progress {
    fn show(&self, downloaded: u64, through: i64, size: u64, done: bool) {
        if !self.enabled {
            return;
        }
        let line = format!("events: {downloaded} downloaded, through sequence {through} of {size}");
        let mut err = std::io::stderr();
        if err.is_terminal() {
            let _ = write!(err, "\r{line}{}", if done { "\n" } else { "" });
        } else if done || downloaded % 10_000 < 100 && downloaded >= 10_000 {
            let _ = writeln!(err, "{line}");
        }
    }
}

/// The events of sequences `start..size`, as (leaf, occurred_at), keyed by sequence.
async fn download(
    remote: &Remote,
    start: u64,
    size: u64,
    progress: &Progress,
) -> Result<BTreeMap<u64, (Hash, i64)>, ClientError> {
    let mut served = BTreeMap::new();
    let mut after = start as i64 - 1;
    while after + 1 < size as i64 {
        let page = remote.events_after(after).await?;
        if page.events.is_empty() {
            break;
        }
        for event in &page.events {
            let Some(sequence) = event["sequence"].as_u64() else {
                continue;
            };
            if (start..size).contains(&sequence) {
                served.insert(sequence, leaf_of(event));
            }
        }
        // A server that does not move forward must not keep the monitor in a loop.
        if page.last_sequence <= after {
            break;
        }
        after = page.last_sequence;
        progress.show(served.len() as u64, after.min(size as i64 - 1), size, false);
    }
    progress.show(served.len() as u64, after.min(size as i64 - 1), size, true);
    Ok(served)
}

/// The log's own leaves at `sequences`, from its level-0 tiles.
async fn log_leaves(
    remote: &Remote,
    sequences: &[u64],
    size: u64,
) -> Result<BTreeMap<u64, Hash>, ClientError> {
    let mut tiles: BTreeMap<u64, Vec<Hash>> = BTreeMap::new();
    let mut leaves = BTreeMap::new();
    for &sequence in sequences {
        let index = sequence / 256;
        if let std::collections::btree_map::Entry::Vacant(slot) = tiles.entry(index) {
            let width = (size - index * 256).min(256);
            slot.insert(remote.leaf_tile(index, width).await?);
        }
        leaves.insert(sequence, tiles[&index][(sequence % 256) as usize]);
    }
    Ok(leaves)
}

pub async fn verify(
    remote: &Remote,
    state: &StateDir,
    checkpoint: &Checkpoint,
    full: bool,
    progress: &Progress,
    report: &mut Report,
) -> Result<(), ClientError> {
    let stored = state.leaves()?;
    let verified = stored.hashes.len() as u64;
    let size = checkpoint.size;
    let mut summary = EventsSummary {
        verified,
        ..EventsSummary::default()
    };
    if verified >= size && !full {
        report.pass(
            "events",
            format!("the log's {size} leaves were verified by an earlier run"),
        );
        report.events = Some(summary);
        return Ok(());
    }
    let start = if full { 0 } else { verified };
    let served = download(remote, start, size, progress).await?;
    summary.downloaded = served.len() as u64;

    // Sequences the tail did not serve, with what the monitor expects of each.
    let mut unserved: BTreeMap<u64, Expected> = BTreeMap::new();
    if full {
        for sequence in recheck_seen(&stored, &served, size, report) {
            let index = sequence as usize;
            let expected = Expected {
                leaf: stored.hashes[index],
                occurred_at: stored.occurred_at[index],
            };
            unserved.insert(sequence, expected);
        }
    }

    // The leaves after the verified ones: recomputed from events, or the log's when missing.
    let new_range = verified.min(size)..size;
    let missing: Vec<u64> = new_range
        .clone()
        .filter(|s| !served.contains_key(s))
        .collect();
    let from_log = log_leaves(remote, &missing, size).await?;
    for &sequence in &missing {
        let expected = Expected {
            leaf: from_log[&sequence],
            occurred_at: UNKNOWN_TIME,
        };
        unserved.insert(sequence, expected);
    }
    let explained = explain(remote, &unserved).await?;
    explained.report(size, report, &mut summary);
    let new: Vec<(Hash, i64)> = new_range
        .clone()
        .map(|s| match served.get(&s) {
            Some(leaf) => *leaf,
            None => {
                let at = explained.occurred_at.get(&s).copied();
                (from_log[&s], at.unwrap_or(UNKNOWN_TIME))
            }
        })
        .collect();

    let mut tree = MemoryHashStore::new();
    for leaf in stored.hashes.iter().take(size as usize) {
        append(&mut tree, *leaf)?;
    }
    for (leaf, _) in &new {
        append(&mut tree, *leaf)?;
    }
    let root = tree_root(size, &tree)
        .map_err(|e| ClientError::Local(format!("rebuilding the tree: {e}")))?;
    if root == checkpoint.root {
        // `--full` over a checkpoint no bigger than what was verified adds nothing.
        if verified < size {
            state.append_leaves(verified, &new)?;
        }
        summary.verified = size.max(verified);
        report.pass(
            "events",
            format!(
                "the root of the {size} leaves matches the checkpoint ({} recomputed from \
                 events this run, {} taken from the log)",
                new.len() - missing.len(),
                missing.len()
            ),
        );
    } else {
        report.check(
            "events",
            false,
            format!("the root of the {size} leaves does not match the checkpoint"),
        );
        locate_rewrites(
            remote,
            &new_range.collect::<Vec<_>>(),
            &served,
            size,
            report,
        )
        .await?;
    }
    report.events = Some(summary);
    Ok(())
}

fn append(tree: &mut MemoryHashStore, leaf: Hash) -> Result<(), ClientError> {
    tree.append(leaf)
        .map(drop)
        .map_err(|e| ClientError::Local(format!("rebuilding the tree: {e}")))
}

/// The recomputed root differs: the events whose leaves are not the log's are the rewritten
/// ones. When the log's leaves all match, the log's own stored hashes were altered.
async fn locate_rewrites(
    remote: &Remote,
    sequences: &[u64],
    served: &BTreeMap<u64, (Hash, i64)>,
    size: u64,
    report: &mut Report,
) -> Result<(), ClientError> {
    let logged = log_leaves(remote, sequences, size).await?;
    let rewritten: Vec<u64> = sequences
        .iter()
        .copied()
        .filter(|s| served.get(s).is_some_and(|(leaf, _)| *leaf != logged[s]))
        .collect();
    if rewritten.is_empty() {
        report.find(
            FindingKind::Rewrite,
            "the events rebuild another root than the checkpoint's, and the log's own leaves \
             match them: the log's stored hashes were altered after signing",
        );
    } else {
        report
            .find(
                FindingKind::Rewrite,
                format!(
                    "the event(s) of sequence(s) {} do not hash to the leaves the log signed: \
                     rewritten after they were logged",
                    ranges(&rewritten)
                ),
            )
            .sequences = rewritten.clone();
    }
    Ok(())
}

/// `--full`: each event an earlier run verified must still hash to the leaf it had then.
/// Returns the ones below `size` no longer served, for the redactions route to explain.
fn recheck_seen(
    stored: &super::state::Leaves,
    served: &BTreeMap<u64, (Hash, i64)>,
    size: u64,
    report: &mut Report,
) -> Vec<u64> {
    let mut rewritten = Vec::new();
    let mut gone = Vec::new();
    for (sequence, leaf) in (0..size).zip(&stored.hashes) {
        match served.get(&sequence) {
            Some((now, _)) if now != leaf => rewritten.push(sequence),
            Some(_) => {}
            None => gone.push(sequence),
        }
    }
    if !rewritten.is_empty() {
        report
            .find(
                FindingKind::Rewrite,
                format!(
                    "the event(s) of sequence(s) {} no longer hash to the leaves this monitor \
                     verified before: rewritten since",
                    ranges(&rewritten)
                ),
            )
            .sequences = rewritten.clone();
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditlog_domain::canonical::canonical_value;
    use auditlog_domain::event::EventInput;
    use serde_json::json;

    #[test]
    fn the_read_api_object_rebuilds_the_ingest_leaf() {
        let body = json!({"organization_id": "org_1", "event": {
            "action": "a.b", "occurred_at": "2026-01-01T01:00:00.123456+01:00",
            "actor": {"type": "user", "id": "u", "name": "N"},
            "targets": [{"type": "doc", "id": "d", "metadata": {"k": 1.5}}],
            "context": {"location": "::1", "user_agent": "ua"},
            "metadata": {"z": 1, "a": "é"}}});
        let input = EventInput::parse(&body).unwrap();
        let payload =
            auditlog_domain::canonical::canonical_event_bytes("audit_log_event_X", &input);
        // The read API's object: the stored payload's members, less `v`, plus its own.
        let mut view: Value = serde_json::from_str(&payload).unwrap();
        view.as_object_mut().unwrap().remove("v");
        view["sequence"] = json!(3);
        view["received_at"] = json!("2026-01-01T00:00:00.000Z");
        view["object"] = json!("audit_log_event");
        let (leaf, occurred_at) = leaf_of(&view);
        assert_eq!(leaf, leaf_hash(payload.as_bytes()));
        assert_eq!(
            leaf,
            leaf_hash(&canonical_bytes(&canonical_value(
                "audit_log_event_X",
                &input
            )))
        );
        assert_eq!(occurred_at, 1_767_225_600_123_456);
        view["action"] = json!("a.c");
        assert_ne!(leaf_of(&view).0, leaf);
    }
}
