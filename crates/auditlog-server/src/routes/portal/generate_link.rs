//! `POST /portal/generate_link` → 201 `{"link": "…"}`: a single-use link to the Admin Portal,
//! scoped to one organization and one intent, that can be opened for five minutes.

use crate::auth::Environment;
use crate::body::JsonBody;
use crate::clock::now_micros;
use crate::error::ApiError;
use crate::openapi::responses::NotFound;
use crate::state::AppState;
use crate::tokens;
use auditlog_domain::FieldErrors;
use auditlog_store::PortalLink;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The intents this server's portal opens.
pub const SUPPORTED_INTENTS: [&str; 2] = ["audit_logs", "log_streams"];
/// The other intents WorkOS's portal knows (SSO, directory sync, …), refused by name.
const OTHER_WORKOS_INTENTS: [&str; 5] = [
    "sso",
    "dsync",
    "domain_verification",
    "certificate_renewal",
    "bring_your_own_key",
];

/// The body the WorkOS SDKs send. `it_contact_emails` is accepted and not used.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"organization": "org_01EHZNVPK3SFK441A1RGBFSHRT", "intent": "audit_logs"}))]
#[allow(dead_code)] // Describes the body; `generate_portal_link` reads it field by field.
pub struct GenerateLinkRequest {
    /// The organization whose portal the link opens.
    #[schema(min_length = 1)]
    organization: String,
    /// `audit_logs` (view and export events) or `log_streams` (set up log streams).
    #[schema(example = "audit_logs")]
    intent: String,
    /// Where the portal's "back" link goes: an absolute http(s) URL.
    return_url: Option<String>,
    /// Where the admin goes once a log stream is set up: an absolute http(s) URL.
    success_url: Option<String>,
    /// Your id for the admin the link is for: `POST /portal/revoke_link` with it ends the link
    /// and every session opened from it.
    external_user_id: Option<String>,
    it_contact_emails: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PortalLink)]
pub struct PortalLinkView {
    /// Opens the portal once, within five minutes.
    link: String,
}

fn text_field<'a>(body: &'a Value, name: &str, errors: &mut FieldErrors) -> Option<&'a str> {
    match body.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            errors.push(name, "invalid_type", format!("{name} must be a string"));
            None
        }
    }
}

/// An absolute http(s) URL, or a field error: the portal shows it as a link, so `javascript:`
/// and other schemes never get that far.
fn url_field(body: &Value, name: &str, errors: &mut FieldErrors) -> Option<String> {
    let text = text_field(body, name, errors)?;
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Some(url.to_string())
        }
        _ => {
            errors.push(
                name,
                "invalid_url",
                format!("{name} must be an absolute http or https URL"),
            );
            None
        }
    }
}

/// What a valid body asks for.
struct LinkRequest {
    organization_id: String,
    intent: String,
    return_url: Option<String>,
    success_url: Option<String>,
    external_user_id: Option<String>,
}

fn parse(body: &Value) -> Result<LinkRequest, ApiError> {
    let mut errors = FieldErrors::default();
    if !body.is_object() {
        errors.push("body", "invalid_type", "the body must be a JSON object");
        return Err(ApiError::Validation(errors));
    }
    let organization = text_field(body, "organization", &mut errors).unwrap_or_default();
    if organization.is_empty() && !errors.0.iter().any(|e| e.field == "organization") {
        errors.push("organization", "required", "organization is required");
    }
    let intent = text_field(body, "intent", &mut errors).unwrap_or_default();
    let supported = SUPPORTED_INTENTS.join(", ");
    if intent.is_empty() {
        if !errors.0.iter().any(|e| e.field == "intent") {
            errors.push(
                "intent",
                "required",
                format!("intent is required; this server supports {supported}"),
            );
        }
    } else if !SUPPORTED_INTENTS.contains(&intent) {
        let known = OTHER_WORKOS_INTENTS.contains(&intent);
        errors.push(
            "intent",
            "unsupported_intent",
            if known {
                format!("intent '{intent}' is a WorkOS Admin Portal intent this server does not offer; it supports {supported}")
            } else {
                format!("intent '{intent}' is not an Admin Portal intent; this server supports {supported}")
            },
        );
    }
    let return_url = url_field(body, "return_url", &mut errors);
    let success_url = url_field(body, "success_url", &mut errors);
    let external_user_id = text_field(body, "external_user_id", &mut errors)
        .filter(|id| !id.is_empty())
        .map(str::to_string);
    if !matches!(
        body.get("it_contact_emails"),
        None | Some(Value::Null) | Some(Value::Array(_))
    ) {
        errors.push(
            "it_contact_emails",
            "invalid_type",
            "it_contact_emails must be an array of strings",
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(LinkRequest {
        organization_id: organization.to_string(),
        intent: intent.to_string(),
        return_url,
        success_url,
        external_user_id,
    })
}

/// Generate an Admin Portal link
///
/// The link opens the portal once, within five minutes, for one organization: its audit-log
/// viewer (`audit_logs`) or its log-stream setup (`log_streams`). Other WorkOS intents are
/// refused with 422. Recorded in the meta-audit trail.
#[utoipa::path(
    post,
    path = "/portal/generate_link",
    operation_id = "generatePortalLink",
    tag = "admin portal",
    request_body = GenerateLinkRequest,
    responses(
        (status = 201, description = "The link.", body = PortalLinkView,
            example = json!({"link": "https://auditlog.example/portal/launch?secret=6Sx1_Z0yXq0t6fJ3Qk3b2w"})),
        (status = 404, response = NotFound),
    ),
)]
pub async fn generate_portal_link(
    State(state): State<AppState>,
    Extension(environment): Extension<Environment>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<PortalLinkView>), ApiError> {
    let request = parse(&body)?;
    let env = environment.name();
    if state
        .store
        .get_organization(env, &request.organization_id)
        .await?
        .is_none()
    {
        return Err(ApiError::organization_not_found(&request.organization_id));
    }
    let portal = &state.config.portal;
    let now = now_micros();
    // Links and sessions that can no longer be used go as new ones come.
    state
        .store
        .delete_expired_portal_rows(now, now - portal.portal_session_idle_secs * 1_000_000)
        .await?;
    let secret = tokens::new_token();
    let link = PortalLink {
        token_hash: tokens::hash(&secret),
        environment: env.to_string(),
        organization_id: request.organization_id,
        intent: request.intent,
        return_url: request.return_url,
        success_url: request.success_url,
        external_user_id: request.external_user_id,
        created_at: now,
        expires_at: now + portal.portal_link_ttl_secs * 1_000_000,
    };
    state.store.create_portal_link(&link).await?;
    let targets = [(link.organization_id.as_str(), "organization")];
    state
        .meta_audit
        .record(
            env,
            "auditlog.portal_link.created",
            environment.meta_actor(),
            &targets,
            &[("intent", link.intent.clone())],
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PortalLinkView {
            link: format!("{}/portal/launch?secret={secret}", state.public_url),
        }),
    ))
}
