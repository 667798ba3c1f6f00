//! `auditlog seed`: bulk-loads realistic synthetic events into one organization, for benchmarks.
//!
//! Events are built exactly as the API builds them (`EventInput::from_value` then
//! `ingest::prepare_event`), so stored rows are identical in shape to ingested ones; only the
//! HTTP round trip is skipped.

use crate::clock::now_micros;
use crate::ingest::prepare_event;
use auditlog_domain::ids::{new_id, ORGANIZATION_PREFIX};
use auditlog_domain::EventInput;
use auditlog_store::{Organization, Store};
use serde_json::json;

const ACTIONS: [&str; 6] = [
    "user.signed_in",
    "user.signed_out",
    "document.viewed",
    "document.updated",
    "invoice.paid",
    "team.member_added",
];

/// The `n`th synthetic event body: varied actions, actors, 1–3 targets, metadata, and times
/// one second apart starting at `start_micros`.
pub fn synthetic_event(organization_id: &str, n: u64, start_micros: i64) -> serde_json::Value {
    let at = auditlog_domain::timestamp::from_micros(start_micros + n as i64 * 1_000_000);
    let targets: Vec<_> = (0..=(n % 3))
        .map(|t| json!({"id": format!("doc_{}", (n + t) % 5000), "type": if t == 0 { "document" } else { "team" }, "name": format!("Target {t}")}))
        .collect();
    json!({
        "organization_id": organization_id,
        "event": {
            "action": ACTIONS[(n % ACTIONS.len() as u64) as usize],
            "occurred_at": auditlog_domain::timestamp::format_millis(at),
            "actor": {"id": format!("user_{}", n % 1000), "type": "user", "name": format!("User {}", n % 1000), "metadata": {"role": if n.is_multiple_of(7) { "admin" } else { "member" }}},
            "targets": targets,
            "context": {"location": format!("10.0.{}.{}", (n / 256) % 256, n % 256), "user_agent": "Mozilla/5.0 (bench)"},
            "metadata": {"request_id": format!("req_{n}"), "size": n % 10_000, "ok": n.is_multiple_of(2)}
        }
    })
}

/// Creates an organization in `environment` and appends `count` events to it in batches;
/// returns the organization id.
pub async fn seed(
    store: &dyn Store,
    environment: &str,
    count: u64,
    batch: usize,
) -> anyhow::Result<String> {
    let now = now_micros();
    let organization = Organization {
        id: new_id(ORGANIZATION_PREFIX),
        environment: environment.to_string(),
        name: format!("Seeded ({count} events)"),
        external_id: None,
        metadata: Default::default(),
        domains: Vec::new(),
        stripe_customer_id: None,
        allow_profiles_outside_organization: false,
        created_at: now,
        updated_at: now,
    };
    store.create_organization(&organization).await?;
    // Spread the events over the days before now, one second apart.
    let start = now - count as i64 * 1_000_000;
    let mut pending = Vec::with_capacity(batch);
    for n in 0..count {
        let body = synthetic_event(&organization.id, n, start);
        let input = EventInput::from_value(body)
            .map_err(|e| anyhow::anyhow!("synthetic event invalid: {e:?}"))?;
        pending.push(prepare_event(environment, &input, None));
        if pending.len() == batch || n + 1 == count {
            store
                .append_events(std::mem::replace(&mut pending, Vec::with_capacity(batch)))
                .await?;
        }
    }
    Ok(organization.id)
}
