//! Meta-audit: reading events, creating exports and downloading export files are themselves
//! recorded, as ordinary audit events of a per-environment organization (external id
//! `auditlog-meta-audit`) that the operator reads through the same API. Switch it off with
//! `--meta-audit false`. Reads of the meta-audit trail itself are not recorded (no loops).

use crate::error::ApiError;
use crate::ingest::{prepare_event, SubmitError};
use crate::state::AppState;
use auditlog_domain::ids::{new_id, ORGANIZATION_PREFIX};
use auditlog_domain::EventInput;
use auditlog_store::{AppendOutcome, Organization, StoreError};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::RwLock;

pub const META_EXTERNAL_ID: &str = "auditlog-meta-audit";
/// Metadata values are capped at 500 characters like any event's.
const MAX_VALUE_CHARS: usize = 500;

/// Who did the recorded thing.
pub struct MetaActor<'a> {
    pub id: &'a str,
    pub kind: &'a str,
}

#[derive(Default)]
pub struct MetaAudit {
    /// environment → its meta-audit organization id
    organizations: RwLock<HashMap<String, String>>,
}

/// 503 for a request whose meta-audit record cannot be written: it is not answered unrecorded.
fn trail_unavailable() -> ApiError {
    ApiError::Unavailable {
        message: "This request is recorded in the meta-audit trail, and the record cannot be \
                  written now: storage is temporarily unavailable (for example, the disk is \
                  full). Retry shortly."
            .into(),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_VALUE_CHARS).collect()
}

impl MetaAudit {
    /// The environment's meta-audit organization, created on first use.
    pub async fn organization(
        &self,
        state: &AppState,
        environment: &str,
    ) -> Result<String, ApiError> {
        if let Some(id) = self
            .organizations
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(environment)
        {
            return Ok(id.clone());
        }
        let existing = state
            .store
            .find_organization_by_external_id(environment, META_EXTERNAL_ID)
            .await?;
        let id = match existing {
            Some(organization) => organization.id,
            None => {
                let now = crate::clock::now_micros();
                let organization = Organization {
                    id: new_id(ORGANIZATION_PREFIX),
                    environment: environment.to_string(),
                    name: "auditlog meta-audit trail".into(),
                    external_id: Some(META_EXTERNAL_ID.into()),
                    metadata: Default::default(),
                    domains: Vec::new(),
                    stripe_customer_id: None,
                    allow_profiles_outside_organization: false,
                    created_at: now,
                    updated_at: now,
                };
                match state.store.create_organization(&organization).await {
                    Ok(()) => organization.id,
                    // Another request (or node) created it first: use theirs.
                    Err(StoreError::Conflict(_)) => state
                        .store
                        .find_organization_by_external_id(environment, META_EXTERNAL_ID)
                        .await?
                        .map(|o| o.id)
                        .ok_or(ApiError::Internal)?,
                    Err(error) => return Err(error.into()),
                }
            }
        };
        self.organizations
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(environment.to_string(), id.clone());
        Ok(id)
    }

    /// True when `organization_id` is the environment's meta-audit trail (never creates it).
    pub async fn is_trail(
        &self,
        state: &AppState,
        environment: &str,
        organization_id: &str,
    ) -> Result<bool, ApiError> {
        if let Some(id) = self
            .organizations
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(environment)
        {
            return Ok(id == organization_id);
        }
        let trail = state
            .store
            .find_organization_by_external_id(environment, META_EXTERNAL_ID)
            .await?;
        Ok(trail.is_some_and(|t| t.id == organization_id))
    }

    /// Records one meta-audit event durably (returns after its commit). Does nothing when
    /// meta-audit is off or when the subject is the trail itself.
    pub async fn record(
        &self,
        state: &AppState,
        environment: &str,
        action: &str,
        actor: MetaActor<'_>,
        targets: &[(&str, &str)],
        details: &[(&str, String)],
    ) -> Result<(), ApiError> {
        if !state.config.meta_audit {
            return Ok(());
        }
        let trail = self.organization(state, environment).await?;
        if targets.iter().any(|(id, _)| *id == trail) {
            return Ok(());
        }
        let metadata: serde_json::Map<String, Value> = details
            .iter()
            .map(|(k, v)| (k.to_string(), json!(truncate(v))))
            .collect();
        let body = json!({
            "organization_id": trail,
            "event": {
                "action": action,
                "occurred_at": auditlog_domain::timestamp::format_millis(chrono::Utc::now()),
                "actor": {"id": actor.id, "type": actor.kind},
                "targets": targets.iter().map(|(id, kind)| json!({"id": id, "type": kind})).collect::<Vec<_>>(),
                "context": {"location": "auditlog"},
                "metadata": metadata,
            }
        });
        let input = EventInput::from_value(body).map_err(|errors| {
            tracing::error!(?errors, "a meta-audit event did not validate");
            ApiError::Internal
        })?;
        match state
            .ingest
            .submit(prepare_event(environment, &input, None))
            .await
        {
            Ok(AppendOutcome::Stored { .. }) => Ok(()),
            Ok(AppendOutcome::OrganizationNotFound) => {
                // The API refuses to delete the trail, but a stale cache entry (another node
                // recreated it, a restore) must not break reads for good: look it up anew next time.
                self.organizations
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(environment);
                tracing::error!(
                    environment,
                    "the meta-audit trail organization is gone; it will be recreated"
                );
                Err(ApiError::Internal)
            }
            Ok(AppendOutcome::Replay(_)) | Err(SubmitError::Failed) => Err(ApiError::Internal),
            Err(SubmitError::Overloaded) => Err(ApiError::Overloaded {
                retry_after_secs: 1,
            }),
            Err(SubmitError::Unavailable) => Err(trail_unavailable()),
        }
    }
}
