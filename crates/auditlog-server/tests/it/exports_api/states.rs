//! exports_api: state transitions.

use super::*;

#[tokio::test]
async fn files_expire_and_the_export_becomes_expired() {
    let server = TestServer::start_with(|c| {
        c.exports.export_file_ttl_secs = 1;
        c.jobs.maintenance_interval_secs = 1;
    })
    .await;
    let org = server.create_org("Acme").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let ready = settle_ready(&server, &id).await;
    let seen_ready = std::time::Instant::now();
    let url = ready["url"].as_str().unwrap().to_string();
    let file = blob_path(server.data_dir.path(), &id);
    // The file lives at least a second after the export became ready (checked only while
    // that is certain, so a slow machine does not make this flaky).
    let exists = file.exists();
    let served = download(&url).await.status;
    if seen_ready.elapsed() < Duration::from_millis(800) {
        assert!(exists, "{} missing while ready", file.display());
        assert_eq!(served, 200);
    }

    let mut expired = None;
    for _ in 0..100 {
        let body = get_export(&server, &id).await;
        if body["state"] == "expired" {
            expired = Some(body);
            break;
        }
        assert_eq!(body["state"], "ready", "{body}");
        tokio::time::sleep(POLL_PAUSE).await;
    }
    let expired = expired.expect("export expired within 5 s");
    assert!(
        expired["url"].is_null(),
        "expired export has url null: {expired}"
    );
    assert_eq!(expired["created_at"], ready["created_at"]);
    assert_millis_timestamp(&expired["updated_at"]);
    assert!(
        micros_of(expired["updated_at"].as_str().unwrap())
            >= micros_of(ready["updated_at"].as_str().unwrap())
    );
    assert!(!file.exists(), "{} still exists", file.display());
    assert_eq!(leftover_files(server.data_dir.path()), Vec::<String>::new());
    assert_link_refused(&download(&url).await, "link of an expired export");
    // The state is final.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(get_export(&server, &id).await["state"], "expired");
}

#[tokio::test]
async fn an_export_created_just_before_shutdown_is_ready_after_restart() {
    if common::skip_on_postgres("an_export_created_just_before_shutdown_is_ready_after_restart") {
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    let server = start_on(&data_dir, |_| {}).await;
    let org = server.create_org("Acme").await;
    for i in 0..3 {
        post_event(
            &server,
            &event(
                &org,
                "a.b",
                &format!("2026-03-01T10:00:0{i}.000Z"),
                ("u", None),
            ),
        )
        .await;
    }
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    drop(server.stop().await);
    let database = data_dir.path().join("auditlog.db");
    let state = sqlite(
        &database,
        &format!("SELECT state FROM exports WHERE id = '{id}'"),
    );
    assert!(state == "pending" || state == "ready", "{state}");

    let server = start_on(&data_dir, |_| {}).await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(0));
    assert_eq!(rows.len(), 3);
    assert!(settled_job_row(&database, &id).starts_with("done|"));
    drop(server.stop().await);
}

#[tokio::test]
async fn a_job_interrupted_by_shutdown_is_handed_back_and_finished_after_restart() {
    if common::skip_on_postgres(
        "a_job_interrupted_by_shutdown_is_handed_back_and_finished_after_restart",
    ) {
        return;
    }
    const EVENTS: usize = 4000;
    let data_dir = tempfile::tempdir().unwrap();
    // One row per page makes the job slow enough to be caught mid-run.
    let server = start_on(&data_dir, |c| c.exports.export_page_rows = 1).await;
    let org = server.create_org("Slow").await;
    let store = SqliteStore::open(&data_dir.path().join("auditlog.db"))
        .await
        .unwrap();
    append(&store, &bulk_events(&org, EVENTS, 2)).await;
    store.close().await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let database = data_dir.path().join("auditlog.db");
    let mut running = false;
    for _ in 0..200 {
        let row = job_row(&database, &id);
        if row.starts_with("running|") {
            running = true;
            break;
        }
        assert!(row.starts_with("queued|"), "job finished too fast: {row}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(running, "the job never started");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get_export(&server, &id).await["state"], "pending");
    drop(server.stop().await);

    // Handed back: queued again, no lease, the attempt not counted; no file.
    assert_eq!(job_row(&database, &id), "queued|0|");
    assert_eq!(
        sqlite(
            &database,
            &format!("SELECT state FROM exports WHERE id = '{id}'")
        ),
        "pending"
    );
    assert!(!blob_path(data_dir.path(), &id).exists());
    assert_eq!(
        leftover_files(data_dir.path()),
        Vec::<String>::new(),
        "the aborted upload left no partial files behind"
    );

    // The next start picks it up at once (not after the 30 s lease) and finishes it.
    let server = start_on(&data_dir, |c| c.exports.export_page_rows = 1000).await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(3));
    assert_eq!(rows.len(), EVENTS);
    assert!(settled_job_row(&database, &id).starts_with("done|1|"));
    drop(server.stop().await);
}

#[tokio::test]
async fn a_slow_job_keeps_its_lease_by_heartbeat_and_runs_once() {
    if common::skip_on_postgres("a_slow_job_keeps_its_lease_by_heartbeat_and_runs_once") {
        return;
    }
    const EVENTS: usize = 2500;
    // A two-second lease, and a job that takes about twice as long.
    let server = TestServer::start_with(|c| {
        c.jobs.job_lease_secs = 2;
        c.exports.export_page_rows = 1;
    })
    .await;
    let org = server.create_org("Slow").await;
    let store = server.open_store().await;
    append(store.as_ref(), &bulk_events(&org, EVENTS, 2)).await;
    drop(store);
    let started = std::time::Instant::now();
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let mut body = get_export(&server, &id).await;
    while body["state"] == "pending" && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(POLL_PAUSE).await;
        body = get_export(&server, &id).await;
    }
    let took = started.elapsed();
    assert_eq!(body["state"], "ready", "{body}");
    eprintln!("a {EVENTS}-page export took {took:?}");
    let (_, rows) = export_csv(&server, &id).await;
    assert_eq!(rows.len(), EVENTS);
    let job = settled_job_row(&server.database_path(), &id);
    assert!(
        job.starts_with("done|1|"),
        "ran once, never re-claimed: {job}"
    );
}

