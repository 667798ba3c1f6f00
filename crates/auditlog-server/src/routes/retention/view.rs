//! The retention and audit-log configuration objects, and the retention update body.

use auditlog_domain::retention::{is_allowed_days, period_days};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Retention, example = json!({"retention_period_in_days": 365}))]
pub struct RetentionView {
    /// The retention in force: the organization's own, or the server default when none was
    /// set; never null.
    pub retention_period_in_days: i64,
}

/// Exactly one of `retention_period` or `retention_period_in_days`; neither, both, or another
/// value is a 422. `auditlog_domain::retention` parses it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(example = json!({"retention_period": "1_YEAR"}))]
#[allow(dead_code)]
pub enum UpdateRetentionRequest {
    Period {
        /// `N_MONTHS` = 30·N days, `N_YEARS` = 365·N days.
        #[schema(schema_with = retention_periods)]
        retention_period: String,
        /// Not with `retention_period`.
        #[schema(schema_with = absent, required = false)]
        retention_period_in_days: Option<i64>,
    },
    Days {
        #[schema(schema_with = retention_days)]
        retention_period_in_days: i64,
        /// Not with `retention_period_in_days`.
        #[schema(schema_with = absent, required = false)]
        retention_period: Option<String>,
    },
}

/// Every `retention_period` the domain accepts.
fn retention_periods() -> ObjectBuilder {
    let candidates = (1..=11)
        .map(|n| format!("{n}_MONTH{}", if n == 1 { "" } else { "S" }))
        .chain((1..=10).map(|n| format!("{n}_YEAR{}", if n == 1 { "" } else { "S" })));
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(candidates.filter(|p| period_days(p).is_some())))
}

/// The other variant's field: absent or null.
fn absent() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Null)
}

/// Every `retention_period_in_days` the domain accepts.
fn retention_days() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some((1..=3650).filter(|days| is_allowed_days(*days))))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AuditLogConfigurationState)]
pub enum ConfigurationState {
    Active,
    #[allow(dead_code)] // WorkOS states this server never reports.
    Inactive,
    #[allow(dead_code)]
    Disabled,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditLogConfiguration, example = json!({"organization_id": "org_01EHZNVPK3SFK441A1RGBFSHRT", "retention_period_in_days": 365, "state": "active", "log_stream": null}))]
pub struct ConfigurationView {
    pub organization_id: String,
    pub retention_period_in_days: i64,
    pub state: ConfigurationState,
    /// The organization's log stream, `null` when it has none.
    #[schema(required = true)]
    pub log_stream: Option<crate::routes::log_streams::view::ConfigurationStreamView>,
}
