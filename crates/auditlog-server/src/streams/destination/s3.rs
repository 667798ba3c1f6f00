//! `S3` (and any S3-compatible store): each batch is one gzip'd NDJSON object (one event per
//! line) at `{prefix}/{organization_id}/{YYYY}/{MM}/{DD}/{first}-{last}.ndjson.gz`, where the
//! date is the day (UTC) the batch's first event was received and `first`/`last` its sequence
//! range, zero-padded to 20 digits. Keys therefore sort by organization, date and sequence, and
//! the same range delivered again overwrites its object instead of adding one. The object is
//! written with one PUT (no partial object is ever visible); a 2xx from the store acknowledges
//! the batch.

use super::{Batch, BatchLimits, DeliveryFailure, FailureKind, Fields, Outbound, Receipt};
use crate::outbound::{FencedObjectStoreConnector, OutboundPolicy};
use auditlog_domain::timestamp::from_micros;
use flate2::write::GzEncoder;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload, RetryConfig};
use std::io::Write;
use std::sync::Arc;

/// A receiver that reads objects wants them in useful sizes; 5 MB keeps one PUT.
pub const LIMITS: BatchLimits = BatchLimits {
    max_events: 10_000,
    max_bytes: 5 * 1024 * 1024,
};

#[derive(Clone)]
pub struct S3 {
    bucket: String,
    region: String,
    endpoint: Option<reqwest::Url>,
    prefix: String,
    path_style: bool,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl S3 {
    pub(super) fn parse(fields: &mut Fields, policy: &OutboundPolicy) -> Option<S3> {
        let bucket = fields.required_setting("bucket");
        let region = fields
            .setting("region")
            .unwrap_or_else(|| "us-east-1".into());
        let endpoint = fields.setting("endpoint");
        let endpoint = fields.url("endpoint", endpoint, policy);
        let prefix = fields.setting("prefix").unwrap_or_default();
        let path_style = fields.bool_setting("path_style").unwrap_or(false);
        let access_key_id = fields.required_secret("access_key_id");
        let secret_access_key = fields.required_secret("secret_access_key");
        let session_token = fields.optional_secret("session_token");
        if prefix.split('/').any(|part| part == ".." || part == ".") {
            fields.invalid(
                "settings.prefix".into(),
                "settings.prefix may not contain . or .. segments".into(),
            );
        }
        Some(S3 {
            bucket: bucket?,
            region,
            endpoint,
            prefix: prefix.trim_matches('/').to_string(),
            path_style,
            access_key_id: access_key_id?,
            secret_access_key: secret_access_key?,
            session_token,
        })
    }

    fn store(&self, outbound: &Outbound) -> Result<AmazonS3, DeliveryFailure> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_region(&self.region)
            .with_access_key_id(&self.access_key_id)
            .with_secret_access_key(&self.secret_access_key)
            .with_virtual_hosted_style_request(!self.path_style)
            // Retries are the stream's, with its backoff and its record of each failure.
            .with_retry(RetryConfig {
                max_retries: 0,
                ..RetryConfig::default()
            })
            .with_http_connector(FencedObjectStoreConnector {
                policy: outbound.policy.clone(),
                timeout: outbound.timeout,
            });
        if let Some(token) = &self.session_token {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = &self.endpoint {
            builder = builder
                .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                .with_allow_http(endpoint.scheme() == "http");
        }
        builder.build().map_err(|error| DeliveryFailure {
            kind: FailureKind::Invalid,
            status: None,
            message: format!("the S3 settings are not usable: {error}"),
            retry_after: None,
        })
    }

    /// The object key of a batch.
    pub fn key(
        &self,
        organization_id: &str,
        received_at_micros: i64,
        first: i64,
        last: i64,
    ) -> String {
        let day = from_micros(received_at_micros).format("%Y/%m/%d");
        let name = format!("{organization_id}/{day}/{first:020}-{last:020}.ndjson.gz");
        if self.prefix.is_empty() {
            name
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    pub(super) async fn deliver(
        &self,
        outbound: &Outbound,
        batch: &Batch<'_>,
    ) -> Result<Receipt, DeliveryFailure> {
        let (Some(first), Some(last)) = (batch.records.first(), batch.records.last()) else {
            return Ok(Receipt {
                status: 200,
                body: String::new(),
            });
        };
        let organization_id = first.organization_id.as_str();
        let key = match (first.sequence, last.sequence) {
            (Some(from), Some(to)) => self.key(organization_id, first.received_at_micros, from, to),
            // The test event: its own object, beside the organization's.
            _ => format!(
                "{}{organization_id}/test/{}.ndjson.gz",
                if self.prefix.is_empty() {
                    String::new()
                } else {
                    format!("{}/", self.prefix)
                },
                batch.delivery_id()
            ),
        };
        let mut gzip = GzEncoder::new(Vec::new(), flate2::Compression::default());
        for record in batch.records {
            gzip.write_all(record.json.as_bytes())
                .and_then(|()| gzip.write_all(b"\n"))
                .expect("writing into memory does not fail");
        }
        let body = gzip.finish().expect("finishing into memory does not fail");
        let store = Arc::new(self.store(outbound)?);
        store
            .put(&Path::from(key.as_str()), PutPayload::from(body))
            .await
            .map_err(failure)?;
        Ok(Receipt {
            status: 200,
            body: format!("s3://{}/{key}", self.bucket),
        })
    }
}

fn failure(error: object_store::Error) -> DeliveryFailure {
    let kind = match &error {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. }
        | object_store::Error::NotFound { .. } => FailureKind::Permanent,
        _ if super::find_fence_error(&error).is_some() => FailureKind::Invalid,
        _ => FailureKind::Transient,
    };
    let message = match super::find_fence_error(&error) {
        Some(fence) => fence.to_string(),
        None => super::chain(&error),
    };
    DeliveryFailure {
        kind,
        status: None,
        message,
        retry_after: None,
    }
}
