//! Helpers of the tamper-evidence tests (`tlog_api.rs`, `verify_cli.rs`): events, checkpoints,
//! exports and bundles over the API, an independent checkpoint verifier, and direct database
//! rewrites.
#![allow(dead_code)]

use crate::common::{event_body, TestServer};
use auditlog_tlog::{open_checkpoint, verify_consistency};
use base64::prelude::{Engine, BASE64_STANDARD};
use ct_merkle::{ConsistencyProof, RootHash};
use serde_json::{json, Value};
use sha2_011::Sha256;
use std::time::Duration;

pub type Hash = [u8; 32];

/// A signing seed the tests know (`--log-signing-key`), so they can sign as the server would.
pub const SEED_HEX: &str = "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a";

/// Event number `i` of an organization: times out of sequence order, one target each.
pub fn numbered_event(organization_id: &str, i: u64) -> Value {
    let mut body = event_body(organization_id);
    let minute = (i * 7) % 60;
    body["event"]["occurred_at"] = json!(format!("2026-02-02T10:{minute:02}:00.000Z"));
    body["event"]["metadata"] = json!({"i": i.to_string()});
    body["event"]["actor"]["id"] = json!(format!("user_{i}"));
    body
}

pub async fn post_event(server: &TestServer, body: &Value) {
    let response = server
        .post("/audit_logs/events")
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Ingests events `range` of the organization over the API.
pub async fn ingest(server: &TestServer, organization_id: &str, range: std::ops::Range<u64>) {
    for i in range {
        post_event(server, &numbered_event(organization_id, i)).await;
    }
}

pub async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let response = server.get(path).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `POST /audit_logs/log/{org}/checkpoint`.
pub async fn checkpoint_now(server: &TestServer, organization_id: &str) -> Value {
    let response = server
        .post(&format!("/audit_logs/log/{organization_id}/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The published verifier key (no API key needed).
pub async fn log_key(server: &TestServer) -> String {
    let response = server
        .http
        .get(server.url("/.well-known/auditlog/log-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap().trim().to_string()
}

pub fn hash_of(text: &Value) -> Hash {
    let bytes = BASE64_STANDARD
        .decode(text.as_str().expect("base64 hash"))
        .unwrap();
    bytes.try_into().expect("32 bytes")
}

pub fn proof_of(response: &Value) -> Vec<Hash> {
    response["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(hash_of)
        .collect()
}

/// Checks a checkpoint note the way any C2SP signed-note verifier would, written here from the
/// specs with `ed25519-dalek` and `sha2` (not with auditlog-tlog, `signed_note` or
/// `tlog_tiles`): the key id is the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key),
/// the key name is the log's origin (which the deployment key covers as `<name>/…`), and the
/// signature covers the note text up to its blank line. Returns (origin, size, root).
pub fn independent_open(note: &str, vkey: &str) -> Result<(String, u64, Hash), String> {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    use sha2_011::{Digest, Sha256};
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    let [name, _, key] = parts[..] else {
        return Err("bad verifier key".into());
    };
    let key = BASE64_STANDARD.decode(key).map_err(|e| e.to_string())?;
    if key.len() != 33 || key[0] != 1 {
        return Err("not an Ed25519 key".into());
    }
    let public =
        VerifyingKey::from_bytes(key[1..].try_into().unwrap()).map_err(|e| e.to_string())?;
    let split = note.find("\n\n").ok_or("no blank line")?;
    let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
    let mut lines = text.lines();
    let origin = lines.next().ok_or("no origin")?.to_string();
    if !origin.starts_with(&format!("{name}/")) {
        return Err(format!("{origin} is not a log of {name}"));
    }
    let size: u64 = lines
        .next()
        .ok_or("no size")?
        .parse()
        .map_err(|_| "bad size")?;
    let root: Hash = BASE64_STANDARD
        .decode(lines.next().ok_or("no root")?)
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|_| "root is not 32 bytes")?;
    let mut id_input = format!("{origin}\n").into_bytes();
    id_input.extend_from_slice(&key);
    let key_id = &Sha256::digest(&id_input)[..4];
    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(format!("bad signature line {line:?}"));
        };
        let (signer, signature) = rest.split_once(' ').ok_or("bad signature line")?;
        let signature = BASE64_STANDARD
            .decode(signature)
            .map_err(|e| e.to_string())?;
        if signer != origin || signature.len() != 68 || &signature[..4] != key_id {
            continue; // someone else's (a witness's) signature
        }
        let signature = Signature::from_slice(&signature[4..]).map_err(|e| e.to_string())?;
        return public
            .verify(text.as_bytes(), &signature)
            .map(|()| (origin.clone(), size, root))
            .map_err(|e| format!("bad signature: {e}"));
    }
    Err("no signature by the trusted key".into())
}

/// Creates an export over all of 2026 and waits until it is ready; returns its id.
pub async fn ready_export(server: &TestServer, organization_id: &str) -> String {
    let (id, state) = finished_export(server, organization_id, json!({})).await;
    assert_eq!(state, "ready", "export {id} failed");
    id
}

/// The CSV of a ready export, through its download link.
pub async fn export_csv(server: &TestServer, export_id: &str) -> Vec<u8> {
    let (_, export) = get_json(server, &format!("/audit_logs/exports/{export_id}")).await;
    let url = export["url"].as_str().expect("url of a ready export");
    let response = server.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

/// `GET /audit_logs/exports/{id}/bundle`.
pub async fn export_bundle(server: &TestServer, export_id: &str) -> (u16, Value) {
    get_json(server, &format!("/audit_logs/exports/{export_id}/bundle")).await
}

/// Rewrites a stored event directly in the database, as someone with database access could:
/// its payload, and its leaf hash too when given.
pub async fn rewrite_event(server: &TestServer, event_id: &str, payload: &str, leaf: Option<Hash>) {
    use sqlx::Connection;
    let updated = match server.database_url() {
        Some(url) => {
            let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
            let sql = match leaf {
                Some(_) => "UPDATE events SET payload = $1, leaf_hash = $3 WHERE id = $2",
                None => "UPDATE events SET payload = $1 WHERE id = $2",
            };
            let mut query = sqlx::query(sql).bind(payload).bind(event_id);
            if let Some(leaf) = leaf {
                query = query.bind(leaf.to_vec());
            }
            query
                .execute(&mut connection)
                .await
                .unwrap()
                .rows_affected()
        }
        None => {
            let url = format!("sqlite://{}", server.database_path().display());
            let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let sql = match leaf {
                Some(_) => "UPDATE events SET payload = ?1, leaf_hash = ?3 WHERE id = ?2",
                None => "UPDATE events SET payload = ?1 WHERE id = ?2",
            };
            let mut query = sqlx::query(sql).bind(payload).bind(event_id);
            if let Some(leaf) = leaf {
                query = query.bind(leaf.to_vec());
            }
            query
                .execute(&mut connection)
                .await
                .unwrap()
                .rows_affected()
        }
    };
    assert_eq!(updated, 1, "no event {event_id} to rewrite");
}

/// ct-merkle's view of a root.
pub fn ct_root(root: Hash, size: u64) -> RootHash<Sha256> {
    RootHash::new(root.into(), size)
}

/// Checks the consistency proof `first → second` with ours and ct-merkle's verifiers.
pub async fn check_consistency(
    server: &TestServer,
    org: &str,
    first: (u64, Hash),
    second: (u64, Hash),
) {
    let (status, proof) = get_json(
        server,
        &format!(
            "/audit_logs/log/{org}/consistency_proof?first={}&second={}",
            first.0, second.0
        ),
    )
    .await;
    assert_eq!(status, 200, "{proof}");
    assert_eq!(
        (
            proof["first_tree_size"].as_u64(),
            proof["second_tree_size"].as_u64()
        ),
        (Some(first.0), Some(second.0))
    );
    let path = proof_of(&proof);
    assert!(verify_consistency(
        first.0, second.0, first.1, second.1, &path
    ));
    if 0 < first.0 && first.0 < second.0 {
        let theirs = ConsistencyProof::<Sha256>::try_from_bytes(path.concat()).unwrap();
        ct_root(second.1, second.0)
            .verify_consistency(&ct_root(first.1, first.0), &theirs)
            .expect("ct-merkle accepts our consistency proof");
    }
}

/// A checkpoint response's (size, root), after checking its note with both verifiers.
pub fn opened(checkpoint: &serde_json::Value, vkey: &str, org: &str) -> (u64, Hash) {
    let note = checkpoint["checkpoint"].as_str().unwrap();
    let ours = open_checkpoint(note, vkey).expect("the note verifies");
    let theirs = independent_open(note, vkey).expect("an independent verifier accepts it");
    assert_eq!((ours.origin.clone(), ours.size, ours.root), theirs);
    assert_eq!(ours.origin, format!("auditlog/{org}"));
    assert_eq!(checkpoint["origin"], ours.origin);
    assert_eq!(checkpoint["tree_size"], ours.size);
    assert_eq!(hash_of(&checkpoint["root_hash"]), ours.root);
    (ours.size, ours.root)
}

/// Rewrites the event with `sequence` as an insider would: `from` replaced by `to` in its
/// payload, and its stored leaf hash recomputed to match; returns its id.
pub async fn forge_event(
    server: &TestServer,
    organization_id: &str,
    sequence: i64,
    from: &str,
    to: &str,
) -> String {
    let event = server
        .stored_events("default", organization_id)
        .await
        .into_iter()
        .find(|e| e.sequence == sequence)
        .expect("an event with that sequence");
    let forged = event.payload.unwrap().replace(from, to);
    let leaf = auditlog_domain::canonical::leaf_hash(forged.as_bytes());
    rewrite_event(server, &event.id, &forged, Some(leaf)).await;
    event.id
}

/// Runs one literal statement on the server's database (`sqlite` or `postgres` dialect).
pub async fn execute_sql(server: &TestServer, sqlite: &'static str, postgres: &'static str) {
    use sqlx::{Connection, Executor};
    match server.database_url() {
        Some(url) => {
            let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
            connection.execute(postgres).await.unwrap();
        }
        None => {
            let url = format!("sqlite://{}", server.database_path().display());
            let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
            connection.execute(sqlite).await.unwrap();
        }
    }
}

/// Deletes a stored event's row directly in the database, as an insider with write access
/// could (`DELETE FROM events WHERE id = …`).
pub async fn delete_event_row(server: &TestServer, event_id: &str) {
    use sqlx::Connection;
    let deleted = match server.database_url() {
        Some(url) => {
            let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query("DELETE FROM events WHERE id = $1")
                .bind(event_id)
                .execute(&mut connection)
                .await
                .unwrap()
                .rows_affected()
        }
        None => {
            let url = format!("sqlite://{}", server.database_path().display());
            let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("DELETE FROM events WHERE id = ?1")
                .bind(event_id)
                .execute(&mut connection)
                .await
                .unwrap()
                .rows_affected()
        }
    };
    assert_eq!(deleted, 1, "no event {event_id} to delete");
}

/// Creates an export with `filters` (beside the organization and a range over 2000–2100)
/// and waits until it is no longer pending: (its id, its final state).
pub async fn finished_export(
    server: &TestServer,
    organization_id: &str,
    filters: Value,
) -> (String, String) {
    let mut body = json!({"organization_id": organization_id,
        "range_start": "2000-01-01T00:00:00Z", "range_end": "2100-01-01T00:00:00Z"});
    for (key, value) in filters.as_object().into_iter().flatten() {
        body[key] = value.clone();
    }
    let response = server
        .post("/audit_logs/exports")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..400 {
        let (_, export) = get_json(server, &format!("/audit_logs/exports/{id}")).await;
        match export["state"].as_str() {
            Some("pending") => tokio::time::sleep(Duration::from_millis(25)).await,
            Some(state) => return (id, state.to_string()),
            None => panic!("not an export: {export}"),
        }
    }
    panic!("export {id} did not finish");
}

/// Event `i` of [`numbered_event`] with the action `user.signed_in` for even `i` and
/// `user.signed_out` for odd `i`.
pub fn alternating_event(organization_id: &str, i: u64) -> Value {
    let mut body = numbered_event(organization_id, i);
    let action = if i.is_multiple_of(2) {
        "user.signed_in"
    } else {
        "user.signed_out"
    };
    body["event"]["action"] = json!(action);
    body
}

/// Redacts a stored event in the database the way the retention sweeper does (payload and
/// filter columns cleared, `redacted_at` set; the row, sequence and leaf hash stay).
pub async fn redact_event_row(server: &TestServer, event_id: &str, redacted_at: i64) {
    use sqlx::Connection;
    let columns = "payload = NULL, actor_id = '', actor_name = NULL, action = ''";
    let redacted = match server.database_url() {
        Some(url) => {
            let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
            let sql = format!("UPDATE events SET {columns}, redacted_at = $1 WHERE id = $2");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(redacted_at)
                .bind(event_id)
                .execute(&mut connection)
                .await
                .unwrap()
                .rows_affected()
        }
        None => {
            let url = format!("sqlite://{}", server.database_path().display());
            let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let sql = format!("UPDATE events SET {columns}, redacted_at = ?1 WHERE id = ?2");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(redacted_at)
                .bind(event_id)
                .execute(&mut connection)
                .await
                .unwrap()
                .rows_affected()
        }
    };
    assert_eq!(redacted, 1, "no event {event_id} to redact");
}

/// Ingests one event per entry of `days_ago`, in that order (sequence = position), each
/// occurred that many days before now; event `i` is [`numbered_event`] `i` otherwise.
pub async fn ingest_aged(server: &TestServer, organization_id: &str, days_ago: &[i64]) {
    for (i, days) in days_ago.iter().enumerate() {
        let mut body = numbered_event(organization_id, i as u64);
        let at = chrono::Utc::now() - chrono::Duration::days(*days);
        body["event"]["occurred_at"] =
            json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        post_event(server, &body).await;
    }
}

/// Sets the organization's retention to `days` and waits until the sweeper (the server must
/// run it every second: `c.jobs.retention_sweep_interval_secs = 1`) has redacted `count` of
/// its events.
pub async fn sweep_to_retention(
    server: &TestServer,
    organization_id: &str,
    days: i64,
    count: usize,
) {
    let response = server
        .put(&format!(
            "/organizations/{organization_id}/audit_logs_retention"
        ))
        .json(&json!({"retention_period_in_days": days}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for _ in 0..200 {
        let events = server.stored_events("default", organization_id).await;
        let redacted = events.iter().filter(|e| e.payload.is_none()).count();
        assert!(
            redacted <= count,
            "the sweeper redacted {redacted}, not {count}"
        );
        if redacted == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the sweeper did not redact {count} events of {organization_id} in 20 s");
}