/// Exports are cut at the organization's last sequence when they are created, so an event
/// stored while the export runs is not exported (and never with its targets cut off).
#[tokio::test]
async fn an_event_stored_during_the_export_is_never_truncated() {
    if common::skip_on_postgres("an_event_stored_during_the_export_is_never_truncated") {
        return;
    }
    const EVENTS: usize = 1500;
    let server = TestServer::start_with(|c| c.exports.export_page_rows = 1).await;
    let org = server.create_org("Racy").await;
    let base = micros_of("2026-03-01T10:00:00.000Z");
    let at = |offset_ms: i64| {
        chrono::DateTime::from_timestamp_micros(base + offset_ms * 1000)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let early: Vec<PendingEvent> = (0..EVENTS as i64)
        .map(|i| pending_event(ENV, &event(&org, "plain", &at(i), ("u", None))))
        .collect();
    let store = server.open_store().await;
    append(store.as_ref(), &early).await;
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let database = server.database_path();
    for _ in 0..200 {
        if job_row(&database, &id).starts_with("running|") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Later than every other event, so the running export still reaches it.
    let late = pending_event(
        ENV,
        &with_targets(
            event(&org, "late", &at(3_600_000), ("u", None)),
            &[("t1", "team"), ("t2", "team"), ("t3", "doc")],
        ),
    );
    append(store.as_ref(), std::slice::from_ref(&late)).await;
    drop(store);
    assert_eq!(
        get_export(&server, &id).await["state"],
        "pending",
        "inconclusive: the export finished before the late event was stored"
    );
    let (header, rows) = export_csv(&server, &id).await;
    if let Some(row) = rows.iter().find(|r| r.last() == Some(&late.id)) {
        assert_eq!(
            header,
            expected_header(3),
            "the late event was exported, so its three targets need columns; row: {row:?}"
        );
    }
    // The export is cut at the events stored when it was created.
    assert!(
        rows.iter().all(|r| r.last() != Some(&late.id)),
        "an event stored after the export was created is not part of it"
    );
    assert_eq!(rows.len(), EVENTS);
}

#[tokio::test]
async fn a_job_leased_by_a_dead_node_is_taken_over_once_the_lease_expires() {
    if common::skip_on_postgres("a_job_leased_by_a_dead_node_is_taken_over_once_the_lease_expires")
    {
        return;
    }
    use auditlog_domain::export::ExportFilters;
    use auditlog_store::{ExportRecord, ExportState, ExportStore, JobStore, NewJob};

    let data_dir = tempfile::tempdir().unwrap();
    let server = start_on(&data_dir, |_| {}).await;
    let org = server.create_org("Orphan").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    drop(server.stop().await);

    // While no server runs: an export whose job another node claimed, then died.
    let store = SqliteStore::open(&data_dir.path().join("auditlog.db"))
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_micros();
    let id = new_id("audit_log_export");
    let record = ExportRecord {
        id: id.clone(),
        environment: ENV.into(),
        organization_id: org.clone(),
        state: ExportState::Pending,
        filters: ExportFilters {
            range_start: micros_of(WIDE_START),
            range_end: micros_of(WIDE_END),
            actions: vec![],
            actor_names: vec![],
            actor_ids: vec![],
            targets: vec![],
            max_sequence: None,
        },
        blob_key: None,
        row_count: None,
        byte_count: None,
        error: None,
        created_at: now,
        updated_at: now,
        file_expires_at: None,
    };
    let job = NewJob {
        id: new_id("job"),
        kind: auditlog_server::jobs::EXPORT_JOB.into(),
        payload: auditlog_server::jobs::export::payload(ENV, &id),
        run_after: now,
    };
    store.create_export(&record, &job).await.unwrap();
    let lease = Duration::from_secs(2);
    let claimed = store
        .claim_job(
            &[auditlog_server::jobs::EXPORT_JOB],
            "node_dead",
            now,
            now + lease.as_micros() as i64,
        )
        .await
        .unwrap()
        .expect("the job is claimable");
    assert_eq!(claimed.id, job.id);
    store.close().await;
    let claimed_at = std::time::Instant::now();

    let server = start_on(&data_dir, |_| {}).await;
    // Not taken while the dead node's lease runs…
    tokio::time::sleep(Duration::from_millis(800)).await;
    if claimed_at.elapsed() < lease - Duration::from_millis(300) {
        assert_eq!(get_export(&server, &id).await["state"], "pending");
    }
    // …but soon after it ends.
    let (_, rows) = export_csv(&server, &id).await;
    assert!(claimed_at.elapsed() >= lease - Duration::from_millis(100));
    assert_eq!(rows.len(), 1);
    let job = job_row(&data_dir.path().join("auditlog.db"), &id);
    assert!(job.starts_with("done|2|"), "{job}");
    drop(server.stop().await);
}

#[tokio::test]
async fn a_transient_storage_failure_is_retried_until_it_succeeds() {
    if common::skip_on_postgres("a_transient_storage_failure_is_retried_until_it_succeeds") {
        return;
    }
    let server = TestServer::start().await;
    let org = server.create_org("Flaky").await;
    post_event(
        &server,
        &event(&org, "a.b", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    // A plain file where the export directory belongs: writing the export fails.
    let blocker = server.data_dir.path().join("blobs").join("exports");
    std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
    std::fs::write(&blocker, b"in the way").unwrap();
    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let database = server.database_path();
    // `queued|<attempts>|`: a failed attempt was handed back for a later retry.
    let attempts =
        |row: &str| -> Option<i64> { row.strip_prefix("queued|")?.strip_suffix('|')?.parse().ok() };
    let mut retried = String::new();
    for _ in 0..100 {
        retried = job_row(&database, &id);
        if attempts(&retried).is_some_and(|n| n >= 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        attempts(&retried).is_some_and(|n| n >= 1),
        "a failed attempt is re-queued, not given up: {retried}"
    );
    let last_error = sqlite(
        &database,
        &format!("SELECT IFNULL(last_error, '') FROM jobs WHERE json_extract(payload, '$.export_id') = '{id}'"),
    );
    assert!(!last_error.is_empty(), "the failure reason is recorded");
    assert_eq!(get_export(&server, &id).await["state"], "pending");
    // The problem goes away; the retry (after a 2 s backoff) succeeds.
    std::fs::remove_file(&blocker).unwrap();
    let (_, rows) = export_csv(&server, &id).await;
    assert_eq!(rows.len(), 1);
    let job = settled_job_row(&database, &id);
    assert!(
        job.starts_with("done|") && !job.starts_with("done|1|"),
        "finished by a retry: {job}"
    );
}

#[tokio::test]
async fn an_unreadable_stored_event_ends_the_export_in_error() {
    if common::skip_on_postgres("an_unreadable_stored_event_ends_the_export_in_error") {
        return;
    }
    let server = TestServer::start().await;
    let org = server.create_org("Broken").await;
    post_event(
        &server,
        &event(&org, "fine.event", "2026-03-01T10:00:00.000Z", ("u", None)),
    )
    .await;
    // A row whose payload is not JSON (disk corruption, a bad manual edit…).
    let mut broken = pending_event(
        ENV,
        &event(
            &org,
            "broken.event",
            "2026-03-01T12:00:00.000Z",
            ("u", None),
        ),
    );
    broken.payload = "{this is not json".into();
    let store = server.open_store().await;
    append(store.as_ref(), &[broken]).await;
    drop(store);

    let id = start_export(&server, &export_body(&org, WIDE_START, WIDE_END)).await;
    let failed = settle(&server, &id).await;
    assert_eq!(failed["state"], "error", "{failed}");
    assert!(failed["url"].is_null(), "{failed}");
    assert_millis_timestamp(&failed["updated_at"]);
    // Given up at once (a permanent failure is not retried) and without a file.
    let job = settled_job_row(&server.database_path(), &id);
    assert!(job.starts_with("failed|1|"), "{job}");
    assert!(!blob_path(server.data_dir.path(), &id).exists());
    assert_eq!(leftover_files(server.data_dir.path()), Vec::<String>::new());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(get_export(&server, &id).await["state"], "error");

    // Exports that do not reach the broken row are unaffected.
    let fine = start_export(
        &server,
        &export_body(&org, WIDE_START, "2026-03-01T11:00:00.000Z"),
    )
    .await;
    let (_, rows) = export_csv(&server, &fine).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1], "fine.event");
}
