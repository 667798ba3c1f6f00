//! `auditlog backup` and `auditlog restore`: an online, consistent copy of the embedded
//! deployment (the SQLite database, the local export files and remembered checkpoints, the
//! download-link key and the log signing key) as one
//! tar archive, and its return into an empty data directory.
//!
//! Consistency: the database is copied first, as one read transaction sees it (`VACUUM INTO`),
//! while the server keeps writing; every event acknowledged before the backup began is in it.
//! The export files are copied after: an export that the copy says is ready had its file
//! written before it was marked ready, so its file is in the archive too. PostgreSQL and S3
//! deployments back up with their own tools (pg_dump or PITR, bucket versioning); see the
//! README. The archive may go to an S3 bucket (`s3://…`) instead of a file.

use crate::config::StorageConfig;
use crate::sqlite_path;
use anyhow::{bail, Context};
use auditlog_blob::BlobStore;
use futures::StreamExt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The database's name inside the archive and the data directory.
const DATABASE: &str = "auditlog.db";
/// Local export files, inside the archive and the data directory.
const BLOBS: &str = "blobs";
/// The HMAC key of download links, when generated into the data directory.
const LINK_KEY: &str = "download-link.key";
/// The log signing key, when generated into the data directory.
const LOG_KEY: &str = crate::tlog::key::KEY_FILE;
/// Where the log's checkpoints are remembered among the blobs.
const CHECKPOINTS: &str = "tlog";

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub storage: StorageConfig,
    /// The archive to write (a tar file; it must not exist): a path, or
    /// `s3://bucket/prefix/name.tar` (credentials from the usual `AWS_*` variables).
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The archive `auditlog backup` wrote: a path or `s3://bucket/prefix/name.tar`.
    #[arg(long)]
    pub from: String,
    /// The data directory to restore into; it must not hold a database yet.
    #[arg(long, env = "AUDITLOG_DATA_DIR", default_value = crate::config::defaults::DATA_DIR)]
    pub data_dir: PathBuf,
}

/// What a backup holds.
#[derive(Debug, PartialEq, Eq)]
pub struct BackupSummary {
    pub database_bytes: u64,
    pub export_files: usize,
    /// Checkpoints remembered outside the database.
    pub checkpoint_files: usize,
    pub link_key: bool,
    pub log_key: bool,
}

/// Writes the backup to its target: the archive is built in a staging directory (beside a
/// local target, so that the final rename stays on one file system) and then moved or uploaded.
pub async fn backup(args: BackupArgs) -> anyhow::Result<BackupSummary> {
    match S3Location::parse(&args.to) {
        Some(location) => {
            let blob = location.store()?;
            if blob.exists(&location.key).await? {
                bail!("{} exists already; choose a new name", args.to);
            }
            let staging = tempfile::tempdir()?;
            let archive = staging.path().join("archive.tar");
            let local = archive.clone();
            let summary =
                tokio::task::spawn_blocking(move || write_archive(&args, &local)).await??;
            upload(&blob, &location.key, &archive).await?;
            Ok(summary)
        }
        None => {
            tokio::task::spawn_blocking(move || {
                let to = PathBuf::from(&args.to);
                write_archive(&args, &to)
            })
            .await?
        }
    }
}

/// Restores from a local or S3 archive.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    match S3Location::parse(&args.from) {
        Some(location) => {
            let blob = location.store()?;
            let staging = tempfile::tempdir()?;
            let archive = staging.path().join("archive.tar");
            download(&blob, &location.key, &archive).await?;
            tokio::task::spawn_blocking(move || unpack(&archive, &args.data_dir)).await?
        }
        None => {
            tokio::task::spawn_blocking(move || unpack(Path::new(&args.from), &args.data_dir))
                .await?
        }
    }
}

/// `s3://bucket/prefix/name.tar` as a bucket (with prefix) and the object's key.
struct S3Location {
    bucket_url: String,
    key: String,
}

impl S3Location {
    fn parse(target: &str) -> Option<S3Location> {
        let path = target.strip_prefix("s3://")?;
        let (bucket_and_prefix, key) = path.rsplit_once('/')?;
        Some(S3Location {
            bucket_url: format!("s3://{bucket_and_prefix}"),
            key: key.to_string(),
        })
    }

    fn store(&self) -> anyhow::Result<BlobStore> {
        Ok(BlobStore::s3(&self.bucket_url)?)
    }
}

async fn upload(blob: &BlobStore, key: &str, archive: &Path) -> anyhow::Result<()> {
    let mut file = tokio::fs::File::open(archive).await?;
    let mut writer = blob.writer(key).await?;
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        if let Err(error) = writer.write(&buffer[..read]).await {
            writer.abort().await;
            return Err(error.into());
        }
    }
    writer.finish().await?;
    Ok(())
}

