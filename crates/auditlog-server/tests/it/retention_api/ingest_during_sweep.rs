//! retention_api: ingest during a sweep.

use super::*;

/// Bulk-inserts `BACKLOG` events 31 days old, lowers the retention to 30 days while API
/// clients send events without pause, and lets the sweeper (batches of 500) remove the
/// backlog: every request must finish with a 200 and every acknowledged event be stored.
async fn ingest_during_sweep<const BACKLOG: usize>() {
    const SENDERS: usize = 8;
    let server = TestServer::start_with(|c| {
        c.jobs.retention_sweep_interval_secs = 1;
        c.jobs.retention_batch = 500;
    })
    .await;
    let id = server.create_org("Backlog").await;
    // 31 days old: kept under the default 365 days until the retention is lowered.
    let now = now_micros();
    let backlog: Vec<PendingEvent> = (0..BACKLOG)
        .map(|n| pending_event(&id, now - 31 * DAY - n as i64, "backlog"))
        .collect();
    bulk_insert(&server, backlog).await;

    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let senders: Vec<_> = (0..SENDERS)
        .map(|worker| {
            let (server, stop, acknowledged, http) = (
                server.clone(),
                stop.clone(),
                acknowledged.clone(),
                http.clone(),
            );
            let id = id.clone();
            tokio::spawn(async move {
                let mut failures = Vec::new();
                let mut sent = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let mut body = event_body(&id);
                    body["event"]["occurred_at"] = json!(format_millis(from_micros(now_micros())));
                    body["event"]["actor"]["id"] = json!(format!("live_{worker}_{sent}"));
                    sent += 1;
                    // Every request must finish (the client gives up after 30 s) with a 200.
                    match http
                        .post(server.url("/audit_logs/events"))
                        .bearer_auth(&server.key)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(response) if response.status() == 200 => {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(response) => failures.push(format!(
                            "status {}: {}",
                            response.status(),
                            response.text().await.unwrap_or_default()
                        )),
                        Err(error) => failures.push(format!("request did not finish: {error}")),
                    }
                }
                (sent, failures)
            })
        })
        .collect();

    wait_until("ingest to start", Duration::from_secs(20), || async {
        acknowledged.load(Ordering::Relaxed) >= 20
    })
    .await;
    let (status, _) = send(
        server
            .put(&retention_path(&id))
            .json(&json!({"retention_period": "1_MONTH"})),
    )
    .await;
    assert_eq!(status, 200);
    let acknowledged_when_lowered = acknowledged.load(Ordering::Relaxed);

    let redacted = || async {
        server
            .stored_events("default", &id)
            .await
            .iter()
            .filter(|e| e.payload.is_none())
            .count()
    };
    let mut seen_partial = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let count = redacted().await;
        seen_partial |= count > 0 && count < BACKLOG;
        if count == BACKLOG {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sweep did not finish the backlog: {count} of {BACKLOG} redacted"
        );
        // Listing every event is itself heavy at this size: poll gently.
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    let acknowledged_when_swept = acknowledged.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);

    let mut sent = 0;
    let mut failures = Vec::new();
    for sender in senders {
        let (n, f) = sender.await.expect("sender task");
        sent += n;
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "{} failed requests: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let acknowledged = acknowledged.load(Ordering::Relaxed);
    assert_eq!(acknowledged, sent, "every request was acknowledged");
    assert!(
        acknowledged_when_swept > acknowledged_when_lowered,
        "events were acknowledged while the sweep ran"
    );
    eprintln!(
        "ingest during sweep: {sent} events sent, {} while the sweep ran (partial sweep observed: {seen_partial})",
        acknowledged_when_swept - acknowledged_when_lowered
    );

    // Everything acknowledged is stored, with its payload, and the chain has no gap.
    let events = server.stored_events("default", &id).await;
    assert_eq!(events.len(), BACKLOG + acknowledged);
    let live: Vec<&StoredEvent> = events.iter().filter(|e| e.payload.is_some()).collect();
    assert_eq!(live.len(), acknowledged, "live events are all kept");
    let actors: HashSet<&str> = live.iter().map(|e| e.actor_id.as_str()).collect();
    assert_eq!(actors.len(), acknowledged, "each live event stored once");
    assert!(actors.iter().all(|a| a.starts_with("live_")));
    let numbers: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(numbers, (0..events.len() as i64).collect::<Vec<_>>());
    assert!(events[..BACKLOG].iter().all(|e| e.payload.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingest_keeps_flowing_during_a_sweep() {
    ingest_during_sweep::<5_000>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingest_keeps_flowing_during_a_large_sweep() {
    ingest_during_sweep::<50_000>().await;
}
