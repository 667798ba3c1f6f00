//! The monitor's state directory: what it trusts and what it has seen, so that each run can
//! hold the log to what earlier runs accepted.
//!
//! ```text
//! DIR/log-key                  the pinned verifier key (trust on first use)
//! DIR/witness-policy.json      the pinned published witness policy
//! DIR/checkpoints/<size>.note  every accepted checkpoint, one per size, never overwritten
//! DIR/evidence/<time>-<kind>-<size>.note   conflicting checkpoints (forks, rollbacks, …)
//! DIR/events/leaves.bin        with --events: per sequence, its leaf hash (32 bytes) and
//!                              occurred_at (i64 µs, big-endian; i64::MIN when unknown)
//! DIR/events/verified.json     how many of those leaves a signed root covers
//! ```
//! Every file but `leaves.bin` is written to a temporary file and renamed into place, so a
//! crash leaves the old file or the new one. `leaves.bin` is only appended to, and only its
//! first `verified` records count: a crash between the append and `verified.json` leaves
//! records that the next run truncates and writes again.

use super::super::ClientError;
use auditlog_tlog::cosignature::WitnessPolicy;
use auditlog_tlog::Hash;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// One record of `leaves.bin`.
pub const RECORD: usize = 40;
/// `occurred_at` of a leaf the monitor took from the log, not from an event.
pub const UNKNOWN_TIME: i64 = i64::MIN;

fn local(what: &str, path: &Path, error: impl std::fmt::Display) -> ClientError {
    ClientError::Local(format!("{what} {}: {error}", path.display()))
}

pub struct StateDir {
    root: PathBuf,
}

/// The leaves the monitor verified in an earlier run.
#[derive(Debug, Clone, Default)]
pub struct Leaves {
    pub hashes: Vec<Hash>,
    pub occurred_at: Vec<i64>,
}

impl StateDir {
    pub fn open(root: &Path) -> Result<StateDir, ClientError> {
        for dir in ["checkpoints", "evidence", "events"] {
            let path = root.join(dir);
            std::fs::create_dir_all(&path).map_err(|e| local("cannot create", &path, e))?;
        }
        Ok(StateDir {
            root: root.to_path_buf(),
        })
    }