async fn download(blob: &BlobStore, key: &str, archive: &Path) -> anyhow::Result<()> {
    let Some(mut read) = blob.get(key).await? else {
        bail!("no archive at {key}");
    };
    let mut file = tokio::fs::File::create(archive).await?;
    while let Some(chunk) = read.stream.next().await {
        file.write_all(&chunk?).await?;
    }
    file.flush().await?;
    Ok(())
}

fn write_archive(args: &BackupArgs, to: &Path) -> anyhow::Result<BackupSummary> {
    if args
        .storage
        .database_url()
        .is_some_and(|url| url.starts_with("postgres"))
    {
        bail!(
            "this deployment keeps its data in PostgreSQL: back it up with pg_dump or \
             point-in-time recovery (see the README), and its export files with the bucket"
        );
    }
    if args.storage.blob_url.is_some() {
        bail!("export files live in a bucket here: back them up with the bucket's own tools");
    }
    if to.exists() {
        bail!("{} exists already; choose a new file", to.display());
    }
    let database = sqlite_path(&args.storage)?;
    if !database.exists() {
        bail!("no database at {}", database.display());
    }
    let staging = tempfile::Builder::new()
        .prefix(".auditlog-backup-")
        .tempdir_in(parent_of(to))
        .context("creating a staging directory beside the archive")?;
    let snapshot = staging.path().join(DATABASE);
    auditlog_store::sqlite::snapshot_into(&database, &snapshot)
        .context("taking a consistent copy of the database")?;
    // Owner-only from the start, in the archive too: it holds every event and the link key.
    std::fs::set_permissions(&snapshot, std::fs::Permissions::from_mode(0o600))?;
    let partial = staging.path().join("archive.tar");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)?;
    let mut archive = tar::Builder::new(BufWriter::new(file));
    archive.append_path_with_name(&snapshot, DATABASE)?;
    let database_bytes = std::fs::metadata(&snapshot)?.len();
    let data_dir = &args.storage.data_dir;
    let (mut export_files, mut checkpoint_files) = (0, 0);
    let blobs = data_dir.join(BLOBS);
    if blobs.is_dir() {
        for file in files_under(&blobs)? {
            let relative = file.strip_prefix(&blobs)?;
            archive.append_path_with_name(&file, Path::new(BLOBS).join(relative))?;
            if relative.starts_with(CHECKPOINTS) {
                checkpoint_files += 1;
            } else {
                export_files += 1;
            }
        }
    }
    let mut append_key = |name: &str| -> anyhow::Result<bool> {
        let path = data_dir.join(name);
        let present = path.is_file();
        if present {
            archive.append_path_with_name(&path, name)?;
        }
        Ok(present)
    };
    let has_link_key = append_key(LINK_KEY)?;
    let has_log_key = append_key(LOG_KEY)?;
    let mut writer = archive.into_inner()?;
    writer.flush()?;
    writer.into_inner()?.sync_all()?;
    // The archive appears under its name only once it is whole.
    std::fs::rename(&partial, to)
        .with_context(|| format!("moving the archive to {}", to.display()))?;
    Ok(BackupSummary {
        database_bytes,
        export_files,
        checkpoint_files,
        link_key: has_link_key,
        log_key: has_log_key,
    })
}

fn unpack(from: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let database = data_dir.join(DATABASE);
    if database.exists() {
        bail!(
            "{} holds a database already; restore into an empty data directory",
            data_dir.display()
        );
    }
    crate::private_files::create_private_dir(data_dir)?;
    let mut archive =
        tar::Archive::new(File::open(from).with_context(|| format!("opening {}", from.display()))?);
    // `unpack_in` refuses entries that would land outside the directory.
    let mut found_database = false;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let allowed = [DATABASE, LINK_KEY, LOG_KEY]
            .iter()
            .any(|name| path == Path::new(name))
            || path.starts_with(BLOBS);
        if !allowed {
            bail!("{} is not part of an auditlog backup", path.display());
        }
        found_database |= path == Path::new(DATABASE);
        if !entry.unpack_in(data_dir)? {
            bail!("{} would land outside the data directory", path.display());
        }
    }
    if !found_database {
        bail!("{} holds no database", from.display());
    }
    crate::private_files::restrict(&database, 0o600)?;
    for key in [LINK_KEY, LOG_KEY] {
        crate::private_files::restrict(&data_dir.join(key), 0o600)?;
    }
    Ok(())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Every regular file below `root`, depth first.
fn files_under(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}
