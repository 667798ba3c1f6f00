//! Meta-audit: reading events, creating exports and downloading export files are themselves
//! recorded, as ordinary audit events of a per-environment organization (external id
//! `auditlog-meta-audit`) that the operator reads through the same API. Switch it off with
//! `--meta-audit false`. Reads of the meta-audit trail itself are not recorded (no loops).

use crate::error::ApiError;
use crate::ingest::IngestQueue;
use crate::ingest::{prepare_event, SubmitError};
use crate::keys::KeyChange;
use auditlog_domain::ids::{new_id, ORGANIZATION_PREFIX};
use auditlog_domain::EventInput;
use auditlog_store::{AppendOutcome, Organization, Store, StoreError};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub const META_EXTERNAL_ID: &str = "auditlog-meta-audit";
/// Metadata values are capped at 500 characters like any event's.
const MAX_VALUE_CHARS: usize = 500;

/// Who did the recorded thing.
pub struct MetaActor<'a> {
    pub id: &'a str,
    pub kind: &'a str,
}

/// The trail: owns the handles it writes and looks up with, so handlers need only call it.
pub struct MetaAudit {
    /// Off with `--meta-audit false`: nothing is recorded.
    enabled: bool,
    store: Arc<dyn Store>,
    ingest: IngestQueue,
    /// environment → its meta-audit organization id
    organizations: RwLock<HashMap<String, String>>,
    /// environment → when it was last found to have no trail
    absent: RwLock<HashMap<String, std::time::Instant>>,
}

/// How long "this environment has no trail" is trusted.
const ABSENT_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// The answer to a client that sets the reserved external id.
pub fn reserved_external_id() -> ApiError {
    let mut errors = auditlog_domain::FieldErrors::default();
    errors.push(
        "external_id",
        "reserved",
        format!("the external id '{META_EXTERNAL_ID}' is reserved for the meta-audit trail"),
    );
    ApiError::Validation(errors)
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

/// The environment's trail organization, created if there is none. Its external id is
/// reserved: clients can neither create nor update an organization to it, and the trail itself
/// cannot be changed or deleted through the API, so it names the trail for good.
pub async fn trail_organization(store: &dyn Store, environment: &str) -> Result<String, ApiError> {
    if let Some(organization) = store
        .find_organization_by_external_id(environment, META_EXTERNAL_ID)
        .await?
    {
        return Ok(organization.id);
    }
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
    match store.create_organization(&organization).await {
        Ok(()) => Ok(organization.id),
        // Another request (or node) created it first: use theirs.
        Err(StoreError::Conflict(_)) => store
            .find_organization_by_external_id(environment, META_EXTERNAL_ID)
            .await?
            .map(|o| o.id)
            .ok_or(ApiError::Internal),
        Err(error) => Err(error.into()),
    }
}

/// The request body of one trail event.
fn event_body(
    trail: &str,
    action: &str,
    actor: MetaActor<'_>,
    targets: &[(&str, &str)],
    details: &[(&str, String)],
) -> Result<EventInput, ApiError> {
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
    EventInput::from_value(body).map_err(|errors| {
        tracing::error!(?errors, "a meta-audit event did not validate");
        ApiError::Internal
    })
}

/// Records API key creations and revocations in their environments' trails, straight through
/// the store (the command line records them too, with no server running). With
/// `existing_trails_only`, an environment whose trail does not exist yet records nothing (keys
/// bootstrapped at start-up do not create a trail organization of their own).
pub async fn record_key_changes(
    store: &dyn Store,
    changes: &[KeyChange],
    existing_trails_only: bool,
) -> Result<(), ApiError> {
    for change in changes {
        let trail = if existing_trails_only {
            match store
                .find_organization_by_external_id(&change.environment, META_EXTERNAL_ID)
                .await?
            {
                Some(trail) => trail.id,
                None => continue,
            }
        } else {
            trail_organization(store, &change.environment).await?
        };
        let input = event_body(
            &trail,
            change.action,
            MetaActor {
                id: change.by,
                kind: "operator",
            },
            &[(change.key_id.as_str(), "api_key")],
            &[
                ("key_last4", change.hint.clone()),
                ("source", change.source.clone()),
            ],
        )?;
        let event = prepare_event(&change.environment, &input, None);
        match store.append_events(vec![event]).await?.pop() {
            Some(AppendOutcome::Stored { .. }) => {}
            _ => return Err(ApiError::Internal),
        }
    }
    Ok(())
}

impl MetaAudit {
    pub fn new(enabled: bool, store: Arc<dyn Store>, ingest: IngestQueue) -> MetaAudit {
        MetaAudit {
            enabled,
            store,
            ingest,
            organizations: RwLock::default(),
            absent: RwLock::default(),
        }
    }

    /// Whether reads, exports and downloads are recorded.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The environment's meta-audit organization, created on first use.
    pub async fn organization(&self, environment: &str) -> Result<String, ApiError> {
        if let Some(id) = self
            .organizations
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(environment)
        {
            return Ok(id.clone());
        }
        let id = trail_organization(self.store.as_ref(), environment).await?;
        self.organizations
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(environment.to_string(), id.clone());
        Ok(id)
    }

    /// True when `organization_id` is the environment's meta-audit trail (never creates it).
    pub async fn is_trail(
        &self,
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
        // Checked on every ingest: an environment without a trail is not asked about again for
        // a moment (another node may create the trail meanwhile; its id is new to every client).
        let recently_absent = self
            .absent
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(environment)
            .is_some_and(|at| at.elapsed() < ABSENT_TTL);
        if recently_absent {
            return Ok(false);
        }
        match self
            .store
            .find_organization_by_external_id(environment, META_EXTERNAL_ID)
            .await?
        {
            Some(trail) => {
                let is_trail = trail.id == organization_id;
                self.organizations
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(environment.to_string(), trail.id);
                Ok(is_trail)
            }
            None => {
                self.absent
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(environment.to_string(), std::time::Instant::now());
                Ok(false)
            }
        }
    }

    /// Refuses a client's change to the trail: only the server writes it.
    pub async fn refuse_changes_to_trail(
        &self,
        environment: &str,
        organization_id: &str,
        what: &str,
    ) -> Result<(), ApiError> {
        if self.is_trail(environment, organization_id).await? {
            return Err(ApiError::Conflict {
                code: "meta_audit_trail",
                message: format!(
                    "The meta-audit trail organization is written by the server alone: {what} \
                     is refused."
                ),
            });
        }
        Ok(())
    }

    /// Records one meta-audit event durably (returns after its commit). Does nothing when
    /// meta-audit is off or when the subject is the trail itself.
    pub async fn record(
        &self,
        environment: &str,
        action: &str,
        actor: MetaActor<'_>,
        targets: &[(&str, &str)],
        details: &[(&str, String)],
    ) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        let trail = self.organization(environment).await?;
        if targets.iter().any(|(id, _)| *id == trail) {
            return Ok(());
        }
        let input = event_body(&trail, action, actor, targets, details)?;
        match self
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