    fn read_optional(&self, name: &str) -> Result<Option<String>, ClientError> {
        let path = self.root.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(local("cannot read", &path, error)),
        }
    }

    /// Writes `name` atomically (temporary file, fsync, rename); `replace: false` keeps an
    /// existing file and answers false.
    fn write(&self, name: &str, bytes: &[u8], replace: bool) -> Result<bool, ClientError> {
        let path = self.root.join(name);
        let dir = path.parent().unwrap_or(&self.root);
        let mut file =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| local("cannot write in", dir, e))?;
        file.write_all(bytes)
            .and_then(|()| file.as_file().sync_all())
            .map_err(|e| local("cannot write", &path, e))?;
        let result = if replace {
            file.persist(&path).map(|_| true)
        } else {
            match file.persist_noclobber(&path) {
                Ok(_) => Ok(true),
                Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(error) => Err(error),
            }
        };
        result.map_err(|e| local("cannot write", &path, e.error))
    }

    pub fn pinned_key(&self) -> Result<Option<String>, ClientError> {
        Ok(self
            .read_optional("log-key")?
            .map(|key| key.trim().to_string()))
    }

    pub fn pin_key(&self, key: &str) -> Result<(), ClientError> {
        self.write("log-key", format!("{key}\n").as_bytes(), true)
            .map(drop)
    }

    pub fn pinned_policy(&self) -> Result<Option<WitnessPolicy>, ClientError> {
        let Some(text) = self.read_optional("witness-policy.json")? else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            local(
                "not a witness policy:",
                &self.root.join("witness-policy.json"),
                e,
            )
        })
    }

    pub fn pin_policy(&self, policy: &WitnessPolicy) -> Result<(), ClientError> {
        let text = serde_json::to_string_pretty(policy).expect("a policy serializes");
        self.write("witness-policy.json", text.as_bytes(), true)
            .map(drop)
    }

    /// The sizes of the accepted checkpoints, ascending.
    pub fn checkpoint_sizes(&self) -> Result<Vec<u64>, ClientError> {
        let dir = self.root.join("checkpoints");
        let entries = std::fs::read_dir(&dir).map_err(|e| local("cannot list", &dir, e))?;
        let mut sizes: Vec<u64> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                name.strip_suffix(".note")?.parse().ok()
            })
            .collect();
        sizes.sort_unstable();
        Ok(sizes)
    }

    pub fn checkpoint(&self, size: u64) -> Result<Option<String>, ClientError> {
        self.read_optional(&format!("checkpoints/{size}.note"))
    }

    /// Keeps an accepted checkpoint; one of the same size is never replaced.
    pub fn store_checkpoint(&self, size: u64, note: &str) -> Result<(), ClientError> {
        self.write(&format!("checkpoints/{size}.note"), note.as_bytes(), false)
            .map(drop)
    }

    /// Keeps a checkpoint that conflicts with what was accepted; returns its path.
    pub fn store_evidence(&self, kind: &str, size: u64, note: &str) -> Result<String, ClientError> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let name = format!("evidence/{stamp}-{kind}-{size}.note");
        self.write(&name, note.as_bytes(), false)?;
        Ok(self.root.join(name).display().to_string())
    }

    /// The leaves verified by earlier runs (`--events`).
    pub fn leaves(&self) -> Result<Leaves, ClientError> {
        let verified: u64 = match self.read_optional("events/verified.json")? {
            None => 0,
            Some(text) => serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|value| value["verified"].as_u64())
                .ok_or_else(|| local("unreadable", &self.root.join("events/verified.json"), ""))?,
        };
        let path = self.root.join("events/leaves.bin");
        let mut bytes = Vec::new();
        if verified > 0 {
            std::fs::File::open(&path)
                .and_then(|file| file.take(verified * RECORD as u64).read_to_end(&mut bytes))
                .map_err(|e| local("cannot read", &path, e))?;
        }
        if bytes.len() as u64 != verified * RECORD as u64 {
            return Err(local(
                "holds fewer leaves than events/verified.json says:",
                &path,
                verified,
            ));
        }
        let mut leaves = Leaves::default();
        for record in bytes.chunks_exact(RECORD) {
            let (hash, time) = record.split_at(32);
            leaves.hashes.push(hash.try_into().expect("32 bytes"));
            leaves
                .occurred_at
                .push(i64::from_be_bytes(time.try_into().expect("8 bytes")));
        }
        Ok(leaves)
    }

    /// Appends leaves `from..` (`from` = how many earlier runs verified) and records that the
    /// first `from + new.len()` are verified.
    pub fn append_leaves(&self, from: u64, new: &[(Hash, i64)]) -> Result<(), ClientError> {
        let path = self.root.join("events/leaves.bin");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| local("cannot open", &path, e))?;
        // Records past `from` are from an interrupted run: they are written again.
        file.set_len(from * RECORD as u64)
            .map_err(|e| local("cannot truncate", &path, e))?;
        let mut bytes = Vec::with_capacity(new.len() * RECORD);
        for (hash, time) in new {
            bytes.extend_from_slice(hash);
            bytes.extend_from_slice(&time.to_be_bytes());
        }
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0))
            .and_then(|_| file.write_all(&bytes))
            .and_then(|()| file.sync_all())
            .map_err(|e| local("cannot write", &path, e))?;
        let verified = serde_json::json!({"verified": from + new.len() as u64});
        self.write(
            "events/verified.json",
            verified.to_string().as_bytes(),
            true,
        )
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_never_overwritten_and_leaves_survive_a_torn_append() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        state.store_checkpoint(5, "first").unwrap();
        state.store_checkpoint(5, "second").unwrap();
        state.store_checkpoint(12, "later").unwrap();
        assert_eq!(state.checkpoint(5).unwrap().as_deref(), Some("first"));
        assert_eq!(state.checkpoint_sizes().unwrap(), [5, 12]);

        state
            .append_leaves(0, &[([1; 32], 10), ([2; 32], UNKNOWN_TIME)])
            .unwrap();
        // A torn later append: bytes past the verified count.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("events/leaves.bin"))
            .unwrap()
            .write_all(&[9; 17])
            .unwrap();
        let leaves = state.leaves().unwrap();
        assert_eq!(leaves.hashes, [[1; 32], [2; 32]]);
        assert_eq!(leaves.occurred_at, [10, UNKNOWN_TIME]);
        state.append_leaves(2, &[([3; 32], 30)]).unwrap();
        assert_eq!(state.leaves().unwrap().hashes, [[1; 32], [2; 32], [3; 32]]);
    }
}
